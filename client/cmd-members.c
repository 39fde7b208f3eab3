/* client/cmd-members.c: the commands on members: stats, connections,
 * disconnect, block, unblock and settings. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int cmd_stats_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_connections_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_disconnect_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_block_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_unblock_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_settings_exec(struct cmd_ctx *, const struct cmd_args *);

/* The acceptance rate on a bar of STATS_BAR cells, the healthy band
 * marked by a '|' at each end and labelled below:
 *
 *   [############|########|#######...................]
 *                30%      50%
 */
#define STATS_BAR 40
#define STATS_INDENT 13

static int
bar_at(double r)
{
	int at = r > 0 ? (int)(r * STATS_BAR + 0.5) : 0;

	return at > STATS_BAR ? STATS_BAR : at;
}

static void
stats_bar(double rate, bool have_rate, double lo, double hi,
    struct text health)
{
	int fill = have_rate ? bar_at(rate) : 0, a = bar_at(lo), b = bar_at(hi);
	int i, col_a, col_b;
	bool colour = use_colour();
	const char *on = "";
	char la[16], lb[16];

	if (colour)
		on = text_is(health, proto_health_words[HEALTH_HEALTHY]) ?
		    "\033[32m" : text_is(health,
		    proto_health_words[HEALTH_LOW]) ? "\033[31m" : "\033[33m";
	printf("%*s[", STATS_INDENT, "");
	for (i = 0; i <= STATS_BAR; i++) {
		if (i == a || i == b)
			fputs(colour ? "\033[1m|\033[0m" : "|", stdout);
		if (i == STATS_BAR)
			break;
		if (i < fill)
			printf("%s#%s", on, colour ? "\033[0m" : "");
		else
			putchar('.');
	}
	puts("]");
	/* The labels, under the marks. */
	rate_put(lo, true, la, sizeof la);
	rate_put(hi, true, lb, sizeof lb);
	col_a = STATS_INDENT + 1 + a;
	col_b = STATS_INDENT + 1 + b + (a != b);
	if (col_b - col_a > (int)strlen(la))
		printf("%*s%s%*s%s  the healthy band\n", col_a, "", la,
		    col_b - col_a - (int)strlen(la), "", lb);
	else
		printf("%*s%s-%s  the healthy band\n", col_a, "", la, lb);
}

static void
cmd_stats_print(struct cmd_ctx *ctx, const struct cmd_args *a,
    const msgpack_object *result)
{
	static const char *const counts[] = {
		"sent", "accepted", "withdrawn", "expired", "pending"
	};
	const msgpack_object *band, *q;
	struct table t;
	struct text member, health;
	uint64_t window, v, accepted, withdrawn, expired, pending, decided;
	uint64_t need = 0, next;
	int64_t until, now = ctx_now(ctx);
	double rate = 0, lo = 0.30, hi = 0.50;
	bool have_rate;
	char d[16], buf[32], in[32], date[48];
	size_t i;

	(void)a;
	obj_text(result, "member", &member);
	obj_uint(result, "window", &window);
	obj_text(result, "health", &health);
	obj_uint(result, "accepted", &accepted);
	obj_uint(result, "withdrawn", &withdrawn);
	obj_uint(result, "expired", &expired);
	obj_uint(result, "pending", &pending);
	decided = accepted + withdrawn + expired;
	have_rate = obj_double(result, "acceptance_rate", &rate);
	band = cr_get(result, "healthy_band");
	if (band != NULL && band->type == MSGPACK_OBJECT_ARRAY &&
	    band->via.array.size == 2) {
		num_double(&band->via.array.ptr[0], &lo);
		num_double(&band->via.array.ptr[1], &hi);
	}

	time_put_duration(window, d, sizeof d);
	time_put_date(now, date, sizeof date);
	ev_printf("%T over the last %s (to %s)\n\n", member, d, date);
	for (i = 0; i < sizeof counts / sizeof counts[0]; i++) {
		obj_uint(result, counts[i], &v);
		printf("%-*s%" PRIu64 "\n", STATS_INDENT, counts[i], v);
	}
	printf("\nacceptance   ");
	if (have_rate) {
		rate_put(rate, false, buf, sizeof buf);
		printf("%s of %" PRIu64 " decided (accepted, withdrawn or "
		    "expired)\n", buf, decided);
	} else
		printf("none decided yet\n");
	stats_bar(rate, have_rate, lo, hi, health);
	printf("health       ");
	if (text_is(health, proto_health_words[HEALTH_HEALTHY]))
		puts("healthy");
	else if (text_is(health, proto_health_words[HEALTH_LOW])) {
		rate_put(lo, true, buf, sizeof buf);
		printf("low: under %s accepted\n", buf);
	} else if (text_is(health,
	    proto_health_words[HEALTH_INSUFFICIENT])) {
		if (ctx_policy(ctx, "restrict_min_decided", &need) &&
		    need > decided)
			printf("not enough decided yet (%" PRIu64 " of %"
			    PRIu64 ")\n", decided, need);
		else
			puts("not enough decided yet");
	} else
		ev_printf("%T\n", health);
	printf("restricted   ");
	if (obj_int(result, "restricted_until", &until) && until > 0) {
		time_put_in(now, until, in, sizeof in);
		time_put_date(until, date, sizeof date);
		printf("yes, may not send until %s (%s)\n", date, in);
	} else
		puts("no");
	/* Restrictions may escalate: how many count, and what comes next. */
	if (obj_uint(result, "restrictions", &v) && v > 0 &&
	    obj_uint(result, "next_restriction_for", &next)) {
		time_put_duration(next, in, sizeof in);
		if (ctx_policy(ctx, "restrict_window", &need)) {
			time_put_duration(need, d, sizeof d);
			printf("restrictions %" PRIu64 " in the last %s; a next "
			    "one would last %s\n", v, d, in);
		} else
			printf("restrictions %" PRIu64 "; a next one would last "
			    "%s\n", v, in);
	}
	q = cr_get(result, "quota");
	if (q != NULL && q->type == MSGPACK_OBJECT_MAP) {
		putchar('\n');
		quota_table_init(&t);
		quota_rows(&t, q, pending);
		table_print(&t);
		table_free(&t);
	}
}

