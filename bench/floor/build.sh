#!/bin/sh
# Row 1b's floor (bench/README.md, "What a Rust async fn costs before any
# of the contract"): builds src/lib.rs as the package is built (release:
# opt-level z, LTO, one codegen unit, panic abort; no std, talc; wasm-bindgen
# --target web; wasm-opt -Oz with the package's flags; the glue minified by
# esbuild) and prints the bytes, raw and gzip -9. Run from the repository
# root after `cargo xtask build` (it uses the root's node_modules):
#   sh bench/floor/build.sh
set -e
root=$(pwd)
out=$root/target/floor
mkdir -p "$out"
CARGO_TARGET_DIR=$root/target/floor/cargo cargo build -q --release --target wasm32-unknown-unknown --manifest-path bench/floor/Cargo.toml
wasm-bindgen --target web --out-dir "$out" "$root/target/floor/cargo/wasm32-unknown-unknown/release/floor.wasm"
node_modules/.bin/wasm-opt -Oz --strip-debug --strip-producers --strip-target-features \
  --enable-reference-types --enable-bulk-memory --enable-sign-ext --enable-mutable-globals \
  --enable-nontrapping-float-to-int "$out/floor_bg.wasm" -o "$out/floor_bg.wasm"
node_modules/.bin/esbuild "$out/floor.js" --minify --format=esm --log-level=warning --outfile="$out/floor.min.js"
w=$(wc -c < "$out/floor_bg.wasm"); wg=$(gzip -9c "$out/floor_bg.wasm" | wc -c)
j=$(wc -c < "$out/floor.min.js"); jg=$(gzip -9c "$out/floor.min.js" | wc -c)
echo "floor: wasm $w B ($wg B gzip -9), JS glue $j B ($jg B gzip -9), total $((wg + jg)) B gzip -9"
