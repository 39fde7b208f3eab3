/* daemon/methods.c: one table of methods, indexed by the vocabulary's
 * PM_* (proto/vocab.h names them). Each exec function reads its arguments
 * (args_done refuses unknown ones), runs the domain's operations
 * (invite.c, member.c, plan.c, timers.c) in the call's operation context,
 * and packs the result. Results are maps, documented in docs/protocol.md. */
#include "methods.h"

#include <string.h>

#include "../common/util.h"
#include "config.h"
#include "erase.h"
#include "events.h"
#include "import.h"
#include "intro.h"
#include "invite.h"
#include "plan.h"
#include "inv.h"
#include "member.h"
#include "remind.h"
#include "timers.h"

#define LIST_LIMIT_DEFAULT 50
#define LIST_LIMIT_MAX 1000
#define LIST_SCAN_MAX 10000

static bool
arg_member(struct call *c, const char *key, bool required, struct str *s)
{
	s->p = NULL;
	s->n = 0;
	return args_member(&c->args, key, required, &s->p, &s->n);
}

/* invite.send's and invite.resend's optional expires_in: 0 when absent;
 * -1 (c->err filled) when it is there and 0. */
static int
arg_expires_in(struct call *c, uint64_t *v)
{
	*v = 0;
	if (args_uint(&c->args, "expires_in", false, v) && *v == 0)
		return proto_fail(c->err, PE_INVALID_ARGUMENT,
		    "expires_in must be at least 1 second");
	return 0;
}

/* The warnings a send passed with: [{code, message}]. */
static void
pack_warnings(msgpack_packer *pk, unsigned warnings)
{
	int w;

	msgpack_pack_array(pk, (size_t)__builtin_popcount(warnings));
	for (w = 0; w < PW_COUNT; w++) {
		if (!(warnings & WARN_BIT(w)))
			continue;
		msgpack_pack_map(pk, 2);
		pk_kstr(pk, "code", proto_warning_codes[w]);
		pk_kstr(pk, "message", proto_warning_messages[w]);
	}
}

/* {invitation, connection?, warnings?} of a send or resend. */
static void
pack_send_result(struct call *c, const struct inv *inv, bool connection,
    unsigned warnings)
{
	msgpack_pack_map(c->pk, 1 + (connection ? 1 : 0) + (warnings ? 1 : 0));
	pk_key(c->pk, "invitation");
	pack_inv(c->pk, c->op.t, inv, ROLE_SENDER);
	if (connection) {
		pk_key(c->pk, "connection");
		pack_conn(c->pk, inv->from, inv->from_len, inv->to,
		    inv->to_len, inv->updated_at);
	}
	if (warnings) {
		pk_key(c->pk, "warnings");
		pack_warnings(c->pk, warnings);
	}
}

/* {invitation} or {invitation, connection} */
static void
pack_inv_result(struct call *c, const struct inv *inv, enum role role,
    bool connection)
{
	msgpack_pack_map(c->pk, connection ? 2 : 1);
	pk_key(c->pk, "invitation");
	pack_inv(c->pk, c->op.t, inv, role);
	if (connection) {
		pk_key(c->pk, "connection");
		pack_conn(c->pk, inv->from, inv->from_len, inv->to,
		    inv->to_len, inv->updated_at);
	}
}

static int
m_hello(struct call *c)
{
	if (args_done(&c->args) == -1)
		return -1;
	msgpack_pack_map(c->pk, 3);
	pk_kuint(c->pk, "protocol", PROTO_VERSION);
	pk_kstr(c->pk, "version", CONNREQ_VERSION);
	pk_kstr(c->pk, "server", PROTO_SERVER_NAME);
	return 0;
}

static int
m_invite_send(struct call *c)
{
	struct send_req r;
	struct inv inv;
	bool connected;
	unsigned warnings;

	memset(&r, 0, sizeof r);
	r.priority = PRIO_MEDIUM;
	arg_member(c, "from", true, &r.from);
	arg_member(c, "to", true, &r.to);
	args_text(&c->args, "note", false, &r.note.p, &r.note.n);
	args_enum(&c->args, "priority", false, proto_priority_words, &r.priority);
	args_str(&c->args, "email", false, &r.email.p, &r.email.n);
	if (arg_expires_in(c, &r.expires_in) == -1 ||
	    args_done(&c->args) == -1)
		return -1;
	if (invite_send(&c->op, &r, &inv, &connected, &warnings,
	    c->err) == -1)
		return -1;
	pack_send_result(c, &inv, connected, warnings);
	return 0;
}

static void
m_invite_send_hint(struct call *c)
{
	struct send_req r;

	memset(&r, 0, sizeof r);
	arg_member(c, "from", true, &r.from);
	arg_member(c, "to", true, &r.to);
	args_text(&c->args, "note", false, &r.note.p, &r.note.n);
	if (!c->args.failed)
		invite_send_hint(&c->op, &r);
}

/* A send writes the invitation, its pair's rows both ways, the two
 * members' rows and logs, their connection (a crossed send), and the
 * events, deadlines and counters: the two members and their pair. */
static void
m_invite_send_keys(struct call *c, struct store_keys *ks)
{
	struct str from = { 0 }, to = { 0 };

	arg_member(c, "from", true, &from);
	arg_member(c, "to", true, &to);
	if (c->args.failed)
		return;
	store_keys_member(ks, from.p, from.n);
	store_keys_member(ks, to.p, to.n);
	store_keys_pair(ks, from.p, from.n, to.p, to.n);
}

/* invite.can_send: what a send would meet, without sending. */
static int
m_invite_can_send(struct call *c)
{
	const struct policy *p = c->op.policy;
	struct send_req r;
	struct send_facts f;
	struct proto_error e;
	enum send_outcome outcome;
	msgpack_packer *pk = c->pk;
	unsigned warnings;
	bool allowed;

	memset(&r, 0, sizeof r);
	arg_member(c, "from", true, &r.from);
	arg_member(c, "to", true, &r.to);
	args_str(&c->args, "email", false, &r.email.p, &r.email.n);
	if (args_done(&c->args) == -1)
		return -1;
	invite_send_facts(&c->op, &r, true, &f);
	if (store_error(c->op.t) != STORE_OK)
		return op_store_error(c->op.t, c->err);
	allowed = rules_send(p, &f, &outcome, &warnings, &e) == 0;
	msgpack_pack_map(pk, allowed ? 2 : (e.retry_at ? 5 : 4));
	pk_kbool(pk, "allowed", allowed);
	if (!allowed) {
		pk_kstr(pk, "code", proto_code_name(e.code));
		pk_kstr(pk, "message", e.message);
		if (e.retry_at)
			pk_kint(pk, "retry_at", e.retry_at);
	}
	pk_key(pk, "quota");
	msgpack_pack_map(pk, 9);
	pk_kuint(pk, "week_used", f.week_used);
	pk_kuint(pk, "week_limit", p->sends_per_week);
	pk_kuint(pk, "day_used", f.day_used);
	pk_kuint(pk, "day_limit", p->sends_per_day);
	pk_kuint(pk, "pending", f.pending_sent);
	pk_kuint(pk, "pending_warn", p->pending_warn);
	pk_kuint(pk, "pending_max", p->pending_max);
	pk_kuint(pk, "pair_used", f.pair_used);
	pk_kuint(pk, "pair_limit", p->invites_per_pair);
	return 0;
}

/* The shape shared by accept and ignore: {actor, id} -> {invitation}. */
static int
actor_id_args(struct call *c, struct str *actor, uint64_t *id)
{
	arg_member(c, "actor", true, actor);
	args_uint(&c->args, "id", true, id);
	return args_done(&c->args);
}

static int
m_invite_accept(struct call *c)
{
	struct str actor;
	struct inv inv;
	uint64_t id;

	if (actor_id_args(c, &actor, &id) == -1 ||
	    invite_accept(&c->op, actor, id, &inv, c->err) == -1)
		return -1;
	pack_inv_result(c, &inv, ROLE_RECIPIENT, true);
	return 0;
}

static int
m_invite_ignore(struct call *c)
{
	struct str actor;
	struct inv inv;
	uint64_t id;

	if (actor_id_args(c, &actor, &id) == -1 ||
	    invite_ignore(&c->op, actor, id, &inv, c->err) == -1)
		return -1;
	pack_inv_result(c, &inv, ROLE_RECIPIENT, false);
	return 0;
}

static int
m_invite_unignore(struct call *c)
{
	struct str actor;
	struct inv inv;
	uint64_t id;

	if (actor_id_args(c, &actor, &id) == -1 ||
	    invite_unignore(&c->op, actor, id, &inv, c->err) == -1)
		return -1;
	pack_inv_result(c, &inv, ROLE_RECIPIENT, false);
	return 0;
}

