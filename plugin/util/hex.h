/* Hexadecimal digits: the value of one, for percent-decoding and hex checks. Pure. */
#ifndef MOSQUITTO_JOBS_HEX_H
#define MOSQUITTO_JOBS_HEX_H

/* 0 to 15 for '0'-'9', 'a'-'f' and 'A'-'F'; -1 for anything else. */
int hex_digit(char c);

#endif
