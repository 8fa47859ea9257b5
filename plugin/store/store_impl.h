/* What an implementation of the store port (store.h) provides: a table of operations,
 * one function pointer per operation of store.h, each with that function's contract,
 * and a handle that starts with `struct store`. store.c dispatches every call of the
 * port through the table, after checking the caller's side of the contract (asserts).
 *
 * To add a store (PostgreSQL, say): write its files under plugin/store/ (pg_store.c and
 * so on), fill a `static const struct store_ops` there, give it an open function taking
 * the configuration, add that function to store_open in store.c, and the files to
 * CMakeLists.txt. Nothing in the core changes. Only the files of the store port and its
 * implementations include this header. */
#ifndef MOSQUITTO_JOBS_STORE_IMPL_H
#define MOSQUITTO_JOBS_STORE_IMPL_H

#include "store/store.h"

struct store_ops {
	void (*close)(struct store *store);
	const char *(*errmsg)(const struct store *store);
	void (*info)(struct store *store, struct store_info *out);
	int (*counts)(struct store *store, bool with_things, struct store_counts *out);

	int (*begin)(struct store *store);
	int (*commit)(struct store *store);
	void (*rollback)(struct store *store);
	int (*batch_begin)(struct store *store);
	int (*batch_commit)(struct store *store);
	int (*batch_poll)(struct store *store);
	bool (*in_transaction)(struct store *store);
	int (*sync)(struct store *store, const struct store_sync_hooks *hooks);
	bool (*runs_scheduler)(struct store *store);
	void (*watch)(struct store *store, int *fd, unsigned *reads); /* from any thread */

	int (*job_get)(struct store *store, const char *job_id, struct store_job *out);
	int (*job_get_state)(struct store *store, const char *job_id, struct store_job *out);
	int (*job_insert)(struct store *store, struct store_job *job);
	int (*job_update)(struct store *store, const struct store_job *job);
	int (*job_set_config)(struct store *store, const struct store_job *job);
	int (*job_counts)(struct store *store, int64_t job_seq, int64_t counts[EXEC_STATUS_COUNT]);
	int (*job_delete)(struct store *store, int64_t job_seq);
	int (*job_list)(struct store *store, const struct store_job_filter *filter, int64_t offset,
			int limit, struct store_job **out, size_t *count);
	int (*job_has_pending)(struct store *store, int64_t job_seq, bool *out);

	int (*exec_get)(struct store *store, const char *thing, int64_t job_seq,
			int64_t execution_number, bool with_document, struct store_exec *out);
	int (*exec_find)(struct store *store, const char *thing, const char *job_id,
			const char *namespace_id, int64_t execution_number, bool with_document,
			struct store_exec *out);
	int (*exec_insert)(struct store *store, const struct store_exec *exec);
	int (*exec_update)(struct store *store, const struct store_exec *exec);
	int (*exec_delete)(struct store *store, const char *thing, int64_t job_seq, int64_t execution_number);
	int (*pending)(struct store *store, const char *thing, const char *namespace_id,
			int limit, bool with_document, struct store_exec **out, size_t *count);
	int (*pending_summaries)(struct store *store, const char *thing, const char *namespace_id,
			int limit, struct store_exec **out, size_t *count);
	int (*job_executions)(struct store *store, int64_t job_seq, unsigned status_mask,
			struct store_exec **out, size_t *count);
	int (*job_exec_page)(struct store *store, int64_t job_seq, int status, int64_t offset,
			int limit, struct store_exec **out, size_t *count);
	int (*thing_exec_page)(struct store *store, const char *thing, int status,
			const char *namespace_id, int64_t offset, int limit, struct store_exec **out, size_t *count);

	int (*group_get)(struct store *store, const char *name, struct store_group *out);
	int (*group_insert)(struct store *store, const struct store_group *group);
	int (*group_delete)(struct store *store, const char *name);
	int (*group_list)(struct store *store, const char *prefix, int64_t offset, int limit,
			struct store_group **out, size_t *count);
	int (*member_add)(struct store *store, const char *group, const char *thing, int64_t now);
	int (*member_remove)(struct store *store, const char *group, const char *thing);
	int (*member_list)(struct store *store, const char *group, int64_t offset, int limit,
			struct store_name **out, size_t *count);

	int (*target_add)(struct store *store, int64_t job_seq, enum target_kind kind, const char *name);
	int (*continuous_jobs_for_group)(struct store *store, const char *group,
			struct store_job **out, size_t *count);
	int (*job_targets_thing)(struct store *store, int64_t job_seq, const char *thing, bool *out);

	int (*due_executions)(struct store *store, int64_t now_ms, int limit,
			struct store_exec **out, size_t *count);
	int (*next_deadline)(struct store *store, int64_t *out_ms);
	int (*due_jobs)(struct store *store, int64_t now_ms, int limit,
			struct store_job **out, size_t *count);
	int (*next_job_wake)(struct store *store, int64_t *out_ms);

	int (*rollout_push)(struct store *store, int64_t job_seq, const char *thing);
	int (*rollout_push_group)(struct store *store, int64_t job_seq, const char *group);
	int (*rollout_pop)(struct store *store, int64_t job_seq, int limit,
			struct store_name **out, size_t *count);
	int (*rollout_clear)(struct store *store, int64_t job_seq);
	int (*rollout_count)(struct store *store, int64_t job_seq, int64_t *out);

	int (*template_get)(struct store *store, const char *id, struct store_template *out);
	int (*template_insert)(struct store *store, const struct store_template *t);
	int (*template_delete)(struct store *store, const char *id);
	int (*template_list)(struct store *store, int64_t offset, int limit,
			struct store_template **out, size_t *count);
	int (*thing_get)(struct store *store, const char *name, struct store_thing *out);
	int (*thing_insert)(struct store *store, const struct store_thing *thing);
	int (*thing_update)(struct store *store, const struct store_thing *thing);
	int (*thing_delete)(struct store *store, const char *name);
	int (*thing_list)(struct store *store, const struct store_thing_filter *filter, int64_t offset,
			int limit, struct store_thing **out, size_t *count);
	int (*thing_groups)(struct store *store, const char *thing, int64_t offset, int limit,
			struct store_name **out, size_t *count);

	int (*event_config_list)(struct store *store, struct store_event_config **out, size_t *count);
	int (*event_config_set)(struct store *store, const char *type, bool enabled, int64_t now);
};

/* The head of every implementation's handle: `struct sqlite_store { struct store base; ... }`. */
struct store {
	const struct store_ops *ops;
	jobs_log_fn log;   /* store_set_log; NULL: nowhere */
	void *log_ctx;
};

#endif
