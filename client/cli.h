/* client/cli.h: what the files of connreq, the command-line client, share.
 *
 * As in tmux, each command is a struct cmd_entry beside the function that
 * runs it, in a cmd-*.c file: cmd-invitations.c, cmd-members.c,
 * cmd-plans.c, cmd-intros.c, cmd-info.c and cmd-watch.c. cli.c holds the table of them,
 * main() and the argument parsing, and what the commands share to talk to
 * connreqd; cli-out.c the output helpers: text, times, reading results,
 * tables, colour, JSON. */
#ifndef CONNREQ_CLI_H
#define CONNREQ_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../common/util.h"
#include "../proto/proto.h"
#include "../proto/vocab.h"
#include "connreq.h"

/* A method's name on the wire, from the vocabulary: METHOD(INVITE_SEND). */
#define METHOD(id) (proto_method_names[PM_##id])

#define EXIT_DONE 0
#define EXIT_REFUSED 1
#define EXIT_USAGE 2
#define EXIT_UNREACHABLE 3
#define EXIT_UNAVAILABLE 4	/* connreqd answers, its database does not */

#define CMD_ARGS_MAX 3

/* The options commands take; all take a value but the flags in
 * OPTS_FLAG. */
enum opt {
	OPT_NOTE,
	OPT_PRIORITY,
	OPT_AS,
	OPT_STATE,
	OPT_OLDER_THAN,
	OPT_LIMIT,
	OPT_AFTER,
	OPT_EXEC,
	OPT_ALL,
	OPT_EMAIL,
	OPT_EXPIRES_IN,
	OPT_WINDOW,
	OPT_PER_DAY,
	OPT_MAX_PRIORITY,
	OPT_FROM,
	OPT_REASON,
	OPT_TELL,
	OPT_ASKED,
	OPT_AUTO_MIN_MUTUAL,
	OPT_AUTO_FOR,
	OPT_HOLD_NO_MUTUAL,
	OPT_HOLD_LOW_HEALTH,
	OPT_HOLD_RESTRICTED_DAYS,
	OPT_HOLD_NEW_MEMBER_DAYS,
	OPT_DIGEST,
	OPT_YES,
	OPT_COUNT
};
#define OPT_BIT(o) (1u << (o))
#define OPTS_LIST (OPT_BIT(OPT_STATE) | OPT_BIT(OPT_PRIORITY) | \
    OPT_BIT(OPT_OLDER_THAN) | OPT_BIT(OPT_LIMIT) | OPT_BIT(OPT_AFTER))
#define OPTS_FLAG (OPT_BIT(OPT_ALL) | OPT_BIT(OPT_TELL) | \
    OPT_BIT(OPT_ASKED) | OPT_BIT(OPT_YES))		/* given or not; opt[] is "" */

/* Their names, without the "--". */
extern const char *const opt_names[OPT_COUNT];

/* A command line, parsed against its entry. */
struct cmd_args {
	int argc;
	const char *argv[CMD_ARGS_MAX];
	const char *opt[OPT_COUNT];	/* NULL: not given */
	uint64_t older_than;		/* --older-than, in seconds */
	uint64_t limit;			/* --limit */
	uint64_t expires_in;		/* --expires-in, in seconds */
	uint64_t window;		/* --window, in seconds */
	uint64_t per_day;		/* --per-day */
	uint64_t auto_min_mutual;	/* --auto-min-mutual */
	uint64_t auto_for;		/* --auto-for, in seconds (0: no end) */
	uint64_t digest;		/* --digest, in seconds (off: 0) */
};

struct cmd_ctx;

#define CMD_OFFLINE 0x1		/* needs no daemon */
#define CMD_TRY_DAEMON 0x2	/* runs without the daemon too: client NULL */

struct cmd_entry {
	const char *name;
	int args_min;
	int args_max;
	unsigned opts;		/* OPT_BIT()s */
	int flags;
	const char *usage;	/* after "connreq " */
	const char *help;	/* one paragraph */
	int (*exec)(struct cmd_ctx *, const struct cmd_args *);
	/* Optional: checks the arguments before connecting; 0 or the exit
	 * status of a usage error (reported). */
	int (*check)(const struct cmd_entry *, const struct cmd_args *);
};

