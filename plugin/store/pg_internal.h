/* The PostgreSQL store's parts, shared by its files (pg_store.c: the table of operations,
 * batches and their outcomes; pg_conn.c: the connection and its pipeline; pg_schema.c:
 * the tables in PostgreSQL and the snapshot that fills the replica; pg_changes.c:
 * changesets to SQL, and other brokers' changes into the replica). They call downwards
 * only: pg_store.c -> pg_changes.c -> pg_schema.c -> pg_conn.c. Nothing outside
 * plugin/store/pg_*.c includes this header.
 *
 * How it works. Each broker keeps the whole fleet in an in-memory SQLite database, the
 * replica, opened as an SQLite store whose table of operations is this store's: every
 * read and write of the core runs on the replica (the SQLite store's code), unchanged.
 * SQLite's session extension records what each batch changed; the changesets become
 * PostgreSQL transactions (INSERTs, and UPDATEs and DELETEs checked against the values
 * the batch read, so a row another broker changed meanwhile fails the transaction), sent
 * in pipeline mode without waiting, one in flight at a time: the batches committed
 * meanwhile go together as the next (group commit). A transaction also appends each
 * batch's changeset to the change log (jobs_changes) and NOTIFYs the other brokers,
 * which fetch the log and apply the changesets to their replicas. A batch PostgreSQL
 * refused is undone in the replica by applying its inverse. */
#ifndef MOSQUITTO_JOBS_PG_INTERNAL_H
#define MOSQUITTO_JOBS_PG_INTERNAL_H

#define SQLITE_ENABLE_SESSION 1
#define SQLITE_ENABLE_PREUPDATE_HOOK 1
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store_impl.h"

/* Advisory lock keys (one 64-bit space per database): the schema's set-up, the order of
 * writers' commits, and the lease on the tick's due work. */
#define PG_LOCK_SCHEMA 0x6a6f627300000001LL
#define PG_LOCK_COMMIT 0x6a6f627300000002LL
#define PG_LOCK_SCHEDULER 0x6a6f627300000003LL
/* The NOTIFY channel of the change log. */
#define PG_CHANNEL "jobs_changes"
/* Ids (job seq, rollout queue entries) are taken from blocks of this many, one block
 * per nextval of jobs_id_blocks, so that two brokers never pick the same one. */
#define PG_ID_BLOCK (1LL << 20)
/* How many of its own undone batches a broker remembers. */
#define PG_UNDONE_KEPT 64

/* A batch of this broker's, from its local commit until its outcome is both known and
 * reported. */
struct pg_batch {
	struct pg_batch *next;
	uint64_t number;        /* this broker's batch counter (jobs_changes.batch) */
	void *changeset;        /* sqlite3_malloc'd; NULL for a batch that changed nothing */
	int changeset_len;
	int64_t committed_ms;   /* local commit (monotonic), for the timeout */
	bool sent;              /* handed to the connection */
	bool resolved;          /* its outcome is known */
	bool ok;                /* ... and it is stored */
	bool reported;          /* store_batch_poll told it */
	bool reported_ok;
};

/* What the connection's next results answer, in order: one entry per pipeline sync. */
enum pg_wait_kind { PG_WAIT_BATCH, PG_WAIT_FETCH, PG_WAIT_LEASE, PG_WAIT_IDS, PG_WAIT_DOUBT, PG_WAIT_NONE };
struct pg_wait {
	struct pg_wait *next;
	enum pg_wait_kind kind;
	uint64_t batch;         /* PG_WAIT_BATCH: its number */
	int64_t sent_ms;        /* when its sync went out (monotonic) */
	bool failed;            /* a result of this group was an error */
	char error[256];
	PGresult *rows;         /* the group's row result, when it has one */
};

/* A changeset from the change log, another broker's, fetched and not applied yet; or
 * applied while one of this broker's batches was unresolved (kept to apply again if
 * that batch is undone). */
struct pg_change {
	struct pg_change *next;
	int64_t seq;
	uint64_t after_batch;   /* this broker's last batch number when it was applied */
	void *data;
	int len;
};

/* Statements on the replica of the store's own, prepared once (pg_stmt, pg_schema.c). */
enum pg_stmt_id { PG_ST_READ_EXECUTION, PG_ST_RENUMBER_JOB, PG_ST_RENUMBER_ENTRY, PG_ST_COUNT };

struct pg_store {
	struct store *replica;         /* the SQLite store, whose table of operations is pg_ops */
	sqlite3 *db;                   /* the replica's handle */
	sqlite3_session *session;      /* records the open batch's changes */
	sqlite3_stmt *stmt[PG_ST_COUNT]; /* pg_stmt's */
	char *conninfo;
	int timeout_ms;
	char broker[48];               /* this broker in the change log: host, pid, random */
	char errmsg[512];

	PGconn *conn;                  /* NULL while disconnected */
	atomic_int watch_fd;           /* conn's socket while connected, else -1 (store_watch) */
	atomic_uint reads;             /* bumped at each read of it */
	bool connecting;               /* conn is a PQconnectStart in progress */
	int64_t retry_at_ms;           /* next reconnection attempt */
	int64_t down_since_ms;         /* 0 while connected */
	int64_t last_input_ms;         /* the last time the socket had something to read */
	struct pg_wait *waits, *waits_tail;
	struct pg_wait *done, *done_tail;  /* groups whose results are all in, not acted on yet */

