/* Time and fleet policies (docs/policies.md), with the service driven directly
 * and time passed as a parameter: in-progress and step timers, retries, rollouts,
 * aborts, schedules, plugin_opt_time_scale, and the tick (free when nothing is due,
 * bounded when much is). Days pass in microseconds: every request carries the
 * test's clock, and service_tick is called with the moment to look at. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "core/service.h"
#include "core/validate.h"
#include "mqtt/mqtt_control.h"
#include "mqtt/mqtt_jobs.h"
#include "suites.h"

/* 2023-11-14T22:00:00Z: a whole minute, so schedule strings without seconds are exact. */
#define T0 ((int64_t)1699999200000)
#define SEC ((int64_t)1000)
#define MIN ((int64_t)60000)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)

static struct service *svc;
static struct outbox ob;   /* what the last action (request, command, tick) produced */
static struct outbox qob;  /* scratch outbox of the read-only queries */
static int64_t clock_ms;   /* the time every request carries */
static char file_db[4200];

#define ASSERT_STR(actual, expected) do{ \
	const char *a_ = (actual); \
	CU_ASSERT_PTR_NOT_NULL(a_); \
	if(a_) CU_ASSERT_STRING_EQUAL(a_, (expected)); \
	if(!a_ || strcmp(a_, (expected))) fprintf(stderr, "\n  %s:%d: got '%s', wanted '%s'\n", \
			__FILE__, __LINE__, a_ ? a_ : "(null)", (expected)); \
}while(0)

#define ASSERT_INT(actual, expected) do{ \
	long long a_ = (long long)(actual), e_ = (long long)(expected); \
	CU_ASSERT_EQUAL(a_, e_); \
	if(a_ != e_) fprintf(stderr, "\n  %s:%d: %s = %lld, wanted %lld\n", __FILE__, __LINE__, #actual, a_, e_); \
}while(0)

/* ---- service lifetime ---- */

static bool open_service(const char *db, const char *time_scale)
{
	struct jobs_config cfg;
	char err[512];
	struct jobs_option opts[2] = { { "db_path", db }, { "time_scale", time_scale } };
	if(config_parse(opts, time_scale ? 2 : 1, &cfg, err, sizeof(err)) != 0){
		fprintf(stderr, "\n  config: %s\n", err);
		return false;
	}
	int rc = service_create(&cfg, 0, NULL, NULL, &svc, err, sizeof(err));
	if(rc == 0) service_set_batch_failed(svc, mqtt_jobs_fail_batch, NULL);
	config_free(&cfg);
	if(rc != 0) fprintf(stderr, "\n  service: %s\n", err);
	return rc == 0;
}

static void setup_scaled(const char *time_scale)
{
	memset(&ob, 0, sizeof(ob));
	memset(&qob, 0, sizeof(qob));
	clock_ms = T0;
	CU_ASSERT_TRUE_FATAL(open_service(":memory:", time_scale));
}

static void setup(void)
{
	setup_scaled(NULL);
}

static void teardown(void)
{
	outbox_clear(&ob);
	outbox_clear(&qob);
	service_destroy(svc);
	svc = NULL;
}

static void remove_file_db(void)
{
	remove_db_files(file_db);
}

/* ---- talking to the service ---- */

static void send_device(struct outbox *o, const char *thing, const char *levels, const char *payload)
{
	char topic[256];
	snprintf(topic, sizeof(topic), "$aws/things/%s/jobs/%s", thing, levels);
	outbox_truncate(o, 0);
	struct jobs_request req = { .client_id = "dev", .topic = topic, .payload = payload,
		.payload_len = payload ? strlen(payload) : 0, .qos = 1, .now = clock_ms / 1000, .now_ms = clock_ms };
	CU_ASSERT_TRUE(mqtt_jobs_device(svc, &req, o));
}

/* A device request whose replies and notifications stay in `ob`. */
static void dev(const char *thing, const char *levels, const char *payload)
{
	send_device(&ob, thing, levels, payload);
}

/* Sends {"commands":[<one command>]} and returns its response (caller deletes). */
__attribute__((format(printf, 2, 0)))
static cJSON *vcontrol(struct outbox *o, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int len = vsnprintf(NULL, 0, fmt, ap);
	char *cmd = malloc((size_t)len + 1);
	vsnprintf(cmd, (size_t)len + 1, fmt, ap2);
	va_end(ap2);
	const char *head = "{\"commands\":[";
	size_t total = strlen(head) + (size_t)len + 3;
	char *payload = malloc(total);
	snprintf(payload, total, "%s%s]}", head, cmd);
	free(cmd);
	outbox_truncate(o, 0);
	struct jobs_request req = { .client_id = "op", .topic = JOBS_CONTROL_TOPIC, .payload = payload,
		.payload_len = strlen(payload), .qos = 1, .now = clock_ms / 1000, .now_ms = clock_ms };
	mqtt_jobs_control(svc, &req, o);
	free(payload);
	cJSON *resp = NULL;
	for(size_t i = 0; i < o->count; i++){
		if(strcmp(msg_topic(&o->msgs[i]), JOBS_CONTROL_RESPONSE_TOPIC) == 0){
			cJSON *r = cJSON_ParseWithLength(o->msgs[i].payload, o->msgs[i].payload_len);
			resp = cJSON_DetachItemFromArray(cJSON_GetObjectItem(r, "responses"), 0);
			cJSON_Delete(r);
		}
	}
	CU_ASSERT_PTR_NOT_NULL(resp);
	return resp;
}

/* A command whose notifications stay in `ob`. */
static cJSON *control(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static cJSON *control(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cJSON *r = vcontrol(&ob, fmt, ap);
	va_end(ap);
	return r;
}

/* A read-only command: `ob` is left alone. */
static cJSON *query(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static cJSON *query(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cJSON *r = vcontrol(&qob, fmt, ap);
	va_end(ap);
	return r;
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

static cJSON *data_of(cJSON *r)
{
	cJSON *d = cJSON_GetObjectItem(r, "data");
	if(!d) fprintf(stderr, "\n  error: %s\n", str(r, "error") ? str(r, "error") : "(no response)");
	return d;
}

/* Moves the clock and ticks; returns how many messages the tick produced (in `ob`). */
static size_t tick(int64_t at)
{
	clock_ms = at;
	outbox_truncate(&ob, 0);
	service_tick(svc, at, &ob);
	return ob.count;
}

/* ---- reading the outbox ---- */

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Messages in `ob` whose topic ends with `suffix` ("/notify" does not match notify-next). */
static int count_suffix(const char *suffix)
{
	int n = 0;
	for(size_t i = 0; i < ob.count; i++) n += ends_with(msg_topic(&ob.msgs[i]), suffix);
	return n;
}

/* Index of the last message in `ob` on the thing's topic, or -1. */
static int find_topic(const char *thing, const char *levels)
{
	char topic[256];
	snprintf(topic, sizeof(topic), "$aws/things/%s/jobs/%s", thing, levels);
	for(size_t i = ob.count; i-- > 0;){
		if(strcmp(msg_topic(&ob.msgs[i]), topic) == 0) return (int)i;
	}
	return -1;
}

static int count_topic(const char *thing, const char *levels)
{
	char topic[256];
	int n = 0;
	snprintf(topic, sizeof(topic), "$aws/things/%s/jobs/%s", thing, levels);
	for(size_t i = 0; i < ob.count; i++) n += strcmp(msg_topic(&ob.msgs[i]), topic) == 0;
	return n;
}

/* The payload of `ob`'s last message on the thing's topic (caller deletes), or NULL. */
static cJSON *msg(const char *thing, const char *levels)
{
	int i = find_topic(thing, levels);
	return i < 0 ? NULL : cJSON_ParseWithLength(ob.msgs[i].payload, ob.msgs[i].payload_len);
}

/* Whether `ob` holds a notify for the thing. */
static bool notified(const char *thing)
{
	return find_topic(thing, "notify") >= 0;
}

/* ---- reading state (through the scratch outbox) ---- */

struct exec_view {
	bool found;
	char status[16];
	long long version, number, approx; /* approx: -1 when absent */
};

static struct exec_view view_of(const cJSON *e)
{
	struct exec_view v = { .found = e != NULL, .approx = -1 };
	if(!e) return v;
	snprintf(v.status, sizeof(v.status), "%s", str(e, "status") ? str(e, "status") : "?");
	v.version = (long long)num(e, "versionNumber");
	v.number = (long long)num(e, "executionNumber");
	if(cJSON_GetObjectItem(e, "approximateSecondsBeforeTimedOut")){
		v.approx = (long long)num(e, "approximateSecondsBeforeTimedOut");
	}
	return v;
}

/* The device's DescribeJobExecution of the latest execution. */
static struct exec_view describe(const char *thing, const char *job)
{
	char levels[128], reply[256];
	snprintf(levels, sizeof(levels), "%s/get", job);
	send_device(&qob, thing, levels, "{\"includeJobDocument\":false}");
	snprintf(reply, sizeof(reply), "$aws/things/%s/jobs/%s/get/accepted", thing, job);
	struct exec_view v = { .approx = -1 };
	for(size_t i = 0; i < qob.count; i++){
		if(strcmp(msg_topic(&qob.msgs[i]), reply) == 0){
			cJSON *b = cJSON_ParseWithLength(qob.msgs[i].payload, qob.msgs[i].payload_len);
			v = view_of(cJSON_GetObjectItem(b, "execution"));
			cJSON_Delete(b);
		}
	}
	return v;
}

/* Entries in the thing's GetPendingJobExecutions reply. */
static int pending(const char *thing)
{
	send_device(&qob, thing, "get", "");
	char reply[256];
	snprintf(reply, sizeof(reply), "$aws/things/%s/jobs/get/accepted", thing);
	int n = -1;
	for(size_t i = 0; i < qob.count; i++){
		if(strcmp(msg_topic(&qob.msgs[i]), reply) == 0){
			cJSON *b = cJSON_ParseWithLength(qob.msgs[i].payload, qob.msgs[i].payload_len);
			n = cJSON_GetArraySize(cJSON_GetObjectItem(b, "inProgressJobs"))
				+ cJSON_GetArraySize(cJSON_GetObjectItem(b, "queuedJobs"));
			cJSON_Delete(b);
		}
	}
	return n;
}

/* describeJob's `job` (caller deletes the returned response; *job points into it). */
static cJSON *describe_job(const char *job_id, cJSON **job)
{
	cJSON *r = query("{\"command\":\"describeJob\",\"jobId\":\"%s\"}", job_id);
	*job = cJSON_GetObjectItem(data_of(r), "job");
	return r;
}

static char job_status_buf[32];
static const char *job_status(const char *job_id)
{
	cJSON *job;
	cJSON *r = describe_job(job_id, &job);
	snprintf(job_status_buf, sizeof(job_status_buf), "%s", str(job, "status") ? str(job, "status") : "?");
	cJSON_Delete(r);
	return job_status_buf;
}

/* jobProcessDetails.<key> of a job. */
static long long job_count(const char *job_id, const char *key)
{
	cJSON *job;
	cJSON *r = describe_job(job_id, &job);
	long long n = (long long)num(cJSON_GetObjectItem(job, "jobProcessDetails"), key);
	cJSON_Delete(r);
	return n;
}

/* ---- creating jobs ---- */

/* `targets`: a JSON array; `extra`: more fields of createJob ("" for none). */
static bool create(const char *job_id, const char *targets, const char *extra)
{
	cJSON *r = control("{\"command\":\"createJob\",\"jobId\":\"%s\",\"targets\":%s,\"document\":{\"op\":\"%s\"}%s%s}",
			job_id, targets, job_id, extra[0] ? "," : "", extra);
	bool ok = data_of(r) != NULL;
	cJSON_Delete(r);
	return ok;
}

/* ["<prefix>1", ..., "<prefix>n"] (caller frees). */
static char *things(const char *prefix, int n)
{
	size_t cap = (size_t)n * (strlen(prefix) + 16) + 8, len = 0;
	char *s = malloc(cap);
	len += (size_t)snprintf(s + len, cap - len, "[");
	for(int i = 1; i <= n; i++){
		len += (size_t)snprintf(s + len, cap - len, "%s\"%s%d\"", i > 1 ? "," : "", prefix, i);
	}
	snprintf(s + len, cap - len, "]");
	return s;
}

/* A job for things <prefix>1..n: named in its targets, or, past a job's limit of 100
 * targets, through a thing group "<job_id>-all" of them. */
static bool create_many(const char *job_id, const char *prefix, int n, const char *extra)
{
	if(n <= JOBS_TARGETS_MAX){
		char *t = things(prefix, n);
		bool ok = create(job_id, t, extra);
		free(t);
		return ok;
	}
	cJSON *r = control("{\"command\":\"createThingGroup\",\"thingGroupName\":\"%s-all\"}", job_id);
	bool ok = data_of(r) != NULL;
	cJSON_Delete(r);
	for(int i = 1; ok && i <= n; i++){
		r = control("{\"command\":\"addThingToThingGroup\",\"thingGroupName\":\"%s-all\",\"thingName\":\"%s%d\"}",
				job_id, prefix, i);
		ok = data_of(r) != NULL;
		cJSON_Delete(r);
	}
	char targets[128];
	snprintf(targets, sizeof(targets), "[\"arn:aws:iot:us-east-1:000000000000:thinggroup/%s-all\"]", job_id);
	return ok && create(job_id, targets, extra);
}

/* "YYYY-MM-DDTHH:MM" (or with ":SS" and "Z") of epoch ms, UTC. */
static const char *iso(int64_t ms, bool seconds, char *buf, size_t size)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, size, seconds ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%dT%H:%M", &tm);
	return buf;
}

/* How many of things <prefix>1..n have an execution a device can see. */
static int reached(const char *prefix, int n)
{
	int count = 0;
	char thing[64];
	for(int i = 1; i <= n; i++){
		snprintf(thing, sizeof(thing), "%s%d", prefix, i);
		count += pending(thing) > 0;
	}
	return count;
}

/* ======================================================================== */

static void test_tick_idle(void)
{
	setup();
	ASSERT_INT(tick(T0), 0);
	ASSERT_INT(tick(T0 + 365 * DAY), 0);
	clock_ms = T0;
	/* a job with no policy, started: nothing is ever due */
	CU_ASSERT_TRUE(create("plain", "[\"t1\"]", ""));
	dev("t1", "start-next", "");
	ASSERT_INT(tick(T0 + 1), 0);
	ASSERT_INT(tick(T0 + 30 * DAY), 0);
	ASSERT_STR(describe("t1", "plain").status, "IN_PROGRESS");
	/* a running timer that is not yet due */
	CU_ASSERT_TRUE(create("timed", "[\"t2\"]", "\"timeoutConfig\":{\"inProgressTimeoutInMinutes\":60}"));
	dev("t2", "start-next", "");
	for(int64_t at = clock_ms; at < T0 + 30 * DAY + HOUR; at += 7 * MIN) ASSERT_INT(tick(at), 0);
	ASSERT_STR(describe("t2", "timed").status, "IN_PROGRESS");
	teardown();
}

static void test_in_progress_timeout(void)
{
	setup();
	CU_ASSERT_TRUE(create("j", "[\"t1\"]", "\"timeoutConfig\":{\"inProgressTimeoutInMinutes\":10}"));
	/* QUEUED: the timer has not started */
	struct exec_view v = describe("t1", "j");
	ASSERT_INT(v.approx, -1);
	ASSERT_INT(tick(T0 + DAY), 0);
	ASSERT_STR(describe("t1", "j").status, "QUEUED");

	int64_t start = T0 + DAY + 1234;
	clock_ms = start;
	dev("t1", "start-next", "");
	cJSON *b = msg("t1", "start-next/accepted");
	v = view_of(cJSON_GetObjectItem(b, "execution"));
	cJSON_Delete(b);
	ASSERT_STR(v.status, "IN_PROGRESS");
	ASSERT_INT(v.version, 2);
	ASSERT_INT(v.approx, 600);

	/* not before the deadline */
	ASSERT_INT(tick(start + 10 * MIN - 1), 0);
	v = describe("t1", "j");
	ASSERT_STR(v.status, "IN_PROGRESS");
	ASSERT_INT(v.approx, 0); /* 1 ms left rounds to 0 */
	/* exactly at it */
	CU_ASSERT(tick(start + 10 * MIN) > 0);
	ASSERT_INT(count_suffix("/notify"), 1);
	ASSERT_INT(count_suffix("/notify-next"), 1);
	b = msg("t1", "notify");
	CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(b, "jobs")), 0);
	ASSERT_INT(num(b, "timestamp"), (start + 10 * MIN) / 1000);
	cJSON_Delete(b);
	b = msg("t1", "notify-next");
	CU_ASSERT_PTR_NOT_NULL(b);
	CU_ASSERT_PTR_NULL(cJSON_GetObjectItem(b, "execution"));
	cJSON_Delete(b);
	CU_ASSERT_PTR_NULL(ob.msgs[0].client_id); /* to subscribers, not to a client */

	v = describe("t1", "j");
	ASSERT_STR(v.status, "TIMED_OUT");
	ASSERT_INT(v.version, 3);
	ASSERT_INT(v.approx, -1);
	/* a late update from the device */
	clock_ms += MIN;
	dev("t1", "j/update", "{\"status\":\"SUCCEEDED\"}");
	b = msg("t1", "j/update/rejected");
	CU_ASSERT_PTR_NOT_NULL(b);
	ASSERT_STR(str(b, "code"), "InvalidStateTransition");
	ASSERT_STR(str(cJSON_GetObjectItem(b, "executionState"), "status"), "TIMED_OUT");
	ASSERT_INT(num(cJSON_GetObjectItem(b, "executionState"), "versionNumber"), 3);
	cJSON_Delete(b);
	dev("t1", "j/update", "{\"status\":\"IN_PROGRESS\"}");
	CU_ASSERT(find_topic("t1", "j/update/rejected") >= 0);
	/* fired once: nothing more is due, the job is complete */
	ASSERT_INT(tick(start + 100 * DAY), 0);
	ASSERT_STR(job_status("j"), "COMPLETED");
	ASSERT_INT(job_count("j", "numberOfTimedOutThings"), 1);
	teardown();
}

