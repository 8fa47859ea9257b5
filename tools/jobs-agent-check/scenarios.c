/* The scenarios. Each creates its own jobs (ids unique to the run), starts the agent
 * when --agent-cmd is given, drives faults and time through the test controls, and
 * judges from the transcript (what the agent sent and received, with the broker's
 * timestamps) and from describeJobExecution. Thresholds are lower bounds on what the
 * agent must wait and upper bounds on what it may take, so a slow machine can make
 * a scenario slower, not make a correct agent fail. docs/agent-testing.md states
 * every criterion and the AWS behaviour it rests on. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define READY_WAIT 10.0

/* --- small helpers --- */

__attribute__((format(printf, 2, 3)))
static bool fail(struct result *r, const char *fmt, ...)
{
	if(r->verdict == V_FAIL) return false;  /* the first reason stands */
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
	va_end(ap);
	r->verdict = V_FAIL;
	return false;
}

static double left(const struct kit *k, double want)
{
	double l = k->deadline - mono_now();
	return want < l ? want : l;
}

static bool out_of_time(const struct kit *k)
{
	return mono_now() >= k->deadline;
}

static const char *str_field(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool is_terminal(const char *status)
{
	return status && strcmp(status, "QUEUED") != 0 && strcmp(status, "IN_PROGRESS") != 0;
}

static bool device_terminal(const char *status)
{
	return status && (strcmp(status, "SUCCEEDED") == 0 || strcmp(status, "FAILED") == 0
			|| strcmp(status, "REJECTED") == 0);
}

/* The execution an out entry (reply or notify-next) carries, if it names `job`
 * (and execution `exec`, when exec > 0). */
static bool names_exec(const struct tentry *e, const char *job, long long exec)
{
	const cJSON *ex = cJSON_GetObjectItemCaseSensitive(e->body, "execution");
	const char *id = str_field(ex, "jobId");
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(ex, "executionNumber");
	if(!id || strcmp(id, job) != 0) return false;
	return exec <= 0 || (cJSON_IsNumber(n) && (long long)n->valuedouble == exec);
}

/* An update the agent sent for `job` (any status when status is NULL). */
static bool is_update(const struct tentry *e, const char *job, const char *status)
{
	if(!e->in || e->op != T_UPDATE || strcmp(e->job, job) != 0) return false;
	return !status || (str_field(e->body, "status") && strcmp(str_field(e->body, "status"), status) == 0);
}

static bool is_terminal_update(const struct tentry *e, const char *job)
{
	return is_update(e, job, NULL) && device_terminal(str_field(e->body, "status"));
}

/* The agent acts on `job`: start-next gives it to the agent, or the agent updates it. */
static bool is_take(const struct tentry *e, const char *job, long long exec)
{
	if(is_update(e, job, NULL)) return true;
	return !e->in && e->reply == 1 && e->op == T_START_NEXT && names_exec(e, job, exec);
}

/* The agent reported the job running: start-next started it, or an IN_PROGRESS update. */
static bool is_start_report(const struct tentry *e, const char *job)
{
	return is_update(e, job, "IN_PROGRESS") || (!e->in && e->reply == 1 && e->op == T_START_NEXT && names_exec(e, job, 0));
}

static long find_from(const struct kit *k, size_t from, bool (*pred)(const struct tentry *, const char *, long long),
		const char *job, long long exec)
{
	for(size_t i = from; i < k->tr->n; i++){
		if(pred(&k->tr->e[i], job, exec)) return (long)i;
	}
	return -1;
}

static bool take_pred(const struct tentry *e, const char *job, long long exec)
{
	return is_take(e, job, exec);
}

static bool terminal_pred(const struct tentry *e, const char *job, long long exec)
{
	(void)exec;
	return is_terminal_update(e, job);
}

static bool notify_next_pred(const struct tentry *e, const char *job, long long exec)
{
	return !e->in && e->op == T_NOTIFY_NEXT && names_exec(e, job, exec);
}

/* Waits up to `seconds` (and the scenario's end) for an entry matching pred. */
static long wait_entry(struct kit *k, size_t from, bool (*pred)(const struct tentry *, const char *, long long),
		const char *job, long long exec, double seconds)
{
	double until = mono_now() + left(k, seconds);
	for(;;){
		long i = find_from(k, from, pred, job, exec);
		if(i >= 0 || mono_now() >= until) return i;
		if(k->agent_cmd && k->agent_exited) return -1;
		kit_pump(k, 100);
	}
}

static bool ctl_ok(struct kit *k, struct result *r, cJSON *cmd, const char *what)
{
	char err[600];
	cJSON *d = ctl_call(k, cmd, err, sizeof(err));
	if(!d) return fail(r, "%s: %s", what, err);
	cJSON_Delete(d);
	return true;
}

static bool make_job(struct kit *k, struct result *r, char id[80], cJSON *doc, cJSON *extra)
{
	snprintf(id, 80, "ajc-%s-%u", k->run_id, ++k->job_seq);
	cJSON *cmd = extra ? extra : cJSON_CreateObject();
	cJSON_AddStringToObject(cmd, "command", "createJob");
	cJSON_AddStringToObject(cmd, "jobId", id);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(cmd, "targets"), cJSON_CreateString(k->thing));
	cJSON_AddItemToObject(cmd, "document", doc);
	char (*c)[80] = realloc(k->created, (k->ncreated + 1) * sizeof(*c));
	if(c){
		k->created = c;
		snprintf(k->created[k->ncreated++], 80, "%s", id);
	}
	return ctl_ok(k, r, cmd, "cannot create a job");
}

