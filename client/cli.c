/* client/cli.c: connreq, the command-line client of connreqd.
 *
 *   connreq [-s SOCKET] [--json] COMMAND [ARGUMENTS] [OPTIONS]
 *
 * One static table of commands, as in tmux: each entry gives the command's
 * name, how many arguments it takes, which options, its usage line, a
 * paragraph of help and the function that runs it. main() reads the global
 * options, finds the entry, parses the rest of the line against it
 * (options may follow the arguments), connects and calls the entry's exec
 * function, which makes one request and prints the result: as text for
 * people, or with --json as the result map. `watch` is the one that stays:
 * it subscribes to an event feed and prints events until it is stopped,
 * reconnecting when connreqd goes away.
 *
 * Times are shown relative to the daemon's clock (server.info's "now"), not
 * this machine's: the daemon may run on a virtual clock.
 *
 * Exit status: 0 done, 1 refused by the daemon (a rule), 2 usage error,
 * 3 connreqd cannot be reached. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../common/util.h"
#include "../proto/proto.h"
#include "connreq.h"

#define EXIT_DONE 0
#define EXIT_REFUSED 1
#define EXIT_USAGE 2
#define EXIT_UNREACHABLE 3
#define EXIT_HELPED (-1)	/* cmd_parse(): help was printed */

#define CMD_ARGS_MAX 3
#define NOTE_COLUMN_MAX 32	/* characters of a note shown in a list */
#define HELP_WIDTH 76

/* The options commands take; all take a value but the flags in
 * OPTS_FLAG. */
enum opt {
	OPT_NOTE,
	OPT_PRIORITY,
	OPT_AS,
	OPT_STATE,
	OPT_OLDER_THAN,
	OPT_LIMIT,
	OPT_AFTER,
	OPT_EXEC,
	OPT_ALL,
	OPT_EMAIL,
	OPT_EXPIRES_IN,
	OPT_WINDOW,
	OPT_PER_DAY,
	OPT_MAX_PRIORITY,
	OPT_FROM,
	OPT_REASON,
	OPT_COUNT
};
#define OPT_BIT(o) (1u << (o))
#define OPTS_LIST (OPT_BIT(OPT_STATE) | OPT_BIT(OPT_PRIORITY) | \
    OPT_BIT(OPT_OLDER_THAN) | OPT_BIT(OPT_LIMIT) | OPT_BIT(OPT_AFTER))
#define OPTS_FLAG OPT_BIT(OPT_ALL)	/* given or not; opt[] is "" */

static const char *const opt_names[OPT_COUNT] = {
	"note", "priority", "as", "state", "older-than", "limit", "after",
	"exec", "all", "email", "expires-in", "window", "per-day",
	"max-priority", "from", "reason"
};

/* What the daemon accepts for --priority and --state. */
static const char *const priority_words[] = { "high", "medium", "low", NULL };
static const char *const state_words[] = {
	"pending", "accepted", "ignored", "withdrawn", "expired", NULL
};
/* ... for settings --from and report --reason. */
static const char *const from_words[] = {
	"everyone", "email", "nobody", NULL
};
static const char *const reason_words[] = { "dont_know", "spam", NULL };

/* A command line, parsed against its entry. */
struct cmd_args {
	int argc;
	const char *argv[CMD_ARGS_MAX];
	const char *opt[OPT_COUNT];	/* NULL: not given */
	uint64_t older_than;		/* --older-than, in seconds */
	uint64_t limit;			/* --limit */
	uint64_t expires_in;		/* --expires-in, in seconds */
	uint64_t window;		/* --window, in seconds */
	uint64_t per_day;		/* --per-day */
};

struct cmd_ctx;

#define CMD_OFFLINE 0x1		/* needs no daemon */

struct cmd_entry {
	const char *name;
	int args_min;
	int args_max;
	unsigned opts;		/* OPT_BIT()s */
	int flags;
	const char *usage;	/* after "connreq " */
	const char *help;	/* one paragraph */
	int (*exec)(struct cmd_ctx *, const struct cmd_args *);
};

/* What a command prints of a result map, as text. */
typedef void cmd_print_fn(struct cmd_ctx *, const struct cmd_args *,
    const msgpack_object *);

/* The state of one run. */
struct cmd_ctx {
	const struct cmd_entry *entry;
	struct cr_client *client;
	const char *socket;		/* the socket used */
	const char *socket_flag;	/* -s SOCKET, as given; NULL: none */
	bool json;
	bool have_now;
	int64_t now;			/* the daemon's clock */
	bool have_info;
	struct cr_reply info;		/* server.info, asked once */
	const char *sender;		/* who sends, for hints; NULL: none */
};

/* A string in a reply: not NUL-terminated. */
struct text {
	const char *p;
	size_t n;
};

/* An invitation as the daemon returns it. */
struct inv_view {
	uint64_t id;
	uint64_t resend_of;	/* 0: none */
	uint64_t attempt;
	struct text from, to, note, priority, state;
	int64_t created_at, updated_at, expires_at, reminded_at;
};

static int cmd_send_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_accept_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_ignore_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_withdraw_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_resend_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_show_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_list_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_history_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_connections_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_disconnect_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_info_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_clock_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_watch_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_help_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_can_send_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_report_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_advise_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_cleanup_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_plans_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_plan_cancel_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_stats_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_block_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_unblock_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_settings_exec(struct cmd_ctx *, const struct cmd_args *);

