/* jobs-options: the plugin's option table (plugin/config/config.c) as the man page's
 * OPTIONS section (--man, roff) or as docs/configuration.md's table (--markdown).
 * Built with the plugin's own config.c, so neither can disagree with the options the
 * plugin takes. Not installed: the build runs it to make mosquitto-jobs(7). */
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "roff.h"

static int print_markdown(void)
{
	size_t count;
	const struct config_option *opts = config_options(&count);
	printf("| option | values | default | what it does |\n|---|---|---|---|\n");
	for(size_t i = 0; i < count; i++){
		char values[512], def[512];
		if(config_option_doc(&opts[i], values, sizeof(values), def, sizeof(def))) return 1;
		printf("| `plugin_opt_%s` | %s | %s | %s |\n", opts[i].name, values, def, opts[i].help);
	}
	return 0;
}

/* Each option as a tagged paragraph: its name and values, then the default and what
 * it does. */
static int print_man(void)
{
	size_t count;
	const struct config_option *opts = config_options(&count);
	for(size_t i = 0; i < count; i++){
		char values[512], def[512], name[128];
		if(config_option_doc(&opts[i], values, sizeof(values), def, sizeof(def))) return 1;
		snprintf(name, sizeof(name), "plugin_opt_%s", opts[i].name);
		printf(".TP\n");
		roff_bold(stdout, name);
		printf(" ");
		roff_text(stdout, values);
		printf("\nDefault: ");
		roff_text(stdout, def);
		printf(".\n.br\n");
		roff_text(stdout, opts[i].help);
		printf("\n");
	}
	return 0;
}

int main(int argc, char **argv)
{
	if(argc == 2 && strcmp(argv[1], "--markdown") == 0) return print_markdown();
	if(argc == 2 && strcmp(argv[1], "--man") == 0) return print_man();
	fprintf(stderr, "usage: jobs-options --man | --markdown\n");
	return 64;
}
