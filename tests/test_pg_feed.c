/* One event feed across daemons on PostgreSQL (issue 11): two connreqd on
 * one database. The `all` feed is gap-free and in commit order while both
 * write through several pipelining connections (a reader that follows it
 * with events.read never skips a seq, and a subscriber from 0 gets each
 * once, in order); a subscriber on B is pushed what A committed within
 * 100 ms (B's LISTEN connection, store_watch), also after that connection
 * was lost; cursors read on A resume on B; retention pruned by A makes
 * CURSOR_EXPIRED exact on B. The cluster is the test's own
 * (tests/pgcluster.h, via harness.h's HARNESS_PG). */
#define HARNESS_PG 1
#include "harness.h"

#define WRITERS 3		/* writer connections per daemon */
#define PIPE 12			/* sends pipelined on each, a round */
#define ROUNDS 5
#define MAXSEQ 8192
#define LAT_ROUNDS 30
#define LAT_MAX_MS 100

static struct cr_reply r;

/* The error's `oldest` (CURSOR_EXPIRED); -1 when absent. */
static int64_t
r_oldest(const struct cr_reply *x)
{
	const msgpack_object *o = x->error != NULL &&
	    x->error->type == MSGPACK_OBJECT_MAP ?
	    cr_get(x->error, "oldest") : NULL;

	return o != NULL && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ?
	    (int64_t)o->via.u64 : -1;
}

static bool
start_two(struct dproc *a, struct dproc *b, const char *conf)
{
	dproc_init_two(a, b, conf);
	return dproc_start(a, T0, NULL) == 0 && dproc_start(b, T0, NULL) == 0;
}

static void
stop_two(struct dproc *a, struct dproc *b)
{
	is_int(dproc_stop(a, SIGTERM), 0, "A stops: exit 0");
	is_int(dproc_stop(b, SIGTERM), 0, "B stops: exit 0");
	dproc_cleanup(a);
	dproc_cleanup(b);
}

/* A follower of the `all` feed through events.read, after = the last seq
 * it saw: every seq it is given must be the next one. */
struct follower {
	uint64_t last;
	unsigned gaps, repeats, reads;
	unsigned char seen[MAXSEQ + 1];
};

/* Reads pages after f->last until one is short (caught up with that
 * read's head); the head, or 0 on an error. */
static uint64_t
follow(struct cr_client *c, struct follower *f)
{
	const msgpack_object *evs, *sq;
	uint64_t seq, h = 0;
	uint32_t i, n;

	do {
		cr_reply_free(&r);
		if (call(c, &r, "events.read", "all:b after:u limit:u", 1,
		    f->last, (uint64_t)1000) != 0) {
			diag("events.read: %s", r.error != NULL ? r.code : "failed");
			return 0;
		}
		f->reads++;
		h = (uint64_t)rnum(&r, "head");
		evs = cr_get(r.result, "events");
		n = evs != NULL ? evs->via.array.size : 0;
		for (i = 0; i < n; i++) {
			sq = cr_get(&evs->via.array.ptr[i], "seq");
			seq = sq != NULL ? sq->via.u64 : 0;
			if (seq <= f->last)
				f->repeats++;
			else if (seq != f->last + 1)
				f->gaps++;
			if (seq <= MAXSEQ && seq > 0) {
				if (f->seen[seq])
					f->repeats++;
				f->seen[seq] = 1;
			}
			if (seq > f->last)
				f->last = seq;
		}
	} while (n == 1000);
	return h;
}

/* 1. Several writers on each of two daemons, pipelined, while a reader
 * follows the feed through both daemons in turn and a subscriber on B
 * takes it from 0. */
