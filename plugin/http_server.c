/* HTTP listener on libmicrohttpd's own thread, with calls parked for the broker's
 * thread (suspend/resume). */
#include "mosquitto_jobs/http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "mosquitto_jobs/runas.h"
#include "mosquitto_jobs/sigv4.h"
#include "mosquitto_jobs/strbuf.h"

#define BODY_MAX (1024 * 1024)
#define MAX_HEADERS 64
#define REFUSALS_KEPT 16

enum call_state { CALL_READING, CALL_PARKED, CALL_ANSWERED };

struct http_call {
	struct http_call *next;            /* in the parked queue */
	struct http_server *srv;
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
	/* Requests refused here (401, 403) since the broker's thread last took them, for
	 * it to log (Mosquitto's log is not for this thread); past REFUSALS_KEPT only
	 * counted. */
	char refusals[REFUSALS_KEPT][HTTP_REFUSAL_LINE];
	size_t nrefusals;
	uint64_t refusals_dropped;
	bool signed_only;             /* keys loaded: every request must be signed */
	struct sigv4_keys keys;
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
 * the signature (for a listener without keys): iot or iot-jobs-data. */
static enum http_plane plane_of(const char *authorization)
{
	const char *cred = authorization ? strstr(authorization, "Credential=") : NULL;
	for(int i = 0; cred && i < 3; i++){
		cred = strchr(cred, '/');
		if(cred) cred++;
	}
	if(cred && strncmp(cred, "iot/", 4) == 0) return HTTP_PLANE_CONTROL;
	return HTTP_PLANE_DATA;
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

static void client_address(struct MHD_Connection *conn, char *buf, size_t size)
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = info ? info->client_addr : NULL;
	snprintf(buf, size, "?");
	if(sa && sa->sa_family == AF_INET){
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf, (socklen_t)size);
	}else if(sa && sa->sa_family == AF_INET6){
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, buf, (socklen_t)size);
	}
}

/* Keeps a line about a request refused with 401 or 403 for the broker's thread. */
static void note_refusal(struct http_server *srv, struct MHD_Connection *conn, const struct http_call *call,
		int status, const char *type, const char *message)
{
	char from[INET6_ADDRSTRLEN + 1];
	client_address(conn, from, sizeof(from));
	pthread_mutex_lock(&srv->lock);
	if(srv->nrefusals < REFUSALS_KEPT){
		snprintf(srv->refusals[srv->nrefusals++], HTTP_REFUSAL_LINE, "HTTP %.8s %.120s from %s key=%.40s: %d %.40s: %.200s",
				call->method, call->path, from, call->access_key[0] ? call->access_key : "-", status, type, message);
	}else{
		srv->refusals_dropped++;
	}
	pthread_mutex_unlock(&srv->lock);
}

static enum MHD_Result refuse(struct MHD_Connection *conn, struct http_call *call, int status,
		const char *type, const char *message)
{
	call->state = CALL_ANSWERED;
	if(status == 401 || status == 403) note_refusal(call->srv, conn, call, status, type, message);
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
			snprintf(call->access_key, sizeof(call->access_key), "%s", res.access_key_id);
			return refuse(conn, call, sigv4_error_status(res.error), sigv4_error_type(res.error), res.message);
		}
		if(strcmp(res.service, "iot") != 0 && strcmp(res.service, "iot-jobs-data") != 0){
			return refuse(conn, call, 400, "InvalidRequestException", "the signing name must be iot or iot-jobs-data");
		}
		call->request.plane = strcmp(res.service, "iot") == 0 ? HTTP_PLANE_CONTROL : HTTP_PLANE_DATA;
		snprintf(call->access_key, sizeof(call->access_key), "%s", res.access_key_id);
		call->request.who = call->access_key;
	}else if(!from_loopback(conn)){
		return refuse(conn, call, 403, "AccessDeniedException",
				"this listener has no keys file: only loopback clients are served");
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
		call->srv = srv;
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

/* NULL on failure, with errno saying why. */
static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if(!f) return NULL;
	char *buf = calloc(1, 1);
	size_t len = 0;
	char chunk[4096];
	size_t n;
	while(buf && (n = fread(chunk, 1, sizeof(chunk), f)) > 0){
		char *grown = realloc(buf, len + n + 1);
		if(!grown){
			free(buf);
			buf = NULL;
			errno = ENOMEM;
			break;
		}
		buf = grown;
		memcpy(buf + len, chunk, n);
		len += n;
		buf[len] = '\0';
	}
	if(buf && ferror(f)){ /* a directory, say: errno is fread's */
		free(buf);
		buf = NULL;
	}
	int e = errno;
	fclose(f);
	errno = e;
	return buf;
}

