/* client/cmd-import.c: connreq import FILE, bulk import (import.rows).
 * Each line of FILE (- : stdin) is a JSON object, a row of import.rows;
 * rows go in batches, several on the wire at once, and each is answered:
 * imported, a duplicate, or refused, told with its line number. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define IMPORT_BATCH_ROWS 1000		/* import.rows' bound */
/* A batch fits connreqd's max_message_bytes (server.info's policy), of
 * bytes and of elements (at most one per 16 bytes, docs/protocol.md
 * 2.4), with room for the request around the rows. */
#define IMPORT_ROOM 256
#define IMPORT_INFLIGHT 4		/* batches on the wire at once */
#define IMPORT_LINE_MAX 16384

/* JSON to msgpack: one value at *s, packed into pk. 0, or -1 with *why. */
struct jp {
	const char *start, *s, *end;
	const char *why;
	int depth;
	size_t elems;		/* msgpack objects packed, keys too */
};

static void
jp_ws(struct jp *j)
{
	while (j->s < j->end && (*j->s == ' ' || *j->s == '\t' ||
	    *j->s == '\r' || *j->s == '\n'))
		j->s++;
}

static int
jp_fail(struct jp *j, const char *why)
{
	j->why = why;
	return -1;
}

static int
jp_hex4(struct jp *j, unsigned *v)
{
	int i;
	char c;

	*v = 0;
	if (j->end - j->s < 4)
		return jp_fail(j, "a bad \\u escape");
	for (i = 0; i < 4; i++) {
		c = *j->s++;
		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*v |= (unsigned)(c - 'A' + 10);
		else
			return jp_fail(j, "a bad \\u escape");
	}
	return 0;
}