static const struct cmd_entry cmd_table[] = {
	{ "send", 2, 2, OPT_BIT(OPT_NOTE) | OPT_BIT(OPT_PRIORITY) |
	  OPT_BIT(OPT_EMAIL) | OPT_BIT(OPT_EXPIRES_IN), 0,
	  "send FROM TO [--note TEXT] [--priority high|medium|low] "
	  "[--email ADDR] [--expires-in DURATION]",
	  "FROM invites TO to connect, with an optional personal note (at "
	  "most 300 characters by default) and a priority for FROM's own "
	  "bookkeeping (default medium). It is refused when FROM and TO are "
	  "already connected, when an invitation from FROM to TO is already "
	  "pending, during the cooldown after FROM withdrew one, when TO "
	  "blocked FROM or takes no invitations, and beyond the limits: "
	  "sends a week and a day, pending invitations, invitations to the "
	  "same member within a year (`connreq info` shows them, `connreq "
	  "can-send` says whether a send would pass). A member who takes "
	  "invitations only from people who know their email address needs "
	  "--email ADDR. --expires-in sets how long it stays pending "
	  "(default 180d, at most the policy's max expire after). A send "
	  "that passes may carry warnings, printed on stderr: too many "
	  "pending, the same note to many people. When TO has a pending "
	  "invitation to FROM, the two are connected at once.",
	  cmd_send_exec },
	{ "can-send", 2, 2, OPT_BIT(OPT_EMAIL), 0,
	  "can-send FROM TO [--email ADDR]",
	  "Says whether FROM may invite TO now, without sending: yes, or "
	  "the refusal send would meet and, for one that ends (a cooldown, "
	  "a limit, a restriction), when FROM may invite TO again. Then "
	  "FROM's quota: invitations sent this week and today, pending, and "
	  "sent to TO, each against its limit (off: no limit). Exit status "
	  "0 when the send would pass, 1 when it would be refused.",
	  cmd_can_send_exec },
	{ "accept", 2, 2, 0, 0,
	  "accept ACTOR ID",
	  "ACTOR accepts invitation ID, which must be pending and addressed "
	  "to ACTOR. Its sender and ACTOR become connected.",
	  cmd_accept_exec },
	{ "ignore", 2, 2, 0, 0,
	  "ignore ACTOR ID",
	  "ACTOR ignores invitation ID, which must be pending and addressed "
	  "to ACTOR. It leaves ACTOR's received list. Ignoring is silent: "
	  "the sender is not told and keeps seeing the invitation as pending "
	  "until it is withdrawn or expires.",
	  cmd_ignore_exec },
	{ "withdraw", 2, 2, 0, 0,
	  "withdraw ACTOR ID",
	  "ACTOR withdraws invitation ID, which ACTOR sent and which is still "
	  "pending. It leaves the recipient's list at once. ACTOR may not "
	  "invite the same member again until a cooldown ends (21 days by "
	  "default; `connreq info` shows the policy in force).",
	  cmd_withdraw_exec },
	{ "resend", 2, 2, OPT_BIT(OPT_NOTE), 0,
	  "resend ACTOR ID [--note TEXT]",
	  "Sends invitation ID again: ACTOR, its sender, makes a new pending "
	  "invitation to the same member, linked to the old one (which must "
	  "be withdrawn or expired), with the old note unless --note gives a "
	  "new one. The cooldown after a withdrawal applies as to any send.",
	  cmd_resend_exec },
	{ "report", 2, 2, OPT_BIT(OPT_REASON), 0,
	  "report ACTOR ID --reason dont_know|spam",
	  "ACTOR, its recipient, reports invitation ID, which must be "
	  "pending: dont_know (ACTOR does not know its sender, who may then "
	  "never invite ACTOR again) or spam. It is ignored as by `connreq "
	  "ignore`, and its sender is not told; a sender reported too often "
	  "may not send for a while (the policy's health section).",
	  cmd_report_exec },
	{ "show", 1, 1, OPT_BIT(OPT_AS), 0,
	  "show ID [--as MEMBER]",
	  "Shows invitation ID: who sent it to whom, its state, priority, "
	  "age, expiry and note. With --as MEMBER it is shown as MEMBER, its "
	  "sender or its recipient, sees it (an ignored invitation looks "
	  "pending to its sender; a withdrawn one is gone for its recipient); "
	  "without, as its sender sees it.",
	  cmd_show_exec },
	{ "sent", 1, 1, OPTS_LIST, 0,
	  "sent MEMBER [--state S] [--priority P] [--older-than DURATION] "
	  "[--limit N] [--after ID]",
	  "Lists the invitations MEMBER sent, newest first, as MEMBER sees "
	  "them (an ignored one looks pending). --state keeps those in state "
	  "S (pending, accepted, ignored, withdrawn, expired), --priority "
	  "those of priority P (high, medium, low), --older-than those sent "
	  "at least DURATION ago (90s, 30m, 12h, 21d, 3w). At most N are "
	  "listed (default 50); when there are more, the last line says how "
	  "to see the next page, which starts --after the last ID looked at.",
	  cmd_list_exec },
	{ "received", 1, 1, OPTS_LIST, 0,
	  "received MEMBER [--state S] [--priority P] [--older-than DURATION] "
	  "[--limit N] [--after ID]",
	  "Lists the invitations sent to MEMBER, newest first, leaving out "
	  "those MEMBER ignored and those withdrawn. The options are those of "
	  "`connreq sent`.",
	  cmd_list_exec },
	{ "history", 2, 2, 0, 0,
	  "history A B",
	  "Lists every invitation between A and B, in either direction, "
	  "oldest first, as A sees them.",
	  cmd_history_exec },
	{ "advise", 1, 1, 0, 0,
	  "advise MEMBER",
	  "Advice on each invitation MEMBER sent that is still pending, and "
	  "on the withdrawn ones worth sending again, as a table: wait "
	  "(pending less than 14 days), withdraw (older, of medium or low "
	  "priority), let expire (older, high priority), stop (an earlier "
	  "invitation to the same member expired), resend (high priority, "
	  "withdrawn, its cooldown over), each with its reason, cut to the "
	  "terminal's width.",
	  cmd_advise_exec },
	{ "cleanup", 1, 1, OPT_BIT(OPT_OLDER_THAN) | OPT_BIT(OPT_PER_DAY) |
	  OPT_BIT(OPT_MAX_PRIORITY), 0,
	  "cleanup MEMBER [--older-than DURATION] [--per-day N] "
	  "[--max-priority high|medium|low]",
	  "Makes a plan that withdraws MEMBER's pending invitations sent "
	  "--older-than DURATION ago or more (default the policy's stale "
	  "after, 14d), of priority --max-priority or lower (default medium: "
	  "medium and low), N a day (default 10, never more than the "
	  "policy's withdrawals per day), lowest priority and oldest first. "
	  "The first day's withdrawals happen at once; connreqd does the "
	  "rest a day at a time, passing over those answered meanwhile. "
	  "Prints the plan: how many it takes, how many a day, when it "
	  "ends. `connreq plans` follows it, `connreq plan-cancel` stops it.",
	  cmd_cleanup_exec },
	{ "plans", 1, 1, 0, 0,
	  "plans MEMBER",
	  "Lists MEMBER's clean-up plans, newest first: their state "
	  "(active, done, cancelled), how many they withdrew of how many, "
	  "how many a day, their next day and when they end.",
	  cmd_plans_exec },
	{ "plan-cancel", 2, 2, 0, 0,
	  "plan-cancel ACTOR ID",
	  "ACTOR stops clean-up plan ID, which must be ACTOR's and active. "
	  "What it withdrew stays withdrawn; the rest stays pending.",
	  cmd_plan_cancel_exec },
	{ "stats", 1, 1, OPT_BIT(OPT_WINDOW), 0,
	  "stats MEMBER [--window DURATION]",
	  "A dashboard of MEMBER's invitations over the last DURATION "
	  "(default 90d): how many were sent, accepted, withdrawn, expired, "
	  "and are pending; the acceptance rate (accepted of those decided) "
	  "on a bar with the healthy band, 30% to 50%; the quota used this "
	  "week and today, pending against the warning and the maximum; "
	  "and whether MEMBER is restricted from sending, until when. A "
	  "rate below the policy's restrict below rate, or too many "
	  "reports, restricts a member for a while.",
	  cmd_stats_exec },
	{ "connections", 1, 1, OPT_BIT(OPT_LIMIT) | OPT_BIT(OPT_AFTER), 0,
	  "connections MEMBER [--limit N] [--after MEMBER]",
	  "Lists MEMBER's connections in order of the other member's id, with "
	  "when each was made. At most N are listed (default 50); when there "
	  "are more, the last line says how to see the next page, which "
	  "starts --after the last member listed.",
	  cmd_connections_exec },
	{ "disconnect", 2, 2, 0, 0,
	  "disconnect ACTOR OTHER",
	  "ACTOR removes the connection between ACTOR and OTHER.",
	  cmd_disconnect_exec },
	{ "block", 2, 2, 0, 0,
	  "block ACTOR OTHER",
	  "ACTOR blocks OTHER: neither may invite the other, a pending "
	  "invitation between them is withdrawn and their connection "
	  "removed, and OTHER is not told.",
	  cmd_block_exec },
	{ "unblock", 2, 2, 0, 0,
	  "unblock ACTOR OTHER",
	  "ACTOR lifts a block of OTHER. What the block withdrew or removed "
	  "does not come back.",
	  cmd_unblock_exec },
	{ "settings", 1, 1, OPT_BIT(OPT_FROM) | OPT_BIT(OPT_EMAIL), 0,
	  "settings MEMBER [--from everyone|email|nobody] [--email ADDR]",
	  "Shows MEMBER's settings, or changes those given: whom MEMBER "
	  "takes invitations from (everyone, by default; email: only people "
	  "who give MEMBER's email address; nobody) and MEMBER's email "
	  "address, which --from email needs.",
	  cmd_settings_exec },
	{ "info", 0, 0, 0, 0,
	  "info",
	  "Shows the daemon: its version, its clock and whether the clock is "
	  "virtual, how many invitations are in each state, the connections, "
	  "the deadlines waiting, the store, and the policy in force: its "
	  "rules, the limits on sending (off: none) and the health rules "
	  "that restrict a sender, as in connreqd.conf.",
	  cmd_info_exec },
	{ "clock", 2, 2, 0, 0,
	  "clock advance DURATION",
	  "Moves the daemon's virtual clock forward by DURATION (90s, 30m, "
	  "12h, 21d, 3w) and acts on every deadline that falls due on the "
	  "way: expiries, stale reminders, ends of cooldowns. Only a daemon "
	  "started with --virtual-clock allows it; it is for tests and "
	  "demonstrations.",
	  cmd_clock_exec },
	{ "watch", 0, 1, OPT_BIT(OPT_ALL) | OPT_BIT(OPT_AFTER) |
	  OPT_BIT(OPT_EXEC), 0,
	  "watch MEMBER|--all [--after SEQ] [--json] [--exec CMD]",
	  "Prints MEMBER's notifications as they happen, one line each, until "
	  "Ctrl-C: invitations received, accepted, expired, still pending "
	  "after 14 days (the policy's stale after), withdrawn (when the "
	  "policy tells the recipient), the ends of cooldowns, new "
	  "connections, warnings about limits, restrictions starting and "
	  "ending, the progress of clean-up plans. --all prints every "
	  "member's events, the silent ones too (ignored invitations, "
	  "removed connections). With --json each "
	  "event is one JSON object a line. Without --after only new events "
	  "are shown; --after SEQ first replays those kept after event SEQ "
	  "(--after 0: all that are kept, 30 days' worth by default). If "
	  "connreqd goes away, watch waits for it and carries on where it "
	  "stopped, missing nothing and printing nothing twice. --exec CMD "
	  "runs `/bin/sh -c CMD` for each event, after printing it, and waits "
	  "for it to finish; CMD gets the event as JSON on its standard input "
	  "and in CONNREQ_EVENT_SEQ, CONNREQ_EVENT_TYPE, CONNREQ_EVENT_AT "
	  "(Unix seconds) and CONNREQ_EVENT_MEMBER, for an invitation "
	  "CONNREQ_EVENT_ID, CONNREQ_EVENT_FROM and CONNREQ_EVENT_TO, for a "
	  "connection CONNREQ_EVENT_OTHER; a CMD that fails is reported and "
	  "watch goes on. Times are connreqd's clock, in UTC. Exit status: 0 "
	  "after Ctrl-C or SIGTERM, 1 when events after SEQ are no longer "
	  "kept, 3 when connreqd cannot be reached at the start.",
	  cmd_watch_exec },
	{ "help", 0, 1, 0, CMD_OFFLINE,
	  "help [COMMAND]",
	  "Lists the commands, or explains COMMAND. `connreq COMMAND --help` "
	  "does the same.",
	  cmd_help_exec },
};
#define CMD_COUNT (sizeof cmd_table / sizeof cmd_table[0])

/* ---- Text ---- */

/* Writes s[0..n) with control characters as spaces: replies may hold
 * anything a member typed. */
static void
text_put(FILE *f, const char *s, size_t n)
{
	size_t i;
	unsigned char ch;

	for (i = 0; i < n; i++) {
		ch = (unsigned char)s[i];
		fputc(ch < 0x20 || ch == 0x7f ? ' ' : ch, f);
	}
}

/* A clean copy of s[0..n), cut to max characters ("..." marks the cut;
 * 0: no limit). malloc'd. */
static char *
text_clean(const char *s, size_t n, size_t max)
{
	char *out = xmalloc(n + 4), *q = out;
	size_t i, chars = 0, total = utf8_chars(s, n);
	unsigned char ch;

	for (i = 0; i < n; i++) {
		ch = (unsigned char)s[i];
		if ((ch & 0xc0) != 0x80) {
			if (max > 0 && total > max && chars == max - 3)
				break;
			chars++;
		}
		*q++ = (char)(ch < 0x20 || ch == 0x7f ? ' ' : ch);
	}
	if (i < n) {
		memcpy(q, "...", 3);
		q += 3;
	}
	*q = '\0';
	return out;
}

/* Writes s, quoted for a POSIX shell where it needs to be. */
static void
text_put_shell(FILE *f, const char *s)
{
	static const char safe[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./_-";

	if (*s != '\0' && strspn(s, safe) == strlen(s)) {
		fputs(s, f);
		return;
	}
	fputc('\'', f);
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	}
	fputc('\'', f);
}

/* Writes text wrapped at HELP_WIDTH, each line indented by indent. */
static void
text_put_wrapped(FILE *f, const char *text, int indent)
{
	const char *p = text, *end;
	int col = 0;
	size_t n;

	while (*p != '\0') {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		end = p + strcspn(p, " ");
		n = (size_t)(end - p);
		if (col > 0 && col + 1 + (int)n > HELP_WIDTH) {
			fputc('\n', f);
			col = 0;
		}
		if (col == 0) {
			fprintf(f, "%*s", indent, "");
			col = indent;
		} else {
			fputc(' ', f);
			col++;
		}
		fwrite(p, 1, n, f);
		col += (int)n;
		p = end;
	}
	if (col > 0)
		fputc('\n', f);
}

/* Writes prefix and a usage line, wrapped at HELP_WIDTH between the
 * bracketed groups, continued under the command's first argument. */
static void
text_put_usage(FILE *f, const char *prefix, const char *usage)
{
	const char *p = usage, *q;
	int col, indent, depth;

	fputs(prefix, f);
	col = (int)strlen(prefix);
	indent = col + (int)strcspn(usage, " ") + 1;
	while (*p != '\0') {
		for (q = p, depth = 0; *q != '\0' && (*q != ' ' || depth > 0);
		    q++)
			depth += (*q == '[') - (*q == ']');
		if (p != usage) {
			if (col + 1 + (int)(q - p) > HELP_WIDTH) {
				fprintf(f, "\n%*s", indent, "");
				col = indent;
			} else {
				fputc(' ', f);
				col++;
			}
		}
		fwrite(p, 1, (size_t)(q - p), f);
		col += (int)(q - p);
		p = *q == ' ' ? q + 1 : q;
	}
	fputc('\n', f);
}

/* printf to stdout for lines with text from replies: %s for strings of
 * ours, "%T" for a struct text, which is written cleaned, %u for a
 * uint64_t. No widths. */
static void
ev_printf(const char *fmt, ...)
{
	va_list ap;
	const char *s;
	struct text t;

	va_start(ap, fmt);
	for (; *fmt != '\0'; fmt++) {
		if (*fmt != '%') {
			putchar(*fmt);
			continue;
		}
		switch (*++fmt) {
		case 'T':
			t = va_arg(ap, struct text);
			text_put(stdout, t.p, t.n);
			break;
		case 's':
			s = va_arg(ap, const char *);
			fputs(s, stdout);
			break;
		case 'u':
			printf("%" PRIu64, va_arg(ap, uint64_t));
			break;
		default:
			putchar('%');
			if (*fmt == '\0')
				fmt--;
			else
				putchar(*fmt);
			break;
		}
	}
	va_end(ap);
}

/* ---- Times ---- */

/* "2026-01-22 00:00 UTC" */
static void
time_put_date(int64_t t, char *buf, size_t n)
{
	char s[32];

	time_format(t, s, sizeof s);
	snprintf(buf, n, "%s UTC", s);
}

