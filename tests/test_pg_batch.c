/* A batch's writes on PostgreSQL (issue 11's bench): the requests of a
 * batch run without waiting for their writes (store_defer()), and the
 * rows a batch's sends write go as one statement a table (store-pg.c's
 * gathered writes). A write that fails there is still its own request's:
 * the batch runs again with a child transaction per request, that
 * request gets its error with nothing of it written, and the others
 * succeed and are durable. Many sends of one sender in one batch (the
 * same member row and log key each time) all count. The cluster is the
 * test's own (tests/pgcluster.h, via harness.h's HARNESS_PG). */
#define HARNESS_PG 1
#include "harness.h"

#define K 12			/* sends pipelined in a batch */
#define BAD 5			/* the one whose insert fails */
#define NESTED "a child transaction per request"
/* Round trips of a write transaction, but those that prepared a
 * statement (once per connection): a lone send's (the lock, BEGIN and
 * the clock; the deadlines' claim with the send's reads; its writes with
 * the next deadline; COMMIT), and a batch of sends' (the same four). */
#define LONE_SEND_TRIPS 4
#define BATCH_TRIPS 4
/* NO_LIMITS but the duplicate note's warning (at 5, its default). */
#define LIMITS "[limits]\nsends_per_week = 0\npending_warn = 0\n" \
	"pending_max = 0\ninvites_per_pair = 0\nwithdrawals_per_day = 0\n" \
	"duplicate_note_warn = 5\n"
/* Statements a write transaction of sends runs, whatever their number:
 * the sends' reads are one statement (Q_BUNDLE_MANY), their writes one
 * a table. */
#define BATCH_STMTS 16
#define COMMITTED "a write transaction committed"

static struct cr_reply r;
static char db[64];

static long long
sqlv(const char *sql)
{
	return pgcluster_value(&harness_pg, db, sql, false);
}

/* Sends from[i] -> to[i] for i < n, pipelined on c; the ids go to ids[]
 * (0 for an error, its code in codes[]). Returns how many succeeded. */
static int
send_batch(struct cr_client *c, char from[][32], char to[][32], int n,
    uint64_t *ids, char codes[][32])
{
	uint32_t msgid[K];
	int i, good = 0;

	for (i = 0; i < n; i++)
		msgid[i] = send_pipelined(c, from[i], to[i], 0);
	for (i = 0; i < n; i++) {
		cr_reply_free(&r);
		if (cr_wait(c, msgid[i], &r) == -1)
			bail_out("a send was not answered");
		codes[i][0] = '\0';
		ids[i] = 0;
		if (r.error != NULL) {
			snprintf(codes[i], 32, "%s", r.code);
			continue;
		}
		ids[i] = (uint64_t)rnum(&r, "invitation.id");
		good++;
	}
	cr_reply_free(&r);
	return good;
}

/* The round trips of the last write transaction connreqd -v logged
 * ("... N statements in M round trips ..."): M, or -1. */
static int
last_trips(const struct dproc *p)
{
	char line[512];
	const char *at;
	FILE *f = fopen(p->log, "r");
	int trips = -1;

	while (f != NULL && fgets(line, sizeof line, f) != NULL)
		if ((at = strstr(line, " statements in ")) != NULL &&
		    strstr(line, "a write transaction committed") != NULL)
			trips = atoi(at + strlen(" statements in "));
	if (f != NULL)
		fclose(f);
	return trips;
}

/* The most round trips, less those that prepared statements, of the
 * write transactions connreqd -v logged after the first `skip`; -1 when
 * there were none. */
static int
max_trips_after(const struct dproc *p, int skip)
{
	char line[512];
	const char *at, *pr;
	FILE *f = fopen(p->log, "r");
	int n = 0, most = -1, trips;

	while (f != NULL && fgets(line, sizeof line, f) != NULL) {
		if (strstr(line, COMMITTED) == NULL ||
		    (at = strstr(line, " statements in ")) == NULL ||
		    n++ < skip)
			continue;
		trips = atoi(at + strlen(" statements in "));
		if ((pr = strstr(at, " round trips (")) != NULL)
			trips -= atoi(pr + strlen(" round trips ("));
		if (trips > most)
			most = trips;
	}
	if (f != NULL)
		fclose(f);
	return most;
}

