/* daemon/import.c: see import.h. */
#include "import.h"

#include <string.h>

#include "inv.h"
#include "invite.h"
#include "member.h"
#include "remind.h"

/* What a row says, as a number: the same id with another row is refused.
 * FNV-1a over each field with its length; never 0 (0: no id). */
static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ b[i]) * UINT64_C(1099511628211);
	return h;
}

static uint64_t
row_digest(const struct import_row *r)
{
	uint64_t h = UINT64_C(14695981039346656037);
	int64_t v[4];

	v[0] = r->type;
	v[1] = r->at;
	v[2] = r->expires_at;
	v[3] = r->priority;
	h = fnv(h, v, sizeof v);
	h = fnv(h, &r->from.n, sizeof r->from.n);
	h = fnv(h, r->from.p, r->from.n);
	h = fnv(h, &r->to.n, sizeof r->to.n);
	h = fnv(h, r->to.p, r->to.n);
	h = fnv(h, &r->note.n, sizeof r->note.n);
	if (r->note.p != NULL)
		h = fnv(h, r->note.p, r->note.n);
	return h == 0 ? 1 : h;
}

/* The rules both kinds of row keep: 0, or -1 with e filled. */
static int
pair_free(struct op *o, const struct import_row *r, struct proto_error *e)
{
	struct stx *t = o->t;
	struct pair ft, rt;

	if (r->from.n == r->to.n && memcmp(r->from.p, r->to.p, r->from.n) == 0)
		return proto_fail(e, PE_SELF_INVITE,
		    "a member cannot be paired with itself");
	if (r->at > o->now)
		return proto_fail(e, PE_INVALID_ARGUMENT,
		    "the row's time is in the future");
	if (store_flag_get(t, FLAG_BLOCK, r->from.p, r->from.n, r->to.p,
	    r->to.n) || store_flag_get(t, FLAG_BLOCK, r->to.p, r->to.n,
	    r->from.p, r->from.n))
		return proto_fail(e, PE_NOT_PERMITTED,
		    "one of the members blocked the other");
	if (store_conn_get(t, r->from.p, r->from.n, r->to.p, r->to.n) != 0)
		return proto_fail(e, PE_ALREADY_CONNECTED,
		    "the members are already connected");
	/* An open invitation past its expiry expires first. */
	store_pair_get(t, r->from.p, r->from.n, r->to.p, r->to.n, &ft);
	invite_catch_up(o, ft.open_id);
	store_pair_get(t, r->to.p, r->to.n, r->from.p, r->from.n, &rt);
	invite_catch_up(o, rt.open_id);
	store_pair_get(t, r->from.p, r->from.n, r->to.p, r->to.n, &ft);
	store_pair_get(t, r->to.p, r->to.n, r->from.p, r->from.n, &rt);
	if (ft.open_id != 0 || rt.open_id != 0)
		return proto_fail(e, PE_ALREADY_PENDING,
		    "an invitation between the members is pending");
	if (store_error(t) != STORE_OK)
		return op_store_error(t, e);
	return 0;
}

static void
import_invitation(struct op *o, const struct import_row *r)
{
	struct stx *t = o->t;
	struct pair ft;
	struct inv inv;
	struct due ex, st;

	store_pair_get(t, r->from.p, r->from.n, r->to.p, r->to.n, &ft);
	memset(&inv, 0, sizeof inv);
	inv.id = store_next_id(t);
	inv.state = ST_PENDING;
	inv.priority = (uint8_t)r->priority;
	inv.attempt = ft.attempts + 1;
	inv.created_at = inv.updated_at = r->at;
	inv.expires_at = r->expires_at != 0 ? r->expires_at :
	    r->at + (int64_t)o->policy->expire_after;
	/* Its deadlines as a send at created_at would have set them. */
	inv.stale_at = r->at + (int64_t)o->policy->stale_after;
	if (inv.stale_at >= inv.expires_at)
		inv.stale_at = inv.expires_at;
	inv.remind_at = rules_remind_at(o->policy, r->at, inv.expires_at,
	    false);
	memcpy(inv.from, r->from.p, r->from.n);
	inv.from_len = r->from.n;
	memcpy(inv.to, r->to.p, r->to.n);
	inv.to_len = r->to.n;
	if (r->note.p != NULL) {
		memcpy(inv.note, r->note.p, r->note.n);
		inv.note_len = r->note.n;
	}
	member_seen(o, r->from);
	member_seen(o, r->to);
	store_inv_put(t, &inv, ST_COUNT);
	inv_due_rows(&inv, &ex, &st);
	store_due_add(t, &ex);
	store_due_add(t, &st);
	remind_received(o, &inv);
	ft.attempts++;
	ft.open_id = inv.id;
	store_pair_put(t, r->from.p, r->from.n, r->to.p, r->to.n, &ft);
}

enum import_outcome
import_row(struct op *o, const struct import_row *r, struct proto_error *e)
{
	struct stx *t = o->t;
	uint64_t digest = row_digest(r), had;

	had = store_import_id_get(t, r->id.p, r->id.n);
	if (store_error(t) != STORE_OK) {
		op_store_error(t, e);
		return IMPORT_REFUSED;
	}
	if (had == digest)
		return IMPORT_DUPLICATE;
	if (had != 0) {
		proto_fail(e, PE_INVALID_ARGUMENT,
		    "the id was imported before with another row");
		return IMPORT_REFUSED;
	}
	if (pair_free(o, r, e) == -1)
		return IMPORT_REFUSED;
	if (r->type == IMPORT_CONNECTION) {
		member_seen(o, r->from);
		member_seen(o, r->to);
		store_conn_put(t, r->from.p, r->from.n, r->to.p, r->to.n,
		    r->at);
	} else {
		if (r->note.n > NOTE_MAX_BYTES) {
			proto_fail(e, PE_NOTE_TOO_LONG, "the note is too long");
			return IMPORT_REFUSED;
		}
		if (r->expires_at != 0 && r->expires_at <= r->at) {
			proto_fail(e, PE_INVALID_ARGUMENT,
			    "expires_at must be after created_at");
			return IMPORT_REFUSED;
		}
		if ((r->expires_at != 0 ? r->expires_at : r->at +
		    (int64_t)o->policy->expire_after) <= o->now) {
			proto_fail(e, PE_INVALID_ARGUMENT,
			    "the invitation expired before the import");
			return IMPORT_REFUSED;
		}
		import_invitation(o, r);
	}
	store_import_id_put(t, r->id.p, r->id.n, digest);
	if (op_done(t, e) == -1)
		return IMPORT_REFUSED;
	return IMPORT_IMPORTED;
}
