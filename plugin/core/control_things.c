/* Management commands on the registry of things: createThing, describeThing,
 * updateThing, deleteThing, listThings, listThingGroupsForThing; and whether a thing
 * name must be registered (plugin_opt_require_registered_things) where jobs and groups
 * take one. Thing types are names kept with the thing: there is no registry of types,
 * so any valid type name is taken. A deleted thing leaves its groups through fleet.c,
 * as deleteThingGroup's members do; its job executions stay. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/control_internal.h"
#include "util/names.h"
#include "util/uuid.h"

/* AWS's limits: attributes of a thing without a type, and of one with a type. */
#define ATTRIBUTES_UNTYPED_MAX 3
#define ATTRIBUTES_TYPED_MAX 50

static int load_thing(struct control_ctx *c, const char *name, struct store_thing *t)
{
	int rc = store_thing_get(c->svc->store, name, t);
	if(rc == STORE_NOT_FOUND) return control_fail(c, "ResourceNotFoundException", "thing %s does not exist", name);
	return rc == STORE_OK ? 0 : control_fail_store(c);
}

int control_registered_thing(struct control_ctx *c, const char *name)
{
	if(!c->svc->require_registered_things) return 0;
	struct store_thing t;
	if(load_thing(c, name, &t)) return -1;
	store_thing_free(&t);
	return 0;
}

/* An optional thingTypeName (*out NULL when absent). */
static int type_name(struct control_ctx *c, const cJSON *cmd, const char **out)
{
	struct jf_error err;
	*out = NULL;
	if(jf_string(cmd, "thingTypeName", out, &err) == JF_BAD) return control_fail_invalid(c, &err);
	if(*out && !names_thing_valid(*out, strlen(*out))){
		return control_fail(c, "InvalidRequestException", "thingTypeName must be 1-128 characters of [a-zA-Z0-9:_-]");
	}
	return 0;
}

/* attributePayload: *attrs the checked attributes (NULL when the payload has none),
 * *merge its merge flag. */
static int attribute_payload(struct control_ctx *c, const cJSON *cmd, const cJSON **attrs, bool *merge)
{
	struct jf_error err;
	const cJSON *payload = NULL, *item;
	*attrs = NULL;
	*merge = false;
	if((jf_object(cmd, "attributePayload", &payload, &err) == JF_BAD
				|| (payload && (jf_object(payload, "attributes", attrs, &err) == JF_BAD
						|| jf_bool(payload, "merge", merge, &err) == JF_BAD)))){
		return control_fail_invalid(c, &err);
	}
	cJSON_ArrayForEach(item, *attrs){
		if(!names_attribute_name_valid(item->string, strlen(item->string))){
			return control_fail(c, "InvalidRequestException", "attribute name '%.130s' must be 1-128 characters of"
					" [a-zA-Z0-9_.,@/:#-]", item->string);
		}
		if(!cJSON_IsString(item)){
			return control_fail(c, "InvalidRequestException", "attribute %s must have a string value", item->string);
		}
		if(!names_attribute_value_valid(item->valuestring, strlen(item->valuestring))){
			return control_fail(c, "InvalidRequestException", "the value of attribute %s must be at most 800"
					" characters of [a-zA-Z0-9_.,@/:#=[]-]", item->string);
		}
	}
	return 0;
}

/* Sets the given attributes in `into` (replacing it first unless merging); an empty
 * value removes an attribute, as in AWS. */
static int apply_attributes(struct control_ctx *c, cJSON *into, const cJSON *attrs, bool merge)
{
	const cJSON *item;
	if(!merge){
		while(into->child) cJSON_Delete(cJSON_DetachItemViaPointer(into, into->child));
	}
	cJSON_ArrayForEach(item, attrs){
		cJSON_DeleteItemFromObjectCaseSensitive(into, item->string);
		if(item->valuestring[0] && !cJSON_AddStringToObject(into, item->string, item->valuestring)){
			return control_fail(c, "InternalFailureException", "out of memory");
		}
	}
	return 0;
}

static int check_attribute_count(struct control_ctx *c, const char *name, const cJSON *attrs, const char *type)
{
	int max = type ? ATTRIBUTES_TYPED_MAX : ATTRIBUTES_UNTYPED_MAX;
	if(cJSON_GetArraySize(attrs) <= max) return 0;
	return control_fail(c, "InvalidRequestException", "thing %s may have at most %d attributes %s", name, max,
			type ? "with a thing type" : "without a thing type (50 with one)");
}

/* The thing's attributes as an object (an empty one when none are stored). */
static cJSON *parse_attributes(const struct store_thing *t)
{
	cJSON *attrs = t->attributes ? cJSON_Parse(t->attributes) : NULL;
	if(!cJSON_IsObject(attrs)){
		cJSON_Delete(attrs);
		attrs = cJSON_CreateObject();
	}
	return attrs;
}

