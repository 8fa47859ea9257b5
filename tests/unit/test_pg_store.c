/* The PostgreSQL store through the store port, two or three stores on one database
 * standing for brokers: a batch is pending until PostgreSQL committed it, another
 * store's sync brings it in (and says which executions moved), a write on a row that
 * changed meanwhile fails its batch and leaves both copies as PostgreSQL has them, a
 * new store loads everything, one store holds the scheduler's lease, ids never clash.
 * Runs when the environment names a server (tests/with-postgres sets JOBS_PG_CONNINFO
 * and PG*), else the suite is not added. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/pg_store.h"
#include "store/sqlite_store.h"
#include "store/store.h"
#include "suites.h"

static char uri[512];

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void pause_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* A database of its own for each test, on the server of the environment. */
static void fresh_database(void)
{
	static int n;
	char name[64];
	snprintf(name, sizeof(name), "pgstore_%d_%d", (int)getpid(), ++n);
	PGconn *c = PQconnectdb(getenv("JOBS_PG_CONNINFO"));
	CU_ASSERT_FATAL(PQstatus(c) == CONNECTION_OK);
	char sql[128];
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	PGresult *r = PQexec(c, sql);
	CU_ASSERT_FATAL(PQresultStatus(r) == PGRES_COMMAND_OK);
	PQclear(r);
	snprintf(uri, sizeof(uri), "postgresql://%s@%s:%s/%s", PQuser(c), PQhost(c), PQport(c), name);
	PQfinish(c);
}

static struct store *open_pg(void)
{
	struct jobs_config cfg = { .db_path = "unused", .store_uri = uri, .store_timeout_ms = 5000,
		.synchronous = JOBS_SYNC_NORMAL };
	struct store *s = NULL;
	char err[1024];
	int rc = store_open(&cfg, &s, err, sizeof(err));
	if(rc != STORE_OK) fprintf(stderr, "%s\n", err);
	CU_ASSERT_FATAL(rc == STORE_OK);
	return s;
}

/* Polls until the oldest pending batch's outcome is known. */
static int outcome(struct store *s)
{
	int64_t deadline = now_ms() + 10000;
	int rc;
	while((rc = store_batch_poll(s)) == STORE_PENDING && now_ms() < deadline) pause_ms(5);
	return rc;
}

struct touches {
	int count;
	char thing[64];
	int from, to;
};

static int touch(void *ctx, const char *thing, const char *ns, int from, int to)
{
	(void)ns;
	struct touches *t = ctx;
	t->count++;
	snprintf(t->thing, sizeof(t->thing), "%s", thing);
	t->from = from;
	t->to = to;
	return 0;
}

/* Syncs until the store sees `job_id` (or gives up). */
static bool sync_until_job(struct store *s, const char *job_id, struct touches *t)
{
	struct store_sync_hooks hooks = { .touch = touch, .ctx = t };
	int64_t deadline = now_ms() + 10000;
	while(now_ms() < deadline){
		store_sync(s, &hooks);
		struct store_job j;
		if(store_job_get(s, job_id, &j) == STORE_OK){
			store_job_free(&j);
			return true;
		}
		pause_ms(5);
	}
	return false;
}

static int64_t add_job(struct store *s, const char *id)
{
	struct store_job job = { .status = JOB_IN_PROGRESS, .created_at = 1, .last_updated_at = 1 };
	snprintf(job.job_id, sizeof(job.job_id), "%s", id);
	job.document = "{\"op\":1}";
	job.targets = "[]";
	CU_ASSERT_EQUAL(store_job_insert(s, &job), STORE_OK);
	return job.seq;
}

static void add_exec(struct store *s, const char *thing, int64_t seq)
{
	struct store_exec e = { .job_seq = seq, .execution_number = 1, .status = EXEC_QUEUED,
		.queued_at = 1, .last_updated_at = 1, .version = 1 };
	snprintf(e.thing, sizeof(e.thing), "%s", thing);
	CU_ASSERT_EQUAL(store_exec_insert(s, &e), STORE_OK);
}

