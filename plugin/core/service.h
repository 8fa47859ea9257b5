/* The jobs service: every way in (device topics, the management API) ends in one
 * call here that applies the request to the store and appends the replies and
 * notifications to an outbox. Knows nothing of Mosquitto; time is a parameter.
 *
 * Ownership: the service owns its store. The caller owns the outbox, publishes what
 * was appended once the call returns (every change is committed by then), and
 * clears it. */
#ifndef MOSQUITTO_JOBS_SERVICE_H
#define MOSQUITTO_JOBS_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "core/outbox.h"

enum jobs_log_level { JOBS_LOG_ERR, JOBS_LOG_WARNING, JOBS_LOG_NOTICE, JOBS_LOG_INFO, JOBS_LOG_DEBUG };

/* Where the service logs (the adapter passes Mosquitto's log). */
typedef void (*jobs_log_fn)(void *ctx, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

struct jobs_request {
	const char *client_id;   /* the requester: replies go to this client only */
	const char *username;    /* for the audit log; may be NULL */
	const char *topic;
	const char *payload;     /* not NUL-terminated; may be NULL when payload_len is 0 */
	size_t payload_len;
	int qos;                 /* the request's QoS; replies use min(qos, 1) */
	int64_t now;             /* epoch seconds, for timestamps */
	int64_t now_ms;          /* epoch milliseconds, for timers; 0: now * 1000 */
	/* MQTT 5 request/response: where to answer too, and what to echo; NULL when none */
	const char *response_topic;
	const void *correlation_data;
	size_t correlation_len;
};

/* The management API's request topic and response topic. */
#define JOBS_CONTROL_TOPIC "$CONTROL/jobs/v1"
#define JOBS_CONTROL_RESPONSE_TOPIC "$CONTROL/jobs/v1/response"
/* Commands one management request may hold; a longer one is refused whole
 * (LimitExceededException, nothing run), so one publish cannot hold the broker's
 * thread for long. */
#define JOBS_CONTROL_MAX_COMMANDS 100

struct service;

/* Opens the store named by cfg (copied). On failure returns -1 with err filled. */
int service_create(const struct jobs_config *cfg, jobs_log_fn log, void *log_ctx,
		struct service **out, char *err, size_t errlen);
void service_destroy(struct service *svc);

/* A publish on any topic. Returns false when the topic is not under
 * $aws/things/{thing}/jobs/ (nothing appended), true otherwise. */
bool service_handle_device(struct service *svc, const struct jobs_request *req, struct outbox *ob);

/* A request on JOBS_CONTROL_TOPIC: appends the response for the requester on
 * JOBS_CONTROL_RESPONSE_TOPIC and, for an MQTT 5 request with a response topic, on
 * that topic with its correlation data too. */
void service_handle_control(struct service *svc, const struct jobs_request *req, struct outbox *ob);

/* For front ends other than MQTT (the HTTP API): run a device request on `topic` as
 * an MQTT request would, and hand back its reply instead of appending it to the
 * outbox (its notifications are appended as usual). *reply is the reply's JSON
 * (malloc'd, caller frees), *accepted whether it was the accepted reply. Returns 0,
 * or -1 when no reply came (out of memory). */
int service_device_call(struct service *svc, const char *topic, const char *payload, size_t len,
		int64_t now_ms, struct outbox *ob, char **reply, bool *accepted);
/* The same for a management request ({"commands":[…]}) made by `who` (for the audit
 * log): *response is the response's JSON ({"responses":[…]}, malloc'd). */
int service_control_call(struct service *svc, const char *who, const char *request, size_t len,
		int64_t now_ms, struct outbox *ob, char **response);

/* Group commit: while on, the changes of every request handled between two
 * service_flush calls are committed together by service_flush, and their replies
 * wait in the outbox until then, so an accepted reply still means stored. */
void service_set_group_commit(struct service *svc, bool on);
/* Commits what the requests since the last flush changed. If the commit fails, their
 * accepted replies become InternalError rejections, management responses become
 * errors, and their notifications are dropped. */
/* Returns false when the batch did not commit. */
bool service_flush(struct service *svc, int64_t now_ms, struct outbox *ob);
/* The number of the batch a request just handled ran in, 0 when none is open (the
 * request committed on its own). Replies held outside the outbox (HTTP) keep it and
 * ask, right after service_flush, whether that batch committed: a batch that a
 * storage failure rolled back mid-pass is over, and a later one has another number. */
uint64_t service_batch_seq(const struct service *svc);
bool service_batch_committed(const struct service *svc, uint64_t seq);

/* A monotonic clock in ms, for the tick's time budget only (service_tick keeps
 * working off a backlog while less than its budget has passed). Without one, a tick
 * does one bounded batch. */
typedef int64_t (*jobs_clock_fn)(void *ctx);
void service_set_clock(struct service *svc, jobs_clock_fn clock, void *ctx);

/* With test controls on (plugin_opt_test_controls), disconnectThing asks the adapter
 * to disconnect the client acting for a thing: by client id, or by username. Returns
 * whether a client was disconnected. Without one, nobody is disconnected. */
typedef bool (*jobs_kick_fn)(void *ctx, const char *name, bool by_username);
void service_set_kicker(struct service *svc, jobs_kick_fn kick, void *ctx);

/* The adapter published m at now_ms (real epoch ms), or, for m->withheld, did not:
 * with test controls on, a message to a thing whose transcript is recorded is
 * recorded. Costs nothing with test controls off. */
void service_sent(struct service *svc, const struct outbox_msg *m, int64_t now_ms);

/* Called often (Mosquitto's TICK fires on every pass of its loop): returns at once
 * unless a timer or a job's rollout or schedule is due at now_ms; then handles what
 * is due, a bounded amount per call, appending notifications to the outbox. */
void service_tick(struct service *svc, int64_t now_ms, struct outbox *ob);

#endif
