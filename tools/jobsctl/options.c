/* Global flags, as mosquitto_sub spells them, before or after the command (as the aws
 * CLI takes its own). The defaults file is read first, then the command line, so the
 * command line wins (and there, the last one given). The defaults file holds one flag per
 * line, with its value after whitespace (`-p 1884`); the value is the rest of the
 * line, so it may contain spaces; blank lines and lines starting with # are skipped. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "jobsctl.h"
#include "../man/roff.h"

#define DEFAULT_PORT 1883
#define DEFAULT_TIMEOUT 10.0
#define MAX_TIMEOUT 86400.0

const char *options_progname = "jobsctl";

enum gflag_id {
	G_HOST, G_PORT, G_USERNAME, G_PASSWORD, G_ID, G_CAFILE, G_CAPATH, G_CERT, G_KEY,
	G_INSECURE, G_PROTOCOL, G_TIMEOUT, G_OUTPUT, G_DRY_RUN,
};

static const struct gflag {
	enum gflag_id id;
	const char *short_name;  /* NULL: long form only */
	const char *long_name;
	const char *metavar;     /* NULL: takes no value */
	const char *help;
} gflags[] = {
	{ G_HOST, "-h", "--host", "HOST", "broker host (default " JOBSCTL_DEFAULT_HOST ")" },
	{ G_PORT, "-p", "--port", "PORT", "broker port (default 1883)" },
	{ G_USERNAME, "-u", "--username", "USER", "username" },
	{ G_PASSWORD, "-P", "--pw", "PASSWORD", "password" },
	{ G_ID, "-i", "--id", "ID", "client id (default jobsctl-<pid>): an operator's name with the client-id "
		"identity" },
	{ G_CAFILE, NULL, "--cafile", "FILE", "CA certificate(s), PEM: connect with TLS" },
	{ G_CAPATH, NULL, "--capath", "DIR", "directory of CA certificates: connect with TLS" },
	{ G_CERT, NULL, "--cert", "FILE", "client certificate, PEM (with --key)" },
	{ G_KEY, NULL, "--key", "FILE", "client private key, PEM (with --cert)" },
	{ G_INSECURE, NULL, "--insecure", NULL, "do not check that the server certificate names the host" },
	{ G_PROTOCOL, "-V", "--protocol-version", "VERSION", "mqttv5 (default), mqttv311, 5 or 311" },
	{ G_TIMEOUT, NULL, "--timeout", "SECONDS", "give up after this long without a reply (default 10)" },
	{ G_OUTPUT, NULL, "--output", "FORMAT", "json (default), text (as aws prints them) or compact (one line)" },
	{ G_DRY_RUN, NULL, "--dry-run", NULL, "print the request instead of sending it" },
};

#define NGFLAGS (sizeof(gflags) / sizeof(*gflags))

void options_init(struct options *o)
{
	memset(o, 0, sizeof(*o));
	o->port = DEFAULT_PORT;
	o->protocol = 5;
	o->timeout = DEFAULT_TIMEOUT;
	o->output = OUTPUT_JSON;
}

void options_free(struct options *o)
{
	char **strings[] = { &o->host, &o->username, &o->password, &o->client_id, &o->cafile,
		&o->capath, &o->cert, &o->key };
	for(size_t i = 0; i < sizeof(strings) / sizeof(*strings); i++){
		free(*strings[i]);
		*strings[i] = NULL;
	}
}

void options_print_help(FILE *f)
{
	for(size_t i = 0; i < NGFLAGS; i++){
		const struct gflag *g = &gflags[i];
		char left[64];
		snprintf(left, sizeof(left), "%s%s%s%s%s", g->short_name ? g->short_name : "",
				g->short_name ? ", " : "    ", g->long_name, g->metavar ? " " : "",
				g->metavar ? g->metavar : "");
		fprintf(f, "  %-32s %s\n", left, g->help);
	}
}

void options_print_man(FILE *f)
{
	for(size_t i = 0; i < NGFLAGS; i++){
		const struct gflag *g = &gflags[i];
		fprintf(f, ".TP\n");
		if(g->short_name){
			roff_bold(f, g->short_name);
			fprintf(f, ", ");
		}
		roff_bold(f, g->long_name);
		if(g->metavar){
			fprintf(f, " ");
			roff_italic(f, g->metavar);
		}
		fprintf(f, "\n");
		roff_text(f, g->help);
		fprintf(f, "\n");
	}
}

void options_print_version(FILE *f)
{
	fprintf(f, "%s (mosquitto-jobs) %s\n", options_progname, JOBS_VERSION);
}

__attribute__((format(printf, 2, 3)))
static int bad(const char *where, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: %s: ", options_progname, where);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return JOBSCTL_EXIT_USAGE;
}

