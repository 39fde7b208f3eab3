/* Introductions (tests/test_intro.c), every assertion of it, on the
 * PostgreSQL store backend: each store a new database on a cluster the
 * test starts (tests/domain.h, DOMAIN_PG). */
#define DOMAIN_PG 1
#include "test_intro.c"