static cJSON *command_doc(const char *const *argv)
{
	cJSON *doc = cJSON_CreateObject();
	cJSON *a = cJSON_AddArrayToObject(doc, "command");
	for(; *argv; argv++) cJSON_AddItemToArray(a, cJSON_CreateString(*argv));
	return doc;
}

static const char *const QUICK[] = { "true", NULL };

static bool set_fault(struct kit *k, struct result *r, const char *op, const char *action, const char *code, int count)
{
	cJSON *cmd = cJSON_CreateObject();
	cJSON_AddStringToObject(cmd, "command", "setFaults");
	cJSON_AddStringToObject(cmd, "thingName", k->thing);
	cJSON *f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "operation", op);
	cJSON_AddNumberToObject(f, "count", count);
	cJSON_AddStringToObject(f, "action", action);
	if(code) cJSON_AddStringToObject(f, "code", code);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(cmd, "faults"), f);
	return ctl_ok(k, r, cmd, "cannot set the faults");
}

/* The status of an execution (exec 0: the latest), in buf; NULL on an error. */
static const char *exec_status(struct kit *k, const char *job, long long exec, char *buf, size_t n, cJSON **details)
{
	cJSON *cmd = cJSON_CreateObject();
	cJSON_AddStringToObject(cmd, "command", "describeJobExecution");
	cJSON_AddStringToObject(cmd, "jobId", job);
	cJSON_AddStringToObject(cmd, "thingName", k->thing);
	if(exec > 0) cJSON_AddNumberToObject(cmd, "executionNumber", (double)exec);
	char err[300];
	cJSON *d = ctl_call(k, cmd, err, sizeof(err));
	const cJSON *ex = cJSON_GetObjectItemCaseSensitive(d, "execution");
	const char *st = str_field(ex, "status");
	if(st) snprintf(buf, n, "%s", st);
	if(details){
		const cJSON *sd = cJSON_GetObjectItemCaseSensitive(ex, "statusDetails");
		*details = sd ? cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(sd, "detailsMap") ? cJSON_GetObjectItemCaseSensitive(sd, "detailsMap") : sd, true) : NULL;
	}
	cJSON_Delete(d);
	return st ? buf : NULL;
}

/* Waits up to `seconds` for the execution to reach a terminal status (in status). */
static bool wait_terminal(struct kit *k, const char *job, long long exec, double seconds, char status[32])
{
	double until = mono_now() + left(k, seconds);
	snprintf(status, 32, "unknown");
	for(;;){
		if(exec_status(k, job, exec, status, 32, NULL) && is_terminal(status)) return true;
		if(mono_now() >= until) return false;
		if(k->agent_cmd && k->agent_exited) return false;
		kit_pump(k, 200);
	}
}

/* The reason for a job that did not end as it should. */
static bool not_ended(struct kit *k, struct result *r, const char *job, const char *status, double seconds,
		const char *wanted)
{
	if(k->agent_cmd && k->agent_exited) return fail(r, "the agent %s before job %s ended", k->agent_exit, job);
	if(out_of_time(k)) return fail(r, "the scenario's time (--timeout %g s) ran out; job %s is %s", k->timeout, job, status);
	return fail(r, "job %s is %s %g s on (expected %s)", job, status, seconds, wanted);
}

