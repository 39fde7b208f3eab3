/* daemon/server.h: the listener, the clients and the batches of requests
 * that share one write transaction (group commit). */
#ifndef CONNREQ_SERVER_H
#define CONNREQ_SERVER_H

#include <msgpack.h>

#include "daemon.h"

/* Binds path (removing a stale socket, refusing a live one) and starts
 * accepting. -1 with *why set. */
int server_listen(struct daemon *d, const char *path, char *why, size_t whylen);
/* Whether a daemon answers at path (a connect succeeds): main asks before
 * it opens the store, so that a second connreqd on one socket changes no
 * store; server_listen() asks again. */
bool server_socket_taken(const char *path);
/* Accepts on fd, the listening socket systemd passed (socket activation),
 * once it is checked to be a listening Unix stream socket; d->socket_path
 * becomes its path. It is systemd's: never unlinked here. -1 with *why set
 * (fd closed). */
int server_listen_fd(struct daemon *d, int fd, char *why, size_t whylen);
/* Stops accepting, answers what is in flight, then ends the loop. */
void server_shutdown(struct daemon *d);
void server_free(struct daemon *d);
/* Handles deadlines that are due now in one transaction (start-up). */
int server_run_due(struct daemon *d);
unsigned server_clients(const struct daemon *d);
/* The gauges of metrics.h: ctx is the daemon (a metrics_gauges_fn). */
struct metrics_gauges;
void server_gauges(void *ctx, struct metrics_gauges *g);

/* Runs one whole message (as proto_frame() delimits a client's stream) in
 * a batch of its own, the way the server runs what it reads: the same
 * decoding, method table, transaction, commit and answer. The answer's
 * bytes, when there is one (none when no msgid can be read), are appended
 * to reply; true when the server would then close the connection. Effects
 * on a client (subscriptions) have no client to act on. For the tests and
 * the fuzzer (tests/fuzz/): it needs no listener and no event loop. */
bool server_dispatch(struct daemon *d, const char *msg, size_t len,
    msgpack_sbuffer *reply);

/* Runs fn(d) once no store work is out on the worker (at once when none
 * is, or with an LMDB store): a reload changes the policy and the limits
 * only between jobs, never under one. */
void server_when_idle(struct daemon *d, void (*fn)(struct daemon *));

/* The limits changed (a reload): every client reads by the new ones. */
void server_limits_changed(struct daemon *d);
/* d->map_size_max changed (a reload): the store may grow to it, and writes
 * refused for a full map are tried again. */
void server_map_max_changed(struct daemon *d);

#endif
