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

/* Device API (device_api.c): the request's topic has been parsed. */
struct jobs_topic;
void device_handle(struct service *svc, const struct jobs_request *req,
		const struct jobs_topic *topic, struct outbox *ob);
/* Appends an InvalidTopic rejection on `<topic>/rejected`. */
void device_reject_topic(struct service *svc, const struct jobs_request *req, struct outbox *ob);

/* Management API (control_api.c). */
void control_handle(struct service *svc, const struct jobs_request *req, struct outbox *ob);

#endif
