/* The SQLite store's jobs, executions, timers and rollout queues. */
#include "store/sqlite_internal.h"

#include <stdlib.h>
#include <string.h>

/* The latest execution of each thing, for per-job views. */
#define LATEST_ONLY \
	" AND e.execution_number = (SELECT max(x.execution_number) FROM executions x" \
	"  WHERE x.thing = e.thing AND x.job_seq = e.job_seq)"

/* ---- jobs ---- */

/* One job by id, its columns selected by `sql` (SQLITE_JOB_SELECT(ALL) or (STATE)). */
static int job_by_id(struct sqlite_store *s, enum stmt_id id, const char *sql, const char *job_id,
		struct store_job *out)
{
	sqlite3_stmt *st = sqlite_stmt(s, id, sql);
	if(!st) return STORE_ERROR;
	sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
	return sqlite_fetch_job(st, out);
}

int sqlite_job_get(struct store *store, const char *job_id, struct store_job *out)
{
	return job_by_id(sqlite_of(store), ST_JOB_GET, "SELECT " SQLITE_JOB_SELECT(ALL) " FROM jobs j WHERE job_id = ?1", job_id, out);
}

int sqlite_job_get_state(struct store *store, const char *job_id, struct store_job *out)
{
	return job_by_id(sqlite_of(store), ST_JOB_GET_STATE, "SELECT " SQLITE_JOB_SELECT(STATE) " FROM jobs j WHERE job_id = ?1",
			job_id, out);
}

int sqlite_job_insert(struct store *store, struct store_job *job)
{
	struct sqlite_store *s = sqlite_of(store);
	sqlite3_stmt *st = sqlite_stmt(s, ST_JOB_INSERT,
		"INSERT INTO jobs(job_id, namespace_id, status, target_selection, description, document,"
		" targets, created_at, last_updated_at, abort_config, policies, timeout_minutes, retry_failed,"
		" retry_timed_out, rollout_rate, rollout_max, rollout_factor, rollout_notified_step,"
		" rollout_succeeded_step, start_ms, end_ms, end_behavior, wake_ms, maintenance_windows)"
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19,"
		" ?20, ?21, ?22, ?23, ?24)");
	if(!st) return STORE_ERROR;
	const struct job_policy *p = &job->policy;
	sqlite3_bind_text(st, 1, job->job_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, job->namespace_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, job->status);
	sqlite3_bind_int(st, 4, job->target_selection);
	sqlite_bind_text_or_null(st, 5, job->description);
	sqlite3_bind_text(st, 6, job->document, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, job->targets, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, job->created_at);
	sqlite3_bind_int64(st, 9, job->last_updated_at);
	sqlite_bind_text_or_null(st, 10, job->abort_config);
	sqlite_bind_text_or_null(st, 11, job->policies);
	sqlite3_bind_int64(st, 12, p->in_progress_timeout_min);
	sqlite3_bind_int(st, 13, p->retry_failed);
	sqlite3_bind_int(st, 14, p->retry_timed_out);
	sqlite3_bind_double(st, 15, p->rollout_rate);
	sqlite3_bind_double(st, 16, p->rollout_max);
	sqlite3_bind_double(st, 17, p->rollout_factor);
	sqlite3_bind_int64(st, 18, p->rollout_notified_step);
	sqlite3_bind_int64(st, 19, p->rollout_succeeded_step);
	sqlite3_bind_int64(st, 20, p->start_ms);
	sqlite3_bind_int64(st, 21, p->end_ms);
	sqlite3_bind_int(st, 22, p->end_behavior);
	sqlite3_bind_int64(st, 23, p->wake_ms);
	sqlite_bind_text_or_null(st, 24, job->maintenance_windows);
	int rc = sqlite_step_done(st);
	if(rc == STORE_OK) job->seq = sqlite3_last_insert_rowid(s->db);
	return rc;
}

