/* The SQLite store's schema: its forward migrations, and taking a database to the
 * schema version of this plugin (PRAGMA user_version). */
#include "store/sqlite_internal.h"

#include <stdio.h>

/* Forward migrations: migrations[i] takes the schema from version i to i+1. */
static const char *const migrations[JOBS_SQLITE_SCHEMA_VERSION] = {
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
	"CREATE INDEX rollout_queue_by_job ON rollout_queue(job_seq, id);"
	/* Versions 1 and 2 kept an IN_PROGRESS execution's stepTimeoutInMinutes without
	 * running it: its timer runs from the execution's last update (the update that set
	 * it, or a later one: never earlier than the device asked). */
	"UPDATE executions SET step_deadline_ms = (last_updated_at + step_timeout_minutes * 60) * 1000,"
	"  deadline_ms = (last_updated_at + step_timeout_minutes * 60) * 1000"
	"  WHERE status = 0 AND step_timeout_minutes > 0;",
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
	/* 5 -> 6: job templates (CreateJobTemplate); `fields` holds the template's document
	 * and configs as one JSON object. */
	"CREATE TABLE job_templates("
	"  template_id TEXT PRIMARY KEY,"
	"  description TEXT,"
	"  fields TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"CREATE INDEX job_templates_by_time ON job_templates(created_at, template_id);",
	/* 6 -> 7: the registry of things (CreateThing): attributes as a JSON object. */
	"CREATE TABLE things("
	"  name TEXT PRIMARY KEY,"
	"  thing_id TEXT NOT NULL,"
	"  type_name TEXT,"
	"  attributes TEXT NOT NULL DEFAULT '{}',"
	"  version INTEGER NOT NULL DEFAULT 1,"
	"  created_at INTEGER NOT NULL"
	") WITHOUT ROWID;",
	/* 7 -> 8: schedulingConfig.maintenanceWindows (JSON), which pace a job's rollout. */
	"ALTER TABLE jobs ADD COLUMN maintenance_windows TEXT;",
	/* 8 -> 9: event configurations (UpdateEventConfigurations), one row per event type
	 * set; the plugin writes every type at its first start. */
	"CREATE TABLE event_configurations("
	"  event_type TEXT PRIMARY KEY,"
	"  enabled INTEGER NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL"
	") WITHOUT ROWID;",
};

/* The database's schema version (PRAGMA user_version: 0 for a new file). */
static int read_version(sqlite3 *db, const char *path, int *out, char *err, size_t errlen)
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
	*out = version;
	return 0;
}

/* A database a newer plugin wrote: this one cannot know what its schema means. */
static int refuse_newer(const char *path, int version, char *err, size_t errlen)
{
	snprintf(err, errlen, "database %s has schema version %d, newer than this plugin's %d: upgrade the"
			" plugin, or use a copy of the database made before a newer plugin opened it",
			path, version, JOBS_SQLITE_SCHEMA_VERSION);
	return SQLITE_SCHEMA_NEWER;
}

int sqlite_schema_check(sqlite3 *db, const char *path, char *err, size_t errlen)
{
	int version;
	if(read_version(db, path, &version, err, errlen)) return -1;
	return version > JOBS_SQLITE_SCHEMA_VERSION ? refuse_newer(path, version, err, errlen) : 0;
}

int sqlite_migrate(sqlite3 *db, const char *path, char *err, size_t errlen)
{
	/* Always take the write lock once, so an unwritable database fails here; the
	 * version is read again under it (another process may have migrated since). */
	if(sqlite_run_script(db, "BEGIN IMMEDIATE", err, errlen)) return -1;
	int version;
	int rc = read_version(db, path, &version, err, errlen);
	if(rc == 0 && version > JOBS_SQLITE_SCHEMA_VERSION) rc = refuse_newer(path, version, err, errlen);
	for(int v = version; rc == 0 && v < JOBS_SQLITE_SCHEMA_VERSION; v++){
		char pragma[64];
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v + 1);
		if(sqlite_run_script(db, migrations[v], err, errlen) || sqlite_run_script(db, pragma, err, errlen)) rc = -1;
	}
	if(rc){
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	return sqlite_run_script(db, "COMMIT", err, errlen);
}
