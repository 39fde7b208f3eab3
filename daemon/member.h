/* daemon/member.h: what concerns a member rather than one invitation:
 * their connections, blocks and settings, and their health as a sender
 * (decisions counted, restriction begun and ended). Each operation runs in
 * an operation context and returns 0, or -1 with e filled; on -1 the caller
 * discards the transaction. */
#ifndef CONNREQ_MEMBER_H
#define CONNREQ_MEMBER_H

#include "op.h"

/* An invitation of inv->from was decided (accepted, withdrawn, expired) at
 * `at`: it counts in the sender's acceptance rate and, unless a clean-up
 * plan withdrew it, toward a restriction. */
void member_decided(struct op *o, const struct inv *inv, int64_t at,
    bool by_plan);
/* Something counted against sender (a report of invitation id): restrict
 * it if the rules say so. */
void member_health_check(struct op *o, struct str sender, uint64_t id);
/* A restriction's deadline fell due (its row is already deleted). */
void member_on_due(struct op *o, const struct due *due);

int connection_remove(struct op *o, struct str actor, struct str other,
    int64_t *since, struct proto_error *e);
/* Blocks (on) or unblocks other for actor. Blocking withdraws what is
 * pending between the two and removes their connection, telling nobody.
 * *changed: whether actor's block of other was not already as asked. */
int member_block(struct op *o, struct str actor, struct str other, bool on,
    bool *changed, struct proto_error *e);

/* The auto-accept settings of a member.settings.set: each with its has_
 * flag (false: unchanged). */
struct auto_settings {
	bool has_min_mutual, has_until;
	uint64_t min_mutual;	/* 0: off */
	int64_t until;		/* 0: no end */
};
/* A change of one of a member's own settings: none, a value of the
 * member's own, or back to the policy's default. */
enum set_how { SET_KEEP, SET_VALUE, SET_RESET };
/* The hold filters a settings change asks for, each with its how. */
struct hold_change {
	enum set_how no_mutual, low_health, restricted_days, new_days;
	struct hold_filters v;
};
/* The digest's interval a settings change asks for (digest_every:
 * seconds, 0 off; rules_digest_every_valid), with its how. */
struct digest_change {
	enum set_how how;
	uint64_t every;
};
/* Changes member's settings: from, an enum invite_from (-1: unchanged);
 * email (p NULL: unchanged; "" clears it); the auto-accept rules (as NULL:
 * unchanged); the hold filters (hold NULL: none changed); the digest
 * (digest NULL: unchanged). *out: the settings after. */
/* Notes that connreq has seen member now, if it never had: its record's
 * first_seen_at (the hold filter of new members counts from it), set by
 * every send for both its members. */
void member_seen(struct op *o, struct str member);
int member_settings_set(struct op *o, struct str member, int from,
    struct str email, const struct auto_settings *as,
    const struct hold_change *hold, const struct digest_change *digest,
    struct member_rec *out, struct proto_error *e);
/* Lists (on) or unlists other in member's auto-accept list: other's
 * invitations to member are then accepted at once (rules_auto_accept).
 * At most AUTO_ACCEPT_LIST_MAX members; member itself is refused. */
int member_auto_accept(struct op *o, struct str member, struct str other,
    bool on, struct proto_error *e);
/* The hold filters in force for the member whose record is m: its own
 * where it set them, the policy's for the rest. */
struct hold_filters member_hold_filters(const struct policy *p,
    const struct member_rec *m);
/* Which of them are m's own. */
struct hold_own member_hold_own(const struct member_rec *m);

/* A sender's record over the window that ends now, as the sender sees it. */
struct member_stats {
	uint64_t sent;
	uint64_t accepted, withdrawn, expired;
	uint64_t decided;	/* accepted + withdrawn + expired */
	uint64_t week_used, day_used;
	/* restrictions that began within policy.restrict_window, and how
	 * long the next one would last (rules_restrict_for) */
	uint64_t restrictions, next_restrict_for;
	struct member_rec rec;
};
int member_stats(struct op *o, struct str member, uint64_t window,
    struct member_stats *out, struct proto_error *e);

#endif
