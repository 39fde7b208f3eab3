/* client/cmd-invitations.c: the commands on invitations: send, can-send,
 * accept, ignore, unignore, withdraw, resend, report, show, sent,
 * received, ignored, held, history and advise. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define NOTE_COLUMN_MAX 32	/* characters of a note shown in a list */

static int cmd_send_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_can_send_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_accept_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_ignore_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_unignore_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_withdraw_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_resend_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_report_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_show_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_list_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_history_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_advise_exec(struct cmd_ctx *, const struct cmd_args *);

/* Closed states carry the time they were reached in updated_at. */
static bool
inv_closed(const struct inv_view *v)
{
	return text_is(v->state, proto_state_words[ST_ACCEPTED]) ||
	    text_is(v->state, proto_state_words[ST_WITHDRAWN]) ||
	    text_is(v->state, proto_state_words[ST_EXPIRED]);
}

/* "invitation 3: alice -> bob, pending, medium priority, sent 2d ago,
 * expires in 5mo", and its note and history below. */
static void
out_invitation(struct cmd_ctx *ctx, const msgpack_object *o)
{
	struct inv_view v;
	int64_t now = ctx_now(ctx);
	char sent[32], when[32];
	const char *sgr;

	inv_read(o, &v);
	sgr = use_colour() ? state_colour(v.state.p, v.state.n) : "";
	time_put_ago(now, v.created_at, sent, sizeof sent);
	printf("invitation %" PRIu64 ": %.*s -> %.*s, %s%.*s%s", v.id,
	    (int)v.from.n, v.from.p, (int)v.to.n, v.to.p, sgr,
	    (int)v.state.n, v.state.p, sgr[0] != '\0' ? "\033[0m" : "");
	if (inv_closed(&v)) {
		time_put_ago(now, v.updated_at, when, sizeof when);
		printf(" %s", when);
	}
	/* The recipient's view has no priority: it is the sender's own. */
	if (v.priority.n > 0)
		printf(", %.*s priority", (int)v.priority.n, v.priority.p);
	printf(", sent %s", sent);
	if (text_is(v.state, proto_state_words[ST_PENDING])) {
		time_put_in(now, v.expires_at, when, sizeof when);
		printf(", expires %s", when);
	}
	putchar('\n');
	if (v.note.n > 0) {
		fputs("  note: \"", stdout);
		text_put(stdout, v.note.p, v.note.n);
		fputs("\"\n", stdout);
	}
	if (v.resend_of != 0)
		printf("  attempt %" PRIu64 ", resending invitation %" PRIu64
		    "\n", v.attempt, v.resend_of);
	if (v.automatic)
		fputs("  accepted at once by the recipient's auto-accept rules\n",
		    stdout);
	/* The recipient's view: how many they and the sender both know. */
	if (v.has_mutual)
		printf("  mutual connections: %" PRIu64 "%s\n", v.mutual_count,
		    v.mutual_count >= 1000 ? " or more" : "");
	if (v.reminded_at != 0 &&
	    text_is(v.state, proto_state_words[ST_PENDING])) {
		time_put_ago(now, v.reminded_at, when, sizeof when);
		printf("  stale: its sender was reminded %s that it is still "
		    "pending\n", when);
	}
}

/* Prints the invitation a result carries and reads it into v; false when
 * it carries none. */
static bool
out_result_invitation(struct cmd_ctx *ctx, const msgpack_object *result,
    struct inv_view *v)
{
	const msgpack_object *inv = cr_get(result, "invitation");

	if (inv == NULL)
		return false;
	inv_read(inv, v);
	out_invitation(ctx, inv);
	return true;
}

