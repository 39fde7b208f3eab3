/* daemon/clock.c: see clock.h. */
#include "clock.h"

#include <time.h>

void
clock_init_real(struct clock *c)
{
	c->is_virtual = false;
	c->vnow = 0;
	c->skew = 0;
}

void
clock_init_virtual(struct clock *c, int64_t start)
{
	c->is_virtual = true;
	c->vnow = start;
	c->skew = 0;
}

bool
clock_is_virtual(const struct clock *c)
{
	return c->is_virtual;
}

int64_t
clock_now(const struct clock *c)
{
	return c->is_virtual ? c->vnow : (int64_t)time(NULL) + c->skew;
}

void
clock_from_db(struct clock *c, int64_t real, int64_t vclock)
{
	if (c->is_virtual) {
		if (vclock != 0)
			c->vnow = vclock;
	} else
		c->skew = real - (int64_t)time(NULL);
}

void
clock_advance(struct clock *c, int64_t secs)
{
	if (c->is_virtual)
		c->vnow += secs;
}
