/* Power loss (issue 9): kill -9 never loses what is in the page cache, so
 * it cannot catch a missing or misplaced fsync. Here connreqd runs under
 * libiofault.so, which records every write and sync made to the store's
 * files (tests/faults/iofault.c); one client drives a workload of a few
 * hundred operations, one at a time, noting after each answer how long the
 * journal was. Then, for cut points at the journal's syncs, the store is
 * rebuilt as a power cut there would leave it (tests/faults/powercut.h:
 * only what was synced, the later writes dropped, all or a seeded random
 * subset of them), connreqd is started on it, and every write answered
 * before the cut must be there, in its answered state or a later one, and
 * `connreqd --check` clean. Every cut point of the store's creation (up to
 * the rename that gives it its name) is tried with none, all and random
 * subsets of the unsynced writes: the store must open (creation_cuts()).
 * Two deliberately wrong images (a synced write
 * taken away; a sync that did not happen) and a daemon whose syncs do
 * nothing (IOFAULT_NOSYNC) prove the checks can fail.
 *
 * POWERLOSS_CUTS: the number of sync points to cut at (default 20,
 * chosen evenly, first and last included), or "all" (make powerloss).
 * Against an ASan build (make check's second pass, where one start of
 * connreqd takes seconds) the workload is shorter (NSEND_SAN sends) and
 * 6 cut points are the default: the power-loss property is the store's,
 * the sanitizers watch connreqd open and serve the cut images. */
#include "harness.h"
#include "faults/faults.h"
#include "faults/powercut.h"

#define NSEND 150	/* sends in the workload; NSEND_SAN under ASan */
#define NSEND_SAN 40

enum { T_NONE, T_ACCEPT, T_IGNORE, T_WITHDRAW };

struct inv {
	uint64_t id;
	char from[16], to[16];
	size_t sent_ack;	/* journal records when its send was answered */
	int trans;		/* the one change made to it afterwards */
	size_t trans_ack;	/* SIZE_MAX: not made or not answered */
};

struct setting {
	char member[16];
	size_t ack;
};

struct block {
	char actor[16], other[16];
	size_t ack;
};

static struct inv invs[2 * NSEND];
static size_t ninv;
static struct setting settings[32];
static size_t nsettings;
static struct block blocks[32];
static size_t nblocks;
static size_t advance_ack = SIZE_MAX;
static size_t last_send_ack;
static char journal_path[300];
static int workload_errors;
static size_t nsend = NSEND;

/* The journal's length now, in bytes: what had happened when an answer
 * arrived (records are converted once the journal is read). */
static size_t
jlen(void)
{
	return faults_file_size(journal_path);
}

static void
workload_failed(const char *what, const struct cr_reply *r)
{
	workload_errors++;
	diag("workload: %s: %s", what, r->error ? r->code : "no answer");
}

static void
w_send(struct cr_client *c, const char *from, const char *to,
    uint64_t resend_of)
{
	struct cr_reply r;
	struct inv *v = &invs[ninv];
	int rc;

	if (resend_of)
		rc = call(c, &r, "invite.resend", "actor:s id:u", from,
		    resend_of);
	else
		rc = call(c, &r, "invite.send", "from:s to:s", from, to);
	if (rc != 0) {
		workload_failed(resend_of ? "resend" : "send", &r);
		if (rc != -1)
			cr_reply_free(&r);
		return;
	}
	memset(v, 0, sizeof *v);
	v->id = (uint64_t)rnum(&r, "invitation.id");
	snprintf(v->from, sizeof v->from, "%s", from);
	snprintf(v->to, sizeof v->to, "%s", to);
	v->sent_ack = last_send_ack = jlen();
	v->trans_ack = SIZE_MAX;
	ninv++;
	cr_reply_free(&r);
}

static void
w_trans(struct cr_client *c, struct inv *v, int trans)
{
	static const char *const method[] = { NULL, "invite.accept",
		"invite.ignore", "invite.withdraw" };
	struct cr_reply r;
	int rc;

	v->trans = trans;
	rc = call(c, &r, method[trans], "actor:s id:u",
	    trans == T_WITHDRAW ? v->from : v->to, v->id);
	if (rc != 0) {
		workload_failed(method[trans], &r);
		if (rc != -1)
			cr_reply_free(&r);
		return;
	}
	v->trans_ack = jlen();
	cr_reply_free(&r);
}

