/* daemon/main.c: connreqd, the connection-request daemon. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "../common/util.h"
#include "../proto/proto.h"
#include "check.h"
#include "clock.h"
#include "config.h"
#include "copy.h"
#include "daemon.h"
#include "server.h"
#include "store.h"
#include "systemd.h"

static const char usage_short[] =
"usage: connreqd [-c FILE] [-s SOCKET] [-d DIR | --postgres CONNINFO]\n"
"                [--virtual-clock[=UNIX_SECONDS]] [--map-size-max SIZE] [-v]\n"
"       connreqd --check [-c FILE] [-d DIR | --postgres CONNINFO]\n"
"       connreqd --copy-store [--map-size-max SIZE] FROM TO\n"
"connreqd --help says more.\n";

static const char usage_text[] =
"usage: connreqd [-c FILE] [-s SOCKET] [-d DIR | --postgres CONNINFO]\n"
"                [--virtual-clock[=UNIX_SECONDS]] [--map-size-max SIZE] [-v]\n"
"       connreqd --check [-c FILE] [-d DIR | --postgres CONNINFO]\n"
"       connreqd --copy-store [--map-size-max SIZE] FROM TO\n"
"\n"
"The connection-request daemon: owns the invitation store and its timers\n"
"and serves msgpack-rpc on a Unix socket. Runs in the foreground.\n"
"Started by systemd (connreqd.socket), it takes the socket systemd passes\n"
"in place of -s and reports its state to it (Type=notify).\n"
"\n"
"  -c, --config FILE     the configuration (default $XDG_CONFIG_HOME/connreq/\n"
"                        connreqd.conf, or ~/.config/..., when it exists);\n"
"                        docs/configuration.md lists every key\n"
"  -s, --socket SOCKET   listen here (default $XDG_RUNTIME_DIR/connreq/connreqd.sock,\n"
"                        or /tmp/connreq-UID/connreqd.sock)\n"
"  -d, --store DIR       the LMDB store (default $XDG_DATA_HOME/connreq,\n"
"                        or ~/.local/share/connreq)\n"
"      --postgres CONNINFO\n"
"                        keep the store in PostgreSQL instead: the database\n"
"                        CONNINFO names (anything libpq takes: a URI or\n"
"                        key=value pairs, several hosts with\n"
"                        target_session_attrs=read-write); several connreqd\n"
"                        may share it\n"
"      --virtual-clock[=UNIX_SECONDS]\n"
"                        run on a clock that moves only by clock.advance,\n"
"                        starting there (default: where it last stood, or now)\n"
"      --map-size-max SIZE\n"
"                        the largest the store may grow to, in bytes, or with\n"
"                        K, M, G or T; at least 64K (default 64G)\n"
"  -v, --verbose         log debug lines\n"
"      --check           check the store (-d or --postgres, or the file's) and\n"
"                        exit: it must be stopped; reads it only; prints one\n"
"                        line per disagreement and a summary; exit 0 when\n"
"                        clean, 1 when problems were found, 2 when it cannot\n"
"                        open it\n"
"      --copy-store FROM TO\n"
"                        copy the whole store at FROM into the empty store at\n"
"                        TO and exit. FROM and TO are each a PostgreSQL\n"
"                        conninfo (a postgresql:// or postgres:// URI, or\n"
"                        key=value pairs: it begins with a word and =) or else\n"
"                        an LMDB directory (write ./a=b for a directory named\n"
"                        a=b). FROM must be stopped (no connreqd has it open);\n"
"                        TO must be empty or absent, and is kept from any\n"
"                        connreqd until the copy ends. Writes in transactions\n"
"                        of 5000 records and prints the records of each kind\n"
"                        and the seconds; exit 0 when copied, 1 when refused\n"
"                        or failed (a failure midway leaves TO incomplete:\n"
"                        remove it, or drop the database, and copy again)\n"
"  -h, --help            this text\n"
"  -V, --version         the version\n"
"\n"
"Signals: SIGINT and SIGTERM stop it after answering what is in flight;\n"
"SIGHUP reloads the configuration (a bad file keeps the running one).\n"
"Options given here override the file.\n"
"docs/protocol.md describes the protocol.\n";

static char *config_path;	/* -c, or the default path */
static char *metrics_addr;	/* [metrics] listen: HOST:PORT; NULL: off */
static bool config_given;	/* -c was given: the file must exist */
static bool map_given;		/* --map-size-max was given: it holds */
static char *postgres;		/* --postgres, or the file's: the PostgreSQL
				 * backend on this conninfo; NULL: LMDB */

