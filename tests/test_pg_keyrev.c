/* Keyed write batches on PostgreSQL (store_begin_keyed()), attacked: two
 * daemons on one database, batches of two or more sends (so keyed), and
 * failures injected where a keyed transaction ends (commit_unlock()'s
 * pipeline), by triggers of the test's own. After each, what must hold:
 *
 * - nothing of a failed batch is answered as done;
 * - the daemons' write lock (LOCK_WRITE) is held by no one once they are
 *   idle (a leaked shared hold would make every exclusive writer of the
 *   other daemon wait out lock_timeout: UNAVAILABLE);
 * - the same daemon runs keyed and exclusive batches after it (its
 *   connection left out of pipeline mode, its prepared statements known);
 * - the event feed: no stand-in seq (2^62 + n) in the table, event.head
 *   its last seq, no gap, each keyed event's data carrying its own seq;
 * - crossed sends through both daemons at once end connected exactly once;
 * - connreqd --check clean afterwards (the counters exact). */
#define HARNESS_PG 1
#include "harness.h"

#define PG_LOCK_WRITE "7165328340573331204"

static struct cr_reply r;

static PGconn *
session(const struct dproc *p)
{
	char db[64], ci[256];
	PGconn *c;

	dproc_dbname(p, db, sizeof db);
	pgcluster_conninfo(&harness_pg, db, ci, sizeof ci);
	c = PQconnectdb(ci);
	if (PQstatus(c) != CONNECTION_OK)
		bail_out("connect %s: %s", ci, PQerrorMessage(c));
	return c;
}

static bool
exec_ok(PGconn *c, const char *sql)
{
	PGresult *res = PQexec(c, sql);
	bool good = PQresultStatus(res) == PGRES_TUPLES_OK ||
	    PQresultStatus(res) == PGRES_COMMAND_OK;

	if (!good)
		diag("%s: %s", sql, PQresultErrorMessage(res));
	PQclear(res);
	return good;
}

/* The first column of the first row of sql, as an integer (-1: failed). */
static long long
sql_int(PGconn *c, const char *sql)
{
	PGresult *res = PQexec(c, sql);
	long long v = -1;

	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
	    !PQgetisnull(res, 0, 0))
		v = atoll(PQgetvalue(res, 0, 0));
	else
		diag("%s: %s", sql, PQresultErrorMessage(res));
	PQclear(res);
	return v;
}

/* Sends from[i] -> to[i], i < n, as one write (one batch), msgids
 * base + i. */
static void
send_together(struct cr_client *c, const char *const *from,
    const char *const *to, int n, uint32_t base)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int i;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	for (i = 0; i < n; i++) {
		msgpack_pack_array(&pk, 4);
		msgpack_pack_uint8(&pk, 0);
		msgpack_pack_uint32(&pk, base + (uint32_t)i);
		pk_str(&pk, "invite.send");
		msgpack_pack_array(&pk, 1);
		msgpack_pack_map(&pk, 2);
		pk_str(&pk, "from");
		pk_str(&pk, from[i]);
		pk_str(&pk, "to");
		pk_str(&pk, to[i]);
	}
	if (cr_send_raw(c, sb.data, sb.size) == -1)
		bail_out("send_together: the connection failed");
	msgpack_sbuffer_destroy(&sb);
}

/* The answers to msgids base..base+n-1: how many succeeded (-1: one did
 * not come). Each refusal's code in a diagnostic when show. */
static int
answers(struct cr_client *c, int n, uint32_t base, bool show)
{
	int i, good = 0;

	for (i = 0; i < n; i++) {
		cr_reply_free(&r);
		if (cr_wait(c, base + (uint32_t)i, &r) == -1)
			return -1;
		if (r.error == NULL)
			good++;
		else if (show)
			diag("msgid %u: %s: %s", base + (unsigned)i, r.code,
			    r.message);
	}
	cr_reply_free(&r);
	return good;
}

static bool
start_two(struct dproc *a, struct dproc *b, struct cr_client **ca,
    struct cr_client **cb)
{
	static const char *const verbose[] = { "-v", NULL };

	dproc_init(a);
	dproc_config(a, NO_LIMITS);
	if (!ok(dproc_start(a, T0, verbose) == 0, "daemon a starts"))
		return false;
	dproc_init_sharing(b, a);
	dproc_config(b, NO_LIMITS);
	if (!ok(dproc_start(b, T0, verbose) == 0, "daemon b, on a's database"))
		return false;
	*ca = dconnect(a);
	*cb = dconnect(b);
	return true;
}

/* Whether some session holds LOCK_WRITE (shared or not). */
static long long
write_lock_holders(PGconn *x)
{
	return sql_int(x, "SELECT count(*) FROM pg_locks "
	    "WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
	    "AND classid::bigint = (" PG_LOCK_WRITE "::bigint >> 32) "
	    "AND objid::bigint = (" PG_LOCK_WRITE "::bigint & 4294967295)");
}

/* The feed's shape in the table: stand-ins left, the head against the
 * last seq, gaps, keyed events whose data does not carry their seq. */
static bool
feed_sound(PGconn *x, const char *when)
{
	long long standins, head, last, gaps, wrong;

	standins = sql_int(x, "SELECT count(*) FROM events "
	    "WHERE seq >= 4611686018427387904");
	head = sql_int(x, "SELECT value FROM meta WHERE name = 'event.head'");
	last = sql_int(x, "SELECT coalesce(max(seq), 0) FROM events");
	gaps = sql_int(x, "SELECT coalesce(max(seq) - min(seq) + 1 - "
	    "count(*), 0) FROM events");
	wrong = sql_int(x, "SELECT count(*) FROM events "
	    "WHERE get_byte(data, 5) = 207 "
	    "AND substring(data from 7 for 8) <> int8send(seq)");
	if (standins == 0 && head == last && gaps == 0 && wrong == 0)
		return true;
	diag("%s: stand-ins %lld, head %lld, last seq %lld, gaps %lld, "
	    "wrong seq in data %lld", when, standins, head, last, gaps, wrong);
	return false;
}

