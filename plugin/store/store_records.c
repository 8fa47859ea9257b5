/* The port's records (store.h), whichever store filled them: freeing jobs, executions,
 * groups, templates and things, the job states' names, an execution's running deadline. */
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

static const char *const job_status_names[JOB_STATUS_COUNT] = {
	[JOB_IN_PROGRESS] = "IN_PROGRESS",
	[JOB_COMPLETED] = "COMPLETED",
	[JOB_CANCELED] = "CANCELED",
	[JOB_DELETION_IN_PROGRESS] = "DELETION_IN_PROGRESS",
	[JOB_SCHEDULED] = "SCHEDULED",
};

const char *store_job_status_name(int status)
{
	if(status < 0 || status >= JOB_STATUS_COUNT) return "UNKNOWN";
	return job_status_names[status];
}

void store_job_free(struct store_job *job)
{
	free(job->description);
	free(job->document);
	free(job->targets);
	free(job->reason_code);
	free(job->comment);
	free(job->abort_config);
	free(job->policies);
	free(job->maintenance_windows);
	memset(job, 0, sizeof(*job));
}

void store_job_array_free(struct store_job *jobs, size_t count)
{
	for(size_t i = 0; i < count; i++) store_job_free(&jobs[i]);
	free(jobs);
}

void store_exec_free(struct store_exec *exec)
{
	free(exec->status_details);
	free(exec->document);
	memset(exec, 0, sizeof(*exec));
}

void store_exec_array_free(struct store_exec *execs, size_t count)
{
	for(size_t i = 0; i < count; i++) store_exec_free(&execs[i]);
	free(execs);
}

int64_t store_exec_deadline(const struct store_exec *e)
{
	if(!e->step_deadline_ms) return e->progress_deadline_ms;
	if(!e->progress_deadline_ms) return e->step_deadline_ms;
	return e->step_deadline_ms < e->progress_deadline_ms ? e->step_deadline_ms : e->progress_deadline_ms;
}

void store_group_free(struct store_group *g)
{
	free(g->description);
	memset(g, 0, sizeof(*g));
}

void store_group_array_free(struct store_group *groups, size_t count)
{
	for(size_t i = 0; i < count; i++) store_group_free(&groups[i]);
	free(groups);
}

void store_thing_free(struct store_thing *thing)
{
	free(thing->type_name);
	free(thing->attributes);
	memset(thing, 0, sizeof(*thing));
}

void store_thing_array_free(struct store_thing *things, size_t count)
{
	for(size_t i = 0; i < count; i++) store_thing_free(&things[i]);
	free(things);
}

void store_template_free(struct store_template *t)
{
	free(t->description);
	free(t->fields);
	memset(t, 0, sizeof(*t));
}

void store_template_array_free(struct store_template *templates, size_t count)
{
	for(size_t i = 0; i < count; i++) store_template_free(&templates[i]);
	free(templates);
}