/* The new policy and limits, or, when the file is bad, the old. */
static void
reload(struct daemon *d)
{
	struct config c;
	char why[512];

	if (config_path == NULL || (!config_given && access(config_path, F_OK) == -1)) {
		log_info("SIGHUP: no configuration file (%s); keeping the defaults",
		    config_path ? config_path : "none");
		return;
	}
	config_defaults(&c);
	if (config_load(config_path, &c, why, sizeof why) == -1) {
		log_warn("SIGHUP: %s; keeping the running configuration", why);
		return;
	}
	d->policy = c.policy;
	d->max_clients = c.max_clients;
	d->max_message_bytes = c.max_message_bytes;
	d->read_timeout = c.read_timeout;
	server_limits_changed(d);
	if (map_given) {
		if (c.map_size_max != d->map_size_max)
			log_info("SIGHUP: map_size_max stays %llu bytes: --map-size-max overrides the file",
			    (unsigned long long)d->map_size_max);
	} else if (c.map_size_max != d->map_size_max) {
		d->map_size_max = c.map_size_max;
		server_map_max_changed(d);
		log_info("SIGHUP: map_size_max is now %llu bytes",
		    (unsigned long long)d->map_size_max);
	}
	if ((c.socket && strcmp(c.socket, d->socket_path) != 0) ||
	    (c.store_path && strcmp(c.store_path, d->store_path) != 0) ||
	    ((c.postgres == NULL) != (postgres == NULL)) ||
	    (c.postgres && postgres && strcmp(c.postgres, postgres) != 0))
		log_info("SIGHUP: the socket and the store path change at the next start");
	if ((c.metrics_listen == NULL) != (metrics_addr == NULL) ||
	    (c.metrics_listen && metrics_addr &&
	    strcmp(c.metrics_listen, metrics_addr) != 0))
		log_info("SIGHUP: [metrics] listen changes at the next start");
	config_free(&c);
	log_info("SIGHUP: reloaded %s", config_path);
}

/* The reload, between two jobs of the store's worker (the policy and
 * the limits are the worker's while one is out). */
static void
reload_now(struct daemon *d)
{
	reload(d);
	systemd_ready(server_clients(d), d->state.pending);
}

/* SIGHUP (systemctl --user reload connreqd). */
static void
on_reload(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)sig;
	(void)what;
	systemd_reloading();
	server_when_idle(d, reload_now);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	struct timeval grace = { 5, 0 };

	(void)what;
	log_info("signal %d: stopping", (int)sig);
	systemd_stopping();
	server_shutdown(d);
	event_base_loopexit(d->base, &grace);
}

/* Keeps descriptors 0-2 open, so no stray write lands in the store. */
static void
keep_std_fds(void)
{
	int fd;

	for (;;) {
		fd = open("/dev/null", O_RDWR);
		if (fd == -1 || fd > 2) {
			if (fd > 2)
				close(fd);
			return;
		}
	}
}


/* Frees what main() holds, for its error exits. */
/* The store's progress at open (a migration): systemd's start timeout
 * extended, the status shown; the log has it under -v. */
static void
main_progress(void *ctx, const char *status)
{
	(void)ctx;
	log_debug("store: %s", status);
	systemd_extend(status);
}

