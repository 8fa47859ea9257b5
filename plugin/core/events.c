/* Jobs events: the event configurations held, the payloads, and the events a
 * transaction gathers until its commit. */
#include "core/events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <cjson/cJSON.h>

#include "core/core_state.h"
#include "core/shapes.h"
#include "core/status.h"
#include "util/jsonw.h"

/* Events go out at QoS 1, as notifications do. */
#define EVENT_QOS 1
/* "arn:aws:iot:" region ":" account ":" */
#define ARN_PREFIX_MAX 96

static const char *const type_names[EVENT_TYPE_COUNT] = {
	[EVENT_THING] = "THING",
	[EVENT_THING_GROUP] = "THING_GROUP",
	[EVENT_THING_TYPE] = "THING_TYPE",
	[EVENT_THING_GROUP_MEMBERSHIP] = "THING_GROUP_MEMBERSHIP",
	[EVENT_THING_GROUP_HIERARCHY] = "THING_GROUP_HIERARCHY",
	[EVENT_THING_TYPE_ASSOCIATION] = "THING_TYPE_ASSOCIATION",
	[EVENT_JOB] = "JOB",
	[EVENT_JOB_EXECUTION] = "JOB_EXECUTION",
	[EVENT_POLICY] = "POLICY",
	[EVENT_CERTIFICATE] = "CERTIFICATE",
	[EVENT_CA_CERTIFICATE] = "CA_CERTIFICATE",
};

const char *events_type_name(int type)
{
	return type >= 0 && type < EVENT_TYPE_COUNT ? type_names[type] : "UNKNOWN";
}

bool events_type_parse(const char *name, enum event_type *out)
{
	for(int i = 0; i < EVENT_TYPE_COUNT; i++){
		if(strcmp(type_names[i], name) == 0){
			*out = (enum event_type)i;
			return true;
		}
	}
	return false;
}

/* ---- payloads ---- */

/* The counts a job event's jobProcessDetails shows: those AWS's example shows, in its
 * order. */
static const int process_details[] = {
	EXEC_CANCELED, EXEC_REJECTED, EXEC_FAILED, EXEC_REMOVED, EXEC_SUCCEEDED, EXEC_TIMED_OUT,
};

static void begin_event(struct jsonw *w, const char *type, const char *event_id, int64_t now,
		const char *operation, const char *job_id)
{
	jsonw_object_begin(w);
	jsonw_key_string(w, "eventType", type);
	jsonw_key_string(w, "eventId", event_id);
	jsonw_key_int(w, "timestamp", now);
	jsonw_key_string(w, "operation", operation);
	jsonw_key_string(w, "jobId", job_id);
}

/* The job's targets as ARNs: a target given as a bare thing name becomes its thing ARN. */
static void write_targets(struct jsonw *w, const char *targets, const char *arn_prefix)
{
	cJSON *list = targets ? cJSON_Parse(targets) : NULL;
	const cJSON *t;
	jsonw_key(w, "targets");
	jsonw_array_begin(w);
	cJSON_ArrayForEach(t, list){
		if(!cJSON_IsString(t)) continue;
		if(strncmp(t->valuestring, "arn:", 4) == 0){
			jsonw_string(w, t->valuestring);
		}else{
			char arn[ARN_PREFIX_MAX + JOBS_THING_NAME_MAX + 16];
			snprintf(arn, sizeof(arn), "%sthing/%s", arn_prefix, t->valuestring);
			jsonw_string(w, arn);
		}
	}
	jsonw_array_end(w);
	cJSON_Delete(list);
}

