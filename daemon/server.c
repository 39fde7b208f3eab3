/* daemon/server.c: see server.h.
 *
 * Each client reads whole messages (proto_scan bounds them before
 * msgpack-c unpacks them) into the pending batch, at most QUEUE_MAX a batch
 * and PIPE_MAX unanswered (client_reading()). The batch event has a lower
 * priority than I/O, so it runs once a pass of the loop has read what was
 * ready: every request in it shares one write transaction and one sync
 * (a child transaction per request only when one is refused after it
 * wrote). While a batch's commit is being synced, its clients' next
 * requests gather for the next batch. Answers are written only once the
 * commit is durable, in request order; a read from a client with nothing
 * unanswered is answered at once from the last durable commit.
 *
 * A store whose calls block on the network (store_blocking():
 * PostgreSQL) is never called from the loop: batches (with their
 * deadlines) and event pumps run as jobs on the executor's worker thread
 * (exec.h), one at a time, and their answers are written when the job
 * comes back. Reads then join the batch (there is no durable snapshot to
 * answer from at once without a round trip). While a job is out, the loop
 * reads and writes sockets only: it leaves the clock, the policy and the
 * batch's state to the worker, and a reload waits for the job's end
 * (server_when_idle()). A batch that conflicts with another daemon's
 * (STORE_CONFLICT) is run again from its start, a few times, after a short
 * random pause on the worker; a database that cannot be reached answers
 * UNAVAILABLE with retry_at, and the daemon goes on. Other daemons'
 * commits on a shared store are heard through the store's watch
 * (store_watch_new(): PostgreSQL's LISTEN, on a connection the loop drives
 * without blocking), and pump the subscribers behind the head it tells.
 * On a shared database
 * the clock is the database's, read at the start of each batch
 * (store_db_clock(): its time, or the shared virtual clock), each
 * deadline is claimed by the transaction that applies it
 * (store_due_claim()), and the deadline timer also fires every
 * DUE_POLL_SECS while idle: other daemons write deadlines (and may die
 * before they apply them), and move the virtual clock. */
#include "server.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <systemd/sd-daemon.h>

#include "../common/util.h"
#include "../proto/proto.h"
#include "clock.h"
#include "exec.h"
#include "methods.h"
#include "metrics.h"
#include "retry.h"
#include "store.h"
#include "systemd.h"
#include "timers.h"

#define OUT_HIGH (1u << 20)	/* stop reading a client past this output */
#define PUMP_HIGH (256u << 10)	/* push events while the output is below */
#define PUMP_MAX 4096		/* events pushed in one go */
#define FULL_RETRY_SECS 60	/* a full map: deadlines retried after */
#define DISK_RETRY_SECS 5	/* a full disk: deadlines retried after */
#define QUEUE_MAX 16		/* a client's requests in one batch */
#define PIPE_MAX 64		/* a client's requests not yet answered */
#define INFLIGHT_MAX 4		/* batches committed, not yet durable */
#define ACCEPT_RETRY_SECS 1	/* out of descriptors: accept again after */
#define CONFLICT_RETRIES 8	/* a batch run again after STORE_CONFLICT */
#define UNAVAILABLE_RETRY_SECS 2	/* the database unreachable: retry_at */
#define DUE_POLL_SECS 2		/* a shared database: its deadlines and its
				 * clock read again after, at the latest */

struct client {
	struct server *srv;
	struct bufferevent *bev;
	struct evbuffer *stage;	/* answers not yet handed to bev */
	struct event *read_timer;	/* a message begun must end by then */
	uint64_t id;
	unsigned queued;	/* its entries not yet answered */
	unsigned batched;	/* of them, in the pending batch */
	bool closing;		/* close once the output is written */
	/* A subscriber is a cursor over the event log, not a queue. */
	bool sub;
	bool sub_all;
	char sub_member[MEMBER_MAX_BYTES];
	size_t sub_mlen;
	uint64_t sub_cursor;	/* the last seq pushed, or passed over */
	unsigned queued_events;	/* pushed in the current pump */
	struct client *prev, *next;
};

/* One message in a batch. */
struct entry {
	struct client *c;	/* NULL once the client is gone */
	char *bytes;
	msgpack_unpacked msg;
	struct proto_request req;
	bool have_msgid;
	bool failed;		/* err is the answer, do not execute */
	bool store_full;	/* answer STORE_FULL, do not execute */
	bool close_after;
	struct proto_error err;
	struct effects fx;	/* what its method asked for, once done */
	msgpack_sbuffer out;
	int64_t arrived_us;	/* for its latency (metrics.h) */
	int method;		/* enum proto_method; PM_COUNT: none */
	enum proto_code code;	/* its answer's: PE_OK for a result */
	struct entry *next;
};

/* Why writes get STORE_FULL, if they do. */
enum srv_full {
	FULL_NOT,
	FULL_MAP,		/* the map is at map_size_max */
	FULL_DISK		/* the disk has no room: writes wait for it */
};

/* BATCH_NESTED: a request refused after it wrote, in the batch's own
 * transaction, or a store error there (on PostgreSQL, maybe a write of an
 * earlier request, sent without waiting: store_defer()); the batch is run
 * again with a child transaction per request. */
enum batch_rc { BATCH_OK, BATCH_MAP_FULL, BATCH_NO_SPACE, BATCH_FAILED,
	BATCH_NESTED,
	BATCH_CONFLICT,		/* another daemon's transaction: run it again */
	BATCH_UNAVAILABLE,	/* the database cannot be reached: nothing done */
	BATCH_UNKNOWN		/* lost during COMMIT: done or not, unknown */
};

/* What a subscriber is sent by an event pump run on the worker: the events
 * after cursor, as pump_one() would push them, into buf. */
struct pump_req {
	struct client *c;	/* NULL once the client is gone */
	bool all;
	char member[MEMBER_MAX_BYTES];
	size_t mlen;
	uint64_t cursor;	/* in: from; out: the last pushed or passed */
	size_t room;		/* bytes its output takes before PUMP_HIGH */
	unsigned n;		/* events pushed */
	bool expired;		/* it fell behind the retention */
	bool failed;		/* the store failed: nothing pushed */
	struct evbuffer *buf;
};

/* A job of the server's on the executor: a batch, or event pumps. */
struct srv_job {
	struct job j;
	struct server *srv;
	struct entry *list;	/* a batch's entries */
	struct pump_req *pumps;	/* or pumps, npumps of them */
	unsigned npumps;
	uint64_t pump_head;	/* the event head in the pumps' snapshot */
};

/* A batch committed whose commit is not yet durable: its answers wait. */
struct flight {
	struct entry *list;
	uint64_t seq;		/* answered once the store is durable to it */
	struct timers_state state;	/* the store's, as of the batch */
	struct flight *next;
};

struct server {
	struct daemon *d;
	struct evconnlistener *listener;
	struct event *accept_ev;	/* accepting is paused: resume then */
	bool accept_paused;	/* accept() failed: not accepting */
	bool accept_logged;	/* the failure is logged: once an episode */
	struct event *batch_ev;
	struct event *timer_ev;
	struct client *clients;
	unsigned nclients;
	uint64_t next_client_id;
	struct entry *head, **tail;
	struct flight *flights, **flights_tail;	/* in commit order */
	struct event *durable_ev;	/* the store's commits became durable */
	uint64_t batch_seq;	/* the batch in hand's commit */
	bool stopping;
	enum srv_full full;	/* not FULL_NOT: deadlines wait */
	/* The batch in hand. */
	bool nested;		/* a child transaction per request */
	bool deferred;		/* a batch waits for the flusher */
	bool run_more;		/* deadlines or old events remain past one
				 * batch's share */
	int64_t timers_at;	/* when a batch last ran the deadlines */
	struct timers_state next_state;	/* the store's, once it commits */
	char *path;		/* the socket it bound, NULL: systemd's */
	/* The store blocks: its work runs on the executor. */
	struct executor *exec;
	struct srv_job *job;	/* the job out */
	bool pump_wanted;	/* a subscriber has events to be pumped */
	bool last_was_pump;	/* the last job pumped: a batch goes first */
	bool unavailable;	/* the database could not be reached */
	/* Other daemons' commits on a shared store (store_watch_new()). */
	struct store_watch *watch;
	struct event *watch_ev;	/* its socket, or a pause while it is down */
	unsigned watch_pause_ms;	/* the next pause before reconnecting */
	uint64_t heard;		/* an event head heard of, not yet pumped to */
	void (*idle_fn)(struct daemon *);	/* to run once no job is out */
	/* Gathering (a blocking store: each batch's COMMIT waits for the
	 * database's WAL flush): the requests of the last batch's clients
	 * come back a moment after their answers; a batch of the one that
	 * came meanwhile would cost a COMMIT of its own. So the next batch
	 * waits, at most GATHER_US, for as many requests as the last one
	 * had (batch_submit()). */
	unsigned last_batch;	/* requests in the last batch submitted */
	struct event *gather_ev;	/* the wait; pending: gathering */
	bool gathered;		/* the wait ran out: submit what there is */
};

/* A blocking store's batch waits at most this for its requests. */
#define GATHER_US 1000

static void client_free(struct client *c);
static void batch_schedule(struct server *srv);
static void client_pump(struct client *c);
static void accept_resume(struct server *srv);
static void server_next_job(struct server *srv);
static void pumps_land(struct server *srv, struct srv_job *sj);

/* The event head as far as this daemon knows: its last commit's, or one
 * another daemon's commit announced. */
static uint64_t
feed_head(const struct server *srv)
{
	return srv->heard > srv->d->state.event_head ? srv->heard :
	    srv->d->state.event_head;
}

/* A job is out, or back and being landed: the loop leaves the store, the
 * clock and the policy alone, and submits nothing. */
static bool
server_busy(const struct server *srv)
{
	return srv->job != NULL;
}

