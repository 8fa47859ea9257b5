/* The MQTT client's set-up from the global options, shared by jobsctl and
 * jobs-agent-check. */
#include <stdio.h>

#include <mosquitto.h>

#include "jobsctl.h"

int client_configure(struct mosquitto *mosq, const struct options *o)
{
	int rc = mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION,
			o->protocol == 5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
	if(rc == MOSQ_ERR_SUCCESS && (o->username || o->password)){
		rc = mosquitto_username_pw_set(mosq, o->username, o->password);
		if(rc == MOSQ_ERR_MALFORMED_UTF8){
			fprintf(stderr, "%s: the username is not valid UTF-8\n", options_progname);
			return JOBSCTL_EXIT_USAGE;
		}
	}
	if(rc == MOSQ_ERR_SUCCESS && (o->cafile || o->capath)){
		rc = mosquitto_tls_set(mosq, o->cafile, o->capath, o->cert, o->key, NULL);
		if(rc == MOSQ_ERR_SUCCESS && o->insecure) rc = mosquitto_tls_insecure_set(mosq, true);
	}
	if(rc != MOSQ_ERR_SUCCESS){
		fprintf(stderr, "%s: cannot set up the MQTT client: %s\n", options_progname, mosquitto_strerror(rc));
		return rc == MOSQ_ERR_NOMEM ? JOBSCTL_EXIT_ERROR : JOBSCTL_EXIT_USAGE;
	}
	return 0;
}