static int set_string(char **slot, const char *value, const char *where, const struct gflag *g)
{
	char *copy = strdup(value);
	if(!copy) return bad(where, "%s: out of memory", g->long_name);
	free(*slot);
	*slot = copy;
	return 0;
}

/* Sets one flag; `value` is NULL exactly for flags without one. */
static int set_flag(struct options *o, const struct gflag *g, const char *value, const char *where)
{
	char *end;
	switch(g->id){
	case G_HOST:
		if(!value[0]) return bad(where, "%s needs a host name", g->long_name);
		return set_string(&o->host, value, where, g);
	case G_PORT: {
		errno = 0;
		long port = strtol(value, &end, 10);
		if(value[0] < '0' || value[0] > '9' || *end || errno || port < 1 || port > 65535){
			return bad(where, "%s: '%s' is not a port number (1-65535)", g->long_name, value);
		}
		o->port = (int)port;
		return 0;
	}
	case G_USERNAME: return set_string(&o->username, value, where, g);
	case G_PASSWORD: return set_string(&o->password, value, where, g);
	case G_ID:
		if(!value[0]) return bad(where, "%s: the client id must not be empty", g->long_name);
		return set_string(&o->client_id, value, where, g);
	case G_CAFILE: return set_string(&o->cafile, value, where, g);
	case G_CAPATH: return set_string(&o->capath, value, where, g);
	case G_CERT: return set_string(&o->cert, value, where, g);
	case G_KEY: return set_string(&o->key, value, where, g);
	case G_INSECURE:
		o->insecure = true;
		return 0;
	case G_DRY_RUN:
		o->dry_run = true;
		return 0;
	case G_PROTOCOL:
		if(strcmp(value, "mqttv5") == 0 || strcmp(value, "5") == 0){
			o->protocol = 5;
		}else if(strcmp(value, "mqttv311") == 0 || strcmp(value, "311") == 0){
			o->protocol = 311;
		}else{
			return bad(where, "%s: '%s' is not one of mqttv5, mqttv311, 5, 311", g->long_name, value);
		}
		return 0;
	case G_TIMEOUT: {
		errno = 0;
		double t = strtod(value, &end);
		/* The comparison is false for NaN too. */
		if(end == value || *end || errno || !(t > 0 && t <= MAX_TIMEOUT)){
			return bad(where, "%s: '%s' is not a number of seconds (more than 0, at most %.0f)",
					g->long_name, value, MAX_TIMEOUT);
		}
		o->timeout = t;
		return 0;
	}
	case G_OUTPUT:
		/* pretty: the name json had before it printed as aws does. */
		if(strcmp(value, "json") == 0 || strcmp(value, "pretty") == 0) o->output = OUTPUT_JSON;
		else if(strcmp(value, "compact") == 0) o->output = OUTPUT_COMPACT;
		else if(strcmp(value, "text") == 0) o->output = OUTPUT_TEXT;
		else return bad(where, "%s: '%s' is not json, text or compact", g->long_name, value);
		return 0;
	}
	return bad(where, "internal error: unhandled flag %s", g->long_name);
}

/* The flag named by word[0..len-1], or NULL. */
static const struct gflag *find_gflag(const char *word, size_t len)
{
	for(size_t i = 0; i < NGFLAGS; i++){
		const struct gflag *g = &gflags[i];
		if((strlen(g->long_name) == len && strncmp(g->long_name, word, len) == 0)
				|| (g->short_name && strlen(g->short_name) == len && strncmp(g->short_name, word, len) == 0)){
			return g;
		}
	}
	return NULL;
}

/* One word that should be a flag, in the form `--long=value` or not. On return
 * *g is the flag (or NULL), *inline_value points after '=' (or is NULL). */
static void split_flag(const char *word, const struct gflag **g, const char **inline_value)
{
	size_t len = strlen(word);
	*inline_value = NULL;
	if(strncmp(word, "--", 2) == 0){
		const char *eq = strchr(word, '=');
		if(eq){
			len = (size_t)(eq - word);
			*inline_value = eq + 1;
		}
	}
	*g = find_gflag(word, len);
}

bool options_is_global_flag(const char *word)
{
	const struct gflag *g;
	const char *value;
	split_flag(word, &g, &value);
	return g != NULL;
}

int options_parse_flag(struct options *o, int argc, char **argv, int *i)
{
	const char *word = argv[*i];
	const struct gflag *g;
	const char *value;
	if(strcmp(word, "--help") == 0) return JOBSCTL_HELP;
	if(strcmp(word, "--version") == 0) return JOBSCTL_VERSION;
	split_flag(word, &g, &value);
	if(!g) return JOBSCTL_NOT_GLOBAL;
	if(g->metavar && !value){
		if(*i + 1 >= argc){
			return bad("usage", "%s needs a value (%s)%s", word, g->metavar,
					g->id == G_HOST ? "; --help shows the help" : "");
		}
		value = argv[++*i];
	}else if(!g->metavar && value){
		return bad("usage", "%s takes no value", g->long_name);
	}
	int rc = set_flag(o, g, value, "usage");
	if(!rc) ++*i;
	return rc;
}

