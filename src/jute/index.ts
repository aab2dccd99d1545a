export * from "./codec.js";
export { JuteDecodeError, Reader } from "./reader.js";
export * from "./records.js";
export { Writer } from "./writer.js";