/* A list of invitations, in columns. */
static void
out_invitations(struct cmd_ctx *ctx, const msgpack_object *items)
{
	static const char *const head[] = {
		"ID", "FROM", "TO", "STATE", "PRIORITY", "AGE", "EXPIRES", "NOTE"
	};
	struct table t;
	struct inv_view v;
	int64_t now = ctx_now(ctx);
	char when[32];
	uint32_t i;

	table_init(&t, 8, head);
	t.names = 1u << 1 | 1u << 2;
	t.state_col = 4;
	for (i = 0; i < items->via.array.size; i++) {
		inv_read(&items->via.array.ptr[i], &v);
		table_addf(&t, "%" PRIu64, v.id);
		table_add(&t, v.from.p, v.from.n, 0);
		table_add(&t, v.to.p, v.to.n, 0);
		table_add(&t, v.state.p, v.state.n, 0);
		if (v.priority.n > 0)
			table_add(&t, v.priority.p, v.priority.n, 0);
		else
			table_add(&t, "-", 1, 0);
		time_put_ago(now, v.created_at, when, sizeof when);
		table_add(&t, when, strlen(when), 0);
		if (text_is(v.state, proto_state_words[ST_PENDING]))
			time_put_in(now, v.expires_at, when, sizeof when);
		else
			snprintf(when, sizeof when, "-");
		table_add(&t, when, strlen(when), 0);
		table_add(&t, v.note.p, v.note.n, NOTE_COLUMN_MAX);
	}
	table_print(&t);
	table_free(&t);
}

static void
cmd_send_print(struct cmd_ctx *ctx, const struct cmd_args *a,
    const msgpack_object *result)
{
	const msgpack_object *inv;

	if (cr_get(result, "connection") != NULL)
		printf("%s and %s are now connected (both invited each "
		    "other)\n", a->argv[0], a->argv[1]);
	if ((inv = cr_get(result, "invitation")) != NULL)
		out_invitation(ctx, inv);
}

const struct cmd_entry cmd_send_entry = {
	.name = "send",
	.args_min = 2,
	.args_max = 2,
	.opts = OPT_BIT(OPT_NOTE) | OPT_BIT(OPT_PRIORITY) |
	    OPT_BIT(OPT_EMAIL) | OPT_BIT(OPT_EXPIRES_IN),
	.usage = "send FROM TO [--note TEXT] [--priority high|medium|low] "
	    "[--email ADDR] [--expires-in DURATION]",
	.help = "FROM invites TO to connect, with an optional personal note "
	    "(at most 300 characters by default) and a priority for FROM's "
	    "own bookkeeping (default medium). It is refused when FROM and TO "
	    "are already connected, when an invitation from FROM to TO is "
	    "already pending, during the cooldown after FROM withdrew one, "
	    "when TO blocked FROM or takes no invitations, and beyond the "
	    "limits: sends a week and a day, pending invitations, invitations "
	    "to the same member within a year (`connreq info` shows them, "
	    "`connreq can-send` says whether a send would pass). A member who "
	    "takes invitations only from people who know their email address "
	    "needs --email ADDR. --expires-in sets how long it stays pending "
	    "(default 180d, at most the policy's max expire after). A send "
	    "that passes may carry warnings, printed on stderr: too many "
	    "pending, the same note to many people. When TO has a pending "
	    "invitation to FROM, the two are connected at once.",
	.exec = cmd_send_exec
};

static int
cmd_send_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	const char *note = a->opt[OPT_NOTE], *prio = a->opt[OPT_PRIORITY];
	const char *email = a->opt[OPT_EMAIL];
	msgpack_packer *pk;

	ctx->sender = a->argv[0];
	pk = cr_request(ctx->client, METHOD(INVITE_SEND));
	msgpack_pack_map(pk, 2 + (note != NULL) + (prio != NULL) +
	    (email != NULL) + (a->opt[OPT_EXPIRES_IN] != NULL));
	pk_kstr(pk, "from", a->argv[0]);
	pk_kstr(pk, "to", a->argv[1]);
	if (note != NULL)
		pk_kstr(pk, "note", note);
	if (prio != NULL)
		pk_kstr(pk, "priority", prio);
	if (email != NULL)
		pk_kstr(pk, "email", email);
	if (a->opt[OPT_EXPIRES_IN] != NULL)
		pk_kuint(pk, "expires_in", a->expires_in);
	return call_print(ctx, a, cmd_send_print);
}

/* "alice may invite bob again in 3w (2026-01-22 00:00 UTC)", as fits the
 * refusal. */
static void
out_retry(struct cmd_ctx *ctx, const char *from, const char *to,
    struct text code, int64_t at)
{
	int64_t now = ctx_now(ctx);
	char in[32], date[48];

