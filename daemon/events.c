/* daemon/events.c: see events.h. Events are stored packed, as the map a
 * subscriber receives, so pushing one is a copy. */
#include "events.h"

#include <string.h>

#include "../common/util.h"

void
pack_inv(msgpack_packer *pk, struct stx *t, const struct inv *inv,
    enum role role)
{
	enum inv_state st = rules_view((enum inv_state)inv->state,
	    inv->ignored, role);
	unsigned fields = rules_view_fields(role);
	unsigned extra = t != NULL ? rules_view_extra(role) : 0;

	msgpack_pack_map(pk, 14 + (size_t)__builtin_popcount(extra));
	pk_kuint(pk, "id", inv->id);
	pk_kstrn(pk, "from", inv->from, inv->from_len);
	pk_kstrn(pk, "to", inv->to, inv->to_len);
	pk_kstrn(pk, "note", inv->note, inv->note_len);
	if (fields & VIEW_PRIORITY)
		pk_kstr(pk, "priority", proto_priority_words[inv->priority]);
	else
		pk_knil(pk, "priority");
	pk_kstr(pk, "state", proto_state_words[st]);
	pk_kint(pk, "created_at", inv->created_at);
	pk_kint(pk, "updated_at", inv->updated_at);
	pk_kint(pk, "expires_at", inv->expires_at);
	if (inv->resend_of && (fields & VIEW_RESEND_OF))
		pk_kuint(pk, "resend_of", inv->resend_of);
	else
		pk_knil(pk, "resend_of");
	if (fields & VIEW_ATTEMPT)
		pk_kuint(pk, "attempt", inv->attempt);
	else
		pk_knil(pk, "attempt");
	if (inv->reminded_at)
		pk_kint(pk, "reminded_at", inv->reminded_at);
	else
		pk_knil(pk, "reminded_at");
	/* Who introduced them (intro.forward): to both, sender and
	 * recipient. */
	if (inv->via_len > 0)
		pk_kstrn(pk, "introduced_by", inv->via, inv->via_len);
	else
		pk_knil(pk, "introduced_by");
	pk_kbool(pk, "automatic", inv->automatic);
	if (extra & VIEW_MUTUAL_COUNT)
		pk_kuint(pk, "mutual_count", store_mutual_count(t, inv->from,
		    inv->from_len, inv->to, inv->to_len, MUTUAL_COUNT_MAX));
}

void
pack_intro(msgpack_packer *pk, const struct intro *in, enum intro_role role,
    int64_t now)
{
	enum intro_state st = rules_intro_view((enum intro_state)in->state,
	    in->told, in->expires_at, now, role);
	int64_t updated = in->updated_at;

	/* What from sees changed when from saw it change, no later: a
	 * silent decline left it as it was; an expiry is its own time. */
	if (st == INTRO_EXPIRED)
		updated = in->expires_at;
	else if (st == INTRO_ASKED)
		updated = in->created_at;
	msgpack_pack_map(pk, 11);
	pk_kuint(pk, "id", in->id);
	pk_kstrn(pk, "from", in->from, in->from_len);
	pk_kstrn(pk, "via", in->via, in->via_len);
	pk_kstrn(pk, "to", in->to, in->to_len);
	pk_kstrn(pk, "note", in->note, in->note_len);
	pk_kstr(pk, "state", proto_intro_state_words[st]);
	/* Whether from was told of a decline: via's to know; from knows it
	 * from the state. */
	if (role == IROLE_VIA && st == INTRO_DECLINED)
		pk_kbool(pk, "told", in->told);
	else
		pk_knil(pk, "told");
	pk_kint(pk, "created_at", in->created_at);
	pk_kint(pk, "updated_at", updated);
	pk_kint(pk, "expires_at", in->expires_at);
	if (st == INTRO_FORWARDED && in->inv_id != 0)
		pk_kuint(pk, "invitation", in->inv_id);
	else
		pk_knil(pk, "invitation");
}

void
pack_conn(msgpack_packer *pk, const char *a, size_t alen, const char *b,
    size_t blen, int64_t since)
{
	msgpack_pack_map(pk, 3);
	pk_kstrn(pk, "a", a, alen);
	pk_kstrn(pk, "b", b, blen);
	pk_kint(pk, "since", since);
}

/* Packs the common head {seq, type, at, member, ...} with n more pairs. */
static uint64_t
event_head(struct stx *t, msgpack_packer *pk, size_t more, const char *type,
    int64_t at, const char *member, size_t mlen)
{
	uint64_t seq = store_event_next(t);

	/* The first pair (store_event_next()'s stand-in goes there). */
	msgpack_pack_map(pk, 4 + more);
	pk_kuint(pk, "seq", seq);
	pk_kstr(pk, "type", type);
	pk_kint(pk, "at", at);
	pk_kstrn(pk, "member", member, mlen);
	return seq;
}

