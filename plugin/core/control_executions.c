/* Management commands on job executions: describeJobExecution, cancelJobExecution,
 * deleteJobExecution, listJobExecutionsForJob, listJobExecutionsForThing. */
#include <stdlib.h>
#include <string.h>

#include "core/control_internal.h"
#include "core/shapes.h"
#include "core/validate.h"
#include "core/status.h"

/* CancelJobExecution caps statusDetails at 10 entries (AWS's model). */
#define CANCEL_DETAILS_MAX 10

/* jobId and thingName of a command, and the job. */
static int load_target(struct control_ctx *c, const cJSON *cmd, char *thing, struct store_job *job)
{
	if(control_job_id(c, cmd) || control_name(c, cmd, "thingName", thing) || control_load_job(c, job)) return -1;
	return 0;
}

/* The execution (number 0: latest); ResourceNotFoundException when missing. */
static int load_execution(struct control_ctx *c, const struct store_job *job, const char *thing,
		int64_t number, struct store_exec *e)
{
	int rc = store_exec_get(c->svc->store, thing, job->seq, number, false, e);
	if(rc == STORE_NOT_FOUND && number > 0){
		return control_fail(c, "ResourceNotFoundException", "execution number %lld of job %s for thing %s does not exist",
				(long long)number, c->job_id, thing);
	}
	if(rc == STORE_NOT_FOUND){
		return control_fail(c, "ResourceNotFoundException", "no execution of job %s for thing %s", c->job_id, thing);
	}
	return rc == STORE_OK ? 0 : control_fail_store(c);
}

/* JobExecutionSummary of the control plane. */
static cJSON *execution_summary(const struct store_exec *e)
{
	cJSON *o = cJSON_CreateObject();
	if(!o) return NULL;
	cJSON_AddStringToObject(o, "status", status_name(e->status));
	shapes_add_int(o, "queuedAt", e->queued_at);
	if(e->started_at) shapes_add_int(o, "startedAt", e->started_at);
	shapes_add_int(o, "lastUpdatedAt", e->last_updated_at);
	shapes_add_int(o, "executionNumber", e->execution_number);
	shapes_add_int(o, "retryAttempt", e->retry_attempt);
	return o;
}

int control_describe_job_execution(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	struct jf_error err;
	char thing[JOBS_THING_NAME_MAX + 1];
	long long number = 0;
	struct store_job job;
	struct store_exec e;

	if(load_target(c, cmd, thing, &job)) return -1;
	int rc = jf_long(cmd, "executionNumber", 1, INT64_MAX / 2, &number, &err) == JF_BAD
		? control_fail_invalid(c, &err) : load_execution(c, &job, thing, number, &e);
	store_job_free(&job);
	if(rc) return -1;

	cJSON *o = cJSON_AddObjectToObject(data, "execution");
	if(o){
		cJSON_AddStringToObject(o, "jobId", e.job_id);
		cJSON_AddStringToObject(o, "status", status_name(e.status));
		cJSON_AddBoolToObject(o, "forceCanceled", e.force_canceled);
		shapes_add_control_details(o, &e);
		control_add_arn(c, o, "thingArn", "thing", e.thing);
		shapes_add_int(o, "queuedAt", e.queued_at);
		if(e.started_at) shapes_add_int(o, "startedAt", e.started_at);
		shapes_add_int(o, "lastUpdatedAt", e.last_updated_at);
		shapes_add_int(o, "executionNumber", e.execution_number);
		shapes_add_int(o, "versionNumber", e.version);
		shapes_add_time_left(o, &e, c->now_ms, c->svc->time_scale);
	}
	store_exec_free(&e);
	return 0;
}

