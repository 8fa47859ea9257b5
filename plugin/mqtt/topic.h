/* Parsing of device topics under $aws/things/{thing}/jobs/ (spec section 1).
 * Parses by level count, never by substring, so a job named `get` is legal.
 * No allocation: the result is copied into caller-owned fixed buffers. */
#ifndef MOSQUITTO_JOBS_TOPIC_H
#define MOSQUITTO_JOBS_TOPIC_H

#include "util/names.h"

enum topic_kind {
	TOPIC_NOT_JOBS = 0, /* not under $aws/things/{thing}/jobs: not ours */
	TOPIC_IGNORED,      /* a reply or notification topic published by a client */
	TOPIC_INVALID,      /* under the jobs namespace but no operation: InvalidTopic */
	TOPIC_REQUEST,      /* a device request; `op` and the names are filled in */
};

enum jobs_op {
	OP_GET_PENDING = 0,
	OP_START_NEXT,
	OP_DESCRIBE,
	OP_UPDATE,
};

struct jobs_topic {
	enum jobs_op op;
	char thing[JOBS_THING_NAME_MAX + 1];
	char job_id[JOBS_JOB_ID_MAX + 1];      /* "" for get/start-next; may be "$next" for describe */
	char namespace_id[JOBS_NAMESPACE_MAX + 1]; /* "" when the topic has no namespace level */
};

/* Classifies `topic`; for TOPIC_REQUEST fills *out. */
enum topic_kind topic_parse(const char *topic, struct jobs_topic *out);

/* The literal job id that asks for the next pending execution. */
#define JOBS_NEXT_ID "$next"

#endif
