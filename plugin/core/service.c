/* Service lifetime and dispatch: one typed entry point per kind of request, and the
 * batch the requests of a pass commit in. */
#include "core/service.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/events.h"
#include "core/notify.h"
#include "core/core_state.h"

/* Lines about store_sync failing: a store that cannot reach its database fails every
 * tick. */
#define SYNC_ERROR_LINES_PER_S 0.2
#define SYNC_ERROR_BURST 3

int service_create(const struct jobs_config *cfg, int64_t now_ms, jobs_log_fn log, void *log_ctx,
		struct service **out, char *err, size_t errlen)
{
	struct store *store;
	if(store_open(cfg, &store, err, errlen) != STORE_OK) return -1;
	return service_create_on(cfg, store, now_ms, log, log_ctx, out, err, errlen);
}

int service_create_on(const struct jobs_config *cfg, struct store *store, int64_t now_ms, jobs_log_fn log,
		void *log_ctx, struct service **out, char *err, size_t errlen)
{
	struct service *svc = calloc(1, sizeof(*svc));
	if(!svc){
		store_close(store);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	svc->store = store;
	store_set_log(store, log, log_ctx);
	svc->started_ms = now_ms;
	svc->log = log;
	svc->log_ctx = log_ctx;
	svc->max_pending = cfg->max_pending;
	svc->time_scale = cfg->time_scale > 0 ? cfg->time_scale : 1.0;
	loglimit_init(&svc->sync_errors, SYNC_ERROR_LINES_PER_S, SYNC_ERROR_BURST);
	svc->notify = notify_scope_create();
	svc->region = strdup(cfg->region);
	svc->account_id = strdup(cfg->account_id);
	if(!svc->region || !svc->account_id || !svc->notify){
		snprintf(err, errlen, "out of memory");
		service_destroy(svc);
		return -1;
	}
	if(!(svc->metrics = metrics_create())){
		snprintf(err, errlen, "out of memory");
		service_destroy(svc);
		return -1;
	}
	if(cfg->rate_limit && !(svc->limiter = ratelimit_create(cfg->rate_limit))){
		snprintf(err, errlen, "out of memory");
		service_destroy(svc);
		return -1;
	}
	svc->identity = cfg->access.identity;
	svc->require_registered_things = cfg->require_registered_things;
	if(cfg->test_controls && !(svc->testctl = testctl_create())){
		snprintf(err, errlen, "out of memory");
		service_destroy(svc);
		return -1;
	}
	/* plugin_opt_job_events: a mask of JOB (1) and JOB_EXECUTION (2) */
	unsigned initial = ((unsigned)cfg->job_events & 1u ? 1u << EVENT_JOB : 0)
		| ((unsigned)cfg->job_events & 2u ? 1u << EVENT_JOB_EXECUTION : 0);
	if(events_create(svc, initial, now_ms / 1000, err, errlen) != 0){
		service_destroy(svc);
		return -1;
	}
	*out = svc;
	return 0;
}

/* The outbox (the adapter's) still holds the messages of batches pending here; the
 * adapter frees them with it. store_close finishes or gives up those batches. */
void service_destroy(struct service *svc)
{
	if(!svc) return;
	store_close(svc->store);
	free(svc->held);
	ratelimit_destroy(svc->limiter);
	testctl_destroy(svc->testctl);
	notify_scope_destroy(svc->notify);
	events_destroy(svc->events);
	metrics_destroy(svc->metrics);
	free(svc->region);
	free(svc->account_id);
	free(svc);
}

void service_log(struct service *svc, int level, const char *fmt, ...)
{
	if(!svc->log) return;
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	svc->log(svc->log_ctx, level, "%s", line);
}

static void batch_end(struct service *svc, struct outbox *ob, int rc, int64_t now);

/* After a request in a batch: a storage failure (a full disk) can make SQLite roll the
 * whole batch back, not just the request's savepoint. Then what the batch's earlier
 * requests did is gone too: their replies become failures, and the requests that
 * follow start a new batch. */
static void batch_check(struct service *svc, struct outbox *ob, int64_t now)
{
	if(!svc->batch_open || store_in_transaction(svc->store)) return;
	SVC_LOG(svc, JOBS_LOG_ERR, "jobs: a storage failure rolled back the requests of this pass");
	svc->batch_open = false;
	batch_end(svc, ob, STORE_ERROR, now);
}

/* Room for one more held batch (each batch takes at most one). */
static int held_reserve(struct service *svc)
{
	if(svc->held_head + svc->held_count < svc->held_cap) return 0;
	if(svc->held_head > 0){
		memmove(svc->held, svc->held + svc->held_head, svc->held_count * sizeof(*svc->held));
		svc->held_head = 0;
		return 0;
	}
	size_t cap = svc->held_cap ? svc->held_cap * 2 : 8;
	struct held_batch *held = realloc(svc->held, cap * sizeof(*held));
	if(!held) return -1;
	svc->held = held;
	svc->held_cap = cap;
	return 0;
}

/* Opens the batch at the first request after a flush. */
static void batch_join(struct service *svc, const struct outbox *ob)
{
	if(!svc->group_commit || svc->batch_open) return;
	/* requests then commit one by one, as without group commit */
	if(held_reserve(svc) != 0){
		SVC_LOG(svc, JOBS_LOG_WARNING, "jobs: cannot open a batch: out of memory");
		return;
	}
	if(store_batch_begin(svc->store) != STORE_OK){
		SVC_LOG(svc, JOBS_LOG_WARNING, "jobs: cannot open a batch: %s", store_errmsg(svc->store));
		return;
	}
	svc->batch_open = true;
	svc->batch_mark = ob->count;
	svc->batch_seq++;
	svc->batch_requests = 0;
}

bool service_tick_batch(struct service *svc, const struct outbox *ob)
{
	if(svc->batch_open) return false;
	batch_join(svc, ob);
	return svc->batch_open;
}

uint64_t service_batch_seq(const struct service *svc)
{
	return svc->batch_open ? svc->batch_seq : 0;
}

bool service_batch_done(const struct service *svc, uint64_t seq)
{
	return seq <= svc->done_seq;
}

bool service_batch_committed(const struct service *svc, uint64_t seq)
{
	return seq == 0 || seq == svc->committed_seq;
}

uint64_t service_batches_lost(const struct service *svc)
{
	return svc->batches_lost;
}

struct testctl *service_testctl(struct service *svc)
{
	return svc->testctl;
}

/* Job time moved by advanceTime (test controls): every timer, timestamp and schedule
 * of a request then sees the moved time. */
static int64_t job_time(const struct service *svc, int64_t now_ms)
{
	return now_ms + testing_offset_ms(svc);
}

void service_device(struct service *svc, const struct device_request *req, struct device_result *res,
		struct outbox *ob)
{
	sysstats_note_request(&svc->requests, req->now_ms);
	struct device_request moved = *req;
	moved.now_ms = job_time(svc, req->now_ms);
	if(!moved.namespace_id) moved.namespace_id = "";
	uint64_t lost = svc->batches_lost;
	batch_join(svc, ob);
	svc->batch_requests++;
	device_handle(svc, &moved, res, ob);
	batch_check(svc, ob, moved.now_ms / 1000);
	if(svc->batches_lost != lost && res->error == DEVICE_OK){
		/* what it did is gone with the batch */
		const char *token = res->client_token;
		void *body = res->body_;
		res->body_ = NULL;
		int64_t timestamp = res->timestamp;
		device_result_free(res);
		res->error = DEVICE_INTERNAL_ERROR;
		snprintf(res->message, sizeof(res->message), "internal storage error");
		res->client_token = token;
		res->body_ = body;
		res->timestamp = timestamp;
	}
	metrics_device(svc->metrics, req->op, res->error);
}

void service_device_refuse(struct service *svc, const struct device_request *req, enum device_error error,
		const char *message, struct device_result *res)
{
	sysstats_note_request(&svc->requests, req->now_ms);
	struct device_request moved = *req;
	moved.now_ms = job_time(svc, req->now_ms);
	if(!moved.namespace_id) moved.namespace_id = "";
	device_refuse(svc, &moved, error, message, res);
	metrics_device(svc->metrics, req->op, res->error);
}

void service_control(struct service *svc, const struct control_request *req, const cJSON *cmd,
		struct control_result *out, struct outbox *ob)
{
	struct control_request moved = *req;
	moved.now_ms = job_time(svc, req->now_ms);
	uint64_t lost = svc->batches_lost;
	batch_join(svc, ob);
	svc->batch_requests++;
	control_run(svc, &moved, cmd, out, ob);
	batch_check(svc, ob, moved.now_ms / 1000);
	if(svc->batches_lost != lost && !out->exception){
		control_result_free(out);
		out->exception = "InternalFailureException";
		snprintf(out->message, sizeof(out->message), "internal storage error");
	}
}

void service_store_info(struct service *svc, struct store_info *out)
{
	assert(svc && out);
	store_info(svc->store, out);
}

void service_watch(struct service *svc, int *fd, unsigned *reads)
{
	store_watch(svc->store, fd, reads);
}

struct metrics *service_metrics(struct service *svc)
{
	return svc->metrics;
}

void service_metrics_text(struct service *svc, int64_t now_ms, struct strbuf *out)
{
	if(svc->counts_ms != now_ms || now_ms == 0){
		svc->counts_rc = store_counts(svc->store, false, &svc->counts);
		svc->counts_ms = now_ms;
	}
	metrics_render(svc->metrics, svc->counts_rc == STORE_OK ? &svc->counts : NULL, out);
}

void service_set_clock(struct service *svc, jobs_clock_fn clock, void *ctx)
{
	svc->clock = clock;
	svc->clock_ctx = ctx;
}

void service_set_kicker(struct service *svc, jobs_kick_fn kick, void *ctx)
{
	svc->kick = kick;
	svc->kick_ctx = ctx;
}

void service_set_batch_failed(struct service *svc, jobs_batch_failed_fn fn, void *ctx)
{
	svc->batch_failed = fn;
	svc->batch_failed_ctx = ctx;
}

void service_set_group_commit(struct service *svc, bool on)
{
	svc->group_commit = on;
}

/* Reports that the batch `seq`, whose messages ob holds, committed or failed. A batch
 * that failed: nothing it did happened. Its notifications go; the adapter's hook
 * rewrites the replies. Then its messages are free. */
static void batch_over(struct service *svc, struct outbox *ob, uint64_t seq, bool committed, int64_t now)
{
	if(committed){
		svc->committed_seq = seq;
	}else{
		outbox_drop_notifications(ob, seq);
		if(svc->batch_failed) svc->batch_failed(svc->batch_failed_ctx, ob, seq, now);
		/* an event configuration the batch changed is as it was */
		events_reload(svc);
	}
	outbox_release(ob, seq);
	svc->done_seq = seq;
}

/* The open batch (just closed) ended as its commit answered: STORE_OK, STORE_ERROR or
 * STORE_PENDING. Reported now unless earlier batches are still held, which it then
 * follows. `now`: epoch seconds. */
static void batch_end(struct service *svc, struct outbox *ob, int rc, int64_t now)
{
	uint64_t seq = svc->batch_seq;
	if(rc == STORE_ERROR){
		svc->batches_lost++;
		svc->wake_known = false; /* the rolled-back batch may have set timers */
	}
	if(rc == STORE_OK && svc->held_count == 0){
		/* the common case: nothing was held, nothing to free */
		svc->committed_seq = svc->done_seq = seq;
		return;
	}
	outbox_hold(ob, svc->batch_mark, seq);
	if(rc == STORE_ERROR && svc->held_count == 0){
		batch_over(svc, ob, seq, false, now);
		return;
	}
	/* batch_join reserved its place */
	assert(svc->held_head + svc->held_count < svc->held_cap);
	svc->held[svc->held_head + svc->held_count++] = (struct held_batch){ .seq = seq, .state = rc };
}

void service_settle(struct service *svc, int64_t now_ms, struct outbox *ob)
{
	assert(!svc->batch_open);
	while(svc->held_count){
		const struct held_batch *h = &svc->held[svc->held_head];
		int rc = h->state;
		if(rc == STORE_PENDING){
			rc = store_batch_poll(svc->store);
			if(rc == STORE_PENDING) return;
			if(rc == STORE_NOT_FOUND){
				/* the store knows of no batch pending: its outcome is lost */
				SVC_LOG(svc, JOBS_LOG_ERR, "jobs: the store lost a batch it had taken: its requests fail");
				rc = STORE_ERROR;
			}else if(rc == STORE_ERROR){
				SVC_LOG(svc, JOBS_LOG_ERR, "jobs: commit of a batch failed: %s", store_errmsg(svc->store));
			}
			if(rc == STORE_ERROR){
				svc->batches_lost++;
				svc->wake_known = false;
			}
		}
		uint64_t seq = h->seq;
		svc->held_head++;
		if(--svc->held_count == 0) svc->held_head = 0;
		batch_over(svc, ob, seq, rc == STORE_OK, now_ms / 1000);
	}
}

bool service_flush(struct service *svc, int64_t now_ms, struct outbox *ob)
{
	if(!svc->batch_open) return true;
	svc->batch_open = false;
	now_ms += testing_offset_ms(svc);
	int64_t started = metrics_now_us(svc->metrics);
	int rc = store_batch_commit(svc->store);
	metrics_observe_since(svc->metrics, METRICS_COMMIT_SECONDS, started);
	if(rc != STORE_ERROR) metrics_observe(svc->metrics, METRICS_BATCH_REQUESTS, (int64_t)svc->batch_requests);
	if(rc == STORE_ERROR) SVC_LOG(svc, JOBS_LOG_ERR, "jobs: commit of a batch failed: %s", store_errmsg(svc->store));
	batch_end(svc, ob, rc, now_ms / 1000);
	if(svc->held_count) service_settle(svc, now_ms, ob);
	return rc != STORE_ERROR;
}
