/* commit_rate: how many SQLite transactions per second this disk takes when each
 * commits one small update, as a store without group commit would do per request.
 * The yardstick for bench_jobs' `--synchronous full` figure (scripts/bench).
 *
 *   commit_rate [--synchronous full|normal] [--seconds S] [--dir DIR]
 *
 * Uses a WAL database like the plugin's, in DIR (default $TMPDIR or /tmp, where
 * bench_jobs keeps its own), one row updated per transaction, and prints one JSON
 * line and one line for people. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, sqlite3 *db)
{
	fprintf(stderr, "commit_rate: %s: %s\n", what, db ? sqlite3_errmsg(db) : strerror(errno));
	exit(1);
}

int main(int argc, char **argv)
{
	const char *sync = "full";
	double seconds = 5;
	const char *tmp = getenv("TMPDIR");
	const char *dir = tmp && *tmp ? tmp : "/tmp";
	for(int i = 1; i < argc; i += 2){ /* --option value */
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if(strcmp(argv[i], "--synchronous") == 0 && v && (strcmp(v, "full") == 0 || strcmp(v, "normal") == 0)) sync = v;
		else if(strcmp(argv[i], "--seconds") == 0 && v && atof(v) > 0) seconds = atof(v);
		else if(strcmp(argv[i], "--dir") == 0 && v) dir = v;
		else{
			fprintf(stderr, "usage: commit_rate [--synchronous full|normal] [--seconds S] [--dir DIR]\n");
			return 64;
		}
	}
	char path[4096];
	snprintf(path, sizeof(path), "%s/commit-rate-%d.db", dir, (int)getpid());
	sqlite3 *db;
	if(sqlite3_open(path, &db) != SQLITE_OK) die("open", db);
	char setup[256];
	snprintf(setup, sizeof(setup),
			"PRAGMA journal_mode = WAL; PRAGMA synchronous = %s;"
			"CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT NOT NULL);"
			"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100)"
			" INSERT INTO t SELECT i, 'x' FROM n;", sync);
	if(sqlite3_exec(db, setup, NULL, NULL, NULL) != SQLITE_OK) die("setup", db);
	sqlite3_stmt *st;
	if(sqlite3_prepare_v2(db, "UPDATE t SET v = ?1 WHERE id = ?2", -1, &st, NULL) != SQLITE_OK) die("prepare", db);
	char value[200];
	memset(value, 'v', sizeof(value));
	long commits = 0;
	double t0 = now_s(), t;
	do{
		/* one statement outside a transaction: SQLite commits it on its own. The value
		 * differs each time: SQLite writes nothing for a row rewritten unchanged. */
		snprintf(value, sizeof(value), "%ld", commits);
		sqlite3_bind_text(st, 1, value, sizeof(value), SQLITE_STATIC);
		sqlite3_bind_int(st, 2, (int)(commits % 100) + 1);
		if(sqlite3_step(st) != SQLITE_DONE) die("update", db);
		sqlite3_reset(st);
		commits++;
	}while((t = now_s()) - t0 < seconds);
	sqlite3_finalize(st);
	sqlite3_close(db);
	char side[4200];
	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
	double rate = (double)commits / (t - t0);
	printf("{\"scenario\":\"commits\",\"label\":\"commits-%s\",\"synchronous\":\"%s\",\"seconds\":%.3f,"
			"\"commits\":%ld,\"commits_per_s\":%.1f,\"dir\":\"%s\"}\n", sync, sync, t - t0, commits, rate, dir);
	printf("# one commit per update, synchronous %s, in %s: %.0f commits/s\n", sync, dir, rate);
	return 0;
}
