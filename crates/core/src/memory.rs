//! Memory budgets: how much a solve may use, and sizes written for people.
//!
//! What a solve will allocate is estimated before it is built (the encoding's
//! clauses, literals and variables times what the backend holds for each, see
//! `partrec_solve::encode::Size`; the readers' arrays from their headers), and
//! refused when the estimate exceeds the budget: one clear error
//! ([`crate::error::Error::Budget`]) instead of an allocation failure, which in a C++
//! backend aborts the whole process.
//!
//! The budget is a property of the process: by default a share of what the machine
//! allows it (physical memory, a cgroup limit, an address-space limit), and a front
//! end may set it once ([`set_budget`], `--max-memory`).

use crate::error::{Error, Result};
use std::sync::atomic::{AtomicU64, Ordering};

/// The budget set by [`set_budget`] (0: not set, use [`machine_budget`]).
static BUDGET: AtomicU64 = AtomicU64::new(0);

/// The memory budget of this process in bytes: the one set by [`set_budget`], else
/// [`machine_budget`].
pub fn budget() -> u64 {
    match BUDGET.load(Ordering::Relaxed) {
        0 => machine_budget(),
        set => set,
    }
}

/// Sets this process's memory budget (at least 1 byte).
pub fn set_budget(bytes: u64) {
    BUDGET.store(bytes.max(1), Ordering::Relaxed);
}

/// What this machine lets the process use, shared out: three quarters of the
/// physical memory and of a cgroup limit, and half of an address-space limit
/// (`ulimit -v`, which also counts code, thread stacks and allocator reserves).
/// Unknown limits are left out; with none known, 4 GiB.
pub fn machine_budget() -> u64 {
    let physical = meminfo_total().map(|b| b / 4 * 3);
    let cgroup = cgroup_limit().map(|b| b / 4 * 3);
    let address = address_space_limit().map(|b| b / 2);
    [physical, cgroup, address]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(4 << 30)
}

/// `MemTotal` of `/proc/meminfo`, in bytes.
fn meminfo_total() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// The cgroup (v2, else v1) memory limit of this process, if one is set.
fn cgroup_limit() -> Option<u64> {
    let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let path = own.lines().find_map(|l| l.strip_prefix("0::"))?;
    let v2 = format!("/sys/fs/cgroup{}/memory.max", path.trim_end_matches('/'));
    let read = |p: &str| std::fs::read_to_string(p).ok()?.trim().parse::<u64>().ok();
    // "max" (no limit) does not parse; v1's no-limit is a huge number.
    read(&v2)
        .or_else(|| read("/sys/fs/cgroup/memory.max"))
        .or_else(|| read("/sys/fs/cgroup/memory/memory.limit_in_bytes"))
        .filter(|&b| b < 1 << 60)
}

/// The soft address-space limit (`ulimit -v`) of this process, if one is set.
fn address_space_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max address space"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// The environment variable that carries a worker child's address-space limit in
/// bytes ([`confine_from_env`]).
pub const ADDRESS_LIMIT_VAR: &str = "PARTREC_ADDRESS_LIMIT";

/// In a worker child: lowers this process's address-space limit (`RLIMIT_AS`) to the
/// bytes in [`ADDRESS_LIMIT_VAR`], if set, so that an estimate that was wrong ends in
/// this process's allocation failure, never its parent's. Returns the limit applied.
pub fn confine_from_env() -> Option<u64> {
    let bytes: u64 = std::env::var(ADDRESS_LIMIT_VAR).ok()?.parse().ok()?;
    limit_address_space(bytes).then_some(bytes)
}

/// Sets the soft address-space limit to `bytes` (never above the hard limit);
/// whether it took effect.
pub fn limit_address_space(bytes: u64) -> bool {
    #[cfg(unix)]
    {
        let mut current = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit and setrlimit read and write the one struct passed.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_AS, &mut current) != 0 {
                return false;
            }
            let soft = (bytes as libc::rlim_t).min(current.rlim_max);
            let wanted = libc::rlimit {
                rlim_cur: soft.min(current.rlim_cur),
                rlim_max: current.rlim_max,
            };
            libc::setrlimit(libc::RLIMIT_AS, &wanted) == 0
        }
    }
    #[cfg(not(unix))]
    {
        let _ = bytes;
        false
    }
}

/// Reads a size: a number of bytes with an optional unit, `k`, `M`, `G` or `T` (powers
/// of 1000) or `KiB`, `MiB`, `GiB`, `TiB` (powers of 1024), `B` optional: `512M`,
/// `2G`, `1.5GiB`, `1000000`. `name` names the flag or parameter in the error.
pub fn parse_size(text: &str, name: &'static str) -> Result<u64> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "t" | "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => f64::NAN,
    };
    let bytes = number.parse::<f64>().map(|n| n * scale).unwrap_or(f64::NAN);
    if bytes.is_finite() && bytes >= 1.0 && bytes < 2f64.powi(63) {
        Ok(bytes as u64)
    } else {
        let shown: String = text.chars().take(40).collect();
        Err(Error::param(
            name,
            format!("must be a size such as 512M, 2G or 1.5GiB (at least 1 byte), got {shown:?}"),
        ))
    }
}

/// Refuses `need` bytes for `what` when they exceed the process's [`budget`].
pub fn afford(need: u64, what: impl FnOnce() -> String) -> Result<()> {
    afford_within(need, budget(), what)
}

/// Refuses `need` bytes for `what` when they exceed `budget`.
pub fn afford_within(need: u64, budget: u64, what: impl FnOnce() -> String) -> Result<()> {
    if need <= budget {
        Ok(())
    } else {
        Err(Error::Budget {
            what: what(),
            need,
            budget,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_both_unit_systems_and_refuse_nonsense() {
        assert_eq!(parse_size("1000", "m").unwrap(), 1000);
        assert_eq!(parse_size("512M", "m").unwrap(), 512_000_000);
        assert_eq!(parse_size("2G", "m").unwrap(), 2_000_000_000);
        assert_eq!(parse_size("1.5GiB", "m").unwrap(), 3 << 29);
        assert_eq!(parse_size(" 4 kB ", "m").unwrap(), 4000);
        for bad in ["", "G", "-1G", "0", "0.5", "1.2.3G", "12Q", "1e99G", "nan"] {
            let e = parse_size(bad, "max_memory").unwrap_err().to_string();
            assert!(e.starts_with("max_memory must be a size"), "{bad:?}: {e}");
        }
    }

    #[test]
    fn budgets_refuse_what_does_not_fit_in_one_line() {
        assert!(afford_within(10, 10, || "x".into()).is_ok());
        let e = afford_within(3_400_000_000, 2_000_000_000, || "the encoding".into())
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "the encoding would need about 3.40 GB of memory, more than the budget of 2.00 GB"
        );
        assert!(machine_budget() >= 1 << 20);
        assert_eq!(crate::units::show(999), "999 B");
        assert_eq!(crate::units::show(123_456_789), "123 MB");
    }
}
