/* What the PostgreSQL store backend (daemon/store-pg.c) does beyond the
 * contract (tests/test_store_contract.c runs that on it): the schema and
 * its version, what the database itself enforces, serialization failures
 * between two stores on one database, a lost connection, the snapshot of a
 * read, the read-only open of a check, and the backend's own check. Each
 * on a database of its own on a cluster the test starts (tests/pgcluster.h). */
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../daemon/store-backend.h"
#include "pgcluster.h"
#include "store_fixture.h"
#include "tap.h"

static struct pgcluster pg;

/* A new database: its conninfo in ci, its name in db. */
static void
newdb(char *ci, size_t n, char *db, size_t dn)
{
	if (pgcluster_newdb(&pg, ci, n) == -1)
		bail_out("cannot create a database");
	snprintf(db, dn, "store%u", pg.ndb);
}

static struct store *
open_pg(const char *ci, char *why, size_t whylen)
{
	return store_open_backend(&store_pg, ci, 1ULL << 30, why, whylen);
}

/* store_open_check's open, on the PostgreSQL backend (store_open_check
 * opens the default one). */
static struct store *
open_check_pg(const char *ci, char *why, size_t whylen)
{
	struct store *s = xcalloc(1, store_pg.store_size);

	s->ops = &store_pg;
	s->read_only = true;
	if (store_pg.open(s, ci, 0, why, whylen) == -1) {
		free(s);
		return NULL;
	}
	return s;
}

/* One value from SQL run on database db (the first column of the first
 * row, as text); "" when there is none, "ERROR <sqlstate>" on an error. */
static const char *
sql1(const char *db, const char *sql)
{
	static char out[256];
	char ci[256];
	PGconn *c;
	PGresult *r;
	const char *st;

	pgcluster_conninfo(&pg, db, ci, sizeof ci);
	c = PQconnectdb(ci);
	if (PQstatus(c) != CONNECTION_OK) {
		snprintf(out, sizeof out, "CONNECT %s", PQerrorMessage(c));
		PQfinish(c);
		return out;
	}
	r = PQexec(c, sql);
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0)
		snprintf(out, sizeof out, "%s", PQgetvalue(r, 0, 0));
	else if (PQresultStatus(r) == PGRES_TUPLES_OK ||
	    PQresultStatus(r) == PGRES_COMMAND_OK)
		out[0] = '\0';
	else {
		st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		snprintf(out, sizeof out, "ERROR %s", st ? st : "?");
	}
	PQclear(r);
	PQfinish(c);
	return out;
}