/* Starts the agent (with --agent-cmd) and waits for its first request and the reply. */
static bool agent_ready(struct kit *k, struct result *r)
{
	if(!k->agent_cmd) return true;
	char err[600];
	if(!agent_start(k, r->s->name, err, sizeof(err))) return fail(r, "%s", err);
	double until = mono_now() + left(k, READY_WAIT);
	long first = -1;
	while(first < 0){
		for(size_t i = 0; i < k->tr->n && first < 0; i++){
			if(k->tr->e[i].in) first = (long)i;
		}
		if(first >= 0) break;
		if(k->agent_exited) return fail(r, "the agent %s before sending any jobs request as thing %s", k->agent_exit, k->thing);
		if(mono_now() >= until){
			return fail(r, "the agent did not connect and send a jobs request as thing %s within %g s "
					"(an agent asks for its jobs when it starts: start-next or get)", k->thing, READY_WAIT);
		}
		kit_pump(k, 100);
	}
	/* Its reply, then a moment for what the agent does with it. */
	until = mono_now() + left(k, 3.0);
	for(bool replied = false; !replied && mono_now() < until;){
		for(size_t i = (size_t)first; i < k->tr->n; i++) replied = replied || (!k->tr->e[i].in && k->tr->e[i].reply);
		kit_pump(k, 100);
	}
	kit_pump(k, 300);
	return true;
}

static const char *const TERMINAL_DONE = "SUCCEEDED";

/* Creates a quick job and expects it SUCCEEDED within `seconds`. */
static bool expect_succeeded(struct kit *k, struct result *r, const char *job, double seconds)
{
	char status[32];
	if(!wait_terminal(k, job, 0, seconds, status) || strcmp(status, TERMINAL_DONE) != 0){
		return not_ended(k, r, job, status, seconds, TERMINAL_DONE);
	}
	return true;
}

/* --- the scenarios --- */

static bool sc_queued_job(struct kit *k, struct result *r)
{
	char a[80];
	if(!make_job(k, r, a, command_doc(QUICK), NULL) || !agent_ready(k, r)) return false;
	if(!expect_succeeded(k, r, a, 10)) return false;
	kit_pump(k, 100);
	long term = find_from(k, 0, terminal_pred, a, 0);
	for(long i = 0; i < term; i++){
		if(is_start_report(&k->tr->e[i], a)) return true;
	}
	return fail(r, "job %s went to its terminal status without IN_PROGRESS first (no start-next started it, no "
			"IN_PROGRESS update)", a);
}

static bool sc_notify_next(struct kit *k, struct result *r)
{
	char a[80];
	if(!agent_ready(k, r)) return false;
	size_t from = k->tr->n;
	if(!make_job(k, r, a, command_doc(QUICK), NULL)) return false;
	long nn = wait_entry(k, from, notify_next_pred, a, 0, 5);
	if(nn < 0) return fail(r, "the broker sent no notify-next for job %s", a);
	long take = wait_entry(k, (size_t)nn, take_pred, a, 0, 5);
	if(take < 0) return fail(r, "the agent did not take job %s within 5 s of its notify-next", a);
	double gap = k->tr->e[take].at - k->tr->e[nn].at;
	if(gap > 5000) return fail(r, "the agent took job %s %.1f s after its notify-next (at most 5 s)", a, gap / 1000);
	for(long i = nn; i < take; i++){
		const struct tentry *e = &k->tr->e[i];
		if(e->in && (e->op == T_GET || e->op == T_DESCRIBE)){
			return fail(r, "the agent polled (%s) between the notify-next of job %s and taking it: it should act on "
					"notify-next", e->topic, a);
		}
	}
	return expect_succeeded(k, r, a, 10);
}

static bool sc_jobs_in_order(struct kit *k, struct result *r)
{
	char j[3][80];
	for(int i = 0; i < 3; i++){
		if(!make_job(k, r, j[i], command_doc(QUICK), NULL)) return false;
	}
	if(!agent_ready(k, r)) return false;
	for(int i = 0; i < 3; i++){
		if(!expect_succeeded(k, r, j[i], 20)) return false;
	}
	kit_pump(k, 100);
	long prev_term = -1;
	for(int i = 0; i < 3; i++){
		long take = find_from(k, 0, take_pred, j[i], 0);
		long term = find_from(k, 0, terminal_pred, j[i], 0);
		if(take < 0 || term < 0) return fail(r, "the transcript lacks the start or the end of job %s", j[i]);
		if(take < prev_term){
			return fail(r, "job %s was taken before job %s had ended: one job at a time, oldest first", j[i], j[i - 1]);
		}
		prev_term = term;
	}
	return true;
}

