/* The subcommands: one table entry each, named as in `aws iot`, mapping flags to the
 * JSON fields of the management command (AWS `iot` camelCase names).
 *
 * Flag types: a string; a string list (every following word up to the next option);
 * a boolean (--force sets true, --no-force false); an integer; a JSON value, given
 * inline or as file://PATH; a structure or a map, in JSON or the aws CLI's shorthand
 * (key=value,...), inline or as file://PATH. A value that starts with -- is written
 * --flag=VALUE. The list commands take the aws CLI's paging options too. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jobsctl.h"
#include "../man/roff.h"

#define MAX_ARGS 16                 /* per command, with room for the end marker */
#define JSON_FILE_MAX (16u << 20)   /* file:// values */

enum arg_type {
	ARG_STRING, ARG_STRINGS, ARG_BOOL, ARG_INT, ARG_JSON,
	ARG_STRUCT,  /* JSON or shorthand */
	ARG_MAP,     /* JSON or shorthand, its values strings */
};

struct arg {
	const char *flag;    /* --job-id */
	const char *field;   /* jobId */
	enum arg_type type;
	bool required;
	const char *help;
};

struct command {
	const char *name;    /* create-job */
	const char *wire;    /* createJob */
	const char *summary;
	struct arg args[MAX_ARGS];  /* up to the first entry without a flag */
	const char *list_key;       /* a list command: the array its pages carry */
	bool waits;                 /* repeats its request until the job ends (wait-job): its
	                             * args without a field are its own (struct waiting) */
};

#define REQUIRED true
#define OPTIONAL false

#define A_JOB_ID { "--job-id", "jobId", ARG_STRING, REQUIRED, "the job's id" }
#define A_THING { "--thing-name", "thingName", ARG_STRING, REQUIRED, "the thing's name" }
#define A_GROUP { "--thing-group-name", "thingGroupName", ARG_STRING, REQUIRED, "the thing group's name" }
#define A_FORCE(what) { "--force", "force", ARG_BOOL, OPTIONAL, what }
#define A_NAMESPACE { "--namespace-id", "namespaceId", ARG_STRING, OPTIONAL, \
	"job namespace (Greengrass uses aws-gg-deployment)" }
#define A_TEMPLATE_ID(what) { "--job-template-id", "jobTemplateId", ARG_STRING, REQUIRED, what }
#define A_MAX_RESULTS { "--max-results", "maxResults", ARG_INT, OPTIONAL, "at most this many results per page" }
#define A_NEXT_TOKEN { "--next-token", "nextToken", ARG_STRING, OPTIONAL, \
	"the nextToken of the previous page" }
#define A_EXEC_STATUS { "--status", "status", ARG_STRING, OPTIONAL, \
	"only executions in this status: QUEUED, IN_PROGRESS, SUCCEEDED, FAILED, TIMED_OUT, REJECTED, " \
	"REMOVED or CANCELED" }

