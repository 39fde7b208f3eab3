/* Deadlines in chunks: a backlog of deadlines due at once (N invitations
 * sent in the same second expire in the same second) is handled
 * DUE_PER_BATCH at a time, one batch after another, so clients are served
 * between the chunks; a read never shows an invitation pending past its
 * expiry, and a write never acts on one; each expires exactly once, also
 * across a kill -9 in the middle and a restart that catches up. */
#include <sys/mman.h>

#include "harness.h"

#include "../daemon/timers.h"

#define CHUNK DUE_PER_BATCH
#ifndef N
#define N (CHUNK * 5 / 2)	/* two and a half chunks */
#endif
#define KILL_N (CHUNK * 8)	/* a backlog to kill -9 the daemon in */
#define STALE 60		/* stale_after: a reminder before the expiry */
#define LIFE 3600		/* each invitation's expires_in */
#define SENDERS 8		/* connections that send */
#define SENDS_AT_ONCE 250	/* pipelined on each */

static struct dproc p;
static uint64_t *ids;		/* the ids send_all got, by index */

/* Packs request msgid method {from, to[, expires_in]} into pk. */
static void
pack_send(msgpack_packer *pk, uint32_t msgid, const char *from,
    const char *to, uint64_t expires_in)
{
	msgpack_pack_array(pk, 4);
	msgpack_pack_uint8(pk, PROTO_REQUEST);
	msgpack_pack_uint32(pk, msgid);
	pk_str(pk, "invite.send");
	msgpack_pack_array(pk, 1);
	msgpack_pack_map(pk, expires_in ? 3 : 2);
	pk_kstr(pk, "from", from);
	pk_kstr(pk, "to", to);
	if (expires_in)
		pk_kuint(pk, "expires_in", expires_in);
}

/* Reads the next message on c as a reply into r: 0, or -1. */
static int
raw_reply(struct cr_client *c, struct cr_reply *r)
{
	const msgpack_object *a, *code;

	memset(r, 0, sizeof *r);
	msgpack_unpacked_init(&r->msg);
	if (cr_read_message(c, &r->msg, WAIT_MS) != 0)
		return -1;
	a = &r->msg.data;
	if (a->type != MSGPACK_OBJECT_ARRAY || a->via.array.size != 4)
		return -1;
	if (a->via.array.ptr[2].type == MSGPACK_OBJECT_NIL) {
		r->result = &a->via.array.ptr[3];
		return 0;
	}
	r->error = &a->via.array.ptr[2];
	code = cr_get(r->error, "code");
	if (code != NULL && code->type == MSGPACK_OBJECT_STR)
		snprintf(r->code, sizeof r->code, "%.*s",
		    (int)code->via.str.size, code->via.str.ptr);
	return 0;
}

/* ann sends n invitations that all expire LIFE seconds later, pipelined
 * on SENDERS connections (a batch takes 16 requests of each); how many
 * were answered with an id. */
static int
send_all(struct cr_client *c0, const char *prefix, int n)
{
	struct cr_client *cs[SENDERS];
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct cr_reply r;
	char to[24];
	int i, j, k, got = 0;

	cs[0] = c0;
	for (k = 1; k < SENDERS; k++)
		cs[k] = dconnect(&p);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	for (i = 0; i < n; i += SENDERS * SENDS_AT_ONCE) {
		for (k = 0; k < SENDERS; k++) {
			msgpack_sbuffer_clear(&sb);
			for (j = i + k; j < n && j < i + SENDERS *
			    SENDS_AT_ONCE; j += SENDERS) {
				snprintf(to, sizeof to, "%s%d", prefix, j);
				pack_send(&pk, (uint32_t)j, "ann", to, LIFE);
			}
			cr_send_raw(cs[k], sb.data, sb.size);
		}
		for (k = 0; k < SENDERS; k++)
			for (j = i + k; j < n && j < i + SENDERS *
			    SENDS_AT_ONCE; j += SENDERS) {
				if (raw_reply(cs[k], &r) == 0 &&
				    r.error == NULL) {
					ids[j] = (uint64_t)rnum(&r,
					    "invitation.id");
					got++;
				}
				cr_reply_free(&r);
			}
	}
	msgpack_sbuffer_destroy(&sb);
	for (k = 1; k < SENDERS; k++)
		cr_close(cs[k]);
	return got;
}

/* How many events of type the all feed holds after seq `after`, and how
 * many distinct invitations they name (*distinct, NULL: not counted). */
