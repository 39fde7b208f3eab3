/* Issue 12, mutual connections, end to end through connreqd:
 * connection.mutual (its pages, its refusals) and the recipient's
 * mutual_count, present in every recipient's view of an invitation and in
 * none of the sender's (docs/protocol.md §3.1, §5 connection.mutual). The
 * count's cap (1000) is in tests/test_domain.c, test_mutual_count_cap;
 * the store's leapfrog in tests/test_store_contract.c, test_mutual. */
#include "harness.h"

static struct cr_client *c;
static struct cr_reply r;

/* a and b become connected: a invites b, b accepts. */
static void
connect_pair(const char *a, const char *b)
{
	uint64_t id = send_inv(c, &r, a, b);

	cr_reply_free(&r);
	if (id == 0 || call(c, &r, "invite.accept", "actor:s id:u", b, id) != 0)
		diag("cannot connect %s and %s: %s", a, b, r.message);
}

/* The keys of map o, joined by commas in their order; "(none)" when o is
 * not a map. Valid until the next call. */
static const char *
keys_of(const msgpack_object *o)
{
	static char buf[1024];
	size_t off = 0;
	uint32_t i;
	int n;

	if (o == NULL || o->type != MSGPACK_OBJECT_MAP)
		return "(none)";
	buf[0] = '\0';
	for (i = 0; i < o->via.map.size; i++) {
		const msgpack_object *k = &o->via.map.ptr[i].key;

		n = snprintf(buf + off, sizeof buf - off, "%s%.*s",
		    i ? "," : "", (int)k->via.str.size, k->via.str.ptr);
		if (n < 0 || (size_t)n >= sizeof buf - off)
			break;
		off += (size_t)n;
	}
	return buf;
}

/* The invitation map of member's first event of type about invitation
 * id (after seq `after`); NULL when there is none. r holds the reply. */
static const msgpack_object *
feed_inv(const char *member, uint64_t after, const char *type, uint64_t id)
{
	const msgpack_object *evs, *e, *ty, *inv, *iid;
	uint32_t i;

	cr_reply_free(&r);
	if (call(c, &r, "events.read", "member:s after:u limit:u", member,
	    after, (uint64_t)1000) != 0)
		return NULL;
	evs = cr_get(r.result, "events");
	for (i = 0; evs != NULL && i < evs->via.array.size; i++) {
		e = &evs->via.array.ptr[i];
		ty = cr_get(e, "type");
		inv = cr_get(e, "invitation");
		iid = cr_get(inv, "id");
		if (ty != NULL && ty->type == MSGPACK_OBJECT_STR &&
		    ty->via.str.size == strlen(type) &&
		    memcmp(ty->via.str.ptr, type, ty->via.str.size) == 0 &&
		    iid != NULL && iid->via.u64 == id)
			return inv;
	}
	return NULL;
}

/* The sender's view: the keys of every view, and no mutual_count. */
static char sender_keys[1024];

static void
is_sender_view(const msgpack_object *inv, const char *where)
{
	ok(inv != NULL && strcmp(keys_of(inv), sender_keys) == 0 &&
	    cr_get(inv, "mutual_count") == NULL,
	    "the sender's view in %s has no mutual_count (%s)", where,
	    keys_of(inv));
}

static void
is_recipient_view(const msgpack_object *inv, int64_t count,
    const char *where)
{
	char want[1100];
	const msgpack_object *m = cr_get(inv, "mutual_count");

	snprintf(want, sizeof want, "%s,mutual_count", sender_keys);
	ok(inv != NULL && strcmp(keys_of(inv), want) == 0 && m != NULL &&
	    m->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
	    (int64_t)m->via.u64 == count,
	    "the recipient's view in %s: mutual_count %lld, the sender's keys "
	    "and it (%s: %lld)", where, (long long)count, keys_of(inv),
	    m != NULL ? (long long)m->via.u64 : -1LL);
}

