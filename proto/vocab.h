/* proto/vocab.h: the protocol's vocabulary, each word spelled once. The
 * daemon, the CLI and the tests take method names, event types, warnings
 * (code and message), the words of every enum and the configuration keys
 * from these lists; docs/protocol.md is their prose form.
 *
 * Each list is an X-macro (as PROTO_ERRORS in proto.h): a user defines X to
 * make what it needs, an enum, a table of strings, a switch. */
#ifndef CONNREQ_VOCAB_H
#define CONNREQ_VOCAB_H

#include <stddef.h>

/* Methods: PM_<ID> and the name on the wire. */
#define PROTO_METHODS(X) \
	X(HELLO, "hello") \
	X(INVITE_SEND, "invite.send") \
	X(INVITE_ACCEPT, "invite.accept") \
	X(INVITE_IGNORE, "invite.ignore") \
	X(INVITE_WITHDRAW, "invite.withdraw") \
	X(INVITE_RESEND, "invite.resend") \
	X(INVITE_CAN_SEND, "invite.can_send") \
	X(INVITE_GET, "invite.get") \
	X(INVITE_LIST, "invite.list") \
	X(INVITE_HISTORY, "invite.history") \
	X(CONNECTION_LIST, "connection.list") \
	X(CONNECTION_REMOVE, "connection.remove") \
	X(CONNECTION_MUTUAL, "connection.mutual") \
	X(MEMBER_AUTO_ACCEPT_ADD, "member.auto_accept.add") \
	X(MEMBER_AUTO_ACCEPT_REMOVE, "member.auto_accept.remove") \
	X(MEMBER_AUTO_ACCEPT_LIST, "member.auto_accept.list") \
	X(SERVER_INFO, "server.info") \
	X(CLOCK_ADVANCE, "clock.advance") \
	X(INVITE_REPORT, "invite.report") \
	X(MEMBER_SETTINGS_SET, "member.settings.set") \
	X(MEMBER_SETTINGS_GET, "member.settings.get") \
	X(MEMBER_BLOCK, "member.block") \
	X(MEMBER_UNBLOCK, "member.unblock") \
	X(STATS_GET, "stats.get") \
	X(INVITE_ADVISE, "invite.advise") \
	X(PLAN_WITHDRAW_STALE, "plan.withdraw_stale") \
	X(PLAN_LIST, "plan.list") \
	X(PLAN_CANCEL, "plan.cancel") \
	X(EVENTS_SUBSCRIBE, "events.subscribe") \
	X(EVENTS_UNSUBSCRIBE, "events.unsubscribe") \
	X(EVENTS_READ, "events.read") \
	X(INTRO_ASK, "intro.ask") \
	X(INTRO_FORWARD, "intro.forward") \
	X(INTRO_DECLINE, "intro.decline") \
	X(INTRO_GET, "intro.get") \
	X(INTRO_LIST, "intro.list") \
	X(INVITE_UNIGNORE, "invite.unignore") \
	X(STORE_BACKUP, "store.backup") \
	X(SERVER_METRICS, "server.metrics") \
	X(MEMBER_EXPORT, "member.export") \
	X(IMPORT_ROWS, "import.rows") \
	X(MEMBER_ERASE, "member.erase")

enum proto_method {
#define PROTO_X(id, name) PM_##id,
	PROTO_METHODS(PROTO_X)
#undef PROTO_X
	PM_COUNT
};

/* Event types: PEV_<ID> and the type on the wire. */
#define PROTO_EVENTS(X) \
	X(RECEIVED, "invitation.received") \
	X(HELD, "invitation.held") \
	X(ACCEPTED, "invitation.accepted") \
	X(IGNORED, "invitation.ignored") \
	X(UNIGNORED, "invitation.unignored") \
	X(WITHDRAWN, "invitation.withdrawn") \
	X(EXPIRED, "invitation.expired") \
	X(STALE, "invitation.stale") \
	X(COOLDOWN_ENDED, "cooldown.ended") \
	X(CONN_CREATED, "connection.created") \
	X(CONN_REMOVED, "connection.removed") \
	X(LIMIT_WARNING, "limit.warning") \
	X(RESTRICTION_STARTED, "restriction.started") \
	X(RESTRICTION_ENDED, "restriction.ended") \
	X(PLAN_PROGRESS, "plan.progress") \
	X(PLAN_DONE, "plan.done") \
	X(REMINDER, "invitation.reminder") \
	X(DIGEST, "invitation.digest") \
	X(INTRO_ASKED, "introduction.asked") \
	X(INTRO_FORWARDED, "introduction.forwarded") \
	X(INTRO_DECLINED, "introduction.declined") \
	X(INTRO_EXPIRED, "introduction.expired") \
	X(MEMBER_ERASED, "member.erased") \
	X(EVENT_ERASED, "event.erased")

