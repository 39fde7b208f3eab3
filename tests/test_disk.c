/* When the store cannot grow: a full disk and a full map (issue 9, bugs 3
 * and 6).
 *
 * A full disk: connreqd runs with its store on a small tmpfs of its own
 * (a user and mount namespace, so no privilege is needed), nearly filled
 * by a filler file. Writes then get STORE_FULL and reads go on, the daemon
 * stays up and logs it once; when the filler goes, the next write commits
 * with no restart, and after a restart every acknowledged write is there.
 * The store alone first: STORE_NO_SPACE, nothing of the refused commit
 * kept, a commit that only read still succeeding, store_room().
 *
 * A full map: raising map_size_max in the file on SIGHUP lets the next
 * write commit, and server.info shows the new maximum; --map-size-max on
 * the command line holds over the file. */
#include <sched.h>
#include <sys/mount.h>
#include <sys/statvfs.h>

#include "../daemon/store.h"
#include "harness.h"

#define DISK_MB 16	/* the tmpfs */
#define ROOM_MB 10	/* what the filler leaves of it: the store's
			 * log (4 MiB) and data file */
#define SENDS_MAX 3000	/* a bound for the filling loops */

static struct cr_reply r;

static int
write_proc(const char *path, const char *fmt, ...)
{
	char buf[64];
	va_list ap;
	int fd, n;
	ssize_t w;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	fd = open(path, O_WRONLY);
	if (fd == -1)
		return -1;
	w = write(fd, buf, (size_t)n);
	close(fd);
	return w == n ? 0 : -1;
}

/* Enters a user and mount namespace of its own, as the same uid and gid,
 * so that it may mount a tmpfs that only it and its children see. */
