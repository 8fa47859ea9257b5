/* jobs-agent-example: a small AWS IoT Jobs device agent for one thing, over
 * libmosquitto and cJSON. It takes jobs with start-next (on start, and when
 * notify-next names a new job), runs the job document's command, reports
 * IN_PROGRESS, then SUCCEEDED or FAILED (REJECTED for an operation it does not know).
 * See README.md beside this file for what it does on faults, and for the --break-*
 * flags, each of which breaks exactly one of those behaviours (jobs-agent-check's
 * tests use them to show that its scenarios can fail).
 *
 * Single-threaded: one loop serves the MQTT connection, the timers and the job's
 * child process. At most one request is in flight at a time. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <mosquitto.h>

#define EXIT_USAGE 64
#define FINISHED_MEMORY 32   /* executions remembered as finished */

enum req_kind { REQ_START_NEXT, REQ_GET, REQ_DESCRIBE_TAKE, REQ_DESCRIBE_NEXT, REQ_DESCRIBE_REREAD, REQ_UPDATE };

struct request {
	bool active;
	enum req_kind kind;
	char topic[400];
	char *payload;
	char token[40];
	double sent_at;      /* 0: not sent yet */
	double resend_at;    /* after a throttle: when to send again (0: none) */
	double backoff;      /* the next throttle's wait */
	char job_id[80];     /* update/describe: the job */
	long long exec;
	char status[16];     /* update: the status sent */
};

struct job {
	bool active;
	char id[80];
	long long exec;
	long long version;
	pid_t pid;           /* 0: no child running */
	bool done;           /* the outcome is known: final_status set */
	char final_status[16];
	char detail_key[16];
	char detail[300];
	bool reported_start; /* IN_PROGRESS accepted (or not wanted) */
	double last_update;  /* when the last IN_PROGRESS went */
	double started;
};

static struct {
	/* options */
	const char *host, *client_id, *username, *password, *cafile, *cert, *key, *thing;
	int port;
	double request_timeout, heartbeat;
	int step_timeout;
	bool b_ignore_cancel, b_no_backoff, b_run_duplicates, b_forget_in_progress, b_no_retry,
		b_no_progress, b_poll, b_no_step_extend, b_ignore_version_mismatch, b_silent_bad_document;
	/* state */
	struct mosquitto *mosq;
	bool connected, ready, ever_connected;
	int sub_mid;
	double reconnect_at, next_poll;
	bool want_next;
	unsigned long token_seq;
	struct request req;
	struct job job;
	char finished[FINISHED_MEMORY][100];
	size_t finished_next;
	char prefix[300];    /* $aws/things/<thing>/jobs */
} g;

