/* SQLite store: schema and migrations, prepared statements, row mapping.
 *
 * Every statement is prepared once in store_open and reset after each use. Rows map
 * to struct store_job / struct store_exec; text columns are strdup'd into them. */
#include "mosquitto_jobs/store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
};

#define EXEC_COLUMNS \
	"e.thing, e.job_seq, j.job_id, e.namespace_id, e.execution_number, e.status, e.status_details," \
	" e.queued_at, e.started_at, e.last_updated_at, e.version, e.step_timeout_minutes," \
	" e.force_canceled, j.document"

/* The latest execution of each thing, for per-job views. */
#define LATEST_ONLY \
	" AND e.execution_number = (SELECT max(x.execution_number) FROM executions x" \
	"  WHERE x.thing = e.thing AND x.job_seq = e.job_seq)"

enum stmt_id {
	ST_SAVEPOINT,
	ST_RELEASE,
	ST_ROLLBACK_TO,
	ST_JOB_GET,
	ST_JOB_INSERT,
	ST_JOB_UPDATE_STATUS,
	ST_JOB_COUNTS,
	ST_JOB_HAS_PENDING,
	ST_EXEC_GET,
	ST_EXEC_GET_LATEST,
	ST_EXEC_INSERT,
	ST_EXEC_UPDATE,
	ST_PENDING,
	ST_JOB_EXECS,
	ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_SAVEPOINT] = "SAVEPOINT req",
	[ST_RELEASE] = "RELEASE req",
	[ST_ROLLBACK_TO] = "ROLLBACK TO req",
	[ST_JOB_GET] =
		"SELECT seq, job_id, namespace_id, status, target_selection, description, document,"
		" targets, created_at, last_updated_at, completed_at, force_canceled, reason_code, comment"
		" FROM jobs WHERE job_id = ?1",
	[ST_JOB_INSERT] =
		"INSERT INTO jobs(job_id, namespace_id, status, target_selection, description, document,"
		" targets, created_at, last_updated_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[ST_JOB_UPDATE_STATUS] =
		"UPDATE jobs SET status = ?2, last_updated_at = ?3, completed_at = ?4, force_canceled = ?5,"
		" reason_code = ?6, comment = ?7 WHERE seq = ?1",
	[ST_JOB_COUNTS] =
		"SELECT e.status, count(*) FROM executions e WHERE e.job_seq = ?1" LATEST_ONLY
		" GROUP BY e.status",
	[ST_JOB_HAS_PENDING] =
		"SELECT 1 FROM executions WHERE job_seq = ?1 AND status <= 1 LIMIT 1",
	[ST_EXEC_GET] =
		"SELECT " EXEC_COLUMNS " FROM executions e JOIN jobs j ON j.seq = e.job_seq"
		" WHERE e.thing = ?1 AND e.job_seq = ?2 AND e.execution_number = ?3",
	[ST_EXEC_GET_LATEST] =
		"SELECT " EXEC_COLUMNS " FROM executions e JOIN jobs j ON j.seq = e.job_seq"
		" WHERE e.thing = ?1 AND e.job_seq = ?2 ORDER BY e.execution_number DESC LIMIT 1",
	[ST_EXEC_INSERT] =
		"INSERT INTO executions(thing, job_seq, execution_number, namespace_id, status,"
		" status_details, queued_at, started_at, last_updated_at, version, step_timeout_minutes,"
		" force_canceled) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	[ST_EXEC_UPDATE] =
		"UPDATE executions SET status = ?4, status_details = ?5, started_at = ?6,"
		" last_updated_at = ?7, version = ?8, step_timeout_minutes = ?9, force_canceled = ?10"
		" WHERE thing = ?1 AND job_seq = ?2 AND execution_number = ?3",
	[ST_PENDING] =
		"SELECT " EXEC_COLUMNS " FROM executions e JOIN jobs j ON j.seq = e.job_seq"
		" WHERE e.thing = ?1 AND e.namespace_id = ?2 AND e.status <= 1"
		" ORDER BY e.status, e.queued_at, e.job_seq LIMIT ?3",
	[ST_JOB_EXECS] =
		"SELECT " EXEC_COLUMNS " FROM executions e JOIN jobs j ON j.seq = e.job_seq"
		" WHERE e.job_seq = ?1 AND ((1 << e.status) & ?2) != 0" LATEST_ONLY
		" ORDER BY e.thing",
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmt[ST_COUNT];
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

