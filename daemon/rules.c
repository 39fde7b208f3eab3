/* daemon/rules.c: see rules.h. Every refusal names the rule that refused. */
#include "rules.h"

#include <string.h>

#include "../common/util.h"

void
policy_defaults(struct policy *p)
{
	p->expire_after = 180 * 86400ULL;
	p->resend_cooldown[0] = 21 * 86400ULL;
	p->resend_cooldowns = 1;
	p->stale_after = 14 * 86400ULL;
	p->note_max_chars = 300;
	p->notify_recipient_on_withdraw = false;
	p->mutual_invite_connects = true;
	p->events_retention = 30 * 86400ULL;
	p->request_id_retention = 86400;
	p->max_expire_after = 180 * 86400ULL;
	p->recipient_remind_after = 7 * 86400ULL;
	p->digest_every = 0;
	p->sends_per_week = 100;
	p->sends_per_day = 0;
	p->pending_warn = 100;
	p->pending_max = 200;
	p->invites_per_pair = 3;
	p->pair_window = 365 * 86400ULL;
	p->withdrawals_per_day = 50;
	p->duplicate_note_warn = 5;
	p->healthy_rate = 0.30;
	p->restrict_below_rate = 0.20;
	p->restrict_min_decided = 20;
	p->reports_to_restrict = 5;
	p->reports_window = 30 * 86400ULL;
	p->restrict_for[0] = 7 * 86400ULL;
	p->restrict_fors = 1;
	p->restrict_window = 365 * 86400ULL;
}

/* "s" after a count of things other than 1: "1 day", "2 days". */
static const char *
plural(unsigned long long n)
{
	return n == 1 ? "" : "s";
}

/* Refuses with code until retry_at, naming it in the message. */
static int
refuse_until(struct proto_error *e, enum proto_code code, int64_t retry_at,
    const char *what)
{
	char when[32];

	time_format(retry_at, when, sizeof when);
	proto_fail(e, code, "%s; allowed again from %s UTC", what, when);
	e->retry_at = retry_at;
	return -1;
}

int
rules_send(const struct policy *p, const struct send_facts *f,
    enum send_outcome *out, unsigned *warnings, struct proto_error *e)
{
	char what[128];

