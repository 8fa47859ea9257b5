/* createJob's time and fleet policies (docs/policies.md): parsed and checked into a
 * struct job_policy, with AWS's ranges. Pure: no store, no clock beyond `now_ms`. */
#ifndef MOSQUITTO_JOBS_POLICY_H
#define MOSQUITTO_JOBS_POLICY_H

#include <stdint.h>
#include <cjson/cJSON.h>

#include "util/jsonfield.h"
#include "store/store.h"

/* The createJob fields read here. */
extern const char *const policy_fields[];

struct parsed_policy {
	struct job_policy policy;
	char *abort_config;   /* malloc'd JSON of abortConfig.criteriaList, or NULL */
	char *policies;       /* malloc'd JSON object of the policy fields as given, or NULL */
	char *maintenance_windows; /* malloc'd JSON of schedulingConfig.maintenanceWindows, or NULL */
};

/* Reads timeoutConfig, jobExecutionsRetryConfig, jobExecutionsRolloutConfig,
 * abortConfig, schedulingConfig and presignedUrlConfig from a createJob command (or
 * the fields of an updateJob). JF_OK with *out filled
 * (free with policy_free), or JF_BAD with err. */
int policy_parse(const cJSON *cmd, struct parsed_policy *out, struct jf_error *err);
void policy_free(struct parsed_policy *p);

/* maintenanceWindows, the field of `obj` (schedulingConfig's, or a job template's):
 * [{startTime: a cron expression (util/cron.h), durationInMinutes: 1-1430}]. JF_OK with
 * *windows a malloc'd JSON array of exactly those fields (NULL when absent or empty), or
 * JF_BAD with err. */
int policy_parse_windows(const cJSON *obj, char **windows, struct jf_error *err);

/* "YYYY-MM-DDTHH:MM" (UTC, optionally with ":SS" and a trailing "Z") to epoch ms. */
int policy_parse_time(const char *text, int64_t *out_ms);

/* Whether an abort criterion list (JSON text from policy_parse) is met by these
 * counts of the job's latest executions per thing. Writes which one in `why`. */
bool policy_abort_due(const char *abort_config, const int64_t counts[EXEC_STATUS_COUNT],
		char *why, size_t whylen);

/* Whether a maintenance window (maintenanceWindows JSON text from policy_parse) is open
 * at now_ms (epoch ms, UTC). Open: *next_ms is when that window closes; closed: when the
 * next one opens (-1: never again). */
bool policy_window_open(const char *windows, int64_t now_ms, int64_t *next_ms);

#endif
