/* The numbers of the $SYS topics: the store's counts by status, and a counter of
 * device requests in one-second slots over a minute (a slot is reused, emptied,
 * when its second comes round again, so reading costs 60 additions). */
#include <string.h>

#include "core/core_state.h"
#include "core/sysstats.h"

static size_t slot_of(int64_t second)
{
	int64_t r = second % SYSSTATS_WINDOW_S;
	return (size_t)(r < 0 ? r + SYSSTATS_WINDOW_S : r);
}

void sysstats_note_request(struct req_counter *c, int64_t now_ms)
{
	int64_t second = now_ms / 1000;
	size_t i = slot_of(second);
	if(c->second[i] != second){
		c->second[i] = second;
		c->count[i] = 0;
	}
	c->count[i]++;
	c->total++;
}

static int64_t last_minute(const struct req_counter *c, int64_t now_ms)
{
	int64_t second = now_ms / 1000;
	int64_t n = 0;
	for(size_t i = 0; i < SYSSTATS_WINDOW_S; i++){
		if(c->second[i] > second - SYSSTATS_WINDOW_S && c->second[i] <= second) n += c->count[i];
	}
	return n;
}

int sysstats_read(struct service *svc, int64_t now_ms, struct sys_stats *out)
{
	memset(out, 0, sizeof(*out));
	struct store_counts counts;
	if(store_counts(svc->store, false, &counts) != STORE_OK) return -1;
	memcpy(out->jobs, counts.jobs, sizeof(out->jobs));
	memcpy(out->executions, counts.executions, sizeof(out->executions));
	out->requests_1min = last_minute(&svc->requests, now_ms);
	out->requests_total = svc->requests.total;
	return 0;
}
