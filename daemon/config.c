/* daemon/config.c: see config.h. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ini.h>

#include "../common/util.h"
#include "../proto/proto.h"
#include "../proto/vocab.h"
#include "metrics.h"

/* Where each key of proto/vocab.h's PROTO_CONFIG_KEYS goes in struct
 * config, and its bounds; its section, name and kind are the vocabulary's. */
struct key {
	size_t offset;
	uint64_t min, max;
	size_t count;		/* DURATIONS: where their number goes */
};

#define OFF(field) offsetof(struct config, field)
#define POL(field) (offsetof(struct config, policy) + \
	offsetof(struct policy, field))
#define DAYS(n) ((uint64_t)(n) * 86400)

static const struct key keys[PK_COUNT] = {
	[PK_SOCKET] = { OFF(socket), 0, 0 },
	[PK_MAX_CLIENTS] = { OFF(max_clients), 1, 100000 },
	[PK_MAX_MESSAGE_BYTES] = { OFF(max_message_bytes), 1024, 16u << 20 },
	[PK_READ_TIMEOUT] = { OFF(read_timeout), 1, 3600 },
	[PK_STORE_PATH] = { OFF(store_path), 0, 0 },
	[PK_POSTGRES] = { OFF(postgres), 0, 0 },
	[PK_METRICS_LISTEN] = { OFF(metrics_listen), 0, 0 },
	[PK_MAP_SIZE_MAX] = { OFF(map_size_max), 1u << 16, UINT64_C(1) << 44 },
	[PK_EXPIRE_AFTER] = { POL(expire_after), 60, DAYS(3650) },
	[PK_MAX_EXPIRE_AFTER] = { POL(max_expire_after), 60, DAYS(3650) },
	[PK_STALE_AFTER] = { POL(stale_after), 60, DAYS(3650) },
	[PK_RECIPIENT_REMIND_AFTER] = { POL(recipient_remind_after), 0,
	    DAYS(3650) },
	[PK_DIGEST_EVERY] = { POL(digest_every), 0, DAYS(365) },
	[PK_RESEND_COOLDOWN] = { POL(resend_cooldown), 0, DAYS(3650),
	    POL(resend_cooldowns) },
	[PK_NOTE_MAX_CHARS] = { POL(note_max_chars), 0, 1000 },
	[PK_NOTIFY_RECIPIENT_ON_WITHDRAW] = {
	    POL(notify_recipient_on_withdraw), 0, 1 },
	[PK_MUTUAL_INVITE_CONNECTS] = { POL(mutual_invite_connects), 0, 1 },
	[PK_EVENTS_RETENTION] = { POL(events_retention), 3600, DAYS(3650) },
	[PK_SENDS_PER_WEEK] = { POL(sends_per_week), 0, UINT32_MAX },
	[PK_SENDS_PER_DAY] = { POL(sends_per_day), 0, UINT32_MAX },
	[PK_PENDING_WARN] = { POL(pending_warn), 0, UINT32_MAX },
	[PK_PENDING_MAX] = { POL(pending_max), 0, UINT32_MAX },
	[PK_INVITES_PER_PAIR] = { POL(invites_per_pair), 0, UINT32_MAX },
	[PK_PAIR_WINDOW] = { POL(pair_window), 60, DAYS(3650) },
	[PK_WITHDRAWALS_PER_DAY] = { POL(withdrawals_per_day), 0, UINT32_MAX },
	[PK_DUPLICATE_NOTE_WARN] = { POL(duplicate_note_warn), 0, UINT32_MAX },
	[PK_HEALTHY_RATE] = { POL(healthy_rate), 0, 1 },
	[PK_RESTRICT_BELOW_RATE] = { POL(restrict_below_rate), 0, 1 },
	[PK_RESTRICT_MIN_DECIDED] = { POL(restrict_min_decided), 1, 100000 },
	[PK_REPORTS_TO_RESTRICT] = { POL(reports_to_restrict), 0, UINT32_MAX },
	[PK_REPORTS_WINDOW] = { POL(reports_window), 60, DAYS(3650) },
	[PK_RESTRICT_FOR] = { POL(restrict_for), 60, DAYS(3650),
	    POL(restrict_fors) },
	[PK_RESTRICT_WINDOW] = { POL(restrict_window), 60, DAYS(3650) },
	[PK_HOLD_NO_MUTUAL] = { POL(hold.no_mutual), 0, 1 },
	[PK_HOLD_LOW_HEALTH] = { POL(hold.low_health), 0, 1 },
	[PK_HOLD_RESTRICTED_DAYS] = { POL(hold.restricted_days), 0,
	    HOLD_DAYS_MAX },
	[PK_HOLD_NEW_MEMBER_DAYS] = { POL(hold.new_days), 0, HOLD_DAYS_MAX },
	[PK_REQUEST_ID_RETENTION] = { POL(request_id_retention), 60,
	    DAYS(30) },
};

struct load {
	struct config *c;
	char why[256];
	bool seen[PK_COUNT];
};

