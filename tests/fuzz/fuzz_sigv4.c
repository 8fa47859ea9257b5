/* SigV4 (sigv4_keys_parse, sigv4_verify) against a signer of the target's own, written
 * from AWS's and botocore's rules rather than from sigv4.c, with OpenSSL's SHA-256 and
 * HMAC: a bug in sigv4.c's canonicalization shows as a request one of them signs and
 * the other refuses, or the other way round.
 *
 * Input: [c0..c7][secret line]\n[request]
 *   c0: the keys file's shape: format (key lines, INI profiles, both), comments, CRLF,
 *       tabs, key case, extra INI keys; c1: which of its keys signs; c2: the date
 *       header (X-Amz-Date, or Date in one of its forms); c3: x-amz-content-sha256
 *       (none, the body's hash, UNSIGNED-PAYLOAD with an empty body, or with a body) and scope;
 *       c4-c5: the request's time offset from now (-900..+900 s) and, with c1, the
 *       day "now" is (1970-2149); c6: what one-byte mutation touches (method, path,
 *       query, a header's name or value, body, signature, anywhere in the
 *       Authorization header); c7 (with c5): where and what byte
 *   secret line: mapped to printable characters, the material of one more key (its
 *       id, secret and identity), so any secret the file format allows gets used
 *   request: "METHOD TARGET" then "Name: value" header lines, an empty line, the body
 *       (TARGET's path and query split at the first '?')
 * Checks:
 *   - the keys file made from the keys parses, to exactly those keys;
 *   - the request signed by the target verifies, with the key id, scope and time, and
 *     sigv4_canonical_request gives the target's canonical request; it still verifies
 *     900 s before or after its time, not 901 s; without its Authorization header it is
 *     MissingAuthenticationToken, with it twice IncompleteSignature;
 *   - signed with an unknown key id it is UnrecognizedClient; with a known id and a
 *     wrong secret, or another key's secret, InvalidSignature;
 *   - after the mutation, it verifies when the target's canonical request, string to
 *     sign, body hash and date headers are unchanged, and never when the canonical
 *     request or string to sign changed (a change of only the date header's spelling
 *     is not judged);
 *   - with UNSIGNED-PAYLOAD and a body, a request signed right is InvalidSignature;
 *   - the whole raw input as a keys file: parsed or refused with a message; parsed
 *     keys obey the format's rules, sigv4_keys_add refuses a second key of an id
 *     (no crash, no leak). */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/access.h"
#include "http/sigv4.h"

#define MAX_HEADERS 24
#define SIGN_MAX_KEYS 5

/* ---- a growable string ---- */

struct buf {
	char *p;
	size_t len, cap;
};

static void put(struct buf *b, const void *s, size_t n)
{
	if(b->len + n + 1 > b->cap){
		size_t cap = b->cap ? b->cap : 64;
		while(cap < b->len + n + 1) cap *= 2;
		char *p = realloc(b->p, cap);
		if(!p) abort();
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void putc_(struct buf *b, char c)
{
	put(b, &c, 1);
}

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_sigv4: %s\n%s\n", what, detail ? detail : "");
	abort();
}

/* ---- the target's own signer ---- */

static void hex_of(const unsigned char *md, size_t n, char *out)
{
	for(size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", md[i]);
}

static void sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char md[32];
	unsigned int len = 0;
	if(!EVP_Digest(n ? p : "", n, md, &len, EVP_sha256(), NULL)) abort();
	hex_of(md, 32, out);
}

static void hmac256(const void *key, size_t klen, const char *msg, unsigned char out[32])
{
	unsigned int len = 0;
	if(!HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, strlen(msg), out, &len)) abort();
}

/* RFC 3986 percent-encoding, uppercase hex; '/' kept when asked (the path). */
static void encode(struct buf *b, const char *s, size_t n, bool keep_slash)
{
	for(size_t i = 0; i < n; i++){
		unsigned char c = (unsigned char)s[i];
		if(isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')){
			putc_(b, (char)c);
		}else{
			char esc[4];
			snprintf(esc, sizeof(esc), "%%%02X", c);
			put(b, esc, 3);
		}
	}
}

/* botocore: quote(remove_dot_segments(path), safe='/~'); "/" for an empty path. */
static void canonical_uri(struct buf *b, const char *path)
{
	if(!*path){
		putc_(b, '/');
		return;
	}
	/* the path's segments, dot segments resolved, empty ones dropped */
	size_t n = strlen(path);
	const char **seg = malloc((n + 1) * sizeof(*seg));
	size_t *len = malloc((n + 1) * sizeof(*len));
	if(!seg || !len) abort();
	size_t k = 0;
	const char *s = path;
	for(;;){
		const char *e = strchr(s, '/');
		size_t l = e ? (size_t)(e - s) : strlen(s);
		if(l == 2 && s[0] == '.' && s[1] == '.'){
			if(k) k--;
		}else if(l && !(l == 1 && s[0] == '.')){
			seg[k] = s;
			len[k] = l;
			k++;
		}
		if(!e) break;
		s = e + 1;
	}
	struct buf plain = { 0 };
	if(path[0] == '/') putc_(&plain, '/');
	for(size_t i = 0; i < k; i++){
		if(i) putc_(&plain, '/');
		put(&plain, seg[i], len[i]);
	}
	if(path[n - 1] == '/' && k) putc_(&plain, '/');
	if(plain.len) encode(b, plain.p, plain.len, true);
	free(plain.p);
	free(seg);
	free(len);
}

