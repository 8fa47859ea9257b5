/* A store whose batches finish later (store.h, "Batches that finish later"), and one
 * that other brokers share (store_sync, store_runs_scheduler), played by a test double:
 * the SQLite store with its table of operations copied and four of them replaced.
 * Its batch_commit commits at once but answers STORE_PENDING; its batch_poll answers
 * what the test scripts. (A STORE_ERROR from it leaves SQLite's data as committed: the
 * tests look at what the broker answers, not at the data.) The service is driven as
 * the plugin drives it: requests, service_flush (through http_pass_run for HTTP),
 * service_tick, and a publish step that sends what flush_outbox would. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/service.h"
#include "http/http_pass.h"
#include "mqtt/mqtt_control.h"
#include "mqtt/mqtt_jobs.h"
#include "store/sqlite_store.h"
#include "store/store_impl.h"
#include "suites.h"

#define NOW_MS ((int64_t)1700000000000)
#define MIN ((int64_t)60000)

/* ---- the test double ---- */

static const struct store_ops *real;  /* the SQLite store's table */
static struct store_ops fake;
static bool commit_pending;   /* batch_commit answers STORE_PENDING (after committing) */
static int commit_answer;     /* when not 0, the next batch_commit answers this instead */
static int commits_pending;   /* batches answered STORE_PENDING and not reported yet */
static int script[16];        /* what batch_poll answers, in turn; none left: STORE_PENDING */
static size_t nscript, at;
static int polls;
static bool polled_in_batch;
static const char *sync_thing; /* the next store_sync queues j1 there, as another broker would */
static int touches;
static bool scheduler;

static int fake_batch_commit(struct store *s)
{
	int rc = real->batch_commit(s);
	if(rc != STORE_OK) return rc;
	if(commit_answer){
		rc = commit_answer;
		commit_answer = 0;
		return rc;
	}
	if(!commit_pending) return STORE_OK;
	commits_pending++;
	return STORE_PENDING;
}

static int fake_batch_poll(struct store *s)
{
	polls++;
	polled_in_batch |= real->in_transaction(s);
	if(!commits_pending) return STORE_NOT_FOUND;
	int rc = at < nscript ? script[at++] : STORE_PENDING;
	if(rc != STORE_PENDING) commits_pending--;
	return rc;
}

static void will_poll(int rc)
{
	script[nscript++] = rc;
}

/* Another broker queued job j1 on sync_thing: the hook first, then the change. */
static int fake_sync(struct store *s, const struct store_sync_hooks *hooks)
{
	if(!sync_thing) return STORE_NOT_FOUND;
	const char *thing = sync_thing;
	sync_thing = NULL;
	touches++;
	if(hooks->touch(hooks->ctx, thing, "", -1, EXEC_QUEUED) != 0) return STORE_ERROR;
	struct store_job job = { 0 };
	if(real->job_get(s, "j1", &job) != STORE_OK) return STORE_ERROR;
	struct store_exec e = { .job_seq = job.seq, .execution_number = 1, .status = EXEC_QUEUED,
		.queued_at = NOW_MS / 1000, .last_updated_at = NOW_MS / 1000, .version = 1 };
	snprintf(e.thing, sizeof(e.thing), "%s", thing);
	store_job_free(&job);
	if(real->begin(s) != STORE_OK) return STORE_ERROR;
	if(real->exec_insert(s, &e) != STORE_OK){
		real->rollback(s);
		return STORE_ERROR;
	}
	return real->commit(s);
}

static bool fake_runs_scheduler(struct store *s)
{
	(void)s;
	return scheduler;
}

/* ---- the service on it, and what the plugin does around it ---- */

static struct service *svc;
static struct jobs_config cfg;
static struct outbox ob;
static int64_t clock_ms;

/* HTTP answers waiting for their batch, as plugin.c keeps them. */
static struct http_response held_resp[8];
static uint64_t held_batch[8];
static size_t nheld;

/* What was published (flush_outbox's part), in order. */
static struct sent { char topic[256]; char *payload; } sent[64];
static size_t nsent;

