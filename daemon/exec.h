/* daemon/exec.h: where the server's store work runs. A store whose calls
 * wait on the network (store_blocking(): PostgreSQL) must never be called
 * from the event loop: its work is handed, one job at a time, to a worker
 * thread that owns the backend's connections, and the job's completion
 * comes back to the loop through an eventfd that libevent watches. The
 * loop thread does socket I/O only, and hands over work / takes back
 * results.
 *
 * One job at a time: while a job is out, the worker alone
 * touches the store and what the domain reads (the daemon's clock, policy
 * and the server's batch state); the loop does not. The handover (a mutex)
 * orders each side's writes before the other's reads. */
#ifndef CONNREQ_EXEC_H
#define CONNREQ_EXEC_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct executor;

struct job {
	void (*run)(struct job *j);	/* on the worker */
	void (*done)(struct job *j);	/* then on the loop thread */
};

/* Starts the worker; NULL with *why set. */
struct executor *exec_new(struct event_base *base, char *why, size_t whylen);
/* Hands j to the worker; no other job may be out (its done not yet
 * called): the caller keeps to one at a time. */
void exec_submit(struct executor *x, struct job *j);
/* Waits for the job out, if any, to run (its done is not called: the
 * caller frees what it holds), and stops the worker. */
void exec_free(struct executor *x);

#endif