/* The in-progress timer starts on an update to IN_PROGRESS too, and later
 * IN_PROGRESS updates do not move it. A tick long after the deadline fires it. */
static void test_in_progress_timer_fixed(void)
{
	setup();
	CU_ASSERT_TRUE(create("j", "[\"t1\"]", "\"timeoutConfig\":{\"inProgressTimeoutInMinutes\":30}"));
	clock_ms = T0 + 5 * SEC;
	dev("t1", "j/update", "{\"status\":\"IN_PROGRESS\"}");
	CU_ASSERT(find_topic("t1", "j/update/accepted") >= 0);
	ASSERT_INT(describe("t1", "j").approx, 1800);
	for(int i = 1; i <= 5; i++){
		clock_ms = T0 + 5 * SEC + i * 5 * MIN;
		dev("t1", "j/update", "{\"status\":\"IN_PROGRESS\",\"statusDetails\":{\"p\":\"x\"}}");
		CU_ASSERT(find_topic("t1", "j/update/accepted") >= 0);
		ASSERT_INT(describe("t1", "j").approx, 1800 - i * 300);
	}
	ASSERT_INT(tick(T0 + 5 * SEC + 30 * MIN - 1), 0);
	CU_ASSERT(tick(T0 + 3 * DAY) > 0);
	struct exec_view v = describe("t1", "j");
	ASSERT_STR(v.status, "TIMED_OUT");
	ASSERT_INT(v.version, 8); /* 1, +1 start, +5 updates, +1 timeout */
	teardown();
}

static void test_step_timer(void)
{
	setup();
	CU_ASSERT_TRUE(create("j", "[\"t1\"]", ""));
	dev("t1", "start-next", "{\"stepTimeoutInMinutes\":5}");
	cJSON *b = msg("t1", "start-next/accepted");
	ASSERT_INT(num(cJSON_GetObjectItem(b, "execution"), "approximateSecondsBeforeTimedOut"), 300);
	cJSON_Delete(b);

	/* replaced by a longer one at minute 4: due at minute 24 */
	clock_ms = T0 + 4 * MIN;
	dev("t1", "j/update", "{\"status\":\"IN_PROGRESS\",\"stepTimeoutInMinutes\":20}");
	ASSERT_INT(describe("t1", "j").approx, 1200);
	ASSERT_INT(tick(T0 + 5 * MIN), 0);
	ASSERT_INT(tick(T0 + 10 * MIN), 0);
	/* an update without stepTimeoutInMinutes leaves it running */
	dev("t1", "j/update", "{\"status\":\"IN_PROGRESS\"}");
	ASSERT_INT(describe("t1", "j").approx, 840);
	/* replaced by a shorter one: due at minute 12 */
	clock_ms = T0 + 11 * MIN;
	dev("t1", "j/update", "{\"status\":\"IN_PROGRESS\",\"stepTimeoutInMinutes\":\"1\"}");
	ASSERT_INT(describe("t1", "j").approx, 60);
	/* -1 clears it */
	clock_ms = T0 + 11 * MIN + 30 * SEC;
	dev("t1", "j/update", "{\"status\":\"IN_PROGRESS\",\"stepTimeoutInMinutes\":-1}");
	CU_ASSERT(find_topic("t1", "j/update/accepted") >= 0);
	ASSERT_INT(describe("t1", "j").approx, -1);
	ASSERT_INT(tick(T0 + 12 * MIN), 0);
	ASSERT_INT(tick(T0 + 24 * MIN), 0);
	ASSERT_INT(tick(T0 + 10 * DAY), 0);
	struct exec_view v = describe("t1", "j");
	ASSERT_STR(v.status, "IN_PROGRESS");
	int64_t version = v.version;

	/* a new one, 3 minutes from now: fires exactly then */
	int64_t at = T0 + 10 * DAY;
	clock_ms = at;
	dev("t1", "j/update", "{\"status\":\"IN_PROGRESS\",\"stepTimeoutInMinutes\":3}");
	ASSERT_INT(tick(at + 3 * MIN - 1), 0);
	CU_ASSERT(tick(at + 3 * MIN) > 0);
	CU_ASSERT(notified("t1"));
	v = describe("t1", "j");
	ASSERT_STR(v.status, "TIMED_OUT");
	ASSERT_INT(v.version, version + 2);
	teardown();
}

/* start-next on an execution that is already IN_PROGRESS changes no timer. */
static void test_start_next_keeps_running_timer(void)
{
	setup();
	CU_ASSERT_TRUE(create("j", "[\"t1\"]", ""));
	dev("t1", "start-next", "{\"stepTimeoutInMinutes\":5}");
	clock_ms = T0 + 2 * MIN;
	dev("t1", "start-next", "{\"stepTimeoutInMinutes\":60}");
	cJSON *b = msg("t1", "start-next/accepted");
	struct exec_view v = view_of(cJSON_GetObjectItem(b, "execution"));
	cJSON_Delete(b);
	ASSERT_INT(v.version, 2);
	ASSERT_INT(v.approx, 180);
	CU_ASSERT(tick(T0 + 5 * MIN) > 0);
	ASSERT_STR(describe("t1", "j").status, "TIMED_OUT");
	teardown();
}

