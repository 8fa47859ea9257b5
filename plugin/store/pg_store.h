/* The PostgreSQL store: the implementation of store.h that several brokers share
 * (plugin_opt_store postgresql://...). How it works: pg_internal.h; the operator's view:
 * docs/scale-out.md. Files: pg_store.c, pg_conn.c, pg_schema.c, pg_changes.c. */
#ifndef MOSQUITTO_JOBS_PG_STORE_H
#define MOSQUITTO_JOBS_PG_STORE_H

#include "store/store.h"

/* store_open for a configuration naming a PostgreSQL database (cfg->store_uri). Connects,
 * prepares the tables and loads the data into memory, waiting up to
 * cfg->store_timeout_ms for each answer. */
int pg_store_open(const struct jobs_config *cfg, struct store **out, char *err, size_t errlen);

#endif
