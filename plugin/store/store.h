/* SQLite storage of jobs and job executions.
 *
 * One connection, WAL, statements prepared once at open. Transactions nest as
 * SQLite savepoints, so a request's store_begin/store_commit works both alone and
 * inside an outer batch. Every function returns STORE_OK or a STORE_* code; rows
 * come back in caller-owned structs whose strings are freed with the matching
 * *_free function. Knows nothing of JSON shapes or MQTT. */
#ifndef MOSQUITTO_JOBS_STORE_H
#define MOSQUITTO_JOBS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "util/names.h"
#include "core/status.h"

enum store_rc {
	STORE_OK = 0,
	STORE_NOT_FOUND,
	STORE_EXISTS,
	STORE_ERROR, /* SQLite failed; store_errmsg says why */
};

#define STORE_SCHEMA_VERSION 5

/* Job (not execution) states. Stored as numbers: never renumber. */
enum job_status {
	JOB_IN_PROGRESS = 0,
	JOB_COMPLETED = 1,
	JOB_CANCELED = 2,
	JOB_DELETION_IN_PROGRESS = 3,
	JOB_SCHEDULED = 4,
	JOB_STATUS_COUNT
};
const char *store_job_status_name(int status);

enum target_selection { TARGET_SNAPSHOT = 0, TARGET_CONTINUOUS = 1 };

/* What schedulingConfig.endBehavior asks for at endTime. */
enum end_behavior { END_NONE = 0, END_STOP_ROLLOUT, END_CANCEL, END_FORCE_CANCEL };

/* A job's time and fleet policies (createJob's timeoutConfig, jobExecutionsRetryConfig,
 * jobExecutionsRolloutConfig, abortConfig, schedulingConfig) and the rollout's state.
 * Times are epoch milliseconds; 0 means "none". */
struct job_policy {
	int64_t in_progress_timeout_min;
	int retry_failed;            /* retries allowed after FAILED */
	int retry_timed_out;         /* retries allowed after TIMED_OUT */
	double rollout_rate;         /* executions queued per minute now; 0: all at once */
	double rollout_max;          /* the rate never exceeds this (maximumPerMinute) */
	double rollout_factor;       /* exponentialRate.incrementFactor; 0: constant rate */
	int64_t rollout_notified_step;  /* the rate grows each time this many more were queued */
	int64_t rollout_succeeded_step; /* ... or succeeded */
	int64_t rollout_base_count;  /* queued / succeeded count at the last growth */
	int64_t window_start_ms;     /* start of the current rollout minute */
	int64_t window_released;     /* executions queued in it */
	int64_t released_total;      /* executions queued by the rollout so far */
	int64_t start_ms;            /* schedulingConfig.startTime */
	int64_t end_ms;              /* schedulingConfig.endTime */
	int end_behavior;            /* enum end_behavior */
	int64_t wake_ms;             /* when the tick must look at this job again */
};

struct store_job {
	int64_t seq;                              /* creation order; set by store_job_insert */
	char job_id[JOBS_JOB_ID_MAX + 1];
	char namespace_id[JOBS_NAMESPACE_MAX + 1];
	int status;                               /* enum job_status */
	int target_selection;
	char *description;                        /* NULL when none */
	char *document;                           /* JSON object text */
	char *targets;                            /* JSON array text, as given */
	int64_t created_at;
	int64_t last_updated_at;
	int64_t completed_at;                     /* 0 while not completed */
	bool force_canceled;
	char *reason_code;                        /* NULL when none */
	char *comment;                            /* NULL when none */
	char *abort_config;                       /* abortConfig.criteriaList JSON; NULL when none */
	char *policies;                           /* the policy fields as given, JSON; NULL when none */
	struct job_policy policy;
};
void store_job_free(struct store_job *job);
void store_job_array_free(struct store_job *jobs, size_t count);

/* Filters of store_job_list: -1 / NULL for "any". */
struct store_job_filter {
	int status;
	int target_selection;
	const char *namespace_id;
	const char *group;        /* jobs created with this thing group as a target */
};

