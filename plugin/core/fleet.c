/* Service-side changes to executions, shared by every way in (management commands,
 * device updates, the tick): queue an execution for a thing, write a status change,
 * move one to a service state, what follows a terminal state (retry, abort, job
 * completion), cancel or delete a job, and follow thing-group membership for
 * continuous jobs. Each appends the device notifications the change calls for, and
 * gathers the jobs events (events.h) where an execution reaches a terminal status or
 * is deleted and a job is completed, canceled or deleted: every way in changes those
 * here. Each returns 0, or -1 on a store error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/events.h"
#include "core/notify.h"
#include "core/policy.h"
#include "core/core_state.h"
#include "core/status.h"

int fleet_queue_execution(struct service *svc, const struct store_job *job, const char *thing,
		int64_t retry_attempt, int64_t now_ms)
{
	struct store_exec last;
	int64_t number = 1;
	int rc = store_exec_get(svc->store, thing, job->seq, 0, false, &last);
	if(rc == STORE_OK){
		/* already queued or running; or, for a first try, the thing already had one (it
		 * is reached again only after its execution was REMOVED) */
		bool skip = status_is_pending(last.status) || (retry_attempt == 0 && last.status != EXEC_REMOVED);
		number = last.execution_number + 1;
		store_exec_free(&last);
		if(skip) return 0;
	}else if(rc != STORE_NOT_FOUND){
		return -1;
	}
	int64_t now = now_ms / 1000;
	struct store_exec e = {
		.job_seq = job->seq, .execution_number = number, .status = EXEC_QUEUED,
		.queued_at = now, .last_updated_at = now, .version = 1, .retry_attempt = retry_attempt,
	};
	strcpy(e.thing, thing);
	strcpy(e.namespace_id, job->namespace_id);
	if(notify_touch(svc, thing, job->namespace_id, true) != 0 || store_exec_insert(svc->store, &e) != STORE_OK){
		return -1;
	}
	return 0;
}

/* Whether a rollout, a schedule or maintenance windows pace the job's executions. */
static bool paced(const struct store_job *job)
{
	return job->status == JOB_SCHEDULED || job->policy.rollout_rate > 0 || job->maintenance_windows;
}

int fleet_reach_thing(struct service *svc, struct store_job *job, const char *thing, int64_t now_ms)
{
	if(!paced(job)) return fleet_queue_execution(svc, job, thing, 0, now_ms);
	if(store_rollout_push(svc->store, job->seq, thing) != STORE_OK) return -1;
	/* A running rollout looks at its queue at once; a scheduled job at its start. */
	if(job->status == JOB_IN_PROGRESS && (job->policy.wake_ms == 0 || job->policy.wake_ms > now_ms)){
		job->policy.wake_ms = now_ms;
		if(store_job_update(svc->store, job) != STORE_OK) return -1;
	}
	service_note_wake(svc, job->policy.wake_ms);
	return 0;
}

int fleet_move_execution(struct service *svc, struct store_exec *e, int to, int64_t now_ms)
{
	int from = e->status;
	if(notify_touch(svc, e->thing, e->namespace_id, notify_set_changed(from, to)) != 0) return -1;
	if(from == EXEC_IN_PROGRESS && to == EXEC_CANCELED) e->force_canceled = true;
	e->status = to;
	e->version++;
	e->last_updated_at = now_ms / 1000;
	if(status_is_terminal(to)) e->step_deadline_ms = e->progress_deadline_ms = 0;
	return fleet_write_execution(svc, e, from, now_ms);
}

int fleet_write_execution(struct service *svc, const struct store_exec *e, int from, int64_t now_ms)
{
	if(store_exec_update(svc->store, e) != STORE_OK) return -1;
	if(!status_is_terminal(e->status)) return 0;
	if(from != e->status && events_execution(svc, e, NULL, now_ms) != 0) return -1;
	return fleet_finished(svc, e, now_ms);
}