/* The plugin's batch-failed hook: the MQTT replies, and the HTTP answers held for it. */
static void batch_failed(void *ctx, struct outbox *o, uint64_t batch, int64_t now)
{
	mqtt_jobs_fail_batch(ctx, o, batch, now);
	for(size_t i = 0; i < nheld; i++){
		if(held_batch[i] == batch) http_pass_failed(&held_resp[i]);
	}
}

static void setup(void)
{
	const struct jobs_option opts[] = { { "db_path", ":memory:" }, { "operators", "op" } };
	char err[512];
	CU_ASSERT_EQUAL_FATAL(config_parse(opts, 2, &cfg, err, sizeof(err)), 0);
	struct store *store;
	CU_ASSERT_EQUAL_FATAL(sqlite_store_open(&cfg, &store, err, sizeof(err)), STORE_OK);
	real = store->ops;
	fake = *real;
	fake.batch_commit = fake_batch_commit;
	fake.batch_poll = fake_batch_poll;
	fake.sync = fake_sync;
	fake.runs_scheduler = fake_runs_scheduler;
	store->ops = &fake;
	commit_pending = true;
	commit_answer = 0;
	commits_pending = 0;
	nscript = at = 0;
	polls = 0;
	polled_in_batch = false;
	sync_thing = NULL;
	touches = 0;
	scheduler = true;
	nheld = 0;
	nsent = 0;
	clock_ms = NOW_MS;
	memset(&ob, 0, sizeof(ob));
	CU_ASSERT_EQUAL_FATAL(service_create_on(&cfg, store, 0, NULL, NULL, &svc, err, sizeof(err)), 0);
	service_set_group_commit(svc, true);
	service_set_batch_failed(svc, batch_failed, NULL);
}

static void clear_sent(void)
{
	for(size_t i = 0; i < nsent; i++) free(sent[i].payload);
	nsent = 0;
}

static void teardown(void)
{
	CU_ASSERT_FALSE(polled_in_batch);
	clear_sent();
	for(size_t i = 0; i < nheld; i++) free(held_resp[i].body);
	outbox_clear(&ob);
	service_destroy(svc);
	svc = NULL;
	config_free(&cfg);
}

static void dev(const char *thing, const char *levels, const char *payload)
{
	char topic[256];
	snprintf(topic, sizeof(topic), "$aws/things/%s/jobs/%s", thing, levels);
	struct jobs_request req = { .client_id = thing, .topic = topic, .payload = payload,
		.payload_len = payload ? strlen(payload) : 0, .qos = 1, .now = clock_ms / 1000, .now_ms = clock_ms };
	CU_ASSERT_TRUE(mqtt_jobs_device(svc, &req, &ob));
}

static void ctl(const char *payload)
{
	struct jobs_request req = { .client_id = "op", .username = "op", .topic = JOBS_CONTROL_TOPIC,
		.payload = payload, .payload_len = strlen(payload), .qos = 1, .now = clock_ms / 1000, .now_ms = clock_ms };
	mqtt_jobs_control(svc, &req, &ob);
}

/* The end of a loop pass, as on_tick: commit the pass, tick, publish. */
static void flush(void)
{
	service_flush(svc, clock_ms, &ob);
}

static void tick(void)
{
	service_tick(svc, clock_ms, &ob);
}

/* flush_outbox: sends the free messages, keeps the held ones. */
static void publish(void)
{
	for(size_t i = 0; i < ob.count; i++){
		const struct outbox_msg *m = &ob.msgs[i];
		if(m->held_by || m->not_before_ms > clock_ms) continue;
		CU_ASSERT_FATAL(nsent < sizeof(sent) / sizeof(*sent));
		snprintf(sent[nsent].topic, sizeof(sent[nsent].topic), "%s", msg_topic(m));
		sent[nsent].payload = strndup(m->payload, m->payload_len);
		nsent++;
	}
	outbox_retain_later(&ob, clock_ms);
}