enum proto_event {
#define PROTO_X(id, name) PEV_##id,
	PROTO_EVENTS(PROTO_X)
#undef PROTO_X
	PEV_COUNT
};

/* Warnings a send may pass with (a result's warnings, a limit.warning
 * event): PW_<ID>, the code and the message. */
#define PROTO_WARNINGS(X) \
	X(PENDING_WARN, "PENDING_WARN", \
	    "many of your invitations are pending: withdraw stale ones") \
	X(DUPLICATE_NOTE, "DUPLICATE_NOTE", \
	    "you sent the same note to many people this week: personalise it")

enum proto_warning {
#define PROTO_X(id, code, message) PW_##id,
	PROTO_WARNINGS(PROTO_X)
#undef PROTO_X
	PW_COUNT
};

/* The words of the protocol's enums, in the order of their C enums (the
 * daemon's enums are made from these lists). */
#define PROTO_STATES(X) \
	X(PENDING, "pending") \
	X(ACCEPTED, "accepted") \
	X(IGNORED, "ignored") \
	X(WITHDRAWN, "withdrawn") \
	X(EXPIRED, "expired")
#define PROTO_PRIORITIES(X) \
	X(HIGH, "high") \
	X(MEDIUM, "medium") \
	X(LOW, "low")
#define PROTO_INVITE_FROM(X) \
	X(EVERYONE, "everyone") \
	X(EMAIL, "email") \
	X(NOBODY, "nobody")
#define PROTO_HEALTH(X) \
	X(HEALTHY, "healthy") \
	X(LOW, "low") \
	X(INSUFFICIENT, "insufficient_data")
#define PROTO_ADVICE(X) \
	X(WAIT, "wait") \
	X(WITHDRAW, "withdraw") \
	X(LET_EXPIRE, "let_expire") \
	X(STOP, "stop") \
	X(RESEND, "resend")
#define PROTO_BOXES(X) \
	X(SENT, "sent") \
	X(RECEIVED, "received") \
	X(IGNORED, "ignored") \
	X(HELD, "held")
#define PROTO_REPORT_REASONS(X) \
	X(DONT_KNOW, "dont_know") \
	X(SPAM, "spam")
#define PROTO_PLAN_STATES(X) \
	X(ACTIVE, "active") \
	X(DONE, "done") \
	X(CANCELLED, "cancelled")
/* An introduction's states (intro.get): the first three are stored; an
 * introduction still asked at its expires_at reads as expired. */
#define PROTO_INTRO_STATES(X) \
	X(ASKED, "asked") \
	X(FORWARDED, "forwarded") \
	X(DECLINED, "declined") \
	X(EXPIRED, "expired")
/* intro.list's boxes: the introductions a member asked for, and those
 * the member was asked to make. */
/* A backup's state (store.backup, server.info's backup). */
#define PROTO_BACKUP_STATES(X) \
	X(NONE, "none") \
	X(RUNNING, "running") \
	X(DONE, "done") \
	X(FAILED, "failed")
#define PROTO_INTRO_BOXES(X) \
	X(ASKED, "asked") \
	X(RECEIVED, "received")
/* import.rows: a row's type, and what became of it. */
#define PROTO_IMPORT_TYPES(X) \
	X(CONNECTION, "connection") \
	X(INVITATION, "invitation")
#define PROTO_IMPORT_STATUSES(X) \
	X(IMPORTED, "imported") \
	X(DUPLICATE, "duplicate") \
	X(REFUSED, "refused")
/* Why a restriction began (restriction.started's code). */
#define PROTO_RESTRICT_REASONS(X) \
	X(ACCEPTANCE, "acceptance_rate") \
	X(REPORTS, "reports")

/* The enums of those words, in the same order; the daemon's states,
 * priorities and the rest are these. */