const struct cmd_entry cmd_stats_entry = {
	.name = "stats",
	.args_min = 1,
	.args_max = 1,
	.opts = OPT_BIT(OPT_WINDOW),
	.usage = "stats MEMBER [--window DURATION]",
	.help = "A dashboard of MEMBER's invitations over the last DURATION "
	    "(default 90d): how many were sent, accepted, withdrawn, expired, "
	    "and are pending; the acceptance rate (accepted of those decided) "
	    "on a bar with the healthy band, 30% to 50%; the quota used this "
	    "week and today, pending against the warning and the maximum; and "
	    "whether MEMBER is restricted from sending, until when. A rate "
	    "below the policy's restrict below rate, or too many reports, "
	    "restricts a member for a while, longer each time when the policy "
	    "escalates: then it shows how many restrictions count and how "
	    "long a next one would last.",
	.exec = cmd_stats_exec
};

static int
cmd_stats_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	msgpack_packer *pk;

	pk = cr_request(ctx->client, METHOD(STATS_GET));
	msgpack_pack_map(pk, 1 + (a->opt[OPT_WINDOW] != NULL));
	pk_kstr(pk, "member", a->argv[0]);
	if (a->opt[OPT_WINDOW] != NULL)
		pk_kuint(pk, "window", a->window);
	return call_print(ctx, a, cmd_stats_print);
}

static void
cmd_connections_print(struct cmd_ctx *ctx, const struct cmd_args *a,
    const msgpack_object *result)
{
	static const char *const head[] = { "MEMBER", "SINCE", "DATE" };
	const msgpack_object *items, *o;
	struct table t;
	struct text first, other, next;
	int64_t since, now;
	char when[48], *s;
	uint32_t i;

	if ((items = obj_items(result)) == NULL ||
	    items->via.array.size == 0) {
		printf("no %sconnections for %s\n",
		    a->opt[OPT_AFTER] != NULL ? "more " : "", a->argv[0]);
	} else {
		now = ctx_now(ctx);
		table_init(&t, 3, head);
		t.names = 1u << 0;
		for (i = 0; i < items->via.array.size; i++) {
			o = &items->via.array.ptr[i];
			/* The other side: b, unless b is MEMBER itself. */
			obj_text(o, "a", &first);
			obj_text(o, "b", &other);
			if (text_is(other, a->argv[0]))
				other = first;
			obj_int(o, "since", &since);
			table_add(&t, other.p, other.n, 0);
			time_put_ago(now, since, when, sizeof when);
			table_add(&t, when, strlen(when), 0);
			time_put_date(since, when, sizeof when);
			table_add(&t, when, strlen(when), 0);
		}
		table_print(&t);
		table_free(&t);
	}
	if (!obj_text(result, "next", &next))
		return;
	s = xstrndup(next.p, next.n);
	fputs("more: ", stdout);
	hint_connreq(stdout, ctx);
	fputs("connections ", stdout);
	text_put_shell(stdout, a->argv[0]);
	if (a->opt[OPT_LIMIT] != NULL) {
		fputs(" --limit ", stdout);
		text_put_shell(stdout, a->opt[OPT_LIMIT]);
	}
	fputs(" --after ", stdout);
	text_put_shell(stdout, s);
	putchar('\n');
	free(s);
}

