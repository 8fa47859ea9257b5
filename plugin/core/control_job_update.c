/* Management commands that change a job after its creation: updateJob (AWS's UpdateJob:
 * description, presignedUrlConfig, jobExecutionsRolloutConfig, abortConfig,
 * timeoutConfig, jobExecutionsRetryConfig) and associateTargetsWithJob (things and thing
 * groups added to a continuous job in progress). What may change and when follows
 * docs/management.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/control_internal.h"
#include "core/policy.h"
#include "core/validate.h"
#include "util/names.h"

#define DESCRIPTION_MAX 2028
#define COMMENT_MAX 2028

/* The fields of UpdateJob that policy_parse reads. */
static const char *const update_policy_fields[] = {
	"presignedUrlConfig", "jobExecutionsRolloutConfig", "abortConfig", "timeoutConfig",
	"jobExecutionsRetryConfig",
};
#define N_UPDATE_FIELDS (sizeof(update_policy_fields) / sizeof(*update_policy_fields))

/* The optional namespaceId: the job must be in it. */
static int check_namespace(struct control_ctx *c, const cJSON *cmd, const struct store_job *job)
{
	const char *ns = NULL;
	struct jf_error err;
	if(jf_string(cmd, "namespaceId", &ns, &err) == JF_BAD) return control_fail_invalid(c, &err);
	if(ns && !names_namespace_valid(ns, strlen(ns))){
		return control_fail(c, "InvalidRequestException", "namespaceId must be 1-64 characters of [a-zA-Z0-9_-]");
	}
	if(ns && strcmp(ns, job->namespace_id) != 0){
		return control_fail(c, "ResourceNotFoundException", "job %s does not exist in namespace %s", job->job_id, ns);
	}
	return 0;
}

static int replace_text(char **dst, const char *value)
{
	char *copy = value ? strdup(value) : NULL;
	if(value && !copy) return -1;
	free(*dst);
	*dst = copy;
	return 0;
}

/* The job's stored policy fields (describeJob's) with the given ones replaced. */
static char *merge_policies(const char *stored, const char *given)
{
	cJSON *all = stored ? cJSON_Parse(stored) : cJSON_CreateObject();
	cJSON *add = given ? cJSON_Parse(given) : NULL;
	if(!all) all = cJSON_CreateObject();
	cJSON *field;
	while(all && add && (field = add->child)){
		cJSON_DetachItemViaPointer(add, field);
		cJSON_DeleteItemFromObjectCaseSensitive(all, field->string);
		cJSON_AddItemToObject(all, field->string, field);
	}
	char *text = all && all->child ? jf_print_exact(all) : NULL;
	cJSON_Delete(all);
	cJSON_Delete(add);
	return text;
}

/* A new rollout config replaces the old one from now: its rate applies at the tick's
 * next look, and an exponential rate grows from what is counted now. */
static int apply_rollout(struct control_ctx *c, struct store_job *job, const struct job_policy *given)
{
	struct job_policy *p = &job->policy;
	p->rollout_rate = given->rollout_rate;
	p->rollout_max = given->rollout_max;
	p->rollout_factor = given->rollout_factor;
	p->rollout_notified_step = given->rollout_notified_step;
	p->rollout_succeeded_step = given->rollout_succeeded_step;
	p->rollout_base_count = p->released_total;
	if(p->rollout_succeeded_step){
		int64_t counts[EXEC_STATUS_COUNT];
		if(store_job_counts(c->svc->store, job->seq, counts) != STORE_OK) return control_fail_store(c);
		p->rollout_base_count = counts[EXEC_SUCCEEDED];
	}
	p->window_start_ms = 0;
	p->window_released = 0;
	if(job->status == JOB_IN_PROGRESS && (p->wake_ms == 0 || p->wake_ms > c->now_ms)) p->wake_ms = c->now_ms;
	return 0;
}

