/* jobs-agent-check: runs the chosen scenarios against a device agent, prints a line
 * per scenario as it ends, writes the reports, and exits 0 only when every chosen
 * scenario passed. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>

#include "check.h"
#include "../man/roff.h"

#define DEFAULT_TIMEOUT 30.0

/* The kit's own options, for --help and the man page. */
static const struct {
	const char *flag;
	const char *metavar;   /* NULL: none */
	const char *help;
} kit_options[] = {
	{ "--thing", "NAME", "the agent's thing (required)" },
	{ "--agent-cmd", "'CMD'", "start the agent per scenario with sh -c CMD; {thing}, {host} and {port} are replaced" },
	{ "--scenario", "NAME...", "run these scenarios (default: all; see --list)" },
	{ "--list", NULL, "list the scenarios and their criteria" },
	{ "--timeout", "SECONDS", "longest a scenario may take (default 30)" },
	{ "--junit", "FILE", "write a JUnit XML report" },
	{ "--html", "FILE", "write a self-contained HTML report" },
	{ "--start-broker", NULL, "start a mosquitto with the plugin and the test controls on a free loopback port "
		"(needs --plugin); the scenarios that restart the broker need it" },
	{ "--plugin", "PATH", "the plugin for --start-broker" },
	{ "--mosquitto", "PATH", "the broker for --start-broker (default mosquitto)" },
	{ "--verbose", NULL, "print every transcript entry as it comes" },
	{ "--help", NULL, "show this help" },
	{ "--version", NULL, "print jobs-agent-check's version" },
};
#define NKIT_OPTIONS (sizeof(kit_options) / sizeof(*kit_options))

#define EXIT_TEXT "Exit status: 0 every chosen scenario passed; 1 a scenario failed, or the broker has\n" \
	"no test controls or refuses the operator; 2 cannot connect; 64 usage error.\n"

static void print_help(FILE *f)
{
	fprintf(f,
		"usage: jobs-agent-check --thing NAME [options] [connection options]\n"
		"\n"
		"Tests a device agent's AWS IoT Jobs handling against a broker with the jobs plugin\n"
		"and its test controls (plugin_opt_test_controls on): for each scenario it creates\n"
		"jobs for the agent's thing, injects faults, moves job time, and judges from the\n"
		"thing's transcript and the stored executions.\n"
		"\n"
		"Options:\n");
	for(size_t i = 0; i < NKIT_OPTIONS; i++){
		/* the help wrapped at 80 columns, under column 33 */
		char left[64];
		snprintf(left, sizeof(left), "%s%s%s", kit_options[i].flag, kit_options[i].metavar ? " " : "",
				kit_options[i].metavar ? kit_options[i].metavar : "");
		int col = fprintf(f, "  %-29s", left);
		const char *h = kit_options[i].help;
		while(*h){
			const char *sp = strchr(h, ' ');
			int n = sp ? (int)(sp - h) : (int)strlen(h);
			if(col > 32 && col + 1 + n > 88){
				col = fprintf(f, "\n%31s", "") - 1;
			}
			col += fprintf(f, " %.*s", n, h);
			h += n;
			while(*h == ' ') h++;
		}
		fprintf(f, "\n");
	}
	fprintf(f, "\nConnection options (as jobsctl's, and its defaults file):\n");
	options_print_help(f);
	fprintf(f, "\n" EXIT_TEXT);
}

/* The sections of jobs-agent-check(1) made from the tables (man/jobs-agent-check.1.in
 * holds the rest): the options, the connection options, the scenarios, the exit
 * statuses. */
static void print_man(FILE *f)
{
	fprintf(f, ".SH OPTIONS\n");
	for(size_t i = 0; i < NKIT_OPTIONS; i++){
		fprintf(f, ".TP\n");
		roff_bold(f, kit_options[i].flag);
		if(kit_options[i].metavar){
			fprintf(f, " ");
			roff_italic(f, kit_options[i].metavar);
		}
		fprintf(f, "\n");
		roff_text(f, kit_options[i].help);
		fprintf(f, "\n");
	}
	fprintf(f, ".SH CONNECTION OPTIONS\nAs jobsctl's, read from its defaults file too.\n");
	options_print_man(f);
	fprintf(f, ".SH SCENARIOS\n");
	for(size_t i = 0; i < nscenarios; i++){
		fprintf(f, ".TP\n");
		roff_bold(f, scenarios[i].name);
		fprintf(f, "\n");
		roff_text(f, scenarios[i].criterion);
		fprintf(f, "%s\n", scenarios[i].needs_restart ? " (needs \\fB\\-\\-start\\-broker\\fR)" : "");
	}
	fprintf(f, ".SH EXIT STATUS\n");
	roff_text(f, EXIT_TEXT);
}

