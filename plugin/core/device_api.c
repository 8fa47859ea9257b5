/* The device API (spec sections 2-6): GetPendingJobExecutions,
 * StartNextPendingJobExecution, DescribeJobExecution and UpdateJobExecution.
 *
 * Each handler validates every field first (InvalidRequest), then works inside one
 * store transaction; notifications are appended during it and dropped again if it
 * rolls back, and the reply is appended last. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/jsonfield.h"
#include "core/notify.h"
#include "core/shapes.h"
#include "mqtt/topic.h"
#include "util/utf8.h"
#include "core/validate.h"
#include "core/service_internal.h"

/* One request being answered. */
struct device_ctx {
	struct service *svc;
	const struct jobs_request *req;
	const struct jobs_topic *topic;
	struct outbox *ob;
	const cJSON *body;          /* the request object */
	const char *client_token;   /* into body; NULL when absent */
	size_t outbox_mark;         /* where this request's messages start */
};

/* Ends the reply object `w` holds (begun by the caller, members added), with the
 * clientToken and the timestamp, and queues it on the request's topic + suffix. */
static void send_reply(struct device_ctx *c, const char *suffix, struct jsonw *w)
{
	if(c->client_token) jsonw_key_string(w, "clientToken", c->client_token);
	jsonw_key_int(w, "timestamp", c->req->now);
	jsonw_object_end(w);
	size_t len;
	char *payload = jsonw_finish(w, &len);
	if(!payload){
		SVC_LOG(c->svc, JOBS_LOG_ERR, "jobs: out of memory answering %s", c->req->topic);
		return;
	}
	/* the request's topic, whatever its length, plus the suffix */
	size_t tlen = strlen(c->req->topic) + strlen(suffix) + 2;
	char *topic = malloc(tlen);
	if(!topic){
		free(payload);
		return;
	}
	snprintf(topic, tlen, "%s/%s", c->req->topic, suffix);
	outbox_add(c->ob, c->req->client_id, topic, payload, len, reply_qos(c->req->qos));
	free(topic);
}

/* A reply begins as an open object that the handler fills. */
static void reply_begin(struct jsonw *w)
{
	jsonw_init(w);
	jsonw_object_begin(w);
}

static void accept(struct device_ctx *c, struct jsonw *w)
{
	send_reply(c, "accepted", w);
}

/* Rejects with `code`; `state` (may be NULL) adds executionState. */
static void reject(struct device_ctx *c, const char *code, const char *message,
		const struct store_exec *state)
{
	/* a flood of throttled requests must not flood the log too */
	SVC_LOG(c->svc, strcmp(code, "RequestThrottled") == 0 ? JOBS_LOG_DEBUG : JOBS_LOG_INFO,
			"jobs: rejected %s from client %s: %s: %s",
			c->req->topic, c->req->client_id ? c->req->client_id : "?", code, message);
	struct jsonw w;
	reply_begin(&w);
	jsonw_key_string(&w, "code", code);
	jsonw_key_string(&w, "message", message);
	if(state){
		jsonw_key(&w, "executionState");
		shapes_write_state(&w, state);
	}
	send_reply(c, "rejected", &w);
}

static void reject_invalid(struct device_ctx *c, const struct jf_error *err)
{
	reject(c, "InvalidRequest", err->msg, NULL);
}

/* A store failure: nothing of this request may remain, in the store or the outbox. */
static void fail_internal(struct device_ctx *c)
{
	notify_discard(c->svc);
	SVC_LOG(c->svc, JOBS_LOG_ERR, "jobs: storage error on %s: %s", c->req->topic, store_errmsg(c->svc->store));
	store_rollback(c->svc->store);
	outbox_truncate(c->ob, c->outbox_mark);
	reject(c, "InternalError", "internal storage error", NULL);
}

/* Emits the notifications of what the request changed, then commits. */
static int commit(struct device_ctx *c)
{
	if(notify_emit(c->svc, c->req->now, c->ob) != 0){
		fail_internal(c);
		return -1;
	}
	if(store_commit(c->svc->store) != STORE_OK){
		SVC_LOG(c->svc, JOBS_LOG_ERR, "jobs: commit failed on %s: %s", c->req->topic, store_errmsg(c->svc->store));
		outbox_truncate(c->ob, c->outbox_mark);
		reject(c, "InternalError", "internal storage error", NULL);
		return -1;
	}
	return 0;
}

/* Looks up the job of the topic and the thing's execution of it. Rejects and
 * returns -1 when either is missing or the store fails (the request's savepoint, when
 * `in_savepoint`, is then rolled back). */
