/* Issue 9's authorization matrix: every method of proto/vocab.h's
 * PROTO_METHODS, called through the daemon by each actor role on one
 * fixture, against what docs/protocol.md (§4, §5) says each may do; every
 * refusal's code and message compared, field by field, with the answer the
 * caller would get where there is nothing to hide; then whole "worlds"
 * compared as one member sees them: what the sender must not learn (an
 * ignore, a report, a block), what the recipient must not learn (a quiet
 * withdrawal), what a blocked member must not learn.
 *
 * The fixture (made afresh for each cell that writes, so cells do not
 * disturb each other; its members carry a number):
 *   alice sent bob #1, with a private note and priority high;
 *   carol is unrelated;
 *   mallory sent bob #M, then bob blocked mallory (#M is ignored, §5
 *   member.block);
 *   bob and dave are connected (dave's invitation, accepted);
 *   alice's clean-up plan over x1 and x2 (low priority, per_day 1) is
 *   active: its first run withdrew x1;
 *   bob and ivy are connected too, and dave asked bob to introduce him to
 *   ivy (#intro): bob is its via, the other roles no party to it.
 *
 * An unrelated member asking about #1 gets NOT_PERMITTED, as §4 says, not
 * NOT_FOUND: any caller may act as any member and invite.get without an
 * actor shows the sender's view (§5), so an id's existence is no secret.
 * What is pinned is that the answer is the same whatever became of #1.
 *
 * Not repeated here, and relied on: the recipient's view field by field in
 * the core (tests/test_domain.c test_view_fields), the received box's
 * priority filter (tests/test_e2e.c), the head that moves on a quiet server
 * (tests/test_events.c, documented in §8.3), the block that looks like a
 * closed door in invite.can_send (tests/test_domain.c
 * test_block_like_closed_door). */
#include "harness.h"
#include "../proto/vocab.h"

static struct dproc p;
static struct cr_client *c;
static struct cr_reply r;

#define NOTE "a private note: we met at the Lisbon offsite"
#define NONE_ID 4000000000u	/* an invitation or plan id never given */

enum who { W_SENDER, W_RECIPIENT, W_OTHER, W_BLOCKED, W_COUNT };
static const char *const who_name[W_COUNT] = {
	"sender", "recipient", "unrelated", "blocked"
};

/* What was done to the fixture after it was made: the worlds compared. */
enum variant {
	V_NONE,
	V_IGNORE,		/* bob ignored #1 */
	V_SPAM,			/* bob reported #1 as spam */
	V_DONTKNOW,		/* bob reported #1 as dont_know */
	V_BLOCK_SENDER,		/* bob blocked alice */
	V_NOBODY,		/* bob takes invitations from nobody now */
	V_WITHDRAWN,		/* alice withdrew #1 */
	V_BLOCK_RECIPIENT,	/* alice blocked bob (#1 withdrawn quietly) */
	V_NEVER,		/* alice never sent #1 */
	V_NEVER_NOBODY,		/* never sent; alice takes from nobody */
	V_NOBLOCK_NOBODY,	/* bob did not block mallory: nobody instead */
	V_UNIGNORE,		/* bob ignored #1, then put it back */
	V_HELD,			/* bob's filter held #1 (alice is new) */
};

struct fx {
	char name[W_COUNT][24];	/* alice, bob, carol, mallory */
	char dave[24], x1[24], x2[24], never[24], nora[24], ivy[24];
	uint64_t inv1, invm, invd, invx1, invx2, plan, done_plan, invi, intro;
};

static int nfx;

/* A call that must pass while the fixture is made. */
static void
must(int rc, const char *what)
{
	if (rc != 0)
		bail_out("fixture: %s: %s %s", what, r.code, r.message);
}

static uint64_t
fx_send(const char *from, const char *to, const char *prio, const char *note)
{
	cr_reply_free(&r);
	must(call(c, &r, "invite.send", "from:s to:s priority:s note:s", from,
	    to, prio, note), "invite.send");
	return (uint64_t)rnum(&r, "invitation.id");
}

static void
fx_act(const char *method, const char *actor, uint64_t id)
{
	cr_reply_free(&r);
	must(call(c, &r, method, "actor:s id:u", actor, id), method);
}

static void
fx_block(const char *actor, const char *other)
{
	cr_reply_free(&r);
	must(call(c, &r, "member.block", "actor:s other:s", actor, other),
	    "member.block");
}

static void
fx_nobody(const char *member)
{
	cr_reply_free(&r);
	must(call(c, &r, "member.settings.set", "member:s invitations_from:s",
	    member, "nobody"), "member.settings.set");
}

static uint64_t
fx_plan(const char *member, const char *max_priority)
{
	cr_reply_free(&r);
	must(call(c, &r, "plan.withdraw_stale",
	    "member:s older_than:u per_day:u max_priority:s", member,
	    (uint64_t)0, (uint64_t)1, max_priority), "plan.withdraw_stale");
	return (uint64_t)rnum(&r, "plan.id");
}

static void
fx_make(struct fx *f, enum variant v)
{
	static const char *const base[W_COUNT] = {
		"alice", "bob", "carol", "mallory"
	};
	char zoe[24], y1[24];
	int k = ++nfx, i;

	memset(f, 0, sizeof *f);
	for (i = 0; i < W_COUNT; i++)
		snprintf(f->name[i], sizeof f->name[i], "%s%d", base[i], k);
	snprintf(f->dave, sizeof f->dave, "dave%d", k);
	snprintf(f->x1, sizeof f->x1, "x1-%d", k);
	snprintf(f->x2, sizeof f->x2, "x2-%d", k);
	snprintf(f->never, sizeof f->never, "never%d", k);
	snprintf(f->nora, sizeof f->nora, "nora%d", k);
	snprintf(f->ivy, sizeof f->ivy, "ivy%d", k);
	snprintf(zoe, sizeof zoe, "zoe%d", k);
	snprintf(y1, sizeof y1, "y1-%d", k);
	const char *alice = f->name[W_SENDER], *bob = f->name[W_RECIPIENT];
	const char *mallory = f->name[W_BLOCKED];

	f->invd = fx_send(f->dave, bob, "medium", "");
	fx_act("invite.accept", bob, f->invd);
	f->invi = fx_send(f->ivy, bob, "medium", "");
	fx_act("invite.accept", bob, f->invi);
	cr_reply_free(&r);
	must(call(c, &r, "intro.ask", "from:s via:s to:s note:s", f->dave, bob,
	    f->ivy, "dave to bob"), "intro.ask");
	f->intro = (uint64_t)rnum(&r, "introduction.id");
	f->invx1 = fx_send(alice, f->x1, "low", "");
	f->invx2 = fx_send(alice, f->x2, "low", "");
	f->plan = fx_plan(alice, "low");
	if (strcmp(rstr(&r, "plan.state"), "active") != 0 ||
	    rnum(&r, "plan.done") != 1)
		bail_out("fixture: the plan should be active with x1 withdrawn");
	/* zoe's plan is done at once: a plan whose state others must not
	 * learn. nora takes invitations from nobody. */
	fx_send(zoe, y1, "low", "");
	f->done_plan = fx_plan(zoe, "low");
	fx_nobody(f->nora);
	if (v == V_HELD) {
		cr_reply_free(&r);
		must(call(c, &r, "member.settings.set",
		    "member:s hold_new_member_days:u", bob, (uint64_t)30),
		    "member.settings.set");
	}
	if (v == V_NEVER || v == V_NEVER_NOBODY)
		f->inv1 = NONE_ID;
	else
		f->inv1 = fx_send(alice, bob, "high", NOTE);
	f->invm = fx_send(mallory, bob, "medium", "");
	if (v != V_NOBLOCK_NOBODY)
		fx_block(bob, mallory);
	switch (v) {
	case V_IGNORE:
		fx_act("invite.ignore", bob, f->inv1);
		break;
	case V_UNIGNORE:
		fx_act("invite.ignore", bob, f->inv1);
		fx_act("invite.unignore", bob, f->inv1);
		break;
	case V_SPAM:
	case V_DONTKNOW:
		cr_reply_free(&r);
		must(call(c, &r, "invite.report", "actor:s id:u reason:s", bob,
		    f->inv1, v == V_SPAM ? "spam" : "dont_know"),
		    "invite.report");
		break;
	case V_BLOCK_SENDER:
		fx_block(bob, alice);
		break;
	case V_NOBODY:
	case V_NOBLOCK_NOBODY:
		fx_nobody(bob);
		break;
	case V_WITHDRAWN:
		fx_act("invite.withdraw", alice, f->inv1);
		break;
	case V_BLOCK_RECIPIENT:
		fx_block(alice, bob);
		break;
	case V_NEVER_NOBODY:
		fx_nobody(alice);
		break;
	default:
		break;
	}
	cr_reply_free(&r);
}

