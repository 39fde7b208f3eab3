/* The domain without a socket: invitations, cooldowns, expiry, health,
 * reports, blocks, plans and limits, driven through the operation context
 * on a temporary store (tests/domain.h). Each test starts a store of its
 * own at T0; time moves by dadvance(), which runs the deadlines, or, where
 * no deadline can fall due, by moving d.now. */
#include "../daemon/config.h"
#include "../daemon/inv.h"
#include "../daemon/methods.h"
#include "../daemon/remind.h"
#include "domain.h"

#define DAY DAY_SECS
#define HOUR 3600

/* The state member sees of invitation id. */
static enum inv_state
seen_by(struct dom *d, uint64_t id, enum role role)
{
	struct inv v = dinv(d, id);

	return rules_view((enum inv_state)v.state, v.ignored, role);
}

static void
test_send_accept(void)
{
	struct dom d;
	struct store_counts c;
	struct due due;
	uint64_t id, h;

	dom_open(&d);
	h = dhead(&d);
	id = dsend(&d, "alice", "bob");
	ok(id > 0 && d.inv.state == ST_PENDING && !d.connected,
	    "send: alice -> bob is pending");
	is_int(d.inv.expires_at, T0 + 180 * DAY, "send: it expires in 180 days");
	is_int(dpair(&d, "alice", "bob").open_id, id,
	    "send: it is the pair's open invitation");
	is_int(dcounts(&d).state[ST_PENDING], 1, "send: 1 pending counted");
	due = ddue(&d);
	ok(due.kind == DUE_REMIND && due.at == T0 + 7 * DAY && due.id == id,
	    "send: the first deadline is bob's reminder at day 7");
	is_str(dfeed(&d, "bob", h), "invitation.received", "send: bob is told");
	is_str(dev_str(&d, "bob", h, EV_RECEIVED, "invitation.from"), "alice",
	    "send: from alice");
	is_str(dfeed(&d, "alice", h), "", "send: alice is told nothing");

	ok(dsend(&d, "alice", "bob") == 0 &&
	    refused_with(&d, PE_ALREADY_PENDING, "already pending"),
	    "send: again while pending: ALREADY_PENDING");
	ok(dsend(&d, "alice", "alice") == 0 &&
	    refused_with(&d, PE_SELF_INVITE, "yourself"),
	    "send: to oneself: SELF_INVITE");
	ok(dact(&d, DO_ACCEPT, "alice", id) == -1 &&
	    refused_with(&d, PE_NOT_PERMITTED, "only the recipient"),
	    "accept: by the sender: NOT_PERMITTED");
	ok(dact(&d, DO_ACCEPT, "carl", id) == -1 &&
	    refused_with(&d, PE_NOT_PERMITTED, "may see or act on"),
	    "accept: by an outsider: NOT_PERMITTED");
	ok(dact(&d, DO_ACCEPT, "bob", 999) == -1 &&
	    refused_with(&d, PE_NOT_FOUND, "no invitation 999"),
	    "accept: no such invitation: NOT_FOUND");

	h = dhead(&d);
	d.now += HOUR;
	ok(dact(&d, DO_ACCEPT, "bob", id) == 0 && d.inv.state == ST_ACCEPTED,
	    "accept: bob accepts");
	ok(dconn(&d, "alice", "bob") == T0 + HOUR &&
	    dconn(&d, "bob", "alice") == T0 + HOUR,
	    "accept: they are connected since then, both ways");
	c = dcounts(&d);
	ok(c.state[ST_PENDING] == 0 && c.state[ST_ACCEPTED] == 1 &&
	    c.connections == 1, "accept: 0 pending, 1 accepted, 1 connection");
	ok(dpair(&d, "alice", "bob").open_id == 0 && ddue(&d).at == 0,
	    "accept: the pair is free and no deadline is left");
	is_str(dfeed(&d, "alice", h), "invitation.accepted,connection.created",
	    "accept: alice hears of it and of the connection");
	is_str(dfeed(&d, "bob", h), "connection.created",
	    "accept: bob hears of the connection");
	ok(dact(&d, DO_ACCEPT, "bob", id) == -1 &&
	    refused_with(&d, PE_INVALID_STATE, "is accepted"),
	    "accept: twice: INVALID_STATE");
	ok(dsend(&d, "bob", "alice") == 0 &&
	    refused_with(&d, PE_ALREADY_CONNECTED, "already connected"),
	    "send: to a connection: ALREADY_CONNECTED");
	dom_close(&d);
}

static void
test_ignore(void)
{
	struct dom d;
	uint64_t id, h;

	dom_open(&d);
	id = dsend(&d, "carol", "dave");
	h = dhead(&d);
	ok(dact(&d, DO_IGNORE, "carol", id) == -1 &&
	    refused_with(&d, PE_NOT_PERMITTED, "only the recipient"),
	    "ignore: by the sender: NOT_PERMITTED");
	ok(dact(&d, DO_IGNORE, "dave", id) == 0 &&
	    dinv(&d, id).state == ST_IGNORED, "ignore: dave ignores it");
	is_int(seen_by(&d, id, ROLE_SENDER), ST_PENDING,
	    "ignore: carol still sees it pending");
	is_int(seen_by(&d, id, ROLE_RECIPIENT), ST_IGNORED,
	    "ignore: dave sees it ignored");
	ok(strcmp(dfeed(&d, "carol", h), "") == 0 &&
	    strcmp(dfeed(&d, "dave", h), "") == 0,
	    "ignore: neither is told");
	is_str(dfeed(&d, NULL, h), "invitation.ignored",
	    "ignore: only the all feed has it");
	is_str(dev_str(&d, NULL, h, EV_IGNORED, "invitation.state"), "ignored",
	    "ignore: shown as dave sees it");
	ok(dsend(&d, "carol", "dave") == 0 &&
	    refused_with(&d, PE_ALREADY_PENDING, "already pending"),
	    "ignore: carol's next send: ALREADY_PENDING, as if pending");
	ok(dact(&d, DO_IGNORE, "dave", id) == -1 &&
	    refused_with(&d, PE_INVALID_STATE, "is ignored"),
	    "ignore: twice: INVALID_STATE");
	ok(dact(&d, DO_WITHDRAW, "carol", id) == 0 &&
	    dinv(&d, id).state == ST_WITHDRAWN,
	    "ignore: carol may withdraw it (it looks pending)");
	ok(dact(&d, DO_UNIGNORE, "dave", id) == -1 &&
	    refused_with(&d, PE_NOT_FOUND, "no invitation"),
	    "unignore: after the withdrawal: NOT_FOUND");
	dom_close(&d);
}

/* Issue 12: the undoable ignore. Accept and unignore from the ignored box,
 * the store's state and counters, the deadlines, the events. */
static void
test_unignore(void)
{
	struct dom d;
	struct inv before, after;
	struct store_counts c;
	uint64_t id, id2, id3, h;

	dom_open(&d);
	id = dsend(&d, "gus", "hana");
	d.now += HOUR;
	before = dinv(&d, id);
	ok(dact(&d, DO_IGNORE, "hana", id) == 0, "unignore: hana ignores");
	c = dcounts(&d);
	ok(c.state[ST_IGNORED] == 1 && c.state[ST_PENDING] == 0,
	    "unignore: counted ignored");
	h = dhead(&d);
	d.now += HOUR;
	ok(dact(&d, DO_UNIGNORE, "gus", id) == -1 &&
	    refused_with(&d, PE_NOT_PERMITTED, "only the recipient"),
	    "unignore: by the sender: NOT_PERMITTED");
	ok(dact(&d, DO_UNIGNORE, "ivan", id) == -1 &&
	    refused_with(&d, PE_NOT_PERMITTED, "may see or act on"),
	    "unignore: by an outsider: NOT_PERMITTED");
	ok(dact(&d, DO_UNIGNORE, "hana", id) == 0 &&
	    d.inv.state == ST_PENDING && !d.inv.ignored,
	    "unignore: hana puts it back: pending, not ignored");
	is_str(dview(&d.inv, ROLE_RECIPIENT, "state"), "pending",
	    "unignore: the result, in hana's view: pending");
	after = dinv(&d, id);
	ok(after.updated_at == before.updated_at &&
	    after.expires_at == before.expires_at &&
	    after.stale_at == before.stale_at &&
	    after.reminded_at == before.reminded_at,
	    "unignore: updated_at and the deadlines are as before the ignore");
	ok(dpair(&d, "gus", "hana").open_id == id,
	    "unignore: still the pair's open invitation");
	c = dcounts(&d);
	ok(c.state[ST_IGNORED] == 0 && c.state[ST_PENDING] == 1,
	    "unignore: counted pending again");
	ok(strcmp(dfeed(&d, "gus", h), "") == 0 &&
	    strcmp(dfeed(&d, "hana", h), "") == 0,
	    "unignore: neither is told");
	is_str(dfeed(&d, NULL, h), "invitation.unignored",
	    "unignore: only the all feed has it");
	is_str(dev_str(&d, NULL, h, EV_UNIGNORED, "invitation.state"),
	    "pending", "unignore: shown as hana sees it now");
	ok(dact(&d, DO_UNIGNORE, "hana", id) == -1 &&
	    refused_with(&d, PE_INVALID_STATE, "is pending"),
	    "unignore: twice: INVALID_STATE");
	/* The stale reminder still goes to gus, at its time. */
	h = dhead(&d);
	dadvance(&d, 14 * DAY);
	is_str(dfeed(&d, "gus", h), "invitation.stale",
	    "unignore: gus's stale reminder comes as before");

	/* Accept straight from the ignored box: an ordinary acceptance. */
	id2 = dsend(&d, "jo", "hana");
	ok(dact(&d, DO_IGNORE, "hana", id2) == 0, "accept: hana ignores jo's");
	h = dhead(&d);
	ok(dact(&d, DO_ACCEPT, "hana", id2) == 0 &&
	    d.inv.state == ST_ACCEPTED && dconn(&d, "jo", "hana") == d.now,
	    "accept: from the ignored box, connected");
	is_str(dfeed(&d, "jo", h), "invitation.accepted,connection.created",
	    "accept: jo hears of it as of any acceptance");
	is_str(dview(&d.inv, ROLE_RECIPIENT, "state"), "accepted",
	    "accept: hana sees it accepted");
	ok(dpair(&d, "jo", "hana").open_id == 0 && dcounts(&d).connections == 1,
	    "accept: the pair is free, one connection");
	ok(dact(&d, DO_UNIGNORE, "hana", id2) == -1 &&
	    refused_with(&d, PE_INVALID_STATE, "is accepted"),
	    "unignore: after the acceptance: INVALID_STATE");

	/* Report straight from the ignored box; then neither unignore nor
	 * accept. */
	id3 = dsend(&d, "kit", "hana");
	ok(dact(&d, DO_IGNORE, "hana", id3) == 0 &&
	    dact(&d, DO_REPORT_SPAM, "hana", id3) == 0 && d.inv.reported,
	    "report: from the ignored box");
	ok(dact(&d, DO_UNIGNORE, "hana", id3) == -1 &&
	    refused_with(&d, PE_INVALID_STATE, "reported"),
	    "unignore: a reported one stays ignored");
	ok(dact(&d, DO_ACCEPT, "hana", id3) == -1 &&
	    refused_with(&d, PE_INVALID_STATE, "reported"),
	    "accept: not a reported one");

	/* A block's ignore: unblock first. */
	id3 = dsend(&d, "lou", "hana");
	ok(dblock(&d, "hana", "lou", true) == 0 &&
	    dinv(&d, id3).state == ST_IGNORED, "block: lou's is ignored");
	ok(dact(&d, DO_UNIGNORE, "hana", id3) == -1 &&
	    refused_with(&d, PE_INVALID_STATE, "unblock"),
	    "unignore: not while hana blocks lou");
	ok(dact(&d, DO_ACCEPT, "hana", id3) == -1 &&
	    refused_with(&d, PE_INVALID_STATE, "unblock"),
	    "accept: not while hana blocks lou");
	ok(dblock(&d, "hana", "lou", false) == 0 &&
	    dact(&d, DO_UNIGNORE, "hana", id3) == 0,
	    "unignore: once unblocked, allowed");

	/* Unignore after expiry is refused (issue 12's edge). */
	ok(dact(&d, DO_IGNORE, "hana", id) == 0, "expiry: hana ignores again");
	dadvance(&d, 180 * DAY);
	ok(dinv(&d, id).state == ST_EXPIRED, "expiry: gus's has expired");
	ok(dact(&d, DO_UNIGNORE, "hana", id) == -1 &&
	    refused_with(&d, PE_INVALID_STATE, "is expired"),
	    "unignore: after expiry: INVALID_STATE");
	ok(dact(&d, DO_ACCEPT, "hana", id) == -1 &&
	    refused_with(&d, PE_INVALID_STATE, "is expired"),
	    "accept: after expiry: INVALID_STATE");
	dom_close(&d);
}