static const struct command commands[] = {
	{ "create-job", "createJob", "Create a job for things", {
		{ "--job-id", "jobId", ARG_STRING, REQUIRED, "the new job's id: 1-64 of [a-zA-Z0-9_-]" },
		{ "--targets", "targets", ARG_STRINGS, REQUIRED,
			"thing names or ARNs (arn:aws:iot:REGION:ACCOUNT:thing/NAME or .../thinggroup/NAME)" },
		{ "--document", "document", ARG_JSON, OPTIONAL,
			"the job document, a JSON object (required unless --job-template-arn gives it)" },
		{ "--description", "description", ARG_STRING, OPTIONAL, "a description" },
		{ "--target-selection", "targetSelection", ARG_STRING, OPTIONAL, "SNAPSHOT (default) or CONTINUOUS" },
		A_NAMESPACE,
		{ "--timeout-config", "timeoutConfig", ARG_STRUCT, OPTIONAL, "inProgressTimeoutInMinutes=N" },
		{ "--job-executions-rollout-config", "jobExecutionsRolloutConfig", ARG_STRUCT, OPTIONAL,
			"maximumPerMinute=N,exponentialRate={baseRatePerMinute=N,incrementFactor=X,"
			"rateIncreaseCriteria={numberOfNotifiedThings=N}}" },
		{ "--abort-config", "abortConfig", ARG_STRUCT, OPTIONAL,
			"criteriaList=[{failureType=FAILED,action=CANCEL,thresholdPercentage=X,"
			"minNumberOfExecutedThings=N}]" },
		{ "--job-executions-retry-config", "jobExecutionsRetryConfig", ARG_STRUCT, OPTIONAL,
			"criteriaList=[{failureType=FAILED,numberOfRetries=N}]" },
		{ "--scheduling-config", "schedulingConfig", ARG_STRUCT, OPTIONAL,
			"startTime=...,endTime=...,endBehavior=...,maintenanceWindows=[{startTime=\"cron(0 2 ? * SUN *)\","
			"durationInMinutes=N}]: roll out only inside the windows (UTC)" },
		{ "--job-template-arn", "jobTemplateArn", ARG_STRING, OPTIONAL,
			"create the job from a template: arn:aws:iot:REGION:ACCOUNT:jobtemplate/ID, or a managed one, "
			"arn:aws:iot:REGION::jobtemplate/NAME:VERSION" },
		{ "--document-parameters", "documentParameters", ARG_MAP, OPTIONAL,
			"a managed template's parameters: key=value,key2=value2" },
	}, NULL, false },
	{ "describe-job", "describeJob", "Describe a job, with its execution counts", {
		A_JOB_ID,
	}, NULL, false },
	{ "wait-job", "describeJob",
		"Wait for a job to end, drawing its rollout's progress", {
		A_JOB_ID,
		{ "--interval", NULL, ARG_INT, OPTIONAL, "seconds between two describe-job requests (default 2)" },
		{ "--wait-timeout", NULL, ARG_INT, OPTIONAL,
			"give up after this many seconds, exit status 6 (default: wait as long as it takes)" },
	}, NULL, true },
	{ "list-jobs", "listJobs", "List jobs", {
		{ "--status", "status", ARG_STRING, OPTIONAL,
			"only jobs in this status: IN_PROGRESS, CANCELED, COMPLETED, DELETION_IN_PROGRESS or SCHEDULED" },
		{ "--target-selection", "targetSelection", ARG_STRING, OPTIONAL, "only SNAPSHOT or CONTINUOUS jobs" },
		{ "--thing-group-name", "thingGroupName", ARG_STRING, OPTIONAL, "only jobs targeting this thing group" },
		A_NAMESPACE,
		A_MAX_RESULTS,
		A_NEXT_TOKEN,
	}, "jobs", false },
	{ "cancel-job", "cancelJob", "Cancel a job: its queued executions, and in-progress ones with --force", {
		A_JOB_ID,
		A_FORCE("also cancel the IN_PROGRESS executions"),
		{ "--reason-code", "reasonCode", ARG_STRING, OPTIONAL, "why (at most 128 characters)" },
		{ "--comment", "comment", ARG_STRING, OPTIONAL, "a comment" },
	}, NULL, false },
	{ "delete-job", "deleteJob", "Delete a job and its executions", {
		A_JOB_ID,
		A_FORCE("delete even a job that is still in progress"),
	}, NULL, false },
	{ "get-job-document", "getJobDocument", "Print a job's document", {
		A_JOB_ID,
	}, NULL, false },
	{ "describe-job-execution", "describeJobExecution", "Describe a job's execution on a thing", {
		A_JOB_ID,
		A_THING,
		{ "--execution-number", "executionNumber", ARG_INT, OPTIONAL, "which execution (default: the latest)" },
	}, NULL, false },
	{ "cancel-job-execution", "cancelJobExecution", "Cancel a job's execution on a thing", {
		A_JOB_ID,
		A_THING,
		A_FORCE("cancel even an IN_PROGRESS execution"),
		{ "--expected-version", "expectedVersion", ARG_INT, OPTIONAL,
			"fail unless the execution has this versionNumber" },
		{ "--status-details", "statusDetails", ARG_MAP, OPTIONAL, "string values: key=value,key2=value2" },
	}, NULL, false },
	{ "delete-job-execution", "deleteJobExecution", "Delete one execution of a job on a thing", {
		A_JOB_ID,
		A_THING,
		{ "--execution-number", "executionNumber", ARG_INT, REQUIRED, "which execution" },
		A_FORCE("delete even an execution that is not terminal"),
	}, NULL, false },
	{ "list-job-executions-for-job", "listJobExecutionsForJob", "List the executions of a job", {
		A_JOB_ID,
		A_EXEC_STATUS,
		A_MAX_RESULTS,
		A_NEXT_TOKEN,
	}, "executionSummaries", false },
	{ "list-job-executions-for-thing", "listJobExecutionsForThing", "List the job executions of a thing", {
		A_THING,
		A_EXEC_STATUS,
		A_NAMESPACE,
		A_MAX_RESULTS,
		A_NEXT_TOKEN,
	}, "executionSummaries", false },
	{ "create-thing-group", "createThingGroup", "Create a thing group", {
		A_GROUP,
		{ "--thing-group-properties", "thingGroupProperties", ARG_STRUCT, OPTIONAL,
			"thingGroupDescription=...,attributePayload={attributes={k=v}}" },
	}, NULL, false },
	{ "delete-thing-group", "deleteThingGroup", "Delete a thing group", {
		A_GROUP,
	}, NULL, false },
	{ "add-thing-to-thing-group", "addThingToThingGroup", "Add a thing to a thing group", {
		A_GROUP,
		A_THING,
	}, NULL, false },
	{ "remove-thing-from-thing-group", "removeThingFromThingGroup", "Remove a thing from a thing group", {
		A_GROUP,
		A_THING,
	}, NULL, false },
	{ "list-things-in-thing-group", "listThingsInThingGroup", "List the things in a thing group", {
		A_GROUP,
		A_MAX_RESULTS,
		A_NEXT_TOKEN,
	}, "things", false },
	{ "list-thing-groups", "listThingGroups", "List thing groups", {
		A_MAX_RESULTS,
		A_NEXT_TOKEN,
		{ "--name-prefix-filter", "namePrefixFilter", ARG_STRING, OPTIONAL,
			"only groups whose name starts with this" },
	}, "thingGroups", false },
	{ "status", "describeBroker",
		"Describe the broker: version, store, counts, uptime",
		{ { .flag = NULL } }, NULL, false },  /* no options */
	{ "create-job-template", "createJobTemplate", "Create a job template", {
		A_TEMPLATE_ID("the new template's id: 1-64 of [a-zA-Z0-9_-]"),
		{ "--description", "description", ARG_STRING, REQUIRED, "a description" },
		{ "--job-arn", "jobArn", ARG_STRING, OPTIONAL,
			"take the document and configs of this job (arn:aws:iot:REGION:ACCOUNT:job/ID)" },
		{ "--document", "document", ARG_JSON, OPTIONAL, "the job document, a JSON object" },
		{ "--document-source", "documentSource", ARG_STRING, OPTIONAL, "an S3 URL of the job document" },
		{ "--presigned-url-config", "presignedUrlConfig", ARG_STRUCT, OPTIONAL, "roleArn=...,expiresInSec=N" },
		{ "--job-executions-rollout-config", "jobExecutionsRolloutConfig", ARG_STRUCT, OPTIONAL,
			"maximumPerMinute=N,exponentialRate={...}" },
		{ "--abort-config", "abortConfig", ARG_STRUCT, OPTIONAL, "criteriaList=[{...}]" },
		{ "--timeout-config", "timeoutConfig", ARG_STRUCT, OPTIONAL, "inProgressTimeoutInMinutes=N" },
		{ "--job-executions-retry-config", "jobExecutionsRetryConfig", ARG_STRUCT, OPTIONAL,
			"criteriaList=[{failureType=FAILED,numberOfRetries=N}]" },
		{ "--maintenance-windows", "maintenanceWindows", ARG_JSON, OPTIONAL,
			"[{\"startTime\":\"cron(...)\",\"durationInMinutes\":N}]" },
		{ "--destination-package-versions", "destinationPackageVersions", ARG_STRINGS, OPTIONAL,
			"package version ARNs" },
	}, NULL, false },
	{ "describe-job-template", "describeJobTemplate", "Describe a job template", {
		A_TEMPLATE_ID("the template's id"),
	}, NULL, false },
	{ "list-job-templates", "listJobTemplates", "List job templates", {
		A_MAX_RESULTS,
		A_NEXT_TOKEN,
	}, "jobTemplates", false },
	{ "delete-job-template", "deleteJobTemplate", "Delete a job template", {
		A_TEMPLATE_ID("the template's id"),
	}, NULL, false },
	{ "list-managed-job-templates", "listManagedJobTemplates", "List the AWS managed job templates", {
		{ "--template-name", "templateName", ARG_STRING, OPTIONAL, "only the versions of this template" },
		A_MAX_RESULTS,
		A_NEXT_TOKEN,
	}, "managedJobTemplates", false },
	{ "describe-managed-job-template", "describeManagedJobTemplate",
		"Describe an AWS managed job template: its document and parameters", {
		{ "--template-name", "templateName", ARG_STRING, REQUIRED, "the template's name (AWS-Download-File ...)" },
		{ "--template-version", "templateVersion", ARG_STRING, OPTIONAL, "its version (default: the latest)" },
	}, NULL, false },
	{ "create-thing", "createThing", "Register a thing, with attributes and a thing type", {
		A_THING,
		{ "--thing-type-name", "thingTypeName", ARG_STRING, OPTIONAL, "the thing's type (any name: no registry of types)" },
		{ "--attribute-payload", "attributePayload", ARG_STRUCT, OPTIONAL, "attributes={k=v,k2=v2}" },
		{ "--billing-group-name", "billingGroupName", ARG_STRING, OPTIONAL,
			"a billing group (there are none: always ResourceNotFoundException)" },
	}, NULL, false },
	{ "describe-thing", "describeThing", "Describe a registered thing", {
		A_THING,
	}, NULL, false },
	{ "update-thing", "updateThing", "Change a thing's attributes or thing type", {
		A_THING,
		{ "--thing-type-name", "thingTypeName", ARG_STRING, OPTIONAL, "the thing's new type" },
		{ "--attribute-payload", "attributePayload", ARG_STRUCT, OPTIONAL,
			"attributes={k=v,k2=\"\"},merge=true (an empty value removes an attribute)" },
		{ "--expected-version", "expectedVersion", ARG_INT, OPTIONAL, "fail unless the thing has this version" },
		{ "--remove-thing-type", "removeThingType", ARG_BOOL, OPTIONAL, "remove the thing's type" },
	}, NULL, false },
	{ "delete-thing", "deleteThing", "Delete a registered thing; it leaves its thing groups", {
		A_THING,
		{ "--expected-version", "expectedVersion", ARG_INT, OPTIONAL, "fail unless the thing has this version" },
	}, NULL, false },
	{ "list-things", "listThings", "List registered things", {
		{ "--attribute-name", "attributeName", ARG_STRING, OPTIONAL, "only things with this attribute" },
		{ "--attribute-value", "attributeValue", ARG_STRING, OPTIONAL, "only things with an attribute of this value" },
		{ "--thing-type-name", "thingTypeName", ARG_STRING, OPTIONAL, "only things of this type" },
		{ "--use-prefix-attribute-value", "usePrefixAttributeValue", ARG_BOOL, OPTIONAL,
			"match attribute values that start with --attribute-value" },
		A_MAX_RESULTS,
		A_NEXT_TOKEN,
	}, "things", false },
	{ "list-thing-groups-for-thing", "listThingGroupsForThing", "List the thing groups a thing belongs to", {
		A_THING,
		A_MAX_RESULTS,
		A_NEXT_TOKEN,
	}, "thingGroups", false },
	{ "update-job", "updateJob", "Change a job in progress or scheduled: description and configs", {
		A_JOB_ID,
		{ "--description", "description", ARG_STRING, OPTIONAL, "a new description" },
		{ "--presigned-url-config", "presignedUrlConfig", ARG_STRUCT, OPTIONAL, "roleArn=...,expiresInSec=N" },
		{ "--job-executions-rollout-config", "jobExecutionsRolloutConfig", ARG_STRUCT, OPTIONAL,
			"maximumPerMinute=N,... (from now on)" },
		{ "--abort-config", "abortConfig", ARG_STRUCT, OPTIONAL, "criteriaList=[...] (checked at once)" },
		{ "--timeout-config", "timeoutConfig", ARG_STRUCT, OPTIONAL,
			"inProgressTimeoutInMinutes=N (for executions not started yet)" },
		{ "--job-executions-retry-config", "jobExecutionsRetryConfig", ARG_STRUCT, OPTIONAL,
			"criteriaList=[{failureType=FAILED,numberOfRetries=N}]" },
		A_NAMESPACE,
	}, NULL, false },
	{ "associate-targets-with-job", "associateTargetsWithJob",
		"Add things or thing groups to a continuous job in progress", {
		{ "--targets", "targets", ARG_STRINGS, REQUIRED, "thing names or ARNs, thing group ARNs" },
		A_JOB_ID,
		{ "--comment", "comment", ARG_STRING, OPTIONAL, "why (describe-job shows it)" },
		A_NAMESPACE,
	}, NULL, false },
	{ "update-event-configurations", "updateEventConfigurations",
		"Switch event types on or off (JOB and JOB_EXECUTION publish the jobs events)", {
		{ "--event-configurations", "eventConfigurations", ARG_STRUCT, OPTIONAL,
			"TYPE={Enabled=true|false},...: JOB, JOB_EXECUTION, THING, THING_GROUP, THING_TYPE, "
			"THING_GROUP_MEMBERSHIP, THING_GROUP_HIERARCHY, THING_TYPE_ASSOCIATION, POLICY, CERTIFICATE, "
			"CA_CERTIFICATE" },
	}, NULL, false },
	{ "describe-event-configurations", "describeEventConfigurations",
		"Show which event types are on, and when they were first and last set",
		{ { .flag = NULL } }, NULL, false },  /* no options */
};

