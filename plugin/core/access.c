/* Jobs-topic access rules: thing isolation, grants, operators. */
#include "core/access.h"

#include <string.h>

#define THINGS_PREFIX "$aws/things/"
#define CONTROL_PREFIX "$CONTROL/jobs/"

static bool in_list(char *const *list, const char *name, size_t len)
{
	for(; list && *list; list++){
		if(strlen(*list) == len && strncmp(*list, name, len) == 0) return true;
	}
	return false;
}

static const struct access_grant *grant_of(const struct access_config *cfg, const char *identity)
{
	for(size_t i = 0; i < cfg->grant_count; i++){
		if(strcmp(cfg->grants[i].identity, identity) == 0) return &cfg->grants[i];
	}
	return NULL;
}

/* Whether the identity holds thing[0..len). */
static bool holds(const struct access_config *cfg, const char *identity, const char *thing, size_t len)
{
	if(strlen(identity) == len && strncmp(identity, thing, len) == 0) return true;
	const struct access_grant *g = grant_of(cfg, identity);
	return g && (g->all || in_list(g->things, thing, len));
}

static bool holds_all(const struct access_config *cfg, const char *identity)
{
	const struct access_grant *g = grant_of(cfg, identity);
	return g && g->all;
}

/* Splits off level `i` of a topic; returns its start and length, or NULL past the end. */
static const char *level(const char *topic, int i, size_t *len)
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

static bool is(const char *s, size_t len, const char *word)
{
	return len == strlen(word) && strncmp(s, word, len) == 0;
}

enum reach { REACH_NONE, REACH_ONE, REACH_ALL };

/* Which things' jobs topics a topic (or filter) reaches: none, one (its name in
 * *thing), or all (a wildcard where the thing goes). Wildcards in the first level
 * never match $-topics, so only filters starting with "$aws" can reach. */
static enum reach jobs_reach(const char *topic, bool filter, const char **thing, size_t *thing_len)
{
	size_t l0, l1, l2, l3;
	const char *s0 = level(topic, 0, &l0);
	if(!is(s0, l0, "$aws")) return REACH_NONE;
	const char *s1 = level(topic, 1, &l1);
	if(!s1) return REACH_NONE;
	if(filter && is(s1, l1, "#")) return REACH_ALL;
	if(!is(s1, l1, "things") && !(filter && is(s1, l1, "+"))) return REACH_NONE;
	const char *s2 = level(topic, 2, &l2);
	if(!s2) return REACH_NONE;
	const char *s3 = level(topic, 3, &l3);
	bool wild_thing = filter && (is(s2, l2, "+") || is(s2, l2, "#"));
	if(filter && is(s2, l2, "#")) return REACH_ALL;
	if(!s3) return REACH_NONE;
	if(!is(s3, l3, "jobs") && !(filter && (is(s3, l3, "+") || is(s3, l3, "#")))) return REACH_NONE;
	if(wild_thing) return REACH_ALL;
	*thing = s2;
	*thing_len = l2;
	return REACH_ONE;
}

bool access_is_operator(const struct access_config *cfg, const char *identity)
{
	if(cfg->any_operator) return true;
	return access_identity_valid(identity) && in_list(cfg->operators, identity, strlen(identity));
}

enum access_result access_decide(const struct access_config *cfg, const char *identity,
		const char *topic, enum access_kind kind)
{
	enum access_result other = cfg->allow_other_topics ? ACCESS_ALLOW : ACCESS_DEFER;
	bool filter = kind == ACCESS_SUBSCRIBE;
	/* A shared subscription reaches what its filter after $share/<group>/ reaches. */
	if(filter && strncmp(topic, "$share/", 7) == 0){
		const char *slash = strchr(topic + 7, '/');
		if(!slash) return other;
		topic = slash + 1;
	}

	if(strncmp(topic, CONTROL_PREFIX, strlen(CONTROL_PREFIX)) == 0
			|| (filter && strncmp(topic, "$CONTROL/", 9) == 0 && (topic[9] == '#' || topic[9] == '+'))){
		if(cfg->control_by_broker) return ACCESS_DEFER;
		return access_is_operator(cfg, identity) ? ACCESS_ALLOW : ACCESS_DENY;
	}
	if(!cfg->isolation) return other;

	const char *thing = NULL;
	size_t len = 0;
	switch(jobs_reach(topic, filter, &thing, &len)){
	case REACH_NONE:
		return other;
	case REACH_ALL:
		return access_identity_valid(identity) && holds_all(cfg, identity) ? ACCESS_ALLOW : ACCESS_DENY;
	case REACH_ONE:
		break;
	}
	if(!access_identity_valid(identity)) return ACCESS_DENY;
	return holds(cfg, identity, thing, len) ? ACCESS_ALLOW : ACCESS_DENY;
}
