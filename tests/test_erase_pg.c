/* The erase test (tests/test_erase.c) on connreqd --postgres. */
#define HARNESS_PG 1
#include "test_erase.c"
