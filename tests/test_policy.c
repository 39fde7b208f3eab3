/* Policy and health end to end: every limit at its edge, recipients'
 * settings, blocks, reports, restriction and its end, stats. */
#include "harness.h"

static struct dproc p;
static struct cr_client *c;
static struct cr_reply r;

static void
test_weekly_limit(void)
{
	char to[32];
	int i, okn = 0;
	int64_t start = advance(c, &r, 0);
	uint64_t id = 0;

	for (i = 0; i < 100; i++) {
		snprintf(to, sizeof to, "w%d", i);
		okn += send_inv(c, &r, "wendy", to) > 0;
		if (i == 0)
			id = (uint64_t)rnum(&r, "invitation.id");
		if (i % 10 == 9)
			advance(c, &r, 3600);
	}
	is_int(okn, 100, "100 sends within a week pass");
	cr_reply_free(&r);
	call(c, &r, "invite.withdraw", "actor:s id:u", "wendy", id);
	ok(send_inv(c, &r, "wendy", "w100") == 0 &&
	    refused(&r, "RATE_LIMITED") &&
	    r.retry_at == start + 7 * DAY,
	    "the 101st: RATE_LIMITED until the first leaves the week (withdrawing gave nothing back) (%s)",
	    r.message);
	cr_reply_free(&r);
	call(c, &r, "invite.can_send", "from:s to:s", "wendy", "w100");
	ok(rnum(&r, "allowed") == 0 && strcmp(rstr(&r, "code"), "RATE_LIMITED") == 0 &&
	    rnum(&r, "retry_at") == start + 7 * DAY &&
	    rnum(&r, "quota.week_used") == 100 && rnum(&r, "quota.week_limit") == 100,
	    "invite.can_send says so, and when, without sending");
	advance(c, &r, start + 7 * DAY - 1 - advance(c, &r, 0));
	ok(send_inv(c, &r, "wendy", "w100") == 0 && refused(&r, "RATE_LIMITED"),
	    "a second before: still refused");
	advance(c, &r, 1);
	ok(send_inv(c, &r, "wendy", "w100") > 0,
	    "when the window moves: it passes");
	cr_reply_free(&r);
	call(c, &r, "invite.can_send", "from:s to:s", "wendy", "w101");
	ok(rnum(&r, "allowed") == 1 && rnum(&r, "quota.week_used") == 91,
	    "the first hour's ten left the week, one came: 91 used");
}

static void
test_pair_limit(void)
{
	uint64_t id = 0;
	int64_t start = advance(c, &r, 0);
	int i;

	for (i = 0; i < 3; i++) {
		ok(send_inv(c, &r, "pat", "quinn") > 0,
		    "invitation %d from pat to quinn", i + 1);
		id = (uint64_t)rnum(&r, "invitation.id");
		cr_reply_free(&r);
		call(c, &r, "invite.withdraw", "actor:s id:u", "pat", id);
		advance(c, &r, 21 * DAY);
	}
	ok(send_inv(c, &r, "pat", "quinn") == 0 && refused(&r, "PAIR_LIMIT") &&
	    r.retry_at == start + 365 * DAY,
	    "a 4th within a year: PAIR_LIMIT until the first is a year old (%s)",
	    r.message);
	cr_reply_free(&r);
	call(c, &r, "invite.can_send", "from:s to:s", "pat", "quinn");
	ok(rnum(&r, "quota.pair_used") == 3 && rnum(&r, "quota.pair_limit") == 3,
	    "can_send counts the pair");
	advance(c, &r, start + 365 * DAY - advance(c, &r, 0));
	ok(send_inv(c, &r, "pat", "quinn") > 0, "a year on, it passes");
}