static void
test_gap_free(void)
{
	struct dproc a, b;
	struct cr_client *w[2 * WRITERS], *ra, *rb, *sb;
	uint32_t ids[2 * WRITERS][PIPE];
	static struct follower f;
	char from[48], to[48];
	uint64_t ha, hb, want, seq;
	unsigned missing = 0, lost = 0, failed = 0, subbad = 0;
	int round, i, k;
	int64_t t0;
	struct cr_reply ev;

	if (!ok(start_two(&a, &b, NO_LIMITS), "two connreqd on one database"))
		return;
	for (k = 0; k < 2 * WRITERS; k++)
		w[k] = dconnect(k < WRITERS ? &a : &b);
	ra = dconnect(&a);
	rb = dconnect(&b);
	sb = dconnect(&b);
	cr_reply_free(&r);
	ok(call(sb, &r, "events.subscribe", "all:b after:u", 1, (uint64_t)0) == 0,
	    "a subscriber on B from 0");
	t0 = harness_ms();
	for (round = 0; round < ROUNDS; round++) {
		for (i = 0; i < PIPE; i++)
			for (k = 0; k < 2 * WRITERS; k++) {
				snprintf(from, sizeof from, "g%d-%d", round, k);
				snprintf(to, sizeof to, "h%d-%d-%d", round, k,
				    i);
				ids[k][i] = send_pipelined(w[k], from, to, 0);
			}
		/* While those are being committed by both daemons. */
		for (i = 0; i < 3; i++) {
			follow(ra, &f);
			follow(rb, &f);
		}
		for (k = 0; k < 2 * WRITERS; k++)
			for (i = 0; i < PIPE; i++) {
				cr_reply_free(&r);
				if (cr_wait(w[k], ids[k][i], &r) == -1)
					lost++;
				else if (r.error != NULL) {
					failed++;
					diag("%c: %s: %s", k < WRITERS ? 'A' : 'B',
					    r.code, r.message);
				}
			}
		follow(rb, &f);
	}
	diag("%d sends through 2 daemons x %d connections: %lld ms",
	    ROUNDS * PIPE * 2 * WRITERS, WRITERS,
	    (long long)(harness_ms() - t0));
	is_int(lost + failed, 0, "every pipelined send was answered with success");
	ha = follow(ra, &f);
	hb = follow(rb, &f);
	cr_reply_free(&r);
	ok(ha > 0 && ha == hb && ha == head(ra, &r) && ha == head(rb, &r) &&
	    ha <= MAXSEQ, "both daemons give the same head (%llu)",
	    (unsigned long long)ha);
	for (seq = 1; seq <= ha && seq <= MAXSEQ; seq++)
		missing += !f.seen[seq];
	ok(f.gaps == 0 && f.repeats == 0 && missing == 0 && f.last == ha,
	    "the reader following the feed while they wrote (%u reads, through A and B in turn) got every seq 1..%llu once, in order (gaps %u, repeats %u, missing %u)",
	    f.reads, (unsigned long long)ha, f.gaps, f.repeats, missing);
	/* The subscriber on B: every seq from 1 to the head, in order. */
	for (want = 1; want <= ha; want++) {
		if (cr_next_event(sb, &ev, WAIT_MS) != 0) {
			subbad++;
			break;
		}
		if ((uint64_t)rnum(&ev, "seq") != want)
			subbad++;
		cr_reply_free(&ev);
	}
	ok(subbad == 0 && cr_next_event(sb, &ev, 100) == 1,
	    "the subscriber on B got seqs 1..%llu, each once, in order, and no more",
	    (unsigned long long)ha);
	cr_reply_free(&r);
	for (k = 0; k < 2 * WRITERS; k++)
		cr_close(w[k]);
	cr_close(ra);
	cr_close(rb);
	cr_close(sb);
	stop_two(&a, &b);
}

/* The first pushed event of invitation id on s; its arrival (harness_ms),
 * or -1 when none comes within wait_ms. */
static int64_t
arrival(struct cr_client *s, uint64_t id, int wait_ms)
{
	struct cr_reply ev;
	int64_t start = harness_ms(), left;

	while ((left = wait_ms - (harness_ms() - start)) > 0) {
		if (cr_next_event(s, &ev, (int)left) != 0)
			return -1;
		if ((uint64_t)rnum(&ev, "invitation.id") == id) {
			cr_reply_free(&ev);
			return harness_ms();
		}
		cr_reply_free(&ev);
	}
	return -1;
}

static int
cmp_i64(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

	return a < b ? -1 : a > b;
}

/* 2. A subscriber on B sees what A committed (B writes nothing), within
 * 100 ms; and after B's watch connection is lost, B reconnects by itself
 * and pushes what was committed meanwhile. */
