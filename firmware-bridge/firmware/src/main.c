/* ATmega328P motor-controller firmware: the hardware around control.c and proto.c.
 * Interrupts only move bytes and count encoder edges; every decision is made in the main
 * loop, which wakes at least every millisecond (Timer0) and feeds the watchdog. */
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/sleep.h>
#include <avr/wdt.h>
#include <util/atomic.h>

#include "board.h"
#include "control.h"
#include "proto.h"

static volatile uint32_t g_ms;
static volatile int32_t g_ticks[2];
static volatile uint8_t g_enc_prev;

#define RX_SIZE 64u /* powers of two: the indices wrap with a mask */
#define TX_SIZE 128u
static volatile uint8_t rx_buf[RX_SIZE], rx_head, rx_tail, rx_overflow;
static volatile uint8_t tx_buf[TX_SIZE], tx_head, tx_tail;

ISR(TIMER0_COMPA_vect) { g_ms++; }

ISR(USART_RX_vect) {
    uint8_t byte = UDR0;
    uint8_t next = (uint8_t)((rx_head + 1) & (RX_SIZE - 1));
    if (next == rx_tail) {
        rx_overflow = 1;
        return;
    }
    rx_buf[rx_head] = byte;
    rx_head = next;
}

ISR(USART_UDRE_vect) {
    if (tx_head == tx_tail) {
        UCSR0B &= (uint8_t)~_BV(UDRIE0);
        return;
    }
    UDR0 = tx_buf[tx_tail];
    tx_tail = (uint8_t)((tx_tail + 1) & (TX_SIZE - 1));
}

/* Quadrature x4: index (previous AB << 2 | current AB); 0 for no change or an impossible
 * double step. */
static const int8_t QUAD[16] = {0, -1, 1, 0, 1, 0, 0, -1, -1, 0, 0, 1, 0, 1, -1, 0};

ISR(PCINT1_vect) {
    uint8_t now = PINC & 0x0f;
    uint8_t prev = g_enc_prev;
    g_ticks[0] += QUAD[((prev & 0x03) << 2) | (now & 0x03)];
    g_ticks[1] += QUAD[(prev & 0x0c) | ((now >> 2) & 0x03)];
    g_enc_prev = now;
}

static uint32_t millis(void) {
    uint32_t ms;
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE) { ms = g_ms; }
    return ms;
}

/* Queues a whole frame or none of it: a half-sent frame would cost the bridge a resync. */
static void send(uint8_t type, uint8_t seq, const uint8_t *payload, uint8_t len) {
    uint8_t wire[PROTO_MAX_WIRE];
    uint8_t n = proto_encode(type, seq, payload, len, wire);
    uint8_t used = (uint8_t)((tx_head - tx_tail) & (TX_SIZE - 1));
    if (n == 0 || n > TX_SIZE - 1 - used) return;
    for (uint8_t i = 0; i < n; i++) {
        tx_buf[tx_head] = wire[i];
        tx_head = (uint8_t)((tx_head + 1) & (TX_SIZE - 1));
    }
    UCSR0B |= _BV(UDRIE0);
}

static void drive(uint8_t left, int16_t mrad_s) {
    int32_t magnitude = mrad_s < 0 ? -(int32_t)mrad_s : mrad_s;
    if (magnitude > MAX_WHEEL_MRAD_S) magnitude = MAX_WHEEL_MRAD_S;
    uint16_t duty = (uint16_t)((uint32_t)magnitude * (PWM_TOP + 1u) / MAX_WHEEL_MRAD_S);
    if (duty > PWM_TOP) duty = PWM_TOP;
    uint8_t forward = mrad_s > 0, backward = mrad_s < 0;
    if (left) {
        OCR1A = duty;
        PORTD = (uint8_t)((PORTD & (uint8_t)~(_BV(PD4) | _BV(PD7))) | (forward ? _BV(PD4) : 0) |
                          (backward ? _BV(PD7) : 0));
    } else {
        OCR1B = duty;
        PORTB = (uint8_t)((PORTB & (uint8_t)~(_BV(PB0) | _BV(PB4))) | (forward ? _BV(PB0) : 0) |
                          (backward ? _BV(PB4) : 0));
    }
}

