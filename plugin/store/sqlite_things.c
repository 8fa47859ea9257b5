/* The SQLite store's registered things (CreateThing's registry): a row per thing, its
 * attributes as one JSON object text. The groups a thing belongs to: sqlite_groups.c. */
#include "store/sqlite_internal.h"

int sqlite_thing_get(struct store *store, const char *name, struct store_thing *out)
{
	struct sqlite_store *s = sqlite_of(store);
	sqlite3_stmt *st = sqlite_stmt(s, ST_THING_GET, "SELECT " SQLITE_THING_SELECT " FROM things WHERE name = ?1");
	if(!st) return STORE_ERROR;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	return sqlite_fetch_thing(st, out);
}

int sqlite_thing_insert(struct store *store, const struct store_thing *t)
{
	struct sqlite_store *s = sqlite_of(store);
	sqlite3_stmt *st = sqlite_stmt(s, ST_THING_INSERT,
		"INSERT INTO things(name, thing_id, type_name, attributes, version, created_at)"
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
	if(!st) return STORE_ERROR;
	sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, t->thing_id, -1, SQLITE_STATIC);
	sqlite_bind_text_or_null(st, 3, t->type_name);
	sqlite3_bind_text(st, 4, t->attributes, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, t->version);
	sqlite3_bind_int64(st, 6, t->created_at);
	return sqlite_step_done(st);
}

int sqlite_thing_update(struct store *store, const struct store_thing *t)
{
	struct sqlite_store *s = sqlite_of(store);
	sqlite3_stmt *st = sqlite_stmt(s, ST_THING_UPDATE,
		"UPDATE things SET type_name = ?2, attributes = ?3, version = ?4 WHERE name = ?1");
	if(!st) return STORE_ERROR;
	sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
	sqlite_bind_text_or_null(st, 2, t->type_name);
	sqlite3_bind_text(st, 3, t->attributes, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, t->version);
	int rc = sqlite_step_done(st);
	if(rc == STORE_OK && sqlite3_changes(s->db) != 1) return STORE_NOT_FOUND;
	return rc;
}

int sqlite_thing_delete(struct store *store, const char *name)
{
	struct sqlite_store *s = sqlite_of(store);
	sqlite3_stmt *st = sqlite_stmt(s, ST_THING_DELETE, "DELETE FROM things WHERE name = ?1");
	if(!st) return STORE_ERROR;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite_step_done(st);
	if(rc == STORE_OK && sqlite3_changes(s->db) != 1) return STORE_NOT_FOUND;
	return rc;
}

int sqlite_thing_list(struct store *store, const struct store_thing_filter *filter, int64_t offset,
		int limit, struct store_thing **out, size_t *count)
{
	struct sqlite_store *s = sqlite_of(store);
	/* an attribute filter looks through the thing's attributes (json_each) */
	sqlite3_stmt *st = sqlite_stmt(s, ST_THING_LIST,
		"SELECT " SQLITE_THING_SELECT " FROM things t"
		" WHERE (?1 IS NULL OR t.type_name = ?1)"
		"  AND ((?2 IS NULL AND ?3 IS NULL) OR EXISTS(SELECT 1 FROM json_each(t.attributes) a"
		"   WHERE (?2 IS NULL OR a.key = ?2)"
		"    AND (?3 IS NULL OR a.value = ?3 OR (?4 AND substr(a.value, 1, length(?3)) = ?3))))"
		" ORDER BY t.name LIMIT ?5 OFFSET ?6");
	if(!st) return STORE_ERROR;
	sqlite_bind_text_or_null(st, 1, filter->type_name);
	sqlite_bind_text_or_null(st, 2, filter->attr_name);
	sqlite_bind_text_or_null(st, 3, filter->attr_value);
	sqlite3_bind_int(st, 4, filter->attr_prefix);
	sqlite3_bind_int(st, 5, limit);
	sqlite3_bind_int64(st, 6, offset);
	return sqlite_fetch_things(st, out, count);
}
