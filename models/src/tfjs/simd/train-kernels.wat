;; Training kernels for the tfjs WebAssembly backend, with WebAssembly SIMD. They run on the
;; backend's own heap: the module imports that memory, so operands are read where tfjs keeps
;; them and results are written into tensors tfjs allocated (see train-simd.ts). All pointers
;; are byte offsets into that heap; tensors are float32 NHWC.
;;
;; Build: npm run build:wasm (wabt); test/models/train-simd.test.ts checks that the committed
;; .wasm is this file assembled.
(module
  (import "env" "memory" (memory 1))

  ;; Filter gradient of a convolution with one input channel and 32 output channels:
  ;;   out[ky, kx, 0, o] = sum over b, y, xo of x[b, y*sh + ky - top, xo*sw + kx - left] * dy[b, y, xo, o]
  ;; with x zero outside [0, h) x [0, w). out holds kh*kw*32 floats; scratch as many more.
  ;;
  ;; Row by row of dy: one row (ow x 32 floats) stays in L1 while all kh*kw taps sweep it, each
  ;; tap holding its 32 sums in eight f32x4 locals. The sums are kept in three levels (one dy row
  ;; in registers, one image in scratch, the batch in out), which keeps float32 rounding near
  ;; that of a pairwise sum; one long running sum over 160k positions would not be.
  (func (export "filterGradC1x32")
    (param $x i32) (param $dy i32) (param $out i32) (param $scratch i32)
    (param $n i32) (param $h i32) (param $w i32) (param $oh i32) (param $ow i32)
    (param $kh i32) (param $kw i32) (param $sh i32) (param $sw i32) (param $top i32) (param $left i32)
    (local $bytes i32) (local $b i32) (local $y i32) (local $ky i32) (local $kx i32)
    (local $r i32) (local $c0 i32) (local $x0 i32) (local $x1 i32) (local $lim i32)
    (local $px i32) (local $pd i32) (local $pend i32) (local $xstep i32)
    (local $dyRow i32) (local $xRow i32) (local $acc i32) (local $i i32)
    (local $s v128) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $a4 v128) (local $a5 v128) (local $a6 v128) (local $a7 v128)
    ;; 128 bytes (32 floats) per tap.
    (local.set $bytes (i32.shl (i32.mul (local.get $kh) (local.get $kw)) (i32.const 7)))
    (local.set $xstep (i32.shl (local.get $sw) (i32.const 2)))
    (memory.fill (local.get $out) (i32.const 0) (local.get $bytes))
    (local.set $dyRow (local.get $dy))
    (local.set $b (i32.const 0))
    (block $images_done
      (loop $images
        (br_if $images_done (i32.ge_u (local.get $b) (local.get $n)))
        (memory.fill (local.get $scratch) (i32.const 0) (local.get $bytes))
        (local.set $y (i32.const 0))
        (block $rows_done
          (loop $rows
            (br_if $rows_done (i32.ge_u (local.get $y) (local.get $oh)))
            (local.set $ky (i32.const 0))
            (block $ky_done
              (loop $kys
                (br_if $ky_done (i32.ge_u (local.get $ky) (local.get $kh)))
                ;; Input row of this tap row; rows in the padding contribute nothing.
                (local.set $r (i32.sub (i32.add (i32.mul (local.get $y) (local.get $sh))
                  (local.get $ky)) (local.get $top)))
                (if (i32.and (i32.ge_s (local.get $r) (i32.const 0))
                             (i32.lt_s (local.get $r) (local.get $h)))
                  (then
                    (local.set $xRow (i32.add (local.get $x) (i32.shl
                      (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (local.get $r))
                        (local.get $w)) (i32.const 2))))
                    (local.set $kx (i32.const 0))
                    (block $kx_done
                      (loop $kxs
                        (br_if $kx_done (i32.ge_u (local.get $kx) (local.get $kw)))
                        ;; Output columns xo whose input column xo*sw + c0 lies in [0, w).
                        (local.set $c0 (i32.sub (local.get $kx) (local.get $left)))
                        (local.set $x0 (select
                          (i32.const 0)
                          (i32.div_u (i32.add (i32.sub (i32.const 0) (local.get $c0))
                            (i32.sub (local.get $sw) (i32.const 1))) (local.get $sw))
                          (i32.ge_s (local.get $c0) (i32.const 0))))
                        (local.set $lim (i32.sub (i32.sub (local.get $w) (i32.const 1)) (local.get $c0)))
                        (local.set $x1 (select
                          (i32.const 0)
                          (i32.add (i32.div_u (local.get $lim) (local.get $sw)) (i32.const 1))
                          (i32.lt_s (local.get $lim) (i32.const 0))))
                        (if (i32.gt_u (local.get $x1) (local.get $ow))
                          (then (local.set $x1 (local.get $ow))))
                        (local.set $a0 (v128.const i32x4 0 0 0 0))
                        (local.set $a1 (v128.const i32x4 0 0 0 0))
                        (local.set $a2 (v128.const i32x4 0 0 0 0))
                        (local.set $a3 (v128.const i32x4 0 0 0 0))
                        (local.set $a4 (v128.const i32x4 0 0 0 0))
                        (local.set $a5 (v128.const i32x4 0 0 0 0))
                        (local.set $a6 (v128.const i32x4 0 0 0 0))
                        (local.set $a7 (v128.const i32x4 0 0 0 0))
                        (if (i32.lt_s (local.get $x0) (local.get $x1))
                          (then
                            (local.set $px (i32.add (local.get $xRow) (i32.shl (i32.add
                              (i32.mul (local.get $x0) (local.get $sw)) (local.get $c0)) (i32.const 2))))
                            (local.set $pd (i32.add (local.get $dyRow) (i32.shl (local.get $x0) (i32.const 7))))
                            (local.set $pend (i32.add (local.get $dyRow) (i32.shl (local.get $x1) (i32.const 7))))
                            (loop $cols
                              (local.set $s (v128.load32_splat (local.get $px)))
                              (local.set $a0 (f32x4.add (local.get $a0)
                                (f32x4.mul (local.get $s) (v128.load offset=0 (local.get $pd)))))
                              (local.set $a1 (f32x4.add (local.get $a1)
                                (f32x4.mul (local.get $s) (v128.load offset=16 (local.get $pd)))))
                              (local.set $a2 (f32x4.add (local.get $a2)
                                (f32x4.mul (local.get $s) (v128.load offset=32 (local.get $pd)))))
                              (local.set $a3 (f32x4.add (local.get $a3)
                                (f32x4.mul (local.get $s) (v128.load offset=48 (local.get $pd)))))
                              (local.set $a4 (f32x4.add (local.get $a4)
                                (f32x4.mul (local.get $s) (v128.load offset=64 (local.get $pd)))))
                              (local.set $a5 (f32x4.add (local.get $a5)
                                (f32x4.mul (local.get $s) (v128.load offset=80 (local.get $pd)))))
                              (local.set $a6 (f32x4.add (local.get $a6)
                                (f32x4.mul (local.get $s) (v128.load offset=96 (local.get $pd)))))
                              (local.set $a7 (f32x4.add (local.get $a7)
                                (f32x4.mul (local.get $s) (v128.load offset=112 (local.get $pd)))))
                              (local.set $px (i32.add (local.get $px) (local.get $xstep)))
                              (local.set $pd (i32.add (local.get $pd) (i32.const 128)))
                              (br_if $cols (i32.lt_u (local.get $pd) (local.get $pend))))
                            (local.set $acc (i32.add (local.get $scratch) (i32.shl
                              (i32.add (i32.mul (local.get $ky) (local.get $kw)) (local.get $kx)) (i32.const 7))))
                            (v128.store offset=0 (local.get $acc)
                              (f32x4.add (v128.load offset=0 (local.get $acc)) (local.get $a0)))
                            (v128.store offset=16 (local.get $acc)
                              (f32x4.add (v128.load offset=16 (local.get $acc)) (local.get $a1)))
                            (v128.store offset=32 (local.get $acc)
                              (f32x4.add (v128.load offset=32 (local.get $acc)) (local.get $a2)))
                            (v128.store offset=48 (local.get $acc)
                              (f32x4.add (v128.load offset=48 (local.get $acc)) (local.get $a3)))
                            (v128.store offset=64 (local.get $acc)
                              (f32x4.add (v128.load offset=64 (local.get $acc)) (local.get $a4)))
                            (v128.store offset=80 (local.get $acc)
                              (f32x4.add (v128.load offset=80 (local.get $acc)) (local.get $a5)))
                            (v128.store offset=96 (local.get $acc)
                              (f32x4.add (v128.load offset=96 (local.get $acc)) (local.get $a6)))
                            (v128.store offset=112 (local.get $acc)
                              (f32x4.add (v128.load offset=112 (local.get $acc)) (local.get $a7)))))
                        (local.set $kx (i32.add (local.get $kx) (i32.const 1)))
                        (br $kxs)))))
                (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
                (br $kys)))
            (local.set $dyRow (i32.add (local.get $dyRow) (i32.shl (local.get $ow) (i32.const 7))))
            (local.set $y (i32.add (local.get $y) (i32.const 1)))
            (br $rows)))
        ;; out += this image's sums.
        (local.set $i (i32.const 0))
        (block $sum_done
          (loop $sum
            (br_if $sum_done (i32.ge_u (local.get $i) (local.get $bytes)))
            (v128.store (i32.add (local.get $out) (local.get $i))
              (f32x4.add (v128.load (i32.add (local.get $out) (local.get $i)))
                (v128.load (i32.add (local.get $scratch) (local.get $i)))))
            (local.set $i (i32.add (local.get $i) (i32.const 16)))
            (br $sum)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $images)))
  )

  ;; Max-pool gradient for windows that lie wholly inside x (no padding), c a multiple of 4:
  ;; each output's gradient goes to the first maximum of its window in row-major order, and to
  ;; the window's last element when none equals y (a NaN), as the JavaScript kernel does. Windows
  ;; and channels are visited in the JavaScript kernel's order, so overlapping windows add into
  ;; dx in the same order and the results are bit-identical. dx is zeroed first.
  (func (export "maxPoolGrad")
    (param $x i32) (param $y i32) (param $dy i32) (param $dx i32)
    (param $n i32) (param $h i32) (param $w i32) (param $c i32) (param $oh i32) (param $ow i32)
    (param $kh i32) (param $kw i32) (param $sh i32) (param $sw i32)
    (local $cb i32) (local $rowb i32) (local $b i32) (local $i i32) (local $j i32)
    (local $win i32) (local $po i32) (local $off i32) (local $a i32) (local $k i32)
    (local $tapRow i32) (local $p i32) (local $lastA i32) (local $lastK i32)
    (local $zeroed i32) (local $need i32) (local $img i32)
    (local $m v128) (local $g v128) (local $found v128) (local $eq v128)
    (local.set $cb (i32.shl (local.get $c) (i32.const 2)))
    (local.set $rowb (i32.mul (local.get $w) (local.get $cb)))
    (local.set $lastA (i32.sub (local.get $kh) (i32.const 1)))
    (local.set $lastK (i32.sub (local.get $kw) (i32.const 1)))
    ;; $po walks y and dy (same layout), output by output.
    (local.set $po (i32.const 0))
    (local.set $b (i32.const 0))
    (block $images_done
      (loop $images
        (br_if $images_done (i32.ge_u (local.get $b) (local.get $n)))
        ;; dx rows are zeroed just before the first window that touches them, so the zeros are
        ;; still in cache when the windows add into them (zeroing all of dx first would send it
        ;; to memory and back once more).
        (local.set $img (i32.add (local.get $dx) (i32.mul (i32.mul (local.get $b) (local.get $h)) (local.get $rowb))))
        (local.set $zeroed (i32.const 0))
        (local.set $i (i32.const 0))
        (block $rows_done
          (loop $rows
            (br_if $rows_done (i32.ge_u (local.get $i) (local.get $oh)))
            (local.set $need (i32.add (i32.mul (local.get $i) (local.get $sh)) (local.get $kh)))
            (if (i32.gt_u (local.get $need) (local.get $zeroed))
              (then
                (memory.fill (i32.add (local.get $img) (i32.mul (local.get $zeroed) (local.get $rowb)))
                  (i32.const 0) (i32.mul (i32.sub (local.get $need) (local.get $zeroed)) (local.get $rowb)))
                (local.set $zeroed (local.get $need))))
            (local.set $j (i32.const 0))
            (block $cols_done
              (loop $cols
                (br_if $cols_done (i32.ge_u (local.get $j) (local.get $ow)))
                ;; Byte offset of the window's top-left element in x and dx.
                (local.set $win (i32.add
                  (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h))
                    (i32.mul (local.get $i) (local.get $sh))) (local.get $rowb))
                  (i32.mul (i32.mul (local.get $j) (local.get $sw)) (local.get $cb))))
                (local.set $off (i32.const 0))
                (block $ch_done
                  (loop $chs
                    (br_if $ch_done (i32.ge_u (local.get $off) (local.get $cb)))
                    (local.set $m (v128.load (i32.add (local.get $y) (i32.add (local.get $po) (local.get $off)))))
                    (local.set $g (v128.load (i32.add (local.get $dy) (i32.add (local.get $po) (local.get $off)))))
                    (local.set $found (v128.const i32x4 0 0 0 0))
                    (local.set $tapRow (i32.add (local.get $win) (local.get $off)))
                    (local.set $a (i32.const 0))
                    (block $a_done
                      (loop $as
                        (br_if $a_done (i32.ge_u (local.get $a) (local.get $kh)))
                        (local.set $p (local.get $tapRow))
                        (local.set $k (i32.const 0))
                        (block $k_done
                          (loop $ks
                            (br_if $k_done (i32.ge_u (local.get $k) (local.get $kw)))
                            ;; Lanes whose first maximum is this tap (the last tap takes the rest).
                            (local.set $eq (v128.andnot
                              (select
                                (v128.const i32x4 -1 -1 -1 -1)
                                (f32x4.eq (v128.load (i32.add (local.get $x) (local.get $p))) (local.get $m))
                                (i32.and (i32.eq (local.get $a) (local.get $lastA))
                                         (i32.eq (local.get $k) (local.get $lastK))))
                              (local.get $found)))
                            (v128.store (i32.add (local.get $dx) (local.get $p))
                              (f32x4.add (v128.load (i32.add (local.get $dx) (local.get $p)))
                                (v128.and (local.get $g) (local.get $eq))))
                            (local.set $found (v128.or (local.get $found) (local.get $eq)))
                            (local.set $p (i32.add (local.get $p) (local.get $cb)))
                            (local.set $k (i32.add (local.get $k) (i32.const 1)))
                            (br $ks)))
                        (local.set $tapRow (i32.add (local.get $tapRow) (local.get $rowb)))
                        (local.set $a (i32.add (local.get $a) (i32.const 1)))
                        (br $as)))
                    (local.set $off (i32.add (local.get $off) (i32.const 16)))
                    (br $chs)))
                (local.set $po (i32.add (local.get $po) (local.get $cb)))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $cols)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $rows)))
        ;; Rows below the last window.
        (memory.fill (i32.add (local.get $img) (i32.mul (local.get $zeroed) (local.get $rowb)))
          (i32.const 0) (i32.mul (i32.sub (local.get $h) (local.get $zeroed)) (local.get $rowb)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $images)))
  )
)
