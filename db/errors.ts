// Normalises driver errors: postgres.js and PGlite name the same facts differently.

interface PgErrorFields {
  code?: string
  constraint?: string
  constraint_name?: string
}

function pgFields(error: unknown): PgErrorFields | undefined {
  // Drizzle wraps the driver's error in DrizzleQueryError and keeps it as `cause`.
  let current: unknown = error
  for (let depth = 0; depth < 3 && current && typeof current === 'object'; depth++) {
    const fields = current as PgErrorFields & { cause?: unknown }
    if (typeof fields.code === 'string' && /^[0-9A-Z]{5}$/.test(fields.code)) return fields
    current = fields.cause
  }
  return undefined
}

/** The violated unique constraint's name, or undefined when the error is something else. */
export function uniqueViolation(error: unknown): string | undefined {
  const fields = pgFields(error)
  if (fields?.code !== '23505') return undefined
  return fields.constraint_name ?? fields.constraint ?? ''
}

/** The violated foreign key constraint's name, or undefined. */
export function foreignKeyViolation(error: unknown): string | undefined {
  const fields = pgFields(error)
  if (fields?.code !== '23503') return undefined
  return fields.constraint_name ?? fields.constraint ?? ''
}

/** Serialisation failures and deadlocks: the transaction may simply be retried. */
export function isRetryable(error: unknown): boolean {
  const code = pgFields(error)?.code
  return code === '40001' || code === '40P01'
}
