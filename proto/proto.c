/* proto/proto.c: error codes, framing, request shape, argument getters and
 * packing helpers. Decoding itself is msgpack-c's; this file makes sure a
 * message is whole, bounded and shallow before msgpack-c sees it. */
#include "proto.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../common/be.h"
#include "../common/util.h"
#include "vocab.h"

static const char *const proto_code_names[] = {
#define PROTO_NAME(name, str) str,
	PROTO_ERRORS(PROTO_NAME)
#undef PROTO_NAME
};

const char *
proto_code_name(enum proto_code code)
{
	if ((unsigned)code >= PE_COUNT)
		return "INTERNAL";
	return proto_code_names[code];
}

enum proto_code
proto_code_from(const char *s, size_t len)
{
	return (enum proto_code)proto_word_find(proto_code_names, PE_COUNT, s,
	    len);
}

int
proto_fail(struct proto_error *e, enum proto_code code, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	e->retry_at = 0;
	e->oldest = 0;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof e->message, fmt, ap);
	va_end(ap);
	return -1;
}

/* The shape of one msgpack header: hdr bytes of header, then either payload
 * bytes of raw data or count child objects. */
struct mp_head {
	size_t hdr;		/* bytes of the header itself */
	size_t lenbytes;	/* bytes of length that follow the type byte */
	uint64_t payload;	/* raw bytes after the header */
	uint64_t count;		/* child objects (maps: twice the pairs) */
	bool container;
	bool map;
};

/* Classifies type byte b. Returns false for the never-used 0xc1. The length
 * fields, when there are any, are filled in by mp_head_finish(). */
static bool
mp_head_start(unsigned char b, struct mp_head *h)
{
	memset(h, 0, sizeof *h);
	h->hdr = 1;
	if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
		return true;
	if (b >= 0x80 && b <= 0x8f) {
		h->container = h->map = true;
		h->count = 2u * (b & 0x0f);
		return true;
	}
	if (b >= 0x90 && b <= 0x9f) {
		h->container = true;
		h->count = b & 0x0f;
		return true;
	}
	if (b >= 0xa0 && b <= 0xbf) {
		h->payload = b & 0x1f;
		return true;
	}
	switch (b) {
	case 0xc4: case 0xd9: h->lenbytes = 1; break;
	case 0xc5: case 0xda: h->lenbytes = 2; break;
	case 0xc6: case 0xdb: h->lenbytes = 4; break;
	case 0xc7: h->lenbytes = 1; h->payload = 1; break;	/* + type */
	case 0xc8: h->lenbytes = 2; h->payload = 1; break;
	case 0xc9: h->lenbytes = 4; h->payload = 1; break;
	case 0xca: h->payload = 4; break;
	case 0xcb: h->payload = 8; break;
	case 0xcc: case 0xd0: h->payload = 1; break;
	case 0xcd: case 0xd1: h->payload = 2; break;
	case 0xce: case 0xd2: h->payload = 4; break;
	case 0xcf: case 0xd3: h->payload = 8; break;
	case 0xd4: h->payload = 2; break;
	case 0xd5: h->payload = 3; break;
	case 0xd6: h->payload = 5; break;
	case 0xd7: h->payload = 9; break;
	case 0xd8: h->payload = 17; break;
	case 0xdc: h->lenbytes = 2; h->container = true; break;
	case 0xdd: h->lenbytes = 4; h->container = true; break;
	case 0xde: h->lenbytes = 2; h->container = h->map = true; break;
	case 0xdf: h->lenbytes = 4; h->container = h->map = true; break;
	default:
		return false;	/* 0xc1 */
	}
	h->hdr += h->lenbytes;
	return true;
}

static void
mp_head_finish(const unsigned char *lenp, struct mp_head *h)
{
	uint64_t n;

	if (h->lenbytes == 0)
		return;
	n = be_get(lenp, h->lenbytes);
	if (h->map)
		h->count = 2 * n;
	else if (h->container)
		h->count = n;
	else
		h->payload += n;
}

/* Every verdict but MORE is taken from the bytes before pos and from max
 * alone, never from len: a prefix of a message then scans as MORE or exactly
 * as the whole message does, however its bytes arrive. And no object may
 * reach past max, so once len >= max the verdict is in. */
