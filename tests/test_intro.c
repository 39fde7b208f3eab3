/* Introductions (daemon/intro.c, docs/protocol.md "Introductions"),
 * through the domain without a socket (tests/domain.h): who may ask whom,
 * a forward that is an ordinary send of the asker's (its limits, its
 * rules, every rule of an invitation after), a decline told or silent,
 * expiry, and what each party sees of it, field by field. On LMDB here,
 * on PostgreSQL in test_intro_pg.c. */
#include "../daemon/intro.h"
#include "domain.h"

#define DAY DAY_SECS

/* a and b connected: a invites, b accepts. */
static void
connect2(struct dom *d, const char *a, const char *b)
{
	uint64_t id = dsend(d, a, b);

	if (id == 0 || dact(d, DO_ACCEPT, b, id) == -1)
		bail_out("cannot connect %s and %s: %s", a, b, d->e.message);
}

static struct intro ilast;	/* what the last operation gave back */

/* from asks via for `to`: its id, or 0 when refused. */
static uint64_t
dask(struct dom *d, const char *from, const char *via, const char *to,
    const char *note)
{
	struct intro_ask_req r;

	memset(&r, 0, sizeof r);
	r.from = S(from);
	r.via = S(via);
	r.to = S(to);
	r.note = S(note);
	if (step_end(d, intro_ask(step(d), &r, &ilast, &d->e)) == -1)
		return 0;
	return ilast.id;
}

/* actor forwards id: the invitation's id (d->inv), 0 when refused. */
static uint64_t
dforward(struct dom *d, const char *actor, uint64_t id, const char *note)
{
	if (step_end(d, intro_forward(step(d), S(actor), id, S(note), &ilast,
	    &d->inv, &d->connected, &d->warnings, &d->e)) == -1)
		return 0;
	return d->inv.id;
}

static int
ddecline(struct dom *d, const char *actor, uint64_t id, bool tell)
{
	return step_end(d, intro_decline(step(d), S(actor), id, tell, &ilast,
	    &d->e));
}

/* Introduction id as actor reads it (intro.get), field key as show()
 * gives it; "(refused CODE)" when actor may not see it. */
static const char *
dintro_view(struct dom *d, const char *actor, uint64_t id, const char *key)
{
	static char buf[256];
	struct stx *t = snap(d);
	struct intro in;
	enum intro_role role;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked up;

	if (intro_load(t, id, S(actor), &in, &role, &d->e) == -1) {
		store_abort(t);
		snprintf(buf, sizeof buf, "(refused %s)",
		    proto_code_name(d->e.code));
		return buf;
	}
	store_abort(t);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	pack_intro(&pk, &in, role, d->now);
	msgpack_unpacked_init(&up);
	if (msgpack_unpack_next(&up, sb.data, sb.size, NULL) ==
	    MSGPACK_UNPACK_SUCCESS) {
		const msgpack_object *v = cr_get(&up.data, key);

		if (v != NULL && v->type == MSGPACK_OBJECT_BOOLEAN)
			snprintf(buf, sizeof buf, "%s",
			    v->via.boolean ? "true" : "false");
		else
			show(v, buf, sizeof buf);
	} else
		snprintf(buf, sizeof buf, "(unpackable)");
	msgpack_unpacked_destroy(&up);
	msgpack_sbuffer_destroy(&sb);
	return buf;
}

/* The ids in member's box, newest first, "a,b". */
struct ids_scan {
	char buf[256];
	size_t off;
};

static bool
ids_one(void *ctx, uint64_t id)
{
	struct ids_scan *s = ctx;

	s->off += (size_t)snprintf(s->buf + s->off, sizeof s->buf - s->off,
	    "%s%llu", s->off ? "," : "", (unsigned long long)id);
	return s->off < sizeof s->buf - 24;
}

