/* Deadlines on PostgreSQL with several daemons (issue 11, "Deadlines
 * exactly once"): each deadline fires exactly once whichever daemons run
 * and whichever dies mid-drain; the virtual clock lives in the database
 * and moves for every daemon; a daemon applies the deadlines another
 * daemon wrote and then died with, without a request of its own. The
 * cluster is the test's own (tests/pgcluster.h, via harness.h's
 * HARNESS_PG). */
#define HARNESS_PG 1
#include "harness.h"

#define N 2000			/* invitations due at the same instant */
#define WINDOW 48		/* pipelined sends a connection keeps out */
#define LIVE 6			/* sends made while the deadlines drain */

static struct cr_reply r;

/* Sends n invitations "tag-s<i>" -> "tag-t<i>" expiring in secs, half
 * through each of c1 and c2, pipelined; the ids go to ids[]. Returns how
 * many succeeded. */
static int
send_many(struct cr_client *c1, struct cr_client *c2, const char *tag,
    int n, uint64_t secs, uint64_t *ids)
{
	uint32_t msgid[2][WINDOW];
	char from[48], to[48];
	int base, i, k, m, good = 0;
	struct cr_client *cs[2] = { c1, c2 };

	for (base = 0; base < n; base += 2 * WINDOW) {
		m = n - base < 2 * WINDOW ? n - base : 2 * WINDOW;
		for (i = 0; i < m; i++) {
			snprintf(from, sizeof from, "%s-s%d", tag, base + i);
			snprintf(to, sizeof to, "%s-t%d", tag, base + i);
			msgid[i % 2][i / 2] = send_pipelined(cs[i % 2], from, to, secs);
		}
		for (i = 0; i < m; i++) {
			k = i % 2;
			cr_reply_free(&r);
			if (cr_wait(cs[k], msgid[k][i / 2], &r) == -1)
				bail_out("a send was not answered");
			if (r.error != NULL) {
				diag("send %d: %s: %s", base + i, r.code,
				    r.message);
				ids[base + i] = 0;
				continue;
			}
			ids[base + i] = (uint64_t)rnum(&r, "invitation.id");
			good++;
		}
	}
	cr_reply_free(&r);
	return good;
}

/* server.info's count at path through c; -1 on an error. */
static int64_t
info(struct cr_client *c, const char *path)
{
	cr_reply_free(&r);
	if (call(c, &r, "server.info", "") != 0)
		return -1;
	return rnum(&r, path);
}

/* Polls c (boundedly) until want invitations are pending; the pending
 * count left. */
static int64_t
wait_drained(struct cr_client *c, int64_t want)
{
	int64_t start = harness_ms(), pending;

	while ((pending = info(c, "counts.pending")) != want &&
	    wait_tick(start))
		;
	return pending;
}

/* Counts the invitation.expired events of the `all` feed per invitation:
 * ids[0..n) are the invitations; returns how many of them had exactly
 * one, and in *other the expiry events of any other invitation. */
static int
expired_once(struct cr_client *c, const uint64_t *ids, int n, int *other)
{
	unsigned char *seen = calloc((size_t)n, 1);
	const msgpack_object *evs, *ty, *id;
	uint64_t after = 0, head;
	uint32_t i;
	int j, once = 0, lo = 0;

	*other = 0;
	for (;;) {
		cr_reply_free(&r);
		if (call(c, &r, "events.read", "all:b after:u limit:u", 1,
		    after, (uint64_t)1000) != 0)
			break;
		evs = cr_get(r.result, "events");
		head = (uint64_t)rnum(&r, "head");
		for (i = 0; evs != NULL && i < evs->via.array.size; i++) {
			ty = cr_get(&evs->via.array.ptr[i], "type");
			if (ty == NULL || ty->via.str.size != 18 ||
			    memcmp(ty->via.str.ptr, "invitation.expired", 18))
				continue;
			id = obj_path(&evs->via.array.ptr[i], "invitation.id");
			/* ids are increasing: a binary search would do, but
			 * the events come in id order almost always. */
			for (j = 0; j < n; j++)
				if (ids[(lo + j) % n] == id->via.u64)
					break;
			if (j == n) {
				(*other)++;
				continue;
			}
			lo = (lo + j) % n;
			if (seen[lo] < 255)
				seen[lo]++;
		}
		after = (uint64_t)rnum(&r, "next");
		if (after >= head)
			break;
	}
	cr_reply_free(&r);
	for (j = 0; j < n; j++)
		if (seen[j] == 1)
			once++;
	free(seen);
	return once;
}

