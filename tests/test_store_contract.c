/* The store's contract (daemon/store.h): the same assertions against every
 * backend in store_backends, each on a store of its own: a new directory
 * for LMDB, a new database on a PostgreSQL cluster the test starts
 * (tests/pgcluster.h) for PostgreSQL. A backend added there is tested here
 * once fresh_where() knows where its stores go. What one backend does alone
 * (LMDB's lock, map growth, schema) is in tests/test_store.c; PostgreSQL's
 * in tests/test_store_pg.c.
 *
 * At most one invitation of a pair (one direction) is pending at a time:
 * the PostgreSQL backend enforces it (a partial unique index), so the
 * invitations written here keep it too. */
#include <stdlib.h>
#include <unistd.h>

#include "../daemon/store-backend.h"
#include "pgcluster.h"
#include "store_fixture.h"
#include "tap.h"

static const struct store_ops *backend;
static char where[512];
static struct pgcluster pg;

static struct store *
open_store(void)
{
	char why[512];
	struct store *s;

	s = store_open_backend(backend, where, 1ULL << 30, why, sizeof why);
	if (s == NULL)
		diag("%s: %s", backend->name, why);
	return s;
}

/* Closes s and opens the store again, as a restarted daemon would. */
static struct store *
reopen(struct store *s)
{
	store_close(s);
	return open_store();
}

static void
put_new(struct stx *t, uint64_t id, const char *from, const char *to,
    int64_t at)
{
	struct inv v = mkinv(id, from, to, at);

	store_inv_put(t, &v, ST_COUNT);
}

/* What a scan gave, in order; it stops after stop_at (0: never). */
struct got {
	uint64_t v[64];
	char s[64][MEMBER_MAX_BYTES + 1];
	int n;
	int stop_at;
};

static bool
got_id(void *ctx, uint64_t id)
{
	struct got *g = ctx;

	g->v[g->n++] = id;
	return g->n != g->stop_at;
}

static bool
got_conn(void *ctx, const char *other, size_t len, int64_t since)
{
	struct got *g = ctx;

	memcpy(g->s[g->n], other, len);
	g->s[g->n][len] = '\0';
	g->v[g->n++] = (uint64_t)since;
	return g->n != g->stop_at;
}

static bool
got_member(void *ctx, const char *m, size_t len)
{
	struct got *g = ctx;

	memcpy(g->s[g->n], m, len);
	g->s[g->n][len] = '\0';
	g->n++;
	return g->n != g->stop_at;
}

static bool
got_log(void *ctx, int64_t at, uint64_t id, uint8_t value)
{
	struct got *g = ctx;

	g->v[g->n] = (uint64_t)at * 1000 + id * 10 + value;
	g->n++;
	return g->n != g->stop_at;
}

static bool
got_event(void *ctx, const struct event_rec *e)
{
	struct got *g = ctx;

	if (g->n < 64) {
		g->v[g->n] = e->seq;
		snprintf(g->s[g->n], sizeof g->s[0], "%.*s|%d|%lld|%.*s",
		    (int)e->member_len, e->member, e->notify, (long long)e->at,
		    (int)e->len, e->data);
	}
	g->n++;
	return g->n != g->stop_at;
}

static bool
ids_are(const struct got *g, int n, ...)
{
	va_list ap;
	int i;
	bool same = g->n == n;

	va_start(ap, n);
	for (i = 0; i < n; i++)
		if (i >= g->n || va_arg(ap, int) != (int)g->v[i])
			same = false;
	va_end(ap);
	if (!same) {
		printf("#   got %d:", g->n);
		for (i = 0; i < g->n && i < 64; i++)
			printf(" %llu", (unsigned long long)g->v[i]);
		printf("\n");
	}
	return same;
}

static void
test_persistence(struct store **sp)
{
	struct stx *t;
	struct inv got;

	t = store_begin(*sp, NULL);
	is_int(store_next_id(t), 1, "ids start at 1");
	is_int(store_next_id(t), 2, "and count up");
	store_set_vclock(t, 777);
	put_new(t, 1, "alice", "bob", 1000);
	is_int(store_commit(t), STORE_OK, "a first transaction commits");

	t = store_begin(*sp, NULL);
	put_new(t, 2, "alice", "bea", 1001);
	store_set_vclock(t, 778);
	store_abort(t);

	*sp = reopen(*sp);
	ok(*sp != NULL, "the store opens again");
	t = store_begin(*sp, NULL);
	ok(store_inv_get(t, 1, &got) == STORE_OK && got.created_at == 1000,
	    "committed work is there after a reopen");
	is_int(store_get_vclock(t), 777, "so is the virtual clock");
	is_int(store_next_id(t), 3, "and the next id");
	is_int(store_inv_get(t, 2, &got), STORE_NOTFOUND,
	    "aborted work is not there after a reopen");
	store_abort(t);
}

/* Rewrites carol's invitation id to `to` in another state. */
static void
put_state(struct stx *t, uint64_t id, const char *to, int state, int old)
{
	struct inv v = mkinv(id, "carol", to, 5000);

	v.state = (uint8_t)state;
	store_inv_put(t, &v, old);
}

/* Whether the state counters are c0's moved by the given steps, in the
 * order of enum inv_state (pending, accepted, ignored, withdrawn,
 * expired). */
static bool
moved(struct stx *t, const struct store_counts *c0, int pending,
    int accepted, int ignored, int withdrawn, int expired)
{
	const int step[ST_COUNT] = { pending, accepted, ignored, withdrawn,
	    expired };
	struct store_counts c;
	int i;

	store_counts(t, &c);
	for (i = 0; i < ST_COUNT; i++)
		if (c.state[i] != c0->state[i] + (uint64_t)(int64_t)step[i])
			return false;
	return true;
}

static void
test_invitations(struct store *s)
{
	struct store_counts c0;
	struct member_rec m;
	struct stx *t;
	struct inv v, got;

	t = store_begin(s, NULL);
	store_counts(t, &c0);
	v = mkinv(10, "carol", "dave", 5000);
	v.state = ST_IGNORED;
	v.priority = PRIO_LOW;
	v.attempt = 3;
	v.updated_at = 5005;
	v.reminded_at = 5010;
	v.ignored = true;
	v.reported = true;
	v.resend_of = 7;
	store_inv_put(t, &v, ST_COUNT);
	memset(&got, 0x55, sizeof got);
	ok(store_inv_get(t, 10, &got) == STORE_OK && got.id == 10 &&
	    got.state == ST_IGNORED && got.priority == PRIO_LOW &&
	    got.attempt == 3 && got.created_at == 5000 &&
	    got.updated_at == 5005 && got.expires_at == 5100 &&
	    got.stale_at == 5010 && got.reminded_at == 5010 && got.ignored &&
	    got.reported && got.resend_of == 7,
	    "every field of an invitation reads back");
	ok(got.from_len == 5 && strcmp(got.from, "carol") == 0 &&
	    got.to_len == 4 && strcmp(got.to, "dave") == 0 &&
	    got.note_len == 5 && memcmp(got.note, "hi\0yo", 6) == 0,
	    "its members and note too, a NUL in the note included");
	ok(!got.held && !got.automatic && got.remind_at == 0 &&
	    got.via_len == 0 && got.via[0] == '\0',
	    "none held, automatic, reminded or introduced unless so written");
	v.held = v.automatic = true;
	v.remind_at = 5600;
	v.via_len = MEMBER_MAX_BYTES;
	memset(v.via, 'v', MEMBER_MAX_BYTES);
	v.via[MEMBER_MAX_BYTES] = '\0';
	store_inv_put(t, &v, ST_IGNORED);
	memset(&got, 0x55, sizeof got);
	ok(store_inv_get(t, 10, &got) == STORE_OK && got.held &&
	    got.automatic && got.remind_at == 5600 &&
	    got.via_len == MEMBER_MAX_BYTES && got.via[0] == 'v' &&
	    got.via[MEMBER_MAX_BYTES] == '\0' && got.note_len == 5 &&
	    strcmp(got.to, "dave") == 0,
	    "held, automatic, remind_at and via (of the largest size) too");
	v.held = v.automatic = false;
	v.remind_at = 0;
	v.via_len = 0;
	v.via[0] = '\0';
	store_inv_put(t, &v, ST_IGNORED);
	is_int(store_inv_get(t, 99, &got), STORE_NOTFOUND, "a missing id");
	v.note_len = NOTE_MAX_BYTES;
	memset(v.note, 'n', NOTE_MAX_BYTES);
	v.ignored = false;
	store_inv_put(t, &v, ST_IGNORED);
	ok(store_inv_get(t, 10, &got) == STORE_OK &&
	    got.note_len == NOTE_MAX_BYTES && got.note[NOTE_MAX_BYTES] == '\0' &&
	    !got.ignored, "a note of the largest size, rewritten in place");

	/* Counters of states and of a sender's open invitations. */
	put_new(t, 11, "carol", "erin", 5001);
	put_new(t, 12, "carol", "fred", 5002);
	ok(moved(t, &c0, 2, 0, 1, 0, 0), "new invitations are counted by state");
	store_member_get(t, "carol", 5, &m);
	is_int(m.open_sent, 3, "and as the sender's open ones");
	put_state(t, 11, "erin", ST_ACCEPTED, ST_PENDING);
	put_state(t, 10, "dave", ST_EXPIRED, ST_IGNORED);
	ok(moved(t, &c0, 1, 1, 0, 0, 1), "the counters follow changes of state");
	store_member_get(t, "carol", 5, &m);
	is_int(m.open_sent, 1, "so does open_sent");
	put_state(t, 12, "fred", ST_IGNORED, ST_PENDING);
	store_member_get(t, "carol", 5, &m);
	is_int(m.open_sent, 1, "pending to ignored stays open");
	is_int(store_commit(t), STORE_OK, "commit");

	t = store_begin_read(s);
	ok(moved(t, &c0, 0, 1, 1, 0, 1), "the counters are kept by the commit");
	store_abort(t);
}

