/* Management commands on jobs: createJob, cancelJob, deleteJob, describeJob,
 * getJobDocument, listJobs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/control_internal.h"
#include "util/names.h"
#include "core/policy.h"
#include "core/shapes.h"
#include "core/validate.h"
#include "core/status.h"

#define DESCRIPTION_MAX 2028
#define COMMENT_MAX 2028
#define REASON_CODE_MAX 128

/* Fields of CreateJob this version does not act on: refused rather than ignored. */
static const char *const unsupported_create_fields[] = {
	"documentSource", "destinationPackageVersions",
};

/* A target: a bare thing name, a thing ARN or a thing group ARN
 * (arn:aws:iot:<region>:<account>:thing/<name>; names may hold ':'). */
int control_parse_target(struct control_ctx *c, const cJSON *item, struct control_target *t)
{
	if(!cJSON_IsString(item)) return control_fail(c, "InvalidRequestException", "targets must be strings");
	const char *name = item->valuestring;
	t->kind = TARGET_KIND_THING;
	if(strncmp(name, "arn:", 4) == 0){
		const char *resource = name;
		for(int i = 0; i < 5 && resource; i++){
			resource = strchr(resource, ':');
			if(resource) resource++;
		}
		if(resource && strncmp(resource, "thing/", 6) == 0){
			name = resource + 6;
		}else if(resource && strncmp(resource, "thinggroup/", 11) == 0){
			name = resource + 11;
			t->kind = TARGET_KIND_GROUP;
		}else{
			return control_fail(c, "InvalidRequestException", "target %.200s is neither a thing nor a thing group ARN", name);
		}
	}
	if(!names_thing_valid(name, strlen(name))){
		return control_fail(c, "InvalidRequestException", "target %.200s is not a valid name", item->valuestring);
	}
	strcpy(t->name, name);
	if(t->kind == TARGET_KIND_THING) return control_registered_thing(c, t->name);
	if(t->kind == TARGET_KIND_GROUP){
		struct store_group g;
		int rc = store_group_get(c->svc->store, t->name, &g);
		if(rc == STORE_NOT_FOUND) return control_fail(c, "ResourceNotFoundException", "thing group %s does not exist", t->name);
		if(rc != STORE_OK) return control_fail_store(c);
		store_group_free(&g);
	}
	return 0;
}

static int read_create_fields(struct control_ctx *c, const cJSON *cmd, struct store_job *job)
{
	struct jf_error err;
	const char *selection = NULL, *ns = NULL, *description;

	for(size_t i = 0; i < sizeof(unsupported_create_fields) / sizeof(*unsupported_create_fields); i++){
		if(cJSON_GetObjectItemCaseSensitive(cmd, unsupported_create_fields[i])){
			return control_fail(c, "InvalidRequestException", "%s is not supported yet", unsupported_create_fields[i]);
		}
	}
	if(control_text(c, cmd, "description", DESCRIPTION_MAX, &description)) return -1;
	if(description && !(job->description = strdup(description))) return control_fail_store(c);
	if(jf_string(cmd, "targetSelection", &selection, &err) == JF_BAD) return control_fail_invalid(c, &err);
	if(!selection || strcmp(selection, "SNAPSHOT") == 0) job->target_selection = TARGET_SNAPSHOT;
	else if(strcmp(selection, "CONTINUOUS") == 0) job->target_selection = TARGET_CONTINUOUS;
	else return control_fail(c, "InvalidRequestException", "targetSelection must be SNAPSHOT or CONTINUOUS");
	if(jf_string(cmd, "namespaceId", &ns, &err) == JF_BAD) return control_fail_invalid(c, &err);
	if(ns && !names_namespace_valid(ns, strlen(ns))){
		return control_fail(c, "InvalidRequestException", "namespaceId must be 1-64 characters of [a-zA-Z0-9_-]");
	}
	snprintf(job->namespace_id, sizeof(job->namespace_id), "%s", ns ? ns : "");
	const cJSON *doc = cJSON_GetObjectItemCaseSensitive(cmd, "document");
	if(!doc || cJSON_IsNull(doc)) return control_fail(c, "InvalidRequestException", "document is required");
	if(validate_document(doc, &job->document, &err) != JF_OK) return control_fail_invalid(c, &err);

	struct parsed_policy pp;
	if(policy_parse(cmd, &pp, &err) != JF_OK) return control_fail_invalid(c, &err);
	job->policy = pp.policy;
	job->abort_config = pp.abort_config;
	job->policies = pp.policies;
	job->maintenance_windows = pp.maintenance_windows;
	if(control_template_record(c, cmd, job)) return -1;
	/* A start in the future makes the job SCHEDULED; one in the past is "now" (AWS
	 * wants it 30 minutes ahead; local testing does not). */
	int64_t now_ms = c->now_ms;
	struct job_policy *p = &job->policy;
	job->status = p->start_ms > now_ms ? JOB_SCHEDULED : JOB_IN_PROGRESS;
	if(job->status == JOB_SCHEDULED) p->wake_ms = p->start_ms;
	else if(p->rollout_rate > 0) p->wake_ms = now_ms;
	if(p->end_ms && (p->wake_ms == 0 || p->end_ms < p->wake_ms)) p->wake_ms = p->end_ms;
	return 0;
}

