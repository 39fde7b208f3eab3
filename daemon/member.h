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
 * pending between the two and removes their connection, telling nobody. */
int member_block(struct op *o, struct str actor, struct str other, bool on,
    struct proto_error *e);

/* How a setting with a policy default changes: kept, reset to the
 * policy's default, or set to a value. */
enum setting_op { SET_KEEP, SET_RESET, SET_TO };
/* Changes member's settings: from, an enum invite_from (-1: unchanged);
 * email (p NULL: unchanged; "" clears it); digest_every (seconds, 0: off;
 * rules_digest_every_valid), as digest_op says. *out: the settings
 * after. */
int member_settings_set(struct op *o, struct str member, int from,
    struct str email, enum setting_op digest_op, uint64_t digest_every,
    struct member_rec *out, struct proto_error *e);

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
