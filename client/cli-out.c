/* client/cli-out.c: connreq's output helpers: text cleaned of control
 * characters and quoted for the shell, wrapped help, times relative to the
 * daemon's clock, sizes and rates, values read from results, tables fitted
 * to the terminal, colour, and results printed as text or JSON. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define HELP_WIDTH 76
#define TABLE_COLS_MAX 8
#define TABLE_NAME_MIN 8	/* a member id cut to fit keeps this much */
#define TABLE_WRAP_INDENT 4	/* the last column, on a line of its own */

/* ---- Text ---- */

/* Writes s[0..n) with control characters as spaces: replies may hold
 * anything a member typed. */
void
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
void
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
void
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
void
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
void
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

/* Writes "connreq " or "connreq -s SOCKET ", the start of a command line
 * to suggest: with -s as this one was given, quoted for the shell. */
void
hint_connreq(FILE *f, const struct cmd_ctx *ctx)
{
	fputs("connreq ", f);
	if (ctx->socket_flag != NULL) {
		fputs("-s ", f);
		text_put_shell(f, ctx->socket_flag);
		fputc(' ', f);
	}
}

/* ---- Times, sizes, rates ---- */

/* --local: absolute times in the local time zone (TZ), not UTC. */
static bool time_local;

void
time_use_local(void)
{
	time_local = true;
}

/* t in local time, "2026-01-22 01:00", and its zone (" CET") when zone;
 * false when it cannot be. */
static bool
time_put_local(int64_t t, bool zone, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL)
		return false;
	if (zone)
		return strftime(buf, n, "%Y-%m-%d %H:%M %Z", &tm) > 0;
	return strftime(buf, n, "%Y-%m-%d %H:%M", &tm) > 0;
}

/* "2026-01-22 00:00 UTC", or with --local "2026-01-22 01:00 CET". */
void
time_put_date(int64_t t, char *buf, size_t n)
{
	char s[32];

	if (time_local && time_put_local(t, true, buf, n))
		return;
	time_format(t, s, sizeof s);
	snprintf(buf, n, "%s UTC", s);
}

/* "2026-01-22 00:00": UTC, or local time with --local; for lines that
 * begin with it (watch). */
void
time_put_stamp(int64_t t, char *buf, size_t n)
{
	if (time_local && time_put_local(t, false, buf, n))
		return;
	time_format(t, buf, n);
}

/* t, in the past of now: "3w ago", "just now". */
void
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
void
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
void
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
void
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

/* Colour on a terminal only, and never with NO_COLOR (no-color.org). */
bool
use_colour(void)
{
	const char *no = getenv("NO_COLOR"), *term = getenv("TERM");

	return isatty(STDOUT_FILENO) && (no == NULL || no[0] == '\0') &&
	    term != NULL && strcmp(term, "dumb") != 0;
}

/* The SGR colour of a state, of an invitation, an introduction or a
 * plan ("pending", "held"...); "" for none. */
const char *
state_colour(const char *s, size_t n)
{
	static const struct {
		const char *word;
		const char *sgr;
	} map[] = {
		{ "pending", "\033[33m" },	/* yellow: waits for an answer */
		{ "asked", "\033[33m" },
		{ "active", "\033[33m" },
		{ "held", "\033[35m" },	/* magenta: set aside */
		{ "accepted", "\033[32m" },	/* green: done, well */
		{ "forwarded", "\033[32m" },
		{ "done", "\033[32m" },
		{ "ignored", "\033[2m" },	/* dim: quietly gone */
		{ "withdrawn", "\033[2m" },
		{ "declined", "\033[2m" },
		{ "cancelled", "\033[2m" },
		{ "expired", "\033[31m" },	/* red: ran out */
	};
	size_t i, w;

	for (i = 0; i < sizeof map / sizeof map[0]; i++) {
		w = strlen(map[i].word);
		/* "forwarded (12)": the word first. */
		if (n >= w && memcmp(s, map[i].word, w) == 0 &&
		    (n == w || s[w] == ' '))
			return map[i].sgr;
	}
	return "";
}

