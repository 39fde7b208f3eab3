/* client/cmd-watch.c: watch, the command that stays: it subscribes to an
 * event feed and prints events until it is stopped, reconnecting when
 * connreqd goes away, and runs --exec CMD for each. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static int cmd_watch_exec(struct cmd_ctx *, const struct cmd_args *);

#define WATCH_BACKOFF_MIN_MS 100
#define WATCH_BACKOFF_MAX_MS 5000

/* Set by the signal handlers; the signals are blocked but while watch
 * waits, in ppoll(), so they are seen between two steps, never in one. */
static volatile sig_atomic_t watch_stop;
static volatile sig_atomic_t watch_child;

static void
watch_on_stop(int sig)
{
	watch_stop = sig;
}

static void
watch_on_child(int sig)
{
	(void)sig;
	watch_child = 1;
}

struct watch {
	struct cmd_ctx *ctx;
	const char *member;	/* NULL: --all */
	const char *exec;	/* --exec CMD, or NULL */
	uint64_t cursor;	/* the last event printed, or passed over */
	bool have_cursor;	/* false: start at the head */
	sigset_t waitmask;	/* the mask to wait with: nothing blocked */
	sigset_t mask0;		/* the mask watch started with */
	struct sigaction int0, term0, chld0;	/* and the handlers */
};

/* An event as the daemon sends it. */
struct ev_view {
	uint64_t seq;
	struct text type, member, other;
	enum proto_event kind;	/* PEV_COUNT: a type not known here */
	int64_t at;
	bool has_inv;
	struct inv_view inv;
	/* Notices: limit.warning, restriction.*, plan.* */
	struct text code, message;
	int64_t until;
	uint64_t plan, done, total;
	/* invitation.digest */
	uint64_t count;
	int64_t oldest_at;
	/* introduction.* */
	bool has_intro;
	uint64_t intro_id, intro_inv;
	struct text intro_from, intro_via, intro_to, intro_note;
};

static void
ev_read(const msgpack_object *o, struct ev_view *v)
{
	const msgpack_object *inv = cr_get(o, "invitation");
	const msgpack_object *intro = cr_get(o, "introduction");

	memset(v, 0, sizeof *v);
	obj_uint(o, "seq", &v->seq);
	obj_text(o, "type", &v->type);
	v->kind = (enum proto_event)proto_word_find(proto_event_names,
	    PEV_COUNT, v->type.p, v->type.n);
	obj_int(o, "at", &v->at);
	obj_text(o, "member", &v->member);
	obj_text(o, "other", &v->other);
	obj_text(o, "code", &v->code);
	obj_text(o, "message", &v->message);
	obj_int(o, "until", &v->until);
	obj_uint(o, "plan", &v->plan);
	obj_uint(o, "done", &v->done);
	obj_uint(o, "total", &v->total);
	obj_uint(o, "count", &v->count);
	obj_int(o, "oldest_at", &v->oldest_at);
	if (inv != NULL && inv->type == MSGPACK_OBJECT_MAP) {
		v->has_inv = true;
		inv_read(inv, &v->inv);
	}
	if (intro != NULL && intro->type == MSGPACK_OBJECT_MAP) {
		v->has_intro = true;
		obj_uint(intro, "id", &v->intro_id);
		obj_uint(intro, "invitation", &v->intro_inv);
		obj_text(intro, "from", &v->intro_from);
		obj_text(intro, "via", &v->intro_via);
		obj_text(intro, "to", &v->intro_to);
		obj_text(intro, "note", &v->intro_note);
	}
}

/* An introduction's event, as its member is told (all false) or in the
 * `all` feed; false for other events. */