/* What a command prints of a result map, as text. */
typedef void cmd_print_fn(struct cmd_ctx *, const struct cmd_args *,
    const msgpack_object *);

/* The state of one run. */
struct cmd_ctx {
	const struct cmd_entry *entry;
	struct cr_client *client;
	const char *socket;		/* the socket used */
	const char *socket_flag;	/* -s SOCKET, as given; NULL: none */
	bool json;
	bool have_now;
	int64_t now;			/* the daemon's clock */
	bool have_info;
	struct cr_reply info;		/* server.info, asked once */
	const char *sender;		/* who sends, for hints; NULL: none */
	const char *connect_err;	/* CMD_TRY_DAEMON: why client is NULL */
};

/* A string in a reply: not NUL-terminated. */
struct text {
	const char *p;
	size_t n;
};

/* An invitation as the daemon returns it. */
struct inv_view {
	uint64_t id;
	uint64_t resend_of;	/* 0: none */
	uint64_t attempt;
	struct text from, to, note, priority, state;
	int64_t created_at, updated_at, expires_at, reminded_at;
	bool automatic;		/* accepted by auto-accept rules */
	bool has_mutual;	/* the recipient's view: mutual_count */
	uint64_t mutual_count;
};

/* Rows of cells, printed in aligned columns. */
struct table {
	size_t ncols;
	size_t fit_min;		/* the last column keeps this much (0: 8) */
	bool fit_always;	/* fit even when not on a terminal */
	unsigned names;		/* bits of the columns of member ids, cut
				 * to fit as needed (TABLE_NAME_MIN) */
	size_t state_col;	/* 1 + the column of states, coloured on a
				 * terminal (state_colour()); 0: none */
	bool wrapped;		/* set by table_print: the last column went
				 * on lines of its own */
	char **cell;		/* row by row, the header first */
	size_t ncells, cap;
};

/* The commands, in the cmd-*.c files; cli.c lists them. */
extern const struct cmd_entry cmd_send_entry;
extern const struct cmd_entry cmd_can_send_entry;
extern const struct cmd_entry cmd_accept_entry;
extern const struct cmd_entry cmd_ignore_entry;
extern const struct cmd_entry cmd_unignore_entry;
extern const struct cmd_entry cmd_ignored_entry;
extern const struct cmd_entry cmd_held_entry;
extern const struct cmd_entry cmd_withdraw_entry;
extern const struct cmd_entry cmd_resend_entry;
extern const struct cmd_entry cmd_report_entry;
extern const struct cmd_entry cmd_show_entry;
extern const struct cmd_entry cmd_sent_entry;
extern const struct cmd_entry cmd_received_entry;
extern const struct cmd_entry cmd_history_entry;
extern const struct cmd_entry cmd_advise_entry;
extern const struct cmd_entry cmd_cleanup_entry;
extern const struct cmd_entry cmd_plans_entry;
extern const struct cmd_entry cmd_plan_cancel_entry;
extern const struct cmd_entry cmd_intro_ask_entry;
extern const struct cmd_entry cmd_intro_forward_entry;
extern const struct cmd_entry cmd_intro_decline_entry;
extern const struct cmd_entry cmd_intros_entry;
extern const struct cmd_entry cmd_stats_entry;
extern const struct cmd_entry cmd_connections_entry;
extern const struct cmd_entry cmd_mutual_entry;
extern const struct cmd_entry cmd_auto_accept_entry;
extern const struct cmd_entry cmd_no_auto_accept_entry;
extern const struct cmd_entry cmd_backup_entry;
extern const struct cmd_entry cmd_metrics_entry;
extern const struct cmd_entry cmd_export_entry;
extern const struct cmd_entry cmd_erase_entry;
extern const struct cmd_entry cmd_disconnect_entry;
extern const struct cmd_entry cmd_block_entry;
extern const struct cmd_entry cmd_unblock_entry;
extern const struct cmd_entry cmd_settings_entry;
extern const struct cmd_entry cmd_info_entry;
extern const struct cmd_entry cmd_clock_entry;
extern const struct cmd_entry cmd_watch_entry;
extern const struct cmd_entry cmd_help_entry;
extern const struct cmd_entry cmd_version_entry;
extern const struct cmd_entry cmd_call_entry;
extern const struct cmd_entry cmd_import_entry;

