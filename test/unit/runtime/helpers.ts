import fs from 'node:fs'

import type {ContainerSpec} from '../../../src/runtime/types.js'

export function fixture(runtime: 'podman' | 'containerd', name: string): string {
  return fs.readFileSync(new URL(`../../fixtures/runtime/${runtime}/${name}`, import.meta.url), 'utf8')
}

export const SPEC: ContainerSpec = {
  name: 'cctl-web-0-1f3a9c2e',
  image: 'localhost/app:1',
  command: ['sh', '-c', 'echo "$GREETING"; exec httpd -f -p "$PORT0"', 'arg one'],
  env: {GREETING: 'hello world', PORT0: 'user value loses'},
  cpuMilli: 1500,
  memBytes: 64 * 1024 * 1024,
  ports: [
    {containerPort: 0, hostPort: 31000, protocol: 'tcp'},
    {containerPort: 53, hostPort: 31001, protocol: 'udp'},
  ],
  volumes: [
    {source: '/srv/my data', target: '/data', readOnly: true},
    {source: '/srv/cache', target: '/cache', readOnly: false},
  ],
  labels: {'io.clusterctl.cluster': 'c1', 'io.clusterctl.job': 'web', 'io.clusterctl.spec-hash': 'h1'},
}

/** The positional arguments after `sh -c SCRIPT $0`. */
export function scriptArgs(argv: string[]): {script: string; name: string; args: string[]} {
  if (argv[0] !== 'sh' || argv[1] !== '-c') throw new Error(`not a script argv: ${argv.slice(0, 2).join(' ')}`)
  return {script: argv[2]!, name: argv[3]!, args: argv.slice(4)}
}
