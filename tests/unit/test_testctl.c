/* Test controls: the fault lists, offsets and transcripts of testctl.c on their own,
 * and through the service (faults on device requests, the moved job time). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/service.h"
#include "core/testctl.h"
#include "mqtt/mqtt_control.h"
#include "mqtt/mqtt_jobs.h"
#include "mqtt/topic.h"
#include "suites.h"

#define NOW_MS 1700000000000LL

static struct testctl_fault fault(enum testctl_op op, int count, enum testctl_action action)
{
	struct testctl_fault f = { .op = op, .count = count, .action = action };
	return f;
}

static void test_names(void)
{
	enum testctl_op op;
	enum testctl_action action;
	CU_ASSERT_TRUE(testctl_op_parse("start-next", &op) && op == TESTCTL_OP_START_NEXT);
	CU_ASSERT_TRUE(testctl_op_parse("any", &op) && op == TESTCTL_OP_ANY);
	CU_ASSERT_FALSE(testctl_op_parse("list", &op));
	CU_ASSERT_TRUE(testctl_action_parse("duplicate", &action) && action == TESTCTL_DUPLICATE);
	CU_ASSERT_FALSE(testctl_action_parse("Drop", &action));
	CU_ASSERT_STRING_EQUAL(testctl_action_name(TESTCTL_DELAY), "delay");
	CU_ASSERT_TRUE(testctl_code_valid("TerminalStateReached"));
	CU_ASSERT_FALSE(testctl_code_valid("InvalidRequest"));
	char thing[16];
	CU_ASSERT_TRUE(topic_thing("$aws/things/t1/jobs/get/accepted", thing, sizeof(thing)));
	CU_ASSERT_STRING_EQUAL(thing, "t1");
	CU_ASSERT_FALSE(topic_thing("$aws/things/t1/shadow/get", thing, sizeof(thing)));
	CU_ASSERT_FALSE(topic_thing("$aws/things//jobs/get", thing, sizeof(thing)));
	CU_ASSERT_FALSE(topic_thing("$aws/things/a-name-far-too-long/jobs/get", thing, sizeof(thing)));
}

static void test_faults_used_up(void)
{
	struct testctl *tc = testctl_create();
	struct testctl_fault list[] = {
		fault(TESTCTL_OP_UPDATE, 2, TESTCTL_DROP),
		fault(TESTCTL_OP_ANY, 1, TESTCTL_DUPLICATE),
	};
	struct testctl_fault got;
	CU_ASSERT_EQUAL(testctl_set_faults(tc, "t1", list, 2), 0);
	CU_ASSERT_FALSE(testctl_take_fault(tc, "t2", TESTCTL_OP_UPDATE, &got));
	/* update: the first matching fault, twice */
	CU_ASSERT_TRUE(testctl_take_fault(tc, "t1", TESTCTL_OP_UPDATE, &got));
	CU_ASSERT_EQUAL(got.action, TESTCTL_DROP);
	CU_ASSERT_TRUE(testctl_take_fault(tc, "t1", TESTCTL_OP_UPDATE, &got));
	CU_ASSERT_EQUAL(got.action, TESTCTL_DROP);
	/* then the "any" one, once */
	CU_ASSERT_TRUE(testctl_take_fault(tc, "t1", TESTCTL_OP_UPDATE, &got));
	CU_ASSERT_EQUAL(got.action, TESTCTL_DUPLICATE);
	CU_ASSERT_FALSE(testctl_take_fault(tc, "t1", TESTCTL_OP_UPDATE, &got));
	CU_ASSERT_FALSE(testctl_take_fault(tc, "t1", TESTCTL_OP_GET, &got));
	/* replace, clear */
	CU_ASSERT_EQUAL(testctl_set_faults(tc, "t1", list, 1), 0);
	CU_ASSERT_EQUAL(testctl_set_faults(tc, "t1", list + 1, 1), 0);
	CU_ASSERT_TRUE(testctl_take_fault(tc, "t1", TESTCTL_OP_GET, &got));
	CU_ASSERT_EQUAL(got.action, TESTCTL_DUPLICATE);
	CU_ASSERT_EQUAL(testctl_set_faults(tc, "t1", list, 2), 0);
	CU_ASSERT_EQUAL(testctl_set_faults(tc, "t1", NULL, 0), 0);
	CU_ASSERT_FALSE(testctl_take_fault(tc, "t1", TESTCTL_OP_UPDATE, &got));
	testctl_destroy(tc);
}

