/* Test-control commands of the management API (plugin_opt_test_controls on):
 * setFaults, clearFaults, resendNotifyNext, disconnectThing, advanceTime,
 * startTranscript, getTranscript, stopTranscript. With the option off each one is
 * refused and changes nothing. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/control_internal.h"
#include "core/notify.h"
#include "core/shapes.h"
#include "core/testctl.h"
#include "util/utf8.h"

/* The thing of a test-control command, once test controls are known to be on. */
static int testing_thing(struct control_ctx *c, const cJSON *cmd, char *thing)
{
	if(!c->svc->testctl){
		return control_fail(c, "InvalidRequestException", "test controls are off (plugin_opt_test_controls on enables them)");
	}
	return cmd ? control_name(c, cmd, "thingName", thing) : 0;
}

/* One entry of setFaults' list. */
static int parse_fault(struct control_ctx *c, const cJSON *item, size_t i, struct testctl_fault *f)
{
	struct jf_error err;
	const char *op = NULL, *action = NULL, *code = NULL;
	long long count = 1, delay = 0;
	memset(f, 0, sizeof(*f));
	if(!cJSON_IsObject(item)) return control_fail(c, "InvalidRequestException", "faults[%zu] must be an object", i);
	if(jf_string(item, "operation", &op, &err) != JF_OK || !testctl_op_parse(op, &f->op)){
		return control_fail(c, "InvalidRequestException",
				"faults[%zu].operation must be get, start-next, describe, update or any", i);
	}
	if(jf_string(item, "action", &action, &err) != JF_OK || !testctl_action_parse(action, &f->action)){
		return control_fail(c, "InvalidRequestException",
				"faults[%zu].action must be drop, delay, reject or duplicate", i);
	}
	if(jf_long(item, "count", 1, TESTCTL_MAX_COUNT, &count, &err) == JF_BAD){
		return control_fail(c, "InvalidRequestException", "faults[%zu]: %s", i, err.msg);
	}
	int has_delay = jf_long(item, "delayMs", 1, TESTCTL_MAX_DELAY_MS, &delay, &err);
	if(has_delay == JF_BAD) return control_fail(c, "InvalidRequestException", "faults[%zu]: %s", i, err.msg);
	if((has_delay == JF_OK) != (f->action == TESTCTL_DELAY)){
		return control_fail(c, "InvalidRequestException", "faults[%zu]: delayMs (1-%d) goes with action delay, and only with it",
				i, TESTCTL_MAX_DELAY_MS);
	}
	int has_code = jf_string(item, "code", &code, &err);
	if(has_code == JF_BAD || (has_code == JF_OK && !testctl_code_valid(code))){
		return control_fail(c, "InvalidRequestException",
				"faults[%zu].code must be RequestThrottled, VersionMismatch, InternalError or TerminalStateReached", i);
	}
	if((has_code == JF_OK) != (f->action == TESTCTL_REJECT)){
		return control_fail(c, "InvalidRequestException", "faults[%zu]: code goes with action reject, and only with it", i);
	}
	f->count = (int)count;
	f->delay_ms = (int)delay;
	if(code) snprintf(f->code, sizeof(f->code), "%s", code);
	return 0;
}

int control_set_faults(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	(void)data;
	char thing[JOBS_THING_NAME_MAX + 1];
	const cJSON *list = NULL;
	struct jf_error err;
	if(testing_thing(c, cmd, thing)) return -1;
	int rc = jf_array(cmd, "faults", &list, &err);
	if(rc == JF_ABSENT) return control_fail(c, "InvalidRequestException", "faults is required (a list, [] for none)");
	if(rc != JF_OK) return control_fail_invalid(c, &err);
	size_t n = (size_t)cJSON_GetArraySize(list);
	if(n > TESTCTL_MAX_FAULTS){
		return control_fail(c, "LimitExceededException", "a thing has at most %d faults", TESTCTL_MAX_FAULTS);
	}
	struct testctl_fault faults[TESTCTL_MAX_FAULTS];
	size_t i = 0;
	const cJSON *item;
	cJSON_ArrayForEach(item, list){
		if(parse_fault(c, item, i, &faults[i])) return -1;
		i++;
	}
	rc = testctl_set_faults(c->svc->testctl, thing, faults, n);
	if(rc == -2) return control_fail(c, "LimitExceededException", "faults are set for %d things already", TESTCTL_MAX_FAULT_THINGS);
	if(rc != 0) return control_fail(c, "InternalFailureException", "out of memory");
	return 0;
}

int control_clear_faults(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	(void)data;
	char thing[JOBS_THING_NAME_MAX + 1];
	if(testing_thing(c, cmd, thing)) return -1;
	testctl_set_faults(c->svc->testctl, thing, NULL, 0);
	return 0;
}

int control_resend_notify_next(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	char thing[JOBS_THING_NAME_MAX + 1];
	bool named;
	if(testing_thing(c, cmd, thing)) return -1;
	if(notify_resend_next(c->svc, thing, "", c->now, c->ob, &named) != 0) return control_fail_store(c);
	cJSON_AddBoolToObject(data, "sent", named);
	return 0;
}

