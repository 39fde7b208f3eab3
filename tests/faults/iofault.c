/* tests/faults/iofault.c: an LD_PRELOAD shim that watches the I/O connreqd
 * (and liblmdb, a shared library calling libc) makes on the files of one
 * directory, the store's, given by IOFAULT_DIR. Nothing outside it is
 * touched. Two modes, either or both:
 *
 *   IOFAULT_LOG=FILE    record: every write (file, offset, bytes), sync,
 *                       truncate and fallocate on a store file is appended
 *                       to FILE, in order, before the call returns
 *                       (journal.h reads it; tests/test_powerloss.c builds
 *                       power-cut images from it). A write through an fd
 *                       opened with O_DSYNC or O_SYNC (LMDB's meta page)
 *                       is recorded as written and synced. The
 *                       directory itself is the file "." (an fsync of it
 *                       is recorded, and counts as an fsync), and a
 *                       rename within it is recorded (JR_RENAME: the file
 *                       keeps its journal id under its new name).
 *   IOFAULT_FAIL=CALL:N[:ERRNO[:short]]
 *                       fault: the N-th CALL on a store file fails with
 *                       ERRNO (EIO, the default, ENOSPC or a number) and
 *                       does nothing;
 *                       with :short a write first writes half its bytes.
 *                       CALL: write (write, writev), pwrite (pwrite,
 *                       pwrite64, pwritev), fdatasync, fsync, msync,
 *                       sync_file_range, ftruncate, fallocate (fallocate,
 *                       posix_fallocate), or any (every one of those).
 *                       IOFAULT_HIT=FILE gets a line "CALL N ERRNO FUNC
 *                       FILE OFFSET" (-1: not a write) when it fires,
 *                       with " dsync" at the end
 *                       when the call was a write through an fd opened
 *                       O_DSYNC or O_SYNC (LMDB's meta page: LMDB
 *                       panics when that write fails).
 *   IOFAULT_COUNT=FILE  count only (make bench, tests/bench/): FILE is a
 *                       shared array of uint64 counters (struct
 *                       iofault_counts in journal.h), one per CALL kind
 *                       and one for writes through an O_DSYNC/O_SYNC fd,
 *                       bumped atomically on every call on a store file,
 *                       so that another process can read how many syncs
 *                       were made while it watched. Nothing is journaled.
 *   IOFAULT_NOSYNC=1    fsync, fdatasync, msync and sync_file_range on a
 *                       store file return 0 and do nothing (and are not
 *                       recorded): connreqd as if it had lost its syncs,
 *                       to prove the power-loss test catches that.
 *
 * The calls are found with dlsym(RTLD_NEXT): under ASan the next one is
 * ASan's interceptor (run with ASAN_OPTIONS=verify_asan_link_order=0).
 * Not seen: writes through a shared writable mapping (LMDB's MDB_WRITEMAP,
 * which connreqd does not use), descriptors copied with fcntl(F_DUPFD)
 * (LMDB does not), and stdio on store files (glibc's fopen and fwrite
 * call the system directly; neither LMDB nor connreqd use them there).
 * tests/test_powercut.c checks the shim on known calls;
 * tests/test_powerloss.c that it sees LMDB's. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include "journal.h"

extern char **environ;

#define MAX_FD 4096
#define MAX_MAPS 64

struct fdinfo {
	int file;		/* journal file id + 1, 0: not a store file */
	int dsync;		/* opened O_DSYNC or O_SYNC */
};

static struct fdinfo fds[MAX_FD];
static char names[JOURNAL_MAX_FILES][256];
static int nnames;
static struct { uintptr_t addr; size_t len; int file; } maps[MAX_MAPS];

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int inited;
static char dir[PATH_MAX];
static size_t dirlen;
static int logfd = -1;
static int fail_kind = -1, fail_errno, fail_short;
static long fail_n;
static const char *hit_path;
static int nosync;
static long counts[JF_COUNT];
static long kind_counts[JK_COUNT + 1];
static struct iofault_counts *shared_counts;

