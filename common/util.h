/* common/util.h: what both the daemon and the client need. */
#ifndef CONNREQ_COMMON_UTIL_H
#define CONNREQ_COMMON_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define CONNREQ_VERSION "0.1.0"

#define MEMBER_MAX_BYTES 64

/* Logging to stderr, one line per call. */
extern int log_verbose;
extern int log_quiet;		/* info lines off (a fuzzer's store per input) */
extern const char *log_prog;	/* the name before each line */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrndup(const char *s, size_t n);

/* UTF-8: true when s[0..len) is valid UTF-8 (no overlongs, no surrogates). */
bool utf8_valid(const char *s, size_t len);
/* Number of code points in valid UTF-8. */
size_t utf8_chars(const char *s, size_t len);
/* A member id: 1..64 bytes of valid UTF-8 with no control characters. */
bool member_id_valid(const char *s, size_t len);

/* Durations: "90s", "12h", "21d", "3w", "5m" (minutes), or plain seconds.
 * Returns 0 on success. */
int duration_parse(const char *s, uint64_t *out);
/* Sizes: bytes, or with K, M, G or T (powers of 1024, either case). */
int size_parse(const char *s, uint64_t *out);
/* Coarse human form of a duration: "3w", "5mo", "12h", "now". */
void duration_short(uint64_t secs, char *buf, size_t n);
/* "2026-11-22 10:03" in UTC. */
void time_format(int64_t t, char *buf, size_t n);

/* Default paths. Each returns a malloc'd string. */
char *path_default_socket(void);
char *path_default_store(void);
/* mkdir -p with the given mode for the last component; 0 or -1 (errno). */
int path_mkdir_p(const char *dir, unsigned mode);
/* fsync of the directory dir (its entries): 0 or -1 (errno). */
int dir_sync(const char *dir);

/* Whole buffers at an offset, through EINTR and short counts: 0, or -1
 * (errno; EIO when a read finds the file ends first). */
int fd_pread_all(int fd, void *p, size_t n, uint64_t off);
int fd_pwrite_all(int fd, const void *p, size_t n, uint64_t off);
/* fdatasync, through EINTR: 0 or -1 (errno). */
int fd_datasync(int fd);

#endif
