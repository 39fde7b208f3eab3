/* connreqd on PostgreSQL (connreqd --postgres), what only a shared
 * database brings: the database going away and coming back under a
 * running daemon (UNAVAILABLE, then served again with no restart), and
 * two daemons on one database (what one answered the other reads; the
 * same pair sent through both at the same instant ends with exactly one
 * pending invitation; conflicts are retried, never fatal), and the event
 * pumps and a reload, which run between the worker's jobs. The cluster is
 * the test's own (tests/pgcluster.h, via harness.h's HARNESS_PG). */
#define HARNESS_PG 1
#include "harness.h"

#define ROUNDS 20		/* of pipelined sends through both daemons */
#define PER_ROUND 8		/* pairs a round */

static struct cr_reply r;

/* Whether the file at path holds s. */
static bool
file_has(const char *path, const char *s)
{
	char buf[8192];
	size_t n;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return false;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, s) != NULL;
}

static pid_t watcher;

static void
db_allow(const struct dproc *p, bool allow)
{
	char db[64], sql[256];

	dproc_dbname(p, db, sizeof db);
	snprintf(sql, sizeof sql, "ALTER DATABASE %s ALLOW_CONNECTIONS %s",
	    db, allow ? "true" : "false");
	if (pgcluster_sql(&harness_pg, "postgres", sql) == -1)
		bail_out("%s", sql);
	if (allow)
		return;
	snprintf(sql, sizeof sql,
	    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
	    "WHERE datname = '%s'", db);
	if (pgcluster_sql(&harness_pg, "postgres", sql) == -1)
		bail_out("%s", sql);
}

