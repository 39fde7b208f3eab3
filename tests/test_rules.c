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

int
main(void)
{
	struct policy p;
	struct send_facts f;
	struct proto_error e;
	enum send_outcome out;
	int act, role, st;

	policy_defaults(&p);
	is_int(p.expire_after, 180 * 86400, "invitations expire after 180 days");
	ok(p.resend_cooldowns == 1 && p.resend_cooldown[0] == 21 * 86400,
	    "the cooldown is 21 days");
	is_int(p.stale_after, 14 * 86400, "stale after 14 days");
	is_int(p.note_max_chars, 300, "notes hold 300 characters");
	ok(!p.notify_recipient_on_withdraw, "withdrawal is quiet by default");

	f = facts();
	ok(rules_send(&p, &f, &out, &e) == 0 && out == SEND_CREATE,
	    "a plain send creates an invitation");
	f = facts();
	f.self = true;
	ok(rules_send(&p, &f, &out, &e) == -1 && e.code == PE_SELF_INVITE,
	    "no invitation to yourself");
	f = facts();
	f.connected = true;
	ok(rules_send(&p, &f, &out, &e) == -1 && e.code == PE_ALREADY_CONNECTED,
	    "none to a connection");
	f = facts();
	f.pending = true;
	ok(rules_send(&p, &f, &out, &e) == -1 && e.code == PE_ALREADY_PENDING,
	    "none while one is pending");
	f = facts();
	f.reverse_pending = true;
	ok(rules_send(&p, &f, &out, &e) == 0 && out == SEND_MUTUAL,
	    "a mutual invitation connects both");
	p.mutual_invite_connects = false;
	ok(rules_send(&p, &f, &out, &e) == 0 && out == SEND_CREATE,
	    "unless the policy says otherwise");
	p.mutual_invite_connects = true;
	f = facts();
	f.note_chars = 300;
	ok(rules_send(&p, &f, &out, &e) == 0, "a note of 300 characters passes");
	f.note_chars = 301;
	ok(rules_send(&p, &f, &out, &e) == -1 && e.code == PE_NOTE_TOO_LONG,
	    "301 characters are refused");
	f = facts();
	f.cooldown_until = f.now + 1;
	ok(rules_send(&p, &f, &out, &e) == -1 && e.code == PE_COOLDOWN &&
	    e.retry_at == f.now + 1, "a cooldown refuses with retry_at");
	ok(strstr(e.message, "withdrawal") != NULL, "and says which rule: %s",
	    e.message);
	f.cooldown_until = f.now;
	ok(rules_send(&p, &f, &out, &e) == 0, "a cooldown ends at its time");
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
	policy_defaults(&p);

	/* Who may do what, in which state. */
	for (st = 0; st < ST_COUNT; st++)
		for (role = ROLE_SENDER; role <= ROLE_OTHER; role++)
			for (act = ACT_ACCEPT; act <= ACT_RESEND; act++) {
				int want_ok, rc = rules_act(act, role, st, &e);
				enum inv_state seen = rules_view(st,
				    st == ST_IGNORED, role);

				if (role == ROLE_OTHER ||
				    (role == ROLE_RECIPIENT && st == ST_WITHDRAWN))
					want_ok = 0;
				else if (act == ACT_ACCEPT || act == ACT_IGNORE)
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
				    role, state_names[st], want_ok ? "allowed" :
				    "refused"))
					diag("%s", e.message);
			}
	ok(rules_act(ACT_ACCEPT, ROLE_SENDER, ST_PENDING, &e) == -1 &&
	    e.code == PE_NOT_PERMITTED, "the sender cannot accept: NOT_PERMITTED");
	ok(rules_act(ACT_WITHDRAW, ROLE_RECIPIENT, ST_PENDING, &e) == -1 &&
	    e.code == PE_NOT_PERMITTED, "the recipient cannot withdraw");
	ok(rules_act(ACT_ACCEPT, ROLE_RECIPIENT, ST_ACCEPTED, &e) == -1 &&
	    e.code == PE_INVALID_STATE, "accepting twice: INVALID_STATE");
	ok(rules_act(ACT_RESEND, ROLE_SENDER, ST_IGNORED, &e) == -1 &&
	    e.code == PE_INVALID_STATE && strstr(e.message, "pending"),
	    "resending an ignored one says it is pending (%s)", e.message);
	ok(rules_act(ACT_WITHDRAW, ROLE_SENDER, ST_IGNORED, &e) == 0,
	    "the sender may withdraw an ignored one (it looks pending)");
	ok(rules_act(ACT_ACCEPT, ROLE_OTHER, ST_PENDING, &e) == -1 &&
	    e.code == PE_NOT_PERMITTED, "an outsider: NOT_PERMITTED (%s)",
	    e.message);

	/* Views. */
	is_str(state_names[rules_view(ST_IGNORED, true, ROLE_SENDER)],
	    "pending", "ignored looks pending to the sender");
	is_str(state_names[rules_view(ST_IGNORED, true, ROLE_RECIPIENT)],
	    "ignored", "and ignored to the recipient");
	is_str(state_names[rules_view(ST_EXPIRED, true, ROLE_SENDER)],
	    "expired", "an ignored one that expired is expired to the sender");
	is_str(state_names[rules_view(ST_EXPIRED, true, ROLE_RECIPIENT)],
	    "ignored", "and stays ignored to the recipient");
	is_str(state_names[rules_view(ST_EXPIRED, false, ROLE_RECIPIENT)],
	    "expired", "one not ignored is expired to both");
	is_str(state_names[rules_view(ST_ACCEPTED, true, ROLE_RECIPIENT)],
	    "accepted", "one ignored, then accepted by a mutual invitation, is accepted");
	ok(rules_in_received_box(ST_ACCEPTED, true),
	    "and back in the received box");
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
	return done_testing();
}
