/**
 * Node health from heartbeats: a pure function of the node's record, what this
 * pass's observation said, and the time.
 *
 * Every pass sends each node one command whose first output line is its heartbeat.
 * - answered: the node takes the state its operator asked for (ready, cordoned, draining).
 * - missed once: suspect. It takes no new work; its tasks stay where they are.
 * - missed at least `missesToDown` times in a row AND silent for `downAfterMs`: down
 *   (nothing answered: a crash, a network partition) or unreachable (the host answered
 *   but refused us: sshd down, authentication, host key). Its tasks become
 *   `unreachable` and are replaced elsewhere.
 * - inconclusive (the controller itself was stalled, or could reach no node at all):
 *   nothing changes. A busy or disconnected controller raises no false alarms.
 */
import type {HeartbeatPatch, Node, NodeState, NodeUsage} from '../model/node.js'
import {recordLatency} from './detector.js'

export interface HeartbeatSettings {
  /** Silence after which a node that keeps missing heartbeats is down. Default 4 s. */
  downAfterMs: number
  /** Consecutive missed heartbeats before down. Default 2. */
  missesToDown: number
}

export const DEFAULT_HEARTBEAT: Readonly<HeartbeatSettings> = Object.freeze({downAfterMs: 4_000, missesToDown: 2})

export type HeartbeatOutcome =
  /** `latencyMs`: from sending the command to its heartbeat line (null when not measured). */
  | {kind: 'answered'; usage: Omit<NodeUsage, 'at'> | null; latencyMs?: number | null}
  /** `refused`: the host answered but would not run our command (sshd down, auth, host key). */
  | {kind: 'missed'; refused: boolean; error: string}
  | {kind: 'inconclusive'; why: string}

export interface NodeTransition {
  from: NodeState
  to: NodeState
  reason: string
}

export interface HeartbeatJudgement {
  patch: HeartbeatPatch
  transition: NodeTransition | null
}

type NodeRecord = Pick<Node, 'state' | 'adminState' | 'missedHeartbeats' | 'heartbeatError' | 'lastSeenAt' | 'stateSince' | 'createdAt'> & Partial<Pick<Node, 'heartbeatLatencies'>>

const FAILING: readonly NodeState[] = ['suspect', 'down', 'unreachable']

export function judgeHeartbeat(node: NodeRecord, outcome: HeartbeatOutcome, now: number, settings: HeartbeatSettings = DEFAULT_HEARTBEAT): HeartbeatJudgement {
  const keep: HeartbeatPatch = {state: node.state, missedHeartbeats: node.missedHeartbeats, heartbeatError: node.heartbeatError, lastSeenAt: node.lastSeenAt, stateSince: node.stateSince}
  if (outcome.kind === 'inconclusive') return {patch: keep, transition: null}

  if (outcome.kind === 'answered') {
    const to = node.adminState
    const transition = node.state === to ? null : {from: node.state, to, reason: FAILING.includes(node.state) ? `answers its heartbeats again after ${node.missedHeartbeats} missed` : `now ${to}`}
    return {
      patch: {
        state: to,
        missedHeartbeats: 0,
        heartbeatError: null,
        lastSeenAt: now,
        stateSince: transition ? now : node.stateSince,
        usage: outcome.usage ? {...outcome.usage, at: now} : null,
        ...(typeof outcome.latencyMs === 'number' ? {heartbeatLatencies: recordLatency(node.heartbeatLatencies ?? [], outcome.latencyMs)} : {}),
      },
      transition,
    }
  }

  const missed = node.missedHeartbeats + 1
  const silentFor = now - (node.lastSeenAt ?? node.createdAt)
  let to: NodeState
  if (node.state === 'down' || node.state === 'unreachable') to = outcome.refused ? 'unreachable' : 'down'
  else if (missed >= settings.missesToDown && silentFor >= settings.downAfterMs) to = outcome.refused ? 'unreachable' : 'down'
  else to = 'suspect'

  const transition = node.state === to ? null : {from: node.state, to, reason: `${missed} missed heartbeat${missed === 1 ? '' : 's'}, silent for ${(silentFor / 1000).toFixed(1)}s: ${outcome.error}`}
  return {patch: {...keep, state: to, missedHeartbeats: missed, heartbeatError: outcome.error, stateSince: transition ? now : node.stateSince}, transition}
}

/**
 * When every node of a cluster of two or more missed its heartbeat in the same pass,
 * the likelier fault is the controller's own network: the misses are not counted.
 */
export function discountClusterWideSilence(outcomes: ReadonlyMap<string, HeartbeatOutcome>): Map<string, HeartbeatOutcome> {
  const out = new Map(outcomes)
  if (outcomes.size < 2) return out
  const all = [...outcomes.values()]
  if (all.every((o) => o.kind === 'missed' && !o.refused)) {
    for (const id of outcomes.keys()) out.set(id, {kind: 'inconclusive', why: 'no node answered: the controller may be cut off'})
  }

  return out
}

/** Whether a node's tasks are given up on (marked unreachable and replaced elsewhere). */
export function isGivenUp(state: NodeState): boolean {
  return state === 'down' || state === 'unreachable'
}
