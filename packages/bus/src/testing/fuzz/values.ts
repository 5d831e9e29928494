import { topicNamePattern } from "@tributary/protocol";
import type { Random } from "./random.js";

/** C0 and C1 control characters and DEL: refused in ids, types, keys, names and subjects. */
export const controlCharacters = ["\u0000", "\n", "\r", "\t", "\u001b", "\u007f", "\u0085", "\u009f"];

/** Printable text that has broken parsers, queries and file systems before. */
const oddTexts = [
  "../../etc/passwd",
  "..%2F..%2Fetc%2Fpasswd",
  "' OR 1=1 --",
  '"; DROP TABLE events; --',
  "<script>alert(1)</script>",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a Log4Shell probe's text, not a template
  "${jndi:ldap://x/a}",
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "null",
  "NaN",
  "-1",
  "💥",
  "Ünïcødé ✓",
  "\u202eevil",
  "\ufeffbom",
  "\ud800",
  "\uffff",
  "%00",
  "%ZZ",
  "\\",
  "*",
  "?#&=",
  " ",
  "a".repeat(300),
];

/** Characters for random text, weighted towards the ones that need escaping somewhere. */
const soup = [..."abcXYZ019._-:/\\\"'%&?#= *@!~`$<>{}[]|^", "é", "ß", "日", "😀", "\u200b", "\u2028"];

/** Random printable text of `length` characters (from the soup above). */
export function soupText(random: Random, length: number): string {
  let text = "";
  for (let index = 0; index < length; index++) text += random.pick(soup);
  return text;
}

/** Printable text of at most `max` code points, often hostile, at the edge when asked. */
export function printableText(random: Random, max: number, edge: boolean): string {
  if (edge && random.chance(0.5)) {
    const unit = random.pick(["x", "é", "😀", "日"]);
    return unit.repeat(random.chance(0.5) ? max : random.between(1, max));
  }
  const text = random.chance(0.6) ? random.pick(oddTexts) : soupText(random, random.between(1, 40));
  return [...text].slice(0, max).join("") || "x";
}

/** A topic (or subscription) name: `[a-z0-9][a-z0-9._-]{0,127}`, up to 128 characters at the edge. */
export function topicName(random: Random, edge: boolean, prefix = ""): string {
  const tail = "abcdefghijklmnopqrstuvwxyz0123456789._-";
  let name = prefix || random.pick([..."abcdefghijklmnopqrstuvwxyz0123456789"]);
  const length = edge && random.chance(0.5) ? 128 : random.between(name.length + 1, name.length + 12);
  while (name.length < Math.min(length, 128)) name += random.pick([...tail]);
  return name;
}

/** A name that `topicNamePattern` refuses (so do subscription names and topic-scoped routes). */
export function invalidTopicName(random: Random): string {
  const base = topicName(random, false);
  const candidates = [
    base.toUpperCase(),
    `${base}${random.pick([" ", "/", "é", "*", ":", "%", "+", "A", "😀", ...controlCharacters])}`,
    `${random.pick(["-", ".", "_"])}${base}`,
    "x".repeat(random.between(129, 400)),
    random.pick(oddTexts),
    soupText(random, random.between(1, 20)),
  ];
  const name = random.pick(candidates);
  // Never a whole `.` or `..` segment: URL normalization would turn it into another route.
  if (topicNamePattern.test(name) || name === "." || name === "..") return `${name}A`;
  return name;
}

/** Text for query values and unvalidated path segments: odd, long, or control characters. */
export function hostileText(random: Random): string {
  switch (random.between(0, 4)) {
    case 0:
      return random.pick(oddTexts);
    case 1:
      return `x${random.pick(controlCharacters)}y`;
    case 2:
      return soupText(random, random.between(1, 30));
    case 3:
      return "y".repeat(random.pick([1025, 4096, 15_000]));
    default:
      return random.pick(["", "0", "-0", "1e400"]);
  }
}

/** Numbers as a query string or header carries them, mostly refused: sign, size, format. */
export function garbageNumber(random: Random): string {
  return random.pick([
    "-1",
    "-0",
    "1.5",
    "1e400",
    "Infinity",
    "-Infinity",
    "NaN",
    "abc",
    "",
    " ",
    "0x10",
    "1e2",
    "99999999999999999999",
    "9007199254740993",
    "1,2",
    "%00",
    "%ZZ",
    "١",
    "１",
    "true",
    "null",
  ]);
}

/** Percent-encoding no decoder takes: the router refuses the path with a 400. */
export function badPercentEncoding(random: Random): string {
  return random.pick(["%", "%Z", "%ZZ", "%E0%A4%A", "%C0%AF", "%ED%A0%80", "a%", "%%41", "%u0041"]);
}

/** JSON text nested `depth` levels deep, in arrays or objects. */
export function nestedJson(random: Random, depth: number): string {
  if (random.chance(0.5)) return `${"[".repeat(depth)}1${"]".repeat(depth)}`;
  return `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
}

/** Text that is not JSON, in the ways clients and attackers get it wrong. */
export function invalidJsonText(random: Random): string {
  return random.pick([
    "{",
    '{"type":',
    "{'type':'a'}",
    '{"a":1,}',
    "[1,2",
    "NaN",
    "undefined",
    '{"a":01}',
    '{"a":"\u0000"}',
    '{"a":"\\x41"}',
    '{"a" 1}',
    "}{",
    '{"a":1}{"b":2}',
    '{"a":1} trailing',
    "\u0000",
    "<xml/>",
    "-",
    '"unterminated',
    '{"a":"\ud800',
  ]);
}

/** JSON text that carries a prototype-poisoning key: the parser refuses it. */
export function poisonedJson(random: Random, valid: string): string {
  const poison = random.pick([
    '"__proto__":{"isAdmin":true}',
    '"constructor":{"prototype":{"isAdmin":true}}',
  ]);
  if (valid.startsWith("{") && valid.length > 2) return `{${poison},${valid.slice(1)}`;
  return `{${poison}}`;
}

/** Random bytes, often not UTF-8. */
export function binaryGarbage(random: Random, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let index = 0; index < length; index++) bytes[index] = random.between(0, 255);
  return bytes;
}
