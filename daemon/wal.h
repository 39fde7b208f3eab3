/* daemon/wal.h: the store's write-ahead log, one file (DIR/wal) that a
 * batch's changes are appended to and synced with one fdatasync before the
 * batch is answered. It knows records as bytes; what they hold is the
 * backend's (daemon/store-lmdb.c).
 *
 * The file has a fixed size, allocated when it is made, and is reused from
 * its start after each checkpoint, so that a sync writes data blocks the
 * file already has and never its size:
 *
 *   offset 0, 32 KiB   two header slots; the valid one with the higher
 *                      epoch is the checkpoint: "CRQWAL1\n", version u32,
 *                      snapshot length u32, epoch u64, file size u64,
 *                      crc32c u32 of all of these and of the snapshot that
 *                      follows (the backend's, at most WAL_SNAP_MAX bytes)
 *   offset 64 KiB      records, one after the other: length u32, crc32c
 *                      u32 (of epoch, seq and the payload), epoch u64, seq
 *                      u64 (1, 2, ... after each checkpoint), payload;
 *                      a length of 0 after the last
 *
 * Integers are big-endian, as in every record of the store (common/be.h).
 * A checkpoint writes the slot the current one is not
 * in, with the next epoch, and syncs it: a torn header write leaves the
 * other slot, and records of an older epoch left in the file are not read.
 * Reading stops at the first record that is not whole, not of the epoch,
 * not the next seq or fails its crc: a batch whose record was cut by a
 * crash was never answered. */
#ifndef CONNREQ_WAL_H
#define CONNREQ_WAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WAL_SLOT (32u << 10)
#define WAL_START (2 * WAL_SLOT)
#define WAL_SNAP_MAX (WAL_SLOT - 64)
#define WAL_REC_HEAD 24

struct wal;

/* Whether DIR/wal exists (-1: cannot tell, errno set). */
int wal_exists(const char *dir);
/* Makes DIR/wal whole before it has its name (DIR/wal.new, allocated,
 * its first header synced, renamed, the directory synced), with snap as
 * its checkpoint: the log, or NULL with why set. */
struct wal *wal_create(const char *dir, uint64_t size, const void *snap,
    size_t snaplen, char *why, size_t whylen);
/* Opens DIR/wal and reads its checkpoint: NULL with why set when it
 * cannot, or has no valid header. */
struct wal *wal_open(const char *dir, char *why, size_t whylen);
void wal_close(struct wal *w);

/* The checkpoint's snapshot. */
const void *wal_snap(const struct wal *w, size_t *len);
uint64_t wal_epoch(const struct wal *w);

/* Calls fn with each record of the checkpoint's epoch, in order; a
 * nonzero return from fn stops and is returned. Sets *n to the records
 * read. The log then appends after the last one. -1 with errno on a read
 * failure. */
typedef int (*wal_fn)(void *ctx, const unsigned char *p, size_t n);
int wal_replay(struct wal *w, wal_fn fn, void *ctx, uint64_t *n);

/* Appends a record (not synced): 0, 1 when it does not fit in what is left
 * of the file, -1 with errno. */
int wal_append(struct wal *w, const void *p, size_t n);
/* fdatasync of the log: 0 or -1 with errno. */
int wal_sync(struct wal *w);
/* A new checkpoint: the next epoch with snap, written and synced; the
 * records start again at the beginning. 0 or -1 with errno. */
int wal_checkpoint(struct wal *w, const void *snap, size_t snaplen);
/* Bytes of records since the checkpoint; the most there is room for. */
uint64_t wal_used(const struct wal *w);
uint64_t wal_capacity(const struct wal *w);

#endif
