/* Store: schema version, persistence across reopen, pending order, refusals. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_store.h"
#include "store/store.h"
#include "suites.h"

static char db_path[4200];

/* The store of an SQLite database at path, as the configuration would name it. */
static int open_path(const char *path, struct store **s, char *err, size_t errlen)
{
	struct jobs_config cfg = { .db_path = (char *)path, .synchronous = JOBS_SYNC_NORMAL };
	return store_open(&cfg, s, err, errlen);
}

static struct store *open_temp(void)
{
	test_file_path(db_path, sizeof(db_path), "store.db");
	struct store *s = NULL;
	char err[512];
	CU_ASSERT_EQUAL(open_path(db_path, &s, err, sizeof(err)), STORE_OK);
	return s;
}

static void remove_temp(void)
{
	remove_db_files(db_path);
}

static int64_t add_job(struct store *s, const char *id, int64_t now)
{
	struct store_job job = { .status = JOB_IN_PROGRESS, .created_at = now, .last_updated_at = now };
	snprintf(job.job_id, sizeof(job.job_id), "%s", id);
	job.document = "{}";
	job.targets = "[]";
	CU_ASSERT_EQUAL(store_job_insert(s, &job), STORE_OK);
	return job.seq;
}

static void add_exec(struct store *s, const char *thing, int64_t seq, int status, int64_t queued_at)
{
	struct store_exec e = { .job_seq = seq, .execution_number = 1, .status = status,
		.queued_at = queued_at, .last_updated_at = queued_at, .version = 1 };
	snprintf(e.thing, sizeof(e.thing), "%s", thing);
	CU_ASSERT_EQUAL(store_exec_insert(s, &e), STORE_OK);
}

static void test_schema_and_reopen(void)
{
	remove_temp();
	struct store *s = open_temp();
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	int64_t seq = add_job(s, "persist", 100);
	add_exec(s, "t1", seq, EXEC_QUEUED, 100);
	struct store_job dup = { .status = JOB_IN_PROGRESS, .document = "{}", .targets = "[]" };
	strcpy(dup.job_id, "persist");
	CU_ASSERT_EQUAL(store_job_insert(s, &dup), STORE_EXISTS);
	store_close(s);

	s = open_temp();
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	struct store_exec e;
	CU_ASSERT_EQUAL(store_exec_get(s, "t1", seq, 0, true, &e), STORE_OK);
	CU_ASSERT_STRING_EQUAL(e.job_id, "persist");
	CU_ASSERT_STRING_EQUAL(e.document, "{}");
	CU_ASSERT_EQUAL(e.status, EXEC_QUEUED);
	store_exec_free(&e);
	store_close(s);

	sqlite3 *db;
	CU_ASSERT_EQUAL_FATAL(sqlite3_open(db_path, &db), SQLITE_OK);
	sqlite3_stmt *st;
	sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
	CU_ASSERT_EQUAL(sqlite3_step(st), SQLITE_ROW);
	CU_ASSERT_EQUAL(sqlite3_column_int(st, 0), JOBS_SQLITE_SCHEMA_VERSION);
	sqlite3_finalize(st);
	sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL);
	CU_ASSERT_EQUAL(sqlite3_step(st), SQLITE_ROW);
	CU_ASSERT_STRING_EQUAL((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	/* a database from a newer plugin is refused, not damaged */
	sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL);
	sqlite3_close(db);
	char err[512] = "";
	CU_ASSERT_EQUAL(open_path(db_path, &s, err, sizeof(err)), STORE_ERROR);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "schema version 99"));
	remove_temp();
}

static void test_unusable_path(void)
{
	struct store *s = NULL;
	char err[512] = "";
	CU_ASSERT_EQUAL(open_path("/nonexistent-dir/jobs.db", &s, err, sizeof(err)), STORE_ERROR);
	CU_ASSERT_PTR_NULL(s);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent-dir/jobs.db"));
}

