/* UTF-8 checks used by request validation.
 * Pure functions over caller-owned buffers; nothing is allocated. */
#ifndef MOSQUITTO_JOBS_UTF8_H
#define MOSQUITTO_JOBS_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True when buf[0..len) is well-formed UTF-8 (no overlongs, no surrogates, nothing
 * above U+10FFFF). */
bool utf8_valid(const char *buf, size_t len);

/* Number of code points in a well-formed, NUL-terminated UTF-8 string. */
size_t utf8_length(const char *s);

/* True when the JSON text buf[0..len) spells U+0000 as `\u0000` inside a string.
 * cJSON would cut such a string short, so requests holding one are refused. */
bool utf8_json_has_escaped_nul(const char *buf, size_t len);

#endif
