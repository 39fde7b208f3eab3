/* daemon/daemon.h: the daemon-wide state every module of connreqd shares. */
#ifndef CONNREQ_DAEMON_H
#define CONNREQ_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include "rules.h"

struct event_base;
struct store;
struct server;

struct daemon {
	struct event_base *base;
	struct store *store;
	struct server *server;
	struct policy policy;
	char *store_path;
	char *socket_path;
	uint64_t map_size_max;
	uint32_t max_message_bytes;
	uint32_t max_clients;
	bool virtual_clock;
	int64_t vnow;		/* the virtual clock, when there is one */
	int64_t started_at;
	int64_t next_due;	/* earliest deadline, 0: none */
	uint64_t due_count;
	uint64_t pending_count;	/* pending invitations, as the store counts them */
	uint64_t event_head;	/* the last event committed */
	uint64_t event_head_next; /* the last event of the batch in hand */
	bool prune_more;	/* old events remain past one batch's share */
};

/* Now, in Unix seconds: the virtual clock or the system's. */
int64_t daemon_now(const struct daemon *d);

#endif
