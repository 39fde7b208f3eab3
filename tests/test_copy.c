/* tests/test_copy.c: connreqd --copy-store (daemon/copy.c) and the export
 * and import of every record (store.h, "Copying a whole store").
 *
 * A store with records of every kind (STORE_RECS: invitations in every
 * state, pairs, connections, deadlines, each log, both flags, member
 * settings, a plan and its index, events, pruned marks, introductions
 * asked, forwarded and declined, request ids, import ids, and every meta
 * value, the virtual clock and the last pruned event among them) is made
 * through the domain on LMDB, then copied by the connreqd binary
 * (CONNREQ_BIN) to PostgreSQL (a cluster the test starts) and from there to
 * a new LMDB directory. The export of each copy must equal the source's
 * record by record, and connreqd --check must find each clean. A kind of
 * record that one backend does not export, or does not import, or reads
 * back otherwise, makes the records differ: the source's export is first
 * checked to hold every kind. Then the refusals (a target not empty, a
 * source or target in use), and connreqd serving the copied LMDB store:
 * invite.get and invite.list answer as they did on the source. A store
 * larger than a transaction of the copy goes both ways (the LMDB target's
 * map grown midway), and a copy that fails in its second transaction says
 * how far it got and leaves a target the next copy refuses. */
#include <sys/wait.h>

#include "../daemon/intro.h"
#include "domain.h"
#include "harness.h"
#include "../daemon/store-backend.h"
#include "pgcluster.h"
#include "store_fixture.h"

static struct pgcluster pgc;

static char out[1 << 16];

