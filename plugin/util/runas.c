/* The effective user's name. */
#include "util/runas.h"

#include <assert.h>
#include <pwd.h>
#include <stdio.h>
#include <unistd.h>

const char *runas_user(char *buf, size_t size)
{
	assert(buf && size > 0);
	const struct passwd *pw = getpwuid(geteuid());
	if(pw) snprintf(buf, size, "%s", pw->pw_name);
	else snprintf(buf, size, "uid %u", (unsigned)geteuid());
	return buf;
}
