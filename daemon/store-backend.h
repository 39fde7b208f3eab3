/* daemon/store-backend.h: what a store backend provides and shares, for
 * store.c and the backends alone (the domain sees only store.h). A new
 * backend is a file with its struct store_ops, declared at the end here and
 * listed in store.c's store_backends; the contract test then runs on it. */
#ifndef CONNREQ_STORE_BACKEND_H
#define CONNREQ_STORE_BACKEND_H

#include <stdarg.h>
#include <stdio.h>

#include "store.h"

/* Backends. A backend's store and transaction begin with these common
 * parts (struct lmdb_store { struct store base; ... }); store.c allocates
 * both, zeroed, at the sizes its table gives, and frees them. */
struct store {
	const struct store_ops *ops;
	char err[256];		/* the first failure of the last transaction
				 * that failed */
	bool read_only;		/* opened by store_open_check: open creates
				 * and writes nothing */
	bool alone;		/* opened by store_open_alone: open refuses
				 * a store another process has open, and
				 * keeps it from any other */
};

struct store_watch {
	const struct store_ops *ops;
};

struct stx {
	struct store *s;
	struct stx *parent;	/* NULL: top level */
	bool read_only;
	bool keyed;		/* begun by begin_keyed */
	bool defer;		/* store_defer(): store_error() does not flush */
	int rc;			/* the sticky error, enum store_rc */
};

/* Records a failure of t. The first one sticks, with its message in
 * store_strerror(); later ones are dropped. */
