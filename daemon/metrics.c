/* daemon/metrics.c: see metrics.h. */
#include "metrics.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <event2/listener.h>

#include "../common/util.h"

/* Upper bounds, in microseconds, of the latency buckets (+Inf after). */
static const uint64_t lat_le_us[METRICS_LAT_BUCKETS] = {
	100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000,
	250000, 1000000
};
/* Upper bounds of the batch-size buckets (+Inf after). */
static const unsigned batch_le[METRICS_BATCH_BUCKETS] = {
	1, 2, 4, 8, 16, 32, 64, 128
};

void
metrics_request(struct metrics *m, int method, int code, uint64_t micros)
{
	int i;

	if (method < 0 || method > PM_COUNT)
		method = PM_COUNT;
	if (code < 0 || code >= PE_COUNT)
		code = PE_INTERNAL;
	m->requests[method][code]++;
	for (i = 0; i < METRICS_LAT_BUCKETS; i++)
		if (micros <= lat_le_us[i])
			m->lat_bucket[method][i]++;
	m->lat_count[method]++;
	m->lat_sum_us[method] += micros;
}

void
metrics_batch(struct metrics *m, unsigned n)
{
	int i;

	for (i = 0; i < METRICS_BATCH_BUCKETS; i++)
		if (n <= batch_le[i])
			m->batch_bucket[i]++;
	m->batch_count++;
	m->batch_sum += n;
}

static const char *
method_label(int method)
{
	return method < PM_COUNT ? proto_method_names[method] : "unknown";
}

static void
head(struct evbuffer *out, const char *name, const char *type,
    const char *help)
{
	evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

void
metrics_render(const struct metrics *m, const struct metrics_gauges *g,
    struct evbuffer *out)
{
	int me, c, i;

	head(out, "connreq_requests_total", "counter",
	    "Requests answered, by method and by code (OK: a result).");
	for (me = 0; me <= PM_COUNT; me++)
		for (c = 0; c < PE_COUNT; c++)
			if (m->requests[me][c] > 0)
				evbuffer_add_printf(out,
				    "connreq_requests_total{method=\"%s\",code=\"%s\"} %" PRIu64 "\n",
				    method_label(me),
				    proto_code_name((enum proto_code)c),
				    m->requests[me][c]);
	head(out, "connreq_request_seconds", "histogram",
	    "Time from a request's arrival to its answer (a write's after it is durable), by method.");
	for (me = 0; me <= PM_COUNT; me++) {
		if (m->lat_count[me] == 0)
			continue;
		for (i = 0; i < METRICS_LAT_BUCKETS; i++)
			evbuffer_add_printf(out,
			    "connreq_request_seconds_bucket{method=\"%s\",le=\"%g\"} %" PRIu64 "\n",
			    method_label(me), (double)lat_le_us[i] / 1e6,
			    m->lat_bucket[me][i]);
		evbuffer_add_printf(out,
		    "connreq_request_seconds_bucket{method=\"%s\",le=\"+Inf\"} %" PRIu64 "\n"
		    "connreq_request_seconds_sum{method=\"%s\"} %.6f\n"
		    "connreq_request_seconds_count{method=\"%s\"} %" PRIu64 "\n",
		    method_label(me), m->lat_count[me], method_label(me),
		    (double)m->lat_sum_us[me] / 1e6, method_label(me),
		    m->lat_count[me]);
	}
	head(out, "connreq_batch_requests", "histogram",
	    "Requests per batch; each batch is one commit, made durable by one sync.");
	for (i = 0; i < METRICS_BATCH_BUCKETS; i++)
		evbuffer_add_printf(out,
		    "connreq_batch_requests_bucket{le=\"%u\"} %" PRIu64 "\n",
		    batch_le[i], m->batch_bucket[i]);
	evbuffer_add_printf(out,
	    "connreq_batch_requests_bucket{le=\"+Inf\"} %" PRIu64 "\n"
	    "connreq_batch_requests_sum %" PRIu64 "\n"
	    "connreq_batch_requests_count %" PRIu64 "\n",
	    m->batch_count, m->batch_sum, m->batch_count);
	head(out, "connreq_clients", "gauge", "Clients connected.");
	evbuffer_add_printf(out, "connreq_clients %u\n", g->clients);
	head(out, "connreq_subscribers", "gauge",
	    "Clients subscribed to events.");
	evbuffer_add_printf(out, "connreq_subscribers %u\n", g->subscribers);
	head(out, "connreq_pending_invitations", "gauge",
	    "Invitations pending, as of the last commit.");
	evbuffer_add_printf(out, "connreq_pending_invitations %" PRIu64 "\n",
	    g->pending);
	head(out, "connreq_next_deadline_timestamp_seconds", "gauge",
	    "When the next deadline falls due (Unix time, the daemon's clock; 0: none).");
	evbuffer_add_printf(out,
	    "connreq_next_deadline_timestamp_seconds %" PRId64 "\n",
	    g->next_due);
	head(out, "connreq_event_head", "gauge", "The last event's seq.");
	evbuffer_add_printf(out, "connreq_event_head %" PRIu64 "\n",
	    g->event_head);
	head(out, "connreq_store_map_bytes", "gauge",
	    "The store's map (LMDB; 0 on PostgreSQL), by backend.");
	evbuffer_add_printf(out,
	    "connreq_store_map_bytes{backend=\"%s\"} %" PRIu64 "\n",
	    g->backend, g->map_size);
	head(out, "connreq_store_map_max_bytes", "gauge",
	    "The most the map may grow to (map_size_max).");
	evbuffer_add_printf(out, "connreq_store_map_max_bytes %" PRIu64 "\n",
	    g->map_size_max);
	head(out, "connreq_start_time_seconds", "gauge",
	    "When the daemon started (Unix time, its clock).");
	evbuffer_add_printf(out, "connreq_start_time_seconds %" PRId64 "\n",
	    g->started_at);
}

bool
metrics_addr_parse(const char *s, char *host, size_t hostlen, uint16_t *port)
{
	const char *colon, *h = s, *he;
	char *end;
	unsigned long p;

	if (s[0] == '[') {
		h = s + 1;
		if ((he = strchr(h, ']')) == NULL || he[1] != ':')
			return false;
		colon = he + 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL ||
		    memchr(s, ':', (size_t)(colon - s)) != NULL)
			return false;
		he = colon;
	}
	if (he == h || colon[1] < '0' || colon[1] > '9')
		return false;
	p = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || p == 0 || p > 65535)
		return false;
	if (host != NULL) {
		if ((size_t)(he - h) >= hostlen)
			return false;
		memcpy(host, h, (size_t)(he - h));
		host[he - h] = '\0';
	}
	if (port != NULL)
		*port = (uint16_t)p;
	return true;
}

