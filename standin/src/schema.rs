//! Input schemas of the served procedures, checked the way the panel's validator (zod)
//! checks them.
//!
//! The schemas are those of Easypanel's published OpenAPI document for 2.19.0. Every object
//! there has `additionalProperties: false`, so an unknown field is an error. As in zod, a
//! field with a default gets the default when it is absent (not when it is `null`), and the
//! default itself passes through the field's schema, which fills nested defaults.

use serde_json::{json, Map, Value};

use crate::document::number;

/// A JSON schema of the subset the served procedures use.
#[derive(Debug, Clone)]
pub(crate) enum Schema {
    /// An object with the listed properties and no others.
    Object(Vec<Property>),
    /// An object whose values are all strings, with any keys.
    StringMap,
    Array(Box<Schema>),
    String,
    /// A project or service name: a string matching `^[a-z0-9-_]+$`.
    Name,
    NullableString,
    Number,
    Boolean,
}

/// One property of an object schema.
#[derive(Debug, Clone)]
pub(crate) struct Property {
    name: &'static str,
    schema: Schema,
    presence: Presence,
}

/// Handling of an absent property.
#[derive(Debug, Clone)]
enum Presence {
    Required,
    Optional,
    Default(Value),
}

/// One failed check, in zod's issue format.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Issue {
    pub(crate) code: &'static str,
    pub(crate) path: Vec<Value>,
    pub(crate) message: String,
    details: Map<String, Value>,
}

impl Issue {
    /// Returns the issue as zod serializes it.
    pub(crate) fn to_json(&self) -> Value {
        let mut fields = Map::new();
        fields.insert("code".into(), json!(self.code));
        fields.extend(self.details.clone());
        fields.insert("path".into(), Value::Array(self.path.clone()));
        fields.insert("message".into(), json!(self.message));
        Value::Object(fields)
    }

    /// Returns a one-line description such as `deploy.extra: Unrecognized key(s) ...`.
    pub(crate) fn describe(&self) -> String {
        let path: Vec<String> = self
            .path
            .iter()
            .map(|segment| match segment {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            })
            .collect();
        if path.is_empty() {
            format!("input: {}", self.message)
        } else {
            format!("{}: {}", path.join("."), self.message)
        }
    }
}

fn required(name: &'static str, schema: Schema) -> Property {
    Property {
        name,
        schema,
        presence: Presence::Required,
    }
}

fn optional(name: &'static str, schema: Schema) -> Property {
    Property {
        name,
        schema,
        presence: Presence::Optional,
    }
}

fn defaulted(name: &'static str, schema: Schema, default: Value) -> Property {
    Property {
        name,
        schema,
        presence: Presence::Default(default),
    }
}

/// Returns the input schema `{projectName, serviceName}` shared by several procedures.
pub(crate) fn service_reference() -> Schema {
    Schema::Object(vec![
        required("projectName", Schema::Name),
        required("serviceName", Schema::Name),
    ])
}

/// Returns the input schema of `services.app.updateDeploy`.
pub(crate) fn update_deploy() -> Schema {
    let strings = || Schema::Array(Box::new(Schema::String));
    let deploy = Schema::Object(vec![
        defaulted("replicas", Schema::Number, json!(1)),
        defaulted("command", Schema::NullableString, Value::Null),
        defaulted("zeroDowntime", Schema::Boolean, json!(true)),
        optional("capAdd", strings()),
        optional("capDrop", strings()),
        optional("sysctls", Schema::StringMap),
        optional("groups", strings()),
        optional("tiniInit", Schema::Boolean),
    ]);
    Schema::Object(vec![
        required("projectName", Schema::Name),
        required("serviceName", Schema::Name),
        defaulted("deploy", deploy, json!({})),
    ])
}

/// Returns the input schema of `services.app.deployService`.
pub(crate) fn deploy_service() -> Schema {
    Schema::Object(vec![
        required("projectName", Schema::Name),
        required("serviceName", Schema::Name),
        defaulted("forceRebuild", Schema::Boolean, json!(false)),
    ])
}

