/* What the SQLite store's files share: the handle, the statement cache, the column
 * lists and row reading, and the operations sqlite_store.c puts in its table. Only
 * the sqlite_* files include this. */
#ifndef MOSQUITTO_JOBS_SQLITE_INTERNAL_H
#define MOSQUITTO_JOBS_SQLITE_INTERNAL_H

#include <assert.h>
#include <sqlite3.h>

#include "store/sqlite_store.h"
#include "store/store_impl.h"

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
	ST_JOB_SET_CONFIG,
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
	ST_COUNT_JOBS,
	ST_COUNT_EXECS,
	ST_COUNT_THINGS,
	ST_COUNT_GROUPS,
	ST_TEMPLATE_GET,
	ST_TEMPLATE_INSERT,
	ST_TEMPLATE_DELETE,
	ST_TEMPLATE_LIST,
	ST_THING_GET,
	ST_THING_INSERT,
	ST_THING_UPDATE,
	ST_THING_DELETE,
	ST_THING_LIST,
	ST_THING_GROUPS,
	ST_EVENT_CONFIGS,
	ST_EVENT_CONFIG_SET,
	ST_COUNT
};

struct checkpointer;

struct sqlite_store {
	struct store base;           /* first: what the port hands around */
	sqlite3 *db;
	sqlite3_stmt *stmt[ST_COUNT];
	int wal_frames;              /* the WAL's length after the last commit */
	struct checkpointer *checkpointer; /* NULL: SQLite's automatic checkpoints */
	int depth;                   /* request transactions (savepoints) open */
	bool batch;                  /* store_batch_begin opened a transaction */
	void *owner;                 /* a store built on this one (sqlite_store_open_as), or NULL */
};

/* The SQLite handle of a store the port hands to one of the operations below. */
static inline struct sqlite_store *sqlite_of(struct store *store)
{
	assert(store);
	return (struct sqlite_store *)store;
}

/* ---- statements (sqlite_rows.c) ---- */

/* The cached statement for `id`, prepared from `sql` on first use; NULL on error. */
sqlite3_stmt *sqlite_stmt(struct sqlite_store *s, enum stmt_id id, const char *sql);
/* Runs SQL text of one or more statements (set-up, migrations): 0, or -1 with SQLite's
 * message in err. */
int sqlite_run_script(sqlite3 *db, const char *sql, char *err, size_t errlen);
/* Steps a statement that returns no rows and resets it: STORE_OK, STORE_EXISTS
 * (constraint), or STORE_ERROR. NULL (a statement that could not be prepared) is
 * STORE_ERROR. */
int sqlite_step_done(sqlite3_stmt *st);
/* Resets a statement after reading its rows. */
void sqlite_finish(sqlite3_stmt *st);
int sqlite_bind_text_or_null(sqlite3_stmt *st, int idx, const char *s);
char *sqlite_column_strdup(sqlite3_stmt *st, int col);
void sqlite_column_copy(sqlite3_stmt *st, int col, char *dst, size_t size);

/* ---- column lists ----
 * Each list names its columns once, in SELECT order: F(NAME, "sql", KIND, arg) for the
 * first, X(NAME, "sql", KIND, arg) for each other. The enum of column indexes and the
 * SELECT list of each form of a query are generated from it, so rows are read by
 * column name and the indexes cannot drift from the SELECT lists. A form leaves a KIND
 * out by selecting NULL in its place, which keeps every column at its index (SQLite
 * reads every selected column of each row, and a document may be 32 KB of overflow
 * pages), or selects only the first of two lists. SQLITE_IN_<form>_<KIND> says whether
 * a form selects a kind (1) or NULL (0). */
