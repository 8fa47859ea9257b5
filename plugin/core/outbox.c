/* Growable list of messages to publish. */
#include "core/outbox.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

static void msg_free(struct outbox_msg *m)
{
	free(m->strings);
	free(m->payload);
	free(m->correlation);
}

static size_t size_of(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

/* Copies s into the block at *at (advanced past it); NULL stays NULL. */
static char *place(char **at, const char *s, size_t size)
{
	if(!s) return NULL;
	char *dst = *at;
	memcpy(dst, s, size);
	*at += size;
	return dst;
}

static int reserve(struct outbox *ob)
{
	if(ob->count < ob->cap) return 0;
	size_t cap = ob->cap ? ob->cap * 2 : 8;
	struct outbox_msg *msgs = realloc(ob->msgs, cap * sizeof(*msgs));
	if(!msgs) return -1;
	ob->msgs = msgs;
	ob->cap = cap;
	return 0;
}

int outbox_add(struct outbox *ob, const struct outbox_addr *a, char *payload, size_t payload_len)
{
	size_t sc = size_of(a->client_id), st = size_of(a->topic), sth = size_of(a->thing),
		sn = size_of(a->namespace_id), sk = size_of(a->client_token), sj = size_of(a->job_id);
	size_t total = sc + st + sth + sn + sk + sj;
	char *block = total ? malloc(total) : NULL;
	if(reserve(ob) != 0 || (total && !block)){
		free(block);
		free(payload);
		return -1;
	}
	char *at = block;
	struct outbox_msg m = {
		.kind = a->kind,
		.client_id = place(&at, a->client_id, sc),
		.topic = place(&at, a->topic, st),
		.thing = place(&at, a->thing, sth),
		.namespace_id = place(&at, a->namespace_id, sn),
		.client_token = place(&at, a->client_token, sk),
		.job_id = place(&at, a->job_id, sj),
		.event = a->event,
		.strings = block,
		.payload = payload,
		.payload_len = payload_len,
		.qos = a->qos,
	};
	ob->msgs[ob->count++] = m;
	return 0;
}

int outbox_copy(struct outbox *ob, size_t i)
{
	assert(ob && i < ob->count);
	const struct outbox_msg *m = &ob->msgs[i];
	struct outbox_addr a = {
		.kind = m->kind, .client_id = m->client_id, .topic = m->topic, .thing = m->thing,
		.namespace_id = m->namespace_id, .client_token = m->client_token, .job_id = m->job_id,
		.event = m->event, .qos = m->qos,
	};
	char *payload = malloc(m->payload_len + 1);
	if(!payload) return -1;
	memcpy(payload, m->payload, m->payload_len);
	payload[m->payload_len] = '\0';
	if(outbox_add(ob, &a, payload, m->payload_len) != 0) return -1;
	/* ob->msgs may have moved */
	struct outbox_msg *src = &ob->msgs[i], *dst = &ob->msgs[ob->count - 1];
	dst->not_before_ms = src->not_before_ms;
	dst->withheld = src->withheld;
	dst->fault = src->fault;
	dst->held_by = src->held_by;
	if(src->correlation && outbox_set_correlation(ob, src->correlation, src->correlation_len) != 0) return -1;
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

void outbox_set_payload(struct outbox *ob, size_t i, char *payload, size_t payload_len)
{
	assert(ob && i < ob->count);
	free(ob->msgs[i].payload);
	ob->msgs[i].payload = payload;
	ob->msgs[i].payload_len = payload ? payload_len : 0;
}

void outbox_truncate(struct outbox *ob, size_t mark)
{
	assert(ob && mark <= ob->count);
	while(ob->count > mark){
		msg_free(&ob->msgs[--ob->count]);
	}
}

static bool is_notification(const struct outbox_msg *m)
{
	return m->kind == OUTBOX_NOTIFY || m->kind == OUTBOX_NOTIFY_NEXT
		|| m->kind == OUTBOX_JOB_EVENT || m->kind == OUTBOX_EXECUTION_EVENT;
}

void outbox_hold(struct outbox *ob, size_t mark, uint64_t batch)
{
	assert(ob && mark <= ob->count && batch);
	for(size_t i = mark; i < ob->count; i++) ob->msgs[i].held_by = batch;
}

void outbox_release(struct outbox *ob, uint64_t batch)
{
	assert(ob && batch);
	for(size_t i = 0; i < ob->count; i++){
		if(ob->msgs[i].held_by == batch) ob->msgs[i].held_by = 0;
	}
}

void outbox_drop_notifications(struct outbox *ob, uint64_t batch)
{
	assert(ob && batch);
	size_t kept = 0;
	for(size_t i = 0; i < ob->count; i++){
		if(ob->msgs[i].held_by == batch && is_notification(&ob->msgs[i])) msg_free(&ob->msgs[i]);
		else ob->msgs[kept++] = ob->msgs[i];
	}
	ob->count = kept;
}

void outbox_retain_later(struct outbox *ob, int64_t now_ms)
{
	size_t kept = 0;
	for(size_t i = 0; i < ob->count; i++){
		if(ob->msgs[i].held_by || ob->msgs[i].not_before_ms > now_ms) ob->msgs[kept++] = ob->msgs[i];
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
