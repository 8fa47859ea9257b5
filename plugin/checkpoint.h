/* A background thread that checkpoints the SQLite WAL through its own connection,
 * so the broker's thread never pays for copying the WAL into the database (SQLite's
 * automatic checkpoint would run inside whichever commit crosses 1000 pages, and
 * takes tens of milliseconds on a large database). Internal to the store. */
#ifndef MOSQUITTO_JOBS_CHECKPOINT_H
#define MOSQUITTO_JOBS_CHECKPOINT_H

struct checkpointer;

/* Starts checkpointing the database at path. Returns NULL on failure (the caller
 * then keeps SQLite's automatic checkpoints). */
struct checkpointer *checkpointer_start(const char *path);
/* Called by the broker's thread right after a commit, outside any transaction, with
 * the WAL's length in frames (SQLite's WAL hook tells it): when that is long, waits
 * (at most 10 ms) for a checkpoint of everything, so that the next transaction starts
 * the WAL over. NULL is a no-op. */
void checkpointer_catch_up(struct checkpointer *cp, int wal_frames);
/* Stops the thread after a last checkpoint. NULL is a no-op. */
void checkpointer_stop(struct checkpointer *cp);

#endif
