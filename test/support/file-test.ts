// The `t` every test file imports (the build points `import t from 'tap'` of
// the compiled test files here). Run alone, a file's tests are tap's root, as
// in the source. Run in a group (test/support/build-tests.mjs puts several
// small files into one process, sparing each the start of a process, of tap
// and of ~600 modules), each file is a subtest of its own: its teardowns run
// when its last test ends, its before-hooks and timeouts are its own, and the
// next file's top level does not start until this file's tests are done.
import tap, { type Test } from 'tap'

let current: Test = tap

const fileTest: typeof tap = new Proxy(tap, {
  get(_, key) {
    const value: unknown = Reflect.get(current, key, current)
    return typeof value === 'function' ? value.bind(current) : value
  },
})
export default fileTest

/** Runs one file of a group as a subtest: its module is imported with `t` pointing at that subtest. */
export async function runFile(name: string, timeout: number, load: () => Promise<unknown>): Promise<void> {
  await tap.test(name, { timeout }, async (file) => {
    current = file
    await load()
  })
  current = tap
}
