#include "proto.h"

/* Bitwise CRC: a 512-byte table would cost 1.5 % of the ATmega328P's flash for no need at
 * 115200 baud. */
uint16_t proto_crc16(const uint8_t *data, uint8_t len) {
    uint16_t crc = 0xffff;
    for (uint8_t i = 0; i < len; i++) {
        crc ^= (uint16_t)data[i] << 8;
        for (uint8_t bit = 0; bit < 8; bit++)
            crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
    }
    return crc;
}

uint8_t proto_payload_length(uint8_t type) {
    switch (type) {
    case MSG_HELLO: return 4;
    case MSG_WHEEL_CMD: return 4;
    case MSG_HEARTBEAT: return 4;
    case MSG_ESTOP: return 1;
    case MSG_ACK: return 3;
    case MSG_HELLO_ACK: return 8;
    case MSG_ODOMETRY: return 12;
    case MSG_BATTERY: return 2;
    case MSG_STATUS: return 7;
    default: return 0xff;
    }
}

void proto_decoder_init(proto_decoder_t *d) {
    d->len = 0;
    d->overflow = 0;
}

/* Decodes the collected COBS bytes in place (decoded data never runs ahead of the input)
 * and checks the frame; returns its body length or 0 when the COBS form is invalid. */
static uint8_t cobs_decode_in_place(uint8_t *buf, uint8_t len) {
    uint8_t i = 0, o = 0;
    while (i < len) {
        uint8_t code = buf[i++];
        if (code == 0 || (uint16_t)i + code - 1 > len) return 0;
        for (uint8_t k = 1; k < code; k++) buf[o++] = buf[i++];
        if (code < 0xff && i < len) buf[o++] = 0;
    }
    return o;
}

static proto_result_t finish(proto_decoder_t *d, proto_frame_t *out) {
    if (d->overflow) return PROTO_ERR_OTHER;
    uint8_t n = cobs_decode_in_place(d->raw, d->len);
    if (n < 5) return PROTO_ERR_OTHER;
    uint16_t expected = proto_get_u16(&d->raw[n - 2]);
    if (proto_crc16(d->raw, (uint8_t)(n - 2)) != expected) return PROTO_ERR_CRC;
    if (d->raw[0] != PROTO_VERSION) return PROTO_ERR_OTHER;
    uint8_t plen = proto_payload_length(d->raw[1]);
    if (plen == 0xff || n != plen + 5) return PROTO_ERR_OTHER;
    out->type = d->raw[1];
    out->seq = d->raw[2];
    out->len = plen;
    for (uint8_t i = 0; i < plen; i++) out->payload[i] = d->raw[3 + i];
    return PROTO_FRAME;
}

proto_result_t proto_push(proto_decoder_t *d, uint8_t byte, proto_frame_t *out) {
    if (byte != 0) {
        if (d->len < PROTO_MAX_ENCODED) d->raw[d->len++] = byte;
        else d->overflow = 1;
        return PROTO_PENDING;
    }
    if (d->len == 0 && !d->overflow) return PROTO_EMPTY;
    proto_result_t r = finish(d, out);
    proto_decoder_init(d);
    return r;
}

uint8_t proto_encode(uint8_t type, uint8_t seq, const uint8_t *payload, uint8_t len, uint8_t *out) {
    if (proto_payload_length(type) != len) return 0;
    uint8_t body[PROTO_MAX_BODY];
    body[0] = PROTO_VERSION;
    body[1] = type;
    body[2] = seq;
    for (uint8_t i = 0; i < len; i++) body[3 + i] = payload[i];
    proto_put_u16(&body[3 + len], proto_crc16(body, (uint8_t)(3 + len)));
    uint8_t n = (uint8_t)(len + 5);
    /* COBS: bodies are under 254 bytes, so no 0xff code block is ever needed. */
    uint8_t code_at = 0, code = 1, o = 1;
    for (uint8_t i = 0; i < n; i++) {
        if (body[i] == 0) {
            out[code_at] = code;
            code_at = o++;
            code = 1;
        } else {
            out[o++] = body[i];
            code++;
        }
    }
    out[code_at] = code;
    out[o++] = 0;
    return o;
}
