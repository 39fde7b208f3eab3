/* Durability: kill -9 the daemon while clients write; every write that was
 * answered is there after a restart. Deadlines that fell due while the
 * daemon was down are handled at start, in deadline order. */
#include "harness.h"

#define WRITERS 3

struct answered {
	uint64_t id;
	char from[24];
	char to[24];
};

/* A writer process: sends invitations one after another and reports each
 * answered one on fd. */
static void
writer(struct dproc *p, int w, int fd)
{
	struct cr_client *c = dconnect_try(p);
	struct cr_reply r;
	struct answered a;
	int i;

	if (c == NULL)
		_exit(1);
	for (i = 0; i < 100000; i++) {
		memset(&a, 0, sizeof a);
		snprintf(a.from, sizeof a.from, "writer%d", w);
		snprintf(a.to, sizeof a.to, "target%d", i % 1000000);
		if (call(c, &r, "invite.send", "from:s to:s", a.from, a.to) != 0)
			break;
		a.id = (uint64_t)rnum(&r, "invitation.id");
		cr_reply_free(&r);
		if (write(fd, &a, sizeof a) != sizeof a)
			break;
	}
	_exit(0);
}

int
main(void)
{
	struct dproc p;
	struct cr_client *c;
	struct cr_reply r;
	struct answered *all = NULL;
	size_t n = 0, cap = 0, missing = 0, i;
	pid_t pids[WRITERS];
	int pipefd[2], w, status;
	uint64_t expiring, withdrawn;
	char vclock[64];
	const char *extra[2] = { vclock, NULL };

	dproc_init(&p);
	dproc_config(&p, NO_LIMITS);
	if (!ok(dproc_start(&p, T0, NULL) == 0, "connreqd starts"))
		return done_testing();

	/* Deadlines to pass while the daemon is down. */
	c = dconnect(&p);
	call(c, &r, "invite.send", "from:s to:s", "olivia", "pat");
	expiring = (uint64_t)rnum(&r, "invitation.id");
	cr_reply_free(&r);
	call(c, &r, "invite.send", "from:s to:s", "olivia", "quinn");
	withdrawn = (uint64_t)rnum(&r, "invitation.id");
	cr_reply_free(&r);
	ok(call(c, &r, "invite.withdraw", "actor:s id:u", "olivia",
	    withdrawn) == 0, "olivia withdraws from quinn: cooldown to day 21");
	cr_reply_free(&r);
	cr_close(c);

	if (pipe(pipefd) == -1)
		return 1;
	for (w = 0; w < WRITERS; w++) {
		pids[w] = fork();
		if (pids[w] == 0) {
			close(pipefd[0]);
			writer(&p, w, pipefd[1]);
		}
	}
	close(pipefd[1]);
	for (;;) {
		if (n == cap) {
			cap = cap ? 2 * cap : 1024;
			all = realloc(all, cap * sizeof *all);
		}
		if (read(pipefd[0], &all[n], sizeof *all) != sizeof *all)
			break;
		if (++n == 600)
			kill(p.pid, SIGKILL);
	}
	close(pipefd[0]);
	for (w = 0; w < WRITERS; w++)
		waitpid(pids[w], &status, 0);
	status = dproc_stop(&p, SIGKILL);
	ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	    "connreqd was killed with SIGKILL after %zu answered writes", n);

	/* Restart 200 days later: the deadlines fell due meanwhile. */
	snprintf(vclock, sizeof vclock, "--virtual-clock=%lld",
	    (long long)(T0 + 200 * DAY));
	ok(dproc_start(&p, 0, extra) == 0, "it restarts on the same store");
	c = dconnect(&p);
	for (i = 0; i < n; i++) {
		if (call(c, &r, "invite.get", "id:u", all[i].id) != 0 ||
		    strcmp(rstr(&r, "invitation.from"), all[i].from) != 0 ||
		    strcmp(rstr(&r, "invitation.to"), all[i].to) != 0)
			missing++;
		cr_reply_free(&r);
	}
	is_int(missing, 0, "every one of the %zu answered writes is there", n);

	call(c, &r, "invite.get", "id:u", expiring);
	is_str(rstr(&r, "invitation.state"), "expired",
	    "an invitation that expired while the daemon was down is expired");
	is_int(rnum(&r, "invitation.updated_at"), T0 + 180 * DAY,
	    "at its deadline, not at the restart");
	is_int(rnum(&r, "invitation.reminded_at"), T0 + 14 * DAY,
	    "its stale reminder was handled first, at day 14");
	cr_reply_free(&r);
	ok(call(c, &r, "invite.send", "from:s to:s", "olivia", "quinn") == 0,
	    "the cooldown that ended while it was down no longer applies");
	cr_reply_free(&r);
	ok(dproc_logged(&p, "fell due while connreqd was down"),
	    "the daemon logged the deadlines it caught up on");
	cr_close(c);
	is_int(dproc_stop(&p, SIGTERM), 0, "SIGTERM: exit 0");

	/* A restart without a clock value resumes the stored virtual clock. */
	ok(dproc_start(&p, 0, (const char *const[]){ "--virtual-clock", NULL })
	    == 0, "it restarts with --virtual-clock and no time");
	c = dconnect(&p);
	call(c, &r, "server.info", "");
	is_int(rnum(&r, "now"), T0 + 200 * DAY,
	    "the virtual clock resumes where it stood");
	cr_reply_free(&r);
	cr_close(c);

	/* A second daemon on the same store or socket is refused. */
	{
		struct dproc q = p;

		q.pid = 0;
		snprintf(q.log, sizeof q.log, "%s/log2", p.dir);
		snprintf(q.sock, sizeof q.sock, "%s/s2.sock", p.dir);
		status = dproc_refused(&q, T0, NULL);
		ok(WIFEXITED(status) && WEXITSTATUS(status) == 1 &&
		    dproc_logged(&q, "in use by another connreqd"),
		    "a second connreqd on the same store is refused");
		snprintf(q.sock, sizeof q.sock, "%s", p.sock);
		snprintf(q.store, sizeof q.store, "%s/db2", p.dir);
		status = dproc_refused(&q, T0, NULL);
		ok(WIFEXITED(status) && WEXITSTATUS(status) == 1 &&
		    dproc_logged(&q, "already listening"),
		    "a second connreqd on the same socket is refused");
		ok(access(q.store, F_OK) == -1,
		    "... before it made a store of its own");
	}
	is_int(dproc_stop(&p, SIGTERM), 0, "SIGTERM: exit 0");

	/* A stale socket file is removed. */
	ok(access(p.sock, F_OK) == -1, "the socket is removed on exit");
	{
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		struct sockaddr_un sun;

		memset(&sun, 0, sizeof sun);
		sun.sun_family = AF_UNIX;
		strcpy(sun.sun_path, p.sock);
		if (bind(fd, (struct sockaddr *)&sun, sizeof sun) != 0)
			diag("bind: %s", strerror(errno));
		close(fd);
	}
	ok(dproc_start(&p, T0, NULL) == 0, "a stale socket file is replaced");
	dproc_cleanup(&p);
	free(all);
	return done_testing();
}
