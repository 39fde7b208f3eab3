/* tests/test_events.c, every assertion of it, against connreqd --postgres:
 * each daemon on a database of its own on a cluster the test starts
 * (tests/harness.h, HARNESS_PG). The flood of the subscriber that does not
 * read is 4,000 sends, not 100,000: PostgreSQL takes about 2 ms a send here
 * (100,000 would take minutes), and the reminders of that many invitations,
 * due at once after the retention test's 31-day jump, would not drain
 * within WAIT_MS before the next assertion. What the flood bounds (the
 * daemon's memory for a subscriber that does not read) is the server's,
 * not the store's: test_events holds it at 100,000. */
#define HARNESS_PG 1
#define FLOOD 4000
#include "test_events.c"
