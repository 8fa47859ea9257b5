/* The management API's MQTT envelope: a request on $CONTROL/jobs/v1
 * ({"commands":[…]}) taken apart into commands for the service, and their typed results
 * put together into the response ({"responses":[…]}, errors as "<Exception>:
 * <message>"), on the response topic and an MQTT 5 request's own. */
#include "mqtt/mqtt_control.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/shapes.h"
#include "mqtt/topic.h"
#include "util/jsonfield.h"
#include "util/utf8.h"

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
		.qos = mqtt_reply_qos(req->qos) };
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

/* The head of a command's response entry: its name and correlationData. */
static cJSON *entry_for(const cJSON *cmd)
{
	cJSON *resp = cJSON_CreateObject();
	if(!resp) return NULL;
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(cmd, "command");
	const cJSON *correlation = cJSON_GetObjectItemCaseSensitive(cmd, "correlationData");
	cJSON_AddStringToObject(resp, "command", cJSON_IsString(name) ? name->valuestring : "");
	if(correlation) cJSON_AddItemToObject(resp, "correlationData", cJSON_Duplicate(correlation, true));
	return resp;
}

/* The response entry of one command: its name and correlationData, then its data or
 * its error ("<Exception>: <message>"). */
static cJSON *run_command(struct service *svc, const struct control_request *creq, const cJSON *cmd,
		struct outbox *ob)
{
	cJSON *resp = entry_for(cmd);
	if(!resp) return NULL;
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

/* The response of a request whose batch failed: what it did is gone. Each command keeps
 * its name and correlationData (clients match answers by them), its data becomes the
 * error; a command that had failed keeps its error (it changed nothing anyway). */
static void mark_failed(cJSON *root)
{
	cJSON *entry;
	cJSON_ArrayForEach(entry, cJSON_GetObjectItemCaseSensitive(root, "responses")){
		if(cJSON_HasObjectItem(entry, "error")) continue;
		cJSON_DeleteItemFromObjectCaseSensitive(entry, "data");
		cJSON_AddStringToObject(entry, "error", "InternalFailureException: internal storage error");
	}
}

/* The same for a response already printed; one that cannot be read back becomes one
 * error for the request. */
static cJSON *failed_response(const char *sent, size_t sent_len)
{
	cJSON *root = cJSON_ParseWithLength(sent, sent_len);
	if(!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(root, "responses"))){
		cJSON_Delete(root);
		root = cJSON_CreateObject();
		add_request_error(cJSON_AddArrayToObject(root, "responses"), "InternalFailureException: internal storage error");
		return root;
	}
	mark_failed(root);
	return root;
}

char *mqtt_control_failed_payload(const char *sent, size_t sent_len, size_t *len)
{
	return shapes_print(failed_response(sent, sent_len), len);
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
			.now_ms = mqtt_request_ms(req) };
		const cJSON *cmd;
		cJSON_ArrayForEach(cmd, list){
			/* A storage failure that rolled the whole batch back undid this request's
			 * earlier commands too: the rest are not run, and each entry says it failed. */
			cJSON *resp = service_batches_lost(svc) == lost ? run_command(svc, &creq, cmd, ob) : entry_for(cmd);
			if(resp) cJSON_AddItemToArray(responses, resp);
		}
	}
	cJSON_Delete(body);
	if(service_batches_lost(svc) != lost) mark_failed(root);
	respond(req, ob, root);
}
