/* HTTP listener on libmicrohttpd's own thread, with calls parked for the broker's
 * thread (suspend/resume). */
#include "mosquitto_jobs/http_server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "mosquitto_jobs/sigv4.h"
#include "mosquitto_jobs/strbuf.h"

#define BODY_MAX (1024 * 1024)
#define MAX_HEADERS 64

enum call_state { CALL_READING, CALL_PARKED, CALL_ANSWERED };

struct http_call {
	struct http_call *next;            /* in the parked queue */
	struct MHD_Connection *conn;
	enum call_state state;
	char *method;
	char *path;
	char *query;
	char *body;
	size_t body_len;
	bool too_large;
	char access_key[SIGV4_MAX_KEY_ID + 1];
	struct http_request request;
	struct http_response response;
};

struct http_server {
	struct MHD_Daemon *daemon;
	pthread_mutex_t lock;
	struct http_call *parked, *parked_tail;   /* waiting for the broker's thread */
	struct http_call *taken;                  /* taken, not finished (for stop) */
	bool signed_only;             /* keys loaded: every request must be signed */
	struct sigv4_keys keys;
	char *unsigned_identity;      /* who requests act as without keys; NULL: nobody */
	char *tls_cert, *tls_key;
};

/* libmicrohttpd must not decode: the signature covers the raw path and query. */
static size_t keep_raw(void *cls, struct MHD_Connection *conn, char *s)
{
	(void)cls;
	(void)conn;
	return strlen(s);
}

/* What libmicrohttpd's iterators collect: the query string, or the headers. */
struct collect {
	struct strbuf query;
	struct sigv4_header *headers;
	size_t nheaders;
};

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	struct collect *c = cls;
	if(c->query.len) strbuf_addc(&c->query, '&');
	strbuf_adds(&c->query, key);
	if(value){
		strbuf_addc(&c->query, '=');
		strbuf_adds(&c->query, value);
	}
	return MHD_YES;
}

static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	struct collect *c = cls;
	if(c->nheaders < MAX_HEADERS){
		c->headers[c->nheaders].name = key;
		c->headers[c->nheaders].value = value ? value : "";
		c->nheaders++;
	}
	return MHD_YES;
}

static bool from_loopback(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if(!info || !info->client_addr) return false;
	const struct sockaddr *sa = info->client_addr;
	if(sa->sa_family == AF_INET){
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if(sa->sa_family == AF_INET6){
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
		if(IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr)) return true;
		return IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && in6->sin6_addr.s6_addr[12] == 127;
	}
	return false;
}

/* The signing name in the Authorization header's credential scope, without checking
 * the signature (for a listener without keys): iot or iot-jobs-data; anything else
 * (no header, another name) leaves the plane to the path. */
static enum http_plane plane_of(const char *authorization)
{
	const char *cred = authorization ? strstr(authorization, "Credential=") : NULL;
	for(int i = 0; cred && i < 3; i++){
		cred = strchr(cred, '/');
		if(cred) cred++;
	}
	if(cred && strncmp(cred, "iot/", 4) == 0) return HTTP_PLANE_CONTROL;
	if(cred && strncmp(cred, "iot-jobs-data/", 14) == 0) return HTTP_PLANE_DATA;
	return HTTP_PLANE_UNSIGNED;
}

static enum MHD_Result respond(struct MHD_Connection *conn, struct http_response *r)
{
	const char *body = r->body ? r->body : "{}";
	struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	if(!resp) return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", "application/json");
	if(r->error_type[0]) MHD_add_response_header(resp, "x-amzn-ErrorType", r->error_type);
	enum MHD_Result rc = MHD_queue_response(conn, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	return rc;
}

static enum MHD_Result refuse(struct MHD_Connection *conn, struct http_call *call, int status,
		const char *type, const char *message)
{
	call->state = CALL_ANSWERED;
	http_api_error(&call->response, status, type, message);
	return respond(conn, &call->response);
}

/* The body is in: authenticate, then park the call for the broker's thread. */
static enum MHD_Result park(struct http_server *srv, struct MHD_Connection *conn, struct http_call *call)
{
	struct sigv4_header headers[MAX_HEADERS];
	struct collect query = { 0 }, hdrs = { .headers = headers };
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, add_arg, &query);
	MHD_get_connection_values(conn, MHD_HEADER_KIND, add_header, &hdrs);
	if(query.query.failed){
		free(query.query.p);
		return refuse(conn, call, 500, "InternalFailureException", "out of memory");
	}
	call->query = query.query.p;
	if(call->too_large) return refuse(conn, call, 413, "InvalidRequestException", "the body is over 1 MiB");

