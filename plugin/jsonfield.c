/* Typed JSON field accessors for request validation. */
#include "mosquitto_jobs/jsonfield.h"

#include <math.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Largest integer a double carries exactly. */
#define EXACT_DOUBLE_MAX 9007199254740992.0

int jf_fail(struct jf_error *err, const char *fmt, ...)
{
	if(err){
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return JF_BAD;
}

static const cJSON *member(const cJSON *obj, const char *key)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
	if(!item || cJSON_IsNull(item)) return NULL;
	return item;
}

int jf_string(const cJSON *obj, const char *key, const char **out, struct jf_error *err)
{
	const cJSON *item = member(obj, key);
	if(!item) return JF_ABSENT;
	if(!cJSON_IsString(item)) return jf_fail(err, "%s must be a string", key);
	*out = item->valuestring;
	return JF_OK;
}

int jf_bool(const cJSON *obj, const char *key, bool *out, struct jf_error *err)
{
	const cJSON *item = member(obj, key);
	if(!item) return JF_ABSENT;
	if(!cJSON_IsBool(item)) return jf_fail(err, "%s must be a boolean", key);
	*out = cJSON_IsTrue(item);
	return JF_OK;
}

int jf_object(const cJSON *obj, const char *key, const cJSON **out, struct jf_error *err)
{
	const cJSON *item = member(obj, key);
	if(!item) return JF_ABSENT;
	if(!cJSON_IsObject(item)) return jf_fail(err, "%s must be a JSON object", key);
	*out = item;
	return JF_OK;
}

int jf_array(const cJSON *obj, const char *key, const cJSON **out, struct jf_error *err)
{
	const cJSON *item = member(obj, key);
	if(!item) return JF_ABSENT;
	if(!cJSON_IsArray(item)) return jf_fail(err, "%s must be a JSON array", key);
	*out = item;
	return JF_OK;
}

static bool parse_digits(const char *s, long long *out)
{
	bool negative = false;
	if(*s == '-'){
		negative = true;
		s++;
	}
	size_t len = strlen(s);
	if(len == 0 || len > 18) return false;
	long long v = 0;
	for(size_t i = 0; i < len; i++){
		if(s[i] < '0' || s[i] > '9') return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = negative ? -v : v;
	return true;
}

int jf_long_value(const cJSON *item, const char *what, long long min, long long max,
		long long *out, struct jf_error *err)
{
	long long v;
	if(cJSON_IsNumber(item)){
		double d = item->valuedouble;
		if(!isfinite(d) || floor(d) != d || fabs(d) > EXACT_DOUBLE_MAX){
			return jf_fail(err, "%s must be a whole number", what);
		}
		v = (long long)d;
	}else if(cJSON_IsString(item)){
		if(!parse_digits(item->valuestring, &v)){
			return jf_fail(err, "%s must be a whole number or a string of decimal digits", what);
		}
	}else{
		return jf_fail(err, "%s must be a number", what);
	}
	if(v < min || v > max){
		return jf_fail(err, "%s must be between %lld and %lld", what, min, max);
	}
	*out = v;
	return JF_OK;
}

int jf_long(const cJSON *obj, const char *key, long long min, long long max,
		long long *out, struct jf_error *err)
{
	const cJSON *item = member(obj, key);
	if(!item) return JF_ABSENT;
	return jf_long_value(item, key, min, max, out, err);
}

cJSON *jf_parse_strict(const char *buf, size_t len)
{
	const char *end = NULL;
	cJSON *tree = cJSON_ParseWithLengthOpts(buf, len, &end, false);
	if(!tree) return NULL;
	for(const char *p = end; p && p < buf + len; p++){
		if(*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r' && *p != '\0'){
			cJSON_Delete(tree);
			return NULL;
		}
	}
	return tree;
}

/* Shortest "%.*g" that reads back to the same double. */
static void format_number(double d, char *buf, size_t size)
{
	for(int precision = 1; precision <= 17; precision++){
		snprintf(buf, size, "%.*g", precision, d);
		if(strtod(buf, NULL) == d) return;
	}
}

static bool numbers_to_raw(cJSON *node)
{
	for(; node; node = node->next){
		if(cJSON_IsNumber(node)){
			char buf[40];
			if(!isfinite(node->valuedouble)) snprintf(buf, sizeof(buf), "null");
			else format_number(node->valuedouble, buf, sizeof(buf));
			char *text = strdup(buf);
			if(!text) return false;
			node->type = cJSON_Raw;
			node->valuestring = text;
		}else if(!numbers_to_raw(node->child)){
			return false;
		}
	}
	return true;
}

char *jf_print_exact(cJSON *tree)
{
	if(!tree) return NULL;
	if(cJSON_IsNumber(tree) || tree->child){
		/* walk only this value, not its siblings */
		cJSON *next = tree->next;
		tree->next = NULL;
		bool ok = numbers_to_raw(tree);
		tree->next = next;
		if(!ok) return NULL;
	}
	return cJSON_PrintUnformatted(tree);
}