/* Job j_id with an execution on thing, committed through `s` as one batch: its seq. */
static int64_t committed_job(struct store *s, const char *job_id, const char *thing)
{
	CU_ASSERT_EQUAL_FATAL(store_batch_begin(s), STORE_OK);
	int64_t seq = add_job(s, job_id);
	if(thing) add_exec(s, thing, seq);
	CU_ASSERT_EQUAL(store_batch_commit(s), STORE_PENDING);
	CU_ASSERT_EQUAL(outcome(s), STORE_OK);
	return seq;
}

static void test_batch_reaches_other_broker(void)
{
	fresh_database();
	struct store *a = open_pg(), *b = open_pg();
	int64_t seq = committed_job(a, "j1", "t1");
	CU_ASSERT_EQUAL(store_batch_poll(a), STORE_NOT_FOUND);

	struct touches t = { 0 };
	CU_ASSERT_FATAL(sync_until_job(b, "j1", &t));
	CU_ASSERT_EQUAL(t.count, 1);
	CU_ASSERT_STRING_EQUAL(t.thing, "t1");
	CU_ASSERT_EQUAL(t.from, -1);
	CU_ASSERT_EQUAL(t.to, EXEC_QUEUED);
	struct store_exec e;
	CU_ASSERT_EQUAL_FATAL(store_exec_get(b, "t1", seq, 0, true, &e), STORE_OK);
	CU_ASSERT_STRING_EQUAL(e.document, "{\"op\":1}");
	store_exec_free(&e);
	int64_t counts[EXEC_STATUS_COUNT];
	CU_ASSERT_EQUAL(store_job_counts(b, seq, counts), STORE_OK);
	CU_ASSERT_EQUAL(counts[EXEC_QUEUED], 1);

	/* a third broker loads it all at start */
	struct store *c = open_pg();
	CU_ASSERT_EQUAL(store_exec_get(c, "t1", seq, 0, false, &e), STORE_OK);
	CU_ASSERT_EQUAL(store_job_counts(c, seq, counts), STORE_OK);
	CU_ASSERT_EQUAL(counts[EXEC_QUEUED], 1);
	/* ids from different blocks */
	CU_ASSERT_EQUAL_FATAL(store_batch_begin(c), STORE_OK);
	int64_t other = add_job(c, "j2");
	CU_ASSERT_EQUAL(store_batch_commit(c), STORE_PENDING);
	CU_ASSERT_EQUAL(outcome(c), STORE_OK);
	CU_ASSERT_NOT_EQUAL(other, seq);
	store_close(c);
	store_close(b);
	store_close(a);
}

static void update_version(struct store *s, int64_t seq, int64_t version, int status)
{
	struct store_exec e;
	CU_ASSERT_EQUAL_FATAL(store_exec_get(s, "t1", seq, 0, false, &e), STORE_OK);
	CU_ASSERT_EQUAL(e.version, version - 1);
	e.version = version;
	e.status = status;
	CU_ASSERT_EQUAL(store_exec_update(s, &e), STORE_OK);
	store_exec_free(&e);
}

