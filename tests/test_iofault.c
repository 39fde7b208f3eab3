/* I/O faults (issue 9): the N-th fdatasync, fsync, msync, pwrite or write
 * connreqd makes on its store fails, with EIO and then with ENOSPC
 * (libiofault.so, tests/faults/iofault.c). One client sends, one request at
 * a time, and keeps every answer. Whatever failed, no write may be answered
 * with success and then be missing once connreqd restarts, without the
 * shim, on the same files; the store must open and `connreqd --check` be
 * clean. Then, as docs/protocol.md §2.6 says:
 *
 * - EIO is fail-stop: the write that hit it gets no answer and connreqd
 *   exits;
 * - ENOSPC on a write of LMDB's data pages (data.mdb past its two meta
 *   pages; writev, pwrite): LMDB's commit fails before anything is
 *   logged, that write gets STORE_FULL, connreqd stays alive, and the
 *   later writes are answered with success (the disk is not really full,
 *   so store_room() lets the next batch commit; issue 9, bug 3);
 * - ENOSPC anywhere else is fail-stop, as EIO: on the log (its write or
 *   its fdatasync, after LMDB committed the batch: a commit that may not
 *   survive a crash must not be answered, nor served on), on a
 *   checkpoint's sync of data.mdb, or on a meta page write (LMDB then
 *   panics the environment, MDB_FATAL_ERROR).
 *
 * A fault that fires while connreqd starts is only held to the restart
 * and the lost-write check.
 *
 * First, faults while connreqd creates its store (the very first write
 * torn, a sync of the new file or of the directory failing): connreqd
 * does not start, and the next start without the shim must open an empty
 * store (creation()).
 *
 * IOFAULT_MATRIX=full (make powerloss): N = 1..30 for every call and
 * errno, and the "short" writes (half the bytes written, then the error);
 * otherwise N in {1, 2, 3, 5, 8, 13, 21, 30}, and a call that was never
 * made N times is not tried with a larger N. Against an ASan build (make
 * check's second pass, where each of a run's two starts of connreqd takes
 * seconds) N is 3 and 13 only. */
#include "harness.h"
#include "faults/faults.h"

#define WRITES 32	/* sends a run makes at most: 34 commits */
#define AFTER_HIT 3	/* sends tried after the fault fired */

struct run_result {
	int started;		/* connreqd answered under the shim */
	int hit_op;		/* -2: the fault never fired; -1: at start */
	int hit_rc;		/* the call that hit it: 0 ok, 1 error, -1 none */
	int hit_failstop;	/* the failed call must stop connreqd (see
				 * hit_failstop()) */
	char hit_code[32];
	int alive;		/* connreqd still running after the writes */
	int acked, lost, restarted, check_rc;
	int later_ok;		/* sends answered with success after the hit */
};

static int
hit_fired(const char *path)
{
	return faults_file_size(path) > 0;
}

/* Whether the failure the shim's hit line ("CALL N ERRNO FUNC FILE
 * OFFSET [dsync]") names must stop connreqd: every failure but ENOSPC on a
 * write of LMDB's data pages (data.mdb, past its two meta pages). A
 * failed sync, a failed write of the log (wal) or of a meta page leaves a
 * commit that may not be on disk, or an environment LMDB has panicked:
 * fail-stop. */
static int
hit_failstop(const char *path, int eio)
{
	char line[512] = "", call[32], func[32], file[256], tail[32] = "";
	long n;
	int err, fields;
	long long off;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return eio;
	if (fgets(line, sizeof line, f) == NULL)
		line[0] = '\0';
	fclose(f);
	fields = sscanf(line, "%31s %ld %d %31s %255s %lld %31s", call, &n,
	    &err, func, file, &off, tail);
	if (eio || fields < 6)
		return 1;
	return strcmp(tail, "dsync") == 0 || strcmp(file, "data.mdb") != 0 ||
	    (strcmp(call, "pwrite") != 0 && strcmp(call, "write") != 0) ||
	    off < 2 * 4096;
}

/* One run: connreqd under IOFAULT_FAIL=fail, the sends, then a restart
 * without the shim and the checks. */
