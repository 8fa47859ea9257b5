/* The per-thing rate limit and the log-line limiter, on a clock the tests set. */
#include <stdio.h>
#include <string.h>

#include "util/hash.h"
#include "util/loglimit.h"
#include "core/ratelimit.h"
#include "suites.h"

/* The rate limit's slot of a name: FNV-1a modulo its 4,096 slots. */
static unsigned slot_of(const char *s)
{
	return hash_fnv1a32(HASH_FNV1A32_INIT, s) % 4096;
}

/* A name other than `name` in the same slot. */
static void colliding_name(const char *name, char *out, size_t size)
{
	unsigned want = slot_of(name);
	for(int i = 0; ; i++){
		snprintf(out, size, "thing-%d", i);
		if(slot_of(out) == want && strcmp(out, name) != 0) return;
	}
}

/* Two things whose names collide share one bucket: alternating them gets no more
 * through than one thing alone. */
static void test_colliding_things_share_a_bucket(void)
{
	char other[32];
	colliding_name("sensor-1", other, sizeof(other));
	struct ratelimit *rl = ratelimit_create(1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rl);
	int64_t t = 1700000000000;
	int allowed = 0;
	for(int i = 0; i < 1000; i++){
		if(ratelimit_allow(rl, i % 2 ? other : "sensor-1", t)) allowed++;
	}
	CU_ASSERT_EQUAL(allowed, 1);
	/* a second later the shared bucket holds one token again */
	CU_ASSERT_TRUE(ratelimit_allow(rl, other, t + 1000));
	CU_ASSERT_FALSE(ratelimit_allow(rl, "sensor-1", t + 1000));
	ratelimit_destroy(rl);
}

static void test_things_apart_have_their_own_buckets(void)
{
	struct ratelimit *rl = ratelimit_create(2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rl);
	CU_ASSERT_NOT_EQUAL(slot_of("a"), slot_of("b"));
	int64_t t = 5000;
	CU_ASSERT_TRUE(ratelimit_allow(rl, "a", t));
	CU_ASSERT_TRUE(ratelimit_allow(rl, "a", t));
	CU_ASSERT_FALSE(ratelimit_allow(rl, "a", t));
	CU_ASSERT_TRUE(ratelimit_allow(rl, "b", t));
	CU_ASSERT_TRUE(ratelimit_allow(rl, "b", t));
	CU_ASSERT_FALSE(ratelimit_allow(rl, "b", t));
	/* 500 ms bring one token back (2 a second) */
	CU_ASSERT_TRUE(ratelimit_allow(rl, "a", t + 500));
	CU_ASSERT_FALSE(ratelimit_allow(rl, "a", t + 500));
	ratelimit_destroy(rl);
}

/* 5 lines a second, bursts of 10: a flood prints 10, then 5 a second, and each line
 * after held-back ones carries their count. */
static void test_loglimit_counts_what_it_holds_back(void)
{
	struct loglimit l;
	loglimit_init(&l, 5, 10);
	uint64_t suppressed = 99;
	int64_t t = 1000;
	int printed = 0;
	for(int i = 0; i < 1000; i++){
		if(loglimit_allow(&l, t, &suppressed)){
			printed++;
			CU_ASSERT_EQUAL(suppressed, 0);
		}
	}
	CU_ASSERT_EQUAL(printed, 10);
	/* 100 ms later nothing is back yet; 200 ms later one line, with the count */
	CU_ASSERT_FALSE(loglimit_allow(&l, t + 100, &suppressed));
	CU_ASSERT_TRUE_FATAL(loglimit_allow(&l, t + 200, &suppressed));
	CU_ASSERT_EQUAL(suppressed, 991);
	CU_ASSERT_FALSE(loglimit_allow(&l, t + 200, &suppressed));
	/* lines dropped before the limiter count too */
	loglimit_suppress(&l, 7);
	CU_ASSERT_TRUE_FATAL(loglimit_allow(&l, t + 400, &suppressed));
	CU_ASSERT_EQUAL(suppressed, 8);
	/* a quiet minute refills the burst, not more */
	printed = 0;
	for(int i = 0; i < 50; i++){
		if(loglimit_allow(&l, t + 60000, &suppressed)) printed++;
	}
	CU_ASSERT_EQUAL(printed, 10);
}

void add_limits_tests(void)
{
	static const struct test_entry tests[] = {
		{ "colliding things share a bucket", test_colliding_things_share_a_bucket },
		{ "things apart have their own buckets", test_things_apart_have_their_own_buckets },
		{ "log limiter counts what it holds back", test_loglimit_counts_what_it_holds_back },
	};
	ADD_SUITE("limits", tests);
}
