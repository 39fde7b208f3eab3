/* client/json.c: msgpack objects as JSON, for --json output; and JSON text
 * as msgpack, for `connreq call`. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connreq.h"

static void
json_string(FILE *f, const char *s, size_t n)
{
	size_t i;
	unsigned char ch;

	fputc('"', f);
	for (i = 0; i < n; i++) {
		ch = (unsigned char)s[i];
		switch (ch) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (ch < 0x20 || ch == 0x7f)
				fprintf(f, "\\u%04x", ch);
			else
				fputc(ch, f);
		}
	}
	fputc('"', f);
}

/* The shortest text that reads back as the same double (0.3, not
 * 0.29999999999999999); JSON has no NaN or infinity: null. */
static void
json_double(FILE *f, double v)
{
	char buf[32];
	int prec;

	if (!isfinite(v)) {
		fputs("null", f);
		return;
	}
	for (prec = 15; prec < 17; prec++) {
		snprintf(buf, sizeof buf, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	if (prec == 17)
		snprintf(buf, sizeof buf, "%.17g", v);
	fputs(buf, f);
}

void
cr_json_print(FILE *f, const msgpack_object *o)
{
	uint32_t i;

	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		fputs("null", f);
		break;
	case MSGPACK_OBJECT_BOOLEAN:
		fputs(o->via.boolean ? "true" : "false", f);
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		fprintf(f, "%" PRIu64, o->via.u64);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		fprintf(f, "%" PRId64, o->via.i64);
		break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		json_double(f, o->via.f64);
		break;
	case MSGPACK_OBJECT_STR:
		json_string(f, o->via.str.ptr, o->via.str.size);
		break;
	case MSGPACK_OBJECT_BIN:
		json_string(f, o->via.bin.ptr, o->via.bin.size);
		break;
	case MSGPACK_OBJECT_ARRAY:
		fputc('[', f);
		for (i = 0; i < o->via.array.size; i++) {
			if (i > 0)
				fputc(',', f);
			cr_json_print(f, &o->via.array.ptr[i]);
		}
		fputc(']', f);
		break;
	case MSGPACK_OBJECT_MAP:
		fputc('{', f);
		for (i = 0; i < o->via.map.size; i++) {
			if (i > 0)
				fputc(',', f);
			if (o->via.map.ptr[i].key.type == MSGPACK_OBJECT_STR)
				cr_json_print(f, &o->via.map.ptr[i].key);
			else {
				fputc('"', f);
				cr_json_print(f, &o->via.map.ptr[i].key);
				fputc('"', f);
			}
			fputc(':', f);
			cr_json_print(f, &o->via.map.ptr[i].val);
		}
		fputc('}', f);
		break;
	default:
		fputs("null", f);
		break;
	}
}

/* ---- JSON text to msgpack (connreq call) ---- */

#define JSON_DEPTH_MAX 64

/* A parse of the text, done twice: once to check it and count the members
 * of each array and object (pk NULL: counts[] filled in the order they
 * open), once to pack it with those counts (pk set: counts[] read in the
 * same order). */
struct jp {
	const char *start, *s, *end;
	msgpack_packer *pk;
	uint32_t *counts;
	size_t ncounts, cap, next;
	char *err;
	size_t errlen;
	int depth;
};

static int
jp_fail(struct jp *p, const char *what)
{
	if (p->err != NULL && p->errlen > 0 && p->pk == NULL)
		snprintf(p->err, p->errlen, "%s at byte %zu", what,
		    (size_t)(p->s - p->start) + 1);
	return -1;
}

static void
jp_space(struct jp *p)
{
	while (p->s < p->end && (*p->s == ' ' || *p->s == '\t' ||
	    *p->s == '\n' || *p->s == '\r'))
		p->s++;
}

static int
jp_hex4(struct jp *p, unsigned *v)
{
	int i, c;

	if (p->end - p->s < 4)
		return -1;
	*v = 0;
	for (i = 0; i < 4; i++) {
		c = (unsigned char)p->s[i];
		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	p->s += 4;
	return 0;
}

/* Appends code point u as UTF-8 to buf (or counts it when buf is NULL). */
static size_t
jp_utf8(char *buf, unsigned u)
{
	char tmp[4];
	char *b = buf != NULL ? buf : tmp;

	if (u < 0x80) {
		b[0] = (char)u;
		return 1;
	}
	if (u < 0x800) {
		b[0] = (char)(0xc0 | (u >> 6));
		b[1] = (char)(0x80 | (u & 0x3f));
		return 2;
	}
	if (u < 0x10000) {
		b[0] = (char)(0xe0 | (u >> 12));
		b[1] = (char)(0x80 | ((u >> 6) & 0x3f));
		b[2] = (char)(0x80 | (u & 0x3f));
		return 3;
	}
	b[0] = (char)(0xf0 | (u >> 18));
	b[1] = (char)(0x80 | ((u >> 12) & 0x3f));
	b[2] = (char)(0x80 | ((u >> 6) & 0x3f));
	b[3] = (char)(0x80 | (u & 0x3f));
	return 4;
}

/* A string, p->s at its opening quote: decoded into buf (NULL: only
 * measured), its length in *len. Raw bytes are kept as they are, so a
 * string may hold any bytes (\u0000 too). */
static int
jp_string_into(struct jp *p, char *buf, size_t *len)
{
	unsigned u, lo;
	size_t n = 0;
	char c;

	p->s++;
	for (;;) {
		if (p->s >= p->end)
			return jp_fail(p, "unterminated string");
		c = *p->s++;
		if (c == '"')
			break;
		if ((unsigned char)c < 0x20)
			return jp_fail(p, "a control character in a string");
		if (c != '\\') {
			if (buf != NULL)
				buf[n] = c;
			n++;
			continue;
		}
		if (p->s >= p->end)
			return jp_fail(p, "unterminated string");
		c = *p->s++;
		switch (c) {
		case '"': case '\\': case '/': break;
		case 'b': c = '\b'; break;
		case 'f': c = '\f'; break;
		case 'n': c = '\n'; break;
		case 'r': c = '\r'; break;
		case 't': c = '\t'; break;
		case 'u':
			if (jp_hex4(p, &u) != 0)
				return jp_fail(p, "a bad \\u escape");
			if (u >= 0xd800 && u <= 0xdbff) {
				if (p->end - p->s < 6 || p->s[0] != '\\' ||
				    p->s[1] != 'u')
					return jp_fail(p, "a lone surrogate");
				p->s += 2;
				if (jp_hex4(p, &lo) != 0 || lo < 0xdc00 ||
				    lo > 0xdfff)
					return jp_fail(p, "a lone surrogate");
				u = 0x10000 + ((u - 0xd800) << 10) +
				    (lo - 0xdc00);
			} else if (u >= 0xdc00 && u <= 0xdfff)
				return jp_fail(p, "a lone surrogate");
			n += jp_utf8(buf != NULL ? buf + n : NULL, u);
			continue;
		default:
			return jp_fail(p, "a bad escape");
		}
		if (buf != NULL)
			buf[n] = c;
		n++;
	}
	*len = n;
	return 0;
}

static int
jp_string(struct jp *p)
{
	const char *start = p->s;
	size_t n;
	char *buf;

	if (jp_string_into(p, NULL, &n) != 0)
		return -1;
	if (p->pk == NULL)
		return 0;
	if ((buf = malloc(n > 0 ? n : 1)) == NULL)
		return -1;
	p->s = start;
	jp_string_into(p, buf, &n);
	msgpack_pack_str(p->pk, n);
	msgpack_pack_str_body(p->pk, buf, n);
	free(buf);
	return 0;
}

static int
jp_number(struct jp *p)
{
	const char *start = p->s;
	bool real = false;
	char buf[64], *e;
	size_t n;

	if (p->s < p->end && *p->s == '-')
		p->s++;
	if (p->s >= p->end || *p->s < '0' || *p->s > '9')
		return jp_fail(p, "a bad number");
	if (*p->s == '0' && p->s + 1 < p->end && p->s[1] >= '0' &&
	    p->s[1] <= '9')
		return jp_fail(p, "a number with a leading zero");
	while (p->s < p->end && ((*p->s >= '0' && *p->s <= '9') ||
	    *p->s == '.' || *p->s == 'e' || *p->s == 'E' || *p->s == '+' ||
	    *p->s == '-')) {
		if (*p->s == '.' || *p->s == 'e' || *p->s == 'E')
			real = true;
		p->s++;
	}
	n = (size_t)(p->s - start);
	if (n >= sizeof buf)
		return jp_fail(p, "a number too long");
	memcpy(buf, start, n);
	buf[n] = '\0';
	errno = 0;
	if (real) {
		double d = strtod(buf, &e);

		if (*e != '\0' || errno != 0 || buf[n - 1] == '.')
			return jp_fail(p, "a bad number");
		if (p->pk != NULL)
			msgpack_pack_double(p->pk, d);
	} else if (buf[0] == '-') {
		long long v = strtoll(buf, &e, 10);

		if (*e != '\0' || errno != 0)
			return jp_fail(p, "a bad or too large number");
		if (p->pk != NULL)
			msgpack_pack_int64(p->pk, v);
	} else {
		unsigned long long v = strtoull(buf, &e, 10);

		if (*e != '\0' || errno != 0)
			return jp_fail(p, "a bad or too large number");
		if (p->pk != NULL)
			msgpack_pack_uint64(p->pk, v);
	}
	return 0;
}

static int jp_value(struct jp *p);

/* An array or object, p->s at its opening bracket. */
static int
jp_container(struct jp *p, bool object)
{
	char close = object ? '}' : ']';
	size_t slot = 0;
	uint32_t count = 0;
	uint32_t *grown;

	if (++p->depth > JSON_DEPTH_MAX)
		return jp_fail(p, "nested too deep");
	p->s++;
	if (p->pk == NULL) {
		if (p->ncounts == p->cap) {
			p->cap = p->cap ? p->cap * 2 : 16;
			if ((grown = realloc(p->counts, p->cap *
			    sizeof *grown)) == NULL)
				return jp_fail(p, "out of memory");
			p->counts = grown;
		}
		slot = p->ncounts++;
	} else {
		count = p->counts[p->next++];
		if (object)
			msgpack_pack_map(p->pk, count);
		else
			msgpack_pack_array(p->pk, count);
		count = 0;
	}
	jp_space(p);
	if (p->s < p->end && *p->s == close) {
		p->s++;
		goto done;
	}
	for (;;) {
		jp_space(p);
		if (object) {
			if (p->s >= p->end || *p->s != '"')
				return jp_fail(p, "expected a key (a string)");
			if (jp_string(p) != 0)
				return -1;
			jp_space(p);
			if (p->s >= p->end || *p->s != ':')
				return jp_fail(p, "expected ':'");
			p->s++;
		}
		if (jp_value(p) != 0)
			return -1;
		count++;
		jp_space(p);
		if (p->s < p->end && *p->s == ',') {
			p->s++;
			continue;
		}
		if (p->s < p->end && *p->s == close) {
			p->s++;
			break;
		}
		return jp_fail(p, object ? "expected ',' or '}'" :
		    "expected ',' or ']'");
	}
done:
	if (p->pk == NULL)
		p->counts[slot] = count;
	p->depth--;
	return 0;
}

static int
jp_word(struct jp *p, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(p->end - p->s) < n || memcmp(p->s, w, n) != 0)
		return jp_fail(p, "not a JSON value");
	p->s += n;
	return 0;
}

static int
jp_value(struct jp *p)
{
	jp_space(p);
	if (p->s >= p->end)
		return jp_fail(p, "unexpected end");
	switch (*p->s) {
	case '{': return jp_container(p, true);
	case '[': return jp_container(p, false);
	case '"': return jp_string(p);
	case 't':
		if (jp_word(p, "true") != 0)
			return -1;
		if (p->pk != NULL)
			msgpack_pack_true(p->pk);
		return 0;
	case 'f':
		if (jp_word(p, "false") != 0)
			return -1;
		if (p->pk != NULL)
			msgpack_pack_false(p->pk);
		return 0;
	case 'n':
		if (jp_word(p, "null") != 0)
			return -1;
		if (p->pk != NULL)
			msgpack_pack_nil(p->pk);
		return 0;
	default:
		return jp_number(p);
	}
}

int
cr_json_pack(msgpack_packer *pk, const char *s, size_t n, char *err,
    size_t errlen)
{
	struct jp p;
	int rc = -1;

	memset(&p, 0, sizeof p);
	p.start = p.s = s;
	p.end = s + n;
	p.err = err;
	p.errlen = errlen;
	if (jp_value(&p) != 0)
		goto out;
	jp_space(&p);
	if (p.s != p.end) {
		jp_fail(&p, "text after the value");
		goto out;
	}
	p.s = s;
	p.pk = pk;
	rc = jp_value(&p);
out:
	free(p.counts);
	return rc;
}
