/* The power-loss simulator itself (tests/faults/): this program runs
 * itself under libiofault.so, makes known writes and syncs on files of a
 * directory, and checks the journal the shim recorded, the images
 * powercut.h builds from it at each cut, and the faults it injects. What
 * test_powerloss.c and test_iofault.c conclude rests on these. */
#include "harness.h"
#include "faults/faults.h"
#include "faults/powercut.h"

#define PAGE 4096

static void
fill(char *b, int c, size_t n)
{
	memset(b, c, n);
}

/* The child: the writes and syncs the journal must show. */
static int
child_record(const char *dir)
{
	char path[600], buf[PAGE];
	int fd, dfd, lfd, ofd;

	snprintf(path, sizeof path, "%s/data", dir);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	fill(buf, 'A', PAGE);
	if (fd == -1 || pwrite(fd, buf, PAGE, 0) != PAGE)	/* 1 W */
		return 1;
	if (fdatasync(fd) != 0)					/* 2 S */
		return 1;
	fill(buf, 'B', PAGE);
	if (pwrite(fd, buf, PAGE, PAGE) != PAGE)		/* 3 W */
		return 1;
	dfd = open(path, O_WRONLY | O_DSYNC);
	fill(buf, 'M', 16);
	if (dfd == -1 || pwrite(dfd, buf, 16, 100) != 16)	/* 4 D */
		return 1;
	fill(buf, 'C', PAGE);
	if (lseek(fd, 2 * PAGE, SEEK_SET) != 2 * PAGE ||
	    write(fd, buf, PAGE) != PAGE)			/* 5 W */
		return 1;
	if (posix_fallocate(fd, 0, 16 * PAGE) != 0)		/* 6 A */
		return 1;
	if (fsync(fd) != 0)					/* 7 S */
		return 1;
	fill(buf, 'E', 10);
	if (pwrite(fd, buf, 10, 0) != 10)			/* 8 W */
		return 1;
	snprintf(path, sizeof path, "%s/lock.mdb", dir);
	lfd = open(path, O_RDWR | O_CREAT, 0600);		/* 9 N */
	if (lfd == -1 || pwrite(lfd, buf, 10, 0) != 10)	/* 10 W */
		return 1;
	/* Outside the directory: not recorded. */
	snprintf(path, sizeof path, "%s-outside", dir);
	ofd = open(path, O_RDWR | O_CREAT, 0600);
	if (ofd == -1 || pwrite(ofd, buf, 10, 0) != 10 || fsync(ofd) != 0)
		return 1;
	close(ofd);
	unlink(path);
	close(lfd);
	close(dfd);
	close(fd);
	return 0;
}

/* The child for renames: "new" written and synced, renamed over "old",
 * the directory synced; then "old" renamed to "moved" with no directory
 * sync after it.
 *
 *   0 N new, 1 W new, 2 S new, 3 N old, 4 W old, 5 S old, 6 M new->old,
 *   7 N ., 8 S ., 9 M old->moved */
static int
child_rename(const char *dir)
{
	char path[600], to[600], buf[PAGE];
	int fd, ofd, dfd;

	snprintf(path, sizeof path, "%s/new", dir);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	fill(buf, 'R', PAGE);
	if (fd == -1 || pwrite(fd, buf, PAGE, 0) != PAGE || fsync(fd) != 0)
		return 1;
	snprintf(to, sizeof to, "%s/old", dir);
	ofd = open(to, O_RDWR | O_CREAT, 0600);
	fill(buf, 'O', PAGE);
	if (ofd == -1 || pwrite(ofd, buf, PAGE, 0) != PAGE || fsync(ofd) != 0)
		return 1;
	close(ofd);
	if (rename(path, to) != 0)
		return 1;
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	if (dfd == -1 || fsync(dfd) != 0)
		return 1;
	close(dfd);
	snprintf(path, sizeof path, "%s/moved", dir);
	if (rename(to, path) != 0)
		return 1;
	close(fd);
	return 0;
}

/* Prints a call's result and errno (0 when it succeeded). */
#define SAY(call) do { \
	long say_rc; \
	errno = 0; \
	say_rc = (long)(call); \
	printf("%ld %d\n", say_rc, errno); \
} while (0)

/* The child under a fault: each call's result as "rc errno" lines. */
static int
child_fault(const char *dir)
{
	char path[600], buf[PAGE];
	int fd;

	snprintf(path, sizeof path, "%s/data", dir);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	fill(buf, 'A', PAGE);
	SAY(pwrite(fd, buf, PAGE, 0));
	SAY(pwrite(fd, buf, PAGE, PAGE));
	SAY(fdatasync(fd));
	SAY(posix_fallocate(fd, 0, 16 * PAGE));
	SAY(write(fd, buf, PAGE));
	printf("size %lld\n", (long long)lseek(fd, 0, SEEK_END));
	close(fd);
	fd = open(path, O_WRONLY | O_DSYNC);
	SAY(pwrite(fd, buf, 16, 0));
	close(fd);
	return 0;
}

