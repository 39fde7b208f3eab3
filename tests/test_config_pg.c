/* tests/test_config.c, every assertion of it, against connreqd --postgres:
 * each daemon on a database of its own on a cluster the test starts
 * (tests/harness.h, HARNESS_PG). The parsing is the same code either way;
 * what differs is the daemon reading the file at start and on SIGHUP. */
#define HARNESS_PG 1
#include "test_config.c"
