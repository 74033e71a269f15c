/**
 * Writes JSON the way serde_json's `to_string` / `to_string_pretty` do
 * (the same as `JSON.stringify(value, null, 2)` for plain data), with two
 * additions: keys in an order the caller chooses, and numbers that were
 * parsed from text `JSON.stringify` would change written back as that text.
 *
 * The value must already be validated JSON data (finite numbers or a kept
 * text, nesting within the limit): this module does not check again.
 *
 * @module
 */
import { inSourceOrder, rawNumberText } from "./_json-parse.ts";

/** Chooses the order of an object's keys; `path` names the object (keys from the root). */
export type KeyOrder = (path: readonly string[], keys: string[]) => string[];

/** Serializes `value`; `pretty` indents by two spaces with no trailing newline. */
export function writeJson(value: unknown, pretty: boolean, order: KeyOrder): string {
  const parts: string[] = [];
  const path: string[] = [];
  const newline = (depth: number): void => {
    if (pretty) parts.push(`\n${"  ".repeat(depth)}`);
  };
  const write = (item: unknown, container: object | undefined, key: string, depth: number): void => {
    if (typeof item === "number") {
      const raw = container === undefined ? undefined : rawNumberText(container, key);
      parts.push(raw !== undefined && Object.is(Number(raw), item) ? raw : JSON.stringify(item));
      return;
    }
    if (item === null || typeof item !== "object") {
      parts.push(JSON.stringify(item));
      return;
    }
    if (Array.isArray(item)) {
      if (item.length === 0) return void parts.push("[]");
      parts.push("[");
      item.forEach((element, index) => {
        if (index > 0) parts.push(",");
        newline(depth + 1);
        write(element, item, String(index), depth + 1);
      });
      newline(depth);
      parts.push("]");
      return;
    }
    const object = item as Record<string, unknown>;
    const keys = order(path, inSourceOrder(object, Object.keys(object)).filter((name) => object[name] !== undefined));
    if (keys.length === 0) return void parts.push("{}");
    parts.push("{");
    keys.forEach((name, index) => {
      if (index > 0) parts.push(",");
      newline(depth + 1);
      parts.push(JSON.stringify(name), pretty ? ": " : ":");
      path.push(name);
      write(object[name], object, name, depth + 1);
      path.pop();
    });
    newline(depth);
    parts.push("}");
  };
  write(value, undefined, "", 0);
  return parts.join("");
}
