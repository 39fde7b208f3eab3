/* daemon/methods.h: the table of methods connreqd answers. */
#ifndef CONNREQ_METHODS_H
#define CONNREQ_METHODS_H

#include <msgpack.h>

#include "daemon.h"
#include "store.h"

/* One call of a method: its arguments, the transaction it runs in, where
 * its result goes and where its error goes. */
struct client;

struct call {
	struct daemon *d;
	struct client *client;	/* NULL when it went away */
	struct stx *t;
	struct args args;
	msgpack_packer *pk;
	struct proto_error *err;
};

#define M_WRITE 0x1	/* may change the store */

struct method {
	const char *name;
	int (*exec)(struct call *c);
	unsigned flags;
};

const struct method *method_find(const char *name, size_t len);

#endif