char *events_job_payload(const struct store_job *job, const char *operation, const char *status,
		const int64_t *counts, const char *arn_prefix, const char *event_id, int64_t now, size_t *len)
{
	struct jsonw w;
	jsonw_init(&w);
	begin_event(&w, "JOB", event_id, now, operation, job->job_id);
	jsonw_key_string(&w, "status", status);
	if(strcmp(operation, "canceled") == 0){
		jsonw_key(&w, "forceCanceled");
		jsonw_raw(&w, job->force_canceled ? "true" : "false");
	}
	jsonw_key_string(&w, "targetSelection", job->target_selection == TARGET_CONTINUOUS ? "CONTINUOUS" : "SNAPSHOT");
	write_targets(&w, job->targets, arn_prefix);
	if(job->description) jsonw_key_string(&w, "description", job->description);
	/* AWS's example gives the job's times in epoch milliseconds */
	if(job->completed_at) jsonw_key_int(&w, "completedAt", job->completed_at * 1000);
	jsonw_key_int(&w, "createdAt", job->created_at * 1000);
	jsonw_key_int(&w, "lastUpdatedAt", job->last_updated_at * 1000);
	if(job->comment) jsonw_key_string(&w, "comment", job->comment);
	if(counts){
		jsonw_key(&w, "jobProcessDetails");
		jsonw_object_begin(&w);
		for(size_t i = 0; i < sizeof(process_details) / sizeof(*process_details); i++){
			jsonw_key_int(&w, shapes_process_detail_key(process_details[i]), counts[process_details[i]]);
		}
		jsonw_object_end(&w);
	}
	jsonw_object_end(&w);
	return jsonw_finish(&w, len);
}

char *events_execution_payload(const struct store_exec *e, const char *operation, const char *arn_prefix,
		const char *event_id, int64_t now, size_t *len)
{
	struct jsonw w;
	char arn[ARN_PREFIX_MAX + JOBS_THING_NAME_MAX + 16];
	snprintf(arn, sizeof(arn), "%sthing/%s", arn_prefix, e->thing);
	jsonw_init(&w);
	begin_event(&w, "JOB_EXECUTION", event_id, now, operation, e->job_id);
	jsonw_key_string(&w, "thingArn", arn);
	jsonw_key_string(&w, "status", status_name(e->status));
	if(e->status_details && strcmp(e->status_details, "{}") != 0) jsonw_key_raw(&w, "statusDetails", e->status_details);
	jsonw_object_end(&w);
	return jsonw_finish(&w, len);
}

/* ---- the state ---- */

struct pending_event {
	enum outbox_kind kind;
	char job_id[JOBS_JOB_ID_MAX + 1];
	const char *operation;
	char *payload;
	size_t len;
};

struct events {
	struct event_configs configs;
	bool changed;                  /* the open transaction changed the stored configurations */
	char arn_prefix[ARN_PREFIX_MAX];
	uint64_t id_random;            /* eventId: this start's random half, and a count */
	uint64_t id_count;
	struct pending_event *pending; /* gathered in the open transaction */
	size_t npending, cap;
};

static int read_configs(struct store *store, struct event_configs *out, size_t *rows)
{
	struct store_event_config *list;
	size_t n;
	if(store_event_configs(store, &list, &n) != STORE_OK) return -1;
	memset(out, 0, sizeof(*out));
	for(size_t i = 0; i < n; i++){
		enum event_type t;
		if(!events_type_parse(list[i].type, &t)) continue;  /* a type of a later version */
		out->enabled[t] = list[i].enabled;
		if(out->created_at == 0 || list[i].created_at < out->created_at) out->created_at = list[i].created_at;
		if(list[i].updated_at > out->updated_at) out->updated_at = list[i].updated_at;
	}
	free(list);
	if(rows) *rows = n;
	return 0;
}

/* The first start writes every type, so that the option counts once. */
static int write_initial(struct service *svc, unsigned initial, int64_t now)
{
	if(store_begin(svc->store) != STORE_OK) return -1;
	for(int t = 0; t < EVENT_TYPE_COUNT; t++){
		if(store_event_config_set(svc->store, type_names[t], (initial >> t) & 1u, now) != STORE_OK){
			store_rollback(svc->store);
			return -1;
		}
	}
	return store_commit(svc->store) == STORE_OK ? 0 : -1;
}