static bool
ev_put_intro(const struct ev_view *v, bool all)
{
	bool asker;

	if (!v->has_intro)
		return false;
	asker = v->member.n == v->intro_from.n &&
	    memcmp(v->member.p, v->intro_from.p, v->member.n) == 0;
	if (v->kind == PEV_INTRO_ASKED) {
		if (all)
			ev_printf("%T asked %T to introduce them to %T",
			    v->intro_from, v->intro_via, v->intro_to);
		else
			ev_printf("%T asks you to introduce them to %T",
			    v->intro_from, v->intro_to);
		ev_printf(" (introduction %u", v->intro_id);
		if (v->intro_note.n > 0)
			ev_printf(", note: \"%T\"", v->intro_note);
		putchar(')');
	} else if (v->kind == PEV_INTRO_FORWARDED) {
		if (all)
			ev_printf("%T forwarded %T's introduction %u to %T",
			    v->intro_via, v->intro_from, v->intro_id,
			    v->intro_to);
		else
			ev_printf("%T introduced you to %T (introduction %u)",
			    v->intro_via, v->intro_to, v->intro_id);
		if (v->intro_inv != 0)
			ev_printf(": invitation %u", v->intro_inv);
	} else if (v->kind == PEV_INTRO_DECLINED) {
		if (all)
			ev_printf("%T declined %T's introduction %u to %T",
			    v->intro_via, v->intro_from, v->intro_id,
			    v->intro_to);
		else if (asker)
			ev_printf("%T declined to introduce you to %T "
			    "(introduction %u)", v->intro_via, v->intro_to,
			    v->intro_id);
		else
			ev_printf("you declined to introduce %T to %T "
			    "(introduction %u)", v->intro_from, v->intro_to,
			    v->intro_id);
	} else if (v->kind == PEV_INTRO_EXPIRED) {
		if (all)
			ev_printf("%T's introduction %u to %T through %T "
			    "expired", v->intro_from, v->intro_id, v->intro_to,
			    v->intro_via);
		else if (asker)
			ev_printf("your introduction %u to %T through %T "
			    "expired unanswered", v->intro_id, v->intro_to,
			    v->intro_via);
		else
			ev_printf("%T's introduction %u to %T expired "
			    "unanswered", v->intro_from, v->intro_id,
			    v->intro_to);
	} else
		return false;
	return true;
}

/* How long the invitation had been pending: "14 days", "12h". */
static void
ev_age(const struct ev_view *v, char *buf, size_t n)
{
	uint64_t age = v->at > v->inv.created_at ?
	    (uint64_t)(v->at - v->inv.created_at) : 0;

	if (age >= 86400 && age % 86400 == 0)
		snprintf(buf, n, "%" PRIu64 " day%s", age / 86400,
		    age == 86400 ? "" : "s");
	else
		duration_short(age, buf, n);
}

/* A digest: "2 invitations wait for you, the oldest sent 12 days ago". */
static void
ev_put_digest(const struct ev_view *v, bool all)
{
	struct ev_view oldest = *v;
	char age[32];

	oldest.inv.created_at = v->oldest_at;
	ev_age(&oldest, age, sizeof age);
	if (all)
		ev_printf("%T was told that %u invitation%s wait%s, the oldest "
		    "sent %s ago", v->member, v->count, v->count == 1 ? "" : "s",
		    v->count == 1 ? "s" : "", age);
	else if (v->count == 1)
		ev_printf("1 invitation waits for you, sent %s ago", age);
	else
		ev_printf("%u invitations wait for you, the oldest sent %s ago",
		    v->count, age);
}

/* " (invitation 3, note: "Hi")" */
static void
ev_put_inv_note(const struct ev_view *v)
{
	printf(" (invitation %" PRIu64, v->inv.id);
	if (v->inv.note.n > 0)
		ev_printf(", note: \"%T\"", v->inv.note);
	putchar(')');
}

/* " (until 2026-01-08 00:00)" */
static void
ev_put_until(const struct ev_view *v)
{
	char when[32];

	if (v->until <= 0)
		return;
	time_put_stamp(v->until, when, sizeof when);
	printf(" (until %s)", when);
}

/* Why a member was restricted: "too many reports". */
static const char *
ev_restriction_why(const struct ev_view *v)
{
	if (text_is(v->code,
	    proto_restrict_reason_words[RESTRICT_REPORTS]))
		return "too many reports";
	if (text_is(v->code,
	    proto_restrict_reason_words[RESTRICT_ACCEPTANCE]))
		return "too few invitations accepted";
	return NULL;
}

