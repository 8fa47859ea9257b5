/* Jobs events: the payloads (pure), the events a transaction gathers (appended at its
 * commit, none after a rollback), the event configurations held as stored, and who may
 * read the events' topics. */
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/core_state.h"
#include "core/events.h"
#include "core/txn.h"
#include "mqtt/mqtt_control.h"
#include "mqtt/mqtt_jobs.h"
#include "mqtt/topic.h"
#include "mqtt/topic_access.h"
#include "suites.h"

#define NOW 1700000000
#define PREFIX "arn:aws:iot:us-east-1:000000000000:"
#define EVENT_ID "5f0c2d1e-0000-4000-8000-000000000001"

static void test_job_payload(void)
{
	struct store_job job = { .status = JOB_COMPLETED, .target_selection = TARGET_SNAPSHOT,
		.created_at = 1000, .last_updated_at = 1100, .completed_at = 1100 };
	strcpy(job.job_id, "fw-2");
	job.description = "Firmware 2";
	job.targets = "[\"t1\",\"arn:aws:iot:eu-west-1:111111111111:thinggroup/g1\"]";
	int64_t counts[EXEC_STATUS_COUNT] = { [EXEC_SUCCEEDED] = 3, [EXEC_FAILED] = 1, [EXEC_QUEUED] = 7 };
	size_t len;
	char *text = events_job_payload(&job, "completed", "COMPLETED", counts, PREFIX, EVENT_ID, NOW, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_STRING_EQUAL(text, "{\"eventType\":\"JOB\",\"eventId\":\"" EVENT_ID "\",\"timestamp\":1700000000,"
			"\"operation\":\"completed\",\"jobId\":\"fw-2\",\"status\":\"COMPLETED\",\"targetSelection\":\"SNAPSHOT\","
			"\"targets\":[\"" PREFIX "thing/t1\",\"arn:aws:iot:eu-west-1:111111111111:thinggroup/g1\"],"
			"\"description\":\"Firmware 2\",\"completedAt\":1100000,\"createdAt\":1000000,\"lastUpdatedAt\":1100000,"
			"\"jobProcessDetails\":{\"numberOfCanceledThings\":0,\"numberOfRejectedThings\":0,"
			"\"numberOfFailedThings\":1,\"numberOfRemovedThings\":0,\"numberOfSucceededThings\":3,"
			"\"numberOfTimedOutThings\":0}}");
	CU_ASSERT_EQUAL(len, strlen(text));
	free(text);

	/* canceled: forceCanceled and the comment; the others without jobProcessDetails */
	job.status = JOB_CANCELED;
	job.completed_at = 0;
	job.force_canceled = true;
	job.comment = "withdrawn";
	job.description = NULL;
	job.targets = "[\"t1\"]";
	text = events_job_payload(&job, "canceled", "CANCELED", counts, PREFIX, EVENT_ID, NOW, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"status\":\"CANCELED\",\"forceCanceled\":true,\"targetSelection\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"lastUpdatedAt\":1100000,\"comment\":\"withdrawn\",\"jobProcessDetails\""));
	free(text);
	text = events_job_payload(&job, "deletion_in_progress", "DELETION_IN_PROGRESS", NULL, PREFIX, EVENT_ID, NOW, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_PTR_NULL(strstr(text, "forceCanceled"));
	CU_ASSERT_PTR_NULL(strstr(text, "jobProcessDetails"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"comment\":\"withdrawn\"}"));
	free(text);
}

static void test_execution_payload(void)
{
	struct store_exec e = { .status = EXEC_FAILED };
	strcpy(e.thing, "dev:1");
	strcpy(e.job_id, "fw-2");
	e.status_details = "{\"step\":\"flash\"}";
	size_t len;
	char *text = events_execution_payload(&e, "failed", PREFIX, EVENT_ID, NOW, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_STRING_EQUAL(text, "{\"eventType\":\"JOB_EXECUTION\",\"eventId\":\"" EVENT_ID "\","
			"\"timestamp\":1700000000,\"operation\":\"failed\",\"jobId\":\"fw-2\","
			"\"thingArn\":\"" PREFIX "thing/dev:1\",\"status\":\"FAILED\",\"statusDetails\":{\"step\":\"flash\"}}");
	free(text);
	/* deleted: the status before the deletion; empty details left out */
	e.status = EXEC_QUEUED;
	e.status_details = "{}";
	text = events_execution_payload(&e, "deleted", PREFIX, EVENT_ID, NOW, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"operation\":\"deleted\",\"jobId\":\"fw-2\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"status\":\"QUEUED\"}"));
	free(text);
}

static void test_types(void)
{
	enum event_type t;
	CU_ASSERT_TRUE(events_type_parse("JOB_EXECUTION", &t));
	CU_ASSERT_EQUAL(t, EVENT_JOB_EXECUTION);
	CU_ASSERT_STRING_EQUAL(events_type_name(EVENT_CA_CERTIFICATE), "CA_CERTIFICATE");
	CU_ASSERT_FALSE(events_type_parse("job", &t));
	CU_ASSERT_FALSE(events_type_parse("", &t));
	CU_ASSERT_STRING_EQUAL(events_type_name(EVENT_TYPE_COUNT), "UNKNOWN");
}

/* ---- a service ---- */

static struct service *svc;
static struct outbox ob;

static void start(const char *job_events)
{
	struct jobs_config cfg;
	char err[512];
	struct jobs_option opts[] = { { "db_path", ":memory:" }, { "job_events", job_events } };
	CU_ASSERT_EQUAL_FATAL(config_parse(opts, 2, &cfg, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(service_create(&cfg, (int64_t)NOW * 1000, NULL, NULL, &svc, err, sizeof(err)), 0);
	service_set_batch_failed(svc, mqtt_jobs_fail_batch, NULL);
	config_free(&cfg);
	memset(&ob, 0, sizeof(ob));
}

static void stop(void)
{
	outbox_clear(&ob);
	service_destroy(svc);
	svc = NULL;
}

static void control(const char *payload)
{
	struct jobs_request req = { .client_id = "op", .topic = JOBS_CONTROL_TOPIC, .payload = payload,
		.payload_len = strlen(payload), .qos = 1, .now = NOW, .now_ms = (int64_t)NOW * 1000 };
	mqtt_jobs_control(svc, &req, &ob);
}

static void test_option_is_the_first_value(void)
{
	start("job_execution");
	const struct event_configs *c = events_configs(svc);
	CU_ASSERT_TRUE(c->enabled[EVENT_JOB_EXECUTION]);
	CU_ASSERT_FALSE(c->enabled[EVENT_JOB]);
	CU_ASSERT_EQUAL(c->created_at, NOW);
	CU_ASSERT_EQUAL(c->updated_at, NOW);
	struct store_event_config *rows;
	size_t n;
	CU_ASSERT_EQUAL_FATAL(store_event_configs(svc->store, &rows, &n), STORE_OK);
	CU_ASSERT_EQUAL(n, EVENT_TYPE_COUNT);  /* every type written at the first start */
	free(rows);
	stop();
}

/* A job for t1 whose execution the device takes to SUCCEEDED: its events at the commit. */
static void test_events_at_commit(void)
{
	start("all");
	control("{\"commands\":[{\"command\":\"createJob\",\"jobId\":\"j1\",\"targets\":[\"t1\"],\"document\":{}}]}");
	outbox_truncate(&ob, 0);
	const char *update = "{\"status\":\"SUCCEEDED\"}";
	struct jobs_request req = { .client_id = "t1", .topic = "$aws/things/t1/jobs/j1/update", .payload = update,
		.payload_len = strlen(update), .qos = 1, .now = NOW, .now_ms = (int64_t)NOW * 1000 };
	CU_ASSERT_TRUE(mqtt_jobs_device(svc, &req, &ob));
	int exec_at = -1, job_at = -1;
	for(size_t i = 0; i < ob.count; i++){
		if(strcmp(msg_topic(&ob.msgs[i]), "$aws/events/jobExecution/j1/succeeded") == 0) exec_at = (int)i;
		if(strcmp(msg_topic(&ob.msgs[i]), "$aws/events/job/j1/completed") == 0) job_at = (int)i;
	}
	CU_ASSERT_TRUE(exec_at >= 0 && job_at > exec_at);
	if(job_at >= 0){
		CU_ASSERT_PTR_NULL(ob.msgs[job_at].client_id);  /* to every subscriber */
		CU_ASSERT_PTR_NOT_NULL(strstr(ob.msgs[job_at].payload, "\"numberOfSucceededThings\":1"));
	}
	stop();
}

/* Events gathered in a transaction that rolls back never reach the outbox; a
 * configuration changed in it is as it was. */
static void test_rollback_drops_events(void)
{
	start("all");
	struct store_exec e = { .status = EXEC_CANCELED };
	strcpy(e.thing, "t1");
	strcpy(e.job_id, "j9");
	CU_ASSERT_EQUAL_FATAL(txn_begin(svc), 0);
	CU_ASSERT_EQUAL(events_execution(svc, &e, NULL, (int64_t)NOW * 1000), 0);
	CU_ASSERT_EQUAL(events_execution(svc, &e, "deleted", (int64_t)NOW * 1000), 0);
	txn_abort(svc);
	CU_ASSERT_EQUAL_FATAL(txn_begin(svc), 0);
	CU_ASSERT_EQUAL(txn_commit(svc, NOW, &ob), 0);
	CU_ASSERT_EQUAL(ob.count, 0);

	CU_ASSERT_EQUAL_FATAL(txn_begin(svc), 0);
	CU_ASSERT_EQUAL(events_execution(svc, &e, "deleted", (int64_t)NOW * 1000), 0);
	CU_ASSERT_EQUAL(txn_commit(svc, NOW, &ob), 0);
	CU_ASSERT_EQUAL_FATAL(ob.count, 1);
	CU_ASSERT_STRING_EQUAL(msg_topic(&ob.msgs[0]), "$aws/events/jobExecution/j9/deleted");
	CU_ASSERT_EQUAL(ob.msgs[0].kind, OUTBOX_EXECUTION_EVENT);

	CU_ASSERT_EQUAL_FATAL(txn_begin(svc), 0);
	CU_ASSERT_EQUAL(store_event_config_set(svc->store, "JOB", false, NOW + 5), STORE_OK);
	CU_ASSERT_EQUAL(events_changed(svc), 0);
	CU_ASSERT_FALSE(events_enabled(svc, EVENT_JOB));
	txn_abort(svc);
	CU_ASSERT_TRUE(events_enabled(svc, EVENT_JOB));
	CU_ASSERT_EQUAL(events_configs(svc)->updated_at, NOW);
	stop();
}

/* Off: nothing is gathered. */
static void test_off_gathers_nothing(void)
{
	start("off");
	struct store_exec e = { .status = EXEC_SUCCEEDED };
	strcpy(e.thing, "t1");
	strcpy(e.job_id, "j1");
	CU_ASSERT_EQUAL_FATAL(txn_begin(svc), 0);
	CU_ASSERT_EQUAL(events_execution(svc, &e, NULL, (int64_t)NOW * 1000), 0);
	CU_ASSERT_EQUAL(events_job(svc, "no-such-job", "completed", (int64_t)NOW * 1000), 0);
	CU_ASSERT_EQUAL(txn_commit(svc, NOW, &ob), 0);
	CU_ASSERT_EQUAL(ob.count, 0);
	stop();
}

static void test_topic_access(void)
{
	struct jobs_config cfg;
	char err[256];
	struct jobs_option opts[] = { { "operators", "ops" } };
	CU_ASSERT_EQUAL_FATAL(config_parse(opts, 1, &cfg, err, sizeof(err)), 0);
	const struct access_config *a = &cfg.access;
	CU_ASSERT_EQUAL(access_decide(a, "ops", "$aws/events/#", ACCESS_SUBSCRIBE), ACCESS_ALLOW);
	CU_ASSERT_EQUAL(access_decide(a, "ops", "$aws/events/job/j1/completed", ACCESS_READ), ACCESS_ALLOW);
	CU_ASSERT_EQUAL(access_decide(a, "ops", "$aws/events/+/j1/#", ACCESS_SUBSCRIBE), ACCESS_ALLOW);
	CU_ASSERT_EQUAL(access_decide(a, "dev1", "$aws/events/#", ACCESS_SUBSCRIBE), ACCESS_DENY);
	CU_ASSERT_EQUAL(access_decide(a, "dev1", "$aws/events/jobExecution/j1/failed", ACCESS_READ), ACCESS_DENY);
	CU_ASSERT_EQUAL(access_decide(a, "dev1", "$share/g/$aws/events/job/#", ACCESS_SUBSCRIBE), ACCESS_DENY);
	CU_ASSERT_EQUAL(access_decide(a, "ops", "$aws/events/job/j1/completed", ACCESS_WRITE), ACCESS_DENY);
	/* other events are not the plugin's */
	CU_ASSERT_EQUAL(access_decide(a, "dev1", "$aws/events/presence/connected/dev1", ACCESS_READ), ACCESS_DEFER);
	CU_ASSERT_FALSE(topic_reaches_job_events("$aws/events/jobs/x", false));
	CU_ASSERT_FALSE(topic_reaches_job_events("$aws/events", true));
	config_free(&cfg);
	struct jobs_option broker[] = { { "control_access", "broker" } };
	CU_ASSERT_EQUAL_FATAL(config_parse(broker, 1, &cfg, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(access_decide(&cfg.access, "dev1", "$aws/events/#", ACCESS_SUBSCRIBE), ACCESS_DEFER);
	CU_ASSERT_EQUAL(access_decide(&cfg.access, "dev1", "$aws/events/job/j/deleted", ACCESS_WRITE), ACCESS_DEFER);
	config_free(&cfg);
}

void add_events_tests(void)
{
	static const struct test_entry tests[] = {
		{ "a job event's payload", test_job_payload },
		{ "an execution event's payload", test_execution_payload },
		{ "event types by AWS's names", test_types },
		{ "plugin_opt_job_events is the first start's value", test_option_is_the_first_value },
		{ "events go out at the commit, after the change", test_events_at_commit },
		{ "a rollback drops the events and restores the configurations", test_rollback_drops_events },
		{ "events off gather nothing", test_off_gathers_nothing },
		{ "only operators read the events' topics", test_topic_access },
	};
	add_suite("events", tests, sizeof(tests) / sizeof(*tests));
}