int sqlite_job_update(struct store *store, const struct store_job *job)
{
	struct sqlite_store *s = sqlite_of(store);
	sqlite3_stmt *st = sqlite_stmt(s, ST_JOB_UPDATE,
		"UPDATE jobs SET status = ?2, last_updated_at = ?3, completed_at = ?4, force_canceled = ?5,"
		" reason_code = ?6, comment = ?7, rollout_rate = ?8, rollout_base_count = ?9,"
		" window_start_ms = ?10, window_released = ?11, released_total = ?12, wake_ms = ?13,"
		" end_behavior = ?14 WHERE seq = ?1");
	if(!st) return STORE_ERROR;
	const struct job_policy *p = &job->policy;
	sqlite3_bind_int64(st, 1, job->seq);
	sqlite3_bind_int(st, 2, job->status);
	sqlite3_bind_int64(st, 3, job->last_updated_at);
	sqlite3_bind_int64(st, 4, job->completed_at);
	sqlite3_bind_int(st, 5, job->force_canceled ? 1 : 0);
	sqlite_bind_text_or_null(st, 6, job->reason_code);
	sqlite_bind_text_or_null(st, 7, job->comment);
	sqlite3_bind_double(st, 8, p->rollout_rate);
	sqlite3_bind_int64(st, 9, p->rollout_base_count);
	sqlite3_bind_int64(st, 10, p->window_start_ms);
	sqlite3_bind_int64(st, 11, p->window_released);
	sqlite3_bind_int64(st, 12, p->released_total);
	sqlite3_bind_int64(st, 13, p->wake_ms);
	sqlite3_bind_int(st, 14, p->end_behavior);
	return sqlite_step_done(st);
}

int sqlite_job_set_config(struct store *store, const struct store_job *job)
{
	struct sqlite_store *s = sqlite_of(store);
	sqlite3_stmt *st = sqlite_stmt(s, ST_JOB_SET_CONFIG,
		"UPDATE jobs SET description = ?2, targets = ?3, comment = ?4, abort_config = ?5, policies = ?6,"
		" timeout_minutes = ?7, retry_failed = ?8, retry_timed_out = ?9, rollout_rate = ?10,"
		" rollout_max = ?11, rollout_factor = ?12, rollout_notified_step = ?13,"
		" rollout_succeeded_step = ?14, last_updated_at = ?15 WHERE seq = ?1");
	if(!st) return STORE_ERROR;
	const struct job_policy *p = &job->policy;
	sqlite3_bind_int64(st, 1, job->seq);
	sqlite_bind_text_or_null(st, 2, job->description);
	sqlite3_bind_text(st, 3, job->targets, -1, SQLITE_STATIC);
	sqlite_bind_text_or_null(st, 4, job->comment);
	sqlite_bind_text_or_null(st, 5, job->abort_config);
	sqlite_bind_text_or_null(st, 6, job->policies);
	sqlite3_bind_int64(st, 7, p->in_progress_timeout_min);
	sqlite3_bind_int(st, 8, p->retry_failed);
	sqlite3_bind_int(st, 9, p->retry_timed_out);
	sqlite3_bind_double(st, 10, p->rollout_rate);
	sqlite3_bind_double(st, 11, p->rollout_max);
	sqlite3_bind_double(st, 12, p->rollout_factor);
	sqlite3_bind_int64(st, 13, p->rollout_notified_step);
	sqlite3_bind_int64(st, 14, p->rollout_succeeded_step);
	sqlite3_bind_int64(st, 15, job->last_updated_at);
	return sqlite_step_done(st);
}

static int run_with_seq(struct sqlite_store *s, enum stmt_id id, const char *sql, int64_t seq)
{
	sqlite3_stmt *st = sqlite_stmt(s, id, sql);
	if(!st) return STORE_ERROR;
	sqlite3_bind_int64(st, 1, seq);
	return sqlite_step_done(st);
}

int sqlite_job_delete(struct store *store, int64_t job_seq)
{
	struct sqlite_store *s = sqlite_of(store);
	/* the counts first: the executions' delete trigger then has nothing to keep */
	int rc = run_with_seq(s, ST_JOB_DELETE_COUNTS, "DELETE FROM job_counts WHERE job_seq = ?1", job_seq);
	if(rc == STORE_OK) rc = run_with_seq(s, ST_JOB_DELETE_EXECS, "DELETE FROM executions WHERE job_seq = ?1", job_seq);
	if(rc == STORE_OK) rc = run_with_seq(s, ST_JOB_DELETE_TARGETS, "DELETE FROM job_targets WHERE job_seq = ?1", job_seq);
	if(rc == STORE_OK) rc = sqlite_rollout_clear(store, job_seq);
	if(rc == STORE_OK) rc = run_with_seq(s, ST_JOB_DELETE, "DELETE FROM jobs WHERE seq = ?1", job_seq);
	return rc;
}

