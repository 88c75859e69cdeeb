;; The 2x2-mean grey path of pair-mean.ts for 3- and 4-byte pixels (rgb8, bgr8, rgba8, bgra8),
;; four output pixels per iteration with WebAssembly SIMD. The JavaScript word loops stay the
;; reference and the fallback; this is the same arithmetic in f32 lanes.
;;
;; Layout in this module's memory: the source rows as the frame has them (`pitch` bytes from an
;; output row's top source row to the next one's, `step` from a top row to its bottom row), and
;; a float32 output buffer. Each iteration reads 32 bytes from each of the two rows although a
;; 3-byte group uses 24: the caller leaves 16 readable bytes after the last row.
;;
;; out[y * w + x] = sum over the 2x2 block and channels of byte * c[channel] + offset, where the
;; c already include the 1/4 of the mean and the model's scaling.
;;
;; Build: npm run build:wasm (wabt); test/models/preprocess-simd.test.ts checks that the committed
;; .wasm is this file assembled.
(module
  (memory (export "memory") 1)

  ;; In each kernel, per channel: the two rows' bytes summed as u16 (extend and add), then
  ;; adjacent pixels as i32 (extadd_pairwise), converted to f32: one 2x2 block sum per lane. The
  ;; signed forms are exact (a block sums at most 4 x 255) and map to single x86 instructions.

  ;; 3 bytes per pixel. w must be a multiple of 4.
  (func (export "pairMean3")
    (param $src i32) (param $step i32) (param $pitch i32) (param $w i32) (param $h i32)
    (param $dst i32) (param $c0 f32) (param $c1 f32) (param $c2 f32) (param $offset f32)
    (local $y i32) (local $a i32) (local $end i32) (local $row i32)
    (local $t0 v128) (local $t1 v128) (local $b0 v128) (local $b1 v128)
    (local $tc01 v128) (local $bc01 v128) (local $tc2 v128) (local $bc2 v128)
    (local $k0 v128) (local $k1 v128) (local $k2 v128) (local $ko v128)
    (local.set $k0 (f32x4.splat (local.get $c0)))
    (local.set $k1 (f32x4.splat (local.get $c1)))
    (local.set $k2 (f32x4.splat (local.get $c2)))
    (local.set $ko (f32x4.splat (local.get $offset)))
    (local.set $row (local.get $src))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $y) (local.get $h)))
        (local.set $a (local.get $row))
        ;; 8 source pixels (24 bytes) per 4 output pixels.
        (local.set $end (i32.add (local.get $row) (i32.mul (local.get $w) (i32.const 6))))
        (block $cols_done
          (loop $cols
            (br_if $cols_done (i32.ge_u (local.get $a) (local.get $end)))
            (local.set $t0 (v128.load (local.get $a)))
            (local.set $t1 (v128.load offset=16 (local.get $a)))
            (local.set $b0 (v128.load (i32.add (local.get $a) (local.get $step))))
            (local.set $b1 (v128.load offset=16 (i32.add (local.get $a) (local.get $step))))
            ;; Channel 0 of the 8 pixels in lanes 0-7, channel 1 in lanes 8-15; channel 2 twice.
            (local.set $tc01 (i8x16.shuffle 0 3 6 9 12 15 18 21 1 4 7 10 13 16 19 22
              (local.get $t0) (local.get $t1)))
            (local.set $bc01 (i8x16.shuffle 0 3 6 9 12 15 18 21 1 4 7 10 13 16 19 22
              (local.get $b0) (local.get $b1)))
            (local.set $tc2 (i8x16.shuffle 2 5 8 11 14 17 20 23 2 5 8 11 14 17 20 23
              (local.get $t0) (local.get $t1)))
            (local.set $bc2 (i8x16.shuffle 2 5 8 11 14 17 20 23 2 5 8 11 14 17 20 23
              (local.get $b0) (local.get $b1)))
            (v128.store (local.get $dst)
              (f32x4.add
                (f32x4.add
                  (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extadd_pairwise_i16x8_s
                    (i16x8.add (i16x8.extend_low_i8x16_u (local.get $tc01)) (i16x8.extend_low_i8x16_u (local.get $bc01))))) (local.get $k0))
                  (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extadd_pairwise_i16x8_s
                    (i16x8.add (i16x8.extend_high_i8x16_u (local.get $tc01)) (i16x8.extend_high_i8x16_u (local.get $bc01))))) (local.get $k1)))
                (f32x4.add
                  (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extadd_pairwise_i16x8_s
                    (i16x8.add (i16x8.extend_low_i8x16_u (local.get $tc2)) (i16x8.extend_low_i8x16_u (local.get $bc2))))) (local.get $k2))
                  (local.get $ko))))
            (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
            (local.set $a (i32.add (local.get $a) (i32.const 24)))
            (br $cols)))
        (local.set $row (i32.add (local.get $row) (local.get $pitch)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $rows))))

  ;; 4 bytes per pixel. w must be a multiple of 4.
  (func (export "pairMean4")
    (param $src i32) (param $step i32) (param $pitch i32) (param $w i32) (param $h i32)
    (param $dst i32) (param $c0 f32) (param $c1 f32) (param $c2 f32) (param $c3 f32) (param $offset f32)
    (local $y i32) (local $a i32) (local $end i32) (local $row i32)
    (local $t0 v128) (local $t1 v128) (local $b0 v128) (local $b1 v128)
    (local $tc01 v128) (local $bc01 v128) (local $tc23 v128) (local $bc23 v128)
    (local $k0 v128) (local $k1 v128) (local $k2 v128) (local $k3 v128) (local $ko v128)
    (local.set $k0 (f32x4.splat (local.get $c0)))
    (local.set $k1 (f32x4.splat (local.get $c1)))
    (local.set $k2 (f32x4.splat (local.get $c2)))
    (local.set $k3 (f32x4.splat (local.get $c3)))
    (local.set $ko (f32x4.splat (local.get $offset)))
    (local.set $row (local.get $src))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $y) (local.get $h)))
        (local.set $a (local.get $row))
        ;; 8 source pixels (32 bytes) per 4 output pixels.
        (local.set $end (i32.add (local.get $row) (i32.mul (local.get $w) (i32.const 8))))
        (block $cols_done
          (loop $cols
            (br_if $cols_done (i32.ge_u (local.get $a) (local.get $end)))
            (local.set $t0 (v128.load (local.get $a)))
            (local.set $t1 (v128.load offset=16 (local.get $a)))
            (local.set $b0 (v128.load (i32.add (local.get $a) (local.get $step))))
            (local.set $b1 (v128.load offset=16 (i32.add (local.get $a) (local.get $step))))
            (local.set $tc01 (i8x16.shuffle 0 4 8 12 16 20 24 28 1 5 9 13 17 21 25 29
              (local.get $t0) (local.get $t1)))
            (local.set $bc01 (i8x16.shuffle 0 4 8 12 16 20 24 28 1 5 9 13 17 21 25 29
              (local.get $b0) (local.get $b1)))
            (local.set $tc23 (i8x16.shuffle 2 6 10 14 18 22 26 30 3 7 11 15 19 23 27 31
              (local.get $t0) (local.get $t1)))
            (local.set $bc23 (i8x16.shuffle 2 6 10 14 18 22 26 30 3 7 11 15 19 23 27 31
              (local.get $b0) (local.get $b1)))
            (v128.store (local.get $dst)
              (f32x4.add
                (f32x4.add
                  (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extadd_pairwise_i16x8_s
                    (i16x8.add (i16x8.extend_low_i8x16_u (local.get $tc01)) (i16x8.extend_low_i8x16_u (local.get $bc01))))) (local.get $k0))
                  (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extadd_pairwise_i16x8_s
                    (i16x8.add (i16x8.extend_high_i8x16_u (local.get $tc01)) (i16x8.extend_high_i8x16_u (local.get $bc01))))) (local.get $k1)))
                (f32x4.add
                  (f32x4.add
                    (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extadd_pairwise_i16x8_s
                    (i16x8.add (i16x8.extend_low_i8x16_u (local.get $tc23)) (i16x8.extend_low_i8x16_u (local.get $bc23))))) (local.get $k2))
                    (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extadd_pairwise_i16x8_s
                    (i16x8.add (i16x8.extend_high_i8x16_u (local.get $tc23)) (i16x8.extend_high_i8x16_u (local.get $bc23))))) (local.get $k3)))
                  (local.get $ko))))
            (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
            (local.set $a (i32.add (local.get $a) (i32.const 32)))
            (br $cols)))
        (local.set $row (i32.add (local.get $row) (local.get $pitch)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $rows)))))
