/* connreqd on PostgreSQL through a failover (issue 11, "Failover"): a
 * primary and its synchronous streaming standby (tests/pgcluster.h), two
 * connreqd on a multi-host conninfo naming both with
 * target_session_attrs=read-write, writers through both daemons (several
 * connections, pipelined sends) recording every acknowledged write. The
 * primary is killed (SIGKILL, its whole process group) while sends are in
 * flight, the standby promoted, and the writers go on: while there is no
 * primary they get UNAVAILABLE with retry_at, never a success; both
 * daemons find the new primary by themselves (no restart); at the end
 * every acknowledged write is on the new primary, read through both
 * daemons and by SQL, and connreqd --check on it is clean. The answers
 * "may or may not have been applied" (the connection lost during COMMIT)
 * are reported with what was found for them. */
#define HARNESS_PG 1
#include "harness.h"

#include <inttypes.h>

#define NCONN 4		/* writer connections, alternately on A and B */
#define WINDOW 8	/* sends in flight on each, a round */
#define MAXW 16384	/* sends in all, at most */
#define BEFORE 150	/* acknowledged sends through each daemon before
			 * the kill, and again after the promotion */

static struct cr_reply r;

/* Every send: its sender (unique), whom the answer came through, how it
 * was answered. */
enum outcome { O_NONE, O_OK, O_UNAVAILABLE, O_UNKNOWN, O_OTHER, O_LOST };

static struct wr {
	char from[24];
	uint64_t id;		/* O_OK: the invitation's id */
	int daemon;		/* 0: A, 1: B */
	enum outcome o;
} w[MAXW];
static unsigned nw;

/* Counts by phase: 0 before the kill, 1 sent while no primary was up
 * (the kill done, the promotion not), 2 after the promotion, 3 the round
 * in flight at the kill. */
static unsigned ok_by[4][2], unavail_by[4][2], unknown_by[4], other_by[4],
    lost_by[4], bad_retry;
static char first_unavail[2][300];	/* a message of each daemon's */

/* One round of sends: WINDOW on each connection, then every answer.
 * With between set, it is called once all are sent, before any answer is
 * read (the kill, while they are in flight). */
static void
round_of_sends(struct cr_client *const *c, int phase, void (*between)(void))
{
	uint32_t msgid[NCONN][WINDOW];
	unsigned idx[NCONN][WINDOW], k, i;
	struct wr *x;

	for (k = 0; k < NCONN; k++)
		for (i = 0; i < WINDOW && nw < MAXW; i++) {
			x = &w[nw];
			snprintf(x->from, sizeof x->from, "w%u", nw);
			x->daemon = (int)(k % 2);
			idx[k][i] = nw++;
			msgid[k][i] = send_pipelined(c[k], x->from, "target", 0);
		}
	if (between != NULL)
		between();
	for (k = 0; k < NCONN; k++)
		for (i = 0; i < WINDOW; i++) {
			x = &w[idx[k][i]];
			cr_reply_free(&r);
			if (cr_wait(c[k], msgid[k][i], &r) == -1) {
				x->o = O_LOST;
				lost_by[phase]++;
				continue;
			}
			if (r.error == NULL) {
				x->o = O_OK;
				x->id = (uint64_t)rnum(&r, "invitation.id");
				ok_by[phase][x->daemon]++;
			} else if (refused(&r, "UNAVAILABLE")) {
				if (r.retry_at < T0)
					bad_retry++;
				if (strstr(r.message,
				    "may or may not have been applied")) {
					x->o = O_UNKNOWN;
					unknown_by[phase]++;
				} else
					x->o = O_UNAVAILABLE;
				unavail_by[phase][x->daemon]++;
				if (phase == 1 &&
				    first_unavail[x->daemon][0] == '\0')
					snprintf(first_unavail[x->daemon],
					    sizeof first_unavail[0], "%s",
					    r.message);
			} else {
				x->o = O_OTHER;
				other_by[phase]++;
				if (other_by[phase] <= 5)
					diag("%s: %s: %s", x->from, r.code,
					    r.message);
			}
		}
	cr_reply_free(&r);
}

static struct pgcluster standby;

/* A "server" that never answers: a Unix socket of PostgreSQL's name that
 * listens but never accepts, as a frozen host's would (connect() succeeds
 * into the backlog; the startup packet is never answered). Its directory
 * in dir. */
static int
hang_listener(char *dir, size_t n)
{
	struct sockaddr_un sa;
	int fd;

	snprintf(dir, n, "/tmp/connreq-hang-XXXXXX");
	if (mkdtemp(dir) == NULL)
		bail_out("mkdtemp: %s", strerror(errno));
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s/.s.PGSQL.5432", dir);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sa, sizeof sa) == -1 ||
	    listen(fd, 64) == -1)
		bail_out("hang listener: %s", strerror(errno));
	return fd;
}

