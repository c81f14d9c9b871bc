// Factories: make rows through the real API so every test exercises the same paths users do.
import type { TestApp } from './helper.js'

let counter = 0
export const uniqueEmail = (prefix = 'person') => `${prefix}.${process.pid}.${++counter}@example.no`

export async function createContact(t: TestApp, body: Record<string, unknown> = {}) {
  const res = await t.as('staff')({ method: 'POST', url: '/v1/contacts', payload: { email: uniqueEmail(), ...body } })
  if (res.statusCode !== 201) throw new Error(`createContact: ${res.statusCode} ${res.body}`)
  return res.json()
}
