/* daemon/check.h: connreqd --check, the consistency check of a stopped
 * store. The checks of what the domain keeps (counters against the rows,
 * each open invitation with its deadlines and its pair, each index entry
 * with its invitation, the event log in order) are written here once,
 * against store.h, so every backend gets them; what only a backend can
 * check of its own tables is its store_check(). */
#ifndef CONNREQ_CHECK_H
#define CONNREQ_CHECK_H

#include <stdint.h>
#include <stdio.h>

#include "store.h"

struct check_totals {
	uint64_t invitations, pairs, deadlines, events, connections, members;
	uint64_t problems;
};

/* Checks the store s (a snapshot of it): one line "check: WHAT: DETAILS"
 * on out per disagreement; fills *tot. Returns the number of problems. */
uint64_t check_store(struct store *s, FILE *out, struct check_totals *tot);

/* connreqd --check: opens the store at dir (or, conninfo not NULL, the
 * PostgreSQL database it names) read-only (refused while a
 * connreqd has it), checks it, prints the problems and a summary line on
 * stdout. Returns the exit status: 0 clean, 1 problems, 2 cannot open. */
int check_main(const char *dir, const char *conninfo);

#endif
