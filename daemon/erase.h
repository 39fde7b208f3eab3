/* daemon/erase.h: member.erase (docs/protocol.md). Removes a member, in
 * the request's one transaction: its invitations both ways (open ones
 * closed first, so that their deadlines, the sender's open count and the
 * recipients' digests move as a withdrawal moves them, then deleted with
 * their indexes), the pairs both ways, its connections, the introductions
 * it asked for, was asked to make or was the one to meet (an invitation
 * it introduced loses its introduced_by), its plans, its logs, settings
 * and flags, the "does not know" reports it made, and every kept event
 * that names it (redacted in place: the `all` feed stays gap-free; one of
 * an invitation it only introduced keeps its place and member, without
 * the name); then
 * member.erased in the `all` feed. Other members keep their own: their
 * send and decision logs (their limits and health stay as they were),
 * the blocks and auto-accepts they made naming it. */
#ifndef CONNREQ_ERASE_H
#define CONNREQ_ERASE_H

#include "op.h"

struct erase_counts {
	uint64_t invitations;	/* deleted, either way */
	uint64_t connections;
	uint64_t introductions;
	uint64_t plans;
	uint64_t events;	/* redacted */
};

/* 0 with *out filled (all zero, and no event, when the store kept
 * nothing of member), or -1 with e filled. */
int member_erase(struct op *o, struct str member, struct erase_counts *out,
    struct proto_error *e);

#endif
