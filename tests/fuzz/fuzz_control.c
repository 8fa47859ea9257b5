/* The management API (mqtt_jobs_control) against one long-lived service over an
 * in-memory store, with service_tick as the clock advances.
 *
 * Input: [mode][clk][rest...]
 *   mode & 1 == 0: raw. rest is the payload as it is.
 *   mode & 1 == 1: structured. rest drives a generator that builds a syntactically
 *                  valid {"commands":[{"command":<one of the table's>, <fields>}, ...]}
 *                  (1-4 commands; field names and values from tables of the API's
 *                  own, or arbitrary JSON), so deep paths are reached.
 *   mode & 2: an MQTT 5 response topic (mode & 8: the response topic itself);
 *   mode & 4: correlation data.
 *   mode & 0x10: each request commits at once; else group commit, as the plugin
 *                runs once ticking (the request, service_flush, service_tick).
 *   mode & 0x20: each command of the request through service_control, typed (the
 *                HTTP API's way in).
 *   mode & 0x40: then a device request from what is left of the input (start-next
 *                or an update to a status from a table, on t1-t4 and a job id from
 *                the table), so retries, aborts and completion follow from jobs
 *                the commands made.
 *   clk: how far the clock moves first (fuzz_clock_step); service_tick follows.
 * The service is recreated every FUZZ_RESET_EVERY inputs (default 20000). Its
 * database is capped at FUZZ_DB_MAX_MB (default 1) MB, so in a busy stretch it
 * fills up and commits fail: the error paths (InternalFailureException, a failed
 * group commit) run too. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "fuzz_common.h"
#include "mqtt/mqtt_control.h"
#include "mqtt/mqtt_jobs.h"
#include "util/jsonfield.h"
#include "util/utf8.h"

#define N(a) (sizeof(a) / sizeof(*(a)))
#define ARN "arn:aws:iot:us-east-1:000000000000:"

static const char *const commands[] = {
	"createJob", "cancelJob", "deleteJob", "describeJob", "getJobDocument", "listJobs",
	"describeJobExecution", "cancelJobExecution", "deleteJobExecution",
	"listJobExecutionsForJob", "listJobExecutionsForThing", "createThingGroup",
	"deleteThingGroup", "addThingToThingGroup", "removeThingFromThingGroup",
	"listThingsInThingGroup", "listThingGroups", "describeBroker", "createJobTemplate",
	"describeJobTemplate", "listJobTemplates", "deleteJobTemplate", "listManagedJobTemplates",
	"describeManagedJobTemplate",
	"updateJob", "associateTargetsWithJob", "createThing", "describeThing", "updateThing",
	"deleteThing", "listThings", "listThingGroupsForThing", "updateEventConfigurations",
	"describeEventConfigurations",
};

enum field {
	F_JOB_ID, F_THING, F_GROUP, F_TARGETS, F_DOCUMENT, F_DESCRIPTION, F_TARGET_SELECTION,
	F_NAMESPACE, F_TIMEOUT, F_RETRY, F_ROLLOUT, F_ABORT, F_SCHEDULING, F_FORCE,
	F_REASON, F_COMMENT, F_STATUS, F_MAX_RESULTS, F_NEXT_TOKEN, F_EXEC_NUMBER,
	F_EXPECTED_VERSION, F_STATUS_DETAILS, F_GROUP_PROPS, F_PREFIX, F_CORRELATION,
	F_TEMPLATE_ID, F_TEMPLATE_ARN, F_DOC_PARAMS, F_JOB_ARN, F_TEMPLATE_NAME, F_TEMPLATE_VERSION,
	F_WINDOWS, F_THING_TYPE, F_ATTRIBUTES, F_REMOVE_TYPE, F_ATTR_NAME, F_ATTR_VALUE, F_ATTR_PREFIX,
	F_EVENT_CONFIGS, F_UNSUPPORTED, F_COUNT
};

static const char *const field_names[F_COUNT] = {
	"jobId", "thingName", "thingGroupName", "targets", "document", "description",
	"targetSelection", "namespaceId", "timeoutConfig", "jobExecutionsRetryConfig",
	"jobExecutionsRolloutConfig", "abortConfig", "schedulingConfig", "force",
	"reasonCode", "comment", "status", "maxResults", "nextToken", "executionNumber",
	"expectedVersion", "statusDetails", "thingGroupProperties", "namePrefixFilter",
	"correlationData", "jobTemplateId", "jobTemplateArn", "documentParameters", "jobArn",
	"templateName", "templateVersion", "maintenanceWindows", "thingTypeName", "attributePayload",
	"removeThingType", "attributeName", "attributeValue", "usePrefixAttributeValue",
	"eventConfigurations", "documentSource",
};

static const char *const unsupported[] = {
	"documentSource", "presignedUrlConfig", "destinationPackageVersions", "command", "commands",
};

/* Keys for generic objects: the API's own names, nested ones included. */
static const char *const keys[] = {
	"jobId", "thingName", "thingGroupName", "targets", "document", "status",
	"inProgressTimeoutInMinutes", "criteriaList", "failureType", "numberOfRetries",
	"maximumPerMinute", "exponentialRate", "baseRatePerMinute", "incrementFactor",
	"rateIncreaseCriteria", "numberOfNotifiedThings", "numberOfSucceededThings", "action",
	"thresholdPercentage", "minNumberOfExecutedThings", "startTime", "endTime",
	"endBehavior", "maintenanceWindows", "thingGroupDescription", "a", "", "op",
};

