/* daemon/member.c: see member.h. */
#include "member.h"

#include <string.h>

#include "../common/util.h"
#include "events.h"
#include "inv.h"
#include "remind.h"

/* Writes member's record, its first if first_seen_at is 0: then seen
 * first now. */
static void
member_put(struct op *o, const char *m, size_t len, struct member_rec *r)
{
	if (r->first_seen_at == 0)
		r->first_seen_at = o->now;
	store_member_put(o->t, m, len, r);
}

void
member_seen(struct op *o, struct str m)
{
	struct member_rec r;

	store_member_get(o->t, m.p, m.n, &r);
	if (r.first_seen_at == 0)
		member_put(o, m.p, m.n, &r);
}

/* How many restrictions of sender began within policy.restrict_window
 * before o->now: after now - restrict_window. */
static uint64_t
restrictions_before(struct op *o, struct str sender)
{
	int64_t oldest;

	return store_log_count(o->t, LOG_RESTRICTIONS, sender.p, sender.n,
	    o->now - (int64_t)o->policy->restrict_window, UINT64_MAX,
	    &oldest);
}

/* Restricts sender (an invitation of theirs is id) for the restrict_for
 * that the restrictions before it in the window give (rules_restrict_for). */
static void
restrict_sender(struct op *o, struct str sender, uint64_t id,
    enum restrict_reason why)
{
	struct member_rec m;
	struct notice n;
	struct due due;
	uint64_t len;

	len = rules_restrict_for(o->policy, restrictions_before(o, sender));
	store_log_add(o->t, LOG_RESTRICTIONS, sender.p, sender.n, o->now, id, 0);
	store_member_get(o->t, sender.p, sender.n, &m);
	m.restricted_at = o->now;
	m.restricted_until = o->now + (int64_t)len;
	member_put(o, sender.p, sender.n, &m);
	due.at = m.restricted_until;
	due.kind = DUE_RESTRICTION;
	due.id = id;
	store_due_add(o->t, &due);
	memset(&n, 0, sizeof n);
	n.code = proto_restrict_reason_words[why];
	n.message = why == RESTRICT_REPORTS ?
	    "your invitations were reported too often: sending is paused" :
	    "too few of your recent invitations were accepted: sending is paused";
	n.until = m.restricted_until;
	events_notice(o->t, EV_RESTRICTION_STARTED, o->now, o->now, sender.p,
	    sender.n, &n);
	log_info("restricted %.*s until %lld (%s)", (int)sender.n, sender.p,
	    (long long)m.restricted_until, proto_restrict_reason_words[why]);
}

/* A decision as the decisions log holds it: its state, and whether it
 * followed the advice (a clean-up plan made it, or it was withdrawn by hand
 * as advised). */
static enum inv_state
decision_of(uint8_t logged, bool *advised)
{
	*advised = (logged & (LOG_BY_PLAN | LOG_AS_ADVISED)) != 0;
	return (enum inv_state)(logged &
	    (uint8_t)~(LOG_BY_PLAN | LOG_AS_ADVISED));
}

/* The last decided invitations of a sender since its last restriction
 * began (evidence counts once), as they count toward a restriction
 * (rules_decided). */
struct decided {
	uint64_t accepted, decided, max;
	int64_t since;
};

static bool
decided_one(void *ctx, int64_t at, uint64_t id, uint8_t logged)
{
	struct decided *dc = ctx;
	enum inv_state st;
	bool advised;

	(void)id;
	if (at <= dc->since)
		return false;
	st = decision_of(logged, &advised);
	if (!rules_decided(st, advised, DECIDED_FOR_RESTRICTION))
		return true;
	if (st == ST_ACCEPTED)
		dc->accepted++;
	return ++dc->decided < dc->max;
}

void
member_health_check(struct op *o, struct str sender, uint64_t id)
{
	const struct policy *p = o->policy;
	struct member_rec m;
	struct decided dc = { 0, 0, p->restrict_min_decided, 0 };
	uint64_t reports = 0;
	int64_t oldest, since;
	enum restrict_reason why;

	store_member_get(o->t, sender.p, sender.n, &m);
	if (m.restricted_until > o->now)
		return;
	dc.since = m.restricted_at;
	store_log_scan_back(o->t, LOG_DECISIONS, sender.p, sender.n,
	    decided_one, &dc);
	since = o->now - (int64_t)p->reports_window;
	if (since < m.restricted_at)
		since = m.restricted_at;
	if (p->reports_to_restrict > 0)
		reports = store_log_count(o->t, LOG_REPORTS, sender.p, sender.n,
		    since, p->reports_to_restrict, &oldest);
	if (rules_restrict(p, dc.accepted, dc.decided, reports, &why))
		restrict_sender(o, sender, id, why);
}

