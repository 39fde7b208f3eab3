/* daemon/invite.c: see invite.h. */
#include "invite.h"

#include <string.h>
#include <strings.h>

#include "../common/util.h"
#include "events.h"

static bool
str_eq(struct str a, const char *b, size_t blen)
{
	return a.n == blen && memcmp(a.p, b, blen) == 0;
}

int
invite_store_error(struct stx *t, struct proto_error *e)
{
	if (store_error(t) == STORE_MAP_FULL)
		return proto_fail(e, PE_STORE_FULL, "the store is full");
	return proto_fail(e, PE_INTERNAL, "store error");
}

enum role
invite_role(const struct inv *inv, struct str actor)
{
	if (actor.p == NULL)
		return ROLE_SENDER;
	if (str_eq(actor, inv->from, inv->from_len))
		return ROLE_SENDER;
	if (str_eq(actor, inv->to, inv->to_len))
		return ROLE_RECIPIENT;
	return ROLE_OTHER;
}

int
invite_load(struct stx *t, uint64_t id, struct str actor, struct inv *out,
    enum role *role, struct proto_error *e)
{
	int rc = store_inv_get(t, id, out);

	if (rc == STORE_NOTFOUND)
		return proto_fail(e, PE_NOT_FOUND, "no invitation %llu",
		    (unsigned long long)id);
	if (rc != STORE_OK)
		return invite_store_error(t, e);
	*role = invite_role(out, actor);
	if (*role == ROLE_OTHER && actor.p != NULL)
		return proto_fail(e, PE_NOT_PERMITTED,
		    "only the sender and the recipient may see or act on invitation %llu",
		    (unsigned long long)id);
	if (!rules_visible(out->state, *role))
		return proto_fail(e, PE_NOT_FOUND, "no invitation %llu",
		    (unsigned long long)id);
	return 0;
}

/* The deadlines of an open invitation. */
static void
due_open_rows(const struct inv *inv, struct due *expire, struct due *stale)
{
	expire->at = inv->expires_at;
	expire->kind = DUE_EXPIRE;
	expire->id = inv->id;
	stale->at = inv->stale_at;
	stale->kind = DUE_STALE;
	stale->id = inv->id;
}

/* Restricts sender (an invitation of theirs is id) for restrict_for. */
static void
restrict_sender(struct daemon *d, struct stx *t, const char *sender,
    size_t slen, uint64_t id, const char *why, int64_t now)
{
	struct member_rec m;
	struct notice n;
	struct due due;

	store_member_get(t, sender, slen, &m);
	m.restricted_at = now;
	m.restricted_until = now + (int64_t)d->policy.restrict_for;
	store_member_put(t, sender, slen, &m);
	due.at = m.restricted_until;
	due.kind = DUE_RESTRICTION;
	due.id = id;
	store_due_add(t, &due);
	memset(&n, 0, sizeof n);
	n.code = why;
	n.message = strcmp(why, "reports") == 0 ?
	    "your invitations were reported too often: sending is paused" :
	    "too few of your recent invitations were accepted: sending is paused";
	n.until = m.restricted_until;
	events_notice(t, EV_RESTRICTION_STARTED, now, now, sender, slen, &n);
	log_info("restricted %.*s until %lld (%s)", (int)slen, sender,
	    (long long)m.restricted_until, why);
}

/* The last decided invitations of a sender since its last restriction
 * began (evidence counts once). A clean-up plan's withdrawals are left
 * out: following the daemon's own advice never restricts anyone. */
struct decided {
	uint64_t accepted, decided, max;
	int64_t since;
};

static bool
decided_one(void *ctx, int64_t at, uint64_t id, uint8_t state)
{
	struct decided *dc = ctx;

	(void)id;
	if (at <= dc->since)
		return false;
	if (state & LOG_BY_PLAN)
		return true;
	if (state == ST_ACCEPTED)
		dc->accepted++;
	return ++dc->decided < dc->max;
}