	time_put_in(now, at, in, sizeof in);
	time_put_date(at, date, sizeof date);
	text_put(stdout, from, strlen(from));
	if (text_is(code, proto_code_name(PE_COOLDOWN)) ||
	    text_is(code, proto_code_name(PE_PAIR_LIMIT))) {
		fputs(" may invite ", stdout);
		text_put(stdout, to, strlen(to));
		fputs(" again", stdout);
	} else
		fputs(" may send invitations again", stdout);
	if (at <= now)
		puts(" now");
	else
		printf(" %s (%s)\n", in, date);
}

static void
can_send_put(struct cmd_ctx *ctx, const struct cmd_args *a,
    const msgpack_object *result, bool allowed, struct text code)
{
	const msgpack_object *q;
	struct table t;
	struct text message;
	uint64_t used, limit, pending, window;
	int64_t retry;
	char label[96], note[48], d[16];

	if (allowed) {
		fputs("yes: ", stdout);
		text_put(stdout, a->argv[0], strlen(a->argv[0]));
		fputs(" may invite ", stdout);
		text_put(stdout, a->argv[1], strlen(a->argv[1]));
		putchar('\n');
	} else {
		obj_text(result, "message", &message);
		fputs("no: ", stdout);
		text_put(stdout, code.p, code.n);
		fputs(": ", stdout);
		text_put(stdout, message.p, message.n);
		putchar('\n');
		if (obj_int(result, "retry_at", &retry) && retry > 0)
			out_retry(ctx, a->argv[0], a->argv[1], code, retry);
	}
	q = cr_get(result, "quota");
	if (q == NULL || q->type != MSGPACK_OBJECT_MAP)
		return;
	putchar('\n');
	quota_table_init(&t);
	obj_uint(q, "pending", &pending);
	quota_rows(&t, q, pending);
	obj_uint(q, "pair_used", &used);
	obj_uint(q, "pair_limit", &limit);
	note[0] = '\0';
	if (ctx_policy(ctx, "pair_window", &window)) {
		time_put_duration(window, d, sizeof d);
		snprintf(note, sizeof note, "within %s%s", d,
		    limit > 0 && used >= limit ? ": reached" : "");
	}
	snprintf(label, sizeof label, "sent to %s", a->argv[1]);
	quota_row(&t, label, used, limit, note);
	table_print(&t);
	table_free(&t);
}

const struct cmd_entry cmd_can_send_entry = {
	.name = "can-send",
	.args_min = 2,
	.args_max = 2,
	.opts = OPT_BIT(OPT_EMAIL),
	.usage = "can-send FROM TO [--email ADDR]",
	.help = "Says whether FROM may invite TO now, without sending: yes, "
	    "or the refusal send would meet and, for one that ends (a "
	    "cooldown, a limit, a restriction), when FROM may invite TO "
	    "again. Then FROM's quota: invitations sent this week and today, "
	    "pending, and sent to TO, each against its limit (off: no limit). "
	    "Exit status 0 when the send would pass, 1 when it would be "
	    "refused.",
	.exec = cmd_can_send_exec
};

/* The one command whose exit status is the answer: 1 when the send would
 * be refused, which is then explained as a refusal is. */
static int
cmd_can_send_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	const char *email = a->opt[OPT_EMAIL];
	const msgpack_object *o;
	msgpack_packer *pk;
	struct cr_reply r;
	struct text code;
	char buf[32];
	bool allowed = false;
	int rc;

	ctx->sender = a->argv[0];
	pk = cr_request(ctx->client, METHOD(INVITE_CAN_SEND));
	msgpack_pack_map(pk, 2 + (email != NULL));
	pk_kstr(pk, "from", a->argv[0]);
	pk_kstr(pk, "to", a->argv[1]);
	if (email != NULL)
		pk_kstr(pk, "email", email);
	if ((rc = call_finish(ctx, &r)) != 0)
		return rc;
	if ((o = cr_get(r.result, "allowed")) != NULL &&
	    o->type == MSGPACK_OBJECT_BOOLEAN)
		allowed = o->via.boolean;
	obj_text(r.result, "code", &code);
	if (!out_json(ctx, &r))
		can_send_put(ctx, a, r.result, allowed, code);
	if (!allowed) {
		snprintf(buf, sizeof buf, "%.*s", (int)code.n, code.p);
		call_hint(ctx, buf);
	}
	cr_reply_free(&r);
	return allowed ? EXIT_DONE : EXIT_REFUSED;
}

