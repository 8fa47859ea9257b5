/* Random (version 4) UUIDs, for the ids AWS gives things. */
#ifndef MOSQUITTO_JOBS_UUID_H
#define MOSQUITTO_JOBS_UUID_H

#define UUID_TEXT_LEN 36

/* Writes a random UUID in its 36-character text form, lower-case, and a NUL. Reads
 * the kernel's random source; without it, falls back to a generator seeded from the
 * clock and the process id (unique, though not unpredictable). */
void uuid_v4(char out[UUID_TEXT_LEN + 1]);

#endif