/* The notices that carry no invitation, in a member's feed (all false) or
 * the `all` one. False for other types. */
static bool
ev_put_notice(const struct ev_view *v, bool all)
{
	const char *why;

	if (v->kind == PEV_LIMIT_WARNING) {
		if (all)
			ev_printf("warning to %T: ", v->member);
		else
			ev_printf("warning: ");
		ev_printf("%T: %T", v->code, v->message);
	} else if (v->kind == PEV_RESTRICTION_STARTED) {
		why = ev_restriction_why(v);
		if (all) {
			ev_printf("%T may not send invitations", v->member);
			ev_put_until(v);
			if (why != NULL)
				ev_printf(": %s", why);
			else if (v->code.n > 0)
				ev_printf(": %T", v->code);
		} else {
			if (v->message.n > 0)
				ev_printf("%T", v->message);
			else
				ev_printf("you may not send invitations");
			ev_put_until(v);
		}
	} else if (v->kind == PEV_RESTRICTION_ENDED) {
		if (all)
			ev_printf("%T may send invitations again", v->member);
		else if (v->message.n > 0)
			ev_printf("%T", v->message);
		else
			ev_printf("you may send invitations again");
	} else if (v->kind == PEV_PLAN_PROGRESS) {
		if (all)
			ev_printf("%T's ", v->member);
		else
			ev_printf("your ");
		ev_printf("clean-up plan %u: %u of %u withdrawn", v->plan,
		    v->done, v->total);
	} else if (v->kind == PEV_PLAN_DONE) {
		if (all)
			ev_printf("%T's ", v->member);
		else
			ev_printf("your ");
		ev_printf("clean-up plan %u is done: %u of %u withdrawn",
		    v->plan, v->done, v->total);
		if (v->done < v->total)
			ev_printf(" (the others were no longer pending)");
	} else
		return false;
	return true;
}

/* The line of an event in a member's feed: as that member is told. */
static void
ev_put_member(const struct ev_view *v)
{
	const struct inv_view *i = &v->inv;
	char age[32];

	if (v->kind == PEV_RECEIVED && v->has_inv) {
		ev_printf("%T invited you", i->from);
		ev_put_inv_note(v);
	} else if (v->kind == PEV_ACCEPTED && v->has_inv)
		ev_printf("%T accepted your invitation %u", i->to, i->id);
	else if (v->kind == PEV_CONN_CREATED)
		ev_printf("you and %T are now connected", v->other);
	else if (v->kind == PEV_WITHDRAWN && v->has_inv)
		ev_printf("%T withdrew invitation %u to you", i->from, i->id);
	else if (v->kind == PEV_EXPIRED && v->has_inv)
		ev_printf("your invitation %u to %T expired", i->id, i->to);
	else if (v->kind == PEV_STALE && v->has_inv) {
		ev_age(v, age, sizeof age);
		ev_printf("your invitation %u to %T is %s old: consider "
		    "withdrawing it or letting it expire", i->id, i->to, age);
	} else if (v->kind == PEV_REMINDER && v->has_inv) {
		ev_age(v, age, sizeof age);
		ev_printf("reminder: %T invited you %s ago (invitation %u): "
		    "accept or ignore it", i->from, age, i->id);
	} else if (v->kind == PEV_DIGEST)
		ev_put_digest(v, false);
	else if (v->kind == PEV_COOLDOWN_ENDED && v->has_inv)
		ev_printf("you may invite %T again", i->to);
	else if (v->kind == PEV_IGNORED && v->has_inv)
		ev_printf("you ignored %T's invitation %u", i->from, i->id);
	else if (v->kind == PEV_UNIGNORED && v->has_inv)
		ev_printf("you put %T's invitation %u back in your received "
		    "box", i->from, i->id);
	else if (v->kind == PEV_CONN_REMOVED)
		ev_printf("you removed your connection with %T", v->other);
	else if (!ev_put_notice(v, false) && !ev_put_intro(v, false)) {
		ev_printf("%T", v->type);
		if (v->has_inv)
			ev_printf(" (invitation %u)", i->id);
	}
}

