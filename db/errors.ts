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
