/* The store on a temporary directory: records, indexes, deadlines, schema,
 * locking, growth. */
#include <stdlib.h>
#include <unistd.h>

#include <lmdb.h>

#include "../daemon/store.h"
#include "tap.h"

static struct inv
mkinv(uint64_t id, const char *from, const char *to, int64_t at)
{
	struct inv v;

	memset(&v, 0, sizeof v);
	v.id = id;
	v.state = ST_PENDING;
	v.priority = PRIO_HIGH;
	v.attempt = 1;
	v.created_at = v.updated_at = at;
	v.expires_at = at + 100;
	v.stale_at = at + 10;
	v.from_len = strlen(from);
	memcpy(v.from, from, v.from_len);
	v.to_len = strlen(to);
	memcpy(v.to, to, v.to_len);
	v.note_len = 5;
	memcpy(v.note, "hi\0yo", 5);
	return v;
}

struct ids {
	uint64_t v[32];
	int n;
	int stop_at;
};

static bool
collect(void *ctx, uint64_t id)
{
	struct ids *ids = ctx;

	ids->v[ids->n++] = id;
	return ids->n != ids->stop_at;
}

static bool
collect_conn(void *ctx, const char *other, size_t len, int64_t since)
{
	struct ids *ids = ctx;

	(void)other;
	ids->v[ids->n++] = (uint64_t)since + len;
	return true;
}

