/**
 * Reading an input file (a spec, a list of hosts) or standard input as a stream, with a size limit.
 * `readFileSync(0)` fails with EAGAIN on a non-blocking pipe (a writer that is
 * slow to start, or more than 64 KiB), and a file like /dev/zero never ends:
 * streams wait for data as long as it comes, and stop at the limit.
 */
import fs from 'node:fs'
import type {Readable} from 'node:stream'

import {UserError} from '../core/errors.js'

/** Input larger than this is refused (a 10,000-job spec is about 3 MiB). */
export const INPUT_LIMIT = 32 * 1024 * 1024

export function inputName(file: string): string {
  return file === '-' ? 'standard input' : file
}

/** Reads all of a stream into text, refusing it once it passes `limit` bytes. */
export async function readLimited(stream: Readable, name: string, limit: number): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  try {
    for await (const chunk of stream) {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer)
      size += buffer.length
      if (size > limit) {
        throw new UserError(`${name} is larger than ${formatLimit(limit)}; split it into several files.`)
      }

      chunks.push(buffer)
    }
  } catch (error) {
    if (error instanceof UserError) throw error
    const code = (error as NodeJS.ErrnoException).code
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (error as Error).message
    throw new UserError(`Cannot read ${name}: ${reason}.`)
  } finally {
    stream.destroy()
  }

  return Buffer.concat(chunks, size).toString('utf8')
}

/** Reads a file, or standard input for `-`. `label` names it in errors (default: the file, or "standard input"). */
export async function readInput(file: string, options: {label?: string; limit?: number} = {}): Promise<string> {
  const stream = file === '-' ? process.stdin : fs.createReadStream(file)
  return readLimited(stream, options.label ?? inputName(file), options.limit ?? INPUT_LIMIT)
}

function formatLimit(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`
}