/* ---- row mapping ---- */

static char *column_strdup(sqlite3_stmt *st, int col)
{
	const unsigned char *text = sqlite3_column_text(st, col);
	return text ? strdup((const char *)text) : NULL;
}

static void column_copy(sqlite3_stmt *st, int col, char *dst, size_t size)
{
	const unsigned char *text = sqlite3_column_text(st, col);
	snprintf(dst, size, "%s", text ? (const char *)text : "");
}

static int bind_text_or_null(sqlite3_stmt *st, int idx, const char *s)
{
	return s ? sqlite3_bind_text(st, idx, s, -1, SQLITE_STATIC) : sqlite3_bind_null(st, idx);
}

void store_job_free(struct store_job *job)
{
	free(job->description);
	free(job->document);
	free(job->targets);
	free(job->reason_code);
	free(job->comment);
	memset(job, 0, sizeof(*job));
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

static void read_job(sqlite3_stmt *st, struct store_job *job)
{
	memset(job, 0, sizeof(*job));
	job->seq = sqlite3_column_int64(st, 0);
	column_copy(st, 1, job->job_id, sizeof(job->job_id));
	column_copy(st, 2, job->namespace_id, sizeof(job->namespace_id));
	job->status = sqlite3_column_int(st, 3);
	job->target_selection = sqlite3_column_int(st, 4);
	job->description = column_strdup(st, 5);
	job->document = column_strdup(st, 6);
	job->targets = column_strdup(st, 7);
	job->created_at = sqlite3_column_int64(st, 8);
	job->last_updated_at = sqlite3_column_int64(st, 9);
	job->completed_at = sqlite3_column_int64(st, 10);
	job->force_canceled = sqlite3_column_int(st, 11) != 0;
	job->reason_code = column_strdup(st, 12);
	job->comment = column_strdup(st, 13);
}

static void read_exec(sqlite3_stmt *st, bool with_document, struct store_exec *e)
{
	memset(e, 0, sizeof(*e));
	column_copy(st, 0, e->thing, sizeof(e->thing));
	e->job_seq = sqlite3_column_int64(st, 1);
	column_copy(st, 2, e->job_id, sizeof(e->job_id));
	column_copy(st, 3, e->namespace_id, sizeof(e->namespace_id));
	e->execution_number = sqlite3_column_int64(st, 4);
	e->status = sqlite3_column_int(st, 5);
	e->status_details = column_strdup(st, 6);
	e->queued_at = sqlite3_column_int64(st, 7);
	e->started_at = sqlite3_column_int64(st, 8);
	e->last_updated_at = sqlite3_column_int64(st, 9);
	e->version = sqlite3_column_int64(st, 10);
	e->step_timeout_minutes = sqlite3_column_int64(st, 11);
	e->force_canceled = sqlite3_column_int(st, 12) != 0;
	if(with_document) e->document = column_strdup(st, 13);
}

/* Runs a statement that returns no rows, then resets it. */
static int run_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if(rc == SQLITE_DONE) return STORE_OK;
	if(rc == SQLITE_CONSTRAINT) return STORE_EXISTS;
	return STORE_ERROR;
}