/* How many retries the job allows after this terminal status. */
static int retries_allowed(const struct store_job *job, int status)
{
	if(status == EXEC_FAILED) return job->policy.retry_failed;
	if(status == EXEC_TIMED_OUT) return job->policy.retry_timed_out;
	return 0;
}

static bool is_failure(int status)
{
	return status == EXEC_FAILED || status == EXEC_REJECTED || status == EXEC_TIMED_OUT;
}

int fleet_finished(struct service *svc, const struct store_exec *e, int64_t now_ms)
{
	struct store_job job;
	if(store_job_get_state(svc->store, e->job_id, &job) != STORE_OK) return -1;
	int rc = 0;
	if(job.status == JOB_IN_PROGRESS && e->retry_attempt < retries_allowed(&job, e->status)){
		rc = fleet_queue_execution(svc, &job, e->thing, e->retry_attempt + 1, now_ms);
	}
	/* a success can bring the executed count up to a criterion's minimum too */
	if(rc == 0 && job.abort_config && job.status == JOB_IN_PROGRESS && (is_failure(e->status) || e->status == EXEC_SUCCEEDED)){
		int64_t counts[EXEC_STATUS_COUNT];
		char why[256];
		if(store_job_counts(svc->store, job.seq, counts) != STORE_OK) rc = -1;
		else if(policy_abort_due(job.abort_config, counts, why, sizeof(why))){
			SVC_LOG(svc, JOBS_LOG_NOTICE, "jobs: job %s aborted: %s", job.job_id, why);
			char comment[300];
			snprintf(comment, sizeof(comment), "aborted: %s", why);
			rc = fleet_cancel_job(svc, &job, false, "ABORTED", comment, now_ms);
		}
	}
	if(rc == 0) rc = fleet_job_refresh(svc, job.job_id, job.seq, now_ms / 1000);
	store_job_free(&job);
	return rc;
}

static int replace_text(char **dst, const char *value)
{
	if(!value) return 0;
	char *copy = strdup(value);
	if(!copy) return -1;
	free(*dst);
	*dst = copy;
	return 0;
}

int fleet_cancel_job(struct service *svc, struct store_job *job, bool force, const char *reason_code,
		const char *comment, int64_t now_ms)
{
	job->status = JOB_CANCELED;
	job->force_canceled = job->force_canceled || force;
	job->last_updated_at = now_ms / 1000;
	job->policy.wake_ms = 0;
	if(replace_text(&job->reason_code, reason_code) || replace_text(&job->comment, comment)
			|| store_job_update(svc->store, job) != STORE_OK
			|| store_rollout_clear(svc->store, job->seq) != STORE_OK
			|| events_job(svc, job->job_id, "cancellation_in_progress", now_ms) != 0){
		return -1;
	}
	unsigned mask = (1u << EXEC_QUEUED) | (force ? 1u << EXEC_IN_PROGRESS : 0);
	struct store_exec *execs;
	size_t n;
	if(store_job_executions(svc->store, job->seq, mask, &execs, &n) != STORE_OK) return -1;
	int rc = 0;
	for(size_t i = 0; i < n && rc == 0; i++) rc = fleet_move_execution(svc, &execs[i], EXEC_CANCELED, now_ms);
	store_exec_array_free(execs, n);
	return rc == 0 ? events_job(svc, job->job_id, "canceled", now_ms) : rc;
}

int fleet_delete_execution(struct service *svc, const struct store_exec *e, int64_t now_ms)
{
	if(notify_touch(svc, e->thing, e->namespace_id, notify_set_changed(e->status, -1)) != 0
			|| events_execution(svc, e, "deleted", now_ms) != 0
			|| store_exec_delete(svc->store, e->thing, e->job_seq, e->execution_number) != STORE_OK){
		return -1;
	}
	return 0;
}

