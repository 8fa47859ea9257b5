/* The MQTT request path: topics to typed requests, typed results to AWS's MQTT
 * replies, the management envelope, test controls' faults and transcripts, and the
 * rewrite of a failed batch's replies. */
#include "mqtt/mqtt_jobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/shapes.h"
#include "mqtt/testctl_apply.h"
#include "util/jsonfield.h"
#include "util/jsonw.h"
#include "util/utf8.h"

/* Request time in ms (requests from tests may carry only seconds). */
static int64_t request_ms(const struct jobs_request *req)
{
	return req->now_ms ? req->now_ms : req->now * 1000;
}

/* Reply QoS: AWS answers at most at QoS 1. */
static int reply_qos(int request_qos)
{
	return request_qos > 1 ? 1 : request_qos;
}

/* ---- device replies ---- */

/* The members of a rejection, in AWS's order. */
static void write_rejection(struct jsonw *w, const char *code, const char *message, const struct store_exec *state)
{
	jsonw_key_string(w, "code", code);
	jsonw_key_string(w, "message", message);
	if(state){
		jsonw_key(w, "executionState");
		shapes_write_state(w, state);
	}
}

/* The members of an accepted reply to `op`. */
static void write_accepted(struct jsonw *w, enum device_op op, const struct device_result *r)
{
	const struct store_exec *e = device_result_execution(r);
	switch(op){
	case DEVICE_GET_PENDING:
		shapes_write_pending(w, r->rows, r->nrows);
		break;
	case DEVICE_START_NEXT:
	case DEVICE_DESCRIBE:
		if(e){
			jsonw_key(w, "execution");
			shapes_write_execution(w, e, r->with_document, r->timed ? &r->seconds_left : NULL);
		}
		break;
	case DEVICE_UPDATE:
		if(e && r->include_state){
			jsonw_key(w, "executionState");
			shapes_write_state(w, e);
		}
		if(e && r->include_document && e->document) jsonw_key_raw(w, "jobDocument", e->document);
		break;
	}
}

/* Ends the reply object `w` holds with the clientToken and the timestamp. Returns
 * the payload (malloc'd) or NULL. */
static char *end_reply(struct jsonw *w, const char *client_token, int64_t timestamp, size_t *len)
{
	if(client_token) jsonw_key_string(w, "clientToken", client_token);
	jsonw_key_int(w, "timestamp", timestamp);
	jsonw_object_end(w);
	return jsonw_finish(w, len);
}

/* Appends the reply to the request on req->topic (`op` shapes an accepted reply);
 * returns 0, or -1 when out of memory. */
static int reply(const struct jobs_request *req, enum device_op op, const struct device_result *r, struct outbox *ob)
{
	struct jsonw w;
	jsonw_init(&w);
	jsonw_object_begin(&w);
	if(r->error == DEVICE_OK) write_accepted(&w, op, r);
	else write_rejection(&w, device_error_code(r->error), r->message, r->state_in_error ? &r->exec : NULL);
	size_t len;
	char *payload = end_reply(&w, r->client_token, r->timestamp, &len);
	if(!payload) return -1;
	struct outbox_addr a = {
		.kind = r->error == DEVICE_OK ? OUTBOX_ACCEPTED : OUTBOX_REJECTED, .client_id = req->client_id,
		.topic = req->topic, .client_token = r->client_token, .qos = reply_qos(req->qos),
	};
	return outbox_add(ob, &a, payload, len);
}

/* A device request, with test controls on (tc) recorded and the thing's next fault
 * for the operation applied: a rejection instead of the request, or the request and
 * then its reply withheld, delayed or doubled. real_ms: the request's real time. */
static void device(struct service *svc, const struct jobs_request *req, const struct jobs_topic *topic,
		struct testctl *tc, struct outbox *ob)
{
	int64_t real_ms = request_ms(req);
	struct device_request dr = {
		.thing = topic->thing, .namespace_id = topic->namespace_id, .op = topic->op, .job_id = topic->job_id,
		.body = req->payload, .body_len = req->payload_len, .now_ms = real_ms, .requester = req->client_id,
	};
	struct testctl_fault f;
	bool faulted = false;
	if(tc){
		faulted = testctl_take_fault(tc, topic->thing, testctl_op_of(topic->op), &f);
		testctl_record_publish(tc, real_ms, false, req->topic, req->payload, req->payload_len,
				faulted ? testctl_action_name(f.action) : NULL);
	}
	struct device_result r;
	enum device_error code;
	if(faulted && f.action == TESTCTL_REJECT && device_error_parse(f.code, &code)){
		service_device_refuse(svc, &dr, code, "injected by the broker's test controls (setFaults)", &r);
	}else{
		service_device(svc, &dr, &r, ob);
	}
	size_t at = ob->count;
	int rc = reply(req, topic->op, &r, ob);
	device_result_free(&r);
	if(!faulted) return;
	service_log(svc, JOBS_LOG_NOTICE, "jobs: test controls: fault %s applied to %s", testctl_action_name(f.action),
			req->topic);
	if(rc == 0) testctl_apply_fault(&f, ob, at, real_ms);
}

