/* daemon/store.h: the store, behind an interface. The rest of the daemon
 * sees invitations, pairs, connections, logs, plans, events and deadlines
 * through the functions below, never the backend that keeps them. A backend
 * is a table of functions (struct store_ops, in daemon/store-backend.h) in a
 * file of its own: LMDB, daemon/store-lmdb.c (the default), and
 * PostgreSQL, daemon/store-pg.c. The functions below
 * dispatch to it (daemon/store.c), so a second backend is one more file,
 * its table declared in store-backend.h and listed in store_backends, and
 * the daemon does not change.
 *
 * The contract every backend keeps (tests/test_store_contract.c checks it
 * of each one in store_backends):
 * - Transactions. store_begin() without a parent begins a top-level write
 *   transaction; there is one at a time. A child (store_begin() with a
 *   parent) sees its parent's work, and the parent is not used while the
 *   child is open. A child's commit puts its work into its parent (on disk
 *   only when the top level commits); its abort undoes its work alone and
 *   leaves the parent as it was when the child began.
 * - Sticky errors. A transaction carries its first failure: after it every
 *   call is a no-op (what is read is missing or zero) and store_commit()
 *   reports it, once, as it aborts. A child's failure is its own: its
 *   parent goes on. A child begun on a failed transaction starts failed.
 * - Commit. A top-level store_commit() returns STORE_OK only once the work
 *   is durable on disk. Any other answer leaves none of the work visible,
 *   now or after a restart; so does store_abort().
 * - Snapshots. store_begin_read() sees the store as the last commit before
 *   it left it and nothing committed later; writing in it fails. Snapshots
 *   may be open beside the write transaction.
 * - Scans. A scan's callback may read through the same transaction (the
 *   domain reads an invitation for each id of a box, and its history and
 *   pair inside that); it must not write through it. A backend that
 *   streams rows keeps each scan's rows apart from the reads within.
 */
#ifndef CONNREQ_STORE_H
#define CONNREQ_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/util.h"
#include "rules.h"

#define STORE_SCHEMA 4
#define NOTE_MAX_BYTES 4096

struct store;
struct stx;
struct store_ops;

/* Errors a caller must tell apart. */
enum store_rc {
	STORE_OK = 0,
	STORE_NOTFOUND,
	STORE_MAP_FULL,		/* grow the map and retry */
	STORE_NO_SPACE,		/* the disk has no room for the store to grow:
				 * nothing was written and the store is sound;
				 * retry once store_room() says there is room */
	STORE_FAILED,		/* anything else: see store_strerror */
	STORE_CONFLICT,		/* a shared store (PostgreSQL) could not
				 * serialize the transaction with another's
				 * (a serialization failure or a deadlock):
				 * nothing of it was written, and running it
				 * again from its begin may succeed */
	STORE_UNAVAILABLE	/* a shared store's database cannot be
				 * reached (the connection is lost or
				 * refused): nothing of the transaction was
				 * written, except that a connection lost
				 * during a top-level COMMIT leaves unknown
				 * whether it was; a later begin connects
				 * again */
};

struct inv {
	uint64_t id;
	uint8_t state;		/* enum inv_state */
	uint8_t priority;	/* enum priority */
	uint32_t attempt;
	int64_t created_at;
	int64_t updated_at;
	int64_t expires_at;
	int64_t stale_at;	/* when the stale reminder is due */
	int64_t reminded_at;	/* the stale deadline it was handled for, 0: not yet */
	bool ignored;		/* the recipient ignored it (kept after expiry) */
	bool reported;		/* the recipient reported it */
	bool held;		/* held for the recipient by a filter: in the
				 * held box, not the received box; to its
				 * sender a pending invitation like any */
	bool automatic;		/* accepted at once by an auto-accept rule */
	int64_t remind_at;	/* when the recipient's reminder is (or
				 * was) due, 0: none; it stays once handled,
				 * and a withdrawal finds the reminder's
				 * event by it (daemon/remind.c) */
	uint64_t resend_of;	/* 0: none */
	size_t from_len, to_len, note_len, via_len;
	char from[MEMBER_MAX_BYTES + 1];
	char to[MEMBER_MAX_BYTES + 1];
	char via[MEMBER_MAX_BYTES + 1];	/* who introduced it (via_len 0:
					 * nobody) */
	char note[NOTE_MAX_BYTES + 1];
};

/* What the store keeps about one direction of a pair of members. */
struct pair {
	uint64_t open_id;	/* the pending (or ignored) invitation, 0: none */
	int64_t cooldown_until;	/* 0: none */
	uint32_t withdrawals;
	uint32_t attempts;	/* invitations ever sent in this direction */
};

