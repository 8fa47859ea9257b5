/* A token bucket on a clock the caller reads. */
#include "util/token_bucket.h"

#include <assert.h>

bool token_bucket_take(struct token_bucket *b, double per_second, double burst, int64_t now_ms)
{
	assert(b && per_second >= 0 && burst >= 0);
	if(!b->started){
		b->started = true;
		b->tokens = burst;
		b->last_ms = now_ms;
	}
	if(now_ms > b->last_ms){
		b->tokens += (double)(now_ms - b->last_ms) * per_second / 1000.0;
		if(b->tokens > burst) b->tokens = burst;
		b->last_ms = now_ms;
	}
	if(b->tokens < 1.0) return false;
	b->tokens -= 1.0;
	return true;
}
