/* The PostgreSQL store (pg_internal.h says how it works): the table of operations (the
 * SQLite store's, with transactions, ids, sync and the scheduler's lease replaced),
 * batches from their local commit to their reported outcome, and the change log's
 * entries into the replica. */
#include "store/pg_store.h"

#include "store/pg_internal.h"
#include "store/sqlite_store.h"

#include <assert.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


static struct store_ops pg_ops;

struct pg_store *pg_of(struct store *store)
{
	struct pg_store *pg = sqlite_store_owner(store);
	assert(pg && store->ops == &pg_ops);
	return pg;
}

static const char *pg_errmsg(const struct store *store)
{
	struct pg_store *pg = pg_of((struct store *)store);
	return pg->errmsg[0] ? pg->errmsg : sqlite_store_ops()->errmsg(store);
}

/* ---- the session: what a batch changed ---- */

static int only_replicated(void *ctx, const char *table)
{
	(void)ctx;
	return pg_table_replicated(table);
}

static int session_new(struct pg_store *pg)
{
	if(pg->session) sqlite3session_delete(pg->session);
	pg->session = NULL;
	if(sqlite3session_create(pg->db, "main", &pg->session) != SQLITE_OK) return -1;
	sqlite3session_table_filter(pg->session, only_replicated, NULL);
	return sqlite3session_attach(pg->session, NULL) == SQLITE_OK ? 0 : -1;
}

/* The changes since the last call, and a new session for the next ones. */
static int take_changeset(struct pg_store *pg, void **out, int *len)
{
	*out = NULL;
	*len = 0;
	int rc = sqlite3session_changeset(pg->session, len, out);
	if(session_new(pg) != 0) rc = SQLITE_ERROR;
	if(rc != SQLITE_OK){
		sqlite3_free(*out);
		*out = NULL;
		*len = 0;
		snprintf(pg->errmsg, sizeof(pg->errmsg), "cannot record a batch's changes: %s", sqlite3_errstr(rc));
		return -1;
	}
	return 0;
}

/* ---- batches ---- */

static void batch_free(struct pg_batch *b)
{
	sqlite3_free(b->changeset);
	free(b);
}

static bool any_unresolved(const struct pg_store *pg)
{
	for(const struct pg_batch *b = pg->batches; b; b = b->next){
		if(!b->resolved) return true;
	}
	return false;
}

static void changes_free(struct pg_change **head, struct pg_change **tail)
{
	while(*head){
		struct pg_change *c = *head;
		*head = c->next;
		free(c->data);
		free(c);
	}
	*tail = NULL;
}

/* Remembers an own batch PostgreSQL did not keep: should it show up in the change log
 * after all (committed by a connection given up on), it is applied like another
 * broker's. */
static void remember_undone(struct pg_store *pg, uint64_t number)
{
	pg->undone[pg->undone_next++ % PG_UNDONE_KEPT] = number;
}

static bool was_undone(const struct pg_store *pg, uint64_t number)
{
	for(int i = 0; i < PG_UNDONE_KEPT; i++){
		if(pg->undone[i] == number) return true;
	}
	return false;
}

/* Batch `from` and every later one failed: undo them in the replica, newest first,
 * then apply again what other brokers changed meanwhile. */
static void undo_from(struct pg_store *pg, struct pg_batch *from)
{
	size_t count = 0;
	for(struct pg_batch *b = from; b; b = b->next) count++;
	struct pg_batch **undo = calloc(count ? count : 1, sizeof(*undo));
	size_t n = 0;
	for(struct pg_batch *b = from; b; b = b->next){
		if(b->resolved) continue;
		b->resolved = true;
		b->ok = false;
		if(b->changeset && undo) undo[n++] = b;
		remember_undone(pg, b->number);
	}
	for(size_t i = n; i > 0; i--){
		if(pg_changes_undo(pg, undo[i - 1]->changeset, undo[i - 1]->changeset_len)){
			pg_fail(pg, "cannot undo a refused batch in the replica", sqlite3_errmsg(pg->db));
		}
	}
	free(undo);
	/* what other brokers changed after `from` committed here: undoing may have put back
	 * a value one of those changes had written too (the same update, the same second) */
	for(struct pg_change *c = pg->replay; c; c = c->next){
		if(c->after_batch >= from->number) pg_changes_apply(pg, c->data, c->len, NULL);
	}
	/* out of memory: the copy may hold what PostgreSQL refused */
	if(!undo){
		pg->reload_wanted = true;
		pg_fail(pg, "cannot undo a refused batch in the replica", "out of memory");
	}
}

