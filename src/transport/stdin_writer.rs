//! Writing frames to a child's stdin, either straight from the caller's
//! thread (one `writev`, when the pipe is idle and the caller is alone) or
//! batched by a writer task (when frames pile up or the pipe is full).
//!
//! Senders only touch the descriptor under the state lock, where closing
//! also happens, so no one can write to a closed (and possibly reused)
//! descriptor number. The writer task owns a duplicate registered with the
//! reactor to wait for room; closing stdin drops ours and makes the task
//! drop its copy, so the child reads EOF.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::{Mutex, MutexGuard};

use bytes::Bytes;
use tokio::io::unix::AsyncFd;
use tokio::sync::Notify;

use super::outbound::SendError;

/// How many bytes may wait in the buffer before senders wait.
const BUFFER_LIMIT: usize = 8 * 1024 * 1024;

pub(crate) struct StdinWriter {
    state: Mutex<State>,
    /// Wakes the writer task: there is something in `buf`.
    work: Notify,
    /// Wakes senders waiting for room.
    drained: Notify,
    /// Wakes a writer task waiting on the pipe when stdin is closed.
    closing: Notify,
}

#[derive(Default)]
struct State {
    /// Ours, for direct writes; `None` once closed.
    fd: Option<OwnedFd>,
    buf: Vec<u8>,
    /// The writer task is writing a chunk taken from `buf`.
    busy: bool,
    closed: bool,
}

impl StdinWriter {
    /// The writer, and the descriptor its task waits on (pass it to
    /// [`StdinWriter::run`]). Must be called inside a tokio runtime.
    pub(crate) fn new(fd: OwnedFd) -> io::Result<(Self, AsyncFd<OwnedFd>)> {
        set_nonblocking(&fd)?;
        let task_fd = fd.try_clone()?;
        // SAFETY: `task_fd` is a fresh duplicate owned by the AsyncFd for its
        // whole life: it stays open and refers to the same description.
        let task_fd = unsafe { AsyncFd::register(task_fd) }.map_err(|e| e.into_parts().1)?;
        let writer = StdinWriter {
            state: Mutex::new(State {
                fd: Some(fd),
                ..State::default()
            }),
            work: Notify::new(),
            drained: Notify::new(),
            closing: Notify::new(),
        };
        Ok((writer, task_fd))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends one frame (a newline is added). With `direct`, an idle pipe is
    /// written at once from this thread.
    pub(crate) async fn send(&self, frame: Bytes, direct: bool) -> Result<(), SendError> {
        match self.try_send(&frame, direct) {
            Some(sent) => sent,
            // Boxed: the wait (and its `Notified`) is no part of a
            // request's future unless the buffer is full.
            None => Box::pin(self.send_when_room(frame, direct)).await,
        }
    }

    /// Writes or queues `frame` if there is room now (`None` if not).
    fn try_send(&self, frame: &[u8], direct: bool) -> Option<Result<(), SendError>> {
        let mut st = self.lock();
        if st.closed {
            return Some(Err(SendError));
        }
        if direct && st.buf.is_empty() && !st.busy {
            return Some(self.write_direct(&mut st, frame));
        }
        if st.buf.len() < BUFFER_LIMIT {
            self.queue(st, frame);
            return Some(Ok(()));
        }
        None
    }

    /// Waits until the writer has drained the buffer below its limit, then
    /// queues `frame`.
    async fn send_when_room(&self, frame: Bytes, direct: bool) -> Result<(), SendError> {
        loop {
            // Registered before the check: a drain between the two is not
            // missed.
            let room = self.drained.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            if let Some(sent) = self.try_send(&frame, direct) {
                return sent;
            }
            room.await;
        }
    }

    /// Queues a frame whatever the buffer holds (never waits).
    pub(crate) fn push(&self, frame: Bytes) -> Result<(), SendError> {
        let st = self.lock();
        if st.closed {
            return Err(SendError);
        }
        self.queue(st, &frame);
        Ok(())
    }

    /// Appends a frame for the writer task. Only the first frame into an
    /// empty buffer wakes it: until it takes the buffer, that wake-up
    /// covers everything added after.
    fn queue(&self, mut st: MutexGuard<'_, State>, frame: &[u8]) {
        let was_empty = st.buf.is_empty();
        st.buf.extend_from_slice(frame);
        st.buf.push(b'\n');
        drop(st);
        if was_empty {
            self.work.notify_one();
        }
    }

    /// Writes under the lock, so the frame is never split by another
    /// writer; whatever the pipe does not take goes to the buffer.
    fn write_direct(&self, st: &mut State, frame: &[u8]) -> Result<(), SendError> {
        let Some(fd) = st.fd.as_ref().map(AsRawFd::as_raw_fd) else {
            return Err(SendError);
        };
        let total = frame.len() + 1;
        let written = loop {
            let iov = [
                libc::iovec {
                    iov_base: frame.as_ptr() as *mut libc::c_void,
                    iov_len: frame.len(),
                },
                libc::iovec {
                    iov_base: b"\n".as_ptr() as *mut libc::c_void,
                    iov_len: 1,
                },
            ];
            // SAFETY: the iovecs point into live buffers for the duration of
            // the call; the descriptor is open while we hold the state lock.
            let n = unsafe { libc::writev(fd, iov.as_ptr(), 2) };
            if n >= 0 {
                break n as usize;
            }
            match io::Error::last_os_error().kind() {
                io::ErrorKind::Interrupted => continue,
                io::ErrorKind::WouldBlock => break 0,
                _ => {
                    st.closed = true;
                    return Err(SendError);
                }
            }
        };
        if written < total {
            if written < frame.len() {
                st.buf.extend_from_slice(&frame[written..]);
            }
            st.buf.push(b'\n');
            self.work.notify_one();
        }
        Ok(())
    }

    /// Closes stdin: the child reads EOF. Later sends fail.
    pub(crate) fn close(&self) {
        let mut st = self.lock();
        if st.closed {
            return;
        }
        st.closed = true;
        st.buf.clear();
        // Under the lock: no direct write can be using it.
        st.fd = None;
        drop(st);
        self.work.notify_one();
        self.drained.notify_waiters();
        self.closing.notify_waiters();
    }

    /// The writer task: drains the buffer whenever there is work.
    pub(crate) async fn run(self: std::sync::Arc<Self>, fd: AsyncFd<OwnedFd>) {
        let mut chunk = Vec::new();
        loop {
            self.work.notified().await;
            // Let the tasks that are ready to run first (typically the
            // callers a batch of replies just woke, each about to send its
            // next request) queue their frames, so they leave in one write.
            // Without this, the runtime runs a freshly woken writer right
            // after the task that woke it, and every frame costs a syscall.
            tokio::task::yield_now().await;
            loop {
                {
                    let mut st = self.lock();
                    if st.closed {
                        return;
                    }
                    if st.buf.is_empty() {
                        st.busy = false;
                        break;
                    }
                    st.busy = true;
                    chunk.clear();
                    std::mem::swap(&mut chunk, &mut st.buf);
                }
                self.drained.notify_waiters();
                if self.write_all(&fd, &chunk).await.is_err() {
                    let mut st = self.lock();
                    st.closed = true;
                    st.busy = false;
                    drop(st);
                    self.drained.notify_waiters();
                    return;
                }
            }
        }
    }

    async fn write_all(&self, fd: &AsyncFd<OwnedFd>, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            let closing = self.closing.notified();
            tokio::pin!(closing);
            closing.as_mut().enable();
            if self.lock().closed {
                return Err(io::Error::new(io::ErrorKind::BrokenPipe, "stdin closed"));
            }
            let mut ready = tokio::select! {
                ready = fd.writable() => ready?,
                _ = closing => return Err(io::Error::new(io::ErrorKind::BrokenPipe, "stdin closed")),
            };
            let result = ready.try_io(|fd| {
                // SAFETY: `data` is a live slice; the descriptor is owned.
                let n = unsafe {
                    libc::write(
                        fd.get_ref().as_raw_fd(),
                        data.as_ptr() as *const libc::c_void,
                        data.len(),
                    )
                };
                if n < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(n as usize)
                }
            });
            match result {
                Ok(Ok(n)) => data = &data[n..],
                Ok(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Ok(Err(e)) => return Err(e),
                Err(_would_block) => {}
            }
        }
        Ok(())
    }
}

