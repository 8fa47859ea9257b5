/* AWS's cron expressions: parsing, and the next time one fires (cron.h). */
#include "util/cron.h"

#include "util/civil.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { F_MIN, F_HOUR, F_DOM, F_MONTH, F_DOW, F_YEAR, F_COUNT };

static const char *const field_names[F_COUNT] = {
	"Minutes", "Hours", "Day-of-month", "Month", "Day-of-week", "Year",
};
static const int field_lo[F_COUNT] = { 0, 0, 1, 1, 1, CRON_YEAR_MIN };
static const int field_hi[F_COUNT] = { 59, 23, 31, 12, 7, CRON_YEAR_MAX };

static const char *const month_names[12] = {
	"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
};
static const char *const day_names[7] = { "SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT" };

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* A number or, for months and days of the week, a three-letter name; advances *p. */
static bool read_value(int field, const char **p, int *out)
{
	const char *s = *p;
	if(isdigit((unsigned char)*s)){
		long v = 0;
		int digits = 0;
		while(isdigit((unsigned char)*s) && digits < 5){
			v = v * 10 + (*s++ - '0');
			digits++;
		}
		if(isdigit((unsigned char)*s)) return false;
		*out = (int)v;
		*p = s;
		return true;
	}
	const char *const *names = field == F_MONTH ? month_names : field == F_DOW ? day_names : NULL;
	int count = field == F_MONTH ? 12 : 7;
	for(int i = 0; names && i < count; i++){
		if(strncasecmp(s, names[i], 3) == 0){
			*out = i + 1;
			*p = s + 3;
			return true;
		}
	}
	return false;
}

static void set_bit(struct cron *c, int field, int v)
{
	switch(field){
	case F_MIN: c->minutes |= 1ULL << v; break;
	case F_HOUR: c->hours |= 1UL << v; break;
	case F_DOM: c->dom |= 1UL << v; break;
	case F_MONTH: c->months |= (uint16_t)(1U << v); break;
	case F_DOW: c->dow |= (uint8_t)(1U << v); break;
	default: c->years[(v - CRON_YEAR_MIN) / 64] |= 1ULL << ((v - CRON_YEAR_MIN) % 64); break;
	}
}

/* The day fields' special forms (?, L, LW, nW, nL, n#k): 1 when `s` is one, 0 when
 * it is not, -1 when it is one written wrong. */
static int parse_day_special(struct cron *c, int field, const char *s, char *err, size_t errlen)
{
	const char *name = field_names[field];
	if(strcmp(s, "?") == 0){
		if(field == F_DOM) c->dom_kind = CRON_DAY_ANY;
		else c->dow_kind = CRON_DAY_ANY;
		return 1;
	}
	if(field == F_DOM){
		size_t n = strlen(s);
		if(strcasecmp(s, "L") == 0){
			c->dom_kind = CRON_DOM_LAST;
			return 1;
		}
		if(strcasecmp(s, "LW") == 0){
			c->dom_kind = CRON_DOM_LAST_WEEKDAY;
			return 1;
		}
		if(n >= 2 && toupper((unsigned char)s[n - 1]) == 'W'){
			const char *p = s;
			int v;
			if(!read_value(field, &p, &v) || p != s + n - 1 || v < 1 || v > 31){
				return fail(err, errlen, "%s: %s is not a day of the month followed by W", name, s);
			}
			c->dom_kind = CRON_DOM_NEAREST_WEEKDAY;
			c->dom_arg = v;
			return 1;
		}
		return 0;
	}
	if(field != F_DOW) return 0;
	if(strcasecmp(s, "L") == 0){
		c->dow_kind = CRON_DOW_LAST;
		c->dow_arg = 7;
		return 1;
	}
	const char *p = s;
	int v, k;
	if(!strpbrk(s, "#Ll")) return 0;
	if(!read_value(field, &p, &v) || v < 1 || v > 7){
		return fail(err, errlen, "%s: %s needs a day of the week (1-7 or SUN-SAT) first", name, s);
	}
	if((*p == 'L' || *p == 'l') && p[1] == '\0'){
		c->dow_kind = CRON_DOW_LAST;
		c->dow_arg = v;
		return 1;
	}
	if(*p == '#'){
		p++;
		if(read_value(F_MIN, &p, &k) && *p == '\0' && k >= 1 && k <= 5){
			c->dow_kind = CRON_DOW_NTH;
			c->dow_arg = v;
			c->dow_nth = k;
			return 1;
		}
	}
	return fail(err, errlen, "%s: %s must be nL or n#k (k 1-5)", name, s);
}

