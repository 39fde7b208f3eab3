/* Issue 13, backups: store.backup (connreq backup) writes a compacted copy
 * of an LMDB store while connreqd serves a steady write load from another
 * client; a daemon started on the copy holds every write answered before
 * the backup began, and connreqd --check finds it clean. Its refusals: a
 * relative path, a file that is there, a missing directory, the store's
 * own directory (however named); a file made at the path while the copy
 * is written is not replaced; and while a backup is under way the map
 * grows and the daemon serves on (both with the backup held under way by
 * tests/faults/holdwrite.c). On PostgreSQL
 * (test_backup_pg.c) the method refuses, pointing to the database's own
 * tools. */
#include "harness.h"

static struct cr_client *c;
static struct cr_reply r;

static int
backup(const char *path)
{
	cr_reply_free(&r);
	return call(c, &r, "store.backup", "path:s", path);
}

#ifndef HARNESS_PG
#define BEFORE 300
#define NOTE200 "a note of two hundred characters, to fill pages: " \
    "0123456789012345678901234567890123456789012345678901234567890123456789" \
    "01234567890123456789012345678901234567890123456789012345678901234567890"

/* A client that sends as fast as it is answered until killed; it writes
 * how many were answered to fd at each one. */
static void
writer(struct dproc *p, int fd)
{
	struct cr_client *w = dconnect(p);
	struct cr_reply wr;
	char to[32];
	uint32_t n = 0;

	memset(&wr, 0, sizeof wr);
	for (;;) {
		snprintf(to, sizeof to, "load-%u", n);
		if (call(w, &wr, "invite.send", "from:s to:s", "loader", to) != 0)
			_exit(1);
		cr_reply_free(&wr);
		n++;
		if (write(fd, &n, sizeof n) != sizeof n)
			_exit(1);
	}
}

/* Starts h with build/lib/LIB preloaded and the environment variables
 * env (NULL-terminated name, value pairs) set for it alone: 0, or -1. */
static int
start_preloaded(struct dproc *h, const char *lib, const char *const *env)
{
	const char *bin = getenv("CONNREQ_BIN"), *old = getenv("ASAN_OPTIONS");
	char shim[600], asan[1100], *keep = old != NULL ? strdup(old) : NULL;
	size_t i;
	int rc;

	snprintf(shim, sizeof shim, "%s/../lib/%s", bin ? bin : "build/bin",
	    lib);
	/* Under ASan the shim comes after ASan's runtime (as test_e2e's). */
	snprintf(asan, sizeof asan, "verify_asan_link_order=0%s%s",
	    old != NULL ? ":" : "", old != NULL ? old : "");
	setenv("LD_PRELOAD", shim, 1);
	setenv("ASAN_OPTIONS", asan, 1);
	for (i = 0; env[i] != NULL; i += 2)
		setenv(env[i], env[i + 1], 1);
	rc = dproc_start(h, T0, NULL);
	unsetenv("LD_PRELOAD");
	for (i = 0; env[i] != NULL; i += 2)
		unsetenv(env[i]);
	if (keep != NULL) {
		setenv("ASAN_OPTIONS", keep, 1);
		free(keep);
	} else
		unsetenv("ASAN_OPTIONS");
	return rc;
}

/* Starts h with its backup's writes held while the file gate exists
 * (tests/faults/holdwrite.c): 0, or -1. */
static int
start_held(struct dproc *h, const char *gate)
{
	int fd;

	if ((fd = open(gate, O_WRONLY | O_CREAT, 0600)) == -1)
		bail_out("%s: %s", gate, strerror(errno));
	close(fd);
	return start_preloaded(h, "libholdwrite.so", (const char *const[]){
	    "HOLD_GATE", gate, "HOLD_SUFFIX", ".tmp", NULL });
}

/* While a backup runs, the daemon serves on when its map must grow: the
 * copy's read transaction used to be the daemon's own, and LMDB resizes a
 * map only with none open in the process, so the growth waited for the
 * backup's end, on the event loop: nothing was answered meanwhile, hello
 * included. 1,500 sends one by one grow an 8 MiB map several times. */
