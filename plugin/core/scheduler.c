/* The tick: how pending batches ended (service.c), changes other brokers committed to
 * a shared store (store_sync), and, on the broker the store names for it
 * (store_runs_scheduler), timers that expired and jobs whose schedule or rollout is
 * due.
 *
 * Mosquitto calls the tick on every pass of its loop, so the common case must cost
 * nothing: the service remembers the earliest moment anything is due and returns at
 * once before it. When something is due, one transaction handles batches of at most
 * TICK_TIMEOUTS expired timers and TICK_JOBS jobs (a rollout or a fan-out queues at
 * most TICK_RELEASE executions per job per batch), batch after batch for up to
 * TICK_BUDGET_MS by the service's clock; the rest of a backlog is worked off over the
 * next passes, so no tick stalls the broker. Deadlines live in the store, with an index,
 * so timers that expired while the broker was down fire at the first tick. */
#include <math.h>
#include <stdlib.h>

#include "core/events.h"
#include "core/notify.h"
#include "core/policy.h"
#include "core/txn.h"
#include "core/core_state.h"
#include "core/status.h"

#define TICK_TIMEOUTS 64
#define TICK_JOBS 32
#define TICK_RELEASE 64
/* With a clock, a tick keeps working off a backlog in batches for this long. */
#define TICK_BUDGET_MS 15
/* ... and stops taking more batches once this many things are to be notified: their
 * notifications are built at the end of the tick, outside the time check. */
#define TICK_NOTIFY_MAX 128
/* After a storage error, wait this long before trying again. */
#define ERROR_BACKOFF_MS 1000

static int expire_timers(struct service *svc, int64_t now_ms, bool *more)
{
	struct store_exec *due;
	size_t n;
	if(store_due_executions(svc->store, now_ms, TICK_TIMEOUTS, &due, &n) != STORE_OK) return -1;
	int rc = 0;
	for(size_t i = 0; i < n && rc == 0; i++){
		if(status_is_pending(due[i].status)){
			SVC_LOG(svc, JOBS_LOG_INFO, "jobs: execution %lld of job %s on %s timed out",
					(long long)due[i].execution_number, due[i].job_id, due[i].thing);
			rc = fleet_move_execution(svc, &due[i], EXEC_TIMED_OUT, now_ms);
		}
	}
	store_exec_array_free(due, n);
	if(n == TICK_TIMEOUTS) *more = true;
	return rc;
}

/* How many executions the job's rollout may queue now; advances its minute window
 * and, for an exponential rate, grows the rate when its criterion is met. */
static int64_t rollout_budget(struct service *svc, struct store_job *job, int64_t now_ms)
{
	struct job_policy *p = &job->policy;
	if(p->rollout_rate <= 0) return TICK_RELEASE;
	int64_t minute = minutes_to_ms(svc, 1);
	if(p->window_start_ms == 0 || now_ms >= p->window_start_ms + minute){
		p->window_start_ms = now_ms;
		p->window_released = 0;
		if(p->rollout_factor > 0){
			int64_t metric = p->released_total, step = p->rollout_notified_step;
			if(p->rollout_succeeded_step){
				int64_t counts[EXEC_STATUS_COUNT];
				if(store_job_counts(svc->store, job->seq, counts) != STORE_OK) return -1;
				metric = counts[EXEC_SUCCEEDED];
				step = p->rollout_succeeded_step;
			}
			if(step > 0 && metric - p->rollout_base_count >= step){
				p->rollout_rate = fmin(p->rollout_rate * p->rollout_factor, p->rollout_max);
				p->rollout_base_count = metric;
			}
		}
	}
	int64_t budget = (int64_t)floor(p->rollout_rate) - p->window_released;
	return budget < 0 ? 0 : budget > TICK_RELEASE ? TICK_RELEASE : budget;
}

