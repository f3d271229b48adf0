import { timezoneOffsetMinutes } from '../config/timezone.js';

/** The API's date form (core's normalised instant, UTC, no zone: butter-api.md §2.3). */
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/;
/** How a file spells a date: date-only, or date, separator, time, optional seconds/fraction, optional zone. */
const FILE_DATE =
  /^(\d{4}-\d{2}-\d{2})(?:([Tt ])(\d{2}):(\d{2})(?::(\d{2}))?(?:([.,])(\d+))?(\s*)([Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/;

const pad = (n: number, width = 2): string => String(Math.abs(n)).padStart(width, '0');

function zoneMinutes(zone: string): number {
  if (zone === 'Z' || zone === 'z') return 0;
  const digits = zone.slice(1).replace(':', '');
  const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0');
  return zone.startsWith('-') ? -minutes : minutes;
}

/** `+02:00` / `+0200` / `+02` in the spelling of `like`. */
function spellZone(minutes: number, like: string): string {
  if (like === 'Z' || like === 'z') return minutes === 0 ? like : spellZone(minutes, '+00:00');
  const sign = minutes < 0 ? '-' : '+';
  const h = pad(Math.trunc(Math.abs(minutes) / 60));
  const m = pad(Math.abs(minutes) % 60);
  if (like.length === 3) return m === '00' ? `${sign}${h}` : `${sign}${h}:${m}`;
  return like.includes(':') ? `${sign}${h}:${m}` : `${sign}${h}${m}`;
}

function wallClock(instantUtc: number, offsetMinutes: number): Date {
  return new Date(instantUtc + offsetMinutes * 60_000);
}

function ymd(d: Date): string {
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

function hms(d: Date, seconds: boolean): string {
  const base = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
  return seconds ? `${base}:${pad(d.getUTCSeconds())}` : base;
}

/**
 * A pulled date (the API's UTC instant) written the way the file already writes that date: date-only,
 * `T` or space, seconds and fraction digits, and above all its zone offset, so the instant a site
 * generator reads (Jekyll's `2013-05-06 02:12:52 +0200`) stays right. A value the file does not have
 * yet (or a date-only one that gets a time of day) is written in `timezone` (when configured) as
 * `YYYY-MM-DDTHH:mm:ss+HH:MM`, else as UTC without a zone; a midnight-UTC instant is written date-only.
 * Anything that is not an API instant is returned as it is.
 */
export function formatDateLike(old: unknown, next: unknown, timezone: string | undefined): unknown {
  if (typeof next !== 'string') return next;
  const instant = INSTANT.exec(next);
  if (!instant) return next;
  const [, y, mo, d, h, mi, s] = instant;
  const utc = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  const style = typeof old === 'string' ? FILE_DATE.exec(old.trim()) : null;
  if (!style || style[2] === undefined) {
    // A date-only value reads as midnight UTC, so that instant is written date-only, as a writer types it.
    if (next.endsWith('T00:00:00')) return next.slice(0, 10);
    const offset = timezone === undefined ? undefined : timezoneOffsetMinutes(timezone, new Date(utc));
    if (offset === undefined) return next;
    const wall = wallClock(utc, offset);
    return `${ymd(wall)}T${hms(wall, true)}${spellZone(offset, '+00:00')}`;
  }
  const [, , separator = 'T', , , seconds, fractionMark, fraction, space, zone] = style;
  const offset = zone === undefined ? 0 : zoneMinutes(zone);
  const wall = wallClock(utc, offset);
  const needSeconds = seconds !== undefined || wall.getUTCSeconds() !== 0 || fraction !== undefined;
  let out = `${ymd(wall)}${separator}${hms(wall, needSeconds)}`;
  if (fraction !== undefined) out += `${fractionMark}${'0'.repeat(fraction.length)}`;
  if (zone !== undefined) out += `${space ?? ''}${spellZone(offset, zone)}`;
  return out;
}
