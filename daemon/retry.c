/* daemon/retry.c: see retry.h.
 *
 * A request id's record (opaque to the store):
 *
 *   method_len u8, method, args_len u32, args, result
 *
 * args is the request's argument map without request_id, packed again by
 * msgpack-c (so the same values compare equal however a client's encoder
 * chose to write them, keys in the order the client sent them), and
 * result the first answer's packed result. For example invite.send
 * {from: "a", to: "b"} is
 *
 *   0b "invite.send"  00 00 00 0d  82 a4 "from" a1 "a" a2 "to" a1 "b"  ...
 */
#include "retry.h"

#include <stdlib.h>
#include <string.h>

#include "../common/be.h"
#include "../common/util.h"

/* The arguments but request_id, packed. */
static void
pack_args(msgpack_sbuffer *out, const struct args *args)
{
	const msgpack_object_map *m = args->map;
	msgpack_packer pk;
	uint32_t i, n = 0;

	msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
	for (i = 0; i < m->size; i++)
		if (!proto_obj_is_str(&m->ptr[i].key, "request_id"))
			n++;
	msgpack_pack_map(&pk, n);
	for (i = 0; i < m->size; i++) {
		if (proto_obj_is_str(&m->ptr[i].key, "request_id"))
			continue;
		msgpack_pack_object(&pk, m->ptr[i].key);
		msgpack_pack_object(&pk, m->ptr[i].val);
	}
}

/* How many times the request names request_id. */
static uint32_t
ids_given(const struct args *args)
{
	const msgpack_object_map *m = args->map;
	uint32_t i, n = 0;

	for (i = 0; i < m->size; i++)
		if (proto_obj_is_str(&m->ptr[i].key, "request_id"))
			n++;
	return n;
}

enum retry_rc
retry_begin(struct retry *r, struct op *o, struct args *args,
    const char *method, size_t mlen, msgpack_sbuffer *answer,
    struct proto_error *e)
{
	const unsigned char *p;
	void *rec = NULL;
	size_t reclen, alen;
	int64_t at;
	int rc;

	memset(r, 0, sizeof *r);
	msgpack_sbuffer_init(&r->args);
	if (!args_str(args, "request_id", false, &r->id, &r->len)) {
		r->id = NULL;
		return args->failed ? RETRY_FAILED : RETRY_RUN;
	}
	if (ids_given(args) > 1) {
		/* As args_done() refuses any name given twice: the answer
		 * from a record below would skip that check. */
		r->id = NULL;
		args->failed = true;
		proto_fail(e, PE_INVALID_ARGUMENT,
		    "unknown or repeated argument 'request_id'");
		return RETRY_FAILED;
	}
	if (!member_id_valid(r->id, r->len)) {
		r->id = NULL;
		args->failed = true;
		proto_fail(e, PE_INVALID_ARGUMENT,
		    "request_id must be 1 to %d bytes of UTF-8 with no control characters",
		    REQUEST_ID_MAX);
		return RETRY_FAILED;
	}
	pack_args(&r->args, args);
	rc = store_request_get(o->t, r->id, r->len, &at, &rec, &reclen);
	if (rc == STORE_NOTFOUND ||
	    (rc == STORE_OK && at <= o->now -
	    (int64_t)o->policy->request_id_retention)) {
		free(rec);	/* none, or one past the retention */
		return RETRY_RUN;
	}
	if (rc != STORE_OK) {
		free(rec);
		op_store_error(o->t, e);
		return RETRY_FAILED;
	}
	p = rec;
	if (reclen < 1 + (size_t)p[0] + 4 ||
	    reclen - 1 - p[0] - 4 < (alen = be_get(p + 1 + p[0], 4))) {
		free(rec);
		proto_fail(e, PE_INTERNAL, "store error");
		log_warn("request_id: a corrupt record");
		return RETRY_FAILED;
	}
	if (p[0] != mlen || memcmp(p + 1, method, mlen) != 0 ||
	    alen != r->args.size ||
	    memcmp(p + 1 + mlen + 4, r->args.data, alen) != 0) {
		free(rec);
		proto_fail(e, PE_CONFLICT,
		    "request_id was given to another request (another method or other arguments) within the last %llu s",
		    (unsigned long long)o->policy->request_id_retention);
		return RETRY_FAILED;
	}
	msgpack_sbuffer_write(answer, (const char *)p + 1 + mlen + 4 + alen,
	    reclen - 1 - mlen - 4 - alen);
	free(rec);
	return RETRY_ANSWERED;
}

void
retry_keep(struct retry *r, struct op *o, const char *method, size_t mlen,
    const msgpack_sbuffer *result)
{
	unsigned char *b, *p;
	size_t n;

	if (r->id == NULL || mlen > 255)
		return;
	n = 1 + mlen + 4 + r->args.size + result->size;
	p = b = xmalloc(n);
	*p++ = (unsigned char)mlen;
	memcpy(p, method, mlen);
	p += mlen;
	be_put_next(&p, r->args.size, 4);
	memcpy(p, r->args.data, r->args.size);
	p += r->args.size;
	memcpy(p, result->data, result->size);
	store_request_put(o->t, r->id, r->len, o->now, b, n);
	free(b);
}

void
retry_free(struct retry *r)
{
	msgpack_sbuffer_destroy(&r->args);
	r->id = NULL;
}

size_t
retry_prune(struct op *o, size_t max)
{
	int64_t keep = (int64_t)o->policy->request_id_retention;

	if (keep <= 0 || o->now <= keep)
		return 0;
	return store_request_prune(o->t, o->now - keep, max);
}
