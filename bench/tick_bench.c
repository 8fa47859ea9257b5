/* Measures the timer tick (issue: "the tick stays cheap").
 *
 *   tick_bench [N]      (default 1000000)
 *
 * Builds a database with N IN_PROGRESS executions (N things, one job) whose
 * in-progress deadlines all fall at the same instant, then measures, on the real
 * jobs core:
 *   - the tick before anything is due (the cost Mosquitto pays on every loop pass);
 *   - the ticks after the deadline: how long the longest one blocks, and how many
 *     timers per second expire, each with its TIMED_OUT write and notifications
 *     (with the plugin's monotonic clock, so each tick works for its time budget).
 * Prints one line per figure. Not a test: the machine's load changes the numbers. */
#include <sqlite3.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/service.h"

static double seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t monotonic_ms(void *ctx)
{
	(void)ctx;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct service *open_service(const char *path)
{
	struct jobs_config cfg;
	char err[512];
	struct jobs_option opts[] = { { "db_path", path } };
	struct service *svc = NULL;
	if(config_parse(opts, 1, &cfg, err, sizeof(err)) || service_create(&cfg, 0, NULL, NULL, &svc, err, sizeof(err))){
		fprintf(stderr, "tick_bench: %s\n", err);
		exit(1);
	}
	config_free(&cfg);
	return svc;
}

static void fill(const char *path, long n, long long deadline_ms)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	if(sqlite3_open(path, &db) != SQLITE_OK) exit(1);
	sqlite3_exec(db, "PRAGMA synchronous=OFF; BEGIN;"
		"INSERT INTO jobs(job_id, status, document, targets, created_at, last_updated_at, timeout_minutes)"
		" VALUES('bench', 0, '{}', '[]', 1, 1, 1);", NULL, NULL, NULL);
	sqlite3_prepare_v2(db, "INSERT INTO executions(thing, job_seq, execution_number, namespace_id, status,"
		" queued_at, started_at, last_updated_at, version, progress_deadline_ms, deadline_ms)"
		" VALUES(?1, 1, 1, '', 0, 1, 1, 1, 2, ?2, ?2)", -1, &st, NULL);
	for(long i = 0; i < n; i++){
		char thing[32];
		snprintf(thing, sizeof(thing), "thing-%07ld", i);
		sqlite3_bind_text(st, 1, thing, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, deadline_ms);
		sqlite3_step(st);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	sqlite3_exec(db, "COMMIT;", NULL, NULL, NULL);
	sqlite3_close(db);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	char path[64];
	snprintf(path, sizeof(path), "/tmp/tick-bench-%d.db", (int)getpid());
	const long long deadline = 1800000000000LL;

	service_destroy(open_service(path)); /* creates the schema */
	double t0 = seconds();
	fill(path, n, deadline);
	printf("setup: %ld in-progress executions with due timers in %.1f s\n", n, seconds() - t0);

	struct service *svc = open_service(path);
	/* as the plugin runs it: a tick works off a backlog for up to its time budget */
	service_set_clock(svc, monotonic_ms, NULL);
	struct outbox ob = { 0 };

	/* Nothing due yet: the first tick reads the next deadline from the index, the
	 * rest return at once. */
	service_tick(svc, deadline - 60000, &ob);
	const long idle = 10000000;
	t0 = seconds();
	for(long i = 0; i < idle; i++) service_tick(svc, deadline - 60000 + i % 1000, &ob);
	printf("idle tick: %.1f ns per call (%ld calls, outbox %zu)\n", (seconds() - t0) * 1e9 / idle, idle, ob.count);

	/* Everything due: ticks until the backlog is gone. */
	long ticks = 0, expired = 0, worst_at = 0, over_10ms = 0;
	double worst = 0, total = 0;
	char wal[80];
	snprintf(wal, sizeof(wal), "%s-wal", path);
	off_t wal_most = 0;
	for(;;){
		double s = seconds();
		service_tick(svc, deadline + 1, &ob);
		double d = seconds() - s;
		if(ob.count == 0) break;
		expired += (long)(ob.count / 2);   /* notify + notify-next per expired timer */
		outbox_clear(&ob);
		total += d;
		if(d > worst){
			worst = d;
			worst_at = ticks;
		}
		over_10ms += d > 0.010;
		ticks++;
		struct stat st;
		if(stat(wal, &st) == 0 && st.st_size > wal_most) wal_most = st.st_size;
	}
	printf("due ticks: %ld ticks expired %ld timers in %.2f s: %.0f timers/s, mean tick %.2f ms,"
			" worst %.2f ms (tick #%ld), %ld ticks over 10 ms\n",
			ticks, expired, total, expired / total, total / ticks * 1e3, worst * 1e3, worst_at, over_10ms);
	printf("WAL file at most %.1f MB\n", (double)wal_most / 1e6);
	service_destroy(svc);
	char p[80];
	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
	return 0;
}