static void
test_latency(void)
{
	struct dproc a, b;
	struct cr_client *ca, *sb;
	int64_t lat[LAT_ROUNDS], answered, got;
	char to[32], db[64], sql[256];
	uint64_t id;
	int i, n = 0;

	if (!ok(start_two(&a, &b, NO_LIMITS), "two connreqd on one database"))
		return;
	ca = dconnect(&a);
	sb = dconnect(&b);
	cr_reply_free(&r);
	ok(call(sb, &r, "events.subscribe", "all:b", 1) == 0,
	    "a subscriber on B, at the head");
	/* One round first, not counted: B's first pump opens its read
	 * connection to the database (a backend started, statements
	 * prepared), a cost paid once, not per event. */
	id = send_inv(ca, &r, "lena", "warm");
	ok(id > 0 && arrival(sb, id, 5000) > 0,
	    "a first send through A reaches B's subscriber (not timed)");
	for (i = 0; i < LAT_ROUNDS; i++) {
		snprintf(to, sizeof to, "lat%d", i);
		id = send_inv(ca, &r, "lena", to);
		answered = harness_ms();
		if (id == 0 || (got = arrival(sb, id, 2000)) < 0)
			break;
		lat[n++] = got - answered;
	}
	is_int(n, LAT_ROUNDS, "each of %d sends through A is pushed to B's subscriber",
	    LAT_ROUNDS);
	if (n > 0) {
		qsort(lat, (size_t)n, sizeof lat[0], cmp_i64);
		diag("A's answer to B's subscriber: p50 %lld ms, max %lld ms over %d rounds",
		    (long long)lat[n / 2], (long long)lat[n - 1], n);
		ok(lat[n - 1] < LAT_MAX_MS, "within %d ms every time (max %lld ms)",
		    LAT_MAX_MS, (long long)lat[n - 1]);
	}

	/* The watch connections lost, and none allowed for now: A's commit
	 * is not heard of by B... */
	dproc_dbname(&a, db, sizeof db);
	snprintf(sql, sizeof sql, "ALTER DATABASE %s ALLOW_CONNECTIONS false",
	    db);
	if (pgcluster_sql(&harness_pg, "postgres", sql) == -1)
		bail_out("%s", sql);
	snprintf(sql, sizeof sql,
	    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
	    "WHERE datname = '%s' AND application_name = 'connreqd watch'", db);
	if (pgcluster_sql(&harness_pg, "postgres", sql) == -1)
		bail_out("%s", sql);
	answered = harness_ms();
	while (!dproc_logged(&b, "event watch lost its connection") &&
	    wait_tick(answered))
		;
	ok(dproc_logged(&b, "event watch lost its connection"),
	    "B's watch connection terminated: B says so");
	id = send_inv(ca, &r, "lena", "missed");
	ok(id > 0, "A commits meanwhile (its store connection stays)");
	ok(arrival(sb, id, 300) == -1,
	    "B's subscriber is not pushed it while B cannot listen");
	/* ... until B has reconnected, by itself, and pumped once. */
	snprintf(sql, sizeof sql, "ALTER DATABASE %s ALLOW_CONNECTIONS true",
	    db);
	if (pgcluster_sql(&harness_pg, "postgres", sql) == -1)
		bail_out("%s", sql);
	ok(arrival(sb, id, 5000) > 0,
	    "once it can connect again, B reconnects and pushes the event it missed");
	id = send_inv(ca, &r, "lena", "after");
	answered = harness_ms();
	got = arrival(sb, id, 2000);
	ok(got > 0 && got - answered < LAT_MAX_MS,
	    "and hears A's next commit again (%lld ms)",
	    (long long)(got - answered));
	cr_reply_free(&r);
	cr_close(ca);
	cr_close(sb);
	stop_two(&a, &b);
}

/* The seqs of the `all` feed after `after` read on c, as "a,b,c". */
static const char *
seqs_after(struct cr_client *c, uint64_t after, char *buf, size_t n)
{
	const msgpack_object *evs, *sq;
	size_t off = 0;
	uint32_t i;
	int k;

	buf[0] = '\0';
	cr_reply_free(&r);
	if (call(c, &r, "events.read", "all:b after:u limit:u", 1, after,
	    (uint64_t)1000) != 0) {
		snprintf(buf, n, "error %s", r.code);
		return buf;
	}
	evs = cr_get(r.result, "events");
	for (i = 0; evs != NULL && i < evs->via.array.size; i++) {
		sq = cr_get(&evs->via.array.ptr[i], "seq");
		k = snprintf(buf + off, n - off, "%s%llu", i ? "," : "",
		    sq ? (unsigned long long)sq->via.u64 : 0ULL);
		if (k < 0 || (size_t)k >= n - off)
			break;
		off += (size_t)k;
	}
	return buf;
}

