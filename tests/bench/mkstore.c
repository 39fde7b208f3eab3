/* tests/bench/mkstore.c: builds a store of N invitations for make bench's
 * big-store and expire-1m cases, fast: in-process through the daemon's own
 * domain code (invite_send, as the invite.send method runs it, with its
 * indexes, counters, deadlines and events), one nested transaction per send
 * as the server runs a request, and one commit per 20,000 sends instead of
 * one per batch. The store is the one connreqd would have written for the
 * same sends at the same time (no socket, no sync per batch).
 *
 * The sends are the generator's (tests/bench/bench.c send_pair): send k goes
 * from u(k mod 500009) to u(mix64(k) mod 10,000,000), no note, so no limit
 * refuses and none warns even at ten million.
 *
 * mkstore STORE --mutual N: instead, the store of make bench's mutual-10k
 * (issue 12): ma with N connections (m0..m(N-1), zero-padded) and mb with N
 * (m(N/2)..m(3N/2-1)): N/2 mutual, the overlap a run; za with N on the
 * even ids z0, z2, .., and zb with N on the odd ones and the first 10
 * even ones: 10 mutual, interleaved through both lists (the leapfrog's
 * worst: a seek per connection of each); sm with 10 (m0..m9, none of them
 * mb's); and the pending invitations ma -> mb, za -> zb and sm -> mb (ids
 * 1, 2, 3), sent through invite_send at NOW.
 *
 * Usage: mkstore STORE N [NOW [EXPIRES_IN]]
 *        mkstore STORE --mutual N [NOW]
 *   STORE       the store: an LMDB directory (created when missing), or a
 *               PostgreSQL conninfo (an empty database: the schema is
 *               made), told apart as connreqd --copy-store tells them
 *   N           how many sends to make (refused ones are counted, not made up)
 *   NOW         the time of every send (default: the real time)
 *   EXPIRES_IN  each invitation's life in seconds (default: the policy's)
 * Prints one line: sent=N refused=N seconds=S rate=R/s. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../daemon/invite.h"
#include "../../daemon/store.h"

#define SENDERS 500009u
#define RECIPIENTS 10000000u
#define CHUNK 20000
/* On PostgreSQL each send is a subtransaction (a SAVEPOINT), and past a
 * few dozen in one transaction PostgreSQL's bookkeeping of them grows
 * with their number: 20,000 sends in one took over ten minutes. */
#define CHUNK_PG 100

static uint64_t
mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Sends k0 .. k1-1 in one top-level transaction: STORE_OK or its error. */
static int
chunk(struct store *s, const struct policy *pol, int64_t now,
    uint64_t expires_in, uint64_t k0, uint64_t k1, uint64_t *refused)
{
	struct stx *top = store_begin(s, NULL), *t;
	struct proto_error e;
	struct send_req r;
	struct inv out;
	struct op o;
	char from[32], to[32];
	unsigned warnings;
	bool connected;
	uint64_t k, f, d, nref = 0;
	int rc;

	if (store_error(top) != STORE_OK) {
		rc = store_error(top);
		store_abort(top);
		return rc;
	}
	for (k = k0; k < k1; k++) {
		f = k % SENDERS;
		d = mix64(k) % RECIPIENTS;
		snprintf(from, sizeof from, "u%" PRIu64, f);
		snprintf(to, sizeof to, "u%" PRIu64, d == f ? d + 1 : d);
		memset(&r, 0, sizeof r);
		r.from = (struct str){ from, strlen(from) };
		r.to = (struct str){ to, strlen(to) };
		r.priority = PRIO_MEDIUM;
		r.expires_in = expires_in;
		t = store_begin(s, top);
		o.t = t;
		o.policy = pol;
		o.now = now;
		memset(&e, 0, sizeof e);
		if (invite_send(&o, &r, &out, &connected, &warnings, &e) == 0 &&
		    store_error(t) == STORE_OK) {
			if ((rc = store_commit(t)) != STORE_OK)
				break;
		} else {
			rc = store_error(t);
			store_abort(t);
			if (rc != STORE_OK)
				break;
			nref++;
		}
	}
	if (k < k1) {
		store_abort(top);
		return rc;
	}
	rc = store_commit(top);
	if (rc == STORE_OK)
		*refused += nref;
	return rc;
}

