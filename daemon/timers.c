/* daemon/timers.c: see timers.h. */
#include "timers.h"

#include "invite.h"
#include "plan.h"

#define PRUNE_PER_BATCH 10000

size_t
timers_run(struct daemon *d, struct stx *t, int64_t now)
{
	struct due due;
	size_t n = 0;

	while (store_due_first(t, &due) && due.at <= now) {
		invite_on_due(d, t, &due);
		if (due.kind == DUE_PLAN)
			plan_on_due(d, t, &due);
		if (store_error(t) != STORE_OK)
			break;
		n++;
	}
	/* Old events go a bounded share per batch; the server runs another
	 * batch at once while some remain. */
	d->prune_more = false;
	if (d->policy.events_retention > 0 &&
	    now > (int64_t)d->policy.events_retention)
		d->prune_more = store_event_prune(t,
		    now - (int64_t)d->policy.events_retention,
		    PRUNE_PER_BATCH) == PRUNE_PER_BATCH;
	timers_next(d, t);
	return n;
}

void
timers_next(struct daemon *d, struct stx *t)
{
	struct due due;
	struct store_counts c;

	d->next_due = store_due_first(t, &due) ? due.at : 0;
	store_counts(t, &c);
	d->due_count = c.deadlines;
	d->pending_count = c.state[ST_PENDING];
	d->event_head_next = store_event_head(t);
}
