/* Printing JSON as the aws CLI does: `--output json` is Python's
 * json.dump(indent=4, ensure_ascii=False) and a newline, so the two tools print the
 * same bytes for the same data. `compact` is one line, for scripts. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jobsctl.h"

#define INDENT 4

static void print_string(FILE *f, const char *s)
{
	fputc('"', f);
	for(const unsigned char *p = (const unsigned char *)s; *p; p++){
		switch(*p){
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		case '\b': fputs("\\b", f); break;
		case '\f': fputs("\\f", f); break;
		default:
			if(*p < 0x20) fprintf(f, "\\u%04x", *p);
			else fputc(*p, f);
		}
	}
	fputc('"', f);
}

static void output_number(FILE *f, double v)
{
	/* The plugin writes integers without a fraction, which Python reads as int. */
	if(isfinite(v) && v == floor(v) && fabs(v) < 1e16){
		fprintf(f, "%.0f", v);
		return;
	}
	if(!isfinite(v)){
		fputs(isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity", f);
		return;
	}
	/* Python's repr: the fewest digits that read back as the same double, in
	 * positional notation for exponents -4..15 and in scientific notation otherwise. */
	char buf[40];
	int prec;
	for(prec = 1; prec < 17; prec++){
		snprintf(buf, sizeof(buf), "%.*e", prec - 1, v);
		if(strtod(buf, NULL) == v) break;
	}
	snprintf(buf, sizeof(buf), "%.*e", prec - 1, v);
	char digits[24];
	size_t nd = 0;
	const char *p = buf;
	bool negative = *p == '-';
	if(negative) p++;
	for(; *p && *p != 'e'; p++){
		if(*p != '.') digits[nd++] = *p;
	}
	while(nd > 1 && digits[nd - 1] == '0') nd--;
	digits[nd] = '\0';
	int exp = atoi(p + 1);
	if(negative) fputc('-', f);
	if(exp >= -4 && exp < 16){
		if(exp < 0){
			fputs("0.", f);
			for(int i = -1; i > exp; i--) fputc('0', f);
			fputs(digits, f);
		}else{
			for(int i = 0; i <= exp; i++) fputc(i < (int)nd ? digits[i] : '0', f);
			fputc('.', f);
			if((int)nd > exp + 1) fputs(digits + exp + 1, f);
			else fputc('0', f);
		}
	}else{
		fputc(digits[0], f);
		if(nd > 1) fprintf(f, ".%s", digits + 1);
		fprintf(f, "e%c%02d", exp < 0 ? '-' : '+', abs(exp));
	}
}

static void print_value(FILE *f, const cJSON *v, int depth, bool compact)
{
	if(cJSON_IsObject(v) || cJSON_IsArray(v)){
		bool object = cJSON_IsObject(v);
		fputc(object ? '{' : '[', f);
		const cJSON *child = v->child;
		for(const cJSON *c = child; c; c = c->next){
			if(compact){
				if(c != child) fputs(", ", f);
			}else{
				fprintf(f, "%s\n%*s", c != child ? "," : "", (depth + 1) * INDENT, "");
			}
			if(object){
				print_string(f, c->string ? c->string : "");
				fputs(": ", f);
			}
			print_value(f, c, depth + 1, compact);
		}
		if(child && !compact) fprintf(f, "\n%*s", depth * INDENT, "");
		fputc(object ? '}' : ']', f);
	}else if(cJSON_IsString(v)){
		print_string(f, v->valuestring);
	}else if(cJSON_IsNumber(v)){
		output_number(f, v->valuedouble);
	}else if(cJSON_IsTrue(v)){
		fputs("true", f);
	}else if(cJSON_IsFalse(v)){
		fputs("false", f);
	}else if(cJSON_IsRaw(v)){
		/* Values jobsctl sends as given (--dry-run shows them). */
		fputs(v->valuestring, f);
	}else{
		fputs("null", f);
	}
}

void output_json(FILE *f, const cJSON *v, enum output_format format)
{
	print_value(f, v, 0, format == OUTPUT_COMPACT);
	fputc('\n', f);
}

/* --output text: awscli's text.py. Scalars of an object go on one line, tab-separated,
 * in the order of their sorted keys, after the upper-cased name of the member that
 * holds the object; the object's lists and objects follow, by sorted key. The objects
 * of a list share the columns of every scalar key any of them has. */

/* Python's str() of a scalar. */
static void text_scalar(FILE *f, const cJSON *v)
{
	if(cJSON_IsString(v)) fputs(v->valuestring, f);
	else if(cJSON_IsNumber(v)) output_number(f, v->valuedouble);
	else if(cJSON_IsTrue(v)) fputs("True", f);
	else if(cJSON_IsFalse(v)) fputs("False", f);
	else if(cJSON_IsRaw(v)) fputs(v->valuestring, f);
	else if(cJSON_IsNull(v)) fputs("None", f);
	else print_value(f, v, 0, true);
}

