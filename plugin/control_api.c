/* The management API on $CONTROL/jobs/v1 (spec section 10).
 *
 * Request {"commands":[{"command":…,"correlationData":…,…}, …]}; each command runs
 * in its own transaction and gets one entry, in order, in
 * {"responses":[{"command":…,"correlationData":…,"data":{…}} or {…,"error":"…"}]}.
 * One handler signature for every command; a table maps names to handlers. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mosquitto_jobs/jsonfield.h"
#include "mosquitto_jobs/notify.h"
#include "mosquitto_jobs/shapes.h"
#include "mosquitto_jobs/utf8.h"
#include "mosquitto_jobs/validate.h"
#include "service_internal.h"

#define DESCRIPTION_MAX 2028
#define COMMENT_MAX 2028
#define REASON_CODE_MAX 128

struct control_ctx {
	struct service *svc;
	const struct jobs_request *req;
	struct outbox *ob;
	char job_id[JOBS_JOB_ID_MAX + 1];  /* for the audit line */
	char error[512];                   /* "<AWS exception>: <message>" */
};

/* Fills c->error and returns -1, so handlers can `return fail(...)`. */
__attribute__((format(printf, 3, 4)))
static int fail(struct control_ctx *c, const char *exception, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(c->error, sizeof(c->error), "%s: %s", exception, msg);
	return -1;
}

static int fail_invalid(struct control_ctx *c, const struct jf_error *err)
{
	return fail(c, "InvalidRequestException", "%s", err->msg);
}

static int fail_store(struct control_ctx *c)
{
	SVC_LOG(c->svc, JOBS_LOG_ERR, "jobs: storage error: %s", store_errmsg(c->svc->store));
	return fail(c, "InternalFailureException", "internal storage error");
}

static void arn(const struct service *svc, char *buf, size_t size, const char *kind, const char *name)
{
	snprintf(buf, size, "arn:aws:iot:%s:%s:%s/%s", svc->region, svc->account_id, kind, name);
}

static bool add_arn(struct control_ctx *c, cJSON *obj, const char *key, const char *kind, const char *name)
{
	char buf[512];
	arn(c->svc, buf, sizeof(buf), kind, name);
	return cJSON_AddStringToObject(obj, key, buf) != NULL;
}

/* Reads a required job id into c->job_id. */
static int require_job_id(struct control_ctx *c, const cJSON *cmd)
{
	const char *job_id;
	struct jf_error err;
	int rc = jf_string(cmd, "jobId", &job_id, &err);
	if(rc == JF_ABSENT) return fail(c, "InvalidRequestException", "jobId is required");
	if(rc != JF_OK) return fail_invalid(c, &err);
	if(!names_job_id_valid(job_id, strlen(job_id))){
		return fail(c, "InvalidRequestException", "jobId must be 1-64 characters of [a-zA-Z0-9_-]");
	}
	snprintf(c->job_id, sizeof(c->job_id), "%s", job_id);
	return 0;
}

static int load_job(struct control_ctx *c, struct store_job *job)
{
	int rc = store_job_get(c->svc->store, c->job_id, job);
	if(rc == STORE_NOT_FOUND) return fail(c, "ResourceNotFoundException", "job %s does not exist", c->job_id);
	if(rc != STORE_OK) return fail_store(c);
	return 0;
}

/* An optional string of at most `max` characters. */
static int optional_text(struct control_ctx *c, const cJSON *cmd, const char *key, size_t max,
		const char **out)
{
	struct jf_error err;
	*out = NULL;
	if(jf_string(cmd, key, out, &err) == JF_BAD) return fail_invalid(c, &err);
	if(*out && utf8_length(*out) > max){
		return fail(c, "InvalidRequestException", "%s must be at most %zu characters", key, max);
	}
	return 0;
}

/* Applies a service-side move to one execution and queues its notifications. */
static int move_execution(struct control_ctx *c, struct store_exec *e, int to)
{
	struct next_id before;
	if(notify_next_id(c->svc, e->thing, e->namespace_id, &before) != 0) return fail_store(c);
	int from = e->status;
	if(from == EXEC_IN_PROGRESS && to == EXEC_CANCELED) e->force_canceled = true;
	e->status = to;
	e->version++;
	e->last_updated_at = c->req->now;
	if(store_exec_update(c->svc->store, e) != STORE_OK
			|| notify_thing(c->svc, e->thing, e->namespace_id, notify_set_changed(from, to), &before,
				c->req->now, c->ob) != 0){
		return fail_store(c);
	}
	return 0;
}

