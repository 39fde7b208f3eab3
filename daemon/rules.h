/* daemon/rules.h: the rules of invitations as pure functions. No I/O here:
 * callers gather the facts from the store, ask, and act on the answer. */
#ifndef CONNREQ_RULES_H
#define CONNREQ_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../proto/proto.h"

enum inv_state {
	ST_PENDING,
	ST_ACCEPTED,
	ST_IGNORED,
	ST_WITHDRAWN,
	ST_EXPIRED,
	ST_COUNT
};

enum priority {
	PRIO_HIGH,
	PRIO_MEDIUM,
	PRIO_LOW,
	PRIO_COUNT
};

/* Who looks at or acts on an invitation. */
enum role {
	ROLE_SENDER,
	ROLE_RECIPIENT,
	ROLE_OTHER
};

enum inv_action {
	ACT_ACCEPT,
	ACT_IGNORE,
	ACT_WITHDRAW,
	ACT_RESEND
};

#define POLICY_COOLDOWNS_MAX 8

/* The policy in force (shared/domain.md gives the defaults and sources). */
struct policy {
	uint64_t expire_after;		/* 180 days */
	/* The n-th withdrawal to the same person starts the n-th cooldown,
	 * the last one repeating: 21 days by default. */
	uint64_t resend_cooldown[POLICY_COOLDOWNS_MAX];
	unsigned resend_cooldowns;
	uint64_t stale_after;		/* 14 days */
	uint32_t note_max_chars;	/* 300 */
	bool notify_recipient_on_withdraw;
	bool mutual_invite_connects;
	uint64_t events_retention;	/* 30 days */
};

void policy_defaults(struct policy *p);

extern const char *const state_names[];	/* NULL-terminated */
extern const char *const priority_names[];	/* NULL-terminated */

/* What is known about a prospective send from -> to. */
struct send_facts {
	bool self;		/* from == to */
	bool connected;		/* already connected */
	bool pending;		/* from -> to is pending (or ignored) */
	bool reverse_pending;	/* to -> from is pending (or ignored) */
	int64_t cooldown_until;	/* from -> to, 0 when none */
	size_t note_chars;	/* code points in the note */
	int64_t now;
};

enum send_outcome {
	SEND_CREATE,		/* a new pending invitation */
	SEND_MUTUAL		/* both invited each other: connect at once */
};

/* 0 with *out set, or -1 with e filled (code, message, retry_at). */
int rules_send(const struct policy *p, const struct send_facts *f,
    enum send_outcome *out, struct proto_error *e);

/* May role do act on an invitation in state st (the true state)?
 * 0 or -1 with e filled. */
int rules_act(enum inv_action act, enum role role, enum inv_state st,
    struct proto_error *e);

/* The state role sees. An ignored invitation looks pending to its sender;
 * to its recipient it stays ignored, even once it has expired (ignored:
 * the recipient ignored it at some point), unless a mutual invitation
 * accepted it. */
enum inv_state rules_view(enum inv_state st, bool ignored, enum role role);
/* Whether role sees the invitation at all: a withdrawn one is gone from its
 * recipient's views; outsiders see nothing. */
bool rules_visible(enum inv_state st, enum role role);
/* Whether an invitation in the received box is listed: not one the
 * recipient ignored, not a withdrawn one. */
bool rules_in_received_box(enum inv_state st, bool ignored);

/* Whether a due deadline still applies to an invitation in state st. */
bool rules_open(enum inv_state st);

/* When the cooldown that starts now ends, after a withdrawal that follows
 * `before` earlier withdrawals from the same sender to the same person. */
int64_t rules_cooldown_until(const struct policy *p, int64_t now,
    uint32_t before);

#endif