static void
test_expires_in(void)
{
	cr_reply_free(&r);
	ok(call(c, &r, "invite.send", "from:s to:s expires_in:u", "ed", "fay",
	    (uint64_t)(3 * DAY)) == 0 &&
	    rnum(&r, "invitation.expires_at") == rnum(&r, "invitation.created_at") + 3 * DAY,
	    "expires_in gives one invitation a shorter life");
	cr_reply_free(&r);
	ok(call(c, &r, "invite.send", "from:s to:s expires_in:u", "ed", "gus",
	    (uint64_t)(181 * DAY)) == 1 && refused(&r, "INVALID_ARGUMENT"),
	    "longer than max_expire_after: refused (%s)", r.message);
	cr_reply_free(&r);
	ok(call(c, &r, "invite.send", "from:s to:s expires_in:u", "ed", "gus",
	    (uint64_t)0) == 1 && refused(&r, "INVALID_ARGUMENT") &&
	    strcmp(r.message, "expires_in must be at least 1 second") == 0,
	    "expires_in 0 on a send: refused (%s)", r.message);
	cr_reply_free(&r);
	ok(call(c, &r, "invite.resend", "actor:s id:u expires_in:u", "ed",
	    (uint64_t)1, (uint64_t)0) == 1 && refused(&r, "INVALID_ARGUMENT") &&
	    strcmp(r.message, "expires_in must be at least 1 second") == 0,
	    "expires_in 0 on a resend: refused before anything is looked up (%s)",
	    r.message);
	advance(c, &r, 3 * DAY);
	cr_reply_free(&r);
	call(c, &r, "invite.list", "member:s box:s", "ed", "sent");
	is_str(rstr(&r, "items.0.state"), "expired", "it expired after 3 days");
}

static void
test_settings_and_blocks(void)
{
	uint64_t id, h;
	char blocked_msg[256];

	cr_reply_free(&r);
	ok(call(c, &r, "member.settings.set", "member:s invitations_from:s",
	    "nina", "nobody") == 0 &&
	    strcmp(rstr(&r, "invitations_from"), "nobody") == 0,
	    "nina takes invitations from nobody");
	ok(send_inv(c, &r, "oscar", "nina") == 0 &&
	    refused(&r, "NOT_PERMITTED"),
	    "oscar's send: NOT_PERMITTED (%s)", r.message);
	cr_reply_free(&r);
	ok(call(c, &r, "member.settings.set", "member:s invitations_from:s",
	    "nina", "email") == 1 && refused(&r, "INVALID_ARGUMENT"),
	    "\"email\" without an email is refused");
	cr_reply_free(&r);
	ok(call(c, &r, "member.settings.set",
	    "member:s invitations_from:s email:s", "nina", "email",
	    "Nina@Example.org") == 0, "nina takes invitations only with her email");
	ok(send_inv(c, &r, "oscar", "nina") == 0 &&
	    refused(&r, "EMAIL_REQUIRED"),
	    "without it: EMAIL_REQUIRED");
	cr_reply_free(&r);
	ok(call(c, &r, "invite.send", "from:s to:s email:s", "oscar", "nina",
	    "other@example.org") == 1 && refused(&r, "EMAIL_REQUIRED"),
	    "with another: EMAIL_REQUIRED");
	cr_reply_free(&r);
	ok(call(c, &r, "invite.send", "from:s to:s email:s", "oscar", "nina",
	    "nina@EXAMPLE.org") == 0, "with hers, in another case: it passes");
	{
		uint64_t sent_id = (uint64_t)rnum(&r, "invitation.id");

		cr_reply_free(&r);
		call(c, &r, "invite.withdraw", "actor:s id:u", "oscar", sent_id);
	}
	advance(c, &r, 21 * DAY);
	cr_reply_free(&r);
	{
		uint64_t oid;

		call(c, &r, "invite.list", "member:s box:s", "oscar", "sent");
		oid = (uint64_t)rnum(&r, "items.0.id");
		cr_reply_free(&r);
		ok(call(c, &r, "invite.resend", "actor:s id:u", "oscar", oid) == 1 &&
		    refused(&r, "EMAIL_REQUIRED"),
		    "a resend needs her email too");
		cr_reply_free(&r);
		ok(call(c, &r, "invite.resend", "actor:s id:u email:s", "oscar", oid,
		    "nina@example.org") == 0, "and passes with it");
	}
	cr_reply_free(&r);
	call(c, &r, "member.settings.get", "member:s", "nina");
	ok(strcmp(rstr(&r, "invitations_from"), "email") == 0 &&
	    strcmp(rstr(&r, "email"), "Nina@Example.org") == 0,
	    "member.settings.get");

	/* Blocks: quiet, and both ways. */
	send_inv(c, &r, "paula", "rick");
	id = (uint64_t)rnum(&r, "invitation.id");
	send_inv(c, &r, "rick", "sam");
	cr_reply_free(&r);
	call(c, &r, "invite.accept", "actor:s id:u", "sam", (uint64_t)rnum(&r,
	    "invitation.id"));
	send_inv(c, &r, "sam", "paula");
	cr_reply_free(&r);
	call(c, &r, "invite.accept", "actor:s id:u", "paula",
	    (uint64_t)rnum(&r, "invitation.id"));
	h = head(c, &r);
	cr_reply_free(&r);
	ok(call(c, &r, "member.block", "actor:s other:s", "rick", "paula") == 0,
	    "rick blocks paula");
	cr_reply_free(&r);
	call(c, &r, "invite.get", "id:u actor:s", id, "paula");
	is_str(rstr(&r, "invitation.state"), "pending",
	    "paula's invitation to rick still looks pending to her (issue 9: as behind a closed door)");
	cr_reply_free(&r);
	call(c, &r, "invite.get", "id:u actor:s", id, "rick");
	is_str(rstr(&r, "invitation.state"), "ignored",
	    "rick sees it ignored");
	is_str(feed(c, &r, "paula", h), "", "and paula is told nothing");
	is_str(feed(c, &r, "rick", h), "", "nor is rick");
	ok(send_inv(c, &r, "paula", "rick") == 0 &&
	    refused(&r, "NOT_PERMITTED"),
	    "paula cannot invite rick");
	snprintf(blocked_msg, sizeof blocked_msg, "%s", r.message);
	ok(send_inv(c, &r, "rick", "paula") == 0 &&
	    refused(&r, "NOT_PERMITTED"),
	    "nor rick paula");
	cr_reply_free(&r);
	call(c, &r, "member.settings.set", "member:s invitations_from:s", "tom",
	    "nobody");
	send_inv(c, &r, "paula", "tom");
	ok(strcmp(r.message, blocked_msg) == 0,
	    "and the message is the same as for a closed door: nothing says block");
	cr_reply_free(&r);
	call(c, &r, "member.block", "actor:s other:s", "sam", "paula");
	cr_reply_free(&r);
	call(c, &r, "connection.list", "member:s", "paula");
	is_int(rnum(&r, "items"), 0, "blocking removes the connection");
	cr_reply_free(&r);
	ok(call(c, &r, "member.unblock", "actor:s other:s", "rick", "paula") == 0 &&
	    rnum(&r, "changed") == 1, "unblocking a block: changed");
	cr_reply_free(&r);
	ok(call(c, &r, "member.unblock", "actor:s other:s", "rick", "paula") == 0 &&
	    rnum(&r, "changed") == 0 && rnum(&r, "blocked") == 0,
	    "unblocking again: nothing changed");
	cr_reply_free(&r);
	ok(call(c, &r, "member.block", "actor:s other:s", "sam", "paula") == 0 &&
	    rnum(&r, "changed") == 0 && rnum(&r, "blocked") == 1,
	    "blocking again: nothing changed");
	cr_reply_free(&r);
	ok(send_inv(c, &r, "paula", "rick") == 0 &&
	    refused(&r, "ALREADY_PENDING"),
	    "after unblocking, paula's invitation is still open: ALREADY_PENDING");

}

