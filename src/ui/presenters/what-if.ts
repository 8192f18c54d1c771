/** `what-if` as text. */
import type {WhatIfResult} from '../../core/reconcile/what-if.js'
import {paint} from '../style.js'
import {renderTable} from '../table.js'

export function renderWhatIf(r: WhatIfResult, color: boolean): string {
  const head = `If ${r.down.join(', ')} ${r.down.length === 1 ? 'dies' : 'die'}: ${r.fits ? paint.ok('everything fits', color) : paint.error(`${r.unplaced.length} task(s) could not be placed`, color)} (${r.moves.length + r.unplaced.length} task(s) to replace${r.waiting.length ? `, ${r.waiting.length} waiting for ${r.down.length === 1 ? 'it' : 'them'}` : ''}).`
  const lines = [head]
  if (r.moves.length > 0) lines.push('', renderTable(['TASK', 'FROM', 'TO'], r.moves.map((m) => [`${m.job}.${m.instance}`, m.from, m.to])))
  if (r.unplaced.length > 0) lines.push('', renderTable(['TASK', 'FROM', 'CANNOT BE PLACED'], r.unplaced.map((u) => [`${u.job}.${u.instance}`, u.from, u.reason])))
  if (r.waiting.length > 0) lines.push('', renderTable(['TASK', 'WAITS FOR', 'WHY'], r.waiting.map((w) => [`${w.job}.${w.instance}`, w.from, `its volume ${w.volume} is there (not moved; \`clusterctl volume forget ${w.volume} --new-empty\` gives it a new, empty one elsewhere)`])))
  if (r.services.length > 0) lines.push('', renderTable(['SERVICE', 'RUNNING AFTER THE LOSS', 'BOUND', ''], r.services.map((s) => [s.job, `${s.runningAfterLoss}/${s.instances}`, `>= ${s.minHealthy}`, s.ok ? 'ok' : paint.warn('below its bound until replaced', color)])))
  return lines.join('\n')
}

/** `--n-1`: one line per node. */
export function renderNMinusOne(results: readonly WhatIfResult[], color: boolean): string {
  if (results.length === 0) return 'No nodes yet.'
  return renderTable(
    ['NODE', 'IF IT DIES'],
    results.map((r) => [r.down[0]!, r.fits ? paint.ok(`safe (${r.moves.length} task(s) move${r.waiting.length ? `, ${r.waiting.length} wait for it: ${r.waiting.map((w) => `${w.job}.${w.instance} (volume ${w.volume})`).join(', ')}` : ''})`, color) : paint.error(`${r.unplaced.length} unplaced: ${r.unplaced.map((u) => `${u.job}.${u.instance} (${u.reason})`).join('; ')}`, color)]),
  )
}