static size_t held_count(void)
{
	size_t n = 0;
	for(size_t i = 0; i < ob.count; i++) n += ob.msgs[i].held_by != 0;
	return n;
}

/* Index in sent of the first message on `topic`, or -1. */
static int sent_on(const char *topic)
{
	for(size_t i = 0; i < nsent; i++){
		if(strcmp(sent[i].topic, topic) == 0) return (int)i;
	}
	return -1;
}

static bool sent_holds(const char *topic, const char *text)
{
	int i = sent_on(topic);
	return i >= 0 && strstr(sent[i].payload, text) != NULL;
}

#define CREATE_J1 "{\"commands\":[{\"command\":\"createJob\",\"jobId\":\"j1\",\"targets\":[\"t1\"],\"document\":{\"a\":1}}]}"
#define CREATE_J2 "{\"commands\":[{\"command\":\"createJob\",\"jobId\":\"j2\",\"targets\":[\"t2\"],\"document\":{\"b\":2}}]}"
#define RESPONSE_TOPIC JOBS_CONTROL_RESPONSE_TOPIC

/* j1 queued on t1, committed and published. */
static void job_on_t1(void)
{
	ctl(CREATE_J1);
	flush();
	will_poll(STORE_OK);
	tick();
	publish();
	CU_ASSERT_EQUAL_FATAL(held_count(), 0);
	CU_ASSERT_FATAL(sent_on("$aws/things/t1/jobs/notify-next") >= 0);
	clear_sent();
}

/* ---- the tests ---- */

static void test_replies_wait_for_the_commit(void)
{
	setup();
	ctl(CREATE_J1);
	dev("t9", "get", "{\"clientToken\":\"c1\"}");
	flush();
	CU_ASSERT_TRUE(polls > 0);  /* asked right after the commit */
	publish();
	/* the response, t1's notifications and t9's reply all wait */
	CU_ASSERT_EQUAL(nsent, 0);
	CU_ASSERT_EQUAL(held_count(), 4);
	tick();
	publish();
	CU_ASSERT_EQUAL(nsent, 0);
	CU_ASSERT_EQUAL(held_count(), 4);

	will_poll(STORE_OK);
	tick();
	publish();
	CU_ASSERT_EQUAL(held_count(), 0);
	CU_ASSERT_EQUAL(ob.count, 0);
	CU_ASSERT_EQUAL(nsent, 4);
	CU_ASSERT_TRUE(sent_holds(RESPONSE_TOPIC, "\"jobId\":\"j1\""));
	CU_ASSERT_TRUE(sent_on("$aws/things/t1/jobs/notify") >= 0);
	CU_ASSERT_TRUE(sent_holds("$aws/things/t1/jobs/notify-next", "\"jobId\":\"j1\""));
	CU_ASSERT_TRUE(sent_holds("$aws/things/t9/jobs/get/accepted", "\"clientToken\":\"c1\""));
	/* nothing more to report: no poll while nothing is held */
	int before = polls;
	tick();
	CU_ASSERT_EQUAL(polls, before);
	teardown();
}

static void test_failed_batch_answers_failures(void)
{
	setup();
	job_on_t1();
	uint64_t lost = service_batches_lost(svc);
	dev("t1", "j1/update", "{\"status\":\"IN_PROGRESS\",\"clientToken\":\"u1\"}");
	ctl(CREATE_J2);
	flush();
	publish();
	CU_ASSERT_EQUAL(nsent, 0);
	CU_ASSERT_EQUAL(service_batches_lost(svc), lost);

	will_poll(STORE_ERROR);
	tick();
	publish();
	CU_ASSERT_EQUAL(service_batches_lost(svc), lost + 1);
	CU_ASSERT_EQUAL(ob.count, 0);
	/* the accepted update became InternalError, the response a failure, and the
	 * notifications of the job that is gone went */
	CU_ASSERT_EQUAL(sent_on("$aws/things/t1/jobs/j1/update/accepted"), -1);
	CU_ASSERT_TRUE(sent_holds("$aws/things/t1/jobs/j1/update/rejected", "\"code\":\"InternalError\""));
	CU_ASSERT_TRUE(sent_holds("$aws/things/t1/jobs/j1/update/rejected", "\"clientToken\":\"u1\""));
	CU_ASSERT_TRUE(sent_holds(RESPONSE_TOPIC, "InternalFailureException"));
	CU_ASSERT_FALSE(sent_holds(RESPONSE_TOPIC, "\"jobId\":\"j2\""));
	CU_ASSERT_EQUAL(sent_on("$aws/things/t2/jobs/notify"), -1);
	CU_ASSERT_EQUAL(sent_on("$aws/things/t2/jobs/notify-next"), -1);
	CU_ASSERT_EQUAL(nsent, 2);
	teardown();
}

