/* client/cli.c: connreq, the command-line client of connreqd.
 *
 *   connreq [-s SOCKET] [--json] COMMAND [ARGUMENTS] [OPTIONS]
 *
 * One table of commands, as in tmux: each entry, in a cmd-*.c file beside
 * the function that runs it, gives the command's name, how many arguments
 * it takes, which options, its usage line, a paragraph of help and that
 * function. main() reads the global options, finds the entry, parses the
 * rest of the line against it (options may follow the arguments), connects
 * and calls the entry's exec function, which makes one request and prints
 * the result: as text for people, or with --json as the result map.
 * `watch` is the one that stays: it subscribes to an event feed and prints
 * events until it is stopped, reconnecting when connreqd goes away.
 *
 * Times are shown relative to the daemon's clock (server.info's "now"), not
 * this machine's: the daemon may run on a virtual clock.
 *
 * Exit status: 0 done, 1 refused by the daemon (a rule, or not found),
 * 2 usage error (the daemon's INVALID_ARGUMENT too), 3 connreqd cannot be
 * reached, 4 its database is unavailable. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

#define EXIT_HELPED (-1)	/* cmd_parse(): help was printed */

const char *const opt_names[OPT_COUNT] = {
	"note", "priority", "as", "state", "older-than", "limit", "after",
	"exec", "all", "email", "expires-in", "window", "per-day",
	"max-priority", "from", "reason", "tell", "asked",
	"auto-min-mutual", "auto-for", "hold-no-mutual", "hold-low-health",
	"hold-restricted-days", "hold-new-member-days", "digest", "yes"
};

/* The commands, in the order `connreq help` lists them. */
static const struct cmd_entry *const cmd_table[] = {
	&cmd_send_entry,
	&cmd_can_send_entry,
	&cmd_accept_entry,
	&cmd_ignore_entry,
	&cmd_unignore_entry,
	&cmd_withdraw_entry,
	&cmd_resend_entry,
	&cmd_report_entry,
	&cmd_show_entry,
	&cmd_sent_entry,
	&cmd_received_entry,
	&cmd_ignored_entry,
	&cmd_held_entry,
	&cmd_history_entry,
	&cmd_advise_entry,
	&cmd_cleanup_entry,
	&cmd_plans_entry,
	&cmd_plan_cancel_entry,
	&cmd_intro_ask_entry,
	&cmd_intro_forward_entry,
	&cmd_intro_decline_entry,
	&cmd_intros_entry,
	&cmd_stats_entry,
	&cmd_connections_entry,
	&cmd_mutual_entry,
	&cmd_disconnect_entry,
	&cmd_auto_accept_entry,
	&cmd_no_auto_accept_entry,
	&cmd_block_entry,
	&cmd_unblock_entry,
	&cmd_settings_entry,
	&cmd_info_entry,
	&cmd_clock_entry,
	&cmd_backup_entry,
	&cmd_metrics_entry,
	&cmd_export_entry,
	&cmd_erase_entry,
	&cmd_watch_entry,
	&cmd_help_entry,
	&cmd_version_entry,
	&cmd_call_entry,
	&cmd_import_entry,
};
#define CMD_COUNT (sizeof cmd_table / sizeof cmd_table[0])

/* ---- Command line ---- */

const struct cmd_entry *
cmd_find(const char *name)
{
	size_t i;

	for (i = 0; i < CMD_COUNT; i++)
		if (strcmp(cmd_table[i]->name, name) == 0)
			return cmd_table[i];
	return NULL;
}

/* The edit distance between a and b: insertions, deletions, substitutions
 * and swaps of two neighbours (optimal string alignment), each 1; at most
 * CMD_NAME_MAX + 1 (longer strings count as that far apart). */
#define CMD_NAME_MAX 32
static size_t
edit_distance(const char *a, const char *b)
{
	size_t d[CMD_NAME_MAX + 1][CMD_NAME_MAX + 1], la, lb, i, j, v;

	la = strlen(a);
	lb = strlen(b);
	if (la > CMD_NAME_MAX || lb > CMD_NAME_MAX)
		return CMD_NAME_MAX + 1;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++)
		for (j = 1; j <= lb; j++) {
			v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[la][lb];
}

/* The command closest to name, when it is close: within one edit for a
 * short name, a third of its length for a longer one. NULL: none. */