static int
keyed_count(struct dproc *p)
{
	return dproc_log_count(p, ", keyed");
}

/* A batch of two sends through c (msgids base, base + 1): how many
 * succeeded. */
static int
two_sends(struct cr_client *c, const char *f1, const char *t1,
    const char *f2, const char *t2, uint32_t base, bool show)
{
	const char *from[2] = { f1, f2 }, *to[2] = { t1, t2 };

	send_together(c, from, to, 2, base);
	return answers(c, 2, base, show);
}

/* After a failed keyed batch of a: no lock held, b's exclusive write at
 * once, a's keyed and exclusive batches again, the feed sound. */
static void
after_failure(struct dproc *a, struct dproc *b, struct cr_client *ca,
    struct cr_client *cb, PGconn *x, const char *what, uint32_t base)
{
	char f1[32], t1[32], f2[32], t2[32];
	int64_t t0;
	int k0, got;

	is_int((int)write_lock_holders(x), 0,
	    "%s: LOCK_WRITE held by no one after", what);
	t0 = harness_ms();
	ok(send_id(cb, &r, "after-b", what) > 0 && harness_ms() - t0 < 3000,
	    "%s: b's lone (exclusive) send is done at once (%lld ms)", what,
	    (long long)(harness_ms() - t0));
	snprintf(f1, sizeof f1, "%s-f1", what);
	snprintf(t1, sizeof t1, "%s-t1", what);
	snprintf(f2, sizeof f2, "%s-f2", what);
	snprintf(t2, sizeof t2, "%s-t2", what);
	k0 = keyed_count(a);
	got = two_sends(ca, f1, t1, f2, t2, base, true);
	ok(got == 2 && keyed_count(a) > k0,
	    "%s: a's next batch of two sends is done, keyed (%d)", what, got);
	ok(send_id(ca, &r, "after-a", what) > 0,
	    "%s: and a's lone (exclusive) send", what);
	ok(feed_sound(x, what), "%s: the feed is sound", what);
	(void)b;
}

static void
test_commit_failures(void)
{
	struct dproc a, b;
	struct cr_client *ca, *cb;
	PGconn *x;
	int k0, got;

	if (!start_two(&a, &b, &ca, &cb))
		return;
	x = session(&a);
	/* A first send through each runs the deadlines (later batches may
	 * then be keyed). */
	ok(send_id(ca, &r, "w1", "w2") > 0 && send_id(cb, &r, "w3", "w4") > 0,
	    "a first send through each daemon");
	k0 = keyed_count(&a);
	ok(two_sends(ca, "k1", "k2", "k3", "k4", 100, true) == 2 &&
	    keyed_count(&a) > k0, "a batch of two sends through a is keyed");
	ok(feed_sound(x, "start"), "the feed is sound");

	/* 1. COMMIT itself fails (a deferred trigger raises). */
	ok(exec_ok(x, "CREATE FUNCTION boom() RETURNS trigger "
	    "LANGUAGE plpgsql AS $$ BEGIN "
	    "IF NEW.recipient = 'boom'::bytea THEN "
	    "RAISE EXCEPTION 'boom at commit'; END IF; "
	    "IF NEW.recipient = 'die'::bytea THEN "
	    "PERFORM pg_terminate_backend(pg_backend_pid()); END IF; "
	    "RETURN NULL; END $$; "
	    "CREATE CONSTRAINT TRIGGER boom AFTER INSERT ON invitations "
	    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "
	    "boom()"), "a trigger that fails COMMIT (or ends the backend)");
	got = two_sends(ca, "c1", "boom", "c2", "c3", 200, true);
	is_int(got, 0, "COMMIT failed: neither send of the keyed batch is answered as done");
	is_int((int)sql_int(x, "SELECT count(*) FROM invitations "
	    "WHERE sender IN ('c1'::bytea, 'c2'::bytea)"), 0,
	    "and neither is in the database");
	after_failure(&a, &b, ca, cb, x, "commit-fails", 300);

	/* 2. The first statement of COMMIT's pipeline (Q_PEND, the
	 * counters) fails, once. */
	ok(exec_ok(x, "CREATE SEQUENCE pend_fail; "
	    "CREATE FUNCTION pend_boom() RETURNS trigger "
	    "LANGUAGE plpgsql AS $$ BEGIN "
	    "IF nextval('pend_fail') = 1 THEN "
	    "RAISE EXCEPTION 'the counters refused'; END IF; "
	    "RETURN NEW; END $$; "
	    "CREATE TRIGGER pend_boom BEFORE UPDATE ON meta FOR EACH ROW "
	    "WHEN (NEW.name = 'count.pending') EXECUTE FUNCTION pend_boom()"),
	    "a trigger that fails the counters' update, once");
	got = two_sends(ca, "p1", "p2", "p3", "p4", 400, true);
	is_int((int)sql_int(x, "SELECT count(*) FROM invitations "
	    "WHERE sender IN ('p1'::bytea, 'p3'::bytea)"), got,
	    "the counters' failure: the sends answered as done (%d) are those in the database",
	    got);
	after_failure(&a, &b, ca, cb, x, "pend-fails", 500);

	/* 3. The connection lost during COMMIT (the backend ends itself in
	 * the deferred trigger): a's connection is made anew, its
	 * statements prepared again. */
	got = two_sends(ca, "d1", "die", "d2", "d3", 600, true);
	is_int(got, 0, "connection lost in COMMIT: neither send answered as done");
	after_failure(&a, &b, ca, cb, x, "conn-lost", 700);
	/* Twice: the statements prepared on the new connection. */
	got = two_sends(ca, "e1", "die", "e2", "e3", 800, true);
	is_int(got, 0, "lost again: neither answered as done");
	after_failure(&a, &b, ca, cb, x, "conn-lost2", 900);

	/* 4. The keyed events' statement (Q_EVENTS_KEYED) fails for one
	 * send's event: the batch runs again, a child per request; the
	 * other send is done, with its event numbered as any. */
	ok(exec_ok(x, "CREATE FUNCTION ev_boom() RETURNS trigger "
	    "LANGUAGE plpgsql AS $$ BEGIN "
	    "RAISE EXCEPTION 'no event for evboom'; END $$; "
	    "CREATE TRIGGER ev_boom BEFORE INSERT ON events FOR EACH ROW "
	    "WHEN (NEW.member = 'evboom'::bytea) EXECUTE FUNCTION ev_boom()"),
	    "a trigger that fails one member's events");
	k0 = keyed_count(&a);
	got = two_sends(ca, "v1", "evboom", "v2", "v3", 1000, true);
	is_int(got, 1, "the events failed: the other send is done");
	is_int((int)sql_int(x, "SELECT count(*) FROM invitations "
	    "WHERE sender = 'v1'::bytea"), 0, "the failed one is not there");
	after_failure(&a, &b, ca, cb, x, "events-fail", 1100);
	/* Again with a mutual send beside it (its deadlines deleted, in a
	 * child transaction of the batch run again). */
	ok(send_id(cb, &r, "n1", "n2") > 0, "n1 invites n2 (through b)");
	got = two_sends(ca, "n2", "n1", "n3", "evboom", 1200, true);
	is_int(got, 1, "n2's mutual send is done beside the failed one");
	is_int((int)sql_int(x, "SELECT count(*) FROM connections "
	    "WHERE lo = 'n1'::bytea AND hi = 'n2'::bytea"), 1,
	    "n1 and n2 connected");
	is_int((int)sql_int(x, "SELECT (SELECT value FROM meta WHERE "
	    "name = 'count.deadlines') - (SELECT count(*) FROM dues)"), 0,
	    "count.deadlines is the deadlines' count");
	after_failure(&a, &b, ca, cb, x, "events-fail2", 1300);
	ok(exec_ok(x, "DROP TRIGGER boom ON invitations; "
	    "DROP TRIGGER pend_boom ON meta; DROP TRIGGER ev_boom ON events"),
	    "the triggers dropped");
	PQfinish(x);
	cr_close(ca);
	cr_close(cb);
	is_int(dproc_stop(&a, SIGTERM), 0, "a: SIGTERM, exit 0");
	is_int(dproc_stop(&b, SIGTERM), 0, "b: SIGTERM, exit 0");
	is_int(dproc_check(&a), 0, "connreqd --check: clean");
	dproc_cleanup(&a);
	dproc_cleanup(&b);
}

