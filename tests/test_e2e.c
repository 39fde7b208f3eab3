/* End to end: connreqd on a temporary socket and store with a virtual
 * clock, driven through the client library. Every rule and error code of
 * the engine. */
#include "harness.h"

static struct cr_client *c;
static struct cr_reply r;

static int
act(const char *method, const char *actor, uint64_t id)
{
	cr_reply_free(&r);
	return call(c, &r, method, "actor:s id:u", actor, id);
}

static void
test_send_and_views(void)
{
	uint64_t id;
	int64_t now = T0;

	cr_reply_free(&r);
	ok(call(c, &r, "hello", "") == 0 && rnum(&r, "protocol") == 1 &&
	    strcmp(rstr(&r, "server"), "connreqd") == 0, "hello");

	cr_reply_free(&r);
	ok(call(c, &r, "invite.send", "from:s to:s note:s priority:s", "alice",
	    "bob", "We met at the meetup", "high") == 0, "alice invites bob");
	id = (uint64_t)rnum(&r, "invitation.id");
	is_str(rstr(&r, "invitation.state"), "pending", "it is pending");
	is_str(rstr(&r, "invitation.note"), "We met at the meetup", "with the note");
	is_str(rstr(&r, "invitation.priority"), "high", "and the priority");
	is_int(rnum(&r, "invitation.created_at"), now, "created now");
	is_int(rnum(&r, "invitation.expires_at"), now + 180 * DAY,
	    "expires in 180 days");
	is_int(rnum(&r, "invitation.attempt"), 1, "attempt 1");
	is_str(rstr(&r, "invitation.resend_of"), "nil", "resend_of nil");

	send_inv(c, &r, "alice", "bob");
	ok(refused(&r, "ALREADY_PENDING"),
	    "a second invitation: ALREADY_PENDING");
	send_inv(c, &r, "alice", "alice");
	ok(refused(&r, "SELF_INVITE"), "inviting yourself: SELF_INVITE");
	ok(act("invite.accept", "alice", id) == 1 &&
	    refused(&r, "NOT_PERMITTED"),
	    "the sender cannot accept: NOT_PERMITTED (%s)", r.message);
	ok(act("invite.withdraw", "bob", id) == 1 &&
	    refused(&r, "NOT_PERMITTED"),
	    "the recipient cannot withdraw: NOT_PERMITTED");
	ok(act("invite.resend", "bob", id) == 1 && refused(&r, "NOT_PERMITTED"),
	    "the recipient cannot resend: NOT_PERMITTED");
	ok(act("invite.accept", "mallory", id) == 1 &&
	    refused(&r, "NOT_PERMITTED"),
	    "a stranger cannot accept: NOT_PERMITTED");
	cr_reply_free(&r);
	ok(call(c, &r, "invite.get", "id:u actor:s", id, "mallory") == 1 &&
	    refused(&r, "NOT_PERMITTED"), "nor see it");
	cr_reply_free(&r);
	ok(call(c, &r, "invite.get", "id:u", (uint64_t)999) == 1 &&
	    refused(&r, "NOT_FOUND"), "an unknown id: NOT_FOUND");
	ok(act("invite.accept", "bob", 999) == 1 && refused(&r, "NOT_FOUND"),
	    "accepting an unknown id: NOT_FOUND");

	/* Ignoring is silent: the sender keeps seeing pending. */
	ok(act("invite.ignore", "bob", id) == 0 &&
	    strcmp(rstr(&r, "invitation.state"), "ignored") == 0,
	    "bob ignores it");
	cr_reply_free(&r);
	call(c, &r, "invite.get", "id:u actor:s", id, "alice");
	is_str(rstr(&r, "invitation.state"), "pending",
	    "alice still sees it pending");
	is_int(rnum(&r, "invitation.updated_at"), now,
	    "with updated_at unchanged");
	cr_reply_free(&r);
	call(c, &r, "invite.get", "id:u", id);
	is_str(rstr(&r, "invitation.state"), "pending",
	    "without an actor it shows the sender's view");
	cr_reply_free(&r);
	call(c, &r, "invite.get", "id:u actor:s", id, "bob");
	is_str(rstr(&r, "invitation.state"), "ignored", "bob sees ignored");
	cr_reply_free(&r);
	call(c, &r, "invite.list", "member:s box:s", "alice", "sent");
	ok(rnum(&r, "items") == 1 &&
	    strcmp(rstr(&r, "items.0.state"), "pending") == 0,
	    "alice's sent box shows it pending");
	cr_reply_free(&r);
	call(c, &r, "invite.list", "member:s box:s state:s", "alice", "sent",
	    "pending");
	is_int(rnum(&r, "items"), 1, "filtering alice's box on pending finds it");
	cr_reply_free(&r);
	call(c, &r, "invite.list", "member:s box:s state:s", "alice", "sent",
	    "ignored");
	is_int(rnum(&r, "items"), 0, "filtering on ignored finds nothing");
	cr_reply_free(&r);
	call(c, &r, "invite.history", "a:s b:s", "alice", "bob");
	is_str(rstr(&r, "items.0.state"), "pending",
	    "alice's history shows it pending");
	cr_reply_free(&r);
	call(c, &r, "invite.list", "member:s box:s", "bob", "received");
	is_int(rnum(&r, "items"), 0, "bob's received box leaves it out");
	send_inv(c, &r, "alice", "bob");
	ok(refused(&r, "ALREADY_PENDING"),
	    "alice sending again gets ALREADY_PENDING, as if pending");
	ok(act("invite.resend", "alice", id) == 1 &&
	    refused(&r, "INVALID_STATE") &&
	    strstr(r.message, "pending") != NULL,
	    "resending says it is pending: %s", r.message);
	cr_reply_free(&r);
	call(c, &r, "invite.list", "member:s box:s", "bob", "ignored");
	ok(rnum(&r, "items") == 1 && rnum(&r, "items.0.id") == (int64_t)id &&
	    strcmp(rstr(&r, "items.0.state"), "ignored") == 0,
	    "bob's ignored box has it (issue 12)");
	ok(act("invite.ignore", "bob", id) == 1 && refused(&r, "INVALID_STATE"),
	    "an ignored invitation cannot be ignored again: INVALID_STATE");

	/* Withdrawal: gone for bob, cooldown for alice. */
	ok(act("invite.withdraw", "alice", id) == 0 &&
	    strcmp(rstr(&r, "invitation.state"), "withdrawn") == 0 &&
	    rnum(&r, "cooldown_until") == now + 21 * DAY,
	    "alice withdraws it; cooldown until day 21");
	ok(act("invite.withdraw", "alice", id) == 1 &&
	    refused(&r, "INVALID_STATE"),
	    "withdrawing twice: INVALID_STATE");
	cr_reply_free(&r);
	ok(call(c, &r, "invite.get", "id:u actor:s", id, "bob") == 1 &&
	    refused(&r, "NOT_FOUND"), "bob no longer sees it");
	cr_reply_free(&r);
	call(c, &r, "invite.history", "a:s b:s", "bob", "alice");
	is_int(rnum(&r, "items"), 0, "nor in his history");

	now = advance(c, &r, 20 * DAY);
	send_inv(c, &r, "alice", "bob");
	ok(refused(&r, "COOLDOWN") && r.retry_at == T0 + 21 * DAY,
	    "day 20: send refused with COOLDOWN, retry_at day 21 (%s)",
	    r.message);
	ok(act("invite.resend", "alice", id) == 1 && refused(&r, "COOLDOWN") &&
	    r.retry_at == T0 + 21 * DAY, "day 20: resend refused too");
	now = advance(c, &r, DAY);
	is_int(now, T0 + 21 * DAY, "the clock stands at day 21");
	ok(act("invite.resend", "alice", id) == 0, "day 21: resend allowed");
	is_int(rnum(&r, "invitation.resend_of"), id, "resend_of the old one");
	is_int(rnum(&r, "invitation.attempt"), 2, "attempt 2");
	is_str(rstr(&r, "invitation.note"), "We met at the meetup",
	    "the old note is kept when none is given");
	is_str(rstr(&r, "invitation.priority"), "high", "and the priority");
}