const struct cmd_entry cmd_connections_entry = {
	.name = "connections",
	.args_min = 1,
	.args_max = 1,
	.opts = OPT_BIT(OPT_LIMIT) | OPT_BIT(OPT_AFTER),
	.usage = "connections MEMBER [--limit N] [--after MEMBER]",
	.help = "Lists MEMBER's connections in order of the other member's "
	    "id, with when each was made. At most N are listed (default 50); "
	    "when there are more, the last line says how to see the next "
	    "page, which starts --after the last member listed.",
	.exec = cmd_connections_exec
};

static int
cmd_connections_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	const char *after = a->opt[OPT_AFTER];
	msgpack_packer *pk;

	pk = cr_request(ctx->client, METHOD(CONNECTION_LIST));
	msgpack_pack_map(pk, 1 + (a->opt[OPT_LIMIT] != NULL) + (after != NULL));
	pk_kstr(pk, "member", a->argv[0]);
	if (a->opt[OPT_LIMIT] != NULL)
		pk_kuint(pk, "limit", a->limit);
	if (after != NULL)
		pk_kstr(pk, "after", after);
	return call_print(ctx, a, cmd_connections_print);
}

static void
cmd_mutual_print(struct cmd_ctx *ctx, const struct cmd_args *a,
    const msgpack_object *result)
{
	static const char *const head[] = { "MEMBER", "WITH A SINCE",
	    "WITH B SINCE" };
	const msgpack_object *items, *o;
	struct table t;
	struct text member, next;
	int64_t since;
	char when[48], *s;
	uint32_t i;
	int k;

	if ((items = obj_items(result)) == NULL ||
	    items->via.array.size == 0) {
		printf("no %smutual connections of %s and %s\n",
		    a->opt[OPT_AFTER] != NULL ? "more " : "", a->argv[0],
		    a->argv[1]);
	} else {
		table_init(&t, 3, head);
		t.names = 1u << 0;
		for (i = 0; i < items->via.array.size; i++) {
			o = &items->via.array.ptr[i];
			obj_text(o, "member", &member);
			table_add(&t, member.p, member.n, 0);
			for (k = 0; k < 2; k++) {
				since = 0;
				obj_int(o, k == 0 ? "since_a" : "since_b",
				    &since);
				time_put_date(since, when, sizeof when);
				table_add(&t, when, strlen(when), 0);
			}
		}
		table_print(&t);
		table_free(&t);
	}
	if (!obj_text(result, "next", &next))
		return;
	s = xstrndup(next.p, next.n);
	fputs("more: ", stdout);
	hint_connreq(stdout, ctx);
	fputs("mutual ", stdout);
	text_put_shell(stdout, a->argv[0]);
	putchar(' ');
	text_put_shell(stdout, a->argv[1]);
	if (a->opt[OPT_LIMIT] != NULL) {
		fputs(" --limit ", stdout);
		text_put_shell(stdout, a->opt[OPT_LIMIT]);
	}
	fputs(" --after ", stdout);
	text_put_shell(stdout, s);
	putchar('\n');
	free(s);
}

static int
cmd_mutual_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	const char *after = a->opt[OPT_AFTER];
	msgpack_packer *pk;

	pk = cr_request(ctx->client, METHOD(CONNECTION_MUTUAL));
	msgpack_pack_map(pk, 2 + (a->opt[OPT_LIMIT] != NULL) + (after != NULL));
	pk_kstr(pk, "a", a->argv[0]);
	pk_kstr(pk, "b", a->argv[1]);
	if (a->opt[OPT_LIMIT] != NULL)
		pk_kuint(pk, "limit", a->limit);
	if (after != NULL)
		pk_kstr(pk, "after", after);
	return call_print(ctx, a, cmd_mutual_print);
}

