/* daemon/store-lmdb.c: the store (store.h) in LMDB, one environment in the
 * store's directory. Nothing outside this file knows LMDB: it exports only
 * its table, store_lmdb.
 *
 * Keys are built by key_make() from parts, so that the order of the bytes
 * is the order scans want: M, a member id (or a name) and a NUL byte (ids
 * hold no control characters, so "ali" sorts before "alice" and is not a
 * prefix of its keys); L, a 64-bit integer big-endian; B, one byte. Values
 * are fixed-width big-endian fields (common/be.h), then strings.
 *
 * The tables keyed by id, time or name have a database each; every table
 * whose key begins with a member is kept in one database, member_rows,
 * with a kind byte after that first member, so that a member's rows of
 * every table are neighbours: a send writes near the sender's rows and
 * near the recipient's, a few leaves of one tree, rather than a leaf in
 * each of nine trees (docs/performance.md, "Fewer scattered writes").
 * key_row() is the one place that puts the kind in: key_make() calls it
 * (given the table, a struct tbl: its database and kind), for keys and
 * scan prefixes alike, and so do the scans' seeks to a member's rows of a
 * kind and the migration from schema 1; key_strip() takes it out of a key
 * read back from a cursor.
 *
 *   database         key           value
 *   meta             [name M]      schema: u32 (STORE_SCHEMA); next_id,
 *                                  vclock, count.<state>, count.connections,
 *                                  count.deadlines, event.head,
 *                                  event.pruned: u64
 *   invitations      [id L]        version u8 = 2, state u8, priority u8,
 *                                  from_len u8, to_len u8, flags u8 (1
 *                                  ignored, 2 reported, 4 held, 8
 *                                  automatic), note_len u16, attempt u32,
 *                                  id, created_at, updated_at, expires_at,
 *                                  stale_at, reminded_at, resend_of,
 *                                  remind_at (u64 each), via_len u8; from,
 *                                  to, via, note (version 1, of schema 2:
 *                                  without remind_at, via_len and via)
 *   deadlines        [at L][kind B][id L]        empty
 *   events           [seq L]       notify u8, member_len u8, at u64;
 *                                  member, the packed msgpack event
 *   plans            [id L]        the plan record (daemon/plan.c)
 *   introductions    [id L]        version u8 = 1, state u8, told u8,
 *                                  from_len u8, via_len u8, to_len u8,
 *                                  note_len u16, id, created_at,
 *                                  updated_at, expires_at, invitation
 *                                  (u64 each); from, via, to, note
 *   requests         [request id M]  at u64; the server's record
 *   request_times    [at L][request id M]  empty: the requests by age,
 *                                  for pruning
 *   member_rows      [member M][kind B][rest]: the tables below
 *
 *   table (kind)     key           value
 *   members (1)      [member M]    invitations_from u8, email_len u8,
 *                                  restricted_until u64, open_sent u64,
 *                                  restricted_at u64, the settings
 *                                  (member_encode()); email
 *   pairs (2)        [from M][to M]  open_id u64, cooldown_until u64,
 *                                  withdrawals u32, attempts u32
 *   sent (3), received (4)  [member M][id L]     empty
 *   history (5)      [lower M][higher M][id L]   empty (the two members of
 *                                  the invitation in byte order)
 *   connections (6)  [a M][b M]    since u64 (written both ways)
 *   member_events (7)  [member M][seq L]         empty
 *   member_pruned (8)  [member M]  seq u64: the member's last pruned event
 *   blocks (9), nogo (10)  [a M][b M]            empty
 *   member_plans (11)  [member M][id L]          empty
 *   log_sends (12), log_withdrawals (13), log_decisions (14),
 *   log_reports (15), log_notes (16), log_restrictions (17)
 *                    [key M][at L][id L]         value u8 (a note's key
 *                                  is "sender:hash", no NUL in it)
 *   auto_accept (18) [a M][b M]    empty: a accepts b's invitations at once
 *   intro_asked (19), intro_via (20)  [member M][id L]  empty: the
 *                                  introductions the member asked for,
 *                                  and those it was asked to make
 *
 * For example, invitation 5 sent by alice is in her sent box as the key
 *
 *   61 6c 69 63 65 00  03    00 00 00 00 00 00 00 05
 *   a  l  i  c  e  NUL sent  5
 *
 * and the pair alice -> bob with that invitation open, a cooldown until
 * 1700000000 (0x6553f100), 2 withdrawals and 3 attempts is the key
 * 61 6c 69 63 65 00 02 62 6f 62 00 (alice NUL pairs bob NUL) with the value
 *
 *   00 00 00 00 00 00 00 05  00 00 00 00 65 53 f1 00  00 00 00 02  00 00 00 03
 *   open_id 5                cooldown_until           withdrawals  attempts
 *
 * (tests/test_store.c reads both back from the file.)
 *
 * Schema 3 is schema 2 with the kinds 17 to 20, the introductions
 * database and the records of a new version (invitations 2, members with
 * settings); schema 4 is schema 3 with the requests and request_times
 * databases. A store of schema 2 or 3 reads as it is, and opening it only
 * moves its number (open_dbs(), which creates the databases it lacks).
 *
 * Schema 1 had a database per table (the same keys without the kind byte,
 * and the databases named as the tables). A store of schema 1 is migrated
 * in place when it opens (migrate()): its log replayed in its own layout
 * first, then every row moved in one transaction, synced by a checkpoint;
 * a crash before that checkpoint finds the old store whole
 * (tests/test_migrate.c).
 *
 * A new store is created whole under another name (data.mdb.new) and
 * only then renamed to data.mdb (create_store()): a store either does
 * not exist or is whole, whatever a power cut or a failed write did to
 * its creation.
 *
 * A full disk: LMDB reports a short page write as EIO, which cannot be told
 * from a broken disk. So the data file is kept allocated (fallocate) ahead
 * of its last page before each top-level commit that wrote (prealloc()):
 * the commit then writes into space the disk already gave, and when the
 * disk has no room for that the commit is not tried (STORE_NO_SPACE). A
 * commit that still gets ENOSPC with the environment sound is
 * STORE_NO_SPACE too; EIO, or an environment LMDB has panicked (a failed
 * meta-page write), is STORE_FAILED. */
#include "store-backend.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "../common/be.h"
#include "wal.h"

#define STORE_MAP_INITIAL (8ULL << 20)
/* The least the data file is kept allocated past its last page: a commit
 * writes its new pages into space the disk already gave (see store_room()
 * in store.h). More when the store is large (an eighth of it) or a commit
 * was seen to take more (twice the most one took). */
#define STORE_HEADROOM_MIN (4ULL << 20)
/* The log's file, and when a checkpoint is made: when the log holds half
 * of it, when the data file has grown by CKPT_GROWTH or a quarter of the
 * map since the last (the pages a checkpoint's reader keeps cannot be
 * reused until the next), or CKPT_SECS after the last, at the next
 * commit. */
#define WAL_SIZE (4ULL << 20)
#define CKPT_LOG (WAL_SIZE / 2)
#define CKPT_GROWTH (32ULL << 20)
#define CKPT_SECS 30
#define PEND_MAX 4		/* checkpoints under way at once */
#define SNAPS_MAX 32		/* commits not yet durable, at most */

/* A read snapshot as of a commit, lent to the read transactions begun
 * while it is the last durable one; it ends when it is neither that nor
 * lent. */
struct rsnap {
	uint64_t seq;
	MDB_txn *txn;
	unsigned lent;
	bool old;		/* no longer [0]: ends when no longer lent */
};

/* A commit's record for the flusher; a checkpoint's meta pages with it
 * when the commit is one. */
struct job {
	struct job *next;
	uint64_t seq;
	unsigned char *rec;
	size_t len;
	unsigned char *snap;	/* NULL: not a checkpoint */
	size_t snaplen;
};

/* A table: its database and, for a table kept in the member rows, the
 * kind byte its keys hold after their member (0: a database of its own). */
struct tbl {
	MDB_dbi dbi;
	unsigned char kind;
};

/* The kinds of the member rows. Control characters, which no member id
 * holds: a member's rows of one kind are the keys that begin with its id,
 * NUL and the kind, and no other member's key begins so. */
enum {
	K_MEMBER = 1, K_PAIR, K_SENT, K_RECV, K_HIST, K_CONN, K_MEV, K_MPRUNED,
	K_BLOCK, K_NOGO, K_MPLAN, K_LOG,	/* K_LOG + enum store_log */
	K_AUTO = K_LOG + LOG_COUNT,	/* FLAG_AUTOACCEPT (schema 3) */
	K_IASK, K_IVIA,		/* introductions (schema 3) */
	K_IMPORT,		/* import.rows' external ids: the id in the
				 * member's place, the row's digest */
	K_END		/* the first kind not taken */
};
_Static_assert(K_LOG + LOG_RESTRICTIONS == 17 && K_AUTO == 18 &&
    K_IASK == 19 && K_IVIA == 20 && K_IMPORT == 21,
    "member row kinds are on disk: never renumbered");

struct lmdb_store {
	struct store base;
	MDB_env *env;
	int lockfd;
	char dir[4096];
	/* The backup (store_backup_start()): its thread, and its status,
	 * which bk_mu guards once bk_init. */
	pthread_mutex_t bk_mu;
	bool bk_init, bk_joinable;
	pthread_t bk_thread;
	struct store_backup bk;
	/* The log (see "The write path" above). */
	struct wal *wal;
	MDB_txn *pin;		/* a reader on the checkpoint's snapshot */
	struct pend {		/* checkpoints asked of the flusher */
		uint64_t seq;
		MDB_txn *pin;	/* the next pin, once it is made */
	} pend[PEND_MAX];
	unsigned npend;
	struct rsnap *snaps[SNAPS_MAX];	/* read snapshots, in commit
					 * order; [0]: as of the last
					 * durable commit */
	unsigned nsnaps;
	uint64_t seq;		/* the last commit's number */
	uint64_t log_bytes;	/* handed to the log since the last
				 * checkpoint asked for */
	int data_fd;
	/* The flusher thread and what it shares (mu). */
	pthread_t flusher;
	bool flusher_on;
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	struct job *jobs, **jobs_tail;
	struct job *done_jobs;	/* done, for the loop to free */
	uint64_t durable;	/* the last commit on disk */
	uint64_t ckpt_seq;	/* the last checkpoint made */
	bool stop, failed;
	char fail_why[256];
	int efd;		/* written when durable moves */
	unsigned char *rec;	/* the write transaction's changes */
	uint64_t nwrites;	/* records put or deleted, ever */
	size_t rec_len, rec_cap;
	uint64_t ckpt_pgno;	/* the last page at the checkpoint */
	struct timespec ckpt_at;	/* when it was made (monotonic) */
	size_t psize;
	MDB_dbi dbis[32];	/* by index in LM_DBS (lm_dbs_1 while a
				 * store of schema 1 is replayed) */
	unsigned char dbi_index[256];	/* and the other way (0xff: none) */
	unsigned ndbs;
	uint64_t map_max;
	uint64_t alloc_end;	/* the data file is allocated up to here (0:
				 * not known: from the start) */
	uint64_t growth_max;	/* the most one commit moved the end */
	bool no_prealloc;	/* the file system cannot allocate ahead */
	MDB_dbi rows;		/* member_rows: the tables keyed by a member */
	struct tbl meta, inv, sent, recv, hist, pair, conn, due, ev, mev;
	struct tbl mpruned, logs[LOG_COUNT], flags[FLAG_COUNT], member, plan, mplan;
	struct tbl intro, iask, ivia, req, reqt, importid;
	MDB_dbi old[32];	/* a store of schema 1: its databases, by
				 * index in lm_dbs_1, until it is migrated */
	unsigned schema;	/* the schema found at open */
};

struct lmdb_stx {
	struct stx base;
	MDB_txn *txn;		/* NULL: not begun */
	struct rsnap *lent;	/* txn is this read snapshot's */
	bool dirty;		/* it (or a child it took in) wrote */
	size_t rec_mark;	/* the store's rec_len when it began */
};

static struct lmdb_store *
ls(struct stx *t)
{
	return (struct lmdb_store *)t->s;
}

static MDB_txn *
tx(struct stx *t)
{
	return ((struct lmdb_stx *)t)->txn;
}

struct key {
	unsigned char b[2 * (MEMBER_MAX_BYTES + 1) + 33];
	size_t n;
};

/* Starts k as a member row's key, or a seek to one: [first][NUL][kind],
 * first len bytes (a member id, or a log's key). key_make(), the
 * migration and the scans' seeks all build the prefix here. */
static void
key_row(struct key *k, const void *first, size_t len, unsigned char kind)
{
	memcpy(k->b, first, len);
	k->b[len] = '\0';
	k->b[len + 1] = kind;
	k->n = len + 2;
}

/* Builds k, a key of table tb, from parts, one letter of fmt each: 'M' a
 * member id or a name, (const char *, size_t), stored with a NUL after it;
 * 'L' a uint64_t, big-endian; 'B' one byte (an int). A table kept in the
 * member rows (tb.kind not 0) has its kind byte after the first part, the
 * member the row is filed under: the one place that puts it there, for
 * keys and scan prefixes alike (key_strip() takes it out again). */
static void
key_make(struct key *k, struct tbl tb, const char *fmt, ...)
{
	const char *s;
	size_t len;
	va_list ap;
	bool first = true;

	if (tb.kind != 0 && fmt[0] != 'M')
		fatal("key_make: a member row's key begins with its member");
	k->n = 0;
	va_start(ap, fmt);
	for (; *fmt != '\0'; fmt++, first = false) {
		switch (*fmt) {
		case 'M':
			s = va_arg(ap, const char *);
			len = va_arg(ap, size_t);
			if (first && tb.kind != 0) {
				key_row(k, s, len, tb.kind);
				break;
			}
			memcpy(k->b + k->n, s, len);
			k->n += len;
			k->b[k->n++] = '\0';
			break;
		case 'L':
			be_put(k->b + k->n, va_arg(ap, uint64_t), 8);
			k->n += 8;
			break;
		case 'B':
			k->b[k->n++] = (unsigned char)va_arg(ap, int);
			break;
		default:
			fatal("key_make: no part '%c'", *fmt);
		}
	}
	va_end(ap);
}

/* The length of the member id at the start of p (n bytes), up to its NUL;
 * n when there is none. */
static size_t
key_member(const unsigned char *p, size_t n)
{
	const unsigned char *z = memchr(p, 0, n);

	return z != NULL ? (size_t)(z - p) : n;
}

/* A member row's key read back from a cursor, as its table's parts
 * without the kind byte (what key_make() was given), into out; false when
 * it has no kind byte after its member. */
static bool
key_strip(const MDB_val *in, struct key *out, MDB_val *parts)
{
	const unsigned char *p = in->mv_data;
	size_t m = key_member(p, in->mv_size);

	if (m + 2 > in->mv_size || in->mv_size - 1 > sizeof out->b)
		return false;
	memcpy(out->b, p, m + 1);
	memcpy(out->b + m + 1, p + m + 2, in->mv_size - m - 2);
	out->n = in->mv_size - 1;
	parts->mv_size = out->n;
	parts->mv_data = out->b;
	return true;
}

static MDB_val
key_val(const struct key *k)
{
	MDB_val v = { k->n, (void *)k->b };

	return v;
}

static void
mark_dirty(struct stx *t)
{
	((struct lmdb_stx *)t)->dirty = true;
}

/* The log's record of a write transaction: its changes, in order, each
 *
 *   op u8 (REC_PUT, REC_DEL), database u8 (its index in LM_DBS),
 *   key length u16, value length u32 (REC_PUT only), key, value
 *
 * appended as put() and del() make them; a child transaction's are cut
 * off again when it aborts. */
enum { REC_PUT = 1, REC_DEL = 2 };

static void
rec_add(struct stx *t, int op, MDB_dbi dbi, const MDB_val *k,
    const MDB_val *v)
{
	struct lmdb_store *s = (struct lmdb_store *)t->s;
	size_t need = 8 + k->mv_size + (v != NULL ? v->mv_size : 0);
	unsigned char *p;

	if (s->wal == NULL)
		return;		/* opening: nothing is logged yet */
	if (s->rec_len + need > s->rec_cap) {
		s->rec_cap = (s->rec_len + need) * 2;
		s->rec = xrealloc(s->rec, s->rec_cap);
	}
	p = s->rec + s->rec_len;
	*p++ = (unsigned char)op;
	*p++ = dbi < 256 ? s->dbi_index[dbi] : 0xff;
	be_put(p, k->mv_size, 2);
	p += 2;
	if (v != NULL) {
		be_put(p, v->mv_size, 4);
		p += 4;
	}
	memcpy(p, k->mv_data, k->mv_size);
	p += k->mv_size;
	if (v != NULL) {
		memcpy(p, v->mv_data, v->mv_size);
		p += v->mv_size;
	}
	s->rec_len = (size_t)(p - s->rec);
}

/* The log and its checkpoints (below lm_room). */
static int ckpt(struct lmdb_store *s, char *why, size_t whylen);
static int ckpt_pin(struct lmdb_store *s, char *why, size_t whylen);
static int snap_read(struct lmdb_store *s, unsigned char *snap, size_t *len);
static int snap_restore(const char *dir, const unsigned char *snap,
    size_t len, char *why, size_t whylen);
static int replay(struct lmdb_store *s, char *why, size_t whylen);
static int migrate(struct lmdb_store *s, char *why, size_t whylen);
static int log_commit(struct lmdb_store *s, uint64_t *seq_out, char *why,
    size_t whylen);
static uint64_t lm_map_size(struct store *base);
static void dbi_tables(struct lmdb_store *s);
static int store_broken(struct lmdb_store *s, const char *why);
static int map_double(struct lmdb_store *s);
static void backup_wait(struct lmdb_store *s);
static void snaps_drop(struct lmdb_store *s);
static int snaps_start(struct lmdb_store *s, char *why, size_t whylen);
static void flusher_stop(struct lmdb_store *s);
static int flush_wait(struct lmdb_store *s, uint64_t seq);
static int flusher_start(struct lmdb_store *s, char *why, size_t whylen);
static int lm_open(struct store *base, const char *dir, uint64_t map_max,
    char *why, size_t whylen);
static void lm_close(struct store *base);

/* Whether the environment is still usable after a failure: LMDB panics it
 * (MDB_PANIC at every later begin) when a meta page could not be written;
 * a failed data-page write or sync only ends the transaction. */
static bool
env_sound(struct lmdb_store *s)
{
	MDB_txn *rt;
	int mrc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &rt);

	if (mrc != 0)
		return false;
	mdb_txn_abort(rt);
	return true;
}

/* The store's answer for an LMDB failure: the disk refusing space with the
 * store still sound is STORE_NO_SPACE (nothing of the transaction was
 * committed, and the pages it wrote are ones no commit points to); any other
 * write or sync failure (EIO: LMDB reports a short write so too) is
 * STORE_FAILED. */
static int
store_rc_of(struct lmdb_store *s, int mrc)
{
	if (mrc == MDB_MAP_FULL || mrc == MDB_TXN_FULL)
		return STORE_MAP_FULL;
	if ((mrc == ENOSPC || mrc == EDQUOT) && env_sound(s))
		return STORE_NO_SPACE;
	return STORE_FAILED;
}

/* Records an LMDB failure as the transaction's (store_fail keeps the
 * first). Returns true on failure. */
static bool
stx_check(struct stx *t, int mrc, const char *what)
{
	if (mrc == 0)
		return false;
	store_fail(t, store_rc_of(ls(t), mrc), "%s: %s", what,
	    mdb_strerror(mrc));
	return true;
}

/* put, del and get do nothing once the transaction has failed: an
 * operation that writes more than one record stops at its first failure. */
static void
put(struct stx *t, struct tbl tb, const struct key *k, const void *data,
    size_t len, const char *what)
{
	MDB_val kv = key_val(k), dv = { len, (void *)data };

	if (t->rc != STORE_OK)
		return;
	if (!stx_check(t, mdb_put(tx(t), tb.dbi, &kv, &dv, 0), what)) {
		ls(t)->nwrites++;
		mark_dirty(t);
		rec_add(t, REC_PUT, tb.dbi, &kv, &dv);
	}
}

/* Whether a call that looks a key up found it (mrc 0); a failure other
 * than not finding it is recorded. */
static bool
found(struct stx *t, int mrc, const char *what)
{
	return mrc != MDB_NOTFOUND && !stx_check(t, mrc, what);
}

/* Deletes key; false when it was not there. */
static bool
del(struct stx *t, struct tbl tb, const struct key *k, const char *what)
{
	MDB_val kv = key_val(k);

	if (t->rc != STORE_OK ||
	    !found(t, mdb_del(tx(t), tb.dbi, &kv, NULL), what))
		return false;
	ls(t)->nwrites++;
	mark_dirty(t);
	rec_add(t, REC_DEL, tb.dbi, &kv, NULL);
	return true;
}

/* Reads key into *out; false when absent or on error. */
static bool
get(struct stx *t, struct tbl tb, const struct key *k, MDB_val *out,
    const char *what)
{
	MDB_val kv = key_val(k);

	return t->rc == STORE_OK && found(t, mdb_get(tx(t), tb.dbi, &kv, out),
	    what);
}

/* A value that is one 64-bit integer; 0 when absent. */
static uint64_t
get_u64(struct stx *t, struct tbl tb, const struct key *k, const char *what)
{
	MDB_val v;

	if (!get(t, tb, k, &v, what) || v.mv_size != 8)
		return 0;
	return be_get(v.mv_data, 8);
}

/* The prefix scan (after Knot DNS's knot_lmdb_find_prefix and
 * knot_lmdb_next): the keys of a database that begin with a prefix, in
 * order or in reverse. The caller fills dbi, prefix, tail, back and what;
 *
 *	SCAN_EACH(&sc, t, &from) {
 *		... sc.k and sc.v are the key and value; break to stop ...
 *	}
 *	scan_end(&sc);
 *
 * starts at the first key at or after `from` (the last key before it when
 * back), and stops at the first key that does not begin with the prefix or
 * (tail not 0) is not tail bytes longer, at the end, or on a failure, which
 * is recorded in the transaction. An empty `from` starts at the first (or
 * last) key of the database; an empty prefix takes every key.
 *
 * A scan of `every` row of a member table (forward, from the start, no
 * prefix) takes its kind's rows of each member in turn, seeking past the
 * other kinds: the whole table, as if it had its own database. */
