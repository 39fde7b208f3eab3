/* The auto-accept end-to-end test (tests/test_autoaccept.c), its
 * assertions, against connreqd --postgres on a database of a PostgreSQL
 * cluster the test starts (tests/harness.h, HARNESS_PG). */
#define HARNESS_PG 1
#include "test_autoaccept.c"
