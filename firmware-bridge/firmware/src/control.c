#include "control.h"

void ctl_init(ctl_t *c, uint16_t ticks_per_rev, uint16_t reset_faults) {
    c->state = CTL_IDLE;
    c->faults = reset_faults;
    c->last_valid_ms = 0;
    c->left_mrad_s = 0;
    c->right_mrad_s = 0;
    c->ticks_per_rev = ticks_per_rev;
    c->rx_crc_errors = 0;
    c->rx_frames = 0;
}

static void stop(ctl_t *c, uint8_t state) {
    c->state = state;
    c->left_mrad_s = 0;
    c->right_mrad_s = 0;
}

static void ack(ctl_reply_t *r, const proto_frame_t *f, uint8_t result) {
    r->type = MSG_ACK;
    r->len = 3;
    r->payload[0] = f->seq;
    r->payload[1] = f->type;
    r->payload[2] = result;
}

void ctl_on_frame(ctl_t *c, const proto_frame_t *f, uint32_t now_ms, ctl_reply_t *reply) {
    reply->type = 0;
    c->rx_frames++;
    switch (f->type) {
    case MSG_HELLO:
        /* A new session starts from standstill and forgets the last one's latches. */
        stop(c, CTL_READY);
        c->faults &= (uint16_t)~(FAULT_FAILSAFE | FAULT_ESTOP);
        reply->type = MSG_HELLO_ACK;
        reply->len = 8;
        for (uint8_t i = 0; i < 4; i++) reply->payload[i] = f->payload[i];
        reply->payload[4] = FW_MAJOR;
        reply->payload[5] = FW_MINOR;
        proto_put_u16(&reply->payload[6], c->ticks_per_rev);
        return;
    case MSG_WHEEL_CMD:
        if (c->state == CTL_IDLE) { ack(reply, f, ACK_NOT_READY); return; }
        if (c->state == CTL_ESTOP) { ack(reply, f, ACK_ESTOPPED); return; }
        c->left_mrad_s = (int16_t)proto_get_u16(&f->payload[0]);
        c->right_mrad_s = (int16_t)proto_get_u16(&f->payload[2]);
        c->state = CTL_RUNNING;
        c->last_valid_ms = now_ms;
        ack(reply, f, ACK_ACCEPTED);
        return;
    case MSG_HEARTBEAT:
        if (c->state == CTL_IDLE) { ack(reply, f, ACK_NOT_READY); return; }
        /* Keeps a running motor running; never restarts one the failsafe stopped. */
        c->last_valid_ms = now_ms;
        ack(reply, f, c->state == CTL_ESTOP ? ACK_ESTOPPED : ACK_ACCEPTED);
        return;
    case MSG_ESTOP:
        /* Honoured in every state, with or without a session. */
        stop(c, CTL_ESTOP);
        c->faults |= FAULT_ESTOP;
        ack(reply, f, ACK_ACCEPTED);
        return;
    default:
        /* A well-formed frame of a type the MCU only sends: ignore it. */
        return;
    }
}

void ctl_on_bad_frame(ctl_t *c, proto_result_t why) {
    if (why == PROTO_ERR_CRC) c->rx_crc_errors++;
}

uint8_t ctl_tick(ctl_t *c, uint32_t now_ms) {
    if (c->state == CTL_RUNNING && (uint32_t)(now_ms - c->last_valid_ms) >= CTL_FAILSAFE_MS) {
        stop(c, CTL_FAILSAFE);
        c->faults |= FAULT_FAILSAFE;
        return 1;
    }
    return 0;
}

void ctl_outputs(const ctl_t *c, int16_t *left, int16_t *right) {
    if (c->state == CTL_RUNNING) {
        *left = c->left_mrad_s;
        *right = c->right_mrad_s;
    } else {
        *left = 0;
        *right = 0;
    }
}