struct scan {
	struct tbl tbl;
	struct key prefix;
	size_t tail;		/* the bytes after the prefix; 0: any */
	bool back;
	bool every;
	struct key seek;	/* (every) the next member's rows */
	const char *what;	/* for a failure's message */
	struct stx *t;
	MDB_cursor *c;
	MDB_val k, v;
};

#define SCAN_EACH(sc, t, from) \
	for (bool scan_on = scan_seek((sc), (t), (from)); scan_on; \
	    scan_on = scan_next(sc))

/* Whether the cursor, just moved with result mrc, is on a key of the scan. */
static bool
scan_on_key(struct scan *sc, int mrc)
{
	const unsigned char *p;
	size_t m;
	MDB_val k;

	for (;;) {
		if (mrc != 0) {
			if (mrc != MDB_NOTFOUND)
				stx_check(sc->t, mrc, sc->what);
			return false;
		}
		if (!sc->every || sc->tbl.kind == 0)
			break;
		/* On a member's row of the kind, or at [member][kind], or past
		 * the member's rows ([member NUL 0xff]). */
		p = sc->k.mv_data;
		m = key_member(p, sc->k.mv_size);
		if (m + 1 < sc->k.mv_size && p[m + 1] == sc->tbl.kind)
			return true;
		if (m == sc->k.mv_size || m + 2 > sizeof sc->seek.b ||
		    (m + 1 < sc->k.mv_size && p[m + 1] == 0xff)) {
			/* Not a member row's key: the next one. */
			mrc = mdb_cursor_get(sc->c, &sc->k, &sc->v, MDB_NEXT);
			continue;
		}
		key_row(&sc->seek, p, m, m + 1 < sc->k.mv_size &&
		    p[m + 1] > sc->tbl.kind ? 0xff : sc->tbl.kind);
		k = key_val(&sc->seek);
		sc->k = k;
		mrc = mdb_cursor_get(sc->c, &sc->k, &sc->v, MDB_SET_RANGE);
	}
	if (sc->tail != 0 ? sc->k.mv_size != sc->prefix.n + sc->tail :
	    sc->k.mv_size < sc->prefix.n)
		return false;
	return memcmp(sc->k.mv_data, sc->prefix.b, sc->prefix.n) == 0;
}

static bool
scan_seek(struct scan *sc, struct stx *t, const struct key *from)
{
	int mrc;

	sc->t = t;
	sc->c = NULL;
	if (stx_check(t, mdb_cursor_open(tx(t), sc->tbl.dbi, &sc->c),
	    "cursor")) {
		sc->c = NULL;
		return false;
	}
	if (from->n == 0)
		return scan_on_key(sc, mdb_cursor_get(sc->c, &sc->k, &sc->v,
		    sc->back ? MDB_LAST : MDB_FIRST));
	sc->k = key_val(from);
	mrc = mdb_cursor_get(sc->c, &sc->k, &sc->v, MDB_SET_RANGE);
	if (sc->back && mrc == MDB_NOTFOUND)
		mrc = mdb_cursor_get(sc->c, &sc->k, &sc->v, MDB_LAST);
	else if (sc->back && mrc == 0)
		mrc = mdb_cursor_get(sc->c, &sc->k, &sc->v, MDB_PREV);
	return scan_on_key(sc, mrc);
}

static bool
scan_next(struct scan *sc)
{
	return scan_on_key(sc, mdb_cursor_get(sc->c, &sc->k, &sc->v,
	    sc->back ? MDB_PREV : MDB_NEXT));
}

static void
scan_end(struct scan *sc)
{
	if (sc->c != NULL)
		mdb_cursor_close(sc->c);
	sc->c = NULL;
}

/* The key the scan is on, as its table's parts: without the kind byte of
 * a member row (key_strip(), into buf). */
static MDB_val
scan_parts(const struct scan *sc, struct key *buf)
{
	MDB_val parts = sc->k;

	if (sc->tbl.kind != 0 && !key_strip(&sc->k, buf, &parts))
		parts = sc->k;
	return parts;
}

/* The big-endian integer at byte off of the key's tail. */
static uint64_t
scan_u64(const struct scan *sc, size_t off)
{
	return be_get((const unsigned char *)sc->k.mv_data + sc->prefix.n + off,
	    8);
}

static uint64_t
meta_get_u64(struct stx *t, const char *name)
{
	struct key k;

	key_make(&k, ls(t)->meta, "M", name, strlen(name));
	return get_u64(t, ls(t)->meta, &k, "meta");
}

static void
meta_put_u64(struct stx *t, const char *name, uint64_t val)
{
	unsigned char b[8];
	struct key k;

	key_make(&k, ls(t)->meta, "M", name, strlen(name));
	be_put(b, val, 8);
	put(t, ls(t)->meta, &k, b, 8, "meta");
}

static void
meta_add(struct stx *t, const char *name, int64_t delta)
{
	meta_put_u64(t, name, meta_get_u64(t, name) + (uint64_t)delta);
}

static const char *
count_name(int state)
{
	static const char *const names[ST_COUNT] = {
		"count.pending", "count.accepted", "count.ignored",
		"count.withdrawn", "count.expired"
	};

	return names[state];
}

/* The databases, by field and name, in the order lm_open creates them
 * (the log names them by this index). */
#define LM_DBS(X) \
	X(meta.dbi, "meta") X(inv.dbi, "invitations") \
	X(due.dbi, "deadlines") X(ev.dbi, "events") X(plan.dbi, "plans") \
	X(rows, "member_rows") X(intro.dbi, "introductions") \
	X(req.dbi, "requests") X(reqt.dbi, "request_times")

/* The tables kept in the member rows, by field and kind. */
#define LM_ROWS(X) \
	X(member, K_MEMBER) X(pair, K_PAIR) X(sent, K_SENT) X(recv, K_RECV) \
	X(hist, K_HIST) X(conn, K_CONN) X(mev, K_MEV) X(mpruned, K_MPRUNED) \
	X(flags[FLAG_BLOCK], K_BLOCK) X(flags[FLAG_NOGO], K_NOGO) \
	X(mplan, K_MPLAN) X(logs[LOG_SENDS], K_LOG + LOG_SENDS) \
	X(logs[LOG_WITHDRAWALS], K_LOG + LOG_WITHDRAWALS) \
	X(logs[LOG_DECISIONS], K_LOG + LOG_DECISIONS) \
	X(logs[LOG_REPORTS], K_LOG + LOG_REPORTS) \
	X(logs[LOG_NOTES], K_LOG + LOG_NOTES) \
	X(logs[LOG_RESTRICTIONS], K_LOG + LOG_RESTRICTIONS) \
	X(flags[FLAG_AUTOACCEPT], K_AUTO) X(iask, K_IASK) X(ivia, K_IVIA) \
	X(importid, K_IMPORT)

/* Schema 1, a database per table: their names in the order of its LM_DBS,
 * by which its log names them, and the kind each table's rows take in the
 * member rows (0: a database that stays as it is). */
static const struct {
	const char *name;
	unsigned char kind;
} lm_dbs_1[] = {
	{ "meta", 0 }, { "invitations", 0 }, { "sent", K_SENT },
	{ "received", K_RECV }, { "history", K_HIST }, { "pairs", K_PAIR },
	{ "connections", K_CONN }, { "deadlines", 0 }, { "events", 0 },
	{ "member_events", K_MEV }, { "member_pruned", K_MPRUNED },
	{ "log_sends", K_LOG + LOG_SENDS },
	{ "log_withdrawals", K_LOG + LOG_WITHDRAWALS },
	{ "log_decisions", K_LOG + LOG_DECISIONS },
	{ "log_reports", K_LOG + LOG_REPORTS },
	{ "log_notes", K_LOG + LOG_NOTES }, { "blocks", K_BLOCK },
	{ "nogo", K_NOGO }, { "members", K_MEMBER }, { "plans", 0 },
	{ "member_plans", K_MPLAN }
};
#define LM_NDBS_1 (sizeof lm_dbs_1 / sizeof lm_dbs_1[0])

/* The tables, once the databases are open. */
static void
tables_set(struct lmdb_store *s)
{
	s->meta.kind = s->inv.kind = s->due.kind = s->ev.kind =
	    s->plan.kind = s->intro.kind = s->req.kind = s->reqt.kind = 0;
#define ROW_TBL(field, k) \
	s->field.dbi = s->rows; \
	s->field.kind = (unsigned char)(k);
	LM_ROWS(ROW_TBL)
#undef ROW_TBL
}

/* For store_open_check: the environment opened MDB_RDONLY (LMDB still
 * takes its reader slot in lock.mdb), nothing created, and the daemon's
 * lock taken, so that no connreqd has the store open now or opens it
 * while it is checked. */