/* After something that counts against a sender: restrict it if the rules
 * say so. */
static void
health_check(struct daemon *d, struct stx *t, const char *sender, size_t slen,
    uint64_t id, int64_t now)
{
	const struct policy *p = &d->policy;
	struct member_rec m;
	struct decided dc = { 0, 0, p->restrict_min_decided, 0 };
	uint64_t reports = 0;
	int64_t oldest, since;
	const char *why;

	store_member_get(t, sender, slen, &m);
	if (m.restricted_until > now)
		return;
	dc.since = m.restricted_at;
	store_log_scan_back(t, LOG_DECISIONS, sender, slen, decided_one, &dc);
	since = now - (int64_t)p->reports_window;
	if (since < m.restricted_at)
		since = m.restricted_at;
	if (p->reports_to_restrict > 0)
		reports = store_log_count(t, LOG_REPORTS, sender, slen, since,
		    p->reports_to_restrict, &oldest);
	if (rules_restrict(p, dc.accepted, dc.decided, reports, &why))
		restrict_sender(d, t, sender, slen, id, why, now);
}

/* An invitation was decided (accepted, withdrawn, expired): it counts in
 * its sender's acceptance rate. */
static void
decided_by(struct daemon *d, struct stx *t, const struct inv *inv,
    int64_t now, bool by_plan)
{
	store_log_add(t, LOG_DECISIONS, inv->from, inv->from_len, now, inv->id,
	    (uint8_t)(inv->state | (by_plan ? LOG_BY_PLAN : 0)));
	if (!by_plan)
		health_check(d, t, inv->from, inv->from_len, inv->id, now);
}

static void
decided(struct daemon *d, struct stx *t, const struct inv *inv, int64_t now)
{
	decided_by(d, t, inv, now, false);
}

/* Both members are told of their new connection. */
static void
connected_events(struct stx *t, const struct inv *inv, int64_t now)
{
	events_conn(t, EV_CONN_CREATED, now, inv->from, inv->from_len, inv->to,
	    inv->to_len, now, true);
	events_conn(t, EV_CONN_CREATED, now, inv->to, inv->to_len, inv->from,
	    inv->from_len, now, true);
}

/* Closes an open invitation: new state, deadlines dropped, pair freed. */
static void
close_open(struct stx *t, struct inv *inv, enum inv_state to, int64_t at)
{
	struct due ex, st;
	struct pair pr;
	int old = inv->state;

	due_open_rows(inv, &ex, &st);
	store_due_del(t, &ex);
	if (inv->reminded_at == 0)
		store_due_del(t, &st);
	inv->state = (uint8_t)to;
	inv->updated_at = at;
	store_inv_put(t, inv, old);
	store_pair_get(t, inv->from, inv->from_len, inv->to, inv->to_len, &pr);
	if (pr.open_id == inv->id) {
		pr.open_id = 0;
		store_pair_put(t, inv->from, inv->from_len, inv->to,
		    inv->to_len, &pr);
	}
}

/* The key identical notes share in the notes log: the sender, then a hash
 * of the note trimmed and with ASCII case folded. */
static size_t
note_key(const struct send_req *r, char *buf, size_t cap)
{
	uint64_t h = UINT64_C(14695981039346656037);
	size_t a = 0, b = r->note.n, i;
	unsigned char ch;

	while (a < b && (r->note.p[a] == ' ' || r->note.p[a] == '\t' ||
	    r->note.p[a] == '\n'))
		a++;
	while (b > a && (r->note.p[b - 1] == ' ' || r->note.p[b - 1] == '\t' ||
	    r->note.p[b - 1] == '\n'))
		b--;
	for (i = a; i < b; i++) {
		ch = (unsigned char)r->note.p[i];
		if (ch >= 'A' && ch <= 'Z')
			ch = (unsigned char)(ch - 'A' + 'a');
		h = (h ^ ch) * UINT64_C(1099511628211);
	}
	return (size_t)snprintf(buf, cap, "%.*s:%016llx", (int)r->from.n,
	    r->from.p, (unsigned long long)h);
}

