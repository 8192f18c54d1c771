import {expect} from 'chai'
import fc from 'fast-check'

import {UserError} from '../../../../src/core/errors.js'
import {bindStart, next, parseSchedule, upcoming} from '../../../../src/core/schedule/next.js'
import {formatInZone, utcOf} from '../../../../src/core/schedule/zone.js'

const t = (iso: string): number => Date.parse(iso)
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString().replace('.000Z', 'Z'))
const times = (spec: string, tz: string, after: string, n: number): string[] => upcoming(bindStart(parseSchedule(spec, tz), t(after)), t(after), n).map((x) => iso(x)!)

function refused(spec: string | string[], tz = 'UTC'): string {
  try {
    parseSchedule(spec, tz)
  } catch (error) {
    expect(error).to.be.instanceOf(UserError)
    return (error as Error).message
  }

  throw new Error(`expected ${JSON.stringify(spec)} to be refused`)
}

describe('core/schedule next()', () => {
  describe('cron', () => {
    const table: Array<[string, string, string, string[]]> = [
      ['*/10 * * * * *', 'UTC', '2026-12-02T17:00:05Z', ['2026-12-02T17:00:10Z', '2026-12-02T17:00:20Z', '2026-12-02T17:00:30Z']],
      ['*/15 * * * *', 'UTC', '2026-12-02T17:00:00Z', ['2026-12-02T17:15:00Z', '2026-12-02T17:30:00Z', '2026-12-02T17:45:00Z']],
      ['0 9 * * 1-5', 'UTC', '2026-12-04T10:00:00Z', ['2026-12-07T09:00:00Z', '2026-12-08T09:00:00Z']], // Friday -> Monday
      ['0 0 1 JAN,jul *', 'UTC', '2026-02-01T00:00:00Z', ['2026-07-01T00:00:00Z', '2027-01-01T00:00:00Z']],
      ['0 12 * * SUN', 'UTC', '2026-12-02T00:00:00Z', ['2026-12-06T12:00:00Z']],
      ['0 12 * * 7', 'UTC', '2026-12-02T00:00:00Z', ['2026-12-06T12:00:00Z']], // 7 is Sunday too
      ['0 0 13 * 5', 'UTC', '2026-12-01T00:00:00Z', ['2026-12-04T00:00:00Z', '2026-12-11T00:00:00Z', '2026-12-13T00:00:00Z']], // day OR weekday
      ['0 0 29 2 *', 'UTC', '2026-01-01T00:00:00Z', ['2028-02-29T00:00:00Z']],
      ['@hourly', 'UTC', '2026-12-02T17:00:00Z', ['2026-12-02T18:00:00Z', '2026-12-02T19:00:00Z']],
      ['@daily', 'Europe/Berlin', '2026-12-02T17:00:00Z', ['2026-12-02T23:00:00Z']],
      ['@weekly', 'UTC', '2026-12-02T17:00:00Z', ['2026-12-06T00:00:00Z']],
      ['@monthly', 'UTC', '2026-12-02T17:00:00Z', ['2027-01-01T00:00:00Z']],
      ['@yearly', 'UTC', '2026-12-02T17:00:00Z', ['2027-01-01T00:00:00Z']],
      ['0 9 * * *; 30 17 * * *', 'UTC', '2026-12-02T10:00:00Z', ['2026-12-02T17:30:00Z', '2026-12-03T09:00:00Z']],
      ['5-20/5 2 * * *', 'Asia/Kathmandu', '2026-12-01T00:00:00Z', ['2026-12-01T20:20:00Z', '2026-12-01T20:25:00Z']], // +05:45
    ]
    for (const [spec, tz, after, want] of table) {
      it(`${spec} in ${tz} after ${after}`, () => expect(times(spec, tz, after, want.length)).to.deep.equal(want))
    }

    it('takes several expressions as a list', () => {
      expect(times(['0 9 * * *', '30 17 * * *'] as unknown as string, 'UTC', '2026-12-02T10:00:00Z', 1)).to.deep.equal(['2026-12-02T17:30:00Z'])
    })

    it('returns null for a date that never comes', () => {
      expect(next(parseSchedule('0 0 31 2 *'), t('2026-01-01T00:00:00Z'))).to.equal(null)
    })

    for (const [spec, words] of [
      ['* * * *', '4 fields'],
      ['60 * * * *', 'out of range 0-59'],
      ['0 0 L * *', 'L, W and # are not'],
      ['0 0 * * MON#2', 'L, W and # are not'],
      ['@reboot', 'not a cron macro'],
      ['5-1 * * * *', 'runs backwards'],
      ['*/0 * * * *', 'step must be at least 1'],
    ] as const) {
      it(`refuses ${spec}`, () => expect(refused(spec)).to.contain(words))
    }

    it('refuses an unknown time zone', () => expect(refused('@daily', 'Mars/Olympus')).to.contain('not an IANA time zone'))
  })

  describe('DST: a missing time runs at the first instant after the gap, a repeated time once', () => {
    // America/New_York: 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT -> 01:00 EST.
    it('02:30 on the spring-forward day runs at 03:00 EDT (07:00Z), once', () => {
      expect(times('30 2 * * *', 'America/New_York', '2026-03-07T12:00:00Z', 3)).to.deep.equal(['2026-03-08T07:00:00Z', '2026-03-09T06:30:00Z', '2026-03-10T06:30:00Z'])
    })

    it('every 15 minutes across the gap: the gap times collapse into one run at 03:00', () => {
      expect(times('*/15 * * * *', 'America/New_York', '2026-03-08T06:40:00Z', 3)).to.deep.equal(['2026-03-08T06:45:00Z', '2026-03-08T07:00:00Z', '2026-03-08T07:15:00Z'])
    })

    it('01:30 on the fall-back day runs once (the first 01:30, EDT)', () => {
      expect(times('30 1 * * *', 'America/New_York', '2026-10-31T12:00:00Z', 2)).to.deep.equal(['2026-11-01T05:30:00Z', '2026-11-02T06:30:00Z'])
    })

    it('every 30 minutes across fall-back: the repeated hour is not run twice', () => {
      expect(times('*/30 * * * *', 'America/New_York', '2026-11-01T04:50:00Z', 4)).to.deep.equal(['2026-11-01T05:00:00Z', '2026-11-01T05:30:00Z', '2026-11-01T07:00:00Z', '2026-11-01T07:30:00Z'])
    })

    it('hourly across Europe/Berlin fall-back: the repeated 02:00 (CET, 01:00Z) is not run again', () => {
      expect(times('0 * * * *', 'Europe/Berlin', '2026-10-24T23:30:00Z', 3)).to.deep.equal(['2026-10-25T00:00:00Z', '2026-10-25T02:00:00Z', '2026-10-25T03:00:00Z'])
    })

    it('Europe/Berlin spring forward: 02:30 -> 03:00 CEST (01:00Z)', () => {
      expect(times('30 2 * * *', 'Europe/Berlin', '2026-03-28T12:00:00Z', 2)).to.deep.equal(['2026-03-29T01:00:00Z', '2026-03-30T00:30:00Z'])
    })

    it('utcOf resolves gaps and overlaps by the rule; formatInZone shows the offset', () => {
      expect(iso(utcOf(2026, 3, 8, 2, 30, 0, 'America/New_York'))).to.equal('2026-03-08T07:00:00Z')
      expect(iso(utcOf(2026, 11, 1, 1, 30, 0, 'America/New_York'))).to.equal('2026-11-01T05:30:00Z')
      expect(formatInZone(t('2026-11-01T06:30:00Z'), 'America/New_York')).to.equal('2026-11-01T01:30:00-05:00')
      expect(formatInZone(t('2026-07-01T00:00:00Z'), 'Asia/Kathmandu')).to.equal('2026-07-01T05:45:00+05:45')
    })
  })

  describe('Chronos ISO 8601 Rn/START/PERIOD', () => {
    it('R/START/PT2H: START itself, then every two hours', () => {
      expect(times('R/2014-03-08T20:00:00.000Z/PT2H', 'UTC', '2014-03-08T19:00:00Z', 3)).to.deep.equal(['2014-03-08T20:00:00Z', '2014-03-08T22:00:00Z', '2014-03-09T00:00:00Z'])
    })

    it('a START long past continues on its grid', () => {
      expect(times('R/2014-03-08T20:00:00Z/PT2H', 'UTC', '2026-12-02T17:05:00Z', 2)).to.deep.equal(['2026-12-02T18:00:00Z', '2026-12-02T20:00:00Z'])
    })

    it('an empty START is the submit time (bound by the caller)', () => {
      const s = bindStart(parseSchedule('R5//PT10S'), t('2026-12-02T17:00:00Z'))
      expect(iso(next(s, t('2026-12-02T17:00:00Z')))).to.equal('2026-12-02T17:00:10Z')
      expect(iso(next(s, t('2026-12-02T16:59:59Z')))).to.equal('2026-12-02T17:00:00Z')
    })

    it('R0 never runs', () => expect(next(parseSchedule('R0/2026-01-01T00:00:00Z/PT1H'), 0)).to.equal(null))

    it('P1D keeps the wall-clock hour of its zone across DST; PT24H does not', () => {
      expect(times('R/2026-03-07T02:30:00/P1D', 'America/New_York', '2026-03-07T08:00:00Z', 2)).to.deep.equal(['2026-03-08T07:00:00Z', '2026-03-09T06:30:00Z'])
      expect(times('R/2026-03-07T01:00:00-05:00/PT24H', 'America/New_York', '2026-03-07T07:00:00Z', 1)).to.deep.equal(['2026-03-08T06:00:00Z'])
    })

    it('reads weeks, months and mixed periods', () => {
      expect(times('R/2026-01-31T00:00:00Z/P1W', 'UTC', '2026-01-31T00:00:00Z', 1)).to.deep.equal(['2026-02-07T00:00:00Z'])
      expect(times('R/2026-01-01T00:00:00Z/P1DT12H', 'UTC', '2026-01-01T00:00:00Z', 2)).to.deep.equal(['2026-01-02T12:00:00Z', '2026-01-04T00:00:00Z'])
      expect(times('R/2026-01-15T00:00:00Z/P1M', 'UTC', '2026-01-20T00:00:00Z', 2)).to.deep.equal(['2026-02-15T00:00:00Z', '2026-03-15T00:00:00Z'])
    })

    for (const [spec, words] of [
      ['R/2026-01-01T00:00:00Z', 'Rn/START/PERIOD'],
      ['X/2026-01-01T00:00:00Z/PT1H', 'must be R'],
      ['R/yesterday/PT1H', 'not an ISO 8601 date-time'],
      ['R//P', 'not an ISO 8601 period'],
      ['R//PT0S', 'shorter than one second'],
      ['R//PT1H; @daily', 'must all be cron'],
    ] as const) {
      it(`refuses ${spec}`, () => expect(refused(spec)).to.contain(words))
    }
  })

  it('property: next() is strictly after `after`, and nothing fires in between (cron vs a brute-force oracle)', () => {
    fc.assert(
      fc.property(fc.constantFrom('*/7 * * * *', '0,30 1-3 * * *', '15 2 * * 0', '*/20 * * * * *', '0 */5 * * *'), fc.constantFrom('UTC', 'America/New_York', 'Europe/Berlin', 'Australia/Lord_Howe'), fc.integer({min: t('2026-01-01T00:00:00Z'), max: t('2027-01-01T00:00:00Z')}), (spec, tz, after) => {
        const s = parseSchedule(spec, tz)
        const n = next(s, after)!
        expect(n).to.be.greaterThan(after)
        // No firing between after and n: next() from any second before n lands on n.
        const probe = after + Math.floor((n - after) / 2)
        expect(next(s, probe)).to.equal(n)
      }),
      {numRuns: 200},
    )
  })
})