static const char *const strings[] = {
	"", "j1", "j2", "j3", "new", "t1", "t2", "t3", "g1", "g2", "ns", "QUEUED",
	"IN_PROGRESS", "SUCCEEDED", "FAILED", "REJECTED", "TIMED_OUT", "REMOVED", "CANCELED",
	"COMPLETED", "SCHEDULED", "DELETION_IN_PROGRESS", "SNAPSHOT", "CONTINUOUS", "ALL",
	"CANCEL", "FORCE_CANCEL", "STOP_ROLLOUT", ARN "thing/t1", ARN "thinggroup/g1",
	ARN "thinggroup/", ARN "job/j1", "0", "1", "50", "-1", "9223372036854775807",
	"2023-11-14T23:00", "2023-11-15T00:00:30Z", "\xc3\xa9t\xc3\xa9", "\xf0\x9f\x98\x80",
	"\xe2\x80\x8b", "a:b", "$next",
};

static const double numbers[] = {
	0, 1, -1, 2, 3, 10, 50, 100, 101, 250, 251, 1000, 1001, 10080, 10081, 1.1, 1.09, 5,
	5.01, 0.5, 2147483647.0, 2147483648.0, -2147483649.0, 9007199254740992.0,
	9223372036854775807.0, 1e19, -1e19, 1e300, -1e300, 4.9e-324,
};

static const char *const job_ids[] = { "j1", "j2", "j3", "j4", "new", "x-y_z" };
static const char *const thing_names[] = { "t1", "t2", "t3", "t4", "t:5" };
static const char *const group_names[] = { "g1", "g2", "g3" };
static const char *const statuses[] = {
	"QUEUED", "IN_PROGRESS", "SUCCEEDED", "FAILED", "REJECTED", "TIMED_OUT", "REMOVED",
	"CANCELED", "COMPLETED", "SCHEDULED", "DELETION_IN_PROGRESS", "queued",
};
static const char *const failure_types[] = { "FAILED", "TIMED_OUT", "REJECTED", "ALL", "SUCCEEDED" };
static const char *const template_ids[] = { "tp1", "tp2", "tp3", "AWS-Reboot" };
static const char *const managed_names[] = {
	"AWS-Download-File", "AWS-Install-Application", "AWS-Reboot", "AWS-Remove-Application",
	"AWS-Restart-Application", "AWS-Start-Application", "AWS-Stop-Application", "AWS-Run-Command",
};
static const char *const attribute_names[] = { "model", "site", "fw", "a.b@c/d:e#f", "" };
static const char *const attribute_values[] = { "ms-2", "plant-1", "1.4.2", "", "x=[y]", "\xc3\xa9" };
static const char *const event_types[] = {
	"JOB", "JOB_EXECUTION", "THING", "THING_GROUP", "THING_TYPE", "CA_CERTIFICATE", "POLICY", "job",
};
static const char *const template_versions[] = { "1.0", "2.0", "1", "x.y", "11.0" };
static const char *const param_keys[] = {
	"downloadUrl", "filePath", "runAsUser", "pathToHandler", "packages", "services", "other",
};

#define PICK(r, table) (table)[fr_u8(r) % N(table)]

static cJSON *gen_value(struct fuzz_reader *r, int depth);

/* A string from the input: arbitrary bytes (maybe not UTF-8), or mapped to name
 * characters. */
static cJSON *gen_string(struct fuzz_reader *r, bool name_chars)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-:";
	size_t len = fr_u8(r);
	if(len > 200 && r->n > 4) len = 64u * (len - 200); /* sometimes long: up to 3.5k */
	if(len > r->n) len = r->n;
	char *s = malloc(len + 1);
	if(!s) return cJSON_CreateNull();
	for(size_t i = 0; i < len; i++){
		uint8_t b = fr_u8(r);
		s[i] = name_chars ? alphabet[b % (sizeof(alphabet) - 1)] : (char)(b ? b : 'x');
	}
	s[len] = '\0';
	cJSON *v = cJSON_CreateString(s);
	free(s);
	return v;
}

static cJSON *gen_number(struct fuzz_reader *r)
{
	switch(fr_u8(r) % 4){
	case 0: return cJSON_CreateNumber((int8_t)fr_u8(r));
	case 1: return cJSON_CreateNumber((int32_t)fr_u32(r));
	case 2: {
		uint64_t bits = fr_u64(r);
		double d;
		memcpy(&d, &bits, sizeof(d));
		if(!isfinite(d)) d = 0; /* JSON has neither */
		return cJSON_CreateNumber(d);
	}
	default: return cJSON_CreateNumber(PICK(r, numbers));
	}
}

