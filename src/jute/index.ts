export * from "./codec.js";
export { JuteDecodeError, NULL_BUFFER, Reader } from "./reader.js";
export * from "./records.js";
export { Writer, writeLongAt } from "./writer.js";
