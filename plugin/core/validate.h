/* Validation of the structured request fields shared by the device and management
 * APIs (the limits in docs/protocol.md). Each returns JF_OK with a malloc'd canonical JSON
 * text in *text (caller frees), or JF_BAD with the reason in err. */
#ifndef MOSQUITTO_JOBS_VALIDATE_H
#define MOSQUITTO_JOBS_VALIDATE_H

#include <cjson/cJSON.h>

#include "util/jsonfield.h"

#define JOBS_DOCUMENT_MAX 32768          /* characters */
#define JOBS_DETAILS_VALUE_MAX 1024      /* characters */
#define JOBS_DETAILS_MAX_BYTES 32768     /* serialized map */
#define JOBS_STEP_TIMEOUT_MAX 10080      /* minutes */
#define JOBS_TARGETS_MAX 100             /* things and thing groups of one job, as AWS's quota */

/* statusDetails: an object of [a-zA-Z0-9:_-]{1,128} keys to strings of at most 1024
 * characters, any character but U+0000 (refused earlier, with the whole request);
 * at most 32768 bytes in all.
 * `{}` is valid and yields "{}". */
int validate_status_details(const cJSON *details, char **text, struct jf_error *err);

/* A job document: a JSON object, or a string holding one; at most 32768
 * characters once serialized. */
int validate_document(const cJSON *document, char **text, struct jf_error *err);

#endif
