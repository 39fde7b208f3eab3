/* The codec: framing, hostile headers, request shape, arguments, UTF-8. */
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
