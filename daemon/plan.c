/* daemon/plan.c: see plan.h. */
#include "plan.h"

#include <stdlib.h>
#include <string.h>

#include "../common/be.h"
#include "../common/util.h"
#include "events.h"
#include "invite.h"

#define PLAN_HEAD 52
#define PLAN_SCHEDULE_MAX 60	/* days shown of a schedule */

static size_t
plan_encode(const struct plan *pl, unsigned char *b)
{
	unsigned char *p = b;
	uint32_t i;

	be_put_next(&p, 1, 1);		/* record version */
	be_put_next(&p, pl->state, 1);
	be_put_next(&p, pl->max_priority, 1);
	be_put_next(&p, pl->member_len, 1);
	be_put_next(&p, pl->per_day, 4);
	be_put_next(&p, pl->total, 4);
	be_put_next(&p, pl->done, 4);
	be_put_next(&p, pl->skipped, 4);
	be_put_next(&p, (uint64_t)pl->created_at, 8);
	be_put_next(&p, (uint64_t)pl->next_at, 8);
	be_put_next(&p, pl->older_than, 8);
	be_put_next(&p, pl->id, 8);
	memcpy(p, pl->member, pl->member_len);
	p += pl->member_len;
	for (i = 0; i < pl->total; i++)
		be_put_next(&p, pl->ids[i], 8);
	return (size_t)(p - b);
}

static bool
plan_decode(const unsigned char *b, size_t n, struct plan *pl)
{
	const unsigned char *p = b;
	uint32_t i;

	if (n < PLAN_HEAD || b[0] != 1)
		return false;
	p++;
	pl->state = (uint8_t)be_get_next(&p, 1);
	pl->max_priority = (uint8_t)be_get_next(&p, 1);
	pl->member_len = (size_t)be_get_next(&p, 1);
	pl->per_day = (uint32_t)be_get_next(&p, 4);
	pl->total = (uint32_t)be_get_next(&p, 4);
	pl->done = (uint32_t)be_get_next(&p, 4);
	pl->skipped = (uint32_t)be_get_next(&p, 4);
	pl->created_at = (int64_t)be_get_next(&p, 8);
	pl->next_at = (int64_t)be_get_next(&p, 8);
	pl->older_than = be_get_next(&p, 8);
	pl->id = be_get_next(&p, 8);
	if (pl->member_len > MEMBER_MAX_BYTES || pl->total > PLAN_MAX_IDS ||
	    n != PLAN_HEAD + pl->member_len + 8 * (size_t)pl->total)
		return false;
	memcpy(pl->member, p, pl->member_len);
	pl->member[pl->member_len] = '\0';
	p += pl->member_len;
	for (i = 0; i < pl->total; i++)
		pl->ids[i] = be_get_next(&p, 8);
	return true;
}

static void
plan_save(struct stx *t, const struct plan *pl)
{
	unsigned char *b = xmalloc(PLAN_HEAD + MEMBER_MAX_BYTES +
	    8 * (size_t)PLAN_MAX_IDS);

	store_plan_put(t, pl->id, b, plan_encode(pl, b));
	free(b);
}

int
plan_load(struct stx *t, uint64_t id, struct plan *out, struct proto_error *e)
{
	unsigned char *b = xmalloc(PLAN_HEAD + MEMBER_MAX_BYTES +
	    8 * (size_t)PLAN_MAX_IDS);
	size_t len;
	int rc;

	rc = store_plan_get(t, id, b, PLAN_HEAD + MEMBER_MAX_BYTES +
	    8 * (size_t)PLAN_MAX_IDS, &len);
	if (rc == STORE_OK && !plan_decode(b, len, out))
		rc = STORE_FAILED;
	free(b);
	if (rc == STORE_NOTFOUND)
		return proto_fail(e, PE_NOT_FOUND, "no plan %llu",
		    (unsigned long long)id);
	if (rc != STORE_OK)
		return op_store_error(t, e);
	return 0;
}

/* What the rules need to know of an invitation a plan may take. */
static struct plan_cand
cand_of(const struct inv *inv)
{
	struct plan_cand c;

	c.id = inv->id;
	c.st = (enum inv_state)inv->state;
	c.priority = (enum priority)inv->priority;
	c.created_at = inv->created_at;
	return c;
}