/* A '%' with two hex digits decodes; anything else stays. */
static void decode(struct buf *out, const char *s, size_t n)
{
	for(size_t i = 0; i < n; i++){
		if(s[i] == '%' && i + 2 < n && isxdigit((unsigned char)s[i + 1]) && isxdigit((unsigned char)s[i + 2])){
			char h[3] = { s[i + 1], s[i + 2], 0 };
			char c = (char)strtol(h, NULL, 16);
			put(out, &c, 1);
			i += 2;
		}else{
			put(out, &s[i], 1);
		}
	}
}

struct pair {
	struct buf name, value;
};

static int pair_cmp(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;
	int c = strcmp(x->name.p ? x->name.p : "", y->name.p ? y->name.p : "");
	return c ? c : strcmp(x->value.p ? x->value.p : "", y->value.p ? y->value.p : "");
}

/* Each name and value decoded, re-encoded; empty pairs dropped; sorted. */
static void canonical_query(struct buf *b, const char *q)
{
	if(!q || !*q) return;
	size_t cap = 1;
	for(const char *p = q; *p; p++) cap += *p == '&';
	struct pair *pairs = calloc(cap, sizeof(*pairs));
	if(!pairs) abort();
	size_t n = 0;
	for(const char *s = q;;){
		const char *e = strchr(s, '&');
		size_t l = e ? (size_t)(e - s) : strlen(s);
		if(l){
			const char *eq = memchr(s, '=', l);
			size_t nl = eq ? (size_t)(eq - s) : l;
			struct buf dn = { 0 }, dv = { 0 };
			decode(&dn, s, nl);
			if(eq) decode(&dv, eq + 1, l - nl - 1);
			put(&pairs[n].name, "", 0);
			put(&pairs[n].value, "", 0);
			if(dn.len) encode(&pairs[n].name, dn.p, dn.len, false);
			if(dv.len) encode(&pairs[n].value, dv.p, dv.len, false);
			free(dn.p);
			free(dv.p);
			n++;
		}
		if(!e) break;
		s = e + 1;
	}
	qsort(pairs, n, sizeof(*pairs), pair_cmp);
	for(size_t i = 0; i < n; i++){
		if(i) putc_(b, '&');
		puts_(b, pairs[i].name.p);
		putc_(b, '=');
		puts_(b, pairs[i].value.p);
		free(pairs[i].name.p);
		free(pairs[i].value.p);
	}
	free(pairs);
}

struct header {
	char name[256];
	char value[1024];
};

struct request {
	char method[64];
	char path[1024];
	char query[1024];
	bool has_query;
	struct header h[MAX_HEADERS];
	size_t nh;
	unsigned char body[2048];
	size_t body_len;
};

