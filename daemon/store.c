/* daemon/store.c: see store.h. The functions the daemon calls, each a
 * dispatch to the backend's table, and what every backend shares: who
 * owns a store and a transaction, the sticky error, what a missing record
 * or a failed transaction reads as, and the count of a member's open
 * invitations. */
#include "store-backend.h"

#include "../common/be.h"

#include <inttypes.h>
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

const struct store_ops *
store_backend_for(const char *where)
{
	const char *p = where;

	if (strncmp(where, "postgresql://", 13) == 0 ||
	    strncmp(where, "postgres://", 11) == 0)
		return &store_pg;
	/* key=value pairs: a keyword, then '=' (spaces around it). */
	while (*p == ' ' || *p == '\t')
		p++;
	if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
		return &store_lmdb;
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
	    (*p >= '0' && *p <= '9') || *p == '_')
		p++;
	while (*p == ' ' || *p == '\t')
		p++;
	return *p == '=' ? &store_pg : &store_lmdb;
}

const char *
store_backend_name(const char *where)
{
	return store_backend_for(where)->name;
}

const char *
store_where_shown(const char *where, char *buf, size_t len)
{
	const struct store_ops *ops = store_backend_for(where);

	if (ops->shown != NULL)
		ops->shown(where, buf, len);
	else
		snprintf(buf, len, "%s", where);
	return buf;
}

static struct store *
open_as(const struct store_ops *ops, const char *where, uint64_t map_max,
    bool read_only, bool alone, char *why, size_t whylen)
{
	struct store *s = xcalloc(1, ops->store_size);

	s->ops = ops;
	s->read_only = read_only;
	s->alone = alone;
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
	return open_as(ops, where, 0, true, false, why, whylen);
}

struct store *
store_open_copy_source(const char *where, char *why, size_t whylen)
{
	return open_check(store_backend_for(where), where, why, whylen);
}

