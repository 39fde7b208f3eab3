/* Issue 13, safe retries, end to end through connreqd: a write repeated
 * with its request_id returns the first answer and acts once, across a
 * SIGKILL and a restart; the id with another request is CONFLICT; a
 * failed write keeps nothing; the id is forgotten after
 * [server] request_id_retention (the virtual clock); bad ids are refused;
 * two requests with one id in one pipelined batch act once
 * (docs/protocol.md, "Safe retries"). On PostgreSQL (test_retry_pg.c)
 * also: two daemons given one id at once act once, and a backlog of
 * records past the retention larger than one prune's share is pruned a
 * share a batch. */
#include "harness.h"


static struct cr_client *c;
static struct cr_reply r;

/* invite.send from -> to with request_id rid: 0 ok, 1 refused, -1 lost. */
static int
send_rid(const char *from, const char *to, const char *rid)
{
	cr_reply_free(&r);
	return call(c, &r, "invite.send", "from:s to:s request_id:s", from, to,
	    rid);
}

/* The answer's result as bytes, to compare answers byte for byte. */
static void
result_bytes(const struct cr_reply *rep, msgpack_sbuffer *out)
{
	msgpack_packer pk;

	msgpack_sbuffer_init(out);
	msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
	if (rep->result != NULL)
		msgpack_pack_object(&pk, *rep->result);
}

static bool
same_result(const msgpack_sbuffer *a, const msgpack_sbuffer *b)
{
	return a->size == b->size && a->size > 0 &&
	    memcmp(a->data, b->data, a->size) == 0;
}

/* How many invitations member has sent (its sent box, every state). */
static int64_t
sent_count(const char *member)
{
	cr_reply_free(&r);
	if (call(c, &r, "invite.list", "member:s box:s limit:u", member,
	    "sent", (uint64_t)100) != 0)
		return -1;
	return rnum(&r, "items");
}

static void
test_features(void)
{
	const msgpack_object *f;

	cr_reply_free(&r);
	call(c, &r, "server.info", "");
	f = cr_get(r.result, "features");
	ok(f != NULL && f->type == MSGPACK_OBJECT_ARRAY &&
	    f->via.array.size >= 1 &&
	    proto_obj_is_str(&f->via.array.ptr[0], "request_id"),
	    "server.info: features holds \"request_id\"");
}

static void
test_repeat(struct dproc *p)
{
	msgpack_sbuffer first, again;
	int64_t id;

	is_int(send_rid("ann", "bob", "r-1"), 0, "a write with a request_id");
	id = rnum(&r, "invitation.id");
	result_bytes(&r, &first);
	is_int(send_rid("ann", "bob", "r-1"), 0,
	    "the same write, the same id: answered");
	result_bytes(&r, &again);
	ok(same_result(&first, &again), "... with the first answer, byte for byte");
	msgpack_sbuffer_destroy(&again);
	is_int(sent_count("ann"), 1, "... and it acted once");

	/* The same arguments written otherwise: their order, a nil that
	 * means absent (§2.1). */
	{
		msgpack_packer *pk = cr_request(c, "invite.send");

		msgpack_pack_map(pk, 4);
		pk_kstr(pk, "request_id", "r-1");
		pk_kstr(pk, "to", "bob");
		pk_knil(pk, "note");
		pk_kstr(pk, "from", "ann");
		cr_reply_free(&r);
		is_int(cr_wait(c, (uint32_t)cr_send(c), &r), 0,
		    "the same write, its keys in another order, a nil note: answered");
		ok(r.error == NULL, "... not refused (%s)",
		    r.error ? r.code : "-");
		result_bytes(&r, &again);
		ok(same_result(&first, &again), "... with the first answer");
		msgpack_sbuffer_destroy(&again);
		is_int(sent_count("ann"), 1, "... and it acted once");
	}
	is_int(send_rid("ann", "cat", "r-1"), 1,
	    "the id with other arguments: refused");
	ok(refused(&r, "CONFLICT"), "... CONFLICT (%s)", r.message);
	is_int(sent_count("ann"), 1, "... and nothing was sent");
	cr_reply_free(&r);
	is_int(call(c, &r, "invite.withdraw", "actor:s id:u request_id:s",
	    "ann", (uint64_t)id, "r-1"), 1, "the id with another method: refused");
	ok(refused(&r, "CONFLICT"), "... CONFLICT");

	/* The answer is kept durably with the write. */
	{
		int st = dproc_stop(p, SIGKILL);

		ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
		    "connreqd killed (SIGKILL) after answering");
	}
	cr_close(c);
	if (!ok(dproc_start(p, T0, NULL) == 0, "connreqd starts again"))
		exit(done_testing());
	c = dconnect(p);
	is_int(send_rid("ann", "bob", "r-1"), 0,
	    "after the restart, the same write and id: answered");
	result_bytes(&r, &again);
	ok(same_result(&first, &again), "... with the first answer");
	msgpack_sbuffer_destroy(&again);
	is_int(sent_count("ann"), 1, "... and still one invitation");
	msgpack_sbuffer_destroy(&first);
}

