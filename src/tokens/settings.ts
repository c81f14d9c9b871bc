import type { Config } from '../config.js'
import type { TokenSettings } from './sign.js'

/** The token settings of a configuration: what signing and verifying share. */
export function tokenSettings(config: Config): TokenSettings {
  return {
    secret: config.jwtSecret,
    issuer: config.tokenIssuer,
    audience: config.tokenAudience,
    maxLifetimeSeconds: config.tokenMaxLifetimeSeconds,
    courseSystemMaxLifetimeSeconds: config.courseSystemTokenMaxLifetimeSeconds,
  }
}
