/* Access rules: thing isolation, grants, wildcard filters, operators, options. */
#include <string.h>

#include "mqtt/topic_access.h"
#include "config/config.h"
#include "suites.h"

static struct jobs_config cfg;

static void load(const struct jobs_option *opts, size_t n)
{
	char err[256];
	CU_ASSERT_EQUAL_FATAL(config_parse(opts, n, &cfg, err, sizeof(err)), 0);
}

struct access_case {
	const char *identity;
	const char *topic;
	enum access_kind kind;
	enum access_result expect;
};

static void run_cases(const struct access_case *cases, size_t n)
{
	for(size_t i = 0; i < n; i++){
		enum access_result r = access_decide(&cfg.access, cases[i].identity, cases[i].topic, cases[i].kind);
		CU_ASSERT_EQUAL(r, cases[i].expect);
		if(r != cases[i].expect){
			fprintf(stderr, "\n  %s on %s (kind %d): %d, expected %d\n", cases[i].identity ? cases[i].identity : "(none)",
					cases[i].topic, cases[i].kind, r, cases[i].expect);
		}
	}
}

#define R ACCESS_READ
#define W ACCESS_WRITE
#define S ACCESS_SUBSCRIBE
#define OK ACCESS_ALLOW
#define NO ACCESS_DENY
#define DEF ACCESS_DEFER

static void test_isolation_defaults(void)
{
	load(NULL, 0);
	static const struct access_case cases[] = {
		/* own thing */
		{ "dev1", "$aws/things/dev1/jobs/get", W, OK },
		{ "dev1", "$aws/things/dev1/jobs/notify", R, OK },
		{ "dev1", "$aws/things/dev1/jobs/#", S, OK },
		{ "dev1", "$aws/things/dev1/jobs/+/get/accepted", S, OK },
		{ "dev1", "$aws/things/dev1/#", S, OK },
		{ "dev1", "$aws/things/dev1/+/notify", S, OK },
		/* another thing */
		{ "dev1", "$aws/things/dev2/jobs/get", W, NO },
		{ "dev1", "$aws/things/dev2/jobs/notify", R, NO },
		{ "dev1", "$aws/things/dev2/jobs/#", S, NO },
		{ "dev1", "$aws/things/dev10/jobs/get", W, NO },
		{ "dev1", "$aws/things/dev/jobs/get", W, NO },
		/* wildcards that reach other things' jobs */
		{ "dev1", "$aws/things/+/jobs/#", S, NO },
		{ "dev1", "$aws/things/#", S, NO },
		{ "dev1", "$aws/#", S, NO },
		{ "dev1", "$aws/+/+/jobs/#", S, NO },
		{ "dev1", "$aws/things/+/+/notify", S, NO },
		{ "dev1", "$aws/+/dev1/jobs/get", S, OK },
		{ "dev1", "$aws/+/dev2/jobs/get", S, NO },
		/* shared subscriptions: what follows $share/<group>/ decides */
		{ "dev1", "$share/g/$aws/things/dev2/jobs/#", S, NO },
		{ "dev1", "$share/g/$aws/things/+/jobs/#", S, NO },
		{ "dev1", "$share/g/$aws/things/dev1/jobs/#", S, OK },
		{ "dev1", "$share/g/$CONTROL/jobs/v1/response", S, NO },
		/* not the jobs namespace: left to the broker */
		{ "dev1", "$aws/things/dev2/shadow/update", W, DEF },
		{ "dev1", "$aws/things/+/shadow/#", S, DEF },
		{ "dev1", "$aws/things/dev2", W, DEF },
		{ "dev1", "#", S, DEF },
		{ "dev1", "+/things/dev2/jobs/get", S, DEF },
		{ "dev1", "sensors/dev2/jobs/get", W, DEF },
		/* no identity, or an unusable one */
		{ NULL, "$aws/things/dev1/jobs/get", W, NO },
		{ "a+b", "$aws/things/a+b/jobs/get", W, NO },
		{ "", "$aws/things//jobs/get", W, NO },
		/* the management API: nobody is an operator by default */
		{ "dev1", "$CONTROL/jobs/v1", W, NO },
		{ "dev1", "$CONTROL/jobs/v1/response", S, NO },
		{ "dev1", "$CONTROL/#", S, NO },
		{ "dev1", "$CONTROL/dynamic-security/v1", W, DEF },
	};
	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
	config_free(&cfg);
}

