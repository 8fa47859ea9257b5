/* Changesets (SQLite's session extension) between the replica and PostgreSQL: a batch's
 * changeset becomes one PostgreSQL transaction; another broker's changeset, from the
 * change log, is applied to the replica; a batch PostgreSQL refused is undone. */
#include "store/pg_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/strbuf.h"

/* ---- a batch to PostgreSQL ---- */

/* Parameter texts of one statement: an UPDATE's or DELETE's, or the rows of an INSERT. */
#define MAX_PARAMS 8192
struct params {
	int n;
	const char *values[MAX_PARAMS];
	char *owned[MAX_PARAMS];
	int owned_count;
};

static void params_free(struct params *p)
{
	for(int i = 0; i < p->owned_count; i++) free(p->owned[i]);
	p->n = p->owned_count = 0;
}

/* Appends a value as PostgreSQL's text; returns its $ number. */
static int param_add(struct params *p, sqlite3_value *v)
{
	char buf[64];
	const char *text = NULL;
	switch(sqlite3_value_type(v)){
	case SQLITE_NULL:
		break;
	case SQLITE_INTEGER:
		snprintf(buf, sizeof(buf), "%lld", (long long)sqlite3_value_int64(v));
		text = buf;
		break;
	case SQLITE_FLOAT:
		snprintf(buf, sizeof(buf), "%.17g", sqlite3_value_double(v));
		text = buf;
		break;
	default:
		text = (const char *)sqlite3_value_text(v);
		if(!text) text = "";
		break;
	}
	char *copy = text ? strdup(text) : NULL;
	if(copy) p->owned[p->owned_count++] = copy;
	p->values[p->n++] = copy;
	return p->n;
}

/* INSERTs of one table in a row go as one statement of many rows (a job for a large
 * group inserts an execution per thing): kept here until another kind of change, another
 * table, or a full statement sends them. */
struct inserts {
	char table[64];
	int ncol;
	int rows;
	struct strbuf sql;
	struct params p;
};

static int inserts_send(struct pg_store *pg, struct inserts *ins)
{
	int rc = 0;
	if(ins->rows){
		rc = ins->sql.failed ? -1 : pg_send(pg, ins->sql.p, ins->p.n, ins->p.values, NULL, NULL);
	}
	free(ins->sql.p);
	ins->sql = (struct strbuf){ 0 };
	params_free(&ins->p);
	ins->rows = 0;
	return rc;
}

static int insert_add(struct pg_store *pg, struct inserts *ins, sqlite3_changeset_iter *it, const char *table,
		int ncol, const char *const *names)
{
	if(ins->rows && (strcmp(ins->table, table) != 0 || ins->p.n + ncol > MAX_PARAMS)){
		if(inserts_send(pg, ins)) return -1;
	}
	if(!ins->rows){
		snprintf(ins->table, sizeof(ins->table), "%s", table);
		ins->ncol = ncol;
		strbuf_printf(&ins->sql, "INSERT INTO \"%s\" (", table);
		for(int i = 0; i < ncol; i++) strbuf_printf(&ins->sql, "%s\"%s\"", i ? ", " : "", names[i]);
		strbuf_printf(&ins->sql, ") VALUES ");
	}
	strbuf_printf(&ins->sql, "%s(", ins->rows ? ", " : "");
	for(int i = 0; i < ncol; i++){
		sqlite3_value *v;
		if(sqlite3changeset_new(it, i, &v) != SQLITE_OK || !v) return -1;
		strbuf_printf(&ins->sql, "%s$%d", i ? ", " : "", param_add(&ins->p, v));
	}
	strbuf_printf(&ins->sql, ")");
	ins->rows++;
	return 0;
}

/* UPDATEs of one table that change the same columns, in a row, go as one statement:
 * UPDATE ... FROM (VALUES ...) whose WHERE names each row's key and the values the batch
 * read, checked to have matched every row (jobs_expect_rows): a row changed through
 * another broker fails the transaction. Kept here like the INSERTs. */
struct updates {
	char table[64];
	uint64_t olds, news;    /* the columns a row's old and new values are given for */
	int rows;
	const char *const *names, *const *types;
	unsigned char pk[64];   /* copied: the iterator's moves on */
	int ncol;
	struct params p;
};