void
events_inv(struct stx *t, const char *type, int64_t at, int64_t now,
    const struct inv *inv, enum role member_role, bool notify, bool with_conn)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	const char *member = member_role == ROLE_SENDER ? inv->from : inv->to;
	size_t mlen = member_role == ROLE_SENDER ? inv->from_len : inv->to_len;
	uint64_t seq;

	if (store_error(t) != STORE_OK)
		return;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	seq = event_head(t, &pk, with_conn ? 2 : 1, type, at, member, mlen);
	pk_key(&pk, "invitation");
	pack_inv(&pk, t, inv, member_role);
	if (with_conn) {
		pk_key(&pk, "connection");
		pack_conn(&pk, inv->from, inv->from_len, inv->to, inv->to_len,
		    inv->updated_at);
	}
	store_event_add(t, seq, now, member, mlen, notify, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
}

void
events_intro(struct stx *t, const char *type, int64_t at, int64_t now,
    const struct intro *in, enum intro_role role, const struct inv *inv,
    bool notify)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	const char *member = role == IROLE_FROM ? in->from : in->via;
	size_t mlen = role == IROLE_FROM ? in->from_len : in->via_len;
	uint64_t seq;

	if (store_error(t) != STORE_OK)
		return;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	seq = event_head(t, &pk, inv != NULL ? 2 : 1, type, at, member,
	    mlen);
	pk_key(&pk, "introduction");
	pack_intro(&pk, in, role, at);
	if (inv != NULL) {
		pk_key(&pk, "invitation");
		pack_inv(&pk, t, inv, ROLE_SENDER);
	}
	store_event_add(t, seq, now, member, mlen, notify, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
}

/* The value of key in map o, NULL when absent. */
static const msgpack_object *
map_get(const msgpack_object *o, const char *key)
{
	size_t n = strlen(key);
	uint32_t i;

	if (o == NULL || o->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (i = 0; i < o->via.map.size; i++) {
		const msgpack_object *k = &o->via.map.ptr[i].key;

		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
		    memcmp(k->via.str.ptr, key, n) == 0)
			return &o->via.map.ptr[i].val;
	}
	return NULL;
}

#define UNSAY_MAX 4

struct unsay {
	const struct inv *inv;
	uint64_t seq[UNSAY_MAX];
	size_t n;
};

static bool
unsay_one(void *ctx, const struct event_rec *e)
{
	struct unsay *u = ctx;
	msgpack_unpacked up;
	const msgpack_object *ty, *id;
	const char *type;
	size_t tn;

	/* The received event was written as the invitation was sent, the
	 * reminder when its deadline was handled: at or after remind_at. */
	if (e->at == u->inv->created_at)
		type = EV_RECEIVED;
	else if (u->inv->remind_at != 0 && e->at >= u->inv->remind_at)
		type = EV_REMINDER;
	else
		return true;
	tn = strlen(type);
	msgpack_unpacked_init(&up);
	if (msgpack_unpack_next(&up, e->data, e->len, NULL) ==
	    MSGPACK_UNPACK_SUCCESS) {
		ty = map_get(&up.data, "type");
		id = map_get(map_get(&up.data, "invitation"), "id");
		if (ty != NULL && ty->type == MSGPACK_OBJECT_STR &&
		    ty->via.str.size == tn &&
		    memcmp(ty->via.str.ptr, type, tn) == 0 &&
		    id != NULL && id->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
		    id->via.u64 == u->inv->id)
			u->seq[u->n++] = e->seq;
	}
	msgpack_unpacked_destroy(&up);
	return u->n < UNSAY_MAX;
}

void
events_unsay_received(struct stx *t, const struct inv *inv)
{
	struct unsay u;
	size_t i;

	memset(&u, 0, sizeof u);
	u.inv = inv;
	/* Collected first: the scan walks the index the takeback edits. */
	store_event_scan(t, 0, inv->to, inv->to_len, unsay_one, &u);
	for (i = 0; i < u.n; i++)
		store_event_unnotify(t, u.seq[i]);
}

void
events_conn(struct stx *t, const char *type, int64_t at, const char *member,
    size_t mlen, const char *other, size_t olen, int64_t since, bool notify)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint64_t seq;

	if (store_error(t) != STORE_OK)
		return;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	seq = event_head(t, &pk, 2, type, at, member, mlen);
	pk_kstrn(&pk, "other", other, olen);
	pk_key(&pk, "connection");
	pack_conn(&pk, member, mlen, other, olen, since);
	store_event_add(t, seq, at, member, mlen, notify, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
}