/* The line of an event in the `all` feed: both parties named. */
static void
ev_put_all(const struct ev_view *v)
{
	const struct inv_view *i = &v->inv;
	char age[32];

	if (v->kind == PEV_RECEIVED && v->has_inv) {
		ev_printf("%T invited %T", i->from, i->to);
		ev_put_inv_note(v);
	} else if (v->kind == PEV_ACCEPTED && v->has_inv)
		ev_printf("%T accepted %T's invitation %u", i->to, i->from,
		    i->id);
	else if (v->kind == PEV_CONN_CREATED)
		ev_printf("%T is now connected with %T", v->member, v->other);
	else if (v->kind == PEV_WITHDRAWN && v->has_inv)
		ev_printf("%T withdrew invitation %u to %T", i->from, i->id,
		    i->to);
	else if (v->kind == PEV_EXPIRED && v->has_inv)
		ev_printf("%T's invitation %u to %T expired", i->from, i->id,
		    i->to);
	else if (v->kind == PEV_STALE && v->has_inv) {
		ev_age(v, age, sizeof age);
		ev_printf("%T was reminded that invitation %u to %T is %s "
		    "old", i->from, i->id, i->to, age);
	} else if (v->kind == PEV_REMINDER && v->has_inv) {
		ev_age(v, age, sizeof age);
		ev_printf("%T was reminded of %T's invitation %u, %s old",
		    i->to, i->from, i->id, age);
	} else if (v->kind == PEV_DIGEST)
		ev_put_digest(v, true);
	else if (v->kind == PEV_COOLDOWN_ENDED && v->has_inv)
		ev_printf("%T may invite %T again", i->from, i->to);
	else if (v->kind == PEV_IGNORED && v->has_inv)
		ev_printf("%T ignored %T's invitation %u", i->to, i->from,
		    i->id);
	else if (v->kind == PEV_UNIGNORED && v->has_inv)
		ev_printf("%T put %T's invitation %u back in the received "
		    "box", i->to, i->from, i->id);
	else if (v->kind == PEV_HELD && v->has_inv)
		ev_printf("%T invited %T: held by %T's filters, not told",
		    i->from, i->to, i->to);
	else if (v->kind == PEV_CONN_REMOVED)
		ev_printf("%T removed the connection with %T", v->member,
		    v->other);
	else if (v->kind == PEV_MEMBER_ERASED)
		ev_printf("%T was erased", v->member);
	else if (v->kind == PEV_EVENT_ERASED)
		ev_printf("(an event about an erased member)");
	else if (!ev_put_notice(v, true) && !ev_put_intro(v, true)) {
		ev_printf("%T for %T", v->type, v->member);
		if (v->has_inv)
			ev_printf(" (invitation %u)", i->id);
	}
}

/* Prints "connreq [-s SOCKET] watch MEMBER|--all --after SEQ". */
static void
watch_put_resume(FILE *f, const struct watch *w, uint64_t after)
{
	hint_connreq(f, w->ctx);
	fputs("watch ", f);
	if (w->member != NULL)
		text_put_shell(f, w->member);
	else
		fputs("--all", f);
	fprintf(f, " --after %" PRIu64, after);
}

/* Waits for fd to be readable (-1: none), ms milliseconds at most (-1:
 * no limit), or for a signal. True when the time ran out. */
static bool
watch_wait(struct watch *w, int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct timespec ts, *tsp = NULL;

	if (ms >= 0) {
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (long)(ms % 1000) * 1000000L;
		tsp = &ts;
	}
	if (watch_stop)
		return false;
	return ppoll(&pfd, fd >= 0 ? 1 : 0, tsp, &w->waitmask) == 0;
}

/* Sets name to the string t, or unsets it. */
static void
watch_setenv(const char *name, const struct text *t)
{
	char *s;

	if (t == NULL) {
		unsetenv(name);
		return;
	}
	s = xstrndup(t->p, t->n);
	setenv(name, s, 1);
	free(s);
}