static void list_scenarios(void)
{
	for(size_t i = 0; i < nscenarios; i++){
		printf("%-20s %s%s\n", scenarios[i].name, scenarios[i].criterion,
				scenarios[i].needs_restart ? " (needs --start-broker)" : "");
	}
}

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "jobs-agent-check: usage: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see jobs-agent-check --help)\n");
	return JOBSCTL_EXIT_USAGE;
}

static bool valid_thing(const char *s)
{
	size_t n = strlen(s);
	if(n < 1 || n > 128) return false;
	for(; *s; s++){
		char c = *s;
		if(!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' || c == '_' || c == '-')){
			return false;
		}
	}
	return true;
}

/* Parses the command line into k and the chosen scenarios. */
static int parse(struct kit *k, int argc, char **argv, const struct scenario **chosen, size_t *nchosen, bool *list)
{
	int rc = options_load_defaults(&k->o);
	if(rc) return rc;
	for(int i = 1; i < argc;){
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		const char **slot = NULL;
		if(strcmp(a, "--help") == 0) return JOBSCTL_HELP;
		if(strcmp(a, "--version") == 0) return JOBSCTL_VERSION;
		if(strcmp(a, "--list") == 0){
			*list = true;
			i++;
			continue;
		}
		if(strcmp(a, "--start-broker") == 0 || strcmp(a, "--verbose") == 0){
			if(a[2] == 's') k->start_broker = true;
			else k->verbose = true;
			i++;
			continue;
		}
		if(strcmp(a, "--scenario") == 0){
			i++;
			if(i >= argc || argv[i][0] == '-') return usage_error("%s needs scenario names", a);
			for(; i < argc && argv[i][0] != '-'; i++){
				const struct scenario *s = scenario_find(argv[i]);
				if(!s) return usage_error("unknown scenario '%s' (--list shows them)", argv[i]);
				bool dup = false;
				for(size_t j = 0; j < *nchosen; j++) dup = dup || chosen[j] == s;
				if(!dup) chosen[(*nchosen)++] = s;
			}
			continue;
		}
		if(strcmp(a, "--thing") == 0) slot = &k->thing;
		else if(strcmp(a, "--agent-cmd") == 0) slot = &k->agent_cmd;
		else if(strcmp(a, "--junit") == 0) slot = &k->junit;
		else if(strcmp(a, "--html") == 0) slot = &k->html;
		else if(strcmp(a, "--plugin") == 0) slot = &k->plugin;
		else if(strcmp(a, "--mosquitto") == 0) slot = &k->mosquitto;
		if(slot || strcmp(a, "--timeout") == 0){
			if(!v) return usage_error("%s needs a value", a);
			if(slot){
				if(!v[0]) return usage_error("%s must not be empty", a);
				*slot = v;
			}else{
				char *end;
				errno = 0;
				double t = strtod(v, &end);
				if(end == v || *end || errno || !(t >= 1 && t <= 3600)){
					return usage_error("--timeout: '%s' is not a number of seconds from 1 to 3600", v);
				}
				k->timeout = t;
			}
			i += 2;
			continue;
		}
		if(strcmp(a, "--output") == 0 || strncmp(a, "--output=", 9) == 0 || strcmp(a, "--dry-run") == 0){
			return usage_error("%s is a jobsctl option, not one of jobs-agent-check", a);
		}
		rc = options_parse_flag(&k->o, argc, argv, &i);
		if(rc == JOBSCTL_NOT_GLOBAL) return usage_error("unknown option '%s'", a);
		if(rc) return rc;
	}
	if(*list) return 0;
	if(!k->thing) return usage_error("%s", "--thing NAME is required");
	if(!valid_thing(k->thing)) return usage_error("--thing: '%s' is not a thing name ([a-zA-Z0-9:_-], 1-128)", k->thing);
	if(k->start_broker && !k->plugin) return usage_error("%s", "--start-broker needs --plugin PATH");
	if(k->plugin && !k->start_broker) return usage_error("%s", "--plugin goes with --start-broker");
	return options_check(&k->o);
}