static int
lm_open_read(struct lmdb_store *s, const char *dir, char *why, size_t whylen)
{
	char lockpath[4096];
	MDB_txn *txn = NULL;
	struct stat st;
	struct key k;
	MDB_val kv, v;
	int mrc, rc;

	if (stat(dir, &st) == -1) {
		snprintf(why, whylen, "no store at %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, whylen, "no store at %s: not a directory", dir);
		return -1;
	}
	/* What the log holds past its checkpoint is part of the store: it
	 * is replayed first, as a start would (as fsck replays a journal). */
	snprintf(lockpath, sizeof lockpath, "%s/data.mdb", dir);
	if (stat(lockpath, &st) == 0 && wal_exists(dir) == 1) {
		s->base.read_only = false;
		rc = lm_open(&s->base, dir, UINT64_MAX >> 1, why, whylen);
		s->base.read_only = true;
		if (rc == -1) {
			if (strstr(why, "in use by another connreqd") != NULL)
				snprintf(why, whylen,
				    "the store %s is in use by a running connreqd; stop it first",
				    dir);
			return -1;
		}
		lm_close(&s->base);
		s->env = NULL;
		s->lockfd = -1;
	}
	key_make(&k, s->meta, "M", "schema", strlen("schema"));
	kv = key_val(&k);
	snprintf(lockpath, sizeof lockpath, "%s/connreqd.lock", dir);
	s->lockfd = open(lockpath, O_RDONLY | O_CLOEXEC);
	if (s->lockfd == -1 && errno != ENOENT) {
		snprintf(why, whylen, "cannot open %s: %s", lockpath,
		    strerror(errno));
		goto fail;
	}
	if (s->lockfd != -1 && flock(s->lockfd, LOCK_EX | LOCK_NB) == -1) {
		snprintf(why, whylen,
		    "the store %s is in use by a running connreqd; stop it first",
		    dir);
		goto fail;
	}
	if ((mrc = mdb_env_create(&s->env)) != 0 ||
	    (mrc = mdb_env_set_maxdbs(s->env, 32)) != 0 ||
	    (mrc = mdb_env_open(s->env, dir, MDB_NOTLS | MDB_RDONLY,
	    0600)) != 0) {
		snprintf(why, whylen, "cannot open store %s: %s", dir,
		    mdb_strerror(mrc));
		goto fail;
	}
	if ((mrc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0) {
		snprintf(why, whylen, "store %s: %s", dir, mdb_strerror(mrc));
		goto fail;
	}
#define OPEN_DB_RO(field, name) \
	if ((mrc = mdb_dbi_open(txn, name, 0, &s->field)) != 0) { \
		snprintf(why, whylen, "store %s: database %s: %s", dir, name, \
		    mdb_strerror(mrc)); \
		goto fail; \
	}
	/* The schema first: a store of another has other databases. */
	OPEN_DB_RO(meta.dbi, "meta")
	if ((mrc = mdb_get(txn, s->meta.dbi, &kv, &v)) != 0 ||
	    v.mv_size != 4 || be_get(v.mv_data, 4) != STORE_SCHEMA) {
		snprintf(why, whylen,
		    "store %s: no schema version %d (%s)", dir, STORE_SCHEMA,
		    mrc != 0 ? mdb_strerror(mrc) : v.mv_size == 4 &&
		    be_get(v.mv_data, 4) < STORE_SCHEMA ?
		    "an older one: connreqd migrates it when it opens it" :
		    "another version");
		goto fail;
	}
	LM_DBS(OPEN_DB_RO)
#undef OPEN_DB_RO
	tables_set(s);
	/* Committed, not aborted: an abort would close the handles. */
	mrc = mdb_txn_commit(txn);
	txn = NULL;
	if (mrc != 0) {
		snprintf(why, whylen, "store %s: %s", dir, mdb_strerror(mrc));
		goto fail;
	}
	return 0;
fail:
	if (txn != NULL)
		mdb_txn_abort(txn);
	if (s->env != NULL)
		mdb_env_close(s->env);
	s->env = NULL;
	if (s->lockfd != -1)
		close(s->lockfd);
	s->lockfd = -1;
	return -1;
}

/* Opens every database in env (creating those a new store lacks) and
 * writes the schema of a new store, in one transaction: 0, or -1 with why
 * set. A store of schema 1 has its own databases opened instead (s->old),
 * s->schema 1: lm_open replays its log and migrates it. */
static int
open_dbs(struct lmdb_store *s, const char *dir, char *why, size_t whylen)
{
	struct store *base = &s->base;
	struct lmdb_stx t;
	MDB_txn *txn = NULL;
	struct key k;
	MDB_val v;
	int mrc;
	unsigned char b[8];
	bool bumped = false;
	unsigned i, old_schema = 0;

	if ((mrc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0) {
		snprintf(why, whylen, "store %s: %s", dir, mdb_strerror(mrc));
		return -1;
	}
#define OPEN_DB(field, name) \
	if ((mrc = mdb_dbi_open(txn, name, MDB_CREATE, &s->field)) != 0) { \
		snprintf(why, whylen, "store %s: database %s: %s", dir, name, \
		    mdb_strerror(mrc)); \
		goto fail; \
	}
	OPEN_DB(meta.dbi, "meta")
	t.base.s = base;
	t.base.rc = STORE_OK;
	t.txn = txn;
	t.dirty = false;
	s->schema = STORE_SCHEMA;
	key_make(&k, s->meta, "M", "schema", strlen("schema"));
	if (get(&t.base, s->meta, &k, &v, "schema") && v.mv_size == 4 &&
	    be_get(v.mv_data, 4) == 1) {
		s->schema = 1;
		/* (One schema 1 never had is an empty table.) */
		for (i = 0; i < LM_NDBS_1; i++)
			if ((mrc = mdb_dbi_open(txn, lm_dbs_1[i].name,
			    MDB_CREATE, &s->old[i])) != 0) {
				snprintf(why, whylen,
				    "store %s (schema 1): database %s: %s", dir,
				    lm_dbs_1[i].name, mdb_strerror(mrc));
				goto fail;
			}
	} else {
		LM_DBS(OPEN_DB)
	}
#undef OPEN_DB
	tables_set(s);
	if (s->schema == 1) {
		/* Read as it is, until lm_open migrates it. */
	} else if (get(&t.base, s->meta, &k, &v, "schema")) {
		if (v.mv_size == 4 && (be_get(v.mv_data, 4) == 2 ||
		    be_get(v.mv_data, 4) == 3)) {
			/* Schemas 3 and 4 are schema 2 with more: records
			 * of a new version, tables of new kinds and new
			 * databases (created above), its old records read
			 * as they are. Only the number moves (synced
			 * below), so that an older connreqd refuses the
			 * store from now on. */
			old_schema = (unsigned)be_get(v.mv_data, 4);
			be_put(b, STORE_SCHEMA, 4);
			put(&t.base, s->meta, &k, b, 4, "schema");
			bumped = true;
		} else if (v.mv_size != 4 ||
		    be_get(v.mv_data, 4) != STORE_SCHEMA) {
			snprintf(why, whylen,
			    "store %s has schema version %u; this connreqd reads version %d",
			    dir, v.mv_size == 4 ?
			    (unsigned)be_get(v.mv_data, 4) : 0u,
			    STORE_SCHEMA);
			goto fail;
		}
	} else {
		be_put(b, STORE_SCHEMA, 4);
		put(&t.base, s->meta, &k, b, 4, "schema");
	}
	if (t.base.rc != STORE_OK) {
		snprintf(why, whylen, "store %s: %s", dir, base->err);
		goto fail;
	}
	mrc = mdb_txn_commit(txn);
	txn = NULL;
	if (mrc == 0 && bumped && (mrc = mdb_env_sync(s->env, 1)) == 0)
		log_info("store %s: schema %d (from %u)", dir, STORE_SCHEMA,
		    old_schema);
	if (mrc != 0) {
		snprintf(why, whylen, "store %s: %s", dir, mdb_strerror(mrc));
		return -1;
	}
	return 0;
fail:
	mdb_txn_abort(txn);
	return -1;
}

static MDB_env *
env_new(uint64_t map_max, int *mrc)
{
	MDB_env *env = NULL;

	if ((*mrc = mdb_env_create(&env)) != 0)
		return NULL;
	if ((*mrc = mdb_env_set_maxdbs(env, 32)) != 0 ||
	    (*mrc = mdb_env_set_mapsize(env, map_max < STORE_MAP_INITIAL ?
	    map_max : STORE_MAP_INITIAL)) != 0) {
		mdb_env_close(env);
		return NULL;
	}
	return env;
}

/* Removes path if it is there: 1 removed, 0 not there, -1 (errno set)
 * when it cannot be. */
static int
remove_file(const char *path)
{
	if (unlink(path) == 0)
		return 1;
	return errno == ENOENT ? 0 : -1;
}

/* A new store is made whole before it has its name, so that a store
 * either does not exist or is whole (a torn first write, or a power cut,
 * while LMDB creates its file would leave a data.mdb it refuses forever):
 * the environment is created as DIR/data.mdb.new (its lock file
 * data.mdb.new-lock), its databases and schema committed (LMDB syncs the
 * pages and writes its meta page O_DSYNC), the file and the directory
 * synced, and only then renamed to DIR/data.mdb and the directory synced
 * again. A data.mdb.new left by a creation that died is removed at the
 * next start (lm_open()). */
static int
create_store(struct lmdb_store *s, const char *dir, char *why, size_t whylen)
{
	char tmp[4096], tmplock[4096], data[4096];
	MDB_env *env;
	int mrc, fd;

	snprintf(tmp, sizeof tmp, "%s/data.mdb.new", dir);
	snprintf(tmplock, sizeof tmplock, "%s/data.mdb.new-lock", dir);
	snprintf(data, sizeof data, "%s/data.mdb", dir);
	if ((env = env_new(s->map_max, &mrc)) == NULL ||
	    (mrc = mdb_env_open(env, tmp, MDB_NOTLS | MDB_NOSUBDIR,
	    0600)) != 0) {
		snprintf(why, whylen, "cannot create store %s: %s", dir,
		    mdb_strerror(mrc));
		if (env != NULL)
			mdb_env_close(env);
		return -1;
	}
	s->env = env;
	if (open_dbs(s, dir, why, whylen) == -1) {
		s->env = NULL;
		mdb_env_close(env);
		return -1;
	}
	s->env = NULL;
	if ((mrc = mdb_env_get_fd(env, &fd)) != 0 || fsync(fd) == -1) {
		snprintf(why, whylen, "cannot create store %s: sync of %s: %s",
		    dir, tmp, mrc ? mdb_strerror(mrc) : strerror(errno));
		mdb_env_close(env);
		return -1;
	}
	mdb_env_close(env);
	if (remove_file(tmplock) == -1 || dir_sync(dir) == -1 ||
	    rename(tmp, data) == -1 || dir_sync(dir) == -1) {
		snprintf(why, whylen, "cannot create store %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	log_info("store: created %s", data);
	return 0;
}

static int
lm_open(struct store *base, const char *dir, uint64_t map_max, char *why,
    size_t whylen)
{
	struct lmdb_store *s = (struct lmdb_store *)base;
	char path[4096];
	struct stat st;
	int mrc, dead = 0, i, rc;
	static const char *const leftovers[] = { "data.mdb.new",
		"data.mdb.new-lock" };

	s->lockfd = -1;
	s->env = NULL;
	s->map_max = map_max;
	if (base->read_only)
		return lm_open_read(s, dir, why, whylen);
	if (path_mkdir_p(dir, 0700) == -1) {
		snprintf(why, whylen, "cannot create store directory %s: %s",
		    dir, strerror(errno));
		goto fail;
	}
	snprintf(path, sizeof path, "%s/connreqd.lock", dir);
	s->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lockfd == -1) {
		snprintf(why, whylen, "cannot open %s: %s", path,
		    strerror(errno));
		goto fail;
	}
	if (flock(s->lockfd, LOCK_EX | LOCK_NB) == -1) {
		snprintf(why, whylen,
		    "the store %s is in use by another connreqd", dir);
		goto fail;
	}
	/* What a creation that died left: never a store (it had not its
	 * name yet). */
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, leftovers[i]);
		if ((rc = remove_file(path)) == -1) {
			snprintf(why, whylen, "cannot remove %s: %s", path,
			    strerror(errno));
			goto fail;
		}
		if (rc == 1)
			log_warn("store: removed %s, left by a creation of the store that did not finish",
			    path);
	}
	snprintf(path, sizeof path, "%s/data.mdb", dir);
	if (stat(path, &st) == -1) {
		if (errno != ENOENT) {
			snprintf(why, whylen, "cannot open store %s: %s", path,
			    strerror(errno));
			goto fail;
		}
		/* A log without its store is nobody's. */
		snprintf(path, sizeof path, "%s/wal", dir);
		if (remove_file(path) == 1)
			log_warn("store: removed %s, which had no data.mdb",
			    path);
		if (create_store(s, dir, why, whylen) == -1)
			goto fail;
	}
	snprintf(s->dir, sizeof s->dir, "%s", dir);
	/* The log's checkpoint first (see "The write path" above). */
	if ((rc = wal_exists(dir)) == -1) {
		snprintf(why, whylen, "cannot open the log of %s: %s", dir,
		    strerror(errno));
		goto fail;
	}
	if (rc == 1) {
		size_t len;
		const void *snap;

		if ((s->wal = wal_open(dir, why, whylen)) == NULL)
			goto fail;
		snap = wal_snap(s->wal, &len);
		if (snap_restore(dir, snap, len, why, whylen) == -1)
			goto fail;
	}
	if ((s->env = env_new(map_max, &mrc)) == NULL ||
	    (mrc = mdb_env_open(s->env, dir, MDB_NOTLS | MDB_NOSYNC,
	    0600)) != 0) {
		snprintf(why, whylen, "cannot open store %s: %s", dir,
		    mdb_strerror(mrc));
		goto fail;
	}
	mdb_reader_check(s->env, &dead);
	if (dead > 0)
		log_info("store: cleared %d stale reader slots", dead);
	/* The checkpoint's pages are kept from the start: whatever opening
	 * the databases or the replay write, a crash before the replay's
	 * checkpoint finds them whole. */
	if (s->wal != NULL && (mrc = mdb_txn_begin(s->env, NULL, MDB_RDONLY,
	    &s->pin)) != 0) {
		s->pin = NULL;
		snprintf(why, whylen, "store %s: %s", dir, mdb_strerror(mrc));
		goto fail;
	}
	if (open_dbs(s, dir, why, whylen) == -1)
		goto fail;
	s->rec_len = 0;
	dbi_tables(s);
	{
		MDB_stat mst;

		mdb_env_stat(s->env, &mst);
		s->psize = mst.ms_psize;
	}
	if (s->wal == NULL) {
		/* A new store, or one of a connreqd before the log: every
		 * commit of it was synced. Its log starts here. */
		unsigned char snap[WAL_SNAP_MAX];
		size_t len;

		if ((mrc = mdb_env_sync(s->env, 1)) != 0 ||
		    snap_read(s, snap, &len) == -1) {
			snprintf(why, whylen, "store %s: %s", dir,
			    mrc ? mdb_strerror(mrc) : strerror(errno));
			goto fail;
		}
		if ((s->wal = wal_create(dir, WAL_SIZE, snap, len, why,
		    whylen)) == NULL)
			goto fail;
		if (ckpt_pin(s, why, whylen) == -1)
			goto fail;
	} else if (replay(s, why, whylen) == -1)
		goto fail;
	if (s->schema == 1 && migrate(s, why, whylen) == -1)
		goto fail;
	if (flusher_start(s, why, whylen) == -1)
		goto fail;
	return 0;
fail:
	if (s->pin != NULL)
		mdb_txn_abort(s->pin);
	s->pin = NULL;
	if (s->env != NULL)
		mdb_env_close(s->env);
	s->env = NULL;
	wal_close(s->wal);
	s->wal = NULL;
	if (s->lockfd != -1)
		close(s->lockfd);
	return -1;
}

/* Backups. The copy is LMDB's own (mdb_env_copyfd2, compacting): it
 * takes a read transaction of its own, so it holds every commit made
 * before it began, and runs beside the writer. It goes to PATH.tmp, synced,
 * then renamed to PATH and the directory synced: PATH is whole or absent.
 *
 * The copy runs in a process of its own (forked by the backup's thread,
 * which waits for it), on an environment of its own opened read-only:
 * LMDB changes a map's size only with no transaction open in the process,
 * and the copy's, open for as long as it runs, would keep the daemon's map
 * from growing (the daemon, on its loop, then waited for the backup's end
 * and answered nothing meanwhile). Another process's reader is no
 * obstacle: LMDB's lock file shares the readers between processes. */
static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
backup_end(struct lmdb_store *s, uint64_t bytes, const char *error)
{
	pthread_mutex_lock(&s->bk_mu);
	s->bk.bytes = bytes;
	s->bk.finished_at = now_ms();
	s->bk.state = error == NULL ? BACKUP_DONE : BACKUP_FAILED;
	if (error != NULL)
		snprintf(s->bk.error, sizeof s->bk.error, "%s", error);
	pthread_mutex_unlock(&s->bk_mu);
}

/* The copy's process: dir's store, read-only, copied to fd; on a failure
 * its message goes to efd. Every other descriptor is closed first (a
 * client's socket kept open here would not close when the daemon closes
 * it); the parent's locks are not this process's, so closing their files
 * here leaves them. */
static void __attribute__((noreturn))
backup_child(const char *dir, int fd, int efd)
{
	unsigned lo = (unsigned)(fd < efd ? fd : efd);
	unsigned hi = (unsigned)(fd < efd ? efd : fd);
	MDB_env *env = NULL;
	char msg[256];
	int mrc;

	prctl(PR_SET_PDEATHSIG, SIGKILL);	/* the daemon gone: no copy */
	if (lo > 3)
		close_range(3, lo - 1, 0);
	if (hi > lo + 1)
		close_range(lo + 1, hi - 1, 0);
	close_range(hi + 1, ~0U, 0);
	if ((mrc = mdb_env_create(&env)) == 0 &&
	    (mrc = mdb_env_set_maxdbs(env, 32)) == 0 &&
	    (mrc = mdb_env_open(env, dir, MDB_RDONLY | MDB_NOTLS, 0600)) == 0)
		mrc = mdb_env_copyfd2(env, fd, MDB_CP_COMPACT);
	if (mrc != 0) {
		snprintf(msg, sizeof msg, "%s", mdb_strerror(mrc));
		if (write(efd, msg, strlen(msg)) < 0)
			_exit(2);
		_exit(1);
	}
	_exit(0);
}

/* Runs the copy's process on fd and waits for it: 0, or -1 with why. */
static int
backup_copy(struct lmdb_store *s, int fd, char *why, size_t whylen)
{
	char msg[256];
	size_t got = 0;
	ssize_t n;
	pid_t pid;
	int efd[2], status;

	if (pipe2(efd, O_CLOEXEC) == -1) {
		snprintf(why, whylen, "pipe: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) == 0)
		backup_child(s->dir, fd, efd[1]);
	close(efd[1]);
	if (pid == -1) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		close(efd[0]);
		return -1;
	}
	while (got < sizeof msg - 1 &&
	    ((n = read(efd[0], msg + got, sizeof msg - 1 - got)) > 0 ||
	    (n == -1 && errno == EINTR)))
		if (n > 0)
			got += (size_t)n;
	msg[got] = '\0';
	close(efd[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (got > 0)
		snprintf(why, whylen, "%s", msg);
	else if (WIFSIGNALED(status))
		snprintf(why, whylen, "the copy's process was killed (signal %d)",
		    WTERMSIG(status));
	else
		snprintf(why, whylen, "the copy's process failed (status %d)",
		    WEXITSTATUS(status));
	return -1;
}

static void *
backup_run(void *arg)
{
	struct lmdb_store *s = arg;
	char tmp[4200], dir[4096], err[4600], why[300], *slash;
	struct stat st;
	int fd, dfd, mrc, rc;

	snprintf(tmp, sizeof tmp, "%s.tmp", s->bk.path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1) {
		snprintf(err, sizeof err, "cannot create %s: %s", tmp,
		    strerror(errno));
		backup_end(s, 0, err);
		return NULL;
	}
	mrc = 0;
	if (backup_copy(s, fd, why, sizeof why) == -1)
		snprintf(err, sizeof err, "writing %s: %s", tmp, why);
	else if ((fsync(fd) == -1 && (mrc = errno) != 0) ||
	    (fstat(fd, &st) == -1 && (mrc = errno) != 0))
		snprintf(err, sizeof err, "writing %s: %s", tmp,
		    strerror(mrc));
	else
		err[0] = '\0';
	close(fd);
	if (err[0] != '\0') {
		unlink(tmp);
		backup_end(s, 0, err);
		return NULL;
	}
	/* Never over a file made at PATH while the copy was written: PATH
	 * was not there when the backup began. A file system without
	 * RENAME_NOREPLACE: a hard link, which does not replace either. */
	rc = renameat2(AT_FDCWD, tmp, AT_FDCWD, s->bk.path, RENAME_NOREPLACE);
	if (rc == -1 && errno == EINVAL && (rc = link(tmp, s->bk.path)) == 0)
		unlink(tmp);
	if (rc == -1) {
		if (errno == EEXIST)
			snprintf(err, sizeof err,
			    "%s is there, made while the copy was written: it is left as it is",
			    s->bk.path);
		else
			snprintf(err, sizeof err, "renaming %s: %s", tmp,
			    strerror(errno));
		unlink(tmp);
		backup_end(s, 0, err);
		return NULL;
	}
	snprintf(dir, sizeof dir, "%s", s->bk.path);
	if ((slash = strrchr(dir, '/')) != NULL)
		*(slash == dir ? slash + 1 : slash) = '\0';
	/* The name is durable only once the directory is synced: until
	 * then a power cut could lose it, so the backup is not done. */
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(dfd) == -1) {
		snprintf(err, sizeof err,
		    "the copy is written, but its directory could not be synced (%s): a power cut could lose it",
		    strerror(errno));
		if (dfd != -1)
			close(dfd);
		backup_end(s, 0, err);
		return NULL;
	}
	close(dfd);
	backup_end(s, (uint64_t)st.st_size, NULL);
	return NULL;
}

/* Waits for the backup under way, if any, to end. */
static void
backup_wait(struct lmdb_store *s)
{
	if (!s->bk_joinable)
		return;
	pthread_mutex_lock(&s->bk_mu);
	if (s->bk.state == BACKUP_RUNNING)
		log_info("store: waiting for the backup to %s to end",
		    s->bk.path);
	pthread_mutex_unlock(&s->bk_mu);
	pthread_join(s->bk_thread, NULL);
	s->bk_joinable = false;
}

static int
lm_backup_start(struct store *base, const char *path, char *why,
    size_t whylen)
{
	struct lmdb_store *s = (struct lmdb_store *)base;
	enum store_backup_state state = BACKUP_NONE;
	char dir[4096], tmp[4200], *slash;
	struct stat st, sst;
	int rc;

	if (!s->bk_init) {
		pthread_mutex_init(&s->bk_mu, NULL);
		s->bk_init = true;
	}
	pthread_mutex_lock(&s->bk_mu);
	state = s->bk.state;
	pthread_mutex_unlock(&s->bk_mu);
	if (state == BACKUP_RUNNING) {
		snprintf(why, whylen, "a backup to %s is under way", s->bk.path);
		return STORE_BACKUP_BUSY;
	}
	if (strlen(path) + 5 > sizeof s->bk.path) {
		snprintf(why, whylen, "the path is too long");
		return STORE_BACKUP_PATH;
	}
	if (lstat(path, &st) == 0) {
		snprintf(why, whylen, "%s is there already: give a new file",
		    path);
		return STORE_BACKUP_PATH;
	}
	/* The copy's temporary name, left by a backup that did not finish
	 * (its daemon killed): said now, not once the backup has begun. */
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	if (lstat(tmp, &st) == 0) {
		snprintf(why, whylen,
		    "%s is there, left by a backup that did not finish: remove it, or give another path",
		    tmp);
		return STORE_BACKUP_PATH;
	}
	snprintf(dir, sizeof dir, "%s", path);
	if ((slash = strrchr(dir, '/')) != NULL)
		*(slash == dir ? slash + 1 : slash) = '\0';
	if (slash == NULL || stat(dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		snprintf(why, whylen, "no directory %s for the backup", dir);
		return STORE_BACKUP_PATH;
	}
	/* Not the store's own directory, however it is named: its files
	 * are the daemon's (a start removes a data.mdb.new as what a
	 * creation left), and a restore moves the directory aside. */
	if (stat(s->dir, &sst) == 0 && sst.st_dev == st.st_dev &&
	    sst.st_ino == st.st_ino) {
		snprintf(why, whylen,
		    "%s is in the store's directory: give a path outside it",
		    path);
		return STORE_BACKUP_PATH;
	}
	if (s->bk_joinable) {
		pthread_join(s->bk_thread, NULL);	/* the last, ended */
		s->bk_joinable = false;
	}
	pthread_mutex_lock(&s->bk_mu);
	memset(&s->bk, 0, sizeof s->bk);
	snprintf(s->bk.path, sizeof s->bk.path, "%s", path);
	s->bk.state = BACKUP_RUNNING;
	s->bk.started_at = now_ms();
	pthread_mutex_unlock(&s->bk_mu);
	if ((rc = pthread_create(&s->bk_thread, NULL, backup_run, s)) != 0) {
		snprintf(why, whylen, "cannot start the backup: %s",
		    strerror(rc));
		s->bk.state = BACKUP_FAILED;
		return STORE_BACKUP_BUSY;
	}
	s->bk_joinable = true;
	return 0;
}

static void
lm_backup_status(struct store *base, struct store_backup *out)
{
	struct lmdb_store *s = (struct lmdb_store *)base;

	if (!s->bk_init)
		return;
	pthread_mutex_lock(&s->bk_mu);
	*out = s->bk;
	pthread_mutex_unlock(&s->bk_mu);
}

static void
lm_close(struct store *base)
{
	struct lmdb_store *s = (struct lmdb_store *)base;
	char why[256];
	bool failed;

	backup_wait(s);
	if (s->bk_init)
		pthread_mutex_destroy(&s->bk_mu);
	s->bk_init = false;
	failed = s->flusher_on && s->failed;
	flusher_stop(s);
	/* A clean stop leaves an empty log: the next start replays
	 * nothing. After a failed sync, nothing more is trusted to the
	 * disk: the next start recovers from what is there. */
	if (!failed && s->wal != NULL && wal_used(s->wal) > 0 &&
	    ckpt(s, why, sizeof why) == -1)
		log_warn("store: %s (the log keeps what it holds)", why);
	if (s->pin != NULL)
		mdb_txn_abort(s->pin);
	s->pin = NULL;
	mdb_env_close(s->env);
	wal_close(s->wal);
	s->wal = NULL;
	free(s->rec);
	s->rec = NULL;
	if (s->lockfd != -1)
		close(s->lockfd);
}

static uint64_t
lm_map_size(struct store *base)
{
	struct lmdb_store *s = (struct lmdb_store *)base;
	MDB_envinfo info;

	mdb_env_info(s->env, &info);
	return info.me_mapsize;
}

static int
lm_grow(struct store *base)
{
	struct lmdb_store *s = (struct lmdb_store *)base;
	MDB_envinfo info;
	char why[256];

	/* Nothing under way in the flusher while the log and the map
	 * change. */
	if (s->flusher_on && flush_wait(s, s->seq) != STORE_OK) {
		log_error("store: %s", base->err);
		return -1;
	}
	/* The checkpoint's reader keeps the pages freed since: a checkpoint
	 * lets them be used again, which may be room enough. */
	mdb_env_info(s->env, &info);
	if (s->wal != NULL && (wal_used(s->wal) > 0 ||
	    info.me_last_pgno != s->ckpt_pgno)) {
		if (ckpt(s, why, sizeof why) == -1)
			return store_broken(s, why);
		return 0;
	}
	return map_double(s) == 0 ? 0 : -1;
}

/* Doubles the map now, up to map_max: the flusher drained, a checkpoint
 * (no transaction may be open while the map changes), the checkpoint's
 * reader and the read snapshot taken again. 0; 1 when the map is at its
 * maximum or cannot change; -1 when the store broke. */
static int
map_double(struct lmdb_store *s)
{
	uint64_t cur = lm_map_size(&s->base), next;
	char why[256];
	int mrc;

	if (cur >= s->map_max)
		return 1;
	next = cur * 2 > s->map_max ? s->map_max : cur * 2;
	if (s->flusher_on && flush_wait(s, s->seq) != STORE_OK) {
		log_error("store: %s", s->base.err);
		return -1;
	}
	if (s->wal != NULL && ckpt(s, why, sizeof why) == -1)
		return store_broken(s, why);
	if (s->pin != NULL)
		mdb_txn_abort(s->pin);
	s->pin = NULL;
	snaps_drop(s);
	mrc = mdb_env_set_mapsize(s->env, next);
	if (s->wal != NULL && ckpt_pin(s, why, sizeof why) == -1)
		return store_broken(s, why);
	if (s->flusher_on && snaps_start(s, why, sizeof why) == -1)
		return store_broken(s, why);
	if (mrc != 0)
		return 1;
	log_info("store: map grown to %llu bytes", (unsigned long long)next);
	return 0;
}

static void
lm_set_map_max(struct store *base, uint64_t map_max)
{
	struct lmdb_store *s = (struct lmdb_store *)base;
	uint64_t cur = lm_map_size(base);

	s->map_max = map_max;
	if (cur > map_max)
		log_warn("store: the map is already %llu bytes, more than map_size_max %llu: it keeps its size and grows no more",
		    (unsigned long long)cur, (unsigned long long)map_max);
}

/* Keeps the data file allocated ahead of its last page (by the headroom
 * above, within the map), so that a commit writes into space the disk
 * already gave: 0, or -1 with why set when the disk has no room for it. A
 * file system that cannot allocate ahead leaves a full disk to be found by
 * the commit itself. */
static int
prealloc(struct lmdb_store *s, char *why, size_t whylen)
{
	MDB_envinfo info;
	MDB_stat st;
	uint64_t used, head, want;
	int fd, rc;

	if (s->no_prealloc || mdb_env_info(s->env, &info) != 0 ||
	    mdb_env_stat(s->env, &st) != 0 || mdb_env_get_fd(s->env, &fd) != 0)
		return 0;
	used = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
	head = used / 8;
	if (head < STORE_HEADROOM_MIN)
		head = STORE_HEADROOM_MIN;
	if (head < 2 * s->growth_max)
		head = 2 * s->growth_max;
	want = used + head;
	if (want > info.me_mapsize)
		want = info.me_mapsize;
	if (want <= s->alloc_end)
		return 0;
	do
		rc = fallocate(fd, 0, (off_t)s->alloc_end,
		    (off_t)(want - s->alloc_end));
	while (rc == -1 && errno == EINTR);
	if (rc == 0) {
		s->alloc_end = want;
		return 0;
	}
	if (errno == ENOSPC || errno == EDQUOT) {
		snprintf(why, whylen,
		    "no space left on device: the store (%llu bytes used) needs %llu bytes of its file ready and the disk has less",
		    (unsigned long long)used, (unsigned long long)want);
		return -1;
	}
	if (errno == EOPNOTSUPP || errno == ENOSYS) {
		s->no_prealloc = true;
		log_info("store: the file system cannot allocate ahead (%s); a full disk is found when a commit writes",
		    strerror(errno));
		return 0;
	}
	/* Not a lack of room: the commit finds out what the disk says. */
	log_warn("store: allocating the data file ahead: %s", strerror(errno));
	return 0;
}

/* The databases by their index in LM_DBS, and back, for the log; those of
 * lm_dbs_1 for a store of schema 1, whose log is replayed before it is
 * migrated. */
static void
dbi_tables(struct lmdb_store *s)
{
	unsigned i = 0;

	memset(s->dbi_index, 0xff, sizeof s->dbi_index);
	if (s->schema == 1) {
		for (i = 0; i < LM_NDBS_1; i++)
			s->dbis[i] = s->old[i];
		s->ndbs = i;
		return;
	}
#define DBI_SLOT(field, name) \
	s->dbis[i] = s->field; \
	if (s->field < 256) \
		s->dbi_index[s->field] = (unsigned char)i; \
	i++;
	LM_DBS(DBI_SLOT)
#undef DBI_SLOT
	s->ndbs = i;
}

/* A checkpoint's snapshot: the page size (u32), then the first META_HEAD
 * bytes of each of LMDB's two meta pages (pages 0 and 1 of data.mdb) as
 * the file holds them: a page header and LMDB's meta record, which is all
 * LMDB reads or writes of a meta page once the file is made (its rest
 * stays as creation left it). 0, or -1 with errno. */
#define META_HEAD 512

static int
snap_read(struct lmdb_store *s, unsigned char *snap, size_t *len)
{
	MDB_stat st;
	int fd;

	if (mdb_env_stat(s->env, &st) != 0 || mdb_env_get_fd(s->env, &fd) != 0) {
		errno = EIO;
		return -1;
	}
	if (st.ms_psize < META_HEAD) {
		errno = EINVAL;
		return -1;
	}
	be_put(snap, st.ms_psize, 4);
	*len = 4 + 2 * META_HEAD;
	if (fd_pread_all(fd, snap + 4, META_HEAD, 0) == -1)
		return -1;
	return fd_pread_all(fd, snap + 4 + META_HEAD, META_HEAD,
	    (uint64_t)st.ms_psize);
}

/* Puts the checkpoint's meta pages back in DIR/data.mdb, before LMDB
 * opens it: after a crash the file may hold meta pages of commits made
 * since, whose data pages never reached the disk; the checkpoint's
 * pages are all there (a reader kept them from reuse until the next
 * checkpoint), and the log holds every answered commit since. */
static int
snap_restore(const char *dir, const unsigned char *snap, size_t len,
    char *why, size_t whylen)
{
	char path[4096];
	unsigned char cur[2 * META_HEAD];
	size_t psize = len >= 4 ? (size_t)be_get(snap, 4) : 0;
	int fd, rc = -1;

	if (psize < META_HEAD || len != 4 + 2 * META_HEAD) {
		snprintf(why, whylen, "store %s: the log's checkpoint is not LMDB's meta pages",
		    dir);
		return -1;
	}
	snprintf(path, sizeof path, "%s/data.mdb", dir);
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) == -1) {
		snprintf(why, whylen, "cannot open %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fd_pread_all(fd, cur, META_HEAD, 0) == -1 ||
	    fd_pread_all(fd, cur + META_HEAD, META_HEAD, (uint64_t)psize) == -1)
		snprintf(why, whylen, "cannot read %s: %s", path,
		    strerror(errno));
	else if (memcmp(cur, snap + 4, 2 * META_HEAD) == 0)
		rc = 0;
	else if (fd_pwrite_all(fd, snap + 4, META_HEAD, 0) == -1 ||
	    fd_pwrite_all(fd, snap + 4 + META_HEAD, META_HEAD,
	    (uint64_t)psize) == -1 || fdatasync(fd) == -1)
		snprintf(why, whylen, "cannot write %s: %s", path,
		    strerror(errno));
	else {
		log_info("store: recovery: data.mdb set back to the log's checkpoint");
		rc = 0;
	}
	close(fd);
	return rc;
}

/* The reader that keeps the checkpoint's pages, on the store as it is
 * now (the checkpoint's). 0, or -1 with why set. */
static int
ckpt_pin(struct lmdb_store *s, char *why, size_t whylen)
{
	MDB_envinfo info;
	int mrc;

	if (s->pin != NULL)
		mdb_txn_abort(s->pin);
	s->pin = NULL;
	if ((mrc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &s->pin)) != 0) {
		s->pin = NULL;
		snprintf(why, whylen, "checkpoint: reader: %s",
		    mdb_strerror(mrc));
		return -1;
	}
	mdb_env_info(s->env, &info);
	s->ckpt_pgno = info.me_last_pgno;
	clock_gettime(CLOCK_MONOTONIC, &s->ckpt_at);
	s->log_bytes = 0;
	if (s->flusher_on) {
		pthread_mutex_lock(&s->mu);
		s->ckpt_seq = s->seq;
		pthread_mutex_unlock(&s->mu);
	}
	return 0;
}

/* A checkpoint made at once, the flusher idle (quiesce()): the data file
 * synced (everything committed so far is on disk), its meta pages written
 * to the log as its new checkpoint, and the reader that keeps the
 * checkpoint's pages moved to it. 0, or -1 with why set. */
static int
ckpt(struct lmdb_store *s, char *why, size_t whylen)
{
	unsigned char snap[WAL_SNAP_MAX];
	size_t len;
	int mrc;

	if ((mrc = mdb_env_sync(s->env, 1)) != 0) {
		snprintf(why, whylen, "checkpoint: sync of data.mdb: %s",
		    mdb_strerror(mrc));
		return -1;
	}
	if (snap_read(s, snap, &len) == -1 ||
	    wal_checkpoint(s->wal, snap, len) == -1) {
		snprintf(why, whylen, "checkpoint: %s", strerror(errno));
		return -1;
	}
	return ckpt_pin(s, why, whylen);
}

static bool
ckpt_due(struct lmdb_store *s)
{
	MDB_envinfo info;
	struct timespec now;
	uint64_t growth;

	if (s->log_bytes >= CKPT_LOG)
		return true;
	mdb_env_info(s->env, &info);
	growth = (uint64_t)(info.me_last_pgno - s->ckpt_pgno) * s->psize;
	/* (A map below its maximum is doubled instead: log_commit().) */
	if (growth >= CKPT_GROWTH ||
	    (growth >= info.me_mapsize / 4 && info.me_mapsize >= s->map_max))
		return true;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec - s->ckpt_at.tv_sec >= CKPT_SECS;
}

/* The flusher (group commit): a thread that takes the commits' records
 * in order, appends all it finds waiting to the log and syncs it once for
 * them all. A checkpoint job instead syncs data.mdb (everything committed
 * up to it is in the file) and writes its meta pages as the log's new
 * checkpoint: the records before it are no longer needed, and its own is
 * not written. Then durable moves to the last job done, and the loop is
 * woken (efd) with any commit that waits. A failure stops it: nothing
 * after the last durable commit may be answered. */
static void *
flusher_main(void *arg)
{
	struct lmdb_store *s = arg;
	struct job *list, *j;
	uint64_t last, ckpt, one = 1;
	bool unsynced;
	char why[256];
	int rc;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (s->jobs == NULL && !s->stop)
			pthread_cond_wait(&s->work, &s->mu);
		if (s->jobs == NULL || s->failed)
			break;
		list = s->jobs;
		s->jobs = NULL;
		s->jobs_tail = &s->jobs;
		pthread_mutex_unlock(&s->mu);
		last = ckpt = 0;
		unsynced = false;
		why[0] = '\0';
		for (j = list; j != NULL && why[0] == '\0'; j = j->next) {
			if (j->snap != NULL) {
				if (fd_datasync(s->data_fd) == -1 ||
				    wal_checkpoint(s->wal, j->snap,
				    j->snaplen) == -1)
					snprintf(why, sizeof why,
					    "checkpoint: %s", strerror(errno));
				else {
					ckpt = j->seq;
					unsynced = false;
				}
			} else if ((rc = wal_append(s->wal, j->rec,
			    j->len)) != 0)
				snprintf(why, sizeof why, "store log: %s",
				    rc == 1 ? "a record larger than the log" :
				    strerror(errno));
			else
				unsynced = true;
			if (why[0] == '\0')
				last = j->seq;
		}
		if (why[0] == '\0' && unsynced && wal_sync(s->wal) == -1)
			snprintf(why, sizeof why, "store log: %s",
			    strerror(errno));
		pthread_mutex_lock(&s->mu);
		/* The loop frees them (flush_progress()): memory goes back
		 * to the thread that allocates it. */
		for (j = list; j->next != NULL; j = j->next)
			;
		j->next = s->done_jobs;
		s->done_jobs = list;
		if (why[0] != '\0') {
			snprintf(s->fail_why, sizeof s->fail_why, "%s", why);
			s->failed = true;
		} else {
			s->durable = last;
			if (ckpt != 0)
				s->ckpt_seq = ckpt;
		}
		pthread_cond_broadcast(&s->done);
		if (write(s->efd, &one, sizeof one) == -1) {
			/* The counter is full: it is readable anyway. */
		}
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static void
jobs_free(struct job *j)
{
	struct job *next;

	for (; j != NULL; j = next) {
		next = j->next;
		free(j->rec);
		free(j->snap);
		free(j);
	}
}

static struct rsnap *
rsnap_new(uint64_t seq, MDB_txn *txn)
{
	struct rsnap *r = xcalloc(1, sizeof *r);

	r->seq = seq;
	r->txn = txn;
	return r;
}

static void
rsnap_retire(struct rsnap *r)
{
	r->old = true;
	if (r->lent > 0)
		return;
	mdb_txn_abort(r->txn);
	free(r);
}

/* What the flusher's progress frees, on the loop's side: the read
 * snapshot moves to the last durable commit, and a checkpoint made moves
 * the pin to it. Returns the last durable commit; *rc is STORE_FAILED
 * (store_strerror() saying why) once the flusher has failed. */
static uint64_t
flush_progress(struct lmdb_store *s, int *rc)
{
	struct job *done;
	uint64_t durable, ckpt_seq;
	unsigned i, k;
	bool failed;

	pthread_mutex_lock(&s->mu);
	durable = s->durable;
	ckpt_seq = s->ckpt_seq;
	failed = s->failed;
	if (failed)
		snprintf(s->base.err, sizeof s->base.err, "%s", s->fail_why);
	done = s->done_jobs;
	s->done_jobs = NULL;
	pthread_mutex_unlock(&s->mu);
	jobs_free(done);
	*rc = failed ? STORE_FAILED : STORE_OK;
	for (i = 0; i < s->npend && s->pend[i].seq <= ckpt_seq; i++)
		;
	if (i > 0) {
		if (s->pin != NULL)
			mdb_txn_abort(s->pin);
		for (k = 0; k + 1 < i; k++)
			mdb_txn_abort(s->pend[k].pin);
		s->pin = s->pend[i - 1].pin;
		memmove(s->pend, s->pend + i, (s->npend - i) * sizeof *s->pend);
		s->npend -= i;
	}
	for (i = 1; i < s->nsnaps && s->snaps[i]->seq <= durable; i++)
		;
	if (i > 1) {
		for (k = 0; k + 1 < i; k++)
			rsnap_retire(s->snaps[k]);
		memmove(s->snaps, s->snaps + i - 1,
		    (s->nsnaps - (i - 1)) * sizeof *s->snaps);
		s->nsnaps -= i - 1;
	}
	return durable;
}

/* A failure after which nothing more may be made durable (a checkpoint
 * or its reader that failed): the flusher stops, and store_durable() and
 * every commit that waits report STORE_FAILED from now on. Returns -1. */
static int
store_broken(struct lmdb_store *s, const char *why)
{
	uint64_t one = 1;

	log_error("store: %s", why);
	snprintf(s->base.err, sizeof s->base.err, "%s", why);
	if (!s->flusher_on)
		return -1;
	pthread_mutex_lock(&s->mu);
	if (!s->failed)
		snprintf(s->fail_why, sizeof s->fail_why, "%s", why);
	s->failed = true;
	pthread_cond_broadcast(&s->done);
	pthread_cond_signal(&s->work);
	pthread_mutex_unlock(&s->mu);
	if (write(s->efd, &one, sizeof one) == -1) {
		/* The counter is full: it is readable anyway. */
	}
	return -1;
}

/* Waits until commit seq is durable: STORE_OK or STORE_FAILED. */
static int
flush_wait(struct lmdb_store *s, uint64_t seq)
{
	int rc;

	pthread_mutex_lock(&s->mu);
	while (s->durable < seq && !s->failed)
		pthread_cond_wait(&s->done, &s->mu);
	pthread_mutex_unlock(&s->mu);
	flush_progress(s, &rc);
	return rc;
}

/* After a commit of LMDB (which syncs nothing: MDB_NOSYNC): its record
 * handed to the flusher, with a read snapshot as of it (reads see it once
 * it is durable), and when a checkpoint is due, its meta pages and the
 * reader that will keep its pages. *seq_out gets its number; with seq_out
 * NULL it returns once the commit is durable. 0, or -1 with why set. */
static int
log_commit(struct lmdb_store *s, uint64_t *seq_out, char *why, size_t whylen)
{
	MDB_envinfo info;
	struct job *j;
	MDB_txn *r = NULL, *pin = NULL;
	int mrc;

	/* Room for one more snapshot and checkpoint: the flusher is far
	 * behind, wait for it. */
	if ((s->nsnaps >= SNAPS_MAX || s->npend >= PEND_MAX) &&
	    flush_wait(s, s->seq) != STORE_OK) {
		snprintf(why, whylen, "%.190s", s->base.err);
		return -1;
	}
	j = xcalloc(1, sizeof *j);
	j->seq = s->seq + 1;
	j->rec = s->rec;
	j->len = s->rec_len;
	s->rec = NULL;
	s->rec_len = s->rec_cap = 0;
	if (ckpt_due(s) || j->len + WAL_REC_HEAD + 8 + s->log_bytes >
	    wal_capacity(s->wal)) {
		j->snap = xmalloc(WAL_SNAP_MAX);
		if (snap_read(s, j->snap, &j->snaplen) == -1) {
			snprintf(why, whylen, "checkpoint: %s",
			    strerror(errno));
			goto fail;
		}
		if ((mrc = mdb_txn_begin(s->env, NULL, MDB_RDONLY,
		    &pin)) != 0) {
			snprintf(why, whylen, "checkpoint: reader: %s",
			    mdb_strerror(mrc));
			goto fail;
		}
	}
	if ((mrc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &r)) != 0) {
		snprintf(why, whylen, "snapshot: %s", mdb_strerror(mrc));
		goto fail;
	}
	s->seq = j->seq;
	if (pin != NULL) {
		s->pend[s->npend].seq = j->seq;
		s->pend[s->npend++].pin = pin;
		s->log_bytes = 0;
		mdb_env_info(s->env, &info);
		s->ckpt_pgno = info.me_last_pgno;
		clock_gettime(CLOCK_MONOTONIC, &s->ckpt_at);
	} else
		s->log_bytes += j->len + WAL_REC_HEAD;
	s->snaps[s->nsnaps++] = rsnap_new(j->seq, r);
	/* j is the flusher's from here. */
	pthread_mutex_lock(&s->mu);
	*s->jobs_tail = j;
	s->jobs_tail = &j->next;
	pthread_mutex_unlock(&s->mu);
	/* Signalled after the unlock: the flusher, woken, does not find the
	 * mutex still held (a second sleep and wake-up for nothing). */
	pthread_cond_signal(&s->work);
	/* The pages the checkpoint keeps have used a quarter of a map that
	 * may grow: it grows now (a checkpoint with it), once per doubling,
	 * rather than checkpoints coming ever more often in a small map. */
	mdb_env_info(s->env, &info);
	if (info.me_mapsize < s->map_max &&
	    (uint64_t)(info.me_last_pgno - s->ckpt_pgno) * s->psize >=
	    info.me_mapsize / 4 && map_double(s) == -1) {
		snprintf(why, whylen, "%.190s", s->base.err);
		return -1;
	}
	if (seq_out != NULL) {
		*seq_out = s->seq;
		return 0;
	}
	if (flush_wait(s, s->seq) != STORE_OK) {
		snprintf(why, whylen, "%.190s", s->base.err);
		return -1;
	}
	return 0;
fail:
	if (pin != NULL)
		mdb_txn_abort(pin);
	free(j->rec);
	free(j->snap);
	free(j);
	return -1;
}

/* The read snapshots, all durable (the flusher idle), dropped; and one
 * again, of the store as it is. */
static void
snaps_drop(struct lmdb_store *s)
{
	unsigned i;

	for (i = 0; i < s->nsnaps; i++)
		rsnap_retire(s->snaps[i]);
	s->nsnaps = 0;
}

static int
snaps_start(struct lmdb_store *s, char *why, size_t whylen)
{
	MDB_txn *txn;
	int mrc;

	if ((mrc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0) {
		snprintf(why, whylen, "store %.200s: snapshot: %s", s->dir,
		    mdb_strerror(mrc));
		return -1;
	}
	s->snaps[0] = rsnap_new(s->seq, txn);
	s->nsnaps = 1;
	return 0;
}

/* Starts the flusher, once the store is open, recovered and pinned. */
static int
flusher_start(struct lmdb_store *s, char *why, size_t whylen)
{
	int mrc;

	if ((mrc = mdb_env_get_fd(s->env, &s->data_fd)) != 0) {
		snprintf(why, whylen, "store %.200s: %s", s->dir,
		    mdb_strerror(mrc));
		return -1;
	}
	if (snaps_start(s, why, whylen) == -1)
		return -1;
	s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	s->jobs = NULL;
	s->jobs_tail = &s->jobs;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->work, NULL);
	pthread_cond_init(&s->done, NULL);
	if (s->efd == -1 ||
	    pthread_create(&s->flusher, NULL, flusher_main, s) != 0) {
		snprintf(why, whylen,
		    "store %.200s: cannot start its flusher: %s", s->dir,
		    strerror(errno));
		return -1;
	}
	s->flusher_on = true;
	return 0;
}

/* Lets the flusher finish what it has and stops it; the read snapshots
 * and the pending pins go. */
static void
flusher_stop(struct lmdb_store *s)
{
	unsigned i;
	int rc;

	if (!s->flusher_on)
		return;
	flush_wait(s, s->seq);
	flush_progress(s, &rc);
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_cond_signal(&s->work);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->flusher, NULL);
	s->flusher_on = false;
	jobs_free(s->jobs);	/* left by a flusher that failed */
	s->jobs = NULL;
	jobs_free(s->done_jobs);
	s->done_jobs = NULL;
	snaps_drop(s);
	for (i = 0; i < s->npend; i++)
		mdb_txn_abort(s->pend[i].pin);
	s->npend = 0;
	close(s->efd);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->work);
	pthread_cond_destroy(&s->done);
}

static int
lm_wait_fd(struct store *base)
{
	struct lmdb_store *s = (struct lmdb_store *)base;

	return s->flusher_on ? s->efd : -1;
}

static uint64_t
lm_durable(struct store *base, int *rc)
{
	struct lmdb_store *s = (struct lmdb_store *)base;
	uint64_t n;

	*rc = STORE_OK;
	if (!s->flusher_on)
		return s->seq;
	if (read(s->efd, &n, sizeof n) == -1) {
		/* Nothing new (EAGAIN): the state is read anyway. */
	}
	return flush_progress(s, rc);
}

static int
lm_wait(struct store *base, uint64_t seq)
{
	struct lmdb_store *s = (struct lmdb_store *)base;

	return s->flusher_on ? flush_wait(s, seq) : STORE_OK;
}

static unsigned
lm_inflight(struct store *base)
{
	struct lmdb_store *s = (struct lmdb_store *)base;
	int rc;

	if (!s->flusher_on)
		return 0;
	return (unsigned)(s->seq - flush_progress(s, &rc));
}

struct replay_ctx {
	struct lmdb_store *s;
	MDB_txn *txn;
};

/* Replays one record of the log (see rec_add()). */
static int
replay_one(void *ctx, const unsigned char *p, size_t n)
{
	struct replay_ctx *rc = ctx;
	struct lmdb_store *s = rc->s;
	MDB_txn *txn = rc->txn;
	const unsigned char *end = p + n;
	MDB_val k, v;
	int op, idx, mrc;

	while (p < end) {
		if (end - p < 4)
			return MDB_CORRUPTED;
		op = p[0];
		idx = p[1];
		k.mv_size = (size_t)be_get(p + 2, 2);
		p += 4;
		if (op == REC_PUT) {
			if (end - p < 4)
				return MDB_CORRUPTED;
			v.mv_size = (size_t)be_get(p, 4);
			p += 4;
		} else if (op == REC_DEL)
			v.mv_size = 0;
		else
			return MDB_CORRUPTED;
		if ((unsigned)idx >= s->ndbs ||
		    (size_t)(end - p) < k.mv_size + v.mv_size)
			return MDB_CORRUPTED;
		k.mv_data = (void *)p;
		v.mv_data = (void *)(p + k.mv_size);
		p += k.mv_size + v.mv_size;
		mrc = op == REC_PUT ? mdb_put(txn, s->dbis[idx], &k, &v, 0) :
		    mdb_del(txn, s->dbis[idx], &k, NULL);
		if (mrc != 0)
			return mrc;
	}
	return 0;
}

/* Grows the map to size at open (the replay, the migration: their write
 * transaction aborted after MDB_MAP_FULL), the pin held. LMDB resizes only
 * with no transaction of this process open, the pin's read-only one too
 * (map_double() drops it for the same reason): the pin dropped, the map
 * resized, the pin taken again. 0 or an LMDB error.
 *
 * The pin exists so that the checkpoint's pages (those a power cut sends
 * the store back to) are not reused before the next checkpoint. Nothing
 * writes while it is dropped, but it comes back on the last commit, which
 * may be one later than the checkpoint's snapshot: in the replay, the
 * pin was taken before open_dbs() committed (creating databases); in the
 * migration, replay()'s checkpoint re-pinned it and nothing has committed
 * since. LMDB reuses the pages a commit T freed only once every reader is
 * past T (mdb_page_alloc: a freeDB record of txnid T is taken only when
 * T < the oldest reader's txnid), so a pin on T still keeps what T freed
 * from the checkpoint's snapshot, T - 1: a pin one commit later keeps the
 * checkpoint whole. Two or more commits later it would not: refused
 * (MDB_BAD_TXN), which no caller can reach today. */
static int
pin_resize(struct lmdb_store *s, uint64_t size)
{
	size_t was = s->pin != NULL ? mdb_txn_id(s->pin) : 0;
	int mrc, prc;

	if (s->pin != NULL)
		mdb_txn_abort(s->pin);
	s->pin = NULL;
	mrc = mdb_env_set_mapsize(s->env, size);
	if (was == 0)
		return mrc;
	if ((prc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &s->pin)) != 0) {
		s->pin = NULL;
		return prc;
	}
	if (mdb_txn_id(s->pin) > was + 1)
		return MDB_BAD_TXN;
	return mrc;
}

