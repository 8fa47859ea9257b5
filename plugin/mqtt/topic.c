/* Device topic parser (explicit lengths, a table of API level names, no allocation)
 * and the topics of outgoing messages. */
#include "mqtt/topic.h"

#include <stdio.h>
#include <string.h>

#define PREFIX "$aws/things/"
/* Jobs events (core/events.h): $aws/events/job/<jobId>/<operation> and
 * $aws/events/jobExecution/<jobId>/<operation>. */
#define EVENTS_PREFIX "$aws/events/"
#define MAX_LEVELS 4

struct level {
	const char *s;
	size_t len;
};

static bool level_is(const struct level *l, const char *word)
{
	return l->len == strlen(word) && memcmp(l->s, word, l->len) == 0;
}

static bool level_has_prefix(const struct level *l, const char *prefix, struct level *rest)
{
	size_t n = strlen(prefix);
	if(l->len < n || memcmp(l->s, prefix, n) != 0) return false;
	rest->s = l->s + n;
	rest->len = l->len - n;
	return true;
}

static void copy_level(char *dst, const struct level *l)
{
	memcpy(dst, l->s, l->len);
	dst[l->len] = '\0';
}

/* Notification topics: notify, notify-next, and their -namespace-N forms. */
static bool is_notification(const struct level *l)
{
	struct level rest;
	return level_is(l, "notify") || level_is(l, "notify-next")
		|| level_has_prefix(l, "notify-namespace-", &rest)
		|| level_has_prefix(l, "notify-next-namespace-", &rest);
}

static bool job_level_ok(const struct level *l, bool allow_next)
{
	if(allow_next && level_is(l, JOBS_NEXT_ID)) return true;
	return names_job_id_valid(l->s, l->len);
}

enum topic_kind topic_parse(const char *topic, struct jobs_topic *out)
{
	size_t plen = strlen(PREFIX);
	if(strncmp(topic, PREFIX, plen) != 0) return TOPIC_NOT_JOBS;

	struct level thing = { topic + plen, 0 };
	const char *slash = strchr(thing.s, '/');
	if(!slash) return TOPIC_NOT_JOBS;
	thing.len = (size_t)(slash - thing.s);
	if(strncmp(slash, "/jobs", 5) != 0 || (slash[5] != '/' && slash[5] != '\0')){
		return TOPIC_NOT_JOBS;
	}

	struct level lv[MAX_LEVELS];
	size_t n = 0;
	const char *p = slash[5] ? slash + 6 : NULL;
	while(p){
		if(n == MAX_LEVELS) return TOPIC_INVALID;
		const char *end = strchr(p, '/');
		lv[n].s = p;
		lv[n].len = end ? (size_t)(end - p) : strlen(p);
		n++;
		p = end ? end + 1 : NULL;
	}
	if(n == 0) return TOPIC_INVALID;
	if(level_is(&lv[n-1], "accepted") || level_is(&lv[n-1], "rejected")) return TOPIC_IGNORED;
	if(n == 1 && is_notification(&lv[0])) return TOPIC_IGNORED;
	if(!names_thing_valid(thing.s, thing.len)) return TOPIC_INVALID;

	memset(out, 0, sizeof(*out));
	copy_level(out->thing, &thing);

	if(n == 1){
		if(level_is(&lv[0], "get")) out->op = DEVICE_GET_PENDING;
		else if(level_is(&lv[0], "start-next")) out->op = DEVICE_START_NEXT;
		else return TOPIC_INVALID;
		return TOPIC_REQUEST;
	}

	const struct level *action = &lv[n-1];
	if(n == 3){
		struct level ns;
		if(!level_has_prefix(&lv[1], "namespace-", &ns)) return TOPIC_INVALID;
		if(!names_namespace_valid(ns.s, ns.len)) return TOPIC_INVALID;
		copy_level(out->namespace_id, &ns);
	}else if(n != 2){
		return TOPIC_INVALID;
	}

	if(level_is(action, "get")) out->op = DEVICE_DESCRIBE;
	else if(level_is(action, "update")) out->op = DEVICE_UPDATE;
	else return TOPIC_INVALID;

	if(!job_level_ok(&lv[0], out->op == DEVICE_DESCRIBE)) return TOPIC_INVALID;
	copy_level(out->job_id, &lv[0]);
	return TOPIC_REQUEST;
}

const char *topic_things_rest(const char *topic)
{
	size_t plen = strlen(PREFIX);
	return strncmp(topic, PREFIX, plen) == 0 ? topic + plen : NULL;
}