/* member's hold filters: each of no_mutual, low_health (0/1), restricted
 * and new days set as its own when >= 0, reset to the policy's when -2,
 * kept when -1. */
static int
dhold(struct dom *d, const char *member, int no_mutual, int low_health,
    int restricted_days, int new_days)
{
	struct hold_change h;
	struct member_rec m;
	const int in[4] = { no_mutual, low_health, restricted_days, new_days };
	enum set_how *how[4] = { &h.no_mutual, &h.low_health,
	    &h.restricted_days, &h.new_days };
	int i;

	memset(&h, 0, sizeof h);
	for (i = 0; i < 4; i++)
		*how[i] = in[i] >= 0 ? SET_VALUE : in[i] == -2 ? SET_RESET :
		    SET_KEEP;
	h.v.no_mutual = no_mutual > 0;
	h.v.low_health = low_health > 0;
	h.v.restricted_days = restricted_days > 0 ? (uint32_t)restricted_days :
	    0;
	h.v.new_days = new_days > 0 ? (uint32_t)new_days : 0;
	return step_end(d, member_settings_set(step(d), S(member), -1, S(NULL),
	    NULL, &h, NULL, &m, &d->e));
}

/* a and b connected, since now. */
static void
dconnect_pair(struct dom *d, const char *a, const char *b)
{
	store_conn_put(step(d)->t, a, strlen(a), b, strlen(b), d->now);
	step_end(d, 0);
}

/* Which of its recipient's boxes invitation id is in. */
static enum proto_box
dbox(struct dom *d, uint64_t id)
{
	struct inv v = dinv(d, id);

	inv_as_of(&v, d->now);
	return rules_recipient_box((enum inv_state)v.state, v.ignored, v.held);
}

/* Issue 12: held invitations. Each filter holds; a held one is never told
 * to its recipient (not received, not a withdrawal, not its deadlines),
 * is pending to its sender as any, and is accepted, ignored, reported,
 * withdrawn and expired as any. */
static void
test_held(void)
{
	struct dom d;
	struct member_rec m;
	uint64_t id, id2, h, h0;
	char name[16];
	int i;

	dom_open(&d);
	d.policy.notify_recipient_on_withdraw = true;
	id = dsend(&d, "amy", "ben");
	ok(id && !d.inv.held && dbox(&d, id) == PBOX_RECEIVED,
	    "held: no filter on: received, not held");
	dact(&d, DO_WITHDRAW, "amy", id);

	/* New members: amy was first seen at T0. */
	ok(dhold(&d, "ben", -1, -1, -1, 30) == 0, "held: ben holds members "
	    "first seen less than 30 days ago");
	m = dmember(&d, "ben");
	ok(m.own == MEMBER_OWN_HOLD_NEW && m.hold_new_days == 30,
	    "held: stored as ben's own new-member filter");
	d.now += DAY;
	h0 = h = dhead(&d);
	id = dsend(&d, "cat", "ben");
	ok(id && d.inv.held && dinv(&d, id).held, "held: cat (new) -> ben: held");
	is_int(dbox(&d, id), PBOX_HELD, "held: in ben's held box");
	is_str(dfeed(&d, "ben", h), "", "held: ben is not told");
	is_str(dfeed(&d, "cat", h), "", "held: cat is told nothing either");
	is_str(dfeed(&d, NULL, h), "invitation.held",
	    "held: the all feed has invitation.held, not invitation.received");
	is_str(dev_str(&d, NULL, h, EV_HELD, "member"), "ben",
	    "held: the event is ben's (as a received one would be)");
	ok(dpair(&d, "cat", "ben").open_id == id &&
	    dcounts(&d).state[ST_PENDING] == 1 &&
	    dmember(&d, "cat").open_sent == 1,
	    "held: pending, the pair's open one, counted in cat's open_sent");
	is_str(dview(&d.inv, ROLE_SENDER, "state"), "pending",
	    "held: cat sees it pending");
	ok(dsend(&d, "cat", "ben") == 0 &&
	    refused_with(&d, PE_ALREADY_PENDING, "already pending"),
	    "held: cat's next send: ALREADY_PENDING, as for any");
	/* Its whole life, ben is told nothing: the stale reminder (cat's),
	 * the expiry (cat's). */
	dadvance(&d, 14 * DAY);
	is_str(dfeed(&d, "cat", h), "invitation.stale",
	    "held: cat's stale reminder, as for any");
	is_str(dfeed(&d, "ben", h0), "", "held: ben is not told at 14 days");
	h = dhead(&d);
	dadvance(&d, 170 * DAY);
	ok(dinv(&d, id).state == ST_EXPIRED, "held: it expires as any");
	is_str(dfeed(&d, "cat", h), "invitation.expired",
	    "held: cat hears of its expiry");
	is_int(dbox(&d, id), PBOX_HELD, "held: expired, still in the held box");
	is_str(dfeed(&d, "ben", h), "", "held: nor of its expiry");

	/* Withdrawn: not told either, even with notify_recipient_on_withdraw.
	 * dan is new (first seen now). */
	h = dhead(&d);
	id = dsend(&d, "dan", "ben");
	ok(id && d.inv.held, "held: dan -> ben: held");
	ok(dact(&d, DO_WITHDRAW, "dan", id) == 0, "held: dan withdraws it");
	is_str(dfeed(&d, "ben", h), "",
	    "held: the withdrawal of a held one is not told to ben either");
	is_int(dbox(&d, id), PBOX_COUNT, "held: withdrawn: in no box");

	/* Accept from the held box: released, an ordinary acceptance. */
	d.now += 30 * DAY;	/* past dan's cooldown */
	id = dsend(&d, "eve", "ben");
	h = dhead(&d);
	ok(dact(&d, DO_ACCEPT, "ben", id) == 0 && !d.inv.held &&
	    dconn(&d, "eve", "ben") == d.now,
	    "held: ben accepts eve's from the held box: released, connected");
	is_str(dfeed(&d, "eve", h), "invitation.accepted,connection.created",
	    "held: eve hears of it as of any acceptance");
	is_int(dbox(&d, id), PBOX_RECEIVED, "held: accepted, in received");

	/* Ignore from the held box, then unignore: received. Report. */
	id = dsend(&d, "fay", "ben");
	ok(dact(&d, DO_IGNORE, "ben", id) == 0 && !dinv(&d, id).held &&
	    dbox(&d, id) == PBOX_IGNORED, "held: ignored from the held box");
	ok(dact(&d, DO_UNIGNORE, "ben", id) == 0 &&
	    dbox(&d, id) == PBOX_RECEIVED,
	    "held: unignored: to the received box, not the held one");
	id2 = dsend(&d, "gil", "ben");
	ok(dact(&d, DO_REPORT_SPAM, "ben", id2) == 0 &&
	    dbox(&d, id2) == PBOX_IGNORED && !dinv(&d, id2).held,
	    "held: reported from the held box: ignored");

	/* A mutual send releases a held one. */
	id = dsend(&d, "hal", "ben");
	ok(d.inv.held, "held: hal -> ben: held");
	ok(dsend(&d, "ben", "hal") && d.connected && !dinv(&d, id).held &&
	    dbox(&d, id) == PBOX_RECEIVED,
	    "held: ben invites hal: mutual, released and accepted");

	/* Reset to the policy's default; the policy's default holds. */
	ok(dhold(&d, "ben", -1, -1, -1, -2) == 0 &&
	    dmember(&d, "ben").own == 0, "held: ben resets the filter");
	id = dsend(&d, "ida", "ben");
	ok(id && !d.inv.held, "held: ida -> ben: not held (policy: off)");
	d.policy.hold.new_days = 7;
	id = dsend(&d, "jan", "ben");
	ok(id && d.inv.held, "held: the policy's 7 days: jan -> ben held");
	ok(dhold(&d, "ben", -1, -1, -1, 0) == 0, "held: ben's own 0 (off)");
	id = dsend(&d, "kai", "ben");
	ok(id && !d.inv.held, "held: ben's own 0 wins over the policy's");
	d.policy.hold.new_days = 0;
	dom_close(&d);

	/* No mutual connection; the two lists paged in turn. */
	dom_open(&d);
	dhold(&d, "ben", 1, -1, -1, -1);
	id = dsend(&d, "amy", "ben");
	ok(id && d.inv.held, "no mutual: amy -> ben: held");
	for (i = 0; i < 70; i++) {
		snprintf(name, sizeof name, "a%03d", i);
		dconnect_pair(&d, "cal", name);
		snprintf(name, sizeof name, "b%03d", i);
		dconnect_pair(&d, "ben", name);
	}
	id = dsend(&d, "cal", "ben");
	ok(id && d.inv.held, "no mutual: 70 connections each, none shared: "
	    "held");
	dact(&d, DO_WITHDRAW, "cal", id);
	dconnect_pair(&d, "cal", "b069");
	d.now += 30 * DAY;
	id = dsend(&d, "cal", "ben");
	ok(id && !d.inv.held, "no mutual: one shared, the last of both "
	    "lists: not held");
	dconnect_pair(&d, "dot", "b000");
	id = dsend(&d, "dot", "ben");
	ok(id && !d.inv.held, "no mutual: dot's one connection is ben's: "
	    "not held");
	dom_close(&d);

	/* Low health, and a recent restriction. */
	dom_open(&d);
	d.policy.restrict_min_decided = 2;
	d.policy.restrict_below_rate = 0;	/* never restricted here */
	dhold(&d, "ben", -1, 1, -1, -1);
	dsend(&d, "lou", "x1");
	dact(&d, DO_WITHDRAW, "lou", d.inv.id);
	id = dsend(&d, "lou", "ben");
	ok(id && !d.inv.held, "low health: 1 decided, too few to tell: "
	    "not held");
	dact(&d, DO_WITHDRAW, "lou", id);
	d.now += 30 * DAY;
	id = dsend(&d, "lou", "ben");
	ok(id && d.inv.held, "low health: 0 of 2 accepted: held");
	dom_close(&d);

	dom_open(&d);
	dhold(&d, "ben", -1, -1, 3, -1);
	memset(&m, 0, sizeof m);
	m.first_seen_at = T0 - 100 * DAY;
	m.restricted_at = T0 - 3 * DAY + HOUR;
	m.restricted_until = T0 - DAY;
	store_member_put(step(&d)->t, "mo", 2, &m);
	step_end(&d, 0);
	id = dsend(&d, "mo", "ben");
	ok(id && d.inv.held, "restricted: 3 days less an hour ago, 3 days: "
	    "held");
	dact(&d, DO_WITHDRAW, "mo", id);
	ok(dhold(&d, "ben", -1, -1, 2, -1) == 0, "restricted: ben makes it 2");
	d.now += 30 * DAY;
	id = dsend(&d, "mo", "ben");
	ok(id && !d.inv.held, "restricted: a month on: not held");
	dom_close(&d);
}

