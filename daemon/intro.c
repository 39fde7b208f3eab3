/* daemon/intro.c: see intro.h. */
#include "intro.h"

#include <string.h>

#include "../common/util.h"
#include "events.h"
#include "inv.h"
#include "invite.h"

/* How many of from's asks, newest first, an ask looks through for one to
 * the same member still open: they are at most expire_after old, and a
 * member asks few. */
#define ASKS_SCAN_MAX 1000

static bool
str_eq(struct str a, const char *b, size_t blen)
{
	return a.n == blen && memcmp(a.p, b, blen) == 0;
}

enum intro_role
intro_role_of(const struct intro *in, struct str actor)
{
	if (str_eq(actor, in->from, in->from_len))
		return IROLE_FROM;
	if (str_eq(actor, in->via, in->via_len))
		return IROLE_VIA;
	return IROLE_OTHER;
}

int
intro_load(struct stx *t, uint64_t id, struct str actor, struct intro *out,
    enum intro_role *role, struct proto_error *e)
{
	int rc = store_intro_get(t, id, out);

	if (rc == STORE_NOTFOUND)
		return proto_fail(e, PE_NOT_FOUND, "no introduction %llu",
		    (unsigned long long)id);
	if (rc != STORE_OK)
		return op_store_error(t, e);
	*role = intro_role_of(out, actor);
	return rules_intro_see(*role, id, e);
}

/* Whether an invitation between a and b is open either way. */
static bool
open_between(struct op *o, struct str a, struct str b)
{
	struct pair pr;
	struct inv inv;
	int way;

	for (way = 0; way < 2; way++) {
		if (way == 0)
			store_pair_get(o->t, a.p, a.n, b.p, b.n, &pr);
		else
			store_pair_get(o->t, b.p, b.n, a.p, a.n, &pr);
		if (pr.open_id == 0 ||
		    store_inv_get(o->t, pr.open_id, &inv) != STORE_OK)
			continue;
		inv_as_of(&inv, o->now);
		if (rules_open((enum inv_state)inv.state))
			return true;
	}
	return false;
}

/* from's asks to `to` that from sees asked. */
struct asked_scan {
	struct op *o;
	struct str to;
	unsigned scanned;
	bool asked;
};

static bool
asked_one(void *ctx, uint64_t id)
{
	struct asked_scan *a = ctx;
	struct intro in;

	if (++a->scanned > ASKS_SCAN_MAX ||
	    store_intro_get(a->o->t, id, &in) != STORE_OK)
		return false;
	if (in.created_at + (int64_t)a->o->policy->expire_after < a->o->now &&
	    in.expires_at <= a->o->now)
		return false;	/* older ones have expired too */
	if (str_eq(a->to, in.to, in.to_len) &&
	    rules_intro_view((enum intro_state)in.state, in.told,
	    in.expires_at, a->o->now, IROLE_FROM) == INTRO_ASKED) {
		a->asked = true;
		return false;
	}
	return true;
}

int
intro_ask(struct op *o, const struct intro_ask_req *r, struct intro *out,
    struct proto_error *e)
{
	struct stx *t = o->t;
	struct intro_facts f;
	struct asked_scan as;
	struct member_rec to, from;
	int64_t now = o->now;

	memset(&f, 0, sizeof f);
	f.now = now;
	f.self = r->from.n == r->to.n &&
	    memcmp(r->from.p, r->to.p, r->to.n) == 0;
	f.via_party = str_eq(r->via, r->from.p, r->from.n) ||
	    str_eq(r->via, r->to.p, r->to.n);
	f.via_from = store_conn_get(t, r->via.p, r->via.n, r->from.p,
	    r->from.n) != 0;
	f.via_to = store_conn_get(t, r->via.p, r->via.n, r->to.p,
	    r->to.n) != 0;
	f.connected = store_conn_get(t, r->from.p, r->from.n, r->to.p,
	    r->to.n) != 0;
	store_member_get(t, r->to.p, r->to.n, &to);
	f.closed = store_flag_get(t, FLAG_BLOCK, r->from.p, r->from.n,
	    r->to.p, r->to.n) || store_flag_get(t, FLAG_BLOCK, r->to.p,
	    r->to.n, r->from.p, r->from.n) || store_flag_get(t, FLAG_NOGO,
	    r->from.p, r->from.n, r->to.p, r->to.n) ||
	    to.invitations_from == FROM_NOBODY;
	f.email_only = to.invitations_from == FROM_EMAIL;
	f.pending = open_between(o, r->from, r->to);
	memset(&as, 0, sizeof as);
	as.o = o;
	as.to = r->to;
	store_scan_intros(t, IBOX_ASKED, r->from.p, r->from.n, 0, asked_one,
	    &as);
	f.asked = as.asked;
	f.note_chars = r->note.p ? utf8_chars(r->note.p, r->note.n) : 0;
	store_member_get(t, r->from.p, r->from.n, &from);
	f.restricted_until = from.restricted_until;
	if (store_error(t) != STORE_OK)
		return op_store_error(t, e);
	if (rules_intro_ask(o->policy, &f, e) == -1)
		return -1;
	if (r->note.n > NOTE_MAX_BYTES)
		return proto_fail(e, PE_NOTE_TOO_LONG, "the note is too long");

