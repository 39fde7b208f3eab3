/* tests/harness.h: start connreqd on a temporary socket and store, and call
 * it through the client library. Waiting here is for the daemon to come up,
 * never for a rule: rule timing moves the virtual clock. */
#ifndef CONNREQ_HARNESS_H
#define CONNREQ_HARNESS_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
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

#define T0 1767225600	/* 2026-01-01 00:00 UTC */
#define DAY 86400

struct dproc {
	pid_t pid;
	char dir[128];
	char sock[192];
	char store[192];
	char log[192];
};

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

/* Turns off the sending limits, for tests that write in bulk. */
#define NO_LIMITS "[limits]\nsends_per_week = 0\npending_warn = 0\n" \
	"pending_max = 0\ninvites_per_pair = 0\nwithdrawals_per_day = 0\n" \
	"duplicate_note_warn = 0\n"

static int
dproc_can_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0), rc;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	rc = connect(fd, (struct sockaddr *)&sun, sizeof sun);
	close(fd);
	return rc == 0;
}

/* Starts connreqd with the virtual clock at vclock (0: none); extra is a
 * NULL-terminated list of more arguments. With wait_exit, waits for it to
 * exit instead and stores the status there. */
static int
dproc_spawn(struct dproc *p, int64_t vclock, const char *const *extra,
    int *wait_exit)
{
	const char *bin = getenv("CONNREQ_BIN");
	char path[512], clockarg[64];
	const char *argv[32];
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int argc = 0, i, fd, status;

	snprintf(path, sizeof path, "%s/connreqd", bin ? bin : "build/bin");
	argv[argc++] = path;
	argv[argc++] = "-s";
	argv[argc++] = p->sock;
	argv[argc++] = "-d";
	argv[argc++] = p->store;
	if (vclock > 0) {
		snprintf(clockarg, sizeof clockarg, "--virtual-clock=%lld",
		    (long long)vclock);
		argv[argc++] = clockarg;
	}
	for (i = 0; extra != NULL && extra[i] != NULL && argc < 30; i++)
		argv[argc++] = extra[i];
	argv[argc] = NULL;
	p->pid = fork();
	if (p->pid == 0) {
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
	for (i = 0; i < 1000; i++) {
		if (dproc_can_connect(p->sock))
			return 0;
		if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
			p->pid = 0;
			return -1;
		}
		nanosleep(&ts, NULL);
	}
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

/* Whether the daemon's log holds s. */
__attribute__((unused)) static int
dproc_logged(struct dproc *p, const char *s)
{
	char buf[65536];
	ssize_t n;
	int fd = open(p->log, O_RDONLY);

	if (fd == -1)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strstr(buf, s) != NULL;
}

__attribute__((unused)) static struct cr_client *
dconnect(struct dproc *p)
{
	char err[256];
	struct cr_client *c = cr_connect(p->sock, err, sizeof err);

	if (c == NULL)
		diag("connect: %s", err);
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

#endif