static void
test_method(void)
{
	/* alice and bob share carl, cleo and cy; ann is alice's alone, bert
	 * bob's alone. */
	connect_pair("alice", "carl");
	connect_pair("cleo", "alice");
	connect_pair("alice", "cy");
	connect_pair("alice", "ann");
	advance(c, &r, DAY);
	connect_pair("bob", "carl");
	connect_pair("cy", "bob");
	connect_pair("bob", "cleo");
	connect_pair("bob", "bert");

	cr_reply_free(&r);
	ok(call(c, &r, "connection.mutual", "a:s b:s", "alice", "bob") == 0 &&
	    rnum(&r, "items") == 3, "connection.mutual: alice and bob share 3");
	ok(strcmp(rstr(&r, "items.0.member"), "carl") == 0 &&
	    strcmp(rstr(&r, "items.1.member"), "cleo") == 0 &&
	    strcmp(rstr(&r, "items.2.member"), "cy") == 0,
	    "in order of the member's id");
	ok(rnum(&r, "items.0.since_a") == T0 &&
	    rnum(&r, "items.0.since_b") == T0 + DAY,
	    "each with since_a (alice's) and since_b (bob's)");
	is_str(rstr(&r, "next"), "nil", "one page: next is nil");
	is_str(keys_of(obj_path(r.result, "items.0")), "member,since_a,since_b",
	    "an item is {member, since_a, since_b}");

	cr_reply_free(&r);
	call(c, &r, "connection.mutual", "a:s b:s", "bob", "alice");
	ok(rnum(&r, "items") == 3 && rnum(&r, "items.0.since_a") == T0 + DAY,
	    "the other way round: the same members, since_a now bob's");

	cr_reply_free(&r);
	call(c, &r, "connection.mutual", "a:s b:s limit:u", "alice", "bob",
	    (uint64_t)2);
	ok(rnum(&r, "items") == 2 && strcmp(rstr(&r, "next"), "cleo") == 0,
	    "limit 2: two, and next is the last one (%s)", rstr(&r, "next"));
	cr_reply_free(&r);
	call(c, &r, "connection.mutual", "a:s b:s limit:u after:s", "alice",
	    "bob", (uint64_t)2, "cleo");
	ok(rnum(&r, "items") == 1 && strcmp(rstr(&r, "items.0.member"),
	    "cy") == 0 && strcmp(rstr(&r, "next"), "nil") == 0,
	    "after next: the rest, next nil");
	cr_reply_free(&r);
	call(c, &r, "connection.mutual", "a:s b:s limit:u", "alice", "bob",
	    (uint64_t)3);
	is_str(rstr(&r, "next"), "nil",
	    "a page exactly as long as the list: next is nil");
	cr_reply_free(&r);
	call(c, &r, "connection.mutual", "a:s b:s", "alice", "zoe");
	ok(r.error == NULL && rnum(&r, "items") == 0 &&
	    strcmp(rstr(&r, "next"), "nil") == 0,
	    "with a member never named: none");

	cr_reply_free(&r);
	ok(call(c, &r, "connection.mutual", "a:s b:s", "alice", "alice") ==
	    1 && refused(&r, "INVALID_ARGUMENT"),
	    "a and b the same member: INVALID_ARGUMENT (%s)", r.message);
	cr_reply_free(&r);
	ok(call(c, &r, "connection.mutual", "a:s b:s limit:u", "alice", "bob",
	    (uint64_t)0) == 1 && refused(&r, "INVALID_ARGUMENT") &&
	    strcmp(r.message, "limit must be 1 to 1000") == 0,
	    "limit 0: INVALID_ARGUMENT");
	cr_reply_free(&r);
	ok(call(c, &r, "connection.mutual", "a:s", "alice") == 1 &&
	    refused(&r, "INVALID_ARGUMENT") &&
	    strcmp(r.message, "missing argument 'b'") == 0,
	    "b missing: INVALID_ARGUMENT");
}