static void
test_schema(void)
{
	char ci[256], db[32], why[512];
	struct store *s, *c;
	struct stx *t;
	struct inv got;

	newdb(ci, sizeof ci, db, sizeof db);
	c = open_check_pg(ci, why, sizeof why);
	ok(c == NULL && strstr(why, "no connreq store") != NULL,
	    "a check of an empty database refuses it: %s", why);
	store_close(c);
	is_str(sql1(db, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"),
	    "0", "and creates nothing in it");

	s = open_pg(ci, why, sizeof why);
	ok(s != NULL, "the first open makes the schema");
	is_str(sql1(db, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"),
	    "15", "its fifteen tables (introductions the thirteenth, requests and import_ids the last)");
	is_str(sql1(db, "SELECT value FROM meta WHERE name = 'schema_version'"),
	    "5", "with its version");
	t = store_begin(s, NULL);
	{
		struct inv v = mkinv(1, "alice", "bob", 1000);

		store_inv_put(t, &v, ST_COUNT);
	}
	is_int(store_commit(t), STORE_OK, "a write commits");
	store_close(s);

	s = open_pg(ci, why, sizeof why);
	t = store_begin_read(s);
	ok(s != NULL && store_inv_get(t, 1, &got) == STORE_OK,
	    "a second open finds the store as it was");
	store_abort(t);
	store_close(s);

	sql1(db, "UPDATE meta SET value = 99 WHERE name = 'schema_version'");
	s = open_pg(ci, why, sizeof why);
	ok(s == NULL, "a newer schema is refused");
	is_str(why,
	    "store schema version 99 is newer than this connreqd (5): upgrade connreqd",
	    "saying so");
	store_close(s);
	c = open_check_pg(ci, why, sizeof why);
	ok(c == NULL && strstr(why, "newer than this connreqd") != NULL,
	    "by a check too: %s", why);
	store_close(c);
	is_str(sql1(db, "SELECT value FROM meta WHERE name = 'schema_version'"),
	    "99", "and left as it was");
	sql1(db, "UPDATE meta SET value = 5 WHERE name = 'schema_version'");
	s = open_pg(ci, why, sizeof why);
	ok(s != NULL, "this version opens again");
	store_close(s);

	s = open_pg("host=/nonexistent dbname=x user=postgres", why, sizeof why);
	ok(s == NULL && strstr(why, "cannot connect to PostgreSQL") != NULL,
	    "no server: a clear refusal: %s", why);
	store_close(s);
}

/* A database of schema version 1, with rows in it, is migrated at its
 * open: what version 2 added (issue 12's columns) reads as nothing set,
 * and the new columns then keep what is written. Version 1 is made here
 * from a new database by taking out what pg_migrations' step to 2 adds. */
static void
test_migrate(void)
{
	char ci[256], db[32], why[512];
	struct store *s, *c;
	struct stx *t;
	struct inv got, v;
	struct member_rec m;

	newdb(ci, sizeof ci, db, sizeof db);
	s = open_pg(ci, why, sizeof why);
	store_close(s);
	is_str(sql1(db, "ALTER TABLE invitations DROP COLUMN held, "
	    "DROP COLUMN automatic, DROP COLUMN remind_at, "
	    "DROP COLUMN introduced_by; "
	    "ALTER TABLE members DROP COLUMN settings; "
	    "DROP TABLE introductions; DROP TABLE requests; DROP TABLE import_ids; "
	    "DROP SEQUENCE invitation_ids; "
	    "UPDATE meta SET value = 1 WHERE name = 'schema_version'; "
	    "INSERT INTO meta VALUES ('next_id', 7); "
	    "INSERT INTO invitations VALUES (7, 0, 1, 1, 1000, 1000, 9000, "
	    "5000, 0, true, false, 0, 'ann', 'bo', 'hi'); "
	    "INSERT INTO members VALUES ('ann', 1, 'a@x', 0, 0, 1)"), "",
	    "a database of version 1, with an invitation and a member");
	c = open_check_pg(ci, why, sizeof why);
	ok(c == NULL && strstr(why, "is older than this connreqd's (5): "
	    "connreqd migrates it when it opens it") != NULL,
	    "a check refuses it, saying a connreqd migrates it: %s", why);
	store_close(c);
	s = open_pg(ci, why, sizeof why);
	ok(s != NULL, "an open migrates it: %s", s != NULL ? "" : why);
	is_str(sql1(db, "SELECT value FROM meta WHERE name = 'schema_version'"),
	    "5", "to version 5 (every step)");
	t = store_begin(s, NULL);
	ok(store_inv_get(t, 7, &got) == STORE_OK && got.ignored &&
	    !got.held && !got.automatic && got.remind_at == 0 &&
	    got.via_len == 0 && strcmp(got.note, "hi") == 0,
	    "its invitation reads as it was, none of the new fields set");
	{
		struct intro in;

		memset(&in, 0, sizeof in);
		in.id = 8;
		in.expires_at = 5;
		memcpy(in.from, "ann", 4);
		in.from_len = 3;
		memcpy(in.via, "cy", 3);
		in.via_len = 2;
		memcpy(in.to, "bo", 3);
		in.to_len = 2;
		ok(store_intro_get(t, 8, &in) == STORE_NOTFOUND,
		    "the introductions table is there, empty");
		in.id = 8;
		store_intro_put(t, &in);
		ok(store_intro_get(t, 8, &in) == STORE_OK &&
		    strcmp(in.via, "cy") == 0, "and keeps one");
	}
	is_int(store_next_id(t), 8,
	    "ids go on from its next_id (7), now from their sequence");
	is_str(sql1(db, "SELECT count(*) FROM meta WHERE name = 'next_id'"),
	    "0", "and next_id's row is gone (an older connreqd gives no id)");
	store_member_get(t, "ann", 3, &m);
	ok(m.invitations_from == 1 && strcmp(m.email, "a@x") == 0 &&
	    m.open_sent == 1 && m.first_seen_at == 1 && m.own == 0,
	    "its member too: first seen long ago (1), no settings of its own");
	v = got;
	v.held = v.automatic = true;
	v.remind_at = 4242;
	memcpy(v.via, "cy", 3);
	v.via_len = 2;
	store_inv_put(t, &v, v.state);
	m.first_seen_at = 900;
	m.own = MEMBER_OWN_HOLD_NEW | MEMBER_OWN_DIGEST;
	m.hold_new_days = 30;
	m.digest_every = 86400;
	m.auto_min_mutual = 3;
	m.auto_until = 123456;
	store_member_put(t, "ann", 3, &m);
	is_int(store_commit(t), STORE_OK, "new fields are written");
	store_close(s);
	s = open_pg(ci, why, sizeof why);
	t = store_begin_read(s);
	ok(store_inv_get(t, 7, &got) == STORE_OK && got.held &&
	    got.automatic && got.remind_at == 4242 && got.via_len == 2 &&
	    strcmp(got.via, "cy") == 0, "and read back after a reopen");
	memset(&m, 0, sizeof m);
	store_member_get(t, "ann", 3, &m);
	ok(m.first_seen_at == 900 && m.own == (MEMBER_OWN_HOLD_NEW |
	    MEMBER_OWN_DIGEST) && m.hold_new_days == 30 &&
	    m.digest_every == 86400 && m.auto_min_mutual == 3 &&
	    m.auto_until == 123456 && strcmp(m.email, "a@x") == 0,
	    "a member's settings too");
	store_abort(t);
	store_close(s);
	is_str(sql1(db, "SELECT octet_length(settings) FROM members"), "39",
	    "kept in members.settings");
}

/* Steps w, waiting on its descriptor as a loop would (for as long as
 * store_watch_timeout() says, else up to 200 ms), until it is up (want_up)
 * or gives up (-1), for at most max_ms: whether it got there. *slept_ms:
 * how long that took. */
static bool
watch_until(struct store_watch *w, bool want_up, int max_ms, int *slept_ms,
    int *timeouts)
{
	struct timespec t0, t1;
	struct pollfd pfd;
	uint64_t head;
	int fd, want, ms, spent;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		fd = store_watch_step(w, &want, &head);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		spent = (int)((t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000);
		*slept_ms = spent;
		if (want_up ? store_watch_up(w) : fd == -1)
			return true;
		if (spent > max_ms)
			return false;
		if (fd == -1) {
			poll(NULL, 0, 50);
			continue;
		}
		ms = store_watch_timeout(w);
		if (ms > 0 && timeouts != NULL)
			(*timeouts)++;
		pfd.fd = fd;
		pfd.events = (short)(((want & STORE_WATCH_READ) ? POLLIN : 0) |
		    ((want & STORE_WATCH_WRITE) ? POLLOUT : 0));
		poll(&pfd, 1, ms >= 0 ? ms : 200);
	}
}

/* The event watch's connection has a deadline of its own (libpq's
 * connect_timeout does not bound a nonblocking connection): a server that
 * takes the connection and never answers, where the cluster's socket was,
 * has the conninfo's connect_timeout (2 s) to answer; then the watch is
 * down, and it connects again once the server is back. Real time, as the
 * network's: bounds are generous. */
static void
test_watch_deadline(void)
{
	char ci[300], db[32], why[512], sock[200], real[220];
	struct sockaddr_un sun;
	struct store_watch *w;
	struct store *s;
	int fake, ms, timeouts = 0;
	bool done;

	newdb(ci, sizeof ci, db, sizeof db);
	strcat(ci, " connect_timeout=2");
	if ((s = open_pg(ci, why, sizeof why)) == NULL)
		bail_out("open: %s", why);
	w = store_watch_new(s);
	ok(w != NULL && watch_until(w, true, 10000, &ms, NULL),
	    "the watch connects and listens");
	sql1(db, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
	    "WHERE application_name = 'connreqd watch'");
	snprintf(sock, sizeof sock, "%s/.s.PGSQL.5432", pg.dir);
	snprintf(real, sizeof real, "%s.real", sock);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(sock) >= sizeof sun.sun_path)
		bail_out("%s: too long a socket path", sock);
	memcpy(sun.sun_path, sock, strlen(sock) + 1);
	if (rename(sock, real) != 0 ||
	    (fake = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    bind(fake, (struct sockaddr *)&sun, sizeof sun) != 0 ||
	    listen(fake, 8) != 0)
		bail_out("cannot put a silent server in place of %s", sock);
	ok(watch_until(w, false, 10000, &ms, NULL),
	    "its connection ended: the watch is down");
	done = watch_until(w, false, 12000, &ms, &timeouts);
	ok(done && ms >= 1900 && timeouts > 0,
	    "connecting to a server that never answers, it gives up after connect_timeout (%d ms; the loop was given a timeout %d times)",
	    ms, timeouts);
	close(fake);
	unlink(sock);
	if (rename(real, sock) != 0)
		bail_out("cannot put %s back", sock);
	done = watch_until(w, true, 15000, &ms, NULL);
	ok(done, "with the server back, it connects and listens again (%d ms)",
	    ms);
	store_watch_free(w);
	store_close(s);
}

/* A row the database holds but connreqd cannot read as a record (a
 * priority no connreqd writes) fails the read, naming the record, and a
 * missing id is NOTFOUND, not a failure. */
static void
test_corrupt(void)
{
	char ci[256], db[32], why[512];
	struct store *s;
	struct stx *t;
	struct inv v, got;

	newdb(ci, sizeof ci, db, sizeof db);
	if ((s = open_pg(ci, why, sizeof why)) == NULL)
		bail_out("open: %s", why);
	t = store_begin(s, NULL);
	v = mkinv(7, "alice", "bob", 1000);
	store_inv_put(t, &v, ST_COUNT);
	is_int(store_commit(t), STORE_OK, "corrupt: an invitation written");
	sql1(db, "UPDATE invitations SET priority = 99 WHERE id = 7");
	t = store_begin_read(s);
	is_int(store_inv_get(t, 8, &got), STORE_NOTFOUND,
	    "corrupt: a missing id is NOTFOUND");
	is_int(store_inv_get(t, 7, &got), STORE_FAILED,
	    "corrupt: a priority out of range fails the read");
	ok(strstr(store_strerror(s), "invitation 7: corrupt record") != NULL,
	    "corrupt: naming it (%s)", store_strerror(s));
	store_abort(t);
	store_close(s);
}

static void
test_unique(void)
{
	char ci[256], db[32], why[512];
	struct store *s;
	struct stx *t;
	struct inv v;
	const char *cols = "INSERT INTO invitations (id, state, priority, "
	    "attempt, created_at, updated_at, expires_at, stale_at, "
	    "reminded_at, ignored, reported, resend_of, sender, recipient, "
	    "note) VALUES ";

	newdb(ci, sizeof ci, db, sizeof db);
	s = open_pg(ci, why, sizeof why);
	if (s == NULL)
		bail_out("open: %s", why);
	t = store_begin(s, NULL);
	v = mkinv(1, "alice", "bob", 1000);
	store_inv_put(t, &v, ST_COUNT);
	is_int(store_commit(t), STORE_OK, "a pending invitation alice -> bob");

	{
		char sql[512];

		snprintf(sql, sizeof sql, "%s(2, 0, 0, 1, 1, 1, 1, 1, 0, false, "
		    "false, 0, 'alice', 'bob', '')", cols);
		is_str(sql1(db, sql), "ERROR 23505",
		    "the database refuses a second pending one for the pair (SQL)");
		snprintf(sql, sizeof sql, "%s(3, 1, 0, 1, 1, 1, 1, 1, 0, false, "
		    "false, 0, 'alice', 'bob', '')", cols);
		is_str(sql1(db, sql), "", "an accepted one for the pair is fine");
		snprintf(sql, sizeof sql, "%s(4, 0, 0, 1, 1, 1, 1, 1, 0, false, "
		    "false, 0, 'bob', 'alice', '')", cols);
		is_str(sql1(db, sql), "", "so is a pending one the other way");
	}

	t = store_begin(s, NULL);
	v = mkinv(5, "alice", "bob", 1001);
	store_inv_put(t, &v, ST_COUNT);
	is_int(store_error(t), STORE_FAILED,
	    "through the store too, at once");
	ok(strstr(store_strerror(s), "23505") != NULL,
	    "with the SQLSTATE: %s", store_strerror(s));
	is_int(store_commit(t), STORE_FAILED, "the commit reports it");

	/* In a child: the parent goes on. */
	t = store_begin(s, NULL);
	{
		struct stx *child = store_begin(s, t);

		v = mkinv(6, "alice", "bob", 1002);
		store_inv_put(child, &v, ST_COUNT);
		is_int(store_commit(child), STORE_FAILED,
		    "a child that breaks the rule fails");
	}
	v = mkinv(7, "alice", "carol", 1003);
	store_inv_put(t, &v, ST_COUNT);
	is_int(store_commit(t), STORE_OK, "its parent goes on and commits");
	is_str(sql1(db, "SELECT string_agg(id::text, ',' ORDER BY id) FROM invitations"),
	    "1,3,4,7", "with its own work alone");
	store_close(s);
}

/* Write skew: each reads the pair the other writes. */
/* A second store's write transaction, on a thread: it waits for the
 * writer lock the first holds. */
struct second {
	struct store *s;
	int begin_rc, commit_rc;
	int64_t waited_ms;
};

static void *
second_writer(void *arg)
{
	struct second *w = arg;
	struct pair pr, a = { 0, 0, 0, 1 };
	struct timespec t0, t1;
	struct stx *t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	t = store_begin(w->s, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	w->waited_ms = (t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000;
	w->begin_rc = store_error(t);
	store_pair_get(t, "ann", 3, "ben", 3, &pr);
	a.attempts = pr.attempts + 1;
	store_pair_put(t, "ann", 3, "ben", 3, &a);
	w->commit_rc = store_commit(t);
	return NULL;
}

static void
test_conflict(void)
{
	char ci[256], db[32], why[512], sql[256];
	struct store *s1, *s2;
	struct stx *t1, *c1;
	struct pair pr, a = { 0, 0, 0, 1 };
	struct second w;
	pthread_t th;
	int waiting = 0, i;

	newdb(ci, sizeof ci, db, sizeof db);
	s1 = open_pg(ci, why, sizeof why);
	s2 = open_pg(ci, why, sizeof why);
	ok(s1 != NULL && s2 != NULL, "two stores on one database (two daemons)");
	if (s1 == NULL || s2 == NULL)
		bail_out("open: %s", why);

	/* Writers take turns: the second waits for the first's commit and
	 * then sees it (no conflict, nothing to run again). */
	t1 = store_begin(s1, NULL);
	store_pair_get(t1, "ann", 3, "ben", 3, &pr);
	store_pair_put(t1, "ann", 3, "ben", 3, &a);
	memset(&w, 0, sizeof w);
	w.s = s2;
	if (pthread_create(&th, NULL, second_writer, &w) != 0)
		bail_out("pthread_create");
	for (i = 0; i < 500 && !waiting; i++) {
		usleep(10000);
		waiting = strcmp(sql1(db, "SELECT count(*) FROM pg_locks "
		    "WHERE locktype = 'advisory' AND NOT granted"), "0") != 0;
	}
	ok(waiting, "a second store's write transaction waits for the first's");
	is_int(store_commit(t1), STORE_OK, "the first commits");
	pthread_join(th, NULL);
	ok(w.begin_rc == STORE_OK && w.commit_rc == STORE_OK,
	    "then the second begins, on the first's commit, and commits (waited %lld ms)",
	    (long long)w.waited_ms);
	is_str(sql1(db, "SELECT attempts FROM pairs"), "2",
	    "having read what the first wrote");

	/* A writer that is not connreqd (another session's UPDATE) can
	 * still change what a transaction read: STORE_CONFLICT. */
	t1 = store_begin(s1, NULL);
	store_pair_get(t1, "ann", 3, "ben", 3, &pr);
	snprintf(sql, sizeof sql, "UPDATE pairs SET attempts = 9");
	sql1(db, sql);
	store_pair_put(t1, "ann", 3, "ben", 3, &a);
	is_int(store_commit(t1), STORE_CONFLICT,
	    "a row another session changed since the snapshot: STORE_CONFLICT");
	ok(strstr(store_strerror(s1), "40001") != NULL,
	    "saying why: %s", store_strerror(s1));
	is_str(sql1(db, "SELECT attempts FROM pairs"), "9",
	    "nothing of it was written");
	t1 = store_begin(s1, NULL);
	store_pair_get(t1, "ann", 3, "ben", 3, &pr);
	store_pair_put(t1, "ann", 3, "ben", 3, &a);
	is_int(store_commit(t1), STORE_OK, "run again, it commits");

	/* The failure met in a child, which is undone: the whole
	 * transaction still cannot commit. */
	t1 = store_begin(s1, NULL);
	store_pair_get(t1, "ann", 3, "ben", 3, &pr);
	sql1(db, "UPDATE pairs SET attempts = 7");
	c1 = store_begin(s1, t1);
	store_pair_put(c1, "ann", 3, "ben", 3, &a);
	store_pair_put(c1, "eve", 3, "fay", 3, &a);
	is_int(store_commit(c1), STORE_CONFLICT,
	    "a child meets the conflict");
	store_pair_put(t1, "gil", 3, "hal", 3, &a);
	is_int(store_commit(t1), STORE_CONFLICT,
	    "and its parent cannot commit either");
	is_str(sql1(db, "SELECT count(*) FROM pairs"), "1",
	    "nothing of it was written");
	store_close(s1);
	store_close(s2);
}

static void
test_lost(void)
{
	char ci[256], db[32], why[512], sql[256];
	struct store *s;
	struct stx *t, *r;
	struct inv v, got;

	newdb(ci, sizeof ci, db, sizeof db);
	s = open_pg(ci, why, sizeof why);
	if (s == NULL)
		bail_out("open: %s", why);
	r = store_begin_read(s);
	store_abort(r);		/* a read connection, now idle in the pool */
	t = store_begin(s, NULL);
	v = mkinv(1, "ivy", "jon", 1000);
	store_inv_put(t, &v, ST_COUNT);
	snprintf(sql, sizeof sql,
	    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
	    "WHERE datname = '%s' AND pid <> pg_backend_pid()", db);
	is_str(sql1(db, sql), "2",
	    "the server ends the store's connections mid-transaction");
	v = mkinv(2, "ivy", "kim", 1001);
	store_inv_put(t, &v, ST_COUNT);
	is_int(store_error(t), STORE_UNAVAILABLE, "the next statement fails: STORE_UNAVAILABLE");
	ok(strstr(store_strerror(s), "connection") != NULL,
	    "saying the connection is lost: %s", store_strerror(s));
	is_int(store_commit(t), STORE_UNAVAILABLE, "the commit reports it");

	t = store_begin(s, NULL);
	is_int(store_error(t), STORE_OK,
	    "the next transaction connects again");
	ok(store_inv_get(t, 1, &got) == STORE_NOTFOUND,
	    "and finds nothing of the lost one");
	v = mkinv(3, "ivy", "lea", 1002);
	store_inv_put(t, &v, ST_COUNT);
	is_int(store_commit(t), STORE_OK, "it writes and commits");
	r = store_begin_read(s);
	ok(store_error(r) == STORE_OK && store_inv_get(r, 3, &got) == STORE_OK,
	    "a read connects again too");
	store_abort(r);

	/* The database refuses connections altogether. */
	t = store_begin(s, NULL);
	snprintf(sql, sizeof sql, "ALTER DATABASE %s ALLOW_CONNECTIONS false",
	    db);
	sql1("postgres", sql);
	snprintf(sql, sizeof sql,
	    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
	    "WHERE datname = '%s'", db);
	is_str(sql1("postgres", sql), "2",
	    "the server ends the connections and lets no new one in");
	store_abort(t);
	t = store_begin(s, NULL);
	ok(store_error(t) == STORE_UNAVAILABLE &&
	    strstr(store_strerror(s), "connect") != NULL,
	    "a database that refuses connections: a clear failure: %s",
	    store_strerror(s));
	is_int(store_commit(t), STORE_UNAVAILABLE, "and the commit says so");
	r = store_begin_read(s);
	is_int(store_error(r), STORE_UNAVAILABLE, "a read too");
	store_abort(r);
	snprintf(sql, sizeof sql, "ALTER DATABASE %s ALLOW_CONNECTIONS true",
	    db);
	sql1("postgres", sql);
	t = store_begin(s, NULL);
	ok(store_error(t) == STORE_OK && store_inv_get(t, 3, &got) == STORE_OK,
	    "once it lets them in again, all is there");
	store_abort(t);
	store_close(s);
}

static void
test_snapshot_at_begin(void)
{
	char ci[256], db[32], why[512];
	struct store *s;
	struct stx *t, *r;
	struct inv v, got;

	newdb(ci, sizeof ci, db, sizeof db);
	s = open_pg(ci, why, sizeof why);
	if (s == NULL)
		bail_out("open: %s", why);
	r = store_begin_read(s);
	t = store_begin(s, NULL);
	v = mkinv(1, "max", "ned", 1000);
	store_inv_put(t, &v, ST_COUNT);
	is_int(store_commit(t), STORE_OK, "a write commits after a read began");
	is_int(store_inv_get(r, 1, &got), STORE_NOTFOUND,
	    "the read, whose first statement comes after, does not see it");
	store_abort(r);
	store_close(s);
}

static void
problem_fn(void *ctx, const char *what, const char *details)
{
	int *n = ctx;

	diag("store_check: %s: %s", what, details);
	(*n)++;
}

static void
test_check(void)
{
	char ci[256], db[32], why[512];
	struct store *s, *c;
	struct stx *t;
	struct inv got;
	int n;

	newdb(ci, sizeof ci, db, sizeof db);
	s = open_pg(ci, why, sizeof why);
	if (s == NULL)
		bail_out("open: %s", why);
	t = store_begin(s, NULL);
	{
		struct inv v = mkinv(1, "oli", "pam", 1000);

		store_inv_put(t, &v, ST_COUNT);
	}
	store_conn_put(t, "oli", 3, "pam", 3, 1000);
	store_plan_put(t, 2, "p", 1);
	store_plan_index(t, "oli", 3, 2);
	is_int(store_commit(t), STORE_OK, "a store with a little of everything");

	c = open_check_pg(ci, why, sizeof why);
	ok(c == NULL && strstr(why, "in use by a running connreqd") != NULL,
	    "a check refuses a store a connreqd has open: %s", why);
	store_close(c);
	store_close(s);
	c = open_check_pg(ci, why, sizeof why);
	ok(c != NULL, "and opens it once closed");
	if (c == NULL)
		return;
	s = open_pg(ci, why, sizeof why);
	ok(s == NULL && strstr(why, "connreqd --check") != NULL,
	    "no daemon opens it while it is checked: %s", why);
	store_close(s);
	t = store_begin(c, NULL);
	ok(store_error(t) != STORE_OK, "a write transaction cannot begin");
	store_abort(t);
	t = store_begin_read(c);
	ok(store_inv_get(t, 1, &got) == STORE_OK, "a snapshot reads it");
	n = 0;
	store_check(t, problem_fn, &n);
	is_int(n, 0, "the check finds nothing in a sound store");
	store_abort(t);

	sql1(db, "UPDATE meta SET value = 5 WHERE name = 'count.connections'");
	sql1(db, "DELETE FROM plans");
	t = store_begin_read(c);
	n = 0;
	store_check(t, problem_fn, &n);
	is_int(n, 2, "it finds a wrong counter and a plan index row without its plan");
	is_int(store_error(t), STORE_OK, "and the snapshot is still good");
	store_abort(t);
	store_close(c);
	s = open_pg(ci, why, sizeof why);
	ok(s != NULL, "a daemon opens it once the check is done");
	if (s == NULL)
		return;

	/* The daemon's session, and its lock, end (a restarted server, a
	 * network cut); a check takes the store meanwhile. */
	{
		char sql[256];

		snprintf(sql, sizeof sql,
		    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
		    "WHERE datname = '%s' AND pid <> pg_backend_pid()", db);
		sql1(db, sql);
	}
	c = open_check_pg(ci, why, sizeof why);
	ok(c != NULL, "its session ended, a check opens the store");
	t = store_begin(s, NULL);
	ok(store_error(t) == STORE_UNAVAILABLE &&
	    strstr(store_strerror(s), "check") != NULL,
	    "the daemon, connected again, does not write under the check: %s",
	    store_strerror(s));
	store_abort(t);
	store_close(c);
	/* The check's session ends as its server process exits, a moment
	 * after it closed: the daemon's next transactions find the lock
	 * free within it. */
	{
		int tries = 0;

		for (;;) {
			t = store_begin(s, NULL);
			if (store_error(t) == STORE_OK || ++tries == 500)
				break;
			store_abort(t);
			usleep(10000);
		}
		is_int(store_error(t), STORE_OK,
		    "once the check is done it writes again (after %d tries)",
		    tries);
		store_abort(t);
	}
	c = open_check_pg(ci, why, sizeof why);
	ok(c == NULL && strstr(why, "in use by a running connreqd") != NULL,
	    "holding its lock again: a check is refused (%s)", why);
	store_close(c);
	store_close(s);
}

static bool
count_id(void *ctx, uint64_t id)
{
	(void)id;
	(*(int *)ctx)++;
	return true;
}

/* What a write transaction holds back (issue 11's bench): the cache of
 * rows it read or wrote, the meta values (next_id, event.head, counters)
 * written at the next SAVEPOINT or COMMIT, the writes in the pipeline. A
 * child reads its own writes; its rollback drops them all and its parent
 * reads what it had; a failed write in the pipeline is the failure of the
 * child that sent it, whose parent goes on. */
static void
test_held_back(void)
{
	char ci[256], db[32], why[512], want[64];
	struct store *s, *c;
	struct stx *t, *child;
	struct pair pr, one = { 0, 0, 0, 1 }, nine = { 0, 0, 0, 9 },
	    five = { 0, 0, 0, 5 };
	struct member_rec m, m2;
	struct store_counts c0, c1;
	struct inv v, got;
	uint64_t id1, id2, head0;
	int64_t oldest = 0;
	int n;

	newdb(ci, sizeof ci, db, sizeof db);
	s = open_pg(ci, why, sizeof why);
	if (s == NULL)
		bail_out("open: %s", why);
	memset(&m, 0, sizeof m);
	memcpy(m.email, "a@x", 3);
	m.email_len = 3;
	t = store_begin(s, NULL);
	store_pair_put(t, "amy", 3, "bo", 2, &one);
	store_member_put(t, "amy", 3, &m);
	store_flag_set(t, FLAG_BLOCK, "bo", 2, "amy", 3, true);
	store_conn_put(t, "amy", 3, "bo", 2, 500);
	v = mkinv(store_next_id(t), "amy", "dan", 900);
	store_inv_put(t, &v, ST_COUNT);
	store_event_add(t, store_event_head(t) + 1, 900, "dan", 3, true, "e",
	    1);
	is_int(store_commit(t), STORE_OK, "a pair, a member, a flag, a connection, an invitation, an event");

	t = store_begin(s, NULL);
	memset(&pr, 0, sizeof pr);
	store_pair_get(t, "amy", 3, "bo", 2, &pr);
	is_int(pr.attempts, 1, "a transaction reads the pair");
	id1 = store_next_id(t);
	head0 = store_event_head(t);
	memset(&c0, 0, sizeof c0);
	store_counts(t, &c0);
	is_int(id1, 2, "and takes the next id");
	is_int(head0, 1, "the head is the event's");

	child = store_begin(s, t);
	store_pair_put(child, "amy", 3, "bo", 2, &nine);
	m2 = m;
	memcpy(m2.email, "z@x", 3);
	store_member_put(child, "amy", 3, &m2);
	store_flag_set(child, FLAG_BLOCK, "bo", 2, "amy", 3, false);
	store_conn_del(child, "amy", 3, "bo", 2);
	id2 = store_next_id(child);
	is_int(id2, id1 + 1, "a child takes the id after");
	v = mkinv(id2, "amy", "cy", 1000);
	store_inv_put(child, &v, ST_COUNT);
	store_event_add(child, head0 + 1, 1000, "cy", 2, true, "f", 1);
	memset(&pr, 0, sizeof pr);
	store_pair_get(child, "amy", 3, "bo", 2, &pr);
	is_int(pr.attempts, 9, "the child reads the pair it wrote");
	memset(&m2, 0, sizeof m2);
	store_member_get(child, "amy", 3, &m2);
	ok(m2.email_len == 3 && memcmp(m2.email, "z@x", 3) == 0,
	    "and the member");
	ok(!store_flag_get(child, FLAG_BLOCK, "bo", 2, "amy", 3),
	    "and the flag it cleared");
	is_int(store_conn_get(child, "bo", 2, "amy", 3), 0,
	    "and no connection (either way round)");
	is_int(store_event_head(child), head0 + 1, "and its event's head");
	memset(&c1, 0, sizeof c1);
	store_counts(child, &c1);
	is_int(c1.state[ST_PENDING], c0.state[ST_PENDING] + 1,
	    "and counts its pending invitation");
	is_int(store_error(child), STORE_OK, "all went well in it");
	store_abort(child);

	memset(&pr, 0, sizeof pr);
	store_pair_get(t, "amy", 3, "bo", 2, &pr);
	is_int(pr.attempts, 1, "rolled back: the parent reads the pair as it was");
	memset(&m2, 0, sizeof m2);
	store_member_get(t, "amy", 3, &m2);
	ok(m2.email_len == 3 && memcmp(m2.email, "a@x", 3) == 0,
	    "the member as it was");
	ok(store_flag_get(t, FLAG_BLOCK, "bo", 2, "amy", 3),
	    "the flag as it was");
	is_int(store_conn_get(t, "amy", 3, "bo", 2), 500,
	    "the connection as it was");
	is_int(store_inv_get(t, id2, &got), STORE_NOTFOUND,
	    "no invitation of the child's");
	is_int(store_event_head(t), head0, "the head as it was");
	memset(&c1, 0, sizeof c1);
	store_counts(t, &c1);
	is_int(c1.state[ST_PENDING], c0.state[ST_PENDING],
	    "the counters as they were");
	ok(store_next_id(t) > id2,
	    "the child's id is not given again (ids come from a sequence)");

	child = store_begin(s, t);
	store_pair_put(child, "amy", 3, "bo", 2, &five);
	id2 = store_next_id(child);
	v = mkinv(id2, "amy", "eve", 1001);
	store_inv_put(child, &v, ST_COUNT);
	store_event_add(child, store_event_head(child) + 1, 1001, "eve", 3,
	    true, "g", 1);
	is_int(store_commit(child), STORE_OK, "a child that commits");
	memset(&pr, 0, sizeof pr);
	store_pair_get(t, "amy", 3, "bo", 2, &pr);
	is_int(pr.attempts, 5, "its parent reads what it wrote");

	/* A failed write in the pipeline: the child's. */
	child = store_begin(s, t);
	v = mkinv(id2 + 1, "amy", "dan", 1002);
	store_inv_put(child, &v, ST_COUNT);
	store_pair_put(child, "amy", 3, "dan", 3, &nine);
	is_int(store_error(child), STORE_FAILED,
	    "a child's write that breaks the one-pending rule fails it, asked before any read");
	ok(strstr(store_strerror(s), "23505") != NULL,
	    "with the SQLSTATE: %s", store_strerror(s));
	store_abort(child);
	is_int(store_error(t), STORE_OK, "its parent is not failed");
	store_pair_put(t, "amy", 3, "fay", 3, &one);
	is_int(store_commit(t), STORE_OK, "and commits its own work");

	snprintf(want, sizeof want, "SELECT last_value >= %llu "
	    "FROM invitation_ids", (unsigned long long)id2);
	is_str(sql1(db, want), "t",
	    "the ids' sequence: past the committed child's id");
	is_str(sql1(db, "SELECT value FROM meta WHERE name = 'event.head'"),
	    "2", "event.head: the committed child's event");
	is_str(sql1(db, "SELECT string_agg(seq::text, ',' ORDER BY seq) FROM events"),
	    "1,2", "and no gap");
	is_str(sql1(db, "SELECT value FROM meta WHERE name = 'count.pending'"),
	    "2", "count.pending: the two invitations");
	is_str(sql1(db, "SELECT string_agg(sender::text || '>' || convert_from(recipient, 'UTF8') || ':' || attempts, ',' ORDER BY recipient) FROM pairs"),
	    "\\x616d79>bo:5,\\x616d79>fay:1", "the pairs: the child's and the parent's, not the failed child's");
	snprintf(want, sizeof want, "1,%llu", (unsigned long long)id2);
	is_str(sql1(db, "SELECT string_agg(id::text, ',' ORDER BY id) FROM invitations"),
	    want, "the invitations: the first and the committed child's");

	/* The cached log of a key and history of a pair. */
	t = store_begin(s, NULL);
	store_log_add(t, LOG_SENDS, "amy", 3, 100, 1, 0);
	store_log_add(t, LOG_SENDS, "amy", 3, 200, 2, 0);
	store_log_add(t, LOG_SENDS, "amy", 3, 300, 3, 0);
	is_int(store_commit(t), STORE_OK, "three sends logged");
	t = store_begin(s, NULL);
	store_pair_get(t, "amy", 3, "bo", 2, &pr);	/* their history too */
	is_int(store_log_count(t, LOG_SENDS, "amy", 3, 50, 10, &oldest), 3,
	    "a transaction counts them");
	is_int(oldest, 100, "the oldest");
	is_int(store_log_count(t, LOG_SENDS, "amy", 3, 150, 10, &oldest), 2,
	    "a later window: two");
	is_int(oldest, 200, "the oldest of it");
	store_log_add(t, LOG_SENDS, "amy", 3, 400, 4, 0);
	store_log_add(t, LOG_SENDS, "amy", 3, 400, 4, 0);
	is_int(store_log_count(t, LOG_SENDS, "amy", 3, 150, 10, &oldest), 3,
	    "one more written (twice: one entry), counted");
	is_int(store_log_count(t, LOG_SENDS, "amy", 3, 150, 2, &oldest), 2,
	    "up to the most asked");
	is_int(oldest, 200, "the oldest first");
	child = store_begin(s, t);
	store_log_add(child, LOG_SENDS, "amy", 3, 500, 5, 0);
	is_int(store_log_count(child, LOG_SENDS, "amy", 3, 250, 10, &oldest),
	    3, "a child counts its own");
	is_int(oldest, 300, "from the window's oldest");
	v = mkinv(50, "bo", "amy", 500);
	store_inv_put(child, &v, ST_COUNT);
	n = 0;
	store_scan_history(child, "amy", 3, "bo", 2, count_id, &n);
	is_int(n, 1, "and the pair's history has its invitation");
	store_abort(child);
	is_int(store_log_count(t, LOG_SENDS, "amy", 3, 250, 10, &oldest), 2,
	    "rolled back: its entry is not counted");
	n = 0;
	store_scan_history(t, "bo", 2, "amy", 3, count_id, &n);
	is_int(n, 0, "nor its invitation in the history");
	is_int(store_log_count(t, LOG_SENDS, "amy", 3, 0, 10, &oldest), 4,
	    "a wider window: read again, with the transaction's own entry");
	is_int(store_commit(t), STORE_OK, "and it commits");
	is_str(sql1(db, "SELECT count(*) FROM logs WHERE key = 'amy'"), "4",
	    "four entries in the database");

	store_close(s);
	c = open_check_pg(ci, why, sizeof why);
	ok(c != NULL, "a check opens it");
	if (c == NULL)
		return;
	t = store_begin_read(c);
	n = 0;
	store_check(t, problem_fn, &n);
	is_int(n, 0, "and finds it sound");
	store_abort(t);
	store_close(c);
}

int
main(void)
{
	if (pgcluster_start(&pg) == -1)
		bail_out("cannot start a PostgreSQL cluster");
	test_schema();
	test_migrate();
	test_watch_deadline();
	test_corrupt();
	test_unique();
	test_conflict();
	test_lost();
	test_snapshot_at_begin();
	test_check();
	test_held_back();
	pgcluster_stop(&pg);
	return done_testing();
}
