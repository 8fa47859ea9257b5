/* The SQLite store's job templates (table job_templates). */
#include "store/sqlite_internal.h"

int sqlite_template_get(struct store *store, const char *id, struct store_template *out)
{
	struct sqlite_store *s = sqlite_of(store);
	sqlite3_stmt *st = sqlite_stmt(s, ST_TEMPLATE_GET,
		"SELECT " SQLITE_TEMPLATE_SELECT " FROM job_templates WHERE template_id = ?1");
	if(!st) return STORE_ERROR;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	return sqlite_fetch_template(st, out);
}

int sqlite_template_insert(struct store *store, const struct store_template *t)
{
	struct sqlite_store *s = sqlite_of(store);
	sqlite3_stmt *st = sqlite_stmt(s, ST_TEMPLATE_INSERT,
		"INSERT INTO job_templates(template_id, description, fields, created_at) VALUES(?1, ?2, ?3, ?4)");
	if(!st) return STORE_ERROR;
	sqlite3_bind_text(st, 1, t->id, -1, SQLITE_STATIC);
	sqlite_bind_text_or_null(st, 2, t->description);
	sqlite3_bind_text(st, 3, t->fields, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, t->created_at);
	return sqlite_step_done(st);
}

int sqlite_template_delete(struct store *store, const char *id)
{
	struct sqlite_store *s = sqlite_of(store);
	sqlite3_stmt *st = sqlite_stmt(s, ST_TEMPLATE_DELETE, "DELETE FROM job_templates WHERE template_id = ?1");
	if(!st) return STORE_ERROR;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int rc = sqlite_step_done(st);
	if(rc == STORE_OK && sqlite3_changes(s->db) != 1) return STORE_NOT_FOUND;
	return rc;
}

int sqlite_template_list(struct store *store, int64_t offset, int limit,
		struct store_template **out, size_t *count)
{
	struct sqlite_store *s = sqlite_of(store);
	sqlite3_stmt *st = sqlite_stmt(s, ST_TEMPLATE_LIST,
		"SELECT " SQLITE_TEMPLATE_SELECT " FROM job_templates ORDER BY created_at, template_id LIMIT ?1 OFFSET ?2");
	if(!st) return STORE_ERROR;
	sqlite3_bind_int(st, 1, limit);
	sqlite3_bind_int64(st, 2, offset);
	return sqlite_fetch_templates(st, out, count);
}