static bool sc_large_document(struct kit *k, struct result *r)
{
	cJSON *doc = command_doc(QUICK);
	cJSON_AddStringToObject(doc, "padding", "");
	char *text = cJSON_PrintUnformatted(doc);
	size_t base = text ? strlen(text) : 0;
	free(text);
	size_t pad = 32768 - base;
	char *p = malloc(pad + 1);
	if(!p){
		cJSON_Delete(doc);
		return fail(r, "out of memory");
	}
	memset(p, 'x', pad);
	p[pad] = '\0';
	cJSON_ReplaceItemInObject(doc, "padding", cJSON_CreateString(p));
	free(p);
	char a[80];
	if(!agent_ready(k, r) || !make_job(k, r, a, doc, NULL)) return false;
	return expect_succeeded(k, r, a, 10);
}

static bool sc_bad_document(struct kit *k, struct result *r)
{
	if(!agent_ready(k, r)) return false;
	char a[80], b[80];
	cJSON *d1 = cJSON_CreateObject();
	cJSON_AddStringToObject(d1, "operation", "no-such-operation");
	cJSON *d2 = cJSON_CreateObject();
	cJSON_AddNumberToObject(d2, "command", 42);
	if(!make_job(k, r, a, d1, NULL) || !make_job(k, r, b, d2, NULL)) return false;
	const char *jobs[] = { a, b };
	for(int i = 0; i < 2; i++){
		char status[32];
		if(!wait_terminal(k, jobs[i], 0, 10, status) || (strcmp(status, "FAILED") != 0 && strcmp(status, "REJECTED") != 0)){
			return not_ended(k, r, jobs[i], status, 10, "FAILED or REJECTED: a document the agent cannot run is reported");
		}
	}
	return true;
}

static bool sc_failing_command(struct kit *k, struct result *r)
{
	static const char *const argv[] = { "sh", "-c", "exit 3", NULL };
	char a[80], status[32];
	if(!agent_ready(k, r) || !make_job(k, r, a, command_doc(argv), NULL)) return false;
	if(!wait_terminal(k, a, 0, 10, status) || strcmp(status, "FAILED") != 0){
		return not_ended(k, r, a, status, 10, "FAILED: the command exited with status 3");
	}
	cJSON *details = NULL;
	exec_status(k, a, 0, status, sizeof(status), &details);
	bool has = cJSON_IsObject(details) && details->child;
	cJSON_Delete(details);
	return has || fail(r, "job %s is FAILED without statusDetails saying why", a);
}

static bool sc_force_cancel(struct kit *k, struct result *r)
{
	static const char *const slow[] = { "sleep", "20", NULL };
	char a[80], b[80];
	if(!agent_ready(k, r) || !make_job(k, r, a, command_doc(slow), NULL)) return false;
	if(wait_entry(k, 0, take_pred, a, 0, 10) < 0) return fail(r, "the agent did not start job %s within 10 s", a);
	kit_pump(k, 500);
	if(!make_job(k, r, b, command_doc(QUICK), NULL)) return false;
	size_t before = k->tr->n;
	cJSON *cmd = cJSON_CreateObject();
	cJSON_AddStringToObject(cmd, "command", "cancelJobExecution");
	cJSON_AddStringToObject(cmd, "jobId", a);
	cJSON_AddStringToObject(cmd, "thingName", k->thing);
	cJSON_AddBoolToObject(cmd, "force", true);
	if(!ctl_ok(k, r, cmd, "cannot cancel the job")) return false;
	long nn = wait_entry(k, before, notify_next_pred, b, 0, 5);
	if(nn < 0) return fail(r, "the broker sent no notify-next for job %s after the cancel", b);
	long take = wait_entry(k, (size_t)nn, take_pred, b, 0, 6);
	if(take < 0 || k->tr->e[take].at - k->tr->e[nn].at > 5000){
		return fail(r, "the agent did not take the next job within 5 s of the force-cancel of the running one "
				"(it should stop the canceled job)");
	}
	if(!expect_succeeded(k, r, b, 10)) return false;
	long late = find_from(k, (size_t)nn, terminal_pred, a, 0);
	if(late >= 0) return fail(r, "the agent sent a terminal update for the force-canceled job %s", a);
	return true;
}

