/* AWS Signature Version 4 verification for the AWS-compatible HTTP API, so that the
 * AWS CLI (`aws iot-jobs-data ... --endpoint-url http://...`, `aws iot ...`) and boto3
 * are accepted unchanged. Pure: no I/O, no clock (the caller passes the time), no
 * globals; crypto from OpenSSL's libcrypto.
 *
 * Key store. sigv4_keys_parse() reads the text of a credentials file (the caller reads
 * the file). Each key carries the identity it acts as (an operator, or a thing whose
 * grants apply: access.h). Two formats, told apart per line:
 *
 *     # one key per line: ACCESS_KEY_ID SECRET_ACCESS_KEY IDENTITY (spaces or tabs between)
 *     AKIDEXAMPLE wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY admin
 *
 *     ; or the AWS CLI's ~/.aws/credentials (INI): each [profile] gives one key; the
 *     ; identity is a key of the profile that the AWS CLI ignores
 *     [default]
 *     aws_access_key_id = AKIDEXAMPLE
 *     aws_secret_access_key = wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
 *     mosquitto_jobs_identity = admin
 *
 * Blank lines and lines starting with '#' or ';' are comments (whole lines only: a
 * secret may hold any printable character but space). In INI form other keys
 * (aws_session_token, region, ...) are ignored, and so is a profile with none of the
 * three; a profile with some but not all of them is an error. A key without an
 * identity is an error, so that no key acts with rights nobody gave it. Both forms may
 * share a file, key lines first (after a [profile] header every line belongs to a
 * profile). An access key id is 1..128 printable characters without '/' or ',' (it heads
 * the Credential scope, a parameter of the Authorization header); an identity 1..256
 * printable characters without '+', '#' or '/' (access_identity_valid); a key defined
 * twice, or a file without any key, is an error.
 * Errors name the line: "line 3: expected 'ACCESS_KEY_ID SECRET_ACCESS_KEY IDENTITY'".
 *
 * Verification. sigv4_verify() checks an `Authorization: AWS4-HMAC-SHA256
 * Credential=AKID/YYYYMMDD/REGION/SERVICE/aws4_request, SignedHeaders=a;b,
 * Signature=hex` header against the request exactly as botocore signs non-S3
 * services:
 *   - canonical URI: the raw path as received, dot segments and empty segments removed,
 *     then percent-encoded again (everything but A-Z a-z 0-9 - _ . ~ /), so the wire's
 *     `%24next` signs as `%2524next` and a literal `$next` as `%24next`;
 *   - canonical query: each name and value percent-decoded and re-encoded per RFC 3986
 *     (identity on what botocore sends), empty pairs dropped, sorted by name then value;
 *   - canonical headers: those in SignedHeaders (lowercase, ascending; `host` required),
 *     values trimmed with inner whitespace runs collapsed, repeated headers joined by ',';
 *   - payload hash: the x-amz-content-sha256 header if present (it must then equal the
 *     body's SHA-256; UNSIGNED-PAYLOAD only with an empty body), else the body's SHA-256;
 *   - request time: X-Amz-Date (YYYYMMDDTHHMMSSZ), else Date (RFC 1123/2822); it must be
 *     within 15 minutes of now_s and match the scope's date.
 * Any service and region are accepted: the caller routes on out->service ("iot" or
 * "iot-jobs-data") and refuses others. Query-string (presigned) authentication and
 * session tokens are not supported (an X-Amz-Security-Token header is merely signed).
 *
 * Ownership: sigv4_keys owns its strings (secrets are wiped on free); free with
 * sigv4_keys_free(). sigv4_request only borrows the caller's memory. sigv4_result is
 * filled in place and holds no pointers. sigv4_canonical_request() returns a malloc'd
 * string the caller frees with free(). */
#ifndef MOSQUITTO_JOBS_SIGV4_H
#define MOSQUITTO_JOBS_SIGV4_H

#include <stddef.h>
#include <stdint.h>

