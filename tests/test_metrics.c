/* Issue 13, metrics: the [metrics] listener serves Prometheus' text format
 * over libevent's HTTP server, scraped here by curl (a client not ours):
 * requests by method and code, a well-formed latency histogram, batches,
 * clients, pending invitations; /metrics only, GET only; a malformed or
 * silent HTTP client harms nothing; server.metrics and `connreq metrics`
 * give the same series without it; out of descriptors, the listener rests
 * (no busy loop on accept()) and serves again once they are back; a bad
 * listen address stops the start with a clear message. */
#include <netinet/in.h>
#include <sys/resource.h>

#include "harness.h"

static struct cr_client *c;
static struct cr_reply r;
static char out[1 << 16];

/* Runs cmd, its stdout into out; its exit status. */
static int
run(const char *cmd)
{
	FILE *f = popen(cmd, "r");
	size_t n;

	if (f == NULL)
		return -1;
	n = fread(out, 1, sizeof out - 1, f);
	out[n] = '\0';
	return pclose(f);
}

/* The value of the series line that begins with name (labels included),
 * -1 when there is none. */
static double
series(const char *text, const char *name)
{
	const char *p = text;
	size_t n = strlen(name);

	while ((p = strstr(p, name)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return strtod(p + n + 1, NULL);
		p += n;
	}
	return -1;
}

/* A free TCP port on 127.0.0.1 (bound and let go). */
static int
free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1 || bind(fd, (struct sockaddr *)&a, sizeof a) == -1 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) == -1)
		bail_out("no free port");
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* Whether the histogram of method in text is well-formed: its buckets
 * never fall, and +Inf is _count. */
static bool
histogram_ok(const char *text, const char *method, double *count)
{
	char name[200];
	const char *p = text;
	double last = 0, v, inf;

	snprintf(name, sizeof name,
	    "connreq_request_seconds_bucket{method=\"%s\",le=\"", method);
	while ((p = strstr(p, name)) != NULL) {
		const char *sp = strchr(p, ' ');

		v = strtod(sp + 1, NULL);
		if (v < last)
			return false;
		last = v;
		p = sp;
	}
	snprintf(name, sizeof name,
	    "connreq_request_seconds_bucket{method=\"%s\",le=\"+Inf\"}", method);
	inf = series(text, name);
	snprintf(name, sizeof name,
	    "connreq_request_seconds_count{method=\"%s\"}", method);
	*count = series(text, name);
	return inf >= 0 && inf == *count && last == inf;
}

