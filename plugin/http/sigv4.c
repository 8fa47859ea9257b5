/* AWS Signature Version 4 verification and the key store behind it (see sigv4.h
 * for the rules and formats).
 *
 * Layout: the key store and credentials-file parser; date
 * parsing and formatting (pure arithmetic, no timegm); the canonical request (URI,
 * query, headers, payload hash) built exactly as botocore builds it; the Authorization
 * header parser; sigv4_verify(), which runs the checks in the order AWS reports them.
 *
 * Ownership: sigv4_keys owns every string in it (secrets are wiped with
 * OPENSSL_cleanse before free). Everything else here borrows the caller's memory and
 * frees what it allocates before returning; the one exception is
 * sigv4_canonical_request(), whose result the caller frees. */
#include "http/sigv4.h"
#include "core/access.h"
#include "util/civil.h"
#include "util/hex.h"
#include "util/strbuf.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define ALGORITHM "AWS4-HMAC-SHA256"
#define TERMINATOR "aws4_request"
#define MAX_SKEW_S (15 * 60)
#define MAX_SECRET 1024
#define MAX_IDENTITY 256
#define IDENTITY_KEY "mosquitto_jobs_identity" /* the INI key the AWS CLI ignores */
#define AMZ_DATE_LEN 16 /* YYYYMMDDTHHMMSSZ */
#define SHA256_LEN 32
#define SHA256_HEX_LEN 64

/* ---- small helpers -------------------------------------------------------------- */

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* a[0..alen) equals the NUL-terminated b, ASCII case-insensitively. */
static bool ieq_n(const char *a, size_t alen, const char *b)
{
	if(strlen(b) != alen) return false;
	for(size_t i = 0; i < alen; i++){
		if(lower(a[i]) != lower(b[i])) return false;
	}
	return true;
}

static bool ieq(const char *a, const char *b)
{
	return ieq_n(a, strlen(a), b);
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Whitespace as Python's str.split() sees it in ASCII (botocore's trimall). */
static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
		|| (c >= 0x1c && c <= 0x1f);
}

static bool is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
		|| c == '-' || c == '_' || c == '.' || c == '~';
}

static void to_hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for(size_t i = 0; i < n; i++){
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * n] = '\0';
}

/* Percent-encodes s[0..n) (uppercase hex), keeping the unreserved set and, when
 * keep_slash, '/': Python's quote(s, safe='/~') or quote(s, safe='-_.~'). */
static void add_encoded(struct strbuf *b, const char *s, size_t n, bool keep_slash)
{
	static const char digits[] = "0123456789ABCDEF";
	for(size_t i = 0; i < n; i++){
		unsigned char c = (unsigned char)s[i];
		if(is_unreserved(c) || (keep_slash && c == '/')){
			strbuf_addc(b, (char)c);
		}else{
			char esc[3] = { '%', digits[c >> 4], digits[c & 0xf] };
			strbuf_add(b, esc, 3);
		}
	}
}

/* Percent-decodes s[0..n) into out (at least n bytes); a '%' not followed by two hex
 * digits stays as is. Returns the decoded length. */
static size_t decode(const char *s, size_t n, char *out)
{
	size_t o = 0;
	for(size_t i = 0; i < n; i++){
		int hi, lo;
		if(s[i] == '%' && i + 2 < n && (hi = hex_digit(s[i + 1])) >= 0 && (lo = hex_digit(s[i + 2])) >= 0){
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		}else{
			out[o++] = s[i];
		}
	}
	return o;
}

static int sha256(const void *data, size_t n, unsigned char out[SHA256_LEN])
{
	unsigned int len = 0;
	if(!EVP_Digest(data ? data : "", n, out, &len, EVP_sha256(), NULL) || len != SHA256_LEN) return -1;
	return 0;
}

static int sha256_hex(const void *data, size_t n, char out[SHA256_HEX_LEN + 1])
{
	unsigned char md[SHA256_LEN];
	if(sha256(data, n, md)) return -1;
	to_hex(md, sizeof(md), out);
	return 0;
}

static int hmac(const void *key, size_t key_len, const char *msg, size_t msg_len, unsigned char out[SHA256_LEN])
{
	unsigned int len = 0;
	if(!HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)msg, msg_len, out, &len)
			|| len != SHA256_LEN) return -1;
	return 0;
}

/* ---- key store ------------------------------------------------------------------ */

