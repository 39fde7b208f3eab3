/* The safe-retry test (tests/test_retry.c) against connreqd --postgres on
 * a database of a PostgreSQL cluster the test starts (tests/harness.h,
 * HARNESS_PG), with a race of two daemons given one id and the prune of
 * a backlog (the requests table counted in SQL). */
#define HARNESS_PG 1
#include "test_retry.c"