struct metrics_http {
	struct evhttp *http;
	struct evconnlistener *lev;
	struct event *resume;	/* listening again, a second after */
	const struct metrics *m;
	metrics_gauges_fn *gauges_fn;
	void *ctx;
};

static void
http_resume(evutil_socket_t fd, short what, void *arg)
{
	struct metrics_http *h = arg;

	(void)fd;
	(void)what;
	evconnlistener_enable(h->lev);
}

/* The listener whose accept() fails below: the error callback's argument
 * is the evhttp's (evhttp_bind_listener() set it), so it is found here;
 * a daemon has one. */
static struct metrics_http *listening;

/* accept() failed, out of descriptors (EMFILE) most likely: libevent's
 * default logs it and tries again at once, a busy loop while the
 * connection waits in the backlog. The listener rests a second. */
static void
http_accept_error(struct evconnlistener *lev, void *arg)
{
	struct metrics_http *h = listening;
	struct timeval tv = { 1, 0 };
	int err = EVUTIL_SOCKET_ERROR();

	(void)arg;
	if (h == NULL || h->lev != lev)
		return;
	log_warn("metrics: accept: %s; listening again in a second",
	    evutil_socket_error_to_string(err));
	evconnlistener_disable(lev);
	evtimer_add(h->resume, &tv);
}

static void
http_request(struct evhttp_request *req, void *arg)
{
	struct metrics_http *h = arg;
	const char *uri = evhttp_request_get_uri(req);
	struct metrics_gauges g;
	struct evbuffer *out;

	if (uri == NULL || (strcmp(uri, "/metrics") != 0 &&
	    strncmp(uri, "/metrics?", 9) != 0)) {
		evhttp_send_error(req, HTTP_NOTFOUND,
		    "connreqd serves /metrics only");
		return;
	}
	if ((out = evbuffer_new()) == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	memset(&g, 0, sizeof g);
	h->gauges_fn(h->ctx, &g);
	metrics_render(h->m, &g, out);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, HTTP_OK, "OK", out);
	evbuffer_free(out);
}

struct metrics_http *
metrics_listen(struct event_base *base, const char *addr,
    const struct metrics *m, metrics_gauges_fn *gauges_fn, void *ctx,
    char *why, size_t whylen)
{
	struct evhttp_bound_socket *bound;
	struct metrics_http *h;
	char host[256];
	uint16_t port;

	if (!metrics_addr_parse(addr, host, sizeof host, &port)) {
		snprintf(why, whylen, "[metrics] listen: not HOST:PORT: %s",
		    addr);
		return NULL;
	}
	h = xcalloc(1, sizeof *h);
	h->m = m;
	h->gauges_fn = gauges_fn;
	h->ctx = ctx;
	if ((h->http = evhttp_new(base)) == NULL ||
	    (h->resume = evtimer_new(base, http_resume, h)) == NULL) {
		snprintf(why, whylen, "[metrics] listen: libevent: no HTTP server");
		metrics_http_free(h);
		return NULL;
	}
	/* A scrape is small: a slow or hostile client is cut off. */
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_timeout(h->http, 10);
	evhttp_set_max_headers_size(h->http, 8192);
	evhttp_set_max_body_size(h->http, 0);
	evhttp_set_gencb(h->http, http_request, h);
	if ((bound = evhttp_bind_socket_with_handle(h->http, host, port)) ==
	    NULL) {
		snprintf(why, whylen, "[metrics] listen: cannot listen on %s",
		    addr);
		metrics_http_free(h);
		return NULL;
	}
	h->lev = evhttp_bound_socket_get_listener(bound);
	evconnlistener_set_error_cb(h->lev, http_accept_error);
	listening = h;
	return h;
}

void
metrics_http_free(struct metrics_http *h)
{
	if (h == NULL)
		return;
	if (listening == h)
		listening = NULL;
	if (h->http != NULL)
		evhttp_free(h->http);
	if (h->resume != NULL)
		event_free(h->resume);
	free(h);
}
