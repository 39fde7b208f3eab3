/* Issue 12, auto-accept rules, end to end through connreqd: a member's
 * list (member.auto_accept.add, .remove, .list) and the rule "at least N
 * mutual connections" (member.settings.set auto_accept_min_mutual), both
 * ending at auto_accept_until; an auto-accepted send is an ordinary
 * acceptance (its events, connection, stats) marked automatic; blocks,
 * invitations_from and the sender's limits still apply first
 * (docs/protocol.md §5 member.auto_accept.add, invite.send). The decision
 * at its edges is also in tests/test_rules.c. */
#include "harness.h"

static struct cr_client *c;
static struct cr_reply r;
static int64_t now = T0;

static void
connect_pair(const char *a, const char *b)
{
	uint64_t id = send_inv(c, &r, a, b);

	cr_reply_free(&r);
	if (id == 0 || call(c, &r, "invite.accept", "actor:s id:u", b, id) != 0)
		diag("cannot connect %s and %s: %s", a, b, r.message);
}

static int
list_add(const char *member, const char *other, bool on)
{
	cr_reply_free(&r);
	return call(c, &r, on ? "member.auto_accept.add" :
	    "member.auto_accept.remove", "member:s other:s", member, other);
}

/* The value at path of member's first event of type after seq h, as
 * text ("(none)" when there is no such event or key). */
static const char *
ev(const char *member, uint64_t h, const char *type, const char *path)
{
	static char buf[128];
	const msgpack_object *evs, *e, *ty, *v;
	uint32_t i;

	cr_reply_free(&r);
	call(c, &r, "events.read", "member:s after:u limit:u", member, h,
	    (uint64_t)1000);
	evs = cr_get(r.result, "events");
	for (i = 0; evs != NULL && i < evs->via.array.size; i++) {
		e = &evs->via.array.ptr[i];
		ty = cr_get(e, "type");
		if (ty == NULL || ty->type != MSGPACK_OBJECT_STR ||
		    ty->via.str.size != strlen(type) ||
		    memcmp(ty->via.str.ptr, type, ty->via.str.size) != 0)
			continue;
		v = obj_path(e, path);
		if (v == NULL)
			return "(none)";
		if (v->type == MSGPACK_OBJECT_BOOLEAN)
			return v->via.boolean ? "true" : "false";
		if (v->type == MSGPACK_OBJECT_STR) {
			snprintf(buf, sizeof buf, "%.*s", (int)v->via.str.size,
			    v->via.str.ptr);
			return buf;
		}
		if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
			snprintf(buf, sizeof buf, "%llu",
			    (unsigned long long)v->via.u64);
			return buf;
		}
		return "(other)";
	}
	return "(none)";
}

