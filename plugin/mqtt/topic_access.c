/* Access on MQTT topics: which thing's jobs topics (or the management API's) a topic or
 * a subscription filter reaches (mqtt/topic.c), decided by the access rules of
 * core/access.h. */
#include "mqtt/topic_access.h"

#include <string.h>

#include "mqtt/topic.h"

enum access_result access_decide(const struct access_config *cfg, const char *identity,
		const char *topic, enum access_kind kind)
{
	enum access_result other = access_decide_other(cfg);
	bool filter = kind == ACCESS_SUBSCRIBE;
	/* A shared subscription reaches what its filter after $share/<group>/ reaches. */
	if(filter && strncmp(topic, "$share/", 7) == 0){
		const char *slash = strchr(topic + 7, '/');
		if(!slash) return other;
		topic = slash + 1;
	}

	if(topic_reaches_control(topic, filter)) return access_decide_control(cfg, identity);
	/* the jobs events are read by whoever may use the management API; only the
	 * plugin publishes them */
	if(topic_reaches_job_events(topic, filter)){
		if(kind == ACCESS_WRITE) return cfg->control_by_broker ? ACCESS_DEFER : ACCESS_DENY;
		return access_decide_control(cfg, identity);
	}
	if(!cfg->isolation) return other;

	const char *thing = NULL;
	size_t len = 0;
	switch(topic_jobs_reach(topic, filter, &thing, &len)){
	case TOPIC_REACH_NONE:
		return other;
	case TOPIC_REACH_ALL:
		return access_decide_every_thing(cfg, identity);
	case TOPIC_REACH_ONE:
		break;
	}
	return access_decide_thing_n(cfg, identity, thing, len);
}
