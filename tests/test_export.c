/* Issue 13, a member's data: member.export gives everything the store
 * keeps about a member, each part as that member may see it: invitations
 * both ways (a withdrawn one is not in its recipient's; an ignored one is
 * pending in its sender's), connections, blocks the member made, its
 * auto-accept list, settings, stats, introductions, its retained events;
 * field by field, each invitation in every state both ways exactly as
 * invite.get and invite.list show it to the member, and its events as
 * events.read does; and `connreq export MEMBER` prints it as JSON
 * (docs/protocol.md, member.export). */
#include "harness.h"

static struct cr_client *c;
static struct cr_reply r;

static int
export(const char *member)
{
	cr_reply_free(&r);
	return call(c, &r, "member.export", "member:s", member);
}

/* The state of the first invitation of list at path in r. */
static const char *
first_state(const char *path)
{
	static char buf[64];
	const msgpack_object *a = obj_path(r.result, path), *st;

	if (a == NULL || a->type != MSGPACK_OBJECT_ARRAY || a->via.array.size == 0)
		return "(none)";
	st = cr_get(&a->via.array.ptr[0], "state");
	snprintf(buf, sizeof buf, "%.*s", st ? (int)st->via.str.size : 6,
	    st ? st->via.str.ptr : "(none)");
	return buf;
}


/* The packed bytes of o, into out (msgpack_sbuffer_init'ed here). */
static void
packed(const msgpack_object *o, msgpack_sbuffer *out)
{
	msgpack_packer pk;

	msgpack_sbuffer_init(out);
	msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
	if (o != NULL)
		msgpack_pack_object(&pk, *o);
}

/* The invitation with id in the array a, or NULL. */
static const msgpack_object *
find_inv(const msgpack_object *a, uint64_t id)
{
	const msgpack_object *v;
	uint32_t i;

	if (a == NULL || a->type != MSGPACK_OBJECT_ARRAY)
		return NULL;
	for (i = 0; i < a->via.array.size; i++)
		if ((v = cr_get(&a->via.array.ptr[i], "id")) != NULL &&
		    v->type == MSGPACK_OBJECT_POSITIVE_INTEGER && v->via.u64 == id)
			return &a->via.array.ptr[i];
	return NULL;
}

/* Whether the export's item o (NULL: absent) is, byte for byte, what
 * member sees of invitation id through invite.get (absent: NOT_FOUND) and
 * in its invite.list box (absent: in none of them); names a difference. */
static bool
same_view(const msgpack_object *o, const char *member, uint64_t id,
    char *why, size_t whylen)
{
	static const char *const boxes[] = { "sent", "received", "ignored",
	    "held" };
	struct cr_reply g, l;
	msgpack_sbuffer a, b;
	const msgpack_object *in = NULL;
	bool same = true;
	size_t i;
	int rc;

	memset(&g, 0, sizeof g);
	memset(&l, 0, sizeof l);
	packed(o, &a);
	rc = call(c, &g, "invite.get", "actor:s id:u", member, id);
	packed(rc == 0 ? cr_get(g.result, "invitation") : NULL, &b);
	if (a.size != b.size ||
	    (a.size > 0 && memcmp(a.data, b.data, a.size) != 0)) {
		snprintf(why, whylen, "invite.get %s", rc == 0 ? "differs" :
		    g.code);
		same = false;
	}
	msgpack_sbuffer_destroy(&b);
	for (i = 0; same && i < sizeof boxes / sizeof boxes[0]; i++) {
		cr_reply_free(&l);
		call(c, &l, "invite.list", "member:s box:s limit:u", member,
		    boxes[i], (uint64_t)100);
		if ((in = find_inv(cr_get(l.result, "items"), id)) != NULL)
			break;
	}
	packed(in, &b);
	if (same && (a.size != b.size ||
	    (a.size > 0 && memcmp(a.data, b.data, a.size) != 0))) {
		snprintf(why, whylen, "invite.list %s", in ? boxes[i] :
		    "(in no box)");
		same = false;
	}
	if (same)
		snprintf(why, whylen, "same");
	msgpack_sbuffer_destroy(&a);
	msgpack_sbuffer_destroy(&b);
	cr_reply_free(&g);
	cr_reply_free(&l);
	return same;
}

/* Field by field, every state an invitation may be in as each side sees
 * it: zed's export holds each invitation exactly as invite.get and
 * invite.list show it to zed, and none that those hide from zed. */