/* createJob's and cancelJob's answer: jobId, jobArn, description. */
static void add_job_ids(struct control_ctx *c, cJSON *data, const struct store_job *job)
{
	cJSON_AddStringToObject(data, "jobId", job->job_id);
	control_add_arn(c, data, "jobArn", "job", job->job_id);
	if(job->description) cJSON_AddStringToObject(data, "description", job->description);
}

/* Groups up to this size are reached within the createJob command itself. */
#define INLINE_GROUP_MAX 256

/* The job reaches every thing of a group. A small group is reached at once; a larger
 * one through one entry in the job's queue, which the tick walks a bounded number of
 * things at a time (starting at the end of this very loop pass), so a group of
 * 100 000 things never stalls the broker. */
int control_queue_group(struct control_ctx *c, struct store_job *job, const char *group)
{
	struct store_name *things;
	size_t n;
	if(store_member_list(c->svc->store, group, 0, INLINE_GROUP_MAX + 1, &things, &n) != STORE_OK) return control_fail_store(c);
	int rc = 0;
	for(size_t i = 0; n <= INLINE_GROUP_MAX && i < n && rc == 0; i++){
		if(fleet_reach_thing(c->svc, job, things[i].name, c->now_ms) != 0) rc = control_fail_store(c);
	}
	free(things);
	if(n <= INLINE_GROUP_MAX || rc != 0) return rc;
	if(store_rollout_push_group(c->svc->store, job->seq, group) != STORE_OK) return control_fail_store(c);
	if(job->status == JOB_IN_PROGRESS && (job->policy.wake_ms == 0 || job->policy.wake_ms > c->now_ms)){
		job->policy.wake_ms = c->now_ms;
		if(store_job_update(c->svc->store, job) != STORE_OK) return control_fail_store(c);
	}
	return 0;
}

static int create_job(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	struct jf_error err;
	const cJSON *targets;
	struct store_job job = { 0 };
	int rc = -1;

	if(control_job_id(c, cmd)) return -1;
	int t = jf_array(cmd, "targets", &targets, &err);
	if(t == JF_ABSENT) return control_fail(c, "InvalidRequestException", "targets is required");
	if(t != JF_OK) return control_fail_invalid(c, &err);
	if(cJSON_GetArraySize(targets) < 1) return control_fail(c, "InvalidRequestException", "targets must name at least one target");
	/* AWS's limit, kept for the broker's sake too: all things of a list are reached
	 * inside this command, while a group of any size is walked by the tick. */
	if(cJSON_GetArraySize(targets) > JOBS_TARGETS_MAX){
		return control_fail(c, "LimitExceededException",
				"a job may have at most %d targets; put the things in a thing group", JOBS_TARGETS_MAX);
	}
	if(read_create_fields(c, cmd, &job)) goto cleanup;

	snprintf(job.job_id, sizeof(job.job_id), "%s", c->job_id);
	job.created_at = job.last_updated_at = c->now;
	if(!(job.targets = cJSON_PrintUnformatted(targets))){
		control_fail(c, "InternalFailureException", "out of memory");
		goto cleanup;
	}
	int ins = store_job_insert(c->svc->store, &job);
	if(ins == STORE_EXISTS){
		control_fail(c, "ResourceAlreadyExistsException", "job %s already exists", c->job_id);
		goto cleanup;
	}
	if(ins != STORE_OK){
		control_fail_store(c);
		goto cleanup;
	}
	const cJSON *item;
	cJSON_ArrayForEach(item, targets){
		struct control_target tg;
		if(control_parse_target(c, item, &tg)) goto cleanup;
		if(store_target_add(c->svc->store, job.seq, tg.kind, tg.name) != STORE_OK){
			control_fail_store(c);
			goto cleanup;
		}
		if(tg.kind == TARGET_KIND_GROUP){
			if(control_queue_group(c, &job, tg.name)) goto cleanup;
		}else if(fleet_reach_thing(c->svc, &job, tg.name, c->now_ms) != 0){
			control_fail_store(c);
			goto cleanup;
		}
	}
	service_note_wake(c->svc, job.policy.wake_ms);
	/* A snapshot job for empty groups has nothing to wait for. */
	if(fleet_job_refresh(c->svc, job.job_id, job.seq, c->now) != 0){
		control_fail_store(c);
		goto cleanup;
	}
	add_job_ids(c, data, &job);
	rc = 0;
cleanup:
	store_job_free(&job);
	return rc;
}