static void
test_reports_and_restriction(void)
{
	char to[32];
	uint64_t id, h;
	int i;
	int64_t now;

	send_inv(c, &r, "ursula", "victor");
	id = (uint64_t)rnum(&r, "invitation.id");
	cr_reply_free(&r);
	ok(call(c, &r, "invite.report", "actor:s id:u reason:s", "victor", id,
	    "dont_know") == 0 && strcmp(rstr(&r, "invitation.state"), "ignored") == 0,
	    "victor reports ursula's invitation: \"I don't know this person\"");
	cr_reply_free(&r);
	call(c, &r, "invite.get", "id:u actor:s", id, "ursula");
	is_str(rstr(&r, "invitation.state"), "pending", "ursula still sees pending");
	cr_reply_free(&r);
	call(c, &r, "invite.withdraw", "actor:s id:u", "ursula", id);
	advance(c, &r, 21 * DAY);
	ok(send_inv(c, &r, "ursula", "victor") == 0 &&
	    refused(&r, "NOT_PERMITTED"),
	    "after that, ursula may never invite victor again");
	cr_reply_free(&r);
	ok(call(c, &r, "invite.report", "actor:s id:u reason:s", "ursula", id,
	    "spam") == 1 && refused(&r, "NOT_PERMITTED"),
	    "only the recipient reports");
	send_inv(c, &r, "xena", "yuri");
	id = (uint64_t)rnum(&r, "invitation.id");
	cr_reply_free(&r);
	call(c, &r, "invite.report", "actor:s id:u reason:s", "yuri", id, "spam");
	advance(c, &r, 1);
	cr_reply_free(&r);
	ok(call(c, &r, "invite.report", "actor:s id:u reason:s", "yuri", id,
	    "spam") == 1 && refused(&r, "INVALID_STATE"),
	    "an invitation is reported once: the second report is refused");

	/* Five reports in 30 days restrict the sender for 7 days. */
	h = head(c, &r);
	for (i = 0; i < 5; i++) {
		snprintf(to, sizeof to, "spamtarget%d", i);
		send_inv(c, &r, "spammer", to);
		id = (uint64_t)rnum(&r, "invitation.id");
		cr_reply_free(&r);
		call(c, &r, "invite.report", "actor:s id:u reason:s", to, id,
		    "spam");
	}
	now = advance(c, &r, 0);
	ok(send_inv(c, &r, "spammer", "another") == 0 &&
	    refused(&r, "RESTRICTED") &&
	    r.retry_at == now + 7 * DAY,
	    "after 5 reports: RESTRICTED for 7 days (%s)", r.message);
	is_str(feed(c, &r, "spammer", h), "restriction.started",
	    "and the spammer is told");
	cr_reply_free(&r);
	call(c, &r, "stats.get", "member:s", "spammer");
	is_int(rnum(&r, "restricted_until"), now + 7 * DAY, "stats.get shows it");
	advance(c, &r, 7 * DAY);
	is_str(feed(c, &r, "spammer", h),
	    "restriction.started,restriction.ended",
	    "7 days on, it ends");
	ok(send_inv(c, &r, "spammer", "another") > 0, "and sends pass again");
	id = (uint64_t)rnum(&r, "invitation.id");
	cr_reply_free(&r);
	call(c, &r, "invite.accept", "actor:s id:u", "another", id);
	ok(send_inv(c, &r, "spammer", "yet-another") > 0,
	    "the reports that restricted it do not count again");

	/* 3 of the last 20 decided accepted: restricted; 4: not. */
	for (i = 0; i < 20; i++) {
		snprintf(to, sizeof to, "lowtarget%d", i);
		send_inv(c, &r, "lowrate", to);
		id = (uint64_t)rnum(&r, "invitation.id");
		cr_reply_free(&r);
		if (i < 4)
			call(c, &r, "invite.accept", "actor:s id:u", to, id);
		else
			call(c, &r, "invite.withdraw", "actor:s id:u", "lowrate", id);
	}
	ok(send_inv(c, &r, "lowrate", "next") > 0,
	    "4 of 20 decided accepted (20%%): not restricted");
	id = (uint64_t)rnum(&r, "invitation.id");
	cr_reply_free(&r);
	call(c, &r, "invite.withdraw", "actor:s id:u", "lowrate", id);
	ok(send_inv(c, &r, "lowrate", "next2") == 0 &&
	    refused(&r, "RESTRICTED"),
	    "one more withdrawn, 3 of the last 20: RESTRICTED");

	cr_reply_free(&r);
	call(c, &r, "stats.get", "member:s", "lowrate");
	ok(rnum(&r, "sent") == 21 && rnum(&r, "accepted") == 4 &&
	    rnum(&r, "withdrawn") == 17 && rnum(&r, "expired") == 0 &&
	    rnum(&r, "pending") == 0,
	    "stats: 21 sent, 4 accepted, 17 withdrawn, 0 pending");
	{
		const msgpack_object *rate = cr_get(r.result, "acceptance_rate");

		ok(rate != NULL && rate->type == MSGPACK_OBJECT_FLOAT64 &&
		    rate->via.f64 > 0.190 && rate->via.f64 < 0.191,
		    "acceptance rate 4/21");
	}
	is_str(rstr(&r, "health"), "low", "health: low");
	cr_reply_free(&r);
	call(c, &r, "stats.get", "member:s", "wendy");
	is_str(rstr(&r, "health"), "insufficient_data",
	    "wendy, with few decided: insufficient data");
}