void
server_gauges(void *ctx, struct metrics_gauges *g)
{
	const struct daemon *d = ctx;
	const struct client *c;

	memset(g, 0, sizeof *g);
	g->backend = store_name(d->store);
	g->map_size = store_map_size(d->store);
	g->map_size_max = d->map_size_max;
	g->pending = d->state.pending;
	g->next_due = d->state.next_due;
	g->event_head = d->state.event_head;
	g->started_at = d->started_at;
	if (d->server == NULL)
		return;
	g->clients = d->server->nclients;
	for (c = d->server->clients; c != NULL; c = c->next)
		if (c->sub)
			g->subscribers++;
}

unsigned
server_clients(const struct daemon *d)
{
	return d->server ? d->server->nclients : 0;
}

/* Tells systemd the clients and the pending count, when they changed. */
static void
server_status(struct server *srv)
{
	systemd_status(srv->nclients, srv->d->state.pending);
}

static void
server_maybe_exit(struct server *srv)
{
	if (srv->stopping && srv->nclients == 0 && srv->head == NULL &&
	    srv->flights == NULL && !server_busy(srv))
		event_base_loopexit(srv->d->base, NULL);
}

static void
entry_free(struct entry *e)
{
	msgpack_unpacked_destroy(&e->msg);
	msgpack_sbuffer_destroy(&e->out);
	free(e->bytes);
	free(e);
}

/* Frees what e's request took once its answer is made (its req points
 * into them: nothing reads it after). */
static void
entry_shed(struct entry *e)
{
	msgpack_unpacked_destroy(&e->msg);
	msgpack_unpacked_init(&e->msg);
	free(e->bytes);
	e->bytes = NULL;
	memset(&e->req, 0, sizeof e->req);
}

/* A monotonic clock in microseconds, for latencies (never the
 * requests' time, which is the daemon's clock). */
static int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static struct entry *
entry_alloc(void)
{
	struct entry *e = xcalloc(1, sizeof *e);

	msgpack_unpacked_init(&e->msg);
	msgpack_sbuffer_init(&e->out);
	e->arrived_us = mono_us();
	e->method = PM_COUNT;
	return e;
}

static struct entry *
entry_new(struct client *c)
{
	struct entry *e = entry_alloc();
	struct server *srv = c->srv;

	e->c = c;
	*srv->tail = e;
	srv->tail = &e->next;
	c->queued++;
	c->batched++;
	return e;
}

/* Decodes e->bytes, len of them: a request to run, or the answer to give. */
static void
entry_decode(struct entry *e, size_t len)
{
	if (proto_decode(e->bytes, len, &e->msg, &e->req, &e->have_msgid,
	    &e->close_after, &e->err) == -1)
		e->failed = true;
	else
		e->method = (int)proto_method_from(e->req.method,
		    e->req.method_len);
}

static enum batch_rc entry_exec(struct server *srv, struct entry *e,
    struct stx *t);
static void client_subscription(struct client *c, const struct effects *fx);
static void client_pump(struct client *c);

/* Whether more of the client's requests are read now: fewer than QUEUE_MAX
 * of them in the pending batch, fewer than PIPE_MAX unanswered (those in
 * batches whose commits are not yet durable count), and its output below
 * OUT_HIGH. A pipelining client's next requests join the next batch while
 * the last one is being flushed; its answers still go in request order. */
static bool
client_reading(struct client *c)
{
	return !c->closing && c->batched < QUEUE_MAX && c->queued < PIPE_MAX &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) < OUT_HIGH;
}

/* Answers gather in the client's stage (client_send()) and leave it
 * together (client_flush(), after a pass over its input and after a batch's
 * answers): straight to the socket when nothing waits in the output
 * before them (one writev, no write event to add and remove), and what the
 * socket does not take into the output, which the loop writes as it can. */
static void
client_send(struct client *c, const void *p, size_t len)
{
	evbuffer_add(c->stage, p, len);
}

static void
client_flush(struct client *c)
{
	if (evbuffer_get_length(c->stage) == 0)
		return;
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0 &&
	    evbuffer_write(c->stage, bufferevent_getfd(c->bev)) == -1) {
		/* EAGAIN, or an error that the output's write reports. */
	}
	if (evbuffer_get_length(c->stage) > 0)
		bufferevent_write_buffer(c->bev, c->stage);
}

/* Whether e is a read that can be answered at once, from the store as of
 * its last durable commit: nothing of its client waits before it (its
 * answers stay in order, and it sees the client's own writes). Deadlines
 * still due do not hold it: a read shows an invitation past its deadline
 * as the deadline will leave it (inv_as_of(), docs/protocol.md 7). */
static bool
entry_read_now(struct client *c, const struct entry *e)
{
	const struct method *m;

	if (e->failed || e->close_after || c->queued > 0 || c->closing)
		return false;
	m = method_find(e->req.method, e->req.method_len);
	if (m == NULL)
		return false;
	/* With a worker (PostgreSQL), reads join the batch; what needs no
	 * store is still answered here, so hello answers while the
	 * database hangs. */
	if (c->srv->exec != NULL)
		return (m->flags & M_NOSTORE) != 0;
	return !(m->flags & M_WRITE);
}

/* Counts e's answer, about to be sent (metrics.h). */
static void
entry_count(struct server *srv, const struct entry *e)
{
	int64_t now = mono_us();

	metrics_request(&srv->d->metrics, e->method, e->code,
	    now > e->arrived_us ? (uint64_t)(now - e->arrived_us) : 0);
}

/* Runs the read e at once and writes its answer. */
static void
entry_read(struct client *c, struct entry *e)
{
	entry_exec(c->srv, e, NULL);
	client_subscription(c, &e->fx);
	if (e->out.size > 0) {
		entry_count(c->srv, e);
		client_send(c, e->out.data, e->out.size);
	}
	entry_free(e);
	client_pump(c);
}

/* Takes one whole message of len bytes from the client's input: a read
 * answered at once, or a request for the next batch. */
static void
client_take(struct client *c, struct evbuffer *in, size_t len)
{
	struct entry *e = entry_alloc();

	e->bytes = xmalloc(len);
	evbuffer_remove(in, e->bytes, len);
	entry_decode(e, len);
	if (entry_read_now(c, e)) {
		entry_read(c, e);
		return;
	}
	e->c = c;
	*c->srv->tail = e;
	c->srv->tail = &e->next;
	c->queued++;
	c->batched++;
	if (e->close_after) {
		/* Nothing after it is read or run. */
		log_warn("client %llu: %s; closing it",
		    (unsigned long long)c->id, e->err.message);
		c->closing = true;
		bufferevent_disable(c->bev, EV_READ);
		evbuffer_drain(in, evbuffer_get_length(in));
	}
}

/* A message that cannot be taken: answer where a msgid can be read, close. */
static void
client_reject(struct client *c, struct evbuffer *in,
    const struct proto_frame *f)
{
	struct entry *e = entry_new(c);

	e->have_msgid = f->have_msgid;
	e->req.msgid = f->msgid;
	e->failed = e->close_after = true;
	proto_fail(&e->err, f->code, "%s", f->why);
	log_warn("client %llu: %s; closing it", (unsigned long long)c->id,
	    f->why);
	c->closing = true;
	bufferevent_disable(c->bev, EV_READ);
	evbuffer_drain(in, evbuffer_get_length(in));
}

/* A message begun must be complete within read_timeout: the timer runs
 * while part of one waits in the input and the client is being read; it
 * stops when the message is taken (a new one starts afresh), and between
 * messages (idle clients, subscribers) nothing runs. */
static void
client_read_timer(struct client *c)
{
	struct timeval tv;

	if (!client_reading(c) ||
	    evbuffer_get_length(bufferevent_get_input(c->bev)) == 0) {
		evtimer_del(c->read_timer);
		return;
	}
	if (evtimer_pending(c->read_timer, NULL))
		return;
	tv.tv_sec = (time_t)c->srv->d->read_timeout;
	tv.tv_usec = 0;
	evtimer_add(c->read_timer, &tv);
}

/* The message did not arrive in time: the client holds a slot for nothing.
 * No msgid can be trusted yet, so nothing is answered; the connection is
 * closed at once (what it has not read of its output is dropped). */
static void
client_read_expired(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;

	(void)fd;
	(void)what;
	log_warn("client %llu: a message not complete within read_timeout (%llus, %zu bytes of it); closing it",
	    (unsigned long long)c->id,
	    (unsigned long long)c->srv->d->read_timeout,
	    evbuffer_get_length(bufferevent_get_input(c->bev)));
	client_free(c);
}

static void
client_read(struct bufferevent *bev, void *arg)
{
	struct client *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t max = c->srv->d->max_message_bytes, len, n;
	struct proto_frame f;
	unsigned char *p;

	/* At most QUEUE_MAX requests a batch: the rest wait in the input,
	 * bounded by its watermark, and are read after the batch. */
	while (client_reading(c) && (len = evbuffer_get_length(in)) > 0) {
		n = len < max + 16 ? len : max + 16;
		p = evbuffer_pullup(in, (ssize_t)n);
		proto_frame((const char *)p, n, max, &f);
		if (f.scan == PROTO_SCAN_OK) {
			client_take(c, in, f.msglen);
			continue;
		}
		if (f.scan != PROTO_SCAN_MORE)
			client_reject(c, in, &f);
		break;
	}
	client_flush(c);
	if (c->batched > 0)
		batch_schedule(c->srv);
	if (!client_reading(c))
		bufferevent_disable(bev, EV_READ);	/* client_resume() */
	client_read_timer(c);
}

/* Reads the client again once client_reading() allows it: what already
 * waits in its input first. */
static void
client_resume(struct client *c)
{
	if (!client_reading(c))
		return;
	bufferevent_enable(c->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
		client_read(c->bev, c);
}

static void
client_write(struct bufferevent *bev, void *arg)
{
	struct client *c = arg;

	if (c->closing) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0 &&
		    c->queued == 0)
			client_free(c);
		return;
	}
	client_resume(c);
	client_pump(c);
}