/* A rate as a percentage: "30%", "57%"; "33.5%" with tenths when
 * precise and they are not 0. */
void
rate_put(double r, bool precise, char *buf, size_t n)
{
	long tenths = r > 0 ? (long)(r * 1000 + 0.5) : 0;

	if (precise && tenths % 10 != 0)
		snprintf(buf, n, "%ld.%ld%%", tenths / 10, tenths % 10);
	else
		snprintf(buf, n, "%ld%%", (tenths + 5) / 10);
}

/* A limit: "3", or "off" for 0. */
void
limit_put(uint64_t v, char *buf, size_t n)
{
	if (v == 0)
		snprintf(buf, n, "off");
	else
		snprintf(buf, n, "%" PRIu64, v);
}

/* ---- Reading results ---- */

bool
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

bool
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

bool
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
bool
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

bool
obj_double(const msgpack_object *map, const char *key, double *v)
{
	return num_double(cr_get(map, key), v);
}

const msgpack_object *
obj_items(const msgpack_object *result)
{
	const msgpack_object *o = cr_get(result, "items");

	return o != NULL && o->type == MSGPACK_OBJECT_ARRAY ? o : NULL;
}

bool
text_is(struct text t, const char *s)
{
	return t.n == strlen(s) && memcmp(t.p, s, t.n) == 0;
}

void
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
	v->has_mutual = obj_uint(o, "mutual_count", &v->mutual_count);
	{
		const msgpack_object *au = cr_get(o, "automatic");

		v->automatic = au != NULL &&
		    au->type == MSGPACK_OBJECT_BOOLEAN && au->via.boolean;
	}
}

/* ---- Tables ---- */

void
table_init(struct table *t, size_t ncols, const char *const *head)
{
	size_t c;

	memset(t, 0, sizeof *t);
	t->ncols = ncols;
	for (c = 0; c < ncols; c++)
		table_add(t, head[c], strlen(head[c]), 0);
}

/* Appends one cell (row by row), cleaned and cut to max characters. */
void
table_add(struct table *t, const char *s, size_t n, size_t max)
{
	if (t->ncells == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 64;
		t->cell = xrealloc(t->cell, t->cap * sizeof *t->cell);
	}
	t->cell[t->ncells++] = text_clean(s, n, max);
}

