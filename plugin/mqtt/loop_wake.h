/* Waking the broker's loop when the store's answer arrives.
 *
 * Mosquitto 2.0 sleeps up to 100 ms in epoll_wait between passes and wakes only for its
 * own sockets; a plugin cannot add one. So a reply held for a PostgreSQL commit would go
 * out up to 100 ms after the commit on an idle broker. The wake-up: a thread of the
 * plugin holds an MQTT connection of its own to one of the broker's listeners (raw
 * packets: CONNECT once, then a PINGREQ per wake-up; libmosquitto's symbols would clash
 * with the broker's), watches the socket the store awaits answers on (store_watch), and
 * when it becomes readable sends a PINGREQ: epoll_wait returns, the pass runs its tick,
 * and the tick reads the answer. The thread never reads the store's socket and touches
 * nothing of the broker but its own TCP connection.
 *
 * The listener is found among the process's listening TCP sockets (/proc), each tried
 * with an anonymous CONNECT until one answers CONNACK 0: a broker whose every listener
 * needs credentials or TLS gets no wake-up (logged once), and replies then go out at
 * the next pass, as without it. */
#ifndef MOSQUITTO_JOBS_LOOP_WAKE_H
#define MOSQUITTO_JOBS_LOOP_WAKE_H

#include <stdbool.h>

/* What the thread watches: the store's socket (-1: none now) and a count the store
 * bumps each time the broker's thread has read it (so one readable moment wakes the
 * loop once). Called from the wake-up's thread: must be thread-safe. */
typedef void (*loop_wake_watch_fn)(void *ctx, int *fd, unsigned *reads);
/* A line for the broker's log, from the wake-up's thread (Mosquitto's log is safe to
 * call from any thread). */
typedef void (*loop_wake_log_fn)(int level_err, const char *line);

struct loop_wake;

/* Starts the thread (which finds a listener by itself). NULL when out of memory or
 * threads. */
struct loop_wake *loop_wake_start(loop_wake_watch_fn watch, void *ctx, loop_wake_log_fn log);
/* Stops the thread and closes its connection. NULL is a no-op. */
void loop_wake_stop(struct loop_wake *w);
/* How many wake-ups it sent (tests, diagnostics). */
unsigned long loop_wake_count(const struct loop_wake *w);

#endif