static int
enter_namespace(void)
{
	uid_t uid = getuid();
	gid_t gid = getgid();

	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) == -1) {
		diag("unshare(CLONE_NEWUSER | CLONE_NEWNS): %s",
		    strerror(errno));
		return -1;
	}
	if (write_proc("/proc/self/setgroups", "deny") == -1 ||
	    write_proc("/proc/self/uid_map", "%u %u 1", (unsigned)uid,
	    (unsigned)uid) == -1 ||
	    write_proc("/proc/self/gid_map", "%u %u 1", (unsigned)gid,
	    (unsigned)gid) == -1) {
		diag("uid_map/gid_map: %s", strerror(errno));
		return -1;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1) {
		diag("making / private: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static uint64_t
disk_free(const char *path)
{
	struct statvfs sv;

	if (statvfs(path, &sv) == -1)
		return 0;
	return (uint64_t)sv.f_bavail * sv.f_frsize;
}

/* A note of 1000 four-byte characters (4000 bytes), different for each
 * i. */
static void
big_note(char *note, int i)
{
	static const char ch[] = "\xf0\x9f\x98\x80";	/* U+1F600 */
	int k;

	snprintf(note, 16, "%05d", i);
	for (k = 5; k < 1000; k++)
		memcpy(note + 5 + (k - 5) * 4, ch, 4);
	note[5 + 995 * 4] = '\0';
}

/* Mounts a tmpfs of mb MiB on dir (made here). */
static int
mount_disk(const char *dir, int mb)
{
	char opts[64];

	snprintf(opts, sizeof opts, "size=%dm,mode=0700", mb);
	if (mkdir(dir, 0700) == -1 || mount("tmpfs", dir, "tmpfs",
	    MS_NOSUID | MS_NODEV, opts) == -1) {
		diag("mount a %d MiB tmpfs on %s: %s", mb, dir,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* Fills what is left of the disk at dir with the file path but for keep
 * bytes. */
static int
fill_disk(const char *path, const char *dir, uint64_t keep)
{
	uint64_t room = disk_free(dir);
	int fd, rc;

	if (room <= keep)
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd == -1)
		return -1;
	rc = fallocate(fd, 0, 0, (off_t)(room - keep));
	close(fd);
	return rc;
}

/* Stops the daemon, unmounts its disk and removes the test's directory. */
static void
disk_cleanup(struct dproc *p, const char *mnt)
{
	if (p->pid > 0)
		dproc_stop(p, SIGKILL);
	if (umount2(mnt, MNT_DETACH) == -1)
		diag("umount %s: %s", mnt, strerror(errno));
	dproc_cleanup(p);
}

#define ROUND 16	/* requests pipelined in one round */

/* One round of ROUND pipelined requests, invite.send (a big note) and
 * invite.list alternating, so that they share batches. Each send
 * acknowledged adds its id to ids; *full counts the sends refused
 * STORE_FULL. Returns how many answers were not as they should be: a
 * read that failed, a send refused otherwise, a missing answer. */
static int
round_mixed(struct cr_client *c, int *next, uint64_t *ids, int *n,
    int *full)
{
	static char note[5000];
	int64_t msgid[ROUND];
	msgpack_packer *pk;
	char to[32];
	int i, bad = 0;

	for (i = 0; i < ROUND; i++) {
		if (i % 2 == 0) {
			snprintf(to, sizeof to, "member-%d", *next);
			big_note(note, (*next)++);
			pk = cr_request(c, "invite.send");
			msgpack_pack_map(pk, 3);
			pk_kstr(pk, "from", "filler");
			pk_kstr(pk, "to", to);
			pk_kstr(pk, "note", note);
		} else {
			pk = cr_request(c, "invite.list");
			msgpack_pack_map(pk, 3);
			pk_kstr(pk, "member", "filler");
			pk_kstr(pk, "box", "sent");
			pk_kuint(pk, "limit", 1);
		}
		msgid[i] = cr_send(c);
	}
	for (i = 0; i < ROUND; i++) {
		cr_reply_free(&r);
		if (msgid[i] < 0 || cr_wait(c, (uint32_t)msgid[i], &r) != 0) {
			diag("request %d of the round: no answer", i);
			return bad + ROUND - i;
		}
		if (i % 2 == 1) {
			if (r.error != NULL || rnum(&r, "items") != 1) {
				diag("invite.list: %s %s", r.code, r.message);
				bad++;
			}
		} else if (r.error == NULL && *n < SENDS_MAX)
			ids[(*n)++] = (uint64_t)rnum(&r, "invitation.id");
		else if (refused(&r, "STORE_FULL") &&
		    strstr(r.message, "no space left") != NULL)
			(*full)++;
		else {
			diag("invite.send: %s %s", r.code, r.message);
			bad++;
		}
	}
	cr_reply_free(&r);
	return bad;
}

static void
test_disk_full(void)
{
	struct dproc p;
	struct cr_client *c;
	char mnt[160], filler[180];
	static uint64_t ids[SENDS_MAX];
	uint64_t id;
	int64_t pending;
	int i, rc, n = 0, next = 0, full = 0, bad = 0, rounds = 0, all = 1;

	dproc_init(&p);
	snprintf(mnt, sizeof mnt, "%s/disk", p.dir);
	snprintf(p.store, sizeof p.store, "%s/db", mnt);
	snprintf(filler, sizeof filler, "%s/filler", mnt);
	if (mount_disk(mnt, DISK_MB) == -1)
		bail_out("no tmpfs");
	ok(fill_disk(filler, mnt, ROOM_MB << 20) == 0 &&
	    disk_free(mnt) <= (ROOM_MB << 20),
	    "a %d MiB tmpfs filled but for %d MiB", DISK_MB, ROOM_MB);
	dproc_config(&p, NO_LIMITS "[policy]\nnote_max_chars = 1000\n");
	if (!ok(dproc_start(&p, T0, NULL) == 0, "connreqd on it")) {
		disk_cleanup(&p, mnt);
		return;
	}
	c = dconnect(&p);
	/* Sends and reads pipelined until the disk is full: the batch that
	 * finds no room answers its reads and refuses its writes. */
	while (full == 0 && bad == 0 && next < SENDS_MAX - ROUND) {
		bad = round_mixed(c, &next, ids, &n, &full);
		rounds++;
	}
	ok(full > 0 && bad == 0,
	    "the disk fills: in round %d, after %d sends, %d got STORE_FULL saying 'no space left'; every read was answered",
	    rounds, n, full);
	/* A new connection answered: it did not exit (a daemon on its way
	 * out may still be alive a moment after the old one dropped). */
	if (!ok(dproc_answers(p.sock, WAIT_MS) && dproc_alive(&p),
	    "the daemon keeps running and answers")) {
		dproc_show_log(&p);
		disk_cleanup(&p, mnt);
		return;
	}
	cr_reply_free(&r);
	ok(n > 0 && call(c, &r, "invite.get", "id:u", ids[n - 1]) == 0 && rnum(&r, "invitation.id") == (int64_t)ids[n - 1],
	    "invite.get is served");
	cr_reply_free(&r);
	ok(call(c, &r, "invite.list", "member:s box:s limit:u", "filler",
	    "sent", (uint64_t)5) == 0 && rnum(&r, "items") == 5,
	    "invite.list is served");
	cr_reply_free(&r);
	ok(call(c, &r, "server.info", "") == 0 &&
	    rnum(&r, "counts.pending") == n, "server.info is served: %d pending",
	    n);
	for (i = 0; i < 3; i++) {
		cr_reply_free(&r);
		rc = call(c, &r, "invite.send", "from:s to:s", "other",
		    "member-0");
		if (rc != 1 || !refused(&r, "STORE_FULL"))
			break;
	}
	ok(i == 3, "writes go on getting STORE_FULL");
	ok(dproc_log_count(&p, "no space left on device; writes get STORE_FULL") == 1,
	    "the log says 'no space left' once");
	ok(!dproc_logged(&p, "room again"), "and not yet that there is room");

	/* Room again: the next write commits, without a restart. */
	ok(unlink(filler) == 0, "the filler is removed");
	id = send_inv(c, &r, "other", "member-0");
	ok(id > 0, "the next write commits");
	if (id > 0 && n < SENDS_MAX)
		ids[n++] = id;
	ok(dproc_log_count(&p, "room again") == 1, "the log says 'room again'");
	ok(dproc_alive(&p), "with the same daemon");
	cr_close(c);
	is_int(dproc_stop(&p, SIGTERM), 0, "it stops cleanly");

	/* Everything acknowledged is there after a restart. */
	if (!ok(dproc_start(&p, T0, NULL) == 0,
	    "restarted on the same store")) {
		disk_cleanup(&p, mnt);
		return;
	}
	c = dconnect(&p);
	for (i = 0; i < n; i++) {
		cr_reply_free(&r);
		if (call(c, &r, "invite.get", "id:u", ids[i]) != 0 ||
		    rnum(&r, "invitation.id") != (int64_t)ids[i]) {
			all = 0;
			diag("invitation %llu: %s", (unsigned long long)ids[i],
			    r.error ? r.code : "wrong id");
		}
	}
	ok(all, "all %d acknowledged invitations are there", n);
	cr_reply_free(&r);
	pending = call(c, &r, "server.info", "") == 0 ?
	    rnum(&r, "counts.pending") : -1;
	ok(pending == n, "and nothing else (%lld pending)", (long long)pending);
	cr_reply_free(&r);
	cr_close(c);
	is_int(dproc_stop(&p, SIGTERM), 0, "it stops cleanly");
	disk_cleanup(&p, mnt);
}

/* Sends up to max invitations with notes of 299 bytes, from the i-th
 * recipient on, until an error; how many were sent. */
static int
send_some(struct cr_client *c, int i, int max)
{
	char note[300], to[32];
	int n;

	memset(note, 'x', 299);
	note[299] = '\0';
	for (n = 0; n < max; n++) {
		snprintf(to, sizeof to, "member-%d", i + n);
		cr_reply_free(&r);
		if (call(c, &r, "invite.send", "from:s to:s note:s", "filler",
		    to, note) != 0)
			break;
	}
	return n;
}

/* The store's map_size or map_size_max from server.info. */
static int64_t
map_info(struct cr_client *c, const char *what)
{
	char path[64];

	snprintf(path, sizeof path, "store.%s", what);
	cr_reply_free(&r);
	if (call(c, &r, "server.info", "") != 0)
		return -1;
	return rnum(&r, path);
}

static void
test_map_max_on_sighup(void)
{
	static const char *const given[] = { "--map-size-max", "512K", NULL };
	struct dproc p;
	struct cr_client *c;
	int n, more;

	dproc_init(&p);
	dproc_config(&p, NO_LIMITS "[store]\nmap_size_max = 512K\n");
	if (!ok(dproc_start(&p, T0, NULL) == 0,
	    "a daemon with map_size_max = 512K in its file"))
		return;
	c = dconnect(&p);
	n = send_some(c, 0, SENDS_MAX);
	ok(refused(&r, "STORE_FULL") &&
	    strstr(r.message, "map_size_max") != NULL,
	    "it fills: STORE_FULL after %d sends", n);
	dproc_config(&p, NO_LIMITS "[store]\nmap_size_max = 4M\n");
	ok(dproc_sighup(&p, "SIGHUP: reloaded"), "map_size_max = 4M, SIGHUP");
	ok(dproc_logged(&p, "map_size_max is now 4194304 bytes"),
	    "the log says so");
	more = send_some(c, n, n / 2);
	ok(more == n / 2, "the next %d writes commit (%d did)", n / 2, more);
	if (r.error)
		diag("%s: %s", r.code, r.message);
	ok(map_info(c, "map_size_max") == (4 << 20),
	    "server.info shows the new map_size_max");
	ok(map_info(c, "map_size") > (512 << 10), "the map grew past 512K");
	/* Lower than the map now is: it keeps its size, and says so. */
	dproc_config(&p, NO_LIMITS "[store]\nmap_size_max = 64K\n");
	ok(dproc_sighup(&p, "SIGHUP: reloaded") &&
	    dproc_logged(&p, "it keeps its size and grows no more"),
	    "a map_size_max below the map: the map keeps its size, logged");
	ok(map_info(c, "map_size_max") == (64 << 10) &&
	    map_info(c, "map_size") > (512 << 10), "server.info shows both");
	cr_reply_free(&r);
	cr_close(c);
	is_int(dproc_stop(&p, SIGTERM), 0, "it stops cleanly");
	dproc_cleanup(&p);

	/* The command line holds over the file. */
	dproc_init(&p);
	dproc_config(&p, NO_LIMITS "[store]\nmap_size_max = 4M\n");
	if (!ok(dproc_start(&p, T0, given) == 0,
	    "a daemon with --map-size-max 512K"))
		return;
	c = dconnect(&p);
	n = send_some(c, 0, SENDS_MAX);
	ok(refused(&r, "STORE_FULL"), "it fills at 512K: %d sends", n);
	dproc_config(&p, NO_LIMITS "[store]\nmap_size_max = 8M\n");
	ok(dproc_sighup(&p, "SIGHUP: reloaded") &&
	    dproc_logged(&p, "--map-size-max overrides the file"),
	    "SIGHUP with map_size_max = 8M: --map-size-max holds, logged");
	ok(map_info(c, "map_size_max") == (512 << 10),
	    "server.info shows 512K");
	more = send_some(c, n, n / 2);
	ok(more < n / 2 && refused(&r, "STORE_FULL") &&
	    map_info(c, "map_size") == (512 << 10),
	    "writes still get STORE_FULL (%d of %d committed), the map stays",
	    more, n / 2);
	cr_reply_free(&r);
	cr_close(c);
	is_int(dproc_stop(&p, SIGTERM), 0, "it stops cleanly");
	dproc_cleanup(&p);
}

/* The store's answers, without the daemon: STORE_NO_SPACE for a commit
 * that writes when the disk has no room, nothing of it kept; a commit that
 * wrote nothing still succeeds; store_room() says when there is room. */
static void
test_store_no_space(void)
{
	static char blob[256 << 10], back[256 << 10];
	char dir[128], db[160], filler[160], why[256];
	struct stx *t;
	struct store *s;
	struct stat st;
	int64_t alloc;
	size_t len = 0;
	int rc;

	strcpy(dir, "/tmp/connreq-disk-XXXXXX");
	if (mkdtemp(dir) == NULL)
		bail_out("mkdtemp: %s", strerror(errno));
	snprintf(db, sizeof db, "%s/disk/db", dir);
	snprintf(filler, sizeof filler, "%s/disk/filler", dir);
	snprintf(why, sizeof why, "%s/disk", dir);
	if (mount_disk(why, 16) == -1)
		bail_out("no tmpfs");
	s = store_open(db, 64ULL << 20, why, sizeof why);
	if (!ok(s != NULL, "a store on a 16 MiB tmpfs"))
		bail_out("%s", why);
	t = store_begin(s, NULL);
	store_set_vclock(t, T0);
	is_int(store_commit(t), STORE_OK, "a first commit");
	snprintf(why, sizeof why, "%s/data.mdb", db);
	alloc = stat(why, &st) == 0 ? (int64_t)st.st_blocks * 512 : -1;
	ok(alloc >= (4 << 20), "the data file is allocated 4 MiB ahead (%lld bytes)",
	    (long long)alloc);
	snprintf(why, sizeof why, "%s/disk", dir);
	ok(fill_disk(filler, why, 0) == 0 && disk_free(why) < (64 << 10),
	    "the rest of the disk is filled");

	memset(blob, 'b', sizeof blob);
	t = store_begin(s, NULL);
	store_plan_put(t, 1, blob, sizeof blob);
	rc = store_commit(t);
	ok(rc == STORE_NO_SPACE &&
	    strstr(store_strerror(s), "no space left") != NULL,
	    "a commit that would grow the store: STORE_NO_SPACE (%s)",
	    store_strerror(s));
	ok(store_room(s) == -1, "store_room: no room");
	t = store_begin(s, NULL);
	rc = store_plan_get(t, 1, back, sizeof back, &len);
	is_int(store_commit(t), STORE_OK,
	    "a write transaction that only read commits");
	is_int(rc, STORE_NOTFOUND, "nothing of the refused commit is there");

	unlink(filler);
	ok(store_room(s) == 0, "the filler gone, store_room: room");
	t = store_begin(s, NULL);
	store_plan_put(t, 1, blob, sizeof blob);
	is_int(store_commit(t), STORE_OK, "the write commits");
	store_close(s);
	s = store_open(db, 64ULL << 20, why, sizeof why);
	t = store_begin_read(s);
	ok(s != NULL && store_plan_get(t, 1, back, sizeof back, &len) ==
	    STORE_OK && len == sizeof blob &&
	    memcmp(back, blob, sizeof blob) == 0, "and is there when reopened");
	store_abort(t);
	store_close(s);
	snprintf(why, sizeof why, "%s/disk", dir);
	if (umount2(why, MNT_DETACH) == -1)
		diag("umount %s: %s", why, strerror(errno));
	snprintf(why, sizeof why, "rm -rf %s", dir);
	if (system(why) != 0)
		diag("could not remove %s", dir);
}

int
main(void)
{
	test_map_max_on_sighup();
	/* Last: the rest of the test runs in the namespace. */
	if (ok(enter_namespace() == 0,
	    "a user and mount namespace for a tmpfs of the test's own")) {
		test_store_no_space();
		test_disk_full();
	}
	return done_testing();
}