	const char *authorization = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
	call->request.plane = plane_of(authorization);
	if(srv->signed_only){
		struct sigv4_request sr = {
			.method = call->method, .path = call->path, .query = call->query,
			.headers = headers, .header_count = hdrs.nheaders, .body = call->body, .body_len = call->body_len,
		};
		struct sigv4_result res;
		if(sigv4_verify(&sr, &srv->keys, (int64_t)time(NULL), &res) != SIGV4_OK){
			return refuse(conn, call, sigv4_error_status(res.error), sigv4_error_type(res.error), res.message);
		}
		if(strcmp(res.service, "iot") != 0 && strcmp(res.service, "iot-jobs-data") != 0){
			return refuse(conn, call, 400, "InvalidRequestException", "the signing name must be iot or iot-jobs-data");
		}
		call->request.plane = strcmp(res.service, "iot") == 0 ? HTTP_PLANE_CONTROL : HTTP_PLANE_DATA;
		snprintf(call->access_key, sizeof(call->access_key), "%s", res.access_key_id);
		call->request.who = call->access_key;
		/* the key store lives, unchanged, as long as the server */
		call->request.identity = sigv4_keys_identity(&srv->keys, res.access_key_id);
	}else if(!from_loopback(conn)){
		return refuse(conn, call, 403, "AccessDeniedException",
				"this listener has no keys file: only loopback clients are served");
	}else{
		call->request.identity = srv->unsigned_identity;
	}
	call->request.method = call->method;
	call->request.path = call->path;
	call->request.query = call->query;
	call->request.body = call->body;
	call->request.body_len = call->body_len;

	pthread_mutex_lock(&srv->lock);
	call->state = CALL_PARKED;
	call->conn = conn;
	MHD_suspend_connection(conn);
	if(srv->parked_tail) srv->parked_tail->next = call;
	else srv->parked = call;
	srv->parked_tail = call;
	pthread_mutex_unlock(&srv->lock);
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
		const char *method, const char *version, const char *upload_data, size_t *upload_data_size,
		void **con_cls)
{
	(void)version;
	struct http_server *srv = cls;
	struct http_call *call = *con_cls;
	if(!call){
		call = calloc(1, sizeof(*call));
		if(!call) return MHD_NO;
		call->method = strdup(method);
		call->path = strdup(url);
		*con_cls = call;
		return call->method && call->path ? MHD_YES : MHD_NO;
	}
	pthread_mutex_lock(&srv->lock);
	enum call_state state = call->state;
	pthread_mutex_unlock(&srv->lock);
	if(state == CALL_ANSWERED) return respond(conn, &call->response);
	if(state == CALL_PARKED) return MHD_YES;
	if(*upload_data_size){
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		if(call->too_large || call->body_len + n > BODY_MAX){
			call->too_large = true;
			return MHD_YES;
		}
		char *grown = realloc(call->body, call->body_len + n + 1);
		if(!grown) return MHD_NO;
		memcpy(grown + call->body_len, upload_data, n);
		call->body = grown;
		call->body_len += n;
		call->body[call->body_len] = '\0';
		return MHD_YES;
	}
	return park(srv, conn, call);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		enum MHD_RequestTerminationCode code)
{
	(void)cls;
	(void)conn;
	(void)code;
	struct http_call *call = *con_cls;
	if(!call) return;
	free(call->method);
	free(call->path);
	free(call->query);
	free(call->body);
	free(call->response.body);
	free(call);
	*con_cls = NULL;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if(!f) return NULL;
	char *buf = NULL;
	size_t len = 0;
	char chunk[4096];
	size_t n;
	while((n = fread(chunk, 1, sizeof(chunk), f)) > 0){
		char *grown = realloc(buf, len + n + 1);
		if(!grown){
			free(buf);
			fclose(f);
			return NULL;
		}
		buf = grown;
		memcpy(buf + len, chunk, n);
		len += n;
		buf[len] = '\0';
	}
	fclose(f);
	return buf;
}