/* Reads inside a scan, as the domain does: each id's record, then its
 * history, through the same transaction. */
struct nested {
	struct stx *t;
	size_t seen, found, histories;
};

static bool
nested_hist(void *ctx, uint64_t id)
{
	struct nested *n = ctx;

	(void)id;
	n->histories++;
	return true;
}

static bool
nested_one(void *ctx, uint64_t id)
{
	struct nested *n = ctx;
	struct inv inv;

	n->seen++;
	if (store_inv_get(n->t, id, &inv) == STORE_OK && inv.id == id) {
		n->found++;
		store_scan_history(n->t, inv.from, inv.from_len, inv.to,
		    inv.to_len, nested_hist, n);
	}
	return true;
}

static void
test_boxes(struct store *s)
{
	struct stx *t;
	struct got g;
	uint64_t i;

	t = store_begin(s, NULL);
	for (i = 21; i <= 25; i++) {
		struct inv v = mkinv(i, i % 2 ? "anna" : "gina", "hank", 6000);

		if (i <= 23)
			v.state = ST_EXPIRED;	/* one pending a pair */
		store_inv_put(t, &v, ST_COUNT);
	}
	put_new(t, 26, "hank", "anna", 6001);
	put_new(t, 27, "annabel", "hank", 6002);

	memset(&g, 0, sizeof g);
	store_scan_box(t, BOX_SENT, "anna", 4, 0, got_id, &g);
	ok(ids_are(&g, 3, 25, 23, 21), "a sent box, newest first");
	memset(&g, 0, sizeof g);
	store_scan_box(t, BOX_SENT, "anna", 4, 25, got_id, &g);
	ok(ids_are(&g, 2, 23, 21), "before: the ones below it");
	memset(&g, 0, sizeof g);
	store_scan_box(t, BOX_SENT, "anna", 4, 22, got_id, &g);
	ok(ids_are(&g, 1, 21), "before an id not in the box");
	memset(&g, 0, sizeof g);
	store_scan_box(t, BOX_SENT, "anna", 4, 21, got_id, &g);
	ok(ids_are(&g, 0), "before the oldest: none");
	memset(&g, 0, sizeof g);
	store_scan_box(t, BOX_RECEIVED, "hank", 4, 0, got_id, &g);
	ok(ids_are(&g, 6, 27, 25, 24, 23, 22, 21), "a received box");
	memset(&g, 0, sizeof g);
	g.stop_at = 2;
	store_scan_box(t, BOX_RECEIVED, "hank", 4, 0, got_id, &g);
	ok(ids_are(&g, 2, 27, 25), "a scan stops when told");
	memset(&g, 0, sizeof g);
	store_scan_box(t, BOX_SENT, "ann", 3, 0, got_id, &g);
	ok(ids_are(&g, 0), "a prefix of a member's id finds nothing");
	memset(&g, 0, sizeof g);
	store_scan_box(t, BOX_RECEIVED, "nobody", 6, 0, got_id, &g);
	ok(ids_are(&g, 0), "an empty box");

	memset(&g, 0, sizeof g);
	store_scan_history(t, "anna", 4, "hank", 4, got_id, &g);
	ok(ids_are(&g, 4, 21, 23, 25, 26),
	    "a history holds both directions, oldest first");
	memset(&g, 0, sizeof g);
	store_scan_history(t, "hank", 4, "anna", 4, got_id, &g);
	ok(ids_are(&g, 4, 21, 23, 25, 26), "named either way round");
	memset(&g, 0, sizeof g);
	g.stop_at = 1;
	store_scan_history(t, "hank", 4, "anna", 4, got_id, &g);
	ok(ids_are(&g, 1, 21), "and stops when told");
	memset(&g, 0, sizeof g);
	store_scan_history(t, "gina", 4, "anna", 4, got_id, &g);
	ok(ids_are(&g, 0), "two members with none between them");
	{
		struct nested n = { t, 0, 0, 0 };

		store_scan_box(t, BOX_RECEIVED, "hank", 4, 0, nested_one, &n);
		ok(n.seen == 6 && n.found == 6 && n.histories == 1 + 3 * 4 + 2 * 2 &&
		    store_error(t) == STORE_OK,
		    "a scan's callback reads records and scans histories in the same transaction (%zu, %zu, %zu)",
		    n.seen, n.found, n.histories);
	}
	is_int(store_commit(t), STORE_OK, "commit");
}

static void
test_pairs_and_connections(struct store *s)
{
	struct store_counts c;
	struct stx *t;
	struct pair pr;
	struct got g;

	t = store_begin(s, NULL);
	memset(&pr, 0x55, sizeof pr);
	store_pair_get(t, "ivan", 4, "judy", 4, &pr);
	ok(pr.open_id == 0 && pr.cooldown_until == 0 && pr.withdrawals == 0 &&
	    pr.attempts == 0, "a missing pair reads as zero");
	pr.open_id = 5;
	pr.cooldown_until = 1700000000;
	pr.withdrawals = 2;
	pr.attempts = 3;
	store_pair_put(t, "ivan", 4, "judy", 4, &pr);
	memset(&pr, 0, sizeof pr);
	store_pair_get(t, "ivan", 4, "judy", 4, &pr);
	ok(pr.open_id == 5 && pr.cooldown_until == 1700000000 &&
	    pr.withdrawals == 2 && pr.attempts == 3, "a pair reads back");
	store_pair_get(t, "judy", 4, "ivan", 4, &pr);
	is_int(pr.attempts, 0, "a pair has a direction");

	store_counts(t, &c);
	is_int(c.connections, 0, "no connections yet");
	store_conn_put(t, "ivan", 4, "judy", 4, 500);
	store_conn_put(t, "ivan", 4, "kate", 4, 600);
	store_conn_put(t, "ivan", 4, "iv", 2, 700);
	store_conn_put(t, "leo", 3, "ivan", 4, 800);
	is_int(store_conn_get(t, "judy", 4, "ivan", 4), 500,
	    "a connection reads the same from either side");
	is_int(store_conn_get(t, "judy", 4, "kate", 4), 0,
	    "members not connected read 0");
	store_counts(t, &c);
	is_int(c.connections, 4, "connections are counted once each");
	store_conn_put(t, "judy", 4, "ivan", 4, 550);
	store_counts(t, &c);
	ok(c.connections == 4 && store_conn_get(t, "ivan", 4, "judy", 4) ==
	    550, "putting one again changes since, not the count");

	memset(&g, 0, sizeof g);
	store_scan_conns(t, "ivan", 4, NULL, 0, got_conn, &g);
	ok(g.n == 4 && strcmp(g.s[0], "iv") == 0 &&
	    strcmp(g.s[1], "judy") == 0 && strcmp(g.s[2], "kate") == 0 &&
	    strcmp(g.s[3], "leo") == 0 && g.v[0] == 700 && g.v[1] == 550,
	    "a member's connections in order of the other's id, with since");
	memset(&g, 0, sizeof g);
	store_scan_conns(t, "ivan", 4, "judy", 4, got_conn, &g);
	ok(g.n == 2 && strcmp(g.s[0], "kate") == 0,
	    "after: the ones past it");
	memset(&g, 0, sizeof g);
	store_scan_conns(t, "ivan", 4, "jz", 2, got_conn, &g);
	ok(g.n == 2 && strcmp(g.s[0], "kate") == 0,
	    "after a name that is not a connection");
	memset(&g, 0, sizeof g);
	store_scan_conns(t, "ivan", 4, "leo", 3, got_conn, &g);
	is_int(g.n, 0, "after the last: none");
	memset(&g, 0, sizeof g);
	g.stop_at = 1;
	store_scan_conns(t, "ivan", 4, NULL, 0, got_conn, &g);
	is_int(g.n, 1, "a scan of connections stops when told");
	memset(&g, 0, sizeof g);
	store_scan_conns(t, "leo", 3, NULL, 0, got_conn, &g);
	ok(g.n == 1 && strcmp(g.s[0], "ivan") == 0,
	    "the other side lists it too");

	store_conn_del(t, "judy", 4, "ivan", 4);
	ok(store_conn_get(t, "ivan", 4, "judy", 4) == 0 &&
	    store_conn_get(t, "judy", 4, "ivan", 4) == 0,
	    "removal removes both directions");
	store_conn_del(t, "judy", 4, "ivan", 4);
	store_counts(t, &c);
	is_int(c.connections, 3, "removing one twice counts once");
	is_int(store_commit(t), STORE_OK, "commit");
}

