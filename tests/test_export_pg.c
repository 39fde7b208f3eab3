/* The export test (tests/test_export.c) on connreqd --postgres. */
#define HARNESS_PG 1
#include "test_export.c"