/* ---- createJob ---- */

/* Resolves one target (bare name or ARN) to a thing name in `thing`. */
static int parse_target(struct control_ctx *c, const cJSON *target, char *thing)
{
	if(!cJSON_IsString(target)) return fail(c, "InvalidRequestException", "targets must be strings");
	const char *name = target->valuestring;
	if(strncmp(name, "arn:", 4) == 0){
		const char *kind = strrchr(name, ':');
		if(kind && strncmp(kind, ":thing/", 7) == 0){
			name = kind + 7;
		}else if(kind && strncmp(kind, ":thinggroup/", 12) == 0){
			return fail(c, "InvalidRequestException", "thing group targets are not supported yet: %.200s", name);
		}else{
			return fail(c, "InvalidRequestException", "target %.200s is not a thing ARN", name);
		}
	}
	if(!names_thing_valid(name, strlen(name))){
		return fail(c, "InvalidRequestException", "target %.200s is not a valid thing name", name);
	}
	strcpy(thing, name);
	return 0;
}

/* Fields of CreateJob this version does not act on yet: refused rather than ignored. */
static const char *const unsupported_create_fields[] = {
	"documentSource", "timeoutConfig", "jobExecutionsRolloutConfig", "abortConfig",
	"jobExecutionsRetryConfig", "schedulingConfig", "presignedUrlConfig", "jobTemplateArn",
	"destinationPackageVersions", "documentParameters",
};

static int check_create_fields(struct control_ctx *c, const cJSON *cmd, struct store_job *job)
{
	struct jf_error err;
	const cJSON *doc;
	const char *selection = NULL, *ns = NULL, *description;

	for(size_t i = 0; i < sizeof(unsupported_create_fields) / sizeof(*unsupported_create_fields); i++){
		if(cJSON_GetObjectItemCaseSensitive(cmd, unsupported_create_fields[i])){
			return fail(c, "InvalidRequestException", "%s is not supported yet", unsupported_create_fields[i]);
		}
	}
	if(optional_text(c, cmd, "description", DESCRIPTION_MAX, &description)) return -1;
	if(description && !(job->description = strdup(description))) return fail_store(c);
	if(jf_string(cmd, "targetSelection", &selection, &err) == JF_BAD) return fail_invalid(c, &err);
	if(selection && strcmp(selection, "CONTINUOUS") == 0){
		return fail(c, "InvalidRequestException", "targetSelection CONTINUOUS is not supported yet");
	}
	if(selection && strcmp(selection, "SNAPSHOT") != 0){
		return fail(c, "InvalidRequestException", "targetSelection must be SNAPSHOT or CONTINUOUS");
	}
	if(jf_string(cmd, "namespaceId", &ns, &err) == JF_BAD) return fail_invalid(c, &err);
	if(ns && !names_namespace_valid(ns, strlen(ns))){
		return fail(c, "InvalidRequestException", "namespaceId must be 1-64 characters of [a-zA-Z0-9_-]");
	}
	snprintf(job->namespace_id, sizeof(job->namespace_id), "%s", ns ? ns : "");
	doc = cJSON_GetObjectItemCaseSensitive(cmd, "document");
	if(!doc || cJSON_IsNull(doc)) return fail(c, "InvalidRequestException", "document is required");
	if(validate_document(doc, &job->document, &err) != JF_OK) return fail_invalid(c, &err);
	return 0;
}

