/* tests/harness.h: start connreqd on a temporary socket and store, and call
 * it through the client library. Waiting here is for the daemon to come up
 * or to act on a signal, never for a rule: rule timing moves the virtual
 * clock. Every wait is a bounded poll that ends as soon as the daemon is
 * done, with a bound (WAIT_MS) long enough for a sanitizer build on a
 * loaded machine. */
#ifndef CONNREQ_HARNESS_H
#define CONNREQ_HARNESS_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../client/connreq.h"
#include "../proto/proto.h"
#include "mpath.h"
#include "tap.h"
#ifdef HARNESS_PG
#include "pgcluster.h"
#endif

#define T0 1767225600	/* 2026-01-01 00:00 UTC */
#define DAY 86400

/* The longest a test waits for the daemon to do what it must (start,
 * answer, reload, drop a connection); a wait ends as soon as it is done. */
#define WAIT_MS 60000

static int64_t
harness_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One step of a bounded poll begun at start (harness_ms()): pauses 10 ms
 * and returns 1, or returns 0 once WAIT_MS have passed. */
__attribute__((unused)) static int
wait_tick(int64_t start)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	if (harness_ms() - start >= WAIT_MS)
		return 0;
	nanosleep(&ts, NULL);
	return 1;
}

/* What is left of WAIT_MS since start, for a read's timeout. */
__attribute__((unused)) static int
wait_left(int64_t start)
{
	int64_t left = WAIT_MS - (harness_ms() - start);

	return left > 0 ? (int)left : 0;
}

struct dproc {
	pid_t pid;
	uid_t uid;	/* 0: connreqd runs as the test; else as this uid (and
			 * gid), with no groups: for a test run as root */
	char dir[128];
	char sock[192];
	char store[192];
	char log[192];
	char pg[256];	/* non-empty: connreqd --postgres on this database */
};

#ifdef HARNESS_PG
/* With HARNESS_PG defined, every daemon dproc_init() prepares runs on
 * PostgreSQL: a database of its own on the test's cluster, started by
 * harness_pg_start() or by the first dproc_init() (tests/pgcluster.h; it
 * goes when the test ends). One cluster a test file: an end-to-end test
 * written for LMDB (test_X.c) runs on PostgreSQL as test_X_pg.c, which
 * defines HARNESS_PG and includes it. */
static struct pgcluster harness_pg;
static bool harness_pg_started;

__attribute__((unused)) static void
harness_pg_start(void)
{
	if (harness_pg_started)
		return;
	harness_pg_started = true;
	if (pgcluster_start(&harness_pg) == -1)
		bail_out("cannot start a PostgreSQL cluster");
}
#endif