/* accept, ignore and withdraw: {actor, id}. */
static int
cmd_act(struct cmd_ctx *ctx, const struct cmd_args *a, const char *method,
    cmd_print_fn *print)
{
	msgpack_packer *pk;
	uint64_t id;
	int rc;

	if ((rc = cmd_id(ctx->entry, a->argv[1], &id)) != 0)
		return rc;
	pk = cr_request(ctx->client, method);
	msgpack_pack_map(pk, 2);
	pk_kstr(pk, "actor", a->argv[0]);
	pk_kuint(pk, "id", id);
	return call_print(ctx, a, print);
}

static void
cmd_accept_print(struct cmd_ctx *ctx, const struct cmd_args *a,
    const msgpack_object *result)
{
	struct inv_view v;

	(void)a;
	if (out_result_invitation(ctx, result, &v))
		printf("%.*s and %.*s are now connected\n", (int)v.to.n,
		    v.to.p, (int)v.from.n, v.from.p);
}

const struct cmd_entry cmd_accept_entry = {
	.name = "accept",
	.args_min = 2,
	.args_max = 2,
	.usage = "accept ACTOR ID",
	.help = "ACTOR accepts invitation ID, which must be pending and "
	    "addressed to ACTOR. Its sender and ACTOR become connected.",
	.exec = cmd_accept_exec
};

static int
cmd_accept_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	return cmd_act(ctx, a, METHOD(INVITE_ACCEPT), cmd_accept_print);
}

static void
cmd_ignore_print(struct cmd_ctx *ctx, const struct cmd_args *a,
    const msgpack_object *result)
{
	struct inv_view v;

	(void)a;
	if (out_result_invitation(ctx, result, &v))
		printf("%.*s ignored it silently: %.*s is not told and still "
		    "sees it as pending\n", (int)v.to.n, v.to.p,
		    (int)v.from.n, v.from.p);
}

const struct cmd_entry cmd_ignore_entry = {
	.name = "ignore",
	.args_min = 2,
	.args_max = 2,
	.usage = "ignore ACTOR ID",
	.help = "ACTOR ignores invitation ID, which must be pending and "
	    "addressed to ACTOR. It leaves ACTOR's received list. Ignoring is "
	    "silent: the sender is not told and keeps seeing the invitation "
	    "as pending until it is withdrawn or expires.",
	.exec = cmd_ignore_exec
};

static int
cmd_ignore_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	return cmd_act(ctx, a, METHOD(INVITE_IGNORE), cmd_ignore_print);
}

static void
cmd_unignore_print(struct cmd_ctx *ctx, const struct cmd_args *a,
    const msgpack_object *result)
{
	struct inv_view v;

	(void)a;
	if (out_result_invitation(ctx, result, &v))
		printf("%.*s put it back in the received box: it is pending "
		    "again; %.*s never knew it was ignored\n", (int)v.to.n,
		    v.to.p, (int)v.from.n, v.from.p);
}

const struct cmd_entry cmd_unignore_entry = {
	.name = "unignore",
	.args_min = 2,
	.args_max = 2,
	.usage = "unignore ACTOR ID",
	.help = "ACTOR puts invitation ID, which ACTOR ignored, back in the "
	    "received list, pending again. Refused once it has expired, was "
	    "withdrawn or accepted, and for one ACTOR reported. Like the "
	    "ignore, it is silent: the sender sees no difference.",
	.exec = cmd_unignore_exec
};

static int
cmd_unignore_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	return cmd_act(ctx, a, METHOD(INVITE_UNIGNORE), cmd_unignore_print);
}

static void
cmd_withdraw_print(struct cmd_ctx *ctx, const struct cmd_args *a,
    const msgpack_object *result)
{
	struct inv_view v;
	int64_t until;
	char in[32], date[48];

	(void)a;
	if (!out_result_invitation(ctx, result, &v) ||
	    !obj_int(result, "cooldown_until", &until))
		return;
	time_put_in(ctx_now(ctx), until, in, sizeof in);
	time_put_date(until, date, sizeof date);
	printf("%.*s may invite %.*s again %s (%s)\n", (int)v.from.n,
	    v.from.p, (int)v.to.n, v.to.p, in, date);
}