static void
test_failed_keeps_nothing(void)
{
	is_int(send_rid("dan", "dan", "r-2"), 1, "a write that fails");
	ok(refused(&r, "SELF_INVITE"), "... SELF_INVITE");
	is_int(send_rid("dan", "eve", "r-2"), 0,
	    "its id with another write: it runs (a failure keeps nothing)");
	is_int(sent_count("dan"), 1, "... and acted");

	/* The same id and the same arguments, refused then run: the
	 * documented case, a cooldown that passed. */
	{
		uint64_t id = send_inv(c, &r, "dot", "ned");
		int64_t until;
		msgpack_sbuffer first, again;

		cr_reply_free(&r);
		call(c, &r, "invite.withdraw", "actor:s id:u", "dot", id);
		until = rnum(&r, "cooldown_until");
		is_int(send_rid("dot", "ned", "r-cool"), 1,
		    "a send in the cooldown, with an id: refused");
		ok(refused(&r, "COOLDOWN"), "... COOLDOWN");
		{
			int64_t now = 0;
			int days = 0;

			while (until > 0 && days++ < 60 &&
			    (now = advance(c, &r, 86400)) > 0 && now <= until)
				;
			ok(until > 0 && now > until,
			    "the cooldown passes (%d days on)", days);
		}
		is_int(send_rid("dot", "ned", "r-cool"), 0,
		    "the same id, the same send: it runs now");
		result_bytes(&r, &first);
		is_int(send_rid("dot", "ned", "r-cool"), 0, "once more: answered");
		result_bytes(&r, &again);
		ok(same_result(&first, &again) && sent_count("dot") == 2,
		    "... with that answer, and dot sent two in all");
		msgpack_sbuffer_destroy(&first);
		msgpack_sbuffer_destroy(&again);
	}
}