/* Queues what the rollout allows; sets the job's next wake time for the rest. */
static int release(struct service *svc, struct store_job *job, int64_t now_ms)
{
	struct job_policy *p = &job->policy;
	int64_t waiting;
	if(store_rollout_count(svc->store, job->seq, &waiting) != STORE_OK) return -1;
	if(waiting == 0) return 0;
	/* maintenance windows: nothing is rolled out between them */
	int64_t window_next;
	if(job->maintenance_windows && !policy_window_open(job->maintenance_windows, now_ms, &window_next)){
		p->wake_ms = window_next > 0 ? window_next : 0;
		return 0;
	}
	int64_t budget = rollout_budget(svc, job, now_ms);
	if(budget < 0) return -1;
	struct store_name *things = NULL;
	size_t n = 0;
	if(budget > 0 && store_rollout_pop(svc->store, job->seq, (int)budget, &things, &n) != STORE_OK) return -1;
	int rc = 0;
	for(size_t i = 0; i < n && rc == 0; i++){
		/* a continuous job follows its groups: a thing that left while it waited is
		 * no longer a target */
		bool targeted = true;
		if(job->target_selection == TARGET_CONTINUOUS
				&& store_job_targets_thing(svc->store, job->seq, things[i].name, &targeted) != STORE_OK){
			rc = -1;
		}else if(targeted){
			rc = fleet_queue_execution(svc, job, things[i].name, 0, now_ms);
		}
	}
	free(things);
	p->window_released += (int64_t)n;
	p->released_total += (int64_t)n;
	/* a group entry stays in the queue until its last member is taken */
	if(rc == 0 && store_rollout_count(svc->store, job->seq, &waiting) != STORE_OK) rc = -1;
	if(rc == 0 && waiting > 0){
		bool window_full = p->rollout_rate > 0 && p->window_released >= (int64_t)floor(p->rollout_rate);
		p->wake_ms = window_full ? p->window_start_ms + minutes_to_ms(svc, 1) : now_ms;
	}
	return rc;
}

/* A job's schedule start, schedule end, or rollout is due. */
static int wake_job(struct service *svc, struct store_job *job, int64_t now_ms)
{
	struct job_policy *p = &job->policy;
	p->wake_ms = 0;
	if(job->status == JOB_SCHEDULED){
		if(now_ms < p->start_ms){
			p->wake_ms = p->start_ms;
		}else{
			SVC_LOG(svc, JOBS_LOG_INFO, "jobs: scheduled job %s starts", job->job_id);
			job->status = JOB_IN_PROGRESS;
			job->last_updated_at = now_ms / 1000;
		}
	}
	if(p->end_behavior != END_NONE && p->end_ms && now_ms >= p->end_ms
			&& (job->status == JOB_IN_PROGRESS || job->status == JOB_SCHEDULED)){
		int behavior = p->end_behavior;
		p->end_behavior = END_NONE;
		SVC_LOG(svc, JOBS_LOG_INFO, "jobs: job %s reached its end time", job->job_id);
		if(behavior != END_STOP_ROLLOUT){
			return fleet_cancel_job(svc, job, behavior == END_FORCE_CANCEL, "SCHEDULE_ENDED",
					"the job's schedule ended", now_ms);
		}
		if(store_rollout_clear(svc->store, job->seq) != STORE_OK) return -1;
		if(job->status == JOB_SCHEDULED) job->status = JOB_IN_PROGRESS;
	}
	if(job->status == JOB_IN_PROGRESS && release(svc, job, now_ms) != 0) return -1;
	if(p->end_behavior != END_NONE && p->end_ms && (p->wake_ms == 0 || p->end_ms < p->wake_ms)){
		p->wake_ms = p->end_ms;
	}
	if(store_job_update(svc->store, job) != STORE_OK) return -1;
	return fleet_job_refresh(svc, job->job_id, job->seq, now_ms / 1000);
}

static int wake_jobs(struct service *svc, int64_t now_ms, bool *more)
{
	struct store_job *jobs;
	size_t n;
	if(store_due_jobs(svc->store, now_ms, TICK_JOBS, &jobs, &n) != STORE_OK) return -1;
	int rc = 0;
	for(size_t i = 0; i < n && rc == 0; i++){
		rc = wake_job(svc, &jobs[i], now_ms);
		if(jobs[i].policy.wake_ms && jobs[i].policy.wake_ms <= now_ms) *more = true;
	}
	store_job_array_free(jobs, n);
	if(n == TICK_JOBS) *more = true;
	return rc;
}

/* The earliest moment anything is due, from the store's indexes. */
static int next_wake(struct service *svc, int64_t *out_ms)
{
	int64_t deadline, wake;
	if(store_next_deadline(svc->store, &deadline) != STORE_OK || store_next_job_wake(svc->store, &wake) != STORE_OK){
		return -1;
	}
	*out_ms = !deadline ? wake : !wake ? deadline : deadline < wake ? deadline : wake;
	return 0;
}

