/* tests/faults/slowlisten.c: an LD_PRELOAD shim that makes listen() wait
 * LISTEN_DELAY_MS milliseconds (the environment's) before it listens, so
 * that what a process does between creating a socket's path and listening
 * on it is seen, not a race of microseconds. For tests/test_e2e.c: a
 * client that connects the moment connreqd's socket path appears must not
 * be refused. */
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

int listen(int fd, int backlog);

int
listen(int fd, int backlog)
{
	int (*real)(int, int) = (int (*)(int, int))dlsym(RTLD_NEXT, "listen");
	const char *s = getenv("LISTEN_DELAY_MS");
	long ms = s != NULL ? strtol(s, NULL, 10) : 0;
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	if (ms > 0)
		nanosleep(&ts, NULL);
	return real(fd, backlog);
}
