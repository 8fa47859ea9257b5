/* jobsctl: connects to the broker, publishes a management command on
 * $CONTROL/jobs/v1 and waits for its reply (for a list command, one request per page).
 *
 * The plugin publishes the reply on $CONTROL/jobs/v1/response to the requesting
 * client id alone, without any subscription. jobsctl subscribes to nothing and uses
 * a clean session, so that nothing but the plugin's replies reaches it; among those
 * it takes the entry whose correlationData is the random one it sent with the
 * request. When the broker refuses it, jobsctl says who it connected as. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "jobsctl.h"
#include "../man/roff.h"

#define REQUEST_TOPIC "$CONTROL/jobs/v1"
#define RESPONSE_TOPIC "$CONTROL/jobs/v1/response"
#define KEEPALIVE 60
#define CORRELATION_BYTES 16

struct session {
	const struct options *o;
	const char *host;
	const char *client_id;
	cJSON *command;       /* the command to send, correlationData set per request */
	struct pager *pager;  /* takes the replies' data */
	char correlation[2 * CORRELATION_BYTES + 1];  /* of the request in flight */
	double deadline;      /* for the reply in flight */
	bool connected;       /* CONNACK accepted */
	bool done;
	int exit_code;
	char *message;        /* for stderr, when exit_code is not 0 */
	char lib_error[300];  /* libmosquitto's last error log line (TLS errors land there) */
	char stray[600];      /* an error reply that carries no correlationData */
};

static void make_correlation(char *out);
static double now_seconds(void);

/* Ends the session with `code` (the first call wins). */
__attribute__((format(printf, 3, 4)))
static void finish(struct session *s, int code, const char *fmt, ...)
{
	if(s->done) return;
	s->done = true;
	s->exit_code = code;
	if(!fmt) return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if(n < 0) return;
	s->message = malloc((size_t)n + 1);
	if(!s->message) return;
	va_start(ap, fmt);
	vsnprintf(s->message, (size_t)n + 1, fmt, ap);
	va_end(ap);
}

static void on_log(struct mosquitto *mosq, void *obj, int level, const char *line)
{
	(void)mosq;
	struct session *s = obj;
	if(level & MOSQ_LOG_ERR) snprintf(s->lib_error, sizeof(s->lib_error), "%s", line);
}

/* Who jobsctl was to the broker: "client id 'x', username 'u'". */
static void describe_identity(const struct session *s, char *out, size_t size)
{
	const struct options *o = s->o;
	snprintf(out, size, "client id '%s', %s%s%s%s", s->client_id, o->username ? "username '" : "no username",
			o->username ? o->username : "", o->username ? "'" : "", o->cert ? ", a client certificate" : "");
}

/* What to do when the plugin does not take jobsctl's commands. */
#define OPERATORS_HINT \
	"The jobs plugin takes management commands only from the identities in its plugin_opt_operators. " \
	"With plugin_opt_identity clientid (the default) the identity is the client id: an operator " \
	"named admin runs 'jobsctl -i admin' (or puts '-i admin' in the defaults file); with username, " \
	"-u admin; with cert_cn, the certificate's common name (--cert, --key)."

