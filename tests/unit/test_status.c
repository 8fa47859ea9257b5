/* Status names and the device transition table. */
#include <string.h>

#include "core/notify.h"
#include "core/status.h"
#include "suites.h"

static void test_names_round_trip(void)
{
	const char *wire[] = { "QUEUED", "IN_PROGRESS", "SUCCEEDED", "FAILED", "TIMED_OUT",
		"REJECTED", "REMOVED", "CANCELED" };
	for(size_t i = 0; i < sizeof(wire) / sizeof(wire[0]); i++){
		enum exec_status s;
		CU_ASSERT_TRUE(status_parse(wire[i], &s));
		CU_ASSERT_STRING_EQUAL(status_name(s), wire[i]);
	}
	enum exec_status s;
	CU_ASSERT_FALSE(status_parse("SUCCESS", &s));
	CU_ASSERT_FALSE(status_parse("queued", &s));
	CU_ASSERT_FALSE(status_parse("", &s));
	CU_ASSERT_STRING_EQUAL(status_name(-1), "UNKNOWN");
	CU_ASSERT_STRING_EQUAL(status_name(EXEC_STATUS_COUNT), "UNKNOWN");
}

/* Every (from, to) pair against the table of docs/protocol.md. */
static void test_device_transitions(void)
{
	for(int from = 0; from < EXEC_STATUS_COUNT; from++){
		for(int to = 0; to < EXEC_STATUS_COUNT; to++){
			bool device_target = to == EXEC_IN_PROGRESS || to == EXEC_SUCCEEDED
				|| to == EXEC_FAILED || to == EXEC_REJECTED;
			bool expected = status_is_pending(from) && device_target;
			CU_ASSERT_EQUAL(status_device_may_move(from, to), expected);
		}
	}
	CU_ASSERT_FALSE(status_device_may_move(-1, EXEC_IN_PROGRESS));
	CU_ASSERT_FALSE(status_device_may_move(EXEC_QUEUED, 99));
}

static void test_classes(void)
{
	CU_ASSERT_TRUE(status_is_pending(EXEC_QUEUED));
	CU_ASSERT_TRUE(status_is_pending(EXEC_IN_PROGRESS));
	for(int s = EXEC_SUCCEEDED; s < EXEC_STATUS_COUNT; s++){
		CU_ASSERT_TRUE(status_is_terminal(s));
		CU_ASSERT_FALSE(status_is_pending(s));
	}
	CU_ASSERT_FALSE(status_is_terminal(EXEC_QUEUED));
	CU_ASSERT_FALSE(status_device_may_set(EXEC_QUEUED));
	CU_ASSERT_FALSE(status_device_may_set(EXEC_TIMED_OUT));
	CU_ASSERT_FALSE(status_device_may_set(EXEC_CANCELED));
	CU_ASSERT_FALSE(status_device_may_set(EXEC_REMOVED));
	CU_ASSERT_TRUE(status_device_may_set(EXEC_REJECTED));
}

static void test_notify_decisions(void)
{
	struct next_id none = { 0 };
	struct next_id a = { true, 1, 1 }, a2 = { true, 1, 2 }, b = { true, 2, 1 };
	/* pending-set membership */
	CU_ASSERT_TRUE(notify_set_changed(-1, EXEC_QUEUED));
	CU_ASSERT_FALSE(notify_set_changed(EXEC_QUEUED, EXEC_IN_PROGRESS));
	CU_ASSERT_FALSE(notify_set_changed(EXEC_IN_PROGRESS, EXEC_IN_PROGRESS));
	CU_ASSERT_TRUE(notify_set_changed(EXEC_IN_PROGRESS, EXEC_SUCCEEDED));
	CU_ASSERT_TRUE(notify_set_changed(EXEC_QUEUED, EXEC_CANCELED));
	CU_ASSERT_FALSE(notify_set_changed(EXEC_SUCCEEDED, EXEC_CANCELED));
	/* next identity */
	struct notify_plan p = notify_decide(true, &none, &a);
	CU_ASSERT_TRUE(p.notify);
	CU_ASSERT_TRUE(p.notify_next);
	p = notify_decide(true, &a, &a);
	CU_ASSERT_TRUE(p.notify);
	CU_ASSERT_FALSE(p.notify_next);
	p = notify_decide(false, &a, &b);
	CU_ASSERT_FALSE(p.notify);
	CU_ASSERT_TRUE(p.notify_next);
	p = notify_decide(true, &a, &a2);
	CU_ASSERT_TRUE(p.notify_next);
	p = notify_decide(true, &a, &none);
	CU_ASSERT_TRUE(p.notify_next);
	p = notify_decide(false, &none, &none);
	CU_ASSERT_FALSE(p.notify);
	CU_ASSERT_FALSE(p.notify_next);
}

void add_status_tests(void)
{
	static const struct test_entry tests[] = {
		{ "names round trip", test_names_round_trip },
		{ "device transition table", test_device_transitions },
		{ "pending and terminal classes", test_classes },
		{ "notification decisions", test_notify_decisions },
	};
	ADD_SUITE("status", tests);
}
