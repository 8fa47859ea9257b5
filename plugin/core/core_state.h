/* The core's state (struct service) and the small helpers every file of the core
 * shares; not part of the core's public surface (service.h is). */
#ifndef MOSQUITTO_JOBS_CORE_STATE_H
#define MOSQUITTO_JOBS_CORE_STATE_H

#include <cjson/cJSON.h>

#include "core/service.h"
#include "core/metrics.h"
#include "core/ratelimit.h"
#include "core/sysstats.h"
#include "store/store.h"
#include "core/testctl.h"
#include "util/loglimit.h"

struct service {
	struct store *store;
	int max_pending;
	char *region;
	char *account_id;
	double time_scale;
	struct ratelimit *limiter;  /* NULL: no per-thing rate limit */
	struct req_counter requests; /* device requests, for the $SYS topics (sysstats.h) */
	struct notify_scope *notify; /* things the current request changes */
	struct events *events;      /* the jobs events: configurations, those gathered (events.h) */
	jobs_log_fn log;
	void *log_ctx;
	/* The tick's shortcut: nothing is due before next_wake_ms (0: nothing at all),
	 * valid while wake_known. */
	bool wake_known;
	int64_t next_wake_ms;
	/* Group commit: a batch is open since the outbox held batch_mark messages. */
	jobs_clock_fn clock;       /* NULL: one batch per tick */
	void *clock_ctx;
	bool group_commit;
	bool batch_open;
	size_t batch_mark;
	uint64_t batch_seq;        /* batches opened so far; the open one's number */
	uint64_t committed_seq;    /* the last batch that committed */
	uint64_t done_seq;         /* every batch up to this one is over (committed or failed) */
	uint64_t batches_lost;     /* batches that did not commit, so far */
	/* Batches whose outcome is not reported yet, oldest first (from held[held_head]):
	 * their messages are held in the outbox. state: STORE_PENDING, the store will tell
	 * (store_batch_poll); STORE_OK or STORE_ERROR, known, reported after those before. */
	struct held_batch { uint64_t seq; int state; } *held;
	size_t held_head, held_count, held_cap;
	struct loglimit sync_errors;  /* lines about store_sync failing */
	jobs_batch_failed_fn batch_failed;  /* NULL: none */
	void *batch_failed_ctx;
	/* Test controls: NULL unless plugin_opt_test_controls is on. */
	struct testctl *testctl;
	enum identity_source identity;  /* who disconnectThing disconnects */
	jobs_kick_fn kick;
	void *kick_ctx;
	int64_t started_ms;        /* epoch ms: when service_create ran (describeBroker's uptime) */
	bool require_registered_things; /* plugin_opt_require_registered_things */
	struct metrics *metrics;   /* counters and histograms (metrics.h) */
	size_t batch_requests;     /* requests in the open batch */
	/* The store's counts for the metrics, read at most once per pass (at counts_ms) */
	int64_t counts_ms;
	int counts_rc;
	struct store_counts counts;
};

/* Job minutes to wall milliseconds, with plugin_opt_time_scale applied. */
static inline int64_t minutes_to_ms(const struct service *svc, int64_t minutes)
{
	return (int64_t)((double)minutes * 60000.0 / svc->time_scale);
}

/* Test controls' move of job time (advanceTime), in wall ms: added to `now` where
 * the service takes it (service.c, scheduler.c). 0 with test controls off. */
static inline int64_t testing_offset_ms(const struct service *svc)
{
	int64_t minutes = testctl_offset_minutes(svc->testctl);
	return minutes ? minutes_to_ms(svc, minutes) : 0;
}

/* Something became due at `ms`: the tick must look then. */
static inline void service_note_wake(struct service *svc, int64_t ms)
{
	if(ms > 0 && (svc->next_wake_ms == 0 || ms < svc->next_wake_ms)) svc->next_wake_ms = ms;
}

