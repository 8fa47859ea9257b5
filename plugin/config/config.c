/* Plugin options: the table of every option, the loop that parses them from it, and
 * the parsers of the options that are no plain value. */
#include "config/config.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/names.h"

/* ---- checks of text values ---- */

static bool all_digits(const char *s, size_t len)
{
	if(strlen(s) != len) return false;
	for(size_t i = 0; i < len; i++){
		if(s[i] < '0' || s[i] > '9') return false;
	}
	return true;
}

static bool account_id_ok(const char *s)
{
	return all_digits(s, 12);
}

static bool region_ok(const char *s)
{
	if(*s == '\0' || strlen(s) > 32) return false;
	for(; *s; s++){
		if(!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-')) return false;
	}
	return true;
}

static bool identity_ok(const char *s)
{
	return names_identity_valid(s);
}

/* ---- the parsers of the options that are no plain value ---- */

static int oom(char *err, size_t errlen)
{
	snprintf(err, errlen, "out of memory");
	return -1;
}

static int set_string(char **dst, const char *value)
{
	assert(dst && value);
	char *copy = strdup(value);
	if(!copy) return -1;
	free(*dst);
	*dst = copy;
	return 0;
}

static bool parse_int(const char *s, long min, long max, int *out)
{
	char *end;
	if(*s == '\0') return false;
	long v = strtol(s, &end, 10);
	if(*end != '\0' || v < min || v > max) return false;
	*out = (int)v;
	return true;
}

/* ADDRESS:PORT, [IPv6]:PORT, or PORT alone for 127.0.0.1 */
static int parse_http_listen(struct jobs_config *cfg, const char *key, const char *value, char *err, size_t errlen)
{
	(void)key;
	const char *colon = strrchr(value, ':');
	char address[256];
	const char *port = colon ? colon + 1 : value;
	if(!colon) snprintf(address, sizeof(address), "127.0.0.1");
	else if(value[0] == '[' && colon > value + 1 && colon[-1] == ']') snprintf(address, sizeof(address), "%.*s", (int)(colon - value - 2), value + 1);
	else snprintf(address, sizeof(address), "%.*s", (int)(colon - value), value);
	if(!parse_int(port, 1, 65535, &cfg->http_port) || !address[0]){
		snprintf(err, errlen, "plugin_opt_http_listen must be ADDRESS:PORT, [IPv6]:PORT or PORT, not '%s'", value);
		return -1;
	}
	return set_string(&cfg->http_address, address) ? oom(err, errlen) : 0;
}

static void free_list(char **list)
{
	for(char **p = list; p && *p; p++) free(*p);
	free(list);
}

/* Splits a space- or comma-separated list into a NULL-terminated array. */
static char **split(const char *value, size_t *count)
{
	char *copy = strdup(value);
	if(!copy) return NULL;
	size_t n = 0, cap = 4;
	char **list = calloc(cap + 1, sizeof(*list));
	char *save = NULL;
	for(char *tok = strtok_r(copy, " ,\t", &save); list && tok; tok = strtok_r(NULL, " ,\t", &save)){
		if(n == cap){
			char **grown = realloc(list, (cap * 2 + 1) * sizeof(*list));
			if(!grown){
				free_list(list);
				list = NULL;
				break;
			}
			list = grown;
			cap *= 2;
		}
		list[n] = strdup(tok);
		list[++n] = NULL;
	}
	free(copy);
	if(count) *count = n;
	return list;
}

static int parse_operators(struct jobs_config *cfg, const char *key, const char *value, char *err, size_t errlen)
{
	(void)key;
	size_t n;
	char **list = split(value, &n);
	if(!list || n == 0){
		free_list(list);
		snprintf(err, errlen, "plugin_opt_operators needs identities, or *");
		return -1;
	}
	bool any = false;
	for(size_t i = 0; i < n; i++){
		if(strcmp(list[i], "*") == 0) any = true;
		else if(!names_identity_valid(list[i])){
			snprintf(err, errlen, "plugin_opt_operators: identity '%s' may not hold '+', '#' or '/'", list[i]);
			free_list(list);
			return -1;
		}
	}
	/* a later line replaces an earlier one whole, its * included */
	free_list(cfg->access.operators);
	cfg->access.operators = list;
	cfg->access.any_operator = any;
	return 0;
}

static int parse_grant(struct jobs_config *cfg, const char *key, const char *value, char *err, size_t errlen)
{
	struct access_config *ac = &cfg->access;
	const char *identity = key + strlen("grant_");
	size_t n;
	if(!names_identity_valid(identity)){
		snprintf(err, errlen, "plugin_opt_%s: an identity may not be empty or hold '+', '#' or '/'", key);
		return -1;
	}
	char **things = split(value, &n);
	if(!things || n == 0){
		free_list(things);
		snprintf(err, errlen, "plugin_opt_%s needs thing names, or *", key);
		return -1;
	}
	bool all = false;
	for(size_t i = 0; i < n; i++){
		if(strcmp(things[i], "*") == 0) all = true;
		else if(!names_thing_valid(things[i], strlen(things[i]))){
			snprintf(err, errlen, "plugin_opt_%s: '%s' is not a thing name", key, things[i]);
			free_list(things);
			return -1;
		}
	}
	struct access_grant *grown = realloc(ac->grants, (ac->grant_count + 1) * sizeof(*grown));
	char *id = strdup(identity);
	if(!grown || !id){
		free(id);
		if(grown) ac->grants = grown;
		free_list(things);
		return oom(err, errlen);
	}
	ac->grants = grown;
	ac->grants[ac->grant_count++] = (struct access_grant){ .identity = id, .things = all ? NULL : things, .all = all };
	if(all) free_list(things);
	return 0;
}

/* plugin_opt_store: `sqlite` (the file of db_path), or a PostgreSQL connection URI. */
static int parse_store(struct jobs_config *cfg, const char *key, const char *value, char *err, size_t errlen)
{
	(void)key;
	if(strcmp(value, "sqlite") == 0){
		free(cfg->store_uri);
		cfg->store_uri = NULL;
		return 0;
	}
	if(strncmp(value, "postgresql://", 13) != 0 && strncmp(value, "postgres://", 11) != 0){
		snprintf(err, errlen, "plugin_opt_store: '%.100s' is neither sqlite nor a PostgreSQL connection URI "
				"(postgresql://user@host:port/database)", value);
		return -1;
	}
	char *copy = strdup(value);
	if(!copy){
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	free(cfg->store_uri);
	cfg->store_uri = copy;
	return 0;
}

/* ---- the table ---- */

#define FIELD(f) .offset = offsetof(struct jobs_config, f)
#define STR_(x) #x
#define STR(x) STR_(x)

static const char *const sync_choices[] = { "normal", "full", NULL };
static const char *const identity_choices[] = { "clientid", "username", "cert_cn", NULL };
static const char *const on_off[] = { "on", "off", NULL };
static const char *const allow_defer[] = { "allow", "defer", NULL };
static const char *const broker_operators[] = { "broker", "operators", NULL };
static const char *const job_events_choices[] = { "off", "job", "job_execution", "all", NULL };

static const struct config_option options[] = {
	{ .name = "db_path", .type = CONFIG_TEXT, FIELD(db_path), .nonempty = true,
		.def = JOBS_DEFAULT_DB_PATH, .values = "a file path",
		.def_note = "in Mosquitto's working directory (`/` for a service started by systemd, so always set it there)",
		.help = "The SQLite database. Created with its schema when missing. It must be writable, along "
			"with its folder (SQLite's WAL puts `-wal` and `-shm` files beside it), by the user "
			"Mosquitto runs as: Mosquitto started as root drops to the `mosquitto` user before it "
			"loads plugins. Start-up fails otherwise, with a line that says which directory or file "
			"is the trouble, why, as which user, and what to do, for example `jobs: cannot use "
			"database /var/lib/jobs/jobs.db (plugin_opt_db_path): directory /var/lib/jobs: No such "
			"file or directory (the broker runs as mosquitto); create the directory and chown it to "
			"mosquitto`." },
	{ .name = "store", .type = CONFIG_PARSER, .parse = parse_store,
		.values = "`sqlite`, or a PostgreSQL connection URI", .def_note = "`sqlite`",
		.help = "Where jobs are kept. `sqlite`: the file `plugin_opt_db_path`, for one broker. A "
			"connection URI such as `postgresql://jobs@db.example:5432/jobs` (libpq's syntax: "
			"`?sslmode=require`, a password file and the `PG*` environment variables work as for "
			"`psql`): a PostgreSQL database that several brokers share, so devices may connect to any "
			"of them ([scale-out.md](scale-out.md)). The database must exist; the plugin creates its "
			"tables. Each broker keeps a copy of the data in memory for reads, and the broker's thread "
			"never waits on the network: a pass's changes go to PostgreSQL in one round trip, and "
			"replies wait for that commit." },
	{ .name = "store_timeout_ms", .type = CONFIG_INT, FIELD(store_timeout_ms), .min = 100, .max = 600000, .def = "5000",
		.help = "With PostgreSQL: the longest a request waits for its commit, or the plugin for a lost "
			"connection to come back, before the request is answered `InternalError` "
			"(`InternalFailureException`, HTTP 503). Also how long start-up waits for the database." },
	{ .name = "loop_wake", .type = CONFIG_SWITCH, FIELD(loop_wake), .choices = on_off, .def = "on",
		.help = "With PostgreSQL: `on` wakes the broker's loop as soon as PostgreSQL answers, so a reply "
			"that waits for a commit goes out at once. Mosquitto 2.0 sleeps up to 100 ms between "
			"passes when it has nothing to do, and a plugin cannot give it a socket to watch; so a "
			"thread of the plugin keeps an MQTT connection of its own to one of the broker's listeners "
			"(the first that takes an anonymous connection, client id `mosquitto-jobs-wake-<pid>`) and "
			"sends a PINGREQ when an answer arrives. `off`, or no listener taking it (logged): replies "
			"go out at the broker's next pass, within 100 ms." },
	{ .name = "synchronous", .type = CONFIG_CHOICE, FIELD(synchronous), .choices = sync_choices, .def = "normal",
		.help = "SQLite's `synchronous` in WAL mode. `normal`: an accepted reply survives a broker crash, "
			"but the last commits may be lost in a power cut or OS crash. `full`: each commit waits "
			"for the disk (fsync), so an accepted reply survives a power cut, and the broker's thread "
			"waits for each; all requests of one pass of the broker's loop share a commit, so the "
			"plugin answered 12,900 updates/s against 17,000 with `normal`, on a disk that takes "
			"about 5,000 single-update commits a second (docs/performance.md)." },
	{ .name = "max_pending", .type = CONFIG_INT, FIELD(max_pending), .min = 1, .max = JOBS_MAX_PENDING_LIMIT, .def = "10",
		.help = "The most executions listed in a `get/accepted` reply and a `notify` message (IN_PROGRESS "
			"first, then QUEUED), as AWS caps them at 10." },
	{ .name = "time_scale", .type = CONFIG_NUMBER, FIELD(time_scale), .min = 0.001, .max = 100000, .def = "1",
		.help = "Job time runs this many times faster than wall time: timeouts "
			"(`inProgressTimeoutInMinutes`, `stepTimeoutInMinutes`) and rollout minutes. With `60`, a "
			"5-minute step timeout expires after 5 seconds, so device agents' timeout handling can be "
			"tested in CI. `approximateSecondsBeforeTimedOut` counts job seconds. Absolute times "
			"(`schedulingConfig`) and timestamps are not scaled." },
	{ .name = "db_max_mb", .type = CONFIG_INT, FIELD(db_max_mb), .min = 0, .max = 1000000, .def = "0",
		.def_note = "(no cap)",
		.help = "Caps the database file at this many MB. A write that would grow it further fails like a "
			"full disk: the request gets `InternalError` (`InternalFailureException` for the "
			"management API) and changes nothing; reads go on." },
	{ .name = "rate_limit", .type = CONFIG_INT, FIELD(rate_limit), .min = 0, .max = 1000000, .def = "0",
		.def_note = "(none)",
		.help = "Device requests allowed per second per thing, in bursts of as many. A request over the "
			"limit gets `RequestThrottled` (clients retry it) and is not logged at the information "
			"level. Memory is fixed: a table of 4096 buckets, a thing's bucket the one its name "
			"hashes to. Things whose names collide share a bucket and so the limit, which is then "
			"stricter for them, never looser." },
	{ .name = "sys_interval", .type = CONFIG_INT, FIELD(sys_interval), .min = 0, .max = 86400, .def = "10",
		.def_note = "(as Mosquitto's `sys_interval`)",
		.help = "Seconds between two publications of the plugin's `$SYS/broker/jobs/...` topics, "
			"retained as Mosquitto's own `$SYS` topics are: jobs and executions by status, device "
			"requests in the last minute ([management.md](management.md#sys-topics)). `0`: none." },
	{ .name = "test_controls", .type = CONFIG_SWITCH, FIELD(test_controls), .choices = on_off, .def = "off",
		.help = "`on`: operators get the test-control commands of the management API "
			"([management.md](management.md#test-controls)): faults injected into a thing's requests, "
			"job time moved forward, `notify-next` resent, a thing's client disconnected, transcripts "
			"of a thing's messages. For brokers that test device agents only; the broker logs a "
			"warning at start-up. `off`: those commands are refused and none of it is reachable." },
	{ .name = "identity", .type = CONFIG_CHOICE, FIELD(access.identity), .choices = identity_choices,
		.rule = "clientid, username or cert_cn", .def = "clientid",
		.help = "What names a connection's thing: its client id (as AWS IoT's usual policy), its "
			"username, or the common name of its TLS client certificate (listeners with "
			"`require_certificate true`). See [security.md](security.md)." },
	{ .name = "isolation", .type = CONFIG_SWITCH, FIELD(access.isolation), .choices = on_off, .def = "on",
		.help = "`on`: an identity may publish, receive and subscribe under "
			"`$aws/things/<thing>/jobs/...` only for its own thing and those granted to it. `off`: "
			"the jobs topics are treated like any other topic." },
	{ .name = "grant_<identity>", .type = CONFIG_PARSER, .parse = parse_grant, .values = "thing names, or `*`",
		.help = "Lets `<identity>` act for these things too (a gateway), or for every thing (`*`: a test "
			"harness, a fleet monitor; also needed to subscribe with a wildcard where the thing name "
			"goes). One line per identity." },
	{ .name = "operators", .type = CONFIG_PARSER, .parse = parse_operators, .values = "identities, or `*`",
		.def_note = "nobody",
		.help = "Who may use the management API (`$CONTROL/jobs/v1`, and subscribe to its response "
			"topic). A later line replaces an earlier one, `*` included." },
	{ .name = "control_access", .type = CONFIG_SWITCH, FIELD(access.control_by_broker), .choices = broker_operators,
		.def = "operators",
		.help = "`broker`: the plugin leaves `$CONTROL/jobs/...` to the broker's own ACL (an `acl_file`, "
			"the dynamic-security plugin), ignoring `plugin_opt_operators`." },
	{ .name = "other_topics", .type = CONFIG_SWITCH, FIELD(access.allow_other_topics), .choices = allow_defer,
		.def = "defer",
		.help = "Topics outside the jobs namespace: left to the rest of the broker's ACL, or allowed. "
			"Mosquitto denies what every ACL source defers, so a broker with no `acl_file` and no "
			"other ACL plugin needs `allow`. The plugin cannot see the broker's other ACL sources, so "
			"with `defer` it logs a warning at start-up that says so and names both fixes." },
	{ .name = "region", .type = CONFIG_TEXT, FIELD(region), .valid = region_ok,
		.rule = "lower-case letters, digits and '-'", .def = "us-east-1", .values = "lower-case letters, digits, `-`",
		.help = "The region in the ARNs the management API returns (`jobArn`, `thingArn`)." },
	{ .name = "account_id", .type = CONFIG_TEXT, FIELD(account_id), .valid = account_id_ok, .rule = "12 digits",
		.def = "000000000000", .values = "12 digits",
		.help = "The account in those ARNs." },
	{ .name = "http_listen", .type = CONFIG_PARSER, .parse = parse_http_listen,
		.values = "`ADDRESS:PORT`, `[IPv6]:PORT`, or `PORT` (on 127.0.0.1)", .def_note = "no HTTP",
		.help = "Serves the AWS-compatible HTTP API ([http-api.md](http-api.md)) there." },
	{ .name = "http_keys_file", .type = CONFIG_TEXT, FIELD(http_keys_file), .values = "a file path",
		.def_note = "loopback clients only, unsigned",
		.help = "The access keys requests must be signed with (AWS Signature V4), each with the identity "
			"it acts as: `ACCESS_KEY_ID SECRET_ACCESS_KEY IDENTITY` lines, or `~/.aws/credentials` "
			"profiles with `mosquitto_jobs_identity = IDENTITY`. A key without an identity stops "
			"start-up." },
	{ .name = "http_unsigned_identity", .type = CONFIG_TEXT, FIELD(http_unsigned_identity), .valid = identity_ok,
		.rule = "an identity (an operator or a thing), not empty and without '+', '#' or '/'",
		.values = "an identity", .def_note = "unsigned requests may do nothing",
		.help = "Without a keys file: the identity loopback requests act as (an operator to run `aws "
			"iot`, a thing for its `aws iot-jobs-data`). Not allowed with a keys file." },
	{ .name = "metrics_token_file", .type = CONFIG_TEXT, FIELD(metrics_token_file), .values = "a file path",
		.def_note = "scrapes acting as an operator only",
		.help = "A file holding a bearer token: `GET /metrics` on the HTTP listener with `Authorization: "
			"Bearer TOKEN` is answered without a signature, as Prometheus's `authorization: "
			"credentials_file` sends it ([metrics.md](metrics.md)). The file's first line is the token; "
			"an empty one stops start-up." },
	{ .name = "http_tls_cert", .type = CONFIG_TEXT, FIELD(http_tls_cert), .values = "a PEM file path",
		.def_note = "plain HTTP",
		.help = "HTTPS, with both." },
	{ .name = "http_tls_key", .type = CONFIG_TEXT, FIELD(http_tls_key), .values = "a PEM file path",
		.def_note = "plain HTTP",
		.help = "HTTPS, with both." },
	{ .name = "http_request_timeout", .type = CONFIG_INT, FIELD(http_request_timeout), .min = 1, .max = 3600,
		.def = "10", .unit = "seconds",
		.help = "How long an HTTP request may take to arrive whole; then its connection is closed "
			"([http-api.md](http-api.md), \"Connections and slow clients\")." },
	{ .name = "http_max_connections", .type = CONFIG_INT, FIELD(http_max_connections), .min = 1, .max = 1000000,
		.def = "1000",
		.help = "Open HTTP connections; past it a new one closes the oldest unfinished request's." },
	{ .name = "http_max_connections_per_address", .type = CONFIG_INT, FIELD(http_max_connections_per_address),
		.min = 1, .max = 1000000, .def = "128",
		.help = "HTTP connections from one client address." },
	{ .name = "require_registered_things", .type = CONFIG_SWITCH, FIELD(require_registered_things),
		.choices = on_off, .def = "off",
		.help = "`on`: as in AWS IoT, a thing must be registered (`createThing`) before a job targets it "
			"(`createJob` answers `ResourceNotFoundException` otherwise), a thing group takes it "
			"(`addThingToThingGroup`) or `listThingGroupsForThing` names it. `off`: any valid thing "
			"name may be a target or a member, registered or not ([management.md](management.md#things))." },
	{ .name = "job_events", .type = CONFIG_CHOICE, FIELD(job_events), .choices = job_events_choices,
		.rule = "off, job, job_execution or all", .def = "off",
		.help = "The jobs events (`$aws/events/job/...`, `$aws/events/jobExecution/...`, "
			"[management.md](management.md#jobs-events)) switched on at the broker's first start on "
			"its store: `job`, `job_execution` or `all` enable the event configurations `JOB`, "
			"`JOB_EXECUTION` or both, as `updateEventConfigurations` would. Read once: the store keeps "
			"the configurations from then on, and only `updateEventConfigurations` (`aws iot "
			"update-event-configurations`, `jobsctl update-event-configurations`) changes them." },
};

#define OPTION_COUNT (sizeof(options) / sizeof(options[0]))

const struct config_option *config_options(size_t *count)
{
	assert(count);
	*count = OPTION_COUNT;
	return options;
}

/* The row for key: its name, or its family's name up to '<'. */
static const struct config_option *option_of(const char *key)
{
	for(size_t i = 0; i < OPTION_COUNT; i++){
		const char *family = strchr(options[i].name, '<');
		if(family ? strncmp(key, options[i].name, (size_t)(family - options[i].name)) == 0
				: strcmp(key, options[i].name) == 0) return &options[i];
	}
	return NULL;
}

/* What a refused value must be: "'a' or 'b'", "a whole number from 1 to 100"... */
static void rule_of(const struct config_option *opt, char *out, size_t len)
{
	if(opt->rule){
		snprintf(out, len, "%s", opt->rule);
		return;
	}
	switch(opt->type){
	case CONFIG_INT:
		snprintf(out, len, "a whole number from %ld to %ld", (long)opt->min, (long)opt->max);
		return;
	case CONFIG_NUMBER:
		snprintf(out, len, "a number from %g to %g", opt->min, opt->max);
		return;
	case CONFIG_CHOICE:
	case CONFIG_SWITCH:
		assert(opt->choices[0] && opt->choices[1] && !opt->choices[2]);  /* more need a rule */
		snprintf(out, len, "'%s' or '%s'", opt->choices[0], opt->choices[1]);
		return;
	case CONFIG_TEXT:
	case CONFIG_PARSER:
		break;
	}
	snprintf(out, len, "something else");
}

static int refuse(const struct config_option *opt, const char *value, char *err, size_t errlen)
{
	char rule[160];
	rule_of(opt, rule, sizeof(rule));
	snprintf(err, errlen, "plugin_opt_%s must be %s, not '%s'", opt->name, rule, value);
	return -1;
}

/* Sets the option of one row from its value. */
static int apply(struct jobs_config *cfg, const struct config_option *opt, const char *key, const char *value,
		char *err, size_t errlen)
{
	char *field = (char *)cfg + opt->offset;
	switch(opt->type){
	case CONFIG_TEXT:
		if(opt->nonempty && *value == '\0'){
			snprintf(err, errlen, "plugin_opt_%s must not be empty", opt->name);
			return -1;
		}
		if(opt->valid && !opt->valid(value)) return refuse(opt, value, err, errlen);
		return set_string((char **)(void *)field, value) ? oom(err, errlen) : 0;
	case CONFIG_INT:
		return parse_int(value, (long)opt->min, (long)opt->max, (int *)(void *)field) ? 0
			: refuse(opt, value, err, errlen);
	case CONFIG_NUMBER:{
		char *end;
		double v = strtod(value, &end);
		if(*value == '\0' || *end != '\0' || !(v >= opt->min && v <= opt->max)) return refuse(opt, value, err, errlen);
		*(double *)(void *)field = v;
		return 0;
	}
	case CONFIG_CHOICE:
	case CONFIG_SWITCH:
		for(size_t i = 0; opt->choices[i]; i++){
			if(strcmp(value, opt->choices[i]) != 0) continue;
			if(opt->type == CONFIG_SWITCH) *(bool *)(void *)field = i == 0;
			else{
				/* every enum of the table is int-sized, counting from 0 */
				int index = (int)i;
				memcpy(field, &index, sizeof(index));
			}
			return 0;
		}
		return refuse(opt, value, err, errlen);
	case CONFIG_PARSER:
		return opt->parse(cfg, key, value, err, errlen);
	}
	return refuse(opt, value, err, errlen);
}

_Static_assert(sizeof(enum jobs_sync) == sizeof(int) && sizeof(enum identity_source) == sizeof(int)
		&& sizeof(enum jobs_events_option) == sizeof(int), "CONFIG_CHOICE stores an int");

int config_set(struct jobs_config *cfg, const char *key, const char *value, char *err, size_t errlen)
{
	assert(cfg && err && errlen > 0);
	if(!key || !value){
		snprintf(err, errlen, "option without a key or value");
		return -1;
	}
	const struct config_option *opt = option_of(key);
	if(!opt){
		snprintf(err, errlen, "unknown option plugin_opt_%s", key);
		return -1;
	}
	return apply(cfg, opt, key, value, err, errlen);
}

int config_parse(const struct jobs_option *opts, size_t count, struct jobs_config *cfg,
		char *err, size_t errlen)
{
	assert(cfg && err && errlen > 0 && (opts || count == 0));
	memset(cfg, 0, sizeof(*cfg));
	for(size_t i = 0; i < OPTION_COUNT; i++){
		if(!options[i].def) continue;
		int rc = apply(cfg, &options[i], options[i].name, options[i].def, err, errlen);
		/* the table's defaults are values it takes: only memory can fail */
		assert(rc == 0 || strcmp(err, "out of memory") == 0);
		if(rc){
			config_free(cfg);
			return -1;
		}
	}
	for(size_t i = 0; i < count; i++){
		if(config_set(cfg, opts[i].key, opts[i].value, err, errlen)){
			config_free(cfg);
			return -1;
		}
	}
	/* Options of the HTTP API without the API would be silently ignored. */
	const char *http_only = cfg->http_keys_file ? "http_keys_file" : cfg->http_tls_cert ? "http_tls_cert"
		: cfg->http_tls_key ? "http_tls_key" : cfg->metrics_token_file ? "metrics_token_file" : NULL;
	if(http_only && !cfg->http_address){
		snprintf(err, errlen, "plugin_opt_%s is set but plugin_opt_http_listen is not, so there is no HTTP API "
				"to use it: add plugin_opt_http_listen ADDRESS:PORT, or remove plugin_opt_%s", http_only, http_only);
		config_free(cfg);
		return -1;
	}
	if(cfg->http_keys_file && cfg->http_unsigned_identity){
		snprintf(err, errlen, "plugin_opt_http_unsigned_identity is for a listener without keys file: "
				"with plugin_opt_http_keys_file every request is signed and acts as its key's identity");
		config_free(cfg);
		return -1;
	}
	return 0;
}

static void access_config_free(struct access_config *ac)
{
	free_list(ac->operators);
	for(size_t i = 0; i < ac->grant_count; i++){
		free(ac->grants[i].identity);
		free_list(ac->grants[i].things);
	}
	free(ac->grants);
}

void config_free(struct jobs_config *cfg)
{
	assert(cfg);
	free(cfg->db_path);
	free(cfg->store_uri);
	free(cfg->region);
	free(cfg->account_id);
	access_config_free(&cfg->access);
	free(cfg->http_address);
	free(cfg->http_keys_file);
	free(cfg->metrics_token_file);
	free(cfg->http_unsigned_identity);
	free(cfg->http_tls_cert);
	free(cfg->http_tls_key);
	memset(cfg, 0, sizeof(*cfg));
}

/* ---- the document's columns ---- */

int config_option_doc(const struct config_option *opt, char *values, size_t values_len, char *def, size_t def_len)
{
	assert(opt && values && def);
	int n;
	if(opt->values) n = snprintf(values, values_len, "%s", opt->values);
	else if(opt->type == CONFIG_INT){
		n = snprintf(values, values_len, "%ld to %ld%s%s", (long)opt->min, (long)opt->max,
				opt->unit ? " " : "", opt->unit ? opt->unit : "");
	}else if(opt->type == CONFIG_CHOICE || opt->type == CONFIG_SWITCH){
		n = 0;
		for(size_t i = 0; opt->choices[i] && n >= 0 && (size_t)n < values_len; i++){
			n += snprintf(values + n, values_len - (size_t)n, "%s`%s`", i ? ", " : "", opt->choices[i]);
		}
	}else{
		char rule[160];
		rule_of(opt, rule, sizeof(rule));
		n = snprintf(values, values_len, "%s", rule);
	}
	if(n < 0 || (size_t)n >= values_len) return -1;
	if(opt->def) n = snprintf(def, def_len, "`%s`%s%s", opt->def, opt->def_note ? " " : "", opt->def_note ? opt->def_note : "");
	else n = snprintf(def, def_len, "none%s%s", opt->def_note ? ": " : "", opt->def_note ? opt->def_note : "");
	return n < 0 || (size_t)n >= def_len ? -1 : 0;
}
