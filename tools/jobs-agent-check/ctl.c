/* The operator's connection: management commands on $CONTROL/jobs/v1 (the plugin
 * answers the requesting client on $CONTROL/jobs/v1/response, no subscription
 * needed) and the thing's transcript. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "check.h"

double mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define REQUEST_TOPIC "$CONTROL/jobs/v1"
#define RESPONSE_TOPIC "$CONTROL/jobs/v1/response"
#define REPLY_WAIT 10.0
#define TRANSCRIPT_KEPT 20000  /* entries kept per scenario */

static void on_log(struct mosquitto *mosq, void *obj, int level, const char *line)
{
	(void)mosq;
	struct kit *k = obj;
	if(level & MOSQ_LOG_ERR) snprintf(k->lib_error, sizeof(k->lib_error), "%s", line);
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc, int flags, const mosquitto_property *props)
{
	(void)mosq;
	(void)flags;
	(void)props;
	struct kit *k = obj;
	if(rc == 0) k->connected = true;
	else snprintf(k->lib_error, sizeof(k->lib_error), "the broker refused the connection: %s",
			k->o.protocol == 5 ? mosquitto_reason_string(rc) : mosquitto_connack_string(rc));
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc, const mosquitto_property *props)
{
	(void)mosq;
	(void)rc;
	(void)props;
	struct kit *k = obj;
	k->connected = false;
}

static void on_publish(struct mosquitto *mosq, void *obj, int mid, int reason, const mosquitto_property *props)
{
	(void)mosq;
	(void)mid;
	(void)props;
	struct kit *k = obj;
	if(reason >= 0x80) k->refused_reason = reason;
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg,
		const mosquitto_property *props)
{
	(void)mosq;
	(void)props;
	struct kit *k = obj;
	if(!k->reply_correlation || !msg->topic || strcmp(msg->topic, RESPONSE_TOPIC) != 0 || msg->payloadlen <= 0) return;
	cJSON *body = cJSON_ParseWithLength(msg->payload, (size_t)msg->payloadlen);
	cJSON *entry;
	cJSON_ArrayForEach(entry, cJSON_GetObjectItemCaseSensitive(body, "responses")){
		const cJSON *corr = cJSON_GetObjectItemCaseSensitive(entry, "correlationData");
		if(cJSON_IsString(corr) && strcmp(corr->valuestring, k->reply_correlation) == 0 && !k->reply){
			k->reply = cJSON_Duplicate(entry, true);
		}
	}
	cJSON_Delete(body);
}

bool ctl_connect(struct kit *k, double seconds, bool retry, char *err, size_t errsize)
{
	const char *host = k->o.host ? k->o.host : JOBSCTL_DEFAULT_HOST;
	if(!k->mosq){
		if(k->o.client_id) snprintf(k->client_id, sizeof(k->client_id), "%s", k->o.client_id);
		else snprintf(k->client_id, sizeof(k->client_id), "jobs-agent-check-%ld", (long)getpid());
		k->mosq = mosquitto_new(k->client_id, true, k);
		if(!k->mosq){
			snprintf(err, errsize, "cannot create the MQTT client (bad client id?)");
			return false;
		}
		mosquitto_log_callback_set(k->mosq, on_log);
		mosquitto_connect_v5_callback_set(k->mosq, on_connect);
		mosquitto_disconnect_v5_callback_set(k->mosq, on_disconnect);
		mosquitto_publish_v5_callback_set(k->mosq, on_publish);
		mosquitto_message_v5_callback_set(k->mosq, on_message);
		if(client_configure(k->mosq, &k->o) != 0){
			snprintf(err, errsize, "cannot set up the MQTT client");
			return false;
		}
	}
	double until = mono_now() + seconds;
	k->lib_error[0] = '\0';
	while(mono_now() < until){
		int rc = mosquitto_connect(k->mosq, host, k->o.port, 60);
		if(rc == MOSQ_ERR_SUCCESS){
			while(!k->connected && mono_now() < until && !k->lib_error[0]){
				if(mosquitto_loop(k->mosq, 100, 1) != MOSQ_ERR_SUCCESS) break;
			}
			if(k->connected) return true;
		}else if(!k->lib_error[0]){
			snprintf(k->lib_error, sizeof(k->lib_error), "%s", mosquitto_strerror(rc));
		}
		if(!retry || strstr(k->lib_error, "refused the connection")) break;
		struct timespec ts = { 0, 200 * 1000000L };
		nanosleep(&ts, NULL);
	}
	snprintf(err, errsize, "cannot connect to %s:%d: %s", host, k->o.port,
			k->lib_error[0] ? k->lib_error : "no answer");
	return false;
}

