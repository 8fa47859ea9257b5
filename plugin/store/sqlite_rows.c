/* The SQLite store's statements and rows: the statement cache, binding and column
 * helpers, the one row-fetch loop, and the mapping of rows into the port's records,
 * each column addressed by its name in the column lists of sqlite_internal.h. */
#include "store/sqlite_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sqlite3_stmt *sqlite_stmt(struct sqlite_store *s, enum stmt_id id, const char *sql)
{
	assert(s && id < ST_COUNT && sql);
	if(!s->stmt[id]){
		if(sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[id], NULL) != SQLITE_OK){
			s->stmt[id] = NULL;
		}
	}
	return s->stmt[id];
}

char *sqlite_column_strdup(sqlite3_stmt *st, int col)
{
	const unsigned char *text = sqlite3_column_text(st, col);
	return text ? strdup((const char *)text) : NULL;
}

void sqlite_column_copy(sqlite3_stmt *st, int col, char *dst, size_t size)
{
	const unsigned char *text = sqlite3_column_text(st, col);
	snprintf(dst, size, "%s", text ? (const char *)text : "");
}

int sqlite_bind_text_or_null(sqlite3_stmt *st, int idx, const char *s)
{
	return s ? sqlite3_bind_text(st, idx, s, -1, SQLITE_STATIC) : sqlite3_bind_null(st, idx);
}

