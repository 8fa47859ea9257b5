/* The management API on $CONTROL/jobs/v1 (spec section 10): the envelope, the
 * command table, and the helpers every command shares.
 *
 * Request {"commands":[{"command":…,"correlationData":…,…}, …]}; each command runs
 * in its own transaction and gets one entry, in order, in
 * {"responses":[{"command":…,"correlationData":…,"data":{…}} or {…,"error":"…"}]}.
 * The handlers live in one file per noun: control_jobs.c, control_executions.c,
 * control_groups.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/control_internal.h"
#include "util/names.h"
#include "core/notify.h"
#include "core/shapes.h"
#include "util/utf8.h"

#define PAGE_DEFAULT 50
#define PAGE_MAX 250

/* ---- shared helpers ---- */

int control_fail(struct control_ctx *c, const char *exception, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(c->error, sizeof(c->error), "%s: %s", exception, msg);
	return -1;
}

int control_fail_invalid(struct control_ctx *c, const struct jf_error *err)
{
	return control_fail(c, "InvalidRequestException", "%s", err->msg);
}

int control_fail_store(struct control_ctx *c)
{
	SVC_LOG(c->svc, JOBS_LOG_ERR, "jobs: storage error: %s", store_errmsg(c->svc->store));
	return control_fail(c, "InternalFailureException", "internal storage error");
}

bool control_add_arn(struct control_ctx *c, cJSON *obj, const char *key, const char *kind, const char *name)
{
	char buf[512];
	snprintf(buf, sizeof(buf), "arn:aws:iot:%s:%s:%s/%s", c->svc->region, c->svc->account_id, kind, name);
	return cJSON_AddStringToObject(obj, key, buf) != NULL;
}

int control_job_id(struct control_ctx *c, const cJSON *cmd)
{
	const char *job_id;
	struct jf_error err;
	int rc = jf_string(cmd, "jobId", &job_id, &err);
	if(rc == JF_ABSENT) return control_fail(c, "InvalidRequestException", "jobId is required");
	if(rc != JF_OK) return control_fail_invalid(c, &err);
	if(!names_job_id_valid(job_id, strlen(job_id))){
		return control_fail(c, "InvalidRequestException", "jobId must be 1-64 characters of [a-zA-Z0-9_-]");
	}
	snprintf(c->job_id, sizeof(c->job_id), "%s", job_id);
	return 0;
}

int control_load_job(struct control_ctx *c, struct store_job *job)
{
	int rc = store_job_get(c->svc->store, c->job_id, job);
	if(rc == STORE_NOT_FOUND) return control_fail(c, "ResourceNotFoundException", "job %s does not exist", c->job_id);
	if(rc != STORE_OK) return control_fail_store(c);
	return 0;
}

int control_name(struct control_ctx *c, const cJSON *cmd, const char *key, char *out)
{
	const char *name;
	struct jf_error err;
	int rc = jf_string(cmd, key, &name, &err);
	if(rc == JF_ABSENT) return control_fail(c, "InvalidRequestException", "%s is required", key);
	if(rc != JF_OK) return control_fail_invalid(c, &err);
	if(!names_thing_valid(name, strlen(name))){
		return control_fail(c, "InvalidRequestException", "%s must be 1-128 characters of [a-zA-Z0-9:_-]", key);
	}
	strcpy(out, name);
	return 0;
}

int control_text(struct control_ctx *c, const cJSON *cmd, const char *key, size_t max, const char **out)
{
	struct jf_error err;
	*out = NULL;
	if(jf_string(cmd, key, out, &err) == JF_BAD) return control_fail_invalid(c, &err);
	if(*out && utf8_length(*out) > max){
		return control_fail(c, "InvalidRequestException", "%s must be at most %zu characters", key, max);
	}
	return 0;
}

int control_status_filter(struct control_ctx *c, const cJSON *cmd, int *status)
{
	const char *name = NULL;
	struct jf_error err;
	enum exec_status s;
	*status = -1;
	if(jf_string(cmd, "status", &name, &err) == JF_BAD) return control_fail_invalid(c, &err);
	if(!name) return 0;
	if(!status_parse(name, &s)) return control_fail(c, "InvalidRequestException", "unknown status %.32s", name);
	*status = (int)s;
	return 0;
}