static void
client_event(struct bufferevent *bev, short what, void *arg)
{
	struct client *c = arg;

	if (what & BEV_EVENT_EOF && !(what & BEV_EVENT_ERROR)) {
		/* The peer is done sending: answer what it asked, then close. */
		log_debug("client %llu: end of input", (unsigned long long)c->id);
		c->closing = true;
		bufferevent_disable(bev, EV_READ);
		evtimer_del(c->read_timer);	/* what is partial never ends */
		if (c->queued > 0 ||
		    evbuffer_get_length(bufferevent_get_output(bev)) > 0)
			return;
	} else
		log_debug("client %llu: %s", (unsigned long long)c->id,
		    strerror(errno));
	client_free(c);
}

static void
client_free(struct client *c)
{
	struct server *srv = c->srv;
	struct entry *e;

	struct flight *f;

	for (e = srv->head; e != NULL; e = e->next)
		if (e->c == c)
			e->c = NULL;
	for (f = srv->flights; f != NULL; f = f->next)
		for (e = f->list; e != NULL; e = e->next)
			if (e->c == c)
				e->c = NULL;
	/* The job out (the worker reads neither field). */
	if (srv->job != NULL) {
		unsigned i;

		for (e = srv->job->list; e != NULL; e = e->next)
			if (e->c == c)
				e->c = NULL;
		for (i = 0; i < srv->job->npumps; i++)
			if (srv->job->pumps[i].c == c)
				srv->job->pumps[i].c = NULL;
	}
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		srv->clients = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	srv->nclients--;
	event_free(c->read_timer);
	bufferevent_free(c->bev);
	evbuffer_free(c->stage);
	free(c);
	/* A descriptor is free again: accept the clients that wait. */
	if (srv->accept_paused)
		accept_resume(srv);
	server_status(srv);
	server_maybe_exit(srv);
}

static void
server_accept(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct server *srv = arg;
	struct client *c;
	struct ucred cred = { .pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1 };
	socklen_t len = sizeof cred;

	(void)l;
	(void)sa;
	(void)salen;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1 ||
	    cred.uid != geteuid()) {
		log_warn("refused a client of uid %ld: only uid %ld may connect",
		    (long)cred.uid, (long)geteuid());
		close(fd);
		return;
	}
	if (srv->stopping || srv->nclients >= srv->d->max_clients) {
		log_warn("refused a client: %s", srv->stopping ?
		    "shutting down" : "max_clients reached");
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof *c);
	c->srv = srv;
	c->id = ++srv->next_client_id;
	c->bev = bufferevent_socket_new(srv->d->base, fd,
	    BEV_OPT_CLOSE_ON_FREE);
	c->read_timer = evtimer_new(srv->d->base, client_read_expired, c);
	c->stage = evbuffer_new();
	if (c->bev == NULL || c->read_timer == NULL || c->stage == NULL) {
		if (c->bev != NULL)
			bufferevent_free(c->bev);
		else
			close(fd);
		if (c->read_timer != NULL)
			event_free(c->read_timer);
		if (c->stage != NULL)
			evbuffer_free(c->stage);
		free(c);
		return;
	}
	bufferevent_priority_set(c->bev, 0);
	bufferevent_setcb(c->bev, client_read, client_write, client_event, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0,
	    2 * (size_t)srv->d->max_message_bytes + 64);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	c->next = srv->clients;
	if (c->next != NULL)
		c->next->prev = c;
	srv->clients = c;
	srv->nclients++;
	log_debug("client %llu: connected", (unsigned long long)c->id);
	server_status(srv);
}

/* Accepting again: a descriptor was freed, or the retry timer fired. */
static void
accept_resume(struct server *srv)
{
	if (!srv->accept_paused || srv->listener == NULL || srv->stopping)
		return;
	srv->accept_paused = false;
	evconnlistener_enable(srv->listener);
}

/* A second after the last failure: still paused, try again (and look
 * again a second later); accepting all along, the episode is over. */
static void
accept_retry(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	struct timeval tv = { ACCEPT_RETRY_SECS, 0 };

	(void)fd;
	(void)what;
	if (srv->stopping)
		return;
	if (srv->accept_paused) {
		accept_resume(srv);
		evtimer_add(srv->accept_ev, &tv);
	} else if (srv->accept_logged) {
		log_info("accepting clients again");
		srv->accept_logged = false;
	}
}

/* accept() failed for a reason other than a retriable one: out of
 * descriptors, mostly. The pending connection stays in the backlog, so
 * the listener would wake again at once: stop listening until a client is
 * freed or a second has passed, and say so once an episode, not per
 * attempt (the episode ends when a second passes with no failure). */
static void
server_accept_error(struct evconnlistener *l, void *arg)
{
	struct server *srv = arg;
	int err = EVUTIL_SOCKET_ERROR();
	struct timeval tv = { ACCEPT_RETRY_SECS, 0 };

	evconnlistener_disable(l);
	srv->accept_paused = true;
	evtimer_add(srv->accept_ev, &tv);
	if (srv->accept_logged)
		return;
	srv->accept_logged = true;
	if (err == EMFILE || err == ENFILE)
		log_warn("out of file descriptors: not accepting until one frees (%s)",
		    strerror(err));
	else
		log_warn("accept: %s; not accepting for %d s at a time until it works",
		    strerror(err), ACCEPT_RETRY_SECS);
}

/* Packs the answer to e: result holds the packed result on success. */
static void
entry_answer(struct entry *e, const msgpack_sbuffer *result)
{
	msgpack_packer pk;

	e->code = result == NULL ? e->err.code : PE_OK;
	msgpack_sbuffer_clear(&e->out);
	if (!e->have_msgid)
		return;
	msgpack_packer_init(&pk, &e->out, msgpack_sbuffer_write);
	if (result == NULL) {
		proto_pack_error_response(&pk, e->req.msgid, &e->err);
		return;
	}
	msgpack_pack_array(&pk, 4);
	msgpack_pack_uint8(&pk, PROTO_RESPONSE);
	msgpack_pack_uint32(&pk, e->req.msgid);
	msgpack_pack_nil(&pk);
	msgpack_sbuffer_write(&e->out, result->data, result->size);
}

/* The request's work is in the batch: keep what its method asked of the
 * server. The clock moves at once, so the requests after it in the batch
 * see the new time (batch_run puts it back if the batch is retried); a
 * subscription changes once the batch is committed. */
static void
entry_done(struct server *srv, struct entry *e, const struct effects *fx)
{
	e->fx = *fx;
	clock_advance(&srv->d->clock, fx->clock_advance);
	if (fx->run_more)
		srv->run_more = true;
}

/* Makes c a subscriber (or not) as its request asked. */
static void
client_subscription(struct client *c, const struct effects *fx)
{
	if (fx->subscription == FX_UNSUBSCRIBE)
		c->sub = false;
	if (fx->subscription != FX_SUBSCRIBE)
		return;
	c->sub = true;
	c->sub_all = fx->sub_all;
	c->sub_mlen = fx->sub_mlen;
	memcpy(c->sub_member, fx->sub_member, fx->sub_mlen);
	c->sub_cursor = fx->sub_after;
}

static enum batch_rc
batch_rc_of(int store_rc)
{
	switch (store_rc) {
	case STORE_OK:
		return BATCH_OK;
	case STORE_MAP_FULL:
		return BATCH_MAP_FULL;
	case STORE_NO_SPACE:
		return BATCH_NO_SPACE;
	case STORE_CONFLICT:
		return BATCH_CONFLICT;
	case STORE_UNAVAILABLE:
		return BATCH_UNAVAILABLE;
	default:
		return BATCH_FAILED;
	}
}

/* Runs the method of e, a request with a store, in call: 0, or -1 with
 * its error in call->err. A write with a request_id is answered from its
 * record when it was made before (daemon/retry.h), and keeps one when it
 * succeeds; res holds the packed result. */
static int
entry_run(struct entry *e, const struct method *m, struct call *call,
    msgpack_sbuffer *res)
{
	struct retry r;
	int rc;

	if (!(m->flags & M_WRITE))
		return m->exec(call);
	switch (retry_begin(&r, &call->op, &call->args, e->req.method,
	    e->req.method_len, res, call->err)) {
	case RETRY_ANSWERED:
		/* The first answer; the method's other arguments are the
		 * first request's, checked then. */
		retry_free(&r);
		return 0;
	case RETRY_FAILED:
		retry_free(&r);
		return -1;
	case RETRY_RUN:
		break;
	}
	rc = m->exec(call);
	if (rc == 0 && store_error(call->op.t) == STORE_OK)
		retry_keep(&r, &call->op, e->req.method, e->req.method_len,
		    res);
	retry_free(&r);
	return rc;
}

/* Runs one request in the batch's transaction t itself, or (srv->nested)
 * in a child of t, or (t NULL: a read run at once) in a read transaction
 * of its own. Returns BATCH_MAP_FULL or BATCH_NO_SPACE when the store ran
 * out of room, BATCH_NESTED when a request in t itself was refused after
 * it wrote (or met a store error): the whole batch is then retried.
 *
 * A child transaction per request would undo a refused request alone,
 * but LMDB allocates a dirty list (about 2 MiB) for each: most requests
 * are refused before they write, so a batch runs in one transaction, and
 * only a batch where one is not is run again the slow way. */
