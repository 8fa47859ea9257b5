/* Plugin options (`plugin_opt_*`, prefix already stripped by Mosquitto), parsed into
 * a plain struct. Pure: the adapter hands over key/value pairs, so unit tests can
 * try every bad value without a broker.
 *
 * Every option is one row of a table (config_options): its name, its type and bounds,
 * its default (written as an option value, and parsed like one) and the "values",
 * "default" and "what it does" columns of docs/configuration.md, which a unit test
 * holds the document to; `jobs-options` prints the same table as markdown and as the
 * OPTIONS section of mosquitto-jobs(7). Plain values (numbers, words from a list, text) are parsed by one loop from
 * their row; the rest (plugin_opt_http_listen, the lists of plugin_opt_operators, the
 * plugin_opt_grant_<identity> family) name their parser in the row. */
#ifndef MOSQUITTO_JOBS_CONFIG_H
#define MOSQUITTO_JOBS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define JOBS_DEFAULT_DB_PATH "mosquitto_jobs.db"
#define JOBS_MAX_PENDING_LIMIT 100

enum jobs_sync { JOBS_SYNC_NORMAL = 0, JOBS_SYNC_FULL };
enum identity_source { IDENTITY_CLIENTID = 0, IDENTITY_USERNAME, IDENTITY_CERT_CN };
/* plugin_opt_job_events: which jobs events are on at the first start (bit 0: JOB, bit 1:
 * JOB_EXECUTION). */
enum jobs_events_option { JOBS_EVENTS_OFF = 0, JOBS_EVENTS_JOB, JOBS_EVENTS_JOB_EXECUTION, JOBS_EVENTS_ALL };

/* One plugin_opt_grant_<identity> line. */
struct access_grant {
	char *identity;
	char **things;      /* NULL-terminated; NULL when all */
	bool all;
};

/* The access options; core/access.h decides with them. */
struct access_config {
	enum identity_source identity;
	bool isolation;            /* the jobs namespace rules apply (default on) */
	bool allow_other_topics;   /* allow, rather than defer, everything else */
	bool control_by_broker;    /* $CONTROL/jobs: the broker's ACL decides */
	bool any_operator;         /* plugin_opt_operators * */
	char **operators;          /* NULL-terminated; may be NULL */
	struct access_grant *grants;
	size_t grant_count;
};

struct jobs_config {
	char *db_path;          /* owned */
	char *store_uri;        /* owned; NULL: SQLite (db_path); else a PostgreSQL connection URI */
	int store_timeout_ms;   /* longest a reply waits for a shared store's commit */
	bool loop_wake;         /* wake the broker's loop when the store answers */
	enum jobs_sync synchronous;
	int max_pending;        /* entries in get/accepted and notify lists */
	char *region;           /* owned; used in ARNs */
	char *account_id;       /* owned; used in ARNs */
	double time_scale;      /* job minutes pass this many times faster than wall time */
	int db_max_mb;          /* cap on the database file; 0: none */
	int rate_limit;         /* device requests per second per thing; 0: none */
	int sys_interval;       /* seconds between the $SYS topics' publications; 0: none */
	struct access_config access; /* owned */
	/* the HTTP API: off while http_address is NULL */
	char *http_address;     /* owned */
	int http_port;
	char *http_keys_file;   /* owned; NULL: loopback clients only */
	char *http_unsigned_identity; /* owned; who unsigned requests act as; NULL: nobody */
	char *metrics_token_file; /* owned; NULL: no bearer token for /metrics */
	char *http_tls_cert;    /* owned */
	char *http_tls_key;     /* owned */
	int http_max_connections;              /* open connections; past it the oldest unfinished request is cut */
	int http_max_connections_per_address;
	int http_request_timeout;              /* seconds a request may take to arrive whole */
	bool test_controls;     /* the test-control commands (testctl.h); off by default */
	bool require_registered_things; /* job targets and group members must be registered things */
	enum jobs_events_option job_events; /* the jobs events on at the first start */
};

struct jobs_option {
	const char *key;
	const char *value;
};

/* Fills *cfg from the options, defaults for the rest. On a bad or unknown option
 * returns -1 with a one-line explanation in err (and *cfg freed). */
int config_parse(const struct jobs_option *opts, size_t count, struct jobs_config *cfg,
		char *err, size_t errlen);
/* Sets one option in a *cfg that config_parse filled: 0, or -1 with a one-line
 * explanation in err (an unknown key, a bad value; *cfg keeps what it held). The
 * checks between options (config_parse's last step) are not made. */
int config_set(struct jobs_config *cfg, const char *key, const char *value, char *err, size_t errlen);
void config_free(struct jobs_config *cfg);

/* ---- the option table ---- */

enum config_type {
	CONFIG_TEXT,    /* a string (char *), optionally checked by `valid` */
	CONFIG_INT,     /* a whole number (int) from min to max */
	CONFIG_NUMBER,  /* a number (double) from min to max */
	CONFIG_CHOICE,  /* one of `choices` (an enum, stored as its index) */
	CONFIG_SWITCH,  /* choices[0] sets the bool, choices[1] clears it */
	CONFIG_PARSER,  /* `parse` reads it */
};

struct config_option {
	const char *name;     /* after plugin_opt_; a family ends in "<identity>", and its
	                       * keys are the name up to '<' followed by anything */
	enum config_type type;
	size_t offset;        /* of the field in struct jobs_config (not for CONFIG_PARSER) */
	double min, max;      /* CONFIG_INT, CONFIG_NUMBER */
	const char *const *choices;     /* CONFIG_CHOICE, CONFIG_SWITCH: NULL-terminated */
	bool nonempty;        /* CONFIG_TEXT: "" is refused */
	bool (*valid)(const char *value); /* CONFIG_TEXT: NULL takes anything */
	const char *rule;     /* what "must be" says of a refused value; NULL: from the
	                       * bounds or the choices */
	int (*parse)(struct jobs_config *cfg, const char *key, const char *value, char *err, size_t errlen);
	const char *def;      /* the default, as a value of the option; NULL: none */
	/* docs/configuration.md's columns */
	const char *values;   /* the values column; NULL: from the bounds or the choices */
	const char *unit;     /* CONFIG_INT: after the bounds in the values column */
	const char *def_note; /* the default column after the default ("none" without one) */
	const char *help;     /* the "what it does" column: markdown's inline code and links */
};

/* The table, *count rows, in the order of docs/configuration.md. */
const struct config_option *config_options(size_t *count);
/* The row of docs/configuration.md's option table an option has: its values and
 * default columns, as markdown. -1 when a buffer is too small. */
int config_option_doc(const struct config_option *opt, char *values, size_t values_len,
		char *def, size_t def_len);

#endif