static bool
got_mutual(void *ctx, const char *other, size_t len, int64_t since_a,
    int64_t since_b)
{
	struct got *g = ctx;

	if (g->n < 64) {
		snprintf(g->s[g->n], sizeof g->s[0], "%.*s", (int)len, other);
		g->v[g->n] = (uint64_t)(since_a * 1000 + since_b);
	}
	g->n++;
	return g->n != g->stop_at;
}

/* Mutual connections of many: how many, whether in order. */
struct mutual_run {
	int n;
	bool ordered;
	char last[MEMBER_MAX_BYTES + 1];
};

static bool
mutual_run_one(void *ctx, const char *other, size_t len, int64_t since_a,
    int64_t since_b)
{
	struct mutual_run *m = ctx;

	(void)since_a;
	(void)since_b;
	if (m->n > 0 && strcmp(m->last, other) >= 0)
		m->ordered = false;
	snprintf(m->last, sizeof m->last, "%.*s", (int)len, other);
	m->n++;
	return true;
}

static void
test_mutual(struct store *s)
{
	static const char *const ann[] = { "bo", "cy", "d", "dee", "fay",
	    "zed" };
	static const char *const bea[] = { "d", "dee", "bo", "fay", "gus",
	    "ann" };
	struct mutual_run mr;
	struct stx *t;
	struct got g;
	char id[16];
	size_t i;

	t = store_begin(s, NULL);
	for (i = 0; i < 6; i++) {
		store_conn_put(t, "ann", 3, ann[i], strlen(ann[i]),
		    (int64_t)(i + 1));
		store_conn_put(t, bea[i], strlen(bea[i]), "bea", 3,
		    (int64_t)(i + 11));
	}
	store_conn_put(t, "cy", 2, "dee", 3, 99);

	memset(&g, 0, sizeof g);
	store_scan_mutual(t, "ann", 3, "bea", 3, NULL, 0, 0, got_mutual, &g);
	ok(g.n == 4 && strcmp(g.s[0], "bo") == 0 && strcmp(g.s[1], "d") ==
	    0 && strcmp(g.s[2], "dee") == 0 && strcmp(g.s[3], "fay") == 0,
	    "mutual connections in order of the other's id, \"d\" before \"dee\" (%d: %s %s %s %s)",
	    g.n, g.s[0], g.s[1], g.s[2], g.s[3]);
	ok(g.v[0] == 1 * 1000 + 13 && g.v[1] == 3 * 1000 + 11 &&
	    g.v[2] == 4 * 1000 + 12 && g.v[3] == 5 * 1000 + 14,
	    "each with since of a and since of b");
	memset(&g, 0, sizeof g);
	store_scan_mutual(t, "bea", 3, "ann", 3, NULL, 0, 0, got_mutual, &g);
	ok(g.n == 4 && strcmp(g.s[0], "bo") == 0 && strcmp(g.s[3], "fay") ==
	    0 && g.v[0] == 13 * 1000 + 1,
	    "the same the other way round, since_a now bea's");
	memset(&g, 0, sizeof g);
	store_scan_mutual(t, "ann", 3, "bea", 3, "d", 1, 0, got_mutual, &g);
	ok(g.n == 2 && strcmp(g.s[0], "dee") == 0,
	    "after: strictly past it");
	memset(&g, 0, sizeof g);
	store_scan_mutual(t, "ann", 3, "bea", 3, "cz", 2, 0, got_mutual, &g);
	ok(g.n == 3 && strcmp(g.s[0], "d") == 0,
	    "after an id that is nobody's");
	memset(&g, 0, sizeof g);
	store_scan_mutual(t, "ann", 3, "bea", 3, "fay", 3, 0, got_mutual, &g);
	is_int(g.n, 0, "after the last: none");
	memset(&g, 0, sizeof g);
	g.stop_at = 2;
	store_scan_mutual(t, "ann", 3, "bea", 3, NULL, 0, 2, got_mutual, &g);
	is_int(g.n, 2, "a mutual scan stops when told");
	memset(&g, 0, sizeof g);
	store_scan_mutual(t, "ann", 3, "nobody", 6, NULL, 0, 0, got_mutual,
	    &g);
	is_int(g.n, 0, "none with a member who has no connections");
	memset(&g, 0, sizeof g);
	store_scan_mutual(t, "cy", 2, "bea", 3, NULL, 0, 0, got_mutual, &g);
	ok(g.n == 2 && strcmp(g.s[0], "ann") == 0 && strcmp(g.s[1], "dee") ==
	    0, "cy and bea share ann and dee (%d)", g.n);
	is_int(store_mutual_count(t, "ann", 3, "bea", 3, 1000), 4,
	    "the count of mutual connections");
	is_int(store_mutual_count(t, "ann", 3, "bea", 3, 3), 3,
	    "the count stops at its max");
	is_int(store_mutual_count(t, "ann", 3, "bea", 3, 0), 0,
	    "a max of 0 counts nothing");
	is_int(store_mutual_count(t, "ann", 3, "ann", 3, 1000), 7,
	    "a member with itself: all its connections (bea's too)");

	/* Past a page: 300 and 150 connections, 150 mutual, and one of 3. */
	for (i = 0; i < 300; i++) {
		snprintf(id, sizeof id, "m%03zu", i);
		store_conn_put(t, "big1", 4, id, strlen(id), 1);
		if (i % 2 == 0)
			store_conn_put(t, id, strlen(id), "big2", 4, 2);
	}
	store_conn_put(t, "few", 3, "m001", 4, 3);
	store_conn_put(t, "few", 3, "m002", 4, 3);
	store_conn_put(t, "few", 3, "m298", 4, 3);
	memset(&mr, 0, sizeof mr);
	mr.ordered = true;
	store_scan_mutual(t, "big1", 4, "big2", 4, NULL, 0, 0, mutual_run_one,
	    &mr);
	ok(mr.n == 150 && mr.ordered && strcmp(mr.last, "m298") == 0,
	    "150 mutual of 300 and 150 connections, in order (%d)", mr.n);
	memset(&mr, 0, sizeof mr);
	mr.ordered = true;
	store_scan_mutual(t, "big2", 4, "big1", 4, "m100", 4, 7,
	    mutual_run_one, &mr);
	ok(mr.n == 99 && mr.ordered, "after a cursor, with a small hint (%d)",
	    mr.n);
	is_int(store_mutual_count(t, "few", 3, "big2", 4, 1000), 2,
	    "a member of 3 connections and one of 150 share 2");
	is_int(store_mutual_count(t, "big1", 4, "few", 3, 1000), 3,
	    "and one of 300 shares all 3");
	is_int(store_mutual_count(t, "big1", 4, "big2", 4, 100), 100,
	    "a count capped below the mutual connections");

	/* Two lists past 1024 (PostgreSQL joins them rather than probe). */
	for (i = 0; i < 1100; i++) {
		snprintf(id, sizeof id, "h%04zu", i);
		store_conn_put(t, "huge1", 5, id, strlen(id), 4);
		snprintf(id, sizeof id, "h%04zu", i + 550);
		store_conn_put(t, id, strlen(id), "huge2", 5, 5);
	}
	store_conn_put(t, "few", 3, "h0600", 5, 3);
	memset(&mr, 0, sizeof mr);
	mr.ordered = true;
	store_scan_mutual(t, "huge1", 5, "huge2", 5, NULL, 0, 0,
	    mutual_run_one, &mr);
	ok(mr.n == 550 && mr.ordered && strcmp(mr.last, "h1099") == 0,
	    "550 mutual of two lists of 1100, in order (%d)", mr.n);
	memset(&mr, 0, sizeof mr);
	mr.ordered = true;
	store_scan_mutual(t, "huge2", 5, "huge1", 5, "h1000", 5, 10,
	    mutual_run_one, &mr);
	ok(mr.n == 99 && mr.ordered, "of two long lists, after a cursor (%d)",
	    mr.n);
	memset(&g, 0, sizeof g);
	store_scan_mutual(t, "huge1", 5, "huge2", 5, NULL, 0, 3, got_mutual,
	    &g);
	ok(g.n == 550 && strcmp(g.s[0], "h0550") == 0 &&
	    g.v[0] == 4 * 1000 + 5, "with the since of each (%s)", g.s[0]);
	is_int(store_mutual_count(t, "few", 3, "huge2", 5, 1000), 1,
	    "a short list and a long one");
	is_int(store_mutual_count(t, "huge1", 5, "few", 3, 1000), 1,
	    "a long list and a short one");
	is_int(store_commit(t), STORE_OK, "commit");

	t = store_begin_read(s);
	is_int(store_mutual_count(t, "big1", 4, "big2", 4, 1000), 150,
	    "mutual connections in a snapshot");
	store_abort(t);
}

