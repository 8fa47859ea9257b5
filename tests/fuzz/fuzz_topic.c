/* topic_parse on arbitrary bytes (a NUL-terminated copy), with the parser's
 * promises checked: names valid and within their buffers, ops consistent with the
 * level layout. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/names.h"
#include "mqtt/topic.h"

static void fail(const char *topic, const char *what)
{
	fprintf(stderr, "fuzz_topic: %s\n  topic: %s\n", what, topic);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *topic = malloc(size + 1);
	if(!topic) return 0;
	memcpy(topic, data, size);
	topic[size] = '\0';

	struct jobs_topic out;
	memset(&out, 0xA5, sizeof(out)); /* garbage, so unfilled fields show */
	enum topic_kind kind = topic_parse(topic, &out);
	switch(kind){
	case TOPIC_NOT_JOBS:
		if(strncmp(topic, "$aws/things/", 12) == 0 && strstr(topic + 12, "/jobs/") != NULL
				&& strchr(topic + 12, '/') == strstr(topic + 12, "/jobs/")){
			fail(topic, "a topic under $aws/things/{thing}/jobs/ classified as not ours");
		}
		break;
	case TOPIC_IGNORED:
	case TOPIC_INVALID:
		break;
	case TOPIC_REQUEST: {
		size_t tl = strnlen(out.thing, sizeof(out.thing));
		size_t jl = strnlen(out.job_id, sizeof(out.job_id));
		size_t nl = strnlen(out.namespace_id, sizeof(out.namespace_id));
		if(tl == sizeof(out.thing) || jl == sizeof(out.job_id) || nl == sizeof(out.namespace_id)){
			fail(topic, "a name is not NUL-terminated within its buffer");
		}
		if(!names_thing_valid(out.thing, tl)) fail(topic, "invalid thing name accepted");
		if(nl && !names_namespace_valid(out.namespace_id, nl)) fail(topic, "invalid namespace accepted");
		char prefix[12 + JOBS_THING_NAME_MAX + 6 + 1];
		snprintf(prefix, sizeof(prefix), "$aws/things/%s/jobs/", out.thing);
		if(strncmp(topic, prefix, strlen(prefix)) != 0) fail(topic, "thing name differs from the topic's");
		switch(out.op){
		case DEVICE_GET_PENDING:
		case DEVICE_START_NEXT:
			if(jl || nl) fail(topic, "get/start-next with a job id or namespace");
			break;
		case DEVICE_DESCRIBE:
			if(!(strcmp(out.job_id, JOBS_NEXT_ID) == 0 || names_job_id_valid(out.job_id, jl))){
				fail(topic, "describe with an invalid job id");
			}
			break;
		case DEVICE_UPDATE:
			if(!names_job_id_valid(out.job_id, jl)) fail(topic, "update with an invalid job id");
			break;
		default:
			fail(topic, "unknown op");
		}
		break;
	}
	default:
		fail(topic, "unknown topic kind");
	}
	free(topic);
	return 0;
}
