/* Dates of the proleptic Gregorian calendar as days since 1970-01-01 and back (Howard
 * Hinnant's algorithms), so UTC needs neither timegm nor the TZ environment. Pure. */
#ifndef MOSQUITTO_JOBS_CIVIL_H
#define MOSQUITTO_JOBS_CIVIL_H

#include <stdint.h>

/* Days since 1970-01-01 of year y, month m (1-12), day d (1-31). */
int64_t civil_to_days(int64_t y, int m, int d);
/* The date of day z since 1970-01-01. */
void civil_from_days(int64_t z, int64_t *y, int *m, int *d);
/* 28-31. */
int civil_days_in_month(int64_t y, int m);

#endif
