// A call's option bag read in one crossing: the wasm asks once and gets
// every key's value, instead of a `Reflect.get`, an `undefined` check and a
// string read per key (bench/README.md, "Call overhead: the options in one
// crossing"). Bundled into each entry's glue by xtask/src/build.rs; the
// other half is `Bag` in src/surface/options.rs.
//
// `keys`: space-separated, each a type and a name, read in that order, each
// once (`o[k]` is `Reflect.get(o, k)`). Types: `s` a string, `n` a number,
// `f` a function, `l` an array of at most 1,000 strings, `o` an object (a
// signal), `t` anything (a token: a string goes in the
// text, the rest is kept), `a` anything (kept). The answer: the count of
// values kept for `optionValue`, a comma,
// then per key `0` (undefined), `1` and a string (its length in UTF-16
// units, a comma, itself; for `l`, the count of strings, a comma, and each
// string so) or `2` (kept). The first key of the wrong type, or whose read
// throws (a getter, a Proxy trap), ends the text with `!` and the message.
// The values are gathered in an array of the call's own, made the one
// `optionValue` reads only as the call returns: a getter may re-enter the
// library and read another bag meanwhile.
let kept = [];
const lists = new Map();
// Per type: what `typeof` must say (none for `l`, `t` and `a`).
const types = { s: "string", n: "number", f: "function", o: "object" };
// The message's end for a value of the wrong type.
const wrong = (t, name) =>
  "." + name + " must be a" + (t == "o" ? "n AbortSignal" : t == "l" ? "n array of strings" : " " + types[t]);

// The wasm takes every kept value at once, in order, right after the read;
// the last one taken lets go of the array, so the caller's objects (its
// `fetch`, token source, signal) are not held until the next call.
export function optionValue(i) {
  const v = kept[i];
  if (i + 1 >= kept.length) kept = [];
  return v;
}

const answer = (mine, text) => ((kept = mine), mine.length + "," + text);
const refuse = (mine, text, why) => answer(mine, text + "!options" + why);

export function readOptions(o, keys) {
  let list = lists.get(keys);
  if (!list) lists.set(keys, (list = keys.split(" ").map((k) => [k[0], k.slice(1), types[k[0]]])));
  let text = "";
  const mine = [];
  try {
    if (typeof o != "object" || !o || Array.isArray(o)) return refuse(mine, text, " must be an object");
  } catch {
    return refuse(mine, text, " must be an object");
  }
  for (const [t, name, type] of list) {
    let v;
    let s;
    try {
      v = o[name];
    } catch {
      return refuse(mine, text, "." + name + " could not be read");
    }
    if (v === undefined) text += "0";
    else if (t == "l") {
      if (!(s = strings(v))) return refuse(mine, text, wrong(t, name));
      text += "1" + s.length + ",";
      for (const e of s) text += e.length + "," + e;
    } else if (typeof v == "string" && (t == "s" || t == "t")) {
      if (!wellFormed(v)) return refuse(mine, text, "." + name + " must be well-formed text (it has a lone surrogate)");
      text += "1" + v.length + "," + v;
    } else if (!type || (typeof v == type && v !== null)) {
      text += "2";
      mine.push(v);
    } else return refuse(mine, text, wrong(t, name));
  }
  return answer(mine, text);
}

// A lone surrogate would reach Rust as U+FFFD: a workbook path would name
// another item, silently. `isWellFormed` where the runtime has it.
const lone = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const wellFormed = (v) => (v.isWellFormed ? v.isWellFormed() : !lone.test(v));

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
      if (typeof e != "string" || !wellFormed(e)) return null;
      s.push(e);
    }
    return s;
  } catch {
    return null;
  }
}
