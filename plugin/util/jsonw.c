/* A JSON writer into one growing buffer (jsonw.h). */
#include "util/jsonw.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

void jsonw_init(struct jsonw *w)
{
	assert(w);
	memset(w, 0, sizeof(*w));
}

/* Before a value or a key: the comma that separates it from the previous one. */
static void separate(struct jsonw *w)
{
	if(w->need_comma) strbuf_addc(&w->b, ',');
}

/* A container's first and last character. */
static void open_container(struct jsonw *w, char c)
{
	separate(w);
	strbuf_addc(&w->b, c);
	w->need_comma = false;
}

static void close_container(struct jsonw *w, char c)
{
	strbuf_addc(&w->b, c);
	w->need_comma = true;
}

void jsonw_object_begin(struct jsonw *w) { open_container(w, '{'); }
void jsonw_object_end(struct jsonw *w) { close_container(w, '}'); }
void jsonw_array_begin(struct jsonw *w) { open_container(w, '['); }
void jsonw_array_end(struct jsonw *w) { close_container(w, ']'); }

/* Writes the escape of byte c (one that needs one). */
static void put_escape(struct jsonw *w, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char esc[6] = { '\\', 0 };
	size_t n = 2;
	switch(c){
	case '"': esc[1] = '"'; break;
	case '\\': esc[1] = '\\'; break;
	case '\b': esc[1] = 'b'; break;
	case '\f': esc[1] = 'f'; break;
	case '\n': esc[1] = 'n'; break;
	case '\r': esc[1] = 'r'; break;
	case '\t': esc[1] = 't'; break;
	default:
		memcpy(esc + 1, "u00", 3);
		esc[4] = hex[c >> 4];
		esc[5] = hex[c & 15];
		n = 6;
	}
	strbuf_add(&w->b, esc, n);
}

/* The separator when needed, then `s` quoted, then `tail` (":" after a key). */
static void put_quoted(struct jsonw *w, const char *s, const char *tail)
{
	assert(w && s && tail);
	size_t n = 0;
	while(s[n] && (unsigned char)s[n] >= 0x20 && s[n] != '"' && s[n] != '\\') n++;
	size_t tail_len = strlen(tail);
	struct strbuf *b = &w->b;
	if(!strbuf_reserve(b, n + tail_len + 3)) return;
	if(w->need_comma) b->p[b->len++] = ',';
	b->p[b->len++] = '"';
	memcpy(b->p + b->len, s, n);
	b->len += n;
	if(s[n]){
		/* the rare string that needs escapes: the rest byte by byte */
		for(s += n; *s; s++){
			unsigned char c = (unsigned char)*s;
			if(c >= 0x20 && c != '"' && c != '\\') strbuf_addc(&w->b, (char)c);
			else put_escape(w, c);
		}
		if(!strbuf_reserve(b, tail_len + 1)) return;
	}
	b->p[b->len++] = '"';
	memcpy(b->p + b->len, tail, tail_len);
	b->len += tail_len;
	b->p[b->len] = '\0';
	assert(b->len < b->cap);   /* the reserve covered quotes, tail and NUL */
}

void jsonw_key(struct jsonw *w, const char *key)
{
	put_quoted(w, key, ":");
	w->need_comma = false;
}

void jsonw_string(struct jsonw *w, const char *s)
{
	put_quoted(w, s, "");
	w->need_comma = true;
}

const char *jsonw_int_text(int64_t value, char text[JSONW_INT_TEXT])
{
	assert(text);
	char *p = text + JSONW_INT_TEXT;
	uint64_t v = value < 0 ? 0 - (uint64_t)value : (uint64_t)value;
	*--p = '\0';
	do *--p = (char)('0' + v % 10); while(v /= 10);
	if(value < 0) *--p = '-';
	assert(p >= text);   /* 20 digits, a sign and the NUL fit */
	return p;
}

void jsonw_int(struct jsonw *w, int64_t value)
{
	char text[JSONW_INT_TEXT];
	jsonw_raw(w, jsonw_int_text(value, text));
}

void jsonw_raw(struct jsonw *w, const char *json)
{
	assert(w && json);
	separate(w);
	strbuf_adds(&w->b, json);
	w->need_comma = true;
}

void jsonw_key_string(struct jsonw *w, const char *key, const char *s)
{
	jsonw_key(w, key);
	jsonw_string(w, s);
}

void jsonw_key_int(struct jsonw *w, const char *key, int64_t value)
{
	jsonw_key(w, key);
	jsonw_int(w, value);
}

void jsonw_key_raw(struct jsonw *w, const char *key, const char *json)
{
	jsonw_key(w, key);
	jsonw_raw(w, json);
}

char *jsonw_finish(struct jsonw *w, size_t *len)
{
	assert(w);
	/* room for the NUL even when nothing was written */
	if(!strbuf_reserve(&w->b, 0)){
		jsonw_discard(w);
		return NULL;
	}
	w->b.p[w->b.len] = '\0';
	char *text = w->b.p;
	if(len) *len = w->b.len;
	jsonw_init(w);
	return text;
}

void jsonw_discard(struct jsonw *w)
{
	free(w->b.p);
	jsonw_init(w);
}