static void
test_withdraw_resend(void)
{
	struct dom d;
	uint64_t id, again, h;

	dom_open(&d);
	id = dsend(&d, "erin", "finn");
	h = dhead(&d);
	ok(dact(&d, DO_WITHDRAW, "finn", id) == -1 &&
	    refused_with(&d, PE_NOT_PERMITTED, "only the sender"),
	    "withdraw: by the recipient: NOT_PERMITTED");
	ok(dact(&d, DO_WITHDRAW, "erin", id) == 0 &&
	    d.inv.state == ST_WITHDRAWN, "withdraw: erin withdraws");
	is_int(d.cooldown_until, T0 + 21 * DAY,
	    "withdraw: a cooldown of 21 days");
	ok(dpair(&d, "erin", "finn").open_id == 0 &&
	    dpair(&d, "erin", "finn").cooldown_until == T0 + 21 * DAY,
	    "withdraw: the pair is free, with the cooldown");
	ok(ddue(&d).kind == DUE_COOLDOWN && ddue(&d).at == T0 + 21 * DAY,
	    "withdraw: the cooldown's end is the only deadline");
	is_str(dfeed(&d, "finn", h), "",
	    "withdraw: finn is not told (notify_recipient_on_withdraw off)");
	is_str(dfeed(&d, NULL, h), "invitation.withdrawn",
	    "withdraw: the all feed has it");
	ok(dact(&d, DO_ACCEPT, "finn", id) == -1 &&
	    refused_with(&d, PE_NOT_FOUND, "no invitation"),
	    "withdraw: it is gone for finn");
	ok(dact(&d, DO_WITHDRAW, "erin", id) == -1 &&
	    refused_with(&d, PE_INVALID_STATE, "is withdrawn"),
	    "withdraw: twice: INVALID_STATE");
	ok(dresend(&d, "erin", id) == 0 &&
	    refused_with(&d, PE_COOLDOWN, "you withdrew"),
	    "resend: in the cooldown: COOLDOWN");

	dadvance(&d, 21 * DAY);
	again = dresend(&d, "erin", id);
	ok(again > id && d.inv.state == ST_PENDING,
	    "resend: after the cooldown, a new pending invitation");
	ok(d.inv.resend_of == id && d.inv.attempt == 2,
	    "resend: it names the one it resends, attempt 2");
	ok(dresend(&d, "erin", again) == 0 &&
	    refused_with(&d, PE_INVALID_STATE, "only a withdrawn or expired"),
	    "resend: a pending one: INVALID_STATE");
	dom_close(&d);
}

/* Issue 9: what the recipient's view of an invitation carries, field by
 * field, from both sides: the sender's own fields are nil for the
 * recipient (rules_view_fields). */
static void
test_view_fields(void)
{
	struct dom d;
	uint64_t id, again, h;
	struct inv v;
	char first[24];

	dom_open(&d);
	id = dsend_p(&d, "gail", "hugo", PRIO_LOW);
	dact(&d, DO_WITHDRAW, "gail", id);
	dadvance(&d, 21 * DAY);
	h = dhead(&d);
	again = dresend(&d, "gail", id);
	v = dinv(&d, again);
	ok(again > 0 && v.resend_of == id && v.attempt == 2,
	    "view fields: a resend after a withdrawal, attempt 2");
	snprintf(first, sizeof first, "%llu", (unsigned long long)id);
	is_str(dview(&v, ROLE_SENDER, "resend_of"), first,
	    "view fields: the sender sees resend_of");
	is_str(dview(&v, ROLE_SENDER, "attempt"), "2",
	    "view fields: the sender sees attempt 2");
	is_str(dview(&v, ROLE_SENDER, "priority"), "low",
	    "view fields: the sender sees its priority");
	is_str(dview(&v, ROLE_RECIPIENT, "resend_of"), "nil",
	    "view fields: the recipient's resend_of is nil");
	is_str(dview(&v, ROLE_RECIPIENT, "attempt"), "nil",
	    "view fields: the recipient's attempt is nil");
	is_str(dview(&v, ROLE_RECIPIENT, "priority"), "nil",
	    "view fields: the recipient's priority is nil");
	is_str(dview(&v, ROLE_RECIPIENT, "state"), "pending",
	    "view fields: the recipient still sees the state");
	is_str(dev_show(&d, "hugo", h, EV_RECEIVED, "invitation.resend_of"),
	    "nil", "view fields: invitation.received: resend_of nil");
	is_str(dev_show(&d, "hugo", h, EV_RECEIVED, "invitation.attempt"),
	    "nil", "view fields: invitation.received: attempt nil");
	is_str(dev_show(&d, "hugo", h, EV_RECEIVED, "invitation.priority"),
	    "nil", "view fields: invitation.received: priority nil");
	dact(&d, DO_ACCEPT, "hugo", again);
	is_str(dev_show(&d, "gail", h, EV_ACCEPTED, "invitation.resend_of"),
	    first, "view fields: invitation.accepted: the sender's resend_of");
	is_str(dev_show(&d, "gail", h, EV_ACCEPTED, "invitation.priority"),
	    "low", "view fields: invitation.accepted: the sender's priority");
	ok(rules_filter_priority(ROLE_SENDER, &d.e) == 0,
	    "view fields: the sent box may be filtered by priority");
	ok(rules_filter_priority(ROLE_RECIPIENT, &d.e) == -1 &&
	    refused_with(&d, PE_INVALID_ARGUMENT, "the sender's own"),
	    "view fields: the received box may not: INVALID_ARGUMENT");
	dom_close(&d);
}

/* Issue 9: a quiet withdrawal takes the invitation.received event back
 * from the recipient's feed (rules_unsay_on_withdraw); the sender's feed
 * and the `all` feed keep theirs. */
static void
test_withdraw_unsays(void)
{
	struct dom d;
	uint64_t id, keep, other;

	dom_open(&d);
	id = dsend(&d, "ivan", "jane");
	keep = dsend(&d, "kate", "jane");
	is_str(dfeed(&d, "jane", 0), "invitation.received,invitation.received",
	    "unsay: jane was told of both invitations");
	dact(&d, DO_WITHDRAW, "ivan", id);
	is_str(dfeed(&d, "jane", 0), "invitation.received",
	    "unsay: after a quiet withdrawal, jane's feed from 0 has only kate's");
	is_int(dev_int(&d, "jane", 0, EV_RECEIVED, "invitation.id"),
	    (int64_t)keep, "unsay: the one left is kate's");
	is_str(dfeed(&d, NULL, 0),
	    "invitation.received,invitation.received,invitation.withdrawn",
	    "unsay: the all feed keeps every event");
	is_str(dfeed(&d, "ivan", 0), "",
	    "unsay: ivan's own feed is as before (told nothing)");

	/* A block's withdrawal (of the blocker's own invitation) is quiet
	 * too: it leaves the blocked member's feed. */
	other = dsend(&d, "jane", "luke");
	is_str(dfeed(&d, "luke", 0), "invitation.received",
	    "unsay: luke was told of jane's invitation");
	dblock(&d, "jane", "luke", true);
	ok(other > 0 && strcmp(dfeed(&d, "luke", 0), "") == 0,
	    "unsay: jane's block withdraws it and takes back luke's event");

	/* Told of the withdrawal: the received event stays, then withdrawn. */
	d.policy.notify_recipient_on_withdraw = true;
	id = dsend(&d, "mona", "nick");
	dact(&d, DO_WITHDRAW, "mona", id);
	is_str(dfeed(&d, "nick", 0), "invitation.received,invitation.withdrawn",
	    "unsay: with notify_recipient_on_withdraw the recipient keeps both");
	dom_close(&d);
}

/* Issue 12: the recipient's mutual_count counts to MUTUAL_COUNT_MAX (1000)
 * and no further, in the views and in the events; the sender's view has
 * none. 1001 members connected to both ada and ben, written straight to
 * the store. */