/* The distinct thing names of `targets`, in order; *things is malloc'd. */
static int collect_targets(struct control_ctx *c, const cJSON *targets, char (**things)[JOBS_THING_NAME_MAX + 1],
		size_t *count)
{
	int n = cJSON_GetArraySize(targets);
	if(n < 1) return fail(c, "InvalidRequestException", "targets must name at least one thing");
	char (*names)[JOBS_THING_NAME_MAX + 1] = calloc((size_t)n, sizeof(*names));
	if(!names) return fail(c, "InternalFailureException", "out of memory");
	size_t k = 0;
	const cJSON *t;
	cJSON_ArrayForEach(t, targets){
		if(parse_target(c, t, names[k]) != 0){
			free(names);
			return -1;
		}
		bool seen = false;
		for(size_t i = 0; i < k && !seen; i++) seen = strcmp(names[i], names[k]) == 0;
		if(!seen) k++;
	}
	*things = names;
	*count = k;
	return 0;
}

static int cmd_create_job(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	struct jf_error err;
	const cJSON *targets;
	struct store_job job = { 0 };
	char (*things)[JOBS_THING_NAME_MAX + 1] = NULL;
	size_t nthings = 0;
	int rc = -1;

	if(require_job_id(c, cmd)) return -1;
	int t = jf_array(cmd, "targets", &targets, &err);
	if(t == JF_ABSENT) return fail(c, "InvalidRequestException", "targets is required");
	if(t != JF_OK) return fail_invalid(c, &err);
	if(check_create_fields(c, cmd, &job) || collect_targets(c, targets, &things, &nthings)) goto cleanup;

	snprintf(job.job_id, sizeof(job.job_id), "%s", c->job_id);
	job.status = JOB_IN_PROGRESS;
	job.target_selection = TARGET_SNAPSHOT;
	job.created_at = job.last_updated_at = c->req->now;
	if(!(job.targets = cJSON_PrintUnformatted(targets))){
		fail(c, "InternalFailureException", "out of memory");
		goto cleanup;
	}
	int ins = store_job_insert(c->svc->store, &job);
	if(ins == STORE_EXISTS){
		fail(c, "ResourceAlreadyExistsException", "job %s already exists", c->job_id);
		goto cleanup;
	}
	if(ins != STORE_OK){
		fail_store(c);
		goto cleanup;
	}
	for(size_t i = 0; i < nthings; i++){
		struct store_exec e = {
			.job_seq = job.seq, .execution_number = 1, .status = EXEC_QUEUED,
			.queued_at = c->req->now, .last_updated_at = c->req->now, .version = 1,
		};
		struct next_id before;
		strcpy(e.thing, things[i]);
		strcpy(e.namespace_id, job.namespace_id);
		if(notify_next_id(c->svc, e.thing, e.namespace_id, &before) != 0
				|| store_exec_insert(c->svc->store, &e) != STORE_OK
				|| notify_thing(c->svc, e.thing, e.namespace_id, true, &before, c->req->now, c->ob) != 0){
			fail_store(c);
			goto cleanup;
		}
	}
	cJSON_AddStringToObject(data, "jobId", job.job_id);
	add_arn(c, data, "jobArn", "job", job.job_id);
	if(job.description) cJSON_AddStringToObject(data, "description", job.description);
	rc = 0;
cleanup:
	free(things);
	store_job_free(&job);
	return rc;
}

/* ---- cancelJob ---- */

static int cmd_cancel_job(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	struct jf_error err;
	bool force = false;
	const char *reason, *comment;
	struct store_job job;

	if(require_job_id(c, cmd)
			|| (jf_bool(cmd, "force", &force, &err) == JF_BAD && fail_invalid(c, &err))
			|| optional_text(c, cmd, "reasonCode", REASON_CODE_MAX, &reason)
			|| optional_text(c, cmd, "comment", COMMENT_MAX, &comment)
			|| load_job(c, &job)){
		return -1;
	}
	int rc = -1;
	struct store_exec *execs = NULL;
	size_t n = 0;
	if(job.status == JOB_COMPLETED){
		fail(c, "InvalidStateTransitionException", "job %s is already COMPLETED", c->job_id);
		goto cleanup;
	}
	job.status = JOB_CANCELED;
	job.force_canceled = job.force_canceled || force;
	job.last_updated_at = c->req->now;
	if(reason){
		free(job.reason_code);
		job.reason_code = strdup(reason);
	}
	if(comment){
		free(job.comment);
		job.comment = strdup(comment);
	}
	unsigned mask = (1u << EXEC_QUEUED) | (force ? 1u << EXEC_IN_PROGRESS : 0);
	if(store_job_update_status(c->svc->store, &job) != STORE_OK
			|| store_job_executions(c->svc->store, job.seq, mask, &execs, &n) != STORE_OK){
		fail_store(c);
		goto cleanup;
	}
	for(size_t i = 0; i < n; i++){
		if(move_execution(c, &execs[i], EXEC_CANCELED) != 0) goto cleanup;
	}
	cJSON_AddStringToObject(data, "jobId", job.job_id);
	add_arn(c, data, "jobArn", "job", job.job_id);
	if(job.description) cJSON_AddStringToObject(data, "description", job.description);
	rc = 0;
cleanup:
	store_exec_array_free(execs, n);
	store_job_free(&job);
	return rc;
}

