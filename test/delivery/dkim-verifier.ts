// A small DKIM verifier (RFC 6376, relaxed/relaxed, rsa-sha256) for the
// mailer tests: signatures are checked here, independently, not by trusting
// nodemailer's own code.
import { createHash, verify, type KeyObject } from 'node:crypto'

export interface DkimCheck { signedHeaders: string[]; bodyHashMatches: boolean; signatureValid: boolean }

export function checkDkim(raw: Buffer, publicKey: KeyObject): DkimCheck {
  const text = raw.toString('latin1')
  const split = text.indexOf('\r\n\r\n')
  const headerBlock = text.slice(0, split)
  const body = text.slice(split + 4)
  const fields = headerBlock.split(/\r\n(?![ \t])/).map((field) => ({ name: field.slice(0, field.indexOf(':')).trim().toLowerCase(), field }))
  const signature = fields.find((f) => f.name === 'dkim-signature')
  if (!signature) throw new Error('no DKIM-Signature header')
  const relaxedValue = (field: string) => field.slice(field.indexOf(':') + 1).replace(/\r\n/g, '').replace(/[ \t]+/g, ' ').trim()
  const relaxedField = (field: string) => `${field.slice(0, field.indexOf(':')).trim().toLowerCase()}:${relaxedValue(field)}`
  const tags = new Map(relaxedValue(signature.field).split(';').map((tag) => {
    const at = tag.indexOf('=')
    return [tag.slice(0, at).trim(), tag.slice(at + 1).replace(/\s+/g, '')] as const
  }))
  const signedHeaders = (tags.get('h') ?? '').split(':').map((h) => h.trim().toLowerCase())

  const bodyLines = body.split('\r\n').map((line) => line.replace(/[ \t]+/g, ' ').replace(/ $/, ''))
  while (bodyLines.length > 0 && bodyLines[bodyLines.length - 1] === '') bodyLines.pop()
  const canonicalBody = bodyLines.length > 0 ? `${bodyLines.join('\r\n')}\r\n` : ''
  const bodyHashMatches = createHash('sha256').update(canonicalBody, 'latin1').digest('base64') === tags.get('bh')

  // Each name in h= takes the next instance of that field from the bottom up.
  const used = new Map<string, number>()
  const canonicalHeaders = signedHeaders.map((name) => {
    const instances = fields.filter((f) => f.name === name)
    const seen = used.get(name) ?? 0
    used.set(name, seen + 1)
    const instance = instances[instances.length - 1 - seen]
    return instance ? `${relaxedField(instance.field)}\r\n` : ''
  }).join('')
  const unsignedSignature = relaxedField(signature.field.replace(/(^|;)(\s*b\s*=)[^;]*/, '$1$2'))
  const signatureValid = verify('RSA-SHA256', Buffer.from(canonicalHeaders + unsignedSignature, 'latin1'), publicKey, Buffer.from(tags.get('b') ?? '', 'base64'))
  return { signedHeaders, bodyHashMatches, signatureValid }
}