/* t, in the past of now: "3w ago", "just now". */
static void
time_put_ago(int64_t now, int64_t t, char *buf, size_t n)
{
	char d[16];

	if (now - t < 60) {
		snprintf(buf, n, "just now");
		return;
	}
	duration_short((uint64_t)(now - t), d, sizeof d);
	snprintf(buf, n, "%s ago", d);
}

/* t, in the future of now: "in 5mo", "now" (or "3d ago" once past). */
static void
time_put_in(int64_t now, int64_t t, char *buf, size_t n)
{
	char d[16];

	if (t < now) {
		time_put_ago(now, t, buf, n);
		return;
	}
	if (t == now) {
		snprintf(buf, n, "now");
		return;
	}
	duration_short((uint64_t)(t - now), d, sizeof d);
	snprintf(buf, n, "in %s", d);
}

/* An exact duration in its largest whole unit: "180d", "12h", "90s". */
static void
time_put_duration(uint64_t secs, char *buf, size_t n)
{
	if (secs > 0 && secs % 86400 == 0)
		snprintf(buf, n, "%" PRIu64 "d", secs / 86400);
	else if (secs > 0 && secs % 3600 == 0)
		snprintf(buf, n, "%" PRIu64 "h", secs / 3600);
	else if (secs > 0 && secs % 60 == 0)
		snprintf(buf, n, "%" PRIu64 "m", secs / 60);
	else
		snprintf(buf, n, "%" PRIu64 "s", secs);
}

/* A size in bytes: "64G", "1.5M", "512". */
static void
size_put(uint64_t v, char *buf, size_t n)
{
	static const char units[] = "KMGT";
	uint64_t unit = 1024;
	int i = -1;

	while (i < 3 && v >= unit) {
		i++;
		if (v / unit < 1024 || i == 3)
			break;
		unit <<= 10;
	}
	if (i < 0)
		snprintf(buf, n, "%" PRIu64, v);
	else if (v % unit == 0)
		snprintf(buf, n, "%" PRIu64 "%c", v / unit, units[i]);
	else
		snprintf(buf, n, "%.1f%c", (double)v / (double)unit, units[i]);
}

/* ---- Reading replies ---- */

static bool
obj_text(const msgpack_object *map, const char *key, struct text *t)
{
	const msgpack_object *o = cr_get(map, key);

	t->p = "";
	t->n = 0;
	if (o == NULL || o->type != MSGPACK_OBJECT_STR)
		return false;
	t->p = o->via.str.ptr;
	t->n = o->via.str.size;
	return true;
}

static bool
obj_int(const msgpack_object *map, const char *key, int64_t *v)
{
	const msgpack_object *o = cr_get(map, key);

	*v = 0;
	if (o == NULL)
		return false;
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
		*v = o->via.u64 > INT64_MAX ? INT64_MAX : (int64_t)o->via.u64;
		return true;
	}
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		*v = o->via.i64;
		return true;
	}
	return false;
}