static enum batch_rc
entry_exec(struct server *srv, struct entry *e, struct stx *t)
{
	const struct method *m;
	msgpack_sbuffer res;
	msgpack_packer pk;
	struct call call;
	struct stx *child;
	uint64_t writes;
	bool shared;
	int rc, src;

	memset(&e->fx, 0, sizeof e->fx);
	if (e->failed) {
		entry_answer(e, NULL);
		return BATCH_OK;
	}
	if (e->store_full) {
		proto_fail(&e->err, PE_STORE_FULL, srv->full == FULL_DISK ?
		    "no space left on the store's disk; writes are refused until there is room" :
		    "the store is full (map_size_max reached)");
		entry_answer(e, NULL);
		return BATCH_OK;
	}
	m = method_find(e->req.method, e->req.method_len);
	if (m == NULL) {
		char name[72];

		proto_echo(name, sizeof name, e->req.method, e->req.method_len);
		proto_fail(&e->err, PE_UNKNOWN_METHOD, "unknown method '%s'",
		    name);
		entry_answer(e, NULL);
		return BATCH_OK;
	}
	msgpack_sbuffer_init(&res);
	msgpack_packer_init(&pk, &res, msgpack_sbuffer_write);
	if (m->flags & M_NOSTORE) {
		/* No transaction, no clock, no policy: it is answered
		 * whatever the store's state, on the loop even while a
		 * worker's job owns those. */
		memset(&call, 0, sizeof call);
		call.d = srv->d;
		call.pk = &pk;
		call.err = &e->err;
		args_init(&call.args, e->req.args, &e->err);
		if (!call.args.failed && m->exec(&call) == 0) {
			entry_answer(e, &res);
			entry_done(srv, e, &call.fx);
		} else
			entry_answer(e, NULL);
		msgpack_sbuffer_destroy(&res);
		return BATCH_OK;
	}
	shared = t != NULL && !srv->nested;
	writes = store_writes(srv->d->store);
	child = t == NULL ? store_begin_read(srv->d->store) : shared ? t :
	    store_begin(srv->d->store, t);
	memset(&call, 0, sizeof call);
	call.d = srv->d;
	/* The clock is read once per request; everything below gets now. */
	call.op.t = child;
	call.op.policy = &srv->d->policy;
	call.op.now = clock_now(&srv->d->clock);
	call.pk = &pk;
	call.err = &e->err;
	args_init(&call.args, e->req.args, &e->err);
	rc = call.args.failed ? -1 : entry_run(e, m, &call, &res);
	src = store_error(child);
	if (shared) {
		if (src == STORE_OK && rc == 0) {
			entry_answer(e, &res);
			entry_done(srv, e, &call.fx);
		}
		msgpack_sbuffer_destroy(&res);
		if (src == STORE_MAP_FULL || src == STORE_NO_SPACE ||
		    src == STORE_CONFLICT || src == STORE_UNAVAILABLE)
			return batch_rc_of(src);
		if (src != STORE_OK ||
		    (rc != 0 && store_writes(srv->d->store) != writes))
			return BATCH_NESTED;
		if (rc != 0)
			entry_answer(e, NULL);
		return BATCH_OK;
	}
	if (rc == 0 && t == NULL) {
		store_abort(child);	/* a read: nothing to commit */
		if (src == STORE_OK) {
			entry_answer(e, &res);
			entry_done(srv, e, &call.fx);
		}
	} else if (rc == 0) {
		src = store_commit(child);
		if (src == STORE_OK) {
			entry_answer(e, &res);
			entry_done(srv, e, &call.fx);
		}
	} else
		store_abort(child);
	msgpack_sbuffer_destroy(&res);
	if (src == STORE_MAP_FULL || src == STORE_NO_SPACE)
		return batch_rc_of(src);
	if (t != NULL && (src == STORE_CONFLICT || src == STORE_UNAVAILABLE))
		return batch_rc_of(src);	/* the whole batch */
	if (src != STORE_OK) {
		log_warn("%.*s: %s", (int)e->req.method_len, e->req.method,
		    store_strerror(srv->d->store));
		/* LMDB: a commit that fails is fatal. A shared database's
		 * (writers take turns, each seeing the last one's commit):
		 * this request's alone, undone with its child; the others
		 * of the batch go on. */
		if (t != NULL && rc == 0 && !store_blocking(srv->d->store))
			return BATCH_FAILED;
		proto_fail(&e->err, PE_INTERNAL, "store error");
		rc = -1;
	}
	if (rc != 0)
		entry_answer(e, NULL);
	return BATCH_OK;
}

/* Tells the store what e will read (struct method's hint), in t. */
static void
entry_hint(struct server *srv, struct entry *e, struct stx *t)
{
	const struct method *m;
	struct proto_error err;
	struct call call;

	if (e->failed || e->store_full ||
	    (m = method_find(e->req.method, e->req.method_len)) == NULL ||
	    m->hint == NULL)
		return;
	memset(&err, 0, sizeof err);
	memset(&call, 0, sizeof call);
	call.d = srv->d;
	call.op.t = t;
	call.op.policy = &srv->d->policy;
	call.op.now = clock_now(&srv->d->clock);
	call.err = &err;
	args_init(&call.args, e->req.args, &err);
	if (!call.args.failed)
		m->hint(&call);
}

/* A batch of writes that each name what they write (struct method's
 * keys) begins keyed (store_begin_keyed()): on a shared database, such
 * batches of several daemons run at once, where every other write
 * transaction takes its turn. Such a batch runs no deadline and no prune:
 * only when none is due by this daemon's clock and state, none was left
 * for the next batch, and some batch ran them within the last
 * KEYED_TIMERS_SECS (which a batch that is not keyed does). Whether it
 * can, with its keys in ks. */
#define KEYED_TIMERS_SECS 1
static bool
batch_keys(struct server *srv, struct entry *list, bool timers,
    struct store_keys *ks)
{
	struct daemon *d = srv->d;
	const struct method *m;
	struct proto_error err;
	struct call call;
	const char *id;
	size_t idlen;
	int64_t now = clock_now(&d->clock);
	struct entry *e;
	unsigned writes = 0;

	if (!store_blocking(d->store) || srv->nested || srv->run_more ||
	    (timers && ((d->state.next_due != 0 && d->state.next_due <= now) ||
	    now - srv->timers_at >= KEYED_TIMERS_SECS || now < srv->timers_at)))
		return false;
	ks->n = 0;
	ks->full = false;
	for (e = list; e != NULL; e = e->next) {
		if (e->failed || e->store_full ||
		    (m = method_find(e->req.method, e->req.method_len)) ==
		    NULL || (m->flags & M_NOSTORE))
			continue;	/* answered without the store */
		/* A read too takes the turn: in a keyed transaction (READ
		 * COMMITTED) its statements would not share one snapshot. */
		if (!(m->flags & M_WRITE) || m->keys == NULL)
			return false;
		memset(&err, 0, sizeof err);
		memset(&call, 0, sizeof call);
		call.d = d;
		call.op.policy = &d->policy;
		call.op.now = now;
		call.err = &err;
		args_init(&call.args, e->req.args, &err);
		if (call.args.failed)
			continue;	/* refused before it writes */
		m->keys(&call, ks);
		if (args_str(&call.args, "request_id", false, &id, &idlen) &&
		    id != NULL)
			store_keys_request(ks, id, idlen);
		writes++;
	}
	/* A lone write takes the turn: its ids then come without gaps
	 * (those taken and not given go back), as on LMDB. */
	return writes >= 2 && ks->n > 0 && !ks->full;
}

/* One try at the batch. On BATCH_MAP_FULL or BATCH_NO_SPACE, *culprit is
 * the entry that ran out of room (NULL: the deadlines or the commit). */
static enum batch_rc
batch_try(struct server *srv, struct entry *list, bool timers,
    struct entry **culprit)
{
	struct daemon *d = srv->d;
	struct store_keys ks;
	bool keyed = batch_keys(srv, list, timers, &ks);
	struct stx *t = keyed ? store_begin_keyed(d->store, &ks) :
	    store_begin(d->store, NULL);
	struct op op = { t, &d->policy, 0 };
	struct entry *e;
	enum batch_rc brc;
	int64_t real, vclock;
	int rc;

	*culprit = NULL;
	keyed = keyed && store_keyed(t);
	/* A shared database's clock is every daemon's: read once a batch
	 * (its time, or the virtual clock it holds). */
	if (store_db_clock(t, &real, &vclock))
		clock_from_db(&d->clock, real, vclock);
	if (store_error(t) != STORE_OK) {
		rc = store_error(t);
		log_warn("store: %s", store_strerror(d->store));
		store_abort(t);
		/* LMDB: a begin that fails is fatal, as it always was. */
		return store_blocking(d->store) ? batch_rc_of(rc) :
		    BATCH_FAILED;
	}
	op.now = clock_now(&d->clock);
	srv->run_more = false;
	/* The requests' writes are not waited for one by one (PostgreSQL:
	 * a round trip less a request): a failure among them shows in a
	 * later request, or below before the commit, and the batch runs
	 * again the nested way, each request's failure its own. */
	if (!srv->nested)
		store_defer(t, true);
	/* PostgreSQL: what the batch's sends will read comes in one round
	 * trip, not one each (store_hint_send()), that of the deadlines'
	 * claim: told before the timers run. */
	if (!srv->nested && store_blocking(d->store))
		for (e = list; e != NULL; e = e->next)
			entry_hint(srv, e, t);
	if (timers && !keyed) {
		srv->timers_at = op.now;
		timers_run(&op, &srv->run_more);
		if (store_error(t) != STORE_OK) {
			rc = store_error(t);
			store_abort(t);
			return batch_rc_of(rc);
		}
	}
	for (e = list; e != NULL; e = e->next) {
		brc = entry_exec(srv, e, t);
		if (brc != BATCH_OK) {
			*culprit = e;
			store_abort(t);
			return brc;
		}
	}
	/* The batch may have added or removed deadlines: arm for the
	 * earliest as it will be committed. */
	timers_state(t, &srv->next_state);
	store_defer(t, false);
	if (store_blocking(d->store) && (rc = store_error(t)) != STORE_OK) {
		/* A write sent without waiting failed: whose, a child
		 * transaction per request tells (once). */
		store_abort(t);
		if (rc == STORE_MAP_FULL || rc == STORE_NO_SPACE ||
		    rc == STORE_CONFLICT || rc == STORE_UNAVAILABLE ||
		    srv->nested)
			return batch_rc_of(rc);
		return BATCH_NESTED;
	}
	/* A keyed transaction (PostgreSQL) gives its events their seqs in
	 * that flush (kev_commit()): the head it will commit is known only
	 * now (before, it was the one read at BEGIN). */
	if (keyed)
		srv->next_state.event_head = store_event_head(t);
	rc = store_commit_async(t, &srv->batch_seq);
	if (rc == STORE_MAP_FULL || rc == STORE_NO_SPACE ||
	    rc == STORE_CONFLICT)
		return batch_rc_of(rc);
	if (rc == STORE_UNAVAILABLE)
		return BATCH_UNKNOWN;	/* lost during COMMIT */
	if (rc != STORE_OK && store_blocking(d->store)) {
		/* PostgreSQL refused the COMMIT: nothing of it was done. */
		log_warn("store: %s", store_strerror(d->store));
		return BATCH_UNAVAILABLE;
	}
	if (rc != STORE_OK) {
		/* Never acknowledge a write that is not on disk; and after a
		 * failed write or sync (EIO) the disk cannot be trusted. */
		fatal("store commit failed: %s; exiting without answering",
		    store_strerror(d->store));
	}
	return BATCH_OK;
}

