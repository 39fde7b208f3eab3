/* daemon/timers.h: deadlines. They live in the store, ordered by time;
 * the server keeps one libevent timer armed for the earliest (on a shared
 * database, PostgreSQL, for at most a couple of seconds: other daemons
 * write deadlines too, see server.c). */
#ifndef CONNREQ_TIMERS_H
#define CONNREQ_TIMERS_H

#include "op.h"

/* Deadlines one batch handles at most. A million invitations sent in the
 * same second fall due in the same second; handled in one transaction they
 * would hold every client for half a minute and make a commit of
 * gigabytes. The clients that send while a share runs wait for it: their
 * batch comes next, and its own share runs first, so a share's time is
 * what a reader waits. An expiry writes about ten records (the
 * invitation, its deadline rows, its pair, an event, the sender's counts
 * and decisions): about 10 us in a store of 50,000, 30 us in one of a
 * million, so 250 make a transaction of well under a megabyte and 3-8 ms
 * with its commit. Larger shares drain little faster (at a million, 1,000
 * a batch 37,000/s against 31,000/s) and make readers wait far longer
 * (get p99 105 ms against 44 ms); smaller ones pay a commit and a sync
 * for fewer deadlines, which halves the drain when the disk is busy (100:
 * 10,000-11,000/s against 19,000-33,000/s at 50,000 on a loaded machine).
 * docs/performance.md has the runs; -DDUE_PER_BATCH=N builds another
 * size to measure. */
#ifndef DUE_PER_BATCH
#define DUE_PER_BATCH 250
#endif

/* Handles the deadlines due at or before o->now, in deadline order, at
 * most DUE_PER_BATCH of them (on PostgreSQL, those this transaction could
 * claim: none while another daemon's transaction applies deadlines), and prunes a bounded share of the
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
