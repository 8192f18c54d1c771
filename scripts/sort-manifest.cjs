// Makes oclif.manifest.json deterministic: `oclif manifest` writes commands and their
// flags in the order it happened to load them, so two builds of the same tree could
// differ in key order only (and `npm test` then reported a stale manifest). Commands
// and each command's flags are sorted by name; args keep their order (it is the
// positional order). usage: node scripts/sort-manifest.cjs [FILE]
const fs = require('fs')

const sortKeys = (object) => Object.fromEntries(Object.keys(object).sort().map((k) => [k, object[k]]))

function canonical(manifest) {
  const commands = sortKeys(manifest.commands ?? {})
  for (const [id, command] of Object.entries(commands)) {
    commands[id] = command.flags ? {...command, flags: sortKeys(command.flags)} : command
  }

  return {...manifest, commands}
}

module.exports = {canonical}

if (require.main === module) {
  const file = process.argv[2] ?? 'oclif.manifest.json'
  const manifest = JSON.parse(fs.readFileSync(file, 'utf8'))
  fs.writeFileSync(file, JSON.stringify(canonical(manifest), null, 2))
}
