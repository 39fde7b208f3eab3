/* member.erase against deadlines and batches: another member's digest
 * whose newest waiting invitation was the erased member's, a plan of
 * another member that picked an invitation to it (skipped when its turn
 * comes), introductions through it and to it in every state, resend
 * chains and an ignored-then-unignored invitation, two erasures in one
 * pipelined batch, an erasure between two sends to it in one batch, the
 * same id used again after (cooldowns and connections start over), and
 * its own restriction with its deadline pending. The others' deadlines
 * keep firing; connreqd --check is clean after. */
#include "harness.h"

static struct cr_client *c;
static struct cr_reply r;

static int
act(const char *method, const char *actor, uint64_t id)
{
	int rc;

	cr_reply_free(&r);
	rc = call(c, &r, method, "actor:s id:u", actor, id);
	if (rc != 0)
		diag("%s %s %llu: %s", method, actor, (unsigned long long)id,
		    r.code);
	return rc;
}

static int
erase(const char *member)
{
	cr_reply_free(&r);
	return call(c, &r, "member.erase", "member:s", member);
}

/* The last event of type in member's feed, in r; NULL: none. */
static const msgpack_object *
last_of(const char *member, const char *type)
{
	const msgpack_object *evs, *e, *ty, *hit = NULL;
	uint32_t i;

	cr_reply_free(&r);
	call(c, &r, "events.read", "member:s after:u limit:u", member,
	    (uint64_t)0, (uint64_t)1000);
	evs = cr_get(r.result, "events");
	for (i = 0; evs != NULL && i < evs->via.array.size; i++) {
		e = &evs->via.array.ptr[i];
		ty = cr_get(e, "type");
		if (ty != NULL && ty->via.str.size == strlen(type) &&
		    memcmp(ty->via.str.ptr, type, ty->via.str.size) == 0)
			hit = e;
	}
	return hit;
}

static uint32_t
erase_pipelined(const char *member)
{
	msgpack_packer *pk = cr_request(c, "member.erase");

	msgpack_pack_map(pk, 1);
	pk_str(pk, "member");
	pk_str(pk, member);
	return (uint32_t)cr_send(c);
}

static int64_t
num(const msgpack_object *o, const char *key)
{
	const msgpack_object *v = o ? cr_get(o, key) : NULL;

	return v == NULL || v->type == MSGPACK_OBJECT_NIL ? -1 :
	    (int64_t)v->via.u64;
}

/* Each message of the all feed and whether any names who (a member id
 * value, as a fixstr), but member.erased. */
static unsigned
naming(const char *who)
{
	const msgpack_object *evs, *e, *ty;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	char want[80];
	size_t n = strlen(who);
	unsigned hits = 0;
	uint32_t i;

	want[0] = (char)(0xa0 | n);
	memcpy(want + 1, who, n);
	cr_reply_free(&r);
	call(c, &r, "events.read", "all:b after:u limit:u", 1, (uint64_t)0,
	    (uint64_t)1000);
	evs = cr_get(r.result, "events");
	for (i = 0; evs != NULL && i < evs->via.array.size; i++) {
		e = &evs->via.array.ptr[i];
		ty = cr_get(e, "type");
		if (ty->via.str.size == 13 &&
		    memcmp(ty->via.str.ptr, "member.erased", 13) == 0)
			continue;
		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		msgpack_pack_object(&pk, *e);
		if (memmem(sb.data, sb.size, want, n + 1) != NULL)
			hits++;
		msgpack_sbuffer_destroy(&sb);
	}
	return hits;
}

/* Whether r's result, packed again, holds who as a string. */
static bool
result_holds(const char *who)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	char want[80];
	size_t n = strlen(who);
	bool hit;

	if (r.result == NULL)
		return false;
	want[0] = (char)(0xa0 | n);
	memcpy(want + 1, who, n);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_object(&pk, *r.result);
	hit = memmem(sb.data, sb.size, want, n + 1) != NULL;
	msgpack_sbuffer_destroy(&sb);
	return hit;
}