static int
m_invite_withdraw(struct call *c)
{
	struct str actor;
	struct inv inv;
	uint64_t id;
	int64_t until;

	if (actor_id_args(c, &actor, &id) == -1 ||
	    invite_withdraw(&c->op, actor, id, &inv, &until, c->err) == -1)
		return -1;
	msgpack_pack_map(c->pk, 2);
	pk_key(c->pk, "invitation");
	pack_inv(c->pk, c->op.t, &inv, ROLE_SENDER);
	pk_kint(c->pk, "cooldown_until", until);
	return 0;
}

static int
m_invite_resend(struct call *c)
{
	struct str actor, note = { NULL, 0 }, email = { NULL, 0 };
	struct inv inv;
	uint64_t id, expires_in;
	bool connected;
	unsigned warnings;

	arg_member(c, "actor", true, &actor);
	args_uint(&c->args, "id", true, &id);
	args_text(&c->args, "note", false, &note.p, &note.n);
	args_str(&c->args, "email", false, &email.p, &email.n);
	if (arg_expires_in(c, &expires_in) == -1 ||
	    args_done(&c->args) == -1)
		return -1;
	if (invite_resend(&c->op, actor, id, note, email, expires_in, &inv,
	    &connected, &warnings, c->err) == -1)
		return -1;
	pack_send_result(c, &inv, connected, warnings);
	return 0;
}

static int
m_invite_get(struct call *c)
{
	struct str actor = { NULL, 0 };
	struct inv inv;
	enum role role;
	uint64_t id;

	arg_member(c, "actor", false, &actor);
	args_uint(&c->args, "id", true, &id);
	if (args_done(&c->args) == -1)
		return -1;
	if (inv_load(c->op.t, id, actor, &inv, &role, c->err) == -1)
		return -1;
	inv_as_of(&inv, c->op.now);
	pack_inv_result(c, &inv, role, false);
	return 0;
}

/* A list a result carries: packed aside while it is counted, then put in
 * the result as {key: [...], ...} once the scan went well. */
struct items {
	msgpack_sbuffer sb;
	msgpack_packer pk;
};

static void
items_init(struct items *it)
{
	msgpack_sbuffer_init(&it->sb);
	msgpack_packer_init(&it->pk, &it->sb, msgpack_sbuffer_write);
}

/* Packs the result's map header (1 + more pairs) and key: [the count
 * items]; the caller packs the `more` pairs after it. -1 after a store
 * error. The items are freed either way. */
static int
items_finish(struct call *c, struct items *it, const char *key, size_t count,
    size_t more)
{
	if (store_error(c->op.t) != STORE_OK) {
		msgpack_sbuffer_destroy(&it->sb);
		return op_store_error(c->op.t, c->err);
	}
	msgpack_pack_map(c->pk, 1 + more);
	pk_key(c->pk, key);
	msgpack_pack_array(c->pk, count);
	msgpack_sbuffer_write(c->pk->data, it->sb.data, it->sb.size);
	msgpack_sbuffer_destroy(&it->sb);
	return 0;
}

/* invite.list: a page of one member's box, newest first. The recipient's
 * three boxes (received, ignored, held) are one index, the received one
 * (store_scan_box BOX_RECEIVED), filtered as it is read
 * (rules_recipient_box): a page reads the index from `after` down until
 * it has `limit` items, or LIST_SCAN_MAX entries were read (then it ends
 * short, with next). So a page of the ignored or held box costs the
 * received invitations above its items, at most LIST_SCAN_MAX reads
 * (docs/protocol.md, invite.list). */
struct list_ctx {
	struct call *c;
	enum store_box box;
	enum proto_box pbox;
	int state;		/* -1: any */
	int priority;		/* -1: any */
	int64_t created_before;	/* older_than: created at or before */
	uint64_t limit;
	uint64_t count;
	uint64_t scanned;
	uint64_t next;		/* where the next page starts below */
	bool more;
	struct items items;
};

static bool
list_one(void *ctx, uint64_t id)
{
	struct list_ctx *l = ctx;
	enum role role = l->box == BOX_SENT ? ROLE_SENDER : ROLE_RECIPIENT;
	struct inv inv;
	enum inv_state st;

	if (l->scanned == LIST_SCAN_MAX) {
		/* Enough work for one call: the page ends short, and next
		 * goes on below the last id looked at. */
		l->more = true;
		return false;
	}
	l->scanned++;
	if (store_inv_get(l->c->op.t, id, &inv) != STORE_OK)
		return false;
	inv_as_of(&inv, l->c->op.now);
	st = rules_view((enum inv_state)inv.state, inv.ignored, role);
	if ((l->box == BOX_RECEIVED && rules_recipient_box(
	    (enum inv_state)inv.state, inv.ignored, inv.held) != l->pbox) ||
	    (l->state >= 0 && (int)st != l->state) ||
	    (l->priority >= 0 && inv.priority != l->priority) ||
	    (l->created_before && inv.created_at > l->created_before)) {
		if (l->count < l->limit)
			l->next = id;
		return true;
	}
	if (l->count == l->limit) {
		/* One more matches: there is a next page. */
		l->more = true;
		return false;
	}
	pack_inv(&l->items.pk, l->c->op.t, &inv, role);
	l->count++;
	l->next = id;
	return true;
}

static int
m_invite_list(struct call *c)
{
	struct list_ctx l;
	struct str member;
	uint64_t older = 0, after = 0;
	int box = 0;

	memset(&l, 0, sizeof l);
	l.c = c;
	l.state = l.priority = -1;
	l.limit = LIST_LIMIT_DEFAULT;
	arg_member(c, "member", true, &member);
	args_enum(&c->args, "box", true, proto_box_words, &box);
	args_enum(&c->args, "state", false, proto_state_words, &l.state);
	args_uint(&c->args, "older_than", false, &older);
	args_enum(&c->args, "priority", false, proto_priority_words, &l.priority);
	args_uint(&c->args, "limit", false, &l.limit);
	args_uint(&c->args, "after", false, &after);
	if (args_done(&c->args) == -1)
		return -1;
	if (l.limit == 0 || l.limit > LIST_LIMIT_MAX)
		return proto_fail(c->err, PE_INVALID_ARGUMENT,
		    "limit must be 1 to %d", LIST_LIMIT_MAX);
	if (rules_older_than(older, c->err) == -1)
		return -1;
	l.pbox = (enum proto_box)box;
	l.box = box == PBOX_SENT ? BOX_SENT : BOX_RECEIVED;
	if (l.priority >= 0 && rules_filter_priority(l.box == BOX_SENT ?
	    ROLE_SENDER : ROLE_RECIPIENT, c->err) == -1)
		return -1;
	if (older > 0)
		l.created_before = c->op.now - (int64_t)older;
	items_init(&l.items);
	store_scan_box(c->op.t, l.box, member.p, member.n, after, list_one, &l);
	if (items_finish(c, &l.items, "items", (size_t)l.count, 1) == -1)
		return -1;
	if (l.more)
		pk_kuint(c->pk, "next", l.next);
	else
		pk_knil(c->pk, "next");
	return 0;
}

/* invite.history: every invitation between a and b, oldest first, as a
 * sees them. */
struct hist_ctx {
	struct call *c;
	struct str a;
	uint32_t count;
	struct items items;
};

static bool
hist_one(void *ctx, uint64_t id)
{
	struct hist_ctx *h = ctx;
	struct inv inv;
	enum role role;

	if (store_inv_get(h->c->op.t, id, &inv) != STORE_OK)
		return false;
	inv_as_of(&inv, h->c->op.now);
	role = inv_role(&inv, h->a);
	if (!rules_visible(inv.state, role))
		return true;
	pack_inv(&h->items.pk, h->c->op.t, &inv, role);
	h->count++;
	return true;
}

static int
m_invite_history(struct call *c)
{
	struct hist_ctx h;
	struct str b;

	memset(&h, 0, sizeof h);
	h.c = c;
	arg_member(c, "a", true, &h.a);
	arg_member(c, "b", true, &b);
	if (args_done(&c->args) == -1)
		return -1;
	items_init(&h.items);
	store_scan_history(c->op.t, h.a.p, h.a.n, b.p, b.n, hist_one, &h);
	return items_finish(c, &h.items, "items", h.count, 0);
}

/* connection.list: a member's connections in order of the other's id. */
struct conn_ctx {
	struct str member;
	uint64_t limit, count;
	bool more;
	char last[MEMBER_MAX_BYTES];
	size_t last_len;
	struct items items;
};

