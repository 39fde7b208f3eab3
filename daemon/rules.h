/* daemon/rules.h: the rules of invitations as pure functions. No I/O here:
 * callers gather the facts from the store, ask, and act on the answer. */
#ifndef CONNREQ_RULES_H
#define CONNREQ_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../proto/proto.h"
#include "../proto/vocab.h"

/* enum inv_state, enum priority, enum invite_from, enum health and enum
 * advice, with their words, are proto/vocab.h's. */

/* Who looks at or acts on an invitation. */
enum role {
	ROLE_SENDER,
	ROLE_RECIPIENT,
	ROLE_OTHER
};

enum inv_action {
	ACT_ACCEPT,
	ACT_IGNORE,
	ACT_WITHDRAW,
	ACT_RESEND,
	ACT_REPORT,
	ACT_UNIGNORE
};

#define POLICY_COOLDOWNS_MAX 8

/* Which invitations are held for a recipient (issue 12, a quarantine):
 * in the policy, the defaults; a member's own settings override each. */
struct hold_filters {
	bool no_mutual;		/* senders with no mutual connection */
	bool low_health;	/* senders whose health is low */
	uint32_t restricted_days;	/* senders restricted within N days, 0 off */
	uint32_t new_days;	/* senders first seen less than N days ago, 0 off */
};
#define HOLD_DAYS_MAX 3650	/* the most days of either filter */

/* The policy in force (docs/configuration.md gives the keys, defaults and
 * sources; docs/protocol.md where each applies). */
struct policy {
	uint64_t expire_after;		/* 180 days */
	/* The n-th withdrawal to the same person starts the n-th cooldown,
	 * the last one repeating: 21 days by default. */
	uint64_t resend_cooldown[POLICY_COOLDOWNS_MAX];
	unsigned resend_cooldowns;
	uint64_t stale_after;		/* 14 days */
	uint32_t note_max_chars;	/* 300 */
	bool notify_recipient_on_withdraw;
	bool mutual_invite_connects;
	uint64_t events_retention;	/* 30 days */
	/* How long a write's request_id is kept, so that a retry of it
	 * returns its first answer (1 day). */
	uint64_t request_id_retention;
	uint64_t max_expire_after;	/* 180 days: the most expires_in */
	/* The recipient's side: a reminder of an invitation still pending
	 * this long after it was sent (7 days; 0: off), and a digest of the
	 * invitations waiting, for members with none of their own (0: off). */
	uint64_t recipient_remind_after;
	uint64_t digest_every;

	/* Limits ([limits]); 0 turns a limit off where noted. */
	uint32_t sends_per_week;	/* 100 (0: off), rolling 7 days */
	uint32_t sends_per_day;		/* 0 (off), rolling 24 hours */
	uint32_t pending_warn;		/* 100 (0: off) */
	uint32_t pending_max;		/* 200 (0: off) */
	uint32_t invites_per_pair;	/* 3 within pair_window (0: off) */
	uint64_t pair_window;		/* 365 days */
	uint32_t withdrawals_per_day;	/* 50 (0: off) */
	uint32_t duplicate_note_warn;	/* 5 identical notes in 7 days */

	/* Health ([health]). */
	double healthy_rate;		/* 0.30 */
	double restrict_below_rate;	/* 0.20 */
	uint32_t restrict_min_decided;	/* 20 */
	uint32_t reports_to_restrict;	/* 5 within reports_window */
	uint64_t reports_window;	/* 30 days */
	/* The n-th restriction within restrict_window lasts the n-th
	 * duration, the last one repeating: 7 days by default. */
	uint64_t restrict_for[POLICY_COOLDOWNS_MAX];
	unsigned restrict_fors;
	uint64_t restrict_window;	/* 365 days */

	/* Held invitations ([policy] hold_*): every filter off. */
	struct hold_filters hold;
};

#define WEEK (7 * 86400)
#define DAY_SECS 86400

/* Who may invite a member (enum invite_from): everyone, only people who
 * give the member's email, nobody. */

void policy_defaults(struct policy *p);

/* What is known about a prospective send from -> to. */
struct send_facts {
	bool self;		/* from == to */
	bool connected;		/* already connected */
	bool pending;		/* from -> to is pending (or ignored) */
	bool reverse_pending;	/* to -> from is pending (or ignored) */
	int64_t cooldown_until;	/* from -> to, 0 when none */
	size_t note_chars;	/* code points in the note */
	int64_t now;
	bool blocked;		/* either has blocked the other */
	bool nogo;		/* to said it does not know from */
	int recipient_from;	/* enum invite_from of to */
	bool email_matches;	/* the email given is to's */
	int64_t restricted_until; /* from's restriction, 0: none */
	uint64_t expires_in;	/* asked for; 0: the policy's */
	uint64_t week_used, day_used, pair_used, pending_sent;
	int64_t week_oldest, day_oldest, pair_oldest; /* oldest counted */
	uint64_t same_note;	/* identical notes from `from` in 7 days */
};

