/* Device requests (service_handle_device) against one long-lived service over an
 * in-memory store, seeded with jobs of every kind (plain, timers + retries + abort,
 * continuous through a group, rollout + schedule, namespaced) for a few things.
 *
 * Input: [sel][clk][mode][body...]
 *   sel & 7     : the topic's shape (7: raw, the topic is body's first line)
 *   sel >> 3 & 3: thing t1..t4;  sel >> 5: job id from a table (also "$next")
 *   clk         : how far the clock moves before the request (fuzz_clock_step);
 *                 service_tick runs after every input, so timers, rollouts and
 *                 schedules fire as the clock advances
 *   mode & 1    : 0: group commit, as the plugin runs once ticking (the requests,
 *                 then service_flush, then service_tick); 1: each request commits
 *   mode & 2    : through service_device_call (the HTTP API's way in)
 *   mode >> 2 & 3: request QoS (3: 0);  mode >> 4 & 3: the request is sent 1-4 times
 *                 (in one batch, under group commit)
 *   body        : the payload (after the first line, for a raw topic)
 * The service is recreated (and the clock reset) every FUZZ_RESET_EVERY inputs
 * (default 1000), which bounds the store and brings the seeded state back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "util/utf8.h"

#define G1_ARN "arn:aws:iot:us-east-1:000000000000:thinggroup/g1"

static const char *const seeds[] = {
	"{\"commands\":[{\"command\":\"createThingGroup\",\"thingGroupName\":\"g1\"},"
	"{\"command\":\"addThingToThingGroup\",\"thingGroupName\":\"g1\",\"thingName\":\"t3\"},"
	"{\"command\":\"addThingToThingGroup\",\"thingGroupName\":\"g1\",\"thingName\":\"t4\"}]}",
	/* plain snapshot job */
	"{\"commands\":[{\"command\":\"createJob\",\"jobId\":\"j1\",\"targets\":[\"t1\",\"t2\",\"t3\"],"
	"\"document\":{\"op\":\"upgrade\",\"n\":1,\"list\":[1,2,{\"a\":null}]}}]}",
	/* timers, retries, abort */
	"{\"commands\":[{\"command\":\"createJob\",\"jobId\":\"j2\",\"targets\":[\"t1\",\"t2\",\"t4\"],"
	"\"document\":{\"op\":\"reboot\"},\"timeoutConfig\":{\"inProgressTimeoutInMinutes\":3},"
	"\"jobExecutionsRetryConfig\":{\"criteriaList\":[{\"failureType\":\"FAILED\",\"numberOfRetries\":2},"
	"{\"failureType\":\"TIMED_OUT\",\"numberOfRetries\":1}]},"
	"\"abortConfig\":{\"criteriaList\":[{\"failureType\":\"ALL\",\"action\":\"CANCEL\","
	"\"thresholdPercentage\":60,\"minNumberOfExecutedThings\":2}]}}]}",
	/* continuous, through the group */
	"{\"commands\":[{\"command\":\"createJob\",\"jobId\":\"j3\",\"targets\":[\"" G1_ARN "\"],"
	"\"document\":{\"op\":\"onboard\"},\"targetSelection\":\"CONTINUOUS\"}]}",
	/* rollout and schedule: starts 47 minutes after the seed clock */
	"{\"commands\":[{\"command\":\"createJob\",\"jobId\":\"j4\",\"targets\":[\"t1\",\"t2\",\"t3\",\"t4\"],"
	"\"document\":{\"op\":\"slow\"},\"jobExecutionsRolloutConfig\":{\"maximumPerMinute\":2,"
	"\"exponentialRate\":{\"baseRatePerMinute\":1,\"incrementFactor\":2,"
	"\"rateIncreaseCriteria\":{\"numberOfNotifiedThings\":1}}},"
	"\"schedulingConfig\":{\"startTime\":\"2023-11-14T23:00\",\"endTime\":\"2023-11-15T03:00\","
	"\"endBehavior\":\"CANCEL\"}}]}",
	/* namespaced */
	"{\"commands\":[{\"command\":\"createJob\",\"jobId\":\"jn\",\"targets\":[\"t1\",\"t2\"],"
	"\"document\":{\"op\":\"gg\"},\"namespaceId\":\"ns\"}]}",
};

static const char *const things[] = { "t1", "t2", "t3", "t4" };
static const char *const jobs[] = { "j1", "j2", "j3", "j4", "jn", "$next", "get", "nojob" };