static bool
conn_one(void *ctx, const char *other, size_t len, int64_t since)
{
	struct conn_ctx *l = ctx;

	if (l->count == l->limit) {
		l->more = true;
		return false;
	}
	pack_conn(&l->items.pk, l->member.p, l->member.n, other, len, since);
	l->count++;
	memcpy(l->last, other, len);
	l->last_len = len;
	return true;
}

static int
m_connection_list(struct call *c)
{
	struct conn_ctx l;
	struct str after = { NULL, 0 };

	memset(&l, 0, sizeof l);
	l.limit = LIST_LIMIT_DEFAULT;
	arg_member(c, "member", true, &l.member);
	args_uint(&c->args, "limit", false, &l.limit);
	arg_member(c, "after", false, &after);
	if (args_done(&c->args) == -1)
		return -1;
	if (l.limit == 0 || l.limit > LIST_LIMIT_MAX)
		return proto_fail(c->err, PE_INVALID_ARGUMENT,
		    "limit must be 1 to %d", LIST_LIMIT_MAX);
	items_init(&l.items);
	store_scan_conns(c->op.t, l.member.p, l.member.n, after.p, after.n,
	    conn_one, &l);
	if (items_finish(c, &l.items, "items", (size_t)l.count, 1) == -1)
		return -1;
	if (l.more)
		pk_kstrn(c->pk, "next", l.last, l.last_len);
	else
		pk_knil(c->pk, "next");
	return 0;
}

/* connection.mutual: the members connected to both a and b, in order of
 * their id: {member, since_a, since_b} each. */
struct mutual_ctx {
	uint64_t limit, count;
	bool more;
	char last[MEMBER_MAX_BYTES];
	size_t last_len;
	struct items items;
};

static bool
mutual_one(void *ctx, const char *other, size_t len, int64_t since_a,
    int64_t since_b)
{
	struct mutual_ctx *l = ctx;

	if (l->count == l->limit) {
		l->more = true;
		return false;
	}
	msgpack_pack_map(&l->items.pk, 3);
	pk_kstrn(&l->items.pk, "member", other, len);
	pk_kint(&l->items.pk, "since_a", since_a);
	pk_kint(&l->items.pk, "since_b", since_b);
	l->count++;
	memcpy(l->last, other, len);
	l->last_len = len;
	return true;
}

static int
m_connection_mutual(struct call *c)
{
	struct mutual_ctx l;
	struct str a, b, after = { NULL, 0 };

	memset(&l, 0, sizeof l);
	l.limit = LIST_LIMIT_DEFAULT;
	arg_member(c, "a", true, &a);
	arg_member(c, "b", true, &b);
	args_uint(&c->args, "limit", false, &l.limit);
	arg_member(c, "after", false, &after);
	if (args_done(&c->args) == -1)
		return -1;
	if (l.limit == 0 || l.limit > LIST_LIMIT_MAX)
		return proto_fail(c->err, PE_INVALID_ARGUMENT,
		    "limit must be 1 to %d", LIST_LIMIT_MAX);
	if (a.n == b.n && memcmp(a.p, b.p, a.n) == 0)
		return proto_fail(c->err, PE_INVALID_ARGUMENT,
		    "a and b must be two members");
	items_init(&l.items);
	/* One more than a page: whether there is a next one. */
	store_scan_mutual(c->op.t, a.p, a.n, b.p, b.n, after.p, after.n,
	    l.limit + 1, mutual_one, &l);
	if (items_finish(c, &l.items, "items", (size_t)l.count, 1) == -1)
		return -1;
	if (l.more)
		pk_kstrn(c->pk, "next", l.last, l.last_len);
	else
		pk_knil(c->pk, "next");
	return 0;
}

static int
m_connection_remove(struct call *c)
{
	struct str actor, other;
	int64_t since;

	arg_member(c, "actor", true, &actor);
	arg_member(c, "other", true, &other);
	if (args_done(&c->args) == -1)
		return -1;
	if (connection_remove(&c->op, actor, other, &since, c->err) == -1)
		return -1;
	msgpack_pack_map(c->pk, 1);
	pk_key(c->pk, "removed");
	pack_conn(c->pk, actor.p, actor.n, other.p, other.n, since);
	return 0;
}

_Static_assert((int)BACKUP_NONE == PBACKUP_NONE &&
    (int)BACKUP_RUNNING == PBACKUP_RUNNING && (int)BACKUP_DONE == PBACKUP_DONE &&
    (int)BACKUP_FAILED == PBACKUP_FAILED,
    "store.h's backup states are proto/vocab.h's PROTO_BACKUP_STATES");

/* {state, path, bytes, started_at, took_ms, error}: a backup's status. */
static void
pack_backup(msgpack_packer *pk, const struct store_backup *b)
{
	msgpack_pack_map(pk, 6);
	pk_kstr(pk, "state", proto_backup_state_words[b->state]);
	pk_kstr(pk, "path", b->path);
	pk_kuint(pk, "bytes", b->bytes);
	pk_kint(pk, "started_at", b->started_at / 1000);
	if (b->state == BACKUP_DONE || b->state == BACKUP_FAILED)
		pk_kint(pk, "took_ms", b->finished_at - b->started_at);
	else
		pk_knil(pk, "took_ms");
	if (b->state == BACKUP_FAILED)
		pk_kstr(pk, "error", b->error);
	else
		pk_knil(pk, "error");
}

static int
m_server_info(struct call *c)
{
	const struct daemon *d = c->d;
	struct store_backup backup;
	struct config conf;
	struct store_counts n;
	struct due next;
	bool have_next;
	msgpack_packer *pk = c->pk;
	int i;

	if (args_done(&c->args) == -1)
		return -1;
	store_counts(c->op.t, &n);
	have_next = store_due_first(c->op.t, &next);
	if (store_error(c->op.t) != STORE_OK)
		return op_store_error(c->op.t, c->err);
	msgpack_pack_map(pk, 12);
	pk_kstr(pk, "version", CONNREQ_VERSION);
	pk_kuint(pk, "protocol", PROTO_VERSION);
	/* What this daemon does beyond its protocol version, for clients
	 * that use it where it is (docs/protocol.md, server.info). */
	pk_key(pk, "features");
	msgpack_pack_array(pk, 1);
	pk_str(pk, "request_id");
	pk_kint(pk, "now", c->op.now);
	pk_kint(pk, "started_at", d->started_at);
	pk_kbool(pk, "virtual_clock", clock_is_virtual(&d->clock));
	pk_key(pk, "counts");
	msgpack_pack_map(pk, ST_COUNT + 1);
	for (i = 0; i < ST_COUNT; i++)
		pk_kuint(pk, proto_state_words[i], n.state[i]);
	pk_kuint(pk, "connections", n.connections);
	pk_key(pk, "deadlines");
	msgpack_pack_map(pk, 2);
	pk_kuint(pk, "count", n.deadlines);
	if (have_next)
		pk_kint(pk, "next", next.at);
	else
		pk_knil(pk, "next");
	pk_key(pk, "events");
	msgpack_pack_map(pk, 2);
	pk_kuint(pk, "head", store_event_head(c->op.t));
	pk_kuint(pk, "oldest", store_event_pruned(c->op.t, NULL, 0) + 1);
	pk_key(pk, "store");
	msgpack_pack_map(pk, 4);
	pk_kstr(pk, "backend", store_name(d->store));
	pk_kstr(pk, "path", d->store_path);
	pk_kuint(pk, "map_size", store_map_size(d->store));
	pk_kuint(pk, "map_size_max", d->map_size_max);
	pk_key(pk, "backup");
	store_backup_status(d->store, &backup);
	if (backup.state == BACKUP_NONE)
		msgpack_pack_nil(pk);
	else
		pack_backup(pk, &backup);
	pk_key(pk, "policy");
	memset(&conf, 0, sizeof conf);
	conf.max_clients = d->max_clients;
	conf.max_message_bytes = d->max_message_bytes;
	conf.read_timeout = d->read_timeout;
	conf.policy = d->policy;
	config_pack_policy(pk, &conf);
	return 0;
}

/* clock.advance: the virtual clock moves, and what fell due meanwhile is
 * handled at its own time, in this request's transaction; the server moves
 * its clock once the request is done. */
static int
m_clock_advance(struct call *c)
{
	struct op later = c->op;
	uint64_t secs;
	bool more;

	args_uint(&c->args, "seconds", true, &secs);
	if (args_done(&c->args) == -1)
		return -1;
	if (!clock_is_virtual(&c->d->clock))
		return proto_fail(c->err, PE_NOT_PERMITTED,
		    "the clock moves only when connreqd runs with --virtual-clock");
	if (secs > 100ULL * 365 * 86400)
		return proto_fail(c->err, PE_INVALID_ARGUMENT,
		    "seconds must be at most 100 years");
	later.now += (int64_t)secs;
	store_set_vclock(c->op.t, later.now);
	timers_run(&later, &more);
	if (store_error(c->op.t) != STORE_OK)
		return op_store_error(c->op.t, c->err);
	c->fx.clock_advance = (int64_t)secs;
	c->fx.run_more = more;
	msgpack_pack_map(c->pk, 1);
	pk_kint(c->pk, "now", later.now);
	return 0;
}

