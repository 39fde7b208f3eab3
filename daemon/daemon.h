/* daemon/daemon.h: what connreqd holds while it runs. main.c fills it,
 * the server runs on it and the methods read it (server.info); nothing
 * below the methods sees it: the domain gets an operation context. */
#ifndef CONNREQ_DAEMON_H
#define CONNREQ_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include "clock.h"
#include "rules.h"
#include "metrics.h"
#include "timers.h"

struct event_base;
struct store;
struct server;

struct daemon {
	/* Handles. */
	struct event_base *base;
	struct store *store;
	struct server *server;

	/* The configuration in force (SIGHUP replaces the policy and the
	 * limits; the paths hold until the next start). */
	struct policy policy;
	char *store_path;
	char *socket_path;
	uint64_t map_size_max;
	uint32_t max_message_bytes;
	uint32_t max_clients;
	uint64_t read_timeout;	/* seconds: a message begun must be complete */

	/* Time. */
	struct clock clock;
	int64_t started_at;

	/* The store as of the last commit. */
	struct timers_state state;

	/* What it counts (metrics.h), and its HTTP listener ([metrics]
	 * listen; NULL: off). */
	struct metrics metrics;
	struct metrics_http *metrics_http;
	/* The gauges, filled by the server (set when it is made). */
	metrics_gauges_fn *gauges_fn;
};

#endif
