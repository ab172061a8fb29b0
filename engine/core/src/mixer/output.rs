//! What a tick produces: the shared listener encodes, one RTP packet per
//! participant, and which input frames went into each mix.

use std::time::Instant;

use super::config::ParticipantId;
use super::room::Room;
use crate::codec::{self, AnyEncoder, CodecConfig, CodecError};

/// Longest RTP header the mixer writes: 12 fixed bytes, up to 8 CSRCs and an
/// RFC 6465 extension block.
pub const OUTPUT_HEADER_MAX_BYTES: usize = 12 + 4 * 8 + 4 + 12;

/// One encoder shared by every listener with the same codec configuration.
#[derive(Debug)]
pub(crate) struct ListenerEncoder {
    pub(crate) config: CodecConfig,
    pub(crate) encoder: AnyEncoder,
    pub(crate) payload: [u8; codec::PAYLOAD_MAX_BYTES],
    pub(crate) len: usize,
    /// Encoded this tick (there was at least one listener with this config).
    pub(crate) fresh: bool,
}

impl ListenerEncoder {
    pub(crate) fn new(config: CodecConfig) -> Result<Self, CodecError> {
        Ok(Self {
            config,
            encoder: codec::new_encoder(config)?,
            payload: [0; codec::PAYLOAD_MAX_BYTES],
            len: 0,
            fresh: false,
        })
    }
}

/// Where an output packet's payload lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PayloadSource {
    /// The shared listener encode at this index.
    Listener(usize),
    /// The speaker's own mix, in the participant at this slot.
    Speaker(usize),
}

/// One packet to send, as stored inside the room.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OutputPacket {
    pub(crate) participant: ParticipantId,
    pub(crate) header: [u8; OUTPUT_HEADER_MAX_BYTES],
    pub(crate) header_len: usize,
    pub(crate) payload: PayloadSource,
}

/// An input frame that went into a mix: the provenance the engine turns into
/// its added-latency histogram (arrival → send of the first mix containing it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Contribution {
    /// Whose frame it was.
    pub participant: ParticipantId,
    /// Its RTP sequence number.
    pub seq: u16,
    /// Its RTP timestamp.
    pub timestamp: u32,
    /// When its packet arrived.
    pub arrival: Instant,
}

/// The frames mixed into one output: every speaker's except the receiver's own.
#[derive(Clone, Copy, Debug)]
pub struct Contributions<'a> {
    all: &'a [Contribution],
    except: ParticipantId,
}

impl<'a> Contributions<'a> {
    /// Iterates the contributing frames.
    pub fn iter(&self) -> impl Iterator<Item = &'a Contribution> + 'a {
        let except = self.except;
        self.all.iter().filter(move |c| c.participant != except)
    }
}

/// One packet to send to one participant.
#[derive(Clone, Copy, Debug)]
pub struct Output<'a> {
    /// The receiver.
    pub participant: ParticipantId,
    /// The RTP header for this receiver (its SSRC, sequence, timestamp).
    pub header: &'a [u8],
    /// The encoded mix; the same bytes for all listeners sharing a codec
    /// configuration, so the shell can send it with a gather write.
    pub payload: &'a [u8],
    /// Which input frames the mix contains.
    pub contributions: Contributions<'a>,
}

impl Room {
    /// The packets produced by the last [`tick`](Room::tick), one per participant.
    pub fn outputs(&self) -> impl Iterator<Item = Output<'_>> + '_ {
        self.outputs.iter().map(move |o| {
            let payload = match o.payload {
                PayloadSource::Listener(i) => {
                    let l = &self.listener_encoders[i];
                    &l.payload[..l.len]
                }
                PayloadSource::Speaker(slot) => {
                    let p = &self.participants[slot];
                    &p.mix_payload[..p.mix_len]
                }
            };
            Output {
                participant: o.participant,
                header: &o.header[..o.header_len],
                payload,
                contributions: Contributions {
                    all: &self.contributions,
                    except: o.participant,
                },
            }
        })
    }

    /// How many packets the last tick produced.
    pub fn output_count(&self) -> usize {
        self.outputs.len()
    }
}
