/* Request validation: each field's wrong types and ranges, statusDetails and
 * document limits, UTF-8 checks. */
#include <stdlib.h>
#include <string.h>

#include "util/jsonfield.h"
#include "util/names.h"
#include "util/utf8.h"
#include "core/validate.h"
#include "suites.h"

struct long_case {
	const char *json;       /* {"v": ...} */
	int rc;
	long long value;
};

static void test_long_fields(void)
{
	static const struct long_case cases[] = {
		{ "{\"v\":3}", JF_OK, 3 },
		{ "{\"v\":\"3\"}", JF_OK, 3 },
		{ "{\"v\":0}", JF_OK, 0 },
		{ "{\"v\":\"-1\"}", JF_OK, -1 },
		{ "{\"v\":-1}", JF_OK, -1 },
		{ "{\"v\":10080}", JF_OK, 10080 },
		{ "{\"v\":3.0}", JF_OK, 3 },
		{ "{}", JF_ABSENT, 0 },
		{ "{\"v\":null}", JF_ABSENT, 0 },
		{ "{\"v\":3.5}", JF_BAD, 0 },
		{ "{\"v\":10081}", JF_BAD, 0 },
		{ "{\"v\":-2}", JF_BAD, 0 },
		{ "{\"v\":true}", JF_BAD, 0 },
		{ "{\"v\":\"3a\"}", JF_BAD, 0 },
		{ "{\"v\":\"\"}", JF_BAD, 0 },
		{ "{\"v\":\" 3\"}", JF_BAD, 0 },
		{ "{\"v\":\"3.0\"}", JF_BAD, 0 },
		{ "{\"v\":\"99999999999999999999\"}", JF_BAD, 0 },
		{ "{\"v\":1e300}", JF_BAD, 0 },
		{ "{\"v\":[]}", JF_BAD, 0 },
		{ "{\"v\":{}}", JF_BAD, 0 },
	};
	for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++){
		cJSON *obj = cJSON_Parse(cases[i].json);
		CU_ASSERT_PTR_NOT_NULL_FATAL(obj);
		long long v = 0;
		struct jf_error err = { "" };
		int rc = jf_long(obj, "v", -1, 10080, &v, &err);
		CU_ASSERT_EQUAL(rc, cases[i].rc);
		if(rc != cases[i].rc) fprintf(stderr, "\n  %s: rc %d\n", cases[i].json, rc);
		if(rc == JF_OK) CU_ASSERT_EQUAL(v, cases[i].value);
		if(rc == JF_BAD) CU_ASSERT_TRUE(strstr(err.msg, "v ") == err.msg);
		cJSON_Delete(obj);
	}
}

static void test_typed_fields(void)
{
	cJSON *obj = cJSON_Parse("{\"s\":\"x\",\"b\":true,\"n\":1,\"o\":{},\"a\":[],\"z\":null}");
	const char *s;
	bool b;
	const cJSON *o;
	struct jf_error err;
	CU_ASSERT_EQUAL(jf_string(obj, "s", &s, &err), JF_OK);
	CU_ASSERT_STRING_EQUAL(s, "x");
	CU_ASSERT_EQUAL(jf_string(obj, "n", &s, &err), JF_BAD);
	CU_ASSERT_EQUAL(jf_string(obj, "missing", &s, &err), JF_ABSENT);
	CU_ASSERT_EQUAL(jf_string(obj, "z", &s, &err), JF_ABSENT);
	CU_ASSERT_EQUAL(jf_bool(obj, "b", &b, &err), JF_OK);
	CU_ASSERT_TRUE(b);
	CU_ASSERT_EQUAL(jf_bool(obj, "s", &b, &err), JF_BAD);
	CU_ASSERT_EQUAL(jf_bool(obj, "n", &b, &err), JF_BAD);
	CU_ASSERT_EQUAL(jf_object(obj, "o", &o, &err), JF_OK);
	CU_ASSERT_EQUAL(jf_object(obj, "a", &o, &err), JF_BAD);
	CU_ASSERT_EQUAL(jf_array(obj, "a", &o, &err), JF_OK);
	CU_ASSERT_EQUAL(jf_array(obj, "o", &o, &err), JF_BAD);
	cJSON_Delete(obj);
}

/* Returns the validate_status_details result for a JSON text. */
static int details_rc(const char *json)
{
	cJSON *obj = cJSON_Parse(json);
	char *text = NULL;
	struct jf_error err;
	int rc = obj ? validate_status_details(obj, &text, &err) : -1;
	if(rc == JF_OK) CU_ASSERT_PTR_NOT_NULL(text);
	free(text);
	cJSON_Delete(obj);
	return rc;
}

