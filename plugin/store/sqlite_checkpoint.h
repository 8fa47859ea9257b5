/* A background thread that checkpoints the SQLite WAL through its own connection,
 * so the broker's thread never pays for copying the WAL into the database (SQLite's
 * automatic checkpoint would run inside whichever commit crosses 1000 pages, and
 * takes tens of milliseconds on a large database). Internal to the SQLite store. */
#ifndef MOSQUITTO_JOBS_SQLITE_CHECKPOINT_H
#define MOSQUITTO_JOBS_SQLITE_CHECKPOINT_H

struct checkpointer;

/* A commit that leaves the WAL longer than this many frames waits for a checkpoint. */
#define CHECKPOINT_REWIND_FRAMES 4096  /* 16 MB of 4 KB pages */
/* How long it waits at most, unless checkpointer_set_wait says otherwise. */
#define CHECKPOINT_CATCH_UP_WAIT_MS 10

/* What the thread and the catch-ups have done so far (sqlite_store_wal_stats). */
struct checkpointer_stats {
	unsigned long checkpoints;  /* checkpoints ended */
	unsigned long catch_ups;    /* waits of checkpointer_catch_up for a checkpoint */
	unsigned long caught_up;    /* ... that saw it end */
};

/* Starts checkpointing the database at path. Returns NULL on failure (the caller
 * then keeps SQLite's automatic checkpoints). */
struct checkpointer *checkpointer_start(const char *path);
/* Called by the broker's thread right after a commit, outside any transaction, with
 * the WAL's length in frames (SQLite's WAL hook tells it): when that is long, waits
 * (at most 10 ms) for a checkpoint of everything, so that the next transaction starts
 * the WAL over. NULL is a no-op. */
void checkpointer_catch_up(struct checkpointer *cp, int wal_frames);
/* Sets the longest wait of checkpointer_catch_up (a test on a busy machine lets it
 * wait long enough to see each checkpoint end). NULL is a no-op. */
void checkpointer_set_wait(struct checkpointer *cp, int ms);
/* Copies the counters into *out (all zero for NULL). */
void checkpointer_stats(struct checkpointer *cp, struct checkpointer_stats *out);
/* Stops the thread after a last checkpoint. NULL is a no-op. */
void checkpointer_stop(struct checkpointer *cp);

#endif