static void
w_setting(struct cr_client *c, int i)
{
	struct setting *s = &settings[nsettings];
	struct cr_reply r;
	int rc;

	snprintf(s->member, sizeof s->member, "quiet%02d", i);
	rc = call(c, &r, "member.settings.set", "member:s invitations_from:s",
	    s->member, "nobody");
	if (rc != 0) {
		workload_failed("member.settings.set", &r);
		if (rc != -1)
			cr_reply_free(&r);
		return;
	}
	s->ack = jlen();
	nsettings++;
	cr_reply_free(&r);
}

static void
w_block(struct cr_client *c, int i)
{
	struct block *b = &blocks[nblocks];
	struct cr_reply r;
	int rc;

	snprintf(b->actor, sizeof b->actor, "blocker%02d", i);
	snprintf(b->other, sizeof b->other, "pest%02d", i);
	rc = call(c, &r, "member.block", "actor:s other:s", b->actor,
	    b->other);
	if (rc != 0) {
		workload_failed("member.block", &r);
		if (rc != -1)
			cr_reply_free(&r);
		return;
	}
	b->ack = jlen();
	nblocks++;
	cr_reply_free(&r);
}

/* The workload: 150 sends from 10 senders to distinct recipients; after
 * each, a change to the invitation sent three before (accept, ignore or
 * withdraw, or none); every tenth step a setting or a block; then the
 * clock moves 22 days (past the withdrawals' cooldown) and every
 * withdrawn invitation is resent; the last operation is a send. */
static int
workload(struct cr_client *c)
{
	struct cr_reply r;
	size_t i, nwithdrawn;
	int ops = 0;
	char from[16], to[16];

	for (i = 0; i < nsend; i++) {
		snprintf(from, sizeof from, "sender%02d", (int)(i % 10));
		snprintf(to, sizeof to, "rcpt%03d", (int)i);
		w_send(c, from, to, 0);
		ops++;
		if (i >= 3 && (i - 3) % 5 != 4 && i - 3 < ninv) {
			w_trans(c, &invs[i - 3], 1 + (int)((i - 3) % 5) % 3);
			ops++;
		}
		if (i % 10 == 5) {
			w_setting(c, (int)(i / 10));
			ops++;
		} else if (i % 10 == 8) {
			w_block(c, (int)(i / 10));
			ops++;
		}
	}
	if (advance(c, &r, 22 * DAY) == T0 + 22 * DAY)
		advance_ack = jlen();
	else
		workload_failed("clock.advance", &r);
	cr_reply_free(&r);
	ops++;
	nwithdrawn = ninv;
	for (i = 0; i < nwithdrawn; i++)
		if (invs[i].trans == T_WITHDRAW) {
			w_send(c, invs[i].from, invs[i].to, invs[i].id);
			ops++;
		}
	w_send(c, "sender00", "last", 0);
	return ops + 1;
}

/* Checks the daemon on an image cut before record `cut` against the
 * answers (acks already converted to record counts); the number of
 * acknowledged writes that are not there as answered, each one told. */