/* The invitations a plan takes, as they are found. */
struct pick {
	struct stx *t;
	struct plan *pl;
	struct inv *inv;
	uint64_t seen;		/* matches found */
};

static bool
pick_one(void *ctx, uint64_t id)
{
	struct pick *pk = ctx;
	struct plan_cand c;

	if (store_inv_get(pk->t, id, pk->inv) != STORE_OK)
		return false;
	c = cand_of(pk->inv);
	if (rules_plan_takes(&c, pk->pl->created_at, pk->pl->older_than,
	    (enum priority)pk->pl->max_priority)) {
		/* Newest first: past PLAN_MAX_IDS, older ones take the places
		 * of newer ones, so the plan holds the stalest. */
		pk->pl->ids[pk->seen % PLAN_MAX_IDS] = id;
		pk->seen++;
		if (pk->pl->total < PLAN_MAX_IDS)
			pk->pl->total++;
	}
	return true;
}

/* The order the rules give (rules_plan_order). */
static int
pick_order(const void *a, const void *b, void *ctx)
{
	struct stx *t = ctx;
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	struct plan_cand cx, cy;
	struct inv ix, iy;

	store_inv_get(t, x, &ix);
	store_inv_get(t, y, &iy);
	cx = cand_of(&ix);
	cy = cand_of(&iy);
	cx.id = x;
	cy.id = y;
	return rules_plan_order(&cx, &cy);
}

/* One day of a plan, the day due at `at`: withdraw up to per_day, within
 * withdrawals_per_day, skipping what was answered or withdrawn meanwhile.
 * The next day is due a day after this one, so a daemon that was down (or
 * a long clock.advance) runs every missed day in turn. */
static void
plan_run(struct op *o, struct plan *pl, int64_t at)
{
	struct stx *t = o->t;
	int64_t now = o->now;
	struct str actor = { pl->member, pl->member_len };
	struct proto_error err;
	struct notice n;
	struct inv inv;
	struct due due;
	uint32_t pos, today = 0;
	int64_t until;

	for (pos = pl->done + pl->skipped; pos < pl->total &&
	    today < pl->per_day; pos++) {
		if (store_inv_get(t, pl->ids[pos], &inv) != STORE_OK ||
		    !rules_open(inv.state)) {
			pl->skipped++;
			continue;
		}
		if (invite_withdraw_by(o, actor, pl->ids[pos], true, &inv,
		    &until, &err) == -1) {
			/* rules_withdraw: the day's withdrawals are spent. */
			if (err.code == PE_RATE_LIMITED)
				break;
			pl->skipped++;
			continue;
		}
		pl->done++;
		today++;
	}
	memset(&n, 0, sizeof n);
	n.plan = pl->id;
	n.done = pl->done;
	n.total = pl->total;
	if (pl->done + pl->skipped == pl->total) {
		pl->state = PLAN_DONE;
		pl->next_at = 0;
		n.message = "the clean-up is done";
		events_notice(t, EV_PLAN_DONE, at, now, pl->member,
		    pl->member_len, &n);
	} else {
		pl->next_at = at + DAY_SECS;
		due.at = pl->next_at;
		due.kind = DUE_PLAN;
		due.id = pl->id;
		store_due_add(t, &due);
		if (today > 0)
			events_notice(t, EV_PLAN_PROGRESS, at, now, pl->member,
			    pl->member_len, &n);
	}
	plan_save(t, pl);
}

int
plan_create(struct op *o, struct str member,
    uint64_t older_than, uint32_t per_day, int max_priority,
    struct plan *out, struct proto_error *e)
{
	struct stx *t = o->t;
	struct pick pk;
	struct inv inv;
	int64_t now = o->now;

