/* client/cmd-info.c: the commands about the daemon and connreq itself:
 * info, clock, help and version; and call, any method by name. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static int cmd_info_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_clock_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_help_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_version_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_call_exec(struct cmd_ctx *, const struct cmd_args *);
static int cmd_call_check(const struct cmd_entry *, const struct cmd_args *);

/* One "label: value" line of info. */
static void info_line(const char *label, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
info_line(const char *label, const char *fmt, ...)
{
	va_list ap;

	printf("%-16s", label);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* The group info shows a key under: its connreqd.conf section, but for
 * [events], whose one key sits with the policy. */
static const char *
pol_group(const struct proto_config_key_info *k)
{
	return strcmp(k->section, "events") == 0 ? "policy" : k->section;
}

/* A policy value as its kind says (a kind guessed from the value for keys
 * this connreq does not know). */
static void
info_policy_value(const msgpack_object *val, enum proto_value_kind kind,
    char *value, size_t len)
{
	const msgpack_object *el;
	double rate;
	size_t off;
	uint32_t j;

	if (val->type == MSGPACK_OBJECT_BOOLEAN)
		snprintf(value, len, "%s", val->via.boolean ? "yes" : "no");
	else if (val->type == MSGPACK_OBJECT_ARRAY) {
		/* A list of durations: "21d, 90d". */
		value[0] = '\0';
		for (j = 0, off = 0; j < val->via.array.size &&
		    off + 24 < len; j++) {
			el = &val->via.array.ptr[j];
			if (j > 0)
				off += (size_t)snprintf(value + off, len - off,
				    ", ");
			if (el->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
				time_put_duration(el->via.u64, value + off,
				    len - off);
			off = strlen(value);
		}
	} else if (val->type == MSGPACK_OBJECT_FLOAT32 ||
	    val->type == MSGPACK_OBJECT_FLOAT64 || kind == PV_RATE) {
		if (num_double(val, &rate))
			rate_put(rate, true, value, len);
		else
			snprintf(value, len, "?");
	} else if (val->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		snprintf(value, len, "?");
	else if (kind == PV_DURATION)
		time_put_duration(val->via.u64, value, len);
	else if (kind == PV_BYTES)
		size_put(val->via.u64, value, len);
	else if (kind == PV_LIMIT)
		limit_put(val->via.u64, value, len);
	else
		snprintf(value, len, "%" PRIu64, val->via.u64);
}

/* "  sends per week                100" */
static void
info_policy_line(const msgpack_object_kv *kv, enum proto_value_kind kind)
{
	char label[64], value[128];
	size_t i, n;

	n = kv->key.via.str.size < sizeof label - 1 ?
	    kv->key.via.str.size : sizeof label - 1;
	memcpy(label, kv->key.via.str.ptr, n);
	label[n] = '\0';
	for (i = 0; i < n; i++)
		if (label[i] == '_' || (unsigned char)label[i] < 0x20 ||
		    label[i] == 0x7f)
			label[i] = ' ';
	info_policy_value(&kv->val, kind, value, sizeof value);
	printf("  %-30s%s\n", label, value);
}

/* The policy map in groups (policy, limits, health, server), durations as
 * "21d", rates as "30%", a limit of 0 as "off"; keys this connreq does
 * not know last, under "other". */
static void
info_policy(const msgpack_object *policy)
{
	static const char *const groups[] = {
		"policy", "limits", "health", "server"
	};
	const msgpack_object_kv *kv;
	enum proto_value_kind kind;
	size_t g, i, n;
	uint32_t k;
	bool known, head;

	if (policy == NULL || policy->type != MSGPACK_OBJECT_MAP)
		return;
	for (g = 0; g < sizeof groups / sizeof groups[0]; g++) {
		head = false;
		for (i = 0; i < PK_COUNT; i++) {
			if (proto_config_keys[i].info_name == NULL ||
			    strcmp(pol_group(&proto_config_keys[i]),
			    groups[g]) != 0)
				continue;
			for (k = 0; k < policy->via.map.size; k++) {
				kv = &policy->via.map.ptr[k];
				if (!proto_obj_is_str(&kv->key,
				    proto_config_keys[i].info_name))
					continue;
				if (!head)
					printf("%s\n", groups[g]);
				head = true;
				info_policy_line(kv, proto_config_keys[i].kind);
				break;
			}
		}
	}
	head = false;
	for (k = 0; k < policy->via.map.size; k++) {
		kv = &policy->via.map.ptr[k];
		if (kv->key.type != MSGPACK_OBJECT_STR)
			continue;
		known = proto_config_key_from_info(kv->key.via.str.ptr,
		    kv->key.via.str.size) != PK_COUNT;
		if (known)
			continue;
		n = kv->key.via.str.size;
		kind = n > 6 && memcmp(kv->key.via.str.ptr + n - 6, "_bytes",
		    6) == 0 ? PV_BYTES : PV_COUNT;
		if (!head)
			printf("other\n");
		head = true;
		info_policy_line(kv, kind);
	}
}

static void
cmd_info_print(struct cmd_ctx *ctx, const struct cmd_args *a,
    const msgpack_object *result)
{
	const msgpack_object *counts, *o;
	const msgpack_object_kv *kv;
	struct text version, path, backend = { NULL, 0 };
	uint64_t protocol, count, size, size_max, conns = 0;
	int64_t now, started, next;
	char date[48], rel[32], s1[32], s2[32];
	bool virt = false;
	uint32_t k;

	(void)a;
	obj_text(result, "version", &version);
	obj_uint(result, "protocol", &protocol);
	obj_int(result, "now", &now);
	obj_int(result, "started_at", &started);
	ctx->now = now;
	ctx->have_now = true;
	if ((o = cr_get(result, "virtual_clock")) != NULL &&
	    o->type == MSGPACK_OBJECT_BOOLEAN)
		virt = o->via.boolean;

	info_line("version", "connreqd %.*s, protocol %" PRIu64,
	    (int)version.n, version.p, protocol);
	time_put_date(now, date, sizeof date);
	info_line("now", "%s", date);
	info_line("virtual clock", "%s", virt ? "yes" : "no");
	time_put_date(started, date, sizeof date);
	time_put_ago(now, started, rel, sizeof rel);
	info_line("started", "%s, %s", date, rel);

	counts = cr_get(result, "counts");
	if (counts != NULL && counts->type == MSGPACK_OBJECT_MAP) {
		printf("%-16s", "invitations");
		for (k = 0; k < counts->via.map.size; k++) {
			kv = &counts->via.map.ptr[k];
			if (kv->key.type != MSGPACK_OBJECT_STR ||
			    kv->val.type != MSGPACK_OBJECT_POSITIVE_INTEGER)
				continue;
			if (proto_obj_is_str(&kv->key, "connections")) {
				conns = kv->val.via.u64;
				continue;
			}
			printf("%s%" PRIu64 " %.*s", k > 0 ? ", " : "",
			    kv->val.via.u64, (int)kv->key.via.str.size,
			    kv->key.via.str.ptr);
		}
		putchar('\n');
		info_line("connections", "%" PRIu64, conns);
	}

	o = cr_get(result, "deadlines");
	if (o != NULL) {
		obj_uint(o, "count", &count);
		if (obj_int(o, "next", &next) && next > 0) {
			time_put_date(next, date, sizeof date);
			time_put_in(now, next, rel, sizeof rel);
			info_line("deadlines", "%" PRIu64 ", next %s (%s)",
			    count, rel, date);
		} else
			info_line("deadlines", "%" PRIu64, count);
	}

	o = cr_get(result, "store");
	if (o != NULL) {
		obj_text(o, "path", &path);
		obj_text(o, "backend", &backend);
		obj_uint(o, "map_size", &size);
		obj_uint(o, "map_size_max", &size_max);
		size_put(size, s1, sizeof s1);
		size_put(size_max, s2, sizeof s2);
		printf("%-16s", "store");
		text_put(stdout, path.p, path.n);
		/* The map is LMDB's; PostgreSQL has none. */
		if (backend.n == 10 && memcmp(backend.p, "postgresql", 10) == 0)
			printf(" (PostgreSQL)\n");
		else
			printf(" (map %s, at most %s)\n", s1, s2);
	}
	info_policy(cr_get(result, "policy"));
}

const struct cmd_entry cmd_info_entry = {
	.name = "info",
	.args_min = 0,
	.args_max = 0,
	.usage = "info",
	.help = "Shows the daemon: its version, its clock and whether the "
	    "clock is virtual, how many invitations are in each state, the "
	    "connections, the deadlines waiting, the store, and the policy in "
	    "force: its rules, the limits on sending (off: none) and the "
	    "health rules that restrict a sender, as in connreqd.conf.",
	.exec = cmd_info_exec
};

static int
cmd_info_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	cr_request(ctx->client, METHOD(SERVER_INFO));
	return call_print(ctx, a, cmd_info_print);
}

static void
cmd_clock_print(struct cmd_ctx *ctx, const struct cmd_args *a,
    const msgpack_object *result)
{
	uint64_t secs;
	int64_t now;
	char date[48], d[32];

	(void)ctx;
	duration_parse(a->argv[1], &secs);	/* checked by the exec */
	obj_int(result, "now", &now);
	time_put_date(now, date, sizeof date);
	time_put_duration(secs, d, sizeof d);
	printf("the clock is now %s (moved %s forward)\n", date, d);
}

const struct cmd_entry cmd_clock_entry = {
	.name = "clock",
	.args_min = 2,
	.args_max = 2,
	.usage = "clock advance DURATION",
	.help = "Moves the daemon's virtual clock forward by DURATION (90s, "
	    "30m, 12h, 21d, 3w) and acts on every deadline that falls due on "
	    "the way: expiries, stale reminders, ends of cooldowns. Only a "
	    "daemon started with --virtual-clock allows it; it is for tests "
	    "and demonstrations.",
	.exec = cmd_clock_exec
};

static int
cmd_clock_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	msgpack_packer *pk;
	uint64_t secs;

	if (strcmp(a->argv[0], "advance") != 0)
		return cmd_usage_error(ctx->entry, "clock: unknown subcommand: %s",
		    a->argv[0]);
	if (duration_parse(a->argv[1], &secs) != 0)
		return cmd_usage_error(ctx->entry, "not a duration (such as "
		    "90s, 30m, 12h, 21d, 3w): %s", a->argv[1]);
	pk = cr_request(ctx->client, METHOD(CLOCK_ADVANCE));
	msgpack_pack_map(pk, 1);
	pk_kuint(pk, "seconds", secs);
	return call_print(ctx, a, cmd_clock_print);
}

const struct cmd_entry cmd_help_entry = {
	.name = "help",
	.args_min = 0,
	.args_max = 1,
	.flags = CMD_OFFLINE,
	.usage = "help [COMMAND]",
	.help = "Lists the commands, or explains COMMAND. `connreq COMMAND "
	    "--help` does the same.",
	.exec = cmd_help_exec
};

static int
cmd_help_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	const struct cmd_entry *e;

	(void)ctx;
	if (a->argc == 0) {
		cmd_put_list(stdout);
		return EXIT_DONE;
	}
	if ((e = cmd_find(a->argv[0])) == NULL)
		return cmd_unknown("help: ", a->argv[0]);
	cmd_put_help(stdout, e);
	return EXIT_DONE;
}

/* backup FILE: store.backup, then server.info until the backup ends. */
static int cmd_backup_exec(struct cmd_ctx *, const struct cmd_args *);

const struct cmd_entry cmd_backup_entry = {
	.name = "backup",
	.args_min = 1,
	.args_max = 1,
	.usage = "backup FILE",
	.help = "Writes a consistent, compacted copy of the store to FILE, a "
	    "new file (relative to this directory), while connreqd keeps "
	    "serving, and waits for it to end: the copy holds every write "
	    "answered before it began. To restore: stop connreqd, move the "
	    "old store directory aside, put the file as data.mdb in a new, "
	    "empty store directory, connreqd --check it, and start connreqd "
	    "on it. A PostgreSQL store is backed up with the database's own "
	    "tools (pg_basebackup, pg_dump).",
	.exec = cmd_backup_exec
};

/* server.info names a backup other than this one's: a later one began,
 * so this one had ended (one runs at a time), and its end is not there to
 * read. A backup is renamed into place whole once done: path there, it
 * was done; else it failed. */
static int
backup_hidden(struct cmd_ctx *ctx, const char *path, const msgpack_object *b)
{
	struct text other = { "none", 4 };
	struct stat st;
	char size[32];

	if (b != NULL && b->type == MSGPACK_OBJECT_MAP)
		obj_text(b, "path", &other);
	if (stat(path, &st) == -1) {
		fprintf(stderr,
		    "connreq: backup to %s failed: server.info names a later backup (to %.*s), and %s is not there\n",
		    path, (int)other.n, other.p, path);
		return EXIT_REFUSED;
	}
	if (ctx->json) {
		msgpack_sbuffer sb;
		msgpack_packer pk;
		msgpack_unpacked u;

		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		msgpack_pack_map(&pk, 3);
		pk_kstr(&pk, "state", proto_backup_state_words[PBACKUP_DONE]);
		pk_kstr(&pk, "path", path);
		pk_str(&pk, "bytes");
		msgpack_pack_uint64(&pk, (uint64_t)st.st_size);
		msgpack_unpacked_init(&u);
		msgpack_unpack_next(&u, sb.data, sb.size, NULL);
		cr_json_print(stdout, &u.data);
		putchar('\n');
		msgpack_unpacked_destroy(&u);
		msgpack_sbuffer_destroy(&sb);
	} else {
		size_put((uint64_t)st.st_size, size, sizeof size);
		printf("backup: %s, %s (its end was not seen: server.info names a later backup, to %.*s)\n",
		    path, size, (int)other.n, other.p);
	}
	return EXIT_DONE;
}

static int
cmd_backup_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	const struct timespec tick = { 0, 50 * 1000 * 1000 };
	const msgpack_object *b = NULL;
	char path[4096], cwd[4096], size[32];
	struct text state, error, bpath;
	struct cr_reply r;
	msgpack_packer *pk;
	int64_t took = 0;
	int rc;

	if (a->argv[0][0] == '/')
		snprintf(path, sizeof path, "%s", a->argv[0]);
	else if (getcwd(cwd, sizeof cwd) == NULL ||
	    snprintf(path, sizeof path, "%s/%s", cwd, a->argv[0]) >=
	    (int)sizeof path)
		return cmd_usage_error(ctx->entry, "cannot make %s absolute",
		    a->argv[0]);
	pk = cr_request(ctx->client, METHOD(STORE_BACKUP));
	msgpack_pack_map(pk, 1);
	pk_kstr(pk, "path", path);
	if ((rc = call_finish(ctx, &r)) != 0)
		return rc;
	cr_reply_free(&r);
	/* Until server.info says this backup ended. */
	for (;;) {
		cr_request(ctx->client, METHOD(SERVER_INFO));
		if ((rc = call_finish(ctx, &r)) != 0)
			return rc;
		b = cr_get(r.result, "backup");
		if (b == NULL || b->type != MSGPACK_OBJECT_MAP ||
		    !obj_text(b, "path", &bpath) || !text_is(bpath, path)) {
			/* Another backup began after this one ended. */
			rc = backup_hidden(ctx, path, b);
			cr_reply_free(&r);
			return rc;
		}
		if (obj_text(b, "state", &state) &&
		    !text_is(state, proto_backup_state_words[PBACKUP_RUNNING]))
			break;
		cr_reply_free(&r);
		nanosleep(&tick, NULL);
	}
	if (ctx->json) {
		cr_json_print(stdout, b);
		putchar('\n');
	} else if (text_is(state, proto_backup_state_words[PBACKUP_DONE])) {
		uint64_t bytes = 0;

		obj_uint(b, "bytes", &bytes);
		obj_int(b, "took_ms", &took);
		size_put(bytes, size, sizeof size);
		printf("backup: %s, %s, in %.1f s\n", path, size,
		    (double)took / 1000);
	}
	if (!text_is(state, proto_backup_state_words[PBACKUP_DONE])) {
		if (!obj_text(b, "error", &error))
			error = (struct text){ "failed", 6 };
		fprintf(stderr, "connreq: backup to %s failed: %.*s\n", path,
		    (int)error.n, error.p);
		cr_reply_free(&r);
		return EXIT_REFUSED;
	}
	cr_reply_free(&r);
	return EXIT_DONE;
}

