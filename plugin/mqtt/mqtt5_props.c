/* Reads an MQTT 5 property list the broker hands to a plugin.
 *
 * Upstream's src/linker.syms, the list of names a broker exports to plugins from
 * 2.0.11 to 2.0.20, has mosquitto_property_add_* and _free_all but no reader: only
 * builds that export every symbol (Debian 12's 2.0.11, built with -rdynamic) let a
 * plugin call mosquitto_property_read_*. So the list is walked here. Its layout,
 * struct mqtt5__property in Mosquitto's lib/property_mosq.h, is the same from 1.6
 * through 2.0.x and, for the members read here (next, value, identifier), in 2.1's
 * libcommon/property_common.h. tests/unit/test_mqtt5_props.c builds lists with
 * libmosquitto's own mosquitto_property_add_* and reads them back with this file, so
 * a change of layout in the installed Mosquitto fails a test. */
#include "mqtt/mqtt5_props.h"

#include <mqtt_protocol.h>
#include <stdint.h>

struct prop_string {
	char *v;
	uint16_t len;
};

/* The leading members of struct mqtt5__property; the ones after identifier are not
 * read, and the struct is only ever reached through the broker's pointers. */
struct prop_node {
	struct prop_node *next;
	union {
		uint8_t i8;
		uint16_t i16;
		uint32_t i32;
		uint32_t varint;
		struct prop_string bin;
		struct prop_string s;
	} value;
	struct prop_string name;
	int32_t identifier;
};

static bool holds_bytes(int identifier)
{
	switch(identifier){
		case MQTT_PROP_CONTENT_TYPE:
		case MQTT_PROP_RESPONSE_TOPIC:
		case MQTT_PROP_CORRELATION_DATA:
		case MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER:
		case MQTT_PROP_AUTHENTICATION_METHOD:
		case MQTT_PROP_AUTHENTICATION_DATA:
		case MQTT_PROP_RESPONSE_INFORMATION:
		case MQTT_PROP_SERVER_REFERENCE:
		case MQTT_PROP_REASON_STRING:
			return true;
		default:
			return false;
	}
}

bool mqtt5_props_find_bytes(const mosquitto_property *props, int identifier,
		const void **value, size_t *len)
{
	if(!holds_bytes(identifier)) return false;
	for(const struct prop_node *p = (const struct prop_node *)props; p; p = p->next){
		if(p->identifier != identifier) continue;
		/* bin and s share their layout; a binary property may be empty */
		*value = p->value.bin.v ? p->value.bin.v : "";
		*len = p->value.bin.len;
		return true;
	}
	return false;
}
