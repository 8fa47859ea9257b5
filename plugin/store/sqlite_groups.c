/* The SQLite store's thing groups, their members (and a thing's groups), and the targets
 * jobs were created for. */
#include "store/sqlite_internal.h"

int sqlite_group_get(struct store *store, const char *name, struct store_group *out)
{
	struct sqlite_store *s = sqlite_of(store);
	sqlite3_stmt *st = sqlite_stmt(s, ST_GROUP_GET,
		"SELECT " SQLITE_GROUP_SELECT " FROM thing_groups WHERE name = ?1");
	if(!st) return STORE_ERROR;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	return sqlite_fetch_group(st, out);
}

int sqlite_group_insert(struct store *store, const struct store_group *g)
{
	struct sqlite_store *s = sqlite_of(store);
	sqlite3_stmt *st = sqlite_stmt(s, ST_GROUP_INSERT,
		"INSERT INTO thing_groups(name, description, created_at) VALUES(?1, ?2, ?3)");
	if(!st) return STORE_ERROR;
	sqlite3_bind_text(st, 1, g->name, -1, SQLITE_STATIC);
	sqlite_bind_text_or_null(st, 2, g->description);
	sqlite3_bind_int64(st, 3, g->created_at);
	return sqlite_step_done(st);
}

int sqlite_group_delete(struct store *store, const char *name)
{
	struct sqlite_store *s = sqlite_of(store);
	sqlite3_stmt *st = sqlite_stmt(s, ST_GROUP_DELETE_MEMBERS, "DELETE FROM group_members WHERE group_name = ?1");
	if(!st) return STORE_ERROR;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite_step_done(st);
	if(rc != STORE_OK) return rc;
	st = sqlite_stmt(s, ST_GROUP_DELETE, "DELETE FROM thing_groups WHERE name = ?1");
	if(!st) return STORE_ERROR;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite_step_done(st);
	if(rc == STORE_OK && sqlite3_changes(s->db) != 1) return STORE_NOT_FOUND;
	return rc;
}

int sqlite_group_list(struct store *store, const char *prefix, int64_t offset, int limit,
		struct store_group **out, size_t *count)
{
	struct sqlite_store *s = sqlite_of(store);
	sqlite3_stmt *st = sqlite_stmt(s, ST_GROUP_LIST,
		"SELECT " SQLITE_GROUP_SELECT " FROM thing_groups"
		" WHERE ?1 IS NULL OR substr(name, 1, length(?1)) = ?1 ORDER BY name LIMIT ?2 OFFSET ?3");
	if(!st) return STORE_ERROR;
	sqlite_bind_text_or_null(st, 1, prefix);
	sqlite3_bind_int(st, 2, limit);
	sqlite3_bind_int64(st, 3, offset);
	return sqlite_fetch_groups(st, out, count);
}

static int member_change(struct sqlite_store *s, enum stmt_id id, const char *sql, const char *group,
		const char *thing, int64_t now)
{
	sqlite3_stmt *st = sqlite_stmt(s, id, sql);
	if(!st) return STORE_ERROR;
	sqlite3_bind_text(st, 1, group, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, thing, -1, SQLITE_STATIC);
	if(id == ST_MEMBER_INSERT) sqlite3_bind_int64(st, 3, now);
	int rc = sqlite_step_done(st);
	if(rc == STORE_OK && sqlite3_changes(s->db) != 1) return id == ST_MEMBER_INSERT ? STORE_EXISTS : STORE_NOT_FOUND;
	return rc;
}

int sqlite_member_add(struct store *store, const char *group, const char *thing, int64_t now)
{
	return member_change(sqlite_of(store), ST_MEMBER_INSERT,
		"INSERT OR IGNORE INTO group_members(group_name, thing, added_at) VALUES(?1, ?2, ?3)",
		group, thing, now);
}

