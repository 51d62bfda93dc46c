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
;; product, four hidden units at a time (f32x4). Needs n >= 2.
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
    (local $v v128) (local $v2 v128) (local $a v128) (local $w v128)
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
        (local.set $acc0 (f32x4.add (local.get $acc0)
          (f32x4.mul (f32x4.max (local.get $v) (f32x4.splat (f32.const 0))) (local.get $w))))
        (local.set $acc1 (f32x4.add (local.get $acc1)
          (f32x4.mul (f32x4.max (f32x4.add (local.get $v) (local.get $a)) (f32x4.splat (f32.const 0))) (local.get $w))))
        (local.set $acc2 (f32x4.add (local.get $acc2)
          (f32x4.mul (f32x4.max (local.get $v2) (f32x4.splat (f32.const 0))) (local.get $w))))
        (local.set $acc3 (f32x4.add (local.get $acc3)
          (f32x4.mul (f32x4.max (f32x4.add (local.get $v2) (local.get $a)) (f32x4.splat (f32.const 0))) (local.get $w))))
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
      (f32.store offset=0 (local.get $o) (f32.add (local.get $b2) (call $lanes (local.get $acc0))))
      (f32.store offset=4 (local.get $o) (f32.add (local.get $b2) (call $lanes (local.get $acc1))))
      (f32.store offset=8 (local.get $o) (f32.add (local.get $b2) (call $lanes (local.get $acc2))))
      (f32.store offset=12 (local.get $o) (f32.add (local.get $b2) (call $lanes (local.get $acc3))))
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
              (f32x4.mul (f32x4.max (local.get $v) (f32x4.splat (f32.const 0)))
                         (v128.load (i32.add (local.get $w2) (local.get $j))))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br_if $add (i32.lt_u (local.get $j) (local.get $stride))))
          (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
            (f32.add (local.get $b2) (call $lanes (local.get $acc))))
          (local.set $src (local.get $h))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (local.set $s (i32.add (local.get $s) (i32.const 1)))
          (br_if $step (i32.lt_u (local.get $s) (local.get $steps))))
        (local.set $w (i32.add (local.get $w) (i32.const 1)))
        (br_if $walk (i32.lt_u (local.get $w) (local.get $walks))))))

  ;; (l0 + l1) + (l2 + l3) of a f32x4
  (func $lanes (param $acc v128) (result f32)
    (f32.add (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
             (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))

  ;; e^x, two lanes at a time, for |x| <= 708 (the caller clamps)
  (func $exp (param $x v128) (result v128)
    (local $k v128) (local $r v128) (local $p v128)
    (local.set $k (f64x2.nearest (f64x2.mul (local.get $x) (f64x2.splat (f64.const 1.4426950408889634)))))
    ;; r = x - k ln 2, with ln 2 in two parts so that k * hi is exact
    (local.set $r (f64x2.sub (f64x2.sub (local.get $x) (f64x2.mul (local.get $k) (f64x2.splat (f64.const 0.6931471803691238))))
                             (f64x2.mul (local.get $k) (f64x2.splat (f64.const 1.9082149292705877e-10)))))
    ;; 1 + r + r^2/2! + ... + r^11/11!, Horner
    (local.set $p (f64x2.splat (f64.const 2.505210838544172e-8)))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r)) (f64x2.splat (f64.const 2.755731922398589e-7))))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r)) (f64x2.splat (f64.const 2.7557319223985893e-6))))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r)) (f64x2.splat (f64.const 2.48015873015873e-5))))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r)) (f64x2.splat (f64.const 1.984126984126984e-4))))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r)) (f64x2.splat (f64.const 1.388888888888889e-3))))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r)) (f64x2.splat (f64.const 8.333333333333333e-3))))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r)) (f64x2.splat (f64.const 4.1666666666666664e-2))))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r)) (f64x2.splat (f64.const 0.16666666666666666))))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r)) (f64x2.splat (f64.const 0.5))))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r)) (f64x2.splat (f64.const 1))))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r)) (f64x2.splat (f64.const 1))))
    ;; times 2^k: (k + 1023) << 52 as the bits of a double
    (f64x2.mul (local.get $p)
      (i64x2.shl
        (i64x2.add (i64x2.extend_low_i32x4_s (i32x4.trunc_sat_f64x2_s_zero (local.get $k))) (i64x2.splat (i64.const 1023)))
        (i32.const 52))))

  (func (export "values") (param $src i32) (param $count i32) (param $dst i32) (param $logit i32) (param $limit f64)
    (local $i i32) (local $z v128)
    (local.set $i (i32.const 0))
    (loop $pair
      (local.set $z (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2))))))
      (v128.store (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 3)))
        (if (result v128) (local.get $logit)
          (then (f64x2.min (f64x2.max (local.get $z) (f64x2.splat (f64.neg (local.get $limit)))) (f64x2.splat (local.get $limit))))
          (else
            (f64x2.div (f64x2.splat (f64.const 1))
              (f64x2.add (f64x2.splat (f64.const 1))
                (call $exp (f64x2.min (f64x2.max (f64x2.neg (local.get $z)) (f64x2.splat (f64.const -708))) (f64x2.splat (f64.const 708)))))))))
      (local.set $i (i32.add (local.get $i) (i32.const 2)))
      (br_if $pair (i32.lt_u (local.get $i) (local.get $count))))))
