/* The MQTT request path of devices: topics to typed requests, typed results to AWS's
 * MQTT replies, test controls' faults and transcripts, and the rewrite of a failed
 * batch's replies (the management envelope is mqtt_control.c's). */
#include "mqtt/mqtt_jobs.h"

#include "core/shapes.h"
#include "mqtt/mqtt_control.h"
#include "mqtt/testctl_apply.h"
#include "util/jsonw.h"

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
		.topic = req->topic, .client_token = r->client_token, .qos = mqtt_reply_qos(req->qos),
	};
	return outbox_add(ob, &a, payload, len);
}

/* A device request, with test controls on (tc) recorded and the thing's next fault
 * for the operation applied: a rejection instead of the request, or the request and
 * then its reply withheld, delayed or doubled. real_ms: the request's real time. */
static void device(struct service *svc, const struct jobs_request *req, const struct jobs_topic *topic,
		struct testctl *tc, struct outbox *ob)
{
	int64_t real_ms = mqtt_request_ms(req);
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
		testctl_record_publish(tc, mqtt_request_ms(req), false, req->topic, req->payload, req->payload_len, NULL);
		break;
	case TOPIC_INVALID: {
		testctl_record_publish(tc, mqtt_request_ms(req), false, req->topic, req->payload, req->payload_len, NULL);
		struct device_request dr = {
			.body = req->payload, .body_len = req->payload_len, .now_ms = mqtt_request_ms(req), .requester = req->client_id,
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

/* ---- a failed batch ---- */

void mqtt_jobs_fail_batch(void *ctx, struct outbox *ob, uint64_t batch, int64_t now)
{
	(void)ctx;
	for(size_t i = 0; i < ob->count; i++){
		struct outbox_msg *m = &ob->msgs[i];
		if(m->held_by != batch) continue;
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
			payload = mqtt_control_failed_payload(m->payload, m->payload_len, &len);
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
