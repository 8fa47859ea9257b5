/* The device API: GetPendingJobExecutions, StartNextPendingJobExecution,
 * DescribeJobExecution and UpdateJobExecution, typed (device.h).
 *
 * Each handler validates every field first (InvalidRequest), then works inside one
 * store transaction; notifications are appended during it and dropped again if it
 * rolls back. The result is filled last. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/jsonfield.h"
#include "core/notify.h"
#include "core/shapes.h"
#include "core/status.h"
#include "core/txn.h"
#include "util/utf8.h"
#include "core/validate.h"
#include "core/core_state.h"

static const char *const error_codes[DEVICE_ERROR_COUNT] = {
	[DEVICE_OK] = "",
	[DEVICE_INVALID_TOPIC] = "InvalidTopic",
	[DEVICE_INVALID_JSON] = "InvalidJson",
	[DEVICE_INVALID_REQUEST] = "InvalidRequest",
	[DEVICE_RESOURCE_NOT_FOUND] = "ResourceNotFound",
	[DEVICE_VERSION_MISMATCH] = "VersionMismatch",
	[DEVICE_INVALID_STATE_TRANSITION] = "InvalidStateTransition",
	[DEVICE_REQUEST_THROTTLED] = "RequestThrottled",
	[DEVICE_INTERNAL_ERROR] = "InternalError",
	[DEVICE_TERMINAL_STATE_REACHED] = "TerminalStateReached",
};

const char *device_error_code(enum device_error error)
{
	return (unsigned)error < DEVICE_ERROR_COUNT ? error_codes[error] : "InternalError";
}

bool device_error_parse(const char *code, enum device_error *out)
{
	for(int i = DEVICE_OK + 1; i < DEVICE_ERROR_COUNT; i++){
		if(strcmp(error_codes[i], code) == 0){
			*out = (enum device_error)i;
			return true;
		}
	}
	return false;
}

const struct store_exec *device_result_execution(const struct device_result *r)
{
	return r->has_exec ? &r->exec : r->nrows ? &r->rows[0] : NULL;
}

void device_result_free(struct device_result *r)
{
	store_exec_array_free(r->rows, r->nrows);
	if(r->has_exec) store_exec_free(&r->exec);
	cJSON_Delete(r->body_);
	memset(r, 0, sizeof(*r));
}

static const char *const op_names[] = {
	[DEVICE_GET_PENDING] = "get-pending", [DEVICE_START_NEXT] = "start-next",
	[DEVICE_DESCRIBE] = "describe", [DEVICE_UPDATE] = "update",
};

/* One request being answered. */
struct device_ctx {
	struct service *svc;
	const struct device_request *req;
	struct device_result *res;
	struct outbox *ob;
	const cJSON *body;          /* the request object */
	int64_t now;                /* epoch seconds */
	size_t outbox_mark;         /* where this request's notifications start */
};

/* Rejects with `error`; `state` (may be NULL, taken over) adds executionState. */
static void reject(struct device_ctx *c, enum device_error error, const char *message,
		struct store_exec *state)
{
	/* a flood of throttled requests must not flood the log too */
	SVC_LOG(c->svc, error == DEVICE_REQUEST_THROTTLED ? JOBS_LOG_DEBUG : JOBS_LOG_INFO,
			"jobs: rejected %s of thing %s from client %s: %s: %s",
			c->req->thing ? op_names[c->req->op] : "a request", c->req->thing ? c->req->thing : "?", c->req->requester ? c->req->requester : "?",
			device_error_code(error), message);
	struct device_result *r = c->res;
	store_exec_array_free(r->rows, r->nrows);
	r->rows = NULL;
	r->nrows = 0;
	if(r->has_exec && state != &r->exec) store_exec_free(&r->exec);
	r->has_exec = state != NULL;
	if(state && state != &r->exec) r->exec = *state;
	r->state_in_error = state != NULL;
	r->error = error;
	snprintf(r->message, sizeof(r->message), "%s", message);
}

