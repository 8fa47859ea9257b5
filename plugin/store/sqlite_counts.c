/* The SQLite store described and counted, for describeBroker: what it is (its file,
 * its schema version) and how many jobs, executions, things and groups it holds. */
#include "store/sqlite_internal.h"

#include <string.h>

void sqlite_info(struct store *store, struct store_info *out)
{
	struct sqlite_store *s = sqlite_of(store);
	const char *file = sqlite3_db_filename(s->db, "main");
	out->kind = "sqlite";
	/* "" for an in-memory database */
	out->location = file ? file : "";
	/* sqlite_store_open took the database to this version, or failed */
	out->schema_version = JOBS_SQLITE_SCHEMA_VERSION;
}

/* Adds each row's (status, n) into counts[status]. */
static int count_by_status(sqlite3_stmt *st, int64_t *counts, int size)
{
	if(!st) return STORE_ERROR;
	int rc;
	while((rc = sqlite3_step(st)) == SQLITE_ROW){
		int status = sqlite3_column_int(st, 0);
		if(status >= 0 && status < size) counts[status] += sqlite3_column_int64(st, 1);
	}
	sqlite_finish(st);
	return rc == SQLITE_DONE ? STORE_OK : STORE_ERROR;
}

static int count_one(sqlite3_stmt *st, int64_t *out)
{
	if(!st) return STORE_ERROR;
	int rc = sqlite3_step(st);
	if(rc == SQLITE_ROW) *out = sqlite3_column_int64(st, 0);
	sqlite_finish(st);
	return rc == SQLITE_ROW ? STORE_OK : STORE_ERROR;
}

int sqlite_status_counts(struct store *store, struct store_counts *out)
{
	struct sqlite_store *s = sqlite_of(store);
	memset(out, 0, sizeof(*out));
	int rc = count_by_status(sqlite_stmt(s, ST_COUNT_JOBS, "SELECT status, count(*) FROM jobs GROUP BY status"),
			out->jobs, JOB_STATUS_COUNT);
	/* job_counts holds each job's latest executions per status (kept by triggers) */
	if(rc == STORE_OK){
		rc = count_by_status(sqlite_stmt(s, ST_COUNT_EXECS, "SELECT status, sum(n) FROM job_counts GROUP BY status"),
				out->executions, EXEC_STATUS_COUNT);
	}
	return rc;
}

int sqlite_counts(struct store *store, struct store_counts *out)
{
	struct sqlite_store *s = sqlite_of(store);
	int rc = sqlite_status_counts(store, out);
	if(rc == STORE_OK){
		rc = count_one(sqlite_stmt(s, ST_COUNT_THINGS,
				"SELECT count(*) FROM (SELECT thing FROM executions UNION SELECT thing FROM group_members"
				" UNION SELECT name FROM things)"),
				&out->things);
	}
	if(rc == STORE_OK) rc = count_one(sqlite_stmt(s, ST_COUNT_GROUPS, "SELECT count(*) FROM thing_groups"), &out->groups);
	return rc;
}
