/* The erase feed test (tests/test_erase_feed.c) on connreqd --postgres. */
#define HARNESS_PG 1
#include "test_erase_feed.c"