/* {member, invitations_from, email, auto_accept_min_mutual,
 * auto_accept_until, hold_no_mutual, hold_low_health,
 * hold_restricted_days, hold_new_member_days, digest_every, own}: the
 * auto-accept rules, the hold filters and the digest in force, and own:
 * the names of those that are the member's own (the others follow the
 * policy). */
static void
pack_settings(msgpack_packer *pk, const struct policy *p, struct str member,
    const struct member_rec *m)
{
	struct hold_filters h = member_hold_filters(p, m);
	struct hold_own own = member_hold_own(m);

	msgpack_pack_map(pk, 11);
	pk_kstrn(pk, "member", member.p, member.n);
	pk_kstr(pk, "invitations_from", proto_invite_from_words[m->invitations_from <
	    FROM_COUNT ? m->invitations_from : 0]);
	if (m->email_len > 0)
		pk_kstrn(pk, "email", m->email, m->email_len);
	else
		pk_knil(pk, "email");
	pk_kuint(pk, "auto_accept_min_mutual", m->auto_min_mutual);
	if (m->auto_until != 0)
		pk_kint(pk, "auto_accept_until", m->auto_until);
	else
		pk_knil(pk, "auto_accept_until");
	pk_kbool(pk, "hold_no_mutual", h.no_mutual);
	pk_kbool(pk, "hold_low_health", h.low_health);
	pk_kuint(pk, "hold_restricted_days", h.restricted_days);
	pk_kuint(pk, "hold_new_member_days", h.new_days);
	/* In force: the member's own, or the policy's. */
	pk_kuint(pk, "digest_every", remind_digest_every(p, m));
	pk_key(pk, "own");
	msgpack_pack_array(pk, (size_t)own.no_mutual + own.low_health +
	    own.restricted_days + own.new_days +
	    ((m->own & MEMBER_OWN_DIGEST) != 0));
	if (own.no_mutual)
		pk_str(pk, "hold_no_mutual");
	if (own.low_health)
		pk_str(pk, "hold_low_health");
	if (own.restricted_days)
		pk_str(pk, "hold_restricted_days");
	if (own.new_days)
		pk_str(pk, "hold_new_member_days");
	if (m->own & MEMBER_OWN_DIGEST)
		pk_str(pk, "digest_every");
}

/* A bool setting: given (SET_VALUE), nil (SET_RESET) or left out. */
static enum set_how
arg_setting_bool(struct call *c, const char *key, bool *v)
{
	if (args_bool(&c->args, key, false, v))
		return SET_VALUE;
	return args_nil(&c->args, key) ? SET_RESET : SET_KEEP;
}

/* A count of days, 0 (off) to HOLD_DAYS_MAX. */
static enum set_how
arg_setting_days(struct call *c, const char *key, uint32_t *v)
{
	uint64_t u;

	if (args_uint(&c->args, key, false, &u)) {
		if (u > HOLD_DAYS_MAX) {
			proto_fail(c->err, PE_INVALID_ARGUMENT,
			    "%s must be 0 (off) to %d days", key,
			    HOLD_DAYS_MAX);
			c->args.failed = true;
			return SET_KEEP;
		}
		*v = (uint32_t)u;
		return SET_VALUE;
	}
	return args_nil(&c->args, key) ? SET_RESET : SET_KEEP;
}

static int
m_member_settings_set(struct call *c)
{
	struct member_rec m;
	struct str member, email = { NULL, 0 };
	struct digest_change digest = { SET_KEEP, 0 };
	int from = -1;
	struct hold_change hold;

	struct auto_settings as;
	uint64_t until = 0;

	memset(&as, 0, sizeof as);
	memset(&hold, 0, sizeof hold);
	arg_member(c, "member", true, &member);
	args_enum(&c->args, "invitations_from", false, proto_invite_from_words, &from);
	args_text(&c->args, "email", false, &email.p, &email.n);
	as.has_min_mutual = args_uint(&c->args, "auto_accept_min_mutual",
	    false, &as.min_mutual);
	as.has_until = args_uint(&c->args, "auto_accept_until", false, &until);
	hold.no_mutual = arg_setting_bool(c, "hold_no_mutual",
	    &hold.v.no_mutual);
	hold.low_health = arg_setting_bool(c, "hold_low_health",
	    &hold.v.low_health);
	hold.restricted_days = arg_setting_days(c, "hold_restricted_days",
	    &hold.v.restricted_days);
	hold.new_days = arg_setting_days(c, "hold_new_member_days",
	    &hold.v.new_days);
	if (args_nil(&c->args, "digest_every"))
		digest.how = SET_RESET;
	else if (args_uint(&c->args, "digest_every", false, &digest.every))
		digest.how = SET_VALUE;
	if (args_done(&c->args) == -1)
		return -1;
	if (until > INT64_MAX)
		return proto_fail(c->err, PE_INVALID_ARGUMENT,
		    "auto_accept_until must be a time");
	as.until = (int64_t)until;
	if (member_settings_set(&c->op, member, from, email, &as, &hold,
	    &digest, &m, c->err) == -1)
		return -1;
	pack_settings(c->pk, c->op.policy, member, &m);
	return 0;
}

static int
m_member_settings_get(struct call *c)
{
	struct member_rec m;
	struct str member;

	arg_member(c, "member", true, &member);
	if (args_done(&c->args) == -1)
		return -1;
	store_member_get(c->op.t, member.p, member.n, &m);
	if (store_error(c->op.t) != STORE_OK)
		return op_store_error(c->op.t, c->err);
	pack_settings(c->pk, c->op.policy, member, &m);
	return 0;
}

/* member.auto_accept.add and .remove: {member, other, listed}. */
static int
auto_accept_call(struct call *c, bool on)
{
	struct str member, other;

	arg_member(c, "member", true, &member);
	arg_member(c, "other", true, &other);
	if (args_done(&c->args) == -1 ||
	    member_auto_accept(&c->op, member, other, on, c->err) == -1)
		return -1;
	msgpack_pack_map(c->pk, 3);
	pk_kstrn(c->pk, "member", member.p, member.n);
	pk_kstrn(c->pk, "other", other.p, other.n);
	pk_kbool(c->pk, "listed", on);
	return 0;
}

static int
m_member_auto_accept_add(struct call *c)
{
	return auto_accept_call(c, true);
}

static int
m_member_auto_accept_remove(struct call *c)
{
	return auto_accept_call(c, false);
}

/* member.auto_accept.list: a page of the members member listed, in order
 * of their id. */
struct flags_ctx {
	uint64_t limit, count;
	bool more;
	char last[MEMBER_MAX_BYTES];
	size_t last_len;
	struct items items;
};

static bool
flags_one(void *ctx, const char *m, size_t len)
{
	struct flags_ctx *l = ctx;

	if (l->count == l->limit) {
		l->more = true;
		return false;
	}
	msgpack_pack_str(&l->items.pk, len);
	msgpack_pack_str_body(&l->items.pk, m, len);
	l->count++;
	memcpy(l->last, m, len);
	l->last_len = len;
	return true;
}

static int
m_member_auto_accept_list(struct call *c)
{
	struct flags_ctx l;
	struct str member, after = { NULL, 0 };

	memset(&l, 0, sizeof l);
	l.limit = LIST_LIMIT_DEFAULT;
	arg_member(c, "member", true, &member);
	args_uint(&c->args, "limit", false, &l.limit);
	arg_member(c, "after", false, &after);
	if (args_done(&c->args) == -1)
		return -1;
	if (l.limit == 0 || l.limit > LIST_LIMIT_MAX)
		return proto_fail(c->err, PE_INVALID_ARGUMENT,
		    "limit must be 1 to %d", LIST_LIMIT_MAX);
	items_init(&l.items);
	store_scan_flags(c->op.t, FLAG_AUTOACCEPT, member.p, member.n,
	    after.p, after.n, flags_one, &l);
	if (items_finish(c, &l.items, "items", (size_t)l.count, 1) == -1)
		return -1;
	if (l.more)
		pk_kstrn(c->pk, "next", l.last, l.last_len);
	else
		pk_knil(c->pk, "next");
	return 0;
}