int control_page(struct control_ctx *c, const cJSON *cmd, struct control_page *page)
{
	struct jf_error err;
	long long limit = PAGE_DEFAULT, offset = 0;
	const char *token = NULL;
	if(jf_long(cmd, "maxResults", 1, PAGE_MAX, &limit, &err) == JF_BAD) return control_fail_invalid(c, &err);
	if(jf_string(cmd, "nextToken", &token, &err) == JF_BAD) return control_fail_invalid(c, &err);
	if(token){
		char *end;
		offset = strtoll(token, &end, 10);
		if(*token == '\0' || *end != '\0' || offset < 0){
			return control_fail(c, "InvalidRequestException", "nextToken is not one this API returned");
		}
	}
	page->offset = offset;
	page->limit = (int)limit;
	return 0;
}

void control_page_next(cJSON *data, const struct control_page *page, size_t fetched)
{
	if(fetched <= (size_t)page->limit) return;
	char token[32];
	snprintf(token, sizeof(token), "%lld", (long long)(page->offset + page->limit));
	cJSON_AddStringToObject(data, "nextToken", token);
}

/* ---- dispatch ---- */

static const struct {
	const char *name;
	control_fn fn;
} commands[] = {
	{ "createJob", control_create_job },
	{ "cancelJob", control_cancel_job },
	{ "deleteJob", control_delete_job },
	{ "describeJob", control_describe_job },
	{ "getJobDocument", control_get_job_document },
	{ "listJobs", control_list_jobs },
	{ "describeJobExecution", control_describe_job_execution },
	{ "cancelJobExecution", control_cancel_job_execution },
	{ "deleteJobExecution", control_delete_job_execution },
	{ "listJobExecutionsForJob", control_list_job_executions_for_job },
	{ "listJobExecutionsForThing", control_list_job_executions_for_thing },
	{ "createThingGroup", control_create_thing_group },
	{ "deleteThingGroup", control_delete_thing_group },
	{ "addThingToThingGroup", control_add_thing_to_thing_group },
	{ "removeThingFromThingGroup", control_remove_thing_from_thing_group },
	{ "listThingsInThingGroup", control_list_things_in_thing_group },
	{ "listThingGroups", control_list_thing_groups },
	{ "setFaults", control_set_faults },
	{ "clearFaults", control_clear_faults },
	{ "resendNotifyNext", control_resend_notify_next },
	{ "disconnectThing", control_disconnect_thing },
	{ "advanceTime", control_advance_time },
	{ "startTranscript", control_start_transcript },
	{ "getTranscript", control_get_transcript },
	{ "stopTranscript", control_stop_transcript },
};

static control_fn find_command(const char *name)
{
	for(size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++){
		if(strcmp(commands[i].name, name) == 0) return commands[i].fn;
	}
	return NULL;
}