#define SQLITE_COL_INDEX(name, sql, kind, prefix) prefix##name,
#define SQLITE_COL_FIRST(name, sql, kind, form) SQLITE_PICK(SQLITE_IN_##form##_##kind, sql)
#define SQLITE_COL_NEXT(name, sql, kind, form) ", " SQLITE_PICK(SQLITE_IN_##form##_##kind, sql)
#define SQLITE_PICK(in, sql) SQLITE_PICK_(in, sql)
#define SQLITE_PICK_(in, sql) SQLITE_PICK_##in(sql)
#define SQLITE_PICK_1(sql) sql
#define SQLITE_PICK_0(sql) "NULL"

/* An execution (table aliased e) joined with its job (j), in two lists: what a
 * summary shows (JobExecutionSummary, and the ids), then the rest, so that the
 * summary's columns are at the same indexes in every form. KIND: ROW, or DOC (the
 * job's document: only when asked for). */
#define SQLITE_EXEC_SUMMARY_COLUMNS(F, X, arg) \
	F(THING,                "e.thing",                ROW, arg) \
	X(JOB_SEQ,              "e.job_seq",              ROW, arg) \
	X(JOB_ID,               "j.job_id",               ROW, arg) \
	X(NAMESPACE_ID,         "e.namespace_id",         ROW, arg) \
	X(EXECUTION_NUMBER,     "e.execution_number",     ROW, arg) \
	X(STATUS,               "e.status",               ROW, arg) \
	X(QUEUED_AT,            "e.queued_at",            ROW, arg) \
	X(STARTED_AT,           "e.started_at",           ROW, arg) \
	X(LAST_UPDATED_AT,      "e.last_updated_at",      ROW, arg) \
	X(VERSION,              "e.version",              ROW, arg)
#define SQLITE_EXEC_DETAIL_COLUMNS(X, arg) \
	X(STATUS_DETAILS,       "e.status_details",       ROW, arg) \
	X(STEP_TIMEOUT_MINUTES, "e.step_timeout_minutes", ROW, arg) \
	X(FORCE_CANCELED,       "e.force_canceled",       ROW, arg) \
	X(STEP_DEADLINE_MS,     "e.step_deadline_ms",     ROW, arg) \
	X(PROGRESS_DEADLINE_MS, "e.progress_deadline_ms", ROW, arg) \
	X(RETRY_ATTEMPT,        "e.retry_attempt",        ROW, arg) \
	X(JOB_TIMEOUT_MINUTES,  "j.timeout_minutes",      ROW, arg) \
	X(DOCUMENT,             "j.document",             DOC, arg)
enum exec_col {
	SQLITE_EXEC_SUMMARY_COLUMNS(SQLITE_COL_INDEX, SQLITE_COL_INDEX, EXEC_COL_)
	SQLITE_EXEC_DETAIL_COLUMNS(SQLITE_COL_INDEX, EXEC_COL_)
	EXEC_COL_COUNT
};
/* The forms: WITH_DOC, NO_DOC (the document NULL), SUMMARY (the summary's columns only). */
#define SQLITE_IN_EXEC_WITH_DOC_ROW 1
#define SQLITE_IN_EXEC_WITH_DOC_DOC 1
#define SQLITE_IN_EXEC_NO_DOC_ROW 1
#define SQLITE_IN_EXEC_NO_DOC_DOC 0
#define SQLITE_IN_EXEC_SUMMARY_ROW 1
#define SQLITE_EXEC_SELECT_SUMMARY_ SQLITE_EXEC_SUMMARY_COLUMNS(SQLITE_COL_FIRST, SQLITE_COL_NEXT, EXEC_SUMMARY)
#define SQLITE_EXEC_SELECT_WITH_DOC_ SQLITE_EXEC_SUMMARY_COLUMNS(SQLITE_COL_FIRST, SQLITE_COL_NEXT, EXEC_WITH_DOC) \
	SQLITE_EXEC_DETAIL_COLUMNS(SQLITE_COL_NEXT, EXEC_WITH_DOC)