#define NCOMMANDS (sizeof(commands) / sizeof(*commands))

/* The aws CLI's paging options of the list commands: jobsctl's own, never sent. */
enum { P_MAX_ITEMS, P_STARTING_TOKEN, P_PAGE_SIZE, P_NO_PAGINATE, NPAGING };
static const struct arg paging_args[NPAGING] = {
	[P_MAX_ITEMS] = { "--max-items", NULL, ARG_INT, OPTIONAL,
		"at most this many items in all; if there are more, NextToken says where to go on" },
	[P_STARTING_TOKEN] = { "--starting-token", NULL, ARG_STRING, OPTIONAL,
		"go on from the NextToken that --max-items printed" },
	[P_PAGE_SIZE] = { "--page-size", NULL, ARG_INT, OPTIONAL,
		"the items asked for per request (maxResults; all pages are still fetched)" },
	[P_NO_PAGINATE] = { "--no-paginate", NULL, ARG_BOOL, OPTIONAL,
		"one request only: print its page as the server sent it, nextToken included" },
};

const struct command *commands_find(const char *name)
{
	for(size_t i = 0; i < NCOMMANDS; i++){
		if(strcmp(commands[i].name, name) == 0) return &commands[i];
	}
	return NULL;
}

void commands_print_list(FILE *f)
{
	for(size_t i = 0; i < NCOMMANDS; i++){
		fprintf(f, "  %-31s %s\n", commands[i].name, commands[i].summary);
	}
}

