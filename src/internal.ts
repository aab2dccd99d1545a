/** Tools and tests: the codec and protocol layers. Not a stable API. */
export * from "./jute/index.js";
export * from "./protocol/index.js";
