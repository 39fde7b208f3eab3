/* daemon/store-pg.c: the store (store.h) in PostgreSQL, through libpq. A
 * store is one database (`where` is a libpq conninfo: key=value pairs or a
 * URI); nothing outside this file knows PostgreSQL: it exports only its
 * table, store_pg.
 *
 * libpq's blocking API, on the daemon's worker thread (daemon/exec.c),
 * with pipeline mode for a write transaction's writes (below). Everything
 * hangs off the struct store (no global mutable state). Every statement is prepared once per connection (lazily, on its
 * first use there) and run with binary parameters and binary results:
 * member ids, notes, emails, plans and events are bytea, byte for byte.
 *
 * Schema (version PG_SCHEMA, in meta's schema_version row; a new database
 * is made at version 1 and migrated through pg_migrations[]):
 *
 *   meta           name text PK, value bigint: schema_version (next_id
 *                  until version 5, which moved it into invitation_ids:
 *                  the export gives it from there), vclock, event.head,
 *                  event.pruned, count.<state>, count.connections,
 *                  count.deadlines (all made with the schema, so writes
 *                  only UPDATE them)
 *   invitation_ids a sequence: the ids given (invitations, plans,
 *                  introductions)
 *   invitations    id PK and the fields of struct inv (sender, recipient,
 *                  note bytea); indexes (sender, id) and (recipient, id)
 *                  for the boxes, (least, greatest of the two, id) for the
 *                  history, and a partial unique index on (sender,
 *                  recipient) WHERE state = pending: at most one pending
 *                  invitation per ordered pair, whoever writes
 *   pairs          (sender, recipient) PK, one direction each
 *   connections    (lo, hi) PK, one row per unordered pair (lo the lesser
 *                  id), and an index on (hi, lo): a lookup is one probe
 *                  either way round, a member's connections two index
 *                  ranges merged, and "connected exactly once" is a key
 *   logs           (log, key, at, id) PK, value
 *   flags          (flag, a, b) PK
 *   members        member PK and struct member_rec (first_seen_at and
 *                  the settings in settings bytea, as
 *                  store_member_settings_pack() lays them out)
 *   plans          id PK, record bytea; member_plans (member, id) PK
 *   introductions  id PK and the fields of struct intro (from_member,
 *                  via, to_member, note bytea); indexes (from_member, id)
 *                  and (via, id) for the boxes
 *   events         seq PK, at, member, notify, data; a partial index on
 *                  (member, seq) WHERE notify is a member's feed
 *   member_pruned  member PK, seq: the member's last pruned notification
 *   dues           (at, kind, id) PK: the deadlines
 *   requests       id PK (a write's request_id), at, record bytea (the
 *                  server's record of it); an index on at for pruning
 *
 * Member ids are bytea, which compares as memcmp and then by length: the
 * order of LMDB's NUL-terminated keys ("ali" before "alice"), so scans
 * come in the same order on both backends.
 *
 * Transactions: a top-level write transaction is BEGIN ISOLATION LEVEL
 * SERIALIZABLE on the store's connection, after LOCK_WRITE (writers take
 * turns across daemons), or, begun keyed (store_begin_keyed(): the server's
 * batches of two or more sends), READ COMMITTED after LOCK_WRITE taken
 * shared, then a transaction lock on each of its keys (Q_KEY_LOCKS, sorted),
 * all in the round trip of BEGIN: keyed transactions of other keys run at
 * once, each statement after the locks seeing the keys' last commits; a
 * keyed one's events are kept (kev_add()) and given their seqs after
 * event.head's as it ends (Q_EVENTS_KEYED, in the round trip of its writes'
 * results, which the server asks for last: kev_commit()), written over the
 * stand-in seq store_event_next() gave them; ids come from the sequence
 * invitation_ids, taken ahead for the sends hinted (hint_run()), and
 * those an exclusive transaction took and did not give go back as it ends
 * (no gaps but a keyed transaction's); a child is a SAVEPOINT (its
 * commit RELEASE, its abort ROLLBACK TO and RELEASE); a read transaction
 * takes a connection of its own from a small pool (snapshots are open
 * beside the write transaction), see pg_begin(). A serialization failure
 * (SQLSTATE 40001, or a deadlock 40P01) is STORE_CONFLICT: the caller runs
 * the transaction again; a connection lost or refused is STORE_UNAVAILABLE
 * (the next begin connects again). A commit is durable when COMMIT returns (as
 * synchronous_commit and the cluster's standbys make it), so the
 * durability ops say each commit is durable at once.
 *
 * Copying (store_export, store_import): the export reads each table
 * through a cursor of the snapshot; the import gathers rows per table in
 * COPY's text format and sends them by COPY before the transaction's next
 * statement, savepoint or commit (or once 4 MiB is gathered).
 *
 * Round trips (issue 11's bench): a write transaction waits for the
 * server only when it needs an answer. Its writes go through libpq's
 * pipeline (pipe_send()), their results read in the round trip of its next
 * read, SAVEPOINT, RELEASE or COMMIT, or when store_error() asks (not
 * while the server defers it, store_defer(): a batch's requests do not
 * wait for their writes, and a failure among them runs the batch again
 * with a child per request); the writes of the statements a send makes
 * (an invitation, its deadlines, its event, the pair, the log entry, the
 * sender's row) are gathered and sent as one many-row statement each
 * (wbuf_add(); a row whose key is gathered already takes its place),
 * before anything that could see them; what a send reads of two members
 * (pairs both ways, connection, flags, members, their history, how many
 * connections they share, the sender's sends and notes logs) comes in
 * one statement, asked for by store_hint_send(), which the server calls
 * for every send of a batch before it runs them (and before the
 * deadlines): the first read after that (the deadlines' claim) reads the
 * bundles of all the hints kept in its round trip (hint_run()), two or
 * more as one statement (Q_BUNDLE_MANY: arrays of the hints' members,
 * each element's bundle a lateral subquery, the rows split by the
 * element's ordinal; planned once, where a statement each was planned
 * once each: that planning was most of a batch's server time); all is
 * kept, as are a log key's entries (pg_log_count()); event.head, the
 * counters, the oldest event's time and the first deadline come with the
 * clock, read in the round trip of LOCK_WRITE and BEGIN (pg_begin():
 * store_counts(), store_due_first() and a prune with nothing old enough
 * then cost none), as do the sends' ids with their reads; the meta values
 * a send changes (event.head, counters) are written once, in the
 * simple query of the next SAVEPOINT (pend_sql()) or in COMMIT's round
 * trip (Q_PEND), which also gives the lock back (commit_unlock()). A
 * child's rollback drops what it held back. The statements of the first
 * round trip and of the last are prepared in them, once a connection. A
 * batch of sends: 4 round trips (the lock, BEGIN and the clock; the
 * deadlines' claim and the sends' reads and ids; their writes, as one
 * statement a table, or a keyed batch's with its events; COMMIT), but
 * those that prepare a statement on a connection's first use (8 before,
 * and 71 before that; 26 a send before the pipeline).
 *
 * Events: a seq is event.head + 1, and the head row is written by the
 * transaction (at its COMMIT, or a SAVEPOINT before; a keyed one's in its
 * last round trip, kev_commit()), under LOCK_WRITE (or held to COMMIT):
 * daemons sharing the database add events one transaction at a time, so
 * seqs follow commit order and a rollback leaves no gap (the row's lock,
 * taken by that write and held to COMMIT, orders any other writer). A
 * commit that added events notifies WATCH_CHANNEL with the new head; a
 * daemon hears it on its watch (store_watch_new()), a nonblocking
 * connection of its own that LISTENs. Retention is a ranged DELETE on the
 * primary key, the oldest first, bounded by its max.
 *
 * Scans page through their rows (keyset paging, PAGE rows a statement),
 * each page a whole PGresult: a callback may stop early, and may read
 * through the same connection while the page is held. */
#include "store-backend.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "../common/be.h"

#define PG_SCHEMA 5		/* the schema this code reads and writes */
#define PAGE 128		/* rows a scan fetches at a time */
#define STR_(x) #x
#define STR(x) STR_(x)
#define POOL_MAX 4		/* idle read connections kept */
#define PIPE_MAX 64		/* writes sent before their results are read */
#define LOG_CACHE_MAX 1024	/* a log's entries the cache keeps of a key */
#define PEND_SQL_MAX 640	/* pend_sql()'s statement */
#define HINT_MAX 32		/* sends' hints read in one round trip */
/* What a write's count of rows changed says, read with its result:
 * nothing, deadlines added or deleted (count.deadlines, pend_sql()), or
 * request ids pruned (a full share: more are due, pg_request_prune()). */
enum { PZ_NONE, PZ_DUE, PZ_PRUNE, PZ_DUE_DEL };
#define LOCK_TIMEOUT_MS 5000	/* a lock held elsewhere: UNAVAILABLE after */
#define STATEMENT_TIMEOUT_MS 30000	/* a statement: UNAVAILABLE after */
/* Session advisory lock keys (in the store's database): connreqd holds
 * LOCK_OPEN shared; store_open_check takes it exclusive. LOCK_CREATE
 * serializes the creation of the schema by daemons starting together. */
#define LOCK_OPEN "7165328340573331201"
#define LOCK_CREATE "7165328340573331202"
/* Writers take turns: a write transaction takes LOCK_WRITE before it
 * begins (so its snapshot is taken after the previous writer's commit)
 * and gives it back when it ends. Every write updates the same meta rows
 * (next id, event head, counts), so two daemons' write transactions at
 * once would conflict on them anyway and one would run again, or, after
 * its retries, answer UNAVAILABLE; in turn they wait instead. A lock
 * held past lock_timeout is UNAVAILABLE. */
#define LOCK_WRITE "7165328340573331204"
/* The channel a commit that added events notifies, its payload the new
 * event head in decimal (store_watch). */
#define WATCH_CHANNEL "connreq_events"
/* Transaction advisory lock: the transaction that holds it applies the
 * deadlines that are due (pg_due_claim()). */
#define LOCK_DUES "7165328340573331203"

_Static_assert(ST_COUNT == 5, "the count.<state> names below");
_Static_assert(FLAG_BLOCK == 0 && FLAG_NOGO == 1 && FLAG_AUTOACCEPT == 2 &&
    FLAG_COUNT == 3, "Q_BUNDLE's flags");

/* The write transaction's cache (cache_bundle()): what it keeps of two
 * members, in one statement. The columns: kind (CK_*), the key, then the
 * row (a member's email last). Each way round is a branch of its own (a
 * plain index probe; an OR of the two was a bitmap heap scan, rescanned
 * for each element of Q_BUNDLE_MANY), the second not run when A is B. */
#define BUNDLE_SQL_OF(A, B) \
	"SELECT 0::smallint, sender, recipient, open_id, " \
	"cooldown_until, withdrawals, attempts, NULL::bytea, NULL::bytea " \
	"FROM pairs WHERE sender = " A "::bytea AND recipient = " B "::bytea " \
	"UNION ALL SELECT 0, sender, recipient, open_id, cooldown_until, " \
	"withdrawals, attempts, NULL, NULL FROM pairs " \
	"WHERE sender = " B "::bytea AND recipient = " A "::bytea " \
	"AND " B "::bytea <> " A "::bytea " \
	"UNION ALL SELECT 1, lo, hi, since, 0, 0, 0, NULL, NULL " \
	"FROM connections " \
	"WHERE lo = least(" A "::bytea, " B "::bytea) " \
	"AND hi = greatest(" A "::bytea, " B "::bytea) " \
	"UNION ALL SELECT 2, a, b, flag, 0, 0, 0, NULL, NULL FROM flags " \
	"WHERE flag IN (0, 1, 2) AND a = " A "::bytea AND b = " B "::bytea " \
	"UNION ALL SELECT 2, a, b, flag, 0, 0, 0, NULL, NULL FROM flags " \
	"WHERE flag IN (0, 1, 2) AND a = " B "::bytea AND b = " A "::bytea " \
	"AND " B "::bytea <> " A "::bytea " \
	"UNION ALL SELECT 3, member, ''::bytea, invitations_from, " \
	"restricted_until, restricted_at, open_sent, email, settings " \
	"FROM members WHERE member = " A "::bytea " \
	"UNION ALL SELECT 3, member, ''::bytea, invitations_from, " \
	"restricted_until, restricted_at, open_sent, email, settings " \
	"FROM members WHERE member = " B "::bytea " \
	"AND " B "::bytea <> " A "::bytea " \
	"UNION ALL (SELECT 4, ''::bytea, ''::bytea, id, 0, 0, 0, NULL, NULL " \
	"FROM invitations " \
	"WHERE least(sender, recipient) = least(" A "::bytea, " B "::bytea) " \
	"AND greatest(sender, recipient) = greatest(" A "::bytea, " B "::bytea) " \
	"ORDER BY id LIMIT " STR(PAGE) ")"

#define BUNDLE_SQL BUNDLE_SQL_OF("$1", "$2")

/* Member m's connections after $3 (the other's id o, since), how many
 * (counted no further than MUTUAL_LIST_MAX), and the connection of m
 * with x.o (a probe): Q_SCAN_MUTUAL's parts. */
#define MUTUAL_LIST_MAX 100000
#define CONN_LIST(m) \
	"(SELECT hi AS o, since FROM connections WHERE lo = " m "::bytea " \
	"AND hi > $3::bytea UNION ALL SELECT lo, since FROM connections " \
	"WHERE hi = " m "::bytea AND lo > $3::bytea)"
#define CONN_COUNT(m) \
	"(SELECT count(*) FROM (SELECT 1 FROM connections WHERE lo = " m \
	"::bytea AND hi > $3::bytea UNION ALL SELECT 1 FROM connections " \
	"WHERE hi = " m "::bytea AND lo > $3::bytea LIMIT " \
	STR(MUTUAL_LIST_MAX) ") x)"
#define CONN_PROBE(m) \
	"(SELECT since FROM connections WHERE lo = least(x.o, " m "::bytea) " \
	"AND hi = greatest(x.o, " m "::bytea) LIMIT 1)"
/* How many connections $1 and $2 share, counted no further than
 * MUTUAL_KEEP, as Q_SCAN_MUTUAL from the start finds them (the
 * recipient's view of a send's invitation shows it, up to rules.h's
 * MUTUAL_COUNT_MAX): Q_BUNDLE_SEND's part. */
#define MUTUAL_KEEP 1000
#define CONN_LIST0(m) \
	"(SELECT hi AS o FROM connections WHERE lo = " m "::bytea " \
	"UNION ALL SELECT lo FROM connections WHERE hi = " m "::bytea)"
#define CONN_COUNT0(m) \
	"(SELECT count(*) FROM (SELECT 1 FROM connections WHERE lo = " m \
	"::bytea UNION ALL SELECT 1 FROM connections WHERE hi = " m \
	"::bytea LIMIT " STR(MUTUAL_LIST_MAX) ") x)"
/* Whether member m has a connection: a probe of each index, LIMIT 1
 * (plain index scans, no count), so that a member with none (most
 * members of a new platform, and the bench's) costs two probes. */
#define CONN_ANY(m) \
	"(EXISTS (SELECT 1 FROM connections WHERE lo = " m "::bytea) " \
	"OR EXISTS (SELECT 1 FROM connections WHERE hi = " m "::bytea))"
/* The count, MUTUAL_N_FULL, run only when both have a connection (a CASE
 * evaluates its THEN only when the WHEN holds): 0 otherwise, as the
 * count would be, at two or four probes instead of the counts and the
 * lists' scans. */
#define MUTUAL_N_OF(A, B) \
	"CASE WHEN " CONN_ANY(A) " AND " CONN_ANY(B) " THEN " \
	MUTUAL_N_FULL(A, B) " ELSE 0::bigint END"
#define MUTUAL_N_FULL(A, B) \
	"(WITH n AS MATERIALIZED (SELECT " CONN_COUNT0(A) " AS na, " \
	CONN_COUNT0(B) " AS nb) SELECT count(*) FROM (SELECT 1 FROM " \
	CONN_LIST0(A) " x CROSS JOIN LATERAL " CONN_PROBE(B) " c " \
	"WHERE (SELECT na <= nb FROM n) UNION ALL SELECT 1 FROM " \
	CONN_LIST0(B) " x CROSS JOIN LATERAL " CONN_PROBE(A) " c " \
	"WHERE (SELECT nb < na FROM n) LIMIT " STR(MUTUAL_KEEP) ") m)"

/* A send's bundle: the bundle of A and B, A's logs after T (LOG_SENDS
 * $5, key A; LOG_NOTES $6, key N), up to LOG_CACHE_MAX each, kinds CK_LOG
 * and CK_LOG + 1, and how many connections A and B share (CK_MUTUAL). */
#define BUNDLE_SEND_OF(A, B, T, N) \
	BUNDLE_SQL_OF(A, B) " UNION ALL (SELECT 5, ''::bytea, " \
	"''::bytea, at, id, 0, 0, NULL, NULL FROM logs " \
	"WHERE log = $5::smallint " \
	"AND key = " A "::bytea AND at > " T "::bigint ORDER BY at, id LIMIT " \
	STR(LOG_CACHE_MAX) ") UNION ALL (SELECT 6, ''::bytea, ''::bytea, " \
	"at, id, 0, 0, NULL, NULL FROM logs WHERE log = $6::smallint " \
	"AND key = " N "::bytea AND at > " T "::bigint ORDER BY at, id LIMIT " \
	STR(LOG_CACHE_MAX) ") UNION ALL SELECT 7, ''::bytea, ''::bytea, " \
	MUTUAL_N_OF(A, B) ", 0, 0, 0, NULL, NULL"

/* The statements, prepared as "q<index>". Parameters are cast to their
 * types so that binary parameters are read as such. */