/* Crossed sends: x -> y and y -> x, in one keyed batch and through the
 * other daemon at once. They end connected exactly once; no invitation
 * between them is left pending. */
#define CROSS_ROUNDS 16
static void
test_crossed(void)
{
	struct dproc a, b;
	struct cr_client *ca, *cb;
	PGconn *x;
	char xs[CROSS_ROUNDS][32], ys[CROSS_ROUNDS][32], sql[512];
	int i, ga, gb, bad = 0, k0a, k0b;

	if (!start_two(&a, &b, &ca, &cb))
		return;
	x = session(&a);
	ok(send_id(ca, &r, "w1", "w2") > 0 && send_id(cb, &r, "w3", "w4") > 0,
	    "a first send through each daemon");
	k0a = keyed_count(&a);
	k0b = keyed_count(&b);
	for (i = 0; i < CROSS_ROUNDS; i++) {
		const char *fa[2], *ta[2], *fb[2], *tb[2];

		snprintf(xs[i], 32, "x%d", i);
		snprintf(ys[i], 32, "y%d", i);
		fa[0] = xs[i], ta[0] = ys[i], fa[1] = ys[i], ta[1] = xs[i];
		fb[0] = ys[i], tb[0] = xs[i], fb[1] = xs[i], tb[1] = ys[i];
		send_together(ca, fa, ta, 2, 1000 + (uint32_t)i * 10);
		send_together(cb, fb, tb, 2, 2000 + (uint32_t)i * 10);
	}
	for (i = 0; i < CROSS_ROUNDS; i++) {
		ga = answers(ca, 2, 1000 + (uint32_t)i * 10, false);
		gb = answers(cb, 2, 2000 + (uint32_t)i * 10, false);
		/* The first send makes a pending invitation, the second
		 * (its reverse) connects them; all others are refused. */
		if (ga + gb != 2) {
			diag("round %d: %d + %d sends done", i, ga, gb);
			bad++;
		}
		snprintf(sql, sizeof sql, "SELECT (SELECT count(*) FROM "
		    "connections WHERE lo = '%s'::bytea AND hi = '%s'::bytea) "
		    "* 100 + (SELECT count(*) FROM invitations WHERE state = 0 "
		    "AND sender IN ('%s'::bytea, '%s'::bytea))", xs[i], ys[i],
		    xs[i], ys[i]);
		if (sql_int(x, sql) != 100) {
			diag("round %d: connections * 100 + pending: %lld", i,
			    sql_int(x, sql));
			bad++;
		}
	}
	is_int(bad, 0, "%d crossed pairs through both daemons at once: each connected once, nothing pending, two sends done",
	    CROSS_ROUNDS);
	diag("keyed: a %d, b %d", keyed_count(&a) - k0a, keyed_count(&b) - k0b);
	ok(feed_sound(x, "crossed"), "the feed is sound");
	is_int((int)sql_int(x, "SELECT value - (SELECT count(*) FROM "
	    "connections) FROM meta WHERE name = 'count.connections'"), 0,
	    "count.connections is the connections' count");
	PQfinish(x);
	cr_close(ca);
	cr_close(cb);
	is_int(dproc_stop(&a, SIGTERM), 0, "a: SIGTERM, exit 0");
	is_int(dproc_stop(&b, SIGTERM), 0, "b: SIGTERM, exit 0");
	is_int(dproc_check(&a), 0, "connreqd --check: clean");
	dproc_cleanup(&a);
	dproc_cleanup(&b);
}