static void test_fault_limits(void)
{
	struct testctl *tc = testctl_create();
	struct testctl_fault list[TESTCTL_MAX_FAULTS + 1];
	for(size_t i = 0; i < sizeof(list) / sizeof(*list); i++) list[i] = fault(TESTCTL_OP_GET, 1, TESTCTL_DROP);
	CU_ASSERT_EQUAL(testctl_set_faults(tc, "t", list, TESTCTL_MAX_FAULTS + 1), -2);
	CU_ASSERT_EQUAL(testctl_set_faults(tc, "t", list, TESTCTL_MAX_FAULTS), 0);
	char name[32];
	for(int i = 1; i < TESTCTL_MAX_FAULT_THINGS; i++){
		snprintf(name, sizeof(name), "t%d", i);
		CU_ASSERT_EQUAL_FATAL(testctl_set_faults(tc, name, list, 1), 0);
	}
	CU_ASSERT_EQUAL(testctl_set_faults(tc, "one-more", list, 1), -2);
	CU_ASSERT_EQUAL(testctl_set_faults(tc, "t", list, 3), 0); /* a thing that has some: replaced */
	CU_ASSERT_EQUAL(testctl_set_faults(tc, "t", NULL, 0), 0);
	CU_ASSERT_EQUAL(testctl_set_faults(tc, "one-more", list, 1), 0);
	testctl_destroy(tc);
}

struct collected {
	uint64_t seqs[TESTCTL_MAX_ENTRIES + 10];
	size_t n;
	size_t bytes;
};

static void collect(void *ctx, const struct testctl_entry *e)
{
	struct collected *c = ctx;
	c->seqs[c->n++] = e->seq;
	c->bytes += strlen(e->topic) + e->len;
}

