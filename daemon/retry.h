/* daemon/retry.h: safe retries (docs/protocol.md, "Safe retries"). A write
 * that carries a request_id is kept with its answer, in the write's own
 * transaction; the same write repeated with that id within
 * policy.request_id_retention gets the first answer again, byte for byte,
 * and acts no more; the id with another method or other arguments is
 * refused (CONFLICT). A write that failed changed nothing and keeps
 * nothing: repeating it runs it again.
 *
 * The server calls retry_begin() before a write's method runs, and
 * retry_keep() once it succeeded, in the same transaction. */
#ifndef CONNREQ_RETRY_H
#define CONNREQ_RETRY_H

#include <msgpack.h>

#include "op.h"

struct retry {
	const char *id;		/* NULL: the request has no request_id */
	size_t len;
	msgpack_sbuffer args;	/* the arguments but request_id, packed */
};

enum retry_rc {
	RETRY_RUN,		/* run the method (then retry_keep()) */
	RETRY_ANSWERED,		/* *answer holds the first answer: send it */
	RETRY_FAILED		/* e says why (INVALID_ARGUMENT, CONFLICT,
				 * or the store's error) */
};

/* Reads request_id from args (marking it used, so that args_done() takes
 * it) and looks it up in o->t. method: the request's method name.
 * RETRY_ANSWERED leaves the first answer's packed result in answer
 * (msgpack_sbuffer_init'ed by the caller). retry_free() in every case. */
enum retry_rc retry_begin(struct retry *r, struct op *o, struct args *args,
    const char *method, size_t mlen, msgpack_sbuffer *answer,
    struct proto_error *e);
/* Keeps the request's record with result, its answer's packed result. */
void retry_keep(struct retry *r, struct op *o, const char *method,
    size_t mlen, const msgpack_sbuffer *result);
void retry_free(struct retry *r);

/* Deletes the records older than the retention, at most max: how many. */
size_t retry_prune(struct op *o, size_t max);

#endif