static const struct cmd_entry *
cmd_near(const char *name)
{
	const struct cmd_entry *best = NULL;
	size_t i, d, bestd, len = strlen(name);

	bestd = len / 3 > 1 ? len / 3 : 1;
	for (i = 0; i < CMD_COUNT; i++) {
		d = edit_distance(name, cmd_table[i]->name);
		if (d <= bestd && (best == NULL || d < bestd)) {
			best = cmd_table[i];
			bestd = d;
		}
	}
	return best;
}

/* The protocol method a `connreq call` name that connreqd does not know
 * probably meant: the one whose last part it is ("send": invite.send,
 * when only one ends so), else the closest within a third of its length
 * ("invite_send", "invite.sned"). NULL: none. */
const char *
method_near(const char *name)
{
	const char *best = NULL, *dot;
	size_t i, d, bestd, len = strlen(name), hits = 0;

	for (i = 0; i < PM_COUNT; i++) {
		dot = strrchr(proto_method_names[i], '.');
		if (dot != NULL && strcmp(dot + 1, name) == 0) {
			best = proto_method_names[i];
			hits++;
		}
	}
	if (hits == 1)
		return best;
	best = NULL;
	bestd = len / 3 > 1 ? len / 3 : 1;
	for (i = 0; i < PM_COUNT; i++) {
		d = edit_distance(name, proto_method_names[i]);
		if (d <= bestd && (best == NULL || d < bestd)) {
			best = proto_method_names[i];
			bestd = d;
		}
	}
	return best;
}

/* Reports an unknown command name, with the one it is close to if any;
 * returns EXIT_USAGE. what: "" or "help: ". */
int
cmd_unknown(const char *what, const char *name)
{
	const struct cmd_entry *e = cmd_near(name);

	if (e == NULL)
		return cmd_usage_error(NULL, "%sunknown command: %s", what,
		    name);
	fprintf(stderr, "connreq: %sunknown command '%s'; did you mean "
	    "'%s'?\n", what, name, e->name);
	return EXIT_USAGE;
}

void
cmd_put_help(FILE *f, const struct cmd_entry *e)
{
	text_put_usage(f, "usage: connreq ", e->usage);
	fputc('\n', f);
	text_put_wrapped(f, e->help, 0);
}

void
cmd_put_list(FILE *f)
{
	char *sock = path_default_socket();
	size_t i;

	fputs("usage: connreq [-s SOCKET] [--json] [--local] COMMAND [ARGUMENTS]\n"
	    "\n"
	    "Sends, answers and lists connection requests (invitations) and\n"
	    "connections, kept by connreqd.\n"
	    "\n"
	    "Commands:\n", f);
	for (i = 0; i < CMD_COUNT; i++)
		text_put_usage(f, "  ", cmd_table[i]->usage);
	fprintf(f, "\n"
	    "Options:\n"
	    "  -s, --socket SOCKET  connreqd's socket; without it $CONNREQ_SOCKET,\n"
	    "                       or the default:\n"
	    "                       %s\n"
	    "      --json           print the result, or a refusal's error map, as\n"
	    "                       one JSON object on stdout (watch: one per\n"
	    "                       event, a line each); usage errors and an\n"
	    "                       unreachable daemon go to stderr as text\n"
	    "      --local          dates in local time (the zone of $TZ, else\n"
	    "                       the system's), not in UTC\n"
	    "  -h, --help           this text\n"
	    "  -V, --version        connreq's version and connreqd's (`connreq\n"
	    "                       version`)\n"
	    "-s, --json and --local may also follow the command.\n"
	    "\n"
	    "`connreq help COMMAND` or `connreq COMMAND --help` explains a command.\n"
	    "Exit status: 0 done, 1 refused by a rule or not found, 2 usage\n"
	    "error (connreqd's INVALID_ARGUMENT too), 3 connreqd cannot be\n"
	    "reached, 4 its database is unavailable (connreqd --postgres:\n"
	    "UNAVAILABLE; try again).\n", sock);
	free(sock);
}

/* Reports a mistake on the command line with the command's usage; returns
 * EXIT_USAGE. */
