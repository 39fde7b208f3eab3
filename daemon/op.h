/* daemon/op.h: the operation context. Every domain operation (invite.c,
 * member.c, plan.c, timers.c) runs in one: the transaction it reads and
 * writes, the policy in force and the time of the request, read once by
 * the server. Nothing below the server reads the clock or knows the
 * daemon, so the domain can be driven without a socket (tests do). */
#ifndef CONNREQ_OP_H
#define CONNREQ_OP_H

#include <stddef.h>
#include <stdint.h>

#include "../proto/proto.h"
#include "rules.h"
#include "store.h"

struct op {
	struct stx *t;
	const struct policy *policy;
	int64_t now;
};

/* Counts toward a limit stop where the limit stops; a quota reported to
 * its member counts up to this even past a limit that is off. */
#define QUOTA_COUNT_MAX 10000

/* A length-delimited string from a request (not NUL-terminated). */
struct str {
	const char *p;
	size_t n;
};

/* Maps the transaction's sticky store error to an error for the client;
 * returns -1. */
static inline int
op_store_error(struct stx *t, struct proto_error *e)
{
	if (store_error(t) == STORE_MAP_FULL)
		return proto_fail(e, PE_STORE_FULL, "the store is full");
	if (store_error(t) == STORE_NO_SPACE)
		return proto_fail(e, PE_STORE_FULL,
		    "no space left on the store's disk");
	return proto_fail(e, PE_INTERNAL, "store error");
}

/* 0 when t holds no error, else op_store_error(). */
static inline int
op_done(struct stx *t, struct proto_error *e)
{
	return store_error(t) == STORE_OK ? 0 : op_store_error(t, e);
}

#endif