enum proto_scan
proto_scan(const char *buf, size_t len, size_t max, size_t *msglen,
    const char **why)
{
	const unsigned char *p = (const unsigned char *)buf;
	uint64_t left[PROTO_MAX_DEPTH + 1], elements = 0;
	struct mp_head h;
	size_t pos = 0;
	int depth = 0;

	*why = NULL;
	left[0] = 1;
	for (;;) {
		while (left[depth] == 0) {
			if (depth == 0) {
				*msglen = pos;
				return PROTO_SCAN_OK;
			}
			depth--;
		}
		/* Another object: at least one more byte. */
		if (pos >= max)
			goto too_large;
		if (pos >= len)
			return PROTO_SCAN_MORE;
		if (!mp_head_start(p[pos], &h)) {
			*why = "invalid type byte 0xc1";
			return PROTO_SCAN_BAD;
		}
		/* A header that would end past max is too large, whether
		 * its length bytes have arrived or not. */
		if (h.hdr > max - pos)
			goto too_large;
		if (h.hdr > len - pos)
			return PROTO_SCAN_MORE;
		mp_head_finish(p + pos + 1, &h);
		pos += h.hdr;
		left[depth]--;
		if (h.container) {
			/* Each element takes at least one byte. */
			if (h.count > max - pos) {
				*why = "a container declares more elements than the message can hold";
				return PROTO_SCAN_BAD;
			}
			/* What msgpack-c would allocate, bounded. */
			elements += h.map ? h.count / 2 : h.count;
			if (elements > PROTO_MAX_ELEMENTS(max)) {
				*why = "too many elements: more array elements and map pairs than max_message_bytes / 16";
				return PROTO_SCAN_TOO_LARGE;
			}
			if (h.count > 0) {
				if (depth + 1 > PROTO_MAX_DEPTH) {
					*why = "nested too deeply";
					return PROTO_SCAN_BAD;
				}
				left[++depth] = h.count;
			}
		} else {
			if (h.payload > max - pos)
				goto too_large;
			if (h.payload > len - pos)
				return PROTO_SCAN_MORE;
			pos += (size_t)h.payload;
		}
	}
too_large:
	*why = "message longer than max_message_bytes";
	return PROTO_SCAN_TOO_LARGE;
}

bool
proto_peek_msgid(const char *buf, size_t len, uint32_t *msgid)
{
	const unsigned char *p = (const unsigned char *)buf;
	size_t pos;

	if (len >= 1 && p[0] == 0x94)
		pos = 1;
	else if (len >= 3 && p[0] == 0xdc && be_get(p + 1, 2) == 4)
		pos = 3;
	else if (len >= 5 && p[0] == 0xdd && be_get(p + 1, 4) == 4)
		pos = 5;
	else
		return false;
	if (pos >= len || p[pos] != 0x00)
		return false;
	pos++;
	if (pos >= len)
		return false;
	if (p[pos] <= 0x7f) {
		*msgid = p[pos];
		return true;
	}
	switch (p[pos]) {
	case 0xcc:
		if (pos + 2 > len)
			return false;
		*msgid = p[pos + 1];
		return true;
	case 0xcd:
		if (pos + 3 > len)
			return false;
		*msgid = (uint32_t)be_get(p + pos + 1, 2);
		return true;
	case 0xce:
		if (pos + 5 > len)
			return false;
		*msgid = (uint32_t)be_get(p + pos + 1, 4);
		return true;
	case 0xcf:
		if (pos + 9 > len || be_get(p + pos + 1, 8) > UINT32_MAX)
			return false;
		*msgid = (uint32_t)be_get(p + pos + 1, 8);
		return true;
	}
	return false;
}

void
proto_frame(const char *buf, size_t len, size_t max, struct proto_frame *f)
{
	memset(f, 0, sizeof *f);
	f->scan = proto_scan(buf, len, max, &f->msglen, &f->why);
	if (f->scan != PROTO_SCAN_BAD && f->scan != PROTO_SCAN_TOO_LARGE)
		return;
	f->code = f->scan == PROTO_SCAN_BAD ? PE_MALFORMED : PE_TOO_LARGE;
	f->have_msgid = proto_peek_msgid(buf, len < 16 ? len : 16, &f->msgid);
}

