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

#include "config/config.h"   /* struct access_config: the options, parsed there */
#include "util/names.h"

enum access_kind { ACCESS_READ, ACCESS_WRITE, ACCESS_SUBSCRIBE };
enum access_result { ACCESS_DEFER = 0, ACCESS_ALLOW, ACCESS_DENY };

/* Whether an identity may be used at all: present, and free of '+', '#' and '/'
 * (names_identity_valid, the rule the options are parsed with). */
static inline bool access_identity_valid(const char *identity)
{
	return names_identity_valid(identity);
}

/* The decision for `identity` (NULL when the client has none) on `topic` (a topic, or a
 * filter for ACCESS_SUBSCRIBE). */
enum access_result access_decide(const struct access_config *cfg, const char *identity,
		const char *topic, enum access_kind kind);

/* Whether the identity is an operator of the management API under the plugin's own
 * rule (ignores control_by_broker). */
bool access_is_operator(const struct access_config *cfg, const char *identity);

#endif
