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
	OPT_COUNT
};
#define OPT_BIT(o) (1u << (o))
#define OPTS_LIST (OPT_BIT(OPT_STATE) | OPT_BIT(OPT_PRIORITY) | \
    OPT_BIT(OPT_OLDER_THAN) | OPT_BIT(OPT_LIMIT) | OPT_BIT(OPT_AFTER))
#define OPTS_FLAG OPT_BIT(OPT_ALL)	/* given or not; opt[] is "" */

static const char *const opt_names[OPT_COUNT] = {
	"note", "priority", "as", "state", "older-than", "limit", "after",
	"exec", "all"
};

/* What the daemon accepts for --priority and --state. */
static const char *const priority_words[] = { "high", "medium", "low", NULL };
static const char *const state_words[] = {
	"pending", "accepted", "ignored", "withdrawn", "expired", NULL
};

/* A command line, parsed against its entry. */
struct cmd_args {
	int argc;
	const char *argv[CMD_ARGS_MAX];
	const char *opt[OPT_COUNT];	/* NULL: not given */
	uint64_t older_than;		/* --older-than, in seconds */
	uint64_t limit;			/* --limit */
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

/* The state of one run. */
struct cmd_ctx {
	const struct cmd_entry *entry;
	struct cr_client *client;
	const char *socket;		/* the socket used */
	const char *socket_flag;	/* -s SOCKET, as given; NULL: none */
	bool json;
	bool have_now;
	int64_t now;			/* the daemon's clock */
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

static const struct cmd_entry cmd_table[] = {
	{ "send", 2, 2, OPT_BIT(OPT_NOTE) | OPT_BIT(OPT_PRIORITY), 0,
	  "send FROM TO [--note TEXT] [--priority high|medium|low]",
	  "FROM invites TO to connect, with an optional personal note (at "
	  "most 300 characters by default) and a priority for FROM's own "
	  "bookkeeping (default medium). It is refused when FROM and TO are "
	  "already connected, when an invitation from FROM to TO is already "
	  "pending, and during the cooldown after FROM withdrew one. When TO "
	  "has a pending invitation to FROM, the two are connected at once.",
	  cmd_send_exec },
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
	{ "info", 0, 0, 0, 0,
	  "info",
	  "Shows the daemon: its version, its clock and whether the clock is "
	  "virtual, how many invitations are in each state, the connections, "
	  "the deadlines waiting, the store, and the policy in force.",
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
	  "connections. --all prints every member's events, the silent ones "
	  "too (ignored invitations, removed connections). With --json each "
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

#define TABLE_COLS_MAX 8

struct table {
	size_t ncols;
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

/* Prints the rows in aligned columns. */
static void
table_print(const struct table *t)
{
	size_t width[TABLE_COLS_MAX], i, c, w;

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

/* The daemon's clock, asked once (this machine's, when it cannot say). */
static int64_t
ctx_now(struct cmd_ctx *ctx)
{
	struct cr_reply r;
	int64_t v;

	if (ctx->have_now)
		return ctx->now;
	ctx->have_now = true;
	ctx->now = (int64_t)time(NULL);
	cr_request(ctx->client, "server.info");
	if (cr_finish(ctx->client, &r) == 0 && r.error == NULL &&
	    obj_int(r.result, "now", &v))
		ctx->now = v;
	cr_reply_free(&r);
	return ctx->now;
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

/* Starts "more: connreq [-s SOCKET] " */
static void
out_more_start(struct cmd_ctx *ctx)
{
	fputs("more: connreq ", stdout);
	if (ctx->socket_flag != NULL) {
		fputs("-s ", stdout);
		text_put_shell(stdout, ctx->socket_flag);
		putchar(' ');
	}
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
	    "      --json           print the result, or the error, as one JSON\n"
	    "                       object (watch: one per event, a line each)\n"
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

static int
cmd_send_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	const char *note = a->opt[OPT_NOTE], *prio = a->opt[OPT_PRIORITY];
	const msgpack_object *inv;
	msgpack_packer *pk;
	struct cr_reply r;
	int rc;

	pk = cr_request(ctx->client, "invite.send");
	msgpack_pack_map(pk, 2 + (note != NULL) + (prio != NULL));
	pk_kstr(pk, "from", a->argv[0]);
	pk_kstr(pk, "to", a->argv[1]);
	if (note != NULL)
		pk_kstr(pk, "note", note);
	if (prio != NULL)
		pk_kstr(pk, "priority", prio);
	if ((rc = call_finish(ctx, &r)) != 0)
		return rc;
	if (!out_json(ctx, &r)) {
		if (cr_get(r.result, "connection") != NULL)
			printf("%s and %s are now connected (both invited "
			    "each other)\n", a->argv[0], a->argv[1]);
		if ((inv = cr_get(r.result, "invitation")) != NULL)
			out_invitation(ctx, inv);
	}
	cr_reply_free(&r);
	return EXIT_DONE;
}

/* accept, ignore and withdraw: {actor, id}. */
static int
cmd_act(struct cmd_ctx *ctx, const struct cmd_args *a, const char *method,
    struct cr_reply *r)
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
	return call_finish(ctx, r);
}

static int
cmd_accept_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	struct cr_reply r;
	struct inv_view v;
	const msgpack_object *inv;
	int rc;

	if ((rc = cmd_act(ctx, a, "invite.accept", &r)) != 0)
		return rc;
	if (!out_json(ctx, &r) &&
	    (inv = cr_get(r.result, "invitation")) != NULL) {
		inv_read(inv, &v);
		out_invitation(ctx, inv);
		printf("%.*s and %.*s are now connected\n", (int)v.to.n,
		    v.to.p, (int)v.from.n, v.from.p);
	}
	cr_reply_free(&r);
	return EXIT_DONE;
}

static int
cmd_ignore_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	struct cr_reply r;
	struct inv_view v;
	const msgpack_object *inv;
	int rc;

	if ((rc = cmd_act(ctx, a, "invite.ignore", &r)) != 0)
		return rc;
	if (!out_json(ctx, &r) &&
	    (inv = cr_get(r.result, "invitation")) != NULL) {
		inv_read(inv, &v);
		out_invitation(ctx, inv);
		printf("%.*s ignored it silently: %.*s is not told and still "
		    "sees it as pending\n", (int)v.to.n, v.to.p,
		    (int)v.from.n, v.from.p);
	}
	cr_reply_free(&r);
	return EXIT_DONE;
}

static int
cmd_withdraw_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	struct cr_reply r;
	struct inv_view v;
	const msgpack_object *inv;
	int64_t until;
	char in[32], date[48];
	int rc;

	if ((rc = cmd_act(ctx, a, "invite.withdraw", &r)) != 0)
		return rc;
	if (!out_json(ctx, &r) &&
	    (inv = cr_get(r.result, "invitation")) != NULL) {
		inv_read(inv, &v);
		out_invitation(ctx, inv);
		if (obj_int(r.result, "cooldown_until", &until)) {
			time_put_in(ctx_now(ctx), until, in, sizeof in);
			time_put_date(until, date, sizeof date);
			printf("%.*s may invite %.*s again %s (%s)\n",
			    (int)v.from.n, v.from.p, (int)v.to.n, v.to.p,
			    in, date);
		}
	}
	cr_reply_free(&r);
	return EXIT_DONE;
}

static int
cmd_resend_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	const char *note = a->opt[OPT_NOTE];
	const msgpack_object *inv;
	msgpack_packer *pk;
	struct cr_reply r;
	struct inv_view v;
	uint64_t id;
	int rc;

	if ((rc = cmd_id(ctx->entry, a->argv[1], &id)) != 0)
		return rc;
	pk = cr_request(ctx->client, "invite.resend");
	msgpack_pack_map(pk, 2 + (note != NULL));
	pk_kstr(pk, "actor", a->argv[0]);
	pk_kuint(pk, "id", id);
	if (note != NULL)
		pk_kstr(pk, "note", note);
	if ((rc = call_finish(ctx, &r)) != 0)
		return rc;
	if (!out_json(ctx, &r) &&
	    (inv = cr_get(r.result, "invitation")) != NULL) {
		inv_read(inv, &v);
		if (cr_get(r.result, "connection") != NULL)
			printf("%.*s and %.*s are now connected (both invited "
			    "each other)\n", (int)v.from.n, v.from.p,
			    (int)v.to.n, v.to.p);
		out_invitation(ctx, inv);
	}
	cr_reply_free(&r);
	return EXIT_DONE;
}

static int
cmd_show_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	const char *as = a->opt[OPT_AS];
	const msgpack_object *inv;
	msgpack_packer *pk;
	struct cr_reply r;
	uint64_t id;
	int rc;