static const char *
dbox(struct dom *d, enum store_intro_box box, const char *member)
{
	static struct ids_scan s;
	struct stx *t = snap(d);

	memset(&s, 0, sizeof s);
	store_scan_intros(t, box, member, strlen(member), 0, ids_one, &s);
	store_abort(t);
	return s.buf;
}

/* The sends counted toward member's weekly limit now. */
static uint64_t
dweek(struct dom *d, const char *member)
{
	struct stx *t = snap(d);
	int64_t oldest;
	uint64_t n = store_log_count(t, LOG_SENDS, member, strlen(member),
	    d->now - WEEK, 1000, &oldest);

	store_abort(t);
	return n;
}

static void
drestrict(struct dom *d, const char *member, int64_t until)
{
	struct member_rec m;

	step(d);
	store_member_get(d->o.t, member, strlen(member), &m);
	m.restricted_until = until;
	store_member_put(d->o.t, member, strlen(member), &m);
	step_end(d, 0);
}

/* amy, cat and ben: cat is connected to both. */
static void
three(struct dom *d)
{
	dom_open(d);
	connect2(d, "cat", "amy");
	connect2(d, "cat", "ben");
}

static void
test_ask(void)
{
	struct dom d;
	uint64_t id, h, inv;
	char note[400];

	dom_open(&d);
	connect2(&d, "cat", "amy");
	ok(dask(&d, "amy", "cat", "ben", "hi") == 0 &&
	    refused_with(&d, PE_NOT_PERMITTED, "connected to both"),
	    "ask: via connected to from alone: NOT_PERMITTED");
	ok(dask(&d, "amy", "dan", "ben", "hi") == 0 &&
	    refused_with(&d, PE_NOT_PERMITTED, "connected to both"),
	    "ask: via connected to neither: NOT_PERMITTED");
	connect2(&d, "dan", "ben");
	ok(dask(&d, "amy", "dan", "ben", "hi") == 0 &&
	    refused_with(&d, PE_NOT_PERMITTED, "connected to both"),
	    "ask: via connected to `to` alone: NOT_PERMITTED");
	connect2(&d, "cat", "ben");
	ok(dask(&d, "amy", "cat", "amy", NULL) == 0 &&
	    refused_with(&d, PE_SELF_INVITE, "yourself"),
	    "ask: to oneself: SELF_INVITE");
	ok(dask(&d, "amy", "amy", "ben", NULL) == 0 &&
	    refused_with(&d, PE_INVALID_ARGUMENT, "other than"),
	    "ask: via is from: INVALID_ARGUMENT");
	ok(dask(&d, "amy", "ben", "ben", NULL) == 0 &&
	    refused_with(&d, PE_INVALID_ARGUMENT, "other than"),
	    "ask: via is to: INVALID_ARGUMENT");
	memset(note, 'x', sizeof note - 1);
	note[sizeof note - 1] = '\0';
	ok(dask(&d, "amy", "cat", "ben", note) == 0 &&
	    refused_with(&d, PE_NOTE_TOO_LONG, "at most 300"),
	    "ask: a note of 399 characters: NOTE_TOO_LONG");

	dblock(&d, "ben", "amy", true);
	ok(dask(&d, "amy", "cat", "ben", NULL) == 0 &&
	    refused_with(&d, PE_NOT_PERMITTED, "does not accept"),
	    "ask: to blocked from: NOT_PERMITTED, as invite.send says it");
	dblock(&d, "ben", "amy", false);
	dblock(&d, "amy", "ben", true);
	ok(dask(&d, "amy", "cat", "ben", NULL) == 0 &&
	    refused_with(&d, PE_NOT_PERMITTED, "does not accept"),
	    "ask: from blocked to: NOT_PERMITTED");
	dblock(&d, "amy", "ben", false);

	inv = dsend(&d, "ben", "amy");
	ok(dask(&d, "amy", "cat", "ben", NULL) == 0 &&
	    refused_with(&d, PE_ALREADY_PENDING, "already pending"),
	    "ask: with an invitation pending to from: ALREADY_PENDING");
	dact(&d, DO_WITHDRAW, "ben", inv);
	inv = dsend(&d, "amy", "ben");
	ok(dask(&d, "amy", "cat", "ben", NULL) == 0 &&
	    refused_with(&d, PE_ALREADY_PENDING, "already pending"),
	    "ask: with an invitation pending from from: ALREADY_PENDING");
	dact(&d, DO_WITHDRAW, "amy", inv);

	drestrict(&d, "amy", d.now + DAY);
	ok(dask(&d, "amy", "cat", "ben", NULL) == 0 &&
	    refused_with(&d, PE_RESTRICTED, "restricted") &&
	    d.e.retry_at == d.now + DAY,
	    "ask: from restricted: RESTRICTED until its end");
	drestrict(&d, "amy", 0);

	h = dhead(&d);
	id = dask(&d, "amy", "cat", "ben", "please introduce me");
	ok(id > 0, "ask: amy asks cat, connected to both, for ben");
	is_str(dfeed(&d, "cat", h), "introduction.asked", "ask: cat is told");
	is_str(dev_str(&d, "cat", h, EV_INTRO_ASKED, "introduction.note"),
	    "please introduce me", "ask: cat's event carries amy's note");
	is_str(dfeed(&d, "amy", h), "", "ask: amy is told nothing");
	is_str(dfeed(&d, "ben", h), "", "ask: ben is told nothing");
	is_int(ilast.expires_at, d.now + 180 * DAY,
	    "ask: it expires after expire_after (180 days)");
	is_str(dintro_view(&d, "amy", id, "state"), "asked",
	    "ask: amy sees it asked");
	is_str(dintro_view(&d, "cat", id, "via"), "cat", "ask: via cat");
	ok(dask(&d, "amy", "dan", "ben", NULL) == 0 &&
	    refused_with(&d, PE_NOT_PERMITTED, "connected to both"),
	    "ask: through dan, not connected to amy: NOT_PERMITTED");
	connect2(&d, "dan", "amy");
	ok(dask(&d, "amy", "dan", "ben", NULL) == 0 &&
	    refused_with(&d, PE_ALREADY_PENDING, "already asked"),
	    "ask: again for ben, through anyone, while one is asked: ALREADY_PENDING");
	snprintf(note, sizeof note, "%llu", (unsigned long long)id);
	is_str(dbox(&d, IBOX_ASKED, "amy"), note, "ask: in amy's asked box");
	is_int(id, inv + 1,
	    "ask: its id comes from next_id, shared with invitations");
	is_str(dbox(&d, IBOX_VIA, "cat"), note, "ask: in cat's box");
	is_str(dbox(&d, IBOX_VIA, "ben"), "", "ask: not in ben's");
	is_str(dbox(&d, IBOX_ASKED, "ben"), "", "ask: nor ben's asked box");
	connect2(&d, "cat", "dan");
	ok(dask(&d, "amy", "cat", "dan", NULL) == 0 &&
	    refused_with(&d, PE_ALREADY_CONNECTED, "already connected"),
	    "ask: from and to connected: ALREADY_CONNECTED");
	dom_close(&d);
}

