;; Matrix product for convolution filter gradients on the tfjs WebAssembly backend, with
;; WebAssembly SIMD, on the backend's own heap (see gemm.ts): c [K, Co] = a [K, P] @ b [P, Co],
;; where a is im2col's transposed patches (each of the K taps a row of P positions) and b the
;; output gradient [P, Co]. XNNPACK's BatchMatMul repacks b as a weight matrix on every call
;; and runs generic tiles, about 10 GMAC/s on these shapes.
;;
;; Register tile: 4 rows of a by 8 columns (8 sums). Per position it loads the two b vectors
;; once for all four rows and splats one a value per row: 6 loads per 16 arithmetic
;; instructions. On the FADNet shapes it ran about 10% faster than 3 x 8 and 2 x 16; 3 x 12
;; spilled and ran at half the rate. Columns left over (Co % 8 = 4) take a 4 x 4 tile, rows
;; left over (K % 4) 1 x 8 and 1 x 4 tiles.
;;
;; Positions go in blocks of pblk: each tile sums one block in registers and adds that into c,
;; so rounding grows with the block length plus the number of blocks, not with P as a single
;; running sum's does. A block of the four rows of a stays in L1 while it sweeps all Co
;; columns of the block of b.
;;
;; Build: npm run build:wasm (wabt); test/wasm-modules.test.ts checks that the committed .wasm
;; is this file assembled.
(module
  (import "env" "memory" (memory 1))

  ;; Tiles: the sums over n positions of rows pa, pa+sa, ... (bytes) of a by the columns at pb of
  ;; b (rows sb bytes apart), added into c at pc (rows sc bytes apart).
  (func $t4x8
    (param $pa i32) (param $pb i32) (param $pc i32) (param $n i32)
    (param $sa i32) (param $sb i32) (param $sc i32)
    (local $end i32) (local $a1 i32) (local $a2 i32) (local $a3 i32)
    (local $c0_0 v128) (local $c0_1 v128) (local $c1_0 v128) (local $c1_1 v128) (local $c2_0 v128) (local $c2_1 v128) (local $c3_0 v128) (local $c3_1 v128)
    (local $b0 v128) (local $b1 v128) (local $s v128)
    (local.set $a1 (i32.add (local.get $pa) (local.get $sa)))
    (local.set $a2 (i32.add (local.get $a1) (local.get $sa)))
    (local.set $a3 (i32.add (local.get $a2) (local.get $sa)))
    (local.set $end (i32.add (local.get $pa) (i32.shl (local.get $n) (i32.const 2))))
    (loop $p
      (local.set $b0 (v128.load offset=0 (local.get $pb)))
      (local.set $b1 (v128.load offset=16 (local.get $pb)))
      (local.set $s (v128.load32_splat (local.get $pa)))
      (local.set $c0_0 (f32x4.add (local.get $c0_0)
        (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c0_1 (f32x4.add (local.get $c0_1)
        (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $s (v128.load32_splat (local.get $a1)))
      (local.set $c1_0 (f32x4.add (local.get $c1_0)
        (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c1_1 (f32x4.add (local.get $c1_1)
        (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $s (v128.load32_splat (local.get $a2)))
      (local.set $c2_0 (f32x4.add (local.get $c2_0)
        (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c2_1 (f32x4.add (local.get $c2_1)
        (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $s (v128.load32_splat (local.get $a3)))
      (local.set $c3_0 (f32x4.add (local.get $c3_0)
        (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c3_1 (f32x4.add (local.get $c3_1)
        (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $pa (i32.add (local.get $pa) (i32.const 4)))
      (local.set $a1 (i32.add (local.get $a1) (i32.const 4)))
      (local.set $a2 (i32.add (local.get $a2) (i32.const 4)))
      (local.set $a3 (i32.add (local.get $a3) (i32.const 4)))
      (local.set $pb (i32.add (local.get $pb) (local.get $sb)))
      (br_if $p (i32.lt_u (local.get $pa) (local.get $end))))
    (v128.store offset=0 (local.get $pc)
      (f32x4.add (v128.load offset=0 (local.get $pc)) (local.get $c0_0)))
    (v128.store offset=16 (local.get $pc)
      (f32x4.add (v128.load offset=16 (local.get $pc)) (local.get $c0_1)))
    (local.set $pc (i32.add (local.get $pc) (local.get $sc)))
    (v128.store offset=0 (local.get $pc)
      (f32x4.add (v128.load offset=0 (local.get $pc)) (local.get $c1_0)))
    (v128.store offset=16 (local.get $pc)
      (f32x4.add (v128.load offset=16 (local.get $pc)) (local.get $c1_1)))
    (local.set $pc (i32.add (local.get $pc) (local.get $sc)))
    (v128.store offset=0 (local.get $pc)
      (f32x4.add (v128.load offset=0 (local.get $pc)) (local.get $c2_0)))
    (v128.store offset=16 (local.get $pc)
      (f32x4.add (v128.load offset=16 (local.get $pc)) (local.get $c2_1)))
    (local.set $pc (i32.add (local.get $pc) (local.get $sc)))
    (v128.store offset=0 (local.get $pc)
      (f32x4.add (v128.load offset=0 (local.get $pc)) (local.get $c3_0)))
    (v128.store offset=16 (local.get $pc)
      (f32x4.add (v128.load offset=16 (local.get $pc)) (local.get $c3_1)))
  )

  (func $t4x4
    (param $pa i32) (param $pb i32) (param $pc i32) (param $n i32)
    (param $sa i32) (param $sb i32) (param $sc i32)
    (local $end i32) (local $a1 i32) (local $a2 i32) (local $a3 i32)
    (local $c0_0 v128) (local $c1_0 v128) (local $c2_0 v128) (local $c3_0 v128)
    (local $b0 v128) (local $s v128)
    (local.set $a1 (i32.add (local.get $pa) (local.get $sa)))
    (local.set $a2 (i32.add (local.get $a1) (local.get $sa)))
    (local.set $a3 (i32.add (local.get $a2) (local.get $sa)))
    (local.set $end (i32.add (local.get $pa) (i32.shl (local.get $n) (i32.const 2))))
    (loop $p
      (local.set $b0 (v128.load offset=0 (local.get $pb)))
      (local.set $s (v128.load32_splat (local.get $pa)))
      (local.set $c0_0 (f32x4.add (local.get $c0_0)
        (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $s (v128.load32_splat (local.get $a1)))
      (local.set $c1_0 (f32x4.add (local.get $c1_0)
        (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $s (v128.load32_splat (local.get $a2)))
      (local.set $c2_0 (f32x4.add (local.get $c2_0)
        (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $s (v128.load32_splat (local.get $a3)))
      (local.set $c3_0 (f32x4.add (local.get $c3_0)
        (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $pa (i32.add (local.get $pa) (i32.const 4)))
      (local.set $a1 (i32.add (local.get $a1) (i32.const 4)))
      (local.set $a2 (i32.add (local.get $a2) (i32.const 4)))
      (local.set $a3 (i32.add (local.get $a3) (i32.const 4)))
      (local.set $pb (i32.add (local.get $pb) (local.get $sb)))
      (br_if $p (i32.lt_u (local.get $pa) (local.get $end))))
    (v128.store offset=0 (local.get $pc)
      (f32x4.add (v128.load offset=0 (local.get $pc)) (local.get $c0_0)))
    (local.set $pc (i32.add (local.get $pc) (local.get $sc)))
    (v128.store offset=0 (local.get $pc)
      (f32x4.add (v128.load offset=0 (local.get $pc)) (local.get $c1_0)))
    (local.set $pc (i32.add (local.get $pc) (local.get $sc)))
    (v128.store offset=0 (local.get $pc)
      (f32x4.add (v128.load offset=0 (local.get $pc)) (local.get $c2_0)))
    (local.set $pc (i32.add (local.get $pc) (local.get $sc)))
    (v128.store offset=0 (local.get $pc)
      (f32x4.add (v128.load offset=0 (local.get $pc)) (local.get $c3_0)))
  )

  (func $t1x8
    (param $pa i32) (param $pb i32) (param $pc i32) (param $n i32)
    (param $sa i32) (param $sb i32) (param $sc i32)
    (local $end i32)
    (local $c0_0 v128) (local $c0_1 v128)
    (local $b0 v128) (local $b1 v128) (local $s v128)
    (local.set $end (i32.add (local.get $pa) (i32.shl (local.get $n) (i32.const 2))))
    (loop $p
      (local.set $b0 (v128.load offset=0 (local.get $pb)))
      (local.set $b1 (v128.load offset=16 (local.get $pb)))
      (local.set $s (v128.load32_splat (local.get $pa)))
      (local.set $c0_0 (f32x4.add (local.get $c0_0)
        (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c0_1 (f32x4.add (local.get $c0_1)
        (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $pa (i32.add (local.get $pa) (i32.const 4)))
      (local.set $pb (i32.add (local.get $pb) (local.get $sb)))
      (br_if $p (i32.lt_u (local.get $pa) (local.get $end))))
    (v128.store offset=0 (local.get $pc)
      (f32x4.add (v128.load offset=0 (local.get $pc)) (local.get $c0_0)))
    (v128.store offset=16 (local.get $pc)
      (f32x4.add (v128.load offset=16 (local.get $pc)) (local.get $c0_1)))
  )

  (func $t1x4
    (param $pa i32) (param $pb i32) (param $pc i32) (param $n i32)
    (param $sa i32) (param $sb i32) (param $sc i32)
    (local $end i32)
    (local $c0_0 v128)
    (local $b0 v128) (local $s v128)
    (local.set $end (i32.add (local.get $pa) (i32.shl (local.get $n) (i32.const 2))))
    (loop $p
      (local.set $b0 (v128.load offset=0 (local.get $pb)))
      (local.set $s (v128.load32_splat (local.get $pa)))
      (local.set $c0_0 (f32x4.add (local.get $c0_0)
        (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $pa (i32.add (local.get $pa) (i32.const 4)))
      (local.set $pb (i32.add (local.get $pb) (local.get $sb)))
      (br_if $p (i32.lt_u (local.get $pa) (local.get $end))))
    (v128.store offset=0 (local.get $pc)
      (f32x4.add (v128.load offset=0 (local.get $pc)) (local.get $c0_0)))
  )

  ;; c [k, co] = a [k, p] @ b [p, co], all row-major float32 at byte offsets of the heap; co is
  ;; a positive multiple of 4, k and p positive, pblk (positions per block) positive.
  (func (export "gemm")
    (param $a i32) (param $b i32) (param $c i32) (param $k i32) (param $p i32) (param $co i32)
    (param $pblk i32)
    (local $sa i32) (local $sc i32) (local $p0 i32) (local $n i32) (local $r i32) (local $j i32)
    (local $ra i32) (local $rb i32) (local $rc i32)
    (local.set $sa (i32.shl (local.get $p) (i32.const 2)))
    (local.set $sc (i32.shl (local.get $co) (i32.const 2)))
    (memory.fill (local.get $c) (i32.const 0) (i32.mul (local.get $k) (local.get $sc)))
    (local.set $p0 (i32.const 0))
    (loop $blocks
      (local.set $n (i32.sub (local.get $p) (local.get $p0)))
      (if (i32.gt_u (local.get $n) (local.get $pblk)) (then (local.set $n (local.get $pblk))))
      (local.set $r (i32.const 0))
      ;; Groups of 4 rows: their block of a stays in L1 while it sweeps the block of b.
      (block $rowsR_done
        (loop $rowsR
          (br_if $rowsR_done (i32.gt_u (i32.add (local.get $r) (i32.const 4)) (local.get $k)))
          (local.set $ra (i32.add (local.get $a)
            (i32.shl (i32.add (i32.mul (local.get $r) (local.get $p)) (local.get $p0)) (i32.const 2))))
          (local.set $rb (i32.add (local.get $b) (i32.mul (local.get $p0) (local.get $sc))))
          (local.set $rc (i32.add (local.get $c) (i32.mul (local.get $r) (local.get $sc))))
          (local.set $j (i32.const 0))
          (block $cols_done
            (loop $cols
              (br_if $cols_done (i32.gt_u (i32.add (local.get $j) (i32.const 8)) (local.get $co)))
              (call $t4x8 (local.get $ra) (i32.add (local.get $rb) (i32.shl (local.get $j) (i32.const 2)))
                (i32.add (local.get $rc) (i32.shl (local.get $j) (i32.const 2)))
                (local.get $n) (local.get $sa) (local.get $sc) (local.get $sc))
              (local.set $j (i32.add (local.get $j) (i32.const 8)))
              (br $cols)))
          (block $cols4_done
            (loop $cols4
              (br_if $cols4_done (i32.ge_u (local.get $j) (local.get $co)))
              (call $t4x4 (local.get $ra) (i32.add (local.get $rb) (i32.shl (local.get $j) (i32.const 2)))
                (i32.add (local.get $rc) (i32.shl (local.get $j) (i32.const 2)))
                (local.get $n) (local.get $sa) (local.get $sc) (local.get $sc))
              (local.set $j (i32.add (local.get $j) (i32.const 4)))
              (br $cols4)))
          (local.set $r (i32.add (local.get $r) (i32.const 4)))
          (br $rowsR)))
      ;; The rows left, one at a time.
      (block $rows1_done
        (loop $rows1
          (br_if $rows1_done (i32.ge_u (local.get $r) (local.get $k)))
          (local.set $ra (i32.add (local.get $a)
            (i32.shl (i32.add (i32.mul (local.get $r) (local.get $p)) (local.get $p0)) (i32.const 2))))
          (local.set $rb (i32.add (local.get $b) (i32.mul (local.get $p0) (local.get $sc))))
          (local.set $rc (i32.add (local.get $c) (i32.mul (local.get $r) (local.get $sc))))
          (local.set $j (i32.const 0))
          (block $cols_done
            (loop $cols
              (br_if $cols_done (i32.gt_u (i32.add (local.get $j) (i32.const 8)) (local.get $co)))
              (call $t1x8 (local.get $ra) (i32.add (local.get $rb) (i32.shl (local.get $j) (i32.const 2)))
                (i32.add (local.get $rc) (i32.shl (local.get $j) (i32.const 2)))
                (local.get $n) (local.get $sa) (local.get $sc) (local.get $sc))
              (local.set $j (i32.add (local.get $j) (i32.const 8)))
              (br $cols)))
          (block $cols4_done
            (loop $cols4
              (br_if $cols4_done (i32.ge_u (local.get $j) (local.get $co)))
              (call $t1x4 (local.get $ra) (i32.add (local.get $rb) (i32.shl (local.get $j) (i32.const 2)))
                (i32.add (local.get $rc) (i32.shl (local.get $j) (i32.const 2)))
                (local.get $n) (local.get $sa) (local.get $sc) (local.get $sc))
              (local.set $j (i32.add (local.get $j) (i32.const 4)))
              (br $cols4)))
          (local.set $r (i32.add (local.get $r) (i32.const 1)))
          (br $rows1)))
      (local.set $p0 (i32.add (local.get $p0) (local.get $n)))
      (br_if $blocks (i32.lt_u (local.get $p0) (local.get $p))))
  )
)
