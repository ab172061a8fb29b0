//! CPU lists (`0-3,5`) as the kernel prints them, and the isolation
//! parameters of the kernel command line.

use std::collections::BTreeSet;
use std::fmt;

/// CPUs above this are refused when parsing (no machine has them; it keeps a
/// range like `0-4000000000` from allocating).
pub const CPU_MAX: usize = 8_192;

/// A set of CPU numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CpuSet(pub BTreeSet<usize>);

impl CpuSet {
    /// Parses the kernel's list format: `0-3,8,10-11`. Empty text is the
    /// empty set. The stride form (`0-7:2/4`) is not accepted.
    pub fn parse(text: &str) -> Result<CpuSet, String> {
        let mut set = BTreeSet::new();
        for part in text.trim().split(',').filter(|p| !p.trim().is_empty()) {
            let part = part.trim();
            let number = |s: &str| -> Result<usize, String> {
                let n = s
                    .trim()
                    .parse::<usize>()
                    .map_err(|_| format!("{part:?} is not a CPU number or range"))?;
                if n > CPU_MAX {
                    return Err(format!("CPU {n} is above {CPU_MAX}"));
                }
                Ok(n)
            };
            match part.split_once('-') {
                Some((a, b)) => {
                    let (a, b) = (number(a)?, number(b)?);
                    if a > b {
                        return Err(format!("range {part:?} runs backwards"));
                    }
                    set.extend(a..=b);
                }
                None => {
                    set.insert(number(part)?);
                }
            }
        }
        Ok(CpuSet(set))
    }

    /// A set from CPU numbers.
    pub fn from_cpus(cpus: impl IntoIterator<Item = usize>) -> CpuSet {
        CpuSet(cpus.into_iter().collect())
    }

    /// No CPU.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// CPUs in both.
    pub fn intersection(&self, other: &CpuSet) -> CpuSet {
        CpuSet(self.0.intersection(&other.0).copied().collect())
    }

    /// CPUs of `self` not in `other`.
    pub fn difference(&self, other: &CpuSet) -> CpuSet {
        CpuSet(self.0.difference(&other.0).copied().collect())
    }

    /// Every CPU of `self` is in `other`.
    pub fn is_subset(&self, other: &CpuSet) -> bool {
        self.0.is_subset(&other.0)
    }

    /// Space-separated, as systemd's `CPUAffinity=` takes it.
    pub fn to_systemd(&self) -> String {
        self.0
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl fmt::Display for CpuSet {
    /// The kernel's compact list form: `0-3,5`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        let mut iter = self.0.iter().copied().peekable();
        while let Some(start) = iter.next() {
            let mut end = start;
            while iter.peek() == Some(&(end + 1)) {
                end += 1;
                iter.next();
            }
            parts.push(if start == end {
                start.to_string()
            } else {
                format!("{start}-{end}")
            });
        }
        f.write_str(&parts.join(","))
    }
}

/// What the kernel command line says about one isolation parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Isolation {
    /// Not on the command line.
    Absent,
    /// Every CPU (`rcu_nocbs` without a list, or `=all`).
    All,
    /// These CPUs.
    Cpus(CpuSet),
    /// Present but not a list this parser understands.
    Unparsed(String),
}

/// The value of `param` (`isolcpus`, `nohz_full`, `rcu_nocbs`) on `cmdline`.
/// Arguments after `--` go to init and are ignored; the last occurrence
/// wins, as in the kernel. `isolcpus` flags (`domain`, `nohz`,
/// `managed_irq`) before the list are skipped.
pub fn isolation(cmdline: &str, param: &str) -> Isolation {
    let mut found = Isolation::Absent;
    for word in cmdline.split_whitespace() {
        if word == "--" {
            break;
        }
        let value = if word == param {
            ""
        } else if let Some(v) = word.strip_prefix(param).and_then(|r| r.strip_prefix('=')) {
            v
        } else {
            continue;
        };
        found = if value.is_empty() || value == "all" {
            Isolation::All
        } else {
            let list: Vec<&str> = value
                .split(',')
                .filter(|p| !p.chars().all(|c| c.is_ascii_alphabetic() || c == '_'))
                .collect();
            match CpuSet::parse(&list.join(",")) {
                Ok(set) => Isolation::Cpus(set),
                Err(_) => Isolation::Unparsed(value.to_owned()),
            }
        };
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_kernel_lists() {
        let set = CpuSet::parse("0-3,5,7-8\n").expect("parses");
        assert_eq!(set.to_string(), "0-3,5,7-8");
        assert_eq!(set.to_systemd(), "0 1 2 3 5 7 8");
        assert_eq!(CpuSet::parse("").expect("empty"), CpuSet::default());
    }

    #[test]
    fn refuses_bad_lists_without_panicking() {
        for bad in ["a", "3-1", "0-99999999999", "1-", "-", "0-7:2/4", "1,,x"] {
            assert!(CpuSet::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn reads_isolation_parameters() {
        let cmdline = "BOOT_IMAGE=/vmlinuz isolcpus=managed_irq,domain,2-3 nohz_full=2,3 rcu_nocbs quiet -- nohz_full=0";
        assert_eq!(
            isolation(cmdline, "isolcpus"),
            Isolation::Cpus(CpuSet::from_cpus([2, 3]))
        );
        assert_eq!(
            isolation(cmdline, "nohz_full"),
            Isolation::Cpus(CpuSet::from_cpus([2, 3]))
        );
        assert_eq!(isolation(cmdline, "rcu_nocbs"), Isolation::All);
        assert_eq!(isolation("quiet", "isolcpus"), Isolation::Absent);
        assert_eq!(isolation("isolcpusx=1", "isolcpus"), Isolation::Absent);
        assert!(matches!(
            isolation("nohz_full=1-7:2/4", "nohz_full"),
            Isolation::Unparsed(_)
        ));
    }
}
