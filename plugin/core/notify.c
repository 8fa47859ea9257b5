/* notify / notify-next decisions and payloads. */
#include "core/notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/shapes.h"
#include "core/status.h"
#include "core/core_state.h"
#include "util/hash.h"

/* Notifications go out at QoS 1; subscribers get min(their QoS, 1). */
#define NOTIFY_QOS 1

bool notify_set_changed(int from, int to)
{
	return status_is_pending(from) != status_is_pending(to);
}

static bool same_next(const struct next_id *a, const struct next_id *b)
{
	if(a->present != b->present) return false;
	return !a->present || (a->job_seq == b->job_seq && a->execution_number == b->execution_number);
}

struct notify_plan notify_decide(bool set_changed, const struct next_id *before,
		const struct next_id *after)
{
	struct notify_plan plan = { .notify = set_changed, .notify_next = !same_next(before, after) };
	return plan;
}

/* Whom a notification is for: every subscriber of the thing's notify (or notify-next)
 * topic, which the adapter builds. */
struct notice {
	enum outbox_kind kind;
	const char *thing;
	const char *namespace_id;
};

/* Ends the message object `w` holds with the timestamp and queues it. */
static int publish(struct outbox *ob, const struct notice *to, struct jsonw *w, int64_t now)
{
	jsonw_key_int(w, "timestamp", now);
	jsonw_object_end(w);
	size_t len;
	char *payload = jsonw_finish(w, &len);
	if(!payload) return -1;
	struct outbox_addr a = { .kind = to->kind, .thing = to->thing, .namespace_id = to->namespace_id, .qos = NOTIFY_QOS };
	return outbox_add(ob, &a, payload, len);
}

int notify_next_id(struct service *svc, const char *thing, const char *namespace_id,
		struct next_id *out)
{
	struct store_exec *rows;
	size_t n;
	if(store_pending_summaries(svc->store, thing, namespace_id, 1, &rows, &n) != STORE_OK) return -1;
	out->present = n > 0;
	out->job_seq = n ? rows[0].job_seq : 0;
	out->execution_number = n ? rows[0].execution_number : 0;
	store_exec_array_free(rows, n);
	return 0;
}

/* {"jobs":{"IN_PROGRESS":[…],"QUEUED":[…]},"timestamp":N}, empty lists omitted;
 * rows come IN_PROGRESS first, then QUEUED. */
static int jobs_changed(struct outbox *ob, const struct notice *to, const struct store_exec *rows,
		size_t n, int64_t now)
{
	struct jsonw w;
	jsonw_init(&w);
	jsonw_object_begin(&w);
	jsonw_key(&w, "jobs");
	jsonw_object_begin(&w);
	for(size_t i = 0; i < n; i++){
		if(i == 0 || rows[i].status != rows[i - 1].status){
			if(i) jsonw_array_end(&w);
			jsonw_key(&w, status_name(rows[i].status));
			jsonw_array_begin(&w);
		}
		shapes_write_summary(&w, &rows[i]);
	}
	if(n) jsonw_array_end(&w);
	jsonw_object_end(&w);
	return publish(ob, to, &w, now);
}

/* {"execution":{…},"timestamp":N}, or {"timestamp":N} when nothing is pending. */
static int next_changed(struct outbox *ob, const struct notice *to, const struct store_exec *next, int64_t now)
{
	struct jsonw w;
	jsonw_init(&w);
	jsonw_object_begin(&w);
	if(next){
		jsonw_key(&w, "execution");
		shapes_write_execution(&w, next, true, NULL);
	}
	return publish(ob, to, &w, now);
}

int notify_resend_next(struct service *svc, const char *thing, const char *namespace_id, int64_t now,
		struct outbox *ob, bool *named)
{
	struct store_exec *rows = NULL;
	size_t n = 0;
	if(store_pending(svc->store, thing, namespace_id, 1, true, &rows, &n) != STORE_OK) return -1;
	struct notice to = { OUTBOX_NOTIFY_NEXT, thing, namespace_id };
	int rc = next_changed(ob, &to, n ? &rows[0] : NULL, now);
	store_exec_array_free(rows, n);
	*named = n > 0;
	return rc;
}