void
events_notice(struct stx *t, const char *type, int64_t at, int64_t now,
    const char *member, size_t mlen, const struct notice *n)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint64_t seq;
	size_t more = (n->code != NULL) + (n->message != NULL) +
	    (n->until != 0) + (n->plan != 0 ? 3 : 0);

	if (store_error(t) != STORE_OK)
		return;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	seq = event_head(t, &pk, more, type, at, member, mlen);
	if (n->code != NULL)
		pk_kstr(&pk, "code", n->code);
	if (n->message != NULL)
		pk_kstr(&pk, "message", n->message);
	if (n->until != 0)
		pk_kint(&pk, "until", n->until);
	if (n->plan != 0) {
		pk_kuint(&pk, "plan", n->plan);
		pk_kuint(&pk, "done", n->done);
		pk_kuint(&pk, "total", n->total);
	}
	store_event_add(t, seq, now, member, mlen, true, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
}

void
events_digest(struct stx *t, int64_t at, int64_t now, const char *member,
    size_t mlen, uint64_t count, int64_t oldest_at)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint64_t seq;

	if (store_error(t) != STORE_OK)
		return;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	seq = event_head(t, &pk, 2, EV_DIGEST, at, member, mlen);
	pk_kuint(&pk, "count", count);
	pk_kint(&pk, "oldest_at", oldest_at);
	store_event_add(t, seq, now, member, mlen, true, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
}

/* The keys whose values are member ids, in every event map and the maps
 * within it (§8.1: the event's member, an invitation's from, to and
 * introduced_by, an introduction's from, via and to, a connection's a and
 * b, connection.removed's other). Any other string (a type, a state, a
 * priority, a note, a notice's code and message) is not a member's id,
 * even when it is spelt like one. */
static bool
key_is(const msgpack_object *k, const char *name)
{
	return k->type == MSGPACK_OBJECT_STR &&
	    k->via.str.size == strlen(name) &&
	    memcmp(k->via.str.ptr, name, k->via.str.size) == 0;
}

/* introducer: introduced_by counts (an invitation's introducer is not one
 * of its parties: an event of an invitation a member only introduced
 * keeps its place, told as before, without the name, as the invitation
 * itself does: erase.h). */
static bool
member_key(const msgpack_object *k, bool introducer)
{
	static const char *const keys[] = {
		"member", "from", "to", "via", "a", "b", "other",
	};
	size_t i;

	for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (key_is(k, keys[i]))
			return true;
	return introducer && key_is(k, "introduced_by");
}

/* Whether o, or any value within it, is the string m: anywhere when any,
 * otherwise only as the value of a member_key() (named: o is one; with
 * introducer, introduced_by is one). */
static bool
names_as(const msgpack_object *o, const char *m, size_t mlen, int depth,
    bool any, bool named, bool introducer)
{
	uint32_t i;

	if (depth > 8)
		return false;
	switch (o->type) {
	case MSGPACK_OBJECT_STR:
		return (any || named) && o->via.str.size == mlen &&
		    memcmp(o->via.str.ptr, m, mlen) == 0;
	case MSGPACK_OBJECT_ARRAY:
		for (i = 0; i < o->via.array.size; i++)
			if (names_as(&o->via.array.ptr[i], m, mlen, depth + 1,
			    any, named, introducer))
				return true;
		return false;
	case MSGPACK_OBJECT_MAP:
		for (i = 0; i < o->via.map.size; i++)
			if (names_as(&o->via.map.ptr[i].val, m, mlen,
			    depth + 1, any, member_key(&o->via.map.ptr[i].key,
			    introducer), introducer))
				return true;
		return false;
	default:
		return false;
	}
}

static bool
names(const msgpack_object *o, const char *m, size_t mlen, int depth,
    bool any, bool named)
{
	return names_as(o, m, mlen, depth, any, named, false);
}

/* o packed again, each introduced_by that is m nil. */
static void
pack_unintroduced(msgpack_packer *pk, const msgpack_object *o,
    const char *m, size_t mlen, int depth)
{
	uint32_t i;

	if (depth > 8 || (o->type != MSGPACK_OBJECT_MAP &&
	    o->type != MSGPACK_OBJECT_ARRAY)) {
		msgpack_pack_object(pk, *o);
		return;
	}
	if (o->type == MSGPACK_OBJECT_ARRAY) {
		msgpack_pack_array(pk, o->via.array.size);
		for (i = 0; i < o->via.array.size; i++)
			pack_unintroduced(pk, &o->via.array.ptr[i], m, mlen,
			    depth + 1);
		return;
	}
	msgpack_pack_map(pk, o->via.map.size);
	for (i = 0; i < o->via.map.size; i++) {
		const msgpack_object_kv *kv = &o->via.map.ptr[i];

		msgpack_pack_object(pk, kv->key);
		if (key_is(&kv->key, "introduced_by") &&
		    names(&kv->val, m, mlen, 0, true, false))
			msgpack_pack_nil(pk);
		else
			pack_unintroduced(pk, &kv->val, m, mlen, depth + 1);
	}
}

