/* Issue 13, a member's data: member.export gives everything the store
 * keeps about a member, each part as that member may see it: invitations
 * both ways (a withdrawn one is not in its recipient's; an ignored one is
 * pending in its sender's), connections, blocks the member made, its
 * auto-accept list, settings, stats, introductions, its retained events;
 * and `connreq export MEMBER` prints it as JSON (docs/protocol.md,
 * member.export). */
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
