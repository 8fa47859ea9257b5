/* The store port: what the jobs core needs from storage, and nothing of how a store
 * keeps it.
 *
 * Shape. The core calls only the functions declared here, on a `struct store` that
 * store_open made. Each function dispatches through the table of operations of the
 * implementation store_open picked from the configuration (store_impl.h says what an
 * implementation provides: one function pointer per operation). SQLite is the one
 * implementation today (sqlite_store.c and the sqlite_* files beside it); another, such as
 * a PostgreSQL store that several brokers share, adds its own files under plugin/store/
 * and one entry in store_open (store.c), and no file of the core changes. Why a table of
 * operations rather than choosing the implementation when linking: both stores can be in
 * one plugin and the configuration picks; an indirect call costs nothing next to a
 * statement, and dispatching allocates nothing.
 *
 * Results. Every function returns STORE_OK or a STORE_* code. Rows come back in
 * caller-owned structs whose strings are freed with the matching *_free function
 * (store_records.c, shared by every implementation). The store knows nothing of JSON
 * shapes or MQTT; the JSON texts it keeps (documents, details, targets) are opaque to it.
 *
 * Transactions. A request's work runs in its own transaction, store_begin then
 * store_commit or store_rollback, properly nested. A request's transaction either stands
 * alone or lies inside a batch (group commit: store_batch_begin at the first request of a
 * broker pass, store_batch_commit once at its end), where rolling a request back undoes
 * that request only. A failed statement can end the whole batch, not only the request's
 * part (a full store, an I/O error): after a request fails inside a batch, the caller
 * checks store_in_transaction, and when the batch is gone, everything the batch's earlier
 * requests did is gone too.
 *
 * Batches that finish later. A store across a network must not make the broker's thread
 * wait for a round trip, so store_batch_commit may answer STORE_PENDING: the batch has
 * been handed over and its outcome is not known yet. The contract:
 *   - The caller already holds a batch's replies until its commit is known (a reply says
 *     the change is stored); on STORE_PENDING it keeps holding them, and goes on: it may
 *     begin the next batch at once.
 *   - store_batch_poll, called outside batches, never blocks, and reports the outcomes in the order the batches
 *     were committed, one per call that reports one: STORE_OK (stored: its replies may go),
 *     STORE_ERROR (rolled back: its replies become errors), STORE_PENDING (the oldest is
 *     not known yet; ask again, e.g. from the next tick), STORE_NOT_FOUND (none pending).
 *   - Reads and writes see what the batches committed before them did, pending or not.
 *     So when a pending batch fails, every batch committed after it fails too (each is
 *     reported STORE_ERROR in turn), and a batch open at that moment fails at its commit.
 *   - A transaction of its own (store_begin outside a batch) is finished when store_commit
 *     returns; a store with batches pending waits for them first.
 *   - store_close finishes (or gives up) what is pending before it returns.
 * SQLite finishes every commit at once: its store_batch_commit never answers
 * STORE_PENDING, and its store_batch_poll always answers STORE_NOT_FOUND. */
#ifndef MOSQUITTO_JOBS_STORE_H
#define MOSQUITTO_JOBS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "util/log.h"
#include "util/names.h"

enum store_rc {
	STORE_OK = 0,
	STORE_NOT_FOUND,
	STORE_EXISTS,
	STORE_ERROR,   /* the store failed; store_errmsg says why */
	STORE_PENDING, /* store_batch_commit / store_batch_poll: not finished yet */
};

/* Execution states. Stored as numbers: never renumber. The two pending states come
 * first so that "IN_PROGRESS before QUEUED" is a plain sort. Their wire names and
 * the device's transition table: core/status.h. */