/* Sends from -> to with note (none when NULL) without waiting: its
 * message id. */
static uint32_t
send_note_pipelined(struct cr_client *c, const char *from, const char *to,
    const char *note)
{
	msgpack_packer *pk = cr_request(c, "invite.send");

	msgpack_pack_map(pk, note != NULL ? 3 : 2);
	pk_str(pk, "from");
	pk_str(pk, from);
	pk_str(pk, "to");
	pk_str(pk, to);
	if (note != NULL) {
		pk_str(pk, "note");
		pk_str(pk, note);
	}
	return (uint32_t)cr_send(c);
}

/* The most statements of the write transactions connreqd -v logged
 * after the first `skip`; -1 when there were none. */
static int
max_stmts_after(const struct dproc *p, int skip)
{
	char line[512];
	const char *at;
	FILE *f = fopen(p->log, "r");
	int n = 0, most = -1, stmts;

	while (f != NULL && fgets(line, sizeof line, f) != NULL) {
		if ((at = strstr(line, COMMITTED ": ")) == NULL ||
		    n++ < skip)
			continue;
		stmts = atoi(at + strlen(COMMITTED ": "));
		if (stmts > most)
			most = stmts;
	}
	if (f != NULL)
		fclose(f);
	return most;
}

/* The mutual_count of the invitation id in member's received event
 * (the recipient's view, as the send wrote it); -1 when there is none. */
