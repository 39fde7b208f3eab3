/* daemon/retry.c: see retry.h.
 *
 * A request id's record (opaque to the store):
 *
 *   method_len u8, method, args_len u32, args, result
 *
 * args is the request's argument map without request_id and without the
 * arguments given as nil (nil is absent, docs/protocol.md §2.1), its keys
 * in byte order, packed again by msgpack-c: the same arguments compare
 * equal however a client's encoder wrote them and in whatever order. (A
 * record kept before this order was kept in the client's order: a retry
 * of it in another order is CONFLICT, until its retention ends.) result
 * is the first answer's packed result. For example invite.send
 * {from: "a", to: "b"} is
 *
 *   0b "invite.send"  00 00 00 0d  82 a4 "from" a1 "a" a2 "to" a1 "b"  ...
 */
#include "retry.h"

#include <stdlib.h>
#include <string.h>

#include "../common/be.h"
#include "../common/util.h"

/* Whether entry kv counts in the record: not request_id, not nil. */
static bool
kept_arg(const msgpack_object_kv *kv)
{
	return !proto_obj_is_str(&kv->key, "request_id") &&
	    kv->val.type != MSGPACK_OBJECT_NIL;
}

/* Keys in byte order (a key that is not a string, which args_done()
 * refuses, after the strings). */
static int
kv_cmp(const void *a, const void *b)
{
	const msgpack_object *x = &(*(const msgpack_object_kv *const *)a)->key;
	const msgpack_object *y = &(*(const msgpack_object_kv *const *)b)->key;
	uint32_t n;
	int c;

	if (x->type != MSGPACK_OBJECT_STR || y->type != MSGPACK_OBJECT_STR)
		return (x->type != MSGPACK_OBJECT_STR) -
		    (y->type != MSGPACK_OBJECT_STR);
	n = x->via.str.size < y->via.str.size ? x->via.str.size :
	    y->via.str.size;
	if ((c = memcmp(x->via.str.ptr, y->via.str.ptr, n)) != 0)
		return c;
	return (x->via.str.size > y->via.str.size) -
	    (x->via.str.size < y->via.str.size);
}

/* The arguments that count (kept_arg()), in key order, packed. */
static void
pack_args(msgpack_sbuffer *out, const struct args *args)
{
	const msgpack_object_map *m = args->map;
	const msgpack_object_kv **kv;
	msgpack_packer pk;
	uint32_t i, n = 0;

	kv = xcalloc(m->size ? m->size : 1, sizeof *kv);
	for (i = 0; i < m->size; i++)
		if (kept_arg(&m->ptr[i]))
			kv[n++] = &m->ptr[i];
	qsort(kv, n, sizeof *kv, kv_cmp);
	msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, n);
	for (i = 0; i < n; i++) {
		msgpack_pack_object(&pk, kv[i]->key);
		msgpack_pack_object(&pk, kv[i]->val);
	}
	free(kv);
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
