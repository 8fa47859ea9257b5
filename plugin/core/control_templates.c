/* Management commands on job templates: createJobTemplate, describeJobTemplate,
 * listJobTemplates, deleteJobTemplate, listManagedJobTemplates,
 * describeManagedJobTemplate; and what createJob takes from a template
 * (jobTemplateArn, documentParameters): the template's fields merged under the
 * command's own, so the rest of createJob runs as for any job. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/control_internal.h"
#include "core/docparams.h"
#include "core/managed_templates.h"
#include "core/policy.h"
#include "core/shapes.h"
#include "core/validate.h"
#include "util/names.h"

#define TEMPLATE_DESCRIPTION_MAX 2028
#define DOCUMENT_SOURCE_MAX 1350
#define MANAGED_NAME_MAX 64

/* The configs a template keeps, besides its document (CreateJobTemplate's fields). */
static const char *const config_fields[] = {
	"presignedUrlConfig", "jobExecutionsRolloutConfig", "abortConfig", "timeoutConfig",
	"jobExecutionsRetryConfig", "maintenanceWindows", "destinationPackageVersions", NULL,
};
/* The configs of a job that a template made from it (jobArn) copies. */
static const char *const job_config_fields[] = {
	"jobExecutionsRolloutConfig", "abortConfig", "timeoutConfig", "jobExecutionsRetryConfig", NULL,
};

static int template_id(struct control_ctx *c, const cJSON *cmd, char *out)
{
	return control_id(c, cmd, "jobTemplateId", out);
}

/* The resource of an ARN (what follows its fifth ':'), and its account (the fifth
 * field, possibly empty); NULL when it is no ARN. */
static const char *arn_resource(const char *arn, const char **account, size_t *account_len)
{
	if(strncmp(arn, "arn:", 4) != 0) return NULL;
	const char *p = arn;
	for(int i = 0; i < 5; i++){
		if(!(p = strchr(p, ':'))) return NULL;
		p++;
		if(i == 3) *account = p;
	}
	*account_len = (size_t)(p - 1 - *account);
	return p;
}

/* Replaces (or adds) obj[key] with item; item is owned by obj afterwards. */
static void put(cJSON *obj, const char *key, cJSON *item)
{
	if(!item) return;
	cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
	cJSON_AddItemToObject(obj, key, item);
}

/* ---- createJobTemplate ---- */

/* The document and configs of the job jobArn names. */
static int copy_job(struct control_ctx *c, const char *arn, cJSON *fields)
{
	const char *account;
	size_t account_len;
	const char *res = arn_resource(arn, &account, &account_len);
	if(!res || strncmp(res, "job/", 4) != 0){
		return control_fail(c, "InvalidRequestException", "jobArn %.200s is not a job ARN (arn:aws:iot:REGION:ACCOUNT:job/ID)", arn);
	}
	struct store_job job;
	int rc = names_job_id_valid(res + 4, strlen(res + 4)) ? store_job_get(c->svc->store, res + 4, &job) : STORE_NOT_FOUND;
	if(rc == STORE_NOT_FOUND) return control_fail(c, "ResourceNotFoundException", "job %.64s does not exist", res + 4);
	if(rc != STORE_OK) return control_fail_store(c);
	put(fields, "document", cJSON_CreateString(job.document));
	cJSON *policies = job.policies ? cJSON_Parse(job.policies) : NULL;
	for(int i = 0; job_config_fields[i]; i++){
		cJSON *f = cJSON_DetachItemFromObjectCaseSensitive(policies, job_config_fields[i]);
		if(f) put(fields, job_config_fields[i], f);
	}
	cJSON *windows = cJSON_DetachItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(policies, "schedulingConfig"),
			"maintenanceWindows");
	if(windows) put(fields, "maintenanceWindows", windows);
	cJSON_Delete(policies);
	store_job_free(&job);
	return 0;
}