static bool vm_pred(const struct tentry *e, const char *job, long long exec)
{
	(void)exec;
	return !e->in && e->op == T_UPDATE && e->reply == -1 && strcmp(e->job, job) == 0
			&& str_field(e->body, "code") && strcmp(str_field(e->body, "code"), "VersionMismatch") == 0;
}

static bool update_pred(const struct tentry *e, const char *job, long long exec)
{
	(void)exec;
	return is_update(e, job, NULL);
}

static bool sc_version_mismatch(struct kit *k, struct result *r)
{
	char a[80];
	static const char *const argv[] = { "sleep", "1", NULL };
	if(!agent_ready(k, r) || !set_fault(k, r, "update", "reject", "VersionMismatch", 2)) return false;
	if(!make_job(k, r, a, command_doc(argv), NULL)) return false;
	if(!expect_succeeded(k, r, a, 15)) return false;
	kit_pump(k, 100);
	long vm = 0;
	for(int n = 0; n < 2; n++){
		vm = find_from(k, (size_t)vm, vm_pred, a, 0);
		if(vm < 0) return fail(r, "the agent sent fewer than two updates of job %s (no VersionMismatch was answered)", a);
		if(find_from(k, (size_t)vm, update_pred, a, 0) < 0){
			return fail(r, "the agent did not send the update again after a VersionMismatch");
		}
		vm++;
	}
	return true;
}

/* The request topic of a reply topic (drops /accepted or /rejected). */
static void request_topic(const char *reply, char *out, size_t n)
{
	snprintf(out, n, "%s", reply);
	char *slash = strrchr(out, '/');
	if(slash) *slash = '\0';
}

/* The next request on `topic` sent at or after index `from`. */
static long next_request(const struct kit *k, size_t from, const char *topic)
{
	for(size_t i = from; i < k->tr->n; i++){
		if(k->tr->e[i].in && strcmp(k->tr->e[i].topic, topic) == 0) return (long)i;
	}
	return -1;
}

static bool sc_throttled(struct kit *k, struct result *r)
{
	char a[80];
	if(!agent_ready(k, r) || !set_fault(k, r, "any", "reject", "RequestThrottled", 2)) return false;
	if(!make_job(k, r, a, command_doc(QUICK), NULL)) return false;
	if(!expect_succeeded(k, r, a, 20)) return false;
	kit_pump(k, 100);
	const double min_gap[2] = { 1000, 1500 };
	int seen = 0;
	for(size_t i = 0; i < k->tr->n && seen < 2; i++){
		const struct tentry *e = &k->tr->e[i];
		const char *code = str_field(e->body, "code");
		if(e->in || e->reply != -1 || !code || strcmp(code, "RequestThrottled") != 0) continue;
		char topic[400];
		request_topic(e->topic, topic, sizeof(topic));
		long next = next_request(k, i + 1, topic);
		if(next < 0) return fail(r, "the agent never sent %s again after RequestThrottled", topic);
		double gap = k->tr->e[next].at - e->at;
		if(gap < min_gap[seen]){
			return fail(r, "the agent sent %s again %.0f ms after throttle %d (at least %.0f ms: back off, doubling)",
					topic, gap, seen + 1, min_gap[seen]);
		}
		seen++;
	}
	return seen == 2 || fail(r, "the agent sent fewer than two requests to throttle");
}

static bool sc_dropped_reply(struct kit *k, struct result *r)
{
	char a[80];
	if(!agent_ready(k, r) || !set_fault(k, r, "any", "drop", NULL, 1)) return false;
	if(!make_job(k, r, a, command_doc(QUICK), NULL)) return false;
	if(!expect_succeeded(k, r, a, 20)) return false;
	kit_pump(k, 100);
	for(size_t i = 0; i < k->tr->n; i++){
		const struct tentry *e = &k->tr->e[i];
		if(e->in || strcmp(e->fault, "drop") != 0) continue;
		char topic[400];
		request_topic(e->topic, topic, sizeof(topic));
		/* The job may have ended by the lost request itself: wait for the resend. */
		long next;
		double until = mono_now() + left(k, 11);
		while((next = next_request(k, i + 1, topic)) < 0 && mono_now() < until) kit_pump(k, 100);
		if(next < 0) return fail(r, "the agent never sent %s again after its reply was lost", topic);
		double gap = k->tr->e[next].at - e->at;
		if(gap < 500) return fail(r, "the agent sent %s again %.0f ms after (too soon: wait for the reply)", topic, gap);
		if(gap > 10000) return fail(r, "the agent sent %s again only %.1f s after (at most 10 s)", topic, gap / 1000);
		return true;
	}
	return fail(r, "no reply was dropped (the agent sent no request after the fault was set)");
}

