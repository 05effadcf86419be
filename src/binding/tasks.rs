//! Work handed to the libuv pool: each task runs an engine call off the JavaScript thread and
//! settles a promise with its result, rejecting with the `LEVEL_*`-coded error on failure.

use napi::bindgen_prelude::{Env, Task};

use crate::binding::error::reject;
use crate::engine;

/// A closure run on the pool whose result needs no conversion beyond `ToNapiValue`.
pub struct EngineTask<T: Send + 'static> {
    work: Option<Box<dyn FnOnce() -> engine::Result<T> + Send>>,
}

impl<T: Send + 'static> EngineTask<T> {
    /// Wraps `work` to run on the pool.
    pub fn new(work: impl FnOnce() -> engine::Result<T> + Send + 'static) -> EngineTask<T> {
        EngineTask { work: Some(Box::new(work)) }
    }
}

impl<T> Task for EngineTask<T>
where
    T: Send + 'static + napi::bindgen_prelude::ToNapiValue + napi::bindgen_prelude::TypeName,
{
    type Output = engine::Result<T>;
    type JsValue = T;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let work = self.work.take().ok_or_else(|| napi::Error::from_reason("task ran twice"))?;
        Ok(work())
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<T> {
        output.map_err(|e| reject(env, e))
    }
}