	*warnings = 0;
	if (f->self)
		return proto_fail(e, PE_SELF_INVITE,
		    "you cannot invite yourself");
	/* One message for a block, a "don't know" report and a closed door:
	 * nothing tells the sender which. */
	if (f->blocked || f->nogo || f->recipient_from == FROM_NOBODY)
		return proto_fail(e, PE_NOT_PERMITTED,
		    "this member does not accept invitations from you");
	if (f->recipient_from == FROM_EMAIL && !f->email_matches)
		return proto_fail(e, PE_EMAIL_REQUIRED,
		    "this member accepts invitations only from people who know their email address");
	if (f->connected)
		return proto_fail(e, PE_ALREADY_CONNECTED,
		    "you are already connected");
	if (f->pending)
		return proto_fail(e, PE_ALREADY_PENDING,
		    "an invitation to this member is already pending");
	if (f->note_chars > p->note_max_chars)
		return proto_fail(e, PE_NOTE_TOO_LONG,
		    "the note has %zu characters; at most %u are allowed",
		    f->note_chars, p->note_max_chars);
	if (f->expires_in > p->max_expire_after)
		return proto_fail(e, PE_INVALID_ARGUMENT,
		    "expires_in may be at most %llu seconds (max_expire_after)",
		    (unsigned long long)p->max_expire_after);
	if (f->restricted_until > f->now)
		return refuse_until(e, PE_RESTRICTED, f->restricted_until,
		    "your invitations are restricted: too few were accepted, or too many were reported");
	if (f->reverse_pending && p->mutual_invite_connects) {
		*out = SEND_MUTUAL;
		return 0;
	}
	if (f->cooldown_until > f->now)
		return refuse_until(e, PE_COOLDOWN, f->cooldown_until,
		    "you withdrew an invitation to this member");
	if (p->invites_per_pair > 0 && f->pair_used >= p->invites_per_pair) {
		snprintf(what, sizeof what,
		    "you have invited this member %llu time%s within %llu day%s",
		    (unsigned long long)f->pair_used, plural(f->pair_used),
		    (unsigned long long)(p->pair_window / DAY_SECS),
		    plural(p->pair_window / DAY_SECS));
		return refuse_until(e, PE_PAIR_LIMIT,
		    f->pair_oldest + (int64_t)p->pair_window, what);
	}
	if (p->sends_per_week > 0 && f->week_used >= p->sends_per_week) {
		snprintf(what, sizeof what,
		    "you sent %llu invitation%s in the last 7 days (the weekly limit)",
		    (unsigned long long)f->week_used, plural(f->week_used));
		return refuse_until(e, PE_RATE_LIMITED, f->week_oldest + WEEK,
		    what);
	}
	if (p->sends_per_day > 0 && f->day_used >= p->sends_per_day) {
		snprintf(what, sizeof what,
		    "you sent %llu invitation%s in the last 24 hours (the daily limit)",
		    (unsigned long long)f->day_used, plural(f->day_used));
		return refuse_until(e, PE_RATE_LIMITED, f->day_oldest + DAY_SECS,
		    what);
	}
	if (p->pending_max > 0 && f->pending_sent >= p->pending_max)
		return proto_fail(e, PE_PENDING_CAP,
		    "you have %llu pending invitation%s, the most allowed; withdraw some or wait for answers",
		    (unsigned long long)f->pending_sent, plural(f->pending_sent));
	if (p->pending_warn > 0 && f->pending_sent + 1 >= p->pending_warn)
		*warnings |= WARN_PENDING;
	if (p->duplicate_note_warn > 0 && f->note_chars > 0 &&
	    f->same_note + 1 >= p->duplicate_note_warn)
		*warnings |= WARN_DUPLICATE_NOTE;
	*out = SEND_CREATE;
	return 0;
}

/* Whether `used` withdrawals spend a day's allowance (withdrawals_per_day,
 * 0: off). */
static bool
withdrawals_spent(const struct policy *p, uint64_t used)
{
	return p->withdrawals_per_day > 0 && used >= p->withdrawals_per_day;
}

int
rules_withdraw(const struct policy *p, uint64_t used, int64_t oldest,
    struct proto_error *e)
{
	char what[96];

	if (!withdrawals_spent(p, used))
		return 0;
	snprintf(what, sizeof what,
	    "you withdrew %llu invitation%s in the last 24 hours (spread them over days)",
	    (unsigned long long)used, plural(used));
	return refuse_until(e, PE_RATE_LIMITED, oldest + DAY_SECS, what);
}

int
rules_older_than(uint64_t older_than, struct proto_error *e)
{
	if (older_than > OLDER_THAN_MAX)
		return proto_fail(e, PE_INVALID_ARGUMENT,
		    "older_than must be at most 100 years");
	return 0;
}

int
rules_plan_bounds(uint64_t older_than, uint64_t per_day,
    struct proto_error *e)
{
	if (per_day == 0 || per_day > PLAN_PER_DAY_MAX)
		return proto_fail(e, PE_INVALID_ARGUMENT,
		    "per_day must be 1 to %d", PLAN_PER_DAY_MAX);
	return rules_older_than(older_than, e);
}

uint32_t
rules_plan_per_day(const struct policy *p, uint32_t per_day)
{
	/* A plan that asked for more than a day allows would only be
	 * refused the rest each day. */
	return withdrawals_spent(p, per_day) ? p->withdrawals_per_day :
	    per_day;
}

bool
rules_plan_takes(const struct plan_cand *c, int64_t now, uint64_t older_than,
    enum priority max_priority)
{
	return rules_open(c->st) && c->created_at <= now - (int64_t)older_than &&
	    c->priority >= max_priority;
}

