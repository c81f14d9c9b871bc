// Run before `npm test` (the pretest script): compiles src, db and test to
// JavaScript once, into .test-build, so that the suite's processes start on
// plain Node instead of loading every module through tsx's loader. Node 20
// runs a loader's hooks on a thread of their own, and each of the ~600
// modules a test process imports costs a round trip to it: about 1.2 s of CPU
// a process, some 95 s over the suite (docs/benchmarks.md, "The test suite").
// esbuild compiles the ~300 files in about a second.
//
// The build folder mirrors the repository: each .ts file is there compiled
// beside a link to itself, every other file and folder (migrations, MJML,
// fixtures, node_modules, README.md…) is a link, so paths taken from
// import.meta.url find what they found before. It also holds the run's tap
// configuration: package.json's, for the compiled files and without tsx.
//
// One file by hand still runs from its source through tsx, with package.json's
// configuration: `npx tap test/lists/lists.test.ts`.
import { build } from 'esbuild'
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))
const out = join(root, '.test-build')
/** The folders compiled; everything else at the top is linked as it is. */
const COMPILED = ['src', 'db', 'test']
const NOT_LINKED = new Set(['.git', '.test-build', '.tap', 'coverage', 'test-output', 'var', ...COMPILED])

rmSync(out, { recursive: true, force: true })
mkdirSync(out)

const link = (path) => {
  mkdirSync(dirname(join(out, path)), { recursive: true })
  symlinkSync(relative(dirname(join(out, path)), join(root, path)), join(out, path))
}

const sources = []
const walk = (folder) => {
  for (const entry of readdirSync(join(root, folder), { withFileTypes: true })) {
    const path = join(folder, entry.name)
    if (entry.isDirectory() && !/fixtures$/.test(entry.name)) walk(path)
    else {
      link(path)
      if (entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) sources.push(join(root, path))
    }
  }
}
for (const folder of COMPILED) walk(folder)
for (const entry of readdirSync(root)) if (!NOT_LINKED.has(entry)) link(entry)

await build({
  entryPoints: sources,
  outdir: out,
  outbase: root,
  format: 'esm',
  platform: 'node',
  // Import attributes (`with { type: 'json' }`) are kept from Node 20.10 on.
  target: 'node20.10',
  // Stack traces and tap's failure reports point at the TypeScript. Maps in
  // files of their own, not inline: tap's process-info hook is handed every
  // module's text, and inline maps made the suite's files 13% dearer in CPU.
  sourcemap: 'linked',
  logLevel: 'warning',
})

const tap = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).tap
const compiledRun = {
  ...tap,
  'node-arg': (tap['node-arg'] ?? []).filter((arg) => !/tsx/.test(arg)),
  include: tap.include.map((pattern) => `.test-build/${pattern.replace(/\.ts$/, '.js')}`),
}
// JSON is YAML, which is what tap reads from TAP_RCFILE.
writeFileSync(join(out, '.taprc'), `${JSON.stringify(compiledRun, null, 2)}\n`)
console.error(`compiled ${sources.length} files into .test-build`)
