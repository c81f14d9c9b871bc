// Run before `npm test` (the pretest script). tap builds its Test class from
// the plugins named in package.json, which leave out @tapjs/typescript
// because tsx loads the TypeScript. A fresh `npm install` holds tap's
// default build instead. With it, every test process of the first run also
// loads the TypeScript plugin and its ts-node: about half as slow again. The
// build is made once, when the installed one still names that plugin (a
// check of one file), and costs about 17 s.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const built = new URL('../../node_modules/@tapjs/test/test-built/dist/esm/index.js', import.meta.url)
if (readFileSync(built, 'utf8').includes('@tapjs/typescript')) {
  console.error("tap's test class still has its default plugins: building it with package.json's (once after an install)")
  execFileSync(process.execPath, [fileURLToPath(new URL('../../node_modules/tap/dist/esm/run.mjs', import.meta.url)), 'build'], { stdio: 'inherit' })
}