enum due_kind {
	DUE_EXPIRE = 1,
	DUE_STALE = 2,
	DUE_COOLDOWN = 3,	/* id: the withdrawn invitation */
	DUE_RESTRICTION = 4,	/* id: an invitation of the restricted sender */
	DUE_PLAN = 5,		/* id: the plan */
	DUE_REMIND = 6,		/* id: the invitation (at: its remind_at) */
	DUE_DIGEST = 7,		/* id: the newest invitation waiting for a
				 * member (pending, not ignored, not held):
				 * it names the member whose digest falls
				 * due at `at`, a multiple of the member's
				 * interval (daemon/remind.h) */
	DUE_INTRO_EXPIRE = 8	/* id: the introduction (at: its
				 * expires_at), while its asker may see it
				 * asked: asked, or declined silently */
};

struct due {
	int64_t at;
	uint8_t kind;
	uint64_t id;
};

/* Counters kept with every change, for server.info. */
struct store_counts {
	uint64_t state[ST_COUNT];
	uint64_t connections;
	uint64_t deadlines;
};

/* Opens (creating) the store in dir with the default backend. map_max: the
 * largest the map may grow to. Returns NULL with *why set. */
struct store *store_open(const char *dir, uint64_t map_max, char *why,
    size_t whylen);
void store_close(struct store *s);
/* A hook for long work at open (LMDB: the migration of a store of an older
 * schema, which may take minutes): called with a status line ("migrating
 * the store to schema 2: N rows") at each phase and every 100,000 rows or
 * so, so that a supervisor can be told to wait longer. Process-wide, set
 * before store_open(); fn NULL: none. */
typedef void store_progress_fn(void *ctx, const char *status);
void store_set_progress(store_progress_fn *fn, void *ctx);
/* What the last failure was. */
const char *store_strerror(struct store *s);
/* Makes room after STORE_MAP_FULL (LMDB: doubles the map, up to its
 * maximum); -1 when it cannot. No transaction may be open. */
int store_grow(struct store *s);
/* The bytes the store has room for now (LMDB: the map's size). */
uint64_t store_map_size(struct store *s);
/* Sets the largest the store may grow to (map_size_max on SIGHUP); a map
 * already larger keeps its size but grows no more (it is logged). No
 * transaction may be open. */
void store_set_map_max(struct store *s, uint64_t map_max);
/* Whether the disk has room for the store to grow now: 0, or -1 with
 * store_strerror() saying why (after STORE_NO_SPACE: writes wait until it
 * returns 0). No transaction may be open.
 *
 * The disk fills in two ways, told apart so that a full disk is a refusal
 * and a broken one is not (docs/protocol.md 2.6): a top-level commit that
 * would need room on the disk that it cannot get first, or that the disk
 * refuses for want of space (ENOSPC, EDQUOT) with the store left sound,
 * reports STORE_NO_SPACE and nothing of it was written; any other failure
 * to write or to sync (EIO) is STORE_FAILED, after which the daemon stops.
 * (LMDB: the data file is kept allocated ahead of its last page, so a
 * commit writes into space the disk already gave.) */
int store_room(struct store *s);

/* Backups (connreq backup; docs/protocol.md store.backup). LMDB writes a
 * consistent, compacted copy of the store (every commit made before it
 * began) to path, a new file, in a process of its own while the daemon
 * serves: store_backup_start() returns at once, 0, or with why set
 * STORE_BACKUP_PATH (path is there, or its directory is not),
 * STORE_BACKUP_BUSY (one is under way) or STORE_BACKUP_NONE (the backend
 * has no backups: PostgreSQL, whose own tools do it). store_backup_status()
 * reports the last one begun. While one runs the map grows as it needs
 * (the copy's reader is another process's). */
#define STORE_BACKUP_PATH (-1)
#define STORE_BACKUP_BUSY (-2)
#define STORE_BACKUP_NONE (-3)
enum store_backup_state {
	BACKUP_NONE, BACKUP_RUNNING, BACKUP_DONE, BACKUP_FAILED
};
struct store_backup {
	enum store_backup_state state;
	char path[4096];
	uint64_t bytes;
	int64_t started_at, finished_at;	/* Unix time, ms */
	char error[256];
};
int store_backup_start(struct store *s, const char *path, char *why,
    size_t whylen);
void store_backup_status(struct store *s, struct store_backup *out);

/* Transactions (see the contract above). store_commit() and store_abort()
 * end t and free it. */
struct stx *store_begin(struct store *s, struct stx *parent);
/* A read-only snapshot; end it with store_abort(). */
struct stx *store_begin_read(struct store *s);
/* What a batch of writes will touch, named before it begins: members,
 * unordered pairs of members, request ids. Each is kept as a 64-bit hash;
 * a set that grows past STORE_KEYS_MAX is no longer a set of keys (full:
 * store_begin_keyed() then begins as store_begin() does). */
#define STORE_KEYS_MAX 256
struct store_keys {
	uint64_t k[STORE_KEYS_MAX];
	unsigned n;
	bool full;
};
void store_keys_member(struct store_keys *ks, const char *m, size_t len);
void store_keys_pair(struct store_keys *ks, const char *a, size_t alen,
    const char *b, size_t blen);
