/* Markdown's inline code and links, and plain text, as roff (roff.h). */
#include "roff.h"

#include <stdbool.h>
#include <string.h>

/* Decodes one UTF-8 sequence at s (at least one byte); *len is its length. A byte
 * that starts no valid sequence is taken alone, as U+FFFD. */
static unsigned long utf8_next(const unsigned char *s, size_t *len)
{
	unsigned long cp;
	size_t n;
	if(s[0] < 0x80){
		*len = 1;
		return s[0];
	}
	if((s[0] & 0xE0) == 0xC0){ cp = s[0] & 0x1F; n = 2; }
	else if((s[0] & 0xF0) == 0xE0){ cp = s[0] & 0x0F; n = 3; }
	else if((s[0] & 0xF8) == 0xF0){ cp = s[0] & 0x07; n = 4; }
	else{
		*len = 1;
		return 0xFFFD;
	}
	for(size_t i = 1; i < n; i++){
		if((s[i] & 0xC0) != 0x80){
			*len = 1;
			return 0xFFFD;
		}
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	*len = n;
	return cp;
}

/* Writes text[0..len) escaped; `at_line_start` says whether f is at the start of a
 * line, where '.' and '\'' would be requests. */
static void escaped(FILE *f, const char *text, size_t len, bool dashes, bool *at_line_start)
{
	const unsigned char *s = (const unsigned char *)text;
	for(size_t i = 0; i < len;){
		size_t n;
		unsigned long cp = utf8_next(s + i, &n);
		if(n > len - i) n = len - i;
		if(*at_line_start && (cp == '.' || cp == '\'')) fputs("\\&", f);
		*at_line_start = false;
		if(cp == '\\') fputs("\\e", f);
		/* a break point after a comma in a long word (a structure's shorthand) */
		else if(cp == ',' && i + 1 < len && s[i + 1] != ' ') fputs(",\\:", f);
		else if(cp == '-' && dashes) fputs("\\-", f);
		else if(cp == '\n'){
			fputc('\n', f);
			*at_line_start = true;
		}else if(cp >= 0x80) fprintf(f, "\\[u%04lX]", cp);
		else fputc((int)cp, f);
		i += n;
	}
}

void roff_text(FILE *f, const char *text)
{
	bool start = true;
	const char *p = text;
	while(*p){
		if(*p == '`'){
			const char *end = strchr(p + 1, '`');
			if(end){
				fputs("\\fB", f);
				escaped(f, p + 1, (size_t)(end - p - 1), true, &start);
				fputs("\\fR", f);
				p = end + 1;
				continue;
			}
		}
		if(*p == '['){
			/* [text](target): the text */
			const char *close = strchr(p + 1, ']');
			const char *paren = close && close[1] == '(' ? strchr(close + 2, ')') : NULL;
			if(paren){
				escaped(f, p + 1, (size_t)(close - p - 1), false, &start);
				p = paren + 1;
				continue;
			}
		}
		const char *next = p + 1;
		while(*next && *next != '`' && *next != '[') next++;
		escaped(f, p, (size_t)(next - p), false, &start);
		p = next;
	}
}

void roff_bold(FILE *f, const char *word)
{
	bool start = false;
	fputs("\\fB", f);
	escaped(f, word, strlen(word), true, &start);
	fputs("\\fR", f);
}

void roff_italic(FILE *f, const char *word)
{
	bool start = false;
	fputs("\\fI", f);
	escaped(f, word, strlen(word), false, &start);
	fputs("\\fR", f);
}
