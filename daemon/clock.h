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
};

/* The system's clock. */
void clock_init_real(struct clock *c);
/* A virtual clock standing at start (Unix seconds). */
void clock_init_virtual(struct clock *c, int64_t start);
bool clock_is_virtual(const struct clock *c);
/* Now, in Unix seconds. */
int64_t clock_now(const struct clock *c);
/* Moves a virtual clock by secs (negative moves it back, which only the
 * server does, to undo a batch it retries). No-op on the real clock. */
void clock_advance(struct clock *c, int64_t secs);

#endif