static size_t
utf8_put(char *b, unsigned cp)
{
	if (cp < 0x80) {
		b[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	b[0] = (char)(0xf0 | (cp >> 18));
	b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	b[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static int
jp_string(struct jp *j, msgpack_packer *pk)
{
	char *buf = xmalloc((size_t)(j->end - j->s) + 1);
	size_t n = 0;
	unsigned cp, lo;
	char c;

	j->s++;		/* the quote */
	for (;;) {
		if (j->s >= j->end) {
			free(buf);
			return jp_fail(j, "a string without its end");
		}
		c = *j->s++;
		if (c == '"')
			break;
		if ((unsigned char)c < 0x20) {
			free(buf);
			return jp_fail(j, "a control character in a string");
		}
		if (c != '\\') {
			buf[n++] = c;
			continue;
		}
		if (j->s >= j->end) {
			free(buf);
			return jp_fail(j, "a string without its end");
		}
		switch ((c = *j->s++)) {
		case '"': case '\\': case '/': buf[n++] = c; break;
		case 'b': buf[n++] = '\b'; break;
		case 'f': buf[n++] = '\f'; break;
		case 'n': buf[n++] = '\n'; break;
		case 'r': buf[n++] = '\r'; break;
		case 't': buf[n++] = '\t'; break;
		case 'u':
			if (jp_hex4(j, &cp) == -1) {
				free(buf);
				return -1;
			}
			if (cp >= 0xd800 && cp < 0xdc00) {
				if (j->end - j->s < 6 || j->s[0] != '\\' ||
				    j->s[1] != 'u') {
					free(buf);
					return jp_fail(j, "a lone surrogate");
				}
				j->s += 2;
				if (jp_hex4(j, &lo) == -1 || lo < 0xdc00 ||
				    lo > 0xdfff) {
					free(buf);
					return jp_fail(j, "a lone surrogate");
				}
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
			} else if (cp >= 0xdc00 && cp < 0xe000) {
				free(buf);
				return jp_fail(j, "a lone surrogate");
			}
			n += utf8_put(buf + n, cp);
			break;
		default:
			free(buf);
			return jp_fail(j, "a bad escape in a string");
		}
	}
	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, buf, n);
	free(buf);
	return 0;
}

static int jp_value(struct jp *j, msgpack_packer *pk);

/* An object or an array: its members packed apart, counted, then put. */
static int
jp_container(struct jp *j, msgpack_packer *pk, bool object)
{
	msgpack_sbuffer sb;
	msgpack_packer sub;
	size_t count = 0;
	int rc = -1;

	if (++j->depth > 32)
		return jp_fail(j, "nested too deep");
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&sub, &sb, msgpack_sbuffer_write);
	j->s++;
	jp_ws(j);
	if (j->s < j->end && *j->s == (object ? '}' : ']')) {
		j->s++;
		rc = 0;
		goto done;
	}
	for (;;) {
		jp_ws(j);
		if (object) {
			if (j->s >= j->end || *j->s != '"') {
				jp_fail(j, "an object's key must be a string");
				goto done;
			}
			j->elems++;
			if (jp_string(j, &sub) == -1)
				goto done;
			jp_ws(j);
			if (j->s >= j->end || *j->s != ':') {
				jp_fail(j, "a ':' missing after a key");
				goto done;
			}
			j->s++;
		}
		if (jp_value(j, &sub) == -1)
			goto done;
		count++;
		jp_ws(j);
		if (j->s < j->end && *j->s == ',') {
			j->s++;
			continue;
		}
		if (j->s < j->end && *j->s == (object ? '}' : ']')) {
			j->s++;
			rc = 0;
			break;
		}
		jp_fail(j, object ? "a ',' or '}' missing" :
		    "a ',' or ']' missing");
		goto done;
	}
done:
	if (rc == 0) {
		if (object)
			msgpack_pack_map(pk, count);
		else
			msgpack_pack_array(pk, count);
		msgpack_sbuffer_write(pk->data, sb.data, sb.size);
	}
	msgpack_sbuffer_destroy(&sb);
	j->depth--;
	return rc;
}

static int
jp_number(struct jp *j, msgpack_packer *pk)
{
	const char *p = j->s;
	char num[64], *e;
	size_t n;
	bool frac = false;

	if (p < j->end && *p == '-')
		p++;
	if (p >= j->end || *p < '0' || *p > '9')
		return jp_fail(j, "not a JSON value");
	while (p < j->end && ((*p >= '0' && *p <= '9') || *p == '.' ||
	    *p == 'e' || *p == 'E' || *p == '+' || *p == '-')) {
		if (*p == '.' || *p == 'e' || *p == 'E')
			frac = true;
		p++;
	}
	n = (size_t)(p - j->s);
	if (n >= sizeof num)
		return jp_fail(j, "a number too long");
	memcpy(num, j->s, n);
	num[n] = '\0';
	errno = 0;
	if (!frac && num[0] == '-') {
		long long v = strtoll(num, &e, 10);

		if (*e != '\0' || errno != 0)
			return jp_fail(j, "a bad number");
		msgpack_pack_int64(pk, v);
	} else if (!frac) {
		unsigned long long v = strtoull(num, &e, 10);

		if (*e != '\0' || errno != 0)
			return jp_fail(j, "a bad number");
		msgpack_pack_uint64(pk, v);
	} else {
		double v = strtod(num, &e);

		if (*e != '\0')
			return jp_fail(j, "a bad number");
		msgpack_pack_double(pk, v);
	}
	j->s = p;
	return 0;
}

static bool
jp_word(struct jp *j, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(j->end - j->s) < n || memcmp(j->s, w, n) != 0)
		return false;
	j->s += n;
	return true;
}

static int
jp_value(struct jp *j, msgpack_packer *pk)
{
	j->elems++;
	jp_ws(j);
	if (j->s >= j->end)
		return jp_fail(j, "a value missing");
	switch (*j->s) {
	case '{':
		return jp_container(j, pk, true);
	case '[':
		return jp_container(j, pk, false);
	case '"':
		return jp_string(j, pk);
	}
	if (jp_word(j, "true"))
		msgpack_pack_true(pk);
	else if (jp_word(j, "false"))
		msgpack_pack_false(pk);
	else if (jp_word(j, "null"))
		msgpack_pack_nil(pk);
	else
		return jp_number(j, pk);
	return 0;
}

/* One line as one JSON value, packed: 0, or -1 with *why and *at, the
 * byte (from 1) where it went wrong; *elems: the msgpack objects it
 * made. */
static int
json_line(const char *s, size_t n, msgpack_packer *pk, const char **why,
    size_t *at, size_t *elems)
{
	struct jp j = { s, s, s + n, NULL, 0, 0 };

	if (jp_value(&j, pk) == -1) {
		*why = j.why;
		*at = (size_t)(j.s - j.start) + 1;
		return -1;
	}
	*elems = j.elems;
	jp_ws(&j);
	if (j.s != j.end) {
		*why = "text after the value";
		*at = (size_t)(j.s - j.start) + 1;
		return -1;
	}
	return 0;
}

/* A batch on the wire: its rows' line numbers, and the lines among them
 * refused here (not JSON, too long...), told with the batch's answer so
 * that every refusal comes in line order. */
struct batch {
	uint32_t msgid;
	size_t n;
	size_t elems;
	uint64_t line[IMPORT_BATCH_ROWS];
	size_t nlocal, caplocal;
	uint64_t *local_line;
	char **local_msg;
};

static struct batch *
batch_new(void)
{
	struct batch *b = xmalloc(sizeof *b);

	b->n = 0;
	b->elems = 0;
	b->nlocal = b->caplocal = 0;
	b->local_line = NULL;
	b->local_msg = NULL;
	return b;
}

static void
batch_free(struct batch *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->nlocal; i++)
		free(b->local_msg[i]);
	free(b->local_line);
	free(b->local_msg);
	free(b);
}