int sqlite_job_counts(struct store *store, int64_t job_seq, int64_t counts[EXEC_STATUS_COUNT])
{
	struct sqlite_store *s = sqlite_of(store);
	/* kept by the triggers on executions (schema version 5) */
	sqlite3_stmt *st = sqlite_stmt(s, ST_JOB_COUNTS, "SELECT status, n FROM job_counts WHERE job_seq = ?1");
	memset(counts, 0, sizeof(int64_t) * EXEC_STATUS_COUNT);
	if(!st) return STORE_ERROR;
	sqlite3_bind_int64(st, 1, job_seq);
	int rc;
	while((rc = sqlite3_step(st)) == SQLITE_ROW){
		int status = sqlite3_column_int(st, 0);
		if(status >= 0 && status < EXEC_STATUS_COUNT) counts[status] = sqlite3_column_int64(st, 1);
	}
	sqlite_finish(st);
	return rc == SQLITE_DONE ? STORE_OK : STORE_ERROR;
}

int sqlite_job_has_pending(struct store *store, int64_t job_seq, bool *out)
{
	struct sqlite_store *s = sqlite_of(store);
	sqlite3_stmt *st = sqlite_stmt(s, ST_JOB_HAS_PENDING,
		"SELECT 1 FROM executions WHERE job_seq = ?1 AND status <= 1 LIMIT 1");
	if(!st) return STORE_ERROR;
	sqlite3_bind_int64(st, 1, job_seq);
	int rc = sqlite3_step(st);
	sqlite_finish(st);
	if(rc != SQLITE_ROW && rc != SQLITE_DONE) return STORE_ERROR;
	*out = rc == SQLITE_ROW;
	return STORE_OK;
}

int sqlite_job_list(struct store *store, const struct store_job_filter *f, int64_t offset, int limit,
		struct store_job **out, size_t *count)
{
	struct sqlite_store *s = sqlite_of(store);
	sqlite3_stmt *st = sqlite_stmt(s, ST_JOB_LIST,
		"SELECT " SQLITE_JOB_SELECT(ALL) " FROM jobs j WHERE (?1 < 0 OR status = ?1)"
		" AND (?2 < 0 OR target_selection = ?2) AND (?3 IS NULL OR namespace_id = ?3)"
		" AND (?4 IS NULL OR EXISTS(SELECT 1 FROM job_targets t WHERE t.job_seq = j.seq"
		"  AND t.kind = 1 AND t.name = ?4))"
		" ORDER BY seq LIMIT ?5 OFFSET ?6");
	if(!st) return STORE_ERROR;
	sqlite3_bind_int(st, 1, f->status);
	sqlite3_bind_int(st, 2, f->target_selection);
	sqlite_bind_text_or_null(st, 3, f->namespace_id);
	sqlite_bind_text_or_null(st, 4, f->group);
	sqlite3_bind_int(st, 5, limit);
	sqlite3_bind_int64(st, 6, offset);
	return sqlite_fetch_jobs(st, out, count);
}

/* ---- executions ---- */

/* The four forms of an execution query: with or without the job's document, for one
 * execution number or the latest (`where`: the conditions, ?1 the thing). */
#define EXEC_BY_NUMBER(cols, from, where) \
	"SELECT " cols " FROM " from " WHERE " where " AND e.execution_number = ?4"
#define EXEC_LATEST(cols, from, where) \
	"SELECT " cols " FROM " from " WHERE " where " ORDER BY e.execution_number DESC LIMIT 1"

static sqlite3_stmt *exec_query(struct sqlite_store *s, bool by_number, bool with_document,
		enum stmt_id first, const char *const sql[4])
{
	int form = (by_number ? 0 : 1) + (with_document ? 2 : 0);
	return sqlite_stmt(s, (enum stmt_id)(first + form), sql[form]);
}

