// An answer's body read up to `max` bytes, in one crossing: the wasm asks
// once and gets the bytes, instead of driving the stream's reader chunk by
// chunk through a dozen imports (bench/README.md, "Size steps"). Bundled
// into each entry's glue by xtask/src/build.rs. Rejects when the stream
// cannot be read (locked, errored, aborted, a chunk that is not bytes);
// a body longer than `max` is cut there and the rest cancelled (a caller's
// stream may reject its cancel: never unhandled).
export async function readBody(body, max) {
  const reader = body.getReader();
  const parts = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (!(value instanceof Uint8Array)) throw new TypeError("a body chunk that is not a Uint8Array");
    const room = max - length;
    parts.push(value.subarray(0, room));
    length += Math.min(value.length, room);
    if (value.length >= room) {
      try {
        reader.cancel().then(undefined, () => {});
      } catch {}
      break;
    }
  }
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
