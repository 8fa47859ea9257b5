/* The service driven directly: reply shapes, error codes, notifications and the
 * management commands, with no broker. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "core/service.h"
#include "core/sysstats.h"
#include "mqtt/mqtt_control.h"
#include "mqtt/mqtt_jobs.h"
#include "store/sqlite_store.h"
#include "suites.h"

#define NOW 1700000000

static struct service *svc;
static struct outbox ob;

static void setup_with(const struct jobs_option *extra, size_t n_extra, int max_pending, const char *db)
{
	struct jobs_config cfg;
	char err[512];
	char mp[8];
	snprintf(mp, sizeof(mp), "%d", max_pending);
	struct jobs_option opts[8] = { { "db_path", db }, { "max_pending", mp } };
	for(size_t i = 0; i < n_extra && i < 6; i++) opts[2 + i] = extra[i];
	CU_ASSERT_EQUAL_FATAL(config_parse(opts, 2 + n_extra, &cfg, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(service_create(&cfg, 0, NULL, NULL, &svc, err, sizeof(err)), 0);
	service_set_batch_failed(svc, mqtt_jobs_fail_batch, NULL);
	config_free(&cfg);
	memset(&ob, 0, sizeof(ob));
}

static void setup(int max_pending)
{
	setup_with(NULL, 0, max_pending, ":memory:");
}

static void teardown(void)
{
	outbox_clear(&ob);
	service_destroy(svc);
	svc = NULL;
}

/* Sends a device request at a time in ms; the outbox holds what it produced. */
static bool device_at(int64_t now_ms, const char *topic, const char *payload, int qos)
{
	outbox_truncate(&ob, 0);
	struct jobs_request req = { .client_id = "dev", .topic = topic, .payload = payload,
		.payload_len = payload ? strlen(payload) : 0, .qos = qos, .now = now_ms / 1000, .now_ms = now_ms };
	return mqtt_jobs_device(svc, &req, &ob);
}

static bool device(const char *topic, const char *payload, int qos)
{
	return device_at((int64_t)NOW * 1000, topic, payload, qos);
}

/* A management request, and the tick that ends the broker's loop pass (it queues a
 * group's things). */
static void control(const char *payload)
{
	outbox_truncate(&ob, 0);
	struct jobs_request req = { .client_id = "op", .topic = JOBS_CONTROL_TOPIC, .payload = payload,
		.payload_len = strlen(payload), .qos = 1, .now = NOW };
	mqtt_jobs_control(svc, &req, &ob);
	service_tick(svc, (int64_t)NOW * 1000, &ob);
}

/* Index of the outbox message on `topic`, or -1. */
static int find(const char *topic)
{
	for(size_t i = 0; i < ob.count; i++){
		if(strcmp(msg_topic(&ob.msgs[i]), topic) == 0) return (int)i;
	}
	return -1;
}

static int count_topic(const char *topic)
{
	int n = 0;
	for(size_t i = 0; i < ob.count; i++) n += strcmp(msg_topic(&ob.msgs[i]), topic) == 0;
	return n;
}

/* Parsed payload of the message on `topic` (caller deletes), or NULL. */
static cJSON *body(const char *topic)
{
	int i = find(topic);
	return i < 0 ? NULL : cJSON_ParseWithLength(ob.msgs[i].payload, ob.msgs[i].payload_len);
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : -999;
}

/* Checks a rejected reply on `topic` with `code`; returns the body (caller deletes). */
static cJSON *expect_rejected(const char *topic, const char *code)
{
	char reply[512];
	snprintf(reply, sizeof(reply), "%s/rejected", topic);
	cJSON *b = body(reply);
	CU_ASSERT_PTR_NOT_NULL(b);
	if(b){
		CU_ASSERT_STRING_EQUAL(str(b, "code"), code);
		CU_ASSERT_PTR_NOT_NULL(str(b, "message"));
		CU_ASSERT_EQUAL(num(b, "timestamp"), NOW);
	}else{
		fprintf(stderr, "\n  no rejection on %s (wanted %s)\n", topic, code);
	}
	return b;
}

static void create_job(const char *id, const char *targets)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
			"{\"commands\":[{\"command\":\"createJob\",\"jobId\":\"%s\",\"targets\":%s,"
			"\"document\":{\"op\":\"%s\"}}]}", id, targets, id);
	control(cmd);
	cJSON *r = body(JOBS_CONTROL_RESPONSE_TOPIC);
	cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "responses"), 0);
	CU_ASSERT_PTR_NOT_NULL(cJSON_GetObjectItem(first, "data"));
	cJSON_Delete(r);
}

#define P "$aws/things/t1/jobs"

static void test_get_pending_shapes(void)
{
	setup(10);
	CU_ASSERT_TRUE(device(P "/get", "", 1));
	cJSON *b = body(P "/get/accepted");
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(b, "inProgressJobs")), 0);
	CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(b, "queuedJobs")), 0);
	CU_ASSERT_EQUAL(num(b, "timestamp"), NOW);
	CU_ASSERT_PTR_NULL(cJSON_GetObjectItem(b, "clientToken"));
	CU_ASSERT_STRING_EQUAL(ob.msgs[0].client_id, "dev");
	CU_ASSERT_EQUAL(ob.msgs[0].qos, 1);
	cJSON_Delete(b);

	create_job("j1", "[\"t1\"]");
	CU_ASSERT_TRUE(device(P "/get", "{\"clientToken\":\"tok\"}", 2));
	CU_ASSERT_EQUAL(ob.msgs[0].qos, 1); /* min(request QoS, 1) */
	b = body(P "/get/accepted");
	CU_ASSERT_TRUE(str(b, "clientToken") && strcmp(str(b, "clientToken"), "tok") == 0);
	cJSON *s = cJSON_GetArrayItem(cJSON_GetObjectItem(b, "queuedJobs"), 0);
	CU_ASSERT_STRING_EQUAL(str(s, "jobId"), "j1");
	CU_ASSERT_EQUAL(num(s, "versionNumber"), 1);
	CU_ASSERT_EQUAL(num(s, "executionNumber"), 1);
	CU_ASSERT_EQUAL(num(s, "queuedAt"), NOW);
	CU_ASSERT_PTR_NULL(cJSON_GetObjectItem(s, "status"));
	CU_ASSERT_PTR_NULL(cJSON_GetObjectItem(s, "startedAt"));
	cJSON_Delete(b);

	CU_ASSERT_TRUE(device(P "/get", NULL, 0));
	CU_ASSERT_EQUAL(ob.msgs[0].qos, 0);
	teardown();
}

static void test_max_pending(void)
{
	setup(2);
	create_job("a", "[\"t1\"]");
	create_job("b", "[\"t1\"]");
	create_job("c", "[\"t1\"]");
	cJSON *n = body(P "/notify");
	CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(n, "jobs"), "QUEUED")), 2);
	cJSON_Delete(n);
	device(P "/get", "{}", 1);
	cJSON *b = body(P "/get/accepted");
	CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(b, "queuedJobs")), 2);
	cJSON_Delete(b);
	teardown();
}

