/* Plugin option parsing and defaults. */
#include "config/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int set_string(char **dst, const char *value)
{
	char *copy = strdup(value);
	if(!copy) return -1;
	free(*dst);
	*dst = copy;
	return 0;
}

static int oom(char *err, size_t errlen)
{
	snprintf(err, errlen, "out of memory");
	return -1;
}

static bool parse_int(const char *s, long min, long max, int *out)
{
	char *end;
	if(*s == '\0') return false;
	long v = strtol(s, &end, 10);
	if(*end != '\0' || v < min || v > max) return false;
	*out = (int)v;
	return true;
}

static bool all_digits(const char *s, size_t len)
{
	if(strlen(s) != len) return false;
	for(size_t i = 0; i < len; i++){
		if(s[i] < '0' || s[i] > '9') return false;
	}
	return true;
}

static bool region_ok(const char *s)
{
	if(*s == '\0' || strlen(s) > 32) return false;
	for(; *s; s++){
		if(!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-')) return false;
	}
	return true;
}

static int apply(struct jobs_config *cfg, const char *key, const char *value, char *err, size_t errlen)
{
	if(strcmp(key, "db_path") == 0){
		if(*value == '\0'){
			snprintf(err, errlen, "plugin_opt_db_path must not be empty");
			return -1;
		}
		return set_string(&cfg->db_path, value) ? oom(err, errlen) : 0;
	}
	if(strcmp(key, "synchronous") == 0){
		if(strcmp(value, "normal") == 0) cfg->synchronous = JOBS_SYNC_NORMAL;
		else if(strcmp(value, "full") == 0) cfg->synchronous = JOBS_SYNC_FULL;
		else{
			snprintf(err, errlen, "plugin_opt_synchronous must be 'normal' or 'full', not '%s'", value);
			return -1;
		}
		return 0;
	}
	if(strcmp(key, "max_pending") == 0){
		if(!parse_int(value, 1, JOBS_MAX_PENDING_LIMIT, &cfg->max_pending)){
			snprintf(err, errlen, "plugin_opt_max_pending must be a whole number from 1 to %d, not '%s'",
					JOBS_MAX_PENDING_LIMIT, value);
			return -1;
		}
		return 0;
	}
	if(strcmp(key, "region") == 0){
		if(!region_ok(value)){
			snprintf(err, errlen, "plugin_opt_region must be lower-case letters, digits and '-', not '%s'", value);
			return -1;
		}
		return set_string(&cfg->region, value) ? oom(err, errlen) : 0;
	}
	if(strcmp(key, "account_id") == 0){
		if(!all_digits(value, 12)){
			snprintf(err, errlen, "plugin_opt_account_id must be 12 digits, not '%s'", value);
			return -1;
		}
		return set_string(&cfg->account_id, value) ? oom(err, errlen) : 0;
	}
	if(strcmp(key, "db_max_mb") == 0 || strcmp(key, "rate_limit") == 0){
		int *dst = key[0] == 'd' ? &cfg->db_max_mb : &cfg->rate_limit;
		if(!parse_int(value, 0, 1000000, dst)){
			snprintf(err, errlen, "plugin_opt_%s must be a whole number from 0 to 1000000, not '%s'", key, value);
			return -1;
		}
		return 0;
	}
	if(strcmp(key, "http_listen") == 0){
		/* ADDRESS:PORT, [IPv6]:PORT, or PORT alone for 127.0.0.1 */
		const char *colon = strrchr(value, ':');
		char address[256];
		const char *port = colon ? colon + 1 : value;
		if(!colon) snprintf(address, sizeof(address), "127.0.0.1");
		else if(value[0] == '[' && colon > value + 1 && colon[-1] == ']') snprintf(address, sizeof(address), "%.*s", (int)(colon - value - 2), value + 1);
		else snprintf(address, sizeof(address), "%.*s", (int)(colon - value), value);
		if(!parse_int(port, 1, 65535, &cfg->http_port) || !address[0]){
			snprintf(err, errlen, "plugin_opt_http_listen must be ADDRESS:PORT, [IPv6]:PORT or PORT, not '%s'", value);
			return -1;
		}
		return set_string(&cfg->http_address, address) ? oom(err, errlen) : 0;
	}
	if(strcmp(key, "http_max_connections") == 0 || strcmp(key, "http_max_connections_per_address") == 0
			|| strcmp(key, "http_request_timeout") == 0){
		bool timeout = strcmp(key, "http_request_timeout") == 0;
		int *dst = timeout ? &cfg->http_request_timeout
			: strcmp(key, "http_max_connections") == 0 ? &cfg->http_max_connections
			: &cfg->http_max_connections_per_address;
		long max = timeout ? 3600 : 1000000;
		if(!parse_int(value, 1, max, dst)){
			snprintf(err, errlen, "plugin_opt_%s must be a whole number from 1 to %ld, not '%s'", key, max, value);
			return -1;
		}
		return 0;
	}
	if(strcmp(key, "http_keys_file") == 0) return set_string(&cfg->http_keys_file, value) ? oom(err, errlen) : 0;
	if(strcmp(key, "http_unsigned_identity") == 0){
		if(!access_identity_valid(value)){
			snprintf(err, errlen, "plugin_opt_http_unsigned_identity must be an identity (an operator or a thing), "
					"not empty and without '+', '#' or '/', not '%s'", value);
			return -1;
		}
		return set_string(&cfg->http_unsigned_identity, value) ? oom(err, errlen) : 0;
	}
	if(strcmp(key, "http_tls_cert") == 0) return set_string(&cfg->http_tls_cert, value) ? oom(err, errlen) : 0;
	if(strcmp(key, "http_tls_key") == 0) return set_string(&cfg->http_tls_key, value) ? oom(err, errlen) : 0;
	if(strcmp(key, "time_scale") == 0){
		char *end;
		double v = strtod(value, &end);
		if(*value == '\0' || *end != '\0' || !(v >= 0.001 && v <= 100000)){
			snprintf(err, errlen, "plugin_opt_time_scale must be a number from 0.001 to 100000, not '%s'", value);
			return -1;
		}
		cfg->time_scale = v;
		return 0;
	}
	if(strcmp(key, "test_controls") == 0){
		if(strcmp(value, "on") != 0 && strcmp(value, "off") != 0){
			snprintf(err, errlen, "plugin_opt_test_controls must be 'on' or 'off', not '%s'", value);
			return -1;
		}
		cfg->test_controls = strcmp(value, "on") == 0;
		return 0;
	}
	int rc = access_option(&cfg->access, key, value, err, errlen);
	if(rc != 0) return rc < 0 ? -1 : 0;
	snprintf(err, errlen, "unknown option plugin_opt_%s", key);
	return -1;
}

int config_parse(const struct jobs_option *opts, size_t count, struct jobs_config *cfg,
		char *err, size_t errlen)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->synchronous = JOBS_SYNC_NORMAL;
	cfg->max_pending = JOBS_DEFAULT_MAX_PENDING;
	cfg->http_max_connections = JOBS_DEFAULT_HTTP_MAX_CONNECTIONS;
	cfg->http_max_connections_per_address = JOBS_DEFAULT_HTTP_MAX_PER_ADDRESS;
	cfg->http_request_timeout = JOBS_DEFAULT_HTTP_REQUEST_TIMEOUT;
	cfg->time_scale = 1.0;
	cfg->access.isolation = true;
	if(set_string(&cfg->db_path, JOBS_DEFAULT_DB_PATH)
			|| set_string(&cfg->region, "us-east-1")
			|| set_string(&cfg->account_id, "000000000000")){
		snprintf(err, errlen, "out of memory");
		config_free(cfg);
		return -1;
	}
	for(size_t i = 0; i < count; i++){
		if(!opts[i].key || !opts[i].value || apply(cfg, opts[i].key, opts[i].value, err, errlen)){
			if(!opts[i].key || !opts[i].value) snprintf(err, errlen, "option without a key or value");
			config_free(cfg);
			return -1;
		}
	}
	/* Options of the HTTP API without the API would be silently ignored. */
	const char *http_only = cfg->http_keys_file ? "http_keys_file" : cfg->http_tls_cert ? "http_tls_cert"
		: cfg->http_tls_key ? "http_tls_key" : NULL;
	if(http_only && !cfg->http_address){
		snprintf(err, errlen, "plugin_opt_%s is set but plugin_opt_http_listen is not, so there is no HTTP API "
				"to use it: add plugin_opt_http_listen ADDRESS:PORT, or remove plugin_opt_%s", http_only, http_only);
		config_free(cfg);
		return -1;
	}
	if(cfg->http_keys_file && cfg->http_unsigned_identity){
		snprintf(err, errlen, "plugin_opt_http_unsigned_identity is for a listener without keys file: "
				"with plugin_opt_http_keys_file every request is signed and acts as its key's identity");
		config_free(cfg);
		return -1;
	}
	return 0;
}

void config_free(struct jobs_config *cfg)
{
	free(cfg->db_path);
	free(cfg->region);
	free(cfg->account_id);
	access_config_free(&cfg->access);
	free(cfg->http_address);
	free(cfg->http_keys_file);
	free(cfg->http_unsigned_identity);
	free(cfg->http_tls_cert);
	free(cfg->http_tls_key);
	memset(cfg, 0, sizeof(*cfg));
}