int
proto_decode(const char *bytes, size_t len, msgpack_unpacked *msg,
    struct proto_request *r, bool *have_msgid, bool *close,
    struct proto_error *e)
{
	size_t off = 0;

	*close = false;
	if (msgpack_unpack_next(msg, bytes, len, &off) !=
	    MSGPACK_UNPACK_SUCCESS || off != len) {
		*have_msgid = proto_peek_msgid(bytes, len, &r->msgid);
		*close = true;
		return proto_fail(e, PE_MALFORMED, "malformed message");
	}
	if (proto_parse_request(&msg->data, r, have_msgid, e) == -1) {
		/* A message that is not even a request closes the client. */
		*close = e->code == PE_MALFORMED;
		return -1;
	}
	return 0;
}

int
proto_parse_request(const msgpack_object *o, struct proto_request *r,
    bool *have_msgid, struct proto_error *e)
{
	static const msgpack_object empty = { .type = MSGPACK_OBJECT_MAP };
	const msgpack_object *a, *params;

	*have_msgid = false;
	if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != 4)
		return proto_fail(e, PE_MALFORMED,
		    "a request is an array of 4: [0, msgid, method, [args]]");
	a = o->via.array.ptr;
	if (a[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER || a[0].via.u64 != 0)
		return proto_fail(e, PE_MALFORMED,
		    "only requests (type 0) are accepted");
	if (a[1].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    a[1].via.u64 > UINT32_MAX)
		return proto_fail(e, PE_MALFORMED,
		    "msgid must be an unsigned 32-bit integer");
	r->msgid = (uint32_t)a[1].via.u64;
	*have_msgid = true;
	if (a[2].type != MSGPACK_OBJECT_STR || a[2].via.str.size == 0)
		return proto_fail(e, PE_MALFORMED, "method must be a string");
	r->method = a[2].via.str.ptr;
	r->method_len = a[2].via.str.size;
	params = &a[3];
	if (params->type != MSGPACK_OBJECT_ARRAY || params->via.array.size > 1)
		return proto_fail(e, PE_INVALID_ARGUMENT,
		    "params must be an array holding one map of named arguments");
	if (params->via.array.size == 0)
		r->args = &empty;
	else if (params->via.array.ptr[0].type != MSGPACK_OBJECT_MAP)
		return proto_fail(e, PE_INVALID_ARGUMENT,
		    "params must be an array holding one map of named arguments");
	else
		r->args = &params->via.array.ptr[0];
	return 0;
}

void
proto_echo(char *buf, size_t n, const char *s, size_t len)
{
	size_t keep = len, i, o;
	unsigned char ch;

	if (n < 8) {
		buf[0] = '\0';
		return;
	}
	if (keep > n - 4)
		keep = n - 4;
	/* Back off to a character boundary, then to valid text. */
	while (keep > 0 && keep < len && ((unsigned char)s[keep] & 0xc0) == 0x80)
		keep--;
	while (keep > 0 && !utf8_valid(s, keep))
		keep--;
	/* Control characters (C0, DEL, C1: U+0080-U+009F, c2 80..c2 9f)
	 * become '?'; the text is valid UTF-8 here, so c2 has its second
	 * byte. */
	for (i = o = 0; i < keep; i++) {
		ch = (unsigned char)s[i];
		if (ch < 0x20 || ch == 0x7f)
			buf[o++] = '?';
		else if (ch == 0xc2 && i + 1 < keep &&
		    (unsigned char)s[i + 1] <= 0x9f) {
			buf[o++] = '?';
			i++;
		} else
			buf[o++] = s[i];
	}
	if (keep < len)
		memcpy(buf + o, "...", 3), o += 3;
	buf[o] = '\0';
}

bool
proto_obj_is_str(const msgpack_object *o, const char *s)
{
	size_t n = strlen(s);

	return o->type == MSGPACK_OBJECT_STR && o->via.str.size == n &&
	    memcmp(o->via.str.ptr, s, n) == 0;
}