struct imp {
	struct cmd_ctx *ctx;
	uint64_t imported, duplicates, refused, lines;
	bool progress;
	bool json_open;		/* --json: {"refusals":[ printed */
	size_t max_bytes, max_elems;	/* of a batch's rows */
	struct batch *fly[IMPORT_INFLIGHT];
	unsigned nfly;
	/* The batch being filled. */
	msgpack_sbuffer rows;
	msgpack_packer pk;
	struct batch *cur;
};

static void
imp_refusal(struct imp *m, uint64_t line, const char *code, size_t clen,
    const char *msg, size_t mlen)
{
	msgpack_object o;

	if (m->progress)
		fputs("\r\033[K", stderr);
	m->refused++;
	if (m->ctx->json) {
		/* Streamed: one JSON object on stdout in the end (the
		 * summary's keys after the list, imp_json_end). */
		fputs(m->json_open ? "," : "{\"refusals\":[", stdout);
		m->json_open = true;
		printf("{\"line\":%llu,\"code\":", (unsigned long long)line);
		o.type = MSGPACK_OBJECT_STR;
		o.via.str.ptr = code;
		o.via.str.size = (uint32_t)clen;
		cr_json_print(stdout, &o);
		fputs(",\"message\":", stdout);
		o.via.str.ptr = msg;
		o.via.str.size = (uint32_t)mlen;
		cr_json_print(stdout, &o);
		putchar('}');
		return;
	}
	printf("line %llu: ", (unsigned long long)line);
	text_put(stdout, code, clen);
	fputs(": ", stdout);
	text_put(stdout, msg, mlen);
	putchar('\n');
}

/* A line refused here (INVALID_ARGUMENT), told after the lines before it:
 * kept with the batch being filled. */
static void
imp_refuse_local(struct imp *m, uint64_t line, const char *msg)
{
	struct batch *b;

	if (m->cur == NULL)
		m->cur = batch_new();
	b = m->cur;
	if (b->nlocal == b->caplocal) {
		b->caplocal = b->caplocal ? 2 * b->caplocal : 8;
		b->local_line = xrealloc(b->local_line,
		    b->caplocal * sizeof *b->local_line);
		b->local_msg = xrealloc(b->local_msg,
		    b->caplocal * sizeof *b->local_msg);
	}
	b->local_line[b->nlocal] = line;
	b->local_msg[b->nlocal++] = xstrndup(msg, strlen(msg));
}

/* Tells b's local refusals of lines before `before` (all: UINT64_MAX)
 * from *next on. */
static void
imp_tell_local(struct imp *m, struct batch *b, size_t *next,
    uint64_t before)
{
	for (; *next < b->nlocal && b->local_line[*next] < before; (*next)++)
		imp_refusal(m, b->local_line[*next], "INVALID_ARGUMENT", 16,
		    b->local_msg[*next], strlen(b->local_msg[*next]));
}

static void
imp_progress(struct imp *m)
{
	if (!m->progress)
		return;
	fprintf(stderr, "\rline %llu: %llu imported, %llu duplicates, "
	    "%llu refused", (unsigned long long)m->lines,
	    (unsigned long long)m->imported,
	    (unsigned long long)m->duplicates,
	    (unsigned long long)m->refused);
}

/* Waits for the oldest batch on the wire and tells its rows. 0, or an
 * exit code. */