static bool same_text(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void add_thing_ids(struct control_ctx *c, cJSON *data, const struct store_thing *t)
{
	cJSON_AddStringToObject(data, "thingName", t->name);
	control_add_arn(c, data, "thingArn", "thing", t->name);
	cJSON_AddStringToObject(data, "thingId", t->thing_id);
}

int control_create_thing(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	struct jf_error err;
	struct store_thing t = { .version = 1, .created_at = c->now };
	const cJSON *given;
	const char *type, *billing = NULL;
	bool merge;
	if(control_name(c, cmd, "thingName", t.name) || type_name(c, cmd, &type)
			|| attribute_payload(c, cmd, &given, &merge)
			|| (jf_string(cmd, "billingGroupName", &billing, &err) == JF_BAD && control_fail_invalid(c, &err))){
		return -1;
	}
	/* no billing groups here: a name of one never exists */
	if(billing && !names_thing_valid(billing, strlen(billing))){
		return control_fail(c, "InvalidRequestException", "billingGroupName must be 1-128 characters of [a-zA-Z0-9:_-]");
	}
	if(billing) return control_fail(c, "ResourceNotFoundException", "billing group %s does not exist", billing);
	cJSON *attrs = cJSON_CreateObject();
	int rc = attrs ? apply_attributes(c, attrs, given, false) : control_fail(c, "InternalFailureException", "out of memory");
	if(rc == 0) rc = check_attribute_count(c, t.name, attrs, type);

	struct store_thing existing;
	int got = rc == 0 ? store_thing_get(c->svc->store, t.name, &existing) : STORE_ERROR;
	if(rc == 0 && got == STORE_OK){
		/* The same thing again is a no-op, as in AWS; with another type or other
		 * attributes it is a conflict. */
		cJSON *old = parse_attributes(&existing);
		bool same = same_text(existing.type_name, type) && old && cJSON_Compare(old, attrs, true);
		cJSON_Delete(old);
		if(same) add_thing_ids(c, data, &existing);
		else rc = control_fail(c, "ResourceAlreadyExistsException", "thing %s already exists with another configuration",
				t.name);
		store_thing_free(&existing);
	}else if(rc == 0 && got == STORE_NOT_FOUND){
		uuid_v4(t.thing_id);
		t.attributes = cJSON_PrintUnformatted(attrs);
		t.type_name = (char *)type;
		if(!t.attributes || store_thing_insert(c->svc->store, &t) != STORE_OK) rc = control_fail_store(c);
		else add_thing_ids(c, data, &t);
		free(t.attributes);
	}else if(rc == 0){
		rc = control_fail_store(c);
	}
	cJSON_Delete(attrs);
	return rc;
}

int control_describe_thing(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	char name[JOBS_THING_NAME_MAX + 1];
	struct store_thing t;
	if(control_name(c, cmd, "thingName", name) || load_thing(c, name, &t)) return -1;
	cJSON_AddStringToObject(data, "defaultClientId", t.name);
	add_thing_ids(c, data, &t);
	if(t.type_name) cJSON_AddStringToObject(data, "thingTypeName", t.type_name);
	cJSON *attrs = parse_attributes(&t);
	if(attrs) cJSON_AddItemToObject(data, "attributes", attrs);
	cJSON_AddNumberToObject(data, "version", (double)t.version);
	store_thing_free(&t);
	return 0;
}

/* expectedVersion, when given, must be the thing's version. */
static int check_version(struct control_ctx *c, const cJSON *cmd, const struct store_thing *t)
{
	struct jf_error err;
	long long expected = -1;
	if(jf_long(cmd, "expectedVersion", 0, INT64_MAX / 2, &expected, &err) == JF_BAD) return control_fail_invalid(c, &err);
	if(expected >= 0 && expected != t->version){
		return control_fail(c, "VersionConflictException", "expectedVersion %lld does not match version %lld of thing %s",
				expected, (long long)t->version, t->name);
	}
	return 0;
}

int control_update_thing(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	(void)data;
	struct jf_error err;
	char name[JOBS_THING_NAME_MAX + 1];
	const cJSON *given;
	const char *type;
	bool merge, remove_type = false;
	struct store_thing t;
	if(control_name(c, cmd, "thingName", name) || type_name(c, cmd, &type)
			|| attribute_payload(c, cmd, &given, &merge)
			|| (jf_bool(cmd, "removeThingType", &remove_type, &err) == JF_BAD && control_fail_invalid(c, &err))){
		return -1;
	}
	if(type && remove_type){
		return control_fail(c, "InvalidRequestException", "thingTypeName and removeThingType true cannot go together");
	}
	if(load_thing(c, name, &t)) return -1;
	int rc = check_version(c, cmd, &t);
	cJSON *attrs = rc == 0 ? parse_attributes(&t) : NULL;
	if(rc == 0 && !attrs) rc = control_fail(c, "InternalFailureException", "out of memory");
	if(rc == 0 && given) rc = apply_attributes(c, attrs, given, merge);
	if(rc == 0 && (type || remove_type)){
		free(t.type_name);
		t.type_name = NULL;
		if(type && !(t.type_name = strdup(type))) rc = control_fail(c, "InternalFailureException", "out of memory");
	}
	if(rc == 0) rc = check_attribute_count(c, name, attrs, t.type_name);
	if(rc == 0){
		char *text = cJSON_PrintUnformatted(attrs);
		free(t.attributes);
		t.attributes = text;
		t.version++;
		if(!text || store_thing_update(c->svc->store, &t) != STORE_OK) rc = control_fail_store(c);
	}
	cJSON_Delete(attrs);
	store_thing_free(&t);
	return rc;
}

int control_delete_thing(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	(void)data;
	enum { BATCH = 1000 };
	char name[JOBS_THING_NAME_MAX + 1];
	struct store_thing t;
	if(control_name(c, cmd, "thingName", name)) return -1;
	int rc = store_thing_get(c->svc->store, name, &t);
	if(rc == STORE_NOT_FOUND) return 0; /* deleting a missing thing succeeds, as in AWS */
	if(rc != STORE_OK) return control_fail_store(c);
	rc = check_version(c, cmd, &t);
	store_thing_free(&t);
	if(rc) return -1;
	/* It leaves its groups first, so continuous jobs remove their executions. */
	for(;;){
		struct store_name *groups;
		size_t n;
		if(store_thing_groups(c->svc->store, name, 0, BATCH, &groups, &n) != STORE_OK) return control_fail_store(c);
		for(size_t i = 0; i < n && rc == 0; i++){
			if(store_member_remove(c->svc->store, groups[i].name, name) != STORE_OK
					|| fleet_thing_left(c->svc, groups[i].name, name, c->now_ms) != 0){
				rc = -1;
			}
		}
		free(groups);
		if(rc) return control_fail_store(c);
		if(n < BATCH) break;
	}
	return store_thing_delete(c->svc->store, name) == STORE_OK ? 0 : control_fail_store(c);
}

int control_list_things(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	struct jf_error err;
	struct control_page page;
	struct store_thing_filter f = { 0 };
	if((jf_string(cmd, "attributeName", &f.attr_name, &err) == JF_BAD
				|| jf_string(cmd, "attributeValue", &f.attr_value, &err) == JF_BAD
				|| jf_bool(cmd, "usePrefixAttributeValue", &f.attr_prefix, &err) == JF_BAD)
			&& control_fail_invalid(c, &err)){
		return -1;
	}
	if(f.attr_name && !names_attribute_name_valid(f.attr_name, strlen(f.attr_name))){
		return control_fail(c, "InvalidRequestException", "attributeName must be 1-128 characters of [a-zA-Z0-9_.,@/:#-]");
	}
	if(f.attr_value && !names_attribute_value_valid(f.attr_value, strlen(f.attr_value))){
		return control_fail(c, "InvalidRequestException", "attributeValue must be at most 800 characters of"
				" [a-zA-Z0-9_.,@/:#=[]-]");
	}
	if(type_name(c, cmd, &f.type_name) || control_page(c, cmd, &page)) return -1;
	struct store_thing *things;
	size_t n;
	if(store_thing_list(c->svc->store, &f, page.offset, page.limit + 1, &things, &n) != STORE_OK){
		return control_fail_store(c);
	}
	cJSON *list = cJSON_AddArrayToObject(data, "things");
	for(size_t i = 0; list && i < n && i < (size_t)page.limit; i++){
		cJSON *o = cJSON_CreateObject();
		if(!o) break;
		cJSON_AddStringToObject(o, "thingName", things[i].name);
		if(things[i].type_name) cJSON_AddStringToObject(o, "thingTypeName", things[i].type_name);
		control_add_arn(c, o, "thingArn", "thing", things[i].name);
		cJSON *attrs = parse_attributes(&things[i]);
		if(attrs) cJSON_AddItemToObject(o, "attributes", attrs);
		cJSON_AddNumberToObject(o, "version", (double)things[i].version);
		cJSON_AddItemToArray(list, o);
	}
	control_page_next(data, &page, n);
	store_thing_array_free(things, n);
	return 0;
}

int control_list_thing_groups_for_thing(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	char name[JOBS_THING_NAME_MAX + 1];
	struct control_page page;
	if(control_name(c, cmd, "thingName", name) || control_page(c, cmd, &page) || control_registered_thing(c, name)){
		return -1;
	}
	struct store_name *groups;
	size_t n;
	if(store_thing_groups(c->svc->store, name, page.offset, page.limit + 1, &groups, &n) != STORE_OK){
		return control_fail_store(c);
	}
	cJSON *list = cJSON_AddArrayToObject(data, "thingGroups");
	for(size_t i = 0; list && i < n && i < (size_t)page.limit; i++){
		if(!control_add_group_entry(c, list, groups[i].name)) break;
	}
	control_page_next(data, &page, n);
	free(groups);
	return 0;
}
