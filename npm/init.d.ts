
/**
 * `WebAssembly.Module` and `WebAssembly.Memory` where the project's libs
 * declare them (DOM, workers-types), else `object`: a Node-only project
 * (`"types": ["node"]`, no DOM lib) has no `WebAssembly` namespace.
 */
type WasmModule = typeof globalThis extends { WebAssembly: { Module: { prototype: infer M } } } ? M : object;
type WasmMemory = typeof globalThis extends { WebAssembly: { Memory: { prototype: infer M } } } ? M : object;

/** Where `init` can load the wasm from: a URL (fetched), a Request, a Response, bytes or a compiled module. */
export type InitInput = string | URL | Request | Response | ArrayBuffer | ArrayBufferView | WasmModule;

/** What `initSync` instantiates: bytes or a compiled module. */
export type SyncInitInput = ArrayBuffer | ArrayBufferView | WasmModule;

/** The instantiated wasm's exports. Internal: only `memory` is described. */
export interface InitOutput {
    /** The wasm's linear memory. */
    readonly memory: WasmMemory;
}

/**
 * Instantiates the wasm synchronously. The package's entries (browser,
 * Node, Deno, Bun, workerd) have already done this when your code runs;
 * a later call returns the same exports. Needed only with
 * "graph-workbook-session/manual".
 */
export function initSync(module: { module: SyncInitInput }): InitOutput;

/**
 * Loads and instantiates the wasm (by default from beside the JS file).
 * Already done by the package's entries; a later call resolves to the same
 * exports. Needed only with "graph-workbook-session/manual".
 */
export default function init(module_or_path?: { module_or_path: InitInput | Promise<InitInput> }): Promise<InitOutput>;
