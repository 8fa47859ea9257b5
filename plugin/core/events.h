/* Jobs events (AWS IoT Developer Guide, "Jobs events"): messages for management and
 * monitoring applications when a job is completed, canceled or deleted (and when its
 * cancellation or deletion starts), and when one of its executions reaches a terminal
 * status or is deleted. They go out on $aws/events/job/<jobId>/<operation> and
 * $aws/events/jobExecution/<jobId>/<operation> (the MQTT adapter builds the topics),
 * only while the event configuration of their type (JOB, JOB_EXECUTION) is enabled
 * (UpdateEventConfigurations; every type is off until switched on).
 *
 * Like device notifications, an event is gathered while its transaction runs (built at
 * the change, from what the store holds then) and appended to the outbox only when the
 * transaction commits (txn.c); a rolled-back change sends none, and a batch that fails
 * drops its events with its notifications (outbox.h). With events off, nothing is read
 * or allocated.
 *
 * The configurations are stored (store_event_configs) and held here as the store has
 * them: read at start (where the first start writes every type, JOB and JOB_EXECUTION
 * as plugin_opt_job_events says), after updateEventConfigurations, after a rollback
 * that undid one, and after changes other brokers made (store_sync). */
#ifndef MOSQUITTO_JOBS_EVENTS_H
#define MOSQUITTO_JOBS_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/outbox.h"
#include "store/store.h"

/* AWS's event types (the iot model's EventType), in its order. Only JOB and
 * JOB_EXECUTION produce events here; the others are stored and described. */
enum event_type {
	EVENT_THING, EVENT_THING_GROUP, EVENT_THING_TYPE, EVENT_THING_GROUP_MEMBERSHIP,
	EVENT_THING_GROUP_HIERARCHY, EVENT_THING_TYPE_ASSOCIATION, EVENT_JOB, EVENT_JOB_EXECUTION,
	EVENT_POLICY, EVENT_CERTIFICATE, EVENT_CA_CERTIFICATE, EVENT_TYPE_COUNT
};
const char *events_type_name(int type);
/* false when `name` is no event type */
bool events_type_parse(const char *name, enum event_type *out);

/* The configurations as they are stored: a type never set is disabled; the dates are
 * the earliest creation and the latest change of a row, 0 when there is none. */
struct event_configs {
	bool enabled[EVENT_TYPE_COUNT];
	int64_t created_at;
	int64_t updated_at;
};

/* The payloads, pure (for the tests too): `arn_prefix` is "arn:aws:iot:<region>:<account>:",
 * `event_id` the event's unique id, `now` epoch seconds. A job event (operation
 * "completed", "canceled", "deleted", "cancellation_in_progress" or
 * "deletion_in_progress"; `status` the status it shows) of a job read whole
 * (store_job_get); `counts` (the job's executions by status) adds jobProcessDetails,
 * NULL leaves it out. An execution event: operation "succeeded", "failed", "rejected",
 * "timed_out", "canceled" or "removed" (the execution's status), or "deleted" (the
 * status before the deletion). Both return malloc'd text (length in *len), NULL when
 * out of memory. */
char *events_job_payload(const struct store_job *job, const char *operation, const char *status,
		const int64_t *counts, const char *arn_prefix, const char *event_id, int64_t now, size_t *len);
char *events_execution_payload(const struct store_exec *e, const char *operation, const char *arn_prefix,
		const char *event_id, int64_t now, size_t *len);

struct service;
struct events;

/* Creates the events' state of a service (in svc->events): the configurations read from
 * the store, written first (every type, JOB and JOB_EXECUTION enabled as `initial`
 * says: a mask of 1 << EVENT_JOB and 1 << EVENT_JOB_EXECUTION) when the store holds
 * none. Returns 0, or -1 with err filled (out of memory, the store cannot be read). A
 * store that cannot take the first write is logged and read again later. */
int events_create(struct service *svc, unsigned initial, int64_t now, char *err, size_t errlen);
void events_destroy(struct events *ev);

/* Whether events of the type go out: costs a load. */
bool events_enabled(const struct service *svc, enum event_type type);
/* The configurations held now. */
const struct event_configs *events_configs(const struct service *svc);
/* Reads the configurations from the store again (inside the transaction that changed
 * them, after a rollback, after another broker's changes). -1 on a store error (the
 * held ones stay). */
int events_reload(struct service *svc);
/* updateEventConfigurations changed the stored configurations in the open
 * transaction: they are held now, and read again should it roll back. */
int events_changed(struct service *svc);

/* A job event, gathered for the commit: the job (read whole again by its id) after the
 * change. "completed" and "canceled" carry jobProcessDetails. No-op while JOB is off.
 * Returns 0, or -1 on a store error or out of memory. now_ms: job time. */
int events_job(struct service *svc, const char *job_id, const char *operation, int64_t now_ms);
/* An execution event, gathered for the commit: operation NULL for the execution's
 * terminal status, or "deleted". No-op while JOB_EXECUTION is off. */
int events_execution(struct service *svc, const struct store_exec *e, const char *operation, int64_t now_ms);

/* At a transaction's commit (txn.c): appends the gathered events to the outbox. 0, or -1
 * when out of memory (those not appended are dropped). */
int events_emit(struct service *svc, struct outbox *ob);
/* After a transaction's rollback: drops the gathered events, and reads the
 * configurations again when the transaction had changed them. */
void events_discard(struct service *svc);

#endif