/* The configs given, checked as createJob checks them. */
static int check_configs(struct control_ctx *c, const cJSON *cmd)
{
	struct jf_error err;
	struct parsed_policy pp;
	if(policy_parse(cmd, &pp, &err) != JF_OK) return control_fail_invalid(c, &err);
	policy_free(&pp);
	char *windows;
	if(policy_parse_windows(cmd, &windows, &err) != JF_OK) return control_fail_invalid(c, &err);
	free(windows);
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(cmd, "presignedUrlConfig");
	if(f && !cJSON_IsObject(f)) return control_fail(c, "InvalidRequestException", "presignedUrlConfig must be an object");
	f = cJSON_GetObjectItemCaseSensitive(cmd, "destinationPackageVersions");
	const cJSON *v;
	if(f && !cJSON_IsArray(f)) return control_fail(c, "InvalidRequestException", "destinationPackageVersions must be an array");
	cJSON_ArrayForEach(v, f){
		if(!cJSON_IsString(v)) return control_fail(c, "InvalidRequestException", "destinationPackageVersions must be strings");
	}
	return 0;
}

/* The document: given, from documentSource, or from the job (already in fields). */
static int template_document(struct control_ctx *c, const cJSON *cmd, cJSON *fields)
{
	struct jf_error err;
	const cJSON *doc = cJSON_GetObjectItemCaseSensitive(cmd, "document");
	const char *source = NULL;
	if(control_text(c, cmd, "documentSource", DOCUMENT_SOURCE_MAX, &source)) return -1;
	if(doc && cJSON_IsNull(doc)) doc = NULL;
	if(doc && source) return control_fail(c, "InvalidRequestException", "give document or documentSource, not both");
	if(doc){
		char *text;
		if(validate_document(doc, &text, &err) != JF_OK) return control_fail_invalid(c, &err);
		put(fields, "document", cJSON_CreateString(text));
		free(text);
		cJSON_DeleteItemFromObjectCaseSensitive(fields, "documentSource");
	}else if(source){
		if(!source[0]) return control_fail(c, "InvalidRequestException", "documentSource must not be empty");
		put(fields, "documentSource", cJSON_CreateString(source));
		cJSON_DeleteItemFromObjectCaseSensitive(fields, "document");
	}
	if(!cJSON_GetObjectItemCaseSensitive(fields, "document") && !cJSON_GetObjectItemCaseSensitive(fields, "documentSource")){
		return control_fail(c, "InvalidRequestException", "a job template needs document, documentSource or jobArn");
	}
	return 0;
}

int control_create_job_template(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	struct jf_error err;
	struct store_template t = { .created_at = c->now };
	const char *description, *job_arn = NULL;
	if(template_id(c, cmd, t.id) || control_text(c, cmd, "description", TEMPLATE_DESCRIPTION_MAX, &description)) return -1;
	if(!description || !description[0]) return control_fail(c, "InvalidRequestException", "description is required");
	if(jf_string(cmd, "jobArn", &job_arn, &err) == JF_BAD) return control_fail_invalid(c, &err);
	if(check_configs(c, cmd)) return -1;

	cJSON *fields = cJSON_CreateObject();
	int rc = fields ? 0 : control_fail(c, "InternalFailureException", "out of memory");
	if(rc == 0 && job_arn) rc = copy_job(c, job_arn, fields);
	if(rc == 0) rc = template_document(c, cmd, fields);
	for(int i = 0; rc == 0 && config_fields[i]; i++){
		const cJSON *f = cJSON_GetObjectItemCaseSensitive(cmd, config_fields[i]);
		if(f && !cJSON_IsNull(f)) put(fields, config_fields[i], cJSON_Duplicate(f, true));
	}
	if(rc == 0 && !(t.fields = cJSON_PrintUnformatted(fields))) rc = control_fail(c, "InternalFailureException", "out of memory");
	cJSON_Delete(fields);
	t.description = (char *)description;
	int ins = rc == 0 ? store_template_insert(c->svc->store, &t) : STORE_OK;
	if(ins == STORE_EXISTS) rc = control_fail(c, "ConflictException", "job template %s already exists", t.id);
	else if(ins != STORE_OK) rc = control_fail_store(c);
	if(rc == 0){
		control_add_arn(c, data, "jobTemplateArn", "jobtemplate", t.id);
		cJSON_AddStringToObject(data, "jobTemplateId", t.id);
	}
	free(t.fields);
	return rc;
}

/* ---- describe, list, delete ---- */