enum exec_status {
	EXEC_IN_PROGRESS = 0,
	EXEC_QUEUED = 1,
	EXEC_SUCCEEDED = 2,
	EXEC_FAILED = 3,
	EXEC_REJECTED = 4,
	EXEC_TIMED_OUT = 5,
	EXEC_REMOVED = 6,
	EXEC_CANCELED = 7,
	EXEC_STATUS_COUNT
};

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
	int64_t seq;                              /* creation order (increasing); set by store_job_insert */
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
	char *maintenance_windows;                /* schedulingConfig.maintenanceWindows, JSON; NULL when none */
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
	 * what is indexed by status or deadline when neither changed. */
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

/* A registered thing (the registry of CreateThing). Jobs and groups take any thing
 * name, registered or not, unless the configuration asks for registered things. */
#define STORE_THING_ID_LEN 36                 /* a UUID's text */
struct store_thing {
	char name[JOBS_THING_NAME_MAX + 1];
	char thing_id[STORE_THING_ID_LEN + 1];
	char *type_name;                          /* NULL when none */
	char *attributes;                         /* JSON object text of string values */
	int64_t version;                          /* 1 at creation, +1 per update */
	int64_t created_at;
};
void store_thing_free(struct store_thing *thing);
void store_thing_array_free(struct store_thing *things, size_t count);

/* Filters of store_thing_list: NULL for "any". attr_name and attr_value: things with
 * an attribute of that name (any name when NULL) whose value is attr_value (any value
 * when NULL), or starts with it when attr_prefix. */
struct store_thing_filter {
	const char *attr_name;
	const char *attr_value;
	bool attr_prefix;
	const char *type_name;
};

enum target_kind { TARGET_KIND_THING = 0, TARGET_KIND_GROUP = 1 };

/* A job template (CreateJobTemplate). The store keeps its fields opaque: `fields` is a
 * JSON object of what the template holds besides its id, description and time (its
 * document and configs, as the core checked them). */
struct store_template {
	char id[JOBS_JOB_ID_MAX + 1];
	char *description;                        /* NULL when none */
	char *fields;                             /* JSON object text */
	int64_t created_at;
};
void store_template_free(struct store_template *t);
void store_template_array_free(struct store_template *templates, size_t count);

struct store;

/* Opens the store the configuration names, with the durability it asks for, and caps
 * its size when it says so (db_max_mb: past the cap a write fails like on a full disk,
 * and its transaction rolls back). The one place an implementation is picked. On
 * failure returns STORE_ERROR with a line for the operator in err and *out NULL. */
int store_open(const struct jobs_config *cfg, struct store **out, char *err, size_t errlen);
/* Finishes what is pending, then closes. NULL is a no-op. */
void store_close(struct store *store);
/* Where the store logs what no caller hears of (a lost connection, a refused batch):
 * nowhere until set. */
void store_set_log(struct store *store, jobs_log_fn log, void *ctx);
/* Why the last operation failed, for the log. */
const char *store_errmsg(const struct store *store);

/* What a store is, for the operator: its kind ("sqlite"), where it keeps its data (a
 * file, a server), and the version of its schema. The strings live as long as the
 * store. Costs nothing: no query. */
struct store_info {
	const char *kind;
	const char *location;
	int schema_version;
};
void store_info(struct store *store, struct store_info *out);

/* What the store holds, counted: jobs by status; executions by status, each thing's
 * latest execution of each job (as describeJob counts them); things (those registered,
 * with an execution or in a thing group); thing groups. */
struct store_counts {
	int64_t jobs[JOB_STATUS_COUNT];
	int64_t executions[EXEC_STATUS_COUNT];
	int64_t things;
	int64_t groups;
};
int store_counts(struct store *store, struct store_counts *out);
/* Only jobs and executions by status (things and groups left 0): cheap at any size,
 * for what is read often ($SYS topics). */
int store_status_counts(struct store *store, struct store_counts *out);

/* A request's transaction: begin, then commit or rollback; properly nested. A failed
 * commit rolls the transaction back. */