static long long
received_mutual(struct cr_client *c, const char *member, uint64_t id)
{
	const msgpack_object *evs, *inv, *iid, *m;
	long long n = -1;
	uint32_t i;

	cr_reply_free(&r);
	if (call(c, &r, "events.read", "member:s after:u limit:u", member,
	    (uint64_t)0, (uint64_t)100) != 0)
		return -1;
	evs = cr_get(r.result, "events");
	for (i = 0; evs != NULL && i < evs->via.array.size; i++) {
		inv = cr_get(&evs->via.array.ptr[i], "invitation");
		iid = cr_get(inv, "id");
		m = cr_get(inv, "mutual_count");
		if (iid != NULL && iid->via.u64 == id && m != NULL &&
		    m->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
			n = (long long)m->via.u64;
	}
	cr_reply_free(&r);
	return n;
}

int
main(void)
{
	static const char *const verbose[] = { "-v", NULL };
	char from[K][32], to[K][32], codes[K][32], sql[256];
	uint64_t ids[K];
	struct dproc a;
	struct cr_client *c;
	int i, good, nested, durable;

	dproc_init(&a);
	dproc_config(&a, LIMITS);
	dproc_dbname(&a, db, sizeof db);
	if (!ok(dproc_start(&a, T0, verbose) == 0, "connreqd --postgres -v"))
		goto out;
	c = dconnect(&a);

	/* A pending invitation bad-s -> bad-t that no pair row tells of (as
	 * another writer's, or a damaged store's): the daemon's insert of
	 * one more meets the partial unique index, in the pipeline. */
	snprintf(sql, sizeof sql, "INSERT INTO invitations VALUES (900000, 0, "
	    "1, 1, %d, %d, %d, %d, 0, false, false, 0, 'bad-s', 'bad-t', '')",
	    T0, T0, T0 + 30 * DAY, T0 + 20 * DAY);
	ok(pgcluster_sql(&harness_pg, db, sql) == 0,
	    "a pending bad-s -> bad-t written behind the daemon's back");

	for (i = 0; i < K; i++) {
		snprintf(from[i], 32, i == BAD ? "bad-s" : "ok-s%d", i);
		snprintf(to[i], 32, i == BAD ? "bad-t" : "ok-t%d", i);
	}
	nested = dproc_log_count(&a, NESTED);
	good = send_batch(c, from, to, K, ids, codes);
	is_int(good, K - 1, "%d of %d pipelined sends succeed", good, K);
	is_str(codes[BAD], "INTERNAL", "the send whose insert failed gets its own error");
	for (i = 0, durable = 0; i < K; i++)
		if (i != BAD && ids[i] != 0 && codes[i][0] == '\0')
			durable++;
	is_int(durable, K - 1, "every other send has its id");
	ok(dproc_log_count(&a, NESTED) > nested,
	    "the batch ran again with a child transaction per request (log)");
	is_int(sqlv("SELECT count(*) FROM invitations WHERE sender LIKE 'ok-s%'"),
	    K - 1, "the others' invitations are in the database");
	is_int(sqlv("SELECT count(*) FROM pairs WHERE sender LIKE 'ok-s%'"),
	    K - 1, "and their pairs");
	is_int(sqlv("SELECT count(*) FROM logs WHERE key LIKE 'ok-s%'"),
	    K - 1, "and their sends' log entries");
	is_int(sqlv("SELECT count(*) FROM invitations WHERE sender = 'bad-s'"),
	    1, "the failed send wrote no invitation");
	is_int(sqlv("SELECT count(*) FROM pairs WHERE sender = 'bad-s'") +
	    sqlv("SELECT count(*) FROM logs WHERE key = 'bad-s'") +
	    sqlv("SELECT count(*) FROM members WHERE member = 'bad-s'") +
	    sqlv("SELECT count(*) FROM events WHERE member IN ('bad-s', 'bad-t')"),
	    0, "nor a pair, a log entry, a member row, an event");
	/* A send's deadlines: expiry, stale, and the recipient's reminder
	 * (recipient_remind_after). */
	is_int(sqlv("SELECT count(*) FROM dues"), 3 * (K - 1),
	    "the others' deadlines, three each");
	is_int(sqlv("SELECT value FROM meta WHERE name = 'count.pending'"),
	    K - 1, "count.pending counts the others only");
	cr_reply_free(&r);
	ok(call(c, &r, "invite.list", "member:s box:s", "bad-t", "received") == 0 &&
	    rnum(&r, "items") == 1,
	    "the recipient's box holds the one written behind its back");

	/* One sender, K recipients, in one batch: its member row and its
	 * log key come K times among the gathered rows. */
	for (i = 0; i < K; i++) {
		snprintf(from[i], 32, "many-s");
		snprintf(to[i], 32, "many-t%d", i);
	}
	nested = dproc_log_count(&a, NESTED);
	good = send_batch(c, from, to, K, ids, codes);
	is_int(good, K, "one sender's %d pipelined sends all succeed", K);
	is_int(dproc_log_count(&a, NESTED), nested,
	    "without running the batch again");
	is_int(sqlv("SELECT open_sent FROM members WHERE member = 'many-s'"),
	    K, "the sender's row counts all %d open", K);
	is_int(sqlv("SELECT count(*) FROM logs WHERE key = 'many-s'"), K,
	    "its log holds all %d", K);
	is_int(sqlv("SELECT count(*) FROM dues"), 3 * (2 * K - 1),
	    "every send's three deadlines are there");
	is_int(sqlv("SELECT value FROM meta WHERE name = 'count.deadlines'"),
	    3 * (2 * K - 1), "count.deadlines counts them");
	is_int(sqlv("SELECT count(*) FROM events"), 2 * K - 1,
	    "every send's event is there, seqs without a gap");
	is_int(sqlv("SELECT max(seq) FROM events"), 2 * K - 1,
	    "the last seq is the count");

	/* Sends both ways in one batch: each pair's second send finds the
	 * first one's pending invitation (read for the whole batch before
	 * either ran, kept true by the first one's writes) and connects. */
	for (i = 0; i < K; i++) {
		snprintf(from[i], 32, "%s%d", i < K / 2 ? "mx-" : "my-", i % (K / 2));
		snprintf(to[i], 32, "%s%d", i < K / 2 ? "my-" : "mx-", i % (K / 2));
	}
	nested = dproc_log_count(&a, NESTED);
	good = send_batch(c, from, to, K, ids, codes);
	is_int(good, K, "%d sends, both ways of %d pairs, in one go all succeed", K, K / 2);
	is_int(dproc_log_count(&a, NESTED), nested,
	    "without running the batch again");
	is_int(sqlv("SELECT count(*) FROM connections WHERE lo LIKE 'mx-%'"),
	    K / 2, "each pair is connected (mutual sends)");
	is_int(sqlv("SELECT count(*) FROM invitations WHERE sender LIKE 'm_-%' AND state <> 0"),
	    K, "none of their invitations is left pending");
	is_int(sqlv("SELECT value FROM meta WHERE name = 'count.pending'"),
	    2 * K - 1, "count.pending did not move");

	/* How many connections a send's two members share is read with
	 * the batch's other reads, before any request runs; a connection
	 * made by an earlier request of the batch changes it: px-p and px-x
	 * are connected, then px-x and px-q connect in the batch that also
	 * sends px-p -> px-q, whose recipient's view shares px-x. */
	snprintf(from[0], 32, "px-p");
	snprintf(to[0], 32, "px-x");
	snprintf(from[1], 32, "px-x");
	snprintf(to[1], 32, "px-p");
	is_int(send_batch(c, from, to, 2, ids, codes), 2,
	    "px-p and px-x connect");
	snprintf(from[0], 32, "px-q");
	snprintf(to[0], 32, "px-x");
	snprintf(from[1], 32, "px-x");
	snprintf(to[1], 32, "px-q");
	snprintf(from[2], 32, "px-p");
	snprintf(to[2], 32, "px-q");
	is_int(send_batch(c, from, to, 3, ids, codes), 3,
	    "px-x and px-q connect, px-p sends to px-q, in one go");
	is_int(sqlv("SELECT count(*) FROM connections WHERE lo LIKE 'px-%'"),
	    2, "two connections");
	is_int(received_mutual(c, "px-q", ids[2]), 1,
	    "px-q's view of px-p's invitation: they share px-x");

	/* The count each send of a batch reads with the others (no
	 * connection written in the batch, so the reads' count is the one
	 * shown): mq-a and mq-b share mq-x and mq-y; mq-z has a connection
	 * (mq-w) but shares none with mq-a; mq-c and mq-d have none. Each
	 * case of who has connections: both (sharing two, sharing none),
	 * the sender only, the recipient only, neither. */
	{
		static const char *const pairs[][2] = {
			{ "mq-a", "mq-x" }, { "mq-a", "mq-y" },
			{ "mq-b", "mq-x" }, { "mq-b", "mq-y" },
			{ "mq-z", "mq-w" },
		};
		static const char *const sends[][2] = {
			{ "mq-a", "mq-b" }, { "mq-a", "mq-z" },
			{ "mq-b", "mq-d" }, { "mq-c", "mq-b" },
			{ "mq-c", "mq-d" },
		};
		static const long long want[] = { 2, 0, 0, 0, 0 };

		for (i = 0; i < 5; i++) {
			snprintf(from[2 * i], 32, "%s", pairs[i][0]);
			snprintf(to[2 * i], 32, "%s", pairs[i][1]);
			snprintf(from[2 * i + 1], 32, "%s", pairs[i][1]);
			snprintf(to[2 * i + 1], 32, "%s", pairs[i][0]);
		}
		is_int(send_batch(c, from, to, 10, ids, codes), 10,
		    "mq-a, mq-b, mq-z connect");
		is_int(sqlv("SELECT count(*) FROM connections "
		    "WHERE lo LIKE 'mq-%'"), 5, "five connections");
		for (i = 0; i < 5; i++) {
			snprintf(from[i], 32, "%s", sends[i][0]);
			snprintf(to[i], 32, "%s", sends[i][1]);
		}
		is_int(send_batch(c, from, to, 5, ids, codes), 5,
		    "five sends in one batch");
		for (i = 0; i < 5; i++)
			is_int(received_mutual(c, to[i], ids[i]), want[i],
			    "%s's view of %s's invitation: %lld shared",
			    to[i], from[i], want[i]);
	}

	/* The sender's notes log comes with the batch's reads (an array
	 * of notes keys, NULL for a send without one): nt-a sent "hi" three
	 * times; in one batch its fourth does not warn, a send without a
	 * note goes between, and its fifth warns (duplicate_note_warn 5). */
	for (i = 0; i < 3; i++) {
		char to1[32];

		snprintf(to1, sizeof to1, "nt-b%d", i);
		cr_reply_free(&r);
		if (call(c, &r, "invite.send", "from:s to:s note:s", "nt-a", to1,
		    "hi") != 0)
			break;
	}
	is_int(i, 3, "nt-a sends the note hi three times, one at a time");
	{
		uint32_t m[3];
		const char *want[3] = { "(none)", "(none)", "DUPLICATE_NOTE" };
		const char *tos[3] = { "nt-b3", "nt-d", "nt-b4" };

		m[0] = send_note_pipelined(c, "nt-a", tos[0], "hi");
		m[1] = send_note_pipelined(c, "nt-c", tos[1], NULL);
		m[2] = send_note_pipelined(c, "nt-a", tos[2], " HI ");
		for (i = 0; i < 3; i++) {
			cr_reply_free(&r);
			if (cr_wait(c, m[i], &r) == -1)
				bail_out("a send was not answered");
			ok(r.error == NULL, "in one batch: %s -> %s",
			    i == 1 ? "nt-c" : "nt-a", tos[i]);
			is_str(rstr(&r, "warnings.0.code"), want[i],
			    "its warning");
		}
	}

	/* A batch's round trips (connreqd -v): as many whatever its size. */
	for (i = 0; i < K; i++) {
		snprintf(from[i], 32, "rt-s%d", i);
		snprintf(to[i], 32, "rt-t%d", i);
	}
	i = dproc_log_count(&a, COMMITTED);
	is_int(send_batch(c, from, to, K, ids, codes), K,
	    "%d sends pipelined", K);
	diag("a batch of sends: at most %d round trips", max_trips_after(&a, i));
	ok(max_trips_after(&a, i) > 0 &&
	    max_trips_after(&a, i) <= BATCH_TRIPS,
	    "its transactions take at most %d round trips each, but to prepare (%d)",
	    BATCH_TRIPS, max_trips_after(&a, i));
	diag("a batch of sends: at most %d statements", max_stmts_after(&a, i));
	ok(max_stmts_after(&a, i) > 0 && max_stmts_after(&a, i) <= BATCH_STMTS,
	    "its sends' reads are one statement: at most %d statements (%d)",
	    BATCH_STMTS, max_stmts_after(&a, i));

	/* A lone send's round trips: what it reads of its two members (the
	 * recipient's auto-accept flag among it, how many connections they
	 * share) comes in one statement, with the deadlines' claim. */
	i = dproc_log_count(&a, COMMITTED);
	cr_reply_free(&r);
	ok(call(c, &r, "invite.send", "from:s to:s", "solo-a", "solo-b") == 0,
	    "a lone send");
	diag("a lone send: %d round trips", last_trips(&a));
	ok(max_trips_after(&a, i) > 0 &&
	    max_trips_after(&a, i) <= LONE_SEND_TRIPS,
	    "a lone send takes at most %d round trips, but to prepare (%d)",
	    LONE_SEND_TRIPS, max_trips_after(&a, i));

	/* What the daemon says matches, also after it starts again. */
	cr_close(c);
	is_int(dproc_stop(&a, SIGTERM), 0, "stopped");
	if (!ok(dproc_start(&a, T0, NULL) == 0, "started again"))
		goto out;
	c = dconnect(&a);
	cr_reply_free(&r);
	i = call(c, &r, "invite.can_send", "from:s to:s", "many-s", "many-t0");
	is_str(i == 0 ? rstr(&r, "code") : "(failed)", "ALREADY_PENDING",
	    "a send many-s -> many-t0 again would be refused: pending");
	cr_reply_free(&r);
	cr_close(c);
out:
	dproc_cleanup(&a);
	return done_testing();
}
