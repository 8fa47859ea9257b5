/* jobsctl: the operator CLI of mosquitto-jobs. Sends one management command to the
 * jobs plugin on $CONTROL/jobs/v1 and prints the reply (docs/management.md).
 *
 * main.c       connection, requests and replies
 * options.c    global flags: defaults file, then the command line
 * commands.c   the subcommand table: flags to JSON fields
 * shorthand.c  the aws CLI's shorthand syntax for structures (key=value,...)
 * paging.c     following nextToken through the pages of a list-* command
 * progress.c   wait-job: a job's rollout drawn from describeJob, and whether it ended
 * output.c     printing JSON as the aws CLI does
 * client.c     the MQTT client's set-up from the options (shared with jobs-agent-check) */
#ifndef JOBSCTL_H
#define JOBSCTL_H

#include <stdbool.h>
#include <stdio.h>

#include <cjson/cJSON.h>

/* Exit statuses. */
enum {
	JOBSCTL_EXIT_OK = 0,
	JOBSCTL_EXIT_ERROR = 1,     /* the server answered with an error (or a bad reply) */
	JOBSCTL_EXIT_CONNECT = 2,   /* cannot connect, or the connection was lost */
	JOBSCTL_EXIT_TIMEOUT = 3,   /* connected, but no reply within --timeout */
	/* wait-job only: how the job ended (0: it completed with no failed execution) */
	JOBSCTL_EXIT_FAILURES = 4,  /* it ended with executions FAILED, REJECTED or TIMED_OUT */
	JOBSCTL_EXIT_CANCELED = 5,  /* it was canceled (or is being deleted) */
	JOBSCTL_EXIT_WAITED = 6,    /* it had not ended when --wait-timeout passed */
	JOBSCTL_EXIT_USAGE = 64,    /* bad command line, defaults file or input file */
};

/* Returned by the parsers when help was asked for and printed: exit 0. */
#define JOBSCTL_HELP (-1)
/* Returned by options_parse_flag for a word that is no global flag. */
#define JOBSCTL_NOT_GLOBAL (-2)
/* Returned by the parsers for `--version` (nothing printed yet): print it, exit 0. */
#define JOBSCTL_VERSION (-3)

#define JOBSCTL_DEFAULT_HOST "localhost"

enum output_format {
	OUTPUT_JSON,     /* indented as the aws CLI prints it (json.dump indent=4) */
	OUTPUT_COMPACT,  /* one line */
	OUTPUT_TEXT,     /* tab-separated, as `aws --output text` */
};

struct options {
	char *host;        /* NULL: JOBSCTL_DEFAULT_HOST */
	int port;
	char *username;
	char *password;
	char *client_id;   /* NULL: jobsctl-<pid> */
	char *cafile;
	char *capath;
	char *cert;
	char *key;
	bool insecure;
	int protocol;      /* 5 or 311 */
	double timeout;    /* seconds */
	enum output_format output;
	bool dry_run;      /* print the request, send nothing */
};

/* How a list-* command pages, with the aws CLI's options. */
struct paging {
	const char *list_key;        /* the array each page carries; NULL: not a list command */
	bool paginate;               /* follow nextToken to the end (--no-paginate: one request) */
	long long max_items;         /* --max-items: at most this many items (0: all) */
	char *starting_token;        /* --starting-token: the NextToken a --max-items run printed
	                              * (owned: free it) */
};

/* wait-job's own options (never sent): how often to ask, and for how long. */
struct waiting {
	bool on;             /* the command waits for the job to end (wait-job) */
	long long interval;  /* seconds between two requests */
	long long timeout;   /* seconds; 0: no limit */
};

/* options.c */
/* The program named in messages ("jobsctl"; jobs-agent-check shares this file). */
extern const char *options_progname;
void options_init(struct options *o);
void options_free(struct options *o);
/* Reads the defaults file, if any. 0, or JOBSCTL_EXIT_USAGE after a message. */
int options_load_defaults(struct options *o);
/* Parses the global flags in argv[*next..], stopping at the first word that is not
 * one (the subcommand), whose index goes in *next. 0, JOBSCTL_HELP (`--help`:
 * nothing printed yet) or JOBSCTL_EXIT_USAGE after a message. */
