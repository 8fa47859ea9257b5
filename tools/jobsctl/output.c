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