#define PG_QUERIES(X) \
	X(Q_META_GET, "SELECT value FROM meta WHERE name = $1::text") \
	X(Q_META_SET, "UPDATE meta SET value = $2::bigint WHERE name = $1::text") \
	X(Q_COUNTS, "SELECT name, value FROM meta WHERE name LIKE 'count.%'") \
	X(Q_INV_GET, "SELECT state, priority, attempt, created_at, " \
	    "updated_at, expires_at, stale_at, reminded_at, ignored, " \
	    "reported, resend_of, sender, recipient, note, held, automatic, " \
	    "remind_at, introduced_by FROM invitations WHERE id = $1::bigint") \
	X(Q_INV_PUT, "INSERT INTO invitations (id, state, priority, attempt, " \
	    "created_at, updated_at, expires_at, stale_at, reminded_at, " \
	    "ignored, reported, resend_of, sender, recipient, note, held, " \
	    "automatic, remind_at, introduced_by) VALUES " \
	    "($1::bigint, $2::smallint, $3::smallint, $4::bigint, " \
	    "$5::bigint, $6::bigint, $7::bigint, $8::bigint, $9::bigint, " \
	    "$10::boolean, $11::boolean, $12::bigint, $13::bytea, $14::bytea, " \
	    "$15::bytea, $16::boolean, $17::boolean, $18::bigint, $19::bytea) " \
	    "ON CONFLICT (id) DO UPDATE SET " \
	    "state = EXCLUDED.state, priority = EXCLUDED.priority, " \
	    "attempt = EXCLUDED.attempt, created_at = EXCLUDED.created_at, " \
	    "updated_at = EXCLUDED.updated_at, " \
	    "expires_at = EXCLUDED.expires_at, stale_at = EXCLUDED.stale_at, " \
	    "reminded_at = EXCLUDED.reminded_at, ignored = EXCLUDED.ignored, " \
	    "reported = EXCLUDED.reported, resend_of = EXCLUDED.resend_of, " \
	    "sender = EXCLUDED.sender, recipient = EXCLUDED.recipient, " \
	    "note = EXCLUDED.note, held = EXCLUDED.held, " \
	    "automatic = EXCLUDED.automatic, remind_at = EXCLUDED.remind_at, " \
	    "introduced_by = EXCLUDED.introduced_by") \
	X(Q_BOX_SENT, "SELECT id FROM invitations WHERE sender = $1::bytea " \
	    "AND id < $2::bigint ORDER BY id DESC LIMIT $3::bigint") \
	X(Q_BOX_RECEIVED, "SELECT id FROM invitations " \
	    "WHERE recipient = $1::bytea AND id < $2::bigint " \
	    "ORDER BY id DESC LIMIT $3::bigint") \
	X(Q_HISTORY, "SELECT id FROM invitations " \
	    "WHERE least(sender, recipient) = least($1::bytea, $2::bytea) " \
	    "AND greatest(sender, recipient) = greatest($1::bytea, $2::bytea) " \
	    "AND id > $3::bigint ORDER BY id LIMIT $4::bigint") \
	X(Q_PAIR_GET, "SELECT open_id, cooldown_until, withdrawals, attempts " \
	    "FROM pairs WHERE sender = $1::bytea AND recipient = $2::bytea") \
	X(Q_PAIR_PUT, "INSERT INTO pairs VALUES ($1::bytea, $2::bytea, " \
	    "$3::bigint, $4::bigint, $5::bigint, $6::bigint) " \
	    "ON CONFLICT (sender, recipient) DO UPDATE SET " \
	    "open_id = EXCLUDED.open_id, " \
	    "cooldown_until = EXCLUDED.cooldown_until, " \
	    "withdrawals = EXCLUDED.withdrawals, attempts = EXCLUDED.attempts") \
	X(Q_BUNDLE, BUNDLE_SQL) \
	/* A send's (store_hint_send()): the bundle and the sender's logs \
	 * after $3 (LOG_SENDS $5, key $1; LOG_NOTES $6, key $4), up to \
	 * LOG_CACHE_MAX each, kinds CK_LOG and CK_LOG + 1. */ \
	X(Q_BUNDLE_SEND, BUNDLE_SEND_OF("$1", "$2", "$3", "$4")) \
	/* The sends' bundles of a batch in one statement (hint_run()): \
	 * Q_BUNDLE_SEND's for each element of the arrays $1 (senders), $2 \
	 * (recipients), $3 (since) and $4 (notes keys, NULL for none), its \
	 * rows each followed by the element's ordinal. */ \
	X(Q_BUNDLE_MANY, "SELECT bm.*, v.k FROM unnest($1::bytea[], " \
	    "$2::bytea[], $3::bigint[], $4::bytea[]) WITH ORDINALITY " \
	    "AS v(a, b, t, n, k) CROSS JOIN LATERAL (" \
	    BUNDLE_SEND_OF("v.a", "v.b", "v.t", "v.n") ") bm") \
	/* The write transaction's cache of a log (log_cached()): the times \
	 * of a key's entries after a time, up to LOG_CACHE_MAX. */ \
	X(Q_LOG_ATS, "SELECT at, id FROM logs WHERE log = $1::smallint " \
	    "AND key = $2::bytea AND at > $3::bigint ORDER BY at, id " \
	    "LIMIT " STR(LOG_CACHE_MAX)) \
	X(Q_CONN_GET, "SELECT since FROM connections " \
	    "WHERE lo = least($1::bytea, $2::bytea) " \
	    "AND hi = greatest($1::bytea, $2::bytea)") \
	X(Q_CONN_PUT, "WITH c AS (INSERT INTO connections VALUES " \
	    "(least($1::bytea, $2::bytea), greatest($1::bytea, $2::bytea), " \
	    "$3::bigint) ON CONFLICT (lo, hi) DO UPDATE " \
	    "SET since = EXCLUDED.since RETURNING (xmax = 0) AS fresh) " \
	    "UPDATE meta SET value = value + 1 " \
	    "WHERE name = 'count.connections' AND (SELECT fresh FROM c)") \
	X(Q_CONN_DEL, "WITH d AS (DELETE FROM connections " \
	    "WHERE lo = least($1::bytea, $2::bytea) " \
	    "AND hi = greatest($1::bytea, $2::bytea) RETURNING 1) " \
	    "UPDATE meta SET value = value - 1 " \
	    "WHERE name = 'count.connections' AND EXISTS (SELECT 1 FROM d)") \
	X(Q_SCAN_CONNS, "(SELECT hi AS other, since FROM connections " \
	    "WHERE lo = $1::bytea AND hi > $2::bytea ORDER BY hi " \
	    "LIMIT $3::bigint) UNION ALL (SELECT lo, since FROM connections " \
	    "WHERE hi = $1::bytea AND lo > $2::bytea ORDER BY lo " \
	    "LIMIT $3::bigint) ORDER BY 1 LIMIT $3::bigint") \
	/* store_scan_mutual: the mutual connections of $1 and $2 after $3, \
	 * at most $4 rows. The two lists' lengths past $3 are counted \
	 * (index-only, up to MUTUAL_LIST_MAX), and each connection of the \
	 * shorter list is a probe of the other member's (a key lookup in a \
	 * LATERAL ... LIMIT 1, which no plan turns into a scan): O(min log \
	 * n) probes after two cheap counts. The branch not taken is not \
	 * run (a one-time filter on the counts). A leapfrog as LMDB's, in \
	 * a recursive query, took 1 s for two members of 10,000 \
	 * interleaved connections; a plain join of the two lists, planned \
	 * generically, up to 9 s (docs/performance.md, mutual-10k). */ \
	X(Q_SCAN_MUTUAL, "WITH n AS MATERIALIZED (SELECT " \
	    CONN_COUNT("$1") " AS na, " CONN_COUNT("$2") " AS nb) " \
	    "SELECT o, sa, sb FROM (" \
	    "SELECT x.o, x.since AS sa, c.since AS sb FROM " CONN_LIST("$1") \
	    " x CROSS JOIN LATERAL " CONN_PROBE("$2") " c " \
	    "WHERE (SELECT na <= nb FROM n) " \
	    "UNION ALL SELECT x.o, c.since, x.since FROM " CONN_LIST("$2") \
	    " x CROSS JOIN LATERAL " CONN_PROBE("$1") " c " \
	    "WHERE (SELECT nb < na FROM n)" \
	    ") m ORDER BY o LIMIT $4::bigint") \
	X(Q_LOG_ADD, "INSERT INTO logs VALUES ($1::smallint, $2::bytea, " \
	    "$3::bigint, $4::bigint, $5::smallint) " \
	    "ON CONFLICT (log, key, at, id) DO UPDATE SET value = EXCLUDED.value") \
	X(Q_LOG_COUNT, "SELECT count(*), coalesce(min(at), 0) FROM " \
	    "(SELECT at FROM logs WHERE log = $1::smallint AND key = $2::bytea " \
	    "AND at > $3::bigint ORDER BY at LIMIT $4::bigint) x") \
	X(Q_LOG_BACK, "SELECT at, id, value FROM logs WHERE log = $1::smallint " \
	    "AND key = $2::bytea AND (at, id) < ($3::bigint, $4::bigint) " \
	    "ORDER BY at DESC, id DESC LIMIT $5::bigint") \
	X(Q_IMPORT_ID_GET, "SELECT digest FROM import_ids " \
	    "WHERE ext_id = $1::bytea") \
	X(Q_IMPORT_ID_PUT, "INSERT INTO import_ids VALUES ($1::bytea, " \
	    "$2::bigint) ON CONFLICT (ext_id) DO UPDATE SET " \
	    "digest = EXCLUDED.digest") \
	X(Q_FLAG_GET, "SELECT 1 FROM flags WHERE flag = $1::smallint " \
	    "AND a = $2::bytea AND b = $3::bytea") \
	X(Q_FLAG_ON, "INSERT INTO flags VALUES ($1::smallint, $2::bytea, " \
	    "$3::bytea) ON CONFLICT DO NOTHING") \
	X(Q_FLAG_OFF, "DELETE FROM flags WHERE flag = $1::smallint " \
	    "AND a = $2::bytea AND b = $3::bytea") \
	X(Q_SCAN_FLAGS, "SELECT b FROM flags WHERE flag = $1::smallint " \
	    "AND a = $2::bytea AND b > $3::bytea ORDER BY b " \
	    "LIMIT " STR(PAGE)) \
	X(Q_MEMBER_GET, "SELECT invitations_from, email, restricted_until, " \
	    "restricted_at, open_sent, settings FROM members " \
	    "WHERE member = $1::bytea") \
	X(Q_MEMBER_PUT, "INSERT INTO members (member, invitations_from, " \
	    "email, restricted_until, restricted_at, open_sent, settings) " \
	    "VALUES ($1::bytea, $2::smallint, $3::bytea, $4::bigint, " \
	    "$5::bigint, $6::bigint, $7::bytea) " \
	    "ON CONFLICT (member) DO UPDATE SET " \
	    "invitations_from = EXCLUDED.invitations_from, " \
	    "email = EXCLUDED.email, " \
	    "restricted_until = EXCLUDED.restricted_until, " \
	    "restricted_at = EXCLUDED.restricted_at, " \
	    "open_sent = EXCLUDED.open_sent, settings = EXCLUDED.settings") \
	X(Q_PLAN_GET, "SELECT record FROM plans WHERE id = $1::bigint") \
	X(Q_PLAN_PUT, "INSERT INTO plans VALUES ($1::bigint, $2::bytea) " \
	    "ON CONFLICT (id) DO UPDATE SET record = EXCLUDED.record") \
	X(Q_REQUEST_GET, "SELECT at, record FROM requests " \
	    "WHERE id = $1::bytea") \
	X(Q_REQUEST_PUT, "INSERT INTO requests VALUES ($1::bytea, " \
	    "$2::bigint, $3::bytea) ON CONFLICT (id) DO UPDATE SET " \
	    "at = EXCLUDED.at, record = EXCLUDED.record") \
	/* Pipelined, not waited for (pg_request_prune()): while none is \
	 * due (most batches) it is one index probe. */ \
	X(Q_REQUEST_PRUNE, "DELETE FROM requests WHERE id IN " \
	    "(SELECT id FROM requests WHERE at <= $1::bigint ORDER BY at " \
	    "LIMIT $2::bigint)") \
	X(Q_PLAN_INDEX, "INSERT INTO member_plans VALUES ($1::bytea, " \
	    "$2::bigint) ON CONFLICT DO NOTHING") \
	X(Q_SCAN_PLANS, "SELECT id FROM member_plans WHERE member = $1::bytea " \
	    "AND id < $2::bigint ORDER BY id DESC LIMIT $3::bigint") \
	X(Q_INTRO_GET, "SELECT state, told, created_at, updated_at, " \
	    "expires_at, invitation, from_member, via, to_member, note " \
	    "FROM introductions WHERE id = $1::bigint") \
	X(Q_INTRO_PUT, "INSERT INTO introductions VALUES ($1::bigint, " \
	    "$2::smallint, $3::boolean, $4::bigint, $5::bigint, $6::bigint, " \
	    "$7::bigint, $8::bytea, $9::bytea, $10::bytea, $11::bytea) " \
	    "ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, " \
	    "told = EXCLUDED.told, updated_at = EXCLUDED.updated_at, " \
	    "expires_at = EXCLUDED.expires_at, " \
	    "invitation = EXCLUDED.invitation") \
	X(Q_INTROS_ASKED, "SELECT id FROM introductions " \
	    "WHERE from_member = $1::bytea AND id < $2::bigint " \
	    "ORDER BY id DESC LIMIT $3::bigint") \
	X(Q_INTROS_VIA, "SELECT id FROM introductions " \
	    "WHERE via = $1::bytea AND id < $2::bigint " \
	    "ORDER BY id DESC LIMIT $3::bigint") \
	/* The event; event.head is written at COMMIT (pend_sql()). */ \
	X(Q_EVENT_ADD, "INSERT INTO events VALUES ($1::bigint, $2::bigint, " \
	    "$3::bytea, $4::boolean, $5::bytea)") \
	X(Q_PRUNED_PUT, "INSERT INTO member_pruned VALUES ($1::bytea, " \
	    "$2::bigint) ON CONFLICT (member) DO UPDATE SET seq = EXCLUDED.seq") \
	X(Q_EVENT_PRUNED, "SELECT seq FROM member_pruned " \
	    "WHERE member = $1::bytea") \
	X(Q_EVENT_SCAN, "SELECT seq, at, member, notify, data FROM events " \
	    "WHERE seq > $1::bigint ORDER BY seq LIMIT $2::bigint") \
	X(Q_EVENT_SCAN_MEMBER, "SELECT seq, at, member, notify, data " \
	    "FROM events WHERE member = $1::bytea AND notify " \
	    "AND seq > $2::bigint ORDER BY seq LIMIT $3::bigint") \
	/* member.erase's (store_inv_del() and those after it). */ \
	X(Q_INV_DEL, "DELETE FROM invitations WHERE id = $1::bigint") \
	X(Q_PAIR_DEL, "DELETE FROM pairs WHERE sender = $1::bytea " \
	    "AND recipient = $2::bytea") \
	X(Q_LOG_DEL, "DELETE FROM logs WHERE log = $1::smallint " \
	    "AND key = $2::bytea AND at = $3::bigint AND id = $4::bigint") \
	X(Q_PLAN_DEL, "WITH i AS (DELETE FROM member_plans " \
	    "WHERE member = $1::bytea AND id = $2::bigint) " \
	    "DELETE FROM plans WHERE id = $2::bigint") \
	X(Q_INTRO_DEL, "DELETE FROM introductions WHERE id = $1::bigint") \
	X(Q_EVENT_REDACT, "UPDATE events SET member = ''::bytea, " \
	    "notify = false, data = $2::bytea WHERE seq = $1::bigint") \
	X(Q_EVENT_REWRITE, "UPDATE events SET data = $2::bytea " \
	    "WHERE seq = $1::bigint") \
	/* A member's own rows: $1 the member, $2 the notes log, its keys \
	 * "$1:<16 hex digits>" between $3 ("$1:") and $4 ("$1;"), $5 long \
	 * (not its rows of key $1: another's, "ann:<hash>" is ann's). */ \
	X(Q_MEMBER_DEL, "WITH m AS (DELETE FROM members " \
	    "WHERE member = $1::bytea), p AS (DELETE FROM member_pruned " \
	    "WHERE member = $1::bytea), f AS (DELETE FROM flags " \
	    "WHERE flag IN (0, 1, 2) AND a = $1::bytea) " \
	    "DELETE FROM logs WHERE (log IN (0, 1, 2, 3, 5) " \
	    "AND key = $1::bytea) OR (log = $2::smallint " \
	    "AND key >= $3::bytea AND key < $4::bytea " \
	    "AND length(key) = $5::integer)") \
	X(Q_INTROS_TO, "SELECT id FROM introductions " \
	    "WHERE to_member = $1::bytea AND id > $2::bigint " \
	    "ORDER BY id LIMIT $3::bigint") \
	X(Q_EVENT_SCAN_NAMING, "SELECT seq, at, member, notify, data " \
	    "FROM events WHERE (member = $1::bytea " \
	    "OR position($1::bytea IN data) > 0) AND seq > $2::bigint " \
	    "ORDER BY seq LIMIT $3::bigint") \
	X(Q_EVENT_UNNOTIFY, "UPDATE events SET notify = false " \
	    "WHERE seq = $1::bigint AND notify") \
	/* The first max events in seq order, up to (not with) the first one \
	 * written after `before`; their members' markers move on. While the \
	 * oldest event is not due (most batches) it is one index probe: the \
	 * guard is a one-time filter, and c then reads nothing. */ \
	X(Q_EVENT_PRUNE, "WITH c AS (SELECT seq, at FROM events " \
	    "WHERE (SELECT at FROM events ORDER BY seq LIMIT 1) <= $1::bigint " \
	    "ORDER BY seq LIMIT $2::bigint), " \
	    "lim AS (SELECT max(seq) AS last FROM c WHERE seq < coalesce(" \
	    "(SELECT min(seq) FROM c WHERE at > $1::bigint), " \
	    "9223372036854775807)), " \
	    "d AS (DELETE FROM events WHERE seq <= (SELECT last FROM lim) " \
	    "RETURNING seq, member, notify), " \
	    "m AS (INSERT INTO member_pruned SELECT member, max(seq) FROM d " \
	    "WHERE notify GROUP BY member ON CONFLICT (member) DO UPDATE " \
	    "SET seq = EXCLUDED.seq), " \
	    "p AS (UPDATE meta SET value = (SELECT max(seq) FROM d) " \
	    "WHERE name = 'event.pruned' AND EXISTS (SELECT 1 FROM d)) " \
	    "SELECT count(*) FROM d") \
	/* A deadline added or deleted counts in count.deadlines (PZ_DUE, \
	 * PZ_DUE_DEL, pend_sql()), written with the other counters: not \
	 * here, where a keyed transaction would hold count.deadlines' row \
	 * before event.head's, which another keyed one holds while it \
	 * writes count.deadlines at COMMIT (a deadlock). */ \
	X(Q_DUE_ADD, "INSERT INTO dues VALUES ($1::bigint, $2::smallint, " \
	    "$3::bigint) ON CONFLICT DO NOTHING") \
	X(Q_DUE_DEL, "DELETE FROM dues WHERE at = $1::bigint " \
	    "AND kind = $2::smallint AND id = $3::bigint") \
	X(Q_DUE_FIRST, "SELECT at, kind, id FROM dues " \
	    "ORDER BY at, kind, id LIMIT 1") \
	/* The deadlines are applied by one transaction at a time (the \
	 * counters each one updates would make two such transactions \
	 * conflict): tried, never waited for (an InitPlan, run once); the \
	 * row is claimed, and a row another transaction holds is passed \
	 * over. */ \
	X(Q_DUE_CLAIM, "SELECT at, kind, id FROM dues " \
	    "WHERE (SELECT pg_try_advisory_xact_lock(" LOCK_DUES ")) " \
	    "AND at <= $1::bigint ORDER BY at, kind, id LIMIT 1 " \
	    "FOR UPDATE SKIP LOCKED") \
	/* The database's clock for a batch: its time and the shared \
	 * virtual clock; in the same round trip, next_id and event.head \
	 * for a write transaction to keep (pg_next_id(), pg_event_head()). */ \
	X(Q_DB_CLOCK, "SELECT floor(extract(epoch FROM clock_timestamp()))" \
	    "::bigint, value, (SELECT value FROM meta WHERE name = 'next_id'), " \
	    "(SELECT value FROM meta WHERE name = 'event.head') " \
	    "FROM meta WHERE name = 'vclock'") \
	/* A write transaction's first round trip (pg_begin(), lock_begin()): \
	 * LOCK_WRITE, BEGIN, and Q_DB_CLOCK's columns with the oldest \
	 * event's time and the counters (s->clock_r), prepared like the \
	 * rest (parsed and planned once a connection, not once a batch). */ \
	X(Q_LOCK_WRITE, "SELECT pg_advisory_lock(" LOCK_WRITE ")") \
	X(Q_BEGIN_WRITE, "BEGIN ISOLATION LEVEL SERIALIZABLE") \
	X(Q_CLOCK_WRITE, "SELECT floor(extract(epoch FROM " \
	    "clock_timestamp()))::bigint, value, " \
	    "(SELECT value FROM meta WHERE name = 'next_id'), " \
	    "(SELECT value FROM meta WHERE name = 'event.head'), " \
	    "(SELECT at FROM events ORDER BY seq LIMIT 1), " \
	    "(SELECT value FROM meta WHERE name = 'count.pending'), " \
	    "(SELECT value FROM meta WHERE name = 'count.accepted'), " \
	    "(SELECT value FROM meta WHERE name = 'count.ignored'), " \
	    "(SELECT value FROM meta WHERE name = 'count.withdrawn'), " \
	    "(SELECT value FROM meta WHERE name = 'count.expired'), " \
	    "(SELECT value FROM meta WHERE name = 'count.connections'), " \
	    "(SELECT value FROM meta WHERE name = 'count.deadlines'), " \
	    "d.at, d.kind, d.id FROM meta LEFT JOIN (SELECT at, kind, id " \
	    "FROM dues ORDER BY at, kind, id LIMIT 1) d ON true " \
	    "WHERE name = 'vclock'") \
	/* A keyed write transaction's (store_begin_keyed()): LOCK_WRITE \
	 * shared, READ COMMITTED, then its keys' locks, in the order given \
	 * (sorted: two such transactions never wait for each other in a \
	 * cycle), held to its end; each statement after sees every commit \
	 * of the keys' last holders. */ \
	X(Q_LOCK_SHARED, "SELECT pg_advisory_lock_shared(" LOCK_WRITE ")") \
	X(Q_BEGIN_KEYED, "BEGIN ISOLATION LEVEL READ COMMITTED") \
	X(Q_KEY_LOCKS, "SELECT count(pg_advisory_xact_lock(k)) " \
	    "FROM unnest($1::bigint[]) AS u(k)") \
	/* Ids to give (pg_next_id()), $1 of them. */ \
	X(Q_IDS_NEXT, "SELECT nextval('invitation_ids') " \
	    "FROM generate_series(1, $1::bigint)") \
	X(Q_IDS_SET, "SELECT setval('invitation_ids', $1::bigint + 1, false)") \
	/* A write transaction's last round trip (pg_commit(), \
	 * commit_unlock()), prepared like its first: the pending meta \
	 * values (pend_params(): names and values, event.head's as it is, \
	 * the counters' as what they gain), the ids not given back \
	 * (their sequence to $1, the first not given), the head notified, \
	 * COMMIT, and LOCK_WRITE's release. */ \
	X(Q_PEND, "UPDATE meta SET value = CASE WHEN name = 'event.head' " \
	    "THEN u.v ELSE value + u.v END FROM unnest($1::text[], " \
	    "$2::bigint[]) AS u(n, v) WHERE name = u.n") \
	X(Q_IDS_REWIND, "SELECT setval('invitation_ids', $1::bigint, false)") \
	X(Q_NOTIFY, "SELECT pg_notify('" WATCH_CHANNEL "', value::text) " \
	    "FROM meta WHERE name = 'event.head'") \
	X(Q_COMMIT, "COMMIT") \
	X(Q_UNLOCK, "SELECT pg_advisory_unlock(" LOCK_WRITE ")") \
	X(Q_UNLOCK_SHARED, "SELECT pg_advisory_unlock_shared(" LOCK_WRITE ")") \
	/* A keyed transaction's events (pg_event_add()), as it commits: \
	 * their seqs follow event.head, whose row this locks to the \
	 * transaction's end (so seqs follow commit order, without gaps), \
	 * each written over its event's stand-in (store_event_next()): \
	 * $1 of them; their times, members, notify (0 or 1) and data; the \
	 * new head. */ \
	X(Q_EVENTS_KEYED, "WITH h AS (UPDATE meta SET value = value + " \
	    "$1::bigint WHERE name = 'event.head' RETURNING value), " \
	    "i AS (INSERT INTO events SELECT h.value - $1::bigint + u.o, " \
	    "u.at, u.m, u.n <> 0, overlay(u.d placing ('\\xcf'::bytea || " \
	    "int8send(h.value - $1::bigint + u.o)) from 6 for 9) FROM h, " \
	    "unnest($2::bigint[], $3::bytea[], $4::bigint[], $5::bytea[]) " \
	    "WITH ORDINALITY AS u(at, m, n, d, o)) SELECT value FROM h") \
	X(Q_SCAN_INVS, "SELECT id FROM invitations WHERE id > $1::bigint " \
	    "ORDER BY id LIMIT $2::bigint") \
	X(Q_SCAN_PAIRS, "SELECT sender, recipient, open_id, cooldown_until, " \
	    "withdrawals, attempts FROM pairs " \
	    "WHERE (sender, recipient) > ($1::bytea, $2::bytea) " \
	    "ORDER BY sender, recipient LIMIT $3::bigint") \
	X(Q_SCAN_DUES, "SELECT at, kind, id FROM dues " \
	    "WHERE (at, kind, id) > ($1::bigint, $2::smallint, $3::bigint) " \
	    "ORDER BY at, kind, id LIMIT $4::bigint") \
	/* store_check: the connections counter against its rows (the other \
	 * counters are daemon/check.c's, from the whole-store scans). */ \
	X(Q_CHECK_COUNTS, "SELECT 'count.connections', value, " \
	    "(SELECT count(*) FROM connections) FROM meta " \
	    "WHERE name = 'count.connections' " \
	    "AND value <> (SELECT count(*) FROM connections)") \
	/* store_check: what SQL's constraints do not say. */ \
	X(Q_CHECK_REST, "SELECT 'index', format(" \
	    "'member_plans row %s/%s without its plan', " \
	    "encode(mp.member, 'escape'), mp.id) FROM member_plans mp " \
	    "WHERE NOT EXISTS (SELECT 1 FROM plans p WHERE p.id = mp.id) " \
	    "UNION ALL SELECT 'counter', format('event.head is %s, " \
	    "below the last event, %s', value, (SELECT max(seq) FROM events)) " \
	    "FROM meta WHERE name = 'event.head' AND value < " \
	    "(SELECT coalesce(max(seq), 0) FROM events) " \
	    "UNION ALL SELECT 'counter', format('event.pruned is %s, " \
	    "not below the first event left, %s', value, " \
	    "(SELECT min(seq) FROM events)) FROM meta " \
	    "WHERE name = 'event.pruned' AND value >= " \
	    "(SELECT min(seq) FROM events) " \
	    "LIMIT 1000")

#define Q_ENUM(name, sql) name,
#define Q_SQL(name, sql) sql,
enum pg_query { PG_QUERIES(Q_ENUM) Q_COUNT };
static const char *const q_sql[Q_COUNT] = { PG_QUERIES(Q_SQL) };

/* The introductions' table (store.h's struct intro) and its boxes:
 * version 2's. */
#define INTRO_SCHEMA_SQL \
    "CREATE TABLE introductions (id bigint PRIMARY KEY," \
    " state smallint NOT NULL CHECK (state BETWEEN 0 AND 2)," \
    " told boolean NOT NULL," \
    " created_at bigint NOT NULL, updated_at bigint NOT NULL," \
    " expires_at bigint NOT NULL, invitation bigint NOT NULL," \
    " from_member bytea NOT NULL CHECK (octet_length(from_member) <= 64)," \
    " via bytea NOT NULL CHECK (octet_length(via) <= 64)," \
    " to_member bytea NOT NULL CHECK (octet_length(to_member) <= 64)," \
    " note bytea NOT NULL CHECK (octet_length(note) <= 4096));" \
    "CREATE INDEX introductions_asked ON introductions (from_member, id);" \
    "CREATE INDEX introductions_via ON introductions (via, id);"

/* The schema of version 1, made in one transaction by the first open of
 * an empty database (pg_schema()), which then takes it through every
 * step of pg_migrations[], as a database of an older version is taken at
 * its open: one list of changes, run on every new database. */
static const char schema_sql[] =
    "CREATE TABLE meta (name text PRIMARY KEY, value bigint NOT NULL);"
    "CREATE TABLE invitations ("
    " id bigint PRIMARY KEY,"
    " state smallint NOT NULL CHECK (state BETWEEN 0 AND 4),"
    " priority smallint NOT NULL CHECK (priority >= 0),"
    " attempt bigint NOT NULL,"
    " created_at bigint NOT NULL, updated_at bigint NOT NULL,"
    " expires_at bigint NOT NULL, stale_at bigint NOT NULL,"
    " reminded_at bigint NOT NULL,"
    " ignored boolean NOT NULL, reported boolean NOT NULL,"
    " resend_of bigint NOT NULL,"
    " sender bytea NOT NULL CHECK (octet_length(sender) <= 64),"
    " recipient bytea NOT NULL CHECK (octet_length(recipient) <= 64),"
    " note bytea NOT NULL CHECK (octet_length(note) <= 4096));"
    "CREATE INDEX invitations_sent ON invitations (sender, id);"
    "CREATE INDEX invitations_received ON invitations (recipient, id);"
    "CREATE INDEX invitations_history ON invitations"
    " ((least(sender, recipient)), (greatest(sender, recipient)), id);"
    "CREATE UNIQUE INDEX invitations_one_pending ON invitations"
    " (sender, recipient) WHERE state = 0;"
    "CREATE TABLE pairs (sender bytea, recipient bytea,"
    " open_id bigint NOT NULL, cooldown_until bigint NOT NULL,"
    " withdrawals bigint NOT NULL, attempts bigint NOT NULL,"
    " PRIMARY KEY (sender, recipient));"
    "CREATE TABLE connections (lo bytea, hi bytea, since bigint NOT NULL,"
    " PRIMARY KEY (lo, hi), CHECK (lo <= hi));"
    "CREATE INDEX connections_hi ON connections (hi, lo);"
    "CREATE TABLE logs (log smallint, key bytea, at bigint, id bigint,"
    " value smallint NOT NULL, PRIMARY KEY (log, key, at, id));"
    "CREATE TABLE flags (flag smallint, a bytea, b bytea,"
    " PRIMARY KEY (flag, a, b));"
    "CREATE TABLE members (member bytea PRIMARY KEY,"
    " invitations_from smallint NOT NULL, email bytea NOT NULL,"
    " restricted_until bigint NOT NULL, restricted_at bigint NOT NULL,"
    " open_sent bigint NOT NULL);"
    "CREATE TABLE plans (id bigint PRIMARY KEY, record bytea NOT NULL);"
    "CREATE TABLE member_plans (member bytea, id bigint,"
    " PRIMARY KEY (member, id));"
    "CREATE TABLE events (seq bigint PRIMARY KEY, at bigint NOT NULL,"
    " member bytea NOT NULL, notify boolean NOT NULL, data bytea NOT NULL);"
    "CREATE INDEX events_member ON events (member, seq) WHERE notify;"
    "CREATE TABLE member_pruned (member bytea PRIMARY KEY,"
    " seq bigint NOT NULL);"
    "CREATE TABLE dues (at bigint, kind smallint, id bigint,"
    " PRIMARY KEY (at, kind, id));"
    "INSERT INTO meta VALUES ('next_id', 0), ('vclock', 0),"
    " ('event.head', 0), ('event.pruned', 0), ('count.pending', 0),"
    " ('count.accepted', 0), ('count.ignored', 0), ('count.withdrawn', 0),"
    " ('count.expired', 0), ('count.connections', 0),"
    " ('count.deadlines', 0);";

/* The schema's versions after the first: each step's SQL takes a
 * database from the version before it to its own. Run at the open, in
 * the transaction that holds LOCK_CREATE (pg_schema()), so that daemons
 * starting together migrate once and a failed step leaves the database as
 * it was. A new column has a default that reads as the code before it
 * wrote nothing: a row written before reads as it did. */
static const struct {
	int version;
	const char *sql;
} pg_migrations[] = {
	/* Issue 12, the recipient's side: held and auto-accepted
	 * invitations, the recipient's reminder and who introduced it; a
	 * member's first_seen_at and settings
	 * (store_member_settings_pack(), none before: first seen long
	 * ago); the introductions. */
	{ 2, "ALTER TABLE invitations"
	    " ADD COLUMN held boolean NOT NULL DEFAULT false,"
	    " ADD COLUMN automatic boolean NOT NULL DEFAULT false,"
	    " ADD COLUMN remind_at bigint NOT NULL DEFAULT 0,"
	    " ADD COLUMN introduced_by bytea NOT NULL DEFAULT ''"
	    " CHECK (octet_length(introduced_by) <= 64);"
	    "ALTER TABLE members"
	    " ADD COLUMN settings bytea NOT NULL DEFAULT '';"
	    INTRO_SCHEMA_SQL },
	/* Issue 13, safe retries: the writes' request ids, by id and by
	 * age for pruning (docs/protocol.md, "Safe retries"). */
	{ 3, "CREATE TABLE requests (id bytea PRIMARY KEY"
	    " CHECK (octet_length(id) BETWEEN 1 AND 64),"
	    " at bigint NOT NULL, record bytea NOT NULL);"
	    "CREATE INDEX requests_at ON requests (at);" },
	/* Issue 13, bulk import: the external ids of the rows imported,
	 * each with its row's digest (import.rows). */
	{ 4, "CREATE TABLE import_ids (ext_id bytea PRIMARY KEY"
	    " CHECK (octet_length(ext_id) BETWEEN 1 AND 64),"
	    " digest bigint NOT NULL);" },
	/* Issue 11, writers at once: ids from a sequence, which keyed
	 * transactions take without waiting for each other. meta's next_id
	 * goes (the export reads the sequence), so that a connreqd of an
	 * older version still running refuses to give an id ("no next_id
	 * row") rather than give one the sequence gives too. */
	{ 5, "CREATE SEQUENCE invitation_ids MINVALUE 1;"
	    "SELECT setval('invitation_ids',"
	    " coalesce((SELECT value FROM meta WHERE name = 'next_id'), 0) + 1,"
	    " false);"
	    "DELETE FROM meta WHERE name = 'next_id';" },
};
#define PG_MIGRATIONS (sizeof pg_migrations / sizeof pg_migrations[0])
_Static_assert(PG_MIGRATIONS == PG_SCHEMA - 1, "a step for each version");

/* A connection and the statements prepared on it. */
struct pgconn {
	PGconn *c;
	unsigned char prepared[(Q_COUNT + 7) / 8];
	uint64_t mprepared[Q_COUNT];	/* bit n-1: q's n-row form (wbuf) */
};

/* A write transaction's writes of one statement, gathered to go as one
 * statement of many rows (wbuf_send()): the parameters, copied. */
#define WBUF_ARENA_MAX (1u << 20)	/* bytes gathered for a statement */
#define WBUF_ROWS 64		/* rows a statement (one bit each above) */
struct wbuf {
	unsigned n;		/* rows */
	int zero;		/* PZ_*, the same for every row */
	const char *what;
	int np;			/* parameters a row */
	struct {
		size_t off;
		int len;
		bool null;
	} *par;			/* n * np of them */
	unsigned parcap;
	char *arena;		/* their bytes */
	size_t alen, acap;
};

struct pg_store {
	struct store base;
	int64_t req_pruned_at;	/* the last request prune's `before` */
	int64_t req_prune_max;	/* its share */
	bool req_prune_full;	/* it took its whole share: prune again */
	char *conninfo;
	struct pgconn w;	/* write transactions; holds the session lock */
	struct pgconn *pool[POOL_MAX];	/* idle connections for reads */
	unsigned npool;
	uint64_t seq;		/* commits that wrote */
	uint64_t nwrites;	/* write statements that changed a row */
	bool write_locked;	/* w holds LOCK_WRITE (a write transaction) */
	bool keyed;		/* the write transaction is keyed: it holds
				 * LOCK_WRITE shared and its keys' locks */
	/* Ids taken from the sequence for the write transaction
	 * (pg_next_id()), ids[idn..nids-1] not given yet; what is left at
	 * its end is dropped (a member's ids increase in commit order: an
	 * id is taken under the member's lock). id_chunk: how many the
	 * next fetch takes when none was asked for ahead. */
	int64_t ids[HINT_MAX * 2];
	unsigned nids, idn, id_chunk;
	int64_t ids_first;	/* the first taken in the transaction (0:
				 * none): where an exclusive one that ends
				 * puts the sequence back, past what it gave */
	unsigned ids_wanted;	/* sends hinted, their ids not taken yet */
	/* A keyed transaction's events, written as it commits
	 * (Q_EVENTS_KEYED): their times, members, notify and data, each
	 * member and data in kev_buf. */
	struct kev {
		int64_t at;
		size_t moff, mlen, doff, dlen;
		bool notify;
	} *kev;
	unsigned nkev, kevcap;
	bool kev_head;		/* it holds event.head's row */
	char *kev_buf;
	size_t kev_len, kev_cap;
	bool unlocked;		/* w's session lost the session lock (a new
				 * session): taken again before a begin */
	bool evented;		/* the write transaction added events: its
				 * COMMIT notifies WATCH_CHANNEL */
	bool doomed;		/* the write transaction met a serialization
				 * failure (even in a child since undone):
				 * it cannot commit */
	/* What the write transaction cost, for the debug log at its
	 * commit (connreqd -v): round trips to the server on w, and
	 * statements sent. */
	unsigned trips, stmts;
	unsigned preps;		/* of the trips, those that prepared */
	struct timespec t0;	/* its begin */
	/* The write transaction's writes sent in pipeline mode (w's), their
	 * results not yet read (pipe_flush()). */
	struct pipe_item {
		const char *what;
		uint8_t zero;	/* PZ_*: what a write changing no row means */
		bool write;	/* else the read whose result run() wants */
		int slot;	/* a read's: its result goes to slots[slot] */
	} pipe[PIPE_MAX];
	unsigned npipe;
	PGresult **slots;	/* hint_run()'s results */
	/* The sends' hints not read yet (store_hint_send()): read together,
	 * in one round trip, at the first read of a pair not kept
	 * (hint_run()). */
	struct hint {
		char a[MEMBER_MAX_BYTES], b[MEMBER_MAX_BYTES];
		char nk[MEMBER_MAX_BYTES];
		uint8_t alen, blen, nklen;
		bool nkey;
		int64_t since;
	} hints[HINT_MAX];
	unsigned nhints;
	/* The write transaction's next_id and event.head, read once and
	 * then kept here (their rows written at each change, in the
	 * pipeline); emptied with the cache. */
	bool head_ok;
	int64_t head;
	/* Read with the lock and BEGIN, in their round trip (pg_begin()):
	 * the clock's row (Q_DB_CLOCK's columns, then the oldest event's
	 * time and the counters), taken by the transaction's first
	 * store_db_clock(); the counters, as that row read them, while no
	 * write has changed them but through s->pend (counts_ok: emptied
	 * by tx_forget(), a meta write, pend_sql()); the oldest event's
	 * time (oldest_ok; oldest_none: there was none) while no event is
	 * pruned, so that a prune with nothing old enough costs no round
	 * trip. */
	PGresult *clock_r;
	uint64_t conn_writes;	/* connections written (CK_MUTUAL) */
	bool counts_ok, oldest_ok, oldest_none;
	int64_t counts[ST_COUNT + 2];	/* states, connections, deadlines */
	int64_t oldest_at;
	/* The first deadline, read with the clock and kept through the
	 * transaction's own adds (due_first_ok: until it deletes that one,
	 * or COPY writes deadlines): store_due_first() then costs no round
	 * trip. */
	bool due_first_ok, due_first_none;
	struct due due_first;
	/* The meta values the write transaction changed and has not
	 * written yet: next_id and event.head (id, head above) and the
	 * counters' changes. Every send changes them all: written once, in
	 * the simple query of the next SAVEPOINT (pend_sql()) or at COMMIT
	 * (Q_PEND), not a row version a change; dropped by a rollback (a
	 * child's: its own, its SAVEPOINT wrote its parent's). */
	struct pg_pend {
		bool head;
		int64_t count[ST_COUNT];
		int64_t deadlines;
	} pend;
	/* Rows store_import() gathered for COPY, by kind, in COPY's text
	 * format; sent (cp_flush) before the write transaction's next
	 * statement, savepoint or commit, dropped by its abort. */
	struct pgcopy {
		char *b;
		size_t len, cap;
		uint64_t rows;
	} cp[SREC_COUNT];
	size_t cp_total;
	struct centry **cache;	/* the write transaction's rows (NULL:
				 * none yet), CACHE_BUCKETS chains */
	unsigned ncache;
	/* Writes gathered (wbuf_add()), by statement: sent as one
	 * statement each before anything else goes to the server. */
	struct wbuf wb[Q_COUNT];
	bool wb_any, wb_sending;
	bool wb_hold;		/* a read that cannot see them: not sent */
};

struct pg_stx {
	struct stx base;
	struct pgconn *pc;	/* NULL: not begun */
	unsigned depth;		/* 0: top level; else savepoint s<depth> */
	bool dirty;		/* it (or a child it took in) wrote */
};

struct centry;
static void cache_clear(struct pg_store *s);
static void tx_forget(struct pg_store *s);
static void ids_load(struct pg_store *s, PGresult *r);

static struct pg_store *
ps(struct stx *t)
{
	return (struct pg_store *)t->s;
}

static struct pg_stx *
pt(struct stx *t)
{
	return (struct pg_stx *)t;
}

/* libpq's message on one line: its lines joined by a space, without the
 * trailing newline (it goes into store_strerror() and the log). */
static void
msg_copy(char *out, size_t n, const char *msg)
{
	size_t len = 0;
	bool space = false;

	if (msg == NULL || *msg == '\0')
		msg = "no message";
	for (; *msg != '\0' && len + 1 < n; msg++) {
		if (*msg == '\n' || *msg == '\t' || *msg == ' ') {
			space = len > 0;
			continue;
		}
		if (space && len + 2 < n)
			out[len++] = ' ';
		space = false;
		out[len++] = *msg;
	}
	out[len] = '\0';
}

/* Notices (a ROLLBACK outside a transaction, ...) are not for stderr. */
static void
quiet_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* The conninfo as logs may show it: only the keywords that say where,
 * rebuilt from libpq's own parse (so a password is dropped however it
 * was written: key=value, a URI's user:password@, percent-encoded). */
static void
pg_shown(const char *conninfo, char *buf, size_t len)
{
	static const char *const keep[] = { "host", "hostaddr", "port",
	    "dbname", "user", "target_session_attrs", NULL };
	PQconninfoOption *opts, *o;
	size_t off = 0;
	int k;

	buf[0] = '\0';
	if ((opts = PQconninfoParse(conninfo, NULL)) == NULL) {
		snprintf(buf, len, "a PostgreSQL conninfo that cannot be parsed");
		return;
	}
	for (o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL || o->val[0] == '\0')
			continue;
		for (k = 0; keep[k] != NULL; k++)
			if (strcmp(o->keyword, keep[k]) == 0 && off < len)
				off += (size_t)snprintf(buf + off, len - off,
				    "%s%s=%s", off > 0 ? " " : "", o->keyword,
				    o->val);
	}
	PQconninfoFree(opts);
	if (buf[0] == '\0')
		snprintf(buf, len, "PostgreSQL's defaults (PGHOST, ...)");
}

/* A new connection: NULL with why set when it cannot be made.
 *
 * connect_timeout is PG_CONNECT_TIMEOUT seconds unless the conninfo (or
 * PGCONNECT_TIMEOUT) names one: a host that accepts the connection but
 * never answers (a frozen machine, a half-dead primary) would otherwise
 * hold the store's worker for ever, every request waiting behind it; with
 * it, libpq gives up on that host and tries the conninfo's next one (a
 * promoted standby), and with no host left the requests get UNAVAILABLE.
 * It comes before dbname in keys, so that the conninfo expanded from
 * dbname overrides it. PQreset() connects again with the same options. */
