/* simavr harness for the motor-controller firmware: runs the real firmware ELF on an
 * emulated ATmega328P, exposes its UART on a pty, models two motors with quadrature encoders
 * and a battery on the ADC, and reports the H-bridge outputs on stdout.
 *
 * usage: harness FIRMWARE.elf [battery_mv]
 * stdout, one event per line:
 *   pty PATH                                   the pty to open as the serial port
 *   pwm t_us=T left=L right=R last_rx_us=X     signed duty in permille when it changes;
 *                                              X is when the last byte from the host
 *                                              entered the MCU's UART (emulated time)
 * Emulated time is held to wall-clock time: it never runs ahead, and after a stall it does
 * not sprint to catch up (that would stretch the gaps between host frames in emulated time
 * and trip the firmware's failsafe for a delay that never happened on the line). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "avr_adc.h"
#include "avr_ioport.h"
#include "avr_uart.h"
#include "sim_avr.h"
#include "sim_elf.h"

#define F_CPU 16000000ull
#define SAMPLE_CYCLES (F_CPU / 10000) /* 100 us */
/* Data-space addresses of the ATmega328P registers the model reads. */
#define REG_PORTB 0x25
#define REG_DDRB 0x24
#define REG_PORTD 0x2b
#define REG_TCCR1A 0x80
#define REG_ICR1L 0x86
#define REG_OCR1AL 0x88
#define REG_OCR1BL 0x8a
/* The board the firmware is written for (firmware/src/board.h). */
#define MAX_WHEEL_RAD_S 20.0
#define TICKS_PER_REV 1200.0

static avr_t *avr;
static int master_fd = -1;
static int xon = 1;
static uint64_t last_rx_us;
static avr_irq_t *uart_in;
static avr_irq_t *enc_pins[4];
static int printed_left = 9999, printed_right = 9999;
static double enc_phase[2];
static int enc_state[2]; /* 0..3 in Gray order: 00, 01, 11, 10 */
static volatile sig_atomic_t stop_requested;

static uint64_t now_us(void) { return avr->cycle * 1000000ull / F_CPU; }

static uint16_t reg16(int lo) { return (uint16_t)(avr->data[lo] | (avr->data[lo + 1] << 8)); }

/* Signed duty in permille as the H-bridge sees it: PWM reaches the pin only with the compare
 * output enabled and the pin an output; the sign comes from the two direction inputs. */
static int duty_permille(int left) {
    uint8_t tccr1a = avr->data[REG_TCCR1A], ddrb = avr->data[REG_DDRB];
    int enabled = left ? (tccr1a & 0x80) && (ddrb & 0x02) : (tccr1a & 0x20) && (ddrb & 0x04);
    uint16_t ocr = reg16(left ? REG_OCR1AL : REG_OCR1BL), top = reg16(REG_ICR1L);
    int in1, in2;
    if (left) {
        in1 = (avr->data[REG_PORTD] >> 4) & 1;
        in2 = (avr->data[REG_PORTD] >> 7) & 1;
    } else {
        in1 = avr->data[REG_PORTB] & 1;
        in2 = (avr->data[REG_PORTB] >> 4) & 1;
    }
    if (!enabled || in1 == in2) return 0;
    int duty = (int)((uint32_t)(ocr > top ? top + 1 : ocr) * 1000u / (top + 1u));
    return in1 ? duty : -duty;
}

static const int GRAY[4][2] = {{0, 0}, {0, 1}, {1, 1}, {1, 0}}; /* A, B */

static void encoder_step(int wheel, int dir) {
    enc_state[wheel] = (enc_state[wheel] + dir + 4) % 4;
    avr_raise_irq(enc_pins[wheel * 2], (uint32_t)GRAY[enc_state[wheel]][0]);
    avr_raise_irq(enc_pins[wheel * 2 + 1], (uint32_t)GRAY[enc_state[wheel]][1]);
}

/* Every 100 us: report output changes and turn the motors. A motor runs at duty x 20 rad/s
 * (the firmware's open-loop scale); at most one encoder edge per wheel per sample, which the
 * top speed (3820 edges/s) never exceeds. */
static avr_cycle_count_t sample(avr_t *a, avr_cycle_count_t when, void *param) {
    (void)a;
    (void)param;
    int d[2] = {duty_permille(1), duty_permille(0)};
    if (d[0] != printed_left || d[1] != printed_right) {
        printf("pwm t_us=%llu left=%d right=%d last_rx_us=%llu\n", (unsigned long long)now_us(), d[0], d[1],
               (unsigned long long)last_rx_us);
        fflush(stdout);
        printed_left = d[0];
        printed_right = d[1];
    }
    for (int w = 0; w < 2; w++) {
        double edges_per_s = d[w] / 1000.0 * MAX_WHEEL_RAD_S * TICKS_PER_REV / (2 * M_PI);
        enc_phase[w] += edges_per_s * 1e-4;
        if (enc_phase[w] >= 1) {
            enc_phase[w] -= 1;
            encoder_step(w, 1);
        } else if (enc_phase[w] <= -1) {
            enc_phase[w] += 1;
            encoder_step(w, -1);
        }
    }
    return when + SAMPLE_CYCLES;
}