static bool
obj_uint(const msgpack_object *map, const char *key, uint64_t *v)
{
	const msgpack_object *o = cr_get(map, key);

	*v = 0;
	if (o == NULL || o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return false;
	*v = o->via.u64;
	return true;
}

/* A float, or an integer as one. */
static bool
num_double(const msgpack_object *o, double *v)
{
	*v = 0;
	if (o == NULL)
		return false;
	switch (o->type) {
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		*v = o->via.f64;
		return true;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		*v = (double)o->via.u64;
		return true;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		*v = (double)o->via.i64;
		return true;
	default:
		return false;
	}
}

static bool
obj_double(const msgpack_object *map, const char *key, double *v)
{
	return num_double(cr_get(map, key), v);
}

static bool
text_is(struct text t, const char *s)
{
	return t.n == strlen(s) && memcmp(t.p, s, t.n) == 0;
}

static void
inv_read(const msgpack_object *o, struct inv_view *v)
{
	memset(v, 0, sizeof *v);
	obj_uint(o, "id", &v->id);
	obj_uint(o, "resend_of", &v->resend_of);
	obj_uint(o, "attempt", &v->attempt);
	obj_text(o, "from", &v->from);
	obj_text(o, "to", &v->to);
	obj_text(o, "note", &v->note);
	obj_text(o, "priority", &v->priority);
	obj_text(o, "state", &v->state);
	obj_int(o, "created_at", &v->created_at);
	obj_int(o, "updated_at", &v->updated_at);
	obj_int(o, "expires_at", &v->expires_at);
	obj_int(o, "reminded_at", &v->reminded_at);
}

/* Closed states carry the time they were reached in updated_at. */
static bool
inv_closed(const struct inv_view *v)
{
	return text_is(v->state, "accepted") ||
	    text_is(v->state, "withdrawn") || text_is(v->state, "expired");
}

/* ---- Tables ---- */

static bool parse_number(const char *s, uint64_t *v);

#define TABLE_COLS_MAX 8

struct table {
	size_t ncols;
	size_t fit_min;		/* the last column keeps this much (0: 8) */
	bool fit_always;	/* fit even when not on a terminal */
	char **cell;		/* row by row, the header first */
	size_t ncells, cap;
};

static void table_add(struct table *, const char *, size_t, size_t);

static void
table_init(struct table *t, size_t ncols, const char *const *head)
{
	size_t c;

	memset(t, 0, sizeof *t);
	t->ncols = ncols;
	for (c = 0; c < ncols; c++)
		table_add(t, head[c], strlen(head[c]), 0);
}

/* Appends one cell (row by row), cleaned and cut to max characters. */
static void
table_add(struct table *t, const char *s, size_t n, size_t max)
{
	if (t->ncells == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 64;
		t->cell = xrealloc(t->cell, t->cap * sizeof *t->cell);
	}
	t->cell[t->ncells++] = text_clean(s, n, max);
}

static void table_addf(struct table *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
table_addf(struct table *t, const char *fmt, ...)
{
	char buf[128];
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(buf, sizeof buf, fmt, ap) < 0)
		buf[0] = '\0';
	va_end(ap);
	table_add(t, buf, strlen(buf), 0);
}

/* Prints one row: cells padded to their column's width, two spaces
 * apart, with no trailing blanks. */
static void
table_put_row(char *const *cell, size_t ncols, const size_t *width)
{
	size_t c, w, last = 0, pad = 0;

	for (c = 0; c < ncols; c++)
		if (cell[c][0] != '\0')
			last = c;
	for (c = 0; c <= last; c++) {
		printf("%*s%s", (int)pad, "", cell[c]);
		w = utf8_chars(cell[c], strlen(cell[c]));
		pad = width[c] - w + 2;
	}
	putchar('\n');
}

/* The width to fit: the terminal's, or $COLUMNS, or 80. */
static size_t
term_width(void)
{
	struct winsize ws;
	const char *env = getenv("COLUMNS");
	uint64_t v;

	if (isatty(STDOUT_FILENO) &&
	    ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	if (env != NULL && parse_number(env, &v) && v > 0 && v < 10000)
		return (size_t)v;
	return 80;
}

/* Cuts the cells of the last column so that the rows fit in width
 * (that column keeps min characters at least). */
static void
table_fit(struct table *t, size_t width, size_t min)
{
	size_t widths[TABLE_COLS_MAX], used = 0, avail, i, c, w, last;
	char *cut;

	memset(widths, 0, sizeof widths);
	last = t->ncols - 1;
	for (i = 0; i < t->ncells; i++) {
		c = i % t->ncols;
		w = utf8_chars(t->cell[i], strlen(t->cell[i]));
		if (w > widths[c])
			widths[c] = w;
	}
	for (c = 0; c < last; c++)
		used += widths[c] + 2;
	avail = width > used + min ? width - used : min;
	for (i = t->ncols + last; i < t->ncells; i += t->ncols) {
		if (utf8_chars(t->cell[i], strlen(t->cell[i])) <= avail)
			continue;
		cut = text_clean(t->cell[i], strlen(t->cell[i]), avail);
		free(t->cell[i]);
		t->cell[i] = cut;
	}
}

/* Prints the rows in aligned columns; on a terminal (or with $COLUMNS) the
 * last column, free text, is cut to fit the width. */
static void
table_print(struct table *t)
{
	size_t width[TABLE_COLS_MAX], i, c, w;

	if (t->fit_always || isatty(STDOUT_FILENO) || getenv("COLUMNS") != NULL)
		table_fit(t, term_width(), t->fit_min ? t->fit_min : 8);
	memset(width, 0, sizeof width);
	for (i = 0; i < t->ncells; i++) {
		c = i % t->ncols;
		w = utf8_chars(t->cell[i], strlen(t->cell[i]));
		if (w > width[c])
			width[c] = w;
	}
	for (i = 0; i + t->ncols <= t->ncells; i += t->ncols)
		table_put_row(t->cell + i, t->ncols, width);
}

static void
table_free(struct table *t)
{
	size_t i;

	for (i = 0; i < t->ncells; i++)
		free(t->cell[i]);
	free(t->cell);
}

/* ---- Talking to connreqd ---- */

static int64_t ctx_now(struct cmd_ctx *ctx);

/* Writes "connreq " or "connreq -s SOCKET ", the start of a command line
 * to suggest: with -s as this one was given, quoted for the shell. */
static void
hint_connreq(FILE *f, const struct cmd_ctx *ctx)
{
	fputs("connreq ", f);
	if (ctx->socket_flag != NULL) {
		fputs("-s ", f);
		text_put_shell(f, ctx->socket_flag);
		fputc(' ', f);
	}
}

/* What to do about a refusal or a warning of code, where there is
 * something to say. */
static void
call_hint(const struct cmd_ctx *ctx, const char *code)
{
	const char *name = ctx->entry->name;

	if ((strcmp(code, "PENDING_CAP") == 0 ||
	    strcmp(code, "PENDING_WARN") == 0) && ctx->sender != NULL) {
		fputs("connreq: `", stderr);
		hint_connreq(stderr, ctx);
		fputs("advise ", stderr);
		text_put_shell(stderr, ctx->sender);
		fputs("` says which to withdraw\n", stderr);
	} else if (strcmp(code, "EMAIL_REQUIRED") == 0) {
		if (strcmp(name, "send") == 0 || strcmp(name, "can-send") == 0)
			fputs("connreq: give their email address with "
			    "--email ADDR\n", stderr);
		else if (strcmp(name, "resend") == 0)
			fputs("connreq: a resend cannot give it: send anew "
			    "with `connreq send FROM TO --email ADDR`\n",
			    stderr);
	}
}

/* Reports a refusal: on stderr, and with --json the error map on stdout. */
static void
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
	if (ctx->json) {
		cr_json_print(stdout, r->error);
		putchar('\n');
	}
}

/* Sends the request packed after cr_request() and waits for its answer.
 * 0 with r holding a result map; otherwise the failure is reported, r is
 * freed, and the exit status is returned. */
static int
call_finish(struct cmd_ctx *ctx, struct cr_reply *r)
{
	if (cr_finish(ctx->client, r) == -1) {
		cr_reply_free(r);
		fprintf(stderr, "connreq: lost connreqd at %s: %s\n",
		    ctx->socket, cr_strerror(ctx->client));
		return EXIT_UNREACHABLE;
	}
	if (r->error != NULL) {
		call_refused(ctx, r);
		cr_reply_free(r);
		return EXIT_REFUSED;
	}
	if (r->result == NULL || r->result->type != MSGPACK_OBJECT_MAP) {
		cr_reply_free(r);
		fprintf(stderr, "connreq: connreqd sent an unexpected reply\n");
		return EXIT_REFUSED;
	}
	return 0;
}

/* server.info's result, asked once and kept until the end; NULL when
 * connreqd cannot say. */
static const msgpack_object *
ctx_info(struct cmd_ctx *ctx)
{
	if (!ctx->have_info) {
		ctx->have_info = true;
		cr_request(ctx->client, "server.info");
		if (cr_finish(ctx->client, &ctx->info) != 0)
			return NULL;
	}
	return ctx->info.error == NULL ? ctx->info.result : NULL;
}

/* The daemon's clock, asked once (this machine's, when it cannot say). */
static int64_t
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
static bool
ctx_policy(struct cmd_ctx *ctx, const char *key, uint64_t *v)
{
	return obj_uint(cr_get(ctx_info(ctx), "policy"), key, v);
}

/* With --json, prints the result map and returns true. */
static bool
out_json(struct cmd_ctx *ctx, const struct cr_reply *r)
{
	if (!ctx->json)
		return false;
	cr_json_print(stdout, r->result);
	putchar('\n');
	return true;
}

/* The warnings a send or resend passed with, on stderr: "connreq: warning:
 * CODE: message". */
static void
out_warnings(struct cmd_ctx *ctx, const msgpack_object *result)
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
static int
call_print(struct cmd_ctx *ctx, const struct cmd_args *a, cmd_print_fn *print)
{
	struct cr_reply r;
	int rc;

	if ((rc = call_finish(ctx, &r)) != 0)
		return rc;
	if (!out_json(ctx, &r))
		print(ctx, a, r.result);
	out_warnings(ctx, r.result);
	cr_reply_free(&r);
	return EXIT_DONE;
}

/* "invitation 3: alice -> bob, pending, medium priority, sent 2d ago,
 * expires in 5mo", and its note and history below. */
static void
out_invitation(struct cmd_ctx *ctx, const msgpack_object *o)
{
	struct inv_view v;
	int64_t now = ctx_now(ctx);
	char sent[32], when[32];

	inv_read(o, &v);
	time_put_ago(now, v.created_at, sent, sizeof sent);
	printf("invitation %" PRIu64 ": %.*s -> %.*s, %.*s", v.id,
	    (int)v.from.n, v.from.p, (int)v.to.n, v.to.p,
	    (int)v.state.n, v.state.p);
	if (inv_closed(&v)) {
		time_put_ago(now, v.updated_at, when, sizeof when);
		printf(" %s", when);
	}
	printf(", %.*s priority, sent %s", (int)v.priority.n, v.priority.p,
	    sent);
	if (text_is(v.state, "pending")) {
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
	if (v.reminded_at != 0 && text_is(v.state, "pending")) {
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
	for (i = 0; i < items->via.array.size; i++) {
		inv_read(&items->via.array.ptr[i], &v);
		table_addf(&t, "%" PRIu64, v.id);
		table_add(&t, v.from.p, v.from.n, 0);
		table_add(&t, v.to.p, v.to.n, 0);
		table_add(&t, v.state.p, v.state.n, 0);
		table_add(&t, v.priority.p, v.priority.n, 0);
		time_put_ago(now, v.created_at, when, sizeof when);
		table_add(&t, when, strlen(when), 0);
		if (text_is(v.state, "pending"))
			time_put_in(now, v.expires_at, when, sizeof when);
		else
			snprintf(when, sizeof when, "-");
		table_add(&t, when, strlen(when), 0);
		table_add(&t, v.note.p, v.note.n, NOTE_COLUMN_MAX);
	}
	table_print(&t);
	table_free(&t);
}

static const msgpack_object *
obj_items(const msgpack_object *result)
{
	const msgpack_object *o = cr_get(result, "items");

	return o != NULL && o->type == MSGPACK_OBJECT_ARRAY ? o : NULL;
}

/* ---- Command line ---- */

static const struct cmd_entry *
cmd_find(const char *name)
{
	size_t i;

	for (i = 0; i < CMD_COUNT; i++)
		if (strcmp(cmd_table[i].name, name) == 0)
			return &cmd_table[i];
	return NULL;
}

static void
cmd_put_help(FILE *f, const struct cmd_entry *e)
{
	text_put_usage(f, "usage: connreq ", e->usage);
	fputc('\n', f);
	text_put_wrapped(f, e->help, 0);
}

static void
cmd_put_list(FILE *f)
{
	char *sock = path_default_socket();
	size_t i;

	fputs("usage: connreq [-s SOCKET] [--json] COMMAND [ARGUMENTS]\n"
	    "\n"
	    "Sends, answers and lists connection requests (invitations) and\n"
	    "connections, kept by connreqd.\n"
	    "\n"
	    "Commands:\n", f);
	for (i = 0; i < CMD_COUNT; i++)
		text_put_usage(f, "  ", cmd_table[i].usage);
	fprintf(f, "\n"
	    "Options:\n"
	    "  -s, --socket SOCKET  connreqd's socket; without it $CONNREQ_SOCKET,\n"
	    "                       or the default:\n"
	    "                       %s\n"
	    "      --json           print the result, or a refusal's error map, as\n"
	    "                       one JSON object on stdout (watch: one per\n"
	    "                       event, a line each); usage errors and an\n"
	    "                       unreachable daemon go to stderr as text\n"
	    "  -h, --help           this text\n"
	    "  -V, --version        the version\n"
	    "\n"
	    "`connreq help COMMAND` or `connreq COMMAND --help` explains a command.\n"
	    "Exit status: 0 done, 1 refused by a rule, 2 usage error,\n"
	    "3 connreqd cannot be reached.\n", sock);
	free(sock);
}

static int cmd_usage_error(const struct cmd_entry *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Reports a mistake on the command line with the command's usage; returns
 * EXIT_USAGE. */
static int
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
		fputs("usage: connreq [-s SOCKET] [--json] COMMAND [ARGUMENTS]\n"
		    "       (`connreq help` lists the commands)\n", stderr);
	return EXIT_USAGE;
}

/* A whole non-negative decimal number, nothing before or after. */
static bool
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

	if ((v = a->opt[OPT_PRIORITY]) != NULL &&
	    !parse_word(v, priority_words))
		return cmd_usage_error(e,
		    "--priority: not high, medium or low: %s", v);
	if ((v = a->opt[OPT_STATE]) != NULL && !parse_word(v, state_words))
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
	    !parse_word(v, priority_words))
		return cmd_usage_error(e,
		    "--max-priority: not high, medium or low: %s", v);
	if ((v = a->opt[OPT_FROM]) != NULL && !parse_word(v, from_words))
		return cmd_usage_error(e,
		    "--from: not everyone, email or nobody: %s", v);
	if ((v = a->opt[OPT_REASON]) != NULL && !parse_word(v, reason_words))
		return cmd_usage_error(e,
		    "--reason: not dont_know or spam: %s", v);
	if ((v = a->opt[OPT_EMAIL]) != NULL && strchr(v, '@') == NULL)
		return cmd_usage_error(e, "--email: not an address: %s", v);
	return 0;
}

/* Parses what follows the command's name: its arguments, its options
 * (--name VALUE or --name=VALUE, or --name alone for a flag, anywhere; "--"
 * ends them), --json and -h/--help. 0, EXIT_USAGE (reported) or EXIT_HELPED. */
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
static int
cmd_id(const struct cmd_entry *e, const char *s, uint64_t *id)
{
	if (!parse_number(s, id))
		return cmd_usage_error(e, "not an invitation id: %s", s);
	return 0;
}

/* ---- Commands ---- */

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

static int
cmd_send_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	const char *note = a->opt[OPT_NOTE], *prio = a->opt[OPT_PRIORITY];
	const char *email = a->opt[OPT_EMAIL];
	msgpack_packer *pk;

	ctx->sender = a->argv[0];
	pk = cr_request(ctx->client, "invite.send");
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

static int
cmd_accept_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	return cmd_act(ctx, a, "invite.accept", cmd_accept_print);
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

static int
cmd_ignore_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	return cmd_act(ctx, a, "invite.ignore", cmd_ignore_print);
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

static int
cmd_withdraw_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	return cmd_act(ctx, a, "invite.withdraw", cmd_withdraw_print);
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

static int
cmd_resend_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	const char *note = a->opt[OPT_NOTE];
	msgpack_packer *pk;
	uint64_t id;
	int rc;

	if ((rc = cmd_id(ctx->entry, a->argv[1], &id)) != 0)
		return rc;
	ctx->sender = a->argv[0];
	pk = cr_request(ctx->client, "invite.resend");
	msgpack_pack_map(pk, 2 + (note != NULL));
	pk_kstr(pk, "actor", a->argv[0]);
	pk_kuint(pk, "id", id);
	if (note != NULL)
		pk_kstr(pk, "note", note);
	return call_print(ctx, a, cmd_resend_print);
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

static int
cmd_show_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	const char *as = a->opt[OPT_AS];
	msgpack_packer *pk;
	uint64_t id;
	int rc;

	if ((rc = cmd_id(ctx->entry, a->argv[0], &id)) != 0)
		return rc;
	pk = cr_request(ctx->client, "invite.get");
	msgpack_pack_map(pk, 1 + (as != NULL));
	pk_kuint(pk, "id", id);
	if (as != NULL)
		pk_kstr(pk, "actor", as);
	return call_print(ctx, a, cmd_show_print);
}

static void
cmd_list_print(struct cmd_ctx *ctx, const struct cmd_args *a,
    const msgpack_object *result)
{
	static const int list_opts[] = {
		OPT_STATE, OPT_PRIORITY, OPT_OLDER_THAN, OPT_LIMIT
	};
	const char *box = ctx->entry->name;
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

/* sent and received. */
static int
cmd_list_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	msgpack_packer *pk;
	uint64_t after = 0;

	if (a->opt[OPT_AFTER] != NULL && !parse_number(a->opt[OPT_AFTER],
	    &after))
		return cmd_usage_error(ctx->entry,
		    "--after: not an invitation id: %s", a->opt[OPT_AFTER]);
	pk = cr_request(ctx->client, "invite.list");
	msgpack_pack_map(pk, 2 + (a->opt[OPT_STATE] != NULL) +
	    (a->opt[OPT_PRIORITY] != NULL) + (a->opt[OPT_OLDER_THAN] != NULL) +
	    (a->opt[OPT_LIMIT] != NULL) + (a->opt[OPT_AFTER] != NULL));
	pk_kstr(pk, "member", a->argv[0]);
	pk_kstr(pk, "box", ctx->entry->name);
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

static int
cmd_history_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	msgpack_packer *pk;

	pk = cr_request(ctx->client, "invite.history");
	msgpack_pack_map(pk, 2);
	pk_kstr(pk, "a", a->argv[0]);
	pk_kstr(pk, "b", a->argv[1]);
	return call_print(ctx, a, cmd_history_print);
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

static int
cmd_connections_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	const char *after = a->opt[OPT_AFTER];
	msgpack_packer *pk;

	pk = cr_request(ctx->client, "connection.list");
	msgpack_pack_map(pk, 1 + (a->opt[OPT_LIMIT] != NULL) + (after != NULL));
	pk_kstr(pk, "member", a->argv[0]);
	if (a->opt[OPT_LIMIT] != NULL)
		pk_kuint(pk, "limit", a->limit);
	if (after != NULL)
		pk_kstr(pk, "after", after);
	return call_print(ctx, a, cmd_connections_print);
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

static int
cmd_disconnect_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	return cmd_pair(ctx, a, "connection.remove", cmd_disconnect_print);
}