static void test_start_next_and_update(void)
{
	setup(10);
	create_job("j1", "[\"t1\"]");
	device(P "/start-next", "{\"statusDetails\":{\"step\":\"1\"},\"stepTimeoutInMinutes\":5}", 1);
	cJSON *b = body(P "/start-next/accepted");
	cJSON *e = cJSON_GetObjectItem(b, "execution");
	CU_ASSERT_STRING_EQUAL(str(e, "status"), "IN_PROGRESS");
	CU_ASSERT_EQUAL(num(e, "versionNumber"), 2);
	CU_ASSERT_EQUAL(num(e, "startedAt"), NOW);
	CU_ASSERT_STRING_EQUAL(str(cJSON_GetObjectItem(e, "statusDetails"), "step"), "1");
	CU_ASSERT_STRING_EQUAL(str(cJSON_GetObjectItem(e, "jobDocument"), "op"), "j1");
	cJSON_Delete(b);
	CU_ASSERT_EQUAL(find(P "/notify"), -1); /* QUEUED -> IN_PROGRESS: no notify */

	/* start-next again: unchanged */
	device(P "/start-next", "{\"statusDetails\":{\"step\":\"2\"}}", 1);
	b = body(P "/start-next/accepted");
	e = cJSON_GetObjectItem(b, "execution");
	CU_ASSERT_EQUAL(num(e, "versionNumber"), 2);
	CU_ASSERT_STRING_EQUAL(str(cJSON_GetObjectItem(e, "statusDetails"), "step"), "1");
	cJSON_Delete(b);

	/* wrong expectedVersion as a digit string */
	device(P "/j1/update", "{\"status\":\"SUCCEEDED\",\"expectedVersion\":\"1\",\"clientToken\":\"c\"}", 1);
	b = expect_rejected(P "/j1/update", "VersionMismatch");
	CU_ASSERT_STRING_EQUAL(str(b, "clientToken"), "c");
	CU_ASSERT_STRING_EQUAL(str(cJSON_GetObjectItem(b, "executionState"), "status"), "IN_PROGRESS");
	CU_ASSERT_EQUAL(num(cJSON_GetObjectItem(b, "executionState"), "versionNumber"), 2);
	cJSON_Delete(b);

	device(P "/j1/update", "{\"status\":\"SUCCEEDED\",\"expectedVersion\":\"2\","
			"\"includeJobExecutionState\":true,\"includeJobDocument\":true}", 1);
	b = body(P "/j1/update/accepted");
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_STRING_EQUAL(str(cJSON_GetObjectItem(b, "executionState"), "status"), "SUCCEEDED");
	CU_ASSERT_EQUAL(num(cJSON_GetObjectItem(b, "executionState"), "versionNumber"), 3);
	CU_ASSERT_STRING_EQUAL(str(cJSON_GetObjectItem(b, "jobDocument"), "op"), "j1");
	cJSON_Delete(b);

	/* terminal: any further update is an invalid transition */
	device(P "/j1/update", "{\"status\":\"SUCCEEDED\"}", 1);
	b = expect_rejected(P "/j1/update", "InvalidStateTransition");
	CU_ASSERT_STRING_EQUAL(str(cJSON_GetObjectItem(b, "executionState"), "status"), "SUCCEEDED");
	cJSON_Delete(b);

	/* nothing pending: accepted without execution */
	device(P "/start-next", "", 1);
	b = body(P "/start-next/accepted");
	CU_ASSERT_PTR_NOT_NULL(b);
	CU_ASSERT_PTR_NULL(cJSON_GetObjectItem(b, "execution"));
	cJSON_Delete(b);
	teardown();
}

static void test_describe(void)
{
	setup(10);
	create_job("j1", "[\"t1\"]");
	device(P "/j1/get", "{\"includeJobDocument\":false}", 1);
	cJSON *b = body(P "/j1/get/accepted");
	CU_ASSERT_PTR_NULL(cJSON_GetObjectItem(cJSON_GetObjectItem(b, "execution"), "jobDocument"));
	CU_ASSERT_STRING_EQUAL(str(cJSON_GetObjectItem(b, "execution"), "status"), "QUEUED");
	cJSON_Delete(b);
	device(P "/$next/get", "", 1);
	b = body(P "/$next/get/accepted");
	CU_ASSERT_STRING_EQUAL(str(cJSON_GetObjectItem(cJSON_GetObjectItem(b, "execution"), "jobDocument"), "op"), "j1");
	cJSON_Delete(b);
	device(P "/j1/get", "{\"executionNumber\":2}", 1);
	cJSON_Delete(expect_rejected(P "/j1/get", "ResourceNotFound"));
	device(P "/nope/get", "", 1);
	cJSON_Delete(expect_rejected(P "/nope/get", "ResourceNotFound"));
	device("$aws/things/t2/jobs/j1/get", "", 1);
	cJSON_Delete(expect_rejected("$aws/things/t2/jobs/j1/get", "ResourceNotFound"));
	device("$aws/things/t2/jobs/$next/get", "", 1);
	b = body("$aws/things/t2/jobs/$next/get/accepted");
	CU_ASSERT_PTR_NOT_NULL(b);
	CU_ASSERT_PTR_NULL(cJSON_GetObjectItem(b, "execution"));
	cJSON_Delete(b);
	teardown();
}

struct bad_request {
	const char *topic;
	const char *payload;
	const char *code;
};

static void test_error_codes(void)
{
	static const struct bad_request cases[] = {
		{ P "/j1/update", "not json", "InvalidJson" },
		{ P "/j1/update", "[1,2]", "InvalidJson" },
		{ P "/j1/update", "\"s\"", "InvalidJson" },
		{ P "/j1/update", "{\"status\":\"IN_PROGRESS\"} trailing", "InvalidJson" },
		{ P "/j1/update", "{\"status\":\"IN_PROGRESS\"}{}", "InvalidJson" },
		{ P "/j1/update", "{\"status\":\"\xff\"}", "InvalidJson" },
		{ P "/j1/update", "{}", "InvalidRequest" },
		{ P "/j1/update", "{\"status\":\"DONE\"}", "InvalidRequest" },
		{ P "/j1/update", "{\"status\":\"QUEUED\"}", "InvalidRequest" },
		{ P "/j1/update", "{\"status\":\"TIMED_OUT\"}", "InvalidRequest" },
		{ P "/j1/update", "{\"status\":\"CANCELED\"}", "InvalidRequest" },
		{ P "/j1/update", "{\"status\":\"REMOVED\"}", "InvalidRequest" },
		{ P "/j1/update", "{\"status\":1}", "InvalidRequest" },
		{ P "/j1/update", "{\"status\":\"IN_PROGRESS\",\"expectedVersion\":1.5}", "InvalidRequest" },
		{ P "/j1/update", "{\"status\":\"IN_PROGRESS\",\"expectedVersion\":-1}", "InvalidRequest" },
		{ P "/j1/update", "{\"status\":\"IN_PROGRESS\",\"expectedVersion\":true}", "InvalidRequest" },
		{ P "/j1/update", "{\"status\":\"IN_PROGRESS\",\"executionNumber\":0}", "InvalidRequest" },
		{ P "/j1/update", "{\"status\":\"IN_PROGRESS\",\"stepTimeoutInMinutes\":0}", "InvalidRequest" },
		{ P "/j1/update", "{\"status\":\"IN_PROGRESS\",\"stepTimeoutInMinutes\":10081}", "InvalidRequest" },
		{ P "/j1/update", "{\"status\":\"IN_PROGRESS\",\"includeJobDocument\":\"yes\"}", "InvalidRequest" },
		{ P "/j1/update", "{\"status\":\"IN_PROGRESS\",\"includeJobExecutionState\":1}", "InvalidRequest" },
		{ P "/j1/update", "{\"status\":\"IN_PROGRESS\",\"statusDetails\":[]}", "InvalidRequest" },
		{ P "/j1/update", "{\"status\":\"IN_PROGRESS\",\"statusDetails\":{\"k\":2}}", "InvalidRequest" },
		{ P "/j1/update", "{\"status\":\"IN_PROGRESS\",\"clientToken\":5}", "InvalidRequest" },
		{ P "/j1/update", "{\"status\":\"IN_PROGRESS\",\"clientToken\":\"a\\u0000b\"}", "InvalidRequest" },
		{ P "/start-next", "{\"stepTimeoutInMinutes\":-1}", "InvalidRequest" },
		{ P "/start-next", "{\"statusDetails\":\"x\"}", "InvalidRequest" },
		{ P "/j1/get", "{\"executionNumber\":\"x\"}", "InvalidRequest" },
		{ P "/j1/get", "{\"includeJobDocument\":null,\"executionNumber\":1.1}", "InvalidRequest" },
		{ P "/nope/update", "{\"status\":\"IN_PROGRESS\"}", "ResourceNotFound" },
		{ P "/list", "{}", "InvalidTopic" },
		{ P "/j1/cancel", "{}", "InvalidTopic" },
		{ P "/$next/update", "{\"status\":\"IN_PROGRESS\"}", "InvalidTopic" },
		{ "$aws/things/bad.thing/jobs/get", "{}", "InvalidTopic" },
	};
	setup(10);
	create_job("j1", "[\"t1\"]");
	for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++){
		CU_ASSERT_TRUE(device(cases[i].topic, cases[i].payload, 1));
		CU_ASSERT_EQUAL(ob.count, 1); /* only the rejection */
		cJSON_Delete(expect_rejected(cases[i].topic, cases[i].code));
	}
	/* nothing changed */
	device(P "/j1/get", "", 1);
	cJSON *b = body(P "/j1/get/accepted");
	CU_ASSERT_EQUAL(num(cJSON_GetObjectItem(b, "execution"), "versionNumber"), 1);
	cJSON_Delete(b);
	/* reply topics and foreign topics produce nothing */
	CU_ASSERT_TRUE(device(P "/get/accepted", "{}", 1));
	CU_ASSERT_EQUAL(ob.count, 0);
	CU_ASSERT_TRUE(device(P "/notify", "{}", 1));
	CU_ASSERT_EQUAL(ob.count, 0);
	CU_ASSERT_FALSE(device("$aws/things/t1/shadow/update", "{}", 1));
	CU_ASSERT_EQUAL(ob.count, 0);
	teardown();
}

