//! The machine a run measured: core count, CPU model and kernel, read from
//! `/proc` where it exists and left empty where it does not.

use serde::{Deserialize, Serialize};

/// What the report says about the machine.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Machine {
    /// Logical CPUs this process may run on (0 when unknown).
    pub cores: u32,
    /// `model name` from /proc/cpuinfo (`None` when absent, e.g. on some ARM
    /// kernels or outside Linux).
    pub cpu_model: Option<String>,
    /// Kernel release, from /proc/sys/kernel/osrelease.
    pub kernel: Option<String>,
}

impl Machine {
    /// Reads the running machine. Never fails: what cannot be read is left
    /// out.
    pub fn detect() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").ok();
        let osrelease = std::fs::read_to_string("/proc/sys/kernel/osrelease").ok();
        let allowed = std::thread::available_parallelism()
            .ok()
            .and_then(|n| u32::try_from(n.get()).ok());
        Self::from_sources(cpuinfo.as_deref(), osrelease.as_deref(), allowed)
    }

    /// Builds the description from the text of /proc/cpuinfo and
    /// /proc/sys/kernel/osrelease and the CPUs the process may use. The
    /// allowed count wins over cpuinfo's `processor` lines, which also list
    /// CPUs a cgroup or affinity mask forbids.
    pub fn from_sources(
        cpuinfo: Option<&str>,
        osrelease: Option<&str>,
        allowed: Option<u32>,
    ) -> Self {
        let field = |line: &str, name: &str| -> Option<String> {
            let (key, value) = line.split_once(':')?;
            (key.trim() == name)
                .then(|| value.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let cpu_model = cpuinfo.and_then(|text| {
            text.lines()
                .find_map(|l| field(l, "model name").or_else(|| field(l, "Model")))
        });
        let listed = cpuinfo
            .map(|text| {
                text.lines()
                    .filter(|l| field(l, "processor").is_some())
                    .count()
            })
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0);
        let kernel = osrelease
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(str::to_string);
        Self {
            cores: allowed.unwrap_or(listed),
            cpu_model,
            kernel,
        }
    }

    /// One line for headers: "2 cores · AMD EPYC 7B13 · Linux 6.1.0".
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.cores > 0 {
            parts.push(format!(
                "{} core{}",
                self.cores,
                if self.cores == 1 { "" } else { "s" }
            ));
        }
        if let Some(m) = &self.cpu_model {
            parts.push(m.clone());
        }
        if let Some(k) = &self.kernel {
            parts.push(format!("Linux {k}"));
        }
        if parts.is_empty() {
            "machine unknown".into()
        } else {
            parts.join(" · ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cpuinfo_and_tolerates_absence() {
        let cpuinfo = "processor\t: 0\nmodel name\t: Test CPU @ 2.0GHz\n\nprocessor\t: 1\nmodel name\t: Test CPU @ 2.0GHz\n";
        let m = Machine::from_sources(Some(cpuinfo), Some("6.1.0-test\n"), None);
        assert_eq!(m.cores, 2);
        assert_eq!(m.cpu_model.as_deref(), Some("Test CPU @ 2.0GHz"));
        assert_eq!(m.kernel.as_deref(), Some("6.1.0-test"));
        let none = Machine::from_sources(None, None, None);
        assert_eq!(none, Machine::default());
        assert_eq!(none.describe(), "machine unknown");
        assert_eq!(Machine::from_sources(Some(cpuinfo), None, Some(1)).cores, 1);
    }
}
