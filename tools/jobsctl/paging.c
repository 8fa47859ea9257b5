/* The pages of a list-* command, as the aws CLI walks them: follow nextToken until
 * the server has no more, merging the pages' arrays into one result without
 * nextToken. With --max-items N the pages are asked for at most the items still
 * wanted, so the last one ends exactly at N and its nextToken, printed as
 * NextToken, is where --starting-token resumes. */
#include <stdlib.h>
#include <string.h>

#include "jobsctl.h"

#define MAX_PAGE 250  /* the largest maxResults the management API takes */

static int set_field(cJSON *command, const char *name, cJSON *value)
{
	if(!value) return -1;
	if(cJSON_GetObjectItemCaseSensitive(command, name)){
		return cJSON_ReplaceItemInObjectCaseSensitive(command, name, value) ? 0 : -1;
	}
	if(!cJSON_AddItemToObject(command, name, value)){
		cJSON_Delete(value);
		return -1;
	}
	return 0;
}

/* maxResults and nextToken of the next request. */
static int ask(struct pager *pg, cJSON *command, const char *token)
{
	if(token){
		char *copy = strdup(token);
		if(!copy || set_field(command, "nextToken", cJSON_CreateString(token))){
			free(copy);
			return -1;
		}
		free(pg->asked);
		pg->asked = copy;
	}
	if(pg->p->max_items){
		long long want = pg->p->max_items - pg->items;
		long long size = pg->page_size ? pg->page_size : MAX_PAGE;
		if(want < size) size = want;
		char text[32];
		snprintf(text, sizeof(text), "%lld", size);
		if(set_field(command, "maxResults", cJSON_CreateRaw(text))) return -1;
	}
	return 0;
}

int pager_start(struct pager *pg, const struct paging *p, cJSON *command)
{
	memset(pg, 0, sizeof(*pg));
	pg->p = p;
	if(!p->list_key || !p->paginate) return 0;
	const cJSON *size = cJSON_GetObjectItemCaseSensitive(command, "maxResults");
	/* jobsctl puts integers in as raw text. */
	if(size && cJSON_IsRaw(size)) pg->page_size = atoll(size->valuestring);
	return ask(pg, command, p->starting_token);
}

int pager_take(struct pager *pg, cJSON *data, cJSON *command, char *err, size_t errsize)
{
	if(!pg->p->list_key || !pg->p->paginate || !cJSON_IsObject(data)){
		cJSON_Delete(pg->result);
		pg->result = data;
		return 0;
	}
	cJSON *token = cJSON_DetachItemFromObjectCaseSensitive(data, "nextToken");
	cJSON *list = cJSON_GetObjectItemCaseSensitive(data, pg->p->list_key);
	int rc = -1;
	if(token && !cJSON_IsString(token)){
		snprintf(err, errsize, "malformed reply: nextToken is not a string");
		goto done;
	}
	if(list && !cJSON_IsArray(list)){
		snprintf(err, errsize, "malformed reply: %s is not a list", pg->p->list_key);
		goto done;
	}
	int *more = realloc(pg->page_items, (pg->pages + 1) * sizeof(*more));
	if(!more) goto oom;
	pg->page_items = more;
	int n = list ? cJSON_GetArraySize(list) : 0;
	if(!pg->result){
		pg->result = data;
		data = NULL;
		if(!list && !cJSON_AddArrayToObject(pg->result, pg->p->list_key)) goto oom;
	}else if(list){
		cJSON *all = cJSON_GetObjectItemCaseSensitive(pg->result, pg->p->list_key);
		while(list->child) cJSON_AddItemToArray(all, cJSON_DetachItemViaPointer(list, list->child));
	}
	pg->page_items[pg->pages++] = n;
	pg->items += n;
	if(!token){
		rc = 0;
	}else if(pg->p->max_items && pg->items >= pg->p->max_items){
		/* Where --starting-token resumes. */
		if(!cJSON_AddStringToObject(pg->result, "NextToken", token->valuestring)) goto oom;
		rc = 0;
	}else if(pg->asked && strcmp(pg->asked, token->valuestring) == 0){
		snprintf(err, errsize, "the server returned the nextToken it was given (%s): stopped paging",
				token->valuestring);
	}else if(ask(pg, command, token->valuestring) == 0){
		rc = 1;
	}else{
		goto oom;
	}
	goto done;
oom:
	snprintf(err, errsize, "out of memory");
	rc = -1;
done:
	cJSON_Delete(token);
	cJSON_Delete(data);
	return rc;
}

void pager_free(struct pager *pg)
{
	cJSON_Delete(pg->result);
	free(pg->asked);
	free(pg->page_items);
	memset(pg, 0, sizeof(*pg));
}
