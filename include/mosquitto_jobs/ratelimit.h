/* A per-thing request rate limit (plugin_opt_rate_limit): a token bucket per thing,
 * N requests per second with bursts of N. Memory is fixed: things share a table of
 * slots by hash, and a thing that takes over another's slot starts with a full
 * bucket, so the limit is approximate under collisions, never unbounded in memory. */
#ifndef MOSQUITTO_JOBS_RATELIMIT_H
#define MOSQUITTO_JOBS_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct ratelimit;

/* NULL when out of memory. Free with ratelimit_destroy. */
struct ratelimit *ratelimit_create(int per_second);
void ratelimit_destroy(struct ratelimit *rl);
/* Takes one token for the thing at now_ms; false when its bucket is empty. */
bool ratelimit_allow(struct ratelimit *rl, const char *thing, int64_t now_ms);

#endif
