/** A field's value before and after a change. */
export interface FieldChange {
  from: unknown
  to: unknown
}

/** Field-by-field difference between a record and the fields given for it (undefined: not given). */
export function diffFields(before: object, after: object): Record<string, FieldChange> {
  const changes: Record<string, FieldChange> = {}
  const old = before as Record<string, unknown>
  for (const [field, value] of Object.entries(after)) {
    if (value === undefined) continue
    if (JSON.stringify(old[field]) !== JSON.stringify(value)) changes[field] = { from: old[field] ?? null, to: value }
  }
  return changes
}