/* ---- describeJob ---- */

static const char *const process_detail_keys[EXEC_STATUS_COUNT] = {
	[EXEC_IN_PROGRESS] = "numberOfInProgressThings",
	[EXEC_QUEUED] = "numberOfQueuedThings",
	[EXEC_SUCCEEDED] = "numberOfSucceededThings",
	[EXEC_FAILED] = "numberOfFailedThings",
	[EXEC_REJECTED] = "numberOfRejectedThings",
	[EXEC_TIMED_OUT] = "numberOfTimedOutThings",
	[EXEC_REMOVED] = "numberOfRemovedThings",
	[EXEC_CANCELED] = "numberOfCanceledThings",
};

static int cmd_describe_job(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	struct store_job job;
	int64_t counts[EXEC_STATUS_COUNT];
	if(require_job_id(c, cmd) || load_job(c, &job)) return -1;
	if(store_job_counts(c->svc->store, job.seq, counts) != STORE_OK){
		store_job_free(&job);
		return fail_store(c);
	}
	cJSON *o = cJSON_AddObjectToObject(data, "job");
	if(o){
		add_arn(c, o, "jobArn", "job", job.job_id);
		cJSON_AddStringToObject(o, "jobId", job.job_id);
		cJSON_AddStringToObject(o, "targetSelection", job.target_selection == TARGET_CONTINUOUS ? "CONTINUOUS" : "SNAPSHOT");
		cJSON_AddStringToObject(o, "status", store_job_status_name(job.status));
		cJSON_AddBoolToObject(o, "forceCanceled", job.force_canceled);
		if(job.reason_code) cJSON_AddStringToObject(o, "reasonCode", job.reason_code);
		if(job.comment) cJSON_AddStringToObject(o, "comment", job.comment);
		if(job.description) cJSON_AddStringToObject(o, "description", job.description);
		if(job.namespace_id[0]) cJSON_AddStringToObject(o, "namespaceId", job.namespace_id);
		shapes_add_stored(o, "targets", job.targets);
		shapes_add_int(o, "createdAt", job.created_at);
		shapes_add_int(o, "lastUpdatedAt", job.last_updated_at);
		if(job.completed_at) shapes_add_int(o, "completedAt", job.completed_at);
		cJSON *pd = cJSON_AddObjectToObject(o, "jobProcessDetails");
		for(int s = 0; pd && s < EXEC_STATUS_COUNT; s++) shapes_add_int(pd, process_detail_keys[s], counts[s]);
	}
	store_job_free(&job);
	return 0;
}

/* ---- describeJobExecution ---- */