static void
test_views(void)
{
	enum { NR = 7, NS = 7 };
	static const char *const rwhat[NR] = { "pending to zed",
	    "ignored by zed", "reported spam by zed", "its sender blocked by zed",
	    "withdrawn by its sender", "accepted by zed", "held for zed" };
	static const char *const swhat[NS] = { "pending from zed",
	    "ignored by its recipient", "reported spam by its recipient",
	    "zed blocked by its recipient", "withdrawn by zed",
	    "accepted by its recipient", "reported dont_know by its recipient" };
	uint64_t rid[NR], sid[NS];
	const msgpack_object *sent, *recv;
	struct cr_reply ex;
	char who[16], why[64];
	int i;

	memset(&ex, 0, sizeof ex);
	for (i = 0; i < NR - 1; i++) {
		snprintf(who, sizeof who, "zr%d", i);
		cr_reply_free(&r);
		call(c, &r, "invite.send", "from:s to:s note:s priority:s", who,
		    "zed", "a note for zed", "high");
		rid[i] = (uint64_t)rnum(&r, "invitation.id");
	}
	cr_reply_free(&r);
	call(c, &r, "invite.ignore", "actor:s id:u", "zed", rid[1]);
	cr_reply_free(&r);
	call(c, &r, "invite.report", "actor:s id:u reason:s", "zed", rid[2],
	    "spam");
	cr_reply_free(&r);
	call(c, &r, "member.block", "actor:s other:s", "zed", "zr3");
	cr_reply_free(&r);
	call(c, &r, "invite.withdraw", "actor:s id:u", "zr4", rid[4]);
	cr_reply_free(&r);
	call(c, &r, "invite.accept", "actor:s id:u", "zed", rid[5]);
	for (i = 0; i < NS; i++) {
		snprintf(who, sizeof who, "zs%d", i);
		cr_reply_free(&r);
		call(c, &r, "invite.send", "from:s to:s note:s priority:s",
		    "zed", who, "a note from zed", "high");
		sid[i] = (uint64_t)rnum(&r, "invitation.id");
	}
	cr_reply_free(&r);
	call(c, &r, "invite.ignore", "actor:s id:u", "zs1", sid[1]);
	cr_reply_free(&r);
	call(c, &r, "invite.report", "actor:s id:u reason:s", "zs2", sid[2],
	    "spam");
	cr_reply_free(&r);
	call(c, &r, "member.block", "actor:s other:s", "zs3", "zed");
	cr_reply_free(&r);
	call(c, &r, "invite.withdraw", "actor:s id:u", "zed", sid[4]);
	cr_reply_free(&r);
	call(c, &r, "invite.accept", "actor:s id:u", "zs5", sid[5]);
	cr_reply_free(&r);
	call(c, &r, "invite.report", "actor:s id:u reason:s", "zs6", sid[6],
	    "dont_know");
	/* Held: zed holds invitations from senders with no mutual. */
	cr_reply_free(&r);
	call(c, &r, "member.settings.set", "member:s hold_no_mutual:b", "zed",
	    1);
	cr_reply_free(&r);
	call(c, &r, "invite.send", "from:s to:s note:s", "zr6", "zed",
	    "held for zed");
	rid[6] = (uint64_t)rnum(&r, "invitation.id");
	cr_reply_free(&r);
	ok(rid[6] > 0 && sid[NS - 1] > 0 && call(c, &r, "invite.list",
	    "member:s box:s", "zed", "held") == 0 && rnum(&r, "items") == 1,
	    "zed's world: every state both ways, one held");

	ok(call(c, &ex, "member.export", "member:s", "zed") == 0,
	    "member.export zed");
	sent = cr_get(ex.result, "sent");
	recv = cr_get(ex.result, "received");
	for (i = 0; i < NR; i++) {
		const msgpack_object *o = find_inv(recv, rid[i]);

		ok(same_view(o, "zed", rid[i], why, sizeof why),
		    "received, %s: %s as invite.get and invite.list show zed (%s)",
		    rwhat[i], o ? "there," : "absent,", why);
	}
	for (i = 0; i < NS; i++) {
		const msgpack_object *o = find_inv(sent, sid[i]);

		ok(o != NULL && same_view(o, "zed", sid[i], why, sizeof why),
		    "sent, %s: there, as invite.get and invite.list show zed (%s)",
		    swhat[i], why);
	}
	{
		msgpack_sbuffer a, b;

		packed(cr_get(ex.result, "events"), &a);
		cr_reply_free(&r);
		call(c, &r, "events.read", "member:s after:u limit:u", "zed",
		    (uint64_t)0, (uint64_t)1000);
		packed(cr_get(r.result, "events"), &b);
		ok(a.size > 1 && a.size == b.size &&
		    memcmp(a.data, b.data, a.size) == 0,
		    "events: byte for byte what events.read gives zed (%zu bytes)",
		    a.size);
		msgpack_sbuffer_destroy(&a);
		msgpack_sbuffer_destroy(&b);
	}
	is_int(recv != NULL ? (int64_t)recv->via.array.size : -1, NR - 1,
	    "received: %d, all but the withdrawn one", NR - 1);
	is_int(sent != NULL ? (int64_t)sent->via.array.size : -1, NS,
	    "sent: %d", NS);
	cr_reply_free(&ex);
}