static void
test_logs_flags_members(struct store *s)
{
	struct member_rec m;
	struct stx *t;
	struct got g;
	int64_t oldest;

	t = store_begin(s, NULL);
	store_log_add(t, LOG_SENDS, "mia", 3, 100, 1, 0);
	store_log_add(t, LOG_SENDS, "mia", 3, 200, 3, 0);
	store_log_add(t, LOG_SENDS, "mia", 3, 200, 2, 0);
	store_log_add(t, LOG_SENDS, "mia", 3, 300, 4, 0);
	store_log_add(t, LOG_SENDS, "mi", 2, 250, 5, 0);
	store_log_add(t, LOG_DECISIONS, "mia", 3, 150, 6,
	    ST_WITHDRAWN | LOG_BY_PLAN);
	is_int(store_log_count(t, LOG_SENDS, "mia", 3, 0, 100, &oldest), 4,
	    "a key's entries are counted");
	is_int(oldest, 100, "with the oldest");
	is_int(store_log_count(t, LOG_SENDS, "mia", 3, 100, 100, &oldest), 3,
	    "since: only those dated after it");
	is_int(oldest, 200, "and the oldest of those");
	is_int(store_log_count(t, LOG_SENDS, "mia", 3, 0, 2, &oldest), 2,
	    "counting stops at max");
	ok(store_log_count(t, LOG_SENDS, "mia", 3, 300, 100, &oldest) == 0 &&
	    oldest == 0, "none since the newest: 0, oldest 0");
	is_int(store_log_count(t, LOG_SENDS, "mi", 2, -5, 100, &oldest), 1,
	    "another key, a negative since");
	is_int(store_log_count(t, LOG_WITHDRAWALS, "mia", 3, 0, 100, &oldest),
	    0, "logs are separate");
	memset(&g, 0, sizeof g);
	store_log_scan_back(t, LOG_SENDS, "mia", 3, got_log, &g);
	ok(ids_are(&g, 4, 300040, 200030, 200020, 100010),
	    "a key's entries newest first, [at][id]");
	memset(&g, 0, sizeof g);
	g.stop_at = 1;
	store_log_scan_back(t, LOG_SENDS, "mia", 3, got_log, &g);
	ok(ids_are(&g, 1, 300040), "and stops when told");
	memset(&g, 0, sizeof g);
	store_log_scan_back(t, LOG_DECISIONS, "mia", 3, got_log, &g);
	ok(g.n == 1 && g.v[0] == 150060 + (ST_WITHDRAWN | LOG_BY_PLAN),
	    "the value comes back");

	ok(!store_flag_get(t, FLAG_BLOCK, "mia", 3, "ned", 3),
	    "a flag starts off");
	store_flag_set(t, FLAG_BLOCK, "mia", 3, "ned", 3, true);
	ok(store_flag_get(t, FLAG_BLOCK, "mia", 3, "ned", 3), "set");
	ok(!store_flag_get(t, FLAG_BLOCK, "ned", 3, "mia", 3) &&
	    !store_flag_get(t, FLAG_NOGO, "mia", 3, "ned", 3),
	    "for one direction and one flag");
	store_flag_set(t, FLAG_BLOCK, "mia", 3, "ned", 3, false);
	store_flag_set(t, FLAG_BLOCK, "mia", 3, "ned", 3, false);
	ok(!store_flag_get(t, FLAG_BLOCK, "mia", 3, "ned", 3),
	    "cleared (twice is fine)");

	memset(&m, 0x55, sizeof m);
	store_member_get(t, "olga", 4, &m);
	ok(m.invitations_from == 0 && m.email_len == 0 && m.email[0] == '\0' &&
	    m.restricted_until == 0 && m.restricted_at == 0 &&
	    m.open_sent == 0, "a missing member reads as zero");
	m.invitations_from = 1;
	m.email_len = EMAIL_MAX_BYTES;
	memset(m.email, 'e', EMAIL_MAX_BYTES);
	m.email[EMAIL_MAX_BYTES] = '\0';
	m.restricted_until = 9000;
	m.restricted_at = 8000;
	m.open_sent = 4;
	store_member_put(t, "olga", 4, &m);
	memset(&m, 0, sizeof m);
	store_member_get(t, "olga", 4, &m);
	ok(m.invitations_from == 1 && m.email_len == EMAIL_MAX_BYTES &&
	    m.email[0] == 'e' && m.email[EMAIL_MAX_BYTES] == '\0' &&
	    m.restricted_until == 9000 && m.restricted_at == 8000 &&
	    m.open_sent == 4, "a member record reads back");
	ok(m.first_seen_at == 0 && m.own == 0 && !m.hold_no_mutual &&
	    m.hold_new_days == 0 && m.auto_until == 0,
	    "its settings as written: none");
	m.first_seen_at = 7000;
	m.own = MEMBER_OWN_HOLD_NO_MUTUAL | MEMBER_OWN_HOLD_LOW_HEALTH |
	    MEMBER_OWN_HOLD_RESTRICTED | MEMBER_OWN_HOLD_NEW | MEMBER_OWN_DIGEST;
	m.hold_no_mutual = true;
	m.hold_low_health = false;
	m.hold_restricted_days = 30;
	m.hold_new_days = UINT32_MAX;
	m.digest_every = 7 * 86400;
	m.auto_min_mutual = 5;
	m.auto_until = 99000;
	store_member_put(t, "olga", 4, &m);
	memset(&m, 0, sizeof m);
	store_member_get(t, "olga", 4, &m);
	ok(m.first_seen_at == 7000 && m.own == 0x1f && m.hold_no_mutual &&
	    !m.hold_low_health && m.hold_restricted_days == 30 &&
	    m.hold_new_days == UINT32_MAX && m.digest_every == 7 * 86400 &&
	    m.auto_min_mutual == 5 && m.auto_until == 99000 &&
	    m.email_len == EMAIL_MAX_BYTES && m.open_sent == 4,
	    "first_seen_at and every setting read back, beside the email");
	store_flag_set(t, FLAG_AUTOACCEPT, "olga", 4, "mia", 3, true);
	ok(store_flag_get(t, FLAG_AUTOACCEPT, "olga", 4, "mia", 3) &&
	    !store_flag_get(t, FLAG_BLOCK, "olga", 4, "mia", 3) &&
	    !store_flag_get(t, FLAG_AUTOACCEPT, "mia", 3, "olga", 4),
	    "FLAG_AUTOACCEPT is a flag of its own, one way");
	/* Issue 12: a member's flags of a kind, in order (the auto-accept
	 * list). */
	{
		store_flag_set(t, FLAG_AUTOACCEPT, "olga", 4, "al", 2, true);
		store_flag_set(t, FLAG_AUTOACCEPT, "olga", 4, "alice", 5,
		    true);
		store_flag_set(t, FLAG_AUTOACCEPT, "olgaa", 5, "bo", 2, true);
		store_flag_set(t, FLAG_BLOCK, "olga", 4, "bea", 3, true);
		memset(&g, 0, sizeof g);
		store_scan_flags(t, FLAG_AUTOACCEPT, "olga", 4, NULL, 0,
		    got_member, &g);
		ok(g.n == 3 && strcmp(g.s[0], "al") == 0 &&
		    strcmp(g.s[1], "alice") == 0 && strcmp(g.s[2], "mia") == 0,
		    "a member's flags of a kind, in order, no other kind's, no other member's (%d)",
		    g.n);
		memset(&g, 0, sizeof g);
		store_scan_flags(t, FLAG_AUTOACCEPT, "olga", 4, "al", 2,
		    got_member, &g);
		ok(g.n == 2 && strcmp(g.s[0], "alice") == 0,
		    "after: strictly past it");
		memset(&g, 0, sizeof g);
		g.stop_at = 1;
		store_scan_flags(t, FLAG_AUTOACCEPT, "olga", 4, NULL, 0,
		    got_member, &g);
		is_int(g.n, 1, "a scan of flags stops when told");
		store_flag_set(t, FLAG_AUTOACCEPT, "olga", 4, "al", 2, false);
		memset(&g, 0, sizeof g);
		store_scan_flags(t, FLAG_AUTOACCEPT, "olga", 4, NULL, 0,
		    got_member, &g);
		ok(g.n == 2 && strcmp(g.s[0], "alice") == 0,
		    "a flag cleared is gone from the scan");
		memset(&g, 0, sizeof g);
		store_scan_flags(t, FLAG_AUTOACCEPT, "nobody", 6, NULL, 0,
		    got_member, &g);
		is_int(g.n, 0, "none for a member without flags");
		store_flag_set(t, FLAG_BLOCK, "olga", 4, "bea", 3, false);
	}
	store_log_add(t, LOG_RESTRICTIONS, "mia", 3, 400, 0, 0);
	ok(store_log_count(t, LOG_RESTRICTIONS, "mia", 3, 0, 10, &oldest) == 1 &&
	    oldest == 400 &&
	    store_log_count(t, LOG_SENDS, "mia", 3, 350, 10, &oldest) == 0,
	    "LOG_RESTRICTIONS is a log of its own");
	is_int(store_commit(t), STORE_OK, "commit");
}