static void test_step_capped_by_in_progress(void)
{
	setup();
	const char *timeout = "\"timeoutConfig\":{\"inProgressTimeoutInMinutes\":10}";
	/* a step longer than the in-progress timer ends with it */
	CU_ASSERT_TRUE(create("a", "[\"t1\"]", timeout));
	dev("t1", "start-next", "{\"stepTimeoutInMinutes\":60}");
	cJSON *b = msg("t1", "start-next/accepted");
	ASSERT_INT(num(cJSON_GetObjectItem(b, "execution"), "approximateSecondsBeforeTimedOut"), 600);
	cJSON_Delete(b);
	ASSERT_INT(tick(T0 + 10 * MIN - 1), 0);
	CU_ASSERT(tick(T0 + 10 * MIN) > 0);
	ASSERT_STR(describe("t1", "a").status, "TIMED_OUT");

	/* a shorter step fires first; a step set late is cut at the in-progress deadline */
	clock_ms = T0 + HOUR;
	CU_ASSERT_TRUE(create("b", "[\"t2\"]", timeout));
	dev("t2", "start-next", "{\"stepTimeoutInMinutes\":2}");
	ASSERT_INT(describe("t2", "b").approx, 120);
	clock_ms = T0 + HOUR + MIN;
	dev("t2", "b/update", "{\"status\":\"IN_PROGRESS\",\"stepTimeoutInMinutes\":8}");
	ASSERT_INT(describe("t2", "b").approx, 480); /* due at minute 9 */
	clock_ms = T0 + HOUR + 8 * MIN;
	dev("t2", "b/update", "{\"status\":\"IN_PROGRESS\",\"stepTimeoutInMinutes\":5}");
	ASSERT_INT(describe("t2", "b").approx, 120); /* capped at minute 10 */
	/* -1 clears the step; the in-progress timer still runs */
	clock_ms = T0 + HOUR + 9 * MIN - 1;
	dev("t2", "b/update", "{\"status\":\"IN_PROGRESS\",\"stepTimeoutInMinutes\":-1}");
	ASSERT_INT(describe("t2", "b").approx, 60);
	ASSERT_INT(tick(T0 + HOUR + 9 * MIN), 0);
	ASSERT_INT(tick(T0 + HOUR + 10 * MIN - 1), 0);
	CU_ASSERT(tick(T0 + HOUR + 10 * MIN) > 0);
	ASSERT_STR(describe("t2", "b").status, "TIMED_OUT");

	/* the step timer fires before the in-progress one */
	clock_ms = T0 + 2 * HOUR;
	CU_ASSERT_TRUE(create("c", "[\"t3\"]", timeout));
	dev("t3", "start-next", "{\"stepTimeoutInMinutes\":4}");
	ASSERT_INT(tick(T0 + 2 * HOUR + 4 * MIN - 1), 0);
	CU_ASSERT(tick(T0 + 2 * HOUR + 4 * MIN) > 0);
	ASSERT_STR(describe("t3", "c").status, "TIMED_OUT");
	teardown();
}

/* approximateSecondsBeforeTimedOut in every reply that carries an execution. */
static void test_time_left_everywhere(void)
{
	setup();
	CU_ASSERT_TRUE(create("j", "[\"t1\"]", "\"timeoutConfig\":{\"inProgressTimeoutInMinutes\":90}"));
	cJSON *r = query("{\"command\":\"describeJobExecution\",\"jobId\":\"j\",\"thingName\":\"t1\"}");
	CU_ASSERT_PTR_NULL(cJSON_GetObjectItem(cJSON_GetObjectItem(data_of(r), "execution"), "approximateSecondsBeforeTimedOut"));
	cJSON_Delete(r);
	dev("t1", "start-next", "{\"stepTimeoutInMinutes\":45}");
	clock_ms = T0 + 10 * MIN + 400; /* 35 min less 0.4 s: rounds to 2100 */
	ASSERT_INT(describe("t1", "j").approx, 2100);
	dev("t1", "$next/get", "");
	cJSON *b = msg("t1", "$next/get/accepted");
	ASSERT_INT(num(cJSON_GetObjectItem(b, "execution"), "approximateSecondsBeforeTimedOut"), 2100);
	cJSON_Delete(b);
	dev("t1", "start-next", "");
	b = msg("t1", "start-next/accepted");
	ASSERT_INT(num(cJSON_GetObjectItem(b, "execution"), "approximateSecondsBeforeTimedOut"), 2100);
	cJSON_Delete(b);
	r = query("{\"command\":\"describeJobExecution\",\"jobId\":\"j\",\"thingName\":\"t1\"}");
	ASSERT_INT(num(cJSON_GetObjectItem(data_of(r), "execution"), "approximateSecondsBeforeTimedOut"), 2100);
	cJSON_Delete(r);
	/* the step timer gone, the in-progress one is what is left */
	dev("t1", "j/update", "{\"status\":\"IN_PROGRESS\",\"stepTimeoutInMinutes\":-1}");
	ASSERT_INT(describe("t1", "j").approx, 80 * 60);
	/* a terminal state: none */
	dev("t1", "j/update", "{\"status\":\"SUCCEEDED\"}");
	ASSERT_INT(describe("t1", "j").approx, -1);
	r = query("{\"command\":\"describeJobExecution\",\"jobId\":\"j\",\"thingName\":\"t1\"}");
	CU_ASSERT_PTR_NULL(cJSON_GetObjectItem(cJSON_GetObjectItem(data_of(r), "execution"), "approximateSecondsBeforeTimedOut"));
	cJSON_Delete(r);
	teardown();
}

/* SUCCEEDED, FAILED, REJECTED and a forced cancel all stop the timers. */
static void test_terminal_stops_timers(void)
{
	static const char *const ends[] = { "SUCCEEDED", "FAILED", "REJECTED", NULL };
	setup();
	CU_ASSERT_TRUE(create("j", "[\"t0\",\"t1\",\"t2\",\"t3\"]", "\"timeoutConfig\":{\"inProgressTimeoutInMinutes\":10}"));
	char thing[8], payload[64];
	for(int i = 0; i < 4; i++){
		snprintf(thing, sizeof(thing), "t%d", i);
		dev(thing, "start-next", "{\"stepTimeoutInMinutes\":3}");
	}
	clock_ms = T0 + MIN;
	for(int i = 0; ends[i]; i++){
		snprintf(thing, sizeof(thing), "t%d", i);
		snprintf(payload, sizeof(payload), "{\"status\":\"%s\"}", ends[i]);
		dev(thing, "j/update", payload);
		CU_ASSERT(find_topic(thing, "j/update/accepted") >= 0);
	}
	cJSON *r = control("{\"command\":\"cancelJobExecution\",\"jobId\":\"j\",\"thingName\":\"t3\",\"force\":true}");
	CU_ASSERT_PTR_NOT_NULL(data_of(r));
	cJSON_Delete(r);
	ASSERT_INT(tick(T0 + 3 * MIN), 0);
	ASSERT_INT(tick(T0 + 10 * MIN), 0);
	ASSERT_INT(tick(T0 + DAY), 0);
	for(int i = 0; ends[i]; i++){
		snprintf(thing, sizeof(thing), "t%d", i);
		struct exec_view v = describe(thing, "j");
		ASSERT_STR(v.status, ends[i]);
		ASSERT_INT(v.version, 3);
	}
	ASSERT_STR(describe("t3", "j").status, "CANCELED");
	ASSERT_INT(job_count("j", "numberOfTimedOutThings"), 0);
	teardown();
}

/* A time-out moves $next on to the thing's next job, like any terminal move. */
static void test_timeout_moves_next(void)
{
	setup();
	CU_ASSERT_TRUE(create("a", "[\"t1\"]", "\"timeoutConfig\":{\"inProgressTimeoutInMinutes\":1}"));
	CU_ASSERT_TRUE(create("b", "[\"t1\"]", ""));
	dev("t1", "start-next", "");
	CU_ASSERT(tick(T0 + MIN) > 0);
	ASSERT_INT(count_suffix("/notify"), 1);
	ASSERT_INT(count_suffix("/notify-next"), 1);
	cJSON *n = msg("t1", "notify");
	cJSON *queued = cJSON_GetObjectItem(cJSON_GetObjectItem(n, "jobs"), "QUEUED");
	ASSERT_INT(cJSON_GetArraySize(queued), 1);
	ASSERT_STR(str(cJSON_GetArrayItem(queued, 0), "jobId"), "b");
	CU_ASSERT_PTR_NULL(cJSON_GetObjectItem(cJSON_GetObjectItem(n, "jobs"), "IN_PROGRESS"));
	cJSON_Delete(n);
	n = msg("t1", "notify-next");
	ASSERT_STR(str(cJSON_GetObjectItem(n, "execution"), "jobId"), "b");
	ASSERT_STR(str(cJSON_GetObjectItem(n, "execution"), "status"), "QUEUED");
	cJSON_Delete(n);
	teardown();
}

/* ---- retries ---- */

/* The thing's executions of a job from listJobExecutionsForThing, as
 * "<executionNumber>:<status>:<retryAttempt>" joined by spaces. */
static void history(const char *thing, const char *job_id, char *out, size_t size)
{
	cJSON *r = query("{\"command\":\"listJobExecutionsForThing\",\"thingName\":\"%s\"}", thing);
	size_t len = 0;
	out[0] = '\0';
	const cJSON *item;
	cJSON_ArrayForEach(item, cJSON_GetObjectItem(data_of(r), "executionSummaries")){
		if(strcmp(str(item, "jobId") ? str(item, "jobId") : "", job_id) != 0) continue;
		const cJSON *s = cJSON_GetObjectItem(item, "jobExecutionSummary");
		len += (size_t)snprintf(out + len, size - len, "%s%d:%s:%d", len ? " " : "",
				(int)num(s, "executionNumber"), str(s, "status") ? str(s, "status") : "?",
				(int)num(s, "retryAttempt"));
	}
	cJSON_Delete(r);
}

static void test_retry_failed(void)
{
	setup();
	CU_ASSERT_TRUE(create("j", "[\"t1\",\"t2\"]",
			"\"jobExecutionsRetryConfig\":{\"criteriaList\":[{\"failureType\":\"FAILED\",\"numberOfRetries\":2}]}"));
	char h[512];
	for(int attempt = 0; attempt < 3; attempt++){
		dev("t1", "start-next", "");
		cJSON *b = msg("t1", "start-next/accepted");
		ASSERT_INT(num(cJSON_GetObjectItem(b, "execution"), "executionNumber"), attempt + 1);
		ASSERT_INT(num(cJSON_GetObjectItem(b, "execution"), "versionNumber"), 2);
		cJSON_Delete(b);
		dev("t1", "j/update", "{\"status\":\"FAILED\"}");
		CU_ASSERT(find_topic("t1", "j/update/accepted") >= 0);
		cJSON *next = msg("t1", "notify-next");
		CU_ASSERT_PTR_NOT_NULL(next);
		/* (the last of them: the failure and the retry may each announce a change) */
		CU_ASSERT(count_topic("t1", "notify") >= 1);
		cJSON *n = msg("t1", "notify");
		ASSERT_INT(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(n, "jobs"), "QUEUED")), attempt < 2 ? 1 : 0);
		cJSON_Delete(n);
		if(attempt < 2){
			/* a new QUEUED execution, announced */
			ASSERT_INT(num(cJSON_GetObjectItem(next, "execution"), "executionNumber"), attempt + 2);
			ASSERT_STR(str(cJSON_GetObjectItem(next, "execution"), "status"), "QUEUED");
			ASSERT_INT(num(cJSON_GetObjectItem(next, "execution"), "versionNumber"), 1);
			ASSERT_INT(pending("t1"), 1);
			struct exec_view v = describe("t1", "j");
			ASSERT_STR(v.status, "QUEUED");
			ASSERT_INT(v.number, attempt + 2);
		}else{
			CU_ASSERT_PTR_NULL(cJSON_GetObjectItem(next, "execution"));
			ASSERT_INT(pending("t1"), 0);
		}
		cJSON_Delete(next);
	}
	history("t1", "j", h, sizeof(h));
	ASSERT_STR(h, "1:FAILED:0 2:FAILED:1 3:FAILED:2");
	/* the old executions are history, described by number */
	send_device(&qob, "t1", "j/get", "{\"executionNumber\":1}");
	CU_ASSERT(qob.count == 1 && strstr(qob.msgs[0].payload, "\"FAILED\"") != NULL);
	/* listJobExecutionsForJob shows them too */
	cJSON *r = query("{\"command\":\"listJobExecutionsForJob\",\"jobId\":\"j\"}");
	cJSON *list = cJSON_GetObjectItem(data_of(r), "executionSummaries");
	ASSERT_INT(cJSON_GetArraySize(list), 4);
	ASSERT_INT(num(cJSON_GetObjectItem(cJSON_GetArrayItem(list, 2), "jobExecutionSummary"), "retryAttempt"), 2);
	ASSERT_INT(num(cJSON_GetObjectItem(cJSON_GetArrayItem(list, 2), "jobExecutionSummary"), "executionNumber"), 3);
	cJSON_Delete(r);

	/* REJECTED is not retried; SUCCEEDED neither. The job completes. */
	ASSERT_STR(job_status("j"), "IN_PROGRESS");
	dev("t2", "j/update", "{\"status\":\"REJECTED\"}");
	ASSERT_INT(pending("t2"), 0);
	history("t2", "j", h, sizeof(h));
	ASSERT_STR(h, "1:REJECTED:0");
	ASSERT_STR(job_status("j"), "COMPLETED");
	teardown();
}

