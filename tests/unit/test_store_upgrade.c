/* Store upgrades: a copy of each stored database of an earlier schema version
 * (tests/data/stores/vN.db, made by tests/data/stores/make-store) opens through the
 * store port, and every record reads back as that version's own management and device
 * replies said (vN.json); a database of a newer schema version is refused and left
 * byte for byte as it was. No tick runs here, so timers and rollouts stand as stored. */
#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/status.h"
#include "store/sqlite_store.h"
#include "store/store.h"
#include "suites.h"

#define STORES JOBS_SOURCE_DIR "/tests/data/stores"

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if(!f) return NULL;
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap + 1);
	size_t got;
	while(buf && (got = fread(buf + n, 1, cap - n, f)) > 0){
		n += got;
		if(n == cap){
			char *grown = realloc(buf, 2 * cap + 1);
			if(!grown){
				free(buf);
				buf = NULL;
				break;
			}
			buf = grown;
			cap *= 2;
		}
	}
	fclose(f);
	if(buf) buf[n] = '\0';
	if(len) *len = n;
	return buf;
}

static bool copy_file(const char *from, const char *to)
{
	size_t len;
	char *data = read_all(from, &len);
	if(!data) return false;
	FILE *f = fopen(to, "wb");
	bool ok = f && fwrite(data, 1, len, f) == len;
	if(f && fclose(f) != 0) ok = false;
	free(data);
	return ok;
}

static int open_path(const char *path, struct store **s, char *err, size_t errlen)
{
	struct jobs_config cfg = { .db_path = (char *)path, .synchronous = JOBS_SYNC_NORMAL };
	return store_open(&cfg, s, err, errlen);
}

static const char *str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int64_t num(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

/* Stored JSON text (NULL: none) against a JSON value (NULL: none); an empty
 * statusDetails map stored as "{}" counts as none. */
static bool same_json(const char *stored, const cJSON *want)
{
	cJSON *got = stored ? cJSON_Parse(stored) : NULL;
	bool got_empty = !got || (cJSON_IsObject(got) && !got->child);
	bool want_empty = !want || (cJSON_IsObject(want) && !want->child);
	bool same = (got_empty && want_empty) || (got && want && cJSON_Compare(got, want, true));
	cJSON_Delete(got);
	return same;
}

static bool same_text(const char *stored, const char *want)
{
	if(!stored || !want) return !stored && !want;
	return strcmp(stored, want) == 0;
}

static void report(int version, const char *what, const char *name)
{
	fprintf(stderr, "\n  v%d: %s differs: %s", version, what, name);
}

#define CHECK(version, cond, what, name) do{ \
		CU_ASSERT(cond); \
		if(!(cond)) report((version), (what), (name)); \
	}while(0)

static const char *thing_of(const cJSON *e)
{
	const char *arn = str(e, "thingArn");
	const char *slash = arn ? strrchr(arn, '/') : NULL;
	return slash ? slash + 1 : "";
}

/* The job's document as the record saw it: getJobDocument's text (v2 on), or any
 * device describe of the job (v1). */
static const cJSON *recorded_document(const cJSON *record, const cJSON *job, const char *job_id, cJSON **parsed)
{
	const char *text = str(job, "document");
	if(text) return (*parsed = cJSON_Parse(text));
	const cJSON *device;
	cJSON_ArrayForEach(device, cJSON_GetObjectItemCaseSensitive(record, "devices")){
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(device, "describe"), job_id);
		if(d) return cJSON_GetObjectItemCaseSensitive(d, "jobDocument");
	}
	return NULL;
}

