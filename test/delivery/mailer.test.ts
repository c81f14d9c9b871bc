// The mailer against a real SMTP server in process (test/support/smtp-sink.ts)
// and a real outbox folder, and the pure classification of send errors as a
// table plus properties. DKIM signatures are checked by a small independent
// relaxed/relaxed verifier (dkim-verifier.ts), not by trusting nodemailer's
// own code; the messages, configuration and errors are in mailer-fixtures.ts.
import { generateKeyPairSync } from 'node:crypto'
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import fc from 'fast-check'
import { simpleParser } from 'mailparser'
import nodemailer from 'nodemailer'
import type SMTPPool from 'nodemailer/lib/smtp-pool'
import t from 'tap'
import { buildSmtpTransportOptions, createMailer, DKIM_SIGNED_HEADERS, type OutgoingMessage } from '../../src/delivery/mailer.js'
import { classifySmtpError, MAX_REPLY_LENGTH, readEnhancedStatus, type DeliveryOutcome } from '../../src/delivery/smtp-reply.js'
import { startSmtpSink } from '../support/smtp-sink.js'
import { checkDkim } from './dkim-verifier.js'
import { closedPort, dkimKeys, mailerConfig, outgoing, rawHeader, smtpError, socketError } from './mailer-fixtures.js'

// --- classification: a table ---------------------------------------------------------

t.test('classifySmtpError sorts every kind of send error into one of four outcomes', async (t) => {
  const table: Array<[string, unknown, DeliveryOutcome['type']]> = [
    ['a 451 with 4.3.0 is deferred', smtpError('451 4.3.0 Try again later', 'EMESSAGE', 'DATA'), 'deferred'],
    ['a 421 greeting refusal is deferred', smtpError('421 4.7.0 Too many connections', 'EPROTOCOL', 'CONN'), 'deferred'],
    ['a 450 mailbox busy is deferred even with a 4.1.1 code', smtpError('450 4.1.1 Mailbox temporarily unavailable'), 'deferred'],
    ['a 4xx whose text carries a 5.1.1 is still deferred: the basic code decides the class', smtpError('452 5.1.1 odd server'), 'deferred'],
    ['550 5.1.1 no such user bounces', smtpError('550 5.1.1 <kari@example.org>: no such user'), 'bounced'],
    ['550 5.1.2 bad destination domain bounces', smtpError('550 5.1.2 Host unknown'), 'bounced'],
    ['553 5.1.3 bad address syntax bounces', smtpError('553 5.1.3 Bad recipient address syntax'), 'bounced'],
    ['551 5.1.6 mailbox moved bounces', smtpError('551 5.1.6 User has moved'), 'bounced'],
    ['a multi-line Gmail-style 5.1.1 bounces', smtpError('550-5.1.1 The email account that you tried to reach does not exist.\n550 5.1.1 https://support.google.com/mail/?p=NoSuchUser'), 'bounced'],
    ['an enhanced code with leading zeros is read as its number', smtpError('550 5.01.001 no such user'), 'bounced'],
    ['an enhanced code set off in the text is found', smtpError('550 Requested action not taken (5.1.1)'), 'bounced'],
    ['553 5.1.3 refusing our sender at MAIL FROM is failed, not bounced', smtpError('553 5.1.3 Sender address rejected', 'EENVELOPE', 'MAIL FROM'), 'failed'],
    ['550 5.1.1 refusing our login is failed, not bounced', smtpError('550 5.1.1 odd auth reply', 'EAUTH', 'AUTH PLAIN'), 'failed'],
    ['550 5.7.1 policy is failed, not bounced', smtpError('550 5.7.1 Message rejected due to policy', 'EMESSAGE', 'DATA'), 'failed'],
    ['554 5.0.0 is failed', smtpError('554 5.0.0 Transaction failed', 'EMESSAGE', 'DATA'), 'failed'],
    ['552 5.2.2 mailbox full is failed', smtpError('552 5.2.2 Mailbox full'), 'failed'],
    ['Microsoft 5.1.10 recipient not found bounces: every 5.1.x is about the address (the return rules)', smtpError('550 5.1.10 RESOLVER.ADR.RecipientNotFound'), 'bounced'],
    ['a 5.2.1 mailbox disabled bounces', smtpError('550 5.2.1 The email account that you tried to reach is disabled', 'EENVELOPE', 'RCPT TO'), 'bounced'],
    ['a 5.2.2 mailbox full is failed, never a bounce', smtpError('552 5.2.2 Mailbox full', 'EENVELOPE', 'RCPT TO'), 'failed'],
    ['a bare 550 "no such user" without an enhanced code is failed', smtpError('550 No such user here'), 'failed'],
    ['a bare 551/553 "mailbox unavailable" is failed', smtpError('553 mailbox name not allowed / mailbox unavailable'), 'failed'],
    ['a 5xx naming an IP address that contains 5.1.1 is failed, not bounced', smtpError('554 Service unavailable; client host 10.5.1.1 blocked'), 'failed'],
    ['a 5xx whose enhanced code has another class is failed', smtpError('550 4.1.1 mixed signals'), 'failed'],
    ['535 authentication failure is failed (about us)', smtpError('535 5.7.8 Authentication credentials invalid', 'EAUTH', 'AUTH PLAIN'), 'failed'],
    ['503 bad sequence is deferred: a new session can carry the message', smtpError('503 5.5.1 Error: need RCPT command', 'EENVELOPE', 'DATA'), 'deferred'],
    ['a 250 that arrived as an error is deferred', smtpError('250 2.0.0 Ok', 'EPROTOCOL', 'DATA'), 'deferred'],
    ['a refused connection is deferred', socketError('ESOCKET', 'connect ECONNREFUSED 127.0.0.1:25'), 'deferred'],
    ['a reset connection is deferred', socketError('ECONNECTION', 'Connection closed unexpectedly'), 'deferred'],
    ['a timeout is deferred', socketError('ETIMEDOUT', 'Greeting never received'), 'deferred'],
    ['a DNS failure is deferred', socketError('EDNS', 'getaddrinfo ENOTFOUND smtp.example.org'), 'deferred'],
    ['a TLS failure is deferred', socketError('ETLS', 'Connection closed unexpectedly'), 'deferred'],
    ['a closed pool is deferred', socketError('ECONNECTION', 'Connection pool was closed'), 'deferred'],
    ['a plain Node system error is deferred', socketError('ECONNRESET', 'read ECONNRESET'), 'deferred'],
    ['a full disk while writing the outbox is deferred', socketError('ENOSPC', 'ENOSPC: no space left on device'), 'deferred'],
    ['an envelope nodemailer refused before sending is failed', socketError('EENVELOPE', 'No recipients defined'), 'failed'],
    ['a configuration error is failed', socketError('ECONFIG', 'Invalid configuration'), 'failed'],
    ['a reply with no responseCode is read by its leading code', { response: '550 5.1.1 no such user' }, 'bounced'],
    ['a numeric-string responseCode is read', { responseCode: '451', response: '451 4.3.0 later' }, 'deferred'],
    ['a plain Error is deferred', new Error('something odd'), 'deferred'],
    ['a thrown string is deferred', 'boom', 'deferred'],
    ['undefined is deferred', undefined, 'deferred'],
    ['null is deferred', null, 'deferred'],
    ['an object whose getters throw is deferred', Object.defineProperty({}, 'responseCode', { get() { throw new Error('no') } }), 'deferred'],
  ]
  for (const [name, error, type] of table) {
    t.equal(classifySmtpError(error).type, type, name)
  }
})