/* ---- Limits, health, advice, plans, settings ---- */


/* Colour on a terminal only, and never with NO_COLOR (no-color.org). */
static bool
use_colour(void)
{
	const char *no = getenv("NO_COLOR"), *term = getenv("TERM");

	return isatty(STDOUT_FILENO) && (no == NULL || no[0] == '\0') &&
	    term != NULL && strcmp(term, "dumb") != 0;
}

/* A rate as a percentage: "30%", "57%"; "33.5%" with tenths when
 * precise and they are not 0. */
static void
rate_put(double r, bool precise, char *buf, size_t n)
{
	long tenths = r > 0 ? (long)(r * 1000 + 0.5) : 0;

	if (precise && tenths % 10 != 0)
		snprintf(buf, n, "%ld.%ld%%", tenths / 10, tenths % 10);
	else
		snprintf(buf, n, "%ld%%", (tenths + 5) / 10);
}

/* A limit: "3", or "off" for 0. */
static void
limit_put(uint64_t v, char *buf, size_t n)
{
	if (v == 0)
		snprintf(buf, n, "off");
	else
		snprintf(buf, n, "%" PRIu64, v);
}

/* One row of a quota table: LABEL USED LIMIT NOTE. */
static void
quota_row(struct table *t, const char *label, uint64_t used, uint64_t limit,
    const char *note)
{
	char lim[24];

	limit_put(limit, lim, sizeof lim);
	table_add(t, label, strlen(label), 0);
	table_addf(t, "%" PRIu64, used);
	table_add(t, lim, strlen(lim), 0);
	if (note == NULL || note[0] == '\0')
		note = limit > 0 && used >= limit ? "reached" : "";
	table_add(t, note, strlen(note), 0);
}

/* The rows of a quota map shared by can-send and stats: this week, today,
 * pending (with its warning). */
static void
quota_rows(struct table *t, const msgpack_object *q, uint64_t pending)
{
	uint64_t used, limit, warn, max;
	char note[64];

	obj_uint(q, "week_used", &used);
	obj_uint(q, "week_limit", &limit);
	quota_row(t, "sent this week", used, limit, NULL);
	obj_uint(q, "day_used", &used);
	obj_uint(q, "day_limit", &limit);
	quota_row(t, "sent today", used, limit, NULL);
	obj_uint(q, "pending_warn", &warn);
	obj_uint(q, "pending_max", &max);
	if (max > 0 && pending >= max)
		snprintf(note, sizeof note, "reached");
	else if (warn == 0)
		snprintf(note, sizeof note, "no warning");
	else
		snprintf(note, sizeof note, "warning at %" PRIu64 "%s", warn,
		    pending >= warn ? ": reached" : "");
	quota_row(t, "pending", pending, max, note);
}

static void
quota_table_init(struct table *t)
{
	static const char *const head[] = { "QUOTA", "USED", "LIMIT", "" };

	table_init(t, 4, head);
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
	if (text_is(code, "COOLDOWN") || text_is(code, "PAIR_LIMIT")) {
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
	pk = cr_request(ctx->client, "invite.can_send");
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

static void
cmd_report_print(struct cmd_ctx *ctx, const struct cmd_args *a,
    const msgpack_object *result)
{
	struct inv_view v;

	if (!out_result_invitation(ctx, result, &v))
		return;
	if (strcmp(a->opt[OPT_REASON], "spam") == 0)
		ev_printf("%T reported it as spam: it is ignored, and %T is "
		    "not told\n", v.to, v.from);
	else
		ev_printf("%T reported not knowing %T: the invitation is "
		    "ignored, %T is not told and may not invite %T again\n",
		    v.to, v.from, v.from, v.to);
}

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
	pk = cr_request(ctx->client, "invite.report");
	msgpack_pack_map(pk, 3);
	pk_kstr(pk, "actor", a->argv[0]);
	pk_kuint(pk, "id", id);
	pk_kstr(pk, "reason", reason);
	return call_print(ctx, a, cmd_report_print);
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
		if (text_is(advice, "withdraw"))
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
		printf("` withdraws the %" PRIu64 " marked withdraw, a few a "
		    "day\n", withdraw);
	}
}

static int
cmd_advise_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	msgpack_packer *pk;

	pk = cr_request(ctx->client, "invite.advise");
	msgpack_pack_map(pk, 1);
	pk_kstr(pk, "member", a->argv[0]);
	return call_print(ctx, a, cmd_advise_print);
}

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
	if (text_is(max, "high"))
		return "any priority";
	if (text_is(max, "low"))
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
			table_addf(&t, "... %" PRIu32 " more days", n - 6);
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
	ev_printf("  (sent %s ago or more, of %s; lowest priority and oldest "
	    "first)\n", d, plan_priorities(v.max_priority));
	if (a->opt[OPT_PER_DAY] != NULL && v.per_day < a->per_day)
		printf("  (not %" PRIu64 " a day: the policy allows %" PRIu64
		    " withdrawals a day)\n", a->per_day, v.per_day);
	printf("withdrawn now  %" PRIu64, v.done);
	if (v.skipped > 0)
		printf(" (%" PRIu64 " no longer pending)", v.skipped);
	printf("\nto go          %" PRIu64 "\n", plan_left(&v));
	if (!text_is(v.state, "active")) {
		printf("the plan is %.*s\n", (int)v.state.n, v.state.p);
		return;
	}
	plan_put_schedule(ctx, &v);
	putchar('\n');
	if (v.ends_at > 0) {
		time_put_in(ctx_now(ctx), v.ends_at, in, sizeof in);
		time_put_date(v.ends_at, date, sizeof date);
		printf("it ends %s (%s), if nothing is answered meanwhile\n",
		    in, date);
	}
	plan_put_cancel_hint(ctx, &v);
}

static int
cmd_cleanup_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	msgpack_packer *pk;

	pk = cr_request(ctx->client, "plan.withdraw_stale");
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
	return call_print(ctx, a, cmd_cleanup_print);
}

static void
cmd_plans_print(struct cmd_ctx *ctx, const struct cmd_args *a,
    const msgpack_object *result)
{
	static const char *const head[] = {
		"ID", "STATE", "WITHDRAWN", "SKIPPED", "PER DAY", "NEXT",
		"ENDS", "MADE"
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
		if (v.ends_at > 0)
			time_put_date(v.ends_at, when, sizeof when);
		else
			snprintf(when, sizeof when, "-");
		table_add(&t, when, strlen(when), 0);
		time_put_ago(now, v.created_at, when, sizeof when);
		table_add(&t, when, strlen(when), 0);
	}
	table_print(&t);
	table_free(&t);
}

static int
cmd_plans_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	msgpack_packer *pk;

	pk = cr_request(ctx->client, "plan.list");
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
	    PRIu64 "; the %" PRIu64 " left stay pending\n", v.id, v.done,
	    v.total, plan_left(&v));
}

static int
cmd_plan_cancel_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	msgpack_packer *pk;
	uint64_t id;

	if (!parse_number(a->argv[1], &id))
		return cmd_usage_error(ctx->entry, "not a plan id: %s",
		    a->argv[1]);
	pk = cr_request(ctx->client, "plan.cancel");
	msgpack_pack_map(pk, 2);
	pk_kstr(pk, "actor", a->argv[0]);
	pk_kuint(pk, "id", id);
	return call_print(ctx, a, cmd_plan_cancel_print);
}

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
		on = text_is(health, "healthy") ? "\033[32m" :
		    text_is(health, "low") ? "\033[31m" : "\033[33m";
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
	uint64_t need = 0;
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
	if (text_is(health, "healthy"))
		puts("healthy");
	else if (text_is(health, "low")) {
		rate_put(lo, true, buf, sizeof buf);
		printf("low: under %s accepted\n", buf);
	} else if (text_is(health, "insufficient_data")) {
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
	q = cr_get(result, "quota");
	if (q != NULL && q->type == MSGPACK_OBJECT_MAP) {
		putchar('\n');
		quota_table_init(&t);
		quota_rows(&t, q, pending);
		table_print(&t);
		table_free(&t);
	}
}

static int
cmd_stats_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	msgpack_packer *pk;

	pk = cr_request(ctx->client, "stats.get");
	msgpack_pack_map(pk, 1 + (a->opt[OPT_WINDOW] != NULL));
	pk_kstr(pk, "member", a->argv[0]);
	if (a->opt[OPT_WINDOW] != NULL)
		pk_kuint(pk, "window", a->window);
	return call_print(ctx, a, cmd_stats_print);
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
	fputs(": neither may invite the other\nany pending invitation or "
	    "connection between them is gone\n", stdout);
}

static int
cmd_block_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	return cmd_pair(ctx, a, "member.block", cmd_block_print);
}

static void
cmd_unblock_print(struct cmd_ctx *ctx, const struct cmd_args *a,
    const msgpack_object *result)
{
	(void)ctx;
	(void)result;
	text_put(stdout, a->argv[0], strlen(a->argv[0]));
	fputs(" unblocked ", stdout);
	text_put(stdout, a->argv[1], strlen(a->argv[1]));
	putchar('\n');
}

static int
cmd_unblock_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	return cmd_pair(ctx, a, "member.unblock", cmd_unblock_print);
}

static void
cmd_settings_print(struct cmd_ctx *ctx, const struct cmd_args *a,
    const msgpack_object *result)
{
	struct text member, who, addr;

	(void)ctx;
	(void)a;
	obj_text(result, "member", &member);
	obj_text(result, "invitations_from", &who);
	printf("%-18s", "member");
	ev_printf("%T\n", member);
	printf("%-18s", "invitations from");
	ev_printf("%T", who);
	if (text_is(who, "everyone"))
		fputs(" (anyone may invite)", stdout);
	else if (text_is(who, "email"))
		fputs(" (only people who give the email address)", stdout);
	else if (text_is(who, "nobody"))
		fputs(" (no one may invite)", stdout);
	putchar('\n');
	printf("%-18s", "email");
	if (obj_text(result, "email", &addr))
		ev_printf("%T\n", addr);
	else
		puts("none");
}

static int
cmd_settings_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	const char *from = a->opt[OPT_FROM], *email = a->opt[OPT_EMAIL];
	msgpack_packer *pk;

	if (from == NULL && email == NULL) {
		pk = cr_request(ctx->client, "member.settings.get");
		msgpack_pack_map(pk, 1);
	} else {
		pk = cr_request(ctx->client, "member.settings.set");
		msgpack_pack_map(pk, 1 + (from != NULL) + (email != NULL));
	}
	pk_kstr(pk, "member", a->argv[0]);
	if (from != NULL)
		pk_kstr(pk, "invitations_from", from);
	if (email != NULL)
		pk_kstr(pk, "email", email);
	return call_print(ctx, a, cmd_settings_print);
}

/* ---- info, clock ---- */

