/* tests/faults/journal.h: the journal tests/faults/iofault.c records (one
 * record per write, sync, truncate or fallocate on a store file, in the
 * order they were made) and the names of the calls it knows. Records are
 * a fixed header in the host's byte order, then len bytes for JR_NAME and
 * the writes:
 *
 *   magic u32, type u8, func u8, file u16, off u64, len u64, [data]
 *
 * JR_NAME gives file id `file` its name (relative to the store directory),
 * before any other record of it. JR_WRITE: len bytes at off, in the page
 * cache only; JR_WRITE_SYNCED: the same through an O_DSYNC/O_SYNC fd,
 * durable when the call returned; JR_SYNC: fsync, fdatasync or msync of
 * the file returned 0; JR_RANGE_SYNC: sync_file_range (makes nothing
 * durable); JR_TRUNCATE: the size became len; JR_FALLOCATE: the file holds
 * at least off + len bytes (len 0 with FALLOC_FL_KEEP_SIZE); JR_RENAME:
 * file `file` was renamed to the len bytes that follow (in the store
 * directory; a file of that name before is replaced), durable once the
 * directory is synced. The store directory itself is the file named ".":
 * its JR_SYNC (an fsync of it) makes the renames before it durable. */
#ifndef CONNREQ_JOURNAL_H
#define CONNREQ_JOURNAL_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define JOURNAL_MAGIC 0x4a464f49u	/* "IOFJ" */
#define JOURNAL_MAX_FILES 32

struct journal_rec {
	uint32_t magic;
	uint8_t type, func;
	uint16_t file;
	uint64_t off, len;
};

enum { JR_NAME = 'N', JR_WRITE = 'W', JR_WRITE_SYNCED = 'D', JR_SYNC = 'S',
	JR_RANGE_SYNC = 'R', JR_TRUNCATE = 'T', JR_FALLOCATE = 'A',
	JR_RENAME = 'M' };

/* The libc functions seen, in the journal's func field. */
enum { JF_OPEN, JF_WRITE, JF_WRITEV, JF_PWRITE, JF_PWRITEV, JF_FSYNC,
	JF_FDATASYNC, JF_SYNC_FILE_RANGE, JF_MSYNC, JF_FTRUNCATE, JF_FALLOCATE,
	JF_POSIX_FALLOCATE, JF_RENAME, JF_COUNT };

/* The kinds of call a fault names (IOFAULT_FAIL=KIND:N:ERRNO); "any" is
 * JK_COUNT. */
enum { JK_WRITE, JK_PWRITE, JK_FDATASYNC, JK_FSYNC, JK_MSYNC,
	JK_SYNC_FILE_RANGE, JK_FTRUNCATE, JK_FALLOCATE, JK_COUNT };

/* IOFAULT_COUNT=FILE: the shared counters (iofault.c bumps them, the
 * bench reads them): calls per kind on the watched directory's files,
 * and writes through an O_DSYNC/O_SYNC fd (each one a device flush). */
struct iofault_counts {
	uint64_t kind[JK_COUNT];
	uint64_t dsync_writes;
};

static const char *const journal_kinds[JK_COUNT + 1] = {
	"write", "pwrite", "fdatasync", "fsync", "msync", "sync_file_range",
	"ftruncate", "fallocate", "any",
};

static const char *const journal_funcs[JF_COUNT] = {
	"open", "write", "writev", "pwrite", "pwritev", "fsync", "fdatasync",
	"sync_file_range", "msync", "ftruncate", "fallocate",
	"posix_fallocate", "rename",
};

__attribute__((unused)) static int
journal_kind_by_name(const char *s)
{
	int i;

	for (i = 0; i <= JK_COUNT; i++)
		if (strcmp(s, journal_kinds[i]) == 0)
			return i;
	return -1;
}

__attribute__((unused)) static const char *
journal_kind_name(int k)
{
	return k >= 0 && k <= JK_COUNT ? journal_kinds[k] : "?";
}

__attribute__((unused)) static const char *
journal_func_name(int f)
{
	return f >= 0 && f < JF_COUNT ? journal_funcs[f] : "?";
}

__attribute__((unused)) static int
journal_errno_by_name(const char *s)
{
	if (strcmp(s, "EIO") == 0)
		return EIO;
	if (strcmp(s, "ENOSPC") == 0)
		return ENOSPC;
	if (strcmp(s, "EDQUOT") == 0)
		return EDQUOT;
	if (strcmp(s, "EROFS") == 0)
		return EROFS;
	return atoi(s) > 0 ? atoi(s) : EIO;
}

#endif
