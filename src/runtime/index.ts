/**
 * src/runtime: container runtimes as pure argv builders and output parsers
 * (podman.ts, containerd.ts), plus RuntimeClient (client.ts), which runs them through
 * a Transport. Import from here.
 *
 *   const runtime = runtimeFor(node.runtime)
 *   const client = new RuntimeClient(runtime, transport)
 *   const {outcome} = await client.start(spec)        // started | adopted | restarted | recreated
 *   const containers = await client.list(clusterSelector(clusterId))
 */
import type {RuntimeName} from '../core/model/node.js'
import {createContainerdRuntime} from './containerd.js'
import {createPodmanRuntime} from './podman.js'
import type {ContainerRuntime, RuntimeOptions} from './types.js'

export type * from './types.js'
export {
  CONTAINER_NAME_MAX,
  INTERNAL_LABELS,
  LABELS,
  LABEL_PREFIX,
  clusterSelector,
  containerName,
  effectiveSpecHash,
  isValidContainerName,
  specHashOf,
  taskLabels,
  type TaskIdentity,
  type TaskLabelInput,
} from './naming.js'
export {portEnv, validateSpec} from './spec.js'
export {createPodmanRuntime} from './podman.js'
export {createContainerdRuntime, normalizeImageRef, DEFAULT_LOG_DIR, DEFAULT_NAMESPACE} from './containerd.js'
export {RuntimeClient, stopTimeoutMs, type RuntimeClientOptions} from './client.js'

export function runtimeFor(name: RuntimeName, options: RuntimeOptions = {}): ContainerRuntime {
  return name === 'podman' ? createPodmanRuntime() : createContainerdRuntime(options)
}
