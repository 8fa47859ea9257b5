/* The messages a service call wants published. The service appends; the adapter
 * publishes each entry after the service call returns (so after its commit) and then
 * clears the outbox. The outbox owns every string in it. */
#ifndef MOSQUITTO_JOBS_OUTBOX_H
#define MOSQUITTO_JOBS_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct outbox_msg {
	char *client_id;  /* deliver to this client only; NULL: to every subscriber */
	char *topic;
	char *payload;
	size_t payload_len;
	int qos;
	void *correlation;   /* MQTT 5 correlation data to attach; NULL when none */
	size_t correlation_len;
	/* Test controls (testctl.h) only; zero otherwise: */
	int64_t not_before_ms;  /* publish at this epoch ms, not before (a delayed reply) */
	bool withheld;          /* not to be published (a dropped reply); still reported as sent */
	const char *fault;      /* the fault applied to this reply (a static name), or NULL */
};

struct outbox {
	struct outbox_msg *msgs;
	size_t count;
	size_t cap;
};

/* Appends a message. Takes ownership of `payload` (malloc'd) in every case, copies
 * the strings. Returns 0, or -1 when out of memory (payload is then freed). */
int outbox_add(struct outbox *ob, const char *client_id, const char *topic,
		char *payload, size_t payload_len, int qos);
/* Gives the last message appended MQTT 5 correlation data (copied). Returns 0, or -1
 * when out of memory. */
int outbox_set_correlation(struct outbox *ob, const void *data, size_t len);
/* Drops every message appended after `mark` (a previous ob->count): used when the
 * transaction that produced them rolled back. */
void outbox_truncate(struct outbox *ob, size_t mark);
/* Frees every message whose not_before_ms is at most now_ms and keeps the others, in
 * order (the adapter has published the due ones). */
void outbox_retain_later(struct outbox *ob, int64_t now_ms);
/* Frees every message and the array; the outbox can be reused. */
void outbox_clear(struct outbox *ob);

#endif
