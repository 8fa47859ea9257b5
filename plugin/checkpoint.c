/* WAL checkpoints off the broker's thread: a PASSIVE checkpoint every
 * CHECKPOINT_INTERVAL_MS, which never blocks the writer and keeps the database file
 * close behind the WAL. SQLite rewinds the WAL only after a checkpoint that caught up
 * completely, which passive ones never quite do under a steady stream of writes; so
 * once the WAL passes REWIND_FRAMES the thread also tries a RESTART checkpoint right
 * after the passive one, without waiting: it succeeds when the broker's thread is
 * between two transactions, copies the few frames written since, and rewinds the WAL.
 * The broker's next write waits only for those frames. Under a load that never leaves
 * such a gap the WAL keeps growing until the load eases: rewinding it on the broker's
 * thread instead would stall every client for the fdatasync of the copy (measured:
 * 0.5-1.1 s every few seconds), which is worse. */
#include "checkpoint.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#define CHECKPOINT_INTERVAL_MS 50
#define REWIND_FRAMES 4096   /* 16 MB of 4 KB pages */
#define CAUGHT_UP_FRAMES 64  /* what a RESTART may have left to copy */

struct checkpointer {
	sqlite3 *db;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop;
};

static void *run(void *arg)
{
	struct checkpointer *cp = arg;
	pthread_mutex_lock(&cp->lock);
	while(!cp->stop){
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += CHECKPOINT_INTERVAL_MS * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&cp->wake, &cp->lock, &until);
		pthread_mutex_unlock(&cp->lock);
		int frames = 0, copied = 0;
		/* RESTART holds the writer lock while it copies what the passive checkpoint left:
		 * tried only once that is a handful of frames (after a burst, such as a fan-out
		 * of 100,000 executions, a RESTART that copied 60 MB held the broker's thread
		 * 95 ms). */
		if(sqlite3_wal_checkpoint_v2(cp->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &frames, &copied) == SQLITE_OK
				&& frames > REWIND_FRAMES && frames - copied <= CAUGHT_UP_FRAMES){
			sqlite3_wal_checkpoint_v2(cp->db, NULL, SQLITE_CHECKPOINT_RESTART, NULL, NULL);
		}
		pthread_mutex_lock(&cp->lock);
	}
	pthread_mutex_unlock(&cp->lock);
	return NULL;
}

struct checkpointer *checkpointer_start(const char *path)
{
	struct checkpointer *cp = calloc(1, sizeof(*cp));
	if(!cp) return NULL;
	if(sqlite3_open_v2(path, &cp->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK){
		sqlite3_close(cp->db);
		free(cp);
		return NULL;
	}
	pthread_mutex_init(&cp->lock, NULL);
	pthread_cond_init(&cp->wake, NULL);
	if(pthread_create(&cp->thread, NULL, run, cp) != 0){
		pthread_cond_destroy(&cp->wake);
		pthread_mutex_destroy(&cp->lock);
		sqlite3_close(cp->db);
		free(cp);
		return NULL;
	}
	return cp;
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
	pthread_cond_destroy(&cp->wake);
	pthread_mutex_destroy(&cp->lock);
	free(cp);
}
