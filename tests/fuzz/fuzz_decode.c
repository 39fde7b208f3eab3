/* tests/fuzz/fuzz_decode.c: the framing and the request decoder, as
 * connreqd reads a client's stream (proto_frame(), then proto_decode() on
 * each message it delimits; daemon/server.c's client_read and client_take).
 *
 * The input is a client's stream. It is read whole, then again as it might
 * arrive: twice in chunks whose sizes come from a PRNG seeded by the input,
 * and in two pieces, split at a point of the PRNG's and at each byte from
 * max - 1 to max + 8 (where a header straddles the limit), under
 * the default max_message_bytes (65536) and the smallest allowed (1024).
 * The two readings must give the same outcomes in the same order: each
 * message's length, its decoding's result, error code, message and msgid,
 * whether the connection closes, and the refusal (code, reason, msgid) that
 * ends the stream. Every message framed as whole must be exactly what
 * msgpack-c decodes from the stream at that point, and decode within the
 * bounds (PROTO_MAX_ELEMENTS, PROTO_MAX_DEPTH). */
#include <stdbool.h>
#include <string.h>

#include <msgpack.h>

#include "../../proto/proto.h"
#include "fuzz.h"

const char *fuzz_input_name;

#define OUT_MAX 256		/* outcomes compared per reading */

struct outcome {
	enum proto_scan scan;	/* OK: a message; BAD/TOO_LARGE: refused */
	size_t msglen;
	int rc;
	bool close;
	bool have_msgid;
	uint32_t msgid;
	enum proto_code code;
	char why[256];
};

struct reading {
	struct outcome out[OUT_MAX];
	size_t n;
	size_t taken;		/* bytes taken as messages */
	bool ended;		/* refused or closed: nothing more is read */
};

/* Array elements and map pairs of o, nested ones included; and its depth. */
static void
count_elements(const msgpack_object *o, int depth, uint64_t *elements,
    int *maxdepth)
{
	uint32_t i;

	if (depth > *maxdepth)
		*maxdepth = depth;
	if (o->type == MSGPACK_OBJECT_ARRAY) {
		*elements += o->via.array.size;
		for (i = 0; i < o->via.array.size; i++)
			count_elements(&o->via.array.ptr[i], depth + 1,
			    elements, maxdepth);
	} else if (o->type == MSGPACK_OBJECT_MAP) {
		*elements += o->via.map.size;
		for (i = 0; i < o->via.map.size; i++) {
			count_elements(&o->via.map.ptr[i].key, depth + 1,
			    elements, maxdepth);
			count_elements(&o->via.map.ptr[i].val, depth + 1,
			    elements, maxdepth);
		}
	}
}

/* Reads what has arrived, buf[0..len) from the start of the stream, as
 * client_read does: frames and decodes every whole message. */
static void
reading_step(struct reading *r, const uint8_t *buf, size_t len, size_t max)
{
	const char *p;
	size_t n, off;
	struct proto_frame f;
	struct proto_request req;
	struct outcome *o;
	msgpack_unpacked msg, check;
	msgpack_unpack_return ur;
	struct proto_error err;
	uint64_t elements;
	uint32_t peeked;
	int depth;

	while (!r->ended && r->taken < len && r->n < OUT_MAX) {
		p = (const char *)buf + r->taken;
		n = len - r->taken;
		/* What the server pulls up of its input. */
		proto_frame(p, n < max + 16 ? n : max + 16, max, &f);
		if (f.scan == PROTO_SCAN_MORE) {
			FUZZ_CHECK(n < max, "MORE with %zu bytes, max %zu", n,
			    max);
			return;
		}
		o = &r->out[r->n++];
		memset(o, 0, sizeof *o);
		o->scan = f.scan;
		if (f.scan != PROTO_SCAN_OK) {
			FUZZ_CHECK(f.why != NULL, "a refusal without a reason");
			FUZZ_CHECK(f.code == PE_MALFORMED ||
			    f.code == PE_TOO_LARGE, "refused with %s",
			    proto_code_name(f.code));
			o->code = f.code;
			o->have_msgid = f.have_msgid;
			o->msgid = f.msgid;
			snprintf(o->why, sizeof o->why, "%s", f.why);
			r->ended = true;
			return;
		}
		FUZZ_CHECK(f.msglen > 0 && f.msglen <= max && f.msglen <= n,
		    "msglen %zu of %zu, max %zu", f.msglen, n, max);
		/* The framing agrees with msgpack-c on where the message
		 * ends, with the rest of the stream after it. */
		msgpack_unpacked_init(&check);
		off = 0;
		ur = msgpack_unpack_next(&check, p, n, &off);
		FUZZ_CHECK(ur == MSGPACK_UNPACK_SUCCESS && off == f.msglen,
		    "framed %zu bytes, msgpack-c says %d after %zu", f.msglen,
		    (int)ur, off);
		msgpack_unpacked_destroy(&check);

		msgpack_unpacked_init(&msg);
		memset(&req, 0, sizeof req);
		o->msglen = f.msglen;
		o->rc = proto_decode(p, f.msglen, &msg, &req, &o->have_msgid,
		    &o->close, &err);
		if (o->rc == 0) {
			FUZZ_CHECK(o->have_msgid && !o->close,
			    "a request without a msgid, or closing");
			FUZZ_CHECK(req.method_len > 0 && req.args != NULL &&
			    req.args->type == MSGPACK_OBJECT_MAP,
			    "a request without a method or an args map");
		} else {
			o->code = err.code;
			snprintf(o->why, sizeof o->why, "%s", err.message);
		}
		if (o->have_msgid)
			o->msgid = req.msgid;
		/* What a refusal would answer under: the request's own. */
		if (o->rc == 0 && proto_peek_msgid(p, f.msglen, &peeked))
			FUZZ_CHECK(peeked == req.msgid,
			    "msgid %u peeked, %u decoded", peeked, req.msgid);
		elements = 0;
		depth = 0;
		count_elements(&msg.data, 0, &elements, &depth);
		FUZZ_CHECK(elements <= PROTO_MAX_ELEMENTS(max),
		    "%llu elements decoded from %zu bytes, max %zu",
		    (unsigned long long)elements, f.msglen, max);
		FUZZ_CHECK(depth <= PROTO_MAX_DEPTH, "depth %d", depth);
		msgpack_unpacked_destroy(&msg);
		r->taken += f.msglen;
		if (o->close)
			r->ended = true;
	}
}

