/* tests/pgcluster.h: a PostgreSQL 15 cluster of the test's own, for the
 * tests of the PostgreSQL store backend (daemon/store-pg.c).
 *
 *	struct pgcluster pg;
 *	char conninfo[512];
 *
 *	if (pgcluster_start(&pg) == -1) bail_out(...);
 *	pgcluster_newdb(&pg, conninfo, sizeof conninfo);   one per fresh store
 *	...
 *	pgcluster_stop(&pg);                               (also at exit)
 *
 * and, for the failover test, a streaming standby of it (further down:
 * pgcluster_start_standby, pgcluster_kill, pgcluster_promote).
 *
 * The cluster lives in a mkdtemp directory (in /dev/shm, else /tmp):
 * initdb'd there, or copied from a template (pgcluster_start), as nobody
 * when the test runs as root, since PostgreSQL refuses to run as root (as
 * the current user otherwise), listening on a Unix socket in that directory
 * only (listen_addresses=''), with trust authentication for the user
 * postgres. Each fresh store is a database of its own (CREATE DATABASE);
 * its conninfo is "host=DIR dbname=NAME user=postgres".
 *
 * fsync=off: for this TEST cluster only, to keep the tests fast; nothing
 * here measures or relies on durability across a power cut.
 *
 * Cleanup never depends on the test ending well: a watchdog process,
 * forked when the cluster starts, waits on a pipe whose only writer is the
 * test. When the test exits, whether by pgcluster_stop(), exit(), a
 * sanitizer's abort, a signal or SIGKILL, the pipe reads end-of-file and
 * the watchdog stops the postmaster (SIGQUIT: an immediate shutdown),
 * waits for it to go and removes the directory. The watchdog ignores the
 * terminal's signals, so a ^C that kills the test still cleans up. */
#ifndef CONNREQ_PGCLUSTER_H
#define CONNREQ_PGCLUSTER_H

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "tap.h"

/* PostgreSQL 15's programs, Debian's place for them; CONNREQ_PGBIN
 * names another directory. */
#define PGCLUSTER_BIN_DEFAULT "/usr/lib/postgresql/15/bin"
#define PGCLUSTER_NOBODY 65534

struct pgcluster {
	char dir[64];		/* the cluster's directory and socket dir */
	char bin[200];		/* initdb's and pg_ctl's directory */
	bool up;
	pid_t watchdog;
	int pipe_w;		/* the watchdog's pipe (-1: none) */
	unsigned ndb;		/* databases made so far */
};

/* Runs argv (argv[0] a path) in dir as the cluster's user, its output to
 * dir/log-NAME; 0 when it exits 0. */
__attribute__((unused)) static int
pgcluster_run(const struct pgcluster *c, const char *name, char *const argv[])
{
	char log[128];
	pid_t pid;
	int st, fd;

	snprintf(log, sizeof log, "%s/log-%s", c->dir, name);
	fflush(stdout);
	pid = fork();
	if (pid == -1)
		return -1;
	if (pid == 0) {
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd == -1)
			_exit(126);
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
		fd = open("/dev/null", O_RDONLY);
		if (fd != -1) {
			dup2(fd, 0);
			close(fd);
		}
		if (chdir(c->dir) == -1)
			_exit(126);
		if (geteuid() == 0 && (setgroups(0, NULL) == -1 ||
		    setresgid(PGCLUSTER_NOBODY, PGCLUSTER_NOBODY,
		    PGCLUSTER_NOBODY) == -1 ||
		    setresuid(PGCLUSTER_NOBODY, PGCLUSTER_NOBODY,
		    PGCLUSTER_NOBODY) == -1))
			_exit(126);
		setenv("HOME", c->dir, 1);
		unsetenv("PGDATA");
		execv(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		char cmd[256];

		diag("pgcluster: %s failed (status %d); its log:", argv[0], st);
		snprintf(cmd, sizeof cmd, "sed 's/^/#   /' %s", log);
		fflush(stdout);
		if (system(cmd) != 0)
			diag("(no log)");
		return -1;
	}
	return 0;
}

/* The postmaster's pid, from its pid file; 0 when there is none. */
__attribute__((unused)) static pid_t
pgcluster_pid(const char *dir)
{
	char path[128];
	long pid = 0;
	FILE *f;

	snprintf(path, sizeof path, "%s/data/postmaster.pid", dir);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	return (pid_t)pid;
}