static struct run_result
run(const char *fail, int eio)
{
	struct run_result res;
	struct dproc p;
	struct cr_client *c;
	struct cr_reply r;
	uint64_t ids[WRITES];
	char hit[300], to[16];
	int i, rc, status;
	int64_t start;
	static const char *const resume[] = { "--virtual-clock", NULL };

	memset(&res, 0, sizeof res);
	memset(ids, 0, sizeof ids);
	res.hit_op = -2;
	res.hit_rc = 0;
	res.check_rc = -1;
	dproc_init(&p);
	dproc_config(&p, NO_LIMITS);
	snprintf(hit, sizeof hit, "%s/hit", p.dir);
	mkdir(p.store, 0700);
	faults_env(&p, NULL, fail, hit);
	res.started = dproc_start(&p, T0, NULL) == 0;
	faults_env_clear();
	if (hit_fired(hit))
		res.hit_op = -1;
	c = res.started ? dconnect_try(&p) : NULL;
	for (i = 0; c != NULL && i < WRITES; i++) {
		int before = hit_fired(hit);

		ids[i] = 0;
		snprintf(to, sizeof to, "t%03d", i);
		rc = call(c, &r, "invite.send", "from:s to:s", "f", to);
		if (rc == 0) {
			ids[i] = (uint64_t)rnum(&r, "invitation.id");
			res.acked++;
		}
		if (!before && hit_fired(hit)) {
			res.hit_op = i;
			res.hit_rc = rc;
			snprintf(res.hit_code, sizeof res.hit_code, "%s",
			    rc == 1 ? r.code : "");
		} else if (res.hit_op != -2 && rc == 0)
			res.later_ok++;
		if (rc != -1)
			cr_reply_free(&r);
		if (rc == -1 || (res.hit_op != -2 && i >= res.hit_op +
		    AFTER_HIT))
			break;
	}
	if (c != NULL)
		cr_close(c);
	/* Fail-stop (EIO, or a meta page write that failed) takes a
	 * moment: wait, boundedly, for the exit. */
	res.hit_failstop = hit_failstop(hit, eio);
	start = harness_ms();
	while (res.hit_op != -2 && res.hit_failstop &&
	    dproc_alive(&p) && wait_tick(start))
		;
	res.alive = dproc_alive(&p);
	if (p.pid > 0 && !dproc_alive(&p)) {
		waitpid(p.pid, &status, 0);
		p.pid = 0;
	} else
		dproc_stop(&p, SIGKILL);

	/* The same files, without the shim. */
	if (dproc_start(&p, 0, resume) == 0) {
		res.restarted = 1;
		c = dconnect(&p);
		for (i = 0; i < WRITES; i++) {
			if (ids[i] == 0)
				continue;
			snprintf(to, sizeof to, "t%03d", i);
			if (call(c, &r, "invite.get", "id:u", ids[i]) != 0 ||
			    strcmp(rstr(&r, "invitation.to"), to) != 0) {
				diag("%s: invitation %" PRIu64 " to %s was "
				    "answered with success and is missing",
				    fail, ids[i], to);
				res.lost++;
			}
			cr_reply_free(&r);
		}
		cr_close(c);
		dproc_stop(&p, SIGTERM);
		res.check_rc = faults_check_store(p.store);
	} else
		dproc_show_log(&p);
	dproc_cleanup(&p);
	return res;
}

/* A fault while LMDB creates the store (its very first write torn, or a
 * sync of the new file or of the directory failing): nothing was ever
 * acknowledged, connreqd does not start, and the next start, without the
 * shim, must open an empty store (the half-made one is removed, and said
 * so) and serve. Before the store was created whole under another name,
 * a torn first write left a data.mdb LMDB refused forever
 * ("MDB_INVALID"). */
