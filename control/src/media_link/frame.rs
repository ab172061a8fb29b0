//! Framing: a 4-byte big-endian length, then that many bytes of UTF-8 JSON.
//! A frame longer than [`FRAME_MAX`] is refused before it is read, so a
//! peer cannot make the other side allocate more than that.

use std::io::{Read, Write};

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::messages::{LinkError, ReplyFrame, RequestFrame};

/// Largest frame body, bytes (a stats reply with a full latency histogram
/// is about 10 KiB).
pub const FRAME_MAX: usize = 64 * 1024;

/// Framing errors.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The announced length is above [`FRAME_MAX`].
    #[error("frame of {0} bytes exceeds the {FRAME_MAX}-byte limit")]
    TooLarge(usize),
    /// The connection closed between frames.
    #[error("connection closed")]
    Closed,
    /// Socket error (including read/write timeouts).
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Encodes `value` as one frame (length prefix included).
pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, FrameError> {
    let body = serde_json::to_vec(value)
        .map_err(|e| FrameError::Io(std::io::Error::other(e.to_string())))?;
    if body.len() > FRAME_MAX {
        return Err(FrameError::TooLarge(body.len()));
    }
    let mut out = Vec::with_capacity(4 + body.len());
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

/// The body length a header announces, checked against [`FRAME_MAX`].
pub fn body_len(header: [u8; 4]) -> Result<usize, FrameError> {
    let len = u32::from_be_bytes(header) as usize;
    if len > FRAME_MAX {
        return Err(FrameError::TooLarge(len));
    }
    Ok(len)
}

/// Reads one frame body. A clean close before the header is `Closed`.
pub fn read_frame(reader: &mut impl Read) -> Result<Vec<u8>, FrameError> {
    let mut header = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match reader.read(&mut header[got..]) {
            Ok(0) if got == 0 => return Err(FrameError::Closed),
            Ok(0) => return Err(FrameError::Io(std::io::ErrorKind::UnexpectedEof.into())),
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    let len = body_len(header)?;
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body)?;
    Ok(body)
}

/// Writes one frame.
pub fn write_frame<T: Serialize>(writer: &mut impl Write, value: &T) -> Result<(), FrameError> {
    writer.write_all(&encode(value)?)?;
    writer.flush()?;
    Ok(())
}

fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, LinkError> {
    serde_json::from_slice(body).map_err(|e| LinkError::bad(format!("unreadable frame: {e}")))
}

/// Decodes a request body; garbage is a typed `BadRequest`.
pub fn decode_request(body: &[u8]) -> Result<RequestFrame, LinkError> {
    decode(body)
}

/// Decodes a reply body; garbage is a typed `BadRequest`.
pub fn decode_reply(body: &[u8]) -> Result<ReplyFrame, LinkError> {
    decode(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media_link::messages::{
        LinkCodec, LinkError, ParticipantParams, Reply, ReplyResult, Request, StatsReply,
    };

    fn round_trip(request: Request) {
        let frame = RequestFrame { id: 7, request };
        let bytes = encode(&frame).unwrap();
        let body = read_frame(&mut &bytes[..]).unwrap();
        assert_eq!(decode_request(&body).unwrap(), frame);
    }

    #[test]
    fn every_request_round_trips() {
        let params = ParticipantParams {
            room: 3,
            participant: 9,
            codec: LinkCodec::Opus,
            payload_type: 111,
            remote_rtp: "127.0.0.1:5004".parse().unwrap(),
            remote_rtcp: None,
            ssrc: Some(0xdead_beef),
            bitrate_cap_bps: Some(64_000),
        };
        for r in [
            Request::Hello {
                version: 1,
                controller: "gk".into(),
            },
            Request::Auth {
                public_key_hex: "00".repeat(32),
                signature_hex: "11".repeat(64),
            },
            Request::Claim { epoch: 4 },
            Request::CreateRoom { epoch: 4, room: 3 },
            Request::DestroyRoom { epoch: 4, room: 3 },
            Request::AddParticipant { epoch: 4, params },
            Request::RemoveParticipant {
                epoch: 4,
                participant: 9,
            },
            Request::SetMuted {
                epoch: 4,
                participant: 9,
                muted: true,
            },
            Request::SetBitrateCap {
                epoch: 4,
                participant: 9,
                bitrate_cap_bps: None,
            },
            Request::Stats { engine: true },
            Request::Ping,
        ] {
            round_trip(r);
        }
    }

    #[test]
    fn replies_round_trip() {
        for result in [
            ReplyResult::Ok(Reply::Done),
            ReplyResult::Ok(Reply::Stats(StatsReply {
                epoch: 2,
                shard_cpu_us: vec![("shard-0".into(), 1234)],
                engine: None,
                rss_kib: Some(20_000),
            })),
            ReplyResult::Err(LinkError::StaleEpoch { current: 5 }),
            ReplyResult::Err(LinkError::Busy { reason: "q".into() }),
        ] {
            let frame = ReplyFrame { id: 1, result };
            let bytes = encode(&frame).unwrap();
            let body = read_frame(&mut &bytes[..]).unwrap();
            assert_eq!(decode_reply(&body).unwrap(), frame);
        }
    }

    #[test]
    fn wire_form_is_documented_json() {
        let frame = RequestFrame {
            id: 1,
            request: Request::CreateRoom { epoch: 2, room: 3 },
        };
        let bytes = encode(&frame).unwrap();
        assert_eq!(&bytes[..4], &[0, 0, 0, 46]);
        assert_eq!(
            std::str::from_utf8(&bytes[4..]).unwrap(),
            r#"{"id":1,"op":"create_room","epoch":2,"room":3}"#
        );
        let err = ReplyFrame {
            id: 1,
            result: ReplyResult::Err(LinkError::StaleEpoch { current: 5 }),
        };
        assert_eq!(
            serde_json::to_string(&err).unwrap(),
            r#"{"id":1,"err":{"code":"stale_epoch","current":5}}"#
        );
    }

    #[test]
    fn oversize_frame_is_refused_before_reading() {
        let header = ((FRAME_MAX + 1) as u32).to_be_bytes();
        let err = read_frame(&mut &header[..]).unwrap_err();
        assert!(matches!(err, FrameError::TooLarge(n) if n == FRAME_MAX + 1));
        let huge = Request::Hello {
            version: 1,
            controller: "x".repeat(FRAME_MAX),
        };
        assert!(matches!(
            encode(&RequestFrame {
                id: 1,
                request: huge
            }),
            Err(FrameError::TooLarge(_))
        ));
    }

    #[test]
    fn garbage_is_a_typed_error() {
        for body in [
            &b"not json"[..],
            b"{}",
            br#"{"id":1,"op":"launch_missiles"}"#,
            br#"{"id":1,"op":"create_room","epoch":-1,"room":3}"#,
            b"\xff\xfe",
        ] {
            assert!(matches!(
                decode_request(body),
                Err(LinkError::BadRequest { .. })
            ));
        }
        // A truncated frame is an I/O error, not a panic.
        let bytes = encode(&RequestFrame {
            id: 1,
            request: Request::Ping,
        })
        .unwrap();
        assert!(matches!(
            read_frame(&mut &bytes[..bytes.len() - 1]),
            Err(FrameError::Io(_))
        ));
        assert!(matches!(read_frame(&mut &[][..]), Err(FrameError::Closed)));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..256)) {
            let _ = decode_request(&bytes);
            let _ = decode_reply(&bytes);
            let _ = read_frame(&mut &bytes[..]);
        }
    }
}
