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

function delayed(from, to) {
  let releaseAt = 0
  let pending = 0
  let ended = false
  from.on('data', (chunk) => {
    const delay = Math.max(0, half + (Math.random() * 2 - 1) * spread)
    releaseAt = Math.max(releaseAt, Date.now() + delay)
    pending++
    setTimeout(() => {
      pending--
      if (!to.destroyed) to.write(chunk)
      if (ended && pending === 0) to.end()
    }, releaseAt - Date.now())
  })
  from.on('end', () => {
    ended = true
    if (pending === 0) to.end()
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
