/* daemon/copy.c: see copy.h. The source is read in one snapshot
 * (store_export); the target is written in transactions of COPY_BATCH
 * records (store_import), each committed, durable, before the next begins,
 * so that no transaction grows with the store. The records of the
 * transaction under way are kept (copied) until it commits: when the
 * target needs more room (LMDB's map, STORE_MAP_FULL) it grows and they are
 * written again. The meta values (counters, next id, the virtual clock,
 * the event head) come last in the export, so a target whose copy stopped
 * midway is recognisably incomplete: it is not empty, and the next copy
 * refuses it until it is removed. */
#include "copy.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/util.h"
#include "store.h"

/* A record of the transaction under way, with what it points to. */
struct held {
	struct store_rec r;
	struct inv inv;
	struct member_rec member;
	struct intro intro;
	char *buf;
};

struct copy {
	const char *to;
	struct store *dst;
	struct stx *w;		/* the target's transaction under way */
	struct held *batch;
	size_t n;
	uint64_t count[SREC_COUNT];
	uint64_t committed;	/* records committed to the target */
	bool failed;
	char why[512];
};

/* Keeps a copy of r in h, pointers and all. */
static void
held_set(struct held *h, const struct store_rec *r)
{
	size_t need = r->alen + r->blen + r->len + r->ev.member_len +
	    r->ev.len + 1;
	char *p;

	h->r = *r;
	h->buf = p = xmalloc(need);
	if (r->a != NULL) {
		memcpy(p, r->a, r->alen);
		h->r.a = p;
		p += r->alen;
	}
	if (r->b != NULL) {
		memcpy(p, r->b, r->blen);
		h->r.b = p;
		p += r->blen;
	}
	if (r->data != NULL) {
		memcpy(p, r->data, r->len);
		h->r.data = p;
		p += r->len;
	}
	if (r->ev.member != NULL) {
		memcpy(p, r->ev.member, r->ev.member_len);
		h->r.ev.member = p;
		p += r->ev.member_len;
	}
	if (r->ev.data != NULL) {
		memcpy(p, r->ev.data, r->ev.len);
		h->r.ev.data = p;
	}
	if (r->inv != NULL) {
		h->inv = *r->inv;
		h->r.inv = &h->inv;
	}
	if (r->member != NULL) {
		h->member = *r->member;
		h->r.member = &h->member;
	}
	if (r->intro != NULL) {
		h->intro = *r->intro;
		h->r.intro = &h->intro;
	}
}

static void
batch_free(struct copy *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->batch[i].buf);
	c->n = 0;
}

/* Commits the transaction under way (growing the target and writing its
 * records again while it wants room) and begins the next unless last:
 * false on a failure, with c->why set. */
static bool
batch_commit(struct copy *c, bool last)
{
	size_t i;
	int rc;

	for (;;) {
		rc = store_commit(c->w);
		c->w = NULL;
		if (rc == STORE_OK)
			break;
		if (rc != STORE_MAP_FULL || store_grow(c->dst) == -1) {
			snprintf(c->why, sizeof c->why, "%s",
			    store_strerror(c->dst));
			c->failed = true;
			batch_free(c);
			return false;
		}
		c->w = store_begin(c->dst, NULL);
		for (i = 0; i < c->n; i++)
			store_import(c->w, &c->batch[i].r);
	}
	c->committed += c->n;
	batch_free(c);
	if (!last)
		c->w = store_begin(c->dst, NULL);
	return true;
}

static bool
copy_one(void *ctx, const struct store_rec *r)
{
	struct copy *c = ctx;

	held_set(&c->batch[c->n++], r);
	store_import(c->w, r);
	c->count[r->kind]++;
	if (c->n < COPY_BATCH)
		return true;
	return batch_commit(c, false);
}

/* For the emptiness of the target: the first record that is not a meta
 * value of 0. */
static bool
find_any(void *ctx, const struct store_rec *r)
{
	if (r->kind == SREC_META && r->id == 0)
		return true;
	*(const char **)ctx = store_rec_names[r->kind];
	return false;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
copy_main(const char *from, const char *to, uint64_t map_max)
{
	struct copy c;
	struct store *src;
	struct stx *t;
	const char *found = NULL;
	uint64_t total = 0;
	double start = now_s();
	char why[512], from_shown[512], to_shown[512];
	int i, rc;

	memset(&c, 0, sizeof c);
	c.to = to;
	/* A conninfo is shown without its password. */
	store_where_shown(from, from_shown, sizeof from_shown);
	store_where_shown(to, to_shown, sizeof to_shown);
	src = store_open_copy_source(from, why, sizeof why);
	if (src == NULL) {
		fprintf(stderr, "connreqd: --copy-store: the source: %s\n",
		    why);
		return 1;
	}
	c.dst = store_open_alone(to, map_max, why, sizeof why);
	if (c.dst == NULL) {
		fprintf(stderr, "connreqd: --copy-store: the target: %s\n",
		    why);
		store_close(src);
		return 1;
	}
	/* Only into an empty store. */
	t = store_begin_read(c.dst);
	store_export(t, find_any, &found);
	rc = store_error(t);
	store_abort(t);
	if (rc != STORE_OK || found != NULL) {
		if (rc != STORE_OK)
			fprintf(stderr, "connreqd: --copy-store: the target: %s\n",
			    store_strerror(c.dst));
		else
			fprintf(stderr, "connreqd: --copy-store: the target %s is not empty (it holds %s): copy only into a new, empty store\n",
			    to_shown, found);
		store_close(c.dst);
		store_close(src);
		return 1;
	}
	printf("copy: from %s (%s) to %s (%s)\n", from_shown,
	    store_backend_name(from), to_shown, store_backend_name(to));
	fflush(stdout);

	c.batch = xcalloc(COPY_BATCH, sizeof *c.batch);
	c.w = store_begin(c.dst, NULL);
	t = store_begin_read(src);
	store_export(t, copy_one, &c);
	rc = store_error(t);
	if (rc != STORE_OK)
		snprintf(why, sizeof why, "reading the source: %s",
		    store_strerror(src));
	store_abort(t);
	if (rc == STORE_OK && !c.failed)
		batch_commit(&c, true);
	if (c.w != NULL)
		store_abort(c.w);
	batch_free(&c);
	free(c.batch);
	store_close(src);
	store_close(c.dst);
	if (rc != STORE_OK || c.failed) {
		fprintf(stderr, "connreqd: --copy-store: failed after %" PRIu64
		    " records were committed to %s: %s\n"
		    "connreqd: --copy-store: the target is incomplete: remove it (LMDB: its directory; PostgreSQL: drop the database and create it again) before copying again\n",
		    c.committed, to_shown, rc != STORE_OK ? why : c.why);
		return 1;
	}
	for (i = 0; i < SREC_COUNT; i++) {
		printf("copy: %12" PRIu64 " %s\n", c.count[i],
		    store_rec_names[i]);
		total += c.count[i];
	}
	printf("copy: %" PRIu64 " records in %.2f s: done\n", total,
	    now_s() - start);
	fflush(stdout);
	return 0;
}
