/* tests/fuzz/fuzz_dispatch.c: the whole dispatch, on a temporary store.
 *
 * The input is a client's stream: it is framed as the server frames it
 * (proto_frame()), and each message, up to MSG_MAX of them, runs through
 * server_dispatch(): the decoder, the method table, a write transaction
 * with its commit, and the answer, exactly as a batch of one request does
 * in connreqd. Every answer must itself be valid msgpack-rpc as
 * docs/protocol.md §2.2 says: one object, [1, msgid, nil, {result}] or
 * [1, msgid, {code, message, retry_at?, oldest?}, nil], the msgid the one
 * the request carried, the code one of §6, the message one line of valid
 * UTF-8. A refused stream (BAD, TOO_LARGE) ends the input, like a message
 * after which the server closes the connection.
 *
 * The store: replayed (tests/fuzz/replay.c), every input starts on an
 * empty store and a clock at CLOCK_START, so an input (several requests: a
 * send, then its accept...) gives the same answers alone, in the corpus or
 * after any other. Under libFuzzer, the store and the clock are kept for
 * FUZZ_RESET_EVERY inputs (environment; default RESET_EVERY, 1: every
 * input): emptying it costs far more than most inputs (a new LMDB
 * environment), and what earlier inputs left (many invitations, the week's
 * sends, a moved clock) lets later ones reach the limits no single input
 * can. A crash that needs that state does not reproduce alone: rerun the
 * inputs before it, or FUZZ_RESET_EVERY=1. The store is small (MAP_MAX), so
 * writes can fill it and reach STORE_FULL; it lives in /dev/shm when there
 * is one, where a commit's sync costs little. The clock is virtual
 * (clock.advance moves it). */
#include <dirent.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include <msgpack.h>

#include "../../common/util.h"
#include "../../daemon/config.h"
#include "../../daemon/server.h"
#include "../../daemon/store.h"
#include "../../proto/proto.h"
#include "fuzz.h"

const char *fuzz_input_name;

#define MSG_MAX 64			/* messages run per input */
#define MAP_MAX (512u << 10)		/* the store's map, at most */
#define CLOCK_START 1700000000		/* 2023-11-14 */
#define RESET_EVERY 200			/* inputs on one store (libFuzzer) */

static struct daemon d;
static char dir[256];
static unsigned long reset_every = 1, inputs;

static void
store_reset(void)
{
	static const char *const files[] = { "data.mdb", "lock.mdb",
	    "connreqd.lock", "wal" };
	char why[512], path[512];
	size_t i;

	server_free(&d);	/* nothing of the last input's server */
	if (d.store != NULL)
		store_close(d.store);
	for (i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		unlink(path);
	}
	d.store = store_open(dir, MAP_MAX, why, sizeof why);
	FUZZ_CHECK(d.store != NULL, "store_open: %s", why);
	clock_init_virtual(&d.clock, CLOCK_START);
	d.started_at = CLOCK_START;
	memset(&d.state, 0, sizeof d.state);
}

static void
cleanup(void)
{
	char path[512];

	if (d.store != NULL)
		store_close(d.store);
	d.store = NULL;
	server_free(&d);
	snprintf(path, sizeof path, "%s/data.mdb", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/lock.mdb", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/connreqd.lock", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/wal", dir);
	unlink(path);
	rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct config conf;
	const char *tmp = getenv("TMPDIR");

	(void)argv;
	log_quiet = 1;	/* "store: created" for every input */
	if (access("/dev/shm", W_OK) == 0)
		tmp = "/dev/shm";
	else if (tmp == NULL)
		tmp = "/tmp";
	snprintf(dir, sizeof dir, "%s/connreq-fuzz-%ld", tmp, (long)getpid());
	if (argc != NULL) {
		/* libFuzzer (replay.c passes NULL). */
		const char *e = getenv("FUZZ_RESET_EVERY");

		reset_every = e != NULL && atol(e) > 0 ? (unsigned long)atol(e) :
		    RESET_EVERY;
	}
	config_defaults(&conf);
	d.policy = conf.policy;
	d.max_clients = conf.max_clients;
	d.max_message_bytes = conf.max_message_bytes;
	d.read_timeout = conf.read_timeout;
	d.map_size_max = MAP_MAX;
	d.store_path = dir;
	d.socket_path = dir;
	config_free(&conf);
	atexit(cleanup);
	return 0;
}

static bool
valid_text(const char *s, size_t n)
{
	size_t i;

	if (!utf8_valid(s, n))
		return false;
	/* No control character: C0, DEL, C1 (c2 80..c2 9f). */
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f ||
		    ((unsigned char)s[i] == 0xc2 && i + 1 < n &&
		    (unsigned char)s[i + 1] <= 0x9f))
			return false;
	return true;
}