static int
verify(struct dproc *p, size_t cut, int *checked)
{
	struct cr_client *c = dconnect_try(p);
	struct cr_reply r;
	const char *st;
	int bad = 0, n = 0, rc;
	size_t i;

	if (c == NULL)
		return 1;
	for (i = 0; i < ninv && bad < 10; i++) {
		struct inv *v = &invs[i];
		int done;

		if (v->sent_ack > cut)
			continue;
		n++;
		rc = call(c, &r, "invite.get", "id:u", v->id);
		if (rc == -1) {
			diag("invitation %" PRIu64 ": no answer", v->id);
			bad++;
			break;
		}
		if (rc != 0 || strcmp(rstr(&r, "invitation.from"), v->from) ||
		    strcmp(rstr(&r, "invitation.to"), v->to)) {
			diag("invitation %" PRIu64 " (%s -> %s, answered at "
			    "record %zu) is missing: %s", v->id, v->from,
			    v->to, v->sent_ack, rc ? r.code : "other members");
			bad++;
			cr_reply_free(&r);
			continue;
		}
		st = rstr(&r, "invitation.state");
		done = v->trans_ack <= cut;
		/* The sender's view: answered, or a later state. */
		if (!((strcmp(st, "pending") == 0 &&
		    (!done || v->trans == T_IGNORE)) ||
		    (strcmp(st, "accepted") == 0 && v->trans == T_ACCEPT) ||
		    (strcmp(st, "withdrawn") == 0 && v->trans == T_WITHDRAW))) {
			diag("invitation %" PRIu64 " is %s for its sender "
			    "(change %d answered: %s)", v->id, st, v->trans,
			    done ? "yes" : "no");
			bad++;
		}
		cr_reply_free(&r);
		if (done && v->trans == T_IGNORE) {
			n++;
			if (call(c, &r, "invite.get", "id:u actor:s", v->id,
			    v->to) != 0 || strcmp(rstr(&r,
			    "invitation.state"), "ignored") != 0) {
				diag("invitation %" PRIu64 " answered ignored "
				    "is %s for its recipient", v->id,
				    r.error ? r.code : rstr(&r,
				    "invitation.state"));
				bad++;
			}
			cr_reply_free(&r);
		} else if (done)
			n++;
	}
	for (i = 0; i < nsettings && bad < 10; i++) {
		if (settings[i].ack > cut)
			continue;
		n++;
		if (call(c, &r, "member.settings.get", "member:s",
		    settings[i].member) != 0 || strcmp(rstr(&r,
		    "invitations_from"), "nobody") != 0) {
			diag("%s's invitations_from nobody (answered at record "
			    "%zu) is missing", settings[i].member,
			    settings[i].ack);
			bad++;
		}
		cr_reply_free(&r);
	}
	for (i = 0; i < nblocks && bad < 10; i++) {
		if (blocks[i].ack > cut)
			continue;
		n++;
		if (call(c, &r, "invite.can_send", "from:s to:s",
		    blocks[i].other, blocks[i].actor) != 0 ||
		    rnum(&r, "allowed") != 0) {
			diag("%s's block of %s (answered at record %zu) is "
			    "missing", blocks[i].actor, blocks[i].other,
			    blocks[i].ack);
			bad++;
		}
		cr_reply_free(&r);
	}
	if (advance_ack <= cut && bad < 10) {
		n++;
		if (advance(c, &r, 0) < T0 + 22 * DAY) {
			diag("the clock's advance to day 22 is missing");
			bad++;
		}
		cr_reply_free(&r);
	}
	cr_close(c);
	*checked = n;
	return bad;
}

struct img_result {
	int started, missing, checked, check_rc;
	long kept;
};

/* The last sync of the file named name (as it was first named, or that
 * name with ".new") before record before; (size_t)-1 when none. */
static size_t
last_sync_of(const struct journal *j, const char *name, size_t before)
{
	size_t i, found = (size_t)-1, n = strlen(name);

	for (i = 0; i < before && i < j->n; i++)
		if (j->ev[i].type == JR_SYNC &&
		    strncmp(j->names[j->ev[i].file], name, n) == 0 &&
		    (j->names[j->ev[i].file][n] == '\0' ||
		    strcmp(j->names[j->ev[i].file] + n, ".new") == 0))
			found = i;
	return found;
}

/* Builds the image of a cut before record cut (mode, seed, drop: see
 * powercut_image) in p->store, starts connreqd on it, verifies and stops
 * it; --check runs on the stopped store. */
static struct img_result
run_image(struct dproc *p, const struct journal *j, size_t cut, int mode,
    uint64_t seed, size_t drop)
{
	static const char *const resume[] = { "--virtual-clock", NULL };
	struct img_result res = { 0, 0, 0, -1, 0 };
	char cmd[800];

	snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s' && : > '%s'",
	    p->store, p->store, p->log);
	if (system(cmd) != 0)
		bail_out("cannot make %s", p->store);
	res.kept = powercut_image(j, cut, mode, seed, drop, p->store);
	if (res.kept < 0)
		bail_out("cannot build the image of cut %zu", cut);
	if (dproc_start(p, 0, resume) != 0)
		return res;
	res.started = 1;
	res.missing = verify(p, cut, &res.checked);
	dproc_stop(p, SIGTERM);
	res.check_rc = faults_check_store(p->store);
	return res;
}

