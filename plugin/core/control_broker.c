/* Management command on the broker itself: describeBroker (this project's own; AWS has
 * none). The plugin's version, its store, what the store holds counted, and how long
 * the service has run. */
#include "core/control_internal.h"
#include "core/status.h"

static bool add_counts(cJSON *data, const char *key, const int64_t *counts, int size, const char *(*name)(int))
{
	cJSON *obj = cJSON_AddObjectToObject(data, key);
	for(int i = 0; obj && i < size; i++){
		if(!cJSON_AddNumberToObject(obj, name(i), (double)counts[i])) return false;
	}
	return obj != NULL;
}

int control_describe_broker(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	(void)cmd;
	struct store_info info;
	struct store_counts counts;
	store_info(c->svc->store, &info);
	if(store_counts(c->svc->store, true, &counts) != STORE_OK) return control_fail_store(c);
	/* c->now_ms is job time (test controls may move it); uptime is wall time */
	int64_t wall_ms = c->now_ms - testing_offset_ms(c->svc);
	int64_t uptime = wall_ms > c->svc->started_ms ? (wall_ms - c->svc->started_ms) / 1000 : 0;
	cJSON *store = NULL;
	bool ok = cJSON_AddStringToObject(data, "version", JOBS_VERSION)
		&& (store = cJSON_AddObjectToObject(data, "store"))
		&& cJSON_AddStringToObject(store, "kind", info.kind)
		&& cJSON_AddStringToObject(store, "location", info.location)
		&& cJSON_AddNumberToObject(store, "schemaVersion", info.schema_version)
		&& add_counts(data, "jobs", counts.jobs, JOB_STATUS_COUNT, store_job_status_name)
		&& add_counts(data, "executions", counts.executions, EXEC_STATUS_COUNT, status_name)
		&& cJSON_AddNumberToObject(data, "things", (double)counts.things)
		&& cJSON_AddNumberToObject(data, "thingGroups", (double)counts.groups)
		&& cJSON_AddNumberToObject(data, "uptimeSeconds", (double)uptime);
	/* what was added goes with data (control_run deletes it) */
	if(!ok) return control_fail(c, "InternalFailureException", "out of memory");
	return 0;
}
