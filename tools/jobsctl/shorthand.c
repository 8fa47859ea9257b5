/* The aws CLI's shorthand syntax for structure and map values, as awscli's
 * shorthand.py parses it:
 *
 *   key=value,key=value          values are strings; `\,` is a comma in a value
 *   key=a,b,c                    a list (the values up to the next key=)
 *   key=[a,b] key={k=v,k2=[x]}   explicit lists and nested structures
 *   key='a,b' key="a b"          quoted values (\' and \" inside)
 *
 * The aws CLI then types the strings from the service model; jobsctl knows the few
 * structures of the jobs commands, so it types members by name (integers, doubles,
 * booleans, and lists given as one value). The members of a map (statusDetails,
 * attributes) stay strings. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jobsctl.h"

enum member_type { M_STRING, M_INT, M_DOUBLE, M_BOOL, M_LIST, M_MAP };

static const struct member {
	const char *name;
	enum member_type type;
} members[] = {
	{ "inProgressTimeoutInMinutes", M_INT },
	{ "maximumPerMinute", M_INT },
	{ "baseRatePerMinute", M_INT },
	{ "incrementFactor", M_DOUBLE },
	{ "numberOfNotifiedThings", M_INT },
	{ "numberOfSucceededThings", M_INT },
	{ "criteriaList", M_LIST },
	{ "thresholdPercentage", M_DOUBLE },
	{ "minNumberOfExecutedThings", M_INT },
	{ "numberOfRetries", M_INT },
	{ "maintenanceWindows", M_LIST },
	{ "durationInMinutes", M_INT },
	{ "attributes", M_MAP },
	{ "merge", M_BOOL },
	{ "expiresInSec", M_INT },
	{ "Enabled", M_BOOL },
};

struct parser {
	const char *s;
	size_t n, i;
	char *err;
	size_t errsize;
	bool failed;
};

__attribute__((format(printf, 2, 3)))
static void fail(struct parser *p, const char *fmt, ...)
{
	if(p->failed) return;
	p->failed = true;
	char what[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errsize, "%s at character %zu of the shorthand", what, p->i + 1);
}

static int current(const struct parser *p)
{
	return p->i < p->n ? (unsigned char)p->s[p->i] : -1;
}

static bool is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static void skip_space(struct parser *p)
{
	while(is_space(current(p))) p->i++;
}

static bool expect(struct parser *p, char c)
{
	skip_space(p);
	if(current(p) != c){
		if(current(p) < 0) fail(p, "expected '%c', found the end", c);
		else fail(p, "expected '%c', found '%c'", c, current(p));
		return false;
	}
	p->i++;
	skip_space(p);
	return true;
}

/* The character classes of shorthand.py's unquoted values. */
static bool start_char(int c)
{
	return c > 0x20 && c != '"' && c != '\'' && c != ',' && c != '=' && c != '[' && c != '{';
}

static bool first_follow(int c)
{
	return is_space(c) || (c > 0x20 && c != '"' && c != '\'' && c != ',' && c != ']' && c != '}');
}

static bool second_follow(int c)
{
	return is_space(c) || (c > 0x20 && c != '"' && c != '\'' && c != ',' && c != '=');
}

/* An unquoted value: `\,` is a comma, trailing blanks go. */
static cJSON *unquoted(struct parser *p, bool (*follow)(int), bool must)
{
	size_t start = p->i;
	bool first = true;
	for(;;){
		if(current(p) == '\\' && p->i + 1 < p->n && p->s[p->i + 1] == ','){
			p->i += 2;
		}else if(first ? start_char(current(p)) : follow(current(p))){
			p->i++;
		}else{
			break;
		}
		first = false;
	}
	if(must && p->i == start){
		fail(p, "expected a value");
		return NULL;
	}
	char *v = malloc(p->i - start + 1);
	if(!v){
		fail(p, "out of memory");
		return NULL;
	}
	size_t k = 0;
	for(size_t j = start; j < p->i; j++){
		if(p->s[j] == '\\' && j + 1 < p->i && p->s[j + 1] == ','){
			v[k++] = ',';
			j++;
		}else{
			v[k++] = p->s[j];
		}
	}
	while(k > 0 && is_space((unsigned char)v[k - 1])) k--;
	v[k] = '\0';
	cJSON *item = cJSON_CreateString(v);
	free(v);
	if(!item) fail(p, "out of memory");
	return item;
}