t.test('the reply kept is the server reply, flattened to one line, or the error code and message', async (t) => {
  t.same(classifySmtpError(smtpError('451 4.3.0 Try again later', 'EMESSAGE', 'DATA')), { type: 'deferred', reply: '451 4.3.0 Try again later' })
  t.equal(
    classifySmtpError(smtpError('550-5.1.1 The account does not exist.\r\n550-5.1.1 Please check.\r\n550 5.1.1 See help')).reply,
    '550-5.1.1 The account does not exist. 550-5.1.1 Please check. 550 5.1.1 See help',
  )
  t.equal(classifySmtpError(socketError('ESOCKET', 'connect ECONNREFUSED 127.0.0.1:25')).reply, 'ESOCKET: connect ECONNREFUSED 127.0.0.1:25')
  t.equal(classifySmtpError(socketError('ECONNRESET', 'ECONNRESET by peer')).reply, 'ECONNRESET by peer', 'no doubled code')
  // nodemailer's message names the recipient ("Message failed for recipient x@y: ..."); the reply does not.
  const perRecipient = Object.assign(new Error('Message failed for recipient kari@example.org: 554 5.0.0 no'), { code: 'EMESSAGE', response: '554 5.0.0 no', responseCode: 554 })
  t.equal(classifySmtpError(perRecipient).reply, '554 5.0.0 no')
  t.equal(classifySmtpError(undefined).reply, 'undefined')
  const long = classifySmtpError(smtpError(`554 5.0.0 ${'x'.repeat(5000)}`)).reply
  t.equal(long.length, MAX_REPLY_LENGTH)
  t.ok(long.endsWith('…'))
})