int control_cancel_job_execution(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	(void)data;
	struct jf_error err;
	char thing[JOBS_THING_NAME_MAX + 1];
	bool force = false;
	long long expected = -1;
	const cJSON *details_obj = NULL;
	char *details = NULL;
	struct store_job job;
	struct store_exec e;

	if(load_target(c, cmd, thing, &job)) return -1;
	int rc = -1;
	if(jf_bool(cmd, "force", &force, &err) == JF_BAD
			|| jf_long(cmd, "expectedVersion", 0, INT64_MAX / 2, &expected, &err) == JF_BAD
			|| jf_object(cmd, "statusDetails", &details_obj, &err) == JF_BAD
			|| (details_obj && validate_status_details(details_obj, &details, &err) != JF_OK)){
		control_fail_invalid(c, &err);
		goto done_job;
	}
	if(details_obj && cJSON_GetArraySize(details_obj) > CANCEL_DETAILS_MAX){
		control_fail(c, "InvalidRequestException", "statusDetails may hold at most %d entries", CANCEL_DETAILS_MAX);
		goto done_job;
	}
	if(load_execution(c, &job, thing, 0, &e)) goto done_job;
	if(status_is_terminal(e.status)){
		control_fail(c, "InvalidStateTransitionException", "the execution is already %s", status_name(e.status));
	}else if(e.status == EXEC_IN_PROGRESS && !force){
		control_fail(c, "InvalidStateTransitionException", "the execution is IN_PROGRESS: cancel it with force");
	}else if(expected >= 0 && expected != e.version){
		control_fail(c, "VersionConflictException", "expectedVersion %lld does not match versionNumber %lld",
				expected, (long long)e.version);
	}else{
		if(details){
			free(e.status_details);
			e.status_details = details;
			details = NULL;
		}
		rc = fleet_move_execution(c->svc, &e, EXEC_CANCELED, c->now_ms) == 0 ? 0 : control_fail_store(c);
	}
	store_exec_free(&e);
done_job:
	free(details);
	store_job_free(&job);
	return rc;
}

int control_delete_job_execution(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	(void)data;
	struct jf_error err;
	char thing[JOBS_THING_NAME_MAX + 1];
	bool force = false;
	long long number = 0;
	struct store_job job;
	struct store_exec e;

	if(load_target(c, cmd, thing, &job)) return -1;
	int rc = -1;
	int got = jf_long(cmd, "executionNumber", 1, INT64_MAX / 2, &number, &err);
	if(got == JF_ABSENT) control_fail(c, "InvalidRequestException", "executionNumber is required");
	else if(got == JF_BAD || jf_bool(cmd, "force", &force, &err) == JF_BAD) control_fail_invalid(c, &err);
	else if(load_execution(c, &job, thing, number, &e) == 0){
		if(!status_is_terminal(e.status) && !force){
			control_fail(c, "InvalidStateTransitionException",
					"the execution is %s: only a terminal execution is deleted without force", status_name(e.status));
		}else{
			rc = fleet_delete_execution(c->svc, &e, c->now_ms) == 0
				&& fleet_job_refresh(c->svc, job.job_id, job.seq, c->now) == 0 ? 0 : control_fail_store(c);
		}
		store_exec_free(&e);
	}
	store_job_free(&job);
	return rc;
}

int control_list_job_executions_for_job(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	struct control_page page;
	struct store_job job;
	int status;
	if(control_job_id(c, cmd) || control_status_filter(c, cmd, &status) || control_page(c, cmd, &page)
			|| control_load_job(c, &job)){
		return -1;
	}
	struct store_exec *execs;
	size_t n;
	int rc = store_job_exec_page(c->svc->store, job.seq, status, page.offset, page.limit + 1, &execs, &n);
	store_job_free(&job);
	if(rc != STORE_OK) return control_fail_store(c);
	cJSON *list = cJSON_AddArrayToObject(data, "executionSummaries");
	for(size_t i = 0; list && i < n && i < (size_t)page.limit; i++){
		cJSON *o = cJSON_CreateObject();
		if(!o) break;
		control_add_arn(c, o, "thingArn", "thing", execs[i].thing);
		cJSON_AddItemToObject(o, "jobExecutionSummary", execution_summary(&execs[i]));
		cJSON_AddItemToArray(list, o);
	}
	control_page_next(data, &page, n);
	store_exec_array_free(execs, n);
	return 0;
}

int control_list_job_executions_for_thing(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	struct jf_error err;
	struct control_page page;
	char thing[JOBS_THING_NAME_MAX + 1];
	const char *ns = NULL;
	int status;
	if(control_name(c, cmd, "thingName", thing) || control_status_filter(c, cmd, &status)
			|| (jf_string(cmd, "namespaceId", &ns, &err) == JF_BAD && control_fail_invalid(c, &err))
			|| control_page(c, cmd, &page)){
		return -1;
	}
	struct store_exec *execs;
	size_t n;
	if(store_thing_exec_page(c->svc->store, thing, status, ns, page.offset, page.limit + 1, &execs, &n) != STORE_OK){
		return control_fail_store(c);
	}
	cJSON *list = cJSON_AddArrayToObject(data, "executionSummaries");
	for(size_t i = 0; list && i < n && i < (size_t)page.limit; i++){
		cJSON *o = cJSON_CreateObject();
		if(!o) break;
		cJSON_AddStringToObject(o, "jobId", execs[i].job_id);
		cJSON_AddItemToObject(o, "jobExecutionSummary", execution_summary(&execs[i]));
		cJSON_AddItemToArray(list, o);
	}
	control_page_next(data, &page, n);
	store_exec_array_free(execs, n);
	return 0;
}