static void
test_plans(struct store *s)
{
	unsigned char buf[64];
	struct stx *t;
	struct got g;
	size_t len = 0;

	t = store_begin(s, NULL);
	is_int(store_plan_get(t, 40, buf, sizeof buf, &len), STORE_NOTFOUND,
	    "a missing plan");
	store_plan_put(t, 40, "plan\0forty", 10);
	store_plan_put(t, 42, "p42", 3);
	store_plan_put(t, 41, "", 0);
	ok(store_plan_get(t, 40, buf, sizeof buf, &len) == STORE_OK &&
	    len == 10 && memcmp(buf, "plan\0forty", 10) == 0,
	    "a plan's record reads back as it was");
	ok(store_plan_get(t, 41, buf, sizeof buf, &len) == STORE_OK &&
	    len == 0, "an empty one too");
	store_plan_index(t, "pat", 3, 40);
	store_plan_index(t, "pat", 3, 42);
	store_plan_index(t, "quin", 4, 41);
	memset(&g, 0, sizeof g);
	store_scan_plans(t, "pat", 3, got_id, &g);
	ok(ids_are(&g, 2, 42, 40), "a member's plans, newest first");
	memset(&g, 0, sizeof g);
	g.stop_at = 1;
	store_scan_plans(t, "pat", 3, got_id, &g);
	ok(ids_are(&g, 1, 42), "and stops when told");
	memset(&g, 0, sizeof g);
	store_scan_plans(t, "pa", 2, got_id, &g);
	ok(ids_are(&g, 0), "none for another member");
	is_int(store_commit(t), STORE_OK, "commit");
}

static void
intro_make(struct intro *in, uint64_t id, const char *from, const char *via,
    const char *to)
{
	memset(in, 0, sizeof *in);
	in->id = id;
	in->state = INTRO_ASKED;
	in->created_at = 1000 + (int64_t)id;
	in->updated_at = 2000 + (int64_t)id;
	in->expires_at = 3000 + (int64_t)id;
	in->from_len = strlen(from);
	memcpy(in->from, from, in->from_len);
	in->via_len = strlen(via);
	memcpy(in->via, via, in->via_len);
	in->to_len = strlen(to);
	memcpy(in->to, to, in->to_len);
	memcpy(in->note, "a\0note", 6);
	in->note_len = 6;
}

static void
test_intros(struct store *s)
{
	struct intro in, back;
	struct stx *t;
	struct got g;

	t = store_begin(s, NULL);
	is_int(store_intro_get(t, 70, &back), STORE_NOTFOUND,
	    "a missing introduction");
	intro_make(&in, 70, "ivy", "jon", "kim");
	store_intro_put(t, &in);
	intro_make(&in, 72, "ivy", "lou", "kim");
	store_intro_put(t, &in);
	intro_make(&in, 71, "jon", "lou", "ivy");
	in.state = INTRO_DECLINED;
	in.told = true;
	store_intro_put(t, &in);
	ok(store_intro_get(t, 71, &back) == STORE_OK && back.id == 71 &&
	    back.state == INTRO_DECLINED && back.told &&
	    back.created_at == 1071 && back.updated_at == 2071 &&
	    back.expires_at == 3071 && back.inv_id == 0 &&
	    strcmp(back.from, "jon") == 0 && strcmp(back.via, "lou") == 0 &&
	    strcmp(back.to, "ivy") == 0 && back.note_len == 6 &&
	    memcmp(back.note, "a\0note", 6) == 0,
	    "an introduction reads back as it was, every field");
	/* A change: the same record written again. */
	intro_make(&in, 70, "ivy", "jon", "kim");
	in.state = INTRO_FORWARDED;
	in.inv_id = 99;
	in.updated_at = 5000;
	store_intro_put(t, &in);
	ok(store_intro_get(t, 70, &back) == STORE_OK &&
	    back.state == INTRO_FORWARDED && back.inv_id == 99 &&
	    back.updated_at == 5000 && !back.told,
	    "a change reads back");
	memset(&g, 0, sizeof g);
	store_scan_intros(t, IBOX_ASKED, "ivy", 3, 0, got_id, &g);
	ok(ids_are(&g, 2, 72, 70), "a member's asks, newest first, once each");
	memset(&g, 0, sizeof g);
	store_scan_intros(t, IBOX_ASKED, "ivy", 3, 72, got_id, &g);
	ok(ids_are(&g, 1, 70), "before: the ones below it");
	memset(&g, 0, sizeof g);
	store_scan_intros(t, IBOX_VIA, "lou", 3, 0, got_id, &g);
	ok(ids_are(&g, 2, 72, 71), "a member's box of asks to make");
	memset(&g, 0, sizeof g);
	g.stop_at = 1;
	store_scan_intros(t, IBOX_VIA, "lou", 3, 0, got_id, &g);
	ok(ids_are(&g, 1, 72), "and stops when told");
	memset(&g, 0, sizeof g);
	store_scan_intros(t, IBOX_VIA, "kim", 3, 0, got_id, &g);
	ok(ids_are(&g, 0), "`to` is in neither box");
	memset(&g, 0, sizeof g);
	store_scan_intros(t, IBOX_ASKED, "iv", 2, 0, got_id, &g);
	ok(ids_are(&g, 0), "none for a prefix of a member's id");
	is_int(store_commit(t), STORE_OK, "commit");
	t = store_begin_read(s);
	ok(store_intro_get(t, 72, &back) == STORE_OK &&
	    strcmp(back.via, "lou") == 0, "committed: read in a snapshot");
	store_abort(t);
}

static void
add_event(struct stx *t, const char *member, bool notify, int64_t at,
    const char *data)
{
	store_event_add(t, store_event_head(t) + 1, at, member, strlen(member),
	    notify, data, strlen(data));
}