static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off64_t);
static ssize_t (*real_pwritev)(int, const struct iovec *, int, off_t);
static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_openat64)(int, const char *, int, ...);
static int (*real_creat)(const char *, mode_t);
static int (*real_close)(int);
static int (*real_rename)(const char *, const char *);
static int (*real_dup)(int);
static int (*real_dup2)(int, int);
static int (*real_dup3)(int, int, int);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_sync_file_range)(int, off64_t, off64_t, unsigned int);
static int (*real_msync)(void *, size_t, int);
static int (*real_ftruncate)(int, off_t);
static int (*real_ftruncate64)(int, off64_t);
static int (*real_fallocate)(int, int, off_t, off_t);
static int (*real_posix_fallocate)(int, off_t, off_t);
static int (*real_posix_fallocate64)(int, off64_t, off64_t);
static void *(*real_mmap)(void *, size_t, int, int, int, off_t);
static void *(*real_mmap64)(void *, size_t, int, int, int, off64_t);
static int (*real_munmap)(void *, size_t);
static off_t (*real_lseek)(int, off_t, int);

static void *
resolve(void **slot, const char *name)
{
	void *p = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

	if (p == NULL) {
		p = dlsym(RTLD_NEXT, name);
		__atomic_store_n(slot, p, __ATOMIC_RELEASE);
	}
	return p;
}

#define REAL(f) ((__typeof__(real_##f))resolve((void **)&real_##f, #f))

/* IOFAULT_COUNT: maps FILE (made the size of the counters if it is
 * smaller) shared; the counters stay off when that fails. */
static void
count_open(const char *path)
{
	struct stat st;
	void *p;
	int fd;

	if (path == NULL || dirlen == 0)
		return;
	fd = REAL(open)(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	if (fd == -1)
		return;
	if (fstat(fd, &st) == 0 &&
	    (size_t)st.st_size < sizeof(struct iofault_counts) &&
	    REAL(ftruncate)(fd, (off_t)sizeof(struct iofault_counts)) == -1) {
		REAL(close)(fd);
		return;
	}
	p = REAL(mmap)(NULL, sizeof(struct iofault_counts),
	    PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	REAL(close)(fd);
	if (p != MAP_FAILED)
		shared_counts = p;
}

/* A child forked while another thread held mu (Redis forks its AOF
 * rewrite while its bio threads sync) would wait for it forever: mu is
 * taken around fork and given back on both sides. */
static void
fork_prepare(void)
{
	pthread_mutex_lock(&mu);
}

static void
fork_done(void)
{
	pthread_mutex_unlock(&mu);
}

static void
init(void)
{
	const char *d, *log, *f;
	char kind[32], err[32], extra[16];

	if (__atomic_load_n(&inited, __ATOMIC_ACQUIRE))
		return;
	/* Under ASan the shim can be called before libc has its
	 * environment: not yet. */
	if (environ == NULL)
		return;
	pthread_mutex_lock(&mu);
	if (inited) {
		pthread_mutex_unlock(&mu);
		return;
	}
	pthread_atfork(fork_prepare, fork_done, fork_done);
	d = getenv("IOFAULT_DIR");
	if (d != NULL && realpath(d, dir) == NULL)
		snprintf(dir, sizeof dir, "%s", d);
	dirlen = strlen(dir);
	log = getenv("IOFAULT_LOG");
	if (log != NULL && dirlen > 0)
		logfd = REAL(open)(log, O_WRONLY | O_CREAT | O_APPEND |
		    O_CLOEXEC, 0600);
	f = getenv("IOFAULT_FAIL");
	extra[0] = '\0';
	strcpy(err, "EIO");
	if (f != NULL && sscanf(f, "%31[^:]:%ld:%31[^:]:%15s", kind, &fail_n,
	    err, extra) >= 2) {
		fail_kind = journal_kind_by_name(kind);
		fail_errno = journal_errno_by_name(err);
		fail_short = strcmp(extra, "short") == 0;
	}
	hit_path = getenv("IOFAULT_HIT");
	count_open(getenv("IOFAULT_COUNT"));
	nosync = getenv("IOFAULT_NOSYNC") != NULL;
	__atomic_store_n(&inited, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&mu);
}

/* Writes all of buf to the journal (the real write: never the shim's). */
static void
log_bytes(const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = REAL(write)(logfd, p, len);
		if (n <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			return;
		}
		p += n;
		len -= (size_t)n;
	}
}

/* Appends a record; data (len bytes from an iovec) for writes. Called
 * with mu held. */
static void
log_rec(int type, int func, int file, uint64_t off, uint64_t len,
    const struct iovec *iov, int iovcnt)
{
	struct journal_rec h;
	uint64_t left = len;
	int i;

	if (logfd == -1)
		return;
	memset(&h, 0, sizeof h);
	h.magic = JOURNAL_MAGIC;
	h.type = (uint8_t)type;
	h.func = (uint8_t)func;
	h.file = (uint16_t)file;
	h.off = off;
	h.len = len;
	log_bytes(&h, sizeof h);
	for (i = 0; iov != NULL && i < iovcnt && left > 0; i++) {
		size_t n = iov[i].iov_len < left ? iov[i].iov_len : left;

		log_bytes(iov[i].iov_base, n);
		left -= n;
	}
}

/* The journal id of the file fd has open, when it is under dir; -1 if
 * not. Called after a successful open, with mu held. */
static int name_id(const char *name);

static int
file_of_new_fd(int fd)
{
	char link[64], path[PATH_MAX];
	ssize_t n;

	if (dirlen == 0 || fd < 0)
		return -1;
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof path - 1);
	if (n <= 0)
		return -1;
	path[n] = '\0';
	if ((size_t)n == dirlen && strcmp(path, dir) == 0)
		return name_id(".");
	if ((size_t)n <= dirlen + 1 || strncmp(path, dir, dirlen) != 0 ||
	    path[dirlen] != '/')
		return -1;
	return name_id(path + dirlen + 1);
}