static void reject_invalid(struct device_ctx *c, const struct jf_error *err)
{
	reject(c, DEVICE_INVALID_REQUEST, err->msg, NULL);
}

static void reject_internal(struct device_ctx *c)
{
	reject(c, DEVICE_INTERNAL_ERROR, "internal storage error", NULL);
}

/* A store failure: nothing of this request may remain, in the store or the outbox. */
static void fail_internal(struct device_ctx *c)
{
	SVC_LOG(c->svc, JOBS_LOG_ERR, "jobs: storage error on %s of thing %s: %s", op_names[c->req->op],
			c->req->thing, store_errmsg(c->svc->store));
	txn_abort(c->svc);
	outbox_truncate(c->ob, c->outbox_mark);
	reject_internal(c);
}

/* Emits the notifications of what the request changed, then commits. */
static int commit(struct device_ctx *c)
{
	if(txn_commit(c->svc, c->now, c->ob) != 0){
		SVC_LOG(c->svc, JOBS_LOG_ERR, "jobs: commit failed on %s of thing %s: %s", op_names[c->req->op],
				c->req->thing, store_errmsg(c->svc->store));
		outbox_truncate(c->ob, c->outbox_mark);
		reject_internal(c);
		return -1;
	}
	return 0;
}

/* Looks up the job of the request and the thing's execution of it. Rejects and
 * returns -1 when either is missing or the store fails (the request's savepoint, when
 * `in_savepoint`, is then rolled back). */
static int load_execution(struct device_ctx *c, int64_t execution_number, bool with_document,
		bool in_savepoint, struct store_exec *out)
{
	struct store *st = c->svc->store;
	const struct device_request *req = c->req;
	/* A namespaced job is seen only by requests in its namespace, and a plain one
	 * only by requests in none. */
	int rc = store_exec_find(st, req->thing, req->job_id, req->namespace_id, execution_number, with_document, out);
	if(rc == STORE_OK) return 0;
	if(rc == STORE_NOT_FOUND){
		if(in_savepoint) store_rollback(st);
		char msg[320];
		if(execution_number > 0){
			snprintf(msg, sizeof(msg), "execution number %lld of job %s for thing %s does not exist",
					(long long)execution_number, req->job_id, req->thing);
		}else{
			snprintf(msg, sizeof(msg), "no execution of job %s found for thing %s", req->job_id, req->thing);
		}
		reject(c, DEVICE_RESOURCE_NOT_FOUND, msg, NULL);
	}else if(in_savepoint){
		fail_internal(c);
	}else{
		SVC_LOG(c->svc, JOBS_LOG_ERR, "jobs: storage error on %s of thing %s: %s", op_names[req->op],
				req->thing, store_errmsg(st));
		reject_internal(c);
	}
	return -1;
}

/* The execution's timers: the in-progress timer starts when it enters IN_PROGRESS
 * and is then fixed; a step timer replaces the running one (-1 stops it) and never
 * runs past the in-progress deadline; a terminal status stops both. */
static void set_timers(struct device_ctx *c, struct store_exec *e, int old_status, long long step)
{
	int64_t now_ms = c->req->now_ms;
	if(status_is_terminal(e->status)){
		e->step_deadline_ms = e->progress_deadline_ms = 0;
		return;
	}
	if(old_status == EXEC_QUEUED && e->status == EXEC_IN_PROGRESS && e->job_timeout_minutes){
		e->progress_deadline_ms = now_ms + minutes_to_ms(c->svc, e->job_timeout_minutes);
	}
	if(step > 0){
		int64_t deadline = now_ms + minutes_to_ms(c->svc, step);
		if(e->progress_deadline_ms && deadline > e->progress_deadline_ms) deadline = e->progress_deadline_ms;
		e->step_deadline_ms = deadline;
	}else if(step < 0){
		e->step_deadline_ms = 0;
	}
	service_note_wake(c->svc, e->step_deadline_ms);
	service_note_wake(c->svc, e->progress_deadline_ms);
}

/* Start-next's and describe's accepted execution (already in the result), with the
 * time left while a timer runs. */
