/* common/be.h: big-endian integers, the one codec for the store's keys and
 * records (daemon/store-lmdb.c, daemon/plan.c) and msgpack's lengths
 * (proto/proto.c). n is a width in bytes, 1 to 8. */
#ifndef CONNREQ_COMMON_BE_H
#define CONNREQ_COMMON_BE_H

#include <stddef.h>
#include <stdint.h>

/* The n-byte big-endian integer at p. */
static inline uint64_t
be_get(const unsigned char *p, size_t n)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

/* Writes the low n bytes of v at p, the most significant first. */
static inline void
be_put(unsigned char *p, uint64_t v, size_t n)
{
	while (n-- > 0) {
		p[n] = (unsigned char)v;
		v >>= 8;
	}
}

/* The same at *p, moving *p past what was read or written: for records
 * read or written field after field. */
static inline uint64_t
be_get_next(const unsigned char **p, size_t n)
{
	uint64_t v = be_get(*p, n);

	*p += n;
	return v;
}

static inline void
be_put_next(unsigned char **p, uint64_t v, size_t n)
{
	be_put(*p, v, n);
	*p += n;
}

#endif