/* After MDB_MAP_FULL in the replay or the migration (what: "recovery",
 * "migrating"): the map doubled, up to map_max, for the caller to try
 * again; 0, or nonzero (the map at its limit, or LMDB's error) to give
 * up. */
static int
grow_again(struct lmdb_store *s, const char *what)
{
	uint64_t size = lm_map_size(&s->base);
	int mrc;

	if (size >= s->map_max)
		return MDB_MAP_FULL;
	if ((mrc = pin_resize(s, size * 2 > s->map_max ? s->map_max :
	    size * 2)) != 0)
		return mrc;
	log_info("store: %s: the map grown to %llu bytes, again", what,
	    (unsigned long long)lm_map_size(&s->base));
	return 0;
}

/* Brings the store up to date from the log: every record since the
 * checkpoint applied in one transaction, then a checkpoint. */
static int
replay(struct lmdb_store *s, char *why, size_t whylen)
{
	struct replay_ctx rc = { s, NULL };
	MDB_txn *txn;
	uint64_t n;
	int mrc;

	for (;;) {
		if ((mrc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
			break;
		rc.txn = txn;
		mrc = wal_replay(s->wal, replay_one, &rc, &n);
		if (mrc == MDB_MAP_FULL) {
			mdb_txn_abort(txn);
			if ((mrc = grow_again(s, "recovery")) != 0)
				break;
			continue;
		}
		if (mrc == -1) {
			mdb_txn_abort(txn);
			snprintf(why, whylen, "store %s: reading the log: %s",
			    s->dir, strerror(errno));
			return -1;
		}
		if (mrc != 0 || n == 0) {
			mdb_txn_abort(txn);
			break;
		}
		if ((mrc = mdb_txn_commit(txn)) != 0)
			break;
		log_info("store: recovery: %llu commits replayed from the log",
		    (unsigned long long)n);
		return ckpt(s, why, whylen);
	}
	if (mrc == 0)		/* nothing to replay: a checkpoint all the
				 * same, of what opening may have written */
		return ckpt(s, why, whylen);
	snprintf(why, whylen, "store %s: replaying the log: %s", s->dir,
	    mdb_strerror(mrc));
	return -1;
}

/* The rows between two calls of the progress hook (store_set_progress). */
#define MIGRATE_PROGRESS_ROWS 100000

/* A row of schema 1's table i (key k) in the member rows: its key with the
 * kind after the member, as key_make() puts it, by key_row() (a log's key
 * is its whole first part, before [at L][id L]). false when that first
 * part has no NUL after it (no key schema 1 wrote) or it is too long. */
static bool
migrate_key(unsigned i, const MDB_val *k, struct key *out)
{
	const unsigned char *p = k->mv_data;
	size_t len;

	if (k->mv_size + 1 > sizeof out->b)
		return false;
	if (lm_dbs_1[i].kind >= K_LOG) {
		if (k->mv_size < 17 || p[k->mv_size - 17] != '\0')
			return false;
		len = k->mv_size - 17;
	} else if ((len = key_member(p, k->mv_size)) == k->mv_size)
		return false;
	key_row(out, p, len, (unsigned char)lm_dbs_1[i].kind);
	memcpy(out->b + out->n, p + len + 1, k->mv_size - len - 1);
	out->n += k->mv_size - len - 1;
	return true;
}

/* Moves every row of a store of schema 1 (its log replayed) into the member
 * rows, in one transaction that also drops its old databases and writes
 * the schema; then a checkpoint (data.mdb synced, the log emptied). A
 * crash before the checkpoint finds the log's checkpoint of schema 1,
 * whose pages the pin kept: the old store, whole, migrated again; after
 * it, the new one. 0, or -1 with why set. */
static int
migrate(struct lmdb_store *s, char *why, size_t whylen)
{
	struct timespec t0, t1;
	MDB_cursor *c;
	MDB_txn *txn;
	MDB_val k, v, nk;
	struct key key;
	uint64_t rows;
	unsigned char b[4];
	unsigned i;
	int mrc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		rows = 0;
		store_progress("migrating the store to schema %d: 0 rows",
		    STORE_SCHEMA);
		if ((mrc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
			break;
		mrc = mdb_dbi_open(txn, "member_rows", MDB_CREATE, &s->rows);
		for (i = 0; mrc == 0 && i < LM_NDBS_1; i++) {
			if (lm_dbs_1[i].kind == 0)
				continue;
			/* By name in this transaction: a drop in one that
			 * then failed (MDB_MAP_FULL) closed the handle. */
			if ((mrc = mdb_dbi_open(txn, lm_dbs_1[i].name, 0,
			    &s->old[i])) != 0 ||
			    (mrc = mdb_cursor_open(txn, s->old[i], &c)) != 0)
				break;
			for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
			    mrc == 0;
			    mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
				if (!migrate_key(i, &k, &key)) {
					mrc = MDB_CORRUPTED;
					log_error("store: migrating: database %s: a key of %zu bytes of no member row",
					    lm_dbs_1[i].name, k.mv_size);
					break;
				}
				nk = key_val(&key);
				mrc = mdb_put(txn, s->rows, &nk, &v, 0);
				if (mrc != 0)
					break;
				if (++rows % MIGRATE_PROGRESS_ROWS == 0)
					store_progress("migrating the store to schema %d: %llu rows",
					    STORE_SCHEMA, (unsigned long long)rows);
			}
			mdb_cursor_close(c);
			if (mrc == MDB_NOTFOUND)
				mrc = mdb_drop(txn, s->old[i], 1);
		}
		if (mrc == 0) {
			k.mv_size = strlen("schema") + 1;
			k.mv_data = "schema";
			be_put(b, STORE_SCHEMA, 4);
			v.mv_size = 4;
			v.mv_data = b;
			mrc = mdb_put(txn, s->meta.dbi, &k, &v, 0);
		}
		if (mrc == MDB_MAP_FULL) {
			mdb_txn_abort(txn);
			if ((mrc = grow_again(s, "migrating")) != 0)
				break;
			continue;
		}
		if (mrc != 0) {
			mdb_txn_abort(txn);
			break;
		}
		store_progress("migrating the store to schema %d: %llu rows, "
		    "committing", STORE_SCHEMA, (unsigned long long)rows);
		if ((mrc = mdb_txn_commit(txn)) != 0)
			break;
		/* The databases of schema 2, by their names again. */
		if (open_dbs(s, s->dir, why, whylen) == -1)
			return -1;
		dbi_tables(s);
		store_progress("migrating the store to schema %d: %llu rows, "
		    "a checkpoint", STORE_SCHEMA, (unsigned long long)rows);
		if (ckpt(s, why, whylen) == -1)
			return -1;
		store_progress("migrated the store to schema %d: %llu rows",
		    STORE_SCHEMA, (unsigned long long)rows);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		log_info("store: migrated schema 1 to %d: %llu rows in %.3f s",
		    STORE_SCHEMA, (unsigned long long)rows,
		    (double)(t1.tv_sec - t0.tv_sec) +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
		return 0;
	}
	if (mrc == MDB_MAP_FULL) {
		/* The rows written twice while the pin keeps the old pages:
		 * about twice the store's pages (measured: 130 MB of schema 1
		 * migrated in a map of 212 MB). */
		MDB_envinfo info;
		MDB_stat st;
		uint64_t used = 0;

		if (mdb_env_info(s->env, &info) == 0 &&
		    mdb_env_stat(s->env, &st) == 0)
			used = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
		snprintf(why, whylen, "store %s: migrating this store to schema %d "
		    "needs room for both layouts at once, about %llu MiB (twice "
		    "the store's pages); --map-size-max is %llu MiB: raise it "
		    "(--map-size-max or map_size_max) for this start, with as "
		    "much free disk; the store is left as it was", s->dir,
		    STORE_SCHEMA, (unsigned long long)((2 * used + (1 << 20) - 1) >> 20),
		    (unsigned long long)(s->map_max >> 20));
		return -1;
	}
	snprintf(why, whylen, "store %s: migrating schema 1 to %d: %s", s->dir,
	    STORE_SCHEMA, mdb_strerror(mrc));
	return -1;
}

static int
lm_room(struct store *base)
{
	struct lmdb_store *s = (struct lmdb_store *)base;

	return prealloc(s, base->err, sizeof base->err);
}

static void
lm_begin(struct stx *t)
{
	struct lmdb_stx *lt = (struct lmdb_stx *)t;
	int mrc;

	if (t->read_only && t->parent == NULL && ls(t)->flusher_on) {
		/* Reads see the last durable commit. */
		int rc;

		flush_progress(ls(t), &rc);
		lt->lent = ls(t)->snaps[0];
		lt->lent->lent++;
		lt->txn = lt->lent->txn;
		return;
	}
	if (!t->read_only) {
		/* A top-level transaction's record starts empty; a child's
		 * part of it is cut off again if it aborts. */
		if (t->parent == NULL)
			ls(t)->rec_len = 0;
		lt->rec_mark = ls(t)->rec_len;
	}
	mrc = mdb_txn_begin(ls(t)->env, t->parent ? tx(t->parent) : NULL,
	    t->read_only ? MDB_RDONLY : 0, &lt->txn);
	if (mrc != 0) {
		lt->txn = NULL;
		stx_check(t, mrc, "begin");
	}
}

static void
lm_commit(struct stx *t, uint64_t *seq)
{
	struct lmdb_stx *lt = (struct lmdb_stx *)t;
	struct lmdb_store *s = ls(t);
	MDB_envinfo info;
	MDB_stat st;
	uint64_t before, grown;
	char why[200];
	int mrc;

	if (seq != NULL)
		*seq = s->seq;	/* what it saw; its own, if it writes */
	if (lt->lent != NULL) {
		/* The store's, not this transaction's. */
		if (--lt->lent->lent == 0 && lt->lent->old)
			rsnap_retire(lt->lent);
		return;
	}
	/* LMDB frees the transaction whether its commit succeeds or not. */
	if (t->parent != NULL || t->read_only || !lt->dirty) {
		if (t->parent != NULL && lt->dirty)
			mark_dirty(t->parent);
		if (stx_check(t, mdb_txn_commit(lt->txn), "commit") &&
		    !t->read_only)
			s->rec_len = lt->rec_mark;	/* none of it */
		return;
	}
	/* A top-level commit that writes: room first. */
	if (prealloc(s, why, sizeof why) == -1) {
		mdb_txn_abort(lt->txn);
		store_fail(t, STORE_NO_SPACE, "%s", why);
		return;
	}
	mdb_env_info(s->env, &info);
	before = info.me_last_pgno;
	mrc = mdb_txn_commit(lt->txn);
	if (mrc != 0) {
		/* What was allocated ahead is allocated again from the start. */
		s->alloc_end = 0;
		s->rec_len = 0;
		stx_check(t, mrc, "commit");
		return;
	}
	mdb_env_info(s->env, &info);
	if (info.me_last_pgno > before && mdb_env_stat(s->env, &st) == 0) {
		grown = ((uint64_t)info.me_last_pgno - before) * st.ms_psize;
		if (grown > s->growth_max)
			s->growth_max = grown;
	}
	/* LMDB wrote the pages and synced nothing: the log makes it
	 * durable. A failure here leaves a commit that may not survive a
	 * crash: the caller must not answer it, and cannot go on. */
	if (log_commit(s, seq, why, sizeof why) == -1)
		store_fail(t, STORE_FAILED, "%s", why);
}

static void
lm_abort(struct stx *t)
{
	struct lmdb_stx *lt = (struct lmdb_stx *)t;

	if (lt->lent != NULL) {
		if (--lt->lent->lent == 0 && lt->lent->old)
			rsnap_retire(lt->lent);
		return;
	}
	if (lt->txn == NULL)
		return;
	mdb_txn_abort(lt->txn);
	if (!t->read_only)
		ls(t)->rec_len = lt->rec_mark;
}

static uint64_t
lm_writes(struct store *base)
{
	return ((struct lmdb_store *)base)->nwrites;
}

static uint64_t
lm_next_id(struct stx *t)
{
	uint64_t id = meta_get_u64(t, "next_id") + 1;

	meta_put_u64(t, "next_id", id);
	return id;
}

static int64_t
lm_get_vclock(struct stx *t)
{
	return (int64_t)meta_get_u64(t, "vclock");
}

static void
lm_set_vclock(struct stx *t, int64_t now)
{
	meta_put_u64(t, "vclock", (uint64_t)now);
}

static void
lm_counts(struct stx *t, struct store_counts *c)
{
	int i;

	for (i = 0; i < ST_COUNT; i++)
		c->state[i] = meta_get_u64(t, count_name(i));
	c->connections = meta_get_u64(t, "count.connections");
	c->deadlines = meta_get_u64(t, "count.deadlines");
}

/* Invitation records: a fixed header, then from, to, via and note.
 * Version 2 (schema 3) added remind_at and via_len to version 1's header,
 * the via string, and flags 4 (held) and 8 (automatic); a version 1
 * record still reads, as one with none of those. */
#define INV_HEAD_1 68
#define INV_HEAD 77
#define INV_IGNORED 1
#define INV_REPORTED 2
#define INV_HELD 4
#define INV_AUTOMATIC 8

static size_t
inv_encode(const struct inv *inv, unsigned char *b)
{
	unsigned char *p = b;

	*p++ = 2;		/* record version */
	*p++ = inv->state;
	*p++ = inv->priority;
	*p++ = (unsigned char)inv->from_len;
	*p++ = (unsigned char)inv->to_len;
	*p++ = (unsigned char)((inv->ignored ? INV_IGNORED : 0) |
	    (inv->reported ? INV_REPORTED : 0) | (inv->held ? INV_HELD : 0) |
	    (inv->automatic ? INV_AUTOMATIC : 0));	/* flags */
	be_put_next(&p, inv->note_len, 2);
	be_put_next(&p, inv->attempt, 4);
	be_put_next(&p, inv->id, 8);
	be_put_next(&p, (uint64_t)inv->created_at, 8);
	be_put_next(&p, (uint64_t)inv->updated_at, 8);
	be_put_next(&p, (uint64_t)inv->expires_at, 8);
	be_put_next(&p, (uint64_t)inv->stale_at, 8);
	be_put_next(&p, (uint64_t)inv->reminded_at, 8);
	be_put_next(&p, inv->resend_of, 8);
	be_put_next(&p, (uint64_t)inv->remind_at, 8);
	*p++ = (unsigned char)inv->via_len;
	memcpy(p, inv->from, inv->from_len); p += inv->from_len;
	memcpy(p, inv->to, inv->to_len); p += inv->to_len;
	memcpy(p, inv->via, inv->via_len); p += inv->via_len;
	memcpy(p, inv->note, inv->note_len); p += inv->note_len;
	return (size_t)(p - b);
}

static bool
inv_decode(const unsigned char *b, size_t n, struct inv *inv)
{
	const unsigned char *p = b;
	size_t head;

	if (n < INV_HEAD_1 || (b[0] != 1 && b[0] != 2) ||
	    (b[0] == 2 && n < INV_HEAD))
		return false;
	head = b[0] == 1 ? INV_HEAD_1 : INV_HEAD;
	memset(inv, 0, offsetof(struct inv, from));
	inv->state = b[1];
	inv->priority = b[2];
	inv->from_len = b[3];
	inv->to_len = b[4];
	inv->ignored = (b[5] & INV_IGNORED) != 0;
	inv->reported = (b[5] & INV_REPORTED) != 0;
	inv->held = (b[5] & INV_HELD) != 0;
	inv->automatic = (b[5] & INV_AUTOMATIC) != 0;
	inv->note_len = (size_t)be_get(b + 6, 2);
	inv->via_len = b[0] == 1 ? 0 : b[INV_HEAD - 1];
	if (inv->state >= ST_COUNT || inv->priority >= PRIO_COUNT ||
	    inv->from_len > MEMBER_MAX_BYTES || inv->to_len > MEMBER_MAX_BYTES ||
	    inv->via_len > MEMBER_MAX_BYTES ||
	    inv->note_len > NOTE_MAX_BYTES || n != head + inv->from_len +
	    inv->to_len + inv->via_len + inv->note_len)
		return false;
	p = b + 8;
	inv->attempt = be_get_next(&p, 4);
	inv->id = be_get_next(&p, 8);
	inv->created_at = (int64_t)be_get_next(&p, 8);
	inv->updated_at = (int64_t)be_get_next(&p, 8);
	inv->expires_at = (int64_t)be_get_next(&p, 8);
	inv->stale_at = (int64_t)be_get_next(&p, 8);
	inv->reminded_at = (int64_t)be_get_next(&p, 8);
	inv->resend_of = be_get_next(&p, 8);
	if (b[0] == 2) {
		inv->remind_at = (int64_t)be_get_next(&p, 8);
		p++;		/* via_len */
	}
	memcpy(inv->from, p, inv->from_len); p += inv->from_len;
	inv->from[inv->from_len] = '\0';
	memcpy(inv->to, p, inv->to_len); p += inv->to_len;
	inv->to[inv->to_len] = '\0';
	memcpy(inv->via, p, inv->via_len); p += inv->via_len;
	inv->via[inv->via_len] = '\0';
	memcpy(inv->note, p, inv->note_len);
	inv->note[inv->note_len] = '\0';
	return true;
}

static int
lm_inv_get(struct stx *t, uint64_t id, struct inv *out)
{
	struct key k;
	MDB_val v;

	key_make(&k, ls(t)->inv, "L", id);
	if (!get(t, ls(t)->inv, &k, &v, "invitation"))
		return t->rc != STORE_OK ? t->rc : STORE_NOTFOUND;
	if (!inv_decode(v.mv_data, v.mv_size, out)) {
		store_fail(t, STORE_FAILED, "invitation %llu: corrupt record",
		    (unsigned long long)id);
		return STORE_FAILED;
	}
	return STORE_OK;
}

/* The key of a history: the two members in byte order, so that either
 * way finds it. */
static void
hist_key(struct key *k, struct tbl tb, const char *a, size_t alen,
    const char *b, size_t blen, uint64_t id, bool with_id)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);
	const char *lo = a, *hi = b;
	size_t lolen = alen, hilen = blen;

	if (!(c < 0 || (c == 0 && alen < blen))) {
		lo = b;
		lolen = blen;
		hi = a;
		hilen = alen;
	}
	if (with_id)
		key_make(k, tb, "MML", lo, lolen, hi, hilen, id);
	else
		key_make(k, tb, "MM", lo, lolen, hi, hilen);
}

static void
lm_inv_put(struct stx *t, const struct inv *inv, int old_state)
{
	unsigned char b[INV_HEAD + 3 * MEMBER_MAX_BYTES + NOTE_MAX_BYTES];
	struct key k;
	size_t n = inv_encode(inv, b);

	key_make(&k, ls(t)->inv, "L", inv->id);
	put(t, ls(t)->inv, &k, b, n, "invitation");
	if (old_state == ST_COUNT) {
		key_make(&k, ls(t)->sent, "ML", inv->from, inv->from_len,
		    inv->id);
		put(t, ls(t)->sent, &k, "", 0, "sent");
		key_make(&k, ls(t)->recv, "ML", inv->to, inv->to_len, inv->id);
		put(t, ls(t)->recv, &k, "", 0, "received");
		hist_key(&k, ls(t)->hist, inv->from, inv->from_len, inv->to,
		    inv->to_len, inv->id, true);
		put(t, ls(t)->hist, &k, "", 0, "history");
		meta_add(t, count_name(inv->state), 1);
	} else if (old_state != inv->state) {
		meta_add(t, count_name(old_state), -1);
		meta_add(t, count_name(inv->state), 1);
	}
}

/* The ids under [member], newest first, below `before` (0: all). */
static void
scan_ids_back(struct stx *t, struct tbl tb, const char *member, size_t len,
    uint64_t before, store_id_fn fn, void *ctx)
{
	struct scan sc = { .tbl = tb, .tail = 8, .back = true,
	    .what = "scan" };
	struct key from;

	key_make(&sc.prefix, tb, "M", member, len);
	key_make(&from, tb, "ML", member, len, before ? before : UINT64_MAX);
	SCAN_EACH(&sc, t, &from) {
		if (!fn(ctx, scan_u64(&sc, 0)))
			break;
	}
	scan_end(&sc);
}

static void
lm_scan_box(struct stx *t, enum store_box box, const char *member,
    size_t len, uint64_t before, store_id_fn fn, void *ctx)
{
	scan_ids_back(t, box == BOX_SENT ? ls(t)->sent : ls(t)->recv, member,
	    len, before, fn, ctx);
}

static void
lm_scan_history(struct stx *t, const char *a, size_t alen, const char *b,
    size_t blen, store_id_fn fn, void *ctx)
{
	struct scan sc = { .tbl = ls(t)->hist, .tail = 8, .what = "scan" };

	hist_key(&sc.prefix, ls(t)->hist, a, alen, b, blen, 0, false);
	SCAN_EACH(&sc, t, &sc.prefix) {
		if (!fn(ctx, scan_u64(&sc, 0)))
			break;
	}
	scan_end(&sc);
}

static void
lm_pair_get(struct stx *t, const char *from, size_t flen, const char *to,
    size_t tlen, struct pair *out)
{
	const unsigned char *p;
	struct key k;
	MDB_val v;

	key_make(&k, ls(t)->pair, "MM", from, flen, to, tlen);
	if (!get(t, ls(t)->pair, &k, &v, "pair") || v.mv_size != 24)
		return;
	p = v.mv_data;
	out->open_id = be_get(p, 8);
	out->cooldown_until = (int64_t)be_get(p + 8, 8);
	out->withdrawals = (uint32_t)be_get(p + 16, 4);
	out->attempts = (uint32_t)be_get(p + 20, 4);
}

static void
lm_pair_put(struct stx *t, const char *from, size_t flen, const char *to,
    size_t tlen, const struct pair *pr)
{
	unsigned char b[24];
	struct key k;

	key_make(&k, ls(t)->pair, "MM", from, flen, to, tlen);
	be_put(b, pr->open_id, 8);
	be_put(b + 8, (uint64_t)pr->cooldown_until, 8);
	be_put(b + 16, pr->withdrawals, 4);
	be_put(b + 20, pr->attempts, 4);
	put(t, ls(t)->pair, &k, b, sizeof b, "pair");
}

static int64_t
lm_conn_get(struct stx *t, const char *a, size_t alen, const char *b,
    size_t blen)
{
	struct key k;

	key_make(&k, ls(t)->conn, "MM", a, alen, b, blen);
	return (int64_t)get_u64(t, ls(t)->conn, &k, "connection");
}

static void
lm_conn_put(struct stx *t, const char *a, size_t alen, const char *b,
    size_t blen, int64_t since)
{
	bool existed = lm_conn_get(t, a, alen, b, blen) != 0;
	unsigned char v[8];
	struct key k;

	be_put(v, (uint64_t)since, 8);
	key_make(&k, ls(t)->conn, "MM", a, alen, b, blen);
	put(t, ls(t)->conn, &k, v, 8, "connection");
	key_make(&k, ls(t)->conn, "MM", b, blen, a, alen);
	put(t, ls(t)->conn, &k, v, 8, "connection");
	if (!existed)
		meta_add(t, "count.connections", 1);
}

static void
lm_conn_del(struct stx *t, const char *a, size_t alen, const char *b,
    size_t blen)
{
	struct key k;
	bool gone;

	key_make(&k, ls(t)->conn, "MM", a, alen, b, blen);
	gone = del(t, ls(t)->conn, &k, "connection");
	key_make(&k, ls(t)->conn, "MM", b, blen, a, alen);
	del(t, ls(t)->conn, &k, "connection");
	if (gone)
		meta_add(t, "count.connections", -1);
}

static void
lm_scan_conns(struct stx *t, const char *member, size_t len,
    const char *after, size_t after_len, store_conn_fn fn, void *ctx)
{
	struct scan sc = { .tbl = ls(t)->conn, .what = "scan" };
	struct key from;
	const char *other;
	size_t olen;

	key_make(&sc.prefix, ls(t)->conn, "M", member, len);
	if (after != NULL)
		key_make(&from, ls(t)->conn, "MM", member, len, after,
		    after_len);
	else
		from = sc.prefix;
	SCAN_EACH(&sc, t, &from) {
		if (sc.k.mv_size < sc.prefix.n + 2 || sc.v.mv_size != 8)
			break;
		/* Strictly after `after`. */
		if (after != NULL && sc.k.mv_size == from.n &&
		    memcmp(sc.k.mv_data, from.b, from.n) == 0)
			continue;
		other = (const char *)sc.k.mv_data + sc.prefix.n;
		olen = sc.k.mv_size - sc.prefix.n - 1;
		if (!fn(ctx, other, olen, (int64_t)be_get(sc.v.mv_data, 8)))
			break;
	}
	scan_end(&sc);
}

/* One member's side of a leapfrog: a cursor on its connection rows. */
struct conn_side {
	struct key prefix;	/* [member NUL kind] */
	MDB_cursor *c;
	MDB_val k, v;
	const char *other;	/* the other id the cursor is on */
	size_t olen;
};

/* Moves side s to its first connection at or after other (strictly after
 * when strict): true when there is one (s->other, s->olen), false at the
 * end of its connections or on a failure (recorded in t). */
static bool
conn_seek(struct stx *t, struct conn_side *s, const char *other,
    size_t olen, bool strict)
{
	struct key k = s->prefix;
	int mrc;

	memcpy(k.b + k.n, other, olen);
	k.n += olen;
	k.b[k.n++] = '\0';
	s->k = key_val(&k);
	mrc = mdb_cursor_get(s->c, &s->k, &s->v, MDB_SET_RANGE);
	if (strict && mrc == 0 && s->k.mv_size == k.n &&
	    memcmp(s->k.mv_data, k.b, k.n) == 0)
		mrc = mdb_cursor_get(s->c, &s->k, &s->v, MDB_NEXT);
	if (mrc != 0) {
		if (mrc != MDB_NOTFOUND)
			stx_check(t, mrc, "mutual connections");
		return false;
	}
	if (s->k.mv_size < s->prefix.n + 2 || s->v.mv_size != 8 ||
	    memcmp(s->k.mv_data, s->prefix.b, s->prefix.n) != 0)
		return false;
	s->other = (const char *)s->k.mv_data + s->prefix.n;
	s->olen = s->k.mv_size - s->prefix.n - 1;
	return true;
}

/* The order of two member ids as their keys sort ([id NUL]). */
static int
id_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	return c != 0 ? c : (alen > blen) - (alen < blen);
}

