/* tests/pgserve.c: a PostgreSQL cluster for the shell and Python tests, as
 * tests/pgcluster.h starts one for the C tests (initdb in a temporary
 * directory, as nobody when run as root, a Unix socket only).
 *
 *	pgserve [N] >FILE &
 *
 * starts a cluster, creates N databases (1 when not given), writes their
 * conninfo to stdout one a line, then "ready", and keeps the cluster until
 * it gets SIGTERM, SIGINT or SIGHUP, or its parent (the test) goes; then it
 * stops the cluster and removes its directory, and exits 0. Should it be
 * killed outright, pgcluster.h's watchdog still does that. On failure: a
 * line "failed" and exit 1, the reason on stderr.
 *
 * tests/lib/shell.sh (CONNREQ_PG=1) and tests/interop/protocol.py use it. */
#include <signal.h>
#include <sys/prctl.h>

#include "pgcluster.h"

int
main(int argc, char **argv)
{
	struct pgcluster pg;
	char ci[512];
	sigset_t set;
	pid_t parent = getppid();
	int n = argc > 1 ? atoi(argv[1]) : 1, i, sig, out;

	/* Before anything starts: the signals that end it are waited for,
	 * and the test's end is one of them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		return 1;
	/* tap.h's diag() writes to stdout: the reasons go to stderr, and
	 * what the test reads to a descriptor that PostgreSQL's processes
	 * do not inherit. */
	if ((out = fcntl(1, F_DUPFD_CLOEXEC, 3)) == -1 || dup2(2, 1) == -1)
		return 1;
	if (pgcluster_start(&pg) == -1) {
		dprintf(out, "failed\n");
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (pgcluster_newdb(&pg, ci, sizeof ci) == -1) {
			dprintf(out, "failed\n");
			return 1;
		}
		dprintf(out, "%s\n", ci);
	}
	dprintf(out, "ready\n");
	close(out);
	while (sigwait(&set, &sig) != 0)
		;
	pgcluster_stop(&pg);
	return 0;
}