static void
test_expiry_and_stale(void)
{
	uint64_t id, id2;
	int64_t start;

	start = advance(c, &r, 0);
	id = send_inv(c, &r, "carol", "dave");
	ok(id > 0, "carol invites dave");
	advance(c, &r, 14 * DAY - 1);
	cr_reply_free(&r);
	call(c, &r, "invite.get", "id:u", id);
	is_str(rstr(&r, "invitation.reminded_at"), "nil",
	    "no stale reminder before day 14");
	advance(c, &r, 1);
	cr_reply_free(&r);
	call(c, &r, "invite.get", "id:u", id);
	is_int(rnum(&r, "invitation.reminded_at"), start + 14 * DAY,
	    "the stale reminder is handled at day 14");
	is_str(rstr(&r, "invitation.state"), "pending", "still pending");
	act("invite.ignore", "dave", id);
	advance(c, &r, 166 * DAY - 1);
	cr_reply_free(&r);
	call(c, &r, "invite.get", "id:u actor:s", id, "dave");
	is_str(rstr(&r, "invitation.state"), "ignored",
	    "one second before 180 days it is not expired");
	advance(c, &r, 1);
	cr_reply_free(&r);
	call(c, &r, "invite.get", "id:u actor:s", id, "carol");
	is_str(rstr(&r, "invitation.state"), "expired",
	    "at 180 days it expires (ignored ones too)");
	is_int(rnum(&r, "invitation.updated_at"), start + 180 * DAY,
	    "at its deadline");
	cr_reply_free(&r);
	call(c, &r, "invite.get", "id:u actor:s", id, "dave");
	is_str(rstr(&r, "invitation.state"), "ignored",
	    "to dave, who ignored it, it stays ignored");
	cr_reply_free(&r);
	call(c, &r, "invite.list", "member:s box:s", "dave", "received");
	is_int(rnum(&r, "items"), 0, "and out of his received box");
	ok(act("invite.resend", "carol", id) == 0,
	    "an expired invitation can be resent at once (no cooldown)");
	id2 = (uint64_t)rnum(&r, "invitation.id");
	is_int(rnum(&r, "invitation.attempt"), 2, "attempt 2");
	ok(act("invite.withdraw", "carol", id2) == 0, "withdrawn again");
	send_inv(c, &r, "carol", "dave");
	ok(refused(&r, "COOLDOWN"), "and the cooldown applies again");
}