static void
timer_arm(struct server *srv)
{
	struct daemon *d = srv->d;
	bool shared = store_blocking(d->store);
	struct timeval tv;
	int64_t wait;

	if (srv->timer_ev == NULL ||
	    (clock_is_virtual(&d->clock) && !shared))
		return;
	evtimer_del(srv->timer_ev);
	if (shared) {
		/* Other daemons write deadlines, and one may die before it
		 * applies them; the virtual clock moves through any: read
		 * them again at least every DUE_POLL_SECS. A deadline still
		 * due after this daemon's batch is in another daemon's
		 * hands: look again in a second, not at once. */
		wait = d->state.next_due == 0 || clock_is_virtual(&d->clock) ?
		    DUE_POLL_SECS : d->state.next_due - clock_now(&d->clock);
		if (wait <= 0)
			wait = 1;
		if (wait > DUE_POLL_SECS)
			wait = DUE_POLL_SECS;
	} else if (d->state.next_due == 0)
		return;
	else
		wait = d->state.next_due - clock_now(&d->clock);
	/* While the store is full, overdue deadlines cannot be written:
	 * try again in a minute, not at once; a full disk may have room
	 * again sooner. */
	if (srv->full == FULL_MAP && wait < FULL_RETRY_SECS)
		wait = FULL_RETRY_SECS;
	if (srv->full == FULL_DISK && wait < DISK_RETRY_SECS)
		wait = DISK_RETRY_SECS;
	if (srv->unavailable && wait < UNAVAILABLE_RETRY_SECS)
		wait = UNAVAILABLE_RETRY_SECS;
	tv.tv_sec = wait > 0 ? (time_t)wait : 0;
	tv.tv_usec = 0;
	evtimer_add(srv->timer_ev, &tv);
}

/* Marks the first write request not yet refused STORE_FULL; false when
 * there is none. */
static bool
batch_refuse_write(struct entry *list)
{
	const struct method *m;
	struct entry *e;

	for (e = list; e != NULL; e = e->next) {
		if (e->failed || e->store_full)
			continue;
		m = method_find(e->req.method, e->req.method_len);
		if (m != NULL && (m->flags & M_WRITE)) {
			e->store_full = true;
			return true;
		}
	}
	return false;
}

/* Refuses every write request of the batch (STORE_FULL); false when there
 * was none left to refuse. */
static bool
batch_refuse_writes(struct entry *list)
{
	bool any = false;

	while (batch_refuse_write(list))
		any = true;
	return any;
}

/* A pause before a batch runs again after a conflict: random, growing
 * with the tries (up to ~50 ms), so that two daemons that conflicted do
 * not meet again in step. Only on the worker: the loop never sleeps. */
static void
batch_backoff(unsigned tries)
{
	static __thread unsigned seed;
	struct timespec ts;
	long max_us = 500L << (tries < 7 ? tries : 7);

	if (seed == 0)
		seed = (unsigned)getpid() ^ (unsigned)time(NULL) ^
		    (unsigned)(uintptr_t)&ts;
	ts.tv_sec = 0;
	ts.tv_nsec = (rand_r(&seed) % max_us) * 1000L;
	nanosleep(&ts, NULL);
}

/* The database could not be reached, or the batch kept conflicting:
 * every request that needs the store gets UNAVAILABLE with retry_at, and
 * nothing of the batch is answered as done. unknown: the connection was
 * lost during COMMIT, which may or may not have been applied. */
static void
batch_unavailable(struct server *srv, struct entry *list, bool unknown)
{
	struct daemon *d = srv->d;
	int64_t retry_at = clock_now(&d->clock) + UNAVAILABLE_RETRY_SECS;
	const struct method *m;
	struct entry *e;

	if (!srv->unavailable)
		log_warn("store: %s; requests get UNAVAILABLE until the database answers again",
		    store_strerror(d->store));
	srv->unavailable = true;
	for (e = list; e != NULL; e = e->next) {
		m = method_find(e->req.method, e->req.method_len);
		if (e->failed || e->store_full || m == NULL ||
		    (m->flags & M_NOSTORE)) {
			entry_exec(srv, e, NULL);	/* no store needed */
			continue;
		}
		memset(&e->fx, 0, sizeof e->fx);
		if (unknown)
			proto_fail(&e->err, PE_UNAVAILABLE,
			    "the connection to the database was lost during COMMIT: this request may or may not have been applied; read before retrying");
		else
			proto_fail(&e->err, PE_UNAVAILABLE,
			    "database unavailable, nothing done: %s",
			    store_strerror(d->store));
		e->err.retry_at = retry_at;
		entry_answer(e, NULL);
	}
	srv->batch_seq = 0;		/* nothing to wait for */
	srv->next_state = d->state;
	srv->run_more = false;
}

/* Runs a batch: deadlines, then every request in list, one commit; each
 * entry then holds its answer. A full store is grown, or the requests that
 * do not fit get STORE_FULL. */
static void
batch_settle(struct server *srv, struct entry *list)
{
	struct daemon *d = srv->d;
	struct entry *e, *culprit;
	bool timers = true, refused_all = false;
	struct clock clock = d->clock;
	enum batch_rc brc;
	unsigned conflicts = 0;

	if (srv->full == FULL_DISK) {
		/* Writes wait for room on the disk; reads go on. */
		if (store_room(d->store) == 0) {
			log_info("store: room again");
			srv->full = FULL_NOT;
		} else {
			timers = false;
			batch_refuse_writes(list);
		}
	}
	srv->nested = false;
	for (;;) {
		brc = batch_try(srv, list, timers, &culprit);
		if (brc == BATCH_OK) {
			if (srv->unavailable)
				log_info("store: the database answers again");
			srv->unavailable = false;
			break;
		}
		if (brc == BATCH_FAILED && !store_blocking(d->store))
			fatal("store: %s", store_strerror(d->store));
		d->clock = clock;	/* undo what clock.advance did */
		if (brc == BATCH_CONFLICT || brc == BATCH_FAILED) {
			/* Another daemon's transaction came first: the batch
			 * again from its start, after a pause (on the worker:
			 * the loop goes on). */
			if (++conflicts <= CONFLICT_RETRIES) {
				log_debug("batch: %s; run again (%u)",
				    store_strerror(d->store), conflicts);
				batch_backoff(conflicts);
				continue;
			}
			log_warn("batch: still conflicting after %u runs (%s); its requests get UNAVAILABLE",
			    conflicts, store_strerror(d->store));
			batch_unavailable(srv, list, false);
			break;
		}
		if (brc == BATCH_UNAVAILABLE || brc == BATCH_UNKNOWN) {
			batch_unavailable(srv, list, brc == BATCH_UNKNOWN);
			break;
		}
		if (brc == BATCH_NESTED) {
			log_debug("batch: a request refused after it wrote, or a store error; the batch again, a child transaction per request");
			srv->nested = true;
			continue;
		}
		if (brc == BATCH_NO_SPACE) {
			/* No write can be made until the disk has room:
			 * refuse them all, answer the reads. */
			if (srv->full != FULL_DISK)
				log_warn("store: no space left on device; writes get STORE_FULL until there is room (%s)",
				    store_strerror(d->store));
			srv->full = FULL_DISK;
			if (!batch_refuse_writes(list) && !timers) {
				/* A read wrote: refuse everything. A batch
				 * that writes nothing needs no room, so a
				 * second time is not a full disk. */
				if (refused_all)
					fatal("store: %s",
					    store_strerror(d->store));
				for (e = list; e != NULL; e = e->next)
					e->store_full = true;
				refused_all = true;
			}
			timers = false;
			continue;
		}
		if (store_grow(d->store) == 0)
			continue;
		if (culprit != NULL)
			culprit->store_full = true;
		else if (timers)
			timers = false;
		else if (!batch_refuse_write(list)) {
			/* Only reads are left: nothing can grow now. */
			for (e = list; e != NULL; e = e->next)
				e->store_full = true;
		}
		if (srv->full != FULL_MAP)
			log_warn("store: full at map_size_max (%llu bytes); writes get STORE_FULL",
			    (unsigned long long)d->map_size_max);
		srv->full = FULL_MAP;
	}
	if (timers && srv->full == FULL_MAP) {
		log_info("store: room again");
		srv->full = FULL_NOT;
	}
	if (srv->exec == NULL)
		timer_arm(srv);	/* on the loop (else once the job is back) */
}

/* Writes the answers of a batch whose commit is durable, and lets its
 * clients be read again. */
static void
batch_answer(struct server *srv, struct entry *list)
{
	struct entry *e, *next;
	unsigned n = 0;

	for (e = list; e != NULL; e = e->next)
		n++;
	if (n > 0)
		metrics_batch(&srv->d->metrics, n);

	for (e = list; e != NULL; e = next) {
		next = e->next;
		if (e->c != NULL) {
			client_subscription(e->c, &e->fx);
			e->c->queued--;
			if (e->out.size > 0) {
				entry_count(srv, e);
				client_send(e->c, e->out.data, e->out.size);
			}
			if (e->close_after) {
				e->c->closing = true;
				bufferevent_disable(e->c->bev, EV_READ);
			}
			if (e->next == NULL || e->next->c != e->c)
				client_flush(e->c);
			if (e->c->queued == 0 &&
			    (e->c->closing || srv->stopping)) {
				client_flush(e->c);
				e->c->closing = true;
				/* queued is 0: no entry, here or in the next
				 * batch, points to it. */
				if (evbuffer_get_length(
				    bufferevent_get_output(e->c->bev)) == 0)
					client_free(e->c);
			} else if (e->next == NULL || e->next->c != e->c)
				client_resume(e->c);	/* its last here */
		}
		entry_free(e);
	}
}

