/* daemon/events.h: the event log. Every change someone should hear of
 * appends an event in the same transaction as the change, so an event
 * exists if and only if its change was committed. Also how invitations and
 * connections are packed, for results and events alike. */
#ifndef CONNREQ_EVENTS_H
#define CONNREQ_EVENTS_H

#include <msgpack.h>

#include "../proto/vocab.h"
#include "store.h"

/* The types, named in proto/vocab.h. Who is told of each is decided where
 * the event is made; the table is in docs/protocol.md. */
#define EV_RECEIVED proto_event_names[PEV_RECEIVED]
#define EV_ACCEPTED proto_event_names[PEV_ACCEPTED]
#define EV_IGNORED proto_event_names[PEV_IGNORED]
#define EV_UNIGNORED proto_event_names[PEV_UNIGNORED]
#define EV_HELD proto_event_names[PEV_HELD]
#define EV_WITHDRAWN proto_event_names[PEV_WITHDRAWN]
#define EV_EXPIRED proto_event_names[PEV_EXPIRED]
#define EV_STALE proto_event_names[PEV_STALE]
#define EV_COOLDOWN_ENDED proto_event_names[PEV_COOLDOWN_ENDED]
#define EV_CONN_CREATED proto_event_names[PEV_CONN_CREATED]
#define EV_CONN_REMOVED proto_event_names[PEV_CONN_REMOVED]
#define EV_LIMIT_WARNING proto_event_names[PEV_LIMIT_WARNING]
#define EV_RESTRICTION_STARTED proto_event_names[PEV_RESTRICTION_STARTED]
#define EV_RESTRICTION_ENDED proto_event_names[PEV_RESTRICTION_ENDED]
#define EV_PLAN_PROGRESS proto_event_names[PEV_PLAN_PROGRESS]
#define EV_PLAN_DONE proto_event_names[PEV_PLAN_DONE]
#define EV_REMINDER proto_event_names[PEV_REMINDER]
#define EV_DIGEST proto_event_names[PEV_DIGEST]
#define EV_INTRO_ASKED proto_event_names[PEV_INTRO_ASKED]
#define EV_INTRO_FORWARDED proto_event_names[PEV_INTRO_FORWARDED]
#define EV_INTRO_DECLINED proto_event_names[PEV_INTRO_DECLINED]
#define EV_INTRO_EXPIRED proto_event_names[PEV_INTRO_EXPIRED]
#define EV_MEMBER_ERASED proto_event_names[PEV_MEMBER_ERASED]
#define EV_EVENT_ERASED proto_event_names[PEV_EVENT_ERASED]

/* inv as role sees it (docs/protocol.md §3.1): the 12 keys of every view
 * and the keys of role's own (rules_view_extra), which read t (the
 * recipient's mutual_count). t NULL: the 12 keys alone (tests of them). */
void pack_inv(msgpack_packer *pk, struct stx *t, const struct inv *inv,
    enum role role);
void pack_conn(msgpack_packer *pk, const char *a, size_t alen, const char *b,
    size_t blen, int64_t since);

/* An introduction as role sees it at now (docs/protocol.md, 3.x):
 * {id, from, via, to, note, state, told, created_at, updated_at,
 * expires_at, invitation}. */
void pack_intro(msgpack_packer *pk, const struct intro *in,
    enum intro_role role, int64_t now);
/* An event about introduction in for member (its from or via: role),
 * shown as role sees it; inv, when not NULL, is the invitation it became
 * (in its sender's view). notify: told to member; otherwise only in the
 * `all` feed. at: when it happened (an expiry's own time), now: when it
 * is written. */
void events_intro(struct stx *t, const char *type, int64_t at,
    int64_t now, const struct intro *in, enum intro_role role,
    const struct inv *inv, bool notify);

/* An event about inv for its sender or recipient (member_role), shown as
 * that member sees it; with_conn adds the connection inv made. notify:
 * told to that member; otherwise only in the `all` feed. */
/* at: when it happened (a deadline's own time for timer events); now: when
 * it is written, from which retention counts. */
void events_inv(struct stx *t, const char *type, int64_t at, int64_t now,
    const struct inv *inv, enum role member_role, bool notify,
    bool with_conn);
/* Takes back from inv's recipient the invitation.received event of inv
 * (and its invitation.reminder, if it had one):
 * it leaves their feed and stays in the `all` feed
 * (rules_unsay_on_withdraw says when). It looks through the recipient's
 * kept notifications, decoding only those written when inv was sent, or
 * (a reminder) since its remind_at. */
void events_unsay_received(struct stx *t, const struct inv *inv);
/* An event about the connection between member and other, happening now. */
void events_conn(struct stx *t, const char *type, int64_t at,
    const char *member, size_t mlen, const char *other, size_t olen,
    int64_t since, bool notify);

/* A notice to member: {seq, type, at, member} and, where given, code,
 * message, until and plan. Told to the member. */
struct notice {
	const char *code;	/* NULL: none */
	const char *message;	/* NULL: none */
	int64_t until;		/* 0: none */
	uint64_t plan;		/* 0: none */
	uint64_t done, total;	/* plan progress, with plan */
};
void events_notice(struct stx *t, const char *type, int64_t at, int64_t now,
    const char *member, size_t mlen, const struct notice *n);
/* member's digest: {seq, type, at, member, count, oldest_at}, told to the
 * member. */
void events_digest(struct stx *t, int64_t at, int64_t now, const char *member,
    size_t mlen, uint64_t count, int64_t oldest_at);

/* member.erase's (daemon/erase.c): every kept event that names member
 * (its own, or any string of its map equal to member's id) keeps its
 * place in the `all` feed as {seq, type "event.erased", at, member nil},
 * told to nobody; returns how many. Then member.erased, {seq, type, at,
 * member}, in the `all` feed alone, at now. */
uint64_t events_erase_member(struct stx *t, const char *member, size_t mlen);
void events_member_erased(struct stx *t, int64_t now, const char *member,
    size_t mlen);

#endif