static void test_retry_timed_out(void)
{
	setup();
	char h[512];
	/* TIMED_OUT only: a time-out is retried, a failure is not */
	CU_ASSERT_TRUE(create("t", "[\"t1\",\"t2\"]",
			"\"timeoutConfig\":{\"inProgressTimeoutInMinutes\":5},"
			"\"jobExecutionsRetryConfig\":{\"criteriaList\":[{\"failureType\":\"TIMED_OUT\",\"numberOfRetries\":1}]}"));
	dev("t1", "start-next", "");
	dev("t2", "t/update", "{\"status\":\"FAILED\"}");
	ASSERT_INT(pending("t2"), 0);
	CU_ASSERT(tick(T0 + 5 * MIN) > 0);
	cJSON *next = msg("t1", "notify-next");
	ASSERT_INT(num(cJSON_GetObjectItem(next, "execution"), "executionNumber"), 2);
	ASSERT_STR(str(cJSON_GetObjectItem(next, "execution"), "status"), "QUEUED");
	cJSON_Delete(next);
	cJSON *n = msg("t1", "notify");
	ASSERT_INT(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(n, "jobs"), "QUEUED")), 1);
	cJSON_Delete(n);
	/* the retry times out too: no more */
	clock_ms = T0 + HOUR;
	dev("t1", "start-next", "");
	CU_ASSERT(tick(T0 + HOUR + 5 * MIN) > 0);
	history("t1", "t", h, sizeof(h));
	ASSERT_STR(h, "1:TIMED_OUT:0 2:TIMED_OUT:1");
	ASSERT_INT(pending("t1"), 0);
	ASSERT_STR(job_status("t"), "COMPLETED");

	/* ALL covers both; numberOfRetries 0 gives none */
	clock_ms = T0 + DAY;
	CU_ASSERT_TRUE(create("a", "[\"t3\",\"t4\"]",
			"\"timeoutConfig\":{\"inProgressTimeoutInMinutes\":5},"
			"\"jobExecutionsRetryConfig\":{\"criteriaList\":[{\"failureType\":\"ALL\",\"numberOfRetries\":1}]}"));
	dev("t3", "a/update", "{\"status\":\"FAILED\"}");
	dev("t4", "start-next", "");
	CU_ASSERT(tick(T0 + DAY + 5 * MIN) > 0);
	history("t3", "a", h, sizeof(h));
	ASSERT_STR(h, "1:FAILED:0 2:QUEUED:1");
	history("t4", "a", h, sizeof(h));
	ASSERT_STR(h, "1:TIMED_OUT:0 2:QUEUED:1");

	CU_ASSERT_TRUE(create("z", "[\"t5\"]",
			"\"jobExecutionsRetryConfig\":{\"criteriaList\":[{\"failureType\":\"FAILED\",\"numberOfRetries\":0},"
			"{\"failureType\":\"TIMED_OUT\",\"numberOfRetries\":3}]}"));
	dev("t5", "z/update", "{\"status\":\"FAILED\"}");
	history("t5", "z", h, sizeof(h));
	ASSERT_STR(h, "1:FAILED:0");
	teardown();
}

/* Two criteria of 10 each: still at most 10 retries of an execution in all. */
static void test_retry_total_cap(void)
{
	setup();
	CU_ASSERT_TRUE(create("j", "[\"t1\"]", "\"timeoutConfig\":{\"inProgressTimeoutInMinutes\":1},"
			"\"jobExecutionsRetryConfig\":{\"criteriaList\":[{\"failureType\":\"FAILED\",\"numberOfRetries\":10},"
			"{\"failureType\":\"TIMED_OUT\",\"numberOfRetries\":10}]}"));
	int executions = 0;
	for(int i = 0; i < 15 && pending("t1") == 1; i++){
		executions++;
		clock_ms = T0 + i * HOUR;
		dev("t1", "start-next", "");
		if(i % 2) dev("t1", "j/update", "{\"status\":\"FAILED\"}");
		else tick(T0 + i * HOUR + MIN);
	}
	ASSERT_INT(executions, 11);
	struct exec_view v = describe("t1", "j");
	ASSERT_INT(v.number, 11);
	ASSERT_STR(v.status, "TIMED_OUT"); /* the 11th (i = 10) timed out */
	ASSERT_STR(job_status("j"), "COMPLETED");
	teardown();
}

/* ---- rollouts ---- */

/* The first of things <prefix>1..n with an execution a device can see. */
static bool first_pending(const char *prefix, int n, char *out, size_t size)
{
	for(int i = 1; i <= n; i++){
		snprintf(out, size, "%s%d", prefix, i);
		if(pending(out) > 0) return true;
	}
	return false;
}

static void finish(const char *thing, const char *job, const char *status);

/* Things <prefix>1..n that got a notify in `ob`, as a bit set. */
static unsigned long long notified_set(const char *prefix, int n)
{
	unsigned long long set = 0;
	char thing[64];
	for(int i = 1; i <= n && i <= 64; i++){
		snprintf(thing, sizeof(thing), "%s%d", prefix, i);
		if(notified(thing)) set |= 1ull << (i - 1);
	}
	return set;
}

static void test_rollout_constant(void)
{
	setup();
	CU_ASSERT_TRUE(create_many("r", "d", 10, "\"jobExecutionsRolloutConfig\":{\"maximumPerMinute\":4}"));
	ASSERT_INT(count_suffix("/notify"), 0); /* nothing at creation */
	ASSERT_INT(reached("d", 10), 0);
	ASSERT_STR(job_status("r"), "IN_PROGRESS");

	unsigned long long seen = 0;
	int expected[] = { 4, 4, 2 };
	for(int m = 0; m < 3; m++){
		int64_t start = T0 + m * MIN;
		tick(start);
		ASSERT_INT(count_suffix("/notify"), expected[m]);
		unsigned long long now = notified_set("d", 10);
		CU_ASSERT_EQUAL(now & seen, 0); /* each thing once */
		seen |= now;
		/* no more within the minute */
		ASSERT_INT(tick(start), 0);
		ASSERT_INT(tick(start + 30 * SEC), 0);
		ASSERT_INT(tick(start + MIN - 1), 0);
		ASSERT_INT(reached("d", 10), m == 2 ? 6 : 4); /* the first four finish below */
		if(m == 0){
			ASSERT_INT(job_count("r", "numberOfQueuedThings"), 4);
			/* the first four finish: the job waits for the rest */
			for(int i = 1; i <= 10; i++){
				if(!(seen & (1ull << (i - 1)))) continue;
				char thing[16];
				snprintf(thing, sizeof(thing), "d%d", i);
				dev(thing, "r/update", "{\"status\":\"SUCCEEDED\"}");
			}
			ASSERT_STR(job_status("r"), "IN_PROGRESS");
		}
	}
	CU_ASSERT_EQUAL(seen, (1ull << 10) - 1);
	ASSERT_INT(tick(T0 + DAY), 0);

	/* a late tick does not catch up: still at most N in a minute */
	clock_ms = T0 + 2 * DAY;
	CU_ASSERT_TRUE(create_many("s", "e", 9, "\"jobExecutionsRolloutConfig\":{\"maximumPerMinute\":3}"));
	tick(T0 + 2 * DAY);
	ASSERT_INT(count_suffix("/notify"), 3);
	tick(T0 + 9 * DAY);
	ASSERT_INT(count_suffix("/notify"), 3);
	ASSERT_INT(tick(T0 + 9 * DAY + MIN - 1), 0);
	tick(T0 + 9 * DAY + MIN);
	ASSERT_INT(count_suffix("/notify"), 3);
	ASSERT_INT(reached("e", 9), 9);
	teardown();
}

/* Per-minute counts of a rollout over `minutes` minutes from `start`. */
static void rollout_counts(int64_t start, int minutes, int *counts)
{
	for(int m = 0; m < minutes; m++){
		tick(start + m * MIN);
		counts[m] = count_suffix("/notify");
		/* within the minute, nothing more */
		if(tick(start + m * MIN + MIN - 1) != 0) counts[m] += 1000;
	}
}

static void test_rollout_exponential_notified(void)
{
	setup();
	/* base 2, doubled once 2 more things were notified, capped at 5 */
	CU_ASSERT_TRUE(create_many("x", "d", 20,
			"\"jobExecutionsRolloutConfig\":{\"maximumPerMinute\":5,\"exponentialRate\":{\"baseRatePerMinute\":2,"
			"\"incrementFactor\":2,\"rateIncreaseCriteria\":{\"numberOfNotifiedThings\":2}}}"));
	int counts[6];
	rollout_counts(T0, 6, counts);
	ASSERT_INT(counts[0], 2);
	ASSERT_INT(counts[1], 4);
	ASSERT_INT(counts[2], 5);
	ASSERT_INT(counts[3], 5);
	ASSERT_INT(counts[4], 4);
	ASSERT_INT(counts[5], 0);
	ASSERT_INT(reached("d", 20), 20);

	/* factor 3, step 4 notified, no maximum: 1, 1, 1, 1, 3 (4 notified), 3, 9 ... */
	clock_ms = T0 + DAY;
	CU_ASSERT_TRUE(create_many("y", "e", 30,
			"\"jobExecutionsRolloutConfig\":{\"exponentialRate\":{\"baseRatePerMinute\":1,"
			"\"incrementFactor\":3,\"rateIncreaseCriteria\":{\"numberOfNotifiedThings\":4}}}"));
	int c2[8];
	rollout_counts(T0 + DAY, 8, c2);
	int want[8] = { 1, 1, 1, 1, 3, 3, 9, 11 };
	for(int i = 0; i < 8; i++) ASSERT_INT(c2[i], want[i]);
	teardown();
}

static void test_rollout_exponential_succeeded(void)
{
	setup();
	CU_ASSERT_TRUE(create_many("x", "d", 12,
			"\"jobExecutionsRolloutConfig\":{\"exponentialRate\":{\"baseRatePerMinute\":1,"
			"\"incrementFactor\":3,\"rateIncreaseCriteria\":{\"numberOfSucceededThings\":2}}}"));
	/* nobody succeeds: one per minute */
	for(int m = 0; m < 3; m++){
		tick(T0 + m * MIN);
		ASSERT_INT(count_suffix("/notify"), 1);
	}
	/* one succeeds, one fails (it does not count) */
	char thing[16];
	clock_ms = T0 + 2 * MIN + 10 * SEC;
	CU_ASSERT_TRUE(first_pending("d", 12, thing, sizeof(thing)));
	finish(thing, "x", "SUCCEEDED");
	CU_ASSERT_TRUE(first_pending("d", 12, thing, sizeof(thing)));
	finish(thing, "x", "FAILED");
	tick(T0 + 3 * MIN);
	ASSERT_INT(count_suffix("/notify"), 1);
	/* a second success: the rate triples at the next minute */
	clock_ms = T0 + 3 * MIN + 10 * SEC;
	CU_ASSERT_TRUE(first_pending("d", 12, thing, sizeof(thing)));
	finish(thing, "x", "SUCCEEDED");
	tick(T0 + 4 * MIN);
	ASSERT_INT(count_suffix("/notify"), 3);
	/* no new successes: the rate stays */
	tick(T0 + 5 * MIN);
	ASSERT_INT(count_suffix("/notify"), 3);
	ASSERT_INT(reached("d", 12), 10 - 3); /* 10 queued, 3 of them finished */
	ASSERT_INT(job_count("x", "numberOfSucceededThings"), 2);
	teardown();
}