static volatile sig_atomic_t stop_requested;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((format(printf, 1, 2)))
static void say(const char *fmt, ...)
{
	va_list ap;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	printf("agent %s %ld.%03ld: ", g.thing, (long)ts.tv_sec, ts.tv_nsec / 1000000);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* --- executions already finished (not to be taken again) --- */

static void exec_key(char *out, size_t n, const char *id, long long exec)
{
	snprintf(out, n, "%s#%lld", id, exec);
}

static void remember_finished(const char *id, long long exec)
{
	exec_key(g.finished[g.finished_next], sizeof(g.finished[0]), id, exec);
	g.finished_next = (g.finished_next + 1) % FINISHED_MEMORY;
}

static bool is_finished(const char *id, long long exec)
{
	char key[100];
	exec_key(key, sizeof(key), id, exec);
	for(size_t i = 0; i < FINISHED_MEMORY; i++){
		if(strcmp(g.finished[i], key) == 0) return true;
	}
	return false;
}

/* --- requests --- */

static void send_current(void)
{
	struct request *r = &g.req;
	r->sent_at = now_s();
	r->resend_at = 0;
	if(!g.connected) return;  /* sent again once connected */
	int rc = mosquitto_publish(g.mosq, NULL, r->topic, (int)strlen(r->payload), r->payload, 1, false);
	if(rc != MOSQ_ERR_SUCCESS) say("cannot publish on %s: %s", r->topic, mosquitto_strerror(rc));
}

/* Starts a request (the slot must be free); takes `body`. */
static void request(enum req_kind kind, const char *topic_suffix, cJSON *body, const char *job_id, long long exec,
		const char *status)
{
	struct request *r = &g.req;
	free(r->payload);
	memset(r, 0, sizeof(*r));
	r->active = true;
	r->kind = kind;
	r->backoff = 1.0;
	snprintf(r->topic, sizeof(r->topic), "%s/%s", g.prefix, topic_suffix);
	snprintf(r->token, sizeof(r->token), "%s-%lu", g.thing, ++g.token_seq);
	/* clientTokens are at most 64 characters. */
	if(strlen(r->token) > 60) snprintf(r->token, sizeof(r->token), "agent-%lu", g.token_seq);
	cJSON_AddStringToObject(body, "clientToken", r->token);
	r->payload = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	if(!r->payload){
		say("out of memory");
		exit(1);
	}
	if(job_id) snprintf(r->job_id, sizeof(r->job_id), "%s", job_id);
	r->exec = exec;
	if(status) snprintf(r->status, sizeof(r->status), "%s", status);
	send_current();
}

static void request_done(void)
{
	free(g.req.payload);
	memset(&g.req, 0, sizeof(g.req));
}

static void send_start_next(void)
{
	cJSON *b = cJSON_CreateObject();
	cJSON_AddNumberToObject(b, "stepTimeoutInMinutes", g.step_timeout);
	request(REQ_START_NEXT, "start-next", b, NULL, 0, NULL);
}

static void send_update(const char *status, const char *key, const char *value, bool extend)
{
	char suffix[120];
	snprintf(suffix, sizeof(suffix), "%s/update", g.job.id);
	cJSON *b = cJSON_CreateObject();
	cJSON_AddStringToObject(b, "status", status);
	cJSON *d = cJSON_AddObjectToObject(b, "statusDetails");
	cJSON_AddStringToObject(d, key, value);
	cJSON_AddNumberToObject(b, "expectedVersion", (double)g.job.version);
	cJSON_AddNumberToObject(b, "executionNumber", (double)g.job.exec);
	cJSON_AddBoolToObject(b, "includeJobExecutionState", true);
	if(extend) cJSON_AddNumberToObject(b, "stepTimeoutInMinutes", g.step_timeout);
	request(REQ_UPDATE, suffix, b, g.job.id, g.job.exec, status);
}

static void send_describe(enum req_kind kind, const char *job_id, long long exec)
{
	char suffix[120];
	snprintf(suffix, sizeof(suffix), "%s/get", job_id);
	cJSON *b = cJSON_CreateObject();
	if(exec > 0) cJSON_AddNumberToObject(b, "executionNumber", (double)exec);
	cJSON_AddBoolToObject(b, "includeJobDocument", true);
	request(kind, suffix, b, job_id, exec, NULL);
}

/* --- the job's command --- */

static void kill_child(void)
{
	if(g.job.pid > 0){
		kill(-g.job.pid, SIGTERM);
		kill(g.job.pid, SIGTERM);
	}
	g.job.pid = 0;
}

/* Stops and forgets the job (it is no longer ours); drops a request about it. */
static void drop_job(const char *why)
{
	if(!g.job.active) return;
	say("stopped job %s (execution %lld): %s", g.job.id, g.job.exec, why);
	kill_child();
	if(g.req.active && g.req.job_id[0] && strcmp(g.req.job_id, g.job.id) == 0) request_done();
	memset(&g.job, 0, sizeof(g.job));
}

static void set_outcome(const char *status, const char *key, const char *detail)
{
	g.job.done = true;
	snprintf(g.job.final_status, sizeof(g.job.final_status), "%s", status);
	snprintf(g.job.detail_key, sizeof(g.job.detail_key), "%s", key);
	snprintf(g.job.detail, sizeof(g.job.detail), "%s", detail);
}

/* Starts the document's work: a child for "command", or an outcome at once. */
static bool start_work(const cJSON *doc)
{
	const cJSON *command = cJSON_GetObjectItemCaseSensitive(doc, "command");
	const cJSON *operation = cJSON_GetObjectItemCaseSensitive(doc, "operation");
	if(cJSON_IsArray(command)){
		int n = cJSON_GetArraySize(command);
		if(n < 1 || n > 256){
			set_outcome("FAILED", "reason", "the command must be a list of 1 to 256 strings");
			return false;
		}
		char **argv = calloc((size_t)n + 1, sizeof(*argv));
		int i = 0;
		const cJSON *a;
		cJSON_ArrayForEach(a, command){
			if(!cJSON_IsString(a)){
				free(argv);
				set_outcome("FAILED", "reason", "the command must be a list of strings");
				return false;
			}
			argv[i++] = a->valuestring;
		}
		fflush(stdout);
		pid_t pid = fork();
		if(pid == 0){
			setpgid(0, 0);
			execvp(argv[0], argv);
			fprintf(stderr, "agent: cannot run %s: %s\n", argv[0], strerror(errno));
			_exit(127);
		}
		free(argv);
		if(pid < 0){
			set_outcome("FAILED", "reason", "cannot start the command");
			return false;
		}
		setpgid(pid, pid);
		g.job.pid = pid;
		return true;
	}
	if(cJSON_IsString(operation)){
		if(strcmp(operation->valuestring, "hello") == 0){
			set_outcome("SUCCEEDED", "result", "hello");
			return true;
		}
		char why[200];
		snprintf(why, sizeof(why), "unknown operation '%.100s'", operation->valuestring);
		set_outcome("REJECTED", "reason", why);
		return false;
	}
	set_outcome("FAILED", "reason", "the job document has neither a command nor an operation");
	return false;
}

/* An execution offered by start-next, a describe or notify-next: run it. */
static void take_execution(const cJSON *ex, bool restart_same)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(ex, "jobId");
	const cJSON *exec = cJSON_GetObjectItemCaseSensitive(ex, "executionNumber");
	const cJSON *version = cJSON_GetObjectItemCaseSensitive(ex, "versionNumber");
	const cJSON *doc = cJSON_GetObjectItemCaseSensitive(ex, "jobDocument");
	if(!cJSON_IsString(id) || !cJSON_IsNumber(exec) || !cJSON_IsNumber(version)) return;
	long long n = (long long)exec->valuedouble;
	if(is_finished(id->valuestring, n)) return;
	if(g.job.active && strcmp(g.job.id, id->valuestring) == 0 && g.job.exec == n){
		g.job.version = (long long)version->valuedouble;
		if(!restart_same){
			say("job %s (execution %lld) is the one running: carrying on", g.job.id, n);
			return;
		}
		kill_child();
	}else if(g.job.active){
		drop_job("the service now offers another execution");
	}
	memset(&g.job, 0, sizeof(g.job));
	g.job.active = true;
	snprintf(g.job.id, sizeof(g.job.id), "%s", id->valuestring);
	g.job.exec = n;
	g.job.version = (long long)version->valuedouble;
	g.job.started = g.job.last_update = now_s();
	say("took job %s (execution %lld, version %lld)", g.job.id, n, g.job.version);
	bool runs = cJSON_IsObject(doc) && start_work(doc);
	if(!cJSON_IsObject(doc)) set_outcome("FAILED", "reason", "no job document");
	if(!runs && g.b_silent_bad_document && strcmp(g.job.final_status, "SUCCEEDED") != 0){
		say("cannot handle job %s: saying nothing", g.job.id);
		remember_finished(g.job.id, g.job.exec);
		memset(&g.job, 0, sizeof(g.job));
		return;
	}
	/* A document it cannot handle ends at once; work that runs is reported first. */
	g.job.reported_start = !runs || g.b_no_progress;
}

