import type {Transport} from './transport.js'
import type {Clock} from './clock.js'
import type {Node} from './model/node.js'
import type {Store} from './state/store.js'

/** How to reach one node. `host` is `local`, an address or a ~/.ssh/config alias. */
export interface ConnectSpec {
  nodeName: string
  host: string
  port: number | null
  user: string | null
  keyPath: string | null
  sudo: boolean
  /** The pinned (or --host-key) fingerprint the node must present. */
  expectedHostKey: string | null
  /** --host-key given by the user (a mismatch is then `host-key-mismatch`, not `host-key-changed`). */
  hostKeyFromUser?: boolean
}

export type Connector = (spec: ConnectSpec) => Transport

/** What services need from the outside world: all of it injected (DESIGN principle 5). */
export interface ServiceContext {
  store: Store
  /** The store's own clock (`contextOf` sets it): events, leases and passes read one time. */
  clock: Clock
  connect: Connector
  newId: () => string
}

/** The services' context over a store: its clock is the store's, so there is one clock. */
export function contextOf(store: Store, connect: Connector, newId: () => string): ServiceContext {
  return {store, clock: store.clock, connect, newId}
}

export function connectSpecOf(node: Node): ConnectSpec {
  return {
    nodeName: node.name,
    host: node.address.host,
    port: node.address.port,
    user: node.address.user,
    keyPath: node.keyPath,
    sudo: node.sudo,
    expectedHostKey: node.hostKey?.fingerprint ?? null,
  }
}
