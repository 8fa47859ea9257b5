/* FNV-1a, the string hash of the fixed tables (the rate limit's slots, the notify
 * scope's open addressing). Pure; inline, as it runs once per device request.
 * Start with HASH_FNV1A32_INIT or HASH_FNV1A64_INIT and feed strings in turn (the
 * result of one is the start of the next). The 32-bit value picks the rate limit's
 * slot, which docs and tests rely on: keep it as it is. */
#ifndef MOSQUITTO_JOBS_HASH_H
#define MOSQUITTO_JOBS_HASH_H

#include <stdint.h>

#define HASH_FNV1A32_INIT UINT32_C(2166136261)
#define HASH_FNV1A64_INIT UINT64_C(14695981039346656037)

static inline uint32_t hash_fnv1a32(uint32_t h, const char *s)
{
	for(; *s; s++) h = (h ^ (unsigned char)*s) * UINT32_C(16777619);
	return h;
}

static inline uint64_t hash_fnv1a64(uint64_t h, const char *s)
{
	for(; *s; s++) h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
	return h;
}

#endif
