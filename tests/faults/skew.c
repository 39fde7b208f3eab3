/* tests/faults/skew.c: an LD_PRELOAD shim for a machine whose clock is
 * off: time() answers the system's time plus SKEW_SECS seconds (the
 * environment's, read at each call). Only time(): connreqd reads its
 * clock there (daemon/clock.c), and libevent's timers, on the monotonic
 * clock, are left as they are. For tests/test_pg_dues.c: two daemons on
 * one PostgreSQL database, one skewed, agree on the time (the
 * database's). */
#include <stdlib.h>
#include <time.h>

time_t time(time_t *out);

time_t
time(time_t *out)
{
	const char *s = getenv("SKEW_SECS");
	struct timespec ts;
	time_t v;

	clock_gettime(CLOCK_REALTIME, &ts);
	v = ts.tv_sec + (s != NULL ? (time_t)strtol(s, NULL, 10) : 0);
	if (out != NULL)
		*out = v;
	return v;
}
