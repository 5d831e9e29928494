/**
 * A `\u0000` escape or an escaped lone UTF-16 surrogate (`\ud800`…`\udfff`) preceded by an even
 * number of backslashes, i.e. an escape and not the text of one. `JSON.stringify` writes paired
 * surrogates as the character itself, so any surrogate escape it wrote is a lone one.
 */
const unstorableEscape = /(?<!\\)(?:\\\\)*\\u(?:0000|d[89a-f][0-9a-f]{2})/i;

/**
 * Whether PostgreSQL's `jsonb` can store this JSON text. It refuses the NUL character and lone
 * surrogates in strings, both valid JSON that `JSON.stringify` can produce; an append that carries
 * them must fail alone (`invalid-request`) instead of aborting the whole group's transaction.
 */
export function isJsonbCompatible(json: string): boolean {
  return !json.includes("\\u") || !unstorableEscape.test(json);
}
