/* Typed JSON field accessors for request validation. */
#include "util/jsonfield.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Largest integer a double carries exactly. */
#define EXACT_DOUBLE_MAX 9007199254740992.0

int jf_fail(struct jf_error *err, const char *fmt, ...)
{
	assert(fmt);
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
	assert(key);
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
	if(!item || cJSON_IsNull(item)) return NULL;
	return item;
}

int jf_string(const cJSON *obj, const char *key, const char **out, struct jf_error *err)
{
	assert(out);
	const cJSON *item = member(obj, key);
	if(!item) return JF_ABSENT;
	if(!cJSON_IsString(item)) return jf_fail(err, "%s must be a string", key);
	*out = item->valuestring;
	return JF_OK;
}

int jf_bool(const cJSON *obj, const char *key, bool *out, struct jf_error *err)
{
	assert(out);
	const cJSON *item = member(obj, key);
	if(!item) return JF_ABSENT;
	if(!cJSON_IsBool(item)) return jf_fail(err, "%s must be a boolean", key);
	*out = cJSON_IsTrue(item);
	return JF_OK;
}

int jf_object(const cJSON *obj, const char *key, const cJSON **out, struct jf_error *err)
{
	assert(out);
	const cJSON *item = member(obj, key);
	if(!item) return JF_ABSENT;
	if(!cJSON_IsObject(item)) return jf_fail(err, "%s must be a JSON object", key);
	*out = item;
	return JF_OK;
}

int jf_array(const cJSON *obj, const char *key, const cJSON **out, struct jf_error *err)
{
	assert(out);
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
	assert(what && out && min <= max);
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

/* ---- a strict RFC 8259 syntax check, since cJSON accepts more (leading zeros,
 * "2.", raw control characters in strings, trailing garbage) ---- */

#define JSON_DEPTH_MAX 1000 /* cJSON's own nesting limit */

struct lexer {
	const char *p, *end;
};

static void skip_ws(struct lexer *lx)
{
	while(lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\n' || *lx->p == '\r')) lx->p++;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool lex_string(struct lexer *lx)
{
	lx->p++; /* the opening quote */
	while(lx->p < lx->end){
		unsigned char c = (unsigned char)*lx->p++;
		if(c == '"') return true;
		if(c < 0x20) return false;
		if(c == '\\'){
			if(lx->p >= lx->end) return false;
			char e = *lx->p++;
			if(e == 'u'){
				for(int i = 0; i < 4; i++, lx->p++){
					if(lx->p >= lx->end || !((*lx->p >= '0' && *lx->p <= '9') || (*lx->p >= 'a' && *lx->p <= 'f')
								|| (*lx->p >= 'A' && *lx->p <= 'F'))) return false;
				}
			}else if(!strchr("\"\\/bfnrt", e) || e == '\0'){
				return false;
			}
		}
	}
	return false;
}

static bool lex_number(struct lexer *lx)
{
	if(lx->p < lx->end && *lx->p == '-') lx->p++;
	if(lx->p >= lx->end) return false;
	if(*lx->p == '0') lx->p++;
	else if(is_digit(*lx->p)) while(lx->p < lx->end && is_digit(*lx->p)) lx->p++;
	else return false;
	if(lx->p < lx->end && *lx->p == '.'){
		lx->p++;
		if(lx->p >= lx->end || !is_digit(*lx->p)) return false;
		while(lx->p < lx->end && is_digit(*lx->p)) lx->p++;
	}
	if(lx->p < lx->end && (*lx->p == 'e' || *lx->p == 'E')){
		lx->p++;
		if(lx->p < lx->end && (*lx->p == '+' || *lx->p == '-')) lx->p++;
		if(lx->p >= lx->end || !is_digit(*lx->p)) return false;
		while(lx->p < lx->end && is_digit(*lx->p)) lx->p++;
	}
	return true;
}

static bool lex_word(struct lexer *lx, const char *word)
{
	size_t n = strlen(word);
	if((size_t)(lx->end - lx->p) < n || memcmp(lx->p, word, n) != 0) return false;
	lx->p += n;
	return true;
}

/* One JSON text, then only white space (or a C string's terminating NUL). Iterative:
 * `stack` holds the open containers. */
static bool json_valid(const char *buf, size_t len)
{
	struct lexer lx = { buf, buf + len };
	char stack[JSON_DEPTH_MAX];
	int depth = 0;
	bool need_value = true;
	for(;;){
		skip_ws(&lx);
		if(need_value){
			if(lx.p >= lx.end) return false;
			char c = *lx.p;
			bool ok = true;
			if(c == '{' || c == '['){
				if(depth == JSON_DEPTH_MAX) return false;
				stack[depth++] = c;
				lx.p++;
				skip_ws(&lx);
				if(lx.p < lx.end && *lx.p == (c == '{' ? '}' : ']')){
					lx.p++;
					depth--;
				}else{
					if(c == '{'){
						if(lx.p >= lx.end || *lx.p != '"' || !lex_string(&lx)) return false;
						skip_ws(&lx);
						if(lx.p >= lx.end || *lx.p++ != ':') return false;
					}
					continue; /* a value follows */
				}
			}else if(c == '"') ok = lex_string(&lx);
			else if(c == '-' || is_digit(c)) ok = lex_number(&lx);
			else ok = lex_word(&lx, "true") || lex_word(&lx, "false") || lex_word(&lx, "null");
			if(!ok) return false;
			need_value = false;
		}
		skip_ws(&lx);
		if(depth == 0) break;
		if(lx.p >= lx.end) return false;
		char c = *lx.p++;
		char open = stack[depth - 1];
		if(c == ','){
			if(open == '{'){
				skip_ws(&lx);
				if(lx.p >= lx.end || *lx.p != '"' || !lex_string(&lx)) return false;
				skip_ws(&lx);
				if(lx.p >= lx.end || *lx.p++ != ':') return false;
			}
			need_value = true;
		}else if(c == (open == '{' ? '}' : ']')){
			depth--;
		}else{
			return false;
		}
	}
	while(lx.p < lx.end && *lx.p == '\0') lx.p++;
	return lx.p == lx.end;
}

cJSON *jf_parse_strict(const char *buf, size_t len)
{
	assert(buf || len == 0);
	if(!json_valid(buf, len)) return NULL;
	return cJSON_ParseWithLength(buf, len);
}

bool jf_has_nonfinite(const cJSON *tree)
{
	if(!tree) return false;
	if(cJSON_IsNumber(tree) && !isfinite(tree->valuedouble)) return true;
	for(const cJSON *c = tree->child; c; c = c->next){
		if(jf_has_nonfinite(c)) return true;
	}
	return false;
}

/* Whole numbers up to 2^53 as plain integers; the rest in the shortest "%.*g" that
 * reads back to the same double. */
static void format_number(double d, char *buf, size_t size)
{
	if(floor(d) == d && fabs(d) <= EXACT_DOUBLE_MAX){
		snprintf(buf, size, "%.0f", d);
		return;
	}
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