static void
test_unavailable(void)
{
	static const char *const map1m[] = { "--map-size-max", "1M", NULL };
	struct dproc p;
	struct cr_client *c;
	uint64_t id;
	int rc, tries = 0;
	int64_t start;

	dproc_init(&p);
	dproc_config(&p, NO_LIMITS);
	if (!ok(dproc_start(&p, T0, map1m) == 0, "connreqd --postgres starts"))
		return;
	ok(dproc_logged(&p, "--map-size-max is LMDB's map"),
	    "--map-size-max with --postgres: said to mean nothing there, in the log");
	c = dconnect(&p);
	id = send_inv(c, &r, "alice", "bob");
	ok(id > 0, "alice invites bob");
	{
		const char *bin = getenv("CONNREQ_BIN");
		char cmd[600], line[512], all[4096] = "";
		FILE *f;

		snprintf(cmd, sizeof cmd, "'%s/connreq' -s '%s' info 2>&1",
		    bin ? bin : "build/bin", p.sock);
		f = popen(cmd, "r");
		while (f != NULL && fgets(line, sizeof line, f) != NULL)
			strncat(all, line, sizeof all - strlen(all) - 1);
		if (f != NULL)
			pclose(f);
		ok(strstr(all, "(PostgreSQL)") != NULL && strstr(all, "map ") == NULL,
		    "connreq info names the PostgreSQL store, with no LMDB map");
	}

	db_allow(&p, false);
	cr_reply_free(&r);
	rc = call(c, &r, "invite.send", "from:s to:s", "carol", "dave");
	ok(rc == 1 && refused(&r, "UNAVAILABLE") && r.retry_at >= T0,
	    "the database gone: a write gets UNAVAILABLE with retry_at (%s: %s, retry_at %lld)",
	    r.code, r.message, (long long)r.retry_at);
	cr_reply_free(&r);
	rc = call(c, &r, "invite.get", "id:u", id);
	ok(rc == 1 && refused(&r, "UNAVAILABLE") && r.retry_at >= T0,
	    "a read too (%s)", r.code);
	cr_reply_free(&r);
	ok(call(c, &r, "hello", "") == 0 && rnum(&r, "protocol") > 0,
	    "hello, which needs no store, is answered meanwhile (a health probe tells the daemon from the database)");
	{
		const char *bin = getenv("CONNREQ_BIN");
		char cmd[600], line[512], all[2048] = "";
		FILE *f;
		int st;

		snprintf(cmd, sizeof cmd, "'%s/connreq' -s '%s' send carol erin 2>&1",
		    bin ? bin : "build/bin", p.sock);
		f = popen(cmd, "r");
		while (f != NULL && fgets(line, sizeof line, f) != NULL)
			strncat(all, line, sizeof all - strlen(all) - 1);
		st = f != NULL ? pclose(f) : -1;
		ok(WIFEXITED(st) && WEXITSTATUS(st) == 4 &&
		    strstr(all, "UNAVAILABLE") != NULL &&
		    strstr(all, "its log says why") != NULL,
		    "the CLI exits 4 for it, not 1 (a rule's), and says where to look (exit %d: %.200s)",
		    WIFEXITED(st) ? WEXITSTATUS(st) : -1, all);
	}
	ok(dproc_alive(&p), "connreqd keeps running");
	ok(dproc_logged(&p, "requests get UNAVAILABLE"),
	    "and says why in its log");

	/* A watch started now waits for the database, and then goes on. */
	{
		const char *bin = getenv("CONNREQ_BIN");
		char path[300], out[400], errf[400];
		int fd;

		snprintf(out, sizeof out, "%s/watch.out", p.dir);
		snprintf(errf, sizeof errf, "%s/watch.err", p.dir);
		snprintf(path, sizeof path, "%s/connreq", bin ? bin : "build/bin");
		fflush(stdout);
		watcher = fork();
		if (watcher == 0) {
			fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
			dup2(fd, 1);
			fd = open(errf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
			dup2(fd, 2);
			execl(path, "connreq", "-s", p.sock, "watch", "dave",
			    (char *)NULL);
			_exit(127);
		}
		start = harness_ms();
		while (!file_has(errf, "trying again") && wait_tick(start))
			;
		ok(file_has(errf, "database is unavailable") &&
		    waitpid(watcher, NULL, WNOHANG) == 0,
		    "connreq watch started while the database is unavailable: it waits, it does not exit");
	}
	db_allow(&p, true);
	/* It connects again at the next request: no restart. */
	start = harness_ms();
	do {
		cr_reply_free(&r);
		rc = call(c, &r, "invite.send", "from:s to:s", "carol", "dave");
		tries++;
	} while (rc == 1 && refused(&r, "UNAVAILABLE") && wait_tick(start));
	ok(rc == 0 && strcmp(rstr(&r, "invitation.state"), "pending") == 0,
	    "the database back: the same daemon serves writes again (after %d tries)",
	    tries);
	cr_reply_free(&r);
	ok(call(c, &r, "invite.get", "id:u", id) == 0 &&
	    strcmp(rstr(&r, "invitation.state"), "pending") == 0,
	    "and what it answered before is still there");
	{
		char out[400];

		char errf[400];

		/* Without --after it shows what comes once it is
		 * subscribed: it says so when it is. */
		snprintf(out, sizeof out, "%s/watch.out", p.dir);
		snprintf(errf, sizeof errf, "%s/watch.err", p.dir);
		start = harness_ms();
		while (!file_has(errf, "watching") && wait_tick(start))
			;
		cr_reply_free(&r);
		call(c, &r, "invite.send", "from:s to:s", "gus", "dave");
		start = harness_ms();
		while (!file_has(out, "gus") && wait_tick(start))
			;
		ok(file_has(errf, "watching") && file_has(out, "gus"),
		    "the watch subscribes once the database is back, and prints dave's next invitation");
		kill(watcher, SIGTERM);
		waitpid(watcher, NULL, 0);
	}
	ok(dproc_logged(&p, "the database answers again"),
	    "its log says it is back");

	/* The database hangs: another session holds a lock every write
	 * needs. A write waits in the worker; hello, on another connection,
	 * is answered at once from the loop all the same. */
	{
		char db[64], ci[256];
		struct cr_client *w = dconnect(&p);
		msgpack_sbuffer sb;
		msgpack_packer pk;
		msgpack_unpacked up;
		PGconn *lk;
		PGresult *res;
		int64_t t0, t_sent;

		dproc_dbname(&p, db, sizeof db);
		pgcluster_conninfo(&harness_pg, db, ci, sizeof ci);
		lk = PQconnectdb(ci);
		res = PQexec(lk, "BEGIN; LOCK TABLE meta IN ACCESS EXCLUSIVE MODE");
		ok(PQresultStatus(res) == PGRES_COMMAND_OK,
		    "another session locks the table every write needs");
		PQclear(res);
		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		msgpack_pack_array(&pk, 4);
		msgpack_pack_uint8(&pk, 0);
		msgpack_pack_uint32(&pk, 77);
		msgpack_pack_str(&pk, 11);
		msgpack_pack_str_body(&pk, "invite.send", 11);
		msgpack_pack_array(&pk, 1);
		msgpack_pack_map(&pk, 2);
		msgpack_pack_str(&pk, 4);
		msgpack_pack_str_body(&pk, "from", 4);
		msgpack_pack_str(&pk, 4);
		msgpack_pack_str_body(&pk, "hugo", 4);
		msgpack_pack_str(&pk, 2);
		msgpack_pack_str_body(&pk, "to", 2);
		msgpack_pack_str(&pk, 4);
		msgpack_pack_str_body(&pk, "iris", 4);
		cr_send_raw(w, sb.data, sb.size);
		t_sent = harness_ms();
		msgpack_sbuffer_destroy(&sb);
		/* Until the daemon's write waits on the lock. */
		t0 = harness_ms();
		for (;;) {
			res = PQexec(lk, "SELECT count(*) FROM pg_stat_activity "
			    "WHERE wait_event_type = 'Lock' AND "
			    "datname = current_database()");
			if (PQresultStatus(res) == PGRES_TUPLES_OK &&
			    strcmp(PQgetvalue(res, 0, 0), "0") != 0) {
				PQclear(res);
				break;
			}
			PQclear(res);
			if (!wait_tick(t0))
				break;
		}
		t0 = harness_ms();
		cr_reply_free(&r);
		rc = call(c, &r, "hello", "");
		t0 = harness_ms() - t0;
		ok(rc == 0 && t0 < 2000,
		    "hello is answered while a write waits on the database (%lld ms)",
		    (long long)t0);
		/* The write does not wait for ever: past the session's
		 * lock_timeout it is answered UNAVAILABLE. */
		msgpack_unpacked_init(&up);
		rc = cr_read_message(w, &up, WAIT_MS);
		t_sent = harness_ms() - t_sent;
		ok(rc == 0 && up.data.via.array.ptr[2].type == MSGPACK_OBJECT_MAP &&
		    t_sent < 30000,
		    "a write held by a lock elsewhere is answered, not held for ever (after %lld ms; the lock timeout is 5 s)",
		    (long long)t_sent);
		if (up.data.type == MSGPACK_OBJECT_ARRAY &&
		    up.data.via.array.ptr[2].type == MSGPACK_OBJECT_MAP) {
			char code[64] = "";
			const msgpack_object_map *em =
			    &up.data.via.array.ptr[2].via.map;
			uint32_t k;

			for (k = 0; k < em->size; k++)
				if (em->ptr[k].key.via.str.size == 4 &&
				    memcmp(em->ptr[k].key.via.str.ptr, "code", 4) == 0)
					snprintf(code, sizeof code, "%.*s",
					    (int)em->ptr[k].val.via.str.size,
					    em->ptr[k].val.via.str.ptr);
				else if (em->ptr[k].key.via.str.size == 7 &&
				    memcmp(em->ptr[k].key.via.str.ptr, "message", 7) == 0)
					diag("its message: %.*s",
					    (int)em->ptr[k].val.via.str.size,
					    em->ptr[k].val.via.str.ptr);
			is_str(code, "UNAVAILABLE", "with UNAVAILABLE");
		} else
			ok(0, "with UNAVAILABLE");
		msgpack_unpacked_destroy(&up);
		res = PQexec(lk, "ROLLBACK");
		PQclear(res);
		PQfinish(lk);
		cr_reply_free(&r);
		ok(call(c, &r, "invite.send", "from:s to:s", "hugo", "iris") == 0,
		    "the lock released, the same write is done");
		cr_close(w);
	}

	/* The connection lost during the COMMIT itself: a trigger deferred
	 * to the commit ends the backend there. Whether it committed cannot
	 * be known from the daemon: the answer must not claim success. */
	{
		char db[64];

		dproc_dbname(&p, db, sizeof db);
		if (pgcluster_sql(&harness_pg, db,
		    "CREATE FUNCTION die() RETURNS trigger LANGUAGE plpgsql AS "
		    "$$ BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); "
		    "RETURN NULL; END $$; "
		    "CREATE CONSTRAINT TRIGGER die AFTER INSERT ON invitations "
		    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
		    "WHEN (NEW.sender = 'doomed'::bytea) EXECUTE FUNCTION die()")
		    == -1)
			bail_out("cannot create the trigger");
		cr_reply_free(&r);
		rc = call(c, &r, "invite.send", "from:s to:s", "doomed", "zed");
		ok(rc == 1 && refused(&r, "UNAVAILABLE") && r.retry_at >= T0 &&
		    strstr(r.message, "may or may not have been applied") != NULL,
		    "the connection lost during COMMIT: UNAVAILABLE, saying it may or may not have been applied (%s)",
		    r.message);
		cr_reply_free(&r);
		ok(call(c, &r, "invite.get", "id:u", id) == 0 && dproc_alive(&p),
		    "and the daemon serves the next request");
	}

	/* The lock's release failing after COMMIT succeeded (in COMMIT's
	 * round trip): the write is done, and is answered as done. A
	 * pg_advisory_unlock(bigint) of the database's own, found before
	 * pg_catalog's by the sessions the daemon makes again once its
	 * backends are ended, fails while unlock_fails has a row. */
	{
		char db[64], sql[1024];
		uint64_t kid = 0;

		dproc_dbname(&p, db, sizeof db);
		snprintf(sql, sizeof sql,
		    "CREATE TABLE public.unlock_fails (x int); "
		    "CREATE FUNCTION public.pg_advisory_unlock(bigint) "
		    "RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN "
		    "IF EXISTS (SELECT 1 FROM public.unlock_fails) THEN "
		    "RAISE EXCEPTION 'unlock refused'; END IF; "
		    "RETURN pg_catalog.pg_advisory_unlock($1); END $$; "
		    "ALTER DATABASE \"%s\" SET search_path = public, "
		    "pg_catalog; "
		    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
		    "WHERE datname = current_database() AND "
		    "pid <> pg_backend_pid()", db);
		if (pgcluster_sql(&harness_pg, db, sql) == -1)
			bail_out("cannot create the failing unlock");
		/* Until the daemon has connected again (the first write
		 * after its sessions went may be UNAVAILABLE). */
		for (tries = 0; tries < 20; tries++) {
			cr_reply_free(&r);
			if (call(c, &r, "invite.send", "from:s to:s", "ivy",
			    "jack") == 0)
				break;
			usleep(100000);
		}
		ok(tries < 20, "the daemon writes again after its sessions were ended");
		if (pgcluster_sql(&harness_pg, db,
		    "INSERT INTO public.unlock_fails VALUES (1)") == -1)
			bail_out("cannot make the unlock fail");
		cr_reply_free(&r);
		rc = call(c, &r, "invite.send", "from:s to:s", "kate", "liam");
		if (rc == 0)
			kid = (uint64_t)rnum(&r, "invitation.id");
		ok(rc == 0 && kid > 0,
		    "the lock's release failing after a COMMIT that succeeded: the write is answered as done (%s)",
		    rc == 0 ? "done" : r.message);
		if (pgcluster_sql(&harness_pg, db,
		    "DELETE FROM public.unlock_fails") == -1)
			bail_out("cannot let the unlock work");
		cr_reply_free(&r);
		ok(call(c, &r, "invite.list", "member:s box:s", "kate",
		    "sent") == 0 && rnum(&r, "items") == 1 &&
		    (uint64_t)rnum(&r, "items.0.id") == kid &&
		    strcmp(rstr(&r, "items.0.state"), "pending") == 0,
		    "and the invitation is there, pending, with the id answered");
		cr_reply_free(&r);
		ok(call(c, &r, "invite.send", "from:s to:s", "mia", "ned") ==
		    0 && dproc_alive(&p), "and the daemon writes on");
	}
	cr_reply_free(&r);
	cr_close(c);
	is_int(dproc_stop(&p, SIGTERM), 0, "SIGTERM: exit 0");
	dproc_cleanup(&p);
}

/* Waits for count events on s (each within WAIT_MS); their seqs. */
static size_t
collect(struct cr_client *s, uint64_t *seqs, size_t max, size_t count)
{
	struct cr_reply ev;
	size_t n = 0;

	while (n < count && n < max && cr_next_event(s, &ev, WAIT_MS) == 0) {
		seqs[n++] = (uint64_t)rnum(&ev, "seq");
		cr_reply_free(&ev);
	}
	return n;
}

static int
in_order(const uint64_t *seqs, size_t n, uint64_t first)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (seqs[i] != first + i)
			return 0;
	return 1;
}