/* Warnings a send that passes may carry: a bit per proto/vocab.h's
 * PROTO_WARNINGS. */
#define WARN_BIT(w) (1u << (w))
#define WARN_PENDING WARN_BIT(PW_PENDING_WARN)	/* pending_warn reached */
#define WARN_DUPLICATE_NOTE WARN_BIT(PW_DUPLICATE_NOTE) /* the same note to many */

enum send_outcome {
	SEND_CREATE,		/* a new pending invitation */
	SEND_MUTUAL		/* both invited each other: connect at once */
};

/* 0 with *out and *warnings set, or -1 with e filled (code, message,
 * retry_at). The order of the checks is the order of the refusals. */
int rules_send(const struct policy *p, const struct send_facts *f,
    enum send_outcome *out, unsigned *warnings, struct proto_error *e);
/* May a sender withdraw, having withdrawn `used` in the last 24 hours, the
 * oldest at `oldest`? withdrawals_per_day (0: off) counts withdrawals by
 * hand and by plan alike. */
int rules_withdraw(const struct policy *p, uint64_t used, int64_t oldest,
    struct proto_error *e);

/* Clean-up plans (plan.withdraw_stale). */
#define PLAN_PER_DAY_MAX 1000
#define OLDER_THAN_MAX (100ULL * 365 * 86400)	/* 100 years */
/* older_than (invite.list, plans) is at most OLDER_THAN_MAX. 0 or -1. */
int rules_older_than(uint64_t older_than, struct proto_error *e);
/* What a plan may ask for: per_day 1..PLAN_PER_DAY_MAX, then older_than as
 * rules_older_than. 0 or -1 with e filled. */
int rules_plan_bounds(uint64_t older_than, uint64_t per_day,
    struct proto_error *e);
/* The withdrawals a plan makes a day: per_day, lowered to what
 * withdrawals_per_day allows when that is on (rules_withdraw). */
uint32_t rules_plan_per_day(const struct policy *p, uint32_t per_day);
/* A sent invitation, as a plan picks and orders them. */
struct plan_cand {
	uint64_t id;		/* ids grow with time: lower is older */
	enum inv_state st;	/* the true state */
	enum priority priority;
	int64_t created_at;
};
/* Whether a plan made at `now` takes c: open (pending, or ignored by the
 * recipient), sent at or before now - older_than, of max_priority or a
 * lower one. */
bool rules_plan_takes(const struct plan_cand *c, int64_t now,
    uint64_t older_than, enum priority max_priority);
/* The order a plan withdraws in, as for qsort: lowest priority first, then
 * oldest. */
int rules_plan_order(const struct plan_cand *a, const struct plan_cand *b);

/* May a member block (or unblock) another? Not themselves. 0 or -1 with e
 * filled. */
int rules_block(bool self, struct proto_error *e);
/* What a block does to an open invitation between the two, by the
 * blocker's part in it: the blocker's own is withdrawn (ST_WITHDRAWN); one
 * the blocker received is ignored (ST_IGNORED), quietly, as the blocker
 * could have ignored it. Its sender goes on seeing it pending, as behind a
 * closed door (invitations_from "nobody"): nothing they can see, neither
 * its state nor invite.can_send's quota.pending, tells a block from a
 * closed door. */
enum inv_state rules_block_closes(enum role blocker_role);

/* A member's settings as a change would leave them. */
struct settings_facts {
	int from;		/* enum invite_from after the change */
	const char *email;	/* the email given: NULL none, "" clears it */
	size_t email_len;
	bool has_email;		/* the member has one after the change */
	size_t email_max;	/* the most bytes the store keeps of one */
};
/* May the settings change so? An email given has an @, no newline or tab,
 * and at most email_max bytes; invitations only from people who know the
 * member's email need one. 0 or -1 with e filled. */
int rules_settings(const struct settings_facts *f, struct proto_error *e);

/* Health: the acceptance rate over decided invitations. */
/* Healthy from the band's low end on, with restrict_min_decided decided. */
enum health rules_health(const struct policy *p, uint64_t accepted,
    uint64_t decided);
/* The healthy band of acceptance rates (stats.get): from healthy_rate to
 * HEALTHY_CEILING, or to healthy_rate when that is higher. */
