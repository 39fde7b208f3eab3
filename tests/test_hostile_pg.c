/* tests/test_hostile.c, every assertion of it, against connreqd --postgres:
 * each daemon on a database of its own on a cluster the test starts
 * (tests/harness.h, HARNESS_PG). The churn is paced by a read of the store
 * there (CHURN_PACE); the peer-uid daemon (uid 65533) reaches the cluster's
 * socket (tests/pgcluster.h: its directory is searchable by all). */
#define HARNESS_PG 1
#include "test_hostile.c"
