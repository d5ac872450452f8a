//! Serving a [`TestServer`] over a byte stream of newline-delimited JSON
//! (see [`crate::server::Server::serve_io`]): this process's stdin and
//! stdout for a real child process, or any reader and writer.

use std::future::Future;

use tokio::io::{AsyncRead, AsyncWrite};

use super::TestServer;

impl TestServer {
    /// Serves one client over this process's stdin and stdout until stdin
    /// closes or a fault closes the connection.
    pub fn serve_stdio(self) -> impl Future<Output = std::io::Result<()>> + Send + 'static {
        self.server.serve_stdio()
    }

    /// Serves one client reading lines from `reader` and writing lines to
    /// `writer`, until `reader` ends or a fault closes the connection.
    pub async fn serve_io<R, W>(self, reader: R, writer: W) -> std::io::Result<()>
    where
        R: AsyncRead + Unpin + Send + 'static,
        W: AsyncWrite + Unpin + Send + 'static,
    {
        self.server.serve_io(reader, writer).await
    }
}
