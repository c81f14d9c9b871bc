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
rewriteTapImports()
const runs = writeRuns()
const compiledRun = {
  ...tap,
  'node-arg': (tap['node-arg'] ?? []).filter((arg) => !/tsx/.test(arg)),
  include: ['.test-build/runs/*.test.js'],
}
// JSON is YAML, which is what tap reads from TAP_RCFILE.
writeFileSync(join(out, '.taprc'), `${JSON.stringify(compiledRun, null, 2)}\n`)
console.error(`compiled ${sources.length} files into .test-build; ${runs.files} test files in ${runs.processes} processes`)

/**
 * Points `import t from 'tap'` of every compiled test file at
 * test/support/file-test.ts, whose `t` is tap's root when the file runs alone
 * and the file's own subtest when it runs in a group.
 */
function rewriteTapImports() {
  for (const source of sources.filter((file) => file.endsWith('.test.ts'))) {
    const compiled = join(out, relative(root, source)).replace(/\.ts$/, '.js')
    let fileTest = relative(dirname(compiled), join(out, 'test/support/file-test.js'))
    if (!fileTest.startsWith('.')) fileTest = `./${fileTest}`
    const text = readFileSync(compiled, 'utf8')
    const rewritten = text.replace(/^import t from "tap";$/m, `import t from ${JSON.stringify(fileTest)};`)
    if (rewritten !== text) writeFileSync(compiled, rewritten)
  }
}

/**
 * The processes tap starts, as files in .test-build/runs, named so that tap's
 * sorted order starts the longest first. A test process costs about 2.5 s of
 * CPU before its first test (tap's runner and process-info hook, loading the
 * app's ~600 modules), so the files run GROUP_SIZE to a process, in path
 * order, each as a subtest of its own (file-test.ts). Alone, as before: the
 * files that set their process's timeout (top-level t.setTimeout, which only
 * the root can), and the long ones that are better started first.
 */
function writeRuns() {
  const GROUP_SIZE = 8
  const timeout = (tap.timeout ?? 30) * 1000
  const LONG_FIRST = ['test/readme/tour.test.ts', 'test/browser/subscriber-pages.test.ts']
  const tests = sources.map((file) => relative(root, file)).filter((file) => file.startsWith('test/') && file.endsWith('.test.ts')).sort()
  const setsTimeout = (file) => /^t\.setTimeout\(/m.test(readFileSync(join(root, file), 'utf8'))
  const alone = [...LONG_FIRST.filter((file) => tests.includes(file)), ...tests.filter((file) => !LONG_FIRST.includes(file) && setsTimeout(file))]
  const grouped = tests.filter((file) => !alone.includes(file))
  const runsDir = join(out, 'runs')
  mkdirSync(runsDir)
  const importPath = (file) => JSON.stringify(`../${file.replace(/\.ts$/, '.js')}`)
  const number = (n) => String(n + 1).padStart(2, '0')
  alone.forEach((file, n) => {
    const name = file.replace(/^test\//, '').replace(/\.test\.ts$/, '').replaceAll('/', '-')
    writeFileSync(join(runsDir, `1-${number(n)}-${name}.test.js`), `import ${importPath(file)}\n`)
  })
  let groups = 0
  for (let start = 0; start < grouped.length; start += GROUP_SIZE, groups++) {
    const files = grouped.slice(start, start + GROUP_SIZE)
    const lines = [
      "import tap from 'tap'",
      "import { runFile } from '../test/support/file-test.js'",
      // tap's timeout is per process: each file of a group has one of its own, and the group their sum.
      `tap.setTimeout(${files.length * timeout})`,
      ...files.map((file) => `await runFile(${JSON.stringify(file)}, ${timeout}, () => import(${importPath(file)}))`),
    ]
    writeFileSync(join(runsDir, `2-group-${number(groups)}.test.js`), `${lines.join('\n')}\n`)
  }
  return { files: tests.length, processes: alone.length + groups }
}
