/* WAL checkpoints off the broker's thread: a PASSIVE checkpoint every
 * CHECKPOINT_INTERVAL_MS, which never blocks the writer and keeps the database file
 * close behind the WAL.
 *
 * SQLite starts the WAL over only when a transaction begins with every frame already
 * copied. Under a steady stream of writes the broker begins its next transaction
 * within microseconds of a commit, so that never happens by itself and the WAL grows
 * (400 MB in 8 s of random updates). Hence checkpointer_catch_up: right after a commit
 * that leaves the WAL longer than CHECKPOINT_REWIND_FRAMES, the broker's thread waits,
 * at most CHECKPOINT_CATCH_UP_WAIT_MS, for one checkpoint that starts after the
 * commit; with nothing written meanwhile it copies everything, and the broker's next
 * transaction starts the WAL over: once per CHECKPOINT_REWIND_FRAMES frames written,
 * a pause of a few milliseconds.
 * A checkpoint that takes longer goes on without the broker, and the next commit after
 * it tries again with less to copy. Measured: a RESTART checkpoint instead held the
 * writer lock through an fdatasync of the WAL (about 100 ms every second under random
 * updates of 1M executions).
 *
 * The connection must have read the database before its first checkpoint: until then
 * it does not know the database is in WAL mode, and a checkpoint does nothing. */
#include "store/sqlite_checkpoint.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#define CHECKPOINT_INTERVAL_MS 50

struct checkpointer {
	sqlite3 *db;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;        /* to the thread: stop, or checkpoint now */
	pthread_cond_t finished;    /* from the thread: a checkpoint ended */
	bool stop;
	bool now;                   /* a checkpoint is wanted at once */
	bool running;               /* one is under way */
	unsigned long done;         /* checkpoints ended */
	long wait_ms;               /* the longest wait of a catch-up */
	unsigned long catch_ups, caught_up; /* struct checkpointer_stats */
};

/* `ms` from now on CLOCK_MONOTONIC, the conditions' clock (a wall clock set back
 * would stretch the waits). */
static struct timespec in_ms(long ms)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_nsec += ms * 1000000L;
	t.tv_sec += t.tv_nsec / 1000000000L;
	t.tv_nsec %= 1000000000L;
	return t;
}

static void *run(void *arg)
{
	struct checkpointer *cp = arg;
	pthread_mutex_lock(&cp->lock);
	while(!cp->stop){
		if(!cp->now){
			struct timespec until = in_ms(CHECKPOINT_INTERVAL_MS);
			pthread_cond_timedwait(&cp->wake, &cp->lock, &until);
			if(cp->stop) break;
		}
		cp->now = false;
		cp->running = true;
		pthread_mutex_unlock(&cp->lock);
		sqlite3_wal_checkpoint_v2(cp->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		pthread_mutex_lock(&cp->lock);
		cp->running = false;
		cp->done++;
		pthread_cond_broadcast(&cp->finished);
	}
	pthread_mutex_unlock(&cp->lock);
	return NULL;
}

struct checkpointer *checkpointer_start(const char *path)
{
	struct checkpointer *cp = calloc(1, sizeof(*cp));
	if(!cp) return NULL;
	/* A connection learns that the database is in WAL mode when it first reads it;
	 * until then a checkpoint does nothing (and says -1 frames). */
	if(sqlite3_open_v2(path, &cp->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK
			|| sqlite3_exec(cp->db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL) != SQLITE_OK){
		sqlite3_close(cp->db);
		free(cp);
		return NULL;
	}
	cp->wait_ms = CHECKPOINT_CATCH_UP_WAIT_MS;
	pthread_mutex_init(&cp->lock, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&cp->wake, &attr);
	pthread_cond_init(&cp->finished, &attr);
	pthread_condattr_destroy(&attr);
	if(pthread_create(&cp->thread, NULL, run, cp) != 0){
		pthread_cond_destroy(&cp->finished);
		pthread_cond_destroy(&cp->wake);
		pthread_mutex_destroy(&cp->lock);
		sqlite3_close(cp->db);
		free(cp);
		return NULL;
	}
	return cp;
}

void checkpointer_catch_up(struct checkpointer *cp, int wal_frames)
{
	if(!cp || wal_frames <= CHECKPOINT_REWIND_FRAMES) return;
	pthread_mutex_lock(&cp->lock);
	/* Not while a checkpoint runs: it may have started before this commit, and would
	 * be waited for with the next one. Once it ends, the next commit tries again, with
	 * less to copy. */
	if(!cp->running && !cp->stop){
		unsigned long target = cp->done + 1;
		cp->now = true;
		pthread_cond_signal(&cp->wake);
		struct timespec until = in_ms(cp->wait_ms);
		while(cp->done < target && !cp->stop){
			if(pthread_cond_timedwait(&cp->finished, &cp->lock, &until) != 0) break;
		}
		cp->catch_ups++;
		if(cp->done >= target) cp->caught_up++;
	}
	pthread_mutex_unlock(&cp->lock);
}

void checkpointer_set_wait(struct checkpointer *cp, int ms)
{
	if(!cp) return;
	pthread_mutex_lock(&cp->lock);
	cp->wait_ms = ms;
	pthread_mutex_unlock(&cp->lock);
}

void checkpointer_stats(struct checkpointer *cp, struct checkpointer_stats *out)
{
	*out = (struct checkpointer_stats){ 0 };
	if(!cp) return;
	pthread_mutex_lock(&cp->lock);
	out->checkpoints = cp->done;
	out->catch_ups = cp->catch_ups;
	out->caught_up = cp->caught_up;
	pthread_mutex_unlock(&cp->lock);
}

void checkpointer_stop(struct checkpointer *cp)
{
	if(!cp) return;
	pthread_mutex_lock(&cp->lock);
	cp->stop = true;
	pthread_cond_signal(&cp->wake);
	pthread_mutex_unlock(&cp->lock);
	pthread_join(cp->thread, NULL);
	sqlite3_wal_checkpoint_v2(cp->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	sqlite3_close(cp->db);
	pthread_cond_destroy(&cp->finished);
	pthread_cond_destroy(&cp->wake);
	pthread_mutex_destroy(&cp->lock);
	free(cp);
}
