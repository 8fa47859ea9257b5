/* Job execution states and the device transition table (docs/protocol.md, UpdateJobExecution).
 * The numeric values are stored in the database: never renumber them. The two
 * pending states come first so that "IN_PROGRESS before QUEUED" is a plain sort. */
#ifndef MOSQUITTO_JOBS_STATUS_H
#define MOSQUITTO_JOBS_STATUS_H

#include <stdbool.h>

enum exec_status {
	EXEC_IN_PROGRESS = 0,
	EXEC_QUEUED = 1,
	EXEC_SUCCEEDED = 2,
	EXEC_FAILED = 3,
	EXEC_REJECTED = 4,
	EXEC_TIMED_OUT = 5,
	EXEC_REMOVED = 6,
	EXEC_CANCELED = 7,
	EXEC_STATUS_COUNT
};

/* The wire name ("IN_PROGRESS", ...), or "UNKNOWN" for a value out of range. */
const char *status_name(int status);
/* Parses a wire name; returns false when it names no status. */
bool status_parse(const char *name, enum exec_status *out);
/* QUEUED or IN_PROGRESS. */
bool status_is_pending(int status);
bool status_is_terminal(int status);
/* Whether a device may move an execution from `from` to `to` with an update. */
bool status_device_may_move(int from, int to);
/* Whether a device may name `to` in an update at all (not QUEUED, TIMED_OUT, ...). */
bool status_device_may_set(int to);

#endif
