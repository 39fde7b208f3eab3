/* daemon/systemd.c: see systemd.h.
 *
 * Everything goes through libsystemd (sd_listen_fds, sd_notify,
 * sd_watchdog_enabled). The status line costs nothing on the hot path: its
 * counts are the client count and the store's counters as the last batch
 * left them, and a change is sent at most once a second. */
#include "systemd.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ifaddrs.h>
#include <net/if.h>

#include <event2/event.h>
#include <systemd/sd-daemon.h>

#include "../common/util.h"

#define STATUS_EVERY_MS 1000

static struct {
	bool notify;		/* NOTIFY_SOCKET is set: systemd listens */
	bool stopping;
	bool failed;		/* a notification failed (logged once) */
	struct event *status_ev; /* a STATUS= waiting for its second */
	struct event *watchdog_ev;
	int64_t status_at;	/* when the last STATUS= went, monotonic ms */
	unsigned clients;	/* what it said */
	uint64_t pending;
	unsigned now_clients;	/* what it was last told */
	uint64_t now_pending;
} sys;

int
systemd_socket(int *fd, char *why, size_t whylen)
{
	int n;

	n = sd_listen_fds(1);
	if (n < 0) {
		snprintf(why, whylen, "the sockets systemd passed: %s",
		    strerror(-n));
		return -1;
	}
	if (n == 0)
		return 0;
	if (n > 1) {
		snprintf(why, whylen,
		    "systemd passed %d sockets; connreqd takes one (one ListenStream=)",
		    n);
		return -1;
	}
	*fd = SD_LISTEN_FDS_START;
	return 1;
}

bool
systemd_loopback_only(void)
{
	struct ifaddrs *all, *i;
	bool only = true;

	if (getifaddrs(&all) == -1)
		return false;	/* unknown: no warning */
	for (i = all; i != NULL; i = i->ifa_next)
		if (!(i->ifa_flags & IFF_LOOPBACK))
			only = false;
	freeifaddrs(all);
	return only;
}

static int64_t
systemd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
systemd_check(int rc)
{
	if (rc >= 0 || sys.failed)
		return;
	sys.failed = true;
	log_warn("sd_notify: %s (reported once)", strerror(-rc));
}

/* The status line, noted as said. */
static void
systemd_line(char *buf, size_t len)
{
	sys.clients = sys.now_clients;
	sys.pending = sys.now_pending;
	sys.status_at = systemd_now_ms();
	snprintf(buf, len, "%u client%s, %llu pending invitation%s",
	    sys.clients, sys.clients == 1 ? "" : "s",
	    (unsigned long long)sys.pending, sys.pending == 1 ? "" : "s");
}

static void
systemd_send_status(void)
{
	char line[128];

	systemd_line(line, sizeof line);
	systemd_check(sd_notifyf(0, "STATUS=%s", line));
}

static void
systemd_status_fire(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (!sys.stopping && (sys.now_clients != sys.clients ||
	    sys.now_pending != sys.pending))
		systemd_send_status();
}

static void
systemd_watchdog_fire(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	systemd_check(sd_notify(0, "WATCHDOG=1"));
}

void
systemd_init(struct event_base *base)
{
	struct timeval tv;
	uint64_t usec;

	sys.notify = getenv("NOTIFY_SOCKET") != NULL;
	if (!sys.notify)
		return;
	sys.status_ev = evtimer_new(base, systemd_status_fire, NULL);
	if (sys.status_ev == NULL)
		fatal("libevent: cannot create the status timer");
	if (sd_watchdog_enabled(1, &usec) <= 0 || usec == 0)
		return;
	/* Pings at half the interval, ahead of the clients' I/O. */
	usec /= 2;
	tv.tv_sec = (time_t)(usec / 1000000);
	tv.tv_usec = (suseconds_t)(usec % 1000000);
	sys.watchdog_ev = event_new(base, -1, EV_PERSIST,
	    systemd_watchdog_fire, NULL);
	if (sys.watchdog_ev == NULL ||
	    event_priority_set(sys.watchdog_ev, 0) == -1 ||
	    event_add(sys.watchdog_ev, &tv) == -1)
		fatal("libevent: cannot create the watchdog timer");
	log_info("systemd watchdog: pinging every %llu ms",
	    (unsigned long long)(usec / 1000));
}

void
systemd_free(void)
{
	if (sys.status_ev != NULL)
		event_free(sys.status_ev);
	if (sys.watchdog_ev != NULL)
		event_free(sys.watchdog_ev);
	sys.status_ev = sys.watchdog_ev = NULL;
}

void
systemd_ready(unsigned clients, uint64_t pending)
{
	char line[128];

	sys.now_clients = clients;
	sys.now_pending = pending;
	if (!sys.notify || sys.stopping)
		return;
	if (sys.status_ev != NULL)
		evtimer_del(sys.status_ev);
	systemd_line(line, sizeof line);
	systemd_check(sd_notifyf(0, "READY=1\nSTATUS=%s", line));
}

void
systemd_extend(const char *status)
{
	/* Before systemd_init(): NOTIFY_SOCKET read here. A minute from
	 * each call, which comes every 100,000 rows or so. */
	if (getenv("NOTIFY_SOCKET") == NULL || sys.stopping)
		return;
	systemd_check(sd_notifyf(0, "EXTEND_TIMEOUT_USEC=%llu\nSTATUS=%s",
	    60ULL * 1000000, status));
}

void
systemd_reloading(void)
{
	struct timespec ts;

	if (!sys.notify || sys.stopping)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	systemd_check(sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000 +
	    (unsigned long long)ts.tv_nsec / 1000));
}

void
systemd_stopping(void)
{
	if (!sys.notify || sys.stopping)
		return;
	sys.stopping = true;
	if (sys.status_ev != NULL)
		evtimer_del(sys.status_ev);
	systemd_check(sd_notify(0,
	    "STOPPING=1\nSTATUS=stopping: answering what is in flight"));
}

void
systemd_status(unsigned clients, uint64_t pending)
{
	struct timeval tv;
	int64_t wait;

	sys.now_clients = clients;
	sys.now_pending = pending;
	if (!sys.notify || sys.stopping || sys.status_ev == NULL ||
	    evtimer_pending(sys.status_ev, NULL))
		return;
	if (clients == sys.clients && pending == sys.pending)
		return;
	wait = sys.status_at + STATUS_EVERY_MS - systemd_now_ms();
	if (wait <= 0) {
		systemd_send_status();
		return;
	}
	tv.tv_sec = (time_t)(wait / 1000);
	tv.tv_usec = (suseconds_t)(wait % 1000) * 1000;
	evtimer_add(sys.status_ev, &tv);
}