/* One item of a list: *, a value, a range, each with an optional /step. */
static int parse_item(struct cron *c, int field, const char *item, char *err, size_t errlen)
{
	const char *name = field_names[field];
	int lo = field_lo[field], hi = field_hi[field], a, b, step = 1;
	const char *p = item;
	if(*p == '*'){
		a = lo;
		b = hi;
		p++;
	}else{
		if(!read_value(field, &p, &a)) return fail(err, errlen, "%s: %s is not a value of this field", name, item);
		b = a;
		if(*p == '-'){
			p++;
			if(!read_value(field, &p, &b)) return fail(err, errlen, "%s: %s is not a range", name, item);
		}
	}
	if(*p == '/'){
		p++;
		if(!read_value(F_MIN, &p, &step) || step < 1) return fail(err, errlen, "%s: %s has no valid step", name, item);
		if(b == a && item[0] != '*') b = hi;  /* a/n: from a to the end */
	}
	if(*p != '\0') return fail(err, errlen, "%s: %s is not a value, a range or a step", name, item);
	if(a < lo || a > hi || b < lo || b > hi){
		char range[48];
		snprintf(range, sizeof(range), "%s (%d-%d)", item, lo, hi);
		return fail(err, errlen, "%s: %s is out of range", name, range);
	}
	if(a > b) return fail(err, errlen, "%s: %s is a range that ends before it starts", name, item);
	for(int v = a; v <= b; v += step) set_bit(c, field, v);
	return 0;
}

static int parse_field(struct cron *c, int field, char *text, char *err, size_t errlen)
{
	int special = parse_day_special(c, field, text, err, errlen);
	if(special) return special < 0 ? -1 : 0;
	char *save = NULL;
	if(text[0] == ',' || text[strlen(text) - 1] == ',' || strstr(text, ",,")){
		return fail(err, errlen, "%s: %s has an empty list item", field_names[field], text);
	}
	for(char *item = strtok_r(text, ",", &save); item; item = strtok_r(NULL, ",", &save)){
		if(parse_item(c, field, item, err, errlen)) return -1;
	}
	return 0;
}

int cron_parse(const char *text, struct cron *out, char *err, size_t errlen)
{
	char buf[257];
	memset(out, 0, sizeof(*out));
	size_t len = strlen(text);
	if(len >= sizeof(buf)) return fail(err, errlen, "%s%s", "a cron expression is at most 256 characters", "");
	if(len > 6 && strncasecmp(text, "cron(", 5) == 0 && text[len - 1] == ')'){
		memcpy(buf, text + 5, len - 6);
		buf[len - 6] = '\0';
	}else{
		memcpy(buf, text, len + 1);
	}
	char *fields[F_COUNT + 1];
	int n = 0;
	char *save = NULL;
	for(char *f = strtok_r(buf, " \t", &save); f; f = strtok_r(NULL, " \t", &save)){
		if(n == F_COUNT) return fail(err, errlen, "%s%s", "a cron expression has six fields", " (Minutes Hours Day-of-month Month Day-of-week Year), not more");
		fields[n++] = f;
	}
	if(n != F_COUNT){
		return fail(err, errlen, "%s%s", "a cron expression has six fields: ",
				"cron(Minutes Hours Day-of-month Month Day-of-week Year)");
	}
	for(int f = 0; f < F_COUNT; f++){
		if(strcmp(fields[f], "?") == 0 && f != F_DOM && f != F_DOW){
			return fail(err, errlen, "%s: %s", field_names[f], "? is only for Day-of-month or Day-of-week");
		}
		if(parse_field(out, f, fields[f], err, errlen)) return -1;
	}
	if((out->dom_kind == CRON_DAY_ANY) == (out->dow_kind == CRON_DAY_ANY)){
		return fail(err, errlen, "%s%s", "one of Day-of-month and Day-of-week must be ?",
				" (and only one): cron(0 10 ? * MON *), cron(0 10 1 * ? *)");
	}
	return 0;
}

