/* JSON shapes of executions: JobExecutionSummary, JobExecution, JobExecutionState; and
 * the names of JobProcessDetails' counts. */
#include "core/shapes.h"

#include <stdlib.h>
#include <string.h>

#include "core/status.h"

/* An execution has details when its stored map is there and not empty (a device's
 * `statusDetails: {}` stores "{}"). */
static bool has_details(const struct store_exec *e)
{
	return e->status_details && strcmp(e->status_details, "{}") != 0;
}

/* statusDetails is omitted when empty. */
static void write_details(struct jsonw *w, const struct store_exec *e)
{
	if(has_details(e)) jsonw_key_raw(w, "statusDetails", e->status_details);
}

static void write_times(struct jsonw *w, const struct store_exec *e)
{
	jsonw_key_int(w, "queuedAt", e->queued_at);
	if(e->started_at) jsonw_key_int(w, "startedAt", e->started_at);
	jsonw_key_int(w, "lastUpdatedAt", e->last_updated_at);
}

void shapes_write_summary(struct jsonw *w, const struct store_exec *e)
{
	jsonw_object_begin(w);
	jsonw_key_string(w, "jobId", e->job_id);
	write_times(w, e);
	jsonw_key_int(w, "versionNumber", e->version);
	jsonw_key_int(w, "executionNumber", e->execution_number);
	jsonw_object_end(w);
}

void shapes_write_execution(struct jsonw *w, const struct store_exec *e, bool with_document,
		const int64_t *seconds_left)
{
	jsonw_object_begin(w);
	shapes_write_execution_members(w, e, with_document, seconds_left);
	jsonw_object_end(w);
}

void shapes_write_execution_members(struct jsonw *w, const struct store_exec *e, bool with_document,
		const int64_t *seconds_left)
{
	jsonw_key_string(w, "jobId", e->job_id);
	jsonw_key_string(w, "status", status_name(e->status));
	write_details(w, e);
	write_times(w, e);
	jsonw_key_int(w, "versionNumber", e->version);
	jsonw_key_int(w, "executionNumber", e->execution_number);
	/* Stored JSON was validated and serialised by us: spliced in as it is. */
	if(with_document && e->document) jsonw_key_raw(w, "jobDocument", e->document);
	if(seconds_left) jsonw_key_int(w, "approximateSecondsBeforeTimedOut", *seconds_left);
}

void shapes_write_pending(struct jsonw *w, const struct store_exec *rows, size_t n)
{
	/* rows come IN_PROGRESS first, then QUEUED */
	size_t i = 0;
	jsonw_key(w, "inProgressJobs");
	jsonw_array_begin(w);
	for(; i < n && rows[i].status == EXEC_IN_PROGRESS; i++) shapes_write_summary(w, &rows[i]);
	jsonw_array_end(w);
	jsonw_key(w, "queuedJobs");
	jsonw_array_begin(w);
	for(; i < n; i++) shapes_write_summary(w, &rows[i]);
	jsonw_array_end(w);
}

void shapes_write_state(struct jsonw *w, const struct store_exec *e)
{
	jsonw_object_begin(w);
	jsonw_key_string(w, "status", status_name(e->status));
	write_details(w, e);
	jsonw_key_int(w, "versionNumber", e->version);
	jsonw_object_end(w);
}

bool shapes_seconds_left(const struct store_exec *e, int64_t now_ms, double time_scale, int64_t *out)
{
	int64_t deadline = store_exec_deadline(e);
	if(!deadline) return false;
	int64_t left_ms = deadline > now_ms ? deadline - now_ms : 0;
	*out = (int64_t)((double)left_ms * time_scale / 1000.0 + 0.5);
	return true;
}

/* ---- cJSON helpers ---- */

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
	char text[JSONW_INT_TEXT];
	return add_raw(obj, key, jsonw_int_text(value, text));
}

bool shapes_add_stored(cJSON *obj, const char *key, const char *text)
{
	if(!text) return true;
	return add_raw(obj, key, text);
}

bool shapes_add_control_details(cJSON *obj, const struct store_exec *e)
{
	cJSON *details = cJSON_AddObjectToObject(obj, "statusDetails");
	if(!details) return false;
	return !has_details(e) || shapes_add_stored(details, "detailsMap", e->status_details);
}

bool shapes_add_time_left(cJSON *obj, const struct store_exec *e, int64_t now_ms, double time_scale)
{
	int64_t seconds;
	if(!obj || !shapes_seconds_left(e, now_ms, time_scale, &seconds)) return true;
	return shapes_add_int(obj, "approximateSecondsBeforeTimedOut", seconds);
}

char *shapes_print(cJSON *root, size_t *len)
{
	if(!root) return NULL;
	char *text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if(text && len) *len = strlen(text);
	return text;
}

static const char *const process_detail_keys[EXEC_STATUS_COUNT] = {
	[EXEC_IN_PROGRESS] = "numberOfInProgressThings",
	[EXEC_QUEUED] = "numberOfQueuedThings",
	[EXEC_SUCCEEDED] = "numberOfSucceededThings",
	[EXEC_FAILED] = "numberOfFailedThings",
	[EXEC_REJECTED] = "numberOfRejectedThings",
	[EXEC_TIMED_OUT] = "numberOfTimedOutThings",
	[EXEC_REMOVED] = "numberOfRemovedThings",
	[EXEC_CANCELED] = "numberOfCanceledThings",
};

const char *shapes_process_detail_key(int status)
{
	return status >= 0 && status < EXEC_STATUS_COUNT ? process_detail_keys[status] : "numberOfUnknownThings";
}