void store_keys_request(struct store_keys *ks, const char *id, size_t len);
/* A top-level write transaction whose writes touch only what ks names
 * (and the counters, the event feed, new invitation ids and deadlines):
 * a backend shared by several writers (PostgreSQL) runs those whose keys
 * differ at once, each holding its keys' locks; a backend that has no
 * such mode, or ks full or empty, begins as store_begin(s, NULL). Every
 * deadline and prune is left to other transactions. */
struct stx *store_begin_keyed(struct store *s, const struct store_keys *ks);
/* Whether t began keyed (else as store_begin()). */
bool store_keyed(const struct stx *t);
/* Returns enum store_rc: STORE_OK, or the transaction's sticky error. A
 * top-level commit returns once it is durable. */
int store_commit(struct stx *t);
void store_abort(struct stx *t);

/* Group commit (the server's batches). store_commit_async() commits t as
 * store_commit() does but returns before it is durable, with *seq its
 * commit's number (0: it wrote nothing, nothing to wait for); the commit
 * is durable once store_durable() reaches seq, and nothing of it may be
 * answered before. Meanwhile store_begin_read() sees the store as of the
 * last durable commit, never one that may not survive a crash.
 *
 * store_wait_fd() is readable whenever store_durable() may have moved (-1:
 * the backend's commits are synchronous); store_durable() reads it,
 * returns the last durable commit's number, and STORE_FAILED in *rc when
 * making a commit durable failed (store_strerror() says how; nothing
 * since may be answered, and the daemon must stop). store_inflight() is
 * the number of commits not yet durable. */
int store_commit_async(struct stx *t, uint64_t *seq);
/* Waits until commit seq is durable: STORE_OK or STORE_FAILED. */
int store_wait(struct store *s, uint64_t seq);
int store_wait_fd(struct store *s);
uint64_t store_durable(struct store *s, int *rc);
unsigned store_inflight(struct store *s);
/* The sticky error so far: of every call made in t so far. Not const:
 * a backend that sends writes without waiting for their results
 * (PostgreSQL's pipeline) reads those results first, which may cost a
 * round trip and records a failure among them in t. */
int store_error(struct stx *t);
/* While on (a top-level transaction's: its children inherit nothing),
 * store_error() answers with what is known without waiting for the
 * server: a write sent without waiting (PostgreSQL's pipeline) whose
 * failure is not read yet shows in a later call's store_error(), at the
 * latest in the first store_error() after store_defer(t, false). The
 * server runs a batch's requests so (issue 11: a round trip less per
 * request) and, when such a failure shows, the batch again with a child
 * transaction per request. */
void store_defer(struct stx *t, bool on);
/* The records written (put or deleted) since the store opened, in every
 * transaction: a caller that runs several requests in one transaction
 * tells by it whether a refused request wrote anything (which only a
 * child transaction of its own could have undone). */
uint64_t store_writes(struct store *s);

/* Meta values. */
uint64_t store_next_id(struct stx *t);	/* 0 after a failure */
int64_t store_get_vclock(struct stx *t);	/* 0: none saved */
void store_set_vclock(struct stx *t, int64_t now);
void store_counts(struct stx *t, struct store_counts *c);

/* Invitations. store_inv_put keeps the indexes, the counters and the
 * sender's open_sent: old_state is the state before (ST_COUNT for a new
 * invitation). */
int store_inv_get(struct stx *t, uint64_t id, struct inv *out);
void store_inv_put(struct stx *t, const struct inv *inv, int old_state);

/* Members' boxes, newest first: calls fn for ids below before (0: from
 * the newest) until fn returns false. */
enum store_box { BOX_SENT, BOX_RECEIVED };
typedef bool (*store_id_fn)(void *ctx, uint64_t id);
void store_scan_box(struct stx *t, enum store_box box, const char *member,
    size_t len, uint64_t before, store_id_fn fn, void *ctx);
/* Every invitation between a and b, either way, oldest first. */
void store_scan_history(struct stx *t, const char *a, size_t alen,
    const char *b, size_t blen, store_id_fn fn, void *ctx);

/* Pairs (one direction). A missing pair reads as all zero. */
void store_pair_get(struct stx *t, const char *from, size_t flen,
    const char *to, size_t tlen, struct pair *out);
void store_pair_put(struct stx *t, const char *from, size_t flen,
    const char *to, size_t tlen, const struct pair *p);

/* Connections (symmetric). since is 0 when not connected. */
int64_t store_conn_get(struct stx *t, const char *a, size_t alen,
    const char *b, size_t blen);
void store_conn_put(struct stx *t, const char *a, size_t alen,
    const char *b, size_t blen, int64_t since);
void store_conn_del(struct stx *t, const char *a, size_t alen,
    const char *b, size_t blen);
/* member's connections in order of the other's id, from the first after
 * `after` (NULL: the start), until fn returns false. */
typedef bool (*store_conn_fn)(void *ctx, const char *other, size_t len,
    int64_t since);
void store_scan_conns(struct stx *t, const char *member, size_t len,
    const char *after, size_t after_len, store_conn_fn fn, void *ctx);
