/* A growable string: appends keep it NUL-terminated; an allocation failure is
 * remembered (`failed`) and makes every later append a no-op, so callers check once
 * at the end. Start from { 0 }; the caller frees `p`. */
#ifndef MOSQUITTO_JOBS_STRBUF_H
#define MOSQUITTO_JOBS_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *p;
	size_t len, cap;
	bool failed;
};

/* Room for n more bytes and the NUL; false once an allocation has failed. */
bool strbuf_reserve(struct strbuf *b, size_t n);
void strbuf_add(struct strbuf *b, const char *s, size_t n);
void strbuf_adds(struct strbuf *b, const char *s);
void strbuf_addc(struct strbuf *b, char c);
/* Appends printf-formatted text. */
__attribute__((format(printf, 2, 3)))
void strbuf_printf(struct strbuf *b, const char *fmt, ...);

#endif
