/* tests/fuzz/replay.c: runs a fuzz harness on its committed corpus, as a
 * TAP test of `make check` (no clang, no libFuzzer needed).
 *
 *   fuzz_replay_X.t [DIR...]   default: tests/fuzz/corpus/X, found from
 *                              the current directory or $CONNREQ_SRC
 *
 * Each corpus file is one call of LLVMFuzzerTestOneInput(); one "ok" per
 * directory says how many files it ran. A failed check aborts, naming the
 * file (tests/fuzz/fuzz.h). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#ifndef FUZZ_NAME
#error "FUZZ_NAME: the harness's name (decode, dispatch)"
#endif

static int
cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static unsigned char *
slurp(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	struct stat st;

	if (f == NULL || fstat(fileno(f), &st) == -1) {
		if (f != NULL)
			fclose(f);
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL ||
	    fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	*size = (size_t)st.st_size;
	return buf;
}

/* Runs every file in dir, in name order. -1 when dir cannot be read. */
static int
replay_dir(const char *dir, size_t *count, size_t *bytes)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	char **names = NULL, path[4096];
	size_t n = 0, cap = 0, i, size;
	unsigned char *buf;

	if (dp == NULL)
		return -1;
	while ((de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			names = realloc(names, cap * sizeof *names);
			if (names == NULL)
				abort();
		}
		names[n++] = strdup(de->d_name);
	}
	closedir(dp);
	if (n > 0)
		qsort(names, n, sizeof *names, cmp);
	*count = *bytes = 0;
	for (i = 0; i < n; i++) {
		if ((size_t)snprintf(path, sizeof path, "%s/%s", dir,
		    names[i]) >= sizeof path)
			return -1;
		buf = slurp(path, &size);
		if (buf == NULL) {
			printf("# cannot read %s: %s\n", path, strerror(errno));
			return -1;
		}
		fuzz_input_name = path;
		LLVMFuzzerTestOneInput(buf, size);
		fuzz_input_name = NULL;
		free(buf);
		free(names[i]);
		(*count)++;
		*bytes += size;
	}
	free(names);
	return 0;
}

int
main(int argc, char **argv)
{
	char def[4096];
	const char *src = getenv("CONNREQ_SRC");
	size_t count, bytes;
	int i, ndirs = argc - 1, failed = 0;

	if ((size_t)snprintf(def, sizeof def, "%s/tests/fuzz/corpus/%s",
	    src ? src : ".", FUZZ_NAME) >= sizeof def)
		return 2;
	LLVMFuzzerInitialize(NULL, NULL);	/* NULL: replaying */
	printf("1..%d\n", ndirs > 0 ? ndirs : 1);
	for (i = 0; i < (ndirs > 0 ? ndirs : 1); i++) {
		const char *dir = ndirs > 0 ? argv[i + 1] : def;

		if (replay_dir(dir, &count, &bytes) == -1 || count == 0) {
			printf("not ok %d - %s: no corpus to replay\n", i + 1,
			    dir);
			failed = 1;
			continue;
		}
		printf("ok %d - %s: %zu inputs (%zu bytes) replayed, every check held\n",
		    i + 1, dir, count, bytes);
	}
	return failed;
}
