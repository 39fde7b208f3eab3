/* The end-to-end test (tests/test_e2e.c), its assertions, against connreqd
 * --postgres: each daemon on a database of its own on a PostgreSQL cluster
 * the test starts (tests/harness.h, HARNESS_PG). What is LMDB's alone (a
 * full map) stays in test_e2e.c, saying why. */
#define HARNESS_PG 1
#include "test_e2e.c"