	if ((rc = cmd_id(ctx->entry, a->argv[0], &id)) != 0)
		return rc;
	pk = cr_request(ctx->client, "invite.get");
	msgpack_pack_map(pk, 1 + (as != NULL));
	pk_kuint(pk, "id", id);
	if (as != NULL)
		pk_kstr(pk, "actor", as);
	if ((rc = call_finish(ctx, &r)) != 0)
		return rc;
	if (!out_json(ctx, &r) &&
	    (inv = cr_get(r.result, "invitation")) != NULL)
		out_invitation(ctx, inv);
	cr_reply_free(&r);
	return EXIT_DONE;
}

/* sent and received. */
static int
cmd_list_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	static const int list_opts[] = {
		OPT_STATE, OPT_PRIORITY, OPT_OLDER_THAN, OPT_LIMIT
	};
	const char *box = ctx->entry->name;
	const msgpack_object *items;
	msgpack_packer *pk;
	struct cr_reply r;
	uint64_t after = 0, next;
	size_t i;
	int rc;

	if (a->opt[OPT_AFTER] != NULL && !parse_number(a->opt[OPT_AFTER],
	    &after))
		return cmd_usage_error(ctx->entry,
		    "--after: not an invitation id: %s", a->opt[OPT_AFTER]);
	pk = cr_request(ctx->client, "invite.list");
	msgpack_pack_map(pk, 2 + (a->opt[OPT_STATE] != NULL) +
	    (a->opt[OPT_PRIORITY] != NULL) + (a->opt[OPT_OLDER_THAN] != NULL) +
	    (a->opt[OPT_LIMIT] != NULL) + (a->opt[OPT_AFTER] != NULL));
	pk_kstr(pk, "member", a->argv[0]);
	pk_kstr(pk, "box", box);
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
	if ((rc = call_finish(ctx, &r)) != 0)
		return rc;
	if (out_json(ctx, &r))
		goto out;
	if ((items = obj_items(r.result)) == NULL || items->via.array.size == 0)
		printf("no %s%s invitations for %s\n",
		    a->opt[OPT_AFTER] != NULL ? "more " : "", box, a->argv[0]);
	else
		out_invitations(ctx, items);
	if (obj_uint(r.result, "next", &next)) {
		out_more_start(ctx);
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
out:
	cr_reply_free(&r);
	return EXIT_DONE;
}

static int
cmd_history_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	const msgpack_object *items;
	msgpack_packer *pk;
	struct cr_reply r;
	int rc;

