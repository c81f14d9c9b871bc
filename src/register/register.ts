// The processing register (GDPR art. 30) as configuration: purposes, their
// legal basis, the categories of data and of people, retention and the
// processors who receive data. The file in the repo
// (src/register/processing-register.json, or PROCESSING_REGISTER_FILE) is
// loaded and checked at start, and the behaviour reads it: which purposes a
// list may have, how long retention keeps what, what the access export tells
// the person. The document and the behaviour cannot drift apart because
// there is only the one.
import { readFileSync } from 'node:fs'
import { Ajv } from 'ajv'
import { Type, type Static } from 'typebox'
import { enumOf } from '../lib/schemas.js'
import { LegalBasis, ListKind } from '../vocabulary.js'

const Id = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' })
const Text = Type.Object({ nb: Type.String({ minLength: 1 }), en: Type.String({ minLength: 1 }) }, { additionalProperties: false, description: 'Norwegian and English' })

export const RetentionRule = {
  /** Course data: erased or anonymised `days` after the course ends, unless the person asked to keep it (P1). */
  afterCourseEnd: 'after_course_end',
  /** Kept while the person is a customer or on a course. */
  whileRelated: 'while_related',
  /** Kept while subscribed; the opt-out itself is kept so it is honoured. */
  whileSubscribed: 'while_subscribed',
  /** Unconfirmed signups are deleted after `days`. */
  unconfirmedAfter: 'unconfirmed_after',
  /** Payment references: until paid or `days` of withdrawal period have passed (P10). */
  afterWithdrawalPeriod: 'after_withdrawal_period',
  /** Kept `years` because a law says so (P11). */
  years: 'years',
  /** Proof rows keep only the keyed address hash after `days`. */
  redactAfter: 'redact_after',
} as const
export type RetentionRule = (typeof RetentionRule)[keyof typeof RetentionRule]

/** The rules that take a number of days, and the one that takes years. */
const NEEDS_DAYS: ReadonlySet<string> = new Set([RetentionRule.afterCourseEnd, RetentionRule.unconfirmedAfter, RetentionRule.afterWithdrawalPeriod, RetentionRule.redactAfter])

const Retention = Type.Object(
  {
    rule: enumOf(RetentionRule),
    days: Type.Optional(Type.Integer({ minimum: 0, maximum: 36_500 })),
    years: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    text: Text,
  },
  { additionalProperties: false },
)

const Named = Type.Object({ id: Id, name: Text }, { additionalProperties: false })

export const Purpose = Type.Object(
  {
    id: Id,
    name: Text,
    description: Text,
    legalBasis: enumOf(LegalBasis),
    listKinds: Type.Array(enumOf(ListKind), { description: 'The kinds of list that may serve this purpose' }),
    dataSubjects: Type.Array(Id),
    dataCategories: Type.Array(Id),
    recipients: Type.Array(Id, { description: 'Processors that receive data for this purpose' }),
    retention: Retention,
  },
  { additionalProperties: false },
)
export type Purpose = Static<typeof Purpose>

const Notify = Type.Union([
  Type.Object({ type: Type.Literal('manual') }, { additionalProperties: false, description: 'Staff tell the processor; the notice is a task for them' }),
  Type.Object(
    {
      type: Type.Literal('webhook'),
      url: Type.String({ pattern: '^https?://' }),
      secretEnv: Type.String({ pattern: '^[A-Z][A-Z0-9_]*$', description: 'The environment variable holding the HMAC secret (never the secret itself)' }),
    },
    { additionalProperties: false, description: 'An HMAC-signed POST, retried until it is taken' },
  ),
])

export const Processor = Type.Object(
  { id: Id, name: Type.String({ minLength: 1 }), role: Text, dataCategories: Type.Array(Id), notify: Notify },
  { additionalProperties: false },
)
export type Processor = Static<typeof Processor>

