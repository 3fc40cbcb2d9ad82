// An answer's body read up to `max` bytes, in one crossing: the wasm asks
// once and gets the bytes, instead of driving the stream's reader chunk by
// chunk through a dozen imports (bench/README.md, "Size steps"). Bundled
// into each entry's glue by xtask/src/build.rs. Rejects when the stream
// cannot be read (locked, errored, aborted, a chunk that is not bytes) or
// when `signal` (the attempt's own) aborts first;
// a body longer than `max` is cut there and the rest cancelled (a caller's
// stream may reject its cancel: never unhandled).
export async function readBody(body, max, signal) {
  const reader = body.getReader();
  const cancel = () => {
    try {
      reader.cancel().then(undefined, () => {});
    } catch {}
  };
  // The attempt's bound covers the body too: a stream that never ends (a
  // caller's fetch that ignores its signal) is cancelled when it fires.
  let onAbort;
  const aborted = new Promise((_, reject) => {
    onAbort = () => {
      // Rejected before the cancel ends the pending read as done.
      reject(new Error("aborted"));
      cancel();
    };
  });
  aborted.catch(() => {});
  if (signal.aborted) onAbort();
  else signal.addEventListener("abort", onAbort);
  const parts = [];
  let length = 0;
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), aborted]);
      if (done) break;
      if (!(value instanceof Uint8Array)) throw new TypeError("a body chunk that is not a Uint8Array");
      const room = max - length;
      parts.push(value.subarray(0, room));
      length += Math.min(value.length, room);
      if (value.length >= room) {
        cancel();
        break;
      }
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
  if (signal.aborted) throw new Error("aborted");
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