	pk = cr_request(ctx->client, "invite.history");
	msgpack_pack_map(pk, 2);
	pk_kstr(pk, "a", a->argv[0]);
	pk_kstr(pk, "b", a->argv[1]);
	if ((rc = call_finish(ctx, &r)) != 0)
		return rc;
	if (!out_json(ctx, &r)) {
		if ((items = obj_items(r.result)) == NULL ||
		    items->via.array.size == 0)
			printf("no invitations between %s and %s\n",
			    a->argv[0], a->argv[1]);
		else
			out_invitations(ctx, items);
	}
	cr_reply_free(&r);
	return EXIT_DONE;
}

static int
cmd_connections_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	static const char *const head[] = { "MEMBER", "SINCE", "DATE" };
	const char *after = a->opt[OPT_AFTER];
	const msgpack_object *items, *o;
	msgpack_packer *pk;
	struct cr_reply r;
	struct table t;
	struct text first, other, next;
	int64_t since, now;
	char when[48];
	uint32_t i;
	int rc;

	pk = cr_request(ctx->client, "connection.list");
	msgpack_pack_map(pk, 1 + (a->opt[OPT_LIMIT] != NULL) + (after != NULL));
	pk_kstr(pk, "member", a->argv[0]);
	if (a->opt[OPT_LIMIT] != NULL)
		pk_kuint(pk, "limit", a->limit);
	if (after != NULL)
		pk_kstr(pk, "after", after);
	if ((rc = call_finish(ctx, &r)) != 0)
		return rc;
	if (out_json(ctx, &r))
		goto out;
	if ((items = obj_items(r.result)) == NULL ||
	    items->via.array.size == 0) {
		printf("no %sconnections for %s\n",
		    after != NULL ? "more " : "", a->argv[0]);
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
	if (obj_text(r.result, "next", &next)) {
		char *s = xstrndup(next.p, next.n);

		out_more_start(ctx);
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
out:
	cr_reply_free(&r);
	return EXIT_DONE;
}

static int
cmd_disconnect_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	const msgpack_object *removed;
	msgpack_packer *pk;
	struct cr_reply r;
	int64_t since;
	char ago[32], date[48];
	int rc;

	pk = cr_request(ctx->client, "connection.remove");
	msgpack_pack_map(pk, 2);
	pk_kstr(pk, "actor", a->argv[0]);
	pk_kstr(pk, "other", a->argv[1]);
	if ((rc = call_finish(ctx, &r)) != 0)
		return rc;
	if (!out_json(ctx, &r)) {
		printf("%s and %s are no longer connected", a->argv[0],
		    a->argv[1]);
		removed = cr_get(r.result, "removed");
		if (obj_int(removed, "since", &since) && since > 0) {
			time_put_ago(ctx_now(ctx), since, ago, sizeof ago);
			time_put_date(since, date, sizeof date);
			printf(" (connected %s, %s)", ago, date);
		}
		putchar('\n');
	}
	cr_reply_free(&r);
	return EXIT_DONE;
}

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

