/* Test controls' state: fault lists, the job-time offset, transcripts. */
#include "core/testctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fault_list {
	char *thing;
	struct testctl_fault *faults;
	size_t n;
};

/* A ring of entries, grown up to TESTCTL_MAX_ENTRIES. */
struct transcript {
	char *thing;
	struct testctl_entry *ring;
	size_t cap, head, count;   /* the oldest entry is ring[head] */
	size_t bytes;
	uint64_t next_seq;
	uint64_t dropped;
};

struct testctl {
	struct fault_list *lists;
	size_t nlists;
	struct transcript *transcripts;
	size_t ntranscripts;
	int64_t offset_minutes;
};

static const char *const op_names[] = {
	[TESTCTL_OP_GET] = "get", [TESTCTL_OP_START_NEXT] = "start-next",
	[TESTCTL_OP_DESCRIBE] = "describe", [TESTCTL_OP_UPDATE] = "update", [TESTCTL_OP_ANY] = "any",
};
static const char *const action_names[] = {
	[TESTCTL_DROP] = "drop", [TESTCTL_DELAY] = "delay", [TESTCTL_REJECT] = "reject",
	[TESTCTL_DUPLICATE] = "duplicate",
};
static const char *const codes[] = { "RequestThrottled", "VersionMismatch", "InternalError", "TerminalStateReached" };

static bool find_name(const char *const *names, size_t n, const char *name, int *out)
{
	for(size_t i = 0; i < n; i++){
		if(strcmp(names[i], name) == 0){
			*out = (int)i;
			return true;
		}
	}
	return false;
}

bool testctl_op_parse(const char *name, enum testctl_op *out)
{
	int i;
	if(!find_name(op_names, sizeof(op_names) / sizeof(*op_names), name, &i)) return false;
	*out = (enum testctl_op)i;
	return true;
}

bool testctl_action_parse(const char *name, enum testctl_action *out)
{
	int i;
	if(!find_name(action_names, sizeof(action_names) / sizeof(*action_names), name, &i)) return false;
	*out = (enum testctl_action)i;
	return true;
}

const char *testctl_action_name(enum testctl_action action)
{
	return action_names[action];
}

bool testctl_code_valid(const char *code)
{
	int i;
	return find_name(codes, sizeof(codes) / sizeof(*codes), code, &i);
}

struct testctl *testctl_create(void)
{
	return calloc(1, sizeof(struct testctl));
}

static void entry_free(struct testctl_entry *e)
{
	free(e->topic);
	free(e->payload);
}

static void transcript_free(struct transcript *t)
{
	for(size_t i = 0; i < t->count; i++) entry_free(&t->ring[(t->head + i) % t->cap]);
	free(t->ring);
	free(t->thing);
}

void testctl_destroy(struct testctl *tc)
{
	if(!tc) return;
	for(size_t i = 0; i < tc->nlists; i++){
		free(tc->lists[i].thing);
		free(tc->lists[i].faults);
	}
	free(tc->lists);
	for(size_t i = 0; i < tc->ntranscripts; i++) transcript_free(&tc->transcripts[i]);
	free(tc->transcripts);
	free(tc);
}

/* ---- faults ---- */

static struct fault_list *find_list(const struct testctl *tc, const char *thing)
{
	for(size_t i = 0; i < tc->nlists; i++){
		if(strcmp(tc->lists[i].thing, thing) == 0) return &tc->lists[i];
	}
	return NULL;
}

static void remove_list(struct testctl *tc, struct fault_list *l)
{
	free(l->thing);
	free(l->faults);
	*l = tc->lists[--tc->nlists];
}

int testctl_set_faults(struct testctl *tc, const char *thing, const struct testctl_fault *faults, size_t n)
{
	if(n > TESTCTL_MAX_FAULTS) return -2;
	struct fault_list *l = find_list(tc, thing);
	if(n == 0){
		if(l) remove_list(tc, l);
		return 0;
	}
	struct testctl_fault *copy = malloc(n * sizeof(*copy));
	if(!copy) return -1;
	memcpy(copy, faults, n * sizeof(*copy));
	if(!l){
		if(tc->nlists >= TESTCTL_MAX_FAULT_THINGS){
			free(copy);
			return -2;
		}
		struct fault_list *lists = realloc(tc->lists, (tc->nlists + 1) * sizeof(*lists));
		char *name = strdup(thing);
		if(lists) tc->lists = lists;
		if(!lists || !name){
			free(name);
			free(copy);
			return -1;
		}
		l = &tc->lists[tc->nlists++];
		l->thing = name;
		l->faults = NULL;
	}
	free(l->faults);
	l->faults = copy;
	l->n = n;
	return 0;
}

