/* Test controls on the device path (plugin_opt_test_controls on): faults applied to
 * a thing's requests and their replies, the transcript of what a thing sent and was
 * sent, and the job-time offset. The state lives in testctl.c; the management
 * commands that set it up in control_testing.c. */
#include <stdlib.h>
#include <string.h>

#include "mosquitto_jobs/testctl.h"
#include "mosquitto_jobs/topic.h"
#include "service_internal.h"

int64_t testing_offset_ms(const struct service *svc)
{
	int64_t minutes = testctl_offset_minutes(svc->testctl);
	return minutes ? minutes_to_ms(svc, minutes) : 0;
}

static enum testctl_op op_of(enum jobs_op op)
{
	switch(op){
	case OP_GET_PENDING: return TESTCTL_OP_GET;
	case OP_START_NEXT: return TESTCTL_OP_START_NEXT;
	case OP_DESCRIBE: return TESTCTL_OP_DESCRIBE;
	case OP_UPDATE: break;
	}
	return TESTCTL_OP_UPDATE;
}

static void record_in(struct service *svc, const struct jobs_request *req, const char *thing, int64_t real_ms,
		const char *fault)
{
	testctl_record(svc->testctl, thing, real_ms, false, req->topic, req->payload ? req->payload : "",
			req->payload_len, fault);
}

void testing_record_in(struct service *svc, const struct jobs_request *req, int64_t real_ms)
{
	char thing[JOBS_THING_NAME_MAX + 1];
	if(testctl_topic_thing(req->topic, thing, sizeof(thing))) record_in(svc, req, thing, real_ms, NULL);
}

/* Whether m is the reply to req: to its client, on its topic + /accepted or /rejected. */
static bool is_reply(const struct outbox_msg *m, const struct jobs_request *req)
{
	size_t n = strlen(req->topic);
	return m->client_id && req->client_id && strcmp(m->client_id, req->client_id) == 0
		&& strncmp(m->topic, req->topic, n) == 0
		&& (strcmp(m->topic + n, "/accepted") == 0 || strcmp(m->topic + n, "/rejected") == 0);
}

/* Appends a copy of message i (the duplicate of a reply). */
static void duplicate(struct outbox *ob, size_t i)
{
	const struct outbox_msg *m = &ob->msgs[i];
	char *payload = malloc(m->payload_len + 1);
	if(!payload) return;
	memcpy(payload, m->payload, m->payload_len);
	payload[m->payload_len] = '\0';
	if(outbox_add(ob, m->client_id, m->topic, payload, m->payload_len, m->qos) == 0){
		ob->msgs[ob->count - 1].fault = ob->msgs[i].fault;
	}
}

void testing_device(struct service *svc, const struct jobs_request *req, int64_t real_ms,
		const struct jobs_topic *topic, struct outbox *ob)
{
	struct testctl_fault f;
	bool faulted = testctl_take_fault(svc->testctl, topic->thing, op_of(topic->op), &f);
	const char *fault = faulted ? testctl_action_name(f.action) : NULL;
	record_in(svc, req, topic->thing, real_ms, fault);
	size_t mark = ob->count;
	if(faulted && f.action == TESTCTL_REJECT){
		device_reject_fault(svc, req, topic, f.code, ob);
	}else{
		device_handle(svc, req, topic, ob);
	}
	if(!faulted) return;
	SVC_LOG(svc, JOBS_LOG_NOTICE, "jobs: test controls: fault %s applied to %s", fault, req->topic);
	size_t end = ob->count;
	for(size_t i = mark; i < end; i++){
		struct outbox_msg *m = &ob->msgs[i];
		if(!is_reply(m, req)) continue;
		m->fault = fault;
		switch(f.action){
		case TESTCTL_DROP: m->withheld = true; break;
		case TESTCTL_DELAY: m->not_before_ms = real_ms + f.delay_ms; break;
		case TESTCTL_DUPLICATE: duplicate(ob, i); break;
		case TESTCTL_REJECT: break;
		}
	}
}

void service_sent(struct service *svc, const struct outbox_msg *m, int64_t now_ms)
{
	char thing[JOBS_THING_NAME_MAX + 1];
	if(!svc->testctl || !testctl_topic_thing(m->topic, thing, sizeof(thing))) return;
	testctl_record(svc->testctl, thing, now_ms, true, m->topic, m->payload, m->payload_len, m->fault);
}
