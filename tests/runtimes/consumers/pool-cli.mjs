// Deno and Bun: `<runtime> pool-cli.mjs <emulator url> <runtime name>`;
// prints the pool scenario's result as one JSON line.
import { poolScenario } from "./pool-scenario.mjs";

const args = globalThis.Deno ? Deno.args : process.argv.slice(2);
console.log(JSON.stringify(await poolScenario(`${args[0]}/v1.0`, args[1])));
