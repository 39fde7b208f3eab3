/* common/util.c: logging, allocation, UTF-8, durations and default paths. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int log_verbose;
int log_quiet;
const char *log_prog = "connreq";

static void
log_vline(const char *level, const char *fmt, va_list ap)
{
	char line[1024];
	int n;

	n = vsnprintf(line, sizeof line, fmt, ap);
	if (n < 0)
		return;
	fprintf(stderr, "%s: %s%s\n", log_prog, level, line);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	if (log_quiet)
		return;
	va_start(ap, fmt);
	log_vline("", fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vline("warning: ", fmt, ap);
	va_end(ap);
}

void
log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vline("error: ", fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	log_vline("debug: ", fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vline("fatal: ", fmt, ap);
	va_end(ap);
	exit(1);
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		fatal("out of memory (%zu bytes)", n);
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		fatal("out of memory (%zu x %zu bytes)", n, size);
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		fatal("out of memory (%zu bytes)", n);
	return q;
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* Decodes one code point at s (at most len bytes); returns its length, or 0
 * when the sequence is invalid. */
static size_t
utf8_next(const unsigned char *s, size_t len, uint32_t *cp)
{
	uint32_t c;
	size_t n, i;

	if (len == 0)
		return 0;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		c = s[0] & 0x07;
	} else
		return 0;
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	if (c >= 0xd800 && c <= 0xdfff)
		return 0;
	*cp = c;
	return n;
}

bool
utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;
	size_t n;

	while (len > 0) {
		if ((n = utf8_next(p, len, &cp)) == 0)
			return false;
		p += n;
		len -= n;
	}
	return true;
}

size_t
utf8_chars(const char *s, size_t len)
{
	size_t i, count = 0;

	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			count++;
	return count;
}

bool
member_id_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;
	size_t n;

	if (len < 1 || len > MEMBER_MAX_BYTES)
		return false;
	while (len > 0) {
		if ((n = utf8_next(p, len, &cp)) == 0)
			return false;
		if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
			return false;
		p += n;
		len -= n;
	}
	return true;
}

int
duration_parse(const char *s, uint64_t *out)
{
	uint64_t v = 0, mult = 1;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9') {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p++ - '0');
	}
	switch (*p) {
	case '\0':
		break;
	case 's': mult = 1; p++; break;
	case 'm': mult = 60; p++; break;
	case 'h': mult = 3600; p++; break;
	case 'd': mult = 86400; p++; break;
	case 'w': mult = 7 * 86400; p++; break;
	default:
		return -1;
	}
	if (*p != '\0')
		return -1;
	if (mult > 1 && v > UINT64_MAX / mult)
		return -1;
	*out = v * mult;
	return 0;
}

int
size_parse(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	unsigned shift = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9') {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p++ - '0');
	}
	switch (*p) {
	case 'K': case 'k': shift = 10; p++; break;
	case 'M': case 'm': shift = 20; p++; break;
	case 'G': case 'g': shift = 30; p++; break;
	case 'T': case 't': shift = 40; p++; break;
	}
	if (*p != '\0' || v > (UINT64_MAX >> shift))
		return -1;
	*out = v << shift;
	return 0;
}

/* secs in whole units, rounded to the nearest: 20 days 23 hours is 3w. */
static unsigned long long
round_to(uint64_t secs, uint64_t unit)
{
	return (unsigned long long)((secs + unit / 2) / unit);
}

void
duration_short(uint64_t secs, char *buf, size_t n)
{
	if (secs < 60)
		snprintf(buf, n, "%llus", (unsigned long long)secs);
	else if (secs < 3600 - 30)
		snprintf(buf, n, "%llum", round_to(secs, 60));
	else if (secs < 86400 - 1800)
		snprintf(buf, n, "%lluh", round_to(secs, 3600));
	else if (secs < 14 * 86400 - 43200)
		snprintf(buf, n, "%llud", round_to(secs, 86400));
	else if (secs < 60 * 86400)
		snprintf(buf, n, "%lluw", round_to(secs, 7 * 86400));
	else if (secs < 365 * 86400 - 15 * 86400)
		snprintf(buf, n, "%llumo", round_to(secs, 30 * 86400));
	else
		snprintf(buf, n, "%lluy", round_to(secs, 365 * 86400));
}

void
time_format(int64_t t, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, n, "%Y-%m-%d %H:%M", &tm) == 0)
		snprintf(buf, n, "%lld", (long long)t);
}

static char *
path_join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *p = xmalloc(la + lb + 2);

	memcpy(p, a, la);
	p[la] = '/';
	memcpy(p + la + 1, b, lb + 1);
	return p;
}

char *
path_default_socket(void)
{
	const char *rt = getenv("XDG_RUNTIME_DIR");
	char tmp[64];

	if (rt != NULL && rt[0] == '/')
		return path_join(rt, "connreq/connreqd.sock");
	snprintf(tmp, sizeof tmp, "/tmp/connreq-%lu", (unsigned long)getuid());
	return path_join(tmp, "connreqd.sock");
}

char *
path_default_store(void)
{
	const char *d = getenv("XDG_DATA_HOME"), *home;
	char *base, *p;

	if (d != NULL && d[0] == '/')
		return path_join(d, "connreq");
	home = getenv("HOME");
	if (home == NULL || home[0] != '/')
		home = "/tmp";
	base = path_join(home, ".local/share");
	p = path_join(base, "connreq");
	free(base);
	return p;
}

int
path_mkdir_p(const char *dir, unsigned mode)
{
	char *p = xstrndup(dir, strlen(dir)), *s;
	int rc = 0;

	for (s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) == -1 && errno != EEXIST) {
			rc = -1;
			break;
		}
		*s = '/';
	}
	if (rc == 0 && mkdir(p, (mode_t)mode) == -1 && errno != EEXIST)
		rc = -1;
	free(p);
	return rc;
}

int
dir_sync(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc, e;

	if (fd == -1)
		return -1;
	rc = fsync(fd);
	e = errno;
	close(fd);
	errno = e;
	return rc;
}

int
fd_pread_all(int fd, void *p, size_t n, uint64_t off)
{
	unsigned char *b = p;
	ssize_t r;

	while (n > 0) {
		r = pread(fd, b, n, (off_t)off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO;
			return -1;
		}
		b += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

int
fd_pwrite_all(int fd, const void *p, size_t n, uint64_t off)
{
	const unsigned char *b = p;
	ssize_t w;

	while (n > 0) {
		w = pwrite(fd, b, n, (off_t)off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		b += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

int
fd_datasync(int fd)
{
	int rc;

	do
		rc = fdatasync(fd);
	while (rc == -1 && errno == EINTR);
	return rc;
}
