/* JSON shapes built from store rows: the device API's (the MQTT and the HTTP
 * adapters' renderers share them), written with a JSON writer (jsonw.h) since they go
 * out on every request, and small helpers for the cJSON trees of the management API. */
#ifndef MOSQUITTO_JOBS_SHAPES_H
#define MOSQUITTO_JOBS_SHAPES_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

#include "util/jsonw.h"
#include "store/store.h"

/* JobExecutionSummary: jobId, queuedAt, startedAt?, lastUpdatedAt, versionNumber,
 * executionNumber. Written as one value. */
void shapes_write_summary(struct jsonw *w, const struct store_exec *e);
/* JobExecution, as one value; jobDocument (an object) only when with_document and
 * e->document; approximateSecondsBeforeTimedOut when seconds_left is not NULL. */
void shapes_write_execution(struct jsonw *w, const struct store_exec *e, bool with_document,
		const int64_t *seconds_left);
/* GetPendingJobExecutions' members: inProgressJobs and queuedJobs, summaries of rows
 * (IN_PROGRESS ones first, then QUEUED). */
void shapes_write_pending(struct jsonw *w, const struct store_exec *rows, size_t n);
/* The same members without the enclosing object, for a renderer that adds its own. */
void shapes_write_execution_members(struct jsonw *w, const struct store_exec *e, bool with_document,
		const int64_t *seconds_left);
/* JobExecutionState: status, statusDetails?, versionNumber. Written as one value. */
void shapes_write_state(struct jsonw *w, const struct store_exec *e);

/* approximateSecondsBeforeTimedOut, in job time (wall time multiplied by
 * time_scale): false when no timer of the execution runs. */
bool shapes_seconds_left(const struct store_exec *e, int64_t now_ms, double time_scale, int64_t *out);

/* JobProcessDetails' member counting the executions in `status`
 * ("numberOfSucceededThings", ...). */
const char *shapes_process_detail_key(int status);

/* cJSON helpers. Each returns false when out of memory. */
/* Adds the control plane's `statusDetails: {"detailsMap": {...}}`, or
 * `statusDetails: {}` when the execution has no details (AWS's shape of a QUEUED
 * execution). */
bool shapes_add_control_details(cJSON *obj, const struct store_exec *e);
/* Adds approximateSecondsBeforeTimedOut when a timer of the execution runs. */
bool shapes_add_time_left(cJSON *obj, const struct store_exec *e, int64_t now_ms, double time_scale);
/* Adds `key: <stored JSON text>` (a document, a details map) to obj when text is
 * non-NULL; the text goes in verbatim. */
bool shapes_add_stored(cJSON *obj, const char *key, const char *text);
/* Adds an integer-valued number. */
bool shapes_add_int(cJSON *obj, const char *key, int64_t value);
/* Serialises root without whitespace and deletes it. Returns a malloc'd string
 * (length in *len) or NULL. */
char *shapes_print(cJSON *root, size_t *len);

#endif