static void test_pending_order(void)
{
	remove_temp();
	struct store *s = open_temp();
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	/* created in this order; queued times deliberately not monotonic */
	int64_t a = add_job(s, "a", 10), b = add_job(s, "b", 10), c = add_job(s, "c", 10),
		d = add_job(s, "d", 10), x = add_job(s, "x", 10);
	add_exec(s, "t", a, EXEC_QUEUED, 20);
	add_exec(s, "t", b, EXEC_QUEUED, 10);
	add_exec(s, "t", c, EXEC_IN_PROGRESS, 30);
	add_exec(s, "t", d, EXEC_SUCCEEDED, 5);
	add_exec(s, "t", x, EXEC_QUEUED, 20);
	add_exec(s, "other", a, EXEC_QUEUED, 1);

	struct store_exec *rows;
	size_t n;
	CU_ASSERT_EQUAL_FATAL(store_pending(s, "t", "", 10, false, &rows, &n), STORE_OK);
	CU_ASSERT_EQUAL_FATAL(n, 4);
	CU_ASSERT_STRING_EQUAL(rows[0].job_id, "c"); /* IN_PROGRESS first */
	CU_ASSERT_STRING_EQUAL(rows[1].job_id, "b"); /* then by queuedAt */
	CU_ASSERT_STRING_EQUAL(rows[2].job_id, "a"); /* then by creation */
	CU_ASSERT_STRING_EQUAL(rows[3].job_id, "x");
	store_exec_array_free(rows, n);
	CU_ASSERT_EQUAL(store_pending(s, "t", "", 2, false, &rows, &n), STORE_OK);
	CU_ASSERT_EQUAL(n, 2);
	store_exec_array_free(rows, n);
	CU_ASSERT_EQUAL(store_pending(s, "t", "ns", 10, false, &rows, &n), STORE_OK);
	CU_ASSERT_EQUAL(n, 0);
	store_exec_array_free(rows, n);

	bool pending;
	CU_ASSERT_EQUAL(store_job_has_pending(s, d, &pending), STORE_OK);
	CU_ASSERT_FALSE(pending);
	CU_ASSERT_EQUAL(store_job_has_pending(s, a, &pending), STORE_OK);
	CU_ASSERT_TRUE(pending);
	int64_t counts[EXEC_STATUS_COUNT];
	CU_ASSERT_EQUAL(store_job_counts(s, a, counts), STORE_OK);
	CU_ASSERT_EQUAL(counts[EXEC_QUEUED], 2);
	store_close(s);
	remove_temp();
}

static void test_rollback(void)
{
	remove_temp();
	struct store *s = open_temp();
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(store_begin(s), STORE_OK);
	add_job(s, "gone", 1);
	store_rollback(s);
	struct store_job job;
	CU_ASSERT_EQUAL(store_job_get(s, "gone", &job), STORE_NOT_FOUND);
	CU_ASSERT_EQUAL(store_begin(s), STORE_OK);
	add_job(s, "kept", 1);
	CU_ASSERT_EQUAL(store_commit(s), STORE_OK);
	CU_ASSERT_EQUAL(store_job_get(s, "kept", &job), STORE_OK);
	store_job_free(&job);
	store_close(s);
	remove_temp();
}

/* A batch around request transactions: a request rolled back inside it goes alone,
 * and SQLite finishes the batch's commit at once (never STORE_PENDING: nothing is left
 * for store_batch_poll). */
static void test_batch_finishes_at_once(void)
{
	remove_temp();
	struct store *s = open_temp();
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(store_batch_poll(s), STORE_NOT_FOUND);
	CU_ASSERT_EQUAL_FATAL(store_batch_begin(s), STORE_OK);
	CU_ASSERT(store_in_transaction(s));
	CU_ASSERT_EQUAL(store_begin(s), STORE_OK);
	add_job(s, "batched", 1);
	CU_ASSERT_EQUAL(store_commit(s), STORE_OK);
	CU_ASSERT_EQUAL(store_begin(s), STORE_OK);
	add_job(s, "undone", 1);
	store_rollback(s);
	CU_ASSERT(store_in_transaction(s));
	CU_ASSERT_EQUAL(store_batch_commit(s), STORE_OK);
	CU_ASSERT(!store_in_transaction(s));
	CU_ASSERT_EQUAL(store_batch_poll(s), STORE_NOT_FOUND);
	store_close(s);

	s = open_temp();
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	struct store_job job;
	CU_ASSERT_EQUAL(store_job_get(s, "batched", &job), STORE_OK);
	store_job_free(&job);
	CU_ASSERT_EQUAL(store_job_get(s, "undone", &job), STORE_NOT_FOUND);
	store_close(s);
	remove_temp();
}

/* Runs PRAGMA integrity_check on the store's file: "ok" when every index matches its
 * table. */
