/* Keyed write transactions on PostgreSQL (store_begin_keyed(), issue 11):
 * a batch of two or more sends names what it writes (the two members and
 * their pair), takes the daemons' write lock shared and its keys' locks,
 * and so runs beside another daemon's keyed batch where every other write
 * takes its turn. What is checked here, from outside, through the locks
 * the daemons' sessions hold and wait for (pg_locks), with no sleep:
 *
 * - a keyed batch does not wait for another keyed writer (a session
 *   holding the write lock shared); a lone send, which takes the turn of
 *   every writer, waits for it, and is answered once it goes;
 * - a keyed batch waits for the lock of a member it names, while another
 *   daemon's keyed batch of other members is answered meanwhile;
 * - the events of two daemons' keyed batches, each numbered as its
 *   transaction commits, make one feed without gaps, each event carrying
 *   its own seq (not the stand-in it was packed with);
 * - the ids two daemons give at once are each given once, and each
 *   member's sent invitations list newest first. */
#define HARNESS_PG 1
#include "harness.h"

/* daemon/store-pg.c's PG_LOCK_WRITE; and the key of a member, as
 * daemon/store.c's store_keys_member() makes it (FNV-1a, 64 bits, of 'm',
 * the length, the bytes, then an empty second part). */
#define PG_LOCK_WRITE "7165328340573331204"

static struct cr_reply r;

static int64_t
member_key(const char *m)
{
	uint64_t h = 14695981039346656037ULL;
	size_t i, n = strlen(m);

	h = (h ^ (unsigned char)'m') * 1099511628211ULL;
	h = (h ^ (n & 0xff)) * 1099511628211ULL;
	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)m[i]) * 1099511628211ULL;
	h = (h ^ 0) * 1099511628211ULL;
	return (int64_t)h;
}

/* A batch is keyed when no deadline can be due and some batch of the
 * daemon ran the deadlines within the last second (here, of the virtual
 * clock, which stands still): after a first send. */

/* A session of the test's own on p's database. */
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

/* Waits (polling pg_locks, up to 10 s) until some other session of the
 * database waits for an advisory lock: true when one does. */
static bool
someone_waits(PGconn *c)
{
	int i;

	for (i = 0; i < 1000; i++) {
		PGresult *res = PQexec(c, "SELECT count(*) FROM pg_locks "
		    "WHERE locktype = 'advisory' AND NOT granted "
		    "AND pid <> pg_backend_pid()");
		bool waits = PQresultStatus(res) == PGRES_TUPLES_OK &&
		    atoi(PQgetvalue(res, 0, 0)) > 0;

		PQclear(res);
		if (waits)
			return true;
		usleep(10000);
	}
	return false;
}

/* Sends from[i] -> to[i], i < n, as one write (so they are one batch),
 * msgids base + i. */
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

/* Whether the answers to msgids base..base+n-1 came, all successes. */
static bool
all_sent(struct cr_client *c, int n, uint32_t base)
{
	bool good = true;
	int i;

	for (i = 0; i < n; i++) {
		cr_reply_free(&r);
		if (cr_wait(c, base + (uint32_t)i, &r) == -1)
			return false;
		if (r.error != NULL) {
			diag("msgid %u: %s: %s", base + (unsigned)i, r.code,
			    r.message);
			good = false;
		}
	}
	cr_reply_free(&r);
	return good;
}

/* Two daemons on one database, a client of each. */
static bool
start_two(struct dproc *a, struct dproc *b, struct cr_client **ca,
    struct cr_client **cb)
{
	dproc_init(a);
	dproc_config(a, NO_LIMITS);
	if (!ok(dproc_start(a, T0, NULL) == 0, "daemon a starts"))
		return false;
	dproc_init_sharing(b, a);
	dproc_config(b, NO_LIMITS);
	if (!ok(dproc_start(b, T0, NULL) == 0, "daemon b, on a's database"))
		return false;
	*ca = dconnect(a);
	*cb = dconnect(b);
	return true;
}

static void
stop_two(struct dproc *a, struct dproc *b, struct cr_client *ca,
    struct cr_client *cb)
{
	cr_close(ca);
	cr_close(cb);
	is_int(dproc_stop(a, SIGTERM), 0, "a: SIGTERM, exit 0");
	is_int(dproc_stop(b, SIGTERM), 0, "b: SIGTERM, exit 0");
	dproc_cleanup(a);
	dproc_cleanup(b);
}