/* Every read method, for each member of others (and for who itself), and
 * invite.get of every id up to max: how many answers name who. */
static unsigned
traces(const char *who, const char *const *others, uint64_t max)
{
	static const char *const boxes[] = { "sent", "received", "ignored",
	    "held" };
	const char *m;
	unsigned hits = 0;
	uint64_t id;
	size_t i, b;

	for (i = 0; (m = i == 0 ? who : others[i - 1]) != NULL; i++) {
#define READ(...) do { cr_reply_free(&r); call(c, &r, __VA_ARGS__); \
	if (result_holds(who) && strcmp(m, who) != 0) hits++; } while (0)
		for (b = 0; b < 4; b++)
			READ("invite.list", "member:s box:s", m, boxes[b]);
		READ("invite.history", "a:s b:s", m, who);
		READ("connection.list", "member:s", m);
		READ("connection.mutual", "a:s b:s", m, who);
		READ("intro.list", "member:s box:s", m, "asked");
		READ("intro.list", "member:s box:s", m, "received");
		READ("plan.list", "member:s", m);
		READ("stats.get", "member:s", m);
		READ("invite.advise", "member:s", m);
		READ("member.export", "member:s", m);
		READ("member.settings.get", "member:s", m);
		READ("member.auto_accept.list", "member:s", m);
		READ("events.read", "member:s after:u limit:u", m, (uint64_t)0,
		    (uint64_t)1000);
#undef READ
		if (strcmp(m, who) == 0) {
			/* Its own answers name it as whom they are of, and
			 * nothing else. */
			cr_reply_free(&r);
			call(c, &r, "member.export", "member:s", m);
			if (rnum(&r, "sent") + rnum(&r, "received") +
			    rnum(&r, "connections") != 0)
				hits++;
		}
	}
	for (id = 1; id <= max; id++) {
		cr_reply_free(&r);
		call(c, &r, "invite.get", "id:u", id);
		if (result_holds(who))
			hits++;
	}
	return hits;
}