/* The invitations from -> to created after since; *oldest the first. */
struct pair_count {
	struct str from;
	int64_t since;
	uint64_t n;
	int64_t oldest;
	struct stx *t;
};

static bool
pair_count_one(void *ctx, uint64_t id)
{
	struct pair_count *pc = ctx;
	struct inv inv;

	if (store_inv_get(pc->t, id, &inv) != STORE_OK)
		return false;
	if (inv.from_len == pc->from.n &&
	    memcmp(inv.from, pc->from.p, pc->from.n) == 0 &&
	    inv.created_at > pc->since) {
		if (pc->n++ == 0)
			pc->oldest = inv.created_at;
	}
	return true;
}

/* How far to count toward a limit: to the limit, which is all the rules
 * need, or further when reporting a quota. */
static uint64_t
count_to(uint32_t limit, bool quota)
{
	return quota ? QUOTA_COUNT_MAX : limit;
}

void
invite_send_facts(struct daemon *d, struct stx *t, const struct send_req *r,
    bool quota, struct send_facts *f)
{
	const struct policy *p = &d->policy;
	struct member_rec to, from;
	struct pair ft, rt;
	struct pair_count pc;
	char nk[MEMBER_MAX_BYTES + 24];
	size_t nklen;
	int64_t now = daemon_now(d);

	memset(f, 0, sizeof *f);
	f->now = now;
	f->self = r->from.n == r->to.n &&
	    memcmp(r->from.p, r->to.p, r->to.n) == 0;
	f->connected = store_conn_get(t, r->from.p, r->from.n, r->to.p,
	    r->to.n) != 0;
	store_pair_get(t, r->from.p, r->from.n, r->to.p, r->to.n, &ft);
	store_pair_get(t, r->to.p, r->to.n, r->from.p, r->from.n, &rt);
	f->pending = ft.open_id != 0;
	f->reverse_pending = rt.open_id != 0;
	f->cooldown_until = ft.cooldown_until;
	f->note_chars = r->note.p ? utf8_chars(r->note.p, r->note.n) : 0;
	f->expires_in = r->expires_in;
	f->blocked = store_flag_get(t, FLAG_BLOCK, r->from.p, r->from.n,
	    r->to.p, r->to.n) || store_flag_get(t, FLAG_BLOCK, r->to.p,
	    r->to.n, r->from.p, r->from.n);
	f->nogo = store_flag_get(t, FLAG_NOGO, r->from.p, r->from.n, r->to.p,
	    r->to.n);
	store_member_get(t, r->to.p, r->to.n, &to);
	f->recipient_from = to.invitations_from;
	f->email_matches = r->email.p != NULL && to.email_len == r->email.n &&
	    strncasecmp(r->email.p, to.email, to.email_len) == 0;
	store_member_get(t, r->from.p, r->from.n, &from);
	f->restricted_until = from.restricted_until;
	f->pending_sent = from.open_sent;
	f->week_used = store_log_count(t, LOG_SENDS, r->from.p, r->from.n,
	    now - WEEK, count_to(p->sends_per_week, quota), &f->week_oldest);
	f->day_used = store_log_count(t, LOG_SENDS, r->from.p, r->from.n,
	    now - DAY_SECS, count_to(p->sends_per_day, quota), &f->day_oldest);
	memset(&pc, 0, sizeof pc);
	pc.from = r->from;
	pc.since = now - (int64_t)p->pair_window;
	pc.t = t;
	store_scan_history(t, r->from.p, r->from.n, r->to.p, r->to.n,
	    pair_count_one, &pc);
	f->pair_used = pc.n;
	f->pair_oldest = pc.oldest;
	if (f->note_chars > 0) {
		int64_t oldest;

		nklen = note_key(r, nk, sizeof nk);
		f->same_note = store_log_count(t, LOG_NOTES, nk, nklen,
		    now - WEEK, p->duplicate_note_warn, &oldest);
	}
}

