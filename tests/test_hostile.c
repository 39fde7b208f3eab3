/* The server's own limits, in real time (they are about time and CPU, not
 * rules): out of file descriptors it pauses accepting instead of spinning,
 * and a message begun must be complete within read_timeout, while idle
 * clients and subscribers stay connected. */
#include <sys/resource.h>

#include "harness.h"
#include "../common/util.h"

#define NOFILE 48	/* the daemon's descriptors, for the exhaustion */
#define NCONN 150	/* connections tried against it */

static double
now_secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* The CPU time pid has used, in seconds; -1 when it cannot be read. */
static double
cpu_secs(pid_t pid)
{
	char path[64], buf[1024], *close_paren;
	unsigned long ut, st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY);
	if (fd == -1)
		return -1;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	close_paren = strrchr(buf, ')');
	if (close_paren == NULL || sscanf(close_paren + 1,
	    " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	    &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* How often s occurs in the log, and its size. */
static int
log_count(struct dproc *p, const char *s, off_t *size)
{
	static char buf[1 << 20];
	struct stat sb;
	const char *at;
	ssize_t n;
	int fd = open(p->log, O_RDONLY), count = 0;

	*size = fd != -1 && fstat(fd, &sb) == 0 ? sb.st_size : -1;
	if (fd == -1)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	for (at = buf; (at = strstr(at, s)) != NULL; at += strlen(s))
		count++;
	return count;
}

static int
raw_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	if (fd != -1 && connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A new client is served (server.info), polling up to WAIT_MS. */
static int
served_again(struct dproc *p)
{
	char err[256];
	struct cr_client *c;
	struct cr_reply r;
	double until = now_secs() + WAIT_MS / 1000.0;
	int rc;

	while (now_secs() < until) {
		c = cr_connect(p->sock, err, sizeof err);
		if (c != NULL) {
			rc = call(c, &r, "server.info", "");
			cr_reply_free(&r);
			cr_close(c);
			if (rc == 0)
				return 1;
		}
		pause_ms(100);
	}
	return 0;
}

/* Whether the log holds s within WAIT_MS. */
static int
logged_within(struct dproc *p, const char *s)
{
	double until = now_secs() + WAIT_MS / 1000.0;

	while (!dproc_logged(p, s)) {
		if (now_secs() > until)
			return 0;
		pause_ms(100);
	}
	return 1;
}

static void
test_out_of_fds(void)
{
	static int fds[NCONN];
	struct dproc p;
	struct rlimit old, low;
	double c0, c1;
	off_t size;
	int i, n = 0, count;

	dproc_init(&p);
	/* The daemon inherits the low limit; the test keeps its own. */
	getrlimit(RLIMIT_NOFILE, &old);
	low = old;
	low.rlim_cur = NOFILE;
	setrlimit(RLIMIT_NOFILE, &low);
	i = dproc_start(&p, T0, NULL);
	setrlimit(RLIMIT_NOFILE, &old);
	if (!ok(i == 0, "connreqd starts with %d descriptors", NOFILE))
		return;
	for (i = 0; i < NCONN; i++)
		if ((fds[i] = raw_connect(p.sock)) != -1)
			n++;
	ok(n > NOFILE, "%d of %d connections made: more than it can take", n,
	    NCONN);
	/* It takes what it can, then says it is out of descriptors. */
	if (!logged_within(&p, "out of file descriptors"))
		diag("it did not say it is out of file descriptors");
	c0 = cpu_secs(p.pid);
	pause_ms(5000);
	c1 = cpu_secs(p.pid);
	if (!ok(c0 >= 0 && c1 - c0 < 0.25,
	    "out of descriptors, it does not spin (%.2f s of CPU in 5 s)",
	    c1 - c0))
		diag("it should pause accepting");
	count = log_count(&p, "out of file descriptors", &size);
	if (!ok(count == 1 && size < 8192,
	    "it says so once (%d times, a log of %lld bytes)", count,
	    (long long)size))
		diag("the log should not grow per attempt");
	ok(dproc_alive(&p), "and stays up");
	for (i = 0; i < NCONN; i++)
		if (fds[i] != -1)
			close(fds[i]);
	ok(served_again(&p), "once the clients leave, a new one is served");
	ok(logged_within(&p, "accepting clients again"), "and it says so");
	dproc_cleanup(&p);
}

/* Sends bytes; whether the connection is then closed within secs, with
 * the time it took in *took. */
static int
closed_within(struct cr_client *c, double secs, double *took)
{
	msgpack_unpacked up;
	double t0 = now_secs();
	int rc = 1;

	msgpack_unpacked_init(&up);
	while (rc == 1 && now_secs() < t0 + secs)
		rc = cr_read_message(c, &up, 200);
	msgpack_unpacked_destroy(&up);
	*took = now_secs() - t0;
	return rc == -1;
}

static void
test_read_timeout(void)
{
	/* [0, 1, "server.info", {}], cut in the middle of the method. */
	static const char msg[] = "\x94\x00\x01\xabserver.info\x80";
	struct dproc p;
	struct cr_client *idle, *sub, *half, *drip, *good, *slow;
	struct cr_reply r;
	double t_idle, took;
	size_t i;
	int closed;

	dproc_init(&p);
	dproc_config(&p, "[server]\nread_timeout = 2s\n");
	if (!ok(dproc_start(&p, T0, NULL) == 0, "connreqd starts"))
		return;
	idle = dconnect(&p);
	sub = dconnect(&p);
	good = dconnect(&p);
	t_idle = now_secs();
	if (!ok(idle && sub && good, "three clients connect"))
		goto out;
	i = (size_t)call(good, &r, "server.info", "");
	ok(i == 0 && rnum(&r, "policy.read_timeout") == 2,
	    "server.info reports read_timeout (%lld)",
	    i == 0 ? (long long)rnum(&r, "policy.read_timeout") : -1LL);
	cr_reply_free(&r);
	ok(call(sub, &r, "events.subscribe", "all:b", 1) == 0, "one subscribes");
	cr_reply_free(&r);

	half = dconnect(&p);
	cr_send_raw(half, msg, 8);
	closed = closed_within(half, 10, &took);
	if (!ok(closed && took > 1.5 && took < 6,
	    "half a message: closed after read_timeout (%.1f s)", took))
		diag("closed %d", closed);
	cr_close(half);
	ok(logged_within(&p, "not complete within read_timeout"), "and logged");

	/* One byte at a time: arriving does not make it complete. */
	drip = dconnect(&p);
	for (i = 0, closed = 0; i < sizeof msg - 2 && !closed; i++) {
		cr_send_raw(drip, msg + i, 1);
		closed = closed_within(drip, 0.4, &took);
	}
	ok(closed && i < sizeof msg - 2,
	    "a message dripped a byte at a time: closed after %zu bytes", i);
	cr_close(drip);

	/* A message completed within the time is answered. */
	slow = dconnect(&p);
	cr_send_raw(slow, msg, 8);
	pause_ms(1000);
	cr_send_raw(slow, msg + 8, sizeof msg - 1 - 8);
	{
		msgpack_unpacked up;

		msgpack_unpacked_init(&up);
		ok(cr_read_message(slow, &up, WAIT_MS) == 0,
		    "a message finished within read_timeout is answered");
		msgpack_unpacked_destroy(&up);
	}
	cr_close(slow);

	/* Past the timeout, the idle client and the subscriber remain. */
	while (now_secs() < t_idle + 3)
		pause_ms(100);
	ok(call(idle, &r, "server.info", "") == 0,
	    "an idle client is still served past read_timeout");
	cr_reply_free(&r);
	ok(send_inv(good, &r, "ann", "bob") > 0, "a write");
	cr_reply_free(&r);
	ok(cr_next_event(sub, &r, WAIT_MS) == 0,
	    "a subscriber past read_timeout still gets events");
	cr_reply_free(&r);
out:
	if (idle)
		cr_close(idle);
	if (sub)
		cr_close(sub);
	if (good)
		cr_close(good);
	dproc_cleanup(&p);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_out_of_fds();
	test_read_timeout();
	return done_testing();
}
