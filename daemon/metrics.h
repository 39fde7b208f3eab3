/* daemon/metrics.h: what connreqd counts for a dashboard, in Prometheus'
 * text format (version 0.0.4): requests by method and by code, their
 * latency from arrival to answer by method, batch sizes and commits, and
 * gauges read when asked (clients, subscribers, pending invitations, the
 * next deadline, the event head, the store's map). Served by
 * server.metrics (connreq metrics) and, when [metrics] listen is set, over
 * HTTP at /metrics by libevent's own HTTP server (metrics_listen()).
 * docs/configuration.md, "Metrics", lists every series. */
#ifndef CONNREQ_METRICS_H
#define CONNREQ_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "../proto/proto.h"
#include "../proto/vocab.h"

#define METRICS_LAT_BUCKETS 12
#define METRICS_BATCH_BUCKETS 8

struct metrics {
	/* [method][code]; method PM_COUNT: a name that is none. */
	uint64_t requests[PM_COUNT + 1][PE_COUNT];
	/* Latency by method: cumulative counts per bucket, sum (us). */
	uint64_t lat_bucket[PM_COUNT + 1][METRICS_LAT_BUCKETS];
	uint64_t lat_count[PM_COUNT + 1];
	uint64_t lat_sum_us[PM_COUNT + 1];
	uint64_t batch_bucket[METRICS_BATCH_BUCKETS];
	uint64_t batch_count, batch_sum;
};

/* What the server knows when asked, for the gauges. */
struct metrics_gauges {
	unsigned clients, subscribers;
	uint64_t pending;
	int64_t next_due;	/* 0: none */
	uint64_t event_head;
	uint64_t map_size, map_size_max;
	const char *backend;
	int64_t started_at;
};

/* One request answered: its method (PM_COUNT: unknown), its code (PE_OK:
 * a result), microseconds from its arrival to its answer. */
void metrics_request(struct metrics *m, int method, int code,
    uint64_t micros);
/* One batch of n requests made durable. */
void metrics_batch(struct metrics *m, unsigned n);
/* The whole exposition into out. */
void metrics_render(const struct metrics *m, const struct metrics_gauges *g,
    struct evbuffer *out);

/* Reads "HOST:PORT" ("[::1]:PORT" for IPv6): true with host (NUL-ended,
 * without brackets) and port filled, when they are not NULL. */
bool metrics_addr_parse(const char *s, char *host, size_t hostlen,
    uint16_t *port);

/* The HTTP listener on addr (HOST:PORT): GET /metrics answers what
 * gauges_fn(ctx, &g) and m say; others get 404 or 405. NULL with why set
 * when it cannot listen. */
struct metrics_http;
typedef void metrics_gauges_fn(void *ctx, struct metrics_gauges *g);
struct metrics_http *metrics_listen(struct event_base *base, const char *addr,
    const struct metrics *m, metrics_gauges_fn *gauges_fn, void *ctx,
    char *why, size_t whylen);
void metrics_http_free(struct metrics_http *h);

#endif
