/* The metrics' counters, histograms and text exposition (core/metrics.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/metrics.h"
#include "store/store.h"
#include "suites.h"

static char *render(const struct metrics *m, const struct store_counts *counts)
{
	struct strbuf b = { 0 };
	metrics_render(m, counts, &b);
	CU_ASSERT_FALSE(b.failed);
	return b.p;
}

/* Whether `line` is a whole line of text. */
static int has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for(const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL){
		if(strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == '\0')) return 1;
	}
	return 0;
}

static void test_device_and_control_counters(void)
{
	struct metrics *m = metrics_create();
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	metrics_device(m, DEVICE_UPDATE, DEVICE_OK);
	metrics_device(m, DEVICE_UPDATE, DEVICE_OK);
	metrics_device(m, DEVICE_GET_PENDING, DEVICE_REQUEST_THROTTLED);
	metrics_device(m, DEVICE_DESCRIBE, DEVICE_ERROR_COUNT);   /* out of range: ignored */
	static const char create[] = "createJob";
	static const char invalid[] = "InvalidRequestException";
	metrics_control(m, create, NULL);
	metrics_control(m, create, invalid);
	metrics_control(m, NULL, invalid);
	metrics_control(m, create, NULL);
	char *text = render(m, NULL);
	CU_ASSERT_TRUE(has_line(text, "jobs_device_requests_total{operation=\"UpdateJobExecution\",outcome=\"ok\"} 2"));
	CU_ASSERT_TRUE(has_line(text,
			"jobs_device_requests_total{operation=\"GetPendingJobExecutions\",outcome=\"RequestThrottled\"} 1"));
	CU_ASSERT_PTR_NULL(strstr(text, "DescribeJobExecution"));
	CU_ASSERT_TRUE(has_line(text, "jobs_rate_limited_requests_total 1"));
	CU_ASSERT_TRUE(has_line(text, "jobs_management_commands_total{command=\"createJob\",outcome=\"ok\"} 2"));
	CU_ASSERT_TRUE(has_line(text,
			"jobs_management_commands_total{command=\"createJob\",outcome=\"InvalidRequestException\"} 1"));
	CU_ASSERT_TRUE(has_line(text,
			"jobs_management_commands_total{command=\"unknown\",outcome=\"InvalidRequestException\"} 1"));
	/* without the store's counts: said, and the gauges left out */
	CU_ASSERT_TRUE(has_line(text, "jobs_store_up 0"));
	CU_ASSERT_PTR_NULL(strstr(text, "jobs_jobs"));
	free(text);
	metrics_destroy(m);
}

/* Past the table of (command, outcome) pairs, counts go to one "other" series. */
static void test_control_pairs_bounded(void)
{
	struct metrics *m = metrics_create();
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	static char names[300][8];
	for(int i = 0; i < 300; i++){
		snprintf(names[i], sizeof(names[i]), "c%d", i);
		metrics_control(m, names[i], NULL);
	}
	char *text = render(m, NULL);
	CU_ASSERT_TRUE(has_line(text, "jobs_management_commands_total{command=\"c255\",outcome=\"ok\"} 1"));
	CU_ASSERT_PTR_NULL(strstr(text, "command=\"c256\""));
	CU_ASSERT_TRUE(has_line(text, "jobs_management_commands_total{command=\"other\",outcome=\"other\"} 44"));
	free(text);
	metrics_destroy(m);
}

static int64_t fake_now;
static int64_t fake_clock(void)
{
	return fake_now;
}

/* A value on a bound falls in that bound's bucket; buckets are cumulative; seconds
 * are shown from microseconds. */