/* A continuous job's rollout takes in things that join its group later; a thing that
 * leaves takes its timer with it (REMOVED). */
static void test_rollout_continuous_group(void)
{
	setup();
	cJSON *r = control("{\"command\":\"createThingGroup\",\"thingGroupName\":\"g\"}");
	cJSON_Delete(r);
	for(int i = 1; i <= 3; i++){
		r = control("{\"command\":\"addThingToThingGroup\",\"thingGroupName\":\"g\",\"thingName\":\"d%d\"}", i);
		CU_ASSERT_PTR_NOT_NULL(data_of(r));
		cJSON_Delete(r);
	}
	CU_ASSERT_TRUE(create("c", "[\"arn:aws:iot:us-east-1:000000000000:thinggroup/g\"]",
			"\"targetSelection\":\"CONTINUOUS\",\"timeoutConfig\":{\"inProgressTimeoutInMinutes\":30},"
			"\"jobExecutionsRolloutConfig\":{\"maximumPerMinute\":2}"));
	ASSERT_INT(count_suffix("/notify"), 0);
	tick(T0);
	ASSERT_INT(count_suffix("/notify"), 2);
	tick(T0 + MIN);
	ASSERT_INT(count_suffix("/notify"), 1);
	ASSERT_INT(tick(T0 + 2 * MIN), 0);
	/* three more join at minute 5: two then, one a minute later */
	clock_ms = T0 + 5 * MIN;
	for(int i = 4; i <= 6; i++){
		r = control("{\"command\":\"addThingToThingGroup\",\"thingGroupName\":\"g\",\"thingName\":\"d%d\"}", i);
		ASSERT_INT(count_suffix("/notify"), 0); /* not at once */
		cJSON_Delete(r);
	}
	tick(T0 + 5 * MIN);
	ASSERT_INT(count_suffix("/notify"), 2);
	ASSERT_INT(tick(T0 + 6 * MIN - 1), 0);
	tick(T0 + 6 * MIN);
	ASSERT_INT(count_suffix("/notify"), 1);
	ASSERT_INT(reached("d", 6), 6);

	/* d1 starts, then leaves the group: REMOVED, and its timer never fires */
	dev("d1", "start-next", "{\"stepTimeoutInMinutes\":5}");
	r = control("{\"command\":\"removeThingFromThingGroup\",\"thingGroupName\":\"g\",\"thingName\":\"d1\"}");
	CU_ASSERT(notified("d1"));
	cJSON_Delete(r);
	ASSERT_STR(describe("d1", "c").status, "REMOVED");
	/* d2 starts and its execution is deleted: no timer left behind either */
	dev("d2", "start-next", "");
	r = control("{\"command\":\"deleteJobExecution\",\"jobId\":\"c\",\"thingName\":\"d2\",\"executionNumber\":1,\"force\":true}");
	CU_ASSERT_PTR_NOT_NULL(data_of(r));
	cJSON_Delete(r);
	/* d3 starts and times out */
	dev("d3", "start-next", "");
	ASSERT_INT(tick(T0 + 6 * MIN + 30 * MIN - 1), 0);
	tick(T0 + 6 * MIN + 30 * MIN);
	ASSERT_INT(count_suffix("/notify"), 1);
	CU_ASSERT(notified("d3"));
	ASSERT_STR(describe("d3", "c").status, "TIMED_OUT");
	ASSERT_STR(describe("d1", "c").status, "REMOVED");
	ASSERT_INT(tick(T0 + DAY), 0);
	teardown();
}

/* ---- aborts ---- */

static const char *abort_cfg(char *buf, size_t size, const char *type, double threshold, int min_things)
{
	snprintf(buf, size, "\"abortConfig\":{\"criteriaList\":[{\"failureType\":\"%s\",\"action\":\"CANCEL\","
			"\"thresholdPercentage\":%g,\"minNumberOfExecutedThings\":%d}]}", type, threshold, min_things);
	return buf;
}

static void finish(const char *thing, const char *job, const char *status)
{
	char levels[128], payload[64];
	snprintf(levels, sizeof(levels), "%s/update", job);
	snprintf(payload, sizeof(payload), "{\"status\":\"%s\"}", status);
	dev(thing, levels, payload);
	snprintf(levels, sizeof(levels), "%s/update/accepted", job);
	CU_ASSERT(find_topic(thing, levels) >= 0);
}

static void test_abort_threshold(void)
{
	setup();
	char cfg[256];
	CU_ASSERT_TRUE(create_many("x", "d", 8, abort_cfg(cfg, sizeof(cfg), "FAILED", 50, 4)));
	dev("d6", "start-next", "");
	finish("d1", "x", "SUCCEEDED");
	finish("d2", "x", "SUCCEEDED");
	finish("d3", "x", "FAILED"); /* 1 of 3: fewer than 4 executed */
	ASSERT_STR(job_status("x"), "IN_PROGRESS");
	finish("d4", "x", "FAILED"); /* 2 of 4 = 50%: reached */
	ASSERT_STR(job_status("x"), "CANCELED");
	/* the QUEUED ones canceled and told so; the IN_PROGRESS one runs on */
	ASSERT_INT(count_suffix("/notify"), 1 + 3);
	CU_ASSERT(notified("d5") && notified("d7") && notified("d8"));
	CU_ASSERT(!notified("d6"));
	cJSON *n = msg("d5", "notify-next");
	CU_ASSERT_PTR_NOT_NULL(n);
	CU_ASSERT_PTR_NULL(cJSON_GetObjectItem(n, "execution"));
	cJSON_Delete(n);
	ASSERT_STR(describe("d5", "x").status, "CANCELED");
	ASSERT_STR(describe("d6", "x").status, "IN_PROGRESS");
	cJSON *job;
	cJSON *r = describe_job("x", &job);
	ASSERT_STR(str(job, "reasonCode"), "ABORTED");
	CU_ASSERT(cJSON_IsFalse(cJSON_GetObjectItem(job, "forceCanceled")));
	ASSERT_INT(num(cJSON_GetObjectItem(job, "jobProcessDetails"), "numberOfCanceledThings"), 3);
	cJSON_Delete(r);
	dev("d7", "x/update", "{\"status\":\"IN_PROGRESS\"}");
	n = msg("d7", "x/update/rejected");
	ASSERT_STR(str(n, "code"), "InvalidStateTransition");
	ASSERT_STR(str(cJSON_GetObjectItem(n, "executionState"), "status"), "CANCELED");
	cJSON_Delete(n);

	/* below the threshold, no abort: 1/4, 2/5 under 50%; 3/6 reaches it */
	clock_ms = T0 + HOUR;
	CU_ASSERT_TRUE(create_many("y", "e", 8, abort_cfg(cfg, sizeof(cfg), "FAILED", 50, 4)));
	finish("e1", "y", "SUCCEEDED");
	finish("e2", "y", "SUCCEEDED");
	finish("e3", "y", "SUCCEEDED");
	finish("e4", "y", "FAILED");
	finish("e5", "y", "FAILED");
	ASSERT_STR(job_status("y"), "IN_PROGRESS");
	ASSERT_INT(pending("e8"), 1);
	finish("e6", "y", "FAILED");
	ASSERT_STR(job_status("y"), "CANCELED");
	ASSERT_INT(pending("e8"), 0);
	teardown();
}

static void test_abort_min_executed(void)
{
	setup();
	char cfg[256];
	CU_ASSERT_TRUE(create_many("x", "d", 6, abort_cfg(cfg, sizeof(cfg), "FAILED", 10, 5)));
	for(int i = 1; i <= 4; i++){
		char thing[8];
		snprintf(thing, sizeof(thing), "d%d", i);
		finish(thing, "x", "FAILED"); /* 100% failed, but fewer than 5 executed */
		ASSERT_STR(job_status("x"), "IN_PROGRESS");
	}
	ASSERT_INT(pending("d6"), 1);
	finish("d5", "x", "FAILED");
	ASSERT_STR(job_status("x"), "CANCELED");
	ASSERT_INT(pending("d6"), 0);
	teardown();
}

static void test_abort_failure_types(void)
{
	setup();
	char cfg[256];
	/* REJECTED counts only rejections */
	CU_ASSERT_TRUE(create_many("x", "a", 5, abort_cfg(cfg, sizeof(cfg), "REJECTED", 50, 2)));
	finish("a1", "x", "FAILED");
	finish("a2", "x", "FAILED");
	finish("a3", "x", "FAILED");
	ASSERT_STR(job_status("x"), "IN_PROGRESS");
	finish("a4", "x", "REJECTED"); /* 1 of 4 */
	ASSERT_STR(job_status("x"), "IN_PROGRESS");

	/* ALL counts every kind of failure */
	CU_ASSERT_TRUE(create_many("y", "b", 5, abort_cfg(cfg, sizeof(cfg), "ALL", 75, 4)));
	finish("b1", "y", "FAILED");
	finish("b2", "y", "REJECTED");
	finish("b3", "y", "SUCCEEDED");
	ASSERT_STR(job_status("y"), "IN_PROGRESS");
	finish("b4", "y", "FAILED"); /* 3 of 4 */
	ASSERT_STR(job_status("y"), "CANCELED");

	/* TIMED_OUT, from the tick; the job's rollout stops */
	CU_ASSERT_TRUE(create_many("z", "c", 6, "\"timeoutConfig\":{\"inProgressTimeoutInMinutes\":2},"
			"\"jobExecutionsRolloutConfig\":{\"maximumPerMinute\":2},"
			"\"abortConfig\":{\"criteriaList\":[{\"failureType\":\"TIMED_OUT\",\"action\":\"CANCEL\","
			"\"thresholdPercentage\":100,\"minNumberOfExecutedThings\":2}]}"));
	tick(T0);
	ASSERT_INT(count_suffix("/notify"), 2);
	/* the two reached things start and go silent */
	int started = 0;
	for(int i = 1; i <= 6; i++){
		char thing[8];
		snprintf(thing, sizeof(thing), "c%d", i);
		if(pending(thing) == 1){
			dev(thing, "start-next", "");
			started++;
		}
	}
	ASSERT_INT(started, 2);
	tick(T0 + MIN); /* two more queued */
	ASSERT_INT(count_suffix("/notify"), 2);
	ASSERT_INT(reached("c", 6), 4);
	/* both time out: 2 of 2 executed timed out; the job is aborted */
	tick(T0 + 2 * MIN);
	ASSERT_STR(job_status("z"), "CANCELED");
	ASSERT_INT(job_count("z", "numberOfTimedOutThings"), 2);
	ASSERT_INT(job_count("z", "numberOfCanceledThings"), 2);
	ASSERT_INT(reached("c", 6), 0);
	ASSERT_INT(tick(T0 + 3 * MIN), 0);
	ASSERT_INT(tick(T0 + DAY), 0);
	ASSERT_INT(reached("c", 6), 0);
	ASSERT_INT(job_count("z", "numberOfQueuedThings"), 0);

	/* ALL counts a time-out too */
	clock_ms = T0 + HOUR;
	CU_ASSERT_TRUE(create_many("w", "f", 3, "\"timeoutConfig\":{\"inProgressTimeoutInMinutes\":1},"
			"\"abortConfig\":{\"criteriaList\":[{\"failureType\":\"ALL\",\"action\":\"CANCEL\","
			"\"thresholdPercentage\":50,\"minNumberOfExecutedThings\":2}]}"));
	finish("f1", "w", "SUCCEEDED");
	dev("f2", "start-next", "");
	ASSERT_STR(job_status("w"), "IN_PROGRESS");
	tick(T0 + HOUR + MIN); /* 1 of 2 executed timed out */
	ASSERT_STR(job_status("w"), "CANCELED");
	ASSERT_STR(describe("f3", "w").status, "CANCELED");
	teardown();
}