bool testctl_take_fault(struct testctl *tc, const char *thing, enum testctl_op op, struct testctl_fault *out)
{
	struct fault_list *l = find_list(tc, thing);
	if(!l) return false;
	for(size_t i = 0; i < l->n; i++){
		struct testctl_fault *f = &l->faults[i];
		if(f->op != op && f->op != TESTCTL_OP_ANY) continue;
		*out = *f;
		if(--f->count <= 0){
			memmove(f, f + 1, (l->n - i - 1) * sizeof(*f));
			if(--l->n == 0) remove_list(tc, l);
		}
		return true;
	}
	return false;
}

/* ---- time ---- */

int64_t testctl_advance(struct testctl *tc, int64_t minutes)
{
	tc->offset_minutes += minutes;
	return tc->offset_minutes;
}

int64_t testctl_offset_minutes(const struct testctl *tc)
{
	return tc ? tc->offset_minutes : 0;
}

/* ---- transcripts ---- */

static struct transcript *find_transcript(const struct testctl *tc, const char *thing)
{
	for(size_t i = 0; i < tc->ntranscripts; i++){
		if(strcmp(tc->transcripts[i].thing, thing) == 0) return &tc->transcripts[i];
	}
	return NULL;
}

int testctl_transcript_start(struct testctl *tc, const char *thing)
{
	if(find_transcript(tc, thing)) return 0;
	if(tc->ntranscripts >= TESTCTL_MAX_TRANSCRIPTS) return -2;
	struct transcript *ts = realloc(tc->transcripts, (tc->ntranscripts + 1) * sizeof(*ts));
	if(!ts) return -1;
	tc->transcripts = ts;
	struct transcript t = { .thing = strdup(thing), .next_seq = 1 };
	if(!t.thing) return -1;
	tc->transcripts[tc->ntranscripts++] = t;
	return 0;
}

bool testctl_transcript_stop(struct testctl *tc, const char *thing)
{
	struct transcript *t = find_transcript(tc, thing);
	if(!t) return false;
	transcript_free(t);
	*t = tc->transcripts[--tc->ntranscripts];
	return true;
}

bool testctl_recording(const struct testctl *tc, const char *thing)
{
	return tc && find_transcript(tc, thing) != NULL;
}

static void drop_oldest(struct transcript *t)
{
	struct testctl_entry *e = &t->ring[t->head];
	t->bytes -= strlen(e->topic) + e->len;
	entry_free(e);
	t->head = (t->head + 1) % t->cap;
	t->count--;
	t->dropped++;
}

/* Room for one more entry: grows the ring, or drops the oldest when it is full. */
static int make_room(struct transcript *t)
{
	if(t->count < t->cap) return 0;
	if(t->cap >= TESTCTL_MAX_ENTRIES){
		drop_oldest(t);
		return 0;
	}
	size_t cap = t->cap ? t->cap * 2 : 16;
	if(cap > TESTCTL_MAX_ENTRIES) cap = TESTCTL_MAX_ENTRIES;
	struct testctl_entry *ring = malloc(cap * sizeof(*ring));
	if(!ring) return -1;
	for(size_t i = 0; i < t->count; i++) ring[i] = t->ring[(t->head + i) % t->cap];
	free(t->ring);
	t->ring = ring;
	t->cap = cap;
	t->head = 0;
	return 0;
}

void testctl_record(struct testctl *tc, const char *thing, int64_t at_ms, bool out, const char *topic,
		const char *payload, size_t len, const char *fault)
{
	struct transcript *t = tc ? find_transcript(tc, thing) : NULL;
	if(!t) return;
	uint64_t seq = t->next_seq++;
	size_t size = strlen(topic) + len;
	if(size > TESTCTL_MAX_BYTES){
		t->dropped++;
		return;
	}
	while(t->count && t->bytes + size > TESTCTL_MAX_BYTES) drop_oldest(t);
	struct testctl_entry e = {
		.seq = seq, .at_ms = at_ms, .out = out, .topic = strdup(topic), .payload = malloc(len + 1),
		.len = len, .fault = fault,
	};
	if(!e.topic || !e.payload || make_room(t) != 0){
		entry_free(&e);
		t->dropped++;
		return;
	}
	if(len) memcpy(e.payload, payload, len);
	e.payload[len] = '\0';
	t->ring[(t->head + t->count) % t->cap] = e;
	t->count++;
	t->bytes += size;
}

bool testctl_transcript_each(const struct testctl *tc, const char *thing, uint64_t since,
		void (*fn)(void *ctx, const struct testctl_entry *e), void *ctx, uint64_t *dropped)
{
	const struct transcript *t = find_transcript(tc, thing);
	if(!t) return false;
	for(size_t i = 0; i < t->count; i++){
		const struct testctl_entry *e = &t->ring[(t->head + i) % t->cap];
		if(e->seq > since) fn(ctx, e);
	}
	*dropped = t->dropped;
	return true;
}