/* N invitations due at the same instant, two daemons draining them:
 * each expires once; both keep serving meanwhile. With kill, A (which
 * moved the clock, and so started the drain) is SIGKILLed mid-drain and
 * B alone finishes it. */
static void
test_drain(bool kill_a)
{
	static const char *const verbose[] = { "-v", NULL };
	struct dproc a, b;
	struct cr_client *ca, *cb, *ca2, *cb2;
	uint64_t *ids = calloc(N, sizeof *ids);
	int64_t t, mid, expired;
	int good, other, once, served = 0, refused_n = 0, k, ra, rb;
	const char *what = kill_a ? "A killed mid-drain" : "both running";
	char from[32];

	dproc_init_two(&a, &b, NO_LIMITS);
	/* -v: their logs count the batches run again after a conflict. */
	if (!ok(dproc_start(&a, T0, verbose) == 0 &&
	    dproc_start(&b, T0, verbose) == 0,
	    "%s: two connreqd on one database, --virtual-clock", what))
		goto out;
	ca = dconnect(&a);
	cb = dconnect(&b);
	ca2 = dconnect(&a);
	cb2 = dconnect(&b);
	t = harness_ms();
	/* Through one daemon: two would conflict on the store's counters,
	 * which only slows the setup. */
	good = send_many(ca, ca2, kill_a ? "k" : "d", N, DAY, ids);
	is_int(good, N, "%s: %d invitations sent, all expiring at T0 + 1 d (%lld ms)",
	    what, N, (long long)(harness_ms() - t));

	t = harness_ms();
	ra = dproc_log_count(&a, "run again");
	rb = dproc_log_count(&b, "run again");
	ok(advance(ca, &r, DAY) == T0 + DAY, "%s: A moves the shared clock by a day", what);
	if (kill_a) {
		is_int(dproc_stop(&a, SIGKILL), SIGKILL, "A is SIGKILLed right after");
		cr_close(ca);
		cr_close(ca2);
		mid = info(cb, "counts.expired");
		ok(mid > 0 && mid < N,
		    "in the middle of the drain: %lld of %d expired", (long long)mid, N);
	} else {
		/* While the drain runs, both serve: reads and writes. */
		for (k = 0; k < LIVE; k++) {
			struct cr_client *c = k % 2 ? cb2 : ca2;

			snprintf(from, sizeof from, "live-%d", k);
			cr_reply_free(&r);
			if (call(c, &r, "invite.send", "from:s to:s", from,
			    "live-to") == 0)
				served++;
			else {
				refused_n++;
				diag("during the drain: %s: %s", r.code, r.message);
			}
		}
		is_int(served, LIVE, "%s: during the drain, both daemons answer sends (%d refused; %lld ms for %d)",
		    what, refused_n, (long long)(harness_ms() - t), LIVE);
	}
	is_int(wait_drained(cb, kill_a ? 0 : LIVE), kill_a ? 0 : LIVE,
	    "%s: drained: no invitation of the %d left pending", what, N);
	diag("%s: drained in %lld ms; batches run again after a conflict: A %d, B %d",
	    what, (long long)(harness_ms() - t),
	    dproc_log_count(&a, "run again") - ra,
	    dproc_log_count(&b, "run again") - rb);
	expired = info(cb, "counts.expired");
	is_int(expired, N, "%s: exactly %d expired (counts.expired)", what, N);
	once = expired_once(cb, ids, N, &other);
	is_int(once, N, "%s: each invitation has exactly one invitation.expired event", what);
	is_int(other, 0, "%s: and no other expiry event", what);
	cr_reply_free(&r);
	ok(call(cb, &r, "invite.get", "id:u", ids[N / 2]) == 0 &&
	    strcmp(rstr(&r, "invitation.state"), "expired") == 0 &&
	    rnum(&r, "invitation.updated_at") == T0 + DAY,
	    "%s: an invitation reads expired at its own time", what);
	ok(dproc_alive(&b) && (kill_a || dproc_alive(&a)),
	    "%s: the daemons left keep running", what);
	cr_close(cb);
	cr_close(cb2);
	if (!kill_a) {
		cr_close(ca);
		cr_close(ca2);
		is_int(dproc_stop(&a, SIGTERM), 0, "A stops: exit 0");
	}
	is_int(dproc_stop(&b, SIGTERM), 0, "%s: B stops: exit 0", what);
	cr_reply_free(&r);
out:
	free(ids);
	dproc_cleanup(&a);
	dproc_cleanup(&b);
}