/* The other party for a role: alice for bob, bob for everyone else. */
static const char *
other_of(const struct fx *f, enum who w)
{
	return f->name[w == W_RECIPIENT ? W_SENDER : W_RECIPIENT];
}

/* ---- Canonical text of an answer, as one member sees it ----
 * Member names become their roles, ids their names in the fixture, and
 * "invitation N" / "plan N" in messages likewise, so that the answers of
 * two fixtures (two worlds) compare as text. seq, head and next are left
 * out: seqs are store-wide on purpose (§8.3, pinned in test_events.c). */
struct canon {
	const struct fx *f;
	char *buf;
	size_t n, len;
};

static void
cput(struct canon *k, const char *s, size_t n)
{
	if (k->len + n + 1 > k->n)
		n = k->len + 1 < k->n ? k->n - k->len - 1 : 0;
	memcpy(k->buf + k->len, s, n);
	k->len += n;
	k->buf[k->len] = '\0';
}

static void
cputs(struct canon *k, const char *s)
{
	cput(k, s, strlen(s));
}

static const char *
id_name(const struct fx *f, uint64_t id)
{
	if (id == f->inv1)
		return "#1";
	if (id == f->invm)
		return "#M";
	if (id == f->invd)
		return "#dave";
	if (id == f->invx1)
		return "#x1";
	if (id == f->invx2)
		return "#x2";
	if (id == f->plan)
		return "#plan";
	if (id == f->done_plan)
		return "#zoe-plan";
	if (id == f->invi)
		return "#ivy";
	if (id == f->intro)
		return "#intro";
	return NULL;
}

static const char *
member_role(const struct fx *f, const char *s, size_t n)
{
	static const char *const roles[] = {
		"alice", "bob", "carol", "mallory"
	};
	const char *others[] = {
		f->dave, f->x1, f->x2, f->never, f->nora, f->ivy
	};
	static const char *const onames[] = {
		"dave", "x1", "x2", "never", "nora", "ivy"
	};
	size_t i;

	for (i = 0; i < W_COUNT; i++)
		if (strlen(f->name[i]) == n && memcmp(f->name[i], s, n) == 0)
			return roles[i];
	for (i = 0; i < sizeof others / sizeof others[0]; i++)
		if (strlen(others[i]) == n && memcmp(others[i], s, n) == 0)
			return onames[i];
	return NULL;
}

/* A message with "invitation N" and "plan N" named. */
static void
cmsg(struct canon *k, const char *s, size_t n)
{
	char tmp[512], num[32];
	size_t i = 0, o = 0;

	while (i < n && o + 40 < sizeof tmp) {
		const char *words[] = { "invitation ", "plan " };
		size_t w, wl;
		int hit = 0;

		for (w = 0; w < 2 && !hit; w++) {
			wl = strlen(words[w]);
			if (i + wl < n && memcmp(s + i, words[w], wl) == 0 &&
			    s[i + wl] >= '0' && s[i + wl] <= '9') {
				size_t j = i + wl, d = 0;
				const char *nm;

				while (j < n && s[j] >= '0' && s[j] <= '9' &&
				    d + 1 < sizeof num)
					num[d++] = s[j++];
				num[d] = '\0';
				nm = id_name(k->f, strtoull(num, NULL, 10));
				o += (size_t)snprintf(tmp + o, sizeof tmp - o,
				    "%.*s%s", (int)wl, words[w],
				    nm ? nm : "(some id)");
				i = j;
				hit = 1;
			}
		}
		if (!hit)
			tmp[o++] = s[i++];
	}
	cput(k, tmp, o);
}

static void
cobj(struct canon *k, const msgpack_object *o, const char *key)
{
	char num[64];
	const char *nm;
	uint32_t i;

	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		cputs(k, "nil");
		break;
	case MSGPACK_OBJECT_BOOLEAN:
		cputs(k, o->via.boolean ? "true" : "false");
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		nm = NULL;
		if (key != NULL && (strcmp(key, "id") == 0 ||
		    strcmp(key, "resend_of") == 0 || strcmp(key, "plan") == 0))
			nm = id_name(k->f, o->via.u64) ?
			    id_name(k->f, o->via.u64) : "(new id)";
		if (nm == NULL)
			snprintf(num, sizeof num, "%llu",
			    (unsigned long long)o->via.u64);
		cputs(k, nm ? nm : num);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		snprintf(num, sizeof num, "%lld", (long long)o->via.i64);
		cputs(k, num);
		break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		snprintf(num, sizeof num, "%.6g", o->via.f64);
		cputs(k, num);
		break;
	case MSGPACK_OBJECT_STR:
		nm = member_role(k->f, o->via.str.ptr, o->via.str.size);
		if (nm != NULL)
			cputs(k, nm);
		else if (key != NULL && (strcmp(key, "message") == 0 ||
		    strcmp(key, "reason") == 0))
			cmsg(k, o->via.str.ptr, o->via.str.size);
		else
			cput(k, o->via.str.ptr, o->via.str.size);
		break;
	case MSGPACK_OBJECT_ARRAY:
		cputs(k, "[");
		for (i = 0; i < o->via.array.size; i++) {
			if (i)
				cputs(k, ",");
			cobj(k, &o->via.array.ptr[i], key);
		}
		cputs(k, "]");
		break;
	case MSGPACK_OBJECT_MAP:
		cputs(k, "{");
		for (i = 0; i < o->via.map.size; i++) {
			const msgpack_object *kk = &o->via.map.ptr[i].key;
			char kb[64];

			if (kk->type != MSGPACK_OBJECT_STR)
				continue;
			snprintf(kb, sizeof kb, "%.*s", (int)kk->via.str.size,
			    kk->via.str.ptr);
			if (strcmp(kb, "seq") == 0 || strcmp(kb, "head") == 0 ||
			    strcmp(kb, "next") == 0)
				continue;
			cputs(k, kb);
			cputs(k, ":");
			cobj(k, &o->via.map.ptr[i].val, kb);
			cputs(k, " ");
		}
		cputs(k, "}");
		break;
	default:
		cputs(k, "(other)");
	}
}

/* The answer in r as canonical text, appended to buf. */
static void
canon_reply(const struct fx *f, char *buf, size_t n, const char *label)
{
	struct canon k = { f, buf, n, strlen(buf) };

	cputs(&k, label);
	cputs(&k, " => ");
	if (r.error != NULL) {
		cputs(&k, "ERROR ");
		cobj(&k, r.error, NULL);
	} else if (r.result != NULL)
		cobj(&k, r.result, NULL);
	else
		cputs(&k, "(no answer)");
	cputs(&k, "\n");
}

/* ---- The matrix ---- */

enum outcome { ALLOW = 1, NOT_MEMBER_SCOPED };

struct row {
	int scoped;			/* 0: no row; ALLOW or NOT_MEMBER_SCOPED */
	int writes;			/* a fresh fixture for each role */
	const char *want[W_COUNT];	/* "" allowed, or the refusal's code */
};