#define PG_CONNECT_TIMEOUT "5"

static PGconn *
pg_connect(const char *conninfo, char *why, size_t whylen)
{
	/* Given before the conninfo, which overrides them when it sets
	 * them: a database that hangs must not hold a daemon for ever. A
	 * host that does not answer is given up after connect_timeout
	 * (PG_CONNECT_TIMEOUT, or PGCONNECT_TIMEOUT's), a lock held
	 * elsewhere is waited for LOCK_TIMEOUT_MS, a statement runs at most
	 * STATEMENT_TIMEOUT_MS, and a peer that went silent is found by TCP
	 * keepalives within about 25 s (all then UNAVAILABLE). */
	const char *const keys[] = { "connect_timeout", "options",
	    "keepalives_idle", "keepalives_interval", "keepalives_count",
	    "dbname", "fallback_application_name", NULL };
	const char *env = getenv("PGCONNECT_TIMEOUT");
	const char *const vals[] = {
	    env != NULL && *env != '\0' ? env : PG_CONNECT_TIMEOUT,
	    "-c lock_timeout=" STR(LOCK_TIMEOUT_MS)
	    " -c statement_timeout=" STR(STATEMENT_TIMEOUT_MS), "10", "5", "3",
	    conninfo, "connreqd", NULL };
	PQconninfoOption *opts;
	char msg[400], *err = NULL;
	PGconn *c;

	/* A conninfo libpq cannot parse: its message quotes the conninfo,
	 * password and all; only what comes before the quote is shown. */
	if ((opts = PQconninfoParse(conninfo, &err)) == NULL) {
		msg_copy(msg, sizeof msg, err != NULL ? err : "out of memory");
		if (strchr(msg, '"') != NULL)
			*strchr(msg, '"') = '\0';
		snprintf(why, whylen, "the PostgreSQL conninfo cannot be parsed: %s",
		    msg);
		PQfreemem(err);
		return NULL;
	}
	PQconninfoFree(opts);
	c = PQconnectdbParams(keys, vals, 1);
	if (c == NULL) {
		snprintf(why, whylen, "PostgreSQL: out of memory");
		return NULL;
	}
	if (PQstatus(c) != CONNECTION_OK) {
		msg_copy(msg, sizeof msg, PQerrorMessage(c));
		snprintf(why, whylen, "cannot connect to PostgreSQL: %s", msg);
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeProcessor(c, quiet_notice, NULL);
	return c;
}

/* Records the failure of a statement (r may be NULL) in t: a lost
 * connection, a serialization failure (STORE_CONFLICT; the write
 * transaction is then doomed), a full disk (STORE_NO_SPACE), or anything
 * else (STORE_FAILED), with the SQLSTATE and PostgreSQL's message. */
static void
fail_pg(struct stx *t, PGconn *c, const PGresult *r, const char *what)
{
	const char *state = r != NULL ?
	    PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *prim = r != NULL ?
	    PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	char msg[400];
	int rc = STORE_FAILED;

	msg_copy(msg, sizeof msg, prim != NULL ? prim : PQerrorMessage(c));
	if (PQstatus(c) == CONNECTION_BAD) {
		store_fail(t, STORE_UNAVAILABLE,
		    "%s: the connection to PostgreSQL is lost: %s", what, msg);
		return;
	}
	/* The server going down or not yet up (57P01..57P03), a connection
	 * failure it reports (class 08), a standby that cannot write (25006,
	 * after a failover until the conninfo leads to the new primary), a
	 * lock or a statement that took too long (55P03 lock_timeout, 57014
	 * statement_timeout: a database that hangs): the database is not
	 * there for now. */
	if (state != NULL && (strncmp(state, "08", 2) == 0 ||
	    strncmp(state, "57P0", 4) == 0 || strcmp(state, "25006") == 0 ||
	    strcmp(state, "55P03") == 0 || strcmp(state, "57014") == 0)) {
		store_fail(t, STORE_UNAVAILABLE, "%s: %s (SQLSTATE %s)", what,
		    msg, state);
		return;
	}
	if (state != NULL && (strcmp(state, "40001") == 0 ||
	    strcmp(state, "40P01") == 0)) {
		rc = STORE_CONFLICT;
		if (!t->read_only)
			ps(t)->doomed = true;
	} else if (state != NULL && strcmp(state, "53100") == 0)
		rc = STORE_NO_SPACE;
	store_fail(t, rc, "%s: %s (SQLSTATE %s)", what, msg,
	    state != NULL ? state : "none");
}

static bool pipe_flush(struct stx *t, PGresult **keep);
static void pipe_drain(struct pg_store *s);
static bool wbuf_send_all(struct stx *t);
static void wbuf_drop(struct pg_store *s);

/* Runs a command without parameters (BEGIN, SAVEPOINT, ...) on c for t:
 * true when it succeeded; a failure is recorded in t. */
static bool
cmd(struct stx *t, PGconn *c, const char *sql, const char *what)
{
	PGresult *r;
	ExecStatusType st;

	if (c == ps(t)->w.c) {
		if (!pipe_flush(t, NULL))
			return false;
		ps(t)->trips++;
		ps(t)->stmts++;
	}
	r = PQexec(c, sql);
	st = PQresultStatus(r);

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		PQclear(r);
		return true;
	}
	fail_pg(t, c, r, what);
	PQclear(r);
	return false;
}

/* Runs a command for its effect alone, ignoring how it ends (a ROLLBACK
 * on a connection that may be gone). */
static void
cmd_quiet(PGconn *c, const char *sql)
{
	PQclear(PQexec(c, sql));
}

/* Parameters: binary, each a pointer into the struct (keep it alive). */
#define QP_MAX 24
struct qp {
	int n;
	const char *v[QP_MAX];
	int len[QP_MAX];
	int fmt[QP_MAX];
	unsigned char num[QP_MAX][8];
};

/* The next parameter's slot: a statement with more than QP_MAX is a bug
 * of this file, stopped here rather than written past the arrays. */
static int
qp_next(struct qp *p)
{
	if (p->n >= QP_MAX)
		fatal("store-pg: more than %d parameters", QP_MAX);
	return p->n;
}

static void
qp_int(struct qp *p, int64_t v, int width)
{
	qp_next(p);
	be_put(p->num[p->n], (uint64_t)v, (size_t)width);
	p->v[p->n] = (const char *)p->num[p->n];
	p->len[p->n] = width;
	p->fmt[p->n] = 1;
	p->n++;
}

static void
qp_i64(struct qp *p, int64_t v)
{
	qp_int(p, v, 8);
}

static void
qp_i16(struct qp *p, int v)
{
	qp_int(p, v, 2);
}

static void
qp_bool(struct qp *p, bool v)
{
	qp_int(p, v ? 1 : 0, 1);
}

/* A uint64_t id or seq as a bigint (they stay below 2^63). */
static int64_t
id64(uint64_t v)
{
	return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

static void
qp_bytes(struct qp *p, const void *b, size_t len)
{
	qp_next(p);
	p->v[p->n] = len > 0 ? b : "";
	p->len[p->n] = (int)len;
	p->fmt[p->n] = 1;
	p->n++;
}

static void
qp_text(struct qp *p, const char *s)
{
	qp_bytes(p, s, strlen(s));
}

static bool cp_flush(struct stx *t);
static void cp_drop(struct pg_store *s);

/* Prepares q on pc if it is not yet: false with the failure recorded in
 * t. (Synchronous: what the pipeline holds is read first.) */
static bool
prepare(struct stx *t, struct pgconn *pc, enum pg_query q, const char *what)
{
	char name[16];
	PGresult *r;

	if (pc->prepared[q / 8] & (1u << (q % 8)))
		return true;
	if (pc == &ps(t)->w) {
		/* (the flush a round trip for the preparing's sake too) */
		ps(t)->preps -= ps(t)->trips;
		if (!pipe_flush(t, NULL))
			return false;
		ps(t)->trips++;
		ps(t)->preps += ps(t)->trips;
	}
	snprintf(name, sizeof name, "q%d", (int)q);
	r = PQprepare(pc->c, name, q_sql[q], 0, NULL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		fail_pg(t, pc->c, r, what);
		PQclear(r);
		return false;
	}
	PQclear(r);
	pc->prepared[q / 8] |= (unsigned char)(1u << (q % 8));
	return true;
}

/* The pipeline (libpq's pipeline mode, on the write connection w): a
 * write transaction's writes are sent without waiting for their results;
 * those are read (pipe_flush()) in the round trip of the next read, or of
 * the next SAVEPOINT, RELEASE or COMMIT, or when store_error() asks
 * (store_ops.flush: the server asks after each request, so a request's
 * failed write is its own). A write that fails fails the rest of the
 * pipeline (PGRES_PIPELINE_ABORTED), and the transaction as before: its
 * failure is recorded in t when its result is read, with the same
 * mapping (fail_pg()), so a savepoint's (a child's) failed write fails
 * that child at the latest at its commit, whose RELEASE reads it first.
 *
 * Sends q with p into the pipeline (entering pipeline mode): false with
 * the failure recorded in t. */
/* Sends statement `name` with n parameters into the pipeline (entering
 * pipeline mode): false with the failure recorded in t. */
static bool
pipe_send_named(struct stx *t, const char *name, int n,
    const char *const *v, const int *len, const int *fmt, const char *what,
    int zero)
{
	struct pg_store *s = ps(t);
	PGconn *c = s->w.c;

	if (s->npipe == PIPE_MAX && !pipe_flush(t, NULL))
		return false;
	if (PQpipelineStatus(c) == PQ_PIPELINE_OFF &&
	    PQenterPipelineMode(c) != 1) {
		fail_pg(t, c, NULL, what);
		return false;
	}
	if (PQsendQueryPrepared(c, name, n, v, len, fmt, 1) != 1) {
		fail_pg(t, c, NULL, what);
		return false;
	}
	s->pipe[s->npipe].what = what;
	s->pipe[s->npipe].zero = (uint8_t)zero;
	s->pipe[s->npipe].write = true;
	s->pipe[s->npipe].slot = -1;
	s->npipe++;
	s->stmts++;
	return true;
}

static bool
pipe_send(struct stx *t, enum pg_query q, const struct qp *p,
    const char *what, int zero, bool write)
{
	struct pg_store *s = ps(t);
	char name[16];

	snprintf(name, sizeof name, "q%d", (int)q);
	if (!pipe_send_named(t, name, p != NULL ? p->n : 0,
	    p != NULL ? p->v : NULL, p != NULL ? p->len : NULL,
	    p != NULL ? p->fmt : NULL, what, zero))
		return false;
	s->pipe[s->npipe - 1].write = write;
	/* Counted when sent, whatever it will change: store_writes() tells
	 * the server whether a refused request wrote, before the result is
	 * read (store_defer()). */
	if (write)
		s->nwrites++;
	return true;
}

/* Reads the results of what the pipeline holds (one round trip: a sync)
 * and leaves pipeline mode: true when all went well; else the first
 * failure is recorded in t. With keep, the last statement is a read whose
 * result goes there (NULL when it failed or did not run). */
static bool
pipe_flush(struct stx *t, PGresult **keep)
{
	struct pg_store *s = ps(t);
	PGconn *c = s->w.c;
	struct pipe_item *it;
	unsigned i = 0, n, nulls = 0;
	bool got = false, good = true;
	ExecStatusType st;
	PGresult *r;
	int64_t rows;

	if (keep != NULL)
		*keep = NULL;
	if (!wbuf_send_all(t))
		return false;
	n = s->npipe;	/* with what that sent */
	if (c == NULL || PQpipelineStatus(c) == PQ_PIPELINE_OFF)
		return t->rc == STORE_OK;
	s->npipe = 0;
	s->trips++;
	if (PQpipelineSync(c) != 1) {
		fail_pg(t, c, NULL, n > 0 ? s->pipe[0].what : "store");
		return false;
	}
	for (;;) {
		if ((r = PQgetResult(c)) == NULL) {
			/* The end of one statement's results. */
			if (PQstatus(c) == CONNECTION_BAD || ++nulls > 2) {
				fail_pg(t, c, NULL, i < n ? s->pipe[i].what :
				    "store");
				good = false;
				break;
			}
			if (got)
				i++;
			got = false;
			continue;
		}
		nulls = 0;
		st = PQresultStatus(r);
		if (st == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			break;
		}
		got = true;
		it = i < n ? &s->pipe[i] : NULL;
		if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
			if (it != NULL && !it->write) {
				if (it->slot >= 0 && s->slots != NULL) {
					s->slots[it->slot] = r;
					continue;
				}
				if (keep != NULL && *keep == NULL) {
					*keep = r;
					continue;
				}
			} else if (it != NULL && (it->zero == PZ_DUE ||
			    it->zero == PZ_DUE_DEL)) {
				rows = strtoll(PQcmdTuples(r), NULL, 10);
				if (rows > 0)
					s->pend.deadlines += it->zero ==
					    PZ_DUE ? rows : -rows;
			} else if (it != NULL && it->zero == PZ_PRUNE) {
				rows = strtoll(PQcmdTuples(r), NULL, 10);
				s->req_prune_full = rows >= s->req_prune_max;
			}
		} else {
			/* The first failure; those after it are
			 * PGRES_PIPELINE_ABORTED. */
			if (st != PGRES_PIPELINE_ABORTED)
				fail_pg(t, c, r, it != NULL ? it->what :
				    "store");
			good = false;
		}
		PQclear(r);
	}
	if (PQstatus(c) == CONNECTION_OK && PQexitPipelineMode(c) != 1) {
		fail_pg(t, c, NULL, "store");
		good = false;
	}
	if (!good && keep != NULL && *keep != NULL) {
		PQclear(*keep);
		*keep = NULL;
	}
	return good && t->rc == STORE_OK;
}

/* Ends pipeline mode on w whatever the pipeline holds, its results
 * dropped (a rollback follows); a serialization failure among them still
 * dooms the transaction. */
static void
pipe_drain(struct pg_store *s)
{
	PGconn *c = s->w.c;
	const char *state;
	PGresult *r;
	unsigned nulls = 0;

	wbuf_drop(s);
	s->npipe = 0;
	if (c == NULL || PQpipelineStatus(c) == PQ_PIPELINE_OFF)
		return;
	if (PQstatus(c) == CONNECTION_OK && PQpipelineSync(c) == 1)
		for (;;) {
			if ((r = PQgetResult(c)) == NULL) {
				if (PQstatus(c) == CONNECTION_BAD ||
				    ++nulls > 2)
					break;
				continue;
			}
			nulls = 0;
			if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
				PQclear(r);
				break;
			}
			state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
			if (state != NULL && (strcmp(state, "40001") == 0 ||
			    strcmp(state, "40P01") == 0))
				s->doomed = true;
			PQclear(r);
		}
	PQexitPipelineMode(c);
}


/* Forgets the gathered writes (a rollback follows). */
static void
wbuf_drop(struct pg_store *s)
{
	int q;

	for (q = 0; q < Q_COUNT; q++) {
		s->wb[q].n = 0;
		s->wb[q].alen = 0;
	}
	s->wb_any = false;
}

/* Gathered writes (issue 11's bench): a batch's sends each write an
 * invitation, its two deadlines, an event, the pair, a log entry and the
 * sender's row, a statement each. Those statements' writes (wbuf_keys()
 * says which) are gathered per statement and sent as one statement of
 * many rows (INSERT ... VALUES (...), (...) ...), prepared once per row
 * count: before a read, a SAVEPOINT, RELEASE or COMMIT, or any other
 * write is sent (pipe_flush(), run(), run_wz()), so the database sees
 * them before anything that could look at them; the tables they write
 * are each written by one of them only, so their order among each other
 * does not matter. A row whose key (its upsert's conflict key) is
 * gathered already sends its statement's rows first: a statement's
 * ON CONFLICT DO UPDATE cannot meet a row twice. Their failure fails the
 * transaction as a write's does (the server runs the batch again, a
 * child a request: then a statement's rows are one request's). */

/* The parameters that make a row's key in q's gathered statement: 0 for
 * one whose rows may repeat (a plain insert, DO NOTHING), -1 for a
 * statement not gathered. */
static int
wbuf_keys(enum pg_query q)
{
	switch (q) {
	case Q_INV_PUT:
	case Q_MEMBER_PUT:
		return 1;
	case Q_PAIR_PUT:
		return 2;
	case Q_LOG_ADD:
		return 4;
	case Q_EVENT_ADD:
	case Q_DUE_ADD:
		return 0;
	default:
		return -1;
	}
}

/* Row r's parameter k of b. */
#define WPAR(b, r, k) ((b)->par[(size_t)(r) * (size_t)(b)->np + (size_t)(k)])

static bool
wbuf_same_key(const struct wbuf *b, unsigned r, const struct qp *p, int keys)
{
	int k;

	for (k = 0; k < keys; k++)
		if (WPAR(b, r, k).len != p->len[k] || memcmp(b->arena +
		    WPAR(b, r, k).off, p->v[k], (size_t)p->len[k]) != 0)
			return false;
	return true;
}

/* Sends the rows gathered for q as one statement into the pipeline. */
static bool
wbuf_send(struct stx *t, enum pg_query q)
{
	struct pg_store *s = ps(t);
	struct wbuf *b = &s->wb[q];
	struct pgconn *pc = &s->w;
	const char **v;
	int *len, *fmt, total, i;
	char name[24];
	bool ok;

	if (b->n == 0)
		return true;
	if (b->n == 1) {
		/* One row: the statement itself. */
		if (!prepare(t, pc, q, b->what))
			return false;
		snprintf(name, sizeof name, "q%d", (int)q);
	} else {
		uint64_t bit = UINT64_C(1) << (b->n - 1);

		snprintf(name, sizeof name, "m%d_%u", (int)q, b->n);
		if (!(pc->mprepared[q] & bit)) {
			/* INSERT ... VALUES (row) rest: the row n times, its
			 * parameters numbered on. */
			const char *sql = q_sql[q], *open, *close, *c;
			size_t cap = strlen(sql) * (b->n + 1) + 64, o;
			char *m = xmalloc(cap);
			PGresult *r;
			unsigned row;

			open = strstr(sql, "VALUES (") + 7;
			close = strchr(open, ')') + 1;
			o = (size_t)(open - sql);
			memcpy(m, sql, o);
			for (row = 0; row < b->n; row++) {
				if (row > 0)
					m[o++] = ',';
				for (c = open; c < close; c++) {
					if (*c == '$') {
						o += (size_t)snprintf(m + o,
						    cap - o, "$%d", atoi(c + 1) +
						    (int)row * b->np);
						while (c[1] >= '0' && c[1] <= '9')
							c++;
					} else
						m[o++] = *c;
				}
			}
			snprintf(m + o, cap - o, "%s", close);
			s->preps -= s->trips;
			if (!pipe_flush(t, NULL)) {
				free(m);
				return false;
			}
			s->trips++;
			s->preps += s->trips;
			r = PQprepare(pc->c, name, m, 0, NULL);
			free(m);
			ok = PQresultStatus(r) == PGRES_COMMAND_OK;
			if (!ok)
				fail_pg(t, pc->c, r, b->what);
			PQclear(r);
			if (!ok)
				return false;
			pc->mprepared[q] |= bit;
		}
	}
	total = (int)b->n * b->np;
	v = xmalloc((size_t)total * sizeof *v);
	len = xmalloc((size_t)total * sizeof *len);
	fmt = xmalloc((size_t)total * sizeof *fmt);
	for (i = 0; i < total; i++) {
		v[i] = b->par[i].null ? NULL : b->arena + b->par[i].off;
		len[i] = b->par[i].len;
		fmt[i] = 1;
	}
	b->n = 0;
	b->alen = 0;
	ok = pipe_send_named(t, name, total, v, len, fmt, b->what, b->zero);
	free(v);
	free(len);
	free(fmt);
	return ok;
}

/* Sends every statement's gathered rows: false on a failure (recorded
 * in t). */
static bool
wbuf_send_all(struct stx *t)
{
	struct pg_store *s = ps(t);
	bool ok = true;
	int q;

	if (!s->wb_any || s->wb_sending || s->wb_hold)
		return true;
	s->wb_sending = true;
	for (q = 0; q < Q_COUNT && ok; q++)
		ok = wbuf_send(t, (enum pg_query)q);
	s->wb_sending = false;
	s->wb_any = !ok;
	if (!ok)
		wbuf_drop(s);
	return ok;
}

/* Gathers q's row p (its parameters copied). */
static bool
wbuf_add(struct stx *t, enum pg_query q, const struct qp *p,
    const char *what, int zero)
{
	struct pg_store *s = ps(t);
	struct wbuf *b = &s->wb[q];
	int keys = wbuf_keys(q), k;
	unsigned r, row;
	size_t need = 0;

	if (b->n > 0 && b->np != p->n)
		return false;	/* (the same statement: never) */
	/* A row whose key is gathered already takes that row's place:
	 * every keyed statement writes all of a row's columns (ON CONFLICT
	 * DO UPDATE SET each of them), so the last write is the row, and
	 * one statement cannot meet a key twice. (A sender's row is
	 * written twice a send: this kept a batch's sends from being
	 * gathered at all.) */
	if (b->alen > WBUF_ARENA_MAX && !wbuf_send_all(t))
		return false;	/* (rows taking places leave bytes behind) */
	for (r = 0; keys > 0 && r < b->n; r++)
		if (wbuf_same_key(b, r, p, keys))
			break;
	if ((keys <= 0 || r == b->n) && b->n == WBUF_ROWS &&
	    !wbuf_send_all(t))
		return false;
	row = keys > 0 && r < b->n ? r : b->n;	/* (b->n: a new row) */
	if (b->n == 0) {
		b->np = p->n;
		b->what = what;
		b->zero = zero;
	}
	if ((b->n + 1) * (unsigned)b->np > b->parcap) {
		b->parcap = (b->n + 1) * (unsigned)b->np * 2;
		b->par = xrealloc(b->par, b->parcap * sizeof *b->par);
	}
	for (k = 0; k < p->n; k++)
		need += p->v[k] != NULL ? (size_t)p->len[k] : 0;
	if (b->alen + need > b->acap) {
		b->acap = (b->alen + need) * 2 + 256;
		b->arena = xrealloc(b->arena, b->acap);
	}
	for (k = 0; k < p->n; k++) {
		WPAR(b, row, k).off = b->alen;
		WPAR(b, row, k).len = p->v[k] != NULL ? p->len[k] : 0;
		WPAR(b, row, k).null = p->v[k] == NULL;
		if (p->v[k] != NULL && p->len[k] > 0) {
			memcpy(b->arena + b->alen, p->v[k], (size_t)p->len[k]);
			b->alen += (size_t)p->len[k];
		}
	}
	if (row == b->n)
		b->n++;
	s->wb_any = true;
	s->nwrites++;
	return true;
}


static bool
wbuf_par_is(const struct wbuf *b, unsigned r, int k, const char *x,
    size_t xl)
{
	return x != NULL && k < b->np && !WPAR(b, r, k).null &&
	    (size_t)WPAR(b, r, k).len == xl &&
	    memcmp(b->arena + WPAR(b, r, k).off, x, xl) == 0;
}

/* Whether a gathered row is one a bundle of a and b (with the logs of
 * keys a and nkey) would read: a row of invitations, pairs or members
 * with a or b in it, or an entry of those logs. Else the bundle is read
 * with the rows still gathered (wb_hold): the batch's writes go as one
 * statement each, not one each a request. */
static bool
wbuf_touches(const struct pg_store *s, const char *a, size_t alen,
    const char *b, size_t blen, const char *nkey, size_t nklen)
{
	static const struct {
		enum pg_query q;
		int k[2];
	} cols[] = {
		{ Q_INV_PUT, { 12, 13 } },	/* sender, recipient */
		{ Q_PAIR_PUT, { 0, 1 } },
		{ Q_MEMBER_PUT, { 0, 0 } },
		{ Q_LOG_ADD, { 1, 1 } },	/* the key */
	};
	const struct wbuf *w;
	unsigned i, r;
	int j;

	for (i = 0; i < sizeof cols / sizeof cols[0]; i++) {
		w = &s->wb[cols[i].q];
		for (r = 0; r < w->n; r++)
			for (j = 0; j < 2; j++)
				if (wbuf_par_is(w, r, cols[i].k[j], a, alen) ||
				    wbuf_par_is(w, r, cols[i].k[j], b, blen) ||
				    wbuf_par_is(w, r, cols[i].k[j], nkey,
				    nklen))
					return true;
	}
	return false;
}

/* store_ops.flush. */
static bool kev_commit(struct stx *t);
static void
pg_flush(struct stx *t)
{
	struct pg_store *s = ps(t);

	if (t->read_only || pt(t)->pc != &s->w)
		return;
	/* A keyed transaction's events go in the round trip of its writes'
	 * results, which the server asks for last, before it commits (its
	 * requests defer them): one round trip less. */
	if (t->parent == NULL && s->keyed && s->write_locked)
		kev_commit(t);
	else
		pipe_flush(t, NULL);
}

static bool hint_run(struct stx *t, enum pg_query q, const struct qp *rp,
    const char *what, PGresult **keep);
static bool kev_commit(struct stx *t);

/* Runs query q with p on t's connection (preparing it there first if it
 * is not yet): its result, or NULL with the failure recorded in t. */
static PGresult *
run(struct stx *t, enum pg_query q, const struct qp *p, const char *what)
{
	struct pgconn *pc = pt(t)->pc;
	char name[16];
	PGresult *r;
	ExecStatusType st;

	if (t->rc != STORE_OK)
		return NULL;
	if (pc == NULL) {
		store_fail(t, STORE_FAILED, "%s: the transaction did not begin",
		    what);
		return NULL;
	}
	if (!t->read_only && !cp_flush(t))
		return NULL;
	if (!prepare(t, pc, q, what))
		return NULL;
	snprintf(name, sizeof name, "q%d", (int)q);
	/* The batch's sends' reads, not read yet, in this read's round
	 * trip (the deadlines' claim, before the requests run). */
	if (pc == &ps(t)->w && ps(t)->nhints > 0 &&
	    hint_run(t, q, p, what, &r)) {
		if (r == NULL && t->rc == STORE_OK)
			store_fail(t, STORE_FAILED, "%s: no result", what);
		return r;
	}
	if (pc == &ps(t)->w && !wbuf_send_all(t))
		return NULL;
	if (pc == &ps(t)->w && ps(t)->npipe > 0) {
		/* After the writes in the pipeline, in the same round
		 * trip: its result is the last. */
		if (!pipe_send(t, q, p, what, PZ_NONE, false))
			return NULL;
		pipe_flush(t, &r);
		return r;
	}
	if (pc == &ps(t)->w) {
		ps(t)->trips++;
		ps(t)->stmts++;
	}
	r = PQexecPrepared(pc->c, name, p != NULL ? p->n : 0,
	    p != NULL ? p->v : NULL, p != NULL ? p->len : NULL,
	    p != NULL ? p->fmt : NULL, 1);
	st = PQresultStatus(r);
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return r;
	fail_pg(t, pc->c, r, what);
	PQclear(r);
	return NULL;
}

/* A write, sent into the pipeline (pipe_send()): refused in a snapshot;
 * counted in store_writes() when sent; what the rows it changed say is
 * zero's (PZ_*), read with its result. 0, or -1 on a failure known now. */
static int
run_wz(struct stx *t, enum pg_query q, const struct qp *p, const char *what,
    int zero)
{
	if (t->rc != STORE_OK)
		return -1;
	if (t->read_only) {
		store_fail(t, STORE_FAILED, "%s: a snapshot cannot write", what);
		return -1;
	}
	if (pt(t)->pc != &ps(t)->w) {
		store_fail(t, STORE_FAILED, "%s: the transaction did not begin",
		    what);
		return -1;
	}
	if (!cp_flush(t))
		return -1;
	if (wbuf_keys(q) >= 0) {
		if (!wbuf_add(t, q, p, what, zero))
			return -1;
	} else {
		ps(t)->counts_ok = false;	/* it may change one */
		if (!wbuf_send_all(t) || !prepare(t, pt(t)->pc, q, what) ||
		    !pipe_send(t, q, p, what, zero, true))
			return -1;
	}
	pt(t)->dirty = true;
	return 0;
}

static int
run_w(struct stx *t, enum pg_query q, const struct qp *p, const char *what)
{
	return run_wz(t, q, p, what, PZ_NONE);
}

/* A write waited for: as run_wz(), but it returns the rows changed
 * (cmdTuples: for a statement that ends in an UPDATE of a counter,
 * whether it changed anything), -1 on a failure. */