t.test('readEnhancedStatus finds the RFC 3463 code and ignores look-alikes', async (t) => {
  const table: Array<[string, string | undefined]> = [
    ['550 5.1.1 no such user', '5.1.1'],
    ['550-5.1.1 first line\n550 5.1.1 last line', '5.1.1'],
    ['451 4.3.0 later', '4.3.0'],
    ['250 2.0.0 Ok: queued as ABC', '2.0.0'],
    ['550 5.7.1 see 5.1.1 elsewhere', '5.7.1'],
    ['550 blocked, see (5.7.1)', '5.7.1'],
    ['554 client host 10.5.1.1 blocked', undefined],
    ['554 version 5.1.1.2 of the rules', undefined],
    ['550 No such user', undefined],
    ['550 5.1.10 RESOLVER.ADR.RecipientNotFound', '5.1.10'],
    ['550 5.001.1 padded', '5.1.1'],
    ['', undefined],
  ]
  for (const [reply, status] of table) t.equal(readEnhancedStatus(reply), status, JSON.stringify(reply))
})

t.test('classification never throws and always keeps a short single-line reply', async (t) => {
  fc.assert(fc.property(fc.anything({ withObjectString: true, withNullPrototype: true, withBoxedValues: true }), (value) => {
    const outcome = classifySmtpError(value)
    return ['deferred', 'failed', 'bounced'].includes(outcome.type) && outcome.reply.length <= MAX_REPLY_LENGTH && !/[\r\n]/.test(outcome.reply)
  }))
  fc.assert(fc.property(fc.string({ maxLength: 3000 }), fc.integer({ min: 200, max: 599 }), (text, code) => {
    const outcome = classifySmtpError({ responseCode: code, response: `${code} ${text}` })
    return outcome.reply.length <= MAX_REPLY_LENGTH && !/[\x00-\x1f\x7f]/.test(outcome.reply)
  }))
  t.pass('properties hold')
})

t.test('4xx is always deferred and only 5xx with a 5.1.x or 5.2.1 status (the return rules’ bad address) bounces', async (t) => {
  const status = fc.tuple(fc.constantFrom(2, 4, 5), fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 20 }))
  fc.assert(fc.property(fc.integer({ min: 400, max: 599 }), status, fc.stringMatching(/^[ -~]{0,80}$/), (code, [c, s, d], text) => {
    const outcome = classifySmtpError(smtpError(`${code} ${c}.${s}.${d} ${text}`))
    const hardBounce = code >= 500 && code !== 503 && c === 5 && (s === 1 || (s === 2 && d === 1))
    if (code < 500 || code === 503) return outcome.type === 'deferred'
    return outcome.type === (hardBounce ? 'bounced' : 'failed')
  }))
  t.pass('properties hold')
})

// --- transport options ---------------------------------------------------------------

t.test('the SMTP transport is a pool with the configured connections and per-second rate', async (t) => {
  const options = buildSmtpTransportOptions('smtp://user:secret@mail.example.org:2525', { smtpRatePerSecond: 14, smtpMaxConnections: 3, dkim: undefined })
  t.match(options, { url: 'smtp://user:secret@mail.example.org:2525', pool: true, maxConnections: 3, rateDelta: 1000, rateLimit: 14, logger: false })
  t.notOk('dkim' in options, 'no DKIM unless configured')

  // nodemailer merges the URL into the same options: what the pool actually runs with.
  const transport = nodemailer.createTransport(options)
  t.teardown(() => transport.close())
  t.match((transport.transporter as SMTPPool).options, { host: 'mail.example.org', port: 2525, secure: false, auth: { user: 'user', pass: 'secret' }, maxConnections: 3, rateDelta: 1000, rateLimit: 14 })
  t.equal(transport.transporter.name, 'SMTP (pool)')
})

t.test('with DKIM the transport signs with our header list, which covers the List-Unsubscribe pair', async (t) => {
  const { dkim } = dkimKeys()
  const options = buildSmtpTransportOptions('smtp://127.0.0.1:25', { smtpRatePerSecond: 1, smtpMaxConnections: 1, dkim })
  t.same(options.dkim, { ...dkim, headerFieldNames: DKIM_SIGNED_HEADERS })
  const names = DKIM_SIGNED_HEADERS.toLowerCase().split(':')
  for (const name of ['from', 'to', 'subject', 'date', 'message-id', 'mime-version', 'content-type', 'list-id', 'list-unsubscribe', 'list-unsubscribe-post']) {
    t.ok(names.includes(name), name)
  }
})