/* Two batches pending; the first fails, and the store fails the second after it. */
static void test_batches_after_a_failed_one(void)
{
	setup();
	job_on_t1();
	dev("t1", "j1/get", "{\"clientToken\":\"a\"}");
	flush();
	dev("t1", "j1/update", "{\"status\":\"IN_PROGRESS\",\"clientToken\":\"b\"}");
	flush();
	publish();
	CU_ASSERT_EQUAL(nsent, 0);
	CU_ASSERT_EQUAL(held_count(), 2);
	will_poll(STORE_ERROR);
	tick();
	publish();
	/* the first is answered; the second still waits */
	CU_ASSERT_EQUAL(nsent, 1);
	CU_ASSERT_TRUE(sent_holds("$aws/things/t1/jobs/j1/get/rejected", "InternalError"));
	CU_ASSERT_EQUAL(held_count(), 1);
	will_poll(STORE_ERROR);
	tick();
	publish();
	CU_ASSERT_EQUAL(nsent, 2);
	CU_ASSERT_TRUE(sent_holds("$aws/things/t1/jobs/j1/update/rejected", "\"clientToken\":\"b\""));
	CU_ASSERT_EQUAL(sent_on("$aws/things/t1/jobs/j1/update/accepted"), -1);
	CU_ASSERT_EQUAL(held_count(), 0);
	teardown();
}

/* A batch whose commit fails at once while an earlier one is pending is answered after
 * it: every outcome in the order of the commits. */
static void test_outcomes_in_order(void)
{
	setup();
	job_on_t1();
	dev("t1", "j1/get", "{\"clientToken\":\"first\"}");
	flush();
	dev("t1", "j1/update", "{\"status\":\"IN_PROGRESS\",\"clientToken\":\"second\"}");
	commit_answer = STORE_ERROR;
	CU_ASSERT_FALSE(service_flush(svc, clock_ms, &ob));
	publish();
	CU_ASSERT_EQUAL(nsent, 0);
	will_poll(STORE_OK);
	tick();
	publish();
	CU_ASSERT_EQUAL_FATAL(nsent, 2);
	CU_ASSERT_STRING_EQUAL(sent[0].topic, "$aws/things/t1/jobs/j1/get/accepted");
	CU_ASSERT_STRING_EQUAL(sent[1].topic, "$aws/things/t1/jobs/j1/update/rejected");
	CU_ASSERT_PTR_NOT_NULL(strstr(sent[1].payload, "InternalError"));
	teardown();
}

/* One pass of HTTP calls, as on_tick runs it: final answers are freed at once, the
 * others kept with their batch. Returns how many were held. */
static size_t http_pass(const struct http_request *calls, size_t n, struct http_response *out)
{
	const struct http_request *reqs[8];
	uint64_t held[8];
	for(size_t i = 0; i < n; i++) reqs[i] = &calls[i];
	http_pass_run(svc, &cfg.access, reqs, n, clock_ms, &ob, out, held);
	size_t kept = 0;
	for(size_t i = 0; i < n; i++){
		if(!held[i]) continue;
		held_resp[nheld] = out[i];
		held_batch[nheld++] = held[i];
		kept++;
	}
	return kept;
}

