/* Access rules on things and the management API: thing isolation, grants, operators. */
#include "core/access.h"

#include <string.h>

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


enum access_result access_decide_other(const struct access_config *cfg)
{
	return cfg->allow_other_topics ? ACCESS_ALLOW : ACCESS_DEFER;
}

enum access_result access_decide_thing_n(const struct access_config *cfg, const char *identity,
		const char *thing, size_t len)
{
	if(!cfg->isolation) return access_decide_other(cfg);
	return decide_thing(cfg, identity, thing, len);
}

enum access_result access_decide_thing(const struct access_config *cfg, const char *identity, const char *thing)
{
	return access_decide_thing_n(cfg, identity, thing, strlen(thing));
}

enum access_result access_decide_every_thing(const struct access_config *cfg, const char *identity)
{
	if(!cfg->isolation) return access_decide_other(cfg);
	return access_identity_valid(identity) && holds_all(cfg, identity) ? ACCESS_ALLOW : ACCESS_DENY;
}

enum access_result access_decide_control(const struct access_config *cfg, const char *identity)
{
	if(cfg->control_by_broker) return ACCESS_DEFER;
	return access_is_operator(cfg, identity) ? ACCESS_ALLOW : ACCESS_DENY;
}