const struct cmd_entry cmd_mutual_entry = {
	.name = "mutual",
	.args_min = 2,
	.args_max = 2,
	.opts = OPT_BIT(OPT_LIMIT) | OPT_BIT(OPT_AFTER),
	.usage = "mutual A B [--limit N] [--after MEMBER]",
	.help = "Lists the mutual connections of A and B (the members "
	    "connected to both) in order of their id, with when each "
	    "connected to A and to B. At most N are listed (default 50); "
	    "when there are more, the last line says how to see the next "
	    "page, which starts --after the last member listed.",
	.exec = cmd_mutual_exec
};

static void
cmd_auto_accept_print(struct cmd_ctx *ctx, const struct cmd_args *a,
    const msgpack_object *result)
{
	const msgpack_object *items, *o;
	struct text next;
	uint32_t i;
	char *s;

	if (a->argc == 2) {
		printf("%s %s invitations from %s at once\n", a->argv[0],
		    ctx->entry == &cmd_auto_accept_entry ? "accepts" :
		    "no longer accepts", a->argv[1]);
		return;
	}
	if ((items = obj_items(result)) == NULL ||
	    items->via.array.size == 0)
		printf("%s lists %snobody to accept at once\n", a->argv[0],
		    a->opt[OPT_AFTER] != NULL ? "no more: " : "");
	for (i = 0; items != NULL && i < items->via.array.size; i++) {
		o = &items->via.array.ptr[i];
		if (o->type == MSGPACK_OBJECT_STR) {
			text_put(stdout, o->via.str.ptr, o->via.str.size);
			putchar('\n');
		}
	}
	if (!obj_text(result, "next", &next))
		return;
	s = xstrndup(next.p, next.n);
	fputs("more: ", stdout);
	hint_connreq(stdout, ctx);
	fputs("auto-accept ", stdout);
	text_put_shell(stdout, a->argv[0]);
	if (a->opt[OPT_LIMIT] != NULL) {
		fputs(" --limit ", stdout);
		text_put_shell(stdout, a->opt[OPT_LIMIT]);
	}
	fputs(" --after ", stdout);
	text_put_shell(stdout, s);
	putchar('\n');
	free(s);
}

static int
cmd_auto_accept_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	const char *after = a->opt[OPT_AFTER];
	msgpack_packer *pk;

	if (a->argc == 2) {
		pk = cr_request(ctx->client, ctx->entry == &cmd_auto_accept_entry ?
		    METHOD(MEMBER_AUTO_ACCEPT_ADD) :
		    METHOD(MEMBER_AUTO_ACCEPT_REMOVE));
		msgpack_pack_map(pk, 2);
		pk_kstr(pk, "member", a->argv[0]);
		pk_kstr(pk, "other", a->argv[1]);
		return call_print(ctx, a, cmd_auto_accept_print);
	}
	pk = cr_request(ctx->client, METHOD(MEMBER_AUTO_ACCEPT_LIST));
	msgpack_pack_map(pk, 1 + (a->opt[OPT_LIMIT] != NULL) + (after != NULL));
	pk_kstr(pk, "member", a->argv[0]);
	if (a->opt[OPT_LIMIT] != NULL)
		pk_kuint(pk, "limit", a->limit);
	if (after != NULL)
		pk_kstr(pk, "after", after);
	return call_print(ctx, a, cmd_auto_accept_print);
}

const struct cmd_entry cmd_auto_accept_entry = {
	.name = "auto-accept",
	.args_min = 1,
	.args_max = 2,
	.opts = OPT_BIT(OPT_LIMIT) | OPT_BIT(OPT_AFTER),
	.usage = "auto-accept MEMBER [OTHER] [--limit N] [--after MEMBER]",
	.help = "With OTHER: MEMBER accepts invitations from OTHER at once "
	    "from now on (until the end `settings --auto-for` sets); the "
	    "invitation is accepted as by hand and says it was automatic. "
	    "Without: lists the members MEMBER accepts at once, in order of "
	    "id, at most N (default 50), the last line saying how to see the "
	    "next page.",
	.exec = cmd_auto_accept_exec
};