static void test_grants_and_operators(void)
{
	static const struct jobs_option opts[] = {
		{ "grant_gw", "dev2 dev3" }, { "grant_harness", "*" }, { "operators", "admin ops-2" },
		{ "other_topics", "allow" },
	};
	load(opts, sizeof(opts) / sizeof(opts[0]));
	static const struct access_case cases[] = {
		{ "gw", "$aws/things/gw/jobs/get", W, OK },
		{ "gw", "$aws/things/dev2/jobs/get", W, OK },
		{ "gw", "$aws/things/dev3/jobs/#", S, OK },
		{ "gw", "$aws/things/dev4/jobs/get", W, NO },
		{ "gw", "$aws/things/+/jobs/#", S, NO },
		{ "harness", "$aws/things/+/jobs/#", S, OK },
		{ "harness", "$aws/things/anything/jobs/get", W, OK },
		{ "admin", "$CONTROL/jobs/v1", W, OK },
		{ "ops-2", "$CONTROL/jobs/v1/response", S, OK },
		{ "gw", "$CONTROL/jobs/v1", W, NO },
		{ "admin", "$aws/things/dev2/jobs/get", W, NO },
		{ "gw", "sensors/x", W, OK },
		{ "gw", "#", S, OK },
	};
	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
	CU_ASSERT_TRUE(access_is_operator(&cfg.access, "admin"));
	CU_ASSERT_FALSE(access_is_operator(&cfg.access, "gw"));
	config_free(&cfg);
}

static void test_open_modes(void)
{
	static const struct jobs_option opts[] = {
		{ "isolation", "off" }, { "control_access", "broker" },
	};
	load(opts, 2);
	static const struct access_case cases[] = {
		{ "dev1", "$aws/things/dev2/jobs/get", W, DEF },
		{ "dev1", "$aws/things/+/jobs/#", S, DEF },
		{ "dev1", "$CONTROL/jobs/v1", W, DEF },
	};
	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
	config_free(&cfg);
	static const struct jobs_option any[] = { { "operators", "*" }, { "identity", "username" } };
	load(any, 2);
	CU_ASSERT_EQUAL(access_decide(&cfg.access, "whoever", "$CONTROL/jobs/v1", W), OK);
	CU_ASSERT_EQUAL(cfg.access.identity, IDENTITY_USERNAME);
	config_free(&cfg);
	/* a later plugin_opt_operators replaces an earlier *, as it replaces names */
	static const struct jobs_option replaced[] = { { "operators", "*" }, { "operators", "admin" } };
	load(replaced, 2);
	CU_ASSERT_EQUAL(access_decide(&cfg.access, "whoever", "$CONTROL/jobs/v1", W), NO);
	CU_ASSERT_FALSE(access_is_operator(&cfg.access, "whoever"));
	CU_ASSERT_TRUE(access_is_operator(&cfg.access, "admin"));
	config_free(&cfg);
}

static void test_bad_options(void)
{
	static const struct jobs_option bad[] = {
		{ "identity", "thing" }, { "isolation", "yes" }, { "other_topics", "deny" },
		{ "control_access", "all" }, { "operators", "" }, { "operators", "a/b" },
		{ "grant_", "dev1" }, { "grant_g#w", "dev1" }, { "grant_gw", "" }, { "grant_gw", "bad/thing" },
	};
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		struct jobs_config c;
		char err[256] = "";
		CU_ASSERT_EQUAL(config_parse(&bad[i], 1, &c, err, sizeof(err)), -1);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, bad[i].key));
	}
}

void add_access_tests(void)
{
	static const struct test_entry tests[] = {
		{ "isolation by default", test_isolation_defaults },
		{ "grants and operators", test_grants_and_operators },
		{ "open modes", test_open_modes },
		{ "bad access options", test_bad_options },
	};
	ADD_SUITE("access", tests);
}