#define SIGV4_MAX_KEY_ID 128
#define SIGV4_MAX_SCOPE_PART 63   /* region, service */

struct sigv4_key {
	char *access_key_id;
	char *secret;
	char *identity;      /* who the key acts as */
};

struct sigv4_keys {
	struct sigv4_key *keys;
	size_t count;
};

/* Parses credentials text (len bytes, need not be NUL-terminated) into *out, which must
 * be zeroed or freshly freed. Returns 0, or -1 with a message naming the line in err
 * and *out left empty. */
int sigv4_keys_parse(const char *text, size_t len, struct sigv4_keys *out, char *err, size_t errlen);

/* Adds one key (copied). Returns 0, or -1 with err filled (bad id, secret or identity,
 * no identity, id already present, out of memory). */
int sigv4_keys_add(struct sigv4_keys *keys, const char *access_key_id, const char *secret,
		const char *identity, char *err, size_t errlen);

/* The secret of an access key id (id_len bytes), or NULL. Borrowed from *keys. */
const char *sigv4_keys_find(const struct sigv4_keys *keys, const char *access_key_id, size_t id_len);

/* The identity of an access key id, or NULL. Borrowed from *keys. */
const char *sigv4_keys_identity(const struct sigv4_keys *keys, const char *access_key_id);

/* Wipes and frees every key; leaves *keys empty. NULL-tolerant. */
void sigv4_keys_free(struct sigv4_keys *keys);

/* One header as received; names compare case-insensitively. NUL-terminated. */
struct sigv4_header {
	const char *name;
	const char *value;
};

struct sigv4_request {
	const char *method;                 /* "GET", "POST", ... */
	const char *path;                   /* raw, as received, without the query */
	const char *query;                  /* raw, after '?'; NULL when none */
	const struct sigv4_header *headers; /* in received order, repeats kept */
	size_t header_count;
	const void *body;                   /* may be NULL when body_len is 0 */
	size_t body_len;
};

/* What went wrong, mapped to AWS's answers (sigv4_error_type, sigv4_error_status). */
enum sigv4_error {
	SIGV4_OK = 0,
	SIGV4_MISSING_AUTH,          /* no Authorization header */
	SIGV4_INCOMPLETE_SIGNATURE,  /* malformed Authorization, scope, date, SignedHeaders */
	SIGV4_UNRECOGNIZED_CLIENT,   /* access key id not in the store */
	SIGV4_INVALID_SIGNATURE,     /* signature mismatch, payload hash mismatch, time skew */
	SIGV4_INTERNAL,              /* out of memory, libcrypto failure */
};

struct sigv4_result {
	enum sigv4_error error;
	char message[512];                        /* AWS-style text; "" on success */
	char access_key_id[SIGV4_MAX_KEY_ID + 1]; /* when parsed, also on failure */
	char service[SIGV4_MAX_SCOPE_PART + 1];   /* from the credential scope */
	char region[SIGV4_MAX_SCOPE_PART + 1];
	int64_t request_time;                     /* epoch seconds of the signed date */
};

/* Verifies req with the keys at now_s (epoch seconds). Fills *out (always) and returns
 * out->error. */
enum sigv4_error sigv4_verify(const struct sigv4_request *req, const struct sigv4_keys *keys,
		int64_t now_s, struct sigv4_result *out);

/* The canonical request for req under the given SignedHeaders value ("host;x-amz-date"),
 * as the signer should have built it: for debug logs after a mismatch. Returns 0 with a
 * malloc'd *out (caller frees), or -1 (malformed SignedHeaders, out of memory). */
int sigv4_canonical_request(const struct sigv4_request *req, const char *signed_headers, char **out);

/* The x-amzn-ErrorType value ("InvalidSignatureException", ...) and HTTP status (403;
 * 500 for SIGV4_INTERNAL) of an error. NULL and 200 for SIGV4_OK. */
const char *sigv4_error_type(enum sigv4_error error);
int sigv4_error_status(enum sigv4_error error);

#endif
