/* Test controls on the device path (plugin_opt_test_controls on): which fault list an
 * operation draws from, the transcript entry of a publish, and what a fault does to
 * the replies a request left in the outbox. The state lives in testctl.c, the
 * management commands in control_testing.c; service.c decides when to call these. */
#include "core/testctl_apply.h"

#include <stdlib.h>
#include <string.h>

#include "util/names.h"

enum testctl_op testctl_op_of(enum jobs_op op)
{
	switch(op){
	case OP_GET_PENDING: return TESTCTL_OP_GET;
	case OP_START_NEXT: return TESTCTL_OP_START_NEXT;
	case OP_DESCRIBE: return TESTCTL_OP_DESCRIBE;
	case OP_UPDATE: break;
	}
	return TESTCTL_OP_UPDATE;
}

void testctl_record_publish(struct testctl *tc, int64_t at_ms, bool out, const char *topic,
		const char *payload, size_t len, const char *fault)
{
	char thing[JOBS_THING_NAME_MAX + 1];
	if(tc && testctl_topic_thing(topic, thing, sizeof(thing))){
		testctl_record(tc, thing, at_ms, out, topic, payload ? payload : "", len, fault);
	}
}

/* Whether m is the reply to a request on `topic` from `client_id`: to that client,
 * on the topic + /accepted or /rejected. */
static bool is_reply(const struct outbox_msg *m, const char *client_id, const char *topic)
{
	size_t n = strlen(topic);
	return m->client_id && client_id && strcmp(m->client_id, client_id) == 0
		&& strncmp(m->topic, topic, n) == 0
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

void testctl_mark_replies(const struct testctl_fault *f, const char *client_id, const char *topic,
		struct outbox *ob, size_t mark, int64_t real_ms)
{
	const char *name = testctl_action_name(f->action);
	size_t end = ob->count;
	for(size_t i = mark; i < end; i++){
		struct outbox_msg *m = &ob->msgs[i];
		if(!is_reply(m, client_id, topic)) continue;
		m->fault = name;
		switch(f->action){
		case TESTCTL_DROP: m->withheld = true; break;
		case TESTCTL_DELAY: m->not_before_ms = real_ms + f->delay_ms; break;
		case TESTCTL_DUPLICATE: duplicate(ob, i); break;
		case TESTCTL_REJECT: break;
		}
	}
}
