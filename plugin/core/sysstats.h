/* What the plugin publishes on its $SYS topics (the MQTT adapter names the topics):
 * jobs and executions by status, read from the store's running counts, and the
 * device requests of the last minute, counted here as the service takes them.
 *
 * Kept apart from any other statistics on purpose: one counter, one read. */
#ifndef CORE_SYSSTATS_H
#define CORE_SYSSTATS_H

#include <stdint.h>

#include "store/store.h"

#define SYSSTATS_WINDOW_S 60

/* Device requests counted per wall-clock second, over the last minute. */
struct req_counter {
	int64_t second[SYSSTATS_WINDOW_S];  /* the epoch second each slot counts */
	int64_t count[SYSSTATS_WINDOW_S];
	int64_t total;                      /* since the service started */
};

struct sys_stats {
	int64_t jobs[JOB_STATUS_COUNT];         /* by status, store_job_status_name's order */
	int64_t executions[EXEC_STATUS_COUNT];  /* each thing's latest of each job, by status */
	int64_t requests_1min;                  /* device requests (MQTT and HTTP) in the last 60 s */
	int64_t requests_total;                 /* since the service started */
};

/* One device request at wall time now_ms. */
void sysstats_note_request(struct req_counter *c, int64_t now_ms);

struct service;
/* Fills *out at wall time now_ms. 0, or -1 when the store cannot count. */
int sysstats_read(struct service *svc, int64_t now_ms, struct sys_stats *out);

#endif
