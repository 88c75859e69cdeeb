/* Protocol version 1 framing (see ../../PROTOCOL.md): COBS + CRC-16/CCITT-FALSE.
 * Plain C99 with no AVR headers, so the host unit tests compile the very same file. */
#ifndef PROTO_H
#define PROTO_H

#include <stdint.h>

#define PROTO_VERSION 1
#define PROTO_MAX_BODY 32
#define PROTO_MAX_ENCODED 33
#define PROTO_MAX_PAYLOAD 27
/* COBS form plus the delimiter. */
#define PROTO_MAX_WIRE (PROTO_MAX_ENCODED + 1)

enum {
    MSG_HELLO = 0x01,
    MSG_WHEEL_CMD = 0x02,
    MSG_HEARTBEAT = 0x03,
    MSG_ESTOP = 0x04,
    MSG_ACK = 0x80,
    MSG_HELLO_ACK = 0x81,
    MSG_ODOMETRY = 0x82,
    MSG_BATTERY = 0x83,
    MSG_STATUS = 0x84
};

typedef struct {
    uint8_t type;
    uint8_t seq;
    uint8_t len;
    uint8_t payload[PROTO_MAX_PAYLOAD];
} proto_frame_t;

typedef struct {
    uint8_t raw[PROTO_MAX_ENCODED];
    uint8_t len;
    uint8_t overflow;
} proto_decoder_t;

typedef enum {
    PROTO_PENDING = 0, /* no delimiter yet */
    PROTO_FRAME = 1,   /* *out holds a frame that passed every check */
    PROTO_EMPTY = 2,   /* a delimiter with nothing before it */
    PROTO_ERR_CRC = 3,
    PROTO_ERR_OTHER = 4 /* COBS, length, version, unknown type or overflow */
} proto_result_t;

uint16_t proto_crc16(const uint8_t *data, uint8_t len);
/* Exact payload length of a type, or 0xff for an unknown type. */
uint8_t proto_payload_length(uint8_t type);
void proto_decoder_init(proto_decoder_t *d);
proto_result_t proto_push(proto_decoder_t *d, uint8_t byte, proto_frame_t *out);
/* Writes the wire form (delimiter included) to out, which holds PROTO_MAX_WIRE bytes;
 * returns its length, or 0 when the payload length does not match the type. */
uint8_t proto_encode(uint8_t type, uint8_t seq, const uint8_t *payload, uint8_t len, uint8_t *out);

static inline void proto_put_u16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void proto_put_u32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline uint16_t proto_get_u16(const uint8_t *p) { return (uint16_t)(p[0] | ((uint16_t)p[1] << 8)); }
static inline uint32_t proto_get_u32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

#endif