static void finish(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
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

int store_open(const char *path, enum jobs_sync sync, struct store **out, char *err, size_t errlen)
{
	struct store *s = calloc(1, sizeof(*s));
	if(!s){
		snprintf(err, errlen, "out of memory");
		return STORE_ERROR;
	}
	char msg[512] = "";
	int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if(rc != SQLITE_OK){
		snprintf(msg, sizeof(msg), "%s", s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto fail;
	}
	if(sqlite3_db_readonly(s->db, "main") == 1){
		snprintf(msg, sizeof(msg), "the file is read-only for this user");
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 100);
	const char *setup = sync == JOBS_SYNC_FULL
		? "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA cache_size = -16384;"
		: "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -16384;";
	if(exec_sql(s->db, setup, msg, sizeof(msg))) goto fail;
	if(migrate(s->db, path, msg, sizeof(msg))) goto fail;
	for(int i = 0; i < ST_COUNT; i++){
		if(sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[i], NULL) != SQLITE_OK){
			snprintf(msg, sizeof(msg), "preparing statement %d: %s", i, sqlite3_errmsg(s->db));
			goto fail;
		}
	}
	*out = s;
	return STORE_OK;

fail:
	snprintf(err, errlen, "cannot use database %s: %s", path, msg);
	store_close(s);
	return STORE_ERROR;
}

void store_close(struct store *s)
{
	if(!s) return;
	for(int i = 0; i < ST_COUNT; i++) sqlite3_finalize(s->stmt[i]);
	sqlite3_close(s->db);
	free(s);
}

/* ---- transactions ---- */

int store_begin(struct store *s)
{
	return run_done(s->stmt[ST_SAVEPOINT]);
}

int store_commit(struct store *s)
{
	int rc = run_done(s->stmt[ST_RELEASE]);
	if(rc != STORE_OK) store_rollback(s);
	return rc;
}

void store_rollback(struct store *s)
{
	run_done(s->stmt[ST_ROLLBACK_TO]);
	run_done(s->stmt[ST_RELEASE]);
}

/* ---- jobs ---- */

int store_job_get(struct store *s, const char *job_id, struct store_job *out)
{
	sqlite3_stmt *st = s->stmt[ST_JOB_GET];
	sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if(rc == SQLITE_ROW) read_job(st, out);
	finish(st);
	if(rc == SQLITE_ROW) return STORE_OK;
	return rc == SQLITE_DONE ? STORE_NOT_FOUND : STORE_ERROR;
}

int store_job_insert(struct store *s, struct store_job *job)
{
	sqlite3_stmt *st = s->stmt[ST_JOB_INSERT];
	sqlite3_bind_text(st, 1, job->job_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, job->namespace_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, job->status);
	sqlite3_bind_int(st, 4, job->target_selection);
	bind_text_or_null(st, 5, job->description);
	sqlite3_bind_text(st, 6, job->document, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, job->targets, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, job->created_at);
	sqlite3_bind_int64(st, 9, job->last_updated_at);
	int rc = run_done(st);
	if(rc == STORE_OK) job->seq = sqlite3_last_insert_rowid(s->db);
	return rc;
}

int store_job_update_status(struct store *s, const struct store_job *job)
{
	sqlite3_stmt *st = s->stmt[ST_JOB_UPDATE_STATUS];
	sqlite3_bind_int64(st, 1, job->seq);
	sqlite3_bind_int(st, 2, job->status);
	sqlite3_bind_int64(st, 3, job->last_updated_at);
	sqlite3_bind_int64(st, 4, job->completed_at);
	sqlite3_bind_int(st, 5, job->force_canceled ? 1 : 0);
	bind_text_or_null(st, 6, job->reason_code);
	bind_text_or_null(st, 7, job->comment);
	return run_done(st);
}

int store_job_counts(struct store *s, int64_t job_seq, int64_t counts[EXEC_STATUS_COUNT])
{
	sqlite3_stmt *st = s->stmt[ST_JOB_COUNTS];
	memset(counts, 0, sizeof(int64_t) * EXEC_STATUS_COUNT);
	sqlite3_bind_int64(st, 1, job_seq);
	int rc;
	while((rc = sqlite3_step(st)) == SQLITE_ROW){
		int status = sqlite3_column_int(st, 0);
		if(status >= 0 && status < EXEC_STATUS_COUNT) counts[status] = sqlite3_column_int64(st, 1);
	}
	finish(st);
	return rc == SQLITE_DONE ? STORE_OK : STORE_ERROR;
}

int store_job_has_pending(struct store *s, int64_t job_seq, bool *out)
{
	sqlite3_stmt *st = s->stmt[ST_JOB_HAS_PENDING];
	sqlite3_bind_int64(st, 1, job_seq);
	int rc = sqlite3_step(st);
	finish(st);
	if(rc != SQLITE_ROW && rc != SQLITE_DONE) return STORE_ERROR;
	*out = rc == SQLITE_ROW;
	return STORE_OK;
}

/* ---- executions ---- */

int store_exec_get(struct store *s, const char *thing, int64_t job_seq,
		int64_t execution_number, bool with_document, struct store_exec *out)
{
	sqlite3_stmt *st = s->stmt[execution_number ? ST_EXEC_GET : ST_EXEC_GET_LATEST];
	sqlite3_bind_text(st, 1, thing, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, job_seq);
	if(execution_number) sqlite3_bind_int64(st, 3, execution_number);
	int rc = sqlite3_step(st);
	if(rc == SQLITE_ROW) read_exec(st, with_document, out);
	finish(st);
	if(rc == SQLITE_ROW) return STORE_OK;
	return rc == SQLITE_DONE ? STORE_NOT_FOUND : STORE_ERROR;
}

int store_exec_insert(struct store *s, const struct store_exec *e)
{
	sqlite3_stmt *st = s->stmt[ST_EXEC_INSERT];
	sqlite3_bind_text(st, 1, e->thing, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, e->job_seq);
	sqlite3_bind_int64(st, 3, e->execution_number);
	sqlite3_bind_text(st, 4, e->namespace_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, e->status);
	bind_text_or_null(st, 6, e->status_details);
	sqlite3_bind_int64(st, 7, e->queued_at);
	sqlite3_bind_int64(st, 8, e->started_at);
	sqlite3_bind_int64(st, 9, e->last_updated_at);
	sqlite3_bind_int64(st, 10, e->version);
	sqlite3_bind_int64(st, 11, e->step_timeout_minutes);
	sqlite3_bind_int(st, 12, e->force_canceled ? 1 : 0);
	return run_done(st);
}

int store_exec_update(struct store *s, const struct store_exec *e)
{
	sqlite3_stmt *st = s->stmt[ST_EXEC_UPDATE];
	sqlite3_bind_text(st, 1, e->thing, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, e->job_seq);
	sqlite3_bind_int64(st, 3, e->execution_number);
	sqlite3_bind_int(st, 4, e->status);
	bind_text_or_null(st, 5, e->status_details);
	sqlite3_bind_int64(st, 6, e->started_at);
	sqlite3_bind_int64(st, 7, e->last_updated_at);
	sqlite3_bind_int64(st, 8, e->version);
	sqlite3_bind_int64(st, 9, e->step_timeout_minutes);
	sqlite3_bind_int(st, 10, e->force_canceled ? 1 : 0);
	int rc = run_done(st);
	if(rc == STORE_OK && sqlite3_changes(s->db) != 1) return STORE_NOT_FOUND;
	return rc;
}

/* Steps a bound statement into a malloc'd array of executions. */
static int collect_execs(sqlite3_stmt *st, bool with_document, struct store_exec **out, size_t *count)
{
	struct store_exec *arr = NULL;
	size_t n = 0, cap = 0;
	int rc;
	while((rc = sqlite3_step(st)) == SQLITE_ROW){
		if(n == cap){
			size_t ncap = cap ? cap * 2 : 16;
			struct store_exec *grown = realloc(arr, ncap * sizeof(*arr));
			if(!grown){
				rc = SQLITE_NOMEM;
				break;
			}
			arr = grown;
			cap = ncap;
		}
		read_exec(st, with_document, &arr[n++]);
	}
	finish(st);
	if(rc != SQLITE_DONE){
		store_exec_array_free(arr, n);
		return STORE_ERROR;
	}
	*out = arr;
	*count = n;
	return STORE_OK;
}

int store_pending(struct store *s, const char *thing, const char *namespace_id,
		int limit, bool with_document, struct store_exec **out, size_t *count)
{
	sqlite3_stmt *st = s->stmt[ST_PENDING];
	sqlite3_bind_text(st, 1, thing, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, namespace_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, limit);
	return collect_execs(st, with_document, out, count);
}

int store_job_executions(struct store *s, int64_t job_seq, unsigned status_mask,
		struct store_exec **out, size_t *count)
{
	sqlite3_stmt *st = s->stmt[ST_JOB_EXECS];
	sqlite3_bind_int64(st, 1, job_seq);
	sqlite3_bind_int64(st, 2, status_mask);
	return collect_execs(st, false, out, count);
}
