/* A request as the broker hands it to the MQTT adapter (the publisher, its topic and
 * payload, MQTT 5 response properties), shared by the devices' path (mqtt_jobs.h) and
 * the management envelope (mqtt_control.h). */
#ifndef MOSQUITTO_JOBS_MQTT_REQUEST_H
#define MOSQUITTO_JOBS_MQTT_REQUEST_H

#include <stddef.h>
#include <stdint.h>

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

#endif