/* Random sends among a few members, batches of four (keyed) through both
 * daemons at once, some members auto-accepting on a mutual connection,
 * one holding sends without one, one with digests: what must hold after,
 * in the database itself. */
#define RM 9		/* members */
#define RROUNDS 40
#define RPER 4
static void
test_random(void)
{
	struct dproc a, b;
	struct cr_client *ca, *cb;
	PGconn *x;
	char names[RM][16];
	const char *fa[RPER], *ta[RPER], *fb[RPER], *tb[RPER];
	int round, k, i, k0a, k0b, lost = 0;
	unsigned seed = 12345;

	if (!start_two(&a, &b, &ca, &cb))
		return;
	x = session(&a);
	for (i = 0; i < RM; i++)
		snprintf(names[i], sizeof names[i], "r%d", i);
	cr_reply_free(&r);
	ok(call(ca, &r, "member.settings.set", "member:s auto_accept_min_mutual:u",
	    "r0", (uint64_t)1) == 0, "r0 auto-accepts on one mutual connection");
	cr_reply_free(&r);
	ok(call(cb, &r, "member.settings.set", "member:s auto_accept_min_mutual:u",
	    "r1", (uint64_t)1) == 0, "so does r1");
	cr_reply_free(&r);
	ok(call(ca, &r, "member.settings.set", "member:s hold_no_mutual:b",
	    "r2", 1) == 0, "r2 holds sends from members without a mutual one");
	cr_reply_free(&r);
	ok(call(cb, &r, "member.settings.set", "member:s digest_every:u",
	    "r3", (uint64_t)3600) == 0, "r3 has digests");
	cr_reply_free(&r);
	ok(call(ca, &r, "member.auto_accept.add", "member:s other:s",
	    "r4", "r5") == 0, "r4 auto-accepts r5");
	cr_reply_free(&r);
	ok(send_id(ca, &r, "w1", "w2") > 0 && send_id(cb, &r, "w3", "w4") > 0,
	    "a first send through each daemon");
	k0a = keyed_count(&a);
	k0b = keyed_count(&b);
	for (round = 0; round < RROUNDS; round++) {
		for (k = 0; k < RPER; k++) {
			int f, t;

			f = rand_r(&seed) % RM;
			do
				t = rand_r(&seed) % RM;
			while (t == f);
			fa[k] = names[f];
			ta[k] = names[t];
			/* b: often the reverse of a's, else another */
			if (rand_r(&seed) % 2) {
				fb[k] = names[t];
				tb[k] = names[f];
			} else {
				f = rand_r(&seed) % RM;
				do
					t = rand_r(&seed) % RM;
				while (t == f);
				fb[k] = names[f];
				tb[k] = names[t];
			}
		}
		send_together(ca, fa, ta, RPER, 10000 + (uint32_t)round * 10);
		send_together(cb, fb, tb, RPER, 20000 + (uint32_t)round * 10);
		if (answers(ca, RPER, 10000 + (uint32_t)round * 10, false) < 0 ||
		    answers(cb, RPER, 20000 + (uint32_t)round * 10, false) < 0)
			lost++;
	}
	is_int(lost, 0, "every batch answered");
	diag("keyed: a %d, b %d", keyed_count(&a) - k0a, keyed_count(&b) - k0b);
	ok(keyed_count(&a) > k0a && keyed_count(&b) > k0b,
	    "both daemons ran keyed batches");
	is_int((int)sql_int(x, "SELECT count(*) FROM invitations i "
	    "JOIN invitations j ON i.sender = j.recipient AND "
	    "i.recipient = j.sender WHERE i.state = 0 AND j.state = 0"), 0,
	    "no pair with invitations pending both ways");
	is_int((int)sql_int(x, "SELECT count(*) FROM invitations i "
	    "JOIN connections c ON c.lo = least(i.sender, i.recipient) "
	    "AND c.hi = greatest(i.sender, i.recipient) WHERE i.state = 0"), 0,
	    "no invitation pending between connected members");
	is_int((int)sql_int(x, "SELECT count(*) FROM connections c WHERE "
	    "(SELECT count(*) FROM invitations i WHERE i.state = 1 AND "
	    "least(i.sender, i.recipient) = c.lo AND "
	    "greatest(i.sender, i.recipient) = c.hi) = 0"), 0,
	    "each connection has an accepted invitation");
	is_int((int)sql_int(x, "SELECT count(*) FROM pairs p WHERE "
	    "p.open_id <> 0 AND NOT EXISTS (SELECT 1 FROM invitations i "
	    "WHERE i.id = p.open_id AND i.state IN (0, 2))"), 0,
	    "each pair's open invitation is open");
	ok(feed_sound(x, "random"), "the feed is sound");
	PQfinish(x);
	cr_close(ca);
	cr_close(cb);
	is_int(dproc_stop(&a, SIGTERM), 0, "a: SIGTERM, exit 0");
	is_int(dproc_stop(&b, SIGTERM), 0, "b: SIGTERM, exit 0");
	is_int(dproc_check(&a), 0, "connreqd --check: clean");
	dproc_cleanup(&a);
	dproc_cleanup(&b);
}


/* server.metrics's connreq_event_head (the daemon's state after its last
 * batch, what its subscribers are pumped up to): -1 when not there. */
static long long
metrics_head(struct cr_client *c)
{
	static const char key[] = "\nconnreq_event_head ";
	const msgpack_object *o;
	const char *at;
	long long v = -1;

	cr_reply_free(&r);
	if (call(c, &r, "server.metrics", "") != 0 ||
	    (o = cr_get(r.result, "text")) == NULL ||
	    o->type != MSGPACK_OBJECT_STR) {
		cr_reply_free(&r);
		return -1;
	}
	at = memmem(o->via.str.ptr, o->via.str.size, key, sizeof key - 1);
	if (at != NULL)
		v = atoll(at + sizeof key - 1);
	cr_reply_free(&r);
	return v;
}

