/* tests/test_check.c: connreqd --check. A store with activity of every kind
 * (sends, accepts, ignores, withdrawals, resends, reports, blocks, a plan,
 * an introduction, expiries and reminders) made through the domain, then checked by the
 * connreqd binary (CONNREQ_BIN): clean, and left byte for byte as it was.
 * Then copies of it are corrupted one way each, with LMDB directly, as a
 * bug or a torn write could leave them, and each must be reported (exit 1)
 * by a line that names it. A store in use and a missing one: exit 2. */
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <lmdb.h>

#include "../common/be.h"
#include "../daemon/intro.h"
#include "domain.h"

static char out[1 << 16];

#define NONE_INTRO 4000000000u	/* an introduction id never given */

/* Runs connreqd --check ARGS; its exit status, its output in out. */
static int
run_check_args(const char *args)
{
	const char *bin = getenv("CONNREQ_BIN");
	char cmd[1024];
	size_t n = 0, got;
	FILE *p;
	int st;

	snprintf(cmd, sizeof cmd,
	    "XDG_CONFIG_HOME=/nonexistent '%s/connreqd' --check %s 2>&1",
	    bin ? bin : "build/bin", args);
	p = popen(cmd, "r");
	if (p == NULL)
		return -1;
	while (n < sizeof out - 1 &&
	    (got = fread(out + n, 1, sizeof out - 1 - n, p)) > 0)
		n += got;
	out[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* connreqd --check -d dir. */
static int
run_check(const char *dir)
{
	char args[256];

	snprintf(args, sizeof args, "-d '%s'", dir);
	return run_check_args(args);
}

static void
show_out(void)
{
	char *line, *save = NULL, copy[sizeof out];

	memcpy(copy, out, sizeof copy);
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		diag("  %s", line);
}

/* Whether the output has a line starting with `start` and holding each of
 * the NULL-ended strings after it. */
static bool
has_line(const char *start, ...)
{
	char *line, *save = NULL, copy[sizeof out];
	const char *want;
	va_list ap;
	bool all;

	memcpy(copy, out, sizeof copy);
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, start, strlen(start)) != 0)
			continue;
		all = true;
		va_start(ap, start);
		while ((want = va_arg(ap, const char *)) != NULL)
			if (strstr(line, want) == NULL)
				all = false;
		va_end(ap);
		if (all)
			return true;
	}
	return false;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *b;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	b = malloc((size_t)n + 1);
	*len = fread(b, 1, (size_t)n, f);
	fclose(f);
	return b;
}

/* A copy of the store at src, to corrupt. */
static void
copy_store(const char *src, char *dst)
{
	char cmd[512];

	strcpy(dst, "/tmp/connreq-check-XXXXXX");
	if (mkdtemp(dst) == NULL)
		bail_out("mkdtemp");
	snprintf(cmd, sizeof cmd, "cp %s/data.mdb %s/", src, dst);
	if (system(cmd) != 0)
		bail_out("%s", cmd);
}

static void
rm_store(const char *dir)
{
	char cmd[512];

	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		diag("cannot remove %s", dir);
}

/* One write transaction on the LMDB environment in dir, as another
 * program would open it. */
struct raw {
	MDB_env *env;
	MDB_txn *txn;
};

static void
raw_open(struct raw *r, const char *dir)
{
	if (mdb_env_create(&r->env) != 0 ||
	    mdb_env_set_maxdbs(r->env, 32) != 0 ||
	    mdb_env_set_mapsize(r->env, 64 << 20) != 0 ||
	    mdb_env_open(r->env, dir, 0, 0600) != 0 ||
	    mdb_txn_begin(r->env, NULL, 0, &r->txn) != 0)
		bail_out("cannot open %s with LMDB", dir);
}

static MDB_dbi
raw_db(struct raw *r, const char *name)
{
	MDB_dbi dbi;

	if (mdb_dbi_open(r->txn, name, 0, &dbi) != 0)
		bail_out("no database %s", name);
	return dbi;
}

static void
raw_close(struct raw *r)
{
	if (mdb_txn_commit(r->txn) != 0)
		bail_out("commit");
	mdb_env_close(r->env);
}

/* Keys as daemon/store-lmdb.c makes them: a name with its NUL, a big-endian
 * 64-bit integer, one byte; a member row's kind is a byte after its first
 * member (the kinds of its header). */
enum { K_PAIRS = 2, K_HISTORY = 5 };
struct rkey {
	unsigned char b[256];
	MDB_val v;
};

