/* The devices' MQTT request path, without Mosquitto (plugin.c hands over the events):
 * a publish on a device topic becomes a typed device request, the service's result is
 * rendered as AWS's MQTT reply into the outbox. Test controls act here: faults on
 * replies, transcripts of what goes in and out. The management API's envelope is
 * mqtt_control.h's. */
#ifndef MOSQUITTO_JOBS_MQTT_JOBS_H
#define MOSQUITTO_JOBS_MQTT_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/outbox.h"
#include "core/service.h"
#include "mqtt/mqtt_request.h"
#include "mqtt/topic.h"

/* A publish on any topic (mqtt_jobs.c). Returns false when the topic is not under
 * $aws/things/{thing}/jobs/ (nothing appended), true otherwise. */
bool mqtt_jobs_device(struct service *svc, const struct jobs_request *req, struct outbox *ob);

/* The service's batch-failed hook (service_set_batch_failed): the accepted replies
 * the batch holds become InternalError rejections and its management responses one
 * InternalFailureException error; rejections stay. Whoever creates a service that
 * serves MQTT sets it once (the tests), or calls it from its own hook (plugin.c). */
void mqtt_jobs_fail_batch(void *ctx, struct outbox *ob, uint64_t batch, int64_t now);

/* The adapter published m at now_ms (real epoch ms) on `topic`, or, for m->withheld,
 * did not: with test controls on, a message to a thing whose transcript is recorded
 * is recorded. Costs nothing with test controls off. */
void mqtt_jobs_sent(struct service *svc, const struct outbox_msg *m, const char *topic, int64_t now_ms);

#endif