bool mqtt_jobs_device(struct service *svc, const struct jobs_request *req, struct outbox *ob)
{
	struct jobs_topic topic;
	struct testctl *tc = service_testctl(svc);
	switch(topic_parse(req->topic, &topic)){
	case TOPIC_NOT_JOBS:
		return false;
	case TOPIC_IGNORED:
		testctl_record_publish(tc, request_ms(req), false, req->topic, req->payload, req->payload_len, NULL);
		break;
	case TOPIC_INVALID: {
		testctl_record_publish(tc, request_ms(req), false, req->topic, req->payload, req->payload_len, NULL);
		struct device_request dr = {
			.body = req->payload, .body_len = req->payload_len, .now_ms = request_ms(req), .requester = req->client_id,
		};
		struct device_result r;
		/* The clientToken is echoed here too when the payload carries one. */
		service_device_refuse(svc, &dr, DEVICE_INVALID_TOPIC, "the topic maps to no jobs operation", &r);
		reply(req, DEVICE_GET_PENDING, &r, ob);
		device_result_free(&r);
		break;
	}
	case TOPIC_REQUEST:
		device(svc, req, &topic, tc, ob);
		break;
	}
	return true;
}

/* ---- the management envelope ---- */

/* The one response of a request refused whole. */
static void add_request_error(cJSON *responses, const char *error)
{
	cJSON *resp = cJSON_CreateObject();
	if(resp && cJSON_AddStringToObject(resp, "error", error)) cJSON_AddItemToArray(responses, resp);
	else cJSON_Delete(resp);
}

/* An MQTT 5 response topic is a topic to publish on: no wildcards. The broker
 * checks neither, and would deliver a PUBLISH whose topic holds '+' or '#'. */
static bool response_topic_usable(const char *topic)
{
	return topic[0] != '\0' && !strpbrk(topic, "+#");
}

static int add_response(struct outbox *ob, const struct jobs_request *req, const char *topic, char *payload,
		size_t len)
{
	struct outbox_addr a = { .kind = OUTBOX_RESPONSE, .client_id = req->client_id, .topic = topic,
		.qos = reply_qos(req->qos) };
	return outbox_add(ob, &a, payload, len);
}

/* Appends the response for the requester, and for an MQTT 5 request also on its
 * response topic with its correlation data. */
static void respond(const struct jobs_request *req, struct outbox *ob, cJSON *root)
{
	size_t len;
	char *payload = shapes_print(root, &len);
	if(!payload) return;
	bool extra = req->response_topic && strcmp(req->response_topic, JOBS_CONTROL_RESPONSE_TOPIC) != 0;
	char *copy = extra ? malloc(len + 1) : NULL;
	if(copy) memcpy(copy, payload, len + 1);
	if(add_response(ob, req, JOBS_CONTROL_RESPONSE_TOPIC, payload, len) == 0
			&& req->response_topic && !extra && req->correlation_len){
		outbox_set_correlation(ob, req->correlation_data, req->correlation_len);
	}
	if(copy && add_response(ob, req, req->response_topic, copy, len) == 0 && req->correlation_len){
		outbox_set_correlation(ob, req->correlation_data, req->correlation_len);
	}
}

/* The response entry of one command: its name and correlationData, then its data or
 * its error ("<Exception>: <message>"). */
static cJSON *run_command(struct service *svc, const struct control_request *creq, const cJSON *cmd,
		struct outbox *ob)
{
	cJSON *resp = cJSON_CreateObject();
	if(!resp) return NULL;
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(cmd, "command");
	const cJSON *correlation = cJSON_GetObjectItemCaseSensitive(cmd, "correlationData");
	cJSON_AddStringToObject(resp, "command", cJSON_IsString(name) ? name->valuestring : "");
	if(correlation) cJSON_AddItemToObject(resp, "correlationData", cJSON_Duplicate(correlation, true));
	struct control_result r;
	service_control(svc, creq, cmd, &r, ob);
	if(r.data){
		cJSON_AddItemToObject(resp, "data", r.data);
		r.data = NULL;
	}
	if(r.exception){
		char error[CONTROL_MESSAGE_MAX + 64];
		snprintf(error, sizeof(error), "%s: %s", r.exception, r.message);
		cJSON_AddStringToObject(resp, "error", error);
	}
	control_result_free(&r);
	return resp;
}

