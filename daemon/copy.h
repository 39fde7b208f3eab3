/* daemon/copy.h: connreqd --copy-store FROM TO, a whole store copied from
 * one backend to another (LMDB to PostgreSQL and back, or to the same
 * kind), record by record through store.h's export and import. */
#ifndef CONNREQ_COPY_H
#define CONNREQ_COPY_H

#include <stdint.h>

/* Records written into the target per transaction. */
#define COPY_BATCH 5000

/* Copies the store at `from` into the empty store at `to` (each an LMDB
 * directory or a PostgreSQL conninfo: store_backend_for()), a snapshot
 * of the source, which no connreqd may have open, into a target no other
 * process may have open, in transactions of COPY_BATCH records. Prints a
 * summary on stdout (the records of each kind, the seconds), a refusal or
 * failure on stderr. map_max: the LMDB target's largest map. Returns the
 * exit status: 0 copied, 1 refused (a target not empty, a store in use or
 * that cannot be opened) or failed (the target is then incomplete, and
 * the message says to remove it). */
int copy_main(const char *from, const char *to, uint64_t map_max);

#endif