/* A job from a template (jobTemplateArn) is created from the command the template's
 * fields make (control_templates.c). */
int control_create_job(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	cJSON *expanded;
	if(control_template_expand(c, cmd, &expanded)) return -1;
	int rc = create_job(c, expanded ? expanded : cmd, data);
	cJSON_Delete(expanded);
	return rc;
}

int control_cancel_job(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	struct jf_error err;
	bool force = false;
	const char *reason, *comment;
	struct store_job job;

	if(control_job_id(c, cmd)
			|| (jf_bool(cmd, "force", &force, &err) == JF_BAD && control_fail_invalid(c, &err))
			|| control_text(c, cmd, "reasonCode", REASON_CODE_MAX, &reason)
			|| control_text(c, cmd, "comment", COMMENT_MAX, &comment)
			|| control_load_job(c, &job)){
		return -1;
	}
	int rc = -1;
	if(job.status == JOB_COMPLETED){
		control_fail(c, "InvalidStateTransitionException", "job %s is already COMPLETED", c->job_id);
		goto cleanup;
	}
	if(fleet_cancel_job(c->svc, &job, force, reason, comment, c->now_ms) != 0){
		control_fail_store(c);
		goto cleanup;
	}
	add_job_ids(c, data, &job);
	rc = 0;
cleanup:
	store_job_free(&job);
	return rc;
}

int control_delete_job(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	(void)data;
	struct jf_error err;
	bool force = false;
	struct store_job job;
	if(control_job_id(c, cmd)
			|| (jf_bool(cmd, "force", &force, &err) == JF_BAD && control_fail_invalid(c, &err))
			|| control_load_job(c, &job)){
		return -1;
	}
	int rc = -1;
	if(!force && job.status != JOB_COMPLETED && job.status != JOB_CANCELED){
		control_fail(c, "InvalidStateTransitionException",
				"job %s is %s: cancel it first, or delete with force", c->job_id, store_job_status_name(job.status));
		goto cleanup;
	}
	rc = fleet_delete_job(c->svc, &job, c->now_ms) == 0 ? 0 : control_fail_store(c);
cleanup:
	store_job_free(&job);
	return rc;
}

static const char *selection_name(int selection)
{
	return selection == TARGET_CONTINUOUS ? "CONTINUOUS" : "SNAPSHOT";
}

/* The fields a job and a job summary share. */
static void add_job_common(struct control_ctx *c, cJSON *o, const struct store_job *job)
{
	control_add_arn(c, o, "jobArn", "job", job->job_id);
	cJSON_AddStringToObject(o, "jobId", job->job_id);
	cJSON_AddStringToObject(o, "targetSelection", selection_name(job->target_selection));
	cJSON_AddStringToObject(o, "status", store_job_status_name(job->status));
	shapes_add_int(o, "createdAt", job->created_at);
	shapes_add_int(o, "lastUpdatedAt", job->last_updated_at);
	if(job->completed_at) shapes_add_int(o, "completedAt", job->completed_at);
}