/* The virtual clock is the database's: moved through A, B reads the new
 * time at once, and the deadlines written through B fire (once). */
static void
test_shared_clock(void)
{
	struct dproc a, b;
	struct cr_client *ca, *cb;
	uint64_t ids[10];
	int other;

	dproc_init_two(&a, &b, NO_LIMITS);
	if (!ok(dproc_start(&a, T0, NULL) == 0 &&
	    dproc_start(&b, T0, NULL) == 0,
	    "clock: two connreqd with --virtual-clock on one database"))
		goto out;
	ca = dconnect(&a);
	cb = dconnect(&b);
	is_int(send_many(cb, cb, "c", 10, 3600, ids), 10,
	    "clock: 10 invitations through B, expiring in an hour");
	ok(advance(ca, &r, 1800) == T0 + 1800, "clock: A moves the clock by half an hour");
	is_int(info(cb, "now"), T0 + 1800, "clock: B's server.info shows the new time at once");
	is_int(info(cb, "counts.pending"), 10, "clock: nothing due yet");
	ok(advance(ca, &r, 1800) == T0 + 3600, "clock: A moves it by another half hour");
	is_int(info(cb, "now"), T0 + 3600, "clock: B shows it");
	is_int(wait_drained(cb, 0), 0, "clock: B's invitations expired");
	cr_reply_free(&r);
	ok(call(cb, &r, "invite.get", "id:u", ids[3]) == 0 &&
	    strcmp(rstr(&r, "invitation.state"), "expired") == 0,
	    "clock: B reads one expired");
	is_int(expired_once(cb, ids, 10, &other), 10,
	    "clock: each has exactly one invitation.expired event");
	ok(advance(cb, &r, 60) == T0 + 3660 && info(ca, "now") == T0 + 3660,
	    "clock: moved through B, A shows it too");
	cr_reply_free(&r);
	cr_close(ca);
	cr_close(cb);
	is_int(dproc_stop(&a, SIGTERM), 0, "A stops: exit 0");
	is_int(dproc_stop(&b, SIGTERM), 0, "B stops: exit 0");
out:
	dproc_cleanup(&a);
	dproc_cleanup(&b);
}

/* A daemon that sent nothing and is asked nothing applies the deadlines
 * another daemon wrote and died with (real clock): it reads the
 * database's deadlines again while idle. Its subscriber, connected before
 * the sends, is the only witness: no request reaches it meanwhile. */
static void
test_orphans(void)
{
	enum { M = 20 };
	struct dproc a, b;
	struct cr_client *ca, *sb;
	struct cr_reply ev;
	uint64_t ids[M];
	int64_t start, sent_at;
	int n = 0, i;
	const char *ty;

	dproc_init_two(&a, &b, NO_LIMITS);
	if (!ok(dproc_start(&a, 0, NULL) == 0 &&
	    dproc_start(&b, 0, NULL) == 0,
	    "orphans: two connreqd on one database, real clock"))
		goto out;
	sb = dconnect(&b);
	cr_reply_free(&r);
	ok(call(sb, &r, "events.subscribe", "all:b", 1) == 0,
	    "orphans: a subscriber on B, to every event");
	ca = dconnect(&a);
	is_int(send_many(ca, ca, "o", M, 2, ids), M,
	    "orphans: %d invitations through A, expiring in 2 s", M);
	sent_at = harness_ms();
	is_int(dproc_stop(&a, SIGKILL), SIGKILL, "orphans: A is SIGKILLed at once");
	cr_close(ca);
	start = harness_ms();
	while (n < M && cr_next_event(sb, &ev, wait_left(start)) == 0) {
		ty = rstr(&ev, "type");
		if (strcmp(ty, "invitation.expired") == 0)
			for (i = 0; i < M; i++)
				if (ids[i] == (uint64_t)rnum(&ev, "invitation.id")) {
					n++;
					break;
				}
		cr_reply_free(&ev);
	}
	is_int(n, M, "orphans: B alone expired all %d, unasked, %lld ms after the sends",
	    M, (long long)(harness_ms() - sent_at));
	ok(harness_ms() - sent_at < 2000 + 1000 * 6,
	    "orphans: within a few seconds of their deadline");
	cr_reply_free(&r);
	ok(dproc_alive(&b), "orphans: B keeps running");
	cr_close(sb);
	is_int(dproc_stop(&b, SIGTERM), 0, "B stops: exit 0");
out:
	dproc_cleanup(&a);
	dproc_cleanup(&b);
}

