/* A pass of HTTP calls under group commit: no 2xx answer for a change that a later
 * storage failure in the same pass rolled back. A full disk is played by a database
 * capped at 1 MB. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "http/http_pass.h"
#include "core/service.h"
#include "suites.h"

#define NOW_MS 1700000000000LL

static struct service *svc;
static struct jobs_config cfg;   /* its access rules decide what each call may do */
static struct outbox ob;
static char dir[64], db[96];

static void open_capped_service(void)
{
	snprintf(dir, sizeof(dir), "/tmp/jobs-unit-XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/jobs.db", dir);
	const struct jobs_option opts[] = { { "db_path", db }, { "db_max_mb", "1" }, { "operators", "admin" } };
	char err[512];
	CU_ASSERT_EQUAL_FATAL(config_parse(opts, 3, &cfg, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(service_create(&cfg, 0, NULL, NULL, &svc, err, sizeof(err)), 0);
	service_set_group_commit(svc, true);
	memset(&ob, 0, sizeof(ob));
}

static void close_service(void)
{
	outbox_clear(&ob);
	service_destroy(svc);
	config_free(&cfg);
	remove_db_files(db);
	rmdir(dir);
}

/* One pass holding the given calls; answers in out (bodies freed by the caller). */
static bool pass(const struct http_request *calls, size_t n, struct http_response *out)
{
	const struct http_request *reqs[8];
	for(size_t i = 0; i < n; i++) reqs[i] = &calls[i];
	uint64_t held[8];
	outbox_truncate(&ob, 0);
	bool stored = http_pass_run(svc, &cfg.access, reqs, n, NOW_MS, &ob, out, held);
	for(size_t i = 0; i < n; i++) CU_ASSERT_EQUAL(held[i], 0);  /* SQLite commits at once */
	return stored;
}

static struct http_request create_job(const char *path, const char *body)
{
	struct http_request r = { .method = "PUT", .path = path, .plane = HTTP_PLANE_CONTROL,
		.identity = "admin", .body = body, .body_len = strlen(body) };
	return r;
}

static char *big_job_body(void)
{
	static char fill[30001];
	memset(fill, 'x', sizeof(fill) - 1);
	size_t size = sizeof(fill) + 100;
	char *body = malloc(size);
	snprintf(body, size, "{\"targets\":[\"t9\"],\"document\":\"{\\\"d\\\":\\\"%s\\\"}\"}", fill);
	return body;
}

static const char *status_of_execution(const char *thing, const char *job)
{
	static char status[32];
	char path[128];
	snprintf(path, sizeof(path), "/things/%s/jobs/%s", thing, job);
	struct http_request r = { .method = "GET", .path = path, .plane = HTTP_PLANE_DATA, .identity = thing };
	struct http_response out;
	pass(&r, 1, &out);
	cJSON *b = cJSON_Parse(out.body);
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(b, "execution"), "status");
	snprintf(status, sizeof(status), "%s", cJSON_IsString(s) ? s->valuestring : "?");
	cJSON_Delete(b);
	free(out.body);
	return status;
}

static void test_rolled_back_pass_answers_no_success(void)
{
	open_capped_service();
	struct http_response out[2];
	struct http_request first = create_job("/jobs/j1", "{\"targets\":[\"t1\"],\"document\":\"{}\"}");
	pass(&first, 1, out);
	CU_ASSERT_EQUAL_FATAL(out[0].status, 200);
	free(out[0].body);

	/* fill the database until a large job no longer fits */
	char *big = big_job_body();
	bool full = false;
	for(int i = 0; i < 100 && !full; i++){
		char path[32];
		snprintf(path, sizeof(path), "/jobs/big%d", i);
		struct http_request r = create_job(path, big);
		pass(&r, 1, out);
		full = out[0].status >= 500;
		free(out[0].body);
	}
	CU_ASSERT_TRUE_FATAL(full);

	/* one pass: an update that fits, then a job that does not; SQLite rolls the
	 * whole batch back, the update included */
	struct http_request calls[2] = {
		{ .method = "POST", .path = "/things/t1/jobs/j1", .plane = HTTP_PLANE_DATA, .identity = "t1",
			.body = "{\"status\":\"IN_PROGRESS\"}", .body_len = strlen("{\"status\":\"IN_PROGRESS\"}") },
		create_job("/jobs/big-last", big),
	};
	pass(calls, 2, out);
	CU_ASSERT_TRUE(out[1].status >= 500);
	CU_ASSERT_STRING_EQUAL(status_of_execution("t1", "j1"), "QUEUED");
	/* so the update's answer is an error too, not a 200 for a change that is gone */
	CU_ASSERT_EQUAL(out[0].status, 503);
	CU_ASSERT_STRING_EQUAL(out[0].error_type, "ServiceUnavailableException");
	free(out[0].body);
	free(out[1].body);

	/* the same update alone is stored and answered 200 */
	pass(calls, 1, out);
	CU_ASSERT_EQUAL(out[0].status, 200);
	free(out[0].body);
	CU_ASSERT_STRING_EQUAL(status_of_execution("t1", "j1"), "IN_PROGRESS");
	free(big);
	close_service();
}

/* A control-plane call whose path, query or body is not UTF-8 is refused (400) and
 * changes nothing, as over MQTT, where the management request must be UTF-8. */
static void test_control_call_must_be_utf8(void)
{
	open_capped_service();
	struct http_response out;
	static const char bad_body[] = "{\"targets\":[\"t1\"],\"document\":\"{\\\"op\xff\\\":1}\"}";
	struct http_request calls[] = {
		create_job("/jobs/j1", bad_body),
		create_job("/jobs/j%FF", "{\"targets\":[\"t1\"],\"document\":\"{}\"}"),
		{ .method = "GET", .path = "/jobs", .query = "thingGroupName=g%FE", .plane = HTTP_PLANE_CONTROL, .identity = "admin" },
	};
	for(size_t i = 0; i < sizeof(calls) / sizeof(*calls); i++){
		pass(&calls[i], 1, &out);
		CU_ASSERT_EQUAL(out.status, 400);
		CU_ASSERT_STRING_EQUAL(out.error_type, "InvalidRequestException");
		CU_ASSERT_EQUAL(ob.count, 0);
		free(out.body);
	}
	/* nothing was created: the same job, in UTF-8, is new */
	struct http_request good = create_job("/jobs/j1", "{\"targets\":[\"t1\"],\"document\":\"{}\"}");
	pass(&good, 1, &out);
	CU_ASSERT_EQUAL(out.status, 200);
	free(out.body);
	close_service();
}

void add_http_pass_tests(void)
{
	static const struct test_entry tests[] = {
		{ "rolled-back pass answers no success", test_rolled_back_pass_answers_no_success },
		{ "a control call must be UTF-8", test_control_call_must_be_utf8 },
	};
	ADD_SUITE("http pass", tests);
}
