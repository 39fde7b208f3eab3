/* tests/faults/faults.h: running connreqd under libiofault.so (record or
 * fault mode) and checking a store with `connreqd --check`, for
 * tests/test_powerloss.c and tests/test_iofault.c. Include after
 * harness.h. */
#ifndef CONNREQ_FAULTS_H
#define CONNREQ_FAULTS_H

#include <sys/stat.h>

/* The shim, next to the binaries: $CONNREQ_BIN/../lib/libiofault.so. */
__attribute__((unused)) static const char *
faults_shim(void)
{
	static char path[600];
	const char *bin = getenv("CONNREQ_BIN");

	if (path[0] == '\0')
		snprintf(path, sizeof path, "%s/../lib/libiofault.so",
		    bin ? bin : "build/bin");
	return path;
}

/* Whether connreqd was built with ASan (it then links libasan, which wants
 * to come first: the shim goes after it, see faults_env). */
__attribute__((unused)) static int
faults_asan(void)
{
	static int known = -1;
	char cmd[700], line[512];
	const char *bin = getenv("CONNREQ_BIN");
	FILE *f;

	if (known != -1)
		return known;
	known = 0;
	snprintf(cmd, sizeof cmd, "ldd %s/connreqd 2>/dev/null",
	    bin ? bin : "build/bin");
	if ((f = popen(cmd, "r")) == NULL)
		return known;
	while (fgets(line, sizeof line, f) != NULL)
		if (strstr(line, "libasan") != NULL)
			known = 1;
	pclose(f);
	return known;
}

/* Sets the environment the next dproc_start passes to connreqd: the shim
 * on the store p->store, with the journal log (NULL: none), the fault
 * fail ("fdatasync:3:EIO"; NULL: none) noted in hit. faults_env_clear()
 * takes it away again. Under ASan the shim comes after ASan's runtime
 * (verify_asan_link_order=0): ASan's interceptors stay the last word
 * before libc, and the shim sees every call first. */
__attribute__((unused)) static void
faults_env(struct dproc *p, const char *log, const char *fail,
    const char *hit)
{
	static char asan[1024];
	const char *old = getenv("ASAN_OPTIONS");

	setenv("LD_PRELOAD", faults_shim(), 1);
	setenv("IOFAULT_DIR", p->store, 1);
	if (log != NULL)
		setenv("IOFAULT_LOG", log, 1);
	if (fail != NULL)
		setenv("IOFAULT_FAIL", fail, 1);
	if (hit != NULL)
		setenv("IOFAULT_HIT", hit, 1);
	if (faults_asan()) {
		snprintf(asan, sizeof asan, "verify_asan_link_order=0%s%s",
		    old ? ":" : "", old ? old : "");
		setenv("ASAN_OPTIONS", asan, 1);
	}
}

__attribute__((unused)) static void
faults_env_clear(void)
{
	const char *old = getenv("ASAN_OPTIONS");

	unsetenv("LD_PRELOAD");
	unsetenv("IOFAULT_DIR");
	unsetenv("IOFAULT_LOG");
	unsetenv("IOFAULT_FAIL");
	unsetenv("IOFAULT_HIT");
	unsetenv("IOFAULT_NOSYNC");
	if (old != NULL && strncmp(old, "verify_asan_link_order=0", 24) == 0)
		setenv("ASAN_OPTIONS", old[24] == ':' ? old + 25 : "", 1);
}

__attribute__((unused)) static size_t
faults_file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (size_t)st.st_size : 0;
}

/* `connreqd --check -d dir`'s exit status (0 clean, 1 problems, 2 cannot
 * open), its output in the diagnostics when it is not 0. */
__attribute__((unused)) static int
faults_check_store(const char *dir)
{
	char cmd[1400], line[512];
	const char *bin = getenv("CONNREQ_BIN");
	FILE *f;
	int status, n = 0;

	snprintf(cmd, sizeof cmd, "%s/connreqd --check -d '%s' 2>&1",
	    bin ? bin : "build/bin", dir);
	fflush(stdout);
	if ((f = popen(cmd, "r")) == NULL)
		return 2;
	char out[8192];
	size_t used = 0;

	out[0] = '\0';
	while (fgets(line, sizeof line, f) != NULL)
		if (n++ < 20 && used + strlen(line) < sizeof out) {
			strcpy(out + used, line);
			used += strlen(line);
		}
	status = pclose(f);
	status = WIFEXITED(status) ? WEXITSTATUS(status) : 2;
	if (status != 0) {
		char *s, *save = NULL;

		for (s = strtok_r(out, "\n", &save); s != NULL;
		    s = strtok_r(NULL, "\n", &save))
			diag("  --check: %s", s);
	}
	return status;
}

#endif
