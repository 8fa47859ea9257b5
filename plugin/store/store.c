/* The store port (store.h): picks the implementation at open, then hands every call
 * to the table of operations of the store it opened (store_impl.h), after checking
 * the caller's side of the contract. */
#include "store/store_impl.h"

#include <assert.h>
#include <string.h>

#include "store/pg_store.h"
#include "store/sqlite_store.h"

int store_open(const struct jobs_config *cfg, struct store **out, char *err, size_t errlen)
{
	assert(cfg && out && err && errlen > 0);
	*out = NULL;
	/* The one place a store is picked from the configuration: plugin_opt_store. */
	int rc = cfg->store_uri ? pg_store_open(cfg, out, err, errlen) : sqlite_store_open(cfg, out, err, errlen);
	assert((rc == STORE_OK) == (*out != NULL));
	assert(rc != STORE_OK || (*out)->ops);
	return rc;
}

void store_close(struct store *store)
{
	if(store) store->ops->close(store);
}

void store_set_log(struct store *store, jobs_log_fn log, void *ctx)
{
	assert(store);
	store->log = log;
	store->log_ctx = ctx;
}

const char *store_errmsg(const struct store *store)
{
	assert(store);
	return store->ops->errmsg(store);
}

void store_info(struct store *store, struct store_info *out)
{
	assert(store && out);
	store->ops->info(store, out);
	assert(out->kind && out->location);
}

int store_counts(struct store *store, bool with_things, struct store_counts *out)
{
	assert(store && out);
	return store->ops->counts(store, with_things, out);
}

/* ---- transactions ---- */

int store_begin(struct store *store)
{
	assert(store);
	return store->ops->begin(store);
}

int store_commit(struct store *store)
{
	assert(store);
	return store->ops->commit(store);
}

void store_rollback(struct store *store)
{
	assert(store);
	store->ops->rollback(store);
}

int store_batch_begin(struct store *store)
{
	assert(store);
	return store->ops->batch_begin(store);
}

int store_batch_commit(struct store *store)
{
	assert(store);
	int rc = store->ops->batch_commit(store);
	assert(rc == STORE_OK || rc == STORE_ERROR || rc == STORE_PENDING);
	return rc;
}

int store_batch_poll(struct store *store)
{
	assert(store && !store->ops->in_transaction(store));
	int rc = store->ops->batch_poll(store);
	assert(rc == STORE_OK || rc == STORE_ERROR || rc == STORE_PENDING || rc == STORE_NOT_FOUND);
	return rc;
}

bool store_in_transaction(struct store *store)
{
	assert(store);
	return store->ops->in_transaction(store);
}

int store_sync(struct store *store, const struct store_sync_hooks *hooks)
{
	assert(store && hooks && hooks->touch);
	assert(!store->ops->in_transaction(store));
	int rc = store->ops->sync(store, hooks);
	assert(rc == STORE_OK || rc == STORE_NOT_FOUND || rc == STORE_ERROR);
	return rc;
}

void store_watch(struct store *store, int *fd, unsigned *reads)
{
	assert(store && fd && reads);
	store->ops->watch(store, fd, reads);
}

bool store_runs_scheduler(struct store *store)
{
	assert(store);
	return store->ops->runs_scheduler(store);
}

/* ---- the rest: one dispatch each ---- */

int store_job_get(struct store *store, const char *job_id, struct store_job *out)
{
	assert(store && job_id && out);
	return store->ops->job_get(store, job_id, out);
}

int store_job_get_state(struct store *store, const char *job_id, struct store_job *out)
{
	assert(store && job_id && out);
	return store->ops->job_get_state(store, job_id, out);
}

int store_job_insert(struct store *store, struct store_job *job)
{
	assert(store && job && job->document && job->targets);
	return store->ops->job_insert(store, job);
}

int store_job_update(struct store *store, const struct store_job *job)
{
	assert(store && job);
	return store->ops->job_update(store, job);
}

int store_job_set_config(struct store *store, const struct store_job *job)
{
	assert(store && job && job->targets);
	return store->ops->job_set_config(store, job);
}

int store_job_counts(struct store *store, int64_t job_seq, int64_t counts[EXEC_STATUS_COUNT])
{
	assert(store && counts);
	return store->ops->job_counts(store, job_seq, counts);
}

