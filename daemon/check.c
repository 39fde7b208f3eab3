/* daemon/check.c: see check.h. Reads the store through store.h only, in
 * one snapshot: every invitation, pair, deadline and event once, with a
 * few lookups each, so that it runs in time linear in the store. */
#include "check.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"

/* A set of member ids, with what the invitations say of each; or (in
 * struct chk's hists) of two members, "lower NUL higher", with the count
 * of their invitations in `sent`. */
struct mem {
	char id[2 * (MEMBER_MAX_BYTES + 1)];
	size_t len;
	uint64_t open_sent;	/* its open invitations, counted */
	uint64_t sent, received;	/* its invitations, either way */
	uint64_t told;		/* events told to it */
	bool used;
};

struct memset {
	struct mem *m;
	size_t cap, n;
};

struct chk {
	struct stx *t;
	FILE *out;
	struct check_totals *tot;
	struct memset mems, hists;
	uint64_t state[ST_COUNT];
	struct due *dues;
	size_t ndues, capdues;
	uint64_t last_seq;	/* the previous event's, in the scan */
	uint64_t first_seq;
	const struct mem *feed;	/* the member whose feed is scanned */
	uint64_t feed_n;
};

static void
problem(struct chk *c, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
problem(struct chk *c, const char *what, const char *fmt, ...)
{
	va_list ap;

	fprintf(c->out, "check: %s: ", what);
	va_start(ap, fmt);
	vfprintf(c->out, fmt, ap);
	va_end(ap);
	fputc('\n', c->out);
	c->tot->problems++;
}

static void
backend_problem(void *ctx, const char *what, const char *details)
{
	problem(ctx, what, "%s", details);
}

static uint64_t
hash(const char *p, size_t n)
{
	uint64_t h = UINT64_C(14695981039346656037);

	while (n-- > 0)
		h = (h ^ (unsigned char)*p++) * UINT64_C(1099511628211);
	return h;
}

static struct mem *mem_find(struct memset *ms, const char *id, size_t len,
    bool add);

/* The member id's entry, added when new. */
static struct mem *
mem_get(struct memset *ms, const char *id, size_t len)
{
	return mem_find(ms, id, len, true);
}

/* The entry of id; when it is new, added (add) or NULL. */
static struct mem *
mem_find(struct memset *ms, const char *id, size_t len, bool add)
{
	struct mem *old;
	size_t i, oldcap;

	if (len > sizeof ms->m->id - 1)
		len = sizeof ms->m->id - 1;
	if (add && ms->n * 2 >= ms->cap) {
		old = ms->m;
		oldcap = ms->cap;
		ms->cap = oldcap ? oldcap * 2 : 64;
		ms->m = xcalloc(ms->cap, sizeof *ms->m);
		ms->n = 0;
		for (i = 0; i < oldcap; i++)
			if (old[i].used)
				*mem_get(ms, old[i].id, old[i].len) = old[i];
		free(old);
	}
	if (ms->cap == 0)
		return NULL;
	for (i = hash(id, len) & (ms->cap - 1); ms->m[i].used;
	    i = (i + 1) & (ms->cap - 1))
		if (ms->m[i].len == len && memcmp(ms->m[i].id, id, len) == 0)
			return &ms->m[i];
	if (!add)
		return NULL;
	ms->m[i].used = true;
	memcpy(ms->m[i].id, id, len);
	ms->m[i].id[len] = '\0';
	ms->m[i].len = len;
	ms->n++;
	return &ms->m[i];
}

static int
due_cmp(const void *a, const void *b)
{
	const struct due *x = a, *y = b;

	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return 0;
}

static bool
due_has(const struct chk *c, int64_t at, uint8_t kind, uint64_t id)
{
	struct due d = { at, kind, id };

	return bsearch(&d, c->dues, c->ndues, sizeof d, due_cmp) != NULL;
}

static bool
due_one(void *ctx, const struct due *d)
{
	struct chk *c = ctx;

	if (c->ndues == c->capdues) {
		c->capdues = c->capdues ? c->capdues * 2 : 256;
		c->dues = xrealloc(c->dues, c->capdues * sizeof *c->dues);
	}
	c->dues[c->ndues++] = *d;
	return true;
}

static const char *
state_name(int st)
{
	static const char *const names[ST_COUNT] = {
		"pending", "accepted", "ignored", "withdrawn", "expired"
	};

	return st >= 0 && st < ST_COUNT ? names[st] : "?";
}

/* The entry of the two members of inv, in byte order (as history). */
static struct mem *
hist_of(struct chk *c, const struct inv *inv, bool add)
{
	char k[2 * (MEMBER_MAX_BYTES + 1)];
	const char *lo = inv->from, *hi = inv->to;
	size_t lolen = inv->from_len, hilen = inv->to_len, min;
	int cmp;

	min = lolen < hilen ? lolen : hilen;
	cmp = memcmp(lo, hi, min);
	if (cmp > 0 || (cmp == 0 && lolen > hilen)) {
		lo = inv->to;
		lolen = inv->to_len;
		hi = inv->from;
		hilen = inv->from_len;
	}
	memcpy(k, lo, lolen);
	k[lolen] = '\0';
	memcpy(k + lolen + 1, hi, hilen);
	return mem_find(&c->hists, k, lolen + 1 + hilen, add);
}

/* One invitation: its state counted, its deadlines and its pair when it
 * is open. */
static bool
inv_one(void *ctx, uint64_t id)
{
	struct chk *c = ctx;
	struct pair pr;
	struct inv inv;
	struct mem *m;

	if (store_inv_get(c->t, id, &inv) != STORE_OK)
		return false;	/* the failure is reported after the scan */
	c->tot->invitations++;
	if (inv.id != id)
		problem(c, "invitation", "%" PRIu64 ": the record says %" PRIu64,
		    id, inv.id);
	c->state[inv.state]++;
	m = mem_get(&c->mems, inv.from, inv.from_len);
	m->sent++;
	if (rules_open(inv.state))
		m->open_sent++;
	mem_get(&c->mems, inv.to, inv.to_len)->received++;
	hist_of(c, &inv, true)->sent++;
	if (inv.state == ST_IGNORED && !inv.ignored)
		problem(c, "invitation", "%" PRIu64 ": ignored without its ignored flag",
		    id);
	if (!rules_open(inv.state))
		return true;
	if (!due_has(c, inv.expires_at, DUE_EXPIRE, id))
		problem(c, "deadline",
		    "%s invitation %" PRIu64 " has no expiry deadline at %" PRId64,
		    state_name(inv.state), id, inv.expires_at);
	if (inv.reminded_at == 0 && !due_has(c, inv.stale_at, DUE_STALE, id))
		problem(c, "deadline",
		    "%s invitation %" PRIu64 " has no stale deadline at %" PRId64,
		    state_name(inv.state), id, inv.stale_at);
	store_pair_get(c->t, inv.from, inv.from_len, inv.to, inv.to_len, &pr);
	if (pr.open_id != id)
		problem(c, "pair",
		    "%s -> %s: open id is %" PRIu64 ", but invitation %" PRIu64 " is %s",
		    inv.from, inv.to, pr.open_id, id, state_name(inv.state));
	return true;
}

/* A pair's open invitation is open, and between its members. */
static bool
pair_one(void *ctx, const char *from, size_t flen, const char *to,
    size_t tlen, const struct pair *pr)
{
	struct chk *c = ctx;
	struct inv inv;
	int rc;

	c->tot->pairs++;
	if (pr->open_id == 0)
		return true;
	rc = store_inv_get(c->t, pr->open_id, &inv);
	if (rc == STORE_NOTFOUND)
		problem(c, "pair", "%.*s -> %.*s: open id %" PRIu64 " is not an invitation",
		    (int)flen, from, (int)tlen, to, pr->open_id);
	else if (rc != STORE_OK)
		return false;
	else if (!rules_open(inv.state))
		problem(c, "pair", "%.*s -> %.*s: open id %" PRIu64 " is not open (%s)",
		    (int)flen, from, (int)tlen, to, pr->open_id,
		    state_name(inv.state));
	else if (inv.from_len != flen || memcmp(inv.from, from, flen) != 0 ||
	    inv.to_len != tlen || memcmp(inv.to, to, tlen) != 0)
		problem(c, "pair", "%.*s -> %.*s: open id %" PRIu64 " is %s -> %s",
		    (int)flen, from, (int)tlen, to, pr->open_id, inv.from,
		    inv.to);
	return true;
}

/* Each deadline names what it is for. */
static void
check_dues(struct chk *c)
{
	unsigned char plan[1 << 16];
	struct inv inv;
	size_t i, len;
	int rc;

	for (i = 0; i < c->ndues && store_error(c->t) == STORE_OK; i++) {
		const struct due *d = &c->dues[i];

		if (d->kind == DUE_PLAN) {
			rc = store_plan_get(c->t, d->id, plan, sizeof plan,
			    &len);
			if (rc == STORE_NOTFOUND)
				problem(c, "deadline",
				    "plan deadline at %" PRId64 " for plan %" PRIu64 ", which is missing",
				    d->at, d->id);
			continue;
		}
		if (d->kind == DUE_INTRO_EXPIRE) {
			struct intro in;

			rc = store_intro_get(c->t, d->id, &in);
			if (rc == STORE_NOTFOUND)
				problem(c, "deadline",
				    "introduction expiry at %" PRId64 " for introduction %" PRIu64 ", which is missing",
				    d->at, d->id);
			else if (rc == STORE_OK && (in.expires_at != d->at ||
			    in.state == INTRO_FORWARDED ||
			    (in.state == INTRO_DECLINED && in.told)))
				problem(c, "deadline",
				    "introduction expiry at %" PRId64 " for introduction %" PRIu64 ", which is %s and expires at %" PRId64,
				    d->at, d->id,
				    proto_intro_state_words[in.state <
				    INTRO_STORED ? in.state : INTRO_EXPIRED],
				    in.expires_at);
			continue;
		}
		if (d->kind < DUE_EXPIRE || d->kind > DUE_DIGEST) {
			problem(c, "deadline", "at %" PRId64 ": unknown kind %u",
			    d->at, (unsigned)d->kind);
			continue;
		}
		rc = store_inv_get(c->t, d->id, &inv);
		if (rc == STORE_NOTFOUND) {
			problem(c, "deadline",
			    "kind %u at %" PRId64 " for invitation %" PRIu64 ", which is missing",
			    (unsigned)d->kind, d->at, d->id);
			continue;
		}
		if (rc != STORE_OK)
			break;
		if (d->kind == DUE_EXPIRE && (!rules_open(inv.state) ||
		    inv.expires_at != d->at))
			problem(c, "deadline",
			    "expiry at %" PRId64 " for invitation %" PRIu64 ", which is %s and expires at %" PRId64,
			    d->at, d->id, state_name(inv.state),
			    inv.expires_at);
		if (d->kind == DUE_STALE && (!rules_open(inv.state) ||
		    inv.reminded_at != 0 || inv.stale_at != d->at))
			problem(c, "deadline",
			    "stale reminder at %" PRId64 " for invitation %" PRIu64 ", which is %s (stale at %" PRId64 ", reminded at %" PRId64 ")",
			    d->at, d->id, state_name(inv.state), inv.stale_at,
			    inv.reminded_at);
		if (d->kind == DUE_REMIND && (inv.state != ST_PENDING ||
		    inv.remind_at != d->at))
			problem(c, "deadline",
			    "recipient's reminder at %" PRId64 " for invitation %" PRIu64 ", which is %s (remind at %" PRId64 ")",
			    d->at, d->id, state_name(inv.state), inv.remind_at);
	}
}

/* The `all` feed: every seq once, in order, with no gap; each event's
 * data a msgpack map. */
static bool
event_one(void *ctx, const struct event_rec *e)
{
	struct chk *c = ctx;
	unsigned char b0 = e->len > 0 ? (unsigned char)e->data[0] : 0;

	c->tot->events++;
	if (c->last_seq == 0)
		c->first_seq = e->seq;
	else if (e->seq != c->last_seq + 1)
		problem(c, "event", "%s: %" PRIu64 " follows %" PRIu64,
		    e->seq <= c->last_seq ? "out of order" : "a gap",
		    e->seq, c->last_seq);
	c->last_seq = e->seq;
	if (!((b0 & 0xf0) == 0x80 || b0 == 0xde || b0 == 0xdf))
		problem(c, "event", "%" PRIu64 ": its data is not a msgpack map",
		    e->seq);
	if (e->notify)
		mem_get(&c->mems, e->member, e->member_len)->told++;
	return true;
}

/* A member's feed: its own notifications, in order. */
static bool
feed_one(void *ctx, const struct event_rec *e)
{
	struct chk *c = ctx;

	if (c->feed_n > 0 && e->seq <= c->last_seq)
		problem(c, "event", "%s's feed: %" PRIu64 " after %" PRIu64,
		    c->feed->id, e->seq, c->last_seq);
	if (!e->notify || e->member_len != c->feed->len ||
	    memcmp(e->member, c->feed->id, e->member_len) != 0)
		problem(c, "event", "%s's feed has event %" PRIu64 ", told to %.*s%s",
		    c->feed->id, e->seq, (int)e->member_len, e->member,
		    e->notify ? "" : " (no notification)");
	c->last_seq = e->seq;
	c->feed_n++;
	return true;
}

static void
check_events(struct chk *c)
{
	uint64_t head = store_event_head(c->t);
	uint64_t pruned = store_event_pruned(c->t, NULL, 0);

	c->last_seq = 0;
	store_event_scan(c->t, 0, NULL, 0, event_one, c);
	if (store_error(c->t) != STORE_OK)
		return;
	if (c->last_seq == 0) {
		if (head != pruned)
			problem(c, "event", "no events, but the head is %" PRIu64 " and the last pruned %" PRIu64,
			    head, pruned);
		return;
	}
	if (c->first_seq != pruned + 1)
		problem(c, "event", "the first event is %" PRIu64 ", the last pruned %" PRIu64,
		    c->first_seq, pruned);
	if (c->last_seq != head)
		problem(c, "event", "the last event is %" PRIu64 ", the head %" PRIu64,
		    c->last_seq, head);
}

static bool
box_one(void *ctx, uint64_t id)
{
	struct chk *c = ctx;
	const struct mem *m = c->feed;
	struct inv inv;
	int rc;

	c->feed_n++;
	rc = store_inv_get(c->t, id, &inv);
	if (rc == STORE_NOTFOUND) {
		problem(c, "index", "%s's %s box has %" PRIu64 ", which is missing",
		    m->id, c->last_seq ? "sent" : "received", id);
		return true;
	}
	if (rc != STORE_OK)
		return false;
	if (c->last_seq ? inv.from_len != m->len ||
	    memcmp(inv.from, m->id, m->len) != 0 : inv.to_len != m->len ||
	    memcmp(inv.to, m->id, m->len) != 0)
		problem(c, "index", "%s's %s box has %" PRIu64 ", which is %s -> %s",
		    m->id, c->last_seq ? "sent" : "received", id, inv.from,
		    inv.to);
	return true;
}

static bool
conn_one(void *ctx, const char *other, size_t len, int64_t since)
{
	struct chk *c = ctx;

	c->feed_n++;
	if (store_conn_get(c->t, other, len, c->feed->id, c->feed->len) !=
	    since)
		problem(c, "connection", "%s and %.*s: each way says another since",
		    c->feed->id, (int)len, other);
	return true;
}

/* A history row: an invitation between the two members. */
static bool
hist_one(void *ctx, uint64_t id)
{
	struct chk *c = ctx;
	const struct mem *h = c->feed;
	const char *hi = h->id + strlen(h->id) + 1;
	struct inv inv;
	int rc;

	c->feed_n++;
	rc = store_inv_get(c->t, id, &inv);
	if (rc == STORE_NOTFOUND) {
		problem(c, "index", "the history of %s and %s has %" PRIu64 ", which is missing",
		    h->id, hi, id);
		return true;
	}
	if (rc != STORE_OK)
		return false;
	if (hist_of(c, &inv, false) != h)
		problem(c, "index", "the history of %s and %s has %" PRIu64 ", which is %s -> %s",
		    h->id, hi, id, inv.from, inv.to);
	return true;
}

/* Each pair of members' history holds their invitations, and no other. */
static void
check_histories(struct chk *c)
{
	const struct mem *h;
	size_t i, lolen;

	for (i = 0; i < c->hists.cap && store_error(c->t) == STORE_OK; i++) {
		h = &c->hists.m[i];
		if (!h->used)
			continue;
		lolen = strlen(h->id);
		c->feed = h;
		c->feed_n = 0;
		store_scan_history(c->t, h->id, lolen, h->id + lolen + 1,
		    h->len - lolen - 1, hist_one, c);
		if (c->feed_n != h->sent)
			problem(c, "index", "the history of %s and %s has %" PRIu64 " rows for %" PRIu64 " invitations",
			    h->id, h->id + lolen + 1, c->feed_n, h->sent);
	}
}

/* A row of a member's introduction box (c->last_seq 1: asked, 0: via):
 * an introduction of the member's; a forwarded one names an invitation
 * from its asker to its `to`. */
static bool
intro_one(void *ctx, uint64_t id)
{
	struct chk *c = ctx;
	const struct mem *m = c->feed;
	bool asked = c->last_seq != 0;
	struct intro in;
	struct inv inv;
	int rc;

	c->feed_n++;
	rc = store_intro_get(c->t, id, &in);
	if (rc == STORE_NOTFOUND) {
		problem(c, "index", "%s's %s introductions have %" PRIu64 ", which is missing",
		    m->id, asked ? "asked" : "via", id);
		return true;
	}
	if (rc != STORE_OK)
		return false;
	if (asked ? in.from_len != m->len || memcmp(in.from, m->id,
	    m->len) != 0 : in.via_len != m->len || memcmp(in.via, m->id,
	    m->len) != 0)
		problem(c, "index", "%s's %s introductions have %" PRIu64 ", which is %s via %s",
		    m->id, asked ? "asked" : "via", id, in.from, in.via);
	if (!asked || in.state != INTRO_FORWARDED)
		return true;
	rc = store_inv_get(c->t, in.inv_id, &inv);
	if (rc == STORE_NOTFOUND)
		problem(c, "introduction",
		    "%" PRIu64 ": forwarded as invitation %" PRIu64 ", which is missing",
		    id, in.inv_id);
	else if (rc == STORE_OK && (inv.from_len != in.from_len ||
	    memcmp(inv.from, in.from, in.from_len) != 0 ||
	    inv.to_len != in.to_len ||
	    memcmp(inv.to, in.to, in.to_len) != 0))
		problem(c, "introduction",
		    "%" PRIu64 ": forwarded as invitation %" PRIu64 ", which is %s -> %s",
		    id, in.inv_id, inv.from, inv.to);
	return rc == STORE_OK || rc == STORE_NOTFOUND;
}

/* Per member: the count of its open invitations, its boxes, its feed,
 * its connections, its introductions (of each member the invitations
 * name: an introduction's members are connected, by an invitation). */
/* Each connection's members: one met only there (an imported connection,
 * import.rows) has no invitation or event to be found by, and is checked
 * as one with none. The export gives connections after invitations and
 * pairs; it stops at the first record after them. */
static bool
conn_member(void *ctx, const struct store_rec *r)
{
	struct chk *c = ctx;

	if (r->kind < SREC_CONNECTION)
		return true;
	if (r->kind > SREC_CONNECTION)
		return false;
	mem_get(&c->mems, r->a, r->alen);
	mem_get(&c->mems, r->b, r->blen);
	return true;
}

static void
check_members(struct chk *c, uint64_t *conn_rows)
{
	struct member_rec r;
	struct mem *m;
	size_t i;

	store_export(c->t, conn_member, c);
	for (i = 0; i < c->mems.cap && store_error(c->t) == STORE_OK; i++) {
		m = &c->mems.m[i];
		if (!m->used)
			continue;
		c->tot->members++;
		store_member_get(c->t, m->id, m->len, &r);
		if (r.open_sent != m->open_sent)
			problem(c, "counter",
			    "%s's open_sent is %" PRIu64 "; it has %" PRIu64 " open invitations",
			    m->id, r.open_sent, m->open_sent);
		c->feed = m;
		c->feed_n = 0;
		c->last_seq = 1;	/* box_one: the sent box */
		store_scan_box(c->t, BOX_SENT, m->id, m->len, 0, box_one, c);
		if (c->feed_n != m->sent)
			problem(c, "index", "%s's sent box has %" PRIu64 " rows for %" PRIu64 " invitations",
			    m->id, c->feed_n, m->sent);
		c->feed_n = 0;
		c->last_seq = 0;
		store_scan_box(c->t, BOX_RECEIVED, m->id, m->len, 0, box_one,
		    c);
		if (c->feed_n != m->received)
			problem(c, "index", "%s's received box has %" PRIu64 " rows for %" PRIu64 " invitations",
			    m->id, c->feed_n, m->received);
		c->feed_n = 0;
		c->last_seq = 0;
		store_event_scan(c->t, 0, m->id, m->len, feed_one, c);
		if (c->feed_n != m->told)
			problem(c, "event", "%s's feed has %" PRIu64 " events; %" PRIu64 " are told to it",
			    m->id, c->feed_n, m->told);
		c->feed_n = 0;
		store_scan_conns(c->t, m->id, m->len, NULL, 0, conn_one, c);
		*conn_rows += c->feed_n;
		c->feed_n = 0;
		c->last_seq = 1;	/* intro_one: the asked box */
		store_scan_intros(c->t, IBOX_ASKED, m->id, m->len, 0,
		    intro_one, c);
		c->last_seq = 0;
		store_scan_intros(c->t, IBOX_VIA, m->id, m->len, 0, intro_one,
		    c);
	}
}

uint64_t
check_store(struct store *s, FILE *out, struct check_totals *tot)
{
	struct store_counts cnt;
	struct chk c;
	uint64_t conn_rows = 0;
	int i;

	memset(tot, 0, sizeof *tot);
	memset(&c, 0, sizeof c);
	c.out = out;
	c.tot = tot;
	c.t = store_begin_read(s);
	store_scan_dues(c.t, due_one, &c);
	if (c.ndues > 1)
		qsort(c.dues, c.ndues, sizeof *c.dues, due_cmp);
	tot->deadlines = c.ndues;
	store_scan_invitations(c.t, inv_one, &c);
	store_scan_pairs(c.t, pair_one, &c);
	check_dues(&c);
	check_events(&c);
	check_members(&c, &conn_rows);
	check_histories(&c);
	store_counts(c.t, &cnt);
	if (store_error(c.t) == STORE_OK) {
		for (i = 0; i < ST_COUNT; i++)
			if (cnt.state[i] != c.state[i])
				problem(&c, "counter",
				    "count.%s is %" PRIu64 "; %" PRIu64 " invitations are %s",
				    state_name(i), cnt.state[i], c.state[i],
				    state_name(i));
		if (cnt.deadlines != c.ndues)
			problem(&c, "counter",
			    "count.deadlines is %" PRIu64 "; there are %zu deadlines",
			    cnt.deadlines, c.ndues);
		if (cnt.connections * 2 != conn_rows)
			problem(&c, "counter",
			    "count.connections is %" PRIu64 "; the members' lists hold %" PRIu64 " (two each)",
			    cnt.connections, conn_rows);
		tot->connections = cnt.connections;
	}
	if (store_error(c.t) != STORE_OK)
		problem(&c, "store", "%s", store_strerror(s));
	store_abort(c.t);
	/* What the backend alone can check, in a snapshot of its own. */
	c.t = store_begin_read(s);
	store_check(c.t, backend_problem, &c);
	if (store_error(c.t) != STORE_OK)
		problem(&c, "store", "%s", store_strerror(s));
	store_abort(c.t);
	free(c.dues);
	free(c.mems.m);
	free(c.hists.m);
	return tot->problems;
}

int
check_main(const char *dir, const char *conninfo)
{
	struct check_totals tot;
	struct store *s;
	char why[512];

	s = conninfo != NULL ? store_open_pg_check(conninfo, why, sizeof why) :
	    store_open_check(dir, why, sizeof why);
	if (s == NULL) {
		fprintf(stderr, "connreqd: --check: %s\n", why);
		return 2;
	}
	check_store(s, stdout, &tot);
	store_close(s);
	printf("check: %" PRIu64 " invitations, %" PRIu64 " pairs, %" PRIu64
	    " deadlines, %" PRIu64 " events, %" PRIu64 " connections, %"
	    PRIu64 " members: ", tot.invitations, tot.pairs, tot.deadlines,
	    tot.events, tot.connections, tot.members);
	if (tot.problems == 0)
		printf("clean\n");
	else
		printf("%" PRIu64 " problem%s\n", tot.problems,
		    tot.problems == 1 ? "" : "s");
	fflush(stdout);
	return tot.problems == 0 ? 0 : 1;
}
