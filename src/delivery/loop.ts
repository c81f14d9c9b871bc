// The delivery worker's loop: a turn of work after another while there is
// work, else a wait for a poll or a wake-up from a new send. Keeps a
// heartbeat (when the loop last came round) for readiness, and stops
// cleanly: no turn begins once it is asked to stop, the turn in hand ends,
// then the worker lets go of what it still holds. The work itself is ./worker.ts.

/** How often an idle worker looks for work when nothing wakes it. */
const POLL_MS = 1000

/** Where the loop is: running or not, and when (process time, ms) it last came round. */
export interface LoopHeartbeat {
  running: boolean
  lastTurnAt: number
  /** The last turn's error, if it failed; a turn that succeeds clears it. */
  lastError: string | null
}

export interface DeliveryLoop {
  heartbeat(): LoopHeartbeat
  /** Stops taking work, waits for the turn in hand, then lets go of what is left (afterStop). */
  stop(): Promise<void>
}

export function startDeliveryLoop(deps: {
  /** One turn; returns how much work it found (0: wait before the next). */
  work(): Promise<number>
  onQueued(wake: () => void): () => void
  log: { error(obj: object, msg: string): void }
  /** Told first when stop() is called, so a turn in progress can end early. */
  beforeStop(): void
  afterStop(): Promise<void>
}): DeliveryLoop {
  const beat: LoopHeartbeat = { running: true, lastTurnAt: Date.now(), lastError: null }
  let stopped = false
  let wake: (() => void) | undefined
  const unsubscribe = deps.onQueued(() => wake?.())
  const loop = (async () => {
    while (!stopped) {
      let taken = 0
      try {
        taken = await deps.work()
        beat.lastError = null
      } catch (error) {
        beat.lastError = (error as Error).message
        deps.log.error({ err: { message: beat.lastError } }, 'delivery batch failed')
      }
      beat.lastTurnAt = Date.now()
      if (taken === 0 && !stopped) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, POLL_MS)
          wake = () => {
            clearTimeout(timer)
            resolve()
          }
        })
        wake = undefined
        beat.lastTurnAt = Date.now()
      }
    }
  })()
  let stopping: Promise<void> | undefined
  return {
    heartbeat: () => ({ ...beat }),
    stop() {
      stopping ??= (async () => {
        stopped = true
        beat.running = false
        deps.beforeStop()
        unsubscribe()
        wake?.()
        await loop
        await deps.afterStop()
      })()
      return stopping
    },
  }
}
