/* tests/faults/holdwrite.c: an LD_PRELOAD shim that holds write() on a
 * file whose path ends in HOLD_SUFFIX while the file HOLD_GATE exists
 * (both the environment's), so that a backup (LMDB's copy, written to
 * PATH.tmp on a thread of connreqd's) stays under way until the test lets
 * it go, not a race of milliseconds. For tests/test_backup.c. Other
 * writes pass at once (the gate is looked at first, the path only while
 * it exists). */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

ssize_t write(int fd, const void *buf, size_t n);

static int
held(int fd)
{
	const char *gate = getenv("HOLD_GATE"), *suffix = getenv("HOLD_SUFFIX");
	char link[64], path[PATH_MAX];
	struct stat st;
	ssize_t len;
	size_t sl;

	if (gate == NULL || suffix == NULL || stat(gate, &st) == -1)
		return 0;
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	if ((len = readlink(link, path, sizeof path - 1)) <= 0)
		return 0;
	path[len] = '\0';
	sl = strlen(suffix);
	return (size_t)len >= sl && strcmp(path + len - sl, suffix) == 0;
}

ssize_t
write(int fd, const void *buf, size_t n)
{
	ssize_t (*real)(int, const void *, size_t) =
	    (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	while (held(fd))
		nanosleep(&ts, NULL);
	return real(fd, buf, n);
}
