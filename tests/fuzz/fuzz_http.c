/* The HTTP API (http_api_handle: routing, percent-decoding, query parsing, reshaping,
 * authorize()) against one long-lived service over an in-memory store, seeded with
 * jobs whose executions change only when their own thing acts (no abort criteria, no
 * rollout: one thing's update never moves another's execution).
 *
 * Input: [who][mode][step]METHOD TARGET\nBODY
 *   who  % 8  : the identity: t1, t2, t4, gw (granted t2 t3), star (granted *), admin
 *               (an operator), nobody, or none (an unsigned request without
 *               plugin_opt_http_unsigned_identity)
 *   mode      : the access options: bit 0-1 == 3 isolation off; bit 2 other_topics
 *               allow; bit 3 control_access broker; bit 4-6 == 7 operators *
 *   step % 3  : the plane (iot-jobs-data, iot, unsigned); step >> 2: the clock moves
 *               (fuzz_clock_step of step & 0xfc); step & 2: service_tick afterwards
 *   TARGET    : the raw path, then '?' and the raw query
 * Checks, on every response: a status 200-599, a JSON object body, x-amzn-ErrorType
 * set exactly on errors, a "message" in every error; on what the request did, unless
 * its identity is an operator or reaches every thing (isolation off with other_topics
 * allow, the * grant):
 *   - a 2xx only on a data-plane route (the target's own reading of the path:
 *     /things/T/jobs, /things/T/jobs/J) of a thing T it is or holds a grant for, and
 *     never on the iot plane;
 *   - notifications only on $aws/things/T/jobs/... of such a T;
 *   - every other thing's pending executions ($aws/things/X/jobs/get, timestamp
 *     aside) exactly as before the request.
 * FUZZ_SHOW=1 prints each request and its response (and every message appended). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fuzz_common.h"
#include "mqtt/mqtt_jobs.h"
#include "config/config.h"
#include "http/http_api.h"

#define G1_ARN "arn:aws:iot:us-east-1:000000000000:thinggroup/g1"

static const char *const seeds[] = {
	"{\"commands\":[{\"command\":\"createThingGroup\",\"thingGroupName\":\"g1\"},"
	"{\"command\":\"addThingToThingGroup\",\"thingGroupName\":\"g1\",\"thingName\":\"t3\"},"
	"{\"command\":\"addThingToThingGroup\",\"thingGroupName\":\"g1\",\"thingName\":\"t4\"}]}",
	"{\"commands\":[{\"command\":\"createJob\",\"jobId\":\"j1\",\"targets\":[\"t1\",\"t2\",\"t3\",\"gw\"],"
	"\"document\":{\"op\":\"upgrade\",\"n\":1,\"list\":[1,2,{\"a\":null}]}}]}",
	"{\"commands\":[{\"command\":\"createJob\",\"jobId\":\"j2\",\"targets\":[\"t1\",\"t2\",\"t4\"],"
	"\"document\":{\"op\":\"reboot\"},\"timeoutConfig\":{\"inProgressTimeoutInMinutes\":3},"
	"\"jobExecutionsRetryConfig\":{\"criteriaList\":[{\"failureType\":\"FAILED\",\"numberOfRetries\":2},"
	"{\"failureType\":\"TIMED_OUT\",\"numberOfRetries\":1}]}}]}",
	"{\"commands\":[{\"command\":\"createJob\",\"jobId\":\"j3\",\"targets\":[\"" G1_ARN "\"],"
	"\"document\":{\"op\":\"onboard\"},\"targetSelection\":\"CONTINUOUS\"}]}",
	"{\"commands\":[{\"command\":\"createJob\",\"jobId\":\"jn\",\"targets\":[\"t1\",\"t2\"],"
	"\"document\":{\"op\":\"gg\"},\"namespaceId\":\"ns\"}]}",
};

/* The things whose executions are watched, and the identities. */
static const char *const things[] = { "t1", "t2", "t3", "t4", "gw" };
#define NTHINGS (sizeof(things) / sizeof(*things))
static const char *const identities[] = { "t1", "t2", "t4", "gw", "star", "admin", "nobody", NULL };

static struct service *svc;
static int64_t clock_ms;
static unsigned inputs, reset_every;
static char *digest[NTHINGS];

static void fail(const char *what, const struct http_request *req, const struct http_response *out)
{
	fprintf(stderr, "fuzz_http: %s\n  identity: %s  plane: %d\n  %s %s%s%s\n  -> %d %s %s\n", what,
			req->identity ? req->identity : "(none)", (int)req->plane, req->method, req->path,
			req->query ? "?" : "", req->query ? req->query : "", out ? out->status : 0,
			out ? out->error_type : "", out && out->body ? out->body : "");
	abort();
}

