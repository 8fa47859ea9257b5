/* The PostgreSQL store's tables, and the snapshot that fills a replica.
 *
 * PostgreSQL holds the replica's data tables with the same names, columns and primary
 * keys; its schema is made from the replica's (PRAGMA table_info), so the SQLite
 * migrations (sqlite_schema.c) stay the one description of the schema: a version that
 * adds a column adds it to PostgreSQL here too (ALTER TABLE ... ADD COLUMN with the
 * column's default). PostgreSQL needs no index of the replica's: it is only written by
 * primary key and read whole (a snapshot) or by the change log's order. Beside the data:
 *   jobs_meta      key/value: schema_version
 *   jobs_changes   the change log: seq (commit order), broker, batch, the SQLite changeset
 *   jobs_id_blocks a sequence handing out blocks of ids (pg_internal.h)
 *   jobs_expect(n) raises serialization_failure unless n = 1: a checked write that found
 *                  its row changed fails its transaction
 * job_counts is not kept: each replica's triggers derive it from the executions. */
#include "store/pg_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store/sqlite_store.h"
#include "util/strbuf.h"

const char *const pg_tables[] = { "jobs", "executions", "thing_groups", "group_members", "job_targets",
	"rollout_queue", "job_templates", "things", "event_configurations", NULL };

bool pg_table_replicated(const char *table)
{
	for(int i = 0; pg_tables[i]; i++){
		if(strcmp(pg_tables[i], table) == 0) return true;
	}
	return false;
}

/* A replicated table's columns as the replica has them. */
struct column {
	char name[64];
	char type[32];       /* PostgreSQL's */
	bool not_null;
	char def[64];        /* the default's SQL text, "" for none */
	int pk;              /* position in the primary key, 1-based; 0: not in it */
};

#define MAX_COLUMNS 64