int fleet_delete_job(struct service *svc, const struct store_job *job, int64_t now_ms)
{
	if(events_job(svc, job->job_id, "deletion_in_progress", now_ms) != 0) return -1;
	/* The things whose pending execution goes away are told so; with execution events
	 * on, every thing's execution is reported deleted. */
	bool every = events_enabled(svc, EVENT_JOB_EXECUTION);
	unsigned mask = every ? (1u << EXEC_STATUS_COUNT) - 1 : (1u << EXEC_QUEUED) | (1u << EXEC_IN_PROGRESS);
	struct store_exec *execs;
	size_t n;
	if(store_job_executions(svc->store, job->seq, mask, &execs, &n) != STORE_OK) return -1;
	int rc = 0;
	for(size_t i = 0; i < n && rc == 0; i++){
		rc = status_is_pending(execs[i].status) ? fleet_delete_execution(svc, &execs[i], now_ms)
			: events_execution(svc, &execs[i], "deleted", now_ms);
	}
	store_exec_array_free(execs, n);
	/* the job's event is made while the job is still there */
	if(rc == 0 && events_job(svc, job->job_id, "deleted", now_ms) != 0) rc = -1;
	if(rc == 0 && store_job_delete(svc->store, job->seq) != STORE_OK) rc = -1;
	return rc;
}

int fleet_thing_joined(struct service *svc, const char *group, const char *thing, int64_t now_ms)
{
	struct store_job *jobs;
	size_t n;
	if(store_continuous_jobs_for_group(svc->store, group, &jobs, &n) != STORE_OK) return -1;
	int rc = 0;
	for(size_t i = 0; i < n && rc == 0; i++){
		/* A thing that already ran the job does not run it again; one whose execution
		 * was REMOVED when it left gets a new one. */
		struct store_exec last;
		int got = store_exec_get(svc->store, thing, jobs[i].seq, 0, false, &last);
		if(got == STORE_NOT_FOUND || (got == STORE_OK && last.status == EXEC_REMOVED)){
			rc = fleet_reach_thing(svc, &jobs[i], thing, now_ms);
		}else if(got != STORE_OK){
			rc = -1;
		}
		if(got == STORE_OK) store_exec_free(&last);
	}
	store_job_array_free(jobs, n);
	return rc;
}

int fleet_thing_left(struct service *svc, const char *group, const char *thing, int64_t now_ms)
{
	struct store_job *jobs;
	size_t n;
	if(store_continuous_jobs_for_group(svc->store, group, &jobs, &n) != STORE_OK) return -1;
	int rc = 0;
	for(size_t i = 0; i < n && rc == 0; i++){
		bool still_targeted;
		struct store_exec e;
		if(store_job_targets_thing(svc->store, jobs[i].seq, thing, &still_targeted) != STORE_OK){
			rc = -1;
			break;
		}
		if(still_targeted) continue;
		int got = store_exec_get(svc->store, thing, jobs[i].seq, 0, false, &e);
		if(got == STORE_OK){
			if(status_is_pending(e.status)) rc = fleet_move_execution(svc, &e, EXEC_REMOVED, now_ms);
			store_exec_free(&e);
		}else if(got != STORE_NOT_FOUND){
			rc = -1;
		}
	}
	store_job_array_free(jobs, n);
	return rc;
}

int fleet_job_refresh(struct service *svc, const char *job_id, int64_t job_seq, int64_t now)
{
	struct store_job job;
	bool pending;
	int64_t waiting = 0;
	int rc = store_job_has_pending(svc->store, job_seq, &pending);
	if(rc == STORE_OK && !pending) rc = store_rollout_count(svc->store, job_seq, &waiting);
	if(rc != STORE_OK || pending || waiting) return rc == STORE_OK ? 0 : -1;
	if(store_job_get_state(svc->store, job_id, &job) != STORE_OK) return -1;
	if(job.status == JOB_IN_PROGRESS && job.target_selection == TARGET_SNAPSHOT){
		job.status = JOB_COMPLETED;
		job.completed_at = now;
		job.last_updated_at = now;
		rc = store_job_update(svc->store, &job);
		if(rc == STORE_OK && events_job(svc, job_id, "completed", now * 1000) != 0) rc = STORE_ERROR;
	}
	store_job_free(&job);
	return rc == STORE_OK ? 0 : -1;
}