#define GET_FROM "executions e JOIN jobs j ON j.seq = e.job_seq"
#define GET_WHERE "e.thing = ?1 AND e.job_seq = ?2"

int sqlite_exec_get(struct store *store, const char *thing, int64_t job_seq,
		int64_t execution_number, bool with_document, struct store_exec *out)
{
	struct sqlite_store *s = sqlite_of(store);
	/* statement ids in the order of exec_query's forms */
	static const char *const sql[4] = {
		EXEC_BY_NUMBER(SQLITE_EXEC_SELECT(NO_DOC), GET_FROM, GET_WHERE),
		EXEC_LATEST(SQLITE_EXEC_SELECT(NO_DOC), GET_FROM, GET_WHERE),
		EXEC_BY_NUMBER(SQLITE_EXEC_SELECT(WITH_DOC), GET_FROM, GET_WHERE),
		EXEC_LATEST(SQLITE_EXEC_SELECT(WITH_DOC), GET_FROM, GET_WHERE),
	};
	sqlite3_stmt *st = exec_query(s, execution_number != 0, with_document, ST_EXEC_GET, sql);
	if(!st) return STORE_ERROR;
	sqlite3_bind_text(st, 1, thing, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, job_seq);
	if(execution_number) sqlite3_bind_int64(st, 4, execution_number);
	return sqlite_fetch_exec(st, out);
}

/* one statement: the job by its unique id, then the execution by its key */
#define FIND_FROM "jobs j JOIN executions e ON e.job_seq = j.seq"
#define FIND_WHERE "j.job_id = ?2 AND j.namespace_id = ?3 AND e.thing = ?1"

int sqlite_exec_find(struct store *store, const char *thing, const char *job_id,
		const char *namespace_id, int64_t execution_number, bool with_document,
		struct store_exec *out)
{
	struct sqlite_store *s = sqlite_of(store);
	static const char *const sql[4] = {
		EXEC_BY_NUMBER(SQLITE_EXEC_SELECT(NO_DOC), FIND_FROM, FIND_WHERE),
		EXEC_LATEST(SQLITE_EXEC_SELECT(NO_DOC), FIND_FROM, FIND_WHERE),
		EXEC_BY_NUMBER(SQLITE_EXEC_SELECT(WITH_DOC), FIND_FROM, FIND_WHERE),
		EXEC_LATEST(SQLITE_EXEC_SELECT(WITH_DOC), FIND_FROM, FIND_WHERE),
	};
	sqlite3_stmt *st = exec_query(s, execution_number != 0, with_document, ST_EXEC_FIND, sql);
	if(!st) return STORE_ERROR;
	sqlite3_bind_text(st, 1, thing, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, job_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, namespace_id, -1, SQLITE_STATIC);
	if(execution_number) sqlite3_bind_int64(st, 4, execution_number);
	return sqlite_fetch_exec(st, out);
}

int sqlite_exec_insert(struct store *store, const struct store_exec *e)
{
	struct sqlite_store *s = sqlite_of(store);
	sqlite3_stmt *st = sqlite_stmt(s, ST_EXEC_INSERT,
		"INSERT INTO executions(thing, job_seq, execution_number, namespace_id, status,"
		" status_details, queued_at, started_at, last_updated_at, version, step_timeout_minutes,"
		" force_canceled, retry_attempt) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)");
	if(!st) return STORE_ERROR;
	sqlite3_bind_text(st, 1, e->thing, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, e->job_seq);
	sqlite3_bind_int64(st, 3, e->execution_number);
	sqlite3_bind_text(st, 4, e->namespace_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, e->status);
	sqlite_bind_text_or_null(st, 6, e->status_details);
	sqlite3_bind_int64(st, 7, e->queued_at);
	sqlite3_bind_int64(st, 8, e->started_at);
	sqlite3_bind_int64(st, 9, e->last_updated_at);
	sqlite3_bind_int64(st, 10, e->version);
	sqlite3_bind_int64(st, 11, e->step_timeout_minutes);
	sqlite3_bind_int(st, 12, e->force_canceled ? 1 : 0);
	sqlite3_bind_int64(st, 13, e->retry_attempt);
	return sqlite_step_done(st);
}

