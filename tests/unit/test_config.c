/* Plugin option parsing: defaults, each option, every bad value refused. */
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

void add_config_tests(void)
{
	static const struct test_entry tests[] = {
		{ "defaults", test_defaults },
		{ "every option", test_values },
		{ "bad values refused with the option named", test_bad_values },
		{ "HTTP options need plugin_opt_http_listen", test_http_options_need_a_listener },
		{ "http_unsigned_identity", test_http_unsigned_identity },
		{ "test_controls", test_test_controls },
	};
	ADD_SUITE("config", tests);
}
