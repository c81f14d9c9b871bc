// One home for "deliver a signed POST with retries" to a receiver outside the
// service: the HTTP attempt itself (a timeout, no redirects followed, the
// answer classified) and the backoff between attempts. Processor notices
// (src/processors) and webhooks (src/webhooks) both post through here, each
// with its own headers and signature scheme. Never call it inside a database
// transaction: a slow receiver would hold the transaction's locks.
//
// The error text it returns is kept in delivery logs and shown to staff, so it
// never quotes the receiver's answer, the URL or the body (which may carry
// personal data or a secret in a query string): only a status, a timeout, or a
// network error code.

/** Long enough for a receiver that writes to its own database; short enough that one stuck receiver does not stall a turn of the job. */
export const POST_TIMEOUT_MS = 10_000

export interface PostOutcome {
  ok: boolean
  /** The receiver's HTTP status, if it answered. */
  statusCode: number | null
  /** Why it was not taken, without personal data: `HTTP 503`, `timed out`, `redirect refused`, `connection failed: ECONNREFUSED`. */
  error: string | null
  durationMs: number
}

/** A network error's code (ECONNREFUSED, ENOTFOUND…), never its message, which names the host and port. */
function networkError(caught: unknown): string {
  const error = caught as Error & { cause?: { code?: string; name?: string; message?: string } }
  if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'timed out'
  // undici refuses a redirect under redirect: 'error' with this message, and no code.
  if (/redirect/i.test(error.cause?.message ?? error.message)) return 'redirect refused'
  const code = error.cause?.code ?? error.cause?.name ?? error.name
  return `connection failed: ${String(code).replace(/[^A-Za-z0-9_]/g, '').slice(0, 40) || 'unknown'}`
}

/**
 * One POST of `body` to `url`. A 2xx answer is taken; anything else, a
 * timeout, a redirect (never followed: a receiver that moved re-registers,
 * and a redirect must not carry a signed body elsewhere) or a network error
 * is not. The answer's body is discarded unread.
 */
export async function postOnce(
  url: string,
  body: string,
  headers: Record<string, string>,
  options: { fetch?: typeof fetch; timeoutMs?: number; now?: () => number } = {},
): Promise<PostOutcome> {
  const post = options.fetch ?? fetch
  const now = options.now ?? performance.now.bind(performance)
  const started = now()
  const elapsed = () => Math.max(0, Math.round(now() - started))
  try {
    const response = await post(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      redirect: 'error',
      signal: AbortSignal.timeout(options.timeoutMs ?? POST_TIMEOUT_MS),
    })
    await response.body?.cancel()
    const ok = response.status >= 200 && response.status < 300
    return { ok, statusCode: response.status, error: ok ? null : `HTTP ${response.status}`, durationMs: elapsed() }
  } catch (caught) {
    return { ok: false, statusCode: null, error: networkError(caught), durationMs: elapsed() }
  }
}

/**
 * The wait before the next attempt after `attempts` failed ones: doubling from
 * `firstMs`, at most `maxMs` — so a receiver that is down for hours is asked
 * a few times an hour, not hammered, and one back in a minute hears soon.
 */
export const exponentialBackoff = (attempts: number, firstMs: number, maxMs: number) => Math.min(2 ** Math.max(0, attempts - 1) * firstMs, maxMs)
