/* tests/bench/bench.c: the load generator of make bench (tests/bench/bench.sh
 * starts the servers and calls it). It drives connreqd (msgpack-rpc, see
 * docs/protocol.md) and Redis (RESP, spoken here: the same N connections x P
 * requests in flight as for connreqd, which redis-benchmark's -P does not
 * give: it sends P and waits for all P) over Unix sockets, with plain
 * nonblocking sockets and epoll, and runs pgbench for PostgreSQL. For each
 * case it runs connreq and its peer A/B/A/B, BENCH_REPS (3) times,
 * BENCH_SECONDS (5) each, and prints one line per case:
 *
 *   case=NAME conns=N depth=P connreq=R/s connreq_range=MIN..MAX
 *   connreq_p50=MSms connreq_p99=MSms peer=PEER peer_rate=R/s
 *   peer_range=MIN..MAX peer_p50=MSms peer_p99=MSms ratio=X
 *   load=L1/L2/.. connreq_syncs_per_1k=S peer_syncs_per_1k=S errors=E
 *
 * (one line; rates and latencies are medians of the repetitions; load is
 * the 1-minute load average before each block; syncs come from
 * tests/faults/iofault.c in count mode, IOFAULT_COUNT, preloaded into
 * connreqd and redis-server by bench.sh).
 *
 * The cases of issue 10's targets (idle-10k, fanout-1k, expire-1m, and
 * big-store, opt-in) each start a connreqd of their own (--build: the build
 * directory with bin/connreqd and tests/bench/mkstore; --work: where their
 * stores, sockets and logs go) and print one line each with their targets
 * (docs/performance.md). The opt-in capacity case (issue 11's capacity
 * model, docs/scaling.md) also needs --pg-admin, a conninfo of the
 * bench's PostgreSQL cluster without a dbname.
 *
 * Usage: bench --connreq SOCK [--redis SOCK] [--pgbench CMD]
 *              [--pgbench-get CMD] [--pgbench-same CMD]
 *              [--pgstore SOCK1,SOCK2]
 *              [--pg-admin CONNINFO]
 *              [--connreq-counts FILE] [--redis-counts FILE]
 *              [--build DIR --work DIR]
 * Environment: BENCH_SECONDS, BENCH_REPS, BENCH_CASES (comma-separated
 * case names; all but big-store and capacity when unset), BENCH_EXPIRE_N,
 * BENCH_BIG, BENCH_BIG_N, BENCH_BIG_DIR, BENCH_CAP_N. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <msgpack.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <lmdb.h>

#include "../faults/journal.h"

enum { OP_SEND, OP_GET, OP_LIST, OP_MIX, OP_SEED };
enum { PR_CONNREQ, PR_REDIS };
/* PEER_PG: pgbench's send script (an invitation and an event row);
 * PEER_PG_SAME: its script of the same inserts as an invite.send, into
 * connreqd's own schema; PEER_PG_GET: its gets' script. */
enum { PEER_NONE, PEER_REDIS, PEER_PG, PEER_SELF, PEER_PG_GET,
	PEER_PG_SAME };
/* Where a case's connreq side runs: the LMDB connreqd, or connreqd
 * --postgres on the bench's PostgreSQL cluster, one daemon or two on the
 * same database (connections alternate between them). */
enum { ON_LMDB, ON_PG1, ON_PG2 };

#define HIST_US 1000000 /* latencies in 1 us buckets up to 1 s */
#define MAXCONN 128
#define MAXDEPTH 256
#define HEAVY 200       /* members with 60 sent invitations: invite.list */
#define HEAVY_SENDS 60
#define SENDERS 500009u  /* senders: few sends each, limits never hit */
#define RECIPIENTS 10000000u

struct conn {
	int fd, proto, op, measured;
	char *wbuf;
	size_t wlen, woff, wcap;
	char rbuf[65536];
	size_t rlen;
	msgpack_unpacker up;
	uint64_t ts[MAXDEPTH];
	int head, inflight, want_out;
	int kinds[MAXDEPTH]; /* the op of each request in flight */
};

struct result {
	double rate, p50, p99;
	uint64_t ops, writes, errors, syncs;
	int ok;
};

static const char *connreq_sock, *redis_sock, *pgbench_cmd;
static const char *pgbench_get_cmd;	/* the gets' script */
static const char *pgbench_same_cmd;	/* the same inserts as a send */
static char *pgstore_socks[2];	/* --pgstore SOCK1,SOCK2 */
static const char *drive_socks[2];	/* the connreq side of drive() */
static int drive_nsocks;
static uint64_t pg_max_id;	/* max_id of the PostgreSQL store */
static const char *connreq_counts, *redis_counts;
static double seconds = 5;
static int reps = 3;
static uint64_t send_seq;    /* sends made so far: picks the next pair */
static uint64_t max_id;      /* the largest invitation id answered */
static uint64_t redis_keys;  /* keys inv:0 .. inv:redis_keys-1 exist */
static uint32_t *hist;
static uint64_t rng = 88172645463325252ull;
static int epfd;
static char first_error[256];

static uint64_t
xrand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
die(const char *what)
{
	fprintf(stderr, "bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int
connect_unix(const char *path)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd == -1)
		die("socket");
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == -1)
		die(path);
	if (fcntl(fd, F_SETFL, O_NONBLOCK) == -1)
		die("fcntl");
	return fd;
}

static void
wput(struct conn *c, const void *p, size_t n)
{
	if (c->wlen + n > c->wcap) {
		c->wcap = (c->wlen + n) * 2;
		c->wbuf = realloc(c->wbuf, c->wcap);
		if (c->wbuf == NULL)
			die("realloc");
	}
	memcpy(c->wbuf + c->wlen, p, n);
	c->wlen += n;
}

static int
msgpack_write_cb(void *data, const char *buf, size_t len)
{
	wput(data, buf, len);
	return 0;
}

static void
pk_str(msgpack_packer *pk, const char *s)
{
	size_t n = strlen(s);

	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

static uint64_t
mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

/* The pair of the k-th send: every sender makes a few sends over a whole
 * run (far under sends_per_week, pending_warn), to recipients spread over
 * ten million members. */
static void
send_pair(uint64_t k, char *from, char *to, size_t len)
{
	uint64_t f = k % SENDERS, t = mix64(k) % RECIPIENTS;

	snprintf(from, len, "u%" PRIu64, f);
	snprintf(to, len, "u%" PRIu64, t == f ? t + 1 : t);
}

static int
pick_op(int op)
{
	uint64_t r;

	if (op != OP_MIX)
		return op;
	/* The realistic mix: 70% get, 15% list, 15% send. */
	r = xrand() % 100;
	return r < 70 ? OP_GET : r < 85 ? OP_LIST : OP_SEND;
}

static void
queue_connreq(struct conn *c, int op)
{
	msgpack_packer pk;
	char from[32], to[32];
	static uint32_t msgid;
	uint64_t k;

	msgpack_packer_init(&pk, c, msgpack_write_cb);
	msgpack_pack_array(&pk, 4);
	msgpack_pack_uint32(&pk, 0);
	msgpack_pack_uint32(&pk, ++msgid);
	switch (op) {
	case OP_SEND:
	case OP_SEED:
		if (op == OP_SEED) {
			k = send_seq++;
			snprintf(from, sizeof from, "h%" PRIu64,
			    k % HEAVY);
			snprintf(to, sizeof to, "u%" PRIu64,
			    mix64(k) % RECIPIENTS);
		} else
			send_pair(send_seq++, from, to, sizeof from);
		pk_str(&pk, "invite.send");
		msgpack_pack_array(&pk, 1);
		msgpack_pack_map(&pk, 2);
		pk_str(&pk, "from");
		pk_str(&pk, from);
		pk_str(&pk, "to");
		pk_str(&pk, to);
		break;
	case OP_GET:
		pk_str(&pk, "invite.get");
		msgpack_pack_array(&pk, 1);
		msgpack_pack_map(&pk, 1);
		pk_str(&pk, "id");
		msgpack_pack_uint64(&pk, 1 + xrand() % (max_id ? max_id : 1));
		break;
	default: /* OP_LIST */
		snprintf(from, sizeof from, "h%" PRIu64, xrand() % HEAVY);
		pk_str(&pk, "invite.list");
		msgpack_pack_array(&pk, 1);
		msgpack_pack_map(&pk, 3);
		pk_str(&pk, "member");
		pk_str(&pk, from);
		pk_str(&pk, "box");
		pk_str(&pk, "sent");
		pk_str(&pk, "limit");
		msgpack_pack_uint32(&pk, 20);
		break;
	}
}

/* A value the size of an invitation as connreqd answers it. */
static const char redis_val[] =
    "{\"id\":1234567,\"from\":\"u123456\",\"to\":\"u7654321\",\"state\":"
    "\"pending\",\"note\":\"\",\"priority\":\"medium\",\"created_at\":"
    "1764650000,\"updated_at\":1764650000,\"expires_at\":1780202000,"
    "\"reminded_at\":null,\"attempt\":1}";

static void
queue_redis(struct conn *c, int op)
{
	char key[32], hdr[128];
	int n, kl;

	if (op == OP_SEND) {
		kl = snprintf(key, sizeof key, "inv:%" PRIu64, redis_keys++);
		n = snprintf(hdr, sizeof hdr,
		    "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%zu\r\n", kl, key,
		    sizeof redis_val - 1);
		wput(c, hdr, (size_t)n);
		wput(c, redis_val, sizeof redis_val - 1);
		wput(c, "\r\n", 2);
	} else {
		kl = snprintf(key, sizeof key, "inv:%" PRIu64,
		    xrand() % (redis_keys ? redis_keys : 1));
		n = snprintf(hdr, sizeof hdr, "*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n",
		    kl, key);
		wput(c, hdr, (size_t)n);
	}
}

static void
queue_one(struct conn *c)
{
	int op = pick_op(c->op), slot;

	if (c->proto == PR_REDIS) {
		if (op == OP_LIST) /* Redis's mix: 85% GET, 15% SET */
			op = OP_GET;
		queue_redis(c, op);
	} else
		queue_connreq(c, op);
	slot = (c->head + c->inflight) % MAXDEPTH;
	c->ts[slot] = now_ns();
	c->kinds[slot] = op;
	c->inflight++;
}

static void
set_out(struct conn *c, int on)
{
	struct epoll_event ev;

	if (c->want_out == on)
		return;
	c->want_out = on;
	ev.events = EPOLLIN | (on ? EPOLLOUT : 0);
	ev.data.ptr = c;
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) == -1)
		die("epoll_ctl");
}

static void
flush_out(struct conn *c)
{
	ssize_t n;

	while (c->woff < c->wlen) {
		n = write(c->fd, c->wbuf + c->woff, c->wlen - c->woff);
		if (n == -1) {
			if (errno == EAGAIN)
				break;
			die("write");
		}
		c->woff += (size_t)n;
	}
	if (c->woff == c->wlen)
		c->woff = c->wlen = 0;
	set_out(c, c->wlen > 0);
}

struct tally {
	uint64_t ops, writes, errors, end_ns;
};

static void
completed(struct conn *c, struct tally *t, int err)
{
	uint64_t now = now_ns(), us;
	int op = c->kinds[c->head];

	if (c->inflight == 0) {
		fprintf(stderr, "bench: an answer nothing asked for\n");
		exit(1);
	}
	if (c->measured && now <= t->end_ns) {
		us = (now - c->ts[c->head]) / 1000;
		hist[us < HIST_US ? us : HIST_US - 1]++;
		t->ops++;
	}
	if (op == OP_SEND || op == OP_SEED)
		t->writes++;
	if (err)
		t->errors++;
	c->head = (c->head + 1) % MAXDEPTH;
	c->inflight--;
}

