/* jobsctl: the operator CLI of mosquitto-jobs. Sends one management command to the
 * jobs plugin on $CONTROL/jobs/v1 and prints the reply (spec section 10).
 *
 * main.c      connection, request and reply
 * options.c   global flags: defaults file, then the command line
 * commands.c  the subcommand table: flags to JSON fields */
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
	JOBSCTL_EXIT_USAGE = 64,    /* bad command line, defaults file or input file */
};

/* Returned by the parsers when help was asked for and printed: exit 0. */
#define JOBSCTL_HELP (-1)

#define JOBSCTL_DEFAULT_HOST "localhost"

enum output_format { OUTPUT_PRETTY, OUTPUT_JSON };

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

/* options.c */
void options_init(struct options *o);
void options_free(struct options *o);
/* Reads the defaults file, if any. 0, or JOBSCTL_EXIT_USAGE after a message. */
int options_load_defaults(struct options *o);
/* Parses the global flags in argv[*next..], stopping at the first word that is not
 * one (the subcommand), whose index goes in *next. 0, JOBSCTL_HELP (`--help`:
 * nothing printed yet) or JOBSCTL_EXIT_USAGE after a message. */
int options_parse_args(struct options *o, int argc, char **argv, int *next);
/* Checks the combination of flags. 0, or JOBSCTL_EXIT_USAGE after a message. */
int options_check(const struct options *o);
/* Whether `word` names a global flag (for a hint when one follows the command). */
bool options_is_global_flag(const char *word);
void options_print_help(FILE *f);

/* commands.c */
struct command;
const struct command *commands_find(const char *name);
void commands_print_list(FILE *f);
void command_print_help(const struct command *c, FILE *f);
/* Builds {"command":…,"correlationData":…,fields…} from the subcommand's own
 * arguments (argv[0..argc-1], after its name). 0 with *out set, JOBSCTL_HELP after
 * printing the help, or JOBSCTL_EXIT_USAGE after a message. */
int command_build(const struct command *c, int argc, char **argv, const char *correlation, cJSON **out);

#endif