struct store *
store_open_alone(const char *where, uint64_t map_max, char *why,
    size_t whylen)
{
	return open_as(store_backend_for(where), where, map_max, false, true,
	    why, whylen);
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

const char *
store_name(const struct store *s)
{
	return s->ops->name;
}

struct store_watch *
store_watch_new(struct store *s)
{
	struct store_watch *w;

	if (s->ops->watch_new == NULL || (w = s->ops->watch_new(s)) == NULL)
		return NULL;
	w->ops = s->ops;
	return w;
}

int
store_watch_step(struct store_watch *w, int *want, uint64_t *head)
{
	return w->ops->watch_step(w, want, head);
}

int
store_watch_timeout(const struct store_watch *w)
{
	return w->ops->watch_timeout != NULL ? w->ops->watch_timeout(w) : -1;
}

bool
store_watch_up(const struct store_watch *w)
{
	return w->ops->watch_up(w);
}

void
store_watch_free(struct store_watch *w)
{
	if (w != NULL)
		w->ops->watch_free(w);
}

static store_progress_fn *progress_fn;
static void *progress_ctx;

void
store_set_progress(store_progress_fn *fn, void *ctx)
{
	progress_fn = fn;
	progress_ctx = ctx;
}

void
store_progress(const char *fmt, ...)
{
	char line[256];
	va_list ap;

	if (progress_fn == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	progress_fn(progress_ctx, line);
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

struct stx *
store_begin_keyed(struct store *s, const struct store_keys *ks)
{
	struct stx *t;

	if (s->read_only || s->ops->begin_keyed == NULL || ks->full ||
	    ks->n == 0)
		return store_begin(s, NULL);
	t = xcalloc(1, s->ops->stx_size);
	t->s = s;
	t->keyed = true;
	s->ops->begin_keyed(t, ks);
	return t;
}

bool
store_keyed(const struct stx *t)
{
	return t->keyed;
}

/* FNV-1a, 64 bits, of a kind's byte, then each part's length and bytes
 * (so that ("ab", "c") and ("a", "bc") differ). */
static uint64_t
key_hash(char kind, const char *a, size_t alen, const char *b, size_t blen)
{
	uint64_t h = 14695981039346656037ULL;
	size_t i;

	h = (h ^ (unsigned char)kind) * 1099511628211ULL;
	h = (h ^ (alen & 0xff)) * 1099511628211ULL;
	for (i = 0; i < alen; i++)
		h = (h ^ (unsigned char)a[i]) * 1099511628211ULL;
	h = (h ^ (blen & 0xff)) * 1099511628211ULL;
	for (i = 0; i < blen; i++)
		h = (h ^ (unsigned char)b[i]) * 1099511628211ULL;
	return h;
}

static void
keys_add(struct store_keys *ks, uint64_t h)
{
	unsigned i;

	for (i = 0; i < ks->n; i++)
		if (ks->k[i] == h)
			return;
	if (ks->n == STORE_KEYS_MAX) {
		ks->full = true;
		return;
	}
	ks->k[ks->n++] = h;
}

void
store_keys_member(struct store_keys *ks, const char *m, size_t len)
{
	keys_add(ks, key_hash('m', m, len, "", 0));
}

void
store_keys_pair(struct store_keys *ks, const char *a, size_t alen,
    const char *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	int c = memcmp(a, b, n);

	/* Unordered: the lesser first (memcmp, then length). */
	if (c > 0 || (c == 0 && alen > blen))
		keys_add(ks, key_hash('p', b, blen, a, alen));
	else
		keys_add(ks, key_hash('p', a, alen, b, blen));
}

void
store_keys_request(struct store_keys *ks, const char *id, size_t len)
{
	keys_add(ks, key_hash('r', id, len, "", 0));
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
store_error(struct stx *t)
{
	/* The backend's writes sent without waiting: their results are
	 * read now, a failure recorded in t. */
	if (t->rc == STORE_OK && !t->defer && t->s->ops->flush != NULL)
		t->s->ops->flush(t);
	return t->rc;
}

void
store_defer(struct stx *t, bool on)
{
	t->defer = on;
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
	if (m.first_seen_at == 0)	/* its first row */
		m.first_seen_at = inv->updated_at;
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
store_scan_mutual(struct stx *t, const char *a, size_t alen, const char *b,
    size_t blen, const char *after, size_t after_len, uint64_t hint,
    store_mutual_fn fn, void *ctx)
{
	if (live(t))
		OPS(t)->scan_mutual(t, a, alen, b, blen, after, after_len, hint,
		    fn, ctx);
}

struct mutual_count {
	uint64_t n, max;
};

static bool
mutual_counted(void *ctx, const char *other, size_t len, int64_t since_a,
    int64_t since_b)
{
	struct mutual_count *m = ctx;

	(void)other;
	(void)len;
	(void)since_a;
	(void)since_b;
	return ++m->n < m->max;
}

uint64_t
store_mutual_count(struct stx *t, const char *a, size_t alen, const char *b,
    size_t blen, uint64_t max)
{
	struct mutual_count m = { 0, max };
	uint64_t n;

	if (max == 0)
		return 0;
	if (live(t) && OPS(t)->mutual_count != NULL &&
	    OPS(t)->mutual_count(t, a, alen, b, blen, max, &n))
		return n;
	store_scan_mutual(t, a, alen, b, blen, NULL, 0, max, mutual_counted,
	    &m);
	return t->rc == STORE_OK ? m.n : 0;
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
store_hint_send(struct stx *t, const char *from, size_t flen,
    const char *to, size_t tlen, int64_t since, const char *nkey,
    size_t nklen)
{
	if (live(t) && OPS(t)->hint_send != NULL)
		OPS(t)->hint_send(t, from, flen, to, tlen, since, nkey, nklen);
}

void
store_log_scan_back(struct stx *t, enum store_log log, const char *key,
    size_t klen, store_log_fn fn, void *ctx)
{
	if (live(t))
		OPS(t)->log_scan_back(t, log, key, klen, fn, ctx);
}

uint64_t
store_import_id_get(struct stx *t, const char *id, size_t len)
{
	return live(t) ? OPS(t)->import_id_get(t, id, len) : 0;
}

void
store_import_id_put(struct stx *t, const char *id, size_t len,
    uint64_t digest)
{
	if (live(t))
		OPS(t)->import_id_put(t, id, len, digest);
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
store_scan_flags(struct stx *t, enum store_flag f, const char *a,
    size_t alen, const char *after, size_t after_len, store_member_fn fn,
    void *ctx)
{
	if (live(t))
		OPS(t)->scan_flags(t, f, a, alen, after, after_len, fn, ctx);
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
store_member_settings_pack(const struct member_rec *r, unsigned char *b)
{
	be_put(b, (uint64_t)r->first_seen_at, 8);
	be_put(b + 8, r->own, 2);
	b[10] = (unsigned char)((r->hold_no_mutual ? 1 : 0) |
	    (r->hold_low_health ? 2 : 0));
	be_put(b + 11, r->hold_restricted_days, 4);
	be_put(b + 15, r->hold_new_days, 4);
	be_put(b + 19, (uint64_t)r->digest_every, 8);
	be_put(b + 27, r->auto_min_mutual, 4);
	be_put(b + 31, (uint64_t)r->auto_until, 8);
}

bool
store_member_settings_unpack(const unsigned char *b, size_t n,
    struct member_rec *r)
{
	if (n == 0) {
		r->first_seen_at = 1;
		return true;
	}
	if (n != MEMBER_SETTINGS_BYTES)
		return false;
	r->first_seen_at = (int64_t)be_get(b, 8);
	r->own = (uint16_t)be_get(b + 8, 2);
	r->hold_no_mutual = (b[10] & 1) != 0;
	r->hold_low_health = (b[10] & 2) != 0;
	r->hold_restricted_days = (uint32_t)be_get(b + 11, 4);
	r->hold_new_days = (uint32_t)be_get(b + 15, 4);
	r->digest_every = (int64_t)be_get(b + 19, 8);
	r->auto_min_mutual = (uint32_t)be_get(b + 27, 4);
	r->auto_until = (int64_t)be_get(b + 31, 8);
	return true;
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

int
store_intro_get(struct stx *t, uint64_t id, struct intro *out)
{
	return live(t) ? OPS(t)->intro_get(t, id, out) : t->rc;
}

void
store_intro_put(struct stx *t, const struct intro *in)
{
	if (live(t))
		OPS(t)->intro_put(t, in);
}

void
store_scan_intros(struct stx *t, enum store_intro_box box,
    const char *member, size_t len, uint64_t before, store_id_fn fn,
    void *ctx)
{
	if (live(t))
		OPS(t)->scan_intros(t, box, member, len, before, fn, ctx);
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
store_event_next(struct stx *t)
{
	if (!live(t))
		return 0;
	return OPS(t)->event_next != NULL ? OPS(t)->event_next(t) :
	    OPS(t)->event_head(t) + 1;
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

int
store_backup_start(struct store *s, const char *path, char *why,
    size_t whylen)
{
	if (s->ops->backup_start == NULL) {
		snprintf(why, whylen,
		    "a %s store is backed up with the database's own tools (pg_basebackup, pg_dump), not connreqd",
		    s->ops->name);
		return STORE_BACKUP_NONE;
	}
	return s->ops->backup_start(s, path, why, whylen);
}

void
store_backup_status(struct store *s, struct store_backup *out)
{
	memset(out, 0, sizeof *out);
	if (s->ops->backup_status != NULL)
		s->ops->backup_status(s, out);
}

int
store_request_get(struct stx *t, const char *id, size_t len, int64_t *at,
    void **rec, size_t *reclen)
{
	*rec = NULL;
	*reclen = 0;
	*at = 0;
	return live(t) ? OPS(t)->request_get(t, id, len, at, rec, reclen) :
	    t->rc;
}

void
store_request_put(struct stx *t, const char *id, size_t len, int64_t at,
    const void *rec, size_t reclen)
{
	if (live(t))
		OPS(t)->request_put(t, id, len, at, rec, reclen);
}

size_t
store_request_prune(struct stx *t, int64_t before, size_t max)
{
	return live(t) ? OPS(t)->request_prune(t, before, max) : 0;
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
store_inv_del(struct stx *t, const struct inv *inv)
{
	struct member_rec m;

	if (!live(t))
		return;
	OPS(t)->inv_del(t, inv);
	if (!rules_open(inv->state))
		return;
	store_member_get(t, inv->from, inv->from_len, &m);
	if (m.open_sent > 0) {
		m.open_sent--;
		store_member_put(t, inv->from, inv->from_len, &m);
	}
}

void
store_pair_del(struct stx *t, const char *from, size_t flen, const char *to,
    size_t tlen)
{
	if (live(t))
		OPS(t)->pair_del(t, from, flen, to, tlen);
}

void
store_log_del(struct stx *t, enum store_log log, const char *key,
    size_t klen, int64_t at, uint64_t id)
{
	if (live(t))
		OPS(t)->log_del(t, log, key, klen, at, id);
}

void
store_plan_del(struct stx *t, const char *m, size_t mlen, uint64_t id)
{
	if (live(t))
		OPS(t)->plan_del(t, m, mlen, id);
}

void
store_intro_del(struct stx *t, const struct intro *in)
{
	if (live(t))
		OPS(t)->intro_del(t, in);
}

void
store_event_redact(struct stx *t, uint64_t seq, const char *data, size_t len,
    bool nobody)
{
	if (live(t))
		OPS(t)->event_redact(t, seq, data, len, nobody);
}

void
store_member_del(struct stx *t, const char *m, size_t mlen)
{
	if (live(t))
		OPS(t)->member_del(t, m, mlen);
}

void
store_scan_intros_to(struct stx *t, const char *m, size_t mlen,
    store_id_fn fn, void *ctx)
{
	if (live(t))
		OPS(t)->scan_intros_to(t, m, mlen, fn, ctx);
}

void
store_scan_events_naming(struct stx *t, const char *m, size_t mlen,
    store_event_fn fn, void *ctx)
{
	if (live(t))
		OPS(t)->scan_events_naming(t, m, mlen, fn, ctx);
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

/* Copying (store.h, "Copying a whole store"). */

#define STORE_REC_NAME(kind, name) name,
const char *const store_rec_names[SREC_COUNT] = { STORE_RECS(STORE_REC_NAME) };
#undef STORE_REC_NAME

#define STORE_META_NAME(name) name,
static const char *const meta_names[] = { STORE_META(STORE_META_NAME) };
#undef STORE_META_NAME
#define META_N (sizeof meta_names / sizeof meta_names[0])

struct export {
	struct stx *t;
	store_rec_fn fn;
	void *ctx;
	uint64_t meta[META_N];
	bool stopped;
	int last;		/* the last kind given */
};

static bool
export_one(void *ctx, const struct store_rec *r)
{
	struct export *x = ctx;
	size_t i;

	if (r->kind == SREC_META) {
		for (i = 0; i < META_N; i++)
			if (strlen(meta_names[i]) == r->alen &&
			    memcmp(meta_names[i], r->a, r->alen) == 0)
				break;
		if (i == META_N) {
			store_fail(x->t, STORE_FAILED,
			    "export: the store keeps a meta value \"%.*s\" this connreqd does not know: it cannot copy it",
			    (int)(r->alen < 64 ? r->alen : 64), r->a);
			return false;
		}
		x->meta[i] = r->id;
		return true;
	}
	if ((int)r->kind < x->last || r->kind >= SREC_META) {
		store_fail(x->t, STORE_FAILED,
		    "export: the backend gave %s after %s",
		    r->kind < SREC_COUNT ? store_rec_names[r->kind] : "?",
		    store_rec_names[x->last]);
		return false;
	}
	x->last = (int)r->kind;
	if (!x->fn(x->ctx, r)) {
		x->stopped = true;
		return false;
	}
	return true;
}

void
store_export(struct stx *t, store_rec_fn fn, void *ctx)
{
	struct export x = { .t = t, .fn = fn, .ctx = ctx };
	struct store_rec r;
	size_t i;

	if (!live(t))
		return;
	OPS(t)->export(t, export_one, &x);
	if (x.stopped || !live(t))
		return;
	for (i = 0; i < META_N; i++) {
		memset(&r, 0, sizeof r);
		r.kind = SREC_META;
		r.a = meta_names[i];
		r.alen = strlen(meta_names[i]);
		r.id = x.meta[i];
		if (!fn(ctx, &r))
			return;
	}
}

void
store_import(struct stx *t, const struct store_rec *r)
{
	if (!live(t))
		return;
	if (r->kind >= SREC_COUNT) {
		store_fail(t, STORE_FAILED, "import: no kind of record %d",
		    (int)r->kind);
		return;
	}
	OPS(t)->import(t, r);
}

/* Bytes as text: printable ASCII as it is, but for backslash; the rest
 * \xHH. */
static void
show_bytes(FILE *f, const char *label, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	fprintf(f, " %s=\"", label);
	for (i = 0; i < n; i++) {
		if (b[i] >= 0x20 && b[i] < 0x7f && b[i] != '\\' &&
		    b[i] != '"')
			fputc(b[i], f);
		else
			fprintf(f, "\\x%02x", b[i]);
	}
	fputc('"', f);
}

char *
store_rec_show(const struct store_rec *r)
{
	const struct inv *v = r->inv;
	const struct member_rec *m = r->member;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		fatal("open_memstream: out of memory");
	fprintf(f, "%s", r->kind < SREC_COUNT ? store_rec_names[r->kind] :
	    "?");
	switch (r->kind) {
	case SREC_INVITATION:
		fprintf(f, " id=%" PRIu64 " state=%u priority=%u attempt=%" PRIu32
		    " created=%" PRId64 " updated=%" PRId64 " expires=%" PRId64
		    " stale=%" PRId64 " reminded=%" PRId64 " ignored=%d"
		    " reported=%d held=%d automatic=%d remind=%" PRId64
		    " resend_of=%" PRIu64, v->id, v->state,
		    v->priority, v->attempt, v->created_at, v->updated_at,
		    v->expires_at, v->stale_at, v->reminded_at, v->ignored,
		    v->reported, v->held, v->automatic, v->remind_at,
		    v->resend_of);
		show_bytes(f, "from", v->from, v->from_len);
		show_bytes(f, "to", v->to, v->to_len);
		show_bytes(f, "via", v->via, v->via_len);
		show_bytes(f, "note", v->note, v->note_len);
		break;
	case SREC_PAIR:
		show_bytes(f, "from", r->a, r->alen);
		show_bytes(f, "to", r->b, r->blen);
		fprintf(f, " open=%" PRIu64 " cooldown=%" PRId64
		    " withdrawals=%" PRIu32 " attempts=%" PRIu32,
		    r->pair.open_id, r->pair.cooldown_until,
		    r->pair.withdrawals, r->pair.attempts);
		break;
	case SREC_CONNECTION:
		show_bytes(f, "a", r->a, r->alen);
		show_bytes(f, "b", r->b, r->blen);
		fprintf(f, " since=%" PRId64, r->at);
		break;
	case SREC_DEADLINE:
		fprintf(f, " at=%" PRId64 " kind=%u id=%" PRIu64, r->due.at,
		    r->due.kind, r->due.id);
		break;
	case SREC_LOG:
		fprintf(f, " log=%u", r->sub);
		show_bytes(f, "key", r->a, r->alen);
		fprintf(f, " at=%" PRId64 " id=%" PRIu64 " value=%u", r->at,
		    r->id, r->value);
		break;
	case SREC_FLAG:
		fprintf(f, " flag=%u", r->sub);
		show_bytes(f, "a", r->a, r->alen);
		show_bytes(f, "b", r->b, r->blen);
		break;
	case SREC_MEMBER:
		show_bytes(f, "member", r->a, r->alen);
		fprintf(f, " from=%u", m->invitations_from);
		show_bytes(f, "email", m->email, m->email_len);
		fprintf(f, " restricted_until=%" PRId64 " restricted_at=%" PRId64
		    " open_sent=%" PRIu64 " first_seen=%" PRId64 " own=%u"
		    " hold_no_mutual=%d hold_low_health=%d"
		    " hold_restricted_days=%" PRIu32 " hold_new_days=%" PRIu32
		    " digest_every=%" PRId64 " auto_min_mutual=%" PRIu32
		    " auto_until=%" PRId64, m->restricted_until,
		    m->restricted_at, m->open_sent, m->first_seen_at, m->own,
		    m->hold_no_mutual, m->hold_low_health,
		    m->hold_restricted_days, m->hold_new_days, m->digest_every,
		    m->auto_min_mutual, m->auto_until);
		break;
	case SREC_PLAN:
		fprintf(f, " id=%" PRIu64, r->id);
		show_bytes(f, "record", r->data, r->len);
		break;
	case SREC_REQUEST:
		show_bytes(f, "id", r->a, r->alen);
		fprintf(f, " at=%" PRId64, r->at);
		show_bytes(f, "record", r->data, r->len);
		break;
	case SREC_IMPORT_ID:
		show_bytes(f, "id", r->a, r->alen);
		fprintf(f, " digest=%" PRIu64, r->id);
		break;
	case SREC_PLAN_INDEX:
	case SREC_PRUNED:
		show_bytes(f, "member", r->a, r->alen);
		fprintf(f, " %s=%" PRIu64, r->kind == SREC_PRUNED ? "seq" :
		    "id", r->id);
		break;
	case SREC_EVENT:
		fprintf(f, " seq=%" PRIu64 " at=%" PRId64 " notify=%d",
		    r->ev.seq, r->ev.at, r->ev.notify);
		show_bytes(f, "member", r->ev.member, r->ev.member_len);
		show_bytes(f, "data", r->ev.data, r->ev.len);
		break;
	case SREC_INTRO:
		fprintf(f, " id=%" PRIu64 " state=%u told=%d created=%" PRId64
		    " updated=%" PRId64 " expires=%" PRId64 " invitation=%"
		    PRIu64, r->intro->id, r->intro->state, r->intro->told,
		    r->intro->created_at, r->intro->updated_at,
		    r->intro->expires_at, r->intro->inv_id);
		show_bytes(f, "from", r->intro->from, r->intro->from_len);
		show_bytes(f, "via", r->intro->via, r->intro->via_len);
		show_bytes(f, "to", r->intro->to, r->intro->to_len);
		show_bytes(f, "note", r->intro->note, r->intro->note_len);
		break;
	case SREC_META:
		show_bytes(f, "name", r->a, r->alen);
		fprintf(f, " value=%" PRIu64, r->id);
		break;
	default:
		break;
	}
	if (fclose(f) != 0 || buf == NULL)
		fatal("open_memstream: out of memory");
	return buf;
}
