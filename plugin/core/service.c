/* Service lifetime and dispatch: one entry point per way in. */
#include "core/service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/notify.h"
#include "core/shapes.h"
#include "core/testctl_apply.h"
#include "mqtt/topic.h"
#include "core/service_internal.h"

int service_create(const struct jobs_config *cfg, jobs_log_fn log, void *log_ctx,
		struct service **out, char *err, size_t errlen)
{
	struct service *svc = calloc(1, sizeof(*svc));
	if(!svc){
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	svc->log = log;
	svc->log_ctx = log_ctx;
	svc->max_pending = cfg->max_pending;
	svc->time_scale = cfg->time_scale > 0 ? cfg->time_scale : 1.0;
	svc->notify = notify_scope_create();
	svc->region = strdup(cfg->region);
	svc->account_id = strdup(cfg->account_id);
	if(!svc->region || !svc->account_id || !svc->notify){
		snprintf(err, errlen, "out of memory");
		service_destroy(svc);
		return -1;
	}
	if(store_open(cfg, &svc->store, err, errlen) != STORE_OK){
		service_destroy(svc);
		return -1;
	}
	if(cfg->rate_limit && !(svc->limiter = ratelimit_create(cfg->rate_limit))){
		snprintf(err, errlen, "out of memory");
		service_destroy(svc);
		return -1;
	}
	svc->identity = cfg->access.identity;
	if(cfg->test_controls && !(svc->testctl = testctl_create())){
		snprintf(err, errlen, "out of memory");
		service_destroy(svc);
		return -1;
	}
	*out = svc;
	return 0;
}

void service_destroy(struct service *svc)
{
	if(!svc) return;
	store_close(svc->store);
	ratelimit_destroy(svc->limiter);
	testctl_destroy(svc->testctl);
	notify_scope_destroy(svc->notify);
	free(svc->region);
	free(svc->account_id);
	free(svc);
}

static void fail_batch(struct service *svc, struct outbox *ob, int64_t now);

/* After a request in a batch: a storage failure (a full disk) can make SQLite roll the
 * whole batch back, not just the request's savepoint. Then what the batch's earlier
 * requests did is gone too: their replies become InternalError, and the requests
 * that follow start a new batch. */
static void batch_check(struct service *svc, struct outbox *ob, int64_t now)
{
	if(!svc->batch_open || store_in_transaction(svc->store)) return;
	SVC_LOG(svc, JOBS_LOG_ERR, "jobs: a storage failure rolled back the requests of this pass");
	svc->batch_open = false;
	svc->wake_known = false;
	fail_batch(svc, ob, now);
}

/* Opens the batch at the first request after a flush. */
static void batch_join(struct service *svc, const struct outbox *ob)
{
	if(!svc->group_commit || svc->batch_open) return;
	if(store_batch_begin(svc->store) != STORE_OK){
		/* requests then commit one by one, as without group commit */
		SVC_LOG(svc, JOBS_LOG_WARNING, "jobs: cannot open a batch: %s", store_errmsg(svc->store));
		return;
	}
	svc->batch_open = true;
	svc->batch_mark = ob->count;
	svc->batch_seq++;
}

uint64_t service_batch_seq(const struct service *svc)
{
	return svc->batch_open ? svc->batch_seq : 0;
}

bool service_batch_committed(const struct service *svc, uint64_t seq)
{
	return seq == 0 || seq == svc->committed_seq;
}

/* Front ends other than MQTT reply through this client id: their replies are taken
 * back out of the outbox right after the call, so no MQTT client ever gets them. */
static const char front_end_client[] = "$jobs/front-end";

/* The request with job time moved by advanceTime (test controls): every timer,
 * timestamp and schedule of the request then sees the moved time. */
static const struct jobs_request *job_time(const struct service *svc, const struct jobs_request *req,
		struct jobs_request *copy)
{
	int64_t offset = testing_offset_ms(svc);
	if(offset == 0) return req;
	*copy = *req;
	copy->now_ms = request_ms(req) + offset;
	copy->now = copy->now_ms / 1000;
	return copy;
}

/* An MQTT request with test controls on: recorded, then the thing's next fault for
 * the operation is applied (a rejection instead of the request, or the request and
 * then its reply withheld, delayed or doubled). real_ms: the request's real time. */
static void testing_device(struct service *svc, const struct jobs_request *req, int64_t real_ms,
		const struct jobs_topic *topic, struct outbox *ob)
{
	struct testctl_fault f;
	bool faulted = testctl_take_fault(svc->testctl, topic->thing, testctl_op_of(topic->op), &f);
	const char *fault = faulted ? testctl_action_name(f.action) : NULL;
	testctl_record_publish(svc->testctl, real_ms, false, req->topic, req->payload, req->payload_len, fault);
	size_t mark = ob->count;
	if(faulted && f.action == TESTCTL_REJECT) device_reject_fault(svc, req, topic, f.code, ob);
	else device_handle(svc, req, topic, ob);
	if(!faulted) return;
	SVC_LOG(svc, JOBS_LOG_NOTICE, "jobs: test controls: fault %s applied to %s", fault, req->topic);
	testctl_mark_replies(&f, req->client_id, req->topic, ob, mark, real_ms);
}

void service_sent(struct service *svc, const struct outbox_msg *m, int64_t now_ms)
{
	testctl_record_publish(svc->testctl, now_ms, true, m->topic, m->payload, m->payload_len, m->fault);
}

bool service_handle_device(struct service *svc, const struct jobs_request *req, struct outbox *ob)
{
	struct jobs_topic topic;
	struct jobs_request moved;
	int64_t real_ms = request_ms(req);
	/* test controls act on MQTT devices only, not on the HTTP API's calls */
	bool testing = svc->testctl && !(req->client_id && strcmp(req->client_id, front_end_client) == 0);
	req = job_time(svc, req, &moved);
	switch(topic_parse(req->topic, &topic)){
	case TOPIC_NOT_JOBS:
		return false;
	case TOPIC_IGNORED:
		if(testing) testctl_record_publish(svc->testctl, real_ms, false, req->topic, req->payload, req->payload_len, NULL);
		break;
	case TOPIC_INVALID:
		if(testing) testctl_record_publish(svc->testctl, real_ms, false, req->topic, req->payload, req->payload_len, NULL);
		device_reject_topic(svc, req, ob);
		break;
	case TOPIC_REQUEST:
		batch_join(svc, ob);
		if(testing) testing_device(svc, req, real_ms, &topic, ob);
		else device_handle(svc, req, &topic, ob);
		batch_check(svc, ob, req->now);
		break;
	}
	return true;
}

void service_handle_control(struct service *svc, const struct jobs_request *req, struct outbox *ob)
{
	struct jobs_request moved;
	req = job_time(svc, req, &moved);
	batch_join(svc, ob);
	control_handle(svc, req, ob);
	batch_check(svc, ob, req->now);
}

void service_set_clock(struct service *svc, jobs_clock_fn clock, void *ctx)
{
	svc->clock = clock;
	svc->clock_ctx = ctx;
}

void service_set_kicker(struct service *svc, jobs_kick_fn kick, void *ctx)
{
	svc->kick = kick;
	svc->kick_ctx = ctx;
}

void service_set_group_commit(struct service *svc, bool on)
{
	svc->group_commit = on;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The batch did not commit: nothing it did happened. Device rejections stand (they
 * never depended on the store); accepted replies become InternalError rejections;
 * management responses become one error; notifications go. */
static void fail_batch(struct service *svc, struct outbox *ob, int64_t now)
{
	struct outbox failed = { 0 };
	for(size_t i = svc->batch_mark; i < ob->count; i++){
		struct outbox_msg *m = &ob->msgs[i];
		if(!m->client_id) continue;
		if(ends_with(m->topic, "/rejected")){
			outbox_add(&failed, m->client_id, m->topic, m->payload, m->payload_len, m->qos);
			m->payload = NULL;
			continue;
		}
		cJSON *root = cJSON_CreateObject();
		char topic[600];
		if(ends_with(m->topic, "/accepted")){
			cJSON *old = cJSON_ParseWithLength(m->payload, m->payload_len);
			const cJSON *token = cJSON_GetObjectItemCaseSensitive(old, "clientToken");
			cJSON_AddStringToObject(root, "code", "InternalError");
			cJSON_AddStringToObject(root, "message", "internal storage error");
			cJSON_AddNumberToObject(root, "timestamp", (double)now);
			if(cJSON_IsString(token)) cJSON_AddStringToObject(root, "clientToken", token->valuestring);
			cJSON_Delete(old);
			snprintf(topic, sizeof(topic), "%.*s/rejected", (int)(strlen(m->topic) - strlen("/accepted")), m->topic);
		}else{
			cJSON *list = cJSON_AddArrayToObject(root, "responses");
			cJSON *entry = cJSON_CreateObject();
			cJSON_AddStringToObject(entry, "error", "InternalFailureException: internal storage error");
			cJSON_AddItemToArray(list, entry);
			snprintf(topic, sizeof(topic), "%s", m->topic);
		}
		size_t len;
		char *payload = shapes_print(root, &len);
		if(payload && outbox_add(&failed, m->client_id, topic, payload, len, m->qos) == 0 && m->correlation){
			outbox_set_correlation(&failed, m->correlation, m->correlation_len);
		}
	}
	outbox_truncate(ob, svc->batch_mark);
	for(size_t i = 0; i < failed.count; i++){
		struct outbox_msg *m = &failed.msgs[i];
		if(outbox_add(ob, m->client_id, m->topic, m->payload, m->payload_len, m->qos) == 0 && m->correlation){
			outbox_set_correlation(ob, m->correlation, m->correlation_len);
		}
		m->payload = NULL;
	}
	outbox_clear(&failed);
}

bool service_flush(struct service *svc, int64_t now_ms, struct outbox *ob)
{
	if(!svc->batch_open) return true;
	svc->batch_open = false;
	now_ms += testing_offset_ms(svc);
	if(store_batch_commit(svc->store) != STORE_OK){
		SVC_LOG(svc, JOBS_LOG_ERR, "jobs: commit of a batch failed: %s", store_errmsg(svc->store));
		svc->wake_known = false; /* the rolled-back batch may have set timers */
		fail_batch(svc, ob, now_ms / 1000);
		return false;
	}
	svc->committed_seq = svc->batch_seq;
	return true;
}

/* Takes the reply to front_end_client appended since `mark` out of the outbox. */
static int take_reply(struct outbox *ob, size_t mark, char **reply, char **topic)
{
	for(size_t i = mark; i < ob->count; i++){
		struct outbox_msg *m = &ob->msgs[i];
		if(!m->client_id || strcmp(m->client_id, front_end_client) != 0) continue;
		*reply = m->payload;
		*topic = m->topic;
		m->payload = NULL;
		m->topic = NULL;
		free(m->client_id);
		free(m->correlation);
		memmove(m, m + 1, (ob->count - i - 1) * sizeof(*m));
		ob->count--;
		return 0;
	}
	return -1;
}

int service_device_call(struct service *svc, const char *topic, const char *payload, size_t len,
		int64_t now_ms, struct outbox *ob, char **reply, bool *accepted)
{
	struct jobs_request req = {
		.client_id = front_end_client, .topic = topic, .payload = payload, .payload_len = len,
		.qos = 1, .now = now_ms / 1000, .now_ms = now_ms,
	};
	size_t mark = ob->count;
	char *reply_topic = NULL;
	service_handle_device(svc, &req, ob);
	if(take_reply(ob, mark, reply, &reply_topic) != 0) return -1;
	*accepted = ends_with(reply_topic, "/accepted");
	free(reply_topic);
	return 0;
}

int service_control_call(struct service *svc, const char *who, const char *request, size_t len,
		int64_t now_ms, struct outbox *ob, char **response)
{
	struct jobs_request req = {
		.client_id = front_end_client, .username = who, .topic = JOBS_CONTROL_TOPIC, .payload = request, .payload_len = len,
		.qos = 1, .now = now_ms / 1000, .now_ms = now_ms,
	};
	size_t mark = ob->count;
	char *topic = NULL;
	service_handle_control(svc, &req, ob);
	int rc = take_reply(ob, mark, response, &topic);
	free(topic);
	return rc;
}

int service_job_refresh(struct service *svc, const char *job_id, int64_t job_seq, int64_t now)
{
	struct store_job job;
	bool pending;
	int64_t waiting = 0;
	int rc = store_job_has_pending(svc->store, job_seq, &pending);
	if(rc == STORE_OK && !pending) rc = store_rollout_count(svc->store, job_seq, &waiting);
	if(rc != STORE_OK || pending || waiting) return rc == STORE_OK ? 0 : -1;
	if(store_job_get_state(svc->store, job_id, &job) != STORE_OK) return -1;
	if(job.status == JOB_IN_PROGRESS && job.target_selection == TARGET_SNAPSHOT){
		job.status = JOB_COMPLETED;
		job.completed_at = now;
		job.last_updated_at = now;
		rc = store_job_update(svc->store, &job);
	}
	store_job_free(&job);
	return rc == STORE_OK ? 0 : -1;
}
