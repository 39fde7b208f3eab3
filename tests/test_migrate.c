/* A store of schema 1 (one LMDB database per table, before the member
 * rows: daemon/store-lmdb.c's header) migrated in place at open.
 *
 * The old store is made as schema 1's connreqd left it: a workload run by
 * connreqd (sends with notes, an accept, an ignore, a withdrawal, a block,
 * a report, a clean-up plan, events pruned), then its rows moved back,
 * with the raw LMDB API, into the databases and keys of schema 1 (the
 * table below, from the record format schema 1 documented), schema 1
 * written, the log given the result as its checkpoint and two commits
 * appended to it in schema 1's layout (its records name the databases by
 * their index in schema 1's list). Opened by this code:
 *
 * - the log is replayed in the old layout (its rows are there: a block,
 *   a member record; a row it put and then deleted is not), every record
 *   exported through the store interface is the one exported before, the
 *   boxes scan, `connreqd --check` is clean, the old databases are gone
 *   and the schema is 2; the progress hook (store_set_progress) is told
 *   each phase; connreqd logs the migration;
 * - a store with 200,000 more rows, which do not fit twice in its map:
 *   with a map_max too small for both layouts, connreqd refuses to start,
 *   saying how much room it needs, and the store stays of schema 1; then
 *   the migration grows the map, starts again, and every row is there,
 *   systemd (a NOTIFY_SOCKET here) told EXTEND_TIMEOUT_USEC at 100,000
 *   rows, before READY=1; with 80,000 more rows in its log, the replay
 *   grows the map too;
 * - a power cut at any sync point of connreqd's migration
 *   (tests/faults/powercut.h, on a copy of the old store as the base),
 *   with none, all or some of the unsynced writes kept, leaves a store
 *   that opens with the same records, and `--check` clean; so does one
 *   at each sync point of the replay that grew the map. */
#include "harness.h"
#include "faults/faults.h"
#include "faults/powercut.h"

#include <lmdb.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "../common/be.h"
#include "../daemon/store.h"
#include "../daemon/wal.h"


/* Schema 1: each database, by its index in schema 1's list, and the kind
 * byte its rows carry in the member rows (0: a database of its own in both
 * schemas). */
static const struct {
	const char *name;
	int kind;
} old_dbs[] = {
	{ "meta", 0 }, { "invitations", 0 }, { "sent", 3 },
	{ "received", 4 }, { "history", 5 }, { "pairs", 2 },
	{ "connections", 6 }, { "deadlines", 0 }, { "events", 0 },
	{ "member_events", 7 }, { "member_pruned", 8 }, { "log_sends", 12 },
	{ "log_withdrawals", 13 }, { "log_decisions", 14 },
	{ "log_reports", 15 }, { "log_notes", 16 }, { "blocks", 9 },
	{ "nogo", 10 }, { "members", 1 }, { "plans", 0 },
	{ "member_plans", 11 }
};
#define NOLD (sizeof old_dbs / sizeof old_dbs[0])
enum { I_META = 0, I_BLOCKS = 16, I_NOGO = 17, I_MEMBERS = 18 };
#define NJUNK 200000	/* rows that make a store outgrow its map */
#define NLOGJUNK 80000	/* rows in the log that make its replay outgrow it */

static struct cr_client *c;
static struct cr_reply r;
static size_t zed_logs;		/* the export's log entries of zed... */

/* What the store's progress hook was told (store_set_progress). */
static struct {
	int calls;
	char first[128], last[128];
} prog;

static void
on_progress(void *ctx, const char *status)
{
	(void)ctx;
	if (prog.calls++ == 0)
		snprintf(prog.first, sizeof prog.first, "%s", status);
	snprintf(prog.last, sizeof prog.last, "%s", status);
}

/* A NOTIFY_SOCKET at path, as systemd's: its fd, set in the environment. */
static int
notify_open(const char *path)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sa.sun_path)
		bail_out("notify socket path too long: %s", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	unlink(path);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sa, sizeof sa) == -1)
		bail_out("notify socket %s: %s", path, strerror(errno));
	setenv("NOTIFY_SOCKET", path, 1);
	return fd;
}

/* The datagrams sent to it so far, joined by '|', into buf. */
static void
notify_read(int fd, char *buf, size_t len)
{
	char d[512];
	ssize_t n;
	size_t at = 0;

	buf[0] = '\0';
	while ((n = recv(fd, d, sizeof d - 1, MSG_DONTWAIT)) > 0 &&
	    at + (size_t)n + 2 < len) {
		memcpy(buf + at, d, (size_t)n);
		at += (size_t)n;
		buf[at++] = '|';
		buf[at] = '\0';
	}
}