static int load_template(struct control_ctx *c, const char *id, struct store_template *t)
{
	int rc = store_template_get(c->svc->store, id, t);
	if(rc == STORE_NOT_FOUND) return control_fail(c, "ResourceNotFoundException", "job template %s does not exist", id);
	if(rc != STORE_OK) return control_fail_store(c);
	return 0;
}

/* What a template and its summary begin with. */
static void add_template_ids(struct control_ctx *c, cJSON *o, const struct store_template *t)
{
	control_add_arn(c, o, "jobTemplateArn", "jobtemplate", t->id);
	cJSON_AddStringToObject(o, "jobTemplateId", t->id);
	if(t->description) cJSON_AddStringToObject(o, "description", t->description);
}

/* Moves fields[key] to the end of obj, if it is there. */
static void move_field(cJSON *fields, const char *key, cJSON *obj)
{
	cJSON *f = cJSON_DetachItemFromObjectCaseSensitive(fields, key);
	if(f) cJSON_AddItemToObject(obj, key, f);
}

int control_describe_job_template(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	char id[JOBS_JOB_ID_MAX + 1];
	struct store_template t;
	if(template_id(c, cmd, id) || load_template(c, id, &t)) return -1;
	/* in the order of AWS's model */
	add_template_ids(c, data, &t);
	cJSON *fields = cJSON_Parse(t.fields);
	move_field(fields, "documentSource", data);
	move_field(fields, "document", data);
	shapes_add_int(data, "createdAt", t.created_at);
	for(int i = 0; config_fields[i]; i++) move_field(fields, config_fields[i], data);
	cJSON_Delete(fields);
	store_template_free(&t);
	return 0;
}

int control_list_job_templates(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	struct control_page page;
	struct store_template *list;
	size_t n;
	if(control_page(c, cmd, &page)) return -1;
	if(store_template_list(c->svc->store, page.offset, page.limit + 1, &list, &n) != STORE_OK) return control_fail_store(c);
	cJSON *arr = cJSON_AddArrayToObject(data, "jobTemplates");
	for(size_t i = 0; arr && i < n && i < (size_t)page.limit; i++){
		cJSON *o = cJSON_CreateObject();
		if(!o) break;
		add_template_ids(c, o, &list[i]);
		shapes_add_int(o, "createdAt", list[i].created_at);
		cJSON_AddItemToArray(arr, o);
	}
	control_page_next(data, &page, n);
	store_template_array_free(list, n);
	return 0;
}

int control_delete_job_template(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	(void)data;
	char id[JOBS_JOB_ID_MAX + 1];
	if(template_id(c, cmd, id)) return -1;
	int rc = store_template_delete(c->svc->store, id);
	if(rc == STORE_NOT_FOUND) return control_fail(c, "ResourceNotFoundException", "job template %s does not exist", id);
	if(rc != STORE_OK) return control_fail_store(c);
	return 0;
}

/* ---- managed templates ---- */

static void add_managed_arn(struct control_ctx *c, cJSON *o, const struct managed_template *t)
{
	char arn[256];
	snprintf(arn, sizeof(arn), "arn:aws:iot:%s::jobtemplate/%s:%s", c->svc->region, t->name, t->version);
	cJSON_AddStringToObject(o, "templateArn", arn);
}

static void add_environments(cJSON *o, const struct managed_template *t)
{
	cJSON *env = cJSON_AddArrayToObject(o, "environments");
	if(env) cJSON_AddItemToArray(env, cJSON_CreateString(t->environment));
}

static int managed_name(struct control_ctx *c, const cJSON *cmd, bool required, const char **name)
{
	if(control_text(c, cmd, "templateName", MANAGED_NAME_MAX, name)) return -1;
	if(!*name && required) return control_fail(c, "InvalidRequestException", "templateName is required");
	if(*name && !(*name)[0]) return control_fail(c, "InvalidRequestException", "templateName must be 1-64 characters");
	return 0;
}

