/* Bad input: every malformed, hostile or vanishing client gets its error
 * (where a msgid can be read) and is dropped; the daemon stays up and a
 * well-behaved client is served throughout. */
#include "harness.h"
#include "../common/be.h"
#include "../common/util.h"

static struct dproc p;
static struct cr_client *good;
static int served;

/* The well-behaved client still gets answers, and writes still land. */
static int
good_served(void)
{
	struct cr_reply r;
	char to[32];
	int rc;

	snprintf(to, sizeof to, "friend-%d", ++served);
	rc = call(good, &r, "invite.send", "from:s to:s", "goodie", to);
	cr_reply_free(&r);
	return rc == 0 && dproc_alive(&p);
}

/* Sends bytes on a fresh connection, the first `first` of them alone (0:
 * all at once); reads one message (or EOF). Returns the error code of the
 * answer, "" for none, and whether the connection was closed after:
 * whether a request sent after it goes unanswered. */
static const char *
attack_split(const void *bytes, size_t len, size_t first, uint32_t *msgid,
    int *closed)
{
	static char code[64];
	struct cr_client *c = dconnect(&p);
	msgpack_unpacked up;
	const msgpack_object *e, *o;

	code[0] = '\0';
	*closed = 0;
	if (c == NULL)
		return "(no connection)";
	if (first > 0 && first < len) {
		cr_send_raw(c, bytes, first);
		usleep(200 * 1000);	/* the daemon reads them on their own */
		cr_send_raw(c, (const char *)bytes + first, len - first);
	} else
		cr_send_raw(c, bytes, len);
	msgpack_unpacked_init(&up);
	if (cr_read_message(c, &up, WAIT_MS) == 0) {
		o = &up.data;
		if (o->type == MSGPACK_OBJECT_ARRAY && o->via.array.size == 4) {
			*msgid = (uint32_t)o->via.array.ptr[1].via.u64;
			e = cr_get(&o->via.array.ptr[2], "code");
			if (e != NULL && e->type == MSGPACK_OBJECT_STR)
				snprintf(code, sizeof code, "%.*s",
				    (int)e->via.str.size, e->via.str.ptr);
			else
				snprintf(code, sizeof code, "(no error)");
		}
		msgpack_unpacked_destroy(&up);
		msgpack_unpacked_init(&up);
		cr_request(c, "hello");
		*closed = cr_send(c) == -1 ||
		    cr_read_message(c, &up, WAIT_MS) == -1;
	} else
		*closed = 1;
	msgpack_unpacked_destroy(&up);
	cr_close(c);
	return code;
}

static const char *
attack(const void *bytes, size_t len, uint32_t *msgid, int *closed)
{
	return attack_split(bytes, len, 0, msgid, closed);
}

static void
check_split(const char *what, const void *bytes, size_t len, size_t first,
    const char *want, uint32_t want_msgid, int want_closed)
{
	uint32_t msgid = 0;
	int closed;
	const char *code = attack_split(bytes, len, first, &msgid, &closed);

	if (!ok(strcmp(code, want) == 0 && (want[0] == '\0' ||
	    msgid == want_msgid) && closed == want_closed,
	    "%s: %s%s", what, want[0] ? want : "no answer",
	    want_closed ? ", closed" : ", kept open"))
		diag("got code '%s' msgid %u closed %d", code, msgid, closed);
	ok(good_served(), "  and the daemon serves others");
}

static void
check(const char *what, const void *bytes, size_t len, const char *want,
    uint32_t want_msgid, int want_closed)
{
	check_split(what, bytes, len, 0, want, want_msgid, want_closed);
}

/* A size of the daemon's from /proc (VmRSS, VmHWM), in kB; -1 when
 * unknown. */
static long
daemon_mem(const char *field)
{
	char path[64], line[256];
	long kb = -1;
	size_t n = strlen(field);
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/status", (int)p.pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, field, n) == 0 && line[n] == ':')
			sscanf(line + n + 1, "%ld", &kb);
	fclose(f);
	return kb;
}

/* [0, msgid, "x", [65000 nils]]: 65,010 bytes that msgpack-c would decode
 * into 1.6 MB of objects. */
static size_t
nils_request(char *buf, uint32_t msgid)
{
	memcpy(buf, "\x94\x00\xce", 3);
	be_put((unsigned char *)buf + 3, msgid, 4);
	memcpy(buf + 7, "\xa1x\xdd\x00\x00\xfd\xe8", 7);
	memset(buf + 14, 0xc0, 65000);
	return 14 + 65000;
}