static void
test_forward(void)
{
	struct dom d;
	uint64_t id, h, inv;

	three(&d);
	id = dask(&d, "amy", "cat", "ben", "a note for cat only");
	ok(dforward(&d, "amy", id, NULL) == 0 &&
	    refused_with(&d, PE_NOT_PERMITTED, "only the member asked"),
	    "forward: by the asker: NOT_PERMITTED");
	ok(dforward(&d, "ben", id, NULL) == 0 &&
	    refused_with(&d, PE_NOT_PERMITTED, "may see or act on"),
	    "forward: by `to`: NOT_PERMITTED, as an outsider");
	ok(dforward(&d, "cat", 999, NULL) == 0 &&
	    refused_with(&d, PE_NOT_FOUND, "no introduction 999"),
	    "forward: no such introduction: NOT_FOUND");
	ok(ddecline(&d, "amy", id, true) == -1 &&
	    refused_with(&d, PE_NOT_PERMITTED, "only the member asked"),
	    "decline: by the asker: NOT_PERMITTED");
	is_int(dweek(&d, "amy"), 0, "forward: amy has sent nothing yet");

	h = dhead(&d);
	inv = dforward(&d, "cat", id, "Ben, meet Amy");
	ok(inv > 0 && d.inv.state == ST_PENDING,
	    "forward: an invitation amy -> ben, pending");
	ok(d.inv.from_len == 3 && memcmp(d.inv.from, "amy", 3) == 0 &&
	    d.inv.to_len == 3 && memcmp(d.inv.to, "ben", 3) == 0,
	    "forward: from amy, to ben");
	is_str(d.inv.note, "Ben, meet Amy",
	    "forward: its note is cat's, not amy's note to cat");
	is_str(d.inv.via, "cat", "forward: the invitation's via is cat");
	is_str(dview(&d.inv, ROLE_SENDER, "introduced_by"), "cat",
	    "forward: amy's view says introduced_by cat");
	is_str(dview(&d.inv, ROLE_RECIPIENT, "introduced_by"), "cat",
	    "forward: and so does ben's");
	is_str(dinv(&d, inv).via, "cat", "forward: stored with it");
	is_int(dweek(&d, "amy"), 1,
	    "forward: it counts toward amy's weekly limit");
	is_int(dpair(&d, "amy", "ben").open_id, inv,
	    "forward: the pair's open invitation");
	is_str(dintro_view(&d, "cat", id, "state"), "forwarded",
	    "forward: cat sees it forwarded");
	is_str(dintro_view(&d, "amy", id, "state"), "forwarded",
	    "forward: amy sees it forwarded");
	is_int(atoll(dintro_view(&d, "amy", id, "invitation")), inv,
	    "forward: amy's view names the invitation");
	is_str(dfeed(&d, "amy", h), "introduction.forwarded",
	    "forward: amy is told");
	is_int(dev_int(&d, "amy", h, EV_INTRO_FORWARDED, "invitation.id"),
	    inv, "forward: amy's event carries the invitation");
	is_str(dfeed(&d, "ben", h), "invitation.received",
	    "forward: ben receives it as any invitation");
	is_str(dev_str(&d, "ben", h, EV_RECEIVED, "invitation.note"),
	    "Ben, meet Amy", "forward: ben reads cat's note, not amy's to cat");
	is_str(dev_str(&d, "ben", h, EV_RECEIVED, "invitation.introduced_by"),
	    "cat", "forward: ben's event says introduced_by cat");
	is_str(dev_str(&d, "amy", h, EV_INTRO_FORWARDED,
	    "invitation.introduced_by"), "cat",
	    "forward: amy's event too");
	is_str(dfeed(&d, "cat", h), "", "forward: cat is told nothing more");
	is_str(dintro_view(&d, "ben", id, "state"), "(refused NOT_PERMITTED)",
	    "forward: ben may not read the introduction itself");

	ok(dforward(&d, "cat", id, NULL) == 0 &&
	    refused_with(&d, PE_INVALID_STATE, "is forwarded"),
	    "forward: again: INVALID_STATE");
	ok(ddecline(&d, "cat", id, true) == -1 &&
	    refused_with(&d, PE_INVALID_STATE, "is forwarded"),
	    "decline: once forwarded: INVALID_STATE");

	/* It follows every rule of an invitation: ben accepts. */
	h = dhead(&d);
	ok(dact(&d, DO_ACCEPT, "ben", inv) == 0 && dconn(&d, "amy", "ben"),
	    "forwarded: ben accepts, and they are connected");
	is_str(dfeed(&d, "amy", h), "invitation.accepted,connection.created",
	    "forwarded: amy is told as of any acceptance");
	dom_close(&d);
}