/* One send of the mutual store: 0, or -1 with a message. */
static int
mutual_send(struct stx *top, struct store *s, const struct policy *pol,
    int64_t now, const char *from, const char *to)
{
	struct stx *t = store_begin(s, top);
	struct proto_error e;
	struct send_req r;
	struct inv out;
	struct op o = { t, pol, now };
	unsigned warnings;
	bool connected;

	memset(&r, 0, sizeof r);
	memset(&e, 0, sizeof e);
	r.from = (struct str){ from, strlen(from) };
	r.to = (struct str){ to, strlen(to) };
	r.priority = PRIO_MEDIUM;
	if (invite_send(&o, &r, &out, &connected, &warnings, &e) == -1) {
		fprintf(stderr, "mkstore: %s -> %s: %s\n", from, to, e.message);
		store_abort(t);
		return -1;
	}
	return store_commit(t) == STORE_OK ? 0 : -1;
}

static void
conn(struct stx *t, const char *a, char letter, uint64_t i, int64_t at)
{
	char o[32];

	snprintf(o, sizeof o, "%c%06" PRIu64, letter, i);
	store_conn_put(t, a, strlen(a), o, strlen(o), at);
}

/* mkstore STORE --mutual N [NOW]: see above. */
static int
mutual_store(struct store *s, uint64_t n, int64_t now)
{
	struct policy pol;
	struct stx *t;
	uint64_t i;
	double t0 = now_s();
	int rc;

	policy_defaults(&pol);
	for (;;) {
		t = store_begin(s, NULL);
		for (i = 0; i < n; i++) {
			conn(t, "ma", 'm', i, now - 1);
			conn(t, "mb", 'm', n / 2 + i, now - 1);
			conn(t, "za", 'z', 2 * i, now - 1);
			conn(t, "zb", 'z', 2 * i + 1, now - 1);
			if (i < 10) {
				conn(t, "zb", 'z', 2 * i, now - 1);
				conn(t, "sm", 'm', i, now - 1);
			}
		}
		if (mutual_send(t, s, &pol, now, "ma", "mb") == -1 ||
		    mutual_send(t, s, &pol, now, "za", "zb") == -1 ||
		    mutual_send(t, s, &pol, now, "sm", "mb") == -1) {
			store_abort(t);
			return 1;
		}
		rc = store_commit(t);
		if (rc == STORE_MAP_FULL && store_grow(s) == 0)
			continue;
		if (rc != STORE_OK) {
			fprintf(stderr, "mkstore: %s\n", store_strerror(s));
			return 1;
		}
		break;
	}
	store_close(s);
	printf("sent=3 connections=%" PRIu64 " seconds=%.1f\n",
	    4 * n + 20, now_s() - t0);
	return 0;
}

int
main(int argc, char **argv)
{
	struct policy pol;
	struct store *s;
	uint64_t n, k, k1, refused = 0, expires_in = 0, per;
	int64_t now;
	double t0, t;
	char why[256];
	int rc;

	if (argc >= 4 && argc <= 5 && strcmp(argv[2], "--mutual") == 0) {
		s = store_open_alone(argv[1], 64ull << 30, why, sizeof why);
		if (s == NULL) {
			fprintf(stderr, "mkstore: %s: %s\n", argv[1], why);
			return 1;
		}
		return mutual_store(s, strtoull(argv[3], NULL, 10),
		    argc > 4 ? strtoll(argv[4], NULL, 10) :
		    (int64_t)time(NULL));
	}
	if (argc < 3 || argc > 5) {
		fprintf(stderr, "usage: mkstore STORE N [NOW [EXPIRES_IN]]\n"
		    "       mkstore STORE --mutual N [NOW]\n");
		return 2;
	}
	n = strtoull(argv[2], NULL, 10);
	now = argc > 3 ? strtoll(argv[3], NULL, 10) : (int64_t)time(NULL);
	if (argc > 4)
		expires_in = strtoull(argv[4], NULL, 10);
	/* Written by this process alone (on PostgreSQL too: no connreqd
	 * may have the database meanwhile). */
	s = store_open_alone(argv[1], 64ull << 30, why, sizeof why);
	if (s == NULL) {
		fprintf(stderr, "mkstore: %s: %s\n", argv[1], why);
		return 1;
	}
	policy_defaults(&pol);
	per = strcmp(store_name(s), "postgresql") == 0 ? CHUNK_PG : CHUNK;
	t0 = now_s();
	for (k = 0; k < n; k = k1) {
		k1 = n - k > per ? k + per : n;
		rc = chunk(s, &pol, now, expires_in, k, k1, &refused);
		if (rc == STORE_MAP_FULL && store_grow(s) == 0) {
			k1 = k; /* again, in a larger map */
			continue;
		}
		if (rc != STORE_OK) {
			fprintf(stderr, "mkstore: after %" PRIu64 " sends: %s\n",
			    k, store_strerror(s));
			return 1;
		}
	}
	t = now_s() - t0;
	store_close(s);
	printf("sent=%" PRIu64 " refused=%" PRIu64 " seconds=%.1f rate=%.0f/s\n",
	    n - refused, refused, t, t > 0 ? n / t : 0);
	return 0;
}