const struct cmd_entry cmd_withdraw_entry = {
	.name = "withdraw",
	.args_min = 2,
	.args_max = 2,
	.usage = "withdraw ACTOR ID",
	.help = "ACTOR withdraws invitation ID, which ACTOR sent and which is "
	    "still pending. It leaves the recipient's list at once. ACTOR may "
	    "not invite the same member again until a cooldown ends (21 days "
	    "by default; `connreq info` shows the policy in force).",
	.exec = cmd_withdraw_exec
};

static int
cmd_withdraw_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	return cmd_act(ctx, a, METHOD(INVITE_WITHDRAW), cmd_withdraw_print);
}

static void
cmd_resend_print(struct cmd_ctx *ctx, const struct cmd_args *a,
    const msgpack_object *result)
{
	const msgpack_object *inv = cr_get(result, "invitation");
	struct inv_view v;

	(void)a;
	if (inv == NULL)
		return;
	inv_read(inv, &v);
	if (cr_get(result, "connection") != NULL)
		printf("%.*s and %.*s are now connected (both invited each "
		    "other)\n", (int)v.from.n, v.from.p, (int)v.to.n, v.to.p);
	out_invitation(ctx, inv);
}

const struct cmd_entry cmd_resend_entry = {
	.name = "resend",
	.args_min = 2,
	.args_max = 2,
	.opts = OPT_BIT(OPT_NOTE) | OPT_BIT(OPT_EMAIL) |
	    OPT_BIT(OPT_EXPIRES_IN),
	.usage = "resend ACTOR ID [--note TEXT] [--email ADDR] "
	    "[--expires-in DURATION]",
	.help = "Sends invitation ID again: ACTOR, its sender, makes a new "
	    "pending invitation to the same member, linked to the old one "
	    "(which must be withdrawn or expired), with the old priority and "
	    "the old note unless --note gives a new one. As for send, a "
	    "member who takes invitations only from people who know their "
	    "email address needs --email ADDR, and --expires-in sets how long "
	    "it stays pending (default 180d). Every rule of send applies, the "
	    "cooldown after a withdrawal too.",
	.exec = cmd_resend_exec
};

static int
cmd_resend_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	const char *note = a->opt[OPT_NOTE], *email = a->opt[OPT_EMAIL];
	bool expires = a->opt[OPT_EXPIRES_IN] != NULL;
	msgpack_packer *pk;
	uint64_t id;
	int rc;

	if ((rc = cmd_id(ctx->entry, a->argv[1], &id)) != 0)
		return rc;
	ctx->sender = a->argv[0];
	pk = cr_request(ctx->client, METHOD(INVITE_RESEND));
	msgpack_pack_map(pk, 2 + (note != NULL) + (email != NULL) + expires);
	pk_kstr(pk, "actor", a->argv[0]);
	pk_kuint(pk, "id", id);
	if (note != NULL)
		pk_kstr(pk, "note", note);
	if (email != NULL)
		pk_kstr(pk, "email", email);
	if (expires)
		pk_kuint(pk, "expires_in", a->expires_in);
	return call_print(ctx, a, cmd_resend_print);
}

static void
cmd_report_print(struct cmd_ctx *ctx, const struct cmd_args *a,
    const msgpack_object *result)
{
	struct inv_view v;

	if (!out_result_invitation(ctx, result, &v))
		return;
	if (strcmp(a->opt[OPT_REASON],
	    proto_report_reason_words[REASON_SPAM]) == 0)
		ev_printf("%T reported it as spam: it is ignored, and %T is "
		    "not told\n", v.to, v.from);
	else
		ev_printf("%T reported not knowing %T: the invitation is "
		    "ignored, %T is not told and may not invite %T again\n",
		    v.to, v.from, v.from, v.to);
}

const struct cmd_entry cmd_report_entry = {
	.name = "report",
	.args_min = 2,
	.args_max = 2,
	.opts = OPT_BIT(OPT_REASON),
	.usage = "report ACTOR ID --reason dont_know|spam",
	.help = "ACTOR, its recipient, reports invitation ID, which must be "
	    "pending: dont_know (ACTOR does not know its sender, who may then "
	    "never invite ACTOR again) or spam. It is ignored as by `connreq "
	    "ignore`, and its sender is not told; a sender reported too often "
	    "may not send for a while (the policy's health section).",
	.exec = cmd_report_exec
};