/* The address to listen on: a numeric address, or a name resolved now (its first
 * IPv4 address, else its first IPv6 one). */
static int resolve(const char *address, int port, struct sockaddr_storage *addr, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
	struct addrinfo *list = NULL;
	int rc = getaddrinfo(address, NULL, &hints, &list);
	if(rc != 0){
		snprintf(err, errlen, "plugin_opt_http_listen: cannot resolve '%s': %s", address,
				rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return -1;
	}
	const struct addrinfo *pick = NULL;
	for(const struct addrinfo *a = list; a && !pick; a = a->ai_next){
		if(a->ai_family == AF_INET) pick = a;
	}
	for(const struct addrinfo *a = list; a && !pick; a = a->ai_next){
		if(a->ai_family == AF_INET6) pick = a;
	}
	if(!pick){
		freeaddrinfo(list);
		snprintf(err, errlen, "plugin_opt_http_listen: '%s' has no IPv4 or IPv6 address", address);
		return -1;
	}
	memset(addr, 0, sizeof(*addr));
	memcpy(addr, pick->ai_addr, pick->ai_addrlen);
	if(pick->ai_family == AF_INET) ((struct sockaddr_in *)addr)->sin_port = htons((uint16_t)port);
	else ((struct sockaddr_in6 *)addr)->sin6_port = htons((uint16_t)port);
	freeaddrinfo(list);
	return 0;
}

struct http_server *http_server_start(const struct http_server_config *cfg, char *err, size_t errlen)
{
	struct http_server *srv = calloc(1, sizeof(*srv));
	if(!srv){
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&srv->lock, NULL);
	if(cfg->keys_file){
		char *text = read_file(cfg->keys_file);
		char why[256], user[64];
		if(!text){
			int e = errno;
			snprintf(err, errlen, "cannot read plugin_opt_http_keys_file %s: %s (the broker runs as %s)",
					cfg->keys_file, strerror(e), runas_user(user, sizeof(user)));
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
		char user[64];
		if(!cfg->tls_cert || !cfg->tls_key){
			snprintf(err, errlen, "TLS needs both plugin_opt_http_tls_cert and plugin_opt_http_tls_key");
			goto fail;
		}
		if(!(srv->tls_cert = read_file(cfg->tls_cert)) || !(srv->tls_key = read_file(cfg->tls_key))){
			int e = errno;
			snprintf(err, errlen, "cannot read %s: %s (the broker runs as %s)", srv->tls_cert ? cfg->tls_key : cfg->tls_cert,
					strerror(e), runas_user(user, sizeof(user)));
			goto fail;
		}
	}

	struct sockaddr_storage addr;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	if(resolve(cfg->address, cfg->port, &addr, err, errlen) != 0) goto fail;
	if(addr.ss_family == AF_INET6) flags |= MHD_USE_IPv6;
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

size_t http_server_take_refusals(struct http_server *srv, char (*lines)[HTTP_REFUSAL_LINE], size_t max,
		uint64_t *dropped)
{
	pthread_mutex_lock(&srv->lock);
	size_t n = srv->nrefusals < max ? srv->nrefusals : max;
	memcpy(lines, srv->refusals, n * sizeof(*lines));
	*dropped = srv->refusals_dropped + (srv->nrefusals - n);
	srv->nrefusals = 0;
	srv->refusals_dropped = 0;
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
	free(srv->tls_cert);
	free(srv->tls_key);
	pthread_mutex_destroy(&srv->lock);
	free(srv);
}
