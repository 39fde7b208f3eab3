/* daemon/store.c: see store.h. The functions the daemon calls, each a
 * dispatch to the backend's table, and what every backend shares: who
 * owns a store and a transaction, the sticky error, what a missing record
 * or a failed transaction reads as, and the count of a member's open
 * invitations. */
#include "store-backend.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct store_ops *const store_backends[] = {
	&store_lmdb,		/* the default: store_open, store_open_check */
	&store_pg,
	NULL
};

#define OPS(t) ((t)->s->ops)

/* The check stated once: an operation runs only on a transaction with no
 * error so far; otherwise the call is a no-op. */
static bool
live(const struct stx *t)
{
	return t->rc == STORE_OK;
}

struct store *
store_open_backend(const struct store_ops *ops, const char *where,
    uint64_t map_max, char *why, size_t whylen)
{
	struct store *s = xcalloc(1, ops->store_size);

	s->ops = ops;
	if (ops->open(s, where, map_max, why, whylen) == -1) {
		free(s);
		return NULL;
	}
	return s;
}

static struct store *
open_check(const struct store_ops *ops, const char *where, char *why,
    size_t whylen)
{
	struct store *s = xcalloc(1, ops->store_size);

	s->ops = ops;
	s->read_only = true;
	if (ops->open(s, where, 0, why, whylen) == -1) {
		free(s);
		return NULL;
	}
	return s;
}

struct store *
store_open_check(const char *where, char *why, size_t whylen)
{
	return open_check(store_backends[0], where, why, whylen);
}

struct store *
store_open_pg(const char *conninfo, char *why, size_t whylen)
{
	return store_open_backend(&store_pg, conninfo, 0, why, whylen);
}

struct store *
store_open_pg_check(const char *conninfo, char *why, size_t whylen)
{
	return open_check(&store_pg, conninfo, why, whylen);
}

bool
store_blocking(const struct store *s)
{
	return s->ops->blocking;
}

struct store *
store_open(const char *dir, uint64_t map_max, char *why, size_t whylen)
{
	return store_open_backend(store_backends[0], dir, map_max, why, whylen);
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	s->ops->close(s);
	free(s);
}

const char *
store_strerror(struct store *s)
{
	return s->err;
}

int
store_grow(struct store *s)
{
	return s->ops->grow(s);
}

uint64_t
store_map_size(struct store *s)
{
	return s->ops->map_size(s);
}

void
store_set_map_max(struct store *s, uint64_t map_max)
{
	s->ops->set_map_max(s, map_max);
}

int
store_room(struct store *s)
{
	return s->ops->room(s);
}

static struct stx *
stx_begin(struct store *s, struct stx *parent, bool read_only)
{
	struct stx *t = xcalloc(1, s->ops->stx_size);

	t->s = s;
	t->parent = parent;
	t->read_only = read_only;
	if (parent != NULL && !live(parent))
		t->rc = parent->rc;
	else
		s->ops->begin(t);
	return t;
}

struct stx *
store_begin(struct store *s, struct stx *parent)
{
	struct stx *t;

	if (!s->read_only)
		return stx_begin(s, parent, false);
	t = xcalloc(1, s->ops->stx_size);
	t->s = s;
	t->parent = parent;
	store_fail(t, STORE_FAILED, "the store is open read-only");
	return t;
}

struct stx *
store_begin_read(struct store *s)
{
	return stx_begin(s, NULL, true);
}

static int
commit(struct stx *t, uint64_t *seq)
{
	int rc;

	if (seq != NULL)
		*seq = 0;
	if (live(t))
		OPS(t)->commit(t, seq);
	else
		OPS(t)->abort(t);
	rc = t->rc;
	free(t);
	return rc;
}

int
store_commit(struct stx *t)
{
	return commit(t, NULL);
}

int
store_commit_async(struct stx *t, uint64_t *seq)
{
	return commit(t, seq);
}

int
store_wait_fd(struct store *s)
{
	return s->ops->wait_fd != NULL ? s->ops->wait_fd(s) : -1;
}

uint64_t
store_durable(struct store *s, int *rc)
{
	*rc = STORE_OK;
	return s->ops->durable != NULL ? s->ops->durable(s, rc) : 0;
}

int
store_wait(struct store *s, uint64_t seq)
{
	return s->ops->wait != NULL ? s->ops->wait(s, seq) : STORE_OK;
}