/* 3. A cursor read on A resumes on B: exactly the events after it. */
static void
test_cursors(void)
{
	struct dproc a, b;
	struct cr_client *ca, *cb, *s;
	struct cr_reply ev;
	char to[32], onA[2048], onB[2048], got[2048];
	uint64_t h0, cursor = 0, hd, seq;
	size_t off = 0;
	int i, k, bad = 0;

	if (!ok(start_two(&a, &b, NO_LIMITS), "two connreqd on one database"))
		return;
	ca = dconnect(&a);
	cb = dconnect(&b);
	h0 = head(ca, &r);
	s = dconnect(&a);
	cr_reply_free(&r);
	call(s, &r, "events.subscribe", "all:b after:u", 1, h0);
	for (i = 0; i < 4; i++) {
		snprintf(to, sizeof to, "cur%d", i);
		send_inv(i % 2 ? ca : cb, &r, "carl", to);
	}
	hd = head(ca, &r);
	while (cursor < hd && cr_next_event(s, &ev, WAIT_MS) == 0) {
		seq = (uint64_t)rnum(&ev, "seq");
		bad += seq != cursor + 1 && !(cursor == 0 && seq == h0 + 1);
		cursor = seq;
		cr_reply_free(&ev);
	}
	ok(cursor == hd && bad == 0,
	    "a subscriber on A read up to %llu, in order", (unsigned long long)hd);
	cr_close(s);
	/* More through both while it is away. */
	for (i = 4; i < 10; i++) {
		snprintf(to, sizeof to, "cur%d", i);
		send_inv(i % 2 ? ca : cb, &r, "carl", to);
	}
	hd = head(cb, &r);
	seqs_after(ca, cursor, onA, sizeof onA);
	seqs_after(cb, cursor, onB, sizeof onB);
	ok(strcmp(onA, onB) == 0 && onA[0] != '\0' && onA[0] != 'e',
	    "events.read after %llu is the same on A and on B (%s)",
	    (unsigned long long)cursor, onB);
	s = dconnect(&b);
	cr_reply_free(&r);
	ok(call(s, &r, "events.subscribe", "all:b after:u", 1, cursor) == 0,
	    "it resumes on B from %llu", (unsigned long long)cursor);
	got[0] = '\0';
	for (seq = cursor; seq < hd; ) {
		if (cr_next_event(s, &ev, WAIT_MS) != 0)
			break;
		seq = (uint64_t)rnum(&ev, "seq");
		k = snprintf(got + off, sizeof got - off, "%s%llu",
		    off ? "," : "", (unsigned long long)seq);
		if (k > 0 && (size_t)k < sizeof got - off)
			off += (size_t)k;
		cr_reply_free(&ev);
	}
	ok(strcmp(got, onA) == 0 && cr_next_event(s, &ev, 100) == 1,
	    "and gets exactly the events after it, each once (%s)", got);
	cr_close(s);
	/* A member's cursor too. */
	s = dconnect(&b);
	cr_reply_free(&r);
	call(s, &r, "events.subscribe", "member:s after:u", "cur7", cursor);
	i = cr_next_event(s, &ev, WAIT_MS) == 0 &&
	    strcmp(rstr(&ev, "type"), "invitation.received") == 0;
	cr_reply_free(&ev);
	ok(i && cr_next_event(s, &ev, 100) == 1,
	    "a member's cursor resumes on B with that member's events alone");
	cr_reply_free(&r);
	cr_close(s);
	cr_close(ca);
	cr_close(cb);
	stop_two(&a, &b);
}

/* 4. Retention: A's clock moves past it and A prunes; B's cursors from
 * before what is kept get CURSOR_EXPIRED, exactly. */