struct store_exec {
	char thing[JOBS_THING_NAME_MAX + 1];
	int64_t job_seq;
	char job_id[JOBS_JOB_ID_MAX + 1];         /* filled by reads */
	char namespace_id[JOBS_NAMESPACE_MAX + 1];
	int64_t execution_number;
	int status;                               /* enum exec_status */
	char *status_details;                     /* JSON object text; NULL when empty */
	int64_t queued_at;
	int64_t started_at;                       /* 0 while never started */
	int64_t last_updated_at;
	int64_t version;
	int64_t step_timeout_minutes;             /* 0 when none */
	int64_t step_deadline_ms;                 /* 0 when no step timer runs */
	int64_t progress_deadline_ms;             /* 0 when no in-progress timer runs */
	int64_t retry_attempt;                    /* 0 for the first try */
	int64_t job_timeout_minutes;              /* the job's in-progress timeout, filled by reads */
	bool force_canceled;
	char *document;                           /* the job's document, when asked for */
	/* As read from the store (reads set loaded), so that an update can leave alone
	 * the indexes whose columns did not change. */
	bool loaded;
	int loaded_status;
	int64_t loaded_deadline_ms;
};
void store_exec_free(struct store_exec *exec);
/* The earlier of an execution's running deadlines (ms), 0 when none runs. */
int64_t store_exec_deadline(const struct store_exec *exec);
/* Frees `count` executions and the array. */
void store_exec_array_free(struct store_exec *execs, size_t count);

struct store_group {
	char name[JOBS_THING_NAME_MAX + 1];
	char *description;                        /* NULL when none */
	int64_t created_at;
};
void store_group_free(struct store_group *group);
void store_group_array_free(struct store_group *groups, size_t count);

/* A thing or group name in a list. */
struct store_name {
	char name[JOBS_THING_NAME_MAX + 1];
};

enum target_kind { TARGET_KIND_THING = 0, TARGET_KIND_GROUP = 1 };

struct store;

int store_open(const char *path, enum jobs_sync sync, struct store **out, char *err, size_t errlen);
void store_close(struct store *store);
/* Caps the database at about max_bytes: a write that would grow it further fails
 * (STORE_ERROR, SQLITE_FULL) and its transaction rolls back. */
int store_set_size_limit(struct store *store, int64_t max_bytes);
const char *store_errmsg(const struct store *store);

/* The WAL's upkeep (plugin/checkpoint.c): a background thread checkpoints it, and a
 * commit that leaves it longer than rewind_frames waits for one checkpoint of
 * everything, so that the next transaction starts the WAL over. For tests and
 * diagnostics; all zero but wal_frames for a database without a file. */
struct store_wal_stats {
	int wal_frames;             /* the WAL's length in frames after the last commit */
	int rewind_frames;
	unsigned long checkpoints;  /* background checkpoints ended */
	unsigned long catch_ups;    /* commits that waited for a checkpoint */
	unsigned long caught_up;    /* ... and saw it end within the wait */
};
void store_wal_stats(struct store *store, struct store_wal_stats *out);
/* The longest wait of such a commit: 10 ms unless set (tests on a busy machine). */
void store_set_catch_up_wait(struct store *store, int ms);

/* Savepoint-based transactions: begin/commit or begin/rollback, properly nested. */
int store_begin(struct store *store);
/* An outer transaction around many requests' savepoints (group commit). On a failed
 * commit everything since store_batch_begin is rolled back. */
int store_batch_begin(struct store *store);
/* Whether a transaction is open. SQLite may roll a whole transaction back on its own
 * (SQLITE_FULL, an I/O error): a batch must then check it is still there. */
bool store_in_transaction(struct store *store);
int store_batch_commit(struct store *store);
int store_commit(struct store *store);
void store_rollback(struct store *store);

int store_job_get(struct store *store, const char *job_id, struct store_job *out);
/* The same without the description, the document and the targets (NULL): for the
 * rules applied on every terminal update, which need none of them. store_job_update
 * writes none of them either. */
int store_job_get_state(struct store *store, const char *job_id, struct store_job *out);
/* STORE_EXISTS when the job id is taken. Sets job->seq. */
int store_job_insert(struct store *store, struct store_job *job);
/* Writes what changes after creation: status, last_updated_at, completed_at,
 * force_canceled, reason_code, comment, the rollout state, end_behavior and wake time. */
int store_job_update(struct store *store, const struct store_job *job);
/* counts[s] = number of executions of the job (latest per thing) in status s. */
int store_job_counts(struct store *store, int64_t job_seq, int64_t counts[EXEC_STATUS_COUNT]);
/* Deletes the job, its executions and its targets. */
int store_job_delete(struct store *store, int64_t job_seq);
/* A page of jobs in creation order; *out is malloc'd (store_job_array_free). */
int store_job_list(struct store *store, const struct store_job_filter *filter, int64_t offset,
		int limit, struct store_job **out, size_t *count);
/* Whether any execution of the job is QUEUED or IN_PROGRESS. */
int store_job_has_pending(struct store *store, int64_t job_seq, bool *out);

/* The execution of job_seq on thing with that number; 0 means the latest. */
int store_exec_get(struct store *store, const char *thing, int64_t job_seq,
		int64_t execution_number, bool with_document, struct store_exec *out);