	uint64_t batch_number;         /* the last batch numbered */
	struct pg_batch *batches, *batches_tail;
	size_t batches_sent_unresolved;
	bool doubt;                    /* after a lost connection: sent batches whose outcome is unknown */

	char location[256];            /* the URI without its password */
	int64_t applied_seq;           /* the change log is applied through this seq */
	int64_t fetched_seq;           /* ... and fetched through this one */
	bool reload_wanted;            /* the log no longer reaches back: the replica is stale */
	uint64_t undone[PG_UNDONE_KEPT]; /* own batches undone lately (pg_store.c) */
	unsigned undone_next;
	bool fetch_wanted;             /* a NOTIFY came (or a timer): fetch the log */
	bool fetching;                 /* a fetch is in the pipeline */
	int64_t next_fetch_ms;
	struct pg_change *inbox, *inbox_tail;    /* fetched, to apply */
	struct pg_change *replay, *replay_tail;  /* applied while a batch was unresolved */

	bool leader;                   /* holds PG_LOCK_SCHEDULER */
	bool lease_asked;
	int64_t next_lease_ms;
	int64_t next_prune_ms;

	int64_t id_next, id_end;       /* the id block in use: [id_next, id_end) */
	int64_t spare_block;           /* a block fetched ahead (0: none) */
	bool ids_asked;
};


struct pg_store *pg_of(struct store *store);
int64_t pg_now_ms(void);
void pg_fail(struct pg_store *pg, const char *what, const char *why);

/* ---- the connection (pg_conn.c) ---- */
/* Connects at start-up, waiting at most timeout_ms; 0, or -1 with pg->errmsg. */
int pg_conn_open(struct pg_store *pg);
void pg_conn_close(struct pg_store *pg);
/* Enters pipeline mode (after the start-up's waited statements) and LISTENs. */
int pg_conn_pipeline(struct pg_store *pg);
/* The groups whose results are all in, oldest first (the caller frees each entry and
 * PQclears its rows). */
struct pg_wait *pg_conn_take_done(struct pg_store *pg);
/* Reads whatever arrived (never blocks), keeps finished groups of results, notices
 * NOTIFYs, sends what is due (fetch, lease, ids), reconnects when it is time. */
void pg_conn_pump(struct pg_store *pg);
/* Appends a group's wait entry (after its commands and PQpipelineSync were sent). */
struct pg_wait *pg_wait_push(struct pg_store *pg, enum pg_wait_kind kind);
/* Sends one command into the pipeline: 0, or -1 (the connection is then dropped). */
int pg_send(struct pg_store *pg, const char *sql, int n, const char *const *values, const int *lengths,
		const int *formats);
/* Ends a group: PQpipelineSync and flush. 0 or -1. */
int pg_sync(struct pg_store *pg, enum pg_wait_kind kind, uint64_t batch);
/* The connection is lost (or given up): every sent batch is in doubt. */
void pg_conn_lost(struct pg_store *pg, const char *why);
/* Runs SQL and waits for it (start-up and shutdown only, never from the loop); the
 * result is returned (PQclear it), NULL on failure with pg->errmsg set. */
PGresult *pg_exec_wait(struct pg_store *pg, const char *sql, int n, const char *const *values);

/* ---- the schema and the snapshot (pg_schema.c) ---- */
/* Creates or checks PostgreSQL's tables (those of the replica that are data, not
 * derived), under PG_LOCK_SCHEMA. 0, or -1 with pg->errmsg. */
int pg_schema_prepare(struct pg_store *pg);
/* Fills the replica with the database's rows (replacing what it held when `replace`),
 * and sets applied_seq; on failure the replica is as it was. */
int pg_snapshot_load(struct pg_store *pg, bool replace);
/* The statement `id` on the replica, prepared from `sql` on first use; NULL on error. */
sqlite3_stmt *pg_stmt(struct pg_store *pg, enum pg_stmt_id id, const char *sql);
/* The replicated tables, in the order a snapshot loads them. */
extern const char *const pg_tables[];
/* Whether a table of the replica is kept in PostgreSQL (job_counts is not: triggers
 * derive it in each replica). */
bool pg_table_replicated(const char *table);
/* A replicated table's column names, in the replica's order, and (types not NULL) their
 * PostgreSQL types. */
const char *const *pg_table_columns(struct pg_store *pg, const char *table, int *count, const char *const **types);

/* ---- changesets (pg_changes.c) ---- */
/* Sends the batches first..last (a run of the list) as one transaction, each batch's
 * changes and its change-log entry. The caller sends it when no transaction of its is in
 * flight, so nothing it read is still unresolved. 0, or -1. */
int pg_changes_send(struct pg_store *pg, struct pg_batch *first, struct pg_batch *last);
/* Applies another broker's changeset to the replica, calling touch before each change of
 * an execution whose pending state may move. 0, or -1. */
int pg_changes_apply(struct pg_store *pg, const void *data, int len, const struct store_sync_hooks *hooks);
/* Undoes one of this broker's batches in the replica. */
int pg_changes_undo(struct pg_store *pg, const void *data, int len);

#endif
