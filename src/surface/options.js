// A call's option bag read in one crossing: the wasm asks once and gets
// every key's value, instead of a `Reflect.get`, an `undefined` check and a
// string read per key (bench/README.md, "Call overhead: the options in one
// crossing"). Bundled into each entry's glue by xtask/src/build.rs; the
// other half is `Bag` in src/surface/options.rs.
//
// `keys`: space-separated, each a type and a name, read in that order, each
// once (`o[k]` is `Reflect.get(o, k)`). Types: `s` a string, `n` a number,
// `f` a function, `l` an array of at most 1,000 strings, `o` an object (a
// signal), `t` anything (a token: a string goes in the text, the rest is
// kept). The answer: the count of values kept for `optionValue`, a comma,
// then per key `0` (undefined), `1` and a string (its length in UTF-16
// units, a comma, itself; for `l`, the count of strings, a comma, and each
// string so) or `2` (kept). The first key of the wrong type, or whose read
// throws (a getter, a Proxy trap), ends the text with `!` and the message.
let kept = [];

export function optionValue(i) {
  return kept[i];
}

export function readOptions(o, keys) {
  let text = "";
  let name = "";
  const bad = (why) => `${kept.length},${text}!options${name}${why}`;
  kept = [];
  try {
    if (typeof o != "object" || !o || Array.isArray(o)) return bad(" must be an object");
  } catch {
    return bad(" must be an object");
  }
  for (const key of keys.split(" ")) {
    const t = key[0];
    let v;
    let s;
    name = "." + key.slice(1);
    try {
      v = o[key.slice(1)];
    } catch {
      return bad(" could not be read");
    }
    if (v === undefined) text += 0;
    else if (t == "l") {
      if (!(s = strings(v))) return bad(" must be an array of strings");
      text += `1${s.length},${s.map((e) => `${e.length},${e}`).join("")}`;
    } else if (typeof v == "string" && (t == "s" || t == "t")) text += `1${v.length},${v}`;
    else if (t == "t" || (typeof v == { n: "number", f: "function", o: "object" }[t] && v !== null)) {
      text += 2;
      kept.push(v);
    } else return bad(` must be ${{ s: "a string", n: "a number", f: "a function", o: "an AbortSignal" }[t]}`);
  }
  return kept.length + "," + text;
}

// An array of at most 1,000 strings, copied; null for anything else or a
// read that throws (it may be a Proxy). A length is taken as Rust's
// `as u32` takes it: 2.5 reads two, NaN and negatives none.
function strings(v) {
  try {
    if (!Array.isArray(v)) return null;
    const len = v.length;
    if (typeof len != "number" || len > 1000) return null;
    const s = [];
    for (let i = 0; i + 1 <= len; i++) {
      const e = v[i];
      if (typeof e != "string") return null;
      s.push(e);
    }
    return s;
  } catch {
    return null;
  }
}