static void test_status_details(void)
{
	CU_ASSERT_EQUAL(details_rc("{}"), JF_OK);
	CU_ASSERT_EQUAL(details_rc("{\"step\":\"download\",\"a:b_c-1\":\"x\"}"), JF_OK);
	CU_ASSERT_EQUAL(details_rc("{\"k\":\"caf\\u00e9 \\u4e2d\"}"), JF_OK);
	CU_ASSERT_EQUAL(details_rc("[]"), JF_BAD);
	CU_ASSERT_EQUAL(details_rc("{\"k\":1}"), JF_BAD);
	CU_ASSERT_EQUAL(details_rc("{\"k\":true}"), JF_BAD);
	CU_ASSERT_EQUAL(details_rc("{\"k\":{}}"), JF_BAD);
	CU_ASSERT_EQUAL(details_rc("{\"k\":\"\"}"), JF_OK);
	CU_ASSERT_EQUAL(details_rc("{\"\":\"v\"}"), JF_BAD);
	CU_ASSERT_EQUAL(details_rc("{\"bad key\":\"v\"}"), JF_BAD);
	CU_ASSERT_EQUAL(details_rc("{\"k.1\":\"v\"}"), JF_BAD);
	/* AWS stores what agents report: a handler's output with newlines, tabs,
	 * carriage returns and ANSI colour codes, and any other character */
	CU_ASSERT_EQUAL(details_rc("{\"k\":\"line\\nbreak\"}"), JF_OK);
	CU_ASSERT_EQUAL(details_rc("{\"k\":\"tab\\there\\r\\n\"}"), JF_OK);
	CU_ASSERT_EQUAL(details_rc("{\"stdout\":\"\\u001b[31mred\\u001b[0m\\n\"}"), JF_OK);
	CU_ASSERT_EQUAL(details_rc("{\"reason\":\"Job exited with status: 0\",\"stdout\":\"hello from handler, args: c-old-schema\\n\"}"), JF_OK);
	CU_ASSERT_EQUAL(details_rc("{\"k\":\"zero\\u200bwidth\"}"), JF_OK);
	CU_ASSERT_EQUAL(details_rc("{\"k\":\"bom\\ufeff\"}"), JF_OK);
	CU_ASSERT_EQUAL(details_rc("{\"k\":\"private\\ue000\"}"), JF_OK);
	CU_ASSERT_EQUAL(details_rc("{\"k\":\"c1\\u0085\\u007f\\u0001\"}"), JF_OK);

	/* key at and over 128, value at and over 1024 characters */
	char json[40000];
	char key[130], value[1100];
	memset(key, 'k', 128);
	key[128] = '\0';
	memset(value, 'v', 1024);
	value[1024] = '\0';
	snprintf(json, sizeof(json), "{\"%s\":\"%s\"}", key, value);
	CU_ASSERT_EQUAL(details_rc(json), JF_OK);
	snprintf(json, sizeof(json), "{\"%sk\":\"v\"}", key);
	CU_ASSERT_EQUAL(details_rc(json), JF_BAD);
	snprintf(json, sizeof(json), "{\"k\":\"%sv\"}", value);
	CU_ASSERT_EQUAL(details_rc(json), JF_BAD);
	/* 1024 two-byte characters are 1024 characters, not 2048 */
	char wide[2100] = "";
	for(int i = 0; i < 1024; i++) strcat(wide, "\xc3\xa9");
	snprintf(json, sizeof(json), "{\"k\":\"%s\"}", wide);
	CU_ASSERT_EQUAL(details_rc(json), JF_OK);

	/* the serialized map is capped at 32768 bytes */
	size_t off = 0;
	off += (size_t)snprintf(json + off, sizeof(json) - off, "{");
	for(int i = 0; i < 34; i++){
		off += (size_t)snprintf(json + off, sizeof(json) - off, "%s\"k%d\":\"%.1000s\"", i ? "," : "", i, value);
	}
	snprintf(json + off, sizeof(json) - off, "}");
	CU_ASSERT_EQUAL(details_rc(json), JF_BAD);
}

static int document_rc(const char *json, char **text)
{
	cJSON *obj = cJSON_Parse(json);
	struct jf_error err;
	*text = NULL;
	int rc = validate_document(obj, text, &err);
	cJSON_Delete(obj);
	return rc;
}