/* The mutual connections of a and b (the members connected to both), in
 * order of the other's id, from the first after `after` (NULL: the
 * start), until fn returns false; since_a and since_b: when a and b
 * connected to it. hint: how many fn is expected to take at most, so a
 * backend may fetch that many at once (0: unknown). The cost is bounded
 * by the smaller of the two connection lists in seeks or probes: LMDB
 * leapfrogs the two lists (each one's next id sought in the other);
 * PostgreSQL counts both (index-only) and probes each connection of the
 * shorter into the other member's, in one statement. */
typedef bool (*store_mutual_fn)(void *ctx, const char *other, size_t len,
    int64_t since_a, int64_t since_b);
void store_scan_mutual(struct stx *t, const char *a, size_t alen,
    const char *b, size_t blen, const char *after, size_t after_len,
    uint64_t hint, store_mutual_fn fn, void *ctx);
/* How many mutual connections a and b have, counting no further than max
 * (store_scan_mutual() counted). */
uint64_t store_mutual_count(struct stx *t, const char *a, size_t alen,
    const char *b, size_t blen, uint64_t max);

/* Time-keyed logs, [key][at][id] -> value: what a member did when. */
enum store_log {
	LOG_SENDS,		/* key: sender */
	LOG_WITHDRAWALS,	/* key: sender */
	LOG_DECISIONS,		/* key: sender; value: the state decided,
				 * | LOG_BY_PLAN when a clean-up plan withdrew,
				 * | LOG_AS_ADVISED when withdrawn by hand as
				 * the advice said (rules_withdrawal_advised) */
	LOG_REPORTS,		/* key: the reported sender; value: reason */
	LOG_NOTES,		/* key: "sender:note-hash" */
	LOG_RESTRICTIONS,	/* key: the restricted member; at: when the
				 * restriction began; id: the invitation that
				 * brought it (0: none); value 0 */
	LOG_COUNT
};
#define LOG_BY_PLAN 0x80
#define LOG_AS_ADVISED 0x40
void store_log_add(struct stx *t, enum store_log log, const char *key,
    size_t klen, int64_t at, uint64_t id, uint8_t value);
/* How many entries of key are dated after `since`, counting no further
 * than max; *oldest: the earliest of them (0 when none). */
uint64_t store_log_count(struct stx *t, enum store_log log, const char *key,
    size_t klen, int64_t since, uint64_t max, int64_t *oldest);
/* A hint, changing nothing: a send from `from` to `to` is about to read
 * the pair both ways, their connection, flags and member rows, the
 * pair's history, and the entries after `since` of LOG_SENDS (key from)
 * and, with nkey, of LOG_NOTES (key nkey). A backend that pays a round
 * trip a read (PostgreSQL) fetches them all at once; others ignore it. */
void store_hint_send(struct stx *t, const char *from, size_t flen,
    const char *to, size_t tlen, int64_t since, const char *nkey,
    size_t nklen);
/* key's entries, newest first, until fn returns false. */
typedef bool (*store_log_fn)(void *ctx, int64_t at, uint64_t id,
    uint8_t value);
void store_log_scan_back(struct stx *t, enum store_log log, const char *key,
    size_t klen, store_log_fn fn, void *ctx);

/* Flags on a direction of a pair of members. */
enum store_flag {
	FLAG_BLOCK,		/* a blocked b */
	FLAG_NOGO,		/* b reported a as someone b does not know */
	FLAG_AUTOACCEPT,	/* a accepts invitations from b at once */
	FLAG_COUNT
};
bool store_flag_get(struct stx *t, enum store_flag f, const char *a,
    size_t alen, const char *b, size_t blen);
void store_flag_set(struct stx *t, enum store_flag f, const char *a,
    size_t alen, const char *b, size_t blen, bool on);
/* The b of each flag f that a set, in order of b, from the first after
 * `after` (NULL: the start), until fn returns false. */
typedef bool (*store_member_fn)(void *ctx, const char *m, size_t len);
void store_scan_flags(struct stx *t, enum store_flag f, const char *a,
    size_t alen, const char *after, size_t after_len, store_member_fn fn,
    void *ctx);

/* What the store keeps about one member. A missing one reads as zero. */
#define EMAIL_MAX_BYTES 254
/* Which of a member's settings are the member's own (member_rec.own): a
 * bit clear, the setting follows the policy's default. */