int
cmd_usage_error(const struct cmd_entry *e, const char *fmt, ...)
{
	va_list ap;

	fputs("connreq: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (e != NULL)
		text_put_usage(stderr, "usage: connreq ", e->usage);
	else
		fputs("usage: connreq [-s SOCKET] [--json] [--local] COMMAND [ARGUMENTS]\n"
		    "       (`connreq help` lists the commands)\n", stderr);
	return EXIT_USAGE;
}

/* A whole non-negative decimal number, nothing before or after. */
bool
parse_number(const char *s, uint64_t *v)
{
	unsigned long long n;
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return false;
	*v = n;
	return true;
}

static bool
parse_word(const char *s, const char *const *words)
{
	for (; *words != NULL; words++)
		if (strcmp(s, *words) == 0)
			return true;
	return false;
}

/* Checks the values of the options given. */
static int
cmd_check_opts(const struct cmd_entry *e, struct cmd_args *a)
{
	const char *v;
	uint64_t n;
	int o;

	if ((v = a->opt[OPT_PRIORITY]) != NULL &&
	    !parse_word(v, proto_priority_words))
		return cmd_usage_error(e,
		    "--priority: not high, medium or low: %s", v);
	if ((v = a->opt[OPT_STATE]) != NULL && !parse_word(v, proto_state_words))
		return cmd_usage_error(e, "--state: not pending, accepted, "
		    "ignored, withdrawn or expired: %s", v);
	if ((v = a->opt[OPT_OLDER_THAN]) != NULL &&
	    duration_parse(v, &a->older_than) != 0)
		return cmd_usage_error(e, "--older-than: not a duration "
		    "(such as 90s, 30m, 12h, 21d, 3w): %s", v);
	if ((v = a->opt[OPT_LIMIT]) != NULL && !parse_number(v, &a->limit))
		return cmd_usage_error(e, "--limit: not a number: %s", v);
	if ((v = a->opt[OPT_EXPIRES_IN]) != NULL &&
	    (duration_parse(v, &a->expires_in) != 0 || a->expires_in == 0))
		return cmd_usage_error(e, "--expires-in: not a duration "
		    "(such as 12h, 30d, 3w): %s", v);
	if ((v = a->opt[OPT_WINDOW]) != NULL &&
	    (duration_parse(v, &a->window) != 0 || a->window == 0))
		return cmd_usage_error(e, "--window: not a duration "
		    "(such as 7d, 30d, 12w): %s", v);
	if ((v = a->opt[OPT_PER_DAY]) != NULL &&
	    (!parse_number(v, &a->per_day) || a->per_day == 0))
		return cmd_usage_error(e, "--per-day: not a number from 1: %s",
		    v);
	if ((v = a->opt[OPT_MAX_PRIORITY]) != NULL &&
	    !parse_word(v, proto_priority_words))
		return cmd_usage_error(e,
		    "--max-priority: not high, medium or low: %s", v);
	if ((v = a->opt[OPT_FROM]) != NULL &&
	    !parse_word(v, proto_invite_from_words))
		return cmd_usage_error(e,
		    "--from: not everyone, email or nobody: %s", v);
	if ((v = a->opt[OPT_REASON]) != NULL &&
	    !parse_word(v, proto_report_reason_words))
		return cmd_usage_error(e,
		    "--reason: not dont_know or spam: %s", v);
	if ((v = a->opt[OPT_AUTO_MIN_MUTUAL]) != NULL &&
	    !parse_number(v, &a->auto_min_mutual))
		return cmd_usage_error(e, "--auto-min-mutual: not a number: %s",
		    v);
	if ((v = a->opt[OPT_AUTO_FOR]) != NULL && strcmp(v, "0") != 0 &&
	    (duration_parse(v, &a->auto_for) != 0 || a->auto_for == 0))
		return cmd_usage_error(e, "--auto-for: not a duration "
		    "(such as 12h, 30d, 3w) nor 0: %s", v);
	if ((v = a->opt[OPT_DIGEST]) != NULL && strcmp(v, "off") != 0 &&
	    strcmp(v, "default") != 0 && duration_parse(v, &a->digest) != 0)
		return cmd_usage_error(e, "--digest: not a duration (such as "
		    "12h, 1d, 1w), off or default: %s", v);
	if ((v = a->opt[OPT_EMAIL]) != NULL && strchr(v, '@') == NULL)
		return cmd_usage_error(e, "--email: not an address: %s", v);
	for (o = OPT_HOLD_NO_MUTUAL; o <= OPT_HOLD_LOW_HEALTH; o++)
		if ((v = a->opt[o]) != NULL && strcmp(v, "yes") != 0 &&
		    strcmp(v, "no") != 0 && strcmp(v, "default") != 0)
			return cmd_usage_error(e,
			    "--%s: not yes, no or default: %s", opt_names[o],
			    v);
	for (o = OPT_HOLD_RESTRICTED_DAYS; o <= OPT_HOLD_NEW_MEMBER_DAYS; o++)
		if ((v = a->opt[o]) != NULL && strcmp(v, "default") != 0 &&
		    !parse_number(v, &n))
			return cmd_usage_error(e,
			    "--%s: not a number of days or default: %s",
			    opt_names[o], v);
	return 0;
}

/* Parses what follows the command's name: its arguments, its options
 * (--name VALUE or --name=VALUE, or --name alone for a flag, anywhere; "--"
 * ends them), connreq's own -s, --json and --local, and -h/--help. 0, EXIT_USAGE (reported) or EXIT_HELPED. */
static int
cmd_parse(struct cmd_ctx *ctx, const struct cmd_entry *e, int argc,
    char **argv, struct cmd_args *a)
{
	const char *arg, *eq, *value;
	bool options = true;
	size_t len;
	int i, o;

	memset(a, 0, sizeof *a);
	for (i = 0; i < argc; i++) {
		arg = argv[i];
		if (options && strcmp(arg, "--") == 0) {
			options = false;
			continue;
		}
		if (!options || arg[0] != '-' || arg[1] == '\0') {
			if (a->argc == e->args_max)
				return cmd_usage_error(e,
				    "%s: too many arguments", e->name);
			a->argv[a->argc++] = arg;
			continue;
		}
		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			cmd_put_help(stdout, e);
			return EXIT_HELPED;
		}
		if (strcmp(arg, "--json") == 0) {
			ctx->json = true;
			continue;
		}
		if (strcmp(arg, "--local") == 0) {
			time_use_local();
			continue;
		}
		/* connreq's own -s, after the command as before it. */
		if (strcmp(arg, "-s") == 0 || strcmp(arg, "--socket") == 0) {
			if (++i == argc)
				return cmd_usage_error(e, "%s needs a value",
				    arg);
			ctx->socket_flag = argv[i];
			continue;
		}
		if (strncmp(arg, "--socket=", 9) == 0) {
			ctx->socket_flag = arg + 9;
			continue;
		}
		if (strncmp(arg, "-s", 2) == 0) {
			ctx->socket_flag = arg + 2;
			continue;
		}
		if (arg[1] != '-')
			return cmd_usage_error(e, "%s: unknown option: %s",
			    e->name, arg);
		eq = strchr(arg + 2, '=');
		len = eq ? (size_t)(eq - (arg + 2)) : strlen(arg + 2);
		for (o = 0; o < OPT_COUNT; o++)
			if ((e->opts & OPT_BIT(o)) &&
			    strlen(opt_names[o]) == len &&
			    memcmp(opt_names[o], arg + 2, len) == 0)
				break;
		if (o == OPT_COUNT)
			return cmd_usage_error(e, "%s: unknown option: %.*s",
			    e->name, (int)(len + 2), arg);
		if (OPTS_FLAG & OPT_BIT(o)) {
			if (eq != NULL)
				return cmd_usage_error(e,
				    "--%s takes no value", opt_names[o]);
			a->opt[o] = "";
			continue;
		}
		if (eq != NULL)
			value = eq + 1;
		else if (i + 1 < argc)
			value = argv[++i];
		else
			return cmd_usage_error(e, "--%s needs a value",
			    opt_names[o]);
		a->opt[o] = value;
	}
	if (a->argc < e->args_min)
		return cmd_usage_error(e, "%s: %s", e->name,
		    a->argc == 0 ? "missing arguments" : "too few arguments");
	return cmd_check_opts(e, a);
}

