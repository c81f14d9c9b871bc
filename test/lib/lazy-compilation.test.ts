// Compiling on first use (src/lib/lazy-compilation.ts): nothing compiles
// until it is called or compileAll runs, each compiles once, and a compile
// that fails at compileAll fails it (a server start), naming the error.
import t from 'tap'
import { lazyCompilation } from '../../src/lib/lazy-compilation.js'

t.test('compiles at the first call, once', async (t) => {
  const compilation = lazyCompilation()
  let compiles = 0
  const { call } = compilation.lazy(() => {
    compiles++
    return (n: number) => n * 2
  })
  t.equal(compiles, 0, 'not before it is needed')
  t.equal(compilation.waiting(), 1)
  t.equal(call(2), 4)
  t.equal(call(5), 10)
  t.equal(compiles, 1, 'once')
  t.equal(compilation.waiting(), 0)
  t.equal(compilation.compileAll(), 0, 'nothing left for compileAll')
})

t.test('compileAll compiles what waits, and a compile that throws makes it throw', async (t) => {
  const compilation = lazyCompilation()
  const sound = compilation.lazy(() => () => 'ok')
  compilation.lazy(() => {
    throw new Error('schema is invalid: data/type must be equal to one of the allowed values')
  })
  t.throws(() => compilation.compileAll(), /schema is invalid/)
  t.equal(sound.call(), 'ok', 'the sound one was compiled and works')
  t.equal(compilation.waiting(), 1, 'the broken one still waits: the next start fails on it too')
})