static void
test_forward_refused(void)
{
	struct dom d;
	uint64_t id, h;
	int64_t since;

	three(&d);
	d.policy.sends_per_week = 2;
	/* three() sent amy nothing: cat sent to both. */
	ok(dsend(&d, "amy", "x1") > 0 && dsend(&d, "amy", "x2") > 0,
	    "limit: amy sends 2 invitations, her weekly limit");
	id = dask(&d, "amy", "cat", "ben", NULL);
	ok(id > 0, "limit: amy may still ask (an ask is not a send)");
	h = dhead(&d);
	ok(dforward(&d, "cat", id, NULL) == 0 &&
	    refused_with(&d, PE_NOT_PERMITTED, "cannot be sent now") &&
	    d.e.retry_at == 0 && strstr(d.e.message, "limit") == NULL,
	    "limit: the forward past amy's weekly limit is refused, NOT_PERMITTED, without saying why or until when (amy's, not cat's, to know)");
	is_int(dweek(&d, "amy"), 2, "limit: amy's counters are unchanged");
	is_int(dhead(&d), h, "limit: no event was written, to anyone");
	is_int(dpair(&d, "amy", "ben").open_id, 0,
	    "limit: nothing is pending amy -> ben");
	is_str(dintro_view(&d, "cat", id, "state"), "asked",
	    "limit: the introduction is still asked");
	is_str(dintro_view(&d, "amy", id, "updated_at"),
	    dintro_view(&d, "amy", id, "created_at"),
	    "limit: amy's view has not changed");

	d.now += WEEK;
	ok(dforward(&d, "cat", id, NULL) > 0,
	    "limit: a week later the forward goes through");
	is_int(dweek(&d, "amy"), 1, "limit: and counts as amy's send");

	/* cat no longer connected to both: refused. */
	dom_close(&d);
	three(&d);
	id = dask(&d, "amy", "cat", "ben", NULL);
	step_end(&d, connection_remove(step(&d), S("ben"), S("cat"), &since,
	    &d.e));
	ok(dforward(&d, "cat", id, NULL) == 0 &&
	    refused_with(&d, PE_NOT_PERMITTED, "no longer connected"),
	    "forward: once cat is not connected to ben: NOT_PERMITTED");

	/* ben takes invitations from nobody: the send's refusal. */
	dom_close(&d);
	three(&d);
	id = dask(&d, "amy", "cat", "ben", NULL);
	dblock(&d, "ben", "amy", true);
	ok(dforward(&d, "cat", id, NULL) == 0 &&
	    refused_with(&d, PE_NOT_PERMITTED, "cannot be sent now") &&
	    strstr(d.e.message, "accept") == NULL,
	    "forward: ben blocked amy since: refused, NOT_PERMITTED, the block not named");
	dom_close(&d);
}

