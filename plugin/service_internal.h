/* What the service's files share; not part of the core's public surface. */
#ifndef MOSQUITTO_JOBS_SERVICE_INTERNAL_H
#define MOSQUITTO_JOBS_SERVICE_INTERNAL_H

#include <cjson/cJSON.h>

#include "mosquitto_jobs/service.h"
#include "mosquitto_jobs/store.h"

struct service {
	struct store *store;
	int max_pending;
	char *region;
	char *account_id;
	jobs_log_fn log;
	void *log_ctx;
};

#define SVC_LOG(svc, level, ...) do{ if((svc)->log) (svc)->log((svc)->log_ctx, (level), __VA_ARGS__); }while(0)

/* Reply QoS: AWS answers at most at QoS 1. */
static inline int reply_qos(int request_qos)
{
	return request_qos > 1 ? 1 : request_qos;
}

/* Moves a job to COMPLETED when it is a snapshot job in progress with no pending
 * execution left. Returns 0, or -1 on a store error. */
int service_job_refresh(struct service *svc, const char *job_id, int64_t job_seq, int64_t now);

/* Service-side changes (fleet.c). Each returns 0, or -1 on a store error (the
 * caller rolls back and drops what was appended to the outbox). */
/* Queues a new execution of the job for the thing (the next execution number) unless
 * one is already pending, and notifies the thing. */
int fleet_queue_execution(struct service *svc, const struct store_job *job, const char *thing,
		int64_t now, struct outbox *ob);
/* Moves an execution to a service-set status (CANCELED, REMOVED, TIMED_OUT):
 * versionNumber +1, forceCanceled when an IN_PROGRESS one is canceled. */
int fleet_move_execution(struct service *svc, struct store_exec *e, int to, int64_t now,
		struct outbox *ob);
int fleet_delete_execution(struct service *svc, const struct store_exec *e, int64_t now,
		struct outbox *ob);
/* A thing joined or left a group: continuous jobs targeting the group follow. */
int fleet_thing_joined(struct service *svc, const char *group, const char *thing, int64_t now,
		struct outbox *ob);
int fleet_thing_left(struct service *svc, const char *group, const char *thing, int64_t now,
		struct outbox *ob);

/* Device API (device_api.c): the request's topic has been parsed. */
struct jobs_topic;
void device_handle(struct service *svc, const struct jobs_request *req,
		const struct jobs_topic *topic, struct outbox *ob);
/* Appends an InvalidTopic rejection on `<topic>/rejected`. */
void device_reject_topic(struct service *svc, const struct jobs_request *req, struct outbox *ob);

/* Management API (control_api.c). */
void control_handle(struct service *svc, const struct jobs_request *req, struct outbox *ob);

#endif