void
member_decided(struct op *o, const struct inv *inv, int64_t at, bool by_plan)
{
	struct str sender = { inv->from, inv->from_len };
	struct op then = *o;
	uint8_t how = by_plan ? LOG_BY_PLAN : 0;

	/* Asked now, as the advice would have been given: by the invitation's
	 * age at the withdrawal. */
	if (!by_plan && inv->state == ST_WITHDRAWN &&
	    rules_withdrawal_advised(o->policy, (enum priority)inv->priority,
	    (uint64_t)(at - inv->created_at)))
		how = LOG_AS_ADVISED;
	store_log_add(o->t, LOG_DECISIONS, inv->from, inv->from_len, at,
	    inv->id, (uint8_t)(inv->state | how));
	/* Judged as of the decision: an expiry handled late restricts from
	 * when it expired. */
	then.now = at;
	if (!by_plan)
		member_health_check(&then, sender, inv->id);
}

void
member_on_due(struct op *o, const struct due *due)
{
	struct member_rec m;
	struct notice n;
	struct inv inv;

	if (store_inv_get(o->t, due->id, &inv) != STORE_OK)
		return;
	store_member_get(o->t, inv.from, inv.from_len, &m);
	if (m.restricted_until != due->at)
		return;
	m.restricted_until = 0;
	member_put(o, inv.from, inv.from_len, &m);
	memset(&n, 0, sizeof n);
	n.message = "you may send invitations again";
	events_notice(o->t, EV_RESTRICTION_ENDED, due->at, o->now, inv.from,
	    inv.from_len, &n);
}

int
connection_remove(struct op *o, struct str actor, struct str other,
    int64_t *since, struct proto_error *e)
{
	*since = store_conn_get(o->t, actor.p, actor.n, other.p, other.n);
	if (store_error(o->t) != STORE_OK)
		return op_store_error(o->t, e);
	if (*since == 0)
		return proto_fail(e, PE_NOT_FOUND, "you are not connected");
	store_conn_del(o->t, actor.p, actor.n, other.p, other.n);
	/* Removal is quiet, as on LinkedIn: only the `all` feed has it. */
	events_conn(o->t, EV_CONN_REMOVED, o->now, actor.p, actor.n, other.p,
	    other.n, *since, false);
	return op_done(o->t, e);
}

/* What a block by `blocker` does to the open invitation from -> to
 * (rules_block_closes), telling nobody. */
static void
block_closes(struct op *o, struct str from, struct str to, enum role blocker)
{
	struct pair pr;
	struct inv inv;

	if (rules_block_closes(blocker) == ST_WITHDRAWN) {
		store_pair_get(o->t, from.p, from.n, to.p, to.n, &pr);
		inv_withdraw_quietly(o->t, from, to, o->now);
		if (pr.open_id != 0 &&
		    store_inv_get(o->t, pr.open_id, &inv) == STORE_OK)
			remind_gone(o, &inv);
		return;
	}
	store_pair_get(o->t, from.p, from.n, to.p, to.n, &pr);
	if (pr.open_id == 0 || store_inv_get(o->t, pr.open_id, &inv) !=
	    STORE_OK || inv.state != ST_PENDING)
		return;		/* none, or ignored already */
	/* As invite_ignore: nothing its sender can see changes. */
	inv.state = ST_IGNORED;
	inv.ignored = true;
	inv.held = false;	/* as invite_ignore: in the ignored box */
	store_inv_put(o->t, &inv, ST_PENDING);
	remind_gone(o, &inv);
	events_inv(o->t, EV_IGNORED, o->now, o->now, &inv, ROLE_RECIPIENT,
	    false, false);
}