/* Any JSON value, by the input. */
static cJSON *gen_value(struct fuzz_reader *r, int depth)
{
	uint8_t t = fr_u8(r) % (depth >= 4 ? 9 : 11);
	switch(t){
	case 0: return cJSON_CreateNull();
	case 1: return cJSON_CreateTrue();
	case 2: return cJSON_CreateFalse();
	case 3: case 4: return gen_number(r);
	case 5: case 6: return cJSON_CreateString(PICK(r, strings));
	case 7: return gen_string(r, true);
	case 8: return gen_string(r, false);
	case 9: {
		cJSON *a = cJSON_CreateArray();
		for(int n = fr_u8(r) % 5; n > 0 && r->n; n--) cJSON_AddItemToArray(a, gen_value(r, depth + 1));
		return a;
	}
	default: {
		cJSON *o = cJSON_CreateObject();
		for(int n = fr_u8(r) % 5; n > 0 && r->n; n--){
			const char *k = PICK(r, keys);
			cJSON_AddItemToObject(o, k, gen_value(r, depth + 1));
		}
		return o;
	}
	}
}

/* A value for `key` in an object: a plausible one most of the time. */
typedef cJSON *(*gen_fn)(struct fuzz_reader *r);

static cJSON *maybe(struct fuzz_reader *r, gen_fn good)
{
	return fr_u8(r) < 200 ? good(r) : gen_value(r, 2);
}

static cJSON *small_int(struct fuzz_reader *r)
{
	return fr_u8(r) & 1 ? cJSON_CreateNumber(PICK(r, numbers)) : cJSON_CreateNumber(fr_u8(r) % 12);
}

static cJSON *rate(struct fuzz_reader *r)
{
	return fr_u8(r) & 1 ? cJSON_CreateNumber(PICK(r, numbers)) : cJSON_CreateNumber(1 + fr_u8(r) % 4);
}

static cJSON *minutes(struct fuzz_reader *r)
{
	return fr_u8(r) & 1 ? cJSON_CreateNumber(PICK(r, numbers)) : cJSON_CreateNumber(1 + fr_u8(r) % 5);
}

static cJSON *failure_type(struct fuzz_reader *r) { return cJSON_CreateString(PICK(r, failure_types)); }

static cJSON *date(struct fuzz_reader *r)
{
	char s[64];
	int n = snprintf(s, sizeof(s), "%04d-%02d-%02dT%02d:%02d", 2023 + fr_u8(r) % 3 - (fr_u8(r) == 0 ? 2000 : 0),
			fr_u8(r) % 14, fr_u8(r) % 33, fr_u8(r) % 26, fr_u8(r) % 62);
	uint8_t tail = fr_u8(r);
	if(tail & 1) n += snprintf(s + n, sizeof(s) - (size_t)n, ":%02d", fr_u8(r) % 62);
	if(tail & 2) snprintf(s + n, sizeof(s) - (size_t)n, "Z");
	if((tail & 0xF0) == 0xF0) s[fr_u8(r) % strlen(s)] = (char)fr_u8(r);
	if(!s[0]) s[0] = '0';
	return cJSON_CreateString(s);
}

/* A date near the service's clock: minutes from now, either way. */
static cJSON *date_near(struct fuzz_reader *r)
{
	if(fr_u8(r) < 64) return date(r);
	return cJSON_CreateNumber(0); /* replaced by gen_scheduling, which knows the clock */
}

static int64_t current_clock_ms;

static cJSON *near_string(struct fuzz_reader *r)
{
	int64_t t = current_clock_ms / 1000 + ((int64_t)(int8_t)fr_u8(r)) * 60;
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	char s[32];
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M", &tm);
	return cJSON_CreateString(s);
}

static cJSON *gen_criteria(struct fuzz_reader *r, bool abort_kind)
{
	cJSON *list = cJSON_CreateArray();
	for(int n = 1 + fr_u8(r) % 3; n > 0; n--){
		cJSON *c = cJSON_CreateObject();
		uint8_t skip = fr_u8(r);
		if(!(skip & 1)) cJSON_AddItemToObject(c, "failureType", maybe(r, failure_type));
		if(abort_kind){
			if(!(skip & 2)) cJSON_AddItemToObject(c, "action", fr_u8(r) < 220 ? cJSON_CreateString("CANCEL") : gen_value(r, 3));
			if(!(skip & 4)) cJSON_AddItemToObject(c, "thresholdPercentage", fr_u8(r) & 1 ? gen_number(r) : cJSON_CreateNumber(fr_u8(r) % 101));
			if(!(skip & 8)) cJSON_AddItemToObject(c, "minNumberOfExecutedThings", small_int(r));
		}else{
			if(!(skip & 2)) cJSON_AddItemToObject(c, "numberOfRetries", small_int(r));
		}
		if((skip & 0xF0) == 0xF0) cJSON_AddItemToObject(c, PICK(r, keys), gen_value(r, 3));
		cJSON_AddItemToArray(list, c);
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "criteriaList", fr_u8(r) < 240 ? list : (cJSON_Delete(list), gen_value(r, 2)));
	return o;
}