/* Forgets the changes no unresolved batch can need again. */
static void prune_replay(struct pg_store *pg)
{
	uint64_t oldest = 0;
	for(struct pg_batch *b = pg->batches; b && !oldest; b = b->next){
		if(!b->resolved) oldest = b->number;
	}
	while(pg->replay && (!oldest || pg->replay->after_batch < oldest)){
		struct pg_change *c = pg->replay;
		pg->replay = c->next;
		free(c->data);
		free(c);
	}
	if(!pg->replay) pg->replay_tail = NULL;
}

/* The transaction that ended with batch `number` was answered: every batch it held. */
static void pg_batch_resolved(struct pg_store *pg, uint64_t number, bool ok)
{
	struct pg_batch *first = NULL;
	for(struct pg_batch *b = pg->batches; b && b->number <= number; b = b->next){
		if(!b->sent || b->resolved) continue;
		if(!first) first = b;
		if(ok){
			b->resolved = true;
			b->ok = true;
		}
	}
	if(!first) return;
	if(!ok) undo_from(pg, first);
	prune_replay(pg);
}

static void pg_doubt_resolved(struct pg_store *pg, const PGresult *committed)
{
	pg->doubt = false;
	for(struct pg_batch *b = pg->batches; b; b = b->next){
		if(!b->sent || b->resolved) continue;
		bool found = false;
		for(int i = 0; i < PQntuples(committed) && !found; i++){
			found = strtoull(PQgetvalue(committed, i, 0), NULL, 10) == b->number;
		}
		if(found){
			b->resolved = true;
			b->ok = true;
		}else{
			undo_from(pg, b);
			break;
		}
	}
	prune_replay(pg);
}

/* Empty batches (nothing to store) resolve with the batches before them. */
static void resolve_empty(struct pg_store *pg)
{
	for(struct pg_batch *b = pg->batches; b; b = b->next){
		if(!b->resolved && b->changeset) return;
		if(!b->resolved){
			b->resolved = true;
			b->ok = true;
		}
	}
}

/* Group commit across passes: one transaction in flight at a time; the batches committed
 * here meanwhile wait, and go together as the next transaction once it is answered. So a
 * busy broker sends as many transactions as PostgreSQL commits, each with the passes
 * that came meanwhile, and an idle one sends each batch at once. */
static void send_queued(struct pg_store *pg)
{
	if(!pg->conn || pg->connecting || pg->doubt) return;
	struct pg_batch *first = NULL, *last = NULL;
	for(struct pg_batch *b = pg->batches; b; b = b->next){
		if(b->resolved) continue;
		if(b->sent) return; /* one in flight */
		if(!b->changeset) continue;
		if(!first) first = b;
		last = b;
	}
	if(!first) return;
	for(struct pg_batch *b = first; b; b = b == last ? NULL : b->next) b->sent = true;
	/* a failure drops the connection: what was sent is then in doubt, looked up after
	 * reconnecting (a transaction without its sync never commits) */
	pg_changes_send(pg, first, last);
}

/* The local commit is done; the changes go to PostgreSQL. A transaction of its own that
 * changed nothing has nothing to wait for; a batch that changed nothing waits for the
 * batches before it (its replies may show what they did). */