static int load_execution(struct device_ctx *c, int64_t execution_number, bool with_document,
		bool in_savepoint, struct store_exec *out)
{
	struct store *st = c->svc->store;
	/* A namespaced job is seen only on its namespace's topics, and a plain one only
	 * on plain topics. */
	int rc = store_exec_find(st, c->topic->thing, c->topic->job_id, c->topic->namespace_id,
			execution_number, with_document, out);
	if(rc == STORE_OK) return 0;
	if(rc == STORE_NOT_FOUND){
		if(in_savepoint) store_rollback(st);
		char msg[320];
		if(execution_number > 0){
			snprintf(msg, sizeof(msg), "execution number %lld of job %s for thing %s does not exist",
					(long long)execution_number, c->topic->job_id, c->topic->thing);
		}else{
			snprintf(msg, sizeof(msg), "no execution of job %s found for thing %s",
					c->topic->job_id, c->topic->thing);
		}
		reject(c, "ResourceNotFound", msg, NULL);
	}else if(in_savepoint){
		fail_internal(c);
	}else{
		SVC_LOG(c->svc, JOBS_LOG_ERR, "jobs: storage error on %s: %s", c->req->topic, store_errmsg(st));
		reject(c, "InternalError", "internal storage error", NULL);
	}
	return -1;
}

/* The execution's timers (spec section 7): the in-progress timer starts when it
 * enters IN_PROGRESS and is then fixed; a step timer replaces the running one (-1
 * stops it) and never runs past the in-progress deadline; a terminal status stops
 * both. */