int
main(void)
{
	struct dproc p, q;
	char conf[128], cmd[600], url[128];
	double count = 0;
	int port, i, raw;
	struct sockaddr_in a;

	port = free_port();
	snprintf(conf, sizeof conf, "[metrics]\nlisten = 127.0.0.1:%d\n", port);
	snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
	dproc_init(&p);
	dproc_config(&p, conf);
	if (!ok(dproc_start(&p, T0, NULL) == 0,
	    "connreqd starts with [metrics] listen = 127.0.0.1:%d", port))
		return done_testing();
	c = dconnect(&p);
	for (i = 0; i < 3; i++) {
		char to[16];

		snprintf(to, sizeof to, "b%d", i);
		send_inv(c, &r, "a", to);
	}
	send_inv(c, &r, "a", "a");		/* SELF_INVITE */
	cr_reply_free(&r);
	call(c, &r, "no.such.method", "");	/* UNKNOWN_METHOD */
	cr_reply_free(&r);

	snprintf(cmd, sizeof cmd, "curl -s -i '%s/metrics'", url);
	is_int(run(cmd), 0, "curl reads %s/metrics", url);
	ok(strncmp(out, "HTTP/1.1 200", 12) == 0 &&
	    strstr(out, "Content-Type: text/plain; version=0.0.4") != NULL,
	    "200, text/plain; version=0.0.4");
	is_int((int)series(out, "connreq_requests_total{method=\"invite.send\",code=\"OK\"}"),
	    3, "requests by method and code: 3 sends OK");
	is_int((int)series(out, "connreq_requests_total{method=\"invite.send\",code=\"SELF_INVITE\"}"),
	    1, "... 1 refused SELF_INVITE");
	is_int((int)series(out, "connreq_requests_total{method=\"unknown\",code=\"UNKNOWN_METHOD\"}"),
	    1, "... 1 unknown method");
	ok(histogram_ok(out, "invite.send", &count) && count == 4,
	    "the sends' latency histogram: buckets cumulative, +Inf = _count = 4");
	ok(strstr(out, "# TYPE connreq_request_seconds histogram\n") != NULL &&
	    strstr(out, "# HELP connreq_requests_total ") != NULL,
	    "HELP and TYPE lines");
	ok(series(out, "connreq_batch_requests_count") >= 1 &&
	    series(out, "connreq_batch_requests_sum") >= 4,
	    "batches counted (%g batches, %g requests)",
	    series(out, "connreq_batch_requests_count"),
	    series(out, "connreq_batch_requests_sum"));
	is_int((int)series(out, "connreq_pending_invitations"), 3,
	    "pending invitations: 3");
	is_int((int)series(out, "connreq_clients"), 1, "clients: 1");
	ok(series(out, "connreq_store_map_bytes{backend=\"lmdb\"}") > 0,
	    "the store's map");

	/* Only /metrics, only GET (and HEAD). */
	snprintf(cmd, sizeof cmd, "curl -s -o /dev/null -w '%%{http_code}' '%s/'",
	    url);
	run(cmd);
	is_str(out, "404", "another path: 404");
	snprintf(cmd, sizeof cmd,
	    "curl -s -o /dev/null -w '%%{http_code}' -X POST '%s/metrics'", url);
	run(cmd);
	ok(strcmp(out, "200") != 0 && out[0] != '\0', "POST: refused (%s)", out);

	/* A client that sends nothing, and one that sends garbage. */
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	raw = socket(AF_INET, SOCK_STREAM, 0);
	ok(connect(raw, (struct sockaddr *)&a, sizeof a) == 0,
	    "a silent HTTP client connects");
	{
		int bad = socket(AF_INET, SOCK_STREAM, 0);

		if (connect(bad, (struct sockaddr *)&a, sizeof a) == 0 &&
		    write(bad, "\x01\x02 garbage\r\n\r\n", 14) == 14)
			diag("garbage sent");
		close(bad);
	}
	snprintf(cmd, sizeof cmd, "curl -s -m 5 '%s/metrics'", url);
	ok(run(cmd) == 0 && series(out, "connreq_clients") == 1,
	    "meanwhile a scrape is answered");
	close(raw);
	ok(send_inv(c, &r, "a", "b9") > 0, "and the daemon serves its socket");
	cr_reply_free(&r);

	/* The same without the listener. */
	is_int(call(c, &r, "server.metrics", ""), 0, "server.metrics");
	ok(strstr(rstr(&r, "text"), "connreq_requests_total{method=\"invite.send\",code=\"OK\"} 4") != NULL,
	    "... the same series (4 sends now)");
	cr_reply_free(&r);
	snprintf(cmd, sizeof cmd, "'%s/connreq' -s '%s' metrics",
	    getenv("CONNREQ_BIN"), p.sock);
	ok(run(cmd) == 0 && series(out, "connreq_pending_invitations") == 4,
	    "connreq metrics prints them");
	cr_close(c);
	is_int(dproc_stop(&p, SIGTERM), 0, "it stops");

	/* Out of descriptors: connreqd started with 40, the listener flooded
	 * with connections. accept() fails with EMFILE; libevent's default
	 * would log it and try again at once, in a busy loop (hundreds of
	 * thousands of lines a second). */
	{
		struct dproc f;
		struct rlimit rl, low;
		int flood[80], nflood = 0, accepts;
		int64_t t0;

		port = free_port();
		snprintf(conf, sizeof conf, "[metrics]\nlisten = 127.0.0.1:%d\n",
		    port);
		snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
		a.sin_port = htons((uint16_t)port);
		dproc_init(&f);
		dproc_config(&f, conf);
		getrlimit(RLIMIT_NOFILE, &rl);
		low = rl;
		low.rlim_cur = 40;
		setrlimit(RLIMIT_NOFILE, &low);
		i = dproc_start(&f, T0, NULL);
		setrlimit(RLIMIT_NOFILE, &rl);
		if (!ok(i == 0, "connreqd starts with 40 descriptors"))
			return done_testing();
		c = dconnect(&f);
		for (i = 0; i < 80; i++) {
			flood[nflood] = socket(AF_INET, SOCK_STREAM, 0);
			if (flood[nflood] == -1 || connect(flood[nflood],
			    (struct sockaddr *)&a, sizeof a) == -1)
				break;
			nflood++;
		}
		t0 = harness_ms();
		while (!dproc_logged(&f, "Too many open files") && wait_tick(t0))
			;
		ok(dproc_logged(&f, "Too many open files"),
		    "80 connections to the listener: accept() runs out (EMFILE)");
		/* Round trips on the loop while the flood stays. */
		for (i = 0; i < 20; i++) {
			cr_reply_free(&r);
			call(c, &r, "server.info", "");
		}
		ok(send_inv(c, &r, "a", "b") > 0,
		    "meanwhile a connected client is served");
		cr_reply_free(&r);
		accepts = dproc_log_count(&f, "Too many open files");
		ok(accepts <= 2,
		    "... and the listener rests: logged %d time(s), no busy loop",
		    accepts);
		for (i = 0; i < nflood; i++)
			close(flood[i]);
		snprintf(cmd, sizeof cmd, "curl -s -m 5 '%s/metrics'", url);
		t0 = harness_ms();
		while ((run(cmd) != 0 || series(out, "connreq_clients") != 1) &&
		    wait_tick(t0))
			;
		ok(series(out, "connreq_clients") == 1,
		    "the flood gone, a scrape is answered again");
		cr_close(c);
		is_int(dproc_stop(&f, SIGTERM), 0, "it stops");
		dproc_cleanup(&f);
	}

	/* A bad address. */
	dproc_init(&q);
	dproc_config(&q, "[metrics]\nlisten = localhost\n");
	ok(dproc_refused(&q, T0, NULL) != 0 &&
	    dproc_logged(&q, "give HOST:PORT"),
	    "listen = localhost: the start is refused, saying HOST:PORT");
	dproc_cleanup(&q);
	dproc_cleanup(&p);
	return done_testing();
}
