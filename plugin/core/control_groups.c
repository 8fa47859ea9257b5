/* Management commands on thing groups: createThingGroup, deleteThingGroup,
 * addThingToThingGroup, removeThingFromThingGroup, listThingsInThingGroup,
 * listThingGroups. Membership changes reach continuous jobs through fleet.c. */
#include <stdlib.h>
#include <string.h>

#include "core/control_internal.h"

#define GROUP_DESCRIPTION_MAX 2028

static int load_group(struct control_ctx *c, const char *name, struct store_group *g)
{
	int rc = store_group_get(c->svc->store, name, g);
	if(rc == STORE_NOT_FOUND) return control_fail(c, "ResourceNotFoundException", "thing group %s does not exist", name);
	return rc == STORE_OK ? 0 : control_fail_store(c);
}

static void add_group_ids(struct control_ctx *c, cJSON *data, const char *name)
{
	cJSON_AddStringToObject(data, "thingGroupName", name);
	control_add_arn(c, data, "thingGroupArn", "thinggroup", name);
	cJSON_AddStringToObject(data, "thingGroupId", name);
}

int control_create_thing_group(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	struct jf_error err;
	struct store_group g = { .created_at = c->now };
	const cJSON *props = NULL;
	const char *description = NULL;
	if(control_name(c, cmd, "thingGroupName", g.name)
			|| (jf_object(cmd, "thingGroupProperties", &props, &err) == JF_BAD && control_fail_invalid(c, &err))
			|| (props && control_text(c, props, "thingGroupDescription", GROUP_DESCRIPTION_MAX, &description))){
		return -1;
	}
	g.description = (char *)description;
	struct store_group existing;
	int rc = store_group_get(c->svc->store, g.name, &existing);
	if(rc == STORE_OK){
		/* Creating the same group again is a no-op, as in AWS; with other properties it
		 * is a conflict. */
		bool same = (!existing.description && !description)
			|| (existing.description && description && strcmp(existing.description, description) == 0);
		store_group_free(&existing);
		if(!same) return control_fail(c, "ResourceAlreadyExistsException", "thing group %s already exists", g.name);
	}else if(rc != STORE_NOT_FOUND || store_group_insert(c->svc->store, &g) != STORE_OK){
		return control_fail_store(c);
	}
	add_group_ids(c, data, g.name);
	return 0;
}

int control_delete_thing_group(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	(void)data;
	enum { BATCH = 1000 };
	char name[JOBS_THING_NAME_MAX + 1];
	struct store_group g;
	if(control_name(c, cmd, "thingGroupName", name)) return -1;
	int rc = store_group_get(c->svc->store, name, &g);
	if(rc == STORE_NOT_FOUND) return 0; /* deleting a missing group succeeds, as in AWS */
	if(rc != STORE_OK) return control_fail_store(c);
	store_group_free(&g);
	/* Every member leaves first, so continuous jobs remove their executions. */
	for(;;){
		struct store_name *things;
		size_t n;
		if(store_member_list(c->svc->store, name, 0, BATCH, &things, &n) != STORE_OK) return control_fail_store(c);
		for(size_t i = 0; i < n && rc == STORE_OK; i++){
			if(store_member_remove(c->svc->store, name, things[i].name) != STORE_OK
					|| fleet_thing_left(c->svc, name, things[i].name, c->now_ms) != 0){
				rc = STORE_ERROR;
			}
		}
		free(things);
		if(rc != STORE_OK) return control_fail_store(c);
		if(n < BATCH) break;
	}
	return store_group_delete(c->svc->store, name) == STORE_OK ? 0 : control_fail_store(c);
}

/* thingGroupName and thingName of a membership command; the group must exist. */
static int membership(struct control_ctx *c, const cJSON *cmd, char *group, char *thing)
{
	struct store_group g;
	if(control_name(c, cmd, "thingGroupName", group) || control_name(c, cmd, "thingName", thing)
			|| load_group(c, group, &g)){
		return -1;
	}
	store_group_free(&g);
	return 0;
}

int control_add_thing_to_thing_group(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	(void)data;
	char group[JOBS_THING_NAME_MAX + 1], thing[JOBS_THING_NAME_MAX + 1];
	if(membership(c, cmd, group, thing) || control_registered_thing(c, thing)) return -1;
	int rc = store_member_add(c->svc->store, group, thing, c->now);
	if(rc == STORE_EXISTS) return 0;
	if(rc != STORE_OK || fleet_thing_joined(c->svc, group, thing, c->now_ms) != 0) return control_fail_store(c);
	return 0;
}

int control_remove_thing_from_thing_group(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	(void)data;
	char group[JOBS_THING_NAME_MAX + 1], thing[JOBS_THING_NAME_MAX + 1];
	if(membership(c, cmd, group, thing)) return -1;
	int rc = store_member_remove(c->svc->store, group, thing);
	if(rc == STORE_NOT_FOUND) return 0;
	if(rc != STORE_OK || fleet_thing_left(c->svc, group, thing, c->now_ms) != 0) return control_fail_store(c);
	return 0;
}

int control_list_things_in_thing_group(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	char group[JOBS_THING_NAME_MAX + 1];
	struct control_page page;
	struct store_group g;
	if(control_name(c, cmd, "thingGroupName", group) || control_page(c, cmd, &page) || load_group(c, group, &g)){
		return -1;
	}
	store_group_free(&g);
	struct store_name *things;
	size_t n;
	if(store_member_list(c->svc->store, group, page.offset, page.limit + 1, &things, &n) != STORE_OK){
		return control_fail_store(c);
	}
	cJSON *list = cJSON_AddArrayToObject(data, "things");
	for(size_t i = 0; list && i < n && i < (size_t)page.limit; i++){
		cJSON_AddItemToArray(list, cJSON_CreateString(things[i].name));
	}
	control_page_next(data, &page, n);
	free(things);
	return 0;
}

int control_list_thing_groups(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	struct jf_error err;
	struct control_page page;
	const char *prefix = NULL;
	if((jf_string(cmd, "namePrefixFilter", &prefix, &err) == JF_BAD && control_fail_invalid(c, &err))
			|| control_page(c, cmd, &page)){
		return -1;
	}
	struct store_group *groups;
	size_t n;
	if(store_group_list(c->svc->store, prefix, page.offset, page.limit + 1, &groups, &n) != STORE_OK){
		return control_fail_store(c);
	}
	cJSON *list = cJSON_AddArrayToObject(data, "thingGroups");
	for(size_t i = 0; list && i < n && i < (size_t)page.limit; i++){
		if(!control_add_group_entry(c, list, groups[i].name)) break;
	}
	control_page_next(data, &page, n);
	store_group_array_free(groups, n);
	return 0;
}