static void
test_growth_while_held(void)
{
	enum { SENDS = 1500 };
	char gate[300], path[300], cmd[900];
	struct cr_client *saved = c;
	struct dproc h;
	int64_t t0, map0;
	pid_t pid;
	int st = -1, rc;

	dproc_init(&h);
	dproc_config(&h, NO_LIMITS);
	snprintf(gate, sizeof gate, "%s/gate", h.dir);
	snprintf(path, sizeof path, "%s/held.mdb", h.dir);
	if (!ok(start_held(&h, gate) == 0,
	    "connreqd starts, its backup writes held by a gate"))
		return;
	c = dconnect(&h);
	cr_reply_free(&r);
	call(c, &r, "server.info", "");
	map0 = rnum(&r, "store.map_size");
	is_int(backup(path), 0, "store.backup: begun, and held");
	fflush(stdout);
	if ((pid = fork()) == 0) {
		struct cr_client *w = dconnect(&h);
		struct cr_reply wr;
		char to[32];
		int i;

		memset(&wr, 0, sizeof wr);
		for (i = 0; i < SENDS; i++) {
			snprintf(to, sizeof to, "grow-%d", i);
			cr_reply_free(&wr);
			if (call(w, &wr, "invite.send", "from:s to:s note:s",
			    "grower", to, NOTE200) != 0)
				_exit(1);
		}
		_exit(0);
	}
	t0 = harness_ms();
	while ((rc = (int)waitpid(pid, &st, WNOHANG)) == 0 && wait_tick(t0))
		;
	if (rc == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
	if (!ok(rc == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "%d sends answered while the backup is held", SENDS)) {
		/* The daemon waits for the backup: let it go first. */
		unlink(gate);
	}
	cr_reply_free(&r);
	rc = call(c, &r, "server.info", "");
	ok(rc == 0 && strcmp(rstr(&r, "backup.state"), "running") == 0 &&
	    rnum(&r, "store.map_size") > map0,
	    "... the backup still running, the map grown (%lld to %lld bytes)",
	    (long long)map0, (long long)rnum(&r, "store.map_size"));
	cr_reply_free(&r);
	is_int(call(c, &r, "hello", ""), 0, "... and hello answered");
	unlink(gate);
	t0 = harness_ms();
	do {
		cr_reply_free(&r);
		call(c, &r, "server.info", "");
	} while (strcmp(rstr(&r, "backup.state"), "running") == 0 &&
	    wait_tick(t0));
	is_str(rstr(&r, "backup.state"), "done", "let go, the backup is done");
	cr_reply_free(&r);
	cr_close(c);
	c = saved;
	is_int(dproc_stop(&h, SIGTERM), 0, "it stops");
	{
		struct dproc q;

		dproc_init(&q);
		mkdir(q.store, 0700);
		snprintf(cmd, sizeof cmd, "cp '%s' '%s/data.mdb' && "
		    "XDG_CONFIG_HOME=/nonexistent '%s/connreqd' --check -d '%s' >/dev/null 2>&1",
		    path, q.store, getenv("CONNREQ_BIN"), q.store);
		is_int(system(cmd), 0, "connreqd --check on the copy: clean");
		dproc_cleanup(&q);
	}
	dproc_cleanup(&h);
}

/* A file made at the path while the backup is being written is not
 * replaced by the copy: the backup fails, saying so, and the file stays.
 * The backup is held under way by tests/faults/holdwrite.c (its writes to
 * *.tmp wait while a gate file exists). */
/* A backup whose directory cannot be synced once the copy has its name
 * failed: a power cut could lose the name (tests/faults/iofault.c fails
 * the second fsync in the backup's directory: the copy's, then the
 * directory's). */
static void
test_dir_sync_fails(void)
{
	char bdir[300], path[320];
	struct cr_client *saved = c;
	struct dproc h;
	int64_t t0;
	int rc;

	dproc_init(&h);
	snprintf(bdir, sizeof bdir, "%s/backups", h.dir);
	snprintf(path, sizeof path, "%s/b.mdb", bdir);
	if (mkdir(bdir, 0700) == -1)
		bail_out("%s: %s", bdir, strerror(errno));
	rc = start_preloaded(&h, "libiofault.so", (const char *const[]){
	    "IOFAULT_DIR", bdir, "IOFAULT_FAIL", "fsync:2", NULL });
	if (!ok(rc == 0, "connreqd starts, its backup directory's second fsync to fail"))
		return;
	c = dconnect(&h);
	is_int(backup(path), 0, "store.backup: begun");
	t0 = harness_ms();
	do {
		cr_reply_free(&r);
		call(c, &r, "server.info", "");
	} while (strcmp(rstr(&r, "backup.state"), "running") == 0 &&
	    wait_tick(t0));
	is_str(rstr(&r, "backup.state"), "failed",
	    "the directory not synced: the backup failed, not done");
	ok(strstr(rstr(&r, "backup.error"), "directory") != NULL,
	    "... saying so (%s)", rstr(&r, "backup.error"));
	cr_reply_free(&r);
	cr_close(c);
	c = saved;
	is_int(dproc_stop(&h, SIGTERM), 0, "it stops");
	dproc_cleanup(&h);
}

static void
test_path_taken_meanwhile(void)
{
	char gate[300], path[300], tmp[310], buf[64];
	struct cr_client *saved = c;
	struct dproc h;
	struct stat st;
	int64_t t0;
	ssize_t n;
	int fd, rc;

	dproc_init(&h);
	snprintf(gate, sizeof gate, "%s/gate", h.dir);
	snprintf(path, sizeof path, "%s/taken.mdb", h.dir);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	rc = start_held(&h, gate);
	if (!ok(rc == 0, "connreqd starts, its backup writes held by a gate"))
		return;
	c = dconnect(&h);
	is_int(backup(path), 0, "store.backup: begun, and held");
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) == -1 ||
	    write(fd, "the user's file", 15) != 15)
		bail_out("%s: %s", path, strerror(errno));
	close(fd);
	unlink(gate);
	t0 = harness_ms();
	do {
		cr_reply_free(&r);
		call(c, &r, "server.info", "");
	} while (strcmp(rstr(&r, "backup.state"), "running") == 0 &&
	    wait_tick(t0));
	is_str(rstr(&r, "backup.state"), "failed",
	    "a file made at the path meanwhile: the backup failed");
	ok(strstr(rstr(&r, "backup.error"), "is there") != NULL,
	    "... saying so (%s)", rstr(&r, "backup.error"));
	fd = open(path, O_RDONLY);
	n = fd == -1 ? -1 : read(fd, buf, sizeof buf - 1);
	if (fd != -1)
		close(fd);
	ok(n == 15 && memcmp(buf, "the user's file", 15) == 0,
	    "... and the file is as it was made, not replaced by the copy");
	ok(stat(tmp, &st) == -1, "... the temporary copy removed");
	cr_reply_free(&r);
	cr_close(c);
	c = saved;
	is_int(dproc_stop(&h, SIGTERM), 0, "it stops");
	dproc_cleanup(&h);
}