static void
test_small_limits(void)
{
	struct dproc q;
	struct cr_client *save = c;
	char to[32];
	uint64_t ids[8], h;
	int i;

	dproc_init(&q);
	dproc_config(&q, "[limits]\npending_warn = 3\npending_max = 5\n"
	    "withdrawals_per_day = 2\nduplicate_note_warn = 3\n");
	ok(dproc_start(&q, T0, NULL) == 0, "a daemon with small limits");
	c = dconnect(&q);
	h = head(c, &r);
	for (i = 0; i < 5; i++) {
		snprintf(to, sizeof to, "t%d", i);
		send_inv(c, &r, "amy", to);
		ids[i] = (uint64_t)rnum(&r, "invitation.id");
		if (i == 1)
			ok(cr_get(r.result, "warnings") == NULL, "2 pending: no warning");
		if (i == 2)
			ok(strcmp(rstr(&r, "warnings.0.code"), "PENDING_WARN") == 0,
			    "the 3rd pending: passes with a PENDING_WARN warning");
	}
	ok(send_inv(c, &r, "amy", "t5") == 0 && refused(&r, "PENDING_CAP"),
	    "the 6th: PENDING_CAP (%s)", r.message);
	ok(strncmp(feed(c, &r, "amy", h), "limit.warning", 13) == 0,
	    "amy is told of the warning");
	for (i = 0; i < 2; i++) {
		cr_reply_free(&r);
		ok(call(c, &r, "invite.withdraw", "actor:s id:u", "amy", ids[i]) == 0,
		    "withdrawal %d of the day passes", i + 1);
	}
	cr_reply_free(&r);
	ok(call(c, &r, "invite.withdraw", "actor:s id:u", "amy", ids[2]) == 1 &&
	    refused(&r, "RATE_LIMITED") && r.retry_at == T0 + DAY,
	    "the 3rd: RATE_LIMITED until a day after the first");
	advance(c, &r, DAY);
	cr_reply_free(&r);
	ok(call(c, &r, "invite.withdraw", "actor:s id:u", "amy", ids[2]) == 0,
	    "a day later it passes");
	for (i = 0; i < 3; i++) {
		snprintf(to, sizeof to, "n%d", i);
		cr_reply_free(&r);
		call(c, &r, "invite.send", "from:s to:s note:s", "bea", to,
		    i == 0 ? "Hello, let's connect" : i == 1 ?
		    "  hello, LET'S connect\n" : "HELLO, let's connect");
		if (i == 1)
			ok(cr_get(r.result, "warnings") == NULL,
			    "the same note twice: no warning");
	}
	is_str(rstr(&r, "warnings.1.code"), "DUPLICATE_NOTE",
	    "the same note (trimmed, any case) to a 3rd person: DUPLICATE_NOTE");
	cr_reply_free(&r);
	call(c, &r, "invite.ignore", "actor:s id:u", "t4", ids[4]);
	cr_reply_free(&r);
	call(c, &r, "stats.get", "member:s", "amy");
	ok(rnum(&r, "pending") == 2 && rnum(&r, "withdrawn") == 3 &&
	    rnum(&r, "sent") == 5,
	    "stats: 5 sent, 3 withdrawn, 2 pending (an ignored one counts as pending)");
	cr_reply_free(&r);
	cr_close(c);
	dproc_cleanup(&q);
	c = save;
}