static cJSON *gen_field(struct fuzz_reader *r, enum field f)
{
	if(fr_u8(r) >= 224) return gen_value(r, 1); /* any JSON at all */
	switch(f){
	case F_JOB_ID: {
		/* Mostly the table's; else one of 256 more, so jobs pile up. */
		uint8_t k = fr_u8(r);
		if(k < 192) return cJSON_CreateString(job_ids[k % N(job_ids)]);
		char id[16];
		snprintf(id, sizeof(id), "k%u", fr_u8(r));
		return cJSON_CreateString(id);
	}
	case F_THING: return cJSON_CreateString(PICK(r, thing_names));
	case F_GROUP: case F_PREFIX: return cJSON_CreateString(PICK(r, group_names));
	case F_TARGETS: {
		cJSON *a = cJSON_CreateArray();
		for(int n = 1 + fr_u8(r) % 4; n > 0; n--){
			char s[128];
			uint8_t k = fr_u8(r);
			switch(k % 4){
			case 0: snprintf(s, sizeof(s), ARN "thinggroup/%s", PICK(r, group_names)); break;
			case 1: snprintf(s, sizeof(s), ARN "thing/%s", PICK(r, thing_names)); break;
			case 2: snprintf(s, sizeof(s), "arn:aws:iot:eu-west-9:123:thing/%s", PICK(r, thing_names)); break;
			default: snprintf(s, sizeof(s), "%s", PICK(r, thing_names)); break;
			}
			cJSON_AddItemToArray(a, k >= 250 ? gen_value(r, 3) : cJSON_CreateString(s));
		}
		return a;
	}
	case F_DOCUMENT: {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "op", "x");
		uint8_t pad = fr_u8(r);
		if(pad >= 128){
			/* Up to 32 KB, so the capped database fills up now and then. */
			size_t n = (size_t)(pad - 127) * 256;
			char *big = malloc(n + 1);
			if(big){
				memset(big, 'p', n);
				big[n] = '\0';
				cJSON_AddStringToObject(o, "pad", big);
				free(big);
			}
		}
		for(int n = fr_u8(r) % 3; n > 0; n--) cJSON_AddItemToObject(o, PICK(r, keys), gen_value(r, 2));
		return o;
	}
	case F_DESCRIPTION: case F_REASON: case F_COMMENT: return gen_string(r, fr_u8(r) & 1);
	case F_TARGET_SELECTION: return cJSON_CreateString(fr_u8(r) & 1 ? "CONTINUOUS" : "SNAPSHOT");
	case F_NAMESPACE: return cJSON_CreateString(fr_u8(r) & 1 ? "ns" : "ns2");
	case F_TIMEOUT: {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddItemToObject(o, "inProgressTimeoutInMinutes", minutes(r));
		return o;
	}
	case F_RETRY: return gen_criteria(r, false);
	case F_ABORT: return gen_criteria(r, true);
	case F_ROLLOUT: {
		cJSON *o = cJSON_CreateObject();
		uint8_t parts = fr_u8(r);
		if(parts & 1) cJSON_AddItemToObject(o, "maximumPerMinute", rate(r));
		if(parts & 2){
			cJSON *e = cJSON_AddObjectToObject(o, "exponentialRate");
			if(!(parts & 4)) cJSON_AddItemToObject(e, "baseRatePerMinute", rate(r));
			if(!(parts & 8)) cJSON_AddItemToObject(e, "incrementFactor",
					fr_u8(r) & 1 ? cJSON_CreateNumber(1.0 + (fr_u8(r) % 45) / 10.0) : gen_number(r));
			if(!(parts & 16)){
				cJSON *c = cJSON_AddObjectToObject(e, "rateIncreaseCriteria");
				uint8_t which = fr_u8(r);
				if(which & 1) cJSON_AddItemToObject(c, "numberOfNotifiedThings", small_int(r));
				if(which & 2) cJSON_AddItemToObject(c, "numberOfSucceededThings", small_int(r));
			}
		}
		return o;
	}
	case F_SCHEDULING: {
		cJSON *o = cJSON_CreateObject();
		uint8_t parts = fr_u8(r);
		if(parts & 1){
			cJSON *d = date_near(r);
			if(cJSON_IsNumber(d)){ cJSON_Delete(d); d = near_string(r); }
			cJSON_AddItemToObject(o, "startTime", d);
		}
		if(parts & 2){
			cJSON *d = date_near(r);
			if(cJSON_IsNumber(d)){ cJSON_Delete(d); d = near_string(r); }
			cJSON_AddItemToObject(o, "endTime", d);
		}
		if(parts & 4){
			static const char *const behaviors[] = { "STOP_ROLLOUT", "CANCEL", "FORCE_CANCEL", "cancel" };
			cJSON_AddStringToObject(o, "endBehavior", PICK(r, behaviors));
		}
		if((parts & 0x18) == 0x18) cJSON_AddItemToObject(o, "maintenanceWindows", gen_value(r, 2));
		if((parts & 0x18) == 0x10){
			static const char *const crons[] = {
				"cron(0 0 * * ? *)", "cron(*/5 * * * ? *)", "cron(0 2 ? * MON-FRI *)", "cron(0 3 L * ? *)",
				"cron(0 6 LW * ? *)", "cron(0 0 15W * ? 2026)", "cron(0 0 ? 12 2#3 *)", "cron(0 0 ? * 6L *)",
				"cron(0 0 30 2 ? *)", "0 12 1 JAN,JUL ? *", "cron(0 10 * * MON *)", "cron(60 0 * * ? *)",
			};
			cJSON *list = cJSON_AddArrayToObject(o, "maintenanceWindows");
			for(int n = fr_u8(r) % 3; n >= 0; n--){
				cJSON *w = cJSON_CreateObject();
				cJSON_AddStringToObject(w, "startTime", PICK(r, crons));
				cJSON_AddNumberToObject(w, "durationInMinutes", fr_u8(r) & 1 ? 1 + fr_u8(r) % 60 : fr_u8(r) * 7);
				cJSON_AddItemToArray(list, w);
			}
		}
		return o;
	}
	case F_FORCE: return cJSON_CreateBool(fr_u8(r) & 1);
	case F_STATUS: return cJSON_CreateString(PICK(r, statuses));
	case F_MAX_RESULTS: return cJSON_CreateNumber(fr_u8(r) & 1 ? PICK(r, numbers) : 1 + fr_u8(r) % 4);
	case F_NEXT_TOKEN: {
		char s[32];
		snprintf(s, sizeof(s), "%d", (int8_t)fr_u8(r));
		return cJSON_CreateString(fr_u8(r) & 1 ? s : PICK(r, strings));
	}
	case F_EXEC_NUMBER: case F_EXPECTED_VERSION: return small_int(r);
	case F_STATUS_DETAILS: {
		cJSON *o = cJSON_CreateObject();
		for(int n = fr_u8(r) % 12; n > 0; n--){
			char k[8];
			snprintf(k, sizeof(k), "k%u", fr_u8(r) % 16);
			cJSON_AddItemToObject(o, k, fr_u8(r) & 1 ? gen_string(r, false) : cJSON_CreateString(PICK(r, strings)));
		}
		return o;
	}
	case F_GROUP_PROPS: {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddItemToObject(o, "thingGroupDescription", gen_string(r, fr_u8(r) & 1));
		return o;
	}
	case F_CORRELATION: return gen_value(r, 2);
	case F_TEMPLATE_ID: return cJSON_CreateString(PICK(r, template_ids));
	case F_TEMPLATE_ARN: {
		char s[160];
		uint8_t k = fr_u8(r);
		if(k & 1) snprintf(s, sizeof(s), ARN "jobtemplate/%s", PICK(r, template_ids));
		else if(k & 2) snprintf(s, sizeof(s), "arn:aws:iot:us-east-1::jobtemplate/%s", PICK(r, managed_names));
		else snprintf(s, sizeof(s), "arn:aws:iot:us-east-1::jobtemplate/%s:%s", PICK(r, managed_names),
				PICK(r, template_versions));
		return cJSON_CreateString(s);
	}
	case F_DOC_PARAMS: {
		cJSON *o = cJSON_CreateObject();
		for(int n = fr_u8(r) % 5; n > 0; n--){
			cJSON_AddItemToObject(o, PICK(r, param_keys), fr_u8(r) & 1 ? gen_string(r, false)
					: cJSON_CreateString(PICK(r, strings)));
		}
		return o;
	}
	case F_JOB_ARN: {
		char s[128];
		snprintf(s, sizeof(s), ARN "job/%s", PICK(r, job_ids));
		return cJSON_CreateString(s);
	}
	case F_TEMPLATE_NAME: return cJSON_CreateString(PICK(r, managed_names));
	case F_TEMPLATE_VERSION: return cJSON_CreateString(PICK(r, template_versions));
	case F_WINDOWS: {
		cJSON *a = cJSON_CreateArray();
		for(int n = fr_u8(r) % 3; n > 0; n--){
			cJSON *w = cJSON_CreateObject();
			cJSON_AddItemToObject(w, "startTime", fr_u8(r) & 1 ? cJSON_CreateString("cron(0 2 * * ? *)")
					: gen_string(r, false));
			cJSON_AddItemToObject(w, "durationInMinutes", fr_u8(r) & 1 ? minutes(r) : gen_number(r));
			cJSON_AddItemToArray(a, w);
		}
		return a;
	}
	case F_THING_TYPE: return cJSON_CreateString(fr_u8(r) & 1 ? "sensor" : "pump");
	case F_ATTRIBUTES: {
		/* {"attributes": {...}, "merge": bool}; an empty value removes an attribute */
		cJSON *o = cJSON_CreateObject();
		cJSON *a = cJSON_AddObjectToObject(o, "attributes");
		for(int n = fr_u8(r) % 5; n > 0; n--){
			cJSON_AddItemToObject(a, PICK(r, attribute_names), fr_u8(r) < 32 ? gen_value(r, 3)
					: cJSON_CreateString(PICK(r, attribute_values)));
		}
		uint8_t m = fr_u8(r);
		if(m & 1) cJSON_AddItemToObject(o, "merge", m & 2 ? cJSON_CreateTrue() : gen_value(r, 3));
		return o;
	}
	case F_REMOVE_TYPE: case F_ATTR_PREFIX: return cJSON_CreateBool(fr_u8(r) & 1);
	case F_ATTR_NAME: return cJSON_CreateString(PICK(r, attribute_names));
	case F_ATTR_VALUE: return cJSON_CreateString(PICK(r, attribute_values));
	case F_EVENT_CONFIGS: {
		cJSON *o = cJSON_CreateObject();
		for(int n = fr_u8(r) % 4; n > 0; n--){
			cJSON *c = cJSON_CreateObject();
			uint8_t k = fr_u8(r);
			if(k < 240) cJSON_AddItemToObject(c, "Enabled", cJSON_CreateBool(k & 1));
			else cJSON_AddItemToObject(c, "Enabled", gen_value(r, 3));
			cJSON_AddItemToObject(o, PICK(r, event_types), c);
		}
		return o;
	}
	default: return gen_value(r, 1);
	}
}