static MDB_val *
rk(struct rkey *k, const char *fmt, ...)
{
	const char *s;
	size_t n = 0;
	va_list ap;

	va_start(ap, fmt);
	for (; *fmt != '\0'; fmt++) {
		if (*fmt == 'M') {
			s = va_arg(ap, const char *);
			memcpy(k->b + n, s, strlen(s) + 1);
			n += strlen(s) + 1;
		} else if (*fmt == 'L') {
			be_put(k->b + n, va_arg(ap, uint64_t), 8);
			n += 8;
		} else
			k->b[n++] = (unsigned char)va_arg(ap, int);
	}
	va_end(ap);
	k->v.mv_size = n;
	k->v.mv_data = k->b;
	return &k->v;
}

static void
raw_del(struct raw *r, const char *db, MDB_val *key)
{
	if (mdb_del(r->txn, raw_db(r, db), key, NULL) != 0)
		bail_out("cannot delete from %s", db);
}

/* Adds delta to the meta counter name. */
static void
raw_meta_add(struct raw *r, const char *name, int64_t delta)
{
	MDB_dbi meta = raw_db(r, "meta");
	unsigned char b[8];
	struct rkey k;
	MDB_val v;

	if (mdb_get(r->txn, meta, rk(&k, "M", name), &v) != 0 ||
	    v.mv_size != 8)
		bail_out("no meta %s", name);
	be_put(b, be_get(v.mv_data, 8) + (uint64_t)delta, 8);
	v.mv_data = b;
	if (mdb_put(r->txn, meta, &k.v, &v, 0) != 0)
		bail_out("put meta %s", name);
}

