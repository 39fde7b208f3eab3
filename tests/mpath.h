/* tests/mpath.h: a value at a dotted path ("invitation.state", "items.0.id")
 * in a msgpack object: replies in harness.h, stored events in domain.h. */
#ifndef CONNREQ_MPATH_H
#define CONNREQ_MPATH_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../client/connreq.h"

/* Looks up a dotted path in o; NULL when it is not there. */
__attribute__((unused)) static const msgpack_object *
obj_path(const msgpack_object *o, const char *path)
{
	char part[64];
	const char *dot;

	while (o != NULL && *path != '\0') {
		dot = strchr(path, '.');
		snprintf(part, sizeof part, "%.*s",
		    (int)(dot ? dot - path : (long)strlen(path)), path);
		if (part[0] >= '0' && part[0] <= '9') {
			unsigned idx = (unsigned)atoi(part);

			if (o->type != MSGPACK_OBJECT_ARRAY ||
			    idx >= o->via.array.size)
				return NULL;
			o = &o->via.array.ptr[idx];
		} else
			o = cr_get(o, part);
		path = dot ? dot + 1 : "";
	}
	return o;
}

#endif
