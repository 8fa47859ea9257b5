/* Access decisions (access_decide, over options read by config_set) against an oracle written apart from
 * access.c: the target parses the options and the topic itself and checks that
 *   - only an operator (plugin_opt_operators: its name, or *) is ever allowed on a
 *     $CONTROL/jobs/... topic, or a filter that can match one;
 *   - with isolation on, an identity is allowed on a topic or filter that can match a
 *     jobs topic of thing T ($aws/things/T/jobs and below) only when it is T or holds a
 *     grant for T (or the * grant); a filter with a wildcard where the thing goes needs
 *     the * grant;
 *   - a client without a valid identity is never allowed on either.
 *
 * Input: text lines.
 *   line 1: KIND IDENTITY   KIND is r (receive), w (publish) or s (subscribe); IDENTITY
 *                          "-" for none (a client without one), else taken as is
 *   line 2: the topic (or subscription filter)
 *   lines 3-: options as plugin_opt_KEY VALUE lines without the prefix ("isolation off",
 *           "grant_dev t1 t2", "operators admin,ops", "control_access broker",
 *           "other_topics allow", or anything else): each goes to config_set; the
 *           oracle learns the ones it accepts, by its own reading of them.
 * The oracle's own reading keeps every grant line for an identity (access.c may
 * honour only some): so it only checks that nothing beyond them is allowed. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "mqtt/topic_access.h"

/* What the oracle knows of the configuration. */
struct model {
	bool isolation, control_by_broker;
	bool any_operator;
	char **operators;
	size_t noperators;
	struct grant { char *identity, *thing; } *grants; /* thing "*" for all */
	size_t ngrants;
};

static void model_free(struct model *m)
{
	for(size_t i = 0; i < m->noperators; i++) free(m->operators[i]);
	for(size_t i = 0; i < m->ngrants; i++){
		free(m->grants[i].identity);
		free(m->grants[i].thing);
	}
	free(m->operators);
	free(m->grants);
}

static char *dup_or_die(const char *s)
{
	char *p = strdup(s);
	if(!p) abort();
	return p;
}

static bool sep(char c)
{
	return c == ' ' || c == ',' || c == '\t';
}

/* Calls fn for each item of a space/comma/tab separated list. */
static void each_item(const char *v, void (*fn)(struct model *, const char *, const char *), struct model *m,
		const char *arg)
{
	while(*v){
		while(*v && sep(*v)) v++;
		const char *s = v;
		while(*v && !sep(*v)) v++;
		if(v > s){
			char *item = strndup(s, (size_t)(v - s));
			if(!item) abort();
			fn(m, item, arg);
			free(item);
		}
	}
}

static void add_operator(struct model *m, const char *item, const char *arg)
{
	(void)arg;
	if(strcmp(item, "*") == 0) m->any_operator = true;
	else{
		char **grown = realloc(m->operators, (m->noperators + 1) * sizeof(*grown));
		if(!grown) abort();
		m->operators = grown;
		m->operators[m->noperators++] = dup_or_die(item);
	}
}

static void add_grant(struct model *m, const char *item, const char *identity)
{
	struct grant *grown = realloc(m->grants, (m->ngrants + 1) * sizeof(*grown));
	if(!grown) abort();
	m->grants = grown;
	m->grants[m->ngrants].identity = dup_or_die(identity);
	m->grants[m->ngrants].thing = dup_or_die(item);
	m->ngrants++;
}

/* The oracle's reading of an option config_set accepted. */
static void learn(struct model *m, const char *key, const char *value)
{
	if(strcmp(key, "isolation") == 0) m->isolation = strcmp(value, "on") == 0;
	else if(strcmp(key, "control_access") == 0) m->control_by_broker = strcmp(value, "broker") == 0;
	else if(strcmp(key, "operators") == 0){
		/* a later operators line replaces the earlier one */
		for(size_t i = 0; i < m->noperators; i++) free(m->operators[i]);
		m->noperators = 0;
		m->any_operator = false;
		each_item(value, add_operator, m, NULL);
	}else if(strncmp(key, "grant_", 6) == 0){
		each_item(value, add_grant, m, key + 6);
	}
}

static bool valid_identity(const char *id)
{
	if(!id || !*id) return false;
	for(const char *p = id; *p; p++){
		if(*p == '+' || *p == '#' || *p == '/') return false;
	}
	return true;
}

static bool is_operator(const struct model *m, const char *id)
{
	if(m->any_operator) return true;
	if(!valid_identity(id)) return false;
	for(size_t i = 0; i < m->noperators; i++){
		if(strcmp(m->operators[i], id) == 0) return true;
	}
	return false;
}

/* Whether id may touch thing (NULL: every thing, which only the * grant gives). */
static bool may(const struct model *m, const char *id, const char *thing)
{
	if(!valid_identity(id)) return false;
	if(thing && strcmp(id, thing) == 0) return true;
	for(size_t i = 0; i < m->ngrants; i++){
		if(strcmp(m->grants[i].identity, id) != 0) continue;
		if(strcmp(m->grants[i].thing, "*") == 0) return true;
		if(thing && strcmp(m->grants[i].thing, thing) == 0) return true;
	}
	return false;
}

/* A topic split into levels (pointers into a copy). */
struct levels {
	char *copy;
	char *level[64];
	size_t n;
	bool more;   /* more than 64 levels */
};

static void split_levels(const char *topic, struct levels *l)
{
	l->copy = strdup(topic);
	if(!l->copy) abort();
	l->n = 0;
	l->more = false;
	char *p = l->copy;
	for(;;){
		if(l->n == 64){
			l->more = true;
			break;
		}
		l->level[l->n++] = p;
		char *slash = strchr(p, '/');
		if(!slash) break;
		*slash = '\0';
		p = slash + 1;
	}
}