/* notify-next (or, with --break-poll, a describe of $next): the next execution changed. */
static void next_changed(const cJSON *ex, bool from_notify)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(ex, "jobId");
	const cJSON *exec = cJSON_GetObjectItemCaseSensitive(ex, "executionNumber");
	bool same = g.job.active && cJSON_IsString(id) && cJSON_IsNumber(exec)
			&& strcmp(id->valuestring, g.job.id) == 0 && (long long)exec->valuedouble == g.job.exec;
	if(same){
		if(from_notify && g.b_run_duplicates){
			say("notify-next names job %s again: running it again", g.job.id);
			g.want_next = true;
		}
		return;
	}
	if(g.job.active && !g.job.done){
		if(g.b_ignore_cancel) return;
		drop_job(ex ? "it is no longer the next execution" : "nothing is pending any more");
	}
	if(!ex) return;
	if(g.b_no_progress && !g.job.active && !g.req.active && cJSON_HasObjectItem(ex, "jobDocument")){
		take_execution(ex, false);
		return;
	}
	g.want_next = true;
}

/* --- replies --- */

static const cJSON *field(const cJSON *o, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(o, name);
}

static void finish_job(void)
{
	say("job %s (execution %lld) ended %s", g.job.id, g.job.exec, g.job.final_status);
	remember_finished(g.job.id, g.job.exec);
	memset(&g.job, 0, sizeof(g.job));
	g.want_next = true;
}