static void
watch_setenv_num(const char *name, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
watch_setenv_num(const char *name, const char *fmt, ...)
{
	char buf[32];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	setenv(name, buf, 1);
}

/* In the child: the event in the environment, the JSON on fd 0, then
 * /bin/sh -c CMD. CMD is the user's string as given: nothing of the event
 * is ever put into it. */
static void __attribute__((noreturn))
watch_child_exec(const struct watch *w, const struct ev_view *v, int in)
{
	/* CMD starts with the signals as watch found them. */
	sigaction(SIGINT, &w->int0, NULL);
	sigaction(SIGTERM, &w->term0, NULL);
	sigaction(SIGCHLD, &w->chld0, NULL);
	sigprocmask(SIG_SETMASK, &w->mask0, NULL);
	if (in != STDIN_FILENO) {
		if (dup2(in, STDIN_FILENO) == -1)
			_exit(127);
		close(in);
	}
	watch_setenv_num("CONNREQ_EVENT_SEQ", "%" PRIu64, v->seq);
	watch_setenv("CONNREQ_EVENT_TYPE", &v->type);
	watch_setenv_num("CONNREQ_EVENT_AT", "%" PRId64, v->at);
	watch_setenv("CONNREQ_EVENT_MEMBER", &v->member);
	if (v->has_inv) {
		watch_setenv_num("CONNREQ_EVENT_ID", "%" PRIu64, v->inv.id);
		watch_setenv("CONNREQ_EVENT_FROM", &v->inv.from);
		watch_setenv("CONNREQ_EVENT_TO", &v->inv.to);
	} else {
		unsetenv("CONNREQ_EVENT_ID");
		watch_setenv("CONNREQ_EVENT_FROM", NULL);
		watch_setenv("CONNREQ_EVENT_TO", NULL);
	}
	watch_setenv("CONNREQ_EVENT_OTHER", v->other.n > 0 ? &v->other : NULL);
	execl("/bin/sh", "sh", "-c", w->exec, (char *)NULL);
	fprintf(stderr, "connreq: --exec: /bin/sh: %s\n", strerror(errno));
	_exit(127);
}

/* Writes the event as JSON to fd, which is then closed. A CMD that does not
 * read its input is no failure: EPIPE is ignored. */
static void
watch_feed(int fd, const msgpack_object *ev)
{
	struct sigaction ign, old;
	char *buf = NULL;
	size_t len = 0, off = 0;
	ssize_t n;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL) {
		close(fd);
		return;
	}
	cr_json_print(f, ev);
	fputc('\n', f);
	fclose(f);
	memset(&ign, 0, sizeof ign);
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, &old);
	while (off < len) {
		n = write(fd, buf + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	sigaction(SIGPIPE, &old, NULL);
	close(fd);
	free(buf);
}

/* Runs --exec CMD for an event and waits for it; a failure is reported,
 * not fatal. A stop request stops the waiting (CMD is left to finish). */
static void
watch_run_exec(struct watch *w, const struct ev_view *v,
    const msgpack_object *ev)
{
	int fds[2], status;
	pid_t pid, r;

	if (pipe2(fds, O_CLOEXEC) == -1) {
		fprintf(stderr, "connreq: --exec: pipe: %s\n", strerror(errno));
		return;
	}
	fflush(stdout);
	fflush(stderr);
	watch_child = 0;
	pid = fork();
	if (pid == -1) {
		fprintf(stderr, "connreq: --exec: fork: %s\n", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return;
	}
	if (pid == 0) {
		close(fds[1]);
		watch_child_exec(w, v, fds[0]);
	}
	close(fds[0]);
	watch_feed(fds[1], ev);
	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r == -1 && errno != EINTR) {
			fprintf(stderr, "connreq: --exec: waitpid: %s\n",
			    strerror(errno));
			return;
		}
		if (watch_stop)
			return;
		/* SIGCHLD or a stop request ends the wait. */
		if (!watch_child)
			(void)ppoll(NULL, 0, NULL, &w->waitmask);
		watch_child = 0;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		fprintf(stderr, "connreq: --exec: the command exited with "
		    "status %d (event %" PRIu64 ", %.*s)\n",
		    WEXITSTATUS(status), v->seq, (int)v->type.n, v->type.p);
	else if (WIFSIGNALED(status))
		fprintf(stderr, "connreq: --exec: the command was killed by "
		    "signal %d (event %" PRIu64 ", %.*s)\n", WTERMSIG(status),
		    v->seq, (int)v->type.n, v->type.p);
}

/* Prints one event and runs --exec. -1 when stdout failed. */
static int
watch_event(struct watch *w, const msgpack_object *ev)
{
	struct ev_view v;
	char when[32];

	ev_read(ev, &v);
	if (v.seq == 0 || (w->have_cursor && v.seq <= w->cursor))
		return 0;	/* already printed */
	w->cursor = v.seq;
	w->have_cursor = true;
	if (w->ctx->json) {
		cr_json_print(stdout, ev);
	} else {
		time_put_stamp(v.at, when, sizeof when);
		printf("%s  ", when);
		if (w->member != NULL)
			ev_put_member(&v);
		else
			ev_put_all(&v);
	}
	putchar('\n');
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "connreq: stdout: %s\n", strerror(errno));
		return -1;
	}
	if (w->exec != NULL)
		watch_run_exec(w, &v, ev);
	return 0;
}

