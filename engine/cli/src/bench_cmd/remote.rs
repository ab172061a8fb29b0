//! `engine bench --target`: the post-deployment smoke test. The guardians
//! of `--keys` are admitted by a running `engine run`'s gatekeeper, their
//! media is provisioned over its media link (docs/media-link.md), and the
//! engine's CPU and latency come from the link's `stats`; the run loop,
//! measurement and SLO table are the embedded mode's.

use std::net::SocketAddr;

use anyhow::{bail, Context};
use bench::load::drive::RunOutput;
use bench::load::media_remote::RemoteProvisioner;
use bench::load::ras_admit::{identities_from_dir, RasAdmitter};
use bench::load::report_build::EngineFigures;
use bench::load::LoadConfig;
use bench::report::{self, RunReport, SloTargets};

use super::{build_report, drive_live, window_baseline, BenchArgs};

const REMOTE_MEDIA_NOTE: &str = "media provisioned through the media control protocol right after ACF (H.225.0 call signalling does not exist yet)";

/// `--target`: a running `engine run`'s gatekeeper and media link.
pub(super) fn run(
    args: &BenchArgs,
    target: &str,
    config: &LoadConfig,
    targets: &SloTargets,
    live: bool,
) -> anyhow::Result<(RunReport, RunOutput)> {
    let gk_addr = control::media_link::MediaClient::resolve(target)
        .map_err(|e| anyhow::anyhow!("--target {e}"))?;
    let control_target = args.target_control.clone().unwrap_or_else(|| {
        SocketAddr::new(gk_addr.ip(), control::media_link::DEFAULT_PORT).to_string()
    });
    let control_addr = control::media_link::MediaClient::resolve(&control_target)
        .map_err(|e| anyhow::anyhow!("--target-control {e}"))?;
    let Some(keys) = &args.keys else {
        bail!("--target needs --keys DIR: the private keys (engine keygen --key-out DIR/NAME.key) of guardians in the running registry");
    };
    let mut ids = identities_from_dir(keys).map_err(anyhow::Error::msg)?;
    if ids.len() < config.guardians {
        bail!(
            "--guardians {} but {} holds {} guardian key(s): the running gatekeeper admits only registered guardians, one key each",
            config.guardians,
            keys.display(),
            ids.len()
        );
    }
    ids.truncate(config.guardians);
    let mut link = control::media_link::ClientConfig::new(control_addr, "engine bench --target");
    if let Some(path) = &args.control_key {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("--control-key {}", path.display()))?;
        let (_, key) = control::security::keys::parse_private_key_file(&text)
            .with_context(|| format!("--control-key {}", path.display()))?;
        link.key = Some(key);
    }
    // The control link first: a closed port fails in milliseconds, before
    // any guardian waits on RAS retries.
    let media = RemoteProvisioner::connect(link).map_err(|e| {
        anyhow::anyhow!(
            "--target-control {control_target}: {e} (is `engine run` serving --control-listen there?)"
        )
    })?;
    let machine = report::Machine::detect();
    let mut admit =
        RasAdmitter::new(gk_addr, ids, media, config.seed).with_timers(args.ras_timers());
    let header =
        format!("target gatekeeper {gk_addr}, media link {control_addr}; {REMOTE_MEDIA_NOTE}");
    let result = drive_live(config, &mut admit, live, &header);
    let media = admit.media();
    let snapshot = match &result {
        Ok(_) => Some(media.engine_snapshot().map_err(anyhow::Error::msg)),
        Err(_) => None,
    };
    let leftovers = media.cleanup();
    let (output, started) = result?;
    let snapshot = snapshot.context("no engine snapshot")??;
    let memory = media.engine_memory(snapshot.participants);
    let mut notes = vec![
        REMOTE_MEDIA_NOTE.to_owned(),
        format!(
            "remote engine at {control_addr} (epoch {}): engine CPU and engine-added latency from its stats (all of its rooms, not only the bench's); generator unpinned; peak RSS is the bench's",
            media.epoch()
        ),
    ];
    let baseline = window_baseline(media.baseline().cloned(), &mut notes);
    let figures = EngineFigures::from_snapshots(baseline.as_ref(), &snapshot);
    if media.stats_failures() > 0 {
        notes.push(format!(
            "engine stats requests failed: {}",
            media.stats_failures()
        ));
    }
    if leftovers > 0 {
        notes.push(format!(
            "{leftovers} participant/room removals failed at the end"
        ));
    }
    if let Some(m) = &memory {
        notes.push(format!(
            "engine RSS {:.1} MiB, {:.1} MiB before the run: {} KiB per participant ({} participants added; start the engine fresh for this figure)",
            m.rss_mib,
            m.rss_before_mib,
            m.kib_per_participant
                .map_or_else(|| "—".to_owned(), |k| format!("{k:.1}")),
            m.participants
        ));
    }
    let mut report = build_report(config, &output, &figures, started, notes, machine, targets);
    report.engine_memory = memory;
    Ok((report, output))
}