unsigned
store_inflight(struct store *s)
{
	return s->ops->inflight != NULL ? s->ops->inflight(s) : 0;
}

void
store_abort(struct stx *t)
{
	OPS(t)->abort(t);
	free(t);
}

int
store_error(const struct stx *t)
{
	return t->rc;
}

uint64_t
store_writes(struct store *s)
{
	return s->ops->writes(s);
}

uint64_t
store_next_id(struct stx *t)
{
	return live(t) ? OPS(t)->next_id(t) : 0;
}

int64_t
store_get_vclock(struct stx *t)
{
	return live(t) ? OPS(t)->get_vclock(t) : 0;
}

void
store_set_vclock(struct stx *t, int64_t now)
{
	if (live(t))
		OPS(t)->set_vclock(t, now);
}

void
store_counts(struct stx *t, struct store_counts *c)
{
	memset(c, 0, sizeof *c);
	if (live(t))
		OPS(t)->counts(t, c);
}

int
store_inv_get(struct stx *t, uint64_t id, struct inv *out)
{
	return live(t) ? OPS(t)->inv_get(t, id, out) : t->rc;
}

void
store_inv_put(struct stx *t, const struct inv *inv, int old_state)
{
	bool was_open = old_state != ST_COUNT && rules_open(old_state);
	struct member_rec m;

	if (!live(t))
		return;
	OPS(t)->inv_put(t, inv, old_state);
	if (was_open == rules_open(inv->state))
		return;
	store_member_get(t, inv->from, inv->from_len, &m);
	if (rules_open(inv->state))
		m.open_sent++;
	else if (m.open_sent > 0)
		m.open_sent--;
	store_member_put(t, inv->from, inv->from_len, &m);
}

void
store_scan_box(struct stx *t, enum store_box box, const char *member,
    size_t len, uint64_t before, store_id_fn fn, void *ctx)
{
	if (live(t))
		OPS(t)->scan_box(t, box, member, len, before, fn, ctx);
}

void
store_scan_history(struct stx *t, const char *a, size_t alen, const char *b,
    size_t blen, store_id_fn fn, void *ctx)
{
	if (live(t))
		OPS(t)->scan_history(t, a, alen, b, blen, fn, ctx);
}

void
store_pair_get(struct stx *t, const char *from, size_t flen, const char *to,
    size_t tlen, struct pair *out)
{
	memset(out, 0, sizeof *out);
	if (live(t))
		OPS(t)->pair_get(t, from, flen, to, tlen, out);
}

void
store_pair_put(struct stx *t, const char *from, size_t flen, const char *to,
    size_t tlen, const struct pair *p)
{
	if (live(t))
		OPS(t)->pair_put(t, from, flen, to, tlen, p);
}

int64_t
store_conn_get(struct stx *t, const char *a, size_t alen, const char *b,
    size_t blen)
{
	return live(t) ? OPS(t)->conn_get(t, a, alen, b, blen) : 0;
}

void
store_conn_put(struct stx *t, const char *a, size_t alen, const char *b,
    size_t blen, int64_t since)
{
	if (live(t))
		OPS(t)->conn_put(t, a, alen, b, blen, since);
}

void
store_conn_del(struct stx *t, const char *a, size_t alen, const char *b,
    size_t blen)
{
	if (live(t))
		OPS(t)->conn_del(t, a, alen, b, blen);
}

void
store_scan_conns(struct stx *t, const char *member, size_t len,
    const char *after, size_t after_len, store_conn_fn fn, void *ctx)
{
	if (live(t))
		OPS(t)->scan_conns(t, member, len, after, after_len, fn, ctx);
}

void
store_log_add(struct stx *t, enum store_log log, const char *key, size_t klen,
    int64_t at, uint64_t id, uint8_t value)
{
	if (live(t))
		OPS(t)->log_add(t, log, key, klen, at, id, value);
}

uint64_t
store_log_count(struct stx *t, enum store_log log, const char *key,
    size_t klen, int64_t since, uint64_t max, int64_t *oldest)
{
	*oldest = 0;
	if (!live(t))
		return 0;
	return OPS(t)->log_count(t, log, key, klen, since, max, oldest);
}

void
store_log_scan_back(struct stx *t, enum store_log log, const char *key,
    size_t klen, store_log_fn fn, void *ctx)
{
	if (live(t))
		OPS(t)->log_scan_back(t, log, key, klen, fn, ctx);
}