/* A new abort config is checked at once against the counts so far. */
static int check_abort(struct control_ctx *c, struct store_job *job)
{
	int64_t counts[EXEC_STATUS_COUNT];
	char why[256], comment[300];
	if(job->status != JOB_IN_PROGRESS || !job->abort_config) return 0;
	if(store_job_counts(c->svc->store, job->seq, counts) != STORE_OK) return control_fail_store(c);
	if(!policy_abort_due(job->abort_config, counts, why, sizeof(why))) return 0;
	SVC_LOG(c->svc, JOBS_LOG_NOTICE, "jobs: job %s aborted: %s", job->job_id, why);
	snprintf(comment, sizeof(comment), "aborted: %s", why);
	return fleet_cancel_job(c->svc, job, false, "ABORTED", comment, c->now_ms) ? control_fail_store(c) : 0;
}

int control_update_job(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	(void)data;  /* UpdateJob answers nothing */
	struct jf_error err;
	const char *description;
	struct store_job job;
	if(control_job_id(c, cmd) || control_text(c, cmd, "description", DESCRIPTION_MAX, &description)) return -1;
	/* the given policy fields, read as createJob reads them */
	cJSON *given = cJSON_CreateObject();
	bool has[N_UPDATE_FIELDS] = { false };
	for(size_t i = 0; given && i < N_UPDATE_FIELDS; i++){
		const cJSON *f = cJSON_GetObjectItemCaseSensitive(cmd, update_policy_fields[i]);
		has[i] = f && !cJSON_IsNull(f);
		if(has[i]) cJSON_AddItemReferenceToObject(given, update_policy_fields[i], (cJSON *)f);
	}
	if(!given) return control_fail(c, "InternalFailureException", "out of memory");
	struct parsed_policy pp;
	int parsed = policy_parse(given, &pp, &err);
	cJSON_Delete(given);
	if(parsed != JF_OK) return control_fail_invalid(c, &err);
	if(control_load_job(c, &job)){
		policy_free(&pp);
		return -1;
	}
	int rc = -1;
	if(check_namespace(c, cmd, &job)) goto cleanup;
	if(job.status != JOB_IN_PROGRESS && job.status != JOB_SCHEDULED){
		control_fail(c, "InvalidRequestException", "job %s is %s: only a job in progress or scheduled can be updated",
				job.job_id, store_job_status_name(job.status));
		goto cleanup;
	}
	job.last_updated_at = c->now;
	if(description && replace_text(&job.description, description)) goto oom;
	if(has[1] && apply_rollout(c, &job, &pp.policy)) goto cleanup;
	if(has[2]){
		free(job.abort_config);
		job.abort_config = pp.abort_config;
		pp.abort_config = NULL;
	}
	/* a running execution keeps its timer; those that start from now on get this one */
	if(has[3]) job.policy.in_progress_timeout_min = pp.policy.in_progress_timeout_min;
	if(has[4]){
		job.policy.retry_failed = pp.policy.retry_failed;
		job.policy.retry_timed_out = pp.policy.retry_timed_out;
	}
	if(pp.policies){
		char *merged = merge_policies(job.policies, pp.policies);
		if(!merged) goto oom;
		free(job.policies);
		job.policies = merged;
	}
	if(store_job_set_config(c->svc->store, &job) != STORE_OK || store_job_update(c->svc->store, &job) != STORE_OK){
		control_fail_store(c);
		goto cleanup;
	}
	service_note_wake(c->svc, job.policy.wake_ms);
	if(has[2] && check_abort(c, &job)) goto cleanup;
	rc = 0;
	goto cleanup;
oom:
	control_fail(c, "InternalFailureException", "out of memory");
cleanup:
	policy_free(&pp);
	store_job_free(&job);
	return rc;
}

/* Whether the job's targets (JSON array text, as given) hold this one already. */
static bool has_target(const cJSON *targets, const char *target)
{
	const cJSON *t;
	cJSON_ArrayForEach(t, targets){
		if(cJSON_IsString(t) && strcmp(t->valuestring, target) == 0) return true;
	}
	return false;
}

/* One new target: kept among the job's targets, and reached as a continuous job reaches
 * a thing that joins one of its groups (fleet.c): a thing that already ran the job does
 * not run it again. */
