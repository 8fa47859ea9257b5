/* The management API's command table: one command in, a typed result out
 * (service.h, control.h). Each command runs in its own transaction. The handlers live
 * in one file per noun: control_jobs.c, control_executions.c, control_groups.c,
 * control_things.c, control_broker.c, control_testing.c, control_templates.c,
 * control_events.c; the helpers they share in control_fields.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/control_internal.h"
#include "core/txn.h"

/* ---- dispatch ---- */

static const struct {
	const char *name;
	control_fn fn;
} commands[] = {
	{ "createJob", control_create_job },
	{ "cancelJob", control_cancel_job },
	{ "deleteJob", control_delete_job },
	{ "describeJob", control_describe_job },
	{ "getJobDocument", control_get_job_document },
	{ "listJobs", control_list_jobs },
	{ "describeJobExecution", control_describe_job_execution },
	{ "cancelJobExecution", control_cancel_job_execution },
	{ "deleteJobExecution", control_delete_job_execution },
	{ "listJobExecutionsForJob", control_list_job_executions_for_job },
	{ "listJobExecutionsForThing", control_list_job_executions_for_thing },
	{ "createThingGroup", control_create_thing_group },
	{ "deleteThingGroup", control_delete_thing_group },
	{ "addThingToThingGroup", control_add_thing_to_thing_group },
	{ "removeThingFromThingGroup", control_remove_thing_from_thing_group },
	{ "listThingsInThingGroup", control_list_things_in_thing_group },
	{ "listThingGroups", control_list_thing_groups },
	{ "describeBroker", control_describe_broker },
	{ "setFaults", control_set_faults },
	{ "clearFaults", control_clear_faults },
	{ "resendNotifyNext", control_resend_notify_next },
	{ "disconnectThing", control_disconnect_thing },
	{ "advanceTime", control_advance_time },
	{ "startTranscript", control_start_transcript },
	{ "getTranscript", control_get_transcript },
	{ "stopTranscript", control_stop_transcript },
	{ "createJobTemplate", control_create_job_template },
	{ "describeJobTemplate", control_describe_job_template },
	{ "listJobTemplates", control_list_job_templates },
	{ "deleteJobTemplate", control_delete_job_template },
	{ "listManagedJobTemplates", control_list_managed_job_templates },
	{ "describeManagedJobTemplate", control_describe_managed_job_template },
	{ "createThing", control_create_thing },
	{ "describeThing", control_describe_thing },
	{ "updateThing", control_update_thing },
	{ "deleteThing", control_delete_thing },
	{ "listThings", control_list_things },
	{ "listThingGroupsForThing", control_list_thing_groups_for_thing },
	{ "updateJob", control_update_job },
	{ "associateTargetsWithJob", control_associate_targets_with_job },
	{ "updateEventConfigurations", control_update_event_configurations },
	{ "describeEventConfigurations", control_describe_event_configurations },
};

/* The command's index in the table, or -1. */
static int find_command(const char *name)
{
	for(size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++){
		if(strcmp(commands[i].name, name) == 0) return (int)i;
	}
	return -1;
}

void control_result_free(struct control_result *r)
{
	cJSON_Delete(r->data);
	memset(r, 0, sizeof(*r));
}

void control_run(struct service *svc, const struct control_request *req, const cJSON *cmd,
		struct control_result *out, struct outbox *ob)
{
	struct control_ctx c = { .svc = svc, .ob = ob, .now_ms = req->now_ms, .now = req->now_ms / 1000 };
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(cmd, "command");
	memset(out, 0, sizeof(*out));

	control_fn fn = NULL;
	int index = -1;
	if(!cJSON_IsObject(cmd)) control_fail(&c, "InvalidRequestException", "each command must be a JSON object");
	else if(!cJSON_IsString(name)) control_fail(&c, "InvalidRequestException", "command must be a string");
	else if((index = find_command(name->valuestring)) < 0){
		control_fail(&c, "InvalidRequestException", "unknown command '%.64s'", name->valuestring);
	}else{
		fn = commands[index].fn;
	}

	if(fn){
		size_t mark = ob->count;
		cJSON *data = cJSON_CreateObject();
		int rc = txn_begin(svc) == 0 ? 0 : control_fail_store(&c);
		if(rc == 0) rc = data ? fn(&c, cmd, data) : control_fail(&c, "InternalFailureException", "out of memory");
		if(rc == 0 && txn_commit(svc, c.now, ob) != 0) rc = control_fail_store(&c);
		else if(rc != 0) txn_abort(svc);
		if(rc == 0){
			out->data = data;
		}else{
			cJSON_Delete(data);
			outbox_truncate(ob, mark);
		}
	}
	out->exception = c.exception;
	snprintf(out->message, sizeof(out->message), "%s", c.message);
	metrics_control(svc->metrics, index >= 0 ? commands[index].name : NULL, c.exception);

	const char *user = req->username;
	if(c.exception){
		SVC_LOG(svc, JOBS_LOG_WARNING, "jobs: admin client=%s user=%s command=%s job=%s outcome=%s: %s",
				req->client_id ? req->client_id : "", user ? user : "",
				cJSON_IsString(name) ? name->valuestring : "?", c.job_id[0] ? c.job_id : "-",
				c.exception, c.message);
	}else{
		SVC_LOG(svc, JOBS_LOG_NOTICE, "jobs: admin client=%s user=%s command=%s job=%s outcome=ok",
				req->client_id ? req->client_id : "", user ? user : "",
				cJSON_IsString(name) ? name->valuestring : "?", c.job_id[0] ? c.job_id : "-");
	}
}
