/* Mosquitto adapter: the only file that knows Mosquitto.
 *
 * Loads the options, creates the jobs service, and hands MESSAGE events on the
 * things' topics and CONTROL events on $CONTROL/jobs/v1 to the MQTT request path
 * (mqtt_jobs.c), then publishes what it put in the outbox. Jobs requests always return
 * MOSQ_ERR_SUCCESS: anything else would fail the device's publish or disconnect it. */
#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>
#include <mqtt_protocol.h>

#include <openssl/objects.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mqtt/topic_access.h"
#include "config/config.h"
#include "http/http_pass.h"
#include "http/http_server.h"
#include "util/loglimit.h"
#include "core/metrics.h"
#include "core/service.h"
#include "mqtt/loop_wake.h"
#include "mqtt/mqtt5_props.h"
#include "mqtt/mqtt_control.h"
#include "mqtt/mqtt_jobs.h"
#include "mqtt/topic.h"
#include "mqtt/sys_topics.h"
#include "store/store.h"

#define PLUGIN_API_VERSION MOSQ_PLUGIN_VERSION

/* The plugin is built with hidden visibility; only these three entry points leave it. */
#define PLUGIN_ENTRY __attribute__((visibility("default")))

struct plugin {
	mosquitto_plugin_id_t *id;
	struct jobs_config cfg;
	struct service *svc;
	struct outbox outbox;
	struct http_server *http;   /* NULL unless plugin_opt_http_listen */
	/* HTTP calls whose batch the store commits later: answered once it is over. */
	struct held_call { struct http_call *call; struct http_response resp; uint64_t batch; } *held;
	size_t nheld, held_cap;
	/* TICK has fired, so it will fire after every pass of the broker's loop: requests
	 * commit together there (group commit). Until then each request commits and
	 * replies on its own. */
	bool ticking;
	struct loglimit refusals;   /* lines about refused requests */
	struct loop_wake *wake;     /* wakes the loop for the store's answers (loop_wake.h) */
	int64_t sys_next_ms;        /* monotonic: when the $SYS topics are published next */
};

/* Refused requests are logged at notice level, at most this many lines a second with
 * bursts of REFUSAL_BURST: a client refused in a loop cannot flood the log. */
#define REFUSAL_LINES_PER_S 5
#define REFUSAL_BURST 10

static const int log_levels[] = {
	[JOBS_LOG_ERR] = MOSQ_LOG_ERR,
	[JOBS_LOG_WARNING] = MOSQ_LOG_WARNING,
	[JOBS_LOG_NOTICE] = MOSQ_LOG_NOTICE,
	[JOBS_LOG_INFO] = MOSQ_LOG_INFO,
	[JOBS_LOG_DEBUG] = MOSQ_LOG_DEBUG,
};

__attribute__((format(printf, 3, 4)))
static void log_to_broker(void *ctx, int level, const char *fmt, ...)
{
	(void)ctx;
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	mosquitto_log_printf(log_levels[level], "%s", line);
}

/* The broker's mosquitto_strerror is not among the names it exports to plugins:
 * the codes mosquitto_broker_publish_copy returns, in words. */
static const char *publish_error_text(int rc)
{
	switch(rc){
		case MOSQ_ERR_NOMEM: return "out of memory";
		case MOSQ_ERR_INVAL: return "invalid topic, payload or QoS";
		case MOSQ_ERR_MALFORMED_UTF8: return "topic is not valid UTF-8";
		case MOSQ_ERR_PAYLOAD_SIZE: return "payload too large";
		case MOSQ_ERR_NO_CONN: return "client not connected";
		default: return "broker error";
	}
}

static int64_t now_ms(void);