static int updates_send(struct pg_store *pg, struct updates *up)
{
	int rc = 0;
	if(up->rows){
		struct strbuf sql = { 0 };
		strbuf_printf(&sql, "WITH v(");
		int k = 0;
		for(int i = 0; i < up->ncol; i++) if(up->olds >> i & 1) strbuf_printf(&sql, "%so%d", k++ ? ", " : "", i);
		for(int i = 0; i < up->ncol; i++) if(up->news >> i & 1) strbuf_printf(&sql, "%sn%d", k++ ? ", " : "", i);
		strbuf_printf(&sql, ") AS (VALUES ");
		int n = 0;
		for(int r = 0; r < up->rows; r++){
			strbuf_printf(&sql, "%s(", r ? ", " : "");
			int c = 0;
			for(int pass = 0; pass < 2; pass++){
				uint64_t mask = pass ? up->news : up->olds;
				for(int i = 0; i < up->ncol; i++){
					if(mask >> i & 1) strbuf_printf(&sql, "%s$%d::%s", c++ ? ", " : "", ++n, up->types[i]);
				}
			}
			strbuf_printf(&sql, ")");
		}
		strbuf_printf(&sql, "), u AS (UPDATE \"%s\" AS t SET ", up->table);
		k = 0;
		for(int i = 0; i < up->ncol; i++){
			if(up->news >> i & 1) strbuf_printf(&sql, "%s\"%s\" = v.n%d", k++ ? ", " : "", up->names[i], i);
		}
		strbuf_printf(&sql, " FROM v WHERE true");
		for(int i = 0; i < up->ncol; i++){
			if(!(up->olds >> i & 1)) continue;
			strbuf_printf(&sql, up->pk[i] ? " AND t.\"%s\" = v.o%d" : " AND t.\"%s\" IS NOT DISTINCT FROM v.o%d",
					up->names[i], i);
		}
		strbuf_printf(&sql, " RETURNING 1) SELECT jobs_expect_rows(count(*), %d) FROM u", up->rows);
		rc = sql.failed ? -1 : pg_send(pg, sql.p, up->p.n, up->p.values, NULL, NULL);
		free(sql.p);
	}
	params_free(&up->p);
	up->rows = 0;
	return rc;
}

static int update_add(struct pg_store *pg, struct updates *up, sqlite3_changeset_iter *it, const char *table,
		int ncol, const char *const *names, const char *const *types, const unsigned char *pk)
{
	uint64_t olds = 0, news = 0;
	sqlite3_value *v;
	for(int i = 0; i < ncol; i++){
		if(sqlite3changeset_old(it, i, &v) != SQLITE_OK) return -1;
		if(v) olds |= 1ULL << i;
		if(sqlite3changeset_new(it, i, &v) != SQLITE_OK) return -1;
		if(v) news |= 1ULL << i;
	}
	if(!news) return 0; /* nothing changes */
	int per_row = __builtin_popcountll(olds) + __builtin_popcountll(news);
	if(up->rows && (strcmp(up->table, table) != 0 || up->olds != olds || up->news != news
				|| up->p.n + per_row > MAX_PARAMS)){
		if(updates_send(pg, up)) return -1;
	}
	if(!up->rows){
		snprintf(up->table, sizeof(up->table), "%s", table);
		up->olds = olds;
		up->news = news;
		up->names = names;
		up->types = types;
		memcpy(up->pk, pk, (size_t)ncol);
		up->ncol = ncol;
	}
	for(int pass = 0; pass < 2; pass++){
		for(int i = 0; i < ncol; i++){
			if(!((pass ? news : olds) >> i & 1)) continue;
			if((pass ? sqlite3changeset_new : sqlite3changeset_old)(it, i, &v) != SQLITE_OK || !v) return -1;
			param_add(&up->p, v);
		}
	}
	up->rows++;
	return 0;
}

/* One change: INSERTs and UPDATEs join the statement being gathered; a DELETE goes
 * as a statement of its own, checked (jobs_expect): the row must still hold the values
 * the batch read. */
static int send_change(struct pg_store *pg, struct inserts *ins, struct updates *up, sqlite3_changeset_iter *it)
{
	const char *table;
	int ncol, op, indirect;
	unsigned char *pk;
	if(sqlite3changeset_op(it, &table, &ncol, &op, &indirect) != SQLITE_OK) return -1;
	if(sqlite3changeset_pk(it, &pk, NULL) != SQLITE_OK) return -1;
	int count;
	const char *const *types;
	const char *const *names = pg_table_columns(pg, table, &count, &types);
	if(!names || count != ncol || ncol > 64) return -1;
	if(op != SQLITE_INSERT && inserts_send(pg, ins)) return -1;
	if(op != SQLITE_UPDATE && updates_send(pg, up)) return -1;
	if(op == SQLITE_INSERT) return insert_add(pg, ins, it, table, ncol, names);
	if(op == SQLITE_UPDATE) return update_add(pg, up, it, table, ncol, names, types, pk);
	/* a DELETE: one row, checked against every value the batch read */
	struct strbuf sql = { 0 };
	static struct params p;
	sqlite3_value *v;
	strbuf_printf(&sql, "WITH u AS (DELETE FROM \"%s\" WHERE true", table);
	for(int i = 0; i < ncol; i++){
		if(sqlite3changeset_old(it, i, &v) != SQLITE_OK || !v) goto fail;
		strbuf_printf(&sql, pk[i] ? " AND \"%s\" = $%d" : " AND \"%s\" IS NOT DISTINCT FROM $%d", names[i],
				param_add(&p, v));
	}
	strbuf_printf(&sql, " RETURNING 1) SELECT jobs_expect(count(*)) FROM u");
	if(sql.failed) goto fail;
	int rc = pg_send(pg, sql.p, p.n, p.values, NULL, NULL);
	free(sql.p);
	params_free(&p);
	return rc;
fail:
	free(sql.p);
	params_free(&p);
	return -1;
}