/* After a keyed batch, the daemon knows the event head it committed (the
 * state the server keeps for its subscribers and its gauges), as after
 * any other batch. */
static void
test_keyed_state(void)
{
	struct dproc a, b;
	struct cr_client *ca, *cb;
	PGconn *x;
	char f1[16], t1[16], f2[16], t2[16];
	int i, k0, stale = 0;
	long long mh, dh;

	if (!start_two(&a, &b, &ca, &cb))
		return;
	x = session(&a);
	ok(send_id(ca, &r, "w1", "w2") > 0, "a first send through a");
	mh = metrics_head(ca);
	dh = sql_int(x, "SELECT value FROM meta WHERE name = 'event.head'");
	ok(mh == dh && dh > 0,
	    "after a lone send, a's state has the head it wrote (%lld, %lld)",
	    mh, dh);
	k0 = keyed_count(&a);
	for (i = 0; i < 3; i++) {
		snprintf(f1, sizeof f1, "s%da", i);
		snprintf(t1, sizeof t1, "s%db", i);
		snprintf(f2, sizeof f2, "s%dc", i);
		snprintf(t2, sizeof t2, "s%dd", i);
		if (two_sends(ca, f1, t1, f2, t2, 3000 + (uint32_t)i * 10,
		    true) != 2)
			stale += 100;
		mh = metrics_head(ca);
		dh = sql_int(x, "SELECT value FROM meta "
		    "WHERE name = 'event.head'");
		if (mh != dh) {
			diag("after keyed batch %d: a's state says head %lld, "
			    "the database %lld", i, mh, dh);
			stale++;
		}
	}
	ok(keyed_count(&a) >= k0 + 3, "the batches were keyed");
	is_int(stale, 0,
	    "after each keyed batch, a's state has the head it committed");
	PQfinish(x);
	cr_close(ca);
	cr_close(cb);
	is_int(dproc_stop(&a, SIGTERM), 0, "a: SIGTERM, exit 0");
	is_int(dproc_stop(&b, SIGTERM), 0, "b: SIGTERM, exit 0");
	dproc_cleanup(&a);
	dproc_cleanup(&b);
}


/* Keyed batches of other members at once: a's answer pending invitations
 * (mutual sends: the earlier invitation's deadlines deleted, which
 * updates count.deadlines at once), b's send new ones (its deadlines
 * added, count.deadlines updated at COMMIT, after event.head's row). Two
 * such transactions must not wait for each other in a cycle: a deadlock
 * costs deadlock_timeout and a run again (or, 8 times over, UNAVAILABLE). */
#define DL_ROUNDS 150
static void
test_counter_order(void)
{
	struct dproc a, b;
	struct cr_client *ca, *cb;
	PGconn *x;
	char xs[2 * DL_ROUNDS][16], ys[2 * DL_ROUNDS][16];
	char ps[2 * DL_ROUNDS][16], qs[2 * DL_ROUNDS][16];
	int i, ga, gb, bad = 0, again;
	long long deadlocks0;
	int64_t t0;

	if (!start_two(&a, &b, &ca, &cb))
		return;
	x = session(&a);
	ok(send_id(ca, &r, "w1", "w2") > 0 && send_id(cb, &r, "w3", "w4") > 0,
	    "a first send through each daemon");
	for (i = 0; i < 2 * DL_ROUNDS; i++) {
		snprintf(xs[i], 16, "dx%d", i);
		snprintf(ys[i], 16, "dy%d", i);
		snprintf(ps[i], 16, "dp%d", i);
		snprintf(qs[i], 16, "dq%d", i);
	}
	/* y -> x pending, for a to answer. */
	for (i = 0; i < DL_ROUNDS; i++)
		if (two_sends(cb, ys[2 * i], xs[2 * i], ys[2 * i + 1],
		    xs[2 * i + 1], 100000 + (uint32_t)i * 10, true) != 2)
			bad++;
	is_int(bad, 0, "%d invitations pending, to be answered", 2 * DL_ROUNDS);
	deadlocks0 = sql_int(x, "SELECT deadlocks FROM pg_stat_database "
	    "WHERE datname = current_database()");
	t0 = harness_ms();
	for (i = 0; i < DL_ROUNDS; i++) {
		const char *fa[2] = { xs[2 * i], xs[2 * i + 1] };
		const char *ta[2] = { ys[2 * i], ys[2 * i + 1] };
		const char *fb[2] = { ps[2 * i], ps[2 * i + 1] };
		const char *tb[2] = { qs[2 * i], qs[2 * i + 1] };

		send_together(ca, fa, ta, 2, 200000 + (uint32_t)i * 10);
		send_together(cb, fb, tb, 2, 300000 + (uint32_t)i * 10);
		ga = answers(ca, 2, 200000 + (uint32_t)i * 10, true);
		gb = answers(cb, 2, 300000 + (uint32_t)i * 10, true);
		if (ga != 2 || gb != 2)
			bad++;
	}
	diag("%d rounds in %lld ms", DL_ROUNDS, (long long)(harness_ms() - t0));
	is_int(bad, 0, "every send done");
	again = dproc_log_count(&a, "run again") +
	    dproc_log_count(&b, "run again");
	/* (the statistics collector is read after it has flushed) */
	usleep(600000);
	diag("deadlocks in the database: %lld; batches run again: %d",
	    sql_int(x, "SELECT deadlocks FROM pg_stat_database "
	    "WHERE datname = current_database()") - deadlocks0, again);
	is_int(dproc_log_count(&a, "deadlock") + dproc_log_count(&b,
	    "deadlock"), 0,
	    "no keyed batch met a deadlock (the counters' rows taken in one order)");
	is_int((int)sql_int(x, "SELECT count(*) FROM connections "
	    "WHERE lo LIKE 'dx%'"), 2 * DL_ROUNDS, "each answered pair connected");
	ok(feed_sound(x, "counter order"), "the feed is sound");
	PQfinish(x);
	cr_close(ca);
	cr_close(cb);
	is_int(dproc_stop(&a, SIGTERM), 0, "a: SIGTERM, exit 0");
	is_int(dproc_stop(&b, SIGTERM), 0, "b: SIGTERM, exit 0");
	is_int(dproc_check(&a), 0, "connreqd --check: clean");
	dproc_cleanup(&a);
	dproc_cleanup(&b);
}