/* The answer [1, msgid, error, result]: notes an error and, for a send,
 * the invitation id. */
static int
connreq_answer(const msgpack_object *o)
{
	const msgpack_object *a, *r;
	uint32_t i, j;

	if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != 4) {
		fprintf(stderr, "bench: a malformed answer\n");
		exit(1);
	}
	a = o->via.array.ptr;
	if (a[2].type != MSGPACK_OBJECT_NIL) {
		if (first_error[0] == '\0')
			msgpack_object_print_buffer(first_error,
			    sizeof first_error, a[2]);
		return 1;
	}
	r = &a[3];
	for (i = 0; r->type == MSGPACK_OBJECT_MAP && i < r->via.map.size; i++) {
		const msgpack_object_kv *kv = &r->via.map.ptr[i];

		if (kv->key.type != MSGPACK_OBJECT_STR ||
		    kv->key.via.str.size != 10 ||
		    memcmp(kv->key.via.str.ptr, "invitation", 10) != 0 ||
		    kv->val.type != MSGPACK_OBJECT_MAP)
			continue;
		for (j = 0; j < kv->val.via.map.size; j++) {
			const msgpack_object_kv *f = &kv->val.via.map.ptr[j];

			if (f->key.type == MSGPACK_OBJECT_STR &&
			    f->key.via.str.size == 2 &&
			    memcmp(f->key.via.str.ptr, "id", 2) == 0 &&
			    f->val.type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
			    f->val.via.u64 > max_id)
				max_id = f->val.via.u64;
		}
	}
	return 0;
}

static void
read_connreq(struct conn *c, struct tally *t)
{
	msgpack_unpacked res;
	ssize_t n;

	for (;;) {
		msgpack_unpacker_reserve_buffer(&c->up, 65536);
		n = read(c->fd, msgpack_unpacker_buffer(&c->up), 65536);
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0) {
			fprintf(stderr, "bench: connreqd closed a connection\n");
			exit(1);
		}
		msgpack_unpacker_buffer_consumed(&c->up, (size_t)n);
		msgpack_unpacked_init(&res);
		while (msgpack_unpacker_next(&c->up, &res) ==
		    MSGPACK_UNPACK_SUCCESS)
			completed(c, t, connreq_answer(&res.data));
		msgpack_unpacked_destroy(&res);
	}
}

/* RESP replies: +OK, -ERR, :n, $len data, $-1. */
static void
read_redis(struct conn *c, struct tally *t)
{
	size_t pos, used;
	ssize_t n;
	char *eol;
	long len;

	for (;;) {
		n = read(c->fd, c->rbuf + c->rlen, sizeof c->rbuf - c->rlen);
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0) {
			fprintf(stderr, "bench: redis closed a connection\n");
			exit(1);
		}
		c->rlen += (size_t)n;
		pos = 0;
		for (;;) {
			eol = memchr(c->rbuf + pos, '\n', c->rlen - pos);
			if (eol == NULL)
				break;
			used = (size_t)(eol - (c->rbuf + pos)) + 1;
			if (c->rbuf[pos] == '$') {
				len = strtol(c->rbuf + pos + 1, NULL, 10);
				if (len >= 0) {
					if (c->rlen - pos < used + (size_t)len + 2)
						break;
					used += (size_t)len + 2;
				}
			}
			if (c->rbuf[pos] == '-' && first_error[0] == '\0')
				snprintf(first_error, sizeof first_error,
				    "redis: %.*s", (int)used - 2,
				    c->rbuf + pos);
			completed(c, t, c->rbuf[pos] == '-');
			pos += used;
		}
		memmove(c->rbuf, c->rbuf + pos, c->rlen - pos);
		c->rlen -= pos;
	}
}

static uint64_t
count_syncs(const char *path)
{
	struct iofault_counts k;
	int fd;

	if (path == NULL || (fd = open(path, O_RDONLY)) == -1)
		return 0;
	memset(&k, 0, sizeof k);
	if (read(fd, &k, sizeof k) != (ssize_t)sizeof k)
		memset(&k, 0, sizeof k);
	close(fd);
	return k.kind[JK_FDATASYNC] + k.kind[JK_FSYNC] + k.kind[JK_MSYNC] +
	    k.kind[JK_SYNC_FILE_RANGE] + k.dsync_writes;
}

static double
hist_pct(uint64_t total, double pct)
{
	uint64_t want = (uint64_t)(total * pct), seen = 0;
	int i;

	for (i = 0; i < HIST_US; i++) {
		seen += hist[i];
		if (seen > want)
			return i / 1000.0 + 0.0005;
	}
	return HIST_US / 1000.0;
}

/* One block: conns connections of proto with depth requests in flight
 * each doing op, for secs (0: until count requests are answered), plus
 * writers unmeasured connections sending one at a time. */
static struct result
drive(int proto, int op, int conns, int depth, int writers, double secs,
    uint64_t count)
{
	struct conn *cs = calloc((size_t)(conns + writers), sizeof *cs);
	struct epoll_event evs[64], ev;
	struct tally t = { 0, 0, 0, UINT64_MAX };
	struct result r;
	const char *counts = proto == PR_REDIS ? redis_counts : connreq_counts;
	uint64_t start, syncs0, issued = 0;
	int i, n, total = conns + writers, stopping = 0, left;

	memset(&r, 0, sizeof r);
	if (cs == NULL)
		die("calloc");
	memset(hist, 0, HIST_US * sizeof *hist);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd == -1)
		die("epoll_create1");
	syncs0 = count_syncs(counts);
	for (i = 0; i < total; i++) {
		struct conn *c = &cs[i];

		c->proto = proto;
		c->fd = connect_unix(proto == PR_REDIS ? redis_sock :
		    drive_nsocks > 0 ? drive_socks[i % drive_nsocks] :
		    connreq_sock);
		c->measured = i < conns;
		c->op = i < conns ? op : OP_SEND;
		if (proto == PR_CONNREQ &&
		    !msgpack_unpacker_init(&c->up, 65536))
			die("msgpack_unpacker_init");
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) == -1)
			die("epoll_ctl");
	}
	start = now_ns();
	if (secs > 0)
		t.end_ns = start + (uint64_t)(secs * 1e9);
	for (i = 0; i < total; i++) {
		struct conn *c = &cs[i];
		int d = c->measured ? depth : 1;

		while (c->inflight < d && (count == 0 || issued < count)) {
			queue_one(c);
			issued++;
		}
		flush_out(c);
	}
	for (;;) {
		if (!stopping && (secs > 0 ? now_ns() >= t.end_ns :
		    issued >= count))
			stopping = 1;
		left = 0;
		for (i = 0; i < total; i++)
			left += cs[i].inflight;
		if (stopping && left == 0)
			break;
		/* A server that stops answering stops the run. */
		if (stopping && secs > 0 &&
		    now_ns() > t.end_ns + 30 * (uint64_t)1000000000) {
			fprintf(stderr, "bench: %d answers still missing 30 s "
			    "after the block\n", left);
			exit(1);
		}
		n = epoll_wait(epfd, evs, 64, 100);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		for (i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			int d = c->measured ? depth : 1;

			if (evs[i].events & EPOLLOUT)
				flush_out(c);
			if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
				if (c->proto == PR_REDIS)
					read_redis(c, &t);
				else
					read_connreq(c, &t);
			}
			if (secs > 0 && now_ns() >= t.end_ns)
				stopping = 1;
			while (!stopping && c->inflight < d &&
			    (count == 0 || issued < count)) {
				queue_one(c);
				issued++;
			}
			if (c->wlen > c->woff)
				flush_out(c);
		}
	}
	r.ops = t.ops;
	r.writes = t.writes;
	r.errors = t.errors;
	r.rate = t.ops / (secs > 0 ? secs : (now_ns() - start) / 1e9);
	r.p50 = hist_pct(t.ops, 0.50);
	r.p99 = hist_pct(t.ops, 0.99);
	r.syncs = count_syncs(counts) - syncs0;
	r.ok = 1;
	for (i = 0; i < total; i++) {
		close(cs[i].fd);
		free(cs[i].wbuf);
		if (proto == PR_CONNREQ)
			msgpack_unpacker_destroy(&cs[i].up);
	}
	close(epfd);
	free(cs);
	return r;
}

/* pgbench -c conns for secs: tps and its average latency (pgbench gives
 * no percentiles without a per-transaction log). */
static struct result
drive_pg(const char *script_cmd, int conns, double secs)
{
	struct result r;
	char cmd[2048], line[512];
	FILE *p;
	double v;

	memset(&r, 0, sizeof r);
	if (script_cmd == NULL)
		return r;
	snprintf(cmd, sizeof cmd, "%s -c %d -j %d -T %d 2>&1", script_cmd,
	    conns, conns < 2 ? 1 : 2, (int)(secs + 0.5));
	p = popen(cmd, "r");
	if (p == NULL)
		die("popen");
	while (fgets(line, sizeof line, p) != NULL) {
		if (sscanf(line, "latency average = %lf", &v) == 1)
			r.p50 = r.p99 = v;
		else if (sscanf(line, "tps = %lf", &v) == 1) {
			r.rate = v;
			r.ok = 1;
		} else if (sscanf(line, "number of failed transactions: %lf",
		    &v) == 1)
			r.errors = (uint64_t)v;
		else if (strstr(line, "ERROR") || strstr(line, "error"))
			fprintf(stderr, "pgbench: %s", line);
	}
	pclose(p);
	return r;
}