/* 'value' or "value": \<quote> is the quote, \\ a backslash. */
static cJSON *quoted(struct parser *p)
{
	char q = p->s[p->i];
	size_t start = ++p->i;
	while(p->i < p->n && p->s[p->i] != q){
		if(p->s[p->i] == '\\' && p->i + 1 < p->n && p->s[p->i + 1] == q) p->i++;
		p->i++;
	}
	if(p->i >= p->n){
		p->i = start - 1;
		fail(p, "unterminated quoted value");
		return NULL;
	}
	size_t end = p->i++;
	char *v = malloc(end - start + 1);
	if(!v){
		fail(p, "out of memory");
		return NULL;
	}
	size_t k = 0;
	for(size_t j = start; j < end; j++){
		if(p->s[j] == '\\' && j + 1 < end && (p->s[j + 1] == q || p->s[j + 1] == '\\')) j++;
		v[k++] = p->s[j];
	}
	v[k] = '\0';
	cJSON *item = cJSON_CreateString(v);
	free(v);
	if(!item) fail(p, "out of memory");
	return item;
}

static cJSON *first_value(struct parser *p)
{
	if(current(p) == '\'' || current(p) == '"') return quoted(p);
	return unquoted(p, first_follow, false);
}

static cJSON *hash_literal(struct parser *p);

static cJSON *explicit_value(struct parser *p);

static cJSON *explicit_list(struct parser *p)
{
	cJSON *list = cJSON_CreateArray();
	if(!list || !expect(p, '[')){
		if(!list) fail(p, "out of memory");
		cJSON_Delete(list);
		return NULL;
	}
	while(!p->failed && current(p) != ']'){
		cJSON *v = explicit_value(p);
		if(!v || !cJSON_AddItemToArray(list, v)){
			cJSON_Delete(v);
			fail(p, "out of memory");
			break;
		}
		skip_space(p);
		if(current(p) != ']') expect(p, ',');
	}
	if(!p->failed) expect(p, ']');
	if(p->failed){
		cJSON_Delete(list);
		return NULL;
	}
	return list;
}

static cJSON *explicit_value(struct parser *p)
{
	if(current(p) == '[') return explicit_list(p);
	if(current(p) == '{') return hash_literal(p);
	return first_value(p);
}

/* A key: letters, digits and -_.#/: */
static char *key(struct parser *p)
{
	size_t start = p->i;
	int c;
	while((c = current(p)) >= 0 && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
			|| strchr("-_.#/:", c))){
		p->i++;
	}
	char *k = strndup(p->s + start, p->i - start);
	if(!k) fail(p, "out of memory");
	return k;
}

/* Adds key=value to obj; a key given twice is refused (`dup`) or the last wins. */
static bool add_member(struct parser *p, cJSON *obj, char *k, cJSON *v, bool dup)
{
	if(cJSON_GetObjectItemCaseSensitive(obj, k)){
		if(dup){
			fail(p, "key '%s' is given twice (a ',' where a ' ' belongs?)", k);
			cJSON_Delete(v);
			return false;
		}
		cJSON_DeleteItemFromObjectCaseSensitive(obj, k);
	}
	if(!cJSON_AddItemToObject(obj, k, v)){
		cJSON_Delete(v);
		fail(p, "out of memory");
		return false;
	}
	return true;
}

static cJSON *hash_literal(struct parser *p)
{
	cJSON *obj = cJSON_CreateObject();
	if(!obj || !expect(p, '{')){
		if(!obj) fail(p, "out of memory");
		cJSON_Delete(obj);
		return NULL;
	}
	while(!p->failed && current(p) != '}'){
		char *k = key(p);
		if(k && expect(p, '=')){
			cJSON *v = explicit_value(p);
			if(v) add_member(p, obj, k, v, false);
		}
		free(k);
		skip_space(p);
		if(!p->failed && current(p) != '}') expect(p, ',');
	}
	if(!p->failed) expect(p, '}');
	if(p->failed){
		cJSON_Delete(obj);
		return NULL;
	}
	return obj;
}

/* key=a,b,c: the values up to the next key=, a list when more than one. */
static cJSON *csv_value(struct parser *p)
{
	cJSON *first = first_value(p);
	if(!first) return NULL;
	skip_space(p);
	if(current(p) != ',') return first;
	cJSON *list = cJSON_CreateArray();
	if(!list || !cJSON_AddItemToArray(list, first)){
		cJSON_Delete(list);
		cJSON_Delete(first);
		fail(p, "out of memory");
		return NULL;
	}
	for(;;){
		size_t comma = p->i;
		p->i++;
		skip_space(p);
		cJSON *v = NULL;
		if(current(p) == '\'' || current(p) == '"') v = quoted(p);
		else if(start_char(current(p))) v = unquoted(p, second_follow, true);
		if(v) skip_space(p);
		if(v && (current(p) < 0 || current(p) == ',')){
			if(!cJSON_AddItemToArray(list, v)){
				cJSON_Delete(v);
				fail(p, "out of memory");
				break;
			}
			if(current(p) < 0) break;
			continue;
		}
		cJSON_Delete(v);
		if(current(p) < 0 || p->failed){
			fail(p, "expected a value");
			break;
		}
		/* The next key=value: the list ended at that comma. */
		p->i = comma;
		break;
	}
	if(p->failed){
		cJSON_Delete(list);
		return NULL;
	}
	if(cJSON_GetArraySize(list) == 1){
		cJSON *only = cJSON_DetachItemFromArray(list, 0);
		cJSON_Delete(list);
		return only;
	}
	return list;
}

