//! The gatekeeper's view of the media engine: provision a participant in a
//! conference's room on ACF, release it on DRQ, URQ or registration expiry.
//!
//! Implementations must not block: the real shard engine puts the request on a
//! bounded queue and returns `Err(EngineError::Busy)` when it is full, which
//! the gatekeeper answers with ARJ `resourceUnavailable`.

use std::net::SocketAddr;

/// A room in the media engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RoomId(pub u64);

/// What the engine needs to admit one participant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisionRequest {
    /// The H.225.0 conferenceID.
    pub conference_id: [u8; 16],
    /// The room already serving this conference, if any.
    pub room: Option<RoomId>,
    /// The guardian.
    pub terminal_id: String,
    /// The call's identifier (callIdentifier, or conferenceID+CRV).
    pub call_id: [u8; 16],
    /// Granted bandwidth, bit/s.
    pub bandwidth_bps: u64,
    /// Where the endpoint's RAS messages come from.
    pub endpoint_ras: SocketAddr,
}

/// Releases one participant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseRequest {
    /// The room.
    pub room: RoomId,
    /// The guardian.
    pub terminal_id: String,
    /// The call.
    pub call_id: [u8; 16],
}

/// Why the engine refused.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum EngineError {
    /// The bounded queue to the engine is full.
    #[error("engine queue full")]
    Busy,
    /// The engine has no capacity for another room or participant.
    #[error("engine out of capacity")]
    NoCapacity,
}

/// The engine side of provisioning.
pub trait EngineApi {
    /// Provisions a participant; returns the conference's room.
    fn provision(&mut self, request: &ProvisionRequest) -> Result<RoomId, EngineError>;
    /// Releases a participant (best effort; never fails).
    fn release(&mut self, request: &ReleaseRequest);
}

/// An in-memory engine for tests and for running the gatekeeper before the
/// shard engine is wired: records requests, one room per conference.
#[derive(Debug, Default)]
pub struct StubEngine {
    /// Provision requests seen.
    pub provisioned: Vec<ProvisionRequest>,
    /// Release requests seen.
    pub released: Vec<ReleaseRequest>,
    /// When set, the next provision fails with this error.
    pub fail_next: Option<EngineError>,
    next_room: u64,
}

impl EngineApi for StubEngine {
    fn provision(&mut self, request: &ProvisionRequest) -> Result<RoomId, EngineError> {
        if let Some(e) = self.fail_next.take() {
            return Err(e);
        }
        self.provisioned.push(request.clone());
        Ok(request.room.unwrap_or_else(|| {
            self.next_room += 1;
            RoomId(self.next_room)
        }))
    }

    fn release(&mut self, request: &ReleaseRequest) {
        self.released.push(request.clone());
    }
}

impl<T: EngineApi + ?Sized> EngineApi for Box<T> {
    fn provision(&mut self, request: &ProvisionRequest) -> Result<RoomId, EngineError> {
        (**self).provision(request)
    }

    fn release(&mut self, request: &ReleaseRequest) {
        (**self).release(request);
    }
}