static int ship(struct pg_store *pg, bool own_transaction)
{
	void *changes;
	int len;
	if(take_changeset(pg, &changes, &len)) return STORE_ERROR;
	if(len == 0 && (!pg->batches || own_transaction)){
		sqlite3_free(changes);
		return STORE_OK;
	}
	struct pg_batch *b = calloc(1, sizeof(*b));
	if(!b){
		if(len) pg_changes_undo(pg, changes, len);
		sqlite3_free(changes);
		snprintf(pg->errmsg, sizeof(pg->errmsg), "out of memory");
		return STORE_ERROR;
	}
	b->number = ++pg->batch_number;
	b->changeset = len ? changes : NULL;
	if(!len) sqlite3_free(changes);
	b->changeset_len = len;
	b->committed_ms = pg_now_ms();
	if(pg->batches_tail) pg->batches_tail->next = b;
	else pg->batches = b;
	pg->batches_tail = b;
	if(len && (!pg->conn || pg->connecting || pg->doubt)){
		/* it cannot go now: undone, and told now */
		undo_from(pg, b);
		snprintf(pg->errmsg, sizeof(pg->errmsg), "not connected to PostgreSQL");
		b->reported = true;
		return STORE_ERROR;
	}
	send_queued(pg);
	return STORE_PENDING;
}

static void pg_fetched(struct pg_store *pg, const PGresult *rows);
static void pg_ids_granted(struct pg_store *pg, int64_t block);

/* A group's results are all in: what they mean. */
static void group_done(struct pg_store *pg, struct pg_wait *w)
{
	const char *value = w->rows && PQntuples(w->rows) > 0 && !PQgetisnull(w->rows, 0, 0) ? PQgetvalue(w->rows, 0, 0) : NULL;
	switch(w->kind){
	case PG_WAIT_BATCH:
		if(w->failed) pg_fail(pg, "PostgreSQL refused a batch", w->error);
		pg_batch_resolved(pg, w->batch, !w->failed);
		break;
	case PG_WAIT_FETCH:
		pg->fetching = false;
		if(!w->failed && w->rows) pg_fetched(pg, w->rows);
		else if(w->failed) pg_fail(pg, "cannot read the change log", w->error);
		break;
	case PG_WAIT_LEASE:
		pg->lease_asked = false;
		if(!w->failed && value && strcmp(value, "t") == 0) pg->leader = true;
		break;
	case PG_WAIT_IDS:
		pg->ids_asked = false;
		if(!w->failed && value) pg_ids_granted(pg, strtoll(value, NULL, 10));
		break;
	case PG_WAIT_DOUBT:
		if(!w->failed && w->rows) pg_doubt_resolved(pg, w->rows);
		break;
	case PG_WAIT_NONE:
		break;
	}
}

/* Reads what arrived and acts on it; sends what is due. Never blocks. */
static void pump(struct pg_store *pg)
{
	pg_conn_pump(pg);
	for(struct pg_wait *w = pg_conn_take_done(pg), *next; w; w = next){
		next = w->next;
		group_done(pg, w);
		PQclear(w->rows);
		free(w);
	}
	send_queued(pg);
}

/* Pumps until done(pg) or the deadline: start-up, a transaction of its own, closing. */
static void wait_until(struct pg_store *pg, int64_t deadline_ms, bool (*done)(struct pg_store *pg))
{
	while(!done(pg)){
		int64_t left = deadline_ms - pg_now_ms();
		if(left <= 0) return;
		if(pg->conn && !pg->connecting){
			struct pollfd p = { .fd = PQsocket(pg->conn), .events = POLLIN };
			poll(&p, 1, left > 50 ? 50 : (int)left);
		}else{
			struct timespec ts = { 0, 20 * 1000000L };
			nanosleep(&ts, NULL);
		}
		pump(pg);
	}
}

/* Frees the batches at the front whose outcome is known and told. */
static void drop_finished(struct pg_store *pg)
{
	while(pg->batches && pg->batches->resolved && pg->batches->reported){
		struct pg_batch *b = pg->batches;
		pg->batches = b->next;
		if(!pg->batches) pg->batches_tail = NULL;
		batch_free(b);
	}
}

static int pg_batch_poll(struct store *store)
{
	struct pg_store *pg = pg_of(store);
	pump(pg);
	resolve_empty(pg);
	struct pg_batch *b = pg->batches;
	while(b && b->reported) b = b->next;
	int rc;
	if(!b){
		rc = STORE_NOT_FOUND;
	}else if(b->resolved){
		b->reported = true;
		rc = b->ok ? STORE_OK : STORE_ERROR;
		if(!b->ok) snprintf(pg->errmsg, sizeof(pg->errmsg), "PostgreSQL did not store a batch");
	}else if(pg_now_ms() - b->committed_ms > pg->timeout_ms){
		/* told as failed; the replica keeps it until its outcome is known */
		b->reported = true;
		snprintf(pg->errmsg, sizeof(pg->errmsg), "no answer from PostgreSQL within %d ms (plugin_opt_store_timeout_ms)",
				pg->timeout_ms);
		rc = STORE_ERROR;
	}else{
		rc = STORE_PENDING;
	}
	drop_finished(pg);
	return rc;
}