static cJSON *values(struct parser *p)
{
	if(current(p) < 0){
		cJSON *empty = cJSON_CreateString("");
		if(!empty) fail(p, "out of memory");
		return empty;
	}
	if(current(p) == '[') return explicit_list(p);
	if(current(p) == '{') return hash_literal(p);
	return csv_value(p);
}

/* Puts `by` in the place of obj's member m, under m's name; false: out of memory
 * (by is freed). */
static bool replace(cJSON *obj, cJSON *m, cJSON *by)
{
	char *name = strdup(m->string);
	bool ok = name && cJSON_ReplaceItemInObjectCaseSensitive(obj, name, by);
	if(!ok) cJSON_Delete(by);
	free(name);
	return ok;
}

/* The strings of a parsed structure, typed by member name. */
static bool type_members(cJSON *obj, char *err, size_t errsize)
{
	cJSON *m;
	cJSON_ArrayForEach(m, obj){
		enum member_type t = M_STRING;
		for(size_t i = 0; i < sizeof(members) / sizeof(*members); i++){
			if(strcmp(members[i].name, m->string) == 0) t = members[i].type;
		}
		if(t == M_MAP) continue;
		if(t == M_LIST && !cJSON_IsArray(m)){
			cJSON *list = cJSON_CreateArray();
			cJSON *copy = cJSON_Duplicate(m, true);
			if(!list || !copy){
				cJSON_Delete(list);
				cJSON_Delete(copy);
				snprintf(err, errsize, "out of memory");
				return false;
			}
			cJSON_AddItemToArray(list, copy);
			if(!replace(obj, m, list)){
				snprintf(err, errsize, "out of memory");
				return false;
			}
			m = list;
		}
		if(cJSON_IsObject(m)){
			if(!type_members(m, err, errsize)) return false;
		}else if(cJSON_IsArray(m)){
			cJSON *e;
			cJSON_ArrayForEach(e, m){
				if(cJSON_IsObject(e) && !type_members(e, err, errsize)) return false;
			}
		}else if(cJSON_IsString(m) && (t == M_INT || t == M_DOUBLE || t == M_BOOL)){
			const char *s = m->valuestring;
			char *end;
			cJSON *typed = NULL;
			errno = 0;
			if(t == M_BOOL){
				if(strcasecmp(s, "true") == 0) typed = cJSON_CreateTrue();
				else if(strcasecmp(s, "false") == 0) typed = cJSON_CreateFalse();
				else continue;  /* as the aws CLI: left for the server to refuse */
			}else if(t == M_INT){
				long long v = strtoll(s, &end, 10);
				while(is_space((unsigned char)*end)) end++;
				if(end == s || *end || errno){
					snprintf(err, errsize, "%s: '%s' is not an integer", m->string, s);
					return false;
				}
				char text[32];
				snprintf(text, sizeof(text), "%lld", v);
				typed = cJSON_CreateRaw(text);
			}else{
				double v = strtod(s, &end);
				while(is_space((unsigned char)*end)) end++;
				if(end == s || *end || !isfinite(v)){
					snprintf(err, errsize, "%s: '%s' is not a number", m->string, s);
					return false;
				}
				typed = cJSON_CreateNumber(v);
			}
			if(!typed || !replace(obj, m, typed)){
				snprintf(err, errsize, "out of memory");
				return false;
			}
			m = typed;
		}
	}
	return true;
}

cJSON *shorthand_parse(const char *text, bool map, char *err, size_t errsize)
{
	struct parser p = { .s = text, .n = strlen(text), .err = err, .errsize = errsize };
	cJSON *obj = cJSON_CreateObject();
	if(!obj){
		snprintf(err, errsize, "out of memory");
		return NULL;
	}
	do{
		if(p.i > 0) expect(&p, ',');
		char *k = p.failed ? NULL : key(&p);
		if(k && expect(&p, '=')){
			cJSON *v = values(&p);
			if(v) add_member(&p, obj, k, v, true);
		}
		free(k);
	}while(!p.failed && p.i < p.n);
	if(!p.failed && !map && !type_members(obj, err, errsize)) p.failed = true;
	if(p.failed){
		cJSON_Delete(obj);
		return NULL;
	}
	return obj;
}