static int
cmd_report_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	const char *reason = a->opt[OPT_REASON];
	msgpack_packer *pk;
	uint64_t id;
	int rc;

	if (reason == NULL)
		return cmd_usage_error(ctx->entry,
		    "report: say why with --reason dont_know or --reason spam");
	if ((rc = cmd_id(ctx->entry, a->argv[1], &id)) != 0)
		return rc;
	pk = cr_request(ctx->client, METHOD(INVITE_REPORT));
	msgpack_pack_map(pk, 3);
	pk_kstr(pk, "actor", a->argv[0]);
	pk_kuint(pk, "id", id);
	pk_kstr(pk, "reason", reason);
	return call_print(ctx, a, cmd_report_print);
}

static void
cmd_show_print(struct cmd_ctx *ctx, const struct cmd_args *a,
    const msgpack_object *result)
{
	const msgpack_object *inv = cr_get(result, "invitation");

	(void)a;
	if (inv != NULL)
		out_invitation(ctx, inv);
}

const struct cmd_entry cmd_show_entry = {
	.name = "show",
	.args_min = 1,
	.args_max = 1,
	.opts = OPT_BIT(OPT_AS),
	.usage = "show ID [--as MEMBER]",
	.help = "Shows invitation ID: who sent it to whom, its state, "
	    "priority, age, expiry and note. With --as MEMBER it is shown as "
	    "MEMBER, its sender or its recipient, sees it (an ignored "
	    "invitation looks pending to its sender; a withdrawn one is gone "
	    "for its recipient); without, as its sender sees it.",
	.exec = cmd_show_exec
};

static int
cmd_show_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	const char *as = a->opt[OPT_AS];
	msgpack_packer *pk;
	uint64_t id;
	int rc;

	if ((rc = cmd_id(ctx->entry, a->argv[0], &id)) != 0)
		return rc;
	pk = cr_request(ctx->client, METHOD(INVITE_GET));
	msgpack_pack_map(pk, 1 + (as != NULL));
	pk_kuint(pk, "id", id);
	if (as != NULL)
		pk_kstr(pk, "actor", as);
	return call_print(ctx, a, cmd_show_print);
}

/* The box the command lists: `sent`, `received`, `ignored` or `held`. */
static const char *
list_box(const struct cmd_ctx *ctx)
{
	return proto_box_words[ctx->entry == &cmd_received_entry ?
	    PBOX_RECEIVED : ctx->entry == &cmd_ignored_entry ? PBOX_IGNORED :
	    ctx->entry == &cmd_held_entry ? PBOX_HELD : PBOX_SENT];
}

static void
cmd_list_print(struct cmd_ctx *ctx, const struct cmd_args *a,
    const msgpack_object *result)
{
	static const int list_opts[] = {
		OPT_STATE, OPT_PRIORITY, OPT_OLDER_THAN, OPT_LIMIT
	};
	const char *box = list_box(ctx);
	const msgpack_object *items;
	uint64_t next;
	size_t i;

	if ((items = obj_items(result)) == NULL || items->via.array.size == 0)
		printf("no %s%s invitations for %s\n",
		    a->opt[OPT_AFTER] != NULL ? "more " : "", box, a->argv[0]);
	else
		out_invitations(ctx, items);
	if (!obj_uint(result, "next", &next))
		return;
	fputs("more: ", stdout);
	hint_connreq(stdout, ctx);
	printf("%s ", box);
	text_put_shell(stdout, a->argv[0]);
	for (i = 0; i < sizeof list_opts / sizeof list_opts[0]; i++) {
		if (a->opt[list_opts[i]] == NULL)
			continue;
		printf(" --%s ", opt_names[list_opts[i]]);
		text_put_shell(stdout, a->opt[list_opts[i]]);
	}
	printf(" --after %" PRIu64 "\n", next);
}

