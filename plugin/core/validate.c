/* statusDetails, job document and raw payload checks. */
#include "core/validate.h"

#include <stdlib.h>
#include <string.h>

#include "util/names.h"
#include "util/utf8.h"

int validate_status_details(const cJSON *details, char **text, struct jf_error *err)
{
	if(!cJSON_IsObject(details)) return jf_fail(err, "statusDetails must be a JSON object");
	const cJSON *item;
	cJSON_ArrayForEach(item, details){
		const char *key = item->string;
		if(!names_details_key_valid(key, strlen(key))){
			return jf_fail(err, "statusDetails key '%.128s' must be 1-128 characters of [a-zA-Z0-9:_-]", key);
		}
		if(!cJSON_IsString(item)){
			return jf_fail(err, "statusDetails value of '%s' must be a string", key);
		}
		/* Any character AWS stores: agents report a handler's output here, newlines,
		 * tabs and colour codes included (docs/protocol.md, "Stricter than AWS"). */
		if(utf8_length(item->valuestring) > JOBS_DETAILS_VALUE_MAX){
			return jf_fail(err, "statusDetails value of '%s' must be at most %d characters", key, JOBS_DETAILS_VALUE_MAX);
		}
	}
	char *out = cJSON_PrintUnformatted(details); /* strings only: printed exactly */
	if(!out) return jf_fail(err, "out of memory");
	if(strlen(out) > JOBS_DETAILS_MAX_BYTES){
		free(out);
		return jf_fail(err, "statusDetails must be at most %d bytes of JSON", JOBS_DETAILS_MAX_BYTES);
	}
	*text = out;
	return JF_OK;
}

int validate_document(const cJSON *document, char **text, struct jf_error *err)
{
	cJSON *copy;
	if(cJSON_IsString(document)){
		copy = jf_parse_strict(document->valuestring, strlen(document->valuestring));
		if(!cJSON_IsObject(copy)){
			cJSON_Delete(copy);
			return jf_fail(err, "document must hold a JSON object");
		}
	}else if(cJSON_IsObject(document)){
		copy = cJSON_Duplicate(document, true);
	}else{
		return jf_fail(err, "document must be a JSON object or a string holding one");
	}
	if(jf_has_nonfinite(copy)){
		cJSON_Delete(copy);
		return jf_fail(err, "document holds a number too large for a double");
	}
	char *out = jf_print_exact(copy);
	cJSON_Delete(copy);
	if(!out) return jf_fail(err, "out of memory");
	if(utf8_length(out) > JOBS_DOCUMENT_MAX){
		free(out);
		return jf_fail(err, "document must be at most %d characters", JOBS_DOCUMENT_MAX);
	}
	*text = out;
	return JF_OK;
}