static int add_target(struct control_ctx *c, struct store_job *job, const cJSON *item)
{
	struct control_target tg;
	if(control_parse_target(c, item, &tg)) return -1;
	if(store_target_add(c->svc->store, job->seq, tg.kind, tg.name) != STORE_OK) return control_fail_store(c);
	if(tg.kind == TARGET_KIND_GROUP) return control_queue_group(c, job, tg.name);
	return fleet_reach_thing(c->svc, job, tg.name, c->now_ms) ? control_fail_store(c) : 0;
}

int control_associate_targets_with_job(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	struct jf_error err;
	const cJSON *targets, *item;
	const char *comment;
	struct store_job job;
	if(control_job_id(c, cmd)) return -1;
	int t = jf_array(cmd, "targets", &targets, &err);
	if(t == JF_ABSENT) return control_fail(c, "InvalidRequestException", "targets is required");
	if(t != JF_OK) return control_fail_invalid(c, &err);
	if(cJSON_GetArraySize(targets) < 1) return control_fail(c, "InvalidRequestException", "targets must name at least one target");
	cJSON_ArrayForEach(item, targets){
		if(!cJSON_IsString(item) || strlen(item->valuestring) > 2048){
			return control_fail(c, "InvalidRequestException", "targets must be strings of at most 2048 characters");
		}
	}
	if(control_text(c, cmd, "comment", COMMENT_MAX, &comment) || control_load_job(c, &job)) return -1;
	int rc = -1;
	cJSON *all = NULL;
	if(check_namespace(c, cmd, &job)) goto cleanup;
	if(job.target_selection != TARGET_CONTINUOUS){
		control_fail(c, "InvalidRequestException",
				"job %s is a SNAPSHOT job: targets can be added to a CONTINUOUS job only", job.job_id);
		goto cleanup;
	}
	if(job.status != JOB_IN_PROGRESS){
		control_fail(c, "InvalidRequestException", "job %s is %s: targets can be added to a job in progress only",
				job.job_id, store_job_status_name(job.status));
		goto cleanup;
	}
	if(!(all = cJSON_Parse(job.targets)) || !cJSON_IsArray(all)){
		control_fail(c, "InternalFailureException", "the job's targets cannot be read");
		goto cleanup;
	}
	/* the new targets, each once, after the job's own; the limit counts them so */
	int before = cJSON_GetArraySize(all);
	cJSON_ArrayForEach(item, targets){
		if(has_target(all, item->valuestring)) continue;
		cJSON *copy = cJSON_CreateString(item->valuestring);
		if(!copy){
			control_fail(c, "InternalFailureException", "out of memory");
			goto cleanup;
		}
		cJSON_AddItemToArray(all, copy);
		if(cJSON_GetArraySize(all) > JOBS_TARGETS_MAX){
			control_fail(c, "LimitExceededException", "a job may have at most %d targets; put the things in a thing group",
					JOBS_TARGETS_MAX);
			goto cleanup;
		}
	}
	job.last_updated_at = c->now;
	int index = 0;
	cJSON_ArrayForEach(item, all){
		if(index++ >= before && add_target(c, &job, item)) goto cleanup;
	}
	char *text = cJSON_PrintUnformatted(all);
	if(!text || (comment && replace_text(&job.comment, comment))){
		free(text);
		control_fail(c, "InternalFailureException", "out of memory");
		goto cleanup;
	}
	free(job.targets);
	job.targets = text;
	if(store_job_set_config(c->svc->store, &job) != STORE_OK){
		control_fail_store(c);
		goto cleanup;
	}
	service_note_wake(c->svc, job.policy.wake_ms);
	cJSON_AddStringToObject(data, "jobId", job.job_id);
	control_add_arn(c, data, "jobArn", "job", job.job_id);
	if(job.description) cJSON_AddStringToObject(data, "description", job.description);
	rc = 0;
cleanup:
	cJSON_Delete(all);
	store_job_free(&job);
	return rc;
}
