// Reads an import file as CSV, streamed: its header (and delimiter) from the
// first bytes, then its records one at a time with the line each starts on,
// so memory stays flat whatever the file's size. csv-parse does the parsing;
// what is ours is the sniffing (binary is not CSV; comma, semicolon or tab,
// as spreadsheets save them) and the line numbers (csv-parse's own count is
// off after a quoted line break). Knows nothing of fields or rows.
import { createReadStream } from 'node:fs'
import { open } from 'node:fs/promises'
import { parse } from 'csv-parse'
import { parse as parseSync } from 'csv-parse/sync'
import { AppError, UnprocessableError } from '../lib/errors.js'

/** How much of the file is read to find its header and delimiter, and to tell text from binary. */
const SNIFF_BYTES = 64 * 1024
/** The longest record taken: beyond it (an unclosed quote swallowing the file) the file is refused, not held in memory. */
const MAX_RECORD_BYTES = 64 * 1024
const DELIMITERS = [',', ';', '\t'] as const

export interface CsvShape {
  headers: string[]
  delimiter: string
  bytes: number
}

export class MalformedCsvError extends UnprocessableError {
  constructor(readonly line: number, problem: string) {
    super('import_malformed_csv', `The file breaks off at line ${line}: ${problem}; nothing after it was read`, { line })
  }
}

const notCsv = (message: string) => new AppError(415, 'import_not_csv', message)

/** The delimiter the header line uses most, outside quotes; a comma when it uses none. */
function sniffDelimiter(firstLine: string): string {
  const counts = new Map<string, number>(DELIMITERS.map((d) => [d, 0]))
  let quoted = false
  for (const char of firstLine) {
    if (char === '"') quoted = !quoted
    else if (!quoted && counts.has(char)) counts.set(char, counts.get(char)! + 1)
  }
  return [...counts].reduce((best, entry) => (entry[1] > best[1] ? entry : best), [',', 0])[0]
}

/** The file's header and delimiter, from its first bytes; refuses binary and empty files. */
export async function readCsvShape(path: string): Promise<CsvShape> {
  const file = await open(path)
  try {
    const { size } = await file.stat()
    const head = Buffer.alloc(Math.min(SNIFF_BYTES, size))
    const { bytesRead } = await file.read(head, 0, head.length, 0)
    const sniffed = head.subarray(0, bytesRead)
    if (sniffed.includes(0)) throw notCsv('The file is not CSV text: it holds binary data')
    let text: string
    try {
      // `stream`: a character cut in two at the end of the sniffed bytes is not an error.
      text = new TextDecoder('utf-8', { fatal: true }).decode(sniffed, { stream: true }).replace(/^\uFEFF/, '')
    } catch {
      throw notCsv('The file is not UTF-8 text (Excel\'s plain "CSV" is Windows-1252): save it as "CSV UTF-8" and send it again')
    }
    const firstLine = text.split(/\r?\n/, 1)[0] ?? ''
    if (firstLine.trim() === '') throw notCsv('The file is empty, or its first line is: the first line must name the columns')
    const delimiter = sniffDelimiter(firstLine)
    const [headers] = parseSync(firstLine, { delimiter, relax_quotes: true, relax_column_count: true }) as string[][]
    return { headers: headers!.map((h) => h.trim()), delimiter, bytes: size }
  } catch (error) {
    if (error instanceof AppError) throw error
    // In our words: the parser's message quotes the text, which may be a person's.
    throw notCsv('The first line of the file cannot be read as CSV')
  } finally {
    await file.close()
  }
}

export interface CsvRecord {
  /** The line of the file the record starts on (the header is line 1). */
  line: number
  cells: string[]
}

/** What csv-parse's errors mean, in our words: its own messages quote the field, which may be a person's data. */
const CSV_PROBLEMS: Record<string, string> = {
  CSV_QUOTE_NOT_CLOSED: 'a quoted field is never closed',
  CSV_INVALID_CLOSING_QUOTE: 'a quote ends a field before the field ends',
  CSV_MAX_RECORD_SIZE: `a record is longer than ${MAX_RECORD_BYTES / 1024} KB`,
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: 'text follows a closing quote',
}

/** Line breaks inside a record: its raw text's, not counting the one that ends it. */
function innerLineBreaks(raw: string): number {
  let count = 0
  for (let at = raw.indexOf('\n'); at !== -1; at = raw.indexOf('\n', at + 1)) count++
  return raw.endsWith('\n') ? count - 1 : count
}

/**
 * The records after the header, one at a time, each with the line it starts
 * on; blank lines are skipped. `progress` hears how many bytes of the file
 * have been read. A file that breaks off (an unclosed quote, a record over
 * the limit) throws MalformedCsvError naming the line.
 */
export async function* readCsvRecords(path: string, delimiter: string, progress: (bytesRead: number) => void = () => {}): AsyncGenerator<CsvRecord> {
  const input = createReadStream(path)
  const parser = input.pipe(
    parse({ delimiter, bom: true, raw: true, relax_column_count: true, relax_quotes: true, max_record_size: MAX_RECORD_BYTES }),
  )
  input.on('error', (error) => parser.destroy(error))
  let next = 1
  let header = true
  try {
    for await (const { record, raw } of parser as AsyncIterable<{ record: string[]; raw: string }>) {
      const line = next
      next += 1 + innerLineBreaks(raw)
      progress(input.bytesRead)
      if (header) {
        header = false
        continue
      }
      if (record.length === 1 && record[0]!.trim() === '') continue
      yield { line, cells: record }
    }
  } catch (error) {
    const code = (error as { code?: string }).code
    if (typeof code === 'string' && code.startsWith('CSV_')) throw new MalformedCsvError(next, CSV_PROBLEMS[code] ?? `it is not CSV there (${code})`)
    throw error
  } finally {
    input.destroy()
    parser.destroy()
  }
  progress(input.bytesRead)
}
