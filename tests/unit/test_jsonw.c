/* The JSON writer: commas, nesting, escapes, integers, and that cJSON reads back what
 * it writes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "util/jsonw.h"
#include "suites.h"

static char *finish(struct jsonw *w)
{
	char *text = jsonw_finish(w, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	return text;
}

static void test_nesting_and_commas(void)
{
	struct jsonw w;
	jsonw_init(&w);
	jsonw_object_begin(&w);
	jsonw_key(&w, "a");
	jsonw_array_begin(&w);
	jsonw_array_end(&w);
	jsonw_key(&w, "b");
	jsonw_array_begin(&w);
	for(int i = 0; i < 3; i++){
		jsonw_object_begin(&w);
		jsonw_key_int(&w, "i", i);
		jsonw_key_string(&w, "s", "x");
		jsonw_object_end(&w);
	}
	jsonw_array_end(&w);
	jsonw_key(&w, "c");
	jsonw_object_begin(&w);
	jsonw_object_end(&w);
	jsonw_key_raw(&w, "d", "{\"k\":[1,2]}");
	jsonw_object_end(&w);
	char *text = finish(&w);
	CU_ASSERT_STRING_EQUAL(text,
			"{\"a\":[],\"b\":[{\"i\":0,\"s\":\"x\"},{\"i\":1,\"s\":\"x\"},{\"i\":2,\"s\":\"x\"}],"
			"\"c\":{},\"d\":{\"k\":[1,2]}}");
	free(text);
	/* the writer is empty and usable again after finish */
	jsonw_array_begin(&w);
	jsonw_int(&w, 1);
	jsonw_array_end(&w);
	text = finish(&w);
	CU_ASSERT_STRING_EQUAL(text, "[1]");
	free(text);
}

static void test_integers(void)
{
	static const struct { int64_t v; const char *text; } table[] = {
		{ 0, "0" }, { 7, "7" }, { -1, "-1" }, { 1700000000, "1700000000" },
		{ 9007199254740993LL, "9007199254740993" }, /* past 2^53: exact */
		{ INT64_MAX, "9223372036854775807" }, { INT64_MIN, "-9223372036854775808" },
	};
	for(size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++){
		char buf[JSONW_INT_TEXT];
		CU_ASSERT_STRING_EQUAL(jsonw_int_text(table[i].v, buf), table[i].text);
	}
}

static void test_string_escapes(void)
{
	/* every byte below 0x20, quotes, backslashes, and UTF-8 left as it is */
	char in[64];
	size_t n = 0;
	for(int c = 1; c < 0x20; c++) in[n++] = (char)c;
	memcpy(in + n, "\"\\/\xc3\xa9\xe2\x82\xac", 8);
	n += 8;
	in[n] = '\0';
	struct jsonw w;
	jsonw_init(&w);
	jsonw_object_begin(&w);
	jsonw_key_string(&w, "k\"ey", in);
	jsonw_object_end(&w);
	char *text = finish(&w);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\\u0001"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\\u001f"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\xc3\xa9\xe2\x82\xac"));
	for(const char *p = text; *p; p++) CU_ASSERT((unsigned char)*p >= 0x20);
	cJSON *back = cJSON_Parse(text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(back);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(back, "k\"ey");
	CU_ASSERT_TRUE(cJSON_IsString(v));
	if(cJSON_IsString(v)) CU_ASSERT_STRING_EQUAL(v->valuestring, in);
	cJSON_Delete(back);
	free(text);
}

static void test_large_output(void)
{
	/* many growths of the buffer */
	struct jsonw w;
	jsonw_init(&w);
	jsonw_array_begin(&w);
	for(int i = 0; i < 20000; i++) jsonw_string(&w, "0123456789");
	jsonw_array_end(&w);
	size_t len;
	char *text = jsonw_finish(&w, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_EQUAL(len, strlen(text));
	CU_ASSERT_EQUAL(len, 2 + 20000 * 12 + 19999);
	cJSON *back = cJSON_Parse(text);
	CU_ASSERT_EQUAL(cJSON_GetArraySize(back), 20000);
	cJSON_Delete(back);
	free(text);
}

void add_jsonw_tests(void)
{
	static const struct test_entry tests[] = {
		{ "nesting and commas", test_nesting_and_commas },
		{ "integers", test_integers },
		{ "string escapes", test_string_escapes },
		{ "large output", test_large_output },
	};
	ADD_SUITE("json writer", tests);
}
