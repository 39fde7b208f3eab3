/* daemon/exec.c: see exec.h. */
#include "exec.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>

#include "../common/util.h"

struct executor {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *todo;	/* handed over, not yet taken */
	struct job *out;	/* submitted, its done not yet called */
	bool finished;		/* out has run */
	bool stop;
	int efd;		/* the worker signals a finished job */
	struct event *ev;
};

static void *
worker(void *arg)
{
	struct executor *x = arg;
	struct job *j;
	uint64_t one = 1;

	pthread_mutex_lock(&x->mu);
	for (;;) {
		while (x->todo == NULL && !x->stop)
			pthread_cond_wait(&x->cv, &x->mu);
		if (x->todo == NULL)
			break;
		j = x->todo;
		x->todo = NULL;
		pthread_mutex_unlock(&x->mu);
		j->run(j);
		pthread_mutex_lock(&x->mu);
		x->finished = true;
		while (write(x->efd, &one, sizeof one) == -1 && errno == EINTR)
			;
	}
	pthread_mutex_unlock(&x->mu);
	return NULL;
}

/* The eventfd: the job out has run; its done runs here, on the loop. */
static void
exec_ready(evutil_socket_t fd, short what, void *arg)
{
	struct executor *x = arg;
	struct job *j = NULL;
	uint64_t n;

	(void)what;
	if (read(fd, &n, sizeof n) == -1 && errno != EAGAIN)
		log_warn("executor: eventfd: %s", strerror(errno));
	pthread_mutex_lock(&x->mu);
	if (x->finished) {
		j = x->out;
		x->out = NULL;
		x->finished = false;
	}
	pthread_mutex_unlock(&x->mu);
	if (j != NULL)
		j->done(j);
}

struct executor *
exec_new(struct event_base *base, char *why, size_t whylen)
{
	struct executor *x = xcalloc(1, sizeof *x);

	x->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (x->efd == -1) {
		snprintf(why, whylen, "eventfd: %s", strerror(errno));
		free(x);
		return NULL;
	}
	pthread_mutex_init(&x->mu, NULL);
	pthread_cond_init(&x->cv, NULL);
	x->ev = event_new(base, x->efd, EV_READ | EV_PERSIST, exec_ready, x);
	if (x->ev == NULL || event_priority_set(x->ev, 0) == -1 ||
	    event_add(x->ev, NULL) == -1) {
		snprintf(why, whylen, "libevent: cannot watch the worker");
		goto fail;
	}
	if ((errno = pthread_create(&x->thread, NULL, worker, x)) != 0) {
		snprintf(why, whylen, "cannot start the store's worker thread: %s",
		    strerror(errno));
		goto fail;
	}
	return x;
fail:
	if (x->ev != NULL)
		event_free(x->ev);
	close(x->efd);
	pthread_mutex_destroy(&x->mu);
	pthread_cond_destroy(&x->cv);
	free(x);
	return NULL;
}

void
exec_submit(struct executor *x, struct job *j)
{
	pthread_mutex_lock(&x->mu);
	if (x->out != NULL)
		fatal("executor: a job submitted while another is out");
	x->out = x->todo = j;
	x->finished = false;
	pthread_cond_signal(&x->cv);
	pthread_mutex_unlock(&x->mu);
}

void
exec_free(struct executor *x)
{
	if (x == NULL)
		return;
	pthread_mutex_lock(&x->mu);
	x->stop = true;
	pthread_cond_signal(&x->cv);
	pthread_mutex_unlock(&x->mu);
	pthread_join(x->thread, NULL);
	event_free(x->ev);
	close(x->efd);
	pthread_mutex_destroy(&x->mu);
	pthread_cond_destroy(&x->cv);
	free(x);
}