static double
loadavg(void)
{
	FILE *f = fopen("/proc/loadavg", "r");
	double l = -1;

	if (f != NULL) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(const double *v, int n)
{
	double s[16];

	memcpy(s, v, (size_t)n * sizeof *v);
	qsort(s, (size_t)n, sizeof *s, cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static double
minv(const double *v, int n)
{
	double m = v[0];

	while (--n > 0)
		m = v[n] < m ? v[n] : m;
	return m;
}

static double
maxv(const double *v, int n)
{
	double m = v[0];

	while (--n > 0)
		m = v[n] > m ? v[n] : m;
	return m;
}

struct bcase {
	const char *name, *peer_name;
	int op, conns, depth, peer, writers, on;
};

static const struct bcase cases[] = {
	{ "send-1-redis", "redis-set", OP_SEND, 1, 1, PEER_REDIS, 0, ON_LMDB },
	{ "send-1-pg", "postgresql", OP_SEND, 1, 1, PEER_PG, 0, ON_LMDB },
	{ "send-16-redis", "redis-set", OP_SEND, 16, 1, PEER_REDIS, 0, ON_LMDB },
	{ "send-16-pg", "postgresql", OP_SEND, 16, 1, PEER_PG, 0, ON_LMDB },
	{ "send-50-redis", "redis-set", OP_SEND, 50, 1, PEER_REDIS, 0, ON_LMDB },
	{ "send-50-pg", "postgresql", OP_SEND, 50, 1, PEER_PG, 0, ON_LMDB },
	{ "send-16x64-redis", "redis-set", OP_SEND, 16, 64, PEER_REDIS, 0, ON_LMDB },
	{ "send-50x64-redis", "redis-set", OP_SEND, 50, 64, PEER_REDIS, 0, ON_LMDB },
	{ "get-16x64-redis", "redis-get", OP_GET, 16, 64, PEER_REDIS, 0, ON_LMDB },
	{ "get-16-redis", "redis-get", OP_GET, 16, 1, PEER_REDIS, 0, ON_LMDB },
	{ "get-16-writers", "get-16-no-writers", OP_GET, 16, 1, PEER_SELF, 4, ON_LMDB },
	{ "list-16", "none", OP_LIST, 16, 1, PEER_NONE, 0, ON_LMDB },
	{ "mix-16-redis", "redis-get85-set15", OP_MIX, 16, 1, PEER_REDIS, 0, ON_LMDB },
	/* connreqd --postgres (issue 11): one daemon, then two on one
	 * database, against the pgbench scripts. */
	{ "pgstore-send-16-same", "postgresql-same", OP_SEND, 16, 1,
	    PEER_PG_SAME, 0, ON_PG1 },
	{ "pgstore-send-16-2d-same", "postgresql-same", OP_SEND, 16, 1,
	    PEER_PG_SAME, 0, ON_PG2 },
	{ "pgstore-send-16-pg", "postgresql", OP_SEND, 16, 1, PEER_PG, 0,
	    ON_PG1 },
	{ "pgstore-send-16-2d-pg", "postgresql", OP_SEND, 16, 1, PEER_PG, 0,
	    ON_PG2 },
	{ "pgstore-get-16-pg", "postgresql-get", OP_GET, 16, 1, PEER_PG_GET,
	    0, ON_PG1 },
	{ "pgstore-get-16-2d-pg", "postgresql-get", OP_GET, 16, 1,
	    PEER_PG_GET, 0, ON_PG2 },
};

static int
wanted(const char *name)
{
	const char *sel = getenv("BENCH_CASES"), *p;
	size_t n = strlen(name);

	if (sel == NULL || *sel == '\0')
		return 1;
	for (p = sel; (p = strstr(p, name)) != NULL; p += n)
		if ((p == sel || p[-1] == ',') && (p[n] == ',' ||
		    p[n] == '\0'))
			return 1;
	return 0;
}

static void
per_1k(char *buf, size_t len, uint64_t syncs, uint64_t writes, int have)
{
	if (!have || writes == 0)
		snprintf(buf, len, "n/a");
	else
		snprintf(buf, len, "%.0f", syncs * 1000.0 / writes);
}

/* Whether the peer is a pgbench script; its command (NULL when not given)
 * in *cmd, when cmd is not NULL. */
static int
pg_peer(int peer, const char **cmd)
{
	const char *c;

	switch (peer) {
	case PEER_PG:
		c = pgbench_cmd;
		break;
	case PEER_PG_GET:
		c = pgbench_get_cmd;
		break;
	case PEER_PG_SAME:
		c = pgbench_same_cmd;
		break;
	default:
		return 0;
	}
	if (cmd != NULL)
		*cmd = c;
	return 1;
}

static void
run_case(const struct bcase *k)
{
	double a[16], ap50[16], ap99[16], b[16], bp50[16], bp99[16], load[32];
	uint64_t aw = 0, asy = 0, bw = 0, bsy = 0, errs = 0, lmdb_max = max_id;
	const char *counts = connreq_counts;
	char loads[256], as[32], bs[32], peer[256];
	const char *cmd = NULL;
	int i, nl = 0, bok = 1, off = 0;
	struct result r;

	if (k->on != ON_LMDB) {
		if (pgstore_socks[0] == NULL) {
			fprintf(stderr, "bench: %s needs --pgstore\n", k->name);
			return;
		}
		drive_socks[0] = pgstore_socks[0];
		drive_socks[1] = pgstore_socks[1];
		drive_nsocks = k->on == ON_PG2 ? 2 : 1;
		max_id = pg_max_id;
		connreq_counts = NULL;	/* PostgreSQL's syncs are its own */
		if (k->op == OP_GET && max_id == 0)
			/* Something to get: no send case ran before. */
			drive(PR_CONNREQ, OP_SEND, 16, 1, 0, 0, 2000);
	}
	for (i = 0; i < reps; i++) {
		load[nl++] = loadavg();
		r = drive(PR_CONNREQ, k->op, k->conns, k->depth, k->writers,
		    seconds, 0);
		a[i] = r.rate, ap50[i] = r.p50, ap99[i] = r.p99;
		aw += r.writes, asy += r.syncs, errs += r.errors;
		if (k->peer == PEER_NONE)
			continue;
		load[nl++] = loadavg();
		if (pg_peer(k->peer, &cmd))
			r = drive_pg(cmd, k->conns, seconds);
		else if (k->peer == PEER_SELF)
			r = drive(PR_CONNREQ, k->op, k->conns, k->depth, 0,
			    seconds, 0);
		else if (redis_sock != NULL)
			r = drive(PR_REDIS, k->op, k->conns, k->depth, 0,
			    seconds, 0);
		else
			memset(&r, 0, sizeof r);
		bok &= r.ok;
		b[i] = r.rate, bp50[i] = r.p50, bp99[i] = r.p99;
		bw += r.writes, bsy += r.syncs, errs += r.errors;
	}
	if (k->on != ON_LMDB) {
		pg_max_id = max_id;
		max_id = lmdb_max;
		drive_nsocks = 0;
	}
	for (i = 0; i < nl; i++)
		off += snprintf(loads + off, sizeof loads - (size_t)off,
		    "%s%.2f", i ? "/" : "", load[i]);
	per_1k(as, sizeof as, asy, aw, connreq_counts != NULL);
	per_1k(bs, sizeof bs, bsy, bw, k->peer == PEER_REDIS &&
	    redis_counts != NULL);
	if (k->peer == PEER_NONE || !bok)
		snprintf(peer, sizeof peer, "peer=%s peer_rate=n/a ratio=n/a",
		    k->peer_name);
	else if (pg_peer(k->peer, NULL))
		/* pgbench: the average latency, no percentiles */
		snprintf(peer, sizeof peer, "peer=%s peer_rate=%.0f/s "
		    "peer_range=%.0f..%.0f peer_avg=%.3fms ratio=%.2f",
		    k->peer_name, median(b, reps), minv(b, reps),
		    maxv(b, reps), median(bp50, reps),
		    median(a, reps) / median(b, reps));
	else
		snprintf(peer, sizeof peer, "peer=%s peer_rate=%.0f/s "
		    "peer_range=%.0f..%.0f peer_p50=%.3fms peer_p99=%.3fms "
		    "ratio=%.2f", k->peer_name, median(b, reps),
		    minv(b, reps), maxv(b, reps), median(bp50, reps),
		    median(bp99, reps), median(a, reps) / median(b, reps));
	printf("case=%s conns=%d depth=%d%s connreq=%.0f/s "
	    "connreq_range=%.0f..%.0f connreq_p50=%.3fms connreq_p99=%.3fms "
	    "%s load=%s connreq_syncs_per_1k=%s peer_syncs_per_1k=%s "
	    "errors=%" PRIu64 "\n", k->name, k->conns, k->depth,
	    k->writers ? " writers=4" : "", median(a, reps), minv(a, reps),
	    maxv(a, reps), median(ap50, reps), median(ap99, reps), peer,
	    loads, as, bs, errs);
	if (errs > 0 && first_error[0] != '\0')
		fprintf(stderr, "bench: %s: first error: %s\n", k->name,
		    first_error);
	first_error[0] = '\0';
	fflush(stdout);
	connreq_counts = counts;
}


/* ---- Issue 10's targets: idle-10k, fanout-1k, expire-1m, big-store. Each
 * runs on a connreqd of its own, started here (the build's bin/connreqd, a
 * store and a socket under the work directory, its log there too), so that
 * the generator knows its pid (for its memory) and its start. ---- */

static const char *build_dir, *work_dir;

struct dproc {
	pid_t pid;
	uint64_t t_exec;	/* just before the fork */
	char dir[512], sock[600], store[600];
};

static pid_t live[4];

static void
stop_all(void)
{
	int i;

	for (i = 0; i < 4; i++)
		if (live[i] > 0) {
			kill(live[i], SIGTERM);
			waitpid(live[i], NULL, 0);
			live[i] = 0;
		}
}

static void
dproc_stop(struct dproc *d)
{
	int i;

	for (i = 0; i < 4; i++)
		if (live[i] == d->pid)
			live[i] = 0;
	if (d->pid > 0) {
		kill(d->pid, SIGTERM);
		waitpid(d->pid, NULL, 0);
	}
	d->pid = 0;
}

/* Starts connreqd as NAME: the configuration conf (INI text), the store
 * (NULL: a new one in the case's directory; a conninfo: --postgres),
 * --virtual-clock=vclock when
 * not 0. */
static void
dproc_start(struct dproc *d, const char *name, const char *store,
    const char *conf, int64_t vclock)
{
	char cfg[640], log[640], bin[600], vc[64];
	FILE *f;
	int i, fd;

	memset(d, 0, sizeof *d);
	snprintf(d->dir, sizeof d->dir, "%s/%s", work_dir, name);
	if (mkdir(d->dir, 0700) == -1 && errno != EEXIST)
		die(d->dir);
	snprintf(d->sock, sizeof d->sock, "%s/sock", d->dir);
	unlink(d->sock);
	snprintf(d->store, sizeof d->store, "%s", store != NULL ? store : "");
	if (store == NULL)
		snprintf(d->store, sizeof d->store, "%s/store", d->dir);
	snprintf(cfg, sizeof cfg, "%s/connreqd.conf", d->dir);
	snprintf(log, sizeof log, "%s/log", d->dir);
	snprintf(bin, sizeof bin, "%s/bin/connreqd", build_dir);
	snprintf(vc, sizeof vc, "--virtual-clock=%" PRId64, vclock);
	if ((f = fopen(cfg, "w")) == NULL)
		die(cfg);
	fputs(conf, f);
	fclose(f);
	fflush(NULL);
	d->t_exec = now_ns();
	d->pid = fork();
	if (d->pid == -1)
		die("fork");
	if (d->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd != -1) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		/* A store with '=' in it is a PostgreSQL conninfo (the
		 * bench's LMDB directories have none). */
		execl(bin, bin, "-c", cfg, "-s", d->sock,
		    strchr(d->store, '=') != NULL ? "--postgres" : "-d",
		    d->store, vclock ? vc : (char *)NULL, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 4; i++)
		if (live[i] == 0) {
			live[i] = d->pid;
			break;
		}
}

/* A connection for the cases below: requests packed with msgpack-c,
 * written whole, answers and notifications read as they come. */
struct rc {
	int fd;
	uint32_t msgid;
	msgpack_unpacker up;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint64_t t;	/* when the request in flight was written */
	int round;	/* fanout: the last round it got its event in */
};

static int
try_connect(const char *path)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd == -1)
		die("socket");
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
rc_open(struct rc *r, const char *sock)
{
	memset(r, 0, sizeof *r);
	if ((r->fd = try_connect(sock)) == -1)
		die(sock);
	if (fcntl(r->fd, F_SETFL, O_NONBLOCK) == -1)
		die("fcntl");
	if (!msgpack_unpacker_init(&r->up, 4096))
		die("msgpack_unpacker_init");
	msgpack_sbuffer_init(&r->sb);
	msgpack_packer_init(&r->pk, &r->sb, msgpack_sbuffer_write);
}

static void
rc_close(struct rc *r)
{
	close(r->fd);
	msgpack_unpacker_destroy(&r->up);
	msgpack_sbuffer_destroy(&r->sb);
}

/* Starts a request; the caller packs nargs pairs into the packer. */
static msgpack_packer *
rc_req(struct rc *r, const char *method, uint32_t nargs)
{
	msgpack_pack_array(&r->pk, 4);
	msgpack_pack_uint32(&r->pk, 0);
	msgpack_pack_uint32(&r->pk, ++r->msgid);
	pk_str(&r->pk, method);
	msgpack_pack_array(&r->pk, 1);
	msgpack_pack_map(&r->pk, nargs);
	return &r->pk;
}

/* Writes what is packed, waiting for room when the socket is full. */
static void
rc_flush(struct rc *r)
{
	struct pollfd p = { r->fd, POLLOUT, 0 };
	size_t off = 0;
	ssize_t n;

	r->t = now_ns();
	while (off < r->sb.size) {
		n = write(r->fd, r->sb.data + off, r->sb.size - off);
		if (n == -1 && errno == EAGAIN) {
			if (poll(&p, 1, 30000) != 1) {
				fprintf(stderr, "bench: connreqd takes no "
				    "request for 30 s\n");
				exit(1);
			}
			continue;
		}
		if (n == -1)
			die("write");
		off += (size_t)n;
	}
	msgpack_sbuffer_clear(&r->sb);
}

/* 1 with the next message in u, 0 when none has come yet. */
static int
rc_next(struct rc *r, msgpack_unpacked *u)
{
	ssize_t n;

	for (;;) {
		if (msgpack_unpacker_next(&r->up, u) == MSGPACK_UNPACK_SUCCESS)
			return 1;
		msgpack_unpacker_reserve_buffer(&r->up, 4096);
		n = read(r->fd, msgpack_unpacker_buffer(&r->up),
		    msgpack_unpacker_buffer_capacity(&r->up));
		if (n == -1 && errno == EAGAIN)
			return 0;
		if (n <= 0) {
			fprintf(stderr, "bench: connreqd closed a connection\n");
			exit(1);
		}
		msgpack_unpacker_buffer_consumed(&r->up, (size_t)n);
	}
}

/* The next message, waiting up to secs for it. */
static void
rc_wait(struct rc *r, msgpack_unpacked *u, int secs)
{
	struct pollfd p = { r->fd, POLLIN, 0 };

	while (!rc_next(r, u))
		if (poll(&p, 1, secs * 1000) != 1) {
			fprintf(stderr, "bench: no answer from connreqd in "
			    "%d s\n", secs);
			exit(1);
		}
}

/* 1: an answer, 2: a notification. */
static int
msg_kind(const msgpack_object *o)
{
	if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size < 3 ||
	    o->via.array.ptr[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
		fprintf(stderr, "bench: a malformed message\n");
		exit(1);
	}
	return (int)o->via.array.ptr[0].via.u64;
}

/* An answer's error (noted in first_error): 1, or 0 for a result. */
static int
answer_failed(const msgpack_object *o)
{
	const msgpack_object *a = o->via.array.ptr;

	if (o->via.array.size == 4 && a[2].type == MSGPACK_OBJECT_NIL)
		return 0;
	if (first_error[0] == '\0')
		msgpack_object_print_buffer(first_error, sizeof first_error,
		    a[2]);
	return 1;
}

static const msgpack_object *
mget(const msgpack_object *m, const char *key)
{
	size_t n = strlen(key);
	uint32_t i;

	if (m == NULL || m->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (i = 0; i < m->via.map.size; i++) {
		const msgpack_object_kv *kv = &m->via.map.ptr[i];

		if (kv->key.type == MSGPACK_OBJECT_STR &&
		    kv->key.via.str.size == n &&
		    memcmp(kv->key.via.str.ptr, key, n) == 0)
			return &kv->val;
	}
	return NULL;
}

static uint64_t
muint(const msgpack_object *o)
{
	return o != NULL && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ?
	    o->via.u64 : 0;
}

/* Polls until connreqd answers a cheap read (invite.get of id 1: found or
 * not, the store was read): the time of that answer. */
static uint64_t
dproc_ready(struct dproc *d, int secs)
{
	uint64_t end = now_ns() + (uint64_t)secs * 1000000000u, t;
	struct timespec pause = { 0, 200000 };
	msgpack_unpacked u;
	struct rc r;
	int fd, st;

	while ((fd = try_connect(d->sock)) == -1) {
		if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
			fprintf(stderr, "bench: connreqd exited (see %s/log)\n",
			    d->dir);
			exit(1);
		}
		if (now_ns() > end) {
			fprintf(stderr, "bench: connreqd did not listen in "
			    "%d s\n", secs);
			exit(1);
		}
		nanosleep(&pause, NULL);
	}
	close(fd);
	rc_open(&r, d->sock);
	pk_str(rc_req(&r, "invite.get", 1), "id");
	msgpack_pack_uint64(&r.pk, 1);
	rc_flush(&r);
	msgpack_unpacked_init(&u);
	rc_wait(&r, &u, secs);
	t = now_ns();
	msgpack_unpacked_destroy(&u);
	rc_close(&r);
	return t;
}

/* From /proc/PID/status, in KiB. */
static long
vmrss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* The resident KiB of PID's mappings of the store (data.mdb), from
 * /proc/PID/smaps. */
static long
store_rss_kb(pid_t pid)
{
	char path[64], line[1024], perms[8];
	unsigned long a, b;
	long kb, sum = 0;
	int in = 0;
	size_t n;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/smaps", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL) {
		if (sscanf(line, "%lx-%lx %7s", &a, &b, perms) == 3) {
			n = strcspn(line, "\n");
			line[n] = '\0';
			in = n >= 9 && strcmp(line + n - 9, "/data.mdb") == 0;
		} else if (in && sscanf(line, "Rss: %ld", &kb) == 1)
			sum += kb;
	}
	fclose(f);
	return sum;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
sort_u64(uint64_t *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_u64);
}

/* idle-10k: 10,000 connections that each made one request (hello), and
 * what they cost connreqd: its VmRSS after, less before, per connection. */
static void
case_idle(void)
{
	struct rlimit rl;
	struct dproc d;
	msgpack_sbuffer req;
	msgpack_packer pk;
	msgpack_unpacked u;
	char conf[128], buf[512];
	int *fds, n = 10000, i, refused = 0, errs = 0;
	struct timespec sec = { 1, 0 };
	long rss0, rss1, rss2;
	uint64_t t0, t1;
	size_t len, off;
	ssize_t k;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)n + 64)
		n = (int)rl.rlim_cur - 64;
	snprintf(conf, sizeof conf, "[server]\nmax_clients = %d\n", n + 100);
	dproc_start(&d, "idle", NULL, conf, 0);
	dproc_ready(&d, 30);
	rss0 = vmrss_kb(d.pid);
	msgpack_sbuffer_init(&req);
	msgpack_packer_init(&pk, &req, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 4);
	msgpack_pack_uint32(&pk, 0);
	msgpack_pack_uint32(&pk, 1);
	pk_str(&pk, "hello");
	msgpack_pack_array(&pk, 0);
	if ((fds = calloc((size_t)n, sizeof *fds)) == NULL)
		die("calloc");
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		if ((fds[i] = try_connect(d.sock)) == -1)
			die("connect");
		if (write(fds[i], req.data, req.size) != (ssize_t)req.size)
			die("write");
	}
	msgpack_unpacked_init(&u);
	for (i = 0; i < n; i++) {
		struct pollfd p = { fds[i], POLLIN, 0 };

		for (len = 0;;) {
			if (poll(&p, 1, 30000) != 1) {
				fprintf(stderr, "bench: idle-10k: no answer in "
				    "30 s\n");
				exit(1);
			}
			k = read(fds[i], buf + len, sizeof buf - len);
			if (k <= 0) {
				refused++;
				break;
			}
			len += (size_t)k;
			off = 0;
			if (msgpack_unpack_next(&u, buf, len, &off) ==
			    MSGPACK_UNPACK_SUCCESS) {
				errs += msg_kind(&u.data) != 1 ||
				    answer_failed(&u.data);
				break;
			}
		}
	}
	t1 = now_ns();
	rss1 = vmrss_kb(d.pid);
	/* Then idle for a second: what the connections keep. */
	nanosleep(&sec, NULL);
	rss2 = vmrss_kb(d.pid);
	msgpack_unpacked_destroy(&u);
	printf("case=idle-10k conns=%d rss_before=%ldKiB rss_answered=%ldKiB "
	    "rss_idle=%ldKiB bytes_per_conn=%.0f target_bytes_per_conn=16384 "
	    "connect_and_answer=%.3fs refused=%d errors=%d\n", n, rss0, rss1,
	    rss2, (rss2 - rss0) * 1024.0 / (n - refused > 0 ? n - refused : 1),
	    (t1 - t0) / 1e9, refused, errs);
	fflush(stdout);
	for (i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
	msgpack_sbuffer_destroy(&req);
	dproc_stop(&d);
}