#define ALL_OK { "", "", "", "" }
#define PARTY_ONLY(s, rc) { s, rc, "NOT_PERMITTED", "NOT_PERMITTED" }

/* From docs/protocol.md §4 and §5, method by method. Unsized and indexed by
 * PM_*: a method added at the end of PROTO_METHODS without a row fails to
 * compile (the static assertion below), one added elsewhere fails the
 * "every method has a row" test. */
static const struct row rows[] = {
	[PM_HELLO] = { NOT_MEMBER_SCOPED, 0, { "" } },
	[PM_INVITE_SEND] = { ALLOW, 1,
	    { "ALREADY_PENDING", "", "", "NOT_PERMITTED" } },
	[PM_INVITE_ACCEPT] = { ALLOW, 1, PARTY_ONLY("NOT_PERMITTED", "") },
	[PM_INVITE_IGNORE] = { ALLOW, 1, PARTY_ONLY("NOT_PERMITTED", "") },
	[PM_INVITE_WITHDRAW] = { ALLOW, 1, PARTY_ONLY("", "NOT_PERMITTED") },
	[PM_INVITE_RESEND] = { ALLOW, 1,
	    PARTY_ONLY("INVALID_STATE", "NOT_PERMITTED") },
	[PM_INVITE_CAN_SEND] = { ALLOW, 0, ALL_OK },
	[PM_INVITE_GET] = { ALLOW, 0, PARTY_ONLY("", "") },
	[PM_INVITE_LIST] = { ALLOW, 0, ALL_OK },
	[PM_INVITE_HISTORY] = { ALLOW, 0, ALL_OK },
	[PM_CONNECTION_LIST] = { ALLOW, 0, ALL_OK },
	[PM_CONNECTION_REMOVE] = { ALLOW, 1,
	    { "NOT_FOUND", "", "NOT_FOUND", "NOT_FOUND" } },
	[PM_CONNECTION_MUTUAL] = { ALLOW, 0, ALL_OK },
	[PM_MEMBER_AUTO_ACCEPT_ADD] = { ALLOW, 1, ALL_OK },
	[PM_MEMBER_AUTO_ACCEPT_REMOVE] = { ALLOW, 1, ALL_OK },
	[PM_MEMBER_AUTO_ACCEPT_LIST] = { ALLOW, 0, ALL_OK },
	[PM_SERVER_INFO] = { NOT_MEMBER_SCOPED, 0, { "" } },
	[PM_CLOCK_ADVANCE] = { NOT_MEMBER_SCOPED, 0, { "" } },
	[PM_INVITE_REPORT] = { ALLOW, 1, PARTY_ONLY("NOT_PERMITTED", "") },
	[PM_MEMBER_SETTINGS_SET] = { ALLOW, 1, ALL_OK },
	[PM_MEMBER_SETTINGS_GET] = { ALLOW, 0, ALL_OK },
	[PM_MEMBER_BLOCK] = { ALLOW, 1, ALL_OK },
	[PM_MEMBER_UNBLOCK] = { ALLOW, 1, ALL_OK },
	[PM_STATS_GET] = { ALLOW, 0, ALL_OK },
	[PM_INVITE_ADVISE] = { ALLOW, 0, ALL_OK },
	[PM_PLAN_WITHDRAW_STALE] = { ALLOW, 1,
	    { "", "NOT_FOUND", "NOT_FOUND", "" } },
	[PM_PLAN_LIST] = { ALLOW, 0, ALL_OK },
	[PM_PLAN_CANCEL] = { ALLOW, 1,
	    { "", "NOT_PERMITTED", "NOT_PERMITTED", "NOT_PERMITTED" } },
	[PM_EVENTS_SUBSCRIBE] = { ALLOW, 0, ALL_OK },
	[PM_EVENTS_UNSUBSCRIBE] = { NOT_MEMBER_SCOPED, 0, { "" } },
	[PM_EVENTS_READ] = { ALLOW, 0, ALL_OK },
	/* #intro: dave asked bob (the recipient role) for ivy; the other
	 * roles are no party to it. An ask through bob: bob is not connected
	 * to them (to mallory: blocked), and bob may not ask himself. */
	[PM_INTRO_ASK] = { ALLOW, 0, { "NOT_PERMITTED", "INVALID_ARGUMENT",
	    "NOT_PERMITTED", "NOT_PERMITTED" } },
	[PM_INTRO_FORWARD] = { ALLOW, 1, { "NOT_PERMITTED", "",
	    "NOT_PERMITTED", "NOT_PERMITTED" } },
	[PM_INTRO_DECLINE] = { ALLOW, 1, { "NOT_PERMITTED", "",
	    "NOT_PERMITTED", "NOT_PERMITTED" } },
	[PM_INTRO_GET] = { ALLOW, 0, { "NOT_PERMITTED", "", "NOT_PERMITTED",
	    "NOT_PERMITTED" } },
	[PM_INTRO_LIST] = { ALLOW, 0, ALL_OK },
	[PM_INVITE_UNIGNORE] = { ALLOW, 1,
	    PARTY_ONLY("NOT_PERMITTED", "INVALID_STATE") },
	/* Not a member's: the store's; PostgreSQL has no backups of ours. */
#ifdef HARNESS_PG
	[PM_STORE_BACKUP] = { NOT_MEMBER_SCOPED, 0, { "NOT_PERMITTED" } },
#else
	[PM_STORE_BACKUP] = { NOT_MEMBER_SCOPED, 0, { "" } },
#endif
	[PM_SERVER_METRICS] = { NOT_MEMBER_SCOPED, 0, { "" } },
	[PM_MEMBER_EXPORT] = { ALLOW, 0, ALL_OK },
	/* An operator's method, as clock.advance: it names no actor. */
	[PM_IMPORT_ROWS] = { NOT_MEMBER_SCOPED, 1, { "" } },
	/* The platform's, on a member's behalf (an account deletion). */
	[PM_MEMBER_ERASE] = { ALLOW, 1, ALL_OK },
};
_Static_assert(sizeof rows / sizeof rows[0] == PM_COUNT,
    "every method of PROTO_METHODS needs a row in the matrix");

static const char *const method_name[] = {
#define PROTO_X(id, name) name,
	PROTO_METHODS(PROTO_X)
#undef PROTO_X
};

/* Calls method m as role w on fixture f; the answer is in r. On a fresh
 * connection for events.subscribe (its notifications stay there). */
