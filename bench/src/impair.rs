//! Seeded network impairments applied to the generator's outgoing packets:
//! loss (independent or in bursts, Gilbert model), delay jitter and
//! reordering. The same seed gives the same fate to every packet, so a run
//! that found a problem can be replayed.

use std::time::Duration;

/// What to do to the network.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ImpairmentConfig {
    /// Share of packets lost, in percent.
    pub loss_pct: f64,
    /// Mean length of a loss burst, in packets (1 = independent losses).
    pub burst_len_mean: f64,
    /// Extra one-way delay drawn uniformly from 0..=jitter_ms.
    pub jitter_ms: f64,
    /// Share of packets held back one frame interval so they arrive after
    /// their successor, in percent.
    pub reorder_pct: f64,
    /// Seed of the generator's choices.
    pub seed: u64,
}

impl Default for ImpairmentConfig {
    fn default() -> Self {
        Self {
            loss_pct: 0.0,
            burst_len_mean: 1.0,
            jitter_ms: 0.0,
            reorder_pct: 0.0,
            seed: 1,
        }
    }
}

impl ImpairmentConfig {
    /// True when packets pass untouched.
    pub fn is_clean(&self) -> bool {
        self.loss_pct <= 0.0 && self.jitter_ms <= 0.0 && self.reorder_pct <= 0.0
    }

    /// Checks the ranges, naming the bad argument.
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..100.0).contains(&self.loss_pct) {
            return Err(format!("--loss must be in 0..100 %, got {}", self.loss_pct));
        }
        if !(1.0..=1000.0).contains(&self.burst_len_mean) {
            return Err(format!(
                "--burst must be a mean burst length of 1..=1000 packets, got {}",
                self.burst_len_mean
            ));
        }
        if !(0.0..=1000.0).contains(&self.jitter_ms) {
            return Err(format!(
                "--jitter must be 0..=1000 ms, got {}",
                self.jitter_ms
            ));
        }
        if !(0.0..=100.0).contains(&self.reorder_pct) {
            return Err(format!(
                "--reorder must be in 0..=100 %, got {}",
                self.reorder_pct
            ));
        }
        Ok(())
    }
}

/// A packet's fate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Lost in the network.
    Drop,
    /// Delivered after this extra delay.
    Deliver(Duration),
}

/// The impairment state of one stream.
#[derive(Clone, Debug)]
pub struct Impairment {
    config: ImpairmentConfig,
    rng: u64,
    in_burst: bool,
    /// Gilbert model transition probabilities.
    p_good_to_bad: f64,
    p_bad_to_good: f64,
    frame: Duration,
}

impl Impairment {
    /// Impairs one stream; `stream` decorrelates streams sharing a seed.
    pub fn new(config: ImpairmentConfig, stream: u64, frame: Duration) -> Self {
        let p = config.loss_pct / 100.0;
        let b = config.burst_len_mean.max(1.0);
        // Stationary loss p with mean burst b: P(bad→good) = 1/b and
        // P(good→bad) = p / (b (1 − p)).
        let p_good_to_bad = if p > 0.0 {
            (p / (b * (1.0 - p))).min(1.0)
        } else {
            0.0
        };
        Self {
            config,
            rng: splitmix(config.seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15)),
            in_burst: false,
            p_good_to_bad,
            p_bad_to_good: 1.0 / b,
            frame,
        }
    }

    /// Decides the next packet's fate.
    pub fn next_fate(&mut self) -> Fate {
        let switch = self.uniform();
        self.in_burst = if self.in_burst {
            switch >= self.p_bad_to_good
        } else {
            switch < self.p_good_to_bad
        };
        if self.in_burst {
            return Fate::Drop;
        }
        let mut delay = Duration::from_secs_f64(self.uniform() * self.config.jitter_ms / 1000.0);
        if self.uniform() * 100.0 < self.config.reorder_pct {
            delay += self.frame + self.frame / 2;
        }
        Fate::Deliver(delay)
    }

    fn uniform(&mut self) -> f64 {
        self.rng = splitmix(self.rng);
        (self.rng >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: Duration = Duration::from_millis(20);

    fn run(config: ImpairmentConfig, n: usize) -> Vec<Fate> {
        let mut imp = Impairment::new(config, 7, FRAME);
        (0..n).map(|_| imp.next_fate()).collect()
    }

    #[test]
    fn clean_network_delivers_everything_at_once() {
        assert!(run(ImpairmentConfig::default(), 1000)
            .iter()
            .all(|f| *f == Fate::Deliver(Duration::ZERO)));
    }

    #[test]
    fn loss_rate_and_burst_length_match_the_request() {
        let config = ImpairmentConfig {
            loss_pct: 5.0,
            burst_len_mean: 3.0,
            ..Default::default()
        };
        let fates = run(config, 200_000);
        let lost = fates.iter().filter(|f| **f == Fate::Drop).count();
        let rate = lost as f64 / fates.len() as f64 * 100.0;
        assert!((rate - 5.0).abs() < 0.3, "loss {rate} %");
        let bursts = fates
            .windows(2)
            .filter(|w| w[0] != Fate::Drop && w[1] == Fate::Drop)
            .count();
        let mean = lost as f64 / bursts as f64;
        assert!((mean - 3.0).abs() < 0.3, "mean burst {mean}");
    }

    #[test]
    fn same_seed_same_fates_other_seed_other_fates() {
        let config = ImpairmentConfig {
            loss_pct: 10.0,
            jitter_ms: 30.0,
            reorder_pct: 5.0,
            ..Default::default()
        };
        assert_eq!(run(config, 500), run(config, 500));
        assert_ne!(
            run(config, 500),
            run(ImpairmentConfig { seed: 2, ..config }, 500)
        );
    }

    #[test]
    fn jitter_stays_in_range_and_reordering_holds_packets_past_their_successor() {
        let config = ImpairmentConfig {
            jitter_ms: 10.0,
            reorder_pct: 10.0,
            ..Default::default()
        };
        let fates = run(config, 10_000);
        let delays: Vec<Duration> = fates
            .iter()
            .map(|f| match f {
                Fate::Deliver(d) => *d,
                Fate::Drop => panic!("no loss configured"),
            })
            .collect();
        let held = delays.iter().filter(|d| **d >= FRAME + FRAME / 2).count();
        assert!((held as f64 / 100.0 - 10.0).abs() < 1.5, "reordered {held}");
        assert!(delays
            .iter()
            .all(|d| *d <= FRAME + FRAME / 2 + Duration::from_millis(10)));
    }

    #[test]
    fn impossible_settings_are_refused_with_the_argument_named() {
        let bad = ImpairmentConfig {
            loss_pct: 120.0,
            ..Default::default()
        };
        assert!(bad.validate().unwrap_err().contains("--loss"));
    }
}