/* One sender's limits through both daemons at once, in keyed batches of
 * two sends each (the sender's key orders them): exactly the limit. */
static int
limit_rounds(struct cr_client *ca, struct cr_client *cb, const char *from,
    const char *prefix, int rounds, uint32_t base, const char *code,
    int *refused_n, int *other)
{
	char t[4][32];
	int i, k, good = 0;

	*refused_n = 0;
	for (i = 0; i < rounds; i++) {
		for (k = 0; k < 4; k++)
			snprintf(t[k], sizeof t[k], "%s%d_%d", prefix, i, k);
		{
			const char *f2[2] = { from, from };
			const char *ta[2] = { t[0], t[1] }, *tb[2] = { t[2],
			    t[3] };

			send_together(ca, f2, ta, 2, base + (uint32_t)i * 10);
			send_together(cb, f2, tb, 2, base + 5 +
			    (uint32_t)i * 10);
		}
		for (k = 0; k < 4; k++) {
			struct cr_client *c = k < 2 ? ca : cb;
			uint32_t id = base + (uint32_t)i * 10 +
			    (k < 2 ? (uint32_t)k : 5 + (uint32_t)(k - 2));

			cr_reply_free(&r);
			if (cr_wait(c, id, &r) == -1)
				return -1;
			if (r.error == NULL)
				good++;
			else if (refused(&r, code))
				(*refused_n)++;
			else {
				(*other)++;
				diag("%s: %s", r.code, r.message);
			}
		}
	}
	cr_reply_free(&r);
	return good;
}

static void
test_limits_keyed(void)
{
	static const char *const verbose[] = { "-v", NULL };
	struct dproc a, b;
	struct cr_client *ca, *cb;
	int good, refused_n, other = 0, k0a, k0b;

	dproc_init_two(&a, &b, "[limits]\nsends_per_day = 0\n"
	    "sends_per_week = 0\npending_warn = 0\npending_max = 7\n"
	    "invites_per_pair = 0\nduplicate_note_warn = 0\n");
	if (!ok(dproc_start(&a, T0, verbose) == 0 &&
	    dproc_start(&b, T0, verbose) == 0,
	    "limits: two daemons, at most 7 pending a sender"))
		return;
	ca = dconnect(&a);
	cb = dconnect(&b);
	ok(send_id(ca, &r, "w1", "w2") > 0 && send_id(cb, &r, "w3", "w4") > 0,
	    "a first send through each daemon");
	k0a = keyed_count(&a);
	k0b = keyed_count(&b);
	good = limit_rounds(ca, cb, "capped", "pc", 6, 40000, "PENDING_CAP",
	    &refused_n, &other);
	ok(good == 7 && refused_n == 17,
	    "24 sends of one sender, batches of two through both at once: exactly 7, 17 PENDING_CAP (%d, %d)",
	    good, refused_n);
	ok(keyed_count(&a) > k0a && keyed_count(&b) > k0b,
	    "both daemons ran them keyed (%d, %d)", keyed_count(&a) - k0a,
	    keyed_count(&b) - k0b);
	is_int(other, 0, "no other answer");
	cr_close(ca);
	cr_close(cb);
	is_int(dproc_stop(&a, SIGTERM), 0, "a: SIGTERM, exit 0");
	is_int(dproc_stop(&b, SIGTERM), 0, "b: SIGTERM, exit 0");
	is_int(dproc_check(&a), 0, "connreqd --check: clean");
	dproc_cleanup(&a);
	dproc_cleanup(&b);

	dproc_init_two(&a, &b, "[limits]\nsends_per_day = 9\n"
	    "sends_per_week = 0\npending_warn = 0\npending_max = 0\n"
	    "invites_per_pair = 0\nduplicate_note_warn = 0\n");
	if (!ok(dproc_start(&a, T0, verbose) == 0 &&
	    dproc_start(&b, T0, verbose) == 0,
	    "limits: two daemons, 9 sends a day"))
		return;
	ca = dconnect(&a);
	cb = dconnect(&b);
	ok(send_id(ca, &r, "w1", "w2") > 0 && send_id(cb, &r, "w3", "w4") > 0,
	    "a first send through each daemon");
	good = limit_rounds(ca, cb, "daily", "dl", 6, 50000, "RATE_LIMITED",
	    &refused_n, &other);
	ok(good == 9 && refused_n == 15,
	    "24 sends of one sender, batches of two through both at once: exactly 9, 15 RATE_LIMITED (%d, %d)",
	    good, refused_n);
	is_int(other, 0, "no other answer");
	cr_close(ca);
	cr_close(cb);
	is_int(dproc_stop(&a, SIGTERM), 0, "a: SIGTERM, exit 0");
	is_int(dproc_stop(&b, SIGTERM), 0, "b: SIGTERM, exit 0");
	is_int(dproc_check(&a), 0, "connreqd --check: clean");
	dproc_cleanup(&a);
	dproc_cleanup(&b);
}


/* The same send with the same request_id through both daemons at once,
 * each in a keyed batch (the request id's key orders them): done once,
 * both answered with its result. */
