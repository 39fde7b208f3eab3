/* daemon/timers.h: deadlines. They live in the store, ordered by time;
 * the server keeps one libevent timer armed for the earliest. */
#ifndef CONNREQ_TIMERS_H
#define CONNREQ_TIMERS_H

#include "op.h"

/* Handles every deadline due at or before o->now, in deadline order, and
 * prunes a bounded share of the events past retention. Returns how many
 * deadlines were handled; *prune_more: old events remain past this share
 * (the server runs another batch at once). */
size_t timers_run(struct op *o, bool *prune_more);

/* What the server keeps of the store between batches. */
struct timers_state {
	int64_t next_due;	/* the earliest deadline, 0: none */
	uint64_t pending;	/* pending invitations, as the store counts them */
	uint64_t event_head;	/* the last event written */
};
/* Reads it from t, as it will be once t commits. */
void timers_state(struct stx *t, struct timers_state *out);

#endif