int
main(void)
{
	struct dproc p;
	uint64_t id;
	char cmd[600];
	FILE *f;
	char out[4096];
	size_t n;

	dproc_init(&p);
	if (!ok(dproc_start(&p, T0, NULL) == 0, "connreqd starts"))
		return done_testing();
	c = dconnect(&p);
	id = send_inv(c, &r, "ann", "bob");
	cr_reply_free(&r);
	call(c, &r, "invite.accept", "actor:s id:u", "bob", id);
	id = send_inv(c, &r, "cat", "ann");
	cr_reply_free(&r);
	call(c, &r, "invite.ignore", "actor:s id:u", "ann", id);
	id = send_inv(c, &r, "ann", "dan");
	cr_reply_free(&r);
	call(c, &r, "invite.withdraw", "actor:s id:u", "ann", id);
	cr_reply_free(&r);
	call(c, &r, "member.block", "actor:s other:s", "ann", "eve");
	cr_reply_free(&r);
	call(c, &r, "member.auto_accept.add", "member:s other:s", "ann", "fay");
	id = send_inv(c, &r, "bob", "gus");
	cr_reply_free(&r);
	call(c, &r, "invite.accept", "actor:s id:u", "gus", id);
	cr_reply_free(&r);
	ok(call(c, &r, "intro.ask", "from:s via:s to:s", "ann", "bob", "gus") == 0,
	    "a graph around ann: sent, received, withdrawn, blocked, introduced");

	is_int(export("ann"), 0, "member.export ann");
	is_int(rnum(&r, "version"), 1, "version 1");
	is_str(rstr(&r, "member"), "ann", "member");
	is_str(rstr(&r, "settings.member"), "ann", "settings, as member.settings.get");
	is_int(rnum(&r, "stats.sent"), 2, "stats, as stats.get: 2 sent");
	is_int(rnum(&r, "sent"), 2, "sent: 2, the withdrawn one too");
	is_int(rnum(&r, "received"), 1, "received: the ignored one (she sees it)");
	is_str(first_state("received"), "ignored", "... as ignored");
	is_int(rnum(&r, "connections"), 1, "connections: bob");
	is_int(rnum(&r, "blocked"), 1, "blocked: eve");
	is_int(rnum(&r, "auto_accept"), 1, "auto_accept: fay");
	is_int(rnum(&r, "introductions_asked"), 1, "introductions asked: 1");
	is_int(rnum(&r, "introductions_received"), 0, "introductions received: 0");
	ok(rnum(&r, "events") >= 2, "her retained events (%lld)",
	    (long long)rnum(&r, "events"));
	is_int(rnum(&r, "truncated"), 0, "nothing truncated");

	/* Privacy, from the other side. */
	is_int(export("dan"), 0, "member.export dan");
	is_int(rnum(&r, "received"), 0,
	    "dan: the invitation withdrawn from him is not there");
	is_int(export("cat"), 0, "member.export cat");
	is_str(first_state("sent"), "pending",
	    "cat: the invitation ann ignored is pending to him");
	is_int(export("bob"), 0, "member.export bob");
	is_int(rnum(&r, "introductions_received"), 1,
	    "bob: the introduction asked of him");
	is_int(export("nobody"), 0, "an unknown member: an empty document");
	is_int(rnum(&r, "sent") + rnum(&r, "received") + rnum(&r, "connections"),
	    0, "... with nothing in it");

	test_views();

	snprintf(cmd, sizeof cmd, "'%s/connreq' -s '%s' export ann",
	    getenv("CONNREQ_BIN"), p.sock);
	f = popen(cmd, "r");
	n = f ? fread(out, 1, sizeof out - 1, f) : 0;
	out[n] = '\0';
	ok(f != NULL && pclose(f) == 0 && out[0] == '{' &&
	    strstr(out, "\"member\":\"ann\"") != NULL &&
	    strstr(out, "\"blocked\":[\"eve\"]") != NULL,
	    "connreq export ann prints the document as JSON");
	cr_reply_free(&r);
	cr_close(c);
	is_int(dproc_stop(&p, SIGTERM), 0, "it stops");
	dproc_cleanup(&p);
	return done_testing();
}