static void uart_out(struct avr_irq_t *irq, uint32_t value, void *param) {
    (void)irq;
    (void)param;
    uint8_t byte = (uint8_t)value;
    /* With no reader the pty buffer fills up; bytes are then lost as on an unplugged line. */
    if (write(master_fd, &byte, 1) < 0 && errno != EAGAIN && errno != EIO) perror("harness: pty write");
}

static void uart_xon(struct avr_irq_t *irq, uint32_t value, void *param) {
    (void)irq, (void)value, (void)param;
    xon = 1;
}

static void uart_xoff(struct avr_irq_t *irq, uint32_t value, void *param) {
    (void)irq, (void)value, (void)param;
    xon = 0;
}

static void no_sleep(avr_t *a, avr_cycle_count_t how_long) { (void)a, (void)how_long; }

static uint64_t wall_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int open_pty(char *name, size_t size) {
    int fd = posix_openpt(O_RDWR | O_NOCTTY);
    if (fd < 0 || grantpt(fd) < 0 || unlockpt(fd) < 0 || ptsname_r(fd, name, size) != 0) return -1;
    /* Keep one slave descriptor open ourselves: the pty then survives the bridge closing
     * and reopening its port, and its line settings start raw. */
    int slave = open(name, O_RDWR | O_NOCTTY);
    if (slave < 0) return -1;
    struct termios t;
    tcgetattr(slave, &t);
    cfmakeraw(&t);
    tcsetattr(slave, TCSANOW, &t);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

static void on_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s FIRMWARE.elf [battery_mv]\n", argv[0]);
        return 2;
    }
    unsigned battery_mv = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 12000;
    elf_firmware_t fw;
    memset(&fw, 0, sizeof fw);
    if (elf_read_firmware(argv[1], &fw) != 0) {
        fprintf(stderr, "harness: cannot read firmware %s\n", argv[1]);
        return 1;
    }
    avr = avr_make_mcu_by_name("atmega328p");
    if (!avr) return 1;
    avr_init(avr);
    avr->frequency = (uint32_t)F_CPU;
    avr->vcc = avr->avcc = avr->aref = 5000;
    avr_load_firmware(avr, &fw);
    avr->sleep = no_sleep;

    char name[128];
    master_fd = open_pty(name, sizeof name);
    if (master_fd < 0) {
        perror("harness: pty");
        return 1;
    }

    uint32_t flags = 0;
    avr_ioctl(avr, AVR_IOCTL_UART_GET_FLAGS('0'), &flags);
    flags &= ~(uint32_t)(AVR_UART_FLAG_STDIO | AVR_UART_FLAG_POLL_SLEEP);
    avr_ioctl(avr, AVR_IOCTL_UART_SET_FLAGS('0'), &flags);
    uart_in = avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_INPUT);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUTPUT), uart_out, NULL);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XON), uart_xon, NULL);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XOFF), uart_xoff, NULL);
    for (int i = 0; i < 4; i++) {
        enc_pins[i] = avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ('C'), i);
        avr_raise_irq(enc_pins[i], 0);
    }
    avr_raise_irq(avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_ADC5), battery_mv / 3);
    avr_cycle_timer_register(avr, SAMPLE_CYCLES, sample, NULL);

    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    printf("pty %s\n", name);
    fflush(stdout);

    uint8_t pending[512];
    size_t pending_len = 0, pending_at = 0;
    uint64_t wall0 = wall_ns(), emu0 = 0, next_check = 0;
    while (!stop_requested) {
        int state = avr_run(avr);
        if (state == cpu_Done || state == cpu_Crashed) {
            fprintf(stderr, "harness: firmware stopped (state %d) at %llu us\n", state,
                    (unsigned long long)now_us());
            return 3;
        }
        if (avr->cycle < next_check) continue;
        next_check = avr->cycle + F_CPU / 2000; /* every 0.5 ms of emulated time */
        if (pending_at == pending_len) {
            ssize_t n = read(master_fd, pending, sizeof pending);
            pending_len = n > 0 ? (size_t)n : 0;
            pending_at = 0;
        }
        while (xon && pending_at < pending_len) {
            avr_raise_irq(uart_in, pending[pending_at++]);
            last_rx_us = now_us();
        }
        uint64_t emu_ns = (avr->cycle - emu0) * 1000000000ull / F_CPU;
        uint64_t wall = wall_ns() - wall0;
        if (emu_ns > wall + 200000) {
            struct timespec ts = {0, (long)(emu_ns - wall)};
            nanosleep(&ts, NULL);
        } else if (wall > emu_ns + 5000000) {
            /* More than 5 ms behind: rebase instead of catching up. */
            wall0 = wall_ns();
            emu0 = avr->cycle;
        }
    }
    return 0;
}