static int cmd_describe_job_execution(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	struct jf_error err;
	const char *thing;
	long long number = 0;
	struct store_job job;
	struct store_exec e;

	if(require_job_id(c, cmd)) return -1;
	int rc = jf_string(cmd, "thingName", &thing, &err);
	if(rc == JF_ABSENT) return fail(c, "InvalidRequestException", "thingName is required");
	if(rc != JF_OK) return fail_invalid(c, &err);
	if(!names_thing_valid(thing, strlen(thing))){
		return fail(c, "InvalidRequestException", "thingName must be 1-128 characters of [a-zA-Z0-9:_-]");
	}
	if(jf_long(cmd, "executionNumber", 1, INT64_MAX / 2, &number, &err) == JF_BAD) return fail_invalid(c, &err);
	if(load_job(c, &job)) return -1;
	rc = store_exec_get(c->svc->store, thing, job.seq, number, false, &e);
	store_job_free(&job);
	if(rc == STORE_NOT_FOUND){
		return fail(c, "ResourceNotFoundException", "no execution of job %s for thing %s", c->job_id, thing);
	}
	if(rc != STORE_OK) return fail_store(c);

	cJSON *o = cJSON_AddObjectToObject(data, "execution");
	if(o){
		cJSON_AddStringToObject(o, "jobId", e.job_id);
		cJSON_AddStringToObject(o, "status", status_name(e.status));
		cJSON_AddBoolToObject(o, "forceCanceled", e.force_canceled);
		cJSON *details = cJSON_AddObjectToObject(o, "statusDetails");
		if(details && e.status_details) shapes_add_stored(details, "detailsMap", e.status_details);
		add_arn(c, o, "thingArn", "thing", e.thing);
		shapes_add_int(o, "queuedAt", e.queued_at);
		if(e.started_at) shapes_add_int(o, "startedAt", e.started_at);
		shapes_add_int(o, "lastUpdatedAt", e.last_updated_at);
		shapes_add_int(o, "executionNumber", e.execution_number);
		shapes_add_int(o, "versionNumber", e.version);
	}
	store_exec_free(&e);
	return 0;
}

/* ---- dispatch ---- */

typedef int (*control_fn)(struct control_ctx *c, const cJSON *cmd, cJSON *data);

static const struct {
	const char *name;
	control_fn fn;
} commands[] = {
	{ "createJob", cmd_create_job },
	{ "cancelJob", cmd_cancel_job },
	{ "describeJob", cmd_describe_job },
	{ "describeJobExecution", cmd_describe_job_execution },
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
	if(!cJSON_IsObject(cmd)) fail(c, "InvalidRequestException", "each command must be a JSON object");
	else if(!cJSON_IsString(name)) fail(c, "InvalidRequestException", "command must be a string");
	else if(!(fn = find_command(name->valuestring))){
		fail(c, "InvalidRequestException", "unknown command '%.64s'", name->valuestring);
	}

	if(fn){
		size_t mark = c->ob->count;
		cJSON *data = cJSON_CreateObject();
		int rc = store_begin(c->svc->store) == STORE_OK ? 0 : fail_store(c);
		if(rc == 0) rc = data ? fn(c, cmd, data) : fail(c, "InternalFailureException", "out of memory");
		if(rc == 0 && store_commit(c->svc->store) != STORE_OK) rc = fail_store(c);
		else if(rc != 0) store_rollback(c->svc->store);
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

void control_handle(struct service *svc, const struct jobs_request *req, struct outbox *ob)
{
	struct control_ctx c = { .svc = svc, .req = req, .ob = ob };
	cJSON *root = cJSON_CreateObject();
	cJSON *responses = cJSON_AddArrayToObject(root, "responses");
	if(!responses){
		cJSON_Delete(root);
		return;
	}
	cJSON *body = NULL;
	const cJSON *list = NULL;
	if(req->payload_len && utf8_valid(req->payload, req->payload_len)
			&& !utf8_json_has_escaped_nul(req->payload, req->payload_len)){
		body = cJSON_ParseWithLength(req->payload, req->payload_len);
		list = cJSON_GetObjectItemCaseSensitive(body, "commands");
	}
	if(!cJSON_IsArray(list)){
		cJSON *resp = cJSON_CreateObject();
		cJSON_AddStringToObject(resp, "error",
				"InvalidRequestException: payload must be a UTF-8 JSON object with a commands array");
		cJSON_AddItemToArray(responses, resp);
		SVC_LOG(svc, JOBS_LOG_WARNING, "jobs: admin client=%s sent a malformed request",
				req->client_id ? req->client_id : "");
	}else{
		const cJSON *cmd;
		cJSON_ArrayForEach(cmd, list){
			cJSON *resp = run_command(&c, cmd);
			if(resp) cJSON_AddItemToArray(responses, resp);
		}
	}
	cJSON_Delete(body);
	size_t len;
	char *payload = shapes_print(root, &len);
	if(payload) outbox_add(ob, req->client_id, JOBS_CONTROL_RESPONSE_TOPIC, payload, len, reply_qos(req->qos));
}
