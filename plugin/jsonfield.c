/* Typed JSON field accessors for request validation. */
#include "mosquitto_jobs/jsonfield.h"

#include <math.h>
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