/* Sends the command with a new correlationData; false after finish(). */
static bool send_request(struct mosquitto *mosq, struct session *s)
{
	make_correlation(s->correlation);
	cJSON *corr = cJSON_CreateString(s->correlation);
	bool ok = corr && (cJSON_GetObjectItemCaseSensitive(s->command, "correlationData")
			? cJSON_ReplaceItemInObjectCaseSensitive(s->command, "correlationData", corr)
			: cJSON_AddItemToObject(s->command, "correlationData", corr));
	if(!ok) cJSON_Delete(corr);
	cJSON *request = ok ? cJSON_CreateObject() : NULL;
	cJSON *list = cJSON_AddArrayToObject(request, "commands");
	char *payload = list && cJSON_AddItemReferenceToArray(list, s->command) ? cJSON_PrintUnformatted(request) : NULL;
	cJSON_Delete(request);
	if(!payload){
		finish(s, JOBSCTL_EXIT_ERROR, "out of memory");
		return false;
	}
	size_t len = strlen(payload);
	int rc = len > INT_MAX ? MOSQ_ERR_PAYLOAD_SIZE
			: mosquitto_publish_v5(mosq, NULL, REQUEST_TOPIC, (int)len, payload, 1, false, NULL);
	free(payload);
	if(rc != MOSQ_ERR_SUCCESS){
		finish(s, JOBSCTL_EXIT_CONNECT, "cannot send the request: %s", mosquitto_strerror(rc));
		return false;
	}
	s->deadline = now_seconds() + s->o->timeout;
	return true;
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc, int flags, const mosquitto_property *props)
{
	(void)flags;
	(void)props;
	struct session *s = obj;
	if(rc != 0){
		const char *reason = s->o->protocol == 5 ? mosquitto_reason_string(rc) : mosquitto_connack_string(rc);
		/* Refusals of who jobsctl is (MQTT 5 codes, then MQTT 3.1.1 ones). */
		bool identity = s->o->protocol == 5
				? rc == MQTT_RC_CLIENTID_NOT_VALID || rc == MQTT_RC_BAD_USERNAME_OR_PASSWORD
					|| rc == MQTT_RC_NOT_AUTHORIZED || rc == MQTT_RC_BANNED
				: rc == CONNACK_REFUSED_IDENTIFIER_REJECTED || rc == CONNACK_REFUSED_BAD_USERNAME_PASSWORD
					|| rc == CONNACK_REFUSED_NOT_AUTHORIZED;
		if(!identity){
			finish(s, JOBSCTL_EXIT_CONNECT, "%s:%d refused the connection: %s", s->host, s->o->port, reason);
			return;
		}
		char who[600];
		describe_identity(s, who, sizeof(who));
		finish(s, JOBSCTL_EXIT_CONNECT, "%s:%d refused the connection: %s\n"
				"jobsctl: hint: jobsctl connected with %s. The broker's own authentication refused it "
				"(a password file, allow_anonymous false, an auth plugin): check -u/-P, --cert/--key and -i. "
				"Once connected, " OPERATORS_HINT, s->host, s->o->port, reason, who);
		return;
	}
	s->connected = true;
	send_request(mosq, s);
}

static void on_publish(struct mosquitto *mosq, void *obj, int mid, int reason, const mosquitto_property *props)
{
	(void)mosq;
	(void)mid;
	(void)props;
	struct session *s = obj;
	/* MQTT 5: the broker refused the publish (the plugin's operator check, or an ACL). */
	if(reason == MQTT_RC_NOT_AUTHORIZED){
		char who[600];
		describe_identity(s, who, sizeof(who));
		finish(s, JOBSCTL_EXIT_ERROR, "the broker refused the request on %s: %s\n"
				"jobsctl: hint: jobsctl connected with %s. " OPERATORS_HINT, REQUEST_TOPIC,
				mosquitto_reason_string(reason), who);
	}else if(reason >= 0x80){
		finish(s, JOBSCTL_EXIT_ERROR, "the broker refused the request on %s: %s", REQUEST_TOPIC,
				mosquitto_reason_string(reason));
	}
}

