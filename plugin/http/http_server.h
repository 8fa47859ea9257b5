/* The HTTP listener (libmicrohttpd) on a thread of its own. It reads a request,
 * authenticates it (AWS Signature V4 with the keys file, or loopback only without
 * one) and gives it its identity (the key's, or the unsigned identity), then parks it until the broker's thread takes it (http_server_take), answers
 * it with http_api_handle, and finishes it (http_server_finish). So the store and the
 * broker are only ever touched from the broker's thread. */
#ifndef MOSQUITTO_JOBS_HTTP_SERVER_H
#define MOSQUITTO_JOBS_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "http/http_api.h"

struct http_server_config {
	const char *address;     /* IPv4 or IPv6 address, or a name resolved at start */
	int port;
	const char *keys_file;   /* access keys for Signature V4; NULL: loopback clients only */
	const char *unsigned_identity; /* without keys: who requests act as; NULL: nobody */
	const char *metrics_token_file; /* its first line: the bearer token of GET /metrics; NULL: none */
	const char *tls_cert;    /* PEM files; NULL: plain HTTP */
	const char *tls_key;
	int max_connections;       /* past it, a new connection cuts the oldest unfinished request's */
	int max_per_address;       /* connections from one client address */
	int request_timeout;       /* seconds from a request's first byte (or the connection's
	                            * start, or the last answer) until it must have arrived whole */
};

struct http_server;
struct http_call;

/* NULL with err filled on failure. */
struct http_server *http_server_start(const struct http_server_config *cfg, char *err, size_t errlen);
/* Answers what is still parked with 503 and stops the thread. */
void http_server_stop(struct http_server *srv);

/* Broker's thread: takes up to max parked calls. */
size_t http_server_take(struct http_server *srv, struct http_call **calls, size_t max);
/* Broker's thread: lines about the requests the listener's thread refused with 401
 * or 403 since the last call (method, path, client address, access key, status,
 * reason), at most max into lines; *dropped is how many more were refused. */
#define HTTP_REFUSAL_LINE 512
size_t http_server_take_refusals(struct http_server *srv, char (*lines)[HTTP_REFUSAL_LINE], size_t max,
		uint64_t *dropped);
const struct http_request *http_call_request(const struct http_call *call);
/* Broker's thread: sends the response (takes resp->body) and releases the call. */
void http_server_finish(struct http_server *srv, struct http_call *call, struct http_response *resp);

#endif
