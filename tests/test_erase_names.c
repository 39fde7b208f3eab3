/* member.erase and hostile member ids: an id that is a prefix or a
 * superstring of another's ("ann", "anna", "ann:0123456789abcdef"), an id
 * equal to an event type, a state, a priority or an event map's key
 * ("invitation.received", "pending", "normal", "type", "member"), an id
 * equal to another invitation's note, an id spelt like another member's
 * key in the notes log ("anna:<note hash>"), and a 64-byte id. Erasing one
 * redacts the events that name it as a member and no other: the others'
 * feeds keep every event they had. connreqd --check is clean after. */
#include "harness.h"

static struct cr_client *c;
static struct cr_reply r;

/* How many events of the all feed are event.erased. */
static unsigned
redacted(void)
{
	const char *f = feed(c, &r, NULL, 0), *p = f;
	unsigned n = 0;

	while ((p = strstr(p, "event.erased")) != NULL) {
		n++;
		p++;
	}
	return n;
}

/* member's feed, copied. */
static void
feed_of(const char *member, char *out, size_t n)
{
	snprintf(out, n, "%s", feed(c, &r, member, 0));
}

/* The member id spelt like ann's key in the notes log for note n (as
 * daemon/invite.c's note_key() makes it: FNV-1a of the note, lower case). */
static void
notes_key_id(const char *n, char *out, size_t cap)
{
	uint64_t h = UINT64_C(14695981039346656037);

	for (; *n != '\0'; n++)
		h = (h ^ (unsigned char)(*n >= 'A' && *n <= 'Z' ?
		    *n - 'A' + 'a' : *n)) * UINT64_C(1099511628211);
	snprintf(out, cap, "ann:%016llx", (unsigned long long)h);
}

/* Whether r's warnings hold code. */
static bool
warned(const char *code)
{
	const msgpack_object *w = r.result ? cr_get(r.result, "warnings") : NULL;
	const msgpack_object *cd;
	uint32_t i;

	for (i = 0; w != NULL && w->type == MSGPACK_OBJECT_ARRAY &&
	    i < w->via.array.size; i++) {
		cd = cr_get(&w->via.array.ptr[i], "code");
		if (cd != NULL && cd->via.str.size == strlen(code) &&
		    memcmp(cd->via.str.ptr, code, cd->via.str.size) == 0)
			return true;
	}
	return false;
}

static const char long_id[] =
    "m123456789012345678901234567890123456789012345678901234567890123";

