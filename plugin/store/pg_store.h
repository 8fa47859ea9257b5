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

/* Whether the PostgreSQL store keeps a table of the SQLite schema in PostgreSQL, and
 * whether a table is derived (rebuilt in each broker's copy by triggers, never sent).
 * Every table of the schema must be one or the other: a test holds new tables to it. */
bool pg_store_keeps_table(const char *table);
bool pg_store_derives_table(const char *table);

/* Moving an SQLite fleet to PostgreSQL (tools/store-copy): copies every record of the
 * SQLite database at sqlite_path (of this plugin's schema version or an older one: it is
 * read through a copy migrated in memory, the file is left as it is) into the database of
 * `store`, an open PostgreSQL store whose database holds no job, execution or group yet,
 * as one transaction. STORE_OK, STORE_EXISTS (the database already holds records), or
 * STORE_ERROR with a line in err. */
int pg_store_import(struct store *store, const char *sqlite_path, char *err, size_t errlen);

#endif