static void
must(int rc, const char *what)
{
	if (rc != 0)
		bail_out("%s: %s", what, r.message);
}

/* The workload: every kind of member row. */
static void
workload(struct dproc *p)
{
	uint64_t a, b, d, e;
	int i;

	dproc_config(p, "[events]\nretention = 1h\n");
	if (dproc_start(p, T0, NULL) != 0)
		bail_out("connreqd did not start");
	c = dconnect(p);
	cr_reply_free(&r);
	must(call(c, &r, "invite.send", "from:s to:s note:s", "alice", "bob",
	    "hello there"), "send");
	a = (uint64_t)rnum(&r, "invitation.id");
	cr_reply_free(&r);
	must(call(c, &r, "invite.send", "from:s to:s note:s", "alice", "carol",
	    "hello there"), "send");
	b = (uint64_t)rnum(&r, "invitation.id");
	if ((d = send_inv(c, &r, "dave", "alice")) == 0 ||
	    (e = send_inv(c, &r, "erin", "bob")) == 0)
		bail_out("send: %s", r.message);
	cr_reply_free(&r);
	must(call(c, &r, "invite.accept", "actor:s id:u", "bob", a), "accept");
	cr_reply_free(&r);
	must(call(c, &r, "invite.withdraw", "actor:s id:u", "alice", b),
	    "withdraw");
	cr_reply_free(&r);
	must(call(c, &r, "invite.ignore", "actor:s id:u", "alice", d), "ignore");
	cr_reply_free(&r);
	must(call(c, &r, "invite.report", "actor:s id:u reason:s", "bob", e,
	    "dont_know"), "report");
	cr_reply_free(&r);
	must(call(c, &r, "member.block", "actor:s other:s", "carol", "dave"),
	    "block");
	for (i = 0; i < 3; i++) {
		char to[16];

		snprintf(to, sizeof to, "fred%d", i);
		if (send_inv(c, &r, "gina", to) == 0)
			bail_out("send: %s", r.message);
	}
	cr_reply_free(&r);
	must(call(c, &r, "plan.withdraw_stale",
	    "member:s older_than:u per_day:u max_priority:s", "gina",
	    (uint64_t)0, (uint64_t)1, "high"), "plan.withdraw_stale");
	if (advance(c, &r, 7200) < 0)
		bail_out("clock.advance: %s", r.message);
	/* After the prune: notifications still told. */
	if (send_inv(c, &r, "hal", "alice") == 0 ||
	    send_inv(c, &r, "ivy", "bob") == 0)
		bail_out("send: %s", r.message);
	cr_reply_free(&r);
	cr_close(c);
	c = NULL;
	if (dproc_stop(p, SIGTERM) != 0)
		bail_out("connreqd did not stop cleanly");
}

struct lines {
	char **l;
	size_t n, cap;
};

static bool
export_one(void *ctx, const struct store_rec *rec)
{
	struct lines *ls = ctx;
	char *s = store_rec_show(rec);

	/* The rows the old log adds are checked apart. */
	if (strstr(s, "zed") != NULL) {
		zed_logs += strncmp(s, "log entries", 11) == 0;
		free(s);
		return true;
	}
	if (ls->n == ls->cap) {
		ls->cap = ls->cap ? 2 * ls->cap : 256;
		ls->l = realloc(ls->l, ls->cap * sizeof *ls->l);
	}
	ls->l[ls->n++] = s;
	return true;
}

static void
lines_free(struct lines *ls)
{
	size_t i;

	for (i = 0; i < ls->n; i++)
		free(ls->l[i]);
	free(ls->l);
	memset(ls, 0, sizeof *ls);
}

static size_t
lines_with(const struct lines *ls, const char *what)
{
	size_t i, n = 0;

	for (i = 0; i < ls->n; i++)
		n += strstr(ls->l[i], what) != NULL;
	return n;
}

/* The first line that differs, or -1 when they are the same. */
static long
lines_diff(const struct lines *x, const struct lines *y)
{
	size_t i;

	for (i = 0; i < x->n && i < y->n; i++)
		if (strcmp(x->l[i], y->l[i]) != 0)
			return (long)i;
	return x->n == y->n ? -1 : (long)i;
}

static bool
count_id(void *ctx, uint64_t id)
{
	(void)id;
	++*(int *)ctx;
	return true;
}

/* What the store at dir holds, through the store interface: its export,
 * and the rows the old log wrote (*zed: 1 when the block and zed's member
 * record are there and the row put and deleted again is not), alice's
 * boxes counted. -1 when it does not open. */
