/* Growable list of messages to publish. */
#include "core/outbox.h"

#include <stdlib.h>
#include <string.h>

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void msg_free(struct outbox_msg *m)
{
	free(m->client_id);
	free(m->topic);
	free(m->payload);
	free(m->correlation);
}

int outbox_add(struct outbox *ob, const char *client_id, const char *topic,
		char *payload, size_t payload_len, int qos)
{
	if(ob->count == ob->cap){
		size_t cap = ob->cap ? ob->cap * 2 : 8;
		struct outbox_msg *msgs = realloc(ob->msgs, cap * sizeof(*msgs));
		if(!msgs){
			free(payload);
			return -1;
		}
		ob->msgs = msgs;
		ob->cap = cap;
	}
	struct outbox_msg m = {
		.client_id = dup_or_null(client_id),
		.topic = strdup(topic),
		.payload = payload,
		.payload_len = payload_len,
		.qos = qos,
	};
	if(!m.topic || (client_id && !m.client_id)){
		msg_free(&m);
		return -1;
	}
	ob->msgs[ob->count++] = m;
	return 0;
}

int outbox_set_correlation(struct outbox *ob, const void *data, size_t len)
{
	if(ob->count == 0 || len == 0) return -1;
	struct outbox_msg *m = &ob->msgs[ob->count - 1];
	void *copy = malloc(len);
	if(!copy) return -1;
	memcpy(copy, data, len);
	free(m->correlation);
	m->correlation = copy;
	m->correlation_len = len;
	return 0;
}

void outbox_truncate(struct outbox *ob, size_t mark)
{
	while(ob->count > mark){
		msg_free(&ob->msgs[--ob->count]);
	}
}

void outbox_retain_later(struct outbox *ob, int64_t now_ms)
{
	size_t kept = 0;
	for(size_t i = 0; i < ob->count; i++){
		if(ob->msgs[i].not_before_ms > now_ms) ob->msgs[kept++] = ob->msgs[i];
		else msg_free(&ob->msgs[i]);
	}
	ob->count = kept;
}

void outbox_clear(struct outbox *ob)
{
	outbox_truncate(ob, 0);
	free(ob->msgs);
	ob->msgs = NULL;
	ob->cap = 0;
}