static void
run_cell(enum proto_method m, enum who w, const struct fx *f, uint64_t id)
{
	const char *me = f->name[w], *other = other_of(f, w);
	struct cr_client *s;

	cr_reply_free(&r);
	switch (m) {
	case PM_HELLO:
		call(c, &r, "hello", "");
		break;
	case PM_INVITE_SEND:
		call(c, &r, "invite.send", "from:s to:s", me, other);
		break;
	case PM_INVITE_ACCEPT:
	case PM_INVITE_IGNORE:
	case PM_INVITE_UNIGNORE:
	case PM_INVITE_WITHDRAW:
	case PM_INVITE_RESEND:
		call(c, &r, method_name[m], "actor:s id:u", me, id);
		break;
	case PM_INVITE_REPORT:
		call(c, &r, "invite.report", "actor:s id:u reason:s", me, id,
		    "spam");
		break;
	case PM_INVITE_GET:
		call(c, &r, "invite.get", "id:u actor:s", id, me);
		break;
	case PM_INVITE_CAN_SEND:
		call(c, &r, "invite.can_send", "from:s to:s", me, other);
		break;
	case PM_INVITE_LIST:
		call(c, &r, "invite.list", "member:s box:s", me,
		    w == W_RECIPIENT ? "received" : "sent");
		break;
	case PM_INVITE_HISTORY:
		call(c, &r, "invite.history", "a:s b:s", me, other);
		break;
	case PM_CONNECTION_LIST:
	case PM_MEMBER_SETTINGS_GET:
	case PM_STATS_GET:
	case PM_INVITE_ADVISE:
	case PM_PLAN_LIST:
		call(c, &r, method_name[m], "member:s", me);
		break;
	case PM_CONNECTION_REMOVE:
		/* The object: bob's connection with dave. */
		call(c, &r, "connection.remove", "actor:s other:s", me,
		    f->dave);
		break;
	case PM_CONNECTION_MUTUAL:
		call(c, &r, "connection.mutual", "a:s b:s", me, other);
		break;
	case PM_MEMBER_AUTO_ACCEPT_ADD:
	case PM_MEMBER_AUTO_ACCEPT_REMOVE:
		call(c, &r, method_name[m], "member:s other:s", me, other);
		break;
	case PM_MEMBER_AUTO_ACCEPT_LIST:
		call(c, &r, method_name[m], "member:s", me);
		break;
	case PM_SERVER_INFO:
		call(c, &r, "server.info", "");
		break;
	case PM_CLOCK_ADVANCE:
		call(c, &r, "clock.advance", "seconds:u", (uint64_t)0);
		break;
	case PM_MEMBER_SETTINGS_SET:
		call(c, &r, "member.settings.set",
		    "member:s invitations_from:s", me, "everyone");
		break;
	case PM_MEMBER_BLOCK:
	case PM_MEMBER_UNBLOCK:
		call(c, &r, method_name[m], "actor:s other:s", me, other);
		break;
	case PM_PLAN_WITHDRAW_STALE:
		call(c, &r, "plan.withdraw_stale",
		    "member:s older_than:u per_day:u max_priority:s", me,
		    (uint64_t)0, (uint64_t)1, "high");
		break;
	case PM_PLAN_CANCEL:
		call(c, &r, "plan.cancel", "actor:s id:u", me, id);
		break;
	case PM_EVENTS_SUBSCRIBE:
		s = dconnect(&p);
		call(s, &r, "events.subscribe", "member:s after:u", me,
		    (uint64_t)0);
		/* r lives on after its connection: it owns its buffer. */
		cr_close(s);
		break;
	case PM_EVENTS_UNSUBSCRIBE:
		call(c, &r, "events.unsubscribe", "");
		break;
	case PM_EVENTS_READ:
		call(c, &r, "events.read", "member:s after:u limit:u", me,
		    (uint64_t)0, (uint64_t)1000);
		break;
	case PM_INTRO_ASK:
		call(c, &r, "intro.ask", "from:s via:s to:s", me,
		    f->name[W_RECIPIENT], f->ivy);
		break;
	case PM_INTRO_FORWARD:
	case PM_INTRO_GET:
		call(c, &r, method_name[m], "actor:s id:u", me, id);
		break;
	case PM_INTRO_DECLINE:
		call(c, &r, "intro.decline", "actor:s id:u tell_sender:b", me,
		    id, 0);
		break;
	case PM_INTRO_LIST:
		call(c, &r, "intro.list", "member:s box:s", me, "received");
		break;
	case PM_STORE_BACKUP: {
		char path[400];

		snprintf(path, sizeof path, "%s/authz-backup-%s.mdb", p.dir,
		    f->name[W_SENDER]);
		call(c, &r, "store.backup", "path:s", path);
		break;
	}
	case PM_SERVER_METRICS:
		call(c, &r, "server.metrics", "");
		break;
	case PM_MEMBER_EXPORT:
		call(c, &r, "member.export", "member:s", me);
		break;
	case PM_MEMBER_ERASE:
		call(c, &r, "member.erase", "member:s", me);
		break;
	case PM_IMPORT_ROWS: {
		msgpack_packer *pk = cr_request(c, "import.rows");

		msgpack_pack_map(pk, 1);
		pk_str(pk, "rows");
		msgpack_pack_array(pk, 1);
		msgpack_pack_map(pk, 5);
		pk_str(pk, "id");
		pk_str(pk, "authz-1");
		pk_str(pk, "type");
		pk_str(pk, "connection");
		pk_str(pk, "a");
		pk_str(pk, "imp-a");
		pk_str(pk, "b");
		pk_str(pk, "imp-b");
		pk_str(pk, "since");
		msgpack_pack_uint64(pk, 1);
		cr_finish(c, &r);
		break;
	}
	default:
		break;
	}
}

/* The object of method m: #1, or alice's plan. */
static uint64_t
object_of(enum proto_method m, const struct fx *f)
{
	if (m == PM_INTRO_FORWARD || m == PM_INTRO_DECLINE ||
	    m == PM_INTRO_GET)
		return f->intro;
	return m == PM_PLAN_CANCEL ? f->plan : f->inv1;
}

/* Whether msg holds what the caller may not learn from a refusal: the note,
 * the priority, a state or how it came about, a member's name. (Each
 * refusal's whole text is also compared with the contract's.) */
static const char *
leak_in(const char *msg, const struct fx *f, int own_priority)
{
	static const char *const words[] = {
		NOTE, "high", "block", "nobody", "is ignored", "reported",
		"is withdrawn", "was withdrawn",
	};
	size_t i;

	for (i = 0; i < sizeof words / sizeof words[0]; i++)
		if (strstr(msg, words[i]) != NULL &&
		    !(own_priority && strcmp(words[i], "high") == 0))
			return words[i];
	for (i = 0; i < W_COUNT; i++)
		if (strstr(msg, f->name[i]) != NULL)
			return f->name[i];
	return NULL;
}

/* A refusal as "CODE|message|retry_at" with "invitation/plan <id>" as
 * "... N", for comparing two refusals about different objects. */
static const char *
refusal_text(char *buf, size_t n, uint64_t id)
{
	char num[32];
	const char *at;
	size_t o;

	snprintf(num, sizeof num, " %llu", (unsigned long long)id);
	o = (size_t)snprintf(buf, n, "%s|", r.error ? r.code : "(allowed)");
	at = strstr(r.message, num);
	if (id != 0 && at != NULL && at[strlen(num)] == '\0')
		o += (size_t)snprintf(buf + o, n - o, "%.*s N",
		    (int)(at - r.message), r.message);
	else
		o += (size_t)snprintf(buf + o, n - o, "%s", r.message);
	snprintf(buf + o, n - o, "|%lld", (long long)r.retry_at);
	return buf;
}

/* Checks a refusal of method m to role w: its exact message where the
 * contract gives one, no leak, and the same answer as where there is
 * nothing to hide (the twin). */