int sqlite_exec_update(struct store *store, const struct store_exec *e)
{
	struct sqlite_store *s = sqlite_of(store);
	/* A progress report (same status, same timers) leaves the three indexes on status
	 * and deadline alone: SQLite rewrites an index when the UPDATE sets one of its
	 * columns, whatever the values. */
	int64_t deadline = store_exec_deadline(e);
	bool keys_kept = e->loaded && e->loaded_status == e->status && e->loaded_deadline_ms == deadline;
	sqlite3_stmt *st = keys_kept
		? sqlite_stmt(s, ST_EXEC_UPDATE_PROGRESS,
			"UPDATE executions SET status_details = ?4, started_at = ?5,"
			" last_updated_at = ?6, version = ?7, step_timeout_minutes = ?8, force_canceled = ?9,"
			" step_deadline_ms = ?10, progress_deadline_ms = ?11"
			" WHERE thing = ?1 AND job_seq = ?2 AND execution_number = ?3")
		: sqlite_stmt(s, ST_EXEC_UPDATE,
			"UPDATE executions SET status_details = ?4, started_at = ?5,"
			" last_updated_at = ?6, version = ?7, step_timeout_minutes = ?8, force_canceled = ?9,"
			" step_deadline_ms = ?10, progress_deadline_ms = ?11, status = ?12, deadline_ms = ?13"
			" WHERE thing = ?1 AND job_seq = ?2 AND execution_number = ?3");
	if(!st) return STORE_ERROR;
	sqlite3_bind_text(st, 1, e->thing, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, e->job_seq);
	sqlite3_bind_int64(st, 3, e->execution_number);
	sqlite_bind_text_or_null(st, 4, e->status_details);
	sqlite3_bind_int64(st, 5, e->started_at);
	sqlite3_bind_int64(st, 6, e->last_updated_at);
	sqlite3_bind_int64(st, 7, e->version);
	sqlite3_bind_int64(st, 8, e->step_timeout_minutes);
	sqlite3_bind_int(st, 9, e->force_canceled ? 1 : 0);
	sqlite3_bind_int64(st, 10, e->step_deadline_ms);
	sqlite3_bind_int64(st, 11, e->progress_deadline_ms);
	if(!keys_kept){
		sqlite3_bind_int(st, 12, e->status);
		sqlite3_bind_int64(st, 13, deadline);
	}
	int rc = sqlite_step_done(st);
	if(rc == STORE_OK && sqlite3_changes(s->db) != 1) return STORE_NOT_FOUND;
	return rc;
}

int sqlite_exec_delete(struct store *store, const char *thing, int64_t job_seq, int64_t execution_number)
{
	struct sqlite_store *s = sqlite_of(store);
	sqlite3_stmt *st = sqlite_stmt(s, ST_EXEC_DELETE,
		"DELETE FROM executions WHERE thing = ?1 AND job_seq = ?2 AND execution_number = ?3");
	if(!st) return STORE_ERROR;
	sqlite3_bind_text(st, 1, thing, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, job_seq);
	sqlite3_bind_int64(st, 3, execution_number);
	int rc = sqlite_step_done(st);
	if(rc == STORE_OK && sqlite3_changes(s->db) != 1) return STORE_NOT_FOUND;
	return rc;
}

#define PENDING_REST " FROM executions e JOIN jobs j ON j.seq = e.job_seq" \
	" WHERE e.thing = ?1 AND e.namespace_id = ?2 AND e.status <= 1" \
	" ORDER BY e.status, e.queued_at, e.job_seq LIMIT ?3"

/* Binds a pending-list query; NULL when it could not be prepared. */
static sqlite3_stmt *bind_pending(sqlite3_stmt *st, const char *thing, const char *namespace_id, int limit)
{
	if(!st) return NULL;
	sqlite3_bind_text(st, 1, thing, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, namespace_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, limit);
	return st;
}

int sqlite_pending(struct store *store, const char *thing, const char *namespace_id,
		int limit, bool with_document, struct store_exec **out, size_t *count)
{
	struct sqlite_store *s = sqlite_of(store);
	sqlite3_stmt *st = bind_pending(with_document
			? sqlite_stmt(s, ST_PENDING_DOC, "SELECT " SQLITE_EXEC_SELECT(WITH_DOC) PENDING_REST)
			: sqlite_stmt(s, ST_PENDING, "SELECT " SQLITE_EXEC_SELECT(NO_DOC) PENDING_REST),
			thing, namespace_id, limit);
	return st ? sqlite_fetch_execs(st, out, count) : STORE_ERROR;
}