static void accept_execution(struct device_ctx *c, bool with_document)
{
	const struct store_exec *e = device_result_execution(c->res);
	c->res->with_document = with_document;
	c->res->timed = e && shapes_seconds_left(e, c->req->now_ms, c->svc->time_scale, &c->res->seconds_left);
}

/* ---- GetPendingJobExecutions ---- */

static void handle_get_pending(struct device_ctx *c)
{
	/* rows come IN_PROGRESS first, then QUEUED */
	if(store_pending_summaries(c->svc->store, c->req->thing, c->req->namespace_id,
				c->svc->max_pending, &c->res->rows, &c->res->nrows) != STORE_OK){
		c->res->rows = NULL;
		c->res->nrows = 0;
		reject_internal(c);
	}
}

/* ---- StartNextPendingJobExecution ---- */

static void handle_start_next(struct device_ctx *c)
{
	struct jf_error err;
	const cJSON *details_obj = NULL;
	char *details = NULL;
	long long step = 0;
	if(jf_object(c->body, "statusDetails", &details_obj, &err) == JF_BAD
			|| (details_obj && validate_status_details(details_obj, &details, &err) != JF_OK)
			|| jf_long(c->body, "stepTimeoutInMinutes", 1, JOBS_STEP_TIMEOUT_MAX, &step, &err) == JF_BAD){
		free(details);
		reject_invalid(c, &err);
		return;
	}

	struct store *st = c->svc->store;
	struct store_exec *rows = NULL;
	size_t n = 0;
	if(txn_begin(c->svc) != 0
			|| store_pending(st, c->req->thing, c->req->namespace_id, 1, true, &rows, &n) != STORE_OK){
		fail_internal(c);
		free(details);
		return;
	}
	if(n && rows[0].status == EXEC_QUEUED){
		struct store_exec *e = &rows[0];
		if(notify_touch(c->svc, c->req->thing, c->req->namespace_id, false) != 0){
			fail_internal(c);
			goto done;
		}
		e->status = EXEC_IN_PROGRESS;
		e->started_at = c->now;
		e->last_updated_at = c->now;
		e->version++;
		if(details){
			free(e->status_details);
			e->status_details = details;
			details = NULL;
		}
		if(step) e->step_timeout_minutes = step;
		set_timers(c, e, EXEC_QUEUED, step);
		if(store_exec_update(st, e) != STORE_OK){
			fail_internal(c);
			goto done;
		}
	}
	if(commit(c) != 0) goto done;
	c->res->rows = rows;
	c->res->nrows = n;
	rows = NULL;
	n = 0;
	accept_execution(c, true);
done:
	free(details);
	store_exec_array_free(rows, n);
}

/* ---- DescribeJobExecution ---- */

static void handle_describe(struct device_ctx *c)
{
	struct jf_error err;
	long long number = 0;
	bool with_document = true;
	if(jf_long(c->body, "executionNumber", 1, INT64_MAX / 2, &number, &err) == JF_BAD
			|| jf_bool(c->body, "includeJobDocument", &with_document, &err) == JF_BAD){
		reject_invalid(c, &err);
		return;
	}

	if(strcmp(c->req->job_id, DEVICE_NEXT_JOB) == 0){
		if(store_pending(c->svc->store, c->req->thing, c->req->namespace_id, 1, with_document,
					&c->res->rows, &c->res->nrows) != STORE_OK){
			c->res->rows = NULL;
			c->res->nrows = 0;
			reject_internal(c);
			return;
		}
		accept_execution(c, with_document);
		return;
	}
	/* read only: no savepoint */
	if(load_execution(c, number, with_document, false, &c->res->exec) != 0) return;
	c->res->has_exec = true;
	accept_execution(c, with_document);
}

/* ---- UpdateJobExecution ---- */

struct update_fields {
	enum exec_status status;
	char *details;               /* NULL: leave unchanged */
	bool has_expected_version;
	long long expected_version;
	long long execution_number;  /* 0: latest */
	long long step_timeout;      /* 0: leave unchanged; -1: cancel */
	bool include_state;
	bool include_document;
};

