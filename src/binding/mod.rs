//! The napi-rs binding.