/* Tells the sender of each warning its send carried. */
static void
warning_events(struct stx *t, const struct send_req *r, unsigned warnings,
    int64_t now)
{
	struct notice n;

	memset(&n, 0, sizeof n);
	if (warnings & WARN_PENDING) {
		n.code = "PENDING_WARN";
		n.message = "many of your invitations are pending: withdraw stale ones";
		events_notice(t, EV_LIMIT_WARNING, now, now, r->from.p,
		    r->from.n, &n);
	}
	if (warnings & WARN_DUPLICATE_NOTE) {
		n.code = "DUPLICATE_NOTE";
		n.message = "you sent the same note to many people this week: personalise it";
		events_notice(t, EV_LIMIT_WARNING, now, now, r->from.p,
		    r->from.n, &n);
	}
}

int
invite_send(struct daemon *d, struct stx *t, const struct send_req *r,
    struct inv *out, bool *connected, unsigned *warnings,
    struct proto_error *e)
{
	struct send_facts f;
	struct pair ft, rt;
	struct inv other;
	struct due ex, st;
	enum send_outcome outcome;
	char nk[MEMBER_MAX_BYTES + 24];
	int64_t now = daemon_now(d);

	*connected = false;
	*warnings = 0;
	invite_send_facts(d, t, r, false, &f);
	if (store_error(t) != STORE_OK)
		return invite_store_error(t, e);
	if (rules_send(&d->policy, &f, &outcome, warnings, e) == -1)
		return -1;
	store_pair_get(t, r->from.p, r->from.n, r->to.p, r->to.n, &ft);
	store_pair_get(t, r->to.p, r->to.n, r->from.p, r->from.n, &rt);
	if (r->note.n > NOTE_MAX_BYTES)
		return proto_fail(e, PE_NOTE_TOO_LONG, "the note is too long");

	memset(out, 0, sizeof *out);
	out->id = store_next_id(t);
	out->state = ST_PENDING;
	out->priority = (uint8_t)r->priority;
	out->attempt = ft.attempts + 1;
	out->created_at = out->updated_at = now;
	out->expires_at = now + (int64_t)(r->expires_in ? r->expires_in :
	    d->policy.expire_after);
	out->stale_at = now + (int64_t)d->policy.stale_after;
	if (out->stale_at >= out->expires_at)
		out->stale_at = out->expires_at;	/* it expires first */
	out->resend_of = r->resend_of;
	memcpy(out->from, r->from.p, r->from.n);
	out->from_len = r->from.n;
	memcpy(out->to, r->to.p, r->to.n);
	out->to_len = r->to.n;
	if (r->note.p != NULL)
		memcpy(out->note, r->note.p, r->note.n);
	out->note_len = r->note.p ? r->note.n : 0;
	ft.attempts++;

	if (outcome == SEND_MUTUAL) {
		/* Both want it: the earlier invitation is accepted, this one
		 * is born accepted, and they are connected. */
		if (store_inv_get(t, rt.open_id, &other) != STORE_OK)
			return invite_store_error(t, e);
		close_open(t, &other, ST_ACCEPTED, now);
		out->state = ST_ACCEPTED;
		store_inv_put(t, out, ST_COUNT);
		store_conn_put(t, r->from.p, r->from.n, r->to.p, r->to.n, now);
		*connected = true;
		events_inv(t, EV_ACCEPTED, now, now, &other, ROLE_SENDER, true, true);
		connected_events(t, out, now);
		decided(d, t, &other, now);
		decided(d, t, out, now);
	} else {
		store_inv_put(t, out, ST_COUNT);
		due_open_rows(out, &ex, &st);
		store_due_add(t, &ex);
		store_due_add(t, &st);
		ft.open_id = out->id;
		events_inv(t, EV_RECEIVED, now, now, out, ROLE_RECIPIENT, true, false);
	}
	store_pair_put(t, r->from.p, r->from.n, r->to.p, r->to.n, &ft);
	/* What the limits count: sends (resends too) and notes. */
	store_log_add(t, LOG_SENDS, r->from.p, r->from.n, now, out->id, 0);
	if (f.note_chars > 0)
		store_log_add(t, LOG_NOTES, nk, note_key(r, nk, sizeof nk), now,
		    out->id, 0);
	if (outcome == SEND_MUTUAL)
		*warnings = 0;
	warning_events(t, r, *warnings, now);
	if (store_error(t) != STORE_OK)
		return invite_store_error(t, e);
	return 0;
}