int store_job_delete(struct store *store, int64_t job_seq)
{
	assert(store);
	return store->ops->job_delete(store, job_seq);
}

int store_job_list(struct store *store, const struct store_job_filter *filter, int64_t offset,
		int limit, struct store_job **out, size_t *count)
{
	assert(store && filter && out && count);
	return store->ops->job_list(store, filter, offset, limit, out, count);
}

int store_job_has_pending(struct store *store, int64_t job_seq, bool *out)
{
	assert(store && out);
	return store->ops->job_has_pending(store, job_seq, out);
}

int store_exec_get(struct store *store, const char *thing, int64_t job_seq,
		int64_t execution_number, bool with_document, struct store_exec *out)
{
	assert(store && thing && out);
	return store->ops->exec_get(store, thing, job_seq, execution_number, with_document, out);
}

int store_exec_find(struct store *store, const char *thing, const char *job_id,
		const char *namespace_id, int64_t execution_number, bool with_document,
		struct store_exec *out)
{
	assert(store && thing && job_id && namespace_id && out);
	return store->ops->exec_find(store, thing, job_id, namespace_id, execution_number, with_document, out);
}

int store_exec_insert(struct store *store, const struct store_exec *exec)
{
	assert(store && exec);
	return store->ops->exec_insert(store, exec);
}

int store_exec_update(struct store *store, const struct store_exec *exec)
{
	assert(store && exec);
	return store->ops->exec_update(store, exec);
}

int store_exec_delete(struct store *store, const char *thing, int64_t job_seq, int64_t execution_number)
{
	assert(store && thing);
	return store->ops->exec_delete(store, thing, job_seq, execution_number);
}

int store_pending(struct store *store, const char *thing, const char *namespace_id,
		int limit, bool with_document, struct store_exec **out, size_t *count)
{
	assert(store && thing && namespace_id && out && count);
	return store->ops->pending(store, thing, namespace_id, limit, with_document, out, count);
}

int store_pending_summaries(struct store *store, const char *thing, const char *namespace_id,
		int limit, struct store_exec **out, size_t *count)
{
	assert(store && thing && namespace_id && out && count);
	return store->ops->pending_summaries(store, thing, namespace_id, limit, out, count);
}

int store_job_executions(struct store *store, int64_t job_seq, unsigned status_mask,
		struct store_exec **out, size_t *count)
{
	assert(store && out && count);
	return store->ops->job_executions(store, job_seq, status_mask, out, count);
}

int store_job_exec_page(struct store *store, int64_t job_seq, int status, int64_t offset,
		int limit, struct store_exec **out, size_t *count)
{
	assert(store && out && count);
	return store->ops->job_exec_page(store, job_seq, status, offset, limit, out, count);
}

int store_thing_exec_page(struct store *store, const char *thing, int status,
		const char *namespace_id, int64_t offset, int limit, struct store_exec **out, size_t *count)
{
	assert(store && thing && out && count);
	return store->ops->thing_exec_page(store, thing, status, namespace_id, offset, limit, out, count);
}

int store_group_get(struct store *store, const char *name, struct store_group *out)
{
	assert(store && name && out);
	return store->ops->group_get(store, name, out);
}

int store_group_insert(struct store *store, const struct store_group *group)
{
	assert(store && group);
	return store->ops->group_insert(store, group);
}

int store_group_delete(struct store *store, const char *name)
{
	assert(store && name);
	return store->ops->group_delete(store, name);
}

int store_group_list(struct store *store, const char *prefix, int64_t offset, int limit,
		struct store_group **out, size_t *count)
{
	assert(store && out && count);
	return store->ops->group_list(store, prefix, offset, limit, out, count);
}

int store_member_add(struct store *store, const char *group, const char *thing, int64_t now)
{
	assert(store && group && thing);
	return store->ops->member_add(store, group, thing, now);
}

int store_member_remove(struct store *store, const char *group, const char *thing)
{
	assert(store && group && thing);
	return store->ops->member_remove(store, group, thing);
}

int store_member_list(struct store *store, const char *group, int64_t offset, int limit,
		struct store_name **out, size_t *count)
{
	assert(store && group && out && count);
	return store->ops->member_list(store, group, offset, limit, out, count);
}

int store_target_add(struct store *store, int64_t job_seq, enum target_kind kind, const char *name)
{
	assert(store && name);
	return store->ops->target_add(store, job_seq, kind, name);
}

