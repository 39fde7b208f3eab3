/* The LMDB backend alone (daemon/store-lmdb.c): the lock on its directory,
 * its record formats as its header documents them, the map's growth, the
 * schema version. What every backend does is tested, on every backend, by
 * tests/test_store_contract.c. */
#include <stdlib.h>
#include <unistd.h>

#include <lmdb.h>

#include "../daemon/store.h"
#include "store_fixture.h"
#include "tap.h"

/* Reads key from the database named db of the LMDB environment in dir, as
 * another program would; the value's size, or -1 when it is not there. */
static long
raw_get(const char *dir, const char *db, const void *key, size_t klen,
    unsigned char *out, size_t cap)
{
	MDB_val k = { klen, (void *)key }, v;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	long n = -1;

	if (mdb_env_create(&env) != 0)
		return -1;
	mdb_env_set_maxdbs(env, 32);
	if (mdb_env_open(env, dir, MDB_RDONLY, 0600) == 0 &&
	    mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) == 0) {
		if (mdb_dbi_open(txn, db, 0, &dbi) == 0 &&
		    mdb_get(txn, dbi, &k, &v) == 0 && v.mv_size <= cap) {
			memcpy(out, v.mv_data, v.mv_size);
			n = (long)v.mv_size;
		}
		mdb_txn_abort(txn);
	}
	mdb_env_close(env);
	return n;
}

int
main(void)
{
	static const unsigned char sent_key[] = {
		0x61, 0x6c, 0x69, 0x63, 0x65, 0x00, 0x03,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05
	};
	static const unsigned char pair_val[] = {
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
		0x00, 0x00, 0x00, 0x00, 0x65, 0x53, 0xf1, 0x00,
		0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x03
	};
	char dir[] = "/tmp/connreq-store-XXXXXX", why[512], cmd[600];
	unsigned char buf[64];
	struct store *s, *s2;
	struct stx *t;
	struct inv v, got;
	struct pair pr;
	uint64_t id;
	int rc, i;

	if (mkdtemp(dir) == NULL)
		return 1;
	s = store_open(dir, 1ULL << 30, why, sizeof why);
	ok(s != NULL, "a new store opens in %s", dir);
	s2 = store_open(dir, 1ULL << 30, why, sizeof why);
	ok(s2 == NULL && strstr(why, "in use"),
	    "a second opener is refused: %s", why);

	/* The worked example at the top of daemon/store-lmdb.c. */
	t = store_begin(s, NULL);
	v = mkinv(5, "alice", "bob", 1000);
	store_inv_put(t, &v, ST_COUNT);
	pr.open_id = 5;
	pr.cooldown_until = 1700000000;
	pr.withdrawals = 2;
	pr.attempts = 3;
	store_pair_put(t, "alice", 5, "bob", 3, &pr);
	is_int(store_commit(t), STORE_OK, "an invitation and a pair commit");
	store_close(s);
	is_int(raw_get(dir, "member_rows", sent_key, sizeof sent_key, buf,
	    sizeof buf), 0, "the sent box's key is as documented");
	ok(raw_get(dir, "member_rows", "alice\0\002bob", 11, buf, sizeof buf) ==
	    sizeof pair_val && memcmp(buf, pair_val, sizeof pair_val) == 0,
	    "so is the pair's record");
	ok(raw_get(dir, "sent", sent_key, sizeof sent_key, buf, sizeof buf) ==
	    -1 && raw_get(dir, "pairs", "alice\0bob", 10, buf, sizeof buf) ==
	    -1, "in member_rows, not in databases of their own");

	/* Growth: a small map fills, grows, and stops at its maximum. */
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
	/* A grow may first make room by a checkpoint (0: try again); at
	 * the maximum it then says no, and writing still cannot. */
	for (i = 0; i < 1000 && store_grow(s) == 0; i++) {
		t = store_begin(s, NULL);
		v = mkinv(id, "alice", "bob", 1);
		v.note_len = 4000;
		memset(v.note, 'n', 4000);
		store_inv_put(t, &v, ST_COUNT);
		if ((rc = store_commit(t)) == STORE_OK)
			id++;
	}
	ok(i < 1000 && rc == STORE_MAP_FULL, "and it cannot grow past its maximum (%d checkpoints made room first)", i);
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
