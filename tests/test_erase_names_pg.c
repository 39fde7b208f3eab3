/* The hostile-ids erase test (tests/test_erase_names.c) on connreqd --postgres. */
#define HARNESS_PG 1
#include "test_erase_names.c"
