/* The user the broker runs as, for messages about files and directories it cannot
 * use ("... for mosquitto, the user the broker runs as; chown it to mosquitto"). */
#ifndef MOSQUITTO_JOBS_RUNAS_H
#define MOSQUITTO_JOBS_RUNAS_H

#include <stddef.h>

/* The effective user's name (or "uid N"), written to buf; returns buf. */
const char *runas_user(char *buf, size_t size);

#endif
