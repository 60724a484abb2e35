//! A faster way to resolve the objects a page holds by the hundred (tickets, messages, tags).
//!
//! async-graphql resolves every field of every object as a boxed future in a
//! `FuturesUnordered`, then inserts the answers into a map that grows as it goes. For the
//! 50-ticket inbox that is some 1,250 boxed futures per request, and a profile put most of the
//! server's CPU in that machinery rather than in our resolvers. [`Fast`] wraps an object type
//! and resolves its selection the same way with less of it:
//! - a leaf field (no selection of its own: a column, an enum, a time) is awaited in place,
//!   without a box: nearly all of them are ready at once, and a leaf that loads (`tagIds`)
//!   still joins the batch of its siblings, which the enclosing list polls in the same pass;
//! - the fields with selections (relations) run concurrently, as before;
//! - the answers go into a clone of the selection's map of keys ([`Shapes`]), in the order of
//!   the selection.
//!
//! The answer is the same value async-graphql builds: same keys, same order of selection,
//! same errors with the same paths (a failed field's key left out), and fields of one
//! response key merged. Type information is the wrapped type's, so the schema does not
//! change. It calls no field extension: the schema has none (the executor in `exec.rs` does
//! that work once per request instead).

use std::borrow::Cow;
use std::future::Future;
use std::sync::{Arc, Mutex};

use async_graphql::indexmap::{IndexMap, map::Entry};
use async_graphql::parser::types::{Field, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::{ContainerType, Fields};
use async_graphql::{
    Context, ContextSelectionSet, Name, ObjectType, OutputType, Positioned, ServerError,
    ServerResult, UnionType, Value,
};

/// `T`'s GraphQL object, resolved by [`resolve_object`]; to clients it is `T`.
pub struct Fast<T>(pub T);

impl<T: ObjectType> OutputType for Fast<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        resolve_object(ctx, &self.0).await
    }
}

impl<T: ObjectType> ContainerType for Fast<T> {
    async fn resolve_field(&self, ctx: &Context<'_>) -> ServerResult<Option<Value>> {
        self.0.resolve_field(ctx).await
    }
}

impl<T: ObjectType> ObjectType for Fast<T> {}

/// A union whose value resolves as its variant's object, through [`resolve_object`].
pub trait Variants: UnionType {
    /// Resolves the variant: `resolve_member(ctx, variant, &Self::type_name())`.
    fn resolve_variant<'a>(
        &'a self,
        ctx: &'a ContextSelectionSet<'a>,
    ) -> impl Future<Output = ServerResult<Value>> + Send + 'a;
}

/// Implements [`Variants`] for a `#[derive(Union)]` enum whose variants hold one object each.
macro_rules! union_variants {
    ($union:ident { $($variant:ident),+ $(,)? }) => {
        impl $crate::graphql::fast::Variants for $union {
            fn resolve_variant<'a>(
                &'a self,
                ctx: &'a async_graphql::ContextSelectionSet<'a>,
            ) -> impl std::future::Future<Output = async_graphql::ServerResult<async_graphql::Value>>
            + Send
            + 'a {
                let of = <Self as async_graphql::OutputType>::type_name();
                async move {
                    match self {
                        $($union::$variant(v) => {
                            $crate::graphql::fast::resolve_member(ctx, v, Some(&of)).await
                        })+
                    }
                }
            }
        }
    };
}
pub(crate) use union_variants;

/// `U`'s GraphQL union, its variant resolved by [`resolve_object`]; to clients it is `U`.
pub struct FastUnion<U>(pub U);

impl<U: Variants> OutputType for FastUnion<U> {
    fn type_name() -> Cow<'static, str> {
        U::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        U::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        self.0.resolve_variant(ctx).await
    }
}

impl<U: Variants> ContainerType for FastUnion<U> {
    async fn resolve_field(&self, ctx: &Context<'_>) -> ServerResult<Option<Value>> {
        self.0.resolve_field(ctx).await
    }

    fn collect_all_fields<'a>(
        &'a self,
        ctx: &ContextSelectionSet<'a>,
        fields: &mut Fields<'a>,
    ) -> ServerResult<()> {
        self.0.collect_all_fields(ctx, fields)
    }
}

impl<U: Variants> UnionType for FastUnion<U> {}