/* Create two jobs, start-next, succeed, start-next, fail. */
static void test_notification_sequence(void)
{
	setup(10);
	create_job("a", "[\"t1\"]");
	CU_ASSERT_EQUAL(count_topic(P "/notify"), 1);
	CU_ASSERT_EQUAL(count_topic(P "/notify-next"), 1);
	create_job("b", "[\"t1\"]");
	CU_ASSERT_EQUAL(count_topic(P "/notify"), 1);
	CU_ASSERT_EQUAL(count_topic(P "/notify-next"), 0);
	cJSON *n = body(P "/notify");
	CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(n, "jobs"), "QUEUED")), 2);
	CU_ASSERT_PTR_NULL(cJSON_GetObjectItem(cJSON_GetObjectItem(n, "jobs"), "IN_PROGRESS"));
	CU_ASSERT_EQUAL(ob.msgs[find(P "/notify")].client_id, NULL);
	cJSON_Delete(n);

	device(P "/start-next", "", 1);
	CU_ASSERT_EQUAL(count_topic(P "/notify") + count_topic(P "/notify-next"), 0);
	device(P "/a/update", "{\"status\":\"IN_PROGRESS\",\"statusDetails\":{\"p\":\"50\"}}", 1);
	CU_ASSERT_EQUAL(count_topic(P "/notify") + count_topic(P "/notify-next"), 0);
	device(P "/a/update", "{\"status\":\"SUCCEEDED\"}", 1);
	CU_ASSERT_EQUAL(count_topic(P "/notify"), 1);
	CU_ASSERT_EQUAL(count_topic(P "/notify-next"), 1);
	n = body(P "/notify-next");
	CU_ASSERT_STRING_EQUAL(str(cJSON_GetObjectItem(n, "execution"), "jobId"), "b");
	cJSON_Delete(n);

	device(P "/start-next", "", 1);
	CU_ASSERT_EQUAL(count_topic(P "/notify") + count_topic(P "/notify-next"), 0);
	device(P "/b/update", "{\"status\":\"FAILED\"}", 1);
	n = body(P "/notify");
	CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(n, "jobs")), 0);
	cJSON_Delete(n);
	n = body(P "/notify-next");
	CU_ASSERT_PTR_NOT_NULL(n);
	CU_ASSERT_PTR_NULL(cJSON_GetObjectItem(n, "execution"));
	CU_ASSERT_EQUAL(num(n, "timestamp"), NOW);
	cJSON_Delete(n);

	/* an update that makes a later job IN_PROGRESS changes $next */
	create_job("c", "[\"t1\"]");
	create_job("d", "[\"t1\"]");
	device(P "/d/update", "{\"status\":\"IN_PROGRESS\"}", 1);
	CU_ASSERT_EQUAL(count_topic(P "/notify"), 0);
	n = body(P "/notify-next");
	CU_ASSERT_STRING_EQUAL(str(cJSON_GetObjectItem(n, "execution"), "jobId"), "d");
	cJSON_Delete(n);
	teardown();
}

static cJSON *response(int index)
{
	cJSON *r = body(JOBS_CONTROL_RESPONSE_TOPIC);
	cJSON *item = cJSON_DetachItemFromArray(cJSON_GetObjectItem(r, "responses"), index);
	cJSON_Delete(r);
	return item;
}

static void expect_control_error(const char *payload, const char *exception)
{
	control(payload);
	cJSON *r = response(0);
	const char *e = str(r, "error");
	CU_ASSERT_PTR_NOT_NULL(e);
	if(e) CU_ASSERT_EQUAL(strncmp(e, exception, strlen(exception)), 0);
	if(!e || strncmp(e, exception, strlen(exception))) fprintf(stderr, "\n  %s -> %s\n", payload, e ? e : "(no error)");
	CU_ASSERT_EQUAL(count_topic(P "/notify"), 0);
	cJSON_Delete(r);
}

static void test_control(void)
{
	setup(10);
	control("{\"commands\":[{\"command\":\"createJob\",\"correlationData\":\"c1\",\"jobId\":\"j1\","
			"\"targets\":[\"arn:aws:iot:us-east-1:000000000000:thing/t1\",\"t2\",\"t1\"],"
			"\"document\":\"{\\\"x\\\":1}\",\"description\":\"first\"},"
			"{\"command\":\"describeJob\",\"jobId\":\"j1\"}]}");
	CU_ASSERT_STRING_EQUAL(ob.msgs[ob.count - 1].client_id, "op");
	CU_ASSERT_EQUAL(count_topic(P "/notify"), 1);
	CU_ASSERT_EQUAL(count_topic("$aws/things/t2/jobs/notify"), 1);
	cJSON *r = response(0);
	CU_ASSERT_STRING_EQUAL(str(r, "correlationData"), "c1");
	CU_ASSERT_STRING_EQUAL(str(cJSON_GetObjectItem(r, "data"), "jobArn"), "arn:aws:iot:us-east-1:000000000000:job/j1");
	CU_ASSERT_STRING_EQUAL(str(cJSON_GetObjectItem(r, "data"), "description"), "first");
	cJSON_Delete(r);
	r = response(1);
	cJSON *job = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "data"), "job");
	CU_ASSERT_STRING_EQUAL(str(job, "status"), "IN_PROGRESS");
	CU_ASSERT_EQUAL(num(cJSON_GetObjectItem(job, "jobProcessDetails"), "numberOfQueuedThings"), 2);
	cJSON_Delete(r);

	expect_control_error("{\"commands\":[{\"command\":\"createJob\",\"jobId\":\"j1\",\"targets\":[\"t1\"],\"document\":{}}]}",
			"ResourceAlreadyExistsException");
	expect_control_error("{\"commands\":[{\"command\":\"createJob\",\"jobId\":\"j2\",\"targets\":[\"bad/name\"],\"document\":{}}]}",
			"InvalidRequestException");
	expect_control_error("{\"commands\":[{\"command\":\"createJob\",\"jobId\":\"j2\",\"targets\":[],\"document\":{}}]}",
			"InvalidRequestException");
	expect_control_error("{\"commands\":[{\"command\":\"createJob\",\"jobId\":\"j2\",\"targets\":[\"t1\"]}]}",
			"InvalidRequestException");
	expect_control_error("{\"commands\":[{\"command\":\"createJob\",\"jobId\":\"j2\",\"targets\":[\"t1\"],\"document\":\"[]\"}]}",
			"InvalidRequestException");
	expect_control_error("{\"commands\":[{\"command\":\"createJob\",\"jobId\":\"j 2\",\"targets\":[\"t1\"],\"document\":{}}]}",
			"InvalidRequestException");
	expect_control_error("{\"commands\":[{\"command\":\"describeJob\",\"jobId\":\"nope\"}]}",
			"ResourceNotFoundException");
	expect_control_error("{\"commands\":[{\"command\":\"frobnicate\"}]}", "InvalidRequestException");
	expect_control_error("{\"commands\":[42]}", "InvalidRequestException");
	expect_control_error("{\"nothing\":1}", "InvalidRequestException");
	expect_control_error("garbage", "InvalidRequestException");

	/* t1 starts, then cancel without force: t2's QUEUED is canceled, t1 keeps going */
	device(P "/start-next", "", 1);
	control("{\"commands\":[{\"command\":\"cancelJob\",\"jobId\":\"j1\",\"comment\":\"stop\"}]}");
	CU_ASSERT_EQUAL(count_topic("$aws/things/t2/jobs/notify"), 1);
	CU_ASSERT_EQUAL(count_topic(P "/notify"), 0);
	control("{\"commands\":[{\"command\":\"describeJobExecution\",\"jobId\":\"j1\",\"thingName\":\"t2\"}]}");
	r = response(0);
	cJSON *e = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "data"), "execution");
	CU_ASSERT_STRING_EQUAL(str(e, "status"), "CANCELED");
	CU_ASSERT_EQUAL(num(e, "versionNumber"), 2);
	CU_ASSERT_TRUE(cJSON_IsFalse(cJSON_GetObjectItem(e, "forceCanceled")));
	CU_ASSERT_STRING_EQUAL(str(e, "thingArn"), "arn:aws:iot:us-east-1:000000000000:thing/t2");
	cJSON_Delete(r);
	device(P "/j1/get", "", 1);
	r = body(P "/j1/get/accepted");
	CU_ASSERT_STRING_EQUAL(str(cJSON_GetObjectItem(r, "execution"), "status"), "IN_PROGRESS");
	cJSON_Delete(r);

	/* with force, the IN_PROGRESS one goes too */
	control("{\"commands\":[{\"command\":\"cancelJob\",\"jobId\":\"j1\",\"force\":true}]}");
	CU_ASSERT_EQUAL(count_topic(P "/notify"), 1);
	CU_ASSERT_EQUAL(count_topic(P "/notify-next"), 1);
	device(P "/j1/update", "{\"status\":\"SUCCEEDED\"}", 1);
	r = expect_rejected(P "/j1/update", "InvalidStateTransition");
	CU_ASSERT_STRING_EQUAL(str(cJSON_GetObjectItem(r, "executionState"), "status"), "CANCELED");
	cJSON_Delete(r);
	control("{\"commands\":[{\"command\":\"describeJob\",\"jobId\":\"j1\"}]}");
	r = response(0);
	job = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "data"), "job");
	CU_ASSERT_STRING_EQUAL(str(job, "status"), "CANCELED");
	CU_ASSERT_TRUE(cJSON_IsTrue(cJSON_GetObjectItem(job, "forceCanceled")));
	CU_ASSERT_STRING_EQUAL(str(job, "comment"), "stop");
	CU_ASSERT_EQUAL(num(cJSON_GetObjectItem(job, "jobProcessDetails"), "numberOfCanceledThings"), 2);
	cJSON_Delete(r);
	teardown();
}