int options_parse_args(struct options *o, int argc, char **argv, int *next)
{
	int i = *next;
	while(i < argc && argv[i][0] == '-'){
		int rc = options_parse_flag(o, argc, argv, &i);
		if(rc == JOBSCTL_NOT_GLOBAL){
			return bad("usage", "unknown global option '%s' (see jobsctl --help)", argv[i]);
		}
		if(rc) return rc;
	}
	*next = i;
	return 0;
}

static int load_file(struct options *o, const char *path, bool must_exist)
{
	FILE *f = fopen(path, "r");
	if(!f){
		if(errno == ENOENT && !must_exist) return 0;
		fprintf(stderr, "%s: cannot read the defaults file %s: %s\n", options_progname, path, strerror(errno));
		return JOBSCTL_EXIT_USAGE;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned lineno = 0;
	int rc = 0;
	char where[600];
	while(rc == 0 && (n = getline(&line, &cap, f)) >= 0){
		lineno++;
		snprintf(where, sizeof(where), "%s:%u", path, lineno);
		/* getline keeps NUL bytes; the line ends at the first one. */
		char *s = line;
		char *e = s + strlen(s);
		while(e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t')) *--e = '\0';
		while(*s == ' ' || *s == '\t') s++;
		if(!*s || *s == '#') continue;

		char *flag = s;
		while(*s && *s != ' ' && *s != '\t') s++;
		if(*s){
			*s++ = '\0';
			while(*s == ' ' || *s == '\t') s++;
		}
		const struct gflag *g;
		const char *value;
		split_flag(flag, &g, &value);
		if(!g){
			rc = bad(where, "unknown option '%s'", flag);
		}else if(value && *s){
			rc = bad(where, "%s: give the value once", g->long_name);
		}else{
			if(!value && *s) value = s;
			if(g->metavar && !value) rc = bad(where, "%s needs a value (%s)", flag, g->metavar);
			else if(!g->metavar && value) rc = bad(where, "%s takes no value", g->long_name);
			else rc = set_flag(o, g, value, where);
		}
	}
	if(rc == 0 && ferror(f)){
		fprintf(stderr, "%s: cannot read the defaults file %s: %s\n", options_progname, path, strerror(errno));
		rc = JOBSCTL_EXIT_USAGE;
	}
	free(line);
	fclose(f);
	return rc;
}

int options_load_defaults(struct options *o)
{
	char path[4096];
	const char *env = getenv("JOBSCTL_CONFIG");
	if(env){
		/* Set but empty: no defaults file at all. */
		return env[0] ? load_file(o, env, true) : 0;
	}
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	int len;
	if(xdg && xdg[0]) len = snprintf(path, sizeof(path), "%s/jobsctl/config", xdg);
	else if(home && home[0]) len = snprintf(path, sizeof(path), "%s/.config/jobsctl/config", home);
	else return 0;
	if(len < 0 || (size_t)len >= sizeof(path)){
		fprintf(stderr, "%s: the defaults file's path is too long\n", options_progname);
		return JOBSCTL_EXIT_USAGE;
	}
	return load_file(o, path, false);
}

static int check_readable(const char *flag, const char *path, bool directory)
{
	struct stat st;
	if(stat(path, &st) != 0){
		return bad("usage", "%s %s: %s", flag, path, strerror(errno));
	}
	if(directory ? !S_ISDIR(st.st_mode) : S_ISDIR(st.st_mode)){
		return bad("usage", "%s %s: %s", flag, path, directory ? "not a directory" : "is a directory");
	}
	if(!directory){
		FILE *f = fopen(path, "r");
		if(!f) return bad("usage", "%s %s: %s", flag, path, strerror(errno));
		fclose(f);
	}
	return 0;
}

int options_check(const struct options *o)
{
	if((o->cert != NULL) != (o->key != NULL)) return bad("usage", "--cert and --key go together");
	if(o->cert && !o->cafile && !o->capath) return bad("usage", "--cert and --key need --cafile or --capath");
	if(o->password && !o->username && o->protocol != 5){
		return bad("usage", "--pw needs --username with MQTT 3.1.1");
	}
	int rc = 0;
	if(!rc && o->cafile) rc = check_readable("--cafile", o->cafile, false);
	if(!rc && o->capath) rc = check_readable("--capath", o->capath, true);
	if(!rc && o->cert) rc = check_readable("--cert", o->cert, false);
	if(!rc && o->key) rc = check_readable("--key", o->key, false);
	return rc;
}
