/* Device topic parser (explicit lengths, a table of API level names, no allocation)
 * and the topics of outgoing messages. */
#include "mqtt/topic.h"

#include <stdio.h>
#include <string.h>

#define PREFIX "$aws/things/"
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
	}
	return n > 0 ? (size_t)n : 0;
}