static int
block_call(struct call *c, bool on)
{
	struct str actor, other;
	bool changed;

	arg_member(c, "actor", true, &actor);
	arg_member(c, "other", true, &other);
	if (args_done(&c->args) == -1 ||
	    member_block(&c->op, actor, other, on, &changed, c->err) == -1)
		return -1;
	msgpack_pack_map(c->pk, 3);
	pk_kstrn(c->pk, "other", other.p, other.n);
	pk_kbool(c->pk, "blocked", on);
	pk_kbool(c->pk, "changed", changed);
	return 0;
}

static int
m_member_block(struct call *c)
{
	return block_call(c, true);
}

static int
m_member_unblock(struct call *c)
{
	return block_call(c, false);
}

static int
m_invite_report(struct call *c)
{
	struct str actor;
	struct inv inv;
	uint64_t id;
	int reason = 0;

	arg_member(c, "actor", true, &actor);
	args_uint(&c->args, "id", true, &id);
	args_enum(&c->args, "reason", true, proto_report_reason_words,
	    &reason);
	if (args_done(&c->args) == -1 ||
	    invite_report(&c->op, actor, id, reason == REASON_DONT_KNOW, &inv,
	    c->err) == -1)
		return -1;
	pack_inv_result(c, &inv, ROLE_RECIPIENT, false);
	return 0;
}

/* stats.get: a sender's record over a window, as the sender sees it. */
static int
m_stats_get(struct call *c)
{
	const struct policy *p = c->op.policy;
	struct member_stats s;
	struct str member;
	uint64_t window = 90 * 86400ULL;
	msgpack_packer *pk = c->pk;
	double band_lo, band_hi;

	arg_member(c, "member", true, &member);
	args_uint(&c->args, "window", false, &window);
	if (args_done(&c->args) == -1)
		return -1;
	if (window == 0 || window > 3650 * 86400ULL)
		return proto_fail(c->err, PE_INVALID_ARGUMENT,
		    "window must be 1 second to 10 years");
	if (member_stats(&c->op, member, window, &s, c->err) == -1)
		return -1;
	msgpack_pack_map(pk, 14);
	pk_kstrn(pk, "member", member.p, member.n);
	pk_kuint(pk, "window", window);
	pk_kuint(pk, "sent", s.sent);
	pk_kuint(pk, "accepted", s.accepted);
	pk_kuint(pk, "withdrawn", s.withdrawn);
	pk_kuint(pk, "expired", s.expired);
	/* Ignored ones are pending here: the sender cannot know. */
	pk_kuint(pk, "pending", s.rec.open_sent);
	pk_key(pk, "acceptance_rate");
	if (s.decided > 0)
		msgpack_pack_double(pk, (double)s.accepted / (double)s.decided);
	else
		msgpack_pack_nil(pk);
	pk_kstr(pk, "health", proto_health_words[rules_health(p, s.accepted,
	    s.decided)]);
	rules_healthy_band(p, &band_lo, &band_hi);
	pk_key(pk, "healthy_band");
	msgpack_pack_array(pk, 2);
	msgpack_pack_double(pk, band_lo);
	msgpack_pack_double(pk, band_hi);
	pk_key(pk, "quota");
	msgpack_pack_map(pk, 6);
	pk_kuint(pk, "week_used", s.week_used);
	pk_kuint(pk, "week_limit", p->sends_per_week);
	pk_kuint(pk, "day_used", s.day_used);
	pk_kuint(pk, "day_limit", p->sends_per_day);
	pk_kuint(pk, "pending_warn", p->pending_warn);
	pk_kuint(pk, "pending_max", p->pending_max);
	if (s.rec.restricted_until > c->op.now)
		pk_kint(pk, "restricted_until", s.rec.restricted_until);
	else
		pk_knil(pk, "restricted_until");
	pk_kuint(pk, "restrictions", s.restrictions);
	pk_kuint(pk, "next_restriction_for", s.next_restrict_for);
	return 0;
}

/* invite.advise: for each invitation a member sent that deserves it. */
struct advise_ctx {
	uint32_t count;
	struct items items;
};

static bool
advise_one(void *ctx, const struct inv *inv, const struct advice_item *ad)
{
	struct advise_ctx *a = ctx;

	msgpack_pack_map(&a->items.pk, 7);
	pk_kuint(&a->items.pk, "id", inv->id);
	pk_kstrn(&a->items.pk, "to", inv->to, inv->to_len);
	pk_kstr(&a->items.pk, "state", proto_state_words[ad->seen]);
	pk_kuint(&a->items.pk, "age", ad->age);
	pk_kstr(&a->items.pk, "priority", proto_priority_words[inv->priority]);
	pk_kstr(&a->items.pk, "advice", proto_advice_words[ad->advice]);
	pk_kstr(&a->items.pk, "reason", ad->reason);
	a->count++;
	return true;
}

static int
m_invite_advise(struct call *c)
{
	struct advise_ctx a;
	struct str member;

	memset(&a, 0, sizeof a);
	arg_member(c, "member", true, &member);
	if (args_done(&c->args) == -1)
		return -1;
	items_init(&a.items);
	invite_advise(&c->op, member, LIST_SCAN_MAX, advise_one, &a);
	return items_finish(c, &a.items, "items", a.count, 0);
}

static int
m_plan_withdraw_stale(struct call *c)
{
	struct plan *pl;
	struct str member;
	uint64_t older = c->op.policy->stale_after, per_day = 10;
	int prio = PRIO_MEDIUM, rc;

	arg_member(c, "member", true, &member);
	args_uint(&c->args, "older_than", false, &older);
	args_uint(&c->args, "per_day", false, &per_day);
	args_enum(&c->args, "max_priority", false, proto_priority_words, &prio);
	if (args_done(&c->args) == -1)
		return -1;
	/* Checked here too: per_day is 64 bits wide until plan_create. */
	if (rules_plan_bounds(older, per_day, c->err) == -1)
		return -1;
	pl = xmalloc(sizeof *pl);
	rc = plan_create(&c->op, member, older, (uint32_t)per_day, prio,
	    pl, c->err);
	if (rc == 0) {
		msgpack_pack_map(c->pk, 1);
		pk_key(c->pk, "plan");
		plan_pack(c->pk, pl, c->op.policy);
	}
	free(pl);
	return rc;
}

struct plans_ctx {
	struct call *c;
	struct plan *pl;
	uint32_t count;
	struct items items;
};

static bool
plans_one(void *ctx, uint64_t id)
{
	struct plans_ctx *p = ctx;
	struct proto_error e;

	if (plan_load(p->c->op.t, id, p->pl, &e) == -1)
		return false;
	plan_pack(&p->items.pk, p->pl, p->c->op.policy);
	return ++p->count < LIST_LIMIT_MAX;
}

static int
m_plan_list(struct call *c)
{
	struct plans_ctx p;
	struct str member;

	memset(&p, 0, sizeof p);
	p.c = c;
	arg_member(c, "member", true, &member);
	if (args_done(&c->args) == -1)
		return -1;
	p.pl = xmalloc(sizeof *p.pl);
	items_init(&p.items);
	store_scan_plans(c->op.t, member.p, member.n, plans_one, &p);
	free(p.pl);
	return items_finish(c, &p.items, "items", p.count, 0);
}

static int
m_plan_cancel(struct call *c)
{
	struct plan *pl;
	struct str actor;
	uint64_t id;
	int rc;

	arg_member(c, "actor", true, &actor);
	args_uint(&c->args, "id", true, &id);
	if (args_done(&c->args) == -1)
		return -1;
	pl = xmalloc(sizeof *pl);
	rc = plan_cancel(&c->op, actor, id, pl, c->err);
	if (rc == 0) {
		msgpack_pack_map(c->pk, 1);
		pk_key(c->pk, "plan");
		plan_pack(c->pk, pl, c->op.policy);
	}
	free(pl);
	return rc;
}

static void
effects_subscribe(struct effects *fx, const char *member, size_t mlen,
    uint64_t after)
{
	fx->subscription = FX_SUBSCRIBE;
	fx->sub_all = member == NULL;
	fx->sub_mlen = member != NULL ? mlen : 0;
	if (member != NULL)
		memcpy(fx->sub_member, member, mlen);
	fx->sub_after = after;
}

/* The feed a subscribe or read names: {member} or {all: true}, and a
 * cursor that must not point before what is kept. */
/* *has_after is false when no cursor was given: the head. */
static void
feed_args(struct call *c, struct str *member, bool *all, uint64_t *after,
    bool *has_after, bool after_required)
{
	*all = false;
	arg_member(c, "member", false, member);
	args_bool(&c->args, "all", false, all);
	*has_after = args_uint(&c->args, "after", after_required, after);
}

