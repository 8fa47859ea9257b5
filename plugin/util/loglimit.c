/* A token bucket for log lines, with a count of the lines it held back. */
#include "util/loglimit.h"

#include <assert.h>
#include <string.h>

void loglimit_init(struct loglimit *l, double per_second, double burst)
{
	assert(l && per_second > 0 && burst >= 1);
	memset(l, 0, sizeof(*l));
	l->per_second = per_second;
	l->burst = burst;
}

bool loglimit_allow(struct loglimit *l, int64_t now_ms, uint64_t *suppressed)
{
	assert(l && suppressed);
	if(!token_bucket_take(&l->bucket, l->per_second, l->burst, now_ms)){
		l->suppressed++;
		return false;
	}
	*suppressed = l->suppressed;
	l->suppressed = 0;
	return true;
}

void loglimit_suppress(struct loglimit *l, uint64_t n)
{
	l->suppressed += n;
}