#define SQLITE_EXEC_SELECT_NO_DOC_ SQLITE_EXEC_SUMMARY_COLUMNS(SQLITE_COL_FIRST, SQLITE_COL_NEXT, EXEC_NO_DOC) \
	SQLITE_EXEC_DETAIL_COLUMNS(SQLITE_COL_NEXT, EXEC_NO_DOC)
#define SQLITE_EXEC_SELECT(form) SQLITE_EXEC_SELECT_##form##_

/* A job (table aliased j). KIND: STATE (every form), TEXT (the long texts: not in the
 * STATE form, which store_job_get_state reads). */
#define SQLITE_JOB_COLUMNS(F, X, arg) \
	F(SEQ,                    "j.seq",                    STATE, arg) \
	X(JOB_ID,                 "j.job_id",                 STATE, arg) \
	X(NAMESPACE_ID,           "j.namespace_id",           STATE, arg) \
	X(STATUS,                 "j.status",                 STATE, arg) \
	X(TARGET_SELECTION,       "j.target_selection",       STATE, arg) \
	X(DESCRIPTION,            "j.description",            TEXT,  arg) \
	X(DOCUMENT,               "j.document",               TEXT,  arg) \
	X(TARGETS,                "j.targets",                TEXT,  arg) \
	X(CREATED_AT,             "j.created_at",             STATE, arg) \
	X(LAST_UPDATED_AT,        "j.last_updated_at",        STATE, arg) \
	X(COMPLETED_AT,           "j.completed_at",           STATE, arg) \
	X(FORCE_CANCELED,         "j.force_canceled",         STATE, arg) \
	X(REASON_CODE,            "j.reason_code",            STATE, arg) \
	X(COMMENT,                "j.comment",                STATE, arg) \
	X(ABORT_CONFIG,           "j.abort_config",           STATE, arg) \
	X(POLICIES,               "j.policies",               STATE, arg) \
	X(TIMEOUT_MINUTES,        "j.timeout_minutes",        STATE, arg) \
	X(RETRY_FAILED,           "j.retry_failed",           STATE, arg) \
	X(RETRY_TIMED_OUT,        "j.retry_timed_out",        STATE, arg) \
	X(ROLLOUT_RATE,           "j.rollout_rate",           STATE, arg) \
	X(ROLLOUT_MAX,            "j.rollout_max",            STATE, arg) \
	X(ROLLOUT_FACTOR,         "j.rollout_factor",         STATE, arg) \
	X(ROLLOUT_NOTIFIED_STEP,  "j.rollout_notified_step",  STATE, arg) \
	X(ROLLOUT_SUCCEEDED_STEP, "j.rollout_succeeded_step", STATE, arg) \
	X(ROLLOUT_BASE_COUNT,     "j.rollout_base_count",     STATE, arg) \
	X(WINDOW_START_MS,        "j.window_start_ms",        STATE, arg) \
	X(WINDOW_RELEASED,        "j.window_released",        STATE, arg) \
	X(RELEASED_TOTAL,         "j.released_total",         STATE, arg) \
	X(START_MS,               "j.start_ms",               STATE, arg) \
	X(END_MS,                 "j.end_ms",                 STATE, arg) \
	X(END_BEHAVIOR,           "j.end_behavior",           STATE, arg) \
	X(WAKE_MS,                "j.wake_ms",                STATE, arg) \
	X(MAINTENANCE_WINDOWS,    "j.maintenance_windows",    STATE, arg)
enum job_col { SQLITE_JOB_COLUMNS(SQLITE_COL_INDEX, SQLITE_COL_INDEX, JOB_COL_) JOB_COL_COUNT };
/* The forms: ALL, STATE. */
#define SQLITE_IN_JOB_ALL_STATE 1
#define SQLITE_IN_JOB_ALL_TEXT 1
#define SQLITE_IN_JOB_STATE_STATE 1
#define SQLITE_IN_JOB_STATE_TEXT 0
#define SQLITE_JOB_SELECT(form) SQLITE_JOB_COLUMNS(SQLITE_COL_FIRST, SQLITE_COL_NEXT, JOB_##form)