#define PROTO_ENUM_ST(id, word) ST_##id,
#define PROTO_ENUM_PRIO(id, word) PRIO_##id,
#define PROTO_ENUM_FROM(id, word) FROM_##id,
#define PROTO_ENUM_HEALTH(id, word) HEALTH_##id,
#define PROTO_ENUM_ADV(id, word) ADV_##id,
#define PROTO_ENUM_BOX(id, word) PBOX_##id,
#define PROTO_ENUM_REASON(id, word) REASON_##id,
#define PROTO_ENUM_PLAN(id, word) PLAN_##id,
#define PROTO_ENUM_RESTRICT(id, word) RESTRICT_##id,
#define PROTO_ENUM_INTRO(id, word) INTRO_##id,
#define PROTO_ENUM_IBOX(id, word) PIBOX_##id,
enum inv_state { PROTO_STATES(PROTO_ENUM_ST) ST_COUNT };
enum priority { PROTO_PRIORITIES(PROTO_ENUM_PRIO) PRIO_COUNT };
enum invite_from { PROTO_INVITE_FROM(PROTO_ENUM_FROM) FROM_COUNT };
enum health { PROTO_HEALTH(PROTO_ENUM_HEALTH) HEALTH_COUNT };
/* ADV_NONE: nothing to advise (no word: such invitations are not listed). */
enum advice { PROTO_ADVICE(PROTO_ENUM_ADV) ADV_NONE };
enum proto_box { PROTO_BOXES(PROTO_ENUM_BOX) PBOX_COUNT };
enum report_reason { PROTO_REPORT_REASONS(PROTO_ENUM_REASON) REASON_COUNT };
enum plan_state { PROTO_PLAN_STATES(PROTO_ENUM_PLAN) PLAN_COUNT };
enum restrict_reason {
	PROTO_RESTRICT_REASONS(PROTO_ENUM_RESTRICT) RESTRICT_COUNT
};
enum intro_state { PROTO_INTRO_STATES(PROTO_ENUM_INTRO) INTRO_COUNT };
enum proto_intro_box { PROTO_INTRO_BOXES(PROTO_ENUM_IBOX) PIBOX_COUNT };
#define PROTO_ENUM_BACKUP(id, word) PBACKUP_##id,
enum proto_backup_state { PROTO_BACKUP_STATES(PROTO_ENUM_BACKUP) PBACKUP_COUNT };

/* Every configuration key: PK_<ID>, its connreqd.conf section and name,
 * in the order server.info's policy map gives them (docs/protocol.md),
 * whether server.info's policy map reports it, the prefix its name takes
 * there, and the kind of its value (how it is read and shown):
 *   STRING, SIZE (bytes, "64M"), COUNT, LIMIT (a count, 0: off), BYTES (a
 *   count of bytes), BOOL, DURATION ("21d"), DURATIONS ("21d, 90d"), RATE
 *   (0..1, "30%"). */
