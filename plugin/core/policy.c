/* Parsing and checking of createJob's policy fields, and the abort rule. */
#include "core/policy.h"

#include "util/civil.h"
#include "util/cron.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *const policy_fields[] = {
	"timeoutConfig", "jobExecutionsRetryConfig", "jobExecutionsRolloutConfig", "abortConfig",
	"schedulingConfig", "presignedUrlConfig", NULL,
};

#define TIMEOUT_MAX 10080
#define RETRIES_MAX 10
#define RATE_MAX 1000

static int parse_timeout(const cJSON *cmd, struct job_policy *p, struct jf_error *err)
{
	const cJSON *cfg = NULL;
	long long minutes;
	if(jf_object(cmd, "timeoutConfig", &cfg, err) != JF_OK) return err->msg[0] ? JF_BAD : JF_OK;
	int rc = jf_long(cfg, "inProgressTimeoutInMinutes", 1, TIMEOUT_MAX, &minutes, err);
	if(rc == JF_BAD) return rc;
	if(rc == JF_OK) p->in_progress_timeout_min = minutes;
	return JF_OK;
}

/* Each failure type names a number of retries; ALL covers FAILED and TIMED_OUT. */
static int parse_retry(const cJSON *cmd, struct job_policy *p, struct jf_error *err)
{
	const cJSON *cfg = NULL, *list = NULL, *item;
	if(jf_object(cmd, "jobExecutionsRetryConfig", &cfg, err) != JF_OK) return err->msg[0] ? JF_BAD : JF_OK;
	if(jf_array(cfg, "criteriaList", &list, err) != JF_OK){
		return err->msg[0] ? JF_BAD : jf_fail(err, "jobExecutionsRetryConfig.criteriaList is required");
	}
	int n = cJSON_GetArraySize(list);
	if(n < 1 || n > 2) return jf_fail(err, "jobExecutionsRetryConfig.criteriaList must hold 1 or 2 criteria");
	bool seen[3] = { false, false, false };
	cJSON_ArrayForEach(item, list){
		const char *type = NULL;
		long long retries;
		if(!cJSON_IsObject(item)) return jf_fail(err, "retry criteria must be objects");
		if(jf_string(item, "failureType", &type, err) != JF_OK) return err->msg[0] ? JF_BAD : jf_fail(err, "failureType is required");
		if(jf_long(item, "numberOfRetries", 0, RETRIES_MAX, &retries, err) != JF_OK){
			return err->msg[0] ? JF_BAD : jf_fail(err, "numberOfRetries is required");
		}
		int k = strcmp(type, "FAILED") == 0 ? 0 : strcmp(type, "TIMED_OUT") == 0 ? 1 : strcmp(type, "ALL") == 0 ? 2 : -1;
		if(k < 0) return jf_fail(err, "retry failureType must be FAILED, TIMED_OUT or ALL");
		if(seen[k]) return jf_fail(err, "retry failureType %s is given twice", type);
		seen[k] = true;
		if(k != 1 && retries > p->retry_failed) p->retry_failed = (int)retries;
		if(k != 0 && retries > p->retry_timed_out) p->retry_timed_out = (int)retries;
	}
	return JF_OK;
}

static int parse_rollout(const cJSON *cmd, struct job_policy *p, struct jf_error *err)
{
	const cJSON *cfg = NULL, *exp = NULL, *crit = NULL;
	long long max = 0, base, notified = 0, succeeded = 0;
	if(jf_object(cmd, "jobExecutionsRolloutConfig", &cfg, err) != JF_OK) return err->msg[0] ? JF_BAD : JF_OK;
	if(jf_long(cfg, "maximumPerMinute", 1, RATE_MAX, &max, err) == JF_BAD) return JF_BAD;
	if(jf_object(cfg, "exponentialRate", &exp, err) == JF_BAD) return JF_BAD;
	if(!max && !exp) return jf_fail(err, "jobExecutionsRolloutConfig needs maximumPerMinute or exponentialRate");
	p->rollout_max = max ? (double)max : RATE_MAX;
	p->rollout_rate = (double)max;
	if(!exp) return JF_OK;

	const cJSON *factor = cJSON_GetObjectItemCaseSensitive(exp, "incrementFactor");
	if(jf_long(exp, "baseRatePerMinute", 1, RATE_MAX, &base, err) != JF_OK){
		return err->msg[0] ? JF_BAD : jf_fail(err, "exponentialRate.baseRatePerMinute is required");
	}
	if(!cJSON_IsNumber(factor) || factor->valuedouble < 1.1 || factor->valuedouble > 5){
		return jf_fail(err, "exponentialRate.incrementFactor must be a number from 1.1 to 5");
	}
	if(jf_object(exp, "rateIncreaseCriteria", &crit, err) != JF_OK){
		return err->msg[0] ? JF_BAD : jf_fail(err, "exponentialRate.rateIncreaseCriteria is required");
	}
	if(jf_long(crit, "numberOfNotifiedThings", 1, RATE_MAX, &notified, err) == JF_BAD
			|| jf_long(crit, "numberOfSucceededThings", 1, RATE_MAX, &succeeded, err) == JF_BAD){
		return JF_BAD;
	}
	if(!notified == !succeeded){
		return jf_fail(err, "rateIncreaseCriteria needs one of numberOfNotifiedThings and numberOfSucceededThings");
	}
	if(max && base > max) return jf_fail(err, "baseRatePerMinute may not exceed maximumPerMinute");
	p->rollout_rate = (double)base;
	p->rollout_factor = factor->valuedouble;
	p->rollout_notified_step = notified;
	p->rollout_succeeded_step = succeeded;
	return JF_OK;
}

