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
 * Usage: bench --connreq SOCK [--redis SOCK] [--pgbench CMD]
 *              [--connreq-counts FILE] [--redis-counts FILE]
 * Environment: BENCH_SECONDS, BENCH_REPS, BENCH_CASES (comma-separated
 * case names; all when unset). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <msgpack.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../faults/journal.h"

enum { OP_SEND, OP_GET, OP_LIST, OP_MIX, OP_SEED };
enum { PR_CONNREQ, PR_REDIS };
enum { PEER_NONE, PEER_REDIS, PEER_PG, PEER_SELF };

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
drive_pg(int conns, double secs)
{
	struct result r;
	char cmd[2048], line[512];
	FILE *p;
	double v;

	memset(&r, 0, sizeof r);
	if (pgbench_cmd == NULL)
		return r;
	snprintf(cmd, sizeof cmd, "%s -c %d -j %d -T %d 2>&1", pgbench_cmd,
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
	int op, conns, depth, peer, writers;
};

static const struct bcase cases[] = {
	{ "send-1-redis", "redis-set", OP_SEND, 1, 1, PEER_REDIS, 0 },
	{ "send-1-pg", "postgresql", OP_SEND, 1, 1, PEER_PG, 0 },
	{ "send-16-redis", "redis-set", OP_SEND, 16, 1, PEER_REDIS, 0 },
	{ "send-16-pg", "postgresql", OP_SEND, 16, 1, PEER_PG, 0 },
	{ "send-50-redis", "redis-set", OP_SEND, 50, 1, PEER_REDIS, 0 },
	{ "send-50-pg", "postgresql", OP_SEND, 50, 1, PEER_PG, 0 },
	{ "send-16x64-redis", "redis-set", OP_SEND, 16, 64, PEER_REDIS, 0 },
	{ "send-50x64-redis", "redis-set", OP_SEND, 50, 64, PEER_REDIS, 0 },
	{ "get-16x64-redis", "redis-get", OP_GET, 16, 64, PEER_REDIS, 0 },
	{ "get-16-redis", "redis-get", OP_GET, 16, 1, PEER_REDIS, 0 },
	{ "get-16-writers", "get-16-no-writers", OP_GET, 16, 1, PEER_SELF, 4 },
	{ "list-16", "none", OP_LIST, 16, 1, PEER_NONE, 0 },
	{ "mix-16-redis", "redis-get85-set15", OP_MIX, 16, 1, PEER_REDIS, 0 },
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

static void
run_case(const struct bcase *k)
{
	double a[16], ap50[16], ap99[16], b[16], bp50[16], bp99[16], load[32];
	uint64_t aw = 0, asy = 0, bw = 0, bsy = 0, errs = 0;
	char loads[256], as[32], bs[32], peer[256];
	int i, nl = 0, bok = 1, off = 0;
	struct result r;

	for (i = 0; i < reps; i++) {
		load[nl++] = loadavg();
		r = drive(PR_CONNREQ, k->op, k->conns, k->depth, k->writers,
		    seconds, 0);
		a[i] = r.rate, ap50[i] = r.p50, ap99[i] = r.p99;
		aw += r.writes, asy += r.syncs, errs += r.errors;
		if (k->peer == PEER_NONE)
			continue;
		load[nl++] = loadavg();
		if (k->peer == PEER_PG)
			r = drive_pg(k->conns, seconds);
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
	for (i = 0; i < nl; i++)
		off += snprintf(loads + off, sizeof loads - (size_t)off,
		    "%s%.2f", i ? "/" : "", load[i]);
	per_1k(as, sizeof as, asy, aw, connreq_counts != NULL);
	per_1k(bs, sizeof bs, bsy, bw, k->peer == PEER_REDIS &&
	    redis_counts != NULL);
	if (k->peer == PEER_NONE || !bok)
		snprintf(peer, sizeof peer, "peer=%s peer_rate=n/a ratio=n/a",
		    k->peer_name);
	else if (k->peer == PEER_PG)
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
}

int
main(int argc, char **argv)
{
	const char *e;
	struct result r;
	size_t i;
	int j;

	for (j = 1; j + 1 < argc; j += 2) {
		if (strcmp(argv[j], "--connreq") == 0)
			connreq_sock = argv[j + 1];
		else if (strcmp(argv[j], "--redis") == 0)
			redis_sock = argv[j + 1];
		else if (strcmp(argv[j], "--pgbench") == 0)
			pgbench_cmd = argv[j + 1];
		else if (strcmp(argv[j], "--connreq-counts") == 0)
			connreq_counts = argv[j + 1];
		else if (strcmp(argv[j], "--redis-counts") == 0)
			redis_counts = argv[j + 1];
		else
			break;
	}
	if (connreq_sock == NULL || j < argc) {
		fprintf(stderr, "usage: bench --connreq SOCK [--redis SOCK] "
		    "[--pgbench CMD] [--connreq-counts FILE] "
		    "[--redis-counts FILE]\n");
		return 2;
	}
	if ((e = getenv("BENCH_SECONDS")) != NULL && atof(e) > 0)
		seconds = atof(e);
	if ((e = getenv("BENCH_REPS")) != NULL && atoi(e) > 0)
		reps = atoi(e) > 15 ? 15 : atoi(e);
	hist = calloc(HIST_US, sizeof *hist);
	if (hist == NULL)
		die("calloc");
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
	return 0;
}
