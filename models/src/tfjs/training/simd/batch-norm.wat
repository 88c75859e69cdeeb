;; Batch norm + ReLU kernels for training on the tfjs WebAssembly backend, with WebAssembly SIMD.
;; Like train-kernels.wat they run on the backend's own heap (the module imports its memory; see
;; batch-norm.ts). Every pointer is a byte offset into that heap. x, y, dy and dx are R rows of c
;; contiguous floats (NHWC with R = N*H*W), c a multiple of 4; per-channel vectors hold c floats.
;;
;; The op-by-op graph makes about fifteen full-size passes of separate elementwise kernels; here
;; the forward is three passes (sums, squared deviations, apply) and the backward two (the two
;; gradient sums together, then dx).
;;
;; The reductions sum 77k and more values per channel in float32. Rows are taken in blocks of
;; 64 that stay in L1 while every group of four channels sweeps them: four f32x4 chains over
;; interleaved rows in registers (16 terms each), then the block's sum into a scratch vector,
;; which is added to the output every 64 blocks. No partial sum takes more than 64 terms before
;; it is added into a larger one, which keeps the rounding near that of a pairwise sum; one
;; running sum per channel would not be (test/models/batch-norm-simd.test.ts).
;;
;; Build: npm run build:wasm (wabt); test/wasm-modules.test.ts checks that the committed .wasm
;; is this file assembled.
(module
  (import "env" "memory" (memory 1))

  ;; out[ch] += scratch[ch] and scratch[ch] = 0 over `bytes` bytes (both vectors 16-byte steps).
  (func $flush (param $out i32) (param $scratch i32) (param $bytes i32)
    (local $i i32)
    (local.set $i (i32.const 0))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (local.get $bytes)))
        (v128.store (i32.add (local.get $out) (local.get $i))
          (f32x4.add (v128.load (i32.add (local.get $out) (local.get $i)))
            (v128.load (i32.add (local.get $scratch) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $each)))
    (memory.fill (local.get $scratch) (i32.const 0) (local.get $bytes)))

  ;; out[ch] = sum over r of x[r, ch]. scratch holds c floats the kernel may overwrite.
  (func (export "channelSums")
    (param $x i32) (param $out i32) (param $scratch i32) (param $rows i32) (param $c i32)
    (local $rb i32) (local $rb2 i32) (local $rb3 i32) (local $rb4 i32)
    (local $r0 i32) (local $nb i32) (local $blocks i32) (local $g i32)
    (local $base i32) (local $p i32) (local $end i32) (local $end4 i32) (local $s i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local.set $rb (i32.shl (local.get $c) (i32.const 2)))
    (local.set $rb2 (i32.shl (local.get $rb) (i32.const 1)))
    (local.set $rb3 (i32.add (local.get $rb2) (local.get $rb)))
    (local.set $rb4 (i32.shl (local.get $rb) (i32.const 2)))
    (memory.fill (local.get $out) (i32.const 0) (local.get $rb))
    (memory.fill (local.get $scratch) (i32.const 0) (local.get $rb))
    (local.set $r0 (i32.const 0))
    (local.set $blocks (i32.const 0))
    (local.set $base (local.get $x))
    (block $rows_done
      (loop $blocks_loop
        (br_if $rows_done (i32.ge_u (local.get $r0) (local.get $rows)))
        (local.set $nb (i32.sub (local.get $rows) (local.get $r0)))
        (if (i32.gt_u (local.get $nb) (i32.const 64)) (then (local.set $nb (i32.const 64))))
        (local.set $g (i32.const 0))
        (loop $groups
          (local.set $p (i32.add (local.get $base) (local.get $g)))
          (local.set $end (i32.add (local.get $p) (i32.mul (local.get $nb) (local.get $rb))))
          (local.set $end4 (i32.add (local.get $p)
            (i32.mul (i32.and (local.get $nb) (i32.const -4)) (local.get $rb))))
          (local.set $a0 (v128.const i32x4 0 0 0 0))
          (local.set $a1 (v128.const i32x4 0 0 0 0))
          (local.set $a2 (v128.const i32x4 0 0 0 0))
          (local.set $a3 (v128.const i32x4 0 0 0 0))
          (block $quads_done
            (loop $quads
              (br_if $quads_done (i32.ge_u (local.get $p) (local.get $end4)))
              (local.set $a0 (f32x4.add (local.get $a0) (v128.load (local.get $p))))
              (local.set $a1 (f32x4.add (local.get $a1)
                (v128.load (i32.add (local.get $p) (local.get $rb)))))
              (local.set $a2 (f32x4.add (local.get $a2)
                (v128.load (i32.add (local.get $p) (local.get $rb2)))))
              (local.set $a3 (f32x4.add (local.get $a3)
                (v128.load (i32.add (local.get $p) (local.get $rb3)))))
              (local.set $p (i32.add (local.get $p) (local.get $rb4)))
              (br $quads)))
          (block $tail_done
            (loop $tail
              (br_if $tail_done (i32.ge_u (local.get $p) (local.get $end)))
              (local.set $a0 (f32x4.add (local.get $a0) (v128.load (local.get $p))))
              (local.set $p (i32.add (local.get $p) (local.get $rb)))
              (br $tail)))
          (local.set $s (i32.add (local.get $scratch) (local.get $g)))
          (v128.store (local.get $s) (f32x4.add (v128.load (local.get $s))
            (f32x4.add (f32x4.add (local.get $a0) (local.get $a1))
              (f32x4.add (local.get $a2) (local.get $a3)))))
          (local.set $g (i32.add (local.get $g) (i32.const 16)))
          (br_if $groups (i32.lt_u (local.get $g) (local.get $rb))))
        (local.set $r0 (i32.add (local.get $r0) (local.get $nb)))
        (local.set $base (i32.add (local.get $base) (i32.mul (local.get $nb) (local.get $rb))))
        (local.set $blocks (i32.add (local.get $blocks) (i32.const 1)))
        (if (i32.eq (local.get $blocks) (i32.const 64))
          (then
            (call $flush (local.get $out) (local.get $scratch) (local.get $rb))
            (local.set $blocks (i32.const 0))))
        (br $blocks_loop)))
    (call $flush (local.get $out) (local.get $scratch) (local.get $rb)))

  ;; out[ch] = sum over r of (x[r, ch] - mean[ch])^2, blocked as channelSums (the second pass of
  ;; a two-pass variance). scratch holds c floats the kernel may overwrite.
  (func (export "squaredDeviations")
    (param $x i32) (param $mean i32) (param $out i32) (param $scratch i32) (param $rows i32) (param $c i32)
    (local $rb i32) (local $rb2 i32) (local $rb3 i32) (local $rb4 i32)
    (local $r0 i32) (local $nb i32) (local $blocks i32) (local $g i32)
    (local $base i32) (local $p i32) (local $end i32) (local $end4 i32) (local $s i32)
    (local $m v128) (local $d v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local.set $rb (i32.shl (local.get $c) (i32.const 2)))
    (local.set $rb2 (i32.shl (local.get $rb) (i32.const 1)))
    (local.set $rb3 (i32.add (local.get $rb2) (local.get $rb)))
    (local.set $rb4 (i32.shl (local.get $rb) (i32.const 2)))
    (memory.fill (local.get $out) (i32.const 0) (local.get $rb))
    (memory.fill (local.get $scratch) (i32.const 0) (local.get $rb))
    (local.set $r0 (i32.const 0))
    (local.set $blocks (i32.const 0))
    (local.set $base (local.get $x))
    (block $rows_done
      (loop $blocks_loop
        (br_if $rows_done (i32.ge_u (local.get $r0) (local.get $rows)))
        (local.set $nb (i32.sub (local.get $rows) (local.get $r0)))
        (if (i32.gt_u (local.get $nb) (i32.const 64)) (then (local.set $nb (i32.const 64))))
        (local.set $g (i32.const 0))
        (loop $groups
          (local.set $m (v128.load (i32.add (local.get $mean) (local.get $g))))
          (local.set $p (i32.add (local.get $base) (local.get $g)))
          (local.set $end (i32.add (local.get $p) (i32.mul (local.get $nb) (local.get $rb))))
          (local.set $end4 (i32.add (local.get $p)
            (i32.mul (i32.and (local.get $nb) (i32.const -4)) (local.get $rb))))
          (local.set $a0 (v128.const i32x4 0 0 0 0))
          (local.set $a1 (v128.const i32x4 0 0 0 0))
          (local.set $a2 (v128.const i32x4 0 0 0 0))
          (local.set $a3 (v128.const i32x4 0 0 0 0))
          (block $quads_done
            (loop $quads
              (br_if $quads_done (i32.ge_u (local.get $p) (local.get $end4)))
              (local.set $d (f32x4.sub (v128.load (local.get $p)) (local.get $m)))
              (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $d) (local.get $d))))
              (local.set $d (f32x4.sub (v128.load (i32.add (local.get $p) (local.get $rb))) (local.get $m)))
              (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $d) (local.get $d))))
              (local.set $d (f32x4.sub (v128.load (i32.add (local.get $p) (local.get $rb2))) (local.get $m)))
              (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $d) (local.get $d))))
              (local.set $d (f32x4.sub (v128.load (i32.add (local.get $p) (local.get $rb3))) (local.get $m)))
              (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $d) (local.get $d))))
              (local.set $p (i32.add (local.get $p) (local.get $rb4)))
              (br $quads)))
          (block $tail_done
            (loop $tail
              (br_if $tail_done (i32.ge_u (local.get $p) (local.get $end)))
              (local.set $d (f32x4.sub (v128.load (local.get $p)) (local.get $m)))
              (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $d) (local.get $d))))
              (local.set $p (i32.add (local.get $p) (local.get $rb)))
              (br $tail)))
          (local.set $s (i32.add (local.get $scratch) (local.get $g)))
          (v128.store (local.get $s) (f32x4.add (v128.load (local.get $s))
            (f32x4.add (f32x4.add (local.get $a0) (local.get $a1))
              (f32x4.add (local.get $a2) (local.get $a3)))))
          (local.set $g (i32.add (local.get $g) (i32.const 16)))
          (br_if $groups (i32.lt_u (local.get $g) (local.get $rb))))
        (local.set $r0 (i32.add (local.get $r0) (local.get $nb)))
        (local.set $base (i32.add (local.get $base) (i32.mul (local.get $nb) (local.get $rb))))
        (local.set $blocks (i32.add (local.get $blocks) (i32.const 1)))
        (if (i32.eq (local.get $blocks) (i32.const 64))
          (then
            (call $flush (local.get $out) (local.get $scratch) (local.get $rb))
            (local.set $blocks (i32.const 0))))
        (br $blocks_loop)))
    (call $flush (local.get $out) (local.get $scratch) (local.get $rb)))

  ;; y[r, ch] = max(0, x[r, ch] * scale[ch] + shift[ch]), with shift = scale + 4c bytes (the two
  ;; vectors of one coefficient tensor). y may be x.
  (func (export "scaleShiftRelu")
    (param $x i32) (param $scale i32) (param $y i32) (param $rows i32) (param $c i32)
    (local $rb i32) (local $px i32) (local $py i32) (local $end i32) (local $g i32) (local $k i32)
    (local.set $rb (i32.shl (local.get $c) (i32.const 2)))
    (local.set $px (local.get $x))
    (local.set $py (local.get $y))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $rows) (local.get $rb))))
    (block $rows_done
      (loop $rows_loop
        (br_if $rows_done (i32.ge_u (local.get $px) (local.get $end)))
        (local.set $g (i32.const 0))
        (loop $groups
          (local.set $k (i32.add (local.get $scale) (local.get $g)))
          (v128.store (i32.add (local.get $py) (local.get $g))
            (f32x4.max (v128.const i32x4 0 0 0 0)
              (f32x4.add
                (f32x4.mul (v128.load (i32.add (local.get $px) (local.get $g))) (v128.load (local.get $k)))
                (v128.load (i32.add (local.get $k) (local.get $rb))))))
          (local.set $g (i32.add (local.get $g) (i32.const 16)))
          (br_if $groups (i32.lt_u (local.get $g) (local.get $rb))))
        (local.set $px (i32.add (local.get $px) (local.get $rb)))
        (local.set $py (i32.add (local.get $py) (local.get $rb)))
        (br $rows_loop))))

  ;; The two sums of the backward pass in one sweep, with g = dy where y > 0 (through the ReLU)
  ;; and 0 elsewhere:
  ;;   out[ch] = sum over r of g[r, ch]                          (the beta gradient)
  ;;   out[c + ch] = sum over r of g[r, ch] * (x[r, ch] - mean[ch])  (gamma's, before * invStd)
  ;; Blocked as channelSums; scratch holds 2c floats the kernel may overwrite.
  (func (export "gradSums")
    (param $x i32) (param $y i32) (param $dy i32) (param $mean i32) (param $out i32) (param $scratch i32)
    (param $rows i32) (param $c i32)
    (local $rb i32) (local $rb2 i32) (local $rb3 i32) (local $rb4 i32)
    (local $r0 i32) (local $nb i32) (local $blocks i32) (local $g i32)
    (local $off i32) (local $p i32) (local $end i32) (local $end4 i32) (local $s i32)
    (local $m v128) (local $gv v128) (local $zero v128)
    (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local.set $rb (i32.shl (local.get $c) (i32.const 2)))
    (local.set $rb2 (i32.shl (local.get $rb) (i32.const 1)))
    (local.set $rb3 (i32.add (local.get $rb2) (local.get $rb)))
    (local.set $rb4 (i32.shl (local.get $rb) (i32.const 2)))
    (local.set $zero (v128.const i32x4 0 0 0 0))
    (memory.fill (local.get $out) (i32.const 0) (local.get $rb2))
    (memory.fill (local.get $scratch) (i32.const 0) (local.get $rb2))
    (local.set $r0 (i32.const 0))
    (local.set $blocks (i32.const 0))
    ;; $off: byte offset of the block's first row, the same in x, y and dy.
    (local.set $off (i32.const 0))
    (block $rows_done
      (loop $blocks_loop
        (br_if $rows_done (i32.ge_u (local.get $r0) (local.get $rows)))
        (local.set $nb (i32.sub (local.get $rows) (local.get $r0)))
        (if (i32.gt_u (local.get $nb) (i32.const 64)) (then (local.set $nb (i32.const 64))))
        (local.set $g (i32.const 0))
        (loop $groups
          (local.set $m (v128.load (i32.add (local.get $mean) (local.get $g))))
          ;; $p walks offsets from x; y and dy are read at the same offsets from their bases.
          (local.set $p (i32.add (local.get $off) (local.get $g)))
          (local.set $end (i32.add (local.get $p) (i32.mul (local.get $nb) (local.get $rb))))
          (local.set $end4 (i32.add (local.get $p)
            (i32.mul (i32.and (local.get $nb) (i32.const -4)) (local.get $rb))))
          (local.set $a0 (local.get $zero))
          (local.set $a1 (local.get $zero))
          (local.set $a2 (local.get $zero))
          (local.set $a3 (local.get $zero))
          (local.set $b0 (local.get $zero))
          (local.set $b1 (local.get $zero))
          (local.set $b2 (local.get $zero))
          (local.set $b3 (local.get $zero))
          (block $quads_done
            (loop $quads
              (br_if $quads_done (i32.ge_u (local.get $p) (local.get $end4)))
              (local.set $gv (v128.and (v128.load (i32.add (local.get $dy) (local.get $p)))
                (f32x4.gt (v128.load (i32.add (local.get $y) (local.get $p))) (local.get $zero))))
              (local.set $b0 (f32x4.add (local.get $b0) (local.get $gv)))
              (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $gv)
                (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $p))) (local.get $m)))))
              (local.set $s (i32.add (local.get $p) (local.get $rb)))
              (local.set $gv (v128.and (v128.load (i32.add (local.get $dy) (local.get $s)))
                (f32x4.gt (v128.load (i32.add (local.get $y) (local.get $s))) (local.get $zero))))
              (local.set $b1 (f32x4.add (local.get $b1) (local.get $gv)))
              (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $gv)
                (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $s))) (local.get $m)))))
              (local.set $s (i32.add (local.get $p) (local.get $rb2)))
              (local.set $gv (v128.and (v128.load (i32.add (local.get $dy) (local.get $s)))
                (f32x4.gt (v128.load (i32.add (local.get $y) (local.get $s))) (local.get $zero))))
              (local.set $b2 (f32x4.add (local.get $b2) (local.get $gv)))
              (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $gv)
                (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $s))) (local.get $m)))))
              (local.set $s (i32.add (local.get $p) (local.get $rb3)))
              (local.set $gv (v128.and (v128.load (i32.add (local.get $dy) (local.get $s)))
                (f32x4.gt (v128.load (i32.add (local.get $y) (local.get $s))) (local.get $zero))))
              (local.set $b3 (f32x4.add (local.get $b3) (local.get $gv)))
              (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $gv)
                (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $s))) (local.get $m)))))
              (local.set $p (i32.add (local.get $p) (local.get $rb4)))
              (br $quads)))
          (block $tail_done
            (loop $tail
              (br_if $tail_done (i32.ge_u (local.get $p) (local.get $end)))
              (local.set $gv (v128.and (v128.load (i32.add (local.get $dy) (local.get $p)))
                (f32x4.gt (v128.load (i32.add (local.get $y) (local.get $p))) (local.get $zero))))
              (local.set $b0 (f32x4.add (local.get $b0) (local.get $gv)))
              (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $gv)
                (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $p))) (local.get $m)))))
              (local.set $p (i32.add (local.get $p) (local.get $rb)))
              (br $tail)))
          (local.set $s (i32.add (local.get $scratch) (local.get $g)))
          (v128.store (local.get $s) (f32x4.add (v128.load (local.get $s))
            (f32x4.add (f32x4.add (local.get $b0) (local.get $b1))
              (f32x4.add (local.get $b2) (local.get $b3)))))
          (local.set $s (i32.add (local.get $s) (local.get $rb)))
          (v128.store (local.get $s) (f32x4.add (v128.load (local.get $s))
            (f32x4.add (f32x4.add (local.get $a0) (local.get $a1))
              (f32x4.add (local.get $a2) (local.get $a3)))))
          (local.set $g (i32.add (local.get $g) (i32.const 16)))
          (br_if $groups (i32.lt_u (local.get $g) (local.get $rb))))
        (local.set $r0 (i32.add (local.get $r0) (local.get $nb)))
        (local.set $off (i32.add (local.get $off) (i32.mul (local.get $nb) (local.get $rb))))
        (local.set $blocks (i32.add (local.get $blocks) (i32.const 1)))
        (if (i32.eq (local.get $blocks) (i32.const 64))
          (then
            (call $flush (local.get $out) (local.get $scratch) (local.get $rb2))
            (local.set $blocks (i32.const 0))))
        (br $blocks_loop)))
    (call $flush (local.get $out) (local.get $scratch) (local.get $rb2)))

  ;; The input gradient, with g as in gradSums:
  ;;   dx[r, ch] = g[r, ch] * p[ch] - (x[r, ch] - mean[ch]) * q[ch] - k[ch]
  ;; where coef holds the four c-float vectors mean, p, q, k one after another (batchNormRelu in
  ;; ops.ts derives them from the gradient sums). dx may be dy.
  (func (export "inputGrad")
    (param $x i32) (param $y i32) (param $dy i32) (param $coef i32) (param $dx i32)
    (param $rows i32) (param $c i32)
    (local $rb i32) (local $rb2 i32) (local $rb3 i32) (local $off i32) (local $end i32)
    (local $g i32) (local $o i32) (local $k i32) (local $zero v128) (local $gv v128)
    (local.set $rb (i32.shl (local.get $c) (i32.const 2)))
    (local.set $rb2 (i32.shl (local.get $rb) (i32.const 1)))
    (local.set $rb3 (i32.add (local.get $rb2) (local.get $rb)))
    (local.set $zero (v128.const i32x4 0 0 0 0))
    (local.set $off (i32.const 0))
    (local.set $end (i32.mul (local.get $rows) (local.get $rb)))
    (block $rows_done
      (loop $rows_loop
        (br_if $rows_done (i32.ge_u (local.get $off) (local.get $end)))
        (local.set $g (i32.const 0))
        (loop $groups
          (local.set $o (i32.add (local.get $off) (local.get $g)))
          (local.set $k (i32.add (local.get $coef) (local.get $g)))
          (local.set $gv (v128.and (v128.load (i32.add (local.get $dy) (local.get $o)))
            (f32x4.gt (v128.load (i32.add (local.get $y) (local.get $o))) (local.get $zero))))
          (v128.store (i32.add (local.get $dx) (local.get $o))
            (f32x4.sub
              (f32x4.sub
                (f32x4.mul (local.get $gv) (v128.load (i32.add (local.get $k) (local.get $rb))))
                (f32x4.mul
                  (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $o))) (v128.load (local.get $k)))
                  (v128.load (i32.add (local.get $k) (local.get $rb2)))))
              (v128.load (i32.add (local.get $k) (local.get $rb3)))))
          (local.set $g (i32.add (local.get $g) (i32.const 16)))
          (br_if $groups (i32.lt_u (local.get $g) (local.get $rb))))
        (local.set $off (i32.add (local.get $off) (local.get $rb)))
        (br $rows_loop))))
)
