/* Store: thing groups, their members, and the targets jobs were created for. */
#include "store/store_internal.h"

#include <stdlib.h>
#include <string.h>

void store_group_free(struct store_group *g)
{
	free(g->description);
	memset(g, 0, sizeof(*g));
}

void store_group_array_free(struct store_group *groups, size_t count)
{
	for(size_t i = 0; i < count; i++) store_group_free(&groups[i]);
	free(groups);
}

static void read_group(sqlite3_stmt *st, struct store_group *g)
{
	memset(g, 0, sizeof(*g));
	store_column_copy(st, 0, g->name, sizeof(g->name));
	g->description = store_column_strdup(st, 1);
	g->created_at = sqlite3_column_int64(st, 2);
}

int store_group_get(struct store *s, const char *name, struct store_group *out)
{
	sqlite3_stmt *st = store_stmt(s, ST_GROUP_GET,
		"SELECT name, description, created_at FROM thing_groups WHERE name = ?1");
	if(!st) return STORE_ERROR;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if(rc == SQLITE_ROW) read_group(st, out);
	store_finish(st);
	if(rc == SQLITE_ROW) return STORE_OK;
	return rc == SQLITE_DONE ? STORE_NOT_FOUND : STORE_ERROR;
}

int store_group_insert(struct store *s, const struct store_group *g)
{
	sqlite3_stmt *st = store_stmt(s, ST_GROUP_INSERT,
		"INSERT INTO thing_groups(name, description, created_at) VALUES(?1, ?2, ?3)");
	if(!st) return STORE_ERROR;
	sqlite3_bind_text(st, 1, g->name, -1, SQLITE_STATIC);
	store_bind_text_or_null(st, 2, g->description);
	sqlite3_bind_int64(st, 3, g->created_at);
	return store_step_done(st);
}

int store_group_delete(struct store *s, const char *name)
{
	sqlite3_stmt *st = store_stmt(s, ST_GROUP_DELETE_MEMBERS, "DELETE FROM group_members WHERE group_name = ?1");
	if(!st) return STORE_ERROR;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int rc = store_step_done(st);
	if(rc != STORE_OK) return rc;
	st = store_stmt(s, ST_GROUP_DELETE, "DELETE FROM thing_groups WHERE name = ?1");
	if(!st) return STORE_ERROR;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = store_step_done(st);
	if(rc == STORE_OK && sqlite3_changes(s->db) != 1) return STORE_NOT_FOUND;
	return rc;
}

int store_group_list(struct store *s, const char *prefix, int64_t offset, int limit,
		struct store_group **out, size_t *count)
{
	sqlite3_stmt *st = store_stmt(s, ST_GROUP_LIST,
		"SELECT name, description, created_at FROM thing_groups"
		" WHERE ?1 IS NULL OR substr(name, 1, length(?1)) = ?1 ORDER BY name LIMIT ?2 OFFSET ?3");
	if(!st) return STORE_ERROR;
	store_bind_text_or_null(st, 1, prefix);
	sqlite3_bind_int(st, 2, limit);
	sqlite3_bind_int64(st, 3, offset);
	struct store_rows rows = { .size = sizeof(struct store_group) };
	int rc;
	while((rc = sqlite3_step(st)) == SQLITE_ROW){
		struct store_group *g = store_rows_next(&rows);
		if(!g){
			rc = SQLITE_NOMEM;
			break;
		}
		read_group(st, g);
	}
	store_finish(st);
	if(rc != SQLITE_DONE){
		store_group_array_free(rows.items, rows.count);
		return STORE_ERROR;
	}
	*out = rows.items;
	*count = rows.count;
	return STORE_OK;
}

static int member_change(struct store *s, enum stmt_id id, const char *sql, const char *group,
		const char *thing, int64_t now)
{
	sqlite3_stmt *st = store_stmt(s, id, sql);
	if(!st) return STORE_ERROR;
	sqlite3_bind_text(st, 1, group, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, thing, -1, SQLITE_STATIC);
	if(id == ST_MEMBER_INSERT) sqlite3_bind_int64(st, 3, now);
	int rc = store_step_done(st);
	if(rc == STORE_OK && sqlite3_changes(s->db) != 1) return id == ST_MEMBER_INSERT ? STORE_EXISTS : STORE_NOT_FOUND;
	return rc;
}