static void on_accepted(const cJSON *body)
{
	struct request r = g.req;
	r.payload = NULL;
	request_done();
	const cJSON *ex = field(body, "execution");
	switch(r.kind){
	case REQ_START_NEXT:
		if(cJSON_IsObject(ex)) take_execution(ex, g.b_run_duplicates);
		break;
	case REQ_GET: {
		const cJSON *lists[] = { field(body, "inProgressJobs"), field(body, "queuedJobs") };
		for(size_t i = 0; i < 2; i++){
			const cJSON *s;
			cJSON_ArrayForEach(s, lists[i]){
				const cJSON *id = field(s, "jobId");
				const cJSON *n = field(s, "executionNumber");
				if(cJSON_IsString(id) && cJSON_IsNumber(n) && !is_finished(id->valuestring, (long long)n->valuedouble)){
					send_describe(REQ_DESCRIBE_TAKE, id->valuestring, (long long)n->valuedouble);
					return;
				}
			}
		}
		break;
	}
	case REQ_DESCRIBE_TAKE:
		if(cJSON_IsObject(ex)) take_execution(ex, false);
		break;
	case REQ_DESCRIBE_NEXT:
		next_changed(cJSON_IsObject(ex) ? ex : NULL, false);
		break;
	case REQ_DESCRIBE_REREAD: {
		if(!g.job.active || strcmp(g.job.id, r.job_id) != 0) break;
		const cJSON *st = field(ex, "status");
		const cJSON *v = field(ex, "versionNumber");
		if(cJSON_IsNumber(v)) g.job.version = (long long)v->valuedouble;
		if(cJSON_IsString(st) && strcmp(st->valuestring, r.status) == 0 && strcmp(r.status, "IN_PROGRESS") != 0){
			finish_job();  /* our update had gone through (a lost reply) */
		}else if(cJSON_IsString(st) && strcmp(st->valuestring, "IN_PROGRESS") != 0
				&& strcmp(st->valuestring, "QUEUED") != 0){
			drop_job("the execution ended without us");
			g.want_next = true;
		}else if(strcmp(r.status, "IN_PROGRESS") == 0 && cJSON_IsString(st) && strcmp(st->valuestring, "IN_PROGRESS") == 0){
			g.job.reported_start = true;  /* it is IN_PROGRESS: nothing to resend */
			g.job.last_update = now_s();
		}
		/* Otherwise the update goes again from the loop with the version just read. */
		break;
	}
	case REQ_UPDATE: {
		const cJSON *v = field(field(body, "executionState"), "versionNumber");
		if(!g.job.active || strcmp(g.job.id, r.job_id) != 0 || g.job.exec != r.exec) break;
		if(cJSON_IsNumber(v)) g.job.version = (long long)v->valuedouble;
		else g.job.version++;
		if(strcmp(r.status, "IN_PROGRESS") == 0){
			g.job.reported_start = true;
			g.job.last_update = now_s();
		}else{
			finish_job();
		}
		break;
	}
	}
}