#define MEMBER_OWN_HOLD_NO_MUTUAL 0x01
#define MEMBER_OWN_HOLD_LOW_HEALTH 0x02
#define MEMBER_OWN_HOLD_RESTRICTED 0x04
#define MEMBER_OWN_HOLD_NEW 0x08
#define MEMBER_OWN_DIGEST 0x10
struct member_rec {
	uint8_t invitations_from;	/* 0 everyone, 1 email, 2 nobody */
	size_t email_len;
	char email[EMAIL_MAX_BYTES + 1];
	int64_t restricted_until;	/* 0: not restricted */
	int64_t restricted_at;	/* when the last restriction began, 0: never */
	uint64_t open_sent;	/* invitations it sent that are open */
	int64_t first_seen_at;	/* when its row was first written; 0: it has
				 * none yet (whoever writes it first sets
				 * it); 1: written before schema 3, long ago */
	/* The member's own settings (issue 12), those of `own`: */
	uint16_t own;		/* MEMBER_OWN_* */
	bool hold_no_mutual;	/* hold invitations from senders with no
				 * mutual connection */
	bool hold_low_health;	/* ... whose acceptance rate is below the
				 * healthy band */
	uint32_t hold_restricted_days;	/* ... restricted in the last N days */
	uint32_t hold_new_days;	/* ... first seen less than N days ago */
	int64_t digest_every;	/* seconds between digests, 0: none */
	uint32_t auto_min_mutual;	/* accept at once from senders with at
					 * least N mutual connections, 0: off */
	int64_t auto_until;	/* the auto-accept rules end then, 0: never */
};
void store_member_get(struct stx *t, const char *m, size_t mlen,
    struct member_rec *out);
void store_member_put(struct stx *t, const char *m, size_t mlen,
    const struct member_rec *r);

/* Introductions (daemon/intro.c; intro.ask in docs/protocol.md): `from`
 * asked `via`, connected to both, to introduce them to `to`. Their ids
 * come from store_next_id(), shared with invitations and plans. The
 * store keeps the state as it was last written: an introduction still
 * INTRO_ASKED past expires_at reads as expired (rules_intro_view()); its
 * DUE_INTRO_EXPIRE deadline tells of it, and changes no record. */
#define INTRO_STORED INTRO_EXPIRED	/* enum intro_state (proto/vocab.h)
					 * below it are stored: asked,
					 * forwarded (inv_id is the
					 * invitation), declined */
struct intro {
	uint64_t id;
	uint8_t state;		/* enum intro_state */
	bool told;		/* declined, and from was told */
	int64_t created_at;
	int64_t updated_at;
	int64_t expires_at;	/* unanswered by then: expired */
	uint64_t inv_id;	/* forwarded: the invitation, 0: none */
	size_t from_len, via_len, to_len, note_len;
	char from[MEMBER_MAX_BYTES + 1];
	char via[MEMBER_MAX_BYTES + 1];
	char to[MEMBER_MAX_BYTES + 1];
	char note[NOTE_MAX_BYTES + 1];	/* from's note to via */
};
/* store_intro_put writes the record, new or changed (its members never
 * change), and indexes it in from's asked box and via's box. */
int store_intro_get(struct stx *t, uint64_t id, struct intro *out);
void store_intro_put(struct stx *t, const struct intro *in);
/* A member's introductions, newest first, below `before` (0: from the
 * newest), until fn returns false: those the member asked for
 * (IBOX_ASKED, by from) or was asked to make (IBOX_VIA, by via). */
enum store_intro_box { IBOX_ASKED, IBOX_VIA };
void store_scan_intros(struct stx *t, enum store_intro_box box,
    const char *member, size_t len, uint64_t before, store_id_fn fn,
    void *ctx);

/* Bulk import (import.rows): the external ids of the rows imported, each
 * with its row's digest (never 0), so that a row imported again is a
 * duplicate and another row under a used id is refused. An id is 1 to 64
 * bytes, as a member id. store_import_id_get() gives 0 when id is not
 * there. */
uint64_t store_import_id_get(struct stx *t, const char *id, size_t len);
void store_import_id_put(struct stx *t, const char *id, size_t len,
    uint64_t digest);

/* Plans: an opaque record per id (daemon/plan.c knows its shape). */
int store_plan_get(struct stx *t, uint64_t id, void *buf, size_t cap,
    size_t *len);
void store_plan_put(struct stx *t, uint64_t id, const void *buf, size_t len);
/* A member's plans, newest first. */
void store_scan_plans(struct stx *t, const char *m, size_t mlen,
    store_id_fn fn, void *ctx);
void store_plan_index(struct stx *t, const char *m, size_t mlen,
    uint64_t id);

/* The event log, keyed [seq] big-endian. Each event is whose notification
 * it is (member), whether it is told to that member (notify; otherwise it
 * is only in the `all` feed), when, and its packed msgpack map. A member's
 * notifications are also indexed [member][seq]. */
struct event_rec {
	uint64_t seq;
	int64_t at;		/* when it was written: retention counts from it */
	bool notify;
	const char *member;
	size_t member_len;
	const char *data;	/* the packed event map */
	size_t len;
};
/* The seq the next event added in t takes, for the event to carry:
 * store_event_head() + 1; in a keyed transaction on a shared backend
 * (store_begin_keyed()), a stand-in of nine bytes in the packed map
 * (msgpack's uint 64, right after the map's head and its "seq" key: the
 * event's first pair), which the backend replaces by the seq it gives the
 * event as it commits (seqs follow commit order). */