static bool pgcluster_gone(pid_t pid);

/* The watchdog: waits for the test to go (end-of-file on the pipe), then
 * stops the cluster and removes its directory. Runs in a forked copy of
 * the test, so it uses nothing of the test's and leaves by _exit. */
__attribute__((unused)) static void
pgcluster_watchdog(const char *dir, int pipe_r)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	char b;
	pid_t pid;
	int i, fd;

	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	/* Nothing of the test's kept open: not its output (prove reads it to
	 * the end), nor its sockets and files. */
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	for (fd = 3; fd < 1024; fd++)
		if (fd != pipe_r)
			close(fd);
	while (read(pipe_r, &b, 1) == -1 && errno == EINTR)
		;
	/* An immediate shutdown: the cluster is thrown away. Gone, or a
	 * zombie: the postmaster exits once its children have, and whoever
	 * it was reparented to may take a second to reap it. */
	if ((pid = pgcluster_pid(dir)) > 0 && kill(pid, SIGQUIT) == 0)
		for (i = 0; i < 1500 && !pgcluster_gone(pid); i++)
			nanosleep(&ts, NULL);
	pid = fork();
	if (pid == 0) {
		execl("/bin/rm", "rm", "-rf", dir, (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
	_exit(0);
}

/* Stops the cluster and removes its directory (what the watchdog does,
 * waited for). Safe to call twice and at exit. */
__attribute__((unused)) static void
pgcluster_stop(struct pgcluster *c)
{
	if (c->pipe_w != -1) {
		close(c->pipe_w);
		c->pipe_w = -1;
	}
	if (c->watchdog > 0) {
		while (waitpid(c->watchdog, NULL, 0) == -1 && errno == EINTR)
			;
		c->watchdog = 0;
	}
	c->up = false;
}

/* The clusters the test started (a primary and its standby at most, and
 * room to spare), stopped at exit. */
static struct pgcluster *pgcluster_atexit_c[4];

__attribute__((unused)) static void
pgcluster_atexit(void)
{
	unsigned i;

	for (i = 0; i < 4; i++)
		if (pgcluster_atexit_c[i] != NULL)
			pgcluster_stop(pgcluster_atexit_c[i]);
}

/* A new cluster's directory, owned by the cluster's user, and its
 * watchdog: 0, or -1 with diag. */
__attribute__((unused)) static int
pgcluster_dir(struct pgcluster *c)
{
	static bool registered;
	const char *bin = getenv("CONNREQ_PGBIN");
	char initdb[256];
	unsigned i;
	int p[2];

	memset(c, 0, sizeof *c);
	c->pipe_w = -1;
	snprintf(c->bin, sizeof c->bin, "%s",
	    bin != NULL && *bin ? bin : PGCLUSTER_BIN_DEFAULT);
	snprintf(initdb, sizeof initdb, "%s/initdb", c->bin);
	if (access(initdb, X_OK) == -1) {
		diag("pgcluster: no %s (make deps installs postgresql)",
		    initdb);
		return -1;
	}
	/* In memory where there is a tmpfs for it (a throw-away cluster's
	 * files need no disk, and writing them there is most of a start). */
	strcpy(c->dir, "/dev/shm/connreq-pg-XXXXXX");
	if (mkdtemp(c->dir) == NULL) {
		strcpy(c->dir, "/tmp/connreq-pg-XXXXXX");
		if (mkdtemp(c->dir) == NULL) {
			diag("pgcluster: mkdtemp: %s", strerror(errno));
			return -1;
		}
	}
	/* Searchable by all (its data directory is the cluster's alone):
	 * a daemon a test runs as another uid reaches the socket. */
	if (chmod(c->dir, 0711) == -1 || (geteuid() == 0 &&
	    chown(c->dir, PGCLUSTER_NOBODY, PGCLUSTER_NOBODY) == -1)) {
		diag("pgcluster: chown %s: %s", c->dir, strerror(errno));
		rmdir(c->dir);
		return -1;
	}
	/* The watchdog first: from here on, the directory goes with us. */
	if (pipe2(p, O_CLOEXEC) == -1) {
		diag("pgcluster: pipe: %s", strerror(errno));
		rmdir(c->dir);
		return -1;
	}
	fflush(stdout);
	c->watchdog = fork();
	if (c->watchdog == -1) {
		diag("pgcluster: fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		rmdir(c->dir);
		return -1;
	}
	if (c->watchdog == 0) {
		close(p[1]);
		pgcluster_watchdog(c->dir, p[0]);
	}
	close(p[0]);
	c->pipe_w = p[1];
	for (i = 0; i < 4; i++)
		if (pgcluster_atexit_c[i] == NULL || pgcluster_atexit_c[i] == c)
			break;
	if (i < 4)
		pgcluster_atexit_c[i] = c;
	if (!registered)
		atexit(pgcluster_atexit);
	registered = true;
	return 0;
}

/* Starts the postmaster of c's data directory (pg_ctl start -w). fsync=off
 * and the small buffers: a throw-away test cluster. Its dynamic shared
 * memory in files of the data directory (mmap), which go with it: POSIX
 * segments outlive an immediate shutdown in /dev/shm. */
__attribute__((unused)) static int
pgcluster_postmaster(struct pgcluster *c)
{
	char data[128], opts[512], log[128], pg_ctl[256];

	snprintf(pg_ctl, sizeof pg_ctl, "%s/pg_ctl", c->bin);
	snprintf(data, sizeof data, "%s/data", c->dir);
	snprintf(log, sizeof log, "%s/log", c->dir);
	snprintf(opts, sizeof opts,
	    "-c listen_addresses='' -c unix_socket_directories='%s' "
	    "-c fsync=off -c full_page_writes=off -c shared_buffers=16MB "
	    "-c max_connections=50 -c dynamic_shared_memory_type=mmap",
	    c->dir);
	{
		char *argv[] = { pg_ctl, "-D", data, "-l", log,
		    "-w", "-t", "60", "-o", opts, "start", NULL };

		if (pgcluster_run(c, "pg_ctl", argv) == -1)
			return -1;
	}
	c->up = true;
	return 0;
}

/* cp -a from to, as the test's own user (root keeps the owner): 0 when
 * it exits 0. */
__attribute__((unused)) static int
pgcluster_cp(const char *from, const char *to)
{
	pid_t pid;
	int st;

	fflush(stdout);
	pid = fork();
	if (pid == -1)
		return -1;
	if (pid == 0) {
		execl("/bin/cp", "cp", "-a", from, to, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* Starts a cluster: 0, or -1 (with diag) when it cannot.
 *
 * initdb takes two seconds, a copy of what it made a tenth of that: with
 * CONNREQ_PG_TEMPLATE set to a directory's path (make test sets
 * $(BUILD)/pg-template), the data directory is a copy of that one, which
 * the first cluster makes there (initdb, then a copy renamed into place:
 * whole or absent), one per PostgreSQL binary directory, so that another
 * major version makes its own. Every cluster is still a new one of its
 * own; make clean takes the templates away. */
__attribute__((unused)) static int
pgcluster_start(struct pgcluster *c)
{
	const char *env = getenv("CONNREQ_PG_TEMPLATE");
	char data[128], initdb[256], tmp[600], ver[600], rm[700];
	char tplbuf[512], *tpl = NULL, *p;

	if (pgcluster_dir(c) == -1)
		return -1;
	if (env != NULL && *env != '\0') {
		/* One template per PostgreSQL (its bin directory, '/' made
		 * '_'): another major version never copies this one's. */
		if (mkdir(env, 0700) == -1 && errno != EEXIST)
			diag("pgcluster: mkdir %s: %s", env, strerror(errno));
		snprintf(tplbuf, sizeof tplbuf, "%s/%s", env, c->bin);
		for (p = tplbuf + strlen(env) + 1; *p != '\0'; p++)
			if (*p == '/')
				*p = '_';
		tpl = tplbuf;
	}
	snprintf(initdb, sizeof initdb, "%s/initdb", c->bin);
	snprintf(data, sizeof data, "%s/data", c->dir);
	snprintf(ver, sizeof ver, "%s/PG_VERSION", tpl != NULL ? tpl : "");
	if (tpl != NULL && *tpl != '\0' && access(ver, R_OK) == 0 &&
	    pgcluster_cp(tpl, data) == 0)
		goto made;
	{
		char *argv[] = { initdb, "-D", data, "-U",
		    "postgres", "--auth=trust", "-E", "UTF8", "--no-sync",
		    "--no-instructions", NULL };

		if (pgcluster_run(c, "initdb", argv) == -1)
			goto fail;
	}
	if (tpl != NULL && *tpl != '\0' && access(ver, R_OK) == -1) {
		snprintf(tmp, sizeof tmp, "%s.tmp%ld", tpl, (long)getpid());
		if (pgcluster_cp(data, tmp) == -1 || rename(tmp, tpl) == -1) {
			/* Another test's template, or no room: initdb
			 * again next time. */
			snprintf(rm, sizeof rm, "rm -rf '%s'", tmp);
			if (system(rm) != 0)
				diag("pgcluster: could not remove %s", tmp);
		}
	}
made:
	if (pgcluster_postmaster(c) == -1)
		goto fail;
	return 0;
fail:
	pgcluster_stop(c);
	return -1;
}

/* The conninfo of database name on the cluster. */
__attribute__((unused)) static void
pgcluster_conninfo(const struct pgcluster *c, const char *name, char *out,
    size_t n)
{
	snprintf(out, n, "host=%s dbname=%s user=postgres", c->dir, name);
}

/* Runs sql on database `name`: 0, or -1 with diag. */
__attribute__((unused)) static int
pgcluster_sql(const struct pgcluster *c, const char *name, const char *sql)
{
	char ci[256];
	PGconn *conn;
	PGresult *r;
	int rc = 0;

	pgcluster_conninfo(c, name, ci, sizeof ci);
	conn = PQconnectdb(ci);
	if (PQstatus(conn) != CONNECTION_OK) {
		diag("pgcluster: connect %s: %s", ci, PQerrorMessage(conn));
		PQfinish(conn);
		return -1;
	}
	r = PQexec(conn, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK) {
		diag("pgcluster: %s: %s", sql, PQresultErrorMessage(r));
		rc = -1;
	}
	PQclear(r);
	PQfinish(conn);
	return rc;
}

/* A new, empty database for a fresh store: its conninfo in out. 0, or -1
 * with diag. */
__attribute__((unused)) static int
pgcluster_newdb(struct pgcluster *c, char *out, size_t n)
{
	char name[32], sql[64];

	snprintf(name, sizeof name, "store%u", ++c->ndb);
	snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
	if (pgcluster_sql(c, "postgres", sql) == -1)
		return -1;
	pgcluster_conninfo(c, name, out, n);
	return 0;
}

/* Runs sql (one row, one column wanted) on database `name`: its value as
 * a number (a boolean is 1 or 0), or -1 (with diag when quiet is false)
 * when it fails or returns no row. */
__attribute__((unused)) static long long
pgcluster_value(const struct pgcluster *c, const char *name, const char *sql,
    bool quiet)
{
	char ci[256];
	PGconn *conn;
	PGresult *r;
	long long v = -1;
	const char *s;

	pgcluster_conninfo(c, name, ci, sizeof ci);
	conn = PQconnectdb(ci);
	if (PQstatus(conn) != CONNECTION_OK) {
		if (!quiet)
			diag("pgcluster: connect %s: %s", ci,
			    PQerrorMessage(conn));
		PQfinish(conn);
		return -1;
	}
	r = PQexec(conn, sql);
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 &&
	    !PQgetisnull(r, 0, 0)) {
		s = PQgetvalue(r, 0, 0);
		v = strcmp(s, "t") == 0 ? 1 : strcmp(s, "f") == 0 ? 0 :
		    strtoll(s, NULL, 10);
	} else if (!quiet)
		diag("pgcluster: %s: %s", sql, PQresultErrorMessage(r));
	PQclear(r);
	PQfinish(conn);
	return v;
}

/*
 * A primary and its standby (for the failover test):
 *
 *	pgcluster_start(&primary);
 *	pgcluster_start_standby(&standby, &primary);   streaming, synchronous
 *	pgcluster_kill(&primary);                      SIGKILL, every process
 *	pgcluster_promote(&standby);                   now the primary
 *
 * The standby is a pg_basebackup -R of the primary in a directory (and
 * with a watchdog) of its own, on its own Unix socket, streaming from the
 * primary's. The primary names it in synchronous_standby_names ('*': its
 * only standby), so a COMMIT returns on the primary only once the standby
 * has flushed the commit's WAL (synchronous_commit = on): an answered
 * write is on the standby.
 *
 * fsync=off stays on both (pgcluster_postmaster): what the failover test
 * kills is the primary's processes, not the machine, so what they wrote
 * stays in the kernel's page cache, and nothing of the old primary is read
 * again anyway: the promoted standby, never killed, serves from then on.
 * "Flushed" on the standby means handed to its kernel, which is what the
 * test relies on: a write the primary acknowledged is in the standby's
 * WAL when the primary dies.
 */
__attribute__((unused)) static int
pgcluster_start_standby(struct pgcluster *sb, const struct pgcluster *primary)
{
	char data[128], bb[256];
	int64_t start;
	long long v;

	if (pgcluster_dir(sb) == -1)
		return -1;
	snprintf(bb, sizeof bb, "%s/pg_basebackup", sb->bin);
	snprintf(data, sizeof data, "%s/data", sb->dir);
	{
		char *argv[] = { bb, "-D", data, "-h", (char *)primary->dir,
		    "-U", "postgres", "-R", "-X", "stream", "-c", "fast",
		    "--no-sync", NULL };

		if (pgcluster_run(sb, "pg_basebackup", argv) == -1)
			goto fail;
	}
	if (pgcluster_postmaster(sb) == -1)
		goto fail;
	if (pgcluster_sql(primary, "postgres",
	    "ALTER SYSTEM SET synchronous_standby_names = '*'") == -1 ||
	    pgcluster_sql(primary, "postgres", "SELECT pg_reload_conf()") == -1)
		goto fail;
	/* Until the primary sees it streaming, as its synchronous standby. */
	{
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		struct timespec t0;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		start = (int64_t)t0.tv_sec;
		for (;;) {
			v = pgcluster_value(primary, "postgres",
			    "SELECT count(*) FROM pg_stat_replication "
			    "WHERE state = 'streaming' AND sync_state = 'sync'",
			    false);
			if (v == 1)
				break;
			clock_gettime(CLOCK_MONOTONIC, &t0);
			if (v == -1 || (int64_t)t0.tv_sec - start > 60) {
				diag("pgcluster: the standby does not stream as a synchronous standby");
				goto fail;
			}
			nanosleep(&ts, NULL);
		}
	}
	return 0;
fail:
	pgcluster_stop(sb);
	return -1;
}

/* Whether process pid is gone (or a zombie nobody reaped yet). */
__attribute__((unused)) static bool
pgcluster_gone(pid_t pid)
{
	char path[64], buf[256], *p;
	FILE *f;
	size_t n;

	if (kill(pid, 0) == -1 && errno == ESRCH)
		return true;
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return true;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p != NULL && p[1] == ' ' && p[2] == 'Z';
}

/* The primary's crash: SIGKILL to its postmaster and every process of
 * its process group (pg_ctl makes the postmaster a group leader, and its
 * backends, walsenders and checkpointer are in the group), then waits
 * until the postmaster is gone. 0, or -1 with diag. */
__attribute__((unused)) static int
pgcluster_kill(struct pgcluster *c)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	pid_t pid = pgcluster_pid(c->dir);
	int i;

	if (pid <= 0) {
		diag("pgcluster: no postmaster in %s", c->dir);
		return -1;
	}
	if (getpgid(pid) == pid) {
		if (kill(-pid, SIGKILL) == -1) {
			diag("pgcluster: kill -KILL -%ld: %s", (long)pid,
			    strerror(errno));
			return -1;
		}
	} else if (diag("pgcluster: the postmaster leads no process group: SIGKILL to it alone"),
	    kill(pid, SIGKILL) == -1) {
		/* Its children notice the postmaster's death and go. */
		diag("pgcluster: kill -KILL %ld: %s", (long)pid,
		    strerror(errno));
		return -1;
	}
	for (i = 0; i < 3000 && !pgcluster_gone(pid); i++)
		nanosleep(&ts, NULL);
	c->up = false;
	return pgcluster_gone(pid) ? 0 : -1;
}

/* Promotes a standby (pg_ctl promote -w: returns once it accepts writes).
 * 0, or -1 with diag. */
__attribute__((unused)) static int
pgcluster_promote(struct pgcluster *c)
{
	char data[128], pg_ctl[256];

	snprintf(pg_ctl, sizeof pg_ctl, "%s/pg_ctl", c->bin);
	snprintf(data, sizeof data, "%s/data", c->dir);
	{
		char *argv[] = { pg_ctl, "-D", data, "-w", "-t", "60",
		    "promote", NULL };

		return pgcluster_run(c, "promote", argv);
	}
}

#endif
