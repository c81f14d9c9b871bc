// A real MTA where mail comes back: Debian's postfix on loopback takes one of
// our messages for an unknown local user, fails to deliver it, writes its
// own RFC 3464 bounce and mails it to the message's VERP return path, which
// its transport map sends to our inbound listener — which suppresses the
// address. It reconfigures the machine's postfix, so it runs only where that
// is wanted (CI, installed by .ci/run, or SAMTYKKE_TEST_POSTFIX=1), as root.
// One run is enough: the PostgreSQL run of the suite skips it, as what it
// shows is postfix's bounce against our listener, not the database.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { consentPayload, createContact, createList, subscribe } from '../factories.js'
import { build } from '../helper.js'
import { returnsConfig } from './reports.js'

const POSTFIX = '/usr/sbin/postfix'
const DOMAIN = 'samtykke-ci.localdomain'
const RETURNS = 'returns.samtykke.test'

const skip =
  process.env.CI !== 'true' && process.env.SAMTYKKE_TEST_POSTFIX !== '1'
    ? 'reconfigures the machine’s postfix: only in CI or with SAMTYKKE_TEST_POSTFIX=1'
    : !existsSync(POSTFIX)
      ? 'postfix is not installed (.ci/run installs it)'
      : process.getuid?.() !== 0
        ? 'configuring postfix needs root'
        : process.env.TEST_DATABASE_URL
          ? 'runs once, on the embedded database'
          : false

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })

/** Postfix on loopback, accepting mail for any user of DOMAIN (so the unknown one bounces as a DSN, not at RCPT), sending RETURNS to our listener. */
function configurePostfix(listenerPort: number) {
  writeFileSync('/etc/postfix/samtykke-transport', `${RETURNS} smtp:[127.0.0.1]:${listenerPort}\n`)
  execFileSync('postmap', ['/etc/postfix/samtykke-transport'])
  execFileSync('postconf', [
    '-e',
    'inet_interfaces = loopback-only',
    'inet_protocols = ipv4',
    `myhostname = ${DOMAIN}`,
    `mydestination = localhost, ${DOMAIN}`,
    'local_recipient_maps =',
    'smtp_dns_support_level = disabled',
    'transport_maps = hash:/etc/postfix/samtykke-transport',
    'delay_warning_time = 0',
    'maximal_queue_lifetime = 1h',
    'bounce_queue_lifetime = 1h',
    'queue_run_delay = 5s',
  ])
  execFileSync('newaliases')
  if (spawnSync(POSTFIX, ['status']).status === 0) execFileSync(POSTFIX, ['reload'])
  else execFileSync(POSTFIX, ['start'])
}

t.test('postfix bounces mail for an unknown user to the return path, and the listener suppresses the address', { skip, timeout: 120_000 }, async (t) => {
  const port = await freePort()
  configurePostfix(port)
  const app = await build(t, {
    config: { smtpUrl: 'smtp://127.0.0.1:25', returns: returnsConfig({ returnPath: `bounces@${RETURNS}`, smtp: { host: '127.0.0.1', port } }) },
  })
  const list = await createList(app, { kind: 'newsletter', name: 'Nyhetsbrev' })
  const person = await createContact(app, { email: `nobody-${randomBytes(4).toString('hex')}@${DOMAIN}` })
  await subscribe(app, list.id, { contactId: person.id, source: 'form', consent: consentPayload() })
  const sent = await app.as('staff')({
    method: 'POST',
    url: '/v1/sends',
    payload: { template: 'newsletter', kind: 'newsletter', listId: list.id, contactId: person.id, idempotencyKey: 'postfix-1', data: { name: 'Nobody', headline: 'Vår', body: 'Nytt.' } },
  })
  t.equal(sent.statusCode, 202)
  const messageId = sent.json().messageId as string
  await app.app.deliveryWorker.runOnce()
  const message = async () => (await app.as('staff')({ method: 'GET', url: `/v1/messages/${messageId}` })).json()
  t.match(await message(), { status: 'sent' }, 'postfix took it: the failure comes later, as a DSN')

  let suppressions: { scope: string; reason: string; note: string }[] = []
  for (const end = Date.now() + 60_000; Date.now() < end && suppressions.length === 0; ) {
    await new Promise((wake) => setTimeout(wake, 250))
    suppressions = (await app.as('staff')({ method: 'GET', url: `/v1/suppressions?contactId=${person.id}&active=true` })).json().items
  }
  t.match(suppressions, [{ scope: 'all-mail', reason: 'bounce', note: /hard bounce: smtp report .* \(5\.1\.1\)/ }], 'the bounce came back and suppressed the address')
  const kept = (await app.as('staff')({ method: 'GET', url: `/v1/returns?messageId=${messageId}` })).json().items
  t.match(kept, [{ channel: 'smtp', outcome: 'applied', effect: 'hard_bounce', status: '5.1.1', reportType: 'bounce' }])
  const events = (await message()).events.map((e: { type: string }) => e.type)
  t.equal(events.at(-1), 'bounced')
})
