/* tests/domain.h: drive the daemon's domain (invite.c, member.c, plan.c,
 * timers.c) without a socket: a store on a temporary directory, a policy
 * and a virtual `now`. Each helper runs one operation in a transaction of
 * its own, as the server runs a request: committed when it succeeds,
 * discarded when it is refused (d->e then says why). Time moves only by
 * dadvance(), which runs the deadlines that fell due, as the server's timer
 * does; nothing here sleeps or starts connreqd.
 *
 * With DOMAIN_PG defined (tests/test_domain_pg.c), each store is a new
 * database on a PostgreSQL cluster the test starts (tests/pgcluster.h),
 * through the PostgreSQL backend, instead of an LMDB directory. */
#ifndef CONNREQ_DOMAIN_H
#define CONNREQ_DOMAIN_H

#include <stdlib.h>
#include <unistd.h>

#include <msgpack.h>

#include "../daemon/events.h"
#include "../daemon/invite.h"
#include "../daemon/member.h"
#include "../daemon/plan.h"
#include "../daemon/timers.h"
#include "mpath.h"
#include "tap.h"
#ifdef DOMAIN_PG
#include "../daemon/store-backend.h"
#include "pgcluster.h"

static struct pgcluster dom_pg;
#endif

#define T0 1767225600	/* 2026-01-01 00:00 UTC, as in harness.h */

struct dom {
	char dir[64];
	struct store *s;
	struct policy policy;	/* policy_defaults(); tests change fields */
	int64_t now;
	struct op o;		/* the step under way */
	struct proto_error e;	/* the last refusal */
	/* What the last operation gave back. */
	struct inv inv;
	bool connected;
	unsigned warnings;
	int64_t cooldown_until;
	struct plan plan;
};