/* The journal id of the store file name (relative to dir), given one (a
 * JR_NAME record) when it has none; -1 when the table is full. Called
 * with mu held. */
static int
name_id(const char *name)
{
	struct iovec iov;
	int i;

	for (i = 0; i < nnames; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	if (nnames == JOURNAL_MAX_FILES)
		return -1;
	snprintf(names[nnames], sizeof names[nnames], "%s", name);
	iov.iov_base = names[nnames];
	iov.iov_len = strlen(names[nnames]);
	log_rec(JR_NAME, JF_OPEN, nnames, 0, iov.iov_len, &iov, 1);
	return nnames++;
}

static void
track_open(int fd, int flags)
{
	if (fd < 0 || fd >= MAX_FD)
		return;
	pthread_mutex_lock(&mu);
	fds[fd].file = file_of_new_fd(fd) + 1;
	fds[fd].dsync = (flags & (O_DSYNC | O_SYNC)) != 0;
	pthread_mutex_unlock(&mu);
}

static int
store_file(int fd)
{
	init();
	return fd >= 0 && fd < MAX_FD ? fds[fd].file - 1 : -1;
}

/* Counts a call of kind on a store file; whether it is the one to fail
 * (then errno is set and the hit noted). Called with mu held. */
static int
should_fail(int kind, int func, int file, int dsync, long long off)
{
	long n = ++kind_counts[kind];
	long any = ++kind_counts[JK_COUNT];
	char line[512];
	int fire, h, n2;

	counts[func]++;
	if (shared_counts != NULL) {
		__atomic_fetch_add(&shared_counts->kind[kind], 1,
		    __ATOMIC_RELAXED);
		if (dsync)
			__atomic_fetch_add(&shared_counts->dsync_writes, 1,
			    __ATOMIC_RELAXED);
	}
	fire = (fail_kind == kind && n == fail_n) ||
	    (fail_kind == JK_COUNT && any == fail_n);
	if (!fire)
		return 0;
	if (hit_path != NULL && (h = REAL(open)(hit_path, O_WRONLY | O_CREAT |
	    O_APPEND | O_CLOEXEC, 0600)) != -1) {
		n2 = snprintf(line, sizeof line, "%s %ld %d %s %s %lld%s\n",
		    journal_kind_name(kind), fail_n, fail_errno,
		    journal_func_name(func), file >= 0 ? names[file] : "?",
		    off, dsync ? " dsync" : "");
		if (n2 > 0 && REAL(write)(h, line, (size_t)n2) != n2)
			n2 = -1;
		REAL(close)(h);
	}
	return 1;
}

static ssize_t
do_write(int func, int fd, const struct iovec *iov, int iovcnt, off_t off,
    int positional)
{
	int file = store_file(fd), kind = positional ? JK_PWRITE : JK_WRITE;
	struct iovec half[1];
	size_t total = 0;
	ssize_t n;
	int i;

	for (i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	if (file == -1) {
		if (positional)
			return REAL(pwritev)(fd, iov, iovcnt, off);
		return REAL(writev)(fd, iov, iovcnt);
	}
	pthread_mutex_lock(&mu);
	if (!positional)
		off = REAL(lseek)(fd, 0, SEEK_CUR);
	if (should_fail(kind, func, file, fds[fd].dsync, (long long)off)) {
		if (fail_short && total > 1 && iovcnt > 0) {
			half[0].iov_base = iov[0].iov_base;
			half[0].iov_len = (iov[0].iov_len < total / 2 ?
			    iov[0].iov_len : total / 2);
			n = REAL(pwritev)(fd, half, 1, off);
			if (n > 0)
				log_rec(JR_WRITE, func, file, (uint64_t)off,
				    (uint64_t)n, half, 1);
		}
		pthread_mutex_unlock(&mu);
		errno = fail_errno;
		return -1;
	}
	if (positional)
		n = REAL(pwritev)(fd, iov, iovcnt, off);
	else
		n = REAL(writev)(fd, iov, iovcnt);
	if (n > 0)
		log_rec(fds[fd].dsync ? JR_WRITE_SYNCED : JR_WRITE, func, file,
		    (uint64_t)off, (uint64_t)n, iov, iovcnt);
	pthread_mutex_unlock(&mu);
	return n;
}

ssize_t
write(int fd, const void *buf, size_t len)
{
	struct iovec iov = { (void *)buf, len };

	if (store_file(fd) == -1)
		return REAL(write)(fd, buf, len);
	return do_write(JF_WRITE, fd, &iov, 1, 0, 0);
}

ssize_t
writev(int fd, const struct iovec *iov, int iovcnt)
{
	return do_write(JF_WRITEV, fd, iov, iovcnt, 0, 0);
}

ssize_t
pwrite(int fd, const void *buf, size_t len, off_t off)
{
	struct iovec iov = { (void *)buf, len };

	if (store_file(fd) == -1)
		return REAL(pwrite)(fd, buf, len, off);
	return do_write(JF_PWRITE, fd, &iov, 1, off, 1);
}

ssize_t
pwrite64(int fd, const void *buf, size_t len, off64_t off)
{
	struct iovec iov = { (void *)buf, len };

	if (store_file(fd) == -1)
		return REAL(pwrite64)(fd, buf, len, off);
	return do_write(JF_PWRITE, fd, &iov, 1, (off_t)off, 1);
}

ssize_t
pwritev(int fd, const struct iovec *iov, int iovcnt, off_t off)
{
	return do_write(JF_PWRITEV, fd, iov, iovcnt, off, 1);
}

/* A sync of file (kind, func); rc is the real call's result. */
static int
do_sync(int kind, int func, int file, int (*call)(void *), void *arg)
{
	int rc;

	pthread_mutex_lock(&mu);
	if (should_fail(kind, func, file, 0, -1)) {
		pthread_mutex_unlock(&mu);
		errno = fail_errno;
		return -1;
	}
	if (nosync) {
		/* A daemon that forgot its syncs: success, nothing synced. */
		pthread_mutex_unlock(&mu);
		return 0;
	}
	rc = call(arg);
	if (rc == 0)
		log_rec(kind == JK_SYNC_FILE_RANGE ? JR_RANGE_SYNC : JR_SYNC,
		    func, file, 0, 0, NULL, 0);
	pthread_mutex_unlock(&mu);
	return rc;
}

static int
call_fsync(void *fd)
{
	return REAL(fsync)(*(int *)fd);
}

static int
call_fdatasync(void *fd)
{
	return REAL(fdatasync)(*(int *)fd);
}

int
fsync(int fd)
{
	int file = store_file(fd);

	if (file == -1)
		return REAL(fsync)(fd);
	return do_sync(JK_FSYNC, JF_FSYNC, file, call_fsync, &fd);
}

int
fdatasync(int fd)
{
	int file = store_file(fd);

	if (file == -1)
		return REAL(fdatasync)(fd);
	return do_sync(JK_FDATASYNC, JF_FDATASYNC, file, call_fdatasync, &fd);
}

struct range_args { int fd; off64_t off, len; unsigned int flags; };

static int
call_range(void *a)
{
	struct range_args *r = a;

	return REAL(sync_file_range)(r->fd, r->off, r->len, r->flags);
}

/* sync_file_range makes nothing durable (no metadata, no disk cache):
 * recorded, but the image builder does not count it as a sync. */
int
sync_file_range(int fd, off64_t off, off64_t len, unsigned int flags)
{
	struct range_args a = { fd, off, len, flags };
	int file = store_file(fd);

	if (file == -1)
		return REAL(sync_file_range)(fd, off, len, flags);
	return do_sync(JK_SYNC_FILE_RANGE, JF_SYNC_FILE_RANGE, file,
	    call_range, &a);
}

struct msync_args { void *addr; size_t len; int flags; };

static int
call_msync(void *a)
{
	struct msync_args *m = a;

	return REAL(msync)(m->addr, m->len, m->flags);
}

int
msync(void *addr, size_t len, int flags)
{
	struct msync_args a = { addr, len, flags };
	uintptr_t at = (uintptr_t)addr;
	int i, file = -1;

	init();
	pthread_mutex_lock(&mu);
	for (i = 0; i < MAX_MAPS; i++)
		if (maps[i].len != 0 && at >= maps[i].addr &&
		    at < maps[i].addr + maps[i].len)
			file = maps[i].file;
	pthread_mutex_unlock(&mu);
	/* MS_ASYNC schedules writeback and makes nothing durable. */
	if (file == -1 || (flags & MS_SYNC) == 0)
		return REAL(msync)(addr, len, flags);
	return do_sync(JK_MSYNC, JF_MSYNC, file, call_msync, &a);
}

static void
track_map(void *p, size_t len, int fd)
{
	int file = store_file(fd), i;

	if (p == MAP_FAILED || file == -1)
		return;
	pthread_mutex_lock(&mu);
	for (i = 0; i < MAX_MAPS; i++)
		if (maps[i].len == 0) {
			maps[i].addr = (uintptr_t)p;
			maps[i].len = len;
			maps[i].file = file;
			break;
		}
	pthread_mutex_unlock(&mu);
}

void *
mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *p = REAL(mmap)(addr, len, prot, flags, fd, off);

	track_map(p, len, fd);
	return p;
}

void *
mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off)
{
	void *p = REAL(mmap64)(addr, len, prot, flags, fd, off);

	track_map(p, len, fd);
	return p;
}