static void
test_mutual_and_connections(void)
{
	uint64_t a, b;

	a = send_inv(c, &r, "erin", "frank");
	b = send_inv(c, &r, "frank", "erin");
	ok(a > 0 && b > 0, "frank invites erin back");
	is_str(rstr(&r, "invitation.state"), "accepted",
	    "mutual interest: the result is accepted");
	ok(strcmp(rstr(&r, "connection.a"), "frank") == 0 &&
	    strcmp(rstr(&r, "connection.b"), "erin") == 0,
	    "and carries the connection");
	cr_reply_free(&r);
	call(c, &r, "invite.get", "id:u", a);
	is_str(rstr(&r, "invitation.state"), "accepted",
	    "erin's invitation is accepted too");
	send_inv(c, &r, "erin", "frank");
	ok(refused(&r, "ALREADY_CONNECTED"),
	    "inviting a connection: ALREADY_CONNECTED");

	a = send_inv(c, &r, "nora", "omar");
	act("invite.ignore", "omar", a);
	ok(send_inv(c, &r, "omar", "nora") > 0 &&
	    strcmp(rstr(&r, "invitation.state"), "accepted") == 0,
	    "omar ignored nora, then invites her: connected");
	cr_reply_free(&r);
	call(c, &r, "invite.get", "id:u actor:s", a, "omar");
	is_str(rstr(&r, "invitation.state"), "accepted",
	    "omar sees nora's invitation accepted, not ignored");
	cr_reply_free(&r);
	call(c, &r, "invite.list", "member:s box:s", "omar", "received");
	is_int(rnum(&r, "items"), 1, "and back in his received box");

	a = send_inv(c, &r, "gina", "erin");
	ok(act("invite.accept", "erin", a) == 0, "erin accepts gina");
	ok(strcmp(rstr(&r, "invitation.state"), "accepted") == 0 &&
	    strcmp(rstr(&r, "connection.a"), "gina") == 0 &&
	    rnum(&r, "connection.since") > 0, "with the connection");
	ok(act("invite.accept", "erin", a) == 1 && refused(&r, "INVALID_STATE"),
	    "accepting twice: INVALID_STATE");
	cr_reply_free(&r);
	call(c, &r, "connection.list", "member:s", "erin");
	ok(rnum(&r, "items") == 2 &&
	    strcmp(rstr(&r, "items.0.b"), "frank") == 0 &&
	    strcmp(rstr(&r, "items.1.b"), "gina") == 0,
	    "erin has two connections, in order");
	cr_reply_free(&r);
	call(c, &r, "connection.list", "member:s limit:u", "erin", (uint64_t)1);
	ok(rnum(&r, "items") == 1 && strcmp(rstr(&r, "next"), "frank") == 0,
	    "a page of one says where to go on");
	cr_reply_free(&r);
	call(c, &r, "connection.list", "member:s after:s", "erin", "frank");
	ok(rnum(&r, "items") == 1 && strcmp(rstr(&r, "items.0.b"), "gina") == 0 &&
	    strcmp(rstr(&r, "next"), "nil") == 0, "the next page ends it");
	cr_reply_free(&r);
	ok(call(c, &r, "connection.remove", "actor:s other:s", "gina",
	    "erin") == 0 && strcmp(rstr(&r, "removed.b"), "erin") == 0,
	    "gina removes erin");
	cr_reply_free(&r);
	ok(call(c, &r, "connection.remove", "actor:s other:s", "gina",
	    "erin") == 1 && refused(&r, "NOT_FOUND"), "twice: NOT_FOUND");
	ok(send_inv(c, &r, "gina", "erin") > 0,
	    "after removal they may invite each other again");
}

/* The ids in r's items, newest first, as "a,b,c". */
static const char *
item_ids(void)
{
	static char buf[256];
	char path[32];
	int64_t i, n = rnum(&r, "items");
	size_t off = 0;

	buf[0] = '\0';
	for (i = 0; i < n && off < sizeof buf - 24; i++) {
		snprintf(path, sizeof path, "items.%lld.id", (long long)i);
		off += (size_t)snprintf(buf + off, sizeof buf - off, "%s%lld",
		    i ? "," : "", (long long)rnum(&r, path));
	}
	return buf;
}

/* Issue 12: the recipient's boxes, received, ignored and held, through
 * the protocol: each invitation in one, paged, filtered. */
