/* Name rules of the wire contract (docs/protocol.md). Pure predicates over
 * explicit lengths, so topic levels can be checked without copying them. */
#ifndef MOSQUITTO_JOBS_NAMES_H
#define MOSQUITTO_JOBS_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#define JOBS_THING_NAME_MAX 128
#define JOBS_JOB_ID_MAX 64
#define JOBS_NAMESPACE_MAX 64
#define JOBS_DETAILS_KEY_MAX 128
#define JOBS_ATTRIBUTE_NAME_MAX 128
#define JOBS_ATTRIBUTE_VALUE_MAX 800

/* thingName: [a-zA-Z0-9:_-]{1,128} */
bool names_thing_valid(const char *s, size_t len);
/* jobId: [a-zA-Z0-9_-]{1,64} */
bool names_job_id_valid(const char *s, size_t len);
/* namespaceId: [a-zA-Z0-9_-]{1,64} */
bool names_namespace_valid(const char *s, size_t len);
/* statusDetails key: [a-zA-Z0-9:_-]{1,128} */
bool names_details_key_valid(const char *s, size_t len);

/* A thing's attribute name: [a-zA-Z0-9_.,@/:#-]{1,128} */
bool names_attribute_name_valid(const char *s, size_t len);
/* A thing's attribute value: [a-zA-Z0-9_.,@/:#=\[\]-]{0,800} */
bool names_attribute_value_valid(const char *s, size_t len);

/* An identity (a client id, username or certificate CN the access rules name):
 * present, not empty, and free of '+', '#' and '/', so it cannot be taken for a
 * wildcard or a topic level. */
bool names_identity_valid(const char *identity);

#endif