static void
test_bad_ids(void)
{
	char long_id[66];

	memset(long_id, 'x', 65);
	long_id[65] = '\0';
	is_int(send_rid("fay", "gus", ""), 1, "an empty request_id: refused");
	ok(refused(&r, "INVALID_ARGUMENT"), "... INVALID_ARGUMENT (%s)",
	    r.message);
	is_int(send_rid("fay", "gus", long_id), 1, "65 bytes: refused");
	ok(refused(&r, "INVALID_ARGUMENT"), "... INVALID_ARGUMENT");
	long_id[64] = '\0';
	is_int(send_rid("fay", "gus", long_id), 0, "64 bytes: taken");
	is_int(send_rid("fay", "hal", "a\001b"), 1,
	    "a control character: refused");
	ok(refused(&r, "INVALID_ARGUMENT"), "... INVALID_ARGUMENT");
	cr_reply_free(&r);
	is_int(call(c, &r, "invite.send", "from:s to:s request_id:u", "fay",
	    "hal", (uint64_t)7), 1, "a number: refused");
	ok(refused(&r, "INVALID_ARGUMENT"), "... INVALID_ARGUMENT");
	is_int(send_rid("fay", "hal", "a\x7f" "b"), 1, "DEL: refused");
	ok(refused(&r, "INVALID_ARGUMENT"), "... INVALID_ARGUMENT");
	is_int(send_rid("fay", "hal", "a\xc2\x85" "b"), 1,
	    "a C1 control character (U+0085): refused");
	ok(refused(&r, "INVALID_ARGUMENT"), "... INVALID_ARGUMENT");
	{
		/* 64 bytes counted in bytes: 21 euro signs (63) are taken,
		 * 22 (66) are not. */
		char eu[3 * 22 + 1];
		int i;

		for (i = 0; i < 22; i++)
			memcpy(eu + 3 * i, "\xe2\x82\xac", 3);
		eu[3 * 22] = '\0';
		is_int(send_rid("fay", "ida", eu), 1, "22 euro signs (66 bytes): refused");
		ok(refused(&r, "INVALID_ARGUMENT"), "... INVALID_ARGUMENT");
		eu[3 * 21] = '\0';
		is_int(send_rid("fay", "ida", eu), 0, "21 (63 bytes): taken");
	}
	{
		/* Not a valid str: invalid UTF-8 (an overlong '/'), and bin. */
		static const char bad[] = "r\xc0\xafx";
		int i;

		for (i = 0; i < 2; i++) {
			msgpack_packer *pk = cr_request(c, "invite.send");

			msgpack_pack_map(pk, 3);
			pk_kstr(pk, "from", "fay");
			pk_kstr(pk, "to", "jim");
			pk_str(pk, "request_id");
			if (i == 0) {
				msgpack_pack_str(pk, sizeof bad - 1);
				msgpack_pack_str_body(pk, bad, sizeof bad - 1);
			} else {
				msgpack_pack_bin(pk, 4);
				msgpack_pack_bin_body(pk, "r-10", 4);
			}
			cr_reply_free(&r);
			is_int(cr_finish(c, &r), 0, "%s request_id: answered",
			    i == 0 ? "an invalid UTF-8" : "a bin");
			ok(refused(&r, "INVALID_ARGUMENT"),
			    "... INVALID_ARGUMENT (%s)", r.message);
		}
	}
	{
		/* request_id twice, as any argument named twice: refused,
		 * also when the first is a kept id (that answered from the
		 * record, unchecked). */
		static const char *const second[] = { "r-dup", "r-other" };
		int i;

		is_int(send_rid("fay", "kit", "r-dup"), 0, "a send with an id");
		for (i = 0; i < 2; i++) {
			msgpack_packer *pk = cr_request(c, "invite.send");

			msgpack_pack_map(pk, 4);
			pk_kstr(pk, "from", "fay");
			pk_kstr(pk, "to", "kit");
			pk_kstr(pk, "request_id", "r-dup");
			pk_kstr(pk, "request_id", second[i]);
			cr_reply_free(&r);
			is_int(cr_finish(c, &r), 0,
			    "the same with request_id twice (then %s): answered",
			    second[i]);
			ok(refused(&r, "INVALID_ARGUMENT") && r.message != NULL &&
			    strstr(r.message, "repeated") != NULL,
			    "... INVALID_ARGUMENT (%s)", r.message);
		}
	}
	cr_reply_free(&r);
	is_int(call(c, &r, "invite.list", "member:s box:s request_id:s", "fay",
	    "sent", "r-9"), 1, "a read with a request_id: refused");
	ok(refused(&r, "INVALID_ARGUMENT"), "... INVALID_ARGUMENT (%s)",
	    r.message);
	is_int(sent_count("fay"), 3, "fay sent only the three taken");
}

/* Two requests with one id, pipelined: one batch, one action. */
static void
test_pipelined(void)
{
	struct cr_reply a, b;
	msgpack_sbuffer ba, bb;
	uint32_t m1, m2;
	int i;

	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	for (i = 0; i < 2; i++) {
		msgpack_packer *pk = cr_request(c, "invite.send");

		msgpack_pack_map(pk, 3);
		pk_str(pk, "from");
		pk_str(pk, "ivy");
		pk_str(pk, "to");
		pk_str(pk, "jon");
		pk_str(pk, "request_id");
		pk_str(pk, "r-pipe");
		if (i == 0)
			m1 = (uint32_t)cr_send(c);
		else
			m2 = (uint32_t)cr_send(c);
	}
	ok(cr_wait(c, m1, &a) == 0 && a.error == NULL,
	    "pipelined: the first answered");
	ok(cr_wait(c, m2, &b) == 0 && b.error == NULL,
	    "pipelined: the second answered (%s)", b.error ? b.code : "ok");
	result_bytes(&a, &ba);
	result_bytes(&b, &bb);
	ok(same_result(&ba, &bb), "... with the same answer");
	msgpack_sbuffer_destroy(&ba);
	msgpack_sbuffer_destroy(&bb);
	cr_reply_free(&a);
	cr_reply_free(&b);
	is_int(sent_count("ivy"), 1, "... and one invitation");
}