static int
feed_check(struct call *c, struct str member, bool all, uint64_t *after,
    bool has_after, uint64_t *head)
{
	uint64_t pruned;

	if ((member.p != NULL) == all)
		return proto_fail(c->err, PE_INVALID_ARGUMENT,
		    "name one feed: member, or all: true");
	*head = store_event_head(c->op.t);
	/* A member's cursor expires only when one of its own events went. */
	pruned = store_event_pruned(c->op.t, all ? NULL : member.p, member.n);
	if (!has_after)
		*after = *head;
	else if (*after == 0)
		*after = pruned;	/* 0: everything that is kept */
	if (*after > *head)
		return proto_fail(c->err, PE_INVALID_ARGUMENT,
		    "after is %llu, past the last event (%llu)",
		    (unsigned long long)*after, (unsigned long long)*head);
	if (*after < pruned) {
		proto_fail(c->err, PE_CURSOR_EXPIRED,
		    "events of this feed after %llu are no longer kept; resume with after %llu or later",
		    (unsigned long long)*after, (unsigned long long)pruned);
		c->err->oldest = pruned + 1;
		return -1;
	}
	return 0;
}

static int
m_events_subscribe(struct call *c)
{
	struct str member;
	bool all, has_after;
	uint64_t after, head;

	feed_args(c, &member, &all, &after, &has_after, false);
	if (args_done(&c->args) == -1 ||
	    feed_check(c, member, all, &after, has_after, &head) == -1)
		return -1;
	effects_subscribe(&c->fx, all ? NULL : member.p, member.n, after);
	msgpack_pack_map(c->pk, 1);
	pk_kuint(c->pk, "head", head);
	return 0;
}

static int
m_events_unsubscribe(struct call *c)
{
	if (args_done(&c->args) == -1)
		return -1;
	c->fx.subscription = FX_UNSUBSCRIBE;
	msgpack_pack_map(c->pk, 0);
	return 0;
}

struct read_ctx {
	uint64_t limit, count, last;
	struct items items;
};

static bool
read_one(void *ctx, const struct event_rec *e)
{
	struct read_ctx *r = ctx;

	msgpack_sbuffer_write(&r->items.sb, e->data, e->len);
	r->last = e->seq;
	return ++r->count < r->limit;
}

static int
m_events_read(struct call *c)
{
	struct read_ctx r;
	struct str member;
	bool all, has_after;
	uint64_t after, head;

	memset(&r, 0, sizeof r);
	r.limit = 100;
	feed_args(c, &member, &all, &after, &has_after, true);
	args_uint(&c->args, "limit", false, &r.limit);
	if (args_done(&c->args) == -1)
		return -1;
	if (r.limit == 0 || r.limit > LIST_LIMIT_MAX)
		return proto_fail(c->err, PE_INVALID_ARGUMENT,
		    "limit must be 1 to %d", LIST_LIMIT_MAX);
	if (feed_check(c, member, all, &after, has_after, &head) == -1)
		return -1;
	r.last = after;
	items_init(&r.items);
	store_event_scan(c->op.t, after, all ? NULL : member.p, member.n,
	    read_one, &r);
	if (items_finish(c, &r.items, "events", (size_t)r.count, 2) == -1)
		return -1;
	/* A member's feed skips others' events: next may pass them too. */
	pk_kuint(c->pk, "next", r.count < r.limit ? head : r.last);
	pk_kuint(c->pk, "head", head);
	return 0;
}

/* {introduction} as role sees it. */
static void
pack_intro_result(struct call *c, const struct intro *in,
    enum intro_role role)
{
	msgpack_pack_map(c->pk, 1);
	pk_key(c->pk, "introduction");
	pack_intro(c->pk, in, role, c->op.now);
}

static int
m_intro_ask(struct call *c)
{
	struct intro_ask_req r;
	struct intro *in;
	int rc;

	memset(&r, 0, sizeof r);
	arg_member(c, "from", true, &r.from);
	arg_member(c, "via", true, &r.via);
	arg_member(c, "to", true, &r.to);
	args_text(&c->args, "note", false, &r.note.p, &r.note.n);
	if (args_done(&c->args) == -1)
		return -1;
	in = xmalloc(sizeof *in);
	rc = intro_ask(&c->op, &r, in, c->err);
	if (rc == 0)
		pack_intro_result(c, in, IROLE_FROM);
	free(in);
	return rc;
}

/* {introduction}: in via's view, its invitation's id in it. What the
 * send made of it (accepted at once, a warning about the asker's pending
 * invitations, its attempt) is the asker's, not via's, to see. */
static int
m_intro_forward(struct call *c)
{
	struct str actor, note = { NULL, 0 };
	struct intro *in;
	struct inv *inv;
	uint64_t id;
	bool connected;
	unsigned warnings;
	int rc;

	arg_member(c, "actor", true, &actor);
	args_uint(&c->args, "id", true, &id);
	args_text(&c->args, "note", false, &note.p, &note.n);
	if (args_done(&c->args) == -1)
		return -1;
	in = xmalloc(sizeof *in);
	inv = xmalloc(sizeof *inv);
	rc = intro_forward(&c->op, actor, id, note, in, inv, &connected,
	    &warnings, c->err);
	if (rc == 0) {
		msgpack_pack_map(c->pk, 1);
		pk_key(c->pk, "introduction");
		pack_intro(c->pk, in, IROLE_VIA, c->op.now);
	}
	free(inv);
	free(in);
	return rc;
}

static int
m_intro_decline(struct call *c)
{
	struct str actor;
	struct intro *in;
	uint64_t id;
	bool tell = false;
	int rc;

	arg_member(c, "actor", true, &actor);
	args_uint(&c->args, "id", true, &id);
	args_bool(&c->args, "tell_sender", false, &tell);
	if (args_done(&c->args) == -1)
		return -1;
	in = xmalloc(sizeof *in);
	rc = intro_decline(&c->op, actor, id, tell, in, c->err);
	if (rc == 0)
		pack_intro_result(c, in, IROLE_VIA);
	free(in);
	return rc;
}

static int
m_intro_get(struct call *c)
{
	struct str actor;
	struct intro *in;
	enum intro_role role;
	uint64_t id;
	int rc;

	arg_member(c, "actor", true, &actor);
	args_uint(&c->args, "id", true, &id);
	if (args_done(&c->args) == -1)
		return -1;
	in = xmalloc(sizeof *in);
	rc = intro_load(c->op.t, id, actor, in, &role, c->err);
	if (rc == 0)
		pack_intro_result(c, in, role);
	free(in);
	return rc;
}

/* intro.list: a page of a member's introductions, newest first. */
struct ilist_ctx {
	struct call *c;
	enum intro_role role;
	uint64_t limit, count, scanned, next;
	bool more;
	struct intro in;
	struct items items;
};

static bool
ilist_one(void *ctx, uint64_t id)
{
	struct ilist_ctx *l = ctx;

	if (l->scanned == LIST_SCAN_MAX || l->count == l->limit) {
		l->more = true;
		return false;
	}
	l->scanned++;
	if (store_intro_get(l->c->op.t, id, &l->in) != STORE_OK)
		return false;
	pack_intro(&l->items.pk, &l->in, l->role, l->c->op.now);
	l->count++;
	l->next = id;
	return true;
}

static int
m_intro_list(struct call *c)
{
	struct ilist_ctx *l;
	struct str member;
	uint64_t after = 0;
	int box = 0, rc;

	l = xmalloc(sizeof *l);
	memset(l, 0, sizeof *l);
	l->c = c;
	l->limit = LIST_LIMIT_DEFAULT;
	arg_member(c, "member", true, &member);
	args_enum(&c->args, "box", true, proto_intro_box_words, &box);
	args_uint(&c->args, "limit", false, &l->limit);
	args_uint(&c->args, "after", false, &after);
	if (args_done(&c->args) == -1) {
		free(l);
		return -1;
	}
	if (l->limit == 0 || l->limit > LIST_LIMIT_MAX) {
		free(l);
		return proto_fail(c->err, PE_INVALID_ARGUMENT,
		    "limit must be 1 to %d", LIST_LIMIT_MAX);
	}
	l->role = box == PIBOX_ASKED ? IROLE_FROM : IROLE_VIA;
	items_init(&l->items);
	store_scan_intros(c->op.t, box == PIBOX_ASKED ? IBOX_ASKED : IBOX_VIA,
	    member.p, member.n, after, ilist_one, l);
	rc = items_finish(c, &l->items, "items", (size_t)l->count, 1);
	if (rc == 0) {
		if (l->more)
			pk_kuint(c->pk, "next", l->next);
		else
			pk_knil(c->pk, "next");
	}
	free(l);
	return rc;
}

