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
/* Stops the thread after a last checkpoint. NULL is a no-op. */
void checkpointer_stop(struct checkpointer *cp);

#endif