static int64_t
run_ws(struct stx *t, enum pg_query q, const struct qp *p, const char *what)
{
	PGresult *r;
	int64_t n;

	if (t->rc != STORE_OK)
		return -1;
	if (t->read_only) {
		store_fail(t, STORE_FAILED, "%s: a snapshot cannot write", what);
		return -1;
	}
	ps(t)->counts_ok = false;	/* it may change one */
	if ((r = run(t, q, p, what)) == NULL)
		return -1;
	n = strtoll(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	pt(t)->dirty = true;
	ps(t)->nwrites += n > 0 ? (uint64_t)n : 0;
	return n;
}

/* A column of a binary result as an integer (smallint, integer, bigint or
 * boolean); 0 when NULL. */
static int64_t
col_int(const PGresult *r, int row, int col)
{
	const unsigned char *v;

	if (PQgetisnull(r, row, col))
		return 0;
	v = (const unsigned char *)PQgetvalue(r, row, col);
	switch (PQgetlength(r, row, col)) {
	case 1:
		return v[0];
	case 2:
		return (int16_t)be_get(v, 2);
	case 4:
		return (int32_t)be_get(v, 4);
	case 8:
		return (int64_t)be_get(v, 8);
	default:
		return 0;
	}
}

static const char *
col_bytes(const PGresult *r, int row, int col, size_t *len)
{
	*len = (size_t)PQgetlength(r, row, col);
	return PQgetvalue(r, row, col);
}

/* A query for one integer: the first column of its first row, 0 when
 * there is none. */
static int64_t
get_int(struct stx *t, enum pg_query q, const struct qp *p, const char *what)
{
	PGresult *r = run(t, q, p, what);
	int64_t v = 0;

	if (r == NULL)
		return 0;
	if (PQntuples(r) > 0)
		v = col_int(r, 0, 0);
	PQclear(r);
	return v;
}

static int64_t
meta_get(struct stx *t, const char *name)
{
	struct qp p = { 0 };

	qp_text(&p, name);
	return get_int(t, Q_META_GET, &p, "meta");
}

static void
meta_set(struct stx *t, const char *name, int64_t v)
{
	struct qp p = { 0 };

	qp_text(&p, name);
	qp_i64(&p, v);
	run_w(t, Q_META_SET, &p, "meta");
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

/* Opening. */

/* A throw-away transaction for open's own statements. */
static void
open_stx(struct pg_store *s, struct pg_stx *t)
{
	memset(t, 0, sizeof *t);
	t->base.s = &s->base;
	t->pc = &s->w;
}

/* Takes the schema from version `from` to PG_SCHEMA, in t (the open's
 * transaction): 0, or -1 with t failed. */
static int
pg_migrate(struct pg_store *s, struct stx *t, int from)
{
	char ver[96];
	size_t i;

	for (i = 0; i < PG_MIGRATIONS; i++) {
		if (pg_migrations[i].version <= from)
			continue;
		store_progress("migrating the PostgreSQL schema to version %d",
		    pg_migrations[i].version);
		if (!cmd(t, s->w.c, pg_migrations[i].sql, "migrating the schema"))
			return -1;
	}
	snprintf(ver, sizeof ver, "UPDATE meta SET value = %d "
	    "WHERE name = 'schema_version'", PG_SCHEMA);
	return cmd(t, s->w.c, ver, "migrating the schema") ? 0 : -1;
}

/* The schema: made when the database has none (version 1, then
 * migrated), migrated when it is older, checked when it has one. 0, or -1
 * with why set. */
static int
pg_schema(struct pg_store *s, char *why, size_t whylen)
{
	struct pg_stx t;
	PGresult *r;
	int64_t v;
	bool exists;

	open_stx(s, &t);
	if (!cmd(&t.base, s->w.c, "BEGIN", "open"))
		goto fail;
	/* Daemons starting together: one makes the schema, the others
	 * then find it. */
	if (!cmd(&t.base, s->w.c, "SELECT pg_advisory_xact_lock(" LOCK_CREATE
	    ")", "open"))
		goto fail;
	r = PQexec(s->w.c, "SELECT to_regclass('meta') IS NOT NULL");
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		fail_pg(&t.base, s->w.c, r, "open");
		PQclear(r);
		goto fail;
	}
	exists = PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	if (!exists) {
		if (!cmd(&t.base, s->w.c, schema_sql, "creating the schema") ||
		    !cmd(&t.base, s->w.c,
		    "INSERT INTO meta VALUES ('schema_version', 1)",
		    "creating the schema") ||
		    pg_migrate(s, &t.base, 1) == -1)
			goto fail;
		log_info("store: created the connreq schema (version %d) in PostgreSQL database %s",
		    PG_SCHEMA, PQdb(s->w.c));
	} else {
		r = PQexec(s->w.c,
		    "SELECT value FROM meta WHERE name = 'schema_version'");
		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			fail_pg(&t.base, s->w.c, r, "open");
			PQclear(r);
			goto fail;
		}
		if (PQntuples(r) != 1) {
			PQclear(r);
			store_fail(&t.base, STORE_FAILED,
			    "database %s has a table meta without a schema_version: not a connreq store",
			    PQdb(s->w.c));
			goto fail;
		}
		v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		PQclear(r);
		if (v > PG_SCHEMA) {
			store_fail(&t.base, STORE_FAILED,
			    "store schema version %" PRId64 " is newer than this connreqd (%d): upgrade connreqd",
			    v, PG_SCHEMA);
			goto fail;
		}
		if (v < 1) {
			store_fail(&t.base, STORE_FAILED,
			    "store schema version %" PRId64 " is unknown to this connreqd (%d)",
			    v, PG_SCHEMA);
			goto fail;
		}
		if (v < PG_SCHEMA) {
			if (pg_migrate(s, &t.base, (int)v) == -1)
				goto fail;
			log_info("store: migrated the connreq schema of PostgreSQL database %s from version %" PRId64 " to %d",
			    PQdb(s->w.c), v, PG_SCHEMA);
		}
	}
	if (!cmd(&t.base, s->w.c, "COMMIT", "open"))
		goto fail;
	return 0;
fail:
	snprintf(why, whylen, "%s", s->base.err);
	cmd_quiet(s->w.c, "ROLLBACK");
	return -1;
}

/* Read-only (store_open_check): the schema must be there, of this
 * version; nothing is created or written. */
static int
pg_schema_check(struct pg_store *s, char *why, size_t whylen)
{
	PGresult *r;
	int64_t v;

	r = PQexec(s->w.c,
	    "SELECT value FROM meta WHERE name = 'schema_version'");
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		char msg[400];

		msg_copy(msg, sizeof msg, PQresultErrorField(r,
		    PG_DIAG_MESSAGE_PRIMARY) != NULL ? PQresultErrorField(r,
		    PG_DIAG_MESSAGE_PRIMARY) : PQerrorMessage(s->w.c));
		snprintf(why, whylen, "no connreq store in PostgreSQL database %s (%s)",
		    PQdb(s->w.c), PQresultStatus(r) == PGRES_TUPLES_OK ?
		    "no schema_version" : msg);
		PQclear(r);
		return -1;
	}
	v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	if (v != PG_SCHEMA) {
		snprintf(why, whylen, v > PG_SCHEMA ?
		    "store schema version %" PRId64 " is newer than this connreqd (%d): upgrade connreqd" :
		    v >= 1 ? "store schema version %" PRId64 " is older than this connreqd's (%d): connreqd migrates it when it opens it" :
		    "store schema version %" PRId64 " is unknown to this connreqd (%d)",
		    v, PG_SCHEMA);
		return -1;
	}
	return 0;
}

/* Takes the session lock (try: never waits): exclusive for a check,
 * shared for a daemon. 1 taken, 0 held by another, -1 on an error. */
static int
pg_lock(struct pg_store *s, bool exclusive, char *why, size_t whylen)
{
	PGresult *r = PQexec(s->w.c, exclusive ?
	    "SELECT pg_try_advisory_lock(" LOCK_OPEN ")" :
	    "SELECT pg_try_advisory_lock_shared(" LOCK_OPEN ")");
	int rc;

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		char msg[400];

		msg_copy(msg, sizeof msg, PQresultErrorMessage(r));
		snprintf(why, whylen, "PostgreSQL: %s", msg);
		rc = -1;
	} else
		rc = PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	return rc;
}

static void pg_close(struct store *base);

/* `where` is a libpq conninfo. A daemon holds a shared session lock on
 * the store for as long as it has it open, a check an exclusive one: a
 * check refuses a store a connreqd has open, and no connreqd opens one
 * being checked; daemons share it with each other. The target of a copy
 * (store_open_alone) holds it exclusive too. map_max means nothing
 * here. */
static int
pg_open(struct store *base, const char *where, uint64_t map_max, char *why,
    size_t whylen)
{
	struct pg_store *s = (struct pg_store *)base;
	int rc;

	(void)map_max;
	s->conninfo = xstrndup(where, strlen(where));
	if ((s->w.c = pg_connect(where, why, whylen)) == NULL)
		goto fail;
	if (base->read_only) {
		if (pg_schema_check(s, why, whylen) == -1)
			goto fail;
		if ((rc = pg_lock(s, true, why, whylen)) == -1)
			goto fail;
		if (rc == 0) {
			snprintf(why, whylen,
			    "the store in PostgreSQL database %s is in use by a running connreqd; stop it first",
			    PQdb(s->w.c));
			goto fail;
		}
		return 0;
	}
	/* store_open_alone (connreqd --copy-store's target): exclusive, as
	 * a check's. */
	if ((rc = pg_lock(s, base->alone, why, whylen)) == -1)
		goto fail;
	if (rc == 0) {
		snprintf(why, whylen, base->alone ?
		    "the store in PostgreSQL database %s is in use by a running connreqd or a check; stop it first" :
		    "the store in PostgreSQL database %s is in use by connreqd --check",
		    PQdb(s->w.c));
		goto fail;
	}
	if (pg_schema(s, why, whylen) == -1)
		goto fail;
	return 0;
fail:
	pg_close(base);
	return -1;
}

static void
pg_close(struct store *base)
{
	struct pg_store *s = (struct pg_store *)base;
	unsigned i;
	int k;

	for (k = 0; k < SREC_COUNT; k++)
		free(s->cp[k].b);
	cache_clear(s);
	free(s->cache);
	PQclear(s->clock_r);
	for (k = 0; k < Q_COUNT; k++) {
		free(s->wb[k].par);
		free(s->wb[k].arena);
	}
	s->cache = NULL;

	for (i = 0; i < s->npool; i++) {
		PQfinish(s->pool[i]->c);
		free(s->pool[i]);
	}
	s->npool = 0;
	if (s->w.c != NULL)
		PQfinish(s->w.c);	/* the session lock goes with it */
	s->w.c = NULL;
	free(s->conninfo);
	free(s->kev);
	free(s->kev_buf);
	s->kev = NULL;
	s->kev_buf = NULL;
	s->nkev = s->kevcap = 0;
	s->kev_len = s->kev_cap = 0;
	s->conninfo = NULL;
}

/* What LMDB's map is has no counterpart: PostgreSQL allocates as it goes.
 * No commit reports STORE_MAP_FULL, so there is nothing to grow (-1:
 * grow cannot help); the map's size is 0 and its maximum is not used. A
 * full disk is SQLSTATE 53100, reported as STORE_NO_SPACE with nothing
 * written; whether there is room again cannot be known from here before a
 * write tries, so room is always 0 (the next write finds out). */
static int
pg_grow(struct store *base)
{
	(void)base;
	return -1;
}

static uint64_t
pg_map_size(struct store *base)
{
	(void)base;
	return 0;
}

static void
pg_set_map_max(struct store *base, uint64_t map_max)
{
	(void)base;
	(void)map_max;
}

static int
pg_room(struct store *base)
{
	(void)base;
	return 0;
}

/* Transactions. */

/* A connection for a read transaction: an idle one of the pool, or a new
 * one. */
static struct pgconn *
pool_take(struct stx *t)
{
	struct pg_store *s = ps(t);
	struct pgconn *pc;
	char why[240];
	PGconn *c;

	if (s->npool > 0)
		return s->pool[--s->npool];
	if ((c = pg_connect(s->conninfo, why, sizeof why)) == NULL) {
		store_fail(t, STORE_UNAVAILABLE, "begin: %s", why);
		return NULL;
	}
	pc = xcalloc(1, sizeof *pc);
	pc->c = c;
	return pc;
}

/* Gives a read transaction's connection back: kept when it is sound and
 * idle and the pool has room, closed otherwise. */
static void
pool_give(struct pg_store *s, struct pgconn *pc)
{
	if (PQstatus(pc->c) == CONNECTION_OK &&
	    PQtransactionStatus(pc->c) == PQTRANS_IDLE &&
	    s->npool < POOL_MAX) {
		s->pool[s->npool++] = pc;
		return;
	}
	PQfinish(pc->c);
	free(pc);
}

/* Runs a BEGIN: true when it succeeded; false, with nothing recorded and
 * the connection outside a transaction, when it failed (the connection is
 * gone, most likely): the caller tries once more, on a new connection, and
 * records a second failure. */
static bool
begin_quiet(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(r);

	PQclear(r);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return true;
	if (PQstatus(c) != CONNECTION_BAD)
		cmd_quiet(c, "ROLLBACK");
	return false;
}

/* Closes the idle read connections. */
static void
pool_drop(struct pg_store *s)
{
	while (s->npool > 0) {
		s->npool--;
		PQfinish(s->pool[s->npool]->c);
		free(s->pool[s->npool]);
	}
}

/* The write connection made anew, its statements to be prepared again
 * on the new one: false when it could not connect. */
static bool
w_reconnect(struct pg_store *s)
{
	memset(s->w.prepared, 0, sizeof s->w.prepared);
	memset(s->w.mprepared, 0, sizeof s->w.mprepared);
	PQreset(s->w.c);
	if (PQstatus(s->w.c) != CONNECTION_OK)
		return false;
	PQsetNoticeProcessor(s->w.c, quiet_notice, NULL);
	if (PQpipelineStatus(s->w.c) != PQ_PIPELINE_OFF)
		PQexitPipelineMode(s->w.c);
	s->npipe = 0;
	log_warn("store: connected to PostgreSQL again");
	s->unlocked = true;	/* it went with the old session */
	s->write_locked = false;	/* so did that one */
	return true;
}

/* The store's connection for a write transaction, connected again when
 * it was lost (w_reconnect()). */
static bool
w_ready(struct stx *t)
{
	struct pg_store *s = ps(t);
	char msg[400];
	int rc;

	if (PQstatus(s->w.c) != CONNECTION_OK && !w_reconnect(s)) {
		msg_copy(msg, sizeof msg, PQerrorMessage(s->w.c));
		store_fail(t, STORE_UNAVAILABLE,
		    "begin: cannot connect to PostgreSQL again: %s", msg);
		return false;
	}
	/* Nothing is done without the session lock: a check or a copy may
	 * have taken the store while this session was gone. */
	if (s->unlocked) {
		rc = pg_lock(s, s->base.read_only || s->base.alone, msg,
		    sizeof msg);
		if (rc != 1) {
			if (rc == 0)
				store_fail(t, STORE_UNAVAILABLE,
				    "begin: the store is held by connreqd --check or --copy-store; nothing is done until it is released");
			else
				store_fail(t, STORE_UNAVAILABLE, "begin: %s",
				    msg);
			return false;
		}
		s->unlocked = false;
	}
	if (PQtransactionStatus(s->w.c) != PQTRANS_IDLE)
		cmd_quiet(s->w.c, "ROLLBACK");
	return true;
}

/* A write transaction is SERIALIZABLE: several daemons will share the
 * database, and the rules read what they then write (counts, limits, the
 * pending invitation of a pair). A read transaction is REPEATABLE READ,
 * READ ONLY, on a connection of its own, its snapshot taken at once (the
 * SELECT after BEGIN): it sees the last commit before it began, as the
 * contract asks. SERIALIZABLE READ ONLY DEFERRABLE would also rule out
 * the read-only anomaly of SSI, but it may wait for concurrent
 * serializable writers to end before it starts, and a read must not wait
 * for writes; a snapshot is consistent, which is all a read answers
 * from (every decision is taken in a serializable write transaction). */
static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static size_t arr_put(unsigned char *out, unsigned oid, unsigned n,
    const char *const *v, const size_t *len);
#define ARR_BYTES(n, data) (20 + 4 * (size_t)(n) + (size_t)(data))
#define OID_BYTEA 17
#define OID_INT8 20

/* In pipeline mode: a Parse of each of qs[0..n) that the connection has
 * not prepared yet (need[i] true for those), named q<N>: how many were
 * sent, or -1 when the connection failed. */
static int
pipe_prepare(struct pgconn *pc, const enum pg_query *qs, unsigned n,
    bool *need)
{
	char name[16];
	unsigned i;
	int np = 0;

	for (i = 0; i < n; i++) {
		need[i] = !(pc->prepared[qs[i] / 8] & (1u << (qs[i] % 8)));
		if (!need[i])
			continue;
		snprintf(name, sizeof name, "q%d", (int)qs[i]);
		if (PQsendPrepare(pc->c, name, q_sql[qs[i]], 0, NULL) != 1)
			return -1;
		np++;
	}
	return np;
}

/* One of pipe_prepare()'s Parses succeeded (they answer in order): the
 * first of qs still needed is prepared on the connection, and stays so
 * whatever the transaction's fate. */
static void
pipe_prepared(struct pgconn *pc, const enum pg_query *qs, bool *need)
{
	unsigned i;

	for (i = 0; !need[i]; i++)
		;
	need[i] = false;
	pc->prepared[qs[i] / 8] |= (unsigned char)(1u << (qs[i] % 8));
}

/* Takes LOCK_WRITE and begins the write transaction in one round trip
 * (pipeline mode: the lock's statement in a pipeline segment of its own,
 * then BEGIN in the next one, which the server runs once the lock is
 * had, so its snapshot follows the previous writer's commit), and runs
 * Q_CLOCK_WRITE, the transaction's first statement, in BEGIN's segment: the
 * first failure's result, else BEGIN's; NULL when the connection failed;
 * its result (binary) in *clock when it ran (else NULL). When the
 * lock failed, BEGIN may have run: the caller rolls back. */
static PGresult *
lock_begin(struct pgconn *pc, const struct store_keys *ks,
    PGresult **clock)
{
	static const enum pg_query excl[] = { Q_LOCK_WRITE, Q_BEGIN_WRITE,
	    Q_CLOCK_WRITE }, keyed[] = { Q_LOCK_SHARED, Q_BEGIN_KEYED,
	    Q_KEY_LOCKS, Q_CLOCK_WRITE };
	const enum pg_query *qs = ks != NULL ? keyed : excl;
	unsigned nq = ks != NULL ? 4 : 3;
	PGconn *c = pc->c;
	char name[4][16];
	PGresult *r, *out = NULL;
	ExecStatusType st;
	unsigned syncs = 0, nulls = 0, k = 0, i;
	int np = 0;
	bool need[4];
	/* The keys, sorted, as a bigint[] (binary). */
	int64_t keys[STORE_KEYS_MAX];
	unsigned char knum[STORE_KEYS_MAX][8];
	const char *kv[STORE_KEYS_MAX];
	size_t klen[STORE_KEYS_MAX];
	unsigned char *karr = NULL;
	const char *pv[1] = { NULL };
	int plen[1] = { 0 }, pfmt[1] = { 1 };
	unsigned nk = 0;

	*clock = NULL;
	if (ks != NULL) {
		nk = ks->n;
		for (i = 0; i < nk; i++) {
			keys[i] = (int64_t)ks->k[i];
			/* Not one of this file's own locks, which share the
			 * space of bigint advisory locks (LOCK_OPEN above
			 * all: every daemon holds it shared, so a key taken
			 * as it would wait for them all to close). Moved
			 * far from them (bit 62: they all have it). */
			if (keys[i] == strtoll(LOCK_OPEN, NULL, 10) ||
			    keys[i] == strtoll(LOCK_CREATE, NULL, 10) ||
			    keys[i] == strtoll(LOCK_WRITE, NULL, 10) ||
			    keys[i] == strtoll(LOCK_DUES, NULL, 10))
				keys[i] ^= INT64_C(1) << 62;
		}
		qsort(keys, nk, sizeof keys[0], cmp_i64);
		for (i = 0; i < nk; i++) {
			be_put(knum[i], (uint64_t)keys[i], 8);
			kv[i] = (const char *)knum[i];
			klen[i] = 8;
		}
		karr = xmalloc(ARR_BYTES(nk, 8 * (size_t)nk));
		plen[0] = (int)arr_put(karr, OID_INT8, nk, kv, klen);
		pv[0] = (const char *)karr;
	}
	if (PQenterPipelineMode(c) != 1) {
		free(karr);
		return NULL;
	}
	/* Prepared in the same round trip, on a connection's first write
	 * transaction (not by prepare(): a connection closed since it was
	 * made fails here, and is made anew). */
	for (i = 0; i < nq; i++)
		snprintf(name[i], sizeof name[i], "q%d", (int)qs[i]);
	if ((np = pipe_prepare(pc, qs, nq, need)) < 0) {
		free(karr);
		return NULL;
	}
	if (PQsendQueryPrepared(c, name[0], 0, NULL, NULL, NULL, 0) != 1 ||
	    PQpipelineSync(c) != 1 ||
	    PQsendQueryPrepared(c, name[1], 0, NULL, NULL, NULL, 0) != 1 ||
	    (ks != NULL && PQsendQueryPrepared(c, name[2], 1, pv, plen, pfmt,
	    0) != 1) ||
	    PQsendQueryPrepared(c, name[nq - 1], 0, NULL, NULL, NULL, 1) != 1 ||
	    PQpipelineSync(c) != 1) {
		free(karr);
		return NULL;	/* the connection failed: reset */
	}
	free(karr);
	while (syncs < 2) {
		if ((r = PQgetResult(c)) == NULL) {
			if (PQstatus(c) == CONNECTION_BAD || ++nulls > 2)
				break;
			continue;
		}
		nulls = 0;
		st = PQresultStatus(r);
		if (st == PGRES_PIPELINE_SYNC) {
			syncs++;
			PQclear(r);
		} else if (k < (unsigned)np && st == PGRES_COMMAND_OK) {
			pipe_prepared(pc, qs, need);
			k++;
			PQclear(r);
		} else if (k++ == np + nq - 1 && st == PGRES_TUPLES_OK) {
			PQclear(*clock);	/* (results come in order) */
			*clock = r;
		} else if (out == NULL || PQresultStatus(out) ==
		    PGRES_TUPLES_OK || (PQresultStatus(out) ==
		    PGRES_COMMAND_OK && st != PGRES_COMMAND_OK &&
		    st != PGRES_TUPLES_OK)) {
			PQclear(out);
			out = r;
		} else
			PQclear(r);
	}
	if (syncs < 2) {
		PQclear(out);
		PQclear(*clock);
		*clock = NULL;
		return NULL;
	}
	PQexitPipelineMode(c);
	return out;
}

/* The meta rows of the pending values, pend_take()'s order. */
static const char *const pend_names[] = { "next_id", "event.head",
    "count.pending", "count.accepted", "count.ignored", "count.withdrawn",
    "count.expired", "count.deadlines" };
#define PEND_N (sizeof pend_names / sizeof pend_names[0])

/* The pending meta values (s->pend) into on[] and v[] (event.head's as
 * it is, the counters' as what they gain), and they are no longer
 * pending: how many there are. */
static int
pend_take(struct pg_store *s, bool on[PEND_N], int64_t v[PEND_N])
{
	struct pg_pend *d = &s->pend;
	unsigned i;
	int n = 0;

	_Static_assert(ST_COUNT == 5, "pend_names");
	on[0] = false;		/* (ids come from their sequence) */
	v[0] = 0;
	on[1] = d->head;
	v[1] = s->head;
	for (i = 0; i < ST_COUNT; i++) {
		on[2 + i] = d->count[i] != 0;
		v[2 + i] = d->count[i];
	}
	on[7] = d->deadlines != 0;
	v[7] = d->deadlines;
	memset(d, 0, sizeof *d);
	for (i = 0; i < PEND_N; i++)
		n += on[i];
	if (n > 0) {
		s->stmts++;
		s->counts_ok = false;	/* the rows hold them now */
	}
	return n;
}

/* The statement that writes the pending meta values (s->pend), with its
 * semicolon, into buf (empty when there are none), and they are no longer
 * pending: a SAVEPOINT's simple query begins with it. */
static void
pend_sql(struct pg_store *s, char *buf, size_t len)
{
	const char *sep = "";
	int64_t v[PEND_N];
	bool on[PEND_N];
	size_t off;
	unsigned i;

	buf[0] = '\0';
	if (pend_take(s, on, v) == 0)
		return;
	off = (size_t)snprintf(buf, len, "UPDATE meta SET value = CASE name");
	for (i = 0; i < PEND_N; i++)
		if (on[i] && off < len)
			off += (size_t)snprintf(buf + off, len - off,
			    " WHEN '%s' THEN %s%" PRId64, pend_names[i],
			    i < 2 ? "" : "value + ", v[i]);
	if (off < len)
		off += (size_t)snprintf(buf + off, len - off,
		    " END WHERE name IN (");
	for (i = 0; i < PEND_N; i++)
		if (on[i] && off < len) {
			off += (size_t)snprintf(buf + off, len - off, "%s'%s'",
			    sep, pend_names[i]);
			sep = ", ";
		}
	if (off < len)
		snprintf(buf + off, len - off, "); ");
}

/* Q_PEND's parameters for the pending meta values (s->pend), as text
 * arrays in names and vals, and they are no longer pending: false when
 * there are none. */
static bool
pend_params(struct pg_store *s, char *names, size_t nlen, char *vals,
    size_t vlen)
{
	int64_t v[PEND_N];
	bool on[PEND_N];
	size_t no = 0, vo = 0;
	unsigned i;

	if (pend_take(s, on, v) == 0)
		return false;
	for (i = 0; i < PEND_N; i++)
		if (on[i] && no < nlen && vo < vlen) {
			no += (size_t)snprintf(names + no, nlen - no, "%c%s",
			    no == 0 ? '{' : ',', pend_names[i]);
			vo += (size_t)snprintf(vals + vo, vlen - vo,
			    "%c%" PRId64, vo == 0 ? '{' : ',', v[i]);
		}
	if (no < nlen)
		snprintf(names + no, nlen - no, "}");
	if (vo < vlen)
		snprintf(vals + vo, vlen - vo, "}");
	return true;
}

static void w_end(struct pg_store *s);
static void w_begin(struct stx *t, const struct store_keys *ks);
static void kev_clear(struct pg_store *s);

static void
pg_begin(struct stx *t)
{
	static const char read_sql[] = "BEGIN ISOLATION LEVEL REPEATABLE READ, "
	    "READ ONLY; SELECT 1";
	struct pg_stx *x = pt(t);
	struct pg_store *s = ps(t);
	char sql[PEND_SQL_MAX + 32], pre[PEND_SQL_MAX];

	_Static_assert(ST_COUNT == 5, "Q_CLOCK_WRITE's counters");
	if (t->parent != NULL) {
		x->pc = pt(t->parent)->pc;
		x->depth = pt(t->parent)->depth + 1;
		/* What the parent sent is the parent's. */
		if (!t->read_only && !pipe_flush(t->parent, NULL)) {
			store_fail(t, t->parent->rc, "begin: %s", s->base.err);
			return;
		}
		if (!t->read_only && !cp_flush(t))
			return;
		/* The parent's pending meta values written first: the
		 * child's rollback keeps them. */
		pre[0] = '\0';
		if (!t->read_only)
			pend_sql(s, pre, sizeof pre);
		snprintf(sql, sizeof sql, "%sSAVEPOINT s%u", pre, x->depth);
		cmd(t, x->pc->c, sql, "begin");
		return;
	}
	if (t->read_only) {
		if ((x->pc = pool_take(t)) == NULL)
			return;
		if (begin_quiet(x->pc->c, read_sql))
			return;
		/* The server closed it since its last use (a restart, a
		 * terminated backend): so it did the others kept idle. Once
		 * more, on a new connection; nothing was done yet. */
		PQfinish(x->pc->c);
		free(x->pc);
		x->pc = NULL;
		pool_drop(s);
		if ((x->pc = pool_take(t)) == NULL)
			return;
		cmd(t, x->pc->c, read_sql, "begin");
		return;
	}
	w_begin(t, NULL);
}

/* Begins t, a top-level write transaction: keyed (ks not NULL, see
 * store_begin_keyed()) or taking every writer's turn. */
static void
w_begin(struct stx *t, const struct store_keys *ks)
{
	struct pg_stx *x = pt(t);
	struct pg_store *s = ps(t);
	PGresult *r, *clock;
	int tries, i;

	s->doomed = false;
	s->evented = false;
	tx_forget(s);
	kev_clear(s);
	/* Ids left from the last transaction are dropped (a member's ids
	 * increase in commit order: each is taken under its transaction's
	 * locks). */
	s->nids = s->idn = 0;
	s->id_chunk = 0;
	s->ids_first = 0;
	memset(&s->pend, 0, sizeof s->pend);
	s->trips = 1;	/* LOCK_WRITE, BEGIN and the clock */
	s->preps = 0;
	clock_gettime(CLOCK_MONOTONIC, &s->t0);
	s->stmts = ks != NULL ? 4 : 3;
	s->keyed = ks != NULL;
	if (!w_ready(t))
		return;
	x->pc = &s->w;
	for (tries = 0;; tries++) {
		s->write_locked = true;
		r = lock_begin(x->pc, ks, &clock);
		if (PQresultStatus(r) == PGRES_COMMAND_OK && clock != NULL &&
		    PQntuples(clock) == 1 && PQnfields(clock) == 15) {
			PQclear(r);
			s->clock_r = clock;
			s->due_first_ok = true;
			s->due_first_none = PQgetisnull(clock, 0, 12);
			if (!s->due_first_none) {
				s->due_first.at = col_int(clock, 0, 12);
				s->due_first.kind = (uint8_t)col_int(clock, 0,
				    13);
				s->due_first.id = (uint64_t)col_int(clock, 0,
				    14);
			}
			for (i = 0; i < ST_COUNT + 2; i++)
				s->counts[i] = col_int(clock, 0, 5 + i);
			s->counts_ok = true;
			s->oldest_none = PQgetisnull(clock, 0, 4);
			s->oldest_at = col_int(clock, 0, 4);
			s->oldest_ok = true;
			return;
		}
		PQclear(clock);
		if (PQresultStatus(r) == PGRES_COMMAND_OK) {
			/* No vclock row: as pg_db_clock() finds it. */
			PQclear(r);
			return;
		}
		if (PQstatus(x->pc->c) == CONNECTION_BAD && tries == 0) {
			/* As above, the store's connection: once more on a
			 * new one (the lock went with the old session). */
			PQclear(r);
			s->write_locked = false;
			if (!w_ready(t))
				return;
			continue;
		}
		/* The lock not had within lock_timeout (UNAVAILABLE), or
		 * BEGIN failed: the lock, if it was taken, goes back. */
		fail_pg(t, x->pc->c, r, "begin");
		PQclear(r);
		if (PQstatus(x->pc->c) == CONNECTION_OK &&
		    PQtransactionStatus(x->pc->c) != PQTRANS_IDLE)
			cmd_quiet(x->pc->c, "ROLLBACK");
		w_end(s);
		return;
	}
}

static void pg_abort(struct stx *t);

/* After a write transaction ended (committed or rolled back): LOCK_WRITE
 * goes back, for the next writer (a no-op, with a warning the notice
 * processor drops, when it was not taken). */
static void
w_end(struct pg_store *s)
{
	pipe_drain(s);
	kev_clear(s);
	if (!s->write_locked)
		return;
	s->write_locked = false;
	if (PQstatus(s->w.c) == CONNECTION_OK)
		cmd_quiet(s->w.c, s->keyed ? "SELECT pg_advisory_unlock_shared("
		    LOCK_WRITE ")" : "SELECT pg_advisory_unlock(" LOCK_WRITE
		    ")");
}

/* A keyed transaction: its keys' locks, taken with LOCK_WRITE shared
 * and BEGIN, in their round trip (lock_begin()). */
static void
pg_begin_keyed(struct stx *t, const struct store_keys *ks)
{
	w_begin(t, ks);
}

static void
kev_clear(struct pg_store *s)
{
	s->nkev = 0;
	s->kev_head = false;
	s->kev_len = 0;
}

/* A write transaction's last round trip, in pipeline mode: the pending
 * meta values (Q_PEND), the ids not given back (their sequence set to
 * rewind, the first of them; none when 0), the head notified (notify),
 * COMMIT, and LOCK_WRITE's release (shared when keyed); each statement
 * prepared in the same round trip on a connection's first use, none
 * parsed again. The result of the first statement before COMMIT that
 * failed (the pipeline runs none after it), else COMMIT's, whatever
 * follows it; NULL when no answer came before COMMIT's (the connection
 * failed: whether COMMIT ran is not known). *locked goes false when the
 * lock was given back. */
