/* daemon/timers.c: see timers.h. */
#include "timers.h"

#include "invite.h"

size_t
timers_run(struct daemon *d, struct stx *t, int64_t now)
{
	struct due due;
	size_t n = 0;

	while (store_due_first(t, &due) && due.at <= now) {
		invite_on_due(d, t, &due);
		if (store_error(t) != STORE_OK)
			break;
		n++;
	}
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
}
