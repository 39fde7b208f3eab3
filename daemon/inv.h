/* daemon/inv.h: one invitation record and what moves with it: loading it
 * as an actor sees it, and closing it with its deadlines and its pair's
 * open slot. The operations in invite.c and member.c share these. */
#ifndef CONNREQ_INV_H
#define CONNREQ_INV_H

#include "op.h"

/* actor's part in inv (actor.p NULL: its sender's). */
enum role inv_role(const struct inv *inv, struct str actor);
/* Loads invitation id as actor sees it (actor.p NULL: as its sender sees
 * it); *role is actor's part in it. 0, or -1 with e filled. */
int inv_load(struct stx *t, uint64_t id, struct str actor, struct inv *out,
    enum role *role, struct proto_error *e);
/* inv is open and its expiry or stale reminder is due at now but not
 * handled yet: a backlog of deadlines runs a bounded share per batch
 * (timers_run), and this one has not had its turn. */
bool inv_overdue(const struct inv *inv, int64_t now);
/* Makes a copy of inv read as it will be once its due deadlines have been
 * handled (expired, reminded), for reads, which write nothing. */
void inv_as_of(struct inv *inv, int64_t now);
/* The expiry and stale deadlines of an open invitation. */
void inv_due_rows(const struct inv *inv, struct due *expire,
    struct due *stale);
/* Closes an open invitation at `at`: its new state, its deadlines dropped,
 * its pair's open slot freed. */
void inv_close(struct stx *t, struct inv *inv, enum inv_state to, int64_t at);
/* Withdraws the open invitation from -> to, if any, at `at`, without a
 * cooldown and telling nobody (the all feed has it). */
void inv_withdraw_quietly(struct stx *t, struct str from, struct str to,
    int64_t at);

#endif
