/** The edge proxies' settings and their removal from a node (docs/endpoints.md). */
import {assertImage} from '../../runtime/spec.js'
import {connectSpecOf, type ServiceContext} from '../context.js'
import {DEFAULT_EDGE_IMAGE, edgeRemoveArgv} from '../edge/runner.js'
import {appendEvent} from '../state/events.js'
import {findNode} from '../state/nodes.js'
import {readEdgeImage, writeEdgeImage} from '../state/settings.js'

export interface EdgeImage {
  image: string
  default: boolean
  changed: boolean
}

/** The edge proxies' image; with `image`, set it (every edge proxy is recreated with it by the next pass). */
export function edgeImage(ctx: Pick<ServiceContext, 'store'>, image?: string): EdgeImage {
  const {store} = ctx
  if (image === undefined) {
    const set = store.read(() => readEdgeImage(store))
    return {image: set ?? DEFAULT_EDGE_IMAGE, default: set === null, changed: false}
  }

  assertImage(image)
  return store.write(() => {
    const before = readEdgeImage(store) ?? DEFAULT_EDGE_IMAGE
    if (before === image) return {image, default: image === DEFAULT_EDGE_IMAGE, changed: false}
    writeEdgeImage(store, image)
    appendEvent(store, {type: 'edge.image', subjectKind: 'cluster', subject: 'edge', message: `edge image ${before} -> ${image}: each edge proxy is recreated with it by the next pass`, data: {from: before, to: image}})
    return {image, default: image === DEFAULT_EDGE_IMAGE, changed: true}
  })
}

/** Removes the edge proxy container from a node that is no longer an edge (best effort: null, or why it failed). */
export async function removeEdgeProxy(ctx: Pick<ServiceContext, 'store' | 'connect'>, name: string): Promise<string | null> {
  const node = ctx.store.read(() => findNode(ctx.store, name))
  if (!node || node.runtime !== 'podman') return null
  try {
    const r = await ctx.connect(connectSpecOf(node)).exec(edgeRemoveArgv(), {timeoutMs: 30_000})
    return r.code === 0 ? null : r.stderr.trim() || `podman rm exited ${r.code ?? 'on a signal'}`
  } catch (error) {
    return (error as Error).message
  }
}