/* The advice for the invitation to `to` in an advise reply. */
static const char *
advice_for(const char *to)
{
	static char buf[64];
	char path[48];
	int64_t i, n = rnum(&r, "items");

	for (i = 0; i < n; i++) {
		snprintf(path, sizeof path, "items.%lld.to", (long long)i);
		if (strcmp(rstr(&r, path), to) == 0) {
			snprintf(path, sizeof path, "items.%lld.advice",
			    (long long)i);
			snprintf(buf, sizeof buf, "%s", rstr(&r, path));
			return buf;
		}
	}
	return "(none)";
}

static void
test_advice(void)
{
	uint64_t id;

	cr_reply_free(&r);
	call(c, &r, "invite.send", "from:s to:s priority:s", "adv", "hi-old", "high");
	cr_reply_free(&r);
	call(c, &r, "invite.send", "from:s to:s priority:s", "adv", "lo-old", "low");
	cr_reply_free(&r);
	call(c, &r, "invite.send", "from:s to:s priority:s", "adv", "med-old", "medium");
	cr_reply_free(&r);
	call(c, &r, "invite.send", "from:s to:s priority:s", "adv", "again", "low");
	cr_reply_free(&r);
	call(c, &r, "invite.send", "from:s to:s priority:s", "adv", "hi-wd", "high");
	id = (uint64_t)rnum(&r, "invitation.id");
	cr_reply_free(&r);
	call(c, &r, "invite.withdraw", "actor:s id:u", "adv", id);
	advance(c, &r, 181 * DAY);	/* "again" expires */
	send_inv(c, &r, "adv", "again");
	cr_reply_free(&r);
	call(c, &r, "invite.send", "from:s to:s priority:s", "adv", "hi-old2", "high");
	cr_reply_free(&r);
	call(c, &r, "invite.send", "from:s to:s priority:s", "adv", "lo-old2", "low");
	cr_reply_free(&r);
	call(c, &r, "invite.send", "from:s to:s priority:s", "adv", "med-old2", "medium");
	advance(c, &r, 15 * DAY);
	send_inv(c, &r, "adv", "fresh");
	cr_reply_free(&r);
	ok(call(c, &r, "invite.advise", "member:s", "adv") == 0, "invite.advise");
	is_str(advice_for("fresh"), "wait", "pending under 14 days: wait");
	is_str(advice_for("lo-old2"), "withdraw", "14+ days, low: withdraw");
	is_str(advice_for("med-old2"), "withdraw", "14+ days, medium: withdraw");
	is_str(advice_for("hi-old2"), "let_expire", "14+ days, high: let it expire");
	is_str(advice_for("again"), "stop",
	    "an earlier invitation to the same person expired: stop");
	is_str(advice_for("hi-wd"), "resend",
	    "withdrawn, high, cooldown over: resend with a new note");
	is_str(advice_for("lo-old"), "(none)", "expired ones get no advice");
}

