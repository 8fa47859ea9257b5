/* SQLite store: connection, schema and migrations, transactions, the statement
 * cache and row mapping shared by store_jobs.c and store_groups.c. */
#include "store/store_internal.h"

#include "store/checkpoint.h"
#include "util/runas.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Forward migrations: migrations[i] takes the schema from version i to i+1. */
static const char *const migrations[STORE_SCHEMA_VERSION] = {
	"CREATE TABLE jobs("
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  job_id TEXT NOT NULL UNIQUE,"
	"  namespace_id TEXT NOT NULL DEFAULT '',"
	"  status INTEGER NOT NULL,"
	"  target_selection INTEGER NOT NULL DEFAULT 0,"
	"  description TEXT,"
	"  document TEXT NOT NULL,"
	"  targets TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  last_updated_at INTEGER NOT NULL,"
	"  completed_at INTEGER NOT NULL DEFAULT 0,"
	"  force_canceled INTEGER NOT NULL DEFAULT 0,"
	"  reason_code TEXT,"
	"  comment TEXT"
	");"
	"CREATE TABLE executions("
	"  thing TEXT NOT NULL,"
	"  job_seq INTEGER NOT NULL REFERENCES jobs(seq),"
	"  execution_number INTEGER NOT NULL,"
	"  namespace_id TEXT NOT NULL,"
	"  status INTEGER NOT NULL,"
	"  status_details TEXT,"
	"  queued_at INTEGER NOT NULL,"
	"  started_at INTEGER NOT NULL DEFAULT 0,"
	"  last_updated_at INTEGER NOT NULL,"
	"  version INTEGER NOT NULL,"
	"  step_timeout_minutes INTEGER NOT NULL DEFAULT 0,"
	"  force_canceled INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY(thing, job_seq, execution_number)"
	") WITHOUT ROWID;"
	/* A thing's pending list, already in reply order (status 0 = IN_PROGRESS). */
	"CREATE INDEX executions_pending ON executions(thing, namespace_id, status, queued_at, job_seq)"
	"  WHERE status <= 1;"
	"CREATE INDEX executions_by_job ON executions(job_seq, status);",
	/* 1 -> 2: thing groups, and the targets a job was created for. */
	"CREATE TABLE thing_groups("
	"  name TEXT PRIMARY KEY,"
	"  description TEXT,"
	"  created_at INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"CREATE TABLE group_members("
	"  group_name TEXT NOT NULL,"
	"  thing TEXT NOT NULL,"
	"  added_at INTEGER NOT NULL,"
	"  PRIMARY KEY(group_name, thing)"
	") WITHOUT ROWID;"
	"CREATE INDEX group_members_by_thing ON group_members(thing);"
	/* kind 0: a thing, 1: a thing group */
	"CREATE TABLE job_targets("
	"  job_seq INTEGER NOT NULL,"
	"  kind INTEGER NOT NULL,"
	"  name TEXT NOT NULL,"
	"  PRIMARY KEY(job_seq, kind, name)"
	") WITHOUT ROWID;"
	"CREATE INDEX job_targets_by_name ON job_targets(kind, name);",
	/* 2 -> 3: timers, retries, rollouts, aborts and schedules. */
	"ALTER TABLE executions ADD COLUMN step_deadline_ms INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE executions ADD COLUMN progress_deadline_ms INTEGER NOT NULL DEFAULT 0;"
	/* the earlier of the two running deadlines, 0 when none: what the tick looks up */
	"ALTER TABLE executions ADD COLUMN deadline_ms INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE executions ADD COLUMN retry_attempt INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX executions_due ON executions(deadline_ms) WHERE deadline_ms > 0;"
	"ALTER TABLE jobs ADD COLUMN abort_config TEXT;"
	"ALTER TABLE jobs ADD COLUMN policies TEXT;"
	"ALTER TABLE jobs ADD COLUMN timeout_minutes INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE jobs ADD COLUMN retry_failed INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE jobs ADD COLUMN retry_timed_out INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE jobs ADD COLUMN rollout_rate REAL NOT NULL DEFAULT 0;"
	"ALTER TABLE jobs ADD COLUMN rollout_max REAL NOT NULL DEFAULT 0;"
	"ALTER TABLE jobs ADD COLUMN rollout_factor REAL NOT NULL DEFAULT 0;"
	"ALTER TABLE jobs ADD COLUMN rollout_notified_step INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE jobs ADD COLUMN rollout_succeeded_step INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE jobs ADD COLUMN rollout_base_count INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE jobs ADD COLUMN window_start_ms INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE jobs ADD COLUMN window_released INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE jobs ADD COLUMN released_total INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE jobs ADD COLUMN start_ms INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE jobs ADD COLUMN end_ms INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE jobs ADD COLUMN end_behavior INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE jobs ADD COLUMN wake_ms INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX jobs_wake ON jobs(wake_ms) WHERE wake_ms > 0;"
	"CREATE TABLE rollout_queue("
	"  id INTEGER PRIMARY KEY,"
	"  job_seq INTEGER NOT NULL,"
	"  thing TEXT NOT NULL"
	");"
	"CREATE INDEX rollout_queue_by_job ON rollout_queue(job_seq, id);",
	/* 3 -> 4: a queue entry may stand for a whole group, walked by name from `thing`
	 * (the last member taken). */
	"ALTER TABLE rollout_queue ADD COLUMN group_name TEXT;",
	/* 4 -> 5: each job's executions counted per status (the latest execution of each
	 * thing only), kept by triggers, so that describeJob, abort criteria and rollout
	 * criteria read a few rows instead of counting a fleet. Every insert is a thing's
	 * new latest execution (the previous number + 1). */
	"CREATE TABLE job_counts("
	"  job_seq INTEGER NOT NULL,"
	"  status INTEGER NOT NULL,"
	"  n INTEGER NOT NULL,"
	"  PRIMARY KEY(job_seq, status)"
	") WITHOUT ROWID;"
	"INSERT INTO job_counts SELECT e.job_seq, e.status, count(*) FROM executions e"
	"  WHERE e.execution_number = (SELECT max(x.execution_number) FROM executions x"
	"    WHERE x.thing = e.thing AND x.job_seq = e.job_seq)"
	"  GROUP BY e.job_seq, e.status;"
	/* a new execution counts, and the thing's previous one no longer does */
	"CREATE TRIGGER job_counts_insert AFTER INSERT ON executions BEGIN"
	"  UPDATE job_counts SET n = n - 1 WHERE job_seq = NEW.job_seq AND status ="
	"    (SELECT p.status FROM executions p WHERE p.thing = NEW.thing AND p.job_seq = NEW.job_seq"
	"      AND p.execution_number < NEW.execution_number ORDER BY p.execution_number DESC LIMIT 1);"
	"  INSERT INTO job_counts(job_seq, status, n) VALUES(NEW.job_seq, NEW.status, 1)"
	"    ON CONFLICT(job_seq, status) DO UPDATE SET n = n + 1;"
	"END;"
	"CREATE TRIGGER job_counts_status AFTER UPDATE OF status ON executions"
	"  WHEN OLD.status != NEW.status AND NOT EXISTS(SELECT 1 FROM executions l"
	"    WHERE l.thing = NEW.thing AND l.job_seq = NEW.job_seq AND l.execution_number > NEW.execution_number)"
	"BEGIN"
	"  UPDATE job_counts SET n = n - 1 WHERE job_seq = OLD.job_seq AND status = OLD.status;"
	"  INSERT INTO job_counts(job_seq, status, n) VALUES(NEW.job_seq, NEW.status, 1)"
	"    ON CONFLICT(job_seq, status) DO UPDATE SET n = n + 1;"
	"END;"
	/* Deleting a thing's latest execution makes the one before it the latest. A job's
	 * deletion drops its counts first, which turns this off for its executions. */
	"CREATE TRIGGER job_counts_delete AFTER DELETE ON executions"
	"  WHEN EXISTS(SELECT 1 FROM job_counts c WHERE c.job_seq = OLD.job_seq)"
	"    AND NOT EXISTS(SELECT 1 FROM executions l"
	"      WHERE l.thing = OLD.thing AND l.job_seq = OLD.job_seq AND l.execution_number > OLD.execution_number)"
	"BEGIN"
	"  UPDATE job_counts SET n = n - 1 WHERE job_seq = OLD.job_seq AND status = OLD.status;"
	"  UPDATE job_counts SET n = n + 1 WHERE job_seq = OLD.job_seq AND status ="
	"    (SELECT p.status FROM executions p WHERE p.thing = OLD.thing AND p.job_seq = OLD.job_seq"
	"      AND p.execution_number < OLD.execution_number ORDER BY p.execution_number DESC LIMIT 1);"
	"END;",
};

static const char *const job_status_names[JOB_STATUS_COUNT] = {
	[JOB_IN_PROGRESS] = "IN_PROGRESS",
	[JOB_COMPLETED] = "COMPLETED",
	[JOB_CANCELED] = "CANCELED",
	[JOB_DELETION_IN_PROGRESS] = "DELETION_IN_PROGRESS",
	[JOB_SCHEDULED] = "SCHEDULED",
};

const char *store_job_status_name(int status)
{
	if(status < 0 || status >= JOB_STATUS_COUNT) return "UNKNOWN";
	return job_status_names[status];
}

const char *store_errmsg(const struct store *store)
{
	return sqlite3_errmsg(store->db);
}

/* ---- shared helpers ---- */

sqlite3_stmt *store_stmt(struct store *s, enum stmt_id id, const char *sql)
{
	if(!s->stmt[id]){
		if(sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[id], NULL) != SQLITE_OK){
			s->stmt[id] = NULL;
		}
	}
	return s->stmt[id];
}

