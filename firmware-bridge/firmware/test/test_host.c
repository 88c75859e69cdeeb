/* Host unit tests of proto.c and control.c: the same sources the AVR build uses, compiled
 * with the host compiler. Run by test/firmware-bridge/firmware-host.test.ts. */
#include <stdio.h>
#include <string.h>

#include "../src/control.h"
#include "../src/proto.h"

static int failures, checks;
#define CHECK(cond)                                                                   \
    do {                                                                              \
        checks++;                                                                     \
        if (!(cond)) {                                                                \
            failures++;                                                               \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                    \
        }                                                                             \
    } while (0)

/* The golden frames of PROTOCOL.md, also checked by the TypeScript codec tests. */
static const uint8_t HELLO_WIRE[] = {0x03, 0x01, 0x01, 0x07, 0x78, 0x56, 0x34, 0x12, 0xf5, 0xdc, 0x00};
static const uint8_t WHEEL_WIRE[] = {0x0a, 0x01, 0x02, 0x07, 0xe8, 0x03, 0x18, 0xfc, 0x0b, 0x59, 0x00};
static const uint8_t ODOM_WIRE[] = {0x05, 0x01, 0x82, 0xff, 0x14, 0x01, 0x01, 0x05, 0xff, 0xff,
                                    0xff, 0xff, 0x02, 0x01, 0x01, 0x03, 0xe7, 0x66, 0x00};

/* Feeds bytes one at a time; returns the result at the last byte and counts earlier frames. */
static proto_result_t feed(proto_decoder_t *d, const uint8_t *bytes, size_t n, proto_frame_t *f) {
    proto_result_t r = PROTO_PENDING;
    for (size_t i = 0; i < n; i++) r = proto_push(d, bytes[i], f);
    return r;
}

static void test_crc(void) {
    CHECK(proto_crc16((const uint8_t *)"123456789", 9) == 0x29b1);
}

static void test_encode_golden(void) {
    uint8_t out[PROTO_MAX_WIRE], p[12];
    proto_put_u32(p, 0x12345678);
    CHECK(proto_encode(MSG_HELLO, 0, p, 4, out) == sizeof HELLO_WIRE);
    CHECK(memcmp(out, HELLO_WIRE, sizeof HELLO_WIRE) == 0);
    proto_put_u16(p, 1000);
    proto_put_u16(p + 2, (uint16_t)-1000);
    CHECK(proto_encode(MSG_WHEEL_CMD, 7, p, 4, out) == sizeof WHEEL_WIRE);
    CHECK(memcmp(out, WHEEL_WIRE, sizeof WHEEL_WIRE) == 0);
    proto_put_u32(p, 20);
    proto_put_u32(p + 4, (uint32_t)-1);
    proto_put_u32(p + 8, 256);
    CHECK(proto_encode(MSG_ODOMETRY, 255, p, 12, out) == sizeof ODOM_WIRE);
    CHECK(memcmp(out, ODOM_WIRE, sizeof ODOM_WIRE) == 0);
    CHECK(proto_encode(MSG_HELLO, 0, p, 3, out) == 0);
}

static void test_decode_byte_by_byte(void) {
    proto_decoder_t d;
    proto_frame_t f;
    proto_decoder_init(&d);
    for (size_t i = 0; i + 1 < sizeof WHEEL_WIRE; i++) CHECK(proto_push(&d, WHEEL_WIRE[i], &f) == PROTO_PENDING);
    CHECK(proto_push(&d, 0, &f) == PROTO_FRAME);
    CHECK(f.type == MSG_WHEEL_CMD && f.seq == 7 && f.len == 4);
    CHECK((int16_t)proto_get_u16(f.payload) == 1000 && (int16_t)proto_get_u16(f.payload + 2) == -1000);
    CHECK(feed(&d, ODOM_WIRE, sizeof ODOM_WIRE, &f) == PROTO_FRAME);
    CHECK(f.type == MSG_ODOMETRY && f.seq == 255 && (int32_t)proto_get_u32(f.payload + 4) == -1);
}

static void test_resync_and_rejects(void) {
    proto_decoder_t d;
    proto_frame_t f;
    proto_decoder_init(&d);
    /* Garbage before a frame costs exactly that garbage, delimited by the frame's own
     * preceding zero. */
    const uint8_t garbage[] = {0x55, 0xaa, 0x13, 0x00};
    CHECK(feed(&d, garbage, sizeof garbage, &f) == PROTO_ERR_OTHER);
    CHECK(feed(&d, HELLO_WIRE, sizeof HELLO_WIRE, &f) == PROTO_FRAME);
    CHECK(proto_get_u32(f.payload) == 0x12345678);
    /* One flipped payload bit: CRC error, never a frame. */
    uint8_t bad[sizeof WHEEL_WIRE];
    memcpy(bad, WHEEL_WIRE, sizeof bad);
    bad[4] ^= 0x01;
    CHECK(feed(&d, bad, sizeof bad, &f) == PROTO_ERR_CRC);
    /* Overflow: 40 non-zero bytes, then the next good frame still decodes. */
    for (int i = 0; i < 40; i++) CHECK(proto_push(&d, 0x11, &f) == PROTO_PENDING);
    CHECK(proto_push(&d, 0, &f) == PROTO_ERR_OTHER);
    CHECK(feed(&d, WHEEL_WIRE, sizeof WHEEL_WIRE, &f) == PROTO_FRAME);
    /* Wrong version with a valid CRC is rejected too. */
    uint8_t body[9] = {2, MSG_HELLO, 1, 1, 2, 3, 4, 0, 0};
    proto_put_u16(body + 7, proto_crc16(body, 7));
    CHECK(body[7] != 0 && body[8] != 0); /* so the COBS form is one block */
    CHECK(proto_push(&d, 10, &f) == PROTO_PENDING);
    CHECK(feed(&d, body, 9, &f) == PROTO_PENDING);
    CHECK(proto_push(&d, 0, &f) == PROTO_ERR_OTHER);
    CHECK(proto_push(&d, 0, &f) == PROTO_EMPTY);
}