static bool name_is(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

/* Python's str.split() whitespace, in ASCII. */
static bool py_space(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

static void trimmed(struct buf *b, const char *v)
{
	bool first = true;
	for(const char *p = v; *p;){
		while(*p && py_space(*p)) p++;
		if(!*p) break;
		const char *s = p;
		while(*p && !py_space(*p)) p++;
		if(!first) putc_(b, ' ');
		put(b, s, (size_t)(p - s));
		first = false;
	}
}

static const struct header *first_header(const struct request *r, const char *name)
{
	for(size_t i = 0; i < r->nh; i++){
		if(name_is(r->h[i].name, name)) return &r->h[i];
	}
	return NULL;
}

/* The canonical request under SignedHeaders sh (';'-separated, lowercase). */
static void canonical_request(const struct request *r, const char *sh, struct buf *out)
{
	for(const char *m = r->method; *m; m++) putc_(out, (char)toupper((unsigned char)*m));
	putc_(out, '\n');
	canonical_uri(out, r->path);
	putc_(out, '\n');
	canonical_query(out, r->has_query ? r->query : NULL);
	putc_(out, '\n');
	char *names = strdup(sh);
	if(!names) abort();
	char *save = NULL;
	for(char *name = strtok_r(names, ";", &save); name; name = strtok_r(NULL, ";", &save)){
		puts_(out, name);
		putc_(out, ':');
		bool first = true;
		for(size_t i = 0; i < r->nh; i++){
			if(!name_is(r->h[i].name, name)) continue;
			if(!first) putc_(out, ',');
			trimmed(out, r->h[i].value);
			first = false;
		}
		putc_(out, '\n');
	}
	free(names);
	putc_(out, '\n');
	puts_(out, sh);
	putc_(out, '\n');
	const struct header *ph = first_header(r, "x-amz-content-sha256");
	if(ph){
		puts_(out, ph->value);
	}else{
		char hex[65];
		sha256_hex(r->body, r->body_len, hex);
		puts_(out, hex);
	}
}

struct scope {
	char date[9];          /* YYYYMMDD */
	const char *region, *service;
};

/* The signature of the request under the scope, with iso as the request's date. */
static void sign(const struct request *r, const char *sh, const char *iso, const struct scope *sc,
		const char *secret, char sig[65], struct buf *canonical)
{
	canonical_request(r, sh, canonical);
	char hash[65];
	sha256_hex(canonical->p, canonical->len, hash);
	struct buf sts = { 0 };
	puts_(&sts, "AWS4-HMAC-SHA256\n");
	puts_(&sts, iso);
	putc_(&sts, '\n');
	puts_(&sts, sc->date);
	putc_(&sts, '/');
	puts_(&sts, sc->region);
	putc_(&sts, '/');
	puts_(&sts, sc->service);
	puts_(&sts, "/aws4_request\n");
	puts_(&sts, hash);
	struct buf seed = { 0 };
	puts_(&seed, "AWS4");
	puts_(&seed, secret);
	unsigned char k[32], s[32];
	hmac256(seed.p, seed.len, sc->date, k);
	hmac256(k, 32, sc->region, k);
	hmac256(k, 32, sc->service, k);
	hmac256(k, 32, "aws4_request", k);
	hmac256(k, 32, sts.p, s);
	hex_of(s, 32, sig);
	free(seed.p);
	free(sts.p);
}

/* ---- keys ---- */

struct key {
	char id[160];
	char secret[1100];
	char identity[300];
};

static const struct key fixed_keys[SIGN_MAX_KEYS - 1] = {
	{ "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "admin" },
	{ "AKIAT1", "s3cr3t=with=equals", "t1" },
	{ "dev-key_2", "!\"$%&'()*+,-./:;<=>?@[\\]^_`{|}~", "gateway:1" },
	{ "K", "x", "x" },
};

/* The keys file for keys[0..n) in the shape c0 picks. */
static void keys_file(const struct key *keys, size_t n, uint8_t c0, struct buf *f)
{
	int form = c0 & 3;                  /* 0 lines, 1 INI, 2 lines then INI, 3 lines */
	const char *eol = c0 & 4 ? "\r\n" : "\n";
	bool comments = c0 & 8, tabs = c0 & 16, upper = c0 & 32, extra = c0 & 64;
	if(comments){
		puts_(f, "# access keys");
		puts_(f, eol);
		puts_(f, eol);
	}
	size_t lines = form == 1 ? 0 : form == 2 ? n / 2 : n;
	for(size_t i = 0; i < n; i++){
		const struct key *k = &keys[i];
		if(i < lines){
			if(tabs) putc_(f, '\t');
			puts_(f, k->id);
			puts_(f, tabs ? "\t \t" : " ");
			puts_(f, k->secret);
			puts_(f, tabs ? "\t" : "  ");
			puts_(f, k->identity);
			if(tabs) puts_(f, " ");
			puts_(f, eol);
			if(comments){
				puts_(f, "; between");
				puts_(f, eol);
			}
			continue;
		}
		puts_(f, tabs ? "[ profile p" : "[p");
		char num[16];
		snprintf(num, sizeof(num), "%zu", i);
		puts_(f, num);
		puts_(f, tabs ? " ]" : "]");
		puts_(f, eol);
		if(extra){
			puts_(f, "region = us-east-1");
			puts_(f, eol);
		}
		const char *kid = upper ? "AWS_ACCESS_KEY_ID" : "aws_access_key_id";
		const char *ksec = upper ? "Aws_Secret_Access_Key" : "aws_secret_access_key";
		const char *kident = upper ? "MOSQUITTO_JOBS_IDENTITY" : "mosquitto_jobs_identity";
		/* the order of the three keys varies with the key's index */
		const char *keyname[3] = { kid, ksec, kident };
		const char *value[3] = { k->id, k->secret, k->identity };
		for(size_t j = 0; j < 3; j++){
			size_t w = (j + i) % 3;
			puts_(f, keyname[w]);
			puts_(f, tabs ? "\t=\t" : " = ");
			puts_(f, value[w]);
			puts_(f, eol);
		}
		if(extra){
			puts_(f, "aws_session_token=abc=def");
			puts_(f, eol);
		}
		if(comments){
			puts_(f, "# end of profile");
			puts_(f, eol);
		}
	}
}

/* The key the secret line makes: every byte mapped to a printable character. */
static void line_key(const uint8_t *s, size_t n, struct key *k)
{
	size_t o = 0;
	for(size_t i = 0; i < n && o < 1024; i++) k->secret[o++] = (char)(0x21 + s[i] % 94);
	if(!o) k->secret[o++] = '=';
	k->secret[o] = '\0';
	if(strcmp(k->secret, "=") == 0) strcpy(k->secret, "==");
	/* id and identity from the secret's characters, with those they may not hold replaced */
	snprintf(k->id, sizeof(k->id), "Z%.120s", k->secret);
	for(char *p = k->id; *p; p++) if(*p == '/' || *p == ',') *p = '_';
	snprintf(k->identity, sizeof(k->identity), "i%.250s", k->secret);
	for(char *p = k->identity; *p; p++) if(*p == '/' || *p == '+' || *p == '#') *p = '-';
}

/* The rules of sigv4.h for what a parsed key holds. */
static bool printable_token(const char *s, size_t max, const char *banned)
{
	size_t n = strlen(s);
	if(n == 0 || n > max) return false;
	for(const char *p = s; *p; p++){
		if((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || strchr(banned, *p)) return false;
	}
	return true;
}

static void check_raw_keys(const uint8_t *data, size_t size)
{
	struct sigv4_keys keys;
	char err[512];
	err[0] = '\0';
	if(sigv4_keys_parse((const char *)data, size, &keys, err, sizeof(err)) != 0){
		if(!err[0]) fail("a keys file was refused without a message", NULL);
		if(keys.count || keys.keys) fail("a refused keys file left keys behind", err);
		return;
	}
	if(!keys.count) fail("a keys file without keys was accepted", NULL);
	for(size_t i = 0; i < keys.count; i++){
		const struct sigv4_key *k = &keys.keys[i];
		if(!printable_token(k->access_key_id, 128, "/,")) fail("a bad access key id was accepted", k->access_key_id);
		if(!printable_token(k->secret, 1024, "")) fail("a bad secret was accepted", k->secret);
		if(!printable_token(k->identity, 256, "+#/") || !access_identity_valid(k->identity)) fail("a bad identity was accepted", k->identity);
		for(size_t j = 0; j < i; j++){
			if(strcmp(keys.keys[j].access_key_id, k->access_key_id) == 0) fail("an access key id twice", k->access_key_id);
		}
		if(sigv4_keys_find(&keys, k->access_key_id, strlen(k->access_key_id)) != k->secret) fail("a key is not found", k->access_key_id);
	}
	/* a key added by hand: an id already there is refused, a new one found */
	const struct sigv4_key *k0 = &keys.keys[0];
	err[0] = '\0';
	if(sigv4_keys_add(&keys, k0->access_key_id, "s", "x", err, sizeof(err)) != -1 || !err[0]) fail("a key was added twice", k0->access_key_id);
	if(sigv4_keys_add(&keys, "AKIDADDED/1", "s", "x", err, sizeof(err)) != -1) fail("an access key id with '/' was added", NULL);
	if(sigv4_keys_add(&keys, "AKIDADDED", "s", NULL, err, sizeof(err)) != -1) fail("a key without an identity was added", NULL);
	if(!sigv4_keys_find(&keys, "AKIDADDED", 9)){
		if(sigv4_keys_add(&keys, "AKIDADDED", "s", "x", err, sizeof(err)) != 0) fail("a good key was not added", err);
		if(!sigv4_keys_identity(&keys, "AKIDADDED") || strcmp(sigv4_keys_identity(&keys, "AKIDADDED"), "x") != 0) fail("an added key is not found", NULL);
	}
	sigv4_keys_free(&keys);
	if(keys.count || keys.keys) fail("sigv4_keys_free left keys behind", NULL);
}

/* ---- the request ---- */

static bool tchar_lower(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool reserved_header(const char *name)
{
	return name_is(name, "authorization") || name_is(name, "x-amz-date") || name_is(name, "date")
		|| name_is(name, "x-amz-content-sha256");
}

/* Parses "METHOD TARGET\nName: value\n...\n\nbody". False when it does not fit. */
static bool parse_request(const char *p, size_t n, struct request *r)
{
	memset(r, 0, sizeof(*r));
	const char *end = p + n, *nl = memchr(p, '\n', n);
	if(!nl) return false;
	const char *sp = memchr(p, ' ', (size_t)(nl - p));
	if(!sp || sp == p || (size_t)(sp - p) >= sizeof(r->method)) return false;
	memcpy(r->method, p, (size_t)(sp - p));
	const char *target = sp + 1;
	size_t tlen = (size_t)(nl - target);
	const char *q = memchr(target, '?', tlen);
	size_t plen = q ? (size_t)(q - target) : tlen;
	if(plen >= sizeof(r->path) || (q && tlen - plen - 1 >= sizeof(r->query))) return false;
	memcpy(r->path, target, plen);
	if(q){
		r->has_query = true;
		memcpy(r->query, q + 1, tlen - plen - 1);
	}
	if(memchr(p, '\0', (size_t)(nl - p))) return false;
	p = nl + 1;
	while(p < end){
		nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if(l == 0){
			p++;
			break;
		}
		const char *colon = memchr(p, ':', l);
		if(colon && colon > p && r->nh < MAX_HEADERS - 5 && !memchr(p, '\0', l)){
			size_t nlen = (size_t)(colon - p);
			const char *v = colon + 1;
			if(v < p + l && *v == ' ') v++;
			size_t vlen = (size_t)(p + l - v);
			if(nlen < sizeof(r->h[0].name) && vlen < sizeof(r->h[0].value)){
				struct header *h = &r->h[r->nh];
				memcpy(h->name, p, nlen);
				memcpy(h->value, v, vlen);
				if(!reserved_header(h->name)) r->nh++;
				else memset(h, 0, sizeof(*h));
			}
		}
		p += l + (nl ? 1 : 0);
		if(!nl) p = end;
	}
	size_t blen = (size_t)(end - p);
	if(blen > sizeof(r->body)) blen = sizeof(r->body);
	memcpy(r->body, p, blen);
	r->body_len = blen;
	return true;
}

static void add_header(struct request *r, const char *name, const char *value)
{
	struct header *h = &r->h[r->nh++];
	snprintf(h->name, sizeof(h->name), "%s", name);
	snprintf(h->value, sizeof(h->value), "%s", value);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* SignedHeaders: every header whose lowercased name is a token, sorted, once each. */
static void signed_headers(const struct request *r, struct buf *sh)
{
	char *names[MAX_HEADERS];
	size_t n = 0;
	for(size_t i = 0; i < r->nh; i++){
		char lower[256];
		size_t l = strlen(r->h[i].name);
		bool ok = l > 0;
		for(size_t j = 0; j <= l; j++) lower[j] = (char)tolower((unsigned char)r->h[i].name[j]);
		for(size_t j = 0; j < l && ok; j++) ok = tchar_lower(lower[j]);
		for(size_t j = 0; j < n && ok; j++) ok = strcmp(names[j], lower) != 0;
		if(ok && (names[n] = strdup(lower))) n++;
	}
	qsort(names, n, sizeof(*names), name_cmp);
	for(size_t i = 0; i < n; i++){
		if(i) putc_(sh, ';');
		puts_(sh, names[i]);
		free(names[i]);
	}
}

static void to_request(const struct request *r, struct sigv4_header *hs, struct sigv4_request *out)
{
	for(size_t i = 0; i < r->nh; i++) hs[i] = (struct sigv4_header){ r->h[i].name, r->h[i].value };
	*out = (struct sigv4_request){ .method = r->method, .path = r->path, .query = r->has_query ? r->query : NULL,
		.headers = hs, .header_count = r->nh, .body = r->body, .body_len = r->body_len };
}

static enum sigv4_error verify(const struct request *r, const struct sigv4_keys *keys, int64_t now,
		struct sigv4_result *res)
{
	struct sigv4_header hs[MAX_HEADERS];
	struct sigv4_request req;
	to_request(r, hs, &req);
	return sigv4_verify(&req, keys, now, res);
}

static void set_authorization(struct request *r, size_t at, const char *id, const struct scope *sc, const char *sh,
		const char *sig)
{
	snprintf(r->h[at].value, sizeof(r->h[at].value),
			"AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, Signature=%s",
			id, sc->date, sc->region, sc->service, sh, sig);
}

/* What decides the outcome besides the canonical request: the body's hash, the date
 * headers as sent, how many Authorization headers there are, how many of each signed
 * header (a signed header with an empty value and one missing canonicalize alike,
 * but a missing one is refused). */
static void outcome_key(const struct request *r, const char *sh, struct buf *k)
{
	for(const char *s = sh; *s;){
		size_t len = strcspn(s, ";");
		size_t count = 0;
		for(size_t i = 0; i < r->nh; i++) count += strlen(r->h[i].name) == len && strncasecmp(r->h[i].name, s, len) == 0;
		char n[32];
		snprintf(n, sizeof(n), "%zu,", count);
		puts_(k, n);
		s += len + (s[len] == ';');
	}
	char hex[65];
	sha256_hex(r->body, r->body_len, hex);
	puts_(k, hex);
	size_t auth = 0;
	for(size_t i = 0; i < r->nh; i++) auth += name_is(r->h[i].name, "authorization");
	char n[32];
	snprintf(n, sizeof(n), "\n%zu\n", auth);
	puts_(k, n);
	const struct header *d = first_header(r, "x-amz-date");
	if(!d) d = first_header(r, "date");
	if(d){
		puts_(k, d->name[0] == 'x' || d->name[0] == 'X' ? "x-amz-date:" : "date:");
		puts_(k, d->value);
	}
}

/* The Authorization header's algorithm and its Credential, SignedHeaders and
 * Signature parameters (names in any case, spaces and tabs around each, other
 * parameters and items without '=' ignored), as one string; "" when the algorithm is
 * not AWS4-HMAC-SHA256 followed by a space or tab, or a parameter is missing or
 * given twice. */
static void authorization_params(const char *v, struct buf *out)
{
	static const char *const names[] = { "credential", "signedheaders", "signature" };
	char *value[3] = { NULL, NULL, NULL };
	bool ok = true;
	while(*v == ' ' || *v == '\t') v++;
	if(strncmp(v, "AWS4-HMAC-SHA256", 16) != 0 || (v[16] != ' ' && v[16] != '\t')) ok = false;
	for(const char *s = v + 16; ok && *s;){
		size_t n = strcspn(s, ",");
		const char *item = s;
		s += n + (s[n] == ',');
		while(n && (*item == ' ' || *item == '\t')) item++, n--;
		while(n && (item[n - 1] == ' ' || item[n - 1] == '\t')) n--;
		const char *eq = memchr(item, '=', n);
		if(!eq) continue;
		for(int i = 0; i < 3; i++){
			if((size_t)(eq - item) != strlen(names[i]) || strncasecmp(item, names[i], strlen(names[i])) != 0) continue;
			if(value[i]) ok = false;
			else value[i] = strndup(eq + 1, n - (size_t)(eq - item) - 1);
		}
	}
	for(int i = 0; i < 3; i++){
		if(ok && value[i]){
			puts_(out, value[i]);
			putc_(out, '\n');
		}else{
			ok = false;
		}
		free(value[i]);
	}
	if(!ok) out->len = 0;
	put(out, "", 0);
}

static bool same_authorization(const char *a, const char *b)
{
	struct buf x = { 0 }, y = { 0 };
	authorization_params(a, &x);
	authorization_params(b, &y);
	bool same = x.len && strcmp(x.p, y.p) == 0;
	free(x.p);
	free(y.p);
	return same;
}

static const char *const weekdays[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_raw_keys(data, size);
	if(size < 9) return 0;
	uint8_t c[8];
	memcpy(c, data, 8);
	const uint8_t *line = data + 8, *end = data + size;
	const uint8_t *nl = memchr(line, '\n', (size_t)(end - line));
	if(!nl) return 0;

	/* the keys and their file */
	struct key keys[SIGN_MAX_KEYS];
	memcpy(keys, fixed_keys, sizeof(fixed_keys));
	line_key(line, (size_t)(nl - line), &keys[SIGN_MAX_KEYS - 1]);
	size_t nkeys = SIGN_MAX_KEYS;
	for(size_t i = 0; i + 1 < SIGN_MAX_KEYS; i++){
		if(strcmp(keys[i].id, keys[SIGN_MAX_KEYS - 1].id) == 0) nkeys--; /* the fuzzed key clashes: leave it out */
	}
	struct buf file = { 0 };
	keys_file(keys, nkeys, c[0], &file);
	struct sigv4_keys store;
	char err[512];
	if(sigv4_keys_parse(file.p, file.len, &store, err, sizeof(err)) != 0) fail(err, file.p);
	if(store.count != nkeys) fail("the keys file parsed to another number of keys", file.p);
	for(size_t i = 0; i < nkeys; i++){
		const char *secret = sigv4_keys_find(&store, keys[i].id, strlen(keys[i].id));
		const char *identity = sigv4_keys_identity(&store, keys[i].id);
		if(!secret || strcmp(secret, keys[i].secret) != 0 || !identity || strcmp(identity, keys[i].identity) != 0){
			fail("a key of the keys file was read wrong", file.p);
		}
	}
	const struct key *k = &keys[c[1] % nkeys];

	/* the request */
	struct request *r = malloc(sizeof(*r)), *m = malloc(sizeof(*m));
	if(!r || !m) abort();
	if(!parse_request((const char *)nl + 1, (size_t)(end - nl - 1), r)) goto done;
	if(!first_header(r, "host")) add_header(r, "Host", "localhost:8080");

	/* the time: now, and the request's own within 15 minutes of it */
	int64_t now = (int64_t)((c[1] >> 3) << 8 | c[5]) * 7 * 86400 + (int64_t)c[4] * 337;
	int64_t t = now + ((int64_t)(c[4] | c[5] << 8) % 1801) - 900;
	time_t tt = (time_t)t;
	struct tm tm;
	if(!gmtime_r(&tt, &tm) || tm.tm_year + 1900 > 9999) goto done;
	struct scope sc;
	static const char *const regions[] = { "us-east-1", "eu-west-1", "local", "a" };
	static const char *const services[] = { "iot-jobs-data", "iot", "execute-api", "s" };
	sc.region = regions[c[3] >> 2 & 3];
	sc.service = services[c[3] >> 4 & 3];
	strftime(sc.date, sizeof(sc.date), "%Y%m%d", &tm);
	char iso[17], date[64];
	strftime(iso, sizeof(iso), "%Y%m%dT%H%M%SZ", &tm);
	switch(c[2] & 7){
	case 0: case 1: case 2: case 3: add_header(r, (c[2] & 8) ? "x-amz-date" : "X-Amz-Date", iso); break;
	default: {
		static const char *const zones[] = { "GMT", "UTC", "UT", "Z", "+0000", "-0000" };
		snprintf(date, sizeof(date), "%s%s%02d %s %04d %02d:%02d:%02d %s", (c[2] & 8) ? weekdays[tm.tm_wday] : "",
				(c[2] & 8) ? ", " : "", tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
				tm.tm_sec, zones[(c[2] >> 4) % 6]);
		add_header(r, "Date", date);
		break;
	}
	}
	char body_hex[65];
	sha256_hex(r->body, r->body_len, body_hex);
	if((c[3] & 3) == 1) add_header(r, "X-Amz-Content-Sha256", body_hex);
	else if((c[3] & 3) == 2 && r->body_len == 0) add_header(r, "x-amz-content-sha256", "UNSIGNED-PAYLOAD");
	/* UNSIGNED-PAYLOAD with a body: refused however well signed (the body must be) */
	bool unsigned_body = (c[3] & 3) == 3 && r->body_len;
	if(unsigned_body) add_header(r, "x-amz-content-sha256", "UNSIGNED-PAYLOAD");
	struct buf sh = { 0 };
	signed_headers(r, &sh);
	char sig[65];
	struct buf canonical = { 0 };
	sign(r, sh.p, iso, &sc, k->secret, sig, &canonical);
	size_t auth_at = r->nh;
	add_header(r, "Authorization", "");
	set_authorization(r, auth_at, k->id, &sc, sh.p, sig);

	struct sigv4_result res;
	if(unsigned_body){
		if(verify(r, &store, now, &res) != SIGV4_INVALID_SIGNATURE) fail("UNSIGNED-PAYLOAD with a body was not refused", res.message);
		free(canonical.p);
		free(sh.p);
		goto done;
	}
	if(verify(r, &store, now, &res) != SIGV4_OK){
		fprintf(stderr, "canonical request:\n%s\n", canonical.p);
		fail("a request signed right was refused", res.message);
	}
	if(strcmp(res.access_key_id, k->id) != 0 || strcmp(res.region, sc.region) != 0
			|| strcmp(res.service, sc.service) != 0 || res.request_time != t){
		fail("the result names another key, scope or time", res.message);
	}

	/* sigv4.c's own canonical request is the target's */
	{
		struct sigv4_header hs[MAX_HEADERS];
		struct sigv4_request req;
		to_request(r, hs, &req);
		char *theirs = NULL;
		if(sigv4_canonical_request(&req, sh.p, &theirs) != 0 || strcmp(theirs, canonical.p) != 0){
			fprintf(stderr, "sigv4.c's:\n%s\nthe target's:\n%s\n", theirs ? theirs : "(none)", canonical.p);
			fail("sigv4_canonical_request differs from the target's canonical request", NULL);
		}
		free(theirs);
	}
	/* 15 minutes either way is the limit, to the second */
	if(verify(r, &store, t + 900, &res) != SIGV4_OK || verify(r, &store, t - 900, &res) != SIGV4_OK){
		fail("a request 15 minutes off was refused", res.message);
	}
	if(verify(r, &store, t + 901, &res) != SIGV4_INVALID_SIGNATURE || verify(r, &store, t - 901, &res) != SIGV4_INVALID_SIGNATURE){
		fail("a request more than 15 minutes off was not refused as such", res.message);
	}
	/* without the Authorization header; with it twice */
	r->nh--;
	if(verify(r, &store, now, &res) != SIGV4_MISSING_AUTH) fail("a request without Authorization was not refused as such", res.message);
	r->nh++;
	r->h[r->nh] = r->h[auth_at];
	r->nh++;
	if(verify(r, &store, now, &res) != SIGV4_INCOMPLETE_SIGNATURE) fail("two Authorization headers were not refused", res.message);
	r->nh--;

	/* an unknown key id; a known one with a wrong secret; another key's id */
	char wrong[1200];
	snprintf(wrong, sizeof(wrong), "%s%c", k->secret, k->secret[0] == 'q' ? 'r' : 'q');
	struct buf scratch = { 0 };
	sign(r, sh.p, iso, &sc, wrong, sig, &scratch);
	free(scratch.p);
	*m = *r;
	m->nh--; /* the Authorization header is added again below, after the others */
	set_authorization(r, auth_at, "UNKNOWNKEY0", &sc, sh.p, sig);
	if(verify(r, &store, now, &res) != SIGV4_UNRECOGNIZED_CLIENT) fail("an unknown key id was not refused as such", res.message);
	set_authorization(r, auth_at, k->id, &sc, sh.p, sig);
	if(verify(r, &store, now, &res) != SIGV4_INVALID_SIGNATURE) fail("a wrong secret was not refused", res.message);
	const struct key *other = &keys[(c[1] + 1) % nkeys];
	if(strcmp(other->secret, k->secret) != 0){
		scratch = (struct buf){ 0 };
		sign(m, sh.p, iso, &sc, k->secret, sig, &scratch);
		free(scratch.p);
		set_authorization(r, auth_at, other->id, &sc, sh.p, sig);
		if(verify(r, &store, now, &res) != SIGV4_INVALID_SIGNATURE) fail("another key's signature was accepted", res.message);
	}
	/* back to the request signed right; what decides the outcome, before the change */
	struct buf canon_before = { 0 }, key_before = { 0 };
	sign(m, sh.p, iso, &sc, k->secret, sig, &canon_before);
	set_authorization(r, auth_at, k->id, &sc, sh.p, sig);
	outcome_key(r, sh.p, &key_before);

	/* one byte changed */
	*m = *r;
	uint8_t what = c[6] % 6, pos = c[7], byte = (uint8_t)(c[6] / 6 * 5 + c[7] * 7 + 1);
	if(!byte) byte = 1;
	char *target = NULL;
	bool sig_changed = false;
	switch(what){
	case 0: target = m->method; break;
	case 1: target = m->path; break;
	case 2: target = m->query; break;
	case 3: {
		size_t i = pos % (m->nh - 1); /* any header but Authorization (the last) */
		target = (c[6] & 0x80) ? m->h[i].name : m->h[i].value;
		break;
	}
	case 4:
		if(m->body_len) m->body[pos % m->body_len] ^= byte;
		break;
	default:
		if(c[6] & 0x80){
			/* anywhere in the Authorization header: it changed when its parameters did */
			target = m->h[auth_at].value;
			size_t n = strlen(target), i = (pos | (size_t)c[5] << 8) % n;
			target[i] = target[i] == (char)byte ? (char)(byte == 0xff ? 1 : byte + 1) : (char)byte;
			target = NULL;
			sig_changed = !same_authorization(r->h[auth_at].value, m->h[auth_at].value);
		}else{
			static const char digits[] = "0123456789abcdefXYZ";
			char *s = strstr(m->h[auth_at].value, "Signature=") + 10;
			char *at = &s[pos % 64], want = digits[byte % 19];
			*at = *at == want ? (*at == 'e' ? 'f' : 'e') : want;
			sig_changed = true;
		}
		break;
	}
	size_t tlen = target ? strlen(target) : 0;
	if(tlen){
		size_t i = pos % tlen;
		target[i] = target[i] == (char)byte ? (char)(byte == 0xff ? 1 : byte + 1) : (char)byte;
	}
	/* the changed request's canonical request (without its Authorization header, under
	 * the same SignedHeaders) and outcome key */
	struct request *bare = malloc(sizeof(*bare));
	if(!bare) abort();
	*bare = *m;
	bare->nh--;
	struct buf canon_after = { 0 }, key_after = { 0 };
	canonical_request(bare, sh.p, &canon_after);
	outcome_key(m, sh.p, &key_after);
	free(bare);
	struct buf canon_before_only = { 0 };
	canonical_request(r, sh.p, &canon_before_only);
	bool canon_same = strcmp(canon_before_only.p, canon_after.p) == 0;
	bool key_same = strcmp(key_before.p, key_after.p) == 0;
	bool body_same = m->body_len == r->body_len && memcmp(m->body, r->body, r->body_len) == 0;
	enum sigv4_error e = verify(m, &store, now, &res);
	if(canon_same && key_same && !sig_changed && e != SIGV4_OK){
		fprintf(stderr, "canonical request:\n%s\n", canon_after.p);
		fail("a change that leaves the signed request as it was was refused", res.message);
	}
	if(e == SIGV4_OK && (!canon_same || sig_changed || !body_same)){
		fprintf(stderr, "before:\n%s\nafter:\n%s\n", canon_before_only.p, canon_after.p);
		fail("a changed request still verifies", NULL);
	}
	free(canon_before.p);
	free(canon_before_only.p);
	free(canon_after.p);
	free(key_before.p);
	free(key_after.p);
	free(canonical.p);
	free(sh.p);
done:
	free(r);
	free(m);
	sigv4_keys_free(&store);
	free(file.p);
	return 0;
}
