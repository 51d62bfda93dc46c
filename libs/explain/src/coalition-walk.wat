;; The logits of every coalition of a one-hidden-layer ReLU network, for exact Shapley values
;; (dense-network.ts), and then the coalitions' values in the explanation's output space.
;;
;; walk: coalition m's hidden pre-activations are h(m) = h0 + sum of delta[p] over the players p
;; in m. Masks are visited in increasing order, four at a time: for a mask m whose two lowest bits
;; are clear, h(m) = h(m - 2^t) + delta[t] with t = ctz(m) (the prefix of its bits above t, kept
;; in ptr), then h(m + 1) = h(m) + delta[0], h(m + 2) = h(m) + delta[1] and h(m + 3) =
;; h(m + 2) + delta[0]. Every h is an earlier one plus one column, in the order of the mask's bits
;; from the highest down, so none is more than n float32 additions away from h0 (no drift), and
;; the four share their loads. The adds are fused with the ReLU and the output layer's dot
;; product, four hidden units at a time (f32x4). The ReLU is a mask, w * h where h > 0 and 0
;; elsewhere, the same products as max(h, 0) * w: f32x4.max's NaN and signed-zero rules cost
;; several instructions on x86, a compare and an and cost two. Needs n >= 2.
;;
;; Memory (byte offsets from the caller, all 16-byte aligned; stride = 16 * h4):
;;   delta:  n vectors of stride bytes, player t's column sum at delta + t * stride
;;   levels: n vectors; level t holds h of the latest mask whose lowest bit is t (t >= 2; level 0
;;           is scratch for the empty coalition)
;;   h0:     one vector, the baseline's pre-activations (W1 b + b1)
;;   zero:   one vector of zeros (the empty coalition adds it to h0)
;;   ptr:    n + 1 i32
;;   w2:     one vector, the output weights (padding lanes 0)
;;   out:    2^n f32, the logit of coalition m at out + 4 m
;;
;; chain: the logits along `walks` walks of `steps` players each, for sampling Shapley's
;; permutations: walk w starts at h0 and adds player orders[w * steps + s]'s column at step s
;; (delta + player * stride), keeping h in the vector at h; the logit after step s goes to
;; out + 4 (w * steps + s). A point is at most `steps` float32 additions away from h0.
;;
;; values: `count` (even) logits at src as float64 values at dst (8-byte slots): the probability
;; 1 / (1 + e^-z), or in logit space z clamped to [-limit, limit]. e^x comes from x = k ln 2 + r,
;; |r| <= ln 2 / 2, a degree-11 Taylor polynomial of e^r (error below 1e-14 relative) and 2^k
;; built in the exponent bits, two values at a time (f64x2).
(module
  (memory (export "memory") 1)
  (func (export "walk")
    (param $n i32) (param $h4 i32) (param $delta i32) (param $levels i32) (param $h0 i32)
    (param $zero i32) (param $ptr i32) (param $w2 i32) (param $b2 f32) (param $out i32)
    (local $stride i32) (local $masks i32) (local $m i32) (local $t i32) (local $k i32) (local $j i32)
    (local $src i32) (local $dst i32) (local $d i32) (local $d0 i32) (local $d1 i32) (local $o i32)
    (local $acc0 v128) (local $acc1 v128) (local $acc2 v128) (local $acc3 v128)
    (local $v v128) (local $v2 v128) (local $va v128) (local $v2a v128) (local $a v128) (local $w v128) (local $zeros v128)
    (local.set $stride (i32.shl (local.get $h4) (i32.const 4)))
    (local.set $masks (i32.shl (i32.const 1) (local.get $n)))
    (local.set $d0 (local.get $delta))
    (local.set $d1 (i32.add (local.get $delta) (local.get $stride)))
    ;; every prefix starts at h0
    (local.set $k (i32.const 0))
    (loop $init
      (i32.store (i32.add (local.get $ptr) (i32.shl (local.get $k) (i32.const 2))) (local.get $h0))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $init (i32.le_u (local.get $k) (local.get $n))))
    (local.set $m (i32.const 0))
    (loop $mask
      (if (i32.eqz (local.get $m))
        (then
          ;; the empty coalition: h0 itself (plus zeros), into the scratch level
          (local.set $t (i32.const 0))
          (local.set $src (local.get $h0))
          (local.set $d (local.get $zero)))
        (else
          (local.set $t (i32.ctz (local.get $m)))
          (local.set $src (i32.load (i32.add (local.get $ptr) (i32.shl (i32.add (local.get $t) (i32.const 1)) (i32.const 2)))))
          (local.set $d (i32.add (local.get $delta) (i32.mul (local.get $t) (local.get $stride))))))
      (local.set $dst (i32.add (local.get $levels) (i32.mul (local.get $t) (local.get $stride))))
      (local.set $acc0 (f32x4.splat (f32.const 0)))
      (local.set $acc1 (f32x4.splat (f32.const 0)))
      (local.set $acc2 (f32x4.splat (f32.const 0)))
      (local.set $acc3 (f32x4.splat (f32.const 0)))
      (local.set $j (i32.const 0))
      (loop $add
        (local.set $v (f32x4.add (v128.load (i32.add (local.get $src) (local.get $j)))
                                 (v128.load (i32.add (local.get $d) (local.get $j)))))
        (v128.store (i32.add (local.get $dst) (local.get $j)) (local.get $v))
        (local.set $w (v128.load (i32.add (local.get $w2) (local.get $j))))
        (local.set $a (v128.load (i32.add (local.get $d0) (local.get $j))))
        (local.set $v2 (f32x4.add (local.get $v) (v128.load (i32.add (local.get $d1) (local.get $j)))))
        (local.set $va (f32x4.add (local.get $v) (local.get $a)))
        (local.set $v2a (f32x4.add (local.get $v2) (local.get $a)))
        (local.set $acc0 (f32x4.add (local.get $acc0) (v128.and (f32x4.mul (local.get $v) (local.get $w)) (f32x4.gt (local.get $v) (local.get $zeros)))))
        (local.set $acc1 (f32x4.add (local.get $acc1) (v128.and (f32x4.mul (local.get $va) (local.get $w)) (f32x4.gt (local.get $va) (local.get $zeros)))))
        (local.set $acc2 (f32x4.add (local.get $acc2) (v128.and (f32x4.mul (local.get $v2) (local.get $w)) (f32x4.gt (local.get $v2) (local.get $zeros)))))
        (local.set $acc3 (f32x4.add (local.get $acc3) (v128.and (f32x4.mul (local.get $v2a) (local.get $w)) (f32x4.gt (local.get $v2a) (local.get $zeros)))))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br_if $add (i32.lt_u (local.get $j) (local.get $stride))))
      ;; the prefixes for bits 0..t are now this mask's (the empty coalition's are h0 already)
      (if (local.get $m)
        (then
          (local.set $k (i32.const 0))
          (loop $prefix
            (i32.store (i32.add (local.get $ptr) (i32.shl (local.get $k) (i32.const 2))) (local.get $dst))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br_if $prefix (i32.le_u (local.get $k) (local.get $t))))))
      (local.set $o (i32.add (local.get $out) (i32.shl (local.get $m) (i32.const 2))))
      (f32.store offset=0 (local.get $o) (f32.add (local.get $b2) (f32.add (f32.add (f32x4.extract_lane 0 (local.get $acc0)) (f32x4.extract_lane 1 (local.get $acc0))) (f32.add (f32x4.extract_lane 2 (local.get $acc0)) (f32x4.extract_lane 3 (local.get $acc0))))))
      (f32.store offset=4 (local.get $o) (f32.add (local.get $b2) (f32.add (f32.add (f32x4.extract_lane 0 (local.get $acc1)) (f32x4.extract_lane 1 (local.get $acc1))) (f32.add (f32x4.extract_lane 2 (local.get $acc1)) (f32x4.extract_lane 3 (local.get $acc1))))))
      (f32.store offset=8 (local.get $o) (f32.add (local.get $b2) (f32.add (f32.add (f32x4.extract_lane 0 (local.get $acc2)) (f32x4.extract_lane 1 (local.get $acc2))) (f32.add (f32x4.extract_lane 2 (local.get $acc2)) (f32x4.extract_lane 3 (local.get $acc2))))))
      (f32.store offset=12 (local.get $o) (f32.add (local.get $b2) (f32.add (f32.add (f32x4.extract_lane 0 (local.get $acc3)) (f32x4.extract_lane 1 (local.get $acc3))) (f32.add (f32x4.extract_lane 2 (local.get $acc3)) (f32x4.extract_lane 3 (local.get $acc3))))))
      (local.set $m (i32.add (local.get $m) (i32.const 4)))
      (br_if $mask (i32.lt_u (local.get $m) (local.get $masks)))))

  (func (export "chain")
    (param $h4 i32) (param $delta i32) (param $orders i32) (param $walks i32) (param $steps i32)
    (param $h0 i32) (param $h i32) (param $w2 i32) (param $b2 f32) (param $out i32)
    (local $stride i32) (local $w i32) (local $s i32) (local $i i32) (local $j i32)
    (local $src i32) (local $d i32) (local $acc v128) (local $v v128)
    (local.set $stride (i32.shl (local.get $h4) (i32.const 4)))
    (local.set $i (i32.const 0))
    (local.set $w (i32.const 0))
    (block $done
      (br_if $done (i32.or (i32.eqz (local.get $walks)) (i32.eqz (local.get $steps))))
      (loop $walk
        (local.set $src (local.get $h0))
        (local.set $s (i32.const 0))
        (loop $step
          (local.set $d (i32.add (local.get $delta)
            (i32.mul (i32.load (i32.add (local.get $orders) (i32.shl (local.get $i) (i32.const 2)))) (local.get $stride))))
          (local.set $acc (f32x4.splat (f32.const 0)))
          (local.set $j (i32.const 0))
          (loop $add
            (local.set $v (f32x4.add (v128.load (i32.add (local.get $src) (local.get $j)))
                                     (v128.load (i32.add (local.get $d) (local.get $j)))))
            (v128.store (i32.add (local.get $h) (local.get $j)) (local.get $v))
            (local.set $acc (f32x4.add (local.get $acc)
              (v128.and (f32x4.mul (local.get $v) (v128.load (i32.add (local.get $w2) (local.get $j))))
                        (f32x4.gt (local.get $v) (f32x4.splat (f32.const 0))))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br_if $add (i32.lt_u (local.get $j) (local.get $stride))))
          (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
            (f32.add (local.get $b2) (f32.add (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc))) (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc))))))
          (local.set $src (local.get $h))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (local.set $s (i32.add (local.get $s) (i32.const 1)))
          (br_if $step (i32.lt_u (local.get $s) (local.get $steps))))
        (local.set $w (i32.add (local.get $w) (i32.const 1)))
        (br_if $walk (i32.lt_u (local.get $w) (local.get $walks))))))

  ;; e^x inline, for x = -z clamped to [-708, 708]: x = k ln 2 + r (ln 2 in two parts so that
  ;; k * hi is exact), e^r = 1 + r + ... + r^11/11! evaluated by Estrin's scheme (independent
  ;; products in flight rather than Horner's chain of 11), times 2^k built as (k + 1023) << 52.
  (func (export "values") (param $src i32) (param $count i32) (param $dst i32) (param $logit i32) (param $limit f64)
    (local $i i32) (local $z v128) (local $y v128) (local $lo v128) (local $hi v128) (local $xa v128) (local $ka v128) (local $ra v128) (local $r2a v128) (local $r4a v128) (local $xb v128) (local $kb v128) (local $rb v128) (local $r2b v128) (local $r4b v128)
    (local.set $i (i32.const 0))
    (if (local.get $logit)
      (then
        (local.set $lo (f64x2.splat (f64.neg (local.get $limit))))
        (local.set $hi (f64x2.splat (local.get $limit)))
        (loop $pair
          (v128.store (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 3)))
            (f64x2.min (f64x2.max (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2)))))
                                  (local.get $lo))
                       (local.get $hi)))
          (local.set $i (i32.add (local.get $i) (i32.const 2)))
          (br_if $pair (i32.lt_u (local.get $i) (local.get $count)))))
      (else
        (local.set $lo (f64x2.splat (f64.const -708)))
        (local.set $hi (f64x2.splat (f64.const 708)))
        ;; four values a pass, two f64x2 in flight
        (block $tail
          (br_if $tail (i32.lt_u (local.get $count) (i32.const 4)))
          (loop $quad
            (local.set $z (v128.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2)))))
            (local.set $y (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $z) (local.get $z))))
            (local.set $z (f64x2.promote_low_f32x4 (local.get $z)))
            (local.set $xa (f64x2.min (f64x2.max (f64x2.neg (local.get $z)) (local.get $lo)) (local.get $hi)))
            (local.set $xb (f64x2.min (f64x2.max (f64x2.neg (local.get $y)) (local.get $lo)) (local.get $hi)))
            (local.set $ka (f64x2.nearest (f64x2.mul (local.get $xa) (f64x2.splat (f64.const 1.4426950408889634)))))
            (local.set $kb (f64x2.nearest (f64x2.mul (local.get $xb) (f64x2.splat (f64.const 1.4426950408889634)))))
            (local.set $ra (f64x2.sub (f64x2.sub (local.get $xa) (f64x2.mul (local.get $ka) (f64x2.splat (f64.const 0.6931471803691238)))) (f64x2.mul (local.get $ka) (f64x2.splat (f64.const 1.9082149292705877e-10)))))
            (local.set $rb (f64x2.sub (f64x2.sub (local.get $xb) (f64x2.mul (local.get $kb) (f64x2.splat (f64.const 0.6931471803691238)))) (f64x2.mul (local.get $kb) (f64x2.splat (f64.const 1.9082149292705877e-10)))))
            (local.set $r2a (f64x2.mul (local.get $ra) (local.get $ra)))
            (local.set $r2b (f64x2.mul (local.get $rb) (local.get $rb)))
            (local.set $r4a (f64x2.mul (local.get $r2a) (local.get $r2a)))
            (local.set $r4b (f64x2.mul (local.get $r2b) (local.get $r2b)))
            (v128.store (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 3))) (f64x2.div (f64x2.splat (f64.const 1)) (f64x2.add (f64x2.splat (f64.const 1)) (f64x2.mul (f64x2.add (f64x2.add (f64x2.add (f64x2.add (f64x2.splat (f64.const 1)) (f64x2.mul (f64x2.splat (f64.const 1)) (local.get $ra))) (f64x2.mul (f64x2.add (f64x2.splat (f64.const 0.5)) (f64x2.mul (f64x2.splat (f64.const 0.16666666666666666)) (local.get $ra))) (local.get $r2a))) (f64x2.mul (f64x2.add (f64x2.add (f64x2.splat (f64.const 4.1666666666666664e-2)) (f64x2.mul (f64x2.splat (f64.const 8.333333333333333e-3)) (local.get $ra))) (f64x2.mul (f64x2.add (f64x2.splat (f64.const 1.388888888888889e-3)) (f64x2.mul (f64x2.splat (f64.const 1.984126984126984e-4)) (local.get $ra))) (local.get $r2a))) (local.get $r4a))) (f64x2.mul (f64x2.add (f64x2.add (f64x2.splat (f64.const 2.48015873015873e-5)) (f64x2.mul (f64x2.splat (f64.const 2.7557319223985893e-6)) (local.get $ra))) (f64x2.mul (f64x2.add (f64x2.splat (f64.const 2.755731922398589e-7)) (f64x2.mul (f64x2.splat (f64.const 2.505210838544172e-8)) (local.get $ra))) (local.get $r2a))) (f64x2.mul (local.get $r4a) (local.get $r4a)))) (i64x2.shl (i64x2.add (i64x2.extend_low_i32x4_s (i32x4.trunc_sat_f64x2_s_zero (local.get $ka))) (i64x2.splat (i64.const 1023))) (i32.const 52))))))
            (v128.store offset=16 (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 3))) (f64x2.div (f64x2.splat (f64.const 1)) (f64x2.add (f64x2.splat (f64.const 1)) (f64x2.mul (f64x2.add (f64x2.add (f64x2.add (f64x2.add (f64x2.splat (f64.const 1)) (f64x2.mul (f64x2.splat (f64.const 1)) (local.get $rb))) (f64x2.mul (f64x2.add (f64x2.splat (f64.const 0.5)) (f64x2.mul (f64x2.splat (f64.const 0.16666666666666666)) (local.get $rb))) (local.get $r2b))) (f64x2.mul (f64x2.add (f64x2.add (f64x2.splat (f64.const 4.1666666666666664e-2)) (f64x2.mul (f64x2.splat (f64.const 8.333333333333333e-3)) (local.get $rb))) (f64x2.mul (f64x2.add (f64x2.splat (f64.const 1.388888888888889e-3)) (f64x2.mul (f64x2.splat (f64.const 1.984126984126984e-4)) (local.get $rb))) (local.get $r2b))) (local.get $r4b))) (f64x2.mul (f64x2.add (f64x2.add (f64x2.splat (f64.const 2.48015873015873e-5)) (f64x2.mul (f64x2.splat (f64.const 2.7557319223985893e-6)) (local.get $rb))) (f64x2.mul (f64x2.add (f64x2.splat (f64.const 2.755731922398589e-7)) (f64x2.mul (f64x2.splat (f64.const 2.505210838544172e-8)) (local.get $rb))) (local.get $r2b))) (f64x2.mul (local.get $r4b) (local.get $r4b)))) (i64x2.shl (i64x2.add (i64x2.extend_low_i32x4_s (i32x4.trunc_sat_f64x2_s_zero (local.get $kb))) (i64x2.splat (i64.const 1023))) (i32.const 52))))))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br_if $quad (i32.le_u (i32.add (local.get $i) (i32.const 4)) (local.get $count)))))
        (if (i32.lt_u (local.get $i) (local.get $count))
          (then
              (local.set $xa (f64x2.min (f64x2.max (f64x2.neg (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2)))))) (local.get $lo)) (local.get $hi)))
              (local.set $ka (f64x2.nearest (f64x2.mul (local.get $xa) (f64x2.splat (f64.const 1.4426950408889634)))))
              (local.set $ra (f64x2.sub (f64x2.sub (local.get $xa) (f64x2.mul (local.get $ka) (f64x2.splat (f64.const 0.6931471803691238)))) (f64x2.mul (local.get $ka) (f64x2.splat (f64.const 1.9082149292705877e-10)))))
              (local.set $r2a (f64x2.mul (local.get $ra) (local.get $ra)))
              (local.set $r4a (f64x2.mul (local.get $r2a) (local.get $r2a)))
            (v128.store (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 3))) (f64x2.div (f64x2.splat (f64.const 1)) (f64x2.add (f64x2.splat (f64.const 1)) (f64x2.mul (f64x2.add (f64x2.add (f64x2.add (f64x2.add (f64x2.splat (f64.const 1)) (f64x2.mul (f64x2.splat (f64.const 1)) (local.get $ra))) (f64x2.mul (f64x2.add (f64x2.splat (f64.const 0.5)) (f64x2.mul (f64x2.splat (f64.const 0.16666666666666666)) (local.get $ra))) (local.get $r2a))) (f64x2.mul (f64x2.add (f64x2.add (f64x2.splat (f64.const 4.1666666666666664e-2)) (f64x2.mul (f64x2.splat (f64.const 8.333333333333333e-3)) (local.get $ra))) (f64x2.mul (f64x2.add (f64x2.splat (f64.const 1.388888888888889e-3)) (f64x2.mul (f64x2.splat (f64.const 1.984126984126984e-4)) (local.get $ra))) (local.get $r2a))) (local.get $r4a))) (f64x2.mul (f64x2.add (f64x2.add (f64x2.splat (f64.const 2.48015873015873e-5)) (f64x2.mul (f64x2.splat (f64.const 2.7557319223985893e-6)) (local.get $ra))) (f64x2.mul (f64x2.add (f64x2.splat (f64.const 2.755731922398589e-7)) (f64x2.mul (f64x2.splat (f64.const 2.505210838544172e-8)) (local.get $ra))) (local.get $r2a))) (f64x2.mul (local.get $r4a) (local.get $r4a)))) (i64x2.shl (i64x2.add (i64x2.extend_low_i32x4_s (i32x4.trunc_sat_f64x2_s_zero (local.get $ka))) (i64x2.splat (i64.const 1023))) (i32.const 52)))))))))))

  ;; shapley: every active player's Shapley value from the 2^n coalition values at $value (f64,
  ;; overwritten), as exact-shapley.ts's shapleyFromValues documents: c(S) = v(S) coef(|S|) and
  ;; B = sum of v(S) outside(|S|) (coef and outside: n + 1 f64 each, by coalition size), then n
  ;; halvings, entries 2j and 2j + 1 differing in the lowest remaining player, whose sum over the
  ;; odd entries less B is that player's value. Values within share * max |v| of 0 are rounding
  ;; and written as 0. phi: n f64. Two masks at a time (f64x2); needs n >= 2.
  (func (export "shapley") (param $n i32) (param $value i32) (param $coef i32) (param $outside i32) (param $phi i32) (param $share f64)
    (local $masks i32) (local $m i32) (local $at i32) (local $s i32) (local $q i32) (local $j i32)
    (local $v v128) (local $base v128) (local $scale v128) (local $a v128) (local $b v128) (local $odd v128) (local $holding v128)
    (local $rounding f64) (local $c f64)
    (local.set $masks (i32.shl (i32.const 1) (local.get $n)))
    (local.set $m (i32.const 0))
    (loop $first
      ;; masks m (even) and m + 1 have sizes s and s + 1: their weights are adjacent
      (local.set $at (i32.add (local.get $value) (i32.shl (local.get $m) (i32.const 3))))
      (local.set $s (i32.shl (i32.popcnt (local.get $m)) (i32.const 3)))
      (local.set $v (v128.load (local.get $at)))
      (local.set $base (f64x2.add (local.get $base) (f64x2.mul (local.get $v) (v128.load (i32.add (local.get $outside) (local.get $s))))))
      (local.set $scale (f64x2.max (local.get $scale) (f64x2.abs (local.get $v))))
      (v128.store (local.get $at) (f64x2.mul (local.get $v) (v128.load (i32.add (local.get $coef) (local.get $s)))))
      (local.set $m (i32.add (local.get $m) (i32.const 2)))
      (br_if $first (i32.lt_u (local.get $m) (local.get $masks))))
    (local.set $rounding (f64.mul (local.get $share)
      (f64.max (f64x2.extract_lane 0 (local.get $scale)) (f64x2.extract_lane 1 (local.get $scale)))))
    (local.set $base (f64x2.splat (f64.add (f64x2.extract_lane 0 (local.get $base)) (f64x2.extract_lane 1 (local.get $base)))))
    (local.set $q (i32.const 0))
    (loop $halve
      (local.set $masks (i32.shr_u (local.get $masks) (i32.const 1)))
      (local.set $holding (f64x2.splat (f64.const 0)))
      (if (i32.eq (local.get $masks) (i32.const 1))
        (then
          ;; the last halving: one pair
          (local.set $holding (f64x2.splat (f64.load offset=8 (local.get $value))))
          (f64.store (local.get $value) (f64.add (f64.load (local.get $value)) (f64.load offset=8 (local.get $value)))))
        (else
          (local.set $j (i32.const 0))
          (loop $pairs
            ;; entries 4i .. 4i + 3 become 2i, 2i + 1
            (local.set $at (i32.add (local.get $value) (i32.shl (local.get $j) (i32.const 4))))
            (local.set $a (v128.load (local.get $at)))
            (local.set $b (v128.load offset=16 (local.get $at)))
            (local.set $odd (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $a) (local.get $b)))
            (local.set $holding (f64x2.add (local.get $holding) (local.get $odd)))
            (v128.store (i32.add (local.get $value) (i32.shl (local.get $j) (i32.const 3)))
              (f64x2.add (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $a) (local.get $b)) (local.get $odd)))
            (local.set $j (i32.add (local.get $j) (i32.const 2)))
            (br_if $pairs (i32.lt_u (local.get $j) (local.get $masks))))
          (local.set $holding (f64x2.splat (f64.add (f64x2.extract_lane 0 (local.get $holding)) (f64x2.extract_lane 1 (local.get $holding)))))))
      (local.set $c (f64.sub (f64x2.extract_lane 0 (local.get $holding)) (f64x2.extract_lane 0 (local.get $base))))
      (f64.store (i32.add (local.get $phi) (i32.shl (local.get $q) (i32.const 3)))
        (select (f64.const 0) (local.get $c) (f64.le (f64.abs (local.get $c)) (local.get $rounding))))
      (local.set $q (i32.add (local.get $q) (i32.const 1)))
      (br_if $halve (i32.lt_u (local.get $q) (local.get $n)))))
)