static void set_timers(struct device_ctx *c, struct store_exec *e, int old_status, long long step)
{
	int64_t now_ms = request_ms(c->req);
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

/* "execution": JobExecution, with the time left while a timer runs. */
static void write_execution(struct device_ctx *c, struct jsonw *w, const struct store_exec *e,
		bool with_document)
{
	int64_t left;
	bool timed = shapes_seconds_left(e, request_ms(c->req), c->svc->time_scale, &left);
	jsonw_key(w, "execution");
	shapes_write_execution(w, e, with_document, timed ? &left : NULL);
}

/* ---- GetPendingJobExecutions ---- */

static void handle_get_pending(struct device_ctx *c)
{
	struct store_exec *rows;
	size_t n;
	if(store_pending_summaries(c->svc->store, c->topic->thing, c->topic->namespace_id,
				c->svc->max_pending, &rows, &n) != STORE_OK){
		reject(c, "InternalError", "internal storage error", NULL);
		return;
	}
	/* rows come IN_PROGRESS first, then QUEUED */
	struct jsonw w;
	reply_begin(&w);
	size_t i = 0;
	jsonw_key(&w, "inProgressJobs");
	jsonw_array_begin(&w);
	for(; i < n && rows[i].status == EXEC_IN_PROGRESS; i++) shapes_write_summary(&w, &rows[i]);
	jsonw_array_end(&w);
	jsonw_key(&w, "queuedJobs");
	jsonw_array_begin(&w);
	for(; i < n; i++) shapes_write_summary(&w, &rows[i]);
	jsonw_array_end(&w);
	store_exec_array_free(rows, n);
	accept(c, &w);
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
	if(store_begin(st) != STORE_OK
			|| store_pending(st, c->topic->thing, c->topic->namespace_id, 1, true, &rows, &n) != STORE_OK){
		fail_internal(c);
		free(details);
		return;
	}
	if(n && rows[0].status == EXEC_QUEUED){
		struct store_exec *e = &rows[0];
		if(notify_touch(c->svc, c->topic->thing, c->topic->namespace_id, false) != 0){
			fail_internal(c);
			goto done;
		}
		e->status = EXEC_IN_PROGRESS;
		e->started_at = c->req->now;
		e->last_updated_at = c->req->now;
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

	struct jsonw w;
	reply_begin(&w);
	if(n) write_execution(c, &w, &rows[0], true);
	accept(c, &w);
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

	struct store_exec e;
	if(strcmp(c->topic->job_id, JOBS_NEXT_ID) == 0){
		struct store_exec *rows;
		size_t n;
		if(store_pending(c->svc->store, c->topic->thing, c->topic->namespace_id, 1, with_document,
					&rows, &n) != STORE_OK){
			reject(c, "InternalError", "internal storage error", NULL);
			return;
		}
		struct jsonw w;
		reply_begin(&w);
		if(n) write_execution(c, &w, &rows[0], with_document);
		store_exec_array_free(rows, n);
		accept(c, &w);
		return;
	}
	/* read only: no savepoint */
	if(load_execution(c, number, with_document, false, &e) != 0) return;
	struct jsonw w;
	reply_begin(&w);
	write_execution(c, &w, &e, with_document);
	store_exec_free(&e);
	accept(c, &w);
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
	if(store_begin(st) != STORE_OK){
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
		reject(c, "VersionMismatch", msg, &e);
		goto done;
	}
	if(!status_device_may_move(e.status, (int)f.status)){
		store_rollback(st);
		char msg[128];
		snprintf(msg, sizeof(msg), "cannot update an execution from %s to %s",
				status_name(e.status), status_name((int)f.status));
		reject(c, "InvalidStateTransition", msg, &e);
		goto done;
	}

	int old_status = e.status;
	bool status_changes = old_status != (int)f.status;
	if(status_changes && notify_touch(c->svc, e.thing, e.namespace_id, notify_set_changed(old_status, (int)f.status)) != 0){
		fail_internal(c);
		goto done;
	}
	e.status = (int)f.status;
	e.version++;
	e.last_updated_at = c->req->now;
	if(e.status == EXEC_IN_PROGRESS && !e.started_at) e.started_at = c->req->now;
	if(f.details){
		free(e.status_details);
		e.status_details = f.details;
		f.details = NULL;
	}
	if(f.step_timeout) e.step_timeout_minutes = f.step_timeout > 0 ? f.step_timeout : 0;
	set_timers(c, &e, old_status, f.step_timeout);
	/* A terminal status may bring a retry, an abort, the job's completion. */
	if(store_exec_update(st, &e) != STORE_OK
			|| (status_is_terminal(e.status) && fleet_finished(c->svc, &e, request_ms(c->req)) != 0)){
		fail_internal(c);
		goto done;
	}
	if(commit(c) != 0) goto done;

	struct jsonw w;
	reply_begin(&w);
	if(f.include_state){
		jsonw_key(&w, "executionState");
		shapes_write_state(&w, &e);
	}
	if(f.include_document && e.document) jsonw_key_raw(&w, "jobDocument", e.document);
	accept(c, &w);
done:
	free(f.details);
	store_exec_free(&e);
}

/* ---- entry points ---- */

/* The payload's clientToken, for a rejection that does not validate the request: the
 * parsed payload (caller deletes it), or NULL. */
static cJSON *token_only(const struct jobs_request *req, struct device_ctx *c)
{
	cJSON *body = NULL;
	if(req->payload_len && utf8_valid(req->payload, req->payload_len)
			&& !utf8_json_has_escaped_nul(req->payload, req->payload_len)){
		body = jf_parse_strict(req->payload, req->payload_len);
		const cJSON *token = cJSON_GetObjectItemCaseSensitive(body, "clientToken");
		if(cJSON_IsString(token)) c->client_token = token->valuestring;
	}
	return body;
}

void device_reject_topic(struct service *svc, const struct jobs_request *req, struct outbox *ob)
{
	struct device_ctx c = { .svc = svc, .req = req, .ob = ob, .outbox_mark = ob->count };
	/* The clientToken is echoed here too when the payload carries one. */
	cJSON *body = token_only(req, &c);
	reject(&c, "InvalidTopic", "the topic maps to no jobs operation", NULL);
	cJSON_Delete(body);
}

void device_reject_fault(struct service *svc, const struct jobs_request *req,
		const struct jobs_topic *topic, const char *code, struct outbox *ob)
{
	struct device_ctx c = { .svc = svc, .req = req, .topic = topic, .ob = ob, .outbox_mark = ob->count };
	cJSON *body = token_only(req, &c);
	struct store_exec e;
	bool named = topic->job_id[0] && strcmp(topic->job_id, JOBS_NEXT_ID) != 0;
	bool state = strcmp(code, "VersionMismatch") == 0 && named
		&& store_exec_find(svc->store, topic->thing, topic->job_id, topic->namespace_id, 0, false, &e) == STORE_OK;
	reject(&c, code, "injected by the broker's test controls (setFaults)", state ? &e : NULL);
	if(state) store_exec_free(&e);
	cJSON_Delete(body);
}

void device_handle(struct service *svc, const struct jobs_request *req,
		const struct jobs_topic *topic, struct outbox *ob)
{
	struct device_ctx c = { .svc = svc, .req = req, .topic = topic, .ob = ob, .outbox_mark = ob->count };
	struct jf_error err;

	if(req->payload_len && !utf8_valid(req->payload, req->payload_len)){
		reject(&c, "InvalidJson", "payload is not valid UTF-8", NULL);
		return;
	}
	cJSON *body = req->payload_len ? jf_parse_strict(req->payload, req->payload_len)
		: cJSON_CreateObject();
	if(!cJSON_IsObject(body)){
		cJSON_Delete(body);
		reject(&c, "InvalidJson", "payload is not a JSON object", NULL);
		return;
	}
	c.body = body;
	if(req->payload_len && utf8_json_has_escaped_nul(req->payload, req->payload_len)){
		/* cJSON would cut the strings short at the NUL: refused, and no clientToken is
		 * echoed, since a token cut short is worse than none. */
		reject(&c, "InvalidRequest", "strings may not contain U+0000", NULL);
	}else if(jf_string(body, "clientToken", &c.client_token, &err) == JF_BAD){
		reject_invalid(&c, &err);
	}else if(svc->limiter && !ratelimit_allow(svc->limiter, topic->thing, request_ms(req))){
		reject(&c, "RequestThrottled", "too many requests for this thing: retry later", NULL);
	}else{
		switch(topic->op){
		case OP_GET_PENDING: handle_get_pending(&c); break;
		case OP_START_NEXT: handle_start_next(&c); break;
		case OP_DESCRIBE: handle_describe(&c); break;
		case OP_UPDATE: handle_update(&c); break;
		}
	}
	cJSON_Delete(body);
}
