;; The logits of every coalition of a one-hidden-layer ReLU network, for exact Shapley values
;; (dense-network.ts). Coalition m's hidden pre-activations are h(m) = h0 + sum of delta[p] over
;; the players p in m. Masks are visited in increasing order: mask m is mask m - 2^t with player
;; t = ctz(m) added to the prefix of its bits above t, so each costs one vector add from an
;; earlier coalition's values and none is more than n float32 additions away from h0 (no drift).
;; ptr[j] holds the address of h for the current mask's bits >= j. The add is fused with the
;; ReLU and the output layer's dot product, four hidden units at a time (f32x4).
;;
;; Memory (byte offsets from the caller, all 16-byte aligned; stride = 16 * h4):
;;   delta:  n vectors of stride bytes, player t's column sum at delta + t * stride
;;   levels: n vectors; level t holds h of the latest mask whose lowest bit is t
;;   h0:     one vector, the baseline's pre-activations (W1 b + b1)
;;   ptr:    n + 1 i32
;;   w2:     one vector, the output weights (padding lanes 0)
;;   out:    2^n f32, the logit of coalition m at out + 4 m
(module
  (memory (export "memory") 1)
  (func (export "walk")
    (param $n i32) (param $h4 i32) (param $delta i32) (param $levels i32) (param $h0 i32)
    (param $ptr i32) (param $w2 i32) (param $b2 f32) (param $out i32)
    (local $stride i32) (local $masks i32) (local $m i32) (local $t i32) (local $k i32) (local $j i32)
    (local $src i32) (local $dst i32) (local $d i32) (local $acc v128) (local $v v128)
    (local.set $stride (i32.shl (local.get $h4) (i32.const 4)))
    (local.set $masks (i32.shl (i32.const 1) (local.get $n)))
    ;; every prefix starts at h0
    (local.set $k (i32.const 0))
    (loop $init
      (i32.store (i32.add (local.get $ptr) (i32.shl (local.get $k) (i32.const 2))) (local.get $h0))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $init (i32.le_u (local.get $k) (local.get $n))))
    (local.set $m (i32.const 0))
    (loop $mask
      (local.set $acc (f32x4.splat (f32.const 0)))
      (if (i32.eqz (local.get $m))
        (then
          ;; the empty coalition: h0 itself
          (local.set $j (i32.const 0))
          (loop $empty
            (local.set $acc (f32x4.add (local.get $acc)
              (f32x4.mul (f32x4.max (v128.load (i32.add (local.get $h0) (local.get $j))) (f32x4.splat (f32.const 0)))
                         (v128.load (i32.add (local.get $w2) (local.get $j))))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br_if $empty (i32.lt_u (local.get $j) (local.get $stride)))))
        (else
          (local.set $t (i32.ctz (local.get $m)))
          (local.set $src (i32.load (i32.add (local.get $ptr) (i32.shl (i32.add (local.get $t) (i32.const 1)) (i32.const 2)))))
          (local.set $dst (i32.add (local.get $levels) (i32.mul (local.get $t) (local.get $stride))))
          (local.set $d (i32.add (local.get $delta) (i32.mul (local.get $t) (local.get $stride))))
          (local.set $j (i32.const 0))
          (loop $add
            (local.set $v (f32x4.add (v128.load (i32.add (local.get $src) (local.get $j)))
                                     (v128.load (i32.add (local.get $d) (local.get $j)))))
            (v128.store (i32.add (local.get $dst) (local.get $j)) (local.get $v))
            (local.set $acc (f32x4.add (local.get $acc)
              (f32x4.mul (f32x4.max (local.get $v) (f32x4.splat (f32.const 0)))
                         (v128.load (i32.add (local.get $w2) (local.get $j))))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br_if $add (i32.lt_u (local.get $j) (local.get $stride))))
          ;; the prefixes for bits 0..t are now this mask's
          (local.set $k (i32.const 0))
          (loop $prefix
            (i32.store (i32.add (local.get $ptr) (i32.shl (local.get $k) (i32.const 2))) (local.get $dst))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br_if $prefix (i32.le_u (local.get $k) (local.get $t))))))
      (f32.store (i32.add (local.get $out) (i32.shl (local.get $m) (i32.const 2)))
        (f32.add (local.get $b2)
          (f32.add (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
                   (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc))))))
      (local.set $m (i32.add (local.get $m) (i32.const 1)))
      (br_if $mask (i32.lt_u (local.get $m) (local.get $masks))))))