int sqlite_pending_summaries(struct store *store, const char *thing, const char *namespace_id,
		int limit, struct store_exec **out, size_t *count)
{
	struct sqlite_store *s = sqlite_of(store);
	sqlite3_stmt *st = bind_pending(sqlite_stmt(s, ST_PENDING_SUMMARIES,
				"SELECT " SQLITE_EXEC_SELECT(SUMMARY) PENDING_REST), thing, namespace_id, limit);
	return st ? sqlite_fetch_summaries(st, out, count) : STORE_ERROR;
}

int sqlite_job_executions(struct store *store, int64_t job_seq, unsigned status_mask,
		struct store_exec **out, size_t *count)
{
	struct sqlite_store *s = sqlite_of(store);
	sqlite3_stmt *st = sqlite_stmt(s, ST_JOB_EXECS,
		"SELECT " SQLITE_EXEC_SELECT(NO_DOC) " FROM executions e JOIN jobs j ON j.seq = e.job_seq"
		" WHERE e.job_seq = ?1 AND ((1 << e.status) & ?2) != 0" LATEST_ONLY
		" ORDER BY e.thing");
	if(!st) return STORE_ERROR;
	sqlite3_bind_int64(st, 1, job_seq);
	sqlite3_bind_int64(st, 2, status_mask);
	return sqlite_fetch_execs(st, out, count);
}

int sqlite_job_exec_page(struct store *store, int64_t job_seq, int status, int64_t offset, int limit,
		struct store_exec **out, size_t *count)
{
	struct sqlite_store *s = sqlite_of(store);
	sqlite3_stmt *st = sqlite_stmt(s, ST_JOB_EXECS_PAGE,
		"SELECT " SQLITE_EXEC_SELECT(NO_DOC) " FROM executions e JOIN jobs j ON j.seq = e.job_seq"
		" WHERE e.job_seq = ?1 AND (?2 < 0 OR e.status = ?2)"
		" ORDER BY e.thing, e.execution_number LIMIT ?3 OFFSET ?4");
	if(!st) return STORE_ERROR;
	sqlite3_bind_int64(st, 1, job_seq);
	sqlite3_bind_int(st, 2, status);
	sqlite3_bind_int(st, 3, limit);
	sqlite3_bind_int64(st, 4, offset);
	return sqlite_fetch_execs(st, out, count);
}

int sqlite_thing_exec_page(struct store *store, const char *thing, int status, const char *namespace_id,
		int64_t offset, int limit, struct store_exec **out, size_t *count)
{
	struct sqlite_store *s = sqlite_of(store);
	sqlite3_stmt *st = sqlite_stmt(s, ST_THING_EXECS_PAGE,
		"SELECT " SQLITE_EXEC_SELECT(NO_DOC) " FROM executions e JOIN jobs j ON j.seq = e.job_seq"
		" WHERE e.thing = ?1 AND (?2 < 0 OR e.status = ?2) AND (?3 IS NULL OR e.namespace_id = ?3)"
		" ORDER BY e.job_seq, e.execution_number LIMIT ?4 OFFSET ?5");
	if(!st) return STORE_ERROR;
	sqlite3_bind_text(st, 1, thing, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, status);
	sqlite_bind_text_or_null(st, 3, namespace_id);
	sqlite3_bind_int(st, 4, limit);
	sqlite3_bind_int64(st, 5, offset);
	return sqlite_fetch_execs(st, out, count);
}

/* ---- timers and wake-ups ---- */

int sqlite_due_executions(struct store *store, int64_t now_ms, int limit, struct store_exec **out, size_t *count)
{
	struct sqlite_store *s = sqlite_of(store);
	sqlite3_stmt *st = sqlite_stmt(s, ST_DUE_EXECS,
		"SELECT " SQLITE_EXEC_SELECT(NO_DOC) " FROM executions e JOIN jobs j ON j.seq = e.job_seq"
		" WHERE e.deadline_ms > 0 AND e.deadline_ms <= ?1 ORDER BY e.deadline_ms LIMIT ?2");
	if(!st) return STORE_ERROR;
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_int(st, 2, limit);
	return sqlite_fetch_execs(st, out, count);
}