static PGresult *
commit_unlock(struct pg_store *s, struct pgconn *pc, int64_t rewind,
    bool notify, bool keyed, bool *locked)
{
	enum pg_query qs[5];
	const char *pv[5][2];
	int plen[5][2] = { { 0 } }, pfmt[5][2] = { { 0 } }, pn[5] = { 0 };
	char names[PEND_N * 20], vals[PEND_N * 24], rw[24], name[16];
	PGconn *c = pc->c;
	PGresult *r, *out = NULL;
	ExecStatusType st;
	unsigned n = 0, k = 0, i, nulls = 0, ic;
	int np = 0;
	bool need[5], synced = false, failed = false, released = false;

	if (pend_params(s, names, sizeof names, vals, sizeof vals)) {
		pv[n][0] = names;
		pv[n][1] = vals;
		pn[n] = 2;
		qs[n++] = Q_PEND;
	}
	if (rewind > 0) {
		snprintf(rw, sizeof rw, "%" PRId64, rewind);
		pv[n][0] = rw;
		pn[n] = 1;
		qs[n++] = Q_IDS_REWIND;
	}
	if (notify)
		qs[n++] = Q_NOTIFY;
	ic = n;
	qs[n++] = Q_COMMIT;
	qs[n++] = keyed ? Q_UNLOCK_SHARED : Q_UNLOCK;
	if (PQenterPipelineMode(c) != 1)
		return NULL;
	if ((np = pipe_prepare(pc, qs, n, need)) < 0)
		return NULL;
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof name, "q%d", (int)qs[i]);
		if (PQsendQueryPrepared(c, name, pn[i], pn[i] ? pv[i] : NULL,
		    plen[i], pfmt[i], 0) != 1)
			return NULL;	/* the connection failed */
	}
	if (PQpipelineSync(c) != 1)
		return NULL;
	while (!synced) {
		if ((r = PQgetResult(c)) == NULL) {
			if (PQstatus(c) == CONNECTION_BAD || ++nulls > 2)
				break;
			continue;
		}
		nulls = 0;
		st = PQresultStatus(r);
		if (st == PGRES_PIPELINE_SYNC) {
			synced = true;
			PQclear(r);
		} else if (k < (unsigned)np && st == PGRES_COMMAND_OK) {
			pipe_prepared(pc, qs, need);
			k++;
			PQclear(r);
		} else if (failed || st == PGRES_PIPELINE_ABORTED) {
			k++;
			PQclear(r);
		} else if (k > np + ic) {
			/* After COMMIT: the lock's release. Should it fail,
			 * the answer is still COMMIT's (done is done), and
			 * w_end() gives the lock back. */
			released = st == PGRES_TUPLES_OK;
			k++;
			PQclear(r);
		} else if (k++ == np + ic || (st != PGRES_COMMAND_OK &&
		    st != PGRES_TUPLES_OK)) {
			/* COMMIT's (or ROLLBACK's), or the first failure
			 * before it: the answer. */
			failed = st != PGRES_COMMAND_OK;
			PQclear(out);
			out = r;
		} else
			PQclear(r);
	}
	if (!synced) {
		/* The connection failed on the way: a COMMIT that
		 * succeeded stands (w_end() drains what is left, or the
		 * next transaction connects again); before it, what ran is
		 * not known. */
		if (out != NULL && !failed && k > np + ic &&
		    strcmp(PQcmdStatus(out), "COMMIT") == 0)
			return out;
		PQclear(out);
		return NULL;
	}
	PQexitPipelineMode(c);
	if (released)
		*locked = false;
	return out;
}

/* A keyed transaction's events (s->kev), given their seqs after
 * event.head's, in the round trip of its last writes; the row of
 * event.head is then this transaction's until it ends, so that the
 * counters' rows, which COMMIT's statement writes next, are taken in
 * the same order by every such transaction (no deadlock). So no write
 * before may take one of those rows (count.deadlines goes through
 * s->pend, PZ_DUE_DEL); count.connections, which a connection's write
 * takes at once (Q_CONN_PUT), is never written after it. False with
 * the failure in t. */
static bool
kev_commit(struct stx *t)
{
	struct pg_store *s = ps(t);
	unsigned n = s->nkev, i, col;
	const char **v;
	size_t *len, cap, off = 0;
	unsigned char (*nums)[8], *o;
	struct qp p = { 0 };
	PGresult *r = NULL;
	bool ok;
	int c;

	if (t->rc != STORE_OK)
		return false;
	for (c = 0; c < ST_COUNT && s->pend.count[c] == 0; c++)
		;
	if (n == 0 && (s->kev_head || (c == ST_COUNT &&
	    s->pend.deadlines == 0 && s->npipe == 0 && !s->wb_any)))
		return true;	/* nothing written, or event.head's row had */
	if (!wbuf_send_all(t) || !prepare(t, &s->w, Q_EVENTS_KEYED, "event"))
		return false;
	v = xcalloc(n + 1, sizeof *v);
	len = xcalloc(n + 1, sizeof *len);
	nums = xcalloc(n + 1, sizeof *nums);
	cap = 4 * ARR_BYTES(n, 0) + 16 * (size_t)n + s->kev_len;
	o = xmalloc(cap);
	qp_i64(&p, n);
	for (col = 0; col < 4; col++) {
		for (i = 0; i < n; i++) {
			struct kev *e = &s->kev[i];

			switch (col) {
			case 0:
			case 2:
				be_put(nums[i], col == 0 ? (uint64_t)e->at :
				    e->notify, 8);
				v[i] = (const char *)nums[i];
				len[i] = 8;
				break;
			case 1:
				v[i] = s->kev_buf + e->moff;
				len[i] = e->mlen;
				break;
			default:
				v[i] = s->kev_buf + e->doff;
				len[i] = e->dlen;
				break;
			}
		}
		p.v[p.n] = (const char *)o + off;
		p.len[p.n] = (int)arr_put(o + off, col == 0 || col == 2 ?
		    OID_INT8 : OID_BYTEA, n, v, len);
		p.fmt[p.n] = 1;
		off += (size_t)p.len[p.n];
		p.n++;
	}
	ok = pipe_send(t, Q_EVENTS_KEYED, &p, "event", PZ_NONE, false) &&
	    pipe_flush(t, &r);
	free(o);
	free(nums);
	free(len);
	free(v);
	if (!ok || r == NULL || PQntuples(r) != 1) {
		PQclear(r);
		if (t->rc == STORE_OK)
			store_fail(t, STORE_FAILED, "event: no event.head row");
		return false;
	}
	s->head = col_int(r, 0, 0);
	s->head_ok = true;
	s->kev_head = true;
	PQclear(r);
	s->nkev = 0;
	s->kev_len = 0;
	return true;
}

static void
pg_commit(struct stx *t, uint64_t *seq)
{
	struct pg_stx *x = pt(t);
	struct pg_store *s = ps(t);
	char sql[64], msg[400];
	struct timespec tc, te;
	PGresult *r;

	if (seq != NULL)
		*seq = s->seq;	/* what it saw; its own, if it writes */
	if (x->pc == NULL)
		return;
	if (!t->read_only && t->parent == NULL)
		tx_forget(s);	/* nothing reads through it any more */
	if (!t->read_only && t->parent == NULL && s->keyed &&
	    !kev_commit(t)) {
		pg_abort(t);
		return;
	}
	if (!t->read_only && (!cp_flush(t) || !pipe_flush(t, NULL))) {
		/* None of its work stays: as a failed commit. */
		pg_abort(t);
		return;
	}
	if (t->parent != NULL) {
		snprintf(sql, sizeof sql, "RELEASE SAVEPOINT s%u", x->depth);
		if (!cmd(t, x->pc->c, sql, "commit")) {
			/* None of its work stays. */
			tx_forget(s);
			memset(&s->pend, 0, sizeof s->pend);
			snprintf(sql, sizeof sql,
			    "ROLLBACK TO SAVEPOINT s%u; RELEASE SAVEPOINT s%u",
			    x->depth, x->depth);
			cmd_quiet(x->pc->c, sql);
			return;
		}
		if (x->dirty)
			pt(t->parent)->dirty = true;
		return;
	}
	if (t->read_only) {
		cmd(t, x->pc->c, "COMMIT", "commit");
		pool_give(s, x->pc);
		x->pc = NULL;
		return;
	}
	if (s->doomed) {
		cmd_quiet(x->pc->c, "ROLLBACK");
		w_end(s);
		store_fail(t, STORE_CONFLICT,
		    "commit: the transaction met a serialization failure (another transaction changed what it read): run it again");
		return;
	}
	/* One round trip (commit_unlock()): the pending meta values; the
	 * ids taken and not given, back to their sequence (the transaction
	 * takes every writer's turn: no one else took any since), so that
	 * ids have no gaps, as on LMDB (but for a keyed transaction's); with
	 * events added, one notification with the head, sent by the server
	 * at COMMIT (added in a savepoint since rolled back, it tells the
	 * head as it is: harmless); COMMIT; and LOCK_WRITE back once COMMIT
	 * has succeeded (after a statement that fails the pipeline runs
	 * none: then w_end() gives it back). */
	clock_gettime(CLOCK_MONOTONIC, &tc);
	r = commit_unlock(s, x->pc, !s->keyed && s->idn < s->nids ?
	    s->ids[s->idn] : 0, s->evented, s->keyed, &s->write_locked);
	s->evented = false;
	if (r == NULL) {
		/* No answer from COMMIT (the connection lost, or libpq
		 * failed): whether it ran is not known here. The answer is
		 * UNAVAILABLE, saying so (server.c, docs/protocol.md §6: a
		 * write with a request_id is retried safely, §2.7). A
		 * connection still up is in a state not known either: made
		 * anew now (the server rolls back what it did not commit,
		 * and the session's lock goes with it). */
		msg_copy(msg, sizeof msg, PQerrorMessage(s->w.c));
		if (PQstatus(s->w.c) == CONNECTION_OK)
			(void)w_reconnect(s);
		store_fail(t, STORE_UNAVAILABLE,
		    "commit: no answer from PostgreSQL: %s", msg);
		w_end(s);
		return;
	}
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		fail_pg(t, x->pc->c, r, "commit");
		PQclear(r);
		if (PQstatus(x->pc->c) == CONNECTION_OK &&
		    PQtransactionStatus(x->pc->c) != PQTRANS_IDLE)
			cmd_quiet(x->pc->c, "ROLLBACK");
		w_end(s);
		return;
	}
	w_end(s);
	/* A transaction that had failed ends in a ROLLBACK, reported as
	 * such by COMMIT. */
	if (strcmp(PQcmdStatus(r), "COMMIT") != 0) {
		store_fail(t, STORE_FAILED,
		    "commit: PostgreSQL rolled the transaction back (%s)",
		    PQcmdStatus(r));
		PQclear(r);
		return;
	}
	PQclear(r);
	clock_gettime(CLOCK_MONOTONIC, &te);
	log_debug("store: a write transaction committed: %u statements in %u round trips (%u to prepare statements), %.2f ms (its COMMIT %.2f ms)%s",
	    s->stmts + 2, s->trips + 1, s->preps,
	    (double)(te.tv_sec - s->t0.tv_sec) * 1e3 +
	    (double)(te.tv_nsec - s->t0.tv_nsec) / 1e6,
	    (double)(te.tv_sec - tc.tv_sec) * 1e3 +
	    (double)(te.tv_nsec - tc.tv_nsec) / 1e6,
	    s->keyed ? ", keyed" : "");
	if (x->dirty) {
		s->seq++;
		if (seq != NULL)
			*seq = s->seq;
	}
}

static void
pg_abort(struct stx *t)
{
	struct pg_stx *x = pt(t);
	char sql[80];

	if (x->pc == NULL)
		return;
	/* What the import gathered since the last statement is this
	 * transaction's alone (the begin of a child sent its parent's). */
	if (!t->read_only) {
		cp_drop(ps(t));
		pipe_drain(ps(t));
		memset(&ps(t)->pend, 0, sizeof ps(t)->pend);
		/* The database forgets what t wrote: so does the cache. */
		tx_forget(ps(t));
	}
	if (t->parent != NULL) {
		snprintf(sql, sizeof sql,
		    "ROLLBACK TO SAVEPOINT s%u; RELEASE SAVEPOINT s%u", x->depth,
		    x->depth);
		cmd_quiet(x->pc->c, sql);
		return;
	}
	if (PQstatus(x->pc->c) == CONNECTION_OK &&
	    PQtransactionStatus(x->pc->c) != PQTRANS_IDLE)
		cmd_quiet(x->pc->c, "ROLLBACK");
	if (!t->read_only && !ps(t)->keyed && ps(t)->write_locked &&
	    ps(t)->ids_first != 0 && PQstatus(x->pc->c) == CONNECTION_OK) {
		/* Its ids go back, as at a commit (pg_commit()). */
		snprintf(sql, sizeof sql, "SELECT setval('invitation_ids', %"
		    PRId64 ", false)", ps(t)->ids_first);
		cmd_quiet(x->pc->c, sql);
		ps(t)->ids_first = 0;
		ps(t)->nids = ps(t)->idn = 0;
	}
	if (t->read_only)
		pool_give(ps(t), x->pc);
	else
		w_end(ps(t));
	x->pc = NULL;
}

/* Commits are synchronous: each is durable when COMMIT returns. */
static uint64_t
pg_durable(struct store *base, int *rc)
{
	*rc = STORE_OK;
	return ((struct pg_store *)base)->seq;
}

static int
pg_wait(struct store *base, uint64_t seq)
{
	(void)base;
	(void)seq;
	return STORE_OK;
}

static unsigned
pg_inflight(struct store *base)
{
	(void)base;
	return 0;
}

static uint64_t
pg_writes(struct store *base)
{
	return ((struct pg_store *)base)->nwrites;
}

/* Meta values. */

/* Adds the ids of r (Q_IDS_NEXT's, cleared) to those not given yet. */
static void
ids_load(struct pg_store *s, PGresult *r)
{
	const unsigned cap = sizeof s->ids / sizeof s->ids[0];
	int i, n = PQntuples(r);

	memmove(s->ids, s->ids + s->idn, (s->nids - s->idn) * sizeof s->ids[0]);
	s->nids -= s->idn;
	s->idn = 0;
	for (i = 0; i < n && s->nids < cap; i++)
		s->ids[s->nids++] = col_int(r, i, 0);
	if (s->ids_first == 0 && s->nids > 0)
		s->ids_first = s->ids[0];
	PQclear(r);
}

static uint64_t
pg_next_id(struct stx *t)
{
	struct pg_store *s = ps(t);
	struct qp p = { 0 };
	PGresult *r;

	if (t->read_only) {
		store_fail(t, STORE_FAILED, "next id: a snapshot cannot write");
		return 0;
	}
	/* Taken from the sequence ahead, for the sends hinted (in the round
	 * trip of their reads, hint_run()); else some now, more each time
	 * (an import takes many). */
	if (s->idn == s->nids) {
		if (s->id_chunk == 0)
			s->id_chunk = 1;
		qp_i64(&p, s->id_chunk);
		if ((r = run(t, Q_IDS_NEXT, &p, "next id")) == NULL)
			return 0;
		ids_load(s, r);
		if (s->id_chunk < (unsigned)(sizeof s->ids / sizeof s->ids[0]))
			s->id_chunk *= 2;
		if (s->idn == s->nids) {
			store_fail(t, STORE_FAILED,
			    "next id: the sequence gave none");
			return 0;
		}
	}
	pt(t)->dirty = true;
	s->nwrites++;
	return (uint64_t)s->ids[s->idn++];
}

static int64_t
pg_get_vclock(struct stx *t)
{
	return meta_get(t, "vclock");
}

static void
pg_set_vclock(struct stx *t, int64_t now)
{
	meta_set(t, "vclock", now);
}

static void
pg_counts(struct stx *t, struct store_counts *c)
{
	struct pg_store *s = ps(t);
	PGresult *r;
	const char *name;
	uint64_t v;
	int i, j;

	if (!t->read_only && s->counts_ok && t->rc == STORE_OK) {
		/* As read with BEGIN, no write having changed them since
		 * but through s->pend (added below), once the deadlines
		 * sent are counted there (their results read, but in a
		 * keyed transaction, where the server asks only for the
		 * pending invitations, before its last round trip). */
		if ((s->wb_any || s->npipe > 0) && !s->keyed &&
		    !pipe_flush(t, NULL))
			return;
		for (j = 0; j < ST_COUNT; j++)
			c->state[j] = (uint64_t)s->counts[j];
		c->connections = (uint64_t)s->counts[ST_COUNT];
		c->deadlines = (uint64_t)s->counts[ST_COUNT + 1];
		goto pending;
	}
	if ((r = run(t, Q_COUNTS, NULL, "counts")) == NULL)
		return;
	for (i = 0; i < PQntuples(r); i++) {
		name = PQgetvalue(r, i, 0);
		v = (uint64_t)col_int(r, i, 1);
		if (strcmp(name, "count.connections") == 0)
			c->connections = v;
		else if (strcmp(name, "count.deadlines") == 0)
			c->deadlines = v;
		else
			for (j = 0; j < ST_COUNT; j++)
				if (strcmp(name, count_name(j)) == 0)
					c->state[j] = v;
	}
	PQclear(r);
pending:
	/* What the write transaction has not written yet. */
	if (!t->read_only) {
		c->deadlines += (uint64_t)ps(t)->pend.deadlines;
		for (j = 0; j < ST_COUNT; j++)
			c->state[j] += (uint64_t)ps(t)->pend.count[j];
	}
}

/* The write transaction's cache of rows (issue 11's bench: round trips).
 *
 * A send reads the pair both ways (several times over), the connection,
 * the flags both ways, both members and the pair's history, each a round
 * trip of its own. The first of those reads of a pair of members (a, b)
 * fetches them all in one statement (Q_BUNDLE) and keeps them here, found
 * or not; the others, and those of later requests of the batch, are
 * answered from here. A log key's entries after the earliest time asked
 * are kept too (pg_log_count(): a send's week, then its day). The writes
 * of those rows (pair_put, conn_put, conn_del, flag_set, member_put,
 * inv_put for the history, log_add) go to the database as before and
 * update what is kept, so that the cache answers what the database
 * would: the transaction's snapshot and its own writes.
 *
 * It lives for one write transaction: emptied at its begin and end, and
 * when a child (a savepoint) is rolled back, whose writes the database
 * forgets (so does the cache, all of it: a rollback is rare) and when
 * store_import() writes rows wholesale. Read transactions do not use it.
 * PostgreSQL's serializable checks see the reads it answers: each row was
 * read once in the transaction (or written by it). */
enum { CK_PAIR, CK_CONN, CK_FLAG, CK_MEMBER, CK_HISTORY, CK_LOG };
_Static_assert(CK_LOG == 5, "Q_BUNDLE_SEND's kinds");
/* How many connections two members share, no further than
 * MUTUAL_KEEP (Q_BUNDLE_SEND's row 7, (sender, recipient) the key;
 * v.since the count, since the value of s->conn_writes it was read at:
 * any connection written since makes it stale). */
#define CK_MUTUAL (CK_LOG + 2)
_Static_assert(CK_MUTUAL == 7, "Q_BUNDLE_SEND's kinds");
#define FLAG_KINDS FLAG_COUNT	/* every flag comes with the bundle */
#define CACHE_BUCKETS 512
#define CACHE_MAX 8192		/* entries; past it the cache starts over */

struct centry {
	struct centry *next;
	uint8_t kind, sub;	/* sub: the flag */
	uint8_t alen, blen;
	char a[MEMBER_MAX_BYTES], b[MEMBER_MAX_BYTES];
	bool found;		/* the row is there */
	/* CK_HISTORY: the ids of the pair's invitations (a, b: the lesser
	 * first), ascending, all of them; CK_LOG (sub: the log; a: the
	 * key): (at, id) of its entries after `since`, ascending, all of
	 * them. n of them, room for cap. */
	int64_t *arr;
	unsigned n, cap;
	int64_t since;
	union {
		struct pair pair;
		int64_t since;	/* 0: not connected */
		struct member_rec member;
	} v;
};

static unsigned
cache_hash(int kind, int sub, const char *a, size_t alen, const char *b,
    size_t blen)
{
	uint32_t h = 2166136261u ^ (uint32_t)(kind * 31 + sub);
	size_t i;

	for (i = 0; i < alen; i++)
		h = (h ^ (unsigned char)a[i]) * 16777619u;
	h = (h ^ 0xff) * 16777619u;
	for (i = 0; i < blen; i++)
		h = (h ^ (unsigned char)b[i]) * 16777619u;
	return h % CACHE_BUCKETS;
}

static void
cache_clear(struct pg_store *s)
{
	struct centry *e, *next;
	unsigned i;

	if (s->cache == NULL)
		return;
	for (i = 0; i < CACHE_BUCKETS && s->ncache > 0; i++) {
		for (e = s->cache[i]; e != NULL; e = next) {
			next = e->next;
			free(e->arr);
			free(e);
			s->ncache--;
		}
		s->cache[i] = NULL;
	}
	s->ncache = 0;
}

/* The write transaction's cache and the next_id and event.head it read
 * (not what it has still to write: s->pend). */
static void
tx_forget(struct pg_store *s)
{
	cache_clear(s);
	s->head_ok = false;
	s->due_first_ok = false;
	s->ids_wanted = 0;
	s->nhints = 0;
	PQclear(s->clock_r);
	s->clock_r = NULL;
	s->counts_ok = s->oldest_ok = false;
}

static struct centry *
cache_find(struct pg_store *s, int kind, int sub, const char *a,
    size_t alen, const char *b, size_t blen)
{
	struct centry *e;

	if (s->cache == NULL || alen > MEMBER_MAX_BYTES ||
	    blen > MEMBER_MAX_BYTES)
		return NULL;
	for (e = s->cache[cache_hash(kind, sub, a, alen, b, blen)]; e != NULL;
	    e = e->next)
		if (e->kind == kind && e->sub == sub && e->alen == alen &&
		    e->blen == blen && memcmp(e->a, a, alen) == 0 &&
		    memcmp(e->b, b, blen) == 0)
			return e;
	return NULL;
}

/* Forgets e (the next read of its key asks the database). */
static void
cache_drop(struct pg_store *s, struct centry *e)
{
	struct centry **pp;

	if (e == NULL)
		return;
	for (pp = &s->cache[cache_hash(e->kind, e->sub, e->a, e->alen, e->b,
	    e->blen)]; *pp != NULL; pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			free(e->arr);
			free(e);
			s->ncache--;
			return;
		}
}

/* The entry of the key, made (not found, zero) when there is none; NULL
 * for a key the cache does not keep (t's a snapshot, or too long). */
static struct centry *
cache_entry(struct stx *t, int kind, int sub, const char *a, size_t alen,
    const char *b, size_t blen)
{
	struct pg_store *s = ps(t);
	struct centry *e;
	unsigned h;

	if (t->read_only || alen > MEMBER_MAX_BYTES ||
	    blen > MEMBER_MAX_BYTES)
		return NULL;
	if ((e = cache_find(s, kind, sub, a, alen, b, blen)) != NULL)
		return e;
	if (s->cache == NULL)
		s->cache = xcalloc(CACHE_BUCKETS, sizeof *s->cache);
	if (s->ncache >= CACHE_MAX)
		cache_clear(s);
	e = xcalloc(1, sizeof *e);
	e->kind = (uint8_t)kind;
	e->sub = (uint8_t)sub;
	e->alen = (uint8_t)alen;
	e->blen = (uint8_t)blen;
	memcpy(e->a, a, alen);
	memcpy(e->b, b, blen);
	h = cache_hash(kind, sub, a, alen, b, blen);
	e->next = s->cache[h];
	s->cache[h] = e;
	s->ncache++;
	return e;
}

/* The connection's key: the lesser id first (bytea's order). */
static bool
bytes_lt(const char *a, size_t alen, const char *b, size_t blen);

static struct centry *
cache_unordered(struct stx *t, int kind, const char *a, size_t alen,
    const char *b, size_t blen, bool make)
{
	if (bytes_lt(b, blen, a, alen)) {
		const char *x = a;
		size_t xl = alen;

		a = b;
		alen = blen;
		b = x;
		blen = xl;
	}
	return make ? cache_entry(t, kind, 0, a, alen, b, blen) :
	    t->read_only ? NULL :
	    cache_find(ps(t), kind, 0, a, alen, b, blen);
}

/* Adds v (n values, compared in order) at its place in e's ascending
 * array, unless it is there. */
static void
arr_add(struct centry *e, const int64_t *v, unsigned n)
{
	const int64_t *w;
	unsigned i = e->n, k;

	/* From the end: most come last. */
	while (i > 0) {
		w = &e->arr[(i - 1) * n];
		for (k = 0; k < n && w[k] == v[k]; k++)
			;
		if (k == n)
			return;	/* there already */
		if (w[k] < v[k])
			break;
		i--;
	}
	if (e->n == e->cap) {
		e->cap = e->cap > 0 ? e->cap * 2 : 8;
		e->arr = xrealloc(e->arr, (size_t)e->cap * n * sizeof *e->arr);
	}
	memmove(&e->arr[(i + 1) * n], &e->arr[i * n],
	    (size_t)(e->n - i) * n * sizeof *e->arr);
	memcpy(&e->arr[i * n], v, n * sizeof *v);
	e->n++;
}

static struct centry *
cache_conn(struct stx *t, const char *a, size_t alen, const char *b,
    size_t blen, bool make)
{
	return cache_unordered(t, CK_CONN, a, alen, b, blen, make);
}

/* A member's record from its columns: the email (e, n bytes) and the
 * settings (st, sn bytes, store_member_settings_unpack()). False, out
 * left zero (read as none), when they are not sound. */
static bool
member_fill(struct member_rec *out, int64_t from, const char *e, size_t n,
    int64_t until, int64_t at, int64_t open_sent, const char *st, size_t sn)
{
	memset(out, 0, sizeof *out);
	if (n > EMAIL_MAX_BYTES || !store_member_settings_unpack(
	    (const unsigned char *)st, sn, out)) {
		memset(out, 0, sizeof *out);
		return false;
	}
	out->invitations_from = (uint8_t)from;
	memcpy(out->email, e, n);
	out->email[n] = '\0';
	out->email_len = n;
	out->restricted_until = until;
	out->restricted_at = at;
	out->open_sent = (uint64_t)open_sent;
	return true;
}

/* A member's row of a result (the columns of Q_MEMBER_GET from c on). */
static bool
member_row(const PGresult *r, int row, int c, struct member_rec *out)
{
	const char *e, *st;
	size_t n, sn;

	e = col_bytes(r, row, c + 1, &n);
	st = col_bytes(r, row, c + 5, &sn);
	return member_fill(out, col_int(r, row, c), e, n, col_int(r, row, c + 2),
	    col_int(r, row, c + 3), col_int(r, row, c + 4), st, sn);
}

/* A log key's entries after since, of rows `kind` of r (column 3 at,
 * 4 id), kept as pg_log_count() keeps them: all of them, when fewer than
 * LOG_CACHE_MAX came; a key kept from an earlier time is kept as it is
 * (with the transaction's own writes since). */
static void
cache_log_rows(struct stx *t, const PGresult *r, int kind, enum store_log log,
    const char *key, size_t klen, int64_t since)
{
	struct centry *e;
	int i, n = 0;

	e = cache_find(ps(t), CK_LOG, (int)log, key, klen, "", 0);
	if (e != NULL && e->found && e->since <= since)
		return;
	for (i = 0; i < PQntuples(r); i++)
		n += col_int(r, i, 0) == kind;
	if (n >= LOG_CACHE_MAX ||
	    (e = cache_entry(t, CK_LOG, (int)log, key, klen, "", 0)) == NULL)
		return;
	e->found = true;
	e->since = since;
	e->n = 0;
	for (i = 0; i < PQntuples(r); i++)
		if (col_int(r, i, 0) == kind) {
			int64_t v[2] = { col_int(r, i, 3), col_int(r, i, 4) };

			arr_add(e, v, 2);
		}
}

/* A bundle's parameters (cache_bundle_logs()). */
static void
bundle_qp(struct qp *p, const char *a, size_t alen, const char *b,
    size_t blen, bool logs, int64_t since, const char *nkey, size_t nklen)
{
	qp_bytes(p, a, alen);
	qp_bytes(p, b, blen);
	if (logs) {
		qp_i64(p, since);
		qp_bytes(p, nkey != NULL ? nkey : "", nkey != NULL ? nklen : 0);
		if (nkey == NULL)
			p->v[p->n - 1] = NULL;	/* NULL: no notes key */
		qp_i16(p, LOG_SENDS);
		qp_i16(p, LOG_NOTES);
	}
}

static void bundle_load(struct stx *t, PGresult *r, const char *a,
    size_t alen, const char *b, size_t blen, bool logs, int64_t since,
    const char *nkey, size_t nklen);

/* Reads into the cache, in one statement, all it keeps of a and b: the
 * pair both ways, their connection, the flags both ways, both members;
 * with logs (a send's hint, a the sender), a's LOG_SENDS entries after
 * since and, with nkey, LOG_NOTES's of nkey. False on a failure
 * (recorded in t) or when t does not cache. */
static bool
cache_bundle_logs(struct stx *t, const char *a, size_t alen, const char *b,
    size_t blen, bool logs, int64_t since, const char *nkey, size_t nklen)
{
	struct pg_store *s = ps(t);
	struct qp p = { 0 };
	PGresult *r;

	if (t->read_only || alen > MEMBER_MAX_BYTES ||
	    blen > MEMBER_MAX_BYTES)
		return false;
	if (nklen > MEMBER_MAX_BYTES)
		nkey = NULL;	/* not kept: pg_log_count() reads it */
	bundle_qp(&p, a, alen, b, blen, logs, since, nkey, nklen);
	s->wb_hold = !wbuf_touches(s, a, alen, b, blen, nkey, nklen);
	r = run(t, logs ? Q_BUNDLE_SEND : Q_BUNDLE, &p, "pair");
	s->wb_hold = false;
	if (r == NULL)
		return false;
	bundle_load(t, r, a, alen, b, blen, logs, since, nkey, nklen);
	return true;
}