static void test_job_completes(void)
{
	setup(10);
	create_job("j1", "[\"t1\",\"t2\"]");
	device(P "/j1/update", "{\"status\":\"SUCCEEDED\"}", 1);
	control("{\"commands\":[{\"command\":\"describeJob\",\"jobId\":\"j1\"}]}");
	cJSON *r = response(0);
	CU_ASSERT_STRING_EQUAL(str(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "data"), "job"), "status"), "IN_PROGRESS");
	cJSON_Delete(r);
	device("$aws/things/t2/jobs/j1/update", "{\"status\":\"REJECTED\"}", 1);
	control("{\"commands\":[{\"command\":\"describeJob\",\"jobId\":\"j1\"}]}");
	r = response(0);
	cJSON *job = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "data"), "job");
	CU_ASSERT_STRING_EQUAL(str(job, "status"), "COMPLETED");
	CU_ASSERT_EQUAL(num(job, "completedAt"), NOW);
	CU_ASSERT_EQUAL(num(cJSON_GetObjectItem(job, "jobProcessDetails"), "numberOfRejectedThings"), 1);
	cJSON_Delete(r);
	expect_control_error("{\"commands\":[{\"command\":\"cancelJob\",\"jobId\":\"j1\"}]}",
			"InvalidStateTransitionException");
	teardown();
}

static void test_namespaces(void)
{
	setup(10);
	control("{\"commands\":[{\"command\":\"createJob\",\"jobId\":\"gg\",\"targets\":[\"t1\"],"
			"\"document\":{},\"namespaceId\":\"aws-gg-deployment\"}]}");
	CU_ASSERT_EQUAL(count_topic(P "/notify-namespace-aws-gg-deployment"), 1);
	CU_ASSERT_EQUAL(count_topic(P "/notify-next-namespace-aws-gg-deployment"), 1);
	CU_ASSERT_EQUAL(count_topic(P "/notify"), 0);
	device(P "/get", "", 1);
	cJSON *b = body(P "/get/accepted");
	CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(b, "queuedJobs")), 0);
	cJSON_Delete(b);
	device(P "/gg/get", "", 1);
	cJSON_Delete(expect_rejected(P "/gg/get", "ResourceNotFound"));
	device(P "/$next/namespace-aws-gg-deployment/get", "", 1);
	b = body(P "/$next/namespace-aws-gg-deployment/get/accepted");
	CU_ASSERT_STRING_EQUAL(str(cJSON_GetObjectItem(b, "execution"), "jobId"), "gg");
	cJSON_Delete(b);
	device(P "/gg/namespace-aws-gg-deployment/update", "{\"status\":\"SUCCEEDED\"}", 1);
	CU_ASSERT_NOT_EQUAL(find(P "/gg/namespace-aws-gg-deployment/update/accepted"), -1);
	CU_ASSERT_EQUAL(count_topic(P "/notify-namespace-aws-gg-deployment"), 1);
	teardown();
}


/* The data of response `index`, or NULL when it is an error (caller deletes the response). */
static cJSON *ok_data(cJSON *r)
{
	if(!cJSON_GetObjectItem(r, "data")) fprintf(stderr, "\n  error: %s\n", str(r, "error") ? str(r, "error") : "?");
	return cJSON_GetObjectItem(r, "data");
}

static void test_continuous_group_jobs(void)
{
	setup(10);
	control("{\"commands\":[{\"command\":\"createThingGroup\",\"thingGroupName\":\"g\"},"
			"{\"command\":\"addThingToThingGroup\",\"thingGroupName\":\"g\",\"thingName\":\"t1\"},"
			"{\"command\":\"createJob\",\"jobId\":\"c\",\"targetSelection\":\"CONTINUOUS\",\"document\":{},"
			"\"targets\":[\"arn:aws:iot:us-east-1:000000000000:thinggroup/g\"]},"
			"{\"command\":\"createJob\",\"jobId\":\"s\",\"document\":{},"
			"\"targets\":[\"arn:aws:iot:us-east-1:000000000000:thinggroup/g\"]}]}");
	for(int i = 0; i < 4; i++){
		cJSON *r = response(i);
		CU_ASSERT_PTR_NOT_NULL(ok_data(r));
		cJSON_Delete(r);
	}
	CU_ASSERT_EQUAL(count_topic(P "/notify"), 2);

	/* t2 joins: the continuous job reaches it, the snapshot job does not */
	control("{\"commands\":[{\"command\":\"addThingToThingGroup\",\"thingGroupName\":\"g\",\"thingName\":\"t2\"}]}");
	CU_ASSERT_EQUAL(count_topic("$aws/things/t2/jobs/notify"), 1);
	cJSON *n = body("$aws/things/t2/jobs/notify-next");
	CU_ASSERT_STRING_EQUAL(str(cJSON_GetObjectItem(n, "execution"), "jobId"), "c");
	cJSON_Delete(n);
	/* adding it again changes nothing */
	control("{\"commands\":[{\"command\":\"addThingToThingGroup\",\"thingGroupName\":\"g\",\"thingName\":\"t2\"}]}");
	CU_ASSERT_EQUAL(count_topic("$aws/things/t2/jobs/notify"), 0);

	/* t2 leaves: its pending execution is REMOVED, and a device update is refused */
	control("{\"commands\":[{\"command\":\"removeThingFromThingGroup\",\"thingGroupName\":\"g\",\"thingName\":\"t2\"}]}");
	CU_ASSERT_EQUAL(count_topic("$aws/things/t2/jobs/notify"), 1);
	device("$aws/things/t2/jobs/c/update", "{\"status\":\"IN_PROGRESS\"}", 1);
	cJSON *b = expect_rejected("$aws/things/t2/jobs/c/update", "InvalidStateTransition");
	CU_ASSERT_STRING_EQUAL(str(cJSON_GetObjectItem(b, "executionState"), "status"), "REMOVED");
	CU_ASSERT_EQUAL(num(cJSON_GetObjectItem(b, "executionState"), "versionNumber"), 2);
	cJSON_Delete(b);

	/* it comes back: a new execution, number 2 */
	control("{\"commands\":[{\"command\":\"addThingToThingGroup\",\"thingGroupName\":\"g\",\"thingName\":\"t2\"}]}");
	device("$aws/things/t2/jobs/c/get", "", 1);
	b = body("$aws/things/t2/jobs/c/get/accepted");
	CU_ASSERT_EQUAL(num(cJSON_GetObjectItem(b, "execution"), "executionNumber"), 2);
	CU_ASSERT_STRING_EQUAL(str(cJSON_GetObjectItem(b, "execution"), "status"), "QUEUED");
	cJSON_Delete(b);

	/* t2 finishes it, leaves and comes back: it does not run it again */
	device("$aws/things/t2/jobs/c/update", "{\"status\":\"SUCCEEDED\"}", 1);
	control("{\"commands\":[{\"command\":\"removeThingFromThingGroup\",\"thingGroupName\":\"g\",\"thingName\":\"t2\"},"
			"{\"command\":\"addThingToThingGroup\",\"thingGroupName\":\"g\",\"thingName\":\"t2\"}]}");
	CU_ASSERT_EQUAL(count_topic("$aws/things/t2/jobs/notify"), 0);

	/* the snapshot job completes once t1 is done; the continuous one never does */
	device(P "/s/update", "{\"status\":\"SUCCEEDED\"}", 1);
	device(P "/c/update", "{\"status\":\"SUCCEEDED\"}", 1);
	control("{\"commands\":[{\"command\":\"describeJob\",\"jobId\":\"s\"},{\"command\":\"describeJob\",\"jobId\":\"c\"}]}");
	cJSON *r = response(0);
	CU_ASSERT_STRING_EQUAL(str(cJSON_GetObjectItem(ok_data(r), "job"), "status"), "COMPLETED");
	cJSON_Delete(r);
	r = response(1);
	CU_ASSERT_STRING_EQUAL(str(cJSON_GetObjectItem(ok_data(r), "job"), "status"), "IN_PROGRESS");
	cJSON_Delete(r);

	/* deleting the group removes t1's new pending execution of a second continuous job */
	control("{\"commands\":[{\"command\":\"createJob\",\"jobId\":\"c2\",\"targetSelection\":\"CONTINUOUS\",\"document\":{},"
			"\"targets\":[\"arn:aws:iot:us-east-1:000000000000:thinggroup/g\"]}]}");
	control("{\"commands\":[{\"command\":\"deleteThingGroup\",\"thingGroupName\":\"g\"},"
			"{\"command\":\"describeJobExecution\",\"jobId\":\"c2\",\"thingName\":\"t1\"}]}");
	r = response(1);
	CU_ASSERT_STRING_EQUAL(str(cJSON_GetObjectItem(ok_data(r), "execution"), "status"), "REMOVED");
	cJSON_Delete(r);
	expect_control_error("{\"commands\":[{\"command\":\"listThingsInThingGroup\",\"thingGroupName\":\"g\"}]}",
			"ResourceNotFoundException");
	expect_control_error("{\"commands\":[{\"command\":\"createJob\",\"jobId\":\"x\",\"document\":{},"
			"\"targets\":[\"arn:aws:iot:us-east-1:000000000000:thinggroup/nope\"]}]}", "ResourceNotFoundException");
	teardown();
}

