/* The store's log (daemon/wal.c) on its own: records come back in order,
 * a record cut or damaged by a crash ends the replay there, a checkpoint
 * starts an epoch whose replay never reads the records of the one before,
 * a torn checkpoint header leaves the other one, a record that does not
 * fit says so, and a file that is not a log is refused. Then the store
 * over it (daemon/store-lmdb.c): what was committed is there after the
 * store is dropped without closing (the log replayed), and the meta pages
 * of commits after the checkpoint are set back before the replay. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/fiemap.h>
#include <linux/fs.h>

#include "../common/crc32c.h"
#include "../daemon/store.h"
#include "../daemon/wal.h"
#include "tap.h"

struct got {
	int n;
	char recs[64][64];
};

static int
collect(void *ctx, const unsigned char *p, size_t n)
{
	struct got *g = ctx;

	if (g->n < 64)
		snprintf(g->recs[g->n++], 64, "%.*s", (int)n, (const char *)p);
	return 0;
}

static int
replay_all(const char *dir, struct got *g, uint64_t *epoch)
{
	char why[256];
	struct wal *w = wal_open(dir, why, sizeof why);
	uint64_t n;
	int rc;

	memset(g, 0, sizeof *g);
	if (w == NULL) {
		diag("wal_open: %s", why);
		return -1;
	}
	rc = wal_replay(w, collect, g, &n);
	if (epoch != NULL)
		*epoch = wal_epoch(w);
	wal_close(w);
	return rc == 0 && (int)n == g->n ? g->n : -1;
}

static void
poke(const char *dir, off_t off, const void *p, size_t n)
{
	char path[300];
	int fd;

	snprintf(path, sizeof path, "%s/wal", dir);
	fd = open(path, O_WRONLY);
	if (fd == -1 || pwrite(fd, p, n, off) != (ssize_t)n)
		bail_out("cannot write %s", path);
	close(fd);
}


/* Whether every block of the file at path is written: allocated (not
 * sparse) and none "unwritten" (FIEMAP_EXTENT_UNWRITTEN, what fallocate
 * leaves on ext4 and XFS, whose first write must also commit the journal
 * at the next fdatasync). -1: the file system cannot say (no FIEMAP). */
static int
all_written(const char *path)
{
	union {
		struct fiemap fm;
		char space[sizeof(struct fiemap) +
		    64 * sizeof(struct fiemap_extent)];
	} u;
	struct stat st;
	uint64_t covered = 0;
	unsigned i;
	int fd, rc = 1;

	if ((fd = open(path, O_RDONLY)) == -1 || fstat(fd, &st) == -1)
		return 0;
	memset(&u, 0, sizeof u);
	u.fm.fm_length = FIEMAP_MAX_OFFSET;
	u.fm.fm_flags = FIEMAP_FLAG_SYNC;
	u.fm.fm_extent_count = 64;
	if (ioctl(fd, FS_IOC_FIEMAP, &u.fm) == -1) {
		close(fd);
		return -1;
	}
	for (i = 0; i < u.fm.fm_mapped_extents; i++) {
		if (u.fm.fm_extents[i].fe_flags & FIEMAP_EXTENT_UNWRITTEN)
			rc = 0;
		covered += u.fm.fm_extents[i].fe_length;
	}
	close(fd);
	return rc && covered >= (uint64_t)st.st_size ? 1 : 0;
}

