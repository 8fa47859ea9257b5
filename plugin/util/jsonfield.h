/* Typed access to request fields. Each accessor tells "absent" from "present but
 * wrong", so a handler validates a field in one line. JSON null counts as absent.
 * Outputs point into the caller's cJSON tree; nothing here allocates. */
#ifndef MOSQUITTO_JOBS_JSONFIELD_H
#define MOSQUITTO_JOBS_JSONFIELD_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

enum jf_result {
	JF_OK = 0,
	JF_ABSENT,
	JF_BAD, /* present but of the wrong type or out of range; err says why */
};

/* Why a field was refused, ready to send as a reply's message. */
struct jf_error {
	char msg[256];
};

int jf_string(const cJSON *obj, const char *key, const char **out, struct jf_error *err);
int jf_bool(const cJSON *obj, const char *key, bool *out, struct jf_error *err);
int jf_object(const cJSON *obj, const char *key, const cJSON **out, struct jf_error *err);
int jf_array(const cJSON *obj, const char *key, const cJSON **out, struct jf_error *err);
/* A whole number in [min, max], given as a JSON number or as a string of decimal
 * digits (optionally with a leading '-'), as the embedded C SDK sends them. */
int jf_long(const cJSON *obj, const char *key, long long min, long long max,
		long long *out, struct jf_error *err);
/* Same, for a value that is not a member of an object. */
int jf_long_value(const cJSON *item, const char *what, long long min, long long max,
		long long *out, struct jf_error *err);

/* Parses buf[0..len) as exactly one RFC 8259 JSON text, with nothing but white space
 * (or a C string's terminating NUL) after it, nested at most 1000 deep. cJSON alone
 * accepts more: trailing garbage, leading zeros, "2.", raw control characters in
 * strings. Returns a tree the caller deletes, or NULL. */
cJSON *jf_parse_strict(const char *buf, size_t len);
/* Whether a tree holds a number too large for a double (1e999 parses to infinity). */
bool jf_has_nonfinite(const cJSON *tree);
/* Serialises a tree without white space, numbers in the shortest form that reads
 * back to the same double (cJSON 1.7.15 mangles some 16- and 17-digit integers).
 * Changes the tree's number nodes to raw text. Returns a malloc'd string or NULL. */
char *jf_print_exact(cJSON *tree);

/* Formats err->msg; returns JF_BAD so callers can `return jf_fail(...)`. */
int jf_fail(struct jf_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