/* metrics: server.metrics, its text as it is. */
static int cmd_metrics_exec(struct cmd_ctx *, const struct cmd_args *);

const struct cmd_entry cmd_metrics_entry = {
	.name = "metrics",
	.args_min = 0,
	.args_max = 0,
	.usage = "metrics",
	.help = "Prints what connreqd counts, in Prometheus' text format, as "
	    "its [metrics] listener serves it at /metrics: requests by method "
	    "and code, their latency, batch sizes, clients, subscribers, "
	    "pending invitations, the next deadline and the store's map.",
	.exec = cmd_metrics_exec
};

static void
cmd_metrics_print(struct cmd_ctx *ctx, const struct cmd_args *a,
    const msgpack_object *result)
{
	struct text t;

	(void)ctx;
	(void)a;
	if (obj_text(result, "text", &t))
		fwrite(t.p, 1, t.n, stdout);
}

static int
cmd_metrics_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	cr_request(ctx->client, METHOD(SERVER_METRICS));
	return call_print(ctx, a, cmd_metrics_print);
}

static void
version_put(const char *prog, struct text version, int64_t protocol)
{
	printf("%s %.*s (protocol %" PRId64 ")\n", prog, (int)version.n,
	    version.p, protocol);
}

const struct cmd_entry cmd_version_entry = {
	.name = "version",
	.args_min = 0,
	.args_max = 0,
	.flags = CMD_TRY_DAEMON,
	.usage = "version",
	.help = "Prints the version of connreq and of the protocol it speaks, "
	    "then those of connreqd when it can be reached (otherwise why it "
	    "cannot, on stderr; the exit status is still 0). With --json: "
	    "{\"connreq\": {version, protocol}, \"connreqd\": {version, "
	    "protocol, server} or null}. `connreq --version` does the same.",
	.exec = cmd_version_exec
};