static int
imp_reap(struct imp *m)
{
	struct batch *b = m->fly[0];
	struct cr_reply r;
	const msgpack_object *rows, *st;
	struct text code, msg, status;
	size_t i, local = 0;

	if (cr_wait(m->ctx->client, b->msgid, &r) == -1) {
		fprintf(stderr, "connreq: %s\n",
		    cr_strerror(m->ctx->client));
		return EXIT_UNREACHABLE;
	}
	memmove(m->fly, m->fly + 1, (m->nfly - 1) * sizeof m->fly[0]);
	m->nfly--;
	if (r.error != NULL) {
		/* The whole batch: nothing of it was written. */
		for (i = 0; i < b->n; i++) {
			imp_tell_local(m, b, &local, b->line[i]);
			imp_refusal(m, b->line[i], r.code, strlen(r.code),
			    r.message, strlen(r.message));
		}
		imp_tell_local(m, b, &local, UINT64_MAX);
		cr_reply_free(&r);
		batch_free(b);
		return strcmp(r.code, "UNAVAILABLE") == 0 ?
		    EXIT_UNAVAILABLE : 0;
	}
	rows = cr_get(r.result, "rows");
	if (rows == NULL || rows->type != MSGPACK_OBJECT_ARRAY ||
	    rows->via.array.size != b->n) {
		fputs("connreq: import.rows answered an unexpected result\n",
		    stderr);
		cr_reply_free(&r);
		batch_free(b);
		return EXIT_REFUSED;
	}
	for (i = 0; i < b->n; i++) {
		imp_tell_local(m, b, &local, b->line[i]);
		st = &rows->via.array.ptr[i];
		if (!obj_text(st, "status", &status))
			continue;
		if (text_is(status, "imported"))
			m->imported++;
		else if (text_is(status, "duplicate"))
			m->duplicates++;
		else {
			if (!obj_text(st, "code", &code))
				code.p = "", code.n = 0;
			if (!obj_text(st, "message", &msg))
				msg.p = "", msg.n = 0;
			imp_refusal(m, b->line[i], code.p, code.n, msg.p,
			    msg.n);
		}
	}
	imp_tell_local(m, b, &local, UINT64_MAX);
	cr_reply_free(&r);
	batch_free(b);
	imp_progress(m);
	return 0;
}

/* Sends the batch being filled, its rows packed in rows[0..upto); what
 * follows (the row that did not fit) begins the next batch. 0, or an
 * exit code. */
static int
imp_flush_upto(struct imp *m, size_t upto)
{
	msgpack_packer *pk;
	int64_t id;
	int rc;

	if (m->cur == NULL || m->cur->n == 0)
		return 0;
	if (m->nfly == IMPORT_INFLIGHT && (rc = imp_reap(m)) != 0)
		return rc;
	pk = cr_request(m->ctx->client, METHOD(IMPORT_ROWS));
	msgpack_pack_map(pk, 1);
	pk_key(pk, "rows");
	msgpack_pack_array(pk, m->cur->n);
	msgpack_sbuffer_write(pk->data, m->rows.data, upto);
	if ((id = cr_send(m->ctx->client)) == -1) {
		fprintf(stderr, "connreq: %s\n",
		    cr_strerror(m->ctx->client));
		return EXIT_UNREACHABLE;
	}
	m->cur->msgid = (uint32_t)id;
	m->fly[m->nfly++] = m->cur;
	m->cur = batch_new();
	memmove(m->rows.data, m->rows.data + upto, m->rows.size - upto);
	m->rows.size -= upto;
	return 0;
}

static int
imp_flush(struct imp *m)
{
	return imp_flush_upto(m, m->rows.size);
}

/* Tells every refusal so far: sends the batch being filled, waits for
 * all on the wire, then tells the lines refused here since. So that a
 * file of bad lines keeps at most a batch's worth in memory. 0, or an
 * exit code. */
static int
imp_drain(struct imp *m)
{
	size_t i, local = 0;
	int rc;

	if ((rc = imp_flush(m)) != 0)
		return rc;
	while (m->nfly > 0)
		if ((rc = imp_reap(m)) != 0)
			return rc;
	if (m->cur != NULL) {
		imp_tell_local(m, m->cur, &local, UINT64_MAX);
		for (i = 0; i < m->cur->nlocal; i++)
			free(m->cur->local_msg[i]);
		m->cur->nlocal = 0;
	}
	return 0;
}