static char self[512];

/* Runs this program as child `what` on dir under the shim with fail (NULL:
 * record into log); its output in out. */
static int
run_child(const char *what, const char *dir, const char *log,
    const char *fail, const char *hit, char *out, size_t outlen)
{
	char cmd[1600];
	size_t n = 0;
	FILE *f;
	struct dproc p;

	memset(&p, 0, sizeof p);
	snprintf(p.store, sizeof p.store, "%s", dir);
	faults_env(&p, log, fail, hit);
	snprintf(cmd, sizeof cmd, "exec '%s' %s '%s'", self, what, dir);
	fflush(stdout);
	f = popen(cmd, "r");
	faults_env_clear();
	if (f == NULL)
		return -1;
	n = fread(out, 1, outlen - 1, f);
	out[n] = '\0';
	return pclose(f);
}

/* The file at path, whole, into buf; its size, -1 when absent. */
static long
slurp_path(const char *path, char *buf, size_t cap)
{
	FILE *f;
	size_t n;

	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	n = fread(buf, 1, cap, f);
	fclose(f);
	return (long)n;
}

/* The image's file name. */
static long
slurp(const char *dir, const char *name, char *buf, size_t cap)
{
	char path[600];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	return slurp_path(path, buf, cap);
}

/* Whether buf[off, off + n) is all c. */
static int
all_of(const char *buf, size_t off, size_t n, int c)
{
	size_t i;

	for (i = off; i < off + n; i++)
		if (buf[i] != (char)c)
			return 0;
	return 1;
}

/* Builds the image of cut in img (emptied first). */
static long
image(const struct journal *j, size_t cut, int mode, uint64_t seed,
    size_t drop, const char *img)
{
	char cmd[1400];

	snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir '%s'", img, img);
	if (system(cmd) != 0)
		bail_out("cannot make %s", img);
	return powercut_image(j, cut, mode, seed, drop, img);
}

