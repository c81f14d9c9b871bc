// Durations as operators write them: "90s", "15m", "12h", "7d", or a bare number of seconds.

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 60 * 60, d: 24 * 60 * 60 }

/** Seconds in a duration like "12h"; undefined when the text is not one. */
export function parseDurationSeconds(text: string): number | undefined {
  const match = /^(\d{1,9})([smhd]?)$/.exec(text.trim())
  if (!match) return undefined
  return Number(match[1]) * UNIT_SECONDS[match[2] || 's']!
}