/* A leapfrog of a's and b's connections: each side seeks the other's id,
 * so every pair of seeks moves both past at least one of their own rows
 * and the seeks are at most twice the smaller list (each O(log n)). */
static void
lm_scan_mutual(struct stx *t, const char *a, size_t alen, const char *b,
    size_t blen, const char *after, size_t after_len, uint64_t hint,
    store_mutual_fn fn, void *ctx)
{
	struct conn_side sa, sb;
	char cur[MEMBER_MAX_BYTES];
	size_t clen;
	bool on;
	int c;

	(void)hint;
	memset(&sa, 0, sizeof sa);
	memset(&sb, 0, sizeof sb);
	key_make(&sa.prefix, ls(t)->conn, "M", a, alen);
	key_make(&sb.prefix, ls(t)->conn, "M", b, blen);
	if (stx_check(t, mdb_cursor_open(tx(t), ls(t)->conn.dbi, &sa.c),
	    "cursor"))
		return;
	if (stx_check(t, mdb_cursor_open(tx(t), ls(t)->conn.dbi, &sb.c),
	    "cursor")) {
		mdb_cursor_close(sa.c);
		return;
	}
	if (after != NULL && after_len > MEMBER_MAX_BYTES)
		after_len = MEMBER_MAX_BYTES;
	on = conn_seek(t, &sa, after != NULL ? after : "",
	    after != NULL ? after_len : 0, after != NULL);
	while (on) {
		if (!conn_seek(t, &sb, sa.other, sa.olen, false))
			break;
		c = id_cmp(sa.other, sa.olen, sb.other, sb.olen);
		if (c == 0) {
			/* The callback may read through t: keep the id. */
			clen = sa.olen;
			memcpy(cur, sa.other, clen);
			if (!fn(ctx, cur, clen,
			    (int64_t)be_get(sa.v.mv_data, 8),
			    (int64_t)be_get(sb.v.mv_data, 8)) ||
			    t->rc != STORE_OK)
				break;
			on = conn_seek(t, &sa, cur, clen, true);
		} else {
			on = conn_seek(t, &sa, sb.other, sb.olen, false);
		}
	}
	mdb_cursor_close(sa.c);
	mdb_cursor_close(sb.c);
}