/* A fresh store at T0 with the default policy. */
__attribute__((unused)) static void
dom_open(struct dom *d)
{
	char why[256];

	memset(d, 0, sizeof *d);
#ifdef DOMAIN_PG
	{
		char ci[256];

		if ((!dom_pg.up && pgcluster_start(&dom_pg) == -1) ||
		    pgcluster_newdb(&dom_pg, ci, sizeof ci) == -1)
			bail_out("no PostgreSQL database for the store");
		d->s = store_open_backend(&store_pg, ci, 1ULL << 30, why,
		    sizeof why);
	}
#else
	strcpy(d->dir, "/tmp/connreq-domain-XXXXXX");
	if (mkdtemp(d->dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	d->s = store_open(d->dir, 1ULL << 30, why, sizeof why);
#endif
	if (d->s == NULL) {
		fprintf(stderr, "store_open %s: %s\n", d->dir, why);
		exit(1);
	}
	policy_defaults(&d->policy);
	d->now = T0;
}

__attribute__((unused)) static void
dom_close(struct dom *d)
{
	char cmd[128];

	store_close(d->s);
	if (d->dir[0] == '\0')
		return;		/* a database: it goes with the cluster */
	snprintf(cmd, sizeof cmd, "rm -rf %s", d->dir);
	if (system(cmd) != 0)
		diag("could not remove %s", d->dir);
}

/* A member name as the domain takes it (NULL: none). */
static struct str
S(const char *s)
{
	return (struct str){ s, s != NULL ? strlen(s) : 0 };
}

/* Begins a step: the operation context at d->now. */
static struct op *
step(struct dom *d)
{
	memset(&d->e, 0, sizeof d->e);
	d->o.t = store_begin(d->s, NULL);
	d->o.policy = &d->policy;
	d->o.now = d->now;
	return &d->o;
}

/* Ends it as the server does: commits on 0, discards on -1. */
static int
step_end(struct dom *d, int rc)
{
	if (rc == 0 && store_commit(d->o.t) != STORE_OK) {
		diag("commit: %s", store_strerror(d->s));
		rc = -1;
	} else if (rc != 0)
		store_abort(d->o.t);
	d->o.t = NULL;
	return rc;
}

/* from -> to at prio; the new invitation's id (d->inv holds it), or 0 when
 * refused. */
__attribute__((unused)) static uint64_t
dsend_p(struct dom *d, const char *from, const char *to, int prio)
{
	struct send_req r;

	memset(&r, 0, sizeof r);
	r.from = S(from);
	r.to = S(to);
	r.priority = prio;
	if (step_end(d, invite_send(step(d), &r, &d->inv, &d->connected,
	    &d->warnings, &d->e)) == -1)
		return 0;
	return d->inv.id;
}

__attribute__((unused)) static uint64_t
dsend(struct dom *d, const char *from, const char *to)
{
	return dsend_p(d, from, to, PRIO_MEDIUM);
}

/* What actor may do to an invitation. */
enum dact { DO_ACCEPT, DO_IGNORE, DO_WITHDRAW, DO_REPORT_SPAM,
    DO_REPORT_DONT_KNOW, DO_UNIGNORE };

/* 0, or -1 when refused; d->inv is the invitation after, and a withdrawal
 * sets d->cooldown_until. */
__attribute__((unused)) static int
dact(struct dom *d, enum dact act, const char *actor, uint64_t id)
{
	struct op *o = step(d);
	int rc = -1;

	switch (act) {
	case DO_ACCEPT:
		rc = invite_accept(o, S(actor), id, &d->inv, &d->e);
		break;
	case DO_IGNORE:
		rc = invite_ignore(o, S(actor), id, &d->inv, &d->e);
		break;
	case DO_UNIGNORE:
		rc = invite_unignore(o, S(actor), id, &d->inv, &d->e);
		break;
	case DO_WITHDRAW:
		rc = invite_withdraw(o, S(actor), id, &d->inv,
		    &d->cooldown_until, &d->e);
		break;
	case DO_REPORT_SPAM:
	case DO_REPORT_DONT_KNOW:
		rc = invite_report(o, S(actor), id, act == DO_REPORT_DONT_KNOW,
		    &d->inv, &d->e);
		break;
	}
	return step_end(d, rc);
}

/* Resends id with its note; the new id, or 0 when refused. */
__attribute__((unused)) static uint64_t
dresend(struct dom *d, const char *actor, uint64_t id)
{
	if (step_end(d, invite_resend(step(d), S(actor), id, S(NULL),
	    S(NULL), 0, &d->inv, &d->connected, &d->warnings, &d->e)) == -1)
		return 0;
	return d->inv.id;
}

__attribute__((unused)) static int
dblock(struct dom *d, const char *actor, const char *other, bool on)
{
	bool changed;

	return step_end(d, member_block(step(d), S(actor), S(other), on,
	    &changed, &d->e));
}

/* member's clean-up plan over pending invitations sent older_than ago or
 * more, of max_priority or lower; its id (d->plan holds it), 0 when
 * refused. */
__attribute__((unused)) static uint64_t
dplan_create(struct dom *d, const char *member, uint64_t older_than,
    uint32_t per_day, int max_priority)
{
	if (step_end(d, plan_create(step(d), S(member), older_than, per_day,
	    max_priority, &d->plan, &d->e)) == -1)
		return 0;
	return d->plan.id;
}

__attribute__((unused)) static int
dplan_cancel(struct dom *d, const char *actor, uint64_t id)
{
	return step_end(d, plan_cancel(step(d), S(actor), id, &d->plan,
	    &d->e));
}

/* Moves now on by secs and runs what fell due; how many deadlines ran. */
__attribute__((unused)) static size_t
dadvance(struct dom *d, int64_t secs)
{
	bool more = true;
	size_t n = 0;

	d->now += secs;
	while (more) {
		n += timers_run(step(d), &more);
		if (step_end(d, 0) == -1)
			break;
	}
	return n;
}

/* Reading the store, each in a read-only snapshot. */
static struct stx *
snap(struct dom *d)
{
	return store_begin_read(d->s);
}

/* Invitation id as stored (state ST_COUNT when there is none). */
__attribute__((unused)) static struct inv
dinv(struct dom *d, uint64_t id)
{
	struct stx *t = snap(d);
	struct inv v;

	if (store_inv_get(t, id, &v) != STORE_OK) {
		memset(&v, 0, sizeof v);
		v.state = ST_COUNT;
	}
	store_abort(t);
	return v;
}

__attribute__((unused)) static struct pair
dpair(struct dom *d, const char *from, const char *to)
{
	struct stx *t = snap(d);
	struct pair p;

	store_pair_get(t, from, strlen(from), to, strlen(to), &p);
	store_abort(t);
	return p;
}

/* Since when a and b are connected, 0: they are not. */
__attribute__((unused)) static int64_t
dconn(struct dom *d, const char *a, const char *b)
{
	struct stx *t = snap(d);
	int64_t since = store_conn_get(t, a, strlen(a), b, strlen(b));

	store_abort(t);
	return since;
}

__attribute__((unused)) static struct member_rec
dmember(struct dom *d, const char *m)
{
	struct stx *t = snap(d);
	struct member_rec r;

	store_member_get(t, m, strlen(m), &r);
	store_abort(t);
	return r;
}

__attribute__((unused)) static bool
dflag(struct dom *d, enum store_flag f, const char *a, const char *b)
{
	struct stx *t = snap(d);
	bool on = store_flag_get(t, f, a, strlen(a), b, strlen(b));

	store_abort(t);
	return on;
}

__attribute__((unused)) static struct store_counts
dcounts(struct dom *d)
{
	struct stx *t = snap(d);
	struct store_counts c;

	store_counts(t, &c);
	store_abort(t);
	return c;
}

/* The earliest deadline (at 0: none). */
__attribute__((unused)) static struct due
ddue(struct dom *d)
{
	struct stx *t = snap(d);
	struct due due;

	if (!store_due_first(t, &due))
		memset(&due, 0, sizeof due);
	store_abort(t);
	return due;
}

/* Plan id as stored, into d->plan; -1 when there is none. */
__attribute__((unused)) static int
dplan(struct dom *d, uint64_t id)
{
	struct stx *t = snap(d);
	int rc = plan_load(t, id, &d->plan, &d->e);

	store_abort(t);
	return rc;
}

/* The last event written; feeds read after it. */
__attribute__((unused)) static uint64_t
dhead(struct dom *d)
{
	struct stx *t = snap(d);
	uint64_t seq = store_event_head(t);

	store_abort(t);
	return seq;
}

/* A value as text: "nil", the string, the integer, "(none)" when absent. */
static const char *
show(const msgpack_object *v, char *buf, size_t n)
{
	if (v == NULL)
		snprintf(buf, n, "(none)");
	else if (v->type == MSGPACK_OBJECT_NIL)
		snprintf(buf, n, "nil");
	else if (v->type == MSGPACK_OBJECT_STR)
		snprintf(buf, n, "%.*s", (int)v->via.str.size,
		    v->via.str.ptr);
	else if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		snprintf(buf, n, "%llu", (unsigned long long)v->via.u64);
	else
		snprintf(buf, n, "(other)");
	return buf;
}

/* Field key of inv as role sees it (pack_inv), as show() gives it. Valid
 * until the next call. */
__attribute__((unused)) static const char *
dview(const struct inv *inv, enum role role, const char *key)
{
	static char buf[256];
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked up;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	pack_inv(&pk, NULL, inv, role);
	msgpack_unpacked_init(&up);
	if (msgpack_unpack_next(&up, sb.data, sb.size, NULL) ==
	    MSGPACK_UNPACK_SUCCESS)
		show(cr_get(&up.data, key), buf, sizeof buf);
	else
		snprintf(buf, sizeof buf, "(unpackable)");
	msgpack_unpacked_destroy(&up);
	msgpack_sbuffer_destroy(&sb);
	return buf;
}

/* A scan of a feed: the types seen, joined by commas, and the value at
 * path in the first event of type `want`. */
struct feed_scan {
	char types[2048];
	size_t off;
	const char *want, *path;
	bool found;
	char str[256];
	int64_t num;
	char shown[256];	/* show() of the value at path */
};

static bool
feed_one(void *ctx, const struct event_rec *ev)
{
	struct feed_scan *fs = ctx;
	msgpack_unpacked up;
	const msgpack_object *ty, *v;
	size_t left = sizeof fs->types - fs->off;
	char type[64] = "(no type)";
	int n;

	msgpack_unpacked_init(&up);
	if (msgpack_unpack_next(&up, ev->data, ev->len, NULL) ==
	    MSGPACK_UNPACK_SUCCESS) {
		ty = cr_get(&up.data, "type");
		if (ty != NULL && ty->type == MSGPACK_OBJECT_STR)
			snprintf(type, sizeof type, "%.*s",
			    (int)ty->via.str.size, ty->via.str.ptr);
		v = fs->want != NULL && !fs->found &&
		    strcmp(type, fs->want) == 0 ?
		    obj_path(&up.data, fs->path) : NULL;
		if (v != NULL) {
			fs->found = true;
			show(v, fs->shown, sizeof fs->shown);
			if (v->type == MSGPACK_OBJECT_STR)
				snprintf(fs->str, sizeof fs->str, "%.*s",
				    (int)v->via.str.size, v->via.str.ptr);
			else if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
				fs->num = (int64_t)v->via.u64;
			else if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
				fs->num = v->via.i64;
			else if (v->type == MSGPACK_OBJECT_BOOLEAN)
				fs->num = v->via.boolean;
		}
	}
	msgpack_unpacked_destroy(&up);
	n = snprintf(fs->types + fs->off, left, "%s%s", fs->off ? "," : "",
	    type);
	fs->off = n < 0 || (size_t)n >= left ? sizeof fs->types - 1 :
	    fs->off + (size_t)n;
	return true;
}

/* Scans member's notifications after seq (member NULL: every event). */
static void
feed_scan(struct dom *d, const char *member, uint64_t after,
    struct feed_scan *fs)
{
	struct stx *t = snap(d);

	store_event_scan(t, after, member, member ? strlen(member) : 0,
	    feed_one, fs);
	store_abort(t);
}

/* Scans that feed for the first event of type (NULL: none) and the value
 * at path in it. Valid until the next call. */
static const struct feed_scan *
dev_find(struct dom *d, const char *member, uint64_t after, const char *type,
    const char *path)
{
	static struct feed_scan fs;

	memset(&fs, 0, sizeof fs);
	fs.want = type;
	fs.path = path;
	fs.num = -1;
	feed_scan(d, member, after, &fs);
	return &fs;
}

/* The types of member's notifications after seq, "a,b,c" (member NULL:
 * the `all` feed). Valid until the next call. */
__attribute__((unused)) static const char *
dfeed(struct dom *d, const char *member, uint64_t after)
{
	return dev_find(d, member, after, NULL, NULL)->types;
}

/* In the first event of type in that feed: the string at path ("(none)"
 * when absent; valid until the next call) or the integer (-1 when absent). */
__attribute__((unused)) static const char *
dev_str(struct dom *d, const char *member, uint64_t after, const char *type,
    const char *path)
{
	const struct feed_scan *fs = dev_find(d, member, after, type, path);

	return fs->found && fs->str[0] != '\0' ? fs->str : "(none)";
}

__attribute__((unused)) static int64_t
dev_int(struct dom *d, const char *member, uint64_t after, const char *type,
    const char *path)
{
	return dev_find(d, member, after, type, path)->num;
}

/* In the first event of type in that feed: the value at path as show()
 * gives it ("(none)" when there is no such event or value). */
__attribute__((unused)) static const char *
dev_show(struct dom *d, const char *member, uint64_t after, const char *type,
    const char *path)
{
	const struct feed_scan *fs = dev_find(d, member, after, type, path);

	return fs->found ? fs->shown : "(none)";
}

/* Whether the last refusal was code, with part in its message. */
__attribute__((unused)) static bool
refused_with(const struct dom *d, enum proto_code code, const char *part)
{
	if (d->e.code != code || strstr(d->e.message, part) == NULL) {
		diag("refusal: %s \"%s\"", proto_code_name(d->e.code),
		    d->e.message);
		return false;
	}
	return true;
}

#endif