int control_disconnect_thing(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	char thing[JOBS_THING_NAME_MAX + 1];
	if(testing_thing(c, cmd, thing)) return -1;
	/* Mosquitto can disconnect by client id or by username only: with cert_cn the
	 * client whose id is the thing's name goes. */
	bool by_username = c->svc->identity == IDENTITY_USERNAME;
	bool done = c->svc->kick && c->svc->kick(c->svc->kick_ctx, thing, by_username);
	SVC_LOG(c->svc, JOBS_LOG_NOTICE, "jobs: test controls: disconnect the client of %s by %s: %s", thing,
			by_username ? "username" : "client id", done ? "disconnected" : "none found");
	cJSON_AddBoolToObject(data, "disconnected", done);
	return 0;
}

int control_advance_time(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	struct jf_error err;
	long long minutes;
	if(testing_thing(c, NULL, NULL)) return -1;
	int rc = jf_long(cmd, "minutes", 1, TESTCTL_MAX_ADVANCE_MINUTES, &minutes, &err);
	if(rc == JF_ABSENT) return control_fail(c, "InvalidRequestException", "minutes is required");
	if(rc != JF_OK) return control_fail_invalid(c, &err);
	int64_t total = testctl_advance(c->svc->testctl, minutes);
	SVC_LOG(c->svc, JOBS_LOG_NOTICE, "jobs: test controls: job time moved %lld minutes forward, %lld in all",
			minutes, (long long)total);
	shapes_add_int(data, "offsetMinutes", total);
	return 0;
}

int control_start_transcript(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	(void)data;
	char thing[JOBS_THING_NAME_MAX + 1];
	if(testing_thing(c, cmd, thing)) return -1;
	int rc = testctl_transcript_start(c->svc->testctl, thing);
	if(rc == -2){
		return control_fail(c, "LimitExceededException", "transcripts are recorded for %d things already (stopTranscript one)",
				TESTCTL_MAX_TRANSCRIPTS);
	}
	return rc == 0 ? 0 : control_fail(c, "InternalFailureException", "out of memory");
}

int control_stop_transcript(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	(void)data;
	char thing[JOBS_THING_NAME_MAX + 1];
	if(testing_thing(c, cmd, thing)) return -1;
	testctl_transcript_stop(c->svc->testctl, thing);
	return 0;
}

/* A payload as a JSON string: invalid UTF-8 and NUL bytes become U+FFFD. */
static char *printable(const char *s, size_t len)
{
	char *out = malloc(len * 3 + 1);
	if(!out) return NULL;
	size_t o = 0;
	for(size_t i = 0; i < len;){
		unsigned char b = (unsigned char)s[i];
		size_t k = b < 0x80 ? 1 : b >= 0xC2 && b <= 0xDF ? 2 : b >= 0xE0 && b <= 0xEF ? 3 : b >= 0xF0 && b <= 0xF4 ? 4 : 0;
		if(b != 0 && k && i + k <= len && utf8_valid(s + i, k)){
			memcpy(out + o, s + i, k);
			o += k;
			i += k;
		}else{
			memcpy(out + o, "\xEF\xBF\xBD", 3);
			o += 3;
			i++;
		}
	}
	out[o] = '\0';
	return out;
}

struct listing {
	cJSON *entries;
	bool failed;
};

static void add_entry(void *ctx, const struct testctl_entry *e)
{
	struct listing *l = ctx;
	cJSON *o = cJSON_CreateObject();
	char *payload = printable(e->payload, e->len);
	if(!o || !payload || !cJSON_AddItemToArray(l->entries, o)){
		cJSON_Delete(o);
		free(payload);
		l->failed = true;
		return;
	}
	shapes_add_int(o, "seq", (int64_t)e->seq);
	shapes_add_int(o, "atMs", e->at_ms);
	cJSON_AddStringToObject(o, "direction", e->out ? "out" : "in");
	cJSON_AddStringToObject(o, "topic", e->topic);
	if(!cJSON_AddStringToObject(o, "payload", payload)) l->failed = true;
	if(e->fault) cJSON_AddStringToObject(o, "fault", e->fault);
	free(payload);
}

int control_get_transcript(struct control_ctx *c, const cJSON *cmd, cJSON *data)
{
	char thing[JOBS_THING_NAME_MAX + 1];
	struct jf_error err;
	long long since = 0;
	uint64_t dropped = 0;
	if(testing_thing(c, cmd, thing)) return -1;
	if(jf_long(cmd, "since", 0, INT64_MAX, &since, &err) == JF_BAD) return control_fail_invalid(c, &err);
	struct listing l = { .entries = cJSON_AddArrayToObject(data, "entries") };
	if(!l.entries) return control_fail(c, "InternalFailureException", "out of memory");
	if(!testctl_transcript_each(c->svc->testctl, thing, (uint64_t)since, add_entry, &l, &dropped)){
		return control_fail(c, "ResourceNotFoundException", "no transcript is recorded for %s (startTranscript first)", thing);
	}
	if(l.failed) return control_fail(c, "InternalFailureException", "out of memory");
	shapes_add_int(data, "dropped", (int64_t)dropped);
	return 0;
}