static void
test_boxes(void)
{
	uint64_t ids[6], held;
	char want[128], from[16];
	uint64_t h;
	int i;

	for (i = 0; i < 6; i++) {
		snprintf(from, sizeof from, "qs%d", i);
		ids[i] = send_inv(c, &r, from, "quinn");
	}
	act("invite.ignore", "quinn", ids[1]);
	act("invite.ignore", "quinn", ids[3]);
	act("invite.ignore", "quinn", ids[4]);
	cr_reply_free(&r);
	call(c, &r, "invite.list", "member:s box:s limit:u", "quinn",
	    "ignored", (uint64_t)2);
	snprintf(want, sizeof want, "%llu,%llu", (unsigned long long)ids[4],
	    (unsigned long long)ids[3]);
	ok(strcmp(item_ids(), want) == 0 &&
	    (uint64_t)rnum(&r, "next") == ids[3] &&
	    strcmp(rstr(&r, "items.0.state"), "ignored") == 0 &&
	    strcmp(rstr(&r, "items.0.priority"), "nil") == 0,
	    "boxes: the ignored box, newest first, two a page, the "
	    "recipient's view (%s)", item_ids());
	cr_reply_free(&r);
	call(c, &r, "invite.list", "member:s box:s limit:u after:u", "quinn",
	    "ignored", (uint64_t)2, ids[3]);
	snprintf(want, sizeof want, "%llu", (unsigned long long)ids[1]);
	ok(strcmp(item_ids(), want) == 0 && rnum(&r, "next") == -1,
	    "boxes: its next page, the last");
	cr_reply_free(&r);
	call(c, &r, "invite.list", "member:s box:s", "quinn", "received");
	snprintf(want, sizeof want, "%llu,%llu,%llu",
	    (unsigned long long)ids[5], (unsigned long long)ids[2],
	    (unsigned long long)ids[0]);
	is_str(item_ids(), want, "boxes: the received box, the others");
	cr_reply_free(&r);
	call(c, &r, "invite.list", "member:s box:s state:s", "quinn",
	    "ignored", "pending");
	is_int(rnum(&r, "items"), 0,
	    "boxes: the ignored box filtered on pending: none");
	cr_reply_free(&r);
	ok(call(c, &r, "invite.list", "member:s box:s priority:s", "quinn",
	    "ignored", "high") == 1 && refused(&r, "INVALID_ARGUMENT"),
	    "boxes: no priority filter on the ignored box");
	ok(act("invite.accept", "quinn", ids[3]) == 0 &&
	    strcmp(rstr(&r, "invitation.state"), "accepted") == 0 &&
	    rnum(&r, "connection.since") > 0,
	    "boxes: accepted straight from the ignored box");
	ok(act("invite.unignore", "quinn", ids[4]) == 0 &&
	    strcmp(rstr(&r, "invitation.state"), "pending") == 0,
	    "boxes: one unignored");
	act("invite.withdraw", "qs1", ids[1]);
	cr_reply_free(&r);
	call(c, &r, "invite.list", "member:s box:s", "quinn", "ignored");
	is_int(rnum(&r, "items"), 0, "boxes: accepted, unignored, withdrawn: "
	    "the ignored box is empty");
	cr_reply_free(&r);
	call(c, &r, "invite.list", "member:s box:s", "quinn", "received");
	snprintf(want, sizeof want, "%llu,%llu,%llu,%llu,%llu",
	    (unsigned long long)ids[5], (unsigned long long)ids[4],
	    (unsigned long long)ids[3], (unsigned long long)ids[2],
	    (unsigned long long)ids[0]);
	is_str(item_ids(), want, "boxes: they are back in received");

	/* Held: quinn holds senders with no mutual connection. */
	cr_reply_free(&r);
	ok(call(c, &r, "member.settings.set", "member:s hold_no_mutual:b",
	    "quinn", 1) == 0 && rnum(&r, "hold_no_mutual") == 1 &&
	    strcmp(rstr(&r, "own.0"), "hold_no_mutual") == 0,
	    "boxes: quinn holds strangers' invitations, her own setting");
	h = head(c, &r);
	held = send_inv(c, &r, "qstranger", "quinn");
	ok(held > 0 && strcmp(rstr(&r, "invitation.state"), "pending") == 0,
	    "boxes: a stranger's send: pending to its sender");
	is_str(feed(c, &r, "quinn", h), "", "boxes: quinn is not told");
	is_str(feed(c, &r, NULL, h), "invitation.held",
	    "boxes: the all feed: invitation.held");
	cr_reply_free(&r);
	call(c, &r, "invite.list", "member:s box:s", "quinn", "held");
	snprintf(want, sizeof want, "%llu", (unsigned long long)held);
	is_str(item_ids(), want, "boxes: in quinn's held box");
	cr_reply_free(&r);
	call(c, &r, "invite.list", "member:s box:s limit:u", "quinn",
	    "received", (uint64_t)1);
	ok(rnum(&r, "items.0.id") == (int64_t)ids[5],
	    "boxes: not in her received box");
	cr_reply_free(&r);
	ok(call(c, &r, "member.settings.set", "member:s hold_no_mutual:n",
	    "quinn") == 0 && rnum(&r, "hold_no_mutual") == 0 &&
	    rnum(&r, "own") == 0,
	    "boxes: nil resets it to the policy's (off)");
	cr_reply_free(&r);
	call(c, &r, "invite.list", "member:s box:s", "quinn", "held");
	is_str(item_ids(), want, "boxes: what was held stays held");
	ok(act("invite.accept", "quinn", held) == 0,
	    "boxes: accepted from the held box");
	cr_reply_free(&r);
	call(c, &r, "invite.list", "member:s box:s", "quinn", "held");
	is_int(rnum(&r, "items"), 0, "boxes: released: the held box is empty");
	cr_reply_free(&r);
}