/* An invitation id argument. */
int
cmd_id(const struct cmd_entry *e, const char *s, uint64_t *id)
{
	if (!parse_number(s, id))
		return cmd_usage_error(e, "not an invitation id: %s", s);
	return 0;
}

/* ---- Talking to connreqd ---- */

/* What to do about a refusal or a warning of code, where there is
 * something to say. */
void
call_hint(const struct cmd_ctx *ctx, const char *code)
{
	if ((strcmp(code, proto_code_name(PE_PENDING_CAP)) == 0 ||
	    strcmp(code, proto_warning_codes[PW_PENDING_WARN]) == 0) &&
	    ctx->sender != NULL) {
		fputs("connreq: `", stderr);
		hint_connreq(stderr, ctx);
		fputs("advise ", stderr);
		text_put_shell(stderr, ctx->sender);
		fputs("` says which to withdraw\n", stderr);
	} else if (strcmp(code, proto_code_name(PE_UNAVAILABLE)) == 0) {
		fputs("connreq: connreqd is up but cannot use its database "
		    "(connreqd --postgres): nothing was done unless the "
		    "message says it may have been; its log says why\n",
		    stderr);
	} else if (strcmp(code, proto_code_name(PE_EMAIL_REQUIRED)) == 0) {
		if (ctx->entry == &cmd_send_entry ||
		    ctx->entry == &cmd_can_send_entry ||
		    ctx->entry == &cmd_resend_entry)
			fputs("connreq: give their email address with "
			    "--email ADDR\n", stderr);
	}
}

