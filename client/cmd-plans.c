/* client/cmd-plans.c: the commands on clean-up plans, which withdraw a
 * member's stale invitations a few a day: cleanup, plans and
 * plan-cancel. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int cmd_cleanup_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_plans_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_plan_cancel_exec(struct cmd_ctx *, const struct cmd_args *);

/* A plan as the daemon returns it. */
struct plan_view {
	uint64_t id, per_day, older_than, total, done, skipped;
	struct text member, state, max_priority;
	int64_t created_at, next_at, ends_at;
	const msgpack_object *schedule;
};

static void
plan_read(const msgpack_object *o, struct plan_view *v)
{
	memset(v, 0, sizeof *v);
	obj_uint(o, "id", &v->id);
	obj_text(o, "member", &v->member);
	obj_text(o, "state", &v->state);
	obj_uint(o, "per_day", &v->per_day);
	obj_uint(o, "older_than", &v->older_than);
	obj_text(o, "max_priority", &v->max_priority);
	obj_uint(o, "total", &v->total);
	obj_uint(o, "done", &v->done);
	obj_uint(o, "skipped", &v->skipped);
	obj_int(o, "created_at", &v->created_at);
	obj_int(o, "next_at", &v->next_at);
	obj_int(o, "ends_at", &v->ends_at);
	v->schedule = cr_get(o, "schedule");
	if (v->schedule != NULL && v->schedule->type != MSGPACK_OBJECT_ARRAY)
		v->schedule = NULL;
}

static uint64_t
plan_left(const struct plan_view *v)
{
	return v->total > v->done + v->skipped ?
	    v->total - v->done - v->skipped : 0;
}

/* "medium or low priority" */
static const char *
plan_priorities(struct text max)
{
	if (text_is(max, proto_priority_words[PRIO_HIGH]))
		return "any priority";
	if (text_is(max, proto_priority_words[PRIO_LOW]))
		return "low priority";
	return "medium or low priority";
}

/* The schedule to come: a row a day, at most 7 (the first 5, "...", the
 * last). */
static void
plan_put_schedule(struct cmd_ctx *ctx, const struct plan_view *v)
{
	static const char *const head[] = { "DAY", "WHEN", "WITHDRAWALS" };
	const msgpack_object *el;
	struct table t;
	uint64_t count;
	int64_t at, now = ctx_now(ctx);
	uint32_t i, n;
	char when[48];

	if (v->schedule == NULL || v->schedule->via.array.size == 0)
		return;
	putchar('\n');
	n = v->schedule->via.array.size;
	table_init(&t, 3, head);
	for (i = 0; i < n; i++) {
		if (n > 7 && i == 5) {
			table_addf(&t, "... %" PRIu32 " more day%s", n - 6,
			    n - 6 == 1 ? "" : "s");
			table_add(&t, "", 0, 0);
			table_add(&t, "", 0, 0);
			i = n - 2;
			continue;
		}
		el = &v->schedule->via.array.ptr[i];
		obj_int(el, "at", &at);
		obj_uint(el, "count", &count);
		time_put_date(at, when, sizeof when);
		table_add(&t, when, strlen(when), 0);
		time_put_in(now, at, when, sizeof when);
		table_add(&t, when, strlen(when), 0);
		table_addf(&t, "%" PRIu64, count);
	}
	table_print(&t);
	table_free(&t);
}

/* "`connreq plan-cancel alice 7` stops it" */
static void
plan_put_cancel_hint(const struct cmd_ctx *ctx, const struct plan_view *v)
{
	char *m = xstrndup(v->member.p, v->member.n);

	putchar('`');
	hint_connreq(stdout, ctx);
	fputs("plan-cancel ", stdout);
	text_put_shell(stdout, m);
	printf(" %" PRIu64 "` stops it\n", v->id);
	free(m);
}