/* Subscribers on PostgreSQL: the events are pumped to them by jobs on
 * the store's worker (never by the loop), live and from a cursor; a
 * reload (SIGHUP) lands between two jobs while requests go on. */
static void
test_events_and_reload(void)
{
	struct dproc p;
	struct cr_client *c, *s;
	uint64_t seqs[64], h0, last;
	size_t n;
	int i;
	char to[16];

	dproc_init(&p);
	dproc_config(&p, NO_LIMITS);
	if (!ok(dproc_start(&p, T0, NULL) == 0, "connreqd --postgres starts"))
		return;
	c = dconnect(&p);
	s = dconnect(&p);
	h0 = head(c, &r);
	cr_reply_free(&r);
	ok(call(s, &r, "events.subscribe", "all:b", 1) == 0 &&
	    (uint64_t)rnum(&r, "head") == h0, "subscribe to all at the head");
	for (i = 0; i < 5; i++) {
		snprintf(to, sizeof to, "r%d", i);
		send_inv(c, &r, "ivy", to);
	}
	n = collect(s, seqs, 64, 5);
	ok(n == 5 && in_order(seqs, n, h0 + 1), "five live events, in order");
	last = n > 0 ? seqs[n - 1] : 0;
	cr_close(s);
	for (i = 5; i < 10; i++) {
		snprintf(to, sizeof to, "r%d", i);
		send_inv(c, &r, "ivy", to);
	}
	ok(dproc_sighup(&p, "SIGHUP: reloaded"), "SIGHUP: reloaded");
	s = dconnect(&p);
	cr_reply_free(&r);
	call(s, &r, "events.subscribe", "all:b after:u", 1, last);
	for (i = 10; i < 13; i++) {
		snprintf(to, sizeof to, "r%d", i);
		send_inv(c, &r, "ivy", to);
	}
	n = collect(s, seqs, 64, 8);
	ok(n == 8 && in_order(seqs, n, last + 1),
	    "resumed from its cursor: the 5 missed, then 3 live, each once");
	cr_reply_free(&r);
	ok(cr_next_event(s, &r, 200) == 1, "and nothing more");
	cr_reply_free(&r);
	cr_close(s);
	s = dconnect(&p);
	call(s, &r, "events.subscribe", "member:s after:u", "r3", h0);
	n = collect(s, seqs, 64, 1);
	cr_reply_free(&r);
	ok(n == 1 && cr_next_event(s, &r, 200) == 1,
	    "a member's feed replays only that member's");
	cr_reply_free(&r);
	cr_close(s);
	cr_close(c);
	is_int(dproc_stop(&p, SIGTERM), 0, "SIGTERM: exit 0");
	dproc_cleanup(&p);
}

