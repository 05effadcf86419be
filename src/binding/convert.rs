//! Conversions between JavaScript values and bytes. Keys and values arrive as strings (the utf8
//! encoding) or as `Buffer`/`Uint8Array` views (buffer and view encodings); results leave as
//! strings or Buffers, as the caller's encoding asks, so no second conversion happens in
//! JavaScript.

use std::ops::Deref;
use std::ptr;

use napi::bindgen_prelude::{FromNapiValue, ToNapiValue, TypeName};
use napi::{sys, ValueType};

/// Bytes from JavaScript: a string's UTF-8 encoding (copied), or a typed array's contents
/// (borrowed for the duration of a synchronous call; copy before handing to another thread).
pub enum Bytes<'a> {
    /// Encoded from a string.
    Owned(Vec<u8>),
    /// A view of a `Uint8Array` or `Buffer`.
    Borrowed(&'a [u8]),
}

impl Deref for Bytes<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Owned(v) => v,
            Bytes::Borrowed(s) => s,
        }
    }
}

impl TypeName for Bytes<'_> {
    fn type_name() -> &'static str {
        "string | Uint8Array"
    }
    fn value_type() -> ValueType {
        ValueType::Unknown
    }
}

impl FromNapiValue for Bytes<'_> {
    unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> napi::Result<Self> {
        let mut kind = 0;
        // SAFETY: `env` and `value` come from napi for the duration of this call.
        napi::check_status!(unsafe { sys::napi_typeof(env, value, &mut kind) }, "typeof failed")?;
        if kind == sys::ValueType::napi_string {
            // SAFETY: as above; the value is a string.
            let s = unsafe { String::from_napi_value(env, value)? };
            return Ok(Bytes::Owned(s.into_bytes()));
        }
        // SAFETY: as above; a non-Uint8Array is refused by the conversion with an error.
        unsafe { <&[u8]>::from_napi_value(env, value) }.map(Bytes::Borrowed)
    }
}

/// Bytes going to JavaScript, as a string (utf8 encoding) or a Buffer.
pub struct Out {
    /// The bytes.
    pub data: Vec<u8>,
    /// Decode as UTF-8 into a string instead of making a Buffer.
    pub utf8: bool,
}

impl TypeName for Out {
    fn type_name() -> &'static str {
        "string | Buffer"
    }
    fn value_type() -> ValueType {
        ValueType::Unknown
    }
}

/// Creates a string or Buffer from `data`. Invalid UTF-8 becomes U+FFFD, as `buf.toString()` does.
pub unsafe fn bytes_to_js(env: sys::napi_env, data: &[u8], utf8: bool) -> napi::Result<sys::napi_value> {
    let mut out = ptr::null_mut();
    if utf8 {
        // SAFETY: `data` outlives the call and its length is passed explicitly.
        napi::check_status!(
            unsafe { sys::napi_create_string_utf8(env, data.as_ptr().cast(), data.len() as isize, &mut out) },
            "create string failed"
        )?;
    } else {
        // SAFETY: napi copies `data` into a new Buffer before returning.
        napi::check_status!(
            unsafe { sys::napi_create_buffer_copy(env, data.len(), data.as_ptr().cast(), ptr::null_mut(), &mut out) },
            "create buffer failed"
        )?;
    }
    Ok(out)
}

unsafe fn undefined(env: sys::napi_env) -> napi::Result<sys::napi_value> {
    let mut out = ptr::null_mut();
    // SAFETY: `env` is valid for this call.
    napi::check_status!(unsafe { sys::napi_get_undefined(env, &mut out) }, "undefined failed")?;
    Ok(out)
}

impl ToNapiValue for Out {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        // SAFETY: forwarded from napi's call.
        unsafe { bytes_to_js(env, &val.data, val.utf8) }
    }
}

/// The outcome of a read: the value, `undefined` for a missing key (napi would turn `None` into
/// `null`, and abstract-level wants `undefined`), or `null` when a memory-only read needs the disk.
pub enum MaybeOut {
    /// The value.
    Value(Out),
    /// The key has no value.
    Missing,
    /// The read must be retried where it may wait on the disk.
    Incomplete,
}

impl TypeName for MaybeOut {
    fn type_name() -> &'static str {
        "string | Buffer | undefined"
    }
    fn value_type() -> ValueType {
        ValueType::Unknown
    }
}

impl ToNapiValue for MaybeOut {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        match val {
            // SAFETY: forwarded from napi's call.
            MaybeOut::Value(out) => unsafe { Out::to_napi_value(env, out) },
            // SAFETY: as above.
            MaybeOut::Missing => unsafe { undefined(env) },
            MaybeOut::Incomplete => {
                let mut out = ptr::null_mut();
                // SAFETY: `env` is valid for this call.
                napi::check_status!(unsafe { sys::napi_get_null(env, &mut out) }, "null failed")?;
                Ok(out)
            }
        }
    }
}

/// An array of byte strings (`undefined` for `None`), all in one encoding.
pub struct OutList {
    /// The items.
    pub items: Vec<Option<Vec<u8>>>,
    /// Strings instead of Buffers.
    pub utf8: bool,
}

impl TypeName for OutList {
    fn type_name() -> &'static str {
        "Array<string | Buffer | undefined>"
    }
    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ToNapiValue for OutList {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        let mut array = ptr::null_mut();
        // SAFETY: `env` is valid for this call; every value set is created in the same scope.
        unsafe {
            napi::check_status!(
                sys::napi_create_array_with_length(env, val.items.len(), &mut array),
                "create array failed"
            )?;
            for (i, item) in val.items.iter().enumerate() {
                let v = match item {
                    Some(data) => bytes_to_js(env, data, val.utf8)?,
                    None => undefined(env)?,
                };
                napi::check_status!(sys::napi_set_element(env, array, i as u32, v), "set element failed")?;
            }
        }
        Ok(array)
    }
}