static void
cmd_cleanup_print(struct cmd_ctx *ctx, const struct cmd_args *a,
    const msgpack_object *result)
{
	const msgpack_object *plan = cr_get(result, "plan");
	struct plan_view v;
	char d[16], in[32], date[48];

	if (plan == NULL)
		return;
	plan_read(plan, &v);
	time_put_duration(v.older_than, d, sizeof d);
	ev_printf("plan %u for %T: withdraw %u pending invitation%s, %u a "
	    "day\n", v.id, v.member, v.total, v.total == 1 ? "" : "s",
	    v.per_day);
	ev_printf("  (sent %s ago or more, of %s,\n"
	    "  lowest priority and oldest first)\n", d,
	    plan_priorities(v.max_priority));
	if (a->opt[OPT_PER_DAY] != NULL && v.per_day < a->per_day)
		printf("  (not %" PRIu64 " a day: the policy allows %" PRIu64
		    " withdrawal%s a day)\n", a->per_day, v.per_day,
		    v.per_day == 1 ? "" : "s");
	printf("withdrawn now  %" PRIu64, v.done);
	if (v.skipped > 0)
		printf(" (%" PRIu64 " no longer pending)", v.skipped);
	printf("\nto go          %" PRIu64 "\n", plan_left(&v));
	if (!text_is(v.state, proto_plan_state_words[PLAN_ACTIVE])) {
		printf("the plan is %.*s\n", (int)v.state.n, v.state.p);
		return;
	}
	plan_put_schedule(ctx, &v);
	putchar('\n');
	if (v.ends_at > 0) {
		time_put_in(ctx_now(ctx), v.ends_at, in, sizeof in);
		time_put_date(v.ends_at, date, sizeof date);
		printf("it ends %s (%s) at the latest\n", in, date);
	}
	plan_put_cancel_hint(ctx, &v);
}

const struct cmd_entry cmd_cleanup_entry = {
	.name = "cleanup",
	.args_min = 1,
	.args_max = 1,
	.opts = OPT_BIT(OPT_OLDER_THAN) | OPT_BIT(OPT_PER_DAY) |
	    OPT_BIT(OPT_MAX_PRIORITY),
	.usage = "cleanup MEMBER [--older-than DURATION] [--per-day N] "
	    "[--max-priority high|medium|low]",
	.help = "Makes a plan that withdraws MEMBER's pending invitations "
	    "sent --older-than DURATION ago or more (default the policy's "
	    "stale after, 14d), of priority --max-priority or lower (default "
	    "medium: medium and low), N a day (default 10, never more than "
	    "the policy's withdrawals per day), lowest priority and oldest "
	    "first. The first day's withdrawals happen at once; connreqd does "
	    "the rest a day at a time, passing over those answered meanwhile. "
	    "Prints the plan: how many it takes, how many a day, when it "
	    "ends. `connreq plans` follows it, `connreq plan-cancel` stops "
	    "it. With nothing to withdraw it makes no plan, says so and "
	    "exits 0 (with --json: the NOT_FOUND error map).",
	.exec = cmd_cleanup_exec
};

static int
cmd_cleanup_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	msgpack_packer *pk;
	struct cr_reply r;
	int rc;

	pk = cr_request(ctx->client, METHOD(PLAN_WITHDRAW_STALE));
	msgpack_pack_map(pk, 1 + (a->opt[OPT_OLDER_THAN] != NULL) +
	    (a->opt[OPT_PER_DAY] != NULL) +
	    (a->opt[OPT_MAX_PRIORITY] != NULL));
	pk_kstr(pk, "member", a->argv[0]);
	if (a->opt[OPT_OLDER_THAN] != NULL)
		pk_kuint(pk, "older_than", a->older_than);
	if (a->opt[OPT_PER_DAY] != NULL)
		pk_kuint(pk, "per_day", a->per_day);
	if (a->opt[OPT_MAX_PRIORITY] != NULL)
		pk_kstr(pk, "max_priority", a->opt[OPT_MAX_PRIORITY]);
	if ((rc = call_finish_unless(ctx, &r, PE_NOT_FOUND)) != 0)
		return rc;
	if (r.error != NULL) {
		/* Nothing to withdraw: done already. */
		if (ctx->json) {
			cr_json_print(stdout, r.error);
			putchar('\n');
		} else {
			text_put(stdout, r.message, strlen(r.message));
			putchar('\n');
		}
	} else if (!out_json(ctx, &r))
		cmd_cleanup_print(ctx, a, r.result);
	cr_reply_free(&r);
	return EXIT_DONE;
}