static void test_race_on_one_row(void)
{
	fresh_database();
	struct store *a = open_pg(), *b = open_pg();
	int64_t seq = committed_job(a, "j1", "t1");
	struct touches t = { 0 };
	CU_ASSERT_FATAL(sync_until_job(b, "j1", &t));

	/* both read version 1 and write version 2 */
	CU_ASSERT_EQUAL_FATAL(store_batch_begin(a), STORE_OK);
	update_version(a, seq, 2, EXEC_IN_PROGRESS);
	CU_ASSERT_EQUAL_FATAL(store_batch_begin(b), STORE_OK);
	update_version(b, seq, 2, EXEC_SUCCEEDED);
	CU_ASSERT_EQUAL(store_batch_commit(a), STORE_PENDING);
	CU_ASSERT_EQUAL(store_batch_commit(b), STORE_PENDING);
	int ra = outcome(a), rb = outcome(b);
	CU_ASSERT((ra == STORE_OK) != (rb == STORE_OK));
	struct store *winner = ra == STORE_OK ? a : b, *loser = ra == STORE_OK ? b : a;
	int want = winner == a ? EXEC_IN_PROGRESS : EXEC_SUCCEEDED;

	/* the loser's copy comes back to what PostgreSQL holds */
	struct store_sync_hooks hooks = { .touch = touch, .ctx = &t };
	int64_t deadline = now_ms() + 10000;
	int status = -1;
	int64_t version = -1;
	for(;;){
		store_sync(loser, &hooks);
		struct store_exec e;
		CU_ASSERT_EQUAL_FATAL(store_exec_get(loser, "t1", seq, 0, false, &e), STORE_OK);
		status = e.status;
		version = e.version;
		store_exec_free(&e);
		if(status == want || now_ms() > deadline) break;
		pause_ms(5);
	}
	CU_ASSERT_EQUAL(status, want);
	CU_ASSERT_EQUAL(version, 2);
	int64_t counts[EXEC_STATUS_COUNT];
	CU_ASSERT_EQUAL(store_job_counts(loser, seq, counts), STORE_OK);
	CU_ASSERT_EQUAL(counts[want], 1);
	CU_ASSERT_EQUAL(counts[EXEC_QUEUED], 0);
	store_close(b);
	store_close(a);
}

static void test_one_scheduler(void)
{
	fresh_database();
	struct store *a = open_pg(), *b = open_pg();
	int64_t deadline = now_ms() + 10000;
	while(!store_runs_scheduler(a) && !store_runs_scheduler(b) && now_ms() < deadline){
		store_batch_poll(a);
		store_batch_poll(b);
		pause_ms(10);
	}
	/* a few more rounds: the other never gets it while the first holds it */
	for(int i = 0; i < 20; i++){
		store_batch_poll(a);
		store_batch_poll(b);
		pause_ms(10);
	}
	CU_ASSERT(store_runs_scheduler(a) != store_runs_scheduler(b));
	struct store *holder = store_runs_scheduler(a) ? a : b, *other = holder == a ? b : a;
	store_close(holder);
	deadline = now_ms() + 10000;
	while(!store_runs_scheduler(other) && now_ms() < deadline){
		store_batch_poll(other);
		pause_ms(10);
	}
	CU_ASSERT(store_runs_scheduler(other));
	store_close(other);
}

