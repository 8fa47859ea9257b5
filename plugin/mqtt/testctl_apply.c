/* Test controls on the MQTT device path (plugin_opt_test_controls on): which fault
 * list an operation draws from, the transcript entry of a publish, and what a fault
 * does to a reply. The state lives in core/testctl.c, the management commands in
 * core/control_testing.c; mqtt_jobs.c decides when to call these. */
#include "mqtt/testctl_apply.h"

#include "mqtt/topic.h"
#include "util/names.h"

enum testctl_op testctl_op_of(enum device_op op)
{
	switch(op){
	case DEVICE_GET_PENDING: return TESTCTL_OP_GET;
	case DEVICE_START_NEXT: return TESTCTL_OP_START_NEXT;
	case DEVICE_DESCRIBE: return TESTCTL_OP_DESCRIBE;
	case DEVICE_UPDATE: break;
	}
	return TESTCTL_OP_UPDATE;
}

void testctl_record_publish(struct testctl *tc, int64_t at_ms, bool out, const char *topic,
		const char *payload, size_t len, const char *fault)
{
	char thing[JOBS_THING_NAME_MAX + 1];
	if(tc && topic_thing(topic, thing, sizeof(thing))){
		testctl_record(tc, thing, at_ms, out, topic, payload ? payload : "", len, fault);
	}
}

void testctl_apply_fault(const struct testctl_fault *f, struct outbox *ob, size_t i, int64_t real_ms)
{
	struct outbox_msg *m = &ob->msgs[i];
	m->fault = testctl_action_name(f->action);
	switch(f->action){
	case TESTCTL_DROP: m->withheld = true; break;
	case TESTCTL_DELAY: m->not_before_ms = real_ms + f->delay_ms; break;
	case TESTCTL_DUPLICATE: outbox_copy(ob, i); break;
	case TESTCTL_REJECT: break;
	}
}