static void test_paging(void)
{
	setup(10);
	char cmd[256];
	for(int i = 0; i < 7; i++){
		snprintf(cmd, sizeof(cmd), "{\"commands\":[{\"command\":\"createJob\",\"jobId\":\"p%d\",\"targets\":[\"t%d\"],\"document\":{}}]}", i, i % 2);
		control(cmd);
	}
	/* walk listJobs 3 at a time */
	char token[32] = "";
	int seen = 0, pages = 0;
	do{
		if(token[0]) snprintf(cmd, sizeof(cmd), "{\"commands\":[{\"command\":\"listJobs\",\"maxResults\":3,\"nextToken\":\"%s\"}]}", token);
		else snprintf(cmd, sizeof(cmd), "{\"commands\":[{\"command\":\"listJobs\",\"maxResults\":3}]}");
		control(cmd);
		cJSON *r = response(0);
		cJSON *d = ok_data(r);
		cJSON *jobs = cJSON_GetObjectItem(d, "jobs");
		char expect[8];
		snprintf(expect, sizeof(expect), "p%d", seen);
		CU_ASSERT_STRING_EQUAL(str(cJSON_GetArrayItem(jobs, 0), "jobId"), expect);
		seen += cJSON_GetArraySize(jobs);
		const char *next = str(d, "nextToken");
		snprintf(token, sizeof(token), "%s", next ? next : "");
		cJSON_Delete(r);
		pages++;
	}while(token[0] && pages < 10);
	CU_ASSERT_EQUAL(seen, 7);
	CU_ASSERT_EQUAL(pages, 3);

	control("{\"commands\":[{\"command\":\"listJobExecutionsForThing\",\"thingName\":\"t0\"}]}");
	cJSON *r = response(0);
	CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(ok_data(r), "executionSummaries")), 4);
	CU_ASSERT_PTR_NULL(cJSON_GetObjectItem(ok_data(r), "nextToken"));
	cJSON_Delete(r);
	expect_control_error("{\"commands\":[{\"command\":\"listJobs\",\"nextToken\":\"abc\"}]}", "InvalidRequestException");
	expect_control_error("{\"commands\":[{\"command\":\"listJobs\",\"maxResults\":0}]}", "InvalidRequestException");
	expect_control_error("{\"commands\":[{\"command\":\"listJobs\",\"maxResults\":251}]}", "InvalidRequestException");
	expect_control_error("{\"commands\":[{\"command\":\"listJobs\",\"status\":\"DONE\"}]}", "InvalidRequestException");
	teardown();
}

static void test_execution_commands(void)
{
	setup(10);
	create_job("j1", "[\"t1\",\"t2\"]");
	device(P "/start-next", "", 1);
	/* IN_PROGRESS needs force; versions are checked */
	expect_control_error("{\"commands\":[{\"command\":\"cancelJobExecution\",\"jobId\":\"j1\",\"thingName\":\"t1\"}]}",
			"InvalidStateTransitionException");
	expect_control_error("{\"commands\":[{\"command\":\"cancelJobExecution\",\"jobId\":\"j1\",\"thingName\":\"t1\",\"force\":true,\"expectedVersion\":1}]}",
			"VersionConflictException");
	control("{\"commands\":[{\"command\":\"cancelJobExecution\",\"jobId\":\"j1\",\"thingName\":\"t1\",\"force\":true,"
			"\"expectedVersion\":2,\"statusDetails\":{\"why\":\"op\"}}]}");
	CU_ASSERT_EQUAL(count_topic(P "/notify"), 1);
	CU_ASSERT_EQUAL(count_topic(P "/notify-next"), 1);
	device(P "/j1/get", "", 1);
	cJSON *b = body(P "/j1/get/accepted");
	cJSON *e = cJSON_GetObjectItem(b, "execution");
	CU_ASSERT_STRING_EQUAL(str(e, "status"), "CANCELED");
	CU_ASSERT_EQUAL(num(e, "versionNumber"), 3);
	CU_ASSERT_STRING_EQUAL(str(cJSON_GetObjectItem(e, "statusDetails"), "why"), "op");
	cJSON_Delete(b);
	expect_control_error("{\"commands\":[{\"command\":\"cancelJobExecution\",\"jobId\":\"j1\",\"thingName\":\"t1\",\"force\":true}]}",
			"InvalidStateTransitionException");

	/* deleting: a pending one needs force and notifies; the execution is gone */
	expect_control_error("{\"commands\":[{\"command\":\"deleteJobExecution\",\"jobId\":\"j1\",\"thingName\":\"t2\",\"executionNumber\":1}]}",
			"InvalidStateTransitionException");
	expect_control_error("{\"commands\":[{\"command\":\"deleteJobExecution\",\"jobId\":\"j1\",\"thingName\":\"t2\"}]}",
			"InvalidRequestException");
	control("{\"commands\":[{\"command\":\"deleteJobExecution\",\"jobId\":\"j1\",\"thingName\":\"t2\",\"executionNumber\":1,\"force\":true},"
			"{\"command\":\"deleteJobExecution\",\"jobId\":\"j1\",\"thingName\":\"t1\",\"executionNumber\":1}]}");
	CU_ASSERT_EQUAL(count_topic("$aws/things/t2/jobs/notify"), 1);
	CU_ASSERT_EQUAL(count_topic(P "/notify"), 0); /* t1's was terminal already */
	device("$aws/things/t2/jobs/j1/get", "", 1);
	cJSON_Delete(expect_rejected("$aws/things/t2/jobs/j1/get", "ResourceNotFound"));

	/* deleteJob: the job id can be used again */
	control("{\"commands\":[{\"command\":\"getJobDocument\",\"jobId\":\"j1\"},{\"command\":\"deleteJob\",\"jobId\":\"j1\"}]}");
	cJSON *r = response(0);
	CU_ASSERT_STRING_EQUAL(str(ok_data(r), "document"), "{\"op\":\"j1\"}");
	cJSON_Delete(r);
	r = response(1);
	CU_ASSERT_PTR_NOT_NULL(ok_data(r)); /* all executions gone: COMPLETED */
	cJSON_Delete(r);
	create_job("j1", "[\"t1\"]");
	teardown();
}

static void test_rate_limit(void)
{
	static const struct jobs_option opts[] = { { "rate_limit", "5" } };
	setup_with(opts, 1, 10, ":memory:");
	int64_t t = (int64_t)NOW * 1000;
	for(int i = 0; i < 5; i++){
		device_at(t, P "/get", "{}", 1);
		CU_ASSERT_NOT_EQUAL(find(P "/get/accepted"), -1);
	}
	device_at(t, P "/get", "{\"clientToken\":\"x\"}", 1);
	cJSON *b = expect_rejected(P "/get", "RequestThrottled");
	CU_ASSERT_STRING_EQUAL(str(b, "clientToken"), "x");
	cJSON_Delete(b);
	/* another thing has its own bucket */
	device_at(t, "$aws/things/t2/jobs/get", "{}", 1);
	CU_ASSERT_NOT_EQUAL(find("$aws/things/t2/jobs/get/accepted"), -1);
	/* 200 ms later, one token is back */
	device_at(t + 200, P "/get", "{}", 1);
	CU_ASSERT_NOT_EQUAL(find(P "/get/accepted"), -1);
	device_at(t + 200, P "/get", "{}", 1);
	cJSON_Delete(expect_rejected(P "/get", "RequestThrottled"));
	teardown();
}