static struct service *svc;
static int64_t clock_ms;
static unsigned inputs, reset_every;

static void fresh_service(void)
{
	service_destroy(svc);
	clock_ms = FUZZ_NOW_MS;
	svc = fuzz_service_seeded(seeds, sizeof(seeds) / sizeof(*seeds), clock_ms);
	/* t1 has something IN_PROGRESS with a step timer from the start. */
	fuzz_seed_device(svc, "$aws/things/t1/jobs/start-next", "{\"stepTimeoutInMinutes\":2}", clock_ms);
	inputs = 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	reset_every = fuzz_reset_every(1000);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if(size < 3) return 0;
	if(!svc || inputs >= reset_every) fresh_service();
	inputs++;

	uint8_t sel = data[0], clk = data[1], mode = data[2];
	const char *body = (const char *)data + 3;
	size_t body_len = size - 3;

	char topic[512];
	const char *payload = body;
	size_t payload_len = body_len;
	char *raw = NULL;
	const char *thing = things[sel >> 3 & 3], *job = jobs[sel >> 5];
	switch(sel & 7){
	case 0: snprintf(topic, sizeof(topic), "$aws/things/%s/jobs/get", thing); break;
	case 1: snprintf(topic, sizeof(topic), "$aws/things/%s/jobs/start-next", thing); break;
	case 2: snprintf(topic, sizeof(topic), "$aws/things/%s/jobs/%s/get", thing, job); break;
	case 3: snprintf(topic, sizeof(topic), "$aws/things/%s/jobs/%s/update", thing, job); break;
	case 4: snprintf(topic, sizeof(topic), "$aws/things/%s/jobs/%s/namespace-ns/get", thing, job); break;
	case 5: snprintf(topic, sizeof(topic), "$aws/things/%s/jobs/%s/namespace-ns/update", thing, job); break;
	case 6: snprintf(topic, sizeof(topic), "$aws/things/%s/jobs/$next/namespace-ns/get", thing); break;
	default: {
		/* Raw: the topic is the first line (a NUL-terminated copy), the payload the rest. */
		const char *nl = memchr(body, '\n', body_len);
		size_t tlen = nl ? (size_t)(nl - body) : body_len;
		raw = malloc(tlen + 1);
		if(!raw) return 0;
		memcpy(raw, body, tlen);
		raw[tlen] = '\0';
		payload = nl ? nl + 1 : body + body_len;
		payload_len = nl ? body_len - tlen - 1 : 0;
		break;
	}
	}

	clock_ms += fuzz_clock_step(clk);
	bool group = !(mode & 1), front_end = mode & 2;
	int qos = (mode >> 2 & 3) % 3, times = 1 + (mode >> 4 & 3);
	/* The payload in a buffer of its own size, so a read past payload_len is seen. */
	char *copy = payload_len ? malloc(payload_len) : NULL;
	if(payload_len && !copy){
		free(raw);
		return 0;
	}
	if(copy) memcpy(copy, payload, payload_len);
	const char *t = raw ? raw : topic;
	bool topic_utf8 = utf8_valid(t, strlen(t));

	struct outbox ob = { 0 };
	service_set_group_commit(svc, group);
	for(int i = 0; i < times; i++){
		if(front_end){
			char *reply = NULL;
			bool accepted = false;
			if(service_device_call(svc, t, copy, payload_len, clock_ms, &ob, &reply, &accepted) == 0){
				struct outbox one = { 0 };
				/* Check the reply as if it had been published. */
				if(!reply || outbox_add(&one, "http", "$aws/things/http/jobs/reply", reply,
							strlen(reply), 0) != 0){
					fprintf(stderr, "fuzz_device: service_device_call returned 0 and no reply\n");
					abort();
				}
				fuzz_check_outbox(&one, true, true);
				outbox_clear(&one);
			}
		}else{
			struct jobs_request req = { .client_id = "dev", .topic = t,
				.payload = copy, .payload_len = payload_len, .qos = qos,
				.now = clock_ms / 1000, .now_ms = clock_ms };
			service_handle_device(svc, &req, &ob);
		}
	}
	service_flush(svc, clock_ms, &ob);
	fuzz_check_outbox(&ob, true, topic_utf8);
	outbox_clear(&ob);

	service_tick(svc, clock_ms, &ob);
	fuzz_check_outbox(&ob, true, true);
	outbox_clear(&ob);

	free(copy);
	free(raw);
	return 0;
}
