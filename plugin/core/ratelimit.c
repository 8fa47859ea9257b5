/* Token buckets in a fixed table: a thing's bucket is the slot its name hashes to. */
#include "core/ratelimit.h"

#include <stdlib.h>

#include "util/hash.h"

#define SLOTS 4096

/* A slot is one bucket, whatever thing hashes to it: things that collide share it,
 * so a collision makes their limit stricter, never looser. */
struct ratelimit {
	double per_second;
	struct token_bucket slots[SLOTS];
};


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
	return token_bucket_take(&rl->slots[hash_fnv1a32(HASH_FNV1A32_INIT, thing) % SLOTS], rl->per_second, rl->per_second, now_ms);
}
