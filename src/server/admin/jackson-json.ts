/**
 * JSON as ZooKeeper's AdminServer writes it: Jackson's default pretty printer, so that a zkts
 * answer is byte for byte what a script or a diff saw from ZooKeeper.
 *
 *     {
 *       "connections" : [ {
 *         "session_id" : 72058754053636096,
 *         "avg_latency" : 0.0
 *       } ],
 *       "secure_connections" : [ ],
 *       "command" : "connections",
 *       "error" : null
 *     }
 *
 * Objects put each field on its own line, indented two spaces a level, `" : "` between name and
 * value; arrays stay on one line (`[ 1, 2 ]`); empty ones are `{ }` and `[ ]`; no newline at
 * the end. Java's longs go out whole (a bigint here: session ids do not fit a double), and a
 * double is written as Java writes it ("0.0", "3.8", "1.0E-4"), which JSON.stringify cannot
 * tell from an integer: wrap those in JsonDouble.
 */
import { javaDouble } from "../four-letter-words/java-text.js";

/** A value Java holds as a double: written "0.0", not "0". */
export class JsonDouble {
  readonly value: number;

  constructor(value: number) {
    this.value = value;
  }
}

export type JsonValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | JsonDouble
  | readonly JsonValue[]
  | ReadonlyMap<string | number | bigint, JsonValue>
  | { readonly [key: string]: JsonValue };

/** The text Jackson's DefaultPrettyPrinter makes of `value`. */
export function jacksonJson(value: JsonValue): string {
  return write(value, 0);
}

function write(value: JsonValue, depth: number): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
    case "bigint":
      return String(value);
    case "number":
      // A JS number that is not whole can only have been a double in Java.
      return Number.isInteger(value) ? String(value) : javaDouble(value);
    case "string":
      return JSON.stringify(value);
  }
  if (value instanceof JsonDouble) return javaDouble(value.value);
  if (Array.isArray(value)) {
    const items = (value as readonly JsonValue[]).map((item) => write(item, depth));
    return items.length === 0 ? "[ ]" : `[ ${items.join(", ")} ]`;
  }
  const entries =
    value instanceof Map
      ? [...(value as ReadonlyMap<string | number | bigint, JsonValue>)]
      : Object.entries(value as { readonly [key: string]: JsonValue });
  if (entries.length === 0) return "{ }";
  const indent = "  ".repeat(depth + 1);
  const fields = entries.map(
    ([key, item]) => `${indent}${JSON.stringify(String(key))} : ${write(item, depth + 1)}`,
  );
  return `{\n${fields.join(",\n")}\n${"  ".repeat(depth)}}`;
}
