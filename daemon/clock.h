/* daemon/clock.h: the daemon's clock, real or virtual. The server reads it
 * once per request and passes that `now` down; nothing below server.c
 * reads the clock. A virtual clock moves only when told (clock.advance),
 * so tests run weeks of deadlines in milliseconds. */
#ifndef CONNREQ_CLOCK_H
#define CONNREQ_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

struct clock {
	bool is_virtual;
	int64_t vnow;		/* the virtual time, when is_virtual */
	int64_t skew;		/* the real clock: the database's time less
				 * the system's, at its last reading */
};

/* The system's clock. */
void clock_init_real(struct clock *c);
/* A virtual clock standing at start (Unix seconds). */
void clock_init_virtual(struct clock *c, int64_t start);
bool clock_is_virtual(const struct clock *c);
/* Now, in Unix seconds. */
int64_t clock_now(const struct clock *c);
/* A shared store's clock, read at the start of a batch (PostgreSQL:
 * store_db_clock()): the real clock follows the database's time (the
 * system's clock, less its skew from the database's at this reading); a
 * virtual clock stands where the database's stands (vclock 0: none saved,
 * it stays). */
void clock_from_db(struct clock *c, int64_t real, int64_t vclock);
/* Moves a virtual clock by secs (negative moves it back, which only the
 * server does, to undo a batch it retries). No-op on the real clock. */
void clock_advance(struct clock *c, int64_t secs);

#endif