/* Subscribes on the connection in w->ctx->client. 0 done, -1 when the
 * connection failed, -2 when connreqd answered UNAVAILABLE (err set), or
 * the exit status of a refusal. */
static int
watch_subscribe(struct watch *w, char *err, size_t errlen)
{
	const msgpack_object *o;
	struct cmd_ctx *ctx = w->ctx;
	msgpack_packer *pk;
	struct cr_reply r;
	uint64_t head, oldest;

	pk = cr_request(ctx->client, METHOD(EVENTS_SUBSCRIBE));
	msgpack_pack_map(pk, 1 + w->have_cursor);
	if (w->member != NULL)
		pk_kstr(pk, "member", w->member);
	else {
		pk_key(pk, "all");
		msgpack_pack_true(pk);
	}
	if (w->have_cursor)
		pk_kuint(pk, "after", w->cursor);
	if (cr_finish(ctx->client, &r) == -1) {
		snprintf(err, errlen, "%s", cr_strerror(ctx->client));
		cr_reply_free(&r);
		return -1;
	}
	if (r.error != NULL &&
	    strcmp(r.code, proto_code_name(PE_UNAVAILABLE)) == 0) {
		/* connreqd is there, its database is not: waited for as
		 * connreqd itself is. */
		snprintf(err, errlen, "its database is unavailable: %s",
		    r.message);
		cr_reply_free(&r);
		return -2;
	}
	if (r.error != NULL) {
		int rc = call_exit_status(r.code);

		call_refused(ctx, &r);
		o = cr_get(r.error, "oldest");
		if (strcmp(r.code, proto_code_name(PE_CURSOR_EXPIRED)) == 0 &&
		    o != NULL && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
			oldest = o->via.u64;
			fprintf(stderr, "connreq: the oldest event kept is %"
			    PRIu64 "; `", oldest);
			watch_put_resume(stderr, w, oldest > 0 ? oldest - 1 : 0);
			fputs("` starts there, or leave out --after to see new "
			    "events only\n", stderr);
		} else if (strcmp(r.code,
		    proto_code_name(PE_UNKNOWN_METHOD)) == 0)
			fputs("connreq: this connreqd has no event feed: it "
			    "is older than this connreq\n", stderr);
		cr_reply_free(&r);
		return rc;
	}
	if (!w->have_cursor) {
		if (!obj_uint(r.result, "head", &head)) {
			cr_reply_free(&r);
			fprintf(stderr, "connreq: connreqd sent an unexpected "
			    "reply\n");
			return EXIT_REFUSED;
		}
		w->cursor = head;
		w->have_cursor = true;
	}
	cr_reply_free(&r);
	return 0;
}

/* Prints events until the connection fails (-1, err set), stdout fails
 * (EXIT_REFUSED) or a stop request (0). */
