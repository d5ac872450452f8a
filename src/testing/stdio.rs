//! Serving a [`TestServer`] over a byte stream of newline-delimited JSON,
//! one message per line: this process's stdin and stdout for a real child
//! process, or any reader and writer. Nothing but protocol goes to the
//! writer; diagnostics belong on stderr.

use std::future::Future;

use bytes::Bytes;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

use super::{dispatch, TestServer};
use crate::transport::ServerEnd;

/// Frames buffered in each direction between the stream and the server.
const CAPACITY: usize = 64;

impl TestServer {
    /// Serves one client over this process's stdin and stdout until stdin
    /// closes or a fault closes the connection.
    pub fn serve_stdio(self) -> impl Future<Output = std::io::Result<()>> + Send + 'static {
        self.serve_io(tokio::io::stdin(), tokio::io::stdout())
    }

    /// Serves one client reading lines from `reader` and writing lines to
    /// `writer`, until `reader` ends or a fault closes the connection.
    pub async fn serve_io<R, W>(self, reader: R, writer: W) -> std::io::Result<()>
    where
        R: AsyncRead + Unpin + Send + 'static,
        W: AsyncWrite + Unpin + Send + 'static,
    {
        let (to_server, incoming) = mpsc::channel::<Bytes>(CAPACITY);
        let (outgoing, mut from_server) = mpsc::channel::<Bytes>(CAPACITY);
        let serve = dispatch::serve(self, ServerEnd { incoming, outgoing });
        let write = async move {
            let mut writer = writer;
            while let Some(frame) = from_server.recv().await {
                writer.write_all(&frame).await?;
                writer.write_all(b"\n").await?;
                writer.flush().await?;
            }
            Ok::<_, std::io::Error>(())
        };
        // `to_server` lives in here: when the input ends it is dropped,
        // which tells the server the client hung up.
        let read = async move {
            let mut reader = BufReader::new(reader);
            let mut line = Vec::new();
            loop {
                line.clear();
                if reader.read_until(b'\n', &mut line).await? == 0 {
                    return Ok::<_, std::io::Error>(());
                }
                let text = line.trim_ascii();
                if text.is_empty() {
                    continue;
                }
                if to_server.send(Bytes::copy_from_slice(text)).await.is_err() {
                    return Ok(());
                }
            }
        };
        let server_side = async { tokio::join!(serve, write).1 };
        tokio::pin!(server_side);
        tokio::pin!(read);
        tokio::select! {
            done = &mut server_side => return done,
            read_result = &mut read => read_result?,
        }
        server_side.await
    }
}
