/* daemon/systemd.h: what connreqd takes from systemd (a listening socket)
 * and what it tells it (sd_notify: readiness, a status line, reloads, the
 * stop, watchdog pings). Started by anything else, each call does nothing. */
#ifndef CONNREQ_SYSTEMD_H
#define CONNREQ_SYSTEMD_H

#include <stdbool.h>

#include <stddef.h>
#include <stdint.h>

struct event_base;

/* The socket systemd passed (socket activation): 1 with *fd, 0 when none
 * was passed, -1 with *why set when what was passed cannot be used. */
int systemd_socket(int *fd, char *why, size_t whylen);
/* Whether the process sees no network interface but loopback, as a unit
 * with PrivateNetwork=yes does (connreqd.service): a TCP listener there
 * (the metrics) is reachable from nowhere outside. */
bool systemd_loopback_only(void);

/* Starts the watchdog pings when the unit asks for them; after the event
 * base exists. */
void systemd_init(struct event_base *base);
void systemd_free(void);

/* READY=1 with the status line: at start, right before the event loop,
 * and after a reload. */
void systemd_ready(unsigned clients, uint64_t pending);
void systemd_reloading(void);
/* Long work before READY=1 (the store's migration) goes on: the start
 * timeout extended by a minute from now (EXTEND_TIMEOUT_USEC), with status
 * as the status line. Callable before systemd_init(). */
void systemd_extend(const char *status);
void systemd_stopping(void);
/* The clients or the counts may have changed: sends STATUS= when they
 * did, at most once a second (a later change waits for its second). */
void systemd_status(unsigned clients, uint64_t pending);

#endif
