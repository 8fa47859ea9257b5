/* Job execution states' names and the device transition table (docs/protocol.md,
 * UpdateJobExecution). The states themselves (enum exec_status) are records of the
 * store port (store/store.h). */
#ifndef MOSQUITTO_JOBS_STATUS_H
#define MOSQUITTO_JOBS_STATUS_H

#include <stdbool.h>

#include "store/store.h"

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
