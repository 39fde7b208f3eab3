/* The codec: framing, hostile headers, request shape, arguments, UTF-8. */
#include "../common/be.h"
#include "../common/util.h"
#include "../proto/proto.h"
#include "tap.h"

#define MAX 65536

static enum proto_scan
scan(const char *buf, size_t len, size_t *msglen)
{
	const char *why;

	return proto_scan(buf, len, MAX, msglen, &why);
}

static const char *
scan_name(enum proto_scan s)
{
	static const char *const names[] = { "OK", "MORE", "BAD", "TOO_LARGE" };

	return (unsigned)s < 4 ? names[s] : "?";
}

/* A small seeded generator, the same sequence everywhere. */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

/* How the daemon frames: it scans at most max + 16 bytes of its input. */
static enum proto_scan
scan_whole(const char *buf, size_t len, size_t max, size_t *msglen,
    const char **why)
{
	*msglen = 0;
	return proto_scan(buf, len < max + 16 ? len : max + 16, max, msglen,
	    why);
}

/* One prefix of buf against the whole: MORE, or the very same answer. */
static bool
prefix_agrees(const char *what, const char *buf, size_t n, size_t max,
    enum proto_scan whole, size_t wlen, const char *wwhy)
{
	enum proto_scan part;
	size_t plen = 0;
	const char *pwhy;

	part = proto_scan(buf, n, max, &plen, &pwhy);
	if (part == PROTO_SCAN_MORE ||
	    (part == whole && (part != PROTO_SCAN_OK || plen == wlen) &&
	    (pwhy == wwhy || (pwhy != NULL && wwhy != NULL &&
	    strcmp(pwhy, wwhy) == 0))))
		return true;
	diag("%s: its first %zu bytes scan as %s (%s), the whole as %s (%s)",
	    what, n, scan_name(part), pwhy ? pwhy : "-", scan_name(whole),
	    wwhy ? wwhy : "-");
	return false;
}

/* The verdict on buf must not depend on how its bytes arrive: every prefix
 * (or, for long messages, the prefixes near the start, near max and near the
 * end, and those at the cuts of 16 seeded random chunkings) scans as MORE or
 * exactly as the whole. A whole of max bytes or more is never MORE, and what
 * scans OK is what msgpack-c unpacks. Sets *verdict to the whole's answer. */
static bool
arrival_agrees(const char *what, const char *buf, size_t len, size_t max,
    enum proto_scan *verdict)
{
	enum proto_scan whole;
	size_t wlen, n, i, cut;
	const char *wwhy;
	int k;

	whole = scan_whole(buf, len, max, &wlen, &wwhy);
	if (verdict != NULL)
		*verdict = whole;
	n = len < max + 16 ? len : max + 16;
	if (whole == PROTO_SCAN_MORE && n >= max) {
		diag("%s: %zu bytes and still MORE", what, n);
		return false;
	}
	if (whole == PROTO_SCAN_OK) {
		msgpack_unpacked up;
		size_t off = 0;
		bool same;

		msgpack_unpacked_init(&up);
		same = msgpack_unpack_next(&up, buf, n, &off) ==
		    MSGPACK_UNPACK_SUCCESS && off == wlen;
		msgpack_unpacked_destroy(&up);
		if (!same) {
			diag("%s: scans OK (%zu bytes) but msgpack-c disagrees",
			    what, wlen);
			return false;
		}
	}
	for (i = 0; i <= n; i++) {
		if (n > 4096 && i > 300 && i + 300 < n &&
		    (i + 300 < max || i > max + 300) && i % 97 != 0)
			continue;
		if (!prefix_agrees(what, buf, i, max, whole, wlen, wwhy))
			return false;
	}
	for (k = 0; k < 16; k++)
		for (cut = 0; cut < n; ) {
			cut += 1 + (k % 2 ? rng() % 16 : rng() % 8192);
			if (cut > n)
				cut = n;
			if (!prefix_agrees(what, buf, cut, max, whole, wlen, wwhy))
				return false;
		}
	return true;
}