#define FAN_SUBS 1000
#define FAN_ROUNDS 30

/* fanout-1k: 1,000 connections subscribed to one member's feed; one send
 * to that member; the time until the last of them has its event. */
static void
case_fanout(void)
{
	struct epoll_event ev, evs[256];
	struct rc *subs, snd;
	struct dproc d;
	msgpack_unpacked u;
	uint64_t t_ans, t_last, t_first, from_ans[FAN_ROUNDS],
	    from_send[FAN_ROUNDS], first[FAN_ROUNDS];
	int i, j, n, got, errs = 0, round;
	char from[32];

	dproc_start(&d, "fanout", NULL, "[server]\nmax_clients = 2000\n", 0);
	dproc_ready(&d, 30);
	if ((subs = calloc(FAN_SUBS, sizeof *subs)) == NULL)
		die("calloc");
	msgpack_unpacked_init(&u);
	for (i = 0; i < FAN_SUBS; i++) {
		rc_open(&subs[i], d.sock);
		pk_str(rc_req(&subs[i], "events.subscribe", 1), "member");
		pk_str(&subs[i].pk, "fan");
		rc_flush(&subs[i]);
	}
	for (i = 0; i < FAN_SUBS; i++) {
		rc_wait(&subs[i], &u, 30);
		errs += msg_kind(&u.data) != 1 || answer_failed(&u.data);
	}
	rc_open(&snd, d.sock);
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		die("epoll_create1");
	for (i = 0; i <= FAN_SUBS; i++) {
		ev.events = EPOLLIN;
		ev.data.u32 = (uint32_t)i;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, i < FAN_SUBS ? subs[i].fd :
		    snd.fd, &ev) == -1)
			die("epoll_ctl");
	}
	for (round = 1; round <= FAN_ROUNDS; round++) {
		snprintf(from, sizeof from, "fs%d", round);
		pk_str(rc_req(&snd, "invite.send", 2), "from");
		pk_str(&snd.pk, from);
		pk_str(&snd.pk, "to");
		pk_str(&snd.pk, "fan");
		rc_flush(&snd);
		t_ans = t_last = t_first = 0;
		for (got = 0; got < FAN_SUBS || t_ans == 0;) {
			n = epoll_wait(epfd, evs, 256, 10000);
			if (n == 0) {
				fprintf(stderr, "bench: fanout-1k: %d of %d "
				    "events in 10 s\n", got, FAN_SUBS);
				exit(1);
			}
			for (j = 0; j < n; j++) {
				i = (int)evs[j].data.u32;
				while (rc_next(i < FAN_SUBS ? &subs[i] : &snd,
				    &u)) {
					uint64_t t = now_ns();

					if (i == FAN_SUBS) {
						t_ans = t;
						errs += answer_failed(&u.data);
					} else if (msg_kind(&u.data) == 2 &&
					    subs[i].round != round) {
						subs[i].round = round;
						got++;
						t_last = t;
						if (t_first == 0)
							t_first = t;
					}
				}
			}
		}
		from_ans[round - 1] = t_last > t_ans ? t_last - t_ans : 0;
		from_send[round - 1] = t_last - snd.t;
		first[round - 1] = t_first > t_ans ? t_first - t_ans : 0;
	}
	sort_u64(from_ans, FAN_ROUNDS);
	sort_u64(from_send, FAN_ROUNDS);
	sort_u64(first, FAN_ROUNDS);
	printf("case=fanout-1k subscribers=%d feed=member rounds=%d "
	    "last_after_answer_p50=%.3fms last_after_answer_max=%.3fms "
	    "last_after_send_p50=%.3fms last_after_send_max=%.3fms "
	    "first_after_answer_p50=%.3fms target_ms=50 errors=%d\n",
	    FAN_SUBS, FAN_ROUNDS, from_ans[FAN_ROUNDS / 2] / 1e6,
	    from_ans[FAN_ROUNDS - 1] / 1e6, from_send[FAN_ROUNDS / 2] / 1e6,
	    from_send[FAN_ROUNDS - 1] / 1e6, first[FAN_ROUNDS / 2] / 1e6, errs);
	if (errs > 0)
		fprintf(stderr, "bench: fanout-1k: first error: %s\n",
		    first_error);
	first_error[0] = '\0';
	fflush(stdout);
	close(epfd);
	for (i = 0; i < FAN_SUBS; i++)
		rc_close(&subs[i]);
	rc_close(&snd);
	free(subs);
	msgpack_unpacked_destroy(&u);
	dproc_stop(&d);
}

