/* What every management command shares: the error it fails with, and its field
 * readers (ids, names, text, status filter, pagination). Called by the handlers;
 * calls nothing of theirs. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/control_internal.h"
#include "core/status.h"
#include "util/names.h"
#include "util/utf8.h"

#define PAGE_DEFAULT 50
#define PAGE_MAX 250

int control_fail(struct control_ctx *c, const char *exception, const char *fmt, ...)
{
	char msg[CONTROL_MESSAGE_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->exception = exception;
	snprintf(c->message, sizeof(c->message), "%s", msg);
	return -1;
}

int control_fail_invalid(struct control_ctx *c, const struct jf_error *err)
{
	return control_fail(c, "InvalidRequestException", "%s", err->msg);
}

int control_fail_store(struct control_ctx *c)
{
	SVC_LOG(c->svc, JOBS_LOG_ERR, "jobs: storage error: %s", store_errmsg(c->svc->store));
	return control_fail(c, "InternalFailureException", "internal storage error");
}

bool control_add_arn(struct control_ctx *c, cJSON *obj, const char *key, const char *kind, const char *name)
{
	char buf[512];
	snprintf(buf, sizeof(buf), "arn:aws:iot:%s:%s:%s/%s", c->svc->region, c->svc->account_id, kind, name);
	return cJSON_AddStringToObject(obj, key, buf) != NULL;
}

bool control_add_group_entry(struct control_ctx *c, cJSON *list, const char *name)
{
	cJSON *o = cJSON_CreateObject();
	if(!o) return false;
	cJSON_AddStringToObject(o, "groupName", name);
	control_add_arn(c, o, "groupArn", "thinggroup", name);
	return cJSON_AddItemToArray(list, o);
}

int control_id(struct control_ctx *c, const cJSON *cmd, const char *key, char *out)
{
	const char *id;
	struct jf_error err;
	int rc = jf_string(cmd, key, &id, &err);
	if(rc == JF_ABSENT) return control_fail(c, "InvalidRequestException", "%s is required", key);
	if(rc != JF_OK) return control_fail_invalid(c, &err);
	if(!names_job_id_valid(id, strlen(id))){
		return control_fail(c, "InvalidRequestException", "%s must be 1-64 characters of [a-zA-Z0-9_-]", key);
	}
	strcpy(out, id);
	return 0;
}

int control_job_id(struct control_ctx *c, const cJSON *cmd)
{
	return control_id(c, cmd, "jobId", c->job_id);
}

int control_load_job(struct control_ctx *c, struct store_job *job)
{
	int rc = store_job_get(c->svc->store, c->job_id, job);
	if(rc == STORE_NOT_FOUND) return control_fail(c, "ResourceNotFoundException", "job %s does not exist", c->job_id);
	if(rc != STORE_OK) return control_fail_store(c);
	return 0;
}

int control_name(struct control_ctx *c, const cJSON *cmd, const char *key, char *out)
{
	const char *name;
	struct jf_error err;
	int rc = jf_string(cmd, key, &name, &err);
	if(rc == JF_ABSENT) return control_fail(c, "InvalidRequestException", "%s is required", key);
	if(rc != JF_OK) return control_fail_invalid(c, &err);
	if(!names_thing_valid(name, strlen(name))){
		return control_fail(c, "InvalidRequestException", "%s must be 1-128 characters of [a-zA-Z0-9:_-]", key);
	}
	strcpy(out, name);
	return 0;
}

int control_text(struct control_ctx *c, const cJSON *cmd, const char *key, size_t max, const char **out)
{
	struct jf_error err;
	*out = NULL;
	if(jf_string(cmd, key, out, &err) == JF_BAD) return control_fail_invalid(c, &err);
	if(*out && utf8_length(*out) > max){
		return control_fail(c, "InvalidRequestException", "%s must be at most %zu characters", key, max);
	}
	return 0;
}

int control_status_filter(struct control_ctx *c, const cJSON *cmd, int *status)
{
	const char *name = NULL;
	struct jf_error err;
	enum exec_status s;
	*status = -1;
	if(jf_string(cmd, "status", &name, &err) == JF_BAD) return control_fail_invalid(c, &err);
	if(!name) return 0;
	if(!status_parse(name, &s)) return control_fail(c, "InvalidRequestException", "unknown status %.32s", name);
	*status = (int)s;
	return 0;
}

int control_page(struct control_ctx *c, const cJSON *cmd, struct control_page *page)
{
	struct jf_error err;
	long long limit = PAGE_DEFAULT, offset = 0;
	const char *token = NULL;
	if(jf_long(cmd, "maxResults", 1, PAGE_MAX, &limit, &err) == JF_BAD) return control_fail_invalid(c, &err);
	if(jf_string(cmd, "nextToken", &token, &err) == JF_BAD) return control_fail_invalid(c, &err);
	if(token){
		char *end;
		offset = strtoll(token, &end, 10);
		if(*token == '\0' || *end != '\0' || offset < 0){
			return control_fail(c, "InvalidRequestException", "nextToken is not one this API returned");
		}
	}
	page->offset = offset;
	page->limit = (int)limit;
	return 0;
}

void control_page_next(cJSON *data, const struct control_page *page, size_t fetched)
{
	if(fetched <= (size_t)page->limit) return;
	char token[32];
	snprintf(token, sizeof(token), "%lld", (long long)(page->offset + page->limit));
	cJSON_AddStringToObject(data, "nextToken", token);
}
