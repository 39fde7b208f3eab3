/* daemon/timers.c: see timers.h. */
#include "timers.h"

#include "intro.h"
#include "invite.h"
#include "member.h"
#include "plan.h"
#include "remind.h"
#include "retry.h"

#define PRUNE_PER_BATCH 10000

/* One deadline: its row goes, then whoever owns its kind acts on it. */
static void
timers_one(struct op *o, const struct due *due)
{
	store_due_del(o->t, due);
	switch (due->kind) {
	case DUE_PLAN:
		plan_on_due(o, due);
		break;
	case DUE_RESTRICTION:
		member_on_due(o, due);
		break;
	case DUE_REMIND:
	case DUE_DIGEST:
		remind_on_due(o, due);
		break;
	case DUE_INTRO_EXPIRE:
		intro_on_due(o, due);
		break;
	default:
		invite_on_due(o, due);
		break;
	}
}

size_t
timers_run(struct op *o, bool *more)
{
	const struct policy *p = o->policy;
	struct due due;
	size_t n = 0;

	*more = false;
	/* Claimed one by one: on a shared database, a deadline another
	 * daemon has in hand is not ours to apply (store_due_claim()). */
	while (store_due_claim(o->t, o->now, &due)) {
		if (n == DUE_PER_BATCH) {
			*more = true;	/* the next batch goes on */
			break;
		}
		timers_one(o, &due);
		if (store_error(o->t) != STORE_OK)
			break;
		n++;
	}
	/* Old events go a bounded share per batch. */
	if (p->events_retention > 0 && o->now > (int64_t)p->events_retention &&
	    store_event_prune(o->t, o->now - (int64_t)p->events_retention,
	    PRUNE_PER_BATCH) == PRUNE_PER_BATCH)
		*more = true;
	/* So do the request ids past theirs. */
	if (retry_prune(o, PRUNE_PER_BATCH) == PRUNE_PER_BATCH)
		*more = true;
	return n;
}

void
timers_state(struct stx *t, struct timers_state *out)
{
	struct due due;
	struct store_counts c;

	out->next_due = store_due_first(t, &due) ? due.at : 0;
	store_counts(t, &c);
	out->pending = c.state[ST_PENDING];
	out->event_head = store_event_head(t);
}