static void
test_list(void)
{
	uint64_t id, h;

	ok(list_add("bob", "alice", true) == 0 &&
	    strcmp(rstr(&r, "member"), "bob") == 0 &&
	    strcmp(rstr(&r, "other"), "alice") == 0 &&
	    rnum(&r, "listed") == 1, "bob lists alice: {member, other, listed}");
	h = head(c, &r);
	cr_reply_free(&r);
	ok(call(c, &r, "invite.send", "from:s to:s", "alice", "bob") == 0,
	    "alice invites bob");
	id = (uint64_t)rnum(&r, "invitation.id");
	ok(strcmp(rstr(&r, "invitation.state"), "accepted") == 0 &&
	    rnum(&r, "invitation.automatic") == 1 &&
	    strcmp(rstr(&r, "connection.b"), "bob") == 0 &&
	    rnum(&r, "connection.since") == now,
	    "accepted at once, automatic, with the connection");
	cr_reply_free(&r);
	call(c, &r, "invite.get", "id:u actor:s", id, "bob");
	ok(strcmp(rstr(&r, "invitation.state"), "accepted") == 0 &&
	    rnum(&r, "invitation.automatic") == 1 &&
	    rnum(&r, "invitation.updated_at") == now,
	    "bob sees it accepted, automatic");
	cr_reply_free(&r);
	call(c, &r, "connection.list", "member:s", "bob");
	ok(rnum(&r, "items") == 1 && strcmp(rstr(&r, "items.0.b"), "alice") ==
	    0, "bob and alice are connected");
	is_str(ev("alice", h, "invitation.accepted", "invitation.automatic"),
	    "true", "alice's invitation.accepted says automatic");
	is_str(ev("alice", h, "invitation.accepted", "connection.b"), "bob",
	    "with the connection, as invite.accept's");
	is_str(ev("alice", h, "connection.created", "other"), "bob",
	    "alice is told of the connection");
	is_str(ev("bob", h, "connection.created", "other"), "alice",
	    "and so is bob");
	is_str(ev("bob", h, "invitation.received", "invitation.id"), "(none)",
	    "bob is not told of an invitation to decide");
	cr_reply_free(&r);
	call(c, &r, "stats.get", "member:s", "alice");
	ok(rnum(&r, "accepted") == 1 && rnum(&r, "sent") == 1,
	    "alice's stats count it sent and accepted (%lld, %lld)",
	    (long long)rnum(&r, "sent"), (long long)rnum(&r, "accepted"));
	cr_reply_free(&r);
	call(c, &r, "invite.can_send", "from:s to:s", "alice", "zed");
	is_int(rnum(&r, "quota.day_used"), 1,
	    "the sender's limits count the send");

	/* An ordinary invitation says automatic: false, in both views. */
	id = send_inv(c, &r, "carol", "bob");
	ok(strcmp(rstr(&r, "invitation.state"), "pending") == 0 &&
	    rnum(&r, "invitation.automatic") == 0,
	    "carol is not listed: pending, automatic false");
	cr_reply_free(&r);
	call(c, &r, "invite.accept", "actor:s id:u", "bob", id);
	is_int(rnum(&r, "invitation.automatic"), 0,
	    "accepted by hand: automatic false");

	/* A removed entry no longer auto-accepts. */
	list_add("dave", "erin", true);
	list_add("dave", "fay", true);
	list_add("dave", "erin", true);
	cr_reply_free(&r);
	call(c, &r, "member.auto_accept.list", "member:s", "dave");
	ok(rnum(&r, "items") == 2 && strcmp(rstr(&r, "items.0"), "erin") ==
	    0 && strcmp(rstr(&r, "items.1"), "fay") == 0 &&
	    strcmp(rstr(&r, "next"), "nil") == 0,
	    "dave's list: erin and fay, once each, in order");
	cr_reply_free(&r);
	call(c, &r, "member.auto_accept.list", "member:s limit:u", "dave",
	    (uint64_t)1);
	ok(rnum(&r, "items") == 1 && strcmp(rstr(&r, "next"), "erin") == 0,
	    "a page of 1: next is its last");
	cr_reply_free(&r);
	call(c, &r, "member.auto_accept.list", "member:s after:s", "dave",
	    "erin");
	ok(rnum(&r, "items") == 1 && strcmp(rstr(&r, "items.0"), "fay") == 0,
	    "after: the rest");
	ok(list_add("dave", "erin", false) == 0 && rnum(&r, "listed") == 0,
	    "dave removes erin");
	send_inv(c, &r, "erin", "dave");
	ok(strcmp(rstr(&r, "invitation.state"), "pending") == 0,
	    "a removed entry no longer auto-accepts");
	send_inv(c, &r, "fay", "dave");
	is_str(rstr(&r, "invitation.state"), "accepted",
	    "one still listed does");
	ok(list_add("dave", "dave", true) == 1 &&
	    refused(&r, "INVALID_ARGUMENT"), "a member cannot list itself");
}

static void
test_refusals_first(void)
{
	uint64_t id;

	/* Blocks and invitations_from refuse before any rule. */
	list_add("gus", "hal", true);
	cr_reply_free(&r);
	call(c, &r, "member.block", "actor:s other:s", "gus", "hal");
	send_inv(c, &r, "hal", "gus");
	ok(r.error != NULL, "listed but blocked: refused (%s)", r.code);
	list_add("gus", "ian", true);
	cr_reply_free(&r);
	call(c, &r, "member.settings.set", "member:s invitations_from:s",
	    "gus", "nobody");
	send_inv(c, &r, "ian", "gus");
	ok(refused(&r, "NOT_PERMITTED"),
	    "listed, but gus takes invitations from nobody: refused (%s)",
	    r.code);

	/* A resend goes through the same path. */
	id = send_inv(c, &r, "jan", "kim");
	cr_reply_free(&r);
	call(c, &r, "invite.withdraw", "actor:s id:u", "jan", id);
	list_add("kim", "jan", true);
	now = advance(c, &r, 21 * DAY);
	cr_reply_free(&r);
	call(c, &r, "invite.resend", "actor:s id:u", "jan", id);
	ok(strcmp(rstr(&r, "invitation.state"), "accepted") == 0 &&
	    rnum(&r, "invitation.automatic") == 1,
	    "a resend to a member who listed the sender: accepted at once");

	/* Privacy: before a send, the sender cannot tell. lea lists max and
	 * wants 1 mutual connection (which max2 has with lea2); lea2 has no
	 * rule. max's and max2's answers are the same, field by field. */
	list_add("lea", "max", true);
	cr_reply_free(&r);
	call(c, &r, "member.settings.set", "member:s auto_accept_min_mutual:u",
	    "lea", (uint64_t)1);
	connect_pair("w1", "max2");
	connect_pair("w1", "lea2");
	connect_pair("w2", "max");
	{
		char one[2048], two[2048], f1[64], f2[64];
		static const char *const what[] = { "invite.can_send",
		    "stats.get", "feed" };
		int k;

		for (k = 0; k < 3; k++) {
			cr_reply_free(&r);
			if (k == 0)
				call(c, &r, what[k], "from:s to:s", "max", "lea");
			else if (k == 1)
				call(c, &r, what[k], "member:s", "max");
			else
				snprintf(f1, sizeof f1, "%s",
				    feed(c, &r, "max", 0));
			if (k < 2)
				msgpack_object_print_buffer(one, sizeof one,
				    *r.result);
			cr_reply_free(&r);
			if (k == 0)
				call(c, &r, what[k], "from:s to:s", "max2",
				    "lea2");
			else if (k == 1)
				call(c, &r, what[k], "member:s", "max2");
			else
				snprintf(f2, sizeof f2, "%s",
				    feed(c, &r, "max2", 0));
			if (k < 2) {
				msgpack_object_print_buffer(two, sizeof two,
				    *r.result);
				/* stats.get names its member. */
				if (k == 1 && strstr(two, "\"max2\"") != NULL)
					memmove(strstr(two, "\"max2\"") + 4,
					    strstr(two, "\"max2\"") + 5,
					    strlen(strstr(two, "\"max2\"") + 4));
			}
			if (k == 2)
				ok(strcmp(f1, f2) == 0 && f1[0] != '\0',
				    "the sender's feed: nothing of the rules (%s | %s)",
				    f1, f2);
			else
				ok(strcmp(one, two) == 0,
				    "%s: the same for a listed sender as for one of no rule (%s | %s)",
				    what[k], one, two);
		}
	}
}

