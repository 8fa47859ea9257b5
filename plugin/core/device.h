/* The device API, typed: GetPendingJobExecutions, StartNextPendingJobExecution,
 * DescribeJobExecution and UpdateJobExecution as one request in, one result out.
 * The result is data (store rows), not JSON: each adapter renders it in its own
 * shape (the MQTT adapter AWS's MQTT replies, the HTTP adapter AWS's HTTP ones). */
#ifndef MOSQUITTO_JOBS_DEVICE_H
#define MOSQUITTO_JOBS_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

enum device_op { DEVICE_GET_PENDING, DEVICE_START_NEXT, DEVICE_DESCRIBE, DEVICE_UPDATE };

/* DEVICE_OK: accepted; otherwise one per error code of AWS's device API. */
enum device_error {
	DEVICE_OK = 0,
	DEVICE_INVALID_TOPIC,
	DEVICE_INVALID_JSON,
	DEVICE_INVALID_REQUEST,
	DEVICE_RESOURCE_NOT_FOUND,
	DEVICE_VERSION_MISMATCH,
	DEVICE_INVALID_STATE_TRANSITION,
	DEVICE_REQUEST_THROTTLED,
	DEVICE_INTERNAL_ERROR,
	DEVICE_TERMINAL_STATE_REACHED,  /* only ever injected by test controls (setFaults) */
};
#define DEVICE_ERROR_COUNT (DEVICE_TERMINAL_STATE_REACHED + 1)

/* AWS's code of an error ("InvalidRequest", …); "" for DEVICE_OK. */
const char *device_error_code(enum device_error error);
/* The error of AWS's code; false for a code that is none of them. */
bool device_error_parse(const char *code, enum device_error *out);

/* The job id that asks for the next pending execution (describe only). */
#define DEVICE_NEXT_JOB "$next"

struct device_request {
	const char *thing;
	const char *namespace_id;  /* NULL or "": none */
	enum device_op op;
	const char *job_id;        /* describe, update: a job id, or DEVICE_NEXT_JOB (describe) */
	const char *body;          /* the JSON request object as received; not NUL-terminated */
	size_t body_len;           /* 0: {} */
	int64_t now_ms;            /* epoch ms */
	const char *requester;     /* for the log; may be NULL */
};

struct device_result {
	enum device_error error;
	char message[320];         /* the error's message; "" when accepted */
	const char *client_token;  /* the request's clientToken to echo; NULL when none */
	int64_t timestamp;         /* epoch seconds */
	/* Accepted: get-pending's summaries (IN_PROGRESS first, then QUEUED) are rows;
	 * start-next's and describe's execution is execution() below. */
	struct store_exec *rows;
	size_t nrows;
	/* describe by job id, update, and a VersionMismatch / InvalidStateTransition's
	 * executionState */
	struct store_exec exec;
	bool has_exec;
	bool with_document;        /* start-next, describe: the execution has its document */
	bool timed;                /* start-next, describe: a timer runs: seconds_left */
	int64_t seconds_left;
	bool include_state;        /* update: executionState asked for */
	bool include_document;     /* update: jobDocument asked for */
	bool state_in_error;       /* a rejection carrying executionState (exec) */
	/* private */
	void *body_;
};

/* Start-next's and describe's execution: NULL when there is none. */
const struct store_exec *device_result_execution(const struct device_result *r);
/* Frees what a result holds; it can be reused. */
void device_result_free(struct device_result *r);

#endif
