/** A healthy probe sample to vary in tests. */
import type {HealthSample} from '../../../../src/core/model/health.js'

const Gi = 1024 ** 3

export function aSample(init: Partial<HealthSample> = {}): HealthSample {
  return {
    at: 0,
    uptimeSeconds: 1000,
    memory: {totalBytes: 8 * Gi, availableBytes: 4 * Gi},
    psi: {memory: null, io: null, cpu: null},
    oomKills: 0,
    filesystems: [{path: '/', mount: '/', fsType: 'ext4', sizeBytes: 100 * Gi, freeBytes: 50 * Gi, inodes: 1000, inodesFree: 900, readOnly: false}],
    kernel: [],
    edac: [],
    temperatures: [],
    raid: [],
    smart: [],
    gpus: [],
    clock: {synchronized: true, offsetMs: 1},
    runtime: {ok: true, detail: null},
    limits: {conntrack: null, pids: [100, 32768], files: null},
    ...init,
  }
}