bool topic_thing(const char *topic, char *buf, size_t size)
{
	const char *thing = topic_things_rest(topic);
	if(!thing) return false;
	size_t n = strcspn(thing, "/");
	if(n == 0 || n >= size || strncmp(thing + n, "/jobs/", 6) != 0) return false;
	memcpy(buf, thing, n);
	buf[n] = '\0';
	return true;
}

size_t topic_build(const struct outbox_msg *m, char *buf, size_t size)
{
	int n = 0;
	switch(m->kind){
	case OUTBOX_ACCEPTED:
		n = snprintf(buf, size, "%s/accepted", m->topic);
		break;
	case OUTBOX_REJECTED:
		n = snprintf(buf, size, "%s/rejected", m->topic);
		break;
	case OUTBOX_RESPONSE:
		n = snprintf(buf, size, "%s", m->topic);
		break;
	case OUTBOX_NOTIFY:
	case OUTBOX_NOTIFY_NEXT: {
		const char *what = m->kind == OUTBOX_NOTIFY ? "notify" : "notify-next";
		if(m->namespace_id && m->namespace_id[0]){
			n = snprintf(buf, size, PREFIX "%s/jobs/%s-namespace-%s", m->thing, what, m->namespace_id);
		}else{
			n = snprintf(buf, size, PREFIX "%s/jobs/%s", m->thing, what);
		}
		break;
	}
	case OUTBOX_JOB_EVENT:
	case OUTBOX_EXECUTION_EVENT:
		n = snprintf(buf, size, EVENTS_PREFIX "%s/%s/%s", m->kind == OUTBOX_JOB_EVENT ? "job" : "jobExecution",
				m->job_id, m->event);
		break;
	}
	return n > 0 ? (size_t)n : 0;
}

/* Splits off level `i` of a topic; returns its start and length, or NULL past the end. */
static const char *level_at(const char *topic, int i, size_t *len)
{
	const char *p = topic;
	for(; i > 0; i--){
		p = strchr(p, '/');
		if(!p) return NULL;
		p++;
	}
	const char *end = strchr(p, '/');
	*len = end ? (size_t)(end - p) : strlen(p);
	return p;
}

static bool level_named(const char *s, size_t len, const char *word)
{
	return len == strlen(word) && strncmp(s, word, len) == 0;
}

/* Wildcards in the first level never match $-topics, so only filters starting with
 * "$aws" can reach. */
enum topic_reach topic_jobs_reach(const char *topic, bool filter, const char **thing, size_t *thing_len)
{
	size_t l0, l1, l2, l3;
	const char *s0 = level_at(topic, 0, &l0);
	if(!level_named(s0, l0, "$aws")) return TOPIC_REACH_NONE;
	const char *s1 = level_at(topic, 1, &l1);
	if(!s1) return TOPIC_REACH_NONE;
	if(filter && level_named(s1, l1, "#")) return TOPIC_REACH_ALL;
	if(!level_named(s1, l1, "things") && !(filter && level_named(s1, l1, "+"))) return TOPIC_REACH_NONE;
	const char *s2 = level_at(topic, 2, &l2);
	if(!s2) return TOPIC_REACH_NONE;
	const char *s3 = level_at(topic, 3, &l3);
	bool wild_thing = filter && (level_named(s2, l2, "+") || level_named(s2, l2, "#"));
	if(filter && level_named(s2, l2, "#")) return TOPIC_REACH_ALL;
	if(!s3) return TOPIC_REACH_NONE;
	if(!level_named(s3, l3, "jobs") && !(filter && (level_named(s3, l3, "+") || level_named(s3, l3, "#")))) return TOPIC_REACH_NONE;
	if(wild_thing) return TOPIC_REACH_ALL;
	*thing = s2;
	*thing_len = l2;
	return TOPIC_REACH_ONE;
}

bool topic_reaches_control(const char *topic, bool filter)
{
	static const char prefix[] = "$CONTROL/jobs/";
	return strncmp(topic, prefix, sizeof(prefix) - 1) == 0
		|| (filter && strncmp(topic, "$CONTROL/", 9) == 0 && (topic[9] == '#' || topic[9] == '+'));
}

/* A topic reaches the jobs events under $aws/events/job/ or $aws/events/jobExecution/;
 * a filter when its third level may match either ("+", "#", or one of the two). */
bool topic_reaches_job_events(const char *topic, bool filter)
{
	size_t l2;
	if(strncmp(topic, EVENTS_PREFIX, sizeof(EVENTS_PREFIX) - 1) != 0) return false;
	const char *s2 = level_at(topic, 2, &l2);
	if(!s2) return false;
	if(level_named(s2, l2, "job") || level_named(s2, l2, "jobExecution")) return true;
	return filter && (level_named(s2, l2, "+") || level_named(s2, l2, "#"));
}
