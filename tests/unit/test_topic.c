/* Topic parser: a table of valid and invalid topics, names at and over limits. */
#include <string.h>

#include "mqtt/topic.h"
#include "suites.h"

struct topic_case {
	const char *topic;
	enum topic_kind kind;
	enum device_op op;
	const char *thing;
	const char *job_id;
	const char *ns;
};

#define T "$aws/things/"
static const struct topic_case cases[] = {
	{ T "dev1/jobs/get", TOPIC_REQUEST, DEVICE_GET_PENDING, "dev1", "", "" },
	{ T "dev1/jobs/start-next", TOPIC_REQUEST, DEVICE_START_NEXT, "dev1", "", "" },
	{ T "dev1/jobs/job-1/get", TOPIC_REQUEST, DEVICE_DESCRIBE, "dev1", "job-1", "" },
	{ T "dev1/jobs/$next/get", TOPIC_REQUEST, DEVICE_DESCRIBE, "dev1", "$next", "" },
	{ T "dev1/jobs/job_1/update", TOPIC_REQUEST, DEVICE_UPDATE, "dev1", "job_1", "" },
	/* jobs named like API words parse by level count */
	{ T "dev1/jobs/get/get", TOPIC_REQUEST, DEVICE_DESCRIBE, "dev1", "get", "" },
	{ T "dev1/jobs/notify/update", TOPIC_REQUEST, DEVICE_UPDATE, "dev1", "notify", "" },
	{ T "dev1/jobs/start-next/get", TOPIC_REQUEST, DEVICE_DESCRIBE, "dev1", "start-next", "" },
	{ T "a:b_c-D9/jobs/get", TOPIC_REQUEST, DEVICE_GET_PENDING, "a:b_c-D9", "", "" },
	/* Greengrass namespaces */
	{ T "gg/jobs/$next/namespace-aws-gg-deployment/get", TOPIC_REQUEST, DEVICE_DESCRIBE, "gg", "$next", "aws-gg-deployment" },
	{ T "gg/jobs/j1/namespace-aws-gg-deployment/get", TOPIC_REQUEST, DEVICE_DESCRIBE, "gg", "j1", "aws-gg-deployment" },
	{ T "gg/jobs/j1/namespace-aws-gg-deployment/update", TOPIC_REQUEST, DEVICE_UPDATE, "gg", "j1", "aws-gg-deployment" },
	/* reply and notification topics are not requests */
	{ T "dev1/jobs/get/accepted", TOPIC_IGNORED, 0, NULL, NULL, NULL },
	{ T "dev1/jobs/start-next/rejected", TOPIC_IGNORED, 0, NULL, NULL, NULL },
	{ T "dev1/jobs/j1/update/accepted", TOPIC_IGNORED, 0, NULL, NULL, NULL },
	{ T "dev1/jobs/j1/get/rejected", TOPIC_IGNORED, 0, NULL, NULL, NULL },
	{ T "dev1/jobs/notify", TOPIC_IGNORED, 0, NULL, NULL, NULL },
	{ T "dev1/jobs/notify-next", TOPIC_IGNORED, 0, NULL, NULL, NULL },
	{ T "dev1/jobs/notify-namespace-x", TOPIC_IGNORED, 0, NULL, NULL, NULL },
	{ T "dev1/jobs/notify-next-namespace-x", TOPIC_IGNORED, 0, NULL, NULL, NULL },
	{ T "bad thing/jobs/get/accepted", TOPIC_IGNORED, 0, NULL, NULL, NULL },
	/* not ours */
	{ T "dev1/shadow/get", TOPIC_NOT_JOBS, 0, NULL, NULL, NULL },
	{ T "dev1/jobsx/get", TOPIC_NOT_JOBS, 0, NULL, NULL, NULL },
	{ T "dev1", TOPIC_NOT_JOBS, 0, NULL, NULL, NULL },
	{ "$aws/thing/dev1/jobs/get", TOPIC_NOT_JOBS, 0, NULL, NULL, NULL },
	{ "sensors/dev1/jobs/get", TOPIC_NOT_JOBS, 0, NULL, NULL, NULL },
	/* under the jobs namespace but no operation */
	{ T "dev1/jobs", TOPIC_INVALID, 0, NULL, NULL, NULL },
	{ T "dev1/jobs/", TOPIC_INVALID, 0, NULL, NULL, NULL },
	{ T "dev1/jobs/list", TOPIC_INVALID, 0, NULL, NULL, NULL },
	{ T "dev1/jobs/j1", TOPIC_INVALID, 0, NULL, NULL, NULL },
	{ T "dev1/jobs/j1/delete", TOPIC_INVALID, 0, NULL, NULL, NULL },
	{ T "dev1/jobs/$next/update", TOPIC_INVALID, 0, NULL, NULL, NULL },
	{ T "dev1/jobs/j.1/get", TOPIC_INVALID, 0, NULL, NULL, NULL },
	{ T "dev1/jobs/j:1/get", TOPIC_INVALID, 0, NULL, NULL, NULL },
	{ T "dev1/jobs//get", TOPIC_INVALID, 0, NULL, NULL, NULL },
	{ T "dev1/jobs/j1/get/extra", TOPIC_INVALID, 0, NULL, NULL, NULL },
	{ T "dev1/jobs/j1/get/a/b", TOPIC_INVALID, 0, NULL, NULL, NULL },
	{ T "dev1/jobs/j1/ns-x/get", TOPIC_INVALID, 0, NULL, NULL, NULL },
	{ T "dev1/jobs/j1/namespace-/get", TOPIC_INVALID, 0, NULL, NULL, NULL },
	{ T "dev1/jobs/j1/namespace-a.b/get", TOPIC_INVALID, 0, NULL, NULL, NULL },
	{ T "/jobs/get", TOPIC_INVALID, 0, NULL, NULL, NULL },
	{ T "dev 1/jobs/get", TOPIC_INVALID, 0, NULL, NULL, NULL },
	{ T "dev.1/jobs/get", TOPIC_INVALID, 0, NULL, NULL, NULL },
	{ T "dev1/jobs/start-next/x", TOPIC_INVALID, 0, NULL, NULL, NULL },
};