void
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
table_put_row(const struct table *t, char *const *cell, size_t ncols,
    const size_t *width, bool colour)
{
	size_t c, w, last = 0, pad = 0;
	const char *sgr;

	for (c = 0; c < ncols; c++)
		if (cell[c][0] != '\0')
			last = c;
	for (c = 0; c <= last; c++) {
		sgr = colour && c + 1 == t->state_col ?
		    state_colour(cell[c], strlen(cell[c])) : "";
		printf("%*s%s%s%s", (int)pad, "", sgr, cell[c],
		    sgr[0] != '\0' ? "\033[0m" : "");
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
	unsigned long long v;
	char *end;

	if (isatty(STDOUT_FILENO) &&
	    ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	/* A whole number from 1 to 9999, nothing before or after. */
	if (env != NULL && *env >= '0' && *env <= '9') {
		v = strtoull(env, &end, 10);
		if (*end == '\0' && v > 0 && v < 10000)
			return (size_t)v;
	}
	return 80;
}

/* Cuts the cells of column c, below the header, to max characters. */
static void
table_cut(struct table *t, size_t c, size_t max)
{
	size_t i;
	char *cut;

	for (i = t->ncols + c; i < t->ncells; i += t->ncols) {
		if (utf8_chars(t->cell[i], strlen(t->cell[i])) <= max)
			continue;
		cut = text_clean(t->cell[i], strlen(t->cell[i]), max);
		free(t->cell[i]);
		t->cell[i] = cut;
	}
}

static void
table_widths(const struct table *t, size_t *widths)
{
	size_t i, c, w;

	memset(widths, 0, TABLE_COLS_MAX * sizeof *widths);
	for (i = 0; i < t->ncells; i++) {
		c = i % t->ncols;
		w = utf8_chars(t->cell[i], strlen(t->cell[i]));
		if (w > widths[c])
			widths[c] = w;
	}
}

/* Fits the rows in width. The member ids are cut first (the longest
 * first, to TABLE_NAME_MIN at least) while the last column, free text,
 * would have less than a third of the width; then the last column is cut
 * (it keeps min characters at least); if the rows are still too wide, it
 * goes on lines of its own, under each row (t->wrapped). */
static void
table_fit(struct table *t, size_t width, size_t min)
{
	size_t widths[TABLE_COLS_MAX], used = 0, c, last, widest, target;

	last = t->ncols - 1;
	table_widths(t, widths);
	/* Names are cut before free text goes below a third of the width. */
	target = min < width / 3 ? width / 3 : min;
	for (c = 0; c < last; c++)
		used += widths[c] + 2;
	for (;;) {
		if (used + target <= width || used + widths[last] <= width)
			break;
		widest = last;
		for (c = 0; c < last; c++)
			if ((t->names & (1u << c)) &&
			    widths[c] > TABLE_NAME_MIN &&
			    (widest == last || widths[c] > widths[widest]))
				widest = c;
		if (widest == last)
			break;
		widths[widest]--;
		used--;
	}
	for (c = 0; c < last; c++)
		if (t->names & (1u << c))
			table_cut(t, c, widths[c]);
	if (used + min <= width || used + widths[last] <= width) {
		table_cut(t, last, width > used + min ? width - used : min);
		return;
	}
	t->wrapped = true;
	used = TABLE_WRAP_INDENT + strlen(t->cell[last]) + 2;	/* "note: " */
	table_cut(t, last, width > used + min ? width - used : min);
}

/* Prints the rows in aligned columns; on a terminal (or with $COLUMNS) the
 * last column, free text, is cut to fit the width. */
/* The last column's cell on a line of its own: "    note: Hi". */
static void
table_put_wrapped(const struct table *t, const char *cell)
{
	const char *h;

	printf("%*s", TABLE_WRAP_INDENT, "");
	for (h = t->cell[t->ncols - 1]; *h != '\0'; h++)
		putchar(*h >= 'A' && *h <= 'Z' ? *h - 'A' + 'a' : *h);
	printf(": %s\n", cell);
}

void
table_print(struct table *t)
{
	size_t width[TABLE_COLS_MAX], i, ncols = t->ncols;
	const char *last;
	bool colour = t->state_col > 0 && use_colour();

	if (t->fit_always || isatty(STDOUT_FILENO) || getenv("COLUMNS") != NULL)
		table_fit(t, term_width(), t->fit_min ? t->fit_min : 8);
	if (t->wrapped)
		ncols--;
	table_widths(t, width);
	for (i = 0; i + t->ncols <= t->ncells; i += t->ncols) {
		table_put_row(t, t->cell + i, ncols, width, colour);
		last = t->cell[i + t->ncols - 1];
		if (t->wrapped && i > 0 && last[0] != '\0')
			table_put_wrapped(t, last);
	}
}

void
table_free(struct table *t)
{
	size_t i;

	for (i = 0; i < t->ncells; i++)
		free(t->cell[i]);
	free(t->cell);
}

/* One row of a quota table: LABEL USED LIMIT NOTE. */
void
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
void
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

void
quota_table_init(struct table *t)
{
	static const char *const head[] = { "QUOTA", "USED", "LIMIT", "" };

	table_init(t, 4, head);
}

/* ---- JSON ---- */

/* With --json, prints the result map and returns true. */
bool
out_json(struct cmd_ctx *ctx, const struct cr_reply *r)
{
	if (!ctx->json)
		return false;
	cr_json_print(stdout, r->result);
	putchar('\n');
	return true;
}