const struct cmd_entry cmd_no_auto_accept_entry = {
	.name = "no-auto-accept",
	.args_min = 2,
	.args_max = 2,
	.usage = "no-auto-accept MEMBER OTHER",
	.help = "MEMBER no longer accepts invitations from OTHER at once.",
	.exec = cmd_auto_accept_exec
};

/* disconnect, block and unblock: {actor, other}. */
static int
cmd_pair(struct cmd_ctx *ctx, const struct cmd_args *a, const char *method,
    cmd_print_fn *print)
{
	msgpack_packer *pk;

	pk = cr_request(ctx->client, method);
	msgpack_pack_map(pk, 2);
	pk_kstr(pk, "actor", a->argv[0]);
	pk_kstr(pk, "other", a->argv[1]);
	return call_print(ctx, a, print);
}

static void
cmd_disconnect_print(struct cmd_ctx *ctx, const struct cmd_args *a,
    const msgpack_object *result)
{
	int64_t since;
	char ago[32], date[48];

	printf("%s and %s are no longer connected", a->argv[0], a->argv[1]);
	if (obj_int(cr_get(result, "removed"), "since", &since) && since > 0) {
		time_put_ago(ctx_now(ctx), since, ago, sizeof ago);
		time_put_date(since, date, sizeof date);
		printf(" (connected %s, %s)", ago, date);
	}
	putchar('\n');
}

const struct cmd_entry cmd_disconnect_entry = {
	.name = "disconnect",
	.args_min = 2,
	.args_max = 2,
	.usage = "disconnect ACTOR OTHER",
	.help = "ACTOR removes the connection between ACTOR and OTHER.",
	.exec = cmd_disconnect_exec
};

static int
cmd_disconnect_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	return cmd_pair(ctx, a, METHOD(CONNECTION_REMOVE), cmd_disconnect_print);
}

static void
cmd_block_print(struct cmd_ctx *ctx, const struct cmd_args *a,
    const msgpack_object *result)
{
	(void)ctx;
	(void)result;
	text_put(stdout, a->argv[0], strlen(a->argv[0]));
	fputs(" blocked ", stdout);
	text_put(stdout, a->argv[1], strlen(a->argv[1]));
	fputs(": neither may invite the other\n", stdout);
	/* The result does not say what there was: "if any". */
	text_put(stdout, a->argv[0], strlen(a->argv[0]));
	fputs("'s pending invitation to ", stdout);
	text_put(stdout, a->argv[1], strlen(a->argv[1]));
	fputs(" is withdrawn and their connection removed, if any; ",
	    stdout);
	text_put(stdout, a->argv[1], strlen(a->argv[1]));
	fputs("'s to ", stdout);
	text_put(stdout, a->argv[0], strlen(a->argv[0]));
	fputs(" is ignored, if any (it looks pending to them)\n", stdout);
}

const struct cmd_entry cmd_block_entry = {
	.name = "block",
	.args_min = 2,
	.args_max = 2,
	.usage = "block ACTOR OTHER",
	.help = "ACTOR blocks OTHER: neither may invite the other, ACTOR's "
	    "pending invitation to OTHER is withdrawn, OTHER's to ACTOR "
	    "ignored (it looks pending to OTHER), their connection removed, "
	    "and OTHER is not told.",
	.exec = cmd_block_exec
};

static int
cmd_block_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	return cmd_pair(ctx, a, METHOD(MEMBER_BLOCK), cmd_block_print);
}

static void
cmd_unblock_print(struct cmd_ctx *ctx, const struct cmd_args *a,
    const msgpack_object *result)
{
	const msgpack_object *ch = cr_get(result, "changed");

	(void)ctx;
	text_put(stdout, a->argv[0], strlen(a->argv[0]));
	if (ch != NULL && ch->type == MSGPACK_OBJECT_BOOLEAN &&
	    !ch->via.boolean) {
		/* Nothing to lift: say so, not "unblocked" (a report of
		 * not knowing OTHER, which unblock does not lift, is no
		 * block). */
		fputs(" had not blocked ", stdout);
		text_put(stdout, a->argv[1], strlen(a->argv[1]));
		fputs(": nothing changed\n", stdout);
		return;
	}
	fputs(" unblocked ", stdout);
	text_put(stdout, a->argv[1], strlen(a->argv[1]));
	putchar('\n');
}

