//! Requests by type: the method, the params' shape and the result's type
//! come from one [`Request`] marker of `protocol/`, so a method can no
//! longer be paired with the wrong params or decoded as the wrong result.
//! `Session::request` stays as the untyped path for methods this crate
//! has no type for (`Client::request`). Each of these is a plain function
//! returning the untyped path's future, not an `async fn` around it: a
//! wrapper future would hold (and move on its first poll) the whole
//! request's state once more for nothing.

use std::future::Future;

use serde::de::DeserializeOwned;

use super::rounds::Answered;
use super::{CallOptions, Session, Target};
use crate::protocol::{Encodes, Request};
use crate::Result;

impl Session {
    /// Sends `R` and decodes its (complete) result.
    pub fn send<'a, R, P>(
        &'a self,
        params: &'a P,
        call: Option<&'a CallOptions>,
    ) -> impl Future<Output = Result<R::Result>> + 'a
    where
        R: Request,
        R::Result: DeserializeOwned,
        P: Encodes<R> + Sync + ?Sized,
    {
        self.request(R::METHOD, params, call)
    }

    /// [`Session::send`], with the size of the result in bytes.
    pub(crate) fn send_sized<'a, R, P>(
        &'a self,
        params: &'a P,
        call: Option<&'a CallOptions>,
    ) -> impl Future<Output = Result<(R::Result, usize)>> + 'a
    where
        R: Request,
        P: Encodes<R> + Sync + ?Sized,
    {
        self.request_sized(R::METHOD, params, call)
    }

    /// Sends `R`, which may need input-required rounds, with what the
    /// frame's metadata mirrors (`target`), and decodes the final result.
    pub(crate) fn send_with_rounds<'a, R, P>(
        &'a self,
        target: Target<'a>,
        params: &'a P,
        call: Option<&'a CallOptions>,
    ) -> impl Future<Output = Result<R::Result>> + 'a
    where
        R: Request,
        P: Encodes<R> + Sync + ?Sized,
    {
        self.request_with_rounds_to(R::METHOD, target, params, call)
    }

    /// [`Session::send_with_rounds`] that accepts a task in place of the
    /// result.
    pub(crate) fn send_with_rounds_or_task<'a, R, P>(
        &'a self,
        target: Target<'a>,
        params: &'a P,
        call: Option<&'a CallOptions>,
    ) -> impl Future<Output = Result<Answered<R::Result>>> + 'a
    where
        R: Request,
        P: Encodes<R> + Sync + ?Sized,
    {
        self.request_with_rounds_or_task(R::METHOD, target, params, call)
    }

    /// Sends `R` with what the frame's metadata mirrors (`target`) and
    /// decodes its (complete) result.
    pub(crate) fn send_to<'a, R, P>(
        &'a self,
        target: Target<'a>,
        params: &'a P,
        call: Option<&'a CallOptions>,
    ) -> impl Future<Output = Result<R::Result>> + 'a
    where
        R: Request,
        P: Encodes<R> + Sync + ?Sized,
    {
        self.request_to(R::METHOD, target, params, call)
    }
}