/* A full disk, played by a database capped at 1 MB: writes fail with InternalError and
 * change nothing; reads go on. */
static void test_full_database(void)
{
	char path[4200];
	test_file_path(path, sizeof(path), "full.db");
	remove_db_files(path);
	static const struct jobs_option opts[] = { { "db_max_mb", "1" } };
	setup_with(opts, 1, 10, path);
	create_job("j1", "[\"t1\"]");
	/* fill it with large documents until createJob fails */
	static char cmd[40000];
	char fill[30001];
	memset(fill, 'x', 30000);
	fill[30000] = '\0';
	int created = 0;
	bool failed = false;
	for(int i = 0; i < 100 && !failed; i++){
		snprintf(cmd, sizeof(cmd), "{\"commands\":[{\"command\":\"createJob\",\"jobId\":\"big%d\","
				"\"targets\":[\"t9\"],\"document\":{\"d\":\"%s\"}}]}", i, fill);
		control(cmd);
		cJSON *r = response(0);
		const char *e = str(r, "error");
		if(e){
			CU_ASSERT_EQUAL(strncmp(e, "InternalFailureException", 24), 0);
			failed = true;
		}else{
			created++;
		}
		cJSON_Delete(r);
	}
	CU_ASSERT_TRUE(failed);
	CU_ASSERT_TRUE(created > 10);
	/* updates that need a page (statusDetails growing by 1000 characters a time, up
	 * to 30 entries) fail cleanly; the execution is unchanged */
	static char details[40000];
	int internal = 0;
	for(int i = 0; i < 40; i++){
		size_t len = (size_t)snprintf(details, sizeof(details), "{\"status\":\"IN_PROGRESS\",\"statusDetails\":{");
		for(int k = 0; k <= i % 30; k++){
			len += (size_t)snprintf(details + len, sizeof(details) - len, "%s\"k%d\":\"%.1000s\"", k ? "," : "", k, fill);
		}
		snprintf(details + len, sizeof(details) - len, "}}");
		device(P "/j1/update", details, 1);
		if(find(P "/j1/update/rejected") >= 0){
			cJSON *b = body(P "/j1/update/rejected");
			CU_ASSERT_STRING_EQUAL(str(b, "code"), "InternalError");
			CU_ASSERT_EQUAL(ob.count, 1); /* no notification for a change that did not happen */
			cJSON_Delete(b);
			internal++;
		}
	}
	CU_ASSERT_TRUE(internal > 0);
	device(P "/get", "{}", 1);
	CU_ASSERT_NOT_EQUAL(find(P "/get/accepted"), -1);
	teardown();
	remove_db_files(path);
}

/* Rows of a table as another connection sees them: only what was committed. */
static int committed_rows(const char *path, const char *table)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	char sql[64];
	int n = -1;
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	if(sqlite3_open(path, &db) == SQLITE_OK && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK){
		if(sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return n;
}

static void test_group_commit(void)
{
	char path[4200];
	test_file_path(path, sizeof(path), "batch.db");
	remove_db_files(path);
	setup_with(NULL, 0, 10, path);
	service_set_group_commit(svc, true);
	/* requests of one pass: their changes are invisible until the flush */
	create_job("j1", "[\"t1\",\"t2\"]");
	device(P "/j1/update", "{\"status\":\"IN_PROGRESS\"}", 1);
	CU_ASSERT_NOT_EQUAL(find(P "/j1/update/accepted"), -1);
	/* a request that fails rolls back alone, inside the batch */
	device(P "/j1/update", "{\"status\":\"QUEUED\"}", 1);
	CU_ASSERT_EQUAL(committed_rows(path, "jobs"), 0);
	CU_ASSERT_EQUAL(committed_rows(path, "executions"), 0);
	service_flush(svc, (int64_t)NOW * 1000, &ob);
	CU_ASSERT_EQUAL(committed_rows(path, "jobs"), 1);
	CU_ASSERT_EQUAL(committed_rows(path, "executions"), 2);
	/* the next pass opens a new batch */
	device("$aws/things/t2/jobs/j1/update", "{\"status\":\"SUCCEEDED\"}", 1);
	device(P "/j1/get", "", 1);
	cJSON *b = body(P "/j1/get/accepted");
	CU_ASSERT_STRING_EQUAL(str(cJSON_GetObjectItem(b, "execution"), "status"), "IN_PROGRESS");
	cJSON_Delete(b);
	service_flush(svc, (int64_t)NOW * 1000, &ob);
	service_flush(svc, (int64_t)NOW * 1000, &ob); /* nothing open: a no-op */
	teardown();
	setup_with(NULL, 0, 10, path);
	device("$aws/things/t2/jobs/j1/get", "", 1);
	b = body("$aws/things/t2/jobs/j1/get/accepted");
	CU_ASSERT_STRING_EQUAL(str(cJSON_GetObjectItem(b, "execution"), "status"), "SUCCEEDED");
	cJSON_Delete(b);
	teardown();
	remove_db_files(path);
}

/* One request of a pass under group commit, the outbox kept as it is. */
static void pass_request(const char *topic, const char *payload)
{
	struct jobs_request req = { .client_id = strcmp(topic, JOBS_CONTROL_TOPIC) == 0 ? "op" : "dev", .topic = topic,
		.payload = payload, .payload_len = strlen(payload), .qos = 1, .now = NOW, .now_ms = (int64_t)NOW * 1000 };
	if(strcmp(topic, JOBS_CONTROL_TOPIC) == 0) mqtt_jobs_control(svc, &req, &ob);
	else mqtt_jobs_device(svc, &req, &ob);
}

/* A storage failure that rolls a pass's batch back (a full disk) takes the pass's
 * earlier requests with it: their accepted replies become InternalError rejections
 * (with their clientToken), management responses one error, and their
 * notifications go. */
static void test_rolled_back_pass_fails_its_replies(void)
{
	char path[4200];
	test_file_path(path, sizeof(path), "rolled.db");
	remove_db_files(path);
	static const struct jobs_option opts[] = { { "db_max_mb", "1" } };
	setup_with(opts, 1, 10, path);
	create_job("j0", "[\"t1\"]");
	create_job("j1", "[\"t1\"]");
	service_set_group_commit(svc, true);
	static char cmd[40000];
	char fill[30001];
	memset(fill, 'x', 30000);
	fill[30000] = '\0';
	bool full = false;
	for(int i = 0; i < 100 && !full; i++){
		snprintf(cmd, sizeof(cmd), "{\"commands\":[{\"command\":\"createJob\",\"jobId\":\"big%d\","
				"\"targets\":[\"t9\"],\"document\":{\"d\":\"%s\"}}]}", i, fill);
		outbox_truncate(&ob, 0);
		pass_request(JOBS_CONTROL_TOPIC, cmd);
		full = !service_flush(svc, (int64_t)NOW * 1000, &ob) || strstr(ob.msgs[0].payload, "\"error\"") != NULL;
	}
	CU_ASSERT_TRUE_FATAL(full);
	cJSON *b;

	/* one pass: an update and a command that fit, then a job that does not */
	outbox_truncate(&ob, 0);
	pass_request(P "/j1/update", "{\"status\":\"IN_PROGRESS\",\"clientToken\":\"tok\"}");
	CU_ASSERT_NOT_EQUAL(find(P "/j1/update/accepted"), -1);
	pass_request(JOBS_CONTROL_TOPIC, "{\"commands\":[{\"command\":\"cancelJob\",\"jobId\":\"j0\"}]}");
	CU_ASSERT_NOT_EQUAL(find(P "/notify"), -1);
	b = body(JOBS_CONTROL_RESPONSE_TOPIC);
	CU_ASSERT_PTR_NOT_NULL(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(b, "responses"), 0), "data"));
	cJSON_Delete(b);
	snprintf(cmd, sizeof(cmd), "{\"commands\":[{\"command\":\"createJob\",\"jobId\":\"last\","
			"\"targets\":[\"t9\"],\"document\":{\"d\":\"%s\"}}]}", fill);
	pass_request(JOBS_CONTROL_TOPIC, cmd);
	service_flush(svc, (int64_t)NOW * 1000, &ob);

	CU_ASSERT_EQUAL(find(P "/j1/update/accepted"), -1);
	b = body(P "/j1/update/rejected");
	CU_ASSERT_STRING_EQUAL(str(b, "code"), "InternalError");
	CU_ASSERT_TRUE(str(b, "clientToken") && strcmp(str(b, "clientToken"), "tok") == 0);
	cJSON_Delete(b);
	CU_ASSERT_EQUAL(find(P "/notify-next"), -1);
	CU_ASSERT_EQUAL(find(P "/notify"), -1);
	CU_ASSERT_EQUAL(count_topic(JOBS_CONTROL_RESPONSE_TOPIC), 2);
	/* each command's answer keeps its name (clients match by it) and says it failed */
	const char *names[] = { "cancelJob", "createJob" };
	int seen = 0;
	for(size_t i = 0; i < ob.count; i++){
		if(strcmp(msg_topic(&ob.msgs[i]), JOBS_CONTROL_RESPONSE_TOPIC) != 0) continue;
		cJSON *r = cJSON_ParseWithLength(ob.msgs[i].payload, ob.msgs[i].payload_len);
		cJSON *list = cJSON_GetObjectItem(r, "responses");
		CU_ASSERT_EQUAL(cJSON_GetArraySize(list), 1);
		cJSON *entry = cJSON_GetArrayItem(list, 0);
		CU_ASSERT_TRUE(seen < 2 && str(entry, "command") && strcmp(str(entry, "command"), names[seen]) == 0);
		CU_ASSERT_PTR_NULL(cJSON_GetObjectItem(entry, "data"));
		CU_ASSERT_TRUE(str(entry, "error") && strncmp(str(entry, "error"), "InternalFailureException", 24) == 0);
		cJSON_Delete(r);
		seen++;
	}
	CU_ASSERT_EQUAL(seen, 2);
	/* and it is gone: the execution is still QUEUED, the job not canceled */
	service_set_group_commit(svc, false);
	device(P "/j1/get", "", 1);
	b = body(P "/j1/get/accepted");
	CU_ASSERT_STRING_EQUAL(str(cJSON_GetObjectItem(b, "execution"), "status"), "QUEUED");
	cJSON_Delete(b);
	device(P "/j0/get", "", 1);
	b = body(P "/j0/get/accepted");
	CU_ASSERT_STRING_EQUAL(str(cJSON_GetObjectItem(b, "execution"), "status"), "QUEUED");
	cJSON_Delete(b);
	teardown();
	remove_db_files(path);
}

