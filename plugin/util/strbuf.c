/* A growable string (strbuf.h). */
#include "util/strbuf.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Empty and unallocated, or text in an allocation with room for its NUL (which the
 * appends here write; a caller that writes into p after strbuf_reserve writes it last). */
#ifndef NDEBUG
static bool well_formed(const struct strbuf *b)
{
	return b->cap == 0 ? !b->p && b->len == 0 : b->p && b->len < b->cap;
}
#endif

bool strbuf_reserve(struct strbuf *b, size_t n)
{
	assert(b && well_formed(b));
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
	assert(s || n == 0);
	if(!strbuf_reserve(b, n)) return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	assert(well_formed(b) && b->p[b->len] == '\0');
}

void strbuf_adds(struct strbuf *b, const char *s)
{
	assert(s);
	strbuf_add(b, s, strlen(s));
}

void strbuf_addc(struct strbuf *b, char c)
{
	strbuf_add(b, &c, 1);
}

void strbuf_printf(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if(n < 0){
		b->failed = true;
		return;
	}
	if(!strbuf_reserve(b, (size_t)n)) return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}