static void
test_retention(void)
{
	is_int(send_rid("kim", "lou", "r-old"), 0, "a write with an id");
	ok(advance(c, &r, 86400 - 60) > 0, "a day less a minute later");
	is_int(send_rid("kim", "max", "r-old"), 1,
	    "the id with other arguments: still CONFLICT");
	ok(refused(&r, "CONFLICT"), "... CONFLICT");
	ok(advance(c, &r, 120) > 0, "a day and a minute after the write");
	is_int(send_rid("kim", "max", "r-old"), 0,
	    "the id is forgotten: another write with it runs");
	is_int(sent_count("kim"), 2, "... kim has sent two");
}

#ifndef HARNESS_PG
/* One whole message read from fd into out; -1 at the end of the stream. */
static int
read_msg(int fd, msgpack_unpacker *up, msgpack_unpacked *out)
{
	ssize_t n;

	for (;;) {
		if (msgpack_unpacker_next(up, out) == MSGPACK_UNPACK_SUCCESS)
			return 0;
		msgpack_unpacker_reserve_buffer(up, 4096);
		n = read(fd, msgpack_unpacker_buffer(up), 4096);
		if (n <= 0)
			return -1;
		msgpack_unpacker_buffer_consumed(up, (size_t)n);
	}
}

/* libconnreq's cr_finish_retry() against a scripted server: the first
 * connection is closed before the answer; the request comes again on a
 * second, with the same request_id, and its answer is the call's. */
static void
test_libconnreq_retry(void)
{
	char dir[] = "/tmp/connreq-retry-XXXXXX", path[128], id1[40] = "",
	    id2[40] = "";
	struct sockaddr_un sun;
	int lfd, fd, i, status;
	pid_t pid;

	if (mkdtemp(dir) == NULL)
		bail_out("mkdtemp");
	snprintf(path, sizeof path, "%s/s.sock", dir);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (lfd == -1 || bind(lfd, (struct sockaddr *)&sun, sizeof sun) == -1 ||
	    listen(lfd, 4) == -1)
		bail_out("listen");
	pid = fork();
	if (pid == 0) {
		char err[256];
		struct cr_client *cc = cr_connect(path, err, sizeof err);
		struct cr_reply rr;
		msgpack_packer *pk;

		if (cc == NULL)
			_exit(2);
		pk = cr_request(cc, "invite.send");
		msgpack_pack_map(pk, 2);
		pk_kstr(pk, "from", "ann");
		pk_kstr(pk, "to", "bob");
		if (cr_finish_retry(cc, &rr, 3) != 0 || rr.error != NULL ||
		    !proto_obj_is_str(cr_get(rr.result, "answer"), "second"))
			_exit(1);
		cr_reply_free(&rr);
		cr_close(cc);
		_exit(0);
	}
	for (i = 0; i < 2; i++) {
		msgpack_unpacker up;
		msgpack_unpacked m;
		const msgpack_object *args, *rid;
		char *id = i == 0 ? id1 : id2;

		if ((fd = accept(lfd, NULL, NULL)) == -1)
			bail_out("accept");
		msgpack_unpacker_init(&up, 4096);
		msgpack_unpacked_init(&m);
		if (read_msg(fd, &up, &m) == 0 && m.data.type == MSGPACK_OBJECT_ARRAY &&
		    m.data.via.array.size == 4) {
			args = &m.data.via.array.ptr[3].via.array.ptr[0];
			rid = cr_get(args, "request_id");
			if (rid != NULL && rid->type == MSGPACK_OBJECT_STR)
				snprintf(id, 40, "%.*s", (int)rid->via.str.size,
				    rid->via.str.ptr);
			if (i == 1) {
				msgpack_sbuffer sb;
				msgpack_packer pk;

				msgpack_sbuffer_init(&sb);
				msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
				msgpack_pack_array(&pk, 4);
				msgpack_pack_uint8(&pk, 1);
				msgpack_pack_object(&pk, m.data.via.array.ptr[1]);
				msgpack_pack_nil(&pk);
				msgpack_pack_map(&pk, 1);
				pk_kstr(&pk, "answer", "second");
				if (write(fd, sb.data, sb.size) != (ssize_t)sb.size)
					diag("short write");
				msgpack_sbuffer_destroy(&sb);
			}
		}
		msgpack_unpacked_destroy(&m);
		msgpack_unpacker_destroy(&up);
		close(fd);	/* the first: before any answer */
	}
	waitpid(pid, &status, 0);
	is_int(strlen(id1), 32, "libconnreq: a write sent with a request_id of 32 hex digits");
	ok(strcmp(id1, id2) == 0,
	    "cr_finish_retry: the connection dropped before the answer; sent again with the same id");
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "... and the call returns the answer from the second connection");
	close(lfd);
	unlink(path);
	rmdir(dir);
}
#endif

