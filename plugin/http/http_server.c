/* HTTP listener on libmicrohttpd's own thread (epoll: no FD_SETSIZE ceiling), with
 * calls parked for the broker's thread (suspend/resume).
 *
 * Slow clients: libmicrohttpd's idle timeout restarts at every byte, so a client
 * sending a byte every few seconds would hold a connection for ever. Each connection
 * is tracked from accept to close; a watchdog thread cuts (shutdown) any whose request
 * has not arrived whole within request_timeout, and a connection past
 * max_connections cuts the oldest unfinished request's, so idle or slow connections
 * can never lock legitimate clients out. */
#include "http/http_server.h"

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
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util/runas.h"
#include "http/sigv4.h"
#include "util/strbuf.h"

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

/* One TCP connection, from accept to close (libmicrohttpd's socket context). */
struct http_conn {
	struct http_conn *prev, *next;   /* oldest first */
	int fd;
	int64_t since_ms;                /* when the request now arriving began */
	bool arriving;                   /* a request is being read, or awaited on keep-alive */
	bool cut;
};

struct http_server {
	struct MHD_Daemon *daemon;
	pthread_mutex_t lock;
	struct http_conn *conns, *conns_tail;    /* under lock */
	int nconns;
	int max_connections;
	int64_t request_timeout_ms;
	pthread_t watchdog;
	bool watchdog_running, stopping;
	pthread_cond_t wake;
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
	char *unsigned_identity;      /* who requests act as without keys; NULL: nobody */
	char *metrics_token;          /* GET /metrics's bearer token; NULL: none */
	char *tls_cert, *tls_key;
};

static int64_t monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Ends a connection from outside libmicrohttpd's thread: its next read sees the end
 * and it closes the connection itself. Under srv->lock (the entry is alive). */
static void cut(struct http_conn *c)
{
	if(c->cut) return;
	c->cut = true;
	shutdown(c->fd, SHUT_RDWR);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
		enum MHD_ConnectionNotificationCode code)
{
	struct http_server *srv = cls;
	if(code == MHD_CONNECTION_NOTIFY_STARTED){
		const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		struct http_conn *c = calloc(1, sizeof(*c));
		if(!c || !info){
			free(c);
			return;
		}
		c->fd = info->connect_fd;
		c->since_ms = monotonic_ms();
		c->arriving = true;
		pthread_mutex_lock(&srv->lock);
		c->prev = srv->conns_tail;
		if(srv->conns_tail) srv->conns_tail->next = c;
		else srv->conns = c;
		srv->conns_tail = c;
		if(++srv->nconns > srv->max_connections){
			for(struct http_conn *o = srv->conns; o != c; o = o->next){
				if(o->arriving && !o->cut){
					cut(o);
					break;
				}
			}
		}
		pthread_mutex_unlock(&srv->lock);
		*socket_context = c;
	}else if(code == MHD_CONNECTION_NOTIFY_CLOSED){
		struct http_conn *c = *socket_context;
		if(!c) return;
		pthread_mutex_lock(&srv->lock);
		if(c->prev) c->prev->next = c->next;
		else srv->conns = c->next;
		if(c->next) c->next->prev = c->prev;
		else srv->conns_tail = c->prev;
		srv->nconns--;
		pthread_mutex_unlock(&srv->lock);
		free(c);
		*socket_context = NULL;
	}
}

static struct http_conn *conn_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return info ? info->socket_context : NULL;
}

/* Marks the connection's request as arrived (parked, or answered at once), or a new
 * one as awaited from now on. */
static void set_arriving(struct http_server *srv, struct MHD_Connection *conn, bool arriving)
{
	struct http_conn *c = conn_of(conn);
	if(!c) return;
	pthread_mutex_lock(&srv->lock);
	c->arriving = arriving;
	if(arriving) c->since_ms = monotonic_ms();
	pthread_mutex_unlock(&srv->lock);
}

/* Every 250 ms: cut the connections whose request is late. */
static void *watchdog_main(void *arg)
{
	struct http_server *srv = arg;
	pthread_mutex_lock(&srv->lock);
	while(!srv->stopping){
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 250 * 1000000L;
		if(until.tv_nsec >= 1000000000L){
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&srv->wake, &srv->lock, &until);
		int64_t now = monotonic_ms();
		for(struct http_conn *c = srv->conns; c; c = c->next){
			if(c->arriving && now - c->since_ms > srv->request_timeout_ms) cut(c);
		}
	}
	pthread_mutex_unlock(&srv->lock);
	return NULL;
}

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
	MHD_add_response_header(resp, "Content-Type", r->content_type ? r->content_type : "application/json");
	if(r->error_type[0]) MHD_add_response_header(resp, "x-amzn-ErrorType", r->error_type);
	enum MHD_Result rc = MHD_queue_response(conn, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	return rc;
}

/* Request smuggling guards, as careful servers have them: a body's length must be
 * said once and one way. */
struct framing {
	const char *length;
	bool lengths_differ;
	bool chunked;
};

static enum MHD_Result scan_framing(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	struct framing *f = cls;
	if(strcasecmp(key, "Content-Length") == 0){
		if(f->length && strcmp(f->length, value ? value : "") != 0) f->lengths_differ = true;
		f->length = value ? value : "";
	}else if(strcasecmp(key, "Transfer-Encoding") == 0){
		f->chunked = true;
	}
	return MHD_YES;
}