/* Waits until the agent runs `job` (created at transcript index `from`): it takes it
 * (start-next or an update), or, for an agent that reports nothing until the end,
 * 1.5 s after the job's notify-next. */
static bool wait_running(struct kit *k, struct result *r, const char *job, size_t from)
{
	long nn = wait_entry(k, from, notify_next_pred, job, 0, 5);
	double until = mono_now() + left(k, 10);
	double quiet = nn >= 0 ? mono_now() + 1.5 : until;
	while(find_from(k, from, take_pred, job, 0) < 0){
		if(mono_now() >= quiet) return true;
		if(mono_now() >= until || (k->agent_cmd && k->agent_exited)){
			return fail(r, "the agent did not start job %s within 10 s", job);
		}
		kit_pump(k, 100);
	}
	kit_pump(k, 500);
	return true;
}

static bool sc_duplicate_notify(struct kit *k, struct result *r)
{
	static const char *const argv[] = { "sleep", "3", NULL };
	char a[80], err[300];
	if(!agent_ready(k, r)) return false;
	size_t created = k->tr->n;
	if(!make_job(k, r, a, command_doc(argv), NULL) || !wait_running(k, r, a, created)) return false;
	size_t from = k->tr->n;
	for(int i = 0; i < 2; i++){
		cJSON *d = ctl_thing_call(k, "resendNotifyNext", err, sizeof(err));
		if(!d) return fail(r, "cannot send notify-next again: %s", err);
		cJSON_Delete(d);
		kit_pump(k, 200);
	}
	if(!expect_succeeded(k, r, a, 15)) return false;
	kit_pump(k, 300);
	const char *first_terminal = NULL;
	for(size_t i = from; i < k->tr->n; i++){
		const struct tentry *e = &k->tr->e[i];
		if(e->in && e->op == T_START_NEXT && !first_terminal){
			return fail(r, "the agent sent start-next after a duplicate notify-next while job %s ran: it would run it twice", a);
		}
		if(is_terminal_update(e, a)){
			if(first_terminal && strcmp(first_terminal, e->payload) != 0){
				return fail(r, "the agent sent two different terminal updates for job %s: it ran it twice", a);
			}
			first_terminal = e->payload;
		}
	}
	return true;
}

static bool sc_disconnect(struct kit *k, struct result *r)
{
	static const char *const argv[] = { "sleep", "5", NULL };
	char a[80], err[300], status[32];
	if(!agent_ready(k, r)) return false;
	size_t created = k->tr->n;
	if(!make_job(k, r, a, command_doc(argv), NULL) || !wait_running(k, r, a, created)) return false;
	size_t from = k->tr->n;
	cJSON *d = ctl_thing_call(k, "disconnectThing", err, sizeof(err));
	if(!d) return fail(r, "cannot disconnect the agent: %s", err);
	bool done = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "disconnected"));
	cJSON_Delete(d);
	if(!done) return fail(r, "no client acting for thing %s was connected to be disconnected", k->thing);
	if(!wait_terminal(k, a, 0, 20, status) || !device_terminal(status)){
		return not_ended(k, r, a, status, 20, "SUCCEEDED or FAILED: the agent reconnects and finishes or fails the "
				"execution it was running");
	}
	bool back = false;
	for(size_t i = from; i < k->tr->n; i++) back = back || k->tr->e[i].in;
	return back || fail(r, "no request from the agent after the disconnect");
}

