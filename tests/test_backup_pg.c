/* The backup test (tests/test_backup.c) against connreqd --postgres: the
 * method refuses, pointing to the database's own tools. */
#define HARNESS_PG 1
#include "test_backup.c"