int
main(void)
{
	static char big[80000];
	char deep[200];
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct cr_client *c;
	struct cr_reply r;
	int i;

	dproc_init(&p);
	if (!ok(dproc_start(&p, T0, NULL) == 0, "connreqd starts"))
		return done_testing();
	good = dconnect(&p);
	ok(good != NULL && good_served(), "a good client is served");

	check("garbage bytes", "\xc1\xc1\xc1\xc1garbage", 11, "", 0, 1);
	check("a string, not a request", "\xa5hello", 6, "", 0, 1);
	check("dd ff 00 00 00 alone", "\xdd\xff\x00\x00\x00", 5, "", 0, 1);
	check("dd ff 00 00 00 inside a request",
	    "\x94\x00\x09\xa1x\xdd\xff\x00\x00\x00", 10, "MALFORMED", 9, 1);
	check("a map claiming 4 billion pairs",
	    "\x94\x00\x0a\xa1x\x91\xdf\xff\xff\xff\xff", 11, "MALFORMED", 10, 1);
	memcpy(deep, "\x94\x00\x0b\xa1x", 5);
	memset(deep + 5, 0x91, sizeof deep - 6);
	deep[sizeof deep - 1] = 0x01;
	check("nesting 194 deep", deep, sizeof deep, "MALFORMED", 11, 1);
	check("a response sent to the daemon", "\x94\x01\x0c\xc0\xc0", 5, "", 0, 1);
	check("an array of 3", "\x93\x00\x0d\xa1x", 5, "", 0, 1);
	check("a numeric method", "\x94\x00\x0e\x07\x90", 5, "MALFORMED", 14, 1);

	/* Oversized: a 70000-byte note. */
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 4);
	msgpack_pack_uint8(&pk, 0);
	msgpack_pack_uint32(&pk, 15);
	pk_str(&pk, "invite.send");
	msgpack_pack_array(&pk, 1);
	msgpack_pack_map(&pk, 3);
	pk_kstr(&pk, "from", "a");
	pk_kstr(&pk, "to", "b");
	memset(big, 'x', sizeof big);
	pk_kstrn(&pk, "note", big, 70000);
	check("a message of 70 KB", sb.data, sb.size, "TOO_LARGE", 15, 1);
	/* The same in small pieces: refused as soon as the header says so. */
	check("an oversized header alone", sb.data, 40, "TOO_LARGE", 15, 1);
	msgpack_sbuffer_destroy(&sb);

	/* The same bytes get the same answer however they arrive (issue 9,
	 * bug 7): an array32 header over byte 65536, sent whole and as 100
	 * bytes then the rest. */
	{
		size_t n = 0, fill = 65536 - 2 - 11;

		memcpy(big, "\x94\x00\x30\xa1x\x92\xc6", 7);
		be_put((unsigned char *)big + 7, fill, 4);
		memset(big + 11, 'x', fill);
		n = 11 + fill;
		memcpy(big + n, "\xdd\x00\x00\x00\x01\xc0", 6);
		n += 6;
		check("an array32 header over byte 65536, whole", big, n,
		    "TOO_LARGE", 0x30, 1);
		check_split("the same as 100 bytes, then the rest", big, n, 100,
		    "TOO_LARGE", 0x30, 1);
	}

	/* Decoded size is bounded (issue 9, bug 5): 65,000 nils in an array
	 * are refused before msgpack-c sees them; a big legitimate request
	 * still passes. */
	check("an array of 65,000 nils", big, nils_request(big, 0x31),
	    "TOO_LARGE", 0x31, 1);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 4);
	msgpack_pack_uint8(&pk, 0);
	msgpack_pack_uint32(&pk, 0x32);
	pk_str(&pk, "invite.send");
	msgpack_pack_array(&pk, 1);
	msgpack_pack_map(&pk, 3);
	pk_kstr(&pk, "from", "a");
	pk_kstr(&pk, "to", "b");
	memset(big, 'x', 4096);
	pk_kstrn(&pk, "note", big, 4096);
	check("a request with a 4096-byte note: decoded and run", sb.data,
	    sb.size, "NOTE_TOO_LONG", 0x32, 0);
	msgpack_sbuffer_destroy(&sb);
	/* 64 connections sending such arrays at once (all but the last byte,
	 * then the last bytes together): the daemon's memory, at its peak,
	 * stays small (it grew by 100 MB). */
	{
		struct cr_client *cs[64];
		msgpack_unpacked up;
		long rss0, hwm0, rss1, hwm1;
		size_t n = nils_request(big, 0x100);
		int k, answered = 0;

		rss0 = daemon_mem("VmRSS");
		hwm0 = daemon_mem("VmHWM");
		for (k = 0; k < 64; k++)
			if ((cs[k] = dconnect(&p)) != NULL)
				cr_send_raw(cs[k], big, n - 1);
		for (k = 0; k < 64; k++)
			if (cs[k] != NULL)
				cr_send_raw(cs[k], big + n - 1, 1);
		msgpack_unpacked_init(&up);
		for (k = 0; k < 64; k++)
			if (cs[k] != NULL && cr_read_message(cs[k], &up, 5000) == 0)
				answered++;
		msgpack_unpacked_destroy(&up);
		rss1 = daemon_mem("VmRSS");
		hwm1 = daemon_mem("VmHWM");
		diag("daemon VmRSS %ld kB before, %ld kB after; VmHWM %ld kB "
		    "before, %ld kB after", rss0, rss1, hwm0, hwm1);
		is_int(answered, 64, "64 connections sending 65,000 nils: all answered");
		ok(rss0 > 0 && hwm0 > 0 && rss1 - rss0 < 16 * 1024 &&
		    hwm1 - hwm0 < 16 * 1024,
		    "and the daemon's memory stays small (VmRSS grew %ld kB, its "
		    "peak %ld kB)", rss1 - rss0, hwm1 - hwm0);
		for (k = 0; k < 64; k++)
			if (cs[k] != NULL)
				cr_close(cs[k]);
		ok(good_served(), "others are served");
	}

	/* Wrong types and unknown methods are answered; the client stays. */
	check("a number where a member belongs",
	    "\x94\x00\x10\xabinvite.send\x91\x82\xa4" "from\x05\xa2to\xa1y", 28,
	    "INVALID_ARGUMENT", 16, 0);
	check("an unknown method", "\x94\x00\x11\xa3zap\x90", 8,
	    "UNKNOWN_METHOD", 17, 0);
	check("params that are not an array", "\x94\x00\x12\xa5hello\x80", 10,
	    "INVALID_ARGUMENT", 18, 0);

	/* A message that closes its client stops what follows it. */
	{
		uint32_t id;
		int closed;
		const char *code;
		char buf[128];
		size_t n = 0;

		memcpy(buf + n, "\x94\x00\x15\x07\x90", 5);	/* numeric method */
		n += 5;
		memcpy(buf + n, "\x94\x00\x16\xabinvite.send\x91\x82\xa4" "from"
		    "\xa6" "after1\xa2to\xa6" "after2", 38);
		n += 38;
		code = attack(buf, n, &id, &closed);
		ok(strcmp(code, "MALFORMED") == 0 && id == 21 && closed,
		    "a bad message followed by a good one: MALFORMED, closed");
		call(good, &r, "invite.list", "member:s box:s", "after1", "sent");
		is_int(rnum(&r, "items"), 0, "and the request after it was not run");
		cr_reply_free(&r);
	}
	/* Invalid UTF-8 cut into an error message stays valid. */
	{
		char m[80];
		uint32_t id;
		int closed;
		const char *code;
		struct cr_client *u = dconnect(&p);

		memcpy(m, "\x94\x00\x17\xd9\x41", 5);
		memset(m + 5, 'a', 63);
		memcpy(m + 68, "\xc3\xa9\x90", 3);
		cr_send_raw(u, m, 71);
		{
			msgpack_unpacked up;
			const msgpack_object *msg;

			msgpack_unpacked_init(&up);
			ok(cr_read_message(u, &up, WAIT_MS) == 0 &&
			    (msg = cr_get(&up.data.via.array.ptr[2], "message")) != NULL &&
			    utf8_valid(msg->via.str.ptr, msg->via.str.size),
			    "an unknown method's name is quoted as valid UTF-8");
			msgpack_unpacked_destroy(&up);
		}
		cr_close(u);
		(void)id; (void)closed; (void)code;
	}

	/* A truncated message, then the client vanishes. */
	c = dconnect(&p);
	cr_send_raw(c, "\x94\x00\x13\xabinvite.se", 14);
	cr_close(c);
	ok(good_served(), "a client that vanishes mid-message: others served");

	/* A whole write, then the client vanishes before its answer: the
	 * write is still committed. */
	c = dconnect(&p);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 4);
	msgpack_pack_uint8(&pk, 0);
	msgpack_pack_uint32(&pk, 20);
	pk_str(&pk, "invite.send");
	msgpack_pack_array(&pk, 1);
	msgpack_pack_map(&pk, 2);
	pk_kstr(&pk, "from", "ghost");
	pk_kstr(&pk, "to", "host");
	cr_send_raw(c, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	cr_close(c);
	ok(good_served(), "a client that vanishes after a request: others served");
	/* Its write was never answered: reads see it once it is durable,
	 * a moment later. */
	{
		int64_t start = harness_ms();

		do {
			cr_reply_free(&r);
			call(good, &r, "invite.list", "member:s box:s",
			    "ghost", "sent");
		} while (rnum(&r, "items") != 1 && wait_tick(start));
	}
	is_int(rnum(&r, "items"), 1, "and its request was carried out");
	cr_reply_free(&r);

	/* A client that writes without reading: its output is bounded, the
	 * others are served meanwhile. */
	c = dconnect(&p);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	for (i = 0; i < 20000; i++) {
		msgpack_pack_array(&pk, 4);
		msgpack_pack_uint8(&pk, 0);
		msgpack_pack_uint32(&pk, (uint32_t)i);
		pk_str(&pk, "server.info");
		msgpack_pack_array(&pk, 0);
	}
	{
		int fl = fcntl(cr_fd(c), F_GETFL);
		size_t off = 0;
		ssize_t n;

		fcntl(cr_fd(c), F_SETFL, fl | O_NONBLOCK);
		while (off < sb.size) {
			n = write(cr_fd(c), sb.data + off, sb.size - off);
			if (n <= 0)
				break;
			off += (size_t)n;
		}
		diag("a reader that never reads got %zu of %zu bytes in",
		    off, sb.size);
	}
	msgpack_sbuffer_destroy(&sb);
	ok(good_served(), "a client that never reads: others served");
	cr_close(c);
	ok(good_served(), "and after it leaves");

	/* Eight clients flooding tiny requests without reading: the daemon
	 * queues only a few of each per batch, so its memory stays small. */
	{
		struct cr_client *fl[8];
		char path[64], line[256];
		long before = -1, after = -1;
		FILE *f;
		int k, j;

		snprintf(path, sizeof path, "/proc/%d/status", (int)p.pid);
		if ((f = fopen(path, "r")) != NULL) {
			while (fgets(line, sizeof line, f) != NULL)
				sscanf(line, "RssAnon: %ld", &before);
			fclose(f);
		}
		msgpack_sbuffer_init(&sb);
		for (j = 0; j < 20000; j++)
			msgpack_sbuffer_write(&sb, "\x94\x00\x01\xa1x\x90", 6);
		for (k = 0; k < 8; k++) {
			int fl2;
			size_t off = 0;
			ssize_t n;

			fl[k] = dconnect(&p);
			fl2 = fcntl(cr_fd(fl[k]), F_GETFL);
			fcntl(cr_fd(fl[k]), F_SETFL, fl2 | O_NONBLOCK);
			while (off < sb.size &&
			    (n = write(cr_fd(fl[k]), sb.data + off, sb.size - off)) > 0)
				off += (size_t)n;
		}
		msgpack_sbuffer_destroy(&sb);
		ok(good_served(), "eight clients flooding tiny requests: others served");
		if ((f = fopen(path, "r")) != NULL) {
			while (fgets(line, sizeof line, f) != NULL)
				sscanf(line, "RssAnon: %ld", &after);
			fclose(f);
		}
		diag("daemon RssAnon %ld kB before, %ld kB after", before, after);
		ok(before > 0 && after - before < 24 * 1024,
		    "and the daemon's memory stays small (grew %ld kB)", after - before);
		for (k = 0; k < 8; k++)
			cr_close(fl[k]);
		ok(good_served(), "after they leave too");
	}

	/* Another uid is refused. */
	if (geteuid() == 0) {
		pid_t pid = fork();
		int status;

		if (pid == 0) {
			struct cr_client *x;
			char err[256];

			if (setgid(65534) != 0 || setuid(65534) != 0)
				_exit(3);
			x = cr_connect(p.sock, err, sizeof err);
			if (x == NULL)
				_exit(0);
			if (call(x, &r, "hello", "") == -1)
				_exit(0);
			_exit(1);
		}
		waitpid(pid, &status, 0);
		ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "a client of another uid is refused");
	} else
		ok(1, "a client of another uid is refused (needs root to try; the socket is 0600)");

	ok(dproc_logged(&p, "closing it"), "the daemon logged why it dropped clients");
	cr_close(good);
	is_int(dproc_stop(&p, SIGTERM), 0, "the daemon stops cleanly: exit 0");
	dproc_cleanup(&p);
	return done_testing();
}