int
munmap(void *addr, size_t len)
{
	int i;

	if (__atomic_load_n(&inited, __ATOMIC_ACQUIRE)) {
		pthread_mutex_lock(&mu);
		for (i = 0; i < MAX_MAPS; i++)
			if (maps[i].len != 0 && maps[i].addr == (uintptr_t)addr)
				maps[i].len = 0;
		pthread_mutex_unlock(&mu);
	}
	return REAL(munmap)(addr, len);
}

static int
do_size(int kind, int func, int fd, int type, uint64_t off, uint64_t len,
    int (*call)(void *), void *arg, int ret_errno)
{
	int file = store_file(fd), rc;

	pthread_mutex_lock(&mu);
	if (should_fail(kind, func, file, 0, -1)) {
		pthread_mutex_unlock(&mu);
		if (ret_errno)
			return fail_errno;
		errno = fail_errno;
		return -1;
	}
	rc = call(arg);
	if (rc == 0)
		log_rec(type, func, file, off, len, NULL, 0);
	pthread_mutex_unlock(&mu);
	return rc;
}

struct size_args { int fd, mode; off64_t off, len; };

static int
call_ftruncate(void *a)
{
	struct size_args *s = a;

	return REAL(ftruncate64)(s->fd, s->len);
}

int
ftruncate(int fd, off_t len)
{
	struct size_args a = { fd, 0, 0, len };

	if (store_file(fd) == -1)
		return REAL(ftruncate)(fd, len);
	return do_size(JK_FTRUNCATE, JF_FTRUNCATE, fd, JR_TRUNCATE, 0,
	    (uint64_t)len, call_ftruncate, &a, 0);
}