/* A broker whose copy missed changes the change log no longer holds loads it again. */
static void test_reload_after_a_gap(void)
{
	fresh_database();
	struct store *a = open_pg(), *b = open_pg();
	int64_t first = committed_job(a, "j1", "t1");
	committed_job(a, "j2", NULL);
	/* the log loses j1's entry before b read it (b has not pumped since it started) */
	PGconn *c = PQconnectdb(uri);
	PGresult *r = PQexec(c, "DELETE FROM jobs_changes WHERE seq = (SELECT min(seq) FROM jobs_changes)");
	CU_ASSERT_EQUAL(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	PQfinish(c);
	struct touches t = { 0 };
	CU_ASSERT_FATAL(sync_until_job(b, "j2", &t));
	struct store_exec e;
	CU_ASSERT_EQUAL(store_exec_get(b, "t1", first, 0, false, &e), STORE_OK);
	int64_t counts[EXEC_STATUS_COUNT];
	CU_ASSERT_EQUAL(store_job_counts(b, first, counts), STORE_OK);
	CU_ASSERT_EQUAL(counts[EXEC_QUEUED], 1);
	store_close(b);
	store_close(a);
}

/* An SQLite fleet moves to PostgreSQL: every record, the counts, ids past the copied. */
static void test_import_sqlite(void)
{
	char path[4096];
	test_file_path(path, sizeof(path), "import.db");
	remove_db_files(path);
	struct jobs_config lite = { .db_path = path, .synchronous = JOBS_SYNC_NORMAL };
	struct store *s;
	char err[1024];
	CU_ASSERT_EQUAL_FATAL(store_open(&lite, &s, err, sizeof(err)), STORE_OK);
	int64_t seq = add_job(s, "old-job");
	add_exec(s, "t1", seq);
	add_exec(s, "t2", seq);
	struct store_group g = { .name = "g1", .created_at = 5 };
	CU_ASSERT_EQUAL(store_group_insert(s, &g), STORE_OK);
	CU_ASSERT_EQUAL(store_member_add(s, "g1", "t1", 5), STORE_OK);
	CU_ASSERT_EQUAL(store_rollout_push(s, seq, "t3"), STORE_OK);
	store_close(s);

	fresh_database();
	struct store *a = open_pg();
	CU_ASSERT_EQUAL(pg_store_import(a, path, err, sizeof(err)), STORE_OK);
	/* a second time: the database is no longer empty */
	CU_ASSERT_EQUAL(pg_store_import(a, path, err, sizeof(err)), STORE_EXISTS);
	store_close(a);

	struct store *b = open_pg();
	struct store_exec e;
	CU_ASSERT_EQUAL(store_exec_get(b, "t2", seq, 0, true, &e), STORE_OK);
	store_exec_free(&e);
	int64_t counts[EXEC_STATUS_COUNT];
	CU_ASSERT_EQUAL(store_job_counts(b, seq, counts), STORE_OK);
	CU_ASSERT_EQUAL(counts[EXEC_QUEUED], 2);
	struct store_name *members;
	size_t n;
	CU_ASSERT_EQUAL(store_member_list(b, "g1", 0, 10, &members, &n), STORE_OK);
	CU_ASSERT_EQUAL(n, 1);
	free(members);
	int64_t queued;
	CU_ASSERT_EQUAL(store_rollout_count(b, seq, &queued), STORE_OK);
	CU_ASSERT_EQUAL(queued, 1);
	CU_ASSERT_EQUAL_FATAL(store_batch_begin(b), STORE_OK);
	int64_t next = add_job(b, "new-job");
	CU_ASSERT_EQUAL(store_batch_commit(b), STORE_PENDING);
	CU_ASSERT_EQUAL(outcome(b), STORE_OK);
	CU_ASSERT(next > seq);
	store_close(b);
	remove_db_files(path);
}

/* A table added to the SQLite schema is either kept in PostgreSQL or derived in each
 * copy: never silently left out of what brokers share. Needs no server. */
static void test_every_table_shared_or_derived(void)
{
	struct jobs_config cfg = { .db_path = ":memory:", .synchronous = JOBS_SYNC_NORMAL };
	struct store *s;
	char err[512];
	CU_ASSERT_EQUAL_FATAL(store_open(&cfg, &s, err, sizeof(err)), STORE_OK);
	sqlite3_stmt *st;
	CU_ASSERT_EQUAL_FATAL(sqlite3_prepare_v2(sqlite_store_handle(s), "SELECT name FROM sqlite_master WHERE type = 'table'"
				" AND name NOT LIKE 'sqlite_%'", -1, &st, NULL), SQLITE_OK);
	int tables = 0;
	while(sqlite3_step(st) == SQLITE_ROW){
		const char *name = (const char *)sqlite3_column_text(st, 0);
		tables++;
		if(pg_store_keeps_table(name) == pg_store_derives_table(name)){
			fprintf(stderr, "table %s: neither kept in PostgreSQL nor derived (or both)\n", name);
			CU_FAIL("a table of the schema the PostgreSQL store does not account for");
		}
	}
	sqlite3_finalize(st);
	CU_ASSERT(tables >= 7);
	store_close(s);
}

void add_pg_store_tests(void)
{
	static const struct test_entry always[] = {
		{ "every table is shared or derived", test_every_table_shared_or_derived },
	};
	add_suite("pg_store_schema", always, sizeof(always) / sizeof(*always));
	if(!getenv("JOBS_PG_CONNINFO")) return;
	static const struct test_entry tests[] = {
		{ "a batch reaches another broker", test_batch_reaches_other_broker },
		{ "two brokers race on one row", test_race_on_one_row },
		{ "one broker runs the scheduler", test_one_scheduler },
		{ "an SQLite fleet moves in", test_import_sqlite },
		{ "a copy that missed changes loads again", test_reload_after_a_gap },
	};
	add_suite("pg_store", tests, sizeof(tests) / sizeof(*tests));
}