static const char *metavar(enum arg_type t)
{
	switch(t){
	case ARG_STRING: return " STRING";
	case ARG_STRINGS: return " STRING [STRING ...]";
	case ARG_BOOL: return "";
	case ARG_INT: return " INTEGER";
	case ARG_JSON: return " JSON|file://PATH";
	case ARG_STRUCT:
	case ARG_MAP: return " SHORTHAND|JSON|file://PATH";
	}
	return "";
}

/* What wait-job does, for its --help and jobsctl(1). */
#define WAIT_TEXT \
	"It asks describe-job every --interval seconds and draws the job's executions: a bar\n" \
	"redrawn in place on a terminal, a plain line at each change otherwise. It ends when\n" \
	"the job does: exit status 0 when it completed with no execution FAILED, REJECTED or\n" \
	"TIMED_OUT, 4 when some were, 5 when it was canceled (or is being deleted), 6 when\n" \
	"--wait-timeout passed first. A continuous job never completes: it counts as ended\n" \
	"once none of its executions is QUEUED or IN_PROGRESS."

static size_t nargs(const struct command *c)
{
	size_t n = 0;
	while(n < MAX_ARGS && c->args[n].flag) n++;
	return n;
}

void command_print_help(const struct command *c, FILE *f)
{
	size_t n = nargs(c);
	/* The synopsis, wrapped before 80 columns. */
	int col = fprintf(f, "usage: jobsctl [global options] %s", c->name);
	for(size_t i = 0; i < n; i++){
		const struct arg *a = &c->args[i];
		char word[96];
		int len = snprintf(word, sizeof(word), "%s%s%s%s", a->required ? "" : "[", a->flag,
				metavar(a->type), a->required ? "" : "]");
		if(col + 1 + len > 79){
			fprintf(f, "\n       ");
			col = 7;
		}
		col += fprintf(f, " %s", word);
	}
	fprintf(f, "\n\n%s (management command %s).\n\nOptions:\n", c->summary, c->wire);
	for(size_t i = 0; i < n; i++){
		const struct arg *a = &c->args[i];
		if(a->type == ARG_BOOL) fprintf(f, "  %s, --no-%s", a->flag, a->flag + 2);
		else fprintf(f, "  %s%s", a->flag, metavar(a->type));
		fprintf(f, "%s\n      %s", a->required ? "  (required)" : "", a->help);
		if(a->field) fprintf(f, " (JSON field %s)", a->field);
		fprintf(f, "\n");
	}
	fprintf(f, "  --help\n      show this help\n\n");
	if(c->waits) fprintf(f, "%s\n\n", WAIT_TEXT);
	if(c->list_key){
		fprintf(f, "Paging, as in the aws CLI: jobsctl follows nextToken and prints all %s in one list.\n",
				c->list_key);
		for(size_t i = 0; i < NPAGING; i++){
			const struct arg *a = &paging_args[i];
			fprintf(f, "  %s%s\n      %s\n", a->flag, metavar(a->type), a->help);
		}
		fputc('\n', f);
	}
	fprintf(f, "A value that starts with -- is written --flag=VALUE. A JSON value is given inline\n"
			"or read from a file with file://PATH; a structure also in the aws CLI's shorthand,\n"
			"key=value,key2={k=v},key3=[a,b]. Global options (jobsctl --help) may come before\n"
			"or after the command name.\n");
}