static bool
info_key_is(const msgpack_object *key, const char *const *words)
{
	for (; *words != NULL; words++)
		if (proto_obj_is_str(key, *words))
			return true;
	return false;
}

/* The policy map, key by key: durations as "21d", sizes as "64K". */
static void
info_policy(const msgpack_object *policy)
{
	static const char *const durations[] = {
		"expire_after", "resend_cooldown", "stale_after",
		"events_retention", NULL
	};
	const msgpack_object_kv *kv;
	const msgpack_object *el;
	char label[64], value[128];
	size_t i, n, off;
	uint32_t k, j;

	if (policy == NULL || policy->type != MSGPACK_OBJECT_MAP)
		return;
	printf("policy\n");
	for (k = 0; k < policy->via.map.size; k++) {
		kv = &policy->via.map.ptr[k];
		if (kv->key.type != MSGPACK_OBJECT_STR)
			continue;
		n = kv->key.via.str.size < sizeof label - 1 ?
		    kv->key.via.str.size : sizeof label - 1;
		memcpy(label, kv->key.via.str.ptr, n);
		label[n] = '\0';
		for (i = 0; i < n; i++)
			if (label[i] == '_')
				label[i] = ' ';
		if (kv->val.type == MSGPACK_OBJECT_BOOLEAN)
			snprintf(value, sizeof value, "%s",
			    kv->val.via.boolean ? "yes" : "no");
		else if (kv->val.type == MSGPACK_OBJECT_ARRAY) {
			/* A list of durations: "21d, 90d". */
			value[0] = '\0';
			for (j = 0, off = 0; j < kv->val.via.array.size &&
			    off + 24 < sizeof value; j++) {
				el = &kv->val.via.array.ptr[j];
				if (j > 0)
					off += (size_t)snprintf(value + off,
					    sizeof value - off, ", ");
				if (el->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
					time_put_duration(el->via.u64,
					    value + off, sizeof value - off);
				off = strlen(value);
			}
		} else if (kv->val.type != MSGPACK_OBJECT_POSITIVE_INTEGER)
			snprintf(value, sizeof value, "?");
		else if (info_key_is(&kv->key, durations))
			time_put_duration(kv->val.via.u64, value, sizeof value);
		else if (n > 6 && strcmp(label + n - 6, " bytes") == 0)
			size_put(kv->val.via.u64, value, sizeof value);
		else
			snprintf(value, sizeof value, "%" PRIu64,
			    kv->val.via.u64);
		printf("  %-30s%s\n", label, value);
	}
}

static int
cmd_info_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	const msgpack_object *counts, *o;
	const msgpack_object_kv *kv;
	struct cr_reply r;
	struct text version, path;
	uint64_t protocol, count, size, size_max, conns = 0;
	int64_t now, started, next;
	char date[48], rel[32], s1[32], s2[32];
	bool virt = false;
	uint32_t k;
	int rc;

	(void)a;
	cr_request(ctx->client, "server.info");
	if ((rc = call_finish(ctx, &r)) != 0)
		return rc;
	if (out_json(ctx, &r))
		goto out;
	obj_text(r.result, "version", &version);
	obj_uint(r.result, "protocol", &protocol);
	obj_int(r.result, "now", &now);
	obj_int(r.result, "started_at", &started);
	ctx->now = now;
	ctx->have_now = true;
	if ((o = cr_get(r.result, "virtual_clock")) != NULL &&
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

	counts = cr_get(r.result, "counts");
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

	o = cr_get(r.result, "deadlines");
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

	o = cr_get(r.result, "store");
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
	info_policy(cr_get(r.result, "policy"));
out:
	cr_reply_free(&r);
	return EXIT_DONE;
}

static int
cmd_clock_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	msgpack_packer *pk;
	struct cr_reply r;
	uint64_t secs;
	int64_t now;
	char date[48], d[32];
	int rc;

	if (strcmp(a->argv[0], "advance") != 0)
		return cmd_usage_error(ctx->entry, "clock: unknown subcommand: %s",
		    a->argv[0]);
	if (duration_parse(a->argv[1], &secs) != 0)
		return cmd_usage_error(ctx->entry, "not a duration (such as "
		    "90s, 30m, 12h, 21d, 3w): %s", a->argv[1]);
	pk = cr_request(ctx->client, "clock.advance");
	msgpack_pack_map(pk, 1);
	pk_kuint(pk, "seconds", secs);
	if ((rc = call_finish(ctx, &r)) != 0)
		return rc;
	if (!out_json(ctx, &r)) {
		obj_int(r.result, "now", &now);
		time_put_date(now, date, sizeof date);
		time_put_duration(secs, d, sizeof d);
		printf("the clock is now %s (moved %s forward)\n", date, d);
	}
	cr_reply_free(&r);
	return EXIT_DONE;
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
	if (inv != NULL && inv->type == MSGPACK_OBJECT_MAP) {
		v->has_inv = true;
		inv_read(inv, &v->inv);
	}
}

/* printf for the line of an event: %s for strings of ours, and "%T" for a
 * struct text from the event, which is written cleaned. */
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
	else {
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
	else {
		ev_printf("%T for %T", v->type, v->member);
		if (v->has_inv)
			ev_printf(" (invitation %u)", i->id);
	}
}

/* Prints "connreq [-s SOCKET] watch MEMBER|--all --after SEQ". */
static void
watch_put_resume(FILE *f, const struct watch *w, uint64_t after)
{
	fputs("connreq ", f);
	if (w->ctx->socket_flag != NULL) {
		fputs("-s ", f);
		text_put_shell(f, w->ctx->socket_flag);
		fputc(' ', f);
	}
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
		fputs("connreq: is it running? start it with `connreqd` or "
		    "`make run`\n", stderr);
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
	cr_close(ctx.client);
	free(sock);
	/* Output that could not be written is a failure too. */
	if (fflush(stdout) == EOF && rc == EXIT_DONE) {
		fprintf(stderr, "connreq: stdout: %s\n", strerror(errno));
		rc = EXIT_REFUSED;
	}
	return rc;
}
