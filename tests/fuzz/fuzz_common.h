/* Shared by the libFuzzer targets: a service over an in-memory store, a log sink
 * that still formats every message, and checks on what the service appended. */
#ifndef JOBS_FUZZ_COMMON_H
#define JOBS_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/service.h"

/* 2023-11-14T22:13:20Z: the clock every fresh service starts from. */
#define FUZZ_NOW_MS INT64_C(1700000000000)

/* A service over ":memory:", capped at db_max_mb MB when not 0 (plugin_opt_db_max_mb:
 * a full database makes commits fail, so the error paths run); aborts when it
 * cannot be made (a harness bug). */
struct service *fuzz_service_new(int db_max_mb);

/* Runs one management request at now_ms; aborts unless every command succeeded
 * (for seeding). The outbox is cleared afterwards. */
void fuzz_seed(struct service *svc, const char *json, int64_t now_ms);

/* fuzz_service_new(0) with the management requests seeds[0..n) run at now_ms. */
struct service *fuzz_service_seeded(const char *const *seeds, size_t n, int64_t now_ms);

/* Sends one device request as client "dev" (for seeding); clears the outbox. */
void fuzz_seed_device(struct service *svc, const char *topic, const char *payload, int64_t now_ms);

/* Checks every appended message: a topic (UTF-8 unless the request's own topic was
 * not: Mosquitto never hands over such a topic, and a reply topic echoes it), a
 * payload that is a UTF-8 JSON object with no NUL inside payload_len, QoS 0-1, and
 * for device_only a topic under $aws/things/ but for jobs events, which go to every
 * subscriber on $aws/events/job[Execution]/<their jobId>/<their operation>. Aborts (so libFuzzer keeps the input)
 * on a violation. */
void fuzz_check_outbox(const struct outbox *ob, bool device_only, bool topic_utf8);

/* Inputs per service before it is recreated (env FUZZ_RESET_EVERY overrides the
 * default; 1 makes every input run on a fresh service, for reproducing). */
unsigned fuzz_reset_every(unsigned fallback);

/* A cursor over the fuzzer's bytes: reads past the end give zeros. */
struct fuzz_reader {
	const uint8_t *p;
	size_t n;
};

uint8_t fr_u8(struct fuzz_reader *r);
uint32_t fr_u32(struct fuzz_reader *r);
uint64_t fr_u64(struct fuzz_reader *r);

/* Clock step from one byte: below 0xC0, 0-47.75 s in 250 ms steps; above, whole
 * minutes (1-64), so timers, rollout minutes and schedules come due. */
int64_t fuzz_clock_step(uint8_t b);

#endif