/* Runs mkstore DIR N [NOW EXPIRES_IN] (a new store): the invitations it
 * made, with its line on stderr. */
static uint64_t
mkstore(const char *dir, uint64_t n, int64_t now, uint64_t expires_in)
{
	char cmd[1400], line[256];
	uint64_t sent = 0;
	FILE *p;

	snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s' && "
	    "'%s/tests/bench/mkstore' '%s' %" PRIu64, dir, dir, build_dir, dir,
	    n);
	if (now != 0)
		snprintf(cmd + strlen(cmd), sizeof cmd - strlen(cmd),
		    " %" PRId64 " %" PRIu64, now, expires_in);
	snprintf(cmd + strlen(cmd), sizeof cmd - strlen(cmd), " 2>/dev/null");
	fprintf(stderr, "bench: building a store of %" PRIu64
	    " invitations in %s\n", n, dir);
	if ((p = popen(cmd, "r")) == NULL)
		die("popen");
	while (fgets(line, sizeof line, p) != NULL) {
		fprintf(stderr, "bench: mkstore: %s", line);
		sscanf(line, "sent=%" SCNu64, &sent);
	}
	if (pclose(p) != 0 || sent == 0) {
		fprintf(stderr, "bench: mkstore %s failed\n", dir);
		exit(1);
	}
	return sent;
}

#define T_VIRTUAL 1767225600	/* 2026-01-01 00:00 UTC */

/* expire-1m: N invitations all due in the same second (the virtual
 * clock); one clock.advance past it; the time until server.info counts
 * none pending, while one reader does gets (one in flight) throughout. */
static void
case_expire(void)
{
	struct epoll_event ev, evs[8];
	struct rc ctl, rd, pl;
	struct dproc d;
	msgpack_unpacked u;
	char store[600];
	const char *e = getenv("BENCH_EXPIRE_N");
	uint64_t n = e != NULL && atoll(e) > 0 ? (uint64_t)atoll(e) : 1000000,
	    sent, pending0 = 0, expired = 0, t0, t_adv = 0, t_done = 0, t,
	    gets = 0, polls = 0, *lat = NULL, lcap = 0;
	double base_p50 = 0, base_p99 = 0;
	int i, k, errs = 0, phase = 0;

	snprintf(store, sizeof store, "%s/expire-store", work_dir);
	sent = mkstore(store, n, T_VIRTUAL, 86400);
	dproc_start(&d, "expire", store, "", T_VIRTUAL);
	dproc_ready(&d, 120);
	msgpack_unpacked_init(&u);
	rc_open(&ctl, d.sock);
	rc_req(&ctl, "server.info", 0);
	rc_flush(&ctl);
	rc_wait(&ctl, &u, 30);
	if (answer_failed(&u.data))
		errs++;
	else
		pending0 = muint(mget(mget(&u.data.via.array.ptr[3], "counts"),
		    "pending"));
	rc_open(&rd, d.sock);
	rc_open(&pl, d.sock);
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		die("epoll_create1");
	ev.events = EPOLLIN;
	ev.data.ptr = &ctl;
	epoll_ctl(epfd, EPOLL_CTL_ADD, ctl.fd, &ev);
	ev.data.ptr = &rd;
	epoll_ctl(epfd, EPOLL_CTL_ADD, rd.fd, &ev);
	ev.data.ptr = &pl;
	epoll_ctl(epfd, EPOLL_CTL_ADD, pl.fd, &ev);
	/* The reader alone for a second (phase 0): its latency before; then
	 * the advance and the polls (phase 1) until all are expired and the
	 * advance is answered. */
	lcap = 65536;
	if ((lat = malloc(lcap * sizeof *lat)) == NULL)
		die("malloc");
	pk_str(rc_req(&rd, "invite.get", 1), "id");
	msgpack_pack_uint64(&rd.pk, 1 + xrand() % sent);
	rc_flush(&rd);
	t0 = now_ns() + 1000000000u;
	/* Until every get written before the end has been answered (one
	 * stalled by the expiry counts with its whole wait). */
	while (phase == 0 || t_done == 0 || t_adv == 0 ||
	    rd.t < (t_done > t_adv ? t_done : t_adv)) {
		k = epoll_wait(epfd, evs, 8, 100);
		for (i = 0; i < k; i++) {
			struct rc *r = evs[i].data.ptr;

			while (rc_next(r, &u)) {
				t = now_ns();
				if (r == &rd) {
					uint64_t us = (t - rd.t) / 1000;

					errs += answer_failed(&u.data);
					if (gets == lcap) {
						lcap *= 2;
						lat = realloc(lat, lcap *
						    sizeof *lat);
						if (lat == NULL)
							die("realloc");
					}
					lat[gets++] = us;
					pk_str(rc_req(&rd, "invite.get", 1),
					    "id");
					msgpack_pack_uint64(&rd.pk,
					    1 + xrand() % sent);
					rc_flush(&rd);
				} else if (r == &ctl) {
					errs += answer_failed(&u.data);
					t_adv = t;
				} else {
					const msgpack_object *c;

					polls++;
					if (answer_failed(&u.data)) {
						errs++;
						continue;
					}
					c = mget(&u.data.via.array.ptr[3],
					    "counts");
					expired = muint(mget(c, "expired"));
					if (muint(mget(c, "pending")) == 0 &&
					    muint(mget(c, "ignored")) == 0) {
						t_done = t;
						continue;
					}
					rc_req(&pl, "server.info", 0);
					rc_flush(&pl);
				}
			}
		}
		if (phase == 0 && now_ns() >= t0) {
			sort_u64(lat, (int)gets);
			base_p50 = lat[gets / 2] / 1000.0;
			base_p99 = lat[gets * 99 / 100] / 1000.0;
			gets = 0;
			pk_str(rc_req(&ctl, "clock.advance", 1), "seconds");
			msgpack_pack_uint64(&ctl.pk, 86400 + 1);
			rc_flush(&ctl);
			t0 = ctl.t;
			rc_req(&pl, "server.info", 0);
			rc_flush(&pl);
			phase = 1;
		}
		if (phase == 1 && now_ns() > t0 + 600 * 1000000000ull) {
			fprintf(stderr, "bench: expire-1m: not all expired "
			    "600 s after the advance\n");
			break;
		}
	}
	if (gets == 0)	/* only after the 600 s above */
		lat[gets++] = (now_ns() - rd.t) / 1000;
	sort_u64(lat, (int)gets);
	printf("case=expire-1m n=%" PRIu64 " pending_before=%" PRIu64
	    " expired=%" PRIu64 " advance_answer=%.3fs all_expired=%.3fs "
	    "polls=%" PRIu64 " reader_gets=%" PRIu64 " reader_p50=%.3fms "
	    "reader_p99=%.3fms reader_max=%.3fms reader_before_p50=%.3fms "
	    "reader_before_p99=%.3fms target_all_expired=10s "
	    "target_reader_p99=10ms errors=%d\n", sent, pending0, expired,
	    t_adv ? (t_adv - t0) / 1e9 : -1.0,
	    t_done ? (t_done - t0) / 1e9 : -1.0, polls, gets,
	    lat[gets / 2] / 1000.0, lat[gets * 99 / 100] / 1000.0,
	    lat[gets - 1] / 1000.0,
	    base_p50, base_p99, errs);
	free(lat);
	if (errs > 0)
		fprintf(stderr, "bench: expire-1m: first error: %s\n",
		    first_error);
	first_error[0] = '\0';
	fflush(stdout);
	close(epfd);
	rc_close(&ctl);
	rc_close(&rd);
	rc_close(&pl);
	msgpack_unpacked_destroy(&u);
	dproc_stop(&d);
}


/* The store of n invitations in dir, built by mkstore unless reuse and
 * a run before completed it: the number of invitations it holds is in
 * dir/complete, written last. *build_s: the seconds spent building (0:
 * reused). */
static uint64_t
store_built(const char *dir, uint64_t n, bool reuse, double *build_s)
{
	char mark[700];
	uint64_t sent = 0, t;
	FILE *f;

	snprintf(mark, sizeof mark, "%s/complete", dir);
	*build_s = 0;
	if (reuse && (f = fopen(mark, "r")) != NULL) {
		if (fscanf(f, "%" SCNu64, &sent) != 1)
			sent = 0;
		fclose(f);
		if (sent > 0) {
			fprintf(stderr, "bench: reusing %s (%" PRIu64
			    " invitations when built)\n", dir, sent);
			return sent;
		}
	}
	t = now_ns();
	sent = mkstore(dir, n, 0, 0);
	*build_s = (now_ns() - t) / 1e9;
	if ((f = fopen(mark, "w")) == NULL)
		die(mark);
	fprintf(f, "%" PRIu64 "\n", sent);
	fclose(f);
	return sent;
}

/* big-store's store of n invitations under base, kept for the next run:
 * base/inv-N, built when missing or 13 days old (14 days after the sends
 * their stale reminders fall due, and a start would handle them all). */
static uint64_t
kept_store(const char *base, uint64_t n, char *dir, size_t len,
    double *build_s)
{
	char mark[700];
	struct stat st;

	snprintf(dir, len, "%s/inv-%" PRIu64, base, n);
	snprintf(mark, sizeof mark, "%s/complete", dir);
	return store_built(dir, n, stat(mark, &st) == 0 &&
	    time(NULL) - st.st_mtime < 13 * 86400, build_s);
}

/* big-store (opt-in): connreqd on a store of BENCH_BIG_N (10,000,000)
 * invitations: the time from its exec to its first answered read, its
 * memory outside the store's map, and gets at 16 x 64 against the same on
 * a store of 100,000 (A/B, BENCH_REPS times, after one untimed block
 * each to warm both). */