/* One "label: value" line of info. */
static void info_line(const char *label, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
info_line(const char *label, const char *fmt, ...)
{
	va_list ap;

	printf("%-16s", label);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* How a policy value is shown. */
enum pol_kind {
	PK_DURATION,	/* "21d" */
	PK_DURATIONS,	/* "21d, 90d" */
	PK_COUNT,	/* "300" */
	PK_LIMIT,	/* "100", or "off" for 0 */
	PK_BYTES,	/* "64K" */
	PK_BOOL,	/* "yes" */
	PK_RATE		/* "30%" */
};

/* The policy's keys, grouped as in connreqd.conf. */
static const struct pol_key {
	const char *group;
	const char *key;
	enum pol_kind kind;
} pol_keys[] = {
	{ "policy", "expire_after", PK_DURATION },
	{ "policy", "max_expire_after", PK_DURATION },
	{ "policy", "stale_after", PK_DURATION },
	{ "policy", "resend_cooldown", PK_DURATIONS },
	{ "policy", "note_max_chars", PK_COUNT },
	{ "policy", "notify_recipient_on_withdraw", PK_BOOL },
	{ "policy", "mutual_invite_connects", PK_BOOL },
	{ "policy", "events_retention", PK_DURATION },
	{ "limits", "sends_per_week", PK_LIMIT },
	{ "limits", "sends_per_day", PK_LIMIT },
	{ "limits", "pending_warn", PK_LIMIT },
	{ "limits", "pending_max", PK_LIMIT },
	{ "limits", "invites_per_pair", PK_LIMIT },
	{ "limits", "pair_window", PK_DURATION },
	{ "limits", "withdrawals_per_day", PK_LIMIT },
	{ "limits", "duplicate_note_warn", PK_LIMIT },
	{ "health", "healthy_rate", PK_RATE },
	{ "health", "restrict_below_rate", PK_RATE },
	{ "health", "restrict_min_decided", PK_COUNT },
	{ "health", "reports_to_restrict", PK_LIMIT },
	{ "health", "reports_window", PK_DURATION },
	{ "health", "restrict_for", PK_DURATION },
	{ "server", "max_clients", PK_COUNT },
	{ "server", "max_message_bytes", PK_BYTES },
};
#define POL_KEYS (sizeof pol_keys / sizeof pol_keys[0])

/* A policy value as its kind says (a kind guessed from the value for keys
 * this connreq does not know). */
static void
info_policy_value(const msgpack_object *val, enum pol_kind kind, char *value,
    size_t len)
{
	const msgpack_object *el;
	double rate;
	size_t off;
	uint32_t j;

	if (val->type == MSGPACK_OBJECT_BOOLEAN)
		snprintf(value, len, "%s", val->via.boolean ? "yes" : "no");
	else if (val->type == MSGPACK_OBJECT_ARRAY) {
		/* A list of durations: "21d, 90d". */
		value[0] = '\0';
		for (j = 0, off = 0; j < val->via.array.size &&
		    off + 24 < len; j++) {
			el = &val->via.array.ptr[j];
			if (j > 0)
				off += (size_t)snprintf(value + off, len - off,
				    ", ");
			if (el->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
				time_put_duration(el->via.u64, value + off,
				    len - off);
			off = strlen(value);
		}
	} else if (val->type == MSGPACK_OBJECT_FLOAT32 ||
	    val->type == MSGPACK_OBJECT_FLOAT64 || kind == PK_RATE) {
		if (num_double(val, &rate))
			rate_put(rate, true, value, len);
		else
			snprintf(value, len, "?");
	} else if (val->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		snprintf(value, len, "?");
	else if (kind == PK_DURATION)
		time_put_duration(val->via.u64, value, len);
	else if (kind == PK_BYTES)
		size_put(val->via.u64, value, len);
	else if (kind == PK_LIMIT)
		limit_put(val->via.u64, value, len);
	else
		snprintf(value, len, "%" PRIu64, val->via.u64);
}

/* "  sends per week                100" */
static void
info_policy_line(const msgpack_object_kv *kv, enum pol_kind kind)
{
	char label[64], value[128];
	size_t i, n;

	n = kv->key.via.str.size < sizeof label - 1 ?
	    kv->key.via.str.size : sizeof label - 1;
	memcpy(label, kv->key.via.str.ptr, n);
	label[n] = '\0';
	for (i = 0; i < n; i++)
		if (label[i] == '_' || (unsigned char)label[i] < 0x20 ||
		    label[i] == 0x7f)
			label[i] = ' ';
	info_policy_value(&kv->val, kind, value, sizeof value);
	printf("  %-30s%s\n", label, value);
}

/* The policy map in groups (policy, limits, health, server), durations as
 * "21d", rates as "30%", a limit of 0 as "off"; keys this connreq does
 * not know last, under "other". */
static void
info_policy(const msgpack_object *policy)
{
	static const char *const groups[] = {
		"policy", "limits", "health", "server"
	};
	const msgpack_object_kv *kv;
	enum pol_kind kind;
	size_t g, i, n;
	uint32_t k;
	bool known, head;

	if (policy == NULL || policy->type != MSGPACK_OBJECT_MAP)
		return;
	for (g = 0; g < sizeof groups / sizeof groups[0]; g++) {
		head = false;
		for (i = 0; i < POL_KEYS; i++) {
			if (strcmp(pol_keys[i].group, groups[g]) != 0)
				continue;
			for (k = 0; k < policy->via.map.size; k++) {
				kv = &policy->via.map.ptr[k];
				if (!proto_obj_is_str(&kv->key,
				    pol_keys[i].key))
					continue;
				if (!head)
					printf("%s\n", groups[g]);
				head = true;
				info_policy_line(kv, pol_keys[i].kind);
				break;
			}
		}
	}
	head = false;
	for (k = 0; k < policy->via.map.size; k++) {
		kv = &policy->via.map.ptr[k];
		if (kv->key.type != MSGPACK_OBJECT_STR)
			continue;
		for (i = 0, known = false; i < POL_KEYS && !known; i++)
			known = proto_obj_is_str(&kv->key, pol_keys[i].key);
		if (known)
			continue;
		n = kv->key.via.str.size;
		kind = n > 6 && memcmp(kv->key.via.str.ptr + n - 6, "_bytes",
		    6) == 0 ? PK_BYTES : PK_COUNT;
		if (!head)
			printf("other\n");
		head = true;
		info_policy_line(kv, kind);
	}
}

static void
cmd_info_print(struct cmd_ctx *ctx, const struct cmd_args *a,
    const msgpack_object *result)
{
	const msgpack_object *counts, *o;
	const msgpack_object_kv *kv;
	struct text version, path;
	uint64_t protocol, count, size, size_max, conns = 0;
	int64_t now, started, next;
	char date[48], rel[32], s1[32], s2[32];
	bool virt = false;
	uint32_t k;

	(void)a;
	obj_text(result, "version", &version);
	obj_uint(result, "protocol", &protocol);
	obj_int(result, "now", &now);
	obj_int(result, "started_at", &started);
	ctx->now = now;
	ctx->have_now = true;
	if ((o = cr_get(result, "virtual_clock")) != NULL &&
	    o->type == MSGPACK_OBJECT_BOOLEAN)
		virt = o->via.boolean;

	info_line("version", "connreqd %.*s, protocol %" PRIu64,
	    (int)version.n, version.p, protocol);
	time_put_date(now, date, sizeof date);
	info_line("now", "%s", date);
	info_line("virtual clock", "%s", virt ? "yes" : "no");
	time_put_date(started, date, sizeof date);
	time_put_ago(now, started, rel, sizeof rel);
	info_line("started", "%s, %s", date, rel);

	counts = cr_get(result, "counts");
	if (counts != NULL && counts->type == MSGPACK_OBJECT_MAP) {
		printf("%-16s", "invitations");
		for (k = 0; k < counts->via.map.size; k++) {
			kv = &counts->via.map.ptr[k];
			if (kv->key.type != MSGPACK_OBJECT_STR ||
			    kv->val.type != MSGPACK_OBJECT_POSITIVE_INTEGER)
				continue;
			if (proto_obj_is_str(&kv->key, "connections")) {
				conns = kv->val.via.u64;
				continue;
			}
			printf("%s%" PRIu64 " %.*s", k > 0 ? ", " : "",
			    kv->val.via.u64, (int)kv->key.via.str.size,
			    kv->key.via.str.ptr);
		}
		putchar('\n');
		info_line("connections", "%" PRIu64, conns);
	}

	o = cr_get(result, "deadlines");
	if (o != NULL) {
		obj_uint(o, "count", &count);
		if (obj_int(o, "next", &next) && next > 0) {
			time_put_date(next, date, sizeof date);
			time_put_in(now, next, rel, sizeof rel);
			info_line("deadlines", "%" PRIu64 ", next %s (%s)",
			    count, rel, date);
		} else
			info_line("deadlines", "%" PRIu64, count);
	}

	o = cr_get(result, "store");
	if (o != NULL) {
		obj_text(o, "path", &path);
		obj_uint(o, "map_size", &size);
		obj_uint(o, "map_size_max", &size_max);
		size_put(size, s1, sizeof s1);
		size_put(size_max, s2, sizeof s2);
		printf("%-16s", "store");
		text_put(stdout, path.p, path.n);
		printf(" (map %s, at most %s)\n", s1, s2);
	}
	info_policy(cr_get(result, "policy"));
}

static int
cmd_info_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	cr_request(ctx->client, "server.info");
	return call_print(ctx, a, cmd_info_print);
}

static void
cmd_clock_print(struct cmd_ctx *ctx, const struct cmd_args *a,
    const msgpack_object *result)
{
	uint64_t secs;
	int64_t now;
	char date[48], d[32];

	(void)ctx;
	duration_parse(a->argv[1], &secs);	/* checked by the exec */
	obj_int(result, "now", &now);
	time_put_date(now, date, sizeof date);
	time_put_duration(secs, d, sizeof d);
	printf("the clock is now %s (moved %s forward)\n", date, d);
}

static int
cmd_clock_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	msgpack_packer *pk;
	uint64_t secs;

	if (strcmp(a->argv[0], "advance") != 0)
		return cmd_usage_error(ctx->entry, "clock: unknown subcommand: %s",
		    a->argv[0]);
	if (duration_parse(a->argv[1], &secs) != 0)
		return cmd_usage_error(ctx->entry, "not a duration (such as "
		    "90s, 30m, 12h, 21d, 3w): %s", a->argv[1]);
	pk = cr_request(ctx->client, "clock.advance");
	msgpack_pack_map(pk, 1);
	pk_kuint(pk, "seconds", secs);
	return call_print(ctx, a, cmd_clock_print);
}

/* ---- watch ---- */

#define WATCH_BACKOFF_MIN_MS 100
#define WATCH_BACKOFF_MAX_MS 5000

/* Set by the signal handlers; the signals are blocked but while watch
 * waits, in ppoll(), so they are seen between two steps, never in one. */
static volatile sig_atomic_t watch_stop;
static volatile sig_atomic_t watch_child;

static void
watch_on_stop(int sig)
{
	watch_stop = sig;
}

static void
watch_on_child(int sig)
{
	(void)sig;
	watch_child = 1;
}

struct watch {
	struct cmd_ctx *ctx;
	const char *member;	/* NULL: --all */
	const char *exec;	/* --exec CMD, or NULL */
	uint64_t cursor;	/* the last event printed, or passed over */
	bool have_cursor;	/* false: start at the head */
	sigset_t waitmask;	/* the mask to wait with: nothing blocked */
	sigset_t mask0;		/* the mask watch started with */
	struct sigaction int0, term0, chld0;	/* and the handlers */
};

/* An event as the daemon sends it. */
struct ev_view {
	uint64_t seq;
	struct text type, member, other;
	int64_t at;
	bool has_inv;
	struct inv_view inv;
	/* Notices: limit.warning, restriction.*, plan.* */
	struct text code, message;
	int64_t until;
	uint64_t plan, done, total;
};

static void
ev_read(const msgpack_object *o, struct ev_view *v)
{
	const msgpack_object *inv = cr_get(o, "invitation");

	memset(v, 0, sizeof *v);
	obj_uint(o, "seq", &v->seq);
	obj_text(o, "type", &v->type);
	obj_int(o, "at", &v->at);
	obj_text(o, "member", &v->member);
	obj_text(o, "other", &v->other);
	obj_text(o, "code", &v->code);
	obj_text(o, "message", &v->message);
	obj_int(o, "until", &v->until);
	obj_uint(o, "plan", &v->plan);
	obj_uint(o, "done", &v->done);
	obj_uint(o, "total", &v->total);
	if (inv != NULL && inv->type == MSGPACK_OBJECT_MAP) {
		v->has_inv = true;
		inv_read(inv, &v->inv);
	}
}

/* How long the invitation had been pending: "14 days", "12h". */
static void
ev_age(const struct ev_view *v, char *buf, size_t n)
{
	uint64_t age = v->at > v->inv.created_at ?
	    (uint64_t)(v->at - v->inv.created_at) : 0;

	if (age >= 86400 && age % 86400 == 0)
		snprintf(buf, n, "%" PRIu64 " day%s", age / 86400,
		    age == 86400 ? "" : "s");
	else
		duration_short(age, buf, n);
}

/* " (invitation 3, note: "Hi")" */
static void
ev_put_inv_note(const struct ev_view *v)
{
	printf(" (invitation %" PRIu64, v->inv.id);
	if (v->inv.note.n > 0)
		ev_printf(", note: \"%T\"", v->inv.note);
	putchar(')');
}

/* " (until 2026-01-08 00:00)" */
static void
ev_put_until(const struct ev_view *v)
{
	char when[32];

	if (v->until <= 0)
		return;
	time_format(v->until, when, sizeof when);
	printf(" (until %s)", when);
}

/* Why a member was restricted: "too many reports". */
static const char *
ev_restriction_why(const struct ev_view *v)
{
	if (text_is(v->code, "reports"))
		return "too many reports";
	if (text_is(v->code, "acceptance_rate"))
		return "too few invitations accepted";
	return NULL;
}

/* The notices that carry no invitation, in a member's feed (all false) or
 * the `all` one. False for other types. */
static bool
ev_put_notice(const struct ev_view *v, bool all)
{
	const char *why;

	if (text_is(v->type, "limit.warning")) {
		if (all)
			ev_printf("warning to %T: ", v->member);
		else
			ev_printf("warning: ");
		ev_printf("%T: %T", v->code, v->message);
	} else if (text_is(v->type, "restriction.started")) {
		why = ev_restriction_why(v);
		if (all) {
			ev_printf("%T may not send invitations", v->member);
			ev_put_until(v);
			if (why != NULL)
				ev_printf(": %s", why);
			else if (v->code.n > 0)
				ev_printf(": %T", v->code);
		} else {
			if (v->message.n > 0)
				ev_printf("%T", v->message);
			else
				ev_printf("you may not send invitations");
			ev_put_until(v);
		}
	} else if (text_is(v->type, "restriction.ended")) {
		if (all)
			ev_printf("%T may send invitations again", v->member);
		else if (v->message.n > 0)
			ev_printf("%T", v->message);
		else
			ev_printf("you may send invitations again");
	} else if (text_is(v->type, "plan.progress")) {
		if (all)
			ev_printf("%T's ", v->member);
		else
			ev_printf("your ");
		ev_printf("clean-up plan %u: %u of %u withdrawn", v->plan,
		    v->done, v->total);
	} else if (text_is(v->type, "plan.done")) {
		if (all)
			ev_printf("%T's ", v->member);
		else
			ev_printf("your ");
		ev_printf("clean-up plan %u is done: %u of %u withdrawn",
		    v->plan, v->done, v->total);
		if (v->done < v->total)
			ev_printf(" (the others were no longer pending)");
	} else
		return false;
	return true;
}

/* The line of an event in a member's feed: as that member is told. */
static void
ev_put_member(const struct ev_view *v)
{
	const struct inv_view *i = &v->inv;
	char age[32];

	if (text_is(v->type, "invitation.received") && v->has_inv) {
		ev_printf("%T invited you", i->from);
		ev_put_inv_note(v);
	} else if (text_is(v->type, "invitation.accepted") && v->has_inv)
		ev_printf("%T accepted your invitation %u", i->to, i->id);
	else if (text_is(v->type, "connection.created"))
		ev_printf("you and %T are now connected", v->other);
	else if (text_is(v->type, "invitation.withdrawn") && v->has_inv)
		ev_printf("%T withdrew invitation %u to you", i->from, i->id);
	else if (text_is(v->type, "invitation.expired") && v->has_inv)
		ev_printf("your invitation %u to %T expired", i->id, i->to);
	else if (text_is(v->type, "invitation.stale") && v->has_inv) {
		ev_age(v, age, sizeof age);
		ev_printf("your invitation %u to %T is %s old: consider "
		    "withdrawing it or letting it expire", i->id, i->to, age);
	} else if (text_is(v->type, "cooldown.ended") && v->has_inv)
		ev_printf("you may invite %T again", i->to);
	else if (text_is(v->type, "invitation.ignored") && v->has_inv)
		ev_printf("you ignored %T's invitation %u", i->from, i->id);
	else if (text_is(v->type, "connection.removed"))
		ev_printf("you removed your connection with %T", v->other);
	else if (!ev_put_notice(v, false)) {
		ev_printf("%T", v->type);
		if (v->has_inv)
			ev_printf(" (invitation %u)", i->id);
	}
}

/* The line of an event in the `all` feed: both parties named. */
static void
ev_put_all(const struct ev_view *v)
{
	const struct inv_view *i = &v->inv;
	char age[32];

	if (text_is(v->type, "invitation.received") && v->has_inv) {
		ev_printf("%T invited %T", i->from, i->to);
		ev_put_inv_note(v);
	} else if (text_is(v->type, "invitation.accepted") && v->has_inv)
		ev_printf("%T accepted %T's invitation %u", i->to, i->from,
		    i->id);
	else if (text_is(v->type, "connection.created"))
		ev_printf("%T is now connected with %T", v->member, v->other);
	else if (text_is(v->type, "invitation.withdrawn") && v->has_inv)
		ev_printf("%T withdrew invitation %u to %T", i->from, i->id,
		    i->to);
	else if (text_is(v->type, "invitation.expired") && v->has_inv)
		ev_printf("%T's invitation %u to %T expired", i->from, i->id,
		    i->to);
	else if (text_is(v->type, "invitation.stale") && v->has_inv) {
		ev_age(v, age, sizeof age);
		ev_printf("%T was reminded that invitation %u to %T is %s "
		    "old", i->from, i->id, i->to, age);
	} else if (text_is(v->type, "cooldown.ended") && v->has_inv)
		ev_printf("%T may invite %T again", i->from, i->to);
	else if (text_is(v->type, "invitation.ignored") && v->has_inv)
		ev_printf("%T ignored %T's invitation %u", i->to, i->from,
		    i->id);
	else if (text_is(v->type, "connection.removed"))
		ev_printf("%T removed the connection with %T", v->member,
		    v->other);
	else if (!ev_put_notice(v, true)) {
		ev_printf("%T for %T", v->type, v->member);
		if (v->has_inv)
			ev_printf(" (invitation %u)", i->id);
	}
}

/* Prints "connreq [-s SOCKET] watch MEMBER|--all --after SEQ". */
static void
watch_put_resume(FILE *f, const struct watch *w, uint64_t after)
{
	hint_connreq(f, w->ctx);
	fputs("watch ", f);
	if (w->member != NULL)
		text_put_shell(f, w->member);
	else
		fputs("--all", f);
	fprintf(f, " --after %" PRIu64, after);
}

/* Waits for fd to be readable (-1: none), ms milliseconds at most (-1:
 * no limit), or for a signal. True when the time ran out. */
static bool
watch_wait(struct watch *w, int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct timespec ts, *tsp = NULL;

	if (ms >= 0) {
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (long)(ms % 1000) * 1000000L;
		tsp = &ts;
	}
	if (watch_stop)
		return false;
	return ppoll(&pfd, fd >= 0 ? 1 : 0, tsp, &w->waitmask) == 0;
}

/* Sets name to the string t, or unsets it. */
static void
watch_setenv(const char *name, const struct text *t)
{
	char *s;

	if (t == NULL) {
		unsetenv(name);
		return;
	}
	s = xstrndup(t->p, t->n);
	setenv(name, s, 1);
	free(s);
}

static void
watch_setenv_num(const char *name, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
watch_setenv_num(const char *name, const char *fmt, ...)
{
	char buf[32];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	setenv(name, buf, 1);
}

/* In the child: the event in the environment, the JSON on fd 0, then
 * /bin/sh -c CMD. CMD is the user's string as given: nothing of the event
 * is ever put into it. */
static void __attribute__((noreturn))
watch_child_exec(const struct watch *w, const struct ev_view *v, int in)
{
	/* CMD starts with the signals as watch found them. */
	sigaction(SIGINT, &w->int0, NULL);
	sigaction(SIGTERM, &w->term0, NULL);
	sigaction(SIGCHLD, &w->chld0, NULL);
	sigprocmask(SIG_SETMASK, &w->mask0, NULL);
	if (in != STDIN_FILENO) {
		if (dup2(in, STDIN_FILENO) == -1)
			_exit(127);
		close(in);
	}
	watch_setenv_num("CONNREQ_EVENT_SEQ", "%" PRIu64, v->seq);
	watch_setenv("CONNREQ_EVENT_TYPE", &v->type);
	watch_setenv_num("CONNREQ_EVENT_AT", "%" PRId64, v->at);
	watch_setenv("CONNREQ_EVENT_MEMBER", &v->member);
	if (v->has_inv) {
		watch_setenv_num("CONNREQ_EVENT_ID", "%" PRIu64, v->inv.id);
		watch_setenv("CONNREQ_EVENT_FROM", &v->inv.from);
		watch_setenv("CONNREQ_EVENT_TO", &v->inv.to);
	} else {
		unsetenv("CONNREQ_EVENT_ID");
		watch_setenv("CONNREQ_EVENT_FROM", NULL);
		watch_setenv("CONNREQ_EVENT_TO", NULL);
	}
	watch_setenv("CONNREQ_EVENT_OTHER", v->other.n > 0 ? &v->other : NULL);
	execl("/bin/sh", "sh", "-c", w->exec, (char *)NULL);
	fprintf(stderr, "connreq: --exec: /bin/sh: %s\n", strerror(errno));
	_exit(127);
}

/* Writes the event as JSON to fd, which is then closed. A CMD that does not
 * read its input is no failure: EPIPE is ignored. */
static void
watch_feed(int fd, const msgpack_object *ev)
{
	struct sigaction ign, old;
	char *buf = NULL;
	size_t len = 0, off = 0;
	ssize_t n;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL) {
		close(fd);
		return;
	}
	cr_json_print(f, ev);
	fputc('\n', f);
	fclose(f);
	memset(&ign, 0, sizeof ign);
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, &old);
	while (off < len) {
		n = write(fd, buf + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	sigaction(SIGPIPE, &old, NULL);
	close(fd);
	free(buf);
}

/* Runs --exec CMD for an event and waits for it; a failure is reported,
 * not fatal. A stop request stops the waiting (CMD is left to finish). */
static void
watch_run_exec(struct watch *w, const struct ev_view *v,
    const msgpack_object *ev)
{
	int fds[2], status;
	pid_t pid, r;

	if (pipe2(fds, O_CLOEXEC) == -1) {
		fprintf(stderr, "connreq: --exec: pipe: %s\n", strerror(errno));
		return;
	}
	fflush(stdout);
	fflush(stderr);
	watch_child = 0;
	pid = fork();
	if (pid == -1) {
		fprintf(stderr, "connreq: --exec: fork: %s\n", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return;
	}
	if (pid == 0) {
		close(fds[1]);
		watch_child_exec(w, v, fds[0]);
	}
	close(fds[0]);
	watch_feed(fds[1], ev);
	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r == -1 && errno != EINTR) {
			fprintf(stderr, "connreq: --exec: waitpid: %s\n",
			    strerror(errno));
			return;
		}
		if (watch_stop)
			return;
		/* SIGCHLD or a stop request ends the wait. */
		if (!watch_child)
			(void)ppoll(NULL, 0, NULL, &w->waitmask);
		watch_child = 0;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		fprintf(stderr, "connreq: --exec: the command exited with "
		    "status %d (event %" PRIu64 ", %.*s)\n",
		    WEXITSTATUS(status), v->seq, (int)v->type.n, v->type.p);
	else if (WIFSIGNALED(status))
		fprintf(stderr, "connreq: --exec: the command was killed by "
		    "signal %d (event %" PRIu64 ", %.*s)\n", WTERMSIG(status),
		    v->seq, (int)v->type.n, v->type.p);
}

/* Prints one event and runs --exec. -1 when stdout failed. */
static int
watch_event(struct watch *w, const msgpack_object *ev)
{
	struct ev_view v;
	char when[32];

	ev_read(ev, &v);
	if (v.seq == 0 || (w->have_cursor && v.seq <= w->cursor))
		return 0;	/* already printed */
	w->cursor = v.seq;
	w->have_cursor = true;
	if (w->ctx->json) {
		cr_json_print(stdout, ev);
	} else {
		time_format(v.at, when, sizeof when);
		printf("%s  ", when);
		if (w->member != NULL)
			ev_put_member(&v);
		else
			ev_put_all(&v);
	}
	putchar('\n');
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "connreq: stdout: %s\n", strerror(errno));
		return -1;
	}
	if (w->exec != NULL)
		watch_run_exec(w, &v, ev);
	return 0;
}

/* Subscribes on the connection in w->ctx->client. 0 done, -1 when the
 * connection failed (err set), or the exit status of a refusal. */
static int
watch_subscribe(struct watch *w, char *err, size_t errlen)
{
	const msgpack_object *o;
	struct cmd_ctx *ctx = w->ctx;
	msgpack_packer *pk;
	struct cr_reply r;
	uint64_t head, oldest;

	pk = cr_request(ctx->client, "events.subscribe");
	msgpack_pack_map(pk, 1 + w->have_cursor);
	if (w->member != NULL)
		pk_kstr(pk, "member", w->member);
	else {
		pk_key(pk, "all");
		msgpack_pack_true(pk);
	}
	if (w->have_cursor)
		pk_kuint(pk, "after", w->cursor);
	if (cr_finish(ctx->client, &r) == -1) {
		snprintf(err, errlen, "%s", cr_strerror(ctx->client));
		cr_reply_free(&r);
		return -1;
	}
	if (r.error != NULL) {
		call_refused(ctx, &r);
		o = cr_get(r.error, "oldest");
		if (strcmp(r.code, "CURSOR_EXPIRED") == 0 && o != NULL &&
		    o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
			oldest = o->via.u64;
			fprintf(stderr, "connreq: the oldest event kept is %"
			    PRIu64 "; `", oldest);
			watch_put_resume(stderr, w, oldest > 0 ? oldest - 1 : 0);
			fputs("` starts there, or leave out --after to see new "
			    "events only\n", stderr);
		} else if (strcmp(r.code, "UNKNOWN_METHOD") == 0)
			fputs("connreq: this connreqd has no event feed: it "
			    "is older than this connreq\n", stderr);
		cr_reply_free(&r);
		return EXIT_REFUSED;
	}
	if (!w->have_cursor) {
		if (!obj_uint(r.result, "head", &head)) {
			cr_reply_free(&r);
			fprintf(stderr, "connreq: connreqd sent an unexpected "
			    "reply\n");
			return EXIT_REFUSED;
		}
		w->cursor = head;
		w->have_cursor = true;
	}
	cr_reply_free(&r);
	return 0;
}

/* Prints events until the connection fails (-1, err set), stdout fails
 * (EXIT_REFUSED) or a stop request (0). */
static int
watch_pump(struct watch *w, char *err, size_t errlen)
{
	struct cr_client *c = w->ctx->client;
	struct cr_reply r;
	int rc;

	while (!watch_stop) {
		rc = cr_next_event(c, &r, 0);
		if (rc == 1) {
			watch_wait(w, cr_fd(c), -1);
			continue;
		}
		if (rc == -1) {
			snprintf(err, errlen, "%s", cr_strerror(c));
			return -1;
		}
		rc = r.result != NULL && r.result->type == MSGPACK_OBJECT_MAP ?
		    watch_event(w, r.result) : 0;
		cr_reply_free(&r);
		if (rc != 0)
			return EXIT_REFUSED;
	}
	return 0;
}

/* Connects and subscribes again, waiting 100ms, then twice as long each
 * time up to 5s, for as long as it takes. -1 when done; otherwise the exit
 * status: 0 when stopped, or that of a refusal (reported). */
static int
watch_reconnect(struct watch *w)
{
	struct cmd_ctx *ctx = w->ctx;
	char err[512];
	int backoff = WATCH_BACKOFF_MIN_MS, rc;

	for (;;) {
		watch_wait(w, -1, backoff);
		if (watch_stop)
			return EXIT_DONE;
		backoff = backoff * 2 > WATCH_BACKOFF_MAX_MS ?
		    WATCH_BACKOFF_MAX_MS : backoff * 2;
		ctx->client = cr_connect(ctx->socket, err, sizeof err);
		if (ctx->client == NULL)
			continue;
		rc = watch_subscribe(w, err, sizeof err);
		if (rc == 0)
			return -1;
		cr_close(ctx->client);
		ctx->client = NULL;
		if (rc > 0)
			return rc;
	}
}

static int
cmd_watch_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	struct sigaction sa;
	struct watch w;
	sigset_t block;
	char err[512];
	int rc;

	memset(&w, 0, sizeof w);
	w.ctx = ctx;
	w.exec = a->opt[OPT_EXEC];
	w.member = a->argc > 0 ? a->argv[0] : NULL;
	if ((w.member != NULL) == (a->opt[OPT_ALL] != NULL))
		return cmd_usage_error(ctx->entry, w.member != NULL ?
		    "watch: a MEMBER or --all, not both" :
		    "watch: name a MEMBER, or --all for every event");
	if (a->opt[OPT_AFTER] != NULL) {
		if (!parse_number(a->opt[OPT_AFTER], &w.cursor))
			return cmd_usage_error(ctx->entry, "--after: not an "
			    "event number: %s", a->opt[OPT_AFTER]);
		w.have_cursor = true;
	}

	/* SIGINT, SIGTERM and SIGCHLD are let in only while waiting. */
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = watch_on_stop;
	sigaction(SIGINT, &sa, &w.int0);
	sigaction(SIGTERM, &sa, &w.term0);
	sa.sa_handler = watch_on_child;
	sigaction(SIGCHLD, &sa, &w.chld0);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &w.mask0);
	w.waitmask = w.mask0;
	sigdelset(&w.waitmask, SIGINT);
	sigdelset(&w.waitmask, SIGTERM);
	sigdelset(&w.waitmask, SIGCHLD);

	/* The first subscription must work, as any command's request. */
	rc = watch_subscribe(&w, err, sizeof err);
	if (rc == -1) {
		fprintf(stderr, "connreq: lost connreqd at %s: %s\n",
		    ctx->socket, err);
		return EXIT_UNREACHABLE;
	}
	if (rc != 0)
		return rc;
	/* The subscription holds from here: say so, for people and for
	 * scripts that wait for it. */
	fputs("connreq: watching ", stderr);
	if (w.member != NULL) {
		text_put(stderr, w.member, strlen(w.member));
		fputs("'s notifications", stderr);
	} else
		fputs("every member's events", stderr);
	if (a->opt[OPT_AFTER] != NULL)
		fprintf(stderr, " after event %" PRIu64, w.cursor);
	else
		fputs(" as they come", stderr);
	fputs(" (Ctrl-C stops)\n", stderr);
	for (;;) {
		rc = watch_pump(&w, err, sizeof err);
		if (rc != -1)
			break;
		cr_close(ctx->client);
		ctx->client = NULL;
		fprintf(stderr, "connreq: lost connreqd at %s (%s); "
		    "trying again until it is back\n", ctx->socket, err);
		if ((rc = watch_reconnect(&w)) != -1)
			break;
		fprintf(stderr, "connreq: connreqd is back; going on after "
		    "event %" PRIu64 "\n", w.cursor);
	}
	if (rc == EXIT_DONE && watch_stop) {
		/* After the terminal's "^C", on a line of its own. */
		if (watch_stop == SIGINT && isatty(STDERR_FILENO))
			fputc('\n', stderr);
		fprintf(stderr, "connreq: stopped after event %" PRIu64 "; `",
		    w.cursor);
		watch_put_resume(stderr, &w, w.cursor);
		fputs("` carries on from there\n", stderr);
	}
	return rc;
}