t.test('a DKIM key nodemailer could not sign with stops the mailer from being built', async (t) => {
  t.throws(() => createMailer(mailerConfig({ dkim: { domainName: 'd.example', keySelector: 's', privateKey: 'not a key' } })), /DKIM private key cannot be read/)
  const ed25519 = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  t.throws(() => createMailer(mailerConfig({ dkim: { domainName: 'd.example', keySelector: 's', privateKey: ed25519 } })), /must be an RSA key/)
})

// --- SMTP, against the sink ----------------------------------------------------------

t.test('over SMTP', async (t) => {
  const sink = await startSmtpSink()
  const mailer = createMailer(mailerConfig({ smtpUrl: sink.url }))
  // The pool holds its connections open: close it before the server.
  t.teardown(async () => {
    await mailer.close()
    await sink.close()
  })
  const acceptedIds: string[] = []
  const send = async (message: OutgoingMessage) => {
    const outcome = await mailer.send(message)
    if (outcome.type === 'accepted') acceptedIds.push(message.messageId)
    return outcome
  }

  t.test('a message arrives once, exactly as given', async (t) => {
    const before = sink.received.length
    const message = outgoing()
    const outcome = await send(message)
    t.equal(outcome.type, 'accepted')
    t.match(outcome.reply, /^250 /)
    t.equal(sink.received.length, before + 1, 'recorded once, before the 250')
    const { envelope, parsed, raw } = sink.received[before]!
    t.same(envelope, { from: 'post@samtykke.example', to: ['kari@example.org'] })
    t.equal(parsed.messageId, message.messageId)
    t.equal(rawHeader(parsed, 'Message-ID'), message.messageId, 'Message-ID as given, not rewritten')
    t.same(parsed.from?.value, [{ name: 'Åse Yoga', address: 'post@samtykke.example' }])
    t.same(Array.isArray(parsed.to) ? undefined : parsed.to?.value, [{ name: 'Kari Nordmann', address: 'kari@example.org' }])
    t.equal(parsed.subject, message.subject)
    t.equal(parsed.html, message.html)
    t.equal(parsed.text, message.text)
    t.ok(parsed.date instanceof Date, 'Date is set')
    for (const [name, value] of Object.entries(message.headers)) {
      t.equal(rawHeader(parsed, name), value, `${name} unfolds to the value given`)
    }
    t.ok(raw.toString('latin1').split('\r\n\r\n')[0]!.split('\r\n').every((line) => line.length <= 998), 'no header line over the RFC 5322 limit')
    t.notOk(/^X-Mailer:/im.test(raw.toString('latin1')), 'no X-Mailer header')
  })

  t.test('a 451 4.3.0 at the end of DATA is deferred with the server reply', async (t) => {
    sink.rejectNext({ code: 451, message: '4.3.0 Try again later' })
    t.same(await send(outgoing()), { type: 'deferred', reply: '451 4.3.0 Try again later' })
  })

  t.test('a 550 5.1.1 no such user bounces, at RCPT or at DATA', async (t) => {
    sink.rejectNext({ code: 550, message: '5.1.1 no such user', at: 'rcpt' })
    t.same(await send(outgoing()), { type: 'bounced', reply: '550 5.1.1 no such user' })
    sink.rejectNext({ code: 550, message: '5.1.1 no such user' })
    t.same(await send(outgoing()), { type: 'bounced', reply: '550 5.1.1 no such user' })
  })

  t.test('a 550 5.7.1 policy block is failed, not bounced', async (t) => {
    sink.rejectNext({ code: 550, message: '5.7.1 policy' })
    t.same(await send(outgoing()), { type: 'failed', reply: '550 5.7.1 policy' })
  })

  t.test('a 554 5.0.0 is failed', async (t) => {
    sink.rejectNext({ code: 554, message: '5.0.0 Transaction failed' })
    t.same(await send(outgoing()), { type: 'failed', reply: '554 5.0.0 Transaction failed' })
  })

  t.test('a 421 closing the connection is deferred, and the pool carries on afterwards', async (t) => {
    sink.rejectNext({ code: 421, message: '4.7.0 Too busy, closing' })
    t.equal((await send(outgoing())).type, 'deferred')
    t.equal((await send(outgoing())).type, 'accepted')
  })

  t.test('refused messages are not recorded as received', async (t) => {
    t.same(sink.received.map((m) => m.parsed.messageId), acceptedIds)
  })
})

t.test('a refused connection is deferred', async (t) => {
  const mailer = createMailer(mailerConfig({ smtpUrl: `smtp://127.0.0.1:${await closedPort()}` }))
  t.teardown(() => mailer.close())
  const outcome = await mailer.send(outgoing())
  t.equal(outcome.type, 'deferred')
  t.match(outcome.reply, /ECONNREFUSED/)
})