static const char *verdict_word(enum verdict v)
{
	return v == V_PASS ? "PASS" : v == V_FAIL ? "FAIL" : "SKIP";
}

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static int run(struct kit *k, int argc, char **argv)
{
	const struct scenario **chosen = calloc(nscenarios, sizeof(*chosen));
	size_t nchosen = 0;
	bool list = false;
	if(!chosen) return CHECK_EXIT_FAILED;
	int rc = parse(k, argc, argv, chosen, &nchosen, &list);
	if(rc == JOBSCTL_HELP || rc == JOBSCTL_VERSION){
		if(rc == JOBSCTL_HELP) print_help(stdout);
		else options_print_version(stdout);
		free(chosen);
		return 0;
	}
	if(rc || list){
		if(list) list_scenarios();
		free(chosen);
		return rc;
	}
	bool explicit_choice = nchosen > 0;
	if(!explicit_choice){
		for(size_t i = 0; i < nscenarios; i++) chosen[nchosen++] = &scenarios[i];
	}
	if(!k->mosquitto) k->mosquitto = "mosquitto";
	if(k->timeout <= 0) k->timeout = DEFAULT_TIMEOUT;

	const char *tmp = getenv("TMPDIR");
	snprintf(k->tmpdir, sizeof(k->tmpdir), "%s/jobs-agent-check-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	if(!mkdtemp(k->tmpdir)){
		fprintf(stderr, "jobs-agent-check: cannot create a private folder in %s: %s\n",
				tmp && tmp[0] ? tmp : "/tmp", strerror(errno));
		free(chosen);
		return CHECK_EXIT_FAILED;
	}
	snprintf(k->run_id, sizeof(k->run_id), "%lx%lx", (unsigned long)time(NULL) & 0xfffff, (unsigned long)getpid() & 0xfff);

	char err[1500];
	int code = 0;
	mosquitto_lib_init();
	if(k->start_broker){
		if(!broker_start(k, err, sizeof(err))){
			fprintf(stderr, "jobs-agent-check: %s\n", err);
			code = CHECK_EXIT_FAILED;
		}
	}else if(!ctl_connect(k, k->o.timeout, false, err, sizeof(err))){
		fprintf(stderr, "jobs-agent-check: %s\n", err);
		code = JOBSCTL_EXIT_CONNECT;
	}
	/* One clear error at the start for a broker without the test controls or an
	 * operator who is not one. */
	if(!code){
		cJSON *d = ctl_thing_call(k, "stopTranscript", err, sizeof(err));
		if(!d){
			fprintf(stderr, "jobs-agent-check: the broker cannot be used for agent tests: %s\n"
					"jobs-agent-check: hint: the broker needs the jobs plugin with plugin_opt_test_controls on, "
					"and this client (%s) must be an operator (plugin_opt_operators)\n", err, k->client_id);
			code = CHECK_EXIT_FAILED;
		}
		cJSON_Delete(d);
	}
	struct result *rs = calloc(nchosen, sizeof(*rs));
	size_t nrun = 0, passed = 0, failed = 0, skipped = 0;
	double t0 = mono_now();
	if(!code && rs){
		printf("jobs-agent-check: %zu scenario%s for thing %s on %s:%d%s\n", nchosen, nchosen == 1 ? "" : "s",
				k->thing, k->o.host ? k->o.host : JOBSCTL_DEFAULT_HOST, k->o.port,
				k->agent_cmd ? "" : " (the agent is not started by the kit: it must be running)");
		fflush(stdout);
		for(size_t i = 0; i < nchosen && !interrupted; i++){
			struct result *r = &rs[nrun++];
			r->s = chosen[i];
			if(chosen[i]->needs_restart && !k->start_broker){
				r->verdict = V_SKIP;
				snprintf(r->reason, sizeof(r->reason), "restarts the broker: only with --start-broker "
						"(the kit's own broker)");
			}else{
				double s0 = mono_now();
				scenario_run(k, chosen[i], r);
				r->seconds = mono_now() - s0;
			}
			if(r->verdict == V_PASS) passed++;
			else if(r->verdict == V_FAIL) failed++;
			else skipped++;
			printf("%s %-20s %5.1f s%s%s\n", verdict_word(r->verdict), r->s->name, r->seconds,
					r->verdict == V_PASS ? "" : "  ", r->verdict == V_PASS ? "" : r->reason);
			fflush(stdout);
		}
		double total = mono_now() - t0;
		printf("jobs-agent-check: %zu passed, %zu failed, %zu skipped in %.1f s\n", passed, failed, skipped, total);
		if(k->junit && !report_junit(k->junit, rs, nrun, total)){
			fprintf(stderr, "jobs-agent-check: cannot write %s: %s\n", k->junit, strerror(errno));
			code = CHECK_EXIT_FAILED;
		}
		if(k->html && !report_html(k->html, k, rs, nrun, total)){
			fprintf(stderr, "jobs-agent-check: cannot write %s: %s\n", k->html, strerror(errno));
			code = CHECK_EXIT_FAILED;
		}
		/* A scenario named on the command line and skipped is not a pass. */
		if(failed || interrupted || (explicit_choice && skipped)) code = CHECK_EXIT_FAILED;
	}
	for(size_t i = 0; rs && i < nrun; i++){
		transcript_free(&rs[i].tr);
		free(rs[i].agent_output);
	}
	free(rs);
	free(chosen);
	if(k->start_broker) broker_stop(k);
	ctl_disconnect(k);
	mosquitto_lib_cleanup();
	remove_tmpdir(k);
	return code;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	options_progname = "jobs-agent-check";
	if(argc == 2 && strcmp(argv[1], "--help-man") == 0){
		print_man(stdout);
		return 0;
	}
	struct kit k;
	memset(&k, 0, sizeof(k));
	options_init(&k.o);
	int rc = run(&k, argc, argv);
	free(k.created);
	options_free(&k.o);
	return rc;
}