/* Two daemons, one on a machine whose clock is an hour ahead (the
 * libskew.so shim moves its time()): the clock is the database's, so they
 * agree on now, on what they write, and on what is due. */
static void
test_skew(void)
{
	struct dproc a, b;
	struct cr_client *ca, *cb;
	const char *bin = getenv("CONNREQ_BIN"), *old = getenv("ASAN_OPTIONS");
	char shim[600], asan[1100], saved[1024];
	int64_t now, ta, tb, sa, ca_at;
	uint64_t id;

	snprintf(saved, sizeof saved, "%s", old != NULL ? old : "");
	dproc_init_two(&a, &b, NO_LIMITS);
	snprintf(shim, sizeof shim, "%s/../lib/libskew.so",
	    bin != NULL ? bin : "build/bin");
	/* Under ASan the shim comes after ASan's runtime (as faults.h). */
	snprintf(asan, sizeof asan, "verify_asan_link_order=0%s%s",
	    old != NULL ? ":" : "", saved);
	setenv("LD_PRELOAD", shim, 1);
	setenv("SKEW_SECS", "3600", 1);
	setenv("ASAN_OPTIONS", asan, 1);
	sa = dproc_start(&a, 0, NULL);
	unsetenv("LD_PRELOAD");
	unsetenv("SKEW_SECS");
	if (old != NULL)
		setenv("ASAN_OPTIONS", saved, 1);
	else
		unsetenv("ASAN_OPTIONS");
	if (!ok(sa == 0 && dproc_start(&b, 0, NULL) == 0,
	    "skew: two connreqd on one database, A's machine an hour ahead"))
		goto out;
	ca = dconnect(&a);
	cb = dconnect(&b);
	now = (int64_t)time(NULL);
	ta = info(ca, "now");
	tb = info(cb, "now");
	ok(llabs(ta - now) <= 2 && llabs(tb - now) <= 2,
	    "skew: both say now is the database's time (A %lld, B %lld, the test's %lld)",
	    (long long)ta, (long long)tb, (long long)now);
	sa = info(ca, "started_at");
	ok(llabs(sa - now) <= 60, "skew: A's started_at too (%lld)", (long long)sa);
	id = send_inv(ca, &r, "sk-a", "sk-b");
	ca_at = rnum(&r, "invitation.created_at");
	ok(id > 0 && llabs(ca_at - now) <= 2,
	    "skew: what A writes carries the database's time (created_at %lld)",
	    (long long)ca_at);
	cr_reply_free(&r);
	ok(call(cb, &r, "invite.send", "from:s to:s expires_in:u", "sk-c",
	    "sk-d", (uint64_t)3600) == 0 &&
	    strcmp(rstr(&r, "invitation.state"), "pending") == 0,
	    "skew: an invitation through B expiring in an hour");
	id = (uint64_t)rnum(&r, "invitation.id");
	cr_reply_free(&r);
	ok(call(ca, &r, "invite.get", "id:u", id) == 0 &&
	    strcmp(rstr(&r, "invitation.state"), "pending") == 0,
	    "skew: is not expired for A, whose machine is an hour ahead");
	cr_reply_free(&r);
	cr_close(ca);
	cr_close(cb);
	is_int(dproc_stop(&a, SIGTERM), 0, "A stops: exit 0");
	is_int(dproc_stop(&b, SIGTERM), 0, "B stops: exit 0");
out:
	dproc_cleanup(&a);
	dproc_cleanup(&b);
}

int
main(void)
{
	harness_pg_start();
	test_shared_clock();
	test_orphans();
	test_skew();
	test_drain(false);
	test_drain(true);
	return done_testing();
}
