/* Device notifications: `notify` when a thing's set of pending
 * executions changes, `notify-next` when the identity of its next execution does.
 * The decision is pure (notify_decide); notify_thing turns a decision into messages
 * appended to the outbox. */
#ifndef MOSQUITTO_JOBS_NOTIFY_H
#define MOSQUITTO_JOBS_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/outbox.h"

struct service;

/* Which execution `$next` is for a thing, if any. */
struct next_id {
	bool present;
	int64_t job_seq;
	int64_t execution_number;
};

struct notify_plan {
	bool notify;      /* publish JobExecutionsChanged */
	bool notify_next; /* publish NextJobExecutionChanged */
};

/* Whether a move from `from` to `to` changes the pending set; -1 stands for "no
 * execution" (created or deleted). */
bool notify_set_changed(int from, int to);
struct notify_plan notify_decide(bool set_changed, const struct next_id *before,
		const struct next_id *after);

/* Reads the thing's current next execution. Returns 0, or -1 on a store error. */
int notify_next_id(struct service *svc, const char *thing, const char *namespace_id,
		struct next_id *out);

/* After a change to one of the thing's executions: reads the new next execution,
 * decides, and appends the notifications. Returns 0, or -1 on a store error or
 * out of memory. */
int notify_thing(struct service *svc, const char *thing, const char *namespace_id,
		bool set_changed, const struct next_id *before, int64_t now, struct outbox *ob);

/* Appends the thing's current notify-next again (test controls' resendNotifyNext):
 * its next execution, or the message without one when nothing is pending. *named
 * says which. Returns 0, or -1 on a store error or out of memory. */
int notify_resend_next(struct service *svc, const char *thing, const char *namespace_id, int64_t now,
		struct outbox *ob, bool *named);

/* A scope that gathers the things a request (or a tick) changes, so each thing gets at
 * most one notify and one notify-next for the whole of it, decided by comparing its
 * state before the first change with its state at the end. Without it a retry (an
 * execution fails, a new one is queued) would tell the device "nothing pending" in
 * between, a state that never existed. */
struct notify_scope;
struct notify_scope *notify_scope_create(void);
void notify_scope_destroy(struct notify_scope *scope);

/* Before changing one of the thing's executions: remembers its next execution (on
 * the first touch) and whether its pending set changes. Returns 0, or -1 on a store
 * error or out of memory. */
int notify_touch(struct service *svc, const char *thing, const char *namespace_id, bool set_changed);
/* After the changes: appends the notifications of every touched thing and empties the
 * scope. Returns 0, or -1 (the scope is emptied all the same). */
int notify_emit(struct service *svc, int64_t now, struct outbox *ob);
/* How many things the scope holds (each costs a query and two messages at emit). */
size_t notify_touched(struct service *svc);
/* Forgets the touched things (the changes were rolled back). */
void notify_discard(struct service *svc);

#endif