/* store_sync's hook: a change another broker committed is about to reach a thing's
 * execution. */
static int sync_touch(void *ctx, const char *thing, const char *namespace_id, int from_status, int to_status)
{
	return notify_touch(ctx, thing, namespace_id, notify_set_changed(from_status, to_status));
}

/* Applies what other brokers committed to a shared store, and notifies this broker's
 * devices of it (free at once: it is committed). wall_ms: the real time (the log's
 * limit); now_ms: job time. */
static void sync_changes(struct service *svc, int64_t wall_ms, int64_t now_ms, struct outbox *ob)
{
	struct store_sync_hooks hooks = { .touch = sync_touch, .ctx = svc };
	int rc = store_sync(svc->store, &hooks);
	if(rc == STORE_OK){
		/* a timer may have been set elsewhere, and the event configurations changed */
		svc->wake_known = false;
		events_reload(svc);
		if(notify_emit(svc, now_ms / 1000, ob) != 0){
			SVC_LOG(svc, JOBS_LOG_ERR, "jobs: notifications of changes from other brokers: %s",
					store_errmsg(svc->store));
		}
		return;
	}
	notify_discard(svc);
	uint64_t suppressed;
	if(rc == STORE_ERROR && loglimit_allow(&svc->sync_errors, wall_ms, &suppressed)){
		SVC_LOG(svc, JOBS_LOG_ERR, "jobs: cannot read the changes of other brokers: %s (%llu similar lines suppressed)",
				store_errmsg(svc->store), (unsigned long long)suppressed);
	}
}

void service_tick(struct service *svc, int64_t now_ms, struct outbox *ob)
{
	int64_t wall_ms = now_ms;
	now_ms += testing_offset_ms(svc);
	if(!svc->batch_open){
		if(svc->held_count) service_settle(svc, now_ms, ob);
		sync_changes(svc, wall_ms, now_ms, ob);
	}
	if(svc->wake_known && (svc->next_wake_ms == 0 || now_ms < svc->next_wake_ms)) return;
	if(!store_runs_scheduler(svc->store)){
		/* another broker does the due work; this one reads the wake times again when
		 * it takes the work over */
		svc->wake_known = false;
		return;
	}

	/* nothing due yet: the wake time is all there is to learn (no transaction, so a store
	 * whose commits take a round trip has nothing to wait for) */
	int64_t due_at;
	if(next_wake(svc, &due_at) == 0 && (due_at == 0 || now_ms < due_at)){
		svc->next_wake_ms = due_at;
		svc->wake_known = true;
		return;
	}

	size_t mark = ob->count;
	bool more = false;
	bool batch = service_tick_batch(svc, ob);
	int rc = txn_begin(svc);
	int64_t started = svc->clock ? svc->clock(svc->clock_ctx) : 0;
	do{
		more = false;
		if(rc == 0) rc = expire_timers(svc, now_ms, &more);
		if(rc == 0) rc = wake_jobs(svc, now_ms, &more);
	}while(rc == 0 && more && svc->clock && svc->clock(svc->clock_ctx) - started < TICK_BUDGET_MS
			&& notify_touched(svc) < TICK_NOTIFY_MAX);
	if(rc == 0 && txn_commit(svc, now_ms / 1000, ob) != 0){
		rc = -1;
		SVC_LOG(svc, JOBS_LOG_ERR, "jobs: storage error in the timer tick: %s", store_errmsg(svc->store));
	}else if(rc != 0){
		/* logged before the rollback, whose own message would replace the cause */
		SVC_LOG(svc, JOBS_LOG_ERR, "jobs: storage error in the timer tick: %s", store_errmsg(svc->store));
		txn_abort(svc);
	}

	int64_t next = 0;
	if(rc != 0 || next_wake(svc, &next) != 0){
		outbox_truncate(ob, mark);
		next = now_ms + ERROR_BACKOFF_MS;
	}else if(more){
		next = now_ms;
	}
	svc->next_wake_ms = next;
	svc->wake_known = true;
	/* the tick's own batch commits now (a failure makes wake_known false again) */
	if(batch) service_flush(svc, wall_ms, ob);
	/* a transaction of its own waits for the batches pending (store.h): their outcomes
	 * are known now, and their messages, before the tick's, go out first */
	if(svc->held_count && !svc->batch_open) service_settle(svc, now_ms, ob);
}