/* Keeps what bundle r says of a and b (and cleares r). */
static void
bundle_load(struct stx *t, PGresult *r, const char *a, size_t alen,
    const char *b, size_t blen, bool logs, int64_t since, const char *nkey,
    size_t nklen)
{
	struct centry *e, *hist;
	const char *x, *y, *st;
	size_t xl, yl, sn;
	int i, f;

	if (logs) {
		cache_log_rows(t, r, CK_LOG, LOG_SENDS, a, alen, since);
		if (nkey != NULL)
			cache_log_rows(t, r, CK_LOG + 1, LOG_NOTES, nkey, nklen,
			    since);
	}
	/* What is not found is kept as such. */
	cache_entry(t, CK_PAIR, 0, a, alen, b, blen);
	cache_entry(t, CK_PAIR, 0, b, blen, a, alen);
	cache_conn(t, a, alen, b, blen, true);
	for (f = 0; f < FLAG_KINDS; f++) {
		cache_entry(t, CK_FLAG, f, a, alen, b, blen);
		cache_entry(t, CK_FLAG, f, b, blen, a, alen);
	}
	cache_entry(t, CK_MEMBER, 0, a, alen, "", 0);
	cache_entry(t, CK_MEMBER, 0, b, blen, "", 0);
	/* The pair's history, when all of it came (fewer than PAGE). */
	for (i = 0, f = 0; i < PQntuples(r); i++)
		f += col_int(r, i, 0) == CK_HISTORY;
	hist = f < PAGE ? cache_unordered(t, CK_HISTORY, a, alen, b, blen,
	    true) : NULL;
	if (hist != NULL && !hist->found) {
		hist->found = true;
		hist->n = 0;
	} else
		hist = NULL;	/* as it was (its own writes since) */
	for (i = 0; i < PQntuples(r); i++) {
		x = col_bytes(r, i, 1, &xl);
		y = col_bytes(r, i, 2, &yl);
		switch (col_int(r, i, 0)) {
		case CK_PAIR:
			if ((e = cache_entry(t, CK_PAIR, 0, x, xl, y, yl)) ==
			    NULL)
				break;
			e->found = true;
			e->v.pair.open_id = (uint64_t)col_int(r, i, 3);
			e->v.pair.cooldown_until = col_int(r, i, 4);
			e->v.pair.withdrawals = (uint32_t)col_int(r, i, 5);
			e->v.pair.attempts = (uint32_t)col_int(r, i, 6);
			break;
		case CK_CONN:
			if ((e = cache_conn(t, x, xl, y, yl, true)) == NULL)
				break;
			e->found = true;
			e->v.since = col_int(r, i, 3);
			break;
		case CK_FLAG:
			f = (int)col_int(r, i, 3);
			if (f < 0 || f >= FLAG_KINDS ||
			    (e = cache_entry(t, CK_FLAG, f, x, xl, y, yl)) ==
			    NULL)
				break;
			e->found = true;
			break;
		case CK_MUTUAL:
			if (!logs || (e = cache_entry(t, CK_MUTUAL, 0, a, alen,
			    b, blen)) == NULL)
				break;
			e->found = true;
			e->v.since = col_int(r, i, 3);
			e->since = (int64_t)ps(t)->conn_writes;
			break;
		case CK_HISTORY:
			if (hist != NULL) {
				int64_t id = col_int(r, i, 3);

				arr_add(hist, &id, 1);
			}
			break;
		case CK_MEMBER:
			if ((e = cache_entry(t, CK_MEMBER, 0, x, xl, "", 0)) ==
			    NULL)
				break;
			e->found = true;
			y = col_bytes(r, i, 7, &yl);
			st = col_bytes(r, i, 8, &sn);
			/* (as pg_member_get: unsound reads as none) */
			member_fill(&e->v.member, col_int(r, i, 3), y, yl,
			    col_int(r, i, 4), col_int(r, i, 5), col_int(r, i, 6),
			    st, sn);
			break;
		}
	}
	PQclear(r);
}

static bool
cache_bundle(struct stx *t, const char *a, size_t alen, const char *b,
    size_t blen)
{
	return cache_bundle_logs(t, a, alen, b, blen, false, 0, NULL, 0);
}

/* store_ops.mutual_count: the count a send's bundle read of a and b
 * (either way round), while no connection was written since. */
static bool
pg_mutual_count(struct stx *t, const char *a, size_t alen, const char *b,
    size_t blen, uint64_t max, uint64_t *n)
{
	struct pg_store *s = ps(t);
	struct centry *e;
	uint64_t v;

	if (t->read_only || t->rc != STORE_OK)
		return false;
	if ((e = cache_find(s, CK_MUTUAL, 0, a, alen, b, blen)) == NULL &&
	    (e = cache_find(s, CK_MUTUAL, 0, b, blen, a, alen)) == NULL &&
	    s->nhints > 0) {
		hint_run(t, Q_COUNT, NULL, NULL, NULL);
		if ((e = cache_find(s, CK_MUTUAL, 0, a, alen, b, blen)) ==
		    NULL)
			e = cache_find(s, CK_MUTUAL, 0, b, blen, a, alen);
	}
	if (e == NULL || !e->found || e->since != (int64_t)s->conn_writes)
		return false;
	v = (uint64_t)e->v.since;
	/* Counted no further than MUTUAL_KEEP: exact below it. */
	if (v >= MUTUAL_KEEP && max > MUTUAL_KEEP)
		return false;
	*n = v < max ? v : max;
	return true;
}

/* store_ops.hint_send: a send's reads, kept to be read with the other
 * sends' (hint_run()), unless the pair is kept already (its logs are
 * then read as pg_log_count() reads them). */
static void
pg_hint_send(struct stx *t, const char *from, size_t flen, const char *to,
    size_t tlen, int64_t since, const char *nkey, size_t nklen)
{
	struct pg_store *s = ps(t);
	struct hint *h;
	unsigned i;

	if (t->read_only || t->rc != STORE_OK || flen > MEMBER_MAX_BYTES ||
	    tlen > MEMBER_MAX_BYTES ||
	    cache_find(s, CK_PAIR, 0, from, flen, to, tlen) != NULL)
		return;
	for (i = 0; i < s->nhints; i++)
		if (s->hints[i].alen == flen && s->hints[i].blen == tlen &&
		    memcmp(s->hints[i].a, from, flen) == 0 &&
		    memcmp(s->hints[i].b, to, tlen) == 0)
			return;
	if (s->nhints == HINT_MAX)
		return;
	h = &s->hints[s->nhints++];
	memcpy(h->a, from, flen);
	h->alen = (uint8_t)flen;
	memcpy(h->b, to, tlen);
	h->blen = (uint8_t)tlen;
	h->nkey = nkey != NULL && nklen <= MEMBER_MAX_BYTES;
	if (h->nkey)
		memcpy(h->nk, nkey, nklen);
	h->nklen = h->nkey ? (uint8_t)nklen : 0;
	h->since = since;
	s->ids_wanted++;
}

/* A one-dimensional array in PostgreSQL's binary form, of n elements of
 * type oid, element i v[i] of len[i] bytes (v[i] NULL: a NULL), at out
 * (ARR_BYTES(n, the elements' bytes) at most): its length. */
static size_t
arr_put(unsigned char *out, unsigned oid, unsigned n, const char *const *v,
    const size_t *len)
{
	unsigned char *o = out;
	unsigned i;
	bool nulls = false;

	for (i = 0; i < n; i++)
		nulls = nulls || v[i] == NULL;
	be_put(o, 1, 4);		/* dimensions */
	be_put(o + 4, nulls, 4);	/* has NULLs */
	be_put(o + 8, oid, 4);
	be_put(o + 12, n, 4);		/* the dimension's length */
	be_put(o + 16, 1, 4);		/* its lower bound */
	o += 20;
	for (i = 0; i < n; i++) {
		if (v[i] == NULL) {
			be_put(o, 0xffffffffu, 4);	/* -1: NULL */
			o += 4;
			continue;
		}
		be_put(o, len[i], 4);
		memcpy(o + 4, v[i], len[i]);
		o += 4 + len[i];
	}
	return (size_t)(o - out);
}


/* Q_BUNDLE_MANY's parameters for the hints hs[0..n-1]: their arrays in
 * *buf (freed by the caller), p pointing into it. */
static void
bundles_qp(struct qp *p, char **buf, const struct hint *hs, unsigned n)
{
	const char *v[HINT_MAX];
	size_t len[HINT_MAX], cap, off = 0, data = 0;
	unsigned char nums[HINT_MAX][8];
	unsigned char *o;
	unsigned i, col;

	for (i = 0; i < n; i++)
		data += (size_t)hs[i].alen + hs[i].blen + hs[i].nklen + 8;
	cap = 4 * ARR_BYTES(n, 0) + data;
	*buf = xmalloc(cap);
	o = (unsigned char *)*buf;
	for (col = 0; col < 4; col++) {
		for (i = 0; i < n; i++) {
			switch (col) {
			case 0:
				v[i] = hs[i].a;
				len[i] = hs[i].alen;
				break;
			case 1:
				v[i] = hs[i].b;
				len[i] = hs[i].blen;
				break;
			case 2:
				be_put(nums[i], (uint64_t)hs[i].since, 8);
				v[i] = (const char *)nums[i];
				len[i] = 8;
				break;
			default:
				v[i] = hs[i].nkey ? hs[i].nk : NULL;
				len[i] = hs[i].nklen;
				break;
			}
		}
		p->v[p->n] = (const char *)o + off;
		p->len[p->n] = (int)arr_put(o + off, col == 2 ? OID_INT8 :
		    OID_BYTEA, n, v, len);
		p->fmt[p->n] = 1;
		off += (size_t)p->len[p->n];
		p->n++;
	}
	qp_i16(p, LOG_SENDS);
	qp_i16(p, LOG_NOTES);
}

/* Splits Q_BUNDLE_MANY's result r (cleared) into res[0..n-1], each the
 * rows of a hint as Q_BUNDLE_SEND gives them (and its ordinal after). */
static void
bundles_split(PGresult *r, PGresult **res, unsigned n)
{
	int rows = PQntuples(r), cols = PQnfields(r), i, c, at[HINT_MAX];
	unsigned k;

	for (k = 0; k < n; k++) {
		if ((res[k] = PQcopyResult(r, PG_COPYRES_ATTRS)) == NULL)
			fatal("store-pg: out of memory");
		at[k] = 0;
	}
	for (i = 0; i < rows; i++) {
		int64_t ord = col_int(r, i, cols - 1);

		if (ord < 1 || ord > (int64_t)n)
			continue;
		k = (unsigned)(ord - 1);
		for (c = 0; c < cols; c++)
			if (!PQsetvalue(res[k], at[k], c, PQgetisnull(r, i, c) ?
			    NULL : PQgetvalue(r, i, c), PQgetisnull(r, i, c) ?
			    -1 : PQgetlength(r, i, c)))
				fatal("store-pg: out of memory");
		at[k]++;
	}
	PQclear(r);
}

/* Reads the bundles of the hints kept (those not kept by now), all in
 * one round trip (each a statement in the pipeline), into the cache: a
 * batch's sends read in one round trip, not one each. Read while the
 * gathered writes are none of theirs (wbuf_touches()), as a bundle is.
 * The cache stays true as the requests write (their writes update it).
 * With keep, the read q (prepared) with rp comes last in the same round
 * trip, after every gathered write: its result in *keep (NULL when it
 * failed), and true; false when there was no bundle to read (nothing
 * was sent: the caller runs q itself). */
static bool
hint_run(struct stx *t, enum pg_query q, const struct qp *rp,
    const char *what, PGresult **keep)
{
	struct pg_store *s = ps(t);
	PGresult *res[HINT_MAX + 1];	/* the bundles, then the ids */
	struct hint hs[HINT_MAX];
	struct qp p;
	unsigned i, n = 0, k, ids;
	bool hold = keep == NULL, ok, many;
	char *arrs = NULL;

	for (i = 0; i < s->nhints; i++) {
		struct hint *h = &s->hints[i];

		if (cache_find(s, CK_PAIR, 0, h->a, h->alen, h->b,
		    h->blen) != NULL)
			continue;
		hs[n++] = *h;
		if (wbuf_touches(s, h->a, h->alen, h->b, h->blen,
		    h->nkey ? h->nk : NULL, h->nklen))
			hold = false;
	}
	s->nhints = 0;
	if (keep != NULL)
		*keep = NULL;
	if (n == 0)
		return false;
	if (t->rc != STORE_OK || !cp_flush(t))
		return true;
	if (!hold && !wbuf_send_all(t))
		return true;
	s->wb_hold = true;	/* (what is left gathered is none of theirs) */
	many = n > 1;
	/* The sends' ids, in the same round trip. */
	ids = s->ids_wanted;
	if (ids > sizeof s->ids / sizeof s->ids[0] - (s->nids - s->idn))
		ids = (unsigned)(sizeof s->ids / sizeof s->ids[0]) -
		    (s->nids - s->idn);
	s->ids_wanted = 0;
	ok = prepare(t, &s->w, many ? Q_BUNDLE_MANY : Q_BUNDLE_SEND, "pair") &&
	    (ids == 0 || prepare(t, &s->w, Q_IDS_NEXT, "next id")) &&
	    (s->npipe + n + 2 <= PIPE_MAX || pipe_flush(t, NULL));
	if (ok && ids > 0) {
		memset(&p, 0, sizeof p);
		qp_i64(&p, ids);
		ok = pipe_send(t, Q_IDS_NEXT, &p, "next id", PZ_NONE, false);
		if (ok)
			s->pipe[s->npipe - 1].slot = HINT_MAX;
	}
	if (ok && many) {
		/* One statement for all: planned once, not n times. */
		memset(&p, 0, sizeof p);
		bundles_qp(&p, &arrs, hs, n);
		ok = pipe_send(t, Q_BUNDLE_MANY, &p, "pair", PZ_NONE, false);
		free(arrs);
		if (ok)
			s->pipe[s->npipe - 1].slot = 0;
	}
	for (k = 0; ok && !many && k < n; k++) {
		memset(&p, 0, sizeof p);
		bundle_qp(&p, hs[k].a, hs[k].alen, hs[k].b, hs[k].blen, true,
		    hs[k].since, hs[k].nkey ? hs[k].nk : NULL, hs[k].nklen);
		ok = pipe_send(t, Q_BUNDLE_SEND, &p, "pair", PZ_NONE, false);
		if (ok)
			s->pipe[s->npipe - 1].slot = (int)k;
	}
	if (ok && keep != NULL)
		ok = pipe_send(t, q, rp, what, PZ_NONE, false);
	memset(res, 0, sizeof res);
	s->slots = res;
	ok = pipe_flush(t, keep) && ok;
	s->slots = NULL;
	s->wb_hold = false;
	if (res[HINT_MAX] != NULL)
		ids_load(s, res[HINT_MAX]);
	if (many && res[0] != NULL)
		bundles_split(res[0], res, n);
	for (k = 0; k < n; k++) {
		if (res[k] == NULL)
			continue;
		if (ok)
			bundle_load(t, res[k], hs[k].a, hs[k].alen, hs[k].b,
			    hs[k].blen, true, hs[k].since,
			    hs[k].nkey ? hs[k].nk : NULL, hs[k].nklen);
		else
			PQclear(res[k]);
	}
	if (!ok && keep != NULL) {
		PQclear(*keep);
		*keep = NULL;
	}
	return true;
}

/* The cached entry of a key of two members, read (with the rest of the
 * bundle) when it is not there yet; NULL: not cached (read it alone). */
static struct centry *
cache_get(struct stx *t, int kind, int sub, const char *a, size_t alen,
    const char *b, size_t blen)
{
	struct centry *e;

	if (t->read_only)
		return NULL;
	e = kind == CK_CONN ? cache_conn(t, a, alen, b, blen, false) :
	    cache_find(ps(t), kind, sub, a, alen, b, blen);
	if (e == NULL && ps(t)->nhints > 0) {
		hint_run(t, Q_COUNT, NULL, NULL, NULL);
		e = kind == CK_CONN ? cache_conn(t, a, alen, b, blen, false) :
		    cache_find(ps(t), kind, sub, a, alen, b, blen);
	}
	if (e != NULL || t->rc != STORE_OK ||
	    !cache_bundle(t, a, alen, b, blen))
		return e;
	return kind == CK_CONN ? cache_conn(t, a, alen, b, blen, false) :
	    cache_find(ps(t), kind, sub, a, alen, b, blen);
}

/* Column col of row as a string of at most max bytes, into dst (NUL
 * after it) and *len: false, dst untouched, when it is longer. */
static bool
col_text(const PGresult *r, int row, int col, char *dst, size_t max,
    size_t *len)
{
	size_t n;
	const char *b = col_bytes(r, row, col, &n);

	if (n > max)
		return false;
	memcpy(dst, b, n);
	dst[n] = '\0';
	*len = n;
	return true;
}

/* A record by its id, its columns decoded by fn (false: not sound):
 * STORE_OK, STORE_NOTFOUND, or a failure recorded in t (`what` names the
 * record in its message). */
static int
row_by_id(struct stx *t, enum pg_query q, uint64_t id, const char *what,
    bool (*fn)(const PGresult *r, void *out), void *out)
{
	struct qp p = { 0 };
	PGresult *r;
	bool good;

	qp_i64(&p, id64(id));
	if ((r = run(t, q, &p, what)) == NULL)
		return t->rc;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return STORE_NOTFOUND;
	}
	good = fn(r, out);
	PQclear(r);
	if (!good) {
		store_fail(t, STORE_FAILED, "%s %" PRIu64 ": corrupt record",
		    what, id);
		return STORE_FAILED;
	}
	return STORE_OK;
}

/* Invitations. */

/* The invitation in row `row` of r, its state in column c (the columns of
 * Q_INV_GET from there on); out->id is left as it is. False when the row
 * is not a sound invitation. */
static bool
inv_row(const PGresult *r, int row, int c, struct inv *out)
{
	memset(&out->state, 0, offsetof(struct inv, from) -
	    offsetof(struct inv, state));
	out->state = (uint8_t)col_int(r, row, c);
	out->priority = (uint8_t)col_int(r, row, c + 1);
	out->attempt = (uint32_t)col_int(r, row, c + 2);
	out->created_at = col_int(r, row, c + 3);
	out->updated_at = col_int(r, row, c + 4);
	out->expires_at = col_int(r, row, c + 5);
	out->stale_at = col_int(r, row, c + 6);
	out->reminded_at = col_int(r, row, c + 7);
	out->ignored = col_int(r, row, c + 8) != 0;
	out->reported = col_int(r, row, c + 9) != 0;
	out->resend_of = (uint64_t)col_int(r, row, c + 10);
	out->held = col_int(r, row, c + 14) != 0;
	out->automatic = col_int(r, row, c + 15) != 0;
	out->remind_at = col_int(r, row, c + 16);
	return col_int(r, row, c) < ST_COUNT &&
	    col_int(r, row, c + 1) < PRIO_COUNT &&
	    col_text(r, row, c + 11, out->from, MEMBER_MAX_BYTES,
	    &out->from_len) &&
	    col_text(r, row, c + 12, out->to, MEMBER_MAX_BYTES, &out->to_len) &&
	    col_text(r, row, c + 13, out->note, NOTE_MAX_BYTES,
	    &out->note_len) &&
	    col_text(r, row, c + 17, out->via, MEMBER_MAX_BYTES,
	    &out->via_len);
}

static bool
inv_one(const PGresult *r, void *out)
{
	return inv_row(r, 0, 0, out);
}

static int
pg_inv_get(struct stx *t, uint64_t id, struct inv *out)
{
	out->id = id;
	return row_by_id(t, Q_INV_GET, id, "invitation", inv_one, out);
}

static void
pg_inv_put(struct stx *t, const struct inv *inv, int old_state)
{
	struct centry *e;
	struct qp p = { 0 };

	qp_i64(&p, id64(inv->id));
	qp_i16(&p, inv->state);
	qp_i16(&p, inv->priority);
	qp_i64(&p, inv->attempt);
	qp_i64(&p, inv->created_at);
	qp_i64(&p, inv->updated_at);
	qp_i64(&p, inv->expires_at);
	qp_i64(&p, inv->stale_at);
	qp_i64(&p, inv->reminded_at);
	qp_bool(&p, inv->ignored);
	qp_bool(&p, inv->reported);
	qp_i64(&p, id64(inv->resend_of));
	qp_bytes(&p, inv->from, inv->from_len);
	qp_bytes(&p, inv->to, inv->to_len);
	qp_bytes(&p, inv->note, inv->note_len);
	qp_bool(&p, inv->held);
	qp_bool(&p, inv->automatic);
	qp_i64(&p, inv->remind_at);
	qp_bytes(&p, inv->via, inv->via_len);
	if (run_w(t, Q_INV_PUT, &p, "invitation") == -1)
		return;
	if ((e = cache_unordered(t, CK_HISTORY, inv->from, inv->from_len,
	    inv->to, inv->to_len, false)) != NULL && e->found) {
		int64_t id = id64(inv->id);

		arr_add(e, &id, 1);
	}
	/* The counters: written at the next SAVEPOINT or COMMIT. */
	if (old_state == ST_COUNT)
		ps(t)->pend.count[inv->state]++;
	else if (old_state != inv->state) {
		ps(t)->pend.count[inv->state]++;
		ps(t)->pend.count[old_state]--;
	}
}

/* The ids a query gives, a page at a time: q takes the fixed parameters
 * in p (nfixed of them), then the cursor (an id: the last one given),
 * then the page's size. */
static void
scan_ids(struct stx *t, enum pg_query q, struct qp *p, int64_t from,
    store_id_fn fn, void *ctx, const char *what)
{
	int nfixed = p->n, i, n;
	int64_t cursor = from;
	PGresult *r;

	for (;;) {
		p->n = nfixed;
		qp_i64(p, cursor);
		qp_i64(p, PAGE);
		if ((r = run(t, q, p, what)) == NULL)
			return;
		n = PQntuples(r);
		for (i = 0; i < n; i++) {
			cursor = col_int(r, i, 0);
			if (!fn(ctx, (uint64_t)cursor)) {
				PQclear(r);
				return;
			}
			if (t->rc != STORE_OK)
				break;
		}
		PQclear(r);
		if (n < PAGE || t->rc != STORE_OK)
			return;
	}
}

static void
pg_scan_box(struct stx *t, enum store_box box, const char *member,
    size_t len, uint64_t before, store_id_fn fn, void *ctx)
{
	struct qp p = { 0 };

	qp_bytes(&p, member, len);
	scan_ids(t, box == BOX_SENT ? Q_BOX_SENT : Q_BOX_RECEIVED, &p,
	    before == 0 ? INT64_MAX : id64(before), fn, ctx, "scan");
}

static void
pg_scan_history(struct stx *t, const char *a, size_t alen, const char *b,
    size_t blen, store_id_fn fn, void *ctx)
{
	struct centry *e = cache_unordered(t, CK_HISTORY, a, alen, b, blen,
	    false);
	struct qp p = { 0 };

	if (e != NULL && e->found) {
		/* A copy: fn may read, and the cache change meanwhile. */
		int64_t *ids = xcalloc(e->n + 1, sizeof *ids);
		unsigned i, n = e->n;

		if (n > 0)
			memcpy(ids, e->arr, n * sizeof *ids);
		for (i = 0; i < n && t->rc == STORE_OK; i++)
			if (!fn(ctx, (uint64_t)ids[i]))
				break;
		free(ids);
		return;
	}
	qp_bytes(&p, a, alen);
	qp_bytes(&p, b, blen);
	scan_ids(t, Q_HISTORY, &p, 0, fn, ctx, "history");
}

/* Pairs and connections. */

static void
pg_pair_get(struct stx *t, const char *from, size_t flen, const char *to,
    size_t tlen, struct pair *out)
{
	struct centry *e = cache_get(t, CK_PAIR, 0, from, flen, to, tlen);
	struct qp p = { 0 };
	PGresult *r;

	if (e != NULL) {
		if (e->found)
			*out = e->v.pair;
		return;
	}
	qp_bytes(&p, from, flen);
	qp_bytes(&p, to, tlen);
	if ((r = run(t, Q_PAIR_GET, &p, "pair")) == NULL)
		return;
	if (PQntuples(r) == 1) {
		out->open_id = (uint64_t)col_int(r, 0, 0);
		out->cooldown_until = col_int(r, 0, 1);
		out->withdrawals = (uint32_t)col_int(r, 0, 2);
		out->attempts = (uint32_t)col_int(r, 0, 3);
	}
	PQclear(r);
}

static void
pg_pair_put(struct stx *t, const char *from, size_t flen, const char *to,
    size_t tlen, const struct pair *pr)
{
	struct centry *e;
	struct qp p = { 0 };

	qp_bytes(&p, from, flen);
	qp_bytes(&p, to, tlen);
	qp_i64(&p, id64(pr->open_id));
	qp_i64(&p, pr->cooldown_until);
	qp_i64(&p, pr->withdrawals);
	qp_i64(&p, pr->attempts);
	if (run_w(t, Q_PAIR_PUT, &p, "pair") != -1 &&
	    (e = cache_entry(t, CK_PAIR, 0, from, flen, to, tlen)) != NULL) {
		e->found = true;
		e->v.pair = *pr;
	}
}

static int64_t
pg_conn_get(struct stx *t, const char *a, size_t alen, const char *b,
    size_t blen)
{
	struct centry *e = cache_get(t, CK_CONN, 0, a, alen, b, blen);
	struct qp p = { 0 };

	if (e != NULL)
		return e->found ? e->v.since : 0;
	qp_bytes(&p, a, alen);
	qp_bytes(&p, b, blen);
	return get_int(t, Q_CONN_GET, &p, "connection");
}

static void
pg_conn_put(struct stx *t, const char *a, size_t alen, const char *b,
    size_t blen, int64_t since)
{
	struct centry *e;
	struct qp p = { 0 };

	qp_bytes(&p, a, alen);
	qp_bytes(&p, b, blen);
	qp_i64(&p, since);
	ps(t)->conn_writes++;	/* the mutual counts kept are stale */
	if (run_w(t, Q_CONN_PUT, &p, "connection") != -1 &&
	    (e = cache_conn(t, a, alen, b, blen, true)) != NULL) {
		e->found = true;
		e->v.since = since;
	}
}

static void
pg_conn_del(struct stx *t, const char *a, size_t alen, const char *b,
    size_t blen)
{
	struct centry *e;
	struct qp p = { 0 };

	qp_bytes(&p, a, alen);
	qp_bytes(&p, b, blen);
	ps(t)->conn_writes++;	/* the mutual counts kept are stale */
	if (run_w(t, Q_CONN_DEL, &p, "connection") != -1 &&
	    (e = cache_conn(t, a, alen, b, blen, true)) != NULL) {
		e->found = false;
		e->v.since = 0;
	}
}

static void
pg_scan_conns(struct stx *t, const char *member, size_t len,
    const char *after, size_t after_len, store_conn_fn fn, void *ctx)
{
	char cursor[MEMBER_MAX_BYTES + 1];
	size_t clen = 0, n1;
	struct qp p;
	PGresult *r;
	const char *o;
	int i, n;

	if (after != NULL) {
		clen = after_len < sizeof cursor ? after_len : sizeof cursor;
		memcpy(cursor, after, clen);
	}
	for (;;) {
		memset(&p, 0, sizeof p);
		qp_bytes(&p, member, len);
		qp_bytes(&p, cursor, clen);
		qp_i64(&p, PAGE);
		if ((r = run(t, Q_SCAN_CONNS, &p, "connections")) == NULL)
			return;
		n = PQntuples(r);
		for (i = 0; i < n; i++) {
			o = col_bytes(r, i, 0, &n1);
			if (n1 > MEMBER_MAX_BYTES)
				n1 = MEMBER_MAX_BYTES;
			memcpy(cursor, o, n1);
			clen = n1;
			if (!fn(ctx, o, n1, col_int(r, i, 1)) ||
			    t->rc != STORE_OK) {
				PQclear(r);
				return;
			}
		}
		PQclear(r);
		if (n < PAGE)
			return;
	}
}

#define MUTUAL_PAGE_MAX 1024	/* rows a mutual scan fetches at a time */

static void
pg_scan_mutual(struct stx *t, const char *a, size_t alen, const char *b,
    size_t blen, const char *after, size_t after_len, uint64_t hint,
    store_mutual_fn fn, void *ctx)
{
	char cursor[MEMBER_MAX_BYTES + 1];
	size_t clen = 0, n1;
	int64_t page = hint == 0 ? PAGE : hint < MUTUAL_PAGE_MAX ?
	    (int64_t)hint : MUTUAL_PAGE_MAX;
	struct qp p;
	PGresult *r;
	const char *o;
	int i, n;

	if (after != NULL) {
		clen = after_len < sizeof cursor ? after_len : sizeof cursor;
		memcpy(cursor, after, clen);
	}
	for (;;) {
		memset(&p, 0, sizeof p);
		qp_bytes(&p, a, alen);
		qp_bytes(&p, b, blen);
		qp_bytes(&p, cursor, clen);
		qp_i64(&p, page);
		if ((r = run(t, Q_SCAN_MUTUAL, &p, "mutual connections")) ==
		    NULL)
			return;
		n = PQntuples(r);
		for (i = 0; i < n; i++) {
			o = col_bytes(r, i, 0, &n1);
			if (n1 > MEMBER_MAX_BYTES)
				n1 = MEMBER_MAX_BYTES;
			memcpy(cursor, o, n1);
			clen = n1;
			if (!fn(ctx, o, n1, col_int(r, i, 1), col_int(r, i, 2)) ||
			    t->rc != STORE_OK) {
				PQclear(r);
				return;
			}
		}
		PQclear(r);
		if (n < page)
			return;
	}
}

/* Logs, flags and members. */

static void
pg_log_add(struct stx *t, enum store_log log, const char *key, size_t klen,
    int64_t at, uint64_t id, uint8_t value)
{
	struct centry *e;
	struct qp p = { 0 };

	qp_i16(&p, (int)log);
	qp_bytes(&p, key, klen);
	qp_i64(&p, at);
	qp_i64(&p, id64(id));
	qp_i16(&p, value);
	if (run_w(t, Q_LOG_ADD, &p, "log") != -1 &&
	    (e = cache_find(ps(t), CK_LOG, (int)log, key, klen, "", 0)) !=
	    NULL && at > e->since) {
		int64_t v[2] = { at, id64(id) };

		arr_add(e, v, 2);
	}
}

static uint64_t
pg_log_count(struct stx *t, enum store_log log, const char *key,
    size_t klen, int64_t since, uint64_t max, int64_t *oldest)
{
	struct qp p = { 0 };
	PGresult *r;
	uint64_t n = 0;
	int i;

	/* A write transaction keeps a key's entries after the earliest time
	 * asked (a send asks for the week, then the day), when there are
	 * fewer than LOG_CACHE_MAX. */
	if (!t->read_only && klen <= MEMBER_MAX_BYTES) {
		struct centry *e = cache_find(ps(t), CK_LOG, (int)log, key,
		    klen, "", 0);

		if (e == NULL || since < e->since) {
			qp_i16(&p, (int)log);
			qp_bytes(&p, key, klen);
			qp_i64(&p, since);
			if ((r = run(t, Q_LOG_ATS, &p, "log")) == NULL)
				return 0;
			if (PQntuples(r) < LOG_CACHE_MAX &&
			    (e = cache_entry(t, CK_LOG, (int)log, key, klen,
			    "", 0)) != NULL) {
				e->found = true;
				e->since = since;
				e->n = 0;
				for (i = 0; i < PQntuples(r); i++) {
					int64_t v[2] = { col_int(r, i, 0),
					    col_int(r, i, 1) };

					arr_add(e, v, 2);
				}
			} else if ((uint64_t)PQntuples(r) >= max) {
				/* The first max of them are here. */
				*oldest = max > 0 ? col_int(r, 0, 0) : 0;
				PQclear(r);
				return max;
			} else
				e = NULL;
			PQclear(r);
			memset(&p, 0, sizeof p);
		}
		if (e != NULL) {
			for (i = 0; i < (int)e->n && n < max; i++)
				if (e->arr[i * 2] > since && n++ == 0)
					*oldest = e->arr[i * 2];
			return n;
		}
	}
	qp_i16(&p, (int)log);
	qp_bytes(&p, key, klen);
	qp_i64(&p, since);
	qp_i64(&p, id64(max));
	if ((r = run(t, Q_LOG_COUNT, &p, "log")) == NULL)
		return 0;
	if (PQntuples(r) == 1) {
		n = (uint64_t)col_int(r, 0, 0);
		*oldest = n > 0 ? col_int(r, 0, 1) : 0;
	}
	PQclear(r);
	return n;
}

