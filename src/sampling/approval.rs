//! Approval hooks: a person or a policy sees every sampling request before
//! anything reaches the model.

use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;

use crate::protocol::{CreateMessageRequestParams, Era};

/// The verdict on one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Approval {
    /// Go ahead.
    Approve,
    /// Refuse, with a reason the server is told.
    Deny(String),
}

/// What the hook is shown.
#[derive(Debug, Clone)]
pub struct ApprovalRequest {
    /// The server asking (its configured name).
    pub server: Arc<str>,
    /// The era the request came through.
    pub era: Era,
    /// The request as the server sent it.
    pub params: CreateMessageRequestParams,
}

/// Decides on sampling requests. Any
/// `Fn(ApprovalRequest) -> impl Future<Output = Approval>` is one.
pub trait ApprovalHook: Send + Sync + 'static {
    /// Reviews one request.
    fn review(&self, request: ApprovalRequest) -> BoxFuture<'static, Approval>;
}

impl<F, Fut> ApprovalHook for F
where
    F: Fn(ApprovalRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Approval> + Send + 'static,
{
    fn review(&self, request: ApprovalRequest) -> BoxFuture<'static, Approval> {
        Box::pin(self(request))
    }
}