static void test_histograms(void)
{
	struct metrics *m = metrics_create();
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(metrics_now_us(m), 0);
	metrics_observe_since(m, METRICS_COMMIT_SECONDS, 0);   /* no clock: nothing */
	metrics_set_clock(m, fake_clock);
	fake_now = 1000;
	metrics_observe_since(m, METRICS_COMMIT_SECONDS, 990);   /* 10 µs: on the first bound */
	metrics_observe_since(m, METRICS_COMMIT_SECONDS, 989);   /* 11 µs */
	metrics_observe_since(m, METRICS_COMMIT_SECONDS, 2000);  /* the clock went back: 0 */
	metrics_observe(m, METRICS_COMMIT_SECONDS, 5000000);     /* past every bound */
	metrics_observe(m, METRICS_BATCH_REQUESTS, 3);
	char *text = render(m, NULL);
	CU_ASSERT_TRUE(has_line(text, "jobs_commit_duration_seconds_bucket{le=\"0.000010\"} 2"));
	CU_ASSERT_TRUE(has_line(text, "jobs_commit_duration_seconds_bucket{le=\"0.000025\"} 3"));
	CU_ASSERT_TRUE(has_line(text, "jobs_commit_duration_seconds_bucket{le=\"0.100000\"} 3"));
	CU_ASSERT_TRUE(has_line(text, "jobs_commit_duration_seconds_bucket{le=\"+Inf\"} 4"));
	CU_ASSERT_TRUE(has_line(text, "jobs_commit_duration_seconds_sum 5.000021"));
	CU_ASSERT_TRUE(has_line(text, "jobs_commit_duration_seconds_count 4"));
	CU_ASSERT_TRUE(has_line(text, "jobs_commit_batch_requests_bucket{le=\"2\"} 0"));
	CU_ASSERT_TRUE(has_line(text, "jobs_commit_batch_requests_bucket{le=\"4\"} 1"));
	CU_ASSERT_TRUE(has_line(text, "jobs_commit_batch_requests_sum 3"));
	CU_ASSERT_TRUE(has_line(text, "jobs_reply_latency_seconds_count 0"));
	CU_ASSERT_TRUE(has_line(text, "# TYPE jobs_tick_duration_seconds histogram"));
	free(text);
	metrics_destroy(m);
}

static void test_store_gauges(void)
{
	struct metrics *m = metrics_create();
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	struct store_counts c = { .timers = 4, .db_bytes = 8192, .wal_bytes = 0 };
	c.jobs[JOB_IN_PROGRESS] = 2;
	c.executions[EXEC_QUEUED] = 7;
	char *text = render(m, &c);
	CU_ASSERT_TRUE(has_line(text, "jobs_store_up 1"));
	CU_ASSERT_TRUE(has_line(text, "jobs_jobs{status=\"IN_PROGRESS\"} 2"));
	CU_ASSERT_TRUE(has_line(text, "jobs_jobs{status=\"COMPLETED\"} 0"));
	CU_ASSERT_TRUE(has_line(text, "jobs_executions{status=\"QUEUED\"} 7"));
	CU_ASSERT_TRUE(has_line(text, "jobs_executions{status=\"CANCELED\"} 0"));
	CU_ASSERT_TRUE(has_line(text, "jobs_timers_pending 4"));
	CU_ASSERT_TRUE(has_line(text, "jobs_store_database_bytes 8192"));
	CU_ASSERT_TRUE(has_line(text, "jobs_store_wal_bytes 0"));
	free(text);
	/* a store without a file: its sizes are left out */
	c.db_bytes = c.wal_bytes = -1;
	text = render(m, &c);
	CU_ASSERT_PTR_NULL(strstr(text, "jobs_store_database_bytes"));
	CU_ASSERT_PTR_NULL(strstr(text, "jobs_store_wal_bytes"));
	free(text);
	metrics_destroy(m);
}

void add_metrics_tests(void)
{
	static const struct test_entry tests[] = {
		{ "device and management counters", test_device_and_control_counters },
		{ "management pairs are bounded", test_control_pairs_bounded },
		{ "histograms", test_histograms },
		{ "the store's gauges", test_store_gauges },
	};
	ADD_SUITE("metrics", tests);
}