static int
cmd_help_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	const struct cmd_entry *e;

	(void)ctx;
	if (a->argc == 0) {
		cmd_put_list(stdout);
		return EXIT_DONE;
	}
	if ((e = cmd_find(a->argv[0])) == NULL)
		return cmd_usage_error(NULL, "help: unknown command: %s",
		    a->argv[0]);
	cmd_put_help(stdout, e);
	return EXIT_DONE;
}

/* ---- main ---- */

/* Says which socket failed and how to start the daemon. */
static void
main_unreachable(const struct cmd_ctx *ctx, const char *err)
{
	const char *env = getenv("CONNREQ_SOCKET");

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
		else if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			cmd_put_list(stdout);
			return EXIT_DONE;
		} else if (strcmp(arg, "-V") == 0 ||
		    strcmp(arg, "--version") == 0) {
			printf("connreq %s (protocol %d)\n", CONNREQ_VERSION,
			    PROTO_VERSION);
			return EXIT_DONE;
		} else
			return cmd_usage_error(NULL, "unknown option: %s", arg);
	}
	if (i == argc) {
		cmd_put_list(stderr);
		return EXIT_USAGE;
	}
	if ((e = cmd_find(argv[i])) == NULL)
		return cmd_usage_error(NULL, "unknown command: %s", argv[i]);
	ctx.entry = e;
	rc = cmd_parse(&ctx, e, argc - i - 1, argv + i + 1, &a);
	if (rc == EXIT_HELPED)
		return EXIT_DONE;
	if (rc != 0)
		return rc;

	if (!(e->flags & CMD_OFFLINE)) {
		if (ctx.socket_flag != NULL && ctx.socket_flag[0] == '\0')
			return cmd_usage_error(NULL, "-s: an empty socket path");
		ctx.socket = ctx.socket_flag;
		if (ctx.socket == NULL)
			ctx.socket = sock = cr_default_socket();
		ctx.client = cr_connect(ctx.socket, err, sizeof err);
		if (ctx.client == NULL) {
			main_unreachable(&ctx, err);
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