/* A message whose object of type byte `type` (with length field v, when it
 * has one) starts at byte `at`: [bin filler, object, nil...], len bytes in
 * all. at >= 8. */
static size_t
straddle(char *buf, size_t len, size_t at, unsigned char type, uint64_t v)
{
	size_t lenbytes = 0, i;

	memset(buf, 0xc0, len);
	memcpy(buf, "\xdc\x00\x02\xc6", 4);
	be_put((unsigned char *)buf + 4, at - 8, 4);
	memset(buf + 8, 'x', at - 8);
	switch (type) {
	case 0xc4: case 0xc7: case 0xd9: lenbytes = 1; break;
	case 0xc5: case 0xc8: case 0xda: case 0xdc: case 0xde: lenbytes = 2; break;
	case 0xc6: case 0xc9: case 0xdb: case 0xdd: case 0xdf: lenbytes = 4; break;
	}
	buf[at] = (char)type;
	if (lenbytes > 0)
		be_put((unsigned char *)buf + at + 1, v, lenbytes);
	for (i = at + 1 + lenbytes; i < len && i < at + 1 + lenbytes + 64; i++)
		buf[i] = 'y';	/* payload or elements: fixints */
	return len;
}

/* Packs a request [0, msgid, method, [ {key: val} ]] into sb. */
static void
pack_req(msgpack_sbuffer *sb, uint32_t msgid, const char *method,
    const char *key, const char *val)
{
	msgpack_packer pk;

	msgpack_sbuffer_clear(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 4);
	msgpack_pack_uint8(&pk, 0);
	msgpack_pack_uint32(&pk, msgid);
	pk_str(&pk, method);
	msgpack_pack_array(&pk, 1);
	if (key == NULL) {
		msgpack_pack_map(&pk, 0);
		return;
	}
	msgpack_pack_map(&pk, 1);
	pk_kstr(&pk, key, val);
}