int
main(void)
{
	char dir[64], bad[64], why[256];
	char *before, *after;
	size_t blen, alen;
	struct dom d;
	struct raw r;
	struct rkey k;
	struct inv pend, acc;
	uint64_t a1, a2, ign, wd, re, exp_id, rep, open1, mid, first;
	uint64_t intro_id = 0, intro_inv = 0;
	struct intro_ask_req ir;
	struct intro in;
	unsigned char pv[24];
	MDB_val v;
	int rc, lockfd;
	char path[128];
	FILE *pf;
	size_t n;

	/* ---- a store with activity of every kind ---- */
	dom_open(&d);
	d.policy.resend_cooldown[0] = 3600;
	a1 = dsend(&d, "alice", "bob");
	ok(a1 && dact(&d, DO_ACCEPT, "bob", a1) == 0, "accepted");
	mid = dsend(&d, "bob", "lena");
	ok(mid && dact(&d, DO_ACCEPT, "lena", mid) == 0, "bob and lena too");
	memset(&ir, 0, sizeof ir);
	ir.from = S("alice");
	ir.via = S("bob");
	ir.to = S("lena");
	if (step_end(&d, intro_ask(step(&d), &ir, &in, &d.e)) == 0) {
		intro_id = in.id;
		if (step_end(&d, intro_forward(step(&d), S("bob"), in.id,
		    S(NULL), &in, &d.inv, &d.connected, &d.warnings,
		    &d.e)) == 0)
			intro_inv = d.inv.id;
	}
	ok(intro_id && intro_inv, "an introduction, forwarded");
	ign = dsend(&d, "carol", "alice");
	ok(ign && dact(&d, DO_IGNORE, "alice", ign) == 0, "ignored");
	wd = dsend(&d, "carol", "dave");
	ok(wd && dact(&d, DO_WITHDRAW, "carol", wd) == 0, "withdrawn");
	rep = dsend(&d, "erin", "dave");
	ok(rep && dact(&d, DO_REPORT_SPAM, "dave", rep) == 0, "reported");
	exp_id = dsend(&d, "finn", "gail");
	ok(dblock(&d, "gail", "erin", true) == 0, "a block");
	ok(dplan_create(&d, "finn", 0, 10, PRIO_HIGH) != 0, "a plan");
	dadvance(&d, 20 * DAY_SECS);	/* reminders; the plan runs */
	re = dresend(&d, "carol", wd);
	ok(re != 0, "resent after the cooldown");
	a2 = dsend(&d, "bob", "carol");
	ok(dsend(&d, "carol", "bob") != 0 && d.connected,
	    "mutual interest connects");
	open1 = dsend(&d, "hana", "ivan");
	dsend(&d, "ivan", "jon");
	dadvance(&d, 200 * DAY_SECS);	/* everything open expires */
	open1 = dsend(&d, "hana", "ivan");
	mid = dsend(&d, "kai", "hana");
	ok(open1 && mid && dact(&d, DO_IGNORE, "hana", mid) == 0,
	    "fresh ones, pending and ignored");
	pend = dinv(&d, open1);
	acc = dinv(&d, a1);
	ok(pend.state == ST_PENDING && acc.state == ST_ACCEPTED &&
	    dinv(&d, exp_id).state != ST_PENDING, "the states as meant");
	(void)a2;
	(void)ign;
	/* A write's request id (docs/protocol.md §2.7). */
	step(&d);
	store_request_put(d.o.t, "req-1", 5, d.now, "rec", 3);
	ok(step_end(&d, 0) == 0, "a request id kept");
	strcpy(dir, d.dir);
	store_close(d.s);
	d.s = NULL;

	/* ---- clean, and read-only ---- */
	snprintf(path, sizeof path, "%s/data.mdb", dir);
	before = slurp(path, &blen);
	rc = run_check(dir);
	is_int(rc, 0, "--check on a store the daemon wrote: exit 0");
	ok(has_line("check: ", "invitations", "pairs", ": clean", NULL),
	    "a summary line that says clean");
	if (rc != 0)
		show_out();
	after = slurp(path, &alen);
	ok(before && after && blen == alen && memcmp(before, after, blen) == 0,
	    "the store's data file is left byte for byte as it was");
	free(before);
	free(after);

	/* ---- a request id without its row in request_times ---- */
	copy_store(dir, bad);
	raw_open(&r, bad);
	raw_del(&r, "request_times", rk(&k, "LM", (uint64_t)d.now, "req-1"));
	raw_close(&r);
	rc = run_check(bad);
	is_int(rc, 1, "a request id's time row deleted: exit 1");
	ok(has_line("check: request: ", "req-1", "never be pruned", NULL),
	    "... the record named, it would never be pruned");
	if (rc != 1)
		show_out();
	copy_store(dir, bad);
	raw_open(&r, bad);
	raw_del(&r, "requests", rk(&k, "M", "req-1"));
	raw_close(&r);
	rc = run_check(bad);
	is_int(rc, 1, "a request id's record deleted, its time row kept: exit 1");
	ok(has_line("check: request: ", "req-1", "without its record", NULL),
	    "... the row named");

	/* ---- an index row without its invitation ---- */
	copy_store(dir, bad);
	raw_open(&r, bad);
	raw_del(&r, "invitations", rk(&k, "L", a1));
	raw_meta_add(&r, "count.accepted", -1);
	raw_close(&r);
	rc = run_check(bad);
	is_int(rc, 1, "an invitation deleted, its index rows kept: exit 1");
	ok(has_line("check: index: ", "sent", "alice", "without its invitation",
	    NULL) && has_line("check: index: ", "received", "bob",
	    "without its invitation", NULL) &&
	    has_line("check: index: ", "history", "without its invitation",
	    NULL), "each of its index rows is named");
	ok(has_line("check: ", "problems", NULL), "the summary counts them");
	if (rc != 1)
		show_out();
	rm_store(bad);

	/* ---- an introduction lost, its index rows kept ---- */
	copy_store(dir, bad);
	raw_open(&r, bad);
	raw_del(&r, "introductions", rk(&k, "L", intro_id));
	raw_close(&r);
	rc = run_check(bad);
	is_int(rc, 1, "an introduction deleted, its index rows kept: exit 1");
	snprintf(why, sizeof why,
	    "alice's asked introductions have %llu, which is missing",
	    (unsigned long long)intro_id);
	ok(has_line("check: index: ", why, NULL) &&
	    has_line("check: index: ", "intro_asked row alice/",
	    "without its introduction", NULL) &&
	    has_line("check: index: ", "intro_via row bob/",
	    "without its introduction", NULL),
	    "the store.h check and the backend's name it: %s", why);
	if (rc != 1)
		show_out();
	rm_store(bad);

	/* ---- a forwarded introduction's invitation lost ---- */
	copy_store(dir, bad);
	raw_open(&r, bad);
	raw_del(&r, "invitations", rk(&k, "L", intro_inv));
	raw_close(&r);
	rc = run_check(bad);
	snprintf(why, sizeof why,
	    "%llu: forwarded as invitation %llu, which is missing",
	    (unsigned long long)intro_id, (unsigned long long)intro_inv);
	ok(rc == 1 && has_line("check: introduction: ", why, NULL),
	    "a forwarded introduction's invitation deleted: %s", why);
	if (rc != 1)
		show_out();
	rm_store(bad);

	/* ---- a history row dropped ---- */
	copy_store(dir, bad);
	raw_open(&r, bad);
	raw_del(&r, "member_rows", rk(&k, "MBML", "alice", K_HISTORY, "bob",
	    a1));
	raw_close(&r);
	rc = run_check(bad);
	is_int(rc, 1, "a history row dropped: exit 1");
	ok(has_line("check: index: ", "the history of alice and bob has 0 rows for 1 invitations",
	    NULL), "the store.h check counts the history's rows");
	snprintf(why, sizeof why, "invitation %llu is not in the history of alice and bob",
	    (unsigned long long)a1);
	ok(has_line("check: index: ", why, NULL),
	    "the backend's check names the row: %s", why);
	if (rc != 1)
		show_out();
	rm_store(bad);

	/* ---- a counter ---- */
	copy_store(dir, bad);
	raw_open(&r, bad);
	raw_meta_add(&r, "count.pending", 1);
	raw_close(&r);
	rc = run_check(bad);
	is_int(rc, 1, "a counter changed: exit 1");
	ok(has_line("check: counter: ", "count.pending is 2", "1 invitations",
	    NULL), "the counter and the rows it disagrees with are named");
	if (rc != 1)
		show_out();
	rm_store(bad);

	/* ---- a pending invitation without its deadline ---- */
	copy_store(dir, bad);
	raw_open(&r, bad);
	raw_del(&r, "deadlines", rk(&k, "LBL", (uint64_t)pend.expires_at,
	    DUE_EXPIRE, open1));
	raw_meta_add(&r, "count.deadlines", -1);
	raw_close(&r);
	rc = run_check(bad);
	is_int(rc, 1, "a pending invitation's expiry deadline dropped: exit 1");
	snprintf(why, sizeof why, "invitation %llu has no expiry deadline",
	    (unsigned long long)open1);
	ok(has_line("check: deadline: ", why, NULL), "it is named: %s", why);
	if (rc != 1)
		show_out();
	rm_store(bad);

	/* ---- an introduction's expiry deadline for one forwarded ---- */
	copy_store(dir, bad);
	raw_open(&r, bad);
	{
		MDB_val empty = { 0, "" };

		if (mdb_put(r.txn, raw_db(&r, "deadlines"), rk(&k, "LBL",
		    (uint64_t)T0 + 3600, DUE_INTRO_EXPIRE, intro_id), &empty,
		    0) != 0 || mdb_put(r.txn, raw_db(&r, "deadlines"),
		    rk(&k, "LBL", (uint64_t)T0 + 3600, DUE_INTRO_EXPIRE,
		    (uint64_t)NONE_INTRO), &empty, 0) != 0)
			bail_out("cannot put a deadline");
	}
	raw_meta_add(&r, "count.deadlines", 2);
	raw_close(&r);
	rc = run_check(bad);
	snprintf(why, sizeof why,
	    "introduction expiry at %lld for introduction %llu, which is forwarded",
	    (long long)T0 + 3600, (unsigned long long)intro_id);
	ok(rc == 1 && has_line("check: deadline: ", why, NULL) &&
	    has_line("check: deadline: ", "for introduction 4000000000, "
	    "which is missing", NULL),
	    "introduction expiry deadlines for one forwarded and one missing: each named");
	if (rc != 1)
		show_out();
	rm_store(bad);

	/* ---- a pair whose open id is not open ---- */
	copy_store(dir, bad);
	raw_open(&r, bad);
	if (mdb_get(r.txn, raw_db(&r, "member_rows"),
	    rk(&k, "MBM", "hana", K_PAIRS, "ivan"),
	    &v) != 0 || v.mv_size != 24)
		bail_out("no pair hana -> ivan");
	memcpy(pv, v.mv_data, 24);
	be_put(pv, a1, 8);
	v.mv_data = pv;
	if (mdb_put(r.txn, raw_db(&r, "member_rows"), &k.v, &v, 0) != 0)
		bail_out("put pair");
	raw_close(&r);
	rc = run_check(bad);
	is_int(rc, 1, "a pair's open id set to an accepted invitation: exit 1");
	snprintf(why, sizeof why, "open id %llu is not open (accepted)",
	    (unsigned long long)a1);
	ok(has_line("check: pair: hana -> ivan: ", why, NULL),
	    "the pair is named: %s", why);
	snprintf(why, sizeof why, "open id is %llu, but invitation %llu is pending",
	    (unsigned long long)a1, (unsigned long long)open1);
	ok(has_line("check: pair: hana -> ivan: ", why, NULL),
	    "and the open invitation it lost");
	if (rc != 1)
		show_out();
	rm_store(bad);

	/* ---- an event missing from the middle of the log ---- */
	copy_store(dir, bad);
	raw_open(&r, bad);
	{
		MDB_cursor *c;
		MDB_val kv;

		/* The oldest kept (the older ones were pruned), then the one
		 * after it goes. */
		if (mdb_cursor_open(r.txn, raw_db(&r, "events"), &c) != 0 ||
		    mdb_cursor_get(c, &kv, &v, MDB_FIRST) != 0)
			bail_out("no events");
		first = be_get(kv.mv_data, 8);
		mdb_cursor_close(c);
	}
	raw_del(&r, "events", rk(&k, "L", first + 1));
	raw_close(&r);
	rc = run_check(bad);
	is_int(rc, 1, "event %llu deleted: exit 1",
	    (unsigned long long)first + 1);
	snprintf(why, sizeof why, "a gap: %llu follows %llu",
	    (unsigned long long)first + 2, (unsigned long long)first);
	ok(has_line("check: event: ", why, NULL),
	    "the gap in the all feed is named: %s", why);
	if (rc != 1)
		show_out();
	rm_store(bad);

	/* ---- a member row of no known kind ---- */
	copy_store(dir, bad);
	raw_open(&r, bad);
	k.v.mv_data = "alice\0\x1f junk";
	k.v.mv_size = 12;
	v.mv_data = "x";
	v.mv_size = 1;
	if (mdb_put(r.txn, raw_db(&r, "member_rows"), &k.v, &v, 0) != 0)
		bail_out("put a member row of kind 0x1f");
	raw_close(&r);
	rc = run_check(bad);
	is_int(rc, 1, "a member row of kind 0x1f (no table's): exit 1");
	ok(has_line("check: index: ",
	    "member_rows: a key of 12 bytes with kind 31: unknown", NULL),
	    "it is named");
	if (rc != 1)
		show_out();
	{
		const char *bin = getenv("CONNREQ_BIN");
		char cmd[1024], to[300];

		snprintf(to, sizeof to, "%s/copy", bad);
		snprintf(cmd, sizeof cmd, "XDG_CONFIG_HOME=/nonexistent "
		    "'%s/connreqd' --copy-store '%s' '%s' 2>&1",
		    bin ? bin : "build/bin", bad, to);
		fflush(stdout);
		pf = popen(cmd, "r");
		n = pf != NULL ? fread(out, 1, sizeof out - 1, pf) : 0;
		out[n] = '\0';
		rc = pf != NULL ? pclose(pf) : -1;
		ok(rc != 0 && strstr(out, "a corrupt entry in database member_rows: "
		    "a key of 12 bytes with kind 31") != NULL,
		    "--copy-store refuses it as a corrupt entry");
		if (rc == 0 || strstr(out, "member_rows") == NULL)
			show_out();
	}
	rm_store(bad);

	/* ---- a store in use, and none ---- */
	snprintf(path, sizeof path, "%s/connreqd.lock", dir);
	lockfd = open(path, O_RDWR | O_CREAT, 0600);
	ok(lockfd != -1 && flock(lockfd, LOCK_EX | LOCK_NB) == 0,
	    "the daemon's lock taken, as a running connreqd holds it");
	rc = run_check(dir);
	is_int(rc, 2, "a store in use: exit 2");
	ok(strstr(out, "in use by a running connreqd") != NULL,
	    "saying so: %s", out);
	close(lockfd);
	is_int(run_check("/tmp/connreq-check-none"), 2, "no store: exit 2");
	is_int(run_check(dir), 0, "the lock released: clean again");

	/* ---- the store named by the configuration file ---- */
	{
		char conf[128], args[160];
		FILE *f;

		snprintf(conf, sizeof conf, "%s.conf", dir);
		f = fopen(conf, "w");
		if (f == NULL)
			bail_out("cannot write %s", conf);
		fprintf(f, "[store]\npath = %s\n", dir);
		fclose(f);
		snprintf(args, sizeof args, "-c %s", conf);
		rc = run_check_args(args);
		is_int(rc, 0, "--check -c FILE checks the store the file names");
		ok(has_line("check: ", ": clean", NULL), "clean");
		unlink(conf);
	}

	rm_store(dir);
	return done_testing();
}