/* Answers the batches whose commits are durable now, in order. */
static void
flights_settle(struct server *srv)
{
	struct daemon *d = srv->d;
	struct flight *f;
	struct client *c, *cnext;
	uint64_t durable;
	bool any = false;
	int rc;

	durable = store_durable(d->store, &rc);
	if (rc != STORE_OK)
		fatal("store: %s; exiting without answering",
		    store_strerror(d->store));
	while ((f = srv->flights) != NULL && f->seq <= durable) {
		srv->flights = f->next;
		if (srv->flights == NULL)
			srv->flights_tail = &srv->flights;
		d->state = f->state;
		batch_answer(srv, f->list);
		free(f);
		any = true;
	}
	if (!any)
		return;
	/* Answers first, then the events they may have made. */
	for (c = srv->clients; c != NULL; c = cnext) {
		cnext = c->next;
		client_pump(c);
	}
	timer_arm(srv);
	/* With an executor this runs as a job lands, and job_done() submits
	 * what waits (server_next_job()): scheduling it here too would run
	 * a second, empty batch behind it, which would defer the next, for
	 * ever. */
	if ((srv->head != NULL || srv->deferred) && srv->exec == NULL)
		batch_schedule(srv);
	server_status(srv);
	server_maybe_exit(srv);
}

static void
durable_ready(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	flights_settle(arg);
}

static void batch_landed(struct server *srv, struct entry *list);
static void batch_submit(struct server *srv);

/* The gathering's wait ran out: the batch goes with what there is. */
static void
gather_done(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	(void)fd;
	(void)what;
	srv->gathered = true;
	batch_submit(srv);
}

/* Runs the pending batch; its answers go once its commit is durable
 * (flights_settle(), at once when it wrote nothing new). While the
 * flusher is INFLIGHT_MAX batches behind, requests gather for the next. */
static void
batch_run(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	struct entry *list = srv->head, *e;

	(void)fd;
	(void)what;
	if (srv->exec != NULL) {
		batch_submit(srv);
		return;
	}
	if (store_inflight(srv->d->store) >= INFLIGHT_MAX) {
		srv->deferred = true;	/* flights_settle() runs it */
		return;
	}
	srv->deferred = false;
	srv->head = NULL;
	srv->tail = &srv->head;
	for (e = list; e != NULL; e = e->next)
		if (e->c != NULL)
			e->c->batched = 0;
	batch_settle(srv, list);
	batch_landed(srv, list);
}

/* The batch list ran (its answers are in its entries): it waits for its
 * commit to be durable, as a flight, and its clients are read again. */
static void
batch_landed(struct server *srv, struct entry *list)
{
	struct entry *e;
	struct flight *f;

	/* Only the answers wait for the commit: the requests go now, so a
	 * client's PIPE_MAX unanswered requests hold their answers, not
	 * their bytes (up to max_message_bytes each). */
	for (e = list; e != NULL; e = e->next)
		entry_shed(e);
	f = xcalloc(1, sizeof *f);
	f->list = list;
	f->seq = srv->batch_seq;
	f->state = srv->next_state;
	*srv->flights_tail = f;
	srv->flights_tail = &f->next;
	/* Its clients' next requests gather for the next batch while this
	 * one is flushed. */
	for (e = list; e != NULL; e = e->next)
		if (e->c != NULL && (e->next == NULL || e->next->c != e->c))
			client_resume(e->c);
	if (srv->run_more) {
		/* The next share runs after the loop has read the sockets
		 * (a zero timeout, where event_active would run it before),
		 * so what clients sent meanwhile joins it. */
		static const struct timeval now = { 0, 0 };

		evtimer_add(srv->batch_ev, &now);
	}
	flights_settle(srv);
}

/* Pushes one event as [2, "event", [event]]. */
static bool
pump_one(void *ctx, const struct event_rec *ev)
{
	static const char head[] = "\x93\x02\xa5" "event" "\x91";
	struct client *c = ctx;
	struct evbuffer *out = bufferevent_get_output(c->bev);

	evbuffer_add(out, head, sizeof head - 1);
	evbuffer_add(out, ev->data, ev->len);
	c->sub_cursor = ev->seq;
	return evbuffer_get_length(out) < PUMP_HIGH && ++c->queued_events <
	    PUMP_MAX;
}

/* Pushes a subscriber the events it has not had, while its socket takes
 * them: memory stays bounded by PUMP_HIGH whatever the reader does, and the
 * log, not the daemon, holds what it has not read yet. */
static void
client_pump(struct client *c)
{
	struct daemon *d = c->srv->d;
	struct evbuffer *out;
	struct stx *t;
	uint64_t head;

	if (!c->sub || c->closing || c->sub_cursor >= feed_head(c->srv))
		return;
	client_flush(c);	/* answers before the events they made */
	out = bufferevent_get_output(c->bev);
	if (evbuffer_get_length(out) >= PUMP_HIGH)
		return;		/* the write callback calls again */
	if (c->srv->exec != NULL) {
		/* A job on the worker pumps it (pumps_submit()). */
		c->srv->pump_wanted = true;
		if (!server_busy(c->srv))
			server_next_job(c->srv);
		return;
	}
	t = store_begin_read(d->store);
	head = store_event_head(t);
	if (c->sub_cursor < store_event_pruned(t, c->sub_all ? NULL :
	    c->sub_member, c->sub_mlen)) {
		/* It fell behind what is kept: it must learn that it missed
		 * events. Resubscribing says CURSOR_EXPIRED. */
		log_warn("client %llu: subscriber fell behind the retention; closing it",
		    (unsigned long long)c->id);
		store_abort(t);
		c->sub = false;
		c->closing = true;
		bufferevent_disable(c->bev, EV_READ);
		/* Freed by its write callback, later: the caller may be
		 * reading it (client_read(), a read answered at once). */
		if (evbuffer_get_length(out) == 0 && c->queued == 0)
			bufferevent_trigger(c->bev, EV_WRITE,
			    BEV_TRIG_IGNORE_WATERMARKS |
			    BEV_TRIG_DEFER_CALLBACKS);
		return;
	}
	c->queued_events = 0;
	store_event_scan(t, c->sub_cursor, c->sub_all ? NULL : c->sub_member,
	    c->sub_mlen, pump_one, c);
	/* Scanned to the end: nothing up to head is due to this client. */
	if (store_error(t) == STORE_OK && evbuffer_get_length(out) < PUMP_HIGH &&
	    c->queued_events < PUMP_MAX && c->sub_cursor < head)
		c->sub_cursor = head;
	if (store_error(t) != STORE_OK)
		log_warn("events: %s", store_strerror(d->store));
	store_abort(t);
}

/* Jobs on the executor (a blocking store). */

static void
batch_job_run(struct job *j)
{
	struct srv_job *sj = (struct srv_job *)j;

	batch_settle(sj->srv, sj->list);
}

static void
job_done(struct job *j)
{
	struct srv_job *sj = (struct srv_job *)j;
	struct server *srv = sj->srv;
	struct entry *list = sj->list;
	void (*fn)(struct daemon *);

	/* Still busy while it lands (nothing is submitted meanwhile); its
	 * entries are the flight's now (client_free() finds them there). */
	sj->list = NULL;
	if (sj->pumps != NULL)
		pumps_land(srv, sj);
	else
		batch_landed(srv, list);
	srv->job = NULL;
	free(sj->pumps);
	free(sj);
	/* No job is out: what waited for one to end runs now. */
	if ((fn = srv->idle_fn) != NULL) {
		srv->idle_fn = NULL;
		fn(srv->d);
	}
	if (!server_busy(srv))
		server_next_job(srv);
	server_maybe_exit(srv);
}

/* Hands the pending batch (with the deadlines that are due) to the
 * worker, unless a job is out: then it waits for that one's end. */
static void
batch_submit(struct server *srv)
{
	struct srv_job *sj;
	struct entry *e;
	unsigned n = 0;

	if (server_busy(srv)) {
		srv->deferred = true;	/* job_done() runs it */
		return;
	}
	for (e = srv->head; e != NULL; e = e->next)
		n++;
	if (srv->gather_ev != NULL && !srv->gathered && !srv->stopping &&
	    n > 0 && srv->last_batch >= 4 && n < srv->last_batch) {
		/* More are on their way: wait for them (gather_done()), or
		 * for enough of them (client_read() schedules a batch as
		 * each comes). */
		if (!evtimer_pending(srv->gather_ev, NULL)) {
			struct timeval tv = { 0, GATHER_US };

			evtimer_add(srv->gather_ev, &tv);
		}
		return;
	}
	srv->gathered = false;
	if (srv->gather_ev != NULL)
		evtimer_del(srv->gather_ev);
	srv->last_batch = n;
	srv->deferred = false;
	sj = xcalloc(1, sizeof *sj);
	sj->j.run = batch_job_run;
	sj->j.done = job_done;
	sj->srv = srv;
	sj->list = srv->head;
	srv->head = NULL;
	srv->tail = &srv->head;
	for (e = sj->list; e != NULL; e = e->next)
		if (e->c != NULL)
			e->c->batched = 0;
	srv->job = sj;
	srv->last_was_pump = false;
	exec_submit(srv->exec, &sj->j);
}

static bool
pump_buf(void *ctx, const struct event_rec *ev)
{
	static const char head[] = "\x93\x02\xa5" "event" "\x91";
	struct pump_req *p = ctx;

	evbuffer_add(p->buf, head, sizeof head - 1);
	evbuffer_add(p->buf, ev->data, ev->len);
	p->cursor = ev->seq;
	return evbuffer_get_length(p->buf) < p->room && ++p->n < PUMP_MAX;
}