/* store.backup {path}: a compacted copy of the store to path, a new file
 * (an absolute path: the CLI makes it so), written by a process of its
 * own (waited for on a thread) while the daemon serves; answered once it
 * has begun, its end in server.info's backup. */
static int
m_store_backup(struct call *c)
{
	struct store_backup b;
	char path[4096], why[4400];
	const char *p = NULL;
	size_t n = 0;
	int rc;

	args_str(&c->args, "path", true, &p, &n);
	if (args_done(&c->args) == -1)
		return -1;
	if (n == 0 || p[0] != '/' || n >= sizeof path - 8 ||
	    memchr(p, 0, n) != NULL)
		return proto_fail(c->err, PE_INVALID_ARGUMENT,
		    "path must be an absolute path of a new file");
	memcpy(path, p, n);
	path[n] = '\0';
	rc = store_backup_start(c->d->store, path, why, sizeof why);
	if (rc != 0)
		return proto_fail(c->err, rc == STORE_BACKUP_BUSY ?
		    PE_INVALID_STATE : rc == STORE_BACKUP_NONE ?
		    PE_NOT_PERMITTED : PE_INVALID_ARGUMENT, "%.300s", why);
	store_backup_status(c->d->store, &b);
	msgpack_pack_map(c->pk, 1);
	pk_key(c->pk, "backup");
	pack_backup(c->pk, &b);
	return 0;
}

/* server.metrics: {text}, what the [metrics] listener serves at /metrics
 * (metrics.h), without the listener. */
static int
m_server_metrics(struct call *c)
{
	struct metrics_gauges g;
	struct evbuffer *out;
	size_t n;

	if (args_done(&c->args) == -1)
		return -1;
	if ((out = evbuffer_new()) == NULL)
		return proto_fail(c->err, PE_INTERNAL, "out of memory");
	memset(&g, 0, sizeof g);
	if (c->d->gauges_fn != NULL)
		c->d->gauges_fn((void *)c->d, &g);
	metrics_render(&c->d->metrics, &g, out);
	n = evbuffer_get_length(out);
	msgpack_pack_map(c->pk, 1);
	pk_key(c->pk, "text");
	msgpack_pack_str(c->pk, n);
	msgpack_pack_str_body(c->pk, evbuffer_pullup(out, -1), n);
	evbuffer_free(out);
	return 0;
}

/* member.export: everything the store keeps about a member, as one
 * document, each part as that member may see it (docs/protocol.md,
 * member.export). Each list holds at most EXPORT_ITEMS of its newest
 * items; truncated names the lists that had more. */
#define EXPORT_ITEMS 10000

struct export_ctx {
	struct call *c;
	struct str member;
	enum role role;
	enum intro_role irole;
	uint64_t count;
	bool truncated;
	struct items items;
};

static bool
export_full(struct export_ctx *x)
{
	if (x->count < EXPORT_ITEMS)
		return false;
	x->truncated = true;
	return true;
}

static bool
export_inv(void *ctx, uint64_t id)
{
	struct export_ctx *x = ctx;
	struct inv inv;

	if (export_full(x) || store_inv_get(x->c->op.t, id, &inv) != STORE_OK)
		return false;
	inv_as_of(&inv, x->c->op.now);
	/* A withdrawn invitation no longer exists for its recipient. */
	if (x->role == ROLE_RECIPIENT &&
	    rules_recipient_box((enum inv_state)inv.state, inv.ignored,
	    inv.held) == PBOX_COUNT)
		return true;
	pack_inv(&x->items.pk, x->c->op.t, &inv, x->role);
	x->count++;
	return true;
}

static bool
export_conn(void *ctx, const char *other, size_t len, int64_t since)
{
	struct export_ctx *x = ctx;

	if (export_full(x))
		return false;
	pack_conn(&x->items.pk, x->member.p, x->member.n, other, len, since);
	x->count++;
	return true;
}

static bool
export_name(void *ctx, const char *m, size_t len)
{
	struct export_ctx *x = ctx;

	if (export_full(x))
		return false;
	pk_strn(&x->items.pk, m, len);
	x->count++;
	return true;
}

static bool
export_intro(void *ctx, uint64_t id)
{
	struct export_ctx *x = ctx;
	struct intro in;

	if (export_full(x) || store_intro_get(x->c->op.t, id, &in) != STORE_OK)
		return false;
	pack_intro(&x->items.pk, &in, x->irole, x->c->op.now);
	x->count++;
	return true;
}

static bool
export_plan(void *ctx, uint64_t id)
{
	struct export_ctx *x = ctx;
	struct proto_error e;
	struct plan pl;

	if (export_full(x) || plan_load(x->c->op.t, id, &pl, &e) == -1)
		return false;
	plan_pack(&x->items.pk, &pl, x->c->op.policy);
	x->count++;
	return true;
}

static bool
export_event(void *ctx, const struct event_rec *ev)
{
	struct export_ctx *x = ctx;

	if (export_full(x))
		return false;
	msgpack_sbuffer_write(&x->items.sb, ev->data, ev->len);
	x->count++;
	return true;
}

/* Packs key: [the list x gathered], and notes a truncated one. */
static void
export_put(struct call *c, const char *key, struct export_ctx *x,
    const char **truncated, unsigned *ntrunc)
{
	pk_key(c->pk, key);
	msgpack_pack_array(c->pk, x->count);
	msgpack_sbuffer_write(c->pk->data, x->items.sb.data, x->items.sb.size);
	msgpack_sbuffer_destroy(&x->items.sb);
	if (x->truncated)
		truncated[(*ntrunc)++] = key;
	x->count = 0;
	x->truncated = false;
	items_init(&x->items);
}

/* Runs method m of this table with {member: x} as its arguments, in c's
 * transaction, packing its result into c's packer. */
static int
export_sub(struct call *c, int (*m)(struct call *), struct str member)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked u;
	struct call sub = *c;
	size_t off = 0;
	int rc;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	pk_kstrn(&pk, "member", member.p, member.n);
	msgpack_unpacked_init(&u);
	msgpack_unpack_next(&u, sb.data, sb.size, &off);
	args_init(&sub.args, &u.data, c->err);
	rc = m(&sub);
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

static int
m_member_export(struct call *c)
{
	struct export_ctx x;
	const char *truncated[8];
	unsigned ntrunc = 0, i;

	memset(&x, 0, sizeof x);
	x.c = c;
	arg_member(c, "member", true, &x.member);
	if (args_done(&c->args) == -1)
		return -1;
	items_init(&x.items);
	msgpack_pack_map(c->pk, 15);
	pk_kuint(c->pk, "version", 1);
	pk_kstrn(c->pk, "member", x.member.p, x.member.n);
	pk_kint(c->pk, "exported_at", c->op.now);
	pk_key(c->pk, "settings");
	if (export_sub(c, m_member_settings_get, x.member) == -1)
		goto fail;
	pk_key(c->pk, "stats");
	if (export_sub(c, m_stats_get, x.member) == -1)
		goto fail;
	x.role = ROLE_SENDER;
	store_scan_box(c->op.t, BOX_SENT, x.member.p, x.member.n, 0,
	    export_inv, &x);
	export_put(c, "sent", &x, truncated, &ntrunc);
	x.role = ROLE_RECIPIENT;
	store_scan_box(c->op.t, BOX_RECEIVED, x.member.p, x.member.n, 0,
	    export_inv, &x);
	export_put(c, "received", &x, truncated, &ntrunc);
	store_scan_conns(c->op.t, x.member.p, x.member.n, NULL, 0,
	    export_conn, &x);
	export_put(c, "connections", &x, truncated, &ntrunc);
	store_scan_flags(c->op.t, FLAG_BLOCK, x.member.p, x.member.n, NULL, 0,
	    export_name, &x);
	export_put(c, "blocked", &x, truncated, &ntrunc);
	store_scan_flags(c->op.t, FLAG_AUTOACCEPT, x.member.p, x.member.n,
	    NULL, 0, export_name, &x);
	export_put(c, "auto_accept", &x, truncated, &ntrunc);
	x.irole = IROLE_FROM;
	store_scan_intros(c->op.t, IBOX_ASKED, x.member.p, x.member.n, 0,
	    export_intro, &x);
	export_put(c, "introductions_asked", &x, truncated, &ntrunc);
	x.irole = IROLE_VIA;
	store_scan_intros(c->op.t, IBOX_VIA, x.member.p, x.member.n, 0,
	    export_intro, &x);
	export_put(c, "introductions_received", &x, truncated, &ntrunc);
	store_scan_plans(c->op.t, x.member.p, x.member.n, export_plan, &x);
	export_put(c, "plans", &x, truncated, &ntrunc);
	store_event_scan(c->op.t, 0, x.member.p, x.member.n, export_event, &x);
	export_put(c, "events", &x, truncated, &ntrunc);
	msgpack_sbuffer_destroy(&x.items.sb);
	pk_key(c->pk, "truncated");
	msgpack_pack_array(c->pk, ntrunc);
	for (i = 0; i < ntrunc; i++)
		pk_str(c->pk, truncated[i]);
	if (store_error(c->op.t) != STORE_OK)
		return op_store_error(c->op.t, c->err);
	return 0;
fail:
	msgpack_sbuffer_destroy(&x.items.sb);
	return -1;
}

