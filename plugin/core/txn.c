/* begin -> notify -> commit, or rollback. */
#include "core/txn.h"

#include <assert.h>

#include "core/events.h"
#include "core/notify.h"
#include "core/core_state.h"

int txn_begin(struct service *svc)
{
	return store_begin(svc->store) == STORE_OK ? 0 : -1;
}

int txn_commit(struct service *svc, int64_t now, struct outbox *ob)
{
	assert(svc && ob);
	if(notify_emit(svc, now, ob) != 0 || events_emit(svc, ob) != 0){
		txn_abort(svc);
		return -1;
	}
	if(store_commit(svc->store) == STORE_OK) return 0;
	/* rolled back: an event configuration it changed is as it was */
	events_reload(svc);
	return -1;
}

void txn_abort(struct service *svc)
{
	notify_discard(svc);
	store_rollback(svc->store);
	events_discard(svc);
}