static void
test_mutual_count_cap(void)
{
	struct dom d;
	struct stx *t;
	struct inv v;
	char id[16];
	uint64_t inv, h;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked up;
	const msgpack_object *m[2];
	int i;

	dom_open(&d);
	t = store_begin(d.s, NULL);
	for (i = 0; i < MUTUAL_COUNT_MAX + 1; i++) {
		snprintf(id, sizeof id, "m%04d", i);
		store_conn_put(t, "ada", 3, id, strlen(id), T0);
		store_conn_put(t, id, strlen(id), "ben", 3, T0);
	}
	is_int(store_commit(t), STORE_OK, "mutual cap: 1001 shared");
	h = dhead(&d);
	inv = dsend(&d, "ada", "ben");
	v = dinv(&d, inv);
	is_str(dev_show(&d, "ben", h, EV_RECEIVED, "invitation.mutual_count"),
	    "1000", "mutual cap: invitation.received says 1000 (or more)");
	t = snap(&d);
	for (i = 0; i < 2; i++) {
		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		pack_inv(&pk, t, &v, i == 0 ? ROLE_RECIPIENT : ROLE_SENDER);
		msgpack_unpacked_init(&up);
		m[i] = NULL;
		if (msgpack_unpack_next(&up, sb.data, sb.size, NULL) ==
		    MSGPACK_UNPACK_SUCCESS) {
			m[i] = cr_get(&up.data, "mutual_count");
			if (i == 0)
				ok(m[i] != NULL && m[i]->via.u64 == 1000,
				    "mutual cap: the recipient's view counts to 1000");
			else
				ok(m[i] == NULL && up.data.via.map.size == 14,
				    "mutual cap: the sender's view, 14 keys, none of it");
		}
		msgpack_unpacked_destroy(&up);
		msgpack_sbuffer_destroy(&sb);
	}
	is_int(store_mutual_count(t, "ada", 3, "ben", 3, 2000), 1001,
	    "mutual cap: the store counts past it when asked");
	store_abort(t);
	dom_close(&d);
}

static void
test_mutual(void)
{
	struct dom d;
	struct store_counts c;
	uint64_t a, b, h;

	dom_open(&d);
	a = dsend(&d, "kim", "lee");
	h = dhead(&d);
	d.now += HOUR;
	b = dsend(&d, "lee", "kim");
	ok(b > 0 && d.connected && d.inv.state == ST_ACCEPTED,
	    "mutual: lee's send to kim connects at once, born accepted");
	is_int(dinv(&d, a).state, ST_ACCEPTED,
	    "mutual: kim's invitation is accepted too");
	is_int(dconn(&d, "kim", "lee"), T0 + HOUR, "mutual: connected now");
	c = dcounts(&d);
	ok(c.state[ST_ACCEPTED] == 2 && c.state[ST_PENDING] == 0 &&
	    c.connections == 1, "mutual: 2 accepted, 0 pending, 1 connection");
	ok(dpair(&d, "kim", "lee").open_id == 0 &&
	    dpair(&d, "lee", "kim").open_id == 0 && ddue(&d).at == 0,
	    "mutual: both pairs free, no deadline left");
	is_str(dfeed(&d, "kim", h), "invitation.accepted,connection.created",
	    "mutual: kim hears of the acceptance and the connection");
	is_str(dfeed(&d, "lee", h), "connection.created",
	    "mutual: lee hears of the connection");

	/* An ignored invitation still counts as wanted. */
	a = dsend(&d, "mo", "ned");
	dact(&d, DO_IGNORE, "ned", a);
	ok(dsend(&d, "ned", "mo") > 0 && d.connected &&
	    dinv(&d, a).state == ST_ACCEPTED,
	    "mutual: over an ignored invitation, it connects too");
	is_int(seen_by(&d, a, ROLE_RECIPIENT), ST_ACCEPTED,
	    "mutual: ned then sees it accepted, not ignored");

	d.policy.mutual_invite_connects = false;
	a = dsend(&d, "ola", "pia");
	ok(dsend(&d, "pia", "ola") > 0 && !d.connected &&
	    d.inv.state == ST_PENDING && dinv(&d, a).state == ST_PENDING,
	    "mutual: with mutual_invite_connects off, both stay pending");
	dom_close(&d);
}

static void
test_cooldown(void)
{
	struct dom d;
	uint64_t id, h;

	dom_open(&d);
	id = dsend(&d, "gail", "hal");
	dact(&d, DO_WITHDRAW, "gail", id);
	is_int(dadvance(&d, 20 * DAY), 0, "cooldown: nothing due by day 20");
	ok(dsend(&d, "gail", "hal") == 0 &&
	    refused_with(&d, PE_COOLDOWN, "allowed again from 2026-01-22") &&
	    d.e.retry_at == T0 + 21 * DAY,
	    "cooldown: refused at day 20, retry_at day 21");
	h = dhead(&d);
	is_int(dadvance(&d, DAY), 1, "cooldown: its end runs at day 21");
	is_int(dpair(&d, "gail", "hal").cooldown_until, 0,
	    "cooldown: the pair's cooldown is cleared");
	is_str(dfeed(&d, "gail", h), "cooldown.ended", "cooldown: gail is told");
	is_str(dfeed(&d, "hal", h), "", "cooldown: hal is not");
	ok(dsend(&d, "gail", "hal") > 0, "cooldown: allowed at day 21");
	dom_close(&d);
}

static void
test_cooldown_escalates(void)
{
	static const int days[] = { 1, 7, 30, 30 };
	struct dom d;
	uint64_t id;
	int i;

	dom_open(&d);
	d.policy.resend_cooldown[0] = 1 * DAY;
	d.policy.resend_cooldown[1] = 7 * DAY;
	d.policy.resend_cooldown[2] = 30 * DAY;
	d.policy.resend_cooldowns = 3;
	d.policy.invites_per_pair = 0;
	id = dsend(&d, "ivan", "jill");
	for (i = 0; i < 4; i++) {
		dact(&d, DO_WITHDRAW, "ivan", id);
		is_int(d.cooldown_until - d.now, days[i] * DAY,
		    "cooldowns: withdrawal %d starts %d days", i + 1, days[i]);
		dadvance(&d, days[i] * DAY - 1);
		ok(dresend(&d, "ivan", id) == 0 &&
		    refused_with(&d, PE_COOLDOWN, "you withdrew"),
		    "cooldowns: refused a second before its end");
		dadvance(&d, 1);
		id = dresend(&d, "ivan", id);
		ok(id > 0, "cooldowns: resent at its end");
	}
	is_int(dpair(&d, "ivan", "jill").withdrawals, 4,
	    "cooldowns: the pair counts 4 withdrawals");
	dom_close(&d);
}

static void
test_stale_expiry(void)
{
	struct dom d;
	struct pair pr;
	uint64_t id, h;

	dom_open(&d);
	d.policy.recipient_remind_after = 0;	/* the sender's side only */
	id = dsend(&d, "olga", "pete");
	h = dhead(&d);
	is_int(dadvance(&d, 14 * DAY - 1), 0,
	    "stale: nothing due before day 14");
	is_int(dadvance(&d, 1), 1, "stale: the reminder runs at day 14");
	is_str(dfeed(&d, "olga", h), "invitation.stale", "stale: olga is told");
	is_str(dfeed(&d, "pete", h), "", "stale: pete is not");
	ok(dinv(&d, id).reminded_at == T0 + 14 * DAY &&
	    dinv(&d, id).state == ST_PENDING,
	    "stale: reminded at day 14, still pending");

	dadvance(&d, 166 * DAY - 1);
	is_int(dinv(&d, id).state, ST_PENDING,
	    "expiry: pending a second before day 180");
	h = dhead(&d);
	is_int(dadvance(&d, 1), 1, "expiry: runs at day 180");
	is_int(dinv(&d, id).state, ST_EXPIRED, "expiry: expired");
	is_str(dfeed(&d, "olga", h), "invitation.expired",
	    "expiry: olga is told");
	is_str(dfeed(&d, "pete", h), "", "expiry: pete is not");
	pr = dpair(&d, "olga", "pete");
	ok(pr.open_id == 0 && pr.cooldown_until == 0 && ddue(&d).at == 0,
	    "expiry: the pair is free, no cooldown, no deadline");
	ok(dsend(&d, "olga", "pete") > 0, "expiry: olga may invite pete again");
	dom_close(&d);
}

static void
test_restriction(void)
{
	struct dom d;
	uint64_t ids[6], h;
	char to[16];
	int64_t until;
	int i;

	dom_open(&d);
	d.policy.restrict_min_decided = 4;	/* below 20% of the last 4 */
	for (i = 0; i < 6; i++) {
		snprintf(to, sizeof to, "r%d", i);
		ids[i] = dsend(&d, "quinn", to);
	}
	dact(&d, DO_ACCEPT, "r0", ids[0]);
	for (i = 1; i <= 3; i++)
		dact(&d, DO_WITHDRAW, "quinn", ids[i]);
	is_int(dmember(&d, "quinn").restricted_until, 0,
	    "restriction: 1 accepted of 4 decided (25%%): not restricted");
	h = dhead(&d);
	d.now += HOUR;
	dact(&d, DO_WITHDRAW, "quinn", ids[4]);
	until = d.now + 7 * DAY;
	is_int(dmember(&d, "quinn").restricted_until, until,
	    "restriction: 0 of the last 4 accepted: restricted for 7 days");
	is_str(dfeed(&d, "quinn", h), "restriction.started",
	    "restriction: quinn is told");
	ok(strcmp(dev_str(&d, "quinn", h, EV_RESTRICTION_STARTED, "code"),
	    "acceptance_rate") == 0 && dev_int(&d, "quinn", h,
	    EV_RESTRICTION_STARTED, "until") == until,
	    "restriction: why, and until when");
	ok(dsend(&d, "quinn", "s1") == 0 &&
	    refused_with(&d, PE_RESTRICTED, "restricted") &&
	    d.e.retry_at == until, "restriction: a send: RESTRICTED, retry_at");
	dadvance(&d, 7 * DAY - 1);
	ok(dsend(&d, "quinn", "s1") == 0 && d.e.code == PE_RESTRICTED,
	    "restriction: still refused a second before its end");
	h = dhead(&d);
	is_int(dadvance(&d, 1), 1, "restriction: its end runs after 7 days");
	is_int(dmember(&d, "quinn").restricted_until, 0,
	    "restriction: lifted");
	is_str(dfeed(&d, "quinn", h), "restriction.ended",
	    "restriction: quinn is told it ended");
	ok(dsend(&d, "quinn", "s1") > 0, "restriction: sends pass again");
	ok(dact(&d, DO_WITHDRAW, "quinn", ids[5]) == 0 &&
	    dmember(&d, "quinn").restricted_until == 0,
	    "restriction: a decision after: the old evidence does not restrict again");
	dom_close(&d);
}

/* restrict_for = 1d, 7d, 30d within 45 days, every report restricting:
 * the n-th restriction in the window lasts the n-th, the last repeats, and
 * one that began before the window does not count. */