static int parse_update(struct device_ctx *c, struct update_fields *f, struct jf_error *err)
{
	const char *status = NULL;
	const cJSON *details_obj = NULL;
	memset(f, 0, sizeof(*f));
	int rc = jf_string(c->body, "status", &status, err);
	if(rc == JF_ABSENT) return jf_fail(err, "status is required");
	if(rc != JF_OK) return rc;
	if(!status_parse(status, &f->status)){
		return jf_fail(err, "status '%.32s' is not a job execution status", status);
	}
	if(!status_device_may_set((int)f->status)){
		return jf_fail(err, "a device may not set status %s", status_name((int)f->status));
	}
	if(jf_object(c->body, "statusDetails", &details_obj, err) == JF_BAD) return JF_BAD;
	if(details_obj && validate_status_details(details_obj, &f->details, err) != JF_OK) return JF_BAD;

	rc = jf_long(c->body, "expectedVersion", 0, INT64_MAX / 2, &f->expected_version, err);
	if(rc == JF_BAD) return rc;
	f->has_expected_version = rc == JF_OK;
	if(jf_long(c->body, "executionNumber", 1, INT64_MAX / 2, &f->execution_number, err) == JF_BAD
			|| jf_long(c->body, "stepTimeoutInMinutes", -1, JOBS_STEP_TIMEOUT_MAX, &f->step_timeout, err) == JF_BAD
			|| jf_bool(c->body, "includeJobExecutionState", &f->include_state, err) == JF_BAD
			|| jf_bool(c->body, "includeJobDocument", &f->include_document, err) == JF_BAD){
		return JF_BAD;
	}
	if(f->step_timeout == 0 && cJSON_GetObjectItemCaseSensitive(c->body, "stepTimeoutInMinutes")
			&& !cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(c->body, "stepTimeoutInMinutes"))){
		return jf_fail(err, "stepTimeoutInMinutes must be -1 or between 1 and %d", JOBS_STEP_TIMEOUT_MAX);
	}
	return JF_OK;
}

static void handle_update(struct device_ctx *c)
{
	struct update_fields f;
	struct jf_error err;
	if(parse_update(c, &f, &err) != JF_OK){
		free(f.details);
		reject_invalid(c, &err);
		return;
	}
	struct store *st = c->svc->store;
	struct store_exec e;
	if(txn_begin(c->svc) != 0){
		fail_internal(c);
		free(f.details);
		return;
	}
	if(load_execution(c, f.execution_number, f.include_document, true, &e) != 0){
		free(f.details);
		return;
	}
	if(f.has_expected_version && f.expected_version != e.version){
		store_rollback(st);
		char msg[128];
		snprintf(msg, sizeof(msg), "expectedVersion %lld does not match versionNumber %lld",
				f.expected_version, (long long)e.version);
		reject(c, DEVICE_VERSION_MISMATCH, msg, &e);
		free(f.details);
		return;
	}
	if(!status_device_may_move(e.status, (int)f.status)){
		store_rollback(st);
		char msg[128];
		snprintf(msg, sizeof(msg), "cannot update an execution from %s to %s",
				status_name(e.status), status_name((int)f.status));
		reject(c, DEVICE_INVALID_STATE_TRANSITION, msg, &e);
		free(f.details);
		return;
	}

	int old_status = e.status;
	bool status_changes = old_status != (int)f.status;
	if(status_changes && notify_touch(c->svc, e.thing, e.namespace_id, notify_set_changed(old_status, (int)f.status)) != 0){
		fail_internal(c);
		goto done;
	}
	e.status = (int)f.status;
	e.version++;
	e.last_updated_at = c->now;
	if(e.status == EXEC_IN_PROGRESS && !e.started_at) e.started_at = c->now;
	if(f.details){
		free(e.status_details);
		e.status_details = f.details;
		f.details = NULL;
	}
	if(f.step_timeout) e.step_timeout_minutes = f.step_timeout > 0 ? f.step_timeout : 0;
	set_timers(c, &e, old_status, f.step_timeout);
	/* A terminal status may bring a retry, an abort, the job's completion. */
	if(fleet_write_execution(c->svc, &e, old_status, c->req->now_ms) != 0){
		fail_internal(c);
		goto done;
	}
	if(commit(c) != 0) goto done;
	c->res->exec = e;
	c->res->has_exec = true;
	c->res->include_state = f.include_state;
	c->res->include_document = f.include_document;
	free(f.details);
	return;
done:
	free(f.details);
	store_exec_free(&e);
}