static proto_frame_t frame(uint8_t type, uint8_t seq, int16_t a, int16_t b) {
    proto_frame_t f = {.type = type, .seq = seq, .len = proto_payload_length(type)};
    memset(f.payload, 0, sizeof f.payload);
    proto_put_u16(f.payload, (uint16_t)a);
    proto_put_u16(f.payload + 2, (uint16_t)b);
    return f;
}

static void test_failsafe(void) {
    ctl_t c;
    ctl_reply_t r;
    int16_t l, rt;
    ctl_init(&c, 1200, 0);
    proto_frame_t cmd = frame(MSG_WHEEL_CMD, 1, 4000, -2000);
    ctl_on_frame(&c, &cmd, 0, &r);
    CHECK(r.type == MSG_ACK && r.payload[0] == 1 && r.payload[1] == MSG_WHEEL_CMD && r.payload[2] == ACK_NOT_READY);
    CHECK(c.state == CTL_IDLE);

    proto_frame_t hello = frame(MSG_HELLO, 2, 0x5678, 0x1234);
    ctl_on_frame(&c, &hello, 5, &r);
    CHECK(r.type == MSG_HELLO_ACK && proto_get_u32(r.payload) == 0x12345678 && proto_get_u16(r.payload + 6) == 1200);
    CHECK(c.state == CTL_READY);

    ctl_on_frame(&c, &cmd, 1000, &r);
    CHECK(r.payload[2] == ACK_ACCEPTED && c.state == CTL_RUNNING);
    ctl_outputs(&c, &l, &rt);
    CHECK(l == 4000 && rt == -2000);

    proto_frame_t hb = frame(MSG_HEARTBEAT, 3, 0, 0);
    ctl_on_frame(&c, &hb, 1100, &r);
    CHECK(ctl_tick(&c, 1289) == 0 && c.state == CTL_RUNNING);
    CHECK(ctl_tick(&c, 1290) == 1 && c.state == CTL_FAILSAFE);
    CHECK(c.faults == FAULT_FAILSAFE);
    ctl_outputs(&c, &l, &rt);
    CHECK(l == 0 && rt == 0);

    /* A heartbeat alone does not restart the motors; a command does. */
    ctl_on_frame(&c, &hb, 1300, &r);
    CHECK(r.payload[2] == ACK_ACCEPTED && c.state == CTL_FAILSAFE);
    ctl_outputs(&c, &l, &rt);
    CHECK(l == 0 && rt == 0);
    ctl_on_frame(&c, &cmd, 1310, &r);
    CHECK(c.state == CTL_RUNNING);

    /* Timestamps that wrap around 2^32 ms still time out after 190 ms. */
    ctl_on_frame(&c, &cmd, 0xffffff00u, &r);
    CHECK(ctl_tick(&c, 0xffffff00u + 189) == 0);
    CHECK(ctl_tick(&c, 0xffffff00u + 190) == 1);
}

static void test_estop(void) {
    ctl_t c;
    ctl_reply_t r;
    int16_t l, rt;
    ctl_init(&c, 1200, FAULT_WATCHDOG_RESET);
    proto_frame_t hello = frame(MSG_HELLO, 0, 1, 0);
    proto_frame_t cmd = frame(MSG_WHEEL_CMD, 1, 1000, 1000);
    proto_frame_t estop = frame(MSG_ESTOP, 2, 7, 0);
    ctl_on_frame(&c, &hello, 0, &r);
    ctl_on_frame(&c, &cmd, 10, &r);
    ctl_on_frame(&c, &estop, 20, &r);
    CHECK(r.type == MSG_ACK && r.payload[2] == ACK_ACCEPTED && c.state == CTL_ESTOP);
    CHECK(c.faults == (FAULT_WATCHDOG_RESET | FAULT_ESTOP));
    ctl_on_frame(&c, &cmd, 30, &r);
    CHECK(r.payload[2] == ACK_ESTOPPED && c.state == CTL_ESTOP);
    ctl_outputs(&c, &l, &rt);
    CHECK(l == 0 && rt == 0);
    /* Only a new session clears the latch; the reset cause stays reported. */
    ctl_on_frame(&c, &hello, 40, &r);
    CHECK(c.state == CTL_READY && c.faults == FAULT_WATCHDOG_RESET);
    ctl_on_frame(&c, &cmd, 50, &r);
    CHECK(c.state == CTL_RUNNING);
    ctl_on_bad_frame(&c, PROTO_ERR_CRC);
    ctl_on_bad_frame(&c, PROTO_ERR_OTHER);
    CHECK(c.rx_crc_errors == 1 && c.rx_frames == 6);
}

int main(void) {
    test_crc();
    test_encode_golden();
    test_decode_byte_by_byte();
    test_resync_and_rejects();
    test_failsafe();
    test_estop();
    printf("%d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}
