// Delivery workers in the service process (the default; RUN_WORKERS=false for
// API-only replicas): started when the app is ready, stopped — after the batch
// in hand — before the database closes. Also gives tests and the worker CLI
// the worker itself (app.deliveryWorker).
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import type { Clock } from '../lib/clock.js'
import { createMailer } from '../delivery/mailer.js'
import type { DeliveryLoop } from '../delivery/loop.js'
import { createWorker, type Worker } from '../worker.js'
import type { MetricsRecorder } from '../operations/recorder.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The worker's turn: fan-out, delivery, finish (src/worker.ts). */
    deliveryWorker: Worker
    /** The worker's loop while it runs in this process (RUN_WORKERS); null before it starts and where it does not. */
    deliveryLoop: DeliveryLoop | null
  }
}

export default fp(
  async function deliveryPlugin(app: FastifyInstance, options: { config: Config; clock: Clock; metrics: MetricsRecorder }) {
    const { config, clock } = options
    const mailer = createMailer(config)
    const worker = createWorker({ db: app.db, clock, config, mailer, log: app.log, ...app.services, metrics: options.metrics })
    app.decorate('deliveryWorker', worker)
    app.decorate('deliveryLoop', null)
    if (config.runWorkers) app.addHook('onReady', async () => void (app.deliveryLoop = worker.start()))
    // After the batch in hand, the claims it did not get to are let go; then the SMTP pool closes.
    app.addHook('onClose', async () => {
      await app.deliveryLoop?.stop()
      await mailer.close()
    })
  },
  { name: 'delivery' },
)
