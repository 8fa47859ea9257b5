/* The management API, typed: one command in, one result out. The command is the JSON
 * object of AWS's request fields plus "command" (its name); the result is the
 * command's data, or the AWS exception it failed with and a message, apart. The
 * $CONTROL/jobs/v1 envelope ({"commands":[…]} -> {"responses":[…]}) is the MQTT
 * adapter's; the HTTP adapter maps the exception to a status. */
#ifndef MOSQUITTO_JOBS_CONTROL_H
#define MOSQUITTO_JOBS_CONTROL_H

#include <stdint.h>
#include <cjson/cJSON.h>

#define CONTROL_MESSAGE_MAX 400

struct control_request {
	const char *client_id;   /* for the audit log; may be NULL */
	const char *username;    /* for the audit log; may be NULL */
	int64_t now_ms;          /* epoch ms */
};

struct control_result {
	cJSON *data;             /* the command's data (owned); NULL when it failed */
	const char *exception;   /* the AWS exception ("ResourceNotFoundException", …), a
	                          * static string; NULL when it succeeded */
	char message[CONTROL_MESSAGE_MAX];
};

/* Frees the data; the result can be reused. */
void control_result_free(struct control_result *r);

#endif