/* The seqs of the events that name a member (the store's candidates,
 * decoded); redacted once the scan is over (a scan's callback does not
 * write). */
struct naming {
	const char *m;
	size_t mlen;
	uint64_t *seq;
	int64_t *at;
	msgpack_sbuffer *kept;	/* the event without the member's name, when
				 * it only introduced the invitation (its
				 * data NULL: redacted) */
	size_t n, cap;
};

static bool
naming_one(void *ctx, const struct event_rec *e)
{
	struct naming *x = ctx;
	msgpack_sbuffer kept = { 0 };
	const msgpack_object *at_o, *type;
	msgpack_unpacked u;
	int64_t at = e->at;
	bool hit = e->member_len == x->mlen &&
	    memcmp(e->member, x->m, x->mlen) == 0, ok;

	msgpack_unpacked_init(&u);
	ok = msgpack_unpack_next(&u, e->data, e->len, NULL) ==
	    MSGPACK_UNPACK_SUCCESS && u.data.type == MSGPACK_OBJECT_MAP;
	/* What mirrors follow stays: an earlier erasure of the member. */
	if (ok && (type = proto_map_get(&u.data, "type")) != NULL &&
	    proto_obj_is_str(type, EV_MEMBER_ERASED))
		ok = hit = false;
	if (ok) {
		if (!hit)
			hit = names(&u.data, x->m, x->mlen, 0, false, false);
		/* Only as an invitation's introducer: the event stays,
		 * without the name. */
		if (!hit && names_as(&u.data, x->m, x->mlen, 0, false, false,
		    true)) {
			msgpack_packer pk;

			msgpack_sbuffer_init(&kept);
			msgpack_packer_init(&pk, &kept, msgpack_sbuffer_write);
			pack_unintroduced(&pk, &u.data, x->m, x->mlen, 0);
		}
		/* The event's own time (a deadline handled late has it
		 * before it was written) is event.erased's. */
		at_o = proto_map_get(&u.data, "at");
		if (at_o != NULL &&
		    at_o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
			at = (int64_t)at_o->via.u64;
		else if (at_o != NULL &&
		    at_o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
			at = at_o->via.i64;
	}
	msgpack_unpacked_destroy(&u);
	if (!hit && kept.data == NULL)
		return true;
	if (x->n == x->cap) {
		x->cap = x->cap ? x->cap * 2 : 64;
		x->seq = xrealloc(x->seq, x->cap * sizeof *x->seq);
		x->at = xrealloc(x->at, x->cap * sizeof *x->at);
		x->kept = xrealloc(x->kept, x->cap * sizeof *x->kept);
	}
	x->seq[x->n] = e->seq;
	x->at[x->n] = at;
	x->kept[x->n] = kept;
	x->n++;
	return true;
}

uint64_t
events_erase_member(struct stx *t, const char *member, size_t mlen)
{
	struct naming x = { .m = member, .mlen = mlen };
	msgpack_sbuffer sb;
	msgpack_packer pk;
	size_t i;

	store_scan_events_naming(t, member, mlen, naming_one, &x);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	for (i = 0; i < x.n && store_error(t) == STORE_OK; i++) {
		if (x.kept[i].data != NULL) {
			store_event_redact(t, x.seq[i], x.kept[i].data,
			    x.kept[i].size, false);
			continue;
		}
		sb.size = 0;
		msgpack_pack_map(&pk, 4);
		pk_kuint(&pk, "seq", x.seq[i]);
		pk_kstr(&pk, "type", EV_EVENT_ERASED);
		pk_kint(&pk, "at", x.at[i]);
		pk_knil(&pk, "member");
		store_event_redact(t, x.seq[i], sb.data, sb.size, true);
	}
	msgpack_sbuffer_destroy(&sb);
	for (i = 0; i < x.n; i++)
		msgpack_sbuffer_destroy(&x.kept[i]);
	free(x.seq);
	free(x.at);
	free(x.kept);
	return x.n;
}

void
events_member_erased(struct stx *t, int64_t now, const char *member,
    size_t mlen)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint64_t seq;

	if (store_error(t) != STORE_OK)
		return;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	seq = event_head(t, &pk, 0, EV_MEMBER_ERASED, now, member, mlen);
	store_event_add(t, seq, now, member, mlen, false, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
}