static void
test_lists_and_notes(void)
{
	char note[700];
	uint64_t ids[7];
	int i;

	for (i = 0; i < 7; i++) {
		char to[16];

		snprintf(to, sizeof to, "m%d", i);
		cr_reply_free(&r);
		call(c, &r, "invite.send", "from:s to:s priority:s", "hank",
		    to, i % 2 ? "low" : "high");
		ids[i] = (uint64_t)rnum(&r, "invitation.id");
		advance(c, &r, DAY);
	}
	cr_reply_free(&r);
	call(c, &r, "invite.list", "member:s box:s limit:u", "hank", "sent",
	    (uint64_t)3);
	ok(rnum(&r, "items") == 3 && (uint64_t)rnum(&r, "items.0.id") == ids[6] &&
	    (uint64_t)rnum(&r, "next") == ids[4], "newest first, three a page");
	cr_reply_free(&r);
	call(c, &r, "invite.list", "member:s box:s limit:u after:u", "hank",
	    "sent", (uint64_t)3, ids[4]);
	ok(rnum(&r, "items") == 3 && (uint64_t)rnum(&r, "items.0.id") == ids[3],
	    "the cursor continues");
	cr_reply_free(&r);
	call(c, &r, "invite.list", "member:s box:s after:u", "hank", "sent",
	    ids[1]);
	ok(rnum(&r, "items") == 1 && rnum(&r, "next") == -1,
	    "the last page has next nil");
	cr_reply_free(&r);
	call(c, &r, "invite.list", "member:s box:s priority:s", "hank", "sent",
	    "low");
	is_int(rnum(&r, "items"), 3, "three low-priority ones");
	cr_reply_free(&r);
	call(c, &r, "invite.list", "member:s box:s priority:s limit:u", "hank",
	    "sent", "low", (uint64_t)3);
	ok(rnum(&r, "items") == 3 && rnum(&r, "next") == -1,
	    "a full page with no further match has next nil");
	cr_reply_free(&r);
	call(c, &r, "invite.list", "member:s box:s priority:s limit:u", "hank",
	    "sent", "high", (uint64_t)2);
	ok(rnum(&r, "items") == 2 && (uint64_t)rnum(&r, "next") == ids[4],
	    "with a filter, next is the last item returned");
	cr_reply_free(&r);
	call(c, &r, "invite.list", "member:s box:s priority:s limit:u after:u",
	    "hank", "sent", "high", (uint64_t)2, ids[4]);
	ok(rnum(&r, "items") == 2 && (uint64_t)rnum(&r, "items.0.id") == ids[2] &&
	    rnum(&r, "next") == -1, "and the next page holds the rest");
	cr_reply_free(&r);
	/* Issue 9: priority is the sender's own; the recipient can neither
	 * see it nor probe it with the filter. */
	call(c, &r, "invite.list", "member:s box:s", "m1", "received");
	ok(rnum(&r, "items") == 1 && strcmp(rstr(&r, "items.0.priority"),
	    "nil") == 0, "the recipient's received list: priority nil");
	cr_reply_free(&r);
	ok(call(c, &r, "invite.list", "member:s box:s priority:s", "m1",
	    "received", "low") == 1 && refused(&r, "INVALID_ARGUMENT") &&
	    strstr(r.message, "sender's own") != NULL,
	    "the received box filtered by priority: INVALID_ARGUMENT");
	cr_reply_free(&r);
	call(c, &r, "invite.get", "id:u actor:s", ids[1], "m1");
	is_str(rstr(&r, "invitation.priority"), "nil",
	    "invite.get as the recipient: priority nil");
	cr_reply_free(&r);
	call(c, &r, "invite.get", "id:u actor:s", ids[1], "hank");
	is_str(rstr(&r, "invitation.priority"), "low",
	    "invite.get as the sender: priority low");
	cr_reply_free(&r);
	call(c, &r, "invite.list", "member:s box:s older_than:u", "hank",
	    "sent", (uint64_t)(5 * DAY));
	is_int(rnum(&r, "items"), 3, "three older than 5 days");
	cr_reply_free(&r);
	ok(call(c, &r, "invite.list", "member:s box:s limit:u", "hank", "sent",
	    (uint64_t)0) == 1 && refused(&r, "INVALID_ARGUMENT"),
	    "limit 0: INVALID_ARGUMENT");
	cr_reply_free(&r);
	ok(call(c, &r, "invite.list", "member:s box:s older_than:u", "hank",
	    "sent", UINT64_C(1) << 63) == 1 && refused(&r, "INVALID_ARGUMENT"),
	    "older_than of 2^63: INVALID_ARGUMENT, no overflow");
	cr_reply_free(&r);
	ok(call(c, &r, "plan.withdraw_stale", "member:s older_than:u", "hank",
	    UINT64_MAX) == 1 && refused(&r, "INVALID_ARGUMENT"),
	    "the same for a plan");
	cr_reply_free(&r);
	ok(call(c, &r, "invite.list", "member:s box:s", "hank", "outbox") == 1 &&
	    refused(&r, "INVALID_ARGUMENT"),
	    "an unknown box: INVALID_ARGUMENT (%s)", r.message);

	/* Notes count code points: 300 two-byte characters pass. */
	for (i = 0; i < 300; i++)
		memcpy(note + 2 * i, "\xc3\xa9", 2);
	note[600] = '\0';
	cr_reply_free(&r);
	ok(call(c, &r, "invite.send", "from:s to:s note:s", "ivan", "judy",
	    note) == 0, "a note of 300 characters (600 bytes) passes");
	memcpy(note + 600, "!", 2);
	cr_reply_free(&r);
	ok(call(c, &r, "invite.send", "from:s to:s note:s", "ivan", "kim",
	    note) == 1 && refused(&r, "NOTE_TOO_LONG"),
	    "301: NOTE_TOO_LONG (%s)", r.message);

	cr_reply_free(&r);
	ok(call(c, &r, "invite.send", "from:s to:s note:s", "ivan", "lee",
	    "Hello\n\tLee") == 0, "a note may hold newlines and tabs");
	cr_reply_free(&r);
	ok(call(c, &r, "invite.send", "from:s to:s note:s", "ivan", "max",
	    "\x1b[31mred") == 1 && refused(&r, "INVALID_ARGUMENT"),
	    "but no other control characters: %s", r.message);

	/* Bad arguments. */
	cr_reply_free(&r);
	ok(call(c, &r, "invite.send", "to:s", "bob") == 1 &&
	    refused(&r, "INVALID_ARGUMENT") && strstr(r.message, "from"),
	    "a missing argument: %s", r.message);
	cr_reply_free(&r);
	ok(call(c, &r, "invite.send", "from:s to:u", "bob", (uint64_t)5) == 1 &&
	    refused(&r, "INVALID_ARGUMENT"), "a number as member: %s",
	    r.message);
	cr_reply_free(&r);
	ok(call(c, &r, "invite.send", "from:s to:s", "bob", "a\tb") == 1 &&
	    refused(&r, "INVALID_ARGUMENT"), "a control character: %s",
	    r.message);
	cr_reply_free(&r);
	ok(call(c, &r, "invite.send", "from:s to:s priority:s", "bob", "x",
	    "urgent") == 1 && refused(&r, "INVALID_ARGUMENT"),
	    "an unknown priority: %s", r.message);
	cr_reply_free(&r);
	ok(call(c, &r, "invite.send", "from:s to:s colour:s", "bob", "x",
	    "red") == 1 && refused(&r, "INVALID_ARGUMENT") &&
	    strstr(r.message, "colour"), "an unknown argument: %s", r.message);
	cr_reply_free(&r);
	ok(call(c, &r, "invite.get", "id:i", (int64_t)-1) == 1 &&
	    refused(&r, "INVALID_ARGUMENT"), "a negative id: %s", r.message);
	cr_reply_free(&r);
	ok(call(c, &r, "invite.fly", "") == 1 && refused(&r, "UNKNOWN_METHOD"),
	    "an unknown method: UNKNOWN_METHOD");
}

