// Compiling on first use, with a way to compile everything still waiting.
// The route schemas use it (src/app.ts): a process that answers a few routes
// (a test, a CLI) does not pay for the hundred it never calls, and the server
// compiles the rest before it listens, so a schema that does not compile
// fails the start, not a request.
export function lazyCompilation() {
  const waiting = new Set<() => unknown>()
  /** A function that compiles `compile()` on its first call (or at compileAll) and calls it. */
  function lazy<F extends (...args: never[]) => unknown>(compile: () => F): { force: () => F; call: F } {
    let compiled: F | undefined
    const force = () => {
      if (!compiled) {
        compiled = compile()
        waiting.delete(force)
      }
      return compiled
    }
    waiting.add(force)
    return { force, call: ((...args: never[]) => force()(...args)) as F }
  }
  return {
    lazy,
    /** How many are still waiting to be compiled. */
    waiting: () => waiting.size,
    /** Compiles everything still waiting; returns how many that was. A compile that throws, throws here. */
    compileAll: (): number => {
      const all = [...waiting]
      for (const force of all) force()
      return all.length
    },
  }
}

export type LazyCompilation = ReturnType<typeof lazyCompilation>