static void
due_key(struct stx *t, struct key *k, const struct due *d)
{
	key_make(k, ls(t)->due, "LBL", (uint64_t)d->at, d->kind, d->id);
}

static void
lm_due_add(struct stx *t, const struct due *d)
{
	struct key k;
	MDB_val v;

	due_key(t, &k, d);
	if (get(t, ls(t)->due, &k, &v, "deadline"))
		return;
	put(t, ls(t)->due, &k, "", 0, "deadline");
	meta_add(t, "count.deadlines", 1);
}

static void
lm_due_del(struct stx *t, const struct due *d)
{
	struct key k;

	due_key(t, &k, d);
	if (del(t, ls(t)->due, &k, "deadline"))
		meta_add(t, "count.deadlines", -1);
}

static bool
lm_due_first(struct stx *t, struct due *out)
{
	struct scan sc = { .tbl = ls(t)->due, .tail = 17,
	    .what = "deadlines" };
	struct key from = { .n = 0 };
	bool found;

	found = scan_seek(&sc, t, &from);
	if (found) {
		out->at = (int64_t)scan_u64(&sc, 0);
		out->kind = ((const unsigned char *)sc.k.mv_data)[8];
		out->id = scan_u64(&sc, 9);
	}
	scan_end(&sc);
	return found;
}

/* Event records: [notify u8][member len u8][at be64][member][data]. */
#define EV_HEAD 10

static uint64_t
lm_event_head(struct stx *t)
{
	return meta_get_u64(t, "event.head");
}

static uint64_t
lm_event_pruned(struct stx *t, const char *member, size_t mlen)
{
	struct key k;

	if (member == NULL)
		return meta_get_u64(t, "event.pruned");
	key_make(&k, ls(t)->mpruned, "M", member, mlen);
	return get_u64(t, ls(t)->mpruned, &k, "pruned");
}

static void
lm_event_add(struct stx *t, uint64_t seq, int64_t at, const char *member,
    size_t mlen, bool notify, const char *data, size_t len)
{
	unsigned char *b = xmalloc(EV_HEAD + mlen + len);
	struct key k;

	b[0] = notify ? 1 : 0;
	b[1] = (unsigned char)mlen;
	be_put(b + 2, (uint64_t)at, 8);
	memcpy(b + EV_HEAD, member, mlen);
	memcpy(b + EV_HEAD + mlen, data, len);
	key_make(&k, ls(t)->ev, "L", seq);
	put(t, ls(t)->ev, &k, b, EV_HEAD + mlen + len, "event");
	free(b);
	if (notify) {
		key_make(&k, ls(t)->mev, "ML", member, mlen, seq);
		put(t, ls(t)->mev, &k, "", 0, "event index");
	}
	meta_put_u64(t, "event.head", seq);
}

/* The event stays, for the `all` feed; it is no longer its member's
 * notification (nor a cursor of theirs to expire when it is pruned). */
static void
lm_event_unnotify(struct stx *t, uint64_t seq)
{
	unsigned char *b;
	struct key k;
	MDB_val v;

	key_make(&k, ls(t)->ev, "L", seq);
	if (!get(t, ls(t)->ev, &k, &v, "event") || v.mv_size < EV_HEAD ||
	    v.mv_size < EV_HEAD + (size_t)((const unsigned char *)v.mv_data)[1] ||
	    !(((const unsigned char *)v.mv_data)[0] & 1))
		return;
	b = xmalloc(v.mv_size);
	memcpy(b, v.mv_data, v.mv_size);
	b[0] = 0;
	put(t, ls(t)->ev, &k, b, v.mv_size, "event");
	key_make(&k, ls(t)->mev, "ML", (const char *)b + EV_HEAD,
	    (size_t)b[1], seq);
	del(t, ls(t)->mev, &k, "event index");
	free(b);
}

static bool
event_decode(const MDB_val *kv, const MDB_val *dv, struct event_rec *e)
{
	const unsigned char *b = dv->mv_data;

	if (kv->mv_size != 8 || dv->mv_size < EV_HEAD ||
	    dv->mv_size < EV_HEAD + (size_t)b[1])
		return false;
	e->seq = be_get(kv->mv_data, 8);
	e->notify = b[0] & 1;
	e->member_len = b[1];
	e->at = (int64_t)be_get(b + 2, 8);
	e->member = (const char *)b + EV_HEAD;
	e->data = (const char *)b + EV_HEAD + e->member_len;
	e->len = dv->mv_size - EV_HEAD - e->member_len;
	return true;
}

/* Every event after `after`, in order, or (member not NULL) member's
 * notifications, through its index. */
static void
lm_event_scan(struct stx *t, uint64_t after, const char *member,
    size_t mlen, store_event_fn fn, void *ctx)
{
	struct scan sc = { .tbl = ls(t)->ev, .what = "events" };
	struct event_rec e;
	struct key from, k;
	MDB_val kv, v;

	if (after == UINT64_MAX)
		return;
	if (member == NULL)
		key_make(&from, ls(t)->ev, "L", after + 1);
	else {
		sc.tbl = ls(t)->mev;
		sc.tail = 8;
		key_make(&sc.prefix, ls(t)->mev, "M", member, mlen);
		key_make(&from, ls(t)->mev, "ML", member, mlen, after + 1);
	}
	SCAN_EACH(&sc, t, &from) {
		kv = sc.k;
		v = sc.v;
		if (member != NULL) {
			key_make(&k, ls(t)->ev, "L", scan_u64(&sc, 0));
			kv = key_val(&k);
			if (!get(t, ls(t)->ev, &k, &v, "event")) {
				if (t->rc != STORE_OK)
					break;
				continue;
			}
		}
		if (!event_decode(&kv, &v, &e)) {
			stx_check(t, MDB_CORRUPTED, "event");
			break;
		}
		if (!fn(ctx, &e))
			break;
	}
	scan_end(&sc);
}

static size_t
lm_event_prune(struct stx *t, int64_t before, size_t max)
{
	struct scan sc = { .tbl = ls(t)->ev, .what = "prune" };
	struct key from = { .n = 0 }, k;
	struct event_rec e;
	unsigned char seqb[8];
	MDB_val ek;
	uint64_t last = 0;
	size_t n = 0;

	SCAN_EACH(&sc, t, &from) {
		if (n >= max || !event_decode(&sc.k, &sc.v, &e) ||
		    e.at > before)
			break;
		if (e.notify) {
			/* The member's cursors before this one expire. */
			key_make(&k, ls(t)->mpruned, "M", e.member,
			    e.member_len);
			be_put(seqb, e.seq, 8);
			put(t, ls(t)->mpruned, &k, seqb, 8, "pruned");
			key_make(&k, ls(t)->mev, "ML", e.member, e.member_len,
			    e.seq);
			del(t, ls(t)->mev, &k, "event index");
		}
		last = e.seq;
		/* The cursor moves on to the next event. */
		ek = sc.k;
		rec_add(t, REC_DEL, ls(t)->ev.dbi, &ek, NULL);
		if (stx_check(t, mdb_cursor_del(sc.c, 0), "prune"))
			break;
		ls(t)->nwrites++;
		mark_dirty(t);
		n++;
	}
	scan_end(&sc);
	if (last > 0)
		meta_put_u64(t, "event.pruned", last);
	return n;
}

static void
lm_log_add(struct stx *t, enum store_log log, const char *key, size_t klen,
    int64_t at, uint64_t id, uint8_t value)
{
	struct key k;

	key_make(&k, ls(t)->logs[log], "MLL", key, klen, (uint64_t)at, id);
	put(t, ls(t)->logs[log], &k, &value, 1, "log");
}

static uint64_t
lm_log_count(struct stx *t, enum store_log log, const char *key,
    size_t klen, int64_t since, uint64_t max, int64_t *oldest)
{
	struct scan sc = { .tbl = ls(t)->logs[log], .tail = 16,
	    .what = "log" };
	struct key from;
	uint64_t n = 0;

	key_make(&sc.prefix, ls(t)->logs[log], "M", key, klen);
	key_make(&from, ls(t)->logs[log], "ML", key, klen,
	    since < 0 ? (uint64_t)0 : (uint64_t)since + 1);
	SCAN_EACH(&sc, t, &from) {
		if (n >= max)
			break;
		if (n++ == 0)
			*oldest = (int64_t)scan_u64(&sc, 0);
	}
	scan_end(&sc);
	return n;
}

static void
lm_log_scan_back(struct stx *t, enum store_log log, const char *key,
    size_t klen, store_log_fn fn, void *ctx)
{
	struct scan sc = { .tbl = ls(t)->logs[log], .tail = 16, .back = true,
	    .what = "log" };
	struct key from;

	key_make(&sc.prefix, ls(t)->logs[log], "M", key, klen);
	key_make(&from, ls(t)->logs[log], "ML", key, klen,
	    (uint64_t)UINT64_MAX);
	SCAN_EACH(&sc, t, &from) {
		if (!fn(ctx, (int64_t)scan_u64(&sc, 0), scan_u64(&sc, 8),
		    sc.v.mv_size > 0 ? *(unsigned char *)sc.v.mv_data : 0))
			break;
	}
	scan_end(&sc);
}

static uint64_t
lm_import_id_get(struct stx *t, const char *id, size_t len)
{
	struct key k;

	key_make(&k, ls(t)->importid, "M", id, len);
	return get_u64(t, ls(t)->importid, &k, "import id");
}

static void
lm_import_id_put(struct stx *t, const char *id, size_t len, uint64_t digest)
{
	struct key k;
	unsigned char v[8];

	key_make(&k, ls(t)->importid, "M", id, len);
	be_put(v, digest, 8);
	put(t, ls(t)->importid, &k, v, 8, "import id");
}

static bool
lm_flag_get(struct stx *t, enum store_flag f, const char *a, size_t alen,
    const char *b, size_t blen)
{
	struct key k;
	MDB_val v;

	key_make(&k, ls(t)->flags[f], "MM", a, alen, b, blen);
	return get(t, ls(t)->flags[f], &k, &v, "flag");
}

static void
lm_flag_set(struct stx *t, enum store_flag f, const char *a, size_t alen,
    const char *b, size_t blen, bool on)
{
	struct key k;

	key_make(&k, ls(t)->flags[f], "MM", a, alen, b, blen);
	if (on)
		put(t, ls(t)->flags[f], &k, "", 0, "flag");
	else
		del(t, ls(t)->flags[f], &k, "flag");
}

static void
lm_scan_flags(struct stx *t, enum store_flag f, const char *a, size_t alen,
    const char *after, size_t after_len, store_member_fn fn, void *ctx)
{
	struct scan sc = { .tbl = ls(t)->flags[f], .what = "scan" };
	struct key from;

	key_make(&sc.prefix, ls(t)->flags[f], "M", a, alen);
	if (after != NULL)
		key_make(&from, ls(t)->flags[f], "MM", a, alen, after,
		    after_len);
	else
		from = sc.prefix;
	SCAN_EACH(&sc, t, &from) {
		if (sc.k.mv_size < sc.prefix.n + 2)
			break;
		if (after != NULL && sc.k.mv_size == from.n &&
		    memcmp(sc.k.mv_data, from.b, from.n) == 0)
			continue;
		if (!fn(ctx, (const char *)sc.k.mv_data + sc.prefix.n,
		    sc.k.mv_size - sc.prefix.n - 1))
			break;
	}
	scan_end(&sc);
}

/* Member records: [from u8][email len u8][restricted_until be64]
 * [open_sent be64][restricted_at be64], then (schema 3) first_seen_at and
 * the settings (store_member_settings_pack()), then the email. A record
 * of schema 2, without the second part, reads as
 * store_member_settings_unpack() reads none. */
#define MEMBER_HEAD_2 26
#define MEMBER_HEAD (MEMBER_HEAD_2 + MEMBER_SETTINGS_BYTES)

static bool
member_decode(const unsigned char *p, size_t n, struct member_rec *out)
{
	size_t head;

	if (n < MEMBER_HEAD_2)
		return false;
	head = n - p[1];
	if (head != MEMBER_HEAD_2 && head != MEMBER_HEAD)
		return false;
	memset(out, 0, sizeof *out);
	out->invitations_from = p[0];
	out->email_len = p[1];
	out->restricted_until = (int64_t)be_get(p + 2, 8);
	out->open_sent = be_get(p + 10, 8);
	out->restricted_at = (int64_t)be_get(p + 18, 8);
	store_member_settings_unpack(p + MEMBER_HEAD_2, head - MEMBER_HEAD_2,
	    out);
	memcpy(out->email, p + head, out->email_len);
	out->email[out->email_len] = '\0';
	return true;
}

static size_t
member_encode(const struct member_rec *r, unsigned char *b)
{
	b[0] = r->invitations_from;
	b[1] = (unsigned char)r->email_len;
	be_put(b + 2, (uint64_t)r->restricted_until, 8);
	be_put(b + 10, r->open_sent, 8);
	be_put(b + 18, (uint64_t)r->restricted_at, 8);
	store_member_settings_pack(r, b + MEMBER_HEAD_2);
	memcpy(b + MEMBER_HEAD, r->email, r->email_len);
	return MEMBER_HEAD + r->email_len;
}

static void
lm_member_get(struct stx *t, const char *m, size_t mlen,
    struct member_rec *out)
{
	struct key k;
	MDB_val v;

	key_make(&k, ls(t)->member, "M", m, mlen);
	if (get(t, ls(t)->member, &k, &v, "member"))
		member_decode(v.mv_data, v.mv_size, out);
}

static void
lm_member_put(struct stx *t, const char *m, size_t mlen,
    const struct member_rec *r)
{
	unsigned char b[MEMBER_HEAD + EMAIL_MAX_BYTES];
	struct key k;
	size_t n = member_encode(r, b);

	key_make(&k, ls(t)->member, "M", m, mlen);
	put(t, ls(t)->member, &k, b, n, "member");
}

static int
lm_plan_get(struct stx *t, uint64_t id, void *buf, size_t cap, size_t *len)
{
	struct key k;
	MDB_val v;

	key_make(&k, ls(t)->plan, "L", id);
	if (!get(t, ls(t)->plan, &k, &v, "plan"))
		return t->rc != STORE_OK ? t->rc : STORE_NOTFOUND;
	if (v.mv_size > cap) {
		store_fail(t, STORE_FAILED, "plan %llu: corrupt record",
		    (unsigned long long)id);
		return STORE_FAILED;
	}
	memcpy(buf, v.mv_data, v.mv_size);
	*len = v.mv_size;
	return STORE_OK;
}

static void
lm_plan_put(struct stx *t, uint64_t id, const void *buf, size_t len)
{
	struct key k;

	key_make(&k, ls(t)->plan, "L", id);
	put(t, ls(t)->plan, &k, buf, len, "plan");
}

static void
lm_plan_index(struct stx *t, const char *m, size_t mlen, uint64_t id)
{
	struct key k;

	key_make(&k, ls(t)->mplan, "ML", m, mlen, id);
	put(t, ls(t)->mplan, &k, "", 0, "plan index");
}

static void
lm_scan_plans(struct stx *t, const char *m, size_t mlen, store_id_fn fn,
    void *ctx)
{
	scan_ids_back(t, ls(t)->mplan, m, mlen, 0, fn, ctx);
}

/* A request id's record: at u64, then the server's record; its entry in
 * request_times goes and comes with it. */
static int
lm_request_get(struct stx *t, const char *id, size_t len, int64_t *at,
    void **rec, size_t *reclen)
{
	struct key k;
	MDB_val v;

	key_make(&k, ls(t)->req, "M", id, len);
	if (!get(t, ls(t)->req, &k, &v, "request"))
		return t->rc != STORE_OK ? t->rc : STORE_NOTFOUND;
	if (v.mv_size < 8) {
		store_fail(t, STORE_FAILED, "request id: corrupt record");
		return STORE_FAILED;
	}
	*at = (int64_t)be_get(v.mv_data, 8);
	*reclen = v.mv_size - 8;
	*rec = xmalloc(*reclen + 1);
	memcpy(*rec, (const unsigned char *)v.mv_data + 8, *reclen);
	return STORE_OK;
}

static void
lm_request_put(struct stx *t, const char *id, size_t len, int64_t at,
    const void *rec, size_t reclen)
{
	struct key k, kt;
	MDB_val v;
	unsigned char *b;

	key_make(&k, ls(t)->req, "M", id, len);
	if (get(t, ls(t)->req, &k, &v, "request") && v.mv_size >= 8) {
		key_make(&kt, ls(t)->reqt, "LM", be_get(v.mv_data, 8), id,
		    len);
		del(t, ls(t)->reqt, &kt, "request time");
	}
	b = xmalloc(8 + reclen);
	be_put(b, (uint64_t)at, 8);
	memcpy(b + 8, rec, reclen);
	put(t, ls(t)->req, &k, b, 8 + reclen, "request");
	free(b);
	key_make(&kt, ls(t)->reqt, "LM", (uint64_t)at, id, len);
	put(t, ls(t)->reqt, &kt, "", 0, "request time");
}

static size_t
lm_request_prune(struct stx *t, int64_t before, size_t max)
{
	struct scan sc = { .tbl = ls(t)->reqt, .what = "request prune" };
	struct key from = { .n = 0 }, k;
	const unsigned char *p;
	MDB_val ek;
	size_t n = 0;

	SCAN_EACH(&sc, t, &from) {
		p = sc.k.mv_data;
		if (n >= max || sc.k.mv_size < 10 ||
		    (int64_t)be_get(p, 8) > before)
			break;
		key_make(&k, ls(t)->req, "M", (const char *)p + 8,
		    sc.k.mv_size - 9);
		del(t, ls(t)->req, &k, "request");
		ek = sc.k;
		rec_add(t, REC_DEL, ls(t)->reqt.dbi, &ek, NULL);
		if (stx_check(t, mdb_cursor_del(sc.c, 0), "request prune"))
			break;
		ls(t)->nwrites++;
		mark_dirty(t);
		n++;
	}
	scan_end(&sc);
	return n;
}

#define INTRO_HEAD 48

static size_t
intro_encode(const struct intro *in, unsigned char *b)
{
	unsigned char *p = b;

	*p++ = 1;		/* record version */
	*p++ = in->state;
	*p++ = in->told ? 1 : 0;
	*p++ = (unsigned char)in->from_len;
	*p++ = (unsigned char)in->via_len;
	*p++ = (unsigned char)in->to_len;
	be_put_next(&p, in->note_len, 2);
	be_put_next(&p, in->id, 8);
	be_put_next(&p, (uint64_t)in->created_at, 8);
	be_put_next(&p, (uint64_t)in->updated_at, 8);
	be_put_next(&p, (uint64_t)in->expires_at, 8);
	be_put_next(&p, in->inv_id, 8);
	memcpy(p, in->from, in->from_len); p += in->from_len;
	memcpy(p, in->via, in->via_len); p += in->via_len;
	memcpy(p, in->to, in->to_len); p += in->to_len;
	memcpy(p, in->note, in->note_len); p += in->note_len;
	return (size_t)(p - b);
}