/* On the worker: each subscriber's events after its cursor, in one
 * snapshot, as client_pump() pushes them. */
static void
pumps_job_run(struct job *j)
{
	struct srv_job *sj = (struct srv_job *)j;
	struct store *store = sj->srv->d->store;
	struct stx *t = store_begin_read(store);
	uint64_t head = store_event_head(t);
	struct pump_req *p;
	unsigned i;

	sj->pump_head = head;
	for (i = 0; i < sj->npumps; i++) {
		p = &sj->pumps[i];
		if (store_error(t) != STORE_OK) {
			p->failed = true;
			continue;
		}
		if (p->cursor < store_event_pruned(t, p->all ? NULL :
		    p->member, p->mlen)) {
			p->expired = true;
			continue;
		}
		store_event_scan(t, p->cursor, p->all ? NULL : p->member,
		    p->mlen, pump_buf, p);
		if (store_error(t) != STORE_OK) {
			p->failed = true;
			continue;
		}
		if (evbuffer_get_length(p->buf) < p->room &&
		    p->n < PUMP_MAX && p->cursor < head)
			p->cursor = head;
	}
	if (store_error(t) != STORE_OK)
		log_warn("events: %s", store_strerror(store));
	store_abort(t);
}

/* Back on the loop: the events go to their subscribers, after the
 * answers that wait before them. */
static void
pumps_land(struct server *srv, struct srv_job *sj)
{
	struct evbuffer *out;
	struct pump_req *p;
	struct client *c;
	unsigned i;

	for (i = 0; i < sj->npumps; i++) {
		p = &sj->pumps[i];
		c = p->c;
		if (c != NULL && c->sub && !c->closing && p->expired) {
			log_warn("client %llu: subscriber fell behind the retention; closing it",
			    (unsigned long long)c->id);
			c->sub = false;
			c->closing = true;
			bufferevent_disable(c->bev, EV_READ);
			out = bufferevent_get_output(c->bev);
			if (evbuffer_get_length(out) == 0 && c->queued == 0)
				bufferevent_trigger(c->bev, EV_WRITE,
				    BEV_TRIG_IGNORE_WATERMARKS |
				    BEV_TRIG_DEFER_CALLBACKS);
		} else if (c != NULL && c->sub && !c->closing && !p->failed) {
			client_flush(c);
			bufferevent_write_buffer(c->bev, p->buf);
			c->sub_cursor = p->cursor;
		}
		evbuffer_free(p->buf);
	}
	/* What was heard of is in this snapshot (a notification goes out
	 * after its commit is visible): pumped to everyone who had room. */
	if (srv->heard <= sj->pump_head)
		srv->heard = 0;
}

/* Hands the worker a pump for every subscriber that has events to be
 * sent and room for them; false when none has. */
static bool
pumps_submit(struct server *srv)
{
	struct srv_job *sj;
	struct pump_req *p;
	struct client *c;
	size_t len;
	unsigned n = 0;

	srv->pump_wanted = false;
	for (c = srv->clients; c != NULL; c = c->next)
		n++;
	sj = xcalloc(1, sizeof *sj);
	sj->pumps = xcalloc(n > 0 ? n : 1, sizeof *sj->pumps);
	for (c = srv->clients; c != NULL; c = c->next) {
		if (!c->sub || c->closing || c->sub_cursor >= feed_head(srv))
			continue;
		client_flush(c);
		len = evbuffer_get_length(bufferevent_get_output(c->bev));
		if (len >= PUMP_HIGH)
			continue;	/* its write callback asks again */
		p = &sj->pumps[sj->npumps++];
		p->c = c;
		p->all = c->sub_all;
		p->mlen = c->sub_mlen;
		memcpy(p->member, c->sub_member, c->sub_mlen);
		p->cursor = c->sub_cursor;
		p->room = PUMP_HIGH - len;
		p->buf = evbuffer_new();
		if (p->buf == NULL)
			fatal("out of memory");
	}
	if (sj->npumps == 0) {
		free(sj->pumps);
		free(sj);
		return false;
	}
	sj->j.run = pumps_job_run;
	sj->j.done = job_done;
	sj->srv = srv;
	srv->job = sj;
	srv->last_was_pump = true;
	exec_submit(srv->exec, &sj->j);
	return true;
}

/* No job is out: the next one, if there is work. A batch and the pumps
 * take turns, so that neither waits for ever behind the other. */
static void
server_next_job(struct server *srv)
{
	bool batch = srv->head != NULL || srv->deferred;

	if (srv->pump_wanted && (!batch || !srv->last_was_pump) &&
	    pumps_submit(srv))
		return;
	if (batch)
		batch_submit(srv);
}

void
server_when_idle(struct daemon *d, void (*fn)(struct daemon *))
{
	struct server *srv = d->server;

	if (srv == NULL || !server_busy(srv)) {
		fn(d);
		return;
	}
	srv->idle_fn = fn;
}

void
server_limits_changed(struct daemon *d)
{
	struct client *c;

	if (d->server == NULL)
		return;
	for (c = d->server->clients; c != NULL; c = c->next)
		bufferevent_setwatermark(c->bev, EV_READ, 0,
		    2 * (size_t)d->max_message_bytes + 64);
}

void
server_map_max_changed(struct daemon *d)
{
	struct server *srv = d->server;

	store_set_map_max(d->store, d->map_size_max);
	if (srv == NULL || srv->full != FULL_MAP)
		return;
	/* The next write tries again (the map may grow now), and so do the
	 * deadlines that waited, at once. */
	srv->full = FULL_NOT;
	timer_arm(srv);
}

static void
batch_schedule(struct server *srv)
{
	event_active(srv->batch_ev, EV_TIMEOUT, 0);
}

static void
timer_fire(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	batch_schedule(arg);
}

int
server_run_due(struct daemon *d)
{
	struct timers_state st;
	struct op op;
	size_t n, total = 0;
	int64_t real, vclock;
	unsigned conflicts = 0;
	int rc;
	bool more;

	op.policy = &d->policy;
	op.now = clock_now(&d->clock);
share:
	for (;;) {
		op.t = store_begin(d->store, NULL);
		/* A shared database's clock: read for each share. */
		if (store_db_clock(op.t, &real, &vclock)) {
			clock_from_db(&d->clock, real, vclock);
			op.now = clock_now(&d->clock);
		}
		n = timers_run(&op, &more);
		timers_state(op.t, &st);
		rc = store_commit(op.t);
		if (rc == STORE_MAP_FULL && store_grow(d->store) == 0)
			continue;
		/* Another daemon's transaction came first: again. */
		if (rc == STORE_CONFLICT && ++conflicts <= CONFLICT_RETRIES)
			continue;
		break;
	}
	if (rc != STORE_OK && store_blocking(d->store)) {
		/* A shared database: the batches apply them, soon. */
		log_warn("deadlines at start: %s; left to the next batches",
		    store_strerror(d->store));
		op.t = store_begin_read(d->store);
		timers_state(op.t, &d->state);
		store_abort(op.t);
		return 0;
	}
	if (rc == STORE_MAP_FULL || rc == STORE_NO_SPACE) {
		/* Serve reads anyway; the deadlines wait for room. */
		log_warn("store: %s; overdue deadlines wait until there is room (%zu handled)",
		    rc == STORE_MAP_FULL ? "full at map_size_max" :
		    "no space left on device", total);
		op.t = store_begin_read(d->store);
		timers_state(op.t, &d->state);
		store_abort(op.t);
		return 0;
	}
	if (rc != STORE_OK) {
		log_error("deadlines at start: %s", store_strerror(d->store));
		return -1;
	}
	d->state = st;
	total += n;
	/* A share per commit: a long downtime's backlog never makes one
	 * huge transaction. */
	if (more)
		goto share;
	if (total > 0)
		log_info("handled %zu deadlines that fell due while connreqd was down",
		    total);
	return 0;
}

/* Makes the socket's directory ours and private. */
static int
socket_dir(const char *path, char *why, size_t whylen)
{
	char *dir = xstrndup(path, strlen(path)), *slash = strrchr(dir, '/');
	struct stat st;
	int rc = 0;

	if (slash == NULL || slash == dir) {
		free(dir);
		return 0;
	}
	*slash = '\0';
	if (path_mkdir_p(dir, 0700) == -1 || stat(dir, &st) == -1) {
		snprintf(why, whylen, "cannot create %s: %s", dir,
		    strerror(errno));
		rc = -1;
	} else if (st.st_uid != geteuid()) {
		snprintf(why, whylen, "%s belongs to another user", dir);
		rc = -1;
	} else if ((st.st_mode & (S_IWGRP | S_IWOTH)) &&
	    !(st.st_uid == 0 && (st.st_mode & S_ISVTX))) {
		/* Others could replace the socket, and clients refuse such
		 * a directory: it becomes ours alone. A sticky one of root's
		 * (/tmp, when root names a socket there) is shared and left
		 * as it is: no one else can remove or rename what we make. */
		if (chmod(dir, 0700) == -1) {
			snprintf(why, whylen,
			    "%s is writable by others and cannot be made 0700: %s",
			    dir, strerror(errno));
			rc = -1;
		} else
			log_warn("%s was writable by others: its mode is now 0700",
			    dir);
	}
	free(dir);
	return rc;
}

static struct server *
server_new(struct daemon *d)
{
	struct server *srv = xcalloc(1, sizeof *srv);

	srv->d = d;
	srv->tail = &srv->head;
	srv->flights_tail = &srv->flights;
	d->server = srv;
	d->gauges_fn = server_gauges;
	return srv;
}

/* The watch (a shared store): each step may tell an event head that
 * another daemon committed; the subscribers behind it are pumped. While it
 * is down it is stepped again after a pause, which doubles up to
 * WATCH_PAUSE_MAX_MS. */
#define WATCH_PAUSE_MS 50
#define WATCH_PAUSE_MAX_MS 1000