/* One batch's changes and its entry in the change log. */
static int send_one(struct pg_store *pg, struct pg_batch *b)
{
	char number[24];
	snprintf(number, sizeof(number), "%llu", (unsigned long long)b->number);
	sqlite3_changeset_iter *it;
	if(sqlite3changeset_start(&it, b->changeset_len, b->changeset) != SQLITE_OK) return -1;
	int rc = 0;
	static struct inserts ins; /* their arrays are large: not on the stack */
	static struct updates up;
	while(rc == 0 && sqlite3changeset_next(it) == SQLITE_ROW) rc = send_change(pg, &ins, &up, it);
	if(inserts_send(pg, &ins)) rc = -1;
	if(updates_send(pg, &up)) rc = -1;
	sqlite3changeset_finalize(it);
	if(rc){
		if(pg->conn) pg_conn_lost(pg, "cannot turn a batch into SQL");
		return -1;
	}
	const char *log[] = { pg->broker, number, b->changeset };
	int lengths[] = { 0, 0, b->changeset_len };
	int formats[] = { 0, 0, 1 };
	return pg_send(pg, "INSERT INTO jobs_changes (seq, broker, batch, changes)"
			" SELECT coalesce(max(seq), 0) + 1, $1, $2, $3::bytea FROM jobs_changes", 3, log, lengths, formats);
}

int pg_changes_send(struct pg_store *pg, struct pg_batch *first, struct pg_batch *last)
{
	char key[24];
	snprintf(key, sizeof(key), "%lld", (long long)PG_LOCK_COMMIT);
	const char *lock[] = { key };
	/* The commands up to the pipeline's sync are one transaction (the extended
	 * protocol's implicit one): committed at the sync, or rolled back whole at the first
	 * error. One writer commits at a time (the transaction's advisory lock): a change's
	 * seq, taken under it, then follows the commit order, so a reader of the log never
	 * sees a later seq before an earlier one commits. */
	if(pg_send(pg, "SELECT pg_advisory_xact_lock($1::bigint)", 1, lock, NULL, NULL)) return -1;
	for(struct pg_batch *b = first; b; b = b == last ? NULL : b->next){
		if(b->changeset && send_one(pg, b)) return -1;
	}
	const char *who[] = { pg->broker };
	if(pg_send(pg, "SELECT pg_notify('" PG_CHANNEL "', $1)", 1, who, NULL, NULL)) return -1;
	return pg_sync(pg, PG_WAIT_BATCH, last->number);
}

/* ---- changesets into the replica ---- */

static int replace_on_conflict(void *ctx, int conflict, sqlite3_changeset_iter *it)
{
	(void)ctx;
	(void)it;
	/* PostgreSQL committed this change: it wins over what the replica holds */
	return conflict == SQLITE_CHANGESET_DATA || conflict == SQLITE_CHANGESET_CONFLICT
		? SQLITE_CHANGESET_REPLACE : SQLITE_CHANGESET_OMIT;
}

static int omit_on_conflict(void *ctx, int conflict, sqlite3_changeset_iter *it)
{
	(void)ctx;
	(void)conflict;
	(void)it;
	/* the row holds what another broker's committed change wrote: it stays */
	return SQLITE_CHANGESET_OMIT;
}

static int column_index(struct pg_store *pg, const char *table, const char *name)
{
	int n;
	const char *const *names = pg_table_columns(pg, table, &n, NULL);
	for(int i = 0; names && i < n; i++){
		if(strcmp(names[i], name) == 0) return i;
	}
	return -1;
}