impl Schema {
    /// Checks an input (`None` when the request carried none) and returns it with every
    /// default filled in, or every issue found.
    pub(crate) fn check(&self, input: Option<&Value>) -> Result<Value, Vec<Issue>> {
        let Some(input) = input else {
            return Err(vec![missing(self, &[])]);
        };

        let mut path = Vec::new();
        let mut issues = Vec::new();
        let checked = self.check_at(input, &mut path, &mut issues);
        if issues.is_empty() {
            Ok(checked)
        } else {
            Err(issues)
        }
    }

    fn check_at(&self, value: &Value, path: &mut Vec<Value>, issues: &mut Vec<Issue>) -> Value {
        match (self, value) {
            (Schema::Object(properties), Value::Object(fields)) => {
                check_object(properties, fields, path, issues)
            }
            (Schema::StringMap, Value::Object(fields)) => {
                for (key, item) in fields {
                    path.push(json!(key));
                    Schema::String.check_at(item, path, issues);
                    path.pop();
                }
                value.clone()
            }
            (Schema::Array(items), Value::Array(elements)) => {
                let mut checked = Vec::with_capacity(elements.len());
                for (index, element) in elements.iter().enumerate() {
                    path.push(json!(index));
                    checked.push(items.check_at(element, path, issues));
                    path.pop();
                }
                Value::Array(checked)
            }
            (Schema::Name, Value::String(text)) => {
                if !is_name(text) {
                    issues.push(Issue {
                        code: "invalid_string",
                        path: path.clone(),
                        message: "Invalid".to_string(),
                        details: object(json!({"validation": "regex"})),
                    });
                }
                value.clone()
            }
            (Schema::String | Schema::NullableString, Value::String(_))
            | (Schema::NullableString, Value::Null)
            | (Schema::Boolean, Value::Bool(_)) => value.clone(),
            // JavaScript has one number type, so a whole number sent as `3.0` arrives as `3`.
            (Schema::Number, Value::Number(given)) => {
                given.as_f64().map_or_else(|| value.clone(), number)
            }
            _ => {
                issues.push(wrong_type(self, value, path));
                value.clone()
            }
        }
    }
}

fn check_object(
    properties: &[Property],
    fields: &Map<String, Value>,
    path: &mut Vec<Value>,
    issues: &mut Vec<Issue>,
) -> Value {
    let mut checked = Map::new();
    for property in properties {
        path.push(json!(property.name));
        let given = fields.get(property.name);
        match (given, &property.presence) {
            (Some(value), _) | (None, Presence::Default(value)) => {
                let value = property.schema.check_at(value, path, issues);
                checked.insert(property.name.to_string(), value);
            }
            (None, Presence::Required) => issues.push(missing(&property.schema, path)),
            (None, Presence::Optional) => {}
        }
        path.pop();
    }

    let unknown: Vec<&String> = fields
        .keys()
        .filter(|key| {
            properties
                .iter()
                .all(|property| property.name != key.as_str())
        })
        .collect();
    if !unknown.is_empty() {
        let quoted: Vec<String> = unknown.iter().map(|key| format!("'{key}'")).collect();
        issues.push(Issue {
            code: "unrecognized_keys",
            path: path.clone(),
            message: format!("Unrecognized key(s) in object: {}", quoted.join(", ")),
            details: object(json!({"keys": unknown})),
        });
    }
    Value::Object(checked)
}

/// Reports whether `text` matches `^[a-z0-9-_]+$`.
pub(crate) fn is_name(text: &str) -> bool {
    !text.is_empty()
        && text.bytes().all(|byte| {
            byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-' || byte == b'_'
        })
}

fn missing(schema: &Schema, path: &[Value]) -> Issue {
    Issue {
        code: "invalid_type",
        path: path.to_vec(),
        message: "Required".to_string(),
        details: object(json!({"expected": expected(schema), "received": "undefined"})),
    }
}