/* Runs one command in its own transaction; returns its response entry. */
static cJSON *run_command(struct control_ctx *c, const cJSON *cmd)
{
	cJSON *resp = cJSON_CreateObject();
	if(!resp) return NULL;
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(cmd, "command");
	const cJSON *correlation = cJSON_GetObjectItemCaseSensitive(cmd, "correlationData");
	c->job_id[0] = '\0';
	c->error[0] = '\0';

	cJSON_AddStringToObject(resp, "command", cJSON_IsString(name) ? name->valuestring : "");
	if(correlation) cJSON_AddItemToObject(resp, "correlationData", cJSON_Duplicate(correlation, true));

	control_fn fn = NULL;
	if(!cJSON_IsObject(cmd)) control_fail(c, "InvalidRequestException", "each command must be a JSON object");
	else if(!cJSON_IsString(name)) control_fail(c, "InvalidRequestException", "command must be a string");
	else if(!(fn = find_command(name->valuestring))){
		control_fail(c, "InvalidRequestException", "unknown command '%.64s'", name->valuestring);
	}

	if(fn){
		size_t mark = c->ob->count;
		cJSON *data = cJSON_CreateObject();
		int rc = store_begin(c->svc->store) == STORE_OK ? 0 : control_fail_store(c);
		if(rc == 0) rc = data ? fn(c, cmd, data) : control_fail(c, "InternalFailureException", "out of memory");
		if(rc == 0 && notify_emit(c->svc, c->req->now, c->ob) != 0) rc = control_fail_store(c);
		if(rc == 0 && store_commit(c->svc->store) != STORE_OK) rc = control_fail_store(c);
		else if(rc != 0){
			notify_discard(c->svc);
			store_rollback(c->svc->store);
		}
		if(rc == 0){
			cJSON_AddItemToObject(resp, "data", data);
		}else{
			cJSON_Delete(data);
			outbox_truncate(c->ob, mark);
		}
	}
	if(c->error[0]) cJSON_AddStringToObject(resp, "error", c->error);

	const char *user = c->req->username;
	SVC_LOG(c->svc, c->error[0] ? JOBS_LOG_WARNING : JOBS_LOG_NOTICE,
			"jobs: admin client=%s user=%s command=%s job=%s outcome=%s",
			c->req->client_id ? c->req->client_id : "", user ? user : "",
			cJSON_IsString(name) ? name->valuestring : "?", c->job_id[0] ? c->job_id : "-",
			c->error[0] ? c->error : "ok");
	return resp;
}

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
	if(outbox_add(ob, req->client_id, JOBS_CONTROL_RESPONSE_TOPIC, payload, len, reply_qos(req->qos)) == 0
			&& req->response_topic && !extra && req->correlation_len){
		outbox_set_correlation(ob, req->correlation_data, req->correlation_len);
	}
	if(copy && outbox_add(ob, req->client_id, req->response_topic, copy, len, reply_qos(req->qos)) == 0
			&& req->correlation_len){
		outbox_set_correlation(ob, req->correlation_data, req->correlation_len);
	}
}

void control_handle(struct service *svc, const struct jobs_request *req, struct outbox *ob)
{
	struct control_ctx c = { .svc = svc, .req = req, .ob = ob };
	cJSON *root = cJSON_CreateObject();
	cJSON *responses = cJSON_AddArrayToObject(root, "responses");
	if(!responses){
		cJSON_Delete(root);
		return;
	}
	if(req->response_topic && !response_topic_usable(req->response_topic)){
		add_request_error(responses, "InvalidRequestException: the MQTT 5 response topic "
				"must be a topic to publish on, not empty and without + or #; nothing was run");
		SVC_LOG(svc, JOBS_LOG_WARNING, "jobs: admin client=%s gave an unusable response topic",
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
	if(!cJSON_IsArray(list)){
		add_request_error(responses, "InvalidRequestException: payload must be a UTF-8 JSON object with a commands array");
		SVC_LOG(svc, JOBS_LOG_WARNING, "jobs: admin client=%s sent a malformed request",
				req->client_id ? req->client_id : "");
	}else if(count > JOBS_CONTROL_MAX_COMMANDS){
		char error[160];
		snprintf(error, sizeof(error), "LimitExceededException: a request holds at most %d commands, "
				"this one %d; none was run", JOBS_CONTROL_MAX_COMMANDS, count);
		add_request_error(responses, error);
		SVC_LOG(svc, JOBS_LOG_WARNING, "jobs: admin client=%s sent %d commands in one request (at most %d): "
				"none was run", req->client_id ? req->client_id : "", count, JOBS_CONTROL_MAX_COMMANDS);
	}else{
		const cJSON *cmd;
		cJSON_ArrayForEach(cmd, list){
			/* A storage failure that rolled the whole batch back undid this request's
			 * earlier commands too: the rest are not run (the batch's replies all
			 * become errors, service.c batch_check). */
			if(svc->batch_open && !store_in_transaction(svc->store)) break;
			cJSON *resp = run_command(&c, cmd);
			if(resp) cJSON_AddItemToArray(responses, resp);
		}
	}
	cJSON_Delete(body);
	respond(req, ob, root);
}