/* The thing's pending executions as the device sees them, its reply's timestamp left out. */
static char *pending_of(const char *thing)
{
	char topic[128];
	snprintf(topic, sizeof(topic), "$aws/things/%s/jobs/get", thing);
	struct outbox ob = { 0 };
	struct jobs_request req = { .client_id = "fuzz", .topic = topic, .payload = "{}", .payload_len = 2, .qos = 1,
		.now = clock_ms / 1000, .now_ms = clock_ms };
	mqtt_jobs_device(svc, &req, &ob);
	if(ob.count != 1 || ob.msgs[0].kind != OUTBOX_ACCEPTED){
		fprintf(stderr, "fuzz_http: no reply to %s\n", topic);
		abort();
	}
	cJSON *j = cJSON_ParseWithLength(ob.msgs[0].payload, ob.msgs[0].payload_len);
	outbox_clear(&ob);
	cJSON_DeleteItemFromObjectCaseSensitive(j, "timestamp");
	char *text = j ? cJSON_PrintUnformatted(j) : NULL;
	cJSON_Delete(j);
	if(!text) abort();
	return text;
}

static void refresh_digests(void)
{
	for(size_t i = 0; i < NTHINGS; i++){
		free(digest[i]);
		digest[i] = pending_of(things[i]);
	}
}

static void fresh_service(void)
{
	service_destroy(svc);
	clock_ms = FUZZ_NOW_MS;
	svc = fuzz_service_seeded(seeds, sizeof(seeds) / sizeof(*seeds), clock_ms);
	fuzz_seed_device(svc, "$aws/things/t1/jobs/start-next", "{\"stepTimeoutInMinutes\":2}", clock_ms);
	fuzz_seed_device(svc, "$aws/things/t2/jobs/j1/update", "{\"status\":\"IN_PROGRESS\"}", clock_ms);
	inputs = 0;
	refresh_digests();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	reset_every = fuzz_reset_every(1000);
	return 0;
}

/* Percent-decodes s[0..n) (NULL on a malformed escape). */
static char *decoded(const char *s, size_t n)
{
	char *out = malloc(n + 1);
	if(!out) abort();
	size_t o = 0;
	for(size_t i = 0; i < n; i++){
		if(s[i] != '%'){
			out[o++] = s[i];
			continue;
		}
		unsigned v;
		char hexd[3] = { 0 };
		if(i + 2 >= n){ /* fewer than two characters follow */
			free(out);
			return NULL;
		}
		hexd[0] = s[i + 1];
		hexd[1] = s[i + 2];
		if(!strchr("0123456789abcdefABCDEF", hexd[0]) || !hexd[0] || !strchr("0123456789abcdefABCDEF", hexd[1])
				|| !hexd[1] || sscanf(hexd, "%2x", &v) != 1){
			free(out);
			return NULL;
		}
		out[o++] = (char)v;
		i += 2;
	}
	out[o] = '\0';
	return out;
}

/* The thing a data-plane route names (/things/T/jobs or /things/T/jobs/J, empty
 * segments skipped, each segment percent-decoded), or NULL when the path is none. */
static char *data_thing(const char *path)
{
	char *seg[5] = { 0 };
	int n = 0;
	bool ok = path[0] == '/';
	for(const char *s = path; ok && *s;){
		while(*s == '/') s++;
		if(!*s) break;
		const char *e = strchr(s, '/');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		if(n == 5 || !(seg[n] = decoded(s, len))) ok = false;
		else n++;
		s += len;
	}
	char *thing = NULL;
	if(ok && (n == 3 || n == 4) && strcmp(seg[0], "things") == 0 && strcmp(seg[2], "jobs") == 0){
		thing = seg[1];
		seg[1] = NULL;
	}
	for(int i = 0; i < n; i++) free(seg[i]);
	return thing;
}

/* Whether the identity is, or holds a grant for, the thing. */
static bool holds(const char *identity, const char *thing)
{
	if(!identity) return false;
	if(strcmp(identity, thing) == 0) return true;
	return strcmp(identity, "gw") == 0 && (strcmp(thing, "t2") == 0 || strcmp(thing, "t3") == 0);
}

