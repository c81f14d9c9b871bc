// How an import file's columns are read: the fields an import knows, the
// header names listmonk, Mailchimp and Mailtrain give them in their exports
// (mapped by default), and a mapping that names others. Pure: a header in,
// a plan of which column fills which field out, or a problem naming what is
// wrong with the header. Knows no rows.
import { UnprocessableError } from '../lib/errors.js'
import { ImportFormat } from '../vocabulary.js'

/** What a column can be read as; `ignore` drops a column a default would have read. */
export const IMPORT_FIELDS = [
  'email',
  'name',
  'firstName',
  'lastName',
  'list',
  'subscribedAt',
  'consentSource',
  'consentText',
  'ip',
  'status',
  'leftAt',
] as const
export type ImportField = (typeof IMPORT_FIELDS)[number]
export const IGNORE = 'ignore'

/** A header as compared: case, spaces, underscores and hyphens do not matter ("Email Address" is email_address). */
export const normaliseHeader = (header: string) =>
  header.replace(/^\uFEFF/, '').trim().toLowerCase().replace(/[\s_-]+/g, '_')

/**
 * The header names each field is read from when the file has them, most
 * telling first: where a row has several, the first that is not empty wins.
 * listmonk exports `uuid, email, name, attributes, status, created_at,
 * updated_at`; Mailchimp's audience export `Email Address, First Name, Last
 * Name, …, OPTIN_TIME, OPTIN_IP, CONFIRM_TIME, CONFIRM_IP, …` (its
 * unsubscribed and cleaned files add UNSUB_TIME and CLEAN_TIME); Mailtrain
 * `cid, status, HASH_EMAIL, EMAIL` and the list's merge tags
 * (MERGE_FIRST_NAME, MERGE_LAST_NAME or MERGE_NAME; FIRST_NAME and LAST_NAME
 * on lists from Mailtrain v1).
 */
const DEFAULT_HEADERS: Record<ImportField, string[]> = {
  email: ['email', 'email_address', 'e_mail', 'epost', 'e_post', 'e_postadresse'],
  name: ['name', 'full_name', 'merge_name', 'navn'],
  firstName: ['first_name', 'merge_first_name', 'fname', 'fornavn'],
  lastName: ['last_name', 'merge_last_name', 'lname', 'etternavn'],
  list: ['list', 'list_slug', 'liste'],
  // The moment of the opt-in is the consent; a confirmation comes after it, and listmonk knows only when the subscriber was made.
  subscribedAt: ['subscribed_at', 'optin_time', 'confirm_time', 'created_at'],
  consentSource: ['consent_source', 'source'],
  consentText: ['consent_text'],
  ip: ['ip', 'optin_ip', 'confirm_ip'],
  status: ['status'],
  leftAt: ['left_at', 'unsubscribed_at', 'unsub_time', 'clean_time'],
}

/** Which field each normalised default header name fills, and how telling it is among that field's names. */
const DEFAULTS = new Map<string, { field: ImportField; rank: number }>(
  Object.entries(DEFAULT_HEADERS).flatMap(([field, names]) => names.map((name, rank) => [name, { field: field as ImportField, rank }] as const)),
)

/** The tool that made the file, by the columns only it writes. */
export function detectFormat(headers: string[]): ImportFormat {
  const has = new Set(headers.map(normaliseHeader))
  if (has.has('email_address') && ['member_rating', 'leid', 'euid', 'optin_time'].some((h) => has.has(h))) return ImportFormat.mailchimp
  if (['uuid', 'email', 'attributes'].every((h) => has.has(h))) return ImportFormat.listmonk
  if (['cid', 'hash_email', 'email'].every((h) => has.has(h))) return ImportFormat.mailtrain
  return ImportFormat.generic
}

/** For each field, the columns it is read from, in order; and for each column what it was read as. */
export interface ColumnPlan {
  fields: Partial<Record<ImportField, number[]>>
  columns: { header: string; field: ImportField | null }[]
}

const mappingError = (message: string) => new UnprocessableError('import_mapping_invalid', message)

/** Checks a mapping (header → field or `ignore`) against the fields there are; the header is checked with the file. */
export function checkMapping(mapping: Record<string, string>): void {
  for (const [header, field] of Object.entries(mapping)) {
    if (field !== IGNORE && !(IMPORT_FIELDS as readonly string[]).includes(field)) {
      throw mappingError(`The mapping reads "${header}" as "${field}", which is no field; the fields are ${IMPORT_FIELDS.join(', ')} (or ${IGNORE})`)
    }
  }
}

/**
 * The plan for reading a file with this header: the mapping's columns first
 * (in the file's order), then the defaults (most telling first). A mapping
 * that names a column the file lacks is refused, and so is a header with no
 * column for the address.
 */
export function planColumns(headers: string[], mapping: Record<string, string>): ColumnPlan {
  checkMapping(mapping)
  // A file without a header row would have its first person's address taken for a column name (and kept as one).
  if (headers.some((h) => h.includes('@'))) {
    throw new UnprocessableError('import_no_email_column', 'The first line of the file must name its columns; it holds an address, so it looks like a row')
  }
  const mapped = new Map(Object.entries(mapping).map(([header, field]) => [normaliseHeader(header), { header, field }]))
  const present = new Set(headers.map(normaliseHeader))
  for (const [name, { header }] of mapped) {
    if (!present.has(name)) throw mappingError(`The mapping names a column "${header}", and the file has none; its columns are ${headers.join(', ')}`)
  }
  const explicit: { field: ImportField; column: number }[] = []
  const defaulted: { field: ImportField; column: number; rank: number }[] = []
  const columns = headers.map((header, column) => {
    const name = normaliseHeader(header)
    const chosen = mapped.get(name)
    if (chosen) {
      if (chosen.field === IGNORE) return { header, field: null }
      explicit.push({ field: chosen.field as ImportField, column })
      return { header, field: chosen.field as ImportField }
    }
    const byDefault = DEFAULTS.get(name)
    if (!byDefault) return { header, field: null }
    defaulted.push({ ...byDefault, column })
    return { header, field: byDefault.field }
  })
  const fields: ColumnPlan['fields'] = {}
  for (const { field, column } of [...explicit, ...defaulted.sort((a, b) => a.rank - b.rank || a.column - b.column)]) {
    ;(fields[field] ??= []).push(column)
  }
  if (!fields.email) {
    throw new UnprocessableError(
      'import_no_email_column',
      `No column of the file holds the address: name it with mapping (e.g. "${headers[0] ?? 'Epost'}=email"); its columns are ${headers.join(', ')}`,
    )
  }
  return { fields, columns }
}

/** Parses `Header=field` pairs (the CLI's --map), the last `=` separating them (a header may hold one). */
export function parseMappingPairs(pairs: string[]): Record<string, string> {
  const mapping: Record<string, string> = {}
  for (const pair of pairs) {
    const at = pair.lastIndexOf('=')
    if (at <= 0 || at === pair.length - 1) throw mappingError(`--map "${pair}" is not Header=field`)
    mapping[pair.slice(0, at).trim()] = pair.slice(at + 1).trim()
  }
  return mapping
}
