//! Per-service scaling settings: the keys a service object may set (and `global` may set as
//! defaults for every service), and how the two layers combine into a [`Policy`].
//!
//! Precedence, most specific first: the service's own key, then the same key in `global`,
//! then the built-in default of [`Policy::default`]. The directional cooldowns have two more
//! steps, so that a service's own `cooldown_minutes` beats a global directional value:
//!
//! 1. the service's `cooldown_up_minutes` (or `cooldown_down_minutes`),
//! 2. the service's `cooldown_minutes`,
//! 3. `global.cooldown_up_minutes` (or `global.cooldown_down_minutes`),
//! 4. `global.cooldown_minutes`,
//! 5. 5 minutes.

use std::time::Duration;

use super::errors::{ConfigError, Origin, Sourced};
use super::fields::{IntegerRange, NumberRange, Reader, Section};
use super::raw::Spanned;
use crate::engine::Policy;

/// The keys of a service object, also accepted in `global` as defaults.
pub(super) const SERVICE_KEYS: &[&str] = &[
    "min",
    "max",
    "up",
    "down",
    "ignore",
    "cooldown_minutes",
    "cooldown_up_minutes",
    "cooldown_down_minutes",
];

const REPLICAS: IntegerRange = IntegerRange {
    min: 1,
    max: u32::MAX as u64,
};

/// Easypanel reports 100 per fully busy core, so `up` may exceed 100 on a service with
/// several cores. A value above 1024 cores' worth is taken for a typo.
const THRESHOLD: NumberRange = NumberRange {
    noun: "a CPU percent (100 = one full core)",
    min: 0.0,
    min_excluded: false,
    max: 102_400.0,
};

/// Fractions of a minute are fine. Anything over a year is taken for a typo; the bound also
/// keeps the value inside what `Duration` can hold.
const COOLDOWN: NumberRange = NumberRange {
    noun: "a number of minutes",
    min: 0.0,
    min_excluded: false,
    max: 525_600.0,
};

/// The policy keys one object (a service or `global`) sets, each with its origin.
#[derive(Default)]
pub(super) struct PolicyLayer {
    min: Option<Sourced<u32>>,
    max: Option<Sourced<u32>>,
    up: Option<Sourced<f64>>,
    down: Option<Sourced<f64>>,
    ignore: Option<bool>,
    cooldown: Option<f64>,
    cooldown_up: Option<f64>,
    cooldown_down: Option<f64>,
    /// Keys present in the object, valid or not.
    present: Vec<&'static str>,
    /// Keys whose value was rejected. A conflict that involves one of them is not reported,
    /// because the value the user meant is unknown.
    rejected: Vec<&'static str>,
}

impl PolicyLayer {
    /// Reads the policy keys of a service object or of `global`; other keys are left to the
    /// caller.
    pub fn read(reader: &mut Reader<'_>, section: &Section<'_, '_>) -> Self {
        let mut layer = PolicyLayer::default();

        layer.min = layer.sourced(reader, section, "min", |reader, path, value| {
            reader.integer(path, value, REPLICAS).map(saturating_u32)
        });
        layer.max = layer.sourced(reader, section, "max", |reader, path, value| {
            reader.integer(path, value, REPLICAS).map(saturating_u32)
        });
        layer.up = layer.sourced(reader, section, "up", |reader, path, value| {
            reader.number(path, value, THRESHOLD)
        });
        layer.down = layer.sourced(reader, section, "down", |reader, path, value| {
            reader.number(path, value, THRESHOLD)
        });
        layer.ignore = layer
            .sourced(reader, section, "ignore", |reader, path, value| {
                reader.boolean(path, value)
            })
            .map(|setting| setting.value);

        for (key, target) in [
            ("cooldown_minutes", &mut layer.cooldown),
            ("cooldown_up_minutes", &mut layer.cooldown_up),
            ("cooldown_down_minutes", &mut layer.cooldown_down),
        ] {
            if let Some((path, value)) = section.get(key) {
                layer.present.push(key);
                *target = reader.number(&path, value, COOLDOWN);
                if target.is_none() {
                    layer.rejected.push(key);
                }
            }
        }

        layer
    }