bool
store_flag_get(struct stx *t, enum store_flag f, const char *a, size_t alen,
    const char *b, size_t blen)
{
	return live(t) && OPS(t)->flag_get(t, f, a, alen, b, blen);
}

void
store_flag_set(struct stx *t, enum store_flag f, const char *a, size_t alen,
    const char *b, size_t blen, bool on)
{
	if (live(t))
		OPS(t)->flag_set(t, f, a, alen, b, blen, on);
}

void
store_member_get(struct stx *t, const char *m, size_t mlen,
    struct member_rec *out)
{
	memset(out, 0, sizeof *out);
	if (live(t))
		OPS(t)->member_get(t, m, mlen, out);
}

void
store_member_put(struct stx *t, const char *m, size_t mlen,
    const struct member_rec *r)
{
	if (live(t))
		OPS(t)->member_put(t, m, mlen, r);
}

int
store_plan_get(struct stx *t, uint64_t id, void *buf, size_t cap, size_t *len)
{
	return live(t) ? OPS(t)->plan_get(t, id, buf, cap, len) : t->rc;
}

void
store_plan_put(struct stx *t, uint64_t id, const void *buf, size_t len)
{
	if (live(t))
		OPS(t)->plan_put(t, id, buf, len);
}

void
store_scan_plans(struct stx *t, const char *m, size_t mlen, store_id_fn fn,
    void *ctx)
{
	if (live(t))
		OPS(t)->scan_plans(t, m, mlen, fn, ctx);
}

void
store_plan_index(struct stx *t, const char *m, size_t mlen, uint64_t id)
{
	if (live(t))
		OPS(t)->plan_index(t, m, mlen, id);
}

void
store_event_add(struct stx *t, uint64_t seq, int64_t at, const char *member,
    size_t mlen, bool notify, const char *data, size_t len)
{
	if (live(t))
		OPS(t)->event_add(t, seq, at, member, mlen, notify, data, len);
}

uint64_t
store_event_head(struct stx *t)
{
	return live(t) ? OPS(t)->event_head(t) : 0;
}

uint64_t
store_event_pruned(struct stx *t, const char *member, size_t mlen)
{
	return live(t) ? OPS(t)->event_pruned(t, member, mlen) : 0;
}

void
store_event_scan(struct stx *t, uint64_t after, const char *member,
    size_t mlen, store_event_fn fn, void *ctx)
{
	if (live(t))
		OPS(t)->event_scan(t, after, member, mlen, fn, ctx);
}

void
store_event_unnotify(struct stx *t, uint64_t seq)
{
	if (live(t))
		OPS(t)->event_unnotify(t, seq);
}

size_t
store_event_prune(struct stx *t, int64_t before, size_t max)
{
	return live(t) ? OPS(t)->event_prune(t, before, max) : 0;
}

void
store_due_add(struct stx *t, const struct due *d)
{
	if (live(t))
		OPS(t)->due_add(t, d);
}

void
store_due_del(struct stx *t, const struct due *d)
{
	if (live(t))
		OPS(t)->due_del(t, d);
}

bool
store_due_first(struct stx *t, struct due *out)
{
	return live(t) && OPS(t)->due_first(t, out);
}

bool
store_due_claim(struct stx *t, int64_t now, struct due *out)
{
	if (!live(t))
		return false;
	if (OPS(t)->due_claim != NULL)
		return OPS(t)->due_claim(t, now, out);
	return OPS(t)->due_first(t, out) && out->at <= now;
}

bool
store_db_clock(struct stx *t, int64_t *real, int64_t *vclock)
{
	return live(t) && OPS(t)->db_clock != NULL &&
	    OPS(t)->db_clock(t, real, vclock);
}

void
store_scan_invitations(struct stx *t, store_id_fn fn, void *ctx)
{
	if (live(t))
		OPS(t)->scan_invitations(t, fn, ctx);
}

void
store_scan_pairs(struct stx *t, store_pair_fn fn, void *ctx)
{
	if (live(t))
		OPS(t)->scan_pairs(t, fn, ctx);
}

void
store_scan_dues(struct stx *t, store_due_fn fn, void *ctx)
{
	if (live(t))
		OPS(t)->scan_dues(t, fn, ctx);
}

void
store_check(struct stx *t, store_problem_fn fn, void *ctx)
{
	if (live(t) && OPS(t)->check != NULL)
		OPS(t)->check(t, fn, ctx);
}