static int
main_exit(struct daemon *d, int rc)
{
	metrics_http_free(d->metrics_http);
	d->metrics_http = NULL;
	free(metrics_addr);
	metrics_addr = NULL;
	server_free(d);
	systemd_free();
	if (d->base != NULL)
		event_base_free(d->base);
	store_close(d->store);
	free(d->store_path);
	free(d->socket_path);
	free(config_path);
	free(postgres);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "store", required_argument, NULL, 'd' },
		{ "virtual-clock", optional_argument, NULL, 'C' },
		{ "map-size-max", required_argument, NULL, 'M' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "check", no_argument, NULL, 'K' },
		{ "copy-store", no_argument, NULL, 'Y' },
		{ "postgres", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 }
	};
	struct daemon d;
	struct config conf;
	struct event *sigint, *sigterm, *sighup;
	struct stx *t;
	char why[512], shown[512];
	const char *vclock_arg = NULL;
	bool virtual_clock = false, check = false, copy = false;
	int64_t vnow = 0;
	char *end;
	int ch, fd, rc, activated;

	log_prog = "connreqd";
	keep_std_fds();
	/* Every request allocates and frees a few 8 KiB buffers (msgpack-c's
	 * unpack zone, the answer's sbuffer): with glibc's default, the heap's
	 * free top went back to the kernel after each batch and came back as
	 * page faults in the next (perf at 16 x 64 sends: 5% of the loop in
	 * faults under malloc). The top is kept up to 32 MiB. Setting it
	 * stops glibc from raising its mmap threshold as it goes, so that is
	 * set too: a batch's log record (hundreds of KiB in a share of
	 * expiries) and LMDB's 2 MiB dirty list of a nested transaction come
	 * from the heap, not from an mmap and munmap each time. */
	mallopt(M_TRIM_THRESHOLD, 32 << 20);
	mallopt(M_MMAP_THRESHOLD, 16 << 20);
	memset(&d, 0, sizeof d);
	while ((ch = getopt_long(argc, argv, "c:s:d:vhV", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			free(config_path);
			config_path = xstrndup(optarg, strlen(optarg));
			config_given = true;
			break;
		case 's':
			free(d.socket_path);
			d.socket_path = xstrndup(optarg, strlen(optarg));
			break;
		case 'd':
			free(d.store_path);
			d.store_path = xstrndup(optarg, strlen(optarg));
			break;
		case 'C':
			virtual_clock = true;
			vclock_arg = optarg;
			break;
		case 'M':
			map_given = true;
			if (size_parse(optarg, &d.map_size_max) == -1 ||
			    d.map_size_max < (1 << 16)) {
				fprintf(stderr, "connreqd: --map-size-max: not a size of at least 64K: %s\n",
				    optarg);
				return main_exit(&d, 2);
			}
			break;
		case 'v':
			log_verbose = 1;
			break;
		case 'K':
			check = true;
			break;
		case 'Y':
			copy = true;
			break;
		case 'P':
			free(postgres);
			postgres = xstrndup(optarg, strlen(optarg));
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'V':
			printf("connreqd %s (protocol %d)\n", CONNREQ_VERSION,
			    PROTO_VERSION);
			return 0;
		default:
			fputs(usage_short, stderr);
			return main_exit(&d, 2);
		}
	}
	/* --copy-store takes FROM and TO; nothing else takes arguments. */
	if (optind != argc - (copy ? 2 : 0) || (copy && check)) {
		if (copy && check)
			fputs("connreqd: --check and --copy-store do not go "
			    "together\n", stderr);
		else if (copy)
			fprintf(stderr, "connreqd: --copy-store takes two "
			    "arguments, FROM and TO (%d given)\n",
			    argc - optind);
		else
			fprintf(stderr, "connreqd: unexpected argument '%s' "
			    "(the store is -d DIR, the socket -s SOCKET)\n",
			    argv[optind]);
		fputs(usage_short, stderr);
		return main_exit(&d, 2);
	}
	/* The file, then what the command line says over it. */
	config_defaults(&conf);
	if (config_path == NULL)
		config_path = config_default_path();
	if ((config_given || access(config_path, F_OK) == 0) &&
	    config_load(config_path, &conf, why, sizeof why) == -1) {
		log_error("%s", why);
		return main_exit(&d, 2);
	}
	d.policy = conf.policy;
	d.max_clients = conf.max_clients;
	d.max_message_bytes = conf.max_message_bytes;
	d.read_timeout = conf.read_timeout;
	if (!map_given)
		d.map_size_max = conf.map_size_max;
	if (d.socket_path == NULL && conf.socket != NULL)
		d.socket_path = xstrndup(conf.socket, strlen(conf.socket));
	/* --postgres on the command line holds over -d; -d over the file's
	 * postgres, which holds over its path. */
	if (postgres == NULL && conf.postgres != NULL && d.store_path == NULL)
		postgres = xstrndup(conf.postgres, strlen(conf.postgres));
	if (d.store_path == NULL && conf.store_path != NULL)
		d.store_path = xstrndup(conf.store_path, strlen(conf.store_path));
	if (conf.metrics_listen != NULL)
		metrics_addr = xstrndup(conf.metrics_listen,
		    strlen(conf.metrics_listen));
	config_free(&conf);
	if (d.socket_path == NULL)
		d.socket_path = path_default_socket();
	if (d.store_path == NULL)
		d.store_path = path_default_store();
	if (check) {
		rc = check_main(d.store_path, postgres);
		return main_exit(&d, rc);
	}
	if (copy)
		return main_exit(&d, copy_main(argv[optind], argv[optind + 1],
		    d.map_size_max));
	signal(SIGPIPE, SIG_IGN);

	if (vclock_arg != NULL) {
		errno = 0;
		vnow = (int64_t)strtoll(vclock_arg, &end, 10);
		if (errno != 0 || *end != '\0' || vnow <= 0) {
			log_error("--virtual-clock: not a Unix time: %s",
			    vclock_arg);
			return main_exit(&d, 2);
		}
	}
	/* The socket first: a second connreqd on a socket one answers on
	 * opens (creates) no store and runs no deadline. */
	activated = systemd_socket(&fd, why, sizeof why);
	if (activated == -1) {
		log_error("%s", why);
		return main_exit(&d, 1);
	}
	if (activated == 0 && server_socket_taken(d.socket_path)) {
		log_error("another connreqd is already listening on %s",
		    d.socket_path);
		return main_exit(&d, 1);
	}
	if (postgres != NULL) {
		if (map_given)
			log_warn("--map-size-max is LMDB's map: it means nothing with --postgres, and is ignored");
		/* server.info and the log name the database, not its
		 * password. */
		free(d.store_path);
		store_where_shown(postgres, shown, sizeof shown);
		d.store_path = xstrndup(shown, strlen(shown));
		d.store = store_open_pg(postgres, why, sizeof why);
	} else {
		/* A migration at open may take minutes, before READY=1:
		 * systemd told to wait as it goes. */
		store_set_progress(main_progress, NULL);
		d.store = store_open(d.store_path, d.map_size_max, why,
		    sizeof why);
		store_set_progress(NULL, NULL);
	}
	if (d.store == NULL) {
		log_error("%s", why);
		return main_exit(&d, 1);
	}
	clock_init_real(&d.clock);
	if (virtual_clock) {
		/* Where the clock last stood, unless told; saved at once so a
		 * restart without a value resumes here. */
		t = store_begin(d.store, NULL);
		if (vnow == 0)
			vnow = store_get_vclock(t);
		if (vnow == 0)
			vnow = clock_now(&d.clock);
		store_set_vclock(t, vnow);
		rc = store_commit(t);
		if (rc == STORE_NO_SPACE || rc == STORE_MAP_FULL)
			log_warn("store: %s; the virtual clock's start is not saved",
			    store_strerror(d.store));
		else if (rc != STORE_OK) {
			log_error("store: %s", store_strerror(d.store));
			return main_exit(&d, 1);
		}
		clock_init_virtual(&d.clock, vnow);
	}
	d.started_at = clock_now(&d.clock);

	d.base = event_base_new();
	if (d.base == NULL || event_base_priority_init(d.base, 2) == -1)
		fatal("libevent: cannot create the event base");
	systemd_init(d.base);
	if (server_run_due(&d) == -1)
		return main_exit(&d, 1);
	/* On PostgreSQL the clock is the database's, first read there. */
	if (store_blocking(d.store))
		d.started_at = clock_now(&d.clock);
	if (activated == 1) {
		rc = server_listen_fd(&d, fd, why, sizeof why);
		if (rc == 0)
			log_info("socket %s: passed by systemd (socket activation)",
			    d.socket_path);
	} else
		rc = server_listen(&d, d.socket_path, why, sizeof why);
	if (rc == -1) {
		log_error("%s", why);
		return main_exit(&d, 1);
	}
	if (metrics_addr != NULL) {
		d.metrics_http = metrics_listen(d.base, metrics_addr, &d.metrics,
		    server_gauges, &d, why, sizeof why);
		if (d.metrics_http == NULL) {
			log_error("%s", why);
			return main_exit(&d, 1);
		}
		log_info("metrics: http://%s/metrics", metrics_addr);
		if (systemd_loopback_only())
			log_warn("metrics: this process has no network but "
			    "loopback (the unit's PrivateNetwork=yes?): nothing "
			    "outside it can reach %s; a drop-in with "
			    "PrivateNetwork=no opens it (docs/configuration.md, "
			    "Metrics)", metrics_addr);
	}
	sigint = evsignal_new(d.base, SIGINT, on_signal, &d);
	sigterm = evsignal_new(d.base, SIGTERM, on_signal, &d);
	sighup = evsignal_new(d.base, SIGHUP, on_reload, &d);
	evsignal_add(sigint, NULL);
	evsignal_add(sigterm, NULL);
	evsignal_add(sighup, NULL);
	log_info("version %s: store %s, socket %s%s, configuration %s%s",
	    CONNREQ_VERSION, d.store_path, d.socket_path,
	    clock_is_virtual(&d.clock) ? ", virtual clock" : "", config_path,
	    config_given || access(config_path, F_OK) == 0 ? "" :
	    " (absent: defaults; SIGHUP reads it once it exists)");

	/* The store is open and what fell due is handled: ready. */
	systemd_ready(server_clients(&d), d.state.pending);
	event_base_dispatch(d.base);

	metrics_http_free(d.metrics_http);
	d.metrics_http = NULL;
	free(metrics_addr);
	metrics_addr = NULL;
	server_free(&d);
	systemd_free();
	event_free(sigint);
	event_free(sigterm);
	event_free(sighup);
	free(config_path);
	event_base_free(d.base);
	store_close(d.store);
	free(d.store_path);
	free(d.socket_path);
	free(postgres);
	log_info("stopped");
	return 0;
}