int
main(void)
{
	msgpack_sbuffer sb;
	msgpack_unpacked up;
	struct proto_request r;
	struct proto_error e;
	struct args a;
	size_t len, off, i;
	uint32_t msgid;
	bool have;
	const char *s, *why;
	size_t slen;
	uint64_t u;
	char deep[64];
	char big[MAX + 64];

	msgpack_sbuffer_init(&sb);
	msgpack_unpacked_init(&up);

	/* A whole request round-trips. */
	pack_req(&sb, 7, "invite.send", "from", "alice");
	ok(scan(sb.data, sb.size, &len) == PROTO_SCAN_OK && len == sb.size,
	    "a whole request scans as one message of %zu bytes", sb.size);
	for (i = 0; i < sb.size; i++)
		if (scan(sb.data, i, &len) != PROTO_SCAN_MORE)
			break;
	is_int(i, sb.size, "every truncation asks for more");
	off = 0;
	ok(msgpack_unpack_next(&up, sb.data, sb.size, &off) ==
	    MSGPACK_UNPACK_SUCCESS, "msgpack-c unpacks it");
	ok(proto_parse_request(&up.data, &r, &have, &e) == 0 && r.msgid == 7 &&
	    r.method_len == 11 && memcmp(r.method, "invite.send", 11) == 0,
	    "the request parses: msgid 7, invite.send");
	ok(proto_peek_msgid(sb.data, sb.size, &msgid) && msgid == 7,
	    "the msgid can be peeked");
	ok(proto_peek_msgid(sb.data, 3, &msgid) && msgid == 7,
	    "even from the first bytes alone");
	ok(proto_peek_msgid("\x94\x00\xcf\0\0\0\0\0\0\x01\x02", 11, &msgid) &&
	    msgid == 258, "a msgid packed as uint64 can be peeked");
	ok(!proto_peek_msgid("\x94\x00\xcf\0\0\0\x01\0\0\0\0", 11, &msgid),
	    "but not one past 32 bits");
	{
		char echo[16];

		proto_echo(echo, sizeof echo, "abcdefghij\xc3\xa9\xc3\xa9\xc3\xa9", 16);
		ok(utf8_valid(echo, strlen(echo)) && strstr(echo, "...") != NULL,
		    "a quoted string is cut at a character boundary: %s", echo);
		proto_echo(echo, sizeof echo, "a\nb\xff", 4);
		ok(utf8_valid(echo, strlen(echo)) && strchr(echo, '\n') == NULL,
		    "and holds no control or invalid bytes: %s", echo);
		/* Found by fuzz_dispatch: an unknown argument "n\x7fte" came
		 * back with its DEL. U+007F-U+009F are control characters
		 * too (as in a member id): none is quoted. */
		proto_echo(echo, sizeof echo, "n\x7fte\xc2\x85\xc2\x9f\xc2\xa0", 10);
		ok(strcmp(echo, "n?te??\xc2\xa0") == 0,
		    "DEL and U+0080-U+009F are quoted as ?, U+00A0 as it is: %s",
		    echo);
	}

	/* Two messages back to back: the first is framed alone. */
	msgpack_sbuffer_write(&sb, sb.data, sb.size);
	ok(scan(sb.data, sb.size, &len) == PROTO_SCAN_OK && len == sb.size / 2,
	    "pipelined messages are framed one at a time");

	/* Hostile headers. */
	ok(scan("\xdd\xff\x00\x00\x00", 5, &len) == PROTO_SCAN_BAD,
	    "dd ff 00 00 00 (an array of 4 billion) is refused at once");
	ok(scan("\xdf\x00\x01\x00\x00", 5, &len) == PROTO_SCAN_BAD,
	    "a map of 65536 pairs in a 5-byte message is refused");
	ok(scan("\x94\x00\x01\xa1x\xdc\xff\xff", 8, &len) == PROTO_SCAN_BAD,
	    "an array16 of 65535 inside a request is refused");
	ok(scan("\xdb\x7f\xff\xff\xff", 5, &len) == PROTO_SCAN_TOO_LARGE,
	    "a 2 GB string is too large");
	ok(scan("\xc6\x00\x01\x00\x01", 5, &len) == PROTO_SCAN_TOO_LARGE,
	    "a bin of 65537 bytes is too large");
	ok(scan("\xc1", 1, &len) == PROTO_SCAN_BAD, "0xc1 is malformed");
	memset(deep, 0x91, sizeof deep);
	ok(scan(deep, sizeof deep, &len) == PROTO_SCAN_BAD,
	    "64 nested arrays are too deep");
	memset(deep, 0x91, PROTO_MAX_DEPTH);
	deep[PROTO_MAX_DEPTH] = 0x01;
	ok(scan(deep, PROTO_MAX_DEPTH + 1, &len) == PROTO_SCAN_OK,
	    "%d levels pass", PROTO_MAX_DEPTH);
	memset(deep, 0x91, PROTO_MAX_DEPTH + 1);
	deep[PROTO_MAX_DEPTH + 1] = 0x01;
	ok(scan(deep, PROTO_MAX_DEPTH + 2, &len) == PROTO_SCAN_BAD,
	    "%d levels do not", PROTO_MAX_DEPTH + 1);
	memset(big, 0xc0, sizeof big);
	big[0] = (char)0xdc;
	big[1] = (char)0xff;
	big[2] = (char)0xff;
	ok(scan(big, sizeof big, &len) == PROTO_SCAN_BAD ||
	    scan(big, sizeof big, &len) == PROTO_SCAN_TOO_LARGE,
	    "65535 nils plus more exceed the limit");
	ok(proto_scan("\xa5hello", 6, 4, &len, &why) == PROTO_SCAN_TOO_LARGE,
	    "a message longer than max is too large");
	ok(proto_scan("\x91\xa3" "ab", 4, 4, &len, &why) == PROTO_SCAN_TOO_LARGE,
	    "a string that would end past max is too large before it arrives");

	/* Decoded size is bounded (issue 9, bug 5): at most MAX / 16 array
	 * elements and map pairs, nested ones included. */
	memcpy(big, "\xdd\x00\x00\xfd\xe8", 5);
	memset(big + 5, 0xc0, 65000);
	ok(proto_scan(big, 65005, MAX, &len, &why) == PROTO_SCAN_TOO_LARGE &&
	    strstr(why, "elements") != NULL,
	    "an array of 65,000 nils (65,005 bytes) is too large: %s", why);
	ok(proto_scan(big, 5, MAX, &len, &why) == PROTO_SCAN_TOO_LARGE,
	    "  as soon as its header is in");
	memcpy(big, "\x94\x00\x01\xa1x\xdd\x00\x00\xfd\xe8", 10);
	memset(big + 10, 0xc0, 65000);
	ok(scan(big, 65010, &len) == PROTO_SCAN_TOO_LARGE,
	    "so are 65,000 nils as the params of a request");
	memcpy(big, "\xdc\x10\x00", 3);
	memset(big + 3, 0xc0, MAX / 16 + 1);
	ok(scan(big, 3 + MAX / 16, &len) == PROTO_SCAN_OK && len == 3 + MAX / 16,
	    "an array of %d nils passes", MAX / 16);
	big[2] = 0x01;
	ok(scan(big, 3 + MAX / 16 + 1, &len) == PROTO_SCAN_TOO_LARGE,
	    "one more does not");
	memcpy(big, "\xde\x10\x01", 3);
	memset(big + 3, 0x01, 2 * (MAX / 16 + 1));
	ok(scan(big, 3 + 2 * (MAX / 16 + 1), &len) == PROTO_SCAN_TOO_LARGE,
	    "nor a map of %d pairs", MAX / 16 + 1);
	big[2] = 0x00;
	ok(scan(big, 3 + 2 * (MAX / 16), &len) == PROTO_SCAN_OK,
	    "while %d pairs pass", MAX / 16);
	/* 16 arrays of 256 nils: 4112 elements, none of them large alone. */
	big[0] = (char)0xdc;
	big[1] = 0x00;
	big[2] = 0x10;
	for (i = 0; i < 16; i++) {
		memcpy(big + 3 + i * 259, "\xdc\x01\x00", 3);
		memset(big + 3 + i * 259 + 3, 0xc0, 256);
	}
	ok(scan(big, 3 + 16 * 259, &len) == PROTO_SCAN_TOO_LARGE,
	    "nested elements count too: 16 arrays of 256 nils are too many");
	big[2] = 0x0f;
	ok(scan(big, 3 + 15 * 259, &len) == PROTO_SCAN_OK,
	    "15 of them (3855 elements) pass");
	{
		/* The largest legitimate request: a 4096-byte note. */
		msgpack_packer pk;

		msgpack_sbuffer_clear(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		msgpack_pack_array(&pk, 4);
		msgpack_pack_uint8(&pk, 0);
		msgpack_pack_uint32(&pk, 3);
		pk_str(&pk, "invite.send");
		msgpack_pack_array(&pk, 1);
		msgpack_pack_map(&pk, 4);
		pk_kstr(&pk, "from", "alice");
		pk_kstr(&pk, "to", "bob");
		pk_kstr(&pk, "priority", "high");
		memset(big, 'x', 4096);
		pk_kstrn(&pk, "note", big, 4096);
		ok(scan(sb.data, sb.size, &len) == PROTO_SCAN_OK &&
		    len == sb.size, "a request with a 4096-byte note passes");
		ok(proto_scan(sb.data, sb.size, 1024 + 4096, &len, &why) ==
		    PROTO_SCAN_OK, "  even with max_message_bytes at 5 KB");
	}
	{
		/* At the smallest max_message_bytes (1024): 64 elements, a
		 * request of 59 arguments. */
		msgpack_packer pk;
		char key[24];
		int k;

		for (k = 59; k <= 60; k++) {
			msgpack_sbuffer_clear(&sb);
			msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
			msgpack_pack_array(&pk, 4);
			msgpack_pack_uint8(&pk, 0);
			msgpack_pack_uint32(&pk, 3);
			pk_str(&pk, "m");
			msgpack_pack_array(&pk, 1);
			msgpack_pack_map(&pk, (size_t)k);
			for (i = 0; i < (size_t)k; i++) {
				snprintf(key, sizeof key, "k%zu", i);
				pk_kuint(&pk, key, i);
			}
			ok(proto_scan(sb.data, sb.size, 1024, &len, &why) ==
			    (k == 59 ? PROTO_SCAN_OK : PROTO_SCAN_TOO_LARGE),
			    "max 1024: a request of %d arguments %s", k,
			    k == 59 ? "passes" : "is too large");
		}
	}
	{
		/* Every kind of scalar frames correctly. */
		msgpack_packer pk;

		msgpack_sbuffer_clear(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		msgpack_pack_array(&pk, 12);
		msgpack_pack_nil(&pk);
		msgpack_pack_true(&pk);
		msgpack_pack_int8(&pk, -5);
		msgpack_pack_int64(&pk, -5000000000LL);
		msgpack_pack_uint64(&pk, 5000000000ULL);
		msgpack_pack_float(&pk, 1.5f);
		msgpack_pack_double(&pk, 2.5);
		msgpack_pack_bin(&pk, 3);
		msgpack_pack_bin_body(&pk, "abc", 3);
		msgpack_pack_ext(&pk, 1, 7);
		msgpack_pack_ext_body(&pk, "x", 1);
		msgpack_pack_ext(&pk, 20, 7);
		msgpack_pack_ext_body(&pk, "abcdefghijklmnopqrst", 20);
		pk_str(&pk, "a string longer than thirty-one bytes, str8");
		msgpack_pack_map(&pk, 1);
		pk_kuint(&pk, "k", 1);
		ok(scan(sb.data, sb.size, &len) == PROTO_SCAN_OK &&
		    len == sb.size, "every msgpack type frames (%zu bytes)",
		    sb.size);
		for (i = 0; i < sb.size; i++)
			if (scan(sb.data, i, &len) != PROTO_SCAN_MORE)
				break;
		is_int(i, sb.size, "and every truncation of it asks for more");
	}

	/* The verdict does not depend on how the bytes arrive (issue 9, bug
	 * 7): every prefix of a message scans as MORE or exactly as the whole
	 * message does. */
	diag("arrival: seed %#llx", (unsigned long long)rng_state);
	{
		static const struct {
			const char *bytes;
			size_t len;
			enum proto_scan want;
			const char *what;
		} shapes[] = {
			{ "\x94\x00\x07\xabinvite.send\x91\x81\xa4" "from\xa5" "alice",
			    28, PROTO_SCAN_OK, "a request" },
			{ "\x94\x00\x07\xabinvite.send\x91\x81\xa4" "from\xa5" "ali",
			    26, PROTO_SCAN_MORE, "a truncated request" },
			{ "\xdd\xff\x00\x00\x00", 5, PROTO_SCAN_BAD, "an array32 of 4 billion" },
			{ "\x94\x00\x0a\xa1x\x91\xdf\xff\xff\xff\xff", 11,
			    PROTO_SCAN_BAD, "a map32 of 4 billion pairs in a request" },
			{ "\x94\x00\x01\xa1x\xdc\xff\xff", 8, PROTO_SCAN_BAD, "an array16 of 65535" },
			{ "\xde\x80\x00\xa1x", 5, PROTO_SCAN_BAD, "a map16 of 32768 pairs" },
			{ "\xdb\x7f\xff\xff\xff", 5, PROTO_SCAN_TOO_LARGE, "a str32 of 2 GB" },
			{ "\x94\x00\x01\xa1x\xdd\x00\x00\xfd\xe8\xc0\xc0", 12,
			    PROTO_SCAN_TOO_LARGE, "65,000 nils in a request" },
			{ "\x92\xdc\x08\x00\xc0\xdc\x08\x00", 8,
			    PROTO_SCAN_TOO_LARGE, "two arrays of 2048 nils" },
			{ "\xc6\x00\x01\x00\x01", 5, PROTO_SCAN_TOO_LARGE, "a bin32 of 65537 bytes" },
			{ "\xc9\xff\xff\xff\xff\x01", 6, PROTO_SCAN_TOO_LARGE, "an ext32 of 4 GB" },
			{ "\x93\xd4\x01\x02\xc7\x03\x05" "abc\xd8\x07" "0123456789abcdef",
			    28, PROTO_SCAN_OK, "fixext1, ext8 and fixext16" },
			{ "\x92\xc8\x00\x02\x05", 5, PROTO_SCAN_MORE, "an ext16 cut short" },
			{ "\x92\xc0\xc1", 3, PROTO_SCAN_BAD, "0xc1 after a nil" },
			{ "\x92\x91\xc1\xdd\xff\xff\xff\xff", 8, PROTO_SCAN_BAD, "0xc1 before a huge header" },
			{ "\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91"
			    "\x91\x91\x01", 18, PROTO_SCAN_BAD, "17 levels of nesting" },
			{ "\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91"
			    "\x91\x01", 17, PROTO_SCAN_OK, "16 levels of nesting" },
		};
		static const unsigned char types[] = {
			0xc0, 0xa3, 0x91, 0x81, 0xcf, 0xcb, 0xd7, 0xd8,
			0xd9, 0xda, 0xdb, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9,
			0xdc, 0xdd, 0xde, 0xdf,
		};
		static const uint64_t lens[] = { 0, 1, 3, 0xff, 0xffff, 0xffffffff };
		static const size_t maxes[] = { 1024, MAX };
		enum proto_scan v;
		size_t m, at, t, l, n;
		int seen[4];
		bool good;

		for (i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
			good = arrival_agrees(shapes[i].what, shapes[i].bytes,
			    shapes[i].len, MAX, &v);
			if (!ok(good && v == shapes[i].want,
			    "%s: %s, whatever the arrival", shapes[i].what,
			    scan_name(shapes[i].want)))
				diag("got %s", scan_name(v));
		}
		for (m = 0; m < 3; m++) {
			pack_req(&sb, 9, "invite.send", "note", m == 0 ? "" :
			    m == 1 ? "a short note" : "the same note, pipelined");
			if (m == 2)
				msgpack_sbuffer_write(&sb, sb.data, sb.size);
			ok(arrival_agrees("a request", sb.data, sb.size, MAX, &v) &&
			    v == PROTO_SCAN_OK, "a request (%zu bytes): OK, whatever "
			    "the arrival", sb.size);
		}
		/* Every header kind, with small and huge lengths, starting
		 * from 20 bytes before max to 2 after: under, straddling and
		 * past it. */
		for (t = 0; t < sizeof types; t++) {
			char name[96];

			good = true;
			memset(seen, 0, sizeof seen);
			for (m = 0; m < 2 && good; m++)
				for (at = maxes[m] - 20; at <= maxes[m] + 2 && good;
				    at++)
					for (l = 0; l < 6 && good; l++) {
						n = straddle(big, maxes[m] + 40, at,
						    types[t], lens[l]);
						snprintf(name, sizeof name,
						    "0x%02x length %llu at %zu of max %zu",
						    types[t], (unsigned long long)lens[l],
						    at, maxes[m]);
						good = arrival_agrees(name, big, n,
						    maxes[m], &v);
						seen[v]++;
					}
			ok(good, "type 0x%02x around max: one verdict whatever the "
			    "arrival (OK %d, BAD %d, TOO_LARGE %d)", types[t],
			    seen[PROTO_SCAN_OK], seen[PROTO_SCAN_BAD],
			    seen[PROTO_SCAN_TOO_LARGE]);
		}
		/* The case: an array32 header over byte 65536. */
		n = straddle(big, MAX + 40, MAX - 2, 0xdd, 1);
		good = arrival_agrees("an array32 header over byte 65536", big,
		    n, MAX, &v);
		if (!ok(good && v == PROTO_SCAN_TOO_LARGE,
		    "an array32 header over byte 65536: TOO_LARGE whole, and so "
		    "by every arrival"))
			diag("got %s", scan_name(v));
		/* Random bytes, biased to headers, against a max of 48: each
		 * prefix of each. */
		good = true;
		memset(seen, 0, sizeof seen);
		for (m = 0; m < 20000 && good; m++) {
			static const unsigned char pick[] = {
				0x00, 0x03, 0x7f, 0x80, 0x82, 0x8f, 0x90, 0x92,
				0x9f, 0xa0, 0xa2, 0xbf, 0xc0, 0xc1, 0xc4, 0xc5,
				0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcf, 0xd4,
				0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf,
				0xe0, 0xff,
			};
			char name[32];

			n = 1 + rng() % 80;
			for (l = 0; l < n; l++)
				big[l] = rng() % 2 ? (char)pick[rng() % sizeof pick] :
				    (char)(rng() % 4);
			snprintf(name, sizeof name, "random message %zu", m);
			good = arrival_agrees(name, big, n, 48, &v);
			seen[v]++;
		}
		ok(good, "20000 random messages against a max of 48: one verdict "
		    "each whatever the arrival (OK %d, MORE %d, BAD %d, "
		    "TOO_LARGE %d)", seen[PROTO_SCAN_OK], seen[PROTO_SCAN_MORE],
		    seen[PROTO_SCAN_BAD], seen[PROTO_SCAN_TOO_LARGE]);
	}

	/* Request shapes. */
	{
		static const struct {
			const char *bytes;
			size_t len;
			bool have_msgid;
			enum proto_code code;
			const char *what;
		} bad[] = {
			{ "\x93\x00\x01\xa1x", 5, false, PE_MALFORMED, "an array of 3" },
			{ "\x94\x01\x01\xa1x\x90", 6, false, PE_MALFORMED, "type 1" },
			{ "\x94\x00\xa1x\xa1x\x90", 7, false, PE_MALFORMED, "a string msgid" },
			{ "\x94\x00\x05\x01\x90", 5, true, PE_MALFORMED, "a number as method" },
			{ "\x94\x00\x05\xa1x\x91\x01", 7, true, PE_INVALID_ARGUMENT, "params [1]" },
			{ "\x94\x00\x05\xa1x\x80", 6, true, PE_INVALID_ARGUMENT, "params a map" },
			{ "\x94\x00\x05\xa1x\x92\x80\x80", 8, true, PE_INVALID_ARGUMENT, "two maps" },
			{ "\xa5hello", 6, false, PE_MALFORMED, "a string" },
		};

		for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			off = 0;
			msgpack_unpack_next(&up, bad[i].bytes, bad[i].len, &off);
			ok(proto_parse_request(&up.data, &r, &have, &e) == -1 &&
			    have == bad[i].have_msgid && e.code == bad[i].code,
			    "%s: %s (%s)", bad[i].what,
			    proto_code_name(bad[i].code), e.message);
		}
		off = 0;
		msgpack_unpack_next(&up, "\x94\x00\x05\xa5hello\x90", 10, &off);
		ok(proto_parse_request(&up.data, &r, &have, &e) == 0 &&
		    r.args->type == MSGPACK_OBJECT_MAP &&
		    r.args->via.map.size == 0, "params [] is taken as {}");
	}

	/* Arguments: present, missing, wrong type, unknown. */
	pack_req(&sb, 1, "m", "member", "alice");
	off = 0;
	msgpack_unpack_next(&up, sb.data, sb.size, &off);
	proto_parse_request(&up.data, &r, &have, &e);
	args_init(&a, r.args, &e);
	ok(args_member(&a, "member", true, &s, &slen) && slen == 5 &&
	    args_done(&a) == 0, "a member argument is read");
	args_init(&a, r.args, &e);
	ok(!args_uint(&a, "member", true, &u) && args_done(&a) == -1 &&
	    e.code == PE_INVALID_ARGUMENT && strstr(e.message, "member"),
	    "a string where a number belongs: %s", e.message);
	args_init(&a, r.args, &e);
	args_uint(&a, "id", true, &u);
	ok(args_done(&a) == -1 && strstr(e.message, "missing argument 'id'"),
	    "a missing argument: %s", e.message);
	args_init(&a, r.args, &e);
	ok(args_done(&a) == -1 && strstr(e.message, "unknown") &&
	    strstr(e.message, "member"), "an unknown argument: %s", e.message);
	pack_req(&sb, 1, "m", "member", "");
	off = 0;
	msgpack_unpack_next(&up, sb.data, sb.size, &off);
	proto_parse_request(&up.data, &r, &have, &e);
	args_init(&a, r.args, &e);
	args_member(&a, "member", true, &s, &slen);
	ok(args_done(&a) == -1 && e.code == PE_INVALID_ARGUMENT,
	    "an empty member id is refused");
	pack_req(&sb, 1, "m", "note", "\xff\xfe");
	off = 0;
	msgpack_unpack_next(&up, sb.data, sb.size, &off);
	proto_parse_request(&up.data, &r, &have, &e);
	args_init(&a, r.args, &e);
	args_str(&a, "note", true, &s, &slen);
	ok(args_done(&a) == -1 && strstr(e.message, "UTF-8"),
	    "invalid UTF-8 is refused: %s", e.message);

	/* UTF-8 and member ids. */
	ok(utf8_valid("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80", 15),
	    "valid UTF-8");
	ok(!utf8_valid("\xc0\xaf", 2), "an overlong is invalid");
	ok(!utf8_valid("\xed\xa0\x80", 3), "a surrogate is invalid");
	ok(!utf8_valid("\xe2\x82", 2), "a truncated sequence is invalid");
	is_int(utf8_chars("h\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 10), 4,
	    "code points, not bytes, are counted");
	ok(member_id_valid("alice", 5), "alice is a member id");
	ok(member_id_valid("j\xc3\xbcrgen", 7), "so is j\xc3\xbcrgen");
	ok(!member_id_valid("a\nb", 3), "a control character is not");
	ok(!member_id_valid("a\xc2\x85", 3), "nor a C1 control");
	memset(big, 'x', 65);
	ok(member_id_valid(big, 64) && !member_id_valid(big, 65),
	    "64 bytes pass, 65 do not");

	/* Durations. */
	ok(duration_parse("21d", &u) == 0 && u == 21 * 86400, "21d");
	ok(duration_parse("3w", &u) == 0 && u == 21 * 86400, "3w");
	ok(duration_parse("12h", &u) == 0 && u == 12 * 3600, "12h");
	ok(duration_parse("90s", &u) == 0 && u == 90, "90s");
	ok(duration_parse("90", &u) == 0 && u == 90, "90");
	ok(duration_parse("5mo", &u) == -1 && duration_parse("", &u) == -1 &&
	    duration_parse("d", &u) == -1 &&
	    duration_parse("99999999999999999999d", &u) == -1,
	    "bad durations are refused");

	/* Coarse labels round to the nearest unit, so a deadline keeps its
	 * label from one second to the next. */
	{
		char lab[16];

		duration_short(180 * 86400 - 1, lab, sizeof lab);
		is_str(lab, "6mo", "180 days less a second: 6mo");
		duration_short(21 * 86400 - 1, lab, sizeof lab);
		is_str(lab, "3w", "21 days less a second: 3w");
		duration_short(14 * 86400 - 1, lab, sizeof lab);
		is_str(lab, "2w", "14 days less a second: 2w");
		duration_short(3 * 86400 + 3600, lab, sizeof lab);
		is_str(lab, "3d", "3 days and an hour: 3d");
		duration_short(45, lab, sizeof lab);
		is_str(lab, "45s", "45 seconds");
	}

	/* Error codes. */
	is_str(proto_code_name(PE_COOLDOWN), "COOLDOWN", "codes have names");
	is_int(proto_code_from("STORE_FULL", 10), PE_STORE_FULL,
	    "and names map back");

	msgpack_unpacked_destroy(&up);
	msgpack_sbuffer_destroy(&sb);
	return done_testing();
}
