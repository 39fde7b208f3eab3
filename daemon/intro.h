/* daemon/intro.h: introductions (intro.ask and the rest in
 * docs/protocol.md). A member (from) asks another (via), connected to
 * both, to introduce them to a third (to), with a note for via. via
 * forwards it, which sends the invitation from -> to through the ordinary
 * send (invite_send: every rule and limit of from's applies, and the
 * invitation says it was introduced by via), or declines it, telling from
 * or not. One not answered by its expires_at (the policy's expire_after
 * after the ask) has expired. Each operation returns 0, or -1 with e
 * filled; on -1 the caller discards the transaction. */
#ifndef CONNREQ_INTRO_H
#define CONNREQ_INTRO_H

#include "op.h"

struct intro_ask_req {
	struct str from, via, to;
	struct str note;	/* p NULL: none */
};

/* actor's part in in. */
enum intro_role intro_role_of(const struct intro *in, struct str actor);
/* Loads introduction id as actor sees it: *role is actor's part. 0, or
 * -1 with e filled (NOT_FOUND; NOT_PERMITTED for anyone but its from and
 * via). */
int intro_load(struct stx *t, uint64_t id, struct str actor,
    struct intro *out, enum intro_role *role, struct proto_error *e);

int intro_ask(struct op *o, const struct intro_ask_req *r, struct intro *out,
    struct proto_error *e);
/* via forwards id: *inv is the invitation sent (*connected and *warnings
 * as invite_send gives them). A send refused refuses the forward with
 * the send's error, and nothing is written. */
int intro_forward(struct op *o, struct str actor, uint64_t id,
    struct str note, struct intro *out, struct inv *inv, bool *connected,
    unsigned *warnings, struct proto_error *e);
/* via declines id; tell: from is told (otherwise from goes on seeing it
 * asked until it expires). */
int intro_decline(struct op *o, struct str actor, uint64_t id, bool tell,
    struct intro *out, struct proto_error *e);
/* An introduction's DUE_INTRO_EXPIRE fell due (its row is already
 * deleted): from is told it expired, as from sees it (asked, or declined
 * without from told), and via too when it was still asked. */
void intro_on_due(struct op *o, const struct due *due);

#endif