static void
send_req_together(struct cr_client *c, const char *const *from,
    const char *const *to, const char *const *rid, int n, uint32_t base)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int i;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	for (i = 0; i < n; i++) {
		msgpack_pack_array(&pk, 4);
		msgpack_pack_uint8(&pk, 0);
		msgpack_pack_uint32(&pk, base + (uint32_t)i);
		pk_str(&pk, "invite.send");
		msgpack_pack_array(&pk, 1);
		msgpack_pack_map(&pk, rid[i] != NULL ? 3 : 2);
		pk_str(&pk, "from");
		pk_str(&pk, from[i]);
		pk_str(&pk, "to");
		pk_str(&pk, to[i]);
		if (rid[i] != NULL) {
			pk_str(&pk, "request_id");
			pk_str(&pk, rid[i]);
		}
	}
	if (cr_send_raw(c, sb.data, sb.size) == -1)
		bail_out("send_req_together: the connection failed");
	msgpack_sbuffer_destroy(&sb);
}

#define RQ_ROUNDS 20
static void
test_request_ids(void)
{
	struct dproc a, b;
	struct cr_client *ca, *cb;
	PGconn *x;
	char rx[RQ_ROUNDS][16], ry[RQ_ROUNDS][16], rid[RQ_ROUNDS][16];
	char ru[RQ_ROUNDS][16], rv[RQ_ROUNDS][16], rp[RQ_ROUNDS][16];
	char rq[RQ_ROUNDS][16], sql[512];
	int i, bad = 0, k0a, k0b;

	if (!start_two(&a, &b, &ca, &cb))
		return;
	x = session(&a);
	ok(send_id(ca, &r, "w1", "w2") > 0 && send_id(cb, &r, "w3", "w4") > 0,
	    "a first send through each daemon");
	k0a = keyed_count(&a);
	k0b = keyed_count(&b);
	for (i = 0; i < RQ_ROUNDS; i++) {
		const char *fa[2], *ta[2], *ia[2], *fb[2], *tb[2], *ib[2];

		snprintf(rx[i], 16, "qx%d", i);
		snprintf(ry[i], 16, "qy%d", i);
		snprintf(rid[i], 16, "req-%d", i);
		snprintf(ru[i], 16, "qu%d", i);
		snprintf(rv[i], 16, "qv%d", i);
		snprintf(rp[i], 16, "qp%d", i);
		snprintf(rq[i], 16, "qq%d", i);
		fa[0] = fb[0] = rx[i];
		ta[0] = tb[0] = ry[i];
		ia[0] = ib[0] = rid[i];
		fa[1] = ru[i], ta[1] = rv[i], ia[1] = NULL;
		fb[1] = rp[i], tb[1] = rq[i], ib[1] = NULL;
		send_req_together(ca, fa, ta, ia, 2, 60000 + (uint32_t)i * 10);
		send_req_together(cb, fb, tb, ib, 2, 70000 + (uint32_t)i * 10);
	}
	for (i = 0; i < RQ_ROUNDS; i++) {
		int64_t ida = -1, idb = -2;

		cr_reply_free(&r);
		if (cr_wait(ca, 60000 + (uint32_t)i * 10, &r) == 0 &&
		    r.error == NULL)
			ida = rnum(&r, "invitation.id");
		else if (r.error != NULL)
			diag("a: %s: %s", r.code, r.message);
		cr_reply_free(&r);
		if (cr_wait(cb, 70000 + (uint32_t)i * 10, &r) == 0 &&
		    r.error == NULL)
			idb = rnum(&r, "invitation.id");
		else if (r.error != NULL)
			diag("b: %s: %s", r.code, r.message);
		cr_reply_free(&r);
		if (answers(ca, 1, 60000 + (uint32_t)i * 10 + 1, true) != 1 ||
		    answers(cb, 1, 70000 + (uint32_t)i * 10 + 1, true) != 1)
			bad++;
		snprintf(sql, sizeof sql, "SELECT count(*) FROM invitations "
		    "WHERE sender = '%s'::bytea", rx[i]);
		if (ida != idb || ida <= 0 || sql_int(x, sql) != 1) {
			diag("round %d: ids %lld, %lld; %lld invitations", i,
			    (long long)ida, (long long)idb, sql_int(x, sql));
			bad++;
		}
	}
	is_int(bad, 0, "%d sends with a request_id through both at once: each done once, both answered with it",
	    RQ_ROUNDS);
	diag("keyed: a %d, b %d", keyed_count(&a) - k0a, keyed_count(&b) - k0b);
	ok(feed_sound(x, "request ids"), "the feed is sound");
	PQfinish(x);
	cr_close(ca);
	cr_close(cb);
	is_int(dproc_stop(&a, SIGTERM), 0, "a: SIGTERM, exit 0");
	is_int(dproc_stop(&b, SIGTERM), 0, "b: SIGTERM, exit 0");
	is_int(dproc_check(&a), 0, "connreqd --check: clean");
	dproc_cleanup(&a);
	dproc_cleanup(&b);
}


/* Big keyed batches (more sends than hints read in one round trip, keys
 * up to the most a keyed batch takes, and past it) through both at once. */