int control_describe_job(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	struct store_job job;
	int64_t counts[EXEC_STATUS_COUNT];
	if(control_job_id(c, cmd) || control_load_job(c, &job)) return -1;
	if(store_job_counts(c->svc->store, job.seq, counts) != STORE_OK){
		store_job_free(&job);
		return control_fail_store(c);
	}
	cJSON *o = cJSON_AddObjectToObject(data, "job");
	if(o){
		add_job_common(c, o, &job);
		cJSON_AddBoolToObject(o, "forceCanceled", job.force_canceled);
		if(job.reason_code) cJSON_AddStringToObject(o, "reasonCode", job.reason_code);
		if(job.comment) cJSON_AddStringToObject(o, "comment", job.comment);
		if(job.description) cJSON_AddStringToObject(o, "description", job.description);
		if(job.namespace_id[0]) cJSON_AddStringToObject(o, "namespaceId", job.namespace_id);
		shapes_add_stored(o, "targets", job.targets);
		/* the policy fields, as given to createJob */
		cJSON *policies = job.policies ? cJSON_Parse(job.policies) : NULL;
		cJSON *field;
		while(policies && (field = policies->child)){
			cJSON_DetachItemViaPointer(policies, field);
			cJSON_AddItemToObject(o, field->string, field);
		}
		cJSON_Delete(policies);
		cJSON *pd = cJSON_AddObjectToObject(o, "jobProcessDetails");
		for(int s = 0; pd && s < EXEC_STATUS_COUNT; s++) shapes_add_int(pd, shapes_process_detail_key(s), counts[s]);
	}
	store_job_free(&job);
	return 0;
}

int control_get_job_document(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	struct store_job job;
	if(control_job_id(c, cmd) || control_load_job(c, &job)) return -1;
	cJSON_AddStringToObject(data, "document", job.document);
	store_job_free(&job);
	return 0;
}

static int parse_job_status(struct control_ctx *c, const cJSON *cmd, int *status)
{
	const char *name = NULL;
	struct jf_error err;
	*status = -1;
	if(jf_string(cmd, "status", &name, &err) == JF_BAD) return control_fail_invalid(c, &err);
	if(!name) return 0;
	for(int s = 0; s < JOB_STATUS_COUNT; s++){
		if(strcmp(name, store_job_status_name(s)) == 0){
			*status = s;
			return 0;
		}
	}
	return control_fail(c, "InvalidRequestException", "unknown job status %.32s", name);
}

int control_list_jobs(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	struct jf_error err;
	struct control_page page;
	struct store_job_filter f = { .status = -1, .target_selection = -1 };
	const char *selection = NULL;
	if(parse_job_status(c, cmd, &f.status)
			|| (jf_string(cmd, "targetSelection", &selection, &err) == JF_BAD && control_fail_invalid(c, &err))
			|| (jf_string(cmd, "namespaceId", &f.namespace_id, &err) == JF_BAD && control_fail_invalid(c, &err))
			|| (jf_string(cmd, "thingGroupName", &f.group, &err) == JF_BAD && control_fail_invalid(c, &err))
			|| control_page(c, cmd, &page)){
		return -1;
	}
	if(selection){
		if(strcmp(selection, "SNAPSHOT") == 0) f.target_selection = TARGET_SNAPSHOT;
		else if(strcmp(selection, "CONTINUOUS") == 0) f.target_selection = TARGET_CONTINUOUS;
		else return control_fail(c, "InvalidRequestException", "targetSelection must be SNAPSHOT or CONTINUOUS");
	}
	struct store_job *jobs;
	size_t n;
	if(store_job_list(c->svc->store, &f, page.offset, page.limit + 1, &jobs, &n) != STORE_OK) return control_fail_store(c);
	cJSON *list = cJSON_AddArrayToObject(data, "jobs");
	for(size_t i = 0; list && i < n && i < (size_t)page.limit; i++){
		cJSON *o = cJSON_CreateObject();
		if(!o) break;
		add_job_common(c, o, &jobs[i]);
		cJSON_AddBoolToObject(o, "isConcurrent", false);
		cJSON_AddItemToArray(list, o);
	}
	control_page_next(data, &page, n);
	store_job_array_free(jobs, n);
	return 0;
}
