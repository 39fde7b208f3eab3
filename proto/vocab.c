/* proto/vocab.c: see vocab.h. */
#include "vocab.h"

#include <string.h>

#define PROTO_NAME(id, name) name,
#define PROTO_WORD(id, word) word,

const char *const proto_method_names[] = {
	PROTO_METHODS(PROTO_NAME) NULL
};

const char *const proto_event_names[] = {
	PROTO_EVENTS(PROTO_NAME) NULL
};

#define PROTO_CODE(id, code, message) code,
#define PROTO_MESSAGE(id, code, message) message,
const char *const proto_warning_codes[] = {
	PROTO_WARNINGS(PROTO_CODE) NULL
};
const char *const proto_warning_messages[] = {
	PROTO_WARNINGS(PROTO_MESSAGE) NULL
};

const char *const proto_state_words[] = { PROTO_STATES(PROTO_WORD) NULL };
const char *const proto_priority_words[] = {
	PROTO_PRIORITIES(PROTO_WORD) NULL
};
const char *const proto_invite_from_words[] = {
	PROTO_INVITE_FROM(PROTO_WORD) NULL
};
const char *const proto_health_words[] = { PROTO_HEALTH(PROTO_WORD) NULL };
const char *const proto_advice_words[] = { PROTO_ADVICE(PROTO_WORD) NULL };
const char *const proto_box_words[] = { PROTO_BOXES(PROTO_WORD) NULL };
const char *const proto_report_reason_words[] = {
	PROTO_REPORT_REASONS(PROTO_WORD) NULL
};
const char *const proto_plan_state_words[] = {
	PROTO_PLAN_STATES(PROTO_WORD) NULL
};
const char *const proto_restrict_reason_words[] = {
	PROTO_RESTRICT_REASONS(PROTO_WORD) NULL
};

const char *const proto_intro_state_words[] = {
	PROTO_INTRO_STATES(PROTO_WORD) NULL
};
const char *const proto_backup_state_words[] = {
	PROTO_BACKUP_STATES(PROTO_WORD) NULL
};
const char *const proto_intro_box_words[] = {
	PROTO_INTRO_BOXES(PROTO_WORD) NULL
};

const char *const proto_import_type_words[] = {
	PROTO_IMPORT_TYPES(PROTO_WORD) NULL
};

const char *const proto_import_status_words[] = {
	PROTO_IMPORT_STATUSES(PROTO_WORD) NULL
};

const struct proto_config_key_info proto_config_keys[] = {
#define PROTO_KEY(id, section, name, reported, prefix, kind) \
	{ section, name, (reported) ? prefix name : NULL, PV_##kind },
	PROTO_CONFIG_KEYS(PROTO_KEY)
#undef PROTO_KEY
	{ NULL, NULL, NULL, PV_STRING }
};

int
proto_word_find(const char *const *words, int n, const char *s, size_t len)
{
	int i;

	for (i = 0; i < n; i++)
		if (words[i] != NULL && strlen(words[i]) == len &&
		    memcmp(words[i], s, len) == 0)
			return i;
	return n;
}

enum proto_method
proto_method_from(const char *name, size_t len)
{
	return (enum proto_method)proto_word_find(proto_method_names, PM_COUNT,
	    name, len);
}

enum proto_config_key
proto_config_key_from_info(const char *name, size_t len)
{
	const char *n;
	int i;

	for (i = 0; i < PK_COUNT; i++) {
		n = proto_config_keys[i].info_name;
		if (n != NULL && strlen(n) == len && memcmp(n, name, len) == 0)
			return (enum proto_config_key)i;
	}
	return PK_COUNT;
}