int
ftruncate64(int fd, off64_t len)
{
	struct size_args a = { fd, 0, 0, len };

	if (store_file(fd) == -1)
		return REAL(ftruncate64)(fd, len);
	return do_size(JK_FTRUNCATE, JF_FTRUNCATE, fd, JR_TRUNCATE, 0,
	    (uint64_t)len, call_ftruncate, &a, 0);
}

static int
call_fallocate(void *a)
{
	struct size_args *s = a;

	return REAL(fallocate)(s->fd, s->mode, s->off, s->len);
}

static int
call_posix_fallocate(void *a)
{
	struct size_args *s = a;

	return REAL(posix_fallocate64)(s->fd, s->off, s->len);
}

int
fallocate(int fd, int mode, off_t off, off_t len)
{
	struct size_args a = { fd, mode, off, len };

	if (store_file(fd) == -1)
		return REAL(fallocate)(fd, mode, off, len);
	/* FALLOC_FL_KEEP_SIZE (1) leaves the size: recorded as no growth. */
	return do_size(JK_FALLOCATE, JF_FALLOCATE, fd, JR_FALLOCATE,
	    (uint64_t)off, (mode & 1) ? 0 : (uint64_t)len, call_fallocate, &a,
	    0);
}

int
posix_fallocate(int fd, off_t off, off_t len)
{
	struct size_args a = { fd, 0, off, len };

	if (store_file(fd) == -1)
		return REAL(posix_fallocate)(fd, off, len);
	return do_size(JK_FALLOCATE, JF_POSIX_FALLOCATE, fd, JR_FALLOCATE,
	    (uint64_t)off, (uint64_t)len, call_posix_fallocate, &a, 1);
}

