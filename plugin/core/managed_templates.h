/* The AWS managed job templates this plugin knows (ListManagedJobTemplates,
 * DescribeManagedJobTemplate, CreateJob with a managed template's ARN): each one's
 * name, version, description, environments, job document and document parameters, as
 * AWS publishes them (docs/management.md says where each came from). Pure data. */
#ifndef MOSQUITTO_JOBS_MANAGED_TEMPLATES_H
#define MOSQUITTO_JOBS_MANAGED_TEMPLATES_H

#include <stdbool.h>
#include <stddef.h>

/* One of a template's documentParameters (DocumentParameter). */
struct managed_param {
	const char *key;
	const char *description;
	const char *regex;       /* as AWS shows it; NULL when AWS publishes none */
	const char *example;     /* NULL when AWS publishes none */
	bool optional;
	/* What the regex allows, checked without a regex engine: a value of at most this
	 * many characters (0: any length). Every regex AWS publishes for these templates is
	 * "(.*?)" or "(.){0,N}"; a unit test holds the two together. */
	size_t max_chars;
};

struct managed_template {
	const char *name;        /* AWS-Download-File */
	const char *version;     /* 1.0 */
	const char *description;
	const char *environment; /* the one environment: LINUX */
	const char *document;    /* the job document, with ${aws:iot:parameter:KEY} placeholders */
	const struct managed_param *params;
	size_t nparams;
};

/* The templates, in the order ListManagedJobTemplates gives them. */
size_t managed_templates_count(void);
const struct managed_template *managed_template_at(size_t i);
/* The template of that name and version (NULL: its default version); NULL when none. */
const struct managed_template *managed_template_find(const char *name, const char *version);

#endif