static void
check_refusal(enum proto_method m, enum who w, const struct fx *f)
{
	char got[512], twin[512], want[512];
	/* plan.withdraw_stale's message quotes the caller's own
	 * max_priority. */
	const char *leak = leak_in(r.message, f, m == PM_PLAN_WITHDRAW_STALE);
	const char *cell = method_name[m];
	uint64_t id = object_of(m, f);

	ok(leak == NULL, "%s as %s: the refusal reveals nothing (\"%s\")",
	    cell, who_name[w], leak ? leak : r.message);
	refusal_text(got, sizeof got, id);
	want[0] = '\0';
	twin[0] = '\0';
	switch (m) {
	case PM_INVITE_ACCEPT:
	case PM_INVITE_IGNORE:
	case PM_INVITE_UNIGNORE:
	case PM_INVITE_WITHDRAW:
	case PM_INVITE_RESEND:
	case PM_INVITE_REPORT:
	case PM_INVITE_GET:
		if (w == W_OTHER || w == W_BLOCKED) {
			/* Not a party: the same answer whatever the
			 * invitation's state, here one a plan withdrew. */
			snprintf(want, sizeof want, "NOT_PERMITTED|only the "
			    "sender and the recipient may see or act on "
			    "invitation N|0");
			run_cell(m, w, f, f->invx1);
			refusal_text(twin, sizeof twin, f->invx1);
		} else if (m == PM_INVITE_RESEND && w == W_SENDER) {
			snprintf(want, sizeof want, "INVALID_STATE|the "
			    "invitation is pending; only a withdrawn or "
			    "expired one can be resent|0");
		} else if (m == PM_INVITE_UNIGNORE && w == W_RECIPIENT) {
			snprintf(want, sizeof want, "INVALID_STATE|the "
			    "invitation is pending; only an ignored one that "
			    "is still open can be put back|0");
		} else {
			const char *verb = m == PM_INVITE_ACCEPT ? "accept" :
			    m == PM_INVITE_IGNORE ? "ignore" :
			    m == PM_INVITE_UNIGNORE ? "unignore" :
			    m == PM_INVITE_REPORT ? "report" :
			    m == PM_INVITE_WITHDRAW ? "withdraw" : "resend";
			snprintf(want, sizeof want, "NOT_PERMITTED|only the %s "
			    "of an invitation may %s it|0", w == W_SENDER ?
			    "recipient" : "sender", verb);
		}
		break;
	case PM_INVITE_SEND:
		if (w == W_BLOCKED) {
			/* Blocked: the closed door of "nobody", word for
			 * word (§5 member.block). */
			snprintf(want, sizeof want, "NOT_PERMITTED|this member "
			    "does not accept invitations from you|0");
			cr_reply_free(&r);
			call(c, &r, "invite.send", "from:s to:s", f->name[w],
			    f->nora);
			refusal_text(twin, sizeof twin, 0);
		} else
			snprintf(want, sizeof want, "ALREADY_PENDING|an "
			    "invitation to this member is already pending|0");
		break;
	case PM_CONNECTION_REMOVE:
		snprintf(want, sizeof want, "NOT_FOUND|you are not connected|0");
		cr_reply_free(&r);
		call(c, &r, "connection.remove", "actor:s other:s", f->name[w],
		    f->never);
		refusal_text(twin, sizeof twin, 0);
		break;
	case PM_PLAN_CANCEL:
		/* Not the plan's member: the same answer for a done plan
		 * (the state is not told). */
		snprintf(want, sizeof want, "NOT_PERMITTED|only the member a "
		    "plan works for may cancel it|0");
		run_cell(m, w, f, f->done_plan);
		refusal_text(twin, sizeof twin, f->done_plan);
		break;
	case PM_INTRO_FORWARD:
	case PM_INTRO_DECLINE:
	case PM_INTRO_GET:
		snprintf(want, sizeof want, "NOT_PERMITTED|only the member who "
		    "asked and the member asked may see or act on introduction "
		    "N|0");
		break;
	case PM_INTRO_ASK:
		snprintf(want, sizeof want, w == W_RECIPIENT ?
		    "INVALID_ARGUMENT|via must be someone other than from and "
		    "to|0" : "NOT_PERMITTED|only a member connected to both of "
		    "you can introduce you|0");
		break;
	case PM_PLAN_WITHDRAW_STALE:
		ok(strncmp(r.message, "nothing to withdraw", 19) == 0,
		    "%s as %s: \"nothing to withdraw\"", cell, who_name[w]);
		break;
	default:
		break;
	}
	if (want[0] != '\0')
		is_str(got, want, "%s as %s: the contract's code and message",
		    cell, who_name[w]);
	if (twin[0] != '\0')
		is_str(twin, got, "%s as %s: the same answer where there is "
		    "nothing to hide", cell, who_name[w]);
}

/* In an invitation map: the recipient's view carries none of the sender's
 * own fields (§3.1); the note it does. */
static int
recipient_view(const char *path)
{
	char k[96];
	int good = 1;
	const char *keys[] = { "priority", "resend_of", "attempt" };
	size_t i;

	for (i = 0; i < 3; i++) {
		snprintf(k, sizeof k, "%s.%s", path, keys[i]);
		good &= strcmp(rstr(&r, k), "nil") == 0;
	}
	snprintf(k, sizeof k, "%s.note", path);
	return good && strcmp(rstr(&r, k), NOTE) == 0;
}

static int
sender_view(const char *path)
{
	char k[96];

	snprintf(k, sizeof k, "%s.priority", path);
	if (strcmp(rstr(&r, k), "high") != 0)
		return 0;
	snprintf(k, sizeof k, "%s.attempt", path);
	return rnum(&r, k) == 1;
}

/* Whether every item (of the array at path) whose `key` is id has its
 * state want (NULL: none has that id). */
static int
item_state(const char *path, uint64_t id, const char *want)
{
	const msgpack_object *a = obj_path(r.result, path), *st, *iid;
	uint32_t i;
	int seen = 0;

	for (i = 0; a != NULL && a->type == MSGPACK_OBJECT_ARRAY &&
	    i < a->via.array.size; i++) {
		iid = cr_get(&a->via.array.ptr[i], "id");
		if (iid == NULL || iid->via.u64 != id)
			continue;
		st = cr_get(&a->via.array.ptr[i], "state");
		if (want == NULL || st == NULL ||
		    st->type != MSGPACK_OBJECT_STR ||
		    st->via.str.size != strlen(want) ||
		    memcmp(st->via.str.ptr, want, strlen(want)) != 0)
			return 0;
		seen = 1;
	}
	return want == NULL ? 1 : seen;
}