/* The typed entry points the HTTP API uses: data, not JSON; the exception and its
 * message apart. */
static void test_typed_entry_points(void)
{
	setup(10);
	create_job("j1", "[\"t1\"]");
	outbox_truncate(&ob, 0);
	struct device_request dr = { .thing = "t1", .op = DEVICE_GET_PENDING, .body = "{\"clientToken\":\"c\"}",
		.body_len = strlen("{\"clientToken\":\"c\"}"), .now_ms = (int64_t)NOW * 1000, .requester = "unit" };
	struct device_result r;
	service_device(svc, &dr, &r, &ob);
	CU_ASSERT_EQUAL(r.error, DEVICE_OK);
	CU_ASSERT_EQUAL_FATAL(r.nrows, 1);
	CU_ASSERT_STRING_EQUAL(r.rows[0].job_id, "j1");
	CU_ASSERT_STRING_EQUAL(r.client_token, "c");
	CU_ASSERT_EQUAL(r.timestamp, NOW);
	device_result_free(&r);

	dr = (struct device_request){ .thing = "t1", .op = DEVICE_UPDATE, .job_id = "j1",
		.body = "{\"status\":\"IN_PROGRESS\",\"expectedVersion\":7}", .now_ms = (int64_t)NOW * 1000 };
	dr.body_len = strlen(dr.body);
	service_device(svc, &dr, &r, &ob);
	CU_ASSERT_EQUAL(r.error, DEVICE_VERSION_MISMATCH);
	CU_ASSERT_STRING_EQUAL(device_error_code(r.error), "VersionMismatch");
	CU_ASSERT_TRUE(r.state_in_error);
	CU_ASSERT_EQUAL(r.exec.status, EXEC_QUEUED);
	CU_ASSERT_PTR_NULL(r.client_token);
	device_result_free(&r);
	CU_ASSERT_EQUAL(ob.count, 0);  /* nothing changed: no notification */
	enum device_error e;
	CU_ASSERT_TRUE(device_error_parse("RequestThrottled", &e) && e == DEVICE_REQUEST_THROTTLED);
	CU_ASSERT_FALSE(device_error_parse("Bogus", &e));

	cJSON *cmd = cJSON_Parse("{\"command\":\"describeJob\",\"jobId\":\"nope\"}");
	struct control_request cr = { .client_id = "unit", .now_ms = (int64_t)NOW * 1000 };
	struct control_result cres;
	service_control(svc, &cr, cmd, &cres, &ob);
	CU_ASSERT_PTR_NULL(cres.data);
	CU_ASSERT_STRING_EQUAL(cres.exception, "ResourceNotFoundException");
	CU_ASSERT_STRING_EQUAL(cres.message, "job nope does not exist");
	control_result_free(&cres);
	cJSON_Delete(cmd);
	cmd = cJSON_Parse("{\"command\":\"describeJob\",\"jobId\":\"j1\"}");
	service_control(svc, &cr, cmd, &cres, &ob);
	CU_ASSERT_PTR_NULL(cres.exception);
	CU_ASSERT_STRING_EQUAL(str(cJSON_GetObjectItem(cres.data, "job"), "jobId"), "j1");
	control_result_free(&cres);
	cJSON_Delete(cmd);
	teardown();
}

/* describeBroker: the version, the store, what it holds counted, the uptime from the
 * service's creation to the command's time. */
/* The $SYS topics' numbers: counts by status from the store, and device requests
 * (accepted or not) in the last 60 wall-clock seconds. */
static void test_sys_stats(void)
{
	setup(10);
	struct sys_stats st;
	int64_t t0 = (int64_t)NOW * 1000;
	CU_ASSERT_EQUAL_FATAL(sysstats_read(svc, t0, &st), 0);
	CU_ASSERT_EQUAL(st.jobs[JOB_IN_PROGRESS], 0);
	CU_ASSERT_EQUAL(st.requests_1min, 0);
	create_job("j1", "[\"t1\",\"t2\"]");
	device_at(t0, "$aws/things/t1/jobs/j1/update", "{\"status\":\"SUCCEEDED\"}", 1);
	device_at(t0 + 30000, "$aws/things/t2/jobs/start-next", "{}", 1);
	device_at(t0 + 30500, "$aws/things/t2/jobs/j1/update", "{\"status\":\"BOGUS\"}", 1);  /* refused */
	CU_ASSERT_EQUAL_FATAL(sysstats_read(svc, t0 + 30999, &st), 0);
	CU_ASSERT_EQUAL(st.jobs[JOB_IN_PROGRESS], 1);
	CU_ASSERT_EQUAL(st.jobs[JOB_COMPLETED], 0);
	CU_ASSERT_EQUAL(st.executions[EXEC_SUCCEEDED], 1);
	CU_ASSERT_EQUAL(st.executions[EXEC_IN_PROGRESS], 1);
	CU_ASSERT_EQUAL(st.executions[EXEC_QUEUED], 0);
	CU_ASSERT_EQUAL(st.requests_1min, 3);
	CU_ASSERT_EQUAL(st.requests_total, 3);
	/* a minute after the first, it has left the window; the others are still in it */
	CU_ASSERT_EQUAL_FATAL(sysstats_read(svc, t0 + 60000, &st), 0);
	CU_ASSERT_EQUAL(st.requests_1min, 2);
	CU_ASSERT_EQUAL_FATAL(sysstats_read(svc, t0 + 90000, &st), 0);
	CU_ASSERT_EQUAL(st.requests_1min, 0);
	CU_ASSERT_EQUAL(st.requests_total, 3);
	/* a slot used again a minute later counts only its new second */
	device_at(t0 + 120000, "$aws/things/t2/jobs/j1/update", "{\"status\":\"SUCCEEDED\"}", 1);
	CU_ASSERT_EQUAL_FATAL(sysstats_read(svc, t0 + 120000, &st), 0);
	CU_ASSERT_EQUAL(st.requests_1min, 1);
	CU_ASSERT_EQUAL(st.requests_total, 4);
	CU_ASSERT_EQUAL(st.jobs[JOB_COMPLETED], 1);
	CU_ASSERT_EQUAL(st.executions[EXEC_SUCCEEDED], 2);
	teardown();
}