int
posix_fallocate64(int fd, off64_t off, off64_t len)
{
	struct size_args a = { fd, 0, off, len };

	if (store_file(fd) == -1)
		return REAL(posix_fallocate64)(fd, off, len);
	return do_size(JK_FALLOCATE, JF_POSIX_FALLOCATE, fd, JR_FALLOCATE,
	    (uint64_t)off, (uint64_t)len, call_posix_fallocate, &a, 1);
}

/* The opens: the mode is there with O_CREAT or O_TMPFILE. */
#define OPEN_MODE(flags, mode) do { \
	if (((flags) & O_CREAT) || ((flags) & O_TMPFILE) == O_TMPFILE) { \
		va_list ap; \
		va_start(ap, flags); \
		mode = (mode_t)va_arg(ap, int); \
		va_end(ap); \
	} \
} while (0)

int
open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	int fd;

	OPEN_MODE(flags, mode);
	init();
	fd = REAL(open)(path, flags, mode);
	track_open(fd, flags);
	return fd;
}

int
open64(const char *path, int flags, ...)
{
	mode_t mode = 0;
	int fd;

	OPEN_MODE(flags, mode);
	init();
	fd = REAL(open64)(path, flags, mode);
	track_open(fd, flags);
	return fd;
}

int
openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	int fd;

	OPEN_MODE(flags, mode);
	init();
	fd = REAL(openat)(dirfd, path, flags, mode);
	track_open(fd, flags);
	return fd;
}