/// A list of objects, each resolved by [`resolve_object`]: a page of tickets, its edges, a
/// page of messages, a ticket's tags.
///
/// async-graphql's list resolver joins its items with `try_join_all`, which above 30 items
/// gives each item's future a task of its own in a `FuturesOrdered`: an allocation the size of
/// the future for every object, and the bookkeeping of that queue. Here the items are joined in
/// groups of at most 30 ([`join_grouped`]), each group's futures in one allocation. An item
/// that fails fails the list, with the item's index in the error's path, as async-graphql's
/// does.
pub struct Objects<T>(pub Vec<T>);

impl<T: ObjectType> OutputType for Objects<T> {
    fn type_name() -> Cow<'static, str> {
        Cow::Owned(format!("[{}]", T::qualified_type_name()))
    }

    fn qualified_type_name() -> String {
        format!("[{}]!", T::qualified_type_name())
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry);
        Self::qualified_type_name()
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        let items = self.0.iter().enumerate();
        let values = join_grouped(items.map(|(at, item)| resolve_item(ctx, at, item))).await;
        Ok(Value::List(
            values.into_iter().collect::<ServerResult<_>>()?,
        ))
    }
}

async fn resolve_item<T: ObjectType>(
    list: &ContextSelectionSet<'_>,
    at: usize,
    item: &T,
) -> ServerResult<Value> {
    let ctx = list.with_index(at);
    resolve_object(&ctx, item)
        .await
        .map_err(|e| ctx.set_error_path(e))
}

/// The outputs of `futures`, in order, all polled together. `join_all` keeps up to 30
/// futures in one allocation and polls each of them at every wake; above 30 it makes a task of
/// each. Groups of 30 keep the first way for any number: a wake polls every object of the
/// list, which costs less than a task per object (the objects of a page wait on the same few
/// batches, so they wake together anyway).
fn join_grouped<F: Future>(
    futures: impl Iterator<Item = F>,
) -> impl Future<Output = Vec<F::Output>> {
    const GROUP: usize = 30;
    // A list of one group (a ticket's tags) is joined alone, without a join of groups around.
    if futures.size_hint().1.is_some_and(|n| n <= GROUP) {
        return futures_util::future::Either::Left(futures_util::future::join_all(futures));
    }
    let mut futures = futures.peekable();
    let mut groups = Vec::new();
    while futures.peek().is_some() {
        let group: Vec<F> = futures.by_ref().take(GROUP).collect();
        groups.push(futures_util::future::join_all(group));
    }
    // Made before the future, which holds only the groups: the iterator's closure would
    // otherwise have to be `Send` for every lifetime.
    let all = futures_util::future::join_all(groups);
    futures_util::future::Either::Right(async move { all.await.into_iter().flatten().collect() })
}

/// One selected field, and whether it is a leaf (has no selection of its own).
struct Selected<'a> {
    field: &'a Positioned<Field>,
    leaf: bool,
}

/// Resolves `root`'s selection as async-graphql's `resolve_container` does (see the module).
pub async fn resolve_object<'a, T: ObjectType>(
    ctx: &'a ContextSelectionSet<'a>,
    root: &'a T,
) -> ServerResult<Value> {
    resolve_member(ctx, root, None).await
}

