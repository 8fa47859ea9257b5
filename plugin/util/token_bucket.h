/* A token bucket: per_second tokens a second, at most burst held. The rate limit
 * (core/ratelimit.h) keeps one per slot, the log limiter (util/loglimit.h) one per
 * kind of line. Pure: the time comes in as a parameter. */
#ifndef MOSQUITTO_JOBS_TOKEN_BUCKET_H
#define MOSQUITTO_JOBS_TOKEN_BUCKET_H

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

#endif
