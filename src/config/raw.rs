//! The raw model of a config file: a JSON tree that keeps what `serde_json::Value` drops.
//! Objects keep every entry in file order, duplicate keys included, and every value keeps its
//! text, whose address inside the whole file gives its line.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::errors::{ConfigError, ConfigErrors};

/// A JSON value and its text as written, a slice of the parsed document.
#[derive(Debug)]
pub(super) struct Spanned<'a> {
    pub text: &'a str,
    pub node: Node<'a>,
}

#[derive(Debug)]
pub(super) enum Node<'a> {
    Null,
    Bool(bool),
    /// A number written without fraction or exponent. `i128` covers every `i64` and `u64`.
    Integer(i128),
    Float(f64),
    String(String),
    Array(Vec<Spanned<'a>>),
    /// Entries in file order, including repeated keys.
    Object(Vec<Entry<'a>>),
}

#[derive(Debug)]
pub(super) struct Entry<'a> {
    pub key: String,
    pub value: Spanned<'a>,
}

/// Parses a whole config file.
///
/// Fails with [`ConfigError::Empty`] when the text contains no JSON value, and with
/// [`ConfigError::Syntax`] (line and column included) when it is not valid JSON.
pub(super) fn parse_document(text: &str) -> Result<Spanned<'_>, ConfigErrors> {
    let is_json_whitespace = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r');
    if text.trim_matches(is_json_whitespace).is_empty() {
        return Err(ConfigError::Empty.into());
    }

    // The raw-text pass skips over values and names some mistakes less precisely ("key must
    // be a string" for a trailing comma), so the syntax is checked by a plain parse first.
    serde_json::from_str::<serde_json::Value>(text).map_err(syntax_error)?;
    serde_json::from_str(text).map_err(syntax_error)
}

fn syntax_error(error: serde_json::Error) -> ConfigErrors {
    // serde_json ends its message with " at line L column C"; the variant prints those numbers
    // itself.
    let message = error.to_string();
    let message = match message.rfind(" at line ") {
        Some(end) => message[..end].to_owned(),
        None => message,
    };

    ConfigError::Syntax {
        line: error.line(),
        column: error.column(),
        message,
    }
    .into()
}

/// Returns the 1-based line on which `part`, a slice of `document`, starts.
pub(super) fn line_of(document: &str, part: &str) -> usize {
    let offset = (part.as_ptr() as usize)
        .saturating_sub(document.as_ptr() as usize)
        .min(document.len());
    let newlines = document.as_bytes()[..offset]
        .iter()
        .filter(|byte| **byte == b'\n')
        .count();
    newlines + 1
}

impl Node<'_> {
    /// Returns the JSON type as an error message names it: "a string", "an object".
    pub fn kind(&self) -> &'static str {
        match self {
            Node::Null => "null",
            Node::Bool(_) => "a boolean",
            Node::Integer(_) => "an integer",
            Node::Float(_) => "a number",
            Node::String(_) => "a string",
            Node::Array(_) => "an array",
            Node::Object(_) => "an object",
        }
    }
}

impl Spanned<'_> {
    /// Returns the value as an error message shows it: scalars as written (strings quoted,
    /// long ones shortened), arrays and objects by their type.
    pub fn shown(&self) -> String {
        const MAX_CHARS: usize = 60;

        match self.node {
            Node::Array(_) | Node::Object(_) => self.node.kind().to_owned(),
            _ if self.text.chars().count() > MAX_CHARS => {
                let start: String = self.text.chars().take(MAX_CHARS).collect();
                format!("{start}…")
            }
            _ => self.text.to_owned(),
        }
    }
}

/// Reads the value as raw text first, so that the text keeps its place in the document, then
/// parses that text again for the value itself. Each level of nesting is parsed once more,
/// which costs nothing at the depth of a config file.
impl<'de> Deserialize<'de> for Spanned<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = <&'de RawValue>::deserialize(deserializer)?;
        let text = raw.get();
        let node = serde_json::from_str::<Node<'de>>(text).map_err(de::Error::custom)?;
        Ok(Spanned { text, node })
    }
}

impl<'de> Deserialize<'de> for Node<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Node::Null)
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Self::Value, E> {
        Ok(Node::Bool(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
        Ok(Node::Integer(value.into()))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
        Ok(Node::Integer(value.into()))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Self::Value, E> {
        Ok(Node::Float(value))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        Ok(Node::String(value.to_owned()))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Self::Value, E> {
        Ok(Node::String(value))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<'de>>()? {
            items.push(item);
        }
        Ok(Node::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value::<Spanned<'de>>()?;
            entries.push(Entry { key, value });
        }
        Ok(Node::Object(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_kept_in_order() {
        let document = parse_document(r#"{"a": 1, "a": 2}"#).unwrap();

        let Node::Object(entries) = &document.node else {
            panic!("expected an object, got {document:?}");
        };
        let texts: Vec<&str> = entries.iter().map(|entry| entry.value.text).collect();
        assert_eq!(texts, ["1", "2"]);
    }

    #[test]
    fn values_know_their_line() {
        let text = "{\n  \"a\": {\n    \"b\": true\n  }\n}";
        let document = parse_document(text).unwrap();

        let Node::Object(outer) = &document.node else {
            panic!("expected an object");
        };
        let Node::Object(inner) = &outer[0].value.node else {
            panic!("expected an object");
        };
        assert_eq!(line_of(text, outer[0].value.text), 2);
        assert_eq!(line_of(text, inner[0].value.text), 3);
    }

    #[test]
    fn numbers_keep_integer_and_float_apart() {
        let document = parse_document("[2, 2.0, -3, 18446744073709551615]").unwrap();

        let Node::Array(items) = &document.node else {
            panic!("expected an array");
        };
        assert!(matches!(items[0].node, Node::Integer(2)));
        assert!(matches!(items[1].node, Node::Float(_)));
        assert!(matches!(items[2].node, Node::Integer(-3)));
        assert!(matches!(items[3].node, Node::Integer(n) if n == u64::MAX as i128));
    }

    #[test]
    fn long_strings_are_shortened_when_shown() {
        let text = format!("\"{}\"", "x".repeat(100));
        let document = parse_document(&text).unwrap();

        assert_eq!(document.shown().chars().count(), 61);
        assert!(document.shown().ends_with('…'));
    }
}
