//! Conversion of the raw model into a [`Config`]: the top-level walk over sections and
//! services, duplicate keys, and the checks that combine keys (each policy, and the request
//! timeout against the run's budget).

use std::collections::{BTreeMap, HashMap};

use super::env::EnvOverrides;
use super::errors::{ConfigError, ConfigErrors, Origin};
use super::fields::{key_path, Reader, Section};
use super::policy::{self, PolicyLayer, SERVICE_KEYS};
use super::raw::{Entry, Node, Spanned};
use super::sections::{self, SECTION_NAMES};
use super::{suggest, Config};

/// Validates a parsed document into a [`Config`].
///
/// Fails with every problem found, in file order, or with [`ConfigError::NotAnObject`]
/// alone when the top level is not an object.
pub(super) fn validate(
    document: &str,
    root: &Spanned<'_>,
    env: &EnvOverrides,
) -> Result<Config, ConfigErrors> {
    let Node::Object(entries) = &root.node else {
        let found = root.shown();
        return Err(ConfigError::NotAnObject { found }.into());
    };

    let mut reader = Reader::new(document);
    report_duplicates(&mut reader, "", root);
    let top = Section {
        path: String::new(),
        entries,
    };

    // Step 1: the sections. An absent section, or one that is not an object, counts as empty.
    let api_section = section_of(&mut reader, &top, "api");
    let global_section = section_of(&mut reader, &top, "global");
    let logging_section = section_of(&mut reader, &top, "logging");
    let api = sections::read_api(&mut reader, &api_section, env);
    let global = sections::read_global(&mut reader, &global_section);
    let logging = sections::read_logging(&mut reader, &logging_section);

    // Step 2: the services, each a layer over `global`.
    let mut services = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let is_repeat = entries[..index]
            .iter()
            .any(|earlier| earlier.key == entry.key);
        if is_repeat || SECTION_NAMES.contains(&entry.key.as_str()) {
            continue;
        }
        if let Some(service) = read_service(&mut reader, entry) {
            services.push(service);
        }
    }

    // Step 3: checks that combine keys, first each policy, then the request timeout against
    // the run's budget. A policy problem in `global` alone is reported at `global`.
    if let Some((path, value)) = top.get("global") {
        let scope = reader.origin(&path, value);
        policy::check(
            &mut reader,
            &scope,
            &global.defaults,
            &PolicyLayer::default(),
        );
    }
    for (_, scope, layer) in &services {
        policy::check(&mut reader, scope, layer, &global.defaults);
    }
    sections::check_run_budget(&mut reader, api.timeout.as_ref(), global.max_run.as_ref());

    // Every path that yields no API settings has recorded why.
    let (Some(api), true) = (api.settings, reader.errors.is_empty()) else {
        return Err(ConfigErrors::new(reader.errors));
    };
    let services: BTreeMap<String, _> = services
        .into_iter()
        .map(|(key, _, layer)| {
            let policy = policy::resolve(&layer, &global.defaults, global.ignore_exposed);
            (key, policy)
        })
        .collect();
    let defaults = policy::resolve(
        &global.defaults,
        &PolicyLayer::default(),
        global.ignore_exposed,
    );

    Ok(Config {
        api,
        global: global.settings,
        logging,
        services,
        defaults,
    })
}

/// Returns the section named `name`, or an empty one when it is absent or not an object.
fn section_of<'v, 'a>(
    reader: &mut Reader<'_>,
    top: &Section<'v, 'a>,
    name: &str,
) -> Section<'v, 'a> {
    top.get(name)
        .and_then(|(path, value)| reader.object(&path, value, "an object"))
        .unwrap_or(Section {
            path: name.to_owned(),
            entries: &[],
        })
}

/// Reads one top-level entry that is not a section as a service: its key, where it starts
/// and the policy keys it sets.
fn read_service(
    reader: &mut Reader<'_>,
    entry: &Entry<'_>,
) -> Option<(String, Origin, PolicyLayer)> {
    let path = key_path("", &entry.key);
    if !is_service_key(&entry.key) {
        let suggestion = suggest_key(&entry.key);
        let at = reader.origin(&path, &entry.value);
        reader.push(ConfigError::InvalidServiceKey { at, suggestion });
        return None;
    }

    let section = reader.object(&path, &entry.value, "an object of service settings")?;
    reader.check_keys(&section, SERVICE_KEYS, sections::misplaced_note);
    let layer = PolicyLayer::read(reader, &section);
    Some((entry.key.clone(), reader.origin(&path, &entry.value), layer))
}

/// Returns whether `key` can be an Easypanel Swarm service name, `project_service`. Project
/// and service names both use `[a-z0-9_-]`, so the split point cannot be known. The key needs
/// at least one `_` that is neither its first nor its last character.
fn is_service_key(key: &str) -> bool {
    let is_allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_';

    key.chars().all(is_allowed) && key.contains('_') && !key.starts_with('_') && !key.ends_with('_')
}

/// Suggests a section name for a near miss (`Global`, `loging`), or the lowercase form of a
/// key that is a service key apart from its case.
fn suggest_key(key: &str) -> Option<String> {
    if let Some(section) = suggest::closest(key, SECTION_NAMES) {
        return Some(section.to_owned());
    }

    let lowercase = key.to_lowercase();
    is_service_key(&lowercase).then_some(lowercase)
}

/// Reports every key that appears twice in one object, anywhere in the document. serde_json
/// and most other parsers keep only the last value, so a repeated key is almost always an
/// edit that went wrong.
fn report_duplicates(reader: &mut Reader<'_>, path: &str, value: &Spanned<'_>) {
    match &value.node {
        Node::Object(entries) => {
            let mut first_lines: HashMap<&str, usize> = HashMap::new();
            for entry in entries {
                let child = key_path(path, &entry.key);
                let line = reader.line(&entry.value);
                match first_lines.get(entry.key.as_str()) {
                    Some(&first_line) => {
                        let at = reader.origin(&child, &entry.value);
                        reader.push(ConfigError::DuplicateKey { at, first_line });
                    }
                    None => {
                        first_lines.insert(&entry.key, line);
                    }
                }
                report_duplicates(reader, &child, &entry.value);
            }
        }
        Node::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                report_duplicates(reader, &format!("{path}[{index}]"), item);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_keys_need_an_inner_underscore() {
        for key in [
            "shop_api",
            "my-shop_web-1",
            "a_b_c",
            "p_s",
            "shop__api",
            "0_1",
        ] {
            assert!(is_service_key(key), "{key} should be accepted");
        }
        for key in [
            "shop", "_shop", "shop_", "Shop_api", "shop api", "shop.api", "", "_",
        ] {
            assert!(!is_service_key(key), "{key} should be rejected");
        }
    }

    #[test]
    fn uppercase_key_suggests_lowercase() {
        assert_eq!(suggest_key("Shop_API").as_deref(), Some("shop_api"));
        assert_eq!(suggest_key("Global").as_deref(), Some("global"));
        assert_eq!(suggest_key("shop api"), None);
    }
}
