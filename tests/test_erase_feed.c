/* member.erase seen from the feeds and the store: subscribers to the
 * erased member's feed (told nothing) and to the all feed (member.erased
 * alone, then what follows) during the erasure, held invitations both ways, an
 * auto-accepted one, a reminder due; then the events retention prunes what
 * was redacted (CURSOR_EXPIRED exact), and connreqd --copy-store copies
 * the store after (--check clean on the copy). */
#include "harness.h"

static struct cr_client *c;
static struct cr_reply r;

/* connreqd ARGS (its output to dir/out.txt); its exit status. */
static int
connreqd(const char *args, const char *dir)
{
	char cmd[2048];
	int st;

	snprintf(cmd, sizeof cmd,
	    "XDG_CONFIG_HOME=/nonexistent '%s/connreqd' %s >'%s/out.txt' 2>&1",
	    getenv("CONNREQ_BIN"), args, dir);
	st = system(cmd);
	if (st != 0) {
		snprintf(cmd, sizeof cmd, "cat '%s/out.txt' >&2", dir);
		if (system(cmd) != 0)
			diag("no output");
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int
main(void)
{
	struct dproc p;
	struct cr_client *sub_all, *sub_ann;
	struct cr_reply ev;
	uint64_t h, hold_in, hold_out, aa, rem, late;
	char dst[700], args[1500];
	int rc;

	dproc_init(&p);
	dproc_config(&p, NO_LIMITS "[policy]\nrecipient_remind_after = 2d\n"
	    "[events]\nretention = 3d\n");
	if (!ok(dproc_start(&p, T0, NULL) == 0, "connreqd starts"))
		return done_testing();
	c = dconnect(&p);

	cr_reply_free(&r);
	call(c, &r, "member.settings.set", "member:s hold_no_mutual:b", "ann", 1);
	cr_reply_free(&r);
	call(c, &r, "member.settings.set", "member:s hold_no_mutual:b", "bob", 1);
	hold_in = send_id(c, &r, "cat", "ann");		/* held for ann */
	hold_out = send_id(c, &r, "ann", "bob");		/* held for bob */
	cr_reply_free(&r);
	call(c, &r, "invite.list", "member:s box:s", "bob", "held");
	ok(rnum(&r, "items") == 1 && rnum(&r, "items.0.id") == (int64_t)hold_out,
	    "ann's invitation to bob is held");
	cr_reply_free(&r);
	call(c, &r, "invite.list", "member:s box:s", "ann", "held");
	ok(rnum(&r, "items") == 1 && rnum(&r, "items.0.id") == (int64_t)hold_in,
	    "cat's invitation to ann is held");
	cr_reply_free(&r);
	call(c, &r, "member.auto_accept.add", "member:s other:s", "dee", "ann");
	aa = send_id(c, &r, "ann", "dee");		/* auto-accepted */
	cr_reply_free(&r);
	call(c, &r, "connection.list", "member:s", "dee");
	is_int(rnum(&r, "items"), 1, "dee auto-accepted ann");
	rem = send_id(c, &r, "eli", "fay");		/* a bystander's reminder */
	cr_reply_free(&r);
	call(c, &r, "member.settings.set", "member:s digest_every:u hold_no_mutual:b",
	    "ann", (uint64_t)3600, 0);		/* her digest; no more held */
	late = send_id(c, &r, "eli", "ann");		/* her reminder */
	advance(c, &r, 3600);
	ok(strstr(feed(c, &r, "ann", 0), "invitation.digest") != NULL,
	    "ann has an hourly digest");
	/* Her digests, each written when due: the last at 23 h, then the
	 * erasure half an hour later. */
	advance(c, &r, 86400 - 2 * 3600);
	advance(c, &r, 1800);

	/* Subscribers. */
	sub_all = dconnect(&p);
	sub_ann = dconnect(&p);
	cr_reply_free(&r);
	ok(call(sub_all, &r, "events.subscribe", "all:b", 1) == 0,
	    "a subscriber to the all feed");
	cr_reply_free(&r);
	ok(call(sub_ann, &r, "events.subscribe", "member:s", "ann") == 0,
	    "a subscriber to ann's feed");
	cr_reply_free(&r);

	is_int(call(c, &r, "member.erase", "member:s", "ann"), 0, "erase ann");
	is_int(rnum(&r, "invitations"), 4, "4 invitations (2 held, 1 accepted, eli's)");
	is_int(rnum(&r, "connections"), 1, "1 connection (dee)");
	h = head(c, &r);
	memset(&ev, 0, sizeof ev);
	/* The all feed's subscriber (a mirror) gets member.erased, at its
	 * seq, and no event.erased. */
	rc = cr_next_event(sub_all, &ev, 2000);
	ok(rc == 0 && (uint64_t)rnum(&ev, "seq") == h &&
	    strcmp(rstr(&ev, "type"), "member.erased") == 0,
	    "the all feed's subscriber gets member.erased at the head (%d: %lld %s)",
	    rc, (long long)rnum(&ev, "seq"), rstr(&ev, "type"));
	is_str(rstr(&ev, "member"), "ann", "... naming ann");
	cr_reply_free(&ev);
	ok(cr_next_event(sub_ann, &ev, 300) == 1,
	    "ann's subscriber is told nothing of it");
	cr_reply_free(&ev);
	send_id(c, &r, "gus", "hal");
	rc = cr_next_event(sub_all, &ev, 2000);
	ok(rc == 0 && (uint64_t)rnum(&ev, "seq") == h + 1 &&
	    strcmp(rstr(&ev, "type"), "invitation.received") == 0,
	    "then the next event, at head + 1 (%lld %s)",
	    (long long)rnum(&ev, "seq"), rstr(&ev, "type"));
	cr_reply_free(&ev);
	cr_close(sub_all);
	cr_close(sub_ann);
	(void)hold_in; (void)aa; (void)late;

	/* Reminders: fay's comes, nothing about ann. */
	advance(c, &r, 2 * 86400);
	ok(strstr(feed(c, &r, "fay", 0), "invitation.reminder") != NULL,
	    "fay is reminded of eli's (%s)", feed(c, &r, "fay", 0));
	is_str(feed(c, &r, "ann", 0), "", "ann's feed is empty: no reminder, no digest");
	(void)rem;
	cr_reply_free(&r);
	call(c, &r, "invite.list", "member:s box:s", "bob", "held");
	is_int(rnum(&r, "items"), 0, "bob's held box: empty");

	/* Retention: 3 d after the erasure, everything before it is gone;
	 * member.erased (seq h) and after are kept. */
	advance(c, &r, 86400 - 60);
	cr_reply_free(&r);
	call(c, &r, "server.info", "");
	is_int(rnum(&r, "events.oldest"), (int64_t)h,
	    "events.oldest: member.erased, %llu", (unsigned long long)h);
	cr_reply_free(&r);
	ok(call(c, &r, "events.read", "all:b after:u", 1, (uint64_t)1) == 1 &&
	    refused(&r, "CURSOR_EXPIRED") && cr_get(r.error, "oldest") != NULL &&
	    cr_get(r.error, "oldest")->via.u64 == h,
	    "reading from 1: CURSOR_EXPIRED, oldest %llu", (unsigned long long)h);
	cr_reply_free(&r);
	ok(call(c, &r, "events.read", "all:b after:u", 1, h - 1) == 0 &&
	    strcmp(rstr(&r, "events.0.type"), "member.erased") == 0,
	    "from oldest - 1: member.erased first");
	cr_reply_free(&r);
	ok(call(c, &r, "events.read", "member:s after:u", "ann", (uint64_t)1) == 0,
	    "ann's feed from 1: no CURSOR_EXPIRED (nothing of hers was pruned as hers) %s",
	    r.error ? r.code : "");

	cr_reply_free(&r);
	cr_close(c);
	is_int(dproc_stop(&p, SIGTERM), 0, "it stops");
	is_int(dproc_check(&p), 0, "connreqd --check: clean");
	snprintf(dst, sizeof dst, "%s/copy", p.dir);
#ifdef HARNESS_PG
	snprintf(args, sizeof args, "--copy-store '%s' '%s'", p.pg, dst);
	is_int(connreqd(args, p.dir), 0,
	    "connreqd --copy-store: PostgreSQL -> LMDB");
#else
	snprintf(args, sizeof args, "--copy-store '%s' '%s'", p.store, dst);
	is_int(connreqd(args, p.dir), 0, "connreqd --copy-store: LMDB -> LMDB");
#endif
	snprintf(args, sizeof args, "--check -d '%s'", dst);
	is_int(connreqd(args, p.dir), 0, "connreqd --check of the copy: clean");
#ifdef HARNESS_PG
	{
		char ci[600];

		if (pgcluster_newdb(&harness_pg, ci, sizeof ci) == -1)
			bail_out("no database for the copy back");
		snprintf(args, sizeof args, "--copy-store '%s' '%s'", dst, ci);
		is_int(connreqd(args, p.dir), 0,
		    "connreqd --copy-store: that LMDB copy -> PostgreSQL");
		snprintf(args, sizeof args, "--check --postgres '%s'", ci);
		is_int(connreqd(args, p.dir), 0,
		    "connreqd --check of the PostgreSQL copy: clean");
	}
#endif
	dproc_cleanup(&p);
	return done_testing();
}