/* One entry of a reply that is ours. */
static void take_response(struct mosquitto *mosq, struct session *s, cJSON *entry)
{
	const cJSON *error = cJSON_GetObjectItemCaseSensitive(entry, "error");
	cJSON *data = cJSON_GetObjectItemCaseSensitive(entry, "data");
	if(cJSON_IsString(error)){
		finish(s, JOBSCTL_EXIT_ERROR, "%s", error->valuestring);
	}else if(error){
		finish(s, JOBSCTL_EXIT_ERROR, "malformed reply: error is not a string");
	}else if(data){
		char err[300] = "";
		int more = pager_take(s->pager, cJSON_DetachItemViaPointer(entry, data), s->command, err, sizeof(err));
		if(more > 0) send_request(mosq, s);
		else if(more == 0) finish(s, JOBSCTL_EXIT_OK, NULL);
		else finish(s, JOBSCTL_EXIT_ERROR, "%s", err);
	}else{
		finish(s, JOBSCTL_EXIT_ERROR, "malformed reply: it has neither data nor error");
	}
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg,
		const mosquitto_property *props)
{
	(void)props;
	struct session *s = obj;
	if(s->done || !msg->topic || strcmp(msg->topic, RESPONSE_TOPIC) != 0 || !msg->payload || msg->payloadlen <= 0){
		return;
	}
	cJSON *body = cJSON_ParseWithLength(msg->payload, (size_t)msg->payloadlen);
	cJSON *responses = cJSON_GetObjectItemCaseSensitive(body, "responses");
	cJSON *entry;
	if(cJSON_IsArray(responses)){
		cJSON_ArrayForEach(entry, responses){
			const cJSON *corr = cJSON_GetObjectItemCaseSensitive(entry, "correlationData");
			if(cJSON_IsString(corr) && strcmp(corr->valuestring, s->correlation) == 0){
				take_response(mosq, s, entry);
				break;
			}
			/* The server could not read a request at all: not provably ours, but
			 * worth saying if no reply comes. */
			const cJSON *error = cJSON_GetObjectItemCaseSensitive(entry, "error");
			if(!corr && cJSON_IsString(error)){
				snprintf(s->stray, sizeof(s->stray), "%s", error->valuestring);
			}
		}
	}
	cJSON_Delete(body);
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc, const mosquitto_property *props)
{
	(void)mosq;
	(void)props;
	struct session *s = obj;
	if(s->connected){
		/* MQTT 5 DISCONNECT reason codes are >= 0x80; the rest are libmosquitto's. */
		finish(s, JOBSCTL_EXIT_CONNECT, "the broker closed the connection before replying%s%s",
				rc ? ": " : "", rc ? (rc >= 0x80 ? mosquitto_reason_string(rc) : mosquitto_strerror(rc)) : "");
	}
}

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* libmosquitto's error text for rc; `saved_errno` is errno right after the call. */
static const char *error_text(const struct session *s, int rc, int saved_errno)
{
	if(rc == MOSQ_ERR_ERRNO) return strerror(saved_errno);
	if(rc == MOSQ_ERR_TLS && s->lib_error[0]) return s->lib_error;
	if(rc == MOSQ_ERR_EAI) return "cannot resolve the host name";
	return mosquitto_strerror(rc);
}

/* Prints the result as the aws CLI does: nothing at all for an empty object; the
 * pages of a list command one by one in text. */
static int print_data(const cJSON *data, const struct pager *pager, enum output_format format)
{
	if(cJSON_IsObject(data) && !data->child) return JOBSCTL_EXIT_OK;
	if(format == OUTPUT_TEXT && pager && pager->pages){
		output_text_pages(stdout, data, pager->p->list_key, pager->page_items, pager->pages);
	}else if(format == OUTPUT_TEXT){
		output_text(stdout, data);
	}else{
		output_json(stdout, data, format);
	}
	if(fflush(stdout) != 0 || ferror(stdout)){
		fprintf(stderr, "jobsctl: cannot write the output: %s\n", strerror(errno));
		return JOBSCTL_EXIT_ERROR;
	}
	return JOBSCTL_EXIT_OK;
}

/* Connects, sends the command (once per page) and waits for the replies; prints the
 * result when `print` (else it stays in pager->result); returns the exit status. */