static bool
intro_decode(const unsigned char *b, size_t n, struct intro *in)
{
	const unsigned char *p;

	if (n < INTRO_HEAD || b[0] != 1)
		return false;
	memset(in, 0, offsetof(struct intro, from));
	in->state = b[1];
	in->told = b[2] != 0;
	in->from_len = b[3];
	in->via_len = b[4];
	in->to_len = b[5];
	in->note_len = (size_t)be_get(b + 6, 2);
	if (in->state >= INTRO_STORED || b[2] > 1 ||
	    in->from_len > MEMBER_MAX_BYTES || in->via_len > MEMBER_MAX_BYTES ||
	    in->to_len > MEMBER_MAX_BYTES || in->note_len > NOTE_MAX_BYTES ||
	    n != INTRO_HEAD + in->from_len + in->via_len + in->to_len +
	    in->note_len)
		return false;
	p = b + 8;
	in->id = be_get_next(&p, 8);
	in->created_at = (int64_t)be_get_next(&p, 8);
	in->updated_at = (int64_t)be_get_next(&p, 8);
	in->expires_at = (int64_t)be_get_next(&p, 8);
	in->inv_id = be_get_next(&p, 8);
	memcpy(in->from, p, in->from_len); p += in->from_len;
	in->from[in->from_len] = '\0';
	memcpy(in->via, p, in->via_len); p += in->via_len;
	in->via[in->via_len] = '\0';
	memcpy(in->to, p, in->to_len); p += in->to_len;
	in->to[in->to_len] = '\0';
	memcpy(in->note, p, in->note_len);
	in->note[in->note_len] = '\0';
	return true;
}

static int
lm_intro_get(struct stx *t, uint64_t id, struct intro *out)
{
	struct key k;
	MDB_val v;

	key_make(&k, ls(t)->intro, "L", id);
	if (!get(t, ls(t)->intro, &k, &v, "introduction"))
		return t->rc != STORE_OK ? t->rc : STORE_NOTFOUND;
	if (!intro_decode(v.mv_data, v.mv_size, out) || out->id != id) {
		store_fail(t, STORE_FAILED, "introduction %llu: corrupt record",
		    (unsigned long long)id);
		return STORE_FAILED;
	}
	return STORE_OK;
}

static void
lm_intro_put(struct stx *t, const struct intro *in)
{
	unsigned char b[INTRO_HEAD + 3 * MEMBER_MAX_BYTES + NOTE_MAX_BYTES];
	struct key k;

	key_make(&k, ls(t)->intro, "L", in->id);
	put(t, ls(t)->intro, &k, b, intro_encode(in, b), "introduction");
	/* The index rows: the same keys each time, put again. */
	key_make(&k, ls(t)->iask, "ML", in->from, in->from_len, in->id);
	put(t, ls(t)->iask, &k, "", 0, "intro_asked");
	key_make(&k, ls(t)->ivia, "ML", in->via, in->via_len, in->id);
	put(t, ls(t)->ivia, &k, "", 0, "intro_via");
}

static void
lm_scan_intros(struct stx *t, enum store_intro_box box, const char *member,
    size_t len, uint64_t before, store_id_fn fn, void *ctx)
{
	scan_ids_back(t, box == IBOX_ASKED ? ls(t)->iask : ls(t)->ivia,
	    member, len, before, fn, ctx);
}

/* member.erase's. */

static void
lm_inv_del(struct stx *t, const struct inv *inv)
{
	struct key k;

	key_make(&k, ls(t)->inv, "L", inv->id);
	if (!del(t, ls(t)->inv, &k, "invitation"))
		return;
	key_make(&k, ls(t)->sent, "ML", inv->from, inv->from_len, inv->id);
	del(t, ls(t)->sent, &k, "sent");
	key_make(&k, ls(t)->recv, "ML", inv->to, inv->to_len, inv->id);
	del(t, ls(t)->recv, &k, "received");
	hist_key(&k, ls(t)->hist, inv->from, inv->from_len, inv->to,
	    inv->to_len, inv->id, true);
	del(t, ls(t)->hist, &k, "history");
	if (inv->state < ST_COUNT)
		meta_add(t, count_name(inv->state), -1);
}

static void
lm_pair_del(struct stx *t, const char *from, size_t flen, const char *to,
    size_t tlen)
{
	struct key k;

	key_make(&k, ls(t)->pair, "MM", from, flen, to, tlen);
	del(t, ls(t)->pair, &k, "pair");
}

static void
lm_log_del(struct stx *t, enum store_log log, const char *key, size_t klen,
    int64_t at, uint64_t id)
{
	struct key k;

	key_make(&k, ls(t)->logs[log], "MLL", key, klen, (uint64_t)at, id);
	del(t, ls(t)->logs[log], &k, "log");
}

static void
lm_plan_del(struct stx *t, const char *m, size_t mlen, uint64_t id)
{
	struct key k;

	key_make(&k, ls(t)->plan, "L", id);
	del(t, ls(t)->plan, &k, "plan");
	key_make(&k, ls(t)->mplan, "ML", m, mlen, id);
	del(t, ls(t)->mplan, &k, "plan index");
}

static void
lm_intro_del(struct stx *t, const struct intro *in)
{
	struct key k;

	key_make(&k, ls(t)->intro, "L", in->id);
	del(t, ls(t)->intro, &k, "introduction");
	key_make(&k, ls(t)->iask, "ML", in->from, in->from_len, in->id);
	del(t, ls(t)->iask, &k, "intro_asked");
	key_make(&k, ls(t)->ivia, "ML", in->via, in->via_len, in->id);
	del(t, ls(t)->ivia, &k, "intro_via");
}

static void
lm_event_redact(struct stx *t, uint64_t seq, const char *data, size_t len,
    bool nobody)
{
	struct event_rec e;
	unsigned char *b;
	struct key k;
	MDB_val kv, v;

	key_make(&k, ls(t)->ev, "L", seq);
	kv = key_val(&k);
	if (!get(t, ls(t)->ev, &k, &v, "event"))
		return;
	if (!event_decode(&kv, &v, &e)) {
		stx_check(t, MDB_CORRUPTED, "event");
		return;
	}
	if (!nobody) {
		/* Its member and feed as they were: only the data. */
		b = xmalloc(EV_HEAD + e.member_len + len);
		memcpy(b, v.mv_data, EV_HEAD + e.member_len);
		memcpy(b + EV_HEAD + e.member_len, data, len);
		put(t, ls(t)->ev, &k, b, EV_HEAD + e.member_len + len,
		    "event");
		free(b);
		return;
	}
	if (e.notify) {
		struct key mk;

		key_make(&mk, ls(t)->mev, "ML", e.member, e.member_len, seq);
		del(t, ls(t)->mev, &mk, "event index");
	}
	b = xmalloc(EV_HEAD + len);
	b[0] = 0;		/* told to nobody */
	b[1] = 0;		/* nobody's */
	be_put(b + 2, (uint64_t)e.at, 8);
	memcpy(b + EV_HEAD, data, len);
	put(t, ls(t)->ev, &k, b, EV_HEAD + len, "event");
	free(b);
}

/* Deletes the rows sc's prefix takes for which keep (NULL: none) is
 * false. */
static void
drop_rows(struct stx *t, struct scan *sc, const struct key *from,
    bool (*keep)(const MDB_val *k, const void *ctx), const void *ctx)
{
	MDB_val k;

	SCAN_EACH(sc, t, from) {
		if (keep != NULL && keep(&sc->k, ctx))
			continue;
		k = sc->k;
		rec_add(t, REC_DEL, sc->tbl.dbi, &k, NULL);
		if (stx_check(t, mdb_cursor_del(sc->c, 0), sc->what))
			break;
		ls(t)->nwrites++;
		mark_dirty(t);
	}
	scan_end(sc);
}

/* A member's rows of table tb: every one. */
static void
drop_member_rows(struct stx *t, struct tbl tb, const char *m, size_t mlen)
{
	struct scan sc = { .tbl = tb, .what = "erase" };

	key_make(&sc.prefix, tb, "M", m, mlen);
	drop_rows(t, &sc, &sc.prefix, NULL, NULL);
}

/* Not a row of the notes log under "<member>:<16 hex digits>" (ctx: the
 * member's length). */
static bool
not_members_note(const MDB_val *k, const void *ctx)
{
	size_t mlen = *(const size_t *)ctx;
	const unsigned char *p = k->mv_data;
	size_t m = key_member(p, k->mv_size);

	return m != mlen + 17 || m + 1 >= k->mv_size ||
	    p[m + 1] != K_LOG + LOG_NOTES;
}

static void
lm_member_del(struct stx *t, const char *m, size_t mlen)
{
	struct scan sc = { .tbl = ls(t)->logs[LOG_NOTES], .what = "erase" };
	struct key k;
	int i;

	key_make(&k, ls(t)->member, "M", m, mlen);
	del(t, ls(t)->member, &k, "member");
	key_make(&k, ls(t)->mpruned, "M", m, mlen);
	del(t, ls(t)->mpruned, &k, "pruned");
	/* Not the notes log's rows of key m: none is m's (its keys are
	 * "<member>:<hash>"), and m may be spelt like one of another's
	 * ("ann:<hash>" is ann's). */
	for (i = 0; i < LOG_COUNT; i++)
		if (i != LOG_NOTES)
			drop_member_rows(t, ls(t)->logs[i], m, mlen);
	for (i = 0; i < FLAG_COUNT; i++)
		drop_member_rows(t, ls(t)->flags[i], m, mlen);
	/* The notes log's keys are "<member>:<hash>": the keys that begin
	 * "m:" are those and other members' rows ("m:x"), told apart by
	 * their length and kind. */
	memcpy(sc.prefix.b, m, mlen);
	sc.prefix.b[mlen] = ':';
	sc.prefix.n = mlen + 1;
	drop_rows(t, &sc, &sc.prefix, not_members_note, &mlen);
}

static void
lm_scan_intros_to(struct stx *t, const char *m, size_t mlen, store_id_fn fn,
    void *ctx)
{
	struct scan sc = { .tbl = ls(t)->intro, .tail = 8,
	    .what = "introductions" };
	struct key from = { .n = 0 };
	struct intro in;

	SCAN_EACH(&sc, t, &from) {
		if (!intro_decode(sc.v.mv_data, sc.v.mv_size, &in)) {
			stx_check(t, MDB_CORRUPTED, "introduction");
			break;
		}
		if (in.to_len == mlen && memcmp(in.to, m, mlen) == 0 &&
		    !fn(ctx, in.id))
			break;
	}
	scan_end(&sc);
}

static void
lm_scan_events_naming(struct stx *t, const char *m, size_t mlen,
    store_event_fn fn, void *ctx)
{
	struct scan sc = { .tbl = ls(t)->ev, .tail = 8, .what = "events" };
	struct key from = { .n = 0 };
	struct event_rec e;

	SCAN_EACH(&sc, t, &from) {
		if (!event_decode(&sc.k, &sc.v, &e)) {
			stx_check(t, MDB_CORRUPTED, "event");
			break;
		}
		if (!((e.member_len == mlen &&
		    memcmp(e.member, m, mlen) == 0) ||
		    memmem(e.data, e.len, m, mlen) != NULL))
			continue;
		if (!fn(ctx, &e))
			break;
	}
	scan_end(&sc);
}

static void
lm_scan_invitations(struct stx *t, store_id_fn fn, void *ctx)
{
	struct scan sc = { .tbl = ls(t)->inv, .tail = 8,
	    .what = "invitations" };
	struct key from = { .n = 0 };

	SCAN_EACH(&sc, t, &from) {
		if (!fn(ctx, scan_u64(&sc, 0)))
			break;
	}
	scan_end(&sc);
}

static void
lm_scan_pairs(struct stx *t, store_pair_fn fn, void *ctx)
{
	struct scan sc = { .tbl = ls(t)->pair, .every = true,
	    .what = "pairs" };
	struct key from = { .n = 0 }, kbuf;
	MDB_val kp;
	const unsigned char *k;
	size_t flen, tlen;
	struct pair pr;

	SCAN_EACH(&sc, t, &from) {
		kp = scan_parts(&sc, &kbuf);
		k = kp.mv_data;
		flen = key_member(k, kp.mv_size);
		if (flen + 2 > kp.mv_size || sc.v.mv_size != 24)
			continue;	/* not a pair's: store_check says so */
		tlen = key_member(k + flen + 1, kp.mv_size - flen - 1);
		memset(&pr, 0, sizeof pr);
		pr.open_id = be_get(sc.v.mv_data, 8);
		pr.cooldown_until = (int64_t)be_get(
		    (const unsigned char *)sc.v.mv_data + 8, 8);
		pr.withdrawals = (uint32_t)be_get(
		    (const unsigned char *)sc.v.mv_data + 16, 4);
		pr.attempts = (uint32_t)be_get(
		    (const unsigned char *)sc.v.mv_data + 20, 4);
		if (!fn(ctx, (const char *)k, flen, (const char *)k + flen + 1,
		    tlen, &pr))
			break;
	}
	scan_end(&sc);
}

static void
lm_scan_dues(struct stx *t, store_due_fn fn, void *ctx)
{
	struct scan sc = { .tbl = ls(t)->due, .tail = 17,
	    .what = "deadlines" };
	struct key from = { .n = 0 };
	struct due d;

	SCAN_EACH(&sc, t, &from) {
		d.at = (int64_t)scan_u64(&sc, 0);
		d.kind = ((const unsigned char *)sc.k.mv_data)[8];
		d.id = scan_u64(&sc, 9);
		if (!fn(ctx, &d))
			break;
	}
	scan_end(&sc);
}

/* store_check: what only this backend knows, its index tables. */
struct lm_check {
	struct stx *t;
	store_problem_fn fn;
	void *ctx;
	char buf[512];
};

static void
lm_problem(struct lm_check *c, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
lm_problem(struct lm_check *c, const char *what, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->buf, sizeof c->buf, fmt, ap);
	va_end(ap);
	c->fn(c->ctx, what, c->buf);
}

/* The rows of a [member M][id L] index (sent, received): each names an
 * invitation of that member's (from: sent; to: received). */
static void
lm_check_box(struct lm_check *c, struct tbl tb, const char *name, bool sent)
{
	struct scan sc = { .tbl = tb, .every = true, .what = name };
	struct key from = { .n = 0 }, k, kbuf;
	MDB_val kp;
	const unsigned char *p;
	struct inv inv;
	uint64_t id;
	size_t mlen;
	MDB_val v;

	SCAN_EACH(&sc, c->t, &from) {
		kp = scan_parts(&sc, &kbuf);
		p = kp.mv_data;
		mlen = key_member(p, kp.mv_size);
		if (kp.mv_size != mlen + 9) {
			lm_problem(c, "index", "%s: a key of %zu bytes", name,
			    kp.mv_size);
			continue;
		}
		id = be_get(p + mlen + 1, 8);
		key_make(&k, ls(c->t)->inv, "L", id);
		if (!get(c->t, ls(c->t)->inv, &k, &v, "invitation")) {
			if (c->t->rc != STORE_OK)
				break;
			lm_problem(c, "index",
			    "%s row %.*s/%llu without its invitation", name,
			    (int)mlen, (const char *)p, (unsigned long long)id);
			continue;
		}
		if (!inv_decode(v.mv_data, v.mv_size, &inv))
			continue;	/* the invitations' check says so */
		if (sent ? inv.from_len != mlen || memcmp(inv.from, p, mlen) :
		    inv.to_len != mlen || memcmp(inv.to, p, mlen))
			lm_problem(c, "index",
			    "%s row %.*s/%llu: invitation %llu is %s -> %s",
			    name, (int)mlen, (const char *)p,
			    (unsigned long long)id, (unsigned long long)id,
			    inv.from, inv.to);
	}
	scan_end(&sc);
}

static void
lm_check_history(struct lm_check *c)
{
	struct scan sc = { .tbl = ls(c->t)->hist, .every = true,
	    .what = "history" };
	struct key from = { .n = 0 }, k, want;
	const unsigned char *p;
	struct inv inv;
	uint64_t id;
	MDB_val v;

	SCAN_EACH(&sc, c->t, &from) {
		p = sc.k.mv_data;
		if (sc.k.mv_size < 10) {
			lm_problem(c, "index", "history: a key of %zu bytes",
			    sc.k.mv_size);
			continue;
		}
		id = be_get(p + sc.k.mv_size - 8, 8);
		key_make(&k, ls(c->t)->inv, "L", id);
		if (!get(c->t, ls(c->t)->inv, &k, &v, "invitation")) {
			if (c->t->rc != STORE_OK)
				break;
			lm_problem(c, "index",
			    "history row %llu without its invitation",
			    (unsigned long long)id);
			continue;
		}
		if (!inv_decode(v.mv_data, v.mv_size, &inv))
			continue;
		hist_key(&want, ls(c->t)->hist, inv.from, inv.from_len, inv.to,
		    inv.to_len, inv.id, true);
		if (want.n != sc.k.mv_size || memcmp(want.b, p, want.n) != 0)
			lm_problem(c, "index",
			    "history row %llu is not under %s and %s",
			    (unsigned long long)id, inv.from, inv.to);
	}
	scan_end(&sc);
}

/* Each invitation record decodes, under its own id, with its three index
 * rows. */
static void
lm_check_invitations(struct lm_check *c)
{
	struct scan sc = { .tbl = ls(c->t)->inv, .what = "invitations" };
	struct key from = { .n = 0 }, k;
	struct inv inv;
	uint64_t id;
	MDB_val v;

	SCAN_EACH(&sc, c->t, &from) {
		if (sc.k.mv_size != 8) {
			lm_problem(c, "invitation", "a key of %zu bytes",
			    sc.k.mv_size);
			continue;
		}
		id = scan_u64(&sc, 0);
		if (!inv_decode(sc.v.mv_data, sc.v.mv_size, &inv)) {
			lm_problem(c, "invitation", "%llu: a corrupt record",
			    (unsigned long long)id);
			continue;
		}
		if (inv.id != id)
			lm_problem(c, "invitation", "%llu: the record says %llu",
			    (unsigned long long)id, (unsigned long long)inv.id);
		key_make(&k, ls(c->t)->sent, "ML", inv.from, inv.from_len, id);
		if (!get(c->t, ls(c->t)->sent, &k, &v, "sent") &&
		    c->t->rc == STORE_OK)
			lm_problem(c, "index", "invitation %llu is not in %s's sent box",
			    (unsigned long long)id, inv.from);
		key_make(&k, ls(c->t)->recv, "ML", inv.to, inv.to_len, id);
		if (!get(c->t, ls(c->t)->recv, &k, &v, "received") &&
		    c->t->rc == STORE_OK)
			lm_problem(c, "index",
			    "invitation %llu is not in %s's received box",
			    (unsigned long long)id, inv.to);
		hist_key(&k, ls(c->t)->hist, inv.from, inv.from_len, inv.to,
		    inv.to_len, id, true);
		if (!get(c->t, ls(c->t)->hist, &k, &v, "history") &&
		    c->t->rc == STORE_OK)
			lm_problem(c, "index",
			    "invitation %llu is not in the history of %s and %s",
			    (unsigned long long)id, inv.from, inv.to);
		if (c->t->rc != STORE_OK)
			break;
	}
	scan_end(&sc);
}

/* member_events rows name an event told to that member; member_plans rows
 * name a plan; connections are written both ways with one since. */
/* Each intro_asked (from) or intro_via row names an introduction of that
 * member's; each introduction is in both. */
static void
lm_check_intro_index(struct lm_check *c, struct tbl tb, const char *name,
    bool from)
{
	struct scan sc = { .tbl = tb, .every = true, .what = name };
	struct key from_key = { .n = 0 }, kbuf;
	struct intro *in = xmalloc(sizeof *in);
	const unsigned char *p;
	MDB_val kp;
	size_t mlen;
	uint64_t id, n = 0, records = 0;

	SCAN_EACH(&sc, c->t, &from_key) {
		kp = scan_parts(&sc, &kbuf);
		p = kp.mv_data;
		mlen = key_member(p, kp.mv_size);
		if (kp.mv_size != mlen + 9) {
			lm_problem(c, "index", "%s: a row of %zu bytes", name,
			    kp.mv_size);
			continue;
		}
		n++;
		id = be_get(p + mlen + 1, 8);
		if (lm_intro_get(c->t, id, in) != STORE_OK) {
			if (c->t->rc != STORE_OK)
				break;
			lm_problem(c, "index",
			    "%s row %.*s/%llu without its introduction", name,
			    (int)mlen, (const char *)p, (unsigned long long)id);
		} else if ((from ? in->from_len : in->via_len) != mlen ||
		    memcmp(from ? in->from : in->via, p, mlen) != 0)
			lm_problem(c, "index",
			    "%s row %.*s/%llu: the introduction is not %.*s's",
			    name, (int)mlen, (const char *)p,
			    (unsigned long long)id, (int)mlen,
			    (const char *)p);
	}
	scan_end(&sc);
	memset(&sc, 0, sizeof sc);
	sc.tbl = ls(c->t)->intro;
	sc.every = true;
	sc.what = "introductions";
	SCAN_EACH(&sc, c->t, &from_key)
		records++;
	scan_end(&sc);
	if (c->t->rc == STORE_OK && records != n)
		lm_problem(c, "index", "%llu introductions, %llu %s rows",
		    (unsigned long long)records, (unsigned long long)n, name);
	free(in);
}

/* Request ids: each record has its row in request_times at its time,
 * and each row there its record of that time (a record without its row
 * would never be pruned). */
static void
lm_check_requests(struct lm_check *c)
{
	struct scan sc = { .tbl = ls(c->t)->req, .what = "requests" };
	struct key from = { .n = 0 }, k;
	const unsigned char *p;
	uint64_t at;
	size_t len;
	MDB_val v;

	SCAN_EACH(&sc, c->t, &from) {
		p = sc.k.mv_data;
		len = sc.k.mv_size;
		if (len < 2 || p[len - 1] != 0 || sc.v.mv_size < 8) {
			lm_problem(c, "request", "a record of %zu+%zu bytes",
			    len, sc.v.mv_size);
			continue;
		}
		at = be_get(sc.v.mv_data, 8);
		key_make(&k, ls(c->t)->reqt, "LM", at, (const char *)p,
		    len - 1);
		if (!get(c->t, ls(c->t)->reqt, &k, &v, "request time")) {
			if (c->t->rc != STORE_OK)
				break;
			lm_problem(c, "request",
			    "request id %.*s (at %llu) has no row in request_times: it would never be pruned",
			    (int)(len - 1), (const char *)p,
			    (unsigned long long)at);
		}
	}
	scan_end(&sc);
	memset(&sc, 0, sizeof sc);
	sc.tbl = ls(c->t)->reqt;
	sc.what = "request_times";
	SCAN_EACH(&sc, c->t, &from) {
		p = sc.k.mv_data;
		len = sc.k.mv_size;
		if (len < 10 || p[len - 1] != 0) {
			lm_problem(c, "request", "a request_times row of %zu bytes",
			    len);
			continue;
		}
		at = be_get(p, 8);
		key_make(&k, ls(c->t)->req, "M", (const char *)p + 8, len - 9);
		if (!get(c->t, ls(c->t)->req, &k, &v, "request")) {
			if (c->t->rc != STORE_OK)
				break;
			lm_problem(c, "request",
			    "request_times row %.*s at %llu without its record",
			    (int)(len - 9), (const char *)p + 8,
			    (unsigned long long)at);
		} else if (v.mv_size < 8 || be_get(v.mv_data, 8) != at)
			lm_problem(c, "request",
			    "request_times row %.*s at %llu: the record says another time",
			    (int)(len - 9), (const char *)p + 8,
			    (unsigned long long)at);
	}
	scan_end(&sc);
}