static void test_transcript_bounds_and_since(void)
{
	struct testctl *tc = testctl_create();
	static struct collected c;
	uint64_t dropped = 99;
	testctl_record(tc, "t", 1, false, "$aws/things/t/jobs/get", "{}", 2, NULL); /* not recorded yet */
	CU_ASSERT_FALSE(testctl_recording(tc, "t"));
	CU_ASSERT_FALSE(testctl_transcript_each(tc, "t", 0, collect, &c, &dropped));
	CU_ASSERT_EQUAL(testctl_transcript_start(tc, "t"), 0);
	CU_ASSERT_TRUE(testctl_recording(tc, "t"));
	for(int i = 0; i < TESTCTL_MAX_ENTRIES + 5; i++){
		testctl_record(tc, "t", i, i % 2, "$aws/things/t/jobs/get", "{}", 2, i == 3 ? "drop" : NULL);
	}
	memset(&c, 0, sizeof(c));
	CU_ASSERT_TRUE(testctl_transcript_each(tc, "t", 0, collect, &c, &dropped));
	CU_ASSERT_EQUAL(c.n, TESTCTL_MAX_ENTRIES);
	CU_ASSERT_EQUAL(dropped, 5);
	CU_ASSERT_EQUAL(c.seqs[0], 6);
	CU_ASSERT_EQUAL(c.seqs[c.n - 1], TESTCTL_MAX_ENTRIES + 5);
	memset(&c, 0, sizeof(c));
	CU_ASSERT_TRUE(testctl_transcript_each(tc, "t", TESTCTL_MAX_ENTRIES + 2, collect, &c, &dropped));
	CU_ASSERT_EQUAL(c.n, 3);
	CU_ASSERT_EQUAL(c.seqs[0], TESTCTL_MAX_ENTRIES + 3);

	/* bytes: 4 MB at most, oldest dropped; an entry bigger than that is dropped itself */
	size_t big = 1024 * 1024;
	char *payload = malloc(TESTCTL_MAX_BYTES + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(payload);
	memset(payload, 'x', TESTCTL_MAX_BYTES + 1);
	for(int i = 0; i < 5; i++) testctl_record(tc, "t", 0, true, "$aws/things/t/jobs/notify", payload, big, NULL);
	memset(&c, 0, sizeof(c));
	testctl_transcript_each(tc, "t", 0, collect, &c, &dropped);
	CU_ASSERT(c.bytes <= TESTCTL_MAX_BYTES);
	CU_ASSERT(c.bytes >= 3 * big);
	uint64_t before = dropped, last = c.seqs[c.n - 1];
	testctl_record(tc, "t", 0, true, "$aws/things/t/jobs/notify", payload, TESTCTL_MAX_BYTES + 1, NULL);
	memset(&c, 0, sizeof(c));
	testctl_transcript_each(tc, "t", 0, collect, &c, &dropped);
	CU_ASSERT_EQUAL(dropped, before + 1);
	CU_ASSERT_EQUAL(c.seqs[c.n - 1], last);
	free(payload);

	/* things: at most TESTCTL_MAX_TRANSCRIPTS */
	char name[32];
	for(int i = 1; i < TESTCTL_MAX_TRANSCRIPTS; i++){
		snprintf(name, sizeof(name), "t%d", i);
		CU_ASSERT_EQUAL_FATAL(testctl_transcript_start(tc, name), 0);
	}
	CU_ASSERT_EQUAL(testctl_transcript_start(tc, "one-more"), -2);
	CU_ASSERT_EQUAL(testctl_transcript_start(tc, "t"), 0); /* already: kept */
	CU_ASSERT_TRUE(testctl_transcript_stop(tc, "t"));
	CU_ASSERT_FALSE(testctl_transcript_stop(tc, "t"));
	CU_ASSERT_FALSE(testctl_recording(tc, "t"));
	CU_ASSERT_EQUAL(testctl_transcript_start(tc, "one-more"), 0);
	testctl_destroy(tc);
}

/* ---- through the service ---- */

static struct service *svc;
static struct outbox ob;

static void open_service(const char *test_controls)
{
	struct jobs_config cfg;
	char err[512];
	struct jobs_option opts[] = { { "db_path", ":memory:" }, { "test_controls", test_controls } };
	CU_ASSERT_EQUAL_FATAL(config_parse(opts, 2, &cfg, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(service_create(&cfg, 0, NULL, NULL, &svc, err, sizeof(err)), 0);
	service_set_batch_failed(svc, mqtt_jobs_fail_batch, NULL);
	config_free(&cfg);
	memset(&ob, 0, sizeof(ob));
}

static void close_service(void)
{
	outbox_clear(&ob);
	service_destroy(svc);
	svc = NULL;
}

/* One management command; returns its response entry's "data" or "error" as JSON
 * text (caller frees). */
static char *command(const char *cmd, int64_t now_ms)
{
	char payload[2048];
	snprintf(payload, sizeof(payload), "{\"commands\":[%s]}", cmd);
	struct jobs_request req = { .client_id = "op", .topic = JOBS_CONTROL_TOPIC, .payload = payload,
		.payload_len = strlen(payload), .qos = 1, .now = now_ms / 1000, .now_ms = now_ms };
	size_t mark = ob.count;
	mqtt_jobs_control(svc, &req, &ob);
	char *out = NULL;
	for(size_t i = mark; i < ob.count; i++){
		if(strcmp(msg_topic(&ob.msgs[i]), JOBS_CONTROL_RESPONSE_TOPIC) != 0) continue;
		cJSON *root = cJSON_Parse(ob.msgs[i].payload);
		cJSON *entry = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "responses"), 0);
		cJSON *data = cJSON_GetObjectItem(entry, "data");
		out = data ? cJSON_PrintUnformatted(data) : strdup(cJSON_GetObjectItem(entry, "error")->valuestring);
		cJSON_Delete(root);
	}
	return out;
}

static void command_ok(const char *cmd, const char *expected, int64_t now_ms)
{
	char *got = command(cmd, now_ms);
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	if(strcmp(got, expected) != 0) fprintf(stderr, "\n  %s: got %s, wanted %s\n", cmd, got, expected);
	CU_ASSERT_STRING_EQUAL(got, expected);
	free(got);
}

static void device(const char *topic, const char *payload, int64_t now_ms)
{
	struct jobs_request req = { .client_id = "dev", .topic = topic, .payload = payload,
		.payload_len = strlen(payload), .qos = 1, .now = now_ms / 1000, .now_ms = now_ms };
	outbox_truncate(&ob, 0);
	mqtt_jobs_device(svc, &req, &ob);
}

static const struct outbox_msg *reply(const char *topic, int nth)
{
	for(size_t i = 0; i < ob.count; i++){
		if(strcmp(msg_topic(&ob.msgs[i]), topic) == 0 && nth-- == 0) return &ob.msgs[i];
	}
	return NULL;
}

static void test_service_actions(void)
{
	open_service("on");
	free(command("{\"command\":\"createJob\",\"jobId\":\"j\",\"targets\":[\"t1\"],\"document\":{}}", NOW_MS));
	free(command("{\"command\":\"startTranscript\",\"thingName\":\"t1\"}", NOW_MS));
	command_ok("{\"command\":\"setFaults\",\"thingName\":\"t1\",\"faults\":["
			"{\"operation\":\"get\",\"action\":\"reject\",\"code\":\"RequestThrottled\"},"
			"{\"operation\":\"describe\",\"action\":\"delay\",\"delayMs\":1500},"
			"{\"operation\":\"start-next\",\"action\":\"duplicate\"},"
			"{\"operation\":\"update\",\"action\":\"drop\"}]}", "{}", NOW_MS);

	device("$aws/things/t1/jobs/get", "{\"clientToken\":\"a\"}", NOW_MS);
	const struct outbox_msg *m = reply("$aws/things/t1/jobs/get/rejected", 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_PTR_NOT_NULL(strstr(m->payload, "\"code\":\"RequestThrottled\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(m->payload, "\"clientToken\":\"a\""));
	CU_ASSERT_STRING_EQUAL(m->fault, "reject");
	device("$aws/things/t1/jobs/get", "{}", NOW_MS);   /* used up */
	CU_ASSERT_PTR_NOT_NULL(reply("$aws/things/t1/jobs/get/accepted", 0));

	device("$aws/things/t1/jobs/j/get", "{}", NOW_MS);
	m = reply("$aws/things/t1/jobs/j/get/accepted", 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(m->not_before_ms, NOW_MS + 1500);
	CU_ASSERT_FALSE(m->withheld);

	device("$aws/things/t1/jobs/start-next", "{}", NOW_MS);
	CU_ASSERT_PTR_NOT_NULL(reply("$aws/things/t1/jobs/start-next/accepted", 1));
	CU_ASSERT_PTR_NULL(reply("$aws/things/t1/jobs/start-next/accepted", 2));
	CU_ASSERT_STRING_EQUAL(reply("$aws/things/t1/jobs/start-next/accepted", 1)->fault, "duplicate");

	device("$aws/things/t1/jobs/j/update", "{\"status\":\"SUCCEEDED\"}", NOW_MS);
	m = reply("$aws/things/t1/jobs/j/update/accepted", 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_TRUE(m->withheld);
	CU_ASSERT_PTR_NOT_NULL(reply("$aws/things/t1/jobs/notify", 0)); /* the change happened */
	CU_ASSERT_FALSE(reply("$aws/things/t1/jobs/notify", 0)->withheld);

	/* the transcript: mqtt_jobs_sent records what the adapter publishes */
	mqtt_jobs_sent(svc, m, msg_topic(m), NOW_MS + 5);
	outbox_truncate(&ob, 0);
	char *t = command("{\"command\":\"getTranscript\",\"thingName\":\"t1\",\"since\":3}", NOW_MS);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "\"seq\":4,"));
	CU_ASSERT_PTR_NULL(strstr(t, "\"seq\":3,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "\"topic\":\"$aws/things/t1/jobs/j/update/accepted\",\"payload\":"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "\"fault\":\"drop\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "\"atMs\":1700000000005,\"direction\":\"out\""));
	free(t);
	close_service();
}

static void test_version_mismatch_state(void)
{
	open_service("on");
	free(command("{\"command\":\"createJob\",\"jobId\":\"j\",\"targets\":[\"t1\"],\"document\":{}}", NOW_MS));
	command_ok("{\"command\":\"setFaults\",\"thingName\":\"t1\",\"faults\":["
			"{\"operation\":\"update\",\"count\":2,\"action\":\"reject\",\"code\":\"VersionMismatch\"}]}", "{}", NOW_MS);
	device("$aws/things/t1/jobs/j/update", "{\"status\":\"IN_PROGRESS\"}", NOW_MS);
	const struct outbox_msg *m = reply("$aws/things/t1/jobs/j/update/rejected", 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_PTR_NOT_NULL(strstr(m->payload, "\"executionState\":{\"status\":\"QUEUED\""));
	/* not run: still QUEUED, nothing notified */
	CU_ASSERT_EQUAL(ob.count, 1);
	device("$aws/things/t1/jobs/other/update", "{\"status\":\"IN_PROGRESS\"}", NOW_MS);
	m = reply("$aws/things/t1/jobs/other/update/rejected", 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_PTR_NULL(strstr(m->payload, "executionState"));
	device("$aws/things/t1/jobs/j/update", "{\"status\":\"IN_PROGRESS\"}", NOW_MS);
	CU_ASSERT_PTR_NOT_NULL(reply("$aws/things/t1/jobs/j/update/accepted", 0));
	close_service();
}

static void test_offset_moves_timers(void)
{
	open_service("on");
	free(command("{\"command\":\"createJob\",\"jobId\":\"j\",\"targets\":[\"t1\"],\"document\":{},"
			"\"timeoutConfig\":{\"inProgressTimeoutInMinutes\":30}}", NOW_MS));
	device("$aws/things/t1/jobs/start-next", "{}", NOW_MS);
	CU_ASSERT_PTR_NOT_NULL(strstr(reply("$aws/things/t1/jobs/start-next/accepted", 0)->payload,
				"\"approximateSecondsBeforeTimedOut\":1800"));
	outbox_truncate(&ob, 0);
	service_tick(svc, NOW_MS + 1000, &ob);
	CU_ASSERT_EQUAL(ob.count, 0);
	command_ok("{\"command\":\"advanceTime\",\"minutes\":20}", "{\"offsetMinutes\":20}", NOW_MS + 1000);
	/* the timer and the time left see the moved clock */
	device("$aws/things/t1/jobs/j/get", "{}", NOW_MS + 1000);
	CU_ASSERT_PTR_NOT_NULL(strstr(reply("$aws/things/t1/jobs/j/get/accepted", 0)->payload,
				"\"approximateSecondsBeforeTimedOut\":599"));
	outbox_truncate(&ob, 0);
	service_tick(svc, NOW_MS + 2000, &ob);
	CU_ASSERT_EQUAL(ob.count, 0);
	command_ok("{\"command\":\"advanceTime\",\"minutes\":10}", "{\"offsetMinutes\":30}", NOW_MS + 2000);
	outbox_truncate(&ob, 0);
	service_tick(svc, NOW_MS + 2000, &ob);
	CU_ASSERT_PTR_NOT_NULL(reply("$aws/things/t1/jobs/notify-next", 0));
	char *e = command("{\"command\":\"describeJobExecution\",\"jobId\":\"j\",\"thingName\":\"t1\"}", NOW_MS + 2000);
	CU_ASSERT_PTR_NOT_NULL(strstr(e, "\"status\":\"TIMED_OUT\""));
	free(e);
	close_service();
}

static void test_off(void)
{
	open_service("off");
	char *got = command("{\"command\":\"advanceTime\",\"minutes\":20}", NOW_MS);
	CU_ASSERT_STRING_EQUAL(got, "InvalidRequestException: test controls are off (plugin_opt_test_controls on enables them)");
	free(got);
	got = command("{\"command\":\"setFaults\",\"thingName\":\"t1\",\"faults\":[]}", NOW_MS);
	CU_ASSERT_STRING_EQUAL(got, "InvalidRequestException: test controls are off (plugin_opt_test_controls on enables them)");
	free(got);
	close_service();
}

void add_testctl_tests(void)
{
	static const struct test_entry tests[] = {
		{ "names", test_names },
		{ "faults used up", test_faults_used_up },
		{ "fault limits", test_fault_limits },
		{ "transcript bounds and since", test_transcript_bounds_and_since },
		{ "each action through the service", test_service_actions },
		{ "VersionMismatch carries the state", test_version_mismatch_state },
		{ "advanceTime moves timers", test_offset_moves_timers },
		{ "off", test_off },
	};
	add_suite("testctl", tests, sizeof(tests) / sizeof(*tests));
}
