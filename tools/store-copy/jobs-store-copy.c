/* jobs-store-copy: moves an SQLite fleet to PostgreSQL (docs/scale-out.md). Copies
 * every job, execution, thing group, member, target and rollout entry of an SQLite
 * database of the plugin into a PostgreSQL database that holds none yet, as one
 * transaction, and prints what it copied. The SQLite file is only read; stop the broker
 * that uses it first, so that nothing changes after the copy. */
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "store/pg_store.h"
#include "store/store.h"

static void usage(FILE *to)
{
	fprintf(to, "usage: jobs-store-copy SQLITE_FILE postgresql://USER@HOST:PORT/DATABASE\n"
			"Copies the jobs of an SQLite database of mosquitto-jobs (plugin_opt_db_path) into an empty\n"
			"PostgreSQL database (plugin_opt_store). Stop the broker first.\n");
}

int main(int argc, char **argv)
{
	if(argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)){
		usage(stdout);
		return 0;
	}
	if(argc != 3){
		usage(stderr);
		return 2;
	}
	struct jobs_config cfg = { .db_path = "", .store_uri = argv[2], .store_timeout_ms = 30000,
		.synchronous = JOBS_SYNC_NORMAL };
	if(strncmp(argv[2], "postgresql://", 13) != 0 && strncmp(argv[2], "postgres://", 11) != 0){
		fprintf(stderr, "jobs-store-copy: %s is not a PostgreSQL connection URI (postgresql://...)\n", argv[2]);
		return 2;
	}
	struct store *store;
	char err[2048] = "";
	if(store_open(&cfg, &store, err, sizeof(err)) != STORE_OK){
		fprintf(stderr, "jobs-store-copy: %s\n", err);
		return 1;
	}
	int rc = pg_store_import(store, argv[1], err, sizeof(err));
	struct store_counts counts;
	if(rc == STORE_OK && store_counts(store, true, &counts) == STORE_OK){
		int64_t jobs = 0, execs = 0;
		for(int i = 0; i < JOB_STATUS_COUNT; i++) jobs += counts.jobs[i];
		for(int i = 0; i < EXEC_STATUS_COUNT; i++) execs += counts.executions[i];
		printf("copied %lld jobs, %lld executions (the latest of each thing and job), %lld things, %lld thing groups"
				" from %s\n", (long long)jobs, (long long)execs, (long long)counts.things, (long long)counts.groups, argv[1]);
	}
	store_close(store);
	if(rc != STORE_OK){
		fprintf(stderr, "jobs-store-copy: %s\n", err);
		return 1;
	}
	return 0;
}