static int pg_batch_commit(struct store *store)
{
	struct pg_store *pg = pg_of(store);
	int rc = sqlite_store_ops()->batch_commit(store);
	if(rc != STORE_OK){
		session_new(pg); /* what it recorded was rolled back */
		return rc;
	}
	return ship(pg, false);
}

static bool nothing_unresolved(struct pg_store *pg)
{
	resolve_empty(pg);
	return !any_unresolved(pg);
}

/* A transaction of its own (no batch): finished when this returns. */
static int pg_commit(struct store *store)
{
	struct pg_store *pg = pg_of(store);
	int rc = sqlite_store_ops()->commit(store);
	if(rc != STORE_OK || !sqlite3_get_autocommit(pg->db)) return rc; /* inside a batch, or failed */
	rc = ship(pg, true);
	if(rc != STORE_PENDING) return rc;
	struct pg_batch *mine = pg->batches_tail;
	wait_until(pg, pg_now_ms() + pg->timeout_ms, nothing_unresolved);
	bool ok = mine->resolved && mine->ok;
	/* it is told here; those before it are told by store_batch_poll as usual */
	mine->reported = true;
	drop_finished(pg);
	if(!ok) snprintf(pg->errmsg, sizeof(pg->errmsg), "PostgreSQL did not store the change");
	return ok ? STORE_OK : STORE_ERROR;
}

/* ---- other brokers' changes ---- */

static void pg_fetched(struct pg_store *pg, const PGresult *rows)
{
	int n = PQntuples(rows);
	if(n > 0 && !PQgetisnull(rows, 0, 4) && strtoll(PQgetvalue(rows, 0, 4), NULL, 10) > pg->fetched_seq + 1
			&& strtoll(PQgetvalue(rows, 0, 0), NULL, 10) > pg->fetched_seq + 1){
		/* the log no longer reaches back to what this replica holds */
		pg->reload_wanted = true;
		return;
	}
	for(int i = 0; i < n; i++){
		int64_t seq = strtoll(PQgetvalue(rows, i, 0), NULL, 10);
		if(seq <= pg->fetched_seq) continue;
		pg->fetched_seq = seq;
		bool own = strcmp(PQgetvalue(rows, i, 1), pg->broker) == 0;
		if(own && !was_undone(pg, strtoull(PQgetvalue(rows, i, 2), NULL, 10))) continue;
		size_t len;
		unsigned char *data = PQunescapeBytea((const unsigned char *)PQgetvalue(rows, i, 3), &len);
		struct pg_change *c = calloc(1, sizeof(*c));
		if(!data || !c){
			PQfreemem(data);
			free(c);
			pg->reload_wanted = true;
			return;
		}
		c->seq = seq;
		c->len = (int)len;
		c->data = malloc(len ? len : 1);
		if(c->data) memcpy(c->data, data, len);
		PQfreemem(data);
		if(!c->data){
			free(c);
			pg->reload_wanted = true;
			return;
		}
		if(pg->inbox_tail) pg->inbox_tail->next = c;
		else pg->inbox = c;
		pg->inbox_tail = c;
	}
	if(n > 0) pg->fetch_wanted = true; /* there may be more */
}

/* The copy missed changes the change log no longer holds (a broker cut off for longer
 * than the log keeps): it is loaded again, as at start-up, on a connection of its own.
 * The broker's thread waits for that load (as long as a start-up's: logged), once no
 * batch of this broker is unresolved. Devices are not told what changed meanwhile; they
 * read their jobs when they reconnect, as on AWS. */