    /// Reads one key with `parse` and records whether it was present and accepted.
    fn sourced<T>(
        &mut self,
        reader: &mut Reader<'_>,
        section: &Section<'_, '_>,
        key: &'static str,
        parse: impl FnOnce(&mut Reader<'_>, &str, &Spanned<'_>) -> Option<T>,
    ) -> Option<Sourced<T>> {
        let (path, value) = section.get(key)?;
        self.present.push(key);

        let origin = reader.origin(&path, value);
        let parsed = parse(reader, &path, value);
        if parsed.is_none() {
            self.rejected.push(key);
        }
        parsed.map(|value| Sourced {
            value,
            origin: Some(origin),
        })
    }
}

fn saturating_u32(value: u64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// Combines a layer with the layer below it (a service over `global`, or `global` over
/// nothing for the default policy) and the built-in defaults.
pub(super) fn resolve(
    specific: &PolicyLayer,
    fallback: &PolicyLayer,
    ignore_exposed: bool,
) -> Policy {
    let defaults = Policy::default();

    let cooldown_up = [
        specific.cooldown_up,
        specific.cooldown,
        fallback.cooldown_up,
        fallback.cooldown,
    ]
    .into_iter()
    .flatten()
    .next()
    .map_or(defaults.cooldown_up, minutes);
    let cooldown_down = [
        specific.cooldown_down,
        specific.cooldown,
        fallback.cooldown_down,
        fallback.cooldown,
    ]
    .into_iter()
    .flatten()
    .next()
    .map_or(defaults.cooldown_down, minutes);

    Policy {
        min: pick(&specific.min, &fallback.min, defaults.min).value,
        max: pick(&specific.max, &fallback.max, defaults.max).value,
        up: pick(&specific.up, &fallback.up, defaults.up).value,
        down: pick(&specific.down, &fallback.down, defaults.down).value,
        ignore: specific
            .ignore
            .or(fallback.ignore)
            .unwrap_or(defaults.ignore),
        ignore_exposed,
        cooldown_up,
        cooldown_down,
    }
}

/// Checks `min <= max` and `down < up` of the combined policy, naming where each value came
/// from. A pair is checked only when `specific` sets one of its keys, so that a bad `global`
/// pair is reported once, at `global`, and not again at every service that inherits it.
pub(super) fn check(
    reader: &mut Reader<'_>,
    scope: &Origin,
    specific: &PolicyLayer,
    fallback: &PolicyLayer,
) {
    let defaults = Policy::default();
    let is_checkable = |keys: [&str; 2]| {
        let is_set = keys.iter().any(|key| specific.present.contains(key));
        let is_rejected = keys
            .iter()
            .any(|key| specific.rejected.contains(key) || fallback.rejected.contains(key));
        is_set && !is_rejected
    };

    if is_checkable(["min", "max"]) {
        let min = pick(&specific.min, &fallback.min, defaults.min);
        let max = pick(&specific.max, &fallback.max, defaults.max);
        if min.value > max.value {
            let scope = scope.clone();
            reader.push(ConfigError::MinAboveMax { scope, min, max });
        }
    }

    if is_checkable(["down", "up"]) {
        let down = pick(&specific.down, &fallback.down, defaults.down);
        let up = pick(&specific.up, &fallback.up, defaults.up);
        if down.value >= up.value {
            let scope = scope.clone();
            reader.push(ConfigError::DownNotBelowUp { scope, down, up });
        }
    }
}

fn pick<T: Clone>(
    specific: &Option<Sourced<T>>,
    fallback: &Option<Sourced<T>>,
    default: T,
) -> Sourced<T> {
    specific
        .clone()
        .or_else(|| fallback.clone())
        .unwrap_or(Sourced {
            value: default,
            origin: None,
        })
}

fn minutes(minutes: f64) -> Duration {
    Duration::from_secs_f64(minutes * 60.0)
}