struct http_server *http_server_start(const struct http_server_config *cfg, char *err, size_t errlen)
{
	struct http_server *srv = calloc(1, sizeof(*srv));
	if(!srv){
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&srv->lock, NULL);
	if(cfg->unsigned_identity && !(srv->unsigned_identity = strdup(cfg->unsigned_identity))){
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if(cfg->keys_file){
		char *text = read_file(cfg->keys_file);
		char why[256];
		if(!text){
			snprintf(err, errlen, "cannot read plugin_opt_http_keys_file %s", cfg->keys_file);
			goto fail;
		}
		int rc = sigv4_keys_parse(text, strlen(text), &srv->keys, why, sizeof(why));
		memset(text, 0, strlen(text));
		free(text);
		if(rc != 0){
			snprintf(err, errlen, "plugin_opt_http_keys_file %s: %s", cfg->keys_file, why);
			goto fail;
		}
		srv->signed_only = true;
	}
	if(cfg->tls_cert || cfg->tls_key){
		if(!cfg->tls_cert || !cfg->tls_key){
			snprintf(err, errlen, "TLS needs both plugin_opt_http_tls_cert and plugin_opt_http_tls_key");
			goto fail;
		}
		if(!(srv->tls_cert = read_file(cfg->tls_cert)) || !(srv->tls_key = read_file(cfg->tls_key))){
			snprintf(err, errlen, "cannot read %s", srv->tls_cert ? cfg->tls_key : cfg->tls_cert);
			goto fail;
		}
	}

	struct sockaddr_storage addr;
	memset(&addr, 0, sizeof(addr));
	struct sockaddr_in *in = (struct sockaddr_in *)&addr;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&addr;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	if(inet_pton(AF_INET, cfg->address, &in->sin_addr) == 1){
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)cfg->port);
	}else if(inet_pton(AF_INET6, cfg->address, &in6->sin6_addr) == 1){
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)cfg->port);
		flags |= MHD_USE_IPv6;
	}else{
		snprintf(err, errlen, "plugin_opt_http_listen: '%s' is not a numeric address", cfg->address);
		goto fail;
	}
	if(srv->tls_cert) flags |= MHD_USE_TLS;
	srv->daemon = srv->tls_cert
		? MHD_start_daemon(flags, (uint16_t)cfg->port, NULL, NULL, on_request, srv,
			MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
			MHD_OPTION_UNESCAPE_CALLBACK, keep_raw, NULL,
			MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
			MHD_OPTION_HTTPS_MEM_CERT, srv->tls_cert, MHD_OPTION_HTTPS_MEM_KEY, srv->tls_key,
			MHD_OPTION_END)
		: MHD_start_daemon(flags, (uint16_t)cfg->port, NULL, NULL, on_request, srv,
			MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
			MHD_OPTION_UNESCAPE_CALLBACK, keep_raw, NULL,
			MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
			MHD_OPTION_END);
	if(!srv->daemon){
		snprintf(err, errlen, "cannot listen on %s port %d (in use, or no such address)", cfg->address, cfg->port);
		goto fail;
	}
	return srv;
fail:
	sigv4_keys_free(&srv->keys);
	free(srv->unsigned_identity);
	free(srv->tls_cert);
	free(srv->tls_key);
	pthread_mutex_destroy(&srv->lock);
	free(srv);
	return NULL;
}

size_t http_server_take(struct http_server *srv, struct http_call **calls, size_t max)
{
	size_t n = 0;
	pthread_mutex_lock(&srv->lock);
	while(srv->parked && n < max){
		struct http_call *call = srv->parked;
		srv->parked = call->next;
		call->next = NULL;
		calls[n++] = call;
	}
	if(!srv->parked) srv->parked_tail = NULL;
	pthread_mutex_unlock(&srv->lock);
	return n;
}

const struct http_request *http_call_request(const struct http_call *call)
{
	return &call->request;
}

void http_server_finish(struct http_server *srv, struct http_call *call, struct http_response *resp)
{
	pthread_mutex_lock(&srv->lock);
	free(call->response.body);
	call->response = *resp;
	resp->body = NULL;
	call->state = CALL_ANSWERED;
	MHD_resume_connection(call->conn);
	pthread_mutex_unlock(&srv->lock);
}

void http_server_stop(struct http_server *srv)
{
	if(!srv) return;
	struct http_call *calls[64];
	size_t n;
	while((n = http_server_take(srv, calls, 64)) > 0){
		for(size_t i = 0; i < n; i++){
			struct http_response r;
			http_api_error(&r, 503, "ServiceUnavailableException", "the broker is stopping");
			http_server_finish(srv, calls[i], &r);
		}
	}
	MHD_stop_daemon(srv->daemon);
	sigv4_keys_free(&srv->keys);
	free(srv->unsigned_identity);
	free(srv->tls_cert);
	free(srv->tls_key);
	pthread_mutex_destroy(&srv->lock);
	free(srv);
}
