/* daemon/import.h: bulk import (import.rows, docs/protocol.md): existing
 * connections and pending invitations brought in with their own times,
 * each row under an external id that makes it imported once. An import is
 * not a send: no send limits, no notifications, no log entries the limits
 * count. The rules that keep the store sound still hold: no self pairs,
 * no second pending invitation for a pair, no connection beside a pending
 * invitation, no invitation between connected members, none across a
 * block. */
#ifndef CONNREQ_IMPORT_H
#define CONNREQ_IMPORT_H

#include "op.h"

#define IMPORT_ROWS_MAX 1000	/* rows in one import.rows call */

/* In the order of proto/vocab.h's words for them. */
enum import_type { IMPORT_CONNECTION, IMPORT_INVITATION };

struct import_row {
	struct str id;			/* the external id */
	enum import_type type;
	/* A connection: a and b (from, to), since (created_at). An
	 * invitation: from, to, created_at, and the optional rest. */
	struct str from, to;
	int64_t at;
	struct str note;		/* p NULL: none */
	int64_t expires_at;		/* 0: created_at + the policy's */
	int priority;			/* enum priority */
};

enum import_outcome { IMPORT_IMPORTED, IMPORT_DUPLICATE, IMPORT_REFUSED };

/* Imports one row in o's transaction: IMPORT_IMPORTED or IMPORT_DUPLICATE
 * (the same row under its id, imported before: nothing written), or
 * IMPORT_REFUSED with e filled (nothing written; a store failure is also
 * left in the transaction). */
enum import_outcome import_row(struct op *o, const struct import_row *r,
    struct proto_error *e);

#endif