static void
lm_check_rest(struct lm_check *c)
{
	struct scan sc = { .tbl = ls(c->t)->mev, .every = true,
	    .what = "member_events" };
	struct key from = { .n = 0 }, k, kbuf;
	const unsigned char *p;
	struct event_rec e;
	uint64_t n = 0, seq;
	size_t mlen;
	MDB_val v, kv, kp;

	SCAN_EACH(&sc, c->t, &from) {
		kp = scan_parts(&sc, &kbuf);
		p = kp.mv_data;
		mlen = key_member(p, kp.mv_size);
		if (kp.mv_size != mlen + 9) {
			lm_problem(c, "index", "member_events: a key of %zu bytes",
			    kp.mv_size);
			continue;
		}
		seq = be_get(p + mlen + 1, 8);
		key_make(&k, ls(c->t)->ev, "L", seq);
		kv = key_val(&k);
		if (!get(c->t, ls(c->t)->ev, &k, &v, "event")) {
			if (c->t->rc != STORE_OK)
				break;
			lm_problem(c, "index",
			    "member_events row %.*s/%llu without its event",
			    (int)mlen, (const char *)p, (unsigned long long)seq);
		} else if (!event_decode(&kv, &v, &e) || !e.notify ||
		    e.member_len != mlen || memcmp(e.member, p, mlen) != 0)
			lm_problem(c, "index",
			    "member_events row %.*s/%llu: the event is not %.*s's notification",
			    (int)mlen, (const char *)p, (unsigned long long)seq,
			    (int)mlen, (const char *)p);
	}
	scan_end(&sc);

	memset(&sc, 0, sizeof sc);
	sc.tbl = ls(c->t)->mplan;
	sc.every = true;
	sc.what = "member_plans";
	SCAN_EACH(&sc, c->t, &from) {
		kp = scan_parts(&sc, &kbuf);
		p = kp.mv_data;
		mlen = key_member(p, kp.mv_size);
		if (kp.mv_size != mlen + 9)
			continue;
		key_make(&k, ls(c->t)->plan, "L", be_get(p + mlen + 1, 8));
		if (!get(c->t, ls(c->t)->plan, &k, &v, "plan") &&
		    c->t->rc == STORE_OK)
			lm_problem(c, "index",
			    "member_plans row %.*s/%llu without its plan",
			    (int)mlen, (const char *)p,
			    (unsigned long long)be_get(p + mlen + 1, 8));
	}
	scan_end(&sc);

	lm_check_intro_index(c, ls(c->t)->iask, "intro_asked", true);
	lm_check_intro_index(c, ls(c->t)->ivia, "intro_via", false);

	memset(&sc, 0, sizeof sc);
	sc.tbl = ls(c->t)->conn;
	sc.every = true;
	sc.what = "connections";
	SCAN_EACH(&sc, c->t, &from) {
		kp = scan_parts(&sc, &kbuf);
		p = kp.mv_data;
		mlen = key_member(p, kp.mv_size);
		n++;
		if (mlen + 2 > kp.mv_size || sc.v.mv_size != 8) {
			lm_problem(c, "connection", "a row of %zu+%zu bytes",
			    kp.mv_size, sc.v.mv_size);
			continue;
		}
		key_make(&k, ls(c->t)->conn, "MM", (const char *)p + mlen + 1,
		    key_member(p + mlen + 1, kp.mv_size - mlen - 1),
		    (const char *)p, mlen);
		if (!get(c->t, ls(c->t)->conn, &k, &v, "connection")) {
			if (c->t->rc != STORE_OK)
				break;
			lm_problem(c, "connection",
			    "%.*s -> %.*s is written one way only", (int)mlen,
			    (const char *)p, (int)(kp.mv_size - mlen - 2),
			    (const char *)p + mlen + 1);
		} else if (v.mv_size != 8 ||
		    memcmp(v.mv_data, sc.v.mv_data, 8) != 0)
			lm_problem(c, "connection",
			    "%.*s and %.*s: each way says another since",
			    (int)mlen, (const char *)p,
			    (int)(kp.mv_size - mlen - 2),
			    (const char *)p + mlen + 1);
	}
	scan_end(&sc);
	lm_check_requests(c);
	if (c->t->rc == STORE_OK &&
	    n != 2 * meta_get_u64(c->t, "count.connections"))
		lm_problem(c, "counter",
		    "count.connections is %llu; the connections table has %llu rows (two each)",
		    (unsigned long long)meta_get_u64(c->t, "count.connections"),
		    (unsigned long long)n);
}

/* The keys of member_rows that no table's scan reads (no NUL after a
 * member part, no kind, a kind outside the known ones), one pass: fn(ctx,
 * its size, its kind or -1) for each until fn returns false. */
static void
rows_unknown(struct stx *t, bool (*fn)(void *ctx, size_t n, int kind),
    void *ctx)
{
	MDB_cursor *cur;
	MDB_val k, v;
	const unsigned char *p;
	size_t m;
	int mrc, kind;

	if (stx_check(t, mdb_cursor_open(tx(t), ls(t)->rows, &cur), "cursor"))
		return;
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0;
	    mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		p = k.mv_data;
		m = key_member(p, k.mv_size);
		kind = m + 1 < k.mv_size ? p[m + 1] : -1;
		if (kind >= K_MEMBER && kind < K_END)
			continue;
		if (!fn(ctx, k.mv_size, kind)) {
			mrc = MDB_NOTFOUND;
			break;
		}
	}
	mdb_cursor_close(cur);
	if (mrc != MDB_NOTFOUND)
		stx_check(t, mrc, "member_rows");
}

static bool
check_unknown(void *ctx, size_t n, int kind)
{
	struct lm_check *c = ctx;

	if (kind < 0)
		lm_problem(c, "index", "member_rows: a key of %zu bytes with no kind: unknown", n);
	else
		lm_problem(c, "index", "member_rows: a key of %zu bytes with kind %d: unknown",
		    n, kind);
	return true;
}

static void
lm_check(struct stx *t, store_problem_fn fn, void *ctx)
{
	struct lm_check c = { .t = t, .fn = fn, .ctx = ctx };

	rows_unknown(t, check_unknown, &c);
	lm_check_invitations(&c);
	lm_check_box(&c, ls(t)->sent, "sent", true);
	lm_check_box(&c, ls(t)->recv, "received", false);
	lm_check_history(&c);
	lm_check_rest(&c);
}

/* Copying (store.h, "Copying a whole store"): each database that holds
 * records of its own, whole, in key order; the indexes (sent, received,
 * history, member_events) are made again by the import. */

/* What a record decoded from an entry points into. */
struct lm_rec {
	struct store_rec r;
	struct inv inv;
	struct member_rec member;
	struct intro intro;
};

/* Whether a comes before b as bytea compares them: bytes, then length. */
static bool
bytes_before(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	return c < 0 || (c == 0 && alen < blen);
}

/* Decodes the entry k, v of kind x->r.kind (sub set) into x: false when it
 * is not one; *skip when it is one the export leaves out. */
static bool
lm_rec_decode(const MDB_val *kv, const MDB_val *dv, struct lm_rec *x,
    bool *skip)
{
	const unsigned char *k = kv->mv_data, *v = dv->mv_data;
	size_t kn = kv->mv_size, vn = dv->mv_size, n;
	struct store_rec *r = &x->r;

	*skip = false;
	switch (r->kind) {
	case SREC_META:
		if (kn < 1 || k[kn - 1] != 0)
			return false;
		if (kn - 1 == strlen("schema") && memcmp(k, "schema", 6) == 0) {
			*skip = true;
			return true;
		}
		if (vn != 8)
			return false;
		r->a = (const char *)k;
		r->alen = kn - 1;
		r->id = be_get(v, 8);
		return true;
	case SREC_INVITATION:
		if (!inv_decode(v, vn, &x->inv) || kn != 8 ||
		    be_get(k, 8) != x->inv.id)
			return false;
		r->inv = &x->inv;
		return true;
	case SREC_PAIR:
	case SREC_CONNECTION:
	case SREC_FLAG:
		/* [a M][b M] */
		n = key_member(k, kn);
		if (n + 2 > kn || k[kn - 1] != 0)
			return false;
		r->a = (const char *)k;
		r->alen = n;
		r->b = (const char *)k + n + 1;
		r->blen = kn - n - 2;
		if (memchr(r->b, 0, r->blen) != NULL)
			return false;
		if (r->kind == SREC_PAIR) {
			if (vn != 24)
				return false;
			r->pair.open_id = be_get(v, 8);
			r->pair.cooldown_until = (int64_t)be_get(v + 8, 8);
			r->pair.withdrawals = (uint32_t)be_get(v + 16, 4);
			r->pair.attempts = (uint32_t)be_get(v + 20, 4);
		} else if (r->kind == SREC_CONNECTION) {
			if (vn != 8)
				return false;
			r->at = (int64_t)be_get(v, 8);
			/* Written both ways: given once. */
			*skip = !bytes_before(r->a, r->alen, r->b, r->blen);
		}
		return true;
	case SREC_DEADLINE:
		if (kn != 17)
			return false;
		r->due.at = (int64_t)be_get(k, 8);
		r->due.kind = k[8];
		r->due.id = be_get(k + 9, 8);
		return true;
	case SREC_LOG:
		/* [key M][at L][id L] */
		if (kn < 17 || k[kn - 17] != 0 || vn != 1)
			return false;
		r->a = (const char *)k;
		r->alen = kn - 17;
		r->at = (int64_t)be_get(k + kn - 16, 8);
		r->id = be_get(k + kn - 8, 8);
		r->value = v[0];
		return true;
	case SREC_MEMBER:
		if (kn < 1 || k[kn - 1] != 0 ||
		    !member_decode(v, vn, &x->member))
			return false;
		r->a = (const char *)k;
		r->alen = kn - 1;
		r->member = &x->member;
		return true;
	case SREC_PLAN:
		if (kn != 8)
			return false;
		r->id = be_get(k, 8);
		r->data = v;
		r->len = vn;
		return true;
	case SREC_PLAN_INDEX:
		if (kn < 10 || k[kn - 9] != 0)
			return false;
		r->a = (const char *)k;
		r->alen = kn - 9;
		r->id = be_get(k + kn - 8, 8);
		return true;
	case SREC_EVENT:
		return event_decode(kv, dv, &r->ev);
	case SREC_INTRO:
		if (!intro_decode(v, vn, &x->intro) || kn != 8 ||
		    be_get(k, 8) != x->intro.id)
			return false;
		r->intro = &x->intro;
		return true;
	case SREC_PRUNED:
		if (kn < 1 || k[kn - 1] != 0 || vn != 8)
			return false;
		r->a = (const char *)k;
		r->alen = kn - 1;
		r->id = be_get(v, 8);
		return true;
	case SREC_IMPORT_ID:
		if (kn < 2 || k[kn - 1] != 0 || vn != 8)
			return false;
		r->a = (const char *)k;
		r->alen = kn - 1;
		r->id = be_get(v, 8);
		return true;
	case SREC_REQUEST:
		if (kn < 2 || k[kn - 1] != 0 || vn < 8)
			return false;
		r->a = (const char *)k;
		r->alen = kn - 1;
		r->at = (int64_t)be_get(v, 8);
		r->data = v + 8;
		r->len = vn - 8;
		return true;
	default:
		return false;
	}
}

/* Every entry of dbi as records of kind (and sub); false when fn
 * stopped or the export failed. */
static bool
lm_export_db(struct stx *t, struct tbl tb, const char *name,
    enum store_rec_kind kind, int sub, store_rec_fn fn, void *ctx)
{
	struct scan sc = { .tbl = tb, .every = true, .what = "export" };
	struct key from = { .n = 0 }, kbuf;
	MDB_val kp;
	struct lm_rec *x = xmalloc(sizeof *x);
	bool go = true, skip;

	SCAN_EACH(&sc, t, &from) {
		memset(&x->r, 0, sizeof x->r);
		x->r.kind = kind;
		x->r.sub = (uint8_t)sub;
		kp = scan_parts(&sc, &kbuf);
		if (!lm_rec_decode(&kp, &sc.v, x, &skip)) {
			store_fail(t, STORE_FAILED,
			    "export: a corrupt entry in database %s", name);
			break;
		}
		if (!skip && !fn(ctx, &x->r)) {
			go = false;
			break;
		}
	}
	scan_end(&sc);
	free(x);
	return go && t->rc == STORE_OK;
}

static bool
export_unknown(void *ctx, size_t n, int kind)
{
	struct stx *t = ctx;

	if (kind < 0)
		store_fail(t, STORE_FAILED, "export: a corrupt entry in database "
		    "member_rows: a key of %zu bytes with no kind", n);
	else
		store_fail(t, STORE_FAILED, "export: a corrupt entry in database "
		    "member_rows: a key of %zu bytes with kind %d: unknown", n,
		    kind);
	return false;
}

static void
lm_export(struct stx *t, store_rec_fn fn, void *ctx)
{
	struct lmdb_store *s = ls(t);
	int i;

	/* Rows no table's scan reads would be left behind: refused. */
	rows_unknown(t, export_unknown, t);
	if (t->rc != STORE_OK)
		return;
	if (!lm_export_db(t, s->meta, "meta", SREC_META, 0, fn, ctx) ||
	    !lm_export_db(t, s->inv, "invitations", SREC_INVITATION, 0, fn,
	    ctx) ||
	    !lm_export_db(t, s->pair, "pairs", SREC_PAIR, 0, fn, ctx) ||
	    !lm_export_db(t, s->conn, "connections", SREC_CONNECTION, 0, fn,
	    ctx) ||
	    !lm_export_db(t, s->due, "deadlines", SREC_DEADLINE, 0, fn, ctx))
		return;
	for (i = 0; i < LOG_COUNT; i++)
		if (!lm_export_db(t, s->logs[i], "logs", SREC_LOG, i, fn, ctx))
			return;
	for (i = 0; i < FLAG_COUNT; i++)
		if (!lm_export_db(t, s->flags[i], "flags", SREC_FLAG, i, fn,
		    ctx))
			return;
	if (!lm_export_db(t, s->member, "members", SREC_MEMBER, 0, fn, ctx) ||
	    !lm_export_db(t, s->plan, "plans", SREC_PLAN, 0, fn, ctx) ||
	    !lm_export_db(t, s->mplan, "member_plans", SREC_PLAN_INDEX, 0, fn,
	    ctx) ||
	    !lm_export_db(t, s->ev, "events", SREC_EVENT, 0, fn, ctx))
		return;
	if (!lm_export_db(t, s->mpruned, "member_pruned", SREC_PRUNED, 0, fn,
	    ctx))
		return;
	if (!lm_export_db(t, s->intro, "introductions", SREC_INTRO, 0, fn,
	    ctx))
		return;
	if (!lm_export_db(t, s->req, "requests", SREC_REQUEST, 0, fn, ctx))
		return;
	lm_export_db(t, s->importid, "import_ids", SREC_IMPORT_ID, 0, fn, ctx);
}

static void
lm_import(struct stx *t, const struct store_rec *r)
{
	unsigned char b[8];
	char name[64];
	struct key k;

	/* What a key holds: a member id (a log's key: two, LOG_NOTES). */
	if (r->alen > 2 * MEMBER_MAX_BYTES || r->blen > MEMBER_MAX_BYTES ||
	    (r->kind == SREC_EVENT && r->ev.member_len > MEMBER_MAX_BYTES) ||
	    (r->kind == SREC_MEMBER &&
	    r->member->email_len > EMAIL_MAX_BYTES))
		goto bad;
	switch (r->kind) {
	case SREC_META:
		if (r->alen == 0 || r->alen >= sizeof name ||
		    memchr(r->a, 0, r->alen) != NULL ||
		    (r->alen == 6 && memcmp(r->a, "schema", 6) == 0)) {
			store_fail(t, STORE_FAILED, "import: a bad meta name");
			return;
		}
		memcpy(name, r->a, r->alen);
		name[r->alen] = '\0';
		meta_put_u64(t, name, r->id);
		break;
	case SREC_INVITATION:
		lm_inv_put(t, r->inv, ST_COUNT);
		break;
	case SREC_PAIR:
		lm_pair_put(t, r->a, r->alen, r->b, r->blen, &r->pair);
		break;
	case SREC_CONNECTION:
		lm_conn_put(t, r->a, r->alen, r->b, r->blen, r->at);
		break;
	case SREC_DEADLINE:
		lm_due_add(t, &r->due);
		break;
	case SREC_LOG:
		if (r->sub >= LOG_COUNT)
			goto bad;
		lm_log_add(t, (enum store_log)r->sub, r->a, r->alen, r->at,
		    r->id, r->value);
		break;
	case SREC_FLAG:
		if (r->sub >= FLAG_COUNT)
			goto bad;
		lm_flag_set(t, (enum store_flag)r->sub, r->a, r->alen, r->b,
		    r->blen, true);
		break;
	case SREC_MEMBER:
		lm_member_put(t, r->a, r->alen, r->member);
		break;
	case SREC_PLAN:
		lm_plan_put(t, r->id, r->data, r->len);
		break;
	case SREC_PLAN_INDEX:
		lm_plan_index(t, r->a, r->alen, r->id);
		break;
	case SREC_EVENT:
		lm_event_add(t, r->ev.seq, r->ev.at, r->ev.member,
		    r->ev.member_len, r->ev.notify, r->ev.data, r->ev.len);
		break;
	case SREC_REQUEST:
		if (r->alen == 0 || r->alen > REQUEST_ID_MAX ||
		    memchr(r->a, 0, r->alen) != NULL)
			goto bad;
		lm_request_put(t, r->a, r->alen, r->at, r->data, r->len);
		break;
	case SREC_IMPORT_ID:
		if (r->alen == 0 || r->alen > MEMBER_MAX_BYTES ||
		    memchr(r->a, 0, r->alen) != NULL || r->id == 0)
			goto bad;
		lm_import_id_put(t, r->a, r->alen, r->id);
		break;
	case SREC_INTRO:
		if (r->intro->state >= INTRO_STORED ||
		    r->intro->from_len > MEMBER_MAX_BYTES ||
		    r->intro->via_len > MEMBER_MAX_BYTES ||
		    r->intro->to_len > MEMBER_MAX_BYTES ||
		    r->intro->note_len > NOTE_MAX_BYTES)
			goto bad;
		lm_intro_put(t, r->intro);
		break;
	case SREC_PRUNED:
		key_make(&k, ls(t)->mpruned, "M", r->a, r->alen);
		be_put(b, r->id, 8);
		put(t, ls(t)->mpruned, &k, b, 8, "pruned");
		break;
	default:
		goto bad;
	}
	return;
bad:
	store_fail(t, STORE_FAILED, "import: a bad %s record",
	    store_rec_names[r->kind]);
}

const struct store_ops store_lmdb = {
	.name = "lmdb",
	.store_size = sizeof(struct lmdb_store),
	.stx_size = sizeof(struct lmdb_stx),
	.open = lm_open,
	.close = lm_close,
	.inv_del = lm_inv_del,
	.pair_del = lm_pair_del,
	.log_del = lm_log_del,
	.plan_del = lm_plan_del,
	.intro_del = lm_intro_del,
	.event_redact = lm_event_redact,
	.member_del = lm_member_del,
	.scan_intros_to = lm_scan_intros_to,
	.scan_events_naming = lm_scan_events_naming,

	.grow = lm_grow,
	.map_size = lm_map_size,
	.set_map_max = lm_set_map_max,
	.room = lm_room,
	.backup_start = lm_backup_start,
	.backup_status = lm_backup_status,
	.begin = lm_begin,
	.commit = lm_commit,
	.wait_fd = lm_wait_fd,
	.durable = lm_durable,
	.wait = lm_wait,
	.inflight = lm_inflight,
	.abort = lm_abort,
	.writes = lm_writes,
	.next_id = lm_next_id,
	.get_vclock = lm_get_vclock,
	.set_vclock = lm_set_vclock,
	.counts = lm_counts,
	.inv_get = lm_inv_get,
	.inv_put = lm_inv_put,
	.scan_box = lm_scan_box,
	.scan_history = lm_scan_history,
	.pair_get = lm_pair_get,
	.pair_put = lm_pair_put,
	.conn_get = lm_conn_get,
	.conn_put = lm_conn_put,
	.conn_del = lm_conn_del,
	.scan_conns = lm_scan_conns,
	.scan_mutual = lm_scan_mutual,
	.scan_flags = lm_scan_flags,
	.log_add = lm_log_add,
	.log_count = lm_log_count,
	.log_scan_back = lm_log_scan_back,
	.import_id_get = lm_import_id_get,
	.import_id_put = lm_import_id_put,
	.flag_get = lm_flag_get,
	.flag_set = lm_flag_set,
	.member_get = lm_member_get,
	.member_put = lm_member_put,
	.plan_get = lm_plan_get,
	.plan_put = lm_plan_put,
	.request_get = lm_request_get,
	.request_put = lm_request_put,
	.request_prune = lm_request_prune,
	.scan_plans = lm_scan_plans,
	.plan_index = lm_plan_index,
	.intro_get = lm_intro_get,
	.intro_put = lm_intro_put,
	.scan_intros = lm_scan_intros,
	.event_add = lm_event_add,
	.event_head = lm_event_head,
	.event_pruned = lm_event_pruned,
	.event_scan = lm_event_scan,
	.event_unnotify = lm_event_unnotify,
	.event_prune = lm_event_prune,
	.due_add = lm_due_add,
	.due_del = lm_due_del,
	.due_first = lm_due_first,
	.scan_invitations = lm_scan_invitations,
	.scan_pairs = lm_scan_pairs,
	.scan_dues = lm_scan_dues,
	.export = lm_export,
	.import = lm_import,
	.check = lm_check,
};
