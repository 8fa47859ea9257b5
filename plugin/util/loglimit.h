/* A cap on how often one kind of log line is printed (refusals: a client that is
 * refused in a loop must not flood the log): at most per_second lines a second, with
 * bursts of burst. The lines held back are counted, and the next line let through
 * says how many. Not thread-safe: one thread uses it. */
#ifndef MOSQUITTO_JOBS_LOGLIMIT_H
#define MOSQUITTO_JOBS_LOGLIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "util/token_bucket.h"

struct loglimit {
	struct token_bucket bucket;
	double per_second;
	double burst;
	uint64_t suppressed;   /* held back since the last line let through */
};

void loglimit_init(struct loglimit *l, double per_second, double burst);
/* Whether a line may be printed at now_ms. When it may, *suppressed is how many were
 * held back since the last one printed (the count starts over); when it may not, the
 * line is counted as held back. */
bool loglimit_allow(struct loglimit *l, int64_t now_ms, uint64_t *suppressed);
/* Counts n lines held back elsewhere (dropped before they reached the limiter). */
void loglimit_suppress(struct loglimit *l, uint64_t n);

#endif
