// A userspace TCP relay that adds latency and jitter to a test bed host's SSH path
// (this kernel has no netem). Runs inside the host's network namespace:
//   node relay.mjs LISTEN_HOST LISTEN_PORT TARGET_HOST TARGET_PORT LATENCY_MS JITTER_MS
// Every chunk, in each direction, is held for LATENCY/2 +- JITTER/2 ms (uniform), in
// order: a round trip gains LATENCY +- JITTER. Plain JavaScript so that it starts
// fast and needs nothing but node.
import net from 'node:net'

const [listenHost, listenPort, targetHost, targetPort, latency, jitter] = process.argv.slice(2)
const half = Number(latency) / 2
const spread = Number(jitter) / 2

// One queue per direction, drained by one timer: chunks leave strictly in order (two
// timers due at the same moment may fire in either order, which would corrupt the stream).
function delayed(from, to) {
  const queue = []
  let timer = null
  let ended = false
  const drain = () => {
    timer = null
    const now = Date.now()
    while (queue.length > 0 && queue[0].at <= now) if (!to.destroyed) to.write(queue.shift().chunk)
    else queue.shift()
    if (queue.length > 0) timer = setTimeout(drain, queue[0].at - now)
    else if (ended) to.end()
  }
  from.on('data', (chunk) => {
    const delay = Math.max(0, half + (Math.random() * 2 - 1) * spread)
    const last = queue.length > 0 ? queue[queue.length - 1].at : 0
    queue.push({chunk, at: Math.max(last, Date.now() + delay)})
    if (timer === null) timer = setTimeout(drain, queue[0].at - Date.now())
  })
  from.on('end', () => {
    ended = true
    if (queue.length === 0 && timer === null) to.end()
  })
}

const server = net.createServer((client) => {
  const upstream = net.connect(Number(targetPort), targetHost)
  const close = () => {
    client.destroy()
    upstream.destroy()
  }
  client.on('error', close)
  upstream.on('error', close)
  client.on('close', () => setTimeout(() => upstream.destroy(), half + spread))
  upstream.on('close', () => setTimeout(() => client.destroy(), half + spread))
  delayed(client, upstream)
  delayed(upstream, client)
})
server.listen(Number(listenPort), listenHost, () => console.log(`relay ${listenHost}:${listenPort} -> ${targetHost}:${targetPort}, +${latency} +- ${jitter} ms per round trip`))