static void on_rejected(const cJSON *body)
{
	const cJSON *code = field(body, "code");
	const char *c = cJSON_IsString(code) ? code->valuestring : "?";
	say("%s rejected: %s", g.req.topic + strlen(g.prefix) + 1, c);
	if(strcmp(c, "RequestThrottled") == 0 || strcmp(c, "InternalError") == 0){
		double wait = g.b_no_backoff ? 0 : g.req.backoff;
		g.req.resend_at = now_s() + wait;
		if(g.req.backoff < 32) g.req.backoff *= 2;
		return;
	}
	struct request r = g.req;
	r.payload = NULL;
	request_done();
	if(r.kind != REQ_UPDATE || !g.job.active || strcmp(g.job.id, r.job_id) != 0) return;
	if(g.b_ignore_cancel && strcmp(r.status, "IN_PROGRESS") == 0 && g.job.reported_start){
		/* Broken on purpose: a refused progress report does not stop the work. */
		g.job.last_update = now_s();
		return;
	}
	if(strcmp(c, "VersionMismatch") == 0){
		if(g.b_ignore_version_mismatch){
			/* Broken on purpose: takes the refusal for an acceptance. */
			if(strcmp(r.status, "IN_PROGRESS") == 0) g.job.reported_start = true, g.job.last_update = now_s();
			else finish_job();
			return;
		}
		/* Re-read the execution, then the loop sends the update again. */
		send_describe(REQ_DESCRIBE_REREAD, g.job.id, g.job.exec);
		snprintf(g.req.status, sizeof(g.req.status), "%s", r.status);
		return;
	}
	/* InvalidStateTransition, TerminalStateReached, ResourceNotFound: it is not ours any more. */
	drop_job(c);
	g.want_next = true;
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg)
{
	(void)mosq;
	(void)obj;
	size_t plen = strlen(g.prefix);
	if(!msg->topic || strncmp(msg->topic, g.prefix, plen) != 0 || msg->topic[plen] != '/') return;
	const char *rest = msg->topic + plen + 1;
	cJSON *body = msg->payloadlen > 0 ? cJSON_ParseWithLength(msg->payload, (size_t)msg->payloadlen) : NULL;
	if(!cJSON_IsObject(body)){
		cJSON_Delete(body);
		return;
	}
	if(strcmp(rest, "notify-next") == 0){
		if(!g.b_poll){
			const cJSON *ex = field(body, "execution");
			next_changed(cJSON_IsObject(ex) ? ex : NULL, true);
		}
	}else{
		const cJSON *token = field(body, "clientToken");
		size_t tlen = strlen(msg->topic) - plen - 1;
		bool accepted = tlen > 9 && strcmp(rest + tlen - 9, "/accepted") == 0;
		bool rejected = tlen > 9 && strcmp(rest + tlen - 9, "/rejected") == 0;
		/* A reply to the request in flight (a stale or duplicate one is ignored). */
		if(g.req.active && g.req.sent_at > 0 && cJSON_IsString(token) && strcmp(token->valuestring, g.req.token) == 0
				&& strncmp(msg->topic, g.req.topic, strlen(g.req.topic)) == 0){
			if(accepted) on_accepted(body);
			else if(rejected) on_rejected(body);
		}
	}
	cJSON_Delete(body);
}

/* --- connection --- */

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int qos_count, const int *granted)
{
	(void)mosq;
	(void)obj;
	(void)qos_count;
	(void)granted;
	if(mid != g.sub_mid) return;
	g.ready = true;
	say("subscribed");
	if(g.req.active){
		send_current();  /* the request in flight before the connection went */
	}else if(!g.job.active){
		g.want_next = true;
	}else if(!g.job.done){
		g.want_next = true;  /* ask again: start-next gives the execution back, still ours */
	}
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc)
{
	(void)obj;
	if(rc != 0){
		say("connection refused: %s", mosquitto_connack_string(rc));
		return;
	}
	g.connected = true;
	say("connected");
	if(g.ever_connected && g.b_forget_in_progress){
		/* Broken on purpose: starts over, leaving the running execution behind. */
		if(g.job.active){
			remember_finished(g.job.id, g.job.exec);
			drop_job("reconnected: starting over");
		}
		request_done();
	}
	g.ever_connected = true;
	char topics[6][400];
	const char *suffixes[] = { "notify-next", "start-next/+", "get/+", "+/get/+", "+/update/+" };
	char *subs[6];
	int n = 0;
	for(size_t i = g.b_poll ? 1 : 0; i < 5; i++){
		snprintf(topics[n], sizeof(topics[n]), "%s/%s", g.prefix, suffixes[i]);
		subs[n] = topics[n];
		n++;
	}
	mosquitto_subscribe_multiple(mosq, &g.sub_mid, n, subs, 1, 0, NULL);
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc)
{
	(void)mosq;
	(void)obj;
	if(g.connected) say("disconnected (%s)", rc ? mosquitto_strerror(rc) : "asked");
	g.connected = false;
	g.ready = false;
	g.reconnect_at = now_s() + 1.0;
}

/* --- the loop --- */

static void reap(void)
{
	int status;
	pid_t pid;
	while((pid = waitpid(-1, &status, WNOHANG)) > 0){
		if(!g.job.active || pid != g.job.pid) continue;
		g.job.pid = 0;
		if(WIFEXITED(status) && WEXITSTATUS(status) == 0){
			set_outcome("SUCCEEDED", "exitCode", "0");
		}else{
			char why[100];
			if(WIFEXITED(status)) snprintf(why, sizeof(why), "the command exited with status %d", WEXITSTATUS(status));
			else snprintf(why, sizeof(why), "the command was killed by signal %d", WTERMSIG(status));
			set_outcome("FAILED", "reason", why);
		}
	}
}