static int
cmd_version_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	struct text mine = { CONNREQ_VERSION, strlen(CONNREQ_VERSION) }, v;
	const char *why = ctx->connect_err;
	struct cr_reply r;
	bool have = false, asked = false;
	int64_t protocol = 0;

	(void)a;
	if (ctx->client != NULL) {
		cr_request(ctx->client, METHOD(HELLO));
		asked = true;
		if (cr_finish(ctx->client, &r) == -1)
			why = cr_strerror(ctx->client);
		else if (r.error != NULL)
			why = r.message;
		else
			have = obj_text(r.result, "version", &v) &&
			    obj_int(r.result, "protocol", &protocol);
	}
	if (ctx->json) {
		printf("{\"connreq\":{\"version\":\"%s\",\"protocol\":%d},"
		    "\"connreqd\":", CONNREQ_VERSION, PROTO_VERSION);
		if (have)
			cr_json_print(stdout, r.result);
		else
			fputs("null", stdout);
		puts("}");
	} else {
		version_put("connreq", mine, PROTO_VERSION);
		if (have)
			version_put("connreqd", v, protocol);
	}
	if (!have)
		fprintf(stderr, "connreq: no version of connreqd: %s\n",
		    why != NULL ? why : "an unexpected reply");
	if (asked)
		cr_reply_free(&r);
	return EXIT_DONE;
}

