import { ChurnError } from '@churn/errors';
import type { FeatureSpec } from '@churn/model-bundle';

/** A Shapley player: one ungrouped feature, or all features sharing `group` (e.g. one-hot plan columns). */
export interface Player {
  /** Feature id, or group id; names the `contrib_<id>` column. */
  id: string;
  /** Indices into the model features, ascending. */
  features: number[];
  /** True when any member is actionable. */
  actionable: boolean;
  /** Reason template of the first member that has one. */
  reason?: string;
}

/**
 * The players of a bundle's feature list, in order of first appearance of each feature or group.
 * Grouped features play as one, so a one-hot category gets one Shapley value, not a sum of
 * per-column values that each describe an impossible row.
 */
export function playersOf(features: readonly FeatureSpec[]): Player[] {
  const players: Player[] = [];
  const byId = new Map<string, Player>();
  const ungrouped = new Set<string>();
  features.forEach((feature, index) => {
    const id = feature.group ?? feature.id;
    let player = byId.get(id);
    // A group named like an ungrouped feature would write two `contrib_<id>` columns of one name.
    if ((player && !feature.group) || (feature.group && ungrouped.has(id))) {
      throw new ChurnError('INVALID_BUNDLE', `feature "${feature.id}": explanation player "${id}" is defined twice (a feature id and a group share the name, or a feature id repeats); rename one`);
    }
    if (!player) {
      player = { id, features: [], actionable: false };
      byId.set(id, player);
      players.push(player);
      if (!feature.group) ungrouped.add(id);
    }
    player.features.push(index);
    player.actionable ||= feature.actionable;
    if (player.reason === undefined && feature.reason !== undefined) player.reason = feature.reason;
  });
  return players;
}

/**
 * Players flattened for hot loops: the features of player p are
 * `featureOf[start[p]] .. featureOf[start[p + 1] - 1]`.
 */
export interface PlayerLayout {
  readonly count: number;
  readonly start: Int32Array;
  readonly featureOf: Int32Array;
}

/**
 * Checks that the players partition the model features (every feature in exactly one player):
 * a feature outside every player would keep its baseline value in the full coalition, which then
 * would not be x, and f(x) from scoring could not be reused.
 */
export function playerLayout(players: readonly Player[], featureCount: number): PlayerLayout {
  if (players.length === 0) throw new ChurnError('INVALID_ARGUMENT', 'explanations need at least one player (feature or group)');
  const owner = new Int32Array(featureCount).fill(-1);
  const start = new Int32Array(players.length + 1);
  const featureOf = new Int32Array(featureCount);
  let next = 0;
  players.forEach((player, p) => {
    start[p] = next;
    if (player.features.length === 0) throw new ChurnError('INVALID_ARGUMENT', `player "${player.id}" has no features`);
    for (const f of player.features) {
      if (!Number.isInteger(f) || f < 0 || f >= featureCount) {
        throw new ChurnError('INVALID_ARGUMENT', `player "${player.id}" names feature index ${f}, but the model has ${featureCount} features`);
      }
      if (owner[f] !== -1) {
        throw new ChurnError('INVALID_ARGUMENT', `feature index ${f} belongs to players "${players[owner[f]!]!.id}" and "${player.id}"; each feature must belong to exactly one player`);
      }
      owner[f] = p;
      featureOf[next++] = f;
    }
  });
  start[players.length] = next;
  const missing = owner.indexOf(-1);
  if (missing !== -1) {
    throw new ChurnError('INVALID_ARGUMENT', `feature index ${missing} belongs to no player; the players must cover every model feature (use playersOf(manifest.features))`);
  }
  return { count: players.length, start, featureOf };
}

/**
 * Writes into `out` the players whose features in row `x` (offset `at` of `features`) differ from
 * the baseline, in player order, and returns how many. The others are null players for this row
 * (adding one leaves the model input unchanged), so their Shapley value is exactly 0 and leaving
 * them out of the game changes no other player's value, while saving their evaluations.
 */
export function differingPlayers(layout: PlayerLayout, features: Float32Array, at: number, baseline: Float32Array, out: Int32Array): number {
  const { start, featureOf, count } = layout;
  let n = 0;
  for (let p = 0; p < count; p++) {
    for (let q = start[p]!, end = start[p + 1]!; q < end; q++) {
      const f = featureOf[q]!;
      // `!==` also keeps NaN features in play: NaN never equals the baseline.
      if (features[at + f] !== baseline[f]) {
        out[n++] = p;
        break;
      }
    }
  }
  return n;
}