#define HEALTHY_CEILING 0.50
void rules_healthy_band(const struct policy *p, double *lo, double *hi);
/* "Decided", stated once (docs/protocol.md, stats.get). An invitation is
 * decided when it is accepted, withdrawn or expired; its sender's log holds
 * each decision with the state and whether it followed the daemon's advice:
 * a clean-up plan withdrew it, or it was withdrawn by hand when the advice
 * said to withdraw it (rules_withdrawal_advised). A decision counts for two
 * uses, which differ on purpose:
 * - DECIDED_FOR_RESTRICTION (rules_restrict): every logged decision but the
 *   withdrawals that followed the advice. Following the daemon's advice, by
 *   hand or by plan, must never restrict anyone.
 * - DECIDED_FOR_STATS (stats.get, rules_health): every accepted, withdrawn
 *   or expired invitation, advised withdrawals included. The acceptance
 *   rate a member is shown is over all their decided invitations, as the
 *   protocol defines it: withdrawing stale ones lowers it. */
enum decided_for { DECIDED_FOR_RESTRICTION, DECIDED_FOR_STATS };
/* Whether a logged decision to st, advised (by a plan, or by hand as
 * rules_withdrawal_advised allows) or not, counts for `use`. */
bool rules_decided(enum inv_state st, bool advised, enum decided_for use);
/* Whether withdrawing, by hand, an invitation its sender sees pending, of
 * priority, sent age seconds ago, is what invite.advise tells them to do
 * (ADV_WITHDRAW: pending past stale_after and not high priority). Asked at
 * the withdrawal and logged with it. */
bool rules_withdrawal_advised(const struct policy *p, enum priority priority,
    uint64_t age);

/* Whether a sender is to be restricted: over its last decided invitations
 * (`accepted` of `decided`, at most restrict_min_decided of them), or by
 * `reports` within reports_window. *why names the rule. */
bool rules_restrict(const struct policy *p, uint64_t accepted,
    uint64_t decided, uint64_t reports, enum restrict_reason *why);

/* May role see invitation id, in state st (the true state), at all? An
 * outsider may not: NOT_PERMITTED. One withdrawn is gone for its
 * recipient (rules_visible): NOT_FOUND, as if there were no invitation id.
 * 0, or -1 with e filled. */
int rules_see(enum role role, enum inv_state st, uint64_t id,
    struct proto_error *e);

/* What is known about the invitation an actor acts on. */
struct act_facts {
	uint64_t id;
	enum role role;		/* the actor's part */
	enum inv_state st;	/* the true state */
	bool ignored;		/* the recipient ignored it at some point */
	bool reported;		/* the recipient reported it */
	bool blocked;		/* the recipient has blocked the sender */
};
/* May the actor do act? rules_see first, then the part act needs (the
 * recipient accepts, ignores, unignores and reports; the sender withdraws
 * and resends), then the state. The recipient accepts one pending or
 * ignored (straight from the ignored box), but not one it reported;
 * ignores one pending; unignores one ignored and still open (not expired,
 * withdrawn or accepted), and not reported (a report stands: it counted
 * against the sender). Neither an ignored one from a sender the recipient
 * has blocked (the block ignored it): unblock first. 0 or -1 with e
 * filled. */
int rules_act(enum inv_action act, const struct act_facts *f,
    struct proto_error *e);

/* The state role sees. An ignored invitation looks pending to its sender;
 * to its recipient it stays ignored, even once it has expired (ignored:
 * the recipient ignored it at some point), unless a mutual invitation
 * accepted it. */
enum inv_state rules_view(enum inv_state st, bool ignored, enum role role);
/* Whether role sees the invitation at all: a withdrawn one is gone from its
 * recipient's views; outsiders see nothing. */
bool rules_visible(enum inv_state st, enum role role);
/* The fields of an invitation (docs/protocol.md §3.1) that are the
 * sender's own, a bit each: role sees those rules_view_fields gives, and
 * the others are nil in its view (the map keeps its shape). The sender sees
 * them all. The recipient sees none: priority is the sender's own triage,
 * and resend_of and attempt tell of earlier invitations to them, withdrawn
 * ones among them, which the recipient may not see. */
#define VIEW_PRIORITY 0x1u
#define VIEW_RESEND_OF 0x2u
#define VIEW_ATTEMPT 0x4u
unsigned rules_view_fields(enum role role);
/* The keys an invitation map has in role's view beyond the 12 of every
 * view, a bit each (docs/protocol.md §3.1). The recipient's view adds
 * mutual_count, the number of members connected to both, to judge the
 * sender by; the sender's view has none (what the recipient is shown of
 * them is not the sender's to learn), nor has anyone else's. */