static void
test_views(void)
{
	uint64_t id, h, res, id2;
	const msgpack_object *inv;

	/* alice invites bob: they share 3. */
	cr_reply_free(&r);
	call(c, &r, "server.info", "");
	h = (uint64_t)rnum(&r, "events.head");
	id = send_inv(c, &r, "alice", "bob");
	inv = cr_get(r.result, "invitation");
	snprintf(sender_keys, sizeof sender_keys, "%s", keys_of(inv));
	ok(id > 0 && cr_get(inv, "mutual_count") == NULL &&
	    strstr(sender_keys, "reminded_at") != NULL,
	    "invite.send's result (the sender's view) has no mutual_count");

	cr_reply_free(&r);
	call(c, &r, "invite.get", "id:u actor:s", id, "bob");
	is_recipient_view(cr_get(r.result, "invitation"), 3,
	    "invite.get as the recipient");
	cr_reply_free(&r);
	call(c, &r, "invite.get", "id:u actor:s", id, "alice");
	is_sender_view(cr_get(r.result, "invitation"), "invite.get as sender");
	cr_reply_free(&r);
	call(c, &r, "invite.get", "id:u", id);
	is_sender_view(cr_get(r.result, "invitation"),
	    "invite.get without an actor");
	cr_reply_free(&r);
	call(c, &r, "invite.list", "member:s box:s", "bob", "received");
	is_recipient_view(obj_path(r.result, "items.0"), 3,
	    "the received box");
	cr_reply_free(&r);
	call(c, &r, "invite.list", "member:s box:s", "alice", "sent");
	is_sender_view(obj_path(r.result, "items.0"), "the sent box");
	cr_reply_free(&r);
	call(c, &r, "invite.history", "a:s b:s", "bob", "alice");
	is_recipient_view(obj_path(r.result, "items.0"), 3,
	    "invite.history as the recipient");
	cr_reply_free(&r);
	call(c, &r, "invite.history", "a:s b:s", "alice", "bob");
	is_sender_view(obj_path(r.result, "items.0"),
	    "invite.history as the sender");
	is_recipient_view(feed_inv("bob", h, "invitation.received", id), 3,
	    "invitation.received to the recipient");
	ok(feed_inv("alice", h, "invitation.received", id) == NULL,
	    "the sender has no invitation.received");

	/* As of the read: a fourth mutual connection counts at once; the
	 * event keeps what it said then. */
	connect_pair("cato", "alice");
	connect_pair("cato", "bob");
	cr_reply_free(&r);
	call(c, &r, "invite.get", "id:u actor:s", id, "bob");
	is_recipient_view(cr_get(r.result, "invitation"), 4,
	    "invite.get after a new mutual connection");
	is_recipient_view(feed_inv("bob", h, "invitation.received", id), 3,
	    "the event, as it was told");
	/* A removed one no longer counts. */
	cr_reply_free(&r);
	call(c, &r, "connection.remove", "actor:s other:s", "carl", "bob");
	cr_reply_free(&r);
	call(c, &r, "invite.list", "member:s box:s state:s", "bob", "received",
	    "pending");
	is_recipient_view(obj_path(r.result, "items.0"), 3,
	    "the received box after carl left bob");

	/* Accepted and ignored by the recipient: the results are theirs;
	 * the sender's accepted event is the sender's view. ann and bob share
	 * nobody: 0. */
	id2 = send_inv(c, &r, "ann", "bob");
	cr_reply_free(&r);
	call(c, &r, "invite.ignore", "actor:s id:u", "bob", id2);
	is_recipient_view(cr_get(r.result, "invitation"), 0,
	    "invite.ignore's result, sharing nobody");
	cr_reply_free(&r);
	call(c, &r, "invite.get", "id:u actor:s", id2, "ann");
	is_sender_view(cr_get(r.result, "invitation"),
	    "invite.get as sender, ignored");
	cr_reply_free(&r);
	call(c, &r, "invite.accept", "actor:s id:u", "bob", id);
	is_recipient_view(cr_get(r.result, "invitation"), 3,
	    "invite.accept's result");
	is_sender_view(feed_inv("alice", h, "invitation.accepted", id),
	    "invitation.accepted to the sender");

	/* Withdrawn and resent: the sender's results. */
	id2 = send_inv(c, &r, "carl", "cato");
	cr_reply_free(&r);
	call(c, &r, "invite.withdraw", "actor:s id:u", "carl", id2);
	is_sender_view(cr_get(r.result, "invitation"), "invite.withdraw");
	advance(c, &r, 30 * DAY);
	cr_reply_free(&r);
	call(c, &r, "invite.resend", "actor:s id:u", "carl", id2);
	res = (uint64_t)rnum(&r, "invitation.id");
	is_sender_view(cr_get(r.result, "invitation"), "invite.resend");
	cr_reply_free(&r);
	call(c, &r, "invite.get", "id:u actor:s", res, "cato");
	is_recipient_view(cr_get(r.result, "invitation"), 1,
	    "the resent one as its recipient (carl and cato share alice)");
	cr_reply_free(&r);
	call(c, &r, "invite.report", "actor:s id:u reason:s", "cato", res,
	    "spam");
	is_recipient_view(cr_get(r.result, "invitation"), 1,
	    "invite.report's result");
	cr_reply_free(&r);
	call(c, &r, "invite.get", "id:u actor:s", res, "carl");
	is_sender_view(cr_get(r.result, "invitation"),
	    "invite.get as sender, reported");
}

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
	test_method();
	test_views();
	cr_reply_free(&r);
	cr_close(c);
	is_int(dproc_stop(&p, SIGTERM), 0, "SIGTERM: exit 0");
	dproc_cleanup(&p);
	return done_testing();
}