static int
imp_run(struct imp *m, FILE *f)
{
	char *line = NULL;
	size_t cap = 0, before, elems, at;
	ssize_t len;
	const char *why;
	char msg[96];
	int rc = 0;

	while ((len = getline(&line, &cap, f)) != -1) {
		m->lines++;
		while (len > 0 && (line[len - 1] == '\n' ||
		    line[len - 1] == '\r'))
			len--;
		if (len == 0)
			continue;	/* a blank line: nothing */
		if (m->cur != NULL && m->cur->nlocal >= IMPORT_BATCH_ROWS &&
		    (rc = imp_drain(m)) != 0)
			break;
		if (len > IMPORT_LINE_MAX ||
		    (size_t)len + IMPORT_ROOM > m->max_bytes) {
			imp_refuse_local(m, m->lines, "the line is too long");
			continue;
		}
		if (m->cur == NULL)
			m->cur = batch_new();
		before = m->rows.size;
		if (json_line(line, (size_t)len, &m->pk, &why, &at,
		    &elems) == -1) {
			m->rows.size = before;	/* what it packed goes */
			snprintf(msg, sizeof msg, "not JSON: %s at byte %zu",
			    why, at);
			imp_refuse_local(m, m->lines, msg);
			continue;
		}
		if (elems > m->max_elems) {
			m->rows.size = before;
			imp_refuse_local(m, m->lines,
			    "the row has too many fields");
			continue;
		}
		/* A row that would take the batch past a bound starts the
		 * next one. */
		if (m->cur->n > 0 && (m->rows.size > m->max_bytes ||
		    m->cur->elems + elems > m->max_elems)) {
			if ((rc = imp_flush_upto(m, before)) != 0)
				break;
		}
		m->cur->line[m->cur->n++] = m->lines;
		m->cur->elems += elems;
		if (m->cur->n == IMPORT_BATCH_ROWS)
			if ((rc = imp_flush(m)) != 0)
				break;
	}
	free(line);
	if (rc == 0 && ferror(f)) {
		fprintf(stderr, "connreq: reading: %s\n", strerror(errno));
		rc = EXIT_USAGE;
	}
	if (rc == 0)
		rc = imp_drain(m);
	return rc;
}

static int cmd_import_exec(struct cmd_ctx *ctx, const struct cmd_args *a);

const struct cmd_entry cmd_import_entry = {
	.name = "import",
	.args_min = 1,
	.args_max = 1,
	.usage = "import FILE",
	.help = "Imports existing connections and pending invitations from "
	    "FILE (- : standard input), one JSON object a line: "
	    "{\"id\", \"type\": \"connection\", \"a\", \"b\", \"since\"} or "
	    "{\"id\", \"type\": \"invitation\", \"from\", \"to\", "
	    "\"created_at\", \"note\"?, \"expires_at\"?, \"priority\"?}, "
	    "times in Unix seconds. A row whose id was imported before is "
	    "a duplicate, imported once. Refused rows are listed with their "
	    "line numbers, in line order, then a summary; a progress line goes to a "
	    "terminal. With --json, one JSON object: \"refusals\" (each "
	    "with its \"line\", \"code\" and \"message\"), \"imported\", "
	    "\"duplicates\" and \"refused\". Exits 0 when every row was imported or a duplicate, "
	    "1 when any was refused.",
	.exec = cmd_import_exec
};

static int
cmd_import_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	struct imp m;
	FILE *f;
	uint64_t maxb;
	int rc;

	if (strcmp(a->argv[0], "-") == 0)
		f = stdin;
	else if ((f = fopen(a->argv[0], "r")) == NULL) {
		fprintf(stderr, "connreq: %s: %s\n", a->argv[0],
		    strerror(errno));
		return EXIT_USAGE;
	}
	memset(&m, 0, sizeof m);
	m.ctx = ctx;
	m.progress = isatty(STDERR_FILENO) == 1;
	if (!ctx_policy(ctx, "max_message_bytes", &maxb))
		maxb = 65536;
	m.max_bytes = (size_t)maxb - IMPORT_ROOM;
	m.max_elems = (size_t)maxb / 16 - IMPORT_ROOM / 16;
	msgpack_sbuffer_init(&m.rows);
	msgpack_packer_init(&m.pk, &m.rows, msgpack_sbuffer_write);
	rc = imp_run(&m, f);
	if (f != stdin)
		fclose(f);
	msgpack_sbuffer_destroy(&m.rows);
	batch_free(m.cur);
	while (m.nfly > 0)
		batch_free(m.fly[--m.nfly]);
	if (m.progress)
		fputs("\r\033[K", stderr);
	if (ctx->json)
		printf("%s],\"imported\":%llu,\"duplicates\":%llu,"
		    "\"refused\":%llu}\n", m.json_open ? "" : "{\"refusals\":[",
		    (unsigned long long)m.imported,
		    (unsigned long long)m.duplicates,
		    (unsigned long long)m.refused);
	else
		printf("%llu imported, %llu duplicates, %llu refused\n",
		    (unsigned long long)m.imported,
		    (unsigned long long)m.duplicates,
		    (unsigned long long)m.refused);
	if (rc != 0)
		return rc;
	return m.refused > 0 ? EXIT_REFUSED : EXIT_DONE;
}