static char *dup_n(const char *s, size_t n)
{
	char *p = malloc(n + 1);
	if(!p) return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static void wipe_free(char *s)
{
	if(!s) return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

/* Printable ASCII without space, and without '/' or ',' for ids. Returns a reason or NULL. */
static const char *check_token(const char *s, size_t n, size_t max, bool is_id)
{
	if(n == 0) return "is empty";
	if(n > max) return "is too long";
	for(size_t i = 0; i < n; i++){
		unsigned char c = (unsigned char)s[i];
		if(c <= 0x20 || c >= 0x7f) return "holds a space or a non-printable character";
		if(is_id && c == '/') return "holds '/'";
		/* ',' ends the Credential parameter of an Authorization header */
		if(is_id && c == ',') return "holds ','";
	}
	return NULL;
}

static const struct sigv4_key *key_of(const struct sigv4_keys *keys, const char *access_key_id, size_t id_len)
{
	if(!keys) return NULL;
	for(size_t i = 0; i < keys->count; i++){
		const char *id = keys->keys[i].access_key_id;
		if(strlen(id) == id_len && memcmp(id, access_key_id, id_len) == 0) return &keys->keys[i];
	}
	return NULL;
}

const char *sigv4_keys_find(const struct sigv4_keys *keys, const char *access_key_id, size_t id_len)
{
	const struct sigv4_key *k = key_of(keys, access_key_id, id_len);
	return k ? k->secret : NULL;
}

const char *sigv4_keys_identity(const struct sigv4_keys *keys, const char *access_key_id)
{
	const struct sigv4_key *k = key_of(keys, access_key_id, strlen(access_key_id));
	return k ? k->identity : NULL;
}

/* An identity: a token that access.c accepts as one. Returns a reason or NULL. */
static const char *check_identity(const char *s, size_t n)
{
	const char *why = check_token(s, n, MAX_IDENTITY, false);
	if(why) return why;
	char copy[MAX_IDENTITY + 1];
	memcpy(copy, s, n);
	copy[n] = '\0';
	return access_identity_valid(copy) ? NULL : "holds '+', '#' or '/'";
}

static int keys_add_n(struct sigv4_keys *keys, const char *id, size_t id_len, const char *secret,
		size_t secret_len, const char *identity, size_t identity_len, char *err, size_t errlen)
{
	const char *why = check_token(id, id_len, SIGV4_MAX_KEY_ID, true);
	if(why){
		snprintf(err, errlen, "the access key id %s", why);
		return -1;
	}
	why = check_token(secret, secret_len, MAX_SECRET, false);
	if(why){
		snprintf(err, errlen, "the secret access key %s", why);
		return -1;
	}
	why = identity ? check_identity(identity, identity_len) : "is missing";
	if(why){
		snprintf(err, errlen, "the identity of access key id '%.*s' %s", (int)id_len, id, why);
		return -1;
	}
	if(sigv4_keys_find(keys, id, id_len)){
		snprintf(err, errlen, "access key id '%.*s' is defined twice", (int)id_len, id);
		return -1;
	}
	struct sigv4_key *grown = realloc(keys->keys, (keys->count + 1) * sizeof(*grown));
	if(!grown) goto oom;
	keys->keys = grown;
	struct sigv4_key *k = &keys->keys[keys->count];
	k->access_key_id = dup_n(id, id_len);
	k->secret = dup_n(secret, secret_len);
	k->identity = dup_n(identity, identity_len);
	if(!k->access_key_id || !k->secret || !k->identity){
		free(k->access_key_id);
		wipe_free(k->secret);
		free(k->identity);
		goto oom;
	}
	keys->count++;
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

int sigv4_keys_add(struct sigv4_keys *keys, const char *access_key_id, const char *secret,
		const char *identity, char *err, size_t errlen)
{
	return keys_add_n(keys, access_key_id, strlen(access_key_id), secret, strlen(secret),
			identity, identity ? strlen(identity) : 0, err, errlen);
}

void sigv4_keys_free(struct sigv4_keys *keys)
{
	if(!keys) return;
	for(size_t i = 0; i < keys->count; i++){
		free(keys->keys[i].access_key_id);
		wipe_free(keys->keys[i].secret);
		free(keys->keys[i].identity);
	}
	free(keys->keys);
	keys->keys = NULL;
	keys->count = 0;
}

/* The [profile] being read from an INI credentials file. */
struct profile {
	bool open;
	size_t line;
	const char *name;
	size_t name_len;
	const char *id, *secret, *identity;
	size_t id_len, secret_len, identity_len;
	size_t id_line, secret_line, identity_line;
};

/* Adds the profile's pair, if it has one. */
static int profile_close(struct profile *p, struct sigv4_keys *out, char *err, size_t errlen)
{
	char why[300];
	if(!p->open || (!p->id && !p->secret && !p->identity)) return 0;
	if(!p->id || !p->secret){
		snprintf(err, errlen, "line %zu: profile [%.*s] has %s but no %s", p->line, (int)p->name_len, p->name,
				p->id ? "aws_access_key_id" : p->secret ? "aws_secret_access_key" : IDENTITY_KEY,
				p->id ? "aws_secret_access_key" : "aws_access_key_id");
		return -1;
	}
	if(!p->identity){
		snprintf(err, errlen, "line %zu: profile [%.*s] has no " IDENTITY_KEY ": add '" IDENTITY_KEY
				" = NAME', the operator or thing its key acts as", p->line, (int)p->name_len, p->name);
		return -1;
	}
	if(keys_add_n(out, p->id, p->id_len, p->secret, p->secret_len, p->identity, p->identity_len, why, sizeof(why))){
		snprintf(err, errlen, "line %zu: %s", p->id_line, why);
		return -1;
	}
	return 0;
}

static void trim(const char **s, size_t *n)
{
	while(*n && (**s == ' ' || **s == '\t')){
		(*s)++;
		(*n)--;
	}
	while(*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t')) (*n)--;
}

/* One line of a credentials file (trimmed, not a comment). */
static int parse_line(const char *s, size_t n, size_t lineno, struct profile *p, struct sigv4_keys *out,
		char *err, size_t errlen)
{
	char why[300];
	if(s[0] == '['){
		if(s[n - 1] != ']'){
			snprintf(err, errlen, "line %zu: a section header must end with ']'", lineno);
			return -1;
		}
		if(profile_close(p, out, err, errlen)) return -1;
		memset(p, 0, sizeof(*p));
		p->open = true;
		p->line = lineno;
		p->name = s + 1;
		p->name_len = n - 2;
		trim(&p->name, &p->name_len);
		if(p->name_len == 0){
			snprintf(err, errlen, "line %zu: empty profile name", lineno);
			return -1;
		}
		return 0;
	}
	if(p->open){
		const char *eq = memchr(s, '=', n);
		if(!eq){
			snprintf(err, errlen, "line %zu: expected 'key = value' inside profile [%.*s]", lineno,
					(int)p->name_len, p->name);
			return -1;
		}
		const char *key = s, *value = eq + 1;
		size_t key_len = (size_t)(eq - s), value_len = n - key_len - 1;
		trim(&key, &key_len);
		trim(&value, &value_len);
		const char **dst = NULL;
		size_t *dst_len = NULL, *dst_line = NULL;
		if(ieq_n(key, key_len, "aws_access_key_id")){
			dst = &p->id, dst_len = &p->id_len, dst_line = &p->id_line;
		}else if(ieq_n(key, key_len, "aws_secret_access_key")){
			dst = &p->secret, dst_len = &p->secret_len, dst_line = &p->secret_line;
		}else if(ieq_n(key, key_len, IDENTITY_KEY)){
			dst = &p->identity, dst_len = &p->identity_len, dst_line = &p->identity_line;
		}else{
			return 0; /* aws_session_token, region, ...: not ours */
		}
		if(*dst){
			snprintf(err, errlen, "line %zu: %.*s given twice in profile [%.*s]", lineno, (int)key_len, key,
					(int)p->name_len, p->name);
			return -1;
		}
		const char *bad = dst == &p->identity ? check_identity(value, value_len)
			: check_token(value, value_len, dst == &p->id ? SIGV4_MAX_KEY_ID : MAX_SECRET, dst == &p->id);
		if(bad){
			snprintf(err, errlen, "line %zu: the value of %.*s %s", lineno, (int)key_len, key, bad);
			return -1;
		}
		*dst = value, *dst_len = value_len, *dst_line = lineno;
		return 0;
	}
	/* ACCESS_KEY_ID SECRET_ACCESS_KEY IDENTITY */
	const char *word[4];
	size_t word_len[4], words = 0;
	for(size_t i = 0; i < n && words < 4;){
		while(i < n && (s[i] == ' ' || s[i] == '\t')) i++;
		if(i == n) break;
		word[words] = s + i;
		while(i < n && s[i] != ' ' && s[i] != '\t') i++;
		word_len[words] = (size_t)(s + i - word[words]);
		words++;
	}
	if(words == 2 && !memchr(s, '=', n)){
		snprintf(err, errlen, "line %zu: access key id '%.*s' has no identity: add the operator or thing "
				"its key acts as, 'ACCESS_KEY_ID SECRET_ACCESS_KEY IDENTITY'", lineno, (int)word_len[0], word[0]);
		return -1;
	}
	if(words != 3 || (word_len[1] == 1 && word[1][0] == '=')){
		const char *eq = memchr(s, '=', n);
		snprintf(err, errlen, "line %zu: expected 'ACCESS_KEY_ID SECRET_ACCESS_KEY IDENTITY'%s", lineno,
				eq ? " (or 'key = value' inside a [profile] section)" : "");
		return -1;
	}
	if(keys_add_n(out, word[0], word_len[0], word[1], word_len[1], word[2], word_len[2], why, sizeof(why))){
		snprintf(err, errlen, "line %zu: %s", lineno, why);
		return -1;
	}
	return 0;
}

int sigv4_keys_parse(const char *text, size_t len, struct sigv4_keys *out, char *err, size_t errlen)
{
	struct profile p;
	memset(&p, 0, sizeof(p));
	memset(out, 0, sizeof(*out));
	size_t lineno = 0, pos = 0;
	while(pos < len){
		const char *s = text + pos;
		const char *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos;
		pos += n + (nl ? 1 : 0);
		lineno++;
		if(memchr(s, '\0', n)){
			snprintf(err, errlen, "line %zu: NUL byte", lineno);
			goto fail;
		}
		if(n && s[n - 1] == '\r') n--;
		trim(&s, &n);
		if(n == 0 || s[0] == '#' || s[0] == ';') continue;
		if(parse_line(s, n, lineno, &p, out, err, errlen)) goto fail;
	}
	if(profile_close(&p, out, err, errlen)) goto fail;
	if(out->count == 0){
		snprintf(err, errlen, "no access keys: expected 'ACCESS_KEY_ID SECRET_ACCESS_KEY IDENTITY' lines "
				"or [profile] sections with aws_access_key_id, aws_secret_access_key and " IDENTITY_KEY);
		goto fail;
	}
	return 0;
fail:
	sigv4_keys_free(out);
	return -1;
}

/* ---- dates ---------------------------------------------------------------------- */

static bool valid_civil(int64_t y, int mo, int d, int h, int mi, int s)
{
	return mo >= 1 && mo <= 12 && d >= 1 && d <= civil_days_in_month(y, mo) && h >= 0 && h <= 23
		&& mi >= 0 && mi <= 59 && s >= 0 && s <= 59;
}

static int digits(const char *s, int n)
{
	int v = 0;
	for(int i = 0; i < n; i++){
		if(!is_digit(s[i])) return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* YYYYMMDDTHHMMSSZ -> epoch seconds. */
static bool parse_amz_date(const char *s, int64_t *out)
{
	if(strlen(s) != AMZ_DATE_LEN || s[8] != 'T' || s[15] != 'Z') return false;
	int y = digits(s, 4), mo = digits(s + 4, 2), d = digits(s + 6, 2);
	int h = digits(s + 9, 2), mi = digits(s + 11, 2), sec = digits(s + 13, 2);
	if(y < 0 || !valid_civil(y, mo, d, h, mi, sec)) return false;
	*out = civil_to_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	return true;
}

static void put_digits(char *out, int64_t v, int n)
{
	for(int i = n - 1; i >= 0; i--, v /= 10) out[i] = (char)('0' + v % 10);
}

/* Epoch seconds -> YYYYMMDDTHHMMSSZ (years 0..9999). */
static void format_amz_date(int64_t t, char out[AMZ_DATE_LEN + 1])
{
	int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	int64_t rem = t - days * 86400, y;
	int m, d;
	civil_from_days(days, &y, &m, &d);
	if(y < 0 || y > 9999){
		memcpy(out, "00000000T000000Z", AMZ_DATE_LEN + 1);
		return;
	}
	put_digits(out, y, 4);
	put_digits(out + 4, m, 2);
	put_digits(out + 6, d, 2);
	out[8] = 'T';
	put_digits(out + 9, rem / 3600, 2);
	put_digits(out + 11, rem / 60 % 60, 2);
	put_digits(out + 13, rem % 60, 2);
	out[15] = 'Z';
	out[16] = '\0';
}

static const char *skip_spaces(const char *s)
{
	while(*s == ' ' || *s == '\t') s++;
	return s;
}

/* An HTTP Date (RFC 1123 / RFC 2822: "[Mon, ]30 Nov 2026 12:00:00 GMT|UTC|Z|+hhmm")
 * -> epoch seconds. */
static bool parse_http_date(const char *s, int64_t *out)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	s = skip_spaces(s);
	const char *comma = strchr(s, ',');
	if(comma) s = skip_spaces(comma + 1);
	int d = 0, n = 0;
	while(is_digit(s[n]) && n < 2) d = d * 10 + (s[n++] - '0');
	if(n == 0 || s[n] != ' ') return false;
	s = skip_spaces(s + n);
	int mo = 0;
	for(int i = 0; i < 12; i++){
		if(ieq_n(s, 3, (char[]){ months[3 * i], months[3 * i + 1], months[3 * i + 2], '\0' })){
			mo = i + 1;
			break;
		}
	}
	if(!mo || s[3] != ' ') return false;
	s = skip_spaces(s + 3);
	int y = digits(s, 4);
	if(y < 0 || s[4] != ' ') return false;
	s = skip_spaces(s + 4);
	int h = digits(s, 2), mi, sec;
	if(h < 0 || s[2] != ':' || (mi = digits(s + 3, 2)) < 0 || s[5] != ':' || (sec = digits(s + 6, 2)) < 0
			|| (s[8] != ' ' && s[8] != '\t')) return false;
	s = skip_spaces(s + 8);
	int64_t offset = 0;
	if(*s == '+' || *s == '-'){
		int oh = digits(s + 1, 2), om;
		if(oh < 0 || (om = digits(s + 3, 2)) < 0 || om > 59) return false;
		offset = (*s == '-' ? -1 : 1) * (int64_t)(oh * 3600 + om * 60);
		s += 5;
	}else if(strncmp(s, "GMT", 3) == 0 || strncmp(s, "UTC", 3) == 0){
		s += 3;
	}else if(strncmp(s, "UT", 2) == 0 || *s == 'Z'){
		s += *s == 'Z' ? 1 : 2;
	}else{
		return false;
	}
	if(*skip_spaces(s) != '\0') return false;
	if(!valid_civil(y, mo, d, h, mi, sec)) return false;
	*out = civil_to_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset;
	return true;
}

/* ---- the canonical request ------------------------------------------------------ */

static const struct sigv4_header *find_header(const struct sigv4_request *req, const char *name, size_t *count)
{
	const struct sigv4_header *first = NULL;
	size_t n = 0;
	for(size_t i = 0; i < req->header_count; i++){
		if(ieq(req->headers[i].name, name)){
			if(!first) first = &req->headers[i];
			n++;
		}
	}
	if(count) *count = n;
	return first;
}

/* botocore: quote(remove_dot_segments(path), safe='/~'), "/" for an empty path. */
static void add_canonical_uri(struct strbuf *b, const char *path)
{
	size_t n = path ? strlen(path) : 0;
	if(n == 0){
		strbuf_addc(b, '/');
		return;
	}
	/* Segments kept, as (start, length) pairs; ".." drops the last kept one. */
	size_t cap = 1;
	for(size_t i = 0; i < n; i++) cap += path[i] == '/';
	size_t (*seg)[2] = malloc(cap * sizeof(*seg));
	if(!seg){
		b->failed = true;
		return;
	}
	size_t kept = 0;
	for(size_t i = 0; i <= n;){
		size_t j = i;
		while(j < n && path[j] != '/') j++;
		size_t len = j - i;
		if(len == 0 || (len == 1 && path[i] == '.')){
			/* empty or "." */
		}else if(len == 2 && path[i] == '.' && path[i + 1] == '.'){
			if(kept) kept--;
		}else{
			seg[kept][0] = i;
			seg[kept][1] = len;
			kept++;
		}
		i = j + 1;
	}
	if(path[0] == '/') strbuf_addc(b, '/');
	for(size_t k = 0; k < kept; k++){
		if(k) strbuf_addc(b, '/');
		add_encoded(b, path + seg[k][0], seg[k][1], true);
	}
	if(path[n - 1] == '/' && kept) strbuf_addc(b, '/');
	free(seg);
}

struct query_pair {
	char *name, *value;   /* both encoded, in one allocation owned by name */
};

static int pair_cmp(const void *a, const void *b)
{
	const struct query_pair *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->value, y->value);
}

/* Each name and value decoded, then encoded with RFC 3986's unreserved set; empty pairs
 * dropped; sorted by name, then value; joined with '&'. */
static void add_canonical_query(struct strbuf *b, const char *query)
{
	if(!query || !*query) return;
	size_t n = strlen(query), cap = 1;
	for(size_t i = 0; i < n; i++) cap += query[i] == '&';
	struct query_pair *pairs = calloc(cap, sizeof(*pairs));
	char *scratch = malloc(n + 1);
	size_t count = 0;
	if(!pairs || !scratch){
		b->failed = true;
		goto cleanup;
	}
	for(size_t i = 0; i <= n;){
		size_t j = i;
		while(j < n && query[j] != '&') j++;
		if(j > i){
			const char *eq = memchr(query + i, '=', j - i);
			size_t name_len = eq ? (size_t)(eq - (query + i)) : j - i;
			const char *value = eq ? eq + 1 : query + j;
			size_t value_len = eq ? (size_t)(query + j - value) : 0;
			struct strbuf enc = { 0 };
			size_t dl = decode(query + i, name_len, scratch);
			add_encoded(&enc, scratch, dl, false);
			strbuf_addc(&enc, '\0');
			size_t value_at = enc.len;
			dl = decode(value, value_len, scratch);
			add_encoded(&enc, scratch, dl, false);
			strbuf_addc(&enc, '\0');
			if(enc.failed){
				free(enc.p);
				b->failed = true;
				goto cleanup;
			}
			pairs[count].name = enc.p;
			pairs[count].value = enc.p + value_at;
			count++;
		}
		i = j + 1;
	}
	qsort(pairs, count, sizeof(*pairs), pair_cmp);
	for(size_t k = 0; k < count; k++){
		if(k) strbuf_addc(b, '&');
		strbuf_adds(b, pairs[k].name);
		strbuf_addc(b, '=');
		strbuf_adds(b, pairs[k].value);
	}
cleanup:
	for(size_t k = 0; pairs && k < count; k++) free(pairs[k].name);
	free(pairs);
	free(scratch);
}

/* botocore's _header_value: ' '.join(value.split()). */
static void add_trimmed(struct strbuf *b, const char *v)
{
	bool first = true;
	while(*v){
		while(*v && is_ws(*v)) v++;
		if(!*v) break;
		const char *start = v;
		while(*v && !is_ws(*v)) v++;
		if(!first) strbuf_addc(b, ' ');
		strbuf_add(b, start, (size_t)(v - start));
		first = false;
	}
}

static bool is_tchar_lower(char c)
{
	return (c >= 'a' && c <= 'z') || is_digit(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* SignedHeaders: lowercase token names, strictly ascending, separated by ';'. Returns
 * whether it is well formed; *has_host says whether it names "host". */
static bool check_signed_headers(const char *sh, bool *has_host)
{
	*has_host = false;
	const char *prev = NULL;
	size_t prev_len = 0;
	const char *s = sh;
	for(;;){
		const char *e = s;
		while(*e && *e != ';') e++;
		size_t len = (size_t)(e - s);
		if(len == 0) return false;
		for(size_t i = 0; i < len; i++){
			if(!is_tchar_lower(s[i])) return false;
		}
		if(prev){
			size_t m = prev_len < len ? prev_len : len;
			int c = memcmp(prev, s, m);
			if(c > 0 || (c == 0 && prev_len >= len)) return false;
		}
		if(len == 4 && memcmp(s, "host", 4) == 0) *has_host = true;
		prev = s;
		prev_len = len;
		if(!*e) return true;
		s = e + 1;
	}
}

/* The first signed header missing from the request, copied to name; false if none. */
static bool missing_signed_header(const struct sigv4_request *req, const char *sh, char *name, size_t cap)
{
	for(const char *s = sh; *s;){
		const char *e = strchr(s, ';');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		bool found = false;
		for(size_t i = 0; i < req->header_count && !found; i++){
			found = ieq_n(s, len, req->headers[i].name);
		}
		if(!found){
			snprintf(name, cap, "%.*s", (int)len, s);
			return true;
		}
		if(!e) break;
		s = e + 1;
	}
	return false;
}

/* The payload hash botocore puts last: x-amz-content-sha256 if sent, else the body's. */
static int payload_hash(const struct sigv4_request *req, struct strbuf *b)
{
	const struct sigv4_header *h = find_header(req, "x-amz-content-sha256", NULL);
	if(h){
		strbuf_adds(b, h->value);
		return 0;
	}
	char hex[SHA256_HEX_LEN + 1];
	if(sha256_hex(req->body, req->body_len, hex)) return -1;
	strbuf_adds(b, hex);
	return 0;
}

/* Builds the canonical request for a well-formed SignedHeaders. Returns 0, or -1 (out
 * of memory, libcrypto failure) with b->failed or not. */
static int build_canonical(const struct sigv4_request *req, const char *sh, struct strbuf *b)
{
	for(const char *m = req->method; m && *m; m++) strbuf_addc(b, *m >= 'a' && *m <= 'z' ? (char)(*m - 32) : *m);
	strbuf_addc(b, '\n');
	add_canonical_uri(b, req->path);
	strbuf_addc(b, '\n');
	add_canonical_query(b, req->query);
	strbuf_addc(b, '\n');
	for(const char *s = sh; *s;){
		const char *e = strchr(s, ';');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		strbuf_add(b, s, len);
		strbuf_addc(b, ':');
		bool first = true;
		for(size_t i = 0; i < req->header_count; i++){
			if(!ieq_n(s, len, req->headers[i].name)) continue;
			if(!first) strbuf_addc(b, ',');
			add_trimmed(b, req->headers[i].value ? req->headers[i].value : "");
			first = false;
		}
		strbuf_addc(b, '\n');
		if(!e) break;
		s = e + 1;
	}
	strbuf_addc(b, '\n');
	strbuf_adds(b, sh);
	strbuf_addc(b, '\n');
	if(payload_hash(req, b)) return -1;
	return b->failed ? -1 : 0;
}

int sigv4_canonical_request(const struct sigv4_request *req, const char *signed_headers, char **out)
{
	bool has_host;
	*out = NULL;
	if(!signed_headers || !check_signed_headers(signed_headers, &has_host)) return -1;
	struct strbuf b = { 0 };
	if(build_canonical(req, signed_headers, &b)){
		free(b.p);
		return -1;
	}
	*out = b.p;
	return 0;
}

/* ---- the Authorization header --------------------------------------------------- */

struct auth {
	char access_key_id[SIGV4_MAX_KEY_ID + 1];
	char date[9];
	char region[SIGV4_MAX_SCOPE_PART + 1];
	char service[SIGV4_MAX_SCOPE_PART + 1];
	char *signed_headers;   /* malloc'd */
	char signature[SHA256_HEX_LEN + 1];
	bool signature_ok;      /* 64 lowercase hex digits */
};

__attribute__((format(printf, 3, 4)))
static enum sigv4_error fail(struct sigv4_result *out, enum sigv4_error e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out->message, sizeof(out->message), fmt, ap);
	va_end(ap);
	out->error = e;
	return e;
}

static bool scope_part_ok(const char *s, size_t n)
{
	if(n == 0 || n > SIGV4_MAX_SCOPE_PART) return false;
	for(size_t i = 0; i < n; i++){
		char c = s[i];
		if(!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-' || c == '_' || c == '.')) return false;
	}
	return true;
}

/* Credential=AKID/YYYYMMDD/REGION/SERVICE/aws4_request */
static enum sigv4_error parse_credential(const char *v, size_t n, struct auth *a, struct sigv4_result *out)
{
	const char *part[5];
	size_t len[5], k = 0;
	const char *s = v, *end = v + n;
	while(k < 5){
		const char *slash = memchr(s, '/', (size_t)(end - s));
		part[k] = s;
		len[k] = slash ? (size_t)(slash - s) : (size_t)(end - s);
		k++;
		if(!slash) break;
		s = slash + 1;
	}
	if(k != 5 || part[4] + len[4] != end){
		return fail(out, SIGV4_INCOMPLETE_SIGNATURE, "Credential '%.*s' is malformed; expecting "
				"\"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".", (int)(n > 200 ? 200 : n), v);
	}
	if(check_token(part[0], len[0], SIGV4_MAX_KEY_ID, true)){
		return fail(out, SIGV4_INCOMPLETE_SIGNATURE, "Credential holds a malformed access key id.");
	}
	memcpy(a->access_key_id, part[0], len[0]);
	a->access_key_id[len[0]] = '\0';
	snprintf(out->access_key_id, sizeof(out->access_key_id), "%s", a->access_key_id);
	if(len[1] != 8 || digits(part[1], 8) < 0){
		return fail(out, SIGV4_INCOMPLETE_SIGNATURE, "Credential should be scoped to a valid date (YYYYMMDD), not '%.*s'.",
				(int)(len[1] > 16 ? 16 : len[1]), part[1]);
	}
	memcpy(a->date, part[1], 8);
	a->date[8] = '\0';
	if(!scope_part_ok(part[2], len[2])){
		return fail(out, SIGV4_INCOMPLETE_SIGNATURE, "Credential should be scoped to a valid region.");
	}
	memcpy(a->region, part[2], len[2]);
	a->region[len[2]] = '\0';
	snprintf(out->region, sizeof(out->region), "%s", a->region);
	if(!scope_part_ok(part[3], len[3])){
		return fail(out, SIGV4_INCOMPLETE_SIGNATURE, "Credential should be scoped to correct service.");
	}
	memcpy(a->service, part[3], len[3]);
	a->service[len[3]] = '\0';
	snprintf(out->service, sizeof(out->service), "%s", a->service);
	if(len[4] != strlen(TERMINATOR) || memcmp(part[4], TERMINATOR, len[4]) != 0){
		return fail(out, SIGV4_INCOMPLETE_SIGNATURE, "Credential should be scoped with a valid terminator: "
				"'aws4_request', not '%.*s'.", (int)(len[4] > 32 ? 32 : len[4]), part[4]);
	}
	return SIGV4_OK;
}

/* "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..." (parameters in
 * any order, ',' between them, spaces allowed around each). */
static enum sigv4_error parse_authorization(const char *value, struct auth *a, struct sigv4_result *out)
{
	const char *s = skip_spaces(value);
	size_t alg_len = strlen(ALGORITHM);
	if(strncmp(s, ALGORITHM, alg_len) != 0 || (s[alg_len] != ' ' && s[alg_len] != '\t')){
		size_t n = strcspn(s, " \t");
		return fail(out, SIGV4_INCOMPLETE_SIGNATURE, "Unsupported Authorization type '%.*s'; expected "
				"'" ALGORITHM "'.", (int)(n > 32 ? 32 : n), s);
	}
	s += alg_len;
	bool have_cred = false, have_sig = false;
	while(*s){
		s = skip_spaces(s);
		const char *e = strchr(s, ',');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		const char *item = s;
		while(n && (item[n - 1] == ' ' || item[n - 1] == '\t')) n--;
		s = e ? e + 1 : s + strlen(s);
		if(n == 0) continue;
		const char *eq = memchr(item, '=', n);
		if(!eq) continue;   /* not a parameter of ours */
		size_t key_len = (size_t)(eq - item), vlen = n - key_len - 1;
		const char *v = eq + 1;
		if(ieq_n(item, key_len, "Credential")){
			if(have_cred) return fail(out, SIGV4_INCOMPLETE_SIGNATURE, "Authorization header has 'Credential' twice.");
			have_cred = true;
			enum sigv4_error rc = parse_credential(v, vlen, a, out);
			if(rc) return rc;
		}else if(ieq_n(item, key_len, "SignedHeaders")){
			if(a->signed_headers) return fail(out, SIGV4_INCOMPLETE_SIGNATURE, "Authorization header has 'SignedHeaders' twice.");
			a->signed_headers = dup_n(v, vlen);
			if(!a->signed_headers) return fail(out, SIGV4_INTERNAL, "Out of memory.");
		}else if(ieq_n(item, key_len, "Signature")){
			if(have_sig) return fail(out, SIGV4_INCOMPLETE_SIGNATURE, "Authorization header has 'Signature' twice.");
			have_sig = true;
			a->signature_ok = vlen == SHA256_HEX_LEN;
			for(size_t i = 0; i < vlen && a->signature_ok; i++){
				a->signature_ok = is_digit(v[i]) || (v[i] >= 'a' && v[i] <= 'f');
			}
			if(a->signature_ok){
				memcpy(a->signature, v, SHA256_HEX_LEN);
				a->signature[SHA256_HEX_LEN] = '\0';
			}
		}
	}
	if(!have_cred || !have_sig || !a->signed_headers){
		return fail(out, SIGV4_INCOMPLETE_SIGNATURE, "%s%s%s",
				have_cred ? "" : "Authorization header requires 'Credential' parameter. ",
				have_sig ? "" : "Authorization header requires 'Signature' parameter. ",
				a->signed_headers ? "" : "Authorization header requires 'SignedHeaders' parameter. ");
	}
	return SIGV4_OK;
}

/* ---- verification --------------------------------------------------------------- */

/* The signature of string_to_sign with the key chain of secret and the scope. */
static int compute_signature(const char *secret, const struct auth *a, const char *sts, char hex[SHA256_HEX_LEN + 1])
{
	unsigned char k[SHA256_LEN];
	char seed[4 + MAX_SECRET + 1];
	int rc = -1;
	int n = snprintf(seed, sizeof(seed), "AWS4%s", secret);
	if(n < 0 || (size_t)n >= sizeof(seed)) goto cleanup;
	if(hmac(seed, (size_t)n, a->date, strlen(a->date), k)) goto cleanup;
	if(hmac(k, sizeof(k), a->region, strlen(a->region), k)) goto cleanup;
	if(hmac(k, sizeof(k), a->service, strlen(a->service), k)) goto cleanup;
	if(hmac(k, sizeof(k), TERMINATOR, strlen(TERMINATOR), k)) goto cleanup;
	unsigned char sig[SHA256_LEN];
	if(hmac(k, sizeof(k), sts, strlen(sts), sig)) goto cleanup;
	to_hex(sig, sizeof(sig), hex);
	rc = 0;
cleanup:
	OPENSSL_cleanse(seed, sizeof(seed));
	OPENSSL_cleanse(k, sizeof(k));
	return rc;
}

static bool is_hex64(const char *s)
{
	if(strlen(s) != SHA256_HEX_LEN) return false;
	for(const char *p = s; *p; p++){
		if(hex_digit(*p) < 0) return false;
	}
	return true;
}

/* x-amz-content-sha256, when sent, must describe the body actually received. */
static enum sigv4_error check_payload_header(const struct sigv4_request *req, struct sigv4_result *out)
{
	const struct sigv4_header *h = find_header(req, "x-amz-content-sha256", NULL);
	if(!h) return SIGV4_OK;
	const char *v = h->value ? h->value : "";
	if(strcmp(v, "UNSIGNED-PAYLOAD") == 0){
		if(req->body_len == 0) return SIGV4_OK;
		return fail(out, SIGV4_INVALID_SIGNATURE, "x-amz-content-sha256 UNSIGNED-PAYLOAD is not accepted "
				"with a request body: sign the payload.");
	}
	if(!is_hex64(v)){
		return fail(out, SIGV4_INVALID_SIGNATURE, "Unsupported x-amz-content-sha256 value; expected the "
				"hex SHA-256 of the body.");
	}
	char hex[SHA256_HEX_LEN + 1];
	if(sha256_hex(req->body, req->body_len, hex)) return fail(out, SIGV4_INTERNAL, "SHA-256 failed.");
	for(int i = 0; i < SHA256_HEX_LEN; i++){
		if(lower(v[i]) != hex[i]){
			return fail(out, SIGV4_INVALID_SIGNATURE, "The provided 'x-amz-content-sha256' header does not "
					"match what was computed.");
		}
	}
	return SIGV4_OK;
}

/* The signed time: X-Amz-Date, else Date. Fills iso (YYYYMMDDTHHMMSSZ) and *t. */
static enum sigv4_error request_time(const struct sigv4_request *req, char iso[AMZ_DATE_LEN + 1], int64_t *t,
		const char **source, struct sigv4_result *out)
{
	const struct sigv4_header *h = find_header(req, "x-amz-date", NULL);
	if(h){
		*source = "X-Amz-Date";
		const char *v = h->value ? h->value : "";
		if(!parse_amz_date(v, t)){
			return fail(out, SIGV4_INCOMPLETE_SIGNATURE, "Date must be in ISO-8601 'basic format'. Got '%.40s'.", v);
		}
		memcpy(iso, v, AMZ_DATE_LEN + 1);
		return SIGV4_OK;
	}
	h = find_header(req, "date", NULL);
	if(h){
		*source = "Date";
		const char *v = h->value ? h->value : "";
		if(!parse_http_date(v, t)){
			return fail(out, SIGV4_INCOMPLETE_SIGNATURE, "Date header '%.64s' is not an RFC 1123 date.", v);
		}
		format_amz_date(*t, iso);
		return SIGV4_OK;
	}
	return fail(out, SIGV4_INCOMPLETE_SIGNATURE,
			"Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
}

static enum sigv4_error check_skew(const char *iso, int64_t t, int64_t now_s, struct sigv4_result *out)
{
	char bound[AMZ_DATE_LEN + 1], now[AMZ_DATE_LEN + 1];
	format_amz_date(now_s, now);
	if(t < now_s - MAX_SKEW_S){
		format_amz_date(now_s - MAX_SKEW_S, bound);
		return fail(out, SIGV4_INVALID_SIGNATURE, "Signature expired: %s is now earlier than %s (%s - 15 min.)",
				iso, bound, now);
	}
	if(t > now_s + MAX_SKEW_S){
		format_amz_date(now_s + MAX_SKEW_S, bound);
		return fail(out, SIGV4_INVALID_SIGNATURE, "Signature not yet current: %s is still later than %s (%s + 15 min.)",
				iso, bound, now);
	}
	return SIGV4_OK;
}

enum sigv4_error sigv4_verify(const struct sigv4_request *req, const struct sigv4_keys *keys,
		int64_t now_s, struct sigv4_result *out)
{
	struct auth a;
	struct strbuf canonical = { 0 }, sts = { 0 };
	enum sigv4_error rc;
	char iso[AMZ_DATE_LEN + 1], hex[SHA256_HEX_LEN + 1], missing[64];
	const char *source = NULL;
	int64_t t = 0;
	bool has_host;

	memset(out, 0, sizeof(*out));
	memset(&a, 0, sizeof(a));
	size_t auth_count;
	const struct sigv4_header *auth = find_header(req, "authorization", &auth_count);
	if(!auth || !auth->value){
		rc = fail(out, SIGV4_MISSING_AUTH, "Missing Authentication Token");
		goto cleanup;
	}
	if(auth_count > 1){
		rc = fail(out, SIGV4_INCOMPLETE_SIGNATURE, "Only one Authorization header is allowed.");
		goto cleanup;
	}
	if((rc = parse_authorization(auth->value, &a, out))) goto cleanup;
	if((rc = request_time(req, iso, &t, &source, out))) goto cleanup;
	out->request_time = t;
	if(memcmp(a.date, iso, 8) != 0){
		rc = fail(out, SIGV4_INVALID_SIGNATURE, "Date in Credential scope does not match YYYYMMDD from ISO-8601 "
				"version of date from HTTP: '%s' != '%.8s', from '%s'.", a.date, iso, source);
		goto cleanup;
	}
	if(!check_signed_headers(a.signed_headers, &has_host)){
		rc = fail(out, SIGV4_INCOMPLETE_SIGNATURE, "SignedHeaders '%.100s' is malformed: expected lowercase "
				"header names in ascending order, separated by ';'.", a.signed_headers);
		goto cleanup;
	}
	if(!has_host){
		rc = fail(out, SIGV4_INCOMPLETE_SIGNATURE, "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
		goto cleanup;
	}
	const char *secret = sigv4_keys_find(keys, a.access_key_id, strlen(a.access_key_id));
	if(!secret){
		rc = fail(out, SIGV4_UNRECOGNIZED_CLIENT, "The security token included in the request is invalid.");
		goto cleanup;
	}
	if((rc = check_skew(iso, t, now_s, out))) goto cleanup;
	if(missing_signed_header(req, a.signed_headers, missing, sizeof(missing))){
		rc = fail(out, SIGV4_INVALID_SIGNATURE, "The signed header '%s' is not in the request.", missing);
		goto cleanup;
	}
	if((rc = check_payload_header(req, out))) goto cleanup;
	if(build_canonical(req, a.signed_headers, &canonical) || sha256_hex(canonical.p, canonical.len, hex)){
		rc = fail(out, SIGV4_INTERNAL, "Out of memory or libcrypto failure.");
		goto cleanup;
	}
	strbuf_adds(&sts, ALGORITHM "\n");
	strbuf_adds(&sts, iso);
	strbuf_addc(&sts, '\n');
	strbuf_adds(&sts, a.date);
	strbuf_addc(&sts, '/');
	strbuf_adds(&sts, a.region);
	strbuf_addc(&sts, '/');
	strbuf_adds(&sts, a.service);
	strbuf_adds(&sts, "/" TERMINATOR "\n");
	strbuf_adds(&sts, hex);
	if(sts.failed || compute_signature(secret, &a, sts.p, hex)){
		rc = fail(out, SIGV4_INTERNAL, "Out of memory or libcrypto failure.");
		goto cleanup;
	}
	if(!a.signature_ok || CRYPTO_memcmp(hex, a.signature, SHA256_HEX_LEN) != 0){
		rc = fail(out, SIGV4_INVALID_SIGNATURE, "The request signature we calculated does not match the signature "
				"you provided. Check your AWS Secret Access Key and signing method. Consult the service "
				"documentation for details.");
		goto cleanup;
	}
	rc = SIGV4_OK;
	out->error = SIGV4_OK;
	out->message[0] = '\0';
cleanup:
	free(a.signed_headers);
	free(canonical.p);
	free(sts.p);
	return rc;
}

const char *sigv4_error_type(enum sigv4_error error)
{
	switch(error){
	case SIGV4_OK: return NULL;
	case SIGV4_MISSING_AUTH: return "MissingAuthenticationTokenException";
	case SIGV4_INCOMPLETE_SIGNATURE: return "IncompleteSignatureException";
	case SIGV4_UNRECOGNIZED_CLIENT: return "UnrecognizedClientException";
	case SIGV4_INVALID_SIGNATURE: return "InvalidSignatureException";
	case SIGV4_INTERNAL: return "InternalFailure";
	}
	return "InternalFailure";
}

int sigv4_error_status(enum sigv4_error error)
{
	switch(error){
	case SIGV4_OK: return 200;
	case SIGV4_INTERNAL: return 500;
	default: return 403;
	}
}