static void test_document(void)
{
	char *text;
	CU_ASSERT_EQUAL(document_rc("{\"a\": [1, 2]}", &text), JF_OK);
	CU_ASSERT_STRING_EQUAL(text, "{\"a\":[1,2]}");
	free(text);
	CU_ASSERT_EQUAL(document_rc("\"{\\\"a\\\":1}\"", &text), JF_OK);
	CU_ASSERT_STRING_EQUAL(text, "{\"a\":1}");
	free(text);
	CU_ASSERT_EQUAL(document_rc("\"[1]\"", &text), JF_BAD);
	CU_ASSERT_EQUAL(document_rc("\"{} trailing\"", &text), JF_BAD);
	/* numbers come back as they went in, also where cJSON's printer would round */
	CU_ASSERT_EQUAL(document_rc("{\"a\":9007199254740992,\"b\":0.1,\"c\":-3,\"d\":1e300,\"e\":[12345678901234567]}", &text), JF_OK);
	CU_ASSERT_STRING_EQUAL(text, "{\"a\":9007199254740992,\"b\":0.1,\"c\":-3,\"d\":1e+300,\"e\":[12345678901234568]}");
	free(text);
	/* whole numbers stay plain integers */
	CU_ASSERT_EQUAL(document_rc("{\"size\":1000,\"parts\":[1,20,300,-4000],\"t\":1796008160,\"f\":2.5}", &text), JF_OK);
	CU_ASSERT_STRING_EQUAL(text, "{\"size\":1000,\"parts\":[1,20,300,-4000],\"t\":1796008160,\"f\":2.5}");
	free(text);
	CU_ASSERT_EQUAL(document_rc("\"{\\\"n\\\": 4503599627370497}\"", &text), JF_OK);
	CU_ASSERT_STRING_EQUAL(text, "{\"n\":4503599627370497}");
	free(text);
	CU_ASSERT_EQUAL(document_rc("\"not json\"", &text), JF_BAD);
	CU_ASSERT_EQUAL(document_rc("[1]", &text), JF_BAD);
	CU_ASSERT_EQUAL(document_rc("3", &text), JF_BAD);

	/* {"d":"<n x's>"} is n + 8 characters */
	static char big[40000];
	char fill[32800];
	memset(fill, 'x', 32760);
	fill[32760] = '\0';
	snprintf(big, sizeof(big), "{\"d\":\"%s\"}", fill);
	CU_ASSERT_EQUAL(document_rc(big, &text), JF_OK);
	CU_ASSERT_EQUAL(strlen(text), 32768);
	free(text);
	snprintf(big, sizeof(big), "{\"d\":\"%sx\"}", fill);
	CU_ASSERT_EQUAL(document_rc(big, &text), JF_BAD);
}

static void test_utf8(void)
{
	CU_ASSERT_TRUE(utf8_valid("plain", 5));
	CU_ASSERT_TRUE(utf8_valid("\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80", 9));
	CU_ASSERT_FALSE(utf8_valid("\xff", 1));
	CU_ASSERT_FALSE(utf8_valid("\xc3", 1));                 /* truncated */
	CU_ASSERT_FALSE(utf8_valid("\xc0\xaf", 2));             /* overlong */
	CU_ASSERT_FALSE(utf8_valid("\xed\xa0\x80", 3));         /* surrogate */
	CU_ASSERT_FALSE(utf8_valid("\xf4\x90\x80\x80", 4));     /* above U+10FFFF */
	CU_ASSERT_FALSE(utf8_valid("a\x80", 2));
	CU_ASSERT_EQUAL(utf8_length("\xc3\xa9t\xc3\xa9"), 3);
	CU_ASSERT_TRUE(utf8_json_has_escaped_nul("{\"a\":\"x\\u0000\"}", 15));
	CU_ASSERT_FALSE(utf8_json_has_escaped_nul("{\"a\":\"x\\\\u0000\"}", 16));
	CU_ASSERT_FALSE(utf8_json_has_escaped_nul("{\"a\":\"x\\u0001\"}", 15));
}