static pid_t walreceiver;

/* The kill, at the worst moment: the standby's WAL receiver stopped
 * (SIGSTOP), so that the daemons' COMMITs wait on the primary for the
 * synchronous standby's answer; once a COMMIT waits there
 * (pg_stat_activity's SyncRep) and both daemons are at work, the primary
 * is killed and the receiver
 * goes on (SIGCONT). Those COMMITs are of unknown outcome to the
 * daemons: their WAL is written on the primary, and the standby may or
 * may not have received it. */
static void
kill_primary(void)
{
	int64_t start = harness_ms();
	long long waiting = 0;

	/* One COMMIT waits for the standby; the other daemon's transaction
	 * waits behind it (for a row both write) or for the standby too. */
	while ((waiting = pgcluster_value(&harness_pg, "postgres",
	    "SELECT count(*) FILTER (WHERE wait_event = 'SyncRep') >= 1 AND "
	    "count(*) FILTER (WHERE state = 'active' AND "
	    "application_name = 'connreqd') >= 2 FROM pg_stat_activity",
	    false)) != 1 && wait_tick(start))
		;
	ok(waiting == 1,
	    "the standby's WAL receiver stopped: a COMMIT waits for it, both daemons' transactions are under way");
	if (pgcluster_kill(&harness_pg) == -1)
		bail_out("cannot kill the primary");
	if (kill(walreceiver, SIGCONT) == -1)
		bail_out("SIGCONT %ld: %s", (long)walreceiver, strerror(errno));
}


/* Every acknowledged send, read through c by invite.get (pipelined): how
 * many are there, sent by whom they were answered for. */
static unsigned
found_through(struct cr_client *c)
{
	uint32_t msgid[64];
	unsigned idx[64], i, j, n, found = 0;
	msgpack_packer *pk;

	for (i = 0; i < nw; ) {
		for (n = 0; i < nw && n < 64; i++) {
			if (w[i].o != O_OK)
				continue;
			pk = cr_request(c, "invite.get");
			msgpack_pack_map(pk, 1);
			pk_str(pk, "id");
			msgpack_pack_uint64(pk, w[i].id);
			idx[n] = i;
			msgid[n++] = (uint32_t)cr_send(c);
		}
		for (j = 0; j < n; j++) {
			cr_reply_free(&r);
			if (cr_wait(c, msgid[j], &r) == -1)
				continue;
			if (r.error == NULL && strcmp(rstr(&r,
			    "invitation.from"), w[idx[j]].from) == 0)
				found++;
			else if (r.error != NULL)
				diag("id %" PRIu64 " (%s): %s", w[idx[j]].id,
				    w[idx[j]].from, r.code);
		}
	}
	cr_reply_free(&r);
	return found;
}