static const char *field_key(struct fuzz_reader *r, enum field f)
{
	return f == F_UNSUPPORTED ? PICK(r, unsupported) : field_names[f];
}

/* Each command's fields (management.md), in the order of the command table. */
static const enum field command_fields[][16] = {
	/* createJob */ { F_JOB_ID, F_TARGETS, F_DOCUMENT, F_DESCRIPTION, F_TARGET_SELECTION, F_NAMESPACE,
		F_TIMEOUT, F_RETRY, F_ROLLOUT, F_ABORT, F_SCHEDULING, F_TEMPLATE_ARN, F_DOC_PARAMS, F_COUNT },
	/* cancelJob */ { F_JOB_ID, F_FORCE, F_REASON, F_COMMENT, F_COUNT },
	/* deleteJob */ { F_JOB_ID, F_FORCE, F_COUNT },
	/* describeJob */ { F_JOB_ID, F_COUNT },
	/* getJobDocument */ { F_JOB_ID, F_COUNT },
	/* listJobs */ { F_STATUS, F_TARGET_SELECTION, F_GROUP, F_NAMESPACE, F_MAX_RESULTS, F_NEXT_TOKEN, F_COUNT },
	/* describeJobExecution */ { F_JOB_ID, F_THING, F_EXEC_NUMBER, F_COUNT },
	/* cancelJobExecution */ { F_JOB_ID, F_THING, F_FORCE, F_EXPECTED_VERSION, F_STATUS_DETAILS, F_COUNT },
	/* deleteJobExecution */ { F_JOB_ID, F_THING, F_EXEC_NUMBER, F_FORCE, F_COUNT },
	/* listJobExecutionsForJob */ { F_JOB_ID, F_STATUS, F_MAX_RESULTS, F_NEXT_TOKEN, F_COUNT },
	/* listJobExecutionsForThing */ { F_THING, F_STATUS, F_NAMESPACE, F_MAX_RESULTS, F_NEXT_TOKEN, F_COUNT },
	/* createThingGroup */ { F_GROUP, F_GROUP_PROPS, F_COUNT },
	/* deleteThingGroup */ { F_GROUP, F_COUNT },
	/* addThingToThingGroup */ { F_GROUP, F_THING, F_COUNT },
	/* removeThingFromThingGroup */ { F_GROUP, F_THING, F_COUNT },
	/* listThingsInThingGroup */ { F_GROUP, F_MAX_RESULTS, F_NEXT_TOKEN, F_COUNT },
	/* listThingGroups */ { F_PREFIX, F_MAX_RESULTS, F_NEXT_TOKEN, F_COUNT },
	/* describeBroker */ { F_COUNT },
	/* createJobTemplate */ { F_TEMPLATE_ID, F_DESCRIPTION, F_DOCUMENT, F_JOB_ARN, F_TIMEOUT, F_RETRY, F_ROLLOUT,
		F_ABORT, F_WINDOWS, F_COUNT },
	/* describeJobTemplate */ { F_TEMPLATE_ID, F_COUNT },
	/* listJobTemplates */ { F_MAX_RESULTS, F_NEXT_TOKEN, F_COUNT },
	/* deleteJobTemplate */ { F_TEMPLATE_ID, F_COUNT },
	/* listManagedJobTemplates */ { F_TEMPLATE_NAME, F_MAX_RESULTS, F_NEXT_TOKEN, F_COUNT },
	/* describeManagedJobTemplate */ { F_TEMPLATE_NAME, F_TEMPLATE_VERSION, F_COUNT },
	/* updateJob */ { F_JOB_ID, F_DESCRIPTION, F_ROLLOUT, F_ABORT, F_TIMEOUT, F_RETRY, F_NAMESPACE,
		F_UNSUPPORTED, F_COUNT },
	/* associateTargetsWithJob */ { F_JOB_ID, F_TARGETS, F_COMMENT, F_NAMESPACE, F_COUNT },
	/* createThing */ { F_THING, F_THING_TYPE, F_ATTRIBUTES, F_COUNT },
	/* describeThing */ { F_THING, F_COUNT },
	/* updateThing */ { F_THING, F_THING_TYPE, F_ATTRIBUTES, F_EXPECTED_VERSION, F_REMOVE_TYPE, F_COUNT },
	/* deleteThing */ { F_THING, F_EXPECTED_VERSION, F_COUNT },
	/* listThings */ { F_ATTR_NAME, F_ATTR_VALUE, F_THING_TYPE, F_ATTR_PREFIX, F_MAX_RESULTS, F_NEXT_TOKEN,
		F_COUNT },
	/* listThingGroupsForThing */ { F_THING, F_MAX_RESULTS, F_NEXT_TOKEN, F_COUNT },
	/* updateEventConfigurations */ { F_EVENT_CONFIGS, F_COUNT },
	/* describeEventConfigurations */ { F_COUNT },
};
_Static_assert(N(command_fields) == N(commands), "one row of fields per command");