static int exchange(const struct options *o, cJSON *command, struct pager *pager, bool print)
{
	char default_id[32];
	const char *id = o->client_id;
	if(!id){
		snprintf(default_id, sizeof(default_id), "jobsctl-%ld", (long)getpid());
		id = default_id;
	}
	struct session s = {
		.o = o, .host = o->host ? o->host : JOBSCTL_DEFAULT_HOST, .client_id = id, .command = command,
		.pager = pager,
	};

	mosquitto_lib_init();
	errno = 0;
	struct mosquitto *mosq = mosquitto_new(id, true, &s);
	if(!mosq){
		int code = errno == ENOMEM ? JOBSCTL_EXIT_ERROR : JOBSCTL_EXIT_USAGE;
		fprintf(stderr, "jobsctl: %s\n", errno == ENOMEM ? "out of memory"
				: "invalid client id (it must be 1-65535 bytes of UTF-8)");
		mosquitto_lib_cleanup();
		return code;
	}
	mosquitto_log_callback_set(mosq, on_log);
	mosquitto_connect_v5_callback_set(mosq, on_connect);
	mosquitto_publish_v5_callback_set(mosq, on_publish);
	mosquitto_message_v5_callback_set(mosq, on_message);
	mosquitto_disconnect_v5_callback_set(mosq, on_disconnect);

	int code = client_configure(mosq, o);
	if(code){
		mosquitto_destroy(mosq);
		mosquitto_lib_cleanup();
		return code;
	}

	/* Until connected, the deadline of the connection; then that of each reply. */
	s.deadline = now_seconds() + o->timeout;
	/* Non-blocking: a host that does not answer cannot hold us past --timeout
	 * (only the name lookup blocks). */
	int rc = mosquitto_connect_async(mosq, s.host, o->port, KEEPALIVE);
	int saved_errno = errno;
	if(rc != MOSQ_ERR_SUCCESS){
		finish(&s, JOBSCTL_EXIT_CONNECT, "cannot connect to %s:%d: %s", s.host, o->port,
				error_text(&s, rc, saved_errno));
	}
	while(!s.done){
		double left = s.deadline - now_seconds();
		if(left <= 0){
			char who[600];
			describe_identity(&s, who, sizeof(who));
			if(!s.connected){
				finish(&s, JOBSCTL_EXIT_CONNECT, "cannot connect to %s:%d: no answer within %g s",
						s.host, o->port, o->timeout);
			}else if(s.stray[0]){
				finish(&s, JOBSCTL_EXIT_TIMEOUT, "no reply within %g s; the server answered a request "
						"it could not read: %s", o->timeout, s.stray);
			}else if(o->protocol != 5){
				/* MQTT 3.1.1 has no way to say that a publish was refused. */
				finish(&s, JOBSCTL_EXIT_TIMEOUT, "no reply within %g s from the jobs plugin on %s:%d\n"
						"jobsctl: hint: with MQTT 3.1.1 the broker drops a request it refuses without a "
						"word (-V mqttv5 would say so). jobsctl connected with %s. " OPERATORS_HINT
						" Or the plugin is not loaded.", o->timeout, s.host, o->port, who);
			}else{
				finish(&s, JOBSCTL_EXIT_TIMEOUT, "no reply within %g s from the jobs plugin on %s:%d "
						"(is it loaded, and may this client publish to %s?)", o->timeout, s.host, o->port,
						REQUEST_TOPIC);
			}
			break;
		}
		int ms = left >= 1.0 ? 1000 : (int)(left * 1000) + 1;
		rc = mosquitto_loop(mosq, ms, 1);
		saved_errno = errno;
		if(rc != MOSQ_ERR_SUCCESS && !s.done){
			finish(&s, JOBSCTL_EXIT_CONNECT, "%s %s:%d: %s",
					s.connected ? "lost the connection to" : "cannot connect to", s.host, o->port,
					error_text(&s, rc, saved_errno));
		}
	}
	if(s.connected) mosquitto_disconnect_v5(mosq, MQTT_RC_NORMAL_DISCONNECTION, NULL);
	mosquitto_destroy(mosq);
	mosquitto_lib_cleanup();

	if(s.exit_code == JOBSCTL_EXIT_OK){
		code = print ? print_data(pager->result, pager, o->output) : JOBSCTL_EXIT_OK;
	}else{
		code = s.exit_code;
		fprintf(stderr, "jobsctl: %s\n", s.message ? s.message : "out of memory");
	}
	free(s.message);
	return code;
}

/* A random hex string of 2 * CORRELATION_BYTES characters. */
static void make_correlation(char *out)
{
	unsigned char bytes[CORRELATION_BYTES];
	size_t got = 0;
	FILE *f = fopen("/dev/urandom", "rb");
	if(f){
		got = fread(bytes, 1, sizeof(bytes), f);
		fclose(f);
	}
	if(got != sizeof(bytes)){
		/* No /dev/urandom: time and pid, mixed (splitmix64). */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t x = (uint64_t)ts.tv_sec * 1000000007u ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
		for(size_t i = 0; i < sizeof(bytes); i++){
			x += 0x9E3779B97F4A7C15u;
			uint64_t z = x;
			z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
			z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
			bytes[i] = (unsigned char)(z ^ (z >> 31));
		}
	}
	for(size_t i = 0; i < sizeof(bytes); i++) snprintf(out + 2 * i, 3, "%02x", bytes[i]);
}

