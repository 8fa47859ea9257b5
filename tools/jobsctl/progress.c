/* wait-job's view of a job: each describeJob reply drawn as one line (the job's
 * status, a bar of its executions that have ended, and their counts by status),
 * and whether the job has ended and how.
 *
 * On a terminal the line is redrawn in place (\r, then erase to the end of the
 * line); elsewhere (a pipe, a file, a CI log) it is printed as a plain line, and
 * only when it differs from the one before, so a log holds each change once:
 *
 *   job J IN_PROGRESS [#######.............] 35% 7/20 succeeded 6 failed 1 in progress 3 queued 10 */
#include <string.h>

#include "jobsctl.h"

#define BAR_WIDTH 20

/* jobProcessDetails' counts that wait-job shows. */
enum { N_SUCCEEDED, N_FAILED, N_REJECTED, N_TIMED_OUT, N_REMOVED, N_CANCELED, N_IN_PROGRESS, N_QUEUED, NCOUNTS };
static const char *const count_keys[NCOUNTS] = {
	[N_SUCCEEDED] = "numberOfSucceededThings",
	[N_FAILED] = "numberOfFailedThings",
	[N_REJECTED] = "numberOfRejectedThings",
	[N_TIMED_OUT] = "numberOfTimedOutThings",
	[N_REMOVED] = "numberOfRemovedThings",
	[N_CANCELED] = "numberOfCanceledThings",
	[N_IN_PROGRESS] = "numberOfInProgressThings",
	[N_QUEUED] = "numberOfQueuedThings",
};

void progress_init(struct progress *p, FILE *f, bool tty)
{
	memset(p, 0, sizeof(*p));
	p->f = f;
	p->tty = tty;
}

static long long count_of(const cJSON *details, const char *key)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(details, key);
	return cJSON_IsNumber(n) && n->valuedouble > 0 ? (long long)n->valuedouble : 0;
}

static void print_line(struct progress *p, const char *line)
{
	if(p->tty){
		fprintf(p->f, "\r%s\033[K", line);
	}else if(strcmp(line, p->last) != 0){
		fprintf(p->f, "%s\n", line);
	}
	fflush(p->f);
	snprintf(p->last, sizeof(p->last), "%s", line);
}

int progress_show(struct progress *p, const cJSON *data)
{
	const cJSON *job = cJSON_GetObjectItemCaseSensitive(data, "job");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(job, "jobId");
	const cJSON *status = cJSON_GetObjectItemCaseSensitive(job, "status");
	if(!cJSON_IsString(id) || !cJSON_IsString(status)){
		progress_end(p);
		fprintf(stderr, "jobsctl: malformed reply: describeJob gave no job with a jobId and a status\n");
		return JOBSCTL_EXIT_ERROR;
	}
	const cJSON *details = cJSON_GetObjectItemCaseSensitive(job, "jobProcessDetails");
	long long n[NCOUNTS];
	long long total = 0;
	for(int i = 0; i < NCOUNTS; i++){
		n[i] = count_of(details, count_keys[i]);
		total += n[i];
	}
	long long failed = n[N_FAILED] + n[N_REJECTED] + n[N_TIMED_OUT];
	long long running = n[N_IN_PROGRESS] + n[N_QUEUED];
	long long done = total - running;
	const cJSON *selection = cJSON_GetObjectItemCaseSensitive(job, "targetSelection");
	bool continuous = cJSON_IsString(selection) && strcmp(selection->valuestring, "CONTINUOUS") == 0;

	const char *s = status->valuestring;
	int ended = -1;
	if(strcmp(s, "CANCELED") == 0 || strcmp(s, "DELETION_IN_PROGRESS") == 0){
		ended = JOBSCTL_EXIT_CANCELED;
	}else if(strcmp(s, "COMPLETED") == 0 || (continuous && strcmp(s, "IN_PROGRESS") == 0 && running == 0)){
		ended = failed ? JOBSCTL_EXIT_FAILURES : JOBSCTL_EXIT_OK;
	}

	int pct = total ? (int)(done * 100 / total) : (ended >= 0 ? 100 : 0);
	char bar[BAR_WIDTH + 1];
	int filled = pct * BAR_WIDTH / 100;
	for(int i = 0; i < BAR_WIDTH; i++) bar[i] = i < filled ? '#' : '.';
	bar[BAR_WIDTH] = '\0';
	char line[sizeof(p->last)];
	int len = snprintf(line, sizeof(line), "job %s %s [%s] %3d%% %lld/%lld succeeded %lld failed %lld "
			"in progress %lld queued %lld", id->valuestring, s, bar, pct, done, total, n[N_SUCCEEDED], failed,
			n[N_IN_PROGRESS], n[N_QUEUED]);
	if(len >= 0 && (size_t)len < sizeof(line) && n[N_CANCELED] + n[N_REMOVED]){
		len += snprintf(line + len, sizeof(line) - (size_t)len, " canceled %lld removed %lld", n[N_CANCELED],
				n[N_REMOVED]);
	}
	if(len >= 0 && (size_t)len < sizeof(line) && continuous && ended >= 0 && ended != JOBSCTL_EXIT_CANCELED){
		snprintf(line + len, sizeof(line) - (size_t)len, " (continuous: nothing queued or in progress)");
	}
	print_line(p, line);
	if(ended >= 0) progress_end(p);
	return ended;
}

void progress_end(struct progress *p)
{
	if(p->tty && p->last[0]){
		fputc('\n', p->f);
		fflush(p->f);
		p->last[0] = '\0';
	}
}
