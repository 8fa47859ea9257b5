/* CUnit runner for the jobs core: no broker, in-memory or temporary SQLite. */
#include <CUnit/Basic.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "suites.h"
#include "mqtt/topic.h"

/* JOBS_ASSERTS: this build's flags (the core's too) must keep assert() on. */
#if defined(JOBS_ASSERTS_ON) && defined(NDEBUG)
#error "JOBS_ASSERTS is on but NDEBUG is defined: assert() would be off"
#endif

void add_suite(const char *name, const struct test_entry *tests, size_t count)
{
	CU_pSuite suite = CU_add_suite(name, NULL, NULL);
	if(!suite){
		fprintf(stderr, "cannot add suite %s\n", name);
		exit(2);
	}
	for(size_t i = 0; i < count; i++){
		if(!CU_add_test(suite, tests[i].name, tests[i].fn)){
			fprintf(stderr, "cannot add test %s\n", tests[i].name);
			exit(2);
		}
	}
}

void remove_db_files(const char *path)
{
	char p[4200];
	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

static char private_dir[4096];

/* Removes the private directory and whatever a test left in it. */
static void remove_private_dir(void)
{
	if(!private_dir[0]) return;
	DIR *d = opendir(private_dir);
	if(d){
		struct dirent *e;
		char p[8192];
		while((e = readdir(d))){
			if(e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2]))) continue;
			snprintf(p, sizeof(p), "%s/%s", private_dir, e->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(private_dir);
}

char *test_file_path(char *buf, size_t size, const char *name)
{
	if(!private_dir[0]){
		const char *tmp = getenv("TMPDIR");
		snprintf(private_dir, sizeof(private_dir), "%s/jobs-unit-XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if(!mkdtemp(private_dir)){
			perror("mkdtemp");
			exit(2);
		}
		atexit(remove_private_dir);
	}
	if((size_t)snprintf(buf, size, "%s/%s", private_dir, name) >= size){
		fprintf(stderr, "test file path too long: %s/%s\n", private_dir, name);
		exit(2);
	}
	return buf;
}

int main(void)
{
	if(CU_initialize_registry() != CUE_SUCCESS) return 2;
	add_topic_tests();
	add_status_tests();
	add_validate_tests();
	add_config_tests();
	add_store_tests();
	add_store_upgrade_tests();
	add_service_tests();
	add_timer_tests();
	add_access_tests();
	add_sigv4_tests();
	add_jsonw_tests();
	add_mqtt5_props_tests();
	add_http_pass_tests();
	add_pending_tests();
	add_limits_tests();
	add_testctl_tests();
	add_pg_store_tests();
	add_docparams_tests();
	add_cron_tests();
	add_events_tests();
	add_metrics_tests();
	CU_basic_set_mode(CU_BRM_NORMAL);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}

const char *msg_topic(const struct outbox_msg *m)
{
	static char bufs[8][1024];
	static unsigned next;
	char *buf = bufs[next++ % 8];
	topic_build(m, buf, sizeof(bufs[0]));
	return buf;
}
