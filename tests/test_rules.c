/* The rules as pure functions: no socket, no disk. */
#include "../daemon/rules.h"
#include "tap.h"

static struct send_facts
facts(void)
{
	struct send_facts f;

	memset(&f, 0, sizeof f);
	f.now = 1000000;
	return f;
}

/* Settings with email given (NULL: none), from everyone. */
static struct settings_facts
settings(const char *email)
{
	struct settings_facts f;

	memset(&f, 0, sizeof f);
	f.from = FROM_EVERYONE;
	f.email = email;
	f.email_len = email ? strlen(email) : 0;
	f.has_email = f.email_len > 0;
	f.email_max = 254;
	return f;
}

/* rules_act on invitation 7 in state st, ignored when st is. */
static int
act_on(enum inv_action act, enum role role, enum inv_state st,
    struct proto_error *e)
{
	struct act_facts f;

	memset(&f, 0, sizeof f);
	f.id = 7;
	f.role = role;
	f.st = st;
	f.ignored = st == ST_IGNORED;
	return rules_act(act, &f, e);
}

/* Introductions: an ask's refusals in their order, peeled one at a time
 * from facts where every one applies; who may act; what from sees. */
static void
test_intro_rules(void)
{
	static const struct {
		enum proto_code code;
		const char *part;
	} order[] = {
		{ PE_SELF_INVITE, "yourself" },
		{ PE_INVALID_ARGUMENT, "other than" },
		{ PE_NOT_PERMITTED, "connected to both" },
		{ PE_ALREADY_CONNECTED, "already connected" },
		{ PE_NOT_PERMITTED, "does not accept invitations from you" },
		{ PE_ALREADY_PENDING, "invitation between you" },
		{ PE_ALREADY_PENDING, "already asked" },
		{ PE_NOTE_TOO_LONG, "at most 300" },
		{ PE_RESTRICTED, "restricted" },
	};
	struct policy p;
	struct intro_facts f;
	struct proto_error e;
	size_t i;

	policy_defaults(&p);
	memset(&f, 0, sizeof f);
	f.now = 1000000;
	f.self = f.via_party = f.connected = f.closed = f.pending = true;
	f.asked = true;
	f.note_chars = 301;
	f.restricted_until = f.now + 1;
	for (i = 0; i < sizeof order / sizeof order[0]; i++) {
		memset(&e, 0, sizeof e);
		ok(rules_intro_ask(&p, &f, &e) == -1 && e.code == order[i].code &&
		    strstr(e.message, order[i].part) != NULL,
		    "intro ask: refusal %zu is %s (%s)", i + 1,
		    proto_code_name(order[i].code), e.message);
		switch (i) {
		case 0: f.self = false; break;
		case 1: f.via_party = false; break;
		case 2: f.via_from = true; f.via_to = true; break;
		case 3: f.connected = false; break;
		case 4: f.closed = false; break;
		case 5: f.pending = false; break;
		case 6: f.asked = false; break;
		case 7: f.note_chars = 300; break;
		default: break;
		}
	}
	is_int(e.retry_at, f.now + 1, "intro ask: RESTRICTED until its end");
	f.via_to = false;
	ok(rules_intro_ask(&p, &f, &e) == -1 && e.code == PE_NOT_PERMITTED,
	    "intro ask: via connected to from alone: NOT_PERMITTED");
	f.via_to = true;
	f.via_from = false;
	ok(rules_intro_ask(&p, &f, &e) == -1 && e.code == PE_NOT_PERMITTED,
	    "intro ask: via connected to `to` alone: NOT_PERMITTED");
	f.via_from = true;
	f.email_only = true;
	ok(rules_intro_ask(&p, &f, &e) == -1 && e.code == PE_EMAIL_REQUIRED,
	    "intro ask: to takes invitations only by email: EMAIL_REQUIRED at "
	    "the ask (a forward could never be sent)");
	f.email_only = false;
	f.restricted_until = f.now;
	ok(rules_intro_ask(&p, &f, &e) == 0,
	    "intro ask: allowed once nothing applies (a restriction ending now is over)");

	ok(rules_intro_act(IACT_FORWARD, IROLE_VIA, INTRO_ASKED, 7, &e) == 0 &&
	    rules_intro_act(IACT_DECLINE, IROLE_VIA, INTRO_ASKED, 7, &e) == 0,
	    "intro act: via forwards or declines one asked");
	ok(rules_intro_act(IACT_FORWARD, IROLE_FROM, INTRO_ASKED, 7, &e) == -1 &&
	    e.code == PE_NOT_PERMITTED && strstr(e.message, "forward") != NULL,
	    "intro act: from may not forward");
	ok(rules_intro_act(IACT_DECLINE, IROLE_OTHER, INTRO_ASKED, 7, &e) == -1 &&
	    e.code == PE_NOT_PERMITTED &&
	    strstr(e.message, "may see or act on introduction 7") != NULL,
	    "intro act: anyone else may not even see it");
	ok(rules_intro_act(IACT_FORWARD, IROLE_VIA, INTRO_EXPIRED, 7, &e) == -1 &&
	    e.code == PE_INVALID_STATE && strstr(e.message, "expired") != NULL,
	    "intro act: not once expired: INVALID_STATE");
	ok(rules_intro_see(IROLE_FROM, 7, &e) == 0 &&
	    rules_intro_see(IROLE_VIA, 7, &e) == 0 &&
	    rules_intro_see(IROLE_OTHER, 7, &e) == -1,
	    "intro see: from and via only");

	is_int(rules_intro_view(INTRO_DECLINED, false, 100, 99, IROLE_FROM),
	    INTRO_ASKED, "intro view: a silent decline is asked to from");
	is_int(rules_intro_view(INTRO_DECLINED, false, 100, 100, IROLE_FROM),
	    INTRO_EXPIRED, "intro view: until it expires, at expires_at");
	is_int(rules_intro_view(INTRO_DECLINED, false, 100, 100, IROLE_VIA),
	    INTRO_DECLINED, "intro view: via sees it declined, always");
	is_int(rules_intro_view(INTRO_DECLINED, true, 100, 99, IROLE_FROM),
	    INTRO_DECLINED, "intro view: a decline told is declined to from");
	is_int(rules_intro_view(INTRO_ASKED, false, 100, 99, IROLE_VIA),
	    INTRO_ASKED, "intro view: asked before expires_at");
	is_int(rules_intro_view(INTRO_FORWARDED, false, 100, 500, IROLE_FROM),
	    INTRO_FORWARDED, "intro view: a forwarded one never expires");
}