static void check_jobs(int version, struct store *s, const cJSON *record)
{
	static const char *const counts_keys[EXEC_STATUS_COUNT] = {
		[EXEC_IN_PROGRESS] = "numberOfInProgressThings", [EXEC_QUEUED] = "numberOfQueuedThings",
		[EXEC_SUCCEEDED] = "numberOfSucceededThings", [EXEC_FAILED] = "numberOfFailedThings",
		[EXEC_REJECTED] = "numberOfRejectedThings", [EXEC_TIMED_OUT] = "numberOfTimedOutThings",
		[EXEC_REMOVED] = "numberOfRemovedThings", [EXEC_CANCELED] = "numberOfCanceledThings",
	};
	const cJSON *job;
	int n = 0;
	cJSON_ArrayForEach(job, cJSON_GetObjectItemCaseSensitive(record, "jobs")){
		const char *id = job->string;
		struct store_job j;
		n++;
		CU_ASSERT_EQUAL_FATAL(store_job_get(s, id, &j), STORE_OK);
		CHECK(version, strcmp(store_job_status_name(j.status), str(job, "status")) == 0, "job status", id);
		CHECK(version, j.created_at == num(job, "createdAt") && j.last_updated_at == num(job, "lastUpdatedAt")
				&& j.completed_at == num(job, "completedAt"), "job times", id);
		CHECK(version, j.force_canceled == cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(job, "forceCanceled")),
				"job forceCanceled", id);
		CHECK(version, same_text(j.reason_code, str(job, "reasonCode")) && same_text(j.comment, str(job, "comment"))
				&& same_text(j.description, str(job, "description")), "job reason, comment, description", id);
		CHECK(version, strcmp(j.namespace_id, str(job, "namespaceId") ? str(job, "namespaceId") : "") == 0,
				"job namespace", id);
		CHECK(version, (j.target_selection == TARGET_CONTINUOUS) == (strcmp(str(job, "targetSelection"), "CONTINUOUS") == 0),
				"job targetSelection", id);
		CHECK(version, same_json(j.targets, cJSON_GetObjectItemCaseSensitive(job, "targets")), "job targets", id);
		cJSON *parsed = NULL;
		const cJSON *doc = recorded_document(record, job, id, &parsed);
		CHECK(version, doc && same_json(j.document, doc), "job document", id);
		cJSON_Delete(parsed);
		int64_t counts[EXEC_STATUS_COUNT];
		CU_ASSERT_EQUAL_FATAL(store_job_counts(s, j.seq, counts), STORE_OK);
		const cJSON *pd = cJSON_GetObjectItemCaseSensitive(job, "jobProcessDetails");
		for(int st = 0; st < EXEC_STATUS_COUNT; st++){
			CHECK(version, counts[st] == num(pd, counts_keys[st]), counts_keys[st], id);
		}
		/* a rollout's or a schedule's things not reached yet wait in its queue */
		if(cJSON_GetObjectItemCaseSensitive(job, "jobExecutionsRolloutConfig") || strcmp(str(job, "status"), "SCHEDULED") == 0){
			int64_t waiting = 0;
			CU_ASSERT_EQUAL(store_rollout_count(s, j.seq, &waiting), STORE_OK);
			CHECK(version, waiting > 0, "rollout queue", id);
		}
		store_job_free(&j);
	}
	CU_ASSERT(n >= 6);
}

static void check_executions(int version, struct store *s, const cJSON *record)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(record, "executions")){
		char name[256];
		snprintf(name, sizeof(name), "%s/%s#%lld", str(e, "jobId"), thing_of(e), (long long)num(e, "executionNumber"));
		struct store_job j;
		struct store_exec x;
		CU_ASSERT_EQUAL_FATAL(store_job_get(s, str(e, "jobId"), &j), STORE_OK);
		CU_ASSERT_EQUAL_FATAL(store_exec_get(s, thing_of(e), j.seq, num(e, "executionNumber"), false, &x), STORE_OK);
		CHECK(version, strcmp(status_name(x.status), str(e, "status")) == 0, "execution status", name);
		CHECK(version, x.version == num(e, "versionNumber"), "execution version", name);
		CHECK(version, x.queued_at == num(e, "queuedAt") && x.started_at == num(e, "startedAt")
				&& x.last_updated_at == num(e, "lastUpdatedAt"), "execution times", name);
		CHECK(version, x.force_canceled == cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "forceCanceled")),
				"execution forceCanceled", name);
		const cJSON *details = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(e, "statusDetails"), "detailsMap");
		CHECK(version, same_json(x.status_details, details), "execution statusDetails", name);
		/* a timer runs only where the record has one */
		int64_t deadline = 0;
		const cJSON *t;
		cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(record, "timers")){
			if(strcmp(str(t, "jobId"), str(e, "jobId")) == 0 && strcmp(str(t, "thingName"), thing_of(e)) == 0){
				deadline = deadline && deadline < num(t, "deadline") ? deadline : num(t, "deadline");
			}
		}
		int64_t stored = store_exec_deadline(&x) / 1000;
		/* the record knows a deadline to the second it asked at */
		CHECK(version, deadline ? stored >= deadline - 5 && stored <= deadline + 5 : stored == 0, "execution timer", name);
		store_exec_free(&x);
		store_job_free(&j);
	}
}

static void check_groups(int version, struct store *s, const cJSON *record)
{
	const cJSON *g;
	cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(record, "groups")){
		struct store_group group;
		CU_ASSERT_EQUAL_FATAL(store_group_get(s, g->string, &group), STORE_OK);
		store_group_free(&group);
		struct store_name *names;
		size_t n;
		CU_ASSERT_EQUAL_FATAL(store_member_list(s, g->string, 0, 1000, &names, &n), STORE_OK);
		const cJSON *things = cJSON_GetObjectItemCaseSensitive(g, "things");
		bool same = (int)n == cJSON_GetArraySize(things);
		for(size_t i = 0; same && i < n; i++){
			bool found = false;
			const cJSON *t;
			cJSON_ArrayForEach(t, things) found = found || strcmp(t->valuestring, names[i].name) == 0;
			same = found;
		}
		CHECK(version, same, "group members", g->string);
		free(names);
	}
}