int
main(void)
{
	static const char *const hostile[] = {
		"ann", "invitation.received", "pending", "normal", "type",
		"member", "hello", long_id,
	};
	struct dproc p;
	char before[4096], after[4096], b2[4096], a2[4096];
	uint64_t id_anna, id_long, n0;
	int64_t evs;
	size_t i;

	ok(strlen(long_id) == 64, "a 64-byte id");
	dproc_init(&p);
	dproc_config(&p, "[limits]\nsends_per_week = 0\npending_warn = 0\n"
	    "pending_max = 0\ninvites_per_pair = 0\nwithdrawals_per_day = 0\n"
	    "duplicate_note_warn = 2\n");
	if (!ok(dproc_start(&p, T0, NULL) == 0, "connreqd starts"))
		return done_testing();
	c = dconnect(&p);

	/* Each of them invites bob and cat; anna, ann:0123456789abcdef and
	 * dee (whose notes are "hello" and "ann") invite them too. */
	for (i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
		send_id(c, &r, hostile[i], "bob");
		send_id(c, &r, hostile[i], "cat");
	}
	id_anna = send_id(c, &r, "anna", "bob");
	send_id(c, &r, "ann:0123456789abcdef", "bob");
	send_id(c, &r, "cat", "anna");
	cr_reply_free(&r);
	call(c, &r, "invite.send", "from:s to:s note:s", "dee", "bob", "hello");
	cr_reply_free(&r);
	call(c, &r, "invite.send", "from:s to:s note:s", "dee", "cat", "ann");
	cr_reply_free(&r);
	call(c, &r, "member.block", "actor:s other:s", "anna", "zoe");
	cr_reply_free(&r);
	call(c, &r, "member.auto_accept.add", "member:s other:s", "anna", "yan");
	cr_reply_free(&r);
	call(c, &r, "member.settings.set", "member:s email:s", "anna",
	    "anna@example.org");
	cr_reply_free(&r);
	call(c, &r, "member.block", "actor:s other:s", "ann", "zoe");
	id_long = send_id(c, &r, long_id, "dee");
	ok(id_long != 0, "the 64-byte id sends");
	advance(c, &r, 60);

	for (i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
		feed_of("bob", before, sizeof before);
		feed_of("cat", b2, sizeof b2);
		n0 = redacted();
		cr_reply_free(&r);
		is_int(call(c, &r, "member.erase", "member:s", hostile[i]), 0,
		    "erase '%s'", hostile[i]);
		is_int(rnum(&r, "invitations"), hostile[i] == long_id ? 3 : 2,
		    "... its invitations");
		evs = rnum(&r, "events");
		feed_of("bob", after, sizeof after);
		feed_of("cat", a2, sizeof a2);
		/* Each erasure takes out one of bob's and one of cat's. */
		ok(strlen(after) < strlen(before) &&
		    strstr(after, "event.erased") == NULL,
		    "bob's feed loses only its notice: %s", after);
		ok(strlen(a2) < strlen(b2), "cat's too: %s", a2);
		is_int(redacted() - n0, evs,
		    "the all feed: as many event.erased as it counted");
		cr_reply_free(&r);
		call(c, &r, "member.erase", "member:s", hostile[i]);
	}
	feed_of("bob", after, sizeof after);
	is_str(after, "invitation.received,invitation.received,invitation.received",
	    "bob keeps anna's, ann:0123456789abcdef's and dee's notices");
	feed_of("cat", after, sizeof after);
	is_str(after, "invitation.received", "cat keeps dee's");
	feed_of("anna", after, sizeof after);
	is_str(after, "invitation.received", "anna keeps cat's");
	cr_reply_free(&r);
	call(c, &r, "invite.get", "actor:s id:u", "anna", id_anna);
	is_str(rstr(&r, "invitation.state"), "pending",
	    "anna's invitation to bob stays");
	cr_reply_free(&r);
	call(c, &r, "invite.list", "member:s box:s", "bob", "received");
	is_int(rnum(&r, "items"), 3, "bob has 3 invitations received");
	cr_reply_free(&r);
	call(c, &r, "member.export", "member:s", "anna");
	ok(rnum(&r, "blocked") == 1 && rnum(&r, "auto_accept") == 1 &&
	    strcmp(rstr(&r, "settings.email"), "anna@example.org") == 0 &&
	    rnum(&r, "sent") == 1 && rnum(&r, "received") == 1,
	    "anna keeps her block, auto-accept, email, sent and received");
	cr_reply_free(&r);
	call(c, &r, "stats.get", "member:s", "anna");
	is_int(rnum(&r, "sent"), 1, "anna's sends log: 1");	cr_reply_free(&r);
	call(c, &r, "stats.get", "member:s", "ann:0123456789abcdef");
	ok(rnum(&r, "sent") == 1 && rnum(&r, "pending") == 1,
	    "ann:0123456789abcdef's stats: 1 sent, pending");

	/* anna sends a note; a member whose id is what anna's notes are
	 * filed under ("anna:<hash>") is erased; anna's note is still a
	 * duplicate the second time. */
	{
		char nid[80];

		notes_key_id("Hello there", nid, sizeof nid);
		memmove(nid + 4, nid + 3, strlen(nid + 3) + 1);
		nid[3] = 'a';		/* "anna:<hash>" */
		cr_reply_free(&r);
		ok(call(c, &r, "invite.send", "from:s to:s note:s", "anna",
		    "n1", "Hello there") == 0 && !warned("DUPLICATE_NOTE"),
		    "anna's note once: no warning");
		send_id(c, &r, nid, "n9");
		cr_reply_free(&r);
		is_int(call(c, &r, "member.erase", "member:s", nid), 0,
		    "erase '%s'", nid);
		cr_reply_free(&r);
		ok(call(c, &r, "invite.send", "from:s to:s note:s", "anna",
		    "n2", "Hello there") == 0 && warned("DUPLICATE_NOTE"),
		    "anna's note twice: DUPLICATE_NOTE, her notes log kept");
	}

	/* An event handled late (an expiry a long clock.advance ran) keeps
	 * its own time as event.erased. */
	{
		const msgpack_object *all, *e, *ty;
		uint64_t seq = 0, id;
		int64_t at = 0;
		uint32_t k;
		char path[64];

		cr_reply_free(&r);
		call(c, &r, "invite.send", "from:s to:s expires_in:u", "kip",
		    "lou", (uint64_t)3600);
		id = (uint64_t)rnum(&r, "invitation.id");
		advance(c, &r, 2 * 86400);
		cr_reply_free(&r);
		call(c, &r, "events.read", "all:b after:u limit:u", 1,
		    (uint64_t)0, (uint64_t)1000);
		all = cr_get(r.result, "events");
		for (k = 0; all != NULL && k < all->via.array.size; k++) {
			e = &all->via.array.ptr[k];
			ty = cr_get(e, "type");
			if (ty->via.str.size == 18 && memcmp(ty->via.str.ptr,
			    "invitation.expired", 18) == 0 &&
			    (uint64_t)cr_get(cr_get(e, "invitation"), "id")->via.u64
			    == id) {
				seq = cr_get(e, "seq")->via.u64;
				at = cr_get(e, "at")->via.i64;
			}
		}
		ok(seq != 0 && at < advance(c, &r, 0) - 86400,
		    "kip's invitation expired at its time, in a long advance");
		cr_reply_free(&r);
		call(c, &r, "member.erase", "member:s", "lou");
		cr_reply_free(&r);
		call(c, &r, "events.read", "all:b after:u limit:u", 1, seq - 1,
		    (uint64_t)1);
		snprintf(path, sizeof path, "events.0.type");
		is_str(rstr(&r, path), "event.erased", "lou erased: it is event.erased");
		is_int(rnum(&r, "events.0.at"), at, "... at the event's own time");
	}

	cr_reply_free(&r);
	cr_close(c);
	is_int(dproc_stop(&p, SIGTERM), 0, "it stops");
	is_int(dproc_check(&p), 0, "connreqd --check: clean");
	dproc_cleanup(&p);
	return done_testing();
}