	if (rules_plan_bounds(older_than, per_day, e) == -1)
		return -1;
	memset(out, 0, offsetof(struct plan, ids));
	out->per_day = rules_plan_per_day(o->policy, per_day);
	out->max_priority = (uint8_t)max_priority;
	out->older_than = older_than;
	out->created_at = now;
	memcpy(out->member, member.p, member.n);
	out->member_len = member.n;
	pk.t = t;
	pk.pl = out;
	pk.inv = &inv;
	pk.seen = 0;
	store_scan_box(t, BOX_SENT, member.p, member.n, 0, pick_one, &pk);
	if (store_error(t) != STORE_OK)
		return op_store_error(t, e);
	if (out->total == 0) {
		char age[16];

		duration_short(older_than, age, sizeof age);
		return proto_fail(e, PE_NOT_FOUND,
		    "nothing to withdraw: no pending invitation of %s priority or lower sent %s ago or more",
		    proto_priority_words[max_priority], age);
	}
	qsort_r(out->ids, out->total, sizeof out->ids[0], pick_order, t);
	out->id = store_next_id(t);
	out->state = PLAN_ACTIVE;
	store_plan_index(t, member.p, member.n, out->id);
	plan_run(o, out, now);
	return op_done(t, e);
}

int
plan_cancel(struct op *o, struct str actor, uint64_t id,
    struct plan *out, struct proto_error *e)
{
	struct stx *t = o->t;
	struct due due;

	if (plan_load(t, id, out, e) == -1)
		return -1;
	if (actor.n != out->member_len ||
	    memcmp(actor.p, out->member, actor.n) != 0)
		return proto_fail(e, PE_NOT_PERMITTED,
		    "only the member a plan works for may cancel it");
	if (out->state != PLAN_ACTIVE)
		return proto_fail(e, PE_INVALID_STATE, "the plan is %s",
		    proto_plan_state_words[out->state < PLAN_COUNT ?
		    out->state : PLAN_CANCELLED]);
	due.at = out->next_at;
	due.kind = DUE_PLAN;
	due.id = out->id;
	store_due_del(t, &due);
	out->state = PLAN_CANCELLED;
	out->next_at = 0;
	plan_save(t, out);
	return op_done(t, e);
}

void
plan_on_due(struct op *o, const struct due *due)
{
	struct stx *t = o->t;
	struct proto_error e;
	struct plan *pl = xmalloc(sizeof *pl);

	if (plan_load(t, due->id, pl, &e) == 0 && pl->state == PLAN_ACTIVE &&
	    pl->next_at == due->at)
		plan_run(o, pl, due->at);
	free(pl);
}

void
plan_pack(msgpack_packer *pk, const struct plan *pl, const struct policy *p)
{
	uint32_t left = pl->total - pl->done - pl->skipped, days, i, n;
	int64_t at = pl->next_at;

	(void)p;
	days = pl->state == PLAN_ACTIVE && pl->per_day > 0 ?
	    (left + pl->per_day - 1) / pl->per_day : 0;
	msgpack_pack_map(pk, 13);
	pk_kuint(pk, "id", pl->id);
	pk_kstrn(pk, "member", pl->member, pl->member_len);
	pk_kstr(pk, "state", proto_plan_state_words[pl->state < PLAN_COUNT ?
	    pl->state : PLAN_ACTIVE]);
	pk_kuint(pk, "per_day", pl->per_day);
	pk_kuint(pk, "older_than", pl->older_than);
	pk_kstr(pk, "max_priority", proto_priority_words[pl->max_priority]);
	pk_kuint(pk, "total", pl->total);
	pk_kuint(pk, "done", pl->done);
	pk_kuint(pk, "skipped", pl->skipped);
	pk_kint(pk, "created_at", pl->created_at);
	if (pl->next_at)
		pk_kint(pk, "next_at", pl->next_at);
	else
		pk_knil(pk, "next_at");
	if (days > 0)
		pk_kint(pk, "ends_at", at + (int64_t)(days - 1) * DAY_SECS);
	else
		pk_knil(pk, "ends_at");
	/* What is still to come, a day at a time (if nothing is answered or
	 * withdrawn meanwhile). */
	pk_key(pk, "schedule");
	n = days < PLAN_SCHEDULE_MAX ? days : PLAN_SCHEDULE_MAX;
	msgpack_pack_array(pk, n);
	for (i = 0; i < n; i++) {
		msgpack_pack_map(pk, 2);
		pk_kint(pk, "at", at + (int64_t)i * DAY_SECS);
		pk_kuint(pk, "count", left < pl->per_day ? left : pl->per_day);
		left -= left < pl->per_day ? left : pl->per_day;
	}
}
