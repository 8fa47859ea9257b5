/* The AWS-compatible HTTP API (docs/http-api.md): maps a REST request of the
 * `iot-jobs-data` (device) or `iot` (control plane) service onto the same typed service
 * calls the MQTT side uses, and their results onto AWS's HTTP shapes, status codes
 * and x-amzn-ErrorType. Pure: no sockets, no threads; the HTTP server hands requests
 * over on the broker's thread. */
#ifndef MOSQUITTO_JOBS_HTTP_API_H
#define MOSQUITTO_JOBS_HTTP_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/access.h"
#include "core/outbox.h"

struct service;

/* The plane is told by the signing name of the request's credential scope; an unsigned
 * request has none (HTTP_PLANE_UNSIGNED): its path alone must tell, and the paths both
 * planes share get 400. */
enum http_plane { HTTP_PLANE_DATA = 0, HTTP_PLANE_CONTROL, HTTP_PLANE_UNSIGNED };

struct http_request {
	const char *method;        /* GET, PUT, POST, DELETE */
	const char *path;          /* raw, percent-encoded, without the query */
	const char *query;         /* raw, percent-encoded; NULL or "" when none */
	enum http_plane plane;     /* from the signing name: iot-jobs-data or iot */
	const char *identity;      /* who the request acts as (its key's identity, or
	                            * plugin_opt_http_unsigned_identity); NULL: nobody */
	const char *who;           /* for the audit log: the access key, or NULL */
	const char *body;          /* may be NULL when body_len is 0 */
	size_t body_len;
	bool metrics_token;        /* GET /metrics with the bearer token of plugin_opt_metrics_token_file */
};

struct http_response {
	int status;
	char error_type[64];       /* x-amzn-ErrorType; "" on success */
	char *body;                /* malloc'd JSON; the caller frees */
	const char *content_type;  /* a static string; NULL: application/json */
};

/* GET /metrics (docs/metrics.md): the service's metrics in Prometheus's text format,
 * for a request with the metrics token or whose identity is an operator. */
/* Handles one request at now_ms; device notifications are appended to ob. The request
 * may do what its identity may do over MQTT (access_decide_control for the control
 * plane, access_decide_thing on the path's thing for the data plane);
 * where MQTT would leave the decision to the broker's ACL (ACCESS_DEFER), HTTP, which
 * cannot ask the broker, refuses. Refusals: 403 AccessDeniedException. */
void http_api_handle(struct service *svc, const struct access_config *access, const struct http_request *req,
		int64_t now_ms, struct outbox *ob, struct http_response *out);

/* An error response (for the server's own refusals: authentication, size). */
void http_api_error(struct http_response *out, int status, const char *type, const char *message);

#endif
