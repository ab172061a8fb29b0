//! Wake-ups without locks on the media path.
//!
//! [`Doorbell`]: the control thread pushes a command into the lock-free
//! queue, then rings; the shard's command task sleeps on it. glommio queues a
//! waker woken from a foreign thread and wakes the executor through its
//! eventfd, so an idle shard sleeps in the kernel instead of polling. The
//! mutex only guards the parked waker and is touched when the command task
//! parks or the control thread rings, never per packet.
//!
//! [`LocalBell`]: the same inside one shard (a packet for an idle room wakes
//! the parked tick task); single-threaded, so plain cells.

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::task::{Poll, Waker};

/// Cross-thread wake-up for a shard's command task.
#[derive(Debug, Default)]
pub(crate) struct Doorbell {
    rung: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl Doorbell {
    /// Wakes the waiting task (or makes its next wait return at once).
    pub(crate) fn ring(&self) {
        self.rung.store(true, Ordering::Release);
        let waker = self.waker.lock().map(|mut w| w.take()).unwrap_or(None);
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Waits until rung since the last wait returned.
    pub(crate) async fn wait(&self) {
        poll_fn(|cx| {
            if self.rung.swap(false, Ordering::AcqRel) {
                return Poll::Ready(());
            }
            if let Ok(mut w) = self.waker.lock() {
                *w = Some(cx.waker().clone());
            }
            // Rung between the check and parking: do not miss it.
            if self.rung.swap(false, Ordering::AcqRel) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await
    }
}

/// Single-threaded wake-up inside a shard.
#[derive(Debug, Default)]
pub(crate) struct LocalBell {
    rung: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

impl LocalBell {
    /// Wakes the waiting task, if any.
    pub(crate) fn ring(&self) {
        self.rung.set(true);
        if let Some(w) = self.waker.borrow_mut().take() {
            w.wake();
        }
    }

    /// Forgets an earlier ring.
    pub(crate) fn clear(&self) {
        self.rung.set(false);
    }

    /// Waits until rung.
    pub(crate) async fn wait(&self) {
        poll_fn(|cx| {
            if self.rung.replace(false) {
                Poll::Ready(())
            } else {
                *self.waker.borrow_mut() = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }
}