static int
read_store(const char *dir, struct lines *out, int *zed, int *boxes)
{
	char why[512];
	struct store *s = store_open(dir, 1ULL << 30, why, sizeof why);
	struct member_rec m;
	struct stx *t;

	if (s == NULL) {
		diag("store_open %s: %s", dir, why);
		return -1;
	}
	t = store_begin_read(s);
	store_export(t, export_one, out);
	memset(&m, 0, sizeof m);
	store_member_get(t, "zed", 3, &m);
	*zed = store_flag_get(t, FLAG_BLOCK, "zed", 3, "amy", 3) &&
	    !store_flag_get(t, FLAG_NOGO, "zed", 3, "amy", 3) &&
	    m.email_len == 15 && memcmp(m.email, "zed@example.org", 15) == 0;
	*boxes = 0;
	store_scan_box(t, BOX_SENT, "alice", 5, 0, count_id, boxes);
	store_scan_box(t, BOX_RECEIVED, "alice", 5, 0, count_id, boxes);
	store_abort(t);
	store_close(s);
	return 0;
}

static int
run(const char *cmd)
{
	fflush(stdout);
	return system(cmd);
}

/* A schema 1 record of the log: op, database index, key, value. */
static size_t
rec_put(unsigned char *p, int op, int idx, const void *k, size_t klen,
    const void *v, size_t vlen)
{
	unsigned char *q = p;

	*q++ = (unsigned char)op;
	*q++ = (unsigned char)idx;
	be_put(q, klen, 2);
	q += 2;
	if (op == 1) {
		be_put(q, vlen, 4);
		q += 4;
	}
	memcpy(q, k, klen);
	q += klen;
	if (op == 1) {
		memcpy(q, v, vlen);
		q += vlen;
	}
	return (size_t)(q - p);
}

/* Moves the store at dir (stopped, its log empty) back to schema 1, with
 * njunk more rows in log_withdrawals (zed000000, ...), and gives its log
 * two commits in schema 1's layout. 0 or -1. */
/* The log of the store in dir made to begin at data.mdb as it is (written
 * here behind its back, synced): its meta pages as the log's checkpoint
 * (what wal.h's snapshot holds for LMDB: the page size, then 512 bytes of
 * pages 0 and 1). Returns the log, open, or NULL. */
static struct wal *
checkpoint_here(const char *dir, size_t psize)
{
	unsigned char snap[4 + 1024];
	char path[1000], why[256];
	struct wal *w;
	int fd;

	snprintf(path, sizeof path, "%s/data.mdb", dir);
	if ((fd = open(path, O_RDONLY)) == -1)
		return NULL;
	be_put(snap, psize, 4);
	if (pread(fd, snap + 4, 512, 0) != 512 ||
	    pread(fd, snap + 4 + 512, 512, (off_t)psize) != 512) {
		close(fd);
		return NULL;
	}
	close(fd);
	if ((w = wal_open(dir, why, sizeof why)) == NULL) {
		diag("wal_open: %s", why);
		return NULL;
	}
	if (wal_checkpoint(w, snap, sizeof snap) != 0) {
		wal_close(w);
		return NULL;
	}
	return w;
}

