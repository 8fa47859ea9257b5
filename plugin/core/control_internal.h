/* What the management API's files share: one context per command, the helpers of
 * control_fields.c (errors, field readers, pagination), and the handlers the command
 * table (control_api.c) names. */
#ifndef MOSQUITTO_JOBS_CONTROL_INTERNAL_H
#define MOSQUITTO_JOBS_CONTROL_INTERNAL_H

#include <cjson/cJSON.h>

#include "util/jsonfield.h"
#include "core/core_state.h"
#include "core/control.h"

struct control_ctx {
	struct service *svc;
	struct outbox *ob;
	int64_t now;                       /* epoch seconds */
	int64_t now_ms;
	char job_id[JOBS_JOB_ID_MAX + 1];  /* the command's job, for the audit line */
	const char *exception;             /* the AWS exception failing it; NULL: none */
	char message[CONTROL_MESSAGE_MAX];
};

/* Every command: read fields from cmd, fill data, return 0; or return -1 with
 * c->exception set (the command's transaction is then rolled back). */
typedef int (*control_fn)(struct control_ctx *c, const cJSON *cmd, cJSON *data);

/* Sets c->exception and c->message and returns -1, so handlers can `return control_fail(...)`. */
int control_fail(struct control_ctx *c, const char *exception, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int control_fail_invalid(struct control_ctx *c, const struct jf_error *err);
int control_fail_store(struct control_ctx *c);

/* Adds `key: arn:aws:iot:<region>:<account>:<kind>/<name>`. */
bool control_add_arn(struct control_ctx *c, cJSON *obj, const char *key, const char *kind, const char *name);

/* Appends {groupName, groupArn} to a list (listThingGroups, listThingGroupsForThing);
 * false when out of memory. */
bool control_add_group_entry(struct control_ctx *c, cJSON *list, const char *name);

/* Helpers (control_fields.c). */
/* Required jobId into c->job_id. */
int control_job_id(struct control_ctx *c, const cJSON *cmd);
/* A required id of the jobId pattern (1-64 of [a-zA-Z0-9_-]) under `key`, into `out`
 * (JOBS_JOB_ID_MAX + 1 bytes). */
int control_id(struct control_ctx *c, const cJSON *cmd, const char *key, char *out);
/* Loads the job c->job_id; ResourceNotFoundException when missing. */
int control_load_job(struct control_ctx *c, struct store_job *job);
/* A required thing name (also for thingGroupName: same pattern), into `out`. */
int control_name(struct control_ctx *c, const cJSON *cmd, const char *key, char *out);
/* An optional string of at most `max` characters (*out NULL when absent). */
int control_text(struct control_ctx *c, const cJSON *cmd, const char *key, size_t max, const char **out);
/* An optional execution status name (-1 when absent). */
int control_status_filter(struct control_ctx *c, const cJSON *cmd, int *status);

/* maxResults (1-250, default 50) and nextToken (an opaque offset). */
struct control_page {
	int64_t offset;
	int limit;
};
int control_page(struct control_ctx *c, const cJSON *cmd, struct control_page *page);
/* Adds nextToken when a page of `fetched` rows (asked limit + 1) had more. */
void control_page_next(cJSON *data, const struct control_page *page, size_t fetched);

/* A job's target (control_jobs.c): a bare thing name, a thing ARN or a thing group ARN;
 * a group must exist (ResourceNotFoundException). */
struct control_target {
	enum target_kind kind;
	char name[JOBS_THING_NAME_MAX + 1];
};
int control_parse_target(struct control_ctx *c, const cJSON *item, struct control_target *t);
/* The job reaches every thing of the group: a small group at once, a larger one through
 * the job's queue, walked by the tick (control_jobs.c). */
int control_queue_group(struct control_ctx *c, struct store_job *job, const char *group);

/* Handlers (control_jobs.c, control_executions.c, control_groups.c). */
int control_create_job(struct control_ctx *c, const cJSON *cmd, cJSON *data);
int control_cancel_job(struct control_ctx *c, const cJSON *cmd, cJSON *data);
int control_delete_job(struct control_ctx *c, const cJSON *cmd, cJSON *data);
int control_describe_job(struct control_ctx *c, const cJSON *cmd, cJSON *data);
int control_get_job_document(struct control_ctx *c, const cJSON *cmd, cJSON *data);
int control_list_jobs(struct control_ctx *c, const cJSON *cmd, cJSON *data);
int control_describe_job_execution(struct control_ctx *c, const cJSON *cmd, cJSON *data);
int control_cancel_job_execution(struct control_ctx *c, const cJSON *cmd, cJSON *data);
int control_delete_job_execution(struct control_ctx *c, const cJSON *cmd, cJSON *data);
int control_list_job_executions_for_job(struct control_ctx *c, const cJSON *cmd, cJSON *data);
int control_list_job_executions_for_thing(struct control_ctx *c, const cJSON *cmd, cJSON *data);
int control_create_thing_group(struct control_ctx *c, const cJSON *cmd, cJSON *data);
int control_delete_thing_group(struct control_ctx *c, const cJSON *cmd, cJSON *data);
int control_add_thing_to_thing_group(struct control_ctx *c, const cJSON *cmd, cJSON *data);
int control_remove_thing_from_thing_group(struct control_ctx *c, const cJSON *cmd, cJSON *data);
int control_list_things_in_thing_group(struct control_ctx *c, const cJSON *cmd, cJSON *data);
int control_list_thing_groups(struct control_ctx *c, const cJSON *cmd, cJSON *data);
/* UpdateJob and AssociateTargetsWithJob (control_job_update.c). */
int control_update_job(struct control_ctx *c, const cJSON *cmd, cJSON *data);
int control_associate_targets_with_job(struct control_ctx *c, const cJSON *cmd, cJSON *data);

/* Things (control_things.c). */
int control_create_thing(struct control_ctx *c, const cJSON *cmd, cJSON *data);
int control_describe_thing(struct control_ctx *c, const cJSON *cmd, cJSON *data);
int control_update_thing(struct control_ctx *c, const cJSON *cmd, cJSON *data);
int control_delete_thing(struct control_ctx *c, const cJSON *cmd, cJSON *data);
int control_list_things(struct control_ctx *c, const cJSON *cmd, cJSON *data);
int control_list_thing_groups_for_thing(struct control_ctx *c, const cJSON *cmd, cJSON *data);
/* With plugin_opt_require_registered_things on, fails with ResourceNotFoundException
 * unless `name` is a registered thing; 0 when it is, or the option is off. */
int control_registered_thing(struct control_ctx *c, const char *name);
/* Event configurations (control_events.c). */
int control_update_event_configurations(struct control_ctx *c, const cJSON *cmd, cJSON *data);
int control_describe_event_configurations(struct control_ctx *c, const cJSON *cmd, cJSON *data);

/* The broker itself (control_broker.c). */
int control_describe_broker(struct control_ctx *c, const cJSON *cmd, cJSON *data);

/* Test controls (control_testing.c): refused unless plugin_opt_test_controls is on. */
int control_set_faults(struct control_ctx *c, const cJSON *cmd, cJSON *data);
int control_clear_faults(struct control_ctx *c, const cJSON *cmd, cJSON *data);
int control_resend_notify_next(struct control_ctx *c, const cJSON *cmd, cJSON *data);
int control_disconnect_thing(struct control_ctx *c, const cJSON *cmd, cJSON *data);
int control_advance_time(struct control_ctx *c, const cJSON *cmd, cJSON *data);
int control_start_transcript(struct control_ctx *c, const cJSON *cmd, cJSON *data);
int control_get_transcript(struct control_ctx *c, const cJSON *cmd, cJSON *data);
int control_stop_transcript(struct control_ctx *c, const cJSON *cmd, cJSON *data);

/* Job templates (control_templates.c). */
int control_create_job_template(struct control_ctx *c, const cJSON *cmd, cJSON *data);
int control_describe_job_template(struct control_ctx *c, const cJSON *cmd, cJSON *data);
int control_list_job_templates(struct control_ctx *c, const cJSON *cmd, cJSON *data);
int control_delete_job_template(struct control_ctx *c, const cJSON *cmd, cJSON *data);
int control_list_managed_job_templates(struct control_ctx *c, const cJSON *cmd, cJSON *data);
int control_describe_managed_job_template(struct control_ctx *c, const cJSON *cmd, cJSON *data);
/* createJob with jobTemplateArn: *out is a new command (cJSON_Delete it), the
 * template's document and fields merged under the command's own (a managed template's
 * document with documentParameters substituted); *out is NULL when the command names
 * no template. -1 with the failure set (documentParameters without a managed
 * template, an unknown template, bad parameters). */
int control_template_expand(struct control_ctx *c, const cJSON *cmd, cJSON **out);
/* Keeps the command's jobTemplateArn and documentParameters with the job's policy
 * fields, for describeJob. */
int control_template_record(struct control_ctx *c, const cJSON *cmd, struct store_job *job);

#endif