const msgpack_object *
proto_map_get(const msgpack_object *map, const char *key)
{
	uint32_t i;

	if (map == NULL || map->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (i = 0; i < map->via.map.size; i++)
		if (proto_obj_is_str(&map->via.map.ptr[i].key, key))
			return &map->via.map.ptr[i].val;
	return NULL;
}

void
args_init(struct args *a, const msgpack_object *map, struct proto_error *err)
{
	a->map = &map->via.map;
	a->used = 0;
	a->err = err;
	a->failed = false;
	if (a->map->size > 64) {
		a->failed = true;
		proto_fail(err, PE_INVALID_ARGUMENT, "too many arguments");
	}
}

/* The value of key, marked as read; NULL when absent (an error when
 * required). nil counts as absent. */
static const msgpack_object *
args_get(struct args *a, const char *key, bool required)
{
	uint32_t i;

	if (a->failed)
		return NULL;
	for (i = 0; i < a->map->size && i < 64; i++) {
		if (!proto_obj_is_str(&a->map->ptr[i].key, key))
			continue;
		a->used |= UINT64_C(1) << i;
		if (a->map->ptr[i].val.type == MSGPACK_OBJECT_NIL)
			break;
		return &a->map->ptr[i].val;
	}
	if (required) {
		a->failed = true;
		proto_fail(a->err, PE_INVALID_ARGUMENT,
		    "missing argument '%s'", key);
	}
	return NULL;
}

bool
args_nil(struct args *a, const char *key)
{
	uint32_t i;

	for (i = 0; i < a->map->size && i < 64; i++)
		if (proto_obj_is_str(&a->map->ptr[i].key, key)) {
			a->used |= UINT64_C(1) << i;
			return a->map->ptr[i].val.type == MSGPACK_OBJECT_NIL;
		}
	return false;
}

static bool
args_bad(struct args *a, const char *key, const char *want)
{
	a->failed = true;
	proto_fail(a->err, PE_INVALID_ARGUMENT, "argument '%s' must be %s",
	    key, want);
	return false;
}

bool
args_str(struct args *a, const char *key, bool required, const char **s,
    size_t *len)
{
	const msgpack_object *o = args_get(a, key, required);

	if (o == NULL)
		return false;
	if (o->type != MSGPACK_OBJECT_STR)
		return args_bad(a, key, "a string");
	if (!utf8_valid(o->via.str.ptr, o->via.str.size))
		return args_bad(a, key, "valid UTF-8");
	*s = o->via.str.ptr;
	*len = o->via.str.size;
	return true;
}

bool
args_member(struct args *a, const char *key, bool required, const char **s,
    size_t *len)
{
	if (!args_str(a, key, required, s, len))
		return false;
	if (!member_id_valid(*s, *len))
		return args_bad(a, key,
		    "a member id: 1 to 64 bytes of UTF-8, no control characters");
	return true;
}

bool
args_text(struct args *a, const char *key, bool required, const char **s,
    size_t *len)
{
	size_t i;
	unsigned char ch;

	if (!args_str(a, key, required, s, len))
		return false;
	for (i = 0; i < *len; i++) {
		ch = (unsigned char)(*s)[i];
		if ((ch < 0x20 && ch != '\t' && ch != '\n') || ch == 0x7f)
			return args_bad(a, key,
			    "text without control characters (tab and newline allowed)");
	}
	return true;
}

bool
args_uint(struct args *a, const char *key, bool required, uint64_t *v)
{
	const msgpack_object *o = args_get(a, key, required);

	if (o == NULL)
		return false;
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return args_bad(a, key, "a non-negative integer");
	*v = o->via.u64;
	return true;
}

bool
args_array(struct args *a, const char *key, bool required,
    const msgpack_object_array **v)
{
	const msgpack_object *o = args_get(a, key, required);

	if (o == NULL)
		return false;
	if (o->type != MSGPACK_OBJECT_ARRAY)
		return args_bad(a, key, "an array");
	*v = &o->via.array;
	return true;
}

bool
args_int(struct args *a, const char *key, bool required, int64_t *v)
{
	const msgpack_object *o = args_get(a, key, required);

	if (o == NULL)
		return false;
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
	    o->via.u64 <= INT64_MAX)
		*v = (int64_t)o->via.u64;
	else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		*v = o->via.i64;
	else
		return args_bad(a, key, "an integer");
	return true;
}

