/* The PostgreSQL store's connection: one libpq connection in pipeline mode, non-blocking.
 * Commands go out in groups, each ended by a pipeline sync; pg->waits says, in order,
 * what each group's results answer. pg_conn_pump reads what arrived without waiting,
 * keeps finished groups for pg_store.c to take (pg_conn_take_done), sends what is due,
 * and reconnects after a loss. */
#include "store/pg_internal.h"

#include <assert.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* How often a broker without the lease asks for it, fetches the change log without a
 * NOTIFY (a safety net: a NOTIFY is lost with its connection), and retries a lost
 * connection. */
#define LEASE_EVERY_MS 1000
#define FETCH_EVERY_MS 1000
#define RECONNECT_EVERY_MS 500
#define PRUNE_EVERY_MS 60000
/* The change log keeps an hour, and at least the last 10,000 entries: a broker that was
 * cut off longer loads a new snapshot. */
#define FETCH_LIMIT 500
/* Reads of the socket per pump: enough for megabytes, bounded so a flood of results
 * cannot hold the broker's thread. */
#define MAX_READS_PER_PUMP 256
/* The least time without an answer after which a connection is given up (3 timeouts
 * otherwise): a batch of a large job's executions can take PostgreSQL seconds. */
#define STALL_MIN_MS 15000

/* libpq's messages end with a newline: copied without it, for one log line. */
static void copy_line(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src);
	size_t len = strlen(dst);
	while(len && (dst[len - 1] == '\n' || dst[len - 1] == ' ')) dst[--len] = '\0';
}

/* A line for the broker's log (store_set_log), kept in errmsg for store_errmsg too. */
void pg_fail(struct pg_store *pg, const char *what, const char *why)
{
	char line[sizeof(pg->errmsg)];
	snprintf(line, sizeof(line), "%s: %s", what, why ? why : "");
	copy_line(pg->errmsg, sizeof(pg->errmsg), line);
	/* the handle the port hands around: the replica's (NULL while opening, when err says it) */
	if(pg->replica && pg->replica->log) pg->replica->log(pg->replica->log_ctx, JOBS_LOG_ERR, "jobs: %s", pg->errmsg);
}

int64_t pg_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static PGconn *connect_start(struct pg_store *pg, bool blocking)
{
	char timeout[16];
	snprintf(timeout, sizeof(timeout), "%d", (pg->timeout_ms + 999) / 1000);
	/* the URI first: keywords after it win over it (and the start-up's NOTICEs, such as
	 * "already exists, skipping", stay out of the broker's log) */
	/* keepalives both ways: a broker cut off by the network loses its session (and the
	 * scheduler's lease) within seconds, not TCP's default two hours */
	const char *keys[] = { "dbname", "connect_timeout", "fallback_application_name", "options", "keepalives_idle",
		"keepalives_interval", "keepalives_count", NULL };
	const char *values[] = { pg->conninfo, timeout, "mosquitto-jobs",
		"-c client_min_messages=warning -c tcp_keepalives_idle=5 -c tcp_keepalives_interval=2 -c tcp_keepalives_count=3",
		"5", "2", "3", NULL };
	return blocking ? PQconnectdbParams(keys, values, 1) : PQconnectStartParams(keys, values, 1);
}

static void free_waits(struct pg_store *pg)
{
	while(pg->waits){
		struct pg_wait *w = pg->waits;
		pg->waits = w->next;
		PQclear(w->rows);
		free(w);
	}
	pg->waits_tail = NULL;
}

struct pg_wait *pg_wait_push(struct pg_store *pg, enum pg_wait_kind kind)
{
	struct pg_wait *w = calloc(1, sizeof(*w));
	if(!w) return NULL;
	w->kind = kind;
	if(pg->waits_tail) pg->waits_tail->next = w;
	else pg->waits = w;
	pg->waits_tail = w;
	return w;
}

int pg_send(struct pg_store *pg, const char *sql, int n, const char *const *values, const int *lengths,
		const int *formats)
{
	if(!pg->conn || pg->connecting) return -1;
	if(!PQsendQueryParams(pg->conn, sql, n, NULL, values, lengths, formats, 0)){
		pg_conn_lost(pg, PQerrorMessage(pg->conn));
		return -1;
	}
	return 0;
}