/* The answer to a request that carried msgid (have: one could be read). */
static void
check_reply(const msgpack_sbuffer *reply, bool have, uint32_t msgid)
{
	msgpack_unpacked u;
	size_t off = 0;
	const msgpack_object *a, *err, *code, *msg, *o;
	enum proto_code pc;
	uint32_t i, known;

	FUZZ_CHECK(reply->size > 0, "no answer to a request with msgid %u",
	    msgid);
	msgpack_unpacked_init(&u);
	FUZZ_CHECK(msgpack_unpack_next(&u, reply->data, reply->size, &off) ==
	    MSGPACK_UNPACK_SUCCESS && off == reply->size,
	    "an answer of %zu bytes that is not one msgpack object",
	    reply->size);
	FUZZ_CHECK(u.data.type == MSGPACK_OBJECT_ARRAY &&
	    u.data.via.array.size == 4, "an answer that is not an array of 4");
	a = u.data.via.array.ptr;
	FUZZ_CHECK(a[0].type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
	    a[0].via.u64 == PROTO_RESPONSE, "an answer of type other than 1");
	FUZZ_CHECK(a[1].type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
	    a[1].via.u64 <= UINT32_MAX, "an answer whose msgid is no uint32");
	FUZZ_CHECK(!have || a[1].via.u64 == msgid,
	    "the answer to msgid %u says %llu", msgid,
	    (unsigned long long)a[1].via.u64);
	if (a[2].type == MSGPACK_OBJECT_NIL) {
		FUZZ_CHECK(a[3].type == MSGPACK_OBJECT_MAP,
		    "a success whose result is not a map");
		msgpack_unpacked_destroy(&u);
		return;
	}
	err = &a[2];
	FUZZ_CHECK(err->type == MSGPACK_OBJECT_MAP && a[3].type ==
	    MSGPACK_OBJECT_NIL, "an error that is no map, or with a result");
	code = proto_map_get(err, "code");
	msg = proto_map_get(err, "message");
	FUZZ_CHECK(code != NULL && code->type == MSGPACK_OBJECT_STR,
	    "an error without a code");
	pc = proto_code_from(code->via.str.ptr, code->via.str.size);
	FUZZ_CHECK(pc != PE_COUNT && pc != PE_OK, "an error code %.*s",
	    (int)code->via.str.size, code->via.str.ptr);
	FUZZ_CHECK(msg != NULL && msg->type == MSGPACK_OBJECT_STR &&
	    msg->via.str.size > 0 &&
	    valid_text(msg->via.str.ptr, msg->via.str.size),
	    "%s: a message that is not one line of valid UTF-8",
	    proto_code_name(pc));
	known = 2;
	if ((o = proto_map_get(err, "retry_at")) != NULL) {
		FUZZ_CHECK(pc == PE_COOLDOWN || pc == PE_PAIR_LIMIT ||
		    pc == PE_RATE_LIMITED || pc == PE_RESTRICTED,
		    "retry_at with %s", proto_code_name(pc));
		FUZZ_CHECK(o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
		    o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER,
		    "retry_at that is not a time");
		known++;
	}
	if ((o = proto_map_get(err, "oldest")) != NULL) {
		FUZZ_CHECK(pc == PE_CURSOR_EXPIRED, "oldest with %s",
		    proto_code_name(pc));
		FUZZ_CHECK(o->type == MSGPACK_OBJECT_POSITIVE_INTEGER,
		    "oldest that is not a uint");
		known++;
	}
	FUZZ_CHECK(err->via.map.size == known,
	    "an error map of %u keys, %u known", err->via.map.size, known);
	for (i = 0; i < err->via.map.size; i++)
		FUZZ_CHECK(err->via.map.ptr[i].key.type == MSGPACK_OBJECT_STR,
		    "an error key that is not a string");
	msgpack_unpacked_destroy(&u);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t max = d.max_message_bytes, at = 0, n, i;
	struct proto_frame f;
	msgpack_sbuffer reply;
	msgpack_unpacked u;
	struct proto_request req;
	struct proto_error err;
	bool have, close;
	uint32_t msgid;

	if (d.max_message_bytes == 0)
		LLVMFuzzerInitialize(NULL, NULL);
	if (inputs++ % reset_every == 0)
		store_reset();
	msgpack_sbuffer_init(&reply);
	for (i = 0; i < MSG_MAX && at < size; i++) {
		n = size - at;
		proto_frame((const char *)data + at, n < max + 16 ? n : max + 16,
		    max, &f);
		if (f.scan != PROTO_SCAN_OK)
			break;	/* refused, or incomplete: the stream ends */
		/* The msgid the answer must carry, read on its own. */
		msgpack_unpacked_init(&u);
		memset(&req, 0, sizeof req);
		proto_decode((const char *)data + at, f.msglen, &u, &req, &have,
		    &close, &err);
		msgid = req.msgid;
		msgpack_unpacked_destroy(&u);

		msgpack_sbuffer_clear(&reply);
		close = server_dispatch(&d, (const char *)data + at, f.msglen,
		    &reply);
		if (have)
			check_reply(&reply, true, msgid);
		else
			FUZZ_CHECK(reply.size == 0,
			    "an answer to a message without a msgid");
		at += f.msglen;
		if (close)
			break;
	}
	msgpack_sbuffer_destroy(&reply);
	return 0;
}
