/* $SYS/broker/jobs/...: the names of the numbers the plugin publishes every
 * plugin_opt_sys_interval seconds (docs/management.md, "$SYS topics").
 *
 *   $SYS/broker/jobs/jobs/<status>          jobs by status (in_progress, scheduled, ...)
 *   $SYS/broker/jobs/executions/<status>    executions by status (queued, in_progress, ...)
 *   $SYS/broker/jobs/requests/1min          device requests in the last minute
 *   $SYS/broker/jobs/requests/total         device requests since the plugin started */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>

#include "core/status.h"
#include "mqtt/sys_topics.h"

#define SYS_PREFIX "$SYS/broker/jobs/"

static void one(const char *group, const char *name, int64_t value,
		void (*publish)(void *ctx, const char *topic, const char *payload), void *ctx)
{
	char topic[128];
	int n = snprintf(topic, sizeof(topic), SYS_PREFIX "%s/", group);
	for(const char *c = name; *c && n > 0 && (size_t)n + 1 < sizeof(topic); c++){
		topic[n++] = (char)tolower((unsigned char)*c);
	}
	topic[n] = '\0';
	char payload[32];
	snprintf(payload, sizeof(payload), "%" PRId64, value);
	publish(ctx, topic, payload);
}

void sys_topics_each(const struct sys_stats *st, void (*publish)(void *ctx, const char *topic, const char *payload),
		void *ctx)
{
	for(int i = 0; i < JOB_STATUS_COUNT; i++) one("jobs", store_job_status_name(i), st->jobs[i], publish, ctx);
	for(int i = 0; i < EXEC_STATUS_COUNT; i++) one("executions", status_name(i), st->executions[i], publish, ctx);
	one("requests", "1min", st->requests_1min, publish, ctx);
	one("requests", "total", st->requests_total, publish, ctx);
}
