#!/bin/sh
# Builds the ATmega328P firmware with Debian's gcc-avr and avr-libc and prints its size.
# Output: firmware-bridge/firmware/build/firmware.{elf,hex}.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out="$here/build"
mkdir -p "$out"
command -v avr-gcc >/dev/null || { echo "firmware:build: avr-gcc not found (apt-get install gcc-avr avr-libc)" >&2; exit 1; }
avr-gcc -mmcu=atmega328p -DF_CPU=16000000UL -Os -std=gnu11 -Wall -Wextra -Werror \
  -ffunction-sections -fdata-sections -Wl,--gc-sections \
  -o "$out/firmware.elf" "$here/src/main.c" "$here/src/control.c" "$here/src/proto.c"
avr-objcopy -O ihex -R .eeprom "$out/firmware.elf" "$out/firmware.hex"
# Flash = .text + .data, RAM = .data + .bss (static; the stack comes on top).
avr-size -A "$out/firmware.elf" | awk '
  $1 == ".text" { text = $2 } $1 == ".data" { data = $2 } $1 == ".bss" { bss = $2 }
  END {
    printf "firmware: flash %d of 32768 bytes (%.1f%%), static RAM %d of 2048 bytes (%.1f%%)\n",
      text + data, (text + data) * 100 / 32768, data + bss, (data + bss) * 100 / 2048
  }'
