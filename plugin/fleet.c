/* Service-side changes to executions, shared by every way in: queue an execution
 * for a thing, move one to a service state (CANCELED, REMOVED, …), delete one, and
 * follow thing-group membership for continuous jobs. Each appends the device
 * notifications the change calls for. */
#include <string.h>

#include "mosquitto_jobs/notify.h"
#include "service_internal.h"

int fleet_queue_execution(struct service *svc, const struct store_job *job, const char *thing,
		int64_t now, struct outbox *ob)
{
	struct store_exec last;
	int64_t number = 1;
	int rc = store_exec_get(svc->store, thing, job->seq, 0, false, &last);
	if(rc == STORE_OK){
		bool pending = status_is_pending(last.status);
		number = last.execution_number + 1;
		store_exec_free(&last);
		if(pending) return 0; /* already queued or running */
	}else if(rc != STORE_NOT_FOUND){
		return -1;
	}
	struct store_exec e = {
		.job_seq = job->seq, .execution_number = number, .status = EXEC_QUEUED,
		.queued_at = now, .last_updated_at = now, .version = 1,
	};
	struct next_id before;
	strcpy(e.thing, thing);
	strcpy(e.namespace_id, job->namespace_id);
	if(notify_next_id(svc, thing, job->namespace_id, &before) != 0
			|| store_exec_insert(svc->store, &e) != STORE_OK
			|| notify_thing(svc, thing, job->namespace_id, true, &before, now, ob) != 0){
		return -1;
	}
	return 0;
}

int fleet_move_execution(struct service *svc, struct store_exec *e, int to, int64_t now,
		struct outbox *ob)
{
	struct next_id before;
	if(notify_next_id(svc, e->thing, e->namespace_id, &before) != 0) return -1;
	int from = e->status;
	if(from == EXEC_IN_PROGRESS && to == EXEC_CANCELED) e->force_canceled = true;
	e->status = to;
	e->version++;
	e->last_updated_at = now;
	if(store_exec_update(svc->store, e) != STORE_OK
			|| notify_thing(svc, e->thing, e->namespace_id, notify_set_changed(from, to), &before,
				now, ob) != 0
			|| (status_is_terminal(to) && service_job_refresh(svc, e->job_id, e->job_seq, now) != 0)){
		return -1;
	}
	return 0;
}

int fleet_delete_execution(struct service *svc, const struct store_exec *e, int64_t now,
		struct outbox *ob)
{
	struct next_id before;
	if(notify_next_id(svc, e->thing, e->namespace_id, &before) != 0
			|| store_exec_delete(svc->store, e->thing, e->job_seq, e->execution_number) != STORE_OK
			|| notify_thing(svc, e->thing, e->namespace_id, notify_set_changed(e->status, -1), &before,
				now, ob) != 0){
		return -1;
	}
	return 0;
}

int fleet_thing_joined(struct service *svc, const char *group, const char *thing, int64_t now,
		struct outbox *ob)
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
			rc = fleet_queue_execution(svc, &jobs[i], thing, now, ob);
		}else if(got != STORE_OK){
			rc = -1;
		}
		if(got == STORE_OK) store_exec_free(&last);
	}
	store_job_array_free(jobs, n);
	return rc;
}

int fleet_thing_left(struct service *svc, const char *group, const char *thing, int64_t now,
		struct outbox *ob)
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
			if(status_is_pending(e.status)) rc = fleet_move_execution(svc, &e, EXEC_REMOVED, now, ob);
			store_exec_free(&e);
		}else if(got != STORE_NOT_FOUND){
			rc = -1;
		}
	}
	store_job_array_free(jobs, n);
	return rc;
}
