/* Jobs-topic access rules: thing isolation, grants, operators. */
#include "core/access.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/names.h"

#define CONTROL_PREFIX "$CONTROL/jobs/"

bool access_identity_valid(const char *identity)
{
	return identity && *identity && !strpbrk(identity, "+#/");
}

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

/* The decision on one thing's jobs topics, with isolation on. */
static enum access_result decide_thing(const struct access_config *cfg, const char *identity,
		const char *thing, size_t len)
{
	if(!access_identity_valid(identity)) return ACCESS_DENY;
	return holds(cfg, identity, thing, len) ? ACCESS_ALLOW : ACCESS_DENY;
}


enum access_result access_decide_thing(const struct access_config *cfg, const char *identity, const char *thing)
{
	if(!cfg->isolation) return cfg->allow_other_topics ? ACCESS_ALLOW : ACCESS_DEFER;
	return decide_thing(cfg, identity, thing, strlen(thing));
}

enum access_result access_decide_control(const struct access_config *cfg, const char *identity)
{
	if(cfg->control_by_broker) return ACCESS_DEFER;
	return access_is_operator(cfg, identity) ? ACCESS_ALLOW : ACCESS_DENY;
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
		return access_decide_control(cfg, identity);
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
	return decide_thing(cfg, identity, thing, len);
}

/* ---- options ---- */

static void free_list(char **list)
{
	for(char **p = list; p && *p; p++) free(*p);
	free(list);
}

/* Splits a space- or comma-separated list into a NULL-terminated array. */
static char **split(const char *value, size_t *count)
{
	char *copy = strdup(value);
	if(!copy) return NULL;
	size_t n = 0, cap = 4;
	char **list = calloc(cap + 1, sizeof(*list));
	char *save = NULL;
	for(char *tok = strtok_r(copy, " ,\t", &save); list && tok; tok = strtok_r(NULL, " ,\t", &save)){
		if(n == cap){
			char **grown = realloc(list, (cap * 2 + 1) * sizeof(*list));
			if(!grown){
				free_list(list);
				list = NULL;
				break;
			}
			list = grown;
			cap *= 2;
		}
		list[n] = strdup(tok);
		list[++n] = NULL;
	}
	free(copy);
	if(count) *count = n;
	return list;
}

static int on_off(const char *key, const char *value, bool *out, const char *on, const char *off,
		char *err, size_t errlen)
{
	if(strcmp(value, on) == 0) *out = true;
	else if(strcmp(value, off) == 0) *out = false;
	else{
		snprintf(err, errlen, "plugin_opt_%s must be '%s' or '%s', not '%s'", key, on, off, value);
		return -1;
	}
	return 1;
}

int access_option(struct access_config *cfg, const char *key, const char *value, char *err, size_t errlen)
{
	if(strcmp(key, "identity") == 0){
		if(strcmp(value, "clientid") == 0) cfg->identity = IDENTITY_CLIENTID;
		else if(strcmp(value, "username") == 0) cfg->identity = IDENTITY_USERNAME;
		else if(strcmp(value, "cert_cn") == 0) cfg->identity = IDENTITY_CERT_CN;
		else{
			snprintf(err, errlen, "plugin_opt_identity must be clientid, username or cert_cn, not '%s'", value);
			return -1;
		}
		return 1;
	}
	if(strcmp(key, "isolation") == 0) return on_off(key, value, &cfg->isolation, "on", "off", err, errlen);
	if(strcmp(key, "other_topics") == 0) return on_off(key, value, &cfg->allow_other_topics, "allow", "defer", err, errlen);
	if(strcmp(key, "control_access") == 0) return on_off(key, value, &cfg->control_by_broker, "broker", "operators", err, errlen);
	if(strcmp(key, "operators") == 0){
		size_t n;
		char **list = split(value, &n);
		if(!list || n == 0){
			free_list(list);
			snprintf(err, errlen, "plugin_opt_operators needs identities, or *");
			return -1;
		}
		bool any = false;
		for(size_t i = 0; i < n; i++){
			if(strcmp(list[i], "*") == 0) any = true;
			else if(!access_identity_valid(list[i])){
				snprintf(err, errlen, "plugin_opt_operators: identity '%s' may not hold '+', '#' or '/'", list[i]);
				free_list(list);
				return -1;
			}
		}
		/* a later line replaces an earlier one whole, its * included */
		free_list(cfg->operators);
		cfg->operators = list;
		cfg->any_operator = any;
		return 1;
	}
	if(strncmp(key, "grant_", 6) == 0){
		const char *identity = key + 6;
		size_t n;
		if(!access_identity_valid(identity)){
			snprintf(err, errlen, "plugin_opt_%s: an identity may not be empty or hold '+', '#' or '/'", key);
			return -1;
		}
		char **things = split(value, &n);
		if(!things || n == 0){
			free_list(things);
			snprintf(err, errlen, "plugin_opt_%s needs thing names, or *", key);
			return -1;
		}
		bool all = false;
		for(size_t i = 0; i < n; i++){
			if(strcmp(things[i], "*") == 0) all = true;
			else if(!names_thing_valid(things[i], strlen(things[i]))){
				snprintf(err, errlen, "plugin_opt_%s: '%s' is not a thing name", key, things[i]);
				free_list(things);
				return -1;
			}
		}
		struct access_grant *grown = realloc(cfg->grants, (cfg->grant_count + 1) * sizeof(*grown));
		char *id = strdup(identity);
		if(!grown || !id){
			free(id);
			if(grown) cfg->grants = grown;
			free_list(things);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		cfg->grants = grown;
		cfg->grants[cfg->grant_count++] = (struct access_grant){ .identity = id, .things = all ? NULL : things, .all = all };
		if(all) free_list(things);
		return 1;
	}
	return 0;
}

void access_config_free(struct access_config *cfg)
{
	free_list(cfg->operators);
	for(size_t i = 0; i < cfg->grant_count; i++){
		free(cfg->grants[i].identity);
		free_list(cfg->grants[i].things);
	}
	free(cfg->grants);
	memset(cfg, 0, sizeof(*cfg));
}
