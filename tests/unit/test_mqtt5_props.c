/* The adapter's MQTT 5 property reader against lists built by libmosquitto itself,
 * so the layout it assumes is checked against the installed Mosquitto. */
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <string.h>

#include "mqtt/mqtt5_props.h"
#include "suites.h"

static void test_finds_response_topic_and_correlation(void)
{
	mosquitto_property *props = NULL;
	const unsigned char corr[] = {0x00, 0xff, 0x10, 0x00, 0x7f};
	CU_ASSERT_EQUAL_FATAL(mosquitto_property_add_int32(&props, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL, 60), MOSQ_ERR_SUCCESS);
	CU_ASSERT_EQUAL_FATAL(mosquitto_property_add_string(&props, MQTT_PROP_RESPONSE_TOPIC, "ops/reply/7"), MOSQ_ERR_SUCCESS);
	CU_ASSERT_EQUAL_FATAL(mosquitto_property_add_string_pair(&props, MQTT_PROP_USER_PROPERTY, "k", "v"), MOSQ_ERR_SUCCESS);
	CU_ASSERT_EQUAL_FATAL(mosquitto_property_add_binary(&props, MQTT_PROP_CORRELATION_DATA, corr, sizeof(corr)), MOSQ_ERR_SUCCESS);
	CU_ASSERT_EQUAL_FATAL(mosquitto_property_add_string(&props, MQTT_PROP_CONTENT_TYPE, "application/json"), MOSQ_ERR_SUCCESS);

	const void *v;
	size_t len;
	CU_ASSERT_TRUE_FATAL(mqtt5_props_find_bytes(props, MQTT_PROP_RESPONSE_TOPIC, &v, &len));
	CU_ASSERT_EQUAL(len, strlen("ops/reply/7"));
	CU_ASSERT_EQUAL(memcmp(v, "ops/reply/7", len), 0);
	CU_ASSERT_TRUE_FATAL(mqtt5_props_find_bytes(props, MQTT_PROP_CORRELATION_DATA, &v, &len));
	CU_ASSERT_EQUAL(len, sizeof(corr));
	CU_ASSERT_EQUAL(memcmp(v, corr, sizeof(corr)), 0);
	CU_ASSERT_TRUE_FATAL(mqtt5_props_find_bytes(props, MQTT_PROP_CONTENT_TYPE, &v, &len));
	CU_ASSERT_EQUAL(len, strlen("application/json"));
	CU_ASSERT_EQUAL(memcmp(v, "application/json", len), 0);
	mosquitto_property_free_all(&props);
}

static void test_absent_or_not_bytes(void)
{
	const void *v;
	size_t len;
	CU_ASSERT_FALSE(mqtt5_props_find_bytes(NULL, MQTT_PROP_RESPONSE_TOPIC, &v, &len));
	mosquitto_property *props = NULL;
	CU_ASSERT_EQUAL_FATAL(mosquitto_property_add_int32(&props, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL, 60), MOSQ_ERR_SUCCESS);
	CU_ASSERT_FALSE(mqtt5_props_find_bytes(props, MQTT_PROP_RESPONSE_TOPIC, &v, &len));
	/* a numeric property is never read as bytes */
	CU_ASSERT_FALSE(mqtt5_props_find_bytes(props, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL, &v, &len));
	/* an empty correlation data is found, with length 0 */
	CU_ASSERT_EQUAL_FATAL(mosquitto_property_add_binary(&props, MQTT_PROP_CORRELATION_DATA, NULL, 0), MOSQ_ERR_SUCCESS);
	CU_ASSERT_TRUE(mqtt5_props_find_bytes(props, MQTT_PROP_CORRELATION_DATA, &v, &len));
	CU_ASSERT_EQUAL(len, 0);
	mosquitto_property_free_all(&props);
}

void add_mqtt5_props_tests(void)
{
	static const struct test_entry tests[] = {
		{ "response topic and correlation data", test_finds_response_topic_and_correlation },
		{ "absent or not bytes", test_absent_or_not_bytes },
	};
	ADD_SUITE("mqtt5 properties", tests);
}
