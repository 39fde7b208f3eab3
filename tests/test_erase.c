/* Issue 13, a member's data: member.erase removes a member, in one
 * transaction: its invitations both ways, the pairs, its connections, its
 * introductions (asked, asked of it, and to it), its plans, settings,
 * logs and flags, the reports it made, and every kept event that names it
 * (redacted in place: the `all` feed stays gap-free), then member.erased
 * in the `all` feed. Others keep what is theirs (a block they made), see
 * nothing of it, and their counters stay right: connreqd --check is
 * clean after it. A restriction whose deadline named an erased invitation
 * still ends. `connreq erase` asks for --yes. */
#include "harness.h"

static struct cr_client *c;
static struct cr_reply r;

static void
act(const char *method, const char *actor, uint64_t id)
{
	cr_reply_free(&r);
	if (call(c, &r, method, "actor:s id:u", actor, id) != 0)
		diag("%s %s %llu: %s", method, actor, (unsigned long long)id,
		    r.code);
	cr_reply_free(&r);
}

static int
erase(const char *member)
{
	cr_reply_free(&r);
	return call(c, &r, "member.erase", "member:s", member);
}

/* Whether obj, packed again, holds the msgpack string s. */
static bool
holds(const msgpack_object *o, const char *s)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	char want[80];
	size_t n = strlen(s);
	bool hit;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_object(&pk, *o);
	want[0] = (char)(0xa0 | n);	/* a fixstr */
	memcpy(want + 1, s, n);
	hit = memmem(sb.data, sb.size, want, n + 1) != NULL;
	msgpack_sbuffer_destroy(&sb);
	return hit;
}

/* The `all` feed: whether it is gap-free from its first event, how many
 * events name "ann" other than member.erased, and how many are
 * member.erased and event.erased. */
struct feed_facts {
	bool gap_free;
	unsigned naming, erased, redacted, total;
};

static void
all_feed(struct feed_facts *f)
{
	const msgpack_object *evs, *e;
	uint64_t last = 0, seq;
	uint32_t i;
	const char *ty;

	memset(f, 0, sizeof *f);
	f->gap_free = true;
	cr_reply_free(&r);
	call(c, &r, "events.read", "all:b after:u limit:u", 1, (uint64_t)0,
	    (uint64_t)1000);
	evs = cr_get(r.result, "events");
	for (i = 0; evs != NULL && i < evs->via.array.size; i++) {
		e = &evs->via.array.ptr[i];
		seq = cr_get(e, "seq")->via.u64;
		if (last != 0 && seq != last + 1)
			f->gap_free = false;
		last = seq;
		ty = cr_get(e, "type")->via.str.ptr;
		f->total++;
		if (strncmp(ty, "member.erased", 13) == 0)
			f->erased++;
		else if (strncmp(ty, "event.erased", 12) == 0)
			f->redacted++;
		else if (holds(e, "ann"))
			f->naming++;
	}
}

static int
run_cli(const struct dproc *p, const char *args, char *out, size_t cap)
{
	char cmd[900];
	FILE *f;
	size_t n;

	snprintf(cmd, sizeof cmd, "'%s/connreq' -s '%s' %s 2>&1",
	    getenv("CONNREQ_BIN"), p->sock, args);
	f = popen(cmd, "r");
	if (f == NULL)
		return -1;
	n = fread(out, 1, cap - 1, f);
	out[n] = '\0';
	return WEXITSTATUS(pclose(f));
}