static void
test_events(struct store *s)
{
	struct stx *t;
	struct got g;
	char data[16];
	int i;

	t = store_begin(s, NULL);
	ok(store_event_head(t) == 0 && store_event_pruned(t, NULL, 0) == 0 &&
	    store_event_pruned(t, "rex", 3) == 0, "no events yet");
	add_event(t, "rex", true, 100, "one");
	add_event(t, "sam", false, 100, "two");
	add_event(t, "sam", true, 200, "three");
	add_event(t, "rex", true, 300, "four");
	add_event(t, "rex", false, 300, "");
	is_int(store_event_head(t), 5, "the head is the last seq");
	memset(&g, 0, sizeof g);
	store_event_scan(t, 0, NULL, 0, got_event, &g);
	ok(ids_are(&g, 5, 1, 2, 3, 4, 5), "every event in order");
	is_str(g.s[0], "rex|1|100|one", "with its member, notify, at, data");
	is_str(g.s[4], "rex|0|300|", "an empty one");
	memset(&g, 0, sizeof g);
	store_event_scan(t, 3, NULL, 0, got_event, &g);
	ok(ids_are(&g, 2, 4, 5), "after a seq");
	memset(&g, 0, sizeof g);
	g.stop_at = 2;
	store_event_scan(t, 0, NULL, 0, got_event, &g);
	ok(ids_are(&g, 2, 1, 2), "a scan of events stops when told");
	memset(&g, 0, sizeof g);
	store_event_scan(t, 0, "rex", 3, got_event, &g);
	ok(ids_are(&g, 2, 1, 4), "a member's notifications only");
	is_str(g.s[1], "rex|1|300|four", "whole");
	memset(&g, 0, sizeof g);
	store_event_scan(t, 1, "rex", 3, got_event, &g);
	ok(ids_are(&g, 1, 4), "after a seq");
	memset(&g, 0, sizeof g);
	store_event_scan(t, UINT64_MAX, NULL, 0, got_event, &g);
	store_event_scan(t, UINT64_MAX, "rex", 3, got_event, &g);
	is_int(g.n, 0, "after the largest seq: none");

	is_int(store_event_prune(t, 99, 10), 0, "nothing written before 100");
	is_int(store_event_prune(t, 200, 2), 2, "pruning stops at max");
	ok(store_event_pruned(t, NULL, 0) == 2 &&
	    store_event_pruned(t, "rex", 3) == 1 &&
	    store_event_pruned(t, "sam", 3) == 0,
	    "the last pruned: of all, and of each member's notifications");
	is_int(store_event_prune(t, 200, 10), 1, "then the rest up to at");
	ok(store_event_pruned(t, NULL, 0) == 3 &&
	    store_event_pruned(t, "sam", 3) == 3, "the markers move on");
	memset(&g, 0, sizeof g);
	store_event_scan(t, 0, NULL, 0, got_event, &g);
	ok(ids_are(&g, 2, 4, 5), "pruned events are gone");
	memset(&g, 0, sizeof g);
	store_event_scan(t, 0, "sam", 3, got_event, &g);
	is_int(g.n, 0, "from the member's notifications too");
	is_int(store_event_head(t), 5, "the head stays");
	is_int(store_commit(t), STORE_OK, "commit");

	/* Many, pruned in steps: the scan keeps its place as it deletes. */
	t = store_begin(s, NULL);
	for (i = 0; i < 3000; i++) {
		snprintf(data, sizeof data, "e%d", i);
		add_event(t, i % 3 ? "tom" : "uma", i % 2 == 0, 1000 + i, data);
	}
	is_int(store_event_prune(t, 1000 + 1499, 1000), 1000,
	    "a thousand pruned");
	is_int(store_event_prune(t, 1000 + 1499, 1000), 502,
	    "then the rest dated up to at (with two older ones)");
	memset(&g, 0, sizeof g);
	store_event_scan(t, 0, NULL, 0, got_event, &g);
	ok(g.n == 1500 && g.v[0] == 1506 && strcmp(g.s[0], "uma|1|2500|e1500")
	    == 0, "the next event is whole: %s", g.s[0]);
	memset(&g, 0, sizeof g);
	store_event_scan(t, 0, "uma", 3, got_event, &g);
	ok(g.n == 250 && g.v[0] == 1506, "so are a member's notifications");
	is_int(store_event_pruned(t, "uma", 3), 1500,
	    "the member's marker is its last pruned notification");
	is_int(store_commit(t), STORE_OK, "commit");
}

static void
test_deadlines(struct store *s)
{
	struct store_counts c;
	struct due d, first;
	struct stx *t;

	t = store_begin(s, NULL);
	ok(!store_due_first(t, &first), "no deadline yet");
	d.at = 300; d.kind = DUE_EXPIRE; d.id = 9;
	store_due_add(t, &d);
	d.at = 200; d.kind = DUE_STALE; d.id = 10;
	store_due_add(t, &d);
	d.at = 200; d.kind = DUE_EXPIRE; d.id = 11;
	store_due_add(t, &d);
	d.at = 200; d.kind = DUE_EXPIRE; d.id = 3;
	store_due_add(t, &d);
	d.at = 1LL << 40; d.kind = DUE_COOLDOWN; d.id = 1;
	store_due_add(t, &d);
	store_due_add(t, &d);
	store_counts(t, &c);
	is_int(c.deadlines, 5, "deadlines are counted, a repeat once");
	ok(store_due_first(t, &first) && first.at == 200 &&
	    first.kind == DUE_EXPIRE && first.id == 3,
	    "the first is the earliest, by [at][kind][id]");
	store_due_del(t, &first);
	ok(store_due_first(t, &first) && first.at == 200 &&
	    first.kind == DUE_EXPIRE && first.id == 11, "then by id");
	store_due_del(t, &first);
	ok(store_due_first(t, &first) && first.at == 200 &&
	    first.kind == DUE_STALE && first.id == 10, "then by kind");
	store_due_del(t, &first);
	store_due_del(t, &first);
	ok(store_due_first(t, &first) && first.at == 300,
	    "then by at; removing one twice is fine");
	store_counts(t, &c);
	is_int(c.deadlines, 2, "and counted once");
	d.at = 300; d.kind = DUE_EXPIRE; d.id = 9;
	store_due_del(t, &d);
	ok(store_due_first(t, &first) && first.at == 1LL << 40 &&
	    first.kind == DUE_COOLDOWN && first.id == 1, "a far one last");
	is_int(store_commit(t), STORE_OK, "commit");
}

static void
test_sticky(struct store *s)
{
	unsigned char buf[4];
	struct store_counts c;
	struct pair pr;
	struct due first;
	struct inv got;
	struct stx *t;
	struct got g;
	size_t len;

	t = store_begin(s, NULL);
	put_new(t, 60, "vic", "wes", 7000);
	store_plan_put(t, 60, "too long for buf", 16);
	is_int(store_error(t), STORE_OK, "no error yet");
	is_int(store_plan_get(t, 60, buf, sizeof buf, &len), STORE_FAILED,
	    "a record larger than the caller's buffer fails");
	is_int(store_error(t), STORE_FAILED, "the failure sticks");
	ok(store_strerror(s)[0] != '\0', "with a message: %s",
	    store_strerror(s));
	put_new(t, 61, "vic", "wes", 7001);
	store_fail(t, STORE_MAP_FULL, "a later failure");
	is_int(store_error(t), STORE_FAILED, "the first failure is the one kept");
	ok(store_inv_get(t, 60, &got) == STORE_FAILED &&
	    store_plan_get(t, 60, buf, sizeof buf, &len) == STORE_FAILED,
	    "gets answer with it");
	memset(&g, 0, sizeof g);
	store_scan_box(t, BOX_SENT, "vic", 3, 0, got_id, &g);
	store_scan_history(t, "vic", 3, "wes", 3, got_id, &g);
	store_scan_plans(t, "vic", 3, got_id, &g);
	store_event_scan(t, 0, NULL, 0, got_event, &g);
	is_int(g.n, 0, "scans find nothing");
	store_counts(t, &c);
	store_pair_get(t, "vic", 3, "wes", 3, &pr);
	ok(c.state[ST_PENDING] == 0 && pr.attempts == 0 &&
	    store_next_id(t) == 0 && store_event_head(t) == 0 &&
	    !store_due_first(t, &first), "reads are zero");
	is_int(store_commit(t), STORE_FAILED, "the commit reports it");
	t = store_begin_read(s);
	ok(store_inv_get(t, 60, &got) == STORE_NOTFOUND &&
	    store_inv_get(t, 61, &got) == STORE_NOTFOUND &&
	    store_plan_get(t, 60, buf, sizeof buf, &len) == STORE_NOTFOUND,
	    "a failed commit leaves nothing, before the failure or after");
	store_abort(t);

	t = store_begin_read(s);
	put_new(t, 62, "vic", "wes", 7002);
	ok(store_error(t) != STORE_OK, "writing in a snapshot fails");
	ok(store_commit(t) != STORE_OK, "and its commit says so");
	t = store_begin_read(s);
	is_int(store_inv_get(t, 62, &got), STORE_NOTFOUND, "nothing written");
	store_abort(t);
}

static void
test_children(struct store *s)
{
	struct stx *t, *child, *grand;
	struct store_counts before, c;
	struct inv got;

	t = store_begin(s, NULL);
	store_counts(t, &before);
	put_new(t, 70, "xena", "yuri", 8000);
	child = store_begin(s, t);
	ok(store_inv_get(child, 70, &got) == STORE_OK,
	    "a child sees its parent's work");
	put_new(child, 71, "xena", "yuri1", 8001);
	store_conn_put(child, "xena", 4, "yuri", 4, 8001);
	store_abort(child);
	store_counts(t, &c);
	ok(store_inv_get(t, 71, &got) == STORE_NOTFOUND &&
	    store_conn_get(t, "xena", 4, "yuri", 4) == 0 &&
	    moved(t, &before, 1, 0, 0, 0, 0) &&
	    c.connections == before.connections,
	    "an aborted child leaves its parent as it was");
	child = store_begin(s, t);
	put_new(child, 72, "xena", "yuri2", 8002);
	grand = store_begin(s, child);
	put_new(grand, 73, "xena", "yuri3", 8003);
	is_int(store_commit(grand), STORE_OK, "a grandchild commits");
	is_int(store_commit(child), STORE_OK, "a child commits");
	ok(store_inv_get(t, 72, &got) == STORE_OK &&
	    store_inv_get(t, 73, &got) == STORE_OK,
	    "into its parent, which sees the work");
	child = store_begin(s, t);
	put_new(child, 74, "xena", "yuri4", 8004);
	store_fail(child, STORE_FAILED, "a child's failure");
	is_int(store_commit(child), STORE_FAILED, "a failed child reports it");
	ok(store_error(t) == STORE_OK &&
	    store_inv_get(t, 74, &got) == STORE_NOTFOUND,
	    "its parent goes on without its work");
	is_int(store_commit(t), STORE_OK, "the parent commits");

	t = store_begin(s, NULL);
	store_fail(t, STORE_FAILED, "a parent's failure");
	child = store_begin(s, t);
	is_int(store_error(child), STORE_FAILED,
	    "a child of a failed transaction starts failed");
	store_abort(child);
	store_abort(t);
}