#define PROTO_CONFIG_KEYS(X) \
	X(SOCKET, "server", "socket", 0, "", STRING) \
	X(STORE_PATH, "store", "path", 0, "", STRING) \
	X(MAP_SIZE_MAX, "store", "map_size_max", 0, "", SIZE) \
	X(POSTGRES, "store", "postgres", 0, "", STRING) \
	X(METRICS_LISTEN, "metrics", "listen", 0, "", STRING) \
	X(EXPIRE_AFTER, "policy", "expire_after", 1, "", DURATION) \
	X(MAX_EXPIRE_AFTER, "policy", "max_expire_after", 1, "", DURATION) \
	X(RESEND_COOLDOWN, "policy", "resend_cooldown", 1, "", DURATIONS) \
	X(STALE_AFTER, "policy", "stale_after", 1, "", DURATION) \
	X(RECIPIENT_REMIND_AFTER, "policy", "recipient_remind_after", 1, "", \
	    DURATION) \
	X(DIGEST_EVERY, "policy", "digest_every", 1, "", DURATION) \
	X(NOTE_MAX_CHARS, "policy", "note_max_chars", 1, "", COUNT) \
	X(NOTIFY_RECIPIENT_ON_WITHDRAW, "policy", \
	    "notify_recipient_on_withdraw", 1, "", BOOL) \
	X(MUTUAL_INVITE_CONNECTS, "policy", "mutual_invite_connects", 1, "", \
	    BOOL) \
	X(MAX_MESSAGE_BYTES, "server", "max_message_bytes", 1, "", BYTES) \
	X(MAX_CLIENTS, "server", "max_clients", 1, "", COUNT) \
	X(READ_TIMEOUT, "server", "read_timeout", 1, "", DURATION) \
	X(EVENTS_RETENTION, "events", "retention", 1, "events_", DURATION) \
	X(SENDS_PER_WEEK, "limits", "sends_per_week", 1, "", LIMIT) \
	X(SENDS_PER_DAY, "limits", "sends_per_day", 1, "", LIMIT) \
	X(PENDING_WARN, "limits", "pending_warn", 1, "", LIMIT) \
	X(PENDING_MAX, "limits", "pending_max", 1, "", LIMIT) \
	X(INVITES_PER_PAIR, "limits", "invites_per_pair", 1, "", LIMIT) \
	X(PAIR_WINDOW, "limits", "pair_window", 1, "", DURATION) \
	X(WITHDRAWALS_PER_DAY, "limits", "withdrawals_per_day", 1, "", LIMIT) \
	X(DUPLICATE_NOTE_WARN, "limits", "duplicate_note_warn", 1, "", LIMIT) \
	X(HEALTHY_RATE, "health", "healthy_rate", 1, "", RATE) \
	X(RESTRICT_BELOW_RATE, "health", "restrict_below_rate", 1, "", RATE) \
	X(RESTRICT_MIN_DECIDED, "health", "restrict_min_decided", 1, "", \
	    COUNT) \
	X(REPORTS_TO_RESTRICT, "health", "reports_to_restrict", 1, "", LIMIT) \
	X(REPORTS_WINDOW, "health", "reports_window", 1, "", DURATION) \
	X(RESTRICT_FOR, "health", "restrict_for", 1, "", DURATIONS) \
	X(RESTRICT_WINDOW, "health", "restrict_window", 1, "", DURATION) \
	X(HOLD_NO_MUTUAL, "policy", "hold_no_mutual", 1, "", BOOL) \
	X(HOLD_LOW_HEALTH, "policy", "hold_low_health", 1, "", BOOL) \
	X(HOLD_RESTRICTED_DAYS, "policy", "hold_restricted_days", 1, "", \
	    LIMIT) \
	X(HOLD_NEW_MEMBER_DAYS, "policy", "hold_new_member_days", 1, "", \
	    LIMIT) \
	X(REQUEST_ID_RETENTION, "server", "request_id_retention", 1, "", \
	    DURATION)

enum proto_config_key {
#define PROTO_X(id, section, name, reported, prefix, kind) PK_##id,
	PROTO_CONFIG_KEYS(PROTO_X)
#undef PROTO_X
	PK_COUNT
};

enum proto_value_kind {
	PV_STRING, PV_SIZE, PV_COUNT, PV_LIMIT, PV_BYTES, PV_BOOL,
	PV_DURATION, PV_DURATIONS, PV_RATE
};

struct proto_config_key_info {
	const char *section;
	const char *name;		/* in connreqd.conf */
	const char *info_name;		/* in server.info's policy; NULL: not there */
	enum proto_value_kind kind;
};

/* The strings, indexed by the enums above; NULL-terminated. */
extern const char *const proto_method_names[];
extern const char *const proto_event_names[];
extern const char *const proto_warning_codes[];
extern const char *const proto_warning_messages[];
extern const char *const proto_state_words[];
extern const char *const proto_priority_words[];
extern const char *const proto_invite_from_words[];
extern const char *const proto_health_words[];
extern const char *const proto_advice_words[];
extern const char *const proto_box_words[];
extern const char *const proto_report_reason_words[];
extern const char *const proto_plan_state_words[];
extern const char *const proto_restrict_reason_words[];
extern const char *const proto_intro_state_words[];
extern const char *const proto_intro_box_words[];
extern const char *const proto_backup_state_words[];
extern const char *const proto_import_type_words[];
extern const char *const proto_import_status_words[];
extern const struct proto_config_key_info proto_config_keys[];

/* The index of s[0..len) among the first n of words (NULL entries match
 * nothing); n when it is not there. */
int proto_word_find(const char *const *words, int n, const char *s,
    size_t len);
/* The method named name[0..len); PM_COUNT when none is. */
enum proto_method proto_method_from(const char *name, size_t len);
/* The key server.info's policy map names name[0..len); PK_COUNT when none
 * does. */
enum proto_config_key proto_config_key_from_info(const char *name,
    size_t len);

#endif
