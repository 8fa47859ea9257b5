/* Service lifetime and dispatch: one entry point per way in. */
#include "mosquitto_jobs/service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mosquitto_jobs/topic.h"
#include "service_internal.h"

int service_create(const struct jobs_config *cfg, jobs_log_fn log, void *log_ctx,
		struct service **out, char *err, size_t errlen)
{
	struct service *svc = calloc(1, sizeof(*svc));
	if(!svc){
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	svc->log = log;
	svc->log_ctx = log_ctx;
	svc->max_pending = cfg->max_pending;
	svc->time_scale = cfg->time_scale > 0 ? cfg->time_scale : 1.0;
	svc->region = strdup(cfg->region);
	svc->account_id = strdup(cfg->account_id);
	if(!svc->region || !svc->account_id){
		snprintf(err, errlen, "out of memory");
		service_destroy(svc);
		return -1;
	}
	if(store_open(cfg->db_path, cfg->synchronous, &svc->store, err, errlen) != STORE_OK){
		service_destroy(svc);
		return -1;
	}
	if(cfg->db_max_mb && store_set_size_limit(svc->store, (int64_t)cfg->db_max_mb * 1024 * 1024) != STORE_OK){
		snprintf(err, errlen, "cannot cap the database at %d MB", cfg->db_max_mb);
		service_destroy(svc);
		return -1;
	}
	if(cfg->rate_limit && !(svc->limiter = ratelimit_create(cfg->rate_limit))){
		snprintf(err, errlen, "out of memory");
		service_destroy(svc);
		return -1;
	}
	*out = svc;
	return 0;
}

void service_destroy(struct service *svc)
{
	if(!svc) return;
	store_close(svc->store);
	ratelimit_destroy(svc->limiter);
	free(svc->region);
	free(svc->account_id);
	free(svc);
}

bool service_handle_device(struct service *svc, const struct jobs_request *req, struct outbox *ob)
{
	struct jobs_topic topic;
	switch(topic_parse(req->topic, &topic)){
	case TOPIC_NOT_JOBS:
		return false;
	case TOPIC_IGNORED:
		break;
	case TOPIC_INVALID:
		device_reject_topic(svc, req, ob);
		break;
	case TOPIC_REQUEST:
		device_handle(svc, req, &topic, ob);
		break;
	}
	return true;
}

void service_handle_control(struct service *svc, const struct jobs_request *req, struct outbox *ob)
{
	control_handle(svc, req, ob);
}

int service_job_refresh(struct service *svc, const char *job_id, int64_t job_seq, int64_t now)
{
	struct store_job job;
	bool pending;
	int64_t waiting = 0;
	int rc = store_job_has_pending(svc->store, job_seq, &pending);
	if(rc == STORE_OK && !pending) rc = store_rollout_count(svc->store, job_seq, &waiting);
	if(rc != STORE_OK || pending || waiting) return rc == STORE_OK ? 0 : -1;
	if(store_job_get(svc->store, job_id, &job) != STORE_OK) return -1;
	if(job.status == JOB_IN_PROGRESS && job.target_selection == TARGET_SNAPSHOT){
		job.status = JOB_COMPLETED;
		job.completed_at = now;
		job.last_updated_at = now;
		rc = store_job_update(svc->store, &job);
	}
	store_job_free(&job);
	return rc == STORE_OK ? 0 : -1;
}
