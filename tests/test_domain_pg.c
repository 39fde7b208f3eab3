/* The domain's test (tests/test_domain.c), every assertion of it, on the
 * PostgreSQL store backend: each store a new database on a cluster the test
 * starts (tests/domain.h, DOMAIN_PG). What the domain writes through
 * store.h must mean the same on both backends, the database's own
 * constraints (one pending invitation a pair) included. */
#define DOMAIN_PG 1
#include "test_domain.c"
