/* Where the plugin's layers log: the adapter passes Mosquitto's log down to the service,
 * and the service to the store. */
#ifndef MOSQUITTO_JOBS_LOG_H
#define MOSQUITTO_JOBS_LOG_H

enum jobs_log_level { JOBS_LOG_ERR, JOBS_LOG_WARNING, JOBS_LOG_NOTICE, JOBS_LOG_INFO, JOBS_LOG_DEBUG };

typedef void (*jobs_log_fn)(void *ctx, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
