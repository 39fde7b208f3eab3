/* client/libconnreq.c: see connreq.h. Reads with msgpack-c's streaming
 * unpacker: reserve, read into it, take messages until it needs more. */
#include "connreq.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../common/util.h"
#include "../proto/proto.h"

#define CR_READ_CHUNK 65536
#define CR_MAX_MESSAGE (16u << 20)

struct cr_event {
	msgpack_unpacked msg;
	struct cr_event *next;
};

struct cr_client {
	int fd;
	uint32_t next_msgid;
	msgpack_sbuffer req;
	msgpack_packer pk;
	bool started;
	size_t args_at;		/* where the argument map starts */
	msgpack_unpacker up;
	struct cr_event *events, **events_tail;
	char *path;		/* the socket, to connect again */
	char err[256];
};

static int
cr_fail(struct cr_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
cr_fail(struct cr_client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof c->err, fmt, ap);
	va_end(ap);
	return -1;
}

char *
cr_default_socket(void)
{
	const char *env = getenv("CONNREQ_SOCKET");

	if (env != NULL && env[0] != '\0')
		return xstrndup(env, strlen(env));
	return path_default_socket();
}

/* Whether the directory holding the socket at path may be trusted: it
 * belongs to the user or to root, and nobody else may write to it, so no
 * one else can have put a socket there or replace ours. A directory of
 * root's with the sticky bit (like /tmp) is the exception: others may make
 * names in it but not remove or rename ours, and the peer check catches a
 * stranger's socket. 0, or -1 with err set and errno EPERM (or stat's). */
static int
cr_trust_dir(const char *path, char *err, size_t errlen)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	struct stat st;
	int rc = -1;

	if (slash == NULL)
		dir = xstrndup(".", 1);
	else
		dir = xstrndup(path, slash == path ? 1 : (size_t)(slash - path));
	if (stat(dir, &st) == -1) {
		snprintf(err, errlen, "cannot connect to %s: %s", path,
		    strerror(errno));
	} else if (st.st_uid != geteuid() && st.st_uid != 0) {
		snprintf(err, errlen,
		    "%s belongs to uid %lu, not you: refusing to use it", dir,
		    (unsigned long)st.st_uid);
		errno = EPERM;
	} else if ((st.st_mode & (S_IWGRP | S_IWOTH)) &&
	    !(st.st_uid == 0 && (st.st_mode & S_ISVTX))) {
		snprintf(err, errlen, "%s is writable by %s: refusing to use it",
		    dir, st.st_mode & S_IWOTH ? "others" : "its group");
		errno = EPERM;
	} else
		rc = 0;
	free(dir);
	return rc;
}

/* Whether the process behind fd, connected to path, is the user's own or
 * root's (SO_PEERCRED: the uid that made the listening socket). */
static int
cr_trust_peer(int fd, const char *path, char *err, size_t errlen)
{
	struct ucred cred = { .pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1 };
	socklen_t len = sizeof cred;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		snprintf(err, errlen, "%s: cannot tell the socket's peer: %s",
		    path, strerror(errno));
		errno = EPERM;
		return -1;
	}
	if (cred.uid != geteuid() && cred.uid != 0) {
		snprintf(err, errlen,
		    "%s: the socket's peer is uid %lu, not you: refusing to use it",
		    path, (unsigned long)cred.uid);
		errno = EPERM;
		return -1;
	}
	return 0;
}

/* Connects to path, trusting it as cr_connect() says: the socket, or -1
 * with err set and errno. */