static int reload(struct pg_store *pg)
{
	if(any_unresolved(pg) || !pg->conn || pg->connecting) return STORE_NOT_FOUND; /* later */
	if(pg->replica->log){
		pg->replica->log(pg->replica->log_ctx, JOBS_LOG_WARNING, "jobs: this broker's copy missed changes the"
				" change log no longer holds: loading it again from PostgreSQL");
	}
	PGconn *shared = pg->conn;
	pg->conn = NULL;
	int rc = pg_conn_open(pg);
	if(rc == 0){
		sqlite3session_enable(pg->session, 0);
		rc = pg_snapshot_load(pg, true);
		sqlite3session_enable(pg->session, 1);
		PQfinish(pg->conn);
	}
	pg->conn = shared;
	changes_free(&pg->inbox, &pg->inbox_tail);
	if(rc != 0){
		char why[sizeof(pg->errmsg)];
		memcpy(why, pg->errmsg, sizeof(why));
		pg_fail(pg, "cannot load this broker's copy again (next try in a moment)", why);
		return STORE_ERROR;
	}
	pg->reload_wanted = false;
	pg->fetch_wanted = true;
	return STORE_OK;
}

static int pg_store_sync(struct store *store, const struct store_sync_hooks *hooks)
{
	struct pg_store *pg = pg_of(store);
	pump(pg);
	if(pg->reload_wanted) return reload(pg);
	if(!pg->inbox) return STORE_NOT_FOUND;
	bool keep = any_unresolved(pg);
	while(pg->inbox){
		struct pg_change *c = pg->inbox;
		pg->inbox = c->next;
		if(!pg->inbox) pg->inbox_tail = NULL;
		if(pg_changes_apply(pg, c->data, c->len, hooks)){
			char why[sizeof(pg->errmsg)];
			memcpy(why, pg->errmsg, sizeof(why));
			pg_fail(pg, "another broker's change", why);
		}
		pg->applied_seq = c->seq;
		c->after_batch = pg->batch_number;
		if(keep){
			c->next = NULL;
			if(pg->replay_tail) pg->replay_tail->next = c;
			else pg->replay = c;
			pg->replay_tail = c;
		}else{
			free(c->data);
			free(c);
		}
	}
	return STORE_OK;
}

static void pg_watch(struct store *store, int *fd, unsigned *reads)
{
	/* from another thread: only the atomics; the handle's owner is set before any
	 * thread can ask */
	struct pg_store *pg = sqlite_store_owner(store);
	*fd = atomic_load(&pg->watch_fd);
	*reads = atomic_load(&pg->reads);
}

static bool pg_runs_scheduler(struct store *store)
{
	struct pg_store *pg = pg_of(store);
	return pg->leader && pg->conn && !pg->connecting;
}

/* ---- ids no other broker takes ---- */

static void pg_ids_granted(struct pg_store *pg, int64_t block)
{
	if(pg->id_next >= pg->id_end){
		pg->id_next = block * PG_ID_BLOCK;
		pg->id_end = pg->id_next + PG_ID_BLOCK;
	}else{
		pg->spare_block = block;
	}
}

static int take_id(struct pg_store *pg, int64_t *out)
{
	if(pg->id_next >= pg->id_end && pg->spare_block){
		pg->id_next = pg->spare_block * PG_ID_BLOCK;
		pg->id_end = pg->id_next + PG_ID_BLOCK;
		pg->spare_block = 0;
	}
	if(pg->id_next >= pg->id_end){
		snprintf(pg->errmsg, sizeof(pg->errmsg), "no ids left until PostgreSQL answers");
		return -1;
	}
	*out = pg->id_next++;
	return 0;
}

/* Gives the row SQLite numbered the next id of this broker's block. */
static int renumber(struct pg_store *pg, enum pg_stmt_id id, const char *sql, int64_t from, int64_t *to)
{
	if(take_id(pg, to)) return STORE_ERROR;
	sqlite3_stmt *st = pg_stmt(pg, id, sql);
	if(!st) return STORE_ERROR;
	sqlite3_bind_int64(st, 1, *to);
	sqlite3_bind_int64(st, 2, from);
	int rc = sqlite3_step(st) == SQLITE_DONE ? STORE_OK : STORE_ERROR;
	sqlite3_reset(st);
	return rc;
}

