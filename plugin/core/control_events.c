/* Management commands on the event configurations: updateEventConfigurations and
 * describeEventConfigurations, as AWS's iot API has them (events.h says which events
 * they switch). */
#include <string.h>

#include "core/control_internal.h"
#include "core/events.h"
#include "core/shapes.h"

/* Each member of eventConfigurations: an event type AWS knows, and {"Enabled": bool}
 * (Enabled left out: false). Checked whole before anything is written. */
static int check_configurations(struct control_ctx *c, const cJSON *map)
{
	const cJSON *item;
	cJSON_ArrayForEach(item, map){
		enum event_type type;
		if(!events_type_parse(item->string, &type)){
			return control_fail(c, "InvalidRequestException", "eventConfigurations: '%.64s' is not an event type: one "
					"of THING, THING_GROUP, THING_TYPE, THING_GROUP_MEMBERSHIP, THING_GROUP_HIERARCHY, "
					"THING_TYPE_ASSOCIATION, JOB, JOB_EXECUTION, POLICY, CERTIFICATE, CA_CERTIFICATE", item->string);
		}
		if(!cJSON_IsObject(item)){
			return control_fail(c, "InvalidRequestException", "eventConfigurations.%s must be an object {\"Enabled\": "
					"true|false}", item->string);
		}
		const cJSON *enabled = cJSON_GetObjectItemCaseSensitive(item, "Enabled");
		if(enabled && !cJSON_IsBool(enabled) && !cJSON_IsNull(enabled)){
			return control_fail(c, "InvalidRequestException", "eventConfigurations.%s.Enabled must be a boolean",
					item->string);
		}
	}
	return 0;
}

int control_update_event_configurations(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	(void)data;
	struct jf_error err;
	const cJSON *map = NULL;
	if(jf_object(cmd, "eventConfigurations", &map, &err) == JF_BAD) return control_fail_invalid(c, &err);
	if(!map || !map->child) return 0;
	if(check_configurations(c, map)) return -1;
	const cJSON *item;
	cJSON_ArrayForEach(item, map){
		bool on = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(item, "Enabled"));
		if(store_event_config_set(c->svc->store, item->string, on, c->now) != STORE_OK) return control_fail_store(c);
	}
	return events_changed(c->svc) == 0 ? 0 : control_fail_store(c);
}

int control_describe_event_configurations(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	(void)cmd;
	const struct event_configs *cfg = events_configs(c->svc);
	cJSON *map = cJSON_AddObjectToObject(data, "eventConfigurations");
	bool ok = map != NULL;
	for(int t = 0; ok && t < EVENT_TYPE_COUNT; t++){
		cJSON *one = cJSON_AddObjectToObject(map, events_type_name(t));
		ok = one && cJSON_AddBoolToObject(one, "Enabled", cfg->enabled[t]);
	}
	if(ok && cfg->created_at) ok = shapes_add_int(data, "creationDate", cfg->created_at);
	if(ok && cfg->updated_at) ok = shapes_add_int(data, "lastModifiedDate", cfg->updated_at);
	/* what was added goes with data (control_run deletes it) */
	return ok ? 0 : control_fail(c, "InternalFailureException", "out of memory");
}
