/* UTF-8 validation, code point counting and the escaped-NUL scan. */
#include "util/utf8.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>

/* Decodes one code point at s (at most `left` bytes). Returns its byte length, or 0
 * when the sequence is malformed. */
static size_t decode(const unsigned char *s, size_t left, uint32_t *cp)
{
	if(s[0] < 0x80){
		*cp = s[0];
		return 1;
	}
	size_t n;
	uint32_t min;
	if((s[0] & 0xE0) == 0xC0){ n = 2; min = 0x80; *cp = s[0] & 0x1F; }
	else if((s[0] & 0xF0) == 0xE0){ n = 3; min = 0x800; *cp = s[0] & 0x0F; }
	else if((s[0] & 0xF8) == 0xF0){ n = 4; min = 0x10000; *cp = s[0] & 0x07; }
	else return 0;
	if(n > left) return 0;
	for(size_t i = 1; i < n; i++){
		if((s[i] & 0xC0) != 0x80) return 0;
		*cp = (*cp << 6) | (s[i] & 0x3F);
	}
	if(*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF)) return 0;
	return n;
}

bool utf8_valid(const char *buf, size_t len)
{
	assert(buf || len == 0);
	const unsigned char *s = (const unsigned char *)buf;
	size_t i = 0;
	while(i < len){
		if(s[i] < 0x80){   /* runs of ASCII, most payloads, without decoding */
			i++;
			continue;
		}
		uint32_t cp;
		size_t n = decode(s + i, len - i, &cp);
		if(n == 0) return false;
		i += n;
	}
	return true;
}

size_t utf8_length(const char *str)
{
	assert(str);
	size_t count = 0;
	for(const unsigned char *s = (const unsigned char *)str; *s; s++){
		if((*s & 0xC0) != 0x80) count++;
	}
	return count;
}

bool utf8_json_has_escaped_nul(const char *buf, size_t len)
{
	assert(buf || len == 0);
	/* without the six characters anywhere, no string can hold the escape */
	const char *end = buf + len, *p = buf;
	while((p = memchr(p, '\\', (size_t)(end - p))) && !(end - p >= 6 && memcmp(p + 1, "u0000", 5) == 0)) p++;
	if(!p) return false;
	bool in_string = false;
	for(size_t i = 0; i < len; i++){
		char c = buf[i];
		if(!in_string){
			if(c == '"') in_string = true;
			continue;
		}
		if(c == '"'){
			in_string = false;
		}else if(c == '\\' && i + 1 < len){
			if(buf[i+1] == 'u' && i + 5 < len
					&& buf[i+2] == '0' && buf[i+3] == '0' && buf[i+4] == '0' && buf[i+5] == '0'){
				return true;
			}
			i++; /* skip the escaped character */
		}
	}
	return false;
}