fn wrong_type(schema: &Schema, value: &Value, path: &[Value]) -> Issue {
    let expected = expected(schema);
    let received = received(value);
    Issue {
        code: "invalid_type",
        path: path.to_vec(),
        message: format!("Expected {expected}, received {received}"),
        details: object(json!({"expected": expected, "received": received})),
    }
}

fn expected(schema: &Schema) -> &'static str {
    match schema {
        Schema::Object(_) | Schema::StringMap => "object",
        Schema::Array(_) => "array",
        Schema::String | Schema::Name | Schema::NullableString => "string",
        Schema::Number => "number",
        Schema::Boolean => "boolean",
    }
}

fn received(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(fields) => fields,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(result: Result<Value, Vec<Issue>>) -> Vec<(&'static str, String)> {
        result
            .expect_err("input should be rejected")
            .into_iter()
            .map(|issue| (issue.code, issue.describe()))
            .collect()
    }

    #[test]
    fn update_deploy_fills_defaults() {
        let input = json!({"projectName": "shop", "serviceName": "api"});

        let checked = update_deploy().check(Some(&input)).unwrap();

        assert_eq!(
            checked["deploy"],
            json!({"replicas": 1, "command": null, "zeroDowntime": true})
        );
    }

    #[test]
    fn update_deploy_fills_missing_command() {
        let input = json!({"projectName": "shop", "serviceName": "api", "deploy": {"replicas": 3}});

        let checked = update_deploy().check(Some(&input)).unwrap();

        assert_eq!(checked["deploy"]["command"], Value::Null);
        assert_eq!(checked["deploy"]["replicas"], json!(3));
    }

    #[test]
    fn whole_float_becomes_integer() {
        let input =
            json!({"projectName": "shop", "serviceName": "api", "deploy": {"replicas": 3.0}});

        let checked = update_deploy().check(Some(&input)).unwrap();

        assert_eq!(checked["deploy"]["replicas"].as_u64(), Some(3));
    }

    #[test]
    fn rejected_inputs() {
        let cases = [
            (
                json!({"projectName": "shop"}),
                "invalid_type",
                "serviceName: Required",
            ),
            (
                json!({"projectName": "Shop", "serviceName": "api"}),
                "invalid_string",
                "projectName: Invalid",
            ),
            (
                json!({"projectName": "shop", "serviceName": "api", "replicas": 2}),
                "unrecognized_keys",
                "input: Unrecognized key(s) in object: 'replicas'",
            ),
            (
                json!({"projectName": "shop", "serviceName": "api", "deploy": {"replicas": "2"}}),
                "invalid_type",
                "deploy.replicas: Expected number, received string",
            ),
            (
                json!({"projectName": "shop", "serviceName": "api", "deploy": null}),
                "invalid_type",
                "deploy: Expected object, received null",
            ),
            (
                json!({"projectName": "shop", "serviceName": "api", "deploy": {"sysctls": {"a": 1}}}),
                "invalid_type",
                "deploy.sysctls.a: Expected string, received number",
            ),
            (
                json!({"projectName": "shop", "serviceName": "api", "deploy": {"capAdd": ["A", 2]}}),
                "invalid_type",
                "deploy.capAdd.1: Expected string, received number",
            ),
        ];

        for (input, code, description) in cases {
            let issues = codes(update_deploy().check(Some(&input)));
            assert_eq!(
                issues,
                vec![(code, description.to_string())],
                "input {input}"
            );
        }
    }

    #[test]
    fn absent_input_is_required() {
        let issues = codes(service_reference().check(None));

        assert_eq!(
            issues,
            vec![("invalid_type", "input: Required".to_string())]
        );
    }

    #[test]
    fn name_pattern() {
        assert!(is_name("shop-api_2"));
        assert!(!is_name(""));
        assert!(!is_name("shop api"));
        assert!(!is_name("Shop"));
    }
}
