/* Builders for JobExecution, JobExecutionSummary and JobExecutionState. */
#include "mosquitto_jobs/shapes.h"

#include <stdlib.h>
#include <string.h>

/* Adds `text`, JSON already, as it is. */
static bool add_raw(cJSON *obj, const char *key, const char *text)
{
	cJSON *value = cJSON_CreateRaw(text);
	if(!value) return false;
	if(!cJSON_AddItemToObject(obj, key, value)){
		cJSON_Delete(value);
		return false;
	}
	return true;
}

bool shapes_add_int(cJSON *obj, const char *key, int64_t value)
{
	/* Added as raw text: cJSON would keep a double and print it through "%1.15g" and
	 * sscanf, which is slow and inexact past 2^53. */
	char text[24];
	char *p = text + sizeof(text);
	uint64_t v = value < 0 ? 0 - (uint64_t)value : (uint64_t)value;
	*--p = '\0';
	do *--p = (char)('0' + v % 10); while(v /= 10);
	if(value < 0) *--p = '-';
	return add_raw(obj, key, p);
}

bool shapes_add_stored(cJSON *obj, const char *key, const char *text)
{
	if(!text) return true;
	/* Stored JSON was validated and serialised by us: spliced in as it is, which also
	 * spares a parse and a print per reply. */
	return add_raw(obj, key, text);
}

/* statusDetails is omitted when empty. */
static bool add_details(cJSON *obj, const struct store_exec *e)
{
	if(!e->status_details || strcmp(e->status_details, "{}") == 0) return true;
	return shapes_add_stored(obj, "statusDetails", e->status_details);
}

static bool add_times(cJSON *obj, const struct store_exec *e)
{
	bool ok = shapes_add_int(obj, "queuedAt", e->queued_at);
	if(ok && e->started_at) ok = shapes_add_int(obj, "startedAt", e->started_at);
	return ok && shapes_add_int(obj, "lastUpdatedAt", e->last_updated_at);
}

cJSON *shapes_summary(const struct store_exec *e)
{
	cJSON *o = cJSON_CreateObject();
	bool ok = o && cJSON_AddStringToObject(o, "jobId", e->job_id)
		&& add_times(o, e)
		&& shapes_add_int(o, "versionNumber", e->version)
		&& shapes_add_int(o, "executionNumber", e->execution_number);
	if(!ok){
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

cJSON *shapes_execution(const struct store_exec *e, bool with_document)
{
	cJSON *o = cJSON_CreateObject();
	bool ok = o && cJSON_AddStringToObject(o, "jobId", e->job_id)
		&& cJSON_AddStringToObject(o, "status", status_name(e->status))
		&& add_details(o, e)
		&& add_times(o, e)
		&& shapes_add_int(o, "versionNumber", e->version)
		&& shapes_add_int(o, "executionNumber", e->execution_number);
	if(ok && with_document) ok = shapes_add_stored(o, "jobDocument", e->document);
	if(!ok){
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

bool shapes_add_time_left(cJSON *obj, const struct store_exec *e, int64_t now_ms, double time_scale)
{
	int64_t deadline = e->step_deadline_ms;
	if(!deadline || (e->progress_deadline_ms && e->progress_deadline_ms < deadline)) deadline = e->progress_deadline_ms;
	if(!obj || !deadline) return true;
	int64_t left_ms = deadline > now_ms ? deadline - now_ms : 0;
	return shapes_add_int(obj, "approximateSecondsBeforeTimedOut",
			(int64_t)((double)left_ms * time_scale / 1000.0 + 0.5));
}

cJSON *shapes_execution_state(const struct store_exec *e)
{
	cJSON *o = cJSON_CreateObject();
	bool ok = o && cJSON_AddStringToObject(o, "status", status_name(e->status))
		&& add_details(o, e)
		&& shapes_add_int(o, "versionNumber", e->version);
	if(!ok){
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

char *shapes_print(cJSON *root, size_t *len)
{
	if(!root) return NULL;
	char *text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if(text && len) *len = strlen(text);
	return text;
}