/* ---- schedules ---- */

static void test_schedule_start(void)
{
	setup();
	char t[32], extra[128];
	snprintf(extra, sizeof(extra), "\"schedulingConfig\":{\"startTime\":\"%s\"}", iso(T0 + HOUR, false, t, sizeof(t)));
	CU_ASSERT_TRUE(create("s", "[\"t1\",\"t2\"]", extra));
	ASSERT_INT(count_suffix("/notify") + count_suffix("/notify-next"), 0);
	ASSERT_STR(job_status("s"), "SCHEDULED");
	ASSERT_INT(pending("t1"), 0);
	send_device(&qob, "t1", "s/get", "");
	CU_ASSERT(qob.count == 1 && strstr(msg_topic(&qob.msgs[0]), "/rejected") != NULL);
	dev("t1", "start-next", "");
	cJSON *b = msg("t1", "start-next/accepted");
	CU_ASSERT_PTR_NULL(cJSON_GetObjectItem(b, "execution"));
	cJSON_Delete(b);

	ASSERT_INT(tick(T0 + 30 * MIN), 0);
	ASSERT_INT(tick(T0 + HOUR - 1), 0);
	ASSERT_STR(job_status("s"), "SCHEDULED");
	tick(T0 + HOUR);
	ASSERT_INT(count_suffix("/notify"), 2);
	ASSERT_INT(count_suffix("/notify-next"), 2);
	ASSERT_STR(job_status("s"), "IN_PROGRESS");
	ASSERT_INT(pending("t1"), 1);
	ASSERT_INT(pending("t2"), 1);
	struct exec_view v = describe("t1", "s");
	ASSERT_STR(v.status, "QUEUED");
	ASSERT_INT(v.number, 1);
	ASSERT_INT(tick(T0 + HOUR + MIN), 0);

	/* seconds and a Z */
	clock_ms = T0 + 2 * HOUR;
	snprintf(extra, sizeof(extra), "\"schedulingConfig\":{\"startTime\":\"%s\"}",
			iso(T0 + 2 * HOUR + 90 * SEC, true, t, sizeof(t)));
	CU_ASSERT(strchr(t, 'Z') != NULL);
	CU_ASSERT_TRUE(create("sec", "[\"t3\"]", extra));
	ASSERT_STR(job_status("sec"), "SCHEDULED");
	ASSERT_INT(tick(T0 + 2 * HOUR + 90 * SEC - 1), 0);
	tick(T0 + 2 * HOUR + 90 * SEC);
	CU_ASSERT(notified("t3"));
	ASSERT_STR(job_status("sec"), "IN_PROGRESS");
	/* seconds without Z */
	clock_ms = T0 + 3 * HOUR;
	CU_ASSERT_TRUE(create("sec2", "[\"t4\"]", "\"schedulingConfig\":{\"startTime\":\"2023-11-15T01:00:05\"}"));
	ASSERT_STR(job_status("sec2"), "SCHEDULED");
	ASSERT_INT(tick(T0 + 3 * HOUR + 5 * SEC - 1), 0);
	tick(T0 + 3 * HOUR + 5 * SEC);
	CU_ASSERT(notified("t4"));

	/* canceled before its start: it never starts */
	clock_ms = T0 + 3 * HOUR + MIN;
	CU_ASSERT_TRUE(create("never", "[\"t6\"]", "\"schedulingConfig\":{\"startTime\":\"2023-11-15T02:00\"}"));
	cJSON *r = control("{\"command\":\"cancelJob\",\"jobId\":\"never\"}");
	CU_ASSERT_PTR_NOT_NULL(data_of(r));
	cJSON_Delete(r);
	ASSERT_STR(job_status("never"), "CANCELED");
	ASSERT_INT(tick(T0 + 4 * HOUR), 0);
	ASSERT_STR(job_status("never"), "CANCELED");
	ASSERT_INT(pending("t6"), 0);

	/* a start in the past is now */
	clock_ms = T0 + 4 * HOUR;
	CU_ASSERT_TRUE(create("past", "[\"t5\"]", "\"schedulingConfig\":{\"startTime\":\"2023-11-14T21:00\"}"));
	CU_ASSERT(notified("t5"));
	ASSERT_STR(job_status("past"), "IN_PROGRESS");
	ASSERT_INT(pending("t5"), 1);
	teardown();
}

static void test_schedule_with_rollout(void)
{
	setup();
	char t[32], extra[256];
	snprintf(extra, sizeof(extra), "\"schedulingConfig\":{\"startTime\":\"%s\"},"
			"\"jobExecutionsRolloutConfig\":{\"maximumPerMinute\":2}", iso(T0 + DAY, false, t, sizeof(t)));
	CU_ASSERT_TRUE(create_many("s", "d", 5, extra));
	ASSERT_INT(tick(T0), 0);
	ASSERT_INT(tick(T0 + DAY - 1), 0);
	ASSERT_INT(reached("d", 5), 0);
	int want[] = { 2, 2, 1 };
	for(int m = 0; m < 3; m++){
		tick(T0 + DAY + m * MIN);
		ASSERT_INT(count_suffix("/notify"), want[m]);
		ASSERT_INT(tick(T0 + DAY + m * MIN + MIN - 1), 0);
	}
	ASSERT_INT(reached("d", 5), 5);
	teardown();
}

static void test_schedule_end_stop_rollout(void)
{
	setup();
	char t[32], extra[256];
	snprintf(extra, sizeof(extra), "\"schedulingConfig\":{\"endTime\":\"%s\",\"endBehavior\":\"STOP_ROLLOUT\"},"
			"\"jobExecutionsRolloutConfig\":{\"maximumPerMinute\":2}", iso(T0 + 2 * MIN + 30 * SEC, true, t, sizeof(t)));
	CU_ASSERT_TRUE(create_many("s", "d", 10, extra));
	for(int m = 0; m < 3; m++){
		tick(T0 + m * MIN);
		ASSERT_INT(count_suffix("/notify"), 2);
	}
	ASSERT_INT(tick(T0 + 2 * MIN + 30 * SEC - 1), 0);
	tick(T0 + 2 * MIN + 30 * SEC);
	ASSERT_INT(count_suffix("/notify"), 0);
	ASSERT_STR(job_status("s"), "IN_PROGRESS");
	ASSERT_INT(tick(T0 + 3 * MIN), 0);
	ASSERT_INT(tick(T0 + DAY), 0);
	ASSERT_INT(reached("d", 10), 6);
	/* the six reached go on; once they are done, so is the job */
	for(int i = 1; i <= 10; i++){
		char thing[8];
		snprintf(thing, sizeof(thing), "d%d", i);
		if(pending(thing) == 1) finish(thing, "s", "SUCCEEDED");
	}
	ASSERT_STR(job_status("s"), "COMPLETED");
	ASSERT_INT(job_count("s", "numberOfSucceededThings"), 6);
	teardown();
}

static void test_schedule_end_cancel(void)
{
	setup();
	char t[32], extra[256];
	/* CANCEL: queued executions canceled, running ones go on */
	snprintf(extra, sizeof(extra), "\"schedulingConfig\":{\"endTime\":\"%s\",\"endBehavior\":\"CANCEL\"}",
			iso(T0 + HOUR, false, t, sizeof(t)));
	CU_ASSERT_TRUE(create("c", "[\"t1\",\"t2\"]", extra));
	dev("t1", "start-next", "");
	ASSERT_INT(tick(T0 + HOUR - 1), 0);
	tick(T0 + HOUR);
	CU_ASSERT(notified("t2"));
	CU_ASSERT(!notified("t1"));
	ASSERT_STR(job_status("c"), "CANCELED");
	ASSERT_STR(describe("t1", "c").status, "IN_PROGRESS");
	ASSERT_STR(describe("t2", "c").status, "CANCELED");

	/* FORCE_CANCEL: running ones too, with a start and an end */
	clock_ms = T0 + 2 * HOUR;
	char t2[32];
	snprintf(extra, sizeof(extra), "\"schedulingConfig\":{\"startTime\":\"%s\",\"endTime\":\"%s\",\"endBehavior\":\"FORCE_CANCEL\"}",
			iso(T0 + 3 * HOUR, false, t, sizeof(t)), iso(T0 + 4 * HOUR, false, t2, sizeof(t2)));
	CU_ASSERT_TRUE(create("f", "[\"t3\",\"t4\"]", extra));
	ASSERT_STR(job_status("f"), "SCHEDULED");
	tick(T0 + 3 * HOUR);
	ASSERT_STR(job_status("f"), "IN_PROGRESS");
	clock_ms = T0 + 3 * HOUR + MIN;
	dev("t3", "start-next", "");
	ASSERT_INT(tick(T0 + 4 * HOUR - 1), 0);
	tick(T0 + 4 * HOUR);
	CU_ASSERT(notified("t3") && notified("t4"));
	ASSERT_STR(job_status("f"), "CANCELED");
	ASSERT_STR(describe("t3", "f").status, "CANCELED");
	ASSERT_STR(describe("t4", "f").status, "CANCELED");
	cJSON *job;
	cJSON *r = describe_job("f", &job);
	CU_ASSERT(cJSON_IsTrue(cJSON_GetObjectItem(job, "forceCanceled")));
	cJSON_Delete(r);
	ASSERT_INT(tick(T0 + 5 * HOUR), 0);
	teardown();
}

/* ---- plugin_opt_time_scale ---- */

static void test_time_scale_option(void)
{
	static const char *const bad[] = { "0", "-1", "0.0009", "100001", "abc", "", "1x", "nan", "inf" };
	static const char *const good[] = { "0.001", "1", "600", "100000", "2.5" };
	struct jobs_config cfg;
	char err[256];
	for(size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++){
		struct jobs_option o = { "time_scale", bad[i] };
		CU_ASSERT_EQUAL(config_parse(&o, 1, &cfg, err, sizeof(err)), -1);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "time_scale"));
	}
	for(size_t i = 0; i < sizeof(good) / sizeof(*good); i++){
		struct jobs_option o = { "time_scale", good[i] };
		CU_ASSERT_EQUAL_FATAL(config_parse(&o, 1, &cfg, err, sizeof(err)), 0);
		CU_ASSERT_DOUBLE_EQUAL(cfg.time_scale, strtod(good[i], NULL), 1e-12);
		config_free(&cfg);
	}
	CU_ASSERT_EQUAL_FATAL(config_parse(NULL, 0, &cfg, err, sizeof(err)), 0);
	CU_ASSERT_DOUBLE_EQUAL(cfg.time_scale, 1.0, 0);
	config_free(&cfg);
}