static void
compare(const struct reading *a, const struct reading *b, size_t max,
    size_t chunks)
{
	size_t i;
	const struct outcome *x, *y;

	FUZZ_CHECK(a->n == b->n && a->taken == b->taken && a->ended == b->ended,
	    "max %zu, %zu chunks: whole: %zu outcomes, %zu bytes taken%s; chunked: %zu, %zu%s",
	    max, chunks, a->n, a->taken, a->ended ? ", ended" : "", b->n,
	    b->taken, b->ended ? ", ended" : "");
	for (i = 0; i < a->n; i++) {
		x = &a->out[i];
		y = &b->out[i];
		FUZZ_CHECK(x->scan == y->scan && x->msglen == y->msglen &&
		    x->rc == y->rc && x->close == y->close &&
		    x->have_msgid == y->have_msgid && x->msgid == y->msgid &&
		    x->code == y->code && strcmp(x->why, y->why) == 0,
		    "max %zu, %zu chunks, outcome %zu: whole: scan %d len %zu %s \"%s\" msgid %d/%u; chunked: scan %d len %zu %s \"%s\" msgid %d/%u",
		    max, chunks, i, (int)x->scan, x->msglen,
		    proto_code_name(x->code), x->why, x->have_msgid, x->msgid,
		    (int)y->scan, y->msglen, proto_code_name(y->code), y->why,
		    y->have_msgid, y->msgid);
	}
}

/* The next chunk's size: mostly small, sometimes large, so that a header
 * gets split at every kind of place while a long stream stays cheap (each
 * arrival rescans what has not been taken, as the server does). */
static size_t
chunk_size(uint64_t *s, size_t size)
{
	uint64_t r = fuzz_rand(s);
	size_t big = size / 8 + 16;

	switch (r & 3) {
	case 0:
		return 1 + (size_t)((r >> 8) % 8);
	case 1:
		return 1 + (size_t)((r >> 8) % 64);
	default:
		return 1 + (size_t)((r >> 8) % big);
	}
}

static struct reading whole, chunked;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t maxes[] = { PROTO_MAX_MESSAGE_DEFAULT, 1024 };
	uint64_t seed = fuzz_hash(data, size), s;
	size_t m, k, at, chunks;

	for (m = 0; m < sizeof maxes / sizeof maxes[0]; m++) {
		memset(&whole, 0, sizeof whole);
		reading_step(&whole, data, size, maxes[m]);
		/* Two chunkings per max, from the input's own seed. */
		for (k = 0; k < 2; k++) {
			s = seed + 0x9e3779b97f4a7c15u * (2 * m + k + 1);
			memset(&chunked, 0, sizeof chunked);
			at = 0;
			chunks = 0;
			while (at < size && !chunked.ended) {
				at += chunk_size(&s, size);
				if (at > size)
					at = size;
				chunks++;
				reading_step(&chunked, data, at, maxes[m]);
			}
			compare(&whole, &chunked, maxes[m], chunks);
		}
		/* In two pieces: at a point of the PRNG's, and at each byte
		 * around max, where a header may straddle the limit. */
		for (k = 0; k < 10; k++) {
			at = k == 0 ? (size_t)(fuzz_rand(&s) % (size + 1)) :
			    maxes[m] - 2 + k;
			if (at >= size)
				continue;
			memset(&chunked, 0, sizeof chunked);
			reading_step(&chunked, data, at, maxes[m]);
			reading_step(&chunked, data, size, maxes[m]);
			compare(&whole, &chunked, maxes[m], 2);
		}
	}
	return 0;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}