/* The exit statuses, for --help and the man page. */
static const struct {
	int code;
	const char *meaning;
} exit_statuses[] = {
	{ JOBSCTL_EXIT_OK, "success" },
	{ JOBSCTL_EXIT_ERROR, "the server answered with an error" },
	{ JOBSCTL_EXIT_CONNECT, "cannot connect or connection lost" },
	{ JOBSCTL_EXIT_TIMEOUT, "no reply within --timeout" },
	{ JOBSCTL_EXIT_FAILURES, "wait-job: the job ended with executions FAILED, REJECTED or TIMED_OUT" },
	{ JOBSCTL_EXIT_CANCELED, "wait-job: the job was canceled or is being deleted" },
	{ JOBSCTL_EXIT_WAITED, "wait-job: the job had not ended within --wait-timeout" },
	{ JOBSCTL_EXIT_USAGE, "usage error" },
};
#define NEXIT (sizeof(exit_statuses) / sizeof(*exit_statuses))

#define DEFAULTS_FILE_TEXT \
	"Defaults file, read before the command line: $JOBSCTL_CONFIG, else\n" \
	"$XDG_CONFIG_HOME/jobsctl/config, else ~/.config/jobsctl/config. One global option\n" \
	"per line with its value (-p 1884); lines starting with # are comments.\n"

static void print_global_help(FILE *f)
{
	fprintf(f,
		"usage: jobsctl [global options] COMMAND [command options] [global options]\n"
		"\n"
		"Operator CLI of mosquitto-jobs: sends a command to the jobs plugin's management\n"
		"API (" REQUEST_TOPIC ") and prints the reply's data as the aws CLI prints it.\n"
		"\n"
		"Global options:\n");
	options_print_help(f);
	fprintf(f, "  %-32s %s\n", "    --help", "show this help");
	fprintf(f, "  %-32s %s\n", "    --version", "print jobsctl's version");
	fprintf(f, "\n" DEFAULTS_FILE_TEXT "\nCommands (jobsctl COMMAND --help for each one's options):\n");
	commands_print_list(f);
	/* "Exit status: 0 success; 1 ...", wrapped before 80 columns */
	char text[1024];
	size_t len = (size_t)snprintf(text, sizeof(text), "Exit status:");
	for(size_t i = 0; i < NEXIT && len < sizeof(text); i++){
		len += (size_t)snprintf(text + len, sizeof(text) - len, " %d %s%s", exit_statuses[i].code,
				exit_statuses[i].meaning, i + 1 < NEXIT ? ";" : ".");
	}
	fprintf(f, "\n");
	int col = 0;
	for(char *save = NULL, *word = strtok_r(text, " ", &save); word; word = strtok_r(NULL, " ", &save)){
		int n = (int)strlen(word);
		if(col > 0 && col + 1 + n > 79){
			fprintf(f, "\n");
			col = 0;
		}
		col += fprintf(f, "%s%s", col ? " " : "", word);
	}
	fprintf(f, "\n");
}

/* The sections of jobsctl(1) made from the tables (man/jobsctl.1.in holds the rest):
 * the global options, every command with its options, the defaults file, the exit
 * statuses. */
static void print_man(FILE *f)
{
	fprintf(f, ".SH GLOBAL OPTIONS\nGiven before or after the command.\n");
	options_print_man(f);
	fprintf(f, ".TP\n\\fB\\-\\-help\\fR\nshow the help (after a command: the command's)\n"
			".TP\n\\fB\\-\\-version\\fR\nprint jobsctl's version\n");
	fprintf(f, ".SH COMMANDS\n");
	commands_print_man(f);
	fprintf(f, ".SH FILES\n");
	roff_text(f, DEFAULTS_FILE_TEXT);
	fprintf(f, ".SH EXIT STATUS\n");
	for(size_t i = 0; i < NEXIT; i++){
		fprintf(f, ".TP\n.B %d\n", exit_statuses[i].code);
		roff_text(f, exit_statuses[i].meaning);
		fprintf(f, "\n");
	}
}

/* wait-job: asks describeJob every interval until the job ends or the wait's
 * timeout passes (each request a connection of its own, as any command's). */