static void
test_plan(void)
{
	static const char *const resume[] = { "--virtual-clock", NULL };
	char to[32];
	uint64_t ids[25], plan, h, accepted_id = 0;
	int i, day;

	for (i = 0; i < 25; i++) {
		snprintf(to, sizeof to, "c%02d", i);
		cr_reply_free(&r);
		call(c, &r, "invite.send", "from:s to:s priority:s", "cleo", to,
		    i < 10 ? "low" : i < 20 ? "medium" : "high");
		ids[i] = (uint64_t)rnum(&r, "invitation.id");
		advance(c, &r, 60);
	}
	advance(c, &r, 15 * DAY);
	h = head(c, &r);
	cr_reply_free(&r);
	ok(call(c, &r, "plan.withdraw_stale", "member:s per_day:u", "cleo",
	    (uint64_t)4) == 0, "cleo plans to withdraw her stale invitations, 4 a day");
	plan = (uint64_t)rnum(&r, "plan.id");
	ok(rnum(&r, "plan.total") == 20 && rnum(&r, "plan.done") == 4 &&
	    rnum(&r, "plan.schedule") == 4 &&
	    rnum(&r, "plan.ends_at") == rnum(&r, "plan.next_at") + 3 * DAY,
	    "20 low and medium ones: 4 today, then 4 a day for 4 more days");
	cr_reply_free(&r);
	call(c, &r, "invite.get", "id:u", ids[0]);
	is_str(rstr(&r, "invitation.state"), "withdrawn",
	    "the oldest low-priority one went first");
	cr_reply_free(&r);
	call(c, &r, "invite.get", "id:u", ids[10]);
	is_str(rstr(&r, "invitation.state"), "pending", "medium ones wait their turn");
	cr_reply_free(&r);
	call(c, &r, "invite.accept", "actor:s id:u", "c06", ids[6]);
	accepted_id = ids[6];
	ok(r.error == NULL, "meanwhile c06 accepts hers");
	advance(c, &r, DAY);
	cr_reply_free(&r);
	call(c, &r, "plan.list", "member:s", "cleo");
	ok(rnum(&r, "items.0.done") == 8 && rnum(&r, "items.0.skipped") == 1,
	    "day 1: 8 withdrawn, the accepted one skipped");
	/* A restart in the middle: the plan is in the store. */
	cr_close(c);
	dproc_stop(&p, SIGKILL);
	ok(dproc_start(&p, 0, resume) == 0, "connreqd restarts (kill -9)");
	c = dconnect(&p);
	for (day = 2; day <= 14; day++)
		advance(c, &r, DAY);
	cr_reply_free(&r);
	call(c, &r, "plan.list", "member:s", "cleo");
	ok(rnum(&r, "items.0.id") == (int64_t)plan &&
	    strcmp(rstr(&r, "items.0.state"), "done") == 0 &&
	    rnum(&r, "items.0.done") == 19 && rnum(&r, "items.0.skipped") == 1,
	    "two weeks on: done, 19 withdrawn, 1 skipped");
	cr_reply_free(&r);
	call(c, &r, "invite.get", "id:u", accepted_id);
	is_str(rstr(&r, "invitation.state"), "accepted", "the accepted one untouched");
	cr_reply_free(&r);
	call(c, &r, "invite.list", "member:s box:s state:s priority:s", "cleo",
	    "sent", "pending", "high");
	is_int(rnum(&r, "items"), 5, "the high-priority ones are still pending");
	{
		const char *f = feed(c, &r, "cleo", h);

		ok(strstr(f, "plan.progress") != NULL &&
		    strstr(f, "plan.done") != NULL,
		    "cleo was told of progress and the end");
	}
	ok(send_inv(c, &r, "cleo", "after-cleanup") > 0,
	    "following the advice did not restrict her (19 of 20 withdrawn by the plan)");
	cr_reply_free(&r);
	call(c, &r, "stats.get", "member:s", "cleo");
	ok(rnum(&r, "withdrawn") == 19 && rnum(&r, "accepted") == 1,
	    "though her stats count the plan's withdrawals");
	cr_reply_free(&r);
	ok(call(c, &r, "plan.cancel", "actor:s id:u", "cleo", plan) == 1 &&
	    refused(&r, "INVALID_STATE"), "a done plan cannot be cancelled");
	cr_reply_free(&r);
	ok(call(c, &r, "plan.withdraw_stale", "member:s", "cleo") == 1 &&
	    refused(&r, "NOT_FOUND"),
	    "nothing left to withdraw: NOT_FOUND (%s)", r.message);

	/* A cancelled plan stops. */
	for (i = 0; i < 6; i++) {
		snprintf(to, sizeof to, "d%02d", i);
		cr_reply_free(&r);
		call(c, &r, "invite.send", "from:s to:s priority:s", "dora", to, "low");
	}
	advance(c, &r, 20 * DAY);
	cr_reply_free(&r);
	call(c, &r, "plan.withdraw_stale", "member:s per_day:u", "dora",
	    (uint64_t)2);
	plan = (uint64_t)rnum(&r, "plan.id");
	cr_reply_free(&r);
	ok(call(c, &r, "plan.cancel", "actor:s id:u", "cleo", plan) == 1 &&
	    refused(&r, "NOT_PERMITTED"), "only dora may cancel dora's plan");
	cr_reply_free(&r);
	ok(call(c, &r, "plan.cancel", "actor:s id:u", "dora", plan) == 0 &&
	    strcmp(rstr(&r, "plan.state"), "cancelled") == 0, "dora cancels it");
	advance(c, &r, 5 * DAY);
	cr_reply_free(&r);
	call(c, &r, "invite.list", "member:s box:s state:s", "dora", "sent",
	    "pending");
	is_int(rnum(&r, "items"), 4, "after the first day's 2, nothing more went");

	/* Days missed in one jump (or while the daemon was down) run in turn. */
	for (i = 0; i < 10; i++) {
		snprintf(to, sizeof to, "e%02d", i);
		cr_reply_free(&r);
		call(c, &r, "invite.send", "from:s to:s priority:s", "elsa", to, "low");
	}
	advance(c, &r, 20 * DAY);
	cr_reply_free(&r);
	call(c, &r, "plan.withdraw_stale", "member:s per_day:u", "elsa",
	    (uint64_t)2);
	advance(c, &r, 3 * DAY);
	cr_reply_free(&r);
	call(c, &r, "plan.list", "member:s", "elsa");
	ok(rnum(&r, "items.0.done") == 8 &&
	    rnum(&r, "items.0.next_at") == advance(c, &r, 0) + DAY,
	    "a 3-day jump runs the 3 days it passed: 8 of 10 done, the next due tomorrow");
}

int
main(void)
{
	dproc_init(&p);
	if (!ok(dproc_start(&p, T0, NULL) == 0, "connreqd starts"))
		return done_testing();
	c = dconnect(&p);
	test_weekly_limit();
	test_pair_limit();
	test_expires_in();
	test_settings_and_blocks();
	test_reports_and_restriction();
	test_small_limits();
	test_advice();
	test_plan();
	cr_reply_free(&r);
	cr_close(c);
	is_int(dproc_stop(&p, SIGTERM), 0, "SIGTERM: exit 0");
	dproc_cleanup(&p);
	return done_testing();
}