void
config_defaults(struct config *c)
{
	memset(c, 0, sizeof *c);
	c->max_clients = 1024;
	c->max_message_bytes = 65536;
	c->read_timeout = 30;
	c->map_size_max = UINT64_C(64) << 30;
	policy_defaults(&c->policy);
}

void
config_free(struct config *c)
{
	free(c->socket);
	free(c->store_path);
	free(c->postgres);
	free(c->metrics_listen);
	c->socket = c->store_path = c->postgres = c->metrics_listen = NULL;
}

char *
config_default_path(void)
{
	const char *x = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char buf[4096];

	if (x != NULL && x[0] == '/')
		snprintf(buf, sizeof buf, "%s/connreq/connreqd.conf", x);
	else
		snprintf(buf, sizeof buf, "%s/.config/connreq/connreqd.conf",
		    home != NULL && home[0] == '/' ? home : "/nonexistent");
	return xstrndup(buf, strlen(buf));
}

static int
parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };
	size_t i;

	for (i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}


/* A duration with a unit (s, m, h, d, w): months and years are ambiguous
 * and refused, and so is a bare number. */
static int
parse_duration(const char *v, uint64_t *out)
{
	size_t n = strlen(v);

	if (n < 2 || strchr("smhdw", v[n - 1]) == NULL)
		return -1;
	return duration_parse(v, out);
}

