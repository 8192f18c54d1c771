/**
 * clusterctl's scheduler: a pure function from a snapshot and pending work to a Plan.
 * See README.md in this folder for the pipeline, the vocabulary and the algorithm.
 */
export * from './types.js'
export {schedule, scheduleNaive} from './schedule.js'
export {rankNodesFor} from './rank.js'
export type {NodeRanking, RankedNode, RankOptions, RefusedNode} from './rank.js'
export {
  DEFAULT_PORT_RANGE,
  formatConstraint,
  HOSTNAME_FIELD,
  parseConstraint,
  parsePortRange,
  parsePreference,
  validateConstraint,
  validatePortRange,
  validatePreference,
} from './constraints.js'
export {FILTERS} from './filters.js'
export type {CompiledFilter, FilterPlugin, RejectionKind} from './filters.js'
export {STRATEGIES} from './scorers.js'
export type {StrategyScorer} from './scorers.js'
export {planConsolidation} from './consolidate.js'
export type {ConsolidationMove, ConsolidationPlan, RunningTask} from './consolidate.js'