const struct cmd_entry cmd_unblock_entry = {
	.name = "unblock",
	.args_min = 2,
	.args_max = 2,
	.usage = "unblock ACTOR OTHER",
	.help = "ACTOR lifts a block of OTHER. What the block withdrew or "
	    "removed does not come back.",
	.exec = cmd_unblock_exec
};

static int
cmd_unblock_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	return cmd_pair(ctx, a, METHOD(MEMBER_UNBLOCK), cmd_unblock_print);
}

/* Whether the settings result's own list names key. */
static bool
settings_own(const msgpack_object *result, const char *key)
{
	const msgpack_object *own = cr_get(result, "own");
	uint32_t i;

	for (i = 0; own != NULL && own->type == MSGPACK_OBJECT_ARRAY &&
	    i < own->via.array.size; i++)
		if (proto_obj_is_str(&own->via.array.ptr[i], key))
			return true;
	return false;
}

/* One hold filter: its value in force, and whose it is. */
static void
settings_hold_put(const msgpack_object *result, const char *key,
    const char *label)
{
	const msgpack_object *o = cr_get(result, key);
	const char *whose = settings_own(result, key) ? "" :
	    " (the policy's default)";

	if (o == NULL)
		return;
	printf("%-18s", label);
	if (o->type == MSGPACK_OBJECT_BOOLEAN)
		printf("%s%s\n", o->via.boolean ? "yes" : "no", whose);
	else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
	    o->via.u64 == 0)
		printf("off%s\n", whose);
	else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		printf("within %" PRIu64 " day%s%s\n", o->via.u64,
		    o->via.u64 == 1 ? "" : "s", whose);
}

static void
cmd_settings_print(struct cmd_ctx *ctx, const struct cmd_args *a,
    const msgpack_object *result)
{
	struct text member, who, addr;
	uint64_t min = 0;
	int64_t until = 0;
	char date[48];
	uint64_t every;
	char d[16];

	(void)ctx;
	(void)a;
	obj_text(result, "member", &member);
	obj_text(result, "invitations_from", &who);
	printf("%-18s", "member");
	ev_printf("%T\n", member);
	printf("%-18s", "invitations from");
	ev_printf("%T", who);
	if (text_is(who, proto_invite_from_words[FROM_EVERYONE]))
		fputs(" (anyone may invite)", stdout);
	else if (text_is(who, proto_invite_from_words[FROM_EMAIL]))
		fputs(" (only people who give the email address)", stdout);
	else if (text_is(who, proto_invite_from_words[FROM_NOBODY]))
		fputs(" (no one may invite)", stdout);
	putchar('\n');
	printf("%-18s", "email");
	if (obj_text(result, "email", &addr))
		ev_printf("%T\n", addr);
	else
		puts("none");
	printf("%-18s", "auto-accept");
	if (obj_uint(result, "auto_accept_min_mutual", &min) && min > 0)
		printf("from %" PRIu64 " mutual connection%s and the list",
		    min, min == 1 ? "" : "s");
	else
		fputs("from the list", stdout);
	if (obj_int(result, "auto_accept_until", &until) && until > 0) {
		time_put_date(until, date, sizeof date);
		printf(", until %s", date);
	}
	putchar('\n');
	settings_hold_put(result, "hold_no_mutual", "hold: no mutual");
	settings_hold_put(result, "hold_low_health", "hold: low health");
	settings_hold_put(result, "hold_restricted_days", "hold: restricted");
	settings_hold_put(result, "hold_new_member_days", "hold: new member");
	if (obj_uint(result, "digest_every", &every)) {
		printf("%-18s", "digest");
		if (every > 0) {
			time_put_duration(every, d, sizeof d);
			printf("every %s, of the invitations waiting\n", d);
		} else
			puts("off");
	}
}