static int parse_abort(const cJSON *cmd, char **abort_config, struct jf_error *err)
{
	const cJSON *cfg = NULL, *list = NULL, *item;
	if(jf_object(cmd, "abortConfig", &cfg, err) != JF_OK) return err->msg[0] ? JF_BAD : JF_OK;
	if(jf_array(cfg, "criteriaList", &list, err) != JF_OK){
		return err->msg[0] ? JF_BAD : jf_fail(err, "abortConfig.criteriaList is required");
	}
	if(cJSON_GetArraySize(list) < 1) return jf_fail(err, "abortConfig.criteriaList must hold a criterion");
	cJSON *clean = cJSON_CreateArray();
	if(!clean) return jf_fail(err, "out of memory");
	cJSON_ArrayForEach(item, list){
		const char *type = NULL, *action = NULL;
		long long min_things;
		const cJSON *threshold = cJSON_GetObjectItemCaseSensitive(item, "thresholdPercentage");
		int rc = JF_OK;
		if(!cJSON_IsObject(item)) rc = jf_fail(err, "abort criteria must be objects");
		else if(jf_string(item, "failureType", &type, err) != JF_OK
				|| (strcmp(type, "FAILED") && strcmp(type, "REJECTED") && strcmp(type, "TIMED_OUT") && strcmp(type, "ALL"))){
			rc = jf_fail(err, "abort failureType must be FAILED, REJECTED, TIMED_OUT or ALL");
		}else if(jf_string(item, "action", &action, err) != JF_OK || strcmp(action, "CANCEL") != 0){
			rc = jf_fail(err, "abort action must be CANCEL");
		}else if(!cJSON_IsNumber(threshold) || threshold->valuedouble < 0 || threshold->valuedouble > 100){
			rc = jf_fail(err, "thresholdPercentage must be a number from 0 to 100");
		}else if(jf_long(item, "minNumberOfExecutedThings", 1, INT32_MAX, &min_things, err) != JF_OK){
			rc = err->msg[0] ? JF_BAD : jf_fail(err, "minNumberOfExecutedThings is required");
		}
		if(rc != JF_OK){
			cJSON_Delete(clean);
			return JF_BAD;
		}
		cJSON *c = cJSON_CreateObject();
		cJSON_AddStringToObject(c, "failureType", type);
		cJSON_AddStringToObject(c, "action", action);
		cJSON_AddNumberToObject(c, "thresholdPercentage", threshold->valuedouble);
		cJSON_AddNumberToObject(c, "minNumberOfExecutedThings", (double)min_things);
		cJSON_AddItemToArray(clean, c);
	}
	*abort_config = jf_print_exact(clean);
	cJSON_Delete(clean);
	return *abort_config ? JF_OK : jf_fail(err, "out of memory");
}

