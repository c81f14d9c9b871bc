// The pages subscribers see, in a real browser (Debian's chromium, driven by
// playwright-core): the link taken from a real message received by the SMTP
// server in this process, opened and used with the keyboard alone; an
// unsubscribe from everything during a course, with course mail shown locked
// until its date; the course ends and course mail stops; a signup through a
// plain HTML form confirmed through its confirmation mail; the language
// switched. Every page is checked with axe-core, and screenshots go to
// test-output/screenshots (kept by CI).
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import axe from 'axe-core'
import { chromium, type Browser, type Page } from 'playwright-core'
import t, { type Test } from 'tap'
import { systemActor } from '../../src/lib/actor.js'
import { build, type TestApp } from '../helper.js'
import { consentPayload, createList, putCourse, putEnrollment, subscribe, uniqueEmail } from '../factories.js'
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js'
import { freePort } from '../support/free-port.js'

const CHROMIUM = '/usr/bin/chromium'
const SCREENSHOTS = join(process.cwd(), 'test-output', 'screenshots')


/** No WCAG A or AA violations that axe-core can find on the page as it is now. */
async function checkAccessibility(t: Test, page: Page, what: string) {
  await page.evaluate(axe.source)
  const result = await page.evaluate(() =>
    (window as unknown as { axe: typeof axe }).axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }),
  )
  t.same(
    result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.length})`),
    [],
    `${what}: no accessibility violations`,
  )
}

/** Moves focus with Tab alone until it is on the control whose text matches, and returns that text. */
async function tabTo(page: Page, text: RegExp): Promise<string> {
  for (let i = 0; i < 80; i++) {
    await page.keyboard.press('Tab')
    const focused = await page.evaluate(() => (document.activeElement as HTMLElement | null)?.innerText ?? '')
    if (text.test(focused)) return focused
  }
  throw new Error(`Tab never reached ${text}`)
}

async function screenshot(page: Page, name: string) {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true })
}

const hrefIn = (mail: { parsed: { html?: string | false } }, pattern: RegExp) => pattern.exec(String(mail.parsed.html))?.[1]

t.test('subscriber pages in chromium', { skip: existsSync(CHROMIUM) ? false : `needs Debian chromium at ${CHROMIUM}`, timeout: 120_000 }, async (t) => {
  mkdirSync(SCREENSHOTS, { recursive: true })
  const sink: SmtpSink = await startSmtpSink()
  t.teardown(() => sink.close())
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const app: TestApp = await build(t, { config: { smtpUrl: sink.url, publicBaseUrl: base } })
  await app.app.listen({ port, host: '127.0.0.1' })

  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  t.teardown(() => browser.close())
  // bypassCSP lets the test inject axe-core; the pages themselves load no script.
  const context = await browser.newContext({ bypassCSP: true, locale: 'nb-NO' })
  const page = await context.newPage()

  const newsletter = await createList(app, { kind: 'newsletter', name: 'Månedsbrev' })
  const course = await putCourse(app, 'browser-yoga', { name: 'Yoga vår' })
  const email = uniqueEmail('browser')
  const contactId = (await putEnrollment(app, 'browser-enr', { courseId: 'browser-yoga', contact: { email, name: 'Kari' } })).json().contactId as string
  await subscribe(app, newsletter.id, { contactId, source: 'form', consent: consentPayload() })
  const sent = await app.as('staff')({
    method: 'POST',
    url: '/v1/sends',
    payload: { template: 'newsletter', kind: 'newsletter', contactId, listId: newsletter.id, data: { headline: 'Nytt i mars', body: 'Tekst', name: 'Kari' }, idempotencyKey: 'browser-1' },
  })
  t.equal(sent.statusCode, 202, sent.body)
  await app.app.deliveryWorker.runOnce()
  const [newsletterMail] = await sink.waitFor(1)
  const preferencesUrl = hrefIn(newsletterMail!, /href="(http:\/\/127\.0\.0\.1:\d+\/u\/[^"]+)"/)
  t.ok(preferencesUrl, 'the message links to the preference page')

  await t.test('the page from the link: course mail locked with its date, everything left by keyboard', async (t) => {
    await page.goto(preferencesUrl!)
    t.equal(await page.title(), 'Dine e-postvalg')
    t.match(await page.textContent('body'), /Dette er kurspost\. Du er påmeldt kurset, og kurspost kommer til og med \d+\. \w+ \d{4}/)
    await checkAccessibility(t, page, 'the preference page')
    await screenshot(page, '01-preferences-nb')

    t.match(await tabTo(page, /^Meld meg av alt$/), 'Meld meg av alt')
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')])
    const body = await page.textContent('body')
    t.match(body, /Du er meldt av alt/)
    t.match(body, /Kurspost fra «Yoga vår» fortsetter til og med/, 'the honest answer about course mail')
    t.match(body, /Det blir gjort .+, når kurset er over/, 'the kept wish, with its date')
    await checkAccessibility(t, page, 'the answer')
    await screenshot(page, '02-left-everything-during-course')
    t.equal((await app.as('staff')({ method: 'GET', url: `/v1/lists/${newsletter.id}/subscriptions/${contactId}` })).json().status, 'unsubscribed')
  })

  await t.test('the course ends: course mail stops, and the page says so', async (t) => {
    const courseMail = () => app.as('course-system')({ method: 'POST', url: '/v1/decisions', payload: { kind: 'course', courseId: 'browser-yoga', contactId } })
    t.match((await courseMail()).json(), { allowed: true }, 'course mail while the course runs')
    app.clock.advanceDays(31)
    await app.app.services.optOut.applyDueDeferredUnsubscribes(systemActor)
    t.match((await courseMail()).json(), { allowed: false }, 'no course mail once it is over')
    await page.goto(preferencesUrl!)
    const yoga = page.locator('li', { hasText: 'Yoga vår' })
    t.match(await yoga.textContent(), /Du er meldt av denne listen/)
    await screenshot(page, '03-after-course')
    t.equal(course.listId !== undefined, true)
  })

  await t.test('switching language keeps the person on their page', async (t) => {
    await page.goto(preferencesUrl!)
    await tabTo(page, /^English$/)
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')])
    t.equal(await page.title(), 'Your email preferences')
    t.equal(await page.getAttribute('html', 'lang'), 'en')
    t.match(await page.textContent('body'), /Join “Månedsbrev”/)
    await tabTo(page, /^Join “Månedsbrev”$/)
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')])
    t.match(await page.textContent('body'), /You have joined “Månedsbrev”/, 'the answer stays in English')
    await checkAccessibility(t, page, 'the English page')
    await screenshot(page, '04-preferences-en')
  })

  await t.test('a signup through a plain HTML form, confirmed through its mail, by keyboard', async (t) => {
    const news = await createList(app, { kind: 'newsletter', name: 'Kursnytt', slug: 'kursnytt', public: true, doubleOptIn: true })
    await app.as('staff')({ method: 'POST', url: '/v1/notices', payload: { key: 'kursnytt-skjema', version: 1, text: 'Ja, send meg kursnytt.' } })
    const signupEmail = uniqueEmail('signup')
    // The company's own page, with the form the README shows.
    await page.goto(`${base}/health`)
    await page.setContent(`<!doctype html><html lang="nb"><title>Kurshuset</title><main><h1>Kursnytt</h1>
