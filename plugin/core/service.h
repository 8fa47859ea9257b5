/* The jobs service: every way in (the MQTT adapter's device topics and management
 * requests, the HTTP API) ends in one typed call here that applies the request to the
 * store, hands back a typed result, and appends the device notifications to an
 * outbox. Knows nothing of Mosquitto or topics; time is a parameter.
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
#include "core/control.h"
#include "core/device.h"
#include "core/outbox.h"
#include "util/log.h"


/* Commands one management request may hold; a longer one is refused whole
 * (LimitExceededException, nothing run), so one publish cannot hold the broker's
 * thread for long. */
#define JOBS_CONTROL_MAX_COMMANDS 100

struct service;

/* Logs through the service's log (for the adapters' own lines). */
void service_log(struct service *svc, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Opens the store named by cfg (copied). now_ms (epoch ms) is when the service
 * started: describeBroker's uptime counts from it. On failure returns -1 with err
 * filled. */
int service_create(const struct jobs_config *cfg, int64_t now_ms, jobs_log_fn log, void *log_ctx,
		struct service **out, char *err, size_t errlen);
/* The same on a store already opened (store.h), which the service then owns, closed on
 * failure too: for tests that give the service a store of their own. */
struct store;
int service_create_on(const struct jobs_config *cfg, struct store *store, int64_t now_ms, jobs_log_fn log,
		void *log_ctx, struct service **out, char *err, size_t errlen);
void service_destroy(struct service *svc);
/* What the service's store is (kind, location, schema version), for the log. */
struct store_info;
void service_store_info(struct service *svc, struct store_info *out);
/* store_watch of the service's store: safe from any thread while the service lives. */
void service_watch(struct service *svc, int *fd, unsigned *reads);

/* A device request: fills *res (free it with device_result_free). The request's
 * notifications are appended to ob. */
void service_device(struct service *svc, const struct device_request *req, struct device_result *res,
		struct outbox *ob);
/* Answers the request with `error` and `message` without running it (the MQTT
 * adapter's InvalidTopic, test controls' reject faults): *res holds the body's
 * clientToken, and for a VersionMismatch the executionState of the execution the
 * request names, when there is one. */
void service_device_refuse(struct service *svc, const struct device_request *req, enum device_error error,
		const char *message, struct device_result *res);

/* One management command (a JSON object with "command" and the command's fields):
 * fills *out (free it with control_result_free). Notifications are appended to ob. */
void service_control(struct service *svc, const struct control_request *req, const cJSON *cmd,
		struct control_result *out, struct outbox *ob);

/* Group commit: while on, the changes of every request handled between two
 * service_flush calls are committed together by service_flush, and their replies
 * wait in the outbox until then, so an accepted reply still means stored. */
void service_set_group_commit(struct service *svc, bool on);
/* Commits what the requests since the last flush changed. Returns false when the
 * batch did not commit: then the batch's notifications are dropped from ob and the
 * batch-failed hook rewrites the rest.
 *
 * A store may finish a commit later (STORE_PENDING, store.h): then the batch's
 * messages (replies, responses, notifications) stay in ob, held (outbox_msg.held_by
 * is the batch's number), and service_flush returns true. The service asks the store
 * how each such batch ended, in the order they were committed, right after a commit
 * and at every tick: a batch that committed frees its messages; one that failed ends
 * as a batch that fails at once does (its notifications dropped, the hook called),
 * then frees the rest. A batch that ends at once while earlier ones are held waits
 * for them, so the outcomes come out in order. */
bool service_flush(struct service *svc, int64_t now_ms, struct outbox *ob);

/* A batch did not commit (service_flush, a storage failure rolled it back while a
 * request ran, or the store reported later that it failed): nothing it did happened.
 * The service has dropped its notifications from ob; the hook turns the replies the
 * batch holds (outbox_msg.held_by == batch) into what a failure answers (the MQTT
 * adapter's accepted replies into InternalError rejections, its management responses
 * into one error), and may fail what it holds elsewhere for that batch (HTTP
 * answers); the service frees the messages after it. `now`: epoch seconds. A
 * request's own result already says the failure (InternalError,
 * InternalFailureException). Called once per failed batch, in batch order. */
typedef void (*jobs_batch_failed_fn)(void *ctx, struct outbox *ob, uint64_t batch, int64_t now);
void service_set_batch_failed(struct service *svc, jobs_batch_failed_fn fn, void *ctx);
/* How many batches did not commit so far: a request during which the count changed
 * lost what it did. */
uint64_t service_batches_lost(const struct service *svc);

/* The test controls' state, NULL unless plugin_opt_test_controls is on: the MQTT
 * adapter applies their faults to its replies and records transcripts. */
struct testctl *service_testctl(struct service *svc);
/* The number of the batch a request just handled ran in, 0 when none is open (the
 * request committed on its own). Replies held outside the outbox (HTTP) keep it and
 * ask, right after service_flush, whether that batch is over (service_batch_done;
 * it is not while its store's commit is pending) and, when it is, whether it
 * committed: a batch that a storage failure rolled back mid-pass is over, and a later
 * one has another number. service_batch_committed answers only for the batches that
 * service_flush ended, right after it; a reply kept longer (its batch was pending)
 * learns of a failure from the batch-failed hook, before service_batch_done says its
 * batch is over. */
uint64_t service_batch_seq(const struct service *svc);
bool service_batch_done(const struct service *svc, uint64_t seq);
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

/* The service's metrics (metrics.h): the adapters observe what only they see (reply
 * latency, the tick's duration) and set its clock. */
struct metrics *service_metrics(struct service *svc);
/* Appends the metrics' text exposition (Prometheus, format 0.0.4) to out; the store's
 * counts (store_counts) are read at most once per now_ms (the pass's time), however
 * many scrapes the pass holds. */
struct strbuf;
void service_metrics_text(struct service *svc, int64_t now_ms, struct strbuf *out);

/* Called often (Mosquitto's TICK fires on every pass of its loop), outside a batch
 * (after service_flush): learns how pending batches ended (see service_flush); applies
 * the changes other brokers committed to a shared store (store_sync), appending the
 * notifications they cause for this broker's devices (free at once: they are
 * committed); then, when this broker runs the due work (store_runs_scheduler), returns
 * at once unless a timer or a job's rollout or schedule is due at now_ms, and else
 * handles what is due, a bounded amount per call, appending notifications to the
 * outbox. */
void service_tick(struct service *svc, int64_t now_ms, struct outbox *ob);

#endif
