/* client/cmd-intros.c: the commands on introductions, where a member asks
 * another, connected to both, to introduce them to a third: intro-ask,
 * intro-forward, intro-decline and intros. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int cmd_intro_ask_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_intro_forward_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_intro_decline_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_intros_exec(struct cmd_ctx *, const struct cmd_args *);

/* An introduction as the daemon returns it. */
struct intro_view {
	uint64_t id, invitation;	/* 0: none */
	struct text from, via, to, note, state;
	int64_t created_at, updated_at, expires_at;
};

static void
intro_read(const msgpack_object *o, struct intro_view *v)
{
	memset(v, 0, sizeof *v);
	obj_uint(o, "id", &v->id);
	obj_text(o, "from", &v->from);
	obj_text(o, "via", &v->via);
	obj_text(o, "to", &v->to);
	obj_text(o, "note", &v->note);
	obj_text(o, "state", &v->state);
	obj_int(o, "created_at", &v->created_at);
	obj_int(o, "updated_at", &v->updated_at);
	obj_int(o, "expires_at", &v->expires_at);
	obj_uint(o, "invitation", &v->invitation);
}

/* "introduction 7: amy asks cat to introduce her to ben (asked)" */
static void
intro_put_line(const struct intro_view *v)
{
	ev_printf("introduction %u: %T asks %T to introduce them to %T (%T)\n",
	    v->id, v->from, v->via, v->to, v->state);
}

static void
cmd_intro_ask_print(struct cmd_ctx *ctx, const struct cmd_args *a,
    const msgpack_object *result)
{
	const msgpack_object *o = cr_get(result, "introduction");
	struct intro_view v;
	char in[32];

	(void)a;
	if (o == NULL)
		return;
	intro_read(o, &v);
	intro_put_line(&v);
	time_put_in(ctx_now(ctx), v.expires_at, in, sizeof in);
	ev_printf("%T may forward or decline it; unanswered, it expires %s\n",
	    v.via, in);
}

const struct cmd_entry cmd_intro_ask_entry = {
	.name = "intro-ask",
	.args_min = 3,
	.args_max = 3,
	.opts = OPT_BIT(OPT_NOTE),
	.usage = "intro-ask FROM VIA TO [--note TEXT]",
	.help = "FROM asks VIA, who is connected to both, to introduce them "
	    "to TO, with a note for VIA. Refused unless VIA is connected to "
	    "both, FROM and TO are not connected, no invitation is pending "
	    "between them and FROM has no introduction to TO asked already, "
	    "and as an invitation would be (a block, a restriction). VIA is "
	    "told; TO is not. Unanswered, it expires after the policy's "
	    "expire after.",
	.exec = cmd_intro_ask_exec
};

static int
cmd_intro_ask_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	msgpack_packer *pk;

	pk = cr_request(ctx->client, METHOD(INTRO_ASK));
	msgpack_pack_map(pk, 3 + (a->opt[OPT_NOTE] != NULL));
	pk_kstr(pk, "from", a->argv[0]);
	pk_kstr(pk, "via", a->argv[1]);
	pk_kstr(pk, "to", a->argv[2]);
	if (a->opt[OPT_NOTE] != NULL)
		pk_kstr(pk, "note", a->opt[OPT_NOTE]);
	return call_print(ctx, a, cmd_intro_ask_print);
}

static void
cmd_intro_forward_print(struct cmd_ctx *ctx, const struct cmd_args *a,
    const msgpack_object *result)
{
	const msgpack_object *o = cr_get(result, "introduction");
	struct intro_view v;

	(void)ctx;
	(void)a;
	if (o == NULL)
		return;
	intro_read(o, &v);
	ev_printf("introduction %u forwarded: invitation %u from %T to %T, "
	    "introduced by %T\n", v.id, v.invitation, v.from, v.to, v.via);
}

const struct cmd_entry cmd_intro_forward_entry = {
	.name = "intro-forward",
	.args_min = 2,
	.args_max = 2,
	.opts = OPT_BIT(OPT_NOTE),
	.usage = "intro-forward VIA ID [--note TEXT]",
	.help = "VIA forwards introduction ID: an invitation from its asker "
	    "to the member named goes out as the asker's own send, marked "
	    "introduced by VIA, with --note TEXT (VIA's words to the "
	    "recipient) as its note. It counts toward the asker's limits and "
	    "meets every rule of a send: when the send is refused, so is the "
	    "forward (NOT_PERMITTED: why is the asker's, not VIA's, to "
	    "know), and the asker learns nothing.",
	.exec = cmd_intro_forward_exec
};

static int
cmd_intro_forward_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	msgpack_packer *pk;
	uint64_t id;

	if (!parse_number(a->argv[1], &id))
		return cmd_usage_error(ctx->entry,
		    "not an introduction id: %s", a->argv[1]);
	pk = cr_request(ctx->client, METHOD(INTRO_FORWARD));
	msgpack_pack_map(pk, 2 + (a->opt[OPT_NOTE] != NULL));
	pk_kstr(pk, "actor", a->argv[0]);
	pk_kuint(pk, "id", id);
	if (a->opt[OPT_NOTE] != NULL)
		pk_kstr(pk, "note", a->opt[OPT_NOTE]);
	return call_print(ctx, a, cmd_intro_forward_print);
}

