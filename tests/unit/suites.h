/* Each test file adds its suites to the CUnit registry. */
#ifndef JOBS_TEST_SUITES_H
#define JOBS_TEST_SUITES_H

#include <CUnit/CUnit.h>

void add_topic_tests(void);
void add_status_tests(void);
void add_validate_tests(void);
void add_config_tests(void);
void add_store_tests(void);
void add_store_upgrade_tests(void);
void add_service_tests(void);
void add_timer_tests(void);
void add_access_tests(void);
void add_sigv4_tests(void);
void add_jsonw_tests(void);
void add_mqtt5_props_tests(void);
void add_http_pass_tests(void);
void add_pending_tests(void);
void add_limits_tests(void);
void add_testctl_tests(void);
void add_pg_store_tests(void);
void add_docparams_tests(void);
void add_cron_tests(void);
void add_events_tests(void);
void add_metrics_tests(void);

/* Removes an SQLite database file and its -wal and -shm files, where they exist. */
void remove_db_files(const char *path);
/* Writes into buf the path of a file `name` in this run's private directory (made
 * with mkdtemp under $TMPDIR or /tmp on first use, removed with its files at exit),
 * and returns buf. Aborts the run when the directory cannot be made. */
char *test_file_path(char *buf, size_t size, const char *name);

/* The MQTT topic an outbox message goes out on (mqtt/topic.c's topic_build), in one
 * of a few static buffers used in turn, so a few can be compared at once. */
struct outbox_msg;
const char *msg_topic(const struct outbox_msg *m);

/* Adds a suite with the given tests; aborts the run when the registry fails. */
struct test_entry {
	const char *name;
	CU_TestFunc fn;
};
void add_suite(const char *name, const struct test_entry *tests, size_t count);
#define ADD_SUITE(name, table) add_suite((name), (table), sizeof(table) / sizeof((table)[0]))

#endif
