/* What the store's files share: the connection, the statement cache and row
 * mapping. Not part of the core's public surface. */
#ifndef MOSQUITTO_JOBS_STORE_INTERNAL_H
#define MOSQUITTO_JOBS_STORE_INTERNAL_H

#include <sqlite3.h>

#include "store/store.h"

/* One slot per statement; each is prepared on first use, with the SQL written next
 * to the function that runs it, and kept for the life of the connection. */
enum stmt_id {
	ST_SAVEPOINT,
	ST_RELEASE,
	ST_ROLLBACK_TO,
	ST_BATCH_BEGIN,
	ST_BATCH_COMMIT,
	ST_BATCH_ROLLBACK,
	ST_JOB_GET,
	ST_JOB_GET_STATE,
	ST_JOB_INSERT,
	ST_JOB_UPDATE,
	ST_JOB_DELETE,
	ST_JOB_DELETE_COUNTS,
	ST_JOB_DELETE_EXECS,
	ST_JOB_DELETE_TARGETS,
	ST_JOB_COUNTS,
	ST_JOB_HAS_PENDING,
	ST_JOB_LIST,
	ST_EXEC_GET,
	ST_EXEC_GET_LATEST,
	ST_EXEC_GET_DOC,
	ST_EXEC_GET_LATEST_DOC,
	ST_EXEC_FIND,
	ST_EXEC_FIND_LATEST,
	ST_EXEC_FIND_DOC,
	ST_EXEC_FIND_LATEST_DOC,
	ST_EXEC_UPDATE_PROGRESS,
	ST_EXEC_INSERT,
	ST_EXEC_UPDATE,
	ST_EXEC_DELETE,
	ST_PENDING,
	ST_PENDING_DOC,
	ST_PENDING_SUMMARIES,
	ST_JOB_EXECS,
	ST_JOB_EXECS_PAGE,
	ST_THING_EXECS_PAGE,
	ST_TARGET_INSERT,
	ST_TARGET_JOBS_FOR_GROUP,
	ST_TARGETS_THING,
	ST_DUE_EXECS,
	ST_NEXT_DEADLINE,
	ST_DUE_JOBS,
	ST_NEXT_WAKE,
	ST_ROLLOUT_PUSH,
	ST_ROLLOUT_PUSH_GROUP,
	ST_ROLLOUT_PEEK,
	ST_ROLLOUT_GROUP_PAGE,
	ST_ROLLOUT_CURSOR,
	ST_ROLLOUT_DELETE,
	ST_ROLLOUT_CLEAR,
	ST_ROLLOUT_COUNT,
	ST_GROUP_GET,
	ST_GROUP_INSERT,
	ST_GROUP_DELETE,
	ST_GROUP_DELETE_MEMBERS,
	ST_GROUP_LIST,
	ST_MEMBER_INSERT,
	ST_MEMBER_DELETE,
	ST_MEMBER_LIST,
	ST_COUNT
};

struct checkpointer;

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmt[ST_COUNT];
	int wal_frames;              /* the WAL's length after the last commit */
	struct checkpointer *checkpointer; /* NULL: SQLite's automatic checkpoints */
};

/* The cached statement for `id`, prepared from `sql` on first use; NULL on error. */
sqlite3_stmt *store_stmt(struct store *s, enum stmt_id id, const char *sql);
/* Steps a statement that returns no rows and resets it: STORE_OK, STORE_EXISTS
 * (constraint), or STORE_ERROR. */
int store_step_done(sqlite3_stmt *st);
/* Resets a statement after reading its rows. */
void store_finish(sqlite3_stmt *st);
int store_bind_text_or_null(sqlite3_stmt *st, int idx, const char *s);
char *store_column_strdup(sqlite3_stmt *st, int col);
void store_column_copy(sqlite3_stmt *st, int col, char *dst, size_t size);

/* A growing array of rows of `size` bytes each, for the queries that return lists. */
struct store_rows {
	void *items;
	size_t count, cap, size;
};
/* A new zeroed slot at the end, or NULL when out of memory. */
void *store_rows_next(struct store_rows *rows);

/* Columns every execution query selects, in the order store_read_exec expects: the
 * job's document last. A query that leaves the document out selects NULL in its place
 * (STORE_EXEC_COLUMNS_NO_DOCUMENT): SQLite reads every selected column of each row,
 * and a document may be 32 KB of overflow pages. */
#define STORE_EXEC_COLUMNS_BUT_DOCUMENT \
	"e.thing, e.job_seq, j.job_id, e.namespace_id, e.execution_number, e.status, e.status_details," \
	" e.queued_at, e.started_at, e.last_updated_at, e.version, e.step_timeout_minutes," \
	" e.force_canceled, e.step_deadline_ms, e.progress_deadline_ms, e.retry_attempt, j.timeout_minutes"
#define STORE_EXEC_COLUMNS STORE_EXEC_COLUMNS_BUT_DOCUMENT ", j.document"
#define STORE_EXEC_COLUMNS_NO_DOCUMENT STORE_EXEC_COLUMNS_BUT_DOCUMENT ", NULL"
/* Steps a bound execution query into a malloc'd array (store_exec_array_free). */
int store_collect_execs(sqlite3_stmt *st, struct store_exec **out, size_t *count);
/* The columns a summary needs (JobExecutionSummary and the execution's ids), in the
 * order store_collect_summaries expects. */
#define STORE_EXEC_SUMMARY_COLUMNS \
	"e.thing, e.job_seq, j.job_id, e.namespace_id, e.execution_number, e.status, e.queued_at," \
	" e.started_at, e.last_updated_at, e.version"
/* Steps a bound summary query into a malloc'd array (store_exec_array_free); the
 * other fields of each execution are zero. */
int store_collect_summaries(sqlite3_stmt *st, struct store_exec **out, size_t *count);
/* Steps a bound execution query once, into *out: STORE_NOT_FOUND when it yields no row. */
int store_collect_exec(sqlite3_stmt *st, struct store_exec *out);


/* Columns every job query selects (the table aliased `j`), in the order
 * store_collect_jobs expects; STORE_JOB_COLUMNS_NO_TEXTS selects NULL for the
 * description, the document and the targets, which may be long. */
#define STORE_JOB_COLUMNS_HEAD "j.seq, j.job_id, j.namespace_id, j.status, j.target_selection"
#define STORE_JOB_COLUMNS_TAIL \
	" j.created_at, j.last_updated_at, j.completed_at, j.force_canceled, j.reason_code," \
	" j.comment, j.abort_config, j.policies, j.timeout_minutes, j.retry_failed, j.retry_timed_out," \
	" j.rollout_rate, j.rollout_max, j.rollout_factor, j.rollout_notified_step, j.rollout_succeeded_step," \
	" j.rollout_base_count, j.window_start_ms, j.window_released, j.released_total, j.start_ms, j.end_ms," \
	" j.end_behavior, j.wake_ms"
#define STORE_JOB_COLUMNS STORE_JOB_COLUMNS_HEAD ", j.description, j.document, j.targets," STORE_JOB_COLUMNS_TAIL
#define STORE_JOB_COLUMNS_NO_TEXTS STORE_JOB_COLUMNS_HEAD ", NULL, NULL, NULL," STORE_JOB_COLUMNS_TAIL
/* Steps a bound job query into a malloc'd array (store_job_array_free). */
int store_collect_jobs(sqlite3_stmt *st, struct store_job **out, size_t *count);

#endif
