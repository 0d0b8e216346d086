//! Forms generated from a category's field definitions, and the conversions between an HTML
//! form's strings and a record's JSON. Conversion is lenient on purpose: a value that does not
//! parse is passed on as text, so the vault's validator names the problem in one place.

use std::collections::HashMap;

use infobank_vault::categories::{Category, Field, FieldType};
use infobank_vault::validate::FieldError;
use serde_json::{Map, Value, json};

use super::i18n::Messages;

/// One input of a generated form, ready for the template.
pub struct FieldView {
    pub name: &'static str,
    pub label: String,
    /// `date`, `text`, `number`, `select`, `checkbox` or `textarea`.
    pub input: &'static str,
    pub value: String,
    pub checked: bool,
    /// (value, label) of a select's options.
    pub options: Vec<(&'static str, String)>,
    pub min: String,
    pub max: String,
    pub step: &'static str,
    pub maxlength: String,
    pub unit: &'static str,
    pub hint: Option<String>,
    pub required: bool,
    pub error: Option<String>,
}

fn key(prefix: &str, name: &str) -> String {
    format!("{prefix}.{name}")
}

/// Looks up a catalogue message by a key built at run time (field and category names).
pub fn t_owned(t: &Messages<'_>, key: &str) -> String {
    t.lookup(key).unwrap_or(key).to_owned()
}

pub fn field_views(t: &Messages<'_>, category: &Category, values: &Value, errors: &[FieldError]) -> Vec<FieldView> {
    category
        .fields
        .iter()
        .map(|f| field_view(t, f, values.get(f.name), errors))
        .collect()
}

fn field_view(t: &Messages<'_>, field: &Field, value: Option<&Value>, errors: &[FieldError]) -> FieldView {
    let error = errors.iter().find(|e| e.field == field.name);
    // A refused card number is never sent back to the browser, not even into its own input.
    let value = value.filter(|_| error.is_none_or(|e| e.code != "full_card_number_forbidden"));
    let mut view = FieldView {
        name: field.name,
        label: t_owned(t, &key("field", field.name)),
        input: "text",
        value: value.map(display_for_input).unwrap_or_default(),
        checked: value.and_then(Value::as_bool).unwrap_or(false),
        options: Vec::new(),
        min: String::new(),
        max: String::new(),
        step: "",
        maxlength: String::new(),
        unit: field.unit.unwrap_or(""),
        hint: None,
        required: field.required,
        error: error.map(|e| t_owned(t, &key("verr", e.code))),
    };
    match field.kind {
        FieldType::Date => view.input = "date",
        FieldType::Text { max_chars } => view.maxlength = max_chars.to_string(),
        FieldType::Integer { min, max } => {
            view.input = "number";
            view.step = "1";
            view.min = min.to_string();
            view.max = max.to_string();
        }
        FieldType::Decimal { min, max } => {
            view.input = "number";
            view.step = "any";
            view.min = min.to_string();
            view.max = max.to_string();
        }
        FieldType::Choice { options } => {
            view.input = "select";
            view.options = options.iter().map(|o| (*o, option_label(t, field.name, o))).collect();
        }
        FieldType::Bool => view.input = "checkbox",
        FieldType::PostalCodeJp => {
            view.maxlength = "8".into();
            view.hint = Some(t_owned(t, "data.hint_postal"));
        }
        FieldType::TextList { .. } => view.hint = Some(t_owned(t, "data.hint_items")),
        FieldType::Members { .. } => {
            view.input = "textarea";
            view.hint = Some(t_owned(t, "data.hint_members"));
        }
        FieldType::Last4 => {
            view.maxlength = "4".into();
            view.hint = Some(t_owned(t, "data.hint_last4"));
        }
    }
    view
}

/// A stored value as the text an input shows.
fn display_for_input(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) if items.iter().all(Value::is_object) => items
            .iter()
            .map(|m| format!("{} {}", m["relation"].as_str().unwrap_or_default(), m["birth_year"]))
            .collect::<Vec<_>>()
            .join("\n"),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join(", "),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A choice's label in the page's language: merchant categories have their own section (the
/// predicates and statistics use it too), every other option and family relation is `option.*`.
/// The API keeps the codes; an unknown value is shown as it is.
pub fn option_label(t: &Messages<'_>, field: &str, value: &str) -> String {
    let section = if field == "merchant_category" {
        "merchant"
    } else {
        "option"
    };
    t.lookup(&format!("{section}.{value}")).unwrap_or(value).to_owned()
}

/// A stored value of `field` as the text a record list shows: choices and family relations by
/// their labels.
pub fn display_value(t: &Messages<'_>, field: &Field, value: &Value) -> String {
    match (&field.kind, value) {
        (_, Value::Bool(true)) => t_owned(t, "data.yes"),
        (_, Value::Bool(false)) => "—".into(),
        (FieldType::Choice { .. }, Value::String(code)) => option_label(t, field.name, code),
        (FieldType::Members { .. }, Value::Array(members)) => members
            .iter()
            .map(|m| {
                let relation = option_label(t, "relation", m["relation"].as_str().unwrap_or_default());
                format!("{relation} {}", m["birth_year"])
            })
            .collect::<Vec<_>>()
            .join(t.get("home.list_separator")),
        (_, other) => display_for_input(other),
    }
}

/// The record's JSON from the form's strings.
pub fn form_to_data(category: &Category, form: &HashMap<String, String>) -> Value {
    let mut data = Map::new();
    for field in category.fields {
        let raw = form.get(field.name).map(|s| s.trim()).unwrap_or("");
        let value = match field.kind {
            FieldType::Bool => Some(Value::Bool(form.contains_key(field.name))),
            _ if raw.is_empty() => None,
            FieldType::Integer { .. } => Some(
                raw.parse::<i64>()
                    .map_or_else(|_| Value::String(raw.to_owned()), Value::from),
            ),
            FieldType::Decimal { .. } => Some(
                raw.parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map_or_else(|| Value::String(raw.to_owned()), Value::Number),
            ),
            FieldType::TextList { .. } => Some(Value::Array(
                raw.split([',', '\n', '、'])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| Value::String(s.to_owned()))
                    .collect(),
            )),
            FieldType::Members { .. } => Some(Value::Array(
                raw.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(member)
                    .collect(),
            )),
            _ => Some(Value::String(raw.to_owned())),
        };
        if let Some(value) = value {
            data.insert(field.name.to_owned(), value);
        }
    }
    Value::Object(data)
}

/// `child 2015` → `{"relation": "child", "birth_year": 2015}`; anything else stays text, which
/// the validator refuses with a clear code.
fn member(line: &str) -> Value {
    let mut parts = line.split_whitespace();
    match (
        parts.next(),
        parts.next().and_then(|y| y.parse::<i64>().ok()),
        parts.next(),
    ) {
        (Some(relation), Some(year), None) => json!({"relation": relation, "birth_year": year}),
        _ => Value::String(line.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use infobank_vault::categories::category;
    use infobank_vault::validate::validate;

    fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn forms_become_valid_records() {
        let family = category("family_structure").unwrap();
        let data = form_to_data(
            family,
            &form(&[("household_size", "3"), ("members", "child 2015\nspouse 1988\n")]),
        );
        assert_eq!(validate(family, &data).unwrap()["members"][1]["relation"], "spouse");
        let health = category("physical_condition").unwrap();
        let data = form_to_data(
            health,
            &form(&[
                ("date", "2026-11-20"),
                ("weight_kg", "61.2"),
                ("steps", ""),
                ("sleep_hours", "7.5"),
            ]),
        );
        assert_eq!(
            validate(health, &data).unwrap(),
            json!({"date": "2026-11-20", "weight_kg": 61.2, "sleep_hours": 7.5})
        );
        let license = category("drivers_license").unwrap();
        assert_eq!(form_to_data(license, &form(&[("verified", "on")]))["verified"], true);
        assert_eq!(form_to_data(license, &form(&[]))["verified"], false);
        let hobbies = category("hobbies").unwrap();
        assert_eq!(
            form_to_data(hobbies, &form(&[("items", "go, cycling、囲碁")]))["items"],
            json!(["go", "cycling", "囲碁"])
        );
    }

    #[test]
    fn unparsable_input_reaches_the_validator_as_text() {
        let mood = category("daily_mood").unwrap();
        let errors = validate(
            mood,
            &form_to_data(mood, &form(&[("date", "2026-11-20"), ("score", "four")])),
        )
        .unwrap_err();
        assert_eq!((errors[0].field.as_str(), errors[0].code), ("score", "not_an_integer"));
        let family = category("family_structure").unwrap();
        let errors = validate(
            family,
            &form_to_data(family, &form(&[("household_size", "2"), ("members", "my cousin")])),
        )
        .unwrap_err();
        assert_eq!(errors[0].field, "members");
    }
}