/* Builds the structured request from the reader; the caller frees the string. */
static char *build_request(struct fuzz_reader *r)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *list = cJSON_AddArrayToObject(root, "commands");
	int count = 1 + fr_u8(r) % 4;
	for(int n = 0; n < count && (n == 0 || r->n); n++){
		cJSON *cmd = cJSON_CreateObject();
		uint8_t c = fr_u8(r);
		size_t which = c % N(commands);
		if(c < 250) cJSON_AddStringToObject(cmd, "command", commands[which]);
		else cJSON_AddItemToObject(cmd, "command", gen_value(r, 3));
		/* The command's own fields, each three times in four; then a few of any. */
		for(const enum field *f = command_fields[which]; *f != F_COUNT; f++){
			if(fr_u8(r) & 3) cJSON_AddItemToObject(cmd, field_key(r, *f), gen_field(r, *f));
		}
		for(int k = fr_u8(r) % 8 - 5; k > 0 && r->n; k--){
			enum field f = (enum field)(fr_u8(r) % F_COUNT);
			const char *key = field_key(r, f);
			cJSON_AddItemToObject(cmd, key, gen_field(r, f));
		}
		cJSON_AddItemToArray(list, fr_u8(r) < 252 ? cmd : (cJSON_Delete(cmd), gen_value(r, 3)));
	}
	char *s = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return s;
}

