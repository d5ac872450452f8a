//! Putting a question to the user callback or the form filler: in the
//! caller's task (never the actor's mailbox), under the ask deadline, and
//! settled like any other answer (validated before an accept).

use futures_util::future::BoxFuture;

use super::callback::{FormAnswer, FormPrompt, UrlAnswer, UrlConsentRequest};
use super::decide::settle_form;
use super::Policy;
use crate::policy::actor::Event;
use crate::protocol::ElicitResult;

impl Policy {
    /// Runs `fut` under the ask deadline.
    pub(super) async fn within<T>(
        &self,
        what: &str,
        server: &str,
        fut: BoxFuture<'static, T>,
    ) -> Option<T> {
        match tokio::time::timeout(self.inner.ask_timeout, fut).await {
            Ok(v) => Some(v),
            Err(_) => {
                tracing::warn!(%server, timeout = ?self.inner.ask_timeout, "{what} did not answer in time: cancelling");
                None
            }
        }
    }

    pub(super) async fn ask_form(&self, form: FormPrompt) -> (ElicitResult, Vec<Event>) {
        let Some(callback) = self.inner.callback.clone() else {
            return (ElicitResult::decline(), vec![]);
        };
        let server = form.server.clone();
        match self
            .within(
                "the user callback",
                &server,
                callback.ask_form(form.clone()),
            )
            .await
        {
            None => (ElicitResult::cancel(), vec![Event::Asked, Event::TimedOut]),
            Some(FormAnswer::Accept(values)) => {
                (settle_form(&form, &values, "the user"), vec![Event::Asked])
            }
            Some(FormAnswer::Decline) => (ElicitResult::decline(), vec![Event::Asked]),
            Some(FormAnswer::Cancel) => (ElicitResult::cancel(), vec![Event::Asked]),
        }
    }

    pub(super) async fn fill(&self, form: FormPrompt) -> (ElicitResult, Vec<Event>) {
        let Some(filler) = self.inner.filler.clone() else {
            return (ElicitResult::decline(), vec![]);
        };
        let server = form.server.clone();
        match self
            .within("the form filler", &server, filler.fill(form.clone()))
            .await
        {
            None => (ElicitResult::cancel(), vec![Event::Filled, Event::TimedOut]),
            Some(Ok(values)) => (
                settle_form(&form, &values, "the filler"),
                vec![Event::Filled],
            ),
            Some(Err(e)) => {
                tracing::warn!(%server, "cancelling: {e}");
                (ElicitResult::cancel(), vec![Event::Filled])
            }
        }
    }

    pub(super) async fn ask_url(&self, request: UrlConsentRequest) -> (ElicitResult, Vec<Event>) {
        let Some(callback) = self.inner.callback.clone() else {
            return (ElicitResult::decline(), vec![]);
        };
        let server = request.server.clone();
        let url = request.prompt.full_url.clone();
        match self
            .within("the user callback", &server, callback.ask_url(request))
            .await
        {
            None => (ElicitResult::cancel(), vec![Event::Asked, Event::TimedOut]),
            Some(UrlAnswer::Consent) => {
                tracing::info!(%server, %url, "the user consented to open the URL");
                (ElicitResult::accept_url(), vec![Event::Asked])
            }
            Some(UrlAnswer::Decline) => (ElicitResult::decline(), vec![Event::Asked]),
            Some(UrlAnswer::Cancel) => (ElicitResult::cancel(), vec![Event::Asked]),
        }
    }
}