/* The number of items in the answer a (an [1, msgid, nil, {items, ...}]),
 * -1 when it is not one. */
static int
answer_items(const msgpack_object *a)
{
	const msgpack_object_map *m;
	uint32_t k;

	if (a[2].type != MSGPACK_OBJECT_NIL || a[3].type != MSGPACK_OBJECT_MAP)
		return -1;
	m = &a[3].via.map;
	for (k = 0; k < m->size; k++)
		if (m->ptr[k].key.type == MSGPACK_OBJECT_STR &&
		    m->ptr[k].key.via.str.size == 5 &&
		    memcmp(m->ptr[k].key.via.str.ptr, "items", 5) == 0 &&
		    m->ptr[k].val.type == MSGPACK_OBJECT_ARRAY)
			return (int)m->ptr[k].val.via.array.size;
	return -1;
}

/* 60 sends, each followed by a list of the sender's sent box, in one
 * write: far more than one batch takes from a client (16), so they run in
 * several batches, the later ones while the earlier are being flushed.
 * Every answer comes in request order, and every list sees the sends
 * before it, no more and no fewer. */
static void
test_pipeline_reads(void)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked up;
	const msgpack_object *a;
	int i, n, inorder = 1, lists_right = 0, sends_ok = 0;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	for (i = 0; i < 120; i++) {
		char to[16];

		snprintf(to, sizeof to, "pr%d", i / 2);
		msgpack_pack_array(&pk, 4);
		msgpack_pack_uint8(&pk, 0);
		msgpack_pack_uint32(&pk, 5000 + (uint32_t)i);
		pk_str(&pk, i % 2 == 0 ? "invite.send" : "invite.list");
		msgpack_pack_array(&pk, 1);
		if (i % 2 == 0) {
			msgpack_pack_map(&pk, 2);
			pk_kstr(&pk, "from", "pipe2");
			pk_kstr(&pk, "to", to);
		} else {
			msgpack_pack_map(&pk, 3);
			pk_kstr(&pk, "member", "pipe2");
			pk_kstr(&pk, "box", "sent");
			pk_str(&pk, "limit");
			msgpack_pack_uint32(&pk, 1000);
		}
	}
	cr_send_raw(c, sb.data, sb.size);
	msgpack_unpacked_init(&up);
	for (i = 0; i < 120; i++) {
		if (cr_read_message(c, &up, WAIT_MS) != 0)
			break;
		a = up.data.via.array.ptr;
		if (a[1].via.u64 != 5000 + (uint64_t)i)
			inorder = 0;
		if (i % 2 == 0)
			sends_ok += a[2].type == MSGPACK_OBJECT_NIL;
		else if ((n = answer_items(a)) == i / 2 + 1)
			lists_right++;
		else
			diag("list %d: %d items, not %d", i / 2, n, i / 2 + 1);
	}
	msgpack_unpacked_destroy(&up);
	msgpack_sbuffer_destroy(&sb);
	ok(i == 120 && inorder,
	    "120 pipelined sends and lists answered in order");
	is_int(sends_ok, 60, "every send succeeded");
	is_int(lists_right, 60,
	    "every list sees exactly the sends before it in the pipeline");
}

static void
test_pipeline(void)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked up;
	const msgpack_object *a;
	int i, inorder = 1, okcount = 0;

	/* Fifty requests in one write: fifty answers, in request order. */
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	for (i = 0; i < 50; i++) {
		char to[16];

		snprintf(to, sizeof to, "p%d", i);
		msgpack_pack_array(&pk, 4);
		msgpack_pack_uint8(&pk, 0);
		msgpack_pack_uint32(&pk, 1000 + (uint32_t)i);
		pk_str(&pk, "invite.send");
		msgpack_pack_array(&pk, 1);
		msgpack_pack_map(&pk, 2);
		pk_kstr(&pk, "from", "pipe");
		pk_kstr(&pk, "to", i == 25 ? "pipe" : to);
	}
	cr_send_raw(c, sb.data, sb.size);
	msgpack_unpacked_init(&up);
	for (i = 0; i < 50; i++) {
		if (cr_read_message(c, &up, WAIT_MS) != 0)
			break;
		a = up.data.via.array.ptr;
		if (a[1].via.u64 != 1000 + (uint64_t)i)
			inorder = 0;
		if (a[2].type == MSGPACK_OBJECT_NIL)
			okcount++;
	}
	msgpack_unpacked_destroy(&up);
	msgpack_sbuffer_destroy(&sb);
	ok(i == 50 && inorder, "50 pipelined requests answered in order");
	is_int(okcount, 49, "the one that broke a rule failed alone");
	cr_reply_free(&r);
	call(c, &r, "invite.list", "member:s box:s limit:u", "pipe", "sent",
	    (uint64_t)100);
	is_int(rnum(&r, "items"), 49, "the other 49 were stored");
	test_pipeline_reads();
}

