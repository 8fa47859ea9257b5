/* Document parameters: a managed template's job document with its
 * ${aws:iot:parameter:KEY} placeholders replaced by CreateJob's documentParameters,
 * after checking them as AWS does. Pure: no store, no service. */
#ifndef MOSQUITTO_JOBS_DOCPARAMS_H
#define MOSQUITTO_JOBS_DOCPARAMS_H

#include <cjson/cJSON.h>

#include "util/jsonfield.h"
#include "core/managed_templates.h"

#define DOCPARAMS_VALUE_MAX 30720   /* characters, as ParameterValue */

/* Checks `values` (documentParameters: NULL when absent, else an object of strings)
 * against the template's parameters: each key one of them, each value 1-30720
 * characters without control characters and as the parameter's regex allows, every
 * parameter that is not optional given. Then writes the template's document with each
 * placeholder replaced by its value, escaped for the JSON string it stands in (an
 * optional parameter not given: by nothing). JF_OK with *out malloc'd (caller frees),
 * or JF_BAD with err. */
int docparams_apply(const struct managed_template *t, const cJSON *values, char **out, struct jf_error *err);

#endif