static bool sc_step_timeout(struct kit *k, struct result *r)
{
	static const char *const argv[] = { "sleep", "5", NULL };
	char a[80];
	if(!agent_ready(k, r) || !make_job(k, r, a, command_doc(argv), NULL)) return false;
	if(!expect_succeeded(k, r, a, 15)) return false;
	kit_pump(k, 100);
	long nn = find_from(k, 0, notify_next_pred, a, 0);
	long take = find_from(k, 0, take_pred, a, 0);
	long t0 = nn >= 0 ? nn : take;
	long term = find_from(k, 0, terminal_pred, a, 0);
	if(t0 < 0 || term < 0) return fail(r, "the transcript lacks the start or the end of job %s", a);
	for(long i = t0; i < term; i++){
		const struct tentry *e = &k->tr->e[i];
		if(is_update(e, a, "IN_PROGRESS") && cJSON_GetObjectItemCaseSensitive(e->body, "stepTimeoutInMinutes")
				&& e->at - k->tr->e[t0].at >= 2000){
			return true;
		}
	}
	return fail(r, "job %s ran 5 s without the agent extending its step timer (an IN_PROGRESS update with "
			"stepTimeoutInMinutes 2 s or more after it was offered)", a);
}

static bool sc_timed_out_retry(struct kit *k, struct result *r)
{
	static const char *const argv[] = { "sleep", "4", NULL };
	char a[80], status[32];
	cJSON *extra = cJSON_CreateObject();
	cJSON_AddNumberToObject(cJSON_AddObjectToObject(extra, "timeoutConfig"), "inProgressTimeoutInMinutes", 1);
	cJSON *crit = cJSON_CreateObject();
	cJSON_AddStringToObject(crit, "failureType", "TIMED_OUT");
	cJSON_AddNumberToObject(crit, "numberOfRetries", 1);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(cJSON_AddObjectToObject(extra, "jobExecutionsRetryConfig"), "criteriaList"), crit);
	if(!agent_ready(k, r) || !make_job(k, r, a, command_doc(argv), extra)) return false;
	if(wait_entry(k, 0, take_pred, a, 1, 10) < 0) return fail(r, "the agent did not start job %s within 10 s", a);
	cJSON *cmd = cJSON_CreateObject();
	cJSON_AddStringToObject(cmd, "command", "advanceTime");
	cJSON_AddNumberToObject(cmd, "minutes", 2);
	if(!ctl_ok(k, r, cmd, "cannot move job time")) return false;
	if(!wait_terminal(k, a, 1, 5, status) || strcmp(status, "TIMED_OUT") != 0){
		return fail(r, "execution 1 of job %s is %s after job time moved 2 minutes past its 1-minute timeout", a, status);
	}
	if(!wait_terminal(k, a, 2, 15, status) || strcmp(status, "SUCCEEDED") != 0){
		return not_ended(k, r, a, status, 15, "SUCCEEDED for execution 2 (the retry is a new execution to run)");
	}
	return true;
}

static bool sc_broker_restart(struct kit *k, struct result *r)
{
	char a[80], err[600];
	if(!agent_ready(k, r)) return false;
	broker_stop(k);
	if(!broker_start(k, err, sizeof(err))) return fail(r, "cannot restart the broker: %s", err);
	k->tr->next_seq = 0;  /* a new broker counts from the start */
	k->tr->broker_dropped = 0;
	cJSON *d = ctl_thing_call(k, "startTranscript", err, sizeof(err));
	if(!d) return fail(r, "cannot start the transcript again: %s", err);
	cJSON_Delete(d);
	if(!make_job(k, r, a, command_doc(QUICK), NULL)) return false;
	return expect_succeeded(k, r, a, 20);
}