static void
test_snapshots(struct store *s)
{
	struct store_counts c0, c1;
	struct stx *r, *w;
	struct inv got;

	r = store_begin_read(s);
	store_counts(r, &c0);
	w = store_begin(s, NULL);
	put_new(w, 80, "zed", "amy", 9000);
	is_int(store_commit(w), STORE_OK, "a write beside a snapshot commits");
	store_counts(r, &c1);
	ok(store_inv_get(r, 80, &got) == STORE_NOTFOUND &&
	    c1.state[ST_PENDING] == c0.state[ST_PENDING],
	    "the snapshot does not see it");
	store_abort(r);
	r = store_begin_read(s);
	is_int(store_inv_get(r, 80, &got), STORE_OK, "a later snapshot does");
	store_abort(r);
}

/* The whole-store scans and the backend's own check (connreqd --check). */
struct whole {
	struct stx *t;
	int n, stop_at;
	bool ordered, match;
	uint64_t last_id;
	struct due last_due;
	char last_pair[2 * (MEMBER_MAX_BYTES + 1)];
	size_t last_pair_len;
	bool seen;		/* the pair put below */
	int problems;
};

static bool
whole_inv(void *ctx, uint64_t id)
{
	struct whole *w = ctx;
	struct inv v;

	if (w->n > 0 && id <= w->last_id)
		w->ordered = false;
	if (store_inv_get(w->t, id, &v) != STORE_OK || v.id != id)
		w->match = false;
	w->last_id = id;
	return ++w->n != w->stop_at;
}

static bool
whole_pair(void *ctx, const char *from, size_t flen, const char *to,
    size_t tlen, const struct pair *p)
{
	struct whole *w = ctx;
	char k[sizeof w->last_pair];
	size_t n = flen + tlen + 2, min;
	struct pair got;

	memcpy(k, from, flen);
	k[flen] = '\0';
	memcpy(k + flen + 1, to, tlen);
	k[n - 1] = '\0';
	min = n < w->last_pair_len ? n : w->last_pair_len;
	if (w->n > 0 && (memcmp(w->last_pair, k, min) > 0 ||
	    (memcmp(w->last_pair, k, min) == 0 && w->last_pair_len >= n)))
		w->ordered = false;
	memcpy(w->last_pair, k, n);
	w->last_pair_len = n;
	store_pair_get(w->t, from, flen, to, tlen, &got);
	if (memcmp(&got, p, sizeof got) != 0)
		w->match = false;
	if (flen == 6 && memcmp(from, "whole1", 6) == 0 && tlen == 6 &&
	    memcmp(to, "whole2", 6) == 0 && p->open_id == 77 &&
	    p->cooldown_until == 123 && p->withdrawals == 4 &&
	    p->attempts == 5)
		w->seen = true;
	return ++w->n != w->stop_at;
}

static bool
whole_due(void *ctx, const struct due *d)
{
	struct whole *w = ctx;
	const struct due *l = &w->last_due;

	if (w->n > 0 && (d->at < l->at || (d->at == l->at &&
	    (d->kind < l->kind || (d->kind == l->kind && d->id <= l->id)))))
		w->ordered = false;
	if (d->at == 4242 && d->kind == DUE_STALE && d->id == 78)
		w->seen = true;
	w->last_due = *d;
	return ++w->n != w->stop_at;
}

static void
whole_problem(void *ctx, const char *what, const char *details)
{
	struct whole *w = ctx;

	diag("store_check: %s: %s", what, details);
	w->problems++;
}

static void
test_whole(struct store *s)
{
	struct store_counts c;
	struct whole w;
	struct stx *t;
	struct pair pr = { 77, 123, 4, 5 };
	struct due d = { 4242, DUE_STALE, 78 };
	uint64_t total = 0;
	int i;

	t = store_begin(s, NULL);
	store_pair_put(t, "whole1", 6, "whole2", 6, &pr);
	store_due_add(t, &d);
	put_new(t, 90, "whole1", "whole2", 4000);
	is_int(store_commit(t), STORE_OK, "commit");

	t = store_begin_read(s);
	store_counts(t, &c);
	for (i = 0; i < ST_COUNT; i++)
		total += c.state[i];
	memset(&w, 0, sizeof w);
	w.t = t;
	w.ordered = w.match = true;
	store_scan_invitations(t, whole_inv, &w);
	ok(w.n > 0 && (uint64_t)w.n == total && w.ordered && w.match &&
	    w.last_id == 90, "every invitation, once, by id (%d of %llu)",
	    w.n, (unsigned long long)total);
	memset(&w, 0, sizeof w);
	w.t = t;
	w.stop_at = 2;
	store_scan_invitations(t, whole_inv, &w);
	is_int(w.n, 2, "the scan of invitations stops when told");

	memset(&w, 0, sizeof w);
	w.t = t;
	w.ordered = w.match = true;
	store_scan_pairs(t, whole_pair, &w);
	ok(w.n > 1 && w.ordered && w.match && w.seen,
	    "every pair, by from then to, as pair_get reads it");
	memset(&w, 0, sizeof w);
	w.t = t;
	w.stop_at = 1;
	store_scan_pairs(t, whole_pair, &w);
	is_int(w.n, 1, "the scan of pairs stops when told");

	memset(&w, 0, sizeof w);
	w.ordered = true;
	store_scan_dues(t, whole_due, &w);
	ok((uint64_t)w.n == c.deadlines && w.ordered && w.seen,
	    "every deadline, once, by [at][kind][id] (%d of %llu)", w.n,
	    (unsigned long long)c.deadlines);
	memset(&w, 0, sizeof w);
	w.stop_at = 1;
	store_scan_dues(t, whole_due, &w);
	is_int(w.n, 1, "the scan of deadlines stops when told");

	memset(&w, 0, sizeof w);
	store_check(t, whole_problem, &w);
	is_int(w.problems, 0,
	    "the backend's own check finds nothing in a store written through store.h");
	is_int(store_error(t), STORE_OK, "and the snapshot is still good");
	store_abort(t);
}

/* store_open_check (the default backend): refused while the store is open,
 * then read-only. */
static void
test_open_check(struct store **sp)
{
	struct store *c;
	struct stx *t;
	struct inv got;
	char why[512];

	c = store_open_check(where, why, sizeof why);
	ok(c == NULL && strstr(why, "in use") != NULL,
	    "store_open_check refuses a store that is open: %s", why);
	store_close(c);
	store_close(*sp);
	*sp = NULL;
	c = store_open_check(where, why, sizeof why);
	ok(c != NULL, "and opens it once closed");
	if (c == NULL)
		return;
	t = store_begin_read(c);
	is_int(store_inv_get(t, 90, &got), STORE_OK, "a snapshot reads it");
	store_abort(t);
	t = store_begin(c, NULL);
	ok(store_error(t) != STORE_OK, "a write transaction cannot begin");
	is_int(store_commit(t), STORE_FAILED, "and its commit fails");
	*sp = open_store();
	ok(*sp == NULL, "no store opens for writing while it is checked");
	store_close(*sp);
	store_close(c);
	*sp = open_store();
}

/* Where a fresh store of the backend goes: a new directory (LMDB), a new
 * database on the test's cluster (PostgreSQL, its conninfo). 0 or -1. */
static int
fresh_where(void)
{
	if (strcmp(backend->name, "postgresql") == 0) {
		if (!pg.up && pgcluster_start(&pg) == -1)
			return -1;
		return pgcluster_newdb(&pg, where, sizeof where);
	}
	strcpy(where, "/tmp/connreq-contract-XXXXXX");
	return mkdtemp(where) == NULL ? -1 : 0;
}

