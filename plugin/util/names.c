/* Character-class checks for thing names, job ids, namespaces, details keys and thing
 * attributes. */
#include "util/names.h"

#include <assert.h>
#include <string.h>

static bool is_word(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
		|| c == '_' || c == '-';
}

static bool all_match(const char *s, size_t len, size_t max, bool allow_colon)
{
	assert(s || len == 0);
	if(len == 0 || len > max) return false;
	for(size_t i = 0; i < len; i++){
		if(!is_word(s[i]) && !(allow_colon && s[i] == ':')) return false;
	}
	return true;
}

bool names_thing_valid(const char *s, size_t len)
{
	return all_match(s, len, JOBS_THING_NAME_MAX, true);
}

bool names_job_id_valid(const char *s, size_t len)
{
	return all_match(s, len, JOBS_JOB_ID_MAX, false);
}

bool names_namespace_valid(const char *s, size_t len)
{
	return all_match(s, len, JOBS_NAMESPACE_MAX, false);
}

bool names_details_key_valid(const char *s, size_t len)
{
	return all_match(s, len, JOBS_DETAILS_KEY_MAX, true);
}

/* Words and the characters of `extra`, from min to max of them. */
static bool all_in(const char *s, size_t len, size_t min, size_t max, const char *extra)
{
	assert(s || len == 0);
	if(len < min || len > max) return false;
	for(size_t i = 0; i < len; i++){
		if(!is_word(s[i]) && (s[i] == '\0' || !strchr(extra, s[i]))) return false;
	}
	return true;
}

bool names_attribute_name_valid(const char *s, size_t len)
{
	return all_in(s, len, 1, JOBS_ATTRIBUTE_NAME_MAX, ".,@/:#");
}

bool names_attribute_value_valid(const char *s, size_t len)
{
	return all_in(s, len, 0, JOBS_ATTRIBUTE_VALUE_MAX, ".,@/:#=[]");
}

bool names_identity_valid(const char *identity)
{
	return identity && *identity && !strpbrk(identity, "+#/");
}