int pg_sync(struct pg_store *pg, enum pg_wait_kind kind, uint64_t batch)
{
	if(!pg->conn || pg->connecting) return -1;
	struct pg_wait *w = pg_wait_push(pg, kind);
	if(!w || !PQpipelineSync(pg->conn)){
		if(w){
			/* the group has no sync: drop the entry again, and the connection */
			pg_conn_lost(pg, PQerrorMessage(pg->conn));
		}else{
			pg_conn_lost(pg, "out of memory");
		}
		return -1;
	}
	w->batch = batch;
	w->sent_ms = pg_now_ms();
	if(PQflush(pg->conn) < 0){
		pg_conn_lost(pg, PQerrorMessage(pg->conn));
		return -1;
	}
	return 0;
}

void pg_conn_lost(struct pg_store *pg, const char *why)
{
	if(!pg->conn) return;
	atomic_store(&pg->watch_fd, -1);
	if(!pg->connecting) pg_fail(pg, "lost the connection to PostgreSQL", why);
	PQfinish(pg->conn);
	pg->conn = NULL;
	pg->connecting = false;
	free_waits(pg);
	pg->leader = false;
	pg->lease_asked = false;
	pg->fetching = false;
	pg->ids_asked = false;
	for(struct pg_batch *b = pg->batches; b; b = b->next){
		if(b->sent && !b->resolved) pg->doubt = true;
	}
	if(!pg->down_since_ms) pg->down_since_ms = pg_now_ms();
	pg->retry_at_ms = pg_now_ms() + RECONNECT_EVERY_MS;
}

/* Once connected: pipeline mode, LISTEN, and what a new session must ask again. */
static int session_start(struct pg_store *pg)
{
	if(PQsetnonblocking(pg->conn, 1) != 0 || !PQenterPipelineMode(pg->conn)){
		pg_conn_lost(pg, PQerrorMessage(pg->conn));
		return -1;
	}
	if(pg_send(pg, "LISTEN " PG_CHANNEL, 0, NULL, NULL, NULL) || pg_sync(pg, PG_WAIT_NONE, 0)) return -1;
	pg->down_since_ms = 0;
	pg->fetch_wanted = true;
	pg->next_lease_ms = 0;
	return 0;
}

int pg_conn_open(struct pg_store *pg)
{
	pg->conn = connect_start(pg, true);
	if(!pg->conn || PQstatus(pg->conn) != CONNECTION_OK){
		copy_line(pg->errmsg, sizeof(pg->errmsg), pg->conn ? PQerrorMessage(pg->conn) : "out of memory");
		PQfinish(pg->conn);
		pg->conn = NULL;
		return -1;
	}
	return 0;
}

int pg_conn_pipeline(struct pg_store *pg)
{
	return session_start(pg);
}

void pg_conn_close(struct pg_store *pg)
{
	free_waits(pg);
	for(struct pg_wait *w = pg_conn_take_done(pg), *next; w; w = next){
		next = w->next;
		PQclear(w->rows);
		free(w);
	}
	if(pg->conn) PQfinish(pg->conn);
	pg->conn = NULL;
}