static void
cmd_intro_decline_print(struct cmd_ctx *ctx, const struct cmd_args *a,
    const msgpack_object *result)
{
	const msgpack_object *o = cr_get(result, "introduction");
	struct intro_view v;

	(void)ctx;
	if (o == NULL)
		return;
	intro_read(o, &v);
	ev_printf("introduction %u declined; %T %s\n", v.id, v.from,
	    a->opt[OPT_TELL] != NULL ? "is told" :
	    "is not told (it stays asked to them until it expires)");
}

const struct cmd_entry cmd_intro_decline_entry = {
	.name = "intro-decline",
	.args_min = 2,
	.args_max = 2,
	.opts = OPT_BIT(OPT_TELL),
	.usage = "intro-decline VIA ID [--tell]",
	.help = "VIA declines introduction ID. Its asker is told only with "
	    "--tell; otherwise they go on seeing it asked until it expires.",
	.exec = cmd_intro_decline_exec
};

static int
cmd_intro_decline_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	msgpack_packer *pk;
	uint64_t id;

	if (!parse_number(a->argv[1], &id))
		return cmd_usage_error(ctx->entry,
		    "not an introduction id: %s", a->argv[1]);
	pk = cr_request(ctx->client, METHOD(INTRO_DECLINE));
	msgpack_pack_map(pk, 3);
	pk_kstr(pk, "actor", a->argv[0]);
	pk_kuint(pk, "id", id);
	pk_kbool(pk, "tell_sender", a->opt[OPT_TELL] != NULL);
	return call_print(ctx, a, cmd_intro_decline_print);
}

static void
cmd_intros_print(struct cmd_ctx *ctx, const struct cmd_args *a,
    const msgpack_object *result)
{
	static const char *const head[] = {
		"ID", "FROM", "VIA", "TO", "STATE", "ASKED", "NOTE"
	};
	const msgpack_object *items, *next;
	struct intro_view v;
	struct table t;
	int64_t now;
	char when[48];
	uint32_t k;

	if ((items = obj_items(result)) == NULL ||
	    items->via.array.size == 0) {
		fputs(a->opt[OPT_ASKED] != NULL ? "no introductions asked by " :
		    "no introductions asked of ", stdout);
		text_put(stdout, a->argv[0], strlen(a->argv[0]));
		putchar('\n');
		return;
	}
	now = ctx_now(ctx);
	table_init(&t, 7, head);
	t.names = 1u << 1 | 1u << 2 | 1u << 3;
	t.state_col = 5;
	for (k = 0; k < items->via.array.size; k++) {
		intro_read(&items->via.array.ptr[k], &v);
		table_addf(&t, "%" PRIu64, v.id);
		table_add(&t, v.from.p, v.from.n, 24);
		table_add(&t, v.via.p, v.via.n, 24);
		table_add(&t, v.to.p, v.to.n, 24);
		if (v.invitation != 0)
			table_addf(&t, "%.*s (%" PRIu64 ")", (int)v.state.n,
			    v.state.p, v.invitation);
		else
			table_add(&t, v.state.p, v.state.n, 0);
		time_put_ago(now, v.created_at, when, sizeof when);
		table_add(&t, when, strlen(when), 0);
		table_add(&t, v.note.p, v.note.n, 0);
	}
	table_print(&t);
	table_free(&t);
	next = cr_get(result, "next");
	if (next != NULL && next->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		printf("more: --after %" PRIu64 "\n", next->via.u64);
}

const struct cmd_entry cmd_intros_entry = {
	.name = "intros",
	.args_min = 1,
	.args_max = 1,
	.opts = OPT_BIT(OPT_ASKED) | OPT_BIT(OPT_LIMIT) | OPT_BIT(OPT_AFTER),
	.usage = "intros MEMBER [--asked] [--limit N] [--after ID]",
	.help = "Lists the introductions MEMBER was asked to make, newest "
	    "first, or with --asked those MEMBER asked for, as MEMBER sees "
	    "them: asked, forwarded (with its invitation), declined or "
	    "expired. --limit N per page (default 50); --after ID the next "
	    "page.",
	.exec = cmd_intros_exec
};

static int
cmd_intros_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	msgpack_packer *pk;
	uint64_t after = 0;

	if (a->opt[OPT_AFTER] != NULL && !parse_number(a->opt[OPT_AFTER],
	    &after))
		return cmd_usage_error(ctx->entry,
		    "not an introduction id: %s", a->opt[OPT_AFTER]);
	pk = cr_request(ctx->client, METHOD(INTRO_LIST));
	msgpack_pack_map(pk, 2 + (a->opt[OPT_LIMIT] != NULL) +
	    (a->opt[OPT_AFTER] != NULL));
	pk_kstr(pk, "member", a->argv[0]);
	pk_kstr(pk, "box", proto_intro_box_words[a->opt[OPT_ASKED] != NULL ?
	    PIBOX_ASKED : PIBOX_RECEIVED]);
	if (a->opt[OPT_LIMIT] != NULL)
		pk_kuint(pk, "limit", a->limit);
	if (a->opt[OPT_AFTER] != NULL)
		pk_kuint(pk, "after", after);
	return call_print(ctx, a, cmd_intros_print);
}