void ctl_disconnect(struct kit *k)
{
	if(!k->mosq) return;
	if(k->connected) mosquitto_disconnect_v5(k->mosq, MQTT_RC_NORMAL_DISCONNECTION, NULL);
	mosquitto_destroy(k->mosq);
	k->mosq = NULL;
	k->connected = false;
}

cJSON *ctl_call(struct kit *k, cJSON *cmd, char *err, size_t errsize)
{
	static unsigned long seq;
	char corr[48];
	snprintf(corr, sizeof(corr), "check-%ld-%lu", (long)getpid(), ++seq);
	cJSON_AddStringToObject(cmd, "correlationData", corr);
	cJSON *request = cJSON_CreateObject();
	cJSON_AddItemToArray(cJSON_AddArrayToObject(request, "commands"), cmd);
	char *payload = cJSON_PrintUnformatted(request);
	cJSON_Delete(request);
	if(!payload){
		snprintf(err, errsize, "out of memory");
		return NULL;
	}
	if(!k->connected && !ctl_connect(k, REPLY_WAIT, true, err, errsize)){
		free(payload);
		return NULL;
	}
	cJSON_Delete(k->reply);
	k->reply = NULL;
	k->reply_correlation = corr;
	k->refused_reason = 0;
	int rc = mosquitto_publish_v5(k->mosq, NULL, REQUEST_TOPIC, (int)strlen(payload), payload, 1, false, NULL);
	free(payload);
	double until = mono_now() + REPLY_WAIT;
	while(rc == MOSQ_ERR_SUCCESS && !k->reply && !k->refused_reason && mono_now() < until){
		rc = mosquitto_loop(k->mosq, 50, 1);
	}
	k->reply_correlation = NULL;
	if(k->refused_reason){
		snprintf(err, errsize, "the broker refused the management request (%s): is %s an operator "
				"(plugin_opt_operators)?", mosquitto_reason_string(k->refused_reason), k->client_id);
		return NULL;
	}
	if(!k->reply){
		snprintf(err, errsize, rc != MOSQ_ERR_SUCCESS ? "lost the connection to the broker"
				: "no reply from the jobs plugin within 10 s (is it loaded, and is %s an operator?)", k->client_id);
		if(rc != MOSQ_ERR_SUCCESS) k->connected = false;
		return NULL;
	}
	cJSON *entry = k->reply;
	k->reply = NULL;
	const cJSON *error = cJSON_GetObjectItemCaseSensitive(entry, "error");
	cJSON *data = cJSON_DetachItemFromObjectCaseSensitive(entry, "data");
	if(cJSON_IsString(error)) snprintf(err, errsize, "%s", error->valuestring);
	else if(!data) snprintf(err, errsize, "malformed reply");
	cJSON_Delete(entry);
	if(cJSON_IsString(error)){
		cJSON_Delete(data);
		return NULL;
	}
	return data;
}

cJSON *ctl_thing_call(struct kit *k, const char *name, char *err, size_t errsize)
{
	cJSON *cmd = cJSON_CreateObject();
	cJSON_AddStringToObject(cmd, "command", name);
	cJSON_AddStringToObject(cmd, "thingName", k->thing);
	return ctl_call(k, cmd, err, errsize);
}