/* Reports a refusal: on stderr, and with --json the error map on stdout. */
void
call_refused(struct cmd_ctx *ctx, const struct cr_reply *r)
{
	char in[32], date[48];

	fprintf(stderr, "connreq: %s: ", r->code[0] ? r->code : "ERROR");
	text_put(stderr, r->message, strlen(r->message));
	fputc('\n', stderr);
	if (r->retry_at > 0) {
		time_put_in(ctx_now(ctx), r->retry_at, in, sizeof in);
		time_put_date(r->retry_at, date, sizeof date);
		if (r->retry_at <= ctx_now(ctx))
			fprintf(stderr, "connreq: you may try again now\n");
		else
			fprintf(stderr, "connreq: you may try again %s (%s)\n",
			    in, date);
	}
	call_hint(ctx, r->code);
	/* settings --from email for a member with no email on file (the
	 * daemon's words, rules.c; tests/cli.sh holds them to it). */
	if (ctx->entry == &cmd_settings_entry &&
	    strstr(r->message, "needs the member's email") != NULL)
		fputs("connreq: give it with --email ADDR\n", stderr);
	if (ctx->json) {
		cr_json_print(stdout, r->error);
		putchar('\n');
	}
}

/* The exit status of an error of code: EXIT_USAGE for INVALID_ARGUMENT (a
 * bad argument the daemon found), EXIT_UNAVAILABLE for UNAVAILABLE,
 * EXIT_REFUSED for the others (a rule said no, or not found). */
int
call_exit_status(const char *code)
{
	if (strcmp(code, proto_code_name(PE_INVALID_ARGUMENT)) == 0)
		return EXIT_USAGE;
	if (strcmp(code, proto_code_name(PE_UNAVAILABLE)) == 0)
		return EXIT_UNAVAILABLE;
	return EXIT_REFUSED;
}

/* Sends the request packed after cr_request() and waits for its answer:
 * 0, or EXIT_UNREACHABLE when the connection failed (reported; r freed). */
static int
call_wait(struct cmd_ctx *ctx, struct cr_reply *r)
{
	if (cr_finish(ctx->client, r) == 0)
		return 0;
	cr_reply_free(r);
	fprintf(stderr, "connreq: lost connreqd at %s: %s\n", ctx->socket,
	    cr_strerror(ctx->client));
	return EXIT_UNREACHABLE;
}

/* What call_finish() makes of an answer. */
static int
call_reply(struct cmd_ctx *ctx, struct cr_reply *r)
{
	if (r->error != NULL) {
		int rc = call_exit_status(r->code);

		call_refused(ctx, r);
		cr_reply_free(r);
		return rc;
	}
	if (r->result == NULL || r->result->type != MSGPACK_OBJECT_MAP) {
		cr_reply_free(r);
		fprintf(stderr, "connreq: connreqd sent an unexpected reply\n");
		return EXIT_REFUSED;
	}
	return 0;
}

/* Sends the request packed after cr_request() and waits for its answer.
 * 0 with r holding a result map; otherwise the failure is reported, r is
 * freed, and the exit status is returned. */
