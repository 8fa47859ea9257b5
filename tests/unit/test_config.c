/* Plugin option parsing: defaults, each option, every bad value refused; the option
 * table against docs/configuration.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "suites.h"

static int parse1(const char *key, const char *value, struct jobs_config *cfg, char *err)
{
	struct jobs_option opt = { key, value };
	return config_parse(&opt, 1, cfg, err, 256);
}

static void test_defaults(void)
{
	struct jobs_config cfg;
	char err[256];
	CU_ASSERT_EQUAL_FATAL(config_parse(NULL, 0, &cfg, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(cfg.db_path, JOBS_DEFAULT_DB_PATH);
	CU_ASSERT_EQUAL(cfg.synchronous, JOBS_SYNC_NORMAL);
	CU_ASSERT_EQUAL(cfg.max_pending, 10);
	CU_ASSERT_STRING_EQUAL(cfg.region, "us-east-1");
	CU_ASSERT_STRING_EQUAL(cfg.account_id, "000000000000");
	config_free(&cfg);
}

static void test_values(void)
{
	struct jobs_option opts[] = {
		{ "db_path", "/var/lib/mosquitto/jobs.db" }, { "synchronous", "full" },
		{ "max_pending", "15" }, { "region", "eu-west-1" }, { "account_id", "123456789012" },
	};
	struct jobs_config cfg;
	char err[256];
	CU_ASSERT_EQUAL_FATAL(config_parse(opts, 5, &cfg, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(cfg.db_path, "/var/lib/mosquitto/jobs.db");
	CU_ASSERT_EQUAL(cfg.synchronous, JOBS_SYNC_FULL);
	CU_ASSERT_EQUAL(cfg.max_pending, 15);
	CU_ASSERT_STRING_EQUAL(cfg.region, "eu-west-1");
	CU_ASSERT_STRING_EQUAL(cfg.account_id, "123456789012");
	config_free(&cfg);
}

static void test_bad_values(void)
{
	static const struct jobs_option bad[] = {
		{ "synchronous", "maybe" }, { "synchronous", "" }, { "synchronous", "FULL" },
		{ "max_pending", "0" }, { "max_pending", "101" }, { "max_pending", "abc" },
		{ "max_pending", "" }, { "max_pending", "10x" }, { "max_pending", "-1" },
		{ "db_path", "" }, { "region", "US EAST" }, { "account_id", "123" },
		{ "account_id", "12345678901a" }, { "no_such_option", "1" },
		{ "http_unsigned_identity", "" }, { "http_unsigned_identity", "a/b" },
		{ "http_unsigned_identity", "ops+" }, { "http_unsigned_identity", "#" },
	};
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		struct jobs_config cfg;
		char err[256] = "";
		CU_ASSERT_EQUAL(parse1(bad[i].key, bad[i].value, &cfg, err), -1);
		/* the message names the option */
		CU_ASSERT_PTR_NOT_NULL(strstr(err, bad[i].key));
	}
}

/* HTTP options without plugin_opt_http_listen would do nothing: refused, naming the
 * option that is missing. */