int control_list_managed_job_templates(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	struct control_page page;
	const char *name;
	if(managed_name(c, cmd, false, &name) || control_page(c, cmd, &page)) return -1;
	if(name && !managed_template_find(name, NULL)){
		return control_fail(c, "ResourceNotFoundException", "managed job template %.64s does not exist", name);
	}
	cJSON *arr = cJSON_AddArrayToObject(data, "managedJobTemplates");
	size_t matched = 0;
	for(size_t i = 0; arr && i < managed_templates_count(); i++){
		const struct managed_template *t = managed_template_at(i);
		if(name && strcmp(t->name, name) != 0) continue;
		if(matched++ < (size_t)page.offset || matched > (size_t)(page.offset + page.limit)) continue;
		cJSON *o = cJSON_CreateObject();
		if(!o) break;
		add_managed_arn(c, o, t);
		cJSON_AddStringToObject(o, "templateName", t->name);
		cJSON_AddStringToObject(o, "description", t->description);
		add_environments(o, t);
		cJSON_AddStringToObject(o, "templateVersion", t->version);
		cJSON_AddItemToArray(arr, o);
	}
	control_page_next(data, &page, matched > (size_t)page.offset ? matched - (size_t)page.offset : 0);
	return 0;
}

/* templateVersion's pattern, ^[1-9]+.[0-9]+ */
static bool version_valid(const char *v)
{
	size_t n = strspn(v, "123456789");
	return n > 0 && v[n] && v[n + 1] >= '0' && v[n + 1] <= '9';
}

int control_describe_managed_job_template(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	struct jf_error err;
	const char *name, *version = NULL;
	if(managed_name(c, cmd, true, &name)) return -1;
	if(jf_string(cmd, "templateVersion", &version, &err) == JF_BAD) return control_fail_invalid(c, &err);
	if(version && !version_valid(version)){
		return control_fail(c, "InvalidRequestException", "templateVersion must match ^[1-9]+.[0-9]+");
	}
	const struct managed_template *t = managed_template_find(name, version);
	if(!t){
		return control_fail(c, "ResourceNotFoundException", "managed job template %.64s%s%.16s does not exist", name,
				version ? " version " : "", version ? version : "");
	}
	cJSON_AddStringToObject(data, "templateName", t->name);
	add_managed_arn(c, data, t);
	cJSON_AddStringToObject(data, "description", t->description);
	cJSON_AddStringToObject(data, "templateVersion", t->version);
	add_environments(data, t);
	cJSON *params = cJSON_AddArrayToObject(data, "documentParameters");
	for(size_t i = 0; params && i < t->nparams; i++){
		const struct managed_param *p = &t->params[i];
		cJSON *o = cJSON_CreateObject();
		if(!o) break;
		cJSON_AddStringToObject(o, "key", p->key);
		cJSON_AddStringToObject(o, "description", p->description);
		if(p->regex) cJSON_AddStringToObject(o, "regex", p->regex);
		if(p->example) cJSON_AddStringToObject(o, "example", p->example);
		cJSON_AddBoolToObject(o, "optional", p->optional);
		cJSON_AddItemToArray(params, o);
	}
	cJSON_AddStringToObject(data, "document", t->document);
	return 0;
}

/* ---- createJob from a template ---- */

/* A managed template's document, its parameters substituted. */
static int expand_managed(struct control_ctx *c, const char *resource, const cJSON *params, cJSON *eff)
{
	char name[MANAGED_NAME_MAX + 1];
	const char *colon = strchr(resource, ':');
	size_t len = colon ? (size_t)(colon - resource) : strlen(resource);
	const struct managed_template *t = NULL;
	if(len <= MANAGED_NAME_MAX){
		memcpy(name, resource, len);
		name[len] = '\0';
		t = managed_template_find(name, colon ? colon + 1 : NULL);
	}
	if(!t) return control_fail(c, "ResourceNotFoundException", "managed job template %.100s does not exist", resource);
	if(cJSON_GetObjectItemCaseSensitive(eff, "document") || cJSON_GetObjectItemCaseSensitive(eff, "documentSource")){
		return control_fail(c, "InvalidRequestException", "a job from managed template %s takes the template's document: "
				"give documentParameters, not document or documentSource", t->name);
	}
	struct jf_error err;
	char *doc;
	if(docparams_apply(t, params, &doc, &err) != JF_OK) return control_fail_invalid(c, &err);
	put(eff, "document", cJSON_CreateString(doc));
	free(doc);
	if(!cJSON_GetObjectItemCaseSensitive(eff, "description")) cJSON_AddStringToObject(eff, "description", t->description);
	return 0;
}

