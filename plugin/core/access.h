/* Who may act as which thing and use the management API (docs/security.md). Pure: the
 * adapter supplies the client's identity (client id, username or certificate CN, as
 * configured) and asks about one thing, every thing, or the management API; the MQTT
 * adapter maps topics and filters onto these questions (mqtt/topic_access.h), the HTTP
 * adapter its paths.
 *
 * - A thing's jobs: an identity may act only for the things it holds: the thing named
 *   like itself, plus those granted to it (plugin_opt_grant_<identity> T1 T2 ..., or *
 *   for every thing). Reaching every thing at once (a wildcard subscription where the
 *   thing name goes) needs the * grant.
 * - The management API: only the operators named (plugin_opt_operators), unless
 *   plugin_opt_control_access is `broker`: then the broker's own ACL decides (defer).
 * - Everything else, and things' jobs when plugin_opt_isolation is off: left to the
 *   rest of the broker's ACL (defer), or allowed (plugin_opt_other_topics allow) for
 *   brokers without another ACL source, where deferring denies everything. */
#ifndef MOSQUITTO_JOBS_ACCESS_H
#define MOSQUITTO_JOBS_ACCESS_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"   /* struct access_config: the options, parsed there */
#include "util/names.h"

enum access_result { ACCESS_DEFER = 0, ACCESS_ALLOW, ACCESS_DENY };

/* Whether an identity may be used at all: present, and free of '+', '#' and '/'
 * (names_identity_valid, the rule the options are parsed with). */
static inline bool access_identity_valid(const char *identity)
{
	return names_identity_valid(identity);
}

/* The decisions for `identity` (NULL when the client has none): acting for one thing
 * (its name, or its first len bytes), for every thing, on the management API, and on
 * anything else. */
enum access_result access_decide_thing(const struct access_config *cfg, const char *identity, const char *thing);
enum access_result access_decide_thing_n(const struct access_config *cfg, const char *identity,
		const char *thing, size_t len);
enum access_result access_decide_every_thing(const struct access_config *cfg, const char *identity);
enum access_result access_decide_control(const struct access_config *cfg, const char *identity);
enum access_result access_decide_other(const struct access_config *cfg);

/* Whether the identity is an operator of the management API under the plugin's own
 * rule (ignores control_by_broker). */
bool access_is_operator(const struct access_config *cfg, const char *identity);

#endif
