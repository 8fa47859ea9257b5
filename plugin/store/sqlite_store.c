/* The SQLite store: the connection (one, used only by the broker's thread, in WAL
 * mode), transactions as savepoints inside an optional batch, the WAL's upkeep, and
 * the table of operations that store.c dispatches through. The queries are in
 * sqlite_jobs.c, sqlite_groups.c and sqlite_things.c, row reading in sqlite_rows.c, the schema in
 * sqlite_schema.c. */
#include "store/sqlite_internal.h"

#include "store/sqlite_checkpoint.h"
#include "util/runas.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct store_ops sqlite_ops;

static const char *sqlite_errmsg(const struct store *store)
{
	return sqlite3_errmsg(((const struct sqlite_store *)store)->db);
}

/* ---- open / close ---- */

static void tune_library(void)
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
	((struct sqlite_store *)arg)->wal_frames = frames;
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
#define BUSY_MS 1000

/* Caps the database at about max_bytes, in pages: a write that would grow it further
 * fails with SQLITE_FULL, and SQLite rolls its whole transaction back. */
static int set_size_limit(struct sqlite_store *s, int64_t max_bytes)
{
	sqlite3_stmt *st;
	int64_t page_size = 4096;
	if(sqlite3_prepare_v2(s->db, "PRAGMA page_size", -1, &st, NULL) == SQLITE_OK){
		if(sqlite3_step(st) == SQLITE_ROW) page_size = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	char sql[64];
	snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %lld", (long long)(max_bytes / page_size));
	return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static void sqlite_close(struct store *store)
{
	struct sqlite_store *s = sqlite_of(store);
	checkpointer_stop(s->checkpointer);
	for(int i = 0; i < ST_COUNT; i++) sqlite3_finalize(s->stmt[i]);
	sqlite3_close(s->db);
	free(s);
}

int sqlite_store_open(const struct jobs_config *cfg, struct store **out, char *err, size_t errlen)
{
	return sqlite_store_open_as(cfg, &sqlite_ops, NULL, out, err, errlen);
}

const struct store_ops *sqlite_store_ops(void)
{
	return &sqlite_ops;
}

void *sqlite_store_owner(struct store *store)
{
	return sqlite_of(store)->owner;
}

sqlite3 *sqlite_store_handle(struct store *store)
{
	return sqlite_of(store)->db;
}

int sqlite_store_open_as(const struct jobs_config *cfg, const struct store_ops *ops, void *owner,
		struct store **out, char *err, size_t errlen)
{
	assert(cfg && cfg->db_path && ops && out && err);
	const char *path = cfg->db_path;
	struct sqlite_store *s = calloc(1, sizeof(*s));
	if(!s){
		snprintf(err, errlen, "out of memory");
		return STORE_ERROR;
	}
	s->base.ops = ops;
	s->owner = owner;
	char msg[1024] = "";
	tune_library();
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
	sqlite3_busy_timeout(s->db, BUSY_MS);
	if((rc = sqlite_schema_check(s->db, path, msg, sizeof(msg)))) goto fail;
	const char *setup = cfg->synchronous == JOBS_SYNC_FULL
		? "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA cache_size = -16384;"
		: "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -16384;";
	if(sqlite_run_script(s->db, setup, msg, sizeof(msg))) goto fail;
	if((rc = sqlite_migrate(s->db, path, msg, sizeof(msg)))) goto fail;
	/* Checkpoints move to a thread of their own; a database without a file (tests'
	 * ":memory:") keeps SQLite's. */
	const char *file = sqlite3_db_filename(s->db, "main");
	if(file && *file && (s->checkpointer = checkpointer_start(file))){
		sqlite3_wal_autocheckpoint(s->db, 0);
		sqlite3_wal_hook(s->db, note_wal_frames, s);
	}
	if(cfg->db_max_mb && set_size_limit(s, (int64_t)cfg->db_max_mb * 1024 * 1024) != 0){
		snprintf(err, errlen, "cannot cap the database at %d MB", cfg->db_max_mb);
		sqlite_close(&s->base);
		return STORE_ERROR;
	}
	*out = &s->base;
	return STORE_OK;

fail:
	if(rc == SQLITE_SCHEMA_NEWER){
		snprintf(err, errlen, "%s", msg);
	}else{
		explain_path(path, msg, sizeof(msg));
		snprintf(err, errlen, "cannot use database %s (plugin_opt_db_path): %s", path, msg);
	}
	sqlite_close(&s->base);
	return STORE_ERROR;
}

/* ---- the WAL's upkeep: for tests and diagnostics (sqlite_store.h) ---- */

/* `store` as an SQLite store, checked. */
static struct sqlite_store *checked(struct store *store)
{
	assert(store && store->ops == &sqlite_ops);
	return sqlite_of(store);
}

void sqlite_store_wal_stats(struct store *store, struct sqlite_wal_stats *out)
{
	struct sqlite_store *s = checked(store);
	assert(out);
	struct checkpointer_stats cp;
	checkpointer_stats(s->checkpointer, &cp);
	*out = (struct sqlite_wal_stats){ .wal_frames = s->wal_frames, .checkpoints = cp.checkpoints,
		.catch_ups = cp.catch_ups, .caught_up = cp.caught_up,
		.rewind_frames = s->checkpointer ? CHECKPOINT_REWIND_FRAMES : 0 };
}

void sqlite_store_set_catch_up_wait(struct store *store, int ms)
{
	checkpointer_set_wait(checked(store)->checkpointer, ms);
}

/* ---- transactions ----
 * A request's transaction is the savepoint `req` (nested ones share the name and
 * pair up innermost first); a batch is a plain BEGIN ... COMMIT around them. SQLite
 * rolls a whole transaction back on its own on some failures (SQLITE_FULL, an I/O
 * error): the savepoints are then gone, and the statements that release or roll them
 * back fail, harmlessly. */

static int sqlite_begin(struct store *store)
{
	struct sqlite_store *s = sqlite_of(store);
	int rc = sqlite_step_done(sqlite_stmt(s, ST_SAVEPOINT, "SAVEPOINT req"));
	if(rc == STORE_OK) s->depth++;
	return rc;
}

/* Rolls the innermost request transaction back and ends it. */
static void roll_back_request(struct sqlite_store *s)
{
	sqlite_step_done(sqlite_stmt(s, ST_ROLLBACK_TO, "ROLLBACK TO req"));
	sqlite_step_done(sqlite_stmt(s, ST_RELEASE, "RELEASE req"));
}

static void sqlite_rollback(struct store *store)
{
	struct sqlite_store *s = sqlite_of(store);
	assert(s->depth > 0); /* a rollback without a begin */
	s->depth--;
	roll_back_request(s);
}

static int sqlite_commit(struct store *store)
{
	struct sqlite_store *s = sqlite_of(store);
	assert(s->depth > 0); /* a commit without a begin */
	s->depth--;
	int rc = sqlite_step_done(sqlite_stmt(s, ST_RELEASE, "RELEASE req"));
	if(rc != STORE_OK) roll_back_request(s);
	/* the outermost savepoint was a transaction of its own (no batch open) */
	else if(sqlite3_get_autocommit(s->db)) checkpointer_catch_up(s->checkpointer, s->wal_frames);
	return rc;
}

static int sqlite_batch_begin(struct store *store)
{
	struct sqlite_store *s = sqlite_of(store);
	/* outside every request; a batch SQLite rolled back on its own may be left behind */
	assert(s->depth == 0);
	assert(!s->batch || sqlite3_get_autocommit(s->db));
	int rc = sqlite_step_done(sqlite_stmt(s, ST_BATCH_BEGIN, "BEGIN"));
	s->batch = rc == STORE_OK;
	return rc;
}

static int sqlite_batch_commit(struct store *store)
{
	struct sqlite_store *s = sqlite_of(store);
	assert(s->batch && s->depth == 0); /* a commit without a begin, or inside a request */
	s->batch = false;
	int rc = sqlite_step_done(sqlite_stmt(s, ST_BATCH_COMMIT, "COMMIT"));
	if(rc != STORE_OK && !sqlite3_get_autocommit(s->db)){
		sqlite_step_done(sqlite_stmt(s, ST_BATCH_ROLLBACK, "ROLLBACK"));
	}
	/* between two transactions: where a long WAL can be started over (sqlite_checkpoint.h) */
	if(rc == STORE_OK) checkpointer_catch_up(s->checkpointer, s->wal_frames);
	return rc;
}

/* Every commit finishes at once: nothing is ever pending. */
static int sqlite_batch_poll(struct store *store)
{
	(void)sqlite_of(store);
	return STORE_NOT_FOUND;
}

/* No other broker shares the file: nothing comes from elsewhere. */
static int sqlite_sync(struct store *store, const struct store_sync_hooks *hooks)
{
	(void)sqlite_of(store);
	(void)hooks;
	return STORE_NOT_FOUND;
}

/* Every commit finishes at once: nothing to wait for. */
static void sqlite_watch(struct store *store, int *fd, unsigned *reads)
{
	(void)store;
	*fd = -1;
	*reads = 0;
}

/* The only broker on the file runs every timer. */
static bool sqlite_runs_scheduler(struct store *store)
{
	(void)sqlite_of(store);
	return true;
}

static bool sqlite_in_transaction(struct store *store)
{
	return !sqlite3_get_autocommit(sqlite_of(store)->db);
}

static const struct store_ops sqlite_ops = {
	.close = sqlite_close,
	.errmsg = sqlite_errmsg,
	.info = sqlite_info,
	.counts = sqlite_counts,
	.begin = sqlite_begin,
	.commit = sqlite_commit,
	.rollback = sqlite_rollback,
	.batch_begin = sqlite_batch_begin,
	.batch_commit = sqlite_batch_commit,
	.batch_poll = sqlite_batch_poll,
	.in_transaction = sqlite_in_transaction,
	.sync = sqlite_sync,
	.runs_scheduler = sqlite_runs_scheduler,
	.watch = sqlite_watch,
	.job_get = sqlite_job_get,
	.job_get_state = sqlite_job_get_state,
	.job_insert = sqlite_job_insert,
	.job_update = sqlite_job_update,
	.job_set_config = sqlite_job_set_config,
	.job_counts = sqlite_job_counts,
	.job_delete = sqlite_job_delete,
	.job_list = sqlite_job_list,
	.job_has_pending = sqlite_job_has_pending,
	.exec_get = sqlite_exec_get,
	.exec_find = sqlite_exec_find,
	.exec_insert = sqlite_exec_insert,
	.exec_update = sqlite_exec_update,
	.exec_delete = sqlite_exec_delete,
	.pending = sqlite_pending,
	.pending_summaries = sqlite_pending_summaries,
	.job_executions = sqlite_job_executions,
	.job_exec_page = sqlite_job_exec_page,
	.thing_exec_page = sqlite_thing_exec_page,
	.group_get = sqlite_group_get,
	.group_insert = sqlite_group_insert,
	.group_delete = sqlite_group_delete,
	.group_list = sqlite_group_list,
	.member_add = sqlite_member_add,
	.member_remove = sqlite_member_remove,
	.member_list = sqlite_member_list,
	.target_add = sqlite_target_add,
	.continuous_jobs_for_group = sqlite_continuous_jobs_for_group,
	.job_targets_thing = sqlite_job_targets_thing,
	.due_executions = sqlite_due_executions,
	.next_deadline = sqlite_next_deadline,
	.due_jobs = sqlite_due_jobs,
	.next_job_wake = sqlite_next_job_wake,
	.rollout_push = sqlite_rollout_push,
	.rollout_push_group = sqlite_rollout_push_group,
	.rollout_pop = sqlite_rollout_pop,
	.rollout_clear = sqlite_rollout_clear,
	.rollout_count = sqlite_rollout_count,
	.template_get = sqlite_template_get,
	.template_insert = sqlite_template_insert,
	.template_delete = sqlite_template_delete,
	.template_list = sqlite_template_list,
	.thing_get = sqlite_thing_get,
	.thing_insert = sqlite_thing_insert,
	.thing_update = sqlite_thing_update,
	.thing_delete = sqlite_thing_delete,
	.thing_list = sqlite_thing_list,
	.thing_groups = sqlite_thing_groups,
	.event_config_list = sqlite_event_configs,
	.event_config_set = sqlite_event_config_set,
};
