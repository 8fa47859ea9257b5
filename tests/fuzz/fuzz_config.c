/* Option parsing (config_parse) over fuzzed option lists.
 *
 * Input: text lines, one option each: "KEY VALUE" (KEY without the plugin_opt_ prefix,
 * VALUE everything after the first space, "" when there is none); a line "~KEY" is an
 * option with a NULL value. Up to 64 options.
 * Checks: no crash, no leak (config_free), every refusal has a one-line message that
 * fits the buffer and leaves the struct freed (all zero); every acceptance holds
 * values inside the ranges docs/configuration.md gives, and identities the access
 * rules accept. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

#define MAX_OPTIONS 64

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_config: %s: %s\n", what, detail ? detail : "");
	abort();
}

static bool identity_ok(const char *s)
{
	return s && *s && !strpbrk(s, "+#/");
}

static void check_accepted(const struct jobs_config *c)
{
	if(!c->db_path || !*c->db_path) fail("accepted without a database path", NULL);
	if(c->synchronous != JOBS_SYNC_NORMAL && c->synchronous != JOBS_SYNC_FULL) fail("synchronous out of range", NULL);
	if(c->max_pending < 1 || c->max_pending > JOBS_MAX_PENDING_LIMIT) fail("max_pending out of range", NULL);
	if(!c->region || !*c->region || strlen(c->region) > 32 || strspn(c->region, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(c->region)){
		fail("bad region accepted", c->region);
	}
	if(!c->account_id || strlen(c->account_id) != 12 || strspn(c->account_id, "0123456789") != 12) fail("bad account id accepted", c->account_id);
	if(!(c->time_scale >= 0.001 && c->time_scale <= 100000)) fail("time_scale out of range", NULL);
	if(c->db_max_mb < 0 || c->db_max_mb > 1000000) fail("db_max_mb out of range", NULL);
	if(c->rate_limit < 0 || c->rate_limit > 1000000) fail("rate_limit out of range", NULL);
	if(c->http_address && (!*c->http_address || c->http_port < 1 || c->http_port > 65535)) fail("bad http_listen accepted", c->http_address);
	if(!c->http_address && (c->http_keys_file || c->http_tls_cert || c->http_tls_key)) fail("an HTTP option without plugin_opt_http_listen", NULL);
	if(c->http_keys_file && c->http_unsigned_identity) fail("http_unsigned_identity with a keys file", NULL);
	if(c->http_unsigned_identity && !identity_ok(c->http_unsigned_identity)) fail("bad unsigned identity accepted", c->http_unsigned_identity);
	if(c->http_max_connections < 1 || c->http_max_connections > 1000000
			|| c->http_max_connections_per_address < 1 || c->http_max_connections_per_address > 1000000
			|| c->http_request_timeout < 1 || c->http_request_timeout > 3600) fail("an HTTP limit out of range", NULL);
	if(c->access.identity != IDENTITY_CLIENTID && c->access.identity != IDENTITY_USERNAME
			&& c->access.identity != IDENTITY_CERT_CN) fail("identity source out of range", NULL);
	for(char **o = c->access.operators; o && *o; o++){
		if(strcmp(*o, "*") != 0 && !identity_ok(*o)) fail("bad operator accepted", *o);
	}
	for(size_t i = 0; i < c->access.grant_count; i++){
		const struct access_grant *g = &c->access.grants[i];
		if(!identity_ok(g->identity)) fail("bad grant identity accepted", g->identity);
		if(!g->all && (!g->things || !g->things[0])) fail("a grant of nothing", g->identity);
		for(char **t = g->things; t && *t; t++){
			size_t n = strlen(*t);
			if(n < 1 || n > 128 || strspn(*t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:_-") != n){
				fail("a grant of a bad thing name accepted", *t);
			}
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A NUL-terminated copy, cut into lines in place. */
	char *text = malloc(size + 1);
	if(!text) return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	struct jobs_option opts[MAX_OPTIONS];
	size_t n = 0;
	for(char *line = text; line && n < MAX_OPTIONS;){
		char *nl = strchr(line, '\n');
		if(nl) *nl = '\0';
		if(line[0] == '~'){
			opts[n++] = (struct jobs_option){ line + 1, NULL };
		}else{
			char *sp = strchr(line, ' ');
			if(sp) *sp = '\0';
			opts[n++] = (struct jobs_option){ line, sp ? sp + 1 : "" };
		}
		line = nl ? nl + 1 : NULL;
	}

	struct jobs_config cfg;
	char err[512];
	memset(err, 0x55, sizeof(err));
	err[sizeof(err) - 1] = '\0';
	err[0] = '\0';
	if(config_parse(opts, n, &cfg, err, sizeof(err)) == 0){
		check_accepted(&cfg);
		config_free(&cfg);
	}else{
		if(!err[0]) fail("refused without a message", NULL);
		if(!memchr(err, '\0', sizeof(err))) fail("the message is not terminated", NULL);
		if(strchr(err, '\n')) fail("the message is not one line", err);
		static const struct jobs_config zero;
		if(memcmp(&cfg, &zero, sizeof(cfg)) != 0) fail("a refusal left the struct filled", err);
	}
	free(text);
	return 0;
}
