#include "fuzz_common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "mqtt/mqtt_control.h"
#include "mqtt/mqtt_jobs.h"
#include "mqtt/topic.h"
#include "util/utf8.h"

__attribute__((format(printf, 3, 4)))
static void fuzz_log(void *ctx, int level, const char *fmt, ...)
{
	/* Format every line (so a bad format argument is seen by the sanitizers), print
	 * none unless FUZZ_LOG is set. */
	char buf[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	(void)ctx;
	static int show = -1;
	if(show < 0) show = getenv("FUZZ_LOG") != NULL;
	if(show) fprintf(stderr, "[%d] %s\n", level, buf);
}

/* cJSON's allocations through two functions of the harness (built with frame
 * pointers), so that the fast unwinder ASan uses during fuzzing gets through the
 * uninstrumented libcjson and leak reports name the plugin function above it. */
__attribute__((noinline)) static void *cjson_malloc(size_t n)
{
	void *p = malloc(n);
	__asm__ volatile("" ::: "memory"); /* not a tail call: keep this frame */
	return p;
}

__attribute__((noinline)) static void cjson_free(void *p)
{
	free(p);
	__asm__ volatile("" ::: "memory");
}

static void install_cjson_hooks(void)
{
	static bool done;
	if(done) return;
	cJSON_Hooks hooks = { cjson_malloc, cjson_free };
	cJSON_InitHooks(&hooks);
	done = true;
}

struct service *fuzz_service_new(int db_max_mb)
{
	install_cjson_hooks();
	struct jobs_config cfg;
	struct service *svc = NULL;
	char err[512], mb[16];
	snprintf(mb, sizeof(mb), "%d", db_max_mb);
	/* max_pending 4: the seeded jobs outnumber it, so lists and notify are capped. */
	struct jobs_option opts[] = { { "db_path", ":memory:" }, { "max_pending", "4" }, { "db_max_mb", mb } };
	if(config_parse(opts, 3, &cfg, err, sizeof(err)) != 0
			|| service_create(&cfg, 0, fuzz_log, NULL, &svc, err, sizeof(err)) != 0){
		fprintf(stderr, "fuzz: cannot create the service: %s\n", err);
		abort();
	}
	service_set_batch_failed(svc, mqtt_jobs_fail_batch, NULL);
	config_free(&cfg);
	return svc;
}

struct service *fuzz_service_seeded(const char *const *seeds, size_t n, int64_t now_ms)
{
	struct service *svc = fuzz_service_new(0);
	for(size_t i = 0; i < n; i++) fuzz_seed(svc, seeds[i], now_ms);
	return svc;
}

void fuzz_seed(struct service *svc, const char *json, int64_t now_ms)
{
	struct outbox ob = { 0 };
	struct jobs_request req = { .client_id = "seed", .topic = JOBS_CONTROL_TOPIC,
		.payload = json, .payload_len = strlen(json), .qos = 1,
		.now = now_ms / 1000, .now_ms = now_ms };
	mqtt_jobs_control(svc, &req, &ob);
	bool ok = ob.count > 0;
	for(size_t i = 0; i < ob.count && ok; i++){
		if(strstr(ob.msgs[i].payload, "\"error\"")){
			fprintf(stderr, "fuzz: seeding failed: %s\n  -> %.*s\n", json,
					(int)ob.msgs[i].payload_len, ob.msgs[i].payload);
			ok = false;
		}
	}
	outbox_clear(&ob);
	if(!ok) abort();
}

void fuzz_seed_device(struct service *svc, const char *topic, const char *payload, int64_t now_ms)
{
	struct outbox ob = { 0 };
	struct jobs_request req = { .client_id = "dev", .topic = topic,
		.payload = payload, .payload_len = strlen(payload), .qos = 1,
		.now = now_ms / 1000, .now_ms = now_ms };
	mqtt_jobs_device(svc, &req, &ob);
	outbox_clear(&ob);
}

/* The topic m goes out on (malloc'd), as the adapter builds it. */
static char *topic_of(const struct outbox_msg *m)
{
	size_t need = topic_build(m, NULL, 0);
	char *topic = malloc(need + 1);
	if(!topic) abort();
	topic_build(m, topic, need + 1);
	return topic;
}

static void violation(const struct outbox_msg *m, const char *topic, const char *what)
{
	fprintf(stderr, "fuzz: outbox invariant broken: %s\n  topic: %s\n  payload (%zu bytes): %.*s\n",
			what, topic, m->payload_len,
			m->payload ? (int)(m->payload_len > 4096 ? 4096 : m->payload_len) : 6,
			m->payload ? m->payload : "(null)");
	abort();
}

/* A jobs event: to every subscriber, on $aws/events/job/<jobId>/<operation> (or
 * jobExecution), its payload's eventType, jobId and operation those of its topic. */
static void check_event(const struct outbox_msg *m, char *topic, const cJSON *j)
{
	bool job = m->kind == OUTBOX_JOB_EVENT;
	const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "eventType"));
	const char *job_id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "jobId"));
	const char *operation = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "operation"));
	char want[256];
	snprintf(want, sizeof(want), "$aws/events/%s/%s/%s", job ? "job" : "jobExecution", job_id ? job_id : "?",
			operation ? operation : "?");
	if(m->client_id) violation(m, topic, "an event for one client");
	if(!type || strcmp(type, job ? "JOB" : "JOB_EXECUTION") != 0) violation(m, topic, "an event of the wrong eventType");
	if(strcmp(want, topic) != 0) violation(m, topic, "an event's topic is not its jobId and operation");
}