__attribute__((unused)) static void
dproc_init(struct dproc *p)
{
	memset(p, 0, sizeof *p);
	strcpy(p->dir, "/tmp/connreq-test-XXXXXX");
	if (mkdtemp(p->dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(p->sock, sizeof p->sock, "%s/s.sock", p->dir);
	snprintf(p->store, sizeof p->store, "%s/db", p->dir);
	snprintf(p->log, sizeof p->log, "%s/log", p->dir);
#ifdef HARNESS_PG
	harness_pg_start();
	if (harness_pg.up &&
	    pgcluster_newdb(&harness_pg, p->pg, sizeof p->pg) == -1)
		bail_out("cannot create a database for connreqd");
#endif
}

/* Another daemon on p's store (its PostgreSQL database), with a socket
 * and a directory of its own. */
__attribute__((unused)) static void
dproc_init_sharing(struct dproc *q, const struct dproc *p)
{
	memset(q, 0, sizeof *q);
	strcpy(q->dir, "/tmp/connreq-test-XXXXXX");
	if (mkdtemp(q->dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(q->sock, sizeof q->sock, "%s/s.sock", q->dir);
	snprintf(q->store, sizeof q->store, "%s/db", q->dir);
	snprintf(q->log, sizeof q->log, "%s/log", q->dir);
	snprintf(q->pg, sizeof q->pg, "%s", p->pg);
}

/* Writes the daemon's default configuration file (XDG_CONFIG_HOME is the
 * test's directory) with text. */
__attribute__((unused)) static void
dproc_config(struct dproc *p, const char *text)
{
	char path[300];
	FILE *f;

	snprintf(path, sizeof path, "%s/connreq", p->dir);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/connreq/connreqd.conf", p->dir);
	f = fopen(path, "w");
	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* Two daemons on one store (a PostgreSQL database), with the same
 * configuration text: a new one, and b sharing it. */
__attribute__((unused)) static void
dproc_init_two(struct dproc *a, struct dproc *b, const char *conf)
{
	dproc_init(a);
	dproc_config(a, conf);
	dproc_init_sharing(b, a);
	dproc_config(b, conf);
}

/* Turns off the sending limits, for tests that write in bulk. */
#define NO_LIMITS "[limits]\nsends_per_week = 0\npending_warn = 0\n" \
	"pending_max = 0\ninvites_per_pair = 0\nwithdrawals_per_day = 0\n" \
	"duplicate_note_warn = 0\n"

/* The daemon's log as diagnostics, for a failure's report. */
__attribute__((unused)) static void
dproc_show_log(struct dproc *p)
{
	FILE *f = fopen(p->log, "r");
	char line[512];

	if (f == NULL)
		return;
	while (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		diag("  %s", line);
	}
	fclose(f);
}

/* Whether connreqd answers a request on path within ms: it is then in its
 * event loop, its signal handlers set. A socket that accepts a connection
 * says less: connreqd listens before it sets them, and a SIGHUP sent in
 * between would kill it. */
static int
dproc_answers(const char *path, int ms)
{
	char err[256];
	struct cr_client *c = cr_connect(path, err, sizeof err);
	msgpack_unpacked up;
	int rc = -1;

	if (c == NULL)
		return 0;
	cr_request(c, "hello");
	if (cr_send(c) > 0) {
		msgpack_unpacked_init(&up);
		rc = cr_read_message(c, &up, ms);
		msgpack_unpacked_destroy(&up);
	}
	cr_close(c);
	return rc == 0;
}

/* Starts connreqd with the virtual clock at vclock (0: none); extra is a
 * NULL-terminated list of more arguments; returns once it answers, -1 when
 * it exits first or does not answer within WAIT_MS. With wait_exit, waits
 * for it to exit instead and stores the status there. */
static int
dproc_spawn(struct dproc *p, int64_t vclock, const char *const *extra,
    int *wait_exit)
{
	const char *bin = getenv("CONNREQ_BIN");
	char path[512], clockarg[64];
	const char *argv[32];
	pid_t parent = getpid();
	int64_t start;
	int argc = 0, i, fd, status;

	snprintf(path, sizeof path, "%s/connreqd", bin ? bin : "build/bin");
	argv[argc++] = path;
	argv[argc++] = "-s";
	argv[argc++] = p->sock;
	argv[argc++] = "-d";
	argv[argc++] = p->store;
	if (p->pg[0] != '\0') {
		argv[argc++] = "--postgres";
		argv[argc++] = p->pg;
	}
	if (vclock > 0) {
		snprintf(clockarg, sizeof clockarg, "--virtual-clock=%lld",
		    (long long)vclock);
		argv[argc++] = clockarg;
	}
	for (i = 0; extra != NULL && extra[i] != NULL && argc < 30; i++)
		argv[argc++] = extra[i];
	argv[argc] = NULL;
	fflush(stdout);
	p->pid = fork();
	if (p->pid == 0) {
		if (p->uid != 0 && (setgroups(0, NULL) == -1 ||
		    setresgid(p->uid, p->uid, p->uid) == -1 ||
		    setresuid(p->uid, p->uid, p->uid) == -1))
			_exit(127);
		/* A test that stops early (bail_out, a crash) takes its
		 * daemon with it (set after the uid: a change clears it). */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(127);
		/* No configuration of the user's applies to the tests. */
		setenv("XDG_CONFIG_HOME", p->dir, 1);
		fd = open(p->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		dup2(fd, 1);
		dup2(fd, 2);
		execv(path, (char *const *)argv);
		_exit(127);
	}
	if (wait_exit != NULL) {
		/* The caller expects it to give up: wait for its exit. */
		waitpid(p->pid, wait_exit, 0);
		p->pid = 0;
		return -1;
	}
	start = harness_ms();
	do {
		if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
			diag("connreqd exited before it answered (status 0x%x):",
			    status);
			dproc_show_log(p);
			p->pid = 0;
			return -1;
		}
		/* connreqd serves only its own uid: ask as that. */
		if (p->uid != 0 && seteuid(p->uid) == -1)
			bail_out("seteuid(%ld): %s", (long)p->uid,
			    strerror(errno));
		i = dproc_answers(p->sock, wait_left(start));
		if (p->uid != 0 && seteuid(0) == -1)
			bail_out("seteuid(0): %s", strerror(errno));
		if (i)
			return 0;
	} while (wait_tick(start));
	diag("connreqd did not answer within %d ms:", WAIT_MS);
	dproc_show_log(p);
	return -1;
}

__attribute__((unused)) static int
dproc_start(struct dproc *p, int64_t vclock, const char *const *extra)
{
	return dproc_spawn(p, vclock, extra, NULL);
}

/* Runs connreqd expecting it to refuse to start; its exit status. */
__attribute__((unused)) static int
dproc_refused(struct dproc *p, int64_t vclock, const char *const *extra)
{
	int status = -1;

	dproc_spawn(p, vclock, extra, &status);
	return status;
}

/* connreqd --check on p's stopped store (its database on PostgreSQL):
 * 0 when clean; else -1, its output shown on stderr. */
__attribute__((unused)) static int
dproc_check(struct dproc *p)
{
	char cmd[1200];

#ifdef HARNESS_PG
	snprintf(cmd, sizeof cmd,
	    "XDG_CONFIG_HOME=/nonexistent '%s/connreqd' --check --postgres '%s' >'%s/check.out' 2>&1",
	    getenv("CONNREQ_BIN"), p->pg, p->dir);
#else
	snprintf(cmd, sizeof cmd,
	    "XDG_CONFIG_HOME=/nonexistent '%s/connreqd' --check -d '%s' >'%s/check.out' 2>&1",
	    getenv("CONNREQ_BIN"), p->store, p->dir);
#endif
	if (system(cmd) == 0)
		return 0;
	snprintf(cmd, sizeof cmd, "cat '%s/check.out' >&2", p->dir);
	if (system(cmd) != 0)
		diag("no check output");
	return -1;
}

/* SIGTERM (or sig) and wait; returns the exit status. */
__attribute__((unused)) static int
dproc_stop(struct dproc *p, int sig)
{
	int status = 0;

	if (p->pid <= 0)
		return -1;
	kill(p->pid, sig);
	waitpid(p->pid, &status, 0);
	p->pid = 0;
	return status;
}

__attribute__((unused)) static void
dproc_cleanup(struct dproc *p)
{
	char cmd[300];

	if (p->pid > 0)
		dproc_stop(p, SIGKILL);
	if (getenv("CONNREQ_KEEP") == NULL) {
		snprintf(cmd, sizeof cmd, "rm -rf %s", p->dir);
		if (system(cmd) != 0)
			diag("could not remove %s", p->dir);
	}
}

__attribute__((unused)) static int
dproc_alive(struct dproc *p)
{
	int status;

	return p->pid > 0 && waitpid(p->pid, &status, WNOHANG) == 0;
}

/* How many times the daemon's log holds s. */
static int
dproc_log_count(struct dproc *p, const char *s)
{
	FILE *f = fopen(p->log, "r");
	char *buf = NULL, *at;
	size_t cap = 0;
	int n = 0;

	if (f == NULL)
		return 0;
	while (getline(&buf, &cap, f) != -1)
		for (at = buf; (at = strstr(at, s)) != NULL; at += strlen(s))
			n++;
	free(buf);
	fclose(f);
	return n;
}

/* Whether the daemon's log holds s. */
__attribute__((unused)) static int
dproc_logged(struct dproc *p, const char *s)
{
	return dproc_log_count(p, s) > 0;
}

/* Sends SIGHUP and waits, boundedly, until the log holds s once more than
 * before: whether it did. */
__attribute__((unused)) static int
dproc_sighup(struct dproc *p, const char *s)
{
	int before = dproc_log_count(p, s);
	int64_t start = harness_ms();

	if (p->pid <= 0 || kill(p->pid, SIGHUP) == -1)
		return 0;
	while (dproc_log_count(p, s) <= before)
		if (!wait_tick(start))
			return 0;
	return 1;
}

/* A connection, or NULL (the reason in a diagnostic). */
__attribute__((unused)) static struct cr_client *
dconnect_try(struct dproc *p)
{
	char err[256];
	struct cr_client *c = cr_connect(p->sock, err, sizeof err);

	if (c == NULL)
		diag("connect: %s", err);
	return c;
}

/* A connection; when there is none, the test cannot go on: it bails out
 * rather than call with a NULL client. */
__attribute__((unused)) static struct cr_client *
dconnect(struct dproc *p)
{
	char err[256];
	struct cr_client *c = cr_connect(p->sock, err, sizeof err);

	if (c == NULL) {
		dproc_show_log(p);
		bail_out("cannot connect to connreqd (%s, %s): %s",
		    p->pid > 0 && dproc_alive(p) ? "running" : "not running",
		    p->log, err);
	}
	return c;
}

/* Packs named arguments after fmt: "from:s to:s id:u flag:b none:n". */
static void
pack_args(msgpack_packer *pk, const char *fmt, va_list ap)
{
	char key[64];
	const char *p, *colon;
	int n = 0;

	for (p = fmt; *p != '\0'; p++)
		if (*p == ':')
			n++;
	msgpack_pack_map(pk, (size_t)n);
	p = fmt;
	while (*p != '\0') {
		while (*p == ' ')
			p++;
		colon = strchr(p, ':');
		if (colon == NULL)
			break;
		snprintf(key, sizeof key, "%.*s", (int)(colon - p), p);
		pk_str(pk, key);
		switch (colon[1]) {
		case 's':
			pk_str(pk, va_arg(ap, const char *));
			break;
		case 'u':
			msgpack_pack_uint64(pk, va_arg(ap, uint64_t));
			break;
		case 'i':
			msgpack_pack_int64(pk, va_arg(ap, int64_t));
			break;
		case 'b':
			if (va_arg(ap, int))
				msgpack_pack_true(pk);
			else
				msgpack_pack_false(pk);
			break;
		default:
			msgpack_pack_nil(pk);
		}
		p = colon + 2;
	}
}

/* Calls method; returns 0 on success, 1 on an error reply (r->code), -1
 * when the connection failed. */
__attribute__((unused)) static int
call(struct cr_client *c, struct cr_reply *r, const char *method,
    const char *fmt, ...)
{
	va_list ap;
	msgpack_packer *pk = cr_request(c, method);

	va_start(ap, fmt);
	pack_args(pk, fmt, ap);
	va_end(ap);
	if (cr_finish(c, r) == -1)
		return -1;
	return r->error ? 1 : 0;
}

/* A string at path, or "(none)"; valid until the next call. */
__attribute__((unused)) static const char *
rstr(const struct cr_reply *r, const char *path)
{
	static char buf[512];
	const msgpack_object *o = r->result ? obj_path(r->result, path) : NULL;

	if (o == NULL)
		return "(none)";
	if (o->type == MSGPACK_OBJECT_NIL)
		return "nil";
	if (o->type != MSGPACK_OBJECT_STR)
		return "(not a string)";
	snprintf(buf, sizeof buf, "%.*s", (int)o->via.str.size, o->via.str.ptr);
	return buf;
}

/* An integer at path; -1 when absent or nil. */
__attribute__((unused)) static int64_t
rnum(const struct cr_reply *r, const char *path)
{
	const msgpack_object *o = r->result ? obj_path(r->result, path) : NULL;

	if (o == NULL || o->type == MSGPACK_OBJECT_NIL)
		return -1;
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		return (int64_t)o->via.u64;
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		return o->via.i64;
	if (o->type == MSGPACK_OBJECT_BOOLEAN)
		return o->via.boolean;
	if (o->type == MSGPACK_OBJECT_ARRAY)
		return o->via.array.size;
	return -2;
}

/* Helpers on a connection c whose reply is r: each frees what r held and
 * leaves its own answer there. */

/* Sends from -> to; the new id, or 0 (r keeps the error). */
__attribute__((unused)) static uint64_t
send_inv(struct cr_client *c, struct cr_reply *r, const char *from,
    const char *to)
{
	cr_reply_free(r);
	if (call(c, r, "invite.send", "from:s to:s", from, to) != 0)
		return 0;
	return (uint64_t)rnum(r, "invitation.id");
}

/* send_inv(), its reply freed: the new id, or 0. */
__attribute__((unused)) static uint64_t
send_id(struct cr_client *c, struct cr_reply *r, const char *from,
    const char *to)
{
	uint64_t id = send_inv(c, r, from, to);

	cr_reply_free(r);
	return id;
}

/* Moves the virtual clock on by secs; the time after, -1 on an error. */
__attribute__((unused)) static int64_t
advance(struct cr_client *c, struct cr_reply *r, int64_t secs)
{
	cr_reply_free(r);
	if (call(c, r, "clock.advance", "seconds:u", (uint64_t)secs) != 0)
		return -1;
	return rnum(r, "now");
}

/* Whether r is an error reply with code. */
__attribute__((unused)) static int
refused(const struct cr_reply *r, const char *code)
{
	return r->error != NULL && strcmp(r->code, code) == 0;
}

/* The last event written (server.info's events.head). */
__attribute__((unused)) static uint64_t
head(struct cr_client *c, struct cr_reply *r)
{
	cr_reply_free(r);
	call(c, r, "server.info", "");
	return (uint64_t)rnum(r, "events.head");
}

/* The types of member's notifications after seq (member NULL: every
 * event), as "a,b,c"; "error CODE" when refused. Valid until the next
 * call. */
__attribute__((unused)) static const char *
feed(struct cr_client *c, struct cr_reply *r, const char *member,
    uint64_t after)
{
	static char buf[4096];
	const msgpack_object *evs, *ty;
	size_t off = 0;
	uint32_t i;
	int n;

	buf[0] = '\0';
	cr_reply_free(r);
	if (member != NULL)
		call(c, r, "events.read", "member:s after:u limit:u", member,
		    after, (uint64_t)1000);
	else
		call(c, r, "events.read", "all:b after:u limit:u", 1, after,
		    (uint64_t)1000);
	if (r->error != NULL) {
		snprintf(buf, sizeof buf, "error %s", r->code);
		return buf;
	}
	evs = cr_get(r->result, "events");
	for (i = 0; evs != NULL && i < evs->via.array.size; i++) {
		ty = cr_get(&evs->via.array.ptr[i], "type");
		n = snprintf(buf + off, sizeof buf - off, "%s%.*s",
		    i ? "," : "", ty ? (int)ty->via.str.size : 0,
		    ty ? ty->via.str.ptr : "");
		if (n < 0 || (size_t)n >= sizeof buf - off)
			break;
		off += (size_t)n;
	}
	return buf;
}

/* Starts a pipelined invite.send from -> to on c (expiring in expires_in
 * seconds, when not 0) and returns its msgid; cr_wait() takes its answer. */
__attribute__((unused)) static uint32_t
send_pipelined(struct cr_client *c, const char *from, const char *to,
    uint64_t expires_in)
{
	msgpack_packer *pk = cr_request(c, "invite.send");

	msgpack_pack_map(pk, expires_in > 0 ? 3 : 2);
	pk_str(pk, "from");
	pk_str(pk, from);
	pk_str(pk, "to");
	pk_str(pk, to);
	if (expires_in > 0) {
		pk_str(pk, "expires_in");
		msgpack_pack_uint64(pk, expires_in);
	}
	return (uint32_t)cr_send(c);
}

#ifdef HARNESS_PG
/* The database name of p's conninfo ("... dbname=NAME ..."). */
__attribute__((unused)) static void
dproc_dbname(const struct dproc *p, char *out, size_t n)
{
	const char *at = strstr(p->pg, "dbname=");

	snprintf(out, n, "%.*s", at ? (int)strcspn(at + 7, " ") : 0,
	    at ? at + 7 : "");
}
#endif

#endif
