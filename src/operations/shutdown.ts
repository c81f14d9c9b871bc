// Graceful shutdown of a process (the service, `npm run worker`) on SIGTERM
// or SIGINT: the app closes — no new requests (a 503 for those that still
// come), in-flight ones finish, the delivery workers stop after the chunk in
// hand and let go of the rest of their claims, pg-boss stops gracefully, the
// SMTP pool and the database close — and the process exits 0. Past
// SHUTDOWN_TIMEOUT_SECONDS it logs what it was doing and exits 1; a second
// signal exits 1 at once.
import type { FastifyInstance } from 'fastify'

/** Exit codes: 0 after a clean close; 1 when the close failed, took too long, or a second signal cut it short. */
const CLEAN = 0
const CUT_SHORT = 1

const exit = (code: number) => process.exit(code)

export function closeOnSignals(app: FastifyInstance, settings: { timeoutSeconds: number }): void {
  let closing = false
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) {
      app.log.warn({ signal }, 'second signal while shutting down: exiting now')
      exit(CUT_SHORT)
      return
    }
    closing = true
    const started = Date.now()
    app.log.info({ signal, timeoutSeconds: settings.timeoutSeconds }, 'shutting down')
    const timer = setTimeout(() => {
      app.log.error({ signal, timeoutSeconds: settings.timeoutSeconds }, 'shutdown took longer than SHUTDOWN_TIMEOUT_SECONDS: exiting without finishing it')
      exit(CUT_SHORT)
    }, settings.timeoutSeconds * 1000)
    app.close().then(
      () => {
        clearTimeout(timer)
        app.log.info({ signal, ms: Date.now() - started }, 'shut down')
        exit(CLEAN)
      },
      (error: unknown) => {
        clearTimeout(timer)
        app.log.error({ signal, err: { message: (error as Error).message } }, 'shutdown failed')
        exit(CUT_SHORT)
      },
    )
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
}