#ifdef HARNESS_PG
/* Two daemons on one database, each given the same write with one id at
 * the same time: one acts, both answer the same. */
static void
test_two_daemons(void)
{
	struct dproc a, b;
	struct cr_client *ca, *cb;
	struct cr_reply ra, rb;
	msgpack_sbuffer ba, bb;
	uint32_t ma[20], mb[20];
	char rid[32], to[32];
	int i, same = 0, acted;

	memset(&ra, 0, sizeof ra);
	memset(&rb, 0, sizeof rb);
	dproc_init_two(&a, &b, NO_LIMITS);
	if (!ok(dproc_start(&a, T0, NULL) == 0 && dproc_start(&b, T0, NULL) == 0,
	    "two daemons on one database"))
		return;
	ca = dconnect(&a);
	cb = dconnect(&b);
	for (i = 0; i < 20; i++) {
		msgpack_packer *pk;

		snprintf(rid, sizeof rid, "race-%d", i);
		snprintf(to, sizeof to, "to-%d", i);
		pk = cr_request(ca, "invite.send");
		msgpack_pack_map(pk, 3);
		pk_kstr(pk, "from", "race");
		pk_kstr(pk, "to", to);
		pk_kstr(pk, "request_id", rid);
		ma[i] = (uint32_t)cr_send(ca);
		pk = cr_request(cb, "invite.send");
		msgpack_pack_map(pk, 3);
		pk_kstr(pk, "from", "race");
		pk_kstr(pk, "to", to);
		pk_kstr(pk, "request_id", rid);
		mb[i] = (uint32_t)cr_send(cb);
	}
	for (i = 0; i < 20; i++) {
		if (cr_wait(ca, ma[i], &ra) == 0 && cr_wait(cb, mb[i], &rb) == 0 &&
		    ra.error == NULL && rb.error == NULL) {
			result_bytes(&ra, &ba);
			result_bytes(&rb, &bb);
			same += same_result(&ba, &bb);
			msgpack_sbuffer_destroy(&ba);
			msgpack_sbuffer_destroy(&bb);
		} else
			diag("race-%d: %s / %s", i, ra.error ? ra.code : "ok",
			    rb.error ? rb.code : "ok");
		cr_reply_free(&ra);
		cr_reply_free(&rb);
	}
	is_int(same, 20, "20 ids given to both daemons at once: the same answer from each");
	cr_reply_free(&ra);
	call(ca, &ra, "invite.list", "member:s box:s limit:u", "race", "sent",
	    (uint64_t)100);
	acted = (int)rnum(&ra, "items");
	is_int(acted, 20, "... and 20 invitations, not 40");
	cr_reply_free(&ra);
	cr_close(ca);
	cr_close(cb);
	dproc_stop(&a, SIGTERM);
	dproc_stop(&b, SIGTERM);
	dproc_cleanup(&b);
	dproc_cleanup(&a);
}
#endif

