/* tests/tap.h: a small TAP producer for prove. */
#ifndef CONNREQ_TAP_H
#define CONNREQ_TAP_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_count, tap_failed;

__attribute__((format(printf, 4, 5), unused)) static int
tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", pass ? "" : "not ", ++tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!pass) {
		tap_failed++;
		printf("#   Failed at %s line %d\n", file, line);
	}
	fflush(stdout);
	return pass;
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define is_int(got, want, ...) do { \
	long long tap_g = (long long)(got), tap_w = (long long)(want); \
	if (!ok(tap_g == tap_w, __VA_ARGS__)) \
		printf("#   got %lld, want %lld\n", tap_g, tap_w); \
} while (0)

#define is_str(got, want, ...) do { \
	const char *tap_g = (got), *tap_w = (want); \
	if (!ok(tap_g != NULL && strcmp(tap_g, tap_w) == 0, __VA_ARGS__)) \
		printf("#   got \"%s\", want \"%s\"\n", \
		    tap_g ? tap_g : "(null)", tap_w); \
} while (0)

__attribute__((unused)) static void
diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* Stops the test: what follows cannot run (TAP "Bail out!"). */
__attribute__((format(printf, 1, 2), noreturn, unused)) static void
bail_out(const char *fmt, ...)
{
	va_list ap;

	printf("Bail out! ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(255);
}

__attribute__((unused)) static int
done_testing(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#endif