/* member.erase's operations: each removes what it names and only that. */
static void
test_erasing(struct store *s)
{
	struct store_counts c0;
	struct member_rec m;
	struct intro in;
	struct stx *t;
	struct got g;
	struct inv v;
	int64_t oldest;
	uint64_t seq;
	unsigned char plan[4] = "plan";

	t = store_begin(s, NULL);
	store_counts(t, &c0);
	v = mkinv(9001, "zqv", "amyz", 7000);
	store_inv_put(t, &v, ST_COUNT);
	put_new(t, 9002, "amyz", "zqv", 7001);
	store_log_add(t, LOG_SENDS, "zqv", 3, 7000, 9001, 0);
	store_log_add(t, LOG_SENDS, "zqvd", 4, 7000, 9003, 0);
	store_log_add(t, LOG_REPORTS, "zqv", 3, 7000, 9002, 1);
	store_log_add(t, LOG_NOTES, "zqv:0123456789abcdef", 20, 7000, 9001, 0);
	store_log_add(t, LOG_NOTES, "zqv:x:0123456789abcdef", 22, 7000, 9004,
	    0);
	store_flag_set(t, FLAG_BLOCK, "zqv", 3, "bo", 2, true);
	store_flag_set(t, FLAG_AUTOACCEPT, "zqv", 3, "cy", 2, true);
	store_flag_set(t, FLAG_BLOCK, "amyz", 4, "zqv", 3, true);
	memset(&m, 0, sizeof m);
	m.email_len = 3;
	memcpy(m.email, "z@x", 4);
	store_member_put(t, "zqv", 3, &m);
	store_member_put(t, "zqvd", 4, &m);
	store_plan_put(t, 9010, plan, sizeof plan);
	store_plan_index(t, "zqv", 3, 9010);
	memset(&in, 0, sizeof in);
	in.id = 9020;
	in.state = INTRO_ASKED;
	memcpy(in.from, "amyz", 4);
	in.from_len = 3;
	memcpy(in.via, "bo", 2);
	in.via_len = 2;
	memcpy(in.to, "zqv", 3);
	in.to_len = 3;
	store_intro_put(t, &in);
	seq = store_event_head(t) + 1;
	add_event(t, "zqv", true, 7000, "about zqv");
	add_event(t, "amyz", true, 7000, "zqv did it");
	if (!ok(store_commit(t) == STORE_OK,
	    "erasing: a member's rows, committed"))
		diag("%s", store_strerror(s));

	t = store_begin(s, NULL);
	memset(&g, 0, sizeof g);
	store_scan_intros_to(t, "zqv", 3, got_id, &g);
	ok(ids_are(&g, 1, 9020), "the introductions to a member");
	memset(&g, 0, sizeof g);
	store_scan_intros_to(t, "ze", 2, got_id, &g);
	is_int(g.n, 0, "... to that member alone");
	memset(&g, 0, sizeof g);
	store_scan_events_naming(t, "zqv", 3, got_event, &g);
	ok(ids_are(&g, 2, seq, seq + 1),
	    "the events whose member or data holds the id's bytes");
	store_inv_get(t, 9001, &v);
	store_inv_del(t, &v);
	ok(store_inv_get(t, 9001, &v) == STORE_NOTFOUND &&
	    moved(t, &c0, 1, 0, 0, 0, 0),
	    "an invitation deleted: gone, and its state's count");
	memset(&g, 0, sizeof g);
	store_scan_box(t, BOX_SENT, "zqv", 3, 0, got_id, &g);
	store_scan_box(t, BOX_RECEIVED, "amyz", 4, 0, got_id, &g);
	if (!ok(g.n == 0, "... from both boxes"))
		diag("%llu", (unsigned long long)g.v[0]);
	memset(&g, 0, sizeof g);
	store_scan_history(t, "amyz", 4, "zqv", 3, got_id, &g);
	ok(ids_are(&g, 1, 9002), "... and from the pair's history");
	store_member_get(t, "zqv", 3, &m);
	is_int(m.open_sent, 0, "... and from its sender's open count");
	store_member_del(t, "zqv", 3);
	is_int(store_log_count(t, LOG_SENDS, "zqv", 3, 0, 100, &oldest) +
	    store_log_count(t, LOG_REPORTS, "zqv", 3, 0, 100, &oldest) +
	    store_log_count(t, LOG_NOTES, "zqv:0123456789abcdef", 20, 0, 100,
	    &oldest), 0, "a member deleted: its logs, its notes too");
	ok(store_log_count(t, LOG_SENDS, "zqvd", 4, 0, 100, &oldest) == 1 &&
	    store_log_count(t, LOG_NOTES, "zqv:x:0123456789abcdef", 22, 0,
	    100, &oldest) == 1, "... not those of zqvd or zqv:x");
	ok(!store_flag_get(t, FLAG_BLOCK, "zqv", 3, "bo", 2) &&
	    !store_flag_get(t, FLAG_AUTOACCEPT, "zqv", 3, "cy", 2),
	    "... the flags it set");
	ok(store_flag_get(t, FLAG_BLOCK, "amyz", 4, "zqv", 3),
	    "... not one another set on it");
	/* A member spelt like another's notes key: those rows are not its. */
	store_log_add(t, LOG_NOTES, "zqx:0123456789abcdef", 20, 7000, 9005, 0);
	store_member_del(t, "zqx:0123456789abcdef", 20);
	is_int(store_log_count(t, LOG_NOTES, "zqx:0123456789abcdef", 20, 0,
	    100, &oldest), 1,
	    "a member named zqx:0123456789abcdef deleted: zqx's notes under that key stay");
	store_member_get(t, "zqv", 3, &m);
	ok(m.email_len == 0, "... its row");
	store_member_get(t, "zqvd", 4, &m);
	ok(m.email_len == 3, "... not zqvd's");
	store_plan_del(t, "zqv", 3, 9010);
	memset(&g, 0, sizeof g);
	store_scan_plans(t, "zqv", 3, got_id, &g);
	ok(g.n == 0 && store_plan_get(t, 9010, plan, sizeof plan, &(size_t){ 0 })
	    == STORE_NOTFOUND, "a plan deleted, and its index row");
	store_intro_del(t, &in);
	memset(&g, 0, sizeof g);
	store_scan_intros(t, IBOX_ASKED, "amyz", 4, 0, got_id, &g);
	store_scan_intros(t, IBOX_VIA, "bo", 2, 0, got_id, &g);
	ok(g.n == 0 && store_intro_get(t, 9020, &in) == STORE_NOTFOUND,
	    "an introduction deleted, and its index rows");
	store_event_redact(t, seq + 1, "kept", 4, false);
	memset(&g, 0, sizeof g);
	store_event_scan(t, 0, "amyz", 4, got_event, &g);
	ok(g.n == 1 && strcmp(g.s[0], "amyz|1|7000|kept") == 0,
	    "an event rewritten for its member: its data alone changed (%s)",
	    g.s[0]);
	store_event_redact(t, seq + 1, "gone", 4, true);
	memset(&g, 0, sizeof g);
	store_event_scan(t, seq, NULL, 0, got_event, &g);
	ok(g.n == 1 && strcmp(g.s[0], "|0|7000|gone") == 0,
	    "an event redacted keeps its place: nobody's, told to nobody (%s)",
	    g.s[0]);
	memset(&g, 0, sizeof g);
	store_event_scan(t, 0, "amyz", 4, got_event, &g);
	is_int(g.n, 0, "... and leaves its member's feed");
	is_int(store_commit(t), STORE_OK, "commit");
	t = store_begin_read(s);
	ok(store_inv_get(t, 9001, &v) == STORE_NOTFOUND &&
	    store_flag_get(t, FLAG_BLOCK, "amyz", 4, "zqv", 3),
	    "as committed");
	store_abort(t);
}

static void
check_backend(void)
{
	struct store *s;
	char cmd[600];

	if (fresh_where() == -1) {
		ok(0, "%s: a place for a fresh store", backend->name);
		return;
	}
	diag("backend %s", backend->name);
	s = open_store();
	ok(s != NULL, "%s: a new store opens", backend->name);
	if (s == NULL)
		return;
	test_persistence(&s);
	if (s == NULL)
		return;
	test_invitations(s);
	test_boxes(s);
	test_pairs_and_connections(s);
	test_mutual(s);
	test_logs_flags_members(s);
	test_plans(s);
	test_intros(s);
	test_events(s);
	test_deadlines(s);
	test_sticky(s);
	test_children(s);
	test_snapshots(s);
	test_whole(s);
	test_erasing(s);
	if (backend == store_backends[0])
		test_open_check(&s);
	if (s == NULL)
		return;
	s = reopen(s);
	ok(s != NULL, "%s: the store opens again at the end", backend->name);
	store_close(s);
	if (where[0] != '/')
		return;		/* a database: it goes with the cluster */
	snprintf(cmd, sizeof cmd, "rm -rf %s", where);
	if (system(cmd) != 0)
		diag("cannot remove %s", where);
}

int
main(void)
{
	int i;

	for (i = 0; store_backends[i] != NULL; i++) {
		backend = store_backends[i];
		check_backend();
	}
	pgcluster_stop(&pg);
	return done_testing();
}