int policy_parse_time(const char *text, int64_t *out_ms)
{
	struct tm tm = { 0 };
	int n = 0;
	if(sscanf(text, "%4d-%2d-%2dT%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &n) != 5){
		return -1;
	}
	const char *rest = text + n;
	int sec = 0, m = 0;
	if(*rest == ':' && sscanf(rest, ":%2d%n", &sec, &m) == 1) rest += m;
	if(*rest == 'Z') rest++;
	if(*rest != '\0' || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31
			|| tm.tm_hour > 23 || tm.tm_min > 59 || sec > 59 || tm.tm_year < 1970){
		return -1;
	}
	if(tm.tm_mday > civil_days_in_month(tm.tm_year, tm.tm_mon)) return -1;
	int64_t days = civil_to_days(tm.tm_year, tm.tm_mon, tm.tm_mday);
	*out_ms = ((days * 24 + tm.tm_hour) * 60 + tm.tm_min) * 60000 + (int64_t)sec * 1000;
	return 0;
}

#define WINDOW_MINUTES_MAX 1430
#define CRON_TEXT_MAX 256

int policy_parse_windows(const cJSON *cfg, char **windows, struct jf_error *err)
{
	const cJSON *list = NULL, *item;
	*windows = NULL;
	err->msg[0] = '\0';
	if(jf_array(cfg, "maintenanceWindows", &list, err) != JF_OK) return err->msg[0] ? JF_BAD : JF_OK;
	if(cJSON_GetArraySize(list) == 0) return JF_OK;
	cJSON *clean = cJSON_CreateArray();
	if(!clean) return jf_fail(err, "out of memory");
	int rc = JF_OK;
	cJSON_ArrayForEach(item, list){
		const char *start = NULL;
		long long minutes;
		struct cron cron;
		char why[160];
		if(!cJSON_IsObject(item)){
			rc = jf_fail(err, "maintenanceWindows must hold objects");
		}else if(jf_string(item, "startTime", &start, err) != JF_OK){
			rc = err->msg[0] ? JF_BAD : jf_fail(err, "maintenanceWindows[].startTime is required");
		}else if(strlen(start) < 1 || strlen(start) > CRON_TEXT_MAX){
			rc = jf_fail(err, "maintenanceWindows[].startTime must be 1-%d characters", CRON_TEXT_MAX);
		}else if(cron_parse(start, &cron, why, sizeof(why)) != 0){
			rc = jf_fail(err, "maintenanceWindows[].startTime %.64s is not a cron expression: %s", start, why);
		}else if(jf_long(item, "durationInMinutes", 1, WINDOW_MINUTES_MAX, &minutes, err) != JF_OK){
			rc = err->msg[0] ? JF_BAD : jf_fail(err, "maintenanceWindows[].durationInMinutes is required");
		}
		if(rc != JF_OK) break;
		cJSON *w = cJSON_CreateObject();
		if(!w || !cJSON_AddStringToObject(w, "startTime", start)
				|| !cJSON_AddNumberToObject(w, "durationInMinutes", (double)minutes)){
			cJSON_Delete(w);
			rc = jf_fail(err, "out of memory");
			break;
		}
		cJSON_AddItemToArray(clean, w);
	}
	if(rc == JF_OK && !(*windows = jf_print_exact(clean))) rc = jf_fail(err, "out of memory");
	cJSON_Delete(clean);
	return rc;
}

/* presignedUrlConfig: kept as given (describeJob shows it); checked as AWS does. */
static int parse_presigned(const cJSON *cmd, struct jf_error *err)
{
	const cJSON *cfg = NULL;
	const char *role = NULL;
	long long seconds;
	if(jf_object(cmd, "presignedUrlConfig", &cfg, err) != JF_OK) return err->msg[0] ? JF_BAD : JF_OK;
	if(jf_string(cfg, "roleArn", &role, err) == JF_BAD) return JF_BAD;
	if(role && (strlen(role) < 20 || strlen(role) > 2048)) return jf_fail(err, "presignedUrlConfig.roleArn must be 20-2048 characters");
	if(jf_long(cfg, "expiresInSec", 60, 3600, &seconds, err) == JF_BAD) return JF_BAD;
	return JF_OK;
}

static int parse_schedule(const cJSON *cmd, struct job_policy *p, char **windows, struct jf_error *err)
{
	const cJSON *cfg = NULL;
	const char *start = NULL, *end = NULL, *behavior = NULL;
	if(jf_object(cmd, "schedulingConfig", &cfg, err) != JF_OK) return err->msg[0] ? JF_BAD : JF_OK;
	if(policy_parse_windows(cfg, windows, err) != JF_OK) return JF_BAD;
	if(jf_string(cfg, "startTime", &start, err) == JF_BAD || jf_string(cfg, "endTime", &end, err) == JF_BAD
			|| jf_string(cfg, "endBehavior", &behavior, err) == JF_BAD){
		return JF_BAD;
	}
	if(start && policy_parse_time(start, &p->start_ms)) return jf_fail(err, "startTime must be YYYY-MM-DDTHH:MM (UTC)");
	if(end && policy_parse_time(end, &p->end_ms)) return jf_fail(err, "endTime must be YYYY-MM-DDTHH:MM (UTC)");
	if(end && start && p->end_ms <= p->start_ms) return jf_fail(err, "endTime must be after startTime");
	if(behavior){
		if(!end) return jf_fail(err, "endBehavior needs an endTime");
		if(strcmp(behavior, "STOP_ROLLOUT") == 0) p->end_behavior = END_STOP_ROLLOUT;
		else if(strcmp(behavior, "CANCEL") == 0) p->end_behavior = END_CANCEL;
		else if(strcmp(behavior, "FORCE_CANCEL") == 0) p->end_behavior = END_FORCE_CANCEL;
		else return jf_fail(err, "endBehavior must be STOP_ROLLOUT, CANCEL or FORCE_CANCEL");
	}else if(end){
		p->end_behavior = END_STOP_ROLLOUT;
	}
	return JF_OK;
}

int policy_parse(const cJSON *cmd, struct parsed_policy *out, struct jf_error *err)
{
	memset(out, 0, sizeof(*out));
	err->msg[0] = '\0';
	if(parse_timeout(cmd, &out->policy, err) != JF_OK || parse_retry(cmd, &out->policy, err) != JF_OK
			|| parse_rollout(cmd, &out->policy, err) != JF_OK || parse_abort(cmd, &out->abort_config, err) != JF_OK
			|| parse_schedule(cmd, &out->policy, &out->maintenance_windows, err) != JF_OK
			|| parse_presigned(cmd, err) != JF_OK){
		policy_free(out);
		return JF_BAD;
	}
	/* Keep the fields as given, to show them in describeJob. */
	cJSON *given = cJSON_CreateObject();
	for(int i = 0; given && policy_fields[i]; i++){
		const cJSON *f = cJSON_GetObjectItemCaseSensitive(cmd, policy_fields[i]);
		if(f && !cJSON_IsNull(f)) cJSON_AddItemToObject(given, policy_fields[i], cJSON_Duplicate(f, true));
	}
	if(given && given->child) out->policies = jf_print_exact(given);
	cJSON_Delete(given);
	return JF_OK;
}

void policy_free(struct parsed_policy *p)
{
	free(p->abort_config);
	free(p->policies);
	free(p->maintenance_windows);
	memset(p, 0, sizeof(*p));
}

bool policy_abort_due(const char *abort_config, const int64_t counts[EXEC_STATUS_COUNT],
		char *why, size_t whylen)
{
	cJSON *list = abort_config ? cJSON_Parse(abort_config) : NULL;
	int64_t executed = counts[EXEC_SUCCEEDED] + counts[EXEC_FAILED] + counts[EXEC_REJECTED] + counts[EXEC_TIMED_OUT];
	bool due = false;
	const cJSON *c;
	cJSON_ArrayForEach(c, list){
		const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "failureType"));
		double threshold = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(c, "thresholdPercentage"));
		double min_things = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(c, "minNumberOfExecutedThings"));
		if(!type || (double)executed < min_things || executed == 0) continue;
		int64_t failures = strcmp(type, "FAILED") == 0 ? counts[EXEC_FAILED]
			: strcmp(type, "REJECTED") == 0 ? counts[EXEC_REJECTED]
			: strcmp(type, "TIMED_OUT") == 0 ? counts[EXEC_TIMED_OUT]
			: counts[EXEC_FAILED] + counts[EXEC_REJECTED] + counts[EXEC_TIMED_OUT];
		if((double)failures * 100.0 >= threshold * (double)executed){
			snprintf(why, whylen, "%s executions reached %lld of %lld executed things (threshold %g%%)",
					type, (long long)failures, (long long)executed, threshold);
			due = true;
			break;
		}
	}
	cJSON_Delete(list);
	return due;
}

