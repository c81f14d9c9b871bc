// `npm run openapi` writes openapi/openapi.json from the route schemas;
// `npm run openapi:check` fails when the committed file differs (CI's drift check).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildApp } from '../app.js'
import { parseConfig } from '../config.js'

const target = fileURLToPath(new URL('../../openapi/openapi.json', import.meta.url))
const config = { ...parseConfig({}), jwtSecret: 'x'.repeat(32), suppressionPepper: 'x'.repeat(32) }
const app = await buildApp(config, { database: { engine: 'pglite', dataDir: 'memory' }, logger: false })
const spec = JSON.stringify(app.swagger(), null, 2) + '\n'
await app.close()

if (process.argv.includes('--check')) {
  let committed = ''
  try {
    committed = readFileSync(target, 'utf8')
  } catch {}
  if (committed !== spec) {
    console.error('openapi/openapi.json is out of date with the route schemas: run `npm run openapi` and commit it.')
    process.exit(1)
  }
  console.log('openapi/openapi.json matches the route schemas.')
} else {
  mkdirSync(dirname(target), { recursive: true })
  writeFileSync(target, spec)
  console.log(`Wrote ${target}`)
}
