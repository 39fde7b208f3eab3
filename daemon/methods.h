/* daemon/methods.h: the table of methods connreqd answers. A method reads
 * its arguments, runs domain operations in the call's operation context,
 * packs its result, and says in effects what the server is to do once the
 * request is done; it never calls into the server. */
#ifndef CONNREQ_METHODS_H
#define CONNREQ_METHODS_H

#include <msgpack.h>

#include "../proto/vocab.h"
#include "daemon.h"
#include "op.h"

/* What a method asks of the server, applied once its request is done. */
enum fx_subscription { FX_NONE, FX_SUBSCRIBE, FX_UNSUBSCRIBE };
struct effects {
	enum fx_subscription subscription;
	bool sub_all;		/* FX_SUBSCRIBE: every event, not a member's */
	char sub_member[MEMBER_MAX_BYTES];
	size_t sub_mlen;
	uint64_t sub_after;	/* the events after this, then live ones */
	int64_t clock_advance;	/* seconds the virtual clock moves */
	bool run_more;		/* deadlines or old events remain: run again */
};

/* One call of a method: the daemon (read-only: server.info reports it,
 * clock.advance asks whether the clock is virtual), its
 * operation context, arguments, where its result and its error go, and the
 * effects it asks for. */
struct call {
	const struct daemon *d;
	struct op op;
	struct args args;
	msgpack_packer *pk;
	struct proto_error *err;
	struct effects fx;
};

#define M_WRITE 0x1	/* may change the store */
#define M_NOSTORE 0x2	/* reads nothing of the store, the clock or the
				 * policy (answered even while the database
				 * is unreachable or hangs) */

struct method {
	int (*exec)(struct call *c);
	unsigned flags;
	/* Optional: tells the store, changing nothing, what exec will read
	 * (the server calls it for each request of a batch first). */
	void (*hint)(struct call *c);
	/* Optional (NULL: a batch with it takes every write's turn): adds to
	 * ks what exec will write, when that is all it writes besides the
	 * counters, the event feed, new ids and deadlines (the server then
	 * begins the batch with store_begin_keyed()). */
	void (*keys)(struct call *c, struct store_keys *ks);
};

const struct method *method_find(const char *name, size_t len);

#endif