/* One flag as a tagged paragraph's tag and text. */
static void arg_man(FILE *f, const struct arg *a)
{
	fprintf(f, ".TP\n");
	roff_bold(f, a->flag);
	if(a->type == ARG_BOOL && a->field){
		char negated[96];
		snprintf(negated, sizeof(negated), "--no-%s", a->flag + 2);
		fprintf(f, ", ");
		roff_bold(f, negated);
	}else if(a->type != ARG_BOOL){
		fprintf(f, " ");
		roff_italic(f, metavar(a->type) + 1);
	}
	fprintf(f, "\n");
	if(a->required) fprintf(f, "(required) ");
	roff_text(f, a->help);
	if(a->field){
		fprintf(f, " (JSON field ");
		roff_bold(f, a->field);
		fprintf(f, ")");
	}
	fprintf(f, "\n");
}

void commands_print_man(FILE *f)
{
	for(size_t i = 0; i < NCOMMANDS; i++){
		const struct command *c = &commands[i];
		fprintf(f, ".SS %s\n", c->name);
		roff_text(f, c->summary);
		fprintf(f, " (management command ");
		roff_bold(f, c->wire);
		fprintf(f, ").%s\n", c->list_key ? " Takes the paging options below." : "");
		if(c->waits){
			fprintf(f, ".PP\n");
			roff_text(f, WAIT_TEXT);
			fprintf(f, "\n");
		}
		if(nargs(c) > 0) fprintf(f, ".RS\n");
		for(size_t k = 0; k < nargs(c); k++) arg_man(f, &c->args[k]);
		if(nargs(c) > 0) fprintf(f, ".RE\n");
	}
	fprintf(f, ".SS Paging\nThe list commands follow nextToken, as the aws CLI does, and print every item "
			"in one list. They take:\n.RS\n");
	for(size_t i = 0; i < NPAGING; i++) arg_man(f, &paging_args[i]);
	fprintf(f, ".RE\n");
}

__attribute__((format(printf, 2, 3)))
static int usage(const struct command *c, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "jobsctl: %s: ", c->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nRun 'jobsctl %s --help' for its options.\n", c->name);
	return JOBSCTL_EXIT_USAGE;
}