	memset(out, 0, sizeof *out);
	out->id = store_next_id(t);
	out->state = INTRO_ASKED;
	out->created_at = out->updated_at = now;
	out->expires_at = now + (int64_t)o->policy->expire_after;
	memcpy(out->from, r->from.p, r->from.n);
	out->from_len = r->from.n;
	memcpy(out->via, r->via.p, r->via.n);
	out->via_len = r->via.n;
	memcpy(out->to, r->to.p, r->to.n);
	out->to_len = r->to.n;
	if (r->note.p != NULL)
		memcpy(out->note, r->note.p, r->note.n);
	out->note_len = r->note.p ? r->note.n : 0;
	store_intro_put(t, out);
	store_due_add(t, &(struct due){ out->expires_at, DUE_INTRO_EXPIRE,
	    out->id });
	events_intro(t, EV_INTRO_ASKED, now, now, out, IROLE_VIA, NULL, true);
	return op_done(t, e);
}

/* Loads id for via to act on (act), as via sees it at now. */
static int
load_for(struct op *o, struct str actor, uint64_t id, enum intro_action act,
    struct intro *in, struct proto_error *e)
{
	enum intro_role role;

	if (intro_load(o->t, id, actor, in, &role, e) == -1)
		return -1;
	return rules_intro_act(act, role, rules_intro_view(
	    (enum intro_state)in->state, in->told, in->expires_at, o->now,
	    role), id, e);
}

int
intro_forward(struct op *o, struct str actor, uint64_t id, struct str note,
    struct intro *out, struct inv *inv, bool *connected, unsigned *warnings,
    struct proto_error *e)
{
	struct stx *t = o->t;
	struct send_req r;

	*connected = false;
	*warnings = 0;
	if (load_for(o, actor, id, IACT_FORWARD, out, e) == -1)
		return -1;
	if (store_conn_get(t, out->via, out->via_len, out->from,
	    out->from_len) == 0 || store_conn_get(t, out->via, out->via_len,
	    out->to, out->to_len) == 0) {
		if (store_error(t) != STORE_OK)
			return op_store_error(t, e);
		return proto_fail(e, PE_NOT_PERMITTED,
		    "you are no longer connected to both");
	}
	/* The ordinary send, in from's name: a refusal is the forward's,
	 * and the caller discards what was written. */
	memset(&r, 0, sizeof r);
	r.from = (struct str){ out->from, out->from_len };
	r.to = (struct str){ out->to, out->to_len };
	r.via = (struct str){ out->via, out->via_len };
	r.note = note;
	r.priority = PRIO_MEDIUM;
	if (invite_send(o, &r, inv, connected, warnings, e) == -1) {
		switch (e->code) {
		case PE_INVALID_ARGUMENT:
		case PE_NOTE_TOO_LONG:	/* C's own note */
		case PE_STORE_FULL:
		case PE_INTERNAL:
		case PE_UNAVAILABLE:
			return -1;
		default:
			/* Why the send was refused (A's limits, cooldown or
			 * restriction, B's settings, blocks, an invitation
			 * between them) is A's or B's, not C's to learn. */
			e->retry_at = 0;
			e->oldest = 0;
			return proto_fail(e, PE_NOT_PERMITTED,
			    "the invitation cannot be sent now; the introduction stays asked");
		}
	}
	out->state = INTRO_FORWARDED;
	out->inv_id = inv->id;
	out->updated_at = o->now;
	store_intro_put(t, out);
	store_due_del(t, &(struct due){ out->expires_at, DUE_INTRO_EXPIRE,
	    out->id });
	events_intro(t, EV_INTRO_FORWARDED, o->now, o->now, out, IROLE_FROM,
	    inv, true);
	return op_done(t, e);
}

int
intro_decline(struct op *o, struct str actor, uint64_t id, bool tell,
    struct intro *out, struct proto_error *e)
{
	struct stx *t = o->t;

	if (load_for(o, actor, id, IACT_DECLINE, out, e) == -1)
		return -1;
	out->state = INTRO_DECLINED;
	out->told = tell;
	out->updated_at = o->now;
	store_intro_put(t, out);
	/* Told to from only when via says so; otherwise the `all` feed
	 * alone has it, as via's, and the expiry stays due: from is told
	 * it expired as of one never answered. */
	if (tell) {
		store_due_del(t, &(struct due){ out->expires_at,
		    DUE_INTRO_EXPIRE, out->id });
		events_intro(t, EV_INTRO_DECLINED, o->now, o->now, out,
		    IROLE_FROM, NULL, true);
	} else
		events_intro(t, EV_INTRO_DECLINED, o->now, o->now, out,
		    IROLE_VIA, NULL, false);
	return op_done(t, e);
}

void
intro_on_due(struct op *o, const struct due *due)
{
	struct intro in;

	if (store_intro_get(o->t, due->id, &in) != STORE_OK ||
	    in.expires_at != due->at ||
	    rules_intro_view((enum intro_state)in.state, in.told,
	    in.expires_at, due->at, IROLE_FROM) != INTRO_EXPIRED)
		return;
	log_debug("introduction %llu expired", (unsigned long long)in.id);
	events_intro(o->t, EV_INTRO_EXPIRED, due->at, o->now, &in,
	    IROLE_FROM, NULL, true);
	if (in.state == INTRO_ASKED)
		events_intro(o->t, EV_INTRO_EXPIRED, due->at, o->now, &in,
		    IROLE_VIA, NULL, true);
}