static void test_table(void)
{
	for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++){
		const struct topic_case *c = &cases[i];
		struct jobs_topic t;
		enum topic_kind kind = topic_parse(c->topic, &t);
		CU_ASSERT_EQUAL(kind, c->kind);
		if(kind != c->kind){
			fprintf(stderr, "\n  topic %s: kind %d, expected %d\n", c->topic, kind, c->kind);
			continue;
		}
		if(kind == TOPIC_REQUEST){
			CU_ASSERT_EQUAL(t.op, c->op);
			CU_ASSERT_STRING_EQUAL(t.thing, c->thing);
			CU_ASSERT_STRING_EQUAL(t.job_id, c->job_id);
			CU_ASSERT_STRING_EQUAL(t.namespace_id, c->ns);
		}
	}
}

/* Builds "$aws/things/<thing of n chars>/jobs/<job of m chars>/get". */
static enum topic_kind parse_sized(size_t thing_len, size_t job_len, struct jobs_topic *t)
{
	char topic[700];
	char thing[300], job[300];
	memset(thing, 'a', thing_len);
	thing[thing_len] = '\0';
	memset(job, 'b', job_len);
	job[job_len] = '\0';
	snprintf(topic, sizeof(topic), T "%s/jobs/%s/get", thing, job);
	return topic_parse(topic, t);
}

static void test_name_limits(void)
{
	struct jobs_topic t;
	CU_ASSERT_EQUAL(parse_sized(128, 64, &t), TOPIC_REQUEST);
	CU_ASSERT_EQUAL(strlen(t.thing), 128);
	CU_ASSERT_EQUAL(strlen(t.job_id), 64);
	CU_ASSERT_EQUAL(parse_sized(129, 64, &t), TOPIC_INVALID);
	CU_ASSERT_EQUAL(parse_sized(128, 65, &t), TOPIC_INVALID);
	CU_ASSERT_EQUAL(parse_sized(1, 1, &t), TOPIC_REQUEST);
	CU_ASSERT_EQUAL(parse_sized(250, 1, &t), TOPIC_INVALID);

	char topic[200];
	char ns[70];
	memset(ns, 'n', 64);
	ns[64] = '\0';
	snprintf(topic, sizeof(topic), T "d/jobs/j/namespace-%s/get", ns);
	CU_ASSERT_EQUAL(topic_parse(topic, &t), TOPIC_REQUEST);
	CU_ASSERT_EQUAL(strlen(t.namespace_id), 64);
	snprintf(topic, sizeof(topic), T "d/jobs/j/namespace-%sn/get", ns);
	CU_ASSERT_EQUAL(topic_parse(topic, &t), TOPIC_INVALID);
}

/* The topic of each kind of outbox message. */
static void test_build(void)
{
	char buf[64];
	struct outbox_msg m = { .kind = OUTBOX_ACCEPTED, .topic = T "d/jobs/j/update" };
	CU_ASSERT_EQUAL(topic_build(&m, buf, sizeof(buf)), strlen(T "d/jobs/j/update/accepted"));
	CU_ASSERT_STRING_EQUAL(buf, T "d/jobs/j/update/accepted");
	m.kind = OUTBOX_REJECTED;
	topic_build(&m, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, T "d/jobs/j/update/rejected");
	m = (struct outbox_msg){ .kind = OUTBOX_RESPONSE, .topic = JOBS_CONTROL_RESPONSE_TOPIC };
	topic_build(&m, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, JOBS_CONTROL_RESPONSE_TOPIC);
	m = (struct outbox_msg){ .kind = OUTBOX_NOTIFY, .thing = "d", .namespace_id = "" };
	topic_build(&m, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, T "d/jobs/notify");
	m.kind = OUTBOX_NOTIFY_NEXT;
	m.namespace_id = "ns";
	topic_build(&m, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, T "d/jobs/notify-next-namespace-ns");
	/* too long for the buffer: cut, and the length it needs returned */
	char small[8];
	CU_ASSERT_EQUAL(topic_build(&m, small, sizeof(small)), strlen(T "d/jobs/notify-next-namespace-ns"));
	CU_ASSERT_EQUAL(strlen(small), sizeof(small) - 1);
	/* the thing of a jobs topic */
	char thing[16];
	CU_ASSERT_TRUE(topic_thing(T "t1/jobs/get/accepted", thing, sizeof(thing)));
	CU_ASSERT_STRING_EQUAL(thing, "t1");
	CU_ASSERT_PTR_NULL(topic_things_rest("$aws/thing/t1/jobs/get"));
}

void add_topic_tests(void)
{
	static const struct test_entry tests[] = {
		{ "topic table", test_table },
		{ "name length limits", test_name_limits },
		{ "topics of outgoing messages", test_build },
	};
	ADD_SUITE("topic", tests);
}