int
main(void)
{
	struct policy p;
	struct send_facts f;
	struct proto_error e;
	struct act_facts af;
	struct settings_facts sf;
	struct plan_cand pc, pa, pb;
	struct advice_facts af2;
	double lo, hi;
	char reason[160];
	char long_email[256];
	enum send_outcome out;
	unsigned w;
	int act, role, st, prio;
	enum advice adv;
	enum restrict_reason why;
	char msg_block[256];

	policy_defaults(&p);
	is_int(p.expire_after, 180 * 86400, "invitations expire after 180 days");
	ok(p.resend_cooldowns == 1 && p.resend_cooldown[0] == 21 * 86400,
	    "the cooldown is 21 days");
	is_int(p.stale_after, 14 * 86400, "stale after 14 days");
	is_int(p.note_max_chars, 300, "notes hold 300 characters");
	ok(!p.notify_recipient_on_withdraw, "withdrawal is quiet by default");

	f = facts();
	ok(rules_send(&p, &f, &out, &w, &e) == 0 && out == SEND_CREATE,
	    "a plain send creates an invitation");
	f = facts();
	f.self = true;
	ok(rules_send(&p, &f, &out, &w, &e) == -1 && e.code == PE_SELF_INVITE,
	    "no invitation to yourself");
	f = facts();
	f.connected = true;
	ok(rules_send(&p, &f, &out, &w, &e) == -1 && e.code == PE_ALREADY_CONNECTED,
	    "none to a connection");
	f = facts();
	f.pending = true;
	ok(rules_send(&p, &f, &out, &w, &e) == -1 && e.code == PE_ALREADY_PENDING,
	    "none while one is pending");
	f = facts();
	f.reverse_pending = true;
	ok(rules_send(&p, &f, &out, &w, &e) == 0 && out == SEND_MUTUAL,
	    "a mutual invitation connects both");
	p.mutual_invite_connects = false;
	ok(rules_send(&p, &f, &out, &w, &e) == 0 && out == SEND_CREATE,
	    "unless the policy says otherwise");
	p.mutual_invite_connects = true;
	f = facts();
	f.note_chars = 300;
	ok(rules_send(&p, &f, &out, &w, &e) == 0, "a note of 300 characters passes");
	f.note_chars = 301;
	ok(rules_send(&p, &f, &out, &w, &e) == -1 && e.code == PE_NOTE_TOO_LONG,
	    "301 characters are refused");
	f = facts();
	f.cooldown_until = f.now + 1;
	ok(rules_send(&p, &f, &out, &w, &e) == -1 && e.code == PE_COOLDOWN &&
	    e.retry_at == f.now + 1, "a cooldown refuses with retry_at");
	ok(strstr(e.message, "withdrew") != NULL, "and says which rule: %s",
	    e.message);
	f.cooldown_until = f.now;
	ok(rules_send(&p, &f, &out, &w, &e) == 0, "a cooldown ends at its time");
	is_int(rules_cooldown_until(&p, 100, 0), 100 + 21 * 86400,
	    "cooldown_until is now + 21 days");
	is_int(rules_cooldown_until(&p, 100, 5), 100 + 21 * 86400,
	    "for every withdrawal, with one cooldown");
	p.resend_cooldown[1] = 90 * 86400;
	p.resend_cooldowns = 2;
	ok(rules_cooldown_until(&p, 0, 0) == 21 * 86400 &&
	    rules_cooldown_until(&p, 0, 1) == 90 * 86400 &&
	    rules_cooldown_until(&p, 0, 7) == 90 * 86400,
	    "21d, 90d: the second withdrawal and later ones wait 90 days");
	ok(rules_restrict_for(&p, 0) == 7 * 86400 &&
	    rules_restrict_for(&p, 3) == 7 * 86400 && p.restrict_fors == 1 &&
	    p.restrict_window == 365 * 86400,
	    "one restrict_for of 7 days, for every restriction in a year");
	p.restrict_for[0] = 86400;
	p.restrict_for[1] = 7 * 86400;
	p.restrict_for[2] = 30 * 86400;
	p.restrict_fors = 3;
	ok(rules_restrict_for(&p, 0) == 86400 &&
	    rules_restrict_for(&p, 1) == 7 * 86400 &&
	    rules_restrict_for(&p, 2) == 30 * 86400 &&
	    rules_restrict_for(&p, 3) == 30 * 86400 &&
	    rules_restrict_for(&p, UINT64_MAX) == 30 * 86400,
	    "1d, 7d, 30d: the n-th restriction the n-th, the last repeats");
	policy_defaults(&p);

	/* The recipient's reminder and digest. */
	ok(rules_remind_at(&p, 1000, 1000 + 180 * 86400, false) ==
	    1000 + 7 * 86400, "a reminder 7 days after the send");
	ok(rules_remind_at(&p, 1000, 1000 + 180 * 86400, true) == 0,
	    "none for a held invitation");
	ok(rules_remind_at(&p, 1000, 1000 + 7 * 86400, false) == 0 &&
	    rules_remind_at(&p, 1000, 1000 + 7 * 86400 + 1, false) ==
	    1000 + 7 * 86400,
	    "none when it expires at the same time, one when a second later");
	p.recipient_remind_after = 0;
	ok(rules_remind_at(&p, 1000, 1000 + 180 * 86400, false) == 0,
	    "none when recipient_remind_after is 0");
	policy_defaults(&p);
	ok(rules_digest_every(&p, false, 3600) == 0 &&
	    rules_digest_every(&p, true, 3600) == 3600 &&
	    rules_digest_every(&p, true, 0) == 0,
	    "the digest: the policy's (off), or the member's own, off included");
	p.digest_every = 86400;
	ok(rules_digest_every(&p, false, 0) == 86400 &&
	    rules_digest_every(&p, true, 0) == 0,
	    "a policy default of a day; a member's own 0 turns it off");
	policy_defaults(&p);
	ok(rules_digest_next(0, 86400) == 86400 &&
	    rules_digest_next(86399, 86400) == 86400 &&
	    rules_digest_next(86400, 86400) == 2 * 86400 &&
	    rules_digest_next(1767225600 + 5, 3600) == 1767225600 + 3600,
	    "the next digest: the next multiple of the interval, strictly after");
	ok(rules_digest_every_valid(0) && !rules_digest_every_valid(3599) &&
	    rules_digest_every_valid(3600) &&
	    rules_digest_every_valid(365 * 86400) &&
	    !rules_digest_every_valid(365 * 86400 + 1),
	    "a digest interval: 0, or 1 hour to 365 days");

	/* Limits, each at its edge. */
	f = facts();
	f.week_used = 99;
	ok(rules_send(&p, &f, &out, &w, &e) == 0, "the 100th send of a week passes");
	f.week_used = 100;
	f.week_oldest = f.now - 5 * 86400;
	ok(rules_send(&p, &f, &out, &w, &e) == -1 && e.code == PE_RATE_LIMITED &&
	    e.retry_at == f.now + 2 * 86400,
	    "the 101st: RATE_LIMITED until the oldest leaves the week (%s)",
	    e.message);
	p.sends_per_day = 10;
	f = facts();
	f.day_used = 10;
	f.day_oldest = f.now - 3600;
	ok(rules_send(&p, &f, &out, &w, &e) == -1 && e.code == PE_RATE_LIMITED &&
	    e.retry_at == f.now + 23 * 3600, "a daily limit when set");
	p.sends_per_day = 0;
	ok(rules_send(&p, &f, &out, &w, &e) == 0, "and none by default");
	f = facts();
	f.pending_sent = 98;
	ok(rules_send(&p, &f, &out, &w, &e) == 0 && w == 0, "98 pending: no warning");
	f.pending_sent = 99;
	ok(rules_send(&p, &f, &out, &w, &e) == 0 && w == WARN_PENDING,
	    "the 100th pending: passes with a warning");
	f.pending_sent = 199;
	ok(rules_send(&p, &f, &out, &w, &e) == 0, "the 200th pending passes");
	f.pending_sent = 200;
	ok(rules_send(&p, &f, &out, &w, &e) == -1 && e.code == PE_PENDING_CAP,
	    "the 201st: PENDING_CAP");
	f = facts();
	f.pair_used = 2;
	ok(rules_send(&p, &f, &out, &w, &e) == 0, "a third invitation to one person passes");
	f.pair_used = 3;
	f.pair_oldest = f.now - 100 * 86400;
	ok(rules_send(&p, &f, &out, &w, &e) == -1 && e.code == PE_PAIR_LIMIT &&
	    e.retry_at == f.now + 265 * 86400, "a fourth within a year: PAIR_LIMIT");
	ok(strncmp(e.message, "you have invited this member 3 times within "
	    "365 days;", 52) == 0, "in words: %s", e.message);
	/* Limits of 1: "1 time", "1 invitation", "1 day", never "1 days". */
	p.invites_per_pair = 1;
	p.pair_window = 86400;
	f.pair_used = 1;
	f.pair_oldest = f.now - 3600;
	ok(rules_send(&p, &f, &out, &w, &e) == -1 && e.code == PE_PAIR_LIMIT &&
	    strncmp(e.message, "you have invited this member 1 time within "
	    "1 day;", 49) == 0, "a limit of 1, in words: %s", e.message);
	p.invites_per_pair = 3;
	p.pair_window = 365 * 86400ULL;
	f = facts();
	p.sends_per_week = 1;
	f.week_used = 1;
	f.week_oldest = f.now - 3600;
	ok(rules_send(&p, &f, &out, &w, &e) == -1 &&
	    strncmp(e.message, "you sent 1 invitation in the last 7 days", 40)
	    == 0, "a weekly limit of 1, in words: %s", e.message);
	p.sends_per_week = 100;
	p.sends_per_day = 1;
	f = facts();
	f.day_used = 1;
	f.day_oldest = f.now - 3600;
	ok(rules_send(&p, &f, &out, &w, &e) == -1 &&
	    strncmp(e.message, "you sent 1 invitation in the last 24 hours", 42)
	    == 0, "a daily limit of 1, in words: %s", e.message);
	p.sends_per_day = 0;
	p.pending_max = 1;
	f = facts();
	f.pending_sent = 1;
	ok(rules_send(&p, &f, &out, &w, &e) == -1 && e.code == PE_PENDING_CAP &&
	    strncmp(e.message, "you have 1 pending invitation,", 30) == 0,
	    "a pending cap of 1, in words: %s", e.message);
	p.pending_max = 200;
	p.withdrawals_per_day = 1;
	ok(rules_withdraw(&p, 1, 1000, &e) == -1 &&
	    strncmp(e.message, "you withdrew 1 invitation in the last 24 hours",
	    46) == 0, "a withdrawal limit of 1, in words: %s", e.message);
	p.withdrawals_per_day = 50;
	f = facts();
	f.note_chars = 10;
	f.same_note = 3;
	ok(rules_send(&p, &f, &out, &w, &e) == 0 && w == 0,
	    "the 4th identical note: no warning");
	f.same_note = 4;
	ok(rules_send(&p, &f, &out, &w, &e) == 0 && w == WARN_DUPLICATE_NOTE,
	    "the 5th: a warning");
	f = facts();
	f.restricted_until = f.now + 10;
	ok(rules_send(&p, &f, &out, &w, &e) == -1 && e.code == PE_RESTRICTED &&
	    e.retry_at == f.now + 10, "a restricted sender: RESTRICTED until its end");
	f = facts();
	f.expires_in = 181 * 86400;
	ok(rules_send(&p, &f, &out, &w, &e) == -1 && e.code == PE_INVALID_ARGUMENT,
	    "expires_in past max_expire_after is refused");
	f.expires_in = 3 * 86400;
	ok(rules_send(&p, &f, &out, &w, &e) == 0, "a shorter one passes");

	/* Recipients' settings and blocks say nothing of which it was. */
	f = facts();
	f.blocked = true;
	ok(rules_send(&p, &f, &out, &w, &e) == -1 && e.code == PE_NOT_PERMITTED,
	    "a block: NOT_PERMITTED");
	snprintf(msg_block, sizeof msg_block, "%s", e.message);
	f = facts();
	f.nogo = true;
	ok(rules_send(&p, &f, &out, &w, &e) == -1 && e.code == PE_NOT_PERMITTED &&
	    strcmp(e.message, msg_block) == 0,
	    "a \"don't know\" report: the same refusal");
	f = facts();
	f.recipient_from = FROM_NOBODY;
	ok(rules_send(&p, &f, &out, &w, &e) == -1 && e.code == PE_NOT_PERMITTED &&
	    strcmp(e.message, msg_block) == 0, "invitations from nobody: the same");
	f = facts();
	f.recipient_from = FROM_EMAIL;
	ok(rules_send(&p, &f, &out, &w, &e) == -1 && e.code == PE_EMAIL_REQUIRED,
	    "email only, without it: EMAIL_REQUIRED");
	f.email_matches = true;
	ok(rules_send(&p, &f, &out, &w, &e) == 0, "with it: passes");

	/* Withdrawals per day. */
	ok(rules_withdraw(&p, 49, 0, &e) == 0, "the 50th withdrawal of a day passes");
	ok(rules_withdraw(&p, 50, 1000, &e) == -1 && e.code == PE_RATE_LIMITED &&
	    e.retry_at == 1000 + 86400, "the 51st: RATE_LIMITED");

	p.withdrawals_per_day = 0;
	ok(rules_withdraw(&p, 100000, 0, &e) == 0, "no daily limit when off");
	policy_defaults(&p);

	/* Clean-up plans: bounds, pace, what they take and in which order. */
	ok(rules_plan_bounds(0, 1, &e) == 0 &&
	    rules_plan_bounds(OLDER_THAN_MAX, 1000, &e) == 0,
	    "per_day 1 and 1000, older_than 0 and 100 years pass");
	ok(rules_plan_bounds(0, 0, &e) == -1 && e.code == PE_INVALID_ARGUMENT,
	    "per_day 0: INVALID_ARGUMENT");
	is_str(e.message, "per_day must be 1 to 1000", "with the message");
	ok(rules_plan_bounds(0, 1001, &e) == -1 &&
	    rules_plan_bounds(0, UINT64_C(1) << 32, &e) == -1,
	    "per_day 1001 and 2^32 are refused");
	ok(rules_plan_bounds(OLDER_THAN_MAX + 1, 0, &e) == -1 &&
	    strcmp(e.message, "per_day must be 1 to 1000") == 0,
	    "per_day is named before older_than");
	ok(rules_plan_bounds(OLDER_THAN_MAX + 1, 10, &e) == -1 &&
	    e.code == PE_INVALID_ARGUMENT, "older_than past 100 years is refused");
	is_str(e.message, "older_than must be at most 100 years",
	    "with the message");
	ok(rules_older_than(OLDER_THAN_MAX, &e) == 0 &&
	    rules_older_than(OLDER_THAN_MAX + 1, &e) == -1,
	    "the same bound for every older_than");
	is_int(rules_plan_per_day(&p, 10), 10, "10 a day stays 10");
	is_int(rules_plan_per_day(&p, 50), 50, "50 a day stays 50");
	is_int(rules_plan_per_day(&p, 1000), 50,
	    "1000 a day is lowered to withdrawals_per_day");
	p.withdrawals_per_day = 0;
	is_int(rules_plan_per_day(&p, 1000), 1000, "unless that is off");
	policy_defaults(&p);
	memset(&pc, 0, sizeof pc);
	pc.id = 5;
	pc.st = ST_PENDING;
	pc.priority = PRIO_MEDIUM;
	pc.created_at = 1000;
	ok(rules_plan_takes(&pc, 1000 + 14 * 86400, 14 * 86400, PRIO_MEDIUM),
	    "a plan takes one sent exactly older_than ago");
	ok(!rules_plan_takes(&pc, 999 + 14 * 86400, 14 * 86400, PRIO_MEDIUM),
	    "not one a second younger");
	ok(rules_plan_takes(&pc, 1000, 0, PRIO_HIGH),
	    "max_priority high takes medium");
	ok(!rules_plan_takes(&pc, 1000, 0, PRIO_LOW),
	    "max_priority low does not");
	pc.st = ST_IGNORED;
	ok(rules_plan_takes(&pc, 1000, 0, PRIO_MEDIUM),
	    "it takes one the recipient ignored (open)");
	for (st = ST_ACCEPTED; st < ST_COUNT; st++) {
		pc.st = st;
		if (st != ST_IGNORED)
			ok(!rules_plan_takes(&pc, 1000, 0, PRIO_HIGH),
			    "not one %s", proto_state_words[st]);
	}
	memset(&pa, 0, sizeof pa);
	memset(&pb, 0, sizeof pb);
	pa.id = 1;
	pa.priority = PRIO_MEDIUM;
	pb.id = 2;
	pb.priority = PRIO_LOW;
	ok(rules_plan_order(&pb, &pa) < 0 && rules_plan_order(&pa, &pb) > 0,
	    "low priority goes before medium, though newer");
	pb.priority = PRIO_MEDIUM;
	ok(rules_plan_order(&pa, &pb) < 0 && rules_plan_order(&pb, &pa) > 0,
	    "within a priority, the older (lower id) first");
	is_int(rules_plan_order(&pa, &pa), 0, "one is not before itself");
	pa.priority = PRIO_HIGH;
	ok(rules_plan_order(&pb, &pa) < 0, "high goes last");

	/* Health and restriction. */
	is_str(proto_health_words[rules_health(&p, 5, 19)], "insufficient_data",
	    "19 decided: insufficient data");
	is_str(proto_health_words[rules_health(&p, 6, 20)], "healthy", "6 of 20: healthy");
	is_str(proto_health_words[rules_health(&p, 5, 20)], "low", "5 of 20: low");
	rules_healthy_band(&p, &lo, &hi);
	ok(lo == 0.30 && hi == 0.50, "the healthy band is 0.30 to 0.50");
	p.healthy_rate = 0.50;
	rules_healthy_band(&p, &lo, &hi);
	ok(lo == 0.50 && hi == 0.50, "with healthy_rate 0.50: 0.50 to 0.50");
	p.healthy_rate = 0.65;
	rules_healthy_band(&p, &lo, &hi);
	ok(lo == 0.65 && hi == 0.65,
	    "with healthy_rate above 0.50, the band ends there too");
	is_str(proto_health_words[rules_health(&p, 13, 20)], "healthy",
	    "13 of 20 (0.65): healthy, at the band's low end");
	is_str(proto_health_words[rules_health(&p, 12, 20)], "low", "12 of 20: low");
	p.healthy_rate = 0.10;
	rules_healthy_band(&p, &lo, &hi);
	ok(lo == 0.10 && hi == HEALTHY_CEILING,
	    "with healthy_rate 0.10: 0.10 to 0.50");
	is_str(proto_health_words[rules_health(&p, 2, 20)], "healthy",
	    "2 of 20 (0.10): healthy");
	policy_defaults(&p);
	/* "Decided": one definition, two uses that differ on a plan's
	 * withdrawals. */
	ok(rules_decided(ST_ACCEPTED, false, DECIDED_FOR_RESTRICTION) &&
	    rules_decided(ST_WITHDRAWN, false, DECIDED_FOR_RESTRICTION) &&
	    rules_decided(ST_EXPIRED, false, DECIDED_FOR_RESTRICTION),
	    "accepted, withdrawn, expired by hand count toward a restriction");
	ok(!rules_decided(ST_WITHDRAWN, true, DECIDED_FOR_RESTRICTION),
	    "an advised withdrawal (a plan's, or by hand as advised) does not");
	/* Issue 9: withdrawing by hand as invite.advise says is advised. */
	ok(rules_withdrawal_advised(&p, PRIO_LOW, 14 * 86400) &&
	    rules_withdrawal_advised(&p, PRIO_MEDIUM, 30 * 86400),
	    "withdrawal advised: low or medium, pending past stale_after (14 d)");
	ok(!rules_withdrawal_advised(&p, PRIO_MEDIUM, 14 * 86400 - 1),
	    "withdrawal advised: not a second before stale_after (wait)");
	ok(!rules_withdrawal_advised(&p, PRIO_HIGH, 60 * 86400),
	    "withdrawal advised: not of high priority (let it expire)");
	ok(rules_block_closes(ROLE_SENDER) == ST_WITHDRAWN &&
	    rules_block_closes(ROLE_RECIPIENT) == ST_IGNORED,
	    "a block withdraws the blocker's invitation, ignores the other's");
	ok(rules_view(rules_block_closes(ROLE_RECIPIENT), true, ROLE_SENDER) ==
	    ST_PENDING, "which its sender sees pending, as behind a closed door");
	ok(rules_decided(ST_ACCEPTED, false, DECIDED_FOR_STATS) &&
	    rules_decided(ST_WITHDRAWN, false, DECIDED_FOR_STATS) &&
	    rules_decided(ST_EXPIRED, false, DECIDED_FOR_STATS),
	    "accepted, withdrawn, expired count in stats");
	ok(rules_decided(ST_WITHDRAWN, true, DECIDED_FOR_STATS),
	    "a plan's withdrawal counts in stats too");
	ok(!rules_decided(ST_PENDING, false, DECIDED_FOR_STATS) &&
	    !rules_decided(ST_IGNORED, false, DECIDED_FOR_STATS),
	    "pending and ignored are not decided in stats");
	ok(rules_decided(ST_PENDING, false, DECIDED_FOR_RESTRICTION),
	    "the log holds only decisions: toward a restriction any one logged counts");
	ok(!rules_restrict(&p, 4, 20, 0, &why), "4 of the last 20 accepted: not restricted");
	ok(rules_restrict(&p, 3, 20, 0, &why) && why == RESTRICT_ACCEPTANCE,
	    "3 of 20: restricted");
	ok(!rules_restrict(&p, 0, 19, 0, &why), "19 decided: too few to judge");
	ok(rules_restrict(&p, 20, 20, 5, &why) && why == RESTRICT_REPORTS,
	    "5 reports: restricted");
	ok(!rules_restrict(&p, 20, 20, 4, &why), "4 reports: not");

	/* Who may do what, in which state. */
	for (st = 0; st < ST_COUNT; st++)
		for (role = ROLE_SENDER; role <= ROLE_OTHER; role++)
			for (act = ACT_ACCEPT; act <= ACT_RESEND; act++) {
				int want_ok, rc = act_on(act, role, st, &e);
				enum inv_state seen = rules_view(st,
				    st == ST_IGNORED, role);

				if (role == ROLE_OTHER ||
				    (role == ROLE_RECIPIENT && st == ST_WITHDRAWN))
					want_ok = 0;
				else if (act == ACT_ACCEPT)
					/* From the ignored box too. */
					want_ok = role == ROLE_RECIPIENT &&
					    (st == ST_PENDING ||
					    st == ST_IGNORED);
				else if (act == ACT_IGNORE)
					want_ok = role == ROLE_RECIPIENT &&
					    st == ST_PENDING;
				else if (act == ACT_WITHDRAW)
					want_ok = role == ROLE_SENDER &&
					    seen == ST_PENDING;
				else
					want_ok = role == ROLE_SENDER &&
					    (st == ST_WITHDRAWN || st == ST_EXPIRED);
				if (!ok((rc == 0) == want_ok,
				    "act %d by role %d in state %s: %s", act,
				    role, proto_state_words[st], want_ok ? "allowed" :
				    "refused"))
					diag("%s", e.message);
			}
	ok(act_on(ACT_ACCEPT, ROLE_SENDER, ST_PENDING, &e) == -1 &&
	    e.code == PE_NOT_PERMITTED, "the sender cannot accept: NOT_PERMITTED");
	ok(act_on(ACT_WITHDRAW, ROLE_RECIPIENT, ST_PENDING, &e) == -1 &&
	    e.code == PE_NOT_PERMITTED, "the recipient cannot withdraw");
	ok(act_on(ACT_ACCEPT, ROLE_RECIPIENT, ST_ACCEPTED, &e) == -1 &&
	    e.code == PE_INVALID_STATE, "accepting twice: INVALID_STATE");
	ok(act_on(ACT_RESEND, ROLE_SENDER, ST_IGNORED, &e) == -1 &&
	    e.code == PE_INVALID_STATE && strstr(e.message, "pending"),
	    "resending an ignored one says it is pending (%s)", e.message);
	ok(act_on(ACT_WITHDRAW, ROLE_SENDER, ST_IGNORED, &e) == 0,
	    "the sender may withdraw an ignored one (it looks pending)");
	ok(act_on(ACT_ACCEPT, ROLE_OTHER, ST_PENDING, &e) == -1 &&
	    e.code == PE_NOT_PERMITTED, "an outsider: NOT_PERMITTED (%s)",
	    e.message);

	/* Seeing an invitation at all: inv_load and every action ask. */
	ok(rules_see(ROLE_OTHER, ST_PENDING, 42, &e) == -1 &&
	    e.code == PE_NOT_PERMITTED,
	    "an outsider may not see it: NOT_PERMITTED");
	is_str(e.message,
	    "only the sender and the recipient may see or act on invitation 42",
	    "and is told who may");
	ok(rules_see(ROLE_RECIPIENT, ST_WITHDRAWN, 42, &e) == -1 &&
	    e.code == PE_NOT_FOUND, "a withdrawn one, to its recipient: NOT_FOUND");
	is_str(e.message, "no invitation 42", "as if there were none");
	ok(rules_see(ROLE_SENDER, ST_WITHDRAWN, 42, &e) == 0 &&
	    rules_see(ROLE_RECIPIENT, ST_EXPIRED, 42, &e) == 0,
	    "the sender sees it withdrawn; the recipient sees one expired");
	ok(act_on(ACT_ACCEPT, ROLE_OTHER, ST_PENDING, &e) == -1 &&
	    strcmp(e.message, "only the sender and the recipient may see or act on invitation 7") == 0,
	    "an action by an outsider is refused as rules_see refuses");

	/* Reports: the recipient, an open invitation, once. */
	memset(&af, 0, sizeof af);
	af.id = 7;
	af.role = ROLE_RECIPIENT;
	af.st = ST_PENDING;
	ok(rules_act(ACT_REPORT, &af, &e) == 0,
	    "the recipient may report a pending invitation");
	af.st = ST_IGNORED;
	af.ignored = true;
	ok(rules_act(ACT_REPORT, &af, &e) == 0, "and one they ignored");
	af.role = ROLE_SENDER;
	ok(rules_act(ACT_REPORT, &af, &e) == -1 && e.code == PE_NOT_PERMITTED,
	    "the sender may not report: NOT_PERMITTED");
	is_str(e.message, "only the recipient of an invitation may report it",
	    "with the message");
	af.role = ROLE_OTHER;
	ok(rules_act(ACT_REPORT, &af, &e) == -1 && e.code == PE_NOT_PERMITTED &&
	    strstr(e.message, "see or act on") != NULL,
	    "an outsider may not: NOT_PERMITTED (%s)", e.message);
	af.role = ROLE_RECIPIENT;
	af.reported = true;
	ok(rules_act(ACT_REPORT, &af, &e) == -1 && e.code == PE_INVALID_STATE,
	    "reporting twice: INVALID_STATE");
	is_str(e.message, "you already reported this invitation", "with the message");
	af.reported = false;
	af.st = ST_ACCEPTED;
	af.ignored = false;
	ok(rules_act(ACT_REPORT, &af, &e) == -1 && e.code == PE_INVALID_STATE,
	    "reporting an accepted one: INVALID_STATE");
	is_str(e.message,
	    "the invitation is accepted; only a pending one can be reported",
	    "with the message");
	af.st = ST_EXPIRED;
	af.reported = true;
	ok(rules_act(ACT_REPORT, &af, &e) == -1 &&
	    strstr(e.message, "is expired;") != NULL,
	    "an expired one: the closed state is named before a report (%s)",
	    e.message);
	af.reported = false;
	af.ignored = true;
	ok(rules_act(ACT_REPORT, &af, &e) == -1 && e.code == PE_INVALID_STATE,
	    "one ignored and then expired: INVALID_STATE");
	is_str(e.message,
	    "the invitation is ignored; only a pending one can be reported",
	    "named as its recipient sees it: ignored");
	ok(act_on(ACT_ACCEPT, ROLE_RECIPIENT, ST_EXPIRED, &e) == -1 &&
	    strstr(e.message, "is expired;") != NULL,
	    "accepting one expired says expired (%s)", e.message);
	af.role = ROLE_RECIPIENT;
	af.st = ST_WITHDRAWN;
	ok(rules_act(ACT_REPORT, &af, &e) == -1 && e.code == PE_NOT_FOUND,
	    "a withdrawn one cannot be reported: NOT_FOUND");

	/* Blocks and settings. */
	ok(rules_block(true, &e) == -1 && e.code == PE_INVALID_ARGUMENT,
	    "no one blocks themselves: INVALID_ARGUMENT");
	is_str(e.message, "you cannot block yourself", "with the message");
	ok(rules_block(false, &e) == 0, "anyone else may be blocked");
	sf = settings("a@b.example");
	ok(rules_settings(&sf, &e) == 0, "an email with an @ passes");
	sf = settings("no-at-sign");
	ok(rules_settings(&sf, &e) == -1 && e.code == PE_INVALID_ARGUMENT,
	    "an email without an @: INVALID_ARGUMENT");
	is_str(e.message,
	    "email must be an address with an @, at most 254 bytes (\"\" clears it)",
	    "with the message");
	sf = settings("a@b\nc");
	ok(rules_settings(&sf, &e) == -1, "one with a newline is refused");
	sf = settings("a@b\tc");
	ok(rules_settings(&sf, &e) == -1, "and one with a tab");
	memset(long_email, 'x', sizeof long_email - 1);
	long_email[0] = '@';
	long_email[254] = '\0';
	sf = settings(long_email);
	ok(rules_settings(&sf, &e) == 0, "254 bytes pass");
	long_email[254] = 'x';
	long_email[255] = '\0';
	sf = settings(long_email);
	ok(rules_settings(&sf, &e) == -1 && e.code == PE_INVALID_ARGUMENT,
	    "255 bytes are refused");
	sf = settings("");
	ok(rules_settings(&sf, &e) == 0, "\"\" clears the email");
	sf.from = FROM_EMAIL;
	ok(rules_settings(&sf, &e) == -1 && e.code == PE_INVALID_ARGUMENT,
	    "but not while invitations come only from people who know it");
	is_str(e.message, "invitations_from \"email\" needs the member's email",
	    "with the message");
	sf = settings(NULL);
	sf.from = FROM_EMAIL;
	sf.has_email = true;
	ok(rules_settings(&sf, &e) == 0,
	    "email only, with an email set before: passes");
	sf = settings("bad");
	sf.from = FROM_EMAIL;
	ok(rules_settings(&sf, &e) == -1 && strstr(e.message, "an @") != NULL,
	    "a bad email is named before a missing one");
	sf = settings(NULL);
	sf.from = FROM_NOBODY;
	ok(rules_settings(&sf, &e) == 0, "nobody needs no email");

	/* Advice: rules_advise alone says which invitations get none. */
	memset(&af2, 0, sizeof af2);
	af2.priority = PRIO_HIGH;
	af2.age = 30 * 86400;
	af2.cooldown_over = true;
	af2.latest = true;
	for (st = 0; st < ST_COUNT; st++) {
		af2.seen = st;
		adv = rules_advise(&p, &af2, reason, sizeof reason);
		if (st == ST_PENDING)
			is_str(proto_advice_words[adv], "let_expire",
			    "pending 30 days, high priority: let it expire");
		else if (st == ST_WITHDRAWN)
			is_str(proto_advice_words[adv], "resend",
			    "withdrawn, high priority, cooldown over: resend");
		else
			ok(adv == ADV_NONE, "seen %s: no advice",
			    proto_state_words[st]);
		ok(rules_advice_considers(st, PRIO_HIGH) ==
		    (st == ST_PENDING || st == ST_WITHDRAWN),
		    "advice considers %s, high priority: %s",
		    proto_state_words[st], st == ST_PENDING ||
		    st == ST_WITHDRAWN ? "yes" : "no");
		ok(rules_advice_considers(st, PRIO_MEDIUM) == (st == ST_PENDING),
		    "advice considers %s, medium priority: %s",
		    proto_state_words[st], st == ST_PENDING ? "yes" : "no");
	}
	af2.seen = ST_WITHDRAWN;
	for (prio = PRIO_MEDIUM; prio < PRIO_COUNT; prio++) {
		af2.priority = prio;
		ok(rules_advise(&p, &af2, reason, sizeof reason) == ADV_NONE,
		    "withdrawn, %s priority: no advice", proto_priority_words[prio]);
	}
	af2.priority = PRIO_HIGH;
	af2.latest = false;
	ok(rules_advise(&p, &af2, reason, sizeof reason) == ADV_NONE,
	    "withdrawn, high, but not the latest: no advice");
	af2.latest = true;
	af2.cooldown_over = false;
	ok(rules_advise(&p, &af2, reason, sizeof reason) == ADV_NONE,
	    "withdrawn, high, cooldown running: no advice");
	af2.seen = ST_PENDING;
	af2.priority = PRIO_LOW;
	is_str(proto_advice_words[rules_advise(&p, &af2, reason, sizeof reason)],
	    "withdraw", "pending 30 days, low priority: withdraw");
	is_str(reason,
	    "pending 30 days: withdraw it, a few a day, to keep your acceptance rate healthy",
	    "and why");
	af2.earlier_expired = true;
	is_str(proto_advice_words[rules_advise(&p, &af2, reason, sizeof reason)],
	    "stop", "an earlier one expired: stop");
	af2.earlier_expired = false;
	af2.age = 14 * 86400 - 1;
	is_str(proto_advice_words[rules_advise(&p, &af2, reason, sizeof reason)],
	    "wait", "pending a second short of 14 days: wait");
	af2.age = 86400;
	rules_advise(&p, &af2, reason, sizeof reason);
	is_str(reason, "pending 1 day: give it 14 days",
	    "one day: \"1 day\", not \"1 days\"");
	af2.age = 0;
	rules_advise(&p, &af2, reason, sizeof reason);
	is_str(reason, "pending 0 days: give it 14 days", "no day: \"0 days\"");

	/* Views. */
	is_str(proto_state_words[rules_view(ST_IGNORED, true, ROLE_SENDER)],
	    "pending", "ignored looks pending to the sender");
	is_str(proto_state_words[rules_view(ST_IGNORED, true, ROLE_RECIPIENT)],
	    "ignored", "and ignored to the recipient");
	is_str(proto_state_words[rules_view(ST_EXPIRED, true, ROLE_SENDER)],
	    "expired", "an ignored one that expired is expired to the sender");
	is_str(proto_state_words[rules_view(ST_EXPIRED, true, ROLE_RECIPIENT)],
	    "ignored", "and stays ignored to the recipient");
	is_str(proto_state_words[rules_view(ST_EXPIRED, false, ROLE_RECIPIENT)],
	    "expired", "one not ignored is expired to both");
	is_str(proto_state_words[rules_view(ST_ACCEPTED, true, ROLE_RECIPIENT)],
	    "accepted", "one ignored, then accepted by a mutual invitation, is accepted");
	ok(rules_in_received_box(ST_ACCEPTED, true),
	    "and back in the received box");
	/* Issue 12: auto-accept, at its edges. */
	{
		struct auto_facts aa;

		memset(&aa, 0, sizeof aa);
		aa.now = 1000;
		ok(!rules_auto_accept(&aa), "auto-accept: no rule, no");
		aa.listed = true;
		ok(rules_auto_accept(&aa), "auto-accept: a listed sender");
		aa.until = 1001;
		ok(rules_auto_accept(&aa),
		    "auto-accept: listed, a second before the end date");
		aa.until = 1000;
		ok(!rules_auto_accept(&aa),
		    "auto-accept: at the end date the list no longer applies");
		aa.listed = false;
		aa.until = 0;
		aa.min_mutual = 3;
		aa.mutual = 2;
		ok(!rules_auto_accept(&aa), "auto-accept: 2 mutual of 3: no");
		aa.mutual = 3;
		ok(rules_auto_accept(&aa),
		    "auto-accept: exactly 3 mutual of 3: yes");
		aa.until = 1000;
		ok(!rules_auto_accept(&aa),
		    "auto-accept: at the end date the threshold no longer applies");
		aa.until = 0;
		aa.min_mutual = 0;
		aa.mutual = 5;
		ok(!rules_auto_accept(&aa),
		    "auto-accept: a threshold of 0 is off, whatever is shared");
	}

	/* Issue 12: mutual_count is the recipient's alone. */
	ok(rules_view_extra(ROLE_RECIPIENT) == VIEW_MUTUAL_COUNT,
	    "the recipient's view adds mutual_count");
	ok(rules_view_extra(ROLE_SENDER) == 0 &&
	    rules_view_extra(ROLE_OTHER) == 0,
	    "the sender's view adds nothing, nor anyone else's");
	ok(!rules_visible(ST_WITHDRAWN, ROLE_RECIPIENT),
	    "withdrawn is gone for the recipient");
	ok(rules_visible(ST_WITHDRAWN, ROLE_SENDER), "but not for the sender");
	ok(!rules_in_received_box(ST_IGNORED, true) &&
	    !rules_in_received_box(ST_EXPIRED, true) &&
	    !rules_in_received_box(ST_WITHDRAWN, false) &&
	    rules_in_received_box(ST_PENDING, false) &&
	    rules_in_received_box(ST_EXPIRED, false) &&
	    rules_in_received_box(ST_ACCEPTED, false),
	    "the received box leaves out ignored (even expired) and withdrawn");
	ok(rules_open(ST_PENDING) && rules_open(ST_IGNORED) &&
	    !rules_open(ST_ACCEPTED) && !rules_open(ST_EXPIRED),
	    "deadlines apply to pending and ignored");
	test_intro_rules();

	/* The recipient's boxes (issue 12): each invitation in one. */
	ok(rules_recipient_box(ST_PENDING, false, false) == PBOX_RECEIVED &&
	    rules_recipient_box(ST_EXPIRED, false, false) == PBOX_RECEIVED &&
	    rules_recipient_box(ST_ACCEPTED, false, false) == PBOX_RECEIVED,
	    "boxes: pending, expired, accepted: received");
	ok(rules_recipient_box(ST_IGNORED, true, false) == PBOX_IGNORED &&
	    rules_recipient_box(ST_EXPIRED, true, false) == PBOX_IGNORED,
	    "boxes: ignored, and ignored then expired: the ignored box");
	ok(rules_recipient_box(ST_ACCEPTED, true, false) == PBOX_RECEIVED,
	    "boxes: ignored, then accepted: back in received");
	ok(rules_recipient_box(ST_WITHDRAWN, false, false) == PBOX_COUNT &&
	    rules_recipient_box(ST_WITHDRAWN, true, false) == PBOX_COUNT &&
	    rules_recipient_box(ST_WITHDRAWN, false, true) == PBOX_COUNT,
	    "boxes: withdrawn: in none");
	ok(rules_recipient_box(ST_PENDING, false, true) == PBOX_HELD &&
	    rules_recipient_box(ST_EXPIRED, false, true) == PBOX_HELD,
	    "boxes: held, pending or expired: the held box");
	ok(rules_recipient_box(ST_IGNORED, true, true) == PBOX_IGNORED &&
	    rules_recipient_box(ST_ACCEPTED, false, true) == PBOX_RECEIVED,
	    "boxes: held then ignored: ignored; held then accepted: received");

	/* The undoable ignore: unignore at its edges. */
	ok(act_on(ACT_UNIGNORE, ROLE_RECIPIENT, ST_IGNORED, &e) == 0,
	    "unignore: the recipient, an ignored open one: allowed");
	ok(act_on(ACT_UNIGNORE, ROLE_RECIPIENT, ST_PENDING, &e) == -1 &&
	    e.code == PE_INVALID_STATE,
	    "unignore: a pending one: INVALID_STATE");
	is_str(e.message, "the invitation is pending; only an ignored one "
	    "that is still open can be put back", "and says why");
	memset(&af, 0, sizeof af);
	af.id = 7;
	af.role = ROLE_RECIPIENT;
	af.st = ST_EXPIRED;
	af.ignored = true;
	ok(rules_act(ACT_UNIGNORE, &af, &e) == -1 &&
	    e.code == PE_INVALID_STATE && strstr(e.message, "is expired"),
	    "unignore: ignored, then expired: INVALID_STATE (%s)", e.message);
	af.st = ST_ACCEPTED;
	ok(rules_act(ACT_UNIGNORE, &af, &e) == -1 &&
	    e.code == PE_INVALID_STATE && strstr(e.message, "is accepted"),
	    "unignore: ignored, then accepted (mutual): INVALID_STATE");
	af.st = ST_WITHDRAWN;
	ok(rules_act(ACT_UNIGNORE, &af, &e) == -1 && e.code == PE_NOT_FOUND,
	    "unignore: ignored, then withdrawn: NOT_FOUND, as for none");
	ok(act_on(ACT_UNIGNORE, ROLE_SENDER, ST_IGNORED, &e) == -1 &&
	    e.code == PE_NOT_PERMITTED && strcmp(e.message, "only the "
	    "recipient of an invitation may unignore it") == 0,
	    "unignore: by the sender: NOT_PERMITTED (%s)", e.message);
	ok(act_on(ACT_UNIGNORE, ROLE_OTHER, ST_IGNORED, &e) == -1 &&
	    e.code == PE_NOT_PERMITTED, "unignore: by an outsider");
	af.st = ST_IGNORED;
	af.reported = true;
	ok(rules_act(ACT_UNIGNORE, &af, &e) == -1 &&
	    e.code == PE_INVALID_STATE && strstr(e.message, "reported"),
	    "unignore: a reported one stays ignored");
	ok(rules_act(ACT_ACCEPT, &af, &e) == -1 &&
	    e.code == PE_INVALID_STATE && strstr(e.message, "reported"),
	    "accept: not a reported one (%s)", e.message);
	af.reported = false;
	af.blocked = true;
	ok(rules_act(ACT_UNIGNORE, &af, &e) == -1 &&
	    e.code == PE_INVALID_STATE && strstr(e.message, "unblock"),
	    "unignore: not while the recipient blocks the sender");
	ok(rules_act(ACT_ACCEPT, &af, &e) == -1 &&
	    e.code == PE_INVALID_STATE && strstr(e.message, "unblock"),
	    "accept: an ignored one, not while the recipient blocks the "
	    "sender");
	af.blocked = false;
	ok(rules_act(ACT_ACCEPT, &af, &e) == 0,
	    "accept: an ignored open one, straight from the ignored box");
	ok(rules_act(ACT_IGNORE, &af, &e) == -1 &&
	    e.code == PE_INVALID_STATE,
	    "ignore: an ignored one again: INVALID_STATE");

	/* Hold filters (issue 12), each at its edge. */
	{
		struct hold_filters h, mine;
		struct hold_facts hf;
		struct hold_own own;

		policy_defaults(&p);
		ok(!p.hold.no_mutual && !p.hold.low_health &&
		    p.hold.restricted_days == 0 && p.hold.new_days == 0,
		    "hold: every filter off by default");
		memset(&hf, 0, sizeof hf);
		hf.now = 100 * 86400;
		hf.health = HEALTH_LOW;
		hf.restricted_at = hf.now - 1;
		hf.first_seen_at = hf.now - 1;
		is_int(rules_hold(&p.hold, &hf), HOLD_NONE,
		    "hold: with every filter off, nothing is held");
		memset(&h, 0, sizeof h);
		h.no_mutual = true;
		hf.mutual = false;
		is_int(rules_hold(&h, &hf), HOLD_NO_MUTUAL,
		    "hold: no mutual connection: held");
		hf.mutual = true;
		is_int(rules_hold(&h, &hf), HOLD_NONE,
		    "hold: one mutual connection: not held");
		memset(&h, 0, sizeof h);
		h.low_health = true;
		is_int(rules_hold(&h, &hf), HOLD_LOW_HEALTH,
		    "hold: low health: held");
		hf.health = HEALTH_INSUFFICIENT;
		is_int(rules_hold(&h, &hf), HOLD_NONE,
		    "hold: too few decided to tell: not held");
		hf.health = HEALTH_HEALTHY;
		is_int(rules_hold(&h, &hf), HOLD_NONE,
		    "hold: healthy: not held");
		memset(&h, 0, sizeof h);
		h.restricted_days = 30;
		hf.restricted_at = hf.now - 30 * 86400 + 1;
		is_int(rules_hold(&h, &hf), HOLD_RESTRICTED,
		    "hold: restricted 30 days less a second ago, 30 days: held");
		hf.restricted_at = hf.now - 30 * 86400;
		is_int(rules_hold(&h, &hf), HOLD_NONE,
		    "hold: restricted exactly 30 days ago: not held");
		hf.restricted_at = 0;
		is_int(rules_hold(&h, &hf), HOLD_NONE,
		    "hold: never restricted: not held");
		memset(&h, 0, sizeof h);
		h.new_days = 7;
		hf.first_seen_at = hf.now - 7 * 86400 + 1;
		is_int(rules_hold(&h, &hf), HOLD_NEW_MEMBER,
		    "hold: first seen 7 days less a second ago, 7 days: held");
		hf.first_seen_at = hf.now - 7 * 86400;
		is_int(rules_hold(&h, &hf), HOLD_NONE,
		    "hold: first seen exactly 7 days ago: not held");
		hf.first_seen_at = 0;
		is_int(rules_hold(&h, &hf), HOLD_NONE,
		    "hold: first seen 0 (before connreq kept it): long ago");
		hf.first_seen_at = hf.now;
		h.new_days = 0;
		is_int(rules_hold(&h, &hf), HOLD_NONE,
		    "hold: new_days 0 is off");

		/* The member's own over the policy's, one by one. */
		memset(&h, 0, sizeof h);
		h.no_mutual = true;
		h.restricted_days = 5;
		memset(&mine, 0, sizeof mine);
		mine.low_health = true;
		mine.new_days = 9;
		memset(&own, 0, sizeof own);
		h = rules_hold_in_force(&h, &mine, &own);
		ok(h.no_mutual && !h.low_health && h.restricted_days == 5 &&
		    h.new_days == 0, "hold: none of its own: the policy's");
		own.no_mutual = own.new_days = true;
		h = rules_hold_in_force(&h, &mine, &own);
		ok(!h.no_mutual && !h.low_health && h.restricted_days == 5 &&
		    h.new_days == 9,
		    "hold: its own no_mutual (false) and new_days, the policy's "
		    "for the rest");
	}
	return done_testing();
}
