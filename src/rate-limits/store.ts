// A store for @fastify/rate-limit that keeps the counters in PostgreSQL
// (rate_limit_counters, through src/rate-limits/queries.ts), so every instance
// counts one limit together: behind N instances a client still gets each limit
// once, not N times. One upsert per counted request, no transaction; time from
// the injected clock, like everything else that decides by time here. It keeps
// nothing in process memory that another instance would need.
//
// When the database does not answer, each limit chooses (its skipOnError):
// let the request through uncounted (logged), or fail, which the caller turns
// into a refusal (src/plugins/limits.ts).
//
// No routes, schemas or service: this store is the folder's service, and
// @fastify/rate-limit (src/plugins/limits.ts) its one caller.
import type { FastifyRateLimitOptions, FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit'
import type { Database } from '../../db/client.js'
import type { Clock } from '../lib/clock.js'
import { countHit, deleteEndedCounters, findRunningCounter, type CounterState } from './queries.js'

/** What @fastify/rate-limit hands a store: its merged options for the limit (global, a route's, or createRateLimit's). */
interface LimitSettings {
  continueExceeding?: boolean
  exponentialBackoff?: boolean
  skipOnError?: boolean
  /** The route a route-level limit is on; empty for createRateLimit's. */
  routeInfo?: { method?: string | string[]; url?: string }
}

type Answer = (error: Error | null, result?: { current: number; ttl: number }) => void

export interface PostgresRateLimitStore {
  /** The constructor for @fastify/rate-limit's `store` option. */
  Store: FastifyRateLimitStoreCtor
  /** Resolves once a sweep in progress is over: before the database closes. */
  settled(): Promise<void>
}

/**
 * How often an instance deletes ended windows. Rows are a few dozen bytes, so
 * even a flood from many addresses leaves a small table between sweeps, and
 * N instances sweeping is N cheap deletes every few minutes.
 */
const SWEEP_EVERY_MS = 5 * 60_000

export function createPostgresRateLimitStore(deps: { db: Database; clock: Clock; log: { warn(obj: object, msg: string): void } }): PostgresRateLimitStore {
  const { db, clock, log } = deps
  let lastSweep: number | undefined
  let sweeping: Promise<void> = Promise.resolve()

  /** Starts a sweep when the last one is long enough ago; the request that triggered it does not wait for it. */
  function sweepNowAndThen(now: Date) {
    if (lastSweep !== undefined && now.getTime() - lastSweep < SWEEP_EVERY_MS) return
    lastSweep = now.getTime()
    sweeping = deleteEndedCounters(db, now).catch((error: unknown) => log.warn({ err: error }, 'rate-limit counters: sweeping ended windows failed; the next sweep tries again'))
  }

  const answerWith = (answer: Answer, now: Date) => (state: CounterState | null) =>
    answer(null, state ? { current: state.hits, ttl: Math.max(0, state.resetsAt.getTime() - now.getTime()) } : { current: 0, ttl: 0 })

  class Store implements FastifyRateLimitStore {
    private readonly failOpen: boolean

    /** `prefix` keeps a route-level limit's counters apart from the global limit's under the same key. */
    constructor(settings: FastifyRateLimitOptions, private readonly prefix = '') {
      const limit = settings as LimitSettings
      // Both would need the window to move on every hit past the limit; no limit here asks for them, and ignoring them would loosen nothing but surprise.
      if (limit.continueExceeding || limit.exponentialBackoff) {
        throw new Error('The PostgreSQL rate-limit store does not do continueExceeding or exponentialBackoff')
      }
      this.failOpen = limit.skipOnError === true
    }

    private failed(answer: Answer) {
      return (error: Error) => {
        if (this.failOpen) log.warn({ err: error }, 'rate-limit counters unavailable: the request goes through uncounted')
        answer(error)
      }
    }

    incr(key: string, answer: Answer, timeWindow: number): void {
      const now = clock.now()
      countHit(db, this.prefix + key, now, timeWindow).then(answerWith(answer, now), this.failed(answer))
      sweepNowAndThen(now)
    }

    /** The count without counting (createRateLimit's `{ increment: false }`). */
    read(key: string, answer: Answer): void {
      const now = clock.now()
      findRunningCounter(db, this.prefix + key, now).then(answerWith(answer, now), this.failed(answer))
    }

    child(routeOptions: unknown): FastifyRateLimitStore {
      const { method, url } = (routeOptions as LimitSettings).routeInfo ?? {}
      return new Store(routeOptions as FastifyRateLimitOptions, url ? `${[method].flat().join(',')} ${url}|` : this.prefix)
    }
  }

  return { Store, settled: () => sweeping }
}
