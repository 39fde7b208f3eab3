/* The mutual connections' end-to-end test (tests/test_mutual.c), its
 * assertions, against connreqd --postgres on a database of a PostgreSQL
 * cluster the test starts (tests/harness.h, HARNESS_PG). */
#define HARNESS_PG 1
#include "test_mutual.c"
