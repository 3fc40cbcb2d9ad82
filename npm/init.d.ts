
/** Where `init` can load the wasm from: a URL (fetched), a Response, bytes or a compiled module. */
export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

/** What `initSync` instantiates: bytes or a compiled module. */
export type SyncInitInput = BufferSource | WebAssembly.Module;

/** The instantiated wasm's exports. Internal: only `memory` is described. */
export interface InitOutput {
    readonly memory: WebAssembly.Memory;
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
