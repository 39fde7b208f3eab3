/* daemon/wal.c: see wal.h. */
#include "wal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../common/be.h"
#include "../common/crc32c.h"
#include "../common/util.h"

static const char wal_magic[8] = { 'C', 'R', 'Q', 'W', 'A', 'L', '1', '\n' };

#define HEAD_FIXED 32	/* magic, version, snaplen, epoch, size */
#define WAL_VERSION 1

struct wal {
	int fd;
	uint64_t size;		/* of the file */
	uint64_t epoch;		/* of the checkpoint */
	int slot;		/* the checkpoint's header slot */
	uint64_t tail;		/* where the next record goes */
	uint64_t seq;		/* of the last record */
	unsigned char snap[WAL_SNAP_MAX];
	size_t snaplen;
};

int
wal_exists(const char *dir)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof path, "%s/wal", dir);
	if (stat(path, &st) == 0)
		return 1;
	return errno == ENOENT ? 0 : -1;
}

/* Writes header slot `slot` with w's epoch and snapshot, and syncs it. */
static int
head_write(struct wal *w, int slot)
{
	unsigned char b[WAL_SLOT];
	size_t n = HEAD_FIXED;

	memset(b, 0, sizeof b);
	memcpy(b, wal_magic, 8);
	be_put(b + 8, WAL_VERSION, 4);
	be_put(b + 12, w->snaplen, 4);
	be_put(b + 16, w->epoch, 8);
	be_put(b + 24, w->size, 8);
	memcpy(b + n + 4, w->snap, w->snaplen);
	be_put(b + n, crc32c(crc32c(0, b, n), w->snap, w->snaplen), 4);
	if (fd_pwrite_all(w->fd, b, n + 4 + w->snaplen,
	    (uint64_t)slot * WAL_SLOT) == -1 || fd_datasync(w->fd) == -1)
		return -1;
	w->slot = slot;
	return 0;
}

/* Reads header slot `slot`: 0 valid (epoch and snapshot set in *into), 1
 * not valid, -1 with errno. */
static int
head_read(struct wal *w, int slot, struct wal *into)
{
	unsigned char b[WAL_SLOT];
	size_t snaplen;

	if (fd_pread_all(w->fd, b, sizeof b, (uint64_t)slot * WAL_SLOT) == -1)
		return -1;
	if (memcmp(b, wal_magic, 8) != 0 || be_get(b + 8, 4) != WAL_VERSION)
		return 1;
	snaplen = (size_t)be_get(b + 12, 4);
	if (snaplen > WAL_SNAP_MAX ||
	    be_get(b + HEAD_FIXED, 4) != crc32c(crc32c(0, b, HEAD_FIXED),
	    b + HEAD_FIXED + 4, snaplen))
		return 1;
	into->epoch = be_get(b + 16, 8);
	into->size = be_get(b + 24, 8);
	into->snaplen = snaplen;
	memcpy(into->snap, b + HEAD_FIXED + 4, snaplen);
	into->slot = slot;
	return 0;
}

/*
 * The log is written with zeros once, when it is made, as PostgreSQL fills
 * a WAL segment: blocks that fallocate only reserved are "unwritten" on
 * ext4 and XFS, and the first fdatasync after a write into one must also
 * commit the journal that marks it written (two device flushes instead of
 * one). Written blocks are overwritten in place from then on, and an
 * fdatasync of them flushes the data alone.
 */
static int
zero_fill(int fd, uint64_t size)
{
	static const char zeros[1 << 16];
	uint64_t off;

	for (off = 0; off < size; off += sizeof zeros)
		if (fd_pwrite_all(fd, zeros, size - off < sizeof zeros ?
		    size - off : sizeof zeros, (off_t)off) == -1)
			return -1;
	return 0;
}

struct wal *
wal_create(const char *dir, uint64_t size, const void *snap, size_t snaplen,
    char *why, size_t whylen)
{
	char tmp[4096], path[4096];
	struct wal *w;
	int fd, rc;

	if (snaplen > WAL_SNAP_MAX || size < WAL_START + (1u << 16)) {
		snprintf(why, whylen, "store log: bad size");
		return NULL;
	}
	snprintf(tmp, sizeof tmp, "%s/wal.new", dir);
	snprintf(path, sizeof path, "%s/wal", dir);
	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1) {
		snprintf(why, whylen, "cannot create %s: %s", tmp,
		    strerror(errno));
		return NULL;
	}
	rc = zero_fill(fd, size);
	w = xcalloc(1, sizeof *w);
	w->fd = fd;
	w->size = size;
	w->epoch = 1;
	w->snaplen = snaplen;
	memcpy(w->snap, snap, snaplen);
	w->tail = WAL_START;
	if (rc == -1 || head_write(w, 0) == -1 || fsync(fd) == -1) {
		snprintf(why, whylen, "cannot create %s: %s", tmp,
		    strerror(errno));
		goto fail;
	}
	if (rename(tmp, path) == -1) {
		snprintf(why, whylen, "cannot rename %s: %s", tmp,
		    strerror(errno));
		goto fail;
	}
	if (dir_sync(dir) == -1) {
		snprintf(why, whylen, "cannot sync %s: %s", dir,
		    strerror(errno));
		wal_close(w);
		return NULL;
	}
	return w;
fail:
	unlink(tmp);
	wal_close(w);
	return NULL;
}