static void
cmd_plans_print(struct cmd_ctx *ctx, const struct cmd_args *a,
    const msgpack_object *result)
{
	static const char *const head[] = {
		"ID", "STATE", "WITHDRAWN", "SKIPPED", "PER DAY", "NEXT",
		"MADE", "ENDS"
	};
	const msgpack_object *items;
	struct plan_view v;
	struct table t;
	int64_t now;
	char when[48];
	uint32_t k;

	if ((items = obj_items(result)) == NULL ||
	    items->via.array.size == 0) {
		fputs("no clean-up plans for ", stdout);
		text_put(stdout, a->argv[0], strlen(a->argv[0]));
		putchar('\n');
		return;
	}
	now = ctx_now(ctx);
	table_init(&t, 8, head);
	t.state_col = 2;
	for (k = 0; k < items->via.array.size; k++) {
		plan_read(&items->via.array.ptr[k], &v);
		table_addf(&t, "%" PRIu64, v.id);
		table_add(&t, v.state.p, v.state.n, 0);
		table_addf(&t, "%" PRIu64 " of %" PRIu64, v.done, v.total);
		table_addf(&t, "%" PRIu64, v.skipped);
		table_addf(&t, "%" PRIu64, v.per_day);
		if (v.next_at > 0)
			time_put_in(now, v.next_at, when, sizeof when);
		else
			snprintf(when, sizeof when, "-");
		table_add(&t, when, strlen(when), 0);
		time_put_ago(now, v.created_at, when, sizeof when);
		table_add(&t, when, strlen(when), 0);
		if (v.ends_at > 0)
			time_put_date(v.ends_at, when, sizeof when);
		else
			snprintf(when, sizeof when, "-");
		table_add(&t, when, strlen(when), 0);
	}
	table_print(&t);
	table_free(&t);
}

const struct cmd_entry cmd_plans_entry = {
	.name = "plans",
	.args_min = 1,
	.args_max = 1,
	.usage = "plans MEMBER",
	.help = "Lists MEMBER's clean-up plans, newest first: their state "
	    "(active, done, cancelled), how many they withdrew of how many, "
	    "how many a day, their next day and when they end.",
	.exec = cmd_plans_exec
};

static int
cmd_plans_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	msgpack_packer *pk;

	pk = cr_request(ctx->client, METHOD(PLAN_LIST));
	msgpack_pack_map(pk, 1);
	pk_kstr(pk, "member", a->argv[0]);
	return call_print(ctx, a, cmd_plans_print);
}

static void
cmd_plan_cancel_print(struct cmd_ctx *ctx, const struct cmd_args *a,
    const msgpack_object *result)
{
	const msgpack_object *plan = cr_get(result, "plan");
	struct plan_view v;

	(void)ctx;
	(void)a;
	if (plan == NULL)
		return;
	plan_read(plan, &v);
	printf("plan %" PRIu64 " is cancelled: it withdrew %" PRIu64 " of %"
	    PRIu64 "; the %" PRIu64 " left stay%s pending\n", v.id, v.done,
	    v.total, plan_left(&v), plan_left(&v) == 1 ? "s" : "");
}

const struct cmd_entry cmd_plan_cancel_entry = {
	.name = "plan-cancel",
	.args_min = 2,
	.args_max = 2,
	.usage = "plan-cancel ACTOR ID",
	.help = "ACTOR stops clean-up plan ID, which must be ACTOR's and "
	    "active. What it withdrew stays withdrawn; the rest stays "
	    "pending.",
	.exec = cmd_plan_cancel_exec
};

static int
cmd_plan_cancel_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	msgpack_packer *pk;
	uint64_t id;

	if (!parse_number(a->argv[1], &id))
		return cmd_usage_error(ctx->entry, "not a plan id: %s",
		    a->argv[1]);
	pk = cr_request(ctx->client, METHOD(PLAN_CANCEL));
	msgpack_pack_map(pk, 2);
	pk_kstr(pk, "actor", a->argv[0]);
	pk_kuint(pk, "id", id);
	return call_print(ctx, a, cmd_plan_cancel_print);
}
