/* daemon/config.h: connreqd.conf, an INI file read with libinih. Every key
 * is named once, in proto/vocab.h (PROTO_CONFIG_KEYS, with its kind);
 * config.c's table gives its place in struct config and its bounds. */
#ifndef CONNREQ_CONFIG_H
#define CONNREQ_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "rules.h"

struct config {
	char *socket;		/* NULL: the default */
	char *store_path;	/* NULL: the default */
	char *metrics_listen;	/* [metrics] listen, HOST:PORT; NULL: off */
	char *postgres;		/* a libpq conninfo: the PostgreSQL backend;
				 * NULL: LMDB at store_path */
	uint32_t max_clients;
	uint32_t max_message_bytes;
	uint64_t read_timeout;	/* seconds a message may take to arrive */
	uint64_t map_size_max;
	struct policy policy;
};

void config_defaults(struct config *c);
/* Reads path over c (which holds the defaults). 0, or -1 with why set to
 * "FILE:LINE: reason"; c is then unchanged. */
int config_load(const char *path, struct config *c, char *why, size_t whylen);
void config_free(struct config *c);
/* server.info's policy map: the keys proto/vocab.h marks reported, in its
 * order, with c's values. */
void config_pack_policy(msgpack_packer *pk, const struct config *c);
/* $XDG_CONFIG_HOME/connreq/connreqd.conf (or ~/.config/...), malloc'd. */
char *config_default_path(void);

#endif
