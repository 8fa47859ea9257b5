/* The service's counters and fixed-bucket histograms, and their Prometheus text
 * exposition (metrics.h). Everything here runs on the broker's thread: an increment
 * is a plain add, an observation a short walk over a bucket table. */
#include "core/metrics.h"

#include <stdlib.h>

#include "core/status.h"
#include "store/store.h"

#define DEVICE_OPS (DEVICE_UPDATE + 1)
/* Distinct (command, outcome) pairs kept; past it, pairs are counted as "other". */
#define CONTROL_PAIRS 256
#define BUCKETS_MAX 16

struct hist_def {
	const char *name;
	const char *help;
	bool seconds;                /* values are µs, shown as seconds */
	int nbounds;
	int64_t bounds[BUCKETS_MAX]; /* upper bounds, increasing (µs, or counts) */
};

static const struct hist_def hists[METRICS_HIST_COUNT] = {
	[METRICS_REPLY_SECONDS] = { "jobs_reply_latency_seconds",
		"From a device request seen by the plugin to its MQTT reply handed to the broker.", true, 12,
		{ 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000 } },
	[METRICS_TICK_SECONDS] = { "jobs_tick_duration_seconds",
		"One tick: pending batches, other brokers' changes, due timers, rollouts and schedules.", true, 10,
		{ 10, 50, 100, 500, 1000, 5000, 10000, 50000, 100000, 500000 } },
	[METRICS_COMMIT_SECONDS] = { "jobs_commit_duration_seconds",
		"One batch's commit, as long as the broker's thread waited for it.", true, 10,
		{ 10, 25, 50, 100, 250, 500, 1000, 2500, 10000, 100000 } },
	[METRICS_BATCH_REQUESTS] = { "jobs_commit_batch_requests",
		"Requests (device, management, HTTP) committed by one batch.", false, 9,
		{ 1, 2, 4, 8, 16, 32, 64, 128, 256 } },
};

struct hist {
	uint64_t buckets[BUCKETS_MAX + 1];   /* the last: above every bound */
	uint64_t count;
	int64_t sum;
};

struct control_pair {
	const char *command;     /* NULL: unknown */
	const char *outcome;     /* NULL: ok */
	uint64_t n;
};

struct metrics {
	metrics_clock_fn clock;
	uint64_t device[DEVICE_OPS][DEVICE_ERROR_COUNT];
	uint64_t rate_limited;
	struct control_pair control[CONTROL_PAIRS];
	size_t ncontrol;
	uint64_t control_other;
	struct hist hist[METRICS_HIST_COUNT];
};

struct metrics *metrics_create(void)
{
	return calloc(1, sizeof(struct metrics));
}

void metrics_destroy(struct metrics *m)
{
	free(m);
}

void metrics_set_clock(struct metrics *m, metrics_clock_fn clock)
{
	m->clock = clock;
}

int64_t metrics_now_us(const struct metrics *m)
{
	return m && m->clock ? m->clock() : 0;
}

void metrics_device(struct metrics *m, enum device_op op, enum device_error error)
{
	if(!m || (unsigned)op >= DEVICE_OPS || (unsigned)error >= DEVICE_ERROR_COUNT) return;
	m->device[op][error]++;
	if(error == DEVICE_REQUEST_THROTTLED) m->rate_limited++;
}

void metrics_control(struct metrics *m, const char *command, const char *exception)
{
	if(!m) return;
	/* both are static strings: compared as pointers */
	for(size_t i = 0; i < m->ncontrol; i++){
		struct control_pair *p = &m->control[i];
		if(p->command == command && p->outcome == exception){
			p->n++;
			return;
		}
	}
	if(m->ncontrol == CONTROL_PAIRS){
		m->control_other++;
		return;
	}
	m->control[m->ncontrol++] = (struct control_pair){ .command = command, .outcome = exception, .n = 1 };
}

void metrics_observe(struct metrics *m, enum metrics_hist h, int64_t value)
{
	if(!m || (unsigned)h >= METRICS_HIST_COUNT) return;
	const struct hist_def *d = &hists[h];
	struct hist *x = &m->hist[h];
	int b = 0;
	while(b < d->nbounds && value > d->bounds[b]) b++;
	x->buckets[b]++;
	x->count++;
	x->sum += value;
}

void metrics_observe_since(struct metrics *m, enum metrics_hist h, int64_t since_us)
{
	if(!m || !m->clock) return;
	int64_t d = m->clock() - since_us;
	metrics_observe(m, h, d > 0 ? d : 0);
}

/* ---- the text exposition ---- */

