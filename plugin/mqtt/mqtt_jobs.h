/* The MQTT request path, without Mosquitto (plugin.c hands over the events): a
 * publish on a device topic becomes a typed device request, the service's result is
 * rendered as AWS's MQTT reply into the outbox; a request on $CONTROL/jobs/v1 is
 * taken apart into commands and their results put together into the response. Test
 * controls act here: faults on replies, transcripts of what goes in and out. */
#ifndef MOSQUITTO_JOBS_MQTT_JOBS_H
#define MOSQUITTO_JOBS_MQTT_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/outbox.h"
#include "core/service.h"
#include "mqtt/topic.h"

struct jobs_request {
	const char *client_id;   /* the requester: replies go to this client only */
	const char *username;    /* for the audit log; may be NULL */
	const char *topic;
	const char *payload;     /* not NUL-terminated; may be NULL when payload_len is 0 */
	size_t payload_len;
	int qos;                 /* the request's QoS; replies use min(qos, 1) */
	int64_t now;             /* epoch seconds */
	int64_t now_ms;          /* epoch milliseconds; 0: now * 1000 */
	/* MQTT 5 request/response: where to answer too, and what to echo; NULL when none */
	const char *response_topic;
	const void *correlation_data;
	size_t correlation_len;
};

/* Request time in ms (requests from tests may carry only seconds). */
static inline int64_t mqtt_request_ms(const struct jobs_request *req)
{
	return req->now_ms ? req->now_ms : req->now * 1000;
}

/* Reply QoS: AWS answers at most at QoS 1. */
static inline int mqtt_reply_qos(int request_qos)
{
	return request_qos > 1 ? 1 : request_qos;
}

/* A publish on any topic (mqtt_jobs.c). Returns false when the topic is not under
 * $aws/things/{thing}/jobs/ (nothing appended), true otherwise. */
bool mqtt_jobs_device(struct service *svc, const struct jobs_request *req, struct outbox *ob);

/* A request on JOBS_CONTROL_TOPIC ({"commands":[…]}): appends the response
 * ({"responses":[…]}) for the requester on JOBS_CONTROL_RESPONSE_TOPIC and, for an
 * MQTT 5 request with a response topic, on that topic with its correlation data too. */
void mqtt_jobs_control(struct service *svc, const struct jobs_request *req, struct outbox *ob);
/* The payload of a management response whose batch failed (mqtt_control.c; malloc'd,
 * NULL when out of memory). */
char *mqtt_control_failed_payload(size_t *len);

/* The service's batch-failed hook (service_set_batch_failed): the batch's accepted
 * replies become InternalError rejections and its management responses one
 * InternalFailureException error; rejections stay. Whoever creates a service that
 * serves MQTT sets it once (plugin.c, the tests). */
void mqtt_jobs_fail_batch(void *ctx, struct outbox *ob, size_t from, int64_t now);

/* The adapter published m at now_ms (real epoch ms) on `topic`, or, for m->withheld,
 * did not: with test controls on, a message to a thing whose transcript is recorded
 * is recorded. Costs nothing with test controls off. */
void mqtt_jobs_sent(struct service *svc, const struct outbox_msg *m, const char *topic, int64_t now_ms);

#endif