static int wait_job(const struct options *o, cJSON *command, const struct waiting *w)
{
	struct progress view;
	progress_init(&view, stdout, isatty(STDOUT_FILENO));
	double end = now_seconds() + (double)w->timeout;
	struct paging none = { 0 };
	for(;;){
		struct pager pager;
		int rc = pager_start(&pager, &none, command);
		if(rc == 0) rc = exchange(o, command, &pager, false);
		else fprintf(stderr, "jobsctl: out of memory\n");
		if(rc == 0) rc = progress_show(&view, pager.result);
		else progress_end(&view);
		pager_free(&pager);
		if(rc >= 0) return rc;
		double left = w->timeout ? end - now_seconds() : (double)w->interval;
		if(left <= 0){
			progress_end(&view);
			fprintf(stderr, "jobsctl: the job had not ended within %lld s\n", w->timeout);
			return JOBSCTL_EXIT_WAITED;
		}
		double pause = left < (double)w->interval ? left : (double)w->interval;
		struct timespec ts = { .tv_sec = (time_t)pause, .tv_nsec = (long)((pause - (double)(time_t)pause) * 1e9) };
		while(nanosleep(&ts, &ts) != 0 && errno == EINTR){
		}
	}
}

static int run(struct options *o, int argc, char **argv)
{
	int next = 1;
	if(argc == 2 && strcmp(argv[1], "--help-man") == 0){
		print_man(stdout);
		return JOBSCTL_EXIT_OK;
	}
	int rc = options_load_defaults(o);
	if(!rc) rc = options_parse_args(o, argc, argv, &next);
	if(rc == JOBSCTL_HELP){
		print_global_help(stdout);
		return JOBSCTL_EXIT_OK;
	}
	if(rc == JOBSCTL_VERSION){
		options_print_version(stdout);
		return JOBSCTL_EXIT_OK;
	}
	if(rc) return rc;
	if(next >= argc){
		fprintf(stderr, "jobsctl: no command given. Run 'jobsctl --help' for the list.\n");
		return JOBSCTL_EXIT_USAGE;
	}
	const char *name = argv[next];
	if(strcmp(name, "help") == 0){
		if(next + 1 >= argc){
			print_global_help(stdout);
			return JOBSCTL_EXIT_OK;
		}
		name = argv[next + 1];
	}
	const struct command *cmd = commands_find(name);
	if(!cmd){
		fprintf(stderr, "jobsctl: unknown command '%s'. Run 'jobsctl --help' for the list.\n", name);
		return JOBSCTL_EXIT_USAGE;
	}
	if(name != argv[next]){
		command_print_help(cmd, stdout);
		return JOBSCTL_EXIT_OK;
	}

	struct paging paging;
	struct waiting waiting;
	cJSON *command = NULL;
	rc = command_build(cmd, argc - next - 1, argv + next + 1, o, &paging, &waiting, &command);
	if(rc == JOBSCTL_HELP) return JOBSCTL_EXIT_OK;
	if(rc == JOBSCTL_VERSION){
		options_print_version(stdout);
		cJSON_Delete(command);
		free(paging.starting_token);
		return JOBSCTL_EXIT_OK;
	}
	if(!rc) rc = options_check(o);
	struct pager pager = { 0 };
	if(!rc && pager_start(&pager, &paging, command) != 0){
		fprintf(stderr, "jobsctl: out of memory\n");
		rc = JOBSCTL_EXIT_ERROR;
	}
	if(!rc && o->dry_run){
		/* The first request, as it would go. */
		char correlation[2 * CORRELATION_BYTES + 1];
		make_correlation(correlation);
		cJSON *request = cJSON_CreateObject();
		cJSON *list = cJSON_AddArrayToObject(request, "commands");
		if(list && cJSON_AddStringToObject(command, "correlationData", correlation)
				&& cJSON_AddItemReferenceToArray(list, command)){
			rc = print_data(request, NULL, o->output);
		}else{
			fprintf(stderr, "jobsctl: out of memory\n");
			rc = JOBSCTL_EXIT_ERROR;
		}
		cJSON_Delete(request);
	}else if(!rc && waiting.on){
		rc = wait_job(o, command, &waiting);
	}else if(!rc){
		rc = exchange(o, command, &pager, true);
	}
	pager_free(&pager);
	cJSON_Delete(command);
	free(paging.starting_token);
	return rc;
}

int main(int argc, char **argv)
{
	/* A closed pipe or socket is an error return, not a signal. */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	struct options o;
	options_init(&o);
	int rc = run(&o, argc, argv);
	options_free(&o);
	return rc;
}