/* What an allowed answer must show, and must not. */
static void
check_allowed(enum proto_method m, enum who w, const struct fx *f)
{
	const char *cell = method_name[m], *role = who_name[w];
	char path[64];
	int64_t i, n;

	switch (m) {
	case PM_INVITE_SEND:
		if (w == W_RECIPIENT)
			ok(strcmp(rstr(&r, "invitation.state"), "accepted") == 0
			    && rnum(&r, "connection.since") > 0,
			    "%s as %s: mutual, both connected", cell, role);
		else
			is_str(rstr(&r, "invitation.state"), "pending",
			    "%s as %s: pending", cell, role);
		break;
	case PM_INVITE_ACCEPT:
		ok(strcmp(rstr(&r, "invitation.state"), "accepted") == 0 &&
		    recipient_view("invitation") &&
		    rnum(&r, "connection.since") > 0,
		    "%s as %s: accepted, in the recipient's view", cell, role);
		break;
	case PM_INVITE_IGNORE:
	case PM_INVITE_REPORT:
		ok(strcmp(rstr(&r, "invitation.state"), "ignored") == 0 &&
		    recipient_view("invitation"),
		    "%s as %s: ignored, in the recipient's view", cell, role);
		break;
	case PM_INVITE_WITHDRAW:
		ok(strcmp(rstr(&r, "invitation.state"), "withdrawn") == 0 &&
		    sender_view("invitation") &&
		    rnum(&r, "cooldown_until") > 0,
		    "%s as %s: withdrawn, with its cooldown", cell, role);
		/* Now gone for the recipient, as if it never was. */
		{
			char a[512], b[512];

			cr_reply_free(&r);
			call(c, &r, "invite.get", "id:u actor:s", f->inv1,
			    f->name[W_RECIPIENT]);
			refusal_text(a, sizeof a, f->inv1);
			cr_reply_free(&r);
			call(c, &r, "invite.get", "id:u actor:s",
			    (uint64_t)NONE_ID, f->name[W_RECIPIENT]);
			refusal_text(b, sizeof b, NONE_ID);
			ok(strcmp(a, b) == 0 &&
			    strcmp(a, "NOT_FOUND|no invitation N|0") == 0,
			    "%s as %s: the recipient gets what a nonexistent "
			    "id gives (%s / %s)", cell, role, a, b);
		}
		break;
	case PM_INVITE_GET:
		if (w == W_SENDER)
			ok(sender_view("invitation") &&
			    strcmp(rstr(&r, "invitation.note"), NOTE) == 0,
			    "%s as %s: the sender's view", cell, role);
		else
			ok(recipient_view("invitation") &&
			    strcmp(rstr(&r, "invitation.state"), "pending") == 0,
			    "%s as %s: the recipient's view", cell, role);
		break;
	case PM_INVITE_CAN_SEND:
		if (w == W_SENDER)
			ok(rnum(&r, "allowed") == 0 &&
			    strcmp(rstr(&r, "code"), "ALREADY_PENDING") == 0,
			    "%s as %s: not allowed, ALREADY_PENDING", cell, role);
		else if (w == W_BLOCKED)
			ok(rnum(&r, "allowed") == 0 &&
			    strcmp(rstr(&r, "code"), "NOT_PERMITTED") == 0 &&
			    strcmp(rstr(&r, "message"), "this member does not "
			    "accept invitations from you") == 0 &&
			    rnum(&r, "quota.pending") == 1,
			    "%s as %s: the closed door, its invitation still "
			    "pending in the quota", cell, role);
		else
			ok(rnum(&r, "allowed") == 1 &&
			    strcmp(rstr(&r, "code"), "(none)") == 0,
			    "%s as %s: allowed", cell, role);
		break;
	case PM_INVITE_LIST:
		n = rnum(&r, "items");
		if (w == W_SENDER)
			ok(n == 3 && item_state("items", f->inv1, "pending") &&
			    sender_view("items.0"),
			    "%s as %s: #1 first, the sender's view", cell, role);
		else if (w == W_RECIPIENT) {
			int good = n == 3 && recipient_view("items.0") &&
			    item_state("items", f->invm, NULL);

			for (i = 0; i < n; i++) {
				snprintf(path, sizeof path, "items.%lld.priority",
				    (long long)i);
				good &= strcmp(rstr(&r, path), "nil") == 0;
			}
			ok(good, "%s as %s: #1, dave's and ivy's, no "
			    "priority, not the blocked member's", cell, role);
		} else if (w == W_BLOCKED)
			ok(n == 1 && item_state("items", f->invm, "pending"),
			    "%s as %s: its own, still pending", cell, role);
		else
			is_int(n, 0, "%s as %s: nothing", cell, role);
		break;
	case PM_INVITE_HISTORY:
		n = rnum(&r, "items");
		if (w == W_SENDER)
			ok(n == 1 && sender_view("items.0"),
			    "%s as %s: #1, the sender's view", cell, role);
		else if (w == W_RECIPIENT)
			ok(n == 1 && recipient_view("items.0"),
			    "%s as %s: #1, the recipient's view", cell, role);
		else if (w == W_BLOCKED)
			ok(n == 1 && item_state("items", f->invm, "pending"),
			    "%s as %s: its own, pending", cell, role);
		else
			is_int(n, 0, "%s as %s: nothing", cell, role);
		break;
	case PM_CONNECTION_LIST:
		is_int(rnum(&r, "items"), w == W_RECIPIENT ? 2 : 0,
		    "%s as %s: its own connections only (dave, ivy)", cell,
		    role);
		break;
	case PM_CONNECTION_REMOVE:
		ok(strcmp(rstr(&r, "removed.b"), f->dave) == 0,
		    "%s as %s: removed", cell, role);
		break;
	case PM_MEMBER_SETTINGS_SET:
	case PM_MEMBER_SETTINGS_GET:
		ok(strcmp(rstr(&r, "member"), f->name[w]) == 0 &&
		    strcmp(rstr(&r, "invitations_from"), "everyone") == 0,
		    "%s as %s: its own settings", cell, role);
		break;
	case PM_MEMBER_BLOCK:
	case PM_MEMBER_UNBLOCK:
		ok(strcmp(rstr(&r, "other"), other_of(f, w)) == 0 &&
		    rnum(&r, "blocked") == (m == PM_MEMBER_BLOCK),
		    "%s as %s: done", cell, role);
		break;
	case PM_STATS_GET:
		is_int(rnum(&r, "pending"), w == W_SENDER ? 2 :
		    w == W_BLOCKED ? 1 : 0,
		    "%s as %s: its own open invitations (ignored ones "
		    "counted)", cell, role);
		break;
	case PM_INVITE_ADVISE:
		if (w == W_BLOCKED)
			ok(rnum(&r, "items") == 1 &&
			    strcmp(rstr(&r, "items.0.state"), "pending") == 0,
			    "%s as %s: its invitation, pending", cell, role);
		else
			is_int(rnum(&r, "items"), w == W_SENDER ? 2 : 0,
			    "%s as %s: its own invitations", cell, role);
		break;
	case PM_PLAN_WITHDRAW_STALE:
		is_int(rnum(&r, "plan.total"), w == W_SENDER ? 2 : 1,
		    "%s as %s: picks its open invitations (the blocked "
		    "member's is open: ignored, not withdrawn)", cell, role);
		break;
	case PM_PLAN_LIST:
		is_int(rnum(&r, "items"), w == W_SENDER ? 1 : 0,
		    "%s as %s: its own plans", cell, role);
		break;
	case PM_PLAN_CANCEL:
		is_str(rstr(&r, "plan.state"), "cancelled", "%s as %s: cancelled",
		    cell, role);
		break;
	case PM_EVENTS_SUBSCRIBE:
		ok(rnum(&r, "head") > 0, "%s as %s: subscribed", cell, role);
		break;
	case PM_EVENTS_READ:
		break;	/* the worlds below compare the feeds */
	case PM_INTRO_LIST:
		is_int(rnum(&r, "items"), w == W_RECIPIENT ? 1 : 0,
		    "%s as %s: the introductions asked of it", cell, role);
		break;
	case PM_MEMBER_EXPORT:
		ok(strcmp(rstr(&r, "member"), f->name[w]) == 0 &&
		    strcmp(rstr(&r, "settings.member"), f->name[w]) == 0,
		    "%s as %s: its own data", cell, role);
		break;
	case PM_MEMBER_ERASE:
		ok(strcmp(rstr(&r, "member"), f->name[w]) == 0 &&
		    rnum(&r, "invitations") >= (w == W_SENDER ||
		    w == W_RECIPIENT ? 1 : 0),
		    "%s as %s: that member erased (%lld invitations)", cell,
		    role, (long long)rnum(&r, "invitations"));
		break;
	case PM_INTRO_GET:
		is_str(rstr(&r, "introduction.state"), "asked",
		    "%s as %s: asked", cell, role);
		break;
	case PM_INTRO_FORWARD:
		is_str(rstr(&r, "introduction.state"), "forwarded",
		    "%s as %s: forwarded", cell, role);
		ok(rnum(&r, "introduction.invitation") > 0 &&
		    strcmp(rstr(&r, "invitation"), "(none)") == 0,
		    "%s as %s: its invitation's id, not the asker's view of it",
		    cell, role);
		break;
	case PM_INTRO_DECLINE:
		is_str(rstr(&r, "introduction.state"), "declined",
		    "%s as %s: declined", cell, role);
		break;
	default:
		break;
	}
}

