/* daemon/erase.c: see erase.h. Scans are read whole before anything is
 * written (a scan's callback does not write through its transaction). */
#include "erase.h"

#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "events.h"
#include "inv.h"
#include "plan.h"
#include "remind.h"

/* A growing list of ids. */
struct ids {
	uint64_t *v;
	size_t n, cap;
};

/* Appends id (the ids a scan gives are distinct). */
static bool
ids_push(void *ctx, uint64_t id)
{
	struct ids *l = ctx;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->v = xrealloc(l->v, l->cap * sizeof *l->v);
	}
	l->v[l->n++] = id;
	return true;
}

/* ids_push() unless id is there (introductions come from three scans). */
static bool
ids_add(void *ctx, uint64_t id)
{
	const struct ids *l = ctx;
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i] == id)
			return true;
	return ids_push(ctx, id);
}

/* A list of member ids, each once. */
struct names {
	char (*v)[MEMBER_MAX_BYTES + 1];
	size_t *len;
	size_t n, cap;
};

static void
names_push(struct names *l, const char *m, size_t mlen)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = xrealloc(l->v, l->cap * sizeof *l->v);
		l->len = xrealloc(l->len, l->cap * sizeof *l->len);
	}
	memcpy(l->v[l->n], m, mlen);
	l->v[l->n][mlen] = '\0';
	l->len[l->n++] = mlen;
}

static void
names_free(struct names *l)
{
	free(l->v);
	free(l->len);
}

static bool
conn_add(void *ctx, const char *other, size_t len, int64_t since)
{
	(void)since;
	names_push(ctx, other, len);
	return true;
}

static bool
is(const char *a, size_t alen, struct str b)
{
	return alen == b.n && memcmp(a, b.p, alen) == 0;
}

/* The id of the invitation member's restriction in force names (its
 * deadline's), 0: none in force. */
struct restr_find {
	int64_t at;
	uint64_t id;
	bool found;
};

static bool
restr_one(void *ctx, int64_t at, uint64_t id, uint8_t value)
{
	struct restr_find *f = ctx;

	(void)value;
	if (at > f->at)
		return true;
	if (at == f->at) {
		f->id = id;
		f->found = true;
	}
	return false;
}

static uint64_t
restriction_due_id(struct stx *t, const char *m, size_t mlen,
    const struct member_rec *r)
{
	struct restr_find f = { .at = r->restricted_at };

	if (r->restricted_until == 0)
		return 0;
	store_log_scan_back(t, LOG_RESTRICTIONS, m, mlen, restr_one, &f);
	return f.found ? f.id : 0;
}

/* The report entry (in the reported sender's log) of an invitation. */
struct report_find {
	uint64_t id;
	int64_t at;
	bool found;
};

static bool
report_one(void *ctx, int64_t at, uint64_t id, uint8_t value)
{
	struct report_find *f = ctx;

	(void)value;
	if (id != f->id)
		return true;
	f->at = at;
	f->found = true;
	return false;
}

static bool
first_id(void *ctx, uint64_t id)
{
	*(uint64_t *)ctx = id;
	return false;
}

static int
id_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Other senders' restrictions whose deadline names an invitation to the
 * erased member (gone now: in gone, sorted): the deadline is moved to
 * another invitation of the sender's, or, when none is left, the
 * restriction ends now (nothing is left to restrict by). A sender named
 * twice is looked at twice; the second time finds it moved. */
static void
restrictions_moved(struct op *o, const struct names *senders,
    const struct ids *gone)
{
	struct member_rec r;
	struct due d;
	uint64_t id, other;
	size_t i;

	for (i = 0; i < senders->n && store_error(o->t) == STORE_OK; i++) {
		store_member_get(o->t, senders->v[i], senders->len[i], &r);
		if (r.restricted_until == 0)
			continue;
		id = restriction_due_id(o->t, senders->v[i], senders->len[i],
		    &r);
		if (id == 0 || bsearch(&id, gone->v, gone->n,
		    sizeof gone->v[0], id_cmp) == NULL)
			continue;
		d.at = r.restricted_until;
		d.kind = DUE_RESTRICTION;
		d.id = id;
		store_due_del(o->t, &d);
		other = 0;
		store_scan_box(o->t, BOX_SENT, senders->v[i], senders->len[i],
		    0, first_id, &other);
		if (other != 0) {
			/* The log's entry names the deadline's id. */
			store_log_del(o->t, LOG_RESTRICTIONS, senders->v[i],
			    senders->len[i], r.restricted_at, id);
			store_log_add(o->t, LOG_RESTRICTIONS, senders->v[i],
			    senders->len[i], r.restricted_at, other, 0);
			d.id = other;
			store_due_add(o->t, &d);
		} else {
			r.restricted_until = 0;
			store_member_put(o->t, senders->v[i], senders->len[i],
			    &r);
		}
	}
}

/* One invitation of the member's, either way: closed (as a quiet
 * withdrawal closes it) when open, its deadlines and the reports and
 * "does not know" the member made of it gone, then deleted. */
static void
erase_inv(struct op *o, struct str m, uint64_t id, struct names *others,
    struct names *senders)
{
	struct stx *t = o->t;
	struct report_find f;
	struct pair pr;
	struct inv inv;
	struct due d;