/* Sends from -> each of n recipients (prefix N), half through a, half
 * through b, all pipelined at once; an UNAVAILABLE answer (conflicts past
 * the retries) is sent again, as a client would. Counts the successes and
 * the refusals with code `refusal`; *other gets the rest. */
static int
limited_burst(struct cr_client *a, struct cr_client *b, const char *from,
    const char *prefix, int n, const char *refusal, int *refused_n,
    int *other)
{
	uint32_t ids[64];
	int i, done = 0, good = 0, tries;
	char to[32];

	*refused_n = 0;
	for (i = 0; i < n; i++) {
		snprintf(to, sizeof to, "%s%d", prefix, i);
		ids[i] = send_pipelined(i % 2 ? b : a, from, to, 0);
	}
	for (i = 0; i < n; i++) {
		struct cr_client *c = i % 2 ? b : a;

		snprintf(to, sizeof to, "%s%d", prefix, i);
		for (tries = 0; tries < 20; tries++) {
			cr_reply_free(&r);
			if (cr_wait(c, ids[i], &r) == -1)
				break;
			if (!refused(&r, "UNAVAILABLE"))
				break;
			ids[i] = send_pipelined(c, from, to, 0);
		}
		done++;
		if (r.error == NULL)
			good++;
		else if (refused(&r, refusal))
			(*refused_n)++;
		else {
			(*other)++;
			diag("%s -> %s: %s: %s", from, to, r.code, r.message);
		}
	}
	cr_reply_free(&r);
	return done == n ? good : -1;
}