/* The same, by the job's id, seen only from its own namespace ("" for none):
 * STORE_NOT_FOUND when there is no such job there or no such execution. */
int store_exec_find(struct store *store, const char *thing, const char *job_id,
		const char *namespace_id, int64_t execution_number, bool with_document,
		struct store_exec *out);
int store_exec_insert(struct store *store, const struct store_exec *exec);
/* Writes status, details, times, version, step timeout, deadlines and force flag. */
int store_exec_update(struct store *store, const struct store_exec *exec);

/* STORE_NOT_FOUND when there was no such execution. */
int store_exec_delete(struct store *store, const char *thing, int64_t job_seq, int64_t execution_number);

/* A thing's pending executions in `namespace_id`: IN_PROGRESS first, then QUEUED,
 * each by queuedAt then job creation; at most `limit`. *out is malloc'd (free with
 * store_exec_array_free); documents are filled when with_document. */
int store_pending(struct store *store, const char *thing, const char *namespace_id,
		int limit, bool with_document, struct store_exec **out, size_t *count);
/* The same list with only what a JobExecutionSummary shows, and the ids (the
 * rest is zero, not loaded): for pending lists and notify. */
int store_pending_summaries(struct store *store, const char *thing, const char *namespace_id,
		int limit, struct store_exec **out, size_t *count);

/* The latest executions of a job whose status is in status_mask (bit 1<<status).
 * *out is malloc'd (free with store_exec_array_free). */
int store_job_executions(struct store *store, int64_t job_seq, unsigned status_mask,
		struct store_exec **out, size_t *count);

/* Pages of executions (every execution number), status -1 for any; *out is malloc'd
 * (store_exec_array_free). By job: ordered by thing. By thing: by job creation;
 * namespace_id NULL for any. */
int store_job_exec_page(struct store *store, int64_t job_seq, int status, int64_t offset,
		int limit, struct store_exec **out, size_t *count);
int store_thing_exec_page(struct store *store, const char *thing, int status,
		const char *namespace_id, int64_t offset, int limit, struct store_exec **out, size_t *count);

/* Thing groups. Deleting a group deletes its memberships. */
int store_group_get(struct store *store, const char *name, struct store_group *out);
int store_group_insert(struct store *store, const struct store_group *group);
int store_group_delete(struct store *store, const char *name);
int store_group_list(struct store *store, const char *prefix, int64_t offset, int limit,
		struct store_group **out, size_t *count);
/* STORE_EXISTS when the thing already is a member; STORE_NOT_FOUND on removing a
 * thing that is not. */
int store_member_add(struct store *store, const char *group, const char *thing, int64_t now);
int store_member_remove(struct store *store, const char *group, const char *thing);
/* A page of a group's things, by name; *out is malloc'd (free()). */
int store_member_list(struct store *store, const char *group, int64_t offset, int limit,
		struct store_name **out, size_t *count);

/* Job targets: what a job was created for. */
int store_target_add(struct store *store, int64_t job_seq, enum target_kind kind, const char *name);
/* The IN_PROGRESS continuous jobs with `group` among their targets. */
int store_continuous_jobs_for_group(struct store *store, const char *group,
		struct store_job **out, size_t *count);
/* Whether the job targets the thing, directly or through a group it belongs to. */
int store_job_targets_thing(struct store *store, int64_t job_seq, const char *thing, bool *out);

/* Timers: executions whose earlier deadline is at or before now_ms (at most
 * `limit`, earliest first), and the earliest deadline of all (0 when none). */
int store_due_executions(struct store *store, int64_t now_ms, int limit, struct store_exec **out, size_t *count);
int store_next_deadline(struct store *store, int64_t *out_ms);
/* Jobs whose wake time is at or before now_ms, and the earliest wake time (0: none). */
int store_due_jobs(struct store *store, int64_t now_ms, int limit, struct store_job **out, size_t *count);
int store_next_job_wake(struct store *store, int64_t *out_ms);

/* Rollout queue: things a job will reach, in order, once its rollout or schedule
 * lets it. */
int store_rollout_push(struct store *store, int64_t job_seq, const char *thing);
/* Queues every member of a group, as one entry that store_rollout_pop walks through
 * (by name) as it goes: queuing a group of any size costs one row. */
int store_rollout_push_group(struct store *store, int64_t job_seq, const char *group);
/* Takes up to `limit` things off the front of the job's queue (a group entry gives its
 * members in name order, as they are when taken); *out is malloc'd. */
int store_rollout_pop(struct store *store, int64_t job_seq, int limit, struct store_name **out, size_t *count);
int store_rollout_clear(struct store *store, int64_t job_seq);
int store_rollout_count(struct store *store, int64_t job_seq, int64_t *out);

#endif
