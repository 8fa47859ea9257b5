/* The MQTT topics of the jobs API, the one place that knows them: parsing device
 * topics under the things prefix (by level count, never by substring, so a job named
 * `get` is legal; no allocation: the result is copied into caller-owned fixed
 * buffers), and building the topic of each outbox message. */
#ifndef MOSQUITTO_JOBS_TOPIC_H
#define MOSQUITTO_JOBS_TOPIC_H

#include <stdbool.h>
#include <stddef.h>

#include "core/device.h"
#include "core/outbox.h"
#include "util/names.h"

/* The management API's request topic and response topic. */
#define JOBS_CONTROL_TOPIC "$CONTROL/jobs/v1"
#define JOBS_CONTROL_RESPONSE_TOPIC "$CONTROL/jobs/v1/response"

enum topic_kind {
	TOPIC_NOT_JOBS = 0, /* not under $aws/things/{thing}/jobs: not ours */
	TOPIC_IGNORED,      /* a reply or notification topic published by a client */
	TOPIC_INVALID,      /* under the jobs namespace but no operation: InvalidTopic */
	TOPIC_REQUEST,      /* a device request; `op` and the names are filled in */
};

struct jobs_topic {
	enum device_op op;
	char thing[JOBS_THING_NAME_MAX + 1];
	char job_id[JOBS_JOB_ID_MAX + 1];      /* "" for get/start-next; may be "$next" for describe */
	char namespace_id[JOBS_NAMESPACE_MAX + 1]; /* "" when the topic has no namespace level */
};

/* Classifies `topic`; for TOPIC_REQUEST fills *out. */
enum topic_kind topic_parse(const char *topic, struct jobs_topic *out);

/* The literal job id that asks for the next pending execution. */
#define JOBS_NEXT_ID DEVICE_NEXT_JOB

/* What follows the things prefix ("$aws/things/") in `topic`; NULL when the topic is
 * not under it. */
const char *topic_things_rest(const char *topic);

/* The thing of a topic under $aws/things/<thing>/jobs/, copied into buf (size
 * bytes); false for any other topic or a name that does not fit. */
bool topic_thing(const char *topic, char *buf, size_t size);

/* The topic m goes out on, into buf as snprintf does (the length it needs, without
 * the NUL, is returned; a longer one is cut): a reply on its request's topic plus
 * /accepted or /rejected, a management response on its topic, a notification on its
 * thing's notify or notify-next topic (with -namespace-<id> for a namespace), an event
 * on $aws/events/job/<jobId>/<operation> or $aws/events/jobExecution/<jobId>/<operation>. */
size_t topic_build(const struct outbox_msg *m, char *buf, size_t size);

/* Which things' jobs topics a topic (or, with filter, a subscription filter) reaches:
 * none, one (its name in thing[0..*thing_len), pointing into topic), or every thing (a
 * wildcard where the thing goes). */
enum topic_reach { TOPIC_REACH_NONE, TOPIC_REACH_ONE, TOPIC_REACH_ALL };
enum topic_reach topic_jobs_reach(const char *topic, bool filter, const char **thing, size_t *thing_len);
/* Whether a topic (or filter) reaches the management API's topics ($CONTROL/jobs/...). */
bool topic_reaches_control(const char *topic, bool filter);
/* Whether a topic (or a filter whose levels spell $aws/events/ out) reaches the jobs
 * events ($aws/events/job/... and $aws/events/jobExecution/...). A filter with a
 * wildcard before that ($aws/#) is not counted: what it would deliver is checked
 * message by message (the broker's read check). */
bool topic_reaches_job_events(const char *topic, bool filter);

#endif
