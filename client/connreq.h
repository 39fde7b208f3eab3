/* connreq.h: a small client library for connreqd.
 *
 *   struct cr_client *c = cr_connect(NULL, err, sizeof err);
 *   msgpack_packer *pk = cr_request(c, "invite.send");
 *   msgpack_pack_map(pk, 2);
 *   ...pack "from" and "to"...
 *   struct cr_reply r;
 *   if (cr_finish(c, &r) == 0 && r.error == NULL) use(r.result);
 *   cr_reply_free(&r);
 *   cr_close(c);
 *
 * A request carries one map of named arguments (pack nothing for none).
 * Replies and events are msgpack objects that live until cr_reply_free().
 * docs/protocol.md describes every method. */
#ifndef CONNREQ_CLIENT_H
#define CONNREQ_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <msgpack.h>

struct cr_client;

struct cr_reply {
	msgpack_unpacked msg;
	const msgpack_object *error;	/* NULL on success */
	const msgpack_object *result;	/* the result, or the event */
	/* Of an error, for convenience (empty on success): */
	char code[32];
	char message[256];
	int64_t retry_at;		/* 0: none */
};

/* The socket connreq uses: $CONNREQ_SOCKET, else the daemon's default.
 * malloc'd. */
char *cr_default_socket(void);

/* Connects to path (NULL: cr_default_socket()). NULL with err set.
 * It trusts only a socket that is the user's own: before connecting, the
 * socket's directory must belong to the user (geteuid()) or root and be
 * writable by nobody else (a sticky directory of root's, like /tmp, is
 * allowed); once connected, the peer's uid (SO_PEERCRED) must be the
 * user's or root's. Otherwise it sends nothing and fails with errno EPERM
 * and err naming the path and what is wrong. */
struct cr_client *cr_connect(const char *path, char *err, size_t errlen);
void cr_close(struct cr_client *c);
int cr_fd(const struct cr_client *c);
const char *cr_strerror(const struct cr_client *c);

/* Starts a request; pack its argument map into the packer returned. */
msgpack_packer *cr_request(struct cr_client *c, const char *method);
/* Sends the request started last; returns its msgid, or -1. */
int64_t cr_send(struct cr_client *c);
/* Waits for the answer to msgid. 0 when it came (r->error says whether it
 * succeeded), -1 when the connection failed. Events that arrive meanwhile
 * are kept for cr_next_event(). */
int cr_wait(struct cr_client *c, uint32_t msgid, struct cr_reply *r);
/* cr_send() then cr_wait(). */
int cr_finish(struct cr_client *c, struct cr_reply *r);
void cr_reply_free(struct cr_reply *r);

/* Safe retries (docs/protocol.md §2.7). cr_request_id() writes a random
 * request id (32 hex digits and a NUL) into id. cr_finish_retry() is
 * cr_finish() for a write that must act once even when the connection
 * drops before its answer: the request started last (its arguments packed
 * as one map, or none) gets a request_id made here, and when the
 * connection fails before the answer, c connects again to the same socket
 * and sends the same request, same id, up to `tries` times in all (200 ms
 * apart while the socket refuses): the daemon answers a repeat with the
 * first answer. The daemon must list "request_id" in server.info's
 * features. Returns as cr_finish(); after -1, whether the write was
 * applied is unknown: call again later with the same arguments is not
 * safe, a read tells. */
#define CR_REQUEST_ID_SIZE 33
void cr_request_id(char id[CR_REQUEST_ID_SIZE]);
int cr_finish_retry(struct cr_client *c, struct cr_reply *r, int tries);

/* The next event notification; waits up to timeout_ms (-1: forever).
 * 0 with r->result the event, 1 on timeout, -1 on failure. */
int cr_next_event(struct cr_client *c, struct cr_reply *r, int timeout_ms);

/* Raw access, for tests and tools: bytes out, one whole message in. */
int cr_send_raw(struct cr_client *c, const void *buf, size_t len);
/* 0 with *out, 1 on timeout, -1 on failure or end of stream. */
int cr_read_message(struct cr_client *c, msgpack_unpacked *out,
    int timeout_ms);

/* Prints o as JSON. */
void cr_json_print(FILE *f, const msgpack_object *o);
/* Packs the JSON text s (n bytes, one value) into pk: strings as str, any
 * bytes they hold (\u0000 too), integers as int or uint, other numbers as
 * float64. 0, or -1 with err saying what is wrong and where (nothing
 * packed). */
int cr_json_pack(msgpack_packer *pk, const char *s, size_t n, char *err,
    size_t errlen);

/* Looks up key in a map object. */
const msgpack_object *cr_get(const msgpack_object *map, const char *key);

#endif