/* ---- entry points ---- */

/* The body's clientToken, for a rejection that does not validate the request. */
static void token_only(struct device_ctx *c)
{
	const struct device_request *req = c->req;
	if(req->body_len && utf8_valid(req->body, req->body_len)
			&& !utf8_json_has_escaped_nul(req->body, req->body_len)){
		cJSON *body = jf_parse_strict(req->body, req->body_len);
		const cJSON *token = cJSON_GetObjectItemCaseSensitive(body, "clientToken");
		c->res->body_ = body;
		if(cJSON_IsString(token)) c->res->client_token = token->valuestring;
	}
}

static void ctx_init(struct device_ctx *c, struct service *svc, const struct device_request *req,
		struct device_result *res, struct outbox *ob)
{
	memset(res, 0, sizeof(*res));
	*c = (struct device_ctx){ .svc = svc, .req = req, .res = res, .ob = ob, .now = req->now_ms / 1000,
		.outbox_mark = ob->count };
	res->timestamp = c->now;
}

void device_refuse(struct service *svc, const struct device_request *req, enum device_error error,
		const char *message, struct device_result *res)
{
	struct outbox none = { 0 };
	struct device_ctx c;
	ctx_init(&c, svc, req, res, &none);
	/* The clientToken is echoed here too when the body carries one. */
	token_only(&c);
	struct store_exec e;
	bool named = req->thing && req->job_id && req->job_id[0] && strcmp(req->job_id, DEVICE_NEXT_JOB) != 0;
	bool state = error == DEVICE_VERSION_MISMATCH && named
		&& store_exec_find(svc->store, req->thing, req->job_id, req->namespace_id, 0, false, &e) == STORE_OK;
	reject(&c, error, message, state ? &e : NULL);
}

void device_handle(struct service *svc, const struct device_request *req, struct device_result *res,
		struct outbox *ob)
{
	struct device_ctx c;
	struct jf_error err;
	ctx_init(&c, svc, req, res, ob);

	if(req->body_len && !utf8_valid(req->body, req->body_len)){
		reject(&c, DEVICE_INVALID_JSON, "payload is not valid UTF-8", NULL);
		return;
	}
	cJSON *body = req->body_len ? jf_parse_strict(req->body, req->body_len) : cJSON_CreateObject();
	res->body_ = body;
	if(!cJSON_IsObject(body)){
		reject(&c, DEVICE_INVALID_JSON, "payload is not a JSON object", NULL);
		return;
	}
	c.body = body;
	if(req->body_len && utf8_json_has_escaped_nul(req->body, req->body_len)){
		/* cJSON would cut the strings short at the NUL: refused, and no clientToken is
		 * echoed, since a token cut short is worse than none. */
		reject(&c, DEVICE_INVALID_REQUEST, "strings may not contain U+0000", NULL);
	}else if(jf_string(body, "clientToken", &res->client_token, &err) == JF_BAD){
		res->client_token = NULL;
		reject_invalid(&c, &err);
	}else if(svc->limiter && !ratelimit_allow(svc->limiter, req->thing, req->now_ms)){
		reject(&c, DEVICE_REQUEST_THROTTLED, "too many requests for this thing: retry later", NULL);
	}else{
		switch(req->op){
		case DEVICE_GET_PENDING: handle_get_pending(&c); break;
		case DEVICE_START_NEXT: handle_start_next(&c); break;
		case DEVICE_DESCRIBE: handle_describe(&c); break;
		case DEVICE_UPDATE: handle_update(&c); break;
		}
	}
}