/* A power cut while the store is being created: at every sync point of
 * the creation (up to its first meta page write, O_DSYNC, and when the
 * store is made under another name, up to the directory sync after the
 * rename), with none, all and random subsets of the unsynced writes (and
 * renames): connreqd must open the store (nothing was acknowledged yet,
 * so an empty one is right). Before the store was created whole, a torn
 * data.mdb made LMDB refuse it for ever ("MDB_INVALID"). Returns the
 * number of images. */
static int
creation_cuts(const struct dproc *p, const struct journal *j,
    const size_t *syncs, size_t nsync, int *failed)
{
	struct dproc img = *p;
	struct img_result res;
	size_t i, k, end = 0, meta = 0, renamed = 0;
	int mode, seed, n = 0, nseed = faults_asan() ? 1 : 3;

	snprintf(img.store, sizeof img.store, "%s/image", p->dir);
	for (i = 0; i < j->n; i++) {
		const struct jevent *e = &j->ev[i];

		if (meta == 0 && e->type == JR_WRITE_SYNCED)
			meta = i + 1;
		if (renamed == 0 && e->type == JR_RENAME)
			renamed = i + 1;
		if (renamed != 0 && e->type == JR_SYNC &&
		    strcmp(j->names[e->file], ".") == 0) {
			end = i + 1;
			break;
		}
	}
	if (end < meta)
		end = meta;
	for (k = 0; k < nsync && syncs[k] < end; k++)
		for (mode = PC_NONE; mode <= PC_ALL; mode++)
			for (seed = 0; seed < (mode == PC_RANDOM ? nseed : 1);
			    seed++) {
				res = run_image(&img, j, syncs[k], mode,
				    (uint64_t)syncs[k] * 31 + (uint64_t)seed,
				    (size_t)-1);
				n++;
				if (!res.started)
					(*failed)++;
				if (!ok(res.started, "creation: a cut before "
				    "record %zu (sync point %zu), %s: connreqd "
				    "opens the store", syncs[k], k,
				    mode == PC_NONE ? "no unsynced write" :
				    mode == PC_ALL ? "every unsynced write" :
				    "a random subset of the unsynced writes"))
					dproc_show_log(&img);
				if (res.check_rc != -1)
					is_int(res.check_rc, 0, "  and --check "
					    "finds the store clean");
			}
	ok(k > 0 && renamed != 0, "creation: %zu sync points before the "
	    "store was whole and named (rename at record %zu, first meta page "
	    "write at %zu)", k, renamed, meta);
	return n;
}

/* connreqd with its syncs turned into no-ops (IOFAULT_NOSYNC) answers 20
 * sends; the power cut after the last answer must lose some (counted in
 * caught). The number of images built. */
static int
nosync_daemon(int *caught)
{
	static const char *const resume[] = { "--virtual-clock", NULL };
	struct dproc q;
	struct cr_client *c;
	struct cr_reply r;
	struct journal jq;
	uint64_t ids[20];
	char to[32], cmd[800];
	int i, n = 0, missing = 0, started;

	dproc_init(&q);
	dproc_config(&q, NO_LIMITS);
	snprintf(journal_path, sizeof journal_path, "%s/journal", q.dir);
	faults_env(&q, journal_path, NULL, NULL);
	setenv("IOFAULT_NOSYNC", "1", 1);
	started = dproc_start(&q, T0, NULL) == 0;
	faults_env_clear();
	if (!ok(started, "connreqd starts with its syncs turned off")) {
		dproc_cleanup(&q);
		return 0;
	}
	c = dconnect(&q);
	for (i = 0; i < 20; i++) {
		snprintf(to, sizeof to, "nosync%02d", i);
		ids[i] = send_inv(c, &r, "sender00", to);
		cr_reply_free(&r);
		n += ids[i] != 0;
	}
	cr_close(c);
	dproc_stop(&q, SIGTERM);
	if (journal_load(&jq, journal_path) != 0)
		bail_out("no journal of the daemon without syncs");
	snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s' && : > '%s'",
	    q.store, q.store, q.log);
	if (system(cmd) != 0 ||
	    powercut_image(&jq, jq.n, PC_NONE, 1, (size_t)-1, q.store) < 0)
		bail_out("cannot build the image of the daemon without syncs");
	journal_free(&jq);
	started = dproc_start(&q, 0, resume) == 0;
	if (started) {
		c = dconnect(&q);
		for (i = 0; i < 20; i++) {
			if (ids[i] == 0)
				continue;
			if (call(c, &r, "invite.get", "id:u", ids[i]) != 0)
				missing++;
			cr_reply_free(&r);
		}
		cr_close(c);
		dproc_stop(&q, SIGTERM);
	}
	*caught += !started || missing > 0;
	ok(n == 20 && (!started || missing > 0), "its %d answered sends do "
	    "not survive a power cut, and that is caught (%s, %d missing)", n,
	    started ? "started" : "did not start", missing);
	dproc_cleanup(&q);
	return 1;
}