bool
args_bool(struct args *a, const char *key, bool required, bool *v)
{
	const msgpack_object *o = args_get(a, key, required);

	if (o == NULL)
		return false;
	if (o->type != MSGPACK_OBJECT_BOOLEAN)
		return args_bad(a, key, "true or false");
	*v = o->via.boolean;
	return true;
}

bool
args_enum(struct args *a, const char *key, bool required,
    const char *const *words, int *index)
{
	const msgpack_object *o = args_get(a, key, required);
	char want[128];
	size_t off = 0;
	int i;

	if (o == NULL)
		return false;
	for (i = 0; words[i] != NULL; i++)
		if (proto_obj_is_str(o, words[i])) {
			*index = i;
			return true;
		}
	want[0] = '\0';
	for (i = 0; words[i] != NULL && off < sizeof want; i++)
		off += (size_t)snprintf(want + off, sizeof want - off, "%s\"%s\"",
		    i == 0 ? "one of " : ", ", words[i]);
	return args_bad(a, key, want);
}

int
args_done(struct args *a)
{
	uint32_t i;
	const msgpack_object *k;
	char name[72];

	if (a->failed)
		return -1;
	for (i = 0; i < a->map->size; i++) {
		if (a->used & (UINT64_C(1) << i))
			continue;
		k = &a->map->ptr[i].key;
		if (k->type == MSGPACK_OBJECT_STR) {
			proto_echo(name, sizeof name, k->via.str.ptr,
			    k->via.str.size);
			proto_fail(a->err, PE_INVALID_ARGUMENT,
			    "unknown or repeated argument '%s'", name);
		} else
			proto_fail(a->err, PE_INVALID_ARGUMENT,
			    "argument names must be strings");
		a->failed = true;
		return -1;
	}
	return 0;
}

void
pk_strn(msgpack_packer *pk, const char *s, size_t n)
{
	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

void
pk_str(msgpack_packer *pk, const char *s)
{
	pk_strn(pk, s, strlen(s));
}

void
pk_key(msgpack_packer *pk, const char *key)
{
	pk_str(pk, key);
}

void
pk_kstr(msgpack_packer *pk, const char *key, const char *s)
{
	pk_str(pk, key);
	pk_str(pk, s);
}

void
pk_kstrn(msgpack_packer *pk, const char *key, const char *s, size_t n)
{
	pk_str(pk, key);
	pk_strn(pk, s, n);
}

void
pk_kuint(msgpack_packer *pk, const char *key, uint64_t v)
{
	pk_str(pk, key);
	msgpack_pack_uint64(pk, v);
}

void
pk_kint(msgpack_packer *pk, const char *key, int64_t v)
{
	pk_str(pk, key);
	msgpack_pack_int64(pk, v);
}

void
pk_kbool(msgpack_packer *pk, const char *key, bool v)
{
	pk_str(pk, key);
	if (v)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
}

void
pk_knil(msgpack_packer *pk, const char *key)
{
	pk_str(pk, key);
	msgpack_pack_nil(pk);
}

void
proto_pack_error(msgpack_packer *pk, const struct proto_error *e)
{
	bool oldest = e->code == PE_CURSOR_EXPIRED;

	msgpack_pack_map(pk, 2 + (e->retry_at ? 1 : 0) + (oldest ? 1 : 0));
	pk_kstr(pk, "code", proto_code_name(e->code));
	pk_kstr(pk, "message", e->message);
	if (e->retry_at)
		pk_kint(pk, "retry_at", e->retry_at);
	if (oldest)
		pk_kuint(pk, "oldest", e->oldest);
}

void
proto_pack_error_response(msgpack_packer *pk, uint32_t msgid,
    const struct proto_error *e)
{
	msgpack_pack_array(pk, 4);
	msgpack_pack_uint8(pk, PROTO_RESPONSE);
	msgpack_pack_uint32(pk, msgid);
	proto_pack_error(pk, e);
	msgpack_pack_nil(pk);
}