static void
pg_log_scan_back(struct stx *t, enum store_log log, const char *key,
    size_t klen, store_log_fn fn, void *ctx)
{
	int64_t at = INT64_MAX, id = INT64_MAX;
	struct qp p;
	PGresult *r;
	int i, n;

	for (;;) {
		memset(&p, 0, sizeof p);
		qp_i16(&p, (int)log);
		qp_bytes(&p, key, klen);
		qp_i64(&p, at);
		qp_i64(&p, id);
		qp_i64(&p, PAGE);
		if ((r = run(t, Q_LOG_BACK, &p, "log")) == NULL)
			return;
		n = PQntuples(r);
		for (i = 0; i < n; i++) {
			at = col_int(r, i, 0);
			id = col_int(r, i, 1);
			if (!fn(ctx, at, (uint64_t)id,
			    (uint8_t)col_int(r, i, 2)) || t->rc != STORE_OK) {
				PQclear(r);
				return;
			}
		}
		PQclear(r);
		if (n < PAGE)
			return;
	}
}

static uint64_t
pg_import_id_get(struct stx *t, const char *id, size_t len)
{
	struct qp p = { 0 };
	PGresult *r;
	uint64_t v = 0;

	qp_bytes(&p, id, len);
	if ((r = run(t, Q_IMPORT_ID_GET, &p, "import id")) == NULL)
		return 0;
	if (PQntuples(r) > 0)
		v = (uint64_t)col_int(r, 0, 0);
	PQclear(r);
	return v;
}

static void
pg_import_id_put(struct stx *t, const char *id, size_t len, uint64_t digest)
{
	struct qp p = { 0 };

	qp_bytes(&p, id, len);
	qp_i64(&p, (int64_t)digest);
	run_w(t, Q_IMPORT_ID_PUT, &p, "import id");
}

static bool
pg_flag_get(struct stx *t, enum store_flag f, const char *a, size_t alen,
    const char *b, size_t blen)
{
	struct centry *e = (int)f < FLAG_KINDS ?
	    cache_get(t, CK_FLAG, (int)f, a, alen, b, blen) : NULL;
	struct qp p = { 0 };
	PGresult *r;
	bool on;

	if (e != NULL)
		return e->found;
	qp_i16(&p, (int)f);
	qp_bytes(&p, a, alen);
	qp_bytes(&p, b, blen);
	if ((r = run(t, Q_FLAG_GET, &p, "flag")) == NULL)
		return false;
	on = PQntuples(r) > 0;
	PQclear(r);
	return on;
}

static void
pg_flag_set(struct stx *t, enum store_flag f, const char *a, size_t alen,
    const char *b, size_t blen, bool on)
{
	struct centry *e;
	struct qp p = { 0 };

	qp_i16(&p, (int)f);
	qp_bytes(&p, a, alen);
	qp_bytes(&p, b, blen);
	if (run_w(t, on ? Q_FLAG_ON : Q_FLAG_OFF, &p, "flag") != -1 &&
	    (int)f < FLAG_KINDS &&
	    (e = cache_entry(t, CK_FLAG, (int)f, a, alen, b, blen)) != NULL)
		e->found = on;
}

static void
pg_scan_flags(struct stx *t, enum store_flag f, const char *a, size_t alen,
    const char *after, size_t after_len, store_member_fn fn, void *ctx)
{
	char cursor[MEMBER_MAX_BYTES + 1];
	size_t clen = 0, n1;
	struct qp p;
	PGresult *r;
	const char *o;
	int i, n;

	if (after != NULL) {
		clen = after_len < sizeof cursor ? after_len : sizeof cursor;
		memcpy(cursor, after, clen);
	}
	for (;;) {
		memset(&p, 0, sizeof p);
		qp_i16(&p, (int)f);
		qp_bytes(&p, a, alen);
		qp_bytes(&p, cursor, clen);
		if ((r = run(t, Q_SCAN_FLAGS, &p, "flags")) == NULL)
			return;
		n = PQntuples(r);
		for (i = 0; i < n; i++) {
			o = col_bytes(r, i, 0, &n1);
			if (n1 > MEMBER_MAX_BYTES)
				n1 = MEMBER_MAX_BYTES;
			memcpy(cursor, o, n1);
			clen = n1;
			if (!fn(ctx, o, n1) || t->rc != STORE_OK) {
				PQclear(r);
				return;
			}
		}
		PQclear(r);
		if (n < PAGE)
			return;
	}
}

static void
pg_member_get(struct stx *t, const char *m, size_t mlen,
    struct member_rec *out)
{
	struct centry *e = t->read_only ? NULL :
	    cache_find(ps(t), CK_MEMBER, 0, m, mlen, "", 0);
	struct qp p = { 0 };
	PGresult *r;

	if (e != NULL) {
		if (e->found)
			*out = e->v.member;
		return;
	}
	qp_bytes(&p, m, mlen);
	if ((r = run(t, Q_MEMBER_GET, &p, "member")) == NULL)
		return;
	if (PQntuples(r) == 1)
		member_row(r, 0, 0, out);
	PQclear(r);
	if ((e = cache_entry(t, CK_MEMBER, 0, m, mlen, "", 0)) != NULL) {
		e->found = true;	/* none: zero, as out */
		e->v.member = *out;
	}
}

static void
pg_member_put(struct stx *t, const char *m, size_t mlen,
    const struct member_rec *rec)
{
	struct centry *e;
	struct qp p = { 0 };
	unsigned char st[MEMBER_SETTINGS_BYTES];

	qp_bytes(&p, m, mlen);
	qp_i16(&p, rec->invitations_from);
	qp_bytes(&p, rec->email, rec->email_len);
	qp_i64(&p, rec->restricted_until);
	qp_i64(&p, rec->restricted_at);
	qp_i64(&p, id64(rec->open_sent));
	store_member_settings_pack(rec, st);
	qp_bytes(&p, (const char *)st, sizeof st);
	if (run_w(t, Q_MEMBER_PUT, &p, "member") != -1 &&
	    (e = cache_entry(t, CK_MEMBER, 0, m, mlen, "", 0)) != NULL) {
		e->found = true;
		e->v.member = *rec;
	}
}

/* Plans. */

static int
pg_plan_get(struct stx *t, uint64_t id, void *buf, size_t cap, size_t *len)
{
	struct qp p = { 0 };
	const char *b;
	PGresult *r;
	size_t n;

	qp_i64(&p, id64(id));
	if ((r = run(t, Q_PLAN_GET, &p, "plan")) == NULL)
		return t->rc;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return STORE_NOTFOUND;
	}
	b = col_bytes(r, 0, 0, &n);
	if (n > cap) {
		PQclear(r);
		store_fail(t, STORE_FAILED,
		    "plan %" PRIu64 ": a record of %zu bytes, more than %zu",
		    id, n, cap);
		return STORE_FAILED;
	}
	memcpy(buf, b, n);
	*len = n;
	PQclear(r);
	return STORE_OK;
}

static void
pg_plan_put(struct stx *t, uint64_t id, const void *buf, size_t len)
{
	struct qp p = { 0 };

	qp_i64(&p, id64(id));
	qp_bytes(&p, buf, len);
	run_w(t, Q_PLAN_PUT, &p, "plan");
}

static void
pg_plan_index(struct stx *t, const char *m, size_t mlen, uint64_t id)
{
	struct qp p = { 0 };

	qp_bytes(&p, m, mlen);
	qp_i64(&p, id64(id));
	run_w(t, Q_PLAN_INDEX, &p, "plan index");
}

static void
pg_scan_plans(struct stx *t, const char *m, size_t mlen, store_id_fn fn,
    void *ctx)
{
	struct qp p = { 0 };

	qp_bytes(&p, m, mlen);
	scan_ids(t, Q_SCAN_PLANS, &p, INT64_MAX, fn, ctx, "plans");
}

/* Request ids. Two daemons given one id at once do not both find none and
 * both act: writers take turns (LOCK_WRITE), so the second reads the
 * first's row, committed (tests/test_retry_pg.c races them). */
static int
pg_request_get(struct stx *t, const char *id, size_t len, int64_t *at,
    void **rec, size_t *reclen)
{
	struct qp p = { 0 };
	const char *b;
	PGresult *r;

	qp_bytes(&p, id, len);
	if ((r = run(t, Q_REQUEST_GET, &p, "request")) == NULL)
		return t->rc;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return STORE_NOTFOUND;
	}
	*at = col_int(r, 0, 0);
	b = col_bytes(r, 0, 1, reclen);
	*rec = xmalloc(*reclen + 1);
	memcpy(*rec, b, *reclen);
	PQclear(r);
	return STORE_OK;
}

static void
pg_request_put(struct stx *t, const char *id, size_t len, int64_t at,
    const void *rec, size_t reclen)
{
	struct qp p = { 0 };

	qp_bytes(&p, id, len);
	qp_i64(&p, at);
	qp_bytes(&p, rec, reclen);
	run_w(t, Q_REQUEST_PUT, &p, "request");
}

/* Sent in the batch's pipeline and not waited for (a round trip per batch
 * otherwise), at most once a minute of the clock per daemon, unless the
 * last one took its whole share (read with its result, PZ_PRUNE): then
 * again at the next batch, as on LMDB, so that a backlog drains a share a
 * batch, not a share a minute. It returns 0: the count is not known yet. */
static size_t
pg_request_prune(struct stx *t, int64_t before, size_t max)
{
	struct qp p = { 0 };
	int64_t share = max > (size_t)INT64_MAX ? INT64_MAX : (int64_t)max;

	/* At most once a minute of the clock: a prune is a statement of
	 * the batch, and most batches have nothing past the retention. */
	if (!ps(t)->req_prune_full && before - ps(t)->req_pruned_at < 60 &&
	    before >= ps(t)->req_pruned_at)
		return 0;
	ps(t)->req_pruned_at = before;
	ps(t)->req_prune_full = false;
	ps(t)->req_prune_max = share;

	qp_i64(&p, before);
	qp_i64(&p, share);
	run_wz(t, Q_REQUEST_PRUNE, &p, "request prune", PZ_PRUNE);
	return 0;
}

/* Introductions. */

/* Columns c.. of row: state, told, created_at, updated_at, expires_at,
 * invitation, from_member, via, to_member, note. */
static bool
intro_row(const PGresult *r, int row, int c, struct intro *out)
{
	bool good;

	memset(&out->state, 0, offsetof(struct intro, from) -
	    offsetof(struct intro, state));
	good = col_int(r, row, c) >= 0 && col_int(r, row, c) < INTRO_STORED;
	out->state = (uint8_t)col_int(r, row, c);
	out->told = col_int(r, row, c + 1) != 0;
	out->created_at = col_int(r, row, c + 2);
	out->updated_at = col_int(r, row, c + 3);
	out->expires_at = col_int(r, row, c + 4);
	out->inv_id = (uint64_t)col_int(r, row, c + 5);
	return good &&
	    col_text(r, row, c + 6, out->from, MEMBER_MAX_BYTES,
	    &out->from_len) &&
	    col_text(r, row, c + 7, out->via, MEMBER_MAX_BYTES,
	    &out->via_len) &&
	    col_text(r, row, c + 8, out->to, MEMBER_MAX_BYTES, &out->to_len) &&
	    col_text(r, row, c + 9, out->note, NOTE_MAX_BYTES, &out->note_len);
}

static bool
intro_one(const PGresult *r, void *out)
{
	return intro_row(r, 0, 0, out);
}

static int
pg_intro_get(struct stx *t, uint64_t id, struct intro *out)
{
	out->id = id;
	return row_by_id(t, Q_INTRO_GET, id, "introduction", intro_one, out);
}

static void
pg_intro_put(struct stx *t, const struct intro *in)
{
	struct qp p = { 0 };

	qp_i64(&p, id64(in->id));
	qp_i16(&p, in->state);
	qp_bool(&p, in->told);
	qp_i64(&p, in->created_at);
	qp_i64(&p, in->updated_at);
	qp_i64(&p, in->expires_at);
	qp_i64(&p, id64(in->inv_id));
	qp_bytes(&p, in->from, in->from_len);
	qp_bytes(&p, in->via, in->via_len);
	qp_bytes(&p, in->to, in->to_len);
	qp_bytes(&p, in->note, in->note_len);
	run_w(t, Q_INTRO_PUT, &p, "introduction");
}

static void
pg_scan_intros(struct stx *t, enum store_intro_box box, const char *member,
    size_t len, uint64_t before, store_id_fn fn, void *ctx)
{
	struct qp p = { 0 };

	qp_bytes(&p, member, len);
	scan_ids(t, box == IBOX_ASKED ? Q_INTROS_ASKED : Q_INTROS_VIA, &p,
	    before == 0 ? INT64_MAX : id64(before), fn, ctx, "introductions");
}

/* Events. */

/* A keyed transaction's events take their seqs as it commits
 * (Q_EVENTS_KEYED); till then each carries a stand-in, KEV_STANDIN + its
 * place among them: more than 32 bits, so msgpack packs it in nine bytes
 * (0xcf and 8), written over then. */
#define KEV_STANDIN (UINT64_C(1) << 62)
static uint64_t pg_event_head(struct stx *t);

static uint64_t
pg_event_next(struct stx *t)
{
	struct pg_store *s = ps(t);

	if (!t->read_only && s->keyed && s->write_locked)
		return KEV_STANDIN + s->nkev + 1;
	return pg_event_head(t) + 1;
}

/* Keeps a keyed transaction's event (data: the map store_event_next()'s
 * stand-in seq leads) until it commits: false with the failure in t. */
static bool
kev_add(struct stx *t, uint64_t seq, int64_t at, const char *member,
    size_t mlen, bool notify, const char *data, size_t len)
{
	struct pg_store *s = ps(t);
	const unsigned char *d = (const unsigned char *)data;
	struct kev *e;

	if (seq != KEV_STANDIN + s->nkev + 1 || len < 14 ||
	    (d[0] & 0xf0) != 0x80 || memcmp(d + 1, "\xa3seq", 4) != 0 ||
	    d[5] != 0xcf || be_get(d + 6, 8) != seq) {
		store_fail(t, STORE_FAILED,
		    "event: not led by its stand-in seq (store_event_next())");
		return false;
	}
	if (s->nkev == s->kevcap) {
		s->kevcap = s->kevcap ? 2 * s->kevcap : 32;
		s->kev = xrealloc(s->kev, s->kevcap * sizeof *s->kev);
	}
	if (s->kev_len + mlen + len > s->kev_cap) {
		while (s->kev_len + mlen + len > s->kev_cap)
			s->kev_cap = s->kev_cap ? 2 * s->kev_cap : 4096;
		s->kev_buf = xrealloc(s->kev_buf, s->kev_cap);
	}
	e = &s->kev[s->nkev++];
	e->at = at;
	e->notify = notify;
	e->moff = s->kev_len;
	e->mlen = mlen;
	memcpy(s->kev_buf + s->kev_len, member, mlen);
	s->kev_len += mlen;
	e->doff = s->kev_len;
	e->dlen = len;
	memcpy(s->kev_buf + s->kev_len, data, len);
	s->kev_len += len;
	return true;
}

static void
pg_event_add(struct stx *t, uint64_t seq, int64_t at, const char *member,
    size_t mlen, bool notify, const char *data, size_t len)
{
	struct qp p = { 0 };

	if (!t->read_only && ps(t)->keyed && ps(t)->write_locked) {
		if (kev_add(t, seq, at, member, mlen, notify, data, len)) {
			ps(t)->evented = true;
			pt(t)->dirty = true;
			ps(t)->nwrites++;
		}
		return;
	}

	qp_i64(&p, id64(seq));
	qp_i64(&p, at);
	qp_bytes(&p, member, mlen);
	qp_bool(&p, notify);
	qp_bytes(&p, data, len);
	if (run_w(t, Q_EVENT_ADD, &p, "event") == -1)
		return;
	ps(t)->evented = true;
	ps(t)->head = id64(seq);
	ps(t)->head_ok = true;
	ps(t)->pend.head = true;
}

static uint64_t
pg_event_head(struct stx *t)
{
	struct pg_store *s = ps(t);

	if (t->read_only)
		return (uint64_t)meta_get(t, "event.head");
	if (!s->head_ok) {
		s->head = meta_get(t, "event.head");
		s->head_ok = t->rc == STORE_OK;
	}
	return (uint64_t)s->head;
}

static uint64_t
pg_event_pruned(struct stx *t, const char *member, size_t mlen)
{
	struct qp p = { 0 };

	if (member == NULL)
		return (uint64_t)meta_get(t, "event.pruned");
	qp_bytes(&p, member, mlen);
	return (uint64_t)get_int(t, Q_EVENT_PRUNED, &p, "pruned");
}

/* Every event after `after`, in order, or (member not NULL) member's
 * notifications, through the partial index. */
/* The events q gives (p its fixed parameters, then the cursor: the last
 * seq given, then the page's size), a page at a time, until fn returns
 * false. */
static void
event_pages(struct stx *t, enum pg_query q, struct qp *p, int64_t cursor,
    store_event_fn fn, void *ctx)
{
	int nfixed = p->n, i, n;
	struct event_rec e;
	PGresult *r;

	for (;;) {
		p->n = nfixed;
		qp_i64(p, cursor);
		qp_i64(p, PAGE);
		if ((r = run(t, q, p, "events")) == NULL)
			return;
		n = PQntuples(r);
		for (i = 0; i < n; i++) {
			cursor = col_int(r, i, 0);
			e.seq = (uint64_t)cursor;
			e.at = col_int(r, i, 1);
			e.member = col_bytes(r, i, 2, &e.member_len);
			e.notify = col_int(r, i, 3) != 0;
			e.data = col_bytes(r, i, 4, &e.len);
			if (!fn(ctx, &e) || t->rc != STORE_OK) {
				PQclear(r);
				return;
			}
		}
		PQclear(r);
		if (n < PAGE)
			return;
	}
}

static void
pg_event_scan(struct stx *t, uint64_t after, const char *member,
    size_t mlen, store_event_fn fn, void *ctx)
{
	struct qp p = { 0 };

	if (after >= (uint64_t)INT64_MAX)
		return;
	if (member != NULL)
		qp_bytes(&p, member, mlen);
	event_pages(t, member != NULL ? Q_EVENT_SCAN_MEMBER : Q_EVENT_SCAN,
	    &p, (int64_t)after, fn, ctx);
}

/* The event stays, for the `all` feed; it leaves its member's (the
 * partial index), and no longer expires the member's cursors. */
static void
pg_event_unnotify(struct stx *t, uint64_t seq)
{
	struct qp p = { 0 };

	qp_i64(&p, id64(seq));
	run_w(t, Q_EVENT_UNNOTIFY, &p, "event");
}

/* member.erase's. Each forgets what the write transaction's cache keeps
 * of what it deleted (pg_member_del() all of it, once an erasure). */

static void
pg_inv_del(struct stx *t, const struct inv *inv)
{
	struct qp p = { 0 };

	qp_i64(&p, id64(inv->id));
	if (run_w(t, Q_INV_DEL, &p, "invitation") == -1)
		return;
	/* The pair's history: read again when asked. */
	cache_drop(ps(t), cache_unordered(t, CK_HISTORY, inv->from,
	    inv->from_len, inv->to, inv->to_len, false));
	if (inv->state < ST_COUNT)
		ps(t)->pend.count[inv->state]--;
}

static void
pg_pair_del(struct stx *t, const char *from, size_t flen, const char *to,
    size_t tlen)
{
	struct centry *e;
	struct qp p = { 0 };

	qp_bytes(&p, from, flen);
	qp_bytes(&p, to, tlen);
	if (run_w(t, Q_PAIR_DEL, &p, "pair") != -1 &&
	    (e = cache_entry(t, CK_PAIR, 0, from, flen, to, tlen)) != NULL) {
		e->found = false;
		memset(&e->v.pair, 0, sizeof e->v.pair);
	}
}

static void
pg_log_del(struct stx *t, enum store_log log, const char *key, size_t klen,
    int64_t at, uint64_t id)
{
	struct qp p = { 0 };

	qp_i16(&p, (int)log);
	qp_bytes(&p, key, klen);
	qp_i64(&p, at);
	qp_i64(&p, id64(id));
	if (run_w(t, Q_LOG_DEL, &p, "log") != -1 && !t->read_only)
		cache_drop(ps(t), cache_find(ps(t), CK_LOG, (int)log, key,
		    klen, "", 0));
}

static void
pg_plan_del(struct stx *t, const char *m, size_t mlen, uint64_t id)
{
	struct qp p = { 0 };

	qp_bytes(&p, m, mlen);
	qp_i64(&p, id64(id));
	run_w(t, Q_PLAN_DEL, &p, "plan");
}

static void
pg_intro_del(struct stx *t, const struct intro *in)
{
	struct qp p = { 0 };

	qp_i64(&p, id64(in->id));
	run_w(t, Q_INTRO_DEL, &p, "introduction");
}

static void
pg_event_redact(struct stx *t, uint64_t seq, const char *data, size_t len,
    bool nobody)
{
	struct qp p = { 0 };

	qp_i64(&p, id64(seq));
	qp_bytes(&p, data, len);
	run_w(t, nobody ? Q_EVENT_REDACT : Q_EVENT_REWRITE, &p, "event");
}

static void
pg_member_del(struct stx *t, const char *m, size_t mlen)
{
	char lo[MEMBER_MAX_BYTES + 1], hi[MEMBER_MAX_BYTES + 1];
	struct qp p = { 0 };

	memcpy(lo, m, mlen);
	lo[mlen] = ':';
	memcpy(hi, m, mlen);
	hi[mlen] = ';';
	qp_bytes(&p, m, mlen);
	qp_i16(&p, LOG_NOTES);
	qp_bytes(&p, lo, mlen + 1);
	qp_bytes(&p, hi, mlen + 1);
	qp_int(&p, (int64_t)mlen + 17, 4);
	if (run_w(t, Q_MEMBER_DEL, &p, "member") != -1)
		cache_clear(ps(t));
}

static void
pg_scan_intros_to(struct stx *t, const char *m, size_t mlen, store_id_fn fn,
    void *ctx)
{
	struct qp p = { 0 };

	qp_bytes(&p, m, mlen);
	scan_ids(t, Q_INTROS_TO, &p, 0, fn, ctx, "introductions");
}

static void
pg_scan_events_naming(struct stx *t, const char *m, size_t mlen,
    store_event_fn fn, void *ctx)
{
	struct qp p = { 0 };

	qp_bytes(&p, m, mlen);
	event_pages(t, Q_EVENT_SCAN_NAMING, &p, 0, fn, ctx);
}

static size_t
pg_event_prune(struct stx *t, int64_t before, size_t max)
{
	struct qp p = { 0 };
	PGresult *r;
	int64_t n = 0;

	if (t->read_only) {
		store_fail(t, STORE_FAILED, "prune: a snapshot cannot write");
		return 0;
	}
	/* Nothing old enough, as BEGIN's round trip found the oldest
	 * event (none: none but this transaction's, all of them now): no
	 * round trip. */
	if (ps(t)->oldest_ok && t->rc == STORE_OK &&
	    (ps(t)->oldest_none ? !ps(t)->evented : ps(t)->oldest_at > before))
		return 0;
	ps(t)->oldest_ok = false;	/* this may delete it */
	qp_i64(&p, before);
	qp_i64(&p, max > (size_t)INT64_MAX ? INT64_MAX : (int64_t)max);
	if ((r = run(t, Q_EVENT_PRUNE, &p, "prune")) == NULL)
		return 0;
	if (PQntuples(r) == 1)
		n = col_int(r, 0, 0);
	PQclear(r);
	pt(t)->dirty = true;
	ps(t)->nwrites += (uint64_t)n;
	return (size_t)n;
}

/* Deadlines. */

/* Row i of r's first three columns (at, kind, id) as a deadline. */
static void
due_col(const PGresult *r, int i, struct due *out)
{
	out->at = col_int(r, i, 0);
	out->kind = (uint8_t)col_int(r, i, 1);
	out->id = (uint64_t)col_int(r, i, 2);
}

static void
due_params(struct qp *p, const struct due *d)
{
	qp_i64(p, d->at);
	qp_i16(p, d->kind);
	qp_i64(p, id64(d->id));
}

/* Whether deadline a comes before b (the dues' order: at, kind, id). */
static bool
due_before(const struct due *a, const struct due *b)
{
	if (a->at != b->at)
		return a->at < b->at;
	if (a->kind != b->kind)
		return a->kind < b->kind;
	return a->id < b->id;
}

static void
pg_due_add(struct stx *t, const struct due *d)
{
	struct pg_store *s = ps(t);
	struct qp p = { 0 };

	if (!t->read_only && s->due_first_ok &&
	    (s->due_first_none || due_before(d, &s->due_first))) {
		s->due_first = *d;
		s->due_first_none = false;
	}

	due_params(&p, d);
	run_wz(t, Q_DUE_ADD, &p, "deadline", PZ_DUE);
}

static void
pg_due_del(struct stx *t, const struct due *d)
{
	struct pg_store *s = ps(t);
	struct qp p = { 0 };

	if (s->due_first_ok && !s->due_first_none &&
	    !due_before(d, &s->due_first) && !due_before(&s->due_first, d))
		s->due_first_ok = false;	/* the next one: read */

	due_params(&p, d);
	run_wz(t, Q_DUE_DEL, &p, "deadline", PZ_DUE_DEL);
}

/* The deadline of r's one row (at, kind, id) into out, r cleared:
 * whether there was one. */
static bool
due_row(PGresult *r, struct due *out)
{
	bool found = PQntuples(r) == 1;

	if (found)
		due_col(r, 0, out);
	PQclear(r);
	return found;
}

static bool
pg_due_first(struct stx *t, struct due *out)
{
	struct pg_store *s = ps(t);
	PGresult *r;

	if (!t->read_only && s->due_first_ok) {
		if (!s->due_first_none)
			*out = s->due_first;
		return !s->due_first_none;
	}
	if ((r = run(t, Q_DUE_FIRST, NULL, "deadlines")) == NULL)
		return false;
	return due_row(r, out);
}

static bool
pg_due_claim(struct stx *t, int64_t now, struct due *out)
{
	struct qp p = { 0 };
	PGresult *r;

	qp_i64(&p, now);
	if ((r = run(t, Q_DUE_CLAIM, &p, "deadlines")) == NULL)
		return false;
	return due_row(r, out);
}

static bool
pg_db_clock(struct stx *t, int64_t *real, int64_t *vclock)
{
	PGresult *r;
	bool found;

	if (!t->read_only && t->parent == NULL && ps(t)->clock_r != NULL &&
	    t->rc == STORE_OK) {
		/* Read with BEGIN, in its round trip (pg_begin()). */
		r = ps(t)->clock_r;
		ps(t)->clock_r = NULL;
	} else if ((r = run(t, Q_DB_CLOCK, NULL, "clock")) == NULL)
		return false;
	found = PQntuples(r) == 1;
	if (found) {
		*real = col_int(r, 0, 0);
		*vclock = col_int(r, 0, 1);
		/* As read by pg_next_id() and pg_event_head(), unless the
		 * transaction has already changed them. */
		if (!t->read_only && !ps(t)->head_ok &&
		    !PQgetisnull(r, 0, 3)) {
			ps(t)->head = col_int(r, 0, 3);
			ps(t)->head_ok = true;
		}
	} else
		store_fail(t, STORE_FAILED, "clock: no vclock row");
	PQclear(r);
	return found;
}

/* Whole-store scans. */

static void
pg_scan_invitations(struct stx *t, store_id_fn fn, void *ctx)
{
	struct qp p = { 0 };

	scan_ids(t, Q_SCAN_INVS, &p, INT64_MIN, fn, ctx, "invitations");
}

static void
pg_scan_pairs(struct stx *t, store_pair_fn fn, void *ctx)
{
	char from[MEMBER_MAX_BYTES], to[MEMBER_MAX_BYTES];
	size_t flen = 0, tlen = 0, n1, n2;
	const char *f, *o;
	struct pair pr;
	struct qp p;
	PGresult *r;
	int i, n;

	for (;;) {
		memset(&p, 0, sizeof p);
		qp_bytes(&p, from, flen);
		qp_bytes(&p, to, tlen);
		qp_i64(&p, PAGE);
		if ((r = run(t, Q_SCAN_PAIRS, &p, "pairs")) == NULL)
			return;
		n = PQntuples(r);
		for (i = 0; i < n; i++) {
			f = col_bytes(r, i, 0, &n1);
			o = col_bytes(r, i, 1, &n2);
			if (n1 > MEMBER_MAX_BYTES || n2 > MEMBER_MAX_BYTES) {
				store_fail(t, STORE_FAILED,
				    "pairs: a member id of %zu bytes",
				    n1 > n2 ? n1 : n2);
				break;
			}
			memcpy(from, f, n1);
			flen = n1;
			memcpy(to, o, n2);
			tlen = n2;
			pr.open_id = (uint64_t)col_int(r, i, 2);
			pr.cooldown_until = col_int(r, i, 3);
			pr.withdrawals = (uint32_t)col_int(r, i, 4);
			pr.attempts = (uint32_t)col_int(r, i, 5);
			if (!fn(ctx, f, n1, o, n2, &pr) || t->rc != STORE_OK) {
				PQclear(r);
				return;
			}
		}
		PQclear(r);
		if (n < PAGE || t->rc != STORE_OK)
			return;
	}
}

static void
pg_scan_dues(struct stx *t, store_due_fn fn, void *ctx)
{
	struct due d = { INT64_MIN, 0, 0 };
	int kind = -1;
	int64_t id = INT64_MIN;
	struct qp p;
	PGresult *r;
	int i, n;

	for (;;) {
		memset(&p, 0, sizeof p);
		qp_i64(&p, d.at);
		qp_i16(&p, kind);
		qp_i64(&p, id);
		qp_i64(&p, PAGE);
		if ((r = run(t, Q_SCAN_DUES, &p, "deadlines")) == NULL)
			return;
		n = PQntuples(r);
		for (i = 0; i < n; i++) {
			d.at = col_int(r, i, 0);
			kind = (int)col_int(r, i, 1);
			id = col_int(r, i, 2);
			d.kind = (uint8_t)kind;
			d.id = (uint64_t)id;
			if (!fn(ctx, &d) || t->rc != STORE_OK) {
				PQclear(r);
				return;
			}
		}
		PQclear(r);
		if (n < PAGE)
			return;
	}
}

/* store_check: what the tables' keys and constraints do not already
 * hold. The indexes are PostgreSQL's (a box, a history, a member's feed
 * cannot disagree with the invitations or events they index), and a
 * connection is one row, written once; what is left is the connections
 * counter against its rows (daemon/check.c checks the others, and each
 * member's open_sent, from its scans), the plan index against the plans,
 * and the event markers (event.head, event.pruned) against the events. */
