/** `"UTC"`, `"+02:00"` / `"-0800"`, or an IANA zone name, as `timezone` in sync.config.json accepts it. */
const OFFSET = /^([+-])(\d{2}):?(\d{2})$/;

/**
 * Minutes east of UTC that `zone` has at `instant` (IANA zones change with daylight saving time), or
 * undefined when `zone` names no time zone.
 */
export function timezoneOffsetMinutes(zone: string, instant: Date): number | undefined {
  if (/^(utc|z|gmt)$/i.test(zone)) return 0;
  const offset = OFFSET.exec(zone);
  if (offset) {
    const minutes = Number(offset[2]) * 60 + Number(offset[3]);
    return minutes > 18 * 60 ? undefined : (offset[1] === '-' ? -1 : 1) * minutes;
  }
  let name: string | undefined;
  try {
    name = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' })
      .formatToParts(instant)
      .find((part) => part.type === 'timeZoneName')?.value;
  } catch {
    return undefined; // RangeError: not a zone this Node knows
  }
  if (name === undefined) return undefined;
  if (name === 'GMT') return 0;
  const gmt = /^GMT([+-])(\d{2}):(\d{2})$/.exec(name);
  if (!gmt) return undefined;
  return (gmt[1] === '-' ? -1 : 1) * (Number(gmt[2]) * 60 + Number(gmt[3]));
}