/* The sender's limits hold exactly when one sender sends through two
 * daemons at once: the count is made in the same serializable transaction
 * as the send, so the database orders them. */
static void
test_limits_across(void)
{
	struct dproc a, b;
	struct cr_client *ca, *cb;
	int good, refused_n, other = 0;

	dproc_init_two(&a, &b, "[limits]\nsends_per_day = 10\n"
	    "sends_per_week = 0\npending_warn = 0\npending_max = 7\n"
	    "invites_per_pair = 0\nduplicate_note_warn = 0\n");
	if (!ok(dproc_start(&a, T0, NULL) == 0 &&
	    dproc_start(&b, T0, NULL) == 0,
	    "limits: two connreqd on one database, at most 7 pending and 10 sends a day"))
		return;
	ca = dconnect(&a);
	cb = dconnect(&b);
	good = limited_burst(ca, cb, "capped", "cr", 30, "PENDING_CAP",
	    &refused_n, &other);
	ok(good == 7 && refused_n == 23,
	    "30 sends from one sender through both at once: exactly 7 pending, 23 PENDING_CAP (%d, %d)",
	    good, refused_n);
	/* Withdrawing makes room under the cap, not under the day's count:
	 * 3 more sends fit the day's 10, the rest are RATE_LIMITED. */
	{
		uint64_t ids[7];
		char path[32];
		int i, n, withdrawn = 0;

		cr_reply_free(&r);
		call(cb, &r, "invite.list", "member:s box:s state:s limit:u",
		    "capped", "sent", "pending", (uint64_t)10);
		n = (int)rnum(&r, "items");
		for (i = 0; i < n && i < 7; i++) {
			snprintf(path, sizeof path, "items.%d.id", i);
			ids[i] = (uint64_t)rnum(&r, path);
		}
		for (i = 0; i < n && i < 7; i++) {
			cr_reply_free(&r);
			withdrawn += call(i % 2 ? cb : ca, &r, "invite.withdraw",
			    "actor:s id:u", "capped", ids[i]) == 0;
		}
		cr_reply_free(&r);
		is_int(withdrawn, 7, "all 7 withdrawn, through both");
	}
	good = limited_burst(ca, cb, "capped", "cd", 20, "RATE_LIMITED",
	    &refused_n, &other);
	ok(good == 3 && refused_n == 17,
	    "then 20 more at once: exactly 3 (the day's 10th), 17 RATE_LIMITED (%d, %d)",
	    good, refused_n);
	is_int(other, 0, "no other answer (conflicts are retried)");
	cr_close(ca);
	cr_close(cb);
	dproc_stop(&a, SIGTERM);
	dproc_stop(&b, SIGTERM);
	dproc_cleanup(&a);
	dproc_cleanup(&b);
}