static void test_time_scale_timers(void)
{
	setup_scaled("60"); /* a job minute is a wall second */
	CU_ASSERT_TRUE(create("j", "[\"t1\",\"t2\"]", "\"timeoutConfig\":{\"inProgressTimeoutInMinutes\":10}"));
	dev("t1", "start-next", "");
	cJSON *b = msg("t1", "start-next/accepted");
	ASSERT_INT(num(cJSON_GetObjectItem(b, "execution"), "approximateSecondsBeforeTimedOut"), 600);
	cJSON_Delete(b);
	clock_ms = T0 + 5 * SEC;
	ASSERT_INT(describe("t1", "j").approx, 300);
	dev("t2", "start-next", "{\"stepTimeoutInMinutes\":3}");
	ASSERT_INT(describe("t2", "j").approx, 180);
	ASSERT_INT(tick(T0 + 8 * SEC - 1), 0);
	tick(T0 + 8 * SEC);
	CU_ASSERT(notified("t2"));
	ASSERT_STR(describe("t2", "j").status, "TIMED_OUT");
	ASSERT_INT(tick(T0 + 10 * SEC - 1), 0);
	tick(T0 + 10 * SEC);
	CU_ASSERT(notified("t1"));
	ASSERT_STR(describe("t1", "j").status, "TIMED_OUT");

	/* rollout minutes are scaled */
	CU_ASSERT_TRUE(create_many("r", "d", 4, "\"jobExecutionsRolloutConfig\":{\"maximumPerMinute\":2}"));
	tick(T0 + 20 * SEC);
	ASSERT_INT(count_suffix("/notify"), 2);
	ASSERT_INT(tick(T0 + 21 * SEC - 1), 0);
	tick(T0 + 21 * SEC);
	ASSERT_INT(count_suffix("/notify"), 2);

	/* absolute times are not: a start an hour away is an hour away */
	clock_ms = T0 + 30 * SEC;
	CU_ASSERT_TRUE(create("s", "[\"t3\"]", "\"schedulingConfig\":{\"startTime\":\"2023-11-14T23:00\"}"));
	ASSERT_INT(tick(T0 + 2 * MIN), 0);
	ASSERT_INT(tick(T0 + HOUR - 1), 0);
	ASSERT_STR(job_status("s"), "SCHEDULED");
	tick(T0 + HOUR);
	CU_ASSERT(notified("t3"));
	teardown();

	/* slower than wall time */
	setup_scaled("0.5");
	CU_ASSERT_TRUE(create("j", "[\"t1\"]", "\"timeoutConfig\":{\"inProgressTimeoutInMinutes\":1}"));
	dev("t1", "start-next", "");
	clock_ms = T0 + MIN;
	ASSERT_INT(describe("t1", "j").approx, 30);
	ASSERT_INT(tick(T0 + 2 * MIN - 1), 0);
	tick(T0 + 2 * MIN);
	ASSERT_STR(describe("t1", "j").status, "TIMED_OUT");
	teardown();
}

/* ---- a bounded tick ---- */

/* Ticks at `at` until a tick produces nothing (at most 100). Each tick must do one
 * batch: the first tick's count B (1..max_batch) of "/notify", every later one B too
 * but the last, which may be smaller; each with as many notify-next. Returns the
 * total; *ticks_out the ticks that produced something. */
static int drain_ticks(int64_t at, int max_batch, int *ticks_out)
{
	int total = 0, ticks = 0, batch = 0, last = -1;
	bool uneven = false;
	size_t produced;
	while(ticks < 100 && (produced = tick(at)) > 0){
		int n = count_suffix("/notify");
		ASSERT_INT(count_suffix("/notify-next"), n);
		ASSERT_INT(produced, 2 * n);
		if(ticks == 0) batch = n;
		if(last >= 0 && last != batch) uneven = true; /* a short batch before this one */
		CU_ASSERT(n >= 1 && n <= batch);
		last = n;
		total += n;
		ticks++;
	}
	CU_ASSERT(batch >= 1 && batch <= max_batch);
	CU_ASSERT_FALSE(uneven);
	*ticks_out = ticks;
	return total;
}

static void test_backlog_of_timeouts(void)
{
	enum { N = 1000 };
	setup();
	CU_ASSERT_TRUE(create_many("b", "d", N, "\"timeoutConfig\":{\"inProgressTimeoutInMinutes\":1}"));
	/* the group's executions are queued by the ticks */
	for(int i = 0; i < 100 && tick(T0) > 0; i++){}
	ASSERT_INT(job_count("b", "numberOfQueuedThings"), N);
	char thing[16];
	for(int i = 1; i <= N; i++){
		snprintf(thing, sizeof(thing), "d%d", i);
		clock_ms = T0 + i; /* deadlines spread over a second */
		dev(thing, "start-next", "");
	}
	/* one tick just before the first deadline does nothing */
	ASSERT_INT(tick(T0 + MIN), 0);
	/* the broker was busy for a day: the ticks work the backlog off, a batch each */
	int64_t late = T0 + DAY;
	int ticks;
	tick(late);
	int first = count_suffix("/notify");
	CU_ASSERT(first >= 1 && first <= 256);
	int total = first + drain_ticks(late, first, &ticks);
	ASSERT_INT(total, N);
	CU_ASSERT(first < N); /* several ticks */
	if(first > 0) ASSERT_INT(ticks + 1, (N + first - 1) / first);
	ASSERT_INT(job_count("b", "numberOfTimedOutThings"), N);
	ASSERT_STR(job_status("b"), "COMPLETED");
	ASSERT_INT(tick(late + DAY), 0);
	teardown();
}

static void test_bounded_release(void)
{
	setup();
	/* one rollout with a large rate: queued over several ticks, all in its minute */
	CU_ASSERT_TRUE(create_many("r", "d", 600, "\"jobExecutionsRolloutConfig\":{\"maximumPerMinute\":1000}"));
	ASSERT_INT(count_suffix("/notify"), 0);
	int ticks;
	int total = drain_ticks(T0, 256, &ticks);
	ASSERT_INT(total, 600);
	CU_ASSERT(ticks > 1);
	ASSERT_INT(job_count("r", "numberOfQueuedThings"), 600);
	/* a rate below the batch is one tick a minute */
	CU_ASSERT_TRUE(create_many("q", "e", 30, "\"jobExecutionsRolloutConfig\":{\"maximumPerMinute\":20}"));
	total = drain_ticks(T0, 256, &ticks);
	ASSERT_INT(total, 20);
	ASSERT_INT(ticks, 1);
	total = drain_ticks(T0 + MIN, 256, &ticks);
	ASSERT_INT(total, 10);
	ASSERT_INT(ticks, 1);
	ASSERT_INT(reached("e", 30), 30);

	/* 40 scheduled jobs starting at once: a bounded number of jobs a tick */
	char t[32], extra[128], id[16], target[32];
	clock_ms = T0 + MIN;
	snprintf(extra, sizeof(extra), "\"schedulingConfig\":{\"startTime\":\"%s\"}", iso(T0 + HOUR, false, t, sizeof(t)));
	for(int i = 0; i < 40; i++){
		snprintf(id, sizeof(id), "s%d", i);
		snprintf(target, sizeof(target), "[\"s%d\"]", i);
		CU_ASSERT_TRUE(create(id, target, extra));
	}
	tick(T0 + HOUR);
	int first = count_suffix("/notify");
	CU_ASSERT(first >= 1 && first < 40);
	total = first + drain_ticks(T0 + HOUR, first, &ticks);
	ASSERT_INT(total, 40);
	CU_ASSERT(ticks >= 1);
	ASSERT_INT(reached("s", 39), 39);
	ASSERT_INT(pending("s0"), 1);
	ASSERT_STR(job_status("s39"), "IN_PROGRESS");
	teardown();
}

/* ---- a restart ---- */

static void test_deadlines_survive_restart(void)
{
	test_file_path(file_db, sizeof(file_db), "timers.db");
	remove_file_db();
	memset(&ob, 0, sizeof(ob));
	memset(&qob, 0, sizeof(qob));
	clock_ms = T0;
	CU_ASSERT_TRUE_FATAL(open_service(file_db, NULL));
	CU_ASSERT_TRUE(create("j", "[\"t1\"]", "\"timeoutConfig\":{\"inProgressTimeoutInMinutes\":10}"));
	dev("t1", "start-next", "{\"stepTimeoutInMinutes\":3}");
	CU_ASSERT_TRUE(create_many("r", "d", 8, "\"jobExecutionsRolloutConfig\":{\"maximumPerMinute\":3}"));
	tick(T0);
	ASSERT_INT(count_suffix("/notify"), 3);
	service_destroy(svc);

	/* down for an hour; the new service knows nothing in memory */
	CU_ASSERT_TRUE_FATAL(open_service(file_db, NULL));
	clock_ms = T0 + 30 * SEC;
	ASSERT_STR(describe("t1", "j").status, "IN_PROGRESS");
	ASSERT_INT(describe("t1", "j").approx, 150);
	ASSERT_INT(tick(T0 + 30 * SEC), 0); /* same rollout minute: nothing */
	service_destroy(svc);

	CU_ASSERT_TRUE_FATAL(open_service(file_db, NULL));
	tick(T0 + HOUR);
	CU_ASSERT(notified("t1"));
	ASSERT_INT(count_suffix("/notify"), 1 + 3); /* t1, and the rollout's next 3 */
	ASSERT_STR(describe("t1", "j").status, "TIMED_OUT");
	ASSERT_INT(describe("t1", "j").version, 3);
	ASSERT_INT(tick(T0 + HOUR + MIN - 1), 0);
	tick(T0 + HOUR + MIN);
	ASSERT_INT(count_suffix("/notify"), 2);
	ASSERT_INT(reached("d", 8), 8);
	teardown();
	remove_file_db();
}

/* ---- refusals ---- */