const struct cmd_entry cmd_call_entry = {
	.name = "call",
	.args_min = 1,
	.args_max = 2,
	.usage = "call METHOD [JSON]",
	.help = "Calls any method of connreqd (connreq-protocol(7) lists them) "
	    "with JSON, a JSON object of its arguments (default {}), and "
	    "prints the result map as one line of JSON. Strings may hold any "
	    "bytes, NUL too; integers stay integers. A refusal is "
	    "reported on stderr with its code, and the exit status is as for "
	    "any command: 1 for a rule or an unknown method (with the method "
	    "it may mean: send, invite.send), 2 for JSON that is not an "
	    "object or an argument connreqd finds bad. For example "
	    "`connreq call invite.get '{\"id\": 1}'`.",
	.exec = cmd_call_exec,
	.check = cmd_call_check
};

/* Packs call's JSON argument into sb (initialised here; the caller
 * destroys it). 0, or the exit status of a usage error (reported). */
static int
call_pack_args(const struct cmd_entry *e, const struct cmd_args *a,
    msgpack_sbuffer *sb)
{
	const char *json = a->argc > 1 ? a->argv[1] : "{}", *s;
	msgpack_packer pk;
	char err[128];

	msgpack_sbuffer_init(sb);
	for (s = json; *s == ' ' || *s == '\t' || *s == '\n' || *s == '\r';
	    s++)
		;
	if (*s != '{')
		return cmd_usage_error(e, "call: the arguments are not a JSON "
		    "object: %s", json);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	if (cr_json_pack(&pk, json, strlen(json), err, sizeof err) != 0)
		return cmd_usage_error(e, "call: not JSON: %s", err);
	return 0;
}

