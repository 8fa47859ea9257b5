/* MQTT 5 properties of an event, read without the broker's mosquitto_property_read_*
 * functions, which brokers built as upstream ships them do not export to plugins.
 * Adapter-side: only plugin.c (and its unit test) use it. */
#ifndef MOSQUITTO_JOBS_MQTT5_PROPS_H
#define MOSQUITTO_JOBS_MQTT5_PROPS_H

#include <mosquitto.h>
#include <stdbool.h>
#include <stddef.h>

/* Finds the first string or binary property `identifier` (an MQTT_PROP_* value) in
 * the broker's list `props` (may be NULL). On success *value points into the list,
 * valid for as long as the event is, *len is its length in bytes, and true is
 * returned; nothing is allocated. */
bool mqtt5_props_find_bytes(const mosquitto_property *props, int identifier,
		const void **value, size_t *len);

#endif