static int
count_events(struct cr_client *c, const char *type, int *distinct)
{
	static unsigned char seen[N + KILL_N + 64];	/* by id */
	const msgpack_object *evs, *ty, *inv;
	struct cr_reply r;
	uint64_t after = 0, id;
	uint32_t i, got;
	int n = 0, d = 0;

	memset(seen, 0, sizeof seen);
	do {
		if (call(c, &r, "events.read", "all:b after:u limit:u", 1,
		    after, (uint64_t)1000) != 0) {
			cr_reply_free(&r);
			return -1;
		}
		evs = cr_get(r.result, "events");
		got = evs ? evs->via.array.size : 0;
		for (i = 0; i < got; i++) {
			const msgpack_object *ev = &evs->via.array.ptr[i];

			after = (uint64_t)obj_path(ev, "seq")->via.u64;
			ty = cr_get(ev, "type");
			if (ty == NULL || ty->via.str.size != strlen(type) ||
			    memcmp(ty->via.str.ptr, type, strlen(type)) != 0)
				continue;
			n++;
			inv = obj_path(ev, "invitation.id");
			id = inv ? inv->via.u64 : 0;
			if (id < sizeof seen && !seen[id]) {
				seen[id] = 1;
				d++;
			}
		}
		cr_reply_free(&r);
	} while (got > 0);
	if (distinct != NULL)
		*distinct = d;
	return n;
}

/* server.info's counts.KEY (or KEY itself when it has a dot). */
static int64_t
info_count(struct cr_client *c, const char *key)
{
	struct cr_reply r;
	char path[64];
	int64_t v;

	snprintf(path, sizeof path, "%s%s", strchr(key, '.') ? "" : "counts.",
	    key);
	call(c, &r, "server.info", "");
	v = rnum(&r, path);
	cr_reply_free(&r);
	return v;
}

/* Starts a daemon on a fresh store at T0. */
static struct cr_client *
setup(void)
{
	struct cr_client *c;

	dproc_init(&p);
	/* A sender with N expired and none accepted would be restricted:
	 * that is not what this test is about. */
	dproc_config(&p, NO_LIMITS "[health]\nrestrict_below_rate = 0\n"
	    "[policy]\nstale_after = 60s\nrecipient_remind_after = 0s\n");
	if (dproc_start(&p, T0, NULL) != 0)
		bail_out("connreqd does not start");
	c = dconnect(&p);
	return c;
}

/* Packs request msgid method with the args packed by the caller after. */
static msgpack_packer *
pack_req(msgpack_packer *pk, uint32_t msgid, const char *method, size_t nargs)
{
	msgpack_pack_array(pk, 4);
	msgpack_pack_uint8(pk, PROTO_REQUEST);
	msgpack_pack_uint32(pk, msgid);
	pk_str(pk, method);
	msgpack_pack_array(pk, 1);
	msgpack_pack_map(pk, nargs);
	return pk;
}

/* Polls server.info until no invitation is pending past its expiry: the
 * expired count reaches want. */
static int
wait_expired(struct cr_client *c, int64_t want)
{
	int64_t start = harness_ms();

	do
		if (info_count(c, "expired") == want)
			return 1;
	while (wait_tick(start));
	return 0;
}

/* The whole backlog falls due in one clock.advance (each invitation's
 * stale reminder, then its expiry: 2N deadlines): its batch handles one
 * chunk, and its answers go out while the rest waits; in that same batch a
 * read shows an invitation of a later chunk as expired and reminded, and a
 * write cannot act on it. The chunks that follow handle the rest, each
 * deadline once. */