static void
test_restriction_escalates(void)
{
	static const int64_t lasts[] = { 1, 7, 30, 30, 7 };
	static const uint64_t before[] = { 0, 1, 2, 3, 1 };
	struct dom d;
	struct member_stats st;
	uint64_t ids[5], h;
	char to[16];
	int i;

	dom_open(&d);
	d.policy.reports_to_restrict = 1;
	d.policy.restrict_for[0] = 1 * DAY;
	d.policy.restrict_for[1] = 7 * DAY;
	d.policy.restrict_for[2] = 30 * DAY;
	d.policy.restrict_fors = 3;
	d.policy.restrict_window = 45 * DAY;
	for (i = 0; i < 5; i++) {
		snprintf(to, sizeof to, "e%d", i);
		ids[i] = dsend(&d, "esc", to);
	}
	for (i = 0; i < 5; i++) {
		snprintf(to, sizeof to, "e%d", i);
		ok(step_end(&d, member_stats(step(&d), S("esc"), 90 * DAY, &st,
		    &d.e)) == 0 && st.restrictions == before[i] &&
		    st.next_restrict_for == (uint64_t)(lasts[i] * DAY),
		    "escalation: before report %d, stats: %d in the window, the next lasts %d days",
		    i + 1, (int)before[i], (int)lasts[i]);
		h = dhead(&d);
		dact(&d, DO_REPORT_SPAM, to, ids[i]);
		is_int(dmember(&d, "esc").restricted_until, d.now + lasts[i] * DAY,
		    "escalation: restriction %d lasts %d days", i + 1,
		    (int)lasts[i]);
		is_int(dev_int(&d, "esc", h, EV_RESTRICTION_STARTED, "until"),
		    d.now + lasts[i] * DAY, "escalation: restriction.started says so");
		dadvance(&d, lasts[i] * DAY - 1);
		snprintf(to, sizeof to, "x%d", i);
		ok(dsend(&d, "esc", to) == 0 && d.e.code == PE_RESTRICTED,
		    "escalation: still restricted a second before its end");
		is_int(dadvance(&d, 1), 1, "escalation: it ends after %d days",
		    (int)lasts[i]);
		is_int(dmember(&d, "esc").restricted_until, 0,
		    "escalation: lifted");
	}
	ok(step_end(&d, member_stats(step(&d), S("esc"), 90 * DAY, &st,
	    &d.e)) == 0 && st.restrictions == 2 &&
	    st.next_restrict_for == 30 * DAY,
	    "escalation: after, 2 in the window (day 38 and 68): the next lasts 30 days");
	dom_close(&d);
}

/* How many events of type are in member's feed after seq (member NULL:
 * the `all` feed). */
