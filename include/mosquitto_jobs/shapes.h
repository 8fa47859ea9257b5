/* JSON shapes of the device API (spec section 3), built from store rows.
 * Every function returns a new cJSON tree the caller owns (cJSON_Delete), or NULL
 * when out of memory. */
#ifndef MOSQUITTO_JOBS_SHAPES_H
#define MOSQUITTO_JOBS_SHAPES_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

#include "mosquitto_jobs/store.h"

/* JobExecutionSummary: jobId, queuedAt, startedAt?, lastUpdatedAt, versionNumber,
 * executionNumber. */
cJSON *shapes_summary(const struct store_exec *e);
/* JobExecution; jobDocument (an object) only when with_document and e->document. */
cJSON *shapes_execution(const struct store_exec *e, bool with_document);
/* Adds approximateSecondsBeforeTimedOut (in job time: wall time multiplied by
 * time_scale) when a timer of the execution runs. Returns false on failure. */
bool shapes_add_time_left(cJSON *obj, const struct store_exec *e, int64_t now_ms, double time_scale);
/* JobExecutionState: status, statusDetails?, versionNumber. */
cJSON *shapes_execution_state(const struct store_exec *e);
/* Adds `key: <stored JSON text>` (a document, a details map) to obj when text is
 * non-NULL; the text goes in verbatim. Returns false on failure. */
bool shapes_add_stored(cJSON *obj, const char *key, const char *text);
/* Adds an integer-valued number. Returns false on failure. */
bool shapes_add_int(cJSON *obj, const char *key, int64_t value);
/* Serialises root without whitespace and deletes it. Returns a malloc'd string
 * (length in *len) or NULL. */
char *shapes_print(cJSON *root, size_t *len);

#endif