int
main(void)
{
	struct dproc p;
	struct feed_facts ff;
	uint64_t id_fay, id_eve, id_oli, id_gus, id_nat, h;
	char out[4096];

	dproc_init(&p);
	/* One report restricts its sender: eve and pat are restricted by
	 * the invitation each sent ann. */
	dproc_config(&p, NO_LIMITS "[health]\nreports_to_restrict = 1\n");
	if (!ok(dproc_start(&p, T0, NULL) == 0, "connreqd starts"))
		return done_testing();
	c = dconnect(&p);

	/* A graph around ann. */
	act("invite.accept", "bob", send_id(c, &r, "ann", "bob"));	/* ann - bob */
	act("invite.accept", "ann", send_id(c, &r, "nat", "ann"));	/* ann - nat */
	act("invite.accept", "lee", send_id(c, &r, "bob", "lee"));	/* bob - lee */
	act("invite.accept", "bob", send_id(c, &r, "mia", "bob"));	/* bob - mia */
	send_id(c, &r, "cat", "ann");				/* pending to ann */
	act("invite.withdraw", "ann", send_id(c, &r, "ann", "dan"));	/* cooldown */
	cr_reply_free(&r);
	call(c, &r, "member.settings.set", "member:s digest_every:u", "fay",
	    (uint64_t)86400);
	id_fay = send_id(c, &r, "ann", "fay");			/* fay's digest holder */
	id_oli = send_id(c, &r, "eve", "oli");
	id_eve = send_id(c, &r, "eve", "ann");
	id_gus = send_id(c, &r, "gus", "ann");
	send_id(c, &r, "gus", "hal");
	cr_reply_free(&r);
	call(c, &r, "member.block", "actor:s other:s", "ann", "ivy");
	cr_reply_free(&r);
	call(c, &r, "member.block", "actor:s other:s", "jon", "ann");
	cr_reply_free(&r);
	call(c, &r, "member.auto_accept.add", "member:s other:s", "ann", "kim");
	cr_reply_free(&r);
	call(c, &r, "intro.ask", "from:s via:s to:s", "ann", "bob", "lee");
	cr_reply_free(&r);
	call(c, &r, "intro.ask", "from:s via:s to:s", "mia", "bob", "ann");
	cr_reply_free(&r);
	call(c, &r, "intro.ask", "from:s via:s to:s", "bob", "ann", "nat");
	h = (uint64_t)rnum(&r, "introduction.id");
	cr_reply_free(&r);
	call(c, &r, "intro.forward", "actor:s id:u", "ann", h);
	id_nat = (uint64_t)rnum(&r, "introduction.invitation");
	ok(id_nat != 0, "ann introduces bob to nat: invitation %llu",
	    (unsigned long long)id_nat);
	advance(c, &r, 30 * 86400);
	cr_reply_free(&r);
	ok(call(c, &r, "plan.withdraw_stale",
	    "member:s older_than:u per_day:u max_priority:s", "ann",
	    (uint64_t)86400, (uint64_t)1, "high") == 0,
	    "ann has a clean-up plan");
	cr_reply_free(&r);
	call(c, &r, "member.settings.set", "member:s email:s", "ann",
	    "ann@example.org");
	cr_reply_free(&r);
	call(c, &r, "invite.report", "actor:s id:u reason:s", "ann", id_eve,
	    "dont_know");
	cr_reply_free(&r);
	call(c, &r, "invite.can_send", "from:s to:s", "eve", "hal");
	ok(r.error == NULL && !cr_get(r.result, "allowed")->via.boolean,
	    "ann reports eve's invitation: eve is restricted by it");
	cr_reply_free(&r);
	call(c, &r, "invite.report", "actor:s id:u reason:s", "ann",
	    send_id(c, &r, "pat", "ann"), "spam");

	/* Erase her. */
	h = head(c, &r);
	is_int(erase("ann"), 0, "member.erase ann");
	is_str(rstr(&r, "member"), "ann", "it names her");
	is_int(rnum(&r, "invitations"), 8,
	    "8 invitations, both ways (to bob, dan, fay; from nat, cat, eve, pat, gus)");
	is_int(rnum(&r, "connections"), 2, "2 connections (bob, nat)");
	is_int(rnum(&r, "introductions"), 3,
	    "3 introductions: asked, asked of her, to her");
	is_int(rnum(&r, "plans"), 1, "her plan");
	ok(rnum(&r, "events") >= 10, "%lld events redacted",
	    (long long)rnum(&r, "events"));

	/* Nothing of her is left to read. */
	cr_reply_free(&r);
	call(c, &r, "member.export", "member:s", "ann");
	is_int(rnum(&r, "sent") + rnum(&r, "received") +
	    rnum(&r, "connections") + rnum(&r, "blocked") +
	    rnum(&r, "auto_accept") + rnum(&r, "introductions_asked") +
	    rnum(&r, "introductions_received") + rnum(&r, "plans") +
	    rnum(&r, "events"), 0, "member.export ann: empty");
	is_str(rstr(&r, "settings.email"), "nil", "... no email kept");
	all_feed(&ff);
	ok(ff.gap_free, "the all feed stays gap-free (%u events)", ff.total);
	is_int(ff.naming, 0, "no event in it names ann");
	is_int(ff.erased, 1, "one member.erased");
	ok(ff.redacted >= 10, "%u event.erased in their places", ff.redacted);
	cr_reply_free(&r);
	call(c, &r, "events.read", "all:b after:u limit:u", 1, h,
	    (uint64_t)10);
	is_str(rstr(&r, "events.0.type"), "member.erased",
	    "member.erased comes after what was there");
	is_str(rstr(&r, "events.0.member"), "ann", "... naming whom");
	ok(strstr(feed(c, &r, "fay", 0), "invitation.received") == NULL,
	    "fay's feed: ann's invitation is gone from it (%s)",
	    feed(c, &r, "fay", 0));
	is_str(feed(c, &r, "ann", 0), "", "ann's feed is empty");
	/* nat was told of bob's invitation, which ann introduced (its
	 * reminder: the received event is past the 30 days' retention):
	 * told still, without her name (the invitation keeps its
	 * parties). */
	{
		const msgpack_object *evs, *e, *inv;
		uint32_t i;
		bool told = false, named = false;

		feed(c, &r, "nat", 0);
		evs = cr_get(r.result, "events");
		for (i = 0; evs != NULL && i < evs->via.array.size; i++) {
			e = &evs->via.array.ptr[i];
			inv = cr_get(e, "invitation");
			if (inv != NULL && cr_get(inv, "id") != NULL &&
			    cr_get(inv, "id")->via.u64 == id_nat) {
				told = true;
				named = cr_get(inv, "introduced_by")->type !=
				    MSGPACK_OBJECT_NIL;
			}
		}
		ok(told && !named,
		    "nat's events of the invitation ann introduced stay, introduced_by nil");
	}

	/* The others' views. */
	cr_reply_free(&r);
	call(c, &r, "connection.list", "member:s", "bob");
	is_int(rnum(&r, "items"), 2, "bob's connections: lee and mia, not ann");
	cr_reply_free(&r);
	call(c, &r, "invite.list", "member:s box:s", "cat", "sent");
	is_int(rnum(&r, "items"), 0, "cat's sent box: the invitation to ann is gone");
	cr_reply_free(&r);
	call(c, &r, "invite.get", "actor:s id:u", "bob", id_nat);
	is_str(rstr(&r, "invitation.introduced_by"), "nil",
	    "bob's invitation to nat no longer says ann introduced it");
	is_str(rstr(&r, "invitation.state"), "pending", "... and is pending");
	cr_reply_free(&r);
	call(c, &r, "invite.get", "actor:s id:u", "gus", id_gus);
	ok(refused(&r, "NOT_FOUND"), "gus's invitation to ann: not found");
	cr_reply_free(&r);
	call(c, &r, "invite.get", "actor:s id:u", "fay", id_fay);
	ok(refused(&r, "NOT_FOUND"), "ann's invitation to fay: not found");
	cr_reply_free(&r);
	call(c, &r, "intro.list", "member:s box:s", "mia", "asked");
	is_int(rnum(&r, "items"), 0, "mia's introduction to ann is gone");
	cr_reply_free(&r);
	call(c, &r, "member.export", "member:s", "jon");
	is_int(rnum(&r, "blocked"), 1, "jon's block of ann stays his");
	cr_reply_free(&r);
	call(c, &r, "invite.can_send", "from:s to:s", "cat", "ann");
	ok(r.error == NULL && cr_get(r.result, "allowed") != NULL &&
	    cr_get(r.result, "allowed")->via.boolean,
	    "cat may invite ann again: nothing pending between them");
	cr_reply_free(&r);
	call(c, &r, "invite.can_send", "from:s to:s", "pat", "hal");
	ok(r.error == NULL && cr_get(r.result, "allowed")->via.boolean,
	    "pat, restricted only by an invitation to ann, sends again");
	cr_reply_free(&r);
	call(c, &r, "invite.can_send", "from:s to:s", "eve", "hal");
	ok(r.error == NULL && !cr_get(r.result, "allowed")->via.boolean,
	    "eve is still restricted");

	/* Again: nothing left, nothing written. */
	h = head(c, &r);
	is_int(erase("ann"), 0, "member.erase ann again");
	is_int(rnum(&r, "invitations") + rnum(&r, "connections") +
	    rnum(&r, "events"), 0, "... finds nothing");
	is_int(head(c, &r), h, "... and writes no event");
	is_int(erase("nobody"), 0, "member.erase of an unknown member: 0");
	cr_reply_free(&r);
	ok(call(c, &r, "member.erase", "") != 0 &&
	    refused(&r, "INVALID_ARGUMENT"), "no member: INVALID_ARGUMENT");
	cr_reply_free(&r);
	ok(call(c, &r, "member.erase", "member:u", (uint64_t)7) != 0 &&
	    refused(&r, "INVALID_ARGUMENT"), "a number: INVALID_ARGUMENT");

	/* The CLI asks first. */
	ok(run_cli(&p, "erase bob", out, sizeof out) == 2 &&
	    strstr(out, "--yes") != NULL,
	    "connreq erase without --yes: exit 2, names --yes");
	cr_reply_free(&r);
	call(c, &r, "connection.list", "member:s", "bob");
	is_int(rnum(&r, "items"), 2, "... and erases nothing");
	ok(run_cli(&p, "erase --yes mia", out, sizeof out) == 0 &&
	    strstr(out, "mia") != NULL, "connreq erase --yes mia: %s", out);

	/* eve's restriction named her invitation to ann: it still ends. */
	advance(c, &r, 365 * 86400);
	cr_reply_free(&r);
	call(c, &r, "invite.can_send", "from:s to:s", "eve", "hal");
	ok(r.error == NULL && cr_get(r.result, "allowed")->via.boolean,
	    "eve's restriction ended");
	ok(strstr(feed(c, &r, "eve", 0), "restriction.ended") != NULL,
	    "eve was told: %s", feed(c, &r, "eve", 0));
	cr_reply_free(&r);
	call(c, &r, "invite.get", "actor:s id:u", "eve", id_oli);
	is_str(rstr(&r, "invitation.state"), "expired",
	    "eve's other invitation expired as it would");

	cr_reply_free(&r);
	cr_close(c);
	is_int(dproc_stop(&p, SIGTERM), 0, "it stops");
	is_int(dproc_check(&p), 0, "connreqd --check: clean after the erasures");
	dproc_cleanup(&p);
	return done_testing();
}
