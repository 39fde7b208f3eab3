/* daemon/remind.c: see remind.h. */
#include "remind.h"

#include <string.h>

#include "../common/util.h"
#include "events.h"

/* inv waits for its recipient at `at`: pending to them (not ignored, not
 * held) and not past its expiry. */
static bool
waiting(const struct inv *inv, int64_t at)
{
	return inv->state == ST_PENDING && !inv->ignored && !inv->held &&
	    inv->expires_at > at;
}

uint64_t
remind_digest_every(const struct policy *p, const struct member_rec *m)
{
	return rules_digest_every(p, (m->own & MEMBER_OWN_DIGEST) != 0,
	    m->digest_every);
}

/* A member's waiting invitations, newest first: the newest (the digest's
 * holder), and with all, how many there are and when the oldest was sent. */
struct wait_scan {
	struct stx *t;
	int64_t at;
	bool all;
	uint64_t newest, count;
	int64_t oldest_at;
};

static bool
wait_one(void *ctx, uint64_t id)
{
	struct wait_scan *w = ctx;
	struct inv inv;

	if (store_inv_get(w->t, id, &inv) != STORE_OK)
		return false;
	if (!waiting(&inv, w->at))
		return true;
	if (w->newest == 0)
		w->newest = id;
	w->count++;
	if (w->oldest_at == 0 || inv.created_at < w->oldest_at)
		w->oldest_at = inv.created_at;
	return w->all;
}

/* member's waiting invitations with ids below `before` (0: all). */
static void
wait_scan(struct op *o, const char *member, size_t mlen, uint64_t before,
    bool all, struct wait_scan *w)
{
	memset(w, 0, sizeof *w);
	w->t = o->t;
	w->at = o->now;
	w->all = all;
	store_scan_box(o->t, BOX_RECEIVED, member, mlen, before, wait_one, w);
}

static void
digest_row(struct op *o, bool add, int64_t at, uint64_t id)
{
	struct due d;

	d.at = at;
	d.kind = DUE_DIGEST;
	d.id = id;
	if (add)
		store_due_add(o->t, &d);
	else
		store_due_del(o->t, &d);
}

void
remind_received(struct op *o, const struct inv *inv)
{
	struct member_rec m;
	struct wait_scan w;
	struct due d;
	uint64_t every;
	int64_t next;

	if (inv->remind_at != 0 && waiting(inv, o->now)) {
		d.at = inv->remind_at;
		d.kind = DUE_REMIND;
		d.id = inv->id;
		store_due_add(o->t, &d);
	}
	store_member_get(o->t, inv->to, inv->to_len, &m);
	every = remind_digest_every(o->policy, &m);
	if (every == 0 || !waiting(inv, o->now))
		return;
	/* The newest waiting one holds the digest: it moves here unless a
	 * newer one has it. */
	wait_scan(o, inv->to, inv->to_len, 0, false, &w);
	if (w.newest != inv->id)
		return;
	next = rules_digest_next(o->now, every);
	wait_scan(o, inv->to, inv->to_len, inv->id, false, &w);
	if (w.newest != 0)
		digest_row(o, false, next, w.newest);
	digest_row(o, true, next, inv->id);
}

void
remind_gone(struct op *o, const struct inv *inv)
{
	struct member_rec m;
	struct wait_scan w;
	struct due d;
	uint64_t every;
	int64_t next;

	if (inv->remind_at != 0) {
		d.at = inv->remind_at;
		d.kind = DUE_REMIND;
		d.id = inv->id;
		store_due_del(o->t, &d);	/* nothing if it ran */
	}
	store_member_get(o->t, inv->to, inv->to_len, &m);
	every = remind_digest_every(o->policy, &m);
	if (every == 0)
		return;
	wait_scan(o, inv->to, inv->to_len, 0, false, &w);
	if (w.newest > inv->id)
		return;		/* a newer one holds the digest */
	next = rules_digest_next(o->now, every);
	digest_row(o, false, next, inv->id);
	if (w.newest != 0)
		digest_row(o, true, next, w.newest);
}

void
remind_digest_changed(struct op *o, struct str member, uint64_t before)
{
	struct member_rec m;
	struct wait_scan w;
	uint64_t every;

	store_member_get(o->t, member.p, member.n, &m);
	every = remind_digest_every(o->policy, &m);
	if (every == before)
		return;
	wait_scan(o, member.p, member.n, 0, false, &w);
	if (w.newest == 0)
		return;
	if (before != 0)
		digest_row(o, false, rules_digest_next(o->now, before),
		    w.newest);
	if (every != 0)
		digest_row(o, true, rules_digest_next(o->now, every), w.newest);
}

static void
reminder_due(struct op *o, const struct due *due)
{
	struct inv inv;

	if (store_inv_get(o->t, due->id, &inv) != STORE_OK)
		return;
	if (!waiting(&inv, due->at) || inv.remind_at != due->at)
		return;
	log_debug("invitation %llu: its recipient is reminded",
	    (unsigned long long)inv.id);
	/* inv.remind_at stays: a withdrawal finds the event by it
	 * (events_unsay_received). */
	events_inv(o->t, EV_REMINDER, due->at, o->now, &inv, ROLE_RECIPIENT,
	    true, false);
}

static void
digest_due(struct op *o, const struct due *due)
{
	struct member_rec m;
	struct wait_scan w;
	struct inv inv;
	uint64_t every;

	if (store_inv_get(o->t, due->id, &inv) != STORE_OK)
		return;
	store_member_get(o->t, inv.to, inv.to_len, &m);
	every = remind_digest_every(o->policy, &m);
	if (every == 0)
		return;		/* turned off: the chain ends */
	wait_scan(o, inv.to, inv.to_len, 0, true, &w);
	if (w.newest == 0)
		return;		/* none waiting: the next one starts it */
	/* Only the holder's row speaks; another one (its holder gone in a
	 * backlog, or an interval changed) hands the chain on. */
	if (w.newest == due->id) {
		log_debug("digest for %.*s: %llu waiting", (int)inv.to_len,
		    inv.to, (unsigned long long)w.count);
		events_digest(o->t, due->at, o->now, inv.to, inv.to_len,
		    w.count, w.oldest_at);
	}
	digest_row(o, true, rules_digest_next(o->now, every), w.newest);
}

void
remind_on_due(struct op *o, const struct due *due)
{
	if (due->kind == DUE_REMIND)
		reminder_due(o, due);
	else if (due->kind == DUE_DIGEST)
		digest_due(o, due);
}