static int
cr_dial(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	int fd, e;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		snprintf(err, errlen, "socket path too long: %s", path);
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path);
	/* Nothing is sent, nor even a connection made, to a socket whose
	 * directory someone else controls. */
	if (cr_trust_dir(path, err, errlen) == -1)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1 || connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		e = errno;
		snprintf(err, errlen, "cannot connect to %s: %s", path,
		    strerror(e));
		if (fd != -1)
			close(fd);
		errno = e;
		return -1;
	}
	if (cr_trust_peer(fd, path, err, errlen) == -1) {
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

struct cr_client *
cr_connect(const char *path, char *err, size_t errlen)
{
	struct cr_client *c;
	char *def = NULL;
	int fd, e;

	if (path == NULL)
		path = def = cr_default_socket();
	if ((fd = cr_dial(path, err, errlen)) == -1) {
		e = errno;
		free(def);
		errno = e;
		return NULL;
	}
	c = xcalloc(1, sizeof *c);
	c->path = def != NULL ? def : xstrndup(path, strlen(path));
	c->fd = fd;
	c->next_msgid = 1;
	msgpack_sbuffer_init(&c->req);
	msgpack_packer_init(&c->pk, &c->req, msgpack_sbuffer_write);
	if (!msgpack_unpacker_init(&c->up, CR_READ_CHUNK))
		fatal("out of memory");
	c->events_tail = &c->events;
	return c;
}

void
cr_close(struct cr_client *c)
{
	struct cr_event *e, *next;

	if (c == NULL)
		return;
	for (e = c->events; e != NULL; e = next) {
		next = e->next;
		msgpack_unpacked_destroy(&e->msg);
		free(e);
	}
	msgpack_unpacker_destroy(&c->up);
	msgpack_sbuffer_destroy(&c->req);
	if (c->fd != -1)
		close(c->fd);
	free(c->path);
	free(c);
}

int
cr_fd(const struct cr_client *c)
{
	return c->fd;
}

const char *
cr_strerror(const struct cr_client *c)
{
	return c->err;
}

msgpack_packer *
cr_request(struct cr_client *c, const char *method)
{
	msgpack_sbuffer_clear(&c->req);
	msgpack_pack_array(&c->pk, 4);
	msgpack_pack_uint8(&c->pk, PROTO_REQUEST);
	msgpack_pack_uint32(&c->pk, c->next_msgid);
	pk_str(&c->pk, method);
	c->started = true;
	/* The params array; its map follows, packed by the caller. */
	msgpack_pack_array(&c->pk, 1);
	c->args_at = c->req.size;
	return &c->pk;
}

int
cr_send_raw(struct cr_client *c, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = send(c->fd, p, len, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return cr_fail(c, "send: %s", strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int64_t
cr_send(struct cr_client *c)
{
	uint32_t id = c->next_msgid;

	if (!c->started)
		return cr_fail(c, "no request started");
	c->started = false;
	/* No argument map packed: send an empty one. */
	if (c->req.size == c->args_at)
		msgpack_pack_map(&c->pk, 0);
	if (cr_send_raw(c, c->req.data, c->req.size) == -1)
		return -1;
	c->next_msgid++;
	return id;
}

/* Reads more bytes into the unpacker; 1 on timeout, -1 on failure. */
static int
cr_fill(struct cr_client *c, int timeout_ms)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	ssize_t n;
	int rc;

	do
		rc = poll(&pfd, 1, timeout_ms);
	while (rc == -1 && errno == EINTR);
	if (rc == -1)
		return cr_fail(c, "poll: %s", strerror(errno));
	if (rc == 0)
		return 1;
	if (msgpack_unpacker_buffer_capacity(&c->up) < CR_READ_CHUNK &&
	    !msgpack_unpacker_reserve_buffer(&c->up, CR_READ_CHUNK))
		return cr_fail(c, "out of memory");
	do
		n = read(c->fd, msgpack_unpacker_buffer(&c->up),
		    msgpack_unpacker_buffer_capacity(&c->up));
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return cr_fail(c, "read: %s", strerror(errno));
	if (n == 0)
		return cr_fail(c, "connreqd closed the connection");
	msgpack_unpacker_buffer_consumed(&c->up, (size_t)n);
	return 0;
}

int
cr_read_message(struct cr_client *c, msgpack_unpacked *out, int timeout_ms)
{
	msgpack_unpack_return ur;
	int rc;

	for (;;) {
		ur = msgpack_unpacker_next(&c->up, out);
		if (ur == MSGPACK_UNPACK_SUCCESS)
			return 0;
		if (ur != MSGPACK_UNPACK_CONTINUE)
			return cr_fail(c, "malformed message from connreqd");
		if (msgpack_unpacker_message_size(&c->up) > CR_MAX_MESSAGE)
			return cr_fail(c, "message from connreqd too large");
		if ((rc = cr_fill(c, timeout_ms)) != 0)
			return rc;
	}
}

static void
reply_fill(struct cr_reply *r)
{
	const msgpack_object *a = r->msg.data.via.array.ptr, *o;
	size_t n;

	r->code[0] = r->message[0] = '\0';
	r->retry_at = 0;
	r->error = a[2].type == MSGPACK_OBJECT_NIL ? NULL : &a[2];
	r->result = &a[3];
	if (r->error == NULL)
		return;
	if ((o = cr_get(r->error, "code")) != NULL &&
	    o->type == MSGPACK_OBJECT_STR) {
		n = o->via.str.size < sizeof r->code - 1 ? o->via.str.size :
		    sizeof r->code - 1;
		memcpy(r->code, o->via.str.ptr, n);
		r->code[n] = '\0';
	}
	if ((o = cr_get(r->error, "message")) != NULL &&
	    o->type == MSGPACK_OBJECT_STR) {
		n = o->via.str.size < sizeof r->message - 1 ?
		    o->via.str.size : sizeof r->message - 1;
		memcpy(r->message, o->via.str.ptr, n);
		r->message[n] = '\0';
	}
	if ((o = cr_get(r->error, "retry_at")) != NULL &&
	    o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		r->retry_at = (int64_t)o->via.u64;
}

int
cr_wait(struct cr_client *c, uint32_t msgid, struct cr_reply *r)
{
	const msgpack_object *o;
	struct cr_event *ev;
	int rc;

	memset(r, 0, sizeof *r);
	for (;;) {
		msgpack_unpacked_init(&r->msg);
		if ((rc = cr_read_message(c, &r->msg, -1)) != 0) {
			msgpack_unpacked_destroy(&r->msg);
			return -1;
		}
		o = &r->msg.data;
		if (o->type == MSGPACK_OBJECT_ARRAY && o->via.array.size == 3 &&
		    o->via.array.ptr[0].type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
		    o->via.array.ptr[0].via.u64 == PROTO_NOTIFY) {
			ev = xcalloc(1, sizeof *ev);
			ev->msg = r->msg;
			*c->events_tail = ev;
			c->events_tail = &ev->next;
			continue;
		}
		if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != 4 ||
		    o->via.array.ptr[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
		    o->via.array.ptr[0].via.u64 != PROTO_RESPONSE ||
		    o->via.array.ptr[1].type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
			msgpack_unpacked_destroy(&r->msg);
			return cr_fail(c, "unexpected message from connreqd");
		}
		if (o->via.array.ptr[1].via.u64 != msgid) {
			/* An answer to an earlier request nobody waits for. */
			msgpack_unpacked_destroy(&r->msg);
			continue;
		}
		reply_fill(r);
		return 0;
	}
}

int
cr_finish(struct cr_client *c, struct cr_reply *r)
{
	int64_t id = cr_send(c);

	memset(r, 0, sizeof *r);
	msgpack_unpacked_init(&r->msg);
	if (id < 0)
		return -1;
	msgpack_unpacked_destroy(&r->msg);
	return cr_wait(c, (uint32_t)id, r);
}

void
cr_request_id(char id[CR_REQUEST_ID_SIZE])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[16];
	size_t got = 0;
	ssize_t n;
	int i;

	while (got < sizeof b) {
		n = getrandom(b + got, sizeof b - got, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			fatal("getrandom: %s", strerror(errno));
		got += (size_t)n;
	}
	for (i = 0; i < 16; i++) {
		id[2 * i] = hex[b[i] >> 4];
		id[2 * i + 1] = hex[b[i] & 15];
	}
	id[32] = '\0';
}

/* Connects c again to its socket, dropping what the old connection had
 * half read. 0, or -1 with c's error set. */
static int
cr_redial(struct cr_client *c)
{
	char err[256];
	int fd;

	if ((fd = cr_dial(c->path, err, sizeof err)) == -1)
		return cr_fail(c, "%s", err);
	if (c->fd != -1)
		close(c->fd);
	c->fd = fd;
	msgpack_unpacker_destroy(&c->up);
	if (!msgpack_unpacker_init(&c->up, CR_READ_CHUNK))
		fatal("out of memory");
	return 0;
}

/* The request started last, its argument map with request_id = id added:
 * into out (msgpack_sbuffer_init'ed). -1 when its map cannot be read. */
static int
cr_with_id(struct cr_client *c, const char *id, msgpack_sbuffer *out)
{
	const unsigned char *p = (const unsigned char *)c->req.data +
	    c->args_at;
	size_t left = c->req.size - c->args_at, hdr;
	msgpack_packer pk;
	uint32_t n;

	if (left == 0) {
		n = 0;
		hdr = 0;
	} else if ((p[0] & 0xf0) == 0x80) {
		n = p[0] & 0x0f;
		hdr = 1;
	} else if (p[0] == 0xde && left >= 3) {
		n = (uint32_t)p[1] << 8 | p[2];
		hdr = 3;
	} else if (p[0] == 0xdf && left >= 5) {
		n = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 |
		    (uint32_t)p[3] << 8 | p[4];
		hdr = 5;
	} else
		return -1;
	msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
	msgpack_sbuffer_write(out, c->req.data, c->args_at);
	msgpack_pack_map(&pk, n + 1);
	msgpack_sbuffer_write(out, (const char *)p + hdr, left - hdr);
	pk_str(&pk, "request_id");
	pk_str(&pk, id);
	return 0;
}

int
cr_finish_retry(struct cr_client *c, struct cr_reply *r, int tries)
{
	msgpack_sbuffer msg;
	char id[CR_REQUEST_ID_SIZE];
	uint32_t msgid;
	int i, rc = -1;

	memset(r, 0, sizeof *r);
	msgpack_unpacked_init(&r->msg);
	if (!c->started)
		return cr_fail(c, "no request started");
	c->started = false;
	cr_request_id(id);
	msgpack_sbuffer_init(&msg);
	if (cr_with_id(c, id, &msg) == -1) {
		msgpack_sbuffer_destroy(&msg);
		return cr_fail(c, "the request's arguments are not one map");
	}
	/* The msgid is the 3rd element: the same bytes go again, under the
	 * same msgid, on each connection. */
	msgid = c->next_msgid++;
	for (i = 0; i < (tries < 1 ? 1 : tries); i++) {
		if (i > 0 && cr_redial(c) == -1) {
			struct timespec ts = { 0, 200 * 1000 * 1000 };

			nanosleep(&ts, NULL);	/* the daemon restarting */
			continue;
		}
		msgpack_unpacked_destroy(&r->msg);
		if (cr_send_raw(c, msg.data, msg.size) == -1) {
			msgpack_unpacked_init(&r->msg);
			continue;
		}
		if ((rc = cr_wait(c, msgid, r)) == 0)
			break;
		msgpack_unpacked_init(&r->msg);
	}
	msgpack_sbuffer_destroy(&msg);
	return rc;
}

void
cr_reply_free(struct cr_reply *r)
{
	msgpack_unpacked_destroy(&r->msg);
	memset(r, 0, sizeof *r);
}

int
cr_next_event(struct cr_client *c, struct cr_reply *r, int timeout_ms)
{
	struct cr_event *ev = c->events;
	const msgpack_object *o, *params;
	int rc;

	memset(r, 0, sizeof *r);
	for (;;) {
		if (ev != NULL) {
			c->events = ev->next;
			if (c->events == NULL)
				c->events_tail = &c->events;
			r->msg = ev->msg;
			free(ev);
		} else {
			msgpack_unpacked_init(&r->msg);
			rc = cr_read_message(c, &r->msg, timeout_ms);
			if (rc != 0) {
				msgpack_unpacked_destroy(&r->msg);
				return rc;
			}
		}
		o = &r->msg.data;
		if (o->type == MSGPACK_OBJECT_ARRAY && o->via.array.size == 3 &&
		    o->via.array.ptr[0].type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
		    o->via.array.ptr[0].via.u64 == PROTO_NOTIFY) {
			params = &o->via.array.ptr[2];
			r->result = params->type == MSGPACK_OBJECT_ARRAY &&
			    params->via.array.size > 0 ?
			    &params->via.array.ptr[0] : params;
			return 0;
		}
		/* A stray response: drop it. */
		msgpack_unpacked_destroy(&r->msg);
		ev = NULL;
	}
}

const msgpack_object *
cr_get(const msgpack_object *map, const char *key)
{
	return proto_map_get(map, key);
}
