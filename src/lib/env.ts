// Readers of one environment variable each, for src/config.ts: a value is
// parsed and checked, and a bad one is a ConfigError naming the variable in
// one line. Pure over the record they are given; only config.ts passes
// process.env.
import { isIP } from 'node:net'
import { parseDurationSeconds } from './duration.js'

export class ConfigError extends Error {
  constructor(readonly variable: string, problem: string) {
    super(`${variable}: ${problem}`)
    this.name = 'ConfigError'
  }
}

export type Env = Record<string, string | undefined>

export function readInt(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`)
  const value = Number(raw)
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`)
  return value
}

export function readBoolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (raw === 'true' || raw === '1') return true
  if (raw === 'false' || raw === '0') return false
  throw new ConfigError(name, `must be true or false, got "${raw}"`)
}

export function readUrl(env: Env, name: string, protocols: string[]): string | undefined {
  const raw = env[name]
  if (raw === undefined || raw === '') return undefined
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new ConfigError(name, 'is not a valid URL')
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(name, `must use ${protocols.join(' or ')}, got ${url.protocol}`)
  }
  return raw
}

export function readEmail(env: Env, name: string, fallback: string): string {
  const raw = env[name] ?? fallback
  // Only a shape check: these are our own addresses, written by an operator.
  if (!/^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/.test(raw.replace(/^.*<(.+)>\s*$/, '$1'))) {
    throw new ConfigError(name, `is not an email address: "${raw}"`)
  }
  return raw
}

export function readDuration(env: Env, name: string, fallback: string, maxSeconds: number): number {
  const raw = env[name] || fallback
  const seconds = parseDurationSeconds(raw)
  if (seconds === undefined || seconds < 60) throw new ConfigError(name, `must be a duration of a minute or more such as 12h or 365d, got "${raw}"`)
  if (seconds > maxSeconds) throw new ConfigError(name, `must be at most ${maxSeconds / 86400} days`)
  return seconds
}

export function readText(env: Env, name: string, fallback: string): string {
  const raw = env[name] || fallback
  if (!/^[\x21-\x7e]{1,200}$/.test(raw)) throw new ConfigError(name, 'must be 1–200 printable ASCII characters without spaces')
  return raw
}

/** Comma-separated addresses or CIDR ranges of trusted proxies; unset or "false" trusts none. */
export function readProxies(env: Env, name: string): string[] | false {
  const raw = env[name]?.trim()
  if (!raw || raw === 'false') return false
  return readAddressRanges(env, name) ?? false
}

/** Comma-separated IP addresses or CIDR ranges (192.0.2.0/24, ::1); undefined when unset. */
export function readAddressRanges(env: Env, name: string): string[] | undefined {
  const raw = env[name]?.trim()
  if (!raw) return undefined
  const entries = raw.split(',').map((entry) => entry.trim())
  for (const entry of entries) {
    const [address, bits, ...rest] = entry.split('/')
    const family = isIP(address ?? '')
    const maxBits = family === 6 ? 128 : 32
    if (!family || rest.length > 0 || (bits !== undefined && !(/^\d{1,3}$/.test(bits) && Number(bits) <= maxBits))) {
      throw new ConfigError(name, `must list IP addresses or CIDR ranges separated by commas, got "${entry}"`)
    }
  }
  return entries
}

export function readSecret(env: Env, name: string, minLength: number): string | undefined {
  const raw = env[name]
  if (raw === undefined || raw === '') return undefined
  if (raw.length < minLength) throw new ConfigError(name, `must be at least ${minLength} characters`)
  return raw
}

/** `id:secret` pairs separated by commas; each secret 32+ characters. */
export function readSigningKeys(env: Env, name: string): { id: string; secret: string }[] | undefined {
  const raw = env[name]
  if (raw === undefined || raw === '') return undefined
  const keys = raw.split(',').map((entry) => {
    const at = entry.indexOf(':')
    const id = entry.slice(0, at).trim()
    const secret = entry.slice(at + 1).trim()
    if (at <= 0 || !/^[A-Za-z0-9_-]{1,16}$/.test(id) || secret.length < 32) {
      throw new ConfigError(name, 'must be id:secret pairs separated by commas: ids of 1–16 letters, digits, - and _; secrets of 32+ characters')
    }
    return { id, secret }
  })
  if (new Set(keys.map((k) => k.id)).size !== keys.length) throw new ConfigError(name, 'names a key id twice')
  return keys
}