static void
pg_check(struct stx *t, store_problem_fn fn, void *ctx)
{
	char buf[512];
	PGresult *r;
	int i;

	if ((r = run(t, Q_CHECK_COUNTS, NULL, "check")) == NULL)
		return;
	for (i = 0; i < PQntuples(r); i++) {
		snprintf(buf, sizeof buf,
		    "%s is %" PRId64 "; the tables hold %" PRId64,
		    PQgetvalue(r, i, 0), col_int(r, i, 1), col_int(r, i, 2));
		fn(ctx, "counter", buf);
	}
	PQclear(r);
	if ((r = run(t, Q_CHECK_REST, NULL, "check")) == NULL)
		return;
	for (i = 0; i < PQntuples(r); i++)
		fn(ctx, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
	PQclear(r);
}

/* Copying (store.h, "Copying a whole store"): each table whole, in key
 * order (bytea compares as LMDB's keys do), through a cursor of the
 * snapshot fetched EXPORT_PAGE rows at a time. */
#define EXPORT_PAGE 1000

static const struct {
	enum store_rec_kind kind;
	const char *sql;
} export_sql[] = {
	{ SREC_META, "SELECT name, value FROM (SELECT 'next_id' AS name, "
	    "CASE WHEN is_called THEN last_value ELSE last_value - 1 END "
	    "AS value FROM invitation_ids UNION ALL SELECT name, value "
	    "FROM meta WHERE name <> 'schema_version') m "
	    "ORDER BY name COLLATE \"C\"" },
	{ SREC_INVITATION, "SELECT id, state, priority, attempt, created_at, "
	    "updated_at, expires_at, stale_at, reminded_at, ignored, "
	    "reported, resend_of, sender, recipient, note, held, automatic, "
	    "remind_at, introduced_by FROM invitations ORDER BY id" },
	{ SREC_PAIR, "SELECT sender, recipient, open_id, cooldown_until, "
	    "withdrawals, attempts FROM pairs ORDER BY sender, recipient" },
	{ SREC_CONNECTION, "SELECT lo, hi, since FROM connections "
	    "ORDER BY lo, hi" },
	{ SREC_DEADLINE, "SELECT at, kind, id FROM dues "
	    "ORDER BY at, kind, id" },
	{ SREC_LOG, "SELECT log, key, at, id, value FROM logs "
	    "ORDER BY log, key, at, id" },
	{ SREC_FLAG, "SELECT flag, a, b FROM flags ORDER BY flag, a, b" },
	{ SREC_MEMBER, "SELECT member, invitations_from, email, "
	    "restricted_until, restricted_at, open_sent, settings "
	    "FROM members ORDER BY member" },
	{ SREC_PLAN, "SELECT id, record FROM plans ORDER BY id" },
	{ SREC_PLAN_INDEX, "SELECT member, id FROM member_plans "
	    "ORDER BY member, id" },
	{ SREC_EVENT, "SELECT seq, at, member, notify, data FROM events "
	    "ORDER BY seq" },
	{ SREC_PRUNED, "SELECT member, seq FROM member_pruned "
	    "ORDER BY member" },
	{ SREC_INTRO, "SELECT id, state, told, created_at, updated_at, "
	    "expires_at, invitation, from_member, via, to_member, note "
	    "FROM introductions ORDER BY id" },
	{ SREC_REQUEST, "SELECT id, at, record FROM requests ORDER BY id" },
	{ SREC_IMPORT_ID, "SELECT ext_id, digest FROM import_ids "
	    "ORDER BY ext_id" },
};

/* Whether a comes before b as bytea compares them: bytes, then length. */
static bool
bytes_lt(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	return c < 0 || (c == 0 && alen < blen);
}

/* What a record decoded from a row points into. */
struct pg_rec {
	struct store_rec r;
	struct inv inv;
	struct member_rec member;
	struct intro intro;
};

/* Decodes row i of r, a row of export_sql's query of x->r.kind, into x:
 * false when it is not a sound record. */
static bool
pg_rec_decode(const PGresult *r, int i, struct pg_rec *x)
{
	struct store_rec *rec = &x->r;

	switch (rec->kind) {
	case SREC_META:
		rec->a = col_bytes(r, i, 0, &rec->alen);
		rec->id = (uint64_t)col_int(r, i, 1);
		return true;
	case SREC_INVITATION:
		x->inv.id = (uint64_t)col_int(r, i, 0);
		rec->inv = &x->inv;
		return inv_row(r, i, 1, &x->inv);
	case SREC_PAIR:
		rec->a = col_bytes(r, i, 0, &rec->alen);
		rec->b = col_bytes(r, i, 1, &rec->blen);
		rec->pair.open_id = (uint64_t)col_int(r, i, 2);
		rec->pair.cooldown_until = col_int(r, i, 3);
		rec->pair.withdrawals = (uint32_t)col_int(r, i, 4);
		rec->pair.attempts = (uint32_t)col_int(r, i, 5);
		return true;
	case SREC_CONNECTION:
		rec->a = col_bytes(r, i, 0, &rec->alen);
		rec->b = col_bytes(r, i, 1, &rec->blen);
		rec->at = col_int(r, i, 2);
		return true;
	case SREC_DEADLINE:
		due_col(r, i, &rec->due);
		return true;
	case SREC_LOG:
		rec->sub = (uint8_t)col_int(r, i, 0);
		rec->a = col_bytes(r, i, 1, &rec->alen);
		rec->at = col_int(r, i, 2);
		rec->id = (uint64_t)col_int(r, i, 3);
		rec->value = (uint8_t)col_int(r, i, 4);
		return true;
	case SREC_FLAG:
		rec->sub = (uint8_t)col_int(r, i, 0);
		rec->a = col_bytes(r, i, 1, &rec->alen);
		rec->b = col_bytes(r, i, 2, &rec->blen);
		return true;
	case SREC_MEMBER:
		rec->a = col_bytes(r, i, 0, &rec->alen);
		if (!member_row(r, i, 1, &x->member))
			return false;
		rec->member = &x->member;
		return true;
	case SREC_PLAN:
		rec->id = (uint64_t)col_int(r, i, 0);
		rec->data = col_bytes(r, i, 1, &rec->len);
		return true;
	case SREC_PLAN_INDEX:
	case SREC_PRUNED:
		rec->a = col_bytes(r, i, 0, &rec->alen);
		rec->id = (uint64_t)col_int(r, i, 1);
		return true;
	case SREC_IMPORT_ID:
		rec->a = col_bytes(r, i, 0, &rec->alen);
		rec->id = (uint64_t)col_int(r, i, 1);
		return rec->alen >= 1 && rec->alen <= MEMBER_MAX_BYTES;
	case SREC_EVENT:
		rec->ev.seq = (uint64_t)col_int(r, i, 0);
		rec->ev.at = col_int(r, i, 1);
		rec->ev.member = col_bytes(r, i, 2, &rec->ev.member_len);
		rec->ev.notify = col_int(r, i, 3) != 0;
		rec->ev.data = col_bytes(r, i, 4, &rec->ev.len);
		return rec->ev.member_len <= MEMBER_MAX_BYTES;
	case SREC_INTRO:
		x->intro.id = (uint64_t)col_int(r, i, 0);
		rec->intro = &x->intro;
		return intro_row(r, i, 1, &x->intro);
	case SREC_REQUEST:
		rec->a = col_bytes(r, i, 0, &rec->alen);
		rec->at = col_int(r, i, 1);
		rec->data = col_bytes(r, i, 2, &rec->len);
		return rec->alen >= 1 && rec->alen <= REQUEST_ID_MAX;
	default:
		return false;
	}
}

static void
pg_export(struct stx *t, store_rec_fn fn, void *ctx)
{
	struct pg_rec *x = xmalloc(sizeof *x);
	PGconn *c;
	PGresult *r;
	char *sql;
	size_t k;
	int i, n;
	bool go = true;

	if (pt(t)->pc == NULL) {
		store_fail(t, STORE_FAILED, "export: the transaction did not begin");
		free(x);
		return;
	}
	c = pt(t)->pc->c;
	for (k = 0; go && k < sizeof export_sql / sizeof export_sql[0]; k++) {
		sql = xmalloc(strlen(export_sql[k].sql) + 64);
		sprintf(sql, "DECLARE connreq_export NO SCROLL CURSOR FOR %s",
		    export_sql[k].sql);
		go = cmd(t, c, sql, "export");
		free(sql);
		while (go) {
			r = PQexecParams(c, "FETCH " STR(EXPORT_PAGE)
			    " FROM connreq_export", 0, NULL, NULL, NULL, NULL,
			    1);
			if (PQresultStatus(r) != PGRES_TUPLES_OK) {
				fail_pg(t, c, r, "export");
				PQclear(r);
				go = false;
				break;
			}
			n = PQntuples(r);
			for (i = 0; go && i < n; i++) {
				memset(&x->r, 0, sizeof x->r);
				x->r.kind = export_sql[k].kind;
				if (!pg_rec_decode(r, i, x)) {
					store_fail(t, STORE_FAILED,
					    "export: a corrupt row of %s",
					    store_rec_names[x->r.kind]);
					go = false;
				} else if (!fn(ctx, &x->r) ||
				    t->rc != STORE_OK)
					go = false;
			}
			PQclear(r);
			if (n < EXPORT_PAGE)
				break;
		}
		if (t->rc == STORE_OK)
			go = cmd(t, c, "CLOSE connreq_export", "export") && go;
	}
	free(x);
}

/* The import's rows go by COPY (one statement per table and batch, not
 * one per row): each kind's table and columns, in the order cp_row()
 * writes them. */
static const char *const cp_sql[SREC_COUNT] = {
	[SREC_INVITATION] = "COPY invitations (id, state, priority, attempt, "
	    "created_at, updated_at, expires_at, stale_at, reminded_at, "
	    "ignored, reported, resend_of, sender, recipient, note, held, "
	    "automatic, remind_at, introduced_by) FROM STDIN",
	[SREC_PAIR] = "COPY pairs (sender, recipient, open_id, cooldown_until, "
	    "withdrawals, attempts) FROM STDIN",
	[SREC_CONNECTION] = "COPY connections (lo, hi, since) FROM STDIN",
	[SREC_DEADLINE] = "COPY dues (at, kind, id) FROM STDIN",
	[SREC_LOG] = "COPY logs (log, key, at, id, value) FROM STDIN",
	[SREC_FLAG] = "COPY flags (flag, a, b) FROM STDIN",
	[SREC_MEMBER] = "COPY members (member, invitations_from, email, "
	    "restricted_until, restricted_at, open_sent, settings) FROM STDIN",
	[SREC_PLAN] = "COPY plans (id, record) FROM STDIN",
	[SREC_PLAN_INDEX] = "COPY member_plans (member, id) FROM STDIN",
	[SREC_EVENT] = "COPY events (seq, at, member, notify, data) FROM STDIN",
	[SREC_PRUNED] = "COPY member_pruned (member, seq) FROM STDIN",
	[SREC_INTRO] = "COPY introductions (id, state, told, created_at, "
	    "updated_at, expires_at, invitation, from_member, via, to_member, "
	    "note) FROM STDIN",
	[SREC_REQUEST] = "COPY requests (id, at, record) FROM STDIN",
	[SREC_IMPORT_ID] = "COPY import_ids (ext_id, digest) FROM STDIN",
};
/* Sent once this much is gathered, whatever comes next. */
#define CP_FLUSH_BYTES (4u << 20)

static void
cp_need(struct pgcopy *c, size_t n)
{
	if (c->len + n <= c->cap)
		return;
	c->cap = (c->len + n) * 2;
	c->b = xrealloc(c->b, c->cap);
}

/* A field: a separator before all but the first. */
static void
cp_int(struct pgcopy *c, bool first, int64_t v)
{
	cp_need(c, 24);
	c->len += (size_t)snprintf(c->b + c->len, 24, "%s%" PRId64,
	    first ? "" : "\t", v);
}

static void
cp_bool(struct pgcopy *c, bool v)
{
	cp_need(c, 2);
	c->b[c->len++] = '\t';
	c->b[c->len++] = v ? 't' : 'f';
}

/* bytea in hex, its backslash escaped for COPY's text format. */
static void
cp_bytes(struct pgcopy *c, bool first, const void *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *b = p;
	size_t i;

	cp_need(c, 4 + 2 * n);
	if (!first)
		c->b[c->len++] = '\t';
	memcpy(c->b + c->len, "\\\\x", 3);
	c->len += 3;
	for (i = 0; i < n; i++) {
		c->b[c->len++] = hex[b[i] >> 4];
		c->b[c->len++] = hex[b[i] & 15];
	}
}

static void
cp_end(struct pg_store *s, struct pgcopy *c, size_t before)
{
	cp_need(c, 1);
	c->b[c->len++] = '\n';
	c->rows++;
	s->cp_total += c->len - before;
}

static void
cp_drop(struct pg_store *s)
{
	int k;

	for (k = 0; k < SREC_COUNT; k++) {
		s->cp[k].len = 0;
		s->cp[k].rows = 0;
	}
	s->cp_total = 0;
}

/* Sends what the import gathered, table by table, on the store's
 * connection: false (recorded in t) on a failure. */
static bool
cp_flush(struct stx *t)
{
	struct pg_store *s = ps(t);
	PGconn *c = s->w.c;
	PGresult *r;
	bool good = true;
	int k;

	if (s->cp_total == 0)
		return true;
	if (!pipe_flush(t, NULL))
		return false;
	for (k = 0; good && k < SREC_COUNT; k++) {
		if (s->cp[k].len == 0)
			continue;
		r = PQexec(c, cp_sql[k]);
		if (PQresultStatus(r) != PGRES_COPY_IN) {
			fail_pg(t, c, r, "import");
			PQclear(r);
			good = false;
			break;
		}
		PQclear(r);
		if (PQputCopyData(c, s->cp[k].b, (int)s->cp[k].len) != 1 ||
		    PQputCopyEnd(c, NULL) != 1) {
			store_fail(t, STORE_FAILED, "import: %s",
			    PQerrorMessage(c));
			good = false;
		}
		while ((r = PQgetResult(c)) != NULL) {
			if (good && PQresultStatus(r) != PGRES_COMMAND_OK) {
				fail_pg(t, c, r, "import");
				good = false;
			}
			PQclear(r);
		}
		if (good) {
			s->nwrites += s->cp[k].rows;
			pt(t)->dirty = true;
		}
	}
	cp_drop(s);
	return good;
}

static void
pg_import(struct stx *t, const struct store_rec *r)
{
	struct pg_store *s = ps(t);
	struct pgcopy *c;
	const struct inv *v = r->inv;
	const struct member_rec *m = r->member;
	struct qp p = { 0 };
	char name[64];
	unsigned char st[MEMBER_SETTINGS_BYTES];
	size_t before;
	bool lo;

	/* Rows written around the cache (what it holds back written
	 * first). */
	if (!t->read_only && (s->pend.head ||
	    s->pend.deadlines != 0 || memcmp(s->pend.count,
	    (int64_t[ST_COUNT]){ 0 }, sizeof s->pend.count) != 0)) {
		char sql[PEND_SQL_MAX];

		pend_sql(s, sql, sizeof sql);
		if (!cmd(t, s->w.c, sql, "import"))
			return;
	}
	tx_forget(s);

	if (t->read_only) {
		store_fail(t, STORE_FAILED, "import: a snapshot cannot write");
		return;
	}
	if (r->kind == SREC_META) {
		if (r->alen == 0 || r->alen >= sizeof name ||
		    memchr(r->a, 0, r->alen) != NULL) {
			store_fail(t, STORE_FAILED, "import: a bad meta name");
			return;
		}
		memcpy(name, r->a, r->alen);
		name[r->alen] = '\0';
		if (strcmp(name, "schema_version") == 0) {
			store_fail(t, STORE_FAILED, "import: a bad meta name");
			return;
		}
		if (strcmp(name, "next_id") == 0) {
			/* The ids given come from the sequence. */
			qp_i64(&p, (int64_t)r->id);
			PQclear(run(t, Q_IDS_SET, &p, "meta"));
			return;
		}
		qp_text(&p, name);
		qp_i64(&p, (int64_t)r->id);
		if (run_ws(t, Q_META_SET, &p, "meta") == 0)
			store_fail(t, STORE_FAILED,
			    "import: this store keeps no meta value %s", name);
		return;
	}
	if ((r->kind == SREC_LOG && r->sub >= LOG_COUNT) ||
	    (r->kind == SREC_FLAG && r->sub >= FLAG_COUNT)) {
		store_fail(t, STORE_FAILED, "import: a bad %s record",
		    store_rec_names[r->kind]);
		return;
	}
	c = &s->cp[r->kind];
	before = c->len;
	switch (r->kind) {
	case SREC_INVITATION:
		cp_int(c, true, id64(v->id));
		cp_int(c, false, v->state);
		cp_int(c, false, v->priority);
		cp_int(c, false, v->attempt);
		cp_int(c, false, v->created_at);
		cp_int(c, false, v->updated_at);
		cp_int(c, false, v->expires_at);
		cp_int(c, false, v->stale_at);
		cp_int(c, false, v->reminded_at);
		cp_bool(c, v->ignored);
		cp_bool(c, v->reported);
		cp_int(c, false, id64(v->resend_of));
		cp_bytes(c, false, v->from, v->from_len);
		cp_bytes(c, false, v->to, v->to_len);
		cp_bytes(c, false, v->note, v->note_len);
		cp_bool(c, v->held);
		cp_bool(c, v->automatic);
		cp_int(c, false, v->remind_at);
		cp_bytes(c, false, v->via, v->via_len);
		break;
	case SREC_PAIR:
		cp_bytes(c, true, r->a, r->alen);
		cp_bytes(c, false, r->b, r->blen);
		cp_int(c, false, id64(r->pair.open_id));
		cp_int(c, false, r->pair.cooldown_until);
		cp_int(c, false, r->pair.withdrawals);
		cp_int(c, false, r->pair.attempts);
		break;
	case SREC_CONNECTION:
		/* One row per pair, the lesser first. */
		lo = bytes_lt(r->a, r->alen, r->b, r->blen);
		cp_bytes(c, true, lo ? r->a : r->b, lo ? r->alen : r->blen);
		cp_bytes(c, false, lo ? r->b : r->a, lo ? r->blen : r->alen);
		cp_int(c, false, r->at);
		break;
	case SREC_DEADLINE:
		s->due_first_ok = false;	/* (pg_due_first()) */
		cp_int(c, true, r->due.at);
		cp_int(c, false, r->due.kind);
		cp_int(c, false, id64(r->due.id));
		break;
	case SREC_LOG:
		cp_int(c, true, r->sub);
		cp_bytes(c, false, r->a, r->alen);
		cp_int(c, false, r->at);
		cp_int(c, false, id64(r->id));
		cp_int(c, false, r->value);
		break;
	case SREC_FLAG:
		cp_int(c, true, r->sub);
		cp_bytes(c, false, r->a, r->alen);
		cp_bytes(c, false, r->b, r->blen);
		break;
	case SREC_MEMBER:
		cp_bytes(c, true, r->a, r->alen);
		cp_int(c, false, m->invitations_from);
		cp_bytes(c, false, m->email, m->email_len);
		cp_int(c, false, m->restricted_until);
		cp_int(c, false, m->restricted_at);
		cp_int(c, false, id64(m->open_sent));
		store_member_settings_pack(m, st);
		cp_bytes(c, false, (const char *)st, sizeof st);
		break;
	case SREC_PLAN:
		cp_int(c, true, id64(r->id));
		cp_bytes(c, false, r->data, r->len);
		break;
	case SREC_REQUEST:
		cp_bytes(c, true, r->a, r->alen);
		cp_int(c, false, r->at);
		cp_bytes(c, false, r->data, r->len);
		break;
	case SREC_PLAN_INDEX:
	case SREC_PRUNED:
	case SREC_IMPORT_ID:
		cp_bytes(c, true, r->a, r->alen);
		cp_int(c, false, id64(r->id));
		break;
	case SREC_EVENT:
		cp_int(c, true, id64(r->ev.seq));
		cp_int(c, false, r->ev.at);
		cp_bytes(c, false, r->ev.member, r->ev.member_len);
		cp_bool(c, r->ev.notify);
		cp_bytes(c, false, r->ev.data, r->ev.len);
		break;
	case SREC_INTRO:
		if (r->intro->state >= INTRO_STORED) {
			store_fail(t, STORE_FAILED, "import: a bad %s record",
			    store_rec_names[r->kind]);
			return;
		}
		cp_int(c, true, id64(r->intro->id));
		cp_int(c, false, r->intro->state);
		cp_bool(c, r->intro->told);
		cp_int(c, false, r->intro->created_at);
		cp_int(c, false, r->intro->updated_at);
		cp_int(c, false, r->intro->expires_at);
		cp_int(c, false, id64(r->intro->inv_id));
		cp_bytes(c, false, r->intro->from, r->intro->from_len);
		cp_bytes(c, false, r->intro->via, r->intro->via_len);
		cp_bytes(c, false, r->intro->to, r->intro->to_len);
		cp_bytes(c, false, r->intro->note, r->intro->note_len);
		break;
	default:
		store_fail(t, STORE_FAILED, "import: no kind of record %d",
		    (int)r->kind);
		return;
	}
	cp_end(s, c, before);
	if (s->cp_total >= CP_FLUSH_BYTES)
		cp_flush(t);
}

/* The watch (store_watch_new()): a connection of its own, made with
 * PQconnectStartParams/PQconnectPoll and used in nonblocking mode, so that
 * no call here waits on the network: the loop steps it when its socket is
 * ready. Once connected it sends LISTEN and reads the head in one simple
 * query; from then on each notification's payload is a head.
 *
 * libpq's connect_timeout does not bound a nonblocking connection, so
 * the watch keeps its own deadline: a server that takes the connection
 * but never answers (a hung primary, a black-holed address) has
 * connect_timeout (as the store's connections have it: pg_connect()) to
 * answer the connection and the LISTEN; then the watch is down, and is
 * connected again after a pause (store_watch_timeout()). Once up, TCP
 * keepalives find a peer gone silent, as on the store's connections. */
enum watch_state { W_DOWN, W_CONNECTING, W_LISTENING, W_UP };

struct pg_watch {
	struct store_watch base;
	char *conninfo;
	PGconn *c;
	enum watch_state state;
	PostgresPollingStatusType poll;	/* while W_CONNECTING */
	int64_t limit_ms;	/* to connect and LISTEN */
	int64_t deadline_ms;	/* until W_UP: monotonic */
};

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* c's connect_timeout in seconds (as libpq reads it: at least 2). */
static int64_t
watch_limit_s(PGconn *c)
{
	PQconninfoOption *o, *opts = PQconninfo(c);
	int64_t v = atoi(PG_CONNECT_TIMEOUT);
	char *end;
	long n;

	for (o = opts; o != NULL && o->keyword != NULL; o++) {
		if (strcmp(o->keyword, "connect_timeout") != 0 ||
		    o->val == NULL || o->val[0] == '\0')
			continue;
		n = strtol(o->val, &end, 10);
		if (*end == '\0' && n > 0)
			v = n < 2 ? 2 : n;
	}
	PQconninfoFree(opts);
	return v;
}

static struct store_watch *
pg_watch_new(struct store *base)
{
	struct pg_store *s = (struct pg_store *)base;
	struct pg_watch *w = xcalloc(1, sizeof *w);

	w->conninfo = xstrndup(s->conninfo, strlen(s->conninfo));
	return &w->base;
}

static void
watch_down(struct pg_watch *w, const char *why)
{
	char msg[200];

	if (w->c != NULL) {
		msg_copy(msg, sizeof msg, PQerrorMessage(w->c));
		if (w->state == W_UP)
			log_warn("store: the event watch lost its connection (%s: %s); connecting again",
			    why, msg);
		PQfinish(w->c);
	}
	w->c = NULL;
	w->state = W_DOWN;
}

/* A payload or a column as a head; 0 when it is none. */
static uint64_t
watch_num(const char *v)
{
	char *end;
	unsigned long long n;

	if (v == NULL || *v < '0' || *v > '9')
		return 0;
	n = strtoull(v, &end, 10);
	return *end == '\0' ? (uint64_t)n : 0;
}

static int
pg_watch_step(struct store_watch *base, int *want, uint64_t *head)
{
	/* As pg_connect()'s, but for the session's options. */
	static const char *const keys[] = { "connect_timeout",
	    "keepalives_idle", "keepalives_interval", "keepalives_count",
	    "dbname", "fallback_application_name", NULL };
	struct pg_watch *w = (struct pg_watch *)base;
	const char *env = getenv("PGCONNECT_TIMEOUT");
	const char *vals[] = {
	    env != NULL && *env != '\0' ? env : PG_CONNECT_TIMEOUT,
	    "10", "5", "3", w->conninfo, "connreqd watch", NULL };
	PGnotify *n;
	PGresult *r;
	uint64_t h;

	*head = 0;
	*want = 0;
	if ((w->state == W_CONNECTING || w->state == W_LISTENING) &&
	    mono_ms() >= w->deadline_ms) {
		if (w->c != NULL)
			PQfinish(w->c);
		w->c = NULL;
		w->state = W_DOWN;
		log_warn("store: the event watch had no answer from PostgreSQL in %" PRId64 " s; connecting again",
		    w->limit_ms / 1000);
		return -1;
	}
	if (w->state == W_DOWN) {
		w->c = PQconnectStartParams(keys, vals, 1);
		if (w->c == NULL || PQstatus(w->c) == CONNECTION_BAD) {
			watch_down(w, "connect");
			return -1;
		}
		w->limit_ms = watch_limit_s(w->c) * 1000;
		w->deadline_ms = mono_ms() + w->limit_ms;
		PQsetNoticeProcessor(w->c, quiet_notice, NULL);
		w->state = W_CONNECTING;
		w->poll = PGRES_POLLING_WRITING;
		/* Its socket is there once it is writable. */
		*want = STORE_WATCH_WRITE;
		return PQsocket(w->c);
	}
	if (w->state == W_CONNECTING) {
		w->poll = PQconnectPoll(w->c);
		switch (w->poll) {
		case PGRES_POLLING_READING:
			*want = STORE_WATCH_READ;
			return PQsocket(w->c);
		case PGRES_POLLING_WRITING:
			*want = STORE_WATCH_WRITE;
			return PQsocket(w->c);
		case PGRES_POLLING_OK:
			break;
		default:
			watch_down(w, "connect");
			return -1;
		}
		if (PQsetnonblocking(w->c, 1) != 0 ||
		    !PQsendQuery(w->c, "LISTEN " WATCH_CHANNEL "; "
		    "SELECT value FROM meta WHERE name = 'event.head'")) {
			watch_down(w, "LISTEN");
			return -1;
		}
		w->state = W_LISTENING;
	}
	/* W_LISTENING or W_UP: what the server sent. */
	if (!PQconsumeInput(w->c)) {
		watch_down(w, "read");
		return -1;
	}
	while (w->state == W_LISTENING && !PQisBusy(w->c)) {
		if ((r = PQgetResult(w->c)) == NULL) {
			w->state = W_UP;
			break;
		}
		if (PQresultStatus(r) == PGRES_TUPLES_OK) {
			if (PQntuples(r) == 1 &&
			    (h = watch_num(PQgetvalue(r, 0, 0))) > *head)
				*head = h;
		} else if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			PQclear(r);
			watch_down(w, "LISTEN");
			return -1;
		}
		PQclear(r);
	}
	while ((n = PQnotifies(w->c)) != NULL) {
		if ((h = watch_num(n->extra)) > *head)
			*head = h;
		PQfreemem(n);
	}
	*want = STORE_WATCH_READ;
	switch (PQflush(w->c)) {
	case 0:
		break;
	case 1:
		*want |= STORE_WATCH_WRITE;
		break;
	default:
		watch_down(w, "write");
		*want = 0;
		return -1;
	}
	return PQsocket(w->c);
}

static int
pg_watch_timeout(const struct store_watch *base)
{
	const struct pg_watch *w = (const struct pg_watch *)base;
	int64_t left;

	if (w->state != W_CONNECTING && w->state != W_LISTENING)
		return -1;
	left = w->deadline_ms - mono_ms();
	return left <= 0 ? 0 : (int)left;
}

static bool
pg_watch_up(const struct store_watch *base)
{
	return ((const struct pg_watch *)base)->state == W_UP;
}

static void
pg_watch_free(struct store_watch *base)
{
	struct pg_watch *w = (struct pg_watch *)base;

	if (w->c != NULL)
		PQfinish(w->c);
	free(w->conninfo);
	free(w);
}

const struct store_ops store_pg = {
	.name = "postgresql",
	.blocking = true,
	.shown = pg_shown,
	.store_size = sizeof(struct pg_store),
	.stx_size = sizeof(struct pg_stx),
	.open = pg_open,
	.close = pg_close,
	.grow = pg_grow,
	.map_size = pg_map_size,
	.set_map_max = pg_set_map_max,
	.room = pg_room,
	.begin = pg_begin,
	.commit = pg_commit,
	.wait_fd = NULL,
	.durable = pg_durable,
	.wait = pg_wait,
	.inflight = pg_inflight,
	.abort = pg_abort,
	.writes = pg_writes,
	.next_id = pg_next_id,
	.event_next = pg_event_next,
	.begin_keyed = pg_begin_keyed,
	.get_vclock = pg_get_vclock,
	.set_vclock = pg_set_vclock,
	.counts = pg_counts,
	.inv_get = pg_inv_get,
	.inv_put = pg_inv_put,
	.scan_box = pg_scan_box,
	.scan_history = pg_scan_history,
	.pair_get = pg_pair_get,
	.pair_put = pg_pair_put,
	.conn_get = pg_conn_get,
	.conn_put = pg_conn_put,
	.conn_del = pg_conn_del,
	.scan_conns = pg_scan_conns,
	.scan_mutual = pg_scan_mutual,
	.scan_flags = pg_scan_flags,
	.inv_del = pg_inv_del,
	.pair_del = pg_pair_del,
	.log_del = pg_log_del,
	.plan_del = pg_plan_del,
	.intro_del = pg_intro_del,
	.event_redact = pg_event_redact,
	.member_del = pg_member_del,
	.scan_intros_to = pg_scan_intros_to,
	.scan_events_naming = pg_scan_events_naming,
	.log_add = pg_log_add,
	.log_count = pg_log_count,
	.log_scan_back = pg_log_scan_back,
	.import_id_get = pg_import_id_get,
	.import_id_put = pg_import_id_put,
	.flag_get = pg_flag_get,
	.flag_set = pg_flag_set,
	.member_get = pg_member_get,
	.member_put = pg_member_put,
	.plan_get = pg_plan_get,
	.plan_put = pg_plan_put,
	.request_get = pg_request_get,
	.request_put = pg_request_put,
	.request_prune = pg_request_prune,
	.scan_plans = pg_scan_plans,
	.plan_index = pg_plan_index,
	.intro_get = pg_intro_get,
	.intro_put = pg_intro_put,
	.scan_intros = pg_scan_intros,
	.event_add = pg_event_add,
	.event_head = pg_event_head,
	.event_pruned = pg_event_pruned,
	.event_scan = pg_event_scan,
	.event_unnotify = pg_event_unnotify,
	.event_prune = pg_event_prune,
	.due_add = pg_due_add,
	.due_del = pg_due_del,
	.due_first = pg_due_first,
	.due_claim = pg_due_claim,
	.db_clock = pg_db_clock,
	.flush = pg_flush,
	.hint_send = pg_hint_send,
	.mutual_count = pg_mutual_count,
	.scan_invitations = pg_scan_invitations,
	.scan_pairs = pg_scan_pairs,
	.scan_dues = pg_scan_dues,
	.export = pg_export,
	.import = pg_import,
	.check = pg_check,
	.watch_new = pg_watch_new,
	.watch_step = pg_watch_step,
	.watch_up = pg_watch_up,
	.watch_timeout = pg_watch_timeout,
	.watch_free = pg_watch_free,
};
