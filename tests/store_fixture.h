/* tests/store_fixture.h: records the store tests write. */
#ifndef CONNREQ_STORE_FIXTURE_H
#define CONNREQ_STORE_FIXTURE_H

#include <string.h>

#include "../daemon/store.h"

/* A pending invitation of high priority with the note "hi\0yo". */
__attribute__((unused)) static struct inv
mkinv(uint64_t id, const char *from, const char *to, int64_t at)
{
	struct inv v;

	memset(&v, 0, sizeof v);
	v.id = id;
	v.state = ST_PENDING;
	v.priority = PRIO_HIGH;
	v.attempt = 1;
	v.created_at = v.updated_at = at;
	v.expires_at = at + 100;
	v.stale_at = at + 10;
	v.from_len = strlen(from);
	memcpy(v.from, from, v.from_len);
	v.to_len = strlen(to);
	memcpy(v.to, to, v.to_len);
	v.note_len = 5;
	memcpy(v.note, "hi\0yo", 5);
	return v;
}

#endif