/* A thing group (table thing_groups), in one form. */
#define SQLITE_GROUP_COLUMNS(F, X, arg) \
	F(NAME,        "name",        ROW, arg) \
	X(DESCRIPTION, "description", ROW, arg) \
	X(CREATED_AT,  "created_at",  ROW, arg)
enum group_col { SQLITE_GROUP_COLUMNS(SQLITE_COL_INDEX, SQLITE_COL_INDEX, GROUP_COL_) GROUP_COL_COUNT };
#define SQLITE_IN_GROUP_ALL_ROW 1
#define SQLITE_GROUP_SELECT SQLITE_GROUP_COLUMNS(SQLITE_COL_FIRST, SQLITE_COL_NEXT, GROUP_ALL)

/* A job template (table job_templates), in one form. */
#define SQLITE_TEMPLATE_COLUMNS(F, X, arg) \
	F(ID,          "template_id", ROW, arg) \
	X(DESCRIPTION, "description", ROW, arg) \
	X(FIELDS,      "fields",      ROW, arg) \
	X(CREATED_AT,  "created_at",  ROW, arg)
enum template_col { SQLITE_TEMPLATE_COLUMNS(SQLITE_COL_INDEX, SQLITE_COL_INDEX, TEMPLATE_COL_) TEMPLATE_COL_COUNT };
#define SQLITE_IN_TEMPLATE_ALL_ROW 1
#define SQLITE_TEMPLATE_SELECT SQLITE_TEMPLATE_COLUMNS(SQLITE_COL_FIRST, SQLITE_COL_NEXT, TEMPLATE_ALL)
/* A registered thing (table things), in one form. */
#define SQLITE_THING_COLUMNS(F, X, arg) \
	F(NAME,       "name",       ROW, arg) \
	X(THING_ID,   "thing_id",   ROW, arg) \
	X(TYPE_NAME,  "type_name",  ROW, arg) \
	X(ATTRIBUTES, "attributes", ROW, arg) \
	X(VERSION,    "version",    ROW, arg) \
	X(CREATED_AT, "created_at", ROW, arg)
enum thing_col { SQLITE_THING_COLUMNS(SQLITE_COL_INDEX, SQLITE_COL_INDEX, THING_COL_) THING_COL_COUNT };
#define SQLITE_IN_THING_ALL_ROW 1
#define SQLITE_THING_SELECT SQLITE_THING_COLUMNS(SQLITE_COL_FIRST, SQLITE_COL_NEXT, THING_ALL)

/* ---- reading rows (sqlite_rows.c) ---- */

/* A growing array of items of `size` bytes each, for the queries that return lists. */
struct sqlite_rows {
	void *items;
	size_t count, cap, size;
};
/* A new zeroed item at the end, or NULL when out of memory. */
void *sqlite_rows_next(struct sqlite_rows *rows);
/* Maps the current row of a statement into an item. */
typedef void (*sqlite_read_fn)(sqlite3_stmt *st, void *item);
/* Frees `count` items and the array that holds them. */
typedef void (*sqlite_free_fn)(void *items, size_t count);
/* The one row-fetch loop: steps a bound query to its end, each row read into a new
 * item at the end of rows, and resets the statement. STORE_OK, or STORE_ERROR with
 * every item of rows freed (free_items; NULL: items that own nothing) and rows empty. */
int sqlite_fetch_rows(sqlite3_stmt *st, struct sqlite_rows *rows, sqlite_read_fn read, sqlite_free_fn free_items);

/* Bound queries selecting SQLITE_EXEC_SELECT(WITH_DOC or NO_DOC) (the document is NULL
 * in the second), or SQLITE_EXEC_SELECT(SUMMARY) (the other fields zero, not loaded):
 * one row into *out (STORE_NOT_FOUND when none), or every row into a malloc'd array
 * (store_exec_array_free). */