static void
test_big_batches(void)
{
	static const int sizes[] = { 33, 60, 85, 90 };
	struct dproc a, b;
	struct cr_client *ca, *cb;
	PGconn *x;
	char fa[90][32], ta[90][32], fb[90][32], tb[90][32];
	const char *pfa[90], *pta[90], *pfb[90], *ptb[90];
	int i, k, n, bad = 0, k0a, k0b;

	if (!start_two(&a, &b, &ca, &cb))
		return;
	x = session(&a);
	ok(send_id(ca, &r, "w1", "w2") > 0 && send_id(cb, &r, "w3", "w4") > 0,
	    "a first send through each daemon");
	k0a = keyed_count(&a);
	k0b = keyed_count(&b);
	for (k = 0; k < 4; k++) {
		n = sizes[k];
		for (i = 0; i < n; i++) {
			/* a and b share the hub and half the recipients */
			snprintf(fa[i], 32, i % 3 ? "ba%d_%d" : "bhub", k, i);
			snprintf(ta[i], 32, "bt%d_%d", k, i);
			snprintf(fb[i], 32, i % 3 ? "bb%d_%d" : "bhub", k, i);
			snprintf(tb[i], 32, i % 2 ? "bt%d_%d" : "bu%d_%d", k,
			    i);
			pfa[i] = fa[i], pta[i] = ta[i], pfb[i] = fb[i];
			ptb[i] = tb[i];
		}
		send_together(ca, pfa, pta, n, 80000 + (uint32_t)k * 100);
		send_together(cb, pfb, ptb, n, 90000 + (uint32_t)k * 100);
		if (answers(ca, n, 80000 + (uint32_t)k * 100, false) < 0 ||
		    answers(cb, n, 90000 + (uint32_t)k * 100, false) < 0)
			bad++;
	}
	is_int(bad, 0, "batches of 33 to 90 sends through both at once, answered");
	diag("keyed: a %d, b %d", keyed_count(&a) - k0a, keyed_count(&b) - k0b);
	is_int((int)sql_int(x, "SELECT count(*) FROM invitations i "
	    "JOIN invitations j ON i.sender = j.recipient AND "
	    "i.recipient = j.sender WHERE i.state = 0 AND j.state = 0"), 0,
	    "no pair with invitations pending both ways");
	ok(feed_sound(x, "big"), "the feed is sound");
	PQfinish(x);
	cr_close(ca);
	cr_close(cb);
	is_int(dproc_stop(&a, SIGTERM), 0, "a: SIGTERM, exit 0");
	is_int(dproc_stop(&b, SIGTERM), 0, "b: SIGTERM, exit 0");
	is_int(dproc_check(&a), 0, "connreqd --check: clean");
	dproc_cleanup(&a);
	dproc_cleanup(&b);
}


/* A member's feed, subscribed through a, while both daemons' keyed
 * batches send to it at once: every one of its notifications comes, in
 * seq order, each carrying its own seq, the same as events.read gives. */
#define MF_ROUNDS 15
static void
test_member_feed(void)
{
	struct dproc a, b;
	struct cr_client *ca, *cb, *s;
	char fa[MF_ROUNDS][2][16], fb[MF_ROUNDS][2][16], tb[MF_ROUNDS][16];
	uint64_t h0, seq, prev = 0, got[4 * MF_ROUNDS];
	size_t ngot = 0, i;
	int round, k, sent = 0, order = 1, same = 1;

	if (!start_two(&a, &b, &ca, &cb))
		return;
	ok(send_id(ca, &r, "w1", "w2") > 0 && send_id(cb, &r, "w3", "w4") > 0,
	    "a first send through each daemon");
	s = dconnect(&a);
	cr_reply_free(&r);
	ok(call(s, &r, "events.subscribe", "member:s", "mhub") == 0,
	    "a subscriber on a, to mhub's notifications");
	h0 = (uint64_t)rnum(&r, "head");
	cr_reply_free(&r);
	for (round = 0; round < MF_ROUNDS; round++) {
		const char *pfa[2], *pta[2], *pfb[2], *ptb[2];

		for (k = 0; k < 2; k++) {
			snprintf(fa[round][k], 32, "mfa%d_%d", round, k);
			snprintf(fb[round][k], 32, "mfb%d_%d", round, k);
			pfa[k] = fa[round][k];
			pta[k] = "mhub";
			pfb[k] = fb[round][k];
		}
		/* b: one to mhub, one elsewhere */
		snprintf(tb[round], 32, "mft%d", round);
		ptb[0] = "mhub";
		ptb[1] = tb[round];
		send_together(ca, pfa, pta, 2, 120000 + (uint32_t)round * 10);
		send_together(cb, pfb, ptb, 2, 130000 + (uint32_t)round * 10);
		sent += answers(ca, 2, 120000 + (uint32_t)round * 10, true);
		k = answers(cb, 2, 130000 + (uint32_t)round * 10, true);
		sent += k > 0 ? 1 : 0;
	}
	is_int(sent, 3 * MF_ROUNDS, "%d sends to mhub done", 3 * MF_ROUNDS);
	for (i = 0; i < (size_t)sent; i++) {
		struct cr_reply ev;

		if (cr_next_event(s, &ev, WAIT_MS) != 0) {
			diag("notification %zu did not come", i);
			order = 0;
			break;
		}
		seq = (uint64_t)rnum(&ev, "seq");
		if (seq <= prev || seq <= h0 || seq >= (1ULL << 62) ||
		    strcmp(rstr(&ev, "member"), "mhub") != 0) {
			diag("notification %zu: seq %llu after %llu, member %s",
			    i, (unsigned long long)seq,
			    (unsigned long long)prev, rstr(&ev, "member"));
			order = 0;
		}
		prev = seq;
		got[ngot++] = seq;
		cr_reply_free(&ev);
	}
	ok(order, "the subscriber gets mhub's %d notifications, in seq order",
	    sent);
	cr_reply_free(&r);
	ok(call(cb, &r, "events.read", "member:s after:u limit:u", "mhub", h0,
	    (uint64_t)1000) == 0, "events.read of mhub's through b");
	is_int((int)rnum(&r, "events"), (int)ngot, "as many");
	for (i = 0; i < ngot; i++) {
		char key[48];

		snprintf(key, sizeof key, "events.%zu.seq", i);
		if ((uint64_t)rnum(&r, key) != got[i])
			same = 0;
	}
	ok(same, "the same seqs");
	cr_reply_free(&r);
	cr_close(s);
	cr_close(ca);
	cr_close(cb);
	is_int(dproc_stop(&a, SIGTERM), 0, "a: SIGTERM, exit 0");
	is_int(dproc_stop(&b, SIGTERM), 0, "b: SIGTERM, exit 0");
	dproc_cleanup(&a);
	dproc_cleanup(&b);
}

int
main(void)
{
	harness_pg_start();
	test_commit_failures();
	test_crossed();
	test_random();
	test_keyed_state();
	test_counter_order();
	test_limits_keyed();
	test_request_ids();
	test_big_batches();
	test_member_feed();
	return done_testing();
}
