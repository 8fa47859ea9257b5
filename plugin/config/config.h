/* Plugin options (`plugin_opt_*`, prefix already stripped by Mosquitto), parsed into
 * a plain struct. Pure: the adapter hands over key/value pairs, so unit tests can
 * try every bad value without a broker. */
#ifndef MOSQUITTO_JOBS_CONFIG_H
#define MOSQUITTO_JOBS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "core/access.h"

#define JOBS_DEFAULT_DB_PATH "mosquitto_jobs.db"
#define JOBS_DEFAULT_MAX_PENDING 10
#define JOBS_DEFAULT_HTTP_MAX_CONNECTIONS 1000
#define JOBS_DEFAULT_HTTP_MAX_PER_ADDRESS 128
#define JOBS_DEFAULT_HTTP_REQUEST_TIMEOUT 10   /* seconds */
#define JOBS_MAX_PENDING_LIMIT 100

enum jobs_sync { JOBS_SYNC_NORMAL = 0, JOBS_SYNC_FULL };

struct jobs_config {
	char *db_path;          /* owned */
	enum jobs_sync synchronous;
	int max_pending;        /* entries in get/accepted and notify lists */
	char *region;           /* owned; used in ARNs */
	char *account_id;       /* owned; used in ARNs */
	double time_scale;      /* job minutes pass this many times faster than wall time */
	int db_max_mb;          /* cap on the database file; 0: none */
	int rate_limit;         /* device requests per second per thing; 0: none */
	struct access_config access; /* owned */
	/* the HTTP API: off while http_address is NULL */
	char *http_address;     /* owned */
	int http_port;
	char *http_keys_file;   /* owned; NULL: loopback clients only */
	char *http_unsigned_identity; /* owned; who unsigned requests act as; NULL: nobody */
	char *http_tls_cert;    /* owned */
	char *http_tls_key;     /* owned */
	int http_max_connections;              /* open connections; past it the oldest unfinished request is cut */
	int http_max_connections_per_address;
	int http_request_timeout;              /* seconds a request may take to arrive whole */
	bool test_controls;     /* the test-control commands (testctl.h); off by default */
};

struct jobs_option {
	const char *key;
	const char *value;
};

/* Fills *cfg from the options, defaults for the rest. On a bad or unknown option
 * returns -1 with a one-line explanation in err (and *cfg freed). */
int config_parse(const struct jobs_option *opts, size_t count, struct jobs_config *cfg,
		char *err, size_t errlen);
void config_free(struct jobs_config *cfg);

#endif