static void
test_chunks(void)
{
	struct cr_client *c = setup(), *b;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct cr_reply r[8];
	char last[24], other[24];
	int64_t t0;
	int i, distinct;

	t0 = harness_ms();
	is_int(send_all(c, "m", N), N,
	    "ann sends %d invitations that expire in the same second", N);
	diag("%d sends took %lld ms", N, (long long)(harness_ms() - t0));
	is_int(info_count(c, "pending"), N, "all %d pending", N);
	is_int(info_count(c, "deadlines.count"), 2 * N,
	    "%d deadlines: a stale reminder and an expiry each", 2 * N);
	snprintf(last, sizeof last, "m%d", N - 1);
	snprintf(other, sizeof other, "m%d", N - 2);

	/* One write, so one batch: the advance, then reads and writes. */
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	pk_kuint(pack_req(&pk, 1, "clock.advance", 1), "seconds", LIFE);
	pack_req(&pk, 2, "server.info", 0);
	pk_kuint(pack_req(&pk, 3, "invite.get", 1), "id", ids[N - 1]);
	pack_req(&pk, 4, "invite.list", 3);
	pk_kstr(&pk, "member", "ann");
	pk_kstr(&pk, "box", "sent");
	pk_kstr(&pk, "state", "pending");
	pack_req(&pk, 5, "invite.accept", 2);
	pk_kstr(&pk, "actor", last);
	pk_kuint(&pk, "id", ids[N - 1]);
	pack_req(&pk, 6, "invite.send", 2);
	pk_kstr(&pk, "from", "ann");
	pk_kstr(&pk, "to", other);
	pack_req(&pk, 7, "server.info", 0);
	cr_send_raw(c, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	for (i = 1; i <= 7; i++)
		if (raw_reply(c, &r[i]) != 0)
			bail_out("no answer %d", i);

	is_int(rnum(&r[1], "now"), T0 + LIFE, "the clock moved to the deadline");
	is_int(rnum(&r[2], "deadlines.count"), 2 * N - CHUNK,
	    "the advance's batch handled one chunk (%d deadlines) and answered with %d still due",
	    CHUNK, 2 * N - CHUNK);
	is_int(rnum(&r[2], "counts.pending"), N,
	    "  the stale reminders come first: none expired yet");
	is_str(rstr(&r[3], "invitation.state"), "expired",
	    "invite.get in that batch shows one of the last chunk expired");
	is_int(rnum(&r[3], "invitation.updated_at"), T0 + LIFE,
	    "  updated at its deadline");
	is_int(rnum(&r[3], "invitation.reminded_at"), T0 + STALE,
	    "  reminded at its stale deadline");
	is_int(rnum(&r[4], "items"), 0,
	    "invite.list state pending in that batch shows none");
	is_str(r[5].code, "INVALID_STATE",
	    "accepting one of the last chunk in that batch: INVALID_STATE");
	ok(r[6].error == NULL,
	    "a new send to one whose invitation is past due in that batch succeeds (%s)",
	    r[6].code);
	is_str(rstr(&r[6], "invitation.state"), "pending", "  pending");
	is_int(rnum(&r[7], "counts.expired"), 1,
	    "the send expired the invitation it replaces first (the refused accept's change was undone)");
	is_int(rnum(&r[7], "deadlines.count"), 2 * N - CHUNK,
	    "  its two deadlines gone, the new one's two added");
	for (i = 1; i <= 7; i++)
		cr_reply_free(&r[i]);

	b = dconnect(&p);
	ok(wait_expired(b, N), "then every one of the %d expires", N);
	is_int(info_count(b, "pending"), 1, "only the new send is pending");
	is_int(info_count(b, "deadlines.count"), 2, "its two deadlines are left");
	is_int(count_events(b, "invitation.expired", &distinct), N,
	    "%d invitation.expired events", N);
	is_int(distinct, N, "  one for each invitation");
	is_int(count_events(b, "invitation.stale", &distinct), N,
	    "%d invitation.stale events", N);
	is_int(distinct, N, "  one for each invitation");
	cr_close(b);
	cr_close(c);
	is_int(dproc_stop(&p, SIGTERM), 0, "SIGTERM: exit 0");
	dproc_cleanup(&p);
}

/* A daemon down over the whole backlog catches up at start, a chunk per
 * commit; one killed in the middle of a backlog finishes it after a
 * restart; each invitation expires once. */
static void
test_restart(void)
{
	struct cr_client *c = setup(), *b;
	struct cr_reply r;
	int64_t due;
	char vclock[64], line[96];
	const char *extra[2] = { vclock, NULL };
	int distinct;

	is_int(send_all(c, "m", N), N, "ann sends %d invitations", N);
	cr_close(c);
	is_int(dproc_stop(&p, SIGTERM), 0, "connreqd stops before they expire");
	snprintf(vclock, sizeof vclock, "--virtual-clock=%lld",
	    (long long)(T0 + LIFE));
	ok(dproc_start(&p, 0, extra) == 0, "it restarts at their deadline");
	snprintf(line, sizeof line,
	    "handled %d deadlines that fell due while connreqd was down",
	    2 * N);
	ok(dproc_logged(&p, line), "its log: \"%s\"", line);
	c = dconnect(&p);
	is_int(info_count(c, "expired"), N,
	    "every one expired before it listened");
	is_int(count_events(c, "invitation.expired", &distinct), N,
	    "%d invitation.expired events", N);
	is_int(distinct, N, "one for each");

	/* Another backlog: a second client asks as soon as the first chunk is
	 * answered, and is served while the rest waits; then kill -9. */
	is_int(send_all(c, "n", KILL_N), KILL_N, "ann sends %d more", KILL_N);
	b = dconnect(&p);
	ok(advance(c, &r, LIFE) == T0 + 2 * LIFE, "the clock moves to their deadline");
	cr_reply_free(&r);
	due = info_count(b, "deadlines.count");
	/* At least the advance's own share is done: its answer came once
	 * that was durable, and a read is answered from there at once. */
	ok(due > 0 && due <= 2 * KILL_N - CHUNK,
	    "a second client asking at once is answered between chunks (%lld of %d deadlines still due)",
	    (long long)due, 2 * KILL_N);
	dproc_stop(&p, SIGKILL);
	cr_close(b);
	cr_close(c);
	ok(dproc_start(&p, 0, (const char *const[]){ "--virtual-clock", NULL })
	    == 0, "after kill -9 it restarts where the clock stood");
	c = dconnect(&p);
	ok(wait_expired(c, N + KILL_N), "every one of the %d expires",
	    N + KILL_N);
	is_int(info_count(c, "pending"), 0, "none is pending");
	is_int(count_events(c, "invitation.expired", &distinct), N + KILL_N,
	    "%d invitation.expired events", N + KILL_N);
	is_int(distinct, N + KILL_N, "one for each: none lost, none twice");
	is_int(count_events(c, "invitation.stale", &distinct), N + KILL_N,
	    "%d invitation.stale events", N + KILL_N);
	is_int(distinct, N + KILL_N, "  one for each");
	diag("the restart %s",
	    dproc_logged(&p, "fell due while connreqd was down") ?
	    "caught up on what the kill left" :
	    "found the backlog done already");
	cr_close(c);
	is_int(dproc_stop(&p, SIGTERM), 0, "SIGTERM: exit 0");
	dproc_cleanup(&p);
}

/* Not a test: `test_chunks.t --measure N` times a backlog of N
 * invitations that expire in the same second (the defaults but the
 * limits: one deadline each), and a reader's invite.get meanwhile, on the
 * connreqd of CONNREQ_BIN (docs/performance.md). */
static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int
measure(int n)
{
	const size_t cap = 1u << 22;
	/* [0] stop, [1] count, then (start, latency) pairs, shared with the
	 * reader process. */
	int64_t *sh = mmap(NULL, (2 * cap + 2) * sizeof *sh,
	    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int64_t *lat = calloc(cap, sizeof *lat), t0, drained;
	struct cr_client *c;
	struct cr_reply r;
	size_t i, m = 0, nl;
	pid_t rd;

	if (sh == MAP_FAILED || lat == NULL)
		bail_out("out of memory");
	dproc_init(&p);
	dproc_config(&p, NO_LIMITS "[health]\nrestrict_below_rate = 0\n");
	if (dproc_start(&p, T0, NULL) != 0)
		bail_out("connreqd does not start");
	c = dconnect(&p);
	t0 = harness_ms();
	if (send_all(c, "m", n) != n)
		bail_out("the sends failed");
	diag("%d sends: %lld ms", n, (long long)(harness_ms() - t0));
	rd = fork();
	if (rd == 0) {
		struct cr_client *b = dconnect(&p);

		for (i = 0; !__atomic_load_n(&sh[0], __ATOMIC_SEQ_CST) &&
		    i < cap; i++) {
			int64_t s = now_us();

			call(b, &r, "invite.get", "id:u", ids[i % (size_t)n]);
			cr_reply_free(&r);
			sh[2 + 2 * i] = s;
			sh[3 + 2 * i] = now_us() - s;
			__atomic_store_n(&sh[1], (int64_t)i + 1,
			    __ATOMIC_SEQ_CST);
		}
		_exit(0);
	}
	usleep(200000);		/* the reader is reading */
	t0 = now_us();
	advance(c, &r, LIFE);
	cr_reply_free(&r);
	while (info_count(c, "pending") != 0)
		usleep(20000);
	drained = now_us() - t0;
	__atomic_store_n(&sh[0], 1, __ATOMIC_SEQ_CST);
	waitpid(rd, NULL, 0);
	nl = (size_t)sh[1];
	for (i = 0; i < nl; i++)
		if (sh[2 + 2 * i] >= t0 && sh[2 + 2 * i] < t0 + drained)
			lat[m++] = sh[3 + 2 * i];
	qsort(lat, m, sizeof *lat, cmp_i64);
	if (m == 0)
		lat[m++] = 0;
	diag("N=%d, %d per batch: all expired %lld ms after the deadline (%.0f/s); %zu gets meanwhile: p50 %lld us, p99 %lld us, max %lld us",
	    n, CHUNK, (long long)drained / 1000, n / (drained / 1e6), m,
	    (long long)lat[m / 2], (long long)lat[m * 99 / 100],
	    (long long)lat[m - 1]);
	cr_close(c);
	dproc_stop(&p, SIGTERM);
	dproc_cleanup(&p);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--measure") == 0) {
		int n = atoi(argv[2]);

		if (n < 1 || (ids = calloc((size_t)n, sizeof *ids)) == NULL)
			bail_out("--measure N: N invitations, at least 1");
		return measure(n);
	}
	ids = calloc(N + KILL_N, sizeof *ids);
	if (ids == NULL)
		bail_out("out of memory");
	test_chunks();
	test_restart();
	return done_testing();
}