PGresult *pg_exec_wait(struct pg_store *pg, const char *sql, int n, const char *const *values)
{
	assert(pg->conn && PQpipelineStatus(pg->conn) == PQ_PIPELINE_OFF);
	PGresult *r = PQexecParams(pg->conn, sql, n, NULL, values, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);
	if(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return r;
	copy_line(pg->errmsg, sizeof(pg->errmsg), r ? PQresultErrorMessage(r) : PQerrorMessage(pg->conn));
	PQclear(r);
	return NULL;
}

/* A lost connection comes back: a new attempt every RECONNECT_EVERY_MS, each given up
 * after timeout_ms (a stalled network); PQconnectPoll never waits. */
static void reconnect(struct pg_store *pg)
{
	int64_t now = pg_now_ms();
	if(pg->connecting){
		PostgresPollingStatusType st = PQconnectPoll(pg->conn);
		if(st == PGRES_POLLING_OK){
			pg->connecting = false;
			if(session_start(pg) == 0){
				PQsetnonblocking(pg->conn, 1);
			}
			return;
		}
		if(st == PGRES_POLLING_FAILED || now - pg->retry_at_ms > pg->timeout_ms){
			PQfinish(pg->conn);
			pg->conn = NULL;
			pg->connecting = false;
			pg->retry_at_ms = now + RECONNECT_EVERY_MS;
		}
		return;
	}
	if(now < pg->retry_at_ms) return;
	pg->conn = connect_start(pg, false);
	if(!pg->conn || PQstatus(pg->conn) == CONNECTION_BAD){
		PQfinish(pg->conn);
		pg->conn = NULL;
		pg->retry_at_ms = now + RECONNECT_EVERY_MS;
		return;
	}
	pg->connecting = true;
	pg->retry_at_ms = now; /* the attempt's start, for its timeout */
}

/* A group's results are all in: kept for pg_conn_take_done. */
static void group_done(struct pg_store *pg, struct pg_wait *w)
{
	w->next = NULL;
	if(pg->done_tail) pg->done_tail->next = w;
	else pg->done = w;
	pg->done_tail = w;
}

struct pg_wait *pg_conn_take_done(struct pg_store *pg)
{
	struct pg_wait *w = pg->done;
	pg->done = pg->done_tail = NULL;
	return w;
}

/* Reads every result that arrived. Returns -1 when the connection was lost. */
static int read_results(struct pg_store *pg)
{
	/* libpq reads one packet's worth per call: read on while the socket has more (a large
	 * result, a backlog of the change log), up to a bound per pass */
	for(int reads = 0; reads < MAX_READS_PER_PUMP; reads++){
		if(!PQconsumeInput(pg->conn)){
			pg_conn_lost(pg, PQerrorMessage(pg->conn));
			return -1;
		}
		struct pollfd p = { .fd = PQsocket(pg->conn), .events = POLLIN };
		if(poll(&p, 1, 0) <= 0 || !(p.revents & (POLLIN | POLLHUP | POLLERR))) break;
		pg->last_input_ms = pg_now_ms();
	}
	PGnotify *n;
	while((n = PQnotifies(pg->conn))){
		if(strcmp(n->extra, pg->broker) != 0) pg->fetch_wanted = true;
		PQfreemem(n);
	}
	int nulls = 0;
	while(pg->waits && !PQisBusy(pg->conn)){
		PGresult *r = PQgetResult(pg->conn);
		if(!r){
			/* the end of one command's results; twice in a row: nothing more queued */
			if(++nulls > 1) break;
			continue;
		}
		nulls = 0;
		struct pg_wait *w = pg->waits;
		ExecStatusType st = PQresultStatus(r);
		if(st == PGRES_PIPELINE_SYNC){
			PQclear(r);
			pg->waits = w->next;
			if(!pg->waits) pg->waits_tail = NULL;
			group_done(pg, w);
			continue;
		}
		if(st == PGRES_FATAL_ERROR || st == PGRES_PIPELINE_ABORTED){
			if(!w->failed){
				copy_line(w->error, sizeof(w->error), st == PGRES_FATAL_ERROR ? PQresultErrorMessage(r) : "aborted");
			}
			w->failed = true;
			PQclear(r);
		}else if(st == PGRES_TUPLES_OK){
			PQclear(w->rows);
			w->rows = r;
		}else{
			PQclear(r);
		}
	}
	if(PQstatus(pg->conn) == CONNECTION_BAD){
		pg_conn_lost(pg, PQerrorMessage(pg->conn));
		return -1;
	}
	/* a stalled server or network (no byte for that long while answers are awaited):
	 * given up, and a new connection tried (what was sent is then in doubt, looked up
	 * after reconnecting) */
	int64_t stall = 3LL * pg->timeout_ms > STALL_MIN_MS ? 3LL * pg->timeout_ms : STALL_MIN_MS;
	int64_t since = pg->waits && pg->waits->sent_ms > pg->last_input_ms ? pg->waits->sent_ms : pg->last_input_ms;
	if(pg->waits && pg_now_ms() - since > stall){
		char why[96];
		snprintf(why, sizeof(why), "no answer for %lld ms", (long long)stall);
		pg_conn_lost(pg, why);
		return -1;
	}
	return 0;
}

static void send_due(struct pg_store *pg)
{
	int64_t now = pg_now_ms();
	if(pg->doubt){
		bool asked = false;
		for(struct pg_wait *w = pg->waits; w; w = w->next) asked |= w->kind == PG_WAIT_DOUBT;
		uint64_t lo = 0, hi = 0;
		for(struct pg_batch *b = pg->batches; b; b = b->next){
			if(b->sent && !b->resolved){
				if(!lo) lo = b->number;
				hi = b->number;
			}
		}
		if(!lo){
			pg->doubt = false;
		}else if(!asked){
			char l[24], h[24];
			snprintf(l, sizeof(l), "%llu", (unsigned long long)lo);
			snprintf(h, sizeof(h), "%llu", (unsigned long long)hi);
			const char *v[] = { pg->broker, l, h };
			if(pg_send(pg, "SELECT batch FROM jobs_changes WHERE broker = $1 AND batch BETWEEN $2 AND $3", 3, v, NULL, NULL)
					|| pg_sync(pg, PG_WAIT_DOUBT, 0)) return;
		}
	}
	if((pg->fetch_wanted || now >= pg->next_fetch_ms) && !pg->fetching){
		char after[24], limit[16];
		snprintf(after, sizeof(after), "%lld", (long long)pg->fetched_seq);
		snprintf(limit, sizeof(limit), "%d", FETCH_LIMIT);
		const char *v[] = { after, limit };
		int formats[] = { 0, 0 };
		if(pg_send(pg, "SELECT seq, broker, batch, changes, (SELECT min(seq) FROM jobs_changes) FROM jobs_changes"
					" WHERE seq > $1 ORDER BY seq LIMIT $2", 2, v, NULL, formats)
				|| pg_sync(pg, PG_WAIT_FETCH, 0)) return;
		pg->fetching = true;
		pg->fetch_wanted = false;
		pg->next_fetch_ms = now + FETCH_EVERY_MS;
	}
	if(!pg->leader && !pg->lease_asked && now >= pg->next_lease_ms){
		char key[24];
		snprintf(key, sizeof(key), "%lld", (long long)PG_LOCK_SCHEDULER);
		const char *v[] = { key };
		if(pg_send(pg, "SELECT pg_try_advisory_lock($1::bigint)", 1, v, NULL, NULL) || pg_sync(pg, PG_WAIT_LEASE, 0)) return;
		pg->lease_asked = true;
		pg->next_lease_ms = now + LEASE_EVERY_MS;
	}
	if(!pg->spare_block && !pg->ids_asked && pg->id_end - pg->id_next < PG_ID_BLOCK / 2){
		if(pg_send(pg, "SELECT nextval('jobs_id_blocks')", 0, NULL, NULL, NULL) || pg_sync(pg, PG_WAIT_IDS, 0)) return;
		pg->ids_asked = true;
	}
	if(pg->leader && now >= pg->next_prune_ms){
		pg->next_prune_ms = now + PRUNE_EVERY_MS;
		if(pg_send(pg, "DELETE FROM jobs_changes WHERE at < now() - interval '1 hour'"
					" AND seq < (SELECT max(seq) FROM jobs_changes) - 10000", 0, NULL, NULL, NULL)
				|| pg_sync(pg, PG_WAIT_NONE, 0)) return;
	}
}

void pg_conn_pump(struct pg_store *pg)
{
	if(!pg->conn || pg->connecting){
		atomic_store(&pg->watch_fd, -1);
		reconnect(pg);
		if(!pg->conn || pg->connecting) return;
	}
	int rc = read_results(pg);
	atomic_fetch_add(&pg->reads, 1);
	atomic_store(&pg->watch_fd, pg->conn && !pg->connecting ? PQsocket(pg->conn) : -1);
	if(rc) return;
	send_due(pg);
	if(pg->conn && PQflush(pg->conn) < 0) pg_conn_lost(pg, PQerrorMessage(pg->conn));
}