int
call_finish(struct cmd_ctx *ctx, struct cr_reply *r)
{
	int rc;

	if ((rc = call_wait(ctx, r)) != 0)
		return rc;
	return call_reply(ctx, r);
}

/* As call_finish(), then the result printed as JSON on a line: EXIT_DONE,
 * or call_finish()'s exit status. */
int
call_print_json(struct cmd_ctx *ctx)
{
	struct cr_reply r;
	int rc;

	if ((rc = call_finish(ctx, &r)) != 0)
		return rc;
	cr_json_print(stdout, r.result);
	putchar('\n');
	cr_reply_free(&r);
	return EXIT_DONE;
}

/* As call_finish(), but an error of code is not a failure: 0 with r->error
 * set, not reported, for the caller to deal with. */
int
call_finish_unless(struct cmd_ctx *ctx, struct cr_reply *r,
    enum proto_code code)
{
	int rc;

	if ((rc = call_wait(ctx, r)) != 0)
		return rc;
	if (r->error != NULL && strcmp(r->code, proto_code_name(code)) == 0)
		return 0;
	return call_reply(ctx, r);
}

/* Reports the warnings a result carries (a send or a resend passed with
 * them), on stderr: "connreq: warning: CODE: message". */
static void
call_warnings(struct cmd_ctx *ctx, const msgpack_object *result)
{
	const msgpack_object *w = cr_get(result, "warnings"), *el;
	struct text code, message;
	char buf[32];
	uint32_t i;

	if (w == NULL || w->type != MSGPACK_OBJECT_ARRAY)
		return;
	fflush(stdout);		/* after the invitation, on a terminal */
	for (i = 0; i < w->via.array.size; i++) {
		el = &w->via.array.ptr[i];
		obj_text(el, "code", &code);
		obj_text(el, "message", &message);
		fputs("connreq: warning: ", stderr);
		text_put(stderr, code.p, code.n);
		fputs(": ", stderr);
		text_put(stderr, message.p, message.n);
		fputc('\n', stderr);
		snprintf(buf, sizeof buf, "%.*s", (int)code.n, code.p);
		call_hint(ctx, buf);
	}
}

/* The end of most commands: sends the request packed after cr_request(),
 * waits for its answer and prints its result, with --json as JSON, else
 * with print, then the warnings it carries (on stderr), and frees it.
 * Returns the exit status: EXIT_DONE, or that of a failure (reported). */
int
call_print(struct cmd_ctx *ctx, const struct cmd_args *a, cmd_print_fn *print)
{
	struct cr_reply r;
	int rc;

	if ((rc = call_finish(ctx, &r)) != 0)
		return rc;
	if (!out_json(ctx, &r))
		print(ctx, a, r.result);
	call_warnings(ctx, r.result);
	cr_reply_free(&r);
	return EXIT_DONE;
}

/* server.info's result, asked once and kept until the end; NULL when
 * connreqd cannot say. */
static const msgpack_object *
ctx_info(struct cmd_ctx *ctx)
{
	if (!ctx->have_info) {
		ctx->have_info = true;
		cr_request(ctx->client, METHOD(SERVER_INFO));
		if (cr_finish(ctx->client, &ctx->info) != 0)
			return NULL;
	}
	return ctx->info.error == NULL ? ctx->info.result : NULL;
}

/* The daemon's clock, asked once (this machine's, when it cannot say). */
int64_t
ctx_now(struct cmd_ctx *ctx)
{
	int64_t v;

	if (ctx->have_now)
		return ctx->now;
	ctx->have_now = true;
	ctx->now = (int64_t)time(NULL);
	if (obj_int(ctx_info(ctx), "now", &v))
		ctx->now = v;
	return ctx->now;
}

/* A number in server.info's policy map; false when it is not there. */
bool
ctx_policy(struct cmd_ctx *ctx, const char *key, uint64_t *v)
{
	return obj_uint(cr_get(ctx_info(ctx), "policy"), key, v);
}

/* ---- main ---- */

/* Says which socket failed and how to start the daemon; or, when the
 * socket is not the user's own (untrusted: cr_connect's EPERM), why it was
 * refused. */