static const char *framing_error(struct MHD_Connection *conn)
{
	struct framing f = { 0 };
	MHD_get_connection_values(conn, MHD_HEADER_KIND, scan_framing, &f);
	if(f.lengths_differ) return "the request has two different Content-Length headers";
	if(f.length && f.chunked) return "the request has both Content-Length and Transfer-Encoding";
	return NULL;
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
	set_arriving(call->srv, conn, false);
	call->state = CALL_ANSWERED;
	if(status == 401 || status == 403) note_refusal(call->srv, conn, call, status, type, message);
	http_api_error(&call->response, status, type, message);
	return respond(conn, &call->response);
}

/* Whether a equals b, in a time that does not tell how much of them matched. */
static bool same_secret(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	unsigned char diff = na != nb;
	for(size_t i = 0; i < nb; i++) diff |= (unsigned char)(b[i] ^ (i < na ? a[i] : 0));
	return diff == 0;
}

/* Frees a secret string after overwriting it. NULL is a no-op. */
static void forget_secret(char *s)
{
	if(!s) return;
	memset(s, 0, strlen(s));
	free(s);
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
	if(srv->metrics_token && authorization && strncmp(authorization, "Bearer ", 7) == 0
			&& strcmp(call->path, "/metrics") == 0){
		if(!same_secret(authorization + 7, srv->metrics_token)){
			return refuse(conn, call, 401, "UnauthorizedException",
					"the bearer token is not the one of plugin_opt_metrics_token_file");
		}
		call->request.metrics_token = true;
	}else if(srv->signed_only){
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

	set_arriving(srv, conn, false);
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
		if(!call->method || !call->path) return MHD_NO;
		const char *bad_framing = framing_error(conn);
		return bad_framing ? refuse(conn, call, 400, "InvalidRequestException", bad_framing) : MHD_YES;
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
	(void)code;
	set_arriving(cls, conn, true);   /* on keep-alive, the next request's time starts */
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
	pthread_cond_init(&srv->wake, NULL);
	if(cfg->unsigned_identity && !(srv->unsigned_identity = strdup(cfg->unsigned_identity))){
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
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
	if(cfg->metrics_token_file){
		char user[64];
		srv->metrics_token = read_file(cfg->metrics_token_file);
		if(!srv->metrics_token){
			int e = errno;
			snprintf(err, errlen, "cannot read plugin_opt_metrics_token_file %s: %s (the broker runs as %s)",
					cfg->metrics_token_file, strerror(e), runas_user(user, sizeof(user)));
			goto fail;
		}
		srv->metrics_token[strcspn(srv->metrics_token, "\r\n")] = '\0';
		if(!srv->metrics_token[0]){
			snprintf(err, errlen, "plugin_opt_metrics_token_file %s: the first line holds no token",
					cfg->metrics_token_file);
			goto fail;
		}
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
	/* epoll where there is one: select() cannot watch a socket numbered 1024 or more,
	 * which a broker with a thousand clients hands out */
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	if(resolve(cfg->address, cfg->port, &addr, err, errlen) != 0) goto fail;
	if(addr.ss_family == AF_INET6) flags |= MHD_USE_IPv6;
	if(srv->tls_cert) flags |= MHD_USE_TLS;
	srv->max_connections = cfg->max_connections;
	srv->request_timeout_ms = (int64_t)cfg->request_timeout * 1000;
	/* room above max_connections, for the connection that cuts the oldest one */
	unsigned hard_limit = (unsigned)cfg->max_connections + 64;
	unsigned idle = (unsigned)cfg->request_timeout;
	/* the options every listener takes, then the certificate and key of an https one */
	struct MHD_OptionItem options[] = {
		{ MHD_OPTION_SOCK_ADDR, 0, &addr },
		{ MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t)keep_raw, NULL },
		{ MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, srv },
		{ MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, srv },
		{ MHD_OPTION_CONNECTION_LIMIT, hard_limit, NULL },
		{ MHD_OPTION_PER_IP_CONNECTION_LIMIT, (intptr_t)cfg->max_per_address, NULL },
		{ MHD_OPTION_CONNECTION_TIMEOUT, idle, NULL },
		{ srv->tls_cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, srv->tls_cert },
		{ srv->tls_cert ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, srv->tls_key },
		{ MHD_OPTION_END, 0, NULL },
	};
	srv->daemon = MHD_start_daemon(flags, (uint16_t)cfg->port, NULL, NULL, on_request, srv,
			MHD_OPTION_ARRAY, options, MHD_OPTION_END);
	if(!srv->daemon){
		snprintf(err, errlen, "cannot listen on %s port %d (in use, or no such address)", cfg->address, cfg->port);
		goto fail;
	}
	if(pthread_create(&srv->watchdog, NULL, watchdog_main, srv) != 0){
		MHD_stop_daemon(srv->daemon);
		snprintf(err, errlen, "cannot start the HTTP watchdog thread");
		goto fail;
	}
	srv->watchdog_running = true;
	return srv;
fail:
	sigv4_keys_free(&srv->keys);
	free(srv->unsigned_identity);
	forget_secret(srv->metrics_token);
	free(srv->tls_cert);
	free(srv->tls_key);
	pthread_cond_destroy(&srv->wake);
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
	pthread_mutex_lock(&srv->lock);
	srv->stopping = true;
	pthread_cond_signal(&srv->wake);
	pthread_mutex_unlock(&srv->lock);
	if(srv->watchdog_running) pthread_join(srv->watchdog, NULL);
	MHD_stop_daemon(srv->daemon);
	sigv4_keys_free(&srv->keys);
	free(srv->unsigned_identity);
	forget_secret(srv->metrics_token);
	free(srv->tls_cert);
	free(srv->tls_key);
	pthread_cond_destroy(&srv->wake);
	pthread_mutex_destroy(&srv->lock);
	free(srv);
}