/* Loads id for actor and checks that actor may do act to it. */
static int
load_for(struct stx *t, uint64_t id, struct str actor, enum inv_action act,
    struct inv *inv, struct proto_error *e)
{
	enum role role;

	if (invite_load(t, id, actor, inv, &role, e) == -1)
		return -1;
	return rules_act(act, role, inv->state, e);
}

int
invite_accept(struct daemon *d, struct stx *t, struct str actor, uint64_t id,
    struct inv *out, struct proto_error *e)
{
	int64_t now = daemon_now(d);

	if (load_for(t, id, actor, ACT_ACCEPT, out, e) == -1)
		return -1;
	close_open(t, out, ST_ACCEPTED, now);
	store_conn_put(t, out->from, out->from_len, out->to, out->to_len, now);
	events_inv(t, EV_ACCEPTED, now, now, out, ROLE_SENDER, true, true);
	connected_events(t, out, now);
	decided(d, t, out, now);
	if (store_error(t) != STORE_OK)
		return invite_store_error(t, e);
	return 0;
}

int
invite_ignore(struct daemon *d, struct stx *t, struct str actor, uint64_t id,
    struct inv *out, struct proto_error *e)
{
	if (load_for(t, id, actor, ACT_IGNORE, out, e) == -1)
		return -1;
	/* Nothing the sender can see changes: updated_at, the deadlines and
	 * the pair's open invitation stay as they were. */
	out->state = ST_IGNORED;
	out->ignored = true;
	store_inv_put(t, out, ST_PENDING);
	/* Told to nobody: only the trusted `all` feed carries it. */
	events_inv(t, EV_IGNORED, daemon_now(d), daemon_now(d), out, ROLE_RECIPIENT, false,
	    false);
	if (store_error(t) != STORE_OK)
		return invite_store_error(t, e);
	return 0;
}

int
invite_withdraw(struct daemon *d, struct stx *t, struct str actor,
    uint64_t id, struct inv *out, int64_t *cooldown_until,
    struct proto_error *e)
{
	return invite_withdraw_by(d, t, actor, id, false, out, cooldown_until,
	    e);
}

int
invite_withdraw_by(struct daemon *d, struct stx *t, struct str actor,
    uint64_t id, bool by_plan, struct inv *out, int64_t *cooldown_until,
    struct proto_error *e)
{
	int64_t now = daemon_now(d), oldest;
	struct pair pr;
	struct due cd;
	uint64_t used;

	if (load_for(t, id, actor, ACT_WITHDRAW, out, e) == -1)
		return -1;
	used = d->policy.withdrawals_per_day == 0 ? 0 :
	    store_log_count(t, LOG_WITHDRAWALS, actor.p, actor.n,
	    now - DAY_SECS, d->policy.withdrawals_per_day, &oldest);
	if (rules_withdraw(&d->policy, used, oldest, e) == -1)
		return -1;
	close_open(t, out, ST_WITHDRAWN, now);
	store_log_add(t, LOG_WITHDRAWALS, actor.p, actor.n, now, out->id, 0);
	store_pair_get(t, out->from, out->from_len, out->to, out->to_len, &pr);
	pr.cooldown_until = rules_cooldown_until(&d->policy, now,
	    pr.withdrawals);
	pr.withdrawals++;
	store_pair_put(t, out->from, out->from_len, out->to, out->to_len, &pr);
	cd.at = pr.cooldown_until;
	cd.kind = DUE_COOLDOWN;
	cd.id = out->id;
	store_due_add(t, &cd);
	*cooldown_until = pr.cooldown_until;
	events_inv(t, EV_WITHDRAWN, now, now, out, ROLE_RECIPIENT,
	    d->policy.notify_recipient_on_withdraw, false);
	decided_by(d, t, out, now, by_plan);
	if (store_error(t) != STORE_OK)
		return invite_store_error(t, e);
	return 0;
}