/* The windows of a maintenanceWindows JSON text (policy_parse's), parsed; at most `max`. */
static int load_windows(const char *windows, struct cron *crons, int64_t *minutes, int max)
{
	cJSON *list = windows ? cJSON_Parse(windows) : NULL;
	const cJSON *w;
	int n = 0;
	char err[160];
	cJSON_ArrayForEach(w, list){
		const char *start = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(w, "startTime"));
		double duration = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(w, "durationInMinutes"));
		if(n < max && start && duration >= 1 && cron_parse(start, &crons[n], err, sizeof(err)) == 0){
			minutes[n++] = (int64_t)duration;
		}
	}
	cJSON_Delete(list);
	return n;
}

#define WINDOWS_MAX 64

bool policy_window_open(const char *windows, int64_t now_ms, int64_t *next_ms)
{
	struct cron crons[WINDOWS_MAX];
	int64_t minutes[WINDOWS_MAX];
	int n = load_windows(windows, crons, minutes, WINDOWS_MAX);
	int64_t next = -1;
	for(int i = 0; i < n; i++){
		/* the latest start that may still be open: one within the duration before now */
		int64_t span = minutes[i] * 60000;
		int64_t start = cron_next(&crons[i], now_ms - span + 1);
		if(start >= 0 && start <= now_ms){
			*next_ms = start + span;
			return true;
		}
		if(start >= 0 && (next < 0 || start < next)) next = start;
	}
	*next_ms = next;
	return false;
}