/* The response of a request whose batch failed: what it did is gone. */
static cJSON *failed_response(void)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *list = cJSON_AddArrayToObject(root, "responses");
	add_request_error(list, "InternalFailureException: internal storage error");
	return root;
}

void mqtt_jobs_control(struct service *svc, const struct jobs_request *req, struct outbox *ob)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *responses = cJSON_AddArrayToObject(root, "responses");
	if(!responses){
		cJSON_Delete(root);
		return;
	}
	if(req->response_topic && !response_topic_usable(req->response_topic)){
		add_request_error(responses, "InvalidRequestException: the MQTT 5 response topic "
				"must be a topic to publish on, not empty and without + or #; nothing was run");
		service_log(svc, JOBS_LOG_WARNING, "jobs: admin client=%s gave an unusable response topic",
				req->client_id ? req->client_id : "");
		struct jobs_request plain = *req;
		plain.response_topic = JOBS_CONTROL_RESPONSE_TOPIC;
		respond(&plain, ob, root);
		return;
	}
	cJSON *body = NULL;
	const cJSON *list = NULL;
	if(req->payload_len && utf8_valid(req->payload, req->payload_len)
			&& !utf8_json_has_escaped_nul(req->payload, req->payload_len)){
		body = jf_parse_strict(req->payload, req->payload_len);
		list = cJSON_GetObjectItemCaseSensitive(body, "commands");
	}
	int count = cJSON_GetArraySize(list);
	uint64_t lost = service_batches_lost(svc);
	if(!cJSON_IsArray(list)){
		add_request_error(responses, "InvalidRequestException: payload must be a UTF-8 JSON object with a commands array");
		service_log(svc, JOBS_LOG_WARNING, "jobs: admin client=%s sent a malformed request",
				req->client_id ? req->client_id : "");
	}else if(count > JOBS_CONTROL_MAX_COMMANDS){
		char error[160];
		snprintf(error, sizeof(error), "LimitExceededException: a request holds at most %d commands, "
				"this one %d; none was run", JOBS_CONTROL_MAX_COMMANDS, count);
		add_request_error(responses, error);
		service_log(svc, JOBS_LOG_WARNING, "jobs: admin client=%s sent %d commands in one request (at most %d): "
				"none was run", req->client_id ? req->client_id : "", count, JOBS_CONTROL_MAX_COMMANDS);
	}else{
		struct control_request creq = { .client_id = req->client_id, .username = req->username,
			.now_ms = request_ms(req) };
		const cJSON *cmd;
		cJSON_ArrayForEach(cmd, list){
			cJSON *resp = run_command(svc, &creq, cmd, ob);
			if(resp) cJSON_AddItemToArray(responses, resp);
			/* A storage failure that rolled the whole batch back undid this request's
			 * earlier commands too: the rest are not run, and the response says so. */
			if(service_batches_lost(svc) != lost) break;
		}
	}
	cJSON_Delete(body);
	if(service_batches_lost(svc) != lost){
		cJSON_Delete(root);
		root = failed_response();
	}
	respond(req, ob, root);
}

/* ---- a failed batch ---- */

void mqtt_jobs_fail_batch(void *ctx, struct outbox *ob, size_t from, int64_t now)
{
	(void)ctx;
	for(size_t i = from; i < ob->count; i++){
		struct outbox_msg *m = &ob->msgs[i];
		size_t len = 0;
		char *payload = NULL;
		if(m->kind == OUTBOX_ACCEPTED){
			struct jsonw w;
			jsonw_init(&w);
			jsonw_object_begin(&w);
			write_rejection(&w, "InternalError", "internal storage error", NULL);
			payload = end_reply(&w, m->client_token, now, &len);
			m->kind = OUTBOX_REJECTED;
		}else if(m->kind == OUTBOX_RESPONSE){
			payload = shapes_print(failed_response(), &len);
		}else{
			continue;
		}
		outbox_set_payload(ob, i, payload, len);
	}
}

/* ---- transcripts ---- */

void mqtt_jobs_sent(struct service *svc, const struct outbox_msg *m, const char *topic, int64_t now_ms)
{
	testctl_record_publish(service_testctl(svc), now_ms, true, topic, m->payload, m->payload_len, m->fault);
}