static void test_invalid_policies(void)
{
	static const char *const bad[] = {
		"\"timeoutConfig\":5",
		"\"timeoutConfig\":{\"inProgressTimeoutInMinutes\":0}",
		"\"timeoutConfig\":{\"inProgressTimeoutInMinutes\":10081}",
		"\"timeoutConfig\":{\"inProgressTimeoutInMinutes\":-1}",
		"\"timeoutConfig\":{\"inProgressTimeoutInMinutes\":1.5}",
		"\"timeoutConfig\":{\"inProgressTimeoutInMinutes\":\"ten\"}",
		"\"jobExecutionsRetryConfig\":{}",
		"\"jobExecutionsRetryConfig\":{\"criteriaList\":[]}",
		"\"jobExecutionsRetryConfig\":{\"criteriaList\":[{\"failureType\":\"FAILED\",\"numberOfRetries\":1},"
			"{\"failureType\":\"TIMED_OUT\",\"numberOfRetries\":1},{\"failureType\":\"ALL\",\"numberOfRetries\":1}]}",
		"\"jobExecutionsRetryConfig\":{\"criteriaList\":[{\"failureType\":\"REJECTED\",\"numberOfRetries\":1}]}",
		"\"jobExecutionsRetryConfig\":{\"criteriaList\":[{\"failureType\":\"FAILED\",\"numberOfRetries\":11}]}",
		"\"jobExecutionsRetryConfig\":{\"criteriaList\":[{\"failureType\":\"FAILED\",\"numberOfRetries\":-1}]}",
		"\"jobExecutionsRetryConfig\":{\"criteriaList\":[{\"failureType\":\"FAILED\"}]}",
		"\"jobExecutionsRetryConfig\":{\"criteriaList\":[{\"numberOfRetries\":1}]}",
		"\"jobExecutionsRetryConfig\":{\"criteriaList\":[{\"failureType\":\"FAILED\",\"numberOfRetries\":1},"
			"{\"failureType\":\"FAILED\",\"numberOfRetries\":2}]}",
		"\"jobExecutionsRolloutConfig\":{}",
		"\"jobExecutionsRolloutConfig\":{\"maximumPerMinute\":0}",
		"\"jobExecutionsRolloutConfig\":{\"maximumPerMinute\":1001}",
		"\"jobExecutionsRolloutConfig\":{\"maximumPerMinute\":2.5}",
		"\"jobExecutionsRolloutConfig\":{\"exponentialRate\":{\"baseRatePerMinute\":1,\"incrementFactor\":1.0,"
			"\"rateIncreaseCriteria\":{\"numberOfNotifiedThings\":1}}}",
		"\"jobExecutionsRolloutConfig\":{\"exponentialRate\":{\"baseRatePerMinute\":1,\"incrementFactor\":5.1,"
			"\"rateIncreaseCriteria\":{\"numberOfNotifiedThings\":1}}}",
		"\"jobExecutionsRolloutConfig\":{\"exponentialRate\":{\"baseRatePerMinute\":1,"
			"\"rateIncreaseCriteria\":{\"numberOfNotifiedThings\":1}}}",
		"\"jobExecutionsRolloutConfig\":{\"exponentialRate\":{\"baseRatePerMinute\":0,\"incrementFactor\":2,"
			"\"rateIncreaseCriteria\":{\"numberOfNotifiedThings\":1}}}",
		"\"jobExecutionsRolloutConfig\":{\"exponentialRate\":{\"incrementFactor\":2,"
			"\"rateIncreaseCriteria\":{\"numberOfNotifiedThings\":1}}}",
		"\"jobExecutionsRolloutConfig\":{\"exponentialRate\":{\"baseRatePerMinute\":1,\"incrementFactor\":2}}",
		"\"jobExecutionsRolloutConfig\":{\"exponentialRate\":{\"baseRatePerMinute\":1,\"incrementFactor\":2,"
			"\"rateIncreaseCriteria\":{}}}",
		"\"jobExecutionsRolloutConfig\":{\"exponentialRate\":{\"baseRatePerMinute\":1,\"incrementFactor\":2,"
			"\"rateIncreaseCriteria\":{\"numberOfNotifiedThings\":1,\"numberOfSucceededThings\":1}}}",
		"\"jobExecutionsRolloutConfig\":{\"exponentialRate\":{\"baseRatePerMinute\":1,\"incrementFactor\":2,"
			"\"rateIncreaseCriteria\":{\"numberOfNotifiedThings\":0}}}",
		"\"jobExecutionsRolloutConfig\":{\"maximumPerMinute\":5,\"exponentialRate\":{\"baseRatePerMinute\":6,"
			"\"incrementFactor\":2,\"rateIncreaseCriteria\":{\"numberOfNotifiedThings\":1}}}",
		"\"abortConfig\":{}",
		"\"abortConfig\":{\"criteriaList\":[]}",
		"\"abortConfig\":{\"criteriaList\":[{\"failureType\":\"CANCELED\",\"action\":\"CANCEL\","
			"\"thresholdPercentage\":10,\"minNumberOfExecutedThings\":1}]}",
		"\"abortConfig\":{\"criteriaList\":[{\"failureType\":\"FAILED\",\"action\":\"STOP\","
			"\"thresholdPercentage\":10,\"minNumberOfExecutedThings\":1}]}",
		"\"abortConfig\":{\"criteriaList\":[{\"failureType\":\"FAILED\","
			"\"thresholdPercentage\":10,\"minNumberOfExecutedThings\":1}]}",
		"\"abortConfig\":{\"criteriaList\":[{\"failureType\":\"FAILED\",\"action\":\"CANCEL\","
			"\"thresholdPercentage\":101,\"minNumberOfExecutedThings\":1}]}",
		"\"abortConfig\":{\"criteriaList\":[{\"failureType\":\"FAILED\",\"action\":\"CANCEL\","
			"\"thresholdPercentage\":-1,\"minNumberOfExecutedThings\":1}]}",
		"\"abortConfig\":{\"criteriaList\":[{\"failureType\":\"FAILED\",\"action\":\"CANCEL\","
			"\"minNumberOfExecutedThings\":1}]}",
		"\"abortConfig\":{\"criteriaList\":[{\"failureType\":\"FAILED\",\"action\":\"CANCEL\","
			"\"thresholdPercentage\":10,\"minNumberOfExecutedThings\":0}]}",
		"\"abortConfig\":{\"criteriaList\":[{\"failureType\":\"FAILED\",\"action\":\"CANCEL\","
			"\"thresholdPercentage\":10}]}",
		"\"abortConfig\":{\"criteriaList\":[\"FAILED\"]}",
		"\"schedulingConfig\":{\"startTime\":\"tomorrow\"}",
		"\"schedulingConfig\":{\"startTime\":\"2023-11-14 23:00\"}",
		"\"schedulingConfig\":{\"startTime\":\"2023-13-01T00:00\"}",
		"\"schedulingConfig\":{\"startTime\":\"2023-11-14T24:00\"}",
		"\"schedulingConfig\":{\"startTime\":\"2023-11-14T23:60\"}",
		"\"schedulingConfig\":{\"startTime\":\"2023-11-14T23:00+01:00\"}",
		"\"schedulingConfig\":{\"startTime\":1700000000}",
		"\"schedulingConfig\":{\"startTime\":\"2023-11-15T00:00\",\"endTime\":\"2023-11-14T23:00\"}",
		"\"schedulingConfig\":{\"startTime\":\"2023-11-15T00:00\",\"endTime\":\"2023-11-15T00:00\"}",
		"\"schedulingConfig\":{\"endTime\":\"2023-11-15T00:00\",\"endBehavior\":\"STOP\"}",
		"\"schedulingConfig\":{\"startTime\":\"2023-11-15T00:00\",\"endBehavior\":\"CANCEL\"}",
	};
	setup();
	char id[16];
	for(size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++){
		snprintf(id, sizeof(id), "bad%zu", i);
		cJSON *r = control("{\"command\":\"createJob\",\"jobId\":\"%s\",\"targets\":[\"t1\"],\"document\":{},%s}", id, bad[i]);
		const char *e = str(r, "error");
		bool ok = e && strncmp(e, "InvalidRequestException", strlen("InvalidRequestException")) == 0;
		CU_ASSERT_TRUE(ok);
		if(!ok) fprintf(stderr, "\n  %s -> %s\n", bad[i], e ? e : "(accepted)");
		ASSERT_INT(count_suffix("/notify"), 0);
		cJSON_Delete(r);
		r = query("{\"command\":\"describeJob\",\"jobId\":\"%s\"}", id);
		CU_ASSERT_PTR_NOT_NULL(str(r, "error"));
		cJSON_Delete(r);
	}
	ASSERT_INT(pending("t1"), 0);

	/* the edges of the ranges are fine */
	static const char *const good[] = {
		"\"timeoutConfig\":{\"inProgressTimeoutInMinutes\":1}",
		"\"timeoutConfig\":{\"inProgressTimeoutInMinutes\":10080}",
		"\"jobExecutionsRetryConfig\":{\"criteriaList\":[{\"failureType\":\"FAILED\",\"numberOfRetries\":0},"
			"{\"failureType\":\"TIMED_OUT\",\"numberOfRetries\":10}]}",
		"\"jobExecutionsRolloutConfig\":{\"maximumPerMinute\":1}",
		"\"jobExecutionsRolloutConfig\":{\"maximumPerMinute\":1000}",
		"\"jobExecutionsRolloutConfig\":{\"exponentialRate\":{\"baseRatePerMinute\":1,\"incrementFactor\":1.1,"
			"\"rateIncreaseCriteria\":{\"numberOfSucceededThings\":1}}}",
		"\"jobExecutionsRolloutConfig\":{\"maximumPerMinute\":3,\"exponentialRate\":{\"baseRatePerMinute\":3,\"incrementFactor\":5,"
			"\"rateIncreaseCriteria\":{\"numberOfNotifiedThings\":1}}}",
		"\"abortConfig\":{\"criteriaList\":[{\"failureType\":\"ALL\",\"action\":\"CANCEL\","
			"\"thresholdPercentage\":100,\"minNumberOfExecutedThings\":1},{\"failureType\":\"TIMED_OUT\",\"action\":\"CANCEL\","
			"\"thresholdPercentage\":0.5,\"minNumberOfExecutedThings\":1}]}",
		"\"schedulingConfig\":{\"startTime\":\"2023-11-15T00:00\",\"endTime\":\"2023-11-15T00:01\",\"endBehavior\":\"FORCE_CANCEL\"}",
	};
	for(size_t i = 0; i < sizeof(good) / sizeof(*good); i++){
		snprintf(id, sizeof(id), "good%zu", i);
		char targets[32];
		snprintf(targets, sizeof(targets), "[\"g%zu\"]", i);
		bool ok = create(id, targets, good[i]);
		CU_ASSERT_TRUE(ok);
		if(!ok) fprintf(stderr, "\n  refused: %s\n", good[i]);
	}
	/* the policy fields are shown back by describeJob */
	cJSON *job;
	cJSON *r = describe_job("good0", &job);
	ASSERT_INT(num(cJSON_GetObjectItem(job, "timeoutConfig"), "inProgressTimeoutInMinutes"), 1);
	cJSON_Delete(r);

	/* a device's stepTimeoutInMinutes has the same range */
	CU_ASSERT_TRUE(create("dj", "[\"t9\"]", ""));
	dev("t9", "start-next", "{\"stepTimeoutInMinutes\":10081}");
	cJSON *b = msg("t9", "start-next/rejected");
	ASSERT_STR(str(b, "code"), "InvalidRequest");
	cJSON_Delete(b);
	dev("t9", "start-next", "{\"stepTimeoutInMinutes\":10080}");
	b = msg("t9", "start-next/accepted");
	ASSERT_INT(num(cJSON_GetObjectItem(b, "execution"), "approximateSecondsBeforeTimedOut"), 10080 * 60);
	cJSON_Delete(b);
	teardown();
}

/* Dates that do not exist are refused, not moved to the next month. */
static void test_impossible_dates_refused(void)
{
	static const char *const bad[] = { "2024-02-30T00:00", "2023-02-29T12:00", "2023-04-31T00:00Z" };
	setup();
	char id[16];
	for(size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++){
		snprintf(id, sizeof(id), "d%zu", i);
		cJSON *r = control("{\"command\":\"createJob\",\"jobId\":\"%s\",\"targets\":[\"t1\"],\"document\":{},"
				"\"schedulingConfig\":{\"startTime\":\"%s\"}}", id, bad[i]);
		const char *e = str(r, "error");
		bool ok = e && strncmp(e, "InvalidRequestException", strlen("InvalidRequestException")) == 0;
		CU_ASSERT_TRUE(ok);
		if(!ok) fprintf(stderr, "\n  startTime %s -> %s\n", bad[i], e ? e : "(accepted)");
		cJSON_Delete(r);
	}
	/* the last day of a month is fine */
	CU_ASSERT_TRUE(create("leap", "[\"t2\"]", "\"schedulingConfig\":{\"startTime\":\"2024-02-29T00:00\"}"));
	ASSERT_STR(job_status("leap"), "SCHEDULED");
	teardown();
}

void add_timer_tests(void)
{
	static const struct test_entry tests[] = {
		{ "tick is free when nothing is due", test_tick_idle },
		{ "in-progress timeout", test_in_progress_timeout },
		{ "in-progress timer is fixed once started", test_in_progress_timer_fixed },
		{ "step timer: replace, keep, clear", test_step_timer },
		{ "start-next keeps a running timer", test_start_next_keeps_running_timer },
		{ "step timer capped by in-progress timer", test_step_capped_by_in_progress },
		{ "approximateSecondsBeforeTimedOut", test_time_left_everywhere },
		{ "terminal states stop timers", test_terminal_stops_timers },
		{ "time-out moves $next on", test_timeout_moves_next },
		{ "retry after FAILED", test_retry_failed },
		{ "retry after TIMED_OUT, ALL, zero", test_retry_timed_out },
		{ "at most 10 retries in all", test_retry_total_cap },
		{ "rollout at a constant rate", test_rollout_constant },
		{ "exponential rollout by notified things", test_rollout_exponential_notified },
		{ "exponential rollout by succeeded things", test_rollout_exponential_succeeded },
		{ "rollout of a continuous job", test_rollout_continuous_group },
		{ "abort threshold", test_abort_threshold },
		{ "abort waits for minNumberOfExecutedThings", test_abort_min_executed },
		{ "abort failure types, rollout stopped", test_abort_failure_types },
		{ "scheduled start", test_schedule_start },
		{ "scheduled start with a rollout", test_schedule_with_rollout },
		{ "schedule end: STOP_ROLLOUT", test_schedule_end_stop_rollout },
		{ "schedule end: CANCEL and FORCE_CANCEL", test_schedule_end_cancel },
		{ "time_scale option", test_time_scale_option },
		{ "time_scale applied", test_time_scale_timers },
		{ "a backlog of 1000 time-outs", test_backlog_of_timeouts },
		{ "bounded rollout and schedule work per tick", test_bounded_release },
		{ "deadlines and rollouts survive a restart", test_deadlines_survive_restart },
		{ "invalid policies refused", test_invalid_policies },
		{ "impossible schedule dates refused", test_impossible_dates_refused },
	};
	ADD_SUITE("timers and fleet policies", tests);
}