int sqlite_fetch_exec(sqlite3_stmt *st, struct store_exec *out);
int sqlite_fetch_execs(sqlite3_stmt *st, struct store_exec **out, size_t *count);
int sqlite_fetch_summaries(sqlite3_stmt *st, struct store_exec **out, size_t *count);
/* The same for SQLITE_JOB_SELECT(ALL or STATE) (store_job_array_free). */
int sqlite_fetch_job(sqlite3_stmt *st, struct store_job *out);
int sqlite_fetch_jobs(sqlite3_stmt *st, struct store_job **out, size_t *count);
/* The same for SQLITE_GROUP_SELECT (store_group_array_free). */
int sqlite_fetch_group(sqlite3_stmt *st, struct store_group *out);
int sqlite_fetch_groups(sqlite3_stmt *st, struct store_group **out, size_t *count);
/* The same for SQLITE_TEMPLATE_SELECT (store_template_array_free). */
int sqlite_fetch_template(sqlite3_stmt *st, struct store_template *out);
int sqlite_fetch_templates(sqlite3_stmt *st, struct store_template **out, size_t *count);
/* The same for SQLITE_THING_SELECT (store_thing_array_free). */
int sqlite_fetch_thing(sqlite3_stmt *st, struct store_thing *out);
int sqlite_fetch_things(sqlite3_stmt *st, struct store_thing **out, size_t *count);
/* A query of one name column: its rows appended to rows (of struct store_name), as
 * sqlite_fetch_rows. */
int sqlite_fetch_names(sqlite3_stmt *st, struct sqlite_rows *rows);

/* ---- schema (sqlite_schema.c) ---- */

/* Whether this plugin may open the database: SQLITE_SCHEMA_NEWER, with err saying so
 * in full, when a newer plugin wrote it; -1 when its version cannot be read. Only
 * reads: called before anything that could write the file (its journal mode). */
#define SQLITE_SCHEMA_NEWER (-2)
int sqlite_schema_check(sqlite3 *db, const char *path, char *err, size_t errlen);
/* Takes the database's schema to JOBS_SQLITE_SCHEMA_VERSION, taking the write lock
 * even when there is nothing to do (so that an unwritable database fails here). -1
 * (SQLITE_SCHEMA_NEWER as above) with err set on failure; `path` only names the
 * database in err. */
int sqlite_migrate(sqlite3 *db, const char *path, char *err, size_t errlen);

/* ---- the operations of store_impl.h (sqlite_jobs.c, sqlite_groups.c, sqlite_things.c,
 * sqlite_counts.c) ---- */

int sqlite_job_get(struct store *store, const char *job_id, struct store_job *out);
int sqlite_job_get_state(struct store *store, const char *job_id, struct store_job *out);
int sqlite_job_insert(struct store *store, struct store_job *job);
int sqlite_job_update(struct store *store, const struct store_job *job);
int sqlite_job_set_config(struct store *store, const struct store_job *job);
int sqlite_job_counts(struct store *store, int64_t job_seq, int64_t counts[EXEC_STATUS_COUNT]);
int sqlite_job_delete(struct store *store, int64_t job_seq);
int sqlite_job_list(struct store *store, const struct store_job_filter *filter, int64_t offset,
		int limit, struct store_job **out, size_t *count);
int sqlite_job_has_pending(struct store *store, int64_t job_seq, bool *out);
int sqlite_exec_get(struct store *store, const char *thing, int64_t job_seq,
		int64_t execution_number, bool with_document, struct store_exec *out);
int sqlite_exec_find(struct store *store, const char *thing, const char *job_id,
		const char *namespace_id, int64_t execution_number, bool with_document,
		struct store_exec *out);
int sqlite_exec_insert(struct store *store, const struct store_exec *exec);
int sqlite_exec_update(struct store *store, const struct store_exec *exec);
int sqlite_exec_delete(struct store *store, const char *thing, int64_t job_seq, int64_t execution_number);
int sqlite_pending(struct store *store, const char *thing, const char *namespace_id,
		int limit, bool with_document, struct store_exec **out, size_t *count);