<form method="post" action="${base}/subscribe">
<label>E-post <input type="email" name="email" required></label>
<label>Navn <input name="name"></label>
<input type="hidden" name="lists" value="kursnytt">
<input type="hidden" name="noticeKey" value="kursnytt-skjema">
<input type="hidden" name="noticeVersion" value="1">
<p>Ja, send meg kursnytt.</p>
<div hidden><label>Nettsted <input name="website" tabindex="-1" autocomplete="off"></label></div>
<button type="submit">Meld meg på</button>
</form></main></html>`)
    await page.keyboard.press('Tab')
    await page.keyboard.type(signupEmail)
    await page.keyboard.press('Tab')
    await page.keyboard.type('Ola')
    await tabTo(page, /^Meld meg på$/)
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')])
    t.match(await page.textContent('body'), /Takk! Hvis adressen kan meldes på/)
    await checkAccessibility(t, page, 'the signup answer')
    await screenshot(page, '05-signup-received')

    await app.app.deliveryWorker.runOnce()
    const mail = (await sink.waitFor(2)).find((m) => m.envelope.to.includes(signupEmail))!
    t.match(mail.parsed.subject, /Bekreft påmeldingen til Kursnytt/)
    const confirmUrl = hrefIn(mail, /href="(http:\/\/127\.0\.0\.1:\d+\/confirm\/[^"]+)"/)!
    const pending = async () =>
      (await app.as('staff')({ method: 'GET', url: `/v1/contacts?email=${encodeURIComponent(signupEmail)}` })).json().items[0].id as string
    const id = await pending()
    const status = async () => (await app.as('staff')({ method: 'GET', url: `/v1/lists/${news.id}/subscriptions/${id}` })).json().status
    await page.goto(confirmUrl)
    await page.goto(confirmUrl)
    t.equal(await status(), 'pending', 'opening the link confirms nobody')
    await checkAccessibility(t, page, 'the confirmation page')
    await tabTo(page, /^Bekreft påmeldingen$/)
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')])
    t.match(await page.textContent('body'), /Takk! Du er påmeldt «Kursnytt»/)
    t.equal(await status(), 'active')
    await screenshot(page, '06-confirmed')
  })

  await t.test('the access export, as the person reads it, passes the accessibility checks', async (t) => {
    const exported = await app.as('staff')({ method: 'GET', url: `/v1/contacts/${contactId}/export?format=html` })
    t.equal(exported.statusCode, 200)
    await page.setContent(exported.body)
    t.equal(await page.title(), 'Dine personopplysninger')
    t.match(await page.textContent('body'), /Hvorfor vi behandler opplysningene/)
    await checkAccessibility(t, page, 'the access export')
    await screenshot(page, '07-access-export')
  })
})