static void
case_big(void)
{
	const char *e = getenv("BENCH_BIG_N"), *base = getenv("BENCH_BIG_DIR");
	const char *sv_sock = connreq_sock, *sv_counts = connreq_counts;
	uint64_t n = e != NULL && atoll(e) > 0 ? (uint64_t)atoll(e) : 10000000,
	    nb, ns, sv_max = max_id, rb, rs, errs = 0;
	double bbuild, sbuild, a[16], ap50[16], ap99[16], b[16];
	long rss_ready, map_ready, rss, map, srss, smap;
	char bdir[600], sdir[600], path[700];
	struct dproc big, small;
	struct result r;
	struct stat st;
	int i, k;

	if (base == NULL || *base == '\0')
		base = "build/bench-big";
	ns = kept_store(base, 100000, sdir, sizeof sdir, &sbuild);
	nb = kept_store(base, n, bdir, sizeof bdir, &bbuild);
	dproc_start(&big, "big", bdir, "", 0);
	rb = dproc_ready(&big, 600) - big.t_exec;
	rss_ready = vmrss_kb(big.pid);
	map_ready = store_rss_kb(big.pid);
	dproc_start(&small, "small", sdir, "", 0);
	rs = dproc_ready(&small, 60) - small.t_exec;
	connreq_counts = NULL;
	for (i = -1; i < reps; i++)
		for (k = 0; k < 2; k++) {
			connreq_sock = k == 0 ? big.sock : small.sock;
			max_id = k == 0 ? nb : ns;
			r = drive(PR_CONNREQ, OP_GET, 16, 64, 0, seconds, 0);
			if (i < 0)
				continue;	/* the warm-up */
			errs += r.errors;
			if (k == 0)
				a[i] = r.rate, ap50[i] = r.p50, ap99[i] = r.p99;
			else
				b[i] = r.rate;
		}
	rss = vmrss_kb(big.pid);
	map = store_rss_kb(big.pid);
	srss = vmrss_kb(small.pid);
	smap = store_rss_kb(small.pid);
	snprintf(path, sizeof path, "%s/data.mdb", bdir);
	if (stat(path, &st) == -1)
		memset(&st, 0, sizeof st);
	printf("case=big-store n=%" PRIu64 " store_file=%.0fMiB "
	    "build=%.0fs ready=%.1fms rss_ready=%ldKiB store_rss_ready=%ldKiB "
	    "outside_map_ready=%ldKiB rss=%ldKiB store_rss=%ldKiB "
	    "outside_map=%ldKiB conns=16 depth=64 get=%.0f/s "
	    "get_range=%.0f..%.0f get_p50=%.3fms get_p99=%.3fms "
	    "small_n=%" PRIu64 " small_ready=%.1fms small_outside_map=%ldKiB "
	    "small_get=%.0f/s small_range=%.0f..%.0f ratio=%.2f "
	    "target_ready=200ms target_outside_map=65536KiB target_ratio=0.8 "
	    "errors=%" PRIu64 "\n", nb, st.st_size / 1048576.0,
	    bbuild + sbuild, rb / 1e6, rss_ready, map_ready,
	    rss_ready - map_ready, rss, map, rss - map, median(a, reps),
	    minv(a, reps), maxv(a, reps), median(ap50, reps),
	    median(ap99, reps), ns, rs / 1e6, srss - smap, median(b, reps),
	    minv(b, reps), maxv(b, reps), median(a, reps) / median(b, reps),
	    errs);
	if (errs > 0)
		fprintf(stderr, "bench: big-store: first error: %s\n",
		    first_error);
	first_error[0] = '\0';
	fflush(stdout);
	connreq_sock = sv_sock;
	connreq_counts = sv_counts;
	max_id = sv_max;
	dproc_stop(&big);
	dproc_stop(&small);
}

/* ---- capacity (opt-in, issue 11's capacity model): for each size of
 * BENCH_CAP_N (1000000,10000000), the same store of N invitations on
 * LMDB and on PostgreSQL, and what it takes and serves. The LMDB store is
 * mkstore's (BENCH_BIG_DIR/cap-N, built anew; BENCH_CAP_REUSE=1 takes the
 * last run's). The PostgreSQL one is copied from it after the LMDB
 * daemon's sends (connreqd --copy-store, into database capacity_N of the
 * bench's cluster, made anew each run): 7,500 invitations a second where
 * mkstore on PostgreSQL makes 290 (a round trip per store call, a commit
 * per 100 sends). Bytes are measured before any request on that backend:
 * LMDB's pages in use per database (mdb_stat: branch, leaf and overflow
 * pages x the page size), PostgreSQL's pg_table_size + pg_indexes_size
 * per table after VACUUM ANALYZE. Then connreqd on each, 16 connections
 * x 1: gets of ids uniform over the store (one untimed block first), then
 * sends of pairs no earlier run made. ---- */

/* The event tables (per event); every other table counts per invitation
 * (the record, its index rows, pair, deadlines, logs, member record). */
static int
event_table(const char *name)
{
	return strcmp(name, "events") == 0 ||
	    strcmp(name, "member_events") == 0 ||
	    strcmp(name, "member_pruned") == 0;
}

struct csize {
	uint64_t invs, events;	/* rows of invitations and of events */
	uint64_t inv_bytes, ev_bytes;	/* of the tables counted per each */
	uint64_t disk;		/* the store on disk */
	uint64_t used, free, file;	/* LMDB: up to the last page in use,
					 * pages on the free list, the data
					 * file (bytes) */
	char split[1024];	/* name:bytes per row, each table */
};

static void
split_add(struct csize *z, const char *name, uint64_t bytes)
{
	uint64_t rows = event_table(name) ? z->events : z->invs;
	size_t l = strlen(z->split);

	if (bytes == 0)
		return;
	snprintf(z->split + l, sizeof z->split - l, "%s%s:%.1f",
	    l ? "," : "", name, rows ? (double)bytes / rows : 0.0);
}

/* The LMDB store in dir (stopped): every named database of its main
 * one, whatever the layout. */
static int
lmdb_sizes(const char *dir, struct csize *z)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_dbi dbi;
	MDB_stat st;
	MDB_envinfo ei;
	MDB_val k, v;
	char name[128], names[32][128], path[700];
	uint64_t bytes[32];
	struct stat fs;
	int i, n = 0;
	const char *files[] = { "data.mdb", "wal", "lock.mdb" };

	memset(z, 0, sizeof *z);
	if (mdb_env_create(&env) != 0 || mdb_env_set_maxdbs(env, 64) != 0 ||
	    mdb_env_open(env, dir, MDB_RDONLY | MDB_NOTLS, 0600) != 0) {
		fprintf(stderr, "bench: capacity: %s: cannot open\n", dir);
		return -1;
	}
	if (mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) != 0) {
		mdb_env_close(env);
		return -1;
	}
	mdb_env_info(env, &ei);
	mdb_env_stat(env, &st);
	z->used = (uint64_t)(ei.me_last_pgno + 1) * st.ms_psize;
	/* LMDB's free list (database 0): each value a list of free pages,
	 * its first word their number. */
	if (mdb_cursor_open(txn, 0, &cur) == 0) {
		while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0)
			if (v.mv_size >= sizeof(size_t))
				z->free += *(const size_t *)v.mv_data *
				    st.ms_psize;
		mdb_cursor_close(cur);
	}
	if (mdb_dbi_open(txn, NULL, 0, &dbi) != 0 ||
	    mdb_cursor_open(txn, dbi, &cur) != 0) {
		mdb_txn_abort(txn);
		mdb_env_close(env);
		return -1;
	}
	while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0 && n < 32) {
		snprintf(name, sizeof name, "%.*s", (int)k.mv_size,
		    (char *)k.mv_data);
		if (mdb_dbi_open(txn, name, 0, &dbi) != 0)
			continue;	/* a key of the main database */
		mdb_stat(txn, dbi, &st);
		snprintf(names[n], sizeof names[n], "%s", name);
		bytes[n] = (uint64_t)(st.ms_branch_pages + st.ms_leaf_pages +
		    st.ms_overflow_pages) * st.ms_psize;
		if (strcmp(name, "invitations") == 0)
			z->invs = st.ms_entries;
		if (strcmp(name, "events") == 0)
			z->events = st.ms_entries;
		n++;
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	for (i = 0; i < n; i++) {
		if (event_table(names[i]))
			z->ev_bytes += bytes[i];
		else
			z->inv_bytes += bytes[i];
		split_add(z, names[i], bytes[i]);
	}
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		if (stat(path, &fs) == 0) {
			z->disk += (uint64_t)fs.st_blocks * 512;
			if (i == 0)
				z->file = (uint64_t)fs.st_size;
		}
	}
	return 0;
}

static const char *pg_admin;	/* --pg-admin: the bench's cluster */

static PGresult *
pg_exec(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);

	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK) {
		fprintf(stderr, "bench: capacity: %s: %s", sql,
		    PQerrorMessage(c));
		exit(1);
	}
	return r;
}

static PGconn *
pg_connect(const char *conninfo)
{
	PGconn *c = PQconnectdb(conninfo);

	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "bench: capacity: %s: %s", conninfo,
		    PQerrorMessage(c));
		exit(1);
	}
	return c;
}

/* The database conninfo names (no connreqd on it): each table of the
 * public schema with its indexes and TOAST, after VACUUM ANALYZE (as
 * autovacuum would leave it); the rows of invitations and events
 * counted. *vacuum_s: the seconds VACUUM ANALYZE took. */
static void
pg_sizes(const char *conninfo, struct csize *z, double *vacuum_s)
{
	PGconn *c = pg_connect(conninfo);
	PGresult *r;
	uint64_t t = now_ns(), b;
	int i;

	memset(z, 0, sizeof *z);
	PQclear(pg_exec(c, "VACUUM ANALYZE"));
	*vacuum_s = (now_ns() - t) / 1e9;
	r = pg_exec(c, "SELECT (SELECT count(*) FROM invitations), "
	    "(SELECT count(*) FROM events), "
	    "pg_database_size(current_database())");
	z->invs = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	z->events = strtoull(PQgetvalue(r, 0, 1), NULL, 10);
	z->disk = strtoull(PQgetvalue(r, 0, 2), NULL, 10);
	PQclear(r);
	r = pg_exec(c, "SELECT c.relname, pg_table_size(c.oid) + "
	    "pg_indexes_size(c.oid) FROM pg_class c JOIN pg_namespace n ON "
	    "n.oid = c.relnamespace WHERE n.nspname = 'public' AND "
	    "c.relkind = 'r' ORDER BY c.relname");
	for (i = 0; i < PQntuples(r); i++) {
		b = strtoull(PQgetvalue(r, i, 1), NULL, 10);
		if (event_table(PQgetvalue(r, i, 0)))
			z->ev_bytes += b;
		else
			z->inv_bytes += b;
		split_add(z, PQgetvalue(r, i, 0), b);
	}
	PQclear(r);
	PQfinish(c);
}

/* connreqd --copy-store from to: its seconds. */
static double
copy_store(const char *from, const char *to)
{
	char cmd[2048], line[256];
	double s = -1;
	FILE *p;

	snprintf(cmd, sizeof cmd, "'%s/bin/connreqd' --copy-store '%s' '%s' "
	    "2>&1", build_dir, from, to);
	fprintf(stderr, "bench: copying %s to PostgreSQL\n", from);
	if ((p = popen(cmd, "r")) == NULL)
		die("popen");
	while (fgets(line, sizeof line, p) != NULL) {
		const char *in = strstr(line, "records in ");

		if (in != NULL)
			sscanf(in, "records in %lf", &s);
	}
	if (pclose(p) != 0 || s < 0) {
		fprintf(stderr, "bench: capacity: %s failed\n", cmd);
		exit(1);
	}
	return s;
}

/* Gets, then sends, 16 x 1, on connreqd at sock over n invitations:
 * medians of BENCH_REPS blocks. */
static void
cap_drive(const char *sock, uint64_t n, struct result *get,
    struct result *snd, double *get_range, double *snd_range, double *load)
{
	const char *sv_sock = connreq_sock, *sv_counts = connreq_counts;
	uint64_t sv_max = max_id, sv_seq = send_seq;
	double g[16], gp50[16], s[16], sp50[16];
	struct result r;
	int i;

