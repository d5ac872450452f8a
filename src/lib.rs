//! Switchboard: a Model Context Protocol client and actor runtime.

pub mod error;
pub mod protocol;
pub mod testing;
pub mod transport;

pub use error::{Error, Result};
pub use transport::{IntoSource, Source};
