/* Test controls (plugin_opt_test_controls on): the state the conformance commands
 * set up, in bounded memory. Per-thing fault lists, the job-time offset, and
 * per-thing transcripts. Pure data: knows nothing of the store, the outbox or
 * Mosquitto; the MQTT adapter consults it (mqtt/testctl_apply.c) and the management
 * commands fill it (control_testing.c).
 *
 * Ownership: the testctl owns every string it keeps; callers' strings are copied. */
#ifndef MOSQUITTO_JOBS_TESTCTL_H
#define MOSQUITTO_JOBS_TESTCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits: a thing's fault list, the things with faults, a transcript's entries and
 * bytes (topics plus payloads), the things with a transcript. */
#define TESTCTL_MAX_FAULTS 100
#define TESTCTL_MAX_FAULT_THINGS 1024
#define TESTCTL_MAX_ENTRIES 2000
#define TESTCTL_MAX_BYTES (4 * 1024 * 1024)
#define TESTCTL_MAX_TRANSCRIPTS 256
#define TESTCTL_MAX_COUNT 1000
#define TESTCTL_MAX_DELAY_MS 60000
#define TESTCTL_MAX_ADVANCE_MINUTES 525600

enum testctl_op { TESTCTL_OP_GET, TESTCTL_OP_START_NEXT, TESTCTL_OP_DESCRIBE, TESTCTL_OP_UPDATE, TESTCTL_OP_ANY };
enum testctl_action { TESTCTL_DROP, TESTCTL_DELAY, TESTCTL_REJECT, TESTCTL_DUPLICATE };

struct testctl_fault {
	enum testctl_op op;
	int count;               /* requests left (1-1000) */
	enum testctl_action action;
	int delay_ms;            /* TESTCTL_DELAY: 1-60000 */
	char code[32];           /* TESTCTL_REJECT: the error code */
};

/* Names on the wire ("get", "start-next", …; "drop", "delay", …); parse returns
 * false for an unknown name. */
bool testctl_op_parse(const char *name, enum testctl_op *out);
bool testctl_action_parse(const char *name, enum testctl_action *out);
const char *testctl_action_name(enum testctl_action action);
/* Whether `code` is one a reject fault may answer with. */
bool testctl_code_valid(const char *code);

struct testctl;
struct testctl *testctl_create(void);
void testctl_destroy(struct testctl *tc);

/* Replaces the thing's fault list (n may be 0: clears it). Returns 0, -1 out of
 * memory, -2 when n > TESTCTL_MAX_FAULTS or TESTCTL_MAX_FAULT_THINGS things already
 * have faults. */
int testctl_set_faults(struct testctl *tc, const char *thing, const struct testctl_fault *faults, size_t n);
/* The thing's first fault for `op` (a fault for TESTCTL_OP_ANY matches every op),
 * used once: its count goes down, and at 0 it is gone. Returns false when none. */
bool testctl_take_fault(struct testctl *tc, const char *thing, enum testctl_op op, struct testctl_fault *out);

/* Job time: minutes moved forward in total. */
int64_t testctl_advance(struct testctl *tc, int64_t minutes);
int64_t testctl_offset_minutes(const struct testctl *tc);

/* Transcripts. start: 0, -1 out of memory, -2 when TESTCTL_MAX_TRANSCRIPTS things
 * are recorded already (starting a recorded thing again keeps its entries). */
int testctl_transcript_start(struct testctl *tc, const char *thing);
/* Stops and forgets; false when the thing was not recorded. */
bool testctl_transcript_stop(struct testctl *tc, const char *thing);
bool testctl_recording(const struct testctl *tc, const char *thing);
/* Appends an entry when the thing is recorded; oldest entries go (and are counted)
 * past TESTCTL_MAX_ENTRIES or TESTCTL_MAX_BYTES. `fault` is a static name or NULL. */
void testctl_record(struct testctl *tc, const char *thing, int64_t at_ms, bool out, const char *topic,
		const char *payload, size_t len, const char *fault);

struct testctl_entry {
	uint64_t seq;
	int64_t at_ms;
	bool out;
	char *topic;
	char *payload;       /* NUL-terminated; len bytes before the NUL */
	size_t len;
	const char *fault;   /* NULL: none */
};
/* Calls fn for each entry of the thing's transcript with seq > since, oldest first;
 * *dropped gets how many entries were dropped for space. Returns false when the
 * thing is not recorded. */
bool testctl_transcript_each(const struct testctl *tc, const char *thing, uint64_t since,
		void (*fn)(void *ctx, const struct testctl_entry *e), void *ctx, uint64_t *dropped);

#endif