	connreq_sock = sock;
	connreq_counts = NULL;
	drive_nsocks = 0;
	max_id = n;
	/* Pairs no store has had: a sequence far past mkstore's, from the
	 * time (a reused store has earlier runs' sends). */
	send_seq = ((uint64_t)time(NULL) << 20) + n;
	memset(get, 0, sizeof *get);
	memset(snd, 0, sizeof *snd);
	*load = loadavg();
	drive(PR_CONNREQ, OP_GET, 16, 1, 0, seconds, 0);	/* warm-up */
	for (i = 0; i < reps; i++) {
		r = drive(PR_CONNREQ, OP_GET, 16, 1, 0, seconds, 0);
		g[i] = r.rate, gp50[i] = r.p50;
		get->errors += r.errors;
	}
	for (i = 0; i < reps; i++) {
		r = drive(PR_CONNREQ, OP_SEND, 16, 1, 0, seconds, 0);
		s[i] = r.rate, sp50[i] = r.p50;
		snd->errors += r.errors;
	}
	get->rate = median(g, reps), get->p50 = median(gp50, reps);
	snd->rate = median(s, reps), snd->p50 = median(sp50, reps);
	get_range[0] = minv(g, reps), get_range[1] = maxv(g, reps);
	snd_range[0] = minv(s, reps), snd_range[1] = maxv(s, reps);
	connreq_sock = sv_sock;
	connreq_counts = sv_counts;
	max_id = sv_max;
	send_seq = sv_seq;
}

static void
cap_print(const char *backend, uint64_t n, const struct csize *z,
    double build, const char *built_by, const struct result *get,
    const struct result *snd, const double *gr, const double *sr,
    double load)
{
	printf("case=capacity backend=%s n=%" PRIu64 " invitations=%" PRIu64
	    " events=%" PRIu64 " bytes_per_inv=%.1f bytes_per_event=%.1f "
	    "disk=%.1fMiB", backend, n, z->invs, z->events,
	    z->invs ? (double)z->inv_bytes / z->invs : 0.0,
	    z->events ? (double)z->ev_bytes / z->events : 0.0,
	    z->disk / 1048576.0);
	if (z->file)
		printf(" used=%.1fMiB free=%.1fMiB file=%.1fMiB",
		    z->used / 1048576.0, z->free / 1048576.0,
		    z->file / 1048576.0);
	printf(" build=%.0fs built_by=%s conns=16 depth=1 sends=%.0f/s "
	    "send_range=%.0f..%.0f send_p50=%.3fms gets=%.0f/s "
	    "get_range=%.0f..%.0f get_p50=%.3fms load=%.2f split=%s "
	    "errors=%" PRIu64 "\n", build, built_by, snd->rate, sr[0], sr[1],
	    snd->p50, get->rate, gr[0], gr[1], get->p50, load, z->split,
	    get->errors + snd->errors);
	if (get->errors + snd->errors > 0)
		fprintf(stderr, "bench: capacity: first error: %s\n",
		    first_error);
	first_error[0] = '\0';
	fflush(stdout);
}

/* capacity's LMDB store of n invitations, base/cap-N: built anew by
 * mkstore each run (the figures are of the store the code at hand lays
 * out), or with BENCH_CAP_REUSE=1 the one a run before built, as it is
 * (with that run's sends: invitations= counts them). */
static uint64_t
cap_store(const char *base, uint64_t n, char *dir, size_t len, double *build)
{
	const char *e = getenv("BENCH_CAP_REUSE");

	snprintf(dir, len, "%s/cap-%" PRIu64, base, n);
	return store_built(dir, n, e != NULL && strcmp(e, "1") == 0, build);
}

static void
case_capacity(void)
{
	const char *e = getenv("BENCH_CAP_N"), *base = getenv("BENCH_BIG_DIR");
	char list[256], dir[600], conninfo[800], sql[128], *p, *end;
	struct result lg, ls, pgg, pgs;
	double build, copy_s, vac_s, lgr[2], lsr[2], pgr[2], psr[2], ll, pl;
	struct csize lz, pz;
	struct dproc d;
	uint64_t n, sent;
	PGconn *c;

	if (pg_admin == NULL) {
		fprintf(stderr, "bench: capacity needs --pg-admin (bench.sh "
		    "starts a cluster)\n");
		return;
	}
	if (base == NULL || *base == '\0')
		base = "build/bench-big";
	snprintf(list, sizeof list, "%s",
	    e != NULL && *e != '\0' ? e : "1000000,10000000");
	for (p = list; *p != '\0'; p = *end == ',' ? end + 1 : end) {
		n = strtoull(p, &end, 10);
		if (end == p || (*end != ',' && *end != '\0')) {
			fprintf(stderr, "bench: BENCH_CAP_N: not a list of "
			    "numbers: %s\n", list);
			exit(2);
		}
		if (n == 0)
			continue;
		/* LMDB: the store, its pages before any request, then what
		 * connreqd serves on it (its line first: at 10,000,000 the
		 * copy below takes most of an hour). */
		sent = cap_store(base, n, dir, sizeof dir, &build);
		if (lmdb_sizes(dir, &lz) == -1)
			exit(1);
		dproc_start(&d, "cap-lmdb", dir, "", 0);
		dproc_ready(&d, 600);
		cap_drive(d.sock, sent, &lg, &ls, lgr, lsr, &ll);
		dproc_stop(&d);
		cap_print("lmdb", n, &lz, build, build > 0 ? "mkstore" :
		    "reused", &lg, &ls, lgr, lsr, ll);
		/* PostgreSQL: a new database, the same store copied in (with
		 * the sends just made: invitations= counts them). */
		c = pg_connect(pg_admin);
		snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS capacity_%"
		    PRIu64, n);
		PQclear(pg_exec(c, sql));
		snprintf(sql, sizeof sql, "CREATE DATABASE capacity_%" PRIu64,
		    n);
		PQclear(pg_exec(c, sql));
		PQfinish(c);
		snprintf(conninfo, sizeof conninfo, "%s dbname=capacity_%"
		    PRIu64, pg_admin, n);
		copy_s = copy_store(dir, conninfo);
		pg_sizes(conninfo, &pz, &vac_s);
		dproc_start(&d, "cap-pg", conninfo, "", 0);
		dproc_ready(&d, 600);
		cap_drive(d.sock, sent, &pgg, &pgs, pgr, psr, &pl);
		dproc_stop(&d);
		cap_print("postgresql", n, &pz, copy_s + vac_s,
		    "copy-store+vacuum", &pgg, &pgs, pgr, psr, pl);
	}
}

/* ---- mutual-10k (issue 12): mutual connections of members with 10,000
 * connections each, on the store mkstore --mutual makes (see
 * tests/bench/mkstore.c: ma and mb share a run of 5,000; za and zb share
 * 10 interleaved through both lists, the leapfrog's worst; sm has 10, none
 * of them mb's; invitations 1 ma -> mb, 2 za -> zb, 3 sm -> mb). Built
 * anew each run on LMDB, then copied (connreqd --copy-store) into database
 * mutual_10k of the bench's PostgreSQL cluster when there is one. On each,
 * one connection, one request in flight, each request shape for
 * BENCH_SECONDS (at most 5,000 times): its rate and latencies. Every
 * answer is checked (the counts the store holds), a wrong one is an
 * error. ---- */

#define MUTUAL_N 10000

struct mreq {
	const char *label;
	const char *method;	/* connection.mutual or invite.get */
	const char *a, *b;	/* connection.mutual */
	uint64_t limit;		/* connection.mutual; 0: a walk of pages of 1000 */
	uint64_t id;		/* invite.get */
	const char *actor;
	int64_t want;		/* items (the walk: all of them) or mutual_count
				 * (-1: none in the view) */
};

static const struct mreq mreqs[] = {
	{ "page50_run", "connection.mutual", "ma", "mb", 50, 0, NULL, 50 },
	{ "page50_interleaved", "connection.mutual", "za", "zb", 50, 0, NULL,
	    10 },
	{ "page50_small", "connection.mutual", "sm", "mb", 50, 0, NULL, 0 },
	{ "walk_run", "connection.mutual", "ma", "mb", 0, 0, NULL,
	    MUTUAL_N / 2 },
	{ "get_capped", "invite.get", NULL, NULL, 0, 1, "mb", 1000 },
	{ "get_interleaved", "invite.get", NULL, NULL, 0, 2, "zb", 10 },
	{ "get_small", "invite.get", NULL, NULL, 0, 3, "mb", 0 },
	{ "get_sender", "invite.get", NULL, NULL, 0, 1, "ma", -1 },
};

/* One request of q (after: the page's cursor, NULL: the first) and its
 * answer: the items, or mutual_count (-1: none), in *got; *next the
 * cursor of the next page ("" at the end). 0, or -1 on an error. */
static int
mutual_one(struct rc *r, const struct mreq *q, const char *after,
    int64_t *got, char *next, size_t nlen)
{
	msgpack_unpacked u;
	const msgpack_object *res, *o;
	msgpack_packer *pk;
	int rc = 0;

	if (q->id != 0) {
		pk = rc_req(r, q->method, 2);
		pk_str(pk, "id");
		msgpack_pack_uint64(pk, q->id);
		pk_str(pk, "actor");
		pk_str(pk, q->actor);
	} else {
		pk = rc_req(r, q->method, 3 + (after != NULL));
		pk_str(pk, "a");
		pk_str(pk, q->a);
		pk_str(pk, "b");
		pk_str(pk, q->b);
		pk_str(pk, "limit");
		msgpack_pack_uint64(pk, q->limit ? q->limit : 1000);
		if (after != NULL) {
			pk_str(pk, "after");
			pk_str(pk, after);
		}
	}
	rc_flush(r);
	msgpack_unpacked_init(&u);
	rc_wait(r, &u, 60);
	next[0] = '\0';
	*got = -1;
	if (answer_failed(&u.data))
		rc = -1;
	else {
		res = &u.data.via.array.ptr[3];
		if (q->id != 0) {
			o = mget(mget(res, "invitation"), "mutual_count");
			*got = o != NULL ? (int64_t)muint(o) : -1;
		} else {
			o = mget(res, "items");
			*got = o != NULL && o->type == MSGPACK_OBJECT_ARRAY ?
			    (int64_t)o->via.array.size : -1;
			o = mget(res, "next");
			if (o != NULL && o->type == MSGPACK_OBJECT_STR)
				snprintf(next, nlen, "%.*s",
				    (int)o->via.str.size, o->via.str.ptr);
		}
	}
	msgpack_unpacked_destroy(&u);
	return rc;
}

