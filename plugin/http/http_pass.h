/* One pass of the broker's loop for the HTTP API: the calls parked since the last
 * pass join the pass's batch, the batch commits, and only then are the answers
 * final (with a store that finishes commits later, only once the store says how the
 * batch ended). A success whose batch did not commit (the commit failed, or a storage
 * failure of a later request in the pass rolled the whole batch back) becomes a 503,
 * so no HTTP answer ever covers a change that is gone. */
#ifndef MOSQUITTO_JOBS_HTTP_PASS_H
#define MOSQUITTO_JOBS_HTTP_PASS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/http_api.h"
#include "core/outbox.h"

struct access_config;
struct service;

/* The most calls one pass takes (http_server_take's max). */
#define HTTP_PASS_MAX 64

/* Handles reqs[0..n) (n at most HTTP_PASS_MAX) at now_ms, each as its identity may
 * (access), then commits the pass (service_flush) and leaves each call's answer in
 * out[i] (bodies malloc'd, the caller frees them). MQTT replies and notifications of
 * the pass are in ob. Returns what service_flush returned.
 *
 * held[i] 0: out[i] is final. Otherwise the call's batch (held[i], service.h) is not
 * over yet: its store commits later, so the answer, a read's too (it may show what the
 * batch did), waits. The caller keeps it until service_batch_done(svc, held[i]); if
 * the batch-failed hook reports that batch first, the caller passes the answer to
 * http_pass_failed. */
bool http_pass_run(struct service *svc, const struct access_config *access,
		const struct http_request *const *reqs, size_t n, int64_t now_ms, struct outbox *ob,
		struct http_response *out, uint64_t *held);
/* The answer of a call whose batch did not commit: a success becomes 503
 * ServiceUnavailableException; an error stays. */
void http_pass_failed(struct http_response *resp);

#endif