static void
watch_step(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	struct client *c, *cnext;
	uint64_t head;
	bool was_up = store_watch_up(srv->watch);
	struct timeval tv;
	short ev = 0;
	int want, ms;

	(void)fd;
	(void)what;
	fd = store_watch_step(srv->watch, &want, &head);
	if (!was_up && store_watch_up(srv->watch)) {
		log_info("store: listening for other daemons' events");
		srv->watch_pause_ms = WATCH_PAUSE_MS;
	}
	if (head > feed_head(srv))
		srv->heard = head;
	if (head > 0)
		for (c = srv->clients; c != NULL; c = cnext) {
			cnext = c->next;
			client_pump(c);
		}
	if (fd == -1) {
		tv.tv_sec = srv->watch_pause_ms / 1000;
		tv.tv_usec = (srv->watch_pause_ms % 1000) * 1000;
		if (srv->watch_pause_ms < WATCH_PAUSE_MAX_MS)
			srv->watch_pause_ms *= 2;
		event_assign(srv->watch_ev, srv->d->base, -1, 0, watch_step,
		    srv);
		event_add(srv->watch_ev, &tv);
		return;
	}
	if (want & STORE_WATCH_READ)
		ev |= EV_READ;
	if (want & STORE_WATCH_WRITE)
		ev |= EV_WRITE;
	event_assign(srv->watch_ev, srv->d->base, fd, ev, watch_step, srv);
	if ((ms = store_watch_timeout(srv->watch)) >= 0) {
		tv.tv_sec = ms / 1000;
		tv.tv_usec = (ms % 1000) * 1000;
		event_add(srv->watch_ev, &tv);
	} else
		event_add(srv->watch_ev, NULL);
}

/* Accepts on fd, a listening socket: backlog 0 keeps its own. */
static int
server_start(struct server *srv, int fd, int backlog, char *why,
    size_t whylen)
{
	struct daemon *d = srv->d;

	srv->listener = evconnlistener_new(d->base, server_accept, srv,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, backlog, fd);
	if (srv->listener == NULL)
		close(fd);
	else
		evconnlistener_set_error_cb(srv->listener, server_accept_error);
	srv->accept_ev = evtimer_new(d->base, accept_retry, srv);
	srv->batch_ev = event_new(d->base, -1, 0, batch_run, srv);
	if (srv->batch_ev != NULL)
		event_priority_set(srv->batch_ev, 1);
	srv->timer_ev = evtimer_new(d->base, timer_fire, srv);
	if (store_blocking(d->store) &&
	    (srv->exec = exec_new(d->base, why, whylen)) == NULL)
		return -1;
	if (srv->exec != NULL &&
	    (srv->gather_ev = evtimer_new(d->base, gather_done, srv)) == NULL) {
		snprintf(why, whylen, "libevent: cannot make a timer");
		return -1;
	}
	if (store_wait_fd(d->store) != -1) {
		srv->durable_ev = event_new(d->base, store_wait_fd(d->store),
		    EV_READ | EV_PERSIST, durable_ready, srv);
		if (srv->durable_ev == NULL ||
		    event_priority_set(srv->durable_ev, 0) == -1 ||
		    event_add(srv->durable_ev, NULL) == -1) {
			snprintf(why, whylen,
			    "libevent: cannot watch the store's flusher");
			return -1;
		}
	}
	if (srv->listener == NULL || srv->batch_ev == NULL ||
	    srv->timer_ev == NULL || srv->accept_ev == NULL) {
		snprintf(why, whylen, "libevent: cannot set up the listener");
		return -1;
	}
	if ((srv->watch = store_watch_new(d->store)) != NULL) {
		srv->watch_pause_ms = WATCH_PAUSE_MS;
		srv->watch_ev = event_new(d->base, -1, 0, watch_step, srv);
		if (srv->watch_ev == NULL) {
			snprintf(why, whylen,
			    "libevent: cannot watch the store");
			return -1;
		}
		watch_step(-1, 0, srv);
	}
	timer_arm(srv);
	return 0;
}

bool
server_socket_taken(const char *path)
{
	struct sockaddr_un sun;
	bool taken;
	int fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path)
		return false;
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return false;
	taken = connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0;
	close(fd);
	return taken;
}

int
server_listen(struct daemon *d, const char *path, char *why, size_t whylen)
{
	struct server *srv = server_new(d);
	struct sockaddr_un sun, tmp;
	int fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	tmp = sun;
	if (strlen(path) >= sizeof sun.sun_path) {
		snprintf(why, whylen, "socket path too long: %s", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	if (socket_dir(path, why, whylen) == -1)
		return -1;
	if (server_socket_taken(path)) {
		snprintf(why, whylen,
		    "another connreqd is already listening on %s", path);
		return -1;
	}
	unlink(path);		/* a stale socket */
	/* Made under a name of its own, its mode set and listening, and only
	 * then given its path: a client that connects the moment the path
	 * is there is neither refused nor finds it open to others. */
	if (snprintf(tmp.sun_path, sizeof tmp.sun_path, "%s.%ld", path,
	    (long)getpid()) >= (int)sizeof tmp.sun_path) {
		snprintf(why, whylen, "socket path too long: %s", path);
		return -1;
	}
	unlink(tmp.sun_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1 ||
	    bind(fd, (struct sockaddr *)&tmp, sizeof tmp) == -1 ||
	    chmod(tmp.sun_path, 0600) == -1 || listen(fd, 128) == -1 ||
	    rename(tmp.sun_path, path) == -1) {
		snprintf(why, whylen, "cannot listen on %s: %s", path,
		    strerror(errno));
		unlink(tmp.sun_path);
		if (fd != -1)
			close(fd);
		return -1;
	}
	srv->path = xstrndup(path, strlen(path));
	return server_start(srv, fd, -1, why, whylen);
}

int
server_listen_fd(struct daemon *d, int fd, char *why, size_t whylen)
{
	struct server *srv = server_new(d);
	struct sockaddr_un sun;
	socklen_t len = sizeof sun;

	if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0) {
		snprintf(why, whylen,
		    "descriptor %d from systemd is not a listening Unix stream socket (ListenStream= a path)",
		    fd);
		close(fd);
		return -1;
	}
	if (evutil_make_socket_nonblocking(fd) == -1) {
		snprintf(why, whylen, "descriptor %d from systemd: %s", fd,
		    strerror(errno));
		close(fd);
		return -1;
	}
	memset(&sun, 0, sizeof sun);
	if (getsockname(fd, (struct sockaddr *)&sun, &len) == 0 &&
	    len > offsetof(struct sockaddr_un, sun_path) &&
	    sun.sun_path[0] != '\0') {
		sun.sun_path[sizeof sun.sun_path - 1] = '\0';
		free(d->socket_path);
		d->socket_path = xstrndup(sun.sun_path, strlen(sun.sun_path));
	}
	return server_start(srv, fd, 0, why, whylen);
}

void
server_shutdown(struct daemon *d)
{
	struct server *srv = d->server;
	struct client *c, *next;

	if (srv == NULL || srv->stopping)
		return;
	srv->stopping = true;
	if (srv->accept_ev != NULL)
		evtimer_del(srv->accept_ev);
	if (srv->listener != NULL) {
		evconnlistener_free(srv->listener);
		srv->listener = NULL;
		if (srv->path != NULL)
			unlink(srv->path);
	}
	for (c = srv->clients; c != NULL; c = next) {
		next = c->next;
		c->closing = true;
		bufferevent_disable(c->bev, EV_READ);
		if (c->queued == 0 && evbuffer_get_length(
		    bufferevent_get_output(c->bev)) == 0)
			client_free(c);
	}
	server_maybe_exit(srv);
}

void
server_free(struct daemon *d)
{
	struct server *srv = d->server;
	struct entry *e, *next;

	if (srv == NULL)
		return;
	if (srv->exec != NULL) {
		/* The job out ends on the worker; what it holds is freed
		 * here, unanswered (its clients go too). */
		struct srv_job *sj = srv->job;
		unsigned i;

		exec_free(srv->exec);
		srv->exec = NULL;
		if (sj != NULL) {
			for (e = sj->list; e != NULL; e = next) {
				next = e->next;
				entry_free(e);
			}
			for (i = 0; i < sj->npumps; i++)
				evbuffer_free(sj->pumps[i].buf);
			free(sj->pumps);
			free(sj);
			srv->job = NULL;
		}
	}
	while (srv->clients != NULL)
		client_free(srv->clients);
	for (e = srv->head; e != NULL; e = next) {
		next = e->next;
		entry_free(e);
	}
	while (srv->flights != NULL) {
		struct flight *f = srv->flights;

		srv->flights = f->next;
		for (e = f->list; e != NULL; e = next) {
			next = e->next;
			entry_free(e);
		}
		free(f);
	}
	if (srv->durable_ev != NULL)
		event_free(srv->durable_ev);
	if (srv->watch_ev != NULL)
		event_free(srv->watch_ev);
	store_watch_free(srv->watch);
	if (srv->listener != NULL) {
		evconnlistener_free(srv->listener);
		if (srv->path != NULL)
			unlink(srv->path);
	}
	if (srv->batch_ev != NULL)
		event_free(srv->batch_ev);
	if (srv->timer_ev != NULL)
		event_free(srv->timer_ev);
	if (srv->gather_ev != NULL)
		event_free(srv->gather_ev);
	if (srv->accept_ev != NULL)
		event_free(srv->accept_ev);
	free(srv->path);
	free(srv);
	d->server = NULL;
}

bool
server_dispatch(struct daemon *d, const char *msg, size_t len,
    msgpack_sbuffer *reply)
{
	struct server *srv = d->server != NULL ? d->server : server_new(d);
	struct entry *e = entry_alloc();
	bool close;

	e->bytes = xmalloc(len > 0 ? len : 1);
	memcpy(e->bytes, msg, len);
	entry_decode(e, len);
	batch_settle(srv, e);
	if (store_wait(d->store, srv->batch_seq) != STORE_OK)
		fatal("store: %s", store_strerror(d->store));
	d->state = srv->next_state;
	if (e->out.size > 0)
		msgpack_sbuffer_write(reply, e->out.data, e->out.size);
	close = e->close_after;
	entry_free(e);
	return close;
}