static void
test_decline(void)
{
	struct dom d;
	uint64_t id, h, all;
	int64_t asked_at;

	three(&d);
	asked_at = d.now;
	id = dask(&d, "amy", "cat", "ben", "hello");
	d.now += DAY;
	h = dhead(&d);
	ok(ddecline(&d, "cat", id, false) == 0, "decline: silently");
	is_str(dfeed(&d, "amy", h), "", "decline: silent: amy is told nothing");
	is_str(dfeed(&d, "ben", h), "", "decline: silent: ben neither");
	is_str(dfeed(&d, "cat", h), "", "decline: silent: nor cat");
	is_str(dfeed(&d, NULL, h), "introduction.declined",
	    "decline: silent: the `all` feed has it");
	is_str(dev_str(&d, NULL, h, EV_INTRO_DECLINED, "member"), "cat",
	    "decline: silent: as cat's");
	/* amy's view, field by field: as if nothing happened. */
	is_str(dintro_view(&d, "amy", id, "state"), "asked",
	    "decline: silent: amy sees it asked");
	is_int(atoll(dintro_view(&d, "amy", id, "updated_at")), asked_at,
	    "decline: silent: amy's updated_at is still the ask's");
	is_str(dintro_view(&d, "amy", id, "told"), "nil",
	    "decline: silent: amy's told is nil");
	is_str(dintro_view(&d, "amy", id, "invitation"), "nil",
	    "decline: silent: amy's invitation is nil");
	is_str(dintro_view(&d, "cat", id, "state"), "declined",
	    "decline: silent: cat sees it declined");
	is_str(dintro_view(&d, "cat", id, "told"), "false",
	    "decline: silent: cat sees amy was not told");
	ok(dask(&d, "amy", "cat", "ben", NULL) == 0 &&
	    refused_with(&d, PE_ALREADY_PENDING, "already asked"),
	    "decline: silent: amy asking again is refused as while asked");
	ok(ddecline(&d, "cat", id, true) == -1 &&
	    refused_with(&d, PE_INVALID_STATE, "is declined"),
	    "decline: again: INVALID_STATE");
	h = dhead(&d);
	dadvance(&d, asked_at + 180 * DAY - d.now);
	is_str(dfeed(&d, "amy", h), "introduction.expired",
	    "decline: silent: at its expiry amy is told it expired, as of one unanswered");
	is_int(dev_int(&d, "amy", h, EV_INTRO_EXPIRED, "at"),
	    asked_at + 180 * DAY, "decline: silent: at its expires_at");
	is_str(dev_str(&d, "amy", h, EV_INTRO_EXPIRED, "introduction.state"),
	    "expired", "decline: silent: the event says expired");
	is_str(dfeed(&d, "cat", h), "",
	    "decline: silent: cat, who declined it, is told nothing");
	is_str(dintro_view(&d, "amy", id, "state"), "expired",
	    "decline: silent: amy sees it expire when it would have");
	is_int(atoll(dintro_view(&d, "amy", id, "updated_at")),
	    asked_at + 180 * DAY, "decline: silent: updated at its expiry");
	is_str(dintro_view(&d, "cat", id, "state"), "declined",
	    "decline: silent: cat still sees it declined");
	ok(dask(&d, "amy", "cat", "ben", NULL) > 0,
	    "decline: silent: once expired amy may ask again");
	dom_close(&d);

	three(&d);
	id = dask(&d, "amy", "cat", "ben", NULL);
	h = dhead(&d);
	ok(ddecline(&d, "cat", id, true) == 0, "decline: telling amy");
	ok(ddue(&d).kind != DUE_INTRO_EXPIRE,
	    "decline: told: its expiry deadline is gone");
	is_str(dfeed(&d, "amy", h), "introduction.declined",
	    "decline: told: amy is told");
	is_str(dev_str(&d, "amy", h, EV_INTRO_DECLINED,
	    "introduction.state"), "declined",
	    "decline: told: amy's event says declined");
	is_str(dfeed(&d, "ben", h), "", "decline: told: ben is told nothing");
	is_str(dintro_view(&d, "amy", id, "state"), "declined",
	    "decline: told: amy sees it declined");
	all = dhead(&d);
	ok(dask(&d, "amy", "cat", "ben", NULL) > 0,
	    "decline: told: amy may ask again");
	ok(dhead(&d) > all, "decline: told: cat is told of the new ask");
	dom_close(&d);
}

