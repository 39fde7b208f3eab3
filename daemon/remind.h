/* daemon/remind.h: the recipient's side of the timers: a reminder of an
 * invitation still pending after policy.recipient_remind_after (once), and
 * a periodic digest of the invitations waiting (policy.digest_every, or the
 * member's own). Both run on the durable deadlines (DUE_REMIND,
 * DUE_DIGEST) and look again when they fall due, so neither speaks of an
 * invitation that was withdrawn, accepted, ignored, held or expired.
 *
 * The digest: a member's waiting invitations are the received ones that
 * are pending, not ignored and not held. While a member with a digest has
 * any, one DUE_DIGEST row carries the member's digest: its id is the
 * newest waiting invitation (the digest's "holder": a member has no
 * numeric id, an invitation names its recipient), its time the next
 * multiple of the interval since the epoch (rules_digest_next). The row
 * moves when the holder changes (a newer invitation arrives, the holder
 * stops waiting) and when the interval does. A row whose invitation is not
 * the holder when it falls due says nothing (the holder's row does). */
#ifndef CONNREQ_REMIND_H
#define CONNREQ_REMIND_H

#include "op.h"

/* A new invitation (already put, not born accepted) reached its recipient:
 * its reminder's deadline (inv->remind_at, set at the send by
 * rules_remind_at) and the recipient's digest. Also for one that waits
 * again (back from the ignored or held box): its reminder comes back if
 * still ahead, and the digest counts it. */
void remind_received(struct op *o, const struct inv *inv);
/* inv no longer waits for its recipient (accepted, withdrawn, expired,
 * ignored, reported, held; already put): its reminder's deadline goes, and
 * the recipient's digest moves to the newest invitation still waiting.
 * Whatever makes an invitation stop waiting calls it. */
void remind_gone(struct op *o, const struct inv *inv);
/* member's digest interval changed from `before` (seconds, 0: off) to
 * what member's record and the policy say now: its deadline moves. */
void remind_digest_changed(struct op *o, struct str member, uint64_t before);
/* The digest interval in force for a member: their own, or the policy's. */
uint64_t remind_digest_every(const struct policy *p,
    const struct member_rec *m);
/* A DUE_REMIND or DUE_DIGEST deadline fell due (its row already deleted). */
void remind_on_due(struct op *o, const struct due *due);

#endif