static void
test_log(void)
{
	char dir[] = "/tmp/connreq-wal-XXXXXX", why[256], cmd[300], big[70000];
	struct wal *w;
	struct got g;
	uint64_t epoch, n;
	const void *snap;
	size_t len;
	int i;

	if (mkdtemp(dir) == NULL)
		bail_out("mkdtemp");
	is_int((int)crc32c(0, "123456789", 9), (int)0xe3069283u,
	    "crc32c of \"123456789\" is the standard check value");
	w = wal_create(dir, 1 << 20, "snap-1", 6, why, sizeof why);
	ok(w != NULL, "a log is created");
	if (w == NULL)
		return;
	ok(wal_exists(dir) == 1, "and is there under its name");
	{
		char path[sizeof dir + 8];
		int wr;

		snprintf(path, sizeof path, "%s/wal", dir);
		wr = all_written(path);
		if (wr == -1)
			diag("FIEMAP not supported here: written blocks not checked");
		ok(wr != 0, "every block of the new log is written (zeros), none only reserved");
	}
	ok(wal_replay(w, collect, &g, &n) == 0 && n == 0, "a new log holds no record");
	for (i = 0; i < 5; i++) {
		char rec[32];

		snprintf(rec, sizeof rec, "record %d", i);
		if (wal_append(w, rec, strlen(rec)) != 0)
			break;
	}
	ok(i == 5 && wal_sync(w) == 0, "five records appended and synced");
	wal_close(w);
	ok(replay_all(dir, &g, &epoch) == 5 &&
	    strcmp(g.recs[0], "record 0") == 0 &&
	    strcmp(g.recs[4], "record 4") == 0 && epoch == 1,
	    "they come back in order, in epoch 1");

	/* A crash cut the last record: its payload's last byte is not
	 * what was written (crc fails). Replay stops before it. */
	poke(dir, WAL_START + 4 * (WAL_REC_HEAD + 8) + WAL_REC_HEAD + 7, "X", 1);
	ok(replay_all(dir, &g, NULL) == 4, "a damaged last record ends the replay before it");
	/* The records after a damaged one are not read either. */
	poke(dir, WAL_START + WAL_REC_HEAD, "Y", 1);
	ok(replay_all(dir, &g, NULL) == 0, "a damaged first record: nothing after it is read");

	/* A checkpoint: a new epoch, the old records no longer read. */
	w = wal_open(dir, why, sizeof why);
	ok(w != NULL && wal_replay(w, collect, &g, &n) == 0, "reopened");
	ok(wal_checkpoint(w, "snap-2", 6) == 0 && wal_epoch(w) == 2,
	    "a checkpoint starts epoch 2");
	ok(wal_append(w, "after", 5) == 0 && wal_sync(w) == 0,
	    "one record after it");
	wal_close(w);
	ok(replay_all(dir, &g, &epoch) == 1 && strcmp(g.recs[0], "after") == 0 &&
	    epoch == 2, "replay gives only the record of epoch 2");
	w = wal_open(dir, why, sizeof why);
	snap = w ? wal_snap(w, &len) : NULL;
	ok(snap != NULL && len == 6 && memcmp(snap, "snap-2", 6) == 0,
	    "with the checkpoint's snapshot");
	wal_close(w);

	/* A checkpoint whose header write was torn: the other slot (epoch
	 * 2) is the checkpoint still. Epoch 3 goes to slot 0 (epoch 1's). */
	w = wal_open(dir, why, sizeof why);
	if (w != NULL && wal_replay(w, collect, &g, &n) == 0 &&
	    wal_checkpoint(w, "snap-3", 6) == 0)
		wal_close(w);
	poke(dir, 40, "torn", 4);
	ok(replay_all(dir, &g, &epoch) == 1 && epoch == 2,
	    "a torn checkpoint header: the one before is used (epoch %llu)",
	    (unsigned long long)epoch);

	/* A record that cannot fit says so, and nothing is written. */
	w = wal_open(dir, why, sizeof why);
	memset(big, 'b', sizeof big);
	ok(w != NULL && wal_replay(w, collect, &g, &n) == 0, "reopened");
	for (i = 0; i < 100 && wal_append(w, big, sizeof big) == 0; i++)
		;
	ok(i > 0 && i < 100 && wal_used(w) <= wal_capacity(w),
	    "a log of 1 MiB takes %d records of 70000 bytes, then says it is full", i);
	wal_close(w);

	/* Not a log. */
	poke(dir, 0, "garbage!", 8);
	poke(dir, WAL_SLOT, "garbage!", 8);
	w = wal_open(dir, why, sizeof why);
	ok(w == NULL && strstr(why, "not a connreq store log") != NULL,
	    "a file with no valid header is refused: %s", why);
	wal_close(w);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		diag("cannot remove %s", dir);
}

static struct inv
mkinv(uint64_t id)
{
	struct inv v;

	memset(&v, 0, sizeof v);
	v.id = id;
	v.state = ST_PENDING;
	v.priority = 1;
	snprintf(v.from, sizeof v.from, "from%llu", (unsigned long long)id);
	snprintf(v.to, sizeof v.to, "to%llu", (unsigned long long)id);
	v.from_len = strlen(v.from);
	v.to_len = strlen(v.to);
	v.created_at = 1767225600;
	return v;
}

/* The store dropped without store_close (as by kill -9: a child process
 * exits without closing): everything it committed is there after, though
 * LMDB synced nothing, and its meta pages were ahead of the checkpoint. */
static void
test_store_replay(void)
{
	char dir[] = "/tmp/connreq-walstore-XXXXXX", why[256], cmd[300];
	struct store *s;
	struct stx *t;
	struct inv v, got;
	pid_t pid;
	int status, i, missing = 0;

	if (mkdtemp(dir) == NULL)
		bail_out("mkdtemp");
	s = store_open(dir, 1ULL << 30, why, sizeof why);
	ok(s != NULL, "a store opens");
	if (s == NULL)
		return;
	store_close(s);
	pid = fork();
	if (pid == 0) {
		s = store_open(dir, 1ULL << 30, why, sizeof why);
		for (i = 1; s != NULL && i <= 200; i++) {
			t = store_begin(s, NULL);
			v = mkinv((uint64_t)i);
			store_inv_put(t, &v, ST_COUNT);
			if (store_commit(t) != STORE_OK)
				_exit(2);
		}
		_exit(s != NULL ? 0 : 3);	/* no store_close */
	}
	ok(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0, "a process commits 200 invitations and exits without closing");
	s = store_open(dir, 1ULL << 30, why, sizeof why);
	ok(s != NULL, "the store opens again: %s", s ? "ok" : why);
	if (s == NULL)
		return;
	t = store_begin_read(s);
	for (i = 1; i <= 200; i++)
		if (store_inv_get(t, (uint64_t)i, &got) != STORE_OK ||
		    strcmp(got.to, mkinv((uint64_t)i).to) != 0)
			missing++;
	store_abort(t);
	is_int(missing, 0, "all 200 are there (replayed from the log)");
	store_close(s);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		diag("cannot remove %s", dir);
}

int
main(void)
{
	test_log();
	test_store_replay();
	return done_testing();
}