/* Bad JSON is a usage error before connecting. */
static int
cmd_call_check(const struct cmd_entry *e, const struct cmd_args *a)
{
	msgpack_sbuffer sb;
	int rc;

	rc = call_pack_args(e, a, &sb);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

static int
cmd_call_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	msgpack_sbuffer sb;
	msgpack_packer *out;
	struct cr_reply r;
	int rc;

	/* Packed aside, then copied in after the method's name. */
	if ((rc = call_pack_args(ctx->entry, a, &sb)) != 0) {
		msgpack_sbuffer_destroy(&sb);
		return rc;
	}
	out = cr_request(ctx->client, a->argv[0]);
	out->callback(out->data, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	if ((rc = call_finish_unless(ctx, &r, PE_UNKNOWN_METHOD)) != 0)
		return rc;
	if (r.error != NULL) {
		const char *near = method_near(a->argv[0]);

		call_refused(ctx, &r);
		if (near != NULL)
			fprintf(stderr, "connreq: did you mean '%s'? "
			    "connreq-protocol(7) lists the methods\n", near);
		else
			fputs("connreq: connreq-protocol(7) lists the "
			    "methods\n", stderr);
		cr_reply_free(&r);
		return EXIT_REFUSED;
	}
	cr_json_print(stdout, r.result);
	putchar('\n');
	cr_reply_free(&r);
	return EXIT_DONE;
}

/* export MEMBER: member.export as JSON. */
static int cmd_export_exec(struct cmd_ctx *, const struct cmd_args *);

const struct cmd_entry cmd_export_entry = {
	.name = "export",
	.args_min = 1,
	.args_max = 1,
	.usage = "export MEMBER",
	.help = "Prints everything connreqd keeps about MEMBER as one JSON "
	    "document, each part as MEMBER may see it: invitations sent and "
	    "received, connections, blocks MEMBER made, the auto-accept list, "
	    "settings, stats, introductions, plans and the events still kept "
	    "(for a data access request). Lists hold at most their 10,000 "
	    "newest items; truncated names any that had more.",
	.exec = cmd_export_exec
};

static int
cmd_export_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	msgpack_packer *pk;

	pk = cr_request(ctx->client, METHOD(MEMBER_EXPORT));
	msgpack_pack_map(pk, 1);
	pk_kstr(pk, "member", a->argv[0]);
	return call_print_json(ctx);
}

