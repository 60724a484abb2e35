//! Whether the values of a request's variables surely fit their declared types, by rules at
//! least as strict as async-graphql's validation, so that a document validated once can skip
//! strict validation ([`super::exec`]). `false` means "not sure": the request is then
//! validated in full, and a bad value is reported exactly as before.
//!
//! Input objects and enums are checked against the schema's own definitions. The REST shim
//! sends its list filter as a `TicketFilter` variable; before input objects were known here,
//! every REST list was validated in full (6% of scenario 2's instructions, callgrind).

use std::collections::{HashMap, HashSet};

use async_graphql::parser::types::{BaseType, OperationDefinition, Type};
use async_graphql::registry::{MetaType, Registry};
use async_graphql::{ObjectType, Positioned, SubscriptionType, Value, Variables};

/// The schema's input objects and enums, by name.
pub struct InputTypes(HashMap<String, Input>);

enum Input {
    /// An input object's fields: each one's type, and whether it must be given (non-null
    /// and without a default). `oneof` objects are not described: never sure.
    Object(HashMap<String, (Type, bool)>),
    Enum(HashSet<String>),
}

impl InputTypes {
    /// The input types reachable from the schema's roots.
    pub fn of<Q: ObjectType, M: ObjectType, S: SubscriptionType>() -> InputTypes {
        let mut registry = Registry::default();
        Q::create_type_info(&mut registry);
        M::create_type_info(&mut registry);
        S::create_type_info(&mut registry);
        let inputs = registry.types.into_iter().filter_map(|(name, ty)| {
            let input = match ty {
                MetaType::InputObject {
                    input_fields,
                    oneof: false,
                    ..
                } => {
                    let fields = input_fields.into_values().map(|f| {
                        let ty = Type::new(&f.ty)?;
                        let required = !ty.nullable && f.default_value.is_none();
                        Some((f.name, (ty, required)))
                    });
                    Input::Object(fields.collect::<Option<_>>()?)
                }
                MetaType::Enum { enum_values, .. } => {
                    Input::Enum(enum_values.into_values().map(|v| v.name).collect())
                }
                _ => return None,
            };
            Some((name, input))
        });
        InputTypes(inputs.collect())
    }

    /// Whether every variable value sent surely fits its declared type. That checks a value
    /// where its variable is used, against the argument's type, which validation has already
    /// matched with the declared one.
    pub fn values_fit(
        &self,
        operation: &Positioned<OperationDefinition>,
        variables: &Variables,
    ) -> bool {
        operation.node.variable_definitions.iter().all(|def| {
            variables
                .get(&def.node.name.node)
                .is_none_or(|value| self.fits(&def.node.var_type.node, value))
        })
    }

    fn fits(&self, ty: &Type, value: &Value) -> bool {
        match (&ty.base, value) {
            (_, Value::Null) => false,
            (BaseType::List(item), Value::List(items)) => {
                items.iter().all(|v| self.fits(item.as_ref(), v))
            }
            // A single value where a list is expected stands for a list of one.
            (BaseType::List(item), value) => self.fits(item.as_ref(), value),
            (BaseType::Named(name), value) => match (name.as_str(), value) {
                ("Int", Value::Number(n)) => n.is_i64(),
                ("String", Value::String(_)) => true,
                ("Boolean", Value::Boolean(_)) => true,
                ("ID", Value::String(_)) => true,
                ("ID", Value::Number(n)) => n.is_i64(),
                ("UUID", Value::String(s)) => uuid::Uuid::parse_str(s).is_ok(),
                (name, value) => match (self.0.get(name), value) {
                    (Some(Input::Enum(values)), Value::String(s)) => values.contains(s),
                    (Some(Input::Enum(values)), Value::Enum(s)) => values.contains(s.as_str()),
                    (Some(Input::Object(fields)), Value::Object(given)) => {
                        let known = given.iter().all(|(key, v)| {
                            fields
                                .get(key.as_str())
                                .is_some_and(|(ty, _)| self.fits(ty, v))
                        });
                        let complete = fields.iter().all(|(key, (_, required))| {
                            !required || given.contains_key(key.as_str())
                        });
                        known && complete
                    }
                    _ => false,
                },
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;
    use serde_json::json;

    use super::*;
    use crate::graphql::{Mutation, Query, Subscription};

    /// Whether `variables` surely fit the variables of `query` (one operation).
    fn fit(query: &str, variables: serde_json::Value) -> bool {
        let inputs = InputTypes::of::<Query, Mutation, Subscription>();
        let document = parse_query(query).expect("a document");
        let (_, operation) = document.operations.iter().next().expect("an operation");
        inputs.values_fit(operation, &Variables::from_json(variables))
    }

    #[test]
    fn input_objects_and_enums_fit_when_every_value_fits_its_field() {
        let filter = "query($f: TicketFilter) { tickets(filter: $f) { totalCount } }";
        assert!(fit(filter, json!({ "f": {} })));
        assert!(fit(
            filter,
            json!({ "f": { "status": ["NEW", "ON_HOLD"], "keywords": "x" } })
        ));
        assert!(fit(
            filter,
            json!({ "f": { "tagId": "01a20afa-b99f-7158-8902-5ce1c3e4d876", "includeMerged": true } })
        ));
        // Not sure, so validated in full: an unknown field, a value of the wrong kind, an
        // unknown enum value, a null, a malformed UUID, a scalar not described here.
        assert!(!fit(filter, json!({ "f": { "nope": 1 } })));
        assert!(!fit(filter, json!({ "f": { "keywords": 7 } })));
        assert!(!fit(filter, json!({ "f": { "status": ["NOPE"] } })));
        assert!(!fit(filter, json!({ "f": { "keywords": null } })));
        assert!(!fit(filter, json!({ "f": { "tagId": "not a uuid" } })));
        assert!(!fit(
            filter,
            json!({ "f": { "updatedSince": "2026-01-01T00:00:00Z" } })
        ));
        assert!(!fit(filter, json!({ "f": "NEW" })));
    }

    #[test]
    fn a_mutation_input_fits_with_every_required_field_and_not_without_one() {
        let create = "mutation($in: CreateTicketInput!) { createTicket(input: $in) { id } }";
        let whole = json!({
            "subject": "Parcel missing",
            "channelId": "email",
            "contactOrVisitorId": "01a20afa-b99f-7158-8902-5ce1c3e4d876",
            "priority": "HIGH",
        });
        assert!(fit(create, json!({ "in": whole })));
        for required in ["subject", "channelId", "contactOrVisitorId"] {
            let mut partial = whole.clone();
            partial.as_object_mut().unwrap().remove(required);
            assert!(!fit(create, json!({ "in": partial })), "without {required}");
        }
    }

    #[test]
    fn ints_fit_when_whole() {
        let page = "query($n: Int) { tickets(first: $n) { totalCount } }";
        assert!(fit(page, json!({ "n": 50 })));
        assert!(!fit(page, json!({ "n": 1.5 })));
        assert!(!fit(page, json!({ "n": "50" })));
    }
}