static void tick(void)
{
	double now = now_s();
	if(!g.ready) return;
	if(g.req.active){
		if(g.req.resend_at > 0 && now >= g.req.resend_at){
			send_current();
		}else if(g.req.resend_at == 0 && g.req.sent_at > 0 && now - g.req.sent_at >= g.request_timeout
				&& !g.b_no_retry){
			say("no reply within %g s: sending again", g.request_timeout);
			send_current();
		}
		return;
	}
	if(g.job.active){
		if(g.want_next && !g.job.done){
			/* After a reconnect or a duplicate notify-next: start-next gives the
			 * running execution back (carry on), or another one (ours is gone). */
			g.want_next = false;
			send_start_next();
		}else if(!g.job.reported_start){
			send_update("IN_PROGRESS", "step", "started", true);
		}else if(g.job.done){
			send_update(g.job.final_status, g.job.detail_key, g.job.detail, false);
		}else if(!g.b_no_step_extend && now - g.job.last_update >= g.heartbeat){
			g.job.last_update = now;
			send_update("IN_PROGRESS", "step", "running", true);
		}
		return;
	}
	if(g.b_poll){
		if(now >= g.next_poll){
			g.next_poll = now + 1.0;
			send_describe(REQ_DESCRIBE_NEXT, "$next", 0);
		}else if(g.want_next){
			g.want_next = false;
			send_start_next();
		}
		return;
	}
	if(g.want_next){
		g.want_next = false;
		if(g.b_no_progress) request(REQ_GET, "get", cJSON_CreateObject(), NULL, 0, NULL);
		else send_start_next();
	}
}

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: jobs-agent-example --thing NAME [-h HOST] [-p PORT] [-i ID] [-u USER] [-P PASSWORD]\n"
		"         [--cafile FILE] [--cert FILE --key FILE] [--request-timeout S] [--heartbeat S]\n"
		"         [--step-timeout MIN] [--break-...]\n"
		"A small AWS IoT Jobs agent: runs each job document's command ({\"command\":[argv...]}).\n"
		"Break flags (each breaks one behaviour): --break-ignore-cancel --break-no-backoff\n"
		"  --break-run-duplicates --break-forget-in-progress --break-no-retry --break-no-progress\n"
		"  --break-poll --break-no-step-extend --break-ignore-version-mismatch\n"
		"  --break-silent-on-bad-document\n");
}