#define SVC_LOG(svc, level, ...) do{ if((svc)->log) (svc)->log((svc)->log_ctx, (level), __VA_ARGS__); }while(0)

/* Reports the outcome of held batches as far as the store knows it (service.h's
 * service_flush), outside a batch; now_ms in job time. service.c. */
void service_settle(struct service *svc, int64_t now_ms, struct outbox *ob);
/* Opens a batch for the tick's due work when group commit is on and none is open
 * (service.c); true when it opened one, which the tick then flushes itself: a store whose
 * commit takes a round trip never makes the tick wait for one. */
bool service_tick_batch(struct service *svc, const struct outbox *ob);

/* Service-side changes (fleet.c). Each returns 0, or -1 on a store error (the
 * caller rolls back and drops what was appended to the outbox). Times: epoch ms. */
/* Queues a new execution of the job for the thing (the next execution number) unless
 * one is already pending, and notifies the thing. */
int fleet_queue_execution(struct service *svc, const struct store_job *job, const char *thing,
		int64_t retry_attempt, int64_t now_ms);
/* The job should reach the thing: queued now, or put in the job's rollout queue when
 * a rollout or a schedule paces the job (job->policy.wake_ms may change). */
int fleet_reach_thing(struct service *svc, struct store_job *job, const char *thing, int64_t now_ms);
/* Moves an execution to a service-set status (CANCELED, REMOVED, TIMED_OUT):
 * versionNumber +1, timers stopped, forceCanceled when an IN_PROGRESS one is
 * canceled; then fleet_finished for a terminal status. */
int fleet_move_execution(struct service *svc, struct store_exec *e, int to, int64_t now_ms);
/* Writes an execution whose status was `from` (store_exec_update); when it is now
 * terminal, gathers its event (the status changed) and runs fleet_finished. The one
 * place an execution's terminal status is written. */
int fleet_write_execution(struct service *svc, const struct store_exec *e, int from, int64_t now_ms);
/* After an execution reached a terminal status: a retry if the job's retry config
 * allows one, the job's abort criteria, and the job's completion. */
int fleet_finished(struct service *svc, const struct store_exec *e, int64_t now_ms);
/* Cancels a job: status CANCELED, rollout stopped, QUEUED executions (and IN_PROGRESS
 * ones with force) CANCELED; the events cancellation_in_progress, each execution's
 * canceled, and canceled. */
int fleet_cancel_job(struct service *svc, struct store_job *job, bool force, const char *reason_code,
		const char *comment, int64_t now_ms);
/* Deletes an execution (its thing notified when it was pending, its event deleted). */
int fleet_delete_execution(struct service *svc, const struct store_exec *e, int64_t now_ms);
/* Deletes a job with its executions: the events deletion_in_progress, each thing's
 * execution deleted, and deleted. */
int fleet_delete_job(struct service *svc, const struct store_job *job, int64_t now_ms);
/* A thing joined or left a group: continuous jobs targeting the group follow. */
int fleet_thing_joined(struct service *svc, const char *group, const char *thing, int64_t now_ms);
int fleet_thing_left(struct service *svc, const char *group, const char *thing, int64_t now_ms);
/* Moves a job to COMPLETED when it is a snapshot job in progress with no pending
 * execution left and nothing waiting in its rollout queue. */
int fleet_job_refresh(struct service *svc, const char *job_id, int64_t job_seq, int64_t now);

/* Device API (device_api.c). */
void device_handle(struct service *svc, const struct device_request *req, struct device_result *res,
		struct outbox *ob);
/* Refuses the request with `error` and `message` without running it; a
 * VersionMismatch carries the executionState of the execution the request names,
 * when there is one. */
void device_refuse(struct service *svc, const struct device_request *req, enum device_error error,
		const char *message, struct device_result *res);

/* Management API (control_api.c): runs one command in its own transaction. */
void control_run(struct service *svc, const struct control_request *req, const cJSON *cmd,
		struct control_result *out, struct outbox *ob);

#endif