static void test_describe_broker(void)
{
	char path[512], err[512];
	CU_ASSERT_PTR_NOT_NULL_FATAL(test_file_path(path, sizeof(path), "broker.db"));
	unlink(path);
	struct jobs_option opts[] = { { "db_path", path } };
	struct jobs_config cfg;
	CU_ASSERT_EQUAL_FATAL(config_parse(opts, 1, &cfg, err, sizeof(err)), 0);
	/* started 90.5 s before NOW */
	CU_ASSERT_EQUAL_FATAL(service_create(&cfg, (int64_t)NOW * 1000 - 90500, NULL, NULL, &svc, err, sizeof(err)), 0);
	config_free(&cfg);
	memset(&ob, 0, sizeof(ob));

	create_job("j1", "[\"t1\",\"t2\"]");
	create_job("j2", "[\"t3\"]");
	device("$aws/things/t1/jobs/j1/update", "{\"status\":\"IN_PROGRESS\"}", 1);
	device("$aws/things/t2/jobs/j1/update", "{\"status\":\"SUCCEEDED\"}", 1);
	control("{\"commands\":[{\"command\":\"cancelJob\",\"jobId\":\"j2\"},"
			"{\"command\":\"createThingGroup\",\"thingGroupName\":\"g\"},"
			"{\"command\":\"addThingToThingGroup\",\"thingGroupName\":\"g\",\"thingName\":\"t4\"},"
			"{\"command\":\"addThingToThingGroup\",\"thingGroupName\":\"g\",\"thingName\":\"t1\"}]}");

	cJSON *cmd = cJSON_Parse("{\"command\":\"describeBroker\"}");
	struct control_request cr = { .client_id = "unit", .now_ms = (int64_t)NOW * 1000 };
	struct control_result res;
	service_control(svc, &cr, cmd, &res, &ob);
	cJSON_Delete(cmd);
	CU_ASSERT_PTR_NULL(res.exception);
	CU_ASSERT_PTR_NOT_NULL_FATAL(res.data);
	CU_ASSERT_STRING_EQUAL(str(res.data, "version"), JOBS_VERSION);
	const cJSON *store = cJSON_GetObjectItem(res.data, "store");
	CU_ASSERT_STRING_EQUAL(str(store, "kind"), "sqlite");
	CU_ASSERT_STRING_EQUAL(str(store, "location"), path);
	CU_ASSERT_EQUAL(num(store, "schemaVersion"), JOBS_SQLITE_SCHEMA_VERSION);
	const cJSON *jobs = cJSON_GetObjectItem(res.data, "jobs");
	CU_ASSERT_EQUAL(num(jobs, "IN_PROGRESS"), 1);
	CU_ASSERT_EQUAL(num(jobs, "CANCELED"), 1);
	CU_ASSERT_EQUAL(num(jobs, "COMPLETED"), 0);
	CU_ASSERT_EQUAL(num(jobs, "SCHEDULED"), 0);
	const cJSON *execs = cJSON_GetObjectItem(res.data, "executions");
	CU_ASSERT_EQUAL(num(execs, "QUEUED"), 0);
	CU_ASSERT_EQUAL(num(execs, "IN_PROGRESS"), 1);
	CU_ASSERT_EQUAL(num(execs, "SUCCEEDED"), 1);
	CU_ASSERT_EQUAL(num(execs, "CANCELED"), 1);
	CU_ASSERT_EQUAL(num(execs, "FAILED"), 0);
	CU_ASSERT_EQUAL(cJSON_GetArraySize(execs), EXEC_STATUS_COUNT);
	/* t1, t2, t3 have executions; t4 is in a group only; t1 is counted once */
	CU_ASSERT_EQUAL(num(res.data, "things"), 4);
	CU_ASSERT_EQUAL(num(res.data, "thingGroups"), 1);
	CU_ASSERT_EQUAL(num(res.data, "uptimeSeconds"), 90);
	control_result_free(&res);

	/* deleting a job takes its executions out of the counts */
	control("{\"commands\":[{\"command\":\"deleteJob\",\"jobId\":\"j2\"}]}");
	cmd = cJSON_Parse("{\"command\":\"describeBroker\"}");
	service_control(svc, &cr, cmd, &res, &ob);
	cJSON_Delete(cmd);
	CU_ASSERT_PTR_NULL(res.exception);
	CU_ASSERT_EQUAL(num(cJSON_GetObjectItem(res.data, "jobs"), "CANCELED"), 0);
	CU_ASSERT_EQUAL(num(cJSON_GetObjectItem(res.data, "executions"), "CANCELED"), 0);
	CU_ASSERT_EQUAL(num(res.data, "things"), 3);
	control_result_free(&res);
	teardown();
	unlink(path);
}

/* A retry is one change for the device: the execution leaves, its retry arrives. */
static void test_retry_notifies_once(void)
{
	setup(10);
	control("{\"commands\":[{\"command\":\"createJob\",\"jobId\":\"r\",\"targets\":[\"t1\"],\"document\":{},"
			"\"jobExecutionsRetryConfig\":{\"criteriaList\":[{\"failureType\":\"FAILED\",\"numberOfRetries\":1}]}}]}");
	device(P "/r/update", "{\"status\":\"FAILED\"}", 1);
	CU_ASSERT_EQUAL(count_topic(P "/notify"), 1);
	CU_ASSERT_EQUAL(count_topic(P "/notify-next"), 1);
	cJSON *n = body(P "/notify-next");
	CU_ASSERT_EQUAL(num(cJSON_GetObjectItem(n, "execution"), "executionNumber"), 2);
	cJSON_Delete(n);
	n = body(P "/notify");
	CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(n, "jobs"), "QUEUED")), 1);
	cJSON_Delete(n);
	/* the last retry used up: FAILED for good, nothing pending */
	device(P "/r/update", "{\"status\":\"FAILED\"}", 1);
	n = body(P "/notify-next");
	CU_ASSERT_PTR_NULL(cJSON_GetObjectItem(n, "execution"));
	cJSON_Delete(n);
	teardown();
}

/* A job for a large group reaches it over several ticks, a bounded batch each, and
 * meanwhile nothing else waits. */
static void test_large_group_fans_out_over_ticks(void)
{
	setup(10);
	static char cmd[200];
	control("{\"commands\":[{\"command\":\"createThingGroup\",\"thingGroupName\":\"big\"}]}");
	for(int i = 0; i < 300; i++){
		snprintf(cmd, sizeof(cmd), "{\"commands\":[{\"command\":\"addThingToThingGroup\","
				"\"thingGroupName\":\"big\",\"thingName\":\"m%03d\"}]}", i);
		control(cmd);
	}
	outbox_truncate(&ob, 0);
	struct jobs_request req = { .client_id = "op", .topic = JOBS_CONTROL_TOPIC, .qos = 1, .now = NOW };
	const char *create = "{\"commands\":[{\"command\":\"createJob\",\"jobId\":\"fan\",\"document\":{},"
		"\"targets\":[\"arn:aws:iot:us-east-1:000000000000:thinggroup/big\"]}]}";
	req.payload = create;
	req.payload_len = strlen(create);
	mqtt_jobs_control(svc, &req, &ob);
	CU_ASSERT_EQUAL(ob.count, 1); /* the response only: the group is reached by the ticks */
	int notified = 0, ticks = 0;
	while(ticks < 20){
		outbox_truncate(&ob, 0);
		service_tick(svc, (int64_t)NOW * 1000, &ob);
		if(ob.count == 0) break;
		int n = 0;
		for(size_t i = 0; i < ob.count; i++) n += strstr(msg_topic(&ob.msgs[i]), "/notify-next") != NULL;
		CU_ASSERT_TRUE(n <= 64); /* one batch per tick without a clock */
		notified += n;
		ticks++;
	}
	CU_ASSERT_EQUAL(notified, 300);
	CU_ASSERT_TRUE(ticks >= 5);
	control("{\"commands\":[{\"command\":\"describeJob\",\"jobId\":\"fan\"}]}");
	cJSON *r = response(0);
	CU_ASSERT_EQUAL(num(cJSON_GetObjectItem(cJSON_GetObjectItem(ok_data(r), "job"), "jobProcessDetails"),
			"numberOfQueuedThings"), 300);
	cJSON_Delete(r);
	teardown();
}

void add_service_tests(void)
{
	static const struct test_entry tests[] = {
		{ "get pending shapes and QoS", test_get_pending_shapes },
		{ "max_pending caps lists", test_max_pending },
		{ "start-next and update", test_start_next_and_update },
		{ "describe", test_describe },
		{ "error codes", test_error_codes },
		{ "notification sequence", test_notification_sequence },
		{ "management commands", test_control },
		{ "job completes", test_job_completes },
		{ "namespaces", test_namespaces },
		{ "continuous jobs follow thing groups", test_continuous_group_jobs },
		{ "paging", test_paging },
		{ "execution commands", test_execution_commands },
		{ "per-thing rate limit", test_rate_limit },
		{ "full database", test_full_database },
		{ "group commit", test_group_commit },
		{ "a retry notifies once", test_retry_notifies_once },
		{ "a large group fans out over ticks", test_large_group_fans_out_over_ticks },
		{ "a rolled-back pass fails its replies", test_rolled_back_pass_fails_its_replies },
		{ "typed entry points", test_typed_entry_points },
		{ "describeBroker", test_describe_broker },
		{ "$SYS numbers", test_sys_stats },
	};
	ADD_SUITE("service", tests);
}