int sqlite_pending_summaries(struct store *store, const char *thing, const char *namespace_id,
		int limit, struct store_exec **out, size_t *count);
int sqlite_job_executions(struct store *store, int64_t job_seq, unsigned status_mask,
		struct store_exec **out, size_t *count);
int sqlite_job_exec_page(struct store *store, int64_t job_seq, int status, int64_t offset,
		int limit, struct store_exec **out, size_t *count);
int sqlite_thing_exec_page(struct store *store, const char *thing, int status,
		const char *namespace_id, int64_t offset, int limit, struct store_exec **out, size_t *count);
int sqlite_due_executions(struct store *store, int64_t now_ms, int limit, struct store_exec **out, size_t *count);
int sqlite_next_deadline(struct store *store, int64_t *out_ms);
int sqlite_due_jobs(struct store *store, int64_t now_ms, int limit, struct store_job **out, size_t *count);
int sqlite_next_job_wake(struct store *store, int64_t *out_ms);
int sqlite_rollout_push(struct store *store, int64_t job_seq, const char *thing);
int sqlite_rollout_push_group(struct store *store, int64_t job_seq, const char *group);
int sqlite_rollout_pop(struct store *store, int64_t job_seq, int limit, struct store_name **out, size_t *count);
int sqlite_rollout_clear(struct store *store, int64_t job_seq);
int sqlite_rollout_count(struct store *store, int64_t job_seq, int64_t *out);

int sqlite_group_get(struct store *store, const char *name, struct store_group *out);
int sqlite_group_insert(struct store *store, const struct store_group *group);
int sqlite_group_delete(struct store *store, const char *name);
int sqlite_group_list(struct store *store, const char *prefix, int64_t offset, int limit,
		struct store_group **out, size_t *count);
int sqlite_member_add(struct store *store, const char *group, const char *thing, int64_t now);
int sqlite_member_remove(struct store *store, const char *group, const char *thing);
int sqlite_member_list(struct store *store, const char *group, int64_t offset, int limit,
		struct store_name **out, size_t *count);
int sqlite_target_add(struct store *store, int64_t job_seq, enum target_kind kind, const char *name);
int sqlite_continuous_jobs_for_group(struct store *store, const char *group,
		struct store_job **out, size_t *count);
int sqlite_job_targets_thing(struct store *store, int64_t job_seq, const char *thing, bool *out);

/* sqlite_templates.c */
int sqlite_template_get(struct store *store, const char *id, struct store_template *out);
int sqlite_template_insert(struct store *store, const struct store_template *t);
int sqlite_template_delete(struct store *store, const char *id);
int sqlite_template_list(struct store *store, int64_t offset, int limit,
		struct store_template **out, size_t *count);
int sqlite_thing_get(struct store *store, const char *name, struct store_thing *out);
int sqlite_thing_insert(struct store *store, const struct store_thing *thing);
int sqlite_thing_update(struct store *store, const struct store_thing *thing);
int sqlite_thing_delete(struct store *store, const char *name);
int sqlite_thing_list(struct store *store, const struct store_thing_filter *filter, int64_t offset,
		int limit, struct store_thing **out, size_t *count);
int sqlite_thing_groups(struct store *store, const char *thing, int64_t offset, int limit,
		struct store_name **out, size_t *count);
/* sqlite_events.c */
int sqlite_event_configs(struct store *store, struct store_event_config **out, size_t *count);
int sqlite_event_config_set(struct store *store, const char *type, bool enabled, int64_t now);

/* sqlite_counts.c */
void sqlite_info(struct store *store, struct store_info *out);
int sqlite_counts(struct store *store, struct store_counts *out);
int sqlite_status_counts(struct store *store, struct store_counts *out);

#endif
