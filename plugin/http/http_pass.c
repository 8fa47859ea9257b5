/* Answers a pass's HTTP calls only for what the pass's commit kept, or says which wait
 * for their batch. */
#include "http/http_pass.h"

#include <stdlib.h>

#include "core/service.h"

bool http_pass_run(struct service *svc, const struct access_config *access,
		const struct http_request *const *reqs, size_t n, int64_t now_ms, struct outbox *ob,
		struct http_response *out, uint64_t *held)
{
	uint64_t batch[HTTP_PASS_MAX];
	for(size_t i = 0; i < n; i++){
		http_api_handle(svc, access, reqs[i], now_ms, ob, &out[i]);
		batch[i] = service_batch_seq(svc);
	}
	bool stored = service_flush(svc, now_ms, ob);
	for(size_t i = 0; i < n; i++){
		held[i] = service_batch_done(svc, batch[i]) ? 0 : batch[i];
		if(!held[i] && !service_batch_committed(svc, batch[i])) http_pass_failed(&out[i]);
	}
	return stored;
}

void http_pass_failed(struct http_response *resp)
{
	if(resp->status >= 300) return;
	free(resp->body);
	http_api_error(resp, 503, "ServiceUnavailableException", "internal storage error");
}
