/* The plugin's $SYS topics, as Mosquitto's own ($SYS/broker/...): each number of
 * struct sys_stats under $SYS/broker/jobs/, its payload the number as text. */
#ifndef MQTT_SYS_TOPICS_H
#define MQTT_SYS_TOPICS_H

#include "core/sysstats.h"

/* Calls publish(ctx, topic, payload) for every topic of *st, in a fixed order. */
void sys_topics_each(const struct sys_stats *st, void (*publish)(void *ctx, const char *topic, const char *payload),
		void *ctx);

#endif