static int pg_job_insert(struct store *store, struct store_job *job)
{
	int rc = sqlite_store_ops()->job_insert(store, job);
	if(rc != STORE_OK) return rc;
	int64_t id;
	rc = renumber(pg_of(store), PG_ST_RENUMBER_JOB, "UPDATE jobs SET seq = ?1 WHERE seq = ?2", job->seq, &id);
	if(rc == STORE_OK) job->seq = id;
	return rc;
}

static int renumber_queue_entry(struct store *store)
{
	struct pg_store *pg = pg_of(store);
	int64_t id;
	return renumber(pg, PG_ST_RENUMBER_ENTRY, "UPDATE rollout_queue SET id = ?1 WHERE id = ?2",
			sqlite3_last_insert_rowid(pg->db), &id);
}

static int pg_rollout_push(struct store *store, int64_t job_seq, const char *thing)
{
	int rc = sqlite_store_ops()->rollout_push(store, job_seq, thing);
	return rc == STORE_OK ? renumber_queue_entry(store) : rc;
}

static int pg_rollout_push_group(struct store *store, int64_t job_seq, const char *group)
{
	int rc = sqlite_store_ops()->rollout_push_group(store, job_seq, group);
	return rc == STORE_OK ? renumber_queue_entry(store) : rc;
}

bool pg_store_keeps_table(const char *table)
{
	return pg_table_replicated(table);
}

bool pg_store_derives_table(const char *table)
{
	return strcmp(table, "job_counts") == 0;
}

/* ---- info, open, close ---- */

static void pg_info(struct store *store, struct store_info *out)
{
	struct pg_store *pg = pg_of(store);
	*out = (struct store_info){ .kind = "postgresql", .location = pg->location,
		.schema_version = JOBS_SQLITE_SCHEMA_VERSION };
}

static void pg_close(struct store *store)
{
	struct pg_store *pg = pg_of(store);
	/* what is pending gets its chance to finish */
	if(pg->conn && !pg->connecting) wait_until(pg, pg_now_ms() + pg->timeout_ms, nothing_unresolved);
	pg_conn_close(pg);
	while(pg->batches){
		struct pg_batch *b = pg->batches;
		pg->batches = b->next;
		batch_free(b);
	}
	changes_free(&pg->inbox, &pg->inbox_tail);
	changes_free(&pg->replay, &pg->replay_tail);
	if(pg->session) sqlite3session_delete(pg->session);
	for(int i = 0; i < PG_ST_COUNT; i++) sqlite3_finalize(pg->stmt[i]);
	sqlite_store_ops()->close(store);
	free(pg->conninfo);
	free(pg);
}

/* The URI without its password, for the log and describeBroker. */
static void hide_password(const char *uri, char *out, size_t size)
{
	const char *scheme = strstr(uri, "://");
	const char *at = scheme ? strchr(scheme + 3, '@') : NULL;
	const char *colon = scheme && at ? memchr(scheme + 3, ':', (size_t)(at - scheme - 3)) : NULL;
	if(colon) snprintf(out, size, "%.*s:***%s", (int)(colon - uri), uri, at);
	else snprintf(out, size, "%s", uri);
}

static void build_ops(void)
{
	pg_ops = *sqlite_store_ops();
	pg_ops.close = pg_close;
	pg_ops.errmsg = pg_errmsg;
	pg_ops.info = pg_info;
	pg_ops.commit = pg_commit;
	pg_ops.batch_commit = pg_batch_commit;
	pg_ops.batch_poll = pg_batch_poll;
	pg_ops.sync = pg_store_sync;
	pg_ops.runs_scheduler = pg_runs_scheduler;
	pg_ops.watch = pg_watch;
	pg_ops.job_insert = pg_job_insert;
	pg_ops.rollout_push = pg_rollout_push;
	pg_ops.rollout_push_group = pg_rollout_push_group;
}

static bool has_ids(struct pg_store *pg)
{
	return pg->id_next < pg->id_end;
}

