/* daemon/timers.h: deadlines. They live in the store, ordered by time;
 * the server keeps one libevent timer armed for the earliest. */
#ifndef CONNREQ_TIMERS_H
#define CONNREQ_TIMERS_H

#include "op.h"

/* Deadlines one batch handles at most. A million invitations sent in the
 * same second fall due in the same second; handled in one transaction they
 * would hold every client for a minute and make a commit of gigabytes.
 * The clients that send while a share runs wait for it: their batch comes
 * next, and its own share runs first. An expiry writes about ten records
 * (the invitation, its deadline rows, its pair, an event, the sender's
 * counts and decisions) and costs about 10 us, so 250 make a transaction
 * of well under a megabyte that takes 2-5 ms with its commit: a reader
 * waits about that long, and the backlog still drains at 50,000-90,000 a
 * second on a shared 2-vCPU machine (docs/performance.md, which measures
 * 125 to 2,000). -DDUE_PER_BATCH=N builds another size, for measuring. */
#ifndef DUE_PER_BATCH
#define DUE_PER_BATCH 250
#endif

/* Handles the deadlines due at or before o->now, in deadline order, at
 * most DUE_PER_BATCH of them, and prunes a bounded share of the
 * events past retention. Returns how many deadlines were handled; *more:
 * due deadlines or old events remain past these shares (the server runs
 * another batch at once, after reading its clients). */
size_t timers_run(struct op *o, bool *more);

/* What the server keeps of the store between batches. */
struct timers_state {
	int64_t next_due;	/* the earliest deadline, 0: none */
	uint64_t pending;	/* pending invitations, as the store counts them */
	uint64_t event_head;	/* the last event written */
};
/* Reads it from t, as it will be once t commits. */
void timers_state(struct stx *t, struct timers_state *out);

#endif