int
openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	int fd;

	OPEN_MODE(flags, mode);
	init();
	fd = REAL(openat64)(dirfd, path, flags, mode);
	track_open(fd, flags);
	return fd;
}

int
creat(const char *path, mode_t mode)
{
	int fd;

	init();
	fd = REAL(creat)(path, mode);
	track_open(fd, O_WRONLY | O_CREAT | O_TRUNC);
	return fd;
}

int
close(int fd)
{
	init();
	if (fd >= 0 && fd < MAX_FD) {
		pthread_mutex_lock(&mu);
		fds[fd].file = 0;
		fds[fd].dsync = 0;
		pthread_mutex_unlock(&mu);
	}
	return REAL(close)(fd);
}

static void
track_dup(int from, int to)
{
	if (to < 0 || to >= MAX_FD)
		return;
	pthread_mutex_lock(&mu);
	if (from >= 0 && from < MAX_FD)
		fds[to] = fds[from];
	else
		fds[to].file = 0;
	pthread_mutex_unlock(&mu);
}

int
dup(int fd)
{
	int to;

	init();
	to = REAL(dup)(fd);
	track_dup(fd, to);
	return to;
}

int
dup2(int fd, int to)
{
	int rc;

	init();
	rc = REAL(dup2)(fd, to);
	if (rc >= 0)
		track_dup(fd, rc);
	return rc;
}

int
dup3(int fd, int to, int flags)
{
	int rc;

	init();
	rc = REAL(dup3)(fd, to, flags);
	if (rc >= 0)
		track_dup(fd, rc);
	return rc;
}

/* The name path has in the store directory (its last part, when the
 * directory it is in is dir): 0, or -1 when it is not a store file. */
static int
store_name(const char *path, char *out, size_t outlen)
{
	char parent[PATH_MAX], real[PATH_MAX];
	const char *slash = strrchr(path, '/');

	if (dirlen == 0)
		return -1;
	if (slash == NULL)
		snprintf(parent, sizeof parent, ".");
	else if (slash == path)
		snprintf(parent, sizeof parent, "/");
	else
		snprintf(parent, sizeof parent, "%.*s", (int)(slash - path),
		    path);
	if (realpath(parent, real) == NULL || strcmp(real, dir) != 0)
		return -1;
	snprintf(out, outlen, "%s", slash ? slash + 1 : path);
	return out[0] != '\0' ? 0 : -1;
}

/* A rename of a store file (in the store directory) is recorded as
 * JR_RENAME: file id `from` is then called by the new name (a file of
 * that name before is replaced); durable once the directory is synced. */
int
rename(const char *from, const char *to)
{
	char a[256], b[256];
	struct iovec iov;
	int rc, i, id = -1;

	init();
	rc = REAL(rename)(from, to);
	if (rc != 0 || store_name(from, a, sizeof a) == -1 ||
	    store_name(to, b, sizeof b) == -1)
		return rc;
	pthread_mutex_lock(&mu);
	for (i = 0; i < nnames; i++)
		if (strcmp(names[i], a) == 0)
			id = i;
	if (id != -1) {
		for (i = 0; i < nnames; i++)
			if (i != id && strcmp(names[i], b) == 0)
				names[i][0] = '\0';
		snprintf(names[id], sizeof names[id], "%s", b);
		iov.iov_base = names[id];
		iov.iov_len = strlen(names[id]);
		log_rec(JR_RENAME, JF_RENAME, id, 0, iov.iov_len, &iov, 1);
	}
	pthread_mutex_unlock(&mu);
	return rc;
}