/* The registered things of a store whose record has them. */
static void check_things(int version, struct store *s, const cJSON *record)
{
	const cJSON *t;
	cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(record, "things")){
		struct store_thing thing;
		CU_ASSERT_EQUAL_FATAL(store_thing_get(s, t->string, &thing), STORE_OK);
		CHECK(version, same_text(thing.thing_id, str(t, "thingId")), "thing id", t->string);
		CHECK(version, same_text(thing.type_name, str(t, "thingTypeName")), "thing type", t->string);
		CHECK(version, same_json(thing.attributes, cJSON_GetObjectItemCaseSensitive(t, "attributes")),
				"thing attributes", t->string);
		CHECK(version, thing.version == num(t, "version"), "thing version", t->string);
		store_thing_free(&thing);
	}
}

static void test_every_version_reads_back(void)
{
	int version = 1;
	for(; version <= JOBS_SQLITE_SCHEMA_VERSION; version++){
		char from[4200], path[4200];
		snprintf(from, sizeof(from), STORES "/v%d.json", version);
		char *text = read_all(from, NULL);
		CU_ASSERT_PTR_NOT_NULL_FATAL(text);
		cJSON *record = cJSON_Parse(text);
		free(text);
		CU_ASSERT_PTR_NOT_NULL_FATAL(record);
		CU_ASSERT_EQUAL(num(record, "schemaVersion"), version);
		snprintf(from, sizeof(from), STORES "/v%d.db", version);
		test_file_path(path, sizeof(path), "upgrade.db");
		remove_db_files(path);
		CU_ASSERT_FATAL(copy_file(from, path));
		struct store *s = NULL;
		char err[1024] = "";
		CU_ASSERT_EQUAL_FATAL(open_path(path, &s, err, sizeof(err)), STORE_OK);
		check_jobs(version, s, record);
		check_executions(version, s, record);
		check_groups(version, s, record);
		check_things(version, s, record);
		store_close(s);
		/* the upgrade was written: the copy is now of this plugin's version */
		sqlite3 *db;
		CU_ASSERT_EQUAL_FATAL(sqlite3_open(path, &db), SQLITE_OK);
		sqlite3_stmt *st;
		CU_ASSERT_EQUAL_FATAL(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
		CU_ASSERT_EQUAL(sqlite3_step(st), SQLITE_ROW);
		CU_ASSERT_EQUAL(sqlite3_column_int(st, 0), JOBS_SQLITE_SCHEMA_VERSION);
		sqlite3_finalize(st);
		sqlite3_close(db);
		remove_db_files(path);
		cJSON_Delete(record);
	}
}

static void test_newer_is_refused_untouched(void)
{
	char path[4200], side[4300];
	test_file_path(path, sizeof(path), "newer.db");
	remove_db_files(path);
	char from[4200];
	snprintf(from, sizeof(from), STORES "/v%d.db", JOBS_SQLITE_SCHEMA_VERSION);
	CU_ASSERT_FATAL(copy_file(from, path));
	/* in rollback-journal mode, as a tool that set the version may leave it */
	sqlite3 *db;
	CU_ASSERT_EQUAL_FATAL(sqlite3_open(path, &db), SQLITE_OK);
	char sql[128];
	snprintf(sql, sizeof(sql), "PRAGMA journal_mode = DELETE; PRAGMA user_version = %d", JOBS_SQLITE_SCHEMA_VERSION + 1);
	CU_ASSERT_EQUAL(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	size_t before_len, after_len;
	char *before = read_all(path, &before_len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(before);

	struct store *s = NULL;
	char err[1024] = "", want[4600];
	CU_ASSERT_EQUAL(open_path(path, &s, err, sizeof(err)), STORE_ERROR);
	CU_ASSERT_PTR_NULL(s);
	snprintf(want, sizeof(want), "database %s has schema version %d, newer than this plugin's %d: upgrade the plugin",
			path, JOBS_SQLITE_SCHEMA_VERSION + 1, JOBS_SQLITE_SCHEMA_VERSION);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
	if(!strstr(err, want)) fprintf(stderr, "\n  %s", err);

	char *after = read_all(path, &after_len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(after);
	CU_ASSERT(before_len == after_len && memcmp(before, after, before_len) == 0);
	snprintf(side, sizeof(side), "%s-wal", path);
	CU_ASSERT_NOT_EQUAL(access(side, F_OK), 0);
	snprintf(side, sizeof(side), "%s-shm", path);
	CU_ASSERT_NOT_EQUAL(access(side, F_OK), 0);
	free(before);
	free(after);
	remove_db_files(path);
}

void add_store_upgrade_tests(void)
{
	static const struct test_entry tests[] = {
		{ "every earlier schema version's store reads back through the port", test_every_version_reads_back },
		{ "a newer schema version is refused, the file untouched", test_newer_is_refused_untouched },
	};
	ADD_SUITE("store upgrade", tests);
}
