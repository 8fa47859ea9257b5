/* AWS-compatible HTTP API: routes, request mapping and response shapes.
 *
 * Data plane (iot-jobs-data): each route becomes the typed device request it stands
 * for (service_device, as MQTT requests), and the result is rendered as AWS's HTTP
 * model has it: jobDocument as a string, thingName in the execution, no timestamp or
 * clientToken, errors as status + {"message"} + x-amzn-ErrorType.
 * Control plane (iot): each route becomes one management command (service_control);
 * the command's data is the response body, its exception the error. */
#include "http/http_api.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/shapes.h"
#include "util/hex.h"
#include "util/jsonfield.h"
#include "util/jsonw.h"
#include "util/names.h"
#include "util/strbuf.h"
#include "util/utf8.h"
#include "core/service.h"

#define MAX_SEGMENTS 8
#define MAX_PARAMS 16

struct parsed {
	char *segments[MAX_SEGMENTS];   /* decoded path segments */
	int nsegments;
	char *keys[MAX_PARAMS];         /* decoded query */
	char *values[MAX_PARAMS];
	int nparams;
};

void http_api_error(struct http_response *out, int status, const char *type, const char *message)
{
	cJSON *root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "message", message);
	out->status = status;
	out->content_type = NULL;
	snprintf(out->error_type, sizeof(out->error_type), "%s", type);
	out->body = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
}

static void ok(struct http_response *out, cJSON *root)
{
	out->status = 200;
	out->error_type[0] = '\0';
	out->body = root ? jf_print_exact(root) : strdup("{}");
	cJSON_Delete(root);
	if(!out->body) http_api_error(out, 500, "InternalFailureException", "out of memory");
}

/* ---- parsing ---- */

/* Percent-decodes s[0..len) into a new string ('+' stays '+': AWS encodes spaces as
 * %20). NULL on a malformed escape or an encoded NUL. */
static char *decode(const char *s, size_t len)
{
	char *out = malloc(len + 1);
	if(!out) return NULL;
	size_t j = 0;
	for(size_t i = 0; i < len; i++){
		if(s[i] == '%'){
			int hi = i + 2 < len ? hex_digit(s[i + 1]) : -1;
			int lo = i + 2 < len ? hex_digit(s[i + 2]) : -1;
			if(hi < 0 || lo < 0 || (hi == 0 && lo == 0)){
				free(out);
				return NULL;
			}
			out[j++] = (char)(hi * 16 + lo);
			i += 2;
		}else{
			out[j++] = s[i];
		}
	}
	out[j] = '\0';
	return out;
}

static void parsed_free(struct parsed *p)
{
	for(int i = 0; i < p->nsegments; i++) free(p->segments[i]);
	for(int i = 0; i < p->nparams; i++){
		free(p->keys[i]);
		free(p->values[i]);
	}
}

static int parse(const struct http_request *req, struct parsed *p)
{
	memset(p, 0, sizeof(*p));
	const char *s = req->path;
	if(*s != '/') return -1;
	while(*s == '/'){
		s++;
		if(!*s) break;
		const char *end = strchr(s, '/');
		size_t len = end ? (size_t)(end - s) : strlen(s);
		if(p->nsegments == MAX_SEGMENTS || !(p->segments[p->nsegments++] = decode(s, len))) return -1;
		s += len;
	}
	for(const char *q = req->query; q && *q;){
		const char *amp = strchr(q, '&');
		size_t len = amp ? (size_t)(amp - q) : strlen(q);
		const char *eq = memchr(q, '=', len);
		if(len){
			if(p->nparams == MAX_PARAMS) return -1;
			size_t klen = eq ? (size_t)(eq - q) : len;
			p->keys[p->nparams] = decode(q, klen);
			p->values[p->nparams] = eq ? decode(eq + 1, len - klen - 1) : strdup("");
			if(!p->keys[p->nparams] || !p->values[p->nparams]){
				p->nparams++;
				return -1;
			}
			p->nparams++;
		}
		q += len + (amp ? 1 : 0);
	}
	return 0;
}

