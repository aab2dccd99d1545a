/**
 * Jute types as codecs. A record is declared once, as an ordered list of fields, and the same
 * declaration both encodes and decodes it, with its TypeScript type inferred from the fields.
 */
import type { Reader } from "./reader.js";
import type { Writer } from "./writer.js";

/** What a codec is, as data: lets tests and tools derive generators and printers from a record. */
export type Shape =
  | { readonly kind: "int" | "long" | "boolean" | "ustring" | "buffer" }
  | { readonly kind: "vector"; readonly element: Codec<unknown> }
  | { readonly kind: "record"; readonly fields: Readonly<Record<string, Codec<unknown>>> };

export interface Codec<T> {
  readonly shape: Shape;
  read(reader: Reader): T;
  write(writer: Writer, value: T): void;
}

/** The TypeScript type a codec reads and writes. */
export type Infer<C> = C extends Codec<infer T> ? T : never;

export const int: Codec<number> = {
  shape: { kind: "int" },
  read: (r) => r.readInt(),
  write: (w, v) => void w.writeInt(v),
};

export const long: Codec<bigint> = {
  shape: { kind: "long" },
  read: (r) => r.readLong(),
  write: (w, v) => void w.writeLong(v),
};

export const boolean: Codec<boolean> = {
  shape: { kind: "boolean" },
  read: (r) => r.readBool(),
  write: (w, v) => void w.writeBool(v),
};

export const ustring: Codec<string> = {
  shape: { kind: "ustring" },
  read: (r) => r.readString(),
  write: (w, v) => void w.writeString(v),
};

export const buffer: Codec<Buffer> = {
  shape: { kind: "buffer" },
  read: (r) => r.readBuffer(),
  write: (w, v) => void w.writeBuffer(v),
};

export function vector<T>(element: Codec<T>): Codec<T[]> {
  return {
    shape: { kind: "vector", element: element as Codec<unknown> },
    read(r) {
      // Every jute element takes at least one byte, so the reader's length check bounds `count`.
      const count = r.readLength("vector", 1);
      const values: T[] = [];
      for (let i = 0; i < count; i++) values.push(element.read(r));
      return values;
    },
    write(w, values) {
      w.writeInt(values.length);
      for (const value of values) element.write(w, value);
    },
  };
}

type RecordOf<F> = { [K in keyof F]: Infer<F[K]> };

/** A jute record: its fields in declaration order, which is the order on the wire. */
export interface RecordCodec<T> extends Codec<T> {
  readonly name: string;
}

// biome-ignore lint/suspicious/noExplicitAny: a field codec of any type; RecordOf<F> restores each one.
export function record<F extends Record<string, Codec<any>>>(
  name: string,
  fields: F,
): RecordCodec<RecordOf<F>> {
  const entries = Object.entries(fields) as [string, Codec<unknown>][];
  return {
    name,
    shape: { kind: "record", fields: fields as Record<string, Codec<unknown>> },
    read(r) {
      const value: Record<string, unknown> = {};
      for (const [key, codec] of entries) value[key] = codec.read(r);
      return value as RecordOf<F>;
    },
    write(w, value) {
      const fieldsOf = value as Record<string, unknown>;
      for (const [key, codec] of entries) codec.write(w, fieldsOf[key]);
    },
  };
}

/** A record with no fields (ping, closeSession, delete's reply): reads and writes nothing. */
export const empty: RecordCodec<Record<string, never>> = {
  name: "Empty",
  shape: { kind: "record", fields: {} },
  read: () => ({}),
  write: () => {},
};