int sqlite_run_script(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;
	if(sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK){
		snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int sqlite_step_done(sqlite3_stmt *st)
{
	if(!st) return STORE_ERROR;
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if(rc == SQLITE_DONE) return STORE_OK;
	if(rc == SQLITE_CONSTRAINT) return STORE_EXISTS;
	return STORE_ERROR;
}

void sqlite_finish(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

void *sqlite_rows_next(struct sqlite_rows *rows)
{
	assert(rows->size > 0 && rows->count <= rows->cap);
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

int sqlite_fetch_rows(sqlite3_stmt *st, struct sqlite_rows *rows, sqlite_read_fn read, sqlite_free_fn free_items)
{
	assert(st && rows && read);
	int rc;
	while((rc = sqlite3_step(st)) == SQLITE_ROW){
		void *item = sqlite_rows_next(rows);
		if(!item){
			rc = SQLITE_NOMEM;
			break;
		}
		read(st, item);
	}
	sqlite_finish(st);
	if(rc == SQLITE_DONE) return STORE_OK;
	if(free_items) free_items(rows->items, rows->count);
	else free(rows->items);
	rows->items = NULL;
	rows->count = rows->cap = 0;
	return STORE_ERROR;
}

/* One row into *out: STORE_NOT_FOUND when the query yields none. */
static int fetch_one(sqlite3_stmt *st, sqlite_read_fn read, void *out)
{
	assert(st && out);
	int rc = sqlite3_step(st);
	if(rc == SQLITE_ROW) read(st, out);
	sqlite_finish(st);
	if(rc == SQLITE_ROW) return STORE_OK;
	return rc == SQLITE_DONE ? STORE_NOT_FOUND : STORE_ERROR;
}

/* Every row into a malloc'd array of `size`-byte items, given to the caller through
 * out_array (the address of a pointer to the items' type) and count on success. */
static int fetch_all(sqlite3_stmt *st, size_t size, sqlite_read_fn read, sqlite_free_fn free_items,
		void *out_array, size_t *count)
{
	assert(out_array && count);
	struct sqlite_rows rows = { .size = size };
	int rc = sqlite_fetch_rows(st, &rows, read, free_items);
	if(rc == STORE_OK){
		memcpy(out_array, &rows.items, sizeof(rows.items));
		*count = rows.count;
	}
	return rc;
}

/* ---- executions ---- */

/* The columns every form selects: which execution, and its status. */
static void read_ids(sqlite3_stmt *st, struct store_exec *e)
{
	memset(e, 0, sizeof(*e));
	sqlite_column_copy(st, EXEC_COL_THING, e->thing, sizeof(e->thing));
	e->job_seq = sqlite3_column_int64(st, EXEC_COL_JOB_SEQ);
	sqlite_column_copy(st, EXEC_COL_JOB_ID, e->job_id, sizeof(e->job_id));
	sqlite_column_copy(st, EXEC_COL_NAMESPACE_ID, e->namespace_id, sizeof(e->namespace_id));
	e->execution_number = sqlite3_column_int64(st, EXEC_COL_EXECUTION_NUMBER);
	e->status = sqlite3_column_int(st, EXEC_COL_STATUS);
}

/* The job's document is NULL when the query selected NULL in its place. */
static void read_exec(sqlite3_stmt *st, void *item)
{
	struct store_exec *e = item;
	read_ids(st, e);
	e->status_details = sqlite_column_strdup(st, EXEC_COL_STATUS_DETAILS);
	e->queued_at = sqlite3_column_int64(st, EXEC_COL_QUEUED_AT);
	e->started_at = sqlite3_column_int64(st, EXEC_COL_STARTED_AT);
	e->last_updated_at = sqlite3_column_int64(st, EXEC_COL_LAST_UPDATED_AT);
	e->version = sqlite3_column_int64(st, EXEC_COL_VERSION);
	e->step_timeout_minutes = sqlite3_column_int64(st, EXEC_COL_STEP_TIMEOUT_MINUTES);
	e->force_canceled = sqlite3_column_int(st, EXEC_COL_FORCE_CANCELED) != 0;
	e->step_deadline_ms = sqlite3_column_int64(st, EXEC_COL_STEP_DEADLINE_MS);
	e->progress_deadline_ms = sqlite3_column_int64(st, EXEC_COL_PROGRESS_DEADLINE_MS);
	e->retry_attempt = sqlite3_column_int64(st, EXEC_COL_RETRY_ATTEMPT);
	e->job_timeout_minutes = sqlite3_column_int64(st, EXEC_COL_JOB_TIMEOUT_MINUTES);
	e->document = sqlite_column_strdup(st, EXEC_COL_DOCUMENT);
	e->loaded = true;
	e->loaded_status = e->status;
	e->loaded_deadline_ms = store_exec_deadline(e);
}

/* The columns of SQLITE_EXEC_SELECT(SUMMARY): a summary's fields and the ids. */
static void read_summary(sqlite3_stmt *st, void *item)
{
	struct store_exec *e = item;
	read_ids(st, e);
	e->queued_at = sqlite3_column_int64(st, EXEC_COL_QUEUED_AT);
	e->started_at = sqlite3_column_int64(st, EXEC_COL_STARTED_AT);
	e->last_updated_at = sqlite3_column_int64(st, EXEC_COL_LAST_UPDATED_AT);
	e->version = sqlite3_column_int64(st, EXEC_COL_VERSION);
}

static void free_execs(void *items, size_t count)
{
	store_exec_array_free(items, count);
}

int sqlite_fetch_exec(sqlite3_stmt *st, struct store_exec *out)
{
	return fetch_one(st, read_exec, out);
}

int sqlite_fetch_execs(sqlite3_stmt *st, struct store_exec **out, size_t *count)
{
	return fetch_all(st, sizeof(**out), read_exec, free_execs, out, count);
}

int sqlite_fetch_summaries(sqlite3_stmt *st, struct store_exec **out, size_t *count)
{
	return fetch_all(st, sizeof(**out), read_summary, free_execs, out, count);
}

/* ---- jobs ---- */

/* The texts are NULL when the query selected NULL in their place. */
static void read_job(sqlite3_stmt *st, void *item)
{
	struct store_job *job = item;
	memset(job, 0, sizeof(*job));
	job->seq = sqlite3_column_int64(st, JOB_COL_SEQ);
	sqlite_column_copy(st, JOB_COL_JOB_ID, job->job_id, sizeof(job->job_id));
	sqlite_column_copy(st, JOB_COL_NAMESPACE_ID, job->namespace_id, sizeof(job->namespace_id));
	job->status = sqlite3_column_int(st, JOB_COL_STATUS);
	job->target_selection = sqlite3_column_int(st, JOB_COL_TARGET_SELECTION);
	job->description = sqlite_column_strdup(st, JOB_COL_DESCRIPTION);
	job->document = sqlite_column_strdup(st, JOB_COL_DOCUMENT);
	job->targets = sqlite_column_strdup(st, JOB_COL_TARGETS);
	job->created_at = sqlite3_column_int64(st, JOB_COL_CREATED_AT);
	job->last_updated_at = sqlite3_column_int64(st, JOB_COL_LAST_UPDATED_AT);
	job->completed_at = sqlite3_column_int64(st, JOB_COL_COMPLETED_AT);
	job->force_canceled = sqlite3_column_int(st, JOB_COL_FORCE_CANCELED) != 0;
	job->reason_code = sqlite_column_strdup(st, JOB_COL_REASON_CODE);
	job->comment = sqlite_column_strdup(st, JOB_COL_COMMENT);
	job->abort_config = sqlite_column_strdup(st, JOB_COL_ABORT_CONFIG);
	job->policies = sqlite_column_strdup(st, JOB_COL_POLICIES);
	struct job_policy *p = &job->policy;
	p->in_progress_timeout_min = sqlite3_column_int64(st, JOB_COL_TIMEOUT_MINUTES);
	p->retry_failed = sqlite3_column_int(st, JOB_COL_RETRY_FAILED);
	p->retry_timed_out = sqlite3_column_int(st, JOB_COL_RETRY_TIMED_OUT);
	p->rollout_rate = sqlite3_column_double(st, JOB_COL_ROLLOUT_RATE);
	p->rollout_max = sqlite3_column_double(st, JOB_COL_ROLLOUT_MAX);
	p->rollout_factor = sqlite3_column_double(st, JOB_COL_ROLLOUT_FACTOR);
	p->rollout_notified_step = sqlite3_column_int64(st, JOB_COL_ROLLOUT_NOTIFIED_STEP);
	p->rollout_succeeded_step = sqlite3_column_int64(st, JOB_COL_ROLLOUT_SUCCEEDED_STEP);
	p->rollout_base_count = sqlite3_column_int64(st, JOB_COL_ROLLOUT_BASE_COUNT);
	p->window_start_ms = sqlite3_column_int64(st, JOB_COL_WINDOW_START_MS);
	p->window_released = sqlite3_column_int64(st, JOB_COL_WINDOW_RELEASED);
	p->released_total = sqlite3_column_int64(st, JOB_COL_RELEASED_TOTAL);
	p->start_ms = sqlite3_column_int64(st, JOB_COL_START_MS);
	p->end_ms = sqlite3_column_int64(st, JOB_COL_END_MS);
	p->end_behavior = sqlite3_column_int(st, JOB_COL_END_BEHAVIOR);
	p->wake_ms = sqlite3_column_int64(st, JOB_COL_WAKE_MS);
	job->maintenance_windows = sqlite_column_strdup(st, JOB_COL_MAINTENANCE_WINDOWS);
}

static void free_jobs(void *items, size_t count)
{
	store_job_array_free(items, count);
}

int sqlite_fetch_job(sqlite3_stmt *st, struct store_job *out)
{
	return fetch_one(st, read_job, out);
}

int sqlite_fetch_jobs(sqlite3_stmt *st, struct store_job **out, size_t *count)
{
	return fetch_all(st, sizeof(**out), read_job, free_jobs, out, count);
}

/* ---- groups and names ---- */

static void read_group(sqlite3_stmt *st, void *item)
{
	struct store_group *g = item;
	memset(g, 0, sizeof(*g));
	sqlite_column_copy(st, GROUP_COL_NAME, g->name, sizeof(g->name));
	g->description = sqlite_column_strdup(st, GROUP_COL_DESCRIPTION);
	g->created_at = sqlite3_column_int64(st, GROUP_COL_CREATED_AT);
}

static void free_groups(void *items, size_t count)
{
	store_group_array_free(items, count);
}

int sqlite_fetch_group(sqlite3_stmt *st, struct store_group *out)
{
	return fetch_one(st, read_group, out);
}

int sqlite_fetch_groups(sqlite3_stmt *st, struct store_group **out, size_t *count)
{
	return fetch_all(st, sizeof(**out), read_group, free_groups, out, count);
}

/* ---- things ---- */

static void read_thing(sqlite3_stmt *st, void *item)
{
	struct store_thing *t = item;
	memset(t, 0, sizeof(*t));
	sqlite_column_copy(st, THING_COL_NAME, t->name, sizeof(t->name));
	sqlite_column_copy(st, THING_COL_THING_ID, t->thing_id, sizeof(t->thing_id));
	t->type_name = sqlite_column_strdup(st, THING_COL_TYPE_NAME);
	t->attributes = sqlite_column_strdup(st, THING_COL_ATTRIBUTES);
	t->version = sqlite3_column_int64(st, THING_COL_VERSION);
	t->created_at = sqlite3_column_int64(st, THING_COL_CREATED_AT);
}

static void free_things(void *items, size_t count)
{
	store_thing_array_free(items, count);
}

int sqlite_fetch_thing(sqlite3_stmt *st, struct store_thing *out)
{
	return fetch_one(st, read_thing, out);
}

int sqlite_fetch_things(sqlite3_stmt *st, struct store_thing **out, size_t *count)
{
	return fetch_all(st, sizeof(**out), read_thing, free_things, out, count);
}

static void read_template(sqlite3_stmt *st, void *item)
{
	struct store_template *t = item;
	memset(t, 0, sizeof(*t));
	sqlite_column_copy(st, TEMPLATE_COL_ID, t->id, sizeof(t->id));
	t->description = sqlite_column_strdup(st, TEMPLATE_COL_DESCRIPTION);
	t->fields = sqlite_column_strdup(st, TEMPLATE_COL_FIELDS);
	t->created_at = sqlite3_column_int64(st, TEMPLATE_COL_CREATED_AT);
}

static void free_templates(void *items, size_t count)
{
	store_template_array_free(items, count);
}

int sqlite_fetch_template(sqlite3_stmt *st, struct store_template *out)
{
	return fetch_one(st, read_template, out);
}

int sqlite_fetch_templates(sqlite3_stmt *st, struct store_template **out, size_t *count)
{
	return fetch_all(st, sizeof(**out), read_template, free_templates, out, count);
}

static void read_name(sqlite3_stmt *st, void *item)
{
	struct store_name *name = item;
	sqlite_column_copy(st, 0, name->name, sizeof(name->name));
}

int sqlite_fetch_names(sqlite3_stmt *st, struct sqlite_rows *rows)
{
	assert(rows->size == sizeof(struct store_name));
	return sqlite_fetch_rows(st, rows, read_name, NULL);
}
