export * from "./constants.js";
export * from "./errors.js";
export * from "./frames.js";
export * from "./multi.js";
export * from "./opcodes.js";
export * from "./requests.js";