static int
downgrade(const char *dir, size_t njunk)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi rows, dbi[NOLD];
	MDB_cursor *cur;
	MDB_val k, v, ok_, ov;
	MDB_stat st;
	unsigned char nk[600], rec[512], mv[64];
	size_t i, m, n, len;
	struct wal *w;
	char path[1000];
	int rc = 0;

	if (mdb_env_create(&env) != 0)
		return -1;
	mdb_env_set_maxdbs(env, 32);
	mdb_env_set_mapsize(env, 256ULL << 20);
	if (mdb_env_open(env, dir, 0, 0600) != 0 ||
	    mdb_txn_begin(env, NULL, 0, &txn) != 0 ||
	    mdb_dbi_open(txn, "member_rows", 0, &rows) != 0) {
		mdb_env_close(env);
		return -1;
	}
	for (i = 0; i < NOLD; i++)
		rc |= mdb_dbi_open(txn, old_dbs[i].name, MDB_CREATE, &dbi[i]);
	rc |= mdb_cursor_open(txn, rows, &cur);
	for (n = 0; rc == 0 && mdb_cursor_get(cur, &k, &v,
	    n++ ? MDB_NEXT : MDB_FIRST) == 0; ) {
		const unsigned char *p = k.mv_data;

		for (m = 0; m < k.mv_size && p[m] != 0; m++)
			;
		for (i = 0; i < NOLD && (m + 1 >= k.mv_size ||
		    old_dbs[i].kind != p[m + 1]); i++)
			;
		if (i == NOLD || k.mv_size > sizeof nk) {
			rc = -1;
			break;
		}
		memcpy(nk, p, m + 1);
		memcpy(nk + m + 1, p + m + 2, k.mv_size - m - 2);
		ok_.mv_data = nk;
		ok_.mv_size = k.mv_size - 1;
		ov = v;
		rc |= mdb_put(txn, dbi[i], &ok_, &ov, 0);
	}
	mdb_cursor_close(cur);
	for (i = 0; rc == 0 && i < njunk; i++) {
		m = (size_t)snprintf((char *)nk, sizeof nk, "zed%06zu", i) + 1;
		be_put(nk + m, (uint64_t)T0, 8);
		be_put(nk + m + 8, i + 1, 8);
		ok_.mv_data = nk;
		ok_.mv_size = m + 16;
		ov.mv_data = "";
		ov.mv_size = 1;
		rc |= mdb_put(txn, dbi[13], &ok_, &ov, 0);
	}
	k.mv_data = "schema";
	k.mv_size = 7;
	v.mv_data = "\0\0\0\1";
	v.mv_size = 4;
	rc |= mdb_put(txn, dbi[I_META], &k, &v, 0);
	rc |= mdb_drop(txn, rows, 1);
	/* Compacted into a file of its own: no free pages that still hold
	 * rows of schema 2, so that a migration's page lost to a power cut
	 * reads as lost (the last test). */
	snprintf(path, sizeof path, "%s/compact", dir);
	if (rc != 0 || mdb_txn_commit(txn) != 0 || mdb_env_sync(env, 1) != 0 ||
	    mdb_env_stat(env, &st) != 0 || mkdir(path, 0700) != 0 ||
	    mdb_env_copy2(env, path, MDB_CP_COMPACT) != 0) {
		mdb_env_close(env);
		return -1;
	}
	mdb_env_close(env);
	snprintf(path, sizeof path, "mv '%s/compact/data.mdb' '%s/data.mdb' && "
	    "rm -rf '%s/compact'", dir, dir, dir);
	if (run(path) != 0)
		return -1;
	if ((w = checkpoint_here(dir, st.ms_psize)) == NULL)
		return -1;
	rc = 0;
	/* Commit 1: zed blocks amy, zed's member record, a nogo row;
	 * commit 2: the nogo row deleted. */
	memset(mv, 0, sizeof mv);
	mv[1] = 15;
	memcpy(mv + 26, "zed@example.org", 15);
	len = rec_put(rec, 1, I_BLOCKS, "zed\0amy", 8, "", 0);
	len += rec_put(rec + len, 1, I_MEMBERS, "zed", 4, mv, 26 + 15);
	len += rec_put(rec + len, 1, I_NOGO, "zed\0amy", 8, "", 0);
	rc |= wal_append(w, rec, len);
	len = rec_put(rec, 2, I_NOGO, "zed\0amy", 8, NULL, 0);
	rc |= wal_append(w, rec, len);
	rc |= wal_sync(w);
	wal_close(w);
	return rc == 0 ? 0 : -1;
}

static int
rec_skip(void *ctx, const unsigned char *p, size_t n)
{
	(void)ctx;
	(void)p;
	(void)n;
	return 0;
}

/* Appends to the log of the store at dir (of schema 1) n more log rows
 * (zzz000000, ... in log_decisions), in commits of 1000: 0 or -1. */
static int
log_junk(const char *dir, size_t n)
{
	unsigned char *rec = malloc(1000 * 64), key[32];
	struct wal *w;
	char why[256];
	size_t i, len = 0, m;
	uint64_t had;
	int rc = 0;

	if (rec == NULL || (w = wal_open(dir, why, sizeof why)) == NULL) {
		free(rec);
		return -1;
	}
	/* After the records it has. */
	if (wal_replay(w, rec_skip, NULL, &had) != 0)
		rc = -1;
	for (i = 0; rc == 0 && i < n; i++) {
		m = (size_t)snprintf((char *)key, sizeof key, "zzz%06zu", i) + 1;
		be_put(key + m, (uint64_t)T0, 8);
		be_put(key + m + 8, i + 1, 8);
		len += rec_put(rec + len, 1, 13, key, m + 16, "", 1);
		if ((i + 1) % 1000 == 0 || i + 1 == n) {
			rc = wal_append(w, rec, len) == 0 ? 0 : -1;
			len = 0;
		}
	}
	if (rc == 0)
		rc = wal_sync(w);
	wal_close(w);
	free(rec);
	return rc == 0 ? 0 : -1;
}

/* Whether the LMDB store at dir has database name, and its schema. */
static int
raw_layout(const char *dir, const char *name, unsigned *schema)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = { 7, "schema" }, v;
	int has = -1;

	*schema = 0;
	if (mdb_env_create(&env) != 0)
		return -1;
	mdb_env_set_maxdbs(env, 32);
	if (mdb_env_open(env, dir, MDB_RDONLY, 0600) == 0 &&
	    mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) == 0) {
		has = mdb_dbi_open(txn, name, 0, &dbi) == 0;
		if (mdb_dbi_open(txn, "meta", 0, &dbi) == 0 &&
		    mdb_get(txn, dbi, &k, &v) == 0 && v.mv_size == 4)
			*schema = (unsigned)be_get(v.mv_data, 4);
		mdb_txn_abort(txn);
	}
	mdb_env_close(env);
	return has;
}