/* cli.c: the command line. */
const struct cmd_entry *cmd_find(const char *name);
int cmd_unknown(const char *what, const char *name);
const char *method_near(const char *name);
void cmd_put_help(FILE *f, const struct cmd_entry *e);
void cmd_put_list(FILE *f);
int cmd_usage_error(const struct cmd_entry *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
bool parse_number(const char *s, uint64_t *v);
int cmd_id(const struct cmd_entry *e, const char *s, uint64_t *id);

/* cli.c: talking to connreqd. */
void call_hint(const struct cmd_ctx *ctx, const char *code);
void call_refused(struct cmd_ctx *ctx, const struct cr_reply *r);
int call_exit_status(const char *code);
int call_finish(struct cmd_ctx *ctx, struct cr_reply *r);
int call_finish_unless(struct cmd_ctx *ctx, struct cr_reply *r,
    enum proto_code code);
int call_print(struct cmd_ctx *ctx, const struct cmd_args *a,
    cmd_print_fn *print);
int call_print_json(struct cmd_ctx *ctx);
int64_t ctx_now(struct cmd_ctx *ctx);
bool ctx_policy(struct cmd_ctx *ctx, const char *key, uint64_t *v);

/* cli-out.c: text. */
void text_put(FILE *f, const char *s, size_t n);
void text_put_shell(FILE *f, const char *s);
void text_put_wrapped(FILE *f, const char *text, int indent);
void text_put_usage(FILE *f, const char *prefix, const char *usage);
void ev_printf(const char *fmt, ...);
void hint_connreq(FILE *f, const struct cmd_ctx *ctx);

/* cli-out.c: times, sizes, rates, limits. */
void time_use_local(void);
void time_put_date(int64_t t, char *buf, size_t n);
void time_put_stamp(int64_t t, char *buf, size_t n);
void time_put_ago(int64_t now, int64_t t, char *buf, size_t n);
void time_put_in(int64_t now, int64_t t, char *buf, size_t n);
void time_put_duration(uint64_t secs, char *buf, size_t n);
void size_put(uint64_t v, char *buf, size_t n);
bool use_colour(void);
const char *state_colour(const char *s, size_t n);
void rate_put(double r, bool precise, char *buf, size_t n);
void limit_put(uint64_t v, char *buf, size_t n);

/* cli-out.c: reading results. */
bool obj_text(const msgpack_object *map, const char *key, struct text *t);
bool obj_int(const msgpack_object *map, const char *key, int64_t *v);
bool obj_uint(const msgpack_object *map, const char *key, uint64_t *v);
bool num_double(const msgpack_object *o, double *v);
bool obj_double(const msgpack_object *map, const char *key, double *v);
const msgpack_object *obj_items(const msgpack_object *result);
bool text_is(struct text t, const char *s);
void inv_read(const msgpack_object *o, struct inv_view *v);

/* cli-out.c: tables. */
void table_init(struct table *t, size_t ncols, const char *const *head);
void table_add(struct table *t, const char *s, size_t n, size_t max);
void table_addf(struct table *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void table_print(struct table *t);
void table_free(struct table *t);
void quota_table_init(struct table *t);
void quota_row(struct table *t, const char *label, uint64_t used,
    uint64_t limit, const char *note);
void quota_rows(struct table *t, const msgpack_object *q, uint64_t pending);

/* cli-out.c: JSON. */
bool out_json(struct cmd_ctx *ctx, const struct cr_reply *r);

#endif
