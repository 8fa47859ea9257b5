/* The transaction every change runs in, one way for every way in (device requests,
 * management commands, the tick): begin; change the store, touching the things whose
 * notifications may change and gathering the jobs events (events.h); then commit,
 * appending those notifications and events first, or abort. */
#ifndef MOSQUITTO_JOBS_TXN_H
#define MOSQUITTO_JOBS_TXN_H

#include <stdint.h>

#include "core/outbox.h"

struct service;

/* Returns 0, or -1 when the store cannot begin. */
int txn_begin(struct service *svc);
/* Appends the notifications of the touched things (at `now`, epoch seconds) and the
 * events gathered, and commits. Returns 0, or -1 when either failed (a failed notification rolls the
 * changes back; the caller drops what it appended since it began). */
int txn_commit(struct service *svc, int64_t now, struct outbox *ob);
/* Forgets the touched things and the events gathered, and rolls the changes back. */
void txn_abort(struct service *svc);

#endif
