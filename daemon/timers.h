/* daemon/timers.h: deadlines. They live in the store, ordered by time; the
 * daemon keeps one libevent timer armed for the earliest. */
#ifndef CONNREQ_TIMERS_H
#define CONNREQ_TIMERS_H

#include "daemon.h"
#include "store.h"

/* Handles every deadline due at or before now, in deadline order, in t, and
 * records the next one in d->next_due. Returns how many were handled. */
size_t timers_run(struct daemon *d, struct stx *t, int64_t now);

/* Reads the earliest deadline in t into d->next_due and d->due_count, and
 * the head of the event log into d->event_head_next. */
void timers_next(struct daemon *d, struct stx *t);

#endif