/// Resolves `root`, the value of a field whose type is `of` (a union or an interface) or,
/// when `of` is `None`, `root`'s own type.
pub async fn resolve_member<'a, T: ObjectType>(
    ctx: &'a ContextSelectionSet<'a>,
    root: &'a T,
    of: Option<&str>,
) -> ServerResult<Value> {
    let mut selected = Vec::with_capacity(ctx.item.node.items.len());
    collect(ctx, ctx.item, root, of, &mut selected)?;

    let typename = root.introspection_type_name();
    // Answers by position, failures apart: they are rare, and a slot that could hold one is
    // several times the size of a value, moved for every field.
    // Filled with `resize_with`: `vec![Value::Null; n]` calls `Value::clone` for each slot.
    let mut answers: Vec<Value> = Vec::with_capacity(selected.len());
    answers.resize_with(selected.len(), || Value::Null);
    let mut failed: Vec<(usize, ServerError)> = Vec::new();

    // Relations run together; their answers are put in place when all are in. Each one's
    // future is boxed: inline it has the size of the largest field's resolver, and the join
    // moved it whole (scenario 2: 13.01M -> 12.72M instructions per request). A field's
    // context is made where it is used, not gathered first into a list for every field.
    let relations =
        futures_util::future::join_all(selected.iter().enumerate().filter(|(_, s)| !s.leaf).map(
            |(i, s)| async move {
                let c = ctx.with_field(s.field);
                (i, Box::pin(field_value(root, &c)).await)
            },
        ));
    let leaves = async {
        for (i, s) in selected.iter().enumerate() {
            if !s.leaf {
                continue;
            }
            let answer = if s.field.node.name.node == "__typename" {
                Ok(Value::String(typename.to_string()))
            } else {
                field_value(root, &ctx.with_field(s.field)).await
            };
            match answer {
                Ok(value) => answers[i] = value,
                Err(e) => failed.push((i, e)),
            }
        }
    };
    let ((), related) = futures_util::future::join(leaves, relations).await;
    for (i, answer) in related {
        match answer {
            Ok(value) => answers[i] = value,
            Err(e) => failed.push((i, e)),
        }
    }

    if failed.is_empty()
        && let Some(shapes) = ctx.data_opt::<Shapes>()
    {
        return Ok(shapes.of(ctx.item, &typename, of, &selected).fill(answers));
    }
    // A failed field leaves its key out and reports its error, in order of selection.
    failed.sort_by_key(|(i, _)| *i);
    let mut failed = failed.into_iter().peekable();
    let mut map: IndexMap<Name, Value> = IndexMap::with_capacity(selected.len());
    for (i, (s, value)) in selected.iter().zip(answers).enumerate() {
        if let Some((_, e)) = failed.next_if(|(at, _)| *at == i) {
            ctx.add_error(e);
        } else {
            insert(&mut map, s.field.node.response_key().node.clone(), value);
        }
    }
    Ok(if map.is_empty() {
        Value::Null
    } else {
        Value::Object(map)
    })
}

/// The keys of the objects a request's selections resolve to, for [`resolve_member`]: per
/// request, since a shape is keyed by the address of a selection in the request's document.
///
/// Every object of a list has the same keys in the same order: the same selection on the
/// same type (`@skip` and `@include` are applied to the document before execution). Built
/// key by key, each object hashed every key with the map's SipHash, which was 10% of
/// scenario 2's instructions. A shape is that map built once, with null values: each object
/// clones it (the hashes are copied, not computed) and sets its values by position.
///
/// Shapes must live no longer than the request's document: never put them in the schema's
/// or a connection's data, where another document could come to lie at the same address.
#[derive(Default)]
pub struct Shapes(Mutex<Vec<Arc<Shape>>>);

struct Shape {
    /// The selection set's address, the object's type and the field's abstract type.
    set: usize,
    ty: String,
    of: Option<String>,
    /// Every response key in order of selection, each with a null value.
    keys: IndexMap<Name, Value>,
    /// For each selected field, in order: its key's position, and whether it is the first
    /// field of that key (the others merge into it).
    slots: Vec<(usize, bool)>,
    /// Whether two fields share a key; if not, field `i` has key `i`.
    merges: bool,
}