static void
case_mutual_on(const char *backend, const char *sock)
{
	uint64_t lat[5000], t0, t, end, errs = 0;
	char next[80], cur[80];
	int64_t got, total;
	struct rc r;
	size_t i;
	int k, n;

	rc_open(&r, sock);
	printf("case=mutual-10k backend=%s n=%d", backend, MUTUAL_N);
	for (i = 0; i < sizeof mreqs / sizeof mreqs[0]; i++) {
		const struct mreq *q = &mreqs[i];

		t0 = now_ns();
		end = t0 + (uint64_t)(seconds * 1e9);
		for (n = 0; n < 5000 && (n == 0 || now_ns() < end); n++) {
			t = now_ns();
			total = 0;
			cur[0] = '\0';
			for (k = 0; k < 64; k++) {
				if (mutual_one(&r, q, cur[0] ? cur : NULL,
				    &got, next, sizeof next) == -1) {
					errs++;
					break;
				}
				total = q->id != 0 ? got : total + got;
				if (q->limit != 0 || q->id != 0 ||
				    next[0] == '\0')
					break;
				snprintf(cur, sizeof cur, "%s", next);
			}
			if (total != q->want) {
				if (first_error[0] == '\0')
					snprintf(first_error,
					    sizeof first_error,
					    "%s: %lld, not %lld", q->label,
					    (long long)total,
					    (long long)q->want);
				errs++;
			}
			lat[n] = now_ns() - t;
		}
		t = now_ns() - t0;
		sort_u64(lat, n);
		printf(" %s=%.0f/s %s_p50=%.3fms %s_p99=%.3fms", q->label,
		    n / (t / 1e9), q->label, lat[n / 2] / 1e6, q->label,
		    lat[(n * 99) / 100] / 1e6);
	}
	printf(" errors=%" PRIu64 "\n", errs);
	if (errs > 0)
		fprintf(stderr, "bench: mutual-10k: first error: %s\n",
		    first_error);
	first_error[0] = '\0';
	fflush(stdout);
	rc_close(&r);
}

static void
case_mutual(void)
{
	char dir[600], cmd[2600], line[256], conninfo[800];
	struct dproc d;
	FILE *p;
	PGconn *c;

	snprintf(dir, sizeof dir, "%s/mutual-store", work_dir);
	snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s' && "
	    "'%s/tests/bench/mkstore' '%s' --mutual %d 2>/dev/null", dir, dir,
	    build_dir, dir, MUTUAL_N);
	if ((p = popen(cmd, "r")) == NULL)
		die("popen");
	while (fgets(line, sizeof line, p) != NULL)
		fprintf(stderr, "bench: mkstore --mutual: %s", line);
	if (pclose(p) != 0) {
		fprintf(stderr, "bench: mkstore --mutual failed\n");
		exit(1);
	}
	dproc_start(&d, "mutual-lmdb", dir, "", 0);
	dproc_ready(&d, 60);
	case_mutual_on("lmdb", d.sock);
	dproc_stop(&d);
	if (pg_admin == NULL)
		return;
	c = pg_connect(pg_admin);
	PQclear(pg_exec(c, "DROP DATABASE IF EXISTS mutual_10k"));
	PQclear(pg_exec(c, "CREATE DATABASE mutual_10k"));
	PQfinish(c);
	snprintf(conninfo, sizeof conninfo, "%s dbname=mutual_10k", pg_admin);
	copy_store(dir, conninfo);
	c = pg_connect(conninfo);
	PQclear(pg_exec(c, "VACUUM ANALYZE"));
	PQfinish(c);
	dproc_start(&d, "mutual-pg", conninfo, "", 0);
	dproc_ready(&d, 60);
	case_mutual_on("postgresql", d.sock);
	dproc_stop(&d);
}

/* import-1m (issue 13): BENCH_IMPORT_N (1000000) connections, a JSON
 * line each, imported by `connreq import` into a new LMDB store: the
 * wall time of the command, rows/s, then its check that every row came
 * in (and a second run: all duplicates). Target: under a minute. */
static void
case_import(void)
{
	struct dproc d;
	char file[600], cmd[2048], out[256];
	const char *e = getenv("BENCH_IMPORT_N");
	uint64_t n = e != NULL && atoll(e) > 0 ? (uint64_t)atoll(e) : 1000000,
	    i, t0, t1, t2, imported = 0, dups = 0, refused = 0;
	FILE *f;
	int errs = 0;

	snprintf(file, sizeof file, "%s/import.jsonl", work_dir);
	if ((f = fopen(file, "w")) == NULL)
		die(file);
	for (i = 0; i < n; i++)
		fprintf(f, "{\"id\": \"c%" PRIu64 "\", \"type\": \"connection\", "
		    "\"a\": \"m%" PRIu64 "\", \"b\": \"m%" PRIu64 "\", "
		    "\"since\": 1700000000}\n", i, i / 4, n + i);
	if (fclose(f) != 0)
		die(file);
	dproc_start(&d, "import", NULL, "", 0);
	dproc_ready(&d, 60);
	snprintf(cmd, sizeof cmd, "CONNREQ_SOCKET='%s' '%s/bin/connreq' import "
	    "'%s' 2>&1", d.sock, build_dir, file);
	t0 = now_ns();
	if ((f = popen(cmd, "r")) == NULL)
		die("popen");
	while (fgets(out, sizeof out, f) != NULL)
		if (sscanf(out, "%" SCNu64 " imported, %" SCNu64 " duplicates, "
		    "%" SCNu64 " refused", &imported, &dups, &refused) != 3)
			errs++;
	errs += pclose(f) != 0;
	t1 = now_ns();
	if ((f = popen(cmd, "r")) == NULL)
		die("popen");
	while (fgets(out, sizeof out, f) != NULL)
		if (sscanf(out, "%*u imported, %" SCNu64 " duplicates",
		    &dups) != 1)
			errs++;
	errs += pclose(f) != 0;
	t2 = now_ns();
	dproc_stop(&d);
	printf("case=import-1m n=%" PRIu64 " imported=%" PRIu64
	    " refused=%" PRIu64 " total=%.2fs rows_per_s=%.0f "
	    "rerun_duplicates=%" PRIu64 " rerun=%.2fs target_total=60s "
	    "errors=%d\n", n, imported, refused, (t1 - t0) / 1e9,
	    n / ((t1 - t0) / 1e9), dups, (t2 - t1) / 1e9,
	    errs + (imported != n));
	fflush(stdout);
	unlink(file);
}

struct xcase {
	const char *name;
	void (*run)(void);
	int opt_in;	/* only when BENCH_CASES names it; 1: or BENCH_BIG=1 */
};

static const struct xcase xcases[] = {
	{ "idle-10k", case_idle, 0 },
	{ "fanout-1k", case_fanout, 0 },
	{ "expire-1m", case_expire, 0 },
	{ "big-store", case_big, 1 },
	{ "capacity", case_capacity, 2 },
	{ "mutual-10k", case_mutual, 0 },
	{ "import-1m", case_import, 0 },
};

static int
xwanted(const struct xcase *x)
{
	const char *sel = getenv("BENCH_CASES"), *big = getenv("BENCH_BIG");

	if (x->opt_in)
		return (x->opt_in == 1 && big != NULL &&
		    strcmp(big, "1") == 0) ||
		    (sel != NULL && *sel != '\0' && wanted(x->name));
	return wanted(x->name);
}

/* Exits with a message when BENCH_CASES names a case there is not (a
 * typo would otherwise run nothing and print nothing). */
static void
check_selection(void)
{
	const char *sel = getenv("BENCH_CASES"), *p, *end;
	size_t i, n;
	int known;

	if (sel == NULL)
		return;
	for (p = sel; *p != '\0'; p = *end == ',' ? end + 1 : end) {
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		n = (size_t)(end - p);
		if (n == 0)
			continue;
		known = 0;
		for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
			known |= strlen(cases[i].name) == n &&
			    memcmp(cases[i].name, p, n) == 0;
		for (i = 0; i < sizeof xcases / sizeof xcases[0]; i++)
			known |= strlen(xcases[i].name) == n &&
			    memcmp(xcases[i].name, p, n) == 0;
		if (!known) {
			fprintf(stderr, "bench: no case %.*s in BENCH_CASES; the cases:", (int)n, p);
			for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
				fprintf(stderr, " %s", cases[i].name);
			for (i = 0; i < sizeof xcases / sizeof xcases[0]; i++)
				fprintf(stderr, " %s", xcases[i].name);
			fprintf(stderr, "\n");
			exit(2);
		}
	}
}

int
main(int argc, char **argv)
{
	const char *e;
	struct result r;
	struct rlimit rl;
	size_t i;
	int j, seed = 0;

	for (j = 1; j + 1 < argc; j += 2) {
		if (strcmp(argv[j], "--connreq") == 0)
			connreq_sock = argv[j + 1];
		else if (strcmp(argv[j], "--redis") == 0)
			redis_sock = argv[j + 1];
		else if (strcmp(argv[j], "--pgbench") == 0)
			pgbench_cmd = argv[j + 1];
		else if (strcmp(argv[j], "--pgbench-get") == 0)
			pgbench_get_cmd = argv[j + 1];
		else if (strcmp(argv[j], "--pgbench-same") == 0)
			pgbench_same_cmd = argv[j + 1];
		else if (strcmp(argv[j], "--pgstore") == 0) {
			pgstore_socks[0] = strdup(argv[j + 1]);
			if (pgstore_socks[0] == NULL)
				die("strdup");
			if ((pgstore_socks[1] = strchr(pgstore_socks[0], ','))
			    != NULL)
				*pgstore_socks[1]++ = '\0';
			else
				pgstore_socks[1] = pgstore_socks[0];
		}
		else if (strcmp(argv[j], "--pg-admin") == 0)
			pg_admin = argv[j + 1];
		else if (strcmp(argv[j], "--connreq-counts") == 0)
			connreq_counts = argv[j + 1];
		else if (strcmp(argv[j], "--redis-counts") == 0)
			redis_counts = argv[j + 1];
		else if (strcmp(argv[j], "--build") == 0)
			build_dir = argv[j + 1];
		else if (strcmp(argv[j], "--work") == 0)
			work_dir = argv[j + 1];
		else
			break;
	}
	if (connreq_sock == NULL || j < argc) {
		fprintf(stderr, "usage: bench --connreq SOCK [--redis SOCK] "
		    "[--pgbench CMD] [--pgbench-get CMD] [--pgbench-same CMD] "
		    "[--pgstore SOCK1,SOCK2] "
		    "[--pg-admin CONNINFO] [--connreq-counts FILE] "
		    "[--redis-counts FILE] [--build DIR --work DIR]\n");
		return 2;
	}
	check_selection();
	if ((e = getenv("BENCH_SECONDS")) != NULL && atof(e) > 0)
		seconds = atof(e);
	if ((e = getenv("BENCH_REPS")) != NULL && atoi(e) > 0)
		reps = atoi(e) > 15 ? 15 : atoi(e);
	hist = calloc(HIST_US, sizeof *hist);
	if (hist == NULL)
		die("calloc");
	/* idle-10k's connections: as many descriptors as the hard limit
	 * allows, for this process and the connreqd it starts. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	atexit(stop_all);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		seed |= wanted(cases[i].name);
	if (!seed)
		goto targets;
	/* invite.list's members: HEAVY members with HEAVY_SENDS sends each
	 * (under pending_warn: no warnings); and some keys and
	 * invitations for the gets, should no send case run first. */
	r = drive(PR_CONNREQ, OP_SEED, 16, 16, 0, 0,
	    (uint64_t)HEAVY * HEAVY_SENDS);
	fprintf(stderr, "bench: seeded %" PRIu64 " invitations for "
	    "invite.list (%.0f/s, %" PRIu64 " errors)\n", r.writes, r.rate,
	    r.errors);
	if (r.errors > 0)
		fprintf(stderr, "bench: first error: %s\n", first_error);
	first_error[0] = '\0';
	if (redis_sock != NULL)
		drive(PR_REDIS, OP_SEND, 16, 16, 0, 0, 12000);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (wanted(cases[i].name))
			run_case(&cases[i]);
targets:
	for (i = 0; i < sizeof xcases / sizeof xcases[0]; i++) {
		if (!xwanted(&xcases[i]))
			continue;
		if (build_dir == NULL || work_dir == NULL) {
			fprintf(stderr, "bench: %s needs --build and --work\n",
			    xcases[i].name);
			continue;
		}
		xcases[i].run();
	}
	return 0;
}