int
member_block(struct op *o, struct str actor, struct str other, bool on,
    bool *changed, struct proto_error *e)
{
	int64_t since;

	if (rules_block(actor.n == other.n &&
	    memcmp(actor.p, other.p, actor.n) == 0, e) == -1)
		return -1;
	*changed = store_flag_get(o->t, FLAG_BLOCK, actor.p, actor.n, other.p,
	    other.n) != on;
	store_flag_set(o->t, FLAG_BLOCK, actor.p, actor.n, other.p, other.n,
	    on);
	if (on) {
		block_closes(o, actor, other, ROLE_SENDER);
		block_closes(o, other, actor, ROLE_RECIPIENT);
		since = store_conn_get(o->t, actor.p, actor.n, other.p, other.n);
		if (since != 0) {
			store_conn_del(o->t, actor.p, actor.n, other.p, other.n);
			events_conn(o->t, EV_CONN_REMOVED, o->now, actor.p,
			    actor.n, other.p, other.n, since, false);
		}
	}
	return op_done(o->t, e);
}

struct hold_own
member_hold_own(const struct member_rec *m)
{
	struct hold_own own;

	own.no_mutual = (m->own & MEMBER_OWN_HOLD_NO_MUTUAL) != 0;
	own.low_health = (m->own & MEMBER_OWN_HOLD_LOW_HEALTH) != 0;
	own.restricted_days = (m->own & MEMBER_OWN_HOLD_RESTRICTED) != 0;
	own.new_days = (m->own & MEMBER_OWN_HOLD_NEW) != 0;
	return own;
}

struct hold_filters
member_hold_filters(const struct policy *p, const struct member_rec *m)
{
	struct hold_filters mine;
	struct hold_own own = member_hold_own(m);

	mine.no_mutual = m->hold_no_mutual;
	mine.low_health = m->hold_low_health;
	mine.restricted_days = m->hold_restricted_days;
	mine.new_days = m->hold_new_days;
	return rules_hold_in_force(&p->hold, &mine, &own);
}

/* One own setting changed as how says: its bit, and its value (which a
 * reset clears). */
static void
own_set(struct member_rec *m, uint16_t bit, enum set_how how)
{
	if (how == SET_VALUE)
		m->own |= bit;
	else if (how == SET_RESET)
		m->own &= (uint16_t)~bit;
}

static void
hold_apply(struct member_rec *m, const struct hold_change *h)
{
	own_set(m, MEMBER_OWN_HOLD_NO_MUTUAL, h->no_mutual);
	if (h->no_mutual != SET_KEEP)
		m->hold_no_mutual = h->no_mutual == SET_VALUE &&
		    h->v.no_mutual;
	own_set(m, MEMBER_OWN_HOLD_LOW_HEALTH, h->low_health);
	if (h->low_health != SET_KEEP)
		m->hold_low_health = h->low_health == SET_VALUE &&
		    h->v.low_health;
	own_set(m, MEMBER_OWN_HOLD_RESTRICTED, h->restricted_days);
	if (h->restricted_days != SET_KEEP)
		m->hold_restricted_days = h->restricted_days == SET_VALUE ?
		    h->v.restricted_days : 0;
	own_set(m, MEMBER_OWN_HOLD_NEW, h->new_days);
	if (h->new_days != SET_KEEP)
		m->hold_new_days = h->new_days == SET_VALUE ?
		    h->v.new_days : 0;
}

int
member_settings_set(struct op *o, struct str member, int from,
    struct str email, const struct auto_settings *as,
    const struct hold_change *hold, const struct digest_change *digest,
    struct member_rec *m, struct proto_error *e)
{
	struct settings_facts f;
	uint64_t digest_before;