impl Shapes {
    fn of(
        &self,
        set: &Positioned<SelectionSet>,
        ty: &str,
        of: Option<&str>,
        selected: &[Selected<'_>],
    ) -> Arc<Shape> {
        let set = std::ptr::from_ref(set) as usize;
        let mut shapes = self.0.lock().unwrap_or_else(|e| e.into_inner());
        // A request has a handful of selections on objects; a scan beats hashing them.
        if let Some(found) = shapes
            .iter()
            .find(|s| s.set == set && s.ty == ty && s.of.as_deref() == of)
        {
            return found.clone();
        }
        let mut keys = IndexMap::with_capacity(selected.len());
        let slots: Vec<(usize, bool)> = selected
            .iter()
            .map(
                |s| match keys.entry(s.field.node.response_key().node.clone()) {
                    Entry::Vacant(slot) => {
                        let at = slot.index();
                        slot.insert(Value::Null);
                        (at, true)
                    }
                    Entry::Occupied(slot) => (slot.index(), false),
                },
            )
            .collect();
        let shape = Arc::new(Shape {
            set,
            ty: ty.to_owned(),
            of: of.map(str::to_owned),
            merges: slots.iter().any(|&(_, first)| !first),
            keys,
            slots,
        });
        shapes.push(shape.clone());
        shape
    }
}

impl Shape {
    /// The object of these answers (one per selected field, in order), as [`insert`] would
    /// have built it key by key.
    fn fill(&self, answers: Vec<Value>) -> Value {
        debug_assert_eq!(
            self.slots.len(),
            answers.len(),
            "a shape of another selection"
        );
        if self.keys.is_empty() {
            return Value::Null;
        }
        let mut map = self.keys.clone();
        if self.merges {
            for (&(at, first), value) in self.slots.iter().zip(answers) {
                if let Some((_, place)) = map.get_index_mut(at) {
                    if first {
                        *place = value;
                    } else {
                        merge(place, value);
                    }
                }
            }
        } else {
            for (place, value) in map.values_mut().zip(answers) {
                // Every place holds the shape's null, which owns nothing: forgetting it
                // skips a call to drop it (4,000 a scenario 2 request, 1% of it).
                std::mem::forget(std::mem::replace(place, value));
            }
        }
        Value::Object(map)
    }
}

async fn field_value<T: ContainerType>(root: &T, ctx: &Context<'_>) -> ServerResult<Value> {
    Ok(root.resolve_field(ctx).await?.unwrap_or_default())
}

/// The fields `set` selects on `root`, fragments spread, in order. A fragment applies when
/// its type is `root`'s, an interface `root` implements, or `of`, the field's abstract type.
fn collect<'a, T: ObjectType>(
    ctx: &ContextSelectionSet<'a>,
    set: &'a Positioned<SelectionSet>,
    root: &T,
    of: Option<&str>,
    out: &mut Vec<Selected<'a>>,
) -> ServerResult<()> {
    for selection in &set.node.items {
        let (condition, inner) = match &selection.node {
            Selection::Field(field) => {
                out.push(Selected {
                    field,
                    leaf: field.node.selection_set.node.items.is_empty(),
                });
                continue;
            }
            Selection::FragmentSpread(spread) => {
                let name = &spread.node.fragment_name.node;
                let Some(fragment) = ctx.query_env.fragments.get(name) else {
                    return Err(ServerError::new(
                        format!(r#"Unknown fragment "{name}"."#),
                        Some(spread.pos),
                    ));
                };
                (
                    Some(fragment.node.type_condition.node.on.node.as_str()),
                    &fragment.node.selection_set,
                )
            }
            Selection::InlineFragment(fragment) => (
                fragment
                    .node
                    .type_condition
                    .as_ref()
                    .map(|c| c.node.on.node.as_str()),
                &fragment.node.selection_set,
            ),
        };
        let applies = condition.is_none_or(|on| {
            on == root.introspection_type_name()
                || of == Some(on)
                || ctx
                    .schema_env
                    .registry
                    .implements
                    .get(&*root.introspection_type_name())
                    .is_some_and(|interfaces| interfaces.contains(on))
        });
        if applies {
            collect(ctx, inner, root, of, out)?;
        }
    }
    Ok(())
}

/// Inserts a field's answer; a second field of the same response key merges into the first,
/// as async-graphql merges them.
fn insert(map: &mut IndexMap<Name, Value>, key: Name, value: Value) {
    match map.entry(key) {
        Entry::Vacant(slot) => {
            slot.insert(value);
        }
        Entry::Occupied(slot) => merge(slot.into_mut(), value),
    }
}

fn merge(into: &mut Value, value: Value) {
    match (into, value) {
        (Value::Object(target), Value::Object(obj)) => {
            for (k, v) in obj {
                insert(target, k, v);
            }
        }
        (Value::List(target), Value::List(list)) => {
            for (slot, v) in target.iter_mut().zip(list) {
                if let (Value::Object(_), Value::Object(_)) = (&*slot, &v) {
                    merge(slot, v);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::join_grouped;

    #[tokio::test]
    async fn a_joined_list_answers_in_order_across_groups_whatever_order_its_items_finish_in() {
        // 75 items are three groups and 10 one, the later items finishing first.
        for n in [75usize, 10] {
            let items = (0..n).map(|i| async move {
                for _ in 0..(n - i) % 7 {
                    tokio::task::yield_now().await;
                }
                i
            });
            assert_eq!(join_grouped(items).await, (0..n).collect::<Vec<_>>());
        }
        assert!(
            join_grouped(std::iter::empty::<std::future::Ready<()>>())
                .await
                .is_empty()
        );
    }
}