void fuzz_check_outbox(const struct outbox *ob, bool device_only, bool topic_utf8)
{
	static int show = -1;
	if(show < 0) show = getenv("FUZZ_SHOW") != NULL;
	for(size_t i = 0; i < ob->count; i++){
		const struct outbox_msg *m = &ob->msgs[i];
		char *topic = topic_of(m);
		if(show) fprintf(stderr, "  -> %s %.*s\n", topic, m->payload ? (int)m->payload_len : 0, m->payload ? m->payload : "");
		if(!*topic) violation(m, topic, "no topic");
		if(topic_utf8 && !utf8_valid(topic, strlen(topic))) violation(m, topic, "topic is not UTF-8");
		bool event = m->kind == OUTBOX_JOB_EVENT || m->kind == OUTBOX_EXECUTION_EVENT;
		if(device_only && !event && !topic_things_rest(topic)) violation(m, topic, "reply outside $aws/things/");
		if(!m->payload) violation(m, topic, "no payload");
		if(memchr(m->payload, '\0', m->payload_len)) violation(m, topic, "NUL inside the payload");
		if(!utf8_valid(m->payload, m->payload_len)) violation(m, topic, "payload is not UTF-8");
		cJSON *j = cJSON_ParseWithLength(m->payload, m->payload_len);
		if(!cJSON_IsObject(j)) violation(m, topic, "payload is not a JSON object");
		if(event) check_event(m, topic, j);
		cJSON_Delete(j);
		if(m->qos < 0 || m->qos > 1) violation(m, topic, "reply QoS outside 0-1");
		free(topic);
	}
}

unsigned fuzz_reset_every(unsigned fallback)
{
	const char *s = getenv("FUZZ_RESET_EVERY");
	if(s && *s){
		long v = strtol(s, NULL, 10);
		if(v > 0) return (unsigned)v;
	}
	return fallback;
}

uint8_t fr_u8(struct fuzz_reader *r)
{
	if(r->n == 0) return 0;
	r->n--;
	return *r->p++;
}

uint32_t fr_u32(struct fuzz_reader *r)
{
	uint32_t v = 0;
	for(int i = 0; i < 4; i++) v = v << 8 | fr_u8(r);
	return v;
}

uint64_t fr_u64(struct fuzz_reader *r)
{
	return (uint64_t)fr_u32(r) << 32 | fr_u32(r);
}

int64_t fuzz_clock_step(uint8_t b)
{
	if(b < 0xC0) return (int64_t)b * 250;
	return (int64_t)(b - 0xC0 + 1) * 60000;
}