static int
watch_pump(struct watch *w, char *err, size_t errlen)
{
	struct cr_client *c = w->ctx->client;
	struct cr_reply r;
	int rc;

	while (!watch_stop) {
		rc = cr_next_event(c, &r, 0);
		if (rc == 1) {
			watch_wait(w, cr_fd(c), -1);
			continue;
		}
		if (rc == -1) {
			snprintf(err, errlen, "%s", cr_strerror(c));
			return -1;
		}
		rc = r.result != NULL && r.result->type == MSGPACK_OBJECT_MAP ?
		    watch_event(w, r.result) : 0;
		cr_reply_free(&r);
		if (rc != 0)
			return EXIT_REFUSED;
	}
	return 0;
}

/* Connects and subscribes again, waiting 100ms, then twice as long each
 * time up to 5s, for as long as it takes. -1 when done; otherwise the exit
 * status: 0 when stopped, or that of a refusal (reported). */
static int
watch_reconnect(struct watch *w)
{
	struct cmd_ctx *ctx = w->ctx;
	char err[512];
	int backoff = WATCH_BACKOFF_MIN_MS, rc;

	for (;;) {
		watch_wait(w, -1, backoff);
		if (watch_stop)
			return EXIT_DONE;
		backoff = backoff * 2 > WATCH_BACKOFF_MAX_MS ?
		    WATCH_BACKOFF_MAX_MS : backoff * 2;
		ctx->client = cr_connect(ctx->socket, err, sizeof err);
		if (ctx->client == NULL)
			continue;
		rc = watch_subscribe(w, err, sizeof err);
		if (rc == 0)
			return -1;
		cr_close(ctx->client);
		ctx->client = NULL;
		if (rc > 0)
			return rc;
	}
}

const struct cmd_entry cmd_watch_entry = {
	.name = "watch",
	.args_min = 0,
	.args_max = 1,
	.opts = OPT_BIT(OPT_ALL) | OPT_BIT(OPT_AFTER) | OPT_BIT(OPT_EXEC),
	.usage = "watch MEMBER|--all [--after SEQ] [--json] [--exec CMD]",
	.help = "Prints MEMBER's new notifications as they happen, one line "
	    "each, until Ctrl-C; those from before it started are shown only "
	    "with --after 0 (all that are kept) or --after SEQ. The "
	    "notifications: invitations received, accepted, expired, still "
	    "pending after 14 days (the policy's stale after), withdrawn "
	    "(when the policy tells the recipient), the ends of cooldowns, "
	    "new connections, warnings about limits, restrictions starting "
	    "and ending, the progress of clean-up plans, reminders of "
	    "invitations still waiting for an answer after 7 days (the "
	    "policy's recipient remind after), digests of those waiting, "
	    "and introductions asked, forwarded, declined (when the asker "
	    "is told) and expired. --all prints every "
	    "member's events, the silent ones too (ignored invitations, "
	    "removed connections). With --json each event is one JSON object "
	    "a line. Without --after only new events are shown; --after SEQ "
	    "first replays those kept after event SEQ (--after 0: all that "
	    "are kept, 30 days' worth by default). If connreqd goes away, "
	    "watch waits for it and carries on where it stopped, missing "
	    "nothing and printing nothing twice. --exec CMD runs `/bin/sh -c "
	    "CMD` for each event, after printing it, and waits for it to "
	    "finish; CMD gets the event as JSON on its standard input and in "
	    "CONNREQ_EVENT_SEQ, CONNREQ_EVENT_TYPE, CONNREQ_EVENT_AT (Unix "
	    "seconds) and CONNREQ_EVENT_MEMBER, for an invitation "
	    "CONNREQ_EVENT_ID, CONNREQ_EVENT_FROM and CONNREQ_EVENT_TO, for a "
	    "connection CONNREQ_EVENT_OTHER; a CMD that fails is reported and "
	    "watch goes on. Times are connreqd's clock, in UTC (--local: in "
	    "local time). Exit status: "
	    "0 after Ctrl-C or SIGTERM, 1 when events after SEQ are no longer "
	    "kept, 3 when connreqd cannot be reached at the start. While "
	    "connreqd's database is unavailable (UNAVAILABLE, connreqd "
	    "--postgres), watch waits for it, at the start too.",
	.exec = cmd_watch_exec
};

