/* Test controls on the MQTT device path (testctl_apply.c): the pieces the MQTT
 * request path calls while plugin_opt_test_controls is on. Pure: the testctl's
 * state, the outbox and the request's operation; nothing of the store or Mosquitto. */
#ifndef MOSQUITTO_JOBS_TESTCTL_APPLY_H
#define MOSQUITTO_JOBS_TESTCTL_APPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/device.h"
#include "core/outbox.h"
#include "core/testctl.h"

/* The fault list a device operation draws from. */
enum testctl_op testctl_op_of(enum device_op op);

/* Records a publish to or from a thing (out: sent to it) in its transcript, when the
 * topic is under $aws/things/<thing>/jobs/ and the thing is recorded; tc may be NULL. */
void testctl_record_publish(struct testctl *tc, int64_t at_ms, bool out, const char *topic,
		const char *payload, size_t len, const char *fault);

/* Applies fault f to the reply ob->msgs[i] (real_ms: the request's real time):
 * withheld (drop), due real_ms + delay (delay), appended twice (duplicate); the reply
 * and its copy are marked with the fault's name for the transcript. */
void testctl_apply_fault(const struct testctl_fault *f, struct outbox *ob, size_t i, int64_t real_ms);

#endif