/* erase --yes MEMBER: member.erase. */
static int cmd_erase_check(const struct cmd_entry *, const struct cmd_args *);
static int cmd_erase_exec(struct cmd_ctx *, const struct cmd_args *);

const struct cmd_entry cmd_erase_entry = {
	.name = "erase",
	.args_min = 1,
	.args_max = 1,
	.opts = OPT_BIT(OPT_YES),
	.usage = "erase --yes MEMBER",
	.help = "Removes MEMBER for good (an account deletion): invitations "
	    "both ways, connections, introductions, plans, settings, logs, "
	    "blocks and reports MEMBER made, and every kept event that names "
	    "MEMBER (each left in the all feed as event.erased); then "
	    "member.erased is written to the all feed so that mirrors can "
	    "follow. Blocks other members made of MEMBER stay theirs. It "
	    "cannot take back what subscribers already received. Without "
	    "--yes it erases nothing.",
	.exec = cmd_erase_exec,
	.check = cmd_erase_check
};

static int
cmd_erase_check(const struct cmd_entry *e, const struct cmd_args *a)
{
	if (a->opt[OPT_YES] == NULL)
		return cmd_usage_error(e, "erase removes %s for good: give "
		    "--yes to do it", a->argv[0]);
	return 0;
}

static int
cmd_erase_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	const msgpack_object *res;
	struct cr_reply r;
	msgpack_packer *pk;
	int rc;

	pk = cr_request(ctx->client, METHOD(MEMBER_ERASE));
	msgpack_pack_map(pk, 1);
	pk_kstr(pk, "member", a->argv[0]);
	if ((rc = call_finish(ctx, &r)) != 0)
		return rc;
	res = r.result;
	if (ctx->json) {
		cr_json_print(stdout, res);
		putchar('\n');
	} else {
		static const char *const parts[][2] = {
			{ "invitations", "invitation" },
			{ "connections", "connection" },
			{ "introductions", "introduction" },
			{ "plans", "plan" },
			{ "events", "event" },
		};
		uint64_t n;
		size_t i;

		printf("erased %s:", a->argv[0]);
		for (i = 0; i < sizeof parts / sizeof parts[0]; i++) {
			obj_uint(res, parts[i][0], &n);
			printf("%s %llu %s", i ? "," : "", (unsigned long long)n,
			    n == 1 ? parts[i][1] : parts[i][0]);
		}
		putchar('\n');
	}
	cr_reply_free(&r);
	return EXIT_DONE;
}