#ifdef HARNESS_PG
/* The rows of the requests table of conninfo's database, -1 on a failure. */
static long long
requests_rows(const char *conninfo)
{
	PGconn *pc = PQconnectdb(conninfo);
	PGresult *res;
	long long n = -1;

	if (PQstatus(pc) == CONNECTION_OK &&
	    (res = PQexec(pc, "SELECT count(*) FROM requests")) != NULL) {
		if (PQresultStatus(res) == PGRES_TUPLES_OK)
			n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		PQclear(res);
	}
	PQfinish(pc);
	return n;
}

/* More records past the retention than one prune takes (PRUNE_PER_BATCH,
 * 10,000): the rest go at the next batches, a bounded share each, not one
 * share a minute of the clock (under a steady 170 writes a second with
 * ids, the table grew without end). */
static void
test_prune_backlog(void)
{
	enum { N = 10100, WINDOW = 256 };
	static uint32_t msgid[WINDOW];
	struct dproc q;
	struct cr_client *cq;
	struct cr_reply rq;
	char rid[32];
	int i, j, n, answered = 0;
	long long rows;

	memset(&rq, 0, sizeof rq);
	dproc_init(&q);
	dproc_config(&q, "[server]\nrequest_id_retention = 60s\n");
	if (!ok(dproc_start(&q, T0, NULL) == 0,
	    "connreqd, request_id_retention = 60s"))
		return;
	cq = dconnect(&q);
	for (i = 0; i < N; i += n) {
		n = N - i < WINDOW ? N - i : WINDOW;
		for (j = 0; j < n; j++) {
			msgpack_packer *pk = cr_request(cq,
			    "member.settings.set");

			snprintf(rid, sizeof rid, "bulk-%d", i + j);
			msgpack_pack_map(pk, 3);
			pk_kstr(pk, "member", "bulk");
			pk_str(pk, "hold_no_mutual");
			msgpack_pack_true(pk);
			pk_kstr(pk, "request_id", rid);
			msgid[j] = (uint32_t)cr_send(cq);
		}
		for (j = 0; j < n; j++) {
			if (cr_wait(cq, msgid[j], &rq) == 0 && rq.error == NULL)
				answered++;
			cr_reply_free(&rq);
		}
	}
	rows = requests_rows(q.pg);
	ok(answered == N && rows == N, "%d writes with ids: %lld records kept",
	    answered, rows);
	ok(advance(cq, &rq, 120) > 0, "two minutes later: all past the retention");
	for (i = 0; i < 3; i++) {
		cr_reply_free(&rq);
		call(cq, &rq, "member.settings.set", "member:s hold_no_mutual:b",
		    "other", 1);
	}
	rows = requests_rows(q.pg);
	is_int(rows, 0, "three batches on, at the same time: all pruned");
	cr_reply_free(&rq);
	cr_close(cq);
	dproc_stop(&q, SIGTERM);
	dproc_cleanup(&q);
}
#endif

int
main(void)
{
	struct dproc p;

#ifdef HARNESS_PG
	harness_pg_start();
#endif
	dproc_init(&p);
	if (!ok(dproc_start(&p, T0, NULL) == 0, "connreqd starts"))
		return done_testing();
	c = dconnect(&p);
	test_features();
	test_repeat(&p);
	test_failed_keeps_nothing();
	test_bad_ids();
	test_pipelined();
	test_retention();
	cr_reply_free(&r);
	cr_close(c);
	is_int(dproc_stop(&p, SIGTERM), 0, "SIGTERM: exit 0");
#ifndef HARNESS_PG
	{
		char cmd[600];

		snprintf(cmd, sizeof cmd,
		    "XDG_CONFIG_HOME=/nonexistent '%s/connreqd' --check -d '%s' >/dev/null 2>&1",
		    getenv("CONNREQ_BIN"), p.store);
		is_int(system(cmd), 0, "connreqd --check: clean");
	}
	test_libconnreq_retry();
#else
	test_two_daemons();
	test_prune_backlog();
#endif
	dproc_cleanup(&p);
	return done_testing();
}