static void
test_retention(void)
{
	struct dproc a, b;
	struct cr_client *ca, *cb, *s;
	char to[32], buf[2048];
	uint64_t ha, oldest, recv_seq;
	const msgpack_object *evs, *sq;
	struct cr_reply ev;
	int i;

	if (!ok(start_two(&a, &b, NO_LIMITS "[events]\nretention = 1h\n"),
	    "two connreqd on one database, events kept 1 h"))
		return;
	ca = dconnect(&a);
	cb = dconnect(&b);
	for (i = 0; i < 4; i++) {
		snprintf(to, sizeof to, "ret%d", i);
		send_inv(i % 2 ? ca : cb, &r, "rita", to);
	}
	ha = head(ca, &r);
	/* ret3's invitation.received, for its member feed. */
	cr_reply_free(&r);
	call(cb, &r, "events.read", "member:s after:u", "ret1", (uint64_t)0);
	evs = cr_get(r.result, "events");
	sq = evs != NULL && evs->type == MSGPACK_OBJECT_ARRAY &&
	    evs->via.array.size == 1 ?
	    cr_get(&evs->via.array.ptr[0], "seq") : NULL;
	recv_seq = sq != NULL ? sq->via.u64 : 0;
	ok(recv_seq > 0 && recv_seq < ha,
	    "ret1's feed has one event, %llu (of %llu)",
	    (unsigned long long)recv_seq, (unsigned long long)ha);
	ok(advance(ca, &r, 2 * 3600) == T0 + 2 * 3600,
	    "A's clock moves 2 h on");
	cr_reply_free(&r);
	call(cb, &r, "server.info", "");
	oldest = (uint64_t)rnum(&r, "events.oldest");
	ok(oldest == ha + 1, "A pruned every event: B's server.info says oldest %llu, head %llu",
	    (unsigned long long)oldest, (unsigned long long)ha);
	cr_reply_free(&r);
	i = call(cb, &r, "events.read", "all:b after:u", 1, ha - 1);
	ok(i == 1 && refused(&r, "CURSOR_EXPIRED") &&
	    (uint64_t)r_oldest(&r) == oldest,
	    "events.read on B after %llu: CURSOR_EXPIRED, oldest %lld",
	    (unsigned long long)(ha - 1), (long long)r_oldest(&r));
	s = dconnect(&b);
	cr_reply_free(&r);
	ok(call(s, &r, "events.subscribe", "all:b after:u", 1, (uint64_t)1) == 1 &&
	    refused(&r, "CURSOR_EXPIRED"),
	    "events.subscribe on B after 1: CURSOR_EXPIRED");
	cr_close(s);
	ok(strcmp(seqs_after(cb, oldest - 1, buf, sizeof buf), "") == 0 &&
	    strcmp(seqs_after(cb, 0, buf, sizeof buf), "") == 0,
	    "after = oldest - 1 and after = 0 are accepted on B");
	cr_reply_free(&r);
	i = call(cb, &r, "events.read", "member:s after:u", "ret1",
	    recv_seq - 1);
	ok(recv_seq > 1 && i == 1 && refused(&r, "CURSOR_EXPIRED") &&
	    (uint64_t)r_oldest(&r) == recv_seq + 1,
	    "a member's cursor before its pruned event: CURSOR_EXPIRED on B (oldest %lld)",
	    (long long)r_oldest(&r));
	cr_reply_free(&r);
	ok(call(cb, &r, "events.read", "member:s after:u", "ret1", recv_seq)
	    == 0, "and from that event on, accepted on B (the all feed's oldest is %llu: others' pruned events do not count)",
	    (unsigned long long)oldest);
	/* New events after the prune, through B (its clock moved on too,
	 * so that A does not prune them at once): the feed goes on from
	 * head + 1 on both daemons. */
	ok(advance(cb, &r, 2 * 3600) > 0, "B's clock moves on too");
	ok(send_inv(cb, &r, "rita", "ret9") > 0, "B sends (%s)", r.code);
	snprintf(to, sizeof to, "%llu", (unsigned long long)ha + 1);
	ok(strncmp(seqs_after(ca, ha, buf, sizeof buf), to, strlen(to)) == 0,
	    "B's next event is %s, read on A (%s)", to, buf);
	s = dconnect(&a);
	cr_reply_free(&r);
	call(s, &r, "events.subscribe", "all:b after:u", 1, ha);
	ok(cr_next_event(s, &ev, 5000) == 0 &&
	    (uint64_t)rnum(&ev, "seq") == ha + 1,
	    "and pushed from there on A");
	cr_reply_free(&ev);
	cr_reply_free(&r);
	cr_close(s);
	cr_close(ca);
	cr_close(cb);
	stop_two(&a, &b);
}

int
main(void)
{
	int64_t t0;

	harness_pg_start();
	t0 = harness_ms();
	test_gap_free();
	diag("gap-free: %lld ms", (long long)(harness_ms() - t0));
	t0 = harness_ms();
	test_latency();
	diag("latency: %lld ms", (long long)(harness_ms() - t0));
	t0 = harness_ms();
	test_cursors();
	diag("cursors: %lld ms", (long long)(harness_ms() - t0));
	t0 = harness_ms();
	test_retention();
	diag("retention: %lld ms", (long long)(harness_ms() - t0));
	return done_testing();
}