uint64_t store_event_next(struct stx *t);
/* Appends event seq, which must be store_event_next(). */
void store_event_add(struct stx *t, uint64_t seq, int64_t at,
    const char *member, size_t mlen, bool notify, const char *data,
    size_t len);
/* The last seq given (0: none yet), and the last one pruned (0: none) of
 * every event (member NULL) or of member's notifications. */
uint64_t store_event_head(struct stx *t);
uint64_t store_event_pruned(struct stx *t, const char *member, size_t mlen);
/* Events after seq `after`, in order: every one (member NULL) or member's
 * notifications, until fn returns false. */
typedef bool (*store_event_fn)(void *ctx, const struct event_rec *e);
void store_event_scan(struct stx *t, uint64_t after, const char *member,
    size_t mlen, store_event_fn fn, void *ctx);
/* Takes event seq back from its member: it leaves the member's feed (and
 * no longer expires the member's cursors when pruned), and stays in the
 * `all` feed. Nothing when it was not told to its member. */
void store_event_unnotify(struct stx *t, uint64_t seq);
/* Deletes events written at or before `before` (at most max of them);
 * returns how many. */
size_t store_event_prune(struct stx *t, int64_t before, size_t max);

/* Request ids (docs/protocol.md, "Safe retries"): a write's request_id
 * (1 to REQUEST_ID_MAX bytes, no NUL or control character), when it was
 * written, and the server's record of it (what it was asked and answered:
 * opaque here, daemon/server.c lays it out). store_request_get() copies
 * the record into a malloc'd *rec (the caller frees it): STORE_OK, or
 * STORE_NOTFOUND. store_request_put() keeps one, replacing any of the same
 * id. store_request_prune() deletes those written at or before `before`
 * (at most max of them) and returns how many, or 0 where the backend does
 * not wait to know (PostgreSQL sends it with the batch's writes). */
#define REQUEST_ID_MAX 64
int store_request_get(struct stx *t, const char *id, size_t len,
    int64_t *at, void **rec, size_t *reclen);
void store_request_put(struct stx *t, const char *id, size_t len,
    int64_t at, const void *rec, size_t reclen);
size_t store_request_prune(struct stx *t, int64_t before, size_t max);

/* Deadlines, keyed [at][kind][id] big-endian. */
void store_due_add(struct stx *t, const struct due *d);
void store_due_del(struct stx *t, const struct due *d);
/* The earliest deadline; false when there is none. */
bool store_due_first(struct stx *t, struct due *out);
/* The earliest deadline due at or before now that t may apply, claimed
 * for t: false when there is none. LMDB (one writer): store_due_first's,
 * when due. PostgreSQL: deadlines are applied by one daemon at a time
 * (a transaction-level advisory lock, tried, never waited for: false
 * while another daemon's transaction holds it), and the row is taken
 * FOR UPDATE SKIP LOCKED, so a deadline another transaction has in hand
 * is passed over, never waited for; a daemon that dies mid-claim leaves
 * both with its aborted transaction. */
bool store_due_claim(struct stx *t, int64_t now, struct due *out);
/* The database's clock, read once for a batch in t: *real its time (Unix
 * seconds), *vclock the shared virtual clock (0: none saved). False when
 * the store has no clock of its own (LMDB: the daemon's is the clock). */
bool store_db_clock(struct stx *t, int64_t *real, int64_t *vclock);


/* Erasing a member (member.erase, daemon/erase.c). Each removes what its
 * name says with the indexes and counters that go with it:
 * - store_inv_del: the invitation, its rows in both boxes and in the
 *   pair's history, its state's count (and, open, its sender's
 *   open_sent). Its deadlines are the caller's.
 * - store_pair_del: one direction of a pair.
 * - store_log_del: the entry (at, id) of key's log.
 * - store_plan_del: plan id and its row in m's plans (its deadline is the
 *   caller's).
 * - store_intro_del: the introduction and its rows in its asker's and its
 *   introducer's boxes (its deadline is the caller's).
 * - store_event_redact: event seq keeps its place in the `all` feed (the
 *   feed stays gap-free) with data, a packed map, in place of its own;
 *   with nobody, it is nobody's (member "") and told to nobody: it
 *   leaves its member's feed (else its member and feed are as they
 *   were).
 * - store_member_del: what is filed under m alone: its row and settings,
 *   its feed's last-pruned mark, every log of key m but the notes log
 *   (whose keys are "<member>:<hash>": m's are "m:<hash>", and a row of
 *   key m is another's), and the flags m set (blocks and auto-accepts m
 *   made, and the "does not know" reports about m: a = m).
 * - store_scan_intros_to: the ids of the introductions to m, in order,
 *   until fn returns false (no index: a scan of them all).
 * - store_scan_events_naming: the events whose member is m or whose data
 *   holds m's bytes (a superset of those that name m: the caller decodes
 *   them), in seq order, until fn returns false. */
void store_inv_del(struct stx *t, const struct inv *inv);
void store_pair_del(struct stx *t, const char *from, size_t flen,
    const char *to, size_t tlen);
