//! Proves RTCP both ways over loopback: the engine sends each participant a
//! sender report (our SSRC, with a report block about their stream) plus
//! SDES CNAME on schedule; a receiver report sent back about our stream
//! yields round-trip time, loss and jitter in the participant's stats.

mod common;

use std::net::UdpSocket;
use std::time::Duration;

use common::{run, serial, test_config, tone_hz, Guardian};
use engine::core::codec::{CodecConfig, OpusConfig};
use engine::core::mixer::MixerConfig;
use engine::core::rtcp::{self, Compound, ReportBlock, RtcpPacket};
use engine::sim::{SignalSource, ToneSource};
use engine::{Engine, RoomId};

#[test]
fn sender_reports_go_out_and_receiver_reports_give_rtt() {
    let _serial = serial();
    let mut config = test_config(1, 35_800);
    config.rtcp.sr_interval_ms = 300;
    let mut engine = Engine::start(config).expect("engine starts");
    let room = RoomId(5);
    engine
        .create_room(room, MixerConfig::default())
        .expect("room");
    let rtcp_socket = UdpSocket::bind("127.0.0.1:0").expect("bind rtcp");
    rtcp_socket
        .set_read_timeout(Some(Duration::from_millis(50)))
        .expect("timeout");
    let rtcp_addr = rtcp_socket.local_addr().expect("addr");
    let opus = CodecConfig::Opus(OpusConfig::default());
    let tone = |i: usize| SignalSource::Tone(ToneSource::new(f64::from(tone_hz(i)), 5000));
    let mut guardians = vec![
        Guardian::join_with(&mut engine, room, 0, opus, tone(0), |s| {
            s.remote_rtcp = Some(rtcp_addr)
        }),
        Guardian::join(&mut engine, room, 1, opus, tone(1)),
    ];
    run(&mut guardians, 60, Duration::from_millis(50), |_| {});

    // The SR for guardian 0, from the engine's RTCP port.
    let g0 = &guardians[0];
    let mut buf = [0u8; 1500];
    let mut sr_found = None;
    for _ in 0..40 {
        // Several SRs may be queued: keep reading until the queue is empty
        // and answer the latest, as a terminal would.
        let Ok((n, from)) = rtcp_socket.recv_from(&mut buf) else {
            if sr_found.is_some() {
                break;
            }
            continue;
        };
        assert_eq!(
            from, g0.admission.local_rtcp,
            "RTCP comes from the RTCP port"
        );
        let compound = Compound::parse(&buf[..n]).expect("valid compound RTCP");
        let mut cname = false;
        for p in compound.packets() {
            match p {
                RtcpPacket::SenderReport(sr) => {
                    assert_eq!(sr.ssrc, g0.admission.ssrc_out);
                    assert!(sr.info.packet_count > 0);
                    let blocks: Vec<ReportBlock> = sr.reports.collect();
                    assert_eq!(blocks.len(), 1);
                    assert_eq!(
                        blocks[0].ssrc,
                        g0.sender.ssrc(),
                        "report block about guardian 0's stream"
                    );
                    sr_found = Some(sr.info);
                }
                RtcpPacket::Sdes(s) => cname = s.first_cname().is_some(),
                _ => {}
            }
        }
        assert!(cname, "SDES CNAME follows the SR");
    }
    let sr = sr_found.expect("an SR within the interval");

    // Answer with an RR about the engine's stream, 10 ms after the SR.
    let block = ReportBlock {
        ssrc: g0.admission.ssrc_out,
        fraction_lost: 3,
        cumulative_lost: 1,
        extended_highest_seq: 100,
        jitter: 42,
        lsr: rtcp::ntp_middle32(sr.ntp),
        dlsr: rtcp::dlsr_from_duration(Duration::from_millis(10)),
    };
    let mut out = [0u8; 200];
    let n = rtcp::write_compound(
        &rtcp::FirstReport::Receiver {
            ssrc: g0.sender.ssrc(),
            blocks: &[block],
        },
        b"guardian-0",
        None,
        &mut out,
    )
    .expect("write RR");
    rtcp_socket
        .send_to(&out[..n], g0.admission.local_rtcp)
        .expect("send RR");
    std::thread::sleep(Duration::from_millis(50));

    let stats = engine.snapshot().expect("snapshot");
    let p = stats.participant(g0.id).copied().expect("stats");
    assert_eq!(p.rtcp_reports_in, 1);
    assert_eq!(p.remote_fraction_lost, Some(3));
    assert_eq!(p.remote_jitter, Some(42));
    let rtt = p.rtt.expect("RTT from LSR/DLSR");
    assert!(rtt < Duration::from_secs(1), "loopback RTT {rtt:?}");
    assert!(p.sr_sent >= 1);
    assert!(stats.counters().rtcp_in >= 1);
    engine.shutdown();
}
