/* Token buckets in a fixed table: a thing's bucket is the slot its name hashes to. */
#include "core/ratelimit.h"

#include <stdlib.h>

#define SLOTS 4096

/* A slot is one bucket, whatever thing hashes to it: things that collide share it,
 * so a collision makes their limit stricter, never looser. */
struct ratelimit {
	double per_second;
	struct token_bucket slots[SLOTS];
};

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for(; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

bool token_bucket_take(struct token_bucket *b, double per_second, double burst, int64_t now_ms)
{
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

struct ratelimit *ratelimit_create(int per_second)
{
	struct ratelimit *rl = calloc(1, sizeof(*rl));
	if(!rl) return NULL;
	rl->per_second = per_second;
	return rl;
}

void ratelimit_destroy(struct ratelimit *rl)
{
	free(rl);
}

bool ratelimit_allow(struct ratelimit *rl, const char *thing, int64_t now_ms)
{
	return token_bucket_take(&rl->slots[hash(thing) % SLOTS], rl->per_second, rl->per_second, now_ms);
}
