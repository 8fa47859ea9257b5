/* Cron expressions as AWS documents them for recurring schedules (EventBridge's six
 * fields, which AWS IoT Jobs' maintenance windows take), and the next time one fires.
 * Pure: no clock, no allocation, UTC only.
 *
 * Syntax: "cron(Minutes Hours Day-of-month Month Day-of-week Year)" (the six fields
 * alone are taken too). Fields: Minutes 0-59, Hours 0-23, Day-of-month 1-31, Month 1-12
 * or JAN-DEC, Day-of-week 1-7 or SUN-SAT (1 is Sunday), Year 1970-2199. Each field is
 * `*`, a value, a range `a-b`, a step `* / n`, `a/n` or `a-b/n` (without the spaces),
 * or a comma list of those. Day-of-month also takes `L` (the month's last day), `LW`
 * (its last weekday) and `nW` (the weekday nearest day n, within the month);
 * Day-of-week takes `L` (Saturday), `nL` (the month's last day n) and `n#k` (its k-th
 * day n). One of Day-of-month and Day-of-week must be `?` (any), and not both. */
#ifndef MOSQUITTO_JOBS_CRON_H
#define MOSQUITTO_JOBS_CRON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRON_YEAR_MIN 1970
#define CRON_YEAR_MAX 2199

enum cron_day_special {
	CRON_DAY_LIST = 0,   /* the bits */
	CRON_DAY_ANY,        /* ? */
	CRON_DOM_LAST,       /* L */
	CRON_DOM_LAST_WEEKDAY, /* LW */
	CRON_DOM_NEAREST_WEEKDAY, /* nW: arg n */
	CRON_DOW_LAST,       /* nL: arg n (L alone: 7) */
	CRON_DOW_NTH,        /* n#k: arg n, nth k */
};

struct cron {
	uint64_t minutes;    /* bit m: minute m */
	uint32_t hours;
	uint32_t dom;        /* bits 1-31 */
	uint16_t months;     /* bits 1-12 */
	uint8_t dow;         /* bits 1-7 (1: Sunday) */
	uint64_t years[4];   /* bit (y - CRON_YEAR_MIN) */
	int dom_kind, dow_kind;  /* enum cron_day_special */
	int dom_arg, dow_arg, dow_nth;
};

/* Parses `text`: 0, or -1 with why in err. */
int cron_parse(const char *text, struct cron *out, char *err, size_t errlen);

/* The first time the expression fires at or after from_ms (epoch ms; it fires on whole
 * minutes), or -1 when it never does again (up to CRON_YEAR_MAX). */
int64_t cron_next(const struct cron *c, int64_t from_ms);

#endif