static int parse_args(int argc, char **argv)
{
	struct { const char *name; bool *flag; } breaks[] = {
		{ "--break-ignore-cancel", &g.b_ignore_cancel }, { "--break-no-backoff", &g.b_no_backoff },
		{ "--break-run-duplicates", &g.b_run_duplicates }, { "--break-forget-in-progress", &g.b_forget_in_progress },
		{ "--break-no-retry", &g.b_no_retry }, { "--break-no-progress", &g.b_no_progress },
		{ "--break-poll", &g.b_poll }, { "--break-no-step-extend", &g.b_no_step_extend },
		{ "--break-ignore-version-mismatch", &g.b_ignore_version_mismatch },
		{ "--break-silent-on-bad-document", &g.b_silent_bad_document },
	};
	struct { const char *s, *l; const char **slot; } strs[] = {
		{ "-h", "--host", &g.host }, { "-i", "--id", &g.client_id }, { "-u", "--username", &g.username },
		{ "-P", "--pw", &g.password }, { NULL, "--cafile", &g.cafile }, { NULL, "--cert", &g.cert },
		{ NULL, "--key", &g.key }, { NULL, "--thing", &g.thing },
	};
	for(int i = 1; i < argc; i++){
		const char *a = argv[i];
		bool known = false;
		if(strcmp(a, "--help") == 0){
			usage(stdout);
			exit(0);
		}
		for(size_t k = 0; k < sizeof(breaks) / sizeof(*breaks) && !known; k++){
			if(strcmp(a, breaks[k].name) == 0) *breaks[k].flag = known = true;
		}
		if(known) continue;
		if(i + 1 >= argc){
			fprintf(stderr, "jobs-agent-example: %s: unknown, or needs a value\n", a);
			return EXIT_USAGE;
		}
		const char *v = argv[i + 1];
		for(size_t k = 0; k < sizeof(strs) / sizeof(*strs) && !known; k++){
			if((strs[k].s && strcmp(a, strs[k].s) == 0) || strcmp(a, strs[k].l) == 0){
				*strs[k].slot = v;
				known = true;
			}
		}
		char *end = NULL;
		if(!known && (strcmp(a, "-p") == 0 || strcmp(a, "--port") == 0)){
			long p = strtol(v, &end, 10);
			if(*end || p < 1 || p > 65535) return fprintf(stderr, "jobs-agent-example: bad port '%s'\n", v), EXIT_USAGE;
			g.port = (int)p;
			known = true;
		}else if(!known && strcmp(a, "--request-timeout") == 0){
			g.request_timeout = strtod(v, &end);
			known = *end == '\0' && g.request_timeout > 0;
		}else if(!known && strcmp(a, "--heartbeat") == 0){
			g.heartbeat = strtod(v, &end);
			known = *end == '\0' && g.heartbeat > 0;
		}else if(!known && strcmp(a, "--step-timeout") == 0){
			long m = strtol(v, &end, 10);
			known = *end == '\0' && m >= 1 && m <= 10080;
			g.step_timeout = (int)m;
		}
		if(!known){
			fprintf(stderr, "jobs-agent-example: %s %s: unknown option or bad value\n", a, v);
			return EXIT_USAGE;
		}
		i++;
	}
	if(!g.thing || !g.thing[0] || strlen(g.thing) > 128){
		fprintf(stderr, "jobs-agent-example: --thing NAME is needed\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	if((g.cert != NULL) != (g.key != NULL)){
		fprintf(stderr, "jobs-agent-example: --cert and --key go together\n");
		return EXIT_USAGE;
	}
	return 0;
}

int main(int argc, char **argv)
{
	g.host = "localhost";
	g.port = 1883;
	g.request_timeout = 2.0;
	g.heartbeat = 3.0;
	g.step_timeout = 5;
	int rc = parse_args(argc, argv);
	if(rc) return rc;
	if(!g.client_id) g.client_id = g.thing;
	snprintf(g.prefix, sizeof(g.prefix), "$aws/things/%s/jobs", g.thing);

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	mosquitto_lib_init();
	g.mosq = mosquitto_new(g.client_id, true, NULL);
	if(!g.mosq){
		fprintf(stderr, "jobs-agent-example: cannot create the MQTT client\n");
		return 1;
	}
	mosquitto_connect_callback_set(g.mosq, on_connect);
	mosquitto_disconnect_callback_set(g.mosq, on_disconnect);
	mosquitto_subscribe_callback_set(g.mosq, on_subscribe);
	mosquitto_message_callback_set(g.mosq, on_message);
	if(g.username || g.password) mosquitto_username_pw_set(g.mosq, g.username, g.password);
	if(g.cafile && mosquitto_tls_set(g.mosq, g.cafile, NULL, g.cert, g.key, NULL) != MOSQ_ERR_SUCCESS){
		fprintf(stderr, "jobs-agent-example: cannot set up TLS\n");
		return EXIT_USAGE;
	}

	say("connecting to %s:%d as %s", g.host, g.port, g.client_id);
	rc = mosquitto_connect(g.mosq, g.host, g.port, 30);
	if(rc != MOSQ_ERR_SUCCESS){
		say("cannot connect: %s (trying again every second)", mosquitto_strerror(rc));
		g.reconnect_at = now_s() + 1.0;
	}
	bool socket_open = rc == MOSQ_ERR_SUCCESS;
	while(!stop_requested){
		if(socket_open){
			rc = mosquitto_loop(g.mosq, 100, 1);
			if(rc != MOSQ_ERR_SUCCESS){
				if(g.connected) on_disconnect(g.mosq, NULL, rc);
				socket_open = false;
			}
		}else{
			struct timespec ts = { 0, 100 * 1000000L };
			nanosleep(&ts, NULL);
			if(now_s() >= g.reconnect_at){
				g.reconnect_at = now_s() + 1.0;
				socket_open = mosquitto_reconnect(g.mosq) == MOSQ_ERR_SUCCESS;
			}
		}
		reap();
		tick();
	}
	if(g.job.active) kill_child();
	if(g.connected) mosquitto_disconnect(g.mosq);
	mosquitto_destroy(g.mosq);
	mosquitto_lib_cleanup();
	say("stopped");
	return 0;
}
