;; Forward convolution of a one-channel input, with WebAssembly SIMD, on the tfjs WebAssembly
;; backend's own heap (see conv-c1.ts): the network's first layer, which XNNPACK runs at about
;; half its usual rate because a single input channel leaves its GEMM micro-kernels a depth of
;; only kh*kw. All pointers are byte offsets into that heap; tensors are float32 NHWC.
;;
;;   out[b, i, j, o] = bias[o] + sum over ky, kx of x[b, i*sh + ky - top, j*sw + kx - left] * f[ky, kx, 0, o]
;;
;; with x zero outside [0, h) x [0, w), f HWIO [kh, kw, 1, co], co a multiple of 4.
;;
;; Register blocking: two neighbouring output pixels by 16 channels, eight f32x4 sums. Each tap
;; loads one input scalar per pixel (splat) and the tap's 16 weights once for both pixels; the
;; weights (kh*kw*co floats) and the kh input rows stay in L1. Eight sums, two splats, one
;; weight and one product fit the 16 vector registers V8 uses on x64 without spills; there is no
;; fused multiply-add, so each tap is a multiply and an add per sum. Pixels whose window crosses
;; the border (and a lone last pixel) run the one-pixel path over the clipped window instead,
;; which skips the padding taps rather than multiplying zeros.
(module
  (import "env" "memory" (memory 1))

  ;; One output pixel, channels from byte offset $g0 to $cob (co*4), over a window of $nky rows
  ;; by $nkx columns whose first tap is x at $px and weight row at $pw. $xrow and $wrow: bytes
  ;; between window rows in x and in f; $cob: bytes between taps in f (and the pixel's size).
  (func $one
    (param $px i32) (param $pw i32) (param $pb i32) (param $po i32)
    (param $nky i32) (param $nkx i32) (param $xrow i32) (param $wrow i32) (param $cob i32)
    (param $g0 i32)
    (local $g i32) (local $p i32) (local $q i32) (local $pi i32) (local $qi i32)
    (local $ky i32) (local $k i32)
    (local $s v128) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $any i32)
    (local.set $any (i32.and (i32.gt_s (local.get $nky) (i32.const 0))
                             (i32.gt_s (local.get $nkx) (i32.const 0))))
    (local.set $g (local.get $g0))
    ;; 16 channels at a time.
    (block $wide_done
      (loop $wide
        (br_if $wide_done (i32.gt_u (i32.add (local.get $g) (i32.const 64)) (local.get $cob)))
        (local.set $a0 (v128.load offset=0 (i32.add (local.get $pb) (local.get $g))))
        (local.set $a1 (v128.load offset=16 (i32.add (local.get $pb) (local.get $g))))
        (local.set $a2 (v128.load offset=32 (i32.add (local.get $pb) (local.get $g))))
        (local.set $a3 (v128.load offset=48 (i32.add (local.get $pb) (local.get $g))))
        (if (local.get $any)
          (then
            (local.set $p (local.get $px))
            (local.set $q (i32.add (local.get $pw) (local.get $g)))
            (local.set $ky (local.get $nky))
            (loop $rows
              (local.set $pi (local.get $p))
              (local.set $qi (local.get $q))
              (local.set $k (local.get $nkx))
              (loop $taps
                (local.set $s (v128.load32_splat (local.get $pi)))
                (local.set $a0 (f32x4.add (local.get $a0)
                  (f32x4.mul (local.get $s) (v128.load offset=0 (local.get $qi)))))
                (local.set $a1 (f32x4.add (local.get $a1)
                  (f32x4.mul (local.get $s) (v128.load offset=16 (local.get $qi)))))
                (local.set $a2 (f32x4.add (local.get $a2)
                  (f32x4.mul (local.get $s) (v128.load offset=32 (local.get $qi)))))
                (local.set $a3 (f32x4.add (local.get $a3)
                  (f32x4.mul (local.get $s) (v128.load offset=48 (local.get $qi)))))
                (local.set $pi (i32.add (local.get $pi) (i32.const 4)))
                (local.set $qi (i32.add (local.get $qi) (local.get $cob)))
                (local.set $k (i32.sub (local.get $k) (i32.const 1)))
                (br_if $taps (local.get $k)))
              (local.set $p (i32.add (local.get $p) (local.get $xrow)))
              (local.set $q (i32.add (local.get $q) (local.get $wrow)))
              (local.set $ky (i32.sub (local.get $ky) (i32.const 1)))
              (br_if $rows (local.get $ky)))))
        (v128.store offset=0 (i32.add (local.get $po) (local.get $g)) (local.get $a0))
        (v128.store offset=16 (i32.add (local.get $po) (local.get $g)) (local.get $a1))
        (v128.store offset=32 (i32.add (local.get $po) (local.get $g)) (local.get $a2))
        (v128.store offset=48 (i32.add (local.get $po) (local.get $g)) (local.get $a3))
        (local.set $g (i32.add (local.get $g) (i32.const 64)))
        (br $wide)))
    ;; The last co % 16 channels, 4 at a time.
    (block $narrow_done
      (loop $narrow
        (br_if $narrow_done (i32.ge_u (local.get $g) (local.get $cob)))
        (local.set $a0 (v128.load (i32.add (local.get $pb) (local.get $g))))
        (if (local.get $any)
          (then
            (local.set $p (local.get $px))
            (local.set $q (i32.add (local.get $pw) (local.get $g)))
            (local.set $ky (local.get $nky))
            (loop $rows
              (local.set $pi (local.get $p))
              (local.set $qi (local.get $q))
              (local.set $k (local.get $nkx))
              (loop $taps
                (local.set $a0 (f32x4.add (local.get $a0)
                  (f32x4.mul (v128.load32_splat (local.get $pi)) (v128.load (local.get $qi)))))
                (local.set $pi (i32.add (local.get $pi) (i32.const 4)))
                (local.set $qi (i32.add (local.get $qi) (local.get $cob)))
                (local.set $k (i32.sub (local.get $k) (i32.const 1)))
                (br_if $taps (local.get $k)))
              (local.set $p (i32.add (local.get $p) (local.get $xrow)))
              (local.set $q (i32.add (local.get $q) (local.get $wrow)))
              (local.set $ky (i32.sub (local.get $ky) (i32.const 1)))
              (br_if $rows (local.get $ky)))))
        (v128.store (i32.add (local.get $po) (local.get $g)) (local.get $a0))
        (local.set $g (i32.add (local.get $g) (i32.const 16)))
        (br $narrow)))
  )

  ;; Two output pixels whose whole windows lie inside x: the first window's top-left tap at $px,
  ;; the second's $swb bytes to the right; outputs at $po and $po + $cob.
  (func $two
    (param $px i32) (param $pw i32) (param $pb i32) (param $po i32)
    (param $kh i32) (param $kw i32) (param $xrow i32) (param $swb i32) (param $cob i32)
    (local $g i32) (local $p i32) (local $q i32) (local $pe i32) (local $ky i32)
    (local $skip i32) (local $w v128) (local $s0 v128) (local $s1 v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128)
    ;; From the end of one window row to the start of the next.
    (local.set $skip (i32.sub (local.get $xrow) (i32.shl (local.get $kw) (i32.const 2))))
    (local.set $g (i32.const 0))
    (block $wide_done
      (loop $wide
        (br_if $wide_done (i32.gt_u (i32.add (local.get $g) (i32.const 64)) (local.get $cob)))
        (local.set $a0 (v128.load offset=0 (i32.add (local.get $pb) (local.get $g))))
        (local.set $a1 (v128.load offset=16 (i32.add (local.get $pb) (local.get $g))))
        (local.set $a2 (v128.load offset=32 (i32.add (local.get $pb) (local.get $g))))
        (local.set $a3 (v128.load offset=48 (i32.add (local.get $pb) (local.get $g))))
        (local.set $b0 (local.get $a0))
        (local.set $b1 (local.get $a1))
        (local.set $b2 (local.get $a2))
        (local.set $b3 (local.get $a3))
        (local.set $p (local.get $px))
        ;; A whole window's taps are consecutive in f.
        (local.set $q (i32.add (local.get $pw) (local.get $g)))
        (local.set $ky (local.get $kh))
        (loop $rows
          (local.set $pe (i32.add (local.get $p) (i32.shl (local.get $kw) (i32.const 2))))
          (loop $taps
            (local.set $s0 (v128.load32_splat (local.get $p)))
            (local.set $s1 (v128.load32_splat (i32.add (local.get $p) (local.get $swb))))
            ;; One weight vector live at a time keeps the block within 16 registers.
            (local.set $w (v128.load offset=0 (local.get $q)))
            (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $s0) (local.get $w))))
            (local.set $b0 (f32x4.add (local.get $b0) (f32x4.mul (local.get $s1) (local.get $w))))
            (local.set $w (v128.load offset=16 (local.get $q)))
            (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $s0) (local.get $w))))
            (local.set $b1 (f32x4.add (local.get $b1) (f32x4.mul (local.get $s1) (local.get $w))))
            (local.set $w (v128.load offset=32 (local.get $q)))
            (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $s0) (local.get $w))))
            (local.set $b2 (f32x4.add (local.get $b2) (f32x4.mul (local.get $s1) (local.get $w))))
            (local.set $w (v128.load offset=48 (local.get $q)))
            (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $s0) (local.get $w))))
            (local.set $b3 (f32x4.add (local.get $b3) (f32x4.mul (local.get $s1) (local.get $w))))
            (local.set $q (i32.add (local.get $q) (local.get $cob)))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))
            (br_if $taps (i32.lt_u (local.get $p) (local.get $pe))))
          (local.set $p (i32.add (local.get $p) (local.get $skip)))
          (local.set $ky (i32.sub (local.get $ky) (i32.const 1)))
          (br_if $rows (local.get $ky)))
        (v128.store offset=0 (i32.add (local.get $po) (local.get $g)) (local.get $a0))
        (v128.store offset=16 (i32.add (local.get $po) (local.get $g)) (local.get $a1))
        (v128.store offset=32 (i32.add (local.get $po) (local.get $g)) (local.get $a2))
        (v128.store offset=48 (i32.add (local.get $po) (local.get $g)) (local.get $a3))
        (v128.store offset=0 (i32.add (i32.add (local.get $po) (local.get $cob)) (local.get $g))
          (local.get $b0))
        (v128.store offset=16 (i32.add (i32.add (local.get $po) (local.get $cob)) (local.get $g))
          (local.get $b1))
        (v128.store offset=32 (i32.add (i32.add (local.get $po) (local.get $cob)) (local.get $g))
          (local.get $b2))
        (v128.store offset=48 (i32.add (i32.add (local.get $po) (local.get $cob)) (local.get $g))
          (local.get $b3))
        (local.set $g (i32.add (local.get $g) (i32.const 64)))
        (br $wide)))
    ;; The last co % 16 channels: rare (not the network's conv1), so one pixel at a time.
    (if (i32.lt_u (local.get $g) (local.get $cob))
      (then
        (call $one (local.get $px) (local.get $pw) (local.get $pb) (local.get $po)
          (local.get $kh) (local.get $kw) (local.get $xrow)
          (i32.mul (local.get $kw) (local.get $cob)) (local.get $cob) (local.get $g))
        (call $one (i32.add (local.get $px) (local.get $swb)) (local.get $pw) (local.get $pb)
          (i32.add (local.get $po) (local.get $cob))
          (local.get $kh) (local.get $kw) (local.get $xrow)
          (i32.mul (local.get $kw) (local.get $cob)) (local.get $cob) (local.get $g))))
  )

  ;; out [n, oh, ow, co] from x [n, h, w, 1], f [kh, kw, 1, co] and bias [co] (all of them
  ;; present: the caller passes zeros for a convolution without bias).
  (func (export "convC1")
    (param $x i32) (param $f i32) (param $bias i32) (param $out i32)
    (param $n i32) (param $h i32) (param $w i32) (param $co i32) (param $oh i32) (param $ow i32)
    (param $kh i32) (param $kw i32) (param $sh i32) (param $sw i32) (param $top i32) (param $left i32)
    (local $cob i32) (local $xrow i32) (local $wrow i32) (local $swb i32)
    (local $b i32) (local $i i32) (local $j i32) (local $r i32) (local $c i32)
    (local $ky0 i32) (local $ky1 i32) (local $kx0 i32) (local $kx1 i32) (local $full i32)
    (local $xr i32) (local $xImg i32) (local $wr i32) (local $po i32)
    (local.set $cob (i32.shl (local.get $co) (i32.const 2)))
    (local.set $xrow (i32.shl (local.get $w) (i32.const 2)))
    (local.set $wrow (i32.mul (local.get $kw) (local.get $cob)))
    (local.set $swb (i32.shl (local.get $sw) (i32.const 2)))
    (local.set $po (local.get $out))
    (local.set $b (i32.const 0))
    (block $images_done
      (loop $images
        (br_if $images_done (i32.ge_u (local.get $b) (local.get $n)))
        (local.set $xImg (i32.add (local.get $x)
          (i32.shl (i32.mul (i32.mul (local.get $b) (local.get $h)) (local.get $w)) (i32.const 2))))
        (local.set $i (i32.const 0))
        (block $rows_done
          (loop $rows
            (br_if $rows_done (i32.ge_u (local.get $i) (local.get $oh)))
            ;; Window rows [ky0, ky1) fall inside x (none when ky1 <= ky0).
            (local.set $r (i32.sub (i32.mul (local.get $i) (local.get $sh)) (local.get $top)))
            (local.set $ky0 (select (i32.sub (i32.const 0) (local.get $r)) (i32.const 0)
              (i32.lt_s (local.get $r) (i32.const 0))))
            (local.set $ky1 (i32.sub (local.get $h) (local.get $r)))
            (if (i32.gt_s (local.get $ky1) (local.get $kh)) (then (local.set $ky1 (local.get $kh))))
            (if (i32.lt_s (local.get $ky1) (local.get $ky0)) (then (local.set $ky1 (local.get $ky0))))
            (local.set $full (i32.and (i32.eqz (local.get $ky0))
                                      (i32.eq (local.get $ky1) (local.get $kh))))
            ;; x at column 0 of the window's first row inside x, and that row of f.
            (local.set $xr (i32.add (local.get $xImg) (i32.mul
              (i32.add (local.get $r) (local.get $ky0)) (local.get $xrow))))
            (local.set $wr (i32.add (local.get $f) (i32.mul (local.get $ky0) (local.get $wrow))))
            (local.set $j (i32.const 0))
            (block $cols_done
              (loop $cols
                (br_if $cols_done (i32.ge_u (local.get $j) (local.get $ow)))
                (local.set $c (i32.sub (i32.mul (local.get $j) (local.get $sw)) (local.get $left)))
                ;; Both windows whole: j's left edge and j+1's right edge inside x.
                (if (i32.and (i32.and (local.get $full)
                                      (i32.lt_u (i32.add (local.get $j) (i32.const 1)) (local.get $ow)))
                             (i32.and (i32.ge_s (local.get $c) (i32.const 0))
                                      (i32.le_s (i32.add (i32.add (local.get $c) (local.get $sw))
                                                         (local.get $kw))
                                                (local.get $w))))
                  (then
                    (call $two (i32.add (local.get $xr) (i32.shl (local.get $c) (i32.const 2)))
                      (local.get $f) (local.get $bias) (local.get $po)
                      (local.get $kh) (local.get $kw) (local.get $xrow) (local.get $swb) (local.get $cob))
                    (local.set $po (i32.add (local.get $po) (i32.shl (local.get $cob) (i32.const 1))))
                    (local.set $j (i32.add (local.get $j) (i32.const 2))))
                  (else
                    ;; Window columns [kx0, kx1) inside x.
                    (local.set $kx0 (select (i32.sub (i32.const 0) (local.get $c)) (i32.const 0)
                      (i32.lt_s (local.get $c) (i32.const 0))))
                    (local.set $kx1 (i32.sub (local.get $w) (local.get $c)))
                    (if (i32.gt_s (local.get $kx1) (local.get $kw)) (then (local.set $kx1 (local.get $kw))))
                    (if (i32.lt_s (local.get $kx1) (local.get $kx0)) (then (local.set $kx1 (local.get $kx0))))
                    (call $one
                      (i32.add (local.get $xr) (i32.shl (i32.add (local.get $c) (local.get $kx0)) (i32.const 2)))
                      (i32.add (local.get $wr) (i32.mul (local.get $kx0) (local.get $cob)))
                      (local.get $bias) (local.get $po)
                      (i32.sub (local.get $ky1) (local.get $ky0))
                      (i32.sub (local.get $kx1) (local.get $kx0))
                      (local.get $xrow) (local.get $wrow) (local.get $cob) (i32.const 0))
                    (local.set $po (i32.add (local.get $po) (local.get $cob)))
                    (local.set $j (i32.add (local.get $j) (i32.const 1)))))
                (br $cols)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $rows)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $images)))
  )
)