static void
test_shared_turn(void)
{
	static const char *const from[] = { "ka", "kc" }, *const to[] =
	    { "kb", "kd" };
	struct dproc p;
	struct cr_client *c;
	PGconn *x;
	uint64_t id;

	dproc_init(&p);
	dproc_config(&p, NO_LIMITS);
	if (!ok(dproc_start(&p, T0, NULL) == 0, "connreqd --postgres starts"))
		return;
	c = dconnect(&p);
	x = session(&p);
	ok(send_inv(c, &r, "kw", "kv") == 1,
	    "a first send (the deadlines run with it, taking the turn)");
	ok(exec_ok(x, "SELECT pg_advisory_lock_shared(" PG_LOCK_WRITE ")"),
	    "a session holds the write lock shared, as a keyed writer does");
	send_together(c, from, to, 2, 1000);
	ok(all_sent(c, 2, 1000),
	    "two sends in one batch are answered meanwhile: keyed, they share the lock");
	{
		uint32_t m = send_pipelined(c, "ke", "kf", 0);

		ok(someone_waits(x),
		    "a lone send waits: it takes every writer's turn");
		ok(exec_ok(x, "SELECT pg_advisory_unlock_shared(" PG_LOCK_WRITE
		    ")"), "the session lets go");
		cr_reply_free(&r);
		ok(cr_wait(c, m, &r) == 0 && r.error == NULL,
		    "and the lone send is answered");
		id = (uint64_t)rnum(&r, "invitation.id");
		cr_reply_free(&r);
	}
	is_int(id, 4, "its id follows the batch's two, without a gap");
	PQfinish(x);
	cr_close(c);
	is_int(dproc_stop(&p, SIGTERM), 0, "SIGTERM: exit 0");
	dproc_cleanup(&p);
}

static void
test_key_wait(void)
{
	static const char *const from1[] = { "kx", "kb1" }, *const to1[] =
	    { "ka1", "kc1" };
	static const char *const from2[] = { "kd2", "kf2" }, *const to2[] =
	    { "ke2", "kg2" };
	struct dproc a, b;
	struct cr_client *ca, *cb;
	PGconn *x;
	char sql[128];

	if (!start_two(&a, &b, &ca, &cb))
		return;
	ok(send_inv(ca, &r, "kw", "kv") > 0 && send_inv(cb, &r, "kv", "kw") > 0,
	    "a first send through each (the deadlines run with it)");
	x = session(&a);
	snprintf(sql, sizeof sql, "SELECT pg_advisory_lock(%" PRId64 ")",
	    member_key("kx"));
	ok(exec_ok(x, sql), "a session holds kx's key");
	send_together(ca, from1, to1, 2, 2000);
	ok(someone_waits(x), "a's batch naming kx waits for it");
	send_together(cb, from2, to2, 2, 3000);
	ok(all_sent(cb, 2, 3000),
	    "b's keyed batch of other members is answered meanwhile");
	snprintf(sql, sizeof sql, "SELECT pg_advisory_unlock(%" PRId64 ")",
	    member_key("kx"));
	ok(exec_ok(x, sql), "the session lets go of kx");
	ok(all_sent(ca, 2, 2000), "and a's batch is answered");
	cr_reply_free(&r);
	ok(call(cb, &r, "invite.list", "member:s box:s", "kx", "sent") == 0 &&
	    rnum(&r, "items.0.id") > 0,
	    "b reads kx's invitation, committed by a");
	PQfinish(x);
	stop_two(&a, &b, ca, cb);
}

/* The answer to msgid, a send: its invitation's id added to ids[*n];
 * whether it succeeded. */
static int
sent_id(struct cr_client *c, uint32_t msgid, uint64_t *ids, size_t *n)
{
	int good;

	cr_reply_free(&r);
	good = cr_wait(c, msgid, &r) == 0 && r.error == NULL;
	if (good)
		ids[(*n)++] = (uint64_t)rnum(&r, "invitation.id");
	cr_reply_free(&r);
	return good;
}

#define ROUNDS 12
#define PER 4		/* sends a batch */