static int read_min(struct sqlite_store *s, enum stmt_id id, const char *sql, int64_t *out_ms)
{
	sqlite3_stmt *st = sqlite_stmt(s, id, sql);
	if(!st) return STORE_ERROR;
	int rc = sqlite3_step(st);
	*out_ms = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite_finish(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : STORE_ERROR;
}

int sqlite_next_deadline(struct store *store, int64_t *out_ms)
{
	struct sqlite_store *s = sqlite_of(store);
	return read_min(s, ST_NEXT_DEADLINE,
		"SELECT deadline_ms FROM executions WHERE deadline_ms > 0 ORDER BY deadline_ms LIMIT 1", out_ms);
}

int sqlite_due_jobs(struct store *store, int64_t now_ms, int limit, struct store_job **out, size_t *count)
{
	struct sqlite_store *s = sqlite_of(store);
	sqlite3_stmt *st = sqlite_stmt(s, ST_DUE_JOBS,
		"SELECT " SQLITE_JOB_SELECT(ALL) " FROM jobs j WHERE j.wake_ms > 0 AND j.wake_ms <= ?1"
		" ORDER BY j.wake_ms LIMIT ?2");
	if(!st) return STORE_ERROR;
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_int(st, 2, limit);
	return sqlite_fetch_jobs(st, out, count);
}

int sqlite_next_job_wake(struct store *store, int64_t *out_ms)
{
	struct sqlite_store *s = sqlite_of(store);
	return read_min(s, ST_NEXT_WAKE,
		"SELECT wake_ms FROM jobs WHERE wake_ms > 0 ORDER BY wake_ms LIMIT 1", out_ms);
}

/* ---- rollout queue ---- */

int sqlite_rollout_push(struct store *store, int64_t job_seq, const char *thing)
{
	struct sqlite_store *s = sqlite_of(store);
	sqlite3_stmt *st = sqlite_stmt(s, ST_ROLLOUT_PUSH, "INSERT INTO rollout_queue(job_seq, thing) VALUES(?1, ?2)");
	if(!st) return STORE_ERROR;
	sqlite3_bind_int64(st, 1, job_seq);
	sqlite3_bind_text(st, 2, thing, -1, SQLITE_STATIC);
	return sqlite_step_done(st);
}

int sqlite_rollout_push_group(struct store *store, int64_t job_seq, const char *group)
{
	struct sqlite_store *s = sqlite_of(store);
	sqlite3_stmt *st = sqlite_stmt(s, ST_ROLLOUT_PUSH_GROUP,
		"INSERT INTO rollout_queue(job_seq, thing, group_name) VALUES(?1, '', ?2)");
	if(!st) return STORE_ERROR;
	sqlite3_bind_int64(st, 1, job_seq);
	sqlite3_bind_text(st, 2, group, -1, SQLITE_STATIC);
	return sqlite_step_done(st);
}

static int delete_entries(struct sqlite_store *s, int64_t job_seq, int64_t through_id)
{
	sqlite3_stmt *st = sqlite_stmt(s, ST_ROLLOUT_DELETE, "DELETE FROM rollout_queue WHERE job_seq = ?1 AND id <= ?2");
	if(!st) return STORE_ERROR;
	sqlite3_bind_int64(st, 1, job_seq);
	sqlite3_bind_int64(st, 2, through_id);
	return sqlite_step_done(st);
}

/* Up to `want` members of the group after `cursor` into rows; advances the entry's
 * cursor, or deletes the entry when the group is done. */
static int take_from_group(struct sqlite_store *s, int64_t job_seq, int64_t id, const char *group,
		const char *cursor, size_t want, struct sqlite_rows *rows)
{
	sqlite3_stmt *st = sqlite_stmt(s, ST_ROLLOUT_GROUP_PAGE,
		"SELECT thing FROM group_members WHERE group_name = ?1 AND thing > ?2 ORDER BY thing LIMIT ?3");
	if(!st) return STORE_ERROR;
	sqlite3_bind_text(st, 1, group, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, cursor, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, (int64_t)want);
	size_t before = rows->count;
	if(sqlite_fetch_names(st, rows) != STORE_OK) return STORE_ERROR;
	if(rows->count - before < want) return delete_entries(s, job_seq, id);
	st = sqlite_stmt(s, ST_ROLLOUT_CURSOR, "UPDATE rollout_queue SET thing = ?2 WHERE id = ?1");
	if(!st) return STORE_ERROR;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, ((struct store_name *)rows->items)[rows->count - 1].name, -1, SQLITE_TRANSIENT);
	return sqlite_step_done(st);
}