static int
dcount(struct dom *d, const char *member, uint64_t after, const char *type)
{
	const char *s = dfeed(d, member, after), *p;
	size_t n = strlen(type);
	int k = 0;

	for (p = s; (p = strstr(p, type)) != NULL; p += n)
		if ((p == s || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			k++;
	return k;
}

/* Whether a deadline of kind for id is stored (at 0: at any time). */
struct due_find {
	struct due want;
	bool found;
};

static bool
due_find_one(void *ctx, const struct due *due)
{
	struct due_find *f = ctx;

	if (due->kind == f->want.kind && due->id == f->want.id &&
	    (f->want.at == 0 || due->at == f->want.at))
		f->found = true;
	return !f->found;
}

static bool
dhas_due(struct dom *d, int kind, uint64_t id, int64_t at)
{
	struct stx *t = snap(d);
	struct due_find f;

	memset(&f, 0, sizeof f);
	f.want.kind = (uint8_t)kind;
	f.want.id = id;
	f.want.at = at;
	store_scan_dues(t, due_find_one, &f);
	store_abort(t);
	return f.found;
}

/* How many deadlines of kind are stored. */
struct due_kinds {
	int kind, n;
};

static bool
due_kind_one(void *ctx, const struct due *due)
{
	struct due_kinds *k = ctx;

	k->n += due->kind == k->kind;
	return true;
}

static int
ndues(struct dom *d, int kind)
{
	struct stx *t = snap(d);
	struct due_kinds k = { kind, 0 };

	store_scan_dues(t, due_kind_one, &k);
	store_abort(t);
	return k.n;
}

/* The whole of invitation id as its sender sees it (pack_inv), as bytes. */
static size_t
sender_view(struct dom *d, uint64_t id, char *buf, size_t cap)
{
	struct inv v = dinv(d, id);
	msgpack_sbuffer sb;
	msgpack_packer pk;
	size_t n;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	pack_inv(&pk, NULL, &v, ROLE_SENDER);
	n = sb.size < cap ? sb.size : cap;
	memcpy(buf, sb.data, n);
	msgpack_sbuffer_destroy(&sb);
	return n;
}

/* Holds invitation id for its recipient, as a quarantine filter would:
 * it stops waiting for them (remind_gone). */
static void
dhold_id(struct dom *d, uint64_t id)
{
	struct op *o = step(d);
	struct inv v;

	store_inv_get(o->t, id, &v);
	v.held = true;
	store_inv_put(o->t, &v, v.state);
	remind_gone(o, &v);
	step_end(d, 0);
}

static struct member_stats
dstats(struct dom *d, const char *member)
{
	struct member_stats st;

	if (step_end(d, member_stats(step(d), S(member), 90 * DAY, &st,
	    &d->e)) == -1)
		memset(&st, 0, sizeof st);
	return st;
}

/* The recipient's reminder: once, recipient_remind_after (7 days) after
 * the send, to the recipient only; never after a withdrawal, an accept,
 * an ignore or the expiry, never for a held invitation, and taken back
 * with the invitation.received when withdrawn after it. */
static void
test_recipient_reminder(void)
{
	struct dom d;
	struct send_req r;
	struct member_stats s0, s1;
	char v0[1024], v1[1024];
	size_t n0, n1;
	uint64_t id, iw, ia, ix, ii, ie, io, ih, iu, iv, h;

	dom_open(&d);
	id = dsend(&d, "rita", "sam");
	is_int(dinv(&d, id).remind_at, T0 + 7 * DAY,
	    "reminder: due 7 days after the send");
	ok(dhas_due(&d, DUE_REMIND, id, T0 + 7 * DAY),
	    "reminder: a durable deadline");
	n0 = sender_view(&d, id, v0, sizeof v0);
	s0 = dstats(&d, "rita");
	h = dhead(&d);
	dadvance(&d, 7 * DAY - 1);
	is_str(dfeed(&d, "sam", h), "", "reminder: nothing a second before");
	is_int(dadvance(&d, 1), 1, "reminder: its deadline runs at day 7");
	is_str(dfeed(&d, "sam", h), "invitation.reminder",
	    "reminder: sam is reminded");
	ok(dev_int(&d, "sam", h, EV_REMINDER, "invitation.id") == (int64_t)id &&
	    dev_int(&d, "sam", h, EV_REMINDER, "at") == T0 + 7 * DAY,
	    "reminder: of that invitation, at its time");
	is_str(dfeed(&d, "rita", h), "", "reminder privacy: rita is told nothing");
	n1 = sender_view(&d, id, v1, sizeof v1);
	ok(n0 == n1 && memcmp(v0, v1, n0) == 0,
	    "reminder privacy: the invitation as rita sees it is the same, field for field");
	s1 = dstats(&d, "rita");
	ok(s0.sent == s1.sent && s0.accepted == s1.accepted &&
	    s0.withdrawn == s1.withdrawn && s0.expired == s1.expired &&
	    s0.rec.open_sent == s1.rec.open_sent &&
	    s0.rec.restricted_until == s1.rec.restricted_until,
	    "reminder privacy: rita's stats are the same");
	h = dhead(&d);
	dadvance(&d, 100 * DAY);
	is_int(dcount(&d, NULL, h, "invitation.reminder"), 0,
	    "reminder: once, however long it stays pending");

	/* Withdrawn a second before its reminder: none, ever. */
	iw = dsend(&d, "rita", "tom");
	dadvance(&d, 7 * DAY - 1);
	h = dhead(&d);
	dact(&d, DO_WITHDRAW, "rita", iw);
	ok(!dhas_due(&d, DUE_REMIND, iw, 0),
	    "reminder: a withdrawal takes its deadline away");
	dadvance(&d, 1);
	dadvance(&d, 30 * DAY);
	is_int(dcount(&d, "tom", 0, "invitation.reminder"), 0,
	    "reminder: never after a withdrawal");
	is_int(dcount(&d, NULL, h, "invitation.reminder"), 0,
	    "reminder: not even in the all feed");

	/* Withdrawn after it: taken back with invitation.received. */
	h = dhead(&d);
	ia = dsend(&d, "rita", "uma");
	dadvance(&d, 7 * DAY);
	is_str(dfeed(&d, "uma", 0), "invitation.received,invitation.reminder",
	    "reminder: uma was reminded");
	dact(&d, DO_WITHDRAW, "rita", ia);
	is_str(dfeed(&d, "uma", 0), "",
	    "reminder: withdrawn after it, both leave uma's feed");
	is_int(dcount(&d, NULL, h, "invitation.reminder"), 1,
	    "reminder: the all feed keeps it");

	/* Accepted, ignored, expiring first, turned off, held: none. */
	h = dhead(&d);
	ix = dsend(&d, "vic", "wes");
	dact(&d, DO_ACCEPT, "wes", ix);
	ii = dsend(&d, "vic", "xan");
	dact(&d, DO_IGNORE, "xan", ii);
	memset(&r, 0, sizeof r);
	r.from = S("vic");
	r.to = S("yul");
	r.expires_in = 5 * DAY;
	ok(step_end(&d, invite_send(step(&d), &r, &d.inv, &d.connected,
	    &d.warnings, &d.e)) == 0, "reminder: a send expiring in 5 days");
	ie = d.inv.id;
	is_int(dinv(&d, ie).remind_at, 0,
	    "reminder: none for an invitation that expires first");
	ih = dsend(&d, "vic", "hal");
	dhold_id(&d, ih);
	d.policy.recipient_remind_after = 0;
	io = dsend(&d, "vic", "zed");
	is_int(dinv(&d, io).remind_at, 0, "reminder: none when turned off");
	d.policy.recipient_remind_after = 7 * DAY;
	ok(!dhas_due(&d, DUE_REMIND, ix, 0) && !dhas_due(&d, DUE_REMIND, ii, 0),
	    "reminder: an accept and an ignore take its deadline away");
	dadvance(&d, 30 * DAY);
	ok(dcount(&d, "wes", h, "invitation.reminder") == 0 &&
	    dcount(&d, "xan", h, "invitation.reminder") == 0 &&
	    dcount(&d, "yul", h, "invitation.reminder") == 0 &&
	    dcount(&d, "zed", h, "invitation.reminder") == 0,
	    "reminder: none after an accept, an ignore, an expiry, or when off");
	is_int(dcount(&d, "hal", h, "invitation.reminder"), 0,
	    "reminder: none for a held invitation");
	is_int(ndues(&d, DUE_REMIND), 0, "reminder: no deadline left behind");

	/* Ignored, then unignored before its time: waiting again, it is
	 * reminded once; unignored after its time: no late reminder. */
	h = dhead(&d);
	iu = dsend(&d, "vic", "ulf");
	dact(&d, DO_IGNORE, "ulf", iu);
	ok(!dhas_due(&d, DUE_REMIND, iu, 0), "reminder: ignored, no deadline");
	ok(dact(&d, DO_UNIGNORE, "ulf", iu) == 0 &&
	    dhas_due(&d, DUE_REMIND, iu, 0),
	    "reminder: unignored before its time, its deadline is back");
	dadvance(&d, 7 * DAY);
	is_int(dcount(&d, "ulf", h, "invitation.reminder"), 1,
	    "reminder: unignored, ulf is reminded, once");
	iv = dsend(&d, "vic", "val");
	dact(&d, DO_IGNORE, "val", iv);
	dadvance(&d, 8 * DAY);
	ok(dact(&d, DO_UNIGNORE, "val", iv) == 0 &&
	    !dhas_due(&d, DUE_REMIND, iv, 0),
	    "reminder: unignored after its time, no deadline");
	dadvance(&d, DAY);
	is_int(dcount(&d, "val", h, "invitation.reminder"), 0,
	    "reminder: and no late reminder");
	dom_close(&d);
}

/* The digest: at each multiple of digest_every, how many invitations wait
 * (pending, not ignored, not held) and since when; none when none wait;
 * a withdrawal leaves the next one; the member's own interval or off. */
static void
test_digest(void)
{
	struct dom d;
	struct member_rec m;
	uint64_t i1, i2, i3, i4, i5, h;
	int k;

	dom_open(&d);
	d.policy.digest_every = DAY;
	d.policy.recipient_remind_after = 0;
	d.now = T0 + HOUR;
	i1 = dsend(&d, "ann", "dora");
	d.now = T0 + 2 * HOUR;
	i2 = dsend(&d, "ben", "dora");
	i3 = dsend(&d, "cy", "dora");
	dact(&d, DO_IGNORE, "dora", i3);
	i4 = dsend(&d, "dan", "dora");
	dhold_id(&d, i4);
	is_int(ndues(&d, DUE_DIGEST), 1, "digest: one deadline for dora");
	ok(dhas_due(&d, DUE_DIGEST, i2, T0 + DAY),
	    "digest: at the next midnight, held by the newest waiting");
	h = dhead(&d);
	dadvance(&d, DAY - 2 * HOUR - 1);
	is_str(dfeed(&d, "dora", h), "", "digest: nothing a second before");
	dadvance(&d, 1);
	is_str(dfeed(&d, "dora", h), "invitation.digest", "digest: at day 1");
	ok(dev_int(&d, "dora", h, EV_DIGEST, "count") == 2 &&
	    dev_int(&d, "dora", h, EV_DIGEST, "oldest_at") == T0 + HOUR &&
	    dev_int(&d, "dora", h, EV_DIGEST, "at") == T0 + DAY,
	    "digest: 2 waiting (not the ignored, not the held), the oldest sent at 01:00");
	ok(dcount(&d, "ann", 0, "invitation.digest") == 0 &&
	    dcount(&d, "ben", 0, "invitation.digest") == 0 &&
	    strcmp(dfeed(&d, "ben", 0), "") == 0,
	    "digest privacy: the senders are told nothing");

	/* The newest (the holder) withdrawn: the next one counts one. */
	d.now += HOUR;
	dact(&d, DO_WITHDRAW, "ben", i2);
	h = dhead(&d);
	dadvance(&d, DAY - HOUR);
	is_int(dcount(&d, "dora", h, "invitation.digest"), 1,
	    "digest: one on day 2, after a withdrawal");
	ok(dev_int(&d, "dora", h, EV_DIGEST, "count") == 1 &&
	    dev_int(&d, "dora", h, EV_DIGEST, "oldest_at") == T0 + HOUR,
	    "digest: the withdrawn one is left out");

	/* None waiting: no digest, no deadline. */
	dact(&d, DO_ACCEPT, "dora", i1);
	h = dhead(&d);
	dadvance(&d, 3 * DAY);
	is_int(dcount(&d, "dora", h, "invitation.digest"), 0,
	    "digest: none while none wait");
	is_int(ndues(&d, DUE_DIGEST), 0, "digest: and no deadline");
	i5 = dsend(&d, "eve", "dora");
	h = dhead(&d);
	dadvance(&d, DAY);
	ok(dcount(&d, "dora", h, "invitation.digest") == 1 &&
	    dev_int(&d, "dora", h, EV_DIGEST, "count") == 1,
	    "digest: a new one starts them again");
	(void)i5;

	/* The member's own interval: off, 2 days, back to the policy's. */
	ok(step_end(&d, member_settings_set(step(&d), S("dora"), -1, S(NULL),
	    NULL, NULL, &(struct digest_change){ SET_VALUE, 60 }, &m,
	    &d.e)) == -1 &&
	    refused_with(&d, PE_INVALID_ARGUMENT, "digest_every"),
	    "digest: a minute is refused");
	ok(step_end(&d, member_settings_set(step(&d), S("dora"), -1, S(NULL),
	    NULL, NULL, &(struct digest_change){ SET_VALUE, 0 }, &m,
	    &d.e)) == 0 && (m.own & MEMBER_OWN_DIGEST),
	    "digest: dora turns hers off");
	is_int(ndues(&d, DUE_DIGEST), 0, "digest: off, no deadline");
	h = dhead(&d);
	dadvance(&d, 3 * DAY);
	is_int(dcount(&d, "dora", h, "invitation.digest"), 0,
	    "digest: off, none");
	ok(step_end(&d, member_settings_set(step(&d), S("dora"), -1, S(NULL),
	    NULL, NULL, &(struct digest_change){ SET_VALUE, 2 * DAY }, &m,
	    &d.e)) == 0, "digest: dora wants one every 2 days");
	h = dhead(&d);
	for (k = 0; k < 4; k++)
		dadvance(&d, DAY);
	is_int(dcount(&d, "dora", h, "invitation.digest"), 2,
	    "digest: 2 in 4 days");
	ok(step_end(&d, member_settings_set(step(&d), S("dora"), -1, S(NULL),
	    NULL, NULL, &(struct digest_change){ SET_RESET, 0 }, &m, &d.e)) == 0 && !(m.own & MEMBER_OWN_DIGEST),
	    "digest: reset to the policy's");
	h = dhead(&d);
	for (k = 0; k < 4; k++)
		dadvance(&d, DAY);
	is_int(dcount(&d, "dora", h, "invitation.digest"), 4,
	    "digest: the policy's, daily");
	h = dhead(&d);
	dadvance(&d, 5 * DAY);
	is_int(dcount(&d, "dora", h, "invitation.digest"), 1,
	    "digest: 5 days handled at once (a daemon down): one digest, not 5");
	is_int(ndues(&d, DUE_DIGEST), 1, "digest: one deadline all along");
	dom_close(&d);
}

/* sender's 20 invitations: 3 accepted, then 17 withdrawn by hand after
 * age seconds, at prio. */
static void
accept3_withdraw17(struct dom *d, const char *sender, int prio, int64_t age)
{
	uint64_t ids[20];
	char to[32];
	int i;

	for (i = 0; i < 20; i++) {
		snprintf(to, sizeof to, "%s-%d", sender, i);
		ids[i] = dsend_p(d, sender, to, prio);
	}
	for (i = 0; i < 3; i++) {
		snprintf(to, sizeof to, "%s-%d", sender, i);
		dact(d, DO_ACCEPT, to, ids[i]);
	}
	dadvance(d, age);
	for (i = 3; i < 20; i++)
		dact(d, DO_WITHDRAW, sender, ids[i]);
}

/* Issue 9: following the advice by hand never restricts (rules_decided,
 * rules_withdrawal_advised); withdrawing what it did not advise does, as
 * before. */
static void
test_advised_withdrawals(void)
{
	struct dom d;
	struct member_stats st;

	dom_open(&d);
	accept3_withdraw17(&d, "sara", PRIO_LOW, 15 * DAY);
	is_int(dmember(&d, "sara").restricted_until, 0,
	    "advised: 3 accepted, 17 stale low ones withdrawn by hand: not restricted");
	ok(step_end(&d, member_stats(step(&d), S("sara"), 90 * DAY, &st,
	    &d.e)) == 0 && st.withdrawn == 17 && st.decided == 20,
	    "advised: stats still count the 17 withdrawals (decided 20)");
	accept3_withdraw17(&d, "sven", PRIO_MEDIUM, 14 * DAY);
	is_int(dmember(&d, "sven").restricted_until, 0,
	    "advised: medium ones withdrawn at 14 days exactly: not restricted");
	accept3_withdraw17(&d, "tina", PRIO_MEDIUM, HOUR);
	is_int(dmember(&d, "tina").restricted_until, d.now + 7 * DAY,
	    "advised: 17 fresh ones withdrawn by hand: restricted as before");
	accept3_withdraw17(&d, "ugo", PRIO_HIGH, 15 * DAY);
	is_int(dmember(&d, "ugo").restricted_until, d.now + 7 * DAY,
	    "advised: 17 stale high-priority ones (advice: let expire): restricted");
	dom_close(&d);
}

static void
test_reports(void)
{
	struct dom d;
	uint64_t ids[4], h;
	char to[16];
	int i;

	dom_open(&d);
	d.policy.reports_to_restrict = 3;
	for (i = 0; i < 4; i++) {
		snprintf(to, sizeof to, "u%d", i);
		ids[i] = dsend(&d, "spam", to);
	}
	h = dhead(&d);
	ok(dact(&d, DO_REPORT_SPAM, "spam", ids[0]) == -1 &&
	    refused_with(&d, PE_NOT_PERMITTED, "only the recipient"),
	    "report: by the sender: NOT_PERMITTED");
	ok(dact(&d, DO_REPORT_SPAM, "u0", ids[0]) == 0 && d.inv.reported &&
	    d.inv.state == ST_IGNORED, "report: u0 reports spam: ignored");
	is_int(seen_by(&d, ids[0], ROLE_SENDER), ST_PENDING,
	    "report: the sender still sees it pending");
	is_str(dfeed(&d, "spam", h), "", "report: the sender is told nothing");
	ok(dact(&d, DO_REPORT_SPAM, "u0", ids[0]) == -1 &&
	    refused_with(&d, PE_INVALID_STATE, "already reported"),
	    "report: a second report: INVALID_STATE");
	ok(!dflag(&d, FLAG_NOGO, "spam", "u0"),
	    "report: spam does not forbid inviting again");
	ok(dact(&d, DO_REPORT_DONT_KNOW, "u1", ids[1]) == 0 &&
	    dflag(&d, FLAG_NOGO, "spam", "u1"),
	    "report: u1 does not know spam: noted");
	ok(dact(&d, DO_WITHDRAW, "spam", ids[1]) == 0,
	    "report: spam may withdraw the reported invitation");
	is_int(dmember(&d, "spam").restricted_until, 0,
	    "report: 2 reports do not restrict");
	h = dhead(&d);
	dact(&d, DO_REPORT_SPAM, "u2", ids[2]);
	is_int(dmember(&d, "spam").restricted_until, T0 + 7 * DAY,
	    "report: the 3rd report restricts");
	is_str(dev_str(&d, "spam", h, EV_RESTRICTION_STARTED, "code"),
	    "reports", "report: restriction.started says reports");
	ok(dsend(&d, "spam", "u9") == 0 &&
	    refused_with(&d, PE_RESTRICTED, "restricted"),
	    "report: sends are RESTRICTED");

	dadvance(&d, 21 * DAY);
	ok(dsend(&d, "spam", "u1") == 0 &&
	    refused_with(&d, PE_NOT_PERMITTED, "does not accept invitations"),
	    "report: after the cooldown, spam may not invite u1 (dont_know)");
	ok(dsend(&d, "spam", "u9") > 0,
	    "report: the restriction over, others may be invited");
	dom_close(&d);
}

static void
test_blocks(void)
{
	struct dom d;
	uint64_t a, b, x, h;

	dom_open(&d);
	a = dsend(&d, "vic", "wes");
	x = dsend(&d, "vic", "xia");
	dact(&d, DO_ACCEPT, "xia", x);
	b = dsend(&d, "yan", "vic");
	h = dhead(&d);
	ok(dblock(&d, "vic", "vic", true) == -1 &&
	    refused_with(&d, PE_INVALID_ARGUMENT, "cannot block yourself"),
	    "block: oneself: INVALID_ARGUMENT");
	ok(dblock(&d, "vic", "wes", true) == 0 &&
	    dinv(&d, a).state == ST_WITHDRAWN,
	    "block: vic's pending invitation to wes is withdrawn");
	is_int(dpair(&d, "vic", "wes").cooldown_until, 0,
	    "block: with no cooldown");
	ok(dblock(&d, "vic", "yan", true) == 0 &&
	    dinv(&d, b).state == ST_IGNORED && dinv(&d, b).ignored,
	    "block: yan's pending invitation to vic is ignored (issue 9)");
	ok(rules_view(dinv(&d, b).state, true, ROLE_SENDER) == ST_PENDING &&
	    dmember(&d, "yan").open_sent == 1,
	    "block: yan still sees it pending, and counts it pending");
	ok(dblock(&d, "vic", "xia", true) == 0 && dconn(&d, "vic", "xia") == 0 &&
	    dcounts(&d).connections == 0, "block: the connection is removed");
	ok(strcmp(dfeed(&d, "vic", h), "") == 0 &&
	    strcmp(dfeed(&d, "wes", h), "") == 0 &&
	    strcmp(dfeed(&d, "yan", h), "") == 0 &&
	    strcmp(dfeed(&d, "xia", h), "") == 0, "block: nobody is told");
	is_str(dfeed(&d, NULL, h),
	    "invitation.withdrawn,invitation.ignored,connection.removed",
	    "block: the all feed has all three");
	ok(dsend(&d, "wes", "vic") == 0 &&
	    refused_with(&d, PE_NOT_PERMITTED, "does not accept invitations"),
	    "block: the blocked may not invite the blocker");
	ok(dsend(&d, "vic", "wes") == 0 &&
	    refused_with(&d, PE_NOT_PERMITTED, "does not accept invitations"),
	    "block: nor the blocker the blocked");
	ok(dblock(&d, "vic", "wes", false) == 0 &&
	    !dflag(&d, FLAG_BLOCK, "vic", "wes") && dsend(&d, "wes", "vic") > 0,
	    "unblock: sends pass again");
	dom_close(&d);
}

/* Issue 9 (b): what a sender can learn, through invite.can_send, of a
 * recipient who blocked them and of one who takes invitations from
 * nobody: the same refusal, the same quota.pending, and its own
 * invitation pending in both cases. */
static void
test_block_like_closed_door(void)
{
	struct dom d;
	struct send_facts fb, fn;
	struct send_req r;
	struct member_rec m;
	struct proto_error eb, en;
	enum send_outcome out;
	unsigned w;
	uint64_t ib, in;

	dom_open(&d);
	ib = dsend(&d, "abe", "bea");
	in = dsend(&d, "cal", "dee");
	dblock(&d, "bea", "abe", true);
	step_end(&d, member_settings_set(step(&d), S("dee"), FROM_NOBODY,
	    S(NULL), NULL, NULL, NULL, &m, &d.e));
	memset(&r, 0, sizeof r);
	r.from = S("abe");
	r.to = S("bea");
	invite_send_facts(step(&d), &r, true, &fb);
	step_end(&d, -1);
	r.from = S("cal");
	r.to = S("dee");
	invite_send_facts(step(&d), &r, true, &fn);
	step_end(&d, -1);
	ok(rules_send(&d.policy, &fb, &out, &w, &eb) == -1 &&
	    rules_send(&d.policy, &fn, &out, &w, &en) == -1 &&
	    eb.code == en.code && strcmp(eb.message, en.message) == 0,
	    "closed door: can_send refuses a block and \"nobody\" alike");
	is_int(fb.pending_sent, fn.pending_sent,
	    "closed door: quota.pending is the same (1) for both senders");
	is_int(fb.pending_sent, 1, "closed door: the invitation still counts");
	ok(rules_view(dinv(&d, ib).state, dinv(&d, ib).ignored, ROLE_SENDER) ==
	    ST_PENDING && rules_view(dinv(&d, in).state, dinv(&d, in).ignored,
	    ROLE_SENDER) == ST_PENDING,
	    "closed door: both senders see their invitation pending");
	dom_close(&d);
}

static void
test_plan(void)
{
	/* Sent an hour apart, oldest first. */
	static const int prio[] = { PRIO_HIGH, PRIO_LOW, PRIO_MEDIUM, PRIO_LOW,
	    PRIO_MEDIUM, PRIO_HIGH, PRIO_LOW };
	struct dom d;
	uint64_t ids[7], fresh, plan, h;
	char to[16];
	int i;

	dom_open(&d);
	d.policy.restrict_min_decided = 3;
	for (i = 0; i < 7; i++) {
		snprintf(to, sizeof to, "p%d", i);
		ids[i] = dsend_p(&d, "zed", to, prio[i]);
		d.now += HOUR;
	}
	dadvance(&d, 20 * DAY);
	fresh = dsend_p(&d, "zed", "fresh", PRIO_LOW);
	ok(dplan_create(&d, "zed", 14 * DAY, 0, PRIO_LOW) == 0 &&
	    refused_with(&d, PE_INVALID_ARGUMENT, "per_day"),
	    "plan: per_day 0: INVALID_ARGUMENT");
	ok(dplan_create(&d, "nobody", 14 * DAY, 2, PRIO_LOW) == 0 &&
	    refused_with(&d, PE_NOT_FOUND, "nothing to withdraw"),
	    "plan: nothing stale: NOT_FOUND");
	h = dhead(&d);
	plan = dplan_create(&d, "zed", 14 * DAY, 2, PRIO_MEDIUM);
	ok(plan > 0 && d.plan.total == 5 && d.plan.done == 2,
	    "plan: 5 stale medium or low; the first day withdraws 2 at once");
	ok(d.plan.ids[0] == ids[1] && d.plan.ids[1] == ids[3] &&
	    d.plan.ids[2] == ids[6] && d.plan.ids[3] == ids[2] &&
	    d.plan.ids[4] == ids[4], "plan: lowest priority first, then oldest");
	ok(dinv(&d, ids[1]).state == ST_WITHDRAWN &&
	    dinv(&d, ids[3]).state == ST_WITHDRAWN &&
	    dinv(&d, ids[6]).state == ST_PENDING,
	    "plan: day 1 withdrew the two oldest low ones");
	ok(ddue(&d).kind == DUE_PLAN && ddue(&d).at == d.now + DAY,
	    "plan: its next day is the next deadline");
	is_str(dfeed(&d, "zed", h), "plan.progress", "plan: zed is told");

	h = dhead(&d);
	dadvance(&d, DAY);
	ok(dinv(&d, ids[6]).state == ST_WITHDRAWN &&
	    dinv(&d, ids[2]).state == ST_WITHDRAWN &&
	    dinv(&d, ids[4]).state == ST_PENDING,
	    "plan: day 2 withdrew the last low one and the oldest medium");
	is_str(dfeed(&d, "zed", h), "plan.progress", "plan: day 2 progress");
	h = dhead(&d);
	dadvance(&d, DAY);
	ok(dplan(&d, plan) == 0 && d.plan.state == PLAN_DONE &&
	    d.plan.done == 5 && d.plan.next_at == 0, "plan: done on day 3");
	is_str(dfeed(&d, "zed", h), "plan.done", "plan: plan.done");
	ok(dinv(&d, ids[0]).state == ST_PENDING &&
	    dinv(&d, ids[5]).state == ST_PENDING &&
	    dinv(&d, fresh).state == ST_PENDING,
	    "plan: high and fresh ones stay pending");
	is_int(dmember(&d, "zed").restricted_until, 0,
	    "plan: 5 withdrawals by the plan do not restrict");
	dact(&d, DO_WITHDRAW, "zed", ids[0]);
	dact(&d, DO_WITHDRAW, "zed", ids[5]);
	dact(&d, DO_WITHDRAW, "zed", fresh);
	ok(dmember(&d, "zed").restricted_until > d.now,
	    "plan: 3 withdrawn by hand do");
	dom_close(&d);
}

static void
test_plan_cancel(void)
{
	struct dom d;
	uint64_t ids[5], plan;
	char to[16];
	int i, pending = 0;

	dom_open(&d);
	for (i = 0; i < 5; i++) {
		snprintf(to, sizeof to, "c%d", i);
		ids[i] = dsend_p(&d, "amy", to, PRIO_LOW);
	}
	dadvance(&d, 20 * DAY);
	plan = dplan_create(&d, "amy", 14 * DAY, 1, PRIO_LOW);
	ok(plan > 0 && d.plan.done == 1, "plan_cancel: a plan of 1 a day");
	ok(dplan_cancel(&d, "bea", plan) == -1 &&
	    refused_with(&d, PE_NOT_PERMITTED, "only the member"),
	    "plan_cancel: by another member: NOT_PERMITTED");
	ok(dplan_cancel(&d, "amy", plan) == 0 &&
	    d.plan.state == PLAN_CANCELLED && d.plan.next_at == 0,
	    "plan_cancel: amy cancels it");
	ok(dplan(&d, plan) == 0 && d.plan.state == PLAN_CANCELLED,
	    "plan_cancel: stored cancelled");
	ok(dplan_cancel(&d, "amy", plan) == -1 &&
	    refused_with(&d, PE_INVALID_STATE, "cancelled"),
	    "plan_cancel: twice: INVALID_STATE");
	dadvance(&d, 5 * DAY);
	for (i = 0; i < 5; i++)
		pending += dinv(&d, ids[i]).state == ST_PENDING;
	is_int(pending, 4, "plan_cancel: nothing more is withdrawn");
	dom_close(&d);
}

/* What invite_advise() said, by invitation id. */
struct advised {
	size_t n;
	uint64_t id[16];
	enum advice adv[16];
	enum inv_state seen[16];
	char reason[16][160];
};

static bool
advised_one(void *ctx, const struct inv *inv, const struct advice_item *ad)
{
	struct advised *a = ctx;

	if (a->n == 16)
		return false;
	a->id[a->n] = inv->id;
	a->adv[a->n] = ad->advice;
	a->seen[a->n] = ad->seen;
	snprintf(a->reason[a->n], sizeof a->reason[0], "%s", ad->reason);
	a->n++;
	return true;
}

/* member's advice now; ADV_NONE for id when none was given. */
static enum advice
dadvice(struct dom *d, const char *member, uint64_t id, struct advised *a)
{
	size_t i;

	memset(a, 0, sizeof *a);
	invite_advise(step(d), S(member), 10000, advised_one, a);
	step_end(d, -1);
	for (i = 0; i < a->n; i++)
		if (a->id[i] == id)
			return a->adv[i];
	return ADV_NONE;
}

static void
test_advice(void)
{
	struct dom d;
	struct advised a;
	uint64_t low, high, acc, again;

	dom_open(&d);
	low = dsend_p(&d, "ben", "cat", PRIO_LOW);
	high = dsend_p(&d, "ben", "dan", PRIO_HIGH);
	acc = dsend(&d, "ben", "eve");
	dact(&d, DO_ACCEPT, "eve", acc);
	d.now += 3 * DAY;
	is_int(dadvice(&d, "ben", low, &a), ADV_WAIT,
	    "advice: pending 3 days: wait");
	ok(dadvice(&d, "ben", acc, &a) == ADV_NONE && a.n == 2,
	    "advice: nothing on an accepted one (two advised)");
	dadvance(&d, 17 * DAY);
	ok(dadvice(&d, "ben", low, &a) == ADV_WITHDRAW &&
	    strstr(a.reason[a.n - 1], "pending 20 days") != NULL,
	    "advice: low, 20 days: withdraw");
	is_int(dadvice(&d, "ben", high, &a), ADV_LET_EXPIRE,
	    "advice: high, 20 days: let it expire");
	dact(&d, DO_IGNORE, "cat", low);
	ok(dadvice(&d, "ben", low, &a) == ADV_WITHDRAW && a.seen[1] ==
	    ST_PENDING, "advice: an ignored one is advised as pending");
	dact(&d, DO_WITHDRAW, "ben", high);
	is_int(dadvice(&d, "ben", high, &a), ADV_NONE,
	    "advice: high, withdrawn, in its cooldown: nothing");
	dadvance(&d, 21 * DAY);
	is_int(dadvice(&d, "ben", high, &a), ADV_RESEND,
	    "advice: high, withdrawn, cooldown over: resend");
	dadvance(&d, 160 * DAY);
	again = dsend(&d, "ben", "cat");
	ok(dinv(&d, low).state == ST_EXPIRED && again > 0,
	    "advice: the low one expired and is sent again");
	is_int(dadvice(&d, "ben", again, &a), ADV_STOP,
	    "advice: after an expired one: stop");
	dom_close(&d);
}

static void
test_limits(void)
{
	struct dom d;
	uint64_t id;
	int i;

	dom_open(&d);
	d.policy.sends_per_week = 3;
	for (i = 0; i < 3; i++) {
		dsend(&d, "lim", i == 0 ? "a1" : i == 1 ? "a2" : "a3");
		d.now += HOUR;
	}
	ok(dsend(&d, "lim", "a4") == 0 &&
	    refused_with(&d, PE_RATE_LIMITED, "in the last 7 days") &&
	    d.e.retry_at == T0 + WEEK,
	    "weekly limit: the 4th send: RATE_LIMITED, retry_at a week after the 1st");
	dadvance(&d, T0 + WEEK - 1 - d.now);
	ok(dsend(&d, "lim", "a4") == 0 && d.e.code == PE_RATE_LIMITED,
	    "weekly limit: still refused a second before");
	dadvance(&d, 1);
	ok(dsend(&d, "lim", "a4") > 0, "weekly limit: passes at retry_at");
	dom_close(&d);

	dom_open(&d);
	d.policy.pending_max = 2;
	d.policy.pending_warn = 2;
	ok(dsend(&d, "cap", "b1") > 0 && d.warnings == 0,
	    "pending cap: the 1st send, no warning");
	ok(dsend(&d, "cap", "b2") > 0 && d.warnings == WARN_PENDING,
	    "pending cap: the 2nd reaches pending_warn: a warning");
	is_str(dev_str(&d, "cap", 0, EV_LIMIT_WARNING, "code"), "PENDING_WARN",
	    "pending cap: limit.warning PENDING_WARN");
	ok(dsend(&d, "cap", "b3") == 0 &&
	    refused_with(&d, PE_PENDING_CAP, "2 pending invitations"),
	    "pending cap: the 3rd: PENDING_CAP");
	dom_close(&d);

	dom_open(&d);
	d.policy.resend_cooldown[0] = DAY;
	for (i = 0; i < 3; i++) {
		id = dsend(&d, "pat", "quinn");
		dact(&d, DO_WITHDRAW, "pat", id);
		dadvance(&d, DAY);
	}
	ok(dsend(&d, "pat", "quinn") == 0 &&
	    refused_with(&d, PE_PAIR_LIMIT, "3 times within 365 days") &&
	    d.e.retry_at == T0 + 365 * DAY,
	    "pair limit: the 4th to one member: PAIR_LIMIT until a year after the 1st");
	dadvance(&d, T0 + 365 * DAY - d.now);
	ok(dsend(&d, "pat", "quinn") > 0, "pair limit: passes a year on");
	dom_close(&d);

	dom_open(&d);
	d.policy.withdrawals_per_day = 2;
	for (i = 0; i < 3; i++) {
		char to[16];

		snprintf(to, sizeof to, "w%d", i);
		id = dsend(&d, "wit", to);
		if (i < 2)
			dact(&d, DO_WITHDRAW, "wit", id);
	}
	ok(dact(&d, DO_WITHDRAW, "wit", id) == -1 &&
	    refused_with(&d, PE_RATE_LIMITED, "withdrew 2 invitations") &&
	    d.e.retry_at == T0 + DAY,
	    "withdrawals a day: the 3rd: RATE_LIMITED until tomorrow");
	dom_close(&d);
}

/* server.info's policy map keeps the order docs/protocol.md shows, and
 * every method the vocabulary names has an entry in the table. */
static void
test_tables(void)
{
	static const char *const order[] = {
		"expire_after", "max_expire_after", "resend_cooldown",
		"stale_after", "recipient_remind_after", "digest_every",
		"note_max_chars", "notify_recipient_on_withdraw",
		"mutual_invite_connects", "max_message_bytes", "max_clients",
		"read_timeout", "events_retention", "sends_per_week",
		"sends_per_day", "pending_warn", "pending_max",
		"invites_per_pair", "pair_window", "withdrawals_per_day",
		"duplicate_note_warn", "healthy_rate", "restrict_below_rate",
		"restrict_min_decided", "reports_to_restrict", "reports_window",
		"restrict_for", "restrict_window", "hold_no_mutual",
		"hold_low_health", "hold_restricted_days", "hold_new_member_days",
		"request_id_retention"
	};
	size_t n = sizeof order / sizeof order[0], i, off = 0;
	struct config c;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked u;
	const msgpack_object_map *m;
	bool same = true;
	int pm, missing = 0;

	config_defaults(&c);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	config_pack_policy(&pk, &c);
	msgpack_unpacked_init(&u);
	msgpack_unpack_next(&u, sb.data, sb.size, &off);
	m = &u.data.via.map;
	for (i = 0; i < n && i < m->size; i++)
		if (m->ptr[i].key.type != MSGPACK_OBJECT_STR ||
		    m->ptr[i].key.via.str.size != strlen(order[i]) ||
		    memcmp(m->ptr[i].key.via.str.ptr, order[i],
		    strlen(order[i])) != 0)
			same = false;
	ok(u.data.type == MSGPACK_OBJECT_MAP && m->size == n && same,
	    "server.info's policy: %zu keys in the documented order", n);
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
	for (pm = 0; pm < PM_COUNT; pm++)
		if (method_find(proto_method_names[pm],
		    strlen(proto_method_names[pm])) == NULL) {
			diag("no entry for %s", proto_method_names[pm]);
			missing++;
		}
	is_int(missing, 0, "every method of the vocabulary is in the table");
	ok(method_find("invite.sendx", 12) == NULL &&
	    method_find("invite.sen", 10) == NULL,
	    "a name that is not a method finds nothing");
}

/* first_seen_at: a member who received invitations long ago is not new
 * when it first sends one (found by review: only its own first open send
 * set it). */
static void
test_first_seen(void)
{
	struct dom d;
	uint64_t id;

	dom_open(&d);
	id = dsend(&d, "zed", "yan");
	dact(&d, DO_ACCEPT, "yan", id);
	ok(dmember(&d, "yan").first_seen_at == T0,
	    "first seen: yan, a recipient, at its first invitation");
	dadvance(&d, 30 * DAY);
	ok(dhold(&d, "rho", -1, -1, -1, 5) == 0,
	    "first seen: rho holds members first seen less than 5 days ago");
	id = dsend(&d, "yan", "rho");
	ok(id && !dinv(&d, id).held,
	    "first seen: yan, seen 30 days ago as a recipient, is not new");
	id = dsend(&d, "xia", "rho");
	ok(id && dinv(&d, id).held,
	    "first seen: xia, never seen before, is new: held");
	dom_close(&d);
}

int
main(void)
{
	test_tables();
	test_send_accept();
	test_ignore();
	test_unignore();
	test_held();
	test_first_seen();
	test_withdraw_resend();
	test_view_fields();
	test_withdraw_unsays();
	test_mutual();
	test_mutual_count_cap();
	test_cooldown();
	test_cooldown_escalates();
	test_stale_expiry();
	test_restriction();
	test_restriction_escalates();
	test_recipient_reminder();
	test_digest();
	test_advised_withdrawals();
	test_reports();
	test_blocks();
	test_block_like_closed_door();
	test_plan();
	test_plan_cancel();
	test_advice();
	test_limits();
	return done_testing();
}
