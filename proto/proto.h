/* proto/proto.h: the wire protocol shared by connreqd and its clients.
 *
 * msgpack-rpc over a SOCK_STREAM Unix socket:
 *   request       [0, msgid, method, [ {args} ]]
 *   response      [1, msgid, error|nil, result|nil]
 *   notification  [2, "event", [ {event} ]]
 * docs/protocol.md is the contract; this header is its C form.
 */
#ifndef CONNREQ_PROTO_H
#define CONNREQ_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#define PROTO_VERSION 1
#define PROTO_SERVER_NAME "connreqd"

#define PROTO_REQUEST 0
#define PROTO_RESPONSE 1
#define PROTO_NOTIFY 2

#define PROTO_MAX_MESSAGE_DEFAULT 65536
#define PROTO_MAX_DEPTH 16
/* Decoded size: a message of at most max bytes may hold at most
 * PROTO_MAX_ELEMENTS(max) array elements and map pairs, nested ones
 * included. msgpack-c decodes an element into a 24-byte msgpack_object (a
 * pair into two), so a message decodes to at most about 3 * max bytes plus
 * its zone's overhead, whatever its shape (65,000 nils would take 1.6 MB).
 * A request needs 5 plus one per argument: far below the default's 4096,
 * and within the 64 of the smallest max_message_bytes (1024) up to 59
 * arguments, where a method takes a handful. */
#define PROTO_MAX_ELEMENTS(max) ((max) / 16)

/* Every error code, in one place: the enum name and its wire string. */
#define PROTO_ERRORS(X) \
	X(OK, "OK") \
	X(INVALID_ARGUMENT, "INVALID_ARGUMENT") \
	X(NOT_FOUND, "NOT_FOUND") \
	X(NOT_PERMITTED, "NOT_PERMITTED") \
	X(SELF_INVITE, "SELF_INVITE") \
	X(ALREADY_CONNECTED, "ALREADY_CONNECTED") \
	X(ALREADY_PENDING, "ALREADY_PENDING") \
	X(INVALID_STATE, "INVALID_STATE") \
	X(COOLDOWN, "COOLDOWN") \
	X(NOTE_TOO_LONG, "NOTE_TOO_LONG") \
	X(UNKNOWN_METHOD, "UNKNOWN_METHOD") \
	X(TOO_LARGE, "TOO_LARGE") \
	X(MALFORMED, "MALFORMED") \
	X(STORE_FULL, "STORE_FULL") \
	X(CURSOR_EXPIRED, "CURSOR_EXPIRED") \
	X(RATE_LIMITED, "RATE_LIMITED") \
	X(PENDING_CAP, "PENDING_CAP") \
	X(PAIR_LIMIT, "PAIR_LIMIT") \
	X(EMAIL_REQUIRED, "EMAIL_REQUIRED") \
	X(RESTRICTED, "RESTRICTED") \
	X(INTERNAL, "INTERNAL") \
	X(UNAVAILABLE, "UNAVAILABLE") \
	X(CONFLICT, "CONFLICT")

enum proto_code {
#define PROTO_ENUM(name, str) PE_##name,
	PROTO_ERRORS(PROTO_ENUM)
#undef PROTO_ENUM
	PE_COUNT
};

const char *proto_code_name(enum proto_code code);
/* PE_COUNT when the string names no code. */
enum proto_code proto_code_from(const char *s, size_t len);

/* An error to send back: code, one-line message, and retry_at (0: none). */
struct proto_error {
	enum proto_code code;
	int64_t retry_at;
	uint64_t oldest;	/* CURSOR_EXPIRED: the smallest cursor accepted + 1 */
	char message[256];
};

