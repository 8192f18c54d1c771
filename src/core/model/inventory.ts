/** A node's hardware and software inventory, as probed over one round trip. Fields a host cannot tell are null or empty. */

export interface DiskInfo {
  mount: string
  device: string
  fsType: string | null
  sizeBytes: number
  freeBytes: number
}

export interface GpuInfo {
  vendor: string | null
  model: string
  memoryBytes: number | null
  /** Where it was found: nvidia-smi (usable for compute), lspci or sysfs (PCI class only). */
  source: 'nvidia-smi' | 'lspci' | 'sysfs'
  busId: string | null
}

export interface NetworkInterfaceInfo {
  name: string
  mac: string | null
  state: string | null
  addresses: string[]
}

export interface RuntimeInfo {
  /** The runtime's version, or null when its binary is missing. */
  version: string | null
  /** True when the runtime answered a real request (podman info / ctr version against the daemon). */
  usable: boolean
  /** Why it is not usable, in the runtime's own words. */
  problem: string | null
  /** podman: whose image and container storage it used, e.g. `rootful (/var/lib/containers/storage)` or `rootless (/home/ann/.local/share/containers/storage)`. */
  storage?: string
}

export interface Inventory {
  hostname: string | null
  os: {id: string | null; name: string | null; version: string | null; prettyName: string | null}
  kernel: string | null
  arch: string | null
  cpu: {model: string | null; sockets: number | null; cores: number | null; threads: number | null}
  /**
   * edacControllers: memory controllers with EDAC error reporting (ECC memory the health
   * probe watches; 0: none found). Absent in inventories taken before it was read.
   */
  memory: {totalBytes: number | null; availableBytes: number | null; edacControllers?: number}
  /** The filesystem container data lives on (/var/lib/containers, else /) is `dataDisk`. */
  disks: DiskInfo[]
  dataDisk: DiskInfo | null
  gpus: GpuInfo[]
  network: NetworkInterfaceInfo[]
  runtimes: {podman: RuntimeInfo; containerd: RuntimeInfo}
  cgroupVersion: 1 | 2 | null
  load: {one: number; five: number; fifteen: number} | null
  uptimeSeconds: number | null
  /** Node clock minus controller clock, in ms, measured at the middle of the round trip; null if the node cannot tell. */
  clockOffsetMs: number | null
  /** How long the probe's round trip took, ms. */
  probeMs: number
}