static struct service *svc;
static unsigned inputs, reset_every;
static int db_max_mb = 1;
#define FILLER_JOBS 200

/* A device request built from the rest of the input. */
static void device_request(struct fuzz_reader *r, struct outbox *ob)
{
	static const char *const device_statuses[] = { "IN_PROGRESS", "SUCCEEDED", "FAILED", "REJECTED", "QUEUED" };
	char topic[256], payload[256];
	uint8_t b = fr_u8(r);
	const char *thing = thing_names[b % 4];
	const char *job = job_ids[(b >> 2) % N(job_ids)];
	if(b & 0x80){
		snprintf(topic, sizeof(topic), "$aws/things/%s/jobs/start-next", thing);
		snprintf(payload, sizeof(payload), "{\"stepTimeoutInMinutes\":%d}", 1 + fr_u8(r) % 3);
	}else{
		snprintf(topic, sizeof(topic), "$aws/things/%s/jobs/%s/update", thing, job);
		snprintf(payload, sizeof(payload), "{\"status\":\"%s\"}", PICK(r, device_statuses));
	}
	struct jobs_request req = { .client_id = "dev", .topic = topic, .payload = payload,
		.payload_len = strlen(payload), .qos = 1, .now = current_clock_ms / 1000, .now_ms = current_clock_ms };
	mqtt_jobs_device(svc, &req, ob);
}

