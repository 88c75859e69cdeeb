;; Max pool that remembers where each maximum came from, and the gradient that uses it, with
;; WebAssembly SIMD on the tfjs WebAssembly backend's own heap (see pool.ts). All pointers are
;; byte offsets into that heap; tensors are float32 NHWC with c a multiple of 4, windows wholly
;; inside x (no padding, no dilation).
;;
;; The gradient of a max pool sends each output's gradient to one element of its window. Found
;; from x and y in the backward pass, that costs a read of all of x per tap position (x is the
;; largest activation of the network). The forward pass has every window in registers anyway,
;; so it also writes one byte per output naming the tap, and the backward pass reads that byte
;; and dy instead of x and y.

(module
  (import "env" "memory" (memory 1))

  ;; y[b, i, j, ch] = the maximum of x over the window at (i*sh, j*sw), NaNs skipped (-inf
  ;; when every element is NaN): the running maximum starts at -inf and takes an element only
  ;; when it is greater, as the CPU backend's pool does, so ties keep the first and -0/+0 the
  ;; earlier one. tap[b, i, j, ch] (one byte) = 16*a + k for the first element (a, k) of the
  ;; window in row-major order equal to y, or for the last element when none is (all NaN):
  ;; the element the gradient kernels give the output's gradient to. kh and kw at most 16.
  (func (export "maxPoolTaps")
    (param $x i32) (param $y i32) (param $tap i32)
    (param $n i32) (param $h i32) (param $w i32) (param $c i32) (param $oh i32) (param $ow i32)
    (param $kh i32) (param $kw i32) (param $sh i32) (param $sw i32)
    (local $cb i32) (local $rowb i32) (local $b i32) (local $i i32) (local $j i32)
    (local $win i32) (local $po i32) (local $off i32) (local $a i32) (local $k i32)
    (local $p i32) (local $rowStart i32) (local $code i32)
    (local $m v128) (local $t v128)
    (local.set $cb (i32.shl (local.get $c) (i32.const 2)))
    (local.set $rowb (i32.mul (local.get $w) (local.get $cb)))
    ;; $po walks y output by output (bytes); tap bytes sit at $tap + $po/4.
    (local.set $po (i32.const 0))
    (local.set $b (i32.const 0))
    (block $images_done
      (loop $images
        (br_if $images_done (i32.ge_u (local.get $b) (local.get $n)))
        (local.set $i (i32.const 0))
        (block $rows_done
          (loop $rows
            (br_if $rows_done (i32.ge_u (local.get $i) (local.get $oh)))
            (local.set $j (i32.const 0))
            (block $cols_done
              (loop $cols
                (br_if $cols_done (i32.ge_u (local.get $j) (local.get $ow)))
                (local.set $win (i32.add (local.get $x) (i32.add
                  (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h))
                    (i32.mul (local.get $i) (local.get $sh))) (local.get $rowb))
                  (i32.mul (i32.mul (local.get $j) (local.get $sw)) (local.get $cb)))))
                (local.set $off (i32.const 0))
                (block $ch_done
                  (loop $chs
                    (br_if $ch_done (i32.ge_u (local.get $off) (local.get $cb)))
                    ;; Pass 1: the maximum, taps in row-major order.
                    (local.set $m (v128.const f32x4 -inf -inf -inf -inf))
                    (local.set $rowStart (i32.add (local.get $win) (local.get $off)))
                    (local.set $a (i32.const 0))
                    (block $a_done
                      (loop $as
                        (br_if $a_done (i32.ge_u (local.get $a) (local.get $kh)))
                        (local.set $p (local.get $rowStart))
                        (local.set $k (i32.const 0))
                        (block $k_done
                          (loop $ks
                            (br_if $k_done (i32.ge_u (local.get $k) (local.get $kw)))
                            ;; pmax(m, v) = m < v ? v : m: a NaN v leaves m.
                            (local.set $m (f32x4.pmax (local.get $m) (v128.load (local.get $p))))
                            (local.set $p (i32.add (local.get $p) (local.get $cb)))
                            (local.set $k (i32.add (local.get $k) (i32.const 1)))
                            (br $ks)))
                        (local.set $rowStart (i32.add (local.get $rowStart) (local.get $rowb)))
                        (local.set $a (i32.add (local.get $a) (i32.const 1)))
                        (br $as)))
                    (v128.store (i32.add (local.get $y) (i32.add (local.get $po) (local.get $off))) (local.get $m))
                    ;; Pass 2, taps in reverse (the window is in L1 now): each tap equal to the
                    ;; maximum overwrites the code, so the first one in row-major order stays;
                    ;; the last tap's code stands when none is equal.
                    (local.set $a (i32.sub (local.get $kh) (i32.const 1)))
                    (local.set $k (i32.sub (local.get $kw) (i32.const 1)))
                    (local.set $t (i32x4.splat (i32.or (i32.shl (local.get $a) (i32.const 4)) (local.get $k))))
                    (local.set $rowStart (i32.add (local.get $win)
                      (i32.add (local.get $off) (i32.mul (local.get $a) (local.get $rowb)))))
                    (block $ra_done
                      (loop $ras
                        (br_if $ra_done (i32.lt_s (local.get $a) (i32.const 0)))
                        (local.set $k (i32.sub (local.get $kw) (i32.const 1)))
                        (local.set $p (i32.add (local.get $rowStart) (i32.mul (local.get $k) (local.get $cb))))
                        (local.set $code (i32.shl (local.get $a) (i32.const 4)))
                        (block $rk_done
                          (loop $rks
                            (br_if $rk_done (i32.lt_s (local.get $k) (i32.const 0)))
                            (local.set $t (v128.bitselect
                              (i32x4.splat (i32.or (local.get $code) (local.get $k)))
                              (local.get $t)
                              (f32x4.eq (v128.load (local.get $p)) (local.get $m))))
                            (local.set $p (i32.sub (local.get $p) (local.get $cb)))
                            (local.set $k (i32.sub (local.get $k) (i32.const 1)))
                            (br $rks)))
                        (local.set $rowStart (i32.sub (local.get $rowStart) (local.get $rowb)))
                        (local.set $a (i32.sub (local.get $a) (i32.const 1)))
                        (br $ras)))
                    ;; The four codes' low bytes, one byte per channel.
                    (v128.store32_lane 0
                      (i32.add (local.get $tap) (i32.shr_u (i32.add (local.get $po) (local.get $off)) (i32.const 2)))
                      (i8x16.shuffle 0 4 8 12 0 0 0 0 0 0 0 0 0 0 0 0 (local.get $t) (local.get $t)))
                    (local.set $off (i32.add (local.get $off) (i32.const 16)))
                    (br $chs)))
                (local.set $po (i32.add (local.get $po) (local.get $cb)))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $cols)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $rows)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $images)))
  )

  ;; maxPoolTaps for a 3x3 window (the network's pool): the nine taps of four channels are
  ;; loaded into registers once and serve both the maximum and the tap search, the same
  ;; operations in the same order as the general loops.
  (func (export "maxPool3x3Taps")
    (param $x i32) (param $y i32) (param $tap i32)
    (param $n i32) (param $h i32) (param $w i32) (param $c i32) (param $oh i32) (param $ow i32)
    (param $sh i32) (param $sw i32)
    (local $cb i32) (local $rowb i32) (local $b i32) (local $i i32) (local $j i32)
    (local $win i32) (local $po i32) (local $off i32) (local $p i32) (local $cb2 i32) (local $rowb2 i32)
    (local $m v128) (local $t v128)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128) (local $v4 v128)
    (local $v5 v128) (local $v6 v128) (local $v7 v128) (local $v8 v128)
    (local.set $cb (i32.shl (local.get $c) (i32.const 2)))
    (local.set $rowb (i32.mul (local.get $w) (local.get $cb)))
    (local.set $cb2 (i32.shl (local.get $cb) (i32.const 1)))
    (local.set $rowb2 (i32.shl (local.get $rowb) (i32.const 1)))
    (local.set $po (i32.const 0))
    (local.set $b (i32.const 0))
    (block $images_done
      (loop $images
        (br_if $images_done (i32.ge_u (local.get $b) (local.get $n)))
        (local.set $i (i32.const 0))
        (block $rows_done
          (loop $rows
            (br_if $rows_done (i32.ge_u (local.get $i) (local.get $oh)))
            (local.set $j (i32.const 0))
            (block $cols_done
              (loop $cols
                (br_if $cols_done (i32.ge_u (local.get $j) (local.get $ow)))
                (local.set $win (i32.add (local.get $x) (i32.add
                  (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h))
                    (i32.mul (local.get $i) (local.get $sh))) (local.get $rowb))
                  (i32.mul (i32.mul (local.get $j) (local.get $sw)) (local.get $cb)))))
                (local.set $off (i32.const 0))
                (block $ch_done
                  (loop $chs
                    (br_if $ch_done (i32.ge_u (local.get $off) (local.get $cb)))
                    (local.set $p (i32.add (local.get $win) (local.get $off)))
                    (local.set $v0 (v128.load (local.get $p)))
                    (local.set $v1 (v128.load (i32.add (local.get $p) (local.get $cb))))
                    (local.set $v2 (v128.load (i32.add (local.get $p) (local.get $cb2))))
                    (local.set $v3 (v128.load (i32.add (local.get $p) (local.get $rowb))))
                    (local.set $v4 (v128.load (i32.add (local.get $p) (i32.add (local.get $rowb) (local.get $cb)))))
                    (local.set $v5 (v128.load (i32.add (local.get $p) (i32.add (local.get $rowb) (local.get $cb2)))))
                    (local.set $v6 (v128.load (i32.add (local.get $p) (local.get $rowb2))))
                    (local.set $v7 (v128.load (i32.add (local.get $p) (i32.add (local.get $rowb2) (local.get $cb)))))
                    (local.set $v8 (v128.load (i32.add (local.get $p) (i32.add (local.get $rowb2) (local.get $cb2)))))
                    (local.set $m (f32x4.pmax (f32x4.pmax (f32x4.pmax (f32x4.pmax (f32x4.pmax (f32x4.pmax (f32x4.pmax (f32x4.pmax (f32x4.pmax (v128.const f32x4 -inf -inf -inf -inf) (local.get $v0)) (local.get $v1)) (local.get $v2)) (local.get $v3)) (local.get $v4)) (local.get $v5)) (local.get $v6)) (local.get $v7)) (local.get $v8)))
                    (v128.store (i32.add (local.get $y) (i32.add (local.get $po) (local.get $off))) (local.get $m))
                    (local.set $t (v128.const i32x4 34 34 34 34))
                    (local.set $t (v128.bitselect (v128.const i32x4 33 33 33 33) (local.get $t) (f32x4.eq (local.get $v7) (local.get $m))))
                    (local.set $t (v128.bitselect (v128.const i32x4 32 32 32 32) (local.get $t) (f32x4.eq (local.get $v6) (local.get $m))))
                    (local.set $t (v128.bitselect (v128.const i32x4 18 18 18 18) (local.get $t) (f32x4.eq (local.get $v5) (local.get $m))))
                    (local.set $t (v128.bitselect (v128.const i32x4 17 17 17 17) (local.get $t) (f32x4.eq (local.get $v4) (local.get $m))))
                    (local.set $t (v128.bitselect (v128.const i32x4 16 16 16 16) (local.get $t) (f32x4.eq (local.get $v3) (local.get $m))))
                    (local.set $t (v128.bitselect (v128.const i32x4 2 2 2 2) (local.get $t) (f32x4.eq (local.get $v2) (local.get $m))))
                    (local.set $t (v128.bitselect (v128.const i32x4 1 1 1 1) (local.get $t) (f32x4.eq (local.get $v1) (local.get $m))))
                    (local.set $t (v128.bitselect (v128.const i32x4 0 0 0 0) (local.get $t) (f32x4.eq (local.get $v0) (local.get $m))))
                    (v128.store32_lane 0
                      (i32.add (local.get $tap) (i32.shr_u (i32.add (local.get $po) (local.get $off)) (i32.const 2)))
                      (i8x16.shuffle 0 4 8 12 0 0 0 0 0 0 0 0 0 0 0 0 (local.get $t) (local.get $t)))
                    (local.set $off (i32.add (local.get $off) (i32.const 16)))
                    (br $chs)))
                (local.set $po (i32.add (local.get $po) (local.get $cb)))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $cols)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $rows)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $images)))
  )

  ;; dx = the max-pool gradient from the taps maxPoolTaps recorded: dx is zeroed, then each
  ;; output's dy is added to dx at its tap. Windows are visited in row-major order per image
  ;; and channels inside, the order of the JavaScript kernel and of train-kernels.wat's
  ;; maxPoolGrad, so the adds into elements that several windows share happen in the same order
  ;; and the results have the same bits (their adds of +0 for the other taps change nothing:
  ;; dx starts at +0 and so is never -0).
  (func (export "maxPoolGradTaps")
    (param $tap i32) (param $dy i32) (param $dx i32)
    (param $n i32) (param $h i32) (param $w i32) (param $c i32) (param $oh i32) (param $ow i32)
    (param $kh i32) (param $sh i32) (param $sw i32)
    (local $cb i32) (local $rowb i32) (local $b i32) (local $i i32) (local $j i32)
    (local $win i32) (local $po i32) (local $off i32) (local $img i32) (local $zeroed i32)
    (local $need i32) (local $codes i32) (local $code i32) (local $p i32) (local $g v128)
    (local.set $cb (i32.shl (local.get $c) (i32.const 2)))
    (local.set $rowb (i32.mul (local.get $w) (local.get $cb)))
    (local.set $po (i32.const 0))
    (local.set $b (i32.const 0))
    (block $images_done
      (loop $images
        (br_if $images_done (i32.ge_u (local.get $b) (local.get $n)))
        ;; dx rows are zeroed just before the first window that touches them, so the zeros are
        ;; still in cache when the adds reach them.
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
                (local.set $win (i32.add (local.get $img) (i32.add
                  (i32.mul (i32.mul (local.get $i) (local.get $sh)) (local.get $rowb))
                  (i32.mul (i32.mul (local.get $j) (local.get $sw)) (local.get $cb)))))
                (local.set $off (i32.const 0))
                (block $ch_done
                  (loop $chs
                    (br_if $ch_done (i32.ge_u (local.get $off) (local.get $cb)))
                    (local.set $g (v128.load (i32.add (local.get $dy) (i32.add (local.get $po) (local.get $off)))))
                    (local.set $codes (i32.load
                      (i32.add (local.get $tap) (i32.shr_u (i32.add (local.get $po) (local.get $off)) (i32.const 2)))))
                    ;; Lane L: channel off/4 + L at row code>>4, column code&15 of the window.
                    (local.set $code (i32.and (local.get $codes) (i32.const 255)))
                    (local.set $p (i32.add (i32.add (local.get $win) (local.get $off)) (i32.add
                      (i32.mul (i32.shr_u (local.get $code) (i32.const 4)) (local.get $rowb))
                      (i32.mul (i32.and (local.get $code) (i32.const 15)) (local.get $cb)))))
                    (f32.store (local.get $p)
                      (f32.add (f32.load (local.get $p)) (f32x4.extract_lane 0 (local.get $g))))
                    (local.set $code (i32.and (i32.shr_u (local.get $codes) (i32.const 8)) (i32.const 255)))
                    (local.set $p (i32.add (i32.add (local.get $win) (local.get $off)) (i32.add
                      (i32.mul (i32.shr_u (local.get $code) (i32.const 4)) (local.get $rowb))
                      (i32.mul (i32.and (local.get $code) (i32.const 15)) (local.get $cb)))))
                    (f32.store offset=4 (local.get $p)
                      (f32.add (f32.load offset=4 (local.get $p)) (f32x4.extract_lane 1 (local.get $g))))
                    (local.set $code (i32.and (i32.shr_u (local.get $codes) (i32.const 16)) (i32.const 255)))
                    (local.set $p (i32.add (i32.add (local.get $win) (local.get $off)) (i32.add
                      (i32.mul (i32.shr_u (local.get $code) (i32.const 4)) (local.get $rowb))
                      (i32.mul (i32.and (local.get $code) (i32.const 15)) (local.get $cb)))))
                    (f32.store offset=8 (local.get $p)
                      (f32.add (f32.load offset=8 (local.get $p)) (f32x4.extract_lane 2 (local.get $g))))
                    (local.set $code (i32.shr_u (local.get $codes) (i32.const 24)))
                    (local.set $p (i32.add (i32.add (local.get $win) (local.get $off)) (i32.add
                      (i32.mul (i32.shr_u (local.get $code) (i32.const 4)) (local.get $rowb))
                      (i32.mul (i32.and (local.get $code) (i32.const 15)) (local.get $cb)))))
                    (f32.store offset=12 (local.get $p)
                      (f32.add (f32.load offset=12 (local.get $p)) (f32x4.extract_lane 3 (local.get $g))))
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
