/* The SQLite store: the implementation of store.h kept in one SQLite database file
 * (plugin_opt_db_path), in WAL mode, with `synchronous` as plugin_opt_synchronous says.
 * This header holds what only SQLite has, for store.c (which opens it), the tests and
 * diagnostics; the core never includes it.
 *
 * Files: sqlite_store.c (connection, transactions, the table of operations),
 * sqlite_schema.c (schema and migrations), sqlite_rows.c (statements, row reading),
 * sqlite_jobs.c (jobs, executions, timers, the rollout queue), sqlite_groups.c (groups,
 * members, targets), sqlite_checkpoint.c (the WAL's checkpoints, on a thread). */
#ifndef MOSQUITTO_JOBS_SQLITE_STORE_H
#define MOSQUITTO_JOBS_SQLITE_STORE_H

#include "store/store.h"

/* The schema version (PRAGMA user_version) of a database this plugin made or
 * migrated; a database of a newer version is refused. */
#define JOBS_SQLITE_SCHEMA_VERSION 9

/* store_open for a configuration naming an SQLite database (cfg->db_path, ":memory:"
 * for one without a file). */
int sqlite_store_open(const struct jobs_config *cfg, struct store **out, char *err, size_t errlen);

/* For a store built on an SQLite one (the PostgreSQL store keeps its replica in one):
 * opens it with `ops` as its table (sqlite_store_ops() with some entries replaced, whose
 * functions reach their own state through sqlite_store_owner(store)); the entries left
 * as they were work on the handle as on any SQLite store. */
struct sqlite3;
struct store_ops;
int sqlite_store_open_as(const struct jobs_config *cfg, const struct store_ops *ops, void *owner,
		struct store **out, char *err, size_t errlen);
const struct store_ops *sqlite_store_ops(void);
void *sqlite_store_owner(struct store *store);
struct sqlite3 *sqlite_store_handle(struct store *store);

/* The WAL's upkeep (sqlite_checkpoint.h): a background thread checkpoints it, and a
 * commit that leaves it longer than rewind_frames waits for one checkpoint of
 * everything, so that the next transaction starts the WAL over. For tests and
 * diagnostics; all zero but wal_frames for a database without a file. */
struct sqlite_wal_stats {
	int wal_frames;             /* the WAL's length in frames after the last commit */
	int rewind_frames;
	unsigned long checkpoints;  /* background checkpoints ended */
	unsigned long catch_ups;    /* commits that waited for a checkpoint */
	unsigned long caught_up;    /* ... and saw it end within the wait */
};
/* `store` must be an SQLite store. */
void sqlite_store_wal_stats(struct store *store, struct sqlite_wal_stats *out);
/* The longest wait of such a commit: 10 ms unless set (tests on a busy machine). */
void sqlite_store_set_catch_up_wait(struct store *store, int ms);

#endif
