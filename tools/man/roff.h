/* Text for the man pages: the markdown of the docs' tables (inline code, links) and
 * plain help text written as roff that groff takes without a warning. Shared by the
 * generators of the man pages' sections (jobs-options, jobsctl --help-man). */
#ifndef JOBS_ROFF_H
#define JOBS_ROFF_H

#include <stdio.h>

/* Writes `text` as roff running text: `code` in bold, [text](link) as its text,
 * backslashes, dashes and characters past ASCII escaped, a break point after a
 * comma that a space does not follow, and a line never starting with a control
 * character. No newline is added. */
void roff_text(FILE *f, const char *text);
/* The same for a word set in bold (a flag, a command): dashes as \-. */
void roff_bold(FILE *f, const char *word);
/* The same in italics (a value's name). */
void roff_italic(FILE *f, const char *word);

#endif