/* Classifies an entry by its topic. */
static void classify(struct kit *k, struct tentry *e)
{
	char prefix[200];
	int plen = snprintf(prefix, sizeof(prefix), "$aws/things/%s/jobs/", k->thing);
	if(strncmp(e->topic, prefix, (size_t)plen) != 0) return;
	char rest[400];
	snprintf(rest, sizeof(rest), "%s", e->topic + plen);
	size_t len = strlen(rest);
	if(len > 9 && strcmp(rest + len - 9, "/accepted") == 0){
		e->reply = 1;
		rest[len - 9] = '\0';
	}else if(len > 9 && strcmp(rest + len - 9, "/rejected") == 0){
		e->reply = -1;
		rest[len - 9] = '\0';
	}
	char *slash = strchr(rest, '/');
	if(!slash){
		if(strcmp(rest, "get") == 0) e->op = T_GET;
		else if(strcmp(rest, "start-next") == 0) e->op = T_START_NEXT;
		else if(strcmp(rest, "notify") == 0) e->op = T_NOTIFY;
		else if(strcmp(rest, "notify-next") == 0) e->op = T_NOTIFY_NEXT;
		return;
	}
	*slash = '\0';
	if(strcmp(slash + 1, "get") == 0) e->op = T_DESCRIBE;
	else if(strcmp(slash + 1, "update") == 0) e->op = T_UPDATE;
	else return;
	snprintf(e->job, sizeof(e->job), "%s", rest);
}

bool ctl_fetch_transcript(struct kit *k, char *err, size_t errsize)
{
	struct transcript *t = k->tr;
	if(!t) return true;
	cJSON *cmd = cJSON_CreateObject();
	cJSON_AddStringToObject(cmd, "command", "getTranscript");
	cJSON_AddStringToObject(cmd, "thingName", k->thing);
	/* `since`: the entries after that number. */
	if(t->next_seq > 0) cJSON_AddNumberToObject(cmd, "since", (double)(t->next_seq - 1));
	cJSON *data = ctl_call(k, cmd, err, errsize);
	if(!data) return false;
	const cJSON *dropped = cJSON_GetObjectItemCaseSensitive(data, "dropped");
	if(cJSON_IsNumber(dropped) && (long long)dropped->valuedouble > t->broker_dropped){
		t->dropped += (long long)dropped->valuedouble - t->broker_dropped;
		t->broker_dropped = (long long)dropped->valuedouble;
	}
	const cJSON *item;
	cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(data, "entries")){
		const cJSON *seq = cJSON_GetObjectItemCaseSensitive(item, "seq");
		const cJSON *at = cJSON_GetObjectItemCaseSensitive(item, "atMs");
		const cJSON *dir = cJSON_GetObjectItemCaseSensitive(item, "direction");
		const cJSON *topic = cJSON_GetObjectItemCaseSensitive(item, "topic");
		const cJSON *payload = cJSON_GetObjectItemCaseSensitive(item, "payload");
		const cJSON *fault = cJSON_GetObjectItemCaseSensitive(item, "fault");
		if(!cJSON_IsNumber(seq) || !cJSON_IsString(topic)) continue;
		long long s = (long long)seq->valuedouble;
		if(s < t->next_seq) continue;  /* seen already */
		if(t->n >= TRANSCRIPT_KEPT){
			/* A flooding agent: the kit keeps the first entries and counts the rest. */
			t->dropped++;
			t->next_seq = s + 1;
			continue;
		}
		if(t->n == t->cap){
			size_t cap = t->cap ? t->cap * 2 : 64;
			struct tentry *e = realloc(t->e, cap * sizeof(*e));
			if(!e) break;
			t->e = e;
			t->cap = cap;
		}
		struct tentry *e = &t->e[t->n++];
		memset(e, 0, sizeof(*e));
		e->seq = s;
		e->at = cJSON_IsNumber(at) ? at->valuedouble : 0;
		e->in = cJSON_IsString(dir) && strcmp(dir->valuestring, "in") == 0;
		e->topic = strdup(topic->valuestring);
		e->payload = strdup(cJSON_IsString(payload) ? payload->valuestring : "");
		e->body = cJSON_Parse(e->payload);
		if(cJSON_IsString(fault)) snprintf(e->fault, sizeof(e->fault), "%s", fault->valuestring);
		classify(k, e);
		t->next_seq = s + 1;
	}
	cJSON_Delete(data);
	return true;
}

void transcript_free(struct transcript *t)
{
	for(size_t i = 0; i < t->n; i++){
		free(t->e[i].topic);
		free(t->e[i].payload);
		cJSON_Delete(t->e[i].body);
	}
	free(t->e);
	memset(t, 0, sizeof(*t));
}
