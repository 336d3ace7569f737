//! What differs between a native process and a browser: timers, the clock
//! and whether futures must be `Send`.
//!
//! Everything else in the crate waits through [`sleep`] and reads time
//! through [`Instant`] / [`epoch_millis`], so the rest of the code has no
//! `cfg(target_family = "wasm")` of its own. `std::time::Instant::now`
//! panics in a browser, hence `web-time`; a retry delay must really wait
//! there too, hence `gloo-timers` rather than a busy loop or no delay.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use futures_util::Stream;

/// A monotonic instant that also works in a browser.
pub(crate) use web_time::Instant;

/// Waits `duration`: `tokio::time` off the browser, a `setTimeout` in it.
pub(crate) async fn sleep(duration: Duration) {
    #[cfg(not(target_family = "wasm"))]
    tokio::time::sleep(duration).await;
    #[cfg(target_family = "wasm")]
    {
        let millis = u32::try_from(duration.as_millis()).unwrap_or(u32::MAX);
        gloo_timers::future::TimeoutFuture::new(millis).await;
    }
}

/// Milliseconds since the Unix epoch, the unit of a streaming token's
/// `expiry_time_ms`. A clock set before 1970 reads as 0.
pub(crate) fn epoch_millis() -> u64 {
    web_time::SystemTime::now()
        .duration_since(web_time::UNIX_EPOCH)
        .map(|elapsed| u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// A boxed future that is `Send` off the browser. In a browser requests are
/// not `Send`, and nothing there needs them to be.
#[cfg(not(target_family = "wasm"))]
pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;
/// A boxed future that is `Send` off the browser. In a browser requests are
/// not `Send`, and nothing there needs them to be.
#[cfg(target_family = "wasm")]
pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + 'static>>;

/// A boxed stream, `Send` off the browser (see [`BoxFuture`]).
#[cfg(not(target_family = "wasm"))]
pub(crate) type BoxStream<T> = Pin<Box<dyn Stream<Item = T> + Send + 'static>>;
/// A boxed stream, `Send` off the browser (see [`BoxFuture`]).
#[cfg(target_family = "wasm")]
pub(crate) type BoxStream<T> = Pin<Box<dyn Stream<Item = T> + 'static>>;

/// A timer that can be stored in a hand-written state machine and polled.
pub(crate) fn timer(duration: Duration) -> BoxFuture<()> {
    Box::pin(sleep(duration))
}