/* The namespace and status of an execution, as the replica has it. */
static int read_execution(struct pg_store *pg, sqlite3_value *thing, sqlite3_value *job, sqlite3_value *number,
		char *ns, size_t ns_size, int *status)
{
	sqlite3_stmt *st = pg_stmt(pg, PG_ST_READ_EXECUTION, "SELECT namespace_id, status FROM executions"
			" WHERE thing = ?1 AND job_seq = ?2 AND execution_number = ?3");
	if(!st) return -1;
	sqlite3_bind_value(st, 1, thing);
	sqlite3_bind_value(st, 2, job);
	sqlite3_bind_value(st, 3, number);
	int rc = -1;
	if(sqlite3_step(st) == SQLITE_ROW){
		snprintf(ns, ns_size, "%s", (const char *)sqlite3_column_text(st, 0));
		*status = sqlite3_column_int(st, 1);
		rc = 0;
	}
	sqlite3_reset(st);
	return rc;
}

/* Calls touch for each change of an execution that inserts, deletes or moves its status. */
static int touch_executions(struct pg_store *pg, const void *data, int len, const struct store_sync_hooks *hooks)
{
	int ns_col = column_index(pg, "executions", "namespace_id");
	int status_col = column_index(pg, "executions", "status");
	if(ns_col < 0 || status_col < 0) return -1;
	sqlite3_changeset_iter *it;
	if(sqlite3changeset_start(&it, len, (void *)data) != SQLITE_OK) return -1;
	int rc = 0;
	while(rc == 0 && sqlite3changeset_next(it) == SQLITE_ROW){
		const char *table;
		int ncol, op, indirect;
		sqlite3changeset_op(it, &table, &ncol, &op, &indirect);
		if(strcmp(table, "executions") != 0) continue;
		sqlite3_value *thing, *job, *number, *ns = NULL, *from = NULL, *to = NULL;
		int (*row)(sqlite3_changeset_iter *, int, sqlite3_value **) = op == SQLITE_INSERT ? sqlite3changeset_new
			: sqlite3changeset_old;
		if(row(it, 0, &thing) != SQLITE_OK || row(it, 1, &job) != SQLITE_OK || row(it, 2, &number) != SQLITE_OK
				|| !thing || !job || !number) continue;
		char nsbuf[JOBS_NAMESPACE_MAX + 1] = "";
		int before = -1, after = -1;
		if(op == SQLITE_INSERT){
			sqlite3changeset_new(it, ns_col, &ns);
			sqlite3changeset_new(it, status_col, &to);
			after = to ? sqlite3_value_int(to) : -1;
		}else if(op == SQLITE_DELETE){
			sqlite3changeset_old(it, ns_col, &ns);
			sqlite3changeset_old(it, status_col, &from);
			before = from ? sqlite3_value_int(from) : -1;
		}else{
			sqlite3changeset_new(it, status_col, &to);
			if(!to) continue; /* the status stays: nothing a device is told of */
			sqlite3changeset_old(it, status_col, &from);
			int current;
			if(read_execution(pg, thing, job, number, nsbuf, sizeof(nsbuf), &current)) continue;
			before = from ? sqlite3_value_int(from) : current;
			after = sqlite3_value_int(to);
		}
		if(ns) snprintf(nsbuf, sizeof(nsbuf), "%s", (const char *)sqlite3_value_text(ns));
		const char *t = (const char *)sqlite3_value_text(thing);
		if(t && hooks->touch(hooks->ctx, t, nsbuf, before, after)) rc = -1;
	}
	sqlite3changeset_finalize(it);
	return rc;
}

int pg_changes_apply(struct pg_store *pg, const void *data, int len, const struct store_sync_hooks *hooks)
{
	if(hooks && touch_executions(pg, data, len, hooks)) return -1;
	/* not this broker's change: the session must not send it again */
	sqlite3session_enable(pg->session, 0);
	int rc = sqlite3changeset_apply(pg->db, len, (void *)data, NULL, replace_on_conflict, NULL);
	sqlite3session_enable(pg->session, 1);
	if(rc != SQLITE_OK){
		snprintf(pg->errmsg, sizeof(pg->errmsg), "cannot apply a change to the replica: %s", sqlite3_errmsg(pg->db));
		return -1;
	}
	return 0;
}

int pg_changes_undo(struct pg_store *pg, const void *data, int len)
{
	int n;
	void *inverse;
	if(sqlite3changeset_invert(len, data, &n, &inverse) != SQLITE_OK) return -1;
	sqlite3session_enable(pg->session, 0);
	int rc = sqlite3changeset_apply(pg->db, n, inverse, NULL, omit_on_conflict, NULL);
	sqlite3session_enable(pg->session, 1);
	sqlite3_free(inverse);
	return rc == SQLITE_OK ? 0 : -1;
}
