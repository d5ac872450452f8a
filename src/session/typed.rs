//! Requests by type: the method, the params' shape and the result's type
//! come from one [`Request`] marker of `protocol/`, so a method can no
//! longer be paired with the wrong params or decoded as the wrong result.
//! `Session::request` stays as the untyped path for methods this crate
//! has no type for (`Client::request`).

use serde::de::DeserializeOwned;

use super::rounds::Answered;
use super::{CallOptions, Session, Target};
use crate::protocol::{Encodes, Request};
use crate::Result;

impl Session {
    /// Sends `R` and decodes its (complete) result.
    pub async fn send<R, P>(&self, params: &P, call: Option<&CallOptions>) -> Result<R::Result>
    where
        R: Request,
        R::Result: DeserializeOwned,
        P: Encodes<R> + Sync + ?Sized,
    {
        self.request(R::METHOD, params, call).await
    }

    /// [`Session::send`], with the size of the result in bytes.
    pub(crate) async fn send_sized<R, P>(
        &self,
        params: &P,
        call: Option<&CallOptions>,
    ) -> Result<(R::Result, usize)>
    where
        R: Request,
        P: Encodes<R> + Sync + ?Sized,
    {
        self.request_sized(R::METHOD, params, call).await
    }

    /// Sends `R`, which may need input-required rounds, with what the
    /// frame's metadata mirrors (`target`), and decodes the final result.
    pub(crate) async fn send_with_rounds<R, P>(
        &self,
        target: Target<'_>,
        params: &P,
        call: Option<&CallOptions>,
    ) -> Result<R::Result>
    where
        R: Request,
        P: Encodes<R> + Sync + ?Sized,
    {
        self.request_with_rounds_to(R::METHOD, target, params, call)
            .await
    }

    /// [`Session::send_with_rounds`] that accepts a task in place of the
    /// result.
    pub(crate) async fn send_with_rounds_or_task<R, P>(
        &self,
        target: Target<'_>,
        params: &P,
        call: Option<&CallOptions>,
    ) -> Result<Answered<R::Result>>
    where
        R: Request,
        P: Encodes<R> + Sync + ?Sized,
    {
        self.request_with_rounds_or_task(R::METHOD, target, params, call)
            .await
    }

    /// Sends `R` with what the frame's metadata mirrors (`target`) and
    /// decodes its (complete) result.
    pub(crate) async fn send_to<R, P>(
        &self,
        target: Target<'_>,
        params: &P,
        call: Option<&CallOptions>,
    ) -> Result<R::Result>
    where
        R: Request,
        P: Encodes<R> + Sync + ?Sized,
    {
        self.request_to(R::METHOD, target, params, call).await
    }
}
