/* Execution status names and the device transition table. */
#include "core/status.h"

#include <string.h>

static const char *const names[EXEC_STATUS_COUNT] = {
	[EXEC_IN_PROGRESS] = "IN_PROGRESS",
	[EXEC_QUEUED] = "QUEUED",
	[EXEC_SUCCEEDED] = "SUCCEEDED",
	[EXEC_FAILED] = "FAILED",
	[EXEC_REJECTED] = "REJECTED",
	[EXEC_TIMED_OUT] = "TIMED_OUT",
	[EXEC_REMOVED] = "REMOVED",
	[EXEC_CANCELED] = "CANCELED",
};

/* device_moves[from][to]: what an UpdateJobExecution may do. */
static const bool device_moves[EXEC_STATUS_COUNT][EXEC_STATUS_COUNT] = {
	[EXEC_QUEUED] = {
		[EXEC_IN_PROGRESS] = true, [EXEC_SUCCEEDED] = true,
		[EXEC_FAILED] = true, [EXEC_REJECTED] = true,
	},
	[EXEC_IN_PROGRESS] = {
		[EXEC_IN_PROGRESS] = true, [EXEC_SUCCEEDED] = true,
		[EXEC_FAILED] = true, [EXEC_REJECTED] = true,
	},
};

const char *status_name(int status)
{
	if(status < 0 || status >= EXEC_STATUS_COUNT) return "UNKNOWN";
	return names[status];
}

bool status_parse(const char *name, enum exec_status *out)
{
	for(int i = 0; i < EXEC_STATUS_COUNT; i++){
		if(strcmp(name, names[i]) == 0){
			*out = (enum exec_status)i;
			return true;
		}
	}
	return false;
}

bool status_is_pending(int status)
{
	return status == EXEC_QUEUED || status == EXEC_IN_PROGRESS;
}

bool status_is_terminal(int status)
{
	return status >= EXEC_SUCCEEDED && status < EXEC_STATUS_COUNT;
}

bool status_device_may_move(int from, int to)
{
	if(from < 0 || from >= EXEC_STATUS_COUNT || to < 0 || to >= EXEC_STATUS_COUNT) return false;
	return device_moves[from][to];
}

bool status_device_may_set(int to)
{
	return to == EXEC_IN_PROGRESS || to == EXEC_SUCCEEDED || to == EXEC_FAILED || to == EXEC_REJECTED;
}
