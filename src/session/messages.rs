//! One typed handler for everything a server tells the client.
//!
//! A [`MessageHandler`] is the one way to hear a server: it hears every
//! message, typed, with the name of the server it came from, so one
//! handler can serve every server of a fleet: override the methods you care
//! about; [`MessageHandler::on_message`] sees every message first. The
//! builder's closures (`on_progress`, `on_log`, `on_notification`) are
//! shorthands that add a handler with one method.

use crate::protocol::{LoggingMessageNotificationParams, ProgressNotificationParams};
use crate::session::ServerNotification;

/// Which list a server says has changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListKind {
    /// `notifications/tools/list_changed`.
    Tools,
    /// `notifications/prompts/list_changed`.
    Prompts,
    /// `notifications/resources/list_changed`.
    Resources,
}

impl ListKind {
    /// The list a `notifications/*/list_changed` method names.
    pub fn from_method(method: &str) -> Option<ListKind> {
        match method {
            "notifications/tools/list_changed" => Some(ListKind::Tools),
            "notifications/prompts/list_changed" => Some(ListKind::Prompts),
            "notifications/resources/list_changed" => Some(ListKind::Resources),
            _ => None,
        }
    }
}

/// A message from a server, typed.
#[derive(Debug, Clone, Copy)]
pub enum ServerMessage<'a> {
    /// Progress of a call (ours or, for a server's own work, anyone's).
    Progress(&'a ProgressNotificationParams),
    /// A log message (it also goes to `tracing`, target
    /// `switchboard::server_log`, with the server's name).
    Log(&'a LoggingMessageNotificationParams),
    /// A list changed.
    ListChanged(ListKind),
    /// A subscribed resource changed.
    ResourceUpdated {
        /// The resource's URI.
        uri: &'a str,
    },
    /// Any other notification.
    Other(&'a ServerNotification),
}

/// Hears every message from a server (or from every server of a fleet).
///
/// All methods have empty defaults. They run on the connection's reader:
/// they must be quick and must not block (spawn or send to a channel for
/// real work).
///
/// ```
/// use switchboard::session::{ListKind, MessageHandler};
///
/// struct Watch;
/// impl MessageHandler for Watch {
///     fn on_list_changed(&self, server: &str, list: ListKind) {
///         println!("{server}: {list:?} changed");
///     }
/// }
/// # let _ = switchboard::Client::builder(switchboard::Source::memory(switchboard::testing::demo_server())).message_handler(Watch);
/// ```
pub trait MessageHandler: Send + Sync + 'static {
    /// Every message, before the method for its kind.
    fn on_message(&self, server: &str, message: &ServerMessage<'_>) {
        let _ = (server, message);
    }
    /// Progress notifications.
    fn on_progress(&self, server: &str, progress: &ProgressNotificationParams) {
        let _ = (server, progress);
    }
    /// Log messages.
    fn on_log(&self, server: &str, log: &LoggingMessageNotificationParams) {
        let _ = (server, log);
    }
    /// A tools, prompts or resources list changed (cached lists are
    /// already invalidated when this runs).
    fn on_list_changed(&self, server: &str, list: ListKind) {
        let _ = (server, list);
    }
    /// A subscribed resource changed.
    fn on_resource_updated(&self, server: &str, uri: &str) {
        let _ = (server, uri);
    }
    /// Any other notification.
    fn on_other(&self, server: &str, notification: &ServerNotification) {
        let _ = (server, notification);
    }
    /// Every notification but progress and logs, as it came (method and
    /// params), before it is told apart into list changes, resource
    /// updates and others.
    fn on_notification(&self, server: &str, notification: &ServerNotification) {
        let _ = (server, notification);
    }
}

impl<H: MessageHandler + ?Sized> MessageHandler for std::sync::Arc<H> {
    fn on_message(&self, server: &str, message: &ServerMessage<'_>) {
        (**self).on_message(server, message)
    }
    fn on_progress(&self, server: &str, progress: &ProgressNotificationParams) {
        (**self).on_progress(server, progress)
    }
    fn on_log(&self, server: &str, log: &LoggingMessageNotificationParams) {
        (**self).on_log(server, log)
    }
    fn on_list_changed(&self, server: &str, list: ListKind) {
        (**self).on_list_changed(server, list)
    }
    fn on_resource_updated(&self, server: &str, uri: &str) {
        (**self).on_resource_updated(server, uri)
    }
    fn on_other(&self, server: &str, notification: &ServerNotification) {
        (**self).on_other(server, notification)
    }
    fn on_notification(&self, server: &str, notification: &ServerNotification) {
        (**self).on_notification(server, notification)
    }
}

/// A closure heard as [`MessageHandler::on_progress`].
pub(crate) struct OnProgress<F>(pub(crate) F);

impl<F: Fn(&ProgressNotificationParams) + Send + Sync + 'static> MessageHandler for OnProgress<F> {
    fn on_progress(&self, _: &str, progress: &ProgressNotificationParams) {
        (self.0)(progress)
    }
}

/// A closure heard as [`MessageHandler::on_log`].
pub(crate) struct OnLog<F>(pub(crate) F);

impl<F: Fn(&LoggingMessageNotificationParams) + Send + Sync + 'static> MessageHandler for OnLog<F> {
    fn on_log(&self, _: &str, log: &LoggingMessageNotificationParams) {
        (self.0)(log)
    }
}

/// A closure heard as [`MessageHandler::on_notification`].
pub(crate) struct OnNotification<F>(pub(crate) F);

impl<F: Fn(&ServerNotification) + Send + Sync + 'static> MessageHandler for OnNotification<F> {
    fn on_notification(&self, _: &str, notification: &ServerNotification) {
        (self.0)(notification)
    }
}

/// Calls `handler` for `message`: the catch-all first, then its kind.
pub(crate) fn deliver(handler: &dyn MessageHandler, server: &str, message: ServerMessage<'_>) {
    handler.on_message(server, &message);
    match message {
        ServerMessage::Progress(p) => handler.on_progress(server, p),
        ServerMessage::Log(l) => handler.on_log(server, l),
        ServerMessage::ListChanged(kind) => handler.on_list_changed(server, kind),
        ServerMessage::ResourceUpdated { uri } => handler.on_resource_updated(server, uri),
        ServerMessage::Other(n) => handler.on_other(server, n),
    }
}

/// The typed form of a notification the dispatcher did not handle itself.
pub(crate) fn classify(notification: &ServerNotification) -> ServerMessage<'_> {
    if let Some(kind) = ListKind::from_method(&notification.method) {
        return ServerMessage::ListChanged(kind);
    }
    if notification.method == "notifications/resources/updated" {
        if let Some(uri) = notification.params.get("uri").and_then(|u| u.as_str()) {
            return ServerMessage::ResourceUpdated { uri };
        }
    }
    ServerMessage::Other(notification)
}
