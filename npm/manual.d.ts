// "graph-workbook-session/manual" for TypeScript's node10 resolution, which
// ignores "exports" and looks for this file beside manual.js: the same
// declarations as every entry (index.d.ts).
export * from "./index.js";
export { default } from "./index.js";