const struct scenario scenarios[] = {
	{ "queued-job", "a job queued before the agent starts ends SUCCEEDED within 10 s, IN_PROGRESS before its "
		"terminal update", false, sc_queued_job },
	{ "notify-next", "a job created while the agent is idle is taken within 5 s of its notify-next, no get or "
		"describe in between", false, sc_notify_next },
	{ "jobs-in-order", "three queued jobs end SUCCEEDED within 20 s, oldest first, one at a time", false,
		sc_jobs_in_order },
	{ "large-document", "a job whose document has 32768 characters ends SUCCEEDED within 10 s", false,
		sc_large_document },
	{ "bad-document", "documents the agent cannot run (unknown operation, a command that is not a list) end "
		"FAILED or REJECTED within 10 s", false, sc_bad_document },
	{ "failing-command", "a command exiting with status 3 ends FAILED with statusDetails within 10 s", false,
		sc_failing_command },
	{ "force-cancel", "a running job force-canceled: the next job is taken within 5 s, no terminal update of the "
		"canceled one", false, sc_force_cancel },
	{ "version-mismatch", "two updates answered VersionMismatch: each is sent again, the job ends SUCCEEDED "
		"within 15 s", false, sc_version_mismatch },
	{ "throttled", "two requests answered RequestThrottled: resent no sooner than 1 s, then 1.5 s, after; the job "
		"ends SUCCEEDED", false, sc_throttled },
	{ "dropped-reply", "a request whose reply is lost is sent again 0.5-10 s later; the job ends SUCCEEDED within "
		"20 s", false, sc_dropped_reply },
	{ "duplicate-notify", "notify-next sent twice more while a job runs: no start-next, one terminal update", false,
		sc_duplicate_notify },
	{ "disconnect", "the agent is disconnected mid-job (a 5 s job): it reconnects and the execution ends SUCCEEDED "
		"or FAILED within 20 s", false, sc_disconnect },
	{ "step-timeout", "a 5 s job: the agent extends its step timer (IN_PROGRESS with stepTimeoutInMinutes) 2 s or "
		"more after the job was offered", false, sc_step_timeout },
	{ "timed-out-retry", "execution 1 TIMED_OUT behind the agent's back and retried: execution 2 ends SUCCEEDED "
		"within 15 s", false, sc_timed_out_retry },
	{ "broker-restart", "the broker restarts while the agent is idle: a job created after it ends SUCCEEDED within "
		"20 s", true, sc_broker_restart },
};
const size_t nscenarios = sizeof(scenarios) / sizeof(*scenarios);

const struct scenario *scenario_find(const char *name)
{
	for(size_t i = 0; i < nscenarios; i++){
		if(strcmp(scenarios[i].name, name) == 0) return &scenarios[i];
	}
	return NULL;
}

void scenario_run(struct kit *k, const struct scenario *s, struct result *r)
{
	char err[600];
	k->tr = &r->tr;
	k->ncreated = 0;
	k->deadline = mono_now() + k->timeout;
	cJSON_Delete(ctl_thing_call(k, "stopTranscript", err, sizeof(err)));
	cJSON_Delete(ctl_thing_call(k, "clearFaults", err, sizeof(err)));
	cJSON *d = ctl_thing_call(k, "startTranscript", err, sizeof(err));
	bool ok = false;
	if(!d) fail(r, "cannot start the transcript: %s", err);
	else ok = s->run(k, r);
	cJSON_Delete(d);
	if(ok && r->verdict != V_FAIL) r->verdict = V_PASS;
	else if(r->verdict != V_FAIL) fail(r, "failed");
	if(r->verdict == V_FAIL && k->agent_cmd && k->agent_exited && !strstr(r->reason, k->agent_exit)){
		/* What the agent did comes first: it ended before the scenario did. */
		char was[sizeof(r->reason)];
		snprintf(was, sizeof(was), "%s", r->reason);
		snprintf(r->reason, sizeof(r->reason), "the agent %.200s during the scenario; then: %.1200s", k->agent_exit, was);
	}
	if(r->verdict == V_FAIL && r->tr.dropped > 0){
		size_t len = strlen(r->reason);
		snprintf(r->reason + len, sizeof(r->reason) - len, " (%lld transcript entries were not kept: the agent "
				"sent more than the transcript holds)", r->tr.dropped);
	}
	if(k->verbose){
		for(size_t i = 0; i < r->tr.n; i++){
			printf("  %s %s %s%s%s\n", r->tr.e[i].in ? "->" : "<-", r->tr.e[i].topic, r->tr.e[i].payload,
					r->tr.e[i].fault[0] ? " FAULT " : "", r->tr.e[i].fault);
		}
	}
	agent_stop(k, r);
	ctl_fetch_transcript(k, err, sizeof(err));
	cJSON_Delete(ctl_thing_call(k, "clearFaults", err, sizeof(err)));
	for(size_t i = 0; i < k->ncreated; i++){
		cJSON *cmd = cJSON_CreateObject();
		cJSON_AddStringToObject(cmd, "command", "cancelJob");
		cJSON_AddStringToObject(cmd, "jobId", k->created[i]);
		cJSON_AddBoolToObject(cmd, "force", true);
		cJSON_Delete(ctl_call(k, cmd, err, sizeof(err)));
	}
	cJSON_Delete(ctl_thing_call(k, "stopTranscript", err, sizeof(err)));
	k->tr = NULL;
}
