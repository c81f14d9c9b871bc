// How a test starts one of the service's entry points (src/server.ts,
// src/cli/*.ts) in a process of its own. From the source (`npx tap
// test/x.test.ts`) it runs through tsx's loader, as `npm run` does. When the
// suite runs compiled (npm test; test/support/build-tests.mjs) it runs the
// entry point's compiled twin on plain Node: the same code, without loading
// ~600 modules through tsx, about 1.5 s of CPU less a process.
//
// Always node itself, never the tsx command or npx: those run node as a child
// of their own, which a signal or a kill to the parent reaches only by relay.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** The arguments for process.execPath that run an entry point, given from the repository's root ('src/cli/worker.ts'). */
export function entryPoint(script: string): string[] {
  const source = fileURLToPath(new URL(`../../${script}`, import.meta.url))
  const compiled = source.replace(/\.ts$/, '.js')
  if (import.meta.url.endsWith('.js') && existsSync(compiled)) return [compiled]
  return ['--import', 'tsx', source]
}