	if (digest != NULL && digest->how == SET_VALUE &&
	    !rules_digest_every_valid(digest->every))
		return proto_fail(e, PE_INVALID_ARGUMENT,
		    "digest_every must be 0 (off) or 3600 to 31536000 seconds (1 hour to 365 days)");
	store_member_get(o->t, member.p, member.n, m);
	if (as != NULL && as->has_min_mutual &&
	    as->min_mutual > MUTUAL_COUNT_MAX)
		return proto_fail(e, PE_INVALID_ARGUMENT,
		    "auto_accept_min_mutual must be 0 (off) to %d",
		    MUTUAL_COUNT_MAX);
	if (as != NULL && as->has_min_mutual)
		m->auto_min_mutual = (uint32_t)as->min_mutual;
	if (as != NULL && as->has_until)
		m->auto_until = as->until;
	digest_before = remind_digest_every(o->policy, m);
	f.from = from >= 0 ? from : m->invitations_from;
	f.email = email.p;
	f.email_len = email.n;
	f.has_email = email.p != NULL ? email.n > 0 : m->email_len > 0;
	f.email_max = EMAIL_MAX_BYTES;
	if (rules_settings(&f, e) == -1)
		return -1;
	m->invitations_from = (uint8_t)f.from;
	if (email.p != NULL) {
		memcpy(m->email, email.p, email.n);
		m->email_len = email.n;
	}
	if (hold != NULL)
		hold_apply(m, hold);
	if (digest != NULL && digest->how == SET_VALUE) {
		m->own |= MEMBER_OWN_DIGEST;
		m->digest_every = (int64_t)digest->every;
	} else if (digest != NULL && digest->how == SET_RESET) {
		m->own &= (uint16_t)~MEMBER_OWN_DIGEST;
		m->digest_every = 0;
	}
	member_put(o, member.p, member.n, m);
	remind_digest_changed(o, member, digest_before);
	return op_done(o->t, e);
}

/* Decisions in the window, as they count in stats (rules_decided). */
struct stats_ctx {
	int64_t since;
	struct member_stats *s;
};

static bool
stats_one(void *ctx, int64_t at, uint64_t id, uint8_t logged)
{
	struct stats_ctx *c = ctx;
	enum inv_state st;
	bool advised;

	(void)id;
	if (at <= c->since)
		return false;
	st = decision_of(logged, &advised);
	if (!rules_decided(st, advised, DECIDED_FOR_STATS))
		return true;
	if (st == ST_ACCEPTED)
		c->s->accepted++;
	else if (st == ST_WITHDRAWN)
		c->s->withdrawn++;
	else
		c->s->expired++;
	return true;
}

int
member_stats(struct op *o, struct str member, uint64_t window,
    struct member_stats *s, struct proto_error *e)
{
	struct stats_ctx c;
	int64_t oldest;

	memset(s, 0, sizeof *s);
	c.since = o->now - (int64_t)window;
	c.s = s;
	store_log_scan_back(o->t, LOG_DECISIONS, member.p, member.n, stats_one,
	    &c);
	s->sent = store_log_count(o->t, LOG_SENDS, member.p, member.n, c.since,
	    UINT64_MAX, &oldest);
	s->week_used = store_log_count(o->t, LOG_SENDS, member.p, member.n,
	    o->now - WEEK, QUOTA_COUNT_MAX, &oldest);
	s->day_used = store_log_count(o->t, LOG_SENDS, member.p, member.n,
	    o->now - DAY_SECS, QUOTA_COUNT_MAX, &oldest);
	store_member_get(o->t, member.p, member.n, &s->rec);
	s->restrictions = restrictions_before(o, member);
	s->next_restrict_for = rules_restrict_for(o->policy, s->restrictions);
	s->decided = s->accepted + s->withdrawn + s->expired;
	return op_done(o->t, e);
}

struct list_count {
	uint64_t n, max;
};

static bool
list_count_one(void *ctx, const char *m, size_t len)
{
	struct list_count *c = ctx;

	(void)m;
	(void)len;
	return ++c->n < c->max;
}

int
member_auto_accept(struct op *o, struct str member, struct str other,
    bool on, struct proto_error *e)
{
	struct list_count c = { 0, AUTO_ACCEPT_LIST_MAX };

	if (member.n == other.n && memcmp(member.p, other.p, member.n) == 0)
		return proto_fail(e, PE_INVALID_ARGUMENT,
		    "a member cannot list itself");
	if (on && !store_flag_get(o->t, FLAG_AUTOACCEPT, member.p, member.n,
	    other.p, other.n)) {
		store_scan_flags(o->t, FLAG_AUTOACCEPT, member.p, member.n,
		    NULL, 0, list_count_one, &c);
		if (c.n >= AUTO_ACCEPT_LIST_MAX)
			return proto_fail(e, PE_INVALID_ARGUMENT,
			    "the auto-accept list holds at most %d members",
			    AUTO_ACCEPT_LIST_MAX);
	}
	store_flag_set(o->t, FLAG_AUTOACCEPT, member.p, member.n, other.p,
	    other.n, on);
	return op_done(o->t, e);
}