#define UPDATE_BODY "{\"status\":\"IN_PROGRESS\"}"

static void test_http_answers_wait(void)
{
	setup();
	job_on_t1();
	struct http_request calls[2] = {
		{ .method = "POST", .path = "/things/t1/jobs/j1", .plane = HTTP_PLANE_DATA, .identity = "t1",
			.body = UPDATE_BODY, .body_len = strlen(UPDATE_BODY) },
		{ .method = "GET", .path = "/things/t1/jobs/j1", .plane = HTTP_PLANE_DATA, .identity = "t1" },
	};
	struct http_response out[2];
	CU_ASSERT_EQUAL_FATAL(http_pass(calls, 2, out), 2);
	CU_ASSERT_FALSE(service_batch_done(svc, held_batch[0]));
	tick();
	CU_ASSERT_FALSE(service_batch_done(svc, held_batch[0]));
	will_poll(STORE_OK);
	tick();
	CU_ASSERT_TRUE(service_batch_done(svc, held_batch[0]));
	CU_ASSERT_TRUE(service_batch_done(svc, held_batch[1]));
	/* answered as computed */
	CU_ASSERT_EQUAL(held_resp[0].status, 200);
	CU_ASSERT_EQUAL(held_resp[1].status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(held_resp[1].body, "IN_PROGRESS"));
	for(size_t i = 0; i < nheld; i++) free(held_resp[i].body);
	nheld = 0;

	/* a batch that fails: both answers, the read's too, become 503 */
	const char *done = "{\"status\":\"SUCCEEDED\"}";
	calls[0].body = done;
	calls[0].body_len = strlen(done);
	CU_ASSERT_EQUAL_FATAL(http_pass(calls, 2, out), 2);
	CU_ASSERT_EQUAL(held_resp[0].status, 200);
	will_poll(STORE_ERROR);
	tick();
	CU_ASSERT_TRUE(service_batch_done(svc, held_batch[0]));
	for(size_t i = 0; i < 2; i++){
		CU_ASSERT_EQUAL(held_resp[i].status, 503);
		CU_ASSERT_STRING_EQUAL(held_resp[i].error_type, "ServiceUnavailableException");
	}
	teardown();
}

/* A commit that fails at once with nothing pending is answered at once, as SQLite's. */
static void test_http_failed_at_once(void)
{
	setup();
	job_on_t1();
	struct http_request call = { .method = "POST", .path = "/things/t1/jobs/j1", .plane = HTTP_PLANE_DATA,
		.identity = "t1", .body = UPDATE_BODY, .body_len = strlen(UPDATE_BODY) };
	struct http_response out;
	commit_answer = STORE_ERROR;
	CU_ASSERT_EQUAL(http_pass(&call, 1, &out), 0);
	CU_ASSERT_EQUAL(out.status, 503);
	free(out.body);
	teardown();
}

/* Changes from other brokers: notify and notify-next for the thing touched, at once
 * (committed already), even while a batch of this broker waits. */
static void test_sync_notifies(void)
{
	setup();
	job_on_t1();
	tick();
	publish();
	CU_ASSERT_EQUAL(nsent, 0);  /* nothing came */
	CU_ASSERT_EQUAL(touches, 0);

	dev("t1", "j1/get", "{}");
	flush();
	sync_thing = "t5";
	tick();
	publish();
	CU_ASSERT_EQUAL(touches, 1);
	CU_ASSERT_EQUAL(held_count(), 1);  /* t1's reply still waits */
	CU_ASSERT_EQUAL(nsent, 2);
	CU_ASSERT_TRUE(sent_holds("$aws/things/t5/jobs/notify", "\"QUEUED\""));
	CU_ASSERT_TRUE(sent_holds("$aws/things/t5/jobs/notify-next", "\"jobId\":\"j1\""));
	clear_sent();
	tick();
	publish();
	CU_ASSERT_EQUAL(nsent, 0);
	teardown();
}

#define STEP_UPDATE "{\"status\":\"IN_PROGRESS\",\"stepTimeoutInMinutes\":1}"