/* Well-formed UTF-8: no overlong forms, surrogates or code points past U+10FFFF. */
static bool utf8_valid(const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0;
	while(i < len){
		unsigned char b = s[i];
		size_t n;
		uint32_t cp;
		if(b < 0x80){
			i++;
			continue;
		}else if(b >= 0xC2 && b <= 0xDF){
			n = 1;
			cp = b & 0x1F;
		}else if(b >= 0xE0 && b <= 0xEF){
			n = 2;
			cp = b & 0x0F;
		}else if(b >= 0xF0 && b <= 0xF4){
			n = 3;
			cp = b & 0x07;
		}else{
			return false;
		}
		if(len - i <= n) return false;
		for(size_t k = 1; k <= n; k++){
			if((s[i + k] & 0xC0) != 0x80) return false;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF))
				|| (cp >= 0xD800 && cp <= 0xDFFF)){
			return false;
		}
		i += n + 1;
	}
	return true;
}

/* Whether JSON text (already known to parse) has a \u0000 escape in a string: cJSON
 * would cut the string there, and the server refuses such payloads. */
static bool has_escaped_nul(const char *s)
{
	bool in_string = false;
	for(; *s; s++){
		if(!in_string){
			if(*s == '"') in_string = true;
		}else if(*s == '\\'){
			if(s[1] == 'u' && strncmp(s + 2, "0000", 4) == 0) return true;
			if(s[1]) s++;
		}else if(*s == '"'){
			in_string = false;
		}
	}
	return false;
}

/* Reads a whole file into a NUL-terminated buffer; on failure, a message in err. */
static char *read_file(const char *path, size_t *len, char *err, size_t errsize)
{
	FILE *f = fopen(path, "rb");
	if(!f){
		snprintf(err, errsize, "%s", strerror(errno));
		return NULL;
	}
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	while(buf){
		if(n + 1 >= cap){
			if(cap >= JSON_FILE_MAX){
				snprintf(err, errsize, "larger than %u MiB", JSON_FILE_MAX >> 20);
				break;
			}
			char *bigger = realloc(buf, cap * 2);
			if(!bigger) break;
			buf = bigger;
			cap *= 2;
		}
		size_t got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if(got == 0){
			if(ferror(f)){
				snprintf(err, errsize, "%s", strerror(errno));
				break;
			}
			buf[n] = '\0';
			fclose(f);
			*len = n;
			return buf;
		}
	}
	if(!buf || !err[0]) snprintf(err, errsize, "out of memory");
	free(buf);
	fclose(f);
	return NULL;
}

/* A JSON value given inline or as file://PATH; checked here, and sent as text (so
 * that numbers keep their spelling) in a raw item in *out. A structure or a map that
 * does not start with { or [ is shorthand, as the aws CLI decides. */
static int json_arg(const struct command *c, const struct arg *a, const char *value, cJSON **out)
{
	char *buf = NULL;
	const char *text = value;
	const char *origin = "";
	char err[200] = "";
	size_t len = strlen(value);
	int rc = JOBSCTL_EXIT_USAGE;

	if(strncmp(value, "file://", 7) == 0){
		origin = value + 7;
		if(!(buf = read_file(origin, &len, err, sizeof(err)))){
			return usage(c, "%s: cannot read %s: %s", a->flag, origin, err);
		}
		text = buf;
		if(memchr(buf, '\0', len)){
			usage(c, "%s: %s holds a NUL byte: not JSON text", a->flag, origin);
			goto done;
		}
	}
	const char *in = origin[0] ? " in " : "";
	if(!utf8_valid(text, len)){
		usage(c, "%s: invalid UTF-8%s%s", a->flag, in, origin);
		goto done;
	}
	size_t lead = strspn(text, " \t\r\n\v\f");
	if((a->type == ARG_STRUCT || a->type == ARG_MAP) && text[lead] != '{' && text[lead] != '['){
		if(!(*out = shorthand_parse(text, a->type == ARG_MAP, err, sizeof(err)))){
			usage(c, "%s: %s%s%s (the value is JSON or key=value,... shorthand)", a->flag, err, in, origin);
			goto done;
		}
		rc = 0;
		goto done;
	}
	const char *end = NULL;
	cJSON *parsed = cJSON_ParseWithOpts(text, &end, true);
	if(!parsed){
		size_t at = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
		unsigned line = 1, col = 1;
		for(size_t i = 0; i < at; i++){
			if(text[i] == '\n'){
				line++;
				col = 1;
			}else{
				col++;
			}
		}
		char near[24];
		size_t k = 0;
		for(size_t i = at; i < len && k + 1 < sizeof(near) && text[i] != '\n'; i++){
			near[k++] = (unsigned char)text[i] < 0x20 ? '?' : text[i];
		}
		near[k] = '\0';
		if(!len) usage(c, "%s: empty%s%s: a JSON value is needed", a->flag, in, origin);
		else if(k) usage(c, "%s: invalid JSON%s%s at line %u column %u, near '%s'", a->flag, in, origin, line, col, near);
		else usage(c, "%s: invalid JSON%s%s: it ends too early", a->flag, in, origin);
		goto done;
	}
	cJSON_Delete(parsed);
	if(has_escaped_nul(text)){
		usage(c, "%s: a string%s%s holds \\u0000, which the server refuses", a->flag, in, origin);
		goto done;
	}
	/* Without the whitespace between tokens (the text parsed, so it has no comments
	 * for cJSON_Minify to drop either). */
	/* cJSON skips a UTF-8 byte order mark before a document, but not inside one. */
	if(strncmp(text, "\xEF\xBB\xBF", 3) == 0) text += 3;
	char *raw = strdup(text);
	if(raw){
		cJSON_Minify(raw);
		*out = cJSON_CreateRaw(raw);
		free(raw);
	}
	if(*out) rc = 0;
	else usage(c, "%s: out of memory", a->flag);
done:
	free(buf);
	return rc;
}