/* Runs connreqd ARGS; its exit status, its output (both streams) in out. */
static int
run_connreqd(const char *args)
{
	const char *bin = getenv("CONNREQ_BIN");
	char cmd[2048];
	size_t n = 0, got;
	FILE *p;
	int st;

	snprintf(cmd, sizeof cmd,
	    "XDG_CONFIG_HOME=/nonexistent '%s/connreqd' %s 2>&1",
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

static int
copy_store(const char *from, const char *to)
{
	char args[1024];

	snprintf(args, sizeof args, "--copy-store '%s' '%s'", from, to);
	return run_connreqd(args);
}

static int
check_store_at(const char *where)
{
	char args[1024];

	snprintf(args, sizeof args, "--check %s '%s'",
	    strcmp(store_backend_name(where), "postgresql") == 0 ?
	    "--postgres" : "-d", where);
	return run_connreqd(args);
}

static void
show_out(void)
{
	char *line, *save = NULL, *copy = strdup(out);

	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		diag("  %s", line);
	free(copy);
}

/* An export: each record as its line. */
struct lines {
	char **l;
	size_t n, cap;
	uint64_t kinds[SREC_COUNT];
};

static bool
collect(void *ctx, const struct store_rec *r)
{
	struct lines *ls = ctx;

	if (ls->n == ls->cap) {
		ls->cap = ls->cap ? ls->cap * 2 : 256;
		ls->l = realloc(ls->l, ls->cap * sizeof *ls->l);
	}
	ls->l[ls->n++] = store_rec_show(r);
	if (r->kind != SREC_META || r->id != 0)
		ls->kinds[r->kind]++;
	return true;
}

/* The export of the stopped store at where, read as --check reads it. */
static void
export_at(const char *where, struct lines *ls)
{
	char why[512];
	struct store *s = store_open_copy_source(where, why, sizeof why);
	struct stx *t;

	memset(ls, 0, sizeof *ls);
	if (s == NULL)
		bail_out("cannot open %s: %s", where, why);
	t = store_begin_read(s);
	store_export(t, collect, ls);
	if (store_error(t) != STORE_OK)
		bail_out("export of %s: %s", where, store_strerror(s));
	store_abort(t);
	store_close(s);
}

static void
lines_free(struct lines *ls)
{
	size_t i;

	for (i = 0; i < ls->n; i++)
		free(ls->l[i]);
	free(ls->l);
}

/* Whether b is a, record by record; the first difference as a diag. */
static bool
same(const struct lines *a, const struct lines *b)
{
	size_t i;

	for (i = 0; i < a->n && i < b->n; i++)
		if (strcmp(a->l[i], b->l[i]) != 0) {
			diag("record %zu differs:", i);
			diag("  source: %.300s", a->l[i]);
			diag("  copy:   %.300s", b->l[i]);
			return false;
		}
	if (a->n != b->n) {
		diag("%zu records in the source, %zu in the copy; the first more: %.300s",
		    a->n, b->n, a->n > b->n ? a->l[i] : b->l[i]);
		return false;
	}
	return true;
}

/* What connreqd answers for a few reads of the store, as text. */
static void
reads(struct dproc *p, uint64_t id, const char *member, char *buf, size_t n)
{
	struct cr_client *c = dconnect(p);
	struct cr_reply r = { 0 };
	size_t off = 0;
	int k;

	if (call(c, &r, "invite.get", "id:u", id) != 0)
		snprintf(buf, n, "invite.get: error %s", r.code);
	else {
		k = msgpack_object_print_buffer(buf, n, *r.result);
		off = k > 0 ? (size_t)k : 0;
	}
	cr_reply_free(&r);
	if (off + 2 < n) {
		buf[off++] = '|';
		buf[off] = '\0';
	}
	if (call(c, &r, "invite.list", "member:s box:s", member, "sent") != 0)
		snprintf(buf + off, n - off, "invite.list: error %s", r.code);
	else
		msgpack_object_print_buffer(buf + off, n - off, *r.result);
	cr_reply_free(&r);
	cr_close(c);
}

/* A store of n invitations with notes of notelen bytes (4000: more than
 * an LMDB store's first map), each with a log entry and an event, written
 * through store.h in transactions of 200 (grown when the map is full):
 * more records than one transaction of the copy takes. With bad, the last
 * one is a second pending invitation between the members of the first,
 * which PostgreSQL's constraint refuses. */
static void
make_big(const char *dir, unsigned n, size_t notelen, bool bad)
{
	char why[256], who[32], to[32], note[4000];
	struct store *s = store_open(dir, 1ULL << 30, why, sizeof why);
	struct stx *t;
	struct inv v;
	struct intro in;
	unsigned i, from;
	int rc;

	if (s == NULL)
		bail_out("store_open %s: %s", dir, why);
	memset(note, 'n', sizeof note);
	for (from = 1; from <= n; ) {
		t = store_begin(s, NULL);
		for (i = from; i < from + 200 && i <= n; i++) {
			snprintf(who, sizeof who, "m%u", i % 1000);
			snprintf(to, sizeof to, "t%u", bad && i == n ? 1 : i);
			if (bad && i == n)
				snprintf(who, sizeof who, "m1");
			v = mkinv(i, who, to, T0 + i);
			v.note_len = notelen;
			memcpy(v.note, note, notelen);
			v.note[7] = (char)i;
			store_inv_put(t, &v, ST_COUNT);
			store_log_add(t, LOG_SENDS, who, strlen(who), T0 + i, i,
			    0);
			store_event_add(t, i, T0 + i, who, strlen(who), true,
			    "\x81\xa1x\x01", 4);
			/* And an introduction, its note as long: a record
			 * the copy must keep whole while the target's map
			 * grows (a held batch pointed into the export's
			 * buffer, found by review). */
			memset(&in, 0, sizeof in);
			in.id = n + i;
			in.state = INTRO_ASKED;
			in.created_at = in.updated_at = T0 + i;
			in.expires_at = T0 + i + 86400;
			snprintf(in.from, sizeof in.from, "%s", who);
			in.from_len = strlen(who);
			memcpy(in.via, "v", 2);
			in.via_len = 1;
			snprintf(in.to, sizeof in.to, "%s", to);
			in.to_len = strlen(to);
			in.note_len = notelen;
			memcpy(in.note, note, notelen);
			in.note[5] = (char)i;
			store_intro_put(t, &in);
		}
		rc = store_commit(t);
		if (rc == STORE_MAP_FULL && store_grow(s) == 0)
			continue;
		if (rc != STORE_OK)
			bail_out("make_big: %s", store_strerror(s));
		from = i;
	}
	store_close(s);
}

int
main(void)
{
	static char before[1 << 15], after[1 << 15];
	struct pgcluster *pg = &pgc;
	struct lines src, cp1, cp2;
	struct send_req sr;
	struct member_rec mr;
	struct hold_change hc;
	struct dproc p, p2;
	struct dom d;
	struct store *held;
	char dir[64], dir2[192], dir3[192], ci[512], ci2[512], why[512];
	uint64_t a1, wd, rep, pend, mid;
	size_t k;
	int rc;

	/* ---- a store with records of every kind, on LMDB ---- */
	dom_open(&d);
	d.policy.resend_cooldown[0] = 3600;
	a1 = dsend(&d, "alice", "bob");
	ok(a1 && dact(&d, DO_ACCEPT, "bob", a1) == 0, "accepted: connected");
	ok(dact(&d, DO_IGNORE, "alice", dsend(&d, "carol", "alice")) == 0,
	    "ignored");
	wd = dsend(&d, "carol", "dave");
	ok(wd && dact(&d, DO_WITHDRAW, "carol", wd) == 0,
	    "withdrawn: a cooldown");
	rep = dsend(&d, "erin", "dave");
	ok(rep && dact(&d, DO_REPORT_DONT_KNOW, "dave", rep) == 0,
	    "reported as not known: a no-go flag, a report");
	ok(dblock(&d, "gail", "erin", true) == 0, "a block");
	memset(&sr, 0, sizeof sr);
	sr.from = S("finn");
	sr.to = S("gail");
	sr.note = (struct str){ "hello\0gail", 10 };
	sr.priority = PRIO_LOW;
	ok(step_end(&d, invite_send(step(&d), &sr, &d.inv, &d.connected,
	    &d.warnings, &d.e)) == 0, "a send with a note (NUL inside)");
	memset(&hc, 0, sizeof hc);
	hc.new_days = SET_VALUE;
	hc.v.new_days = 30;
	hc.no_mutual = SET_VALUE;	/* false, finn's own */
	ok(step_end(&d, member_settings_set(step(&d), S("finn"), 1,
	    S("finn@example.com"), NULL, NULL,
	    &(struct digest_change){ SET_VALUE, 86400 }, &mr, &d.e)) == 0,
	    "member settings");
	ok(step_end(&d, member_settings_set(step(&d), S("omar"), -1, S(NULL),
	    NULL, &hc, NULL, &mr, &d.e)) == 0 &&
	    mr.own == (MEMBER_OWN_HOLD_NEW | MEMBER_OWN_HOLD_NO_MUTUAL),
	    "hold filters, a member's own (issue 12)");
	ok(dsend(&d, "lena", "omar") != 0 && d.inv.held,
	    "a held invitation");
	ok(dplan_create(&d, "finn", 0, 10, PRIO_HIGH) != 0, "a plan");
	{
		struct intro_ask_req ir;
		struct intro in;
		uint64_t c1 = dsend(&d, "bob", "lena"), c2;

		ok(c1 && dact(&d, DO_ACCEPT, "lena", c1) == 0 &&
		    (c2 = dsend(&d, "bob", "mia")) != 0 &&
		    dact(&d, DO_ACCEPT, "mia", c2) == 0,
		    "bob connected to lena and mia");
		memset(&ir, 0, sizeof ir);
		ir.from = S("alice");
		ir.via = S("bob");
		ir.to = S("lena");
		ir.note = (struct str){ "intro\0note", 10 };
		ok(step_end(&d, intro_ask(step(&d), &ir, &in, &d.e)) == 0 &&
		    step_end(&d, intro_forward(step(&d), S("bob"), in.id,
		    S("meet alice"), &in, &d.inv, &d.connected, &d.warnings,
		    &d.e)) == 0, "an introduction forwarded");
		ir.to = S("mia");
		ok(step_end(&d, intro_ask(step(&d), &ir, &in, &d.e)) == 0 &&
		    step_end(&d, intro_decline(step(&d), S("bob"), in.id,
		    true, &in, &d.e)) == 0, "one declined");
		ir.from = S("lena");
		ir.to = S("mia");
		ok(step_end(&d, intro_ask(step(&d), &ir, &in, &d.e)) == 0,
		    "one asked");
	}
	dadvance(&d, 20 * DAY_SECS);	/* reminders; the plan runs */
	ok(dresend(&d, "carol", wd) != 0, "resent after the cooldown");
	dsend(&d, "hana", "ivan");
	dadvance(&d, 200 * DAY_SECS);	/* what is open expires */
	pend = dsend(&d, "hana", "ivan");
	mid = dsend(&d, "kai", "hana");
	ok(pend && mid && dact(&d, DO_IGNORE, "hana", mid) == 0,
	    "fresh ones, pending and ignored");
	/* Some events pruned, as retention would; the virtual clock saved. */
	step(&d);
	k = store_event_prune(d.o.t, d.now, 3);
	store_set_vclock(d.o.t, d.now);
	ok(step_end(&d, 0) == 0 && k == 3, "3 events pruned, vclock saved");
	/* A write's request id (docs/protocol.md §2.7), its record as the
	 * server keeps it: opaque to the store, NUL bytes and all. */
	step(&d);
	store_request_put(d.o.t, "req-1", 5, d.now, "rec\0ord", 7);
	ok(step_end(&d, 0) == 0, "a request id kept");
	/* import.rows' external ids, each with its row's digest. */
	step(&d);
	store_import_id_put(d.o.t, "ext-1", 5, 0x1234567890abcdefULL);
	store_import_id_put(d.o.t, "ext:2", 5, 7);
	ok(step_end(&d, 0) == 0, "import ids kept");
	strcpy(dir, d.dir);
	store_close(d.s);
	d.s = NULL;

	/* ---- what connreqd answers on it; a source in use refused ---- */
	dproc_init(&p);
	snprintf(p.store, sizeof p.store, "%.63s", dir);
	if (dproc_start(&p, d.now, NULL) == -1)
		bail_out("connreqd does not start on the source store");
	reads(&p, pend, "hana", before, sizeof before);
	snprintf(dir3, sizeof dir3, "%s/copy-refused", p.dir);
	rc = copy_store(dir, dir3);
	ok(rc == 1 && strstr(out, "in use") != NULL,
	    "an LMDB source a connreqd has open: refused, exit 1");
	if (rc != 1)
		show_out();
	dproc_stop(&p, SIGTERM);

	export_at(dir, &src);
	for (k = 0; k < SREC_COUNT; k++)
		if (src.kinds[k] == 0)
			break;
	ok(k == SREC_COUNT, "the source holds records of every kind%s%s",
	    k < SREC_COUNT ? ": none of " : "",
	    k < SREC_COUNT ? store_rec_names[k] : "");
	for (k = 0; k < src.n; k++)
		if (strstr(src.l[k], "name=\"vclock\" value=0") != NULL ||
		    strstr(src.l[k], "name=\"event.pruned\" value=0") != NULL ||
		    strstr(src.l[k], "name=\"next_id\" value=0") != NULL)
			break;
	ok(k == src.n, "its next id, virtual clock and last pruned event are set");

	/* ---- LMDB -> PostgreSQL ---- */
	if (pgcluster_start(pg) == -1 || pgcluster_newdb(pg, ci, sizeof ci) == -1)
		bail_out("no PostgreSQL cluster");
	rc = copy_store(dir, ci);
	ok(rc == 0 && strstr(out, "records in") != NULL &&
	    strstr(out, "invitations") != NULL,
	    "LMDB -> PostgreSQL: exit 0, a summary");
	/* Member records (settings, counters), not the members --check
	 * counts (everyone who appears in an invitation). */
	ok(strstr(out, "member records") != NULL,
	    "its count of members says member records, as it is not --check's count of members");
	if (rc != 0)
		show_out();
	export_at(ci, &cp1);
	ok(same(&src, &cp1), "the PostgreSQL copy's export is the source's, record by record (%zu records)",
	    src.n);
	rc = check_store_at(ci);
	ok(rc == 0 && strstr(out, ": clean") != NULL,
	    "connreqd --check --postgres of the PostgreSQL copy: clean");
	if (rc != 0)
		show_out();
	rc = copy_store(dir, ci);
	ok(rc == 1 && strstr(out, "not empty") != NULL,
	    "a PostgreSQL target not empty: refused, exit 1");

	/* ---- PostgreSQL -> LMDB ---- */
	dproc_init(&p2);
	snprintf(dir2, sizeof dir2, "%s/copied", p2.dir);
	rc = copy_store(ci, dir2);
	ok(rc == 0 && strstr(out, "done") != NULL,
	    "PostgreSQL -> a new LMDB directory: exit 0");
	if (rc != 0)
		show_out();
	export_at(dir2, &cp2);
	ok(same(&src, &cp2), "the LMDB copy of the copy: the source's records, one by one");
	rc = check_store_at(dir2);
	ok(rc == 0 && strstr(out, ": clean") != NULL,
	    "connreqd --check of the LMDB copy: clean");
	if (rc != 0)
		show_out();
	rc = copy_store(ci, dir2);
	ok(rc == 1 && strstr(out, "not empty") != NULL,
	    "an LMDB target not empty: refused, exit 1");

	/* ---- PostgreSQL stores in use ---- */
	held = store_open_backend(&store_pg, ci, 0, why, sizeof why);
	if (held == NULL)
		bail_out("cannot open %s as a daemon would: %s", ci, why);
	rc = copy_store(ci, dir3);
	ok(rc == 1 && strstr(out, "in use") != NULL,
	    "a PostgreSQL source a connreqd has open: refused, exit 1");
	store_close(held);
	if (pgcluster_newdb(pg, ci2, sizeof ci2) == -1)
		bail_out("no database");
	held = store_open_backend(&store_pg, ci2, 0, why, sizeof why);
	if (held == NULL)
		bail_out("cannot open %s as a daemon would: %s", ci2, why);
	rc = copy_store(dir2, ci2);
	ok(rc == 1 && strstr(out, "in use") != NULL,
	    "a PostgreSQL target a connreqd has open: refused, exit 1");
	store_close(held);
	rc = copy_store(dir2, ci2);
	ok(rc == 0, "once it is closed, the copy into it runs");

	/* ---- connreqd serves the copy ---- */
	snprintf(p2.store, sizeof p2.store, "%.190s", dir2);
	ok(dproc_start(&p2, d.now, NULL) == 0, "connreqd starts on the LMDB copy");
	reads(&p2, pend, "hana", after, sizeof after);
	is_str(after, before, "invite.get and invite.list answer as on the source");
	ok(strstr(before, "error") == NULL && strstr(before, "\"items\"") != NULL, "(they answered: %.200s)", before);
	ok(strstr(after, "ivan") != NULL, "the copied invitation is there");
	dproc_stop(&p2, SIGTERM);

	/* ---- a store larger than a transaction of the copy ---- */
	{
		char big[192], bigback[192], ci3[512];
		struct lines b0, b1, b2;

		snprintf(big, sizeof big, "%s/big", p2.dir);
		snprintf(bigback, sizeof bigback, "%s/bigback", p2.dir);
		make_big(big, 6000, 4000, false);
		export_at(big, &b0);
		if (pgcluster_newdb(pg, ci3, sizeof ci3) == -1)
			bail_out("no database");
		snprintf(why, sizeof why, "copy: %zu records in", b0.n);
		rc = copy_store(big, ci3);
		ok(rc == 0 && strstr(out, why) != NULL,
		    "%zu records (6000 invitations and 6000 introductions of 4 KB) to PostgreSQL: several transactions",
		    b0.n);
		if (rc != 0)
			show_out();
		export_at(ci3, &b1);
		ok(same(&b0, &b1), "record by record");
		rc = copy_store(ci3, bigback);
		ok(rc == 0 && strstr(out, "map grown") != NULL,
		    "and back to LMDB, the map grown as it fills (the transaction written again)");
		if (rc != 0)
			show_out();
		export_at(bigback, &b2);
		ok(same(&b0, &b2), "record by record");
		lines_free(&b0);
		lines_free(&b1);
		lines_free(&b2);
	}

	/* ---- a copy that fails midway ---- */
	{
		char bad[192], ci4[512];

		snprintf(bad, sizeof bad, "%s/bad", p2.dir);
		make_big(bad, 6001, 10, true);
		if (pgcluster_newdb(pg, ci4, sizeof ci4) == -1)
			bail_out("no database");
		rc = copy_store(bad, ci4);
		ok(rc == 1 && strstr(out, "failed after 5000 records were committed") != NULL &&
		    strstr(out, "invitations_one_pending") != NULL &&
		    strstr(out, "incomplete: remove it") != NULL,
		    "a copy that fails in its second transaction: exit 1, how far it got, why, and that the target is incomplete");
		if (rc != 1)
			show_out();
		rc = copy_store(dir2, ci4);
		ok(rc == 1 && strstr(out, "not empty") != NULL,
		    "the incomplete target is refused by the next copy");
	}

	/* ---- a password in a conninfo is never shown ---- */
	{
		char ci5[512], ci6[512], pw[700], host[256], db[64], enc[400],
		    uri[800], shown[512];
		size_t i, n = 0;

		if (pgcluster_newdb(pg, ci5, sizeof ci5) == -1 ||
		    pgcluster_newdb(pg, ci6, sizeof ci6) == -1)
			bail_out("no database");
		snprintf(pw, sizeof pw, "%s password=hunter2", ci5);
		rc = copy_store(dir2, pw);
		ok(rc == 0 && strstr(out, "hunter2") == NULL &&
		    strstr(out, "dbname=") != NULL,
		    "--copy-store to a conninfo with password=: copied, the password not printed");
		if (rc != 0 || strstr(out, "hunter2") != NULL)
			show_out();
		/* The same as a URI, the key percent-encoded (libpq decodes
		 * it), into the other database. */
		if (sscanf(ci6, "host=%255s dbname=%63s", host, db) != 2)
			bail_out("conninfo %s", ci6);
		for (i = 0; host[i] != '\0' && n + 4 < sizeof enc; i++)
			n += (size_t)snprintf(enc + n, sizeof enc - n,
			    host[i] == '/' ? "%%2F" : "%c", host[i]);
		snprintf(uri, sizeof uri,
		    "postgresql:///%s?host=%s&user=postgres&pass%%77ord=hunter2",
		    db, enc);
		rc = copy_store(dir2, uri);
		ok(rc == 0 && strstr(out, "hunter2") == NULL,
		    "and as a URI with a percent-encoded password key");
		if (rc != 0 || strstr(out, "hunter2") != NULL)
			show_out();
		rc = copy_store(dir2, "postgresql://postgres:hunter2@[::1/r1");
		ok(rc == 1 && strstr(out, "hunter2") == NULL &&
		    strstr(out, "cannot be parsed") != NULL,
		    "a conninfo libpq cannot parse: refused, without echoing it (%.120s)",
		    out);
		store_where_shown("postgresql://bob:hunter2@db.example/app?sslpassword=s3",
		    shown, sizeof shown);
		ok(strstr(shown, "hunter2") == NULL && strstr(shown, "s3") == NULL &&
		    strstr(shown, "host=db.example") != NULL &&
		    strstr(shown, "user=bob") != NULL,
		    "what logs show of a URI: where, who, no password (%s)", shown);
		store_where_shown("/var/lib/connreq", shown, sizeof shown);
		is_str(shown, "/var/lib/connreq", "an LMDB directory is shown as it is");
	}

	/* ---- usage ---- */
	ok(run_connreqd("--copy-store onlyone") == 2 &&
	    strstr(out, "--copy-store takes two arguments, FROM and TO (1 given)") != NULL,
	    "--copy-store with one argument: says so, usage, exit 2 (%.200s)",
	    out);
	ok(run_connreqd("/some/store") == 2 &&
	    strstr(out, "unexpected argument '/some/store' (the store is -d DIR") != NULL,
	    "a stray argument: named, with where a store goes, exit 2 (%.200s)",
	    out);
	ok(run_connreqd("--check --copy-store a b") == 2 &&
	    strstr(out, "--check and --copy-store do not go together") != NULL,
	    "--check with --copy-store: says so, exit 2 (%.200s)", out);
	ok(strcmp(store_backend_name("postgresql://u@h/db"), "postgresql") == 0 &&
	    strcmp(store_backend_name("host=/tmp dbname=x"), "postgresql") == 0 &&
	    strcmp(store_backend_name(" dbname = x"), "postgresql") == 0 &&
	    strcmp(store_backend_name("/var/lib/connreq"), "lmdb") == 0 &&
	    strcmp(store_backend_name("./a=b"), "lmdb") == 0 &&
	    strcmp(store_backend_name("data"), "lmdb") == 0,
	    "conninfo or directory, told apart by the string");

	lines_free(&src);
	lines_free(&cp1);
	lines_free(&cp2);
	dom_close(&d);
	dproc_cleanup(&p);
	dproc_cleanup(&p2);
	pgcluster_stop(pg);
	return done_testing();
}
