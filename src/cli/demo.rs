//! `switchboard demo` and the hidden `serve-test`: placeholders until the
//! testing server lands.

use super::args::Global;
use crate::{Error, Result};

pub(super) async fn run(_global: &Global) -> Result<u8> {
    Err(Error::NotSupported("demo".into()))
}

pub(super) async fn serve_test(_eras: &str) -> Result<u8> {
    Err(Error::NotSupported("serve-test".into()))
}
