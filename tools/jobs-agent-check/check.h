/* jobs-agent-check: the device-agent conformance kit. Connects as an operator to a
 * broker with the jobs plugin and its test controls (plugin_opt_test_controls on),
 * and for each scenario creates jobs for the agent's thing, starts the agent
 * (--agent-cmd), injects faults, moves job time, and judges from the thing's
 * transcript and the stored executions.
 *
 * main.c       options, the run, the terminal summary, exit status
 * ctl.c        the operator's connection: management commands, the transcript; the clock
 * procs.c      the agent's process and the broker the kit starts (--start-broker);
 *              waiting while both run (kit_pump)
 * scenarios.c  the scenarios and their criteria
 * report.c     JUnit XML and the HTML page */
#ifndef JOBS_AGENT_CHECK_H
#define JOBS_AGENT_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "../jobsctl/jobsctl.h"

#define CHECK_EXIT_FAILED 1   /* a scenario failed, or the broker refused the set-up */

/* What a transcript entry is about. */
enum top { T_OTHER, T_GET, T_START_NEXT, T_DESCRIBE, T_UPDATE, T_NOTIFY, T_NOTIFY_NEXT };

struct tentry {
	long long seq;
	double at;            /* epoch milliseconds, the broker's clock */
	bool in;              /* published by the device */
	char *topic;
	char *payload;
	cJSON *body;          /* the payload parsed (NULL if not JSON) */
	char fault[16];       /* the fault applied, or "" */
	enum top op;
	char job[80];         /* describe/update: the job id in the topic ("$next" too) */
	int reply;            /* 1 accepted, -1 rejected, 0 a request or a notification */
};

struct transcript {
	struct tentry *e;
	size_t n, cap;
	long long next_seq;   /* the `since` of the next getTranscript */
	long long dropped;        /* entries lost: the broker's bound, or the kit's */
	long long broker_dropped; /* the broker's count so far */
};

enum verdict { V_PASS, V_FAIL, V_SKIP };

struct result {
	const struct scenario *s;
	enum verdict verdict;
	char reason[1500];
	double seconds;
	struct transcript tr;
	char *agent_output;   /* the agent's output in this scenario (tail), or NULL */
	char agent_status[240];
};

struct kit;
struct scenario {
	const char *name;
	const char *criterion;   /* one line, shown by --list and in the reports */
	bool needs_restart;      /* needs a broker the kit started */
	bool (*run)(struct kit *k, struct result *r);
};

struct kit {
	struct options o;
	const char *thing;
	double timeout;          /* per scenario, seconds */
	const char *agent_cmd;
	const char *junit, *html;
	bool start_broker;
	const char *plugin, *mosquitto;
	bool verbose;

	/* the operator's connection (ctl.c) */
	struct mosquitto *mosq;
	bool connected;
	char client_id[64];
	char lib_error[300];
	int refused_reason;      /* an MQTT 5 PUBACK refusal of the last request */
	char *reply_correlation;
	cJSON *reply;            /* the matching response entry */

	/* the run */
	char tmpdir[256];
	char run_id[24];
	unsigned job_seq;
	char (*created)[80];     /* the jobs of the current scenario (for the clean-up) */
	size_t ncreated;
	struct transcript *tr;   /* the current scenario's transcript */
	double deadline;         /* of the current scenario (monotonic seconds) */

	/* processes (procs.c) */
	pid_t broker_pid;
	int broker_port;
	pid_t agent_pid;
	bool agent_exited;
	char agent_exit[160];
	char agent_log[300];
	unsigned agent_runs;
};

/* ctl.c */
double mono_now(void);
/* Connects within `seconds`; with `retry`, tries again until then (a broker starting). */
bool ctl_connect(struct kit *k, double seconds, bool retry, char *err, size_t errsize);
void ctl_disconnect(struct kit *k);
/* Sends one management command (takes `cmd`); the response's data (the caller frees
 * it), or NULL with the error in err. */
cJSON *ctl_call(struct kit *k, cJSON *cmd, char *err, size_t errsize);
/* ctl_call for a command with a thingName: {"command":name,"thingName":thing}. */
cJSON *ctl_thing_call(struct kit *k, const char *name, char *err, size_t errsize);
/* Appends the new transcript entries; false on an error. */
bool ctl_fetch_transcript(struct kit *k, char *err, size_t errsize);
void transcript_free(struct transcript *t);

/* procs.c */
/* Waits up to `ms`, serving the connection, fetching the transcript and watching
 * the agent. */
void kit_pump(struct kit *k, int ms);
bool agent_start(struct kit *k, const char *scenario, char *err, size_t errsize);
/* Reaps the agent if it exited; true while it runs. */
bool agent_poll(struct kit *k);
void agent_stop(struct kit *k, struct result *r);
bool broker_start(struct kit *k, char *err, size_t errsize);
void broker_stop(struct kit *k);
void remove_tmpdir(struct kit *k);

/* scenarios.c */
extern const struct scenario scenarios[];
extern const size_t nscenarios;
const struct scenario *scenario_find(const char *name);
/* Runs one scenario: set-up, body, clean-up. */
void scenario_run(struct kit *k, const struct scenario *s, struct result *r);

/* report.c */
bool report_junit(const char *path, const struct result *rs, size_t n, double total);
bool report_html(const char *path, const struct kit *k, const struct result *rs, size_t n, double total);

#endif