const struct cmd_entry cmd_settings_entry = {
	.name = "settings",
	.args_min = 1,
	.args_max = 1,
	.opts = OPT_BIT(OPT_FROM) | OPT_BIT(OPT_EMAIL) |
	    OPT_BIT(OPT_AUTO_MIN_MUTUAL) | OPT_BIT(OPT_AUTO_FOR) |
	    OPT_BIT(OPT_HOLD_NO_MUTUAL) | OPT_BIT(OPT_HOLD_LOW_HEALTH) |
	    OPT_BIT(OPT_HOLD_RESTRICTED_DAYS) |
	    OPT_BIT(OPT_HOLD_NEW_MEMBER_DAYS) | OPT_BIT(OPT_DIGEST),
	.usage = "settings MEMBER [--from everyone|email|nobody] [--email "
	    "ADDR] [--auto-min-mutual N] [--auto-for DURATION] "
	    "[--hold-no-mutual yes|no|default] [--hold-low-health "
	    "yes|no|default] [--hold-restricted-days DAYS] "
	    "[--hold-new-member-days DAYS] [--digest DURATION|off|default]",
	.help = "Shows MEMBER's settings, or changes those given: whom MEMBER "
	    "takes invitations from (everyone, by default; email: only people "
	    "who give MEMBER's email address; nobody), MEMBER's email "
	    "address, which --from email needs, and the auto-accept rules: "
	    "invitations from members sharing at least N mutual connections "
	    "with MEMBER are accepted at once (0: off), and those rules and "
	    "the auto-accept list end DURATION from now (0: never). The hold "
	    "filters keep invitations in MEMBER's held list (`connreq held`), "
	    "untold, from senders who share no connection with MEMBER, whose "
	    "health is low, who were restricted within DAYS days, or whom "
	    "connreq first saw less than DAYS days ago (0: off); `default` "
	    "follows the daemon's policy again; and how often MEMBER gets a "
	    "digest of the invitations waiting (how many, since when): every "
	    "DURATION (1h to 365d), off, or the policy's default.",
	.exec = cmd_settings_exec
};

static int
cmd_settings_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	static const struct {
		int opt;
		const char *key;
		bool days;
	} holds[] = {
		{ OPT_HOLD_NO_MUTUAL, "hold_no_mutual", false },
		{ OPT_HOLD_LOW_HEALTH, "hold_low_health", false },
		{ OPT_HOLD_RESTRICTED_DAYS, "hold_restricted_days", true },
		{ OPT_HOLD_NEW_MEMBER_DAYS, "hold_new_member_days", true },
	};
	const char *from = a->opt[OPT_FROM], *email = a->opt[OPT_EMAIL], *v;
	const char *min = a->opt[OPT_AUTO_MIN_MUTUAL];
	const char *dur = a->opt[OPT_AUTO_FOR];
	const char *digest = a->opt[OPT_DIGEST];
	msgpack_packer *pk;
	/* The daemon's clock, asked before the request is begun. */
	int64_t now = dur != NULL && a->auto_for != 0 ? ctx_now(ctx) : 0;
	size_t i, n = (size_t)(from != NULL) + (email != NULL) +
	    (min != NULL) + (dur != NULL) + (digest != NULL);

	for (i = 0; i < sizeof holds / sizeof holds[0]; i++)
		n += a->opt[holds[i].opt] != NULL;
	if (n == 0) {
		pk = cr_request(ctx->client, METHOD(MEMBER_SETTINGS_GET));
		msgpack_pack_map(pk, 1);
	} else {
		pk = cr_request(ctx->client, METHOD(MEMBER_SETTINGS_SET));
		msgpack_pack_map(pk, 1 + n);
	}
	pk_kstr(pk, "member", a->argv[0]);
	if (from != NULL)
		pk_kstr(pk, "invitations_from", from);
	if (email != NULL)
		pk_kstr(pk, "email", email);
	if (min != NULL)
		pk_kuint(pk, "auto_accept_min_mutual", a->auto_min_mutual);
	if (dur != NULL)
		pk_kuint(pk, "auto_accept_until", a->auto_for == 0 ? 0 :
		    (uint64_t)now + a->auto_for);
	for (i = 0; i < sizeof holds / sizeof holds[0]; i++) {
		if ((v = a->opt[holds[i].opt]) == NULL)
			continue;
		if (strcmp(v, "default") == 0)
			pk_knil(pk, holds[i].key);
		else if (holds[i].days)
			pk_kuint(pk, holds[i].key, strtoull(v, NULL, 10));
		else
			pk_kbool(pk, holds[i].key, strcmp(v, "yes") == 0);
	}
	if (digest != NULL && strcmp(digest, "default") == 0)
		pk_knil(pk, "digest_every");
	else if (digest != NULL)
		pk_kuint(pk, "digest_every", a->digest);
	return call_print(ctx, a, cmd_settings_print);
}
