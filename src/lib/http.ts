// Small HTTP conventions every route follows. Routes only: services know no HTTP.
import type { FastifyReply } from 'fastify'

/** Where the staff and course-system API lives (routes.ts registers it there). */
export const API_PREFIX = '/v1'

/**
 * 201 with the new resource's address in Location (RFC 9110 § 10.2.2), or 200
 * when the request found the resource already there (an idempotent repeat).
 */
export function createdOrFound<T>(reply: FastifyReply, created: boolean, path: string, body: T) {
  if (created) reply.header('location', `${API_PREFIX}${path}`)
  return reply.code(created ? 201 : 200).send(body)
}