/* 1 (Sunday) to 7 (Saturday); 1970-01-01 was a Thursday. */
static int weekday(int64_t days)
{
	int64_t w = (days + 4) % 7;
	return (int)(w < 0 ? w + 7 : w) + 1;
}

static bool is_weekday(int64_t y, int m, int d)
{
	int w = weekday(civil_to_days(y, m, d));
	return w >= 2 && w <= 6;
}

/* The weekday nearest day n of the month, never in another month (AWS's nW). */
static int nearest_weekday(int64_t y, int m, int n)
{
	int dim = civil_days_in_month(y, m);
	if(n > dim) n = dim;
	int w = weekday(civil_to_days(y, m, n));
	if(w == 7) return n == 1 ? 3 : n - 1;     /* Saturday: Friday, or Monday the 3rd */
	if(w == 1) return n == dim ? n - 2 : n + 1; /* Sunday: Monday, or Friday */
	return n;
}

static bool day_matches(const struct cron *c, int64_t y, int m, int d)
{
	int dim = civil_days_in_month(y, m);
	int w = weekday(civil_to_days(y, m, d));
	switch(c->dom_kind){
	case CRON_DAY_ANY: break;
	case CRON_DOM_LAST: if(d != dim) return false; break;
	case CRON_DOM_LAST_WEEKDAY: {
		int last = dim;
		while(!is_weekday(y, m, last)) last--;
		if(d != last) return false;
		break;
	}
	case CRON_DOM_NEAREST_WEEKDAY: if(d != nearest_weekday(y, m, c->dom_arg)) return false; break;
	default: if(!(c->dom & (1UL << d))) return false; break;
	}
	switch(c->dow_kind){
	case CRON_DAY_ANY: return true;
	case CRON_DOW_LAST: return w == c->dow_arg && d + 7 > dim;
	case CRON_DOW_NTH: return w == c->dow_arg && (d - 1) / 7 + 1 == c->dow_nth;
	default: return (c->dow & (1U << w)) != 0;
	}
}

static bool year_matches(const struct cron *c, int64_t y)
{
	if(y < CRON_YEAR_MIN || y > CRON_YEAR_MAX) return false;
	int i = y - CRON_YEAR_MIN;
	return (c->years[i / 64] >> (i % 64)) & 1;
}

/* The first minute of the day at or after `from_minute` (0-1439) that fires, or -1. */
static int first_minute(const struct cron *c, int from_minute)
{
	for(int h = from_minute / 60; h < 24; h++){
		if(!(c->hours & (1UL << h))) continue;
		for(int mi = h == from_minute / 60 ? from_minute % 60 : 0; mi < 60; mi++){
			if(c->minutes & (1ULL << mi)) return h * 60 + mi;
		}
	}
	return -1;
}

int64_t cron_next(const struct cron *c, int64_t from_ms)
{
	if(from_ms < 0) from_ms = 0;
	int64_t minute = (from_ms + 59999) / 60000;  /* whole minutes, rounded up */
	int64_t day = minute / 1440;
	int from = (int)(minute % 1440);
	int64_t y;
	int m, d;
	civil_from_days(day, &y, &m, &d);
	while(y <= CRON_YEAR_MAX){
		if(!year_matches(c, y)){
			y++, m = 1, d = 1, from = 0;
			continue;
		}
		if(!(c->months & (1U << m))){
			if(++m > 12) y++, m = 1;
			d = 1, from = 0;
			continue;
		}
		if(day_matches(c, y, m, d)){
			int at = first_minute(c, from);
			if(at >= 0) return (civil_to_days(y, m, d) * 1440 + at) * 60000;
		}
		from = 0;
		if(++d > civil_days_in_month(y, m)){
			d = 1;
			if(++m > 12) y++, m = 1;
		}
	}
	return -1;
}
