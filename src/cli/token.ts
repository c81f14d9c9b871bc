// `npm run token -- --role staff --name "Kari Nordmann" [--sub id] [--expires-in 12h]`
// prints a JWT signed with the configured secret. The name is the actor in the audit log.
import { parseArgs } from 'node:util'
import { createSigner } from 'fast-jwt'
import { Role } from '../../db/schema/enums.js'
import { loadConfig } from '../config.js'

const { values } = parseArgs({
  options: {
    role: { type: 'string' },
    name: { type: 'string' },
    sub: { type: 'string' },
    'expires-in': { type: 'string', default: '12h' },
  },
})
const roles = Object.values(Role) as string[]
if (!values.role || !roles.includes(values.role)) {
  console.error(`--role must be one of: ${roles.join(', ')}`)
  process.exit(2)
}
const name = values.name ?? values.role
const sub = values.sub ?? `${values.role}:${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`
const expiresIn = values['expires-in']!
const sign = createSigner({ key: loadConfig().jwtSecret, expiresIn: /^\d+$/.test(expiresIn) ? Number(expiresIn) * 1000 : expiresIn })
console.log(sign({ sub, name, role: values.role }))