static void header(struct strbuf *out, const char *name, const char *type, const char *help)
{
	strbuf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A value of µs as seconds, or a count as is. */
static void value(struct strbuf *out, int64_t v, bool seconds)
{
	if(seconds) strbuf_printf(out, "%lld.%06lld", (long long)(v / 1000000), (long long)(v % 1000000));
	else strbuf_printf(out, "%lld", (long long)v);
}

static void render_hist(struct strbuf *out, const struct hist_def *d, const struct hist *x)
{
	header(out, d->name, "histogram", d->help);
	uint64_t cumulative = 0;
	for(int b = 0; b < d->nbounds; b++){
		cumulative += x->buckets[b];
		strbuf_printf(out, "%s_bucket{le=\"", d->name);
		value(out, d->bounds[b], d->seconds);
		strbuf_printf(out, "\"} %llu\n", (unsigned long long)cumulative);
	}
	strbuf_printf(out, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum ", d->name, (unsigned long long)x->count, d->name);
	value(out, x->sum, d->seconds);
	strbuf_printf(out, "\n%s_count %llu\n", d->name, (unsigned long long)x->count);
}

static void render_by_status(struct strbuf *out, const char *name, const char *help, const int64_t *counts, int n,
		const char *(*status)(int))
{
	header(out, name, "gauge", help);
	for(int i = 0; i < n; i++) strbuf_printf(out, "%s{status=\"%s\"} %lld\n", name, status(i), (long long)counts[i]);
}

static void render_gauge(struct strbuf *out, const char *name, const char *help, int64_t v)
{
	if(v < 0) return;   /* the store does not know it */
	header(out, name, "gauge", help);
	strbuf_printf(out, "%s %lld\n", name, (long long)v);
}

void metrics_render(const struct metrics *m, const struct store_counts *g, struct strbuf *out)
{
	static const char *const ops[DEVICE_OPS] = {
		[DEVICE_GET_PENDING] = "GetPendingJobExecutions", [DEVICE_START_NEXT] = "StartNextPendingJobExecution",
		[DEVICE_DESCRIBE] = "DescribeJobExecution", [DEVICE_UPDATE] = "UpdateJobExecution",
	};
	header(out, "jobs_device_requests_total", "counter",
			"Device requests (MQTT and HTTP) by operation and outcome (ok, or AWS's error code).");
	for(int op = 0; op < DEVICE_OPS; op++){
		for(int e = 0; e < DEVICE_ERROR_COUNT; e++){
			if(!m->device[op][e]) continue;
			strbuf_printf(out, "jobs_device_requests_total{operation=\"%s\",outcome=\"%s\"} %llu\n", ops[op],
					e == DEVICE_OK ? "ok" : device_error_code((enum device_error)e),
					(unsigned long long)m->device[op][e]);
		}
	}
	header(out, "jobs_rate_limited_requests_total", "counter",
			"Device requests refused by the per-thing rate limit (plugin_opt_rate_limit).");
	strbuf_printf(out, "jobs_rate_limited_requests_total %llu\n", (unsigned long long)m->rate_limited);
	header(out, "jobs_management_commands_total", "counter",
			"Management commands (MQTT and HTTP) by command and outcome (ok, or the exception).");
	for(size_t i = 0; i < m->ncontrol; i++){
		const struct control_pair *p = &m->control[i];
		strbuf_printf(out, "jobs_management_commands_total{command=\"%s\",outcome=\"%s\"} %llu\n",
				p->command ? p->command : "unknown", p->outcome ? p->outcome : "ok", (unsigned long long)p->n);
	}
	if(m->control_other){
		strbuf_printf(out, "jobs_management_commands_total{command=\"other\",outcome=\"other\"} %llu\n",
				(unsigned long long)m->control_other);
	}
	for(int h = 0; h < METRICS_HIST_COUNT; h++) render_hist(out, &hists[h], &m->hist[h]);

	header(out, "jobs_store_up", "gauge", "1 when the store answered the scrape's counts, else 0.");
	strbuf_printf(out, "jobs_store_up %d\n", g ? 1 : 0);
	if(!g) return;
	render_by_status(out, "jobs_jobs", "Jobs by status.", g->jobs, JOB_STATUS_COUNT, store_job_status_name);
	render_by_status(out, "jobs_executions", "Job executions by status (each thing's latest of each job).",
			g->executions, EXEC_STATUS_COUNT, status_name);
	render_gauge(out, "jobs_timers_pending", "Executions with a step or in-progress timer running.", g->timers);
	render_gauge(out, "jobs_store_database_bytes", "Size of the SQLite database file.", g->db_bytes);
	render_gauge(out, "jobs_store_wal_bytes", "Size of the SQLite write-ahead log.", g->wal_bytes);
}