static void
test_matrix(void)
{
	struct fx shared, fresh;
	int m, w, missing = 0;

	for (m = 0; m < PM_COUNT; m++)
		if (rows[m].scoped == 0) {
			diag("no matrix row for %s", method_name[m]);
			missing++;
		}
	is_int(missing, 0, "every method of PROTO_METHODS has a matrix row");
	fx_make(&shared, V_NONE);
	for (m = 0; m < PM_COUNT; m++) {
		const struct row *row = &rows[m];
		int nw = row->scoped == NOT_MEMBER_SCOPED ? 1 : W_COUNT;

		if (row->scoped == NOT_MEMBER_SCOPED)
			diag("%s: not member-scoped, tested once",
			    method_name[m]);
		for (w = 0; w < nw; w++) {
			const struct fx *f = &shared;

			if (row->writes) {
				fx_make(&fresh, V_NONE);
				f = &fresh;
			}
			run_cell((enum proto_method)m, (enum who)w, f,
			    object_of((enum proto_method)m, f));
			if (row->want[w][0] == '\0') {
				if (!ok(r.error == NULL, "%s as %s: allowed",
				    method_name[m], row->scoped ==
				    NOT_MEMBER_SCOPED ? "anyone" :
				    who_name[w]))
					diag("refused: %s %s", r.code,
					    r.message);
				else if (row->scoped != NOT_MEMBER_SCOPED)
					check_allowed((enum proto_method)m,
					    (enum who)w, f);
			} else {
				if (!ok(refused(&r, row->want[w]),
				    "%s as %s: refused, %s", method_name[m],
				    who_name[w], row->want[w]))
					diag("got: %s %s", r.error ? r.code :
					    "allowed", r.message);
				else
					check_refusal((enum proto_method)m,
					    (enum who)w, f);
			}
		}
	}
	/* invite.get without actor: the sender's view (§4). */
	cr_reply_free(&r);
	call(c, &r, "invite.get", "id:u", shared.inv1);
	ok(r.error == NULL && sender_view("invitation"),
	    "invite.get without actor: the sender's view");

	/* Ids are shared by invitations and plans (§3): one of the other
	 * kind is answered as an id never given, by its own member too. */
	{
		char a[512], b[512];

		cr_reply_free(&r);
		call(c, &r, "plan.cancel", "actor:s id:u",
		    shared.name[W_SENDER], shared.inv1);
		refusal_text(a, sizeof a, shared.inv1);
		cr_reply_free(&r);
		call(c, &r, "plan.cancel", "actor:s id:u",
		    shared.name[W_SENDER], (uint64_t)NONE_ID);
		refusal_text(b, sizeof b, NONE_ID);
		ok(strcmp(a, b) == 0 && strcmp(a, "NOT_FOUND|no plan N|0") == 0,
		    "plan.cancel of an invitation's id: as for no plan (%s)",
		    a);
		cr_reply_free(&r);
		call(c, &r, "invite.get", "id:u actor:s", shared.plan,
		    shared.name[W_SENDER]);
		refusal_text(a, sizeof a, shared.plan);
		cr_reply_free(&r);
		call(c, &r, "invite.get", "id:u actor:s", (uint64_t)NONE_ID,
		    shared.name[W_SENDER]);
		refusal_text(b, sizeof b, NONE_ID);
		ok(strcmp(a, b) == 0 &&
		    strcmp(a, "NOT_FOUND|no invitation N|0") == 0,
		    "invite.get of a plan's id: as for no invitation (%s)", a);

		/* A plan's withdrawal is as quiet as one by hand: x1 sees
		 * no invitation, and nothing in its feed. */
		cr_reply_free(&r);
		call(c, &r, "invite.get", "id:u actor:s", shared.invx1,
		    shared.x1);
		refusal_text(a, sizeof a, shared.invx1);
		ok(strcmp(a, b) == 0, "x1 of the invitation a plan withdrew: "
		    "as for no invitation (%s)", a);
		is_str(feed(c, &r, shared.x1, 0), "",
		    "x1's feed: its invitation.received left with it");
	}
	cr_reply_free(&r);
}

/* ---- Worlds: what one member sees, compared across what others did ---- */

/* What `me` can ask about `to` and invitation id, appended to buf as text:
 * the reads. */
static void
observe_reads(const struct fx *f, const char *me, const char *to,
    uint64_t id, char *buf, size_t n)
{
	static const char *const acts[] = {
		"invite.accept", "invite.ignore", "invite.resend",
	};
	size_t i;

#define OBS(label_, ...) do { \
	cr_reply_free(&r); \
	__VA_ARGS__; \
	canon_reply(f, buf, n, label_); \
} while (0)
	OBS("get", call(c, &r, "invite.get", "id:u actor:s", id, me));
	/* Actions refused in every world compared (those that may pass
	 * come in observe_writes). */
	for (i = 0; i < sizeof acts / sizeof acts[0]; i++)
		OBS(acts[i], call(c, &r, acts[i], "actor:s id:u", me, id));
	OBS("report", call(c, &r, "invite.report", "actor:s id:u reason:s", me,
	    id, "spam"));
	OBS("list sent", call(c, &r, "invite.list", "member:s box:s", me,
	    "sent"));
	OBS("list received", call(c, &r, "invite.list", "member:s box:s", me,
	    "received"));
	/* The filters may not probe what the views hide (§5 invite.list). */
	OBS("list sent ignored", call(c, &r, "invite.list",
	    "member:s box:s state:s", me, "sent", "ignored"));
	OBS("list sent pending", call(c, &r, "invite.list",
	    "member:s box:s state:s", me, "sent", "pending"));
	OBS("list received withdrawn", call(c, &r, "invite.list",
	    "member:s box:s state:s", me, "received", "withdrawn"));
	OBS("history", call(c, &r, "invite.history", "a:s b:s", me, to));
	OBS("can_send", call(c, &r, "invite.can_send", "from:s to:s", me, to));
	OBS("stats", call(c, &r, "stats.get", "member:s", me));
	OBS("advise", call(c, &r, "invite.advise", "member:s", me));
	OBS("connections", call(c, &r, "connection.list", "member:s", me));
	OBS("plans", call(c, &r, "plan.list", "member:s", me));
	OBS("settings", call(c, &r, "member.settings.get", "member:s", me));
	OBS("feed", call(c, &r, "events.read", "member:s after:u limit:u", me,
	    (uint64_t)0, (uint64_t)1000));
	cr_reply_free(&r);
}

/* The writes that may pass: a send, a withdrawal of id (the sender may
 * withdraw whatever the recipient did), a resend of it; then the feed. */
static void
observe_writes(const struct fx *f, const char *me, const char *to,
    uint64_t id, char *buf, size_t n)
{
	OBS("send", call(c, &r, "invite.send", "from:s to:s", me, to));
	OBS("withdraw", call(c, &r, "invite.withdraw", "actor:s id:u", me, id));
	OBS("resend", call(c, &r, "invite.resend", "actor:s id:u", me, id));
	OBS("feed after", call(c, &r, "events.read", "member:s after:u limit:u",
	    me, (uint64_t)0, (uint64_t)1000));
#undef OBS
	cr_reply_free(&r);
}

/* The first line where a and b differ, for a failure's diagnostics. */
static void
show_diff(const char *a, const char *b)
{
	while (*a != '\0' && *b != '\0') {
		size_t la = strcspn(a, "\n"), lb = strcspn(b, "\n");

		if (la != lb || memcmp(a, b, la) != 0) {
			diag("one:   %.*s", (int)la, a);
			diag("other: %.*s", (int)lb, b);
			return;
		}
		a += la + (a[la] != '\0');
		b += lb + (b[lb] != '\0');
	}
	if (*a != '\0' || *b != '\0')
		diag("one ends first");
}

/* One member's view of one world: two fixtures made alike, one observed
 * over time (its reads now, after 15 d when it is stale, after 181 d when
 * it has expired, then its writes), one for the writes now. */
struct world {
	enum variant v;
	enum who me, to;
	struct fx later, now;
	char *text;
};

#define WORLD_TEXT (256 * 1024)

static void
world_make(struct world *w, enum variant v, enum who me, enum who to)
{
	w->v = v;
	w->me = me;
	w->to = to;
	fx_make(&w->later, v);
	fx_make(&w->now, v);
	w->text = calloc(1, WORLD_TEXT);
	if (w->text == NULL)
		bail_out("out of memory");
}

static uint64_t
world_id(const struct world *w, const struct fx *f)
{
	return w->me == W_BLOCKED ? f->invm : f->inv1;
}

/* Round 0: now; 1: stale; 2: expired, then the later fixture's writes. */
static void
world_observe(struct world *w, int round)
{
	char *t = w->text;
	const struct fx *f = &w->later;

	snprintf(t + strlen(t), WORLD_TEXT - strlen(t), "-- round %d\n", round);
	observe_reads(f, f->name[w->me], f->name[w->to], world_id(w, f), t,
	    WORLD_TEXT);
	if (round == 0) {
		f = &w->now;
		observe_writes(f, f->name[w->me], f->name[w->to],
		    world_id(w, f), t, WORLD_TEXT);
	} else if (round == 2)
		observe_writes(f, f->name[w->me], f->name[w->to],
		    world_id(w, f), t, WORLD_TEXT);
}

