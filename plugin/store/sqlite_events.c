/* The SQLite store's event configurations (UpdateEventConfigurations): a row per event
 * type. */
#include "store/sqlite_internal.h"

#include <stdlib.h>

static void read_config(sqlite3_stmt *st, void *item)
{
	struct store_event_config *c = item;
	sqlite_column_copy(st, 0, c->type, sizeof(c->type));
	c->enabled = sqlite3_column_int(st, 1) != 0;
	c->created_at = sqlite3_column_int64(st, 2);
	c->updated_at = sqlite3_column_int64(st, 3);
}

int sqlite_event_configs(struct store *store, struct store_event_config **out, size_t *count)
{
	struct sqlite_store *s = sqlite_of(store);
	struct sqlite_rows rows = { .size = sizeof(struct store_event_config) };
	*out = NULL;
	*count = 0;
	sqlite3_stmt *st = sqlite_stmt(s, ST_EVENT_CONFIGS,
		"SELECT event_type, enabled, created_at, updated_at FROM event_configurations ORDER BY event_type");
	if(!st) return STORE_ERROR;
	int rc = sqlite_fetch_rows(st, &rows, read_config, NULL);
	if(rc == STORE_OK){
		*out = rows.items;
		*count = rows.count;
	}
	return rc;
}

int sqlite_event_config_set(struct store *store, const char *type, bool enabled, int64_t now)
{
	struct sqlite_store *s = sqlite_of(store);
	sqlite3_stmt *st = sqlite_stmt(s, ST_EVENT_CONFIG_SET,
		"INSERT INTO event_configurations(event_type, enabled, created_at, updated_at) VALUES(?1, ?2, ?3, ?3)"
		" ON CONFLICT(event_type) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at");
	if(!st) return STORE_ERROR;
	sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, enabled ? 1 : 0);
	sqlite3_bind_int64(st, 3, now);
	return sqlite_step_done(st);
}