/* The metrics' clock (metrics.h). */
static int64_t monotonic_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Publishes and empties the outbox (the broker copies each payload), but for
 * messages held back until later (test controls' delayed replies) and those held by a
 * batch whose commit is not known yet. */
static void flush_outbox(struct plugin *p)
{
	int64_t now = now_ms();
	int64_t handed_us = 0;
	for(size_t i = 0; i < p->outbox.count; i++){
		const struct outbox_msg *m = &p->outbox.msgs[i];
		if(m->held_by || m->not_before_ms > now) continue;
		char buf[512];
		char *topic = buf;
		size_t need = topic_build(m, buf, sizeof(buf));
		if(need >= sizeof(buf)){
			/* a reply to a request on a long topic */
			if(!(topic = malloc(need + 1))) continue;
			topic_build(m, topic, need + 1);
		}
		mqtt_jobs_sent(p->svc, m, topic, now);
		if(m->withheld){
			if(topic != buf) free(topic);
			continue;
		}
		mosquitto_property *props = NULL;
		if(m->correlation && mosquitto_property_add_binary(&props, MQTT_PROP_CORRELATION_DATA,
					m->correlation, (uint16_t)m->correlation_len) != MOSQ_ERR_SUCCESS){
			mosquitto_property_free_all(&props);
			props = NULL;
		}
		int rc = mosquitto_broker_publish_copy(m->client_id, topic, (int)m->payload_len,
				m->payload, m->qos, false, props);
		if(m->seen_us){
			/* one clock read per flush: the pass's replies are handed over together */
			if(!handed_us) handed_us = monotonic_us();
			metrics_observe(service_metrics(p->svc), METRICS_REPLY_SECONDS,
					handed_us > m->seen_us ? handed_us - m->seen_us : 0);
		}
		if(rc != MOSQ_ERR_SUCCESS) mosquitto_property_free_all(&props);
		if(rc != MOSQ_ERR_SUCCESS){
			mosquitto_log_printf(MOSQ_LOG_WARNING, "jobs: could not publish on %s: %s",
					topic, publish_error_text(rc));
		}
		if(topic != buf) free(topic);
	}
	outbox_retain_later(&p->outbox, now);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t monotonic_ms(void *ctx)
{
	(void)ctx;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* disconnectThing (test controls): like a lost connection, so the client's will, if
 * it has one, is published. */
static bool kick(void *ctx, const char *name, bool by_username)
{
	(void)ctx;
	if(!name) return false;  /* NULL would mean every client */
	return by_username ? mosquitto_kick_client_by_username(name, true) == MOSQ_ERR_SUCCESS
		: mosquitto_kick_client_by_clientid(name, true) == MOSQ_ERR_SUCCESS;
}

/* One line about a refused request, unless too many came lately; the first line
 * after held-back ones says how many were held back. */
__attribute__((format(printf, 2, 3)))
static void log_refusal(struct plugin *p, const char *fmt, ...)
{
	uint64_t suppressed;
	if(!loglimit_allow(&p->refusals, monotonic_ms(NULL), &suppressed)) return;
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if(suppressed){
		mosquitto_log_printf(MOSQ_LOG_NOTICE, "jobs: refused %s (%llu similar refusals suppressed)", line,
				(unsigned long long)suppressed);
	}else{
		mosquitto_log_printf(MOSQ_LOG_NOTICE, "jobs: refused %s", line);
	}
}

/* Whether Mosquitto loaded the plugin for one listener (per_listener_settings true),
 * where 2.0 never sends TICK. The plugin API does not say; Mosquitto 2.0's plugin id
 * (src/mosquitto_broker_internal.h, the same from 2.0.0 to 2.0.20) holds just the
 * listener the plugin was loaded for, NULL unless per_listener_settings is true.
 * Built against other versions, the plugin cannot tell. */
static bool loaded_per_listener(const mosquitto_plugin_id_t *identifier)
{
#if LIBMOSQUITTO_MAJOR == 2 && LIBMOSQUITTO_MINOR == 0
	struct plugin_id_2_0 { const void *listener; };
	return identifier && ((const struct plugin_id_2_0 *)(const void *)identifier)->listener != NULL;
#else
	(void)identifier;
	return false;
#endif
}

/* Why access_decide refused `identity` the topic or filter (it did: this only words
 * the reason), and the thing it names ("*" for a wildcard, "-" for none). */
static const char *refusal_reason(const struct plugin *p, const char *identity, const char *topic,
		char *thing, size_t thing_size)
{
	if(strncmp(topic, "$share/", 7) == 0 && strchr(topic + 7, '/')) topic = strchr(topic + 7, '/') + 1;
	snprintf(thing, thing_size, "-");
	if(strncmp(topic, "$CONTROL/", 9) == 0) return "not an operator of the management API (plugin_opt_operators)";
	if(topic_reaches_job_events(topic, true)){
		return "the jobs events are for operators of the management API (plugin_opt_operators), and published "
			"by the plugin only";
	}
	const char *t = topic_things_rest(topic);
	if(t) snprintf(thing, thing_size, "%.*s", (int)strcspn(t, "/"), t);
	else snprintf(thing, thing_size, "*");
	if(!access_identity_valid(identity)){
		return p->cfg.access.identity == IDENTITY_CLIENTID ? "the client id is empty or holds '+', '#' or '/', so it is no identity"
			: "the client has no usable identity (plugin_opt_identity): none, or one holding '+', '#' or '/'";
	}
	if(!t || strcmp(thing, "+") == 0 || strcmp(thing, "#") == 0){
		snprintf(thing, thing_size, "*");
		return "the filter reaches every thing's jobs topics, which needs plugin_opt_grant_<identity> *";
	}
	return "isolation: the identity is not the thing and holds no grant for it (plugin_opt_grant_<identity>)";
}

static void fill_request(struct jobs_request *req, struct mosquitto *client, const char *topic,
		const void *payload, uint32_t payloadlen, uint8_t qos)
{
	memset(req, 0, sizeof(*req));
	req->client_id = mosquitto_client_id(client);
	req->username = mosquitto_client_username(client);
	req->topic = topic;
	req->payload = payload;
	req->payload_len = payloadlen;
	req->qos = qos;
	req->now_ms = now_ms();
	req->now = req->now_ms / 1000;
}

/* The client's identity as plugin_opt_identity says; NULL when it has none.
 * A delivery to an offline persistent session (kind ACCESS_READ, no connection, so no
 * certificate) is judged by the username Mosquitto keeps for the session: with
 * use_identity_as_username true, the CN it connected with. Without it the
 * notification would be refused and lost while the device is away. Subscribing and
 * publishing always need the live certificate. */
static const char *identity_of(const struct plugin *p, const struct mosquitto *client, enum access_kind kind,
		char *buf, size_t size)
{
	switch(p->cfg.access.identity){
	case IDENTITY_USERNAME:
		return mosquitto_client_username(client);
	case IDENTITY_CERT_CN: {
		X509 *cert = mosquitto_client_certificate(client);
		if(!cert) return kind == ACCESS_READ ? mosquitto_client_username(client) : NULL;
		int len = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf, (int)size);
		X509_free(cert);
		return len > 0 && (size_t)len < size ? buf : NULL;
	}
	case IDENTITY_CLIENTID:
		break;
	}
	return mosquitto_client_id(client);
}

static int on_acl_check(int event, void *event_data, void *userdata)
{
	(void)event;
	struct plugin *p = userdata;
	struct mosquitto_evt_acl_check *ev = event_data;
	enum access_kind kind;
	switch(ev->access){
	case MOSQ_ACL_READ: kind = ACCESS_READ; break;
	case MOSQ_ACL_WRITE: kind = ACCESS_WRITE; break;
	case MOSQ_ACL_SUBSCRIBE: kind = ACCESS_SUBSCRIBE; break;
	default: return MOSQ_ERR_SUCCESS; /* unsubscribing is always fine */
	}
	char buf[256];
	const char *identity = identity_of(p, ev->client, kind, buf, sizeof(buf));
	switch(access_decide(&p->cfg.access, identity, ev->topic, kind)){
	case ACCESS_ALLOW: return MOSQ_ERR_SUCCESS;
	case ACCESS_DENY:
		/* deliveries a subscription does not reach are no client's request */
		if(kind != ACCESS_READ){
			char thing[160];
			const char *client_id = mosquitto_client_id(ev->client);
			const char *reason = refusal_reason(p, identity, ev->topic, thing, sizeof(thing));
			log_refusal(p, "%s on %.300s: client %.100s, identity %.100s, thing %s: %s",
					kind == ACCESS_SUBSCRIBE ? "subscribe" : "publish", ev->topic, client_id ? client_id : "-",
					identity ? identity : "-", thing, reason);
		}
		return MOSQ_ERR_ACL_DENIED;
	case ACCESS_DEFER: break;
	}
	return MOSQ_ERR_PLUGIN_DEFER;
}

static int on_message(int event, void *event_data, void *userdata)
{
	(void)event;
	struct plugin *p = userdata;
	struct mosquitto_evt_message *ev = event_data;
	if(!topic_things_rest(ev->topic)) return MOSQ_ERR_SUCCESS;

	struct jobs_request req;
	int64_t seen = monotonic_us();
	size_t mark = p->outbox.count;
	fill_request(&req, ev->client, ev->topic, ev->payload, ev->payloadlen, ev->qos);
	bool flush = mqtt_jobs_device(p->svc, &req, &p->outbox);
	for(size_t i = mark; i < p->outbox.count; i++){
		enum outbox_kind k = p->outbox.msgs[i].kind;
		if(k == OUTBOX_ACCEPTED || k == OUTBOX_REJECTED) p->outbox.msgs[i].seen_us = seen;
	}
	if(flush && !p->ticking) flush_outbox(p);
	return MOSQ_ERR_SUCCESS;
}

/* The requests the HTTP listener's thread refused, logged from the broker's thread. */
static void log_http_refusals(struct plugin *p)
{
	static char lines[16][HTTP_REFUSAL_LINE];
	uint64_t dropped;
	size_t n = http_server_take_refusals(p->http, lines, sizeof(lines) / sizeof(*lines), &dropped);
	for(size_t i = 0; i < n; i++) log_refusal(p, "%s", lines[i]);
	loglimit_suppress(&p->refusals, dropped);
}

/* Sends an HTTP call's answer (a refusal is logged). */
static void answer_http(struct plugin *p, struct http_call *call, const struct http_request *hr,
		struct http_response *resp)
{
	if(resp->status == 401 || resp->status == 403){
		log_refusal(p, "HTTP %.8s %.200s key=%.40s: %d %s: %.200s", hr->method, hr->path, hr->who ? hr->who : "-",
				resp->status, resp->error_type, resp->body ? resp->body : "");
	}
	http_server_finish(p->http, call, resp);
}

/* The service's batch-failed hook: the MQTT replies the batch holds, and the HTTP
 * answers waiting for it, become failures. */
static void batch_failed(void *ctx, struct outbox *ob, uint64_t batch, int64_t now)
{
	struct plugin *p = ctx;
	mqtt_jobs_fail_batch(NULL, ob, batch, now);
	for(size_t i = 0; i < p->nheld; i++){
		if(p->held[i].batch == batch) http_pass_failed(&p->held[i].resp);
	}
}

/* How many calls a pass may take: as many as there is room to hold. */
static size_t held_room(struct plugin *p)
{
	if(p->held_cap - p->nheld < HTTP_PASS_MAX){
		size_t cap = p->nheld + 2 * HTTP_PASS_MAX;
		struct held_call *held = realloc(p->held, cap * sizeof(*held));
		if(held){
			p->held = held;
			p->held_cap = cap;
		}
	}
	size_t room = p->held_cap - p->nheld;
	return room < HTTP_PASS_MAX ? room : HTTP_PASS_MAX;
}

/* Answers the held HTTP calls whose batch is over, in the order they came. */
static void answer_held(struct plugin *p)
{
	size_t kept = 0;
	for(size_t i = 0; i < p->nheld; i++){
		struct held_call *h = &p->held[i];
		if(service_batch_done(p->svc, h->batch)) answer_http(p, h->call, http_call_request(h->call), &h->resp);
		else p->held[kept++] = *h;
	}
	p->nheld = kept;
}

/* loop_wake's view of the store, from its thread. */
static void watch_store(void *ctx, int *fd, unsigned *reads)
{
	service_watch(ctx, fd, reads);
}

static void publish_retained(void *ctx, const char *topic, const char *payload)
{
	(void)ctx;
	int rc = mosquitto_broker_publish_copy(NULL, topic, (int)strlen(payload), payload, 0, true, NULL);
	if(rc != MOSQ_ERR_SUCCESS){
		mosquitto_log_printf(MOSQ_LOG_WARNING, "jobs: could not publish on %s: %s", topic, publish_error_text(rc));
	}
}

/* The $SYS/broker/jobs/... topics, every plugin_opt_sys_interval seconds (the first
 * at the first tick), retained as Mosquitto's own. */
static void publish_sys(struct plugin *p, int64_t now)
{
	int64_t mono = monotonic_ms(NULL);
	if(!p->cfg.sys_interval || mono < p->sys_next_ms) return;
	p->sys_next_ms = mono + (int64_t)p->cfg.sys_interval * 1000;
	struct sys_stats st;
	if(sysstats_read(p->svc, now, &st) != 0){
		mosquitto_log_printf(MOSQ_LOG_WARNING, "jobs: cannot count jobs for the $SYS topics (the store failed)");
		return;
	}
	sys_topics_each(&st, publish_retained, p);
}

static void log_from_thread(int level_err, const char *line)
{
	mosquitto_log_printf(level_err ? MOSQ_LOG_WARNING : MOSQ_LOG_INFO, "%s", line);
}

/* TICK fires on every pass of the broker's loop (with zeroed times: read the clock). */
static int on_tick(int event, void *event_data, void *userdata)
{
	(void)event;
	(void)event_data;
	struct plugin *p = userdata;
	int64_t now = now_ms();
	if(!p->ticking){
		p->ticking = true;
		service_set_group_commit(p->svc, true);
		/* the listeners are open now: the wake-up can connect to one */
		if(p->cfg.loop_wake && p->cfg.store_uri) p->wake = loop_wake_start(watch_store, p->svc, log_from_thread);
	}
	/* HTTP requests join this pass's batch; the pass's requests commit first, then
	 * the replies go out (MQTT ones at the start of the next pass, when they would
	 * have anyway); those of a batch the store commits later wait for it. */
	struct http_call *calls[HTTP_PASS_MAX];
	const struct http_request *requests[HTTP_PASS_MAX];
	struct http_response responses[HTTP_PASS_MAX];
	uint64_t held[HTTP_PASS_MAX];
	size_t ncalls = p->http ? http_server_take(p->http, calls, held_room(p)) : 0;
	for(size_t i = 0; i < ncalls; i++) requests[i] = http_call_request(calls[i]);
	http_pass_run(p->svc, &p->cfg.access, requests, ncalls, now, &p->outbox, responses, held);
	for(size_t i = 0; i < ncalls; i++){
		if(held[i]){
			p->held[p->nheld++] = (struct held_call){ .call = calls[i], .resp = responses[i], .batch = held[i] };
		}else{
			answer_http(p, calls[i], requests[i], &responses[i]);
		}
	}
	if(p->http) log_http_refusals(p);
	int64_t tick_started = monotonic_us();
	service_tick(p->svc, now, &p->outbox);
	metrics_observe_since(service_metrics(p->svc), METRICS_TICK_SECONDS, tick_started);
	if(p->nheld) answer_held(p);
	if(p->outbox.count) flush_outbox(p);
	publish_sys(p, now);
	return MOSQ_ERR_SUCCESS;
}

static int on_control(int event, void *event_data, void *userdata)
{
	(void)event;
	struct plugin *p = userdata;
	struct mosquitto_evt_control *ev = event_data;
	struct jobs_request req;
	char *response_topic = NULL;
	fill_request(&req, ev->client, ev->topic, ev->payload, ev->payloadlen, ev->qos);
	/* MQTT 5 request/response: answer on the response topic too, with the correlation data. */
	const void *topic_bytes, *correlation;
	size_t topic_len, correlation_len;
	if(mqtt5_props_find_bytes(ev->properties, MQTT_PROP_RESPONSE_TOPIC, &topic_bytes, &topic_len)){
		response_topic = strndup(topic_bytes, topic_len);
		if(!response_topic) return MOSQ_ERR_NOMEM;
		req.response_topic = response_topic;
		if(mqtt5_props_find_bytes(ev->properties, MQTT_PROP_CORRELATION_DATA, &correlation, &correlation_len)){
			req.correlation_data = correlation;
			req.correlation_len = correlation_len;
		}
	}
	mqtt_jobs_control(p->svc, &req, &p->outbox);
	if(!p->ticking) flush_outbox(p);
	free(response_topic);
	return MOSQ_ERR_SUCCESS;
}

PLUGIN_ENTRY int mosquitto_plugin_version(int supported_version_count, const int *supported_versions)
{
	for(int i = 0; i < supported_version_count; i++){
		if(supported_versions[i] == PLUGIN_API_VERSION) return PLUGIN_API_VERSION;
	}
	return -1;
}

/* Undoes what init did, as far as it got (everything it had not set up is still
 * zero), and frees p: init's one failure path and cleanup's. */
static void teardown(struct plugin *p)
{
	loop_wake_stop(p->wake);
	if(p->id){
		mosquitto_callback_unregister(p->id, MOSQ_EVT_MESSAGE, on_message, NULL);
		mosquitto_callback_unregister(p->id, MOSQ_EVT_CONTROL, on_control, JOBS_CONTROL_TOPIC);
		mosquitto_callback_unregister(p->id, MOSQ_EVT_TICK, on_tick, NULL);
		mosquitto_callback_unregister(p->id, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL);
	}
	/* calls waiting for a batch the store has not finished: their outcome is not known */
	for(size_t i = 0; i < p->nheld; i++){
		free(p->held[i].resp.body);
		http_api_error(&p->held[i].resp, 503, "ServiceUnavailableException", "the broker is stopping");
		http_server_finish(p->http, p->held[i].call, &p->held[i].resp);
	}
	free(p->held);
	http_server_stop(p->http);
	service_destroy(p->svc);
	config_free(&p->cfg);
	outbox_clear(&p->outbox);
	free(p);
}

PLUGIN_ENTRY int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata,
		struct mosquitto_opt *options, int option_count)
{
	char err[1200];
	int rc = MOSQ_ERR_NOMEM;
	struct plugin *p = calloc(1, sizeof(*p));
	struct jobs_option *opts = calloc(option_count > 0 ? (size_t)option_count : 1, sizeof(*opts));
	if(!p || !opts){
		free(opts);
		goto fail;
	}
	for(int i = 0; i < option_count; i++){
		opts[i].key = options[i].key;
		opts[i].value = options[i].value;
	}
	rc = config_parse(opts, (size_t)(option_count > 0 ? option_count : 0), &p->cfg, err, sizeof(err));
	free(opts);
	if(rc != 0){
		mosquitto_log_printf(MOSQ_LOG_ERR, "jobs: bad configuration: %s", err);
		rc = MOSQ_ERR_INVAL;
		goto fail;
	}
	rc = MOSQ_ERR_INVAL;
	if(loaded_per_listener(identifier)){
		mosquitto_log_printf(MOSQ_LOG_ERR, "jobs: per_listener_settings is true: Mosquitto 2.0 then never sends "
				"plugins the TICK event, so job timeouts, retries, rollouts, schedules, abort criteria and the HTTP "
				"API would never run. Set per_listener_settings false in mosquitto.conf (settings such as "
				"allow_anonymous and acl_file then apply to every listener)");
		goto fail;
	}
	rc = MOSQ_ERR_UNKNOWN;
	loglimit_init(&p->refusals, REFUSAL_LINES_PER_S, REFUSAL_BURST);
	if(service_create(&p->cfg, now_ms(), log_to_broker, NULL, &p->svc, err, sizeof(err)) != 0){
		mosquitto_log_printf(MOSQ_LOG_ERR, "jobs: %s", err);
		goto fail;
	}
	service_set_clock(p->svc, monotonic_ms, NULL);
	metrics_set_clock(service_metrics(p->svc), monotonic_us);
	service_set_kicker(p->svc, kick, NULL);
	service_set_batch_failed(p->svc, batch_failed, p);
	const struct jobs_config *cfg = &p->cfg;
	struct store_info store;
	service_store_info(p->svc, &store);
	mosquitto_log_printf(MOSQ_LOG_INFO, "jobs: mosquitto-jobs %s loaded, store %s %s schema %d", JOBS_VERSION,
			store.kind, store.location, store.schema_version);
	if(cfg->store_uri){
		mosquitto_log_printf(MOSQ_LOG_INFO, "jobs: serving AWS IoT Jobs with PostgreSQL %s (store_timeout_ms %d,"
				" max_pending %d, time_scale %g)", store.location, cfg->store_timeout_ms, cfg->max_pending, cfg->time_scale);
	}else{
		mosquitto_log_printf(MOSQ_LOG_INFO, "jobs: serving AWS IoT Jobs with database %s (synchronous %s, max_pending %d,"
				" time_scale %g)", cfg->db_path, cfg->synchronous == JOBS_SYNC_FULL ? "full" : "normal", cfg->max_pending,
				cfg->time_scale);
	}
	mosquitto_log_printf(MOSQ_LOG_INFO, "jobs: things are isolated by %s: %s; other topics: %s; management API: %s",
			cfg->access.identity == IDENTITY_USERNAME ? "username" : cfg->access.identity == IDENTITY_CERT_CN ? "certificate CN" : "client id",
			cfg->access.isolation ? "on" : "off", cfg->access.allow_other_topics ? "allowed" : "left to the broker's ACL",
			cfg->access.control_by_broker ? "the broker's ACL decides" : cfg->access.any_operator ? "anyone (plugin_opt_operators *)"
			: cfg->access.operators ? "the identities in plugin_opt_operators" : "nobody (set plugin_opt_operators)");
	if(cfg->test_controls){
		mosquitto_log_printf(MOSQ_LOG_WARNING, "jobs: test controls are on: operators can inject faults, move job "
				"time and read transcripts; never enable this on a production broker");
	}
	if(!cfg->access.allow_other_topics){
		mosquitto_log_printf(MOSQ_LOG_WARNING, "jobs: plugin_opt_other_topics is defer: topics outside the jobs "
				"namespace%s are left to the broker's other ACL sources; a broker with no acl_file and no other "
				"ACL plugin denies every one of them. Set plugin_opt_other_topics allow, or give the broker an "
				"acl_file (or another ACL plugin) that grants them", cfg->access.isolation ? "" : " (and, with isolation off, jobs topics)");
	}

	if(cfg->http_address){
		struct http_server_config hc = {
			.address = cfg->http_address, .port = cfg->http_port, .keys_file = cfg->http_keys_file,
			.unsigned_identity = cfg->http_unsigned_identity,
			.metrics_token_file = cfg->metrics_token_file,
			.tls_cert = cfg->http_tls_cert, .tls_key = cfg->http_tls_key,
			.max_connections = cfg->http_max_connections,
			.max_per_address = cfg->http_max_connections_per_address,
			.request_timeout = cfg->http_request_timeout,
		};
		if(!(p->http = http_server_start(&hc, err, sizeof(err)))){
			mosquitto_log_printf(MOSQ_LOG_ERR, "jobs: HTTP API: %s", err);
			goto fail;
		}
		mosquitto_log_printf(cfg->http_keys_file ? MOSQ_LOG_INFO : MOSQ_LOG_WARNING,
				"jobs: AWS-compatible HTTP API on %s%s port %d: %s", cfg->http_tls_cert ? "https " : "http ",
				cfg->http_address, cfg->http_port, cfg->http_keys_file
				? "requests must carry an AWS Signature V4 of a key in plugin_opt_http_keys_file"
				: cfg->http_unsigned_identity
				? "no plugin_opt_http_keys_file, so only loopback clients are served, unauthenticated, "
				  "acting as plugin_opt_http_unsigned_identity"
				: "no plugin_opt_http_keys_file, so only loopback clients are served, unauthenticated; "
				  "without plugin_opt_http_unsigned_identity they may do nothing");
	}
	/* from here on teardown unregisters what was registered */
	p->id = identifier;
	if(mosquitto_callback_register(identifier, MOSQ_EVT_MESSAGE, on_message, NULL, p) != MOSQ_ERR_SUCCESS
			|| mosquitto_callback_register(identifier, MOSQ_EVT_CONTROL, on_control,
				JOBS_CONTROL_TOPIC, p) != MOSQ_ERR_SUCCESS
			|| mosquitto_callback_register(identifier, MOSQ_EVT_TICK, on_tick, NULL, p) != MOSQ_ERR_SUCCESS
			|| mosquitto_callback_register(identifier, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL, p) != MOSQ_ERR_SUCCESS){
		mosquitto_log_printf(MOSQ_LOG_ERR, "jobs: could not register callbacks");
		goto fail;
	}
	*userdata = p;
	return MOSQ_ERR_SUCCESS;

fail:
	if(p) teardown(p);
	return rc;
}

PLUGIN_ENTRY int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *options, int option_count)
{
	(void)options;
	(void)option_count;
	struct plugin *p = userdata;
	if(p) teardown(p);
	return MOSQ_ERR_SUCCESS;
}