static inline void store_fail(struct stx *t, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static inline void
store_fail(struct stx *t, int rc, const char *fmt, ...)
{
	va_list ap;

	if (t->rc != STORE_OK)
		return;
	t->rc = rc;
	va_start(ap, fmt);
	vsnprintf(t->s->err, sizeof t->s->err, fmt, ap);
	va_end(ap);
}

/* Tells the hook of store_set_progress(), if any, a status line. */
void store_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A member's first_seen_at and settings (issue 12) as the backends keep
 * them, in one layout for both (LMDB in its member record, PostgreSQL in
 * members.settings): first_seen_at be64, own be16, hold flags u8 (1 no
 * mutual, 2 low health), hold_restricted_days be32, hold_new_days be32,
 * digest_every be64, auto_min_mutual be32, auto_until be64. pack writes
 * MEMBER_SETTINGS_BYTES into b; unpack reads n bytes of b into r: none (a
 * row written before them) reads as first seen long ago (1) with no
 * settings of its own; false when n is neither. */
#define MEMBER_SETTINGS_BYTES 39
void store_member_settings_pack(const struct member_rec *r,
    unsigned char *b);
bool store_member_settings_unpack(const unsigned char *b, size_t n,
    struct member_rec *r);

/* One backend. store.c calls an operation only while its transaction has
 * no error, so an operation starts on a good transaction; it stops at its
 * own first failure and reports it with store_fail(). Each operation does
 * what the function of the same name above says; `out` of pair_get,
 * member_get and counts arrives zeroed, and is filled with what is found.
 * The count of a member's open invitations (open_sent) is store.c's. */
struct store_ops {
	const char *name;
	/* Its calls wait on a network round trip (PostgreSQL): the daemon
	 * makes them on a worker thread, never on its event loop (see
	 * store_blocking()). */
	bool blocking;
	size_t store_size;	/* of the backend's struct store */
	size_t stx_size;	/* of the backend's struct stx */

	/* Opens s (s->ops and s->read_only set) at `where` (LMDB: a
	 * directory; PostgreSQL: a libpq conninfo): 0, or -1 with why set and nothing left open. Read-only
	 * (store_open_check), it creates and writes nothing and refuses a
	 * store a connreqd has open. */
	int (*open)(struct store *s, const char *where, uint64_t map_max,
	    char *why, size_t whylen);
	/* Releases what open took; no transaction is open. */
	void (*close)(struct store *s);
	int (*grow)(struct store *s);
	uint64_t (*map_size)(struct store *s);
	void (*set_map_max)(struct store *s, uint64_t map_max);
	/* What logs and messages may show of `where` (no secret in it): into
	 * buf, len bytes. NULL: `where` itself. */
	void (*shown)(const char *where, char *buf, size_t len);
	int (*room)(struct store *s);
	/* Optional (NULL: the backend has no backups). */
	int (*backup_start)(struct store *s, const char *path, char *why,
	    size_t whylen);
	void (*backup_status)(struct store *s, struct store_backup *out);

	/* Begins t (t->s, t->parent and t->read_only set; the parent has no
	 * error); a failure is recorded in t. */
	void (*begin)(struct stx *t);
	/* Optional (NULL: store_begin_keyed() is begin): begins t, a
	 * top-level write transaction touching only ks's keys (ks->n > 0,
	 * not full). */
	void (*begin_keyed)(struct stx *t, const struct store_keys *ks);
	/* Commits t, which has no error, and ends it; a failure is recorded in
	 * t and leaves nothing of t's work. A top-level commit that wrote
	 * sets *seq (when seq is not NULL) to its number and returns before
	 * it is durable; with seq NULL it returns once it is. */
	void (*commit)(struct stx *t, uint64_t *seq);
	/* Optional (NULL: commits are synchronous): see store_wait_fd() and
	 * store_durable() in store.h. */
	int (*wait_fd)(struct store *s);
	uint64_t (*durable)(struct store *s, int *rc);
	int (*wait)(struct store *s, uint64_t seq);
	unsigned (*inflight)(struct store *s);
	/* Ends t leaving nothing of its work, whether it failed (its begin
	 * too) or not. */
	void (*abort)(struct stx *t);

	uint64_t (*writes)(struct store *s);	/* see store_writes() */

	uint64_t (*next_id)(struct stx *t);
	int64_t (*get_vclock)(struct stx *t);
	void (*set_vclock)(struct stx *t, int64_t now);
	void (*counts)(struct stx *t, struct store_counts *out);

	int (*inv_get)(struct stx *t, uint64_t id, struct inv *out);
	void (*inv_put)(struct stx *t, const struct inv *inv, int old_state);
	void (*scan_box)(struct stx *t, enum store_box box,
	    const char *member, size_t len, uint64_t before, store_id_fn fn,
	    void *ctx);
	void (*scan_history)(struct stx *t, const char *a, size_t alen,
	    const char *b, size_t blen, store_id_fn fn, void *ctx);

	void (*pair_get)(struct stx *t, const char *from, size_t flen,
	    const char *to, size_t tlen, struct pair *out);
	void (*pair_put)(struct stx *t, const char *from, size_t flen,
	    const char *to, size_t tlen, const struct pair *p);

	int64_t (*conn_get)(struct stx *t, const char *a, size_t alen,
	    const char *b, size_t blen);
	void (*conn_put)(struct stx *t, const char *a, size_t alen,
	    const char *b, size_t blen, int64_t since);
	void (*conn_del)(struct stx *t, const char *a, size_t alen,
	    const char *b, size_t blen);
	void (*scan_conns)(struct stx *t, const char *member, size_t len,
	    const char *after, size_t after_len, store_conn_fn fn, void *ctx);
	void (*scan_mutual)(struct stx *t, const char *a, size_t alen,
	    const char *b, size_t blen, const char *after, size_t after_len,
	    uint64_t hint, store_mutual_fn fn, void *ctx);

	void (*log_add)(struct stx *t, enum store_log log, const char *key,
	    size_t klen, int64_t at, uint64_t id, uint8_t value);
	uint64_t (*log_count)(struct stx *t, enum store_log log,
	    const char *key, size_t klen, int64_t since, uint64_t max,
	    int64_t *oldest);
	void (*log_scan_back)(struct stx *t, enum store_log log,
	    const char *key, size_t klen, store_log_fn fn, void *ctx);

	uint64_t (*import_id_get)(struct stx *t, const char *id, size_t len);
	void (*import_id_put)(struct stx *t, const char *id, size_t len,
	    uint64_t digest);

	bool (*flag_get)(struct stx *t, enum store_flag f, const char *a,
	    size_t alen, const char *b, size_t blen);
	void (*flag_set)(struct stx *t, enum store_flag f, const char *a,
	    size_t alen, const char *b, size_t blen, bool on);
	void (*scan_flags)(struct stx *t, enum store_flag f, const char *a,
	    size_t alen, const char *after, size_t after_len,
	    store_member_fn fn, void *ctx);

	void (*member_get)(struct stx *t, const char *m, size_t mlen,
	    struct member_rec *out);
	void (*member_put)(struct stx *t, const char *m, size_t mlen,
	    const struct member_rec *r);

	int (*plan_get)(struct stx *t, uint64_t id, void *buf, size_t cap,
	    size_t *len);
	void (*plan_put)(struct stx *t, uint64_t id, const void *buf,
	    size_t len);
	void (*scan_plans)(struct stx *t, const char *m, size_t mlen,
	    store_id_fn fn, void *ctx);
	void (*plan_index)(struct stx *t, const char *m, size_t mlen,
	    uint64_t id);

	int (*intro_get)(struct stx *t, uint64_t id, struct intro *out);
	void (*intro_put)(struct stx *t, const struct intro *in);
	void (*scan_intros)(struct stx *t, enum store_intro_box box,
	    const char *member, size_t len, uint64_t before, store_id_fn fn,
	    void *ctx);

	void (*event_add)(struct stx *t, uint64_t seq, int64_t at,
	    const char *member, size_t mlen, bool notify, const char *data,
	    size_t len);
	uint64_t (*event_head)(struct stx *t);
	/* Optional (NULL: event_head + 1): see store_event_next(). */
	uint64_t (*event_next)(struct stx *t);
	uint64_t (*event_pruned)(struct stx *t, const char *member,
	    size_t mlen);
	void (*event_scan)(struct stx *t, uint64_t after, const char *member,
	    size_t mlen, store_event_fn fn, void *ctx);
	void (*event_unnotify)(struct stx *t, uint64_t seq);
	size_t (*event_prune)(struct stx *t, int64_t before, size_t max);
	int (*request_get)(struct stx *t, const char *id, size_t len,
	    int64_t *at, void **rec, size_t *reclen);
	void (*request_put)(struct stx *t, const char *id, size_t len,
	    int64_t at, const void *rec, size_t reclen);
	size_t (*request_prune)(struct stx *t, int64_t before, size_t max);

	void (*due_add)(struct stx *t, const struct due *d);
	void (*due_del)(struct stx *t, const struct due *d);
	bool (*due_first)(struct stx *t, struct due *out);
	/* Optional (NULL: due_first's deadline, when due): see
	 * store_due_claim(). */
	bool (*due_claim)(struct stx *t, int64_t now, struct due *out);
	/* Optional (NULL: no clock of its own): see store_db_clock(). */
	bool (*db_clock)(struct stx *t, int64_t *real, int64_t *vclock);

	/* member.erase's (see store_inv_del() and those after it). */
	void (*inv_del)(struct stx *t, const struct inv *inv);
	void (*pair_del)(struct stx *t, const char *from, size_t flen,
	    const char *to, size_t tlen);
	void (*log_del)(struct stx *t, enum store_log log, const char *key,
	    size_t klen, int64_t at, uint64_t id);
	void (*plan_del)(struct stx *t, const char *m, size_t mlen,
	    uint64_t id);
	void (*intro_del)(struct stx *t, const struct intro *in);
	void (*event_redact)(struct stx *t, uint64_t seq, const char *data,
	    size_t len, bool nobody);
	void (*member_del)(struct stx *t, const char *m, size_t mlen);
	void (*scan_intros_to)(struct stx *t, const char *m, size_t mlen,
	    store_id_fn fn, void *ctx);
	void (*scan_events_naming)(struct stx *t, const char *m, size_t mlen,
	    store_event_fn fn, void *ctx);

	void (*scan_invitations)(struct stx *t, store_id_fn fn, void *ctx);
	void (*scan_pairs)(struct stx *t, store_pair_fn fn, void *ctx);
	void (*scan_dues)(struct stx *t, store_due_fn fn, void *ctx);
	/* store_export() without its meta ordering: every record of the
	 * store, each kind in STORE_RECS order (the meta values of every
	 * name it keeps, but its schema version, in any order, at any
	 * point); store.c orders the meta values and checks their names. */
	void (*export)(struct stx *t, store_rec_fn fn, void *ctx);
	/* store_import(): r's kind is below SREC_COUNT; its meta name any
	 * (the backend refuses one it does not keep). */
	void (*import)(struct stx *t, const struct store_rec *r);
	/* Optional (NULL: every operation reports its failure when it
	 * returns): the backend sends writes without waiting for their
	 * results (PostgreSQL's pipeline); flush reads those of t's writes
	 * sent so far and records a failure among them in t. store_error()
	 * calls it, so that its answer covers every call made in t (unless
	 * store_defer()). */
	void (*flush)(struct stx *t);
	/* Optional (NULL: ignored): see store_hint_send(). */
	void (*hint_send)(struct stx *t, const char *from, size_t flen,
	    const char *to, size_t tlen, int64_t since, const char *nkey,
	    size_t nklen);
	/* Optional (NULL: never): store_mutual_count()'s answer into *n,
	 * when the backend knows it without a scan (false: it scans). */
	bool (*mutual_count)(struct stx *t, const char *a, size_t alen,
	    const char *b, size_t blen, uint64_t max, uint64_t *n);
	/* Optional (NULL: none): the checks of the backend's own tables. */
	void (*check)(struct stx *t, store_problem_fn fn, void *ctx);
	/* Optional (NULL: nothing to watch): see store_watch_new(). A
	 * backend's watch begins with struct store_watch. */
	struct store_watch *(*watch_new)(struct store *s);
	int (*watch_step)(struct store_watch *w, int *want, uint64_t *head);
	bool (*watch_up)(const struct store_watch *w);
	int (*watch_timeout)(const struct store_watch *w);	/* NULL: -1 */
	void (*watch_free)(struct store_watch *w);
};

/* The backends. */
extern const struct store_ops store_lmdb;	/* daemon/store-lmdb.c */
extern const struct store_ops store_pg;		/* daemon/store-pg.c */

#endif