int sqlite_member_remove(struct store *store, const char *group, const char *thing)
{
	return member_change(sqlite_of(store), ST_MEMBER_DELETE,
		"DELETE FROM group_members WHERE group_name = ?1 AND thing = ?2", group, thing, 0);
}

/* A page of one column of names, by a query of (key, limit, offset). */
static int name_page(struct sqlite_store *s, enum stmt_id id, const char *sql, const char *key, int64_t offset,
		int limit, struct store_name **out, size_t *count)
{
	sqlite3_stmt *st = sqlite_stmt(s, id, sql);
	if(!st) return STORE_ERROR;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, limit);
	sqlite3_bind_int64(st, 3, offset);
	struct sqlite_rows rows = { .size = sizeof(struct store_name) };
	int rc = sqlite_fetch_names(st, &rows);
	if(rc == STORE_OK){
		*out = rows.items;
		*count = rows.count;
	}
	return rc;
}

int sqlite_member_list(struct store *store, const char *group, int64_t offset, int limit,
		struct store_name **out, size_t *count)
{
	return name_page(sqlite_of(store), ST_MEMBER_LIST,
		"SELECT thing FROM group_members WHERE group_name = ?1 ORDER BY thing LIMIT ?2 OFFSET ?3",
		group, offset, limit, out, count);
}

int sqlite_thing_groups(struct store *store, const char *thing, int64_t offset, int limit,
		struct store_name **out, size_t *count)
{
	return name_page(sqlite_of(store), ST_THING_GROUPS,
		"SELECT group_name FROM group_members WHERE thing = ?1 ORDER BY group_name LIMIT ?2 OFFSET ?3",
		thing, offset, limit, out, count);
}

/* ---- job targets ---- */

int sqlite_target_add(struct store *store, int64_t job_seq, enum target_kind kind, const char *name)
{
	struct sqlite_store *s = sqlite_of(store);
	sqlite3_stmt *st = sqlite_stmt(s, ST_TARGET_INSERT,
		"INSERT OR IGNORE INTO job_targets(job_seq, kind, name) VALUES(?1, ?2, ?3)");
	if(!st) return STORE_ERROR;
	sqlite3_bind_int64(st, 1, job_seq);
	sqlite3_bind_int(st, 2, kind);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	return sqlite_step_done(st);
}

int sqlite_continuous_jobs_for_group(struct store *store, const char *group,
		struct store_job **out, size_t *count)
{
	struct sqlite_store *s = sqlite_of(store);
	sqlite3_stmt *st = sqlite_stmt(s, ST_TARGET_JOBS_FOR_GROUP,
		"SELECT " SQLITE_JOB_SELECT(ALL) " FROM job_targets t JOIN jobs j ON j.seq = t.job_seq"
		" WHERE t.kind = 1 AND t.name = ?1 AND j.target_selection = 1 AND j.status = 0"
		" ORDER BY j.seq");
	if(!st) return STORE_ERROR;
	sqlite3_bind_text(st, 1, group, -1, SQLITE_STATIC);
	return sqlite_fetch_jobs(st, out, count);
}

int sqlite_job_targets_thing(struct store *store, int64_t job_seq, const char *thing, bool *out)
{
	struct sqlite_store *s = sqlite_of(store);
	sqlite3_stmt *st = sqlite_stmt(s, ST_TARGETS_THING,
		"SELECT 1 FROM job_targets t WHERE t.job_seq = ?1 AND ((t.kind = 0 AND t.name = ?2)"
		" OR (t.kind = 1 AND EXISTS(SELECT 1 FROM group_members m"
		"  WHERE m.group_name = t.name AND m.thing = ?2))) LIMIT 1");
	if(!st) return STORE_ERROR;
	sqlite3_bind_int64(st, 1, job_seq);
	sqlite3_bind_text(st, 2, thing, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite_finish(st);
	if(rc != SQLITE_ROW && rc != SQLITE_DONE) return STORE_ERROR;
	*out = rc == SQLITE_ROW;
	return STORE_OK;
}