export const ProcessingRegister = Type.Object(
  {
    version: Type.String({ minLength: 1 }),
    dataSubjects: Type.Array(Named),
    dataCategories: Type.Array(Named),
    purposes: Type.Array(Purpose, { minItems: 1 }),
    processors: Type.Array(Processor),
    security: Text,
  },
  { additionalProperties: false },
)
export type ProcessingRegister = Static<typeof ProcessingRegister>

export const DEFAULT_REGISTER_FILE = new URL('./processing-register.json', import.meta.url)

/** The register's problems beyond its shape: unknown references, duplicates, retention rules without their number. */
function crossCheck(register: ProcessingRegister): string[] {
  const problems: string[] = []
  const ids = (items: { id: string }[], what: string) => {
    const seen = new Set<string>()
    for (const { id } of items) {
      if (seen.has(id)) problems.push(`${what} "${id}" appears twice`)
      seen.add(id)
    }
    return seen
  }
  const subjects = ids(register.dataSubjects, 'data subject category')
  const categories = ids(register.dataCategories, 'data category')
  const processors = ids(register.processors, 'processor')
  ids(register.purposes, 'purpose')
  for (const purpose of register.purposes) {
    const where = `purpose "${purpose.id}"`
    for (const id of purpose.dataSubjects) if (!subjects.has(id)) problems.push(`${where} names an unknown data subject category "${id}"`)
    for (const id of purpose.dataCategories) if (!categories.has(id)) problems.push(`${where} names an unknown data category "${id}"`)
    for (const id of purpose.recipients) if (!processors.has(id)) problems.push(`${where} names an unknown processor "${id}"`)
    const { rule, days, years } = purpose.retention
    if (NEEDS_DAYS.has(rule) && days === undefined) problems.push(`${where}: retention "${rule}" needs days`)
    if (rule === RetentionRule.years && years === undefined) problems.push(`${where}: retention "years" needs years`)
  }
  for (const processor of register.processors) {
    for (const id of processor.dataCategories) if (!categories.has(id)) problems.push(`processor "${processor.id}" names an unknown data category "${id}"`)
  }
  for (const kind of Object.values(ListKind)) {
    if (!register.purposes.some((p) => p.listKinds.includes(kind))) problems.push(`no purpose serves ${kind} lists`)
  }
  return problems
}

const validate = new Ajv({ allErrors: true, strict: false }).compile(ProcessingRegister)

/** Checks a register; throws one error naming every problem. */
export function checkRegister(value: unknown, source = 'the processing register'): ProcessingRegister {
  if (!validate(value)) {
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`)
    throw new Error(`${source} is not valid:\n  ${problems.join('\n  ')}`)
  }
  const problems = crossCheck(value)
  if (problems.length > 0) throw new Error(`${source} is not valid:\n  ${problems.join('\n  ')}`)
  return value
}

/** Reads and checks the register file. */
export function loadRegister(file: string | URL = DEFAULT_REGISTER_FILE): ProcessingRegister {
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'))
  } catch (error) {
    throw new Error(`the processing register ${String(file)} could not be read: ${(error as Error).message}`)
  }
  return checkRegister(parsed, `the processing register ${String(file)}`)
}

/** The purpose with this id, if the register has it. */
export const findPurpose = (register: ProcessingRegister, id: string): Purpose | undefined => register.purposes.find((p) => p.id === id)

/** The purpose a list gets when none is named: the first that serves its kind on its basis. */
export const defaultPurpose = (register: ProcessingRegister, kind: ListKind, basis: LegalBasis): Purpose | undefined =>
  register.purposes.find((p) => p.listKinds.includes(kind) && p.legalBasis === basis)

/** The purpose whose retention follows a rule (the retention runs read their days here). */
export function purposeWithRetention(register: ProcessingRegister, rule: RetentionRule): Purpose | undefined {
  return register.purposes.find((p) => p.retention.rule === rule)
}