int store_member_add(struct store *s, const char *group, const char *thing, int64_t now)
{
	return member_change(s, ST_MEMBER_INSERT,
		"INSERT OR IGNORE INTO group_members(group_name, thing, added_at) VALUES(?1, ?2, ?3)",
		group, thing, now);
}

int store_member_remove(struct store *s, const char *group, const char *thing)
{
	return member_change(s, ST_MEMBER_DELETE,
		"DELETE FROM group_members WHERE group_name = ?1 AND thing = ?2", group, thing, 0);
}

int store_member_list(struct store *s, const char *group, int64_t offset, int limit,
		struct store_name **out, size_t *count)
{
	sqlite3_stmt *st = store_stmt(s, ST_MEMBER_LIST,
		"SELECT thing FROM group_members WHERE group_name = ?1 ORDER BY thing LIMIT ?2 OFFSET ?3");
	if(!st) return STORE_ERROR;
	sqlite3_bind_text(st, 1, group, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, limit);
	sqlite3_bind_int64(st, 3, offset);
	struct store_rows rows = { .size = sizeof(struct store_name) };
	int rc;
	while((rc = sqlite3_step(st)) == SQLITE_ROW){
		struct store_name *name = store_rows_next(&rows);
		if(!name){
			rc = SQLITE_NOMEM;
			break;
		}
		store_column_copy(st, 0, name->name, sizeof(name->name));
	}
	store_finish(st);
	if(rc != SQLITE_DONE){
		free(rows.items);
		return STORE_ERROR;
	}
	*out = rows.items;
	*count = rows.count;
	return STORE_OK;
}

/* ---- job targets ---- */

int store_target_add(struct store *s, int64_t job_seq, enum target_kind kind, const char *name)
{
	sqlite3_stmt *st = store_stmt(s, ST_TARGET_INSERT,
		"INSERT OR IGNORE INTO job_targets(job_seq, kind, name) VALUES(?1, ?2, ?3)");
	if(!st) return STORE_ERROR;
	sqlite3_bind_int64(st, 1, job_seq);
	sqlite3_bind_int(st, 2, kind);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	return store_step_done(st);
}

int store_continuous_jobs_for_group(struct store *s, const char *group,
		struct store_job **out, size_t *count)
{
	sqlite3_stmt *st = store_stmt(s, ST_TARGET_JOBS_FOR_GROUP,
		"SELECT " STORE_JOB_COLUMNS " FROM job_targets t JOIN jobs j ON j.seq = t.job_seq"
		" WHERE t.kind = 1 AND t.name = ?1 AND j.target_selection = 1 AND j.status = 0"
		" ORDER BY j.seq");
	if(!st) return STORE_ERROR;
	sqlite3_bind_text(st, 1, group, -1, SQLITE_STATIC);
	return store_collect_jobs(st, out, count);
}

int store_job_targets_thing(struct store *s, int64_t job_seq, const char *thing, bool *out)
{
	sqlite3_stmt *st = store_stmt(s, ST_TARGETS_THING,
		"SELECT 1 FROM job_targets t WHERE t.job_seq = ?1 AND ((t.kind = 0 AND t.name = ?2)"
		" OR (t.kind = 1 AND EXISTS(SELECT 1 FROM group_members m"
		"  WHERE m.group_name = t.name AND m.thing = ?2))) LIMIT 1");
	if(!st) return STORE_ERROR;
	sqlite3_bind_int64(st, 1, job_seq);
	sqlite3_bind_text(st, 2, thing, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	store_finish(st);
	if(rc != SQLITE_ROW && rc != SQLITE_DONE) return STORE_ERROR;
	*out = rc == SQLITE_ROW;
	return STORE_OK;
}
