/* The messages a service call wants published. The service (notifications) and the
 * adapters (replies, management responses) append; the adapter publishes each entry
 * after the service call returns (so after its commit) and then clears the outbox,
 * but for the messages held: those of a batch whose commit is not known yet
 * (held_by, service.h), which wait until the service frees them.
 *
 * A message says what it is and whom it is for, not where it goes: the MQTT adapter
 * builds its topic (mqtt/topic.c). The outbox owns every string in it. */
#ifndef MOSQUITTO_JOBS_OUTBOX_H
#define MOSQUITTO_JOBS_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum outbox_kind {
	OUTBOX_ACCEPTED,     /* a device request's accepted reply */
	OUTBOX_REJECTED,     /* a device request's rejected reply */
	OUTBOX_RESPONSE,     /* a management request's response */
	OUTBOX_NOTIFY,       /* JobExecutionsChanged for a thing */
	OUTBOX_NOTIFY_NEXT,  /* NextJobExecutionChanged for a thing */
	OUTBOX_JOB_EVENT,    /* a jobs event about a job (core/events.h) */
	OUTBOX_EXECUTION_EVENT, /* a jobs event about one of a job's executions */
};

/* What a message is and whom it is for; the strings are copied. */
struct outbox_addr {
	enum outbox_kind kind;
	const char *client_id;     /* replies and responses: the requester; NULL: every subscriber */
	const char *topic;         /* replies: the request's topic; responses: the topic to answer on */
	const char *thing;         /* notifications: the thing */
	const char *namespace_id;  /* notifications: its namespace, "" for none */
	const char *client_token;  /* replies: the request's clientToken; NULL when none */
	const char *job_id;        /* events: the job */
	const char *event;         /* events: the operation ("completed", ...), a static string */
	int qos;
};

struct outbox_msg {
	enum outbox_kind kind;
	char *client_id;     /* deliver to this client only; NULL: to every subscriber */
	char *topic;         /* see outbox_addr; NULL for notifications */
	char *thing;         /* notifications only, else NULL */
	char *namespace_id;  /* notifications only, else NULL */
	char *client_token;  /* replies only; NULL when none */
	char *job_id;        /* events only, else NULL */
	const char *event;   /* events only (a static string), else NULL */
	char *strings;       /* the one block the strings above live in */
	char *payload;
	size_t payload_len;
	int qos;
	void *correlation;   /* MQTT 5 correlation data to attach; NULL when none */
	size_t correlation_len;
	/* Test controls (testctl.h) only; zero otherwise: */
	int64_t not_before_ms;  /* publish at this epoch ms, not before (a delayed reply) */
	bool withheld;          /* not to be published (a dropped reply); still reported as sent */
	const char *fault;      /* the fault applied to this reply (a static name), or NULL */
	/* The batch (service.h's batch number) whose commit the message waits for: not to
	 * be published before the service frees it (0: free). */
	uint64_t held_by;
	/* For the metrics' reply latency: when the adapter saw the request this message
	 * answers (its monotonic µs, metrics.h); 0: not measured. */
	int64_t seen_us;
};

struct outbox {
	struct outbox_msg *msgs;
	size_t count;
	size_t cap;
};

/* Appends a message. Takes ownership of `payload` (malloc'd) in every case, copies
 * the strings of `a`. Returns 0, or -1 when out of memory (payload is then freed). */
int outbox_add(struct outbox *ob, const struct outbox_addr *a, char *payload, size_t payload_len);
/* Appends a copy of message i (payload, correlation and test-control marks too).
 * Returns 0, or -1 when out of memory. */
int outbox_copy(struct outbox *ob, size_t i);
/* Gives the last message appended MQTT 5 correlation data (copied). Returns 0, or -1
 * when out of memory. */
int outbox_set_correlation(struct outbox *ob, const void *data, size_t len);
/* Replaces message i's payload (takes ownership of `payload`, malloc'd). */
void outbox_set_payload(struct outbox *ob, size_t i, char *payload, size_t payload_len);
/* Drops every message appended after `mark` (a previous ob->count): used when the
 * transaction that produced them rolled back. */
void outbox_truncate(struct outbox *ob, size_t mark);
/* Holds the messages appended after `mark` for `batch` (held_by). */
void outbox_hold(struct outbox *ob, size_t mark, uint64_t batch);
/* Frees the messages `batch` holds. */
void outbox_release(struct outbox *ob, uint64_t batch);
/* Drops the notifications (and events) `batch` holds, keeping the other messages in
 * order. */
void outbox_drop_notifications(struct outbox *ob, uint64_t batch);
/* Frees every free message whose not_before_ms is at most now_ms and keeps the others
 * (held ones, later ones), in order (the adapter has published the due free ones). */
void outbox_retain_later(struct outbox *ob, int64_t now_ms);
/* Frees every message and the array; the outbox can be reused. */
void outbox_clear(struct outbox *ob);

#endif
