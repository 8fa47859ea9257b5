/* Test controls on the device path (testctl_apply.c): the pieces the service calls
 * for an MQTT request while plugin_opt_test_controls is on. Pure: the testctl's
 * state, the outbox and the topic's operation; nothing of the store or Mosquitto. */
#ifndef MOSQUITTO_JOBS_TESTCTL_APPLY_H
#define MOSQUITTO_JOBS_TESTCTL_APPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/outbox.h"
#include "core/testctl.h"
#include "mqtt/topic.h"

/* The fault list a device operation draws from. */
enum testctl_op testctl_op_of(enum jobs_op op);

/* Records a publish to or from a thing (out: sent to it) in its transcript, when the
 * topic is under $aws/things/<thing>/jobs/ and the thing is recorded; tc may be NULL. */
void testctl_record_publish(struct testctl *tc, int64_t at_ms, bool out, const char *topic,
		const char *payload, size_t len, const char *fault);

/* Applies fault f to the replies that a request on `topic` from `client_id` appended
 * to ob since `mark`: withheld (drop), due real_ms + delay (delay), appended twice
 * (duplicate); each is marked with the fault's name for the transcript. */
void testctl_mark_replies(const struct testctl_fault *f, const char *client_id, const char *topic,
		struct outbox *ob, size_t mark, int64_t real_ms);

#endif
