/* The service's metrics, for Prometheus (docs/metrics.md): plain counters and
 * fixed-bucket histograms, touched on the broker's thread only (no lock, no atomic),
 * and their text exposition (format 0.0.4), rendered on that thread too when a scrape
 * asks (the HTTP listener's thread parks the scrape like any call).
 *
 * Durations come from a clock the adapter sets (metrics_set_clock); without one
 * (unit tests that do not set it) no duration is observed. The service owns its
 * metrics (service_metrics). */
#ifndef MOSQUITTO_JOBS_METRICS_H
#define MOSQUITTO_JOBS_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/device.h"
#include "util/strbuf.h"

enum metrics_hist {
	METRICS_REPLY_SECONDS,   /* a device request seen -> its MQTT reply handed to the broker */
	METRICS_TICK_SECONDS,    /* one service_tick */
	METRICS_COMMIT_SECONDS,  /* one batch's commit (store_batch_commit) */
	METRICS_BATCH_REQUESTS,  /* requests in one committed batch */
	METRICS_HIST_COUNT
};

struct metrics;

/* NULL when out of memory; free with metrics_destroy (NULL is a no-op). */
struct metrics *metrics_create(void);
void metrics_destroy(struct metrics *m);

/* A monotonic clock in microseconds. */
typedef int64_t (*metrics_clock_fn)(void);
void metrics_set_clock(struct metrics *m, metrics_clock_fn clock);
/* The clock's time, 0 without one. */
int64_t metrics_now_us(const struct metrics *m);

/* A device request answered `error` (DEVICE_REQUEST_THROTTLED also counts as rate
 * limited). */
void metrics_device(struct metrics *m, enum device_op op, enum device_error error);
/* A management command: `command` is the name of the table's command (a static string)
 * or NULL for one the table does not have; `exception` a static string, NULL: ok. */
void metrics_control(struct metrics *m, const char *command, const char *exception);
/* One observation: durations in microseconds (from metrics_now_us), counts as is. */
void metrics_observe(struct metrics *m, enum metrics_hist h, int64_t value);
/* The duration since `since_us` (a metrics_now_us), when there is a clock. */
void metrics_observe_since(struct metrics *m, enum metrics_hist h, int64_t since_us);

/* Appends every metric's text exposition to out, with the store's gauges from counts
 * (store_counts at the scrape; NULL when the store could not count). */
struct store_counts;
void metrics_render(const struct metrics *m, const struct store_counts *counts, struct strbuf *out);

#endif