static int
m_member_erase(struct call *c)
{
	struct erase_counts n;
	struct str member;

	arg_member(c, "member", true, &member);
	if (args_done(&c->args) == -1)
		return -1;
	if (member_erase(&c->op, member, &n, c->err) == -1)
		return -1;
	msgpack_pack_map(c->pk, 6);
	pk_kstrn(c->pk, "member", member.p, member.n);
	pk_kuint(c->pk, "invitations", n.invitations);
	pk_kuint(c->pk, "connections", n.connections);
	pk_kuint(c->pk, "introductions", n.introductions);
	pk_kuint(c->pk, "plans", n.plans);
	pk_kuint(c->pk, "events", n.events);
	return 0;
}

/* One row of import.rows, read into r: 0, or -1 with e filled. */
static int
import_arg(const msgpack_object *o, struct import_row *r,
    struct proto_error *e)
{
	struct args a;
	int type = 0;
	uint64_t v;

	memset(r, 0, sizeof *r);
	r->priority = PRIO_MEDIUM;
	if (o->type != MSGPACK_OBJECT_MAP)
		return proto_fail(e, PE_INVALID_ARGUMENT, "a row must be a map");
	args_init(&a, o, e);
	args_member(&a, "id", true, &r->id.p, &r->id.n);
	args_enum(&a, "type", true, proto_import_type_words, &type);
	if (a.failed)
		return args_done(&a);
	r->type = (enum import_type)type;
	if (r->type == IMPORT_CONNECTION) {
		args_member(&a, "a", true, &r->from.p, &r->from.n);
		args_member(&a, "b", true, &r->to.p, &r->to.n);
		args_int(&a, "since", true, &r->at);
	} else {
		args_member(&a, "from", true, &r->from.p, &r->from.n);
		args_member(&a, "to", true, &r->to.p, &r->to.n);
		args_int(&a, "created_at", true, &r->at);
		args_text(&a, "note", false, &r->note.p, &r->note.n);
		if (args_uint(&a, "expires_at", false, &v)) {
			if (v == 0 || v > INT64_MAX)
				return proto_fail(e, PE_INVALID_ARGUMENT,
				    "expires_at must be a time after created_at");
			r->expires_at = (int64_t)v;
		}
		args_enum(&a, "priority", false, proto_priority_words,
		    &r->priority);
	}
	return args_done(&a);
}

/* import.rows: each row in this call's transaction, answered one by one;
 * a refused row writes nothing and the others go on. */
static int
m_import_rows(struct call *c)
{
	const msgpack_object_array *rows = NULL;
	struct import_row r;
	struct proto_error e;
	enum import_outcome out;
	uint64_t n[3] = { 0, 0, 0 };
	struct items items;
	uint32_t i;

	args_array(&c->args, "rows", true, &rows);
	if (args_done(&c->args) == -1)
		return -1;
	if (rows->size == 0 || rows->size > IMPORT_ROWS_MAX)
		return proto_fail(c->err, PE_INVALID_ARGUMENT,
		    "rows must hold 1 to %d rows", IMPORT_ROWS_MAX);
	items_init(&items);
	for (i = 0; i < rows->size; i++) {
		memset(&e, 0, sizeof e);
		if (import_arg(&rows->ptr[i], &r, &e) == -1)
			out = IMPORT_REFUSED;
		else
			out = import_row(&c->op, &r, &e);
		if (store_error(c->op.t) != STORE_OK)
			break;	/* items_finish() answers it */
		n[out]++;
		msgpack_pack_map(&items.pk, out == IMPORT_REFUSED ? 3 : 1);
		pk_kstr(&items.pk, "status", proto_import_status_words[out]);
		if (out == IMPORT_REFUSED) {
			pk_kstr(&items.pk, "code", proto_code_name(e.code));
			pk_kstr(&items.pk, "message", e.message);
		}
	}
	if (items_finish(c, &items, "rows", rows->size, 3) == -1)
		return -1;
	pk_kuint(c->pk, "imported", n[IMPORT_IMPORTED]);
	pk_kuint(c->pk, "duplicates", n[IMPORT_DUPLICATE]);
	pk_kuint(c->pk, "refused", n[IMPORT_REFUSED]);
	return 0;
}

/* Indexed by proto/vocab.h's PROTO_METHODS, which names them. */
static const struct method methods[PM_COUNT] = {
	[PM_HELLO] = { m_hello, M_NOSTORE },
	[PM_INVITE_SEND] = { m_invite_send, M_WRITE, m_invite_send_hint,
	    m_invite_send_keys },
	[PM_INVITE_ACCEPT] = { m_invite_accept, M_WRITE },
	[PM_INVITE_IGNORE] = { m_invite_ignore, M_WRITE },
	[PM_INVITE_WITHDRAW] = { m_invite_withdraw, M_WRITE },
	[PM_INVITE_RESEND] = { m_invite_resend, M_WRITE },
	[PM_INVITE_CAN_SEND] = { m_invite_can_send, 0 },
	[PM_INVITE_GET] = { m_invite_get, 0 },
	[PM_INVITE_LIST] = { m_invite_list, 0 },
	[PM_INVITE_HISTORY] = { m_invite_history, 0 },
	[PM_CONNECTION_LIST] = { m_connection_list, 0 },
	[PM_CONNECTION_REMOVE] = { m_connection_remove, M_WRITE },
	[PM_CONNECTION_MUTUAL] = { m_connection_mutual, 0 },
	[PM_MEMBER_AUTO_ACCEPT_ADD] = { m_member_auto_accept_add, M_WRITE },
	[PM_MEMBER_AUTO_ACCEPT_REMOVE] = { m_member_auto_accept_remove,
	    M_WRITE },
	[PM_MEMBER_AUTO_ACCEPT_LIST] = { m_member_auto_accept_list, 0 },
	[PM_SERVER_INFO] = { m_server_info, 0 },
	[PM_CLOCK_ADVANCE] = { m_clock_advance, M_WRITE },
	[PM_INVITE_REPORT] = { m_invite_report, M_WRITE },
	[PM_MEMBER_SETTINGS_SET] = { m_member_settings_set, M_WRITE },
	[PM_MEMBER_SETTINGS_GET] = { m_member_settings_get, 0 },
	[PM_MEMBER_BLOCK] = { m_member_block, M_WRITE },
	[PM_MEMBER_UNBLOCK] = { m_member_unblock, M_WRITE },
	[PM_STATS_GET] = { m_stats_get, 0 },
	[PM_INVITE_ADVISE] = { m_invite_advise, 0 },
	[PM_PLAN_WITHDRAW_STALE] = { m_plan_withdraw_stale, M_WRITE },
	[PM_PLAN_LIST] = { m_plan_list, 0 },
	[PM_PLAN_CANCEL] = { m_plan_cancel, M_WRITE },
	[PM_EVENTS_SUBSCRIBE] = { m_events_subscribe, 0 },
	[PM_EVENTS_UNSUBSCRIBE] = { m_events_unsubscribe, 0 },
	[PM_EVENTS_READ] = { m_events_read, 0 },
	[PM_INTRO_ASK] = { m_intro_ask, M_WRITE },
	[PM_INTRO_FORWARD] = { m_intro_forward, M_WRITE },
	[PM_INTRO_DECLINE] = { m_intro_decline, M_WRITE },
	[PM_INTRO_GET] = { m_intro_get, 0 },
	[PM_INTRO_LIST] = { m_intro_list, 0 },
	[PM_INVITE_UNIGNORE] = { m_invite_unignore, M_WRITE },
	[PM_STORE_BACKUP] = { m_store_backup, 0 },
	[PM_SERVER_METRICS] = { m_server_metrics, M_NOSTORE },
	[PM_MEMBER_EXPORT] = { m_member_export, 0 },
	[PM_IMPORT_ROWS] = { m_import_rows, M_WRITE },
	[PM_MEMBER_ERASE] = { m_member_erase, M_WRITE },
};

const struct method *
method_find(const char *name, size_t len)
{
	enum proto_method m = proto_method_from(name, len);

	return m == PM_COUNT || methods[m].exec == NULL ? NULL : &methods[m];
}