int pg_store_open(const struct jobs_config *cfg, struct store **out, char *err, size_t errlen)
{
	build_ops();
	struct pg_store *pg = calloc(1, sizeof(*pg));
	if(!pg || !(pg->conninfo = strdup(cfg->store_uri))){
		free(pg);
		snprintf(err, errlen, "out of memory");
		return STORE_ERROR;
	}
	pg->timeout_ms = cfg->store_timeout_ms > 0 ? cfg->store_timeout_ms : 5000;
	atomic_init(&pg->watch_fd, -1);
	atomic_init(&pg->reads, 0);
	hide_password(cfg->store_uri, pg->location, sizeof(pg->location));
	char host[32] = "";
	gethostname(host, sizeof(host) - 1);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(pg->broker, sizeof(pg->broker), "%.20s/%d/%lx", host, (int)getpid(),
			(unsigned long)(ts.tv_nsec ^ ts.tv_sec ^ (long)(uintptr_t)pg) & 0xffffffUL);

	/* the replica: an SQLite store in memory, this store's table of operations */
	struct jobs_config replica_cfg = *cfg;
	replica_cfg.db_path = ":memory:";
	replica_cfg.db_max_mb = 0;
	char msg[1024];
	if(sqlite_store_open_as(&replica_cfg, &pg_ops, pg, &pg->replica, msg, sizeof(msg)) != STORE_OK){
		snprintf(err, errlen, "cannot make the in-memory copy of the database: %s", msg);
		free(pg->conninfo);
		free(pg);
		return STORE_ERROR;
	}
	pg->db = sqlite_store_handle(pg->replica);
	const char *step = "connect";
	if(pg_conn_open(pg)) goto fail;
	step = "prepare the tables";
	if(pg_schema_prepare(pg)) goto fail;
	step = "load the data";
	if(pg_snapshot_load(pg, false)) goto fail;
	step = "start recording changes";
	if(session_new(pg)){
		snprintf(pg->errmsg, sizeof(pg->errmsg), "%s", sqlite3_errmsg(pg->db));
		goto fail;
	}
	step = "start the pipeline";
	if(pg_conn_pipeline(pg)) goto fail;
	/* the first block of ids, and the lease when no other broker holds it */
	wait_until(pg, pg_now_ms() + pg->timeout_ms, has_ids);
	if(!has_ids(pg)){
		snprintf(pg->errmsg, sizeof(pg->errmsg), "no answer within %d ms", pg->timeout_ms);
		step = "take a block of ids";
		goto fail;
	}
	*out = pg->replica;
	return STORE_OK;
fail:
	snprintf(err, errlen, "cannot use PostgreSQL store %s (plugin_opt_store): %s: %s", pg->location, step, pg->errmsg);
	pg_close(pg->replica);
	return STORE_ERROR;
}

/* ---- moving an SQLite fleet in ---- */

static int exec_sql(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;
	if(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK) return 0;
	snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return -1;
}