static void
copy_store(const char *from, const char *to)
{
	char cmd[800];

	snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s' && "
	    "cp -a '%s'/. '%s'/", to, to, from, to);
	if (run(cmd) != 0)
		bail_out("%s failed", cmd);
}

/* The images of a power cut at each sync point of the journal j of a
 * connreqd started on base, until the first sync of data.mdb after
 * `after` of them (0: all), with none, all or some of the unsynced writes
 * kept (only: mode `only`, or -1), read into img: each must open with
 * the records of want (and `more` rows "zzz..."), and --check clean (of
 * mode `check`, or -1). Counts what it did into the rest. */
static void
cut_images(const struct journal *j, const char *base, const char *img,
    const struct lines *want, int want_boxes, size_t more, int after,
    int only, int check, size_t *nsync, int *images, int *as_old,
    int *checks, int *bad)
{
	struct lines got = { 0 };
	unsigned schema;
	int zed, boxes, mode, mdb = 0;
	size_t i;

	for (i = 0; i < j->n; i++) {
		if (!journal_is_sync(&j->ev[i]))
			continue;
		if (after > 0 && j->ev[i].type == JR_SYNC &&
		    strcmp(j->names[j->ev[i].file], "data.mdb") == 0 &&
		    ++mdb > after)
			break;
		++*nsync;
		for (mode = PC_NONE; mode <= PC_ALL; mode++) {
			if (only >= 0 && mode != only)
				continue;
			copy_store(base, img);
			if (powercut_image_on(j, i + 1, mode, i, (size_t)-1,
			    base, img) < 0)
				bail_out("cannot write the image");
			++*images;
			raw_layout(img, "meta", &schema);
			if (schema == 1)
				++*as_old;
			zed_logs = 0;
			if (read_store(img, &got, &zed, &boxes) != 0 ||
			    got.n != want->n + more ||
			    lines_with(&got, "zzz") != more || zed != 1 ||
			    boxes != want_boxes ||
			    (more == 0 && lines_diff(want, &got) != -1)) {
				diag("cut after record %zu (mode %d): %zu records, zed %d, boxes %d",
				    i, mode, got.n, zed, boxes);
				++*bad;
			}
			lines_free(&got);
			if (check < 0 || mode == check) {
				++*checks;
				if (faults_check_store(img) != 0) {
					diag("cut after record %zu (mode %d): --check not clean",
					    i, mode);
					++*bad;
				}
			}
		}
	}
}

/* A store of schema 2 (records of invitation version 1, members without
 * settings) opens as schema 4 (STORE_SCHEMA) with its records as they
 * were: the databases schemas 3 and 4 added are created. */
