/* The management API's MQTT envelope (mqtt_control.c), without Mosquitto. */
#ifndef MOSQUITTO_JOBS_MQTT_CONTROL_H
#define MOSQUITTO_JOBS_MQTT_CONTROL_H

#include <stddef.h>

#include "core/outbox.h"
#include "core/service.h"
#include "mqtt/mqtt_request.h"

/* A request on JOBS_CONTROL_TOPIC ({"commands":[…]}): appends the response
 * ({"responses":[…]}) for the requester on JOBS_CONTROL_RESPONSE_TOPIC and, for an
 * MQTT 5 request with a response topic, on that topic with its correlation data too. */
void mqtt_jobs_control(struct service *svc, const struct jobs_request *req, struct outbox *ob);
/* The payload of a management response whose batch failed (mqtt_control.c; malloc'd,
 * NULL when out of memory). */
char *mqtt_control_failed_payload(const char *sent, size_t sent_len, size_t *len);

#endif