const struct cmd_entry cmd_sent_entry = {
	.name = "sent",
	.args_min = 1,
	.args_max = 1,
	.opts = OPTS_LIST,
	.usage = "sent MEMBER [--state S] [--priority P] [--older-than "
	    "DURATION] [--limit N] [--after ID]",
	.help = "Lists the invitations MEMBER sent, newest first, as MEMBER "
	    "sees them (an ignored one looks pending). --state keeps those in "
	    "state S (pending, accepted, ignored, withdrawn, expired), "
	    "--priority those of priority P (high, medium, low), --older-than "
	    "those sent at least DURATION ago (90s, 30m, 12h, 21d, 3w). At "
	    "most N are listed (default 50); when there are more, the last "
	    "line says how to see the next page, which starts --after the "
	    "last ID looked at.",
	.exec = cmd_list_exec
};

const struct cmd_entry cmd_received_entry = {
	.name = "received",
	.args_min = 1,
	.args_max = 1,
	.opts = OPTS_LIST,
	.usage = "received MEMBER [--state S] [--priority P] [--older-than "
	    "DURATION] [--limit N] [--after ID]",
	.help = "Lists the invitations sent to MEMBER, newest first, leaving "
	    "out those MEMBER ignored, those held for MEMBER (see `connreq "
	    "held`) and those withdrawn. The options are those of `connreq "
	    "sent`.",
	.exec = cmd_list_exec
};

const struct cmd_entry cmd_ignored_entry = {
	.name = "ignored",
	.args_min = 1,
	.args_max = 1,
	.opts = OPTS_LIST,
	.usage = "ignored MEMBER [--state S] [--priority P] [--older-than "
	    "DURATION] [--limit N] [--after ID]",
	.help = "Lists the invitations MEMBER ignored or reported, newest "
	    "first, those that expired since too. One still open can be "
	    "accepted, reported or put back in the received list (`connreq "
	    "unignore`). The options are those of `connreq received`.",
	.exec = cmd_list_exec
};

const struct cmd_entry cmd_held_entry = {
	.name = "held",
	.args_min = 1,
	.args_max = 1,
	.opts = OPTS_LIST,
	.usage = "held MEMBER [--state S] [--priority P] [--older-than "
	    "DURATION] [--limit N] [--after ID]",
	.help = "Lists the invitations held for MEMBER by MEMBER's filters "
	    "(`connreq settings`), newest first: MEMBER was not told of them, "
	    "and their senders see them pending as any other. MEMBER may "
	    "accept, ignore or report them. The options are those of `connreq "
	    "received`.",
	.exec = cmd_list_exec
};

/* sent, received, ignored and held. */
static int
cmd_list_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	msgpack_packer *pk;
	uint64_t after = 0;

	if (a->opt[OPT_AFTER] != NULL && !parse_number(a->opt[OPT_AFTER],
	    &after))
		return cmd_usage_error(ctx->entry,
		    "--after: not an invitation id: %s", a->opt[OPT_AFTER]);
	pk = cr_request(ctx->client, METHOD(INVITE_LIST));
	msgpack_pack_map(pk, 2 + (a->opt[OPT_STATE] != NULL) +
	    (a->opt[OPT_PRIORITY] != NULL) + (a->opt[OPT_OLDER_THAN] != NULL) +
	    (a->opt[OPT_LIMIT] != NULL) + (a->opt[OPT_AFTER] != NULL));
	pk_kstr(pk, "member", a->argv[0]);
	pk_kstr(pk, "box", list_box(ctx));
	if (a->opt[OPT_STATE] != NULL)
		pk_kstr(pk, "state", a->opt[OPT_STATE]);
	if (a->opt[OPT_PRIORITY] != NULL)
		pk_kstr(pk, "priority", a->opt[OPT_PRIORITY]);
	if (a->opt[OPT_OLDER_THAN] != NULL)
		pk_kuint(pk, "older_than", a->older_than);
	if (a->opt[OPT_LIMIT] != NULL)
		pk_kuint(pk, "limit", a->limit);
	if (a->opt[OPT_AFTER] != NULL)
		pk_kuint(pk, "after", after);
	return call_print(ctx, a, cmd_list_print);
}