int events_create(struct service *svc, unsigned initial, int64_t now, char *err, size_t errlen)
{
	struct events *ev = calloc(1, sizeof(*ev));
	if(!ev){
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	svc->events = ev;
	snprintf(ev->arn_prefix, sizeof(ev->arn_prefix), "arn:aws:iot:%s:%s:", svc->region, svc->account_id);
	if(getrandom(&ev->id_random, sizeof(ev->id_random), GRND_NONBLOCK) != (ssize_t)sizeof(ev->id_random)){
		/* no entropy yet: unique enough for one broker's events */
		ev->id_random = (uint64_t)(uintptr_t)ev ^ ((uint64_t)now << 20) ^ 0x9e3779b97f4a7c15u;
	}
	size_t rows;
	if(read_configs(svc->store, &ev->configs, &rows) != 0){
		snprintf(err, errlen, "cannot read the event configurations: %s", store_errmsg(svc->store));
		return -1;
	}
	if(rows > 0) return 0;
	if(write_initial(svc, initial, now) != 0){
		/* another broker sharing the store may have written them first: they come
		 * with its changes (store_sync) */
		SVC_LOG(svc, JOBS_LOG_WARNING, "jobs: cannot store the first event configurations: %s",
				store_errmsg(svc->store));
	}
	if(read_configs(svc->store, &ev->configs, NULL) != 0){
		snprintf(err, errlen, "cannot read the event configurations: %s", store_errmsg(svc->store));
		return -1;
	}
	return 0;
}

static void drop_pending(struct events *ev)
{
	for(size_t i = 0; i < ev->npending; i++) free(ev->pending[i].payload);
	ev->npending = 0;
}

void events_destroy(struct events *ev)
{
	if(!ev) return;
	drop_pending(ev);
	free(ev->pending);
	free(ev);
}

bool events_enabled(const struct service *svc, enum event_type type)
{
	return svc->events->configs.enabled[type];
}

const struct event_configs *events_configs(const struct service *svc)
{
	return &svc->events->configs;
}

int events_reload(struct service *svc)
{
	struct event_configs c;
	if(read_configs(svc->store, &c, NULL) != 0){
		SVC_LOG(svc, JOBS_LOG_ERR, "jobs: cannot read the event configurations: %s", store_errmsg(svc->store));
		return -1;
	}
	svc->events->configs = c;
	return 0;
}

int events_changed(struct service *svc)
{
	svc->events->changed = true;
	return events_reload(svc);
}

/* A UUID (version 4's layout) from this start's random half and a count. */
static void new_event_id(struct events *ev, char out[37])
{
	uint64_t hi = ev->id_random, lo = ++ev->id_count;
	hi = (hi & ~0xf000ull) | 0x4000ull;                 /* version 4 */
	lo = (lo & 0x3fffffffffffffffull) | 0x8000000000000000ull;  /* variant 1 */
	snprintf(out, 37, "%08x-%04x-%04x-%04x-%012llx", (unsigned)(hi >> 32), (unsigned)((hi >> 16) & 0xffff),
			(unsigned)(hi & 0xffff), (unsigned)(lo >> 48), (unsigned long long)(lo & 0xffffffffffffull));
}

static int gather(struct events *ev, enum outbox_kind kind, const char *job_id, const char *operation,
		char *payload, size_t len)
{
	if(!payload) return -1;
	if(ev->npending == ev->cap){
		size_t cap = ev->cap ? ev->cap * 2 : 8;
		struct pending_event *grown = realloc(ev->pending, cap * sizeof(*grown));
		if(!grown){
			free(payload);
			return -1;
		}
		ev->pending = grown;
		ev->cap = cap;
	}
	struct pending_event *p = &ev->pending[ev->npending++];
	p->kind = kind;
	snprintf(p->job_id, sizeof(p->job_id), "%s", job_id);
	p->operation = operation;
	p->payload = payload;
	p->len = len;
	return 0;
}

/* The job events: their operation and the status they show. */
static const struct { const char *operation; const char *status; bool counts; } job_operations[] = {
	{ "completed", "COMPLETED", true },
	{ "canceled", "CANCELED", true },
	{ "deleted", "DELETED", false },
	{ "cancellation_in_progress", "CANCELLATION_IN_PROGRESS", false },
	{ "deletion_in_progress", "DELETION_IN_PROGRESS", false },
};

int events_job(struct service *svc, const char *job_id, const char *operation, int64_t now_ms)
{
	struct events *ev = svc->events;
	if(!ev->configs.enabled[EVENT_JOB]) return 0;
	size_t k = 0;
	while(k < sizeof(job_operations) / sizeof(*job_operations) && strcmp(job_operations[k].operation, operation) != 0) k++;
	if(k == sizeof(job_operations) / sizeof(*job_operations)) return -1;
	struct store_job job;
	int64_t counts[EXEC_STATUS_COUNT];
	if(store_job_get(svc->store, job_id, &job) != STORE_OK) return -1;
	int rc = -1;
	if(!job_operations[k].counts || store_job_counts(svc->store, job.seq, counts) == STORE_OK){
		char id[37];
		size_t len;
		new_event_id(ev, id);
		char *payload = events_job_payload(&job, job_operations[k].operation, job_operations[k].status,
				job_operations[k].counts ? counts : NULL, ev->arn_prefix, id, now_ms / 1000, &len);
		rc = gather(ev, OUTBOX_JOB_EVENT, job.job_id, job_operations[k].operation, payload, len);
	}
	store_job_free(&job);
	return rc;
}

/* An execution's terminal status as an event's operation. */
static const char *const exec_operations[EXEC_STATUS_COUNT] = {
	[EXEC_SUCCEEDED] = "succeeded",
	[EXEC_FAILED] = "failed",
	[EXEC_REJECTED] = "rejected",
	[EXEC_TIMED_OUT] = "timed_out",
	[EXEC_REMOVED] = "removed",
	[EXEC_CANCELED] = "canceled",
};

int events_execution(struct service *svc, const struct store_exec *e, const char *operation, int64_t now_ms)
{
	struct events *ev = svc->events;
	if(!ev->configs.enabled[EVENT_JOB_EXECUTION]) return 0;
	if(!operation){
		if(e->status < 0 || e->status >= EXEC_STATUS_COUNT || !exec_operations[e->status]) return 0;
		operation = exec_operations[e->status];
	}else if(strcmp(operation, "deleted") == 0){
		operation = "deleted";  /* the static string the outbox keeps */
	}else{
		return -1;
	}
	char id[37];
	size_t len;
	new_event_id(ev, id);
	char *payload = events_execution_payload(e, operation, ev->arn_prefix, id, now_ms / 1000, &len);
	return gather(ev, OUTBOX_EXECUTION_EVENT, e->job_id, operation, payload, len);
}

int events_emit(struct service *svc, struct outbox *ob)
{
	struct events *ev = svc->events;
	int rc = 0;
	for(size_t i = 0; i < ev->npending; i++){
		struct pending_event *p = &ev->pending[i];
		struct outbox_addr a = { .kind = p->kind, .job_id = p->job_id, .event = p->operation, .qos = EVENT_QOS };
		/* outbox_add takes the payload in every case */
		if(rc == 0) rc = outbox_add(ob, &a, p->payload, p->len);
		else free(p->payload);
		p->payload = NULL;
	}
	ev->npending = 0;
	ev->changed = false;
	return rc;
}

void events_discard(struct service *svc)
{
	struct events *ev = svc->events;
	drop_pending(ev);
	if(ev->changed){
		ev->changed = false;
		events_reload(svc);
	}
}