/* Matches the path's segments against a pattern: literal segments, and "*" for any. */
static bool route(const struct parsed *p, const char *const *pattern, int n)
{
	if(p->nsegments != n) return false;
	for(int i = 0; i < n; i++){
		if(strcmp(pattern[i], "*") != 0 && strcmp(pattern[i], p->segments[i]) != 0) return false;
	}
	return true;
}

/* The body as a JSON object ({} when empty); NULL when it is not one. */
static cJSON *body_object(const struct http_request *req)
{
	if(!req->body_len) return cJSON_CreateObject();
	cJSON *root = jf_parse_strict(req->body, req->body_len);
	if(!cJSON_IsObject(root)){
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

/* Whether what a control-plane call hands the service is UTF-8: the path's segments,
 * the query, and the body when the route reads it (over MQTT, a management request
 * that is not UTF-8 is refused whole). */
static bool call_utf8(const struct http_request *req, const struct parsed *p, bool with_body)
{
	if(with_body && req->body_len && !utf8_valid(req->body, req->body_len)) return false;
	for(int i = 0; i < p->nsegments; i++){
		if(!utf8_valid(p->segments[i], strlen(p->segments[i]))) return false;
	}
	for(int i = 0; i < p->nparams; i++){
		if(!utf8_valid(p->keys[i], strlen(p->keys[i])) || !utf8_valid(p->values[i], strlen(p->values[i]))) return false;
	}
	return true;
}

/* Query parameters into JSON fields: typed as AWS's models type them. */
static void add_params(cJSON *obj, const struct parsed *p)
{
	static const char *const numbers[] = { "maxResults", "executionNumber", "expectedVersion", NULL };
	static const char *const booleans[] = { "force", "includeJobDocument", "usePrefixAttributeValue", NULL };
	for(int i = 0; i < p->nparams; i++){
		const char *k = p->keys[i], *v = p->values[i];
		bool done = false;
		cJSON_DeleteItemFromObjectCaseSensitive(obj, k);
		for(int j = 0; numbers[j] && !done; j++){
			if(strcmp(k, numbers[j]) == 0){
				/* kept as a string of digits when it is one: the service checks ranges */
				char *end;
				double d = strtod(v, &end);
				if(*v && !*end) cJSON_AddNumberToObject(obj, k, d);
				else cJSON_AddStringToObject(obj, k, v);
				done = true;
			}
		}
		for(int j = 0; booleans[j] && !done; j++){
			if(strcmp(k, booleans[j]) == 0){
				if(strcmp(v, "true") == 0) cJSON_AddTrueToObject(obj, k);
				else if(strcmp(v, "false") == 0) cJSON_AddFalseToObject(obj, k);
				else cJSON_AddStringToObject(obj, k, v);
				done = true;
			}
		}
		if(!done) cJSON_AddStringToObject(obj, k, v);
	}
}

/* ---- who may do what ---- */

/* What a request acts on: nothing yet (whether it acts as anyone at all), one
 * thing's jobs (the data plane), or the management API (the control plane). */
enum target { TARGET_NONE, TARGET_THING, TARGET_CONTROL };

/* The one place where a request is refused for who it comes from (the server refuses
 * bad signatures): true when allowed, else the 403 is in out. The identity may do what
 * it may do over MQTT (access.h), where deferring to the broker's ACL is a refusal:
 * HTTP requests cannot be put to it. */
static bool authorize(const struct access_config *access, const struct http_request *req, enum target target,
		const char *thing, struct http_response *out)
{
	char why[512];
	const char *id = req->identity;
	bool control = target == TARGET_CONTROL;
	if(!id){
		snprintf(why, sizeof(why), "unsigned requests act as the identity plugin_opt_http_unsigned_identity names, "
				"and it is not set");
	}else if(target == TARGET_NONE){
		return true;
	}else{
		switch(control ? access_decide_control(access, id) : access_decide_thing(access, id, thing)){
		case ACCESS_ALLOW:
			return true;
		case ACCESS_DENY:
			if(control){
				snprintf(why, sizeof(why), "'%s' is not an operator (plugin_opt_operators): the iot control plane "
						"is for operators only", id);
			}else{
				snprintf(why, sizeof(why), "'%s' may not act as thing '%s': an identity acts as its own thing "
						"and those plugin_opt_grant_%s names", id, thing, id);
			}
			break;
		case ACCESS_DEFER:
			snprintf(why, sizeof(why), "%s: the broker's own ACL decides over MQTT, and it cannot be asked about "
					"HTTP requests", control ? "plugin_opt_control_access is broker"
					: "plugin_opt_isolation is off and plugin_opt_other_topics is defer");
			break;
		}
	}
	http_api_error(out, 403, "AccessDeniedException", why);
	return false;
}

/* ---- data plane ---- */

struct device_status {
	int status;
	const char *type;
};

/* Keyed by the error; one a request over HTTP cannot get (test controls' faults act
 * on MQTT only) has no row and would answer as InvalidRequest. */
static const struct device_status device_statuses[DEVICE_ERROR_COUNT] = {
	[DEVICE_INVALID_TOPIC] = { 400, "InvalidRequestException" },
	[DEVICE_INVALID_JSON] = { 400, "InvalidRequestException" },
	[DEVICE_INVALID_REQUEST] = { 400, "InvalidRequestException" },
	[DEVICE_RESOURCE_NOT_FOUND] = { 404, "ResourceNotFoundException" },
	/* the data plane's model has no version conflict error: botocore would not know it */
	[DEVICE_VERSION_MISMATCH] = { 409, "InvalidStateTransitionException" },
	[DEVICE_INVALID_STATE_TRANSITION] = { 409, "InvalidStateTransitionException" },
	[DEVICE_REQUEST_THROTTLED] = { 429, "ThrottlingException" },
	[DEVICE_INTERNAL_ERROR] = { 503, "ServiceUnavailableException" },
};

/* JobExecution as the HTTP model has it: jobDocument as a string, and thingName. */
static void write_execution(struct jsonw *w, const struct store_exec *e, const struct device_result *r)
{
	jsonw_object_begin(w);
	shapes_write_execution_members(w, e, false, r->timed ? &r->seconds_left : NULL);
	if(r->with_document && e->document) jsonw_key_string(w, "jobDocument", e->document);
	jsonw_key_string(w, "thingName", e->thing);
	jsonw_object_end(w);
}

/* The body of an accepted device request. */
static char *render(enum device_op op, const struct device_result *r)
{
	const struct store_exec *e = device_result_execution(r);
	struct jsonw w;
	jsonw_init(&w);
	jsonw_object_begin(&w);
	switch(op){
	case DEVICE_GET_PENDING:
		shapes_write_pending(&w, r->rows, r->nrows);
		break;
	case DEVICE_START_NEXT:
	case DEVICE_DESCRIBE:
		if(e){
			jsonw_key(&w, "execution");
			write_execution(&w, e, r);
		}
		break;
	case DEVICE_UPDATE:
		if(e && r->include_state){
			jsonw_key(&w, "executionState");
			shapes_write_state(&w, e);
		}
		if(e && r->include_document && e->document) jsonw_key_string(&w, "jobDocument", e->document);
		break;
	}
	jsonw_object_end(&w);
	return jsonw_finish(&w, NULL);
}

/* Runs the device request and renders its result. */
static void device_route(struct service *svc, const struct device_request *dr, struct outbox *ob,
		struct http_response *out)
{
	struct device_result r;
	service_device(svc, dr, &r, ob);
	if(r.error != DEVICE_OK){
		const struct device_status *st = &device_statuses[r.error];
		if(!st->status) st = &device_statuses[DEVICE_INVALID_REQUEST];
		http_api_error(out, st->status, st->type, r.message);
	}else{
		out->status = 200;
		out->error_type[0] = '\0';
		out->body = render(dr->op, &r);
		if(!out->body) http_api_error(out, 500, "InternalFailureException", "out of memory");
	}
	device_result_free(&r);
}

/* Whether the request is a data-plane route; if so, *op is the device operation it
 * stands for. */
static bool data_match(const struct http_request *req, const struct parsed *p, enum device_op *op)
{
	static const char *const pending[] = { "things", "*", "jobs" };
	static const char *const one[] = { "things", "*", "jobs", "*" };
	bool is_get = strcmp(req->method, "GET") == 0;
	if(route(p, pending, 3)){
		*op = DEVICE_GET_PENDING;
		return is_get;
	}
	if(!route(p, one, 4)) return false;
	const char *job = p->segments[3];
	if(strcmp(job, DEVICE_NEXT_JOB) == 0 && strcmp(req->method, "PUT") == 0) *op = DEVICE_START_NEXT;
	else if(is_get) *op = DEVICE_DESCRIBE;
	else if(strcmp(req->method, "POST") == 0) *op = DEVICE_UPDATE;
	else return false;
	return true;
}

static void data_call(struct service *svc, const struct access_config *access, const struct http_request *req,
		const struct parsed *p, enum device_op op, int64_t now_ms, struct outbox *ob, struct http_response *out)
{
	const char *thing = p->segments[1];
	const char *job = p->nsegments == 4 ? p->segments[3] : NULL;
	bool is_get = strcmp(req->method, "GET") == 0;
	if(!names_thing_valid(thing, strlen(thing))){
		http_api_error(out, 400, "InvalidRequestException", "thingName must be 1-128 characters of [a-zA-Z0-9:_-]");
		return;
	}
	/* $next: describe (GET) and start-next (PUT), not update (POST) */
	if(job && !names_job_id_valid(job, strlen(job)) && !(strcmp(job, DEVICE_NEXT_JOB) == 0 && strcmp(req->method, "POST") != 0)){
		http_api_error(out, 400, "InvalidRequestException", "jobId must be 1-64 characters of [a-zA-Z0-9_-]");
		return;
	}
	if(!authorize(access, req, TARGET_THING, thing, out)) return;
	cJSON *payload = !job || is_get ? cJSON_CreateObject() : body_object(req);
	if(!payload){
		http_api_error(out, 400, "InvalidRequestException", "the body must be a JSON object");
		return;
	}
	if(job && is_get) add_params(payload, p);
	char *text = cJSON_PrintUnformatted(payload);
	cJSON_Delete(payload);
	if(!text){
		http_api_error(out, 503, "ServiceUnavailableException", "out of memory");
		return;
	}
	struct device_request dr = {
		.thing = thing, .op = op, .job_id = op == DEVICE_START_NEXT || op == DEVICE_GET_PENDING ? "" : job,
		.body = text, .body_len = strlen(text), .now_ms = now_ms, .requester = req->who ? req->who : req->identity,
	};
	device_route(svc, &dr, ob, out);
	free(text);
}

/* ---- control plane ---- */

struct control_error {
	const char *type;
	int status;
};

static const struct control_error control_errors[] = {
	{ "InvalidRequestException", 400 },
	{ "ResourceNotFoundException", 404 },
	{ "ResourceAlreadyExistsException", 409 },
	{ "InvalidStateTransitionException", 409 },
	{ "VersionConflictException", 409 },
	{ "ConflictException", 409 },
	{ "LimitExceededException", 410 },
	{ "ThrottlingException", 400 }, /* the iot model says 400 */
	{ "InternalFailureException", 500 },
};

/* One control route: method, path pattern, command, and where the path's variables go. */
struct control_route {
	const char *method;
	const char *pattern[6];
	int n;
	const char *command;
	const char *vars[3];     /* field names for the pattern's * segments, in order */
	bool with_body;
};

static const struct control_route control_routes[] = {
	{ "PUT", { "jobs", "*" }, 2, "createJob", { "jobId" }, true },
	{ "GET", { "jobs", "*" }, 2, "describeJob", { "jobId" }, false },
	{ "PUT", { "jobs", "*", "cancel" }, 3, "cancelJob", { "jobId" }, true },
	{ "DELETE", { "jobs", "*" }, 2, "deleteJob", { "jobId" }, false },
	{ "GET", { "jobs" }, 1, "listJobs", { NULL }, false },
	{ "GET", { "jobs", "*", "job-document" }, 3, "getJobDocument", { "jobId" }, false },
	{ "GET", { "jobs", "*", "things" }, 3, "listJobExecutionsForJob", { "jobId" }, false },
	{ "GET", { "things", "*", "jobs" }, 3, "listJobExecutionsForThing", { "thingName" }, false },
	{ "GET", { "things", "*", "jobs", "*" }, 4, "describeJobExecution", { "thingName", "jobId" }, false },
	{ "PUT", { "things", "*", "jobs", "*", "cancel" }, 5, "cancelJobExecution", { "thingName", "jobId" }, true },
	{ "DELETE", { "things", "*", "jobs", "*", "executionNumber", "*" }, 6, "deleteJobExecution",
		{ "thingName", "jobId", "executionNumber" }, false },
	{ "PUT", { "thing-groups", "addThingToThingGroup" }, 2, "addThingToThingGroup", { NULL }, true },
	{ "PUT", { "thing-groups", "removeThingFromThingGroup" }, 2, "removeThingFromThingGroup", { NULL }, true },
	{ "POST", { "thing-groups", "*" }, 2, "createThingGroup", { "thingGroupName" }, true },
	{ "DELETE", { "thing-groups", "*" }, 2, "deleteThingGroup", { "thingGroupName" }, false },
	{ "GET", { "thing-groups", "*", "things" }, 3, "listThingsInThingGroup", { "thingGroupName" }, false },
	{ "GET", { "thing-groups" }, 1, "listThingGroups", { NULL }, false },
	{ "PUT", { "job-templates", "*" }, 2, "createJobTemplate", { "jobTemplateId" }, true },
	{ "GET", { "job-templates", "*" }, 2, "describeJobTemplate", { "jobTemplateId" }, false },
	{ "GET", { "job-templates" }, 1, "listJobTemplates", { NULL }, false },
	{ "DELETE", { "job-templates", "*" }, 2, "deleteJobTemplate", { "jobTemplateId" }, false },
	{ "GET", { "managed-job-templates" }, 1, "listManagedJobTemplates", { NULL }, false },
	{ "GET", { "managed-job-templates", "*" }, 2, "describeManagedJobTemplate", { "templateName" }, false },
	{ "POST", { "things", "*" }, 2, "createThing", { "thingName" }, true },
	{ "GET", { "things", "*" }, 2, "describeThing", { "thingName" }, false },
	{ "PATCH", { "things", "*" }, 2, "updateThing", { "thingName" }, true },
	{ "DELETE", { "things", "*" }, 2, "deleteThing", { "thingName" }, false },
	{ "GET", { "things" }, 1, "listThings", { NULL }, false },
	{ "GET", { "things", "*", "thing-groups" }, 3, "listThingGroupsForThing", { "thingName" }, false },
	{ "PATCH", { "jobs", "*" }, 2, "updateJob", { "jobId" }, true },
	{ "POST", { "jobs", "*", "targets" }, 3, "associateTargetsWithJob", { "jobId" }, true },
	{ "PATCH", { "event-configurations" }, 1, "updateEventConfigurations", { NULL }, true },
	{ "GET", { "event-configurations" }, 1, "describeEventConfigurations", { NULL }, false },
};

static void control_call(struct service *svc, const struct access_config *access, const struct http_request *req,
		const struct control_route *r, const struct parsed *p, int64_t now_ms, struct outbox *ob,
		struct http_response *out)
{
	if(!authorize(access, req, TARGET_CONTROL, NULL, out)) return;
	cJSON *cmd = r->with_body ? body_object(req) : cJSON_CreateObject();
	if(!cmd){
		http_api_error(out, 400, "InvalidRequestException", "the body must be a JSON object");
		return;
	}
	if(!call_utf8(req, p, r->with_body)){
		cJSON_Delete(cmd);
		http_api_error(out, 400, "InvalidRequestException", "the path, the query and the body must be UTF-8");
		return;
	}
	add_params(cmd, p);
	for(int i = 0, v = 0; i < r->n; i++){
		if(strcmp(r->pattern[i], "*") != 0 || !r->vars[v]) continue;
		cJSON_DeleteItemFromObjectCaseSensitive(cmd, r->vars[v]);
		if(strcmp(r->vars[v], "executionNumber") == 0){
			char *end;
			double d = strtod(p->segments[i], &end);
			if(*end) cJSON_AddStringToObject(cmd, r->vars[v], p->segments[i]);
			else cJSON_AddNumberToObject(cmd, r->vars[v], d);
		}else{
			cJSON_AddStringToObject(cmd, r->vars[v], p->segments[i]);
		}
		v++;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(cmd, "command");
	cJSON_AddStringToObject(cmd, "command", r->command);
	/* the audit line's user: IDENTITY/ACCESS_KEY (neither holds '/'), or IDENTITY unsigned */
	char who[512];
	snprintf(who, sizeof(who), "%s%s%s", req->identity, req->who ? "/" : "", req->who ? req->who : "");
	struct control_request creq = { .client_id = "http", .username = who, .now_ms = now_ms };
	struct control_result res;
	service_control(svc, &creq, cmd, &res, ob);
	cJSON_Delete(cmd);
	if(res.data){
		ok(out, res.data);
		res.data = NULL;
	}else{
		int status = 400;
		for(size_t i = 0; i < sizeof(control_errors) / sizeof(*control_errors); i++){
			if(strcmp(control_errors[i].type, res.exception) == 0) status = control_errors[i].status;
		}
		http_api_error(out, status, res.exception, res.message);
	}
	control_result_free(&res);
}

static const struct control_route *control_match(const struct http_request *req, const struct parsed *p)
{
	for(size_t i = 0; i < sizeof(control_routes) / sizeof(*control_routes); i++){
		const struct control_route *r = &control_routes[i];
		if(strcmp(r->method, req->method) == 0 && route(p, r->pattern, r->n)) return r;
	}
	return NULL;
}

/* GET /metrics: the bearer token's holder, or an operator, as for the control plane. */
static void metrics_call(struct service *svc, const struct access_config *access, const struct http_request *req,
		int64_t now_ms, struct http_response *out)
{
	if(!req->metrics_token && !authorize(access, req, TARGET_CONTROL, NULL, out)) return;
	struct strbuf text = { 0 };
	service_metrics_text(svc, now_ms, &text);
	if(text.failed || !text.p){
		free(text.p);
		http_api_error(out, 500, "InternalFailureException", "out of memory");
		return;
	}
	out->status = 200;
	out->body = text.p;
	out->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

void http_api_handle(struct service *svc, const struct access_config *access, const struct http_request *req,
		int64_t now_ms, struct outbox *ob, struct http_response *out)
{
	struct parsed p;
	memset(out, 0, sizeof(*out));
	if(strcmp(req->path, "/metrics") == 0 && strcmp(req->method, "GET") == 0){
		metrics_call(svc, access, req, now_ms, out);
		return;
	}
	if(parse(req, &p) != 0){
		parsed_free(&p);
		http_api_error(out, 400, "InvalidRequestException", "malformed path or query");
		return;
	}
	if(!authorize(access, req, TARGET_NONE, NULL, out)){
		parsed_free(&p);
		return;
	}
	static const char *const plane_names[] = {
		[HTTP_PLANE_DATA] = "iot-jobs-data", [HTTP_PLANE_CONTROL] = "iot", [HTTP_PLANE_UNSIGNED] = "iot or iot-jobs-data",
	};
	enum device_op op;
	bool data = req->plane != HTTP_PLANE_CONTROL && data_match(req, &p, &op);
	const struct control_route *control = req->plane != HTTP_PLANE_DATA ? control_match(req, &p) : NULL;
	if(data && control){
		char msg[400];
		snprintf(msg, sizeof(msg), "%s %.200s is an operation of both iot-jobs-data and iot, told apart by the "
				"signing name of a signed request: sign it (any key will do on a listener without keys file)",
				req->method, req->path);
		http_api_error(out, 400, "InvalidRequestException", msg);
	}else if(data){
		data_call(svc, access, req, &p, op, now_ms, ob, out);
	}else if(control){
		control_call(svc, access, req, control, &p, now_ms, ob, out);
	}else{
		char msg[300];
		snprintf(msg, sizeof(msg), "no %s operation for %s %.200s", plane_names[req->plane], req->method, req->path);
		http_api_error(out, 404, "UnknownOperationException", msg);
	}
	parsed_free(&p);
}