static void
test_info(void)
{
	struct dproc p;
	struct cr_client *ic;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked up;
	const msgpack_object *next;

	/* A send and server.info in one batch: info sees the new deadline. */
	dproc_init(&p);
	ok(dproc_start(&p, T0, NULL) == 0, "a second connreqd starts");
	ic = dconnect(&p);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 4);
	msgpack_pack_uint8(&pk, 0);
	msgpack_pack_uint8(&pk, 1);
	pk_str(&pk, "invite.send");
	msgpack_pack_array(&pk, 1);
	msgpack_pack_map(&pk, 2);
	pk_kstr(&pk, "from", "x");
	pk_kstr(&pk, "to", "y");
	msgpack_pack_array(&pk, 4);
	msgpack_pack_uint8(&pk, 0);
	msgpack_pack_uint8(&pk, 2);
	pk_str(&pk, "server.info");
	msgpack_pack_array(&pk, 0);
	cr_send_raw(ic, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	msgpack_unpacked_init(&up);
	cr_read_message(ic, &up, WAIT_MS);
	cr_read_message(ic, &up, WAIT_MS);
	next = cr_get(cr_get(&up.data.via.array.ptr[3], "deadlines"), "next");
	ok(next != NULL && next->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
	    next->via.u64 == T0 + 7 * DAY,
	    "server.info right after a send names its first deadline next (the recipient's reminder)");
	msgpack_unpacked_destroy(&up);
	cr_close(ic);
	dproc_cleanup(&p);

	cr_reply_free(&r);
	ok(call(c, &r, "server.info", "") == 0, "server.info");
	ok(rnum(&r, "virtual_clock") == 1 && rnum(&r, "started_at") == T0 &&
	    rnum(&r, "now") > T0, "reports the virtual clock");
#ifdef HARNESS_PG
	is_str(rstr(&r, "store.backend"), "postgresql", "and its store's backend");
#else
	is_str(rstr(&r, "store.backend"), "lmdb", "and its store's backend");
#endif
	ok(rnum(&r, "counts.pending") > 0 && rnum(&r, "counts.accepted") >= 3 &&
	    rnum(&r, "counts.withdrawn") >= 2 && rnum(&r, "counts.expired") == 2 &&
	    rnum(&r, "counts.connections") == 2, "and the counts");
	diag("pending %lld accepted %lld withdrawn %lld expired %lld ignored %lld connections %lld",
	    (long long)rnum(&r, "counts.pending"),
	    (long long)rnum(&r, "counts.accepted"),
	    (long long)rnum(&r, "counts.withdrawn"),
	    (long long)rnum(&r, "counts.expired"),
	    (long long)rnum(&r, "counts.ignored"),
	    (long long)rnum(&r, "counts.connections"));
	is_int(rnum(&r, "policy.expire_after"), 180 * DAY, "and the policy");
	is_int(rnum(&r, "policy.resend_cooldown.0"), 21 * DAY, "cooldown 21d");
	ok(rnum(&r, "deadlines.count") > 0 && rnum(&r, "deadlines.next") > 0,
	    "and the deadlines");
}

static void
test_real_clock(void)
{
	struct dproc p;
	struct cr_client *rc;

	dproc_init(&p);
	ok(dproc_start(&p, 0, NULL) == 0, "a daemon on the real clock starts");
	rc = dconnect(&p);
	cr_reply_free(&r);
	ok(rc != NULL && call(rc, &r, "clock.advance", "seconds:u",
	    (uint64_t)5) == 1 && refused(&r, "NOT_PERMITTED"),
	    "clock.advance without --virtual-clock: NOT_PERMITTED");
	cr_reply_free(&r);
	call(rc, &r, "server.info", "");
	ok(rnum(&r, "virtual_clock") == 0 &&
	    llabs(rnum(&r, "now") - (int64_t)time(NULL)) < 5,
	    "it tells the real time");
	cr_close(rc);
	is_int(dproc_stop(&p, SIGTERM), 0, "SIGTERM: exit 0");
	dproc_cleanup(&p);
}

