// Delivery workers in the service process (the default; RUN_WORKERS=false for
// API-only replicas): started when the app is ready, stopped — after the batch
// in hand — before the database closes. Also gives tests and the worker CLI
// the worker itself (app.deliveryWorker).
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import type { Clock } from '../lib/clock.js'
import { createMailer } from '../delivery/mailer.js'
import { createDeliveryWorker, type DeliveryWorker } from '../delivery/worker.js'

declare module 'fastify' {
  interface FastifyInstance {
    deliveryWorker: DeliveryWorker
  }
}

export default fp(
  async function deliveryPlugin(app: FastifyInstance, options: { config: Config; clock: Clock }) {
    const { config, clock } = options
    const mailer = createMailer(config)
    const worker = createDeliveryWorker({ db: app.db, clock, config, mailer, log: app.log, ...app.services })
    app.decorate('deliveryWorker', worker)
    let running: { stop(): Promise<void> } | undefined
    if (config.runWorkers) app.addHook('onReady', async () => void (running = worker.start()))
    app.addHook('onClose', async () => {
      await running?.stop()
      await mailer.close()
    })
  },
  { name: 'delivery' },
)