static void
same_world(const char *what, const struct world *a, const struct world *b)
{
	const char *l;

	/* CONNREQ_SHOW_WORLDS=1: what is compared, as diagnostics. */
	if (getenv("CONNREQ_SHOW_WORLDS") != NULL) {
		diag("%s:", what);
		for (l = b->text; *l != '\0'; l += strcspn(l, "\n") + 1) {
			diag("  %.*s", (int)strcspn(l, "\n"), l);
			if (l[strcspn(l, "\n")] == '\0')
				break;
		}
	}
	if (!ok(strcmp(a->text, b->text) == 0, "%s", what))
		show_diff(a->text, b->text);
}

enum {
	WS_NONE, WS_IGNORE, WS_SPAM,			/* the sender's */
	WS_NOBODY, WS_DONTKNOW, WS_BLOCKED,		/* behind a door */
	WM_NOBODY, WM_BLOCKED,				/* mallory's */
	WR_NEVER, WR_WITHDRAWN,				/* the recipient's */
	WR_NEVER_NOBODY, WR_BLOCKED,
	WS_UNIGNORE, WS_HELD,				/* issue 12 */
	W_WORLDS
};

static void
test_worlds(void)
{
	static const struct {
		enum variant v;
		enum who me, to;
	} defs[W_WORLDS] = {
		[WS_NONE] = { V_NONE, W_SENDER, W_RECIPIENT },
		[WS_IGNORE] = { V_IGNORE, W_SENDER, W_RECIPIENT },
		[WS_SPAM] = { V_SPAM, W_SENDER, W_RECIPIENT },
		[WS_NOBODY] = { V_NOBODY, W_SENDER, W_RECIPIENT },
		[WS_DONTKNOW] = { V_DONTKNOW, W_SENDER, W_RECIPIENT },
		[WS_BLOCKED] = { V_BLOCK_SENDER, W_SENDER, W_RECIPIENT },
		[WM_NOBODY] = { V_NOBLOCK_NOBODY, W_BLOCKED, W_RECIPIENT },
		[WM_BLOCKED] = { V_NONE, W_BLOCKED, W_RECIPIENT },
		[WR_NEVER] = { V_NEVER, W_RECIPIENT, W_SENDER },
		[WR_WITHDRAWN] = { V_WITHDRAWN, W_RECIPIENT, W_SENDER },
		[WS_UNIGNORE] = { V_UNIGNORE, W_SENDER, W_RECIPIENT },
		[WS_HELD] = { V_HELD, W_SENDER, W_RECIPIENT },
		[WR_NEVER_NOBODY] = { V_NEVER_NOBODY, W_RECIPIENT, W_SENDER },
		[WR_BLOCKED] = { V_BLOCK_RECIPIENT, W_RECIPIENT, W_SENDER },
	};
	static struct world ws[W_WORLDS];
	int i, round;

	for (i = 0; i < W_WORLDS; i++)
		world_make(&ws[i], defs[i].v, defs[i].me, defs[i].to);
	/* The held world holds #1 indeed: in bob's held box, not told. */
	cr_reply_free(&r);
	call(c, &r, "invite.list", "member:s box:s",
	    ws[WS_HELD].later.name[W_RECIPIENT], "held");
	ok(rnum(&r, "items") == 1 &&
	    rnum(&r, "items.0.id") == (int64_t)ws[WS_HELD].later.inv1,
	    "the held world: #1 is in bob's held box");
	/* (The fixture's first events: dave's invitation, accepted, and
	 * #intro's: the connection to ivy and dave's ask.) */
	is_str(feed(c, &r, ws[WS_HELD].later.name[W_RECIPIENT], 0),
	    "invitation.received,connection.created,invitation.received,"
	    "connection.created,introduction.asked",
	    "the held world: bob was told of dave's invitation (before his "
	    "filter), not of #1 nor of mallory's");
	is_str(feed(c, &r, ws[WS_NONE].later.name[W_RECIPIENT], 0),
	    "invitation.received,connection.created,invitation.received,"
	    "connection.created,introduction.asked,invitation.received,"
	    "invitation.received",
	    "without a filter, bob was told of all three");
	for (round = 0; round < 3; round++) {
		for (i = 0; i < W_WORLDS; i++)
			world_observe(&ws[i], round);
		if (round == 0)
			advance(c, &r, 15 * DAY);	/* stale */
		else if (round == 1)
			advance(c, &r, 166 * DAY);	/* expired */
	}
	cr_reply_free(&r);

	/* The sender must not learn an ignore or a report (§4, §5
	 * invite.report): everything alice sees of bob and #1, now, stale
	 * and expired, is as if bob had done nothing. */
	ok(strstr(ws[WS_NONE].text, "send => ERROR {code:ALREADY_PENDING") &&
	    strstr(ws[WS_NONE].text, "type:invitation.stale") &&
	    strstr(ws[WS_NONE].text, "type:invitation.expired") &&
	    strstr(ws[WS_NONE].text, "resend => {invitation:{id:(new id)"),
	    "sender's world: #1 pending, then stale, then expired and resent");
	same_world("the sender cannot tell an ignore from nothing",
	    &ws[WS_NONE], &ws[WS_IGNORE]);
	same_world("the sender cannot tell a spam report from nothing",
	    &ws[WS_NONE], &ws[WS_SPAM]);
	same_world("the sender cannot tell an ignore undone (invite.unignore) "
	    "from nothing", &ws[WS_NONE], &ws[WS_UNIGNORE]);
	/* A held invitation (issue 12): everything alice sees, now, stale,
	 * expired, and her writes, is as if bob had no filter. */
	same_world("the sender cannot tell a held invitation from one "
	    "received", &ws[WS_NONE], &ws[WS_HELD]);

	/* A dont_know report and a block close the door: alice sees what
	 * "nobody" shows, no more (§5 invite.send #2, member.block). */
	ok(strstr(ws[WS_NOBODY].text, "does not accept invitations from you")
	    != NULL,
	    "sender's world behind a closed door: the closed-door refusal");
	same_world("the sender cannot tell a dont_know report from \"nobody\"",
	    &ws[WS_NOBODY], &ws[WS_DONTKNOW]);
	same_world("the sender cannot tell a block from \"nobody\"",
	    &ws[WS_NOBODY], &ws[WS_BLOCKED]);

	/* A blocked member's invitation is ignored, not withdrawn: mallory
	 * sees what a member whose recipient chose "nobody" sees. */
	same_world("the blocked member cannot tell the block from \"nobody\"",
	    &ws[WM_NOBODY], &ws[WM_BLOCKED]);

	/* The recipient must not learn a quiet withdrawal (§4, §8.3):
	 * everything bob sees of alice and #1 is as if #1 had never been
	 * sent (#1 then is an id never given). */
	ok(strstr(ws[WR_NEVER].text, "get => ERROR {code:NOT_FOUND "
	    "message:no invitation #1 }") != NULL,
	    "recipient's world without #1: NOT_FOUND \"no invitation N\"");
	same_world("the recipient cannot tell a quiet withdrawal from nothing",
	    &ws[WR_NEVER], &ws[WR_WITHDRAWN]);
	same_world("the recipient cannot tell the sender's block (which "
	    "withdrew #1) from \"nobody\" and no #1", &ws[WR_NEVER_NOBODY],
	    &ws[WR_BLOCKED]);
	for (i = 0; i < W_WORLDS; i++)
		free(ws[i].text);
}

int
main(void)
{
	dproc_init(&p);
	if (!ok(dproc_start(&p, T0, NULL) == 0, "connreqd starts"))
		return done_testing();
	c = dconnect(&p);
	test_matrix();
	test_worlds();
	cr_reply_free(&r);
	cr_close(c);
	is_int(dproc_stop(&p, SIGTERM), 0, "SIGTERM: exit 0");
	dproc_cleanup(&p);
	return done_testing();
}