t.test('after close, a send is deferred instead of hanging', async (t) => {
  const sink = await startSmtpSink()
  t.teardown(() => sink.close())
  const mailer = createMailer(mailerConfig({ smtpUrl: sink.url }))
  t.equal((await mailer.send(outgoing())).type, 'accepted')
  await mailer.close()
  t.same(await mailer.send(outgoing()), { type: 'deferred', reply: 'ECONNECTION: Connection pool was closed' })
})

t.test('with DKIM, the signature covers List-Unsubscribe and List-Unsubscribe-Post and verifies', async (t) => {
  const { dkim, publicKey } = dkimKeys()
  const sink = await startSmtpSink()
  const mailer = createMailer(mailerConfig({ smtpUrl: sink.url, dkim }))
  t.teardown(async () => {
    await mailer.close()
    await sink.close()
  })
  t.equal((await mailer.send(outgoing())).type, 'accepted')
  const [received] = await sink.waitFor(1)
  const header = rawHeader(received!.parsed, 'DKIM-Signature') ?? ''
  t.match(header, /\bd=samtykke\.example\b/)
  t.match(header, /\bs=mail2025\b/)
  const check = checkDkim(received!.raw, publicKey)
  for (const name of ['from', 'to', 'subject', 'date', 'message-id', 'list-unsubscribe', 'list-unsubscribe-post', 'list-id']) {
    t.ok(check.signedHeaders.includes(name), `h= includes ${name}`)
  }
  t.ok(check.bodyHashMatches, 'body hash matches')
  t.ok(check.signatureValid, 'signature verifies with the public key')

  const tampered = Buffer.from(received!.raw.toString('latin1').replace('List-Unsubscribe-Post: List-Unsubscribe=One-Click', 'List-Unsubscribe-Post: List-Unsubscribe=Two-Click'), 'latin1')
  t.notOk(checkDkim(tampered, publicKey).signatureValid, 'changing List-Unsubscribe-Post breaks the signature')
})

// --- outbox --------------------------------------------------------------------------

t.test('with no SMTP URL, messages become .eml files in the outbox', async (t) => {
  const dataDir = t.testdir()
  const { dkim, publicKey } = dkimKeys()
  const mailer = createMailer(mailerConfig({ dataDir, dkim }))
  t.teardown(() => mailer.close())

  const messages = [1, 2, 3, 4, 5].map((n) => outgoing({ subject: `Melding ${n}` }))
  const outcomes = await Promise.all(messages.map((m) => mailer.send(m)))
  const files = (await readdir(join(dataDir, 'outbox'))).sort()

  t.same(outcomes.map((o) => o.type), ['accepted', 'accepted', 'accepted', 'accepted', 'accepted'])
  t.same(outcomes.map((o) => o.reply), files.map((f) => `outbox ${f}`), 'names sort in send order')
  t.equal(files.length, 5)
  t.ok(files.every((f) => /^[0-9a-f-]{36}\.eml$/.test(f)), 'only .eml files: no temp file left behind')

  for (const [i, file] of files.entries()) {
    const raw = await readFile(join(dataDir, 'outbox', file))
    const parsed = await simpleParser(raw)
    const message = messages[i]!
    t.equal(parsed.subject, message.subject)
    t.equal(parsed.messageId, message.messageId)
    t.equal(parsed.html, message.html)
    t.equal(parsed.text, message.text)
    t.same(parsed.from?.value, [{ name: 'Åse Yoga', address: 'post@samtykke.example' }])
    t.same(Array.isArray(parsed.to) ? undefined : parsed.to?.value, [{ name: 'Kari Nordmann', address: 'kari@example.org' }])
    for (const [name, value] of Object.entries(message.headers)) t.equal(rawHeader(parsed, name), value, `${file}: ${name}`)
    const check = checkDkim(raw, publicKey)
    t.ok(check.signedHeaders.includes('list-unsubscribe') && check.signedHeaders.includes('list-unsubscribe-post'), `${file}: h= covers the List-Unsubscribe pair`)
    t.ok(check.bodyHashMatches && check.signatureValid, `${file}: DKIM signature verifies on the file as written`)
  }
})

t.test('an outbox that cannot be written is deferred, not thrown', async (t) => {
  const dataDir = t.testdir({ outbox: 'a file where the folder should be' })
  const mailer = createMailer(mailerConfig({ dataDir }))
  t.teardown(() => mailer.close())
  const outcome = await mailer.send(outgoing())
  t.equal(outcome.type, 'deferred')
  t.match(outcome.reply, /EEXIST|ENOTDIR/)
})