static void
creation(const char *fail)
{
	struct dproc p;
	struct cr_client *c;
	struct cr_reply r;
	char hit[300], path[300];
	int status, rc;
	static const char *const resume[] = { "--virtual-clock", NULL };

	dproc_init(&p);
	dproc_config(&p, NO_LIMITS);
	snprintf(hit, sizeof hit, "%s/hit", p.dir);
	mkdir(p.store, 0700);
	faults_env(&p, NULL, fail, hit);
	status = dproc_refused(&p, T0, NULL);
	faults_env_clear();
	ok(hit_fired(hit) && WIFEXITED(status) && WEXITSTATUS(status) != 0,
	    "creation, %s: the fault fired and connreqd did not start (exit "
	    "%d)", fail, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	if (!ok(dproc_start(&p, 0, resume) == 0, "creation, %s: the next "
	    "start, without the shim, opens the store", fail)) {
		dproc_cleanup(&p);
		return;
	}
	snprintf(path, sizeof path, "%s/data.mdb.new", p.store);
	ok(access(path, F_OK) == -1 && dproc_logged(&p, "removed") &&
	    dproc_logged(&p, "did not finish"), "creation, %s: what the "
	    "creation left is removed, and the log says so", fail);
	c = dconnect(&p);
	rc = call(c, &r, "invite.get", "id:u", (uint64_t)1);
	ok(rc == 1 && strcmp(r.code, "NOT_FOUND") == 0, "creation, %s: the "
	    "store is empty (invitation 1: %s)", fail, rc == 1 ? r.code :
	    "found");
	if (rc != -1)
		cr_reply_free(&r);
	rc = call(c, &r, "invite.send", "from:s to:s", "f", "t");
	ok(rc == 0, "creation, %s: and serves: a send is answered with "
	    "success", fail);
	if (rc != -1)
		cr_reply_free(&r);
	cr_close(c);
	is_int(WEXITSTATUS(dproc_stop(&p, SIGTERM)), 0, "creation, %s: "
	    "connreqd stops", fail);
	if ((rc = faults_check_store(p.store)) != -1)
		is_int(rc, 0, "creation, %s: --check is clean", fail);
	dproc_cleanup(&p);
}

int
main(void)
{
	static const char *const calls[] = { "fdatasync", "fsync", "msync",
		"pwrite", "write" };
	static const char *const errs[] = { "EIO", "ENOSPC" };
	static const int sample[] = { 1, 2, 3, 5, 8, 13, 21, 30 };
	static const int sample_san[] = { 3, 13 };
	const char *matrix = getenv("IOFAULT_MATRIX");
	int full = matrix != NULL && strcmp(matrix, "full") == 0;
	int san = !full && faults_asan();
	int nn = full ? 30 : san ? 2 : (int)(sizeof sample /
	    sizeof sample[0]);
	int runs = 0, injected = 0, ci, ei, ni, si, n;
	int64_t t0 = harness_ms();
	char fail[64], never[512] = "";
	struct run_result res;
	static const char *const at_creation[] = { "pwrite:1:EIO:short",
		"pwrite:1:ENOSPC:short", "fdatasync:1:EIO", "fsync:1:EIO",
		"fsync:2:EIO" };

	for (ni = 0; ni < (int)(sizeof at_creation / sizeof at_creation[0]);
	    ni++)
		creation(at_creation[ni]);
	for (ci = 0; ci < 5; ci++)
		for (ei = 0; ei < 2; ei++)
			for (si = 0; si < (full && ci >= 3 ? 2 : 1); si++) {
				int last_fired = 0;

				for (ni = 0; ni < nn; ni++) {
					n = full ? ni + 1 : san ?
					    sample_san[ni] : sample[ni];
					snprintf(fail, sizeof fail, "%s:%d:%s%s",
					    calls[ci], n, errs[ei],
					    si ? ":short" : "");
					res = run(fail, ei == 0);
					runs++;
					if (!ok(res.restarted && res.lost == 0,
					    "%s: %s; %d writes answered with "
					    "success, none missing after the "
					    "restart", fail, res.hit_op == -2 ?
					    "never fired" : res.hit_op == -1 ?
					    "fired at start" : "fired", res.acked))
						diag("  restarted %d, lost %d",
						    res.restarted, res.lost);
					if (res.check_rc != -1)
						is_int(res.check_rc, 0, "%s: "
						    "--check is clean", fail);
					if (res.hit_op == -2) {
						if (!full)
							break;
						continue;
					}
					last_fired = n;
					injected++;
					if (res.hit_op >= 0)
						ok(res.hit_rc != 0, "%s: the "
						    "write that hit it was not "
						    "answered with success (%s)",
						    fail, res.hit_rc == -1 ?
						    "no answer" : res.hit_code);
					if (res.hit_op < 0)
						continue;	/* at start */
					if (res.hit_failstop) {
						/* EIO, a sync, the log, a meta
						 * page: fail-stop. */
						ok(res.hit_rc == -1 &&
						    !res.alive, "%s: %s: no "
						    "answer, connreqd exited "
						    "(fail-stop)", fail,
						    ei == 0 ? "EIO" : "not a "
						    "data page write");
						continue;
					}
					/* ENOSPC on a data page write. */
					is_str(res.hit_code, "STORE_FULL",
					    "%s: the write that hit it got "
					    "STORE_FULL", fail);
					ok(res.alive && res.later_ok > 0,
					    "%s: connreqd still serves, later "
					    "writes answered (%d)", fail,
					    res.later_ok);
				}
				if (last_fired == 0)
					snprintf(never + strlen(never),
					    sizeof never - strlen(never),
					    " %s%s:%s", calls[ci], si ?
					    ":short" : "", errs[ei]);
			}
	diag("faults that never fired (connreqd does not make the call):%s",
	    never[0] ? never : " none");
	diag("figures: %d runs, %d faults injected, %.1f s", runs, injected,
	    (double)(harness_ms() - t0) / 1000);
	return done_testing();
}