void store_log_del(struct stx *t, enum store_log log, const char *key,
    size_t klen, int64_t at, uint64_t id);
void store_plan_del(struct stx *t, const char *m, size_t mlen, uint64_t id);
void store_intro_del(struct stx *t, const struct intro *in);
void store_event_redact(struct stx *t, uint64_t seq, const char *data,
    size_t len, bool nobody);
void store_member_del(struct stx *t, const char *m, size_t mlen);
void store_scan_intros_to(struct stx *t, const char *m, size_t mlen,
    store_id_fn fn, void *ctx);
void store_scan_events_naming(struct stx *t, const char *m, size_t mlen,
    store_event_fn fn, void *ctx);

/* Whole-store scans and checks, for connreqd --check (daemon/check.c).
 * Every invitation's id, in order; every pair (one direction each), in
 * order of from, then to; every deadline, in [at][kind][id] order; each
 * until fn returns false. */
void store_scan_invitations(struct stx *t, store_id_fn fn, void *ctx);
typedef bool (*store_pair_fn)(void *ctx, const char *from, size_t flen,
    const char *to, size_t tlen, const struct pair *p);
void store_scan_pairs(struct stx *t, store_pair_fn fn, void *ctx);
typedef bool (*store_due_fn)(void *ctx, const struct due *d);
void store_scan_dues(struct stx *t, store_due_fn fn, void *ctx);
/* What only the backend can check of its own tables (LMDB: that each
 * index row has its record, that a connection is written both ways):
 * fn is called once per disagreement, with what it concerns ("index",
 * "connection", ...) and the details. Nothing when the backend has no
 * such check. t is a snapshot. */
typedef void (*store_problem_fn)(void *ctx, const char *what,
    const char *details);
void store_check(struct stx *t, store_problem_fn fn, void *ctx);
/* Opens the store at `where` with the default backend to be checked:
 * read-only, creating nothing, and refused (NULL, *why set) while a
 * connreqd has it open; it then stays closed to a connreqd until
 * store_close(). Only snapshots may be begun on it. */
struct store *store_open_check(const char *where, char *why, size_t whylen);

/* The PostgreSQL backend (daemon/store-pg.c) on the database conninfo
 * names (anything libpq takes): as store_open() and store_open_check(). */
struct store *store_open_pg(const char *conninfo, char *why, size_t whylen);
struct store *store_open_pg_check(const char *conninfo, char *why,
    size_t whylen);
/* Whether s's calls wait on a network round trip (PostgreSQL): the server
 * then makes every store call on a worker thread (daemon/exec.h), never on
 * its event loop. */
bool store_blocking(const struct store *s);
/* Its backend's name: "lmdb" or "postgresql". */
const char *store_name(const struct store *s);

/* Copying a whole store, from one backend to another (connreqd
 * --copy-store, daemon/copy.c). store_export() calls fn with every record
 * of the store, one typed record each, until fn returns false: each kind
 * in the order of STORE_RECS, and within a kind in key order (the same
 * order on every backend, so that the exports of two stores compare
 * record by record). What a backend derives from these (LMDB's sent,
 * received, history and member_events indexes; PostgreSQL's indexes) is
 * not exported: store_import() makes it again. The meta values come last,
 * one record for each name of STORE_META (0 when the store has none); a
 * backend that keeps a meta value of a name not in STORE_META fails the
 * export, so that nothing of a store is left behind unseen.
 *
 * store_import() writes one record as it was exported, in a write
 * transaction, into a store that had none of that kind: it keeps the
 * backend's own indexes but none of the domain's bookkeeping (counters,
 * open_sent, event.head are the meta and member records' own, imported as
 * they were). A backend may gather what is imported and write it at the
 * transaction's next statement or commit (PostgreSQL: by COPY, a
 * statement per table, not per record); a failure is then reported there,
 * by store_commit() at the latest. */
#define STORE_RECS(X) \
	X(SREC_INVITATION, "invitations") \
	X(SREC_PAIR, "pairs") \
	X(SREC_CONNECTION, "connections") \
	X(SREC_DEADLINE, "deadlines") \
	X(SREC_LOG, "log entries") \
	X(SREC_FLAG, "flags") \
	X(SREC_MEMBER, "member records") \
	X(SREC_PLAN, "plans") \
	X(SREC_PLAN_INDEX, "plan index entries") \
	X(SREC_EVENT, "events") \
	X(SREC_PRUNED, "pruned marks") \
	X(SREC_INTRO, "introductions") \
	X(SREC_REQUEST, "request ids") \
	X(SREC_IMPORT_ID, "import ids") \
	X(SREC_META, "meta values")
#define STORE_REC_ENUM(kind, name) kind,
enum store_rec_kind { STORE_RECS(STORE_REC_ENUM) SREC_COUNT };
#undef STORE_REC_ENUM
/* "invitations", "pairs", ...: by kind. */
extern const char *const store_rec_names[SREC_COUNT];
/* The meta values every backend keeps, by name. */
#define STORE_META(X) \
	X("next_id") X("vclock") X("event.head") X("event.pruned") \
	X("count.pending") X("count.accepted") X("count.ignored") \
	X("count.withdrawn") X("count.expired") X("count.connections") \
	X("count.deadlines")

