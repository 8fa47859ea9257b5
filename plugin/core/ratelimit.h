/* A per-thing request rate limit (plugin_opt_rate_limit): a token bucket per thing,
 * N requests per second with bursts of N. Memory is fixed: a table of 4,096 buckets,
 * a thing's bucket the one its name hashes to. Things whose names collide share a
 * bucket (together at most N a second), so a collision makes the limit stricter for
 * them, never looser. */
#ifndef MOSQUITTO_JOBS_RATELIMIT_H
#define MOSQUITTO_JOBS_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

/* One token bucket; zeroed, it starts full at its first take. */
struct token_bucket {
	bool started;
	double tokens;
	int64_t last_ms;
};

/* Takes one token at now_ms from a bucket that gains per_second tokens a second and
 * holds at most burst; false when it is empty. */
bool token_bucket_take(struct token_bucket *b, double per_second, double burst, int64_t now_ms);

struct ratelimit;

/* NULL when out of memory. Free with ratelimit_destroy. */
struct ratelimit *ratelimit_create(int per_second);
void ratelimit_destroy(struct ratelimit *rl);
/* Takes one token for the thing at now_ms; false when its bucket is empty. */
bool ratelimit_allow(struct ratelimit *rl, const char *thing, int64_t now_ms);

#endif
