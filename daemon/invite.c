/* daemon/invite.c: see invite.h. */
#include "invite.h"

#include <string.h>
#include <strings.h>

#include "../common/util.h"
#include "events.h"
#include "inv.h"
#include "member.h"
#include "remind.h"

/* Both members are told of their new connection. */
static void
connected_events(struct stx *t, const struct inv *inv, int64_t now)
{
	events_conn(t, EV_CONN_CREATED, now, inv->from, inv->from_len, inv->to,
	    inv->to_len, now, true);
	events_conn(t, EV_CONN_CREATED, now, inv->to, inv->to_len, inv->from,
	    inv->from_len, now, true);
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

/* Invitation id is open as of now: not closed, nor past its expiry with
 * the expiry still waiting for its turn (reads write nothing, so they take
 * it as expired, as it will be). */
static bool
open_now(struct op *o, uint64_t id)
{
	struct inv inv;

	if (id == 0)
		return false;
	if (store_inv_get(o->t, id, &inv) != STORE_OK)
		return true;	/* as the pair says; the error is sticky */
	inv_as_of(&inv, o->now);
	return rules_open((enum inv_state)inv.state);
}

void
invite_send_hint(struct op *o, const struct send_req *r)
{
	char nk[MEMBER_MAX_BYTES + 24];
	bool note = r->note.p != NULL && utf8_chars(r->note.p, r->note.n) > 0;

	store_hint_send(o->t, r->from.p, r->from.n, r->to.p, r->to.n,
	    o->now - WEEK, note ? nk : NULL,
	    note ? note_key(r, nk, sizeof nk) : 0);
}

void
invite_send_facts(struct op *o, const struct send_req *r,
    bool quota, struct send_facts *f)
{
	struct stx *t = o->t;
	const struct policy *p = o->policy;
	struct member_rec to, from;
	struct pair ft, rt;
	struct pair_count pc;
	char nk[MEMBER_MAX_BYTES + 24];
	size_t nklen;
	int64_t now = o->now;

	invite_send_hint(o, r);
	memset(f, 0, sizeof *f);
	f->now = now;
	f->self = r->from.n == r->to.n &&
	    memcmp(r->from.p, r->to.p, r->to.n) == 0;
	f->connected = store_conn_get(t, r->from.p, r->from.n, r->to.p,
	    r->to.n) != 0;
	store_pair_get(t, r->from.p, r->from.n, r->to.p, r->to.n, &ft);
	store_pair_get(t, r->to.p, r->to.n, r->from.p, r->from.n, &rt);
	f->pending = open_now(o, ft.open_id);
	f->reverse_pending = open_now(o, rt.open_id);
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


/* The window health is judged over for a hold: stats.get's default. */
#define HOLD_HEALTH_WINDOW (90 * 86400ULL)

/* Whether the recipient's filters hold a send from -> to (rules_hold);
 * the facts each needs are gathered only when it is on. */
static enum hold_reason
send_held(struct op *o, struct str from, struct str to,
    const struct member_rec *sender, const struct member_rec *recipient)
{
	struct hold_filters h;
	struct hold_facts f;
	struct member_stats ms;
	struct proto_error e;

	h = member_hold_filters(o->policy, recipient);
	memset(&f, 0, sizeof f);
	f.now = o->now;
	f.mutual = true;
	f.health = HEALTH_INSUFFICIENT;
	if (h.no_mutual)
		f.mutual = store_mutual_count(o->t, from.p, from.n, to.p,
		    to.n, 1) > 0;
	if (h.low_health && member_stats(o, from, HOLD_HEALTH_WINDOW, &ms,
	    &e) == 0)
		f.health = rules_health(o->policy, ms.accepted, ms.decided);
	f.restricted_at = sender->restricted_at;
	/* A sender without a record yet is seen first now; 1 is a record
	 * from before connreq kept the date: long ago. */
	f.first_seen_at = sender->first_seen_at == 0 ? o->now :
	    sender->first_seen_at;
	return rules_hold(&h, &f);
}

/* Tells the sender of each warning its send carried. */
static void
warning_events(struct stx *t, const struct send_req *r, unsigned warnings,
    int64_t now)
{
	struct notice n;
	int w;

	memset(&n, 0, sizeof n);
	for (w = 0; w < PW_COUNT; w++) {
		if (!(warnings & WARN_BIT(w)))
			continue;
		n.code = proto_warning_codes[w];
		n.message = proto_warning_messages[w];
		events_notice(t, EV_LIMIT_WARNING, now, now, r->from.p,
		    r->from.n, &n);
	}
}

/* Issue 12: whether r's recipient accepts it at once (rules_auto_accept):
 * the recipient listed the sender, or they share at least the recipient's
 * auto_min_mutual, before its auto_until. Counted only when it can
 * matter. */
static bool
auto_accepts(struct op *o, const struct send_req *r)
{
	struct member_rec to;
	struct auto_facts af;

	store_member_get(o->t, r->to.p, r->to.n, &to);
	memset(&af, 0, sizeof af);
	af.now = o->now;
	af.until = to.auto_until;
	af.min_mutual = to.auto_min_mutual;
	if (af.until != 0 && af.now >= af.until)
		return false;
	af.listed = store_flag_get(o->t, FLAG_AUTOACCEPT, r->to.p, r->to.n,
	    r->from.p, r->from.n);
	if (!af.listed && af.min_mutual > 0)
		af.mutual = store_mutual_count(o->t, r->from.p, r->from.n,
		    r->to.p, r->to.n, af.min_mutual);
	return rules_auto_accept(&af);
}

int
invite_send(struct op *o, const struct send_req *r,
    struct inv *out, bool *connected, unsigned *warnings,
    struct proto_error *e)
{
	struct stx *t = o->t;
	struct send_facts f;
	struct pair ft, rt;
	struct inv other;
	struct due ex, st;
	struct member_rec sender, recipient;
	enum send_outcome outcome;
	char nk[MEMBER_MAX_BYTES + 24];
	int64_t now = o->now;

	*connected = false;
	*warnings = 0;
	invite_send_hint(o, r);
	/* An open invitation between them that is past its expiry expires
	 * first: it is neither pending nor there to accept mutually. */
	store_pair_get(t, r->from.p, r->from.n, r->to.p, r->to.n, &ft);
	invite_catch_up(o, ft.open_id);
	store_pair_get(t, r->to.p, r->to.n, r->from.p, r->from.n, &rt);
	invite_catch_up(o, rt.open_id);
	invite_send_facts(o, r, false, &f);
	if (store_error(t) != STORE_OK)
		return op_store_error(t, e);
	if (rules_send(o->policy, &f, &outcome, warnings, e) == -1)
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
	    o->policy->expire_after);
	out->stale_at = now + (int64_t)o->policy->stale_after;
	if (out->stale_at >= out->expires_at)
		out->stale_at = out->expires_at;	/* it expires first */
	out->remind_at = rules_remind_at(o->policy, now, out->expires_at,
	    out->held);
	out->resend_of = r->resend_of;
	memcpy(out->from, r->from.p, r->from.n);
	out->from_len = r->from.n;
	memcpy(out->to, r->to.p, r->to.n);
	out->to_len = r->to.n;
	if (r->note.p != NULL)
		memcpy(out->note, r->note.p, r->note.n);
	out->note_len = r->note.p ? r->note.n : 0;
	if (r->via.p != NULL && r->via.n <= MEMBER_MAX_BYTES) {
		memcpy(out->via, r->via.p, r->via.n);
		out->via_len = r->via.n;
	}
	ft.attempts++;

	/* Both are seen now, if never before: a member who only received
	 * invitations is not new when it first sends one. */
	member_seen(o, r->from);
	member_seen(o, r->to);
	if (outcome == SEND_MUTUAL) {
		/* Both want it: the earlier invitation is accepted, this one
		 * is born accepted, and they are connected. */
		if (store_inv_get(t, rt.open_id, &other) != STORE_OK)
			return op_store_error(t, e);
		other.held = false;	/* released, as by an accept */
		inv_close(t, &other, ST_ACCEPTED, now);
		remind_gone(o, &other);
		out->state = ST_ACCEPTED;
		out->remind_at = 0;
		store_inv_put(t, out, ST_COUNT);
		store_conn_put(t, r->from.p, r->from.n, r->to.p, r->to.n, now);
		*connected = true;
		events_inv(t, EV_ACCEPTED, now, now, &other, ROLE_SENDER, true, true);
		connected_events(t, out, now);
		member_decided(o, &other, now, false);
		member_decided(o, out, now, false);
	} else if (auto_accepts(o, r)) {
		/* The recipient's auto-accept rules: accepted at once, as
		 * invite.accept would (its events, connection, decision),
		 * and never held. */
		out->state = ST_ACCEPTED;
		out->automatic = true;
		out->remind_at = 0;	/* nothing waits */
		store_inv_put(t, out, ST_COUNT);
		store_conn_put(t, r->from.p, r->from.n, r->to.p, r->to.n, now);
		*connected = true;
		events_inv(t, EV_ACCEPTED, now, now, out, ROLE_SENDER, true,
		    true);
		connected_events(t, out, now);
		member_decided(o, out, now, false);
	} else {
		/* The recipient's filters may hold it: then the recipient is
		 * not told, and only the `all` feed has it, as
		 * invitation.held. Its sender sees an invitation like any. */
		store_member_get(t, r->from.p, r->from.n, &sender);
		store_member_get(t, r->to.p, r->to.n, &recipient);
		out->held = send_held(o, r->from, r->to, &sender, &recipient) !=
		    HOLD_NONE;
		if (out->held)
			out->remind_at = 0;	/* never about a held one */
		store_inv_put(t, out, ST_COUNT);
		inv_due_rows(out, &ex, &st);
		store_due_add(t, &ex);
		store_due_add(t, &st);
		ft.open_id = out->id;
		if (out->held)
			events_inv(t, EV_HELD, now, now, out, ROLE_RECIPIENT,
			    false, false);
		else {
			remind_received(o, out);
			events_inv(t, EV_RECEIVED, now, now, out,
			    ROLE_RECIPIENT, true, false);
		}
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
	return op_done(t, e);
}

void
invite_catch_up(struct op *o, uint64_t id)
{
	struct due ex, st;
	struct inv inv;

	if (id == 0 || store_inv_get(o->t, id, &inv) != STORE_OK ||
	    !inv_overdue(&inv, o->now))
		return;
	/* In timers_run's order: by time, the expiry first at the same time
	 * (it cancels the reminder). Each row goes, so its turn in the
	 * backlog finds nothing. */
	inv_due_rows(&inv, &ex, &st);
	if (inv.reminded_at == 0 && st.at <= o->now && st.at < ex.at) {
		store_due_del(o->t, &st);
		invite_on_due(o, &st);
	}
	if (ex.at <= o->now) {
		store_due_del(o->t, &ex);
		invite_on_due(o, &ex);
	}
}

/* Loads id for actor and checks that actor may do act to it; its own due
 * deadlines are handled first (catch_up), so no one acts on an invitation
 * that has expired. */
static int
load_for(struct op *o, uint64_t id, struct str actor, enum inv_action act,
    bool catch_up, struct inv *inv, struct proto_error *e)
{
	struct stx *t = o->t;
	struct act_facts f;

	if (catch_up)
		invite_catch_up(o, id);
	if (inv_load(t, id, actor, inv, &f.role, e) == -1)
		return -1;
	f.id = inv->id;
	f.st = (enum inv_state)inv->state;
	f.ignored = inv->ignored;
	f.reported = inv->reported;
	f.blocked = f.role == ROLE_RECIPIENT && f.st == ST_IGNORED &&
	    store_flag_get(t, FLAG_BLOCK, inv->to, inv->to_len, inv->from,
	    inv->from_len);
	return rules_act(act, &f, e);
}

int
invite_accept(struct op *o, struct str actor, uint64_t id,
    struct inv *out, struct proto_error *e)
{
	struct stx *t = o->t;
	int64_t now = o->now;

	if (load_for(o, id, actor, ACT_ACCEPT, true, out, e) == -1)
		return -1;
	out->held = false;	/* an accept releases a held one */
	inv_close(t, out, ST_ACCEPTED, now);
	remind_gone(o, out);
	store_conn_put(t, out->from, out->from_len, out->to, out->to_len, now);
	events_inv(t, EV_ACCEPTED, now, now, out, ROLE_SENDER, true, true);
	connected_events(t, out, now);
	member_decided(o, out, now, false);
	return op_done(t, e);
}

int
invite_ignore(struct op *o, struct str actor, uint64_t id,
    struct inv *out, struct proto_error *e)
{
	struct stx *t = o->t;

	if (load_for(o, id, actor, ACT_IGNORE, true, out, e) == -1)
		return -1;
	/* Nothing the sender can see changes: updated_at, the deadlines and
	 * the pair's open invitation stay as they were. */
	out->state = ST_IGNORED;
	out->ignored = true;
	out->held = false;	/* from the held box to the ignored one */
	store_inv_put(t, out, ST_PENDING);
	remind_gone(o, out);
	/* Told to nobody: only the trusted `all` feed carries it. */
	events_inv(t, EV_IGNORED, o->now, o->now, out, ROLE_RECIPIENT, false,
	    false);
	return op_done(t, e);
}

int
invite_unignore(struct op *o, struct str actor, uint64_t id,
    struct inv *out, struct proto_error *e)
{
	struct stx *t = o->t;

	if (load_for(o, id, actor, ACT_UNIGNORE, true, out, e) == -1)
		return -1;
	/* As the ignore: nothing the sender can see changes (updated_at,
	 * the deadlines, the pair's open invitation). It goes back to the
	 * received box, not to the held one: the recipient has seen it. */
	out->state = ST_PENDING;
	out->ignored = false;
	out->held = false;
	store_inv_put(t, out, ST_IGNORED);
	/* Waiting again: its reminder, if not yet due (one whose time
	 * passed while it was ignored is not sent late), and the digest. */
	{
		struct inv back = *out;

		if (back.remind_at <= o->now)
			back.remind_at = 0;
		remind_received(o, &back);
	}
	/* Told to nobody, as the ignore: only the `all` feed carries it (the
	 * recipient's feed still has its invitation.received). */
	events_inv(t, EV_UNIGNORED, o->now, o->now, out, ROLE_RECIPIENT,
	    false, false);
	return op_done(t, e);
}

int
invite_withdraw(struct op *o, struct str actor,
    uint64_t id, struct inv *out, int64_t *cooldown_until,
    struct proto_error *e)
{
	return invite_withdraw_by(o, actor, id, false, out, cooldown_until,
	    e);
}

int
invite_withdraw_by(struct op *o, struct str actor,
    uint64_t id, bool by_plan, struct inv *out, int64_t *cooldown_until,
    struct proto_error *e)
{
	struct stx *t = o->t;
	int64_t now = o->now, oldest = 0;
	struct pair pr;
	struct due cd;
	uint64_t used;
	bool told;

	if (load_for(o, id, actor, ACT_WITHDRAW, !by_plan, out, e) == -1)
		return -1;
	used = o->policy->withdrawals_per_day == 0 ? 0 :
	    store_log_count(t, LOG_WITHDRAWALS, actor.p, actor.n,
	    now - DAY_SECS, o->policy->withdrawals_per_day, &oldest);
	if (rules_withdraw(o->policy, used, oldest, e) == -1)
		return -1;
	inv_close(t, out, ST_WITHDRAWN, now);
	remind_gone(o, out);
	store_log_add(t, LOG_WITHDRAWALS, actor.p, actor.n, now, out->id, 0);
	store_pair_get(t, out->from, out->from_len, out->to, out->to_len, &pr);
	pr.cooldown_until = rules_cooldown_until(o->policy, now,
	    pr.withdrawals);
	pr.withdrawals++;
	store_pair_put(t, out->from, out->from_len, out->to, out->to_len, &pr);
	cd.at = pr.cooldown_until;
	cd.kind = DUE_COOLDOWN;
	cd.id = out->id;
	store_due_add(t, &cd);
	*cooldown_until = pr.cooldown_until;
	/* A held one was never told to its recipient: nor is its end. */
	told = o->policy->notify_recipient_on_withdraw && !out->held;
	events_inv(t, EV_WITHDRAWN, now, now, out, ROLE_RECIPIENT, told,
	    false);
	if (rules_unsay_on_withdraw(told))
		events_unsay_received(t, out);
	member_decided(o, out, now, by_plan);
	return op_done(t, e);
}

int
invite_resend(struct op *o, struct str actor, uint64_t id,
    struct str note, struct str email, uint64_t expires_in, struct inv *out,
    bool *connected, unsigned *warnings, struct proto_error *e)
{
	struct inv old;
	struct send_req r;

	memset(&r, 0, sizeof r);
	if (load_for(o, id, actor, ACT_RESEND, true, &old, e) == -1)
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
	return invite_send(o, &r, out, connected, warnings, e);
}

/* Earlier invitations to the same person: did one expire? */
struct earlier {
	struct stx *t;
	int64_t now;
	const struct inv *of;
	bool expired;
	bool newer;		/* a later one exists */
};

static bool
earlier_one(void *ctx, uint64_t id)
{
	struct earlier *er = ctx;
	struct inv inv;

	if (id == er->of->id || store_inv_get(er->t, id, &inv) != STORE_OK)
		return true;
	inv_as_of(&inv, er->now);
	if (inv.from_len != er->of->from_len ||
	    memcmp(inv.from, er->of->from, inv.from_len) != 0)
		return true;	/* the other direction */
	if (id > er->of->id)
		er->newer = true;
	else if (inv.state == ST_EXPIRED)
		er->expired = true;
	return true;
}

struct advise {
	struct op *o;
	uint32_t scanned, scan_max;
	invite_advice_fn fn;
	void *ctx;
};

static bool
advise_one(void *ctx, uint64_t id)
{
	struct advise *a = ctx;
	struct advice_facts f;
	struct advice_item ad;
	struct earlier er;
	struct pair pr;
	struct inv inv;

	if (++a->scanned > a->scan_max)
		return false;
	if (store_inv_get(a->o->t, id, &inv) != STORE_OK)
		return false;
	inv_as_of(&inv, a->o->now);
	memset(&f, 0, sizeof f);
	f.seen = rules_view((enum inv_state)inv.state, inv.ignored,
	    ROLE_SENDER);
	f.priority = (enum priority)inv.priority;
	if (!rules_advice_considers(f.seen, f.priority))
		return true;	/* spare the reads below */
	f.age = (uint64_t)(a->o->now - inv.created_at);
	memset(&er, 0, sizeof er);
	er.t = a->o->t;
	er.now = a->o->now;
	er.of = &inv;
	store_scan_history(a->o->t, inv.from, inv.from_len, inv.to,
	    inv.to_len, earlier_one, &er);
	f.earlier_expired = er.expired;
	f.latest = !er.newer;
	store_pair_get(a->o->t, inv.from, inv.from_len, inv.to, inv.to_len,
	    &pr);
	f.cooldown_over = pr.cooldown_until <= a->o->now && pr.open_id == 0;
	ad.advice = rules_advise(a->o->policy, &f, ad.reason,
	    sizeof ad.reason);
	if (ad.advice == ADV_NONE)
		return true;
	ad.seen = f.seen;
	ad.age = f.age;
	return a->fn(a->ctx, &inv, &ad);
}

void
invite_advise(struct op *o, struct str member, uint32_t scan_max,
    invite_advice_fn fn, void *ctx)
{
	struct advise a = { o, 0, scan_max, fn, ctx };

	store_scan_box(o->t, BOX_SENT, member.p, member.n, 0, advise_one, &a);
}

void
invite_on_due(struct op *o, const struct due *due)
{
	struct stx *t = o->t;
	struct inv inv;
	struct pair pr;

	if (store_inv_get(t, due->id, &inv) != STORE_OK)
		return;
	switch (due->kind) {
	case DUE_EXPIRE:
		if (rules_open(inv.state) && inv.expires_at == due->at) {
			log_debug("invitation %llu expired",
			    (unsigned long long)inv.id);
			inv_close(t, &inv, ST_EXPIRED, due->at);
			remind_gone(o, &inv);
			events_inv(t, EV_EXPIRED, due->at, o->now, &inv, ROLE_SENDER,
			    true, false);
			member_decided(o, &inv, due->at, false);
		}
		break;
	case DUE_STALE:
		if (rules_open(inv.state) && inv.reminded_at == 0) {
			log_debug("invitation %llu is stale",
			    (unsigned long long)inv.id);
			inv.reminded_at = due->at;
			store_inv_put(t, &inv, inv.state);
			events_inv(t, EV_STALE, due->at, o->now, &inv, ROLE_SENDER,
			    true, false);
		}
		break;
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
			    o->now, &inv,
			    ROLE_SENDER, true, false);
		}
		break;
	}
}

int
invite_report(struct op *o, struct str actor, uint64_t id,
    bool dont_know, struct inv *out, struct proto_error *e)
{
	struct stx *t = o->t;
	int64_t now = o->now;
	int old;

	if (load_for(o, id, actor, ACT_REPORT, true, out, e) == -1)
		return -1;
	/* As an ignore: the sender never learns. */
	old = out->state;
	out->state = ST_IGNORED;
	out->ignored = true;
	out->reported = true;
	out->held = false;
	store_inv_put(t, out, old);
	remind_gone(o, out);
	events_inv(t, EV_IGNORED, now, now, out, ROLE_RECIPIENT, false, false);
	store_log_add(t, LOG_REPORTS, out->from, out->from_len, now, out->id,
	    dont_know ? 1 : 2);
	if (dont_know)
		store_flag_set(t, FLAG_NOGO, out->from, out->from_len, out->to,
		    out->to_len, true);
	member_health_check(o, (struct str){ out->from, out->from_len },
	    out->id);
	return op_done(t, e);
}
