/** Whether `names` is already in the order `Array.prototype.sort` would give (UTF-16 code units). */
function isSorted(names: string[]): boolean {
  for (let index = 1; index < names.length; index++) {
    if (names[index - 1]! > names[index]!) return false;
  }
  return true;
}

/**
 * JSON with object keys sorted at every depth, so that two values that are equal as JSON give the
 * same text whatever order their keys were written in. Used for content digests, not for storage.
 * Fields whose value is `undefined` are dropped and `undefined` array items become `null`, as
 * `JSON.stringify` does. Built by concatenation in one walk, and keys are sorted only when they are
 * not in order already: it runs for every appended event.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) {
    let text = "[";
    for (let index = 0; index < value.length; index++) {
      if (index > 0) text += ",";
      text += canonicalJson(value[index] ?? null);
    }
    return `${text}]`;
  }
  const record = value as Record<string, unknown>;
  const names = Object.keys(record);
  if (!isSorted(names)) names.sort();
  let text = "{";
  let isFirst = true;
  for (const name of names) {
    const item = record[name];
    if (item === undefined) continue;
    if (!isFirst) text += ",";
    isFirst = false;
    text += `${JSON.stringify(name)}:${canonicalJson(item)}`;
  }
  return `${text}}`;
}
