//! The floor: one refreshSession through the runtime's fetch, from Rust,
//! with nothing else (no options checked, no retry, no errors read).
#![no_std]
extern crate alloc;
use alloc::string::String;
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
use js_sys::{Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch)]
    fn fetch_with(url: &str, init: &JsValue) -> Promise;
}

#[wasm_bindgen(js_name = refreshSession)]
pub async fn refresh_session(url: String, token: String, id: String) -> Result<JsValue, JsValue> {
    let headers = Object::new();
    Reflect::set(&headers, &"authorization".into(), &["Bearer ", &token].concat().into())?;
    Reflect::set(&headers, &"workbook-session-id".into(), &id.into())?;
    let init = Object::new();
    Reflect::set(&init, &"method".into(), &"POST".into())?;
    Reflect::set(&init, &"headers".into(), &headers)?;
    let response = JsFuture::from(fetch_with(&url, &init)).await?;
    Reflect::get(&response, &"status".into())
}