int
main(void)
{
	char dir[] = "/tmp/connreq-store-XXXXXX", why[512], cmd[600];
	struct store *s, *s2;
	struct stx *t, *child;
	struct inv v, got;
	struct pair pr;
	struct due d, first;
	struct store_counts c;
	struct ids ids;
	uint64_t i, id;
	int rc;

	if (mkdtemp(dir) == NULL)
		return 1;
	s = store_open(dir, 1ULL << 30, why, sizeof why);
	ok(s != NULL, "a new store opens in %s", dir);
	s2 = store_open(dir, 1ULL << 30, why, sizeof why);
	ok(s2 == NULL && strstr(why, "in use"),
	    "a second opener is refused: %s", why);

	t = store_begin(s, NULL);
	is_int(store_next_id(t), 1, "ids start at 1");
	is_int(store_next_id(t), 2, "and count up");
	for (i = 1; i <= 5; i++) {
		v = mkinv(i, i % 2 ? "alice" : "carol", "bob", 1000 + (int64_t)i);
		store_inv_put(t, &v, ST_COUNT);
	}
	v = mkinv(6, "bob", "alice", 2000);
	store_inv_put(t, &v, ST_COUNT);
	is_int(store_commit(t), STORE_OK, "six invitations commit");

	t = store_begin(s, NULL);
	ok(store_inv_get(t, 3, &got) == STORE_OK && got.id == 3 &&
	    got.from_len == 5 && strcmp(got.from, "alice") == 0 &&
	    got.note_len == 5 && memcmp(got.note, "hi\0yo", 5) == 0 &&
	    got.expires_at == 1103 && got.priority == PRIO_HIGH,
	    "a record reads back whole, NUL in the note included");
	is_int(store_inv_get(t, 99, &got), STORE_NOTFOUND, "a missing id");

	memset(&ids, 0, sizeof ids);
	store_scan_box(t, BOX_SENT, "alice", 5, 0, collect, &ids);
	ok(ids.n == 3 && ids.v[0] == 5 && ids.v[1] == 3 && ids.v[2] == 1,
	    "alice's sent box, newest first: %d items", ids.n);
	memset(&ids, 0, sizeof ids);
	store_scan_box(t, BOX_SENT, "alice", 5, 5, collect, &ids);
	ok(ids.n == 2 && ids.v[0] == 3, "a cursor continues below it");
	memset(&ids, 0, sizeof ids);
	store_scan_box(t, BOX_RECEIVED, "bob", 3, 0, collect, &ids);
	is_int(ids.n, 5, "bob received five");
	memset(&ids, 0, sizeof ids);
	store_scan_box(t, BOX_SENT, "ali", 3, 0, collect, &ids);
	is_int(ids.n, 0, "a prefix of a member id matches nothing");
	memset(&ids, 0, sizeof ids);
	ids.stop_at = 2;
	store_scan_box(t, BOX_RECEIVED, "bob", 3, 0, collect, &ids);
	is_int(ids.n, 2, "a scan stops when asked");
	memset(&ids, 0, sizeof ids);
	store_scan_history(t, "bob", 3, "alice", 5, collect, &ids);
	ok(ids.n == 4 && ids.v[0] == 1 && ids.v[3] == 6,
	    "history holds both directions, oldest first");

	store_counts(t, &c);
	is_int(c.state[ST_PENDING], 6, "six pending counted");
	v = mkinv(2, "carol", "bob", 1002);
	v.state = ST_ACCEPTED;
	store_inv_put(t, &v, ST_PENDING);
	store_counts(t, &c);
	ok(c.state[ST_PENDING] == 5 && c.state[ST_ACCEPTED] == 1,
	    "counters follow a change of state");

	store_pair_get(t, "alice", 5, "bob", 3, &pr);
	ok(pr.open_id == 0 && pr.attempts == 0, "a missing pair reads as zero");
	pr.open_id = 5;
	pr.cooldown_until = 12345;
	pr.withdrawals = 2;
	pr.attempts = 3;
	store_pair_put(t, "alice", 5, "bob", 3, &pr);
	memset(&pr, 0, sizeof pr);
	store_pair_get(t, "alice", 5, "bob", 3, &pr);
	ok(pr.open_id == 5 && pr.cooldown_until == 12345 &&
	    pr.withdrawals == 2 && pr.attempts == 3, "a pair round-trips");
	store_pair_get(t, "bob", 3, "alice", 5, &pr);
	is_int(pr.open_id, 0, "pairs have a direction");

	store_conn_put(t, "alice", 5, "bob", 3, 500);
	store_conn_put(t, "alice", 5, "dave", 4, 600);
	is_int(store_conn_get(t, "bob", 3, "alice", 5), 500,
	    "connections are symmetric");
	memset(&ids, 0, sizeof ids);
	store_scan_conns(t, "alice", 5, NULL, 0, collect_conn, &ids);
	ok(ids.n == 2 && ids.v[0] == 503 && ids.v[1] == 604,
	    "alice's connections in order of id");
	memset(&ids, 0, sizeof ids);
	store_scan_conns(t, "alice", 5, "bob", 3, collect_conn, &ids);
	ok(ids.n == 1 && ids.v[0] == 604, "a cursor skips past bob");
	store_conn_del(t, "bob", 3, "alice", 5);
	is_int(store_conn_get(t, "alice", 5, "bob", 3), 0,
	    "removal removes both directions");
	store_counts(t, &c);
	is_int(c.connections, 1, "one connection counted");

	d.at = 300; d.kind = DUE_EXPIRE; d.id = 9;
	store_due_add(t, &d);
	d.at = 200; d.kind = DUE_STALE; d.id = 10;
	store_due_add(t, &d);
	d.at = 200; d.kind = DUE_EXPIRE; d.id = 11;
	store_due_add(t, &d);
	d.at = 1ULL << 40; d.kind = DUE_COOLDOWN; d.id = 1;
	store_due_add(t, &d);
	ok(store_due_first(t, &first) && first.at == 200 &&
	    first.kind == DUE_EXPIRE && first.id == 11,
	    "the earliest deadline comes first ([due][kind][id])");
	store_due_del(t, &first);
	ok(store_due_first(t, &first) && first.at == 200 &&
	    first.kind == DUE_STALE, "then the next");
	store_counts(t, &c);
	is_int(c.deadlines, 3, "deadlines are counted");
	store_set_vclock(t, 777);
	is_int(store_commit(t), STORE_OK, "commit");

	/* A child transaction undoes alone. */
	t = store_begin(s, NULL);
	child = store_begin(s, t);
	v = mkinv(50, "x", "y", 1);
	store_inv_put(child, &v, ST_COUNT);
	store_abort(child);
	child = store_begin(s, t);
	v = mkinv(51, "x", "y", 1);
	store_inv_put(child, &v, ST_COUNT);
	is_int(store_commit(child), STORE_OK, "a child commits into its parent");
	is_int(store_commit(t), STORE_OK, "the parent commits");
	t = store_begin(s, NULL);
	ok(store_inv_get(t, 50, &got) == STORE_NOTFOUND &&
	    store_inv_get(t, 51, &got) == STORE_OK,
	    "the aborted child left nothing, the other one stayed");
	store_abort(t);
	store_close(s);

	/* Reopen: everything is still there. */
	s = store_open(dir, 1ULL << 30, why, sizeof why);
	ok(s != NULL, "the store reopens");
	t = store_begin(s, NULL);
	ok(store_inv_get(t, 6, &got) == STORE_OK && got.created_at == 2000,
	    "records survive a reopen");
	is_int(store_get_vclock(t), 777, "so does the virtual clock");
	ok(store_due_first(t, &first) && first.at == 200, "and deadlines");
	store_abort(t);

	/* Growth: a small map fills, grows, and stops at its maximum. */
	store_close(s);
	snprintf(cmd, sizeof cmd, "rm -rf %s/*", dir);
	if (system(cmd) != 0)
		return 1;
	s = store_open(dir, 1ULL << 20, why, sizeof why);
	ok(s != NULL && store_map_size(s) == (1ULL << 20),
	    "a store with a 1 MiB maximum starts at it");
	rc = STORE_OK;
	for (id = 1; id < 100000 && rc == STORE_OK; id++) {
		t = store_begin(s, NULL);
		v = mkinv(id, "alice", "bob", 1);
		v.note_len = 4000;
		memset(v.note, 'n', 4000);
		store_inv_put(t, &v, ST_COUNT);
		rc = store_commit(t);
	}
	is_int(rc, STORE_MAP_FULL, "writing past the map says MAP_FULL (after %llu)",
	    (unsigned long long)id);
	is_int(store_grow(s), -1, "and it cannot grow past its maximum");
	t = store_begin(s, NULL);
	ok(store_inv_get(t, 1, &got) == STORE_OK, "reads still work when full");
	store_abort(t);
	store_close(s);

	s = store_open(dir, 64ULL << 20, why, sizeof why);
	ok(s != NULL && store_map_size(s) == (8ULL << 20),
	    "reopened with a larger maximum it maps 8 MiB");
	ok(store_grow(s) == 0 && store_map_size(s) == (16ULL << 20),
	    "and grows by doubling");
	store_close(s);

	/* A store of another schema is refused, clearly. */
	snprintf(cmd, sizeof cmd, "rm -rf %s/*", dir);
	if (system(cmd) != 0)
		return 1;
	{
		MDB_env *env;
		MDB_txn *txn;
		MDB_dbi dbi;
		MDB_val k = { 7, "schema" }, val = { 4, "\0\0\0\x09" };

		mdb_env_create(&env);
		mdb_env_set_maxdbs(env, 4);
		mdb_env_open(env, dir, 0, 0600);
		mdb_txn_begin(env, NULL, 0, &txn);
		mdb_dbi_open(txn, "meta", MDB_CREATE, &dbi);
		mdb_put(txn, dbi, &k, &val, 0);
		mdb_txn_commit(txn);
		mdb_env_close(env);
	}
	s = store_open(dir, 1ULL << 30, why, sizeof why);
	ok(s == NULL && strstr(why, "schema version 9"),
	    "another schema is refused: %s", why);

	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return done_testing();
}