static void
test_feed_and_ids(void)
{
	struct dproc a, b;
	struct cr_client *ca, *cb, *s;
	char fa[PER][32], ta[PER][32], fb[PER][32], tb[PER][32];
	const char *pfa[PER], *pta[PER], *pfb[PER], *ptb[PER];
	uint64_t h0, seq, want, ids[2 * ROUNDS * PER], prev;
	size_t nids = 0, i, j;
	int round, k, good = 1, uniq = 1, order = 1;

	if (!start_two(&a, &b, &ca, &cb))
		return;
	s = dconnect(&b);
	cr_reply_free(&r);
	ok(call(s, &r, "events.subscribe", "all:b", 1) == 0,
	    "a subscriber on b, to every event");
	h0 = (uint64_t)rnum(&r, "head");
	for (round = 0; round < ROUNDS; round++) {
		/* Each daemon a batch of PER sends, at the same time; the
		 * sender of both, "hub", writes through both daemons. */
		for (k = 0; k < PER; k++) {
			snprintf(fa[k], 32, k == 0 ? "hub" : "fa%d_%d", round,
			    k);
			snprintf(ta[k], 32, "ta%d_%d", round, k);
			snprintf(fb[k], 32, k == 0 ? "hub" : "fb%d_%d", round,
			    k);
			snprintf(tb[k], 32, "tb%d_%d", round, k);
			pfa[k] = fa[k];
			pta[k] = ta[k];
			pfb[k] = fb[k];
			ptb[k] = tb[k];
		}
		send_together(ca, pfa, pta, PER, 10000 + (uint32_t)round * 10);
		send_together(cb, pfb, ptb, PER, 20000 + (uint32_t)round * 10);
		for (k = 0; k < PER; k++) {
			good &= sent_id(ca, 10000 + (uint32_t)(round * 10 + k),
			    ids, &nids);
			good &= sent_id(cb, 20000 + (uint32_t)(round * 10 + k),
			    ids, &nids);
		}
	}
	cr_reply_free(&r);
	ok(good, "%d sends through two daemons at once, all answered",
	    2 * ROUNDS * PER);
	for (i = 0; i < nids; i++)
		for (j = i + 1; j < nids; j++)
			if (ids[i] == ids[j])
				uniq = 0;
	ok(uniq && nids == 2 * ROUNDS * PER, "each id given once");
	/* Each send is one invitation.received event for its recipient:
	 * the subscriber gets them all, seqs from h0 + 1 without a gap,
	 * each carrying its own. */
	want = h0 + 1;
	for (i = 0; i < nids; i++) {
		struct cr_reply ev;

		if (cr_next_event(s, &ev, WAIT_MS) != 0) {
			diag("event %zu did not come", i);
			order = 0;
			break;
		}
		seq = (uint64_t)rnum(&ev, "seq");
		if (seq != want) {
			diag("event %zu: seq %llu, want %llu", i,
			    (unsigned long long)seq, (unsigned long long)want);
			order = 0;
		}
		want = seq + 1;
		cr_reply_free(&ev);
	}
	ok(order, "the subscriber gets the %zu events, seqs without a gap",
	    nids);
	cr_reply_free(&r);
	ok(call(ca, &r, "events.read", "all:b after:u limit:u", 1, h0,
	    (uint64_t)1000) == 0, "events.read from a");
	prev = h0;
	for (i = 0; i < nids; i++) {
		char key[48];

		snprintf(key, sizeof key, "events.%zu.seq", i);
		if ((uint64_t)rnum(&r, key) != prev + 1)
			order = 0;
		prev = (uint64_t)rnum(&r, key);
	}
	ok(order, "and reads the same feed through the other daemon");
	cr_reply_free(&r);
	ok(call(ca, &r, "invite.list", "member:s box:s limit:u", "hub",
	    "sent", (uint64_t)100) == 0, "hub's sent box");
	prev = UINT64_MAX;
	for (i = 0; i < 2 * ROUNDS; i++) {
		char key[48];
		uint64_t id;

		snprintf(key, sizeof key, "items.%zu.id", i);
		id = (uint64_t)rnum(&r, key);
		if (id == 0 || id >= prev)
			order = 0;
		prev = id;
	}
	ok(order, "lists its %d invitations, sent through both daemons, newest first",
	    2 * ROUNDS);
	cr_reply_free(&r);
	cr_close(s);
	stop_two(&a, &b, ca, cb);
}

int
main(void)
{
	test_shared_turn();
	test_key_wait();
	test_feed_and_ids();
	done_testing();
}
