;; TreeSHAP's walk (tree-shap.ts) as WebAssembly: the inner loop of `--explain all` on tree
;; bundles. The algorithm and its proof are in tree-shap.ts; this is the same walk over a packed
;; node table, compiled once per thread. Compiled to tree-walk-wasm.ts by `npm run build:wasm`
;; (a spec checks that the committed bytes are this file's).
;;
;; Memory (byte addresses, laid out by tree-shap.ts):
;;   node table: 32 bytes per node, children as byte addresses of their records
;;     +0  i32  leaf: -1; split: feature * 4 | kind (0: x <= t, 1: x < t, 2: x == t)
;;     +4  i32  split: player * 8 (its byte offset in a row of phi, and its state slot)
;;     +8  f64  split: threshold; leaf: the leaf's value
;;     +16 i32  child when the test holds      +20 i32  child when it does not
;;     +24 i32  child of a missing (NaN) x     +28 i32  child the baseline row takes
;;   state: per player (at player * 8), one byte: 0 not met on this path, 1 in S, 2 out of S
;;   pathIn, pathOut: the players (as player * 8) required in S / outside S on this path
;;   wIn, wOut: f64 tables of Shapley weights, indexed by nIn * stride + nOut
(module
  (memory (export "memory") 1)
  (global $state (mut i32) (i32.const 0))
  (global $pathIn (mut i32) (i32.const 0))
  (global $pathOut (mut i32) (i32.const 0))
  (global $wIn (mut i32) (i32.const 0))
  (global $wOut (mut i32) (i32.const 0))
  (global $stride (mut i32) (i32.const 0))
  ;; The current row: its features' and its phi's byte addresses.
  (global $xAt (mut i32) (i32.const 0))
  (global $phiAt (mut i32) (i32.const 0))

  (func (export "setup") (param $state i32) (param $pathIn i32) (param $pathOut i32) (param $wIn i32) (param $wOut i32) (param $stride i32)
    (global.set $state (local.get $state))
    (global.set $pathIn (local.get $pathIn))
    (global.set $pathOut (local.get $pathOut))
    (global.set $wIn (local.get $wIn))
    (global.set $wOut (local.get $wOut))
    (global.set $stride (local.get $stride)))

  ;; Walks from $node with $nIn players required in S and $nOut required outside it.
  (func $walk (param $node i32) (param $nIn i32) (param $nOut i32)
    (local $split i32) (local $x f64) (local $t f64) (local $kind i32) (local $xc i32) (local $bc i32)
    (local $p i32) (local $side i32) (local $v f64) (local $plus f64) (local $minus f64) (local $i i32) (local $q i32) (local $w i32)
    (loop $next
      (local.set $split (i32.load (local.get $node)))
      (if (i32.lt_s (local.get $split) (i32.const 0))
        (then
          ;; A leaf: its value times the weight of (|A|, |B|), + for each player of A, - for B.
          (if (i32.eqz (i32.add (local.get $nIn) (local.get $nOut))) (then (return)))
          (local.set $v (f64.load offset=8 (local.get $node)))
          (local.set $w (i32.shl (i32.add (i32.mul (local.get $nIn) (global.get $stride)) (local.get $nOut)) (i32.const 3)))
          (local.set $plus (f64.mul (local.get $v) (f64.load (i32.add (global.get $wIn) (local.get $w)))))
          (local.set $minus (f64.mul (local.get $v) (f64.load (i32.add (global.get $wOut) (local.get $w)))))
          (local.set $i (i32.const 0))
          (block $inDone
            (loop $in
              (br_if $inDone (i32.ge_u (local.get $i) (local.get $nIn)))
              (local.set $q (i32.add (global.get $phiAt) (i32.load (i32.add (global.get $pathIn) (i32.shl (local.get $i) (i32.const 2))))))
              (f64.store (local.get $q) (f64.add (f64.load (local.get $q)) (local.get $plus)))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $in)))
          (local.set $i (i32.const 0))
          (block $outDone
            (loop $out
              (br_if $outDone (i32.ge_u (local.get $i) (local.get $nOut)))
              (local.set $q (i32.add (global.get $phiAt) (i32.load (i32.add (global.get $pathOut) (i32.shl (local.get $i) (i32.const 2))))))
              (f64.store (local.get $q) (f64.sub (f64.load (local.get $q)) (local.get $minus)))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $out)))
          (return)))
      ;; The child x takes: by the node's comparison (in f64, as the thresholds are stored), and
      ;; where it fails, NaN by its missing direction. Branching on the comparison first is 12%
      ;; faster than testing NaN first (docs/decisions.md).
      (local.set $x (f64.promote_f32 (f32.load (i32.add (global.get $xAt) (i32.and (local.get $split) (i32.const -4))))))
      (local.set $kind (i32.and (local.get $split) (i32.const 3)))
      (local.set $t (f64.load offset=8 (local.get $node)))
      (if
        (if (result i32) (i32.eqz (local.get $kind))
          (then (f64.le (local.get $x) (local.get $t)))
          (else
            (if (result i32) (i32.eq (local.get $kind) (i32.const 1))
              (then (f64.lt (local.get $x) (local.get $t)))
              (else (f64.eq (local.get $x) (local.get $t))))))
        (then (local.set $xc (i32.load offset=16 (local.get $node))))
        (else
          (local.set $xc (select (i32.load offset=24 (local.get $node)) (i32.load offset=20 (local.get $node)) (f64.ne (local.get $x) (local.get $x))))))
      (local.set $bc (i32.load offset=28 (local.get $node)))
      ;; x and the baseline agree: every coalition goes on together.
      (if (i32.eq (local.get $xc) (local.get $bc))
        (then
          (local.set $node (local.get $xc))
          (br $next)))
      ;; They part on a player met before on this path: it keeps its side.
      (local.set $p (i32.load offset=4 (local.get $node)))
      (local.set $side (i32.load8_u (i32.add (global.get $state) (local.get $p))))
      (if (local.get $side)
        (then
          (local.set $node (select (local.get $xc) (local.get $bc) (i32.eq (local.get $side) (i32.const 1))))
          (br $next)))
      ;; A new player: x's side with it in S, the baseline's side with it outside S.
      (i32.store8 (i32.add (global.get $state) (local.get $p)) (i32.const 1))
      (i32.store (i32.add (global.get $pathIn) (i32.shl (local.get $nIn) (i32.const 2))) (local.get $p))
      (call $walk (local.get $xc) (i32.add (local.get $nIn) (i32.const 1)) (local.get $nOut))
      (i32.store8 (i32.add (global.get $state) (local.get $p)) (i32.const 2))
      (i32.store (i32.add (global.get $pathOut) (i32.shl (local.get $nOut) (i32.const 2))) (local.get $p))
      (call $walk (local.get $bc) (local.get $nIn) (i32.add (local.get $nOut) (i32.const 1)))
      (i32.store8 (i32.add (global.get $state) (local.get $p)) (i32.const 0))
      (return)))

  ;; Adds the values of $rows rows (features f32, $rowBytes apart; phi f64, $phiBytes apart) into
  ;; phi, tree by tree over all the rows: consecutive walks take the same tree's branches.
  (func (export "rows") (param $roots i32) (param $trees i32) (param $features i32) (param $rows i32) (param $rowBytes i32) (param $phi i32) (param $phiBytes i32)
    (local $t i32) (local $r i32) (local $root i32)
    (block $treesDone
      (loop $tree
        (br_if $treesDone (i32.ge_u (local.get $t) (local.get $trees)))
        (local.set $root (i32.load (i32.add (local.get $roots) (i32.shl (local.get $t) (i32.const 2)))))
        (local.set $r (i32.const 0))
        (block $rowsDone
          (loop $row
            (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
            (global.set $xAt (i32.add (local.get $features) (i32.mul (local.get $r) (local.get $rowBytes))))
            (global.set $phiAt (i32.add (local.get $phi) (i32.mul (local.get $r) (local.get $phiBytes))))
            (call $walk (local.get $root) (i32.const 0) (i32.const 0))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $row)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $tree)))))
