/* Session and failsafe logic of the firmware, as a function of frames and a millisecond
 * timestamp. No hardware access: main.c applies the outputs, the host tests call it with
 * explicit times. */
#ifndef CONTROL_H
#define CONTROL_H

#include <stdint.h>
#include "proto.h"

/* The contract is "motors stopped within 200 ms of the last valid command or heartbeat";
 * 190 leaves room for the 1 ms tick and the last frame's own transfer time. */
#define CTL_FAILSAFE_MS 190u
#define FW_MAJOR 1
#define FW_MINOR 0

enum { CTL_IDLE = 0, CTL_READY = 1, CTL_RUNNING = 2, CTL_FAILSAFE = 3, CTL_ESTOP = 4 };
enum { ACK_ACCEPTED = 0, ACK_NOT_READY = 1, ACK_ESTOPPED = 2 };
enum {
    FAULT_FAILSAFE = 1u << 0,
    FAULT_ESTOP = 1u << 1,
    FAULT_RX_OVERFLOW = 1u << 2,
    FAULT_BATTERY_LOW = 1u << 3,
    FAULT_WATCHDOG_RESET = 1u << 4,
    FAULT_BROWNOUT_RESET = 1u << 5
};

typedef struct {
    uint8_t state;
    uint16_t faults;
    uint32_t last_valid_ms;
    int16_t left_mrad_s, right_mrad_s;
    uint16_t ticks_per_rev;
    uint16_t rx_crc_errors, rx_frames;
} ctl_t;

typedef struct {
    uint8_t type; /* 0: nothing to send */
    uint8_t len;
    uint8_t payload[8];
} ctl_reply_t;

void ctl_init(ctl_t *c, uint16_t ticks_per_rev, uint16_t reset_faults);
/* Handles a frame that passed the decoder's checks; fills *reply. */
void ctl_on_frame(ctl_t *c, const proto_frame_t *f, uint32_t now_ms, ctl_reply_t *reply);
/* Counts a frame the decoder rejected. */
void ctl_on_bad_frame(ctl_t *c, proto_result_t why);
/* Applies the failsafe timeout; returns 1 when the state changed. */
uint8_t ctl_tick(ctl_t *c, uint32_t now_ms);
/* Wheel targets to drive now: zero in every state but RUNNING. */
void ctl_outputs(const ctl_t *c, int16_t *left, int16_t *right);

#endif
