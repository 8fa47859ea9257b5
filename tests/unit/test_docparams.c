/* Document parameters (core/docparams.c) and the managed templates' data
 * (core/managed_templates.c): substitution, every check, and each parameter's length
 * limit held to the regex AWS publishes for it. */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/docparams.h"
#include "core/managed_templates.h"
#include "suites.h"

static const struct managed_template *download(void)
{
	const struct managed_template *t = managed_template_find("AWS-Download-File", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	return t;
}

/* docparams_apply with values given as JSON text; the document, or NULL with err. */
static char *apply(const struct managed_template *t, const char *values_json, struct jf_error *err)
{
	cJSON *values = values_json ? cJSON_Parse(values_json) : NULL;
	char *out = NULL;
	int rc = docparams_apply(t, values, &out, err);
	cJSON_Delete(values);
	CU_ASSERT_EQUAL(rc == JF_OK, out != NULL);
	return out;
}

static void test_substitution(void)
{
	struct jf_error err;
	char *doc = apply(download(), "{\"downloadUrl\":\"https://e.com/a \\\"b\\\" \\\\c\",\"filePath\":\"/tmp/f\","
			"\"runAsUser\":\"pi\"}", &err);
	CU_ASSERT_STRING_EQUAL(doc, "{\"version\":\"1.0\",\"steps\":[{\"action\":{\"name\":\"Download-File\","
			"\"type\":\"runHandler\",\"input\":{\"handler\":\"download-file.sh\",\"args\":[\"https://e.com/a \\\"b\\\" \\\\c\","
			"\"/tmp/f\"],\"path\":\"\"},\"runAsUser\":\"pi\"}}]}");
	/* the result is JSON, and the value comes back as given */
	cJSON *parsed = cJSON_Parse(doc);
	CU_ASSERT_PTR_NOT_NULL_FATAL(parsed);
	cJSON *args = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(
			cJSON_GetObjectItem(parsed, "steps"), 0), "action"), "input"), "args");
	CU_ASSERT_STRING_EQUAL(cJSON_GetArrayItem(args, 0)->valuestring, "https://e.com/a \"b\" \\c");
	cJSON_Delete(parsed);
	free(doc);

	/* no parameters at all: a template whose parameters are all optional */
	doc = apply(managed_template_find("AWS-Reboot", "1.0"), NULL, &err);
	CU_ASSERT_STRING_EQUAL(doc, "{\"version\":\"1.0\",\"steps\":[{\"action\":{\"name\":\"Reboot\",\"type\":\"runHandler\","
			"\"input\":{\"handler\":\"reboot.sh\",\"path\":\"\"},\"runAsUser\":\"\"}}]}");
	free(doc);
}

static void test_errors(void)
{
	static const struct { const char *values, *why; } cases[] = {
		{ "{\"downloadUrl\":\"u\"}", "filePath is required" },
		{ "{}", "downloadUrl is required" },
		{ "[]", "must be a map" },
		{ "{\"downloadUrl\":\"u\",\"filePath\":\"f\",\"other\":\"x\"}", "not a parameter" },
		{ "{\"downloadUrl\":\"u\",\"filePath\":1}", "must be a string" },
		{ "{\"downloadUrl\":\"u\",\"filePath\":\"\"}", "1-30720" },
		{ "{\"downloadUrl\":\"u\",\"filePath\":\"a\\u0085b\"}", "control" },
		{ "{\"downloadUrl\":\"u\",\"filePath\":\"a\\u007fb\"}", "control" },
	};
	for(size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++){
		struct jf_error err;
		char *doc = apply(download(), cases[i].values, &err);
		CU_ASSERT_PTR_NULL(doc);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, cases[i].why));
		free(doc);
	}
	/* 256 characters of runAsUser are allowed, 257 are not; characters, not bytes */
	char values[2048], user[1100];
	struct jf_error err;
	for(int n = 256; n <= 257; n++){
		user[0] = '\0';
		for(int i = 0; i < n; i++) strcat(user, "\xc3\xa9");
		snprintf(values, sizeof(values), "{\"downloadUrl\":\"u\",\"filePath\":\"f\",\"runAsUser\":\"%s\"}", user);
		char *doc = apply(download(), values, &err);
		CU_ASSERT_EQUAL(doc != NULL, n == 256);
		free(doc);
	}
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "(.){0,256}"));
}

/* Each parameter's max_chars is what its regex says: a value of max_chars characters
 * matches it (any length when 0), one more does not. Each regex is compiled once
 * (glibc takes a while over (.){0,4096}). */
static void check_regex(const char *regex, size_t max_chars)
{
	char pattern[64];
	regex_t re;
	snprintf(pattern, sizeof(pattern), "^(%s)$", strcmp(regex, "(.*?)") == 0 ? "(.*)" : regex);
	CU_ASSERT_EQUAL_FATAL(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
	size_t n = max_chars ? max_chars : 5000;
	char *s = malloc(n + 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	memset(s, 'x', n + 1);
	s[n] = '\0';
	CU_ASSERT_EQUAL(regexec(&re, s, 0, NULL, 0), 0);
	s[n] = 'x';
	s[n + 1] = '\0';
	CU_ASSERT_EQUAL(regexec(&re, s, 0, NULL, 0) == 0, max_chars == 0);
	free(s);
	regfree(&re);
}

static void test_limits_follow_regexes(void)
{
	const struct managed_param *seen[16];
	size_t nseen = 0;
	for(size_t i = 0; i < managed_templates_count(); i++){
		const struct managed_template *t = managed_template_at(i);
		cJSON *doc = cJSON_Parse(t->document);
		CU_ASSERT_PTR_NOT_NULL(doc);
		cJSON_Delete(doc);
		for(size_t j = 0; j < t->nparams; j++){
			const struct managed_param *p = &t->params[j];
			if(!p->regex){
				CU_ASSERT_EQUAL(p->max_chars, 0);
				continue;
			}
			size_t k = 0;
			while(k < nseen && strcmp(seen[k]->regex, p->regex) != 0) k++;
			if(k < nseen){
				CU_ASSERT_EQUAL(seen[k]->max_chars, p->max_chars);
				continue;
			}
			CU_ASSERT_FATAL(nseen < sizeof(seen) / sizeof(*seen));
			seen[nseen++] = p;
			check_regex(p->regex, p->max_chars);
		}
	}
	CU_ASSERT_EQUAL(nseen, 3);
}

static void test_lookup(void)
{
	CU_ASSERT_PTR_NOT_NULL(managed_template_find("AWS-Stop-Application", "1.0"));
	CU_ASSERT_PTR_NULL(managed_template_find("AWS-Stop-Application", "2.0"));
	CU_ASSERT_PTR_NULL(managed_template_find("AWS-Run-Command", NULL));
	CU_ASSERT_PTR_NULL(managed_template_at(managed_templates_count()));
}

void add_docparams_tests(void)
{
	static const struct test_entry tests[] = {
		{ "substitution", test_substitution },
		{ "parameter errors", test_errors },
		{ "limits follow the regexes", test_limits_follow_regexes },
		{ "lookup", test_lookup },
	};
	ADD_SUITE("docparams", tests);
}