/* A custom template's fields, under the command's own. */
static int expand_custom(struct control_ctx *c, const char *id, cJSON *eff)
{
	struct store_template t;
	if(!names_job_id_valid(id, strlen(id))){
		return control_fail(c, "ResourceNotFoundException", "job template %.100s does not exist", id);
	}
	if(load_template(c, id, &t)) return -1;
	cJSON *fields = cJSON_Parse(t.fields), *f;
	bool has_doc = cJSON_GetObjectItemCaseSensitive(eff, "document") || cJSON_GetObjectItemCaseSensitive(eff, "documentSource");
	while(fields && (f = fields->child)){
		cJSON_DetachItemViaPointer(fields, f);
		cJSON *into = eff;
		if(strcmp(f->string, "maintenanceWindows") == 0){
			/* createJob has them in schedulingConfig */
			into = cJSON_GetObjectItemCaseSensitive(eff, "schedulingConfig");
			if(!into) into = cJSON_AddObjectToObject(eff, "schedulingConfig");
			if(!cJSON_IsObject(into)) into = NULL;
		}
		bool doc_field = strcmp(f->string, "document") == 0 || strcmp(f->string, "documentSource") == 0;
		if(into && !(doc_field && has_doc) && !cJSON_GetObjectItemCaseSensitive(into, f->string)){
			cJSON_AddItemToObject(into, f->string, f);
		}else{
			cJSON_Delete(f);
		}
	}
	cJSON_Delete(fields);
	if(t.description && !cJSON_GetObjectItemCaseSensitive(eff, "description")){
		cJSON_AddStringToObject(eff, "description", t.description);
	}
	store_template_free(&t);
	return 0;
}

int control_template_expand(struct control_ctx *c, const cJSON *cmd, cJSON **out)
{
	struct jf_error err;
	const char *arn = NULL, *account;
	size_t account_len;
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(cmd, "documentParameters");
	*out = NULL;
	if(jf_string(cmd, "jobTemplateArn", &arn, &err) == JF_BAD) return control_fail_invalid(c, &err);
	if(params && cJSON_IsNull(params)) params = NULL;
	if(!arn){
		if(params){
			return control_fail(c, "InvalidRequestException",
					"documentParameters can only be used when creating jobs from AWS managed templates");
		}
		return 0;
	}
	const char *res = arn_resource(arn, &account, &account_len);
	if(!res || strncmp(res, "jobtemplate/", 12) != 0){
		return control_fail(c, "InvalidRequestException", "jobTemplateArn %.200s is not a job template ARN "
				"(arn:aws:iot:REGION:ACCOUNT:jobtemplate/ID, or arn:aws:iot:REGION::jobtemplate/NAME:VERSION)", arn);
	}
	/* a managed template's ARN has no account */
	bool managed = account_len == 0;
	if(!managed && params){
		return control_fail(c, "InvalidRequestException", "documentParameters can only be used when creating jobs from "
				"AWS managed templates, not with custom job templates");
	}
	cJSON *eff = cJSON_Duplicate(cmd, true);
	if(!eff) return control_fail(c, "InternalFailureException", "out of memory");
	int rc = managed ? expand_managed(c, res + 12, params, eff) : expand_custom(c, res + 12, eff);
	if(rc){
		cJSON_Delete(eff);
		return rc;
	}
	*out = eff;
	return 0;
}

int control_template_record(struct control_ctx *c, const cJSON *cmd, struct store_job *job)
{
	const cJSON *arn = cJSON_GetObjectItemCaseSensitive(cmd, "jobTemplateArn");
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(cmd, "documentParameters");
	if(!cJSON_IsString(arn)) return 0;
	cJSON *policies = job->policies ? cJSON_Parse(job->policies) : cJSON_CreateObject();
	if(!policies) return control_fail(c, "InternalFailureException", "out of memory");
	put(policies, "jobTemplateArn", cJSON_Duplicate(arn, true));
	if(cJSON_IsObject(params)) put(policies, "documentParameters", cJSON_Duplicate(params, true));
	char *text = cJSON_PrintUnformatted(policies);
	cJSON_Delete(policies);
	if(!text) return control_fail(c, "InternalFailureException", "out of memory");
	free(job->policies);
	job->policies = text;
	return 0;
}