static int int_arg(const struct command *c, const struct arg *a, const char *value, cJSON **out)
{
	char *end;
	errno = 0;
	long long v = strtoll(value, &end, 10);
	bool digits = (value[0] >= '0' && value[0] <= '9') || (value[0] == '-' && value[1] >= '0' && value[1] <= '9');
	if(!digits || *end || errno){
		return usage(c, "%s: '%s' is not an integer", a->flag, value);
	}
	char text[32];
	snprintf(text, sizeof(text), "%lld", v);
	if(!(*out = cJSON_CreateRaw(text))) return usage(c, "%s: out of memory", a->flag);
	return 0;
}

static int string_arg(const struct command *c, const struct arg *a, const char *value, cJSON **out)
{
	if(!utf8_valid(value, strlen(value))) return usage(c, "%s: invalid UTF-8", a->flag);
	if(!(*out = cJSON_CreateString(value))) return usage(c, "%s: out of memory", a->flag);
	return 0;
}

/* The argument of args[0..n-1] named by `word` (--flag, --flag=VALUE, or --no-flag
 * for a boolean). */
static const struct arg *find_arg(const struct arg *args, size_t n, const char *word, const char **inline_value,
		bool *negated)
{
	const char *eq = strchr(word, '=');
	size_t len = eq ? (size_t)(eq - word) : strlen(word);
	*inline_value = eq ? eq + 1 : NULL;
	*negated = false;
	for(size_t i = 0; i < n; i++){
		const struct arg *a = &args[i];
		if(strlen(a->flag) == len && strncmp(a->flag, word, len) == 0) return a;
		if(a->type == ARG_BOOL && a->field && strncmp(word, "--no-", 5) == 0 && strlen(a->flag + 2) == len - 5
				&& strncmp(a->flag + 2, word + 5, len - 5) == 0){
			*negated = true;
			return a;
		}
	}
	return NULL;
}

static bool is_flag(const char *word)
{
	return strncmp(word, "--", 2) == 0;
}

/* Whether `word` ends a list value: an option. */
static bool ends_list(const char *word)
{
	return is_flag(word) || options_is_global_flag(word);
}

/* The value of an argument, as a JSON item in *item. */
static int parse_value(const struct command *c, const struct arg *a, const char *value, bool negated,
		int argc, char **argv, int *i, cJSON **item)
{
	if(a->type == ARG_BOOL){
		if(value) return usage(c, "%s takes no value", a->flag);
		if(!(*item = cJSON_CreateBool(!negated))) return usage(c, "out of memory");
		return 0;
	}
	if(a->type == ARG_STRINGS){
		if(!(*item = cJSON_CreateArray())) return usage(c, "out of memory");
		for(;;){
			if(!value){
				if(*i >= argc || ends_list(argv[*i])) break;
				value = argv[(*i)++];
			}
			cJSON *s = NULL;
			int rc = string_arg(c, a, value, &s);
			if(rc) return rc;
			if(!cJSON_AddItemToArray(*item, s)){
				cJSON_Delete(s);
				return usage(c, "out of memory");
			}
			value = NULL;
		}
		if(cJSON_GetArraySize(*item) == 0) return usage(c, "%s needs at least one value", a->flag);
		return 0;
	}
	if(!value){
		if(*i >= argc || is_flag(argv[*i])){
			return usage(c, "%s needs a value%s", a->flag,
					*i < argc ? " (write --flag=VALUE for a value that starts with --)" : "");
		}
		value = argv[(*i)++];
	}
	if(a->type == ARG_STRING) return string_arg(c, a, value, item);
	if(a->type == ARG_INT) return int_arg(c, a, value, item);
	return json_arg(c, a, value, item);
}

