/* daemon/plan.h: paced clean-up (plan.withdraw_stale in docs/protocol.md).
 * A plan withdraws a member's stale pending invitations a few a day, lowest
 * priority and oldest first (rules.c says which and in what order), on the
 * daemon's timers, and survives restarts: it is a record in the store and
 * a deadline. */
#ifndef CONNREQ_PLAN_H
#define CONNREQ_PLAN_H

#include <msgpack.h>

#include "op.h"

#define PLAN_MAX_IDS 1000


struct plan {
	uint64_t id;
	uint8_t state;		/* enum plan_state */
	uint8_t max_priority;	/* enum priority: this one and lower */
	uint32_t per_day;
	uint32_t total, done, skipped;
	int64_t created_at;
	int64_t next_at;	/* the next run, 0 when over */
	uint64_t older_than;
	size_t member_len;
	char member[MEMBER_MAX_BYTES + 1];
	uint64_t ids[PLAN_MAX_IDS];	/* in the order they go */
};

/* Makes the plan and runs its first day now. */
int plan_create(struct op *o, struct str member,
    uint64_t older_than, uint32_t per_day, int max_priority,
    struct plan *out, struct proto_error *e);
int plan_load(struct stx *t, uint64_t id, struct plan *out,
    struct proto_error *e);
int plan_cancel(struct op *o, struct str actor,
    uint64_t id, struct plan *out, struct proto_error *e);
/* The plan's deadline fell due: its next day. */
void plan_on_due(struct op *o, const struct due *due);
/* {id, member, state, per_day, total, done, skipped, created_at, next_at,
 * ends_at, schedule: [{at, count}]}. */
void plan_pack(msgpack_packer *pk, const struct plan *pl,
    const struct policy *p);

#endif
