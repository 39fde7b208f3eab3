/* daemon/rules.c: see rules.h. Every refusal names the rule that refused. */
#include "rules.h"

#include "../common/util.h"

const char *const state_names[] = {
	"pending", "accepted", "ignored", "withdrawn", "expired", NULL
};

const char *const priority_names[] = { "high", "medium", "low", NULL };

void
policy_defaults(struct policy *p)
{
	p->expire_after = 180 * 86400ULL;
	p->resend_cooldown[0] = 21 * 86400ULL;
	p->resend_cooldowns = 1;
	p->stale_after = 14 * 86400ULL;
	p->note_max_chars = 300;
	p->notify_recipient_on_withdraw = false;
	p->mutual_invite_connects = true;
	p->events_retention = 30 * 86400ULL;
}

int
rules_send(const struct policy *p, const struct send_facts *f,
    enum send_outcome *out, struct proto_error *e)
{
	char when[32];

	if (f->self)
		return proto_fail(e, PE_SELF_INVITE,
		    "you cannot invite yourself");
	if (f->connected)
		return proto_fail(e, PE_ALREADY_CONNECTED,
		    "you are already connected");
	if (f->pending)
		return proto_fail(e, PE_ALREADY_PENDING,
		    "an invitation to this member is already pending");
	if (f->note_chars > p->note_max_chars)
		return proto_fail(e, PE_NOTE_TOO_LONG,
		    "the note has %zu characters; at most %u are allowed",
		    f->note_chars, p->note_max_chars);
	if (f->reverse_pending && p->mutual_invite_connects) {
		*out = SEND_MUTUAL;
		return 0;
	}
	if (f->cooldown_until > f->now) {
		time_format(f->cooldown_until, when, sizeof when);
		proto_fail(e, PE_COOLDOWN,
		    "after a withdrawal you may invite this member again from %s UTC",
		    when);
		e->retry_at = f->cooldown_until;
		return -1;
	}
	*out = SEND_CREATE;
	return 0;
}

int
rules_act(enum inv_action act, enum role role, enum inv_state st,
    struct proto_error *e)
{
	static const char *const verbs[] = {
		"accept", "ignore", "withdraw", "resend"
	};
	enum role need = (act == ACT_ACCEPT || act == ACT_IGNORE) ?
	    ROLE_RECIPIENT : ROLE_SENDER;
	enum inv_state seen = rules_view(st, st == ST_IGNORED, role);

	if (role == ROLE_OTHER)
		return proto_fail(e, PE_NOT_PERMITTED,
		    "only the sender and the recipient may act on an invitation");
	if (!rules_visible(st, role))
		return proto_fail(e, PE_NOT_FOUND, "no such invitation");
	if (role != need)
		return proto_fail(e, PE_NOT_PERMITTED,
		    "only the %s of an invitation may %s it",
		    need == ROLE_RECIPIENT ? "recipient" : "sender", verbs[act]);
	switch (act) {
	case ACT_ACCEPT:
	case ACT_IGNORE:
	case ACT_WITHDRAW:
		if (seen != ST_PENDING)
			return proto_fail(e, PE_INVALID_STATE,
			    "the invitation is %s; only a pending one can be %s",
			    state_names[seen],
			    act == ACT_ACCEPT ? "accepted" :
			    act == ACT_IGNORE ? "ignored" : "withdrawn");
		return 0;
	case ACT_RESEND:
		if (seen != ST_WITHDRAWN && seen != ST_EXPIRED)
			return proto_fail(e, PE_INVALID_STATE,
			    "the invitation is %s; only a withdrawn or expired one can be resent",
			    state_names[seen]);
		return 0;
	}
	return proto_fail(e, PE_INTERNAL, "unknown action");
}

enum inv_state
rules_view(enum inv_state st, bool ignored, enum role role)
{
	if (role == ROLE_RECIPIENT)
		return ignored && (st == ST_IGNORED || st == ST_EXPIRED) ?
		    ST_IGNORED : st;
	return st == ST_IGNORED ? ST_PENDING : st;
}

bool
rules_visible(enum inv_state st, enum role role)
{
	if (role == ROLE_OTHER)
		return false;
	if (role == ROLE_RECIPIENT && st == ST_WITHDRAWN)
		return false;
	return true;
}

bool
rules_in_received_box(enum inv_state st, bool ignored)
{
	return rules_view(st, ignored, ROLE_RECIPIENT) != ST_IGNORED &&
	    st != ST_WITHDRAWN;
}

bool
rules_open(enum inv_state st)
{
	return st == ST_PENDING || st == ST_IGNORED;
}

int64_t
rules_cooldown_until(const struct policy *p, int64_t now, uint32_t before)
{
	unsigned n = before < p->resend_cooldowns ? before :
	    p->resend_cooldowns - 1;

	return now + (int64_t)p->resend_cooldown[n];
}