static void check_envelope(const struct http_request *req, const struct http_response *out)
{
	if(out->status < 200 || out->status > 599) fail("status outside 200-599", req, out);
	if(!out->body) fail("no body", req, out);
	cJSON *j = cJSON_Parse(out->body);
	if(!cJSON_IsObject(j)) fail("the body is not a JSON object", req, out);
	bool error = out->status >= 300;
	if(error != (out->error_type[0] != '\0')) fail("x-amzn-ErrorType set on a success or missing on an error", req, out);
	if(error && !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "message"))) fail("an error without a message", req, out);
	cJSON_Delete(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if(size < 4) return 0;
	if(!svc || inputs >= reset_every) fresh_service();
	inputs++;
	uint8_t who = data[0], mode = data[1], step = data[2];
	const char *text = (const char *)data + 3, *end = (const char *)data + size;
	const char *nl = memchr(text, '\n', (size_t)(end - text));
	size_t line_len = nl ? (size_t)(nl - text) : (size_t)(end - text);
	char *line = malloc(line_len + 1);
	if(!line) abort();
	memcpy(line, text, line_len);
	line[line_len] = '\0';
	const char *body = nl ? nl + 1 : end;
	size_t body_len = (size_t)(end - body);
	char *sp = strchr(line, ' ');
	const char *method = line, *target = sp ? sp + 1 : "/";
	if(sp) *sp = '\0';
	char *path = strdup(target);
	if(!path) abort();
	char *q = strchr(path, '?');
	if(q) *q++ = '\0';
	/* the body in a buffer of its own size, so a read past body_len is seen */
	char *copy = body_len ? malloc(body_len) : NULL;
	if(body_len && !copy) abort();
	if(copy) memcpy(copy, body, body_len);

	/* the access options */
	bool isolation = (mode & 3) != 3, allow_other = mode & 4, broker = mode & 8, any_op = (mode >> 4 & 7) == 7;
	struct jobs_option opts[8];
	size_t n = 0;
	opts[n++] = (struct jobs_option){ "grant_gw", "t2 t3" };
	opts[n++] = (struct jobs_option){ "grant_star", "*" };
	opts[n++] = (struct jobs_option){ "operators", any_op ? "*" : "admin" };
	if(!isolation) opts[n++] = (struct jobs_option){ "isolation", "off" };
	if(allow_other) opts[n++] = (struct jobs_option){ "other_topics", "allow" };
	if(broker) opts[n++] = (struct jobs_option){ "control_access", "broker" };
	struct jobs_config cfg;
	char err[256];
	if(config_parse(opts, n, &cfg, err, sizeof(err)) != 0){
		fprintf(stderr, "fuzz_http: %s\n", err);
		abort();
	}

	const char *identity = identities[who % 8];
	struct http_request req = { .method = method, .path = path, .query = q, .plane = (enum http_plane)(step % 3),
		.identity = identity, .who = (who & 8) ? "AKIDFUZZ" : NULL, .body = copy, .body_len = body_len };
	clock_ms += fuzz_clock_step(step & 0xfc);
	struct outbox ob = { 0 };
	struct http_response out;
	http_api_handle(svc, &cfg.access, &req, clock_ms, &ob, &out);
	service_flush(svc, clock_ms, &ob);
	static int show = -1;
	if(show < 0) show = getenv("FUZZ_SHOW") != NULL;
	if(show){
		fprintf(stderr, "%s %s %s%s%s (plane %d) -> %d %s %s\n", identity ? identity : "(none)", method, path,
				q ? "?" : "", q ? q : "", (int)req.plane, out.status, out.error_type, out.body ? out.body : "");
	}
	check_envelope(&req, &out);
	fuzz_check_outbox(&ob, true, true);

	bool op = identity && (any_op || strcmp(identity, "admin") == 0);
	bool everything = (identity && strcmp(identity, "star") == 0) || (!isolation && allow_other);
	if(!op && !everything){
		if(out.status < 300){
			char *thing = data_thing(path);
			if(req.plane == HTTP_PLANE_CONTROL) fail("a non-operator got a 2xx on the iot plane", &req, &out);
			if(!thing || !holds(identity, thing)) fail("a 2xx outside the things the identity holds", &req, &out);
			free(thing);
		}
		for(size_t i = 0; i < ob.count; i++){
			const char *thing = ob.msgs[i].thing ? ob.msgs[i].thing : "";
			if(!holds(identity, thing)){
				fprintf(stderr, "  notified: %s\n", thing);
				fail("a notification to a thing the identity does not hold", &req, &out);
			}
		}
		for(size_t i = 0; i < NTHINGS; i++){
			if(holds(identity, things[i])) continue;
			char *now = pending_of(things[i]);
			if(strcmp(now, digest[i]) != 0){
				fprintf(stderr, "  %s before: %s\n  %s after:  %s\n", things[i], digest[i], things[i], now);
				fail("another thing's executions changed", &req, &out);
			}
			free(now);
		}
	}
	outbox_clear(&ob);
	free(out.body);
	if(step & 2){
		service_tick(svc, clock_ms, &ob);
		fuzz_check_outbox(&ob, true, true);
		outbox_clear(&ob);
	}
	refresh_digests();
	config_free(&cfg);
	free(copy);
	free(path);
	free(line);
	return 0;
}
