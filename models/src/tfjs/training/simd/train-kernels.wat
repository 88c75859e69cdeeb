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
  ;; A GEMM of kh*kw taps by 32 channels over all positions. Row by row of dy: one row (ow x 32
  ;; floats) stays in L1 while the taps of each input row sweep it in blocks of three
  ;; neighbouring taps while they fit, then two, then one (3 + 2 for kw = 5), by 8 channels
  ;; ($blk3, $blk2): each position loads its two dy vectors once for all the block's taps, and
  ;; the taps' x values are splats at constant offsets from one pointer. One tap by 32 channels,
  ;; as this kernel was first written, loads 9 vectors per 16 arithmetic instructions and ran at
  ;; about 9 GMAC/s on the loads; three taps load 5 per 12 and run at about 20, near the forward
  ;; kernel's rate.
  ;; Five taps by 8 channels would load fewer still but ran slower: V8 issues all of a position's
  ;; splats before the arithmetic, and 10 sums, 2 dy vectors, 5 splats and a product do not fit
  ;; the 15 vector registers it allocates on x64, so sums spill; four taps and a lone fifth were
  ;; slower than three and two.
  ;; Positions where a tap of a block falls in the padding (a column at each end for conv1) go
  ;; through $tap1, one tap by 32 channels, as do single taps left over.
  ;;
  ;; The sums are kept in three levels (one dy row in registers, one image in scratch, the batch
  ;; in out), which keeps float32 rounding near that of a pairwise sum; one long running sum
  ;; over 160k positions would not be.
  (func $tap1
    (param $px i32) (param $pd i32) (param $pend i32) (param $xstep i32) (param $acc i32)
    (local $s v128) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $a4 v128) (local $a5 v128) (local $a6 v128) (local $a7 v128)
    ;; One tap over dy pixels [pd, pend) (128 bytes each), x from px in steps of xstep bytes;
    ;; the 32 sums are added to the tap's 32 floats at acc. Nothing when the range is empty.
    (if (i32.ge_u (local.get $pd) (local.get $pend)) (then (return)))
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
      (f32x4.add (v128.load offset=112 (local.get $acc)) (local.get $a7)))
  )

  ;; Three neighbouring taps over dy pixels [pd0, pend0), x of the first tap from px0 (the
  ;; others 4 and 8 bytes on) in steps of xstep bytes; the sums are added to the taps' floats at
  ;; acc, acc + 128 and acc + 256. Eight channels (byte offset g) at a time; the range is not empty.
  (func $blk3 (param $px0 i32) (param $pd0 i32) (param $pend0 i32) (param $xstep i32) (param $acc i32)
    (local $g i32) (local $px i32) (local $pd i32) (local $pend i32) (local $at i32)
    (local $s v128) (local $d0 v128) (local $d1 v128)
    (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128)
    (local $a20 v128) (local $a21 v128)
    (loop $groups
      (local.set $px (local.get $px0))
      (local.set $pd (i32.add (local.get $pd0) (local.get $g)))
      (local.set $pend (i32.add (local.get $pend0) (local.get $g)))
      (local.set $a00 (v128.const i32x4 0 0 0 0))
      (local.set $a01 (v128.const i32x4 0 0 0 0))
      (local.set $a10 (v128.const i32x4 0 0 0 0))
      (local.set $a11 (v128.const i32x4 0 0 0 0))
      (local.set $a20 (v128.const i32x4 0 0 0 0))
      (local.set $a21 (v128.const i32x4 0 0 0 0))
      (loop $cols
        (local.set $d0 (v128.load offset=0 (local.get $pd)))
        (local.set $d1 (v128.load offset=16 (local.get $pd)))
        (local.set $s (v128.load32_splat offset=0 (local.get $px)))
        (local.set $a00 (f32x4.add (local.get $a00)
          (f32x4.mul (local.get $s) (local.get $d0))))
        (local.set $a01 (f32x4.add (local.get $a01)
          (f32x4.mul (local.get $s) (local.get $d1))))
        (local.set $s (v128.load32_splat offset=4 (local.get $px)))
        (local.set $a10 (f32x4.add (local.get $a10)
          (f32x4.mul (local.get $s) (local.get $d0))))
        (local.set $a11 (f32x4.add (local.get $a11)
          (f32x4.mul (local.get $s) (local.get $d1))))
        (local.set $s (v128.load32_splat offset=8 (local.get $px)))
        (local.set $a20 (f32x4.add (local.get $a20)
          (f32x4.mul (local.get $s) (local.get $d0))))
        (local.set $a21 (f32x4.add (local.get $a21)
          (f32x4.mul (local.get $s) (local.get $d1))))
        (local.set $px (i32.add (local.get $px) (local.get $xstep)))
        (local.set $pd (i32.add (local.get $pd) (i32.const 128)))
        (br_if $cols (i32.lt_u (local.get $pd) (local.get $pend))))
      (local.set $at (i32.add (local.get $acc) (local.get $g)))
      (v128.store offset=0 (local.get $at)
        (f32x4.add (v128.load offset=0 (local.get $at)) (local.get $a00)))
      (v128.store offset=16 (local.get $at)
        (f32x4.add (v128.load offset=16 (local.get $at)) (local.get $a01)))
      (v128.store offset=128 (local.get $at)
        (f32x4.add (v128.load offset=128 (local.get $at)) (local.get $a10)))
      (v128.store offset=144 (local.get $at)
        (f32x4.add (v128.load offset=144 (local.get $at)) (local.get $a11)))
      (v128.store offset=256 (local.get $at)
        (f32x4.add (v128.load offset=256 (local.get $at)) (local.get $a20)))
      (v128.store offset=272 (local.get $at)
        (f32x4.add (v128.load offset=272 (local.get $at)) (local.get $a21)))
      (local.set $g (i32.add (local.get $g) (i32.const 32)))
      (br_if $groups (i32.lt_u (local.get $g) (i32.const 128))))
  )

  ;; $blk3 with two taps.
  (func $blk2 (param $px0 i32) (param $pd0 i32) (param $pend0 i32) (param $xstep i32) (param $acc i32)
    (local $g i32) (local $px i32) (local $pd i32) (local $pend i32) (local $at i32)
    (local $s v128) (local $d0 v128) (local $d1 v128)
    (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128)
    (loop $groups
      (local.set $px (local.get $px0))
      (local.set $pd (i32.add (local.get $pd0) (local.get $g)))
      (local.set $pend (i32.add (local.get $pend0) (local.get $g)))
      (local.set $a00 (v128.const i32x4 0 0 0 0))
      (local.set $a01 (v128.const i32x4 0 0 0 0))
      (local.set $a10 (v128.const i32x4 0 0 0 0))
      (local.set $a11 (v128.const i32x4 0 0 0 0))
      (loop $cols
        (local.set $d0 (v128.load offset=0 (local.get $pd)))
        (local.set $d1 (v128.load offset=16 (local.get $pd)))
        (local.set $s (v128.load32_splat offset=0 (local.get $px)))
        (local.set $a00 (f32x4.add (local.get $a00)
          (f32x4.mul (local.get $s) (local.get $d0))))
        (local.set $a01 (f32x4.add (local.get $a01)
          (f32x4.mul (local.get $s) (local.get $d1))))
        (local.set $s (v128.load32_splat offset=4 (local.get $px)))
        (local.set $a10 (f32x4.add (local.get $a10)
          (f32x4.mul (local.get $s) (local.get $d0))))
        (local.set $a11 (f32x4.add (local.get $a11)
          (f32x4.mul (local.get $s) (local.get $d1))))
        (local.set $px (i32.add (local.get $px) (local.get $xstep)))
        (local.set $pd (i32.add (local.get $pd) (i32.const 128)))
        (br_if $cols (i32.lt_u (local.get $pd) (local.get $pend))))
      (local.set $at (i32.add (local.get $acc) (local.get $g)))
      (v128.store offset=0 (local.get $at)
        (f32x4.add (v128.load offset=0 (local.get $at)) (local.get $a00)))
      (v128.store offset=16 (local.get $at)
        (f32x4.add (v128.load offset=16 (local.get $at)) (local.get $a01)))
      (v128.store offset=128 (local.get $at)
        (f32x4.add (v128.load offset=128 (local.get $at)) (local.get $a10)))
      (v128.store offset=144 (local.get $at)
        (f32x4.add (v128.load offset=144 (local.get $at)) (local.get $a11)))
      (local.set $g (i32.add (local.get $g) (i32.const 32)))
      (br_if $groups (i32.lt_u (local.get $g) (i32.const 128))))
  )

  (func (export "filterGradC1x32")
    (param $x i32) (param $dy i32) (param $out i32) (param $scratch i32)
    (param $n i32) (param $h i32) (param $w i32) (param $oh i32) (param $ow i32)
    (param $kh i32) (param $kw i32) (param $sh i32) (param $sw i32) (param $top i32) (param $left i32)
    (local $bytes i32) (local $b i32) (local $y i32) (local $ky i32) (local $kx i32)
    (local $r i32) (local $c0 i32) (local $x0 i32) (local $x1 i32) (local $lim i32)
    (local $px i32) (local $pd i32) (local $pend i32) (local $xstep i32)
    (local $dyRow i32) (local $xRow i32) (local $acc i32) (local $i i32)
    (local $k i32) (local $xa i32) (local $xb i32) (local $tapRow i32)
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
                    (local.set $tapRow (i32.add (local.get $scratch)
                      (i32.shl (i32.mul (local.get $ky) (local.get $kw)) (i32.const 7))))
                    (local.set $kx (i32.const 0))
                    (block $kx_done
                      (loop $kxs
                        (br_if $kx_done (i32.ge_u (local.get $kx) (local.get $kw)))
                        ;; A block of k = 3 taps kx..kx+2 where kw allows, else 2, else 1.
                        (local.set $k (select
                          (i32.const 3)
                          (select (i32.const 2) (i32.const 1)
                            (i32.le_u (i32.add (local.get $kx) (i32.const 2)) (local.get $kw)))
                          (i32.le_u (i32.add (local.get $kx) (i32.const 3)) (local.get $kw))))
                        ;; Output columns [xa, xb) where every tap of the block reads inside
                        ;; x: the first tap's lower bound and the last tap's upper one, as an
                        ;; input column xo*sw + c0 grows with the tap.
                        (local.set $c0 (i32.sub (local.get $kx) (local.get $left)))
                        (local.set $xa (select
                          (i32.const 0)
                          (i32.div_u (i32.add (i32.sub (i32.const 0) (local.get $c0))
                            (i32.sub (local.get $sw) (i32.const 1))) (local.get $sw))
                          (i32.ge_s (local.get $c0) (i32.const 0))))
                        (local.set $lim (i32.sub (i32.sub (local.get $w) (local.get $c0)) (local.get $k)))
                        (local.set $xb (select
                          (i32.const 0)
                          (i32.add (i32.div_u (local.get $lim) (local.get $sw)) (i32.const 1))
                          (i32.lt_s (local.get $lim) (i32.const 0))))
                        (if (i32.gt_u (local.get $xb) (local.get $ow))
                          (then (local.set $xb (local.get $ow))))
                        (if (i32.gt_u (local.get $xa) (local.get $xb))
                          (then (local.set $xa (local.get $xb))))
                        (if (i32.and (i32.gt_u (local.get $k) (i32.const 1))
                                     (i32.lt_u (local.get $xa) (local.get $xb)))
                          (then
                            (local.set $px (i32.add (local.get $xRow) (i32.shl (i32.add
                              (i32.mul (local.get $xa) (local.get $sw)) (local.get $c0)) (i32.const 2))))
                            (local.set $pd (i32.add (local.get $dyRow)
                              (i32.shl (local.get $xa) (i32.const 7))))
                            (local.set $pend (i32.add (local.get $dyRow)
                              (i32.shl (local.get $xb) (i32.const 7))))
                            (local.set $acc (i32.add (local.get $tapRow)
                              (i32.shl (local.get $kx) (i32.const 7))))
                            (if (i32.eq (local.get $k) (i32.const 3))
                              (then (call $blk3 (local.get $px) (local.get $pd) (local.get $pend)
                                (local.get $xstep) (local.get $acc)))
                              (else (call $blk2 (local.get $px) (local.get $pd) (local.get $pend)
                                (local.get $xstep) (local.get $acc)))))
                          (else
                            ;; One tap, or a block with no column inside x for all its taps:
                            ;; $tap1 takes every column.
                            (local.set $xb (local.get $xa))))
                        ;; Each tap of the block over its own columns [x0, x1) outside [xa, xb).
                        (local.set $i (i32.const 0))
                        (loop $edges
                          (local.set $c0 (i32.sub (i32.add (local.get $kx) (local.get $i)) (local.get $left)))
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
                          (local.set $acc (i32.add (local.get $tapRow)
                            (i32.shl (i32.add (local.get $kx) (local.get $i)) (i32.const 7))))
                          ;; [x0, min(x1, xa)) and [max(x0, xb), x1).
                          (local.set $lim (select (local.get $xa) (local.get $x1)
                            (i32.lt_u (local.get $xa) (local.get $x1))))
                          (if (i32.lt_u (local.get $x0) (local.get $lim))
                            (then
                              (call $tap1
                                (i32.add (local.get $xRow) (i32.shl (i32.add
                                  (i32.mul (local.get $x0) (local.get $sw)) (local.get $c0)) (i32.const 2)))
                                (i32.add (local.get $dyRow) (i32.shl (local.get $x0) (i32.const 7)))
                                (i32.add (local.get $dyRow) (i32.shl (local.get $lim) (i32.const 7)))
                                (local.get $xstep) (local.get $acc))))
                          (local.set $lim (select (local.get $xb) (local.get $x0)
                            (i32.gt_u (local.get $xb) (local.get $x0))))
                          (if (i32.lt_u (local.get $lim) (local.get $x1))
                            (then
                              (call $tap1
                                (i32.add (local.get $xRow) (i32.shl (i32.add
                                  (i32.mul (local.get $lim) (local.get $sw)) (local.get $c0)) (i32.const 2)))
                                (i32.add (local.get $dyRow) (i32.shl (local.get $lim) (i32.const 7)))
                                (i32.add (local.get $dyRow) (i32.shl (local.get $x1) (i32.const 7)))
                                (local.get $xstep) (local.get $acc))))
                          (local.set $i (i32.add (local.get $i) (i32.const 1)))
                          (br_if $edges (i32.lt_u (local.get $i) (local.get $k))))
                        (local.set $kx (i32.add (local.get $kx) (local.get $k)))
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

  ;; Transposed im2col on the plain OH x OW grid, c a multiple of 4:
  ;;   out[(a*kw + b)*c + ch, (bn*oh + i)*ow + j] = x[bn, i*sh + a - top, j*sw + b - left, ch]
  ;; with x zero outside [0, h) x [0, w); out holds kh*kw*c rows of n*oh*ow floats. For each tap
  ;; and output row, four channels of four output columns are loaded as four f32x4 (one per
  ;; pixel), transposed in registers and stored as four runs of four columns, one per channel
  ;; row; the x row being read (ow*sw pixels) stays in L1 while all its channels are written.
  ;; Pure data movement: the result is bit-identical to the JavaScript kernel's.
  (func (export "im2colT")
    (param $x i32) (param $out i32)
    (param $n i32) (param $h i32) (param $w i32) (param $c i32) (param $oh i32) (param $ow i32)
    (param $kh i32) (param $kw i32) (param $sh i32) (param $sw i32) (param $top i32) (param $left i32)
    (local $rowBytes i32) (local $a i32) (local $b i32) (local $bn i32) (local $i i32)
    (local $ch i32) (local $j i32) (local $tap i32) (local $dst i32) (local $c0 i32)
    (local $j0 i32) (local $j1 i32) (local $lim i32) (local $r i32) (local $xRow i32)
    (local $px i32) (local $pstep i32) (local $cb i32) (local $owb i32) (local $d i32)
    (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $rowBytes (i32.shl (i32.mul (i32.mul (local.get $n) (local.get $oh)) (local.get $ow)) (i32.const 2)))
    (local.set $cb (i32.shl (local.get $c) (i32.const 2)))
    (local.set $owb (i32.shl (local.get $ow) (i32.const 2)))
    (local.set $pstep (i32.mul (local.get $sw) (local.get $cb)))
    (local.set $a (i32.const 0))
    (block $a_done
      (loop $as
        (br_if $a_done (i32.ge_u (local.get $a) (local.get $kh)))
        (local.set $b (i32.const 0))
        (block $b_done
          (loop $bs
            (br_if $b_done (i32.ge_u (local.get $b) (local.get $kw)))
            ;; First channel row of this tap.
            (local.set $tap (i32.add (local.get $out) (i32.mul (i32.mul
              (i32.add (i32.mul (local.get $a) (local.get $kw)) (local.get $b)) (local.get $c))
              (local.get $rowBytes))))
            ;; Output columns j whose input column j*sw + c0 lies in [0, w): [j0, j1).
            (local.set $c0 (i32.sub (local.get $b) (local.get $left)))
            (local.set $j0 (select
              (i32.const 0)
              (i32.div_u (i32.add (i32.sub (i32.const 0) (local.get $c0))
                (i32.sub (local.get $sw) (i32.const 1))) (local.get $sw))
              (i32.ge_s (local.get $c0) (i32.const 0))))
            (local.set $lim (i32.sub (i32.sub (local.get $w) (i32.const 1)) (local.get $c0)))
            (local.set $j1 (select
              (i32.const 0)
              (i32.add (i32.div_u (local.get $lim) (local.get $sw)) (i32.const 1))
              (i32.lt_s (local.get $lim) (i32.const 0))))
            (if (i32.gt_u (local.get $j1) (local.get $ow))
              (then (local.set $j1 (local.get $ow))))
            (if (i32.gt_u (local.get $j0) (local.get $j1))
              (then (local.set $j0 (local.get $j1))))
            (local.set $bn (i32.const 0))
            (block $bn_done
              (loop $bns
                (br_if $bn_done (i32.ge_u (local.get $bn) (local.get $n)))
                (local.set $i (i32.const 0))
                (block $i_done
                  (loop $is
                    (br_if $i_done (i32.ge_u (local.get $i) (local.get $oh)))
                    ;; Where this output row starts in each channel row.
                    (local.set $dst (i32.add (local.get $tap) (i32.mul
                      (i32.add (i32.mul (local.get $bn) (local.get $oh)) (local.get $i)) (local.get $owb))))
                    (local.set $r (i32.sub (i32.add (i32.mul (local.get $i) (local.get $sh))
                      (local.get $a)) (local.get $top)))
                    (if (i32.and (i32.ge_s (local.get $r) (i32.const 0))
                                 (i32.lt_s (local.get $r) (local.get $h)))
                      (then
                        (local.set $xRow (i32.add (local.get $x) (i32.mul
                          (i32.mul (i32.add (i32.mul (local.get $bn) (local.get $h)) (local.get $r))
                            (local.get $w)) (local.get $cb))))
                        (local.set $ch (i32.const 0))
                        (block $ch_done
                          (loop $chs
                            (br_if $ch_done (i32.ge_u (local.get $ch) (local.get $c)))
                            (local.set $d (i32.add (local.get $dst) (i32.mul (local.get $ch) (local.get $rowBytes))))
                            ;; Columns in the padding: zeros in the four channel rows (one or
                            ;; two columns as a rule; a store each is cheaper than memory.fill).
                            (local.set $j (i32.const 0))
                            (block $left_done
                              (loop $lefts
                                (br_if $left_done (i32.ge_u (local.get $j) (local.get $j0)))
                                (local.set $px (i32.add (local.get $d) (i32.shl (local.get $j) (i32.const 2))))
                                (f32.store (local.get $px) (f32.const 0))
                                (f32.store (i32.add (local.get $px) (local.get $rowBytes)) (f32.const 0))
                                (f32.store (i32.add (local.get $px) (i32.shl (local.get $rowBytes) (i32.const 1)))
                                  (f32.const 0))
                                (f32.store (i32.add (local.get $px) (i32.mul (local.get $rowBytes) (i32.const 3)))
                                  (f32.const 0))
                                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                                (br $lefts)))
                            (local.set $j (local.get $j1))
                            (block $right_done
                              (loop $rights
                                (br_if $right_done (i32.ge_u (local.get $j) (local.get $ow)))
                                (local.set $px (i32.add (local.get $d) (i32.shl (local.get $j) (i32.const 2))))
                                (f32.store (local.get $px) (f32.const 0))
                                (f32.store (i32.add (local.get $px) (local.get $rowBytes)) (f32.const 0))
                                (f32.store (i32.add (local.get $px) (i32.shl (local.get $rowBytes) (i32.const 1)))
                                  (f32.const 0))
                                (f32.store (i32.add (local.get $px) (i32.mul (local.get $rowBytes) (i32.const 3)))
                                  (f32.const 0))
                                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                                (br $rights)))
                            ;; x of the first valid column, channels ch..ch+3.
                            (local.set $px (i32.add (local.get $xRow) (i32.add
                              (i32.mul (i32.add (i32.mul (local.get $j0) (local.get $sw)) (local.get $c0))
                                (local.get $cb))
                              (i32.shl (local.get $ch) (i32.const 2)))))
                            (local.set $d (i32.add (local.get $d) (i32.shl (local.get $j0) (i32.const 2))))
                            (local.set $j (local.get $j0))
                            (block $quad_done
                              (loop $quads
                                (br_if $quad_done (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $j1)))
                                (local.set $r0 (v128.load (local.get $px)))
                                (local.set $r1 (v128.load (i32.add (local.get $px) (local.get $pstep))))
                                (local.set $r2 (v128.load (i32.add (local.get $px) (i32.shl (local.get $pstep) (i32.const 1)))))
                                (local.set $r3 (v128.load (i32.add (local.get $px) (i32.mul (local.get $pstep) (i32.const 3)))))
                                ;; 4x4 transpose: t0 = (r0.0 r1.0 r0.1 r1.1), t1 = (r0.2 r1.2 r0.3 r1.3), ...
                                (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23
                                  (local.get $r0) (local.get $r1)))
                                (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31
                                  (local.get $r0) (local.get $r1)))
                                (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23
                                  (local.get $r2) (local.get $r3)))
                                (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31
                                  (local.get $r2) (local.get $r3)))
                                (v128.store (local.get $d)
                                  (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
                                (v128.store (i32.add (local.get $d) (local.get $rowBytes))
                                  (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
                                (v128.store (i32.add (local.get $d) (i32.shl (local.get $rowBytes) (i32.const 1)))
                                  (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
                                (v128.store (i32.add (local.get $d) (i32.mul (local.get $rowBytes) (i32.const 3)))
                                  (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
                                (local.set $px (i32.add (local.get $px) (i32.shl (local.get $pstep) (i32.const 2))))
                                (local.set $d (i32.add (local.get $d) (i32.const 16)))
                                (local.set $j (i32.add (local.get $j) (i32.const 4)))
                                (br $quads)))
                            ;; The last columns one at a time.
                            (block $tail_done
                              (loop $tail
                                (br_if $tail_done (i32.ge_u (local.get $j) (local.get $j1)))
                                (local.set $r0 (v128.load (local.get $px)))
                                (f32.store (local.get $d) (f32x4.extract_lane 0 (local.get $r0)))
                                (f32.store (i32.add (local.get $d) (local.get $rowBytes))
                                  (f32x4.extract_lane 1 (local.get $r0)))
                                (f32.store (i32.add (local.get $d) (i32.shl (local.get $rowBytes) (i32.const 1)))
                                  (f32x4.extract_lane 2 (local.get $r0)))
                                (f32.store (i32.add (local.get $d) (i32.mul (local.get $rowBytes) (i32.const 3)))
                                  (f32x4.extract_lane 3 (local.get $r0)))
                                (local.set $px (i32.add (local.get $px) (local.get $pstep)))
                                (local.set $d (i32.add (local.get $d) (i32.const 4)))
                                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                                (br $tail)))
                            (local.set $ch (i32.add (local.get $ch) (i32.const 4)))
                            (br $chs))))
                      (else
                        ;; A row in the padding: zeros in every channel row.
                        (local.set $ch (i32.const 0))
                        (block $z_done
                          (loop $zs
                            (br_if $z_done (i32.ge_u (local.get $ch) (local.get $c)))
                            (memory.fill (i32.add (local.get $dst) (i32.mul (local.get $ch) (local.get $rowBytes)))
                              (i32.const 0) (local.get $owb))
                            (local.set $ch (i32.add (local.get $ch) (i32.const 1)))
                            (br $zs)))))
                    (local.set $i (i32.add (local.get $i) (i32.const 1)))
                    (br $is)))
                (local.set $bn (i32.add (local.get $bn) (i32.const 1)))
                (br $bns)))
            (local.set $b (i32.add (local.get $b) (i32.const 1)))
            (br $bs)))
        (local.set $a (i32.add (local.get $a) (i32.const 1)))
        (br $as)))
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
  ;; Places one stride phase of a strided convolution's input gradient into dx (the interleave
  ;; of gradient-kernels.ts): for each image b < n, row r < rows and pixel j < cols, the c floats
  ;; (cb bytes, a multiple of 16) at src + b*srcImg + r*srcRow + j*cb go to
  ;; dst + b*dstImg + r*dstRow + j*dstPix. Offsets and strides are in bytes. With stride 2
  ;; consecutive pixels of a phase are two pixels apart in dx, so a row is no single memcpy;
  ;; per-pixel copies in JavaScript cost several times this.
  (func (export "placePhase")
    (param $src i32) (param $dst i32) (param $n i32) (param $rows i32) (param $cols i32)
    (param $cb i32) (param $srcImg i32) (param $srcRow i32) (param $dstImg i32)
    (param $dstRow i32) (param $dstPix i32)
    (local $b i32) (local $r i32) (local $j i32) (local $off i32)
    (local $s i32) (local $d i32) (local $sr i32) (local $dr i32)
    (local.set $b (i32.const 0))
    (block $images_done
      (loop $images
        (br_if $images_done (i32.ge_u (local.get $b) (local.get $n)))
        (local.set $sr (i32.add (local.get $src) (i32.mul (local.get $b) (local.get $srcImg))))
        (local.set $dr (i32.add (local.get $dst) (i32.mul (local.get $b) (local.get $dstImg))))
        (local.set $r (i32.const 0))
        (block $rows_done
          (loop $rowloop
            (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rows)))
            (local.set $s (local.get $sr))
            (local.set $d (local.get $dr))
            (local.set $j (i32.const 0))
            (block $cols_done
              (loop $colloop
                (br_if $cols_done (i32.ge_u (local.get $j) (local.get $cols)))
                (local.set $off (i32.const 0))
                (block $ch_done
                  (loop $chs
                    (br_if $ch_done (i32.ge_u (local.get $off) (local.get $cb)))
                    (v128.store (i32.add (local.get $d) (local.get $off))
                      (v128.load (i32.add (local.get $s) (local.get $off))))
                    (local.set $off (i32.add (local.get $off) (i32.const 16)))
                    (br $chs)))
                (local.set $s (i32.add (local.get $s) (local.get $cb)))
                (local.set $d (i32.add (local.get $d) (local.get $dstPix)))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $colloop)))
            (local.set $sr (i32.add (local.get $sr) (local.get $srcRow)))
            (local.set $dr (i32.add (local.get $dr) (local.get $dstRow)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $rowloop)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $images)))
  )
)