static bool is_container(const cJSON *v)
{
	return cJSON_IsObject(v) || cJSON_IsArray(v);
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void upper(FILE *f, const char *s)
{
	for(; *s; s++) fputc(*s >= 'a' && *s <= 'z' ? *s - 'a' + 'A' : *s, f);
}

static void text_value(FILE *f, const cJSON *v, const char *identifier, const char **keys, size_t nkeys);

/* The sorted names of obj's members (scalar or container ones, as `scalars` says),
 * without those in skip[0..nskip-1]; NULL if there are none (or no memory). */
static const char **sorted_names(const cJSON *obj, int scalars, const char **skip, size_t nskip, size_t *n)
{
	*n = 0;
	size_t cap = (size_t)cJSON_GetArraySize(obj);
	const char **names = cap ? malloc(cap * sizeof(*names)) : NULL;
	if(!names) return NULL;
	const cJSON *m;
	cJSON_ArrayForEach(m, obj){
		if(scalars >= 0 && is_container(m) == (scalars == 1)) continue;
		bool skipped = false;
		for(size_t i = 0; i < nskip && !skipped; i++) skipped = strcmp(skip[i], m->string) == 0;
		if(!skipped) names[(*n)++] = m->string;
	}
	qsort(names, *n, sizeof(*names), compare_names);
	return names;
}

static void text_object(FILE *f, const cJSON *obj, const char *identifier, const char **keys, size_t nkeys)
{
	size_t nscalars, nrest;
	const char **scalars = keys ? NULL : sorted_names(obj, 1, NULL, 0, &nscalars);
	if(keys){
		scalars = keys;
		nscalars = nkeys;
	}
	/* The members that are no column: by sorted key. */
	const char **rest = keys ? sorted_names(obj, -1, keys, nkeys, &nrest) : sorted_names(obj, 0, NULL, 0, &nrest);
	if(nscalars){
		if(identifier){
			upper(f, identifier);
			fputc('\t', f);
		}
		for(size_t i = 0; i < nscalars; i++){
			if(i) fputc('\t', f);
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, scalars[i]);
			if(v) text_scalar(f, v);
		}
		fputc('\n', f);
	}
	for(size_t i = 0; i < nrest; i++){
		text_value(f, cJSON_GetObjectItemCaseSensitive(obj, rest[i]), rest[i], NULL, 0);
	}
	if(!keys) free(scalars);
	free(rest);
}

static void text_scalar_list(FILE *f, const cJSON *list, const char *identifier)
{
	bool first = true;
	const cJSON *e;
	cJSON_ArrayForEach(e, list){
		if(is_container(e)) continue;
		if(identifier){
			upper(f, identifier);
			fputc('\t', f);
			text_scalar(f, e);
			fputc('\n', f);
		}else{
			if(!first) fputc('\t', f);
			text_scalar(f, e);
		}
		first = false;
	}
	if(!identifier && !first) fputc('\n', f);
}

static void text_list(FILE *f, const cJSON *list, const char *identifier)
{
	bool objects = false, lists = false, scalars = false;
	const cJSON *e;
	cJSON_ArrayForEach(e, list){
		objects |= cJSON_IsObject(e);
		lists |= cJSON_IsArray(e);
		scalars |= !is_container(e);
	}
	if(objects){
		/* Every scalar key of any of the objects, sorted, once. */
		size_t cap = 0, n = 0;
		cJSON_ArrayForEach(e, list){
			if(cJSON_IsObject(e)) cap += (size_t)cJSON_GetArraySize(e);
		}
		const char **keys = cap ? malloc(cap * sizeof(*keys)) : NULL;
		if(keys){
			cJSON_ArrayForEach(e, list){
				const cJSON *m;
				if(!cJSON_IsObject(e)) continue;
				cJSON_ArrayForEach(m, e){
					if(!is_container(m)) keys[n++] = m->string;
				}
			}
			qsort(keys, n, sizeof(*keys), compare_names);
			size_t u = 0;
			for(size_t i = 0; i < n; i++){
				if(u == 0 || strcmp(keys[u - 1], keys[i]) != 0) keys[u++] = keys[i];
			}
			n = u;
		}
		cJSON_ArrayForEach(e, list) text_value(f, e, identifier, keys ? keys : (const char *[]){ "" }, n);
		free(keys);
	}else if(lists){
		if(scalars) text_scalar_list(f, list, identifier);
		cJSON_ArrayForEach(e, list){
			if(is_container(e)) text_value(f, e, identifier, NULL, 0);
		}
	}else if(list->child){
		text_scalar_list(f, list, identifier);
	}
}

static void text_value(FILE *f, const cJSON *v, const char *identifier, const char **keys, size_t nkeys)
{
	if(cJSON_IsObject(v)){
		text_object(f, v, identifier, keys, nkeys);
	}else if(cJSON_IsArray(v)){
		text_list(f, v, identifier);
	}else{
		text_scalar(f, v);
		fputc('\n', f);
	}
}

void output_text(FILE *f, const cJSON *v)
{
	text_value(f, v, NULL, NULL, 0);
}

void output_text_pages(FILE *f, const cJSON *result, const char *list_key, const int *page_items, size_t pages)
{
	const cJSON *item = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(result, list_key), 0);
	for(size_t i = 0; i < pages; i++){
		cJSON *page = cJSON_CreateObject();
		cJSON *list = cJSON_AddArrayToObject(page, list_key);
		for(int k = 0; k < page_items[i] && item; k++, item = item->next){
			if(list) cJSON_AddItemReferenceToArray(list, (cJSON *)item);
		}
		output_text(f, page);
		cJSON_Delete(page);
	}
	const cJSON *token = cJSON_GetObjectItemCaseSensitive(result, "NextToken");
	if(cJSON_IsString(token)) fprintf(f, "NEXTTOKEN\t%s\n", token->valuestring);
}
