/* Who may touch which MQTT topics: the jobs topics of each thing and the management
 * API's, by core/access.h's rules (docs/security.md); the jobs events
 * ($aws/events/job/..., $aws/events/jobExecution/...) are read (subscribed to,
 * received) as the management API is used, and published by no client (but as the
 * broker's ACL says with plugin_opt_control_access broker); every other topic as
 * plugin_opt_other_topics says. A subscription filter with a wildcard where the thing
 * name goes reaches every thing; a shared subscription ($share/<group>/...) reaches what
 * its filter does. */
#ifndef MOSQUITTO_JOBS_TOPIC_ACCESS_H
#define MOSQUITTO_JOBS_TOPIC_ACCESS_H

#include "core/access.h"

enum access_kind { ACCESS_READ, ACCESS_WRITE, ACCESS_SUBSCRIBE };

/* The decision for `identity` (NULL when the client has none) on `topic` (a topic, or a
 * filter for ACCESS_SUBSCRIBE). */
enum access_result access_decide(const struct access_config *cfg, const char *identity,
		const char *topic, enum access_kind kind);

#endif