int sqlite_rollout_pop(struct store *store, int64_t job_seq, int limit, struct store_name **out, size_t *count)
{
	struct sqlite_store *s = sqlite_of(store);
	struct sqlite_rows rows = { .size = sizeof(struct store_name) };
	int rc = STORE_OK;
	/* Entries in order: single things are taken and deleted in one go, up to the first
	 * group entry, which gives what is left of the budget, and so on. */
	while(rc == STORE_OK && rows.count < (size_t)limit){
		enum { PEEK_ID, PEEK_THING, PEEK_GROUP }; /* the columns */
		sqlite3_stmt *st = sqlite_stmt(s, ST_ROLLOUT_PEEK,
			"SELECT id, thing, group_name FROM rollout_queue WHERE job_seq = ?1 ORDER BY id LIMIT ?2");
		if(!st){
			rc = STORE_ERROR;
			break;
		}
		sqlite3_bind_int64(st, 1, job_seq);
		sqlite3_bind_int64(st, 2, (int64_t)limit - (int64_t)rows.count);
		int64_t last_thing_id = 0, group_id = 0;
		char group[JOBS_THING_NAME_MAX + 1] = "", cursor[JOBS_THING_NAME_MAX + 1] = "";
		int step;
		while((step = sqlite3_step(st)) == SQLITE_ROW){
			if(sqlite3_column_type(st, PEEK_GROUP) != SQLITE_NULL){
				group_id = sqlite3_column_int64(st, PEEK_ID);
				sqlite_column_copy(st, PEEK_THING, cursor, sizeof(cursor));
				sqlite_column_copy(st, PEEK_GROUP, group, sizeof(group));
				break;
			}
			struct store_name *name = sqlite_rows_next(&rows);
			if(!name){
				step = SQLITE_NOMEM;
				break;
			}
			last_thing_id = sqlite3_column_int64(st, PEEK_ID);
			sqlite_column_copy(st, PEEK_THING, name->name, sizeof(name->name));
		}
		sqlite_finish(st);
		if(step != SQLITE_DONE && step != SQLITE_ROW){
			rc = STORE_ERROR;
			break;
		}
		if(last_thing_id) rc = delete_entries(s, job_seq, last_thing_id);
		if(rc == STORE_OK && group_id && rows.count < (size_t)limit){
			rc = take_from_group(s, job_seq, group_id, group, cursor, (size_t)limit - rows.count, &rows);
		}else if(!group_id){
			break; /* the queue is empty */
		}
	}
	if(rc != STORE_OK){
		free(rows.items);
		return STORE_ERROR;
	}
	*out = rows.items;
	*count = rows.count;
	return STORE_OK;
}

int sqlite_rollout_clear(struct store *store, int64_t job_seq)
{
	struct sqlite_store *s = sqlite_of(store);
	return run_with_seq(s, ST_ROLLOUT_CLEAR, "DELETE FROM rollout_queue WHERE job_seq = ?1", job_seq);
}

int sqlite_rollout_count(struct store *store, int64_t job_seq, int64_t *out)
{
	struct sqlite_store *s = sqlite_of(store);
	sqlite3_stmt *st = sqlite_stmt(s, ST_ROLLOUT_COUNT, "SELECT count(*) FROM rollout_queue WHERE job_seq = ?1");
	if(!st) return STORE_ERROR;
	sqlite3_bind_int64(st, 1, job_seq);
	int rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite_finish(st);
	return rc == SQLITE_ROW ? STORE_OK : STORE_ERROR;
}
