/* The keys of a keyed write transaction (store_begin_keyed()) become
 * transaction advisory locks, one bigint each, in the database's one
 * space of bigint advisory locks: the space daemon/store-pg.c's own locks
 * live in (LOCK_OPEN, which every open store holds shared; LOCK_CREATE;
 * LOCK_WRITE; LOCK_DUES). A key is a 64-bit hash of what the client
 * named (a member id, a request_id): one that happens to equal one of
 * those must not be taken as that lock. Taken as LOCK_OPEN, exclusive, it
 * waits for every other store (every other daemon) to close: lock_timeout,
 * then UNAVAILABLE, with LOCK_WRITE held shared meanwhile (every other
 * daemon's exclusive writer waits behind it). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../daemon/store-backend.h"
#include "pgcluster.h"
#include "tap.h"

/* daemon/store-pg.c's. */
#define PG_LOCK_OPEN 7165328340573331201ULL
#define PG_LOCK_CREATE 7165328340573331202ULL
#define PG_LOCK_WRITE 7165328340573331204ULL
#define PG_LOCK_DUES 7165328340573331203ULL

static struct pgcluster pg;

static int64_t
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
main(void)
{
	static const struct {
		uint64_t k;
		const char *name;
	} own[] = { { PG_LOCK_OPEN, "LOCK_OPEN" }, { PG_LOCK_CREATE, "LOCK_CREATE" },
	    { PG_LOCK_WRITE, "LOCK_WRITE" }, { PG_LOCK_DUES, "LOCK_DUES" } };
	char ci[256], why[512];
	struct store *s1, *s2;
	struct store_keys ks;
	struct stx *t;
	int64_t t0, ms;
	unsigned i;
	int rc;

	if (pgcluster_start(&pg) == -1)
		bail_out("cannot start a PostgreSQL cluster");
	if (pgcluster_newdb(&pg, ci, sizeof ci) == -1)
		bail_out("cannot create a database");
	s1 = store_open_backend(&store_pg, ci, 1ULL << 30, why, sizeof why);
	if (s1 == NULL)
		bail_out("open: %s", why);
	/* A second store on the database, as a second daemon: it holds
	 * PG_LOCK_OPEN shared. */
	s2 = store_open_backend(&store_pg, ci, 1ULL << 30, why, sizeof why);
	if (s2 == NULL)
		bail_out("open: %s", why);
	for (i = 0; i < sizeof own / sizeof own[0]; i++) {
		memset(&ks, 0, sizeof ks);
		ks.k[0] = own[i].k;
		ks.k[1] = 42;
		ks.n = 2;
		t0 = ms_now();
		t = store_begin_keyed(s1, &ks);
		rc = store_error(t);
		ms = ms_now() - t0;
		ok(rc == STORE_OK && ms < 2000,
		    "a keyed transaction whose key is %s's number begins at once (%s, %lld ms)",
		    own[i].name, rc == STORE_OK ? "ok" : store_strerror(s1),
		    (long long)ms);
		store_abort(t);
	}
	/* And the other store still writes at once. */
	t0 = ms_now();
	t = store_begin(s2, NULL);
	is_int(store_commit(t), STORE_OK, "the other store's write");
	ok(ms_now() - t0 < 2000, "at once");
	store_close(s1);
	store_close(s2);
	pgcluster_stop(&pg);
	return done_testing();
}