char *store_column_strdup(sqlite3_stmt *st, int col)
{
	const unsigned char *text = sqlite3_column_text(st, col);
	return text ? strdup((const char *)text) : NULL;
}

void store_column_copy(sqlite3_stmt *st, int col, char *dst, size_t size)
{
	const unsigned char *text = sqlite3_column_text(st, col);
	snprintf(dst, size, "%s", text ? (const char *)text : "");
}

int store_bind_text_or_null(sqlite3_stmt *st, int idx, const char *s)
{
	return s ? sqlite3_bind_text(st, idx, s, -1, SQLITE_STATIC) : sqlite3_bind_null(st, idx);
}

int store_step_done(sqlite3_stmt *st)
{
	if(!st) return STORE_ERROR;
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if(rc == SQLITE_DONE) return STORE_OK;
	if(rc == SQLITE_CONSTRAINT) return STORE_EXISTS;
	return STORE_ERROR;
}

void store_finish(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

void store_exec_free(struct store_exec *exec)
{
	free(exec->status_details);
	free(exec->document);
	memset(exec, 0, sizeof(*exec));
}

void store_exec_array_free(struct store_exec *execs, size_t count)
{
	for(size_t i = 0; i < count; i++) store_exec_free(&execs[i]);
	free(execs);
}

/* The first six columns of every execution query: which execution, and its status. */
static void read_ids(sqlite3_stmt *st, struct store_exec *e)
{
	memset(e, 0, sizeof(*e));
	store_column_copy(st, 0, e->thing, sizeof(e->thing));
	e->job_seq = sqlite3_column_int64(st, 1);
	store_column_copy(st, 2, e->job_id, sizeof(e->job_id));
	store_column_copy(st, 3, e->namespace_id, sizeof(e->namespace_id));
	e->execution_number = sqlite3_column_int64(st, 4);
	e->status = sqlite3_column_int(st, 5);
}

/* The job's document is NULL when the query selected NULL in its place. */
static void read_exec(sqlite3_stmt *st, struct store_exec *e)
{
	read_ids(st, e);
	e->status_details = store_column_strdup(st, 6);
	e->queued_at = sqlite3_column_int64(st, 7);
	e->started_at = sqlite3_column_int64(st, 8);
	e->last_updated_at = sqlite3_column_int64(st, 9);
	e->version = sqlite3_column_int64(st, 10);
	e->step_timeout_minutes = sqlite3_column_int64(st, 11);
	e->force_canceled = sqlite3_column_int(st, 12) != 0;
	e->step_deadline_ms = sqlite3_column_int64(st, 13);
	e->progress_deadline_ms = sqlite3_column_int64(st, 14);
	e->retry_attempt = sqlite3_column_int64(st, 15);
	e->job_timeout_minutes = sqlite3_column_int64(st, 16);
	e->document = store_column_strdup(st, 17);
	e->loaded = true;
	e->loaded_status = e->status;
	e->loaded_deadline_ms = store_exec_deadline(e);
}

int64_t store_exec_deadline(const struct store_exec *e)
{
	if(!e->step_deadline_ms) return e->progress_deadline_ms;
	if(!e->progress_deadline_ms) return e->step_deadline_ms;
	return e->step_deadline_ms < e->progress_deadline_ms ? e->step_deadline_ms : e->progress_deadline_ms;
}

int store_collect_exec(sqlite3_stmt *st, struct store_exec *out)
{
	int rc = sqlite3_step(st);
	if(rc == SQLITE_ROW) read_exec(st, out);
	store_finish(st);
	if(rc == SQLITE_ROW) return STORE_OK;
	return rc == SQLITE_DONE ? STORE_NOT_FOUND : STORE_ERROR;
}

void *store_rows_next(struct store_rows *rows)
{
	if(rows->count == rows->cap){
		size_t cap = rows->cap ? rows->cap * 2 : 16;
		void *grown = realloc(rows->items, cap * rows->size);
		if(!grown) return NULL;
		rows->items = grown;
		rows->cap = cap;
	}
	void *slot = (char *)rows->items + rows->count++ * rows->size;
	memset(slot, 0, rows->size);
	return slot;
}

/* The columns of STORE_EXEC_SUMMARY_COLUMNS: a summary's fields and the ids. */
static void read_summary(sqlite3_stmt *st, struct store_exec *e)
{
	read_ids(st, e);
	e->queued_at = sqlite3_column_int64(st, 6);
	e->started_at = sqlite3_column_int64(st, 7);
	e->last_updated_at = sqlite3_column_int64(st, 8);
	e->version = sqlite3_column_int64(st, 9);
}

static int collect_rows(sqlite3_stmt *st, void (*read)(sqlite3_stmt *, struct store_exec *),
		struct store_exec **out, size_t *count)
{
	struct store_rows rows = { .size = sizeof(struct store_exec) };
	int rc;
	while((rc = sqlite3_step(st)) == SQLITE_ROW){
		struct store_exec *e = store_rows_next(&rows);
		if(!e){
			rc = SQLITE_NOMEM;
			break;
		}
		read(st, e);
	}
	store_finish(st);
	if(rc != SQLITE_DONE){
		store_exec_array_free(rows.items, rows.count);
		return STORE_ERROR;
	}
	*out = rows.items;
	*count = rows.count;
	return STORE_OK;
}

int store_collect_execs(sqlite3_stmt *st, struct store_exec **out, size_t *count)
{
	return collect_rows(st, read_exec, out, count);
}

int store_collect_summaries(sqlite3_stmt *st, struct store_exec **out, size_t *count)
{
	return collect_rows(st, read_summary, out, count);
}

/* ---- open / close ---- */

static int exec_sql(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;
	if(sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK){
		snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int migrate(sqlite3 *db, const char *path, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int version = -1;
	if(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK){
		if(sqlite3_step(st) == SQLITE_ROW) version = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	if(version < 0){
		snprintf(err, errlen, "cannot read the schema version of %s: %s", path, sqlite3_errmsg(db));
		return -1;
	}
	if(version > STORE_SCHEMA_VERSION){
		snprintf(err, errlen, "%s has schema version %d, newer than this plugin's %d",
				path, version, STORE_SCHEMA_VERSION);
		return -1;
	}
	/* Always take the write lock once, so an unwritable database fails here. */
	if(exec_sql(db, "BEGIN IMMEDIATE", err, errlen)) return -1;
	for(int v = version; v < STORE_SCHEMA_VERSION; v++){
		char pragma[64];
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v + 1);
		if(exec_sql(db, migrations[v], err, errlen) || exec_sql(db, pragma, err, errlen)){
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
	}
	return exec_sql(db, "COMMIT", err, errlen);
}

static void store_tune_library(void)
{
	/* Memory statistics take a global mutex on every allocation; nothing here reads
	 * them. Refused (harmlessly) once SQLite is initialised, e.g. by a second open. */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* SQLite's WAL hook, after each commit: the WAL's length, for the checkpointer. */
static int note_wal_frames(void *arg, sqlite3 *db, const char *name, int frames)
{
	(void)db;
	(void)name;
	((struct store *)arg)->wal_frames = frames;
	return SQLITE_OK;
}

/* After a failed open: what is wrong with the path for the user the broker runs as,
 * and what to do, in place of SQLite's "unable to open database file". Leaves msg
 * alone when the file and its directory look usable (the cause is then SQLite's). */
static void explain_path(const char *path, char *msg, size_t size)
{
	if(strcmp(path, ":memory:") == 0 || strncmp(path, "file:", 5) == 0) return;
	char user[64];
	runas_user(user, sizeof(user));
	char dir[4096];
	const char *slash = strrchr(path, '/');
	if(!slash) snprintf(dir, sizeof(dir), ".");
	else if(slash == path) snprintf(dir, sizeof(dir), "/");
	else snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);

	struct stat st;
	if(stat(dir, &st) != 0 && errno == ENOENT){
		snprintf(msg, size, "directory %.200s: %s (the broker runs as %s); create the directory and chown it to %s",
				dir, strerror(ENOENT), user, user);
	}else if(stat(dir, &st) != 0){
		int e = errno;
		snprintf(msg, size, "directory %.200s: %s for %s, the user the broker runs as; every directory above "
				"it must be searchable (x) by %s", dir, strerror(e), user, user);
	}else if(!S_ISDIR(st.st_mode)){
		snprintf(msg, size, "%.200s is not a directory; point plugin_opt_db_path at a file in a directory", dir);
	}else if(access(dir, W_OK | X_OK) != 0){
		int e = errno;
		/* SQLite creates the database, its -wal and -shm files there */
		snprintf(msg, size, "directory %.200s: %s for %s, the user the broker runs as, who must create files in it; "
				"chown the directory to %s (or make it writable by %s)", dir, strerror(e), user, user, user);
	}else if(stat(path, &st) == 0 && S_ISDIR(st.st_mode)){
		snprintf(msg, size, "it is a directory; plugin_opt_db_path names the database file, for instance %.200s/jobs.db", path);
	}else if(stat(path, &st) == 0 && access(path, R_OK | W_OK) != 0){
		int e = errno;
		snprintf(msg, size, "%s for %s, the user the broker runs as, who must read and write it; chown it to %s",
				strerror(e), user, user);
	}
}

/* How long a statement waits for a lock another connection holds (only the background
 * checkpointer takes any, and only briefly). */
#define STORE_BUSY_MS 1000

int store_open(const char *path, enum jobs_sync sync, struct store **out, char *err, size_t errlen)
{
	struct store *s = calloc(1, sizeof(*s));
	if(!s){
		snprintf(err, errlen, "out of memory");
		return STORE_ERROR;
	}
	char msg[1024] = "";
	store_tune_library();
	/* NOMUTEX: this connection is only ever used by the broker's thread, so SQLite's
	 * per-call locking (a mutex pair around every sqlite3_* call) buys nothing. */
	int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if(rc != SQLITE_OK){
		snprintf(msg, sizeof(msg), "%s", s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto fail;
	}
	if(sqlite3_db_readonly(s->db, "main") == 1){
		snprintf(msg, sizeof(msg), "the file is read-only for the user the broker runs as");
		goto fail;
	}
	sqlite3_busy_timeout(s->db, STORE_BUSY_MS);
	const char *setup = sync == JOBS_SYNC_FULL
		? "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA cache_size = -16384;"
		: "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -16384;";
	if(exec_sql(s->db, setup, msg, sizeof(msg))) goto fail;
	if(migrate(s->db, path, msg, sizeof(msg))) goto fail;
	/* Checkpoints move to a thread of their own; a database without a file (tests'
	 * ":memory:") keeps SQLite's. */
	const char *file = sqlite3_db_filename(s->db, "main");
	if(file && *file && (s->checkpointer = checkpointer_start(file))){
		sqlite3_wal_autocheckpoint(s->db, 0);
		sqlite3_wal_hook(s->db, note_wal_frames, s);
	}
	*out = s;
	return STORE_OK;

fail:
	explain_path(path, msg, sizeof(msg));
	snprintf(err, errlen, "cannot use database %s (plugin_opt_db_path): %s", path, msg);
	store_close(s);
	return STORE_ERROR;
}

int store_set_size_limit(struct store *s, int64_t max_bytes)
{
	sqlite3_stmt *st;
	int64_t page_size = 4096;
	if(sqlite3_prepare_v2(s->db, "PRAGMA page_size", -1, &st, NULL) == SQLITE_OK){
		if(sqlite3_step(st) == SQLITE_ROW) page_size = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	char sql[64];
	snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %lld", (long long)(max_bytes / page_size));
	return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? STORE_OK : STORE_ERROR;
}

void store_wal_stats(struct store *s, struct store_wal_stats *out)
{
	struct checkpointer_stats cp;
	checkpointer_stats(s->checkpointer, &cp);
	*out = (struct store_wal_stats){ .wal_frames = s->wal_frames, .checkpoints = cp.checkpoints,
		.catch_ups = cp.catch_ups, .caught_up = cp.caught_up,
		.rewind_frames = s->checkpointer ? CHECKPOINT_REWIND_FRAMES : 0 };
}

void store_set_catch_up_wait(struct store *s, int ms)
{
	checkpointer_set_wait(s->checkpointer, ms);
}

void store_close(struct store *s)
{
	if(!s) return;
	checkpointer_stop(s->checkpointer);
	for(int i = 0; i < ST_COUNT; i++) sqlite3_finalize(s->stmt[i]);
	sqlite3_close(s->db);
	free(s);
}

/* ---- transactions ---- */

int store_begin(struct store *s)
{
	return store_step_done(store_stmt(s, ST_SAVEPOINT, "SAVEPOINT req"));
}

int store_batch_begin(struct store *s)
{
	return store_step_done(store_stmt(s, ST_BATCH_BEGIN, "BEGIN"));
}

bool store_in_transaction(struct store *s)
{
	return !sqlite3_get_autocommit(s->db);
}

int store_batch_commit(struct store *s)
{
	int rc = store_step_done(store_stmt(s, ST_BATCH_COMMIT, "COMMIT"));
	if(rc != STORE_OK && !sqlite3_get_autocommit(s->db)){
		store_step_done(store_stmt(s, ST_BATCH_ROLLBACK, "ROLLBACK"));
	}
	/* between two transactions: where a long WAL can be started over (checkpoint.h) */
	if(rc == STORE_OK) checkpointer_catch_up(s->checkpointer, s->wal_frames);
	return rc;
}

int store_commit(struct store *s)
{
	int rc = store_step_done(store_stmt(s, ST_RELEASE, "RELEASE req"));
	if(rc != STORE_OK) store_rollback(s);
	/* the outermost savepoint was a transaction of its own (no batch open) */
	else if(sqlite3_get_autocommit(s->db)) checkpointer_catch_up(s->checkpointer, s->wal_frames);
	return rc;
}

void store_rollback(struct store *s)
{
	store_step_done(store_stmt(s, ST_ROLLBACK_TO, "ROLLBACK TO req"));
	store_step_done(store_stmt(s, ST_RELEASE, "RELEASE req"));
}