static void fresh_service(void)
{
	service_destroy(svc);
	svc = fuzz_service_new(db_max_mb);
	current_clock_ms = FUZZ_NOW_MS;
	fuzz_seed(svc,
		"{\"commands\":[{\"command\":\"createThingGroup\",\"thingGroupName\":\"g1\"},"
		"{\"command\":\"addThingToThingGroup\",\"thingGroupName\":\"g1\",\"thingName\":\"t3\"},"
		"{\"command\":\"createJob\",\"jobId\":\"j1\",\"targets\":[\"t1\",\"t2\"],\"document\":{\"op\":\"a\"}},"
		"{\"command\":\"createJob\",\"jobId\":\"j2\",\"targets\":[\"" ARN "thinggroup/g1\"],"
		"\"document\":{\"op\":\"b\"},\"targetSelection\":\"CONTINUOUS\","
		"\"timeoutConfig\":{\"inProgressTimeoutInMinutes\":2},"
		"\"jobExecutionsRetryConfig\":{\"criteriaList\":[{\"failureType\":\"ALL\",\"numberOfRetries\":1}]}}]}",
		current_clock_ms);
	fuzz_seed_device(svc, "$aws/things/t1/jobs/start-next", "{}", current_clock_ms);
	if(db_max_mb == 1){
		/* Fill most of the 1 MB, so the fuzzer's jobs push it over now and then. */
		static char req[4096];
		char pad[3201];
		memset(pad, 'f', sizeof(pad) - 1);
		pad[sizeof(pad) - 1] = '\0';
		for(int i = 0; i < FILLER_JOBS; i++){
			snprintf(req, sizeof(req), "{\"commands\":[{\"command\":\"createJob\",\"jobId\":\"f%d\","
					"\"targets\":[\"t9\"],\"document\":{\"pad\":\"%s\"}}]}", i, pad);
			fuzz_seed(svc, req, current_clock_ms);
		}
	}
	inputs = 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	reset_every = fuzz_reset_every(20000);
	const char *mb = getenv("FUZZ_DB_MAX_MB");
	if(mb && *mb) db_max_mb = atoi(mb);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if(size < 2) return 0;
	if(!svc || inputs >= reset_every) fresh_service();
	inputs++;

	uint8_t mode = data[0], clk = data[1];
	struct fuzz_reader r = { data + 2, size - 2 };
	char *payload;
	size_t len;
	if(mode & 1){
		payload = build_request(&r);
		if(!payload) return 0;
		len = strlen(payload);
	}else{
		/* Raw: a buffer of exactly the payload's size, so over-reads are seen. */
		len = size - 2;
		payload = malloc(len ? len : 1);
		if(!payload) return 0;
		memcpy(payload, data + 2, len);
	}
	if(getenv("FUZZ_SHOW")) fprintf(stderr, "request: %.*s\n", (int)len, payload);

	current_clock_ms += fuzz_clock_step(clk);
	static const char corr[] = "corr\0data";
	struct outbox ob = { 0 };
	service_set_group_commit(svc, !(mode & 0x10));
	if(mode & 0x20){
		/* what the HTTP API would hand over: UTF-8 JSON */
		cJSON *body = utf8_valid(payload, len) && !utf8_json_has_escaped_nul(payload, len)
			? jf_parse_strict(payload, len) : NULL;
		const cJSON *cmd;
		const cJSON *list = cJSON_GetObjectItemCaseSensitive(body, "commands");
		if(!cJSON_IsArray(list)) list = NULL;
		struct control_request creq = { .client_id = "http", .username = "http-user", .now_ms = current_clock_ms };
		cJSON_ArrayForEach(cmd, list){
			struct control_result res;
			service_control(svc, &creq, cmd, &res, &ob);
			/* data, or an exception with a message: one of them */
			if(!res.data == !res.exception || (res.data && !cJSON_IsObject(res.data))
					|| (res.exception && (!*res.exception || !utf8_valid(res.message, strlen(res.message))))){
				fprintf(stderr, "fuzz_control: service_control gave a bad result: %s: %s\n",
						res.exception ? res.exception : "(none)", res.message);
				abort();
			}
			control_result_free(&res);
		}
		cJSON_Delete(body);
	}else{
		struct jobs_request req = { .client_id = "op", .username = "admin",
			.topic = JOBS_CONTROL_TOPIC, .payload = payload, .payload_len = len,
			.qos = clk % 3, .now = current_clock_ms / 1000, .now_ms = current_clock_ms,
			.response_topic = mode & 2 ? (mode & 8 ? JOBS_CONTROL_RESPONSE_TOPIC : "reply/here") : NULL,
			.correlation_data = mode & 4 ? corr : NULL, .correlation_len = mode & 4 ? sizeof(corr) : 0 };
		size_t before = ob.count;
		mqtt_jobs_control(svc, &req, &ob);
		if(ob.count == before){
			fprintf(stderr, "fuzz_control: no response to a control request\n");
			abort();
		}
	}
	if(mode & 0x40) device_request(&r, &ob);
	service_flush(svc, current_clock_ms, &ob);
	fuzz_check_outbox(&ob, false, true);
	outbox_clear(&ob);

	service_tick(svc, current_clock_ms, &ob);
	fuzz_check_outbox(&ob, true, true);
	outbox_clear(&ob);
	free(payload);
	return 0;
}
