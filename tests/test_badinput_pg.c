/* tests/test_badinput.c, every assertion of it, against connreqd --postgres:
 * each daemon on a database of its own on a cluster the test starts
 * (tests/harness.h, HARNESS_PG). */
#define HARNESS_PG 1
#include "test_badinput.c"