int store_continuous_jobs_for_group(struct store *store, const char *group,
		struct store_job **out, size_t *count)
{
	assert(store && group && out && count);
	return store->ops->continuous_jobs_for_group(store, group, out, count);
}

int store_job_targets_thing(struct store *store, int64_t job_seq, const char *thing, bool *out)
{
	assert(store && thing && out);
	return store->ops->job_targets_thing(store, job_seq, thing, out);
}

int store_due_executions(struct store *store, int64_t now_ms, int limit, struct store_exec **out, size_t *count)
{
	assert(store && out && count);
	return store->ops->due_executions(store, now_ms, limit, out, count);
}

int store_next_deadline(struct store *store, int64_t *out_ms)
{
	assert(store && out_ms);
	return store->ops->next_deadline(store, out_ms);
}

int store_due_jobs(struct store *store, int64_t now_ms, int limit, struct store_job **out, size_t *count)
{
	assert(store && out && count);
	return store->ops->due_jobs(store, now_ms, limit, out, count);
}

int store_next_job_wake(struct store *store, int64_t *out_ms)
{
	assert(store && out_ms);
	return store->ops->next_job_wake(store, out_ms);
}

int store_rollout_push(struct store *store, int64_t job_seq, const char *thing)
{
	assert(store && thing);
	return store->ops->rollout_push(store, job_seq, thing);
}

int store_rollout_push_group(struct store *store, int64_t job_seq, const char *group)
{
	assert(store && group);
	return store->ops->rollout_push_group(store, job_seq, group);
}

int store_rollout_pop(struct store *store, int64_t job_seq, int limit, struct store_name **out, size_t *count)
{
	assert(store && out && count);
	return store->ops->rollout_pop(store, job_seq, limit, out, count);
}

int store_rollout_clear(struct store *store, int64_t job_seq)
{
	assert(store);
	return store->ops->rollout_clear(store, job_seq);
}

int store_rollout_count(struct store *store, int64_t job_seq, int64_t *out)
{
	assert(store && out);
	return store->ops->rollout_count(store, job_seq, out);
}

int store_thing_get(struct store *store, const char *name, struct store_thing *out)
{
	assert(store && name && out);
	return store->ops->thing_get(store, name, out);
}

int store_thing_insert(struct store *store, const struct store_thing *thing)
{
	assert(store && thing && thing->attributes);
	return store->ops->thing_insert(store, thing);
}

int store_thing_update(struct store *store, const struct store_thing *thing)
{
	assert(store && thing && thing->attributes);
	return store->ops->thing_update(store, thing);
}

int store_thing_delete(struct store *store, const char *name)
{
	assert(store && name);
	return store->ops->thing_delete(store, name);
}

int store_thing_list(struct store *store, const struct store_thing_filter *filter, int64_t offset,
		int limit, struct store_thing **out, size_t *count)
{
	assert(store && filter && out && count);
	return store->ops->thing_list(store, filter, offset, limit, out, count);
}

int store_thing_groups(struct store *store, const char *thing, int64_t offset, int limit,
		struct store_name **out, size_t *count)
{
	assert(store && thing && out && count);
	return store->ops->thing_groups(store, thing, offset, limit, out, count);
}

int store_template_get(struct store *store, const char *id, struct store_template *out)
{
	assert(store && id && out);
	return store->ops->template_get(store, id, out);
}

int store_template_insert(struct store *store, const struct store_template *t)
{
	assert(store && t && t->fields);
	return store->ops->template_insert(store, t);
}

int store_template_delete(struct store *store, const char *id)
{
	assert(store && id);
	return store->ops->template_delete(store, id);
}

int store_template_list(struct store *store, int64_t offset, int limit, struct store_template **out, size_t *count)
{
	assert(store && out && count);
	return store->ops->template_list(store, offset, limit, out, count);
}

int store_event_configs(struct store *store, struct store_event_config **out, size_t *count)
{
	assert(store && out && count);
	return store->ops->event_config_list(store, out, count);
}

int store_event_config_set(struct store *store, const char *type, bool enabled, int64_t now)
{
	assert(store && type && strlen(type) < STORE_EVENT_TYPE_MAX);
	return store->ops->event_config_set(store, type, enabled, now);
}