int
main(void)
{
	struct dproc p;
	const msgpack_object *ev;
	uint64_t i1, i2, i3, i4, old, re, ig, plan, h1, h2, h3, h4, h5, k;
	uint32_t m[4];
	struct cr_reply rr;
	int64_t now, t_cat;

	dproc_init(&p);
	dproc_config(&p, NO_LIMITS "[health]\nreports_to_restrict = 1\n");
	if (!ok(dproc_start(&p, T0, NULL) == 0, "connreqd starts"))
		return done_testing();
	c = dconnect(&p);

	/* cat's stale invitations: to xav, yul, then ann (newest). */
	i2 = send_id(c, &r, "cat", "xav");
	i3 = send_id(c, &r, "cat", "yul");
	i4 = send_id(c, &r, "cat", "ann");

	/* A resend chain to ann and one ignored then unignored. */
	old = send_id(c, &r, "dee", "ann");
	act("invite.withdraw", "dee", old);
	advance(c, &r, 40 * 86400);
	cr_reply_free(&r);
	call(c, &r, "invite.resend", "actor:s id:u", "dee", old);
	re = (uint64_t)rnum(&r, "invitation.id");
	ok(re != 0 && rnum(&r, "invitation.resend_of") == (int64_t)old,
	    "dee resends %llu as %llu", (unsigned long long)old,
	    (unsigned long long)re);
	ig = send_id(c, &r, "eli", "ann");
	act("invite.ignore", "ann", ig);
	act("invite.unignore", "ann", ig);

	/* Introductions: ann knows bob and nat; bob knows lee. */
	act("invite.accept", "bob", send_id(c, &r, "ann", "bob"));
	act("invite.accept", "nat", send_id(c, &r, "ann", "nat"));
	act("invite.accept", "lee", send_id(c, &r, "bob", "lee"));
	act("invite.accept", "lee", send_id(c, &r, "nat", "lee"));
	act("invite.accept", "oma", send_id(c, &r, "nat", "oma"));
	cr_reply_free(&r);
	call(c, &r, "intro.ask", "from:s via:s to:s", "bob", "ann", "nat");
	h1 = (uint64_t)rnum(&r, "introduction.id");	/* via ann, asked */
	cr_reply_free(&r);
	call(c, &r, "intro.ask", "from:s via:s to:s", "nat", "ann", "bob");
	h2 = (uint64_t)rnum(&r, "introduction.id");	/* via ann, declined */
	act("intro.decline", "ann", h2);
	cr_reply_free(&r);
	call(c, &r, "intro.ask", "from:s via:s to:s", "lee", "bob", "ann");
	h3 = (uint64_t)rnum(&r, "introduction.id");	/* to ann, forwarded */
	act("intro.forward", "bob", h3);
	cr_reply_free(&r);
	call(c, &r, "intro.ask", "from:s via:s to:s", "ann", "nat", "oma");
	h4 = (uint64_t)rnum(&r, "introduction.id");	/* from ann, asked */
	cr_reply_free(&r);
	call(c, &r, "intro.ask", "from:s via:s to:s", "lee", "nat", "oma");
	h5 = (uint64_t)rnum(&r, "introduction.id");	/* nobody's ann */
	ok(h1 + 1 > 1 && h2 + 1 > 1 && h3 + 1 > 1 && h4 + 1 > 1 && h5 + 1 > 1,
	    "five introductions");

	cr_reply_free(&r);
	ok(call(c, &r, "plan.withdraw_stale",
	    "member:s older_than:u per_day:u max_priority:s", "cat",
	    (uint64_t)86400, (uint64_t)1, "high") == 0,
	    "cat's clean-up plan, 1 a day");
	plan = (uint64_t)rnum(&r, "plan.id");
	is_int(rnum(&r, "plan.total"), 3, "... picks 3 (xav, yul, ann)");
	is_int(rnum(&r, "plan.done"), 1, "... withdraws one now");

	/* fay's hourly digest: cat's invitation, then ann's, the newest. */
	cr_reply_free(&r);
	call(c, &r, "member.settings.set", "member:s digest_every:u", "fay",
	    (uint64_t)3600);
	cr_reply_free(&r);
	call(c, &r, "member.settings.set", "member:s digest_every:u", "gil",
	    (uint64_t)3600);
	i1 = send_id(c, &r, "cat", "fay");
	t_cat = advance(c, &r, 0);
	advance(c, &r, 10);
	send_id(c, &r, "ann", "fay");
	send_id(c, &r, "ann", "gil");		/* gil: only ann's waits */

	/* ann restricted by a report of hers, its deadline pending. */
	cr_reply_free(&r);
	call(c, &r, "invite.report", "actor:s id:u reason:s", "zed",
	    send_id(c, &r, "ann", "zed"), "spam");
	cr_reply_free(&r);
	call(c, &r, "stats.get", "member:s", "ann");
	ok(rnum(&r, "restricted_until") > 0, "ann is restricted");

	{
		static const char *const others[] = { "bob", "cat", "dee",
		    "eli", "fay", "gil", "lee", "nat", "oma", "xav", "yul",
		    "zed", NULL };
		unsigned before = traces("ann", others, 60);

		ok(before >= 20, "before: %u reads name ann", before);
	}
	now = advance(c, &r, 0);
	is_int(erase("ann"), 0, "erase ann");
	is_int(rnum(&r, "introductions"), 4,
	    "4 introductions: via her (2), to her, from her");
	is_int(naming("ann"), 0, "no event names ann but member.erased");
	{
		static const char *const others[] = { "bob", "cat", "dee",
		    "eli", "fay", "gil", "lee", "nat", "oma", "xav", "yul",
		    "zed", NULL };

		is_int(traces("ann", others, 60), 0,
		    "no read of any other member's, nor invite.get of any id, names ann");
	}

	/* Views. */
	cr_reply_free(&r);
	call(c, &r, "intro.get", "actor:s id:u", "lee", h5);
	is_str(rstr(&r, "introduction.state"), "asked",
	    "lee's introduction through nat stays");
	cr_reply_free(&r);
	call(c, &r, "intro.get", "actor:s id:u", "bob", h1);
	ok(refused(&r, "NOT_FOUND"), "bob's through ann: gone");
	cr_reply_free(&r);
	call(c, &r, "invite.get", "actor:s id:u", "dee", re);
	ok(refused(&r, "NOT_FOUND"), "dee's resend: gone");
	cr_reply_free(&r);
	call(c, &r, "invite.history", "a:s b:s", "dee", "ann");
	is_int(rnum(&r, "items"), 0, "invite.history dee ann: empty");
	(void)old;
	cr_reply_free(&r);
	call(c, &r, "connection.mutual", "a:s b:s", "bob", "nat");
	is_int(rnum(&r, "items"), 1, "bob and nat: lee alone in common (%s)",
	    r.error ? r.code : "");
	cr_reply_free(&r);
	call(c, &r, "stats.get", "member:s", "cat");
	is_int(rnum(&r, "pending"), 2, "cat: 2 pending (fay... yul)");

	/* Deadlines: fay's digest counts cat's alone; gil gets none. */
	advance(c, &r, 3600);
	ev = last_of("fay", "invitation.digest");
	ok(ev != NULL && num(ev, "count") == 1 &&
	    num(ev, "oldest_at") == t_cat, "fay's digest: 1, cat's (%lld, %lld)",
	    (long long)num(ev, "count"), (long long)num(ev, "oldest_at"));
	ok(last_of("gil", "invitation.digest") == NULL ||
	    num(last_of("gil", "invitation.digest"), "at") < now,
	    "gil: no digest after the erasure");
	/* cat's plan: the next runs withdraw yul... and skip ann's. */
	advance(c, &r, 3 * 86400);
	cr_reply_free(&r);
	call(c, &r, "plan.list", "member:s", "cat");
	is_str(rstr(&r, "items.0.state"), "done", "cat's plan is done");
	is_int(rnum(&r, "items.0.done"), 2, "... withdrew 2");
	is_int(rnum(&r, "items.0.skipped"), 1, "... skipped ann's");
	ok(strstr(feed(c, &r, "cat", 0), "plan.done") != NULL,
	    "cat was told plan.done");
	cr_reply_free(&r);
	call(c, &r, "invite.get", "actor:s id:u", "cat", i3);
	is_str(rstr(&r, "invitation.state"), "withdrawn", "yul's withdrawn");
	(void)i1; (void)i2; (void)plan;

	/* The same id again: fresh. */
	k = send_id(c, &r, "ann", "bob");
	ok(k != 0, "ann (new) invites bob: no ALREADY_CONNECTED");
	k = send_id(c, &r, "dee", "ann");
	ok(k != 0, "dee invites ann (new): no cooldown");
	cr_reply_free(&r);
	call(c, &r, "stats.get", "member:s", "ann");
	ok(rnum(&r, "restricted_until") == -1 && rnum(&r, "sent") == 1,
	    "ann (new): not restricted, 1 sent");

	/* One batch: a send to qua, qua erased, a send to qua. */
	send_id(c, &r, "pim", "rho");
	m[0] = send_pipelined(c, "ola", "qua", 0);
	m[1] = erase_pipelined("qua");
	m[2] = send_pipelined(c, "pim", "qua", 0);
	memset(&rr, 0, sizeof rr);
	cr_reply_free(&r);
	ok(cr_wait(c, m[0], &r) == 0 && r.error == NULL, "ola -> qua sent");
	i1 = (uint64_t)rnum(&r, "invitation.id");
	cr_reply_free(&r);
	ok(cr_wait(c, m[1], &r) == 0 && r.error == NULL &&
	    rnum(&r, "invitations") == 1, "qua erased: 1 invitation (%lld)",
	    (long long)rnum(&r, "invitations"));
	cr_reply_free(&r);
	ok(cr_wait(c, m[2], &r) == 0 && r.error == NULL, "pim -> qua sent");
	i2 = (uint64_t)rnum(&r, "invitation.id");
	cr_reply_free(&r);
	call(c, &r, "invite.get", "actor:s id:u", "ola", i1);
	ok(refused(&r, "NOT_FOUND"), "ola's, sent before: gone");
	cr_reply_free(&r);
	call(c, &r, "invite.list", "member:s box:s", "qua", "received");
	is_int(rnum(&r, "items"), 1, "qua holds pim's, sent after");
	is_int(rnum(&r, "items.0.id"), (int64_t)i2, "... that one");

	/* Two erasures in one batch: rho, then pim (pim -> rho, pim -> qua). */
	m[0] = erase_pipelined("rho");
	m[1] = erase_pipelined("pim");
	cr_reply_free(&r);
	ok(cr_wait(c, m[0], &r) == 0 && rnum(&r, "invitations") == 1,
	    "rho erased: pim's invitation");
	cr_reply_free(&r);
	ok(cr_wait(c, m[1], &r) == 0 && rnum(&r, "invitations") == 1,
	    "pim erased: its invitation to qua");
	is_int(naming("rho") + naming("pim"), 0,
	    "no event names rho or pim");
	cr_reply_free(&r);
	call(c, &r, "invite.list", "member:s box:s", "qua", "received");
	is_int(rnum(&r, "items"), 0, "qua holds nothing now");
	(void)plan; (void)i4; (void)ig;

	/* One batch, before and after an erasure of mo: what the sends to
	 * and from it met (a connection, a pending invitation, its block,
	 * one sent in the batch, its restriction) is gone for the sends after it
	 * (PostgreSQL: nothing stale in the batch's cache). */
	act("invite.accept", "mo", send_id(c, &r, "bob", "mo"));
	send_id(c, &r, "cat", "mo");
	cr_reply_free(&r);
	call(c, &r, "member.block", "actor:s other:s", "mo", "dan");
	cr_reply_free(&r);
	call(c, &r, "invite.report", "actor:s id:u reason:s", "vic",
	    send_id(c, &r, "mo", "vic"), "spam");
	{
		static const char *const from[] = { "bob", "cat", "dan", "ivo",
		    "mo" };
		static const char *const to[] = { "mo", "mo", "mo", "mo", "fay" };
		static const char *const want[] = { "ALREADY_CONNECTED",
		    "ALREADY_PENDING", "NOT_PERMITTED", NULL,
		    "RESTRICTED" };
		uint32_t q[11];
		size_t j;

		for (j = 0; j < 5; j++)
			q[j] = send_pipelined(c, from[j], to[j], 0);
		q[5] = erase_pipelined("mo");
		for (j = 0; j < 5; j++)
			q[6 + j] = send_pipelined(c, from[j], to[j], 0);
		for (j = 0; j < 5; j++) {
			cr_reply_free(&r);
			ok(cr_wait(c, q[j], &r) == 0 && (want[j] == NULL ?
			    r.error == NULL : refused(&r, want[j])),
			    "before: %s -> %s: %s", from[j], to[j],
			    want[j] ? want[j] : "sent");
		}
		cr_reply_free(&r);
		ok(cr_wait(c, q[5], &r) == 0 && r.error == NULL &&
		    rnum(&r, "invitations") == 4 && rnum(&r, "connections") == 1,
		    "mo erased (4 invitations, 1 connection)");
		for (j = 0; j < 5; j++) {
			cr_reply_free(&r);
			ok(cr_wait(c, q[6 + j], &r) == 0 && r.error == NULL,
			    "after: %s -> %s sent", from[j], to[j]);
		}
	}

	/* The others' deadlines run on: a year. */
	advance(c, &r, 365 * 86400);
	cr_reply_free(&r);
	call(c, &r, "invite.get", "actor:s id:u", "bob", k ? k : 0);
	cr_reply_free(&r);
	call(c, &r, "intro.get", "actor:s id:u", "lee", h5);
	is_str(rstr(&r, "introduction.state"), "expired",
	    "lee's introduction through nat expired");

	cr_reply_free(&r);
	cr_close(c);
	is_int(dproc_stop(&p, SIGTERM), 0, "it stops");
	is_int(dproc_check(&p), 0, "connreqd --check: clean");
	dproc_cleanup(&p);
	return done_testing();
}
