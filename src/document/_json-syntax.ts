/**
 * Finds where JSON text stops being valid, without echoing any of it.
 *
 * `JSON.parse`'s own messages quote the input on some engines (V8 prints a
 * snippet around the bad token), and the input may be a token, so authkeep
 * never passes them on. This scanner is only run after `JSON.parse` has
 * failed, to give the user a line and column. It is iterative, so deep
 * nesting cannot overflow the stack.
 *
 * @module
 */

/** The position of the first syntax error, 0-based offset. */
export interface JsonSyntaxProblem {
  offset: number;
  reason: string;
}

const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);

/** Returns the first syntax problem in `text`, or `undefined` if it is valid JSON. */
export function findJsonSyntaxProblem(text: string): JsonSyntaxProblem | undefined {
  let i = 0;
  const n = text.length;
  // Each stack entry is the container we are in: "{" or "[".
  const stack: string[] = [];
  // What the grammar expects next.
  let expect: "value" | "key" | "colon" | "after-value" = "value";
  const fail = (reason: string): JsonSyntaxProblem => ({ offset: Math.min(i, n), reason });

  for (;;) {
    while (i < n && WHITESPACE.has(text.charCodeAt(i))) i++;
    if (i >= n) {
      if (stack.length === 0 && expect === "after-value") return undefined;
      return fail("unexpected end of input");
    }
    const c = text[i]!;
    if (expect === "value") {
      if (c === "{") {
        stack.push("{");
        i++;
        while (i < n && WHITESPACE.has(text.charCodeAt(i))) i++;
        if (text[i] === "}") {
          stack.pop();
          i++;
          expect = "after-value";
        } else expect = "key";
        continue;
      }
      if (c === "[") {
        stack.push("[");
        i++;
        while (i < n && WHITESPACE.has(text.charCodeAt(i))) i++;
        if (text[i] === "]") {
          stack.pop();
          i++;
          expect = "after-value";
        } else expect = "value";
        continue;
      }
      const end = scanScalar(text, i);
      if (end < 0) return fail("invalid value");
      i = end;
      expect = "after-value";
      continue;
    }
    if (expect === "key") {
      if (c !== '"') return fail("expected a property name in double quotes");
      const end = scanString(text, i);
      if (end < 0) return fail("invalid string");
      i = end;
      expect = "colon";
      continue;
    }
    if (expect === "colon") {
      if (c !== ":") return fail("expected ':' after a property name");
      i++;
      expect = "value";
      continue;
    }
    // after-value
    const top = stack[stack.length - 1];
    if (top === undefined) return fail("unexpected text after the document");
    if (c === ",") {
      i++;
      expect = top === "{" ? "key" : "value";
      continue;
    }
    if ((c === "}" && top === "{") || (c === "]" && top === "[")) {
      stack.pop();
      i++;
      continue;
    }
    return fail(top === "{" ? "expected ',' or '}'" : "expected ',' or ']'");
  }
}

function scanScalar(text: string, i: number): number {
  const c = text[i];
  if (c === '"') return scanString(text, i);
  for (const literal of ["true", "false", "null"]) {
    if (text.startsWith(literal, i)) return i + literal.length;
  }
  const match = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
  return match ? i + match[0].length : -1;
}

function scanString(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (code === 0x22) return i + 1;
    if (code < 0x20) return -1;
    if (code === 0x5c) {
      const next = text[i + 1];
      if (next === "u") {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return -1;
        i += 6;
        continue;
      }
      if (next === undefined || !'"\\/bfnrt'.includes(next)) return -1;
      i += 2;
      continue;
    }
    i++;
  }
  return -1;
}

/** Converts a 0-based offset into 1-based line and column. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}