static void
test_min_mutual_and_end(void)
{
	/* ona wants those sharing 2: pat shares 1, quin exactly 2. */
	connect_pair("ona", "x1");
	connect_pair("ona", "x2");
	connect_pair("pat", "x1");
	connect_pair("quin", "x1");
	connect_pair("x2", "quin");
	cr_reply_free(&r);
	ok(call(c, &r, "member.settings.set", "member:s auto_accept_min_mutual:u",
	    "ona", (uint64_t)2) == 0 && rnum(&r, "auto_accept_min_mutual") == 2 &&
	    strcmp(rstr(&r, "auto_accept_until"), "nil") == 0,
	    "ona: auto-accept from 2 mutual connections, no end");
	send_inv(c, &r, "pat", "ona");
	is_str(rstr(&r, "invitation.state"), "pending", "1 mutual of 2: pending");
	send_inv(c, &r, "quin", "ona");
	ok(strcmp(rstr(&r, "invitation.state"), "accepted") == 0 &&
	    rnum(&r, "invitation.automatic") == 1,
	    "exactly 2 mutual of 2: accepted at once");

	/* The end date ends both rules: rae lists sid and wants 1 mutual,
	 * until a day from now. */
	connect_pair("rae", "y1");
	connect_pair("tom", "y1");
	connect_pair("uma", "y1");
	list_add("rae", "sid", true);
	list_add("rae", "vic", true);
	cr_reply_free(&r);
	ok(call(c, &r, "member.settings.set",
	    "member:s auto_accept_min_mutual:u auto_accept_until:u", "rae",
	    (uint64_t)1, (uint64_t)(now + DAY)) == 0 &&
	    rnum(&r, "auto_accept_until") == now + DAY,
	    "rae: auto-accept until a day from now");
	cr_reply_free(&r);
	call(c, &r, "member.settings.get", "member:s", "rae");
	ok(rnum(&r, "auto_accept_min_mutual") == 1 &&
	    rnum(&r, "auto_accept_until") == now + DAY,
	    "member.settings.get shows both");
	now = advance(c, &r, DAY - 1);
	send_inv(c, &r, "tom", "rae");
	is_str(rstr(&r, "invitation.state"), "accepted",
	    "a second before the end: the threshold still applies");
	send_inv(c, &r, "vic", "rae");
	is_str(rstr(&r, "invitation.state"), "accepted",
	    "and the list");
	now = advance(c, &r, 1);
	send_inv(c, &r, "uma", "rae");
	is_str(rstr(&r, "invitation.state"), "pending",
	    "at the end date: the threshold no longer applies");
	send_inv(c, &r, "sid", "rae");
	is_str(rstr(&r, "invitation.state"), "pending",
	    "nor the list");
	cr_reply_free(&r);
	ok(call(c, &r, "member.settings.set",
	    "member:s auto_accept_min_mutual:u auto_accept_until:u", "rae",
	    (uint64_t)0, (uint64_t)0) == 0 &&
	    rnum(&r, "auto_accept_min_mutual") == 0 &&
	    strcmp(rstr(&r, "auto_accept_until"), "nil") == 0,
	    "0 turns the threshold off and the end date away");
	cr_reply_free(&r);
	ok(call(c, &r, "member.settings.set", "member:s auto_accept_min_mutual:u",
	    "rae", (uint64_t)1001) == 1 && refused(&r, "INVALID_ARGUMENT"),
	    "a threshold past 1000: INVALID_ARGUMENT");
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
	test_list();
	test_refusals_first();
	test_min_mutual_and_end();
	cr_reply_free(&r);
	cr_close(c);
	is_int(dproc_stop(&p, SIGTERM), 0, "SIGTERM: exit 0");
	dproc_cleanup(&p);
	return done_testing();
}