__attribute__((unused)) static void
test_store_full(void)
{
	static const char *const extra[] = { "--map-size-max", "512K", NULL };
	struct dproc p;
	struct cr_client *fc;
	char note[1200], to[32];
	int i, rc = 0;

	dproc_init(&p);
	dproc_config(&p, NO_LIMITS);
	ok(dproc_start(&p, T0, extra) == 0, "a daemon with a 512K store");
	fc = dconnect(&p);
	memset(note, 'x', 299);
	note[299] = '\0';
	for (i = 0; i < 5000 && fc != NULL; i++) {
		snprintf(to, sizeof to, "member-%d", i);
		cr_reply_free(&r);
		rc = call(fc, &r, "invite.send", "from:s to:s note:s", "filler",
		    to, note);
		if (rc != 0)
			break;
	}
	ok(rc == 1 && refused(&r, "STORE_FULL"),
	    "it fills: STORE_FULL after %d", i);
	cr_reply_free(&r);
	ok(call(fc, &r, "invite.list", "member:s box:s limit:u", "filler",
	    "sent", (uint64_t)5) == 0 && rnum(&r, "items") == 5,
	    "reads are still served");
	if (r.error)
		diag("%s: %s", r.code, r.message);
	ok(dproc_alive(&p), "the daemon keeps running");
	cr_close(fc);
	is_int(dproc_stop(&p, SIGTERM), 0, "and stops cleanly");
	{
		/* Restarted a year on, every invitation overdue, no room to
		 * expire them: it starts and serves reads anyway. */
		static const char *const again[] = { "--map-size-max", "512K",
		    "--virtual-clock=1798761600", NULL };

		ok(dproc_start(&p, 0, again) == 0,
		    "a full store with overdue deadlines still starts");
		fc = dconnect(&p);
		cr_reply_free(&r);
		ok(fc != NULL && call(fc, &r, "invite.list", "member:s box:s limit:u",
		    "filler", "sent", (uint64_t)2) == 0 && rnum(&r, "items") == 2,
		    "and serves reads");
		ok(dproc_logged(&p, "overdue deadlines wait"), "saying why deadlines wait");
		cr_close(fc);
	}
	dproc_cleanup(&p);
}

/* The socket is there only once it takes connections, and as the user's
 * alone: a client that connects the moment the path appears (a test, a
 * supervisor, a web app restarted with it) is never refused nor finds
 * the socket open to others. Found by the Python package's tests, once in
 * about 30 starts under load, when connreqd bound the path, then chmod
 * and listen: here listen() waits 300 ms (tests/faults/slowlisten.c), and
 * the test spins on the path from the daemon's start, RUNS times. */
#define LISTEN_RUNS 3
__attribute__((unused)) static void
test_listen_atomic(void)
{
	const char *bin = getenv("CONNREQ_BIN");
	char path[512], shim[600], asan[1100];
	const char *old = getenv("ASAN_OPTIONS");
	struct sockaddr_un sun;
	struct stat st;
	int run, fd, refused = 0, open_mode = 0, seen = 0, status;
	int64_t start;
	struct dproc q;
	pid_t pid;

	snprintf(path, sizeof path, "%s/connreqd", bin ? bin : "build/bin");
	snprintf(shim, sizeof shim, "%s/../lib/libslowlisten.so",
	    bin ? bin : "build/bin");
	/* Under ASan the shim comes after ASan's runtime (as faults.h). */
	snprintf(asan, sizeof asan, "verify_asan_link_order=0%s%s",
	    old != NULL ? ":" : "", old != NULL ? old : "");
	for (run = 0; run < LISTEN_RUNS; run++) {
		dproc_init(&q);
		fflush(stdout);
		if ((pid = fork()) == 0) {
			prctl(PR_SET_PDEATHSIG, SIGTERM);
			setenv("XDG_CONFIG_HOME", q.dir, 1);
			setenv("LD_PRELOAD", shim, 1);
			setenv("LISTEN_DELAY_MS", "300", 1);
			setenv("ASAN_OPTIONS", asan, 1);
			fd = open(q.log, O_WRONLY | O_CREAT | O_APPEND, 0600);
			dup2(fd, 1);
			dup2(fd, 2);
			execl(path, path, "-s", q.sock, "-d", q.store,
			    (char *)NULL);
			_exit(127);
		}
		memset(&sun, 0, sizeof sun);
		sun.sun_family = AF_UNIX;
		if (strlen(q.sock) >= sizeof sun.sun_path)
			bail_out("%s: too long a socket path", q.sock);
		memcpy(sun.sun_path, q.sock, strlen(q.sock) + 1);
		start = harness_ms();
		while (lstat(q.sock, &st) != 0 && harness_ms() - start < WAIT_MS)
			;	/* spin: the first moment it is there */
		if (lstat(q.sock, &st) == 0) {
			seen++;
			if ((st.st_mode & 0777) != 0600)
				open_mode++;
			fd = socket(AF_UNIX, SOCK_STREAM, 0);
			if (connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0 &&
			    errno == ECONNREFUSED)
				refused++;
			close(fd);
		}
		kill(pid, SIGTERM);
		waitpid(pid, &status, 0);
		dproc_cleanup(&q);
	}
	ok(seen == LISTEN_RUNS && refused == 0 && open_mode == 0,
	    "the socket's path appears only once it listens, mode 0600 (%d "
	    "starts, the path seen %d times: refused %d, another mode %d)",
	    LISTEN_RUNS, seen, refused, open_mode);
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
	test_send_and_views();
	test_expiry_and_stale();
	test_mutual_and_connections();
	test_lists_and_notes();
	test_pipeline();
	test_info();
	test_boxes();
	cr_reply_free(&r);
	cr_close(c);
	is_int(dproc_stop(&p, SIGTERM), 0, "SIGTERM: exit 0");
	dproc_cleanup(&p);
	test_real_clock();
#ifndef HARNESS_PG
	test_listen_atomic();
#endif
#ifndef HARNESS_PG
	/* LMDB's map (--map-size-max) alone fills: PostgreSQL has no
	 * map, and a full disk there is its own (53100, STORE_FULL). */
	test_store_full();
#endif
	return done_testing();
}
