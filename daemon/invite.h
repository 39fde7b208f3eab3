/* daemon/invite.h: the operations on invitations. Each gathers facts from
 * the store, asks rules.c, and writes the outcome with its indexes,
 * deadlines and events, in the operation's transaction at the operation's
 * time. Each returns 0, or -1 with e filled; on -1 the caller discards the
 * transaction. */
#ifndef CONNREQ_INVITE_H
#define CONNREQ_INVITE_H

#include "op.h"

struct send_req {
	struct str from, to;
	struct str note;		/* p NULL: none */
	struct str email;		/* p NULL: none given */
	int priority;			/* enum priority */
	uint64_t expires_in;		/* 0: the policy's */
	uint64_t resend_of;		/* 0: a fresh send */
	struct str via;			/* p NULL: none; else the member who
					 * introduced them (intro.forward) */
};

/* Gathers what the rules need to judge a send (can_send shares it).
 * Counts stop where the limits stop; with quota they count up to
 * QUOTA_COUNT_MAX even past a limit that is off, for reporting. */
/* Tells the store what a send of r will read (store_hint_send()): the
 * server does for each send of a batch before it runs them. */
void invite_send_hint(struct op *o, const struct send_req *r);
void invite_send_facts(struct op *o, const struct send_req *r, bool quota,
    struct send_facts *f);

/* *connected is set when the send connected both at once (mutual);
 * *warnings holds WARN_* for a send that passed with a warning. */
int invite_send(struct op *o, const struct send_req *r, struct inv *out,
    bool *connected, unsigned *warnings, struct proto_error *e);
int invite_accept(struct op *o, struct str actor, uint64_t id,
    struct inv *out, struct proto_error *e);
int invite_ignore(struct op *o, struct str actor, uint64_t id,
    struct inv *out, struct proto_error *e);
int invite_withdraw(struct op *o, struct str actor, uint64_t id,
    struct inv *out, int64_t *cooldown_until, struct proto_error *e);
/* The same, for a clean-up plan: its withdrawals count in the sender's
 * stats but never toward a restriction. */
int invite_withdraw_by(struct op *o, struct str actor, uint64_t id,
    bool by_plan, struct inv *out, int64_t *cooldown_until,
    struct proto_error *e);
int invite_resend(struct op *o, struct str actor, uint64_t id,
    struct str note, struct str email, uint64_t expires_in, struct inv *out,
    bool *connected, unsigned *warnings, struct proto_error *e);
/* The recipient reports an invitation: it is ignored, counts against the
 * sender, and with dont_know the sender may not invite actor again. */
int invite_report(struct op *o, struct str actor, uint64_t id,
    bool dont_know, struct inv *out, struct proto_error *e);

/* Advice on the invitations member sent, newest first, looking at no more
 * than scan_max of them: fn is given each that has some (its advice, the
 * state its sender sees, its age and why), until it returns false. A store
 * error is left in the transaction. */
struct advice_item {
	enum advice advice;
	enum inv_state seen;
	uint64_t age;
	char reason[160];
};
typedef bool (*invite_advice_fn)(void *ctx, const struct inv *inv,
    const struct advice_item *ad);
void invite_advise(struct op *o, struct str member, uint32_t scan_max,
    invite_advice_fn fn, void *ctx);

/* Acts on an invitation's deadline that fell due (expiry, the stale
 * reminder, a cooldown's end); its row is already deleted. */
void invite_on_due(struct op *o, const struct due *due);
/* Handles invitation id's own expiry and stale reminder now if they are
 * due but still wait in a backlog of deadlines (timers_run takes a bounded
 * share per batch): a write runs it before it acts on that invitation. */
void invite_catch_up(struct op *o, uint64_t id);

#endif