static void test_names(void)
{
	CU_ASSERT_TRUE(names_thing_valid("a:b_c-9", 7));
	CU_ASSERT_FALSE(names_thing_valid("", 0));
	CU_ASSERT_FALSE(names_thing_valid("a/b", 3));
	CU_ASSERT_FALSE(names_thing_valid("a+b", 3));
	CU_ASSERT_FALSE(names_thing_valid("a#", 2));
	CU_ASSERT_TRUE(names_job_id_valid("job_1-x", 7));
	CU_ASSERT_FALSE(names_job_id_valid("job:1", 5));
	CU_ASSERT_FALSE(names_job_id_valid("$next", 5));
	char long_name[200];
	memset(long_name, 'a', sizeof(long_name));
	CU_ASSERT_TRUE(names_thing_valid(long_name, 128));
	CU_ASSERT_FALSE(names_thing_valid(long_name, 129));
	CU_ASSERT_TRUE(names_job_id_valid(long_name, 64));
	CU_ASSERT_FALSE(names_job_id_valid(long_name, 65));
	/* a thing's attributes: names [a-zA-Z0-9_.,@/:#-]{1,128}, values [...=[]]{0,800} */
	CU_ASSERT_TRUE(names_attribute_name_valid("a.b,c@d/e:f#g-h_9", 17));
	CU_ASSERT_FALSE(names_attribute_name_valid("", 0));
	CU_ASSERT_FALSE(names_attribute_name_valid("a=b", 3));
	CU_ASSERT_FALSE(names_attribute_name_valid("a b", 3));
	CU_ASSERT_FALSE(names_attribute_name_valid("a\0b", 3));
	CU_ASSERT_TRUE(names_attribute_name_valid(long_name, 128));
	CU_ASSERT_FALSE(names_attribute_name_valid(long_name, 129));
	CU_ASSERT_TRUE(names_attribute_value_valid("", 0));
	CU_ASSERT_TRUE(names_attribute_value_valid("x=[1],a.b@c/d:e#f-g_h", 21));
	CU_ASSERT_FALSE(names_attribute_value_valid("a b", 3));
	CU_ASSERT_FALSE(names_attribute_value_valid("a+b", 3));
	CU_ASSERT_FALSE(names_attribute_value_valid("\xc3\xa9", 2));
	char long_value[801];
	memset(long_value, 'v', sizeof(long_value));
	CU_ASSERT_TRUE(names_attribute_value_valid(long_value, 800));
	CU_ASSERT_FALSE(names_attribute_value_valid(long_value, 801));
}

static bool parses(const char *text)
{
	cJSON *t = jf_parse_strict(text, strlen(text));
	cJSON_Delete(t);
	return t != NULL;
}

static void test_strict_json(void)
{
	static const char *const good[] = {
		"{}", " {\"a\" : [1, -0, 0.5, 1e3, -2.5E-3, true, false, null, \"\\u00e9\\n\\\"\"]}\n",
		"[]", "[[],{}]", "\"s\"", "0", "{\"a\":{\"b\":{}}}",
	};
	static const char *const bad[] = {
		"", "{", "{\"a\":02}", "{\"a\":2.}", "{\"a\":.5}", "{\"a\":+1}", "{\"a\":1e}", "{\"a\":-}",
		"{\"a\":\"x\ty\"}", "{\"a\":\"x\ny\"}", "{\"a\":\"\x01\"}", "{'a':1}", "{\"a\":NaN}",
		"{\"a\":1,}", "[1,]", "{\"a\" 1}", "{\"a\":1}}", "{} {}", "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}",
		"{a:1}", "[1 2]", "tru", "{\"a\":1 /* c */}", "{\"a\":\"unterminated}",
	};
	for(size_t i = 0; i < sizeof(good) / sizeof(*good); i++){
		CU_ASSERT_TRUE(parses(good[i]));
		if(!parses(good[i])) fprintf(stderr, "\n  refused: %s\n", good[i]);
	}
	for(size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++){
		CU_ASSERT_FALSE(parses(bad[i]));
		if(parses(bad[i])) fprintf(stderr, "\n  accepted: %s\n", bad[i]);
	}
	/* nesting: 1000 deep is fine, 1001 is not */
	static char deep[2100];
	memset(deep, '[', 1000);
	memset(deep + 1000, ']', 1000);
	deep[2000] = '\0';
	CU_ASSERT_TRUE(parses(deep));
	memset(deep, '[', 1001);
	memset(deep + 1001, ']', 1001);
	deep[2002] = '\0';
	CU_ASSERT_FALSE(parses(deep));
	/* a C string's NUL after the text is tolerated */
	cJSON *t = jf_parse_strict("{}\0", 3);
	CU_ASSERT_PTR_NOT_NULL(t);
	cJSON_Delete(t);
	/* numbers too large for a double make a document invalid */
	char *text;
	CU_ASSERT_EQUAL(document_rc("{\"d\":[1,{\"e\":1e999}]}", &text), JF_BAD);
	CU_ASSERT_EQUAL(document_rc("\"{\\\"d\\\":-1E400}\"", &text), JF_BAD);
}

void add_validate_tests(void)
{
	static const struct test_entry tests[] = {
		{ "long fields: numbers and digit strings", test_long_fields },
		{ "typed fields", test_typed_fields },
		{ "statusDetails", test_status_details },
		{ "job document", test_document },
		{ "utf8", test_utf8 },
		{ "strict JSON", test_strict_json },
		{ "names", test_names },
	};
	ADD_SUITE("validate", tests);
}