static const char *t1_status(void)
{
	static char status[32];
	outbox_clear(&ob);
	dev("t1", "j1/get", "{}");
	flush();
	will_poll(STORE_OK);
	tick();
	clear_sent();
	publish();
	snprintf(status, sizeof(status), "?");
	int i = sent_on("$aws/things/t1/jobs/j1/get/accepted");
	if(i >= 0){
		cJSON *b = cJSON_Parse(sent[i].payload);
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(b, "execution"), "status");
		if(cJSON_IsString(s)) snprintf(status, sizeof(status), "%s", s->valuestring);
		cJSON_Delete(b);
	}
	clear_sent();
	return status;
}

/* The due work runs on the broker the store names only. */
static void test_scheduler_elsewhere(void)
{
	setup();
	job_on_t1();
	dev("t1", "j1/update", STEP_UPDATE);
	flush();
	will_poll(STORE_OK);
	tick();
	publish();
	CU_ASSERT_TRUE(sent_on("$aws/things/t1/jobs/j1/update/accepted") >= 0);
	clear_sent();

	clock_ms += 2 * MIN;
	scheduler = false;
	tick();
	tick();
	publish();
	CU_ASSERT_EQUAL(nsent, 0);
	CU_ASSERT_STRING_EQUAL(t1_status(), "IN_PROGRESS");

	scheduler = true;
	will_poll(STORE_OK); /* the tick's own batch */
	tick();
	publish();
	CU_ASSERT_TRUE(sent_holds("$aws/things/t1/jobs/notify", "\"jobs\":{}"));
	clear_sent();
	CU_ASSERT_STRING_EQUAL(t1_status(), "TIMED_OUT");
	teardown();
}

/* The tick's due work commits as a batch of its own after the batches pending: their
 * replies go out before its notifications, in the order they came, and the tick never
 * waits for a round trip. */
static void test_tick_reports_what_it_waited_for(void)
{
	setup();
	job_on_t1();
	dev("t1", "j1/update", STEP_UPDATE);
	flush();
	will_poll(STORE_OK);
	tick();
	publish();
	clear_sent();

	dev("t1", "j1/get", "{\"clientToken\":\"g\"}");
	flush();
	clock_ms += 2 * MIN;
	will_poll(STORE_PENDING);  /* before the due work */
	will_poll(STORE_OK);       /* after it: the get's batch */
	tick();
	publish();
	/* the tick's batch is pending still: its notifications wait */
	CU_ASSERT_EQUAL_FATAL(nsent, 1);
	will_poll(STORE_OK);
	tick();
	publish();
	CU_ASSERT_EQUAL_FATAL(nsent, 3);
	CU_ASSERT_STRING_EQUAL(sent[0].topic, "$aws/things/t1/jobs/j1/get/accepted");
	CU_ASSERT_PTR_NOT_NULL(strstr(sent[0].payload, "IN_PROGRESS"));
	CU_ASSERT_STRING_EQUAL(sent[1].topic, "$aws/things/t1/jobs/notify");
	CU_ASSERT_STRING_EQUAL(sent[2].topic, "$aws/things/t1/jobs/notify-next");
	teardown();
}

void add_pending_tests(void)
{
	static const struct test_entry tests[] = {
		{ "replies wait for a pending commit", test_replies_wait_for_the_commit },
		{ "a failed pending batch answers failures", test_failed_batch_answers_failures },
		{ "batches after a failed one", test_batches_after_a_failed_one },
		{ "outcomes in commit order", test_outcomes_in_order },
		{ "HTTP answers wait for their batch", test_http_answers_wait },
		{ "HTTP: a commit failed at once", test_http_failed_at_once },
		{ "changes from other brokers notify", test_sync_notifies },
		{ "due work on the scheduling broker only", test_scheduler_elsewhere },
		{ "the tick reports what it waited for", test_tick_reports_what_it_waited_for },
	};
	ADD_SUITE("pending batches", tests);
}
