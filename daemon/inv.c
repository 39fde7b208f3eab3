/* daemon/inv.c: see inv.h. */
#include "inv.h"

#include <string.h>

#include "events.h"

static bool
str_eq(struct str a, const char *b, size_t blen)
{
	return a.n == blen && memcmp(a.p, b, blen) == 0;
}

enum role
inv_role(const struct inv *inv, struct str actor)
{
	if (actor.p == NULL)
		return ROLE_SENDER;
	if (str_eq(actor, inv->from, inv->from_len))
		return ROLE_SENDER;
	if (str_eq(actor, inv->to, inv->to_len))
		return ROLE_RECIPIENT;
	return ROLE_OTHER;
}

int
inv_load(struct stx *t, uint64_t id, struct str actor, struct inv *out,
    enum role *role, struct proto_error *e)
{
	int rc = store_inv_get(t, id, out);

	if (rc == STORE_NOTFOUND)
		return proto_fail(e, PE_NOT_FOUND, "no invitation %llu",
		    (unsigned long long)id);
	if (rc != STORE_OK)
		return op_store_error(t, e);
	*role = inv_role(out, actor);
	return rules_see(*role, out->state, id, e);
}

bool
inv_overdue(const struct inv *inv, int64_t now)
{
	return rules_open((enum inv_state)inv->state) &&
	    (inv->expires_at <= now ||
	    (inv->reminded_at == 0 && inv->stale_at <= now));
}

void
inv_as_of(struct inv *inv, int64_t now)
{
	if (!inv_overdue(inv, now))
		return;
	/* As timers_run would leave it: the reminder first, unless the
	 * expiry comes at the same time (then there is none). */
	if (inv->reminded_at == 0 && inv->stale_at <= now &&
	    inv->stale_at < inv->expires_at)
		inv->reminded_at = inv->stale_at;
	if (inv->expires_at <= now) {
		inv->state = ST_EXPIRED;
		inv->updated_at = inv->expires_at;
	}
}

void
inv_due_rows(const struct inv *inv, struct due *expire, struct due *stale)
{
	expire->at = inv->expires_at;
	expire->kind = DUE_EXPIRE;
	expire->id = inv->id;
	stale->at = inv->stale_at;
	stale->kind = DUE_STALE;
	stale->id = inv->id;
}

void
inv_close(struct stx *t, struct inv *inv, enum inv_state to, int64_t at)
{
	struct due ex, st;
	struct pair pr;
	int old = inv->state;

	inv_due_rows(inv, &ex, &st);
	store_due_del(t, &ex);
	if (inv->reminded_at == 0)
		store_due_del(t, &st);
	if (inv->remind_at != 0) {	/* the recipient's reminder, if due */
		st.at = inv->remind_at;
		st.kind = DUE_REMIND;
		store_due_del(t, &st);
	}
	inv->state = (uint8_t)to;
	inv->updated_at = at;
	store_inv_put(t, inv, old);
	store_pair_get(t, inv->from, inv->from_len, inv->to, inv->to_len, &pr);
	if (pr.open_id == inv->id) {
		pr.open_id = 0;
		store_pair_put(t, inv->from, inv->from_len, inv->to,
		    inv->to_len, &pr);
	}
}

void
inv_withdraw_quietly(struct stx *t, struct str from, struct str to, int64_t at)
{
	struct pair pr;
	struct inv inv;

	store_pair_get(t, from.p, from.n, to.p, to.n, &pr);
	if (pr.open_id == 0 || store_inv_get(t, pr.open_id, &inv) != STORE_OK)
		return;
	inv_close(t, &inv, ST_WITHDRAWN, at);
	events_inv(t, EV_WITHDRAWN, at, at, &inv, ROLE_RECIPIENT, false, false);
	if (rules_unsay_on_withdraw(false))
		events_unsay_received(t, &inv);
}
