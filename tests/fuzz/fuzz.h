/* tests/fuzz/fuzz.h: what the fuzz harnesses share. Each harness defines
 * LLVMFuzzerTestOneInput(); `make fuzz` links it with libFuzzer (clang),
 * and tests/fuzz/replay.c runs it on the committed corpus in `make check`
 * (gcc or clang, plain and under the sanitizers). A failed check aborts:
 * libFuzzer keeps the input as a crash, the replay dies naming the file. */
#ifndef CONNREQ_FUZZ_H
#define CONNREQ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The input being replayed (replay.c sets it), for the failure message. */
extern const char *fuzz_input_name;

#define FUZZ_CHECK(cond, ...) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: fuzz check failed: %s: ", __FILE__, \
		    __LINE__, #cond); \
		fprintf(stderr, __VA_ARGS__); \
		fprintf(stderr, " (input %s)\n", \
		    fuzz_input_name ? fuzz_input_name : "from libFuzzer"); \
		abort(); \
	} \
} while (0)

/* A small PRNG seeded by the input, so a run is reproducible from the
 * input alone. */
static inline uint64_t
fuzz_hash(const uint8_t *data, size_t size)
{
	uint64_t h = 0xcbf29ce484222325u;
	size_t i;

	for (i = 0; i < size; i++)
		h = (h ^ data[i]) * 0x100000001b3u;
	return h ? h : 1;
}

static inline uint64_t
fuzz_rand(uint64_t *s)
{
	/* xorshift64* */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1du;
}

#endif