int
main(void)
{
	struct dproc p, q;
	char path[300], to[32], cmd[900];
	int64_t ids[BEFORE];
	int pipefd[2], i, found = 0, polls = 0, during = 0;
	uint32_t answered = 0, x;
	pid_t pid;
	const msgpack_object *b;
	int64_t t0, bytes;

	dproc_init(&p);
	dproc_config(&p, NO_LIMITS);
	if (!ok(dproc_start(&p, T0, NULL) == 0, "connreqd starts"))
		return done_testing();
	c = dconnect(&p);
	for (i = 0; i < BEFORE; i++) {
		snprintf(to, sizeof to, "m%d", i);
		ids[i] = (int64_t)send_inv(c, &r, "early", to);
	}
	ok(ids[BEFORE - 1] > 0, "%d writes answered before the backup", BEFORE);

	/* The load, from another client. */
	if (pipe(pipefd) == -1)
		bail_out("pipe");
	fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
	if ((pid = fork()) == 0) {
		close(pipefd[0]);
		writer(&p, pipefd[1]);
	}
	close(pipefd[1]);
	/* Until the load is under way. */
	t0 = harness_ms();
	while (answered < 20 && wait_left(t0) > 0) {
		if (read(pipefd[0], &x, sizeof x) == sizeof x)
			answered = x;
		wait_tick(t0);
	}
	ok(answered >= 20, "another client writes steadily (%u answered)",
	    answered);

	snprintf(path, sizeof path, "%s/backup.mdb", p.dir);
	is_int(backup(path), 0, "store.backup: begun");
	ok(strcmp(rstr(&r, "backup.state"), "running") == 0 ||
	    strcmp(rstr(&r, "backup.state"), "done") == 0,
	    "... its state: %s", rstr(&r, "backup.state"));
	is_int(backup(path), 1, "a second one to the same file: refused");
	ok(refused(&r, "INVALID_STATE") || refused(&r, "INVALID_ARGUMENT"),
	    "... as under way or there (%s)", r.message);
	/* server.info until it ends; the load goes on meanwhile. */
	t0 = harness_ms();
	for (;;) {
		cr_reply_free(&r);
		call(c, &r, "server.info", "");
		polls++;
		while (read(pipefd[0], &x, sizeof x) == sizeof x) {
			if (strcmp(rstr(&r, "backup.state"), "running") == 0)
				during++;
			answered = x;
		}
		if (strcmp(rstr(&r, "backup.state"), "running") != 0 ||
		    wait_left(t0) <= 0)
			break;
		wait_tick(t0);
	}
	is_str(rstr(&r, "backup.state"), "done", "the backup is done");
	is_str(rstr(&r, "backup.path"), path, "... to the path given");
	b = cr_get(r.result, "backup");
	bytes = b != NULL ? rnum(&r, "backup.bytes") : -1;
	ok(bytes > 0 && rnum(&r, "backup.took_ms") >= 0 &&
	    strcmp(rstr(&r, "backup.error"), "nil") == 0,
	    "... %lld bytes, took_ms, no error", (long long)bytes);
	diag("%d polls; %d writes of the other client answered while it ran",
	    polls, during);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	while (read(pipefd[0], &x, sizeof x) == sizeof x)
		answered = x;
	close(pipefd[0]);
	ok(answered > 20, "the other client's writes were answered throughout (%u)",
	    answered);
	{
		struct stat st;

		snprintf(cmd, sizeof cmd, "%s.tmp", path);
		ok(stat(path, &st) == 0 && st.st_size == bytes &&
		    stat(cmd, &st) == -1,
		    "the file is whole, its temporary name gone");
	}

	/* Refusals. */
	is_int(backup("relative.mdb"), 1, "a relative path: refused");
	ok(refused(&r, "INVALID_ARGUMENT"), "... INVALID_ARGUMENT (%s)",
	    r.message);
	is_int(backup(path), 1, "a file that is there: refused");
	ok(refused(&r, "INVALID_ARGUMENT"), "... INVALID_ARGUMENT (%s)",
	    r.message);
	is_int(backup("/nonexistent-dir/b.mdb"), 1, "no such directory: refused");
	ok(refused(&r, "INVALID_ARGUMENT"), "... INVALID_ARGUMENT (%s)",
	    r.message);
	/* PATH.tmp there (a backup killed with its daemon left it): the
	 * copy could not be written, which was said only in server.info
	 * after the backup was answered as begun. */
	snprintf(cmd, sizeof cmd, "%s/left.mdb.tmp", p.dir);
	{
		int fd = open(cmd, O_WRONLY | O_CREAT | O_EXCL, 0600);

		if (fd == -1)
			bail_out("%s: %s", cmd, strerror(errno));
		close(fd);
	}
	snprintf(cmd, sizeof cmd, "%s/left.mdb", p.dir);
	is_int(backup(cmd), 1, "PATH.tmp there: refused at once");
	ok(refused(&r, "INVALID_ARGUMENT") &&
	    strstr(r.message, "left.mdb.tmp") != NULL,
	    "... INVALID_ARGUMENT, naming it (%s)", r.message);
	/* The store's own directory: its files are the daemon's (the next
	 * start removed a data.mdb.new as a creation's leftover, a backup
	 * named so was lost), and a restore moves the directory aside. */
	snprintf(cmd, sizeof cmd, "%s/data.mdb.new", p.store);
	is_int(backup(cmd), 1, "in the store's own directory: refused");
	ok(refused(&r, "INVALID_ARGUMENT") &&
	    strstr(r.message, "store's directory") != NULL,
	    "... INVALID_ARGUMENT (%s)", r.message);
	snprintf(cmd, sizeof cmd, "%s/store-link", p.dir);
	if (symlink(p.store, cmd) == -1)
		bail_out("symlink");
	snprintf(cmd, sizeof cmd, "%s/store-link/b.mdb", p.dir);
	is_int(backup(cmd), 1, "... through a symbolic link to it too");
	ok(refused(&r, "INVALID_ARGUMENT"), "... INVALID_ARGUMENT (%s)",
	    r.message);
	cr_reply_free(&r);
	cr_close(c);
	is_int(dproc_stop(&p, SIGTERM), 0, "the daemon stops");

	/* Restore: the file as data.mdb of a new store directory. */
	dproc_init(&q);
	mkdir(q.store, 0700);
	snprintf(cmd, sizeof cmd, "cp '%s' '%s/data.mdb'", path, q.store);
	if (system(cmd) != 0)
		bail_out("cp");
	snprintf(cmd, sizeof cmd,
	    "XDG_CONFIG_HOME=/nonexistent '%s/connreqd' --check -d '%s' >/dev/null 2>&1",
	    getenv("CONNREQ_BIN"), q.store);
	is_int(system(cmd), 0, "connreqd --check on the copy: clean");
	if (!ok(dproc_start(&q, T0, NULL) == 0, "a daemon starts on the copy"))
		return done_testing();
	c = dconnect(&q);
	for (i = 0; i < BEFORE; i++) {
		cr_reply_free(&r);
		if (call(c, &r, "invite.get", "actor:s id:u", "early",
		    (uint64_t)ids[i]) == 0)
			found++;
	}
	is_int(found, BEFORE, "every write answered before the backup is there");
	ok(send_inv(c, &r, "after", "restore") > 0, "and it takes writes");
	cr_reply_free(&r);
	cr_close(c);
	is_int(dproc_stop(&q, SIGTERM), 0, "it stops");
	dproc_cleanup(&q);
	dproc_cleanup(&p);
	test_path_taken_meanwhile();
	test_dir_sync_fails();
	test_growth_while_held();
	return done_testing();
}
#else
int
main(void)
{
	struct dproc p;
	char path[300];

	harness_pg_start();
	dproc_init(&p);
	if (!ok(dproc_start(&p, T0, NULL) == 0, "connreqd --postgres starts"))
		return done_testing();
	c = dconnect(&p);
	snprintf(path, sizeof path, "%s/backup.mdb", p.dir);
	is_int(backup(path), 1, "store.backup on PostgreSQL: refused");
	ok(refused(&r, "NOT_PERMITTED") && strstr(r.message, "pg_basebackup") != NULL,
	    "... NOT_PERMITTED, naming the database's tools (%s)", r.message);
	cr_reply_free(&r);
	call(c, &r, "server.info", "");
	is_str(rstr(&r, "backup"), "nil", "server.info: no backup");
	cr_reply_free(&r);
	cr_close(c);
	is_int(dproc_stop(&p, SIGTERM), 0, "it stops");
	dproc_cleanup(&p);
	return done_testing();
}
#endif