fn set_nonblocking(fd: &OwnedFd) -> io::Result<()> {
    // SAFETY: fcntl on an owned, open descriptor.
    unsafe {
        let flags = libc::fcntl(fd.as_raw_fd(), libc::F_GETFL);
        if flags < 0 || libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    /// A reader that does not read: senders fill the buffer, then wait for
    /// room (and lose nothing), and go on once the reader drains the pipe.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_buffer_makes_senders_wait_and_loses_nothing() {
        let (mut reader, pipe_writer) = std::io::pipe().expect("pipe");
        let (writer, task_fd) = StdinWriter::new(OwnedFd::from(pipe_writer)).expect("writer");
        let writer = Arc::new(writer);
        tokio::spawn(writer.clone().run(task_fd));
        let frame = Bytes::from(vec![b'x'; 1024 * 1024]);
        // Room for the buffer, the chunk the writer task holds and what the
        // pipe takes: about 17 frames of 1 MiB. A send that has no room
        // within the deadline was not queued (it is dropped unsent).
        let mut queued = 0usize;
        loop {
            let send = writer.send(frame.clone(), false);
            match tokio::time::timeout(Duration::from_millis(300), send).await {
                Ok(sent) => {
                    sent.expect("queued");
                    queued += 1;
                    assert!(queued < 64, "the sender never waited for room");
                }
                Err(_) => break,
            }
        }
        assert!(
            queued >= 8,
            "waited with {queued} MiB queued, under the limit"
        );
        let waiting = tokio::spawn({
            let writer = writer.clone();
            let frame = frame.clone();
            async move { writer.send(frame, false).await }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!waiting.is_finished(), "a send found room in a full buffer");
        let expected = (queued + 1) * (frame.len() + 1);
        let drained = tokio::task::spawn_blocking(move || {
            let mut all = vec![0u8; expected];
            reader.read_exact(&mut all).map(|()| all)
        });
        tokio::time::timeout(Duration::from_secs(10), waiting)
            .await
            .expect("the waiting send went on once the pipe drained")
            .expect("send task")
            .expect("sent");
        let all = tokio::time::timeout(Duration::from_secs(10), drained)
            .await
            .expect("every queued byte arrived")
            .expect("reader task")
            .expect("read");
        for line in all.chunks(frame.len() + 1) {
            assert_eq!(&line[..frame.len()], &frame[..]);
            assert_eq!(line[frame.len()], b'\n');
        }
        writer.close();
    }
}