int
main(void)
{
	struct dproc a, b;
	struct cr_client *c[NCONN];
	char ci[256], db[64];
	char *sql;
	size_t len, cap;
	unsigned i, k, rounds, acked = 0, unknown = 0, unknown_found = 0;
	long long v, total;
	unsigned extra_writes = 0;
	int64_t start, t_kill, t_promote, t_back = -1;

	/* A hang is a failure, not a stuck make check (the watchdogs clean
	 * up after SIGALRM too). */
	alarm(600);
	harness_pg_start();
	dproc_init(&a);		/* its database, on the primary */
	dproc_config(&a, NO_LIMITS);
	if (!ok(pgcluster_start_standby(&standby, &harness_pg) == 0,
	    "a primary and a synchronous streaming standby (pg_basebackup -R)"))
		bail_out("cannot start a streaming standby");
	dproc_dbname(&a, db, sizeof db);
	snprintf(a.pg, sizeof a.pg,
	    "host=%s,%s dbname=%s user=postgres target_session_attrs=read-write",
	    harness_pg.dir, standby.dir, db);
	dproc_init_sharing(&b, &a);
	dproc_config(&b, NO_LIMITS);
	if (!ok(dproc_start(&a, T0, NULL) == 0 && dproc_start(&b, T0, NULL) == 0,
	    "two connreqd on the multi-host conninfo (%s)", a.pg))
		bail_out("connreqd does not start");
	for (k = 0; k < NCONN; k++)
		c[k] = dconnect(k % 2 ? &b : &a);

	/* Before: both daemons write to the primary. */
	start = harness_ms();
	rounds = 0;
	while ((ok_by[0][0] < BEFORE || ok_by[0][1] < BEFORE) &&
	    wait_tick(start) && nw + NCONN * WINDOW <= MAXW) {
		round_of_sends(c, 0, NULL);
		rounds++;
	}
	ok(ok_by[0][0] >= BEFORE && ok_by[0][1] >= BEFORE &&
	    unavail_by[0][0] + unavail_by[0][1] == 0 && other_by[0] == 0,
	    "before: writes through A and B acknowledged (%u and %u in %u rounds)",
	    ok_by[0][0], ok_by[0][1], rounds);

	/* The kill, while a round of sends is in flight; then, until the
	 * promotion, every send must be refused: there is no primary. */
	walreceiver = (pid_t)pgcluster_value(&standby, "postgres",
	    "SELECT pid FROM pg_stat_wal_receiver", false);
	if (walreceiver <= 0 || kill(walreceiver, SIGSTOP) == -1)
		bail_out("cannot stop the standby's WAL receiver (%ld)",
		    (long)walreceiver);
	t_kill = harness_ms();
	round_of_sends(c, 3, kill_primary);
	ok(other_by[3] == 0 && lost_by[3] == 0 &&
	    ok_by[3][0] + ok_by[3][1] == 0 && unknown_by[3] > 0,
	    "the primary's processes SIGKILLed with %u sends in flight: none acknowledged, %u UNAVAILABLE, %u of them \"may or may not have been applied\"",
	    NCONN * WINDOW, unavail_by[3][0] + unavail_by[3][1],
	    unknown_by[3]);
	start = harness_ms();
	rounds = 0;
	while ((unavail_by[1][0] == 0 || unavail_by[1][1] == 0 || rounds < 3) &&
	    wait_tick(start) && nw + NCONN * WINDOW <= MAXW) {
		round_of_sends(c, 1, NULL);
		rounds++;
	}
	ok(ok_by[1][0] + ok_by[1][1] == 0 && unavail_by[1][0] > 0 &&
	    unavail_by[1][1] > 0 && other_by[1] == 0 && lost_by[1] == 0,
	    "no primary: every send through A and B gets UNAVAILABLE (%u and %u, %u rounds), none succeeds",
	    unavail_by[1][0], unavail_by[1][1], rounds);
	ok(dproc_alive(&a) && dproc_alive(&b), "both daemons keep running");
	diag("A said: %s", first_unavail[0]);
	diag("B said: %s", first_unavail[1]);

	i = pgcluster_promote(&standby) == 0;
	t_promote = harness_ms();
	if (!ok(i && pgcluster_value(&standby, "postgres",
	    "SELECT NOT pg_is_in_recovery()", false) == 1,
	    "the standby promoted (%lld ms after the kill)",
	    (long long)(t_promote - t_kill)))
		bail_out("cannot promote the standby");

	/* After: the same daemons, the new primary. */
	start = harness_ms();
	rounds = 0;
	while ((ok_by[2][0] < BEFORE || ok_by[2][1] < BEFORE) &&
	    wait_tick(start) && nw + NCONN * WINDOW <= MAXW) {
		round_of_sends(c, 2, NULL);
		rounds++;
		if (t_back == -1 && ok_by[2][0] > 0 && ok_by[2][1] > 0)
			t_back = harness_ms();
	}
	ok(ok_by[2][0] >= BEFORE && ok_by[2][1] >= BEFORE &&
	    other_by[2] == 0 && lost_by[2] == 0,
	    "after the promotion: A and B write again, no restart (%u and %u acknowledged, %u UNAVAILABLE first, %u rounds)",
	    ok_by[2][0], ok_by[2][1], unavail_by[2][0] + unavail_by[2][1],
	    rounds);
	diag("both daemons wrote again %lld ms after the promotion",
	    (long long)(t_back - t_promote));
	ok(bad_retry == 0, "every UNAVAILABLE carries a retry_at (%u without)",
	    bad_retry);
	ok(dproc_logged(&a, "the database answers again") &&
	    dproc_logged(&b, "the database answers again"),
	    "both logs say the database answers again");
	is_int(lost_by[0] + lost_by[1] + lost_by[2] + lost_by[3], 0,
	    "every send was answered (no connection dropped)");

	/* B's own watch on the database (LISTEN) came back too: a
	 * subscriber on B gets what is committed through A. */
	{
		struct cr_client *sub = dconnect(&b);
		struct cr_reply ev;
		uint64_t h = 0;
		int64_t t0;
		int got = -1;

		cr_reply_free(&r);
		if (call(sub, &r, "events.subscribe", "all:b", 1) == 0)
			h = (uint64_t)rnum(&r, "head");
		cr_reply_free(&r);
		t0 = harness_ms();
		if (h > 0 && send_inv(c[0], &r, "after-failover", "target") > 0 &&
		    (got = cr_next_event(sub, &ev, WAIT_MS)) == 0) {
			got = (uint64_t)rnum(&ev, "seq") == h + 1 ? 0 : 2;
			cr_reply_free(&ev);
		}
		ok(got == 0,
		    "a subscriber on B gets the event of a send through A after the failover (%lld ms)",
		    (long long)(harness_ms() - t0));
		cr_reply_free(&r);
		cr_close(sub);
		extra_writes = 1;
	}

	/* Every acknowledged write is on the new primary. */
	for (i = 0; i < nw; i++) {
		if (w[i].o == O_OK)
			acked++;
		if (w[i].o == O_UNKNOWN)
			unknown++;
	}
	is_int(found_through(c[0]), acked,
	    "every acknowledged write (%u) is read through A", acked);
	is_int(found_through(c[1]), acked,
	    "and through B");
	cap = 64 + (size_t)acked * 24;
	sql = malloc(cap);
	if (sql == NULL)
		bail_out("out of memory");
	len = (size_t)snprintf(sql, cap,
	    "SELECT count(*) FROM invitations WHERE id IN (0");
	for (i = 0; i < nw; i++)
		if (w[i].o == O_OK)
			len += (size_t)snprintf(sql + len, cap - len, ",%" PRIu64,
			    w[i].id);
	snprintf(sql + len, cap - len, ")");
	v = pgcluster_value(&standby, db, sql, false);
	free(sql);
	is_int(v, acked, "and by SQL on the new primary");

	/* The answers that could not tell: what became of each. */
	for (i = 0; i < nw; i++) {
		if (w[i].o != O_UNKNOWN)
			continue;
		cr_reply_free(&r);
		if (call(c[0], &r, "invite.list", "member:s box:s", w[i].from,
		    "sent") == 0 && rnum(&r, "items") == 1)
			unknown_found++;
	}
	cr_reply_free(&r);
	diag("\"may or may not have been applied\": %u answers; %u of them found applied on the new primary, %u not",
	    unknown, unknown_found, unknown - unknown_found);
	total = pgcluster_value(&standby, db,
	    "SELECT count(*) FROM invitations", false);
	is_int(total, acked + unknown_found + extra_writes,
	    "the new primary holds the acknowledged writes and those of unknown outcome found there, nothing else (%lld)",
	    total);

	for (k = 0; k < NCONN; k++)
		cr_close(c[k]);
	is_int(dproc_stop(&a, SIGTERM), 0, "A stops: exit 0");
	is_int(dproc_stop(&b, SIGTERM), 0, "B stops: exit 0");
	/* A first host that hangs (a frozen machine rather than a dead one)
	 * holds each connection attempt for connect_timeout only, which
	 * connreqd sets when the conninfo names none: then libpq tries the
	 * next host. Without it, the daemon's worker waits forever. */
	{
		struct dproc h;
		char hdir[64], path[128];
		int hfd = hang_listener(hdir, sizeof hdir);
		int64_t t0, t_up = -1, t_read = -1;
		int rc = -1;

		dproc_init_sharing(&h, &a);
		dproc_config(&h, NO_LIMITS);
		snprintf(h.pg, sizeof h.pg,
		    "host=%s,%s dbname=%s user=postgres target_session_attrs=read-write",
		    hdir, standby.dir, db);
		t0 = harness_ms();
		if (dproc_start(&h, T0, NULL) == 0) {
			struct cr_client *hc = dconnect(&h);

			t_up = harness_ms() - t0;
			for (i = 0; i < nw && w[i].o != O_OK; i++)
				;
			cr_reply_free(&r);
			rc = call(hc, &r, "invite.get", "id:u", w[i].id);
			t_read = harness_ms() - t0 - t_up;
			cr_reply_free(&r);
			cr_close(hc);
		}
		ok(rc == 0 && t_up < 30000 && t_read < 30000,
		    "a first host that never answers: connreqd starts (%lld ms) and reads (%lld ms) through the next",
		    (long long)t_up, (long long)t_read);
		is_int(dproc_stop(&h, SIGTERM), 0, "it stops: exit 0");
		dproc_cleanup(&h);
		close(hfd);
		snprintf(path, sizeof path, "%s/.s.PGSQL.5432", hdir);
		unlink(path);
		rmdir(hdir);
	}
	{
		static const char *const check[] = { "--check", NULL };
		struct dproc k2 = a;
		char line[64];
		int st;

		pgcluster_conninfo(&standby, db, ci, sizeof ci);
		snprintf(k2.pg, sizeof k2.pg, "%s", ci);
		st = dproc_refused(&k2, 0, check);
		snprintf(line, sizeof line, "check: %lld invitations", total);
		ok(WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
		    dproc_logged(&a, line) && dproc_logged(&a, ": clean"),
		    "connreqd --check --postgres on the new primary: clean, %lld invitations (status 0x%x)",
		    total, st);
	}
	dproc_cleanup(&a);
	dproc_cleanup(&b);
	pgcluster_stop(&standby);
	return done_testing();
}