static void
cmd_history_print(struct cmd_ctx *ctx, const struct cmd_args *a,
    const msgpack_object *result)
{
	const msgpack_object *items = obj_items(result);

	if (items == NULL || items->via.array.size == 0)
		printf("no invitations between %s and %s\n", a->argv[0],
		    a->argv[1]);
	else
		out_invitations(ctx, items);
}

const struct cmd_entry cmd_history_entry = {
	.name = "history",
	.args_min = 2,
	.args_max = 2,
	.usage = "history A B",
	.help = "Lists every invitation between A and B, in either direction, "
	    "oldest first, as A sees them.",
	.exec = cmd_history_exec
};

static int
cmd_history_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	msgpack_packer *pk;

	pk = cr_request(ctx->client, METHOD(INVITE_HISTORY));
	msgpack_pack_map(pk, 2);
	pk_kstr(pk, "a", a->argv[0]);
	pk_kstr(pk, "b", a->argv[1]);
	return call_print(ctx, a, cmd_history_print);
}

static void
cmd_advise_print(struct cmd_ctx *ctx, const struct cmd_args *a,
    const msgpack_object *result)
{
	static const char *const head[] = {
		"ID", "TO", "AGE", "PRIORITY", "ADVICE", "REASON"
	};
	const msgpack_object *items, *o;
	struct table t;
	struct text to, prio, advice, reason;
	uint64_t id, age, withdraw = 0;
	char buf[32];
	size_t i;
	uint32_t k;

	if ((items = obj_items(result)) == NULL ||
	    items->via.array.size == 0) {
		fputs("nothing to advise: ", stdout);
		text_put(stdout, a->argv[0], strlen(a->argv[0]));
		puts(" has no pending invitations");
		return;
	}
	table_init(&t, 6, head);
	t.names = 1u << 1;
	for (k = 0; k < items->via.array.size; k++) {
		o = &items->via.array.ptr[k];
		obj_uint(o, "id", &id);
		obj_text(o, "to", &to);
		obj_uint(o, "age", &age);
		obj_text(o, "priority", &prio);
		obj_text(o, "advice", &advice);
		obj_text(o, "reason", &reason);
		table_addf(&t, "%" PRIu64, id);
		table_add(&t, to.p, to.n, 0);
		if (age < 60)
			snprintf(buf, sizeof buf, "just now");
		else
			duration_short(age, buf, sizeof buf);
		table_add(&t, buf, strlen(buf), 0);
		table_add(&t, prio.p, prio.n, 0);
		/* let_expire: "let expire" */
		snprintf(buf, sizeof buf, "%.*s", (int)advice.n, advice.p);
		for (i = 0; buf[i] != '\0'; i++)
			if (buf[i] == '_')
				buf[i] = ' ';
		table_add(&t, buf, strlen(buf), 0);
		table_add(&t, reason.p, reason.n, 0);
		if (text_is(advice, proto_advice_words[ADV_WITHDRAW]))
			withdraw++;
	}
	t.fit_min = 12;
	t.fit_always = true;
	table_print(&t);
	table_free(&t);
	if (withdraw > 0) {
		putchar('`');
		hint_connreq(stdout, ctx);
		fputs("cleanup ", stdout);
		text_put_shell(stdout, a->argv[0]);
		if (withdraw == 1)
			puts("` withdraws the one marked");
		else
			printf("` withdraws the %" PRIu64 " marked, a few a "
			    "day\n", withdraw);
	}
}

const struct cmd_entry cmd_advise_entry = {
	.name = "advise",
	.args_min = 1,
	.args_max = 1,
	.usage = "advise MEMBER",
	.help = "Advice on each invitation MEMBER sent that is still pending, "
	    "and on the withdrawn ones worth sending again, as a table: wait "
	    "(pending less than 14 days), withdraw (older, of medium or low "
	    "priority), let expire (older, high priority), stop (an earlier "
	    "invitation to the same member expired), resend (high priority, "
	    "withdrawn, its cooldown over), each with its reason, cut to the "
	    "terminal's width.",
	.exec = cmd_advise_exec
};

static int
cmd_advise_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	msgpack_packer *pk;

	pk = cr_request(ctx->client, METHOD(INVITE_ADVISE));
	msgpack_pack_map(pk, 1);
	pk_kstr(pk, "member", a->argv[0]);
	return call_print(ctx, a, cmd_advise_print);
}