static void hardware_init(void) {
    /* Direction pins low before they become outputs: the bridge is off at power-up. */
    PORTD &= (uint8_t)~(_BV(PD4) | _BV(PD7));
    PORTB &= (uint8_t)~(_BV(PB0) | _BV(PB4) | _BV(PB1) | _BV(PB2));
    DDRD |= _BV(PD4) | _BV(PD7);
    DDRB |= _BV(PB0) | _BV(PB4) | _BV(PB1) | _BV(PB2);

    TCCR0A = _BV(WGM01); /* CTC, 16 MHz / 64 / 250 = 1 kHz */
    OCR0A = 249;
    TCCR0B = _BV(CS01) | _BV(CS00);
    TIMSK0 = _BV(OCIE0A);

    ICR1 = PWM_TOP; /* mode 14: fast PWM, TOP = ICR1, no prescaler */
    OCR1A = 0;
    OCR1B = 0;
    TCCR1A = _BV(COM1A1) | _BV(COM1B1) | _BV(WGM11);
    TCCR1B = _BV(WGM13) | _BV(WGM12) | _BV(CS10);

    UBRR0 = UART_UBRR;
    UCSR0A = _BV(U2X0);
    UCSR0C = _BV(UCSZ01) | _BV(UCSZ00);
    UCSR0B = _BV(RXEN0) | _BV(TXEN0) | _BV(RXCIE0);

    PORTC |= 0x0f; /* encoder pull-ups */
    g_enc_prev = PINC & 0x0f;
    PCMSK1 = 0x0f;
    PCICR = _BV(PCIE1);

    ADMUX = _BV(REFS0) | 5; /* AVCC reference, ADC5 */
    ADCSRA = _BV(ADEN) | _BV(ADPS2) | _BV(ADPS1) | _BV(ADPS0);
}

int main(void) {
    uint16_t reset_faults = 0;
    if (MCUSR & _BV(WDRF)) reset_faults |= FAULT_WATCHDOG_RESET;
    if (MCUSR & _BV(BORF)) reset_faults |= FAULT_BROWNOUT_RESET;
    MCUSR = 0;
    wdt_disable();

    hardware_init();
    static ctl_t ctl;
    static proto_decoder_t decoder;
    ctl_init(&ctl, TICKS_PER_REV, reset_faults);
    proto_decoder_init(&decoder);
    uint8_t tx_seq = 0, last_state = 0xff;
    uint16_t battery_mv = 0;
    uint32_t next_odometry = 0, next_slow = 0;
    /* A main loop stuck for 120 ms resets the MCU, which leaves the motors off. */
    wdt_enable(WDTO_120MS);
    sei();

    for (;;) {
        wdt_reset();
        uint32_t now = millis();
        while (rx_tail != rx_head) {
            uint8_t byte = rx_buf[rx_tail];
            rx_tail = (uint8_t)((rx_tail + 1) & (RX_SIZE - 1));
            proto_frame_t frame;
            proto_result_t r = proto_push(&decoder, byte, &frame);
            if (r == PROTO_FRAME) {
                ctl_reply_t reply;
                ctl_on_frame(&ctl, &frame, now, &reply);
                if (reply.type) send(reply.type, tx_seq++, reply.payload, reply.len);
            } else if (r == PROTO_ERR_CRC || r == PROTO_ERR_OTHER) {
                ctl_on_bad_frame(&ctl, r);
            }
        }
        if (rx_overflow) {
            rx_overflow = 0;
            ctl.faults |= FAULT_RX_OVERFLOW;
        }
        ctl_tick(&ctl, now);
        int16_t left, right;
        ctl_outputs(&ctl, &left, &right);
        drive(1, left);
        drive(0, right);

        if ((int32_t)(now - next_odometry) >= 0) {
            next_odometry = now + ODOMETRY_PERIOD_MS;
            uint8_t p[12];
            int32_t l, r;
            ATOMIC_BLOCK(ATOMIC_RESTORESTATE) {
                l = g_ticks[0];
                r = g_ticks[1];
            }
            proto_put_u32(&p[0], now);
            proto_put_u32(&p[4], (uint32_t)l);
            proto_put_u32(&p[8], (uint32_t)r);
            send(MSG_ODOMETRY, tx_seq++, p, 12);
        }
        if (!(ADCSRA & _BV(ADSC)) && (ADCSRA & _BV(ADIF))) {
            ADCSRA |= _BV(ADIF);
            battery_mv = (uint16_t)((uint32_t)ADC * 5000u * BATTERY_DIVIDER / 1024u);
            if (battery_mv < BATTERY_LOW_MV) ctl.faults |= FAULT_BATTERY_LOW;
            else ctl.faults &= (uint16_t)~FAULT_BATTERY_LOW;
        }
        if ((int32_t)(now - next_slow) >= 0 || ctl.state != last_state) {
            if ((int32_t)(now - next_slow) >= 0) {
                next_slow = now + SLOW_PERIOD_MS;
                uint8_t b[2];
                proto_put_u16(b, battery_mv);
                send(MSG_BATTERY, tx_seq++, b, 2);
                ADCSRA |= _BV(ADSC);
            }
            last_state = ctl.state;
            uint8_t s[7];
            s[0] = ctl.state;
            proto_put_u16(&s[1], ctl.faults);
            proto_put_u16(&s[3], ctl.rx_crc_errors);
            proto_put_u16(&s[5], ctl.rx_frames);
            send(MSG_STATUS, tx_seq++, s, 7);
        }

        /* Sleep until the next interrupt, unless a byte arrived since the check above. */
        cli();
        if (rx_tail == rx_head) {
            sleep_enable();
            sei();
            sleep_cpu();
            sleep_disable();
        }
        sei();
    }
}