static void
test_expiry_and_rules(void)
{
	struct dom d;
	uint64_t id, inv, h;

	three(&d);
	id = dask(&d, "amy", "cat", "ben", NULL);
	ok(ddue(&d).kind == DUE_INTRO_EXPIRE && ddue(&d).id == id &&
	    ddue(&d).at == T0 + 180 * DAY,
	    "expiry: a deadline at its expires_at");
	h = dhead(&d);
	dadvance(&d, 180 * DAY - 1);
	is_str(dintro_view(&d, "cat", id, "state"), "asked",
	    "expiry: asked a second before expire_after");
	is_str(dfeed(&d, NULL, h), "", "expiry: nothing told before");
	dadvance(&d, 1);
	is_str(dintro_view(&d, "cat", id, "state"), "expired",
	    "expiry: expired at expire_after");
	is_str(dfeed(&d, "amy", h), "introduction.expired",
	    "expiry: amy is told");
	is_str(dfeed(&d, "cat", h), "introduction.expired",
	    "expiry: and cat, who was asked");
	is_str(dfeed(&d, "ben", h), "", "expiry: ben is told nothing");
	is_str(dintro_view(&d, "amy", id, "state"), "expired",
	    "expiry: amy sees it expired too");
	ok(dforward(&d, "cat", id, NULL) == 0 &&
	    refused_with(&d, PE_INVALID_STATE, "is expired"),
	    "expiry: forwarding it: INVALID_STATE");
	ok(ddecline(&d, "cat", id, false) == -1 &&
	    refused_with(&d, PE_INVALID_STATE, "is expired"),
	    "expiry: declining it: INVALID_STATE");
	dom_close(&d);

	/* A forwarded one expires as any invitation. */
	three(&d);
	id = dask(&d, "amy", "cat", "ben", NULL);
	inv = dforward(&d, "cat", id, NULL);
	ok(ddue(&d).kind != DUE_INTRO_EXPIRE,
	    "rules: forwarded, its expiry deadline is gone");
	h = dhead(&d);
	dadvance(&d, 180 * DAY);
	ok(strstr(dfeed(&d, NULL, h), "introduction.expired") == NULL,
	    "rules: no introduction.expired for a forwarded one");
	is_int(dinv(&d, inv).state, ST_EXPIRED,
	    "rules: the forwarded invitation expires after 180 days");
	ok(strstr(dfeed(&d, "amy", h), "invitation.expired") != NULL,
	    "rules: amy is told it expired");
	is_str(dintro_view(&d, "amy", id, "state"), "forwarded",
	    "rules: the introduction stays forwarded");
	dom_close(&d);

	/* amy withdraws it: a cooldown as any withdrawal. */
	three(&d);
	id = dask(&d, "amy", "cat", "ben", NULL);
	inv = dforward(&d, "cat", id, NULL);
	ok(dact(&d, DO_WITHDRAW, "amy", inv) == 0 &&
	    d.cooldown_until == T0 + 21 * DAY,
	    "rules: amy withdraws it, with the 21-day cooldown");
	ok(dsend(&d, "amy", "ben") == 0 &&
	    refused_with(&d, PE_COOLDOWN, "withdrew"),
	    "rules: and may not invite ben again before it ends");
	ok(dask(&d, "amy", "cat", "ben", NULL) > 0,
	    "rules: she may ask again (the forward would meet the cooldown)");
	ok(dforward(&d, "cat", ilast.id, NULL) == 0 &&
	    refused_with(&d, PE_NOT_PERMITTED, "cannot be sent now") &&
	    d.e.retry_at == 0,
	    "rules: the forward meets it: refused, the cooldown not named to cat");
	dom_close(&d);

	/* ben invited amy meanwhile: the forward connects them at once,
	 * as amy's own send would. */
	three(&d);
	id = dask(&d, "amy", "cat", "ben", NULL);
	inv = dsend(&d, "ben", "amy");
	ok(dforward(&d, "cat", id, NULL) > 0 && d.connected &&
	    dconn(&d, "amy", "ben") != 0 &&
	    dinv(&d, inv).state == ST_ACCEPTED,
	    "rules: ben invited amy since: the forward connects them (mutual)");
	dom_close(&d);
}

int
main(void)
{
	test_ask();
	test_forward();
	test_forward_refused();
	test_decline();
	test_expiry_and_rules();
#ifdef DOMAIN_PG
	pgcluster_stop(&dom_pg);
#endif
	return done_testing();
}
