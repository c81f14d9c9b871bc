// Who may read GET /metrics. The metrics name campaigns and show the
// service's load, so they are not public: a bearer token of their own
// (METRICS_TOKEN, not a staff JWT: a scraper holds no role) and/or an
// allow-list of addresses and CIDR ranges (METRICS_ALLOW); each one that is
// configured must be met. With neither, only loopback may read them: a
// scraper or agent on the same host works out of the box, and nothing is
// open to the network until the operator says who may scrape.
import { createHash, timingSafeEqual } from 'node:crypto'
import { BlockList, isIPv4 } from 'node:net'
import { AppError, UnauthorizedError } from '../lib/errors.js'

const LOOPBACK = ['127.0.0.0/8', '::1']

function blockListOf(ranges: string[]): BlockList {
  const list = new BlockList()
  for (const range of ranges) {
    const [address, bits] = range.split('/') as [string, string | undefined]
    const family = isIPv4(address) ? 'ipv4' : 'ipv6'
    if (bits === undefined) list.addAddress(address, family)
    else list.addSubnet(address, Number(bits), family)
  }
  return list
}

/** Equal-length digests compared in constant time: the comparison does not tell how much of a guess was right. */
const digest = (text: string) => createHash('sha256').update(text).digest()

export function createMetricsGuard(settings: { token: string | undefined; allow: string[] | undefined }) {
  const allowed = settings.allow ?? (settings.token ? undefined : LOOPBACK)
  const addresses = allowed && blockListOf(allowed)
  const expected = settings.token && digest(`Bearer ${settings.token}`)

  return {
    /** Returns when the request may read the metrics; throws the problem that refuses it otherwise (403 for the address, 401 for the token). */
    check(request: { ip: string; authorization: string | undefined }): void {
      if (addresses && !addresses.check(request.ip, isIPv4(request.ip) ? 'ipv4' : 'ipv6')) {
        throw new AppError(403, 'forbidden', settings.allow ? 'This address is not in METRICS_ALLOW' : 'Without METRICS_TOKEN or METRICS_ALLOW the metrics are served to loopback only')
      }
      if (!expected) return
      if (!request.authorization) throw new UnauthorizedError('unauthorized', 'The metrics need their bearer token (METRICS_TOKEN)')
      if (!timingSafeEqual(digest(request.authorization), expected)) throw new UnauthorizedError('token_invalid', 'The metrics token is not valid')
    },
  }
}