/* A copy of the database at `from` in the file `to` (through its WAL, if it has one). */
static int copy_database(const char *from, const char *to, char *err, size_t errlen)
{
	sqlite3 *src = NULL, *dst = NULL;
	int rc = -1;
	if(sqlite3_open_v2(from, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK){
		snprintf(err, errlen, "cannot open %s: %s", from, src ? sqlite3_errmsg(src) : "out of memory");
	}else if(sqlite3_open(to, &dst) != SQLITE_OK){
		snprintf(err, errlen, "cannot make a copy in %s: %s", to, dst ? sqlite3_errmsg(dst) : "out of memory");
	}else{
		sqlite3_backup *bk = sqlite3_backup_init(dst, "main", src, "main");
		rc = bk && sqlite3_backup_step(bk, -1) == SQLITE_DONE ? 0 : -1;
		sqlite3_backup_finish(bk);
		if(rc) snprintf(err, errlen, "cannot read %s: %s", from, sqlite3_errmsg(dst));
	}
	sqlite3_close(src);
	sqlite3_close(dst);
	return rc;
}

static bool no_waits(struct pg_store *pg)
{
	return !pg->waits;
}

/* jobs_id_blocks moves past the replica's largest job seq and queue entry id. */
static int bump_id_blocks(struct pg_store *pg)
{
	sqlite3_stmt *st;
	int64_t max = 0;
	if(sqlite3_prepare_v2(pg->db, "SELECT max(coalesce((SELECT max(seq) FROM jobs), 0),"
				" coalesce((SELECT max(id) FROM rollout_queue), 0))", -1, &st, NULL) != SQLITE_OK) return -1;
	if(sqlite3_step(st) == SQLITE_ROW) max = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	char block[32];
	snprintf(block, sizeof(block), "%lld", (long long)(max / PG_ID_BLOCK + 1));
	const char *v[] = { block };
	if(pg_send(pg, "SELECT setval('jobs_id_blocks', greatest((SELECT last_value FROM jobs_id_blocks), $1::bigint))",
				1, v, NULL, NULL) || pg_sync(pg, PG_WAIT_NONE, 0)) return -1;
	wait_until(pg, pg_now_ms() + pg->timeout_ms, no_waits);
	return pg->waits || !pg->conn ? -1 : 0;
}

int pg_store_import(struct store *store, const char *sqlite_path, char *err, size_t errlen)
{
	struct pg_store *pg = pg_of(store);
	struct store_counts counts;
	if(pg_ops.counts(store, true, &counts) != STORE_OK){
		snprintf(err, errlen, "cannot count the records: %s", sqlite3_errmsg(pg->db));
		return STORE_ERROR;
	}
	int64_t held = counts.things + counts.groups;
	for(int i = 0; i < JOB_STATUS_COUNT; i++) held += counts.jobs[i];
	if(held){
		snprintf(err, errlen, "the PostgreSQL database already holds jobs, executions or groups");
		return STORE_EXISTS;
	}
	/* the file's records, taken to this schema version in a copy: the file stays as it is */
	const char *tmp = getenv("TMPDIR");
	char copy_path[4096];
	snprintf(copy_path, sizeof(copy_path), "%s/jobs-import-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	int fd = mkstemp(copy_path);
	if(fd < 0){
		snprintf(err, errlen, "cannot make a temporary file in %s", tmp && *tmp ? tmp : "/tmp");
		return STORE_ERROR;
	}
	close(fd);
	int rc = STORE_ERROR;
	struct store *copy = NULL;
	char msg[1024];
	struct jobs_config cfg = { .db_path = copy_path, .synchronous = JOBS_SYNC_NORMAL };
	if(copy_database(sqlite_path, copy_path, err, errlen)) goto done;
	if(sqlite_store_open(&cfg, &copy, msg, sizeof(msg)) != STORE_OK){
		snprintf(err, errlen, "%s", msg);
		goto done;
	}
	sqlite_store_ops()->close(copy);
	/* copied into the replica in one transaction of its own: the session records every
	 * row, and the commit sends them and waits for PostgreSQL */
	char attach[4200];
	snprintf(attach, sizeof(attach), "ATTACH '%s' AS src", copy_path);
	if(exec_sql(pg->db, attach, err, errlen)) goto done;
	int failed = pg_ops.begin(store) != STORE_OK;
	if(failed) snprintf(err, errlen, "%s", sqlite3_errmsg(pg->db));
	for(int i = 0; !failed && pg_tables[i]; i++){
		char sql[256];
		snprintf(sql, sizeof(sql), "INSERT INTO main.\"%s\" SELECT * FROM src.\"%s\"%s", pg_tables[i], pg_tables[i],
				strcmp(pg_tables[i], "executions") == 0 ? " ORDER BY thing, job_seq, execution_number" : "");
		failed = exec_sql(pg->db, sql, err, errlen);
	}
	if(failed){
		pg_ops.rollback(store);
	}else if(pg_commit(store) != STORE_OK){
		snprintf(err, errlen, "PostgreSQL did not store the records: %s", pg->errmsg);
		failed = 1;
	}
	sqlite3_exec(pg->db, "DETACH src", NULL, NULL, NULL);
	/* blocks of ids start past the largest id copied in */
	if(!failed && bump_id_blocks(pg)){
		snprintf(err, errlen, "the records are stored, but the id blocks could not be moved past them: %s", pg->errmsg);
		failed = 1;
	}
	rc = failed ? STORE_ERROR : STORE_OK;
done:
	unlink(copy_path);
	return rc;
}