static void
test_schema2(const char *dir)
{
	char why[256];
	struct store *s;
	struct stx *t;
	struct inv got;
	struct member_rec m;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi meta, inv, rows;
	MDB_val k, v;
	unsigned char ik[8], iv[68 + 5], mk[5], mv[26 + 3];
	MDB_stat st;
	struct wal *w;
	unsigned schema;
	int rc = 0;

	if ((s = store_open(dir, 1ULL << 30, why, sizeof why)) == NULL)
		bail_out("store_open: %s", why);
	store_close(s);
	memset(iv, 0, sizeof iv);
	iv[0] = 1;		/* version 1 */
	iv[3] = 3;		/* from_len */
	iv[4] = 2;		/* to_len */
	iv[5] = 1;		/* ignored */
	be_put(iv + 8, 1, 4);	/* attempt */
	be_put(iv + 12, 9, 8);	/* id */
	be_put(iv + 20, (uint64_t)T0, 8);
	be_put(iv + 28, (uint64_t)T0, 8);
	be_put(iv + 36, (uint64_t)T0 + 1000, 8);
	memcpy(iv + 68, "annbo", 5);
	be_put(ik, 9, 8);
	memcpy(mk, "ann\0\1", 5);
	memset(mv, 0, sizeof mv);
	mv[0] = 1;
	mv[1] = 3;
	be_put(mv + 10, 1, 8);	/* open_sent */
	memcpy(mv + 26, "a@x", 3);
	if (mdb_env_create(&env) != 0)
		bail_out("mdb_env_create");
	mdb_env_set_maxdbs(env, 32);
	rc |= mdb_env_open(env, dir, 0, 0600);
	rc |= mdb_txn_begin(env, NULL, 0, &txn);
	rc |= mdb_dbi_open(txn, "meta", 0, &meta);
	rc |= mdb_dbi_open(txn, "invitations", 0, &inv);
	rc |= mdb_dbi_open(txn, "member_rows", 0, &rows);
	k = (MDB_val){ 7, "schema" };
	v = (MDB_val){ 4, "\0\0\0\2" };
	rc |= mdb_put(txn, meta, &k, &v, 0);
	k = (MDB_val){ sizeof ik, ik };
	v = (MDB_val){ sizeof iv, iv };
	rc |= mdb_put(txn, inv, &k, &v, 0);
	k = (MDB_val){ sizeof mk, mk };
	v = (MDB_val){ sizeof mv, mv };
	rc |= mdb_put(txn, rows, &k, &v, 0);
	rc |= mdb_txn_commit(txn);
	rc |= mdb_env_sync(env, 1);
	rc |= mdb_env_stat(env, &st);
	mdb_env_close(env);
	if (rc != 0 || (w = checkpoint_here(dir, st.ms_psize)) == NULL)
		bail_out("cannot write a store of schema 2");
	wal_close(w);
	s = store_open(dir, 1ULL << 30, why, sizeof why);
	ok(s != NULL, "a store of schema 2 opens%s%s", s ? "" : ": ", s ? "" :
	    why);
	if (s == NULL)
		return;
	t = store_begin_read(s);
	ok(store_inv_get(t, 9, &got) == STORE_OK && got.ignored &&
	    !got.held && !got.automatic && got.remind_at == 0 &&
	    got.via_len == 0 && strcmp(got.from, "ann") == 0 &&
	    strcmp(got.to, "bo") == 0 && got.expires_at == T0 + 1000,
	    "its invitation of record version 1 reads as it was");
	store_member_get(t, "ann", 3, &m);
	ok(m.invitations_from == 1 && strcmp(m.email, "a@x") == 0 &&
	    m.open_sent == 1 && m.first_seen_at == 1 && m.own == 0,
	    "its member record without settings: first seen long ago (1)");
	store_abort(t);
	store_close(s);
	ok(raw_layout(dir, "member_rows", &schema) == 1 && schema == STORE_SCHEMA,
	    "its schema is 4 now");
}