static int read_columns(sqlite3 *db, const char *table, struct column *cols, int *count)
{
	char sql[128];
	snprintf(sql, sizeof(sql), "PRAGMA table_info(%s)", table);
	sqlite3_stmt *st;
	if(sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return -1;
	int n = 0;
	while(sqlite3_step(st) == SQLITE_ROW && n < MAX_COLUMNS){
		struct column *c = &cols[n++];
		memset(c, 0, sizeof(*c));
		snprintf(c->name, sizeof(c->name), "%s", (const char *)sqlite3_column_text(st, 1));
		const char *type = (const char *)sqlite3_column_text(st, 2);
		snprintf(c->type, sizeof(c->type), "%s", !type ? "text" : strcasecmp(type, "INTEGER") == 0 ? "bigint"
				: strcasecmp(type, "REAL") == 0 ? "double precision" : "text");
		c->not_null = sqlite3_column_int(st, 3) != 0;
		const char *def = (const char *)sqlite3_column_text(st, 4);
		if(def) snprintf(c->def, sizeof(c->def), "%s", def);
		c->pk = sqlite3_column_int(st, 5);
	}
	sqlite3_finalize(st);
	*count = n;
	return n > 0 ? 0 : -1;
}

/* Column names per table, read once from the replica. */
struct table_columns {
	const char *table;
	int count;
	char *names[MAX_COLUMNS];
	char *types[MAX_COLUMNS];
};
static struct table_columns column_cache[sizeof(pg_tables) / sizeof(pg_tables[0])];

const char *const *pg_table_columns(struct pg_store *pg, const char *table, int *count, const char *const **types)
{
	for(int i = 0; pg_tables[i]; i++){
		if(strcmp(pg_tables[i], table) != 0) continue;
		struct table_columns *tc = &column_cache[i];
		if(!tc->table){
			struct column cols[MAX_COLUMNS];
			int n;
			if(read_columns(pg->db, table, cols, &n)) return NULL;
			for(int k = 0; k < n; k++){
				tc->names[k] = strdup(cols[k].name);
				tc->types[k] = strdup(cols[k].type);
				if(!tc->names[k] || !tc->types[k]) return NULL;
			}
			tc->count = n;
			tc->table = pg_tables[i];
		}
		*count = tc->count;
		if(types) *types = (const char *const *)tc->types;
		return (const char *const *)tc->names;
	}
	return NULL;
}

sqlite3_stmt *pg_stmt(struct pg_store *pg, enum pg_stmt_id id, const char *sql)
{
	if(!pg->stmt[id] && sqlite3_prepare_v2(pg->db, sql, -1, &pg->stmt[id], NULL) != SQLITE_OK) return NULL;
	return pg->stmt[id];
}

static int exec_ok(struct pg_store *pg, const char *sql)
{
	PGresult *r = pg_exec_wait(pg, sql, 0, NULL);
	PQclear(r);
	return r ? 0 : -1;
}

/* CREATE TABLE for a replicated table, or the columns it lacks. */
static int prepare_table(struct pg_store *pg, const char *table)
{
	struct column cols[MAX_COLUMNS];
	int n;
	if(read_columns(pg->db, table, cols, &n)){
		snprintf(pg->errmsg, sizeof(pg->errmsg), "cannot read the replica's table %s", table);
		return -1;
	}
	struct strbuf sb = { 0 };
	strbuf_printf(&sb, "CREATE TABLE IF NOT EXISTS \"%s\" (", table);
	for(int i = 0; i < n; i++){
		strbuf_printf(&sb, "%s\"%s\" %s%s%s%s", i ? ", " : "", cols[i].name, cols[i].type,
				cols[i].not_null ? " NOT NULL" : "", cols[i].def[0] ? " DEFAULT " : "", cols[i].def);
	}
	strbuf_printf(&sb, ", PRIMARY KEY(");
	int pks = 0;
	for(int k = 1; k <= n; k++){
		for(int i = 0; i < n; i++){
			if(cols[i].pk == k) strbuf_printf(&sb, "%s\"%s\"", pks++ ? ", " : "", cols[i].name);
		}
	}
	strbuf_printf(&sb, "))");
	int rc = sb.failed || pks == 0 ? -1 : exec_ok(pg, sb.p);
	free(sb.p);
	for(int i = 0; rc == 0 && i < n; i++){
		/* a column a later schema version added */
		struct strbuf add = { 0 };
		strbuf_printf(&add, "ALTER TABLE \"%s\" ADD COLUMN IF NOT EXISTS \"%s\" %s%s%s%s", table, cols[i].name,
				cols[i].type, cols[i].def[0] ? " DEFAULT " : "", cols[i].def,
				cols[i].not_null && cols[i].def[0] ? " NOT NULL" : "");
		rc = add.failed ? -1 : exec_ok(pg, add.p);
		free(add.p);
	}
	return rc;
}

int pg_schema_prepare(struct pg_store *pg)
{
	char key[24];
	snprintf(key, sizeof(key), "%lld", (long long)PG_LOCK_SCHEMA);
	const char *v[] = { key };
	PGresult *r = pg_exec_wait(pg, "SELECT pg_advisory_lock($1::bigint)", 1, v);
	if(!r) return -1;
	PQclear(r);
	int rc = exec_ok(pg, "CREATE TABLE IF NOT EXISTS jobs_meta (key text PRIMARY KEY, value text NOT NULL)");
	int version = 0;
	if(rc == 0 && (r = pg_exec_wait(pg, "SELECT value FROM jobs_meta WHERE key = 'schema_version'", 0, NULL))){
		if(PQntuples(r) == 1) version = atoi(PQgetvalue(r, 0, 0));
		PQclear(r);
	}else{
		rc = -1;
	}
	if(rc == 0 && version > JOBS_SQLITE_SCHEMA_VERSION){
		snprintf(pg->errmsg, sizeof(pg->errmsg), "the database has schema version %d, newer than this plugin's %d:"
				" upgrade the plugin", version, JOBS_SQLITE_SCHEMA_VERSION);
		rc = -1;
	}
	for(int i = 0; rc == 0 && pg_tables[i]; i++) rc = prepare_table(pg, pg_tables[i]);
	if(rc == 0){
		rc = exec_ok(pg, "CREATE TABLE IF NOT EXISTS jobs_changes (seq bigint PRIMARY KEY, broker text NOT NULL,"
				" batch bigint NOT NULL, at timestamptz NOT NULL DEFAULT now(), changes bytea NOT NULL)");
	}
	if(rc == 0) rc = exec_ok(pg, "CREATE INDEX IF NOT EXISTS jobs_changes_by_batch ON jobs_changes (broker, batch)");
	if(rc == 0) rc = exec_ok(pg, "CREATE SEQUENCE IF NOT EXISTS jobs_id_blocks");
	if(rc == 0){
		rc = exec_ok(pg, "CREATE OR REPLACE FUNCTION jobs_expect(n bigint) RETURNS void LANGUAGE plpgsql AS $$"
				" BEGIN IF n <> 1 THEN RAISE EXCEPTION 'jobs: a row changed through another broker'"
				" USING ERRCODE = 'serialization_failure'; END IF; END $$");
	}
	if(rc == 0){
		rc = exec_ok(pg, "CREATE OR REPLACE FUNCTION jobs_expect_rows(n bigint, wanted bigint) RETURNS void"
				" LANGUAGE plpgsql AS $$ BEGIN IF n <> wanted THEN RAISE EXCEPTION"
				" 'jobs: a row changed through another broker' USING ERRCODE = 'serialization_failure';"
				" END IF; END $$");
	}
	if(rc == 0){
		char ver[16];
		snprintf(ver, sizeof(ver), "%d", JOBS_SQLITE_SCHEMA_VERSION);
		const char *vv[] = { ver };
		r = pg_exec_wait(pg, "INSERT INTO jobs_meta VALUES ('schema_version', $1)"
				" ON CONFLICT (key) DO UPDATE SET value = excluded.value", 1, vv);
		rc = r ? 0 : -1;
		PQclear(r);
	}
	char unlock_err[sizeof(pg->errmsg)];
	memcpy(unlock_err, pg->errmsg, sizeof(unlock_err));
	PQclear(pg_exec_wait(pg, "SELECT pg_advisory_unlock($1::bigint)", 1, v));
	memcpy(pg->errmsg, unlock_err, sizeof(unlock_err));
	return rc;
}

/* Copies one table's rows into the replica (its INSERT runs the replica's triggers). */
static int load_table(struct pg_store *pg, const char *table)
{
	int n;
	const char *const *names = pg_table_columns(pg, table, &n, NULL);
	if(!names) return -1;
	struct strbuf sel = { 0 }, ins = { 0 };
	strbuf_printf(&sel, "SELECT ");
	strbuf_printf(&ins, "INSERT INTO \"%s\" (", table);
	for(int i = 0; i < n; i++){
		strbuf_printf(&sel, "%s\"%s\"", i ? ", " : "", names[i]);
		strbuf_printf(&ins, "%s\"%s\"", i ? ", " : "", names[i]);
	}
	/* executions by thing, job and number: each insert is then the thing's latest, as
	 * the replica's count triggers expect */
	strbuf_printf(&sel, " FROM \"%s\" ORDER BY 1, 2, 3", table);
	if(strcmp(table, "thing_groups") == 0 || strcmp(table, "rollout_queue") == 0){
		sel.len -= strlen(", 2, 3");
		sel.p[sel.len] = '\0';
	}
	strbuf_printf(&ins, ") VALUES (");
	for(int i = 0; i < n; i++) strbuf_printf(&ins, "%s?%d", i ? ", " : "", i + 1);
	strbuf_printf(&ins, ")");
	int rc = -1;
	PGresult *r = NULL;
	sqlite3_stmt *st = NULL;
	if(sel.failed || ins.failed) goto done;
	if(!(r = pg_exec_wait(pg, sel.p, 0, NULL))) goto done;
	if(sqlite3_prepare_v2(pg->db, ins.p, -1, &st, NULL) != SQLITE_OK){
		snprintf(pg->errmsg, sizeof(pg->errmsg), "replica: %s", sqlite3_errmsg(pg->db));
		goto done;
	}
	int rows = PQntuples(r);
	for(int row = 0; row < rows; row++){
		sqlite3_reset(st);
		for(int i = 0; i < n; i++){
			if(PQgetisnull(r, row, i)) sqlite3_bind_null(st, i + 1);
			else sqlite3_bind_text(st, i + 1, PQgetvalue(r, row, i), PQgetlength(r, row, i), SQLITE_STATIC);
		}
		if(sqlite3_step(st) != SQLITE_DONE){
			snprintf(pg->errmsg, sizeof(pg->errmsg), "replica: %s", sqlite3_errmsg(pg->db));
			goto done;
		}
	}
	rc = 0;
done:
	sqlite3_finalize(st);
	PQclear(r);
	free(sel.p);
	free(ins.p);
	return rc;
}

int pg_snapshot_load(struct pg_store *pg, bool replace)
{
	if(exec_ok(pg, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")) return -1;
	int rc = -1;
	PGresult *r = pg_exec_wait(pg, "SELECT coalesce(max(seq), 0) FROM jobs_changes", 0, NULL);
	if(!r) goto done;
	int64_t seq = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	if(sqlite3_exec(pg->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) goto done;
	rc = 0;
	/* what the copy held goes in the same transaction: a failed load leaves it whole
	 * (the derived counts first: the executions' delete triggers then do nothing) */
	if(replace) rc = sqlite3_exec(pg->db, "DELETE FROM job_counts", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
	for(int i = 0; replace && rc == 0 && pg_tables[i]; i++){
		char sql[96];
		snprintf(sql, sizeof(sql), "DELETE FROM \"%s\"", pg_tables[i]);
		rc = sqlite3_exec(pg->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
	}
	if(rc) snprintf(pg->errmsg, sizeof(pg->errmsg), "replica: %s", sqlite3_errmsg(pg->db));
	for(int i = 0; rc == 0 && pg_tables[i]; i++) rc = load_table(pg, pg_tables[i]);
	if(sqlite3_exec(pg->db, rc == 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK) rc = -1;
	if(rc == 0) pg->applied_seq = pg->fetched_seq = seq;
done:
	PQclear(pg_exec_wait(pg, "COMMIT", 0, NULL));
	return rc;
}
