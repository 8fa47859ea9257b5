/* Document parameters checked and substituted into a managed template's document
 * (docparams.h). */
#include "core/docparams.h"

#include <stdlib.h>
#include <string.h>

#include "util/strbuf.h"
#include "util/utf8.h"

#define PLACEHOLDER "${aws:iot:parameter:"

static const struct managed_param *find_param(const struct managed_template *t, const char *key, size_t len)
{
	for(size_t i = 0; i < t->nparams; i++){
		if(strlen(t->params[i].key) == len && memcmp(t->params[i].key, key, len) == 0) return &t->params[i];
	}
	return NULL;
}

/* ParameterValue's pattern [^\p{C}]+: no control character (C0, DEL, C1). */
static bool has_control(const char *s)
{
	for(const unsigned char *p = (const unsigned char *)s; *p; p++){
		if(*p < 0x20 || *p == 0x7f) return true;
		if(*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) return true;
	}
	return false;
}

static int check_values(const struct managed_template *t, const cJSON *values, struct jf_error *err)
{
	if(values && !cJSON_IsNull(values) && !cJSON_IsObject(values)){
		return jf_fail(err, "documentParameters must be a map of parameter names to strings");
	}
	const cJSON *v, *map = cJSON_IsObject(values) ? values : NULL;
	cJSON_ArrayForEach(v, map){
		const struct managed_param *p = find_param(t, v->string, strlen(v->string));
		if(!p){
			return jf_fail(err, "documentParameters: %.128s is not a parameter of %s (its parameters: see "
					"describeManagedJobTemplate)", v->string, t->name);
		}
		if(!cJSON_IsString(v)) return jf_fail(err, "documentParameters.%s must be a string", p->key);
		size_t n = utf8_length(v->valuestring);
		if(n < 1 || n > DOCPARAMS_VALUE_MAX){
			return jf_fail(err, "documentParameters.%s must be 1-%d characters", p->key, DOCPARAMS_VALUE_MAX);
		}
		if(has_control(v->valuestring)){
			return jf_fail(err, "documentParameters.%s must not hold control characters", p->key);
		}
		if(p->max_chars && n > p->max_chars){
			return jf_fail(err, "documentParameters.%s does not match its regex %s (at most %zu characters)",
					p->key, p->regex, p->max_chars);
		}
	}
	for(size_t i = 0; i < t->nparams; i++){
		if(!t->params[i].optional && !cJSON_GetObjectItemCaseSensitive(values, t->params[i].key)){
			return jf_fail(err, "documentParameters.%s is required by %s", t->params[i].key, t->name);
		}
	}
	return JF_OK;
}

/* A value inside a JSON string: quotes and backslashes escaped (control characters
 * were refused). */
static void add_escaped(struct strbuf *b, const char *s)
{
	for(; *s; s++){
		if(*s == '"' || *s == '\\') strbuf_addc(b, '\\');
		strbuf_addc(b, *s);
	}
}

int docparams_apply(const struct managed_template *t, const cJSON *values, char **out, struct jf_error *err)
{
	*out = NULL;
	err->msg[0] = '\0';
	if(check_values(t, values, err) != JF_OK) return JF_BAD;
	struct strbuf b = { 0 };
	const char *s = t->document;
	const char *at;
	while((at = strstr(s, PLACEHOLDER))){
		const char *key = at + strlen(PLACEHOLDER);
		const char *end = strchr(key, '}');
		const struct managed_param *p = end ? find_param(t, key, (size_t)(end - key)) : NULL;
		strbuf_add(&b, s, (size_t)(at - s));
		if(!p){  /* not a parameter of this template: kept as it is */
			strbuf_add(&b, at, strlen(PLACEHOLDER));
			s = key;
			continue;
		}
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(values, p->key);
		if(cJSON_IsString(v)) add_escaped(&b, v->valuestring);
		s = end + 1;
	}
	strbuf_adds(&b, s);
	if(b.failed || !b.p){
		free(b.p);
		return jf_fail(err, "out of memory");
	}
	*out = b.p;
	return JF_OK;
}
