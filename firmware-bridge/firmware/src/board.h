/* Board wiring: an ATmega328P (Arduino Uno class) at 16 MHz with an L298N-style dual
 * H-bridge. The simavr harness (../../sim/harness.c) models exactly these pins. */
#ifndef BOARD_H
#define BOARD_H

/* Left motor: PWM on OC1A (PB1, D9), direction IN1 = PD4 (D4), IN2 = PD7 (D7).
 * Right motor: PWM on OC1B (PB2, D10), direction IN3 = PB0 (D8), IN4 = PB4 (D12).
 * Timer1 fast PWM with TOP = ICR1 = 799 gives 20 kHz, above hearing. */
#define PWM_TOP 799u
/* Encoders: left A/B on PC0/PC1 (A0/A1), right A/B on PC2/PC3 (A2/A3), x4 decoding via
 * pin-change interrupts. 300-line encoders: 1200 counts per wheel revolution. */
#define TICKS_PER_REV 1200u
/* Battery through a 20k/10k divider into ADC5 (A5), AVCC = 5 V reference. */
#define BATTERY_DIVIDER 3u
#define BATTERY_LOW_MV 10500u
/* Wheel speed that full PWM gives (open loop feed-forward): 20 rad/s. */
#define MAX_WHEEL_MRAD_S 20000

#define UART_UBRR 16u /* 115200 baud with U2X at 16 MHz (2.1 % error, within tolerance) */

#define ODOMETRY_PERIOD_MS 20u
#define SLOW_PERIOD_MS 200u

#endif
