/* A growable string (strbuf.h). */
#include "util/strbuf.h"

#include <stdlib.h>
#include <string.h>

bool strbuf_reserve(struct strbuf *b, size_t n)
{
	if(b->failed) return false;
	if(b->len + n + 1 <= b->cap) return true;
	size_t cap = b->cap ? b->cap : 256;
	while(cap < b->len + n + 1) cap *= 2;
	char *p = realloc(b->p, cap);
	if(!p){
		b->failed = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

void strbuf_add(struct strbuf *b, const char *s, size_t n)
{
	if(!strbuf_reserve(b, n)) return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void strbuf_adds(struct strbuf *b, const char *s)
{
	strbuf_add(b, s, strlen(s));
}

void strbuf_addc(struct strbuf *b, char c)
{
	strbuf_add(b, &c, 1);
}