static void assert_integrity(void)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	CU_ASSERT_EQUAL_FATAL(sqlite3_open(db_path, &db), SQLITE_OK);
	CU_ASSERT_EQUAL_FATAL(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
	CU_ASSERT_EQUAL(sqlite3_step(st), SQLITE_ROW);
	CU_ASSERT_STRING_EQUAL((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void test_find_and_update(void)
{
	remove_temp();
	struct store *s = open_temp();
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	int64_t a = add_job(s, "a", 10);
	add_exec(s, "t", a, EXEC_QUEUED, 20);
	struct store_exec e;
	/* a job without a namespace is not seen from one, nor an unknown job or thing */
	CU_ASSERT_EQUAL(store_exec_find(s, "t", "a", "ns", 0, false, &e), STORE_NOT_FOUND);
	CU_ASSERT_EQUAL(store_exec_find(s, "t", "b", "", 0, false, &e), STORE_NOT_FOUND);
	CU_ASSERT_EQUAL(store_exec_find(s, "u", "a", "", 0, false, &e), STORE_NOT_FOUND);
	CU_ASSERT_EQUAL(store_exec_find(s, "t", "a", "", 2, false, &e), STORE_NOT_FOUND);
	CU_ASSERT_EQUAL_FATAL(store_exec_find(s, "t", "a", "", 0, true, &e), STORE_OK);
	CU_ASSERT_STRING_EQUAL(e.job_id, "a");
	CU_ASSERT_STRING_EQUAL(e.document, "{}");
	CU_ASSERT_TRUE(e.loaded);

	/* a status change moves the execution in the pending index and the deadline index */
	e.status = EXEC_IN_PROGRESS;
	e.step_deadline_ms = 5000;
	e.version++;
	CU_ASSERT_EQUAL(store_exec_update(s, &e), STORE_OK);
	store_exec_free(&e);
	int64_t when = 0;
	CU_ASSERT_EQUAL(store_next_deadline(s, &when), STORE_OK);
	CU_ASSERT_EQUAL(when, 5000);

	/* a progress report (same status, same timers) writes the row only */
	CU_ASSERT_EQUAL_FATAL(store_exec_find(s, "t", "a", "", 1, false, &e), STORE_OK);
	CU_ASSERT_EQUAL(e.status, EXEC_IN_PROGRESS);
	e.version++;
	e.status_details = strdup("{\"step\":\"2\"}");
	CU_ASSERT_EQUAL(store_exec_update(s, &e), STORE_OK);
	store_exec_free(&e);
	CU_ASSERT_EQUAL_FATAL(store_exec_find(s, "t", "a", "", 0, false, &e), STORE_OK);
	CU_ASSERT_EQUAL(e.version, 3);
	CU_ASSERT_STRING_EQUAL(e.status_details, "{\"step\":\"2\"}");
	/* and a timer that changes is written with its index */
	e.step_deadline_ms = 0;
	CU_ASSERT_EQUAL(store_exec_update(s, &e), STORE_OK);
	store_exec_free(&e);
	CU_ASSERT_EQUAL(store_next_deadline(s, &when), STORE_OK);
	CU_ASSERT_EQUAL(when, 0);

	/* an execution not read from the store is written whole */
	struct store_exec made = { .job_seq = a, .execution_number = 1, .status = EXEC_SUCCEEDED,
		.queued_at = 20, .last_updated_at = 30, .version = 4 };
	snprintf(made.thing, sizeof(made.thing), "t");
	CU_ASSERT_EQUAL(store_exec_update(s, &made), STORE_OK);
	struct store_exec *rows;
	size_t n;
	CU_ASSERT_EQUAL(store_pending(s, "t", "", 10, false, &rows, &n), STORE_OK);
	CU_ASSERT_EQUAL(n, 0);
	store_exec_array_free(rows, n);
	store_close(s);
	assert_integrity();
	remove_temp();
}

/* counts[] of the job as the latest execution of each thing gives them, counted from
 * the executions by another connection. */
static void counted_from_rows(int64_t job_seq, int64_t counts[EXEC_STATUS_COUNT])
{
	sqlite3 *db;
	sqlite3_stmt *st;
	memset(counts, 0, sizeof(int64_t) * EXEC_STATUS_COUNT);
	CU_ASSERT_EQUAL_FATAL(sqlite3_open(db_path, &db), SQLITE_OK);
	CU_ASSERT_EQUAL_FATAL(sqlite3_prepare_v2(db, "SELECT e.status, count(*) FROM executions e"
			" WHERE e.job_seq = ?1 AND e.execution_number = (SELECT max(x.execution_number)"
			" FROM executions x WHERE x.thing = e.thing AND x.job_seq = e.job_seq) GROUP BY e.status",
			-1, &st, NULL), SQLITE_OK);
	sqlite3_bind_int64(st, 1, job_seq);
	while(sqlite3_step(st) == SQLITE_ROW) counts[sqlite3_column_int(st, 0)] = sqlite3_column_int64(st, 1);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void assert_counts(struct store *s, int64_t job_seq)
{
	int64_t kept[EXEC_STATUS_COUNT], counted[EXEC_STATUS_COUNT];
	CU_ASSERT_EQUAL(store_job_counts(s, job_seq, kept), STORE_OK);
	counted_from_rows(job_seq, counted);
	for(int i = 0; i < EXEC_STATUS_COUNT; i++) CU_ASSERT_EQUAL(kept[i], counted[i]);
}

/* The per-job counts the store keeps follow every insert (a thing's next execution),
 * status change and delete, for the latest execution of each thing only. */
static void test_job_counts_follow_changes(void)
{
	remove_temp();
	struct store *s = open_temp();
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	int64_t jobs[2] = { add_job(s, "a", 1), add_job(s, "b", 1) };
	unsigned seed = 12345;
	for(int op = 0; op < 600; op++){
		seed = seed * 1103515245u + 12345u;
		unsigned r = seed >> 8;
		int64_t job = jobs[r % 2];
		char thing[8];
		snprintf(thing, sizeof(thing), "t%u", (r >> 1) % 6);
		struct store_exec last;
		int got = store_exec_get(s, thing, job, 0, false, &last);
		int64_t latest = got == STORE_OK ? last.execution_number : 0;
		if(got == STORE_OK) store_exec_free(&last);
		int status = (int)((r >> 4) % EXEC_STATUS_COUNT);
		switch((r >> 8) % 4){
		case 0: { /* the thing's next execution */
			struct store_exec e = { .job_seq = job, .execution_number = latest + 1, .status = status,
				.queued_at = op, .last_updated_at = op, .version = 1 };
			snprintf(e.thing, sizeof(e.thing), "%s", thing);
			CU_ASSERT_EQUAL(store_exec_insert(s, &e), STORE_OK);
			break;
		}
		case 1: case 2: { /* a status change, of the latest or of an older one */
			if(!latest) break;
			struct store_exec e;
			int64_t number = (r >> 12) % 3 == 0 && latest > 1 ? 1 + (int64_t)((r >> 14) % (unsigned)(latest - 1)) : latest;
			if(store_exec_get(s, thing, job, number, false, &e) != STORE_OK) break;
			e.status = status;
			e.version++;
			CU_ASSERT_EQUAL(store_exec_update(s, &e), STORE_OK);
			store_exec_free(&e);
			break;
		}
		case 3: /* a delete, of the latest or of an older one */
			if(latest) store_exec_delete(s, thing, job, 1 + (int64_t)((r >> 12) % (unsigned)latest));
			break;
		}
		if(op % 50 == 49){
			assert_counts(s, jobs[0]);
			assert_counts(s, jobs[1]);
		}
	}
	/* deleting a job drops its counts and leaves the other's */
	CU_ASSERT_EQUAL(store_job_delete(s, jobs[0]), STORE_OK);
	int64_t none[EXEC_STATUS_COUNT];
	CU_ASSERT_EQUAL(store_job_counts(s, jobs[0], none), STORE_OK);
	for(int i = 0; i < EXEC_STATUS_COUNT; i++) CU_ASSERT_EQUAL(none[i], 0);
	assert_counts(s, jobs[1]);
	store_close(s);
	assert_integrity();
	remove_temp();
}

static long file_bytes(const char *path)
{
	FILE *f = fopen(path, "rb");
	if(!f) return -1;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fclose(f);
	return n;
}

/* The checkpoint sequence number in the WAL's header (bytes 12-15, big-endian):
 * SQLite adds one each time it starts the WAL over. -1 when there is no WAL. */
static long wal_generation(const char *wal)
{
	unsigned char h[16];
	FILE *f = fopen(wal, "rb");
	if(!f) return -1;
	size_t n = fread(h, 1, sizeof(h), f);
	fclose(f);
	if(n < sizeof(h)) return -1;
	return (long)((unsigned long)h[12] << 24 | (unsigned long)h[13] << 16 | (unsigned long)h[14] << 8 | h[15]);
}

/* One transaction of `count` jobs with 2 KB documents. */
static void commit_jobs(struct store *s, int batch, int count)
{
	static char doc[2000];
	if(!doc[0]){
		memset(doc, 'd', sizeof(doc));
		memcpy(doc, "{\"d\":\"", 6);
		memcpy(doc + sizeof(doc) - 3, "\"}", 3);
	}
	CU_ASSERT_EQUAL_FATAL(store_batch_begin(s), STORE_OK);
	for(int i = 0; i < count; i++){
		struct store_job job = { .status = JOB_IN_PROGRESS, .created_at = 1, .last_updated_at = 1 };
		snprintf(job.job_id, sizeof(job.job_id), "j%d-%d", batch, i);
		job.document = doc;
		job.targets = "[]";
		CU_ASSERT_EQUAL(store_job_insert(s, &job), STORE_OK);
	}
	CU_ASSERT_EQUAL_FATAL(store_batch_commit(s), STORE_OK);
}

/* The WAL's upkeep under a steady stream of commits (32 MB of documents, one commit
 * after the other, nothing in between): a commit that leaves the WAL past its rewind
 * mark, and only such a commit, waits for a checkpoint; once one such checkpoint
 * ends within the wait, everything is in the database file and the next commit
 * starts the WAL over. The wait is made long enough to see the checkpoint end
 * whatever the machine's load (in service it is 10 ms, and a commit that misses it
 * tries again): what is checked is the order of events, not how fast they come. */
static void test_wal_checkpointed_and_rewound(void)
{
	remove_temp();
	struct store *s = open_temp();
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	sqlite_store_set_catch_up_wait(s, 60000);
	char wal[4300];
	snprintf(wal, sizeof(wal), "%s-wal", db_path);
	struct sqlite_wal_stats before, after;
	sqlite_store_wal_stats(s, &before);
	CU_ASSERT_EQUAL_FATAL(before.rewind_frames, 4096);

	/* short transactions that keep the WAL short never wait */
	for(int i = 0; i < 50; i++){
		char id[16];
		snprintf(id, sizeof(id), "small%d", i);
		CU_ASSERT_EQUAL_FATAL(store_begin(s), STORE_OK);
		add_job(s, id, 1);
		CU_ASSERT_EQUAL(store_commit(s), STORE_OK);
	}
	sqlite_store_wal_stats(s, &after);
	CU_ASSERT(after.wal_frames > 0 && after.wal_frames <= after.rewind_frames);
	CU_ASSERT_EQUAL(after.catch_ups, 0);

	int restarts = 0, past_mark = 0;
	bool expect_restart = false;
	long bytes_before_catch_up = 0, db_after_catch_up = 0;
	for(int batch = 0; batch < 800; batch++){
		sqlite_store_wal_stats(s, &before);
		long generation = wal_generation(wal);
		commit_jobs(s, batch, 20);
		sqlite_store_wal_stats(s, &after);
		if(after.wal_frames <= after.rewind_frames){
			CU_ASSERT_EQUAL(after.catch_ups, before.catch_ups);
		}else{
			past_mark++;
		}
		CU_ASSERT(after.caught_up - before.caught_up <= after.catch_ups - before.catch_ups);
		if(expect_restart){
			/* the transaction after a caught-up checkpoint began a new WAL */
			CU_ASSERT_EQUAL(wal_generation(wal), generation + 1);
			CU_ASSERT(after.wal_frames < before.wal_frames);
			CU_ASSERT(after.wal_frames <= after.rewind_frames);
			expect_restart = false;
		}
		if(wal_generation(wal) != generation) restarts++;
		if(after.caught_up > before.caught_up){
			expect_restart = true;
			if(!db_after_catch_up){
				bytes_before_catch_up = (batch + 1) * 20L * 2000;
				db_after_catch_up = file_bytes(db_path);
			}
		}
	}
	sqlite_store_wal_stats(s, &after);
	/* 32 MB went past the 16 MB mark */
	CU_ASSERT(past_mark > 0);
	CU_ASSERT(after.catch_ups > 0);
	CU_ASSERT(after.caught_up > 0);
	CU_ASSERT(restarts > 0);
	/* the checkpoint that ended within the wait had copied the documents into the
	 * database file, with the store open */
	CU_ASSERT(db_after_catch_up >= bytes_before_catch_up);
	CU_ASSERT(bytes_before_catch_up > 0);
	if(!after.caught_up || !restarts){
		fprintf(stderr, "\n  %lu catch-ups, %lu caught up, %d WAL restarts, %d commits past the mark\n",
				after.catch_ups, after.caught_up, restarts, past_mark);
	}
	store_close(s);
	remove_temp();
}

void add_store_tests(void)
{
	static const struct test_entry tests[] = {
		{ "schema version and reopen", test_schema_and_reopen },
		{ "unusable path refused", test_unusable_path },
		{ "pending order", test_pending_order },
		{ "savepoint rollback", test_rollback },
		{ "a batch of request transactions, finished at once", test_batch_finishes_at_once },
		{ "find by job id, and updates that keep or move index keys", test_find_and_update },
		{ "per-job counts follow inserts, status changes and deletes", test_job_counts_follow_changes },
		{ "WAL: a commit past the rewind mark waits for a checkpoint, and the WAL starts over", test_wal_checkpointed_and_rewound },
	};
	ADD_SUITE("store", tests);
}