int store_begin(struct store *store);
int store_commit(struct store *store);
void store_rollback(struct store *store);
/* A batch around many requests' transactions (group commit). STORE_OK: the batch is
 * stored. STORE_ERROR: everything since store_batch_begin is rolled back. STORE_PENDING:
 * see "Batches that finish later" above. */
int store_batch_begin(struct store *store);
int store_batch_commit(struct store *store);
/* The outcome of the oldest batch left pending, as above. */
int store_batch_poll(struct store *store);
/* Several brokers on one store (PostgreSQL). Changes committed through another broker
 * reach this store's reads when store_sync applies them; it never blocks (what is not
 * ready yet waits for a later call). Before a change to one of a thing's executions is
 * applied, hooks->touch is called with the thing, its namespace and the execution's
 * status before and after (-1: no execution: inserted or deleted), while the store still
 * reads the old state, so the caller can compare the thing's next execution before and
 * after and notify its devices (notify.h). STORE_OK: changes were applied (the caller
 * reads wake times again); STORE_NOT_FOUND: nothing new; STORE_ERROR: see store_errmsg
 * (nothing was applied; the next call tries again). A store that no other broker
 * shares (SQLite) answers STORE_NOT_FOUND. Called outside batches only. */
struct store_sync_hooks {
	int (*touch)(void *ctx, const char *thing, const char *namespace_id, int from_status, int to_status);
	void *ctx;
};
int store_sync(struct store *store, const struct store_sync_hooks *hooks);
/* The socket the store awaits answers on (-1: none now, always for SQLite) and a count
 * bumped each time the broker's thread has read it: for a thread that wakes the broker's
 * loop when an answer arrives. Safe to call from any thread. */
void store_watch(struct store *store, int *fd, unsigned *reads);
/* Whether this broker runs the due work of the tick (timers, retries, rollouts, aborts
 * and schedules). Always with a store of its own; with several brokers on one store,
 * the one that holds the store's lease on that work, so each change happens once
 * (others would only lose the race: writes are checked against the rows they read). */
bool store_runs_scheduler(struct store *store);

/* Whether a transaction (a batch or a request's own) is open. A failed statement can
 * end the whole batch: after a failure inside a batch, check it is still there. */
bool store_in_transaction(struct store *store);

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
/* Writes what UpdateJob and AssociateTargetsWithJob change: description, targets,
 * comment, abort_config, policies, the timeout, retry and rollout settings (rate, maximum,
 * factor, steps) and last_updated_at. */
int store_job_set_config(struct store *store, const struct store_job *job);
/* counts[s] = number of executions of the job (latest per thing) in status s. Cheap:
 * a store keeps these counts as executions change rather than counting a fleet. */
int store_job_counts(struct store *store, int64_t job_seq, int64_t counts[EXEC_STATUS_COUNT]);
/* Deletes the job, its executions, its targets and its rollout queue. */
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
/* A thing's new latest execution of the job (its number is the previous one's + 1). */
int store_exec_insert(struct store *store, const struct store_exec *exec);
/* Writes status, details, times, version, step timeout, deadlines and force flag.
 * STORE_NOT_FOUND when there is no such execution. */
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

/* The latest executions of a job whose status is in status_mask (bit 1<<status), by
 * thing. *out is malloc'd (free with store_exec_array_free). */
int store_job_executions(struct store *store, int64_t job_seq, unsigned status_mask,
		struct store_exec **out, size_t *count);

/* Pages of executions (every execution number), status -1 for any; *out is malloc'd
 * (store_exec_array_free). By job: ordered by thing. By thing: by job creation;
 * namespace_id NULL for any. */
int store_job_exec_page(struct store *store, int64_t job_seq, int status, int64_t offset,
		int limit, struct store_exec **out, size_t *count);
int store_thing_exec_page(struct store *store, const char *thing, int status,
		const char *namespace_id, int64_t offset, int limit, struct store_exec **out, size_t *count);

