/* daemon/invite.h: the operations on invitations and connections. Each
 * gathers facts from the store, asks rules.c, and writes the outcome with
 * its indexes and deadlines, in the caller's transaction. Each returns 0, or
 * -1 with e filled; on -1 the caller discards the transaction. */
#ifndef CONNREQ_INVITE_H
#define CONNREQ_INVITE_H

#include "daemon.h"
#include "store.h"

struct str {
	const char *p;
	size_t n;
};

struct send_req {
	struct str from, to;
	struct str note;		/* p NULL: none */
	struct str email;		/* p NULL: none given */
	int priority;			/* enum priority */
	uint64_t expires_in;		/* 0: the policy's */
	uint64_t resend_of;		/* 0: a fresh send */
};

/* Gathers what the rules need to judge a send (can_send shares it). */
/* Counts stop where the limits stop; quota counts up to QUOTA_COUNT_MAX
 * even past a limit that is off, for reporting. */
#define QUOTA_COUNT_MAX 10000
void invite_send_facts(struct daemon *d, struct stx *t,
    const struct send_req *r, bool quota, struct send_facts *f);

/* *connected is set when the send connected both at once (mutual);
 * *warnings holds WARN_* for a send that passed with a warning. */
int invite_send(struct daemon *d, struct stx *t, const struct send_req *r,
    struct inv *out, bool *connected, unsigned *warnings,
    struct proto_error *e);
int invite_accept(struct daemon *d, struct stx *t, struct str actor,
    uint64_t id, struct inv *out, struct proto_error *e);
int invite_ignore(struct daemon *d, struct stx *t, struct str actor,
    uint64_t id, struct inv *out, struct proto_error *e);
int invite_withdraw(struct daemon *d, struct stx *t, struct str actor,
    uint64_t id, struct inv *out, int64_t *cooldown_until,
    struct proto_error *e);
/* The same, for a clean-up plan: its withdrawals count in the sender's
 * stats but never toward a restriction. */
int invite_withdraw_by(struct daemon *d, struct stx *t, struct str actor,
    uint64_t id, bool by_plan, struct inv *out, int64_t *cooldown_until,
    struct proto_error *e);
int invite_resend(struct daemon *d, struct stx *t, struct str actor,
    uint64_t id, struct str note, struct str email, uint64_t expires_in,
    struct inv *out, bool *connected, unsigned *warnings,
    struct proto_error *e);

/* Loads invitation id as actor sees it (actor.p NULL: as its sender sees
 * it); *role is actor's part in it. */
int invite_load(struct stx *t, uint64_t id, struct str actor, struct inv *out,
    enum role *role, struct proto_error *e);
enum role invite_role(const struct inv *inv, struct str actor);

int connection_remove(struct daemon *d, struct stx *t, struct str actor,
    struct str other, int64_t *since, struct proto_error *e);

/* Blocks (on) or unblocks other for actor. Blocking withdraws what is
 * pending between the two and removes their connection, telling nobody. */
int member_block(struct daemon *d, struct stx *t, struct str actor,
    struct str other, bool on, struct proto_error *e);
/* The recipient reports an invitation: it is ignored, counts against the
 * sender, and with dont_know the sender may not invite actor again. */
int invite_report(struct daemon *d, struct stx *t, struct str actor,
    uint64_t id, bool dont_know, struct inv *out, struct proto_error *e);

/* Acts on one deadline that fell due (and deletes its row). */
void invite_on_due(struct daemon *d, struct stx *t, const struct due *due);

/* Maps a store failure to an error for the client. */
int invite_store_error(struct stx *t, struct proto_error *e);

#endif