int options_parse_args(struct options *o, int argc, char **argv, int *next);
/* Parses the global flag at argv[*i] (and its value), advancing *i past it. 0,
 * JOBSCTL_HELP (`--help`), JOBSCTL_VERSION (`--version`), JOBSCTL_NOT_GLOBAL (nothing
 * done) or JOBSCTL_EXIT_USAGE after a message. */
int options_parse_flag(struct options *o, int argc, char **argv, int *i);
/* Checks the combination of flags. 0, or JOBSCTL_EXIT_USAGE after a message. */
int options_check(const struct options *o);
/* Whether `word` names a global flag (it ends a list value). */
bool options_is_global_flag(const char *word);
void options_print_help(FILE *f);
/* The global flags as roff tagged paragraphs, for the man pages (--help-man). */
void options_print_man(FILE *f);
/* `PROGRAM (mosquitto-jobs) VERSION`, the project's one version. */
void options_print_version(FILE *f);

/* client.c: sets up a libmosquitto client from the options (protocol, username and
 * password, TLS). 0, or an exit status after a message. */
struct mosquitto;
int client_configure(struct mosquitto *mosq, const struct options *o);

/* commands.c */
struct command;
const struct command *commands_find(const char *name);
void commands_print_list(FILE *f);
void command_print_help(const struct command *c, FILE *f);
/* Every command, its options and the paging options, as roff (jobsctl(1)). */
void commands_print_man(FILE *f);
/* Builds {"command":…,fields…} from the words after the subcommand's name
 * (argv[0..argc-1]); global flags among them go to `o`, the paging options of a
 * list-* command to `paging`, wait-job's own to `waiting`. 0 with *out set,
 * JOBSCTL_HELP after printing the help, or JOBSCTL_EXIT_USAGE after a message. */
int command_build(const struct command *c, int argc, char **argv, struct options *o, struct paging *paging,
		struct waiting *waiting, cJSON **out);

/* shorthand.c: parses the aws CLI shorthand `text` (a=1,b={c=[x,y]}) into an object,
 * typing the members of the jobs structures by name (a map's values stay strings).
 * NULL with a message in err. */
cJSON *shorthand_parse(const char *text, bool map, char *err, size_t errsize);

/* paging.c */
struct pager {
	const struct paging *p;
	long long page_size;  /* the request's own maxResults (0: none) */
	cJSON *result;        /* the pages so far, merged */
	long long items;
	int *page_items;      /* the items of each page, in order (for --output text) */
	size_t pages;
	char *asked;          /* the nextToken of the last request */
};
/* Sets up the first request's nextToken and maxResults. 0, or -1: out of memory. */
int pager_start(struct pager *pg, const struct paging *p, cJSON *command);
/* Takes one page's data (and ownership of it). 1: `command` now asks for the next
 * page; 0: pg->result is complete; -1: a message in err. */
int pager_take(struct pager *pg, cJSON *data, cJSON *command, char *err, size_t errsize);
void pager_free(struct pager *pg);

/* progress.c: what wait-job prints of each describeJob reply. On a terminal one
 * line redrawn in place (a bar); elsewhere a plain line each time it changes. */
struct progress {
	FILE *f;
	bool tty;
	char last[512];  /* the line last printed */
};
void progress_init(struct progress *p, FILE *f, bool tty);
/* Shows the job of a describeJob reply's data. -1 while the job goes on; else the
 * exit status its end means (JOBSCTL_EXIT_OK, _FAILURES, _CANCELED), or
 * JOBSCTL_EXIT_ERROR after a message for a reply without a job. The rule: a job
 * ends when it is COMPLETED, CANCELED or DELETION_IN_PROGRESS; a continuous job,
 * which never completes, once none of its executions is QUEUED or IN_PROGRESS. */
int progress_show(struct progress *p, const cJSON *data);
/* Ends the line a terminal's bar is on (nothing elsewhere). */
void progress_end(struct progress *p);

/* output.c: JSON as `aws --output json` prints it (or on one line), and a newline. */
void output_json(FILE *f, const cJSON *v, enum output_format format);
/* As `aws --output text` prints v. */
void output_text(FILE *f, const cJSON *v);
/* As `aws --output text` prints the pages of a list command: each page on its own
 * (page_items[i] items of result's list_key each), then NextToken if any. */
void output_text_pages(FILE *f, const cJSON *result, const char *list_key, const int *page_items, size_t pages);

#endif