int
main(int argc, char **argv)
{
	static char buf[32 * PAGE], buf2[32 * PAGE];
	static const char expect_types[] = "NWSWDWASWNW";
	char dir[64], img[300], log[300], hit[300], out[1024], types[64];
	char cmd[1400];
	struct journal j;
	long size, size2;
	size_t i;
	uint64_t seed;
	int same = 1, differs = 0;
	ssize_t sn;

	if (argc == 3 && strcmp(argv[1], "record") == 0)
		return child_record(argv[2]);
	if (argc == 3 && strcmp(argv[1], "fault") == 0)
		return child_fault(argv[2]);
	if (argc == 3 && strcmp(argv[1], "rename") == 0)
		return child_rename(argv[2]);
	sn = readlink("/proc/self/exe", self, sizeof self - 1);
	if (sn <= 0)
		bail_out("no /proc/self/exe");
	self[sn] = '\0';
	strcpy(dir, "/tmp/connreq-powercut-XXXXXX");
	if (mkdtemp(dir) == NULL)
		bail_out("mkdtemp");
	snprintf(log, sizeof log, "%s.journal", dir);
	snprintf(hit, sizeof hit, "%s.hit", dir);
	snprintf(img, sizeof img, "%s.image", dir);

	/* Record. */
	is_int(run_child("record", dir, log, NULL, NULL, out, sizeof out), 0,
	    "the child's writes and syncs succeed under the shim");
	if (!ok(journal_load(&j, log) == 0, "the journal reads back"))
		bail_out("no journal");
	for (i = 0; i < j.n && i < sizeof types - 1; i++)
		types[i] = (char)j.ev[i].type;
	types[i] = '\0';
	is_str(types, expect_types, "it holds each write, sync, fallocate and "
	    "name in order, nothing of the file outside the directory");
	is_str(j.names[0], "data", "named relative to the directory");
	ok(j.ev[5].func == JF_WRITE && j.ev[5].off == 2 * PAGE &&
	    j.ev[1].func == JF_PWRITE && j.ev[2].func == JF_FDATASYNC &&
	    j.ev[7].func == JF_FSYNC && j.ev[6].func == JF_POSIX_FALLOCATE &&
	    j.ev[6].len == 16 * PAGE, "with the call, and write()'s offset "
	    "from the file position");

	/* Images. */
	image(&j, 1, PC_NONE, 0, (size_t)-1, img);
	is_int(slurp(img, "data", buf, sizeof buf), 0,
	    "cut before the first write: the file is empty");
	image(&j, 2, PC_ALL, 0, (size_t)-1, img);
	size = slurp(img, "data", buf, sizeof buf);
	ok(size == PAGE && all_of(buf, 0, PAGE, 'A'), "cut before the first "
	    "sync, unsynced writes kept (kill -9): the write is there");
	image(&j, 2, PC_NONE, 0, (size_t)-1, img);
	is_int(slurp(img, "data", buf, sizeof buf), 0,
	    "power cut before the first sync: it is not");
	image(&j, 3, PC_NONE, 0, (size_t)-1, img);
	size = slurp(img, "data", buf, sizeof buf);
	ok(size == PAGE && all_of(buf, 0, PAGE, 'A'), "after the sync: it is");
	image(&j, 5, PC_NONE, 0, (size_t)-1, img);
	size = slurp(img, "data", buf, sizeof buf);
	ok(size == PAGE && all_of(buf, 0, 100, 'A') &&
	    all_of(buf, 100, 16, 'M') && all_of(buf, 116, PAGE - 116, 'A'),
	    "a write through an O_DSYNC fd is durable at once; the unsynced "
	    "one before it is not (size %ld)", size);
	image(&j, 7, PC_NONE, 0, (size_t)-1, img);
	size2 = slurp(img, "data", buf2, sizeof buf2);
	ok(size2 == size && memcmp(buf, buf2, (size_t)size) == 0,
	    "cut before the fsync: the write() and the fallocate are lost");
	image(&j, 8, PC_NONE, 0, (size_t)-1, img);
	size = slurp(img, "data", buf, sizeof buf);
	ok(size == 16 * PAGE && all_of(buf, 0, 100, 'A') &&
	    all_of(buf, 100, 16, 'M') && all_of(buf, PAGE, PAGE, 'B') &&
	    all_of(buf, 2 * PAGE, PAGE, 'C') &&
	    all_of(buf, 3 * PAGE, 13 * PAGE, 0), "after the fsync: every "
	    "write in its place, the fallocated size (%ld)", size);
	image(&j, j.n, PC_NONE, 0, (size_t)-1, img);
	size2 = slurp(img, "data", buf2, sizeof buf2);
	ok(size2 == size && memcmp(buf, buf2, (size_t)size) == 0 &&
	    slurp(img, "lock.mdb", buf2, sizeof buf2) == -1,
	    "at the end: the last unsynced write is lost, lock.mdb left out");
	image(&j, j.n, PC_ALL, 0, (size_t)-1, img);
	size = slurp(img, "data", buf, sizeof buf);
	ok(size == 16 * PAGE && all_of(buf, 0, 10, 'E') &&
	    all_of(buf, 100, 16, 'M'), "kept, it overwrites the synced bytes");

	/* A random subset: reproducible by seed, the durable write always. */
	for (seed = 1; seed <= 16; seed++) {
		image(&j, 7, PC_RANDOM, seed, (size_t)-1, img);
		size = slurp(img, "data", buf, sizeof buf);
		image(&j, 7, PC_RANDOM, seed, (size_t)-1, img);
		size2 = slurp(img, "data", buf2, sizeof buf2);
		if (size != size2 || memcmp(buf, buf2, (size_t)size) != 0 ||
		    size < 116 || !all_of(buf, 100, 16, 'M'))
			same = 0;
		image(&j, 7, PC_RANDOM, seed + 100, (size_t)-1, img);
		if (slurp(img, "data", buf2, sizeof buf2) != size2 ||
		    memcmp(buf, buf2, (size_t)size) != 0)
			differs++;
	}
	ok(same, "a random subset is the same for the same seed, and keeps "
	    "what was synced");
	ok(differs > 0, "and other seeds keep other subsets (%d of 16 differ)",
	    differs);

	/* Deliberately wrong images. */
	image(&j, 8, PC_NONE, 0, 7, img);
	size = slurp(img, "data", buf, sizeof buf);
	ok(size == PAGE && all_of(buf, 100, 16, 'M'), "dropping the fsync "
	    "loses what it synced (size %ld)", size);
	image(&j, 5, PC_NONE, 0, 4, img);
	size = slurp(img, "data", buf, sizeof buf);
	ok(size == PAGE && all_of(buf, 0, PAGE, 'A'),
	    "dropping the O_DSYNC write's durability loses it");
	journal_free(&j);

	/* Faults. */
	snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir '%s'", dir, dir);
	if (system(cmd) != 0)
		bail_out("cannot empty %s", dir);
	run_child("fault", dir, NULL, "pwrite:2:ENOSPC", hit, out,
	    sizeof out);
	is_str(out, "4096 0\n-1 28\n0 0\n0 0\n4096 0\nsize 65536\n16 0\n",
	    "pwrite:2:ENOSPC fails the second pwrite with ENOSPC, writing "
	    "nothing, and nothing else");
	size = slurp_path(hit, buf, sizeof buf - 1);
	buf[size > 0 ? size : 0] = '\0';
	is_str(buf, "pwrite 2 28 pwrite data 4096\n", "the hit is noted, with the write's offset");
	unlink(hit);
	unlink(strcat(strcpy(buf, dir), "/data"));
	run_child("fault", dir, NULL, "pwrite:3:ENOSPC", hit, out,
	    sizeof out);
	is_str(out, "4096 0\n4096 0\n0 0\n0 0\n4096 0\nsize 65536\n-1 28\n",
	    "pwrite:3:ENOSPC fails the write through the O_DSYNC fd");
	size = slurp_path(hit, buf, sizeof buf - 1);
	buf[size > 0 ? size : 0] = '\0';
	is_str(buf, "pwrite 3 28 pwrite data 0 dsync\n", "its hit line says "
	    "dsync");
	unlink(hit);
	unlink(strcat(strcpy(buf, dir), "/data"));
	run_child("fault", dir, NULL, "pwrite:1:EIO:short", NULL, out,
	    sizeof out);
	is_str(out, "-1 5\n4096 0\n0 0\n0 0\n4096 0\nsize 65536\n16 0\n",
	    "pwrite:1:EIO:short fails the first with EIO");
	unlink(buf);
	run_child("fault", dir, NULL, "any:3", NULL, out, sizeof out);
	is_str(out, "4096 0\n4096 0\n-1 5\n0 0\n4096 0\nsize 65536\n16 0\n",
	    "any:3 (EIO) fails the third call of any kind: the fdatasync");
	unlink(buf);
	run_child("fault", dir, NULL, "fallocate:1:ENOSPC", NULL, out,
	    sizeof out);
	is_str(out, "4096 0\n4096 0\n0 0\n28 0\n4096 0\nsize 8192\n16 0\n",
	    "fallocate:1:ENOSPC: posix_fallocate returns ENOSPC");
	unlink(buf);
	run_child("fault", dir, NULL, "write:1:EIO", NULL, out, sizeof out);
	is_str(out, "4096 0\n4096 0\n0 0\n0 0\n-1 5\nsize 65536\n16 0\n",
	    "write:1:EIO fails write()");

	/* Renames: durable with the directory's sync. */
	snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s' && mkdir '%s'", dir, log,
	    dir);
	if (system(cmd) != 0)
		bail_out("cannot empty %s", dir);
	is_int(run_child("rename", dir, log, NULL, NULL, out, sizeof out), 0,
	    "renames under the shim succeed");
	if (!ok(journal_load(&j, log) == 0, "the journal reads back"))
		bail_out("no journal");
	for (i = 0; i < j.n && i < sizeof types - 1; i++)
		types[i] = (char)j.ev[i].type;
	types[i] = '\0';
	is_str(types, "NWSNWSMNSM", "the renames are recorded, the "
	    "directory's sync as that of the file \".\"");
	ok(j.ev[6].file == 0 && j.ev[6].len == 3 &&
	    memcmp(j.ev[6].data, "old", 3) == 0 && j.ev[9].file == 0 &&
	    strcmp(j.names[0], "new") == 0 && strcmp(j.names[2], ".") == 0,
	    "under the file's first id: the rename's record names its new "
	    "name");
	image(&j, 8, PC_NONE, 0, (size_t)-1, img);
	ok(slurp(img, "new", buf, sizeof buf) == PAGE && all_of(buf, 0,
	    PAGE, 'R') && slurp(img, "old", buf, sizeof buf) == PAGE &&
	    all_of(buf, 0, PAGE, 'O') && slurp(img, ".", buf, 1) <= 0,
	    "a cut before the directory's sync: the rename did not "
	    "happen (PC_NONE)");
	image(&j, 9, PC_NONE, 0, (size_t)-1, img);
	ok(slurp(img, "new", buf, sizeof buf) == -1 && slurp(img, "old",
	    buf, sizeof buf) == PAGE && all_of(buf, 0, PAGE, 'R'),
	    "after it: the file has its new name, the one it replaced is "
	    "gone");
	image(&j, j.n, PC_NONE, 0, (size_t)-1, img);
	size = slurp(img, "old", buf, sizeof buf);
	size2 = slurp(img, "moved", buf2, sizeof buf2);
	ok(size == PAGE && size2 == -1, "a later rename with no directory "
	    "sync after it is lost (PC_NONE)");
	image(&j, j.n, PC_ALL, 0, (size_t)-1, img);
	size = slurp(img, "old", buf, sizeof buf);
	size2 = slurp(img, "moved", buf2, sizeof buf2);
	ok(size == -1 && size2 == PAGE && all_of(buf2, 0, PAGE, 'R'),
	    "and kept with every unsynced change (PC_ALL)");
	journal_free(&j);

	snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s' '%s' '%s'", dir, img, log,
	    hit);
	if (system(cmd) != 0)
		diag("could not remove %s", dir);
	return done_testing();
}