	if (store_inv_get(t, id, &inv) != STORE_OK)
		return;
	if (rules_open((enum inv_state)inv.state)) {
		inv_close(t, &inv, ST_WITHDRAWN, o->now);
		remind_gone(o, &inv);	/* the recipient's digest moves on */
	}
	/* A withdrawal's cooldown. */
	store_pair_get(t, inv.from, inv.from_len, inv.to, inv.to_len, &pr);
	if (pr.cooldown_until != 0) {
		d.at = pr.cooldown_until;
		d.kind = DUE_COOLDOWN;
		d.id = inv.id;
		store_due_del(t, &d);
	}
	if (is(inv.to, inv.to_len, m)) {
		/* Received: what the member said of its sender. */
		names_push(others, inv.from, inv.from_len);
		names_push(senders, inv.from, inv.from_len);
		store_flag_set(t, FLAG_NOGO, inv.from, inv.from_len, m.p, m.n,
		    false);
		if (inv.reported) {
			memset(&f, 0, sizeof f);
			f.id = inv.id;
			store_log_scan_back(t, LOG_REPORTS, inv.from,
			    inv.from_len, report_one, &f);
			if (f.found)
				store_log_del(t, LOG_REPORTS, inv.from,
				    inv.from_len, f.at, inv.id);
		}
	} else
		names_push(others, inv.to, inv.to_len);
	store_inv_del(t, &inv);
}

/* One introduction naming the member: its deadline, and the
 * introduced_by of the invitation it became when the member made it. */
static void
erase_intro(struct op *o, struct str m, uint64_t id)
{
	struct intro in;
	struct inv inv;
	struct due d;

	if (store_intro_get(o->t, id, &in) != STORE_OK)
		return;
	d.at = in.expires_at;
	d.kind = DUE_INTRO_EXPIRE;
	d.id = in.id;
	store_due_del(o->t, &d);
	if (in.inv_id != 0 && is(in.via, in.via_len, m) &&
	    store_inv_get(o->t, in.inv_id, &inv) == STORE_OK &&
	    is(inv.via, inv.via_len, m)) {
		inv.via_len = 0;
		inv.via[0] = '\0';
		store_inv_put(o->t, &inv, inv.state);
	}
	store_intro_del(o->t, &in);
}

static void
erase_plan(struct op *o, struct str m, uint64_t id)
{
	struct proto_error err;
	struct plan *pl = xmalloc(sizeof *pl);
	struct due d;

	if (plan_load(o->t, id, pl, &err) == 0 && pl->next_at != 0) {
		d.at = pl->next_at;
		d.kind = DUE_PLAN;
		d.id = pl->id;
		store_due_del(o->t, &d);
	}
	free(pl);
	store_plan_del(o->t, m.p, m.n, id);
}

int
member_erase(struct op *o, struct str m, struct erase_counts *out,
    struct proto_error *e)
{
	struct stx *t = o->t;
	struct ids invs = { 0 }, intros = { 0 }, plans = { 0 };
	struct names others = { 0 }, senders = { 0 }, conns = { 0 };
	struct member_rec self;
	struct due d;
	size_t i;

	memset(out, 0, sizeof *out);
	/* Its own restriction's deadline names one of its invitations. */
	store_member_get(t, m.p, m.n, &self);
	d.id = restriction_due_id(t, m.p, m.n, &self);
	if (d.id != 0) {
		d.at = self.restricted_until;
		d.kind = DUE_RESTRICTION;
		store_due_del(t, &d);
	}
	/* Newest first, each box: a closed one's digest moves to the next
	 * (remind_gone()), found at once. */
	store_scan_box(t, BOX_SENT, m.p, m.n, 0, ids_push, &invs);
	store_scan_box(t, BOX_RECEIVED, m.p, m.n, 0, ids_push, &invs);
	for (i = 0; i < invs.n && store_error(t) == STORE_OK; i++)
		erase_inv(o, m, invs.v[i], &others, &senders);
	out->invitations = invs.n;
	for (i = 0; i < others.n; i++) {
		store_pair_del(t, m.p, m.n, others.v[i], others.len[i]);
		store_pair_del(t, others.v[i], others.len[i], m.p, m.n);
	}
	if (invs.n > 0) {
		qsort(invs.v, invs.n, sizeof invs.v[0], id_cmp);
		restrictions_moved(o, &senders, &invs);
	}

	store_scan_conns(t, m.p, m.n, NULL, 0, conn_add, &conns);
	for (i = 0; i < conns.n; i++)
		store_conn_del(t, m.p, m.n, conns.v[i], conns.len[i]);
	out->connections = conns.n;

	store_scan_intros(t, IBOX_ASKED, m.p, m.n, 0, ids_push, &intros);
	store_scan_intros(t, IBOX_VIA, m.p, m.n, 0, ids_add, &intros);
	store_scan_intros_to(t, m.p, m.n, ids_add, &intros);
	for (i = 0; i < intros.n && store_error(t) == STORE_OK; i++)
		erase_intro(o, m, intros.v[i]);
	out->introductions = intros.n;

	store_scan_plans(t, m.p, m.n, ids_push, &plans);
	for (i = 0; i < plans.n && store_error(t) == STORE_OK; i++)
		erase_plan(o, m, plans.v[i]);
	out->plans = plans.n;

	out->events = events_erase_member(t, m.p, m.n);
	store_member_del(t, m.p, m.n);
	if (self.first_seen_at != 0 || out->invitations != 0 ||
	    out->connections != 0 || out->introductions != 0 ||
	    out->plans != 0 || out->events != 0)
		events_member_erased(t, o->now, m.p, m.n);
	free(invs.v);
	free(intros.v);
	free(plans.v);
	names_free(&others);
	names_free(&senders);
	names_free(&conns);
	if (store_error(t) != STORE_OK)
		return op_store_error(t, e);
	log_info("erased member %.*s: %llu invitations, %llu connections, %llu events",
	    (int)m.n, m.p, (unsigned long long)out->invitations,
	    (unsigned long long)out->connections,
	    (unsigned long long)out->events);
	return 0;
}