int
invite_resend(struct daemon *d, struct stx *t, struct str actor, uint64_t id,
    struct str note, struct str email, uint64_t expires_in, struct inv *out,
    bool *connected, unsigned *warnings, struct proto_error *e)
{
	struct inv old;
	struct send_req r;

	memset(&r, 0, sizeof r);
	if (load_for(t, id, actor, ACT_RESEND, &old, e) == -1)
		return -1;
	r.from.p = old.from;
	r.from.n = old.from_len;
	r.to.p = old.to;
	r.to.n = old.to_len;
	if (note.p != NULL)
		r.note = note;
	else {
		r.note.p = old.note;
		r.note.n = old.note_len;
	}
	r.priority = old.priority;
	r.resend_of = old.id;
	r.email = email;
	r.expires_in = expires_in;
	return invite_send(d, t, &r, out, connected, warnings, e);
}

int
connection_remove(struct daemon *d, struct stx *t, struct str actor,
    struct str other, int64_t *since, struct proto_error *e)
{
	*since = store_conn_get(t, actor.p, actor.n, other.p, other.n);
	if (store_error(t) != STORE_OK)
		return invite_store_error(t, e);
	if (*since == 0)
		return proto_fail(e, PE_NOT_FOUND, "you are not connected");
	store_conn_del(t, actor.p, actor.n, other.p, other.n);
	/* Removal is quiet, as on LinkedIn: only the `all` feed has it. */
	events_conn(t, EV_CONN_REMOVED, daemon_now(d), actor.p, actor.n,
	    other.p, other.n, *since, false);
	if (store_error(t) != STORE_OK)
		return invite_store_error(t, e);
	return 0;
}

void
invite_on_due(struct daemon *d, struct stx *t, const struct due *due)
{
	struct inv inv;
	struct pair pr;

	store_due_del(t, due);
	if (due->kind == DUE_PLAN || store_inv_get(t, due->id, &inv) != STORE_OK)
		return;
	switch (due->kind) {
	case DUE_EXPIRE:
		if (rules_open(inv.state) && inv.expires_at == due->at) {
			log_debug("invitation %llu expired",
			    (unsigned long long)inv.id);
			close_open(t, &inv, ST_EXPIRED, due->at);
			events_inv(t, EV_EXPIRED, due->at, daemon_now(d), &inv, ROLE_SENDER,
			    true, false);
			decided(d, t, &inv, due->at);
		}
		break;
	case DUE_STALE:
		if (rules_open(inv.state) && inv.reminded_at == 0) {
			log_debug("invitation %llu is stale",
			    (unsigned long long)inv.id);
			inv.reminded_at = due->at;
			store_inv_put(t, &inv, inv.state);
			events_inv(t, EV_STALE, due->at, daemon_now(d), &inv, ROLE_SENDER,
			    true, false);
		}
		break;
	case DUE_PLAN:
		break;		/* timers.c sends these to plan.c */
	case DUE_RESTRICTION: {
		struct member_rec m;
		struct notice n;

		store_member_get(t, inv.from, inv.from_len, &m);
		if (m.restricted_until == due->at) {
			m.restricted_until = 0;
			store_member_put(t, inv.from, inv.from_len, &m);
			memset(&n, 0, sizeof n);
			n.message = "you may send invitations again";
			events_notice(t, EV_RESTRICTION_ENDED, due->at,
			    daemon_now(d), inv.from, inv.from_len, &n);
		}
		break;
	}
	case DUE_COOLDOWN:
		store_pair_get(t, inv.from, inv.from_len, inv.to, inv.to_len,
		    &pr);
		if (pr.cooldown_until == due->at) {
			log_debug("cooldown of invitation %llu ended",
			    (unsigned long long)inv.id);
			pr.cooldown_until = 0;
			store_pair_put(t, inv.from, inv.from_len, inv.to,
			    inv.to_len, &pr);
			events_inv(t, EV_COOLDOWN_ENDED, due->at,
			    daemon_now(d), &inv,
			    ROLE_SENDER, true, false);
		}
		break;
	}
}

