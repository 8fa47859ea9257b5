/* Token buckets per thing in a fixed hash table. */
#include "mosquitto_jobs/ratelimit.h"

#include <stdlib.h>
#include <string.h>

#include "mosquitto_jobs/names.h"

#define SLOTS 4096

struct bucket {
	char thing[JOBS_THING_NAME_MAX + 1];
	double tokens;
	int64_t last_ms;
};

struct ratelimit {
	double rate;   /* tokens per millisecond */
	double burst;
	struct bucket slots[SLOTS];
};

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for(; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

struct ratelimit *ratelimit_create(int per_second)
{
	struct ratelimit *rl = calloc(1, sizeof(*rl));
	if(!rl) return NULL;
	rl->rate = per_second / 1000.0;
	rl->burst = per_second;
	return rl;
}

void ratelimit_destroy(struct ratelimit *rl)
{
	free(rl);
}

bool ratelimit_allow(struct ratelimit *rl, const char *thing, int64_t now_ms)
{
	struct bucket *b = &rl->slots[hash(thing) % SLOTS];
	if(strcmp(b->thing, thing) != 0){
		strncpy(b->thing, thing, sizeof(b->thing) - 1);
		b->thing[sizeof(b->thing) - 1] = '\0';
		b->tokens = rl->burst;
		b->last_ms = now_ms;
	}
	if(now_ms > b->last_ms){
		b->tokens += (double)(now_ms - b->last_ms) * rl->rate;
		if(b->tokens > rl->burst) b->tokens = rl->burst;
		b->last_ms = now_ms;
	}
	if(b->tokens < 1.0) return false;
	b->tokens -= 1.0;
	return true;
}