/* The acks as record counts: the records that had happened when each
 * answer arrived. */
static void
acks_to_records(const struct journal *j)
{
	size_t i;

	for (i = 0; i < ninv; i++) {
		invs[i].sent_ack = journal_events_before(j, invs[i].sent_ack);
		if (invs[i].trans_ack != SIZE_MAX)
			invs[i].trans_ack = journal_events_before(j,
			    invs[i].trans_ack);
	}
	for (i = 0; i < nsettings; i++)
		settings[i].ack = journal_events_before(j, settings[i].ack);
	for (i = 0; i < nblocks; i++)
		blocks[i].ack = journal_events_before(j, blocks[i].ack);
	if (advance_ack != SIZE_MAX)
		advance_ack = journal_events_before(j, advance_ack);
	last_send_ack = journal_events_before(j, last_send_ack);
}

int
main(void)
{
	struct dproc p, img;
	struct cr_client *c;
	struct journal j;
	size_t *syncs, nsync = 0, ncut, i, k, drop;
	const char *cuts_env = getenv("POWERLOSS_CUTS");
	long funcs[JF_COUNT] = { 0 };
	int ops, images = 0, failed_images = 0, checks = 0, check_failed = 0;
	int caught = 0;	/* the deliberately wrong images caught */
	int64_t t0 = harness_ms();
	struct img_result res;
	char fmt[256];

	if (faults_asan() && (cuts_env == NULL || strcmp(cuts_env, "all")))
		nsend = NSEND_SAN;
	dproc_init(&p);
	dproc_config(&p, NO_LIMITS);
	snprintf(journal_path, sizeof journal_path, "%s/journal", p.dir);
	faults_env(&p, journal_path, NULL, NULL);
	if (!ok(dproc_start(&p, T0, NULL) == 0,
	    "connreqd starts under libiofault.so (record mode%s)",
	    faults_asan() ? ", after ASan's runtime" : "")) {
		faults_env_clear();
		dproc_cleanup(&p);
		return done_testing();
	}
	faults_env_clear();
	c = dconnect(&p);
	ops = workload(c);
	cr_close(c);
	is_int(workload_errors, 0, "the workload's %d operations were all "
	    "answered with success", ops);
	is_int(WEXITSTATUS(dproc_stop(&p, SIGTERM)), 0, "connreqd stops");

	if (!ok(journal_load(&j, journal_path) == 0, "the journal (%zu bytes) "
	    "reads back whole", faults_file_size(journal_path)))
		bail_out("no journal");
	syncs = calloc(j.n + 1, sizeof *syncs);
	for (i = 0; i < j.n; i++) {
		funcs[j.ev[i].func]++;
		if (journal_is_sync(&j.ev[i]))
			syncs[nsync++] = i;
	}
	fmt[0] = '\0';
	for (i = 0; i < JF_COUNT; i++)
		if (funcs[i] != 0)
			snprintf(fmt + strlen(fmt), sizeof fmt - strlen(fmt),
			    " %s %ld", journal_func_name((int)i), funcs[i]);
	diag("journal: %zu records, %zu sync points; calls seen:%s", j.n,
	    nsync, fmt);
	ok(funcs[JF_FDATASYNC] + funcs[JF_FSYNC] + funcs[JF_MSYNC] >=
	    (long)ops && funcs[JF_PWRITE] + funcs[JF_PWRITEV] +
	    funcs[JF_WRITEV] + funcs[JF_WRITE] >= (long)ops,
	    "the shim saw LMDB's writes and syncs: a sync and a write at "
	    "least for each operation");
	acks_to_records(&j);
	images += creation_cuts(&p, &j, syncs, nsync, &failed_images);
	/* Cut points: before each sync (it did not happen), and after the
	 * last record. */
	syncs[nsync] = j.n;
	ncut = nsync + 1;
	if (cuts_env == NULL || strcmp(cuts_env, "all") != 0) {
		size_t want = cuts_env ? (size_t)atoi(cuts_env) :
		    faults_asan() ? 6 : 20;

		if (want < 2)
			want = 2;
		if (want < ncut) {
			for (k = 0; k < want; k++)
				syncs[k] = syncs[k * (ncut - 1) / (want - 1)];
			ncut = want;
		}
	}

	memset(&img, 0, sizeof img);
	img = p;
	snprintf(img.store, sizeof img.store, "%s/image", p.dir);
	for (k = 0; k < ncut; k++) {
		int mode;

		for (mode = PC_NONE; mode <= PC_RANDOM; mode++) {
			res = run_image(&img, &j, syncs[k], mode,
			    (uint64_t)syncs[k] * 7919 + 1, (size_t)-1);
			images++;
			if (!res.started || res.missing != 0)
				failed_images++;
			if (!ok(res.started && res.missing == 0,
			    "cut before record %zu of %zu, %s: connreqd "
			    "starts, the %d acknowledged writes and changes "
			    "are there", syncs[k], j.n, mode == PC_NONE ?
			    "no unsynced write" : "a random subset of the "
			    "unsynced writes", res.checked))
				dproc_show_log(&img);
			if (res.check_rc != -1) {
				checks++;
				if (res.check_rc != 0)
					check_failed++;
				is_int(res.check_rc, 0, "  and --check finds "
				    "the store clean");
			}
		}
	}

	/* The checks can fail: the log's last fdatasync before the last
	 * send's answer not made loses that send (the cut right at the
	 * answer, so that no later sync of the log covers it). */
	drop = last_sync_of(&j, "wal", last_send_ack);
	res = run_image(&img, &j, last_send_ack, PC_NONE, 1, drop);
	images++;
	caught += !res.started || res.missing > 0;
	ok(drop != (size_t)-1 && (!res.started || res.missing > 0),
	    "a wrong image, without the log's fdatasync of record %zu, is "
	    "caught (%s, %d missing)", drop, res.started ? "started" :
	    "did not start", res.missing);
	/* And a checkpoint whose sync of data.mdb did not happen: the log's
	 * checkpoint (its meta pages) is durable, the pages they point to
	 * are not. */
	drop = last_sync_of(&j, "data.mdb", last_send_ack);
	res = run_image(&img, &j, last_send_ack, PC_NONE, 1, drop);
	images++;
	caught += !res.started || res.missing > 0 || res.check_rc > 0;
	ok(drop != (size_t)-1 && (!res.started || res.missing > 0 ||
	    res.check_rc > 0),
	    "a wrong image, the checkpoint's fdatasync of data.mdb at record "
	    "%zu not made, is caught (%s, %d missing, --check %d)", drop,
	    res.started ? "started" : "did not start", res.missing,
	    res.check_rc);

	/* And a daemon that lost its syncs (the shim makes them do nothing):
	 * its answers are not durable, and a power cut shows it. */
	images += nosync_daemon(&caught);

	diag("figures: %d operations, %zu sync points, %zu cut points, %d "
	    "images (3 of them deliberately wrong, %d caught), %d right "
	    "ones with writes missing, --check run %d times (%d unclean), "
	    "%.1f s", ops, nsync, ncut, images, caught, failed_images, checks,
	    check_failed, (double)(harness_ms() - t0) / 1000);
	free(syncs);
	journal_free(&j);
	dproc_cleanup(&p);
	return done_testing();
}