/* Withdraws an open invitation from -> to, if any, without a cooldown and
 * without telling anyone (the all feed has it). */
static void
withdraw_quietly(struct stx *t, const char *from, size_t flen, const char *to,
    size_t tlen, int64_t now)
{
	struct pair pr;
	struct inv inv;

	store_pair_get(t, from, flen, to, tlen, &pr);
	if (pr.open_id == 0 || store_inv_get(t, pr.open_id, &inv) != STORE_OK)
		return;
	close_open(t, &inv, ST_WITHDRAWN, now);
	events_inv(t, EV_WITHDRAWN, now, now, &inv, ROLE_RECIPIENT, false, false);
}

int
member_block(struct daemon *d, struct stx *t, struct str actor,
    struct str other, bool on, struct proto_error *e)
{
	int64_t now = daemon_now(d), since;

	if (actor.n == other.n && memcmp(actor.p, other.p, actor.n) == 0)
		return proto_fail(e, PE_INVALID_ARGUMENT,
		    "you cannot block yourself");
	store_flag_set(t, FLAG_BLOCK, actor.p, actor.n, other.p, other.n, on);
	if (on) {
		withdraw_quietly(t, actor.p, actor.n, other.p, other.n, now);
		withdraw_quietly(t, other.p, other.n, actor.p, actor.n, now);
		since = store_conn_get(t, actor.p, actor.n, other.p, other.n);
		if (since != 0) {
			store_conn_del(t, actor.p, actor.n, other.p, other.n);
			events_conn(t, EV_CONN_REMOVED, now, actor.p, actor.n,
			    other.p, other.n, since, false);
		}
	}
	if (store_error(t) != STORE_OK)
		return invite_store_error(t, e);
	return 0;
}

int
invite_report(struct daemon *d, struct stx *t, struct str actor, uint64_t id,
    bool dont_know, struct inv *out, struct proto_error *e)
{
	int64_t now = daemon_now(d);
	enum role role;
	int old;

	if (invite_load(t, id, actor, out, &role, e) == -1)
		return -1;
	if (role != ROLE_RECIPIENT)
		return proto_fail(e, PE_NOT_PERMITTED,
		    "only the recipient of an invitation may report it");
	if (!rules_open(out->state))
		return proto_fail(e, PE_INVALID_STATE,
		    "the invitation is %s; only a pending one can be reported",
		    state_names[rules_view(out->state, out->ignored, role)]);
	if (out->reported)
		return proto_fail(e, PE_INVALID_STATE,
		    "you already reported this invitation");
	/* As an ignore: the sender never learns. */
	old = out->state;
	out->state = ST_IGNORED;
	out->ignored = true;
	out->reported = true;
	store_inv_put(t, out, old);
	events_inv(t, EV_IGNORED, now, now, out, ROLE_RECIPIENT, false, false);
	store_log_add(t, LOG_REPORTS, out->from, out->from_len, now, out->id,
	    dont_know ? 1 : 2);
	if (dont_know)
		store_flag_set(t, FLAG_NOGO, out->from, out->from_len, out->to,
		    out->to_len, true);
	health_check(d, t, out->from, out->from_len, out->id, now);
	if (store_error(t) != STORE_OK)
		return invite_store_error(t, e);
	return 0;
}
