// The inbound SMTP listener for bounces and mailto: unsubscribes
// (src/returns/smtp-listener.ts), when RETURN_SMTP_PORT is set: listening once
// the app is ready, closed before the database. Tests read the bound port
// from app.inboundMail (RETURN_SMTP_PORT=0 takes a free one).
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { createReturnListener } from '../returns/smtp-listener.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The listener's port; null while it is off. */
    inboundMail: { port: number | null }
  }
}

export default fp(
  async function inboundMailPlugin(app: FastifyInstance, options: { config: Pick<Config, 'returns'> }) {
    const settings = options.config.returns.smtp
    const state = { port: null as number | null }
    app.decorate('inboundMail', state)
    if (!settings) return
    const listener = createReturnListener({ intake: app.services.reportIntake, log: app.log })
    app.addHook('onReady', async () => {
      state.port = await listener.listen(settings.port, settings.host)
      app.log.info({ port: state.port }, 'inbound SMTP listening')
    })
    app.addHook('onClose', async () => {
      await listener.close()
      state.port = null
    })
  },
  { name: 'inbound-mail' },
)