struct wal *
wal_open(const char *dir, char *why, size_t whylen)
{
	char path[4096];
	struct wal *w, *h;
	struct stat st;
	int rc[2], i, best = -1;

	snprintf(path, sizeof path, "%s/wal", dir);
	w = xcalloc(1, sizeof *w);
	h = xcalloc(2, sizeof *h);
	w->fd = open(path, O_RDWR | O_CLOEXEC);
	if (w->fd == -1 || fstat(w->fd, &st) == -1) {
		snprintf(why, whylen, "cannot open %s: %s", path,
		    strerror(errno));
		goto fail;
	}
	for (i = 0; i < 2; i++) {
		rc[i] = head_read(w, i, &h[i]);
		if (rc[i] == -1) {
			snprintf(why, whylen, "cannot read %s: %s", path,
			    strerror(errno));
			goto fail;
		}
		if (rc[i] == 0 && (best == -1 || h[i].epoch > h[best].epoch))
			best = i;
	}
	if (best == -1 || h[best].size != (uint64_t)st.st_size ||
	    h[best].size < WAL_START) {
		snprintf(why, whylen,
		    "%s is not a connreq store log (no valid header, or not its size); the store cannot be recovered from it",
		    path);
		goto fail;
	}
	w->size = h[best].size;
	w->epoch = h[best].epoch;
	w->slot = best;
	w->snaplen = h[best].snaplen;
	memcpy(w->snap, h[best].snap, w->snaplen);
	w->tail = WAL_START;
	free(h);
	return w;
fail:
	free(h);
	wal_close(w);
	return NULL;
}

void
wal_close(struct wal *w)
{
	if (w == NULL)
		return;
	if (w->fd != -1)
		close(w->fd);
	free(w);
}

const void *
wal_snap(const struct wal *w, size_t *len)
{
	*len = w->snaplen;
	return w->snap;
}

uint64_t
wal_epoch(const struct wal *w)
{
	return w->epoch;
}

int
wal_replay(struct wal *w, wal_fn fn, void *ctx, uint64_t *n)
{
	unsigned char head[WAL_REC_HEAD], *buf = NULL;
	size_t cap = 0, len;
	uint64_t off = WAL_START;
	int rc = 0;

	*n = 0;
	w->seq = 0;
	for (;;) {
		if (off + WAL_REC_HEAD > w->size)
			break;
		if (fd_pread_all(w->fd, head, sizeof head, off) == -1) {
			rc = -1;
			break;
		}
		len = (size_t)be_get(head, 4);
		if (len == 0 || off + WAL_REC_HEAD + len > w->size ||
		    be_get(head + 8, 8) != w->epoch ||
		    be_get(head + 16, 8) != w->seq + 1)
			break;
		if (len > cap) {
			cap = len;
			buf = xrealloc(buf, cap);
		}
		if (fd_pread_all(w->fd, buf, len, off + WAL_REC_HEAD) == -1) {
			rc = -1;
			break;
		}
		if (be_get(head + 4, 4) !=
		    crc32c(crc32c(0, head + 8, 16), buf, len))
			break;
		if ((rc = fn(ctx, buf, len)) != 0)
			break;
		w->seq++;
		(*n)++;
		off += WAL_REC_HEAD + len;
	}
	free(buf);
	w->tail = off;
	return rc;
}

int
wal_append(struct wal *w, const void *p, size_t n)
{
	unsigned char head[WAL_REC_HEAD], end[4] = { 0, 0, 0, 0 };
	struct iovec iov[3];
	uint64_t off = w->tail;
	ssize_t wr;
	size_t want = WAL_REC_HEAD + n + sizeof end;

	if (n == 0 || n > UINT32_MAX || off + want > w->size)
		return 1;
	be_put(head, n, 4);
	be_put(head + 8, w->epoch, 8);
	be_put(head + 16, w->seq + 1, 8);
	be_put(head + 4, crc32c(crc32c(0, head + 8, 16), p, n), 4);
	/* The length 0 after it: what follows is never read as a record,
	 * whatever an older epoch left there. */
	iov[0].iov_base = head;
	iov[0].iov_len = sizeof head;
	iov[1].iov_base = (void *)p;
	iov[1].iov_len = n;
	iov[2].iov_base = end;
	iov[2].iov_len = sizeof end;
	do
		wr = pwritev(w->fd, iov, 3, (off_t)off);
	while (wr == -1 && errno == EINTR);
	if (wr == -1)
		return -1;
	if ((size_t)wr != want) {
		/* A short write: the rest, byte for byte. */
		unsigned char *flat = xmalloc(want);

		memcpy(flat, head, sizeof head);
		memcpy(flat + sizeof head, p, n);
		memcpy(flat + sizeof head + n, end, sizeof end);
		wr = fd_pwrite_all(w->fd, flat + wr, want - (size_t)wr,
		    off + (uint64_t)wr);
		free(flat);
		if (wr == -1)
			return -1;
	}
	w->tail = off + WAL_REC_HEAD + n;
	w->seq++;
	return 0;
}

int
wal_sync(struct wal *w)
{
	return fd_datasync(w->fd);
}

int
wal_checkpoint(struct wal *w, const void *snap, size_t snaplen)
{
	struct wal next;

	if (snaplen > WAL_SNAP_MAX) {
		errno = EINVAL;
		return -1;
	}
	/* Nothing of w changes unless the new header is written. */
	next = *w;
	next.epoch = w->epoch + 1;
	next.snaplen = snaplen;
	memcpy(next.snap, snap, snaplen);
	if (head_write(&next, 1 - w->slot) == -1)
		return -1;
	*w = next;
	w->tail = WAL_START;
	w->seq = 0;
	return 0;
}

uint64_t
wal_used(const struct wal *w)
{
	return w->tail - WAL_START;
}

uint64_t
wal_capacity(const struct wal *w)
{
	return w->size - WAL_START;
}