int
rules_plan_order(const struct plan_cand *a, const struct plan_cand *b)
{
	if (a->priority != b->priority)
		return a->priority > b->priority ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

int
rules_block(bool self, struct proto_error *e)
{
	if (self)
		return proto_fail(e, PE_INVALID_ARGUMENT,
		    "you cannot block yourself");
	return 0;
}

enum inv_state
rules_block_closes(enum role blocker_role)
{
	return blocker_role == ROLE_SENDER ? ST_WITHDRAWN : ST_IGNORED;
}

int
rules_settings(const struct settings_facts *f, struct proto_error *e)
{
	if (f->email != NULL && f->email_len > 0 &&
	    (f->email_len > f->email_max ||
	    memchr(f->email, '@', f->email_len) == NULL ||
	    memchr(f->email, '\n', f->email_len) ||
	    memchr(f->email, '\t', f->email_len)))
		return proto_fail(e, PE_INVALID_ARGUMENT,
		    "email must be an address with an @, at most %zu bytes (\"\" clears it)",
		    f->email_max);
	if (f->from == FROM_EMAIL && !f->has_email)
		return proto_fail(e, PE_INVALID_ARGUMENT,
		    "invitations_from \"email\" needs the member's email");
	return 0;
}

void
rules_healthy_band(const struct policy *p, double *lo, double *hi)
{
	*lo = p->healthy_rate;
	*hi = p->healthy_rate > HEALTHY_CEILING ? p->healthy_rate :
	    HEALTHY_CEILING;
}

enum health
rules_health(const struct policy *p, uint64_t accepted, uint64_t decided)
{
	double lo, hi;

	if (decided == 0 || decided < p->restrict_min_decided)
		return HEALTH_INSUFFICIENT;
	rules_healthy_band(p, &lo, &hi);
	return (double)accepted / (double)decided >= lo ?
	    HEALTH_HEALTHY : HEALTH_LOW;
}

bool
rules_decided(enum inv_state st, bool advised, enum decided_for use)
{
	if (use == DECIDED_FOR_RESTRICTION)
		return !advised;
	return st == ST_ACCEPTED || st == ST_WITHDRAWN || st == ST_EXPIRED;
}

bool
rules_withdrawal_advised(const struct policy *p, enum priority priority,
    uint64_t age)
{
	struct advice_facts f;
	char reason[160];

	memset(&f, 0, sizeof f);
	f.seen = ST_PENDING;
	f.priority = priority;
	f.age = age;
	f.latest = true;
	return rules_advise(p, &f, reason, sizeof reason) == ADV_WITHDRAW;
}

bool
rules_restrict(const struct policy *p, uint64_t accepted, uint64_t decided,
    uint64_t reports, enum restrict_reason *why)
{
	if (p->reports_to_restrict > 0 && reports >= p->reports_to_restrict) {
		*why = RESTRICT_REPORTS;
		return true;
	}
	if (p->restrict_min_decided > 0 && decided >= p->restrict_min_decided &&
	    (double)accepted < p->restrict_below_rate * (double)decided) {
		*why = RESTRICT_ACCEPTANCE;
		return true;
	}
	return false;
}

int
rules_see(enum role role, enum inv_state st, uint64_t id,
    struct proto_error *e)
{
	if (role == ROLE_OTHER)
		return proto_fail(e, PE_NOT_PERMITTED,
		    "only the sender and the recipient may see or act on invitation %llu",
		    (unsigned long long)id);
	if (!rules_visible(st, role))
		return proto_fail(e, PE_NOT_FOUND, "no invitation %llu",
		    (unsigned long long)id);
	return 0;
}

int
rules_act(enum inv_action act, const struct act_facts *f,
    struct proto_error *e)
{
	static const char *const verbs[] = {
		"accept", "ignore", "withdraw", "resend", "report", "unignore"
	};
	enum role need = act == ACT_WITHDRAW || act == ACT_RESEND ?
	    ROLE_SENDER : ROLE_RECIPIENT;
	/* Accepting, ignoring, withdrawing and resending name the state as
	 * if only one ignored now were ignored: to its recipient, one
	 * ignored and then expired is "expired" here, though rules_view
	 * (and the report's refusal) call it "ignored". Kept as it was. */
	enum inv_state seen = rules_view(f->st, f->st == ST_IGNORED, f->role);

	if (rules_see(f->role, f->st, f->id, e) == -1)
		return -1;
	if (f->role != need)
		return proto_fail(e, PE_NOT_PERMITTED,
		    "only the %s of an invitation may %s it",
		    need == ROLE_RECIPIENT ? "recipient" : "sender", verbs[act]);
	switch (act) {
	case ACT_ACCEPT:
		/* From the received, held or ignored box alike; not once
		 * reported (the report counted against the sender). */
		if (f->st == ST_IGNORED && f->reported)
			return proto_fail(e, PE_INVALID_STATE,
			    "you reported this invitation; a reported one cannot be accepted");
		if (f->st == ST_IGNORED && f->blocked)
			return proto_fail(e, PE_INVALID_STATE,
			    "you blocked the sender; unblock them first");
		if (f->st == ST_IGNORED)
			return 0;
		/* FALLTHROUGH */
	case ACT_IGNORE:
	case ACT_WITHDRAW:
		if (seen != ST_PENDING)
			return proto_fail(e, PE_INVALID_STATE,
			    "the invitation is %s; only a pending one can be %s",
			    proto_state_words[seen],
			    act == ACT_ACCEPT ? "accepted" :
			    act == ACT_IGNORE ? "ignored" : "withdrawn");
		return 0;
	case ACT_RESEND:
		if (seen != ST_WITHDRAWN && seen != ST_EXPIRED)
			return proto_fail(e, PE_INVALID_STATE,
			    "the invitation is %s; only a withdrawn or expired one can be resent",
			    proto_state_words[seen]);
		return 0;
	case ACT_REPORT:
		/* Any open one, ignored too: a report is an ignore that
		 * counts against the sender, once. */
		if (!rules_open(f->st))
			return proto_fail(e, PE_INVALID_STATE,
			    "the invitation is %s; only a pending one can be reported",
			    proto_state_words[rules_view(f->st, f->ignored,
			    f->role)]);
		if (f->reported)
			return proto_fail(e, PE_INVALID_STATE,
			    "you already reported this invitation");
		return 0;
	case ACT_UNIGNORE:
		/* Back to the received box: only one still open. */
		if (f->st != ST_IGNORED)
			return proto_fail(e, PE_INVALID_STATE,
			    "the invitation is %s; only an ignored one that is still open can be put back",
			    proto_state_words[seen]);
		if (f->reported)
			return proto_fail(e, PE_INVALID_STATE,
			    "you reported this invitation; a reported one stays ignored");
		if (f->blocked)
			return proto_fail(e, PE_INVALID_STATE,
			    "you blocked the sender; unblock them first");
		return 0;
	}
	return proto_fail(e, PE_INTERNAL, "unknown action");
}

enum inv_state
rules_view(enum inv_state st, bool ignored, enum role role)
{
	if (role == ROLE_RECIPIENT)
		return ignored && (st == ST_IGNORED || st == ST_EXPIRED) ?
		    ST_IGNORED : st;
	return st == ST_IGNORED ? ST_PENDING : st;
}

bool
rules_visible(enum inv_state st, enum role role)
{
	if (role == ROLE_OTHER)
		return false;
	if (role == ROLE_RECIPIENT && st == ST_WITHDRAWN)
		return false;
	return true;
}

unsigned
rules_view_fields(enum role role)
{
	return role == ROLE_SENDER ? VIEW_PRIORITY | VIEW_RESEND_OF |
	    VIEW_ATTEMPT : 0;
}

bool
rules_auto_accept(const struct auto_facts *f)
{
	if (f->until != 0 && f->now >= f->until)
		return false;
	return f->listed || (f->min_mutual > 0 && f->mutual >= f->min_mutual);
}

unsigned
rules_view_extra(enum role role)
{
	return role == ROLE_RECIPIENT ? VIEW_MUTUAL_COUNT : 0;
}

int
rules_filter_priority(enum role role, struct proto_error *e)
{
	if (!(rules_view_fields(role) & VIEW_PRIORITY))
		return proto_fail(e, PE_INVALID_ARGUMENT,
		    "priority is the sender's own: only the sent box may be filtered by it");
	return 0;
}

bool
rules_unsay_on_withdraw(bool recipient_told)
{
	return !recipient_told;
}

bool
rules_in_received_box(enum inv_state st, bool ignored)
{
	return rules_recipient_box(st, ignored, false) == PBOX_RECEIVED;
}

enum proto_box
rules_recipient_box(enum inv_state st, bool ignored, bool held)
{
	if (st == ST_WITHDRAWN)
		return PBOX_COUNT;
	if (rules_view(st, ignored, ROLE_RECIPIENT) == ST_IGNORED)
		return PBOX_IGNORED;
	if (held && st != ST_ACCEPTED)
		return PBOX_HELD;
	return PBOX_RECEIVED;
}

enum hold_reason
rules_hold(const struct hold_filters *h, const struct hold_facts *f)
{
	if (h->no_mutual && !f->mutual)
		return HOLD_NO_MUTUAL;
	if (h->low_health && f->health == HEALTH_LOW)
		return HOLD_LOW_HEALTH;
	if (h->restricted_days > 0 && f->restricted_at != 0 &&
	    f->now - f->restricted_at < (int64_t)h->restricted_days * DAY_SECS)
		return HOLD_RESTRICTED;
	if (h->new_days > 0 && f->first_seen_at != 0 &&
	    f->now - f->first_seen_at < (int64_t)h->new_days * DAY_SECS)
		return HOLD_NEW_MEMBER;
	return HOLD_NONE;
}

struct hold_filters
rules_hold_in_force(const struct hold_filters *policy,
    const struct hold_filters *mine, const struct hold_own *own)
{
	struct hold_filters h = *policy;

	if (own->no_mutual)
		h.no_mutual = mine->no_mutual;
	if (own->low_health)
		h.low_health = mine->low_health;
	if (own->restricted_days)
		h.restricted_days = mine->restricted_days;
	if (own->new_days)
		h.new_days = mine->new_days;
	return h;
}

bool
rules_open(enum inv_state st)
{
	return st == ST_PENDING || st == ST_IGNORED;
}

int64_t
rules_cooldown_until(const struct policy *p, int64_t now, uint32_t before)
{
	unsigned n = before < p->resend_cooldowns ? before :
	    p->resend_cooldowns - 1;

	return now + (int64_t)p->resend_cooldown[n];
}

int64_t
rules_remind_at(const struct policy *p, int64_t created_at,
    int64_t expires_at, bool held)
{
	int64_t at = created_at + (int64_t)p->recipient_remind_after;

	if (p->recipient_remind_after == 0 || held || at >= expires_at)
		return 0;
	return at;
}

uint64_t
rules_digest_every(const struct policy *p, bool own, uint64_t member_every)
{
	return own ? member_every : p->digest_every;
}

int64_t
rules_digest_next(int64_t after, uint64_t every)
{
	int64_t e = (int64_t)every;

	if (after < 0)
		return 0;
	return (after / e + 1) * e;
}

bool
rules_digest_every_valid(uint64_t d)
{
	return d == 0 || (d >= 3600 && d <= 365 * 86400ULL);
}

uint64_t
rules_restrict_for(const struct policy *p, uint64_t before)
{
	uint64_t n = before < p->restrict_fors ? before : p->restrict_fors - 1;

	return p->restrict_for[n];
}

bool
rules_advice_considers(enum inv_state seen, enum priority priority)
{
	return seen == ST_PENDING ||
	    (seen == ST_WITHDRAWN && priority == PRIO_HIGH);
}

enum advice
rules_advise(const struct policy *p, const struct advice_facts *f,
    char *reason, size_t n)
{
	uint64_t days = f->age / DAY_SECS;

	if (!rules_advice_considers(f->seen, f->priority))
		return ADV_NONE;
	if (f->seen == ST_WITHDRAWN) {
		if (!f->cooldown_over || !f->latest)
			return ADV_NONE;
		snprintf(reason, n,
		    "high priority and the cooldown is over: resend it with a new, personal note");
		return ADV_RESEND;
	}
	if (f->earlier_expired) {
		snprintf(reason, n,
		    "an earlier invitation to this person went unanswered: stop sending, reach out another way");
		return ADV_STOP;
	}
	if (f->age < p->stale_after) {
		snprintf(reason, n, "pending %llu day%s: give it %llu day%s",
		    (unsigned long long)days, plural(days),
		    (unsigned long long)(p->stale_after / DAY_SECS),
		    plural(p->stale_after / DAY_SECS));
		return ADV_WAIT;
	}
	if (f->priority == PRIO_HIGH) {
		snprintf(reason, n,
		    "pending %llu day%s but high priority: let it expire, or engage with them first and keep it",
		    (unsigned long long)days, plural(days));
		return ADV_LET_EXPIRE;
	}
	snprintf(reason, n,
	    "pending %llu day%s: withdraw it, a few a day, to keep your acceptance rate healthy",
	    (unsigned long long)days, plural(days));
	return ADV_WITHDRAW;
}

int
rules_intro_ask(const struct policy *p, const struct intro_facts *f,
    struct proto_error *e)
{
	if (f->self)
		return proto_fail(e, PE_SELF_INVITE,
		    "you cannot be introduced to yourself");
	if (f->via_party)
		return proto_fail(e, PE_INVALID_ARGUMENT,
		    "via must be someone other than from and to");
	if (!f->via_from || !f->via_to)
		return proto_fail(e, PE_NOT_PERMITTED,
		    "only a member connected to both of you can introduce you");
	if (f->connected)
		return proto_fail(e, PE_ALREADY_CONNECTED,
		    "you are already connected");
	/* invite.send's one message: nothing tells which. */
	if (f->closed)
		return proto_fail(e, PE_NOT_PERMITTED,
		    "this member does not accept invitations from you");
	/* As invite.send would answer the asker: a forward could never be
	 * sent, and would tell via of to's setting. */
	if (f->email_only)
		return proto_fail(e, PE_EMAIL_REQUIRED,
		    "this member accepts invitations only from people who know their email address: invite them with it instead");
	if (f->pending)
		return proto_fail(e, PE_ALREADY_PENDING,
		    "an invitation between you is already pending");
	if (f->asked)
		return proto_fail(e, PE_ALREADY_PENDING,
		    "you already asked for an introduction to this member");
	if (f->note_chars > p->note_max_chars)
		return proto_fail(e, PE_NOTE_TOO_LONG,
		    "the note has %zu characters; at most %u are allowed",
		    f->note_chars, p->note_max_chars);
	if (f->restricted_until > f->now)
		return refuse_until(e, PE_RESTRICTED, f->restricted_until,
		    "your invitations are restricted: too few were accepted, or too many were reported");
	return 0;
}

int
rules_intro_see(enum intro_role role, uint64_t id, struct proto_error *e)
{
	if (role == IROLE_OTHER)
		return proto_fail(e, PE_NOT_PERMITTED,
		    "only the member who asked and the member asked may see or act on introduction %llu",
		    (unsigned long long)id);
	return 0;
}

int
rules_intro_act(enum intro_action act, enum intro_role role,
    enum intro_state seen, uint64_t id, struct proto_error *e)
{
	if (rules_intro_see(role, id, e) == -1)
		return -1;
	if (role != IROLE_VIA)
		return proto_fail(e, PE_NOT_PERMITTED,
		    "only the member asked may %s introduction %llu",
		    act == IACT_FORWARD ? "forward" : "decline",
		    (unsigned long long)id);
	if (seen != INTRO_ASKED)
		return proto_fail(e, PE_INVALID_STATE,
		    "introduction %llu is %s", (unsigned long long)id,
		    proto_intro_state_words[seen]);
	return 0;
}

enum intro_state
rules_intro_view(enum intro_state st, bool told, int64_t expires_at,
    int64_t now, enum intro_role role)
{
	if (st == INTRO_DECLINED && role == IROLE_FROM && !told)
		st = INTRO_ASKED;
	if (st == INTRO_ASKED && now >= expires_at)
		return INTRO_EXPIRED;
	return st;
}