static int
load_fail(struct load *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
load_fail(struct load *l, const char *fmt, ...)
{
	va_list ap;

	if (l->why[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(l->why, sizeof l->why, fmt, ap);
		va_end(ap);
	}
	return 0;	/* inih: an error on this line */
}

/* A list of durations that may only grow, the last one repeating
 * (resend_cooldown, restrict_for). */
static int
load_durations(struct load *l, const struct key *k, const char *name,
    const char *value, char *base)
{
	char buf[256], *tok, *save = NULL;
	uint64_t d, *to = (uint64_t *)(base + k->offset);
	unsigned n = 0;

	snprintf(buf, sizeof buf, "%s", value);
	for (tok = strtok_r(buf, ", ", &save); tok != NULL;
	    tok = strtok_r(NULL, ", ", &save)) {
		if (n == POLICY_COOLDOWNS_MAX)
			return load_fail(l, "%s: at most %d durations", name,
			    POLICY_COOLDOWNS_MAX);
		if (parse_duration(tok, &d) == -1 || d > k->max)
			return load_fail(l, "%s: not a duration like 21d or 3w: %s",
			    name, tok);
		if (d < k->min)
			return load_fail(l, "%s: %s is out of range", name, tok);
		if (n > 0 && d < to[n - 1])
			return load_fail(l, "%s: durations may only grow: %s",
			    name, value);
		to[n++] = d;
	}
	if (n == 0)
		return load_fail(l, "%s: give one or more durations", name);
	*(unsigned *)(base + k->count) = n;
	return 1;
}

static int
load_key(void *user, const char *section, const char *name, const char *value)
{
	struct load *l = user;
	const struct proto_config_key_info *ki;
	const struct key *k = NULL;
	char *base = (char *)l->c;
	uint64_t v = 0;
	bool b;
	size_t i;

	if (l->why[0] != '\0')
		return 1;	/* report the first error only */
	for (i = 0; i < PK_COUNT; i++)
		if (strcmp(proto_config_keys[i].section, section) == 0 &&
		    strcmp(proto_config_keys[i].name, name) == 0) {
			k = &keys[i];
			break;
		}
	if (k == NULL) {
		for (i = 0; i < PK_COUNT; i++)
			if (strcmp(proto_config_keys[i].section, section) == 0)
				return load_fail(l, "unknown key '%s' in [%s]",
				    name, section);
		return load_fail(l, "unknown section [%s]", section);
	}
	if (l->seen[i])
		return load_fail(l, "%s is set twice", name);
	l->seen[i] = true;
	ki = &proto_config_keys[i];
	switch (ki->kind) {
	case PV_STRING:
		/* The paths; a conninfo or an address is no path. */
		if ((i == PK_SOCKET || i == PK_STORE_PATH) && value[0] != '/')
			return load_fail(l, "%s: give an absolute path", name);
		if (i == PK_METRICS_LISTEN &&
		    !metrics_addr_parse(value, NULL, 0, NULL))
			return load_fail(l,
			    "%s: give HOST:PORT (127.0.0.1:9464, [::1]:9464): '%s'",
			    name, value);
		free(*(char **)(base + k->offset));
		*(char **)(base + k->offset) = xstrndup(value, strlen(value));
		return 1;
	case PV_BOOL:
		if (parse_bool(value, &b) == -1)
			return load_fail(l, "%s: true or false, not '%s'", name,
			    value);
		*(bool *)(base + k->offset) = b;
		return 1;
	case PV_DURATIONS:
		return load_durations(l, k, name, value, base);
	case PV_RATE: {
		char *end;
		double r;

		errno = 0;
		r = strtod(value, &end);
		if (end != value && *end == '%' && end[1] == '\0') {
			r /= 100;
			end++;
		}
		if (errno != 0 || end == value || *end != '\0' || !(r >= 0) ||
		    r > 1)
			return load_fail(l,
			    "%s: a rate from 0 to 1 (0.30) or a percentage (30%%), not '%s'",
			    name, value);
		*(double *)(base + k->offset) = r;
		return 1;
	}
	case PV_COUNT:
	case PV_LIMIT:
	case PV_BYTES:
		if (size_parse(value, &v) == -1 || strpbrk(value, "KMGTkmgt"))
			return load_fail(l, "%s: not a whole number: '%s'", name,
			    value);
		break;
	case PV_SIZE:
		if (size_parse(value, &v) == -1)
			return load_fail(l, "%s: not a size like 64G: '%s'", name,
			    value);
		break;
	case PV_DURATION:
		if (parse_duration(value, &v) == -1)
			return load_fail(l,
			    "%s: not a duration like 90s, 12h, 21d or 3w: '%s'",
			    name, value);
		break;
	}
	if (v < k->min || v > k->max)
		return load_fail(l, "%s: %s is out of range", name, value);
	if (ki->kind == PV_COUNT || ki->kind == PV_LIMIT || ki->kind == PV_BYTES)
		*(uint32_t *)(base + k->offset) = (uint32_t)v;
	else
		*(uint64_t *)(base + k->offset) = v;
	return 1;
}

/* Values that cannot hold together; *why says which. */
static bool
config_contradiction(const struct policy *p, const char **why)
{
	if (p->stale_after >= p->expire_after)
		*why = "stale_after must be shorter than expire_after";
	else if (p->expire_after > p->max_expire_after)
		*why = "expire_after may not exceed max_expire_after";
	else if (p->pending_max > 0 && p->pending_warn > p->pending_max)
		*why = "pending_warn may not exceed pending_max";
	else if (p->restrict_below_rate > p->healthy_rate)
		*why = "restrict_below_rate may not exceed healthy_rate";
	else if (!rules_digest_every_valid(p->digest_every))
		*why = "digest_every must be 0s (off) or 1h to 365d";
	else
		return false;
	return true;
}

int
config_load(const char *path, struct config *c, char *why, size_t whylen)
{
	const char *why_c;
	struct load l;
	struct config next = *c;
	int line;

	memset(&l, 0, sizeof l);
	next.socket = c->socket ? xstrndup(c->socket, strlen(c->socket)) : NULL;
	next.store_path = c->store_path ?
	    xstrndup(c->store_path, strlen(c->store_path)) : NULL;
	next.postgres = c->postgres ?
	    xstrndup(c->postgres, strlen(c->postgres)) : NULL;
	l.c = &next;
	line = ini_parse(path, load_key, &l);
	if (line == -1) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		config_free(&next);
		return -1;
	}
	if (line != 0) {
		snprintf(why, whylen, "%s:%d: %s", path, line,
		    l.why[0] ? l.why : "not a line of an INI file");
		config_free(&next);
		return -1;
	}
	if (config_contradiction(&next.policy, &why_c)) {
		snprintf(why, whylen, "%s: %s", path, why_c);
		config_free(&next);
		return -1;
	}
	config_free(c);
	*c = next;
	return 0;
}

void
config_pack_policy(msgpack_packer *pk, const struct config *c)
{
	const struct proto_config_key_info *ki;
	const char *base = (const char *)c;
	const uint64_t *d;
	unsigned i, j, n = 0;

	for (i = 0; i < PK_COUNT; i++)
		n += proto_config_keys[i].info_name != NULL;
	msgpack_pack_map(pk, n);
	for (i = 0; i < PK_COUNT; i++) {
		ki = &proto_config_keys[i];
		if (ki->info_name == NULL)
			continue;
		pk_key(pk, ki->info_name);
		switch (ki->kind) {
		case PV_BOOL:
			if (*(const bool *)(base + keys[i].offset))
				msgpack_pack_true(pk);
			else
				msgpack_pack_false(pk);
			break;
		case PV_RATE:
			msgpack_pack_double(pk,
			    *(const double *)(base + keys[i].offset));
			break;
		case PV_DURATIONS:
			d = (const uint64_t *)(base + keys[i].offset);
			n = *(const unsigned *)(base + keys[i].count);
			msgpack_pack_array(pk, n);
			for (j = 0; j < n; j++)
				msgpack_pack_uint64(pk, d[j]);
			break;
		case PV_COUNT:
		case PV_LIMIT:
		case PV_BYTES:
			msgpack_pack_uint32(pk,
			    *(const uint32_t *)(base + keys[i].offset));
			break;
		case PV_SIZE:
		case PV_DURATION:
			msgpack_pack_uint64(pk,
			    *(const uint64_t *)(base + keys[i].offset));
			break;
		case PV_STRING:
			pk_str(pk, *(char *const *)(base + keys[i].offset));
			break;
		}
	}
}