/* A paging option of a list command. */
static int paging_option(const struct command *c, const struct arg *a, cJSON *item, struct paging *pg, cJSON *obj)
{
	switch((int)(a - paging_args)){
	case P_MAX_ITEMS:
	case P_PAGE_SIZE: {
		long long v = atoll(item->valuestring);
		if(v < 1) return usage(c, "%s: '%s' is not a positive integer", a->flag, item->valuestring);
		if(a == &paging_args[P_MAX_ITEMS]){
			pg->max_items = v;
			return 0;
		}
		if(cJSON_GetObjectItemCaseSensitive(obj, "maxResults")){
			return usage(c, "--page-size and --max-results both set the page size: give one");
		}
		cJSON *copy = cJSON_CreateRaw(item->valuestring);
		if(!copy || !cJSON_AddItemToObject(obj, "maxResults", copy)){
			cJSON_Delete(copy);
			return usage(c, "out of memory");
		}
		return 0;
	}
	case P_STARTING_TOKEN:
		if(!(pg->starting_token = strdup(item->valuestring))) return usage(c, "out of memory");
		return 0;
	case P_NO_PAGINATE:
		pg->paginate = false;
		return 0;
	}
	return usage(c, "internal error: unhandled option %s", a->flag);
}

/* One of wait-job's own options (an integer, at least 1). */
static int waiting_option(const struct command *c, const struct arg *a, const cJSON *item, struct waiting *w)
{
	long long v = atoll(item->valuestring);
	if(v < 1) return usage(c, "%s: '%s' is not a positive integer", a->flag, item->valuestring);
	if(strcmp(a->flag, "--interval") == 0) w->interval = v;
	else w->timeout = v;
	return 0;
}

/* Parses the arguments into `obj`; 0 or JOBSCTL_EXIT_USAGE after a message. */
static int parse_args(const struct command *c, int argc, char **argv, struct options *o, struct paging *pg,
		struct waiting *w, cJSON *obj)
{
	bool seen[MAX_ARGS] = { false };
	bool seen_paging[NPAGING] = { false };
	int i = 0;
	while(i < argc){
		const char *word = argv[i];
		const char *value = NULL;
		bool negated = false;
		const struct arg *a = NULL;
		bool paging = false;
		if(is_flag(word)){
			a = find_arg(c->args, nargs(c), word, &value, &negated);
			if(!a && c->list_key){
				a = find_arg(paging_args, NPAGING, word, &value, &negated);
				paging = a != NULL;
			}
		}
		if(!a){
			/* The global options may follow the command, as the aws CLI's do. */
			int rc = options_parse_flag(o, argc, argv, &i);
			if(rc == JOBSCTL_NOT_GLOBAL){
				if(!is_flag(word)) return usage(c, "unexpected argument '%s'", word);
				return usage(c, "unknown option '%s'", word);
			}
			if(rc) return rc;
			continue;
		}
		i++;
		bool *was = paging ? &seen_paging[a - paging_args] : &seen[a - c->args];
		if(*was) return usage(c, "%s is given more than once", a->flag);
		*was = true;

		cJSON *item = NULL;
		int rc = parse_value(c, a, value, negated, argc, argv, &i, &item);
		if(rc){
			/* a message is out */
		}else if(paging){
			rc = paging_option(c, a, item, pg, obj);
		}else if(!a->field){
			rc = waiting_option(c, a, item, w);
		}else if(cJSON_GetObjectItemCaseSensitive(obj, a->field)){
			/* Only --page-size fills a field of its own command. */
			rc = usage(c, "--page-size and %s both set the page size: give one", a->flag);
		}else if(cJSON_AddItemToObject(obj, a->field, item)){
			item = NULL;
		}else{
			rc = usage(c, "out of memory");
		}
		cJSON_Delete(item);
		if(rc) return rc;
	}
	for(size_t k = 0; k < nargs(c); k++){
		if(c->args[k].required && !seen[k]) return usage(c, "%s is required", c->args[k].flag);
	}
	if(!c->list_key) return 0;
	/* As the aws CLI: a --next-token of one's own asks for that one page. */
	if(cJSON_GetObjectItemCaseSensitive(obj, "nextToken")) pg->paginate = false;
	if(!pg->paginate){
		for(size_t k = 0; k < NPAGING; k++){
			if(k != P_NO_PAGINATE && seen_paging[k]){
				return usage(c, "%s pages, but %s asks for one page only", paging_args[k].flag,
						seen_paging[P_NO_PAGINATE] ? "--no-paginate" : "--next-token");
			}
		}
	}
	return 0;
}

int command_build(const struct command *c, int argc, char **argv, struct options *o, struct paging *paging,
		struct waiting *waiting, cJSON **out)
{
	memset(paging, 0, sizeof(*paging));
	*waiting = (struct waiting){ .on = c->waits, .interval = 2, .timeout = 0 };
	paging->list_key = c->list_key;
	paging->paginate = c->list_key != NULL;
	for(int i = 0; i < argc; i++){
		if(strcmp(argv[i], "--help") == 0){
			command_print_help(c, stdout);
			return JOBSCTL_HELP;
		}
	}
	cJSON *obj = cJSON_CreateObject();
	if(!obj || !cJSON_AddStringToObject(obj, "command", c->wire)){
		cJSON_Delete(obj);
		return usage(c, "out of memory");
	}
	int rc = parse_args(c, argc, argv, o, paging, waiting, obj);
	if(rc){
		cJSON_Delete(obj);
		return rc;
	}
	*out = obj;
	return 0;
}