int proto_fail(struct proto_error *e, enum proto_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Framing. Scans buf[0..len) for one whole msgpack object without
 * allocating. Every array or map header is checked against what a message of
 * at most max bytes could hold, and nesting against PROTO_MAX_DEPTH, before
 * anything is unpacked. The verdict does not depend on how the bytes arrive:
 * a prefix of a message scans as MORE or exactly as the whole does (same
 * verdict, *msglen and *why), and once len >= max it is never MORE. */
enum proto_scan {
	PROTO_SCAN_OK,		/* *msglen bytes hold one whole object */
	PROTO_SCAN_MORE,	/* incomplete: read more */
	PROTO_SCAN_BAD,		/* malformed: *why says how */
	PROTO_SCAN_TOO_LARGE,	/* longer than max, or more elements than
				 * PROTO_MAX_ELEMENTS(max) */
};
enum proto_scan proto_scan(const char *buf, size_t len, size_t max,
    size_t *msglen, const char **why);

/* Reads the msgid of what looks like a request, even when the rest of the
 * message is bad; false when none can be read. */
bool proto_peek_msgid(const char *buf, size_t len, uint32_t *msgid);

/* One step of reading a stream, as connreqd reads a client's: buf[0..len)
 * is what has arrived and not been taken yet (at most max + 16 bytes of it
 * are needed). scan is proto_scan()'s verdict; on OK, msglen bytes hold the
 * next message; on BAD or TOO_LARGE the stream is refused: code (MALFORMED
 * or TOO_LARGE) and why are the answer, sent under msgid when one can be
 * read from the first 16 bytes. */
struct proto_frame {
	enum proto_scan scan;
	size_t msglen;
	enum proto_code code;
	const char *why;
	bool have_msgid;
	uint32_t msgid;
};
void proto_frame(const char *buf, size_t len, size_t max,
    struct proto_frame *f);

/* A request, validated in shape. args is the single map (never NULL). */
struct proto_request {
	uint32_t msgid;
	const char *method;
	size_t method_len;
	const msgpack_object *args;
};
/* 0, or -1 with e filled; *have_msgid says whether msgid could be read. */
int proto_parse_request(const msgpack_object *o, struct proto_request *r,
    bool *have_msgid, struct proto_error *e);
/* Decodes one whole message, bytes[0..len) as proto_frame() delimited it,
 * into msg (msgpack_unpacked_init'ed by the caller, who destroys it; the
 * objects point into bytes) and reads it as a request: 0, or -1 with e the
 * answer. *have_msgid: r->msgid can be answered. *close: the message is not
 * even a request (MALFORMED), so nothing after it is read. */
int proto_decode(const char *bytes, size_t len, msgpack_unpacked *msg,
    struct proto_request *r, bool *have_msgid, bool *close,
    struct proto_error *e);

/* Named arguments with a sticky error: call the getters, then args_done()
 * once, which also refuses keys no getter asked for. */
struct args {
	const msgpack_object_map *map;
	uint64_t used;		/* bit i: key i was read */
	struct proto_error *err;
	bool failed;
};
void args_init(struct args *a, const msgpack_object *map, struct proto_error *err);
/* Each returns true when the key was present and valid. */
bool args_str(struct args *a, const char *key, bool required,
    const char **s, size_t *len);
bool args_member(struct args *a, const char *key, bool required,
    const char **s, size_t *len);
/* Free text (a note): valid UTF-8 with no control characters but tab and
 * newline. */
bool args_text(struct args *a, const char *key, bool required,
    const char **s, size_t *len);
bool args_uint(struct args *a, const char *key, bool required, uint64_t *v);
bool args_bool(struct args *a, const char *key, bool required, bool *v);
/* One of a NULL-terminated list of words; *index is its position. */
bool args_enum(struct args *a, const char *key, bool required,
    const char *const *words, int *index);
/* An array (of anything: the caller reads its items). */
bool args_array(struct args *a, const char *key, bool required,
    const msgpack_object_array **v);
/* A time, Unix seconds: an integer, negative ones too. */
bool args_int(struct args *a, const char *key, bool required, int64_t *v);
/* Whether key is given as nil (which the getters take as absent): a
 * setting reset to its default. */
bool args_nil(struct args *a, const char *key);
/* 0 when every argument was valid and known, -1 otherwise. */
int args_done(struct args *a);

/* Packing helpers. Strings are length-delimited on the wire. */
void pk_str(msgpack_packer *pk, const char *s);
void pk_strn(msgpack_packer *pk, const char *s, size_t n);
void pk_kstr(msgpack_packer *pk, const char *key, const char *s);
void pk_kstrn(msgpack_packer *pk, const char *key, const char *s, size_t n);
void pk_kuint(msgpack_packer *pk, const char *key, uint64_t v);
void pk_kint(msgpack_packer *pk, const char *key, int64_t v);
void pk_kbool(msgpack_packer *pk, const char *key, bool v);
void pk_knil(msgpack_packer *pk, const char *key);
void pk_key(msgpack_packer *pk, const char *key);

/* [1, msgid, error, nil]: an error response. */
void proto_pack_error_response(msgpack_packer *pk, uint32_t msgid,
    const struct proto_error *e);
/* The error map alone. */
void proto_pack_error(msgpack_packer *pk, const struct proto_error *e);

/* A client's string made safe to quote in a message: valid UTF-8, at most
 * n - 1 bytes, cut at a character boundary, "..." when cut, each control
 * character (U+0000-U+001F, U+007F-U+009F) a '?'. */
void proto_echo(char *buf, size_t n, const char *s, size_t len);

/* Reading objects. */
const msgpack_object *proto_map_get(const msgpack_object *map, const char *key);
bool proto_obj_is_str(const msgpack_object *o, const char *s);

#endif