/* Whether filter level f (a whole level "+" or "#" is a wildcard) can match the
 * literal level want; "#" also matches everything below. */
static bool level_matches(const char *f, const char *want, bool filter)
{
	if(filter && (strcmp(f, "+") == 0 || strcmp(f, "#") == 0)) return true;
	return strcmp(f, want) == 0;
}

/* Which jobs topics a topic or filter can reach: none (false), or those of one thing
 * (*thing set, borrowed from l) or of every thing (*thing NULL). Jobs topics are
 * $aws/things/T/jobs and everything below it. Wildcards never match a first level
 * starting with '$', so the first level must be "$aws" itself. */
static bool reaches_things(const struct levels *l, bool filter, const char **thing)
{
	*thing = NULL;
	static const char *const want[] = { "$aws", "things", NULL, "jobs" };
	for(size_t i = 0; i < 4; i++){
		if(i >= l->n) return false;            /* the topic ends above a jobs topic */
		const char *f = l->level[i];
		if(filter && strcmp(f, "#") == 0) return i > 0;  /* "#" as the first level: not $-topics */
		if(i == 0 && strcmp(f, "$aws") != 0) return false;
		if(i == 2){
			/* "+" where the thing goes: every thing (the levels below must still match) */
			*thing = filter && strcmp(f, "+") == 0 ? NULL : f;
			continue;
		}
		if(!level_matches(f, want[i], filter)) return false;
	}
	return true;
}

/* Whether a topic or filter can reach a $CONTROL/jobs/... topic. */
static bool reaches_control(const struct levels *l, bool filter)
{
	if(l->n < 2 || strcmp(l->level[0], "$CONTROL") != 0) return false;
	if(filter && strcmp(l->level[1], "#") == 0) return true;
	if(!level_matches(l->level[1], "jobs", filter)) return false;
	/* $CONTROL/jobs/<anything>: a third level, or a "#" at the second */
	return l->n >= 3 || (filter && strcmp(l->level[1], "#") == 0);
}

static void fail(const char *what, const char *identity, const char *topic, int kind, int result)
{
	fprintf(stderr, "fuzz_access: %s\n  identity: %s\n  topic: %s\n  kind: %d  result: %d\n", what,
			identity ? identity : "(none)", topic, kind, result);
	abort();
}

/* The next line of the input (a NUL-terminated copy), or NULL at the end. */
static char *next_line(const char **p, const char *end)
{
	if(*p >= end) return NULL;
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t n = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
	char *line = malloc(n + 1);
	if(!line) abort();
	memcpy(line, *p, n);
	line[n] = '\0';
	*p += n + (nl ? 1 : 0);
	return line;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	char *head = next_line(&p, end);
	if(!head) return 0;
	char *topic = next_line(&p, end);
	if(!topic || strlen(head) < 2 || head[1] != ' '){
		free(head);
		free(topic);
		return 0;
	}
	enum access_kind kind = head[0] == 'r' ? ACCESS_READ : head[0] == 'w' ? ACCESS_WRITE : ACCESS_SUBSCRIBE;
	const char *identity = strcmp(head + 2, "-") == 0 ? NULL : head + 2;

	struct jobs_config cfg;
	struct model m = { .isolation = true };
	char err[512];
	if(config_parse(NULL, 0, &cfg, err, sizeof(err))) fail("the defaults were refused", err, "", 0, -1);
	for(char *line; (line = next_line(&p, end)) != NULL;){
		char *sp = strchr(line, ' ');
		const char *value = sp ? sp + 1 : "";
		if(sp) *sp = '\0';
		err[0] = '\0';
		int rc = config_set(&cfg, line, value, err, sizeof(err));
		if(rc == 0) learn(&m, line, value);
		else if(rc == -1 && !err[0]) fail("an option was refused without a message", line, value, 0, rc);
		else if(rc != -1) fail("config_set returned something else than 0 or -1", line, value, 0, rc);
		free(line);
	}

	enum access_result r = access_decide(&cfg.access, identity, topic, kind);
	bool filter = kind == ACCESS_SUBSCRIBE;
	const char *t = topic;
	if(filter && strncmp(t, "$share/", 7) == 0){
		/* $share/<group>/<filter>: the filter is what reaches */
		const char *slash = strchr(t + 7, '/');
		t = slash ? slash + 1 : "";
	}
	struct levels l;
	split_levels(t, &l);
	if(r == ACCESS_ALLOW){
		if(reaches_control(&l, filter) && !is_operator(&m, identity)){
			fail("a non-operator is allowed on the management API's topics", identity, topic, (int)kind, (int)r);
		}
		const char *thing;
		if(m.isolation && reaches_things(&l, filter, &thing) && !may(&m, identity, thing)){
			fail(thing ? "allowed on a thing it neither is nor holds a grant for"
					: "allowed on every thing's jobs topics without the * grant", identity, topic, (int)kind, (int)r);
		}
	}
	if(r == ACCESS_ALLOW && m.control_by_broker && reaches_control(&l, filter)){
		fail("allowed on the management API although its ACL is the broker's", identity, topic, (int)kind, (int)r);
	}
	if(r != ACCESS_ALLOW && r != ACCESS_DENY && r != ACCESS_DEFER) fail("unknown result", identity, topic, (int)kind, (int)r);
	/* The operator rule stands alone too. */
	bool op = access_is_operator(&cfg.access, identity);
	if(op != is_operator(&m, identity)) fail("access_is_operator disagrees with plugin_opt_operators", identity, topic, op, 0);

	free(l.copy);
	model_free(&m);
	config_free(&cfg);
	free(head);
	free(topic);
	return 0;
}
