/* The erase test of deadlines and batches (tests/test_erase_more.c) on connreqd --postgres. */
#define HARNESS_PG 1
#include "test_erase_more.c"
