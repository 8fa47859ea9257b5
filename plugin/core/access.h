/* Who may touch which jobs topics (docs/security.md). Pure: the adapter supplies the
 * client's identity (client id, username or certificate CN, as configured) and asks
 * about one topic or subscription filter.
 *
 * - $aws/things/{T}/jobs/...: an identity may publish, receive and subscribe only for
 *   the things it holds: the thing named like itself, plus those granted to it
 *   (plugin_opt_grant_<identity> T1 T2 ..., or * for every thing). A subscription
 *   filter with a wildcard where the thing name goes reaches every thing, so it needs
 *   the * grant.
 * - $CONTROL/jobs/...: only the operators named (plugin_opt_operators), unless
 *   plugin_opt_control_access is `broker`: then the broker's own ACL decides.
 * - Everything else, and jobs topics when plugin_opt_isolation is off: left to the
 *   rest of the broker's ACL (defer), or allowed (plugin_opt_other_topics allow) for
 *   brokers without another ACL source, where deferring denies everything. */
#ifndef MOSQUITTO_JOBS_ACCESS_H
#define MOSQUITTO_JOBS_ACCESS_H

#include <stdbool.h>
#include <stddef.h>

enum access_kind { ACCESS_READ, ACCESS_WRITE, ACCESS_SUBSCRIBE };
enum access_result { ACCESS_DEFER = 0, ACCESS_ALLOW, ACCESS_DENY };
enum identity_source { IDENTITY_CLIENTID = 0, IDENTITY_USERNAME, IDENTITY_CERT_CN };

/* One plugin_opt_grant_<identity> line. */
struct access_grant {
	char *identity;
	char **things;      /* NULL-terminated; NULL when all */
	bool all;
};

struct access_config {
	enum identity_source identity;
	bool isolation;            /* the jobs namespace rules apply (default on) */
	bool allow_other_topics;   /* allow, rather than defer, everything else */
	bool control_by_broker;    /* $CONTROL/jobs: the broker's ACL decides */
	bool any_operator;         /* plugin_opt_operators * */
	char **operators;          /* NULL-terminated; may be NULL */
	struct access_grant *grants;
	size_t grant_count;
};

/* Whether an identity may be used at all: present, and free of '+', '#' and '/'. */
bool access_identity_valid(const char *identity);

/* The decision for `identity` (NULL when the client has none) on `topic` (a topic, or a
 * filter for ACCESS_SUBSCRIBE). */
enum access_result access_decide(const struct access_config *cfg, const char *identity,
		const char *topic, enum access_kind kind);

/* The same decisions, typed, for ways in without topics (the HTTP API): writing to
 * one thing's jobs topics (a device request as that thing), and to the management
 * API. */
enum access_result access_decide_thing(const struct access_config *cfg, const char *identity, const char *thing);
enum access_result access_decide_control(const struct access_config *cfg, const char *identity);

/* Whether the identity is an operator of the management API under the plugin's own
 * rule (ignores control_by_broker). */
bool access_is_operator(const struct access_config *cfg, const char *identity);

/* Option parsing, for config.c: returns 1 when `key` is an access option (0 when not
 * ours, -1 with err filled on a bad value). */
int access_option(struct access_config *cfg, const char *key, const char *value, char *err, size_t errlen);
void access_config_free(struct access_config *cfg);

#endif
