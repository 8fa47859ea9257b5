/* A JSON writer: appends compact JSON text to one growing buffer, for the messages
 * the device API and the notifications send on every request (a cJSON tree costs an
 * allocation per member, then a print and a free of each).
 *
 *   struct jsonw w;
 *   jsonw_init(&w);
 *   jsonw_object_begin(&w);
 *   jsonw_key_string(&w, "status", "QUEUED");
 *   jsonw_key_int(&w, "versionNumber", 2);
 *   jsonw_object_end(&w);
 *   size_t len;
 *   char *text = jsonw_finish(&w, &len);   // malloc'd, or NULL when out of memory
 *
 * Commas are placed by the writer. An allocation failure is remembered and reported
 * once, by jsonw_finish, so calls need no checks in between. */
#ifndef MOSQUITTO_JOBS_JSONW_H
#define MOSQUITTO_JOBS_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/strbuf.h"

struct jsonw {
	struct strbuf b;
	bool need_comma;   /* a value was written at this level: the next one needs ',' */
};

void jsonw_init(struct jsonw *w);
void jsonw_object_begin(struct jsonw *w);
void jsonw_object_end(struct jsonw *w);
void jsonw_array_begin(struct jsonw *w);
void jsonw_array_end(struct jsonw *w);
/* A member's name; its value comes next. */
void jsonw_key(struct jsonw *w, const char *key);
/* Values. A string must be valid UTF-8: it is escaped as RFC 8259 requires. */
void jsonw_string(struct jsonw *w, const char *s);
void jsonw_int(struct jsonw *w, int64_t value);
/* JSON text already serialised (a stored document), written as it is. */
void jsonw_raw(struct jsonw *w, const char *json);
/* A key and its value in one call. */
void jsonw_key_string(struct jsonw *w, const char *key, const char *s);
void jsonw_key_int(struct jsonw *w, const char *key, int64_t value);
void jsonw_key_raw(struct jsonw *w, const char *key, const char *json);
/* The text written (NUL-terminated, its length in *len when len is not NULL), which
 * the caller frees; NULL when an allocation failed. The writer is empty afterwards. */
char *jsonw_finish(struct jsonw *w, size_t *len);
/* Frees what was written. */
void jsonw_discard(struct jsonw *w);

/* The decimal text of `value` in `text` (a pointer into it, NUL-terminated). */
#define JSONW_INT_TEXT 24
const char *jsonw_int_text(int64_t value, char text[JSONW_INT_TEXT]);

#endif