#define VIEW_MUTUAL_COUNT 0x100u
unsigned rules_view_extra(enum role role);
/* Issue 12, auto-accept: what the recipient's rules say of a send. */
struct auto_facts {
	bool listed;		/* the recipient listed the sender
				 * (FLAG_AUTOACCEPT) */
	uint32_t min_mutual;	/* the recipient's auto_min_mutual, 0: off */
	uint64_t mutual;	/* their mutual connections, counted up to
				 * min_mutual */
	int64_t until;		/* the recipient's auto_until, 0: no end */
	int64_t now;
};
/* Whether a send is accepted at once: before until (when there is one),
 * when the sender is listed or they share at least min_mutual (not 0)
 * mutual connections. The end date ends both rules; at until they no
 * longer apply. Asked only of a send every other rule let through
 * (rules_send): a block, a nogo report or invitations_from refuse first,
 * and a mutual send is accepted anyway. An auto-accepted invitation is
 * never held (the hold filters are asked after, of a pending one). */
bool rules_auto_accept(const struct auto_facts *f);
/* The most members a member may list (member.auto_accept.add). */
#define AUTO_ACCEPT_LIST_MAX 1000

/* mutual_count counts no further than this: a count of 1000 is "1000 or
 * more", so that a page of 100 invitations costs at most 100 counts of
 * 1000. */
#define MUTUAL_COUNT_MAX 1000
/* May a list in role's view be filtered by priority? Only where role sees
 * it: a filter would tell what the view hides. 0 or -1 with e filled. */
int rules_filter_priority(enum role role, struct proto_error *e);
/* Whether a withdrawal takes back what the recipient was told of the
 * invitation (its invitation.received event leaves their feed, for
 * events.read and a subscription's replay alike): when the recipient is
 * not told of the withdrawal (notify_recipient_on_withdraw off, or a
 * block). A member's feed replays only what the member may still see, and
 * a withdrawn invitation is gone from its recipient's views. The `all`
 * feed keeps every event. */
bool rules_unsay_on_withdraw(bool recipient_told);
/* Whether an invitation in the received box is listed: not one the
 * recipient ignored, not a withdrawn one. */
bool rules_in_received_box(enum inv_state st, bool ignored);
/* Which of the recipient's boxes (enum proto_box: received, ignored,
 * held) an invitation sent to them is listed in, PBOX_COUNT for none (a
 * withdrawn one). Ignored: every one the recipient sees ignored (an
 * ignored one that expired too, as rules_view). Held: one held for the
 * recipient (a quarantine filter) that it has not ignored, accepted or
 * seen withdrawn. Received: the rest. The sent box is the sender's. */
enum proto_box rules_recipient_box(enum inv_state st, bool ignored,
    bool held);

/* What is known of a send's sender, for the recipient's hold filters. */
struct hold_facts {
	int64_t now;
	bool mutual;		/* the two share a connection */
	enum health health;	/* the sender's (rules_health, stats.get's) */
	int64_t restricted_at;	/* the sender's last restriction began, 0 never */
	int64_t first_seen_at;	/* the sender first seen, 0: long ago */
};
/* Why an invitation is held for its recipient; HOLD_NONE: it is not. */
enum hold_reason {
	HOLD_NONE,
	HOLD_NO_MUTUAL,		/* no mutual connection */
	HOLD_LOW_HEALTH,	/* health low: below the healthy band with
				 * enough decided (insufficient data is not) */
	HOLD_RESTRICTED,	/* restricted less than restricted_days ago */
	HOLD_NEW_MEMBER		/* first seen less than new_days ago */
};
/* The first filter of h that holds a send with facts f, in the order of
 * enum hold_reason. Each compares within its days, the edge excluded: a
 * sender restricted (first seen) exactly N days ago is no longer held. */
enum hold_reason rules_hold(const struct hold_filters *h,
    const struct hold_facts *f);
/* Which of a member's hold filters are its own (set by
 * member.settings.set); the others follow the policy. */
struct hold_own {
	bool no_mutual, low_health, restricted_days, new_days;
};
/* The filters in force for a member: each the member's own where it has
 * one, else the policy's. */
struct hold_filters rules_hold_in_force(const struct hold_filters *policy,
    const struct hold_filters *mine, const struct hold_own *own);

/* Whether a due deadline still applies to an invitation in state st. */
bool rules_open(enum inv_state st);

/* When the cooldown that starts now ends, after a withdrawal that follows
 * `before` earlier withdrawals from the same sender to the same person. */
int64_t rules_cooldown_until(const struct policy *p, int64_t now,
    uint32_t before);