int notify_thing(struct service *svc, const char *thing, const char *namespace_id,
		bool set_changed, const struct next_id *before, int64_t now, struct outbox *ob)
{
	struct store_exec *rows = NULL;
	size_t n = 0;
	/* The pending list for notify (summaries), or just the next execution. */
	int rc = set_changed
		? store_pending_summaries(svc->store, thing, namespace_id, svc->max_pending, &rows, &n)
		: store_pending(svc->store, thing, namespace_id, 1, true, &rows, &n);
	if(rc != STORE_OK) return -1;

	struct next_id after = {
		.present = n > 0,
		.job_seq = n ? rows[0].job_seq : 0,
		.execution_number = n ? rows[0].execution_number : 0,
	};
	struct notify_plan plan = notify_decide(set_changed, before, &after);
	struct notice to = { OUTBOX_NOTIFY, thing, namespace_id };
	if(plan.notify) rc = jobs_changed(ob, &to, rows, n, now);
	if(rc == 0 && plan.notify_next){
		to.kind = OUTBOX_NOTIFY_NEXT;
		if(n && !rows[0].document){
			/* its document, which the list left out */
			struct store_exec next = { 0 };
			rc = store_exec_get(svc->store, thing, rows[0].job_seq, rows[0].execution_number, true, &next)
				== STORE_OK ? next_changed(ob, &to, &next, now) : -1;
			store_exec_free(&next);
		}else{
			rc = next_changed(ob, &to, n ? &rows[0] : NULL, now);
		}
	}
	store_exec_array_free(rows, n);
	return rc;
}

/* ---- the scope: touched things in a hash table (open addressing) ---- */

struct touched {
	char thing[JOBS_THING_NAME_MAX + 1];
	char namespace_id[JOBS_NAMESPACE_MAX + 1];
	struct next_id before;
	bool set_changed;
};

struct notify_scope {
	struct touched *items;   /* in touch order */
	size_t count, cap;
	size_t *slots;           /* index + 1 into items; 0: empty */
	size_t nslots;           /* a power of two */
};

struct notify_scope *notify_scope_create(void)
{
	return calloc(1, sizeof(struct notify_scope));
}

void notify_scope_destroy(struct notify_scope *scope)
{
	if(!scope) return;
	free(scope->items);
	free(scope->slots);
	free(scope);
}

static size_t key_hash(const char *thing, const char *ns)
{
	return (size_t)hash_fnv1a64(hash_fnv1a64(hash_fnv1a64(HASH_FNV1A64_INIT, thing), "/"), ns);
}

static size_t *find_slot(struct notify_scope *sc, const char *thing, const char *ns)
{
	size_t mask = sc->nslots - 1;
	for(size_t i = key_hash(thing, ns) & mask;; i = (i + 1) & mask){
		size_t *slot = &sc->slots[i];
		if(*slot == 0) return slot;
		const struct touched *t = &sc->items[*slot - 1];
		if(strcmp(t->thing, thing) == 0 && strcmp(t->namespace_id, ns) == 0) return slot;
	}
}

static int grow(struct notify_scope *sc)
{
	if(sc->count == sc->cap){
		size_t cap = sc->cap ? sc->cap * 2 : 16;
		struct touched *items = realloc(sc->items, cap * sizeof(*items));
		if(!items) return -1;
		sc->items = items;
		sc->cap = cap;
	}
	if((sc->count + 1) * 2 > sc->nslots){
		size_t nslots = sc->nslots ? sc->nslots * 2 : 32;
		size_t *slots = calloc(nslots, sizeof(*slots));
		if(!slots) return -1;
		free(sc->slots);
		sc->slots = slots;
		sc->nslots = nslots;
		for(size_t i = 0; i < sc->count; i++){
			*find_slot(sc, sc->items[i].thing, sc->items[i].namespace_id) = i + 1;
		}
	}
	return 0;
}

int notify_touch(struct service *svc, const char *thing, const char *namespace_id, bool set_changed)
{
	struct notify_scope *sc = svc->notify;
	if(sc->nslots){
		size_t *slot = find_slot(sc, thing, namespace_id);
		if(*slot){
			sc->items[*slot - 1].set_changed |= set_changed;
			return 0;
		}
	}
	if(grow(sc) != 0) return -1;
	struct touched *t = &sc->items[sc->count];
	memset(t, 0, sizeof(*t));
	snprintf(t->thing, sizeof(t->thing), "%s", thing);
	snprintf(t->namespace_id, sizeof(t->namespace_id), "%s", namespace_id);
	t->set_changed = set_changed;
	if(notify_next_id(svc, thing, namespace_id, &t->before) != 0) return -1;
	*find_slot(sc, thing, namespace_id) = ++sc->count;
	return 0;
}

size_t notify_touched(struct service *svc)
{
	return svc->notify->count;
}

void notify_discard(struct service *svc)
{
	struct notify_scope *sc = svc->notify;
	sc->count = 0;
	if(sc->slots) memset(sc->slots, 0, sc->nslots * sizeof(*sc->slots));
}

int notify_emit(struct service *svc, int64_t now, struct outbox *ob)
{
	struct notify_scope *sc = svc->notify;
	int rc = 0;
	for(size_t i = 0; i < sc->count && rc == 0; i++){
		const struct touched *t = &sc->items[i];
		rc = notify_thing(svc, t->thing, t->namespace_id, t->set_changed, &t->before, now, ob);
	}
	notify_discard(svc);
	return rc;
}