static void
main_unreachable(const struct cmd_ctx *ctx, const char *err, bool untrusted)
{
	const char *env = getenv("CONNREQ_SOCKET");

	if (untrusted) {
		fprintf(stderr, "connreq: not connecting: %s\n", err);
		fputs("connreq: only a socket in a directory of your own (or "
		    "root's) that others cannot write, served by you or root, is "
		    "trusted\n", stderr);
		return;
	}
	fprintf(stderr, "connreq: connreqd cannot be reached: %s\n", err);
	if (ctx->socket_flag == NULL && (env == NULL || env[0] == '\0')) {
		fputs("connreq: is it running? start it with `connreqd`, with "
		    "`systemctl --user start connreqd.socket` once installed, or "
		    "with `make run` in a checkout\n", stderr);
		return;
	}
	fputs("connreq: is it running? start it with `connreqd -s ", stderr);
	text_put_shell(stderr, ctx->socket);
	fprintf(stderr, "` (the socket %s names)\n",
	    ctx->socket_flag != NULL ? "-s" : "$CONNREQ_SOCKET");
}

int
main(int argc, char **argv)
{
	struct cmd_ctx ctx;
	struct cmd_args a;
	const struct cmd_entry *e;
	char *sock = NULL, err[512];
	const char *arg;
	bool version = false;
	int i, rc;

	log_prog = "connreq";
	memset(&ctx, 0, sizeof ctx);
	for (i = 1; i < argc; i++) {
		arg = argv[i];
		if (strcmp(arg, "--") == 0) {
			i++;
			break;
		}
		if (arg[0] != '-' || arg[1] == '\0')
			break;
		if (strcmp(arg, "-s") == 0 || strcmp(arg, "--socket") == 0) {
			if (++i == argc)
				return cmd_usage_error(NULL, "%s needs a value",
				    arg);
			ctx.socket_flag = argv[i];
		} else if (strncmp(arg, "--socket=", 9) == 0)
			ctx.socket_flag = arg + 9;
		else if (strncmp(arg, "-s", 2) == 0)
			ctx.socket_flag = arg + 2;
		else if (strcmp(arg, "--json") == 0)
			ctx.json = true;
		else if (strcmp(arg, "--local") == 0)
			time_use_local();
		else if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			cmd_put_list(stdout);
			return EXIT_DONE;
		} else if (strcmp(arg, "-V") == 0 ||
		    strcmp(arg, "--version") == 0)
			version = true;
		else
			return cmd_usage_error(NULL, "unknown option: %s", arg);
	}
	if (version) {
		/* -V: `connreq version`, with the -s and --json given. */
		if (i < argc)
			return cmd_usage_error(NULL, "%s: nothing may follow "
			    "--version", argv[i]);
		e = &cmd_version_entry;
	} else if (i == argc) {
		cmd_put_list(stderr);
		return EXIT_USAGE;
	} else if ((e = cmd_find(argv[i])) == NULL)
		return cmd_unknown("", argv[i]);
	ctx.entry = e;
	rc = cmd_parse(&ctx, e, version ? 0 : argc - i - 1, argv + i + 1, &a);
	if (rc == EXIT_HELPED)
		return EXIT_DONE;
	if (rc != 0)
		return rc;
	if (e->check != NULL && (rc = e->check(e, &a)) != 0)
		return rc;

	if (!(e->flags & CMD_OFFLINE)) {
		if (ctx.socket_flag != NULL && ctx.socket_flag[0] == '\0')
			return cmd_usage_error(NULL, "-s: an empty socket path");
		ctx.socket = ctx.socket_flag;
		if (ctx.socket == NULL)
			ctx.socket = sock = cr_default_socket();
		ctx.client = cr_connect(ctx.socket, err, sizeof err);
		if (ctx.client == NULL && (e->flags & CMD_TRY_DAEMON))
			ctx.connect_err = err;
		else if (ctx.client == NULL) {
			main_unreachable(&ctx, err, errno == EPERM);
			free(sock);
			return EXIT_UNREACHABLE;
		}
	}
	rc = e->exec(&ctx, &a);
	if (ctx.have_info)
		cr_reply_free(&ctx.info);
	cr_close(ctx.client);
	free(sock);
	/* Output that could not be written is a failure too. */
	if (fflush(stdout) == EOF && rc == EXIT_DONE) {
		fprintf(stderr, "connreq: stdout: %s\n", strerror(errno));
		rc = EXIT_REFUSED;
	}
	return rc;
}