/* When the recipient of an invitation sent at created_at, expiring at
 * expires_at, is reminded of it: recipient_remind_after later, unless that
 * is off, the invitation is held, or it expires first (then 0: never). */
int64_t rules_remind_at(const struct policy *p, int64_t created_at,
    int64_t expires_at, bool held);
/* The digest interval in force for a member: their own (own: they set
 * one; 0 is off), else the policy's. */
uint64_t rules_digest_every(const struct policy *p, bool own,
    uint64_t member_every);
/* When the next digest after `after` is due: the next multiple of every
 * (> 0) seconds since the epoch (with 1 day: midnight UTC). */
int64_t rules_digest_next(int64_t after, uint64_t every);
/* Whether d is a digest interval a member may set: 0 (off) or 1 hour to
 * 365 days. */
bool rules_digest_every_valid(uint64_t d);

/* How long a restriction that starts now lasts, after `before` restrictions
 * of the same sender that began within policy.restrict_window. */
uint64_t rules_restrict_for(const struct policy *p, uint64_t before);

/* Introductions (intro.ask, docs/protocol.md). A member's part in one:
 * from asked for it, via was asked to make it; `to` is not a party to the
 * introduction (only to the invitation a forward sends), nor is anyone
 * else. */
enum intro_role { IROLE_FROM, IROLE_VIA, IROLE_OTHER };
enum intro_action { IACT_FORWARD, IACT_DECLINE };
/* What is known about an ask: from asks via to introduce them to `to`. */
struct intro_facts {
	bool self;		/* from == to */
	bool via_party;		/* via is from or to */
	bool via_from;		/* via is connected to from */
	bool via_to;		/* via is connected to to */
	bool connected;		/* from and to are connected */
	bool closed;		/* to does not take invitations from from: a
				 * block either way, a "don't know" report,
				 * invitations_from nobody (as invite.send) */
	bool email_only;	/* to takes invitations only from people who
				 * give its email, which an introduction does
				 * not carry */
	bool pending;		/* an invitation between them is open, either
				 * way (as its sender sees it) */
	bool asked;		/* from has an introduction to `to` that
				 * from sees asked (through anyone) */
	size_t note_chars;	/* code points in the note */
	int64_t restricted_until;	/* from's restriction, 0: none */
	int64_t now;
};
/* May from ask? The order of the checks is the order of the refusals:
 * SELF_INVITE, INVALID_ARGUMENT (via is a party), NOT_PERMITTED (via not
 * connected to both), ALREADY_CONNECTED, NOT_PERMITTED (closed, with
 * invite.send's one message), ALREADY_PENDING (an invitation, or an
 * introduction asked), NOTE_TOO_LONG, RESTRICTED. 0 or -1 with e filled. */
int rules_intro_ask(const struct policy *p, const struct intro_facts *f,
    struct proto_error *e);
/* May role see introduction id at all? Only its from and via: anyone
 * else (its `to` too) is refused NOT_PERMITTED. */
int rules_intro_see(enum intro_role role, uint64_t id, struct proto_error *e);
/* May role do act to introduction id, which role sees in state seen?
 * Only via forwards or declines, and only one it sees asked. 0 or -1. */
int rules_intro_act(enum intro_action act, enum intro_role role,
    enum intro_state seen, uint64_t id, struct proto_error *e);
/* The state role sees of an introduction stored in st (told: a decline
 * from was told of) at now, given its expires_at. One still asked at its
 * expires_at has expired. A decline that from was not told of is, to
 * from, an introduction still asked, until it expires: from never learns
 * of a silent decline. */
enum intro_state rules_intro_view(enum intro_state st, bool told,
    int64_t expires_at, int64_t now, enum intro_role role);

/* Advice on one invitation a member sent (docs/protocol.md, invite.advise). */
struct advice_facts {
	enum inv_state seen;	/* as the sender sees it */
	enum priority priority;
	uint64_t age;		/* since it was sent */
	bool earlier_expired;	/* an earlier one to this person expired */
	bool cooldown_over;	/* withdrawn: its cooldown has ended */
	bool latest;		/* the latest invitation to this person */
};
/* Whether advice looks at an invitation at all: one its sender sees
 * pending, or a withdrawn one of high priority (which may be resent).
 * rules_advise asks it first; callers ask it before gathering the rest. */
bool rules_advice_considers(enum inv_state seen, enum priority priority);
/* ADV_NONE when there is nothing to advise (for any invitation not seen
 * pending, but for a withdrawn one of high priority that may be resent);
 * *reason says why otherwise. */
enum advice rules_advise(const struct policy *p, const struct advice_facts *f,
    char *reason, size_t n);

#endif