static void
test_two_daemons(void)
{
	static const char *const verbose[] = { "-v", NULL };
	struct dproc a, b;
	struct cr_client *ca, *cb;
	uint32_t ida[PER_ROUND], idb[PER_ROUND];
	char from[32], to[32];
	uint64_t id;
	int round, i, oka, okb, exact = 0, other = 0, lost = 0;

	dproc_init_two(&a, &b, NO_LIMITS);
	/* -v: their logs count the batches run again after a conflict. */
	if (!ok(dproc_start(&a, T0, verbose) == 0 &&
	    dproc_start(&b, T0, verbose) == 0,
	    "two connreqd on one database"))
		return;
	ca = dconnect(&a);
	cb = dconnect(&b);
	id = send_inv(ca, &r, "erin", "fay");
	cr_reply_free(&r);
	ok(id > 0 && call(cb, &r, "invite.get", "id:u", id) == 0 &&
	    strcmp(rstr(&r, "invitation.from"), "erin") == 0 &&
	    strcmp(rstr(&r, "invitation.state"), "pending") == 0,
	    "a send through A is seen by a get through B");
	send_inv(cb, &r, "erin", "fay");
	ok(refused(&r, "ALREADY_PENDING"),
	    "and B refuses the same pair: ALREADY_PENDING");

	for (round = 0; round < ROUNDS; round++) {
		for (i = 0; i < PER_ROUND; i++) {
			snprintf(from, sizeof from, "s%d-%d", round, i);
			snprintf(to, sizeof to, "t%d-%d", round, i);
			ida[i] = send_pipelined(ca, from, to, 0);
			idb[i] = send_pipelined(cb, from, to, 0);
		}
		for (i = 0; i < PER_ROUND; i++) {
			cr_reply_free(&r);
			if (cr_wait(ca, ida[i], &r) == -1) {
				lost++;
				continue;
			}
			oka = r.error == NULL;
			if (r.error != NULL && !refused(&r, "ALREADY_PENDING")) {
				other++;
				diag("A: %s: %s", r.code, r.message);
			}
			cr_reply_free(&r);
			if (cr_wait(cb, idb[i], &r) == -1) {
				lost++;
				continue;
			}
			okb = r.error == NULL;
			if (r.error != NULL && !refused(&r, "ALREADY_PENDING")) {
				other++;
				diag("B: %s: %s", r.code, r.message);
			}
			if (oka + okb == 1)
				exact++;
		}
	}
	cr_reply_free(&r);
	is_int(lost, 0, "every pipelined send was answered");
	is_int(other, 0, "each refused one says ALREADY_PENDING (conflicts are retried, not shown)");
	is_int(exact, ROUNDS * PER_ROUND,
	    "the same pair through A and B at once: exactly one succeeds, %d pairs",
	    ROUNDS * PER_ROUND);
	cr_reply_free(&r);
	call(cb, &r, "server.info", "");
	is_int(rnum(&r, "counts.pending"), ROUNDS * PER_ROUND + 1,
	    "and the database holds exactly one pending invitation per pair");
	cr_reply_free(&r);
	ok(call(ca, &r, "invite.list", "member:s box:s", "s3-3", "sent") == 0 &&
	    rnum(&r, "items") == 1, "one in the sender's box, through A");
	cr_reply_free(&r);
	oka = call(ca, &r, "hello", "") == 0;
	cr_reply_free(&r);
	okb = call(cb, &r, "hello", "") == 0;
	ok(dproc_alive(&a) && dproc_alive(&b) && oka && okb,
	    "both daemons keep serving");
	diag("conflicts retried: A %d, B %d (log lines)",
	    dproc_log_count(&a, "run again"), dproc_log_count(&b, "run again"));
	diag("keyed transactions: A %d, B %d", dproc_log_count(&a, ", keyed"),
	    dproc_log_count(&b, ", keyed"));
	ok(dproc_log_count(&a, ", keyed") > 0 &&
	    dproc_log_count(&b, ", keyed") > 0,
	    "both daemons ran keyed batches (store_begin_keyed()) meanwhile");
	cr_reply_free(&r);
	cr_close(ca);
	cr_close(cb);
	{
		static const char *const check[] = { "--check", NULL };
		struct dproc k = a;	/* A's database and log, A's pid kept */
		int st;

		st = dproc_refused(&k, 0, check);
		ok(WIFEXITED(st) && WEXITSTATUS(st) == 2 &&
		    dproc_logged(&a, "in use by a running connreqd"),
		    "connreqd --check --postgres refuses the database while daemons run");
		is_int(dproc_stop(&a, SIGTERM), 0, "A stops: exit 0");
		is_int(dproc_stop(&b, SIGTERM), 0, "B stops: exit 0");
		char line[64];

		st = dproc_refused(&k, 0, check);
		snprintf(line, sizeof line, "check: %d invitations",
		    ROUNDS * PER_ROUND + 1);
		ok(WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
		    dproc_logged(&a, line) &&
		    dproc_logged(&a, ": clean"),
		    "then checks it: clean, every invitation there (status 0x%x)",
		    st);
	}
	dproc_cleanup(&a);
	dproc_cleanup(&b);
}

int
main(void)
{
	harness_pg_start();
	test_unavailable();
	test_events_and_reload();
	test_two_daemons();
	test_limits_across();
	return done_testing();
}