/* One record. Which fields mean what, by kind (the others are zero):
 *   INVITATION  inv
 *   PAIR        a = from, b = to, pair
 *   CONNECTION  a, b (a before b in byte order: each connection once),
 *               at = since
 *   DEADLINE    due
 *   LOG         sub = enum store_log, a = key, at, id, value
 *   FLAG        sub = enum store_flag, a, b
 *   MEMBER      a = member, member
 *   PLAN        id, data/len = the record
 *   PLAN_INDEX  a = member, id
 *   EVENT       ev
 *   PRUNED      a = member, id = its last pruned seq
 *   INTRO       intro
 *   REQUEST     a = the request id, at, data/len = the record
 *   IMPORT_ID   a = the external id (import.rows'), id = its row's digest
 *   META        a = name (one of STORE_META), id = value
 * Pointers are valid during the callback only. */
struct store_rec {
	enum store_rec_kind kind;
	const char *a, *b;
	size_t alen, blen;
	uint8_t sub, value;
	int64_t at;
	uint64_t id;
	const void *data;
	size_t len;
	const struct inv *inv;
	const struct member_rec *member;
	const struct intro *intro;
	struct pair pair;
	struct due due;
	struct event_rec ev;
};
typedef bool (*store_rec_fn)(void *ctx, const struct store_rec *r);
/* t: a snapshot. A failure is t's sticky error. */
void store_export(struct stx *t, store_rec_fn fn, void *ctx);
void store_import(struct stx *t, const struct store_rec *r);
/* The record as one line of text, every field of it (bytes escaped):
 * malloc'd. Two records are the same when their lines are. */
char *store_rec_show(const struct store_rec *r);

/* Which backend `where` names (connreqd --copy-store's FROM and TO): a
 * PostgreSQL conninfo (a postgresql:// or postgres:// URI, or key=value
 * pairs: it begins with a word and `=`), or else an LMDB directory. */
const struct store_ops *store_backend_for(const char *where);
/* Its name: "lmdb" or "postgresql". */
const char *store_backend_name(const char *where);
/* What a log line, server.info or a message may show of `where`: an LMDB
 * directory as it is; a PostgreSQL conninfo without its password (and
 * sslpassword), however written (a URI's user:password@, key=value, a
 * percent-encoded key). Into buf, len bytes; returns buf. */
const char *store_where_shown(const char *where, char *buf, size_t len);
/* Opens the store at `where` with its backend (store_backend_for) as
 * store_open_check() does. */
struct store *store_open_copy_source(const char *where, char *why,
    size_t whylen);
/* Opens the store at `where` (store_backend_for) to be written by this
 * process alone: as store_open_backend(), but refused, on PostgreSQL too,
 * while a connreqd or a check has it open, and closed to them until
 * store_close() (LMDB's lock is always so). */
struct store *store_open_alone(const char *where, uint64_t map_max,
    char *why, size_t whylen);

/* Other daemons' commits, on a store that several daemons share
 * (PostgreSQL): a watch is a connection of its own that listens for the
 * event head each commit that added events announces, driven from the
 * event loop without ever blocking it. store_watch_new() gives NULL when
 * the backend has nothing to watch (LMDB: this daemon alone writes it).
 * store_watch_step() takes the watch as far as it can go now (first,
 * after its descriptor was ready, or after a pause while it was down) and
 * returns the descriptor to wait on, with *want a mask of
 * STORE_WATCH_READ and STORE_WATCH_WRITE, or -1 when it is down (the
 * connection lost or refused: step again after a pause to reconnect).
 * *head is the highest event head heard of since the last step, 0 when
 * none: another daemon's commit, or, each time it has (re)connected, the
 * head as it then is (what was announced meanwhile was not heard). */
#define STORE_WATCH_READ 1
#define STORE_WATCH_WRITE 2
struct store_watch;
struct store_watch *store_watch_new(struct store *s);
int store_watch_step(struct store_watch *w, int *want, uint64_t *head);
/* Whether w is connected and listening. */
bool store_watch_up(const struct store_watch *w);
/* How long, in milliseconds, the caller may wait on the descriptor the
 * last step gave before stepping again anyway: while the watch connects,
 * the time left of its deadline (PostgreSQL: the conninfo's
 * connect_timeout, 10 s without one), after which that step gives up
 * (-1: down); -1 when there is no limit. */
int store_watch_timeout(const struct store_watch *w);
void store_watch_free(struct store_watch *w);

/* The backends: store_open() takes the first; store-backend.h says what a
 * backend provides. */
struct store_ops;
extern const struct store_ops *const store_backends[];	/* NULL-ended */
struct store *store_open_backend(const struct store_ops *ops,
    const char *where, uint64_t map_max, char *why, size_t whylen);

#endif