static int
cmd_watch_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	struct sigaction sa;
	struct watch w;
	sigset_t block;
	char err[512];
	int rc;

	memset(&w, 0, sizeof w);
	w.ctx = ctx;
	w.exec = a->opt[OPT_EXEC];
	w.member = a->argc > 0 ? a->argv[0] : NULL;
	if ((w.member != NULL) == (a->opt[OPT_ALL] != NULL))
		return cmd_usage_error(ctx->entry, w.member != NULL ?
		    "watch: a MEMBER or --all, not both" :
		    "watch: name a MEMBER, or --all for every event");
	if (a->opt[OPT_AFTER] != NULL) {
		if (!parse_number(a->opt[OPT_AFTER], &w.cursor))
			return cmd_usage_error(ctx->entry, "--after: not an "
			    "event number: %s", a->opt[OPT_AFTER]);
		w.have_cursor = true;
	}

	/* SIGINT, SIGTERM and SIGCHLD are let in only while waiting. */
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = watch_on_stop;
	sigaction(SIGINT, &sa, &w.int0);
	sigaction(SIGTERM, &sa, &w.term0);
	sa.sa_handler = watch_on_child;
	sigaction(SIGCHLD, &sa, &w.chld0);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &w.mask0);
	w.waitmask = w.mask0;
	sigdelset(&w.waitmask, SIGINT);
	sigdelset(&w.waitmask, SIGTERM);
	sigdelset(&w.waitmask, SIGCHLD);

	/* The first subscription must work, as any command's request; a
	 * database that is unavailable is waited for. */
	rc = watch_subscribe(&w, err, sizeof err);
	if (rc == -2) {
		fprintf(stderr, "connreq: connreqd at %s: %s; trying again "
		    "until it is back\n", ctx->socket, err);
		cr_close(ctx->client);
		ctx->client = NULL;
		if ((rc = watch_reconnect(&w)) == -1)
			rc = 0;
		else
			return rc;
	}
	if (rc == -1) {
		fprintf(stderr, "connreq: lost connreqd at %s: %s\n",
		    ctx->socket, err);
		return EXIT_UNREACHABLE;
	}
	if (rc != 0)
		return rc;
	/* The subscription holds from here: say so, for people and for
	 * scripts that wait for it. */
	fputs("connreq: watching ", stderr);
	if (w.member != NULL) {
		text_put(stderr, w.member, strlen(w.member));
		fputs("'s notifications", stderr);
	} else
		fputs("every member's events", stderr);
	if (a->opt[OPT_AFTER] != NULL) {
		fprintf(stderr, " after event %" PRIu64, w.cursor);
		fputs(" (Ctrl-C stops)\n", stderr);
	} else {
		/* What happened before is not shown: say how to see it. */
		fputs(" as they come (Ctrl-C stops); only new ones: `",
		    stderr);
		watch_put_resume(stderr, &w, 0);
		fputs("` shows those kept from before too\n", stderr);
	}
	for (;;) {
		rc = watch_pump(&w, err, sizeof err);
		if (rc != -1)
			break;
		cr_close(ctx->client);
		ctx->client = NULL;
		fprintf(stderr, "connreq: lost connreqd at %s (%s); "
		    "trying again until it is back\n", ctx->socket, err);
		if ((rc = watch_reconnect(&w)) != -1)
			break;
		fprintf(stderr, "connreq: connreqd is back; going on after "
		    "event %" PRIu64 "\n", w.cursor);
	}
	if (rc == EXIT_DONE && watch_stop) {
		/* After the terminal's "^C", on a line of its own. */
		if (watch_stop == SIGINT && isatty(STDERR_FILENO))
			fputc('\n', stderr);
		fprintf(stderr, "connreq: stopped after event %" PRIu64 "; `",
		    w.cursor);
		watch_put_resume(stderr, &w, w.cursor);
		fputs("` carries on from there\n", stderr);
	}
	return rc;
}