int
main(void)
{
	struct dproc p, q;
	struct lines want = { 0 }, got = { 0 };
	char old[300], one[300], img[300], journal[300], big[300];
	struct journal j;
	unsigned schema;
	int zed, boxes, want_boxes, bad = 0, images = 0, checks = 0;
	int as_old = 0, wrong = 0, caught = 0;
	int san = faults_asan();
	size_t i, nsync = 0;
	long diff;

	dproc_init(&p);
	workload(&p);
	if (read_store(p.store, &want, &zed, &want_boxes) != 0)
		bail_out("cannot read the store the workload made");
	ok(lines_with(&want, "pruned marks") > 0 &&
	    lines_with(&want, "plan index entries") > 0 &&
	    lines_with(&want, "connections") > 0 &&
	    lines_with(&want, "flags") >= 2 &&
	    lines_with(&want, "log entries") >= 5 &&
	    lines_with(&want, "member records") > 0 && want_boxes == 4,
	    "the workload wrote %zu records, of every kind of member row (alice's boxes: %d)",
	    want.n, want_boxes);
	snprintf(big, sizeof big, "%s/big", p.dir);
	copy_store(p.store, big);
	if (!ok(downgrade(p.store, 0) == 0, "the store moved back to schema 1, "
	    "two commits in schema 1's layout in its log"))
		bail_out("no store of schema 1");
	ok(raw_layout(p.store, "sent", &schema) == 1 && schema == 1 &&
	    raw_layout(p.store, "member_rows", &schema) == 0,
	    "it has schema 1's databases (sent), not member_rows");
	snprintf(old, sizeof old, "%s/old", p.dir);
	copy_store(p.store, old);

	/* Opened by this code. */
	snprintf(one, sizeof one, "%s/one", p.dir);
	copy_store(old, one);
	store_set_progress(on_progress, NULL);
	ok(read_store(one, &got, &zed, &boxes) == 0, "a store of schema 1 opens");
	store_set_progress(NULL, NULL);
	ok(prog.calls >= 4 &&
	    strcmp(prog.first, "migrating the store to schema 4: 0 rows") == 0 &&
	    strncmp(prog.last, "migrated the store to schema 4: ", 32) == 0,
	    "the progress hook was told, %d times, from \"%s\" to \"%s\"",
	    prog.calls, prog.first, prog.last);
	diff = lines_diff(&want, &got);
	ok(diff == -1, "every record reads back the same (%zu records)%s%s",
	    got.n, diff == -1 ? "" : "; first difference: ",
	    diff == -1 ? "" : (size_t)diff < got.n ? got.l[diff] : "(none)");
	ok(zed == 1, "its log was replayed in schema 1's layout: a block and a "
	    "member record there, a row put and deleted again not");
	is_int(boxes, want_boxes, "alice's sent and received boxes scan");
	ok(raw_layout(one, "member_rows", &schema) == 1 && schema == STORE_SCHEMA &&
	    raw_layout(one, "sent", &schema) == 0 &&
	    raw_layout(one, "members", &schema) == 0,
	    "it is schema 4: member_rows, and schema 1's databases gone");
	is_int(faults_check_store(one), 0, "connreqd --check: clean");
	lines_free(&got);
	ok(read_store(one, &got, &zed, &boxes) == 0 &&
	    lines_diff(&want, &got) == -1 && zed == 1,
	    "opened again, the same");
	lines_free(&got);

	/* --check of a store of schema 1 replays and migrates it first. */
	copy_store(old, one);
	is_int(faults_check_store(one), 0,
	    "connreqd --check of a store of schema 1: clean");

	/* connreqd says so. */
	dproc_init(&q);
	copy_store(old, q.store);
	ok(dproc_start(&q, T0 + 7200, NULL) == 0 &&
	    dproc_logged(&q, "store: migrated schema 1 to 4: "),
	    "connreqd migrates it at start and logs it");
	dproc_stop(&q, SIGTERM);

	/* A store whose rows do not fit twice in its map: the migration grows
	 * it and starts again. */
	if (downgrade(big, NJUNK) != 0)
		bail_out("no large store of schema 1");
	/* A map_max above the store but below twice it: refused, saying what
	 * it needs, the store left of schema 1. */
	{
		char path[400], arg[32], want_msg[128];
		const char *extra[] = { "--map-size-max", arg, NULL };
		struct stat st;
		unsigned long long mib;

		snprintf(path, sizeof path, "%s/data.mdb", big);
		if (stat(path, &st) != 0)
			bail_out("stat %s: %s", path, strerror(errno));
		mib = ((unsigned long long)st.st_size >> 20) * 5 / 4 + 1;
		snprintf(arg, sizeof arg, "%lluM", mib);
		snprintf(want_msg, sizeof want_msg,
		    "needs room for both layouts at once, about ");
		copy_store(big, q.store);
		ok(dproc_refused(&q, T0 + 7200, extra) != 0 &&
		    dproc_logged(&q, want_msg) &&
		    dproc_logged(&q, "(twice the store's pages); --map-size-max is ") &&
		    raw_layout(q.store, "sent", &schema) == 1 && schema == 1 &&
		    raw_layout(q.store, "member_rows", &schema) == 0,
		    "a store of %llu MiB with --map-size-max %s: refused, "
		    "naming the room it needs; the store still of schema 1",
		    (unsigned long long)st.st_size >> 20, arg);
		if (!dproc_logged(&q, want_msg))
			dproc_show_log(&q);
	}
	{
		char path[400], got_n[8192], *ext, *ready;
		int nfd;

		snprintf(path, sizeof path, "%s/notify.sock", q.dir);
		nfd = notify_open(path);
		ok(dproc_start(&q, T0 + 7200, NULL) == 0 &&
		    dproc_logged(&q, "store: migrating: the map grown to") &&
		    dproc_logged(&q, "store: migrated schema 1 to 4: "),
		    "a store of %d more rows: the migration grows the map and is made",
		    NJUNK);
		unsetenv("NOTIFY_SOCKET");
		notify_read(nfd, got_n, sizeof got_n);
		close(nfd);
		ext = strstr(got_n, "EXTEND_TIMEOUT_USEC=60000000\n"
		    "STATUS=migrating the store to schema 4: 100000 rows|");
		ready = strstr(got_n, "READY=1");
		ok(ext != NULL && ready != NULL && ext < ready,
		    "systemd told to wait a minute more as the migration goes, "
		    "before READY=1");
		if (ext == NULL || ready == NULL)
			diag("notify: %s", got_n);
	}
	dproc_stop(&q, SIGTERM);
	zed_logs = 0;
	i = read_store(q.store, &got, &zed, &boxes) == 0 &&
	    lines_diff(&want, &got) == -1 && zed == 1 && boxes == want_boxes;
	ok(i && zed_logs == NJUNK,
	    "every record there (%zu log entries of the %d)", zed_logs, NJUNK);
	lines_free(&got);
	is_int(faults_check_store(q.store), 0, "connreqd --check: clean");

	/* Its log too large for the map as well: the replay grows it (the
	 * pin dropped and taken again) and starts again, then the migration. */
	copy_store(big, q.store);
	if (log_junk(q.store, NLOGJUNK) != 0)
		bail_out("cannot append to the log");
	ok(dproc_start(&q, T0 + 7200, NULL) == 0 &&
	    dproc_logged(&q, "store: recovery: the map grown to") &&
	    dproc_logged(&q, "store: migrated schema 1 to 4: "),
	    "and %d more rows in its log: the replay grows the map, and the migration is made",
	    NLOGJUNK);
	dproc_stop(&q, SIGTERM);
	zed_logs = 0;
	i = read_store(q.store, &got, &zed, &boxes) == 0 && zed == 1 &&
	    boxes == want_boxes;
	ok(i && zed_logs == NJUNK && lines_with(&got, "zzz") == NLOGJUNK &&
	    got.n == want.n + NLOGJUNK,
	    "every record there (%zu of the log's rows)", lines_with(&got, "zzz"));
	lines_free(&got);
	is_int(faults_check_store(q.store), 0, "connreqd --check: clean");

	/* A power cut anywhere in the migration. */
	snprintf(journal, sizeof journal, "%s/journal", q.dir);
	copy_store(old, q.store);
	faults_env(&q, journal, NULL, NULL);
	if (dproc_start(&q, T0 + 7200, NULL) != 0)
		bail_out("connreqd did not start under the journal");
	dproc_stop(&q, SIGKILL);
	faults_env_clear();
	if (!ok(journal_load(&j, journal) == 0, "the migration's journal reads back"))
		bail_out("no journal");
	snprintf(img, sizeof img, "%s/img", q.dir);
	/* Under ASan, --check at the cuts of one mode. */
	cut_images(&j, old, img, &want, want_boxes, 0, 0, -1,
	    san ? PC_RANDOM : -1, &nsync, &images, &as_old, &checks, &bad);
	ok(nsync >= 3 && bad == 0 && as_old > 0 && as_old < images,
	    "a power cut at each of the migration's %zu sync points (%d images: none, some, all of the later writes; %d still of schema 1): the store opens with every record, --check clean (%d runs)",
	    nsync, images, as_old, checks);
	/* The checks can fail: the image of a sync of data.mdb that did not
	 * happen, all else synced. */
	for (i = 0; i < j.n; i++) {
		if (j.ev[i].type != JR_SYNC ||
		    strcmp(j.names[j.ev[i].file], "data.mdb") != 0)
			continue;
		copy_store(old, img);
		if (powercut_image_on(&j, j.n, PC_NONE, 0, i, old, img) < 0)
			bail_out("cannot write the image");
		if (faults_check_store(img) != 0)
			caught++;
		wrong++;

	}
	ok(wrong > 0 && caught > 0,
	    "a sync of data.mdb taken away: caught by --check in %d of %d images",
	    caught, wrong);
	journal_free(&j);

	/* A power cut in the replay that grew the map (the pin dropped and
	 * taken again, on the commit after the checkpoint's): up to the
	 * replay's sync of data.mdb, when the log still has the checkpoint
	 * of schema 1 whose pages the pin kept. */
	{
		char bigl[300];
		size_t n2 = 0;
		int images2 = 0, old2 = 0, checks2 = 0, bad2 = 0;

		snprintf(bigl, sizeof bigl, "%s/bigl", p.dir);
		copy_store(big, bigl);
		if (log_junk(bigl, NLOGJUNK) != 0)
			bail_out("cannot append to the log");
		copy_store(bigl, q.store);
		unlink(journal);
		faults_env(&q, journal, NULL, NULL);
		if (dproc_start(&q, T0 + 7200, NULL) != 0)
			bail_out("connreqd did not start under the journal");
		dproc_stop(&q, SIGKILL);
		faults_env_clear();
		if (!dproc_logged(&q, "store: recovery: the map grown to") ||
		    journal_load(&j, journal) != 0)
			bail_out("no journal of a replay that grew the map");
		cut_images(&j, bigl, img, &want, want_boxes, NLOGJUNK, 1,
		    san ? PC_ALL : -1, san ? PC_ALL : -1, &n2, &images2,
		    &old2, &checks2, &bad2);
		ok(n2 >= 1 && bad2 == 0 && old2 == images2,
		    "a power cut at each of the %zu sync points up to the replay's "
		    "sync of data.mdb, the map grown in the replay (%d images, all "
		    "still of schema 1): every record, --check clean (%d runs)",
		    n2, images2, checks2);
		journal_free(&j);
	}

	snprintf(big, sizeof big, "%s/schema2", p.dir);
	if (mkdir(big, 0700) != 0)
		bail_out("mkdir %s", big);
	test_schema2(big);
	lines_free(&want);
	dproc_cleanup(&q);
	dproc_cleanup(&p);
	return done_testing();
}
