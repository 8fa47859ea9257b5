/* AWS's cron expressions (util/cron.c): what parses, what is refused, and the next
 * time each fires, against dates worked out by hand (and checked with Python's
 * datetime). */
#include <stdio.h>
#include <string.h>

#include "util/civil.h"
#include "util/cron.h"
#include "suites.h"

static int64_t at(int y, int m, int d, int h, int mi)
{
	return (civil_to_days(y, m, d) * 1440 + h * 60 + mi) * 60000;
}

static int64_t next_of(const char *expr, int64_t from_ms)
{
	struct cron c;
	char err[200] = "";
	if(cron_parse(expr, &c, err, sizeof(err)) != 0){
		CU_FAIL_FATAL("an expression of the table did not parse");
	}
	return cron_next(&c, from_ms);
}

static void test_days_from_civil(void)
{
	CU_ASSERT_EQUAL(civil_to_days(1970, 1, 1), 0);
	int64_t y;
	int m, d;
	civil_from_days(civil_to_days(2028, 2, 29), &y, &m, &d);
	CU_ASSERT_TRUE(y == 2028 && m == 2 && d == 29);
	CU_ASSERT_EQUAL(civil_days_in_month(2100, 2), 28);
	CU_ASSERT_EQUAL(civil_days_in_month(2000, 2), 29);
	CU_ASSERT_EQUAL(at(2026, 12, 8, 0, 0), 1796688000000LL);
	CU_ASSERT_EQUAL(at(2028, 2, 29, 3, 0), 1835406000000LL);
}

static void test_next(void)
{
	const struct { const char *expr; int64_t from, want; } rows[] = {
		/* daily at midnight, from a Monday 23:50:30 */
		{ "cron(0 0 * * ? *)", at(2026, 12, 7, 23, 50) + 30000, at(2026, 12, 8, 0, 0) },
		/* the very minute it fires counts; one ms later is the next day */
		{ "cron(0 0 * * ? *)", at(2026, 12, 8, 0, 0), at(2026, 12, 8, 0, 0) },
		{ "cron(0 0 * * ? *)", at(2026, 12, 8, 0, 0) + 1, at(2026, 12, 9, 0, 0) },
		/* weekly, by name and by number (1 is Sunday), and without cron( ) */
		{ "cron(0 10 ? * SUN *)", at(2026, 12, 7, 23, 50), at(2026, 12, 13, 10, 0) },
		{ "0 10 ? * 1 *", at(2026, 12, 7, 23, 50), at(2026, 12, 13, 10, 0) },
		{ "cron(30 22 ? * MON-FRI *)", at(2026, 12, 11, 22, 31), at(2026, 12, 14, 22, 30) },
		/* steps and lists */
		{ "cron(*/15 * * * ? *)", at(2026, 12, 7, 23, 50) + 30000, at(2026, 12, 8, 0, 0) },
		{ "cron(5/20 8,20 * * ? *)", at(2026, 12, 8, 8, 46), at(2026, 12, 8, 20, 5) },
		{ "cron(0 12 1 JAN,JUL ? *)", at(2026, 12, 8, 0, 0), at(2027, 1, 1, 12, 0) },
		/* the month's last day, in a common and in a leap year */
		{ "cron(0 3 L * ? *)", at(2027, 2, 1, 0, 0), at(2027, 2, 28, 3, 0) },
		{ "cron(0 3 L * ? *)", at(2028, 2, 1, 0, 0), at(2028, 2, 29, 3, 0) },
		/* the last weekday: Thursday the 31st; Friday the 29th when the 31st is a Sunday */
		{ "cron(0 6 LW * ? *)", at(2026, 12, 1, 0, 0), at(2026, 12, 31, 6, 0) },
		{ "cron(0 6 LW * ? *)", at(2027, 1, 1, 0, 0), at(2027, 1, 29, 6, 0) },
		/* the weekday nearest the 15th (a Saturday): the 14th; nearest the 1st (a
		 * Saturday): Monday the 3rd, never the month before */
		{ "cron(0 0 15W * ? 2026)", at(2026, 8, 1, 0, 0), at(2026, 8, 14, 0, 0) },
		{ "cron(0 0 1W 8 ? 2026)", at(2026, 7, 1, 0, 0), at(2026, 8, 3, 0, 0) },
		/* the third Monday; the last Friday */
		{ "cron(0 0 ? 12 2#3 2026)", at(2026, 12, 1, 0, 0), at(2026, 12, 21, 0, 0) },
		{ "cron(0 0 ? DEC 6L *)", at(2026, 12, 1, 0, 0), at(2026, 12, 25, 0, 0) },
		/* a year ahead; a year past: never */
		{ "cron(0 0 1 1 ? 2030)", at(2026, 12, 8, 0, 0), at(2030, 1, 1, 0, 0) },
		{ "cron(0 0 1 1 ? 2020-2025)", at(2026, 12, 8, 0, 0), -1 },
		/* February 30th never comes */
		{ "cron(0 0 30 2 ? *)", at(2026, 12, 8, 0, 0), -1 },
	};
	for(size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++){
		int64_t got = next_of(rows[i].expr, rows[i].from);
		if(got != rows[i].want){
			fprintf(stderr, "\n%s from %lld: %lld, not %lld\n", rows[i].expr, (long long)rows[i].from,
					(long long)got, (long long)rows[i].want);
		}
		CU_ASSERT_EQUAL(got, rows[i].want);
	}
}

static void test_refused(void)
{
	const char *bad[] = {
		"", "cron()", "cron(0 10 * * MON *)", "cron(0 10 ? * ? *)", "cron(60 10 ? * MON *)",
		"cron(0 24 ? * MON *)", "cron(0 10 ? * MON)", "cron(0 10 ? * MON * *)", "cron(a b c d e f)",
		"cron(0 10 ? * 8 *)", "cron(0 10 32 * ? *)", "cron(0 10 ? * 2#6 *)", "cron(0 10 ? * MON 1969)",
		"cron(0 5-1 * * ? *)", "cron(0 10 0W * ? *)", "cron(0 10 1,,2 * ? *)", "cron(0 10 ? 13 MON *)",
		"cron(0/0 10 * * ? *)", "cron(? 10 * * ? *)", "cron(0 10 ? * XL *)",
	};
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		struct cron c;
		char err[200] = "";
		int rc = cron_parse(bad[i], &c, err, sizeof(err));
		if(rc == 0) fprintf(stderr, "\n%s parsed\n", bad[i]);
		CU_ASSERT_EQUAL(rc, -1);
		CU_ASSERT_TRUE(err[0] != '\0');
	}
	char err[200];
	struct cron c;
	CU_ASSERT_EQUAL(cron_parse("cron(0 10 * * MON *)", &c, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "Day-of-week"));
}

void add_cron_tests(void)
{
	static const struct test_entry tests[] = {
		{ "days from a civil date", test_days_from_civil },
		{ "the next time an expression fires", test_next },
		{ "expressions refused, with a reason", test_refused },
	};
	ADD_SUITE("cron", tests);
}
