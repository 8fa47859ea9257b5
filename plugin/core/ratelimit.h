/* A per-thing request rate limit (plugin_opt_rate_limit): a token bucket per thing,
 * N requests per second with bursts of N. Memory is fixed: a table of 4,096 buckets,
 * a thing's bucket the one its name hashes to. Things whose names collide share a
 * bucket (together at most N a second), so a collision makes the limit stricter for
 * them, never looser. */
#ifndef MOSQUITTO_JOBS_RATELIMIT_H
#define MOSQUITTO_JOBS_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "util/token_bucket.h"

struct ratelimit;

/* NULL when out of memory. Free with ratelimit_destroy. */
struct ratelimit *ratelimit_create(int per_second);
void ratelimit_destroy(struct ratelimit *rl);
/* Takes one token for the thing at now_ms; false when its bucket is empty. */
bool ratelimit_allow(struct ratelimit *rl, const char *thing, int64_t now_ms);

#endif