static void test_http_options_need_a_listener(void)
{
	static const char *const keys[] = { "http_keys_file", "http_tls_cert", "http_tls_key" };
	for(size_t i = 0; i < 3; i++){
		struct jobs_config cfg;
		char err[256] = "";
		CU_ASSERT_EQUAL(parse1(keys[i], "/etc/mosquitto/x", &cfg, err), -1);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, keys[i]));
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "plugin_opt_http_listen"));
	}
	struct jobs_option opts[] = { { "http_keys_file", "/etc/mosquitto/keys" }, { "http_listen", "localhost:8080" } };
	struct jobs_config cfg;
	char err[256];
	CU_ASSERT_EQUAL_FATAL(config_parse(opts, 2, &cfg, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(cfg.http_address, "localhost");
	CU_ASSERT_EQUAL(cfg.http_port, 8080);
	config_free(&cfg);
}

/* Unsigned requests act as an identity only on a listener without keys file. */
static void test_http_unsigned_identity(void)
{
	struct jobs_config cfg;
	char err[256] = "";
	CU_ASSERT_EQUAL_FATAL(config_parse(NULL, 0, &cfg, err, sizeof(err)), 0);
	CU_ASSERT_PTR_NULL(cfg.http_unsigned_identity);
	config_free(&cfg);
	CU_ASSERT_EQUAL_FATAL(parse1("http_unsigned_identity", "admin", &cfg, err), 0);
	CU_ASSERT_STRING_EQUAL(cfg.http_unsigned_identity, "admin");
	config_free(&cfg);
	struct jobs_option both[] = { { "http_unsigned_identity", "admin" }, { "http_keys_file", "/etc/keys" },
		{ "http_listen", "8080" } };
	CU_ASSERT_EQUAL(config_parse(both, 3, &cfg, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "plugin_opt_http_unsigned_identity is for a listener without keys file"));
}

static void test_test_controls(void)
{
	struct jobs_config cfg;
	char err[256];
	CU_ASSERT_EQUAL_FATAL(config_parse(NULL, 0, &cfg, err, sizeof(err)), 0);
	CU_ASSERT_FALSE(cfg.test_controls);
	config_free(&cfg);
	CU_ASSERT_EQUAL_FATAL(parse1("test_controls", "on", &cfg, err), 0);
	CU_ASSERT_TRUE(cfg.test_controls);
	config_free(&cfg);
	CU_ASSERT_EQUAL_FATAL(parse1("test_controls", "off", &cfg, err), 0);
	CU_ASSERT_FALSE(cfg.test_controls);
	config_free(&cfg);
	CU_ASSERT_EQUAL(parse1("test_controls", "yes", &cfg, err), -1);
	CU_ASSERT_STRING_EQUAL(err, "plugin_opt_test_controls must be 'on' or 'off', not 'yes'");
}

/* ---- docs/configuration.md's option table against config_options ---- */

#define DOC_ROWS 64

struct doc_row {
	char name[128];      /* without plugin_opt_ */
	char values[256];
	char def[256];
	char help[2048];
	bool matched;
};

/* Copies a cell (between two '|'), trimmed, into out. */
static void cell(const char *start, const char *end, char *out, size_t size)
{
	while(start < end && *start == ' ') start++;
	while(end > start && end[-1] == ' ') end--;
	snprintf(out, size, "%.*s", (int)(end - start), start);
}

/* The rows of the table under "## Plugin options": | `plugin_opt_NAME` | values | default | prose |. */
static size_t read_doc_rows(struct doc_row *rows, size_t max)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/docs/configuration.md", JOBS_SOURCE_DIR);
	FILE *f = fopen(path, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	size_t n = 0;
	char line[8192];
	while(fgets(line, sizeof(line), f)){
		if(strncmp(line, "| `plugin_opt_", 14) != 0) continue;
		const char *bar[4];
		const char *p = line;
		for(int i = 0; i < 4; i++){
			bar[i] = strchr(p + 1, '|');
			if(!bar[i]) break;
			p = bar[i];
		}
		CU_ASSERT_PTR_NOT_NULL_FATAL(bar[3]);
		CU_ASSERT_FATAL(n < max);
		struct doc_row *r = &rows[n++];
		char name[128];
		cell(line + 1, bar[0], name, sizeof(name));
		/* `plugin_opt_NAME` */
		size_t len = strlen(name);
		if(len > 13 && name[len - 1] == '`') snprintf(r->name, sizeof(r->name), "%.*s", (int)(len - 13), name + 12);
		else snprintf(r->name, sizeof(r->name), "%s", name);
		cell(bar[0] + 1, bar[1], r->values, sizeof(r->values));
		cell(bar[1] + 1, bar[2], r->def, sizeof(r->def));
		cell(bar[2] + 1, bar[3], r->help, sizeof(r->help));
		r->matched = false;
	}
	fclose(f);
	return n;
}

/* Every option of the table has its row in the document, with the values, the
 * default and the text the table has; the document names no option the table lacks. */
static void test_doc_table(void)
{
	static struct doc_row rows[DOC_ROWS];
	size_t nrows = read_doc_rows(rows, DOC_ROWS);
	CU_ASSERT(nrows > 0);
	size_t count;
	const struct config_option *opts = config_options(&count);
	for(size_t i = 0; i < count; i++){
		char values[512], def[512];
		CU_ASSERT_EQUAL_FATAL(config_option_doc(&opts[i], values, sizeof(values), def, sizeof(def)), 0);
		struct doc_row *row = NULL;
		for(size_t j = 0; j < nrows; j++){
			if(strcmp(rows[j].name, opts[i].name) == 0) row = &rows[j];
		}
		if(!row){
			fprintf(stderr, "\ndocs/configuration.md has no row for plugin_opt_%s; it would be:\n"
					"| `plugin_opt_%s` | %s | %s | ... |\n", opts[i].name, opts[i].name, values, def);
			CU_FAIL("an option missing from docs/configuration.md");
			continue;
		}
		row->matched = true;
		if(strcmp(row->values, values) != 0 || strcmp(row->def, def) != 0){
			fprintf(stderr, "\ndocs/configuration.md, plugin_opt_%s: the option table has\n"
					"  values  %s\n  default %s\nthe document\n  values  %s\n  default %s\n",
					opts[i].name, values, def, row->values, row->def);
			CU_FAIL("docs/configuration.md disagrees with the option table");
		}
		CU_ASSERT_PTR_NOT_NULL_FATAL(opts[i].help);
		if(strcmp(row->help, opts[i].help) != 0){
			fprintf(stderr, "\ndocs/configuration.md, plugin_opt_%s: the option table's text is\n  %s\n"
					"the document's\n  %s\n(build/jobs-options --markdown prints the table's rows)\n",
					opts[i].name, opts[i].help, row->help);
			CU_FAIL("docs/configuration.md's text of an option is not the option table's");
		}
	}
	for(size_t j = 0; j < nrows; j++){
		if(!rows[j].matched){
			fprintf(stderr, "\ndocs/configuration.md names plugin_opt_%s, which is no option\n", rows[j].name);
			CU_FAIL("docs/configuration.md names an option that does not exist");
		}
	}
}

/* Each default of the table is a value the option takes, and parses to what the
 * document's default column says of it (a default and the table's own checks). */
static void test_table_defaults_parse(void)
{
	size_t count;
	const struct config_option *opts = config_options(&count);
	for(size_t i = 0; i < count; i++){
		if(!opts[i].def) continue;
		struct jobs_config cfg;
		char err[256] = "";
		struct jobs_option opt = { opts[i].name, opts[i].def };
		CU_ASSERT_EQUAL(config_parse(&opt, 1, &cfg, err, sizeof(err)), 0);
		if(err[0]) fprintf(stderr, "\n%s\n", err);
		else config_free(&cfg);
	}
}

void add_config_tests(void)
{
	static const struct test_entry tests[] = {
		{ "defaults", test_defaults },
		{ "every option", test_values },
		{ "bad values refused with the option named", test_bad_values },
		{ "HTTP options need plugin_opt_http_listen", test_http_options_need_a_listener },
		{ "http_unsigned_identity", test_http_unsigned_identity },
		{ "test_controls", test_test_controls },
		{ "docs/configuration.md's option table is the table's", test_doc_table },
		{ "the table's defaults are values its options take", test_table_defaults_parse },
	};
	ADD_SUITE("config", tests);
}