/* Thing groups. Deleting a group deletes its memberships; STORE_NOT_FOUND when there
 * was no such group. */
int store_group_get(struct store *store, const char *name, struct store_group *out);
int store_group_insert(struct store *store, const struct store_group *group);
int store_group_delete(struct store *store, const char *name);
/* A page of groups by name, those starting with prefix (NULL: all); *out is malloc'd
 * (store_group_array_free). */
int store_group_list(struct store *store, const char *prefix, int64_t offset, int limit,
		struct store_group **out, size_t *count);
/* STORE_EXISTS when the thing already is a member; STORE_NOT_FOUND on removing a
 * thing that is not. */
int store_member_add(struct store *store, const char *group, const char *thing, int64_t now);
int store_member_remove(struct store *store, const char *group, const char *thing);
/* A page of a group's things, by name; *out is malloc'd (free()). */
int store_member_list(struct store *store, const char *group, int64_t offset, int limit,
		struct store_name **out, size_t *count);

/* Registered things. STORE_EXISTS when the name is taken; STORE_NOT_FOUND when there is
 * no such thing. store_thing_update writes the type, the attributes and the version.
 * Deleting a thing deletes its row only (group memberships are the caller's). */
int store_thing_get(struct store *store, const char *name, struct store_thing *out);
int store_thing_insert(struct store *store, const struct store_thing *thing);
int store_thing_update(struct store *store, const struct store_thing *thing);
int store_thing_delete(struct store *store, const char *name);
/* A page of things by name; *out is malloc'd (store_thing_array_free). */
int store_thing_list(struct store *store, const struct store_thing_filter *filter, int64_t offset,
		int limit, struct store_thing **out, size_t *count);
/* A page of the groups a thing (registered or not) belongs to, by name; *out is
 * malloc'd (free()). */
int store_thing_groups(struct store *store, const char *thing, int64_t offset, int limit,
		struct store_name **out, size_t *count);

/* Job targets: what a job was created for. Adding a target twice keeps one. */
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
 * (by name) as it goes: queuing a group of any size costs one entry. */
int store_rollout_push_group(struct store *store, int64_t job_seq, const char *group);
/* Takes up to `limit` things off the front of the job's queue (a group entry gives its
 * members in name order, as they are when taken); *out is malloc'd (free()). */
int store_rollout_pop(struct store *store, int64_t job_seq, int limit, struct store_name **out, size_t *count);
int store_rollout_clear(struct store *store, int64_t job_seq);
/* The number of entries in the job's queue (a group entry counts once). */
int store_rollout_count(struct store *store, int64_t job_seq, int64_t *out);

/* Job templates. Insert: STORE_EXISTS when the id is taken. Delete: STORE_NOT_FOUND
 * when there was no such template. List: a page in creation order (then by id); *out is
 * malloc'd (store_template_array_free). */
int store_template_get(struct store *store, const char *id, struct store_template *out);
int store_template_insert(struct store *store, const struct store_template *t);
int store_template_delete(struct store *store, const char *id);
int store_template_list(struct store *store, int64_t offset, int limit, struct store_template **out, size_t *count);
/* Event configurations (AWS's UpdateEventConfigurations): one row per event type ever
 * set, named as AWS names it ("JOB", "JOB_EXECUTION", "THING", ...). */
#define STORE_EVENT_TYPE_MAX 32
struct store_event_config {
	char type[STORE_EVENT_TYPE_MAX];
	bool enabled;
	int64_t created_at;   /* epoch seconds: when the type was first set */
	int64_t updated_at;   /* when it was last set */
};
/* Every row, by type; *out is malloc'd (free()). */
int store_event_configs(struct store *store, struct store_event_config **out, size_t *count);
/* Sets a type: a new row (created_at and updated_at now), or the row's enabled and
 * updated_at. */
int store_event_config_set(struct store *store, const char *type, bool enabled, int64_t now);

#endif
